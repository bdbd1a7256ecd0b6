/* SPDX-License-Identifier: MIT */
/*
 * A third dma-buf exporter: dma-bufs that no DRM driver created, from
 * udmabuf (a memfd's pages) and from the system dma-heap, imported through
 * shws into vgem and virtio_gpu.
 *
 * The test bed's kernels differ (docs/kernel-facts.md): Debian's 6.1 has
 * neither CONFIG_UDMABUF nor CONFIG_DMABUF_HEAPS, so there this test
 * asserts that /dev/udmabuf and /dev/dma_heap/system do not exist; 6.12
 * has both built in, and each exporter's dma-buf must:
 *  - have one identity (shws_identity_dmabuf_ino = fstat's st_ino; a dup
 *    is the same, a second buffer of the same memory is not);
 *  - import into vgem through shws, twice to the same bo, on primary and
 *    render files alike, and export back as the very same dma-buf (same
 *    st_ino) that still holds the bytes written through the memfd;
 *  - meet virtio_gpu's refusal (ENODEV: it imports only its own
 *    dma-bufs) passed on unchanged, with no bo made;
 *  - carry implicit fences (a vgem fence imported as a write fence makes
 *    a reader's sync_file pending until it signals);
 *  - survive 4 threads importing and releasing it on one vgem file;
 * and nothing may leak (fds, bufinfo).
 */
#include <errno.h>
#include <pthread.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <sys/stat.h>

#include <shws/shws.h>

#include "vgem_fence.h"

#define SIZE (64 * 1024)

static uint64_t ino_of(int fd)
{
	uint64_t ino = 0;

	CHECK_OK(shws_identity_dmabuf_ino(fd, &ino));
	return ino;
}

/* A memfd of SIZE bytes, sealed against shrinking (udmabuf's rule), whose
 * words read seed + i. */
static int pattern_memfd(uint32_t seed)
{
	int m = (int)CHECK_SYS(memfd_create("shws-udmabuf",
					    MFD_CLOEXEC | MFD_ALLOW_SEALING));
	uint32_t *p;

	CHECK_SYS(ftruncate(m, SIZE));
	CHECK_SYS(fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK));
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	CHECK(p != MAP_FAILED);
	for (uint32_t i = 0; i < SIZE / 4; i++)
		p[i] = seed + i;
	munmap(p, SIZE);
	return m;
}

static int udmabuf_create(int dev, int memfd)
{
	struct udmabuf_create c = { .memfd = (uint32_t)memfd,
				    .flags = UDMABUF_FLAGS_CLOEXEC,
				    .offset = 0, .size = SIZE };

	return (int)CHECK_SYS(ioctl(dev, UDMABUF_CREATE, &c));
}

static int heap_alloc(int heap)
{
	struct dma_heap_allocation_data a = { .len = SIZE,
					      .fd_flags = O_RDWR | O_CLOEXEC };

	CHECK_SYS(ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a));
	return (int)a.fd;
}

/* Does @dmabuf's memory read seed + i (through its own mmap, inside a
 * DMA_BUF_IOCTL_SYNC bracket)? */
static int holds_pattern(int dmabuf, uint32_t seed)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START |
					   DMA_BUF_SYNC_READ };
	uint32_t *p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, dmabuf, 0);
	int ok = 1;

	CHECK(p != MAP_FAILED);
	CHECK_SYS(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s));
	for (uint32_t i = 0; i < SIZE / 4 && ok; i++)
		ok = p[i] == seed + i;
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	CHECK_SYS(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s));
	munmap(p, SIZE);
	return ok;
}

static void write_pattern(int dmabuf, uint32_t seed)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START |
					   DMA_BUF_SYNC_WRITE };
	uint32_t *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			   dmabuf, 0);

	CHECK(p != MAP_FAILED);
	CHECK_SYS(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s));
	for (uint32_t i = 0; i < SIZE / 4; i++)
		p[i] = seed + i;
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	CHECK_SYS(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s));
	munmap(p, SIZE);
}

/* Identity: st_ino through shws, the same for a dup, CLOEXEC as asked. */
static void check_identity(int dmabuf, int other_dmabuf)
{
	struct stat st;
	int d = (int)CHECK_SYS(fcntl(dmabuf, F_DUPFD_CLOEXEC, 0));

	CHECK_SYS(fstat(dmabuf, &st));
	CHECK_INT(ino_of(dmabuf), ==, st.st_ino);
	CHECK_INT(ino_of(d), ==, ino_of(dmabuf));
	CHECK(ino_of(other_dmabuf) != ino_of(dmabuf));
	CHECK(fd_cloexec(dmabuf));
	close(d);
}

/* Through shws into @driver's file on @node: two imports are one bo, the
 * export is the same dma-buf. Returns the kernel's answer (0 or -errno). */
static int import_into(const char *driver, enum kt_node node, int dmabuf,
		       uint32_t seed)
{
	int fd = kt_open_driver(driver, node), back = -1, d, r;
	struct shws_file *file;
	struct shws_bo *bo = NULL, *bo2 = NULL;

	CHECK_OK(shws_file_open(fd, 0, SHWS_API_GL, &file));
	r = shws_bo_import_dmabuf(file, dmabuf, SHWS_API_GL, &bo);
	printf("%s %s: import = %d%s%s\n", driver,
	       node == KT_PRIMARY ? "primary" : "render", r, r ? " " : "",
	       r ? strerror(-r) : "");
	if (r == 0) {
		CHECK(bo != NULL);
		CHECK_INT(shws_bo_size(bo), >=, SIZE);
		/* Another fd of the same dma-buf: the same bo. */
		d = (int)CHECK_SYS(fcntl(dmabuf, F_DUPFD_CLOEXEC, 0));
		CHECK_OK(shws_bo_import_dmabuf(file, d, SHWS_API_VULKAN, &bo2));
		CHECK(bo2 == bo);
		close(d);
		CHECK_INT(shws_bo_api_refs(bo, SHWS_API_GL), ==, 1);
		CHECK_INT(shws_bo_api_refs(bo, SHWS_API_VULKAN), ==, 1);
		/* Re-export: the kernel hands back the imported dma-buf. */
		CHECK_OK(shws_bo_export_dmabuf(bo, &back));
		CHECK_INT(ino_of(back), ==, ino_of(dmabuf));
		CHECK(holds_pattern(back, seed));
		close(back);
		CHECK_OK(shws_bo_unref(bo2, SHWS_API_VULKAN));
		CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	} else {
		CHECK(bo == NULL);
	}
	shws_file_unref(file, SHWS_API_GL);
	close(fd);
	return r;
}

/* The dma-buf's own reservation takes and gives fences like any other. */
static void check_fences(int vgem, int dmabuf)
{
	struct vbuf b = vbuf_new(vgem);
	uint32_t f = vf_attach(&b, 1);
	int gpu_done = vf_sync_file(&b), rd;

	CHECK_OK(shws_dmabuf_export_sync_file(dmabuf, SHWS_SYNC_READ, &rd));
	CHECK(sf_signalled(rd));
	close(rd);
	CHECK_OK(shws_dmabuf_import_sync_file(dmabuf, SHWS_SYNC_WRITE,
					      gpu_done));
	CHECK_OK(shws_dmabuf_export_sync_file(dmabuf, SHWS_SYNC_READ, &rd));
	CHECK(!sf_signalled(rd));
	CHECK(!fd_ready(dmabuf, POLLIN));
	vf_signal(vgem, f);
	CHECK_OK(shws_sync_file_wait(rd, 1000));
	CHECK(fd_ready(dmabuf, POLLIN));
	close(rd);
	close(gpu_done);
	vbuf_free(&b);
}

/* virtio_gpu's answer to a dma-buf it did not export: its PRIME import
 * says ENODEV, on 6.1 for vgem's dma-bufs (test-bo-translate, on both
 * kernels) and on 6.12 for udmabuf's and the system heap's too (here).
 * shws passes that errno on and makes no bo. */
#define WANT_VIRTIO_IMPORT (-ENODEV)

/* Import/release race on one file (cf. test-bo-race for vgem's own
 * dma-bufs): RACERS threads import and release @dmabuf RACE_ROUNDS times
 * each; every bo must be that dma-buf (an export of it every 8th round has
 * its st_ino). The kernel's GEM object comes and goes under them, so
 * imports find it both alive and freshly gone. */
#define RACERS 4
#define RACE_ROUNDS 2000

struct race {
	struct shws_file *file;
	int dmabuf;
	uint64_t ino;
};

static void *racer(void *arg)
{
	const struct race *r = arg;

	for (int i = 0; i < RACE_ROUNDS; i++) {
		struct shws_bo *bo;

		CHECK_OK(shws_bo_import_dmabuf(r->file, r->dmabuf,
					       (enum shws_api)(i % 3), &bo));
		if (i % 8 == 0) {
			int fd;

			CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
			CHECK_INT(ino_of(fd), ==, r->ino);
			close(fd);
		}
		CHECK_OK(shws_bo_unref(bo, (enum shws_api)(i % 3)));
	}
	return NULL;
}

static void check_race(int dmabuf)
{
	int fd = kt_open_driver("vgem", KT_PRIMARY), bufs = kt_dmabuf_count();
	struct race r = { .dmabuf = dmabuf, .ino = ino_of(dmabuf) };
	pthread_t t[RACERS];

	CHECK_OK(shws_file_open(fd, 0, SHWS_API_GL, &r.file));
	for (int i = 0; i < RACERS; i++)
		CHECK_INT(pthread_create(&t[i], NULL, racer, &r), ==, 0);
	for (int i = 0; i < RACERS; i++)
		CHECK_INT(pthread_join(t[i], NULL), ==, 0);
	/* Nothing left: no bo, no extra dma-buf. */
	CHECK(shws_bo_lookup(r.file, 1, SHWS_API_OTHER) == NULL);
	shws_file_unref(r.file, SHWS_API_GL);
	close(fd);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
}

static void check_exporter(const char *what, int vgem, int a, int b,
			   uint32_t seed)
{
	printf("%s: ino %llu\n", what, (unsigned long long)ino_of(a));
	check_identity(a, b);
	CHECK(holds_pattern(a, seed));
	CHECK_OK(import_into("vgem", KT_PRIMARY, a, seed));
	CHECK_OK(import_into("vgem", KT_RENDER, a, seed));
	CHECK_INT(import_into("virtio_gpu", KT_PRIMARY, a, seed), ==,
		  WANT_VIRTIO_IMPORT);
	CHECK_INT(import_into("virtio_gpu", KT_RENDER, a, seed), ==,
		  WANT_VIRTIO_IMPORT);
	check_fences(vgem, a);
	check_race(a);
}

static void test_udmabuf(int vgem)
{
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	int m, a, b;

	CHECK(dev >= 0);
	m = pattern_memfd(0x1000);
	a = udmabuf_create(dev, m);
	/* A second udmabuf of the same pages is another dma-buf. */
	b = udmabuf_create(dev, m);
	check_exporter("udmabuf", vgem, a, b, 0x1000);
	/* udmabuf must refuse a memfd that may still shrink. */
	{
		int loose = (int)CHECK_SYS(memfd_create("shws-loose",
							MFD_CLOEXEC));
		struct udmabuf_create c = { .memfd = (uint32_t)loose,
					    .flags = UDMABUF_FLAGS_CLOEXEC,
					    .size = SIZE };

		CHECK_SYS(ftruncate(loose, SIZE));
		CHECK_INT(ioctl(dev, UDMABUF_CREATE, &c), ==, -1);
		CHECK_INT(errno, ==, EINVAL);
		close(loose);
	}
	close(b);
	close(a);
	close(m);
	close(dev);
	test_pass("udmabuf");
}

static void test_heap(int vgem)
{
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	int a, b;

	CHECK(heap >= 0);
	a = heap_alloc(heap);
	b = heap_alloc(heap);
	write_pattern(a, 0x2000);
	check_exporter("dma-heap system", vgem, a, b, 0x2000);
	close(b);
	close(a);
	close(heap);
	test_pass("dma-heap-system");
}

int main(void)
{
	int fds = test_fd_count(), bufs, vgem;

	kt_banner("exporters");
	vgem = kt_open_driver("vgem", KT_PRIMARY);
	bufs = kt_dmabuf_count();
	if (kt_kernel_before(6, 10)) {
		/* Debian 12's 6.1: CONFIG_UDMABUF and CONFIG_DMABUF_HEAPS
		 * are off, so the nodes must not be there. */
		CHECK_INT(access("/dev/udmabuf", F_OK), ==, -1);
		CHECK_INT(errno, ==, ENOENT);
		CHECK_INT(access("/dev/dma_heap/system", F_OK), ==, -1);
		CHECK_INT(errno, ==, ENOENT);
		test_pass("no-udmabuf-no-dma-heap");
	} else {
		test_udmabuf(vgem);
		test_heap(vgem);
	}
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	close(vgem);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("exporters");
	return 0;
}
