/* SPDX-License-Identifier: MIT */
/*
 * The bad-input matrix over the whole public API: invalid, closed,
 * O_PATH, foreign and wrong-type fds, stale, zero and huge handles, double
 * and wrong-api unrefs, bos of another device, bad flags, NULL out-params.
 * Each case asserts the errno its header documents and, around the call,
 * that the process's fd table is exactly what it was (no fd leaked, none
 * closed or replaced: number, device and inode of every entry), that no
 * dma-buf appeared or vanished (bufinfo) and that no file gained or lost a
 * bo (shws_bo_dump's count).
 */
#include <sys/mman.h>
#include <sys/utsname.h>

#include "test-bo-common.h"

#define SEED 0xbad10000u
#define ANY_NEG 1 /* a "want" meaning: any negative errno */
#define MAX_FDS 256

struct fdent {
	int fd;
	dev_t dev, rdev;
	ino_t ino;
};

struct snap {
	struct fdent e[MAX_FDS];
	int n, bufs, bos[3];
};

static int card, render, virtio, x, vx, bx, sf, pipefd[2], memfd, devnull,
	opath, closed;
static struct shws_file *file, *rfile, *vfile;
static struct shws_bo *bo_gl, *bo_r, *bo_v;
static uint32_t name_gl, stale_handle;
static FILE *sink;
static int cases;

static void snap_take(struct snap *s)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self = dirfd(d);

	s->n = 0;
	while ((de = readdir(d))) {
		struct stat st;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == self)
			continue;
		CHECK_INT(s->n, <, MAX_FDS);
		CHECK_SYS(fstat(fd, &st));
		s->e[s->n++] = (struct fdent){ fd, st.st_dev, st.st_rdev,
					       st.st_ino };
	}
	closedir(d);
	s->bufs = kt_dmabuf_count();
	s->bos[0] = shws_bo_dump(file, sink);
	s->bos[1] = shws_bo_dump(rfile, sink);
	s->bos[2] = shws_bo_dump(vfile, sink);
}

static void snap_same(const char *name, const struct snap *a,
		      const struct snap *b)
{
	if (a->n != b->n)
		test_fail("%s: %d fds before, %d after", name, a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		const struct fdent *p = &a->e[i], *q = &b->e[i];

		if (p->fd != q->fd || p->dev != q->dev || p->rdev != q->rdev ||
		    p->ino != q->ino)
			test_fail("%s: fd %d changed (now fd %d)", name, p->fd,
				  q->fd);
	}
	if (a->bufs != b->bufs)
		test_fail("%s: %d dma-bufs before, %d after", name, a->bufs,
			  b->bufs);
	for (int i = 0; i < 3; i++)
		if (a->bos[i] != b->bos[i])
			test_fail("%s: file %d had %d bos, now %d", name, i,
				  a->bos[i], b->bos[i]);
}

static void case_done(const char *name, long want, long got,
		      const struct snap *before)
{
	struct snap after;

	if (want == ANY_NEG ? got >= 0 : got != want)
		test_fail("%s: returned %ld (%s), documented %ld (%s)", name,
			  got, got < 0 ? strerror((int)-got) : "-", want,
			  want < 0 ? strerror((int)-want) : "-");
	snap_take(&after);
	snap_same(name, before, &after);
	cases++;
	test_pass(name);
}

/* One case: @expr is evaluated between two snapshots of the process. */
#define CASE(name, want, expr)                                            \
	do {                                                              \
		struct snap before_;                                      \
		long got_;                                                \
		snap_take(&before_);                                      \
		got_ = (long)(expr);                                      \
		case_done(name, want, got_, &before_);                    \
	} while (0)

/* A pointer-returning call that must return NULL: 0, else -1. */
#define IS_NULL(call) ((call) == NULL ? 0 : -1)

#define SENTINEL ((void *)0x5e5e)

static bool kernel_is_6_1(void)
{
	struct utsname u;

	uname(&u);
	return !strncmp(u.release, "6.1.", 4);
}

static void setup(void)
{
	uint32_t h;

	card = kt_open_driver("vgem", KT_PRIMARY);
	render = kt_open_driver("vgem", KT_RENDER);
	virtio = kt_open_driver("virtio_gpu", KT_PRIMARY);
	CHECK_OK(shws_file_open(card, 0, SHWS_API_GL, &file));
	CHECK_OK(shws_file_open(render, 0, SHWS_API_GL, &rfile));
	CHECK_OK(shws_file_open(virtio, 0, SHWS_API_GL, &vfile));
	x = bo_make_dmabuf(card, SEED);
	CHECK_OK(shws_bo_import_dmabuf(file, x, SHWS_API_GL, &bo_gl));
	CHECK_OK(shws_bo_flink(bo_gl, &name_gl));
	CHECK_OK(shws_bo_import_dmabuf(rfile, x, SHWS_API_GL, &bo_r));
	h = bo_dumb_create(virtio, BO_SIZE);
	CHECK_OK(shws_bo_adopt(vfile, shws_file_fd(vfile), h, BO_SIZE, SHWS_API_GL, &bo_v));
	CHECK_OK(shws_bo_export_dmabuf(bo_v, &vx));
	/* A bo's fences are its dma-buf's: bx, exported from bo_gl. */
	CHECK_OK(shws_bo_export_dmabuf(bo_gl, &bx));
	CHECK_OK(shws_dmabuf_export_sync_file(bx, SHWS_SYNC_RW, &sf));
	CHECK_SYS(pipe2(pipefd, O_CLOEXEC));
	memfd = CHECK_SYS(memfd_create("shws-badinput", MFD_CLOEXEC));
	devnull = CHECK_SYS(open("/dev/null", O_RDWR | O_CLOEXEC));
	{
		char path[64], link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", card);
		n = readlink(link, path, sizeof(path) - 1);
		CHECK(n > 0);
		path[n] = '\0';
		opath = CHECK_SYS(open(path, O_PATH | O_CLOEXEC));
	}
	/* A stale handle: a bo that lived and was released. */
	h = bo_dumb_create(card, BO_SIZE);
	{
		struct shws_bo *tmp;

		CHECK_OK(shws_bo_adopt(file, shws_file_fd(file), h, BO_SIZE, SHWS_API_VA, &tmp));
		CHECK_OK(shws_bo_unref(tmp, SHWS_API_VA));
	}
	stale_handle = h;
	sink = fopen("/dev/null", "we");
	CHECK(sink);
	/* The lowest free number: shws's own temporary fds land on it, so a
	 * confusion between "closed" and "mine" would show. */
	closed = CHECK_SYS(dup(0));
	close(closed);
}

static void cases_file(void)
{
	struct shws_file *f = SENTINEL;

	CASE("file-open-negative-fd", -EBADF, shws_file_open(-1, 0, SHWS_API_GL, &f));
	CASE("file-open-closed-fd", -EBADF,
	     shws_file_open(closed, 0, SHWS_API_GL, &f));
	CASE("file-open-opath-fd", -EBADF, shws_file_open(opath, 0, SHWS_API_GL, &f));
	CASE("file-open-pipe", -ENOTTY,
	     shws_file_open(pipefd[0], 0, SHWS_API_GL, &f));
	CASE("file-open-regular-file", -ENOTTY,
	     shws_file_open(memfd, 0, SHWS_API_GL, &f));
	CASE("file-open-dmabuf", -ENOTTY, shws_file_open(x, 0, SHWS_API_GL, &f));
	CASE("file-open-sync-file", -ENOTTY, shws_file_open(sf, 0, SHWS_API_GL, &f));
	CASE("file-open-other-chardev", -ENOTTY,
	     shws_file_open(devnull, 0, SHWS_API_GL, &f));
	CASE("file-open-bad-api", -EINVAL,
	     shws_file_open(card, 0, SHWS_API_COUNT, &f));
	CASE("file-open-negative-api", -EINVAL,
	     shws_file_open(card, 0, (enum shws_api)-1, &f));
	CASE("file-open-null-out", -EINVAL, shws_file_open(card, 0, SHWS_API_GL, NULL));
	CHECK(f == SENTINEL); /* "*out is unchanged" on every error */
	CASE("file-open-unknown-flag", -EINVAL,
	     shws_file_open(card, 1u << 5, SHWS_API_GL, &f));
	CHECK(f == SENTINEL);
	CASE("file-unref-null", 0, shws_file_unref(NULL, SHWS_API_GL));
	CASE("file-ref-null", -EINVAL, shws_file_ref(NULL, SHWS_API_GL));
	CASE("file-ref-bad-api", -EINVAL, shws_file_ref(file, SHWS_API_COUNT));
	/* A per-api double unref is refused and drops nobody's reference:
	 * "file" holds one GL reference, VA holds none. */
	CASE("file-unref-wrong-api", -EINVAL, shws_file_unref(file, SHWS_API_VA));
	CASE("file-unref-bad-api", -EINVAL,
	     shws_file_unref(file, (enum shws_api)99));
	CHECK_OK(shws_file_ref(file, SHWS_API_VA));
	CHECK_OK(shws_file_unref(file, SHWS_API_VA));
	CASE("file-unref-double", -EINVAL, shws_file_unref(file, SHWS_API_VA));
	CHECK_INT(shws_file_api_refs(file, SHWS_API_GL), ==, 1);
	CHECK(bo_shws_matches(bo_gl, SEED)); /* the file and its bo live on */
}

static void cases_import(void)
{
	struct shws_bo *bo = SENTINEL;

	CASE("import-negative-fd", -EBADF,
	     shws_bo_import_dmabuf(file, -1, SHWS_API_GL, &bo));
	CHECK(!bo); /* set to NULL on error */
	CASE("import-closed-fd", -EBADF,
	     shws_bo_import_dmabuf(file, closed, SHWS_API_GL, &bo));
	CASE("import-pipe", -EINVAL,
	     shws_bo_import_dmabuf(file, pipefd[0], SHWS_API_GL, &bo));
	CASE("import-drm-fd", -EINVAL,
	     shws_bo_import_dmabuf(file, card, SHWS_API_GL, &bo));
	CASE("import-sync-file", -EINVAL,
	     shws_bo_import_dmabuf(file, sf, SHWS_API_GL, &bo));
	CASE("import-regular-file", -EINVAL,
	     shws_bo_import_dmabuf(file, memfd, SHWS_API_GL, &bo));
	CASE("import-null-file", -EINVAL,
	     shws_bo_import_dmabuf(NULL, x, SHWS_API_GL, &bo));
	CASE("import-null-out", -EINVAL,
	     shws_bo_import_dmabuf(file, x, SHWS_API_GL, NULL));
	CASE("import-bad-api", -EINVAL,
	     shws_bo_import_dmabuf(file, x, (enum shws_api)7, &bo));
	/* A foreign dma-buf: vgem's into virtio_gpu, refused on 6.1. */
	CASE("import-foreign-exporter", kernel_is_6_1() ? -ENODEV : ANY_NEG,
	     shws_bo_import_dmabuf(vfile, x, SHWS_API_GL, &bo));

	CASE("flink-open-name-zero", -EINVAL,
	     shws_bo_import_flink(file, 0, SHWS_API_GL, &bo));
	CASE("flink-open-unknown-name", -ENOENT,
	     shws_bo_import_flink(file, 0x7fffff00, SHWS_API_GL, &bo));
	CASE("flink-open-huge-name", -ENOENT,
	     shws_bo_import_flink(file, UINT32_MAX, SHWS_API_GL, &bo));
	CASE("flink-open-render-node", -EACCES,
	     shws_bo_import_flink(rfile, name_gl, SHWS_API_GL, &bo));
	/* Names are per device: vgem's name means nothing on virtio_gpu. */
	CASE("flink-open-foreign-device-name", -ENOENT,
	     shws_bo_import_flink(vfile, name_gl, SHWS_API_GL, &bo));
	CASE("flink-open-bad-api", -EINVAL,
	     shws_bo_import_flink(file, name_gl, SHWS_API_COUNT, &bo));
	CASE("flink-open-null-out", -EINVAL,
	     shws_bo_import_flink(file, name_gl, SHWS_API_GL, NULL));
	CASE("flink-open-null-file", -EINVAL,
	     shws_bo_import_flink(NULL, name_gl, SHWS_API_GL, &bo));
}

static void cases_adopt_lookup(void)
{
	uint32_t h = shws_bo_handle(bo_gl), u32;
	struct shws_bo *bo;

	CASE("adopt-handle-zero", -EINVAL,
	     shws_bo_adopt(file, shws_file_fd(file), 0, BO_SIZE, SHWS_API_GL, &bo));
	CASE("adopt-size-zero", -EINVAL,
	     shws_bo_adopt(file, shws_file_fd(file), h, 0, SHWS_API_GL, &bo));
	CASE("adopt-bad-api", -EINVAL,
	     shws_bo_adopt(file, shws_file_fd(file), h, BO_SIZE, SHWS_API_COUNT, &bo));
	CASE("adopt-null-out", -EINVAL,
	     shws_bo_adopt(file, shws_file_fd(file), h, BO_SIZE, SHWS_API_GL, NULL));
	CASE("adopt-null-file", -EINVAL,
	     shws_bo_adopt(NULL, card, h, BO_SIZE, SHWS_API_GL, &bo));
	/* A bogus huge handle: refused before any allocation. */
	CASE("adopt-huge-handle", -ERANGE,
	     shws_bo_adopt(file, shws_file_fd(file), UINT32_MAX, BO_SIZE,
			   SHWS_API_GL, &bo));
	CASE("adopt-handle-above-max", -ERANGE,
	     shws_bo_adopt(file, shws_file_fd(file), SHWS_BO_HANDLE_MAX + 1,
			   BO_SIZE, SHWS_API_GL, &bo));
	/* A handle made on another description (another open() of the same
	 * node, or another device) is a number in another namespace. */
	CASE("adopt-other-description", -EXDEV,
	     shws_bo_adopt(file, virtio, h, BO_SIZE, SHWS_API_GL, &bo));
	CASE("adopt-other-file-same-device", -EXDEV,
	     shws_bo_adopt(file, render, h, BO_SIZE, SHWS_API_GL, &bo));
	CASE("adopt-closed-fd", -EBADF,
	     shws_bo_adopt(file, closed, h, BO_SIZE, SHWS_API_GL, &bo));
	CASE("adopt-pipe-fd", -EXDEV,
	     shws_bo_adopt(file, pipefd[0], h, BO_SIZE, SHWS_API_GL, &bo));

	CASE("create-dumb-zero-width", -EINVAL,
	     shws_bo_create_dumb(file, 0, 16, 32, SHWS_API_GL, &bo, &u32));
	CASE("create-dumb-zero-bpp", -EINVAL,
	     shws_bo_create_dumb(file, 16, 16, 0, SHWS_API_GL, &bo, &u32));
	CASE("create-dumb-null-pitch", -EINVAL,
	     shws_bo_create_dumb(file, 16, 16, 32, SHWS_API_GL, &bo, NULL));
	CASE("create-dumb-null-out", -EINVAL,
	     shws_bo_create_dumb(file, 16, 16, 32, SHWS_API_GL, NULL, &u32));
	CASE("create-dumb-bad-api", -EINVAL,
	     shws_bo_create_dumb(file, 16, 16, 32, SHWS_API_COUNT, &bo, &u32));
	CASE("create-dumb-overflow", -EINVAL,
	     shws_bo_create_dumb(file, UINT32_MAX, UINT32_MAX, 32, SHWS_API_GL,
				 &bo, &u32));
	CASE("create-dumb-render-node", -EACCES,
	     shws_bo_create_dumb(rfile, 16, 16, 32, SHWS_API_GL, &bo, &u32));
	CASE("create-dumb-virtio-8bpp", -EINVAL,
	     shws_bo_create_dumb(vfile, 16, 16, 8, SHWS_API_GL, &bo, &u32));
	CASE("adopt-live-handle-other-size", -EEXIST,
	     shws_bo_adopt(file, shws_file_fd(file), h, 2 * BO_SIZE, SHWS_API_VA, &bo));
	CASE("adopt-live-handle-huge-size", -EEXIST,
	     shws_bo_adopt(file, shws_file_fd(file), h, UINT64_MAX, SHWS_API_VA, &bo));

	CASE("lookup-stale-handle", 0,
	     IS_NULL(shws_bo_lookup(file, stale_handle, SHWS_API_GL)));
	CASE("lookup-handle-zero", 0, IS_NULL(shws_bo_lookup(file, 0, SHWS_API_GL)));
	CASE("lookup-huge-handle", 0,
	     IS_NULL(shws_bo_lookup(file, UINT32_MAX, SHWS_API_GL)));
	CASE("lookup-bad-api", 0,
	     IS_NULL(shws_bo_lookup(file, h, SHWS_API_COUNT)));
	CASE("lookup-null-file", 0, IS_NULL(shws_bo_lookup(NULL, h, SHWS_API_GL)));
}

static void cases_bo(void)
{
	uint32_t u32;
	struct shws_bo *tb = SENTINEL;
	int fd;

	CASE("unref-double", -EINVAL, ({
		     shws_bo_ref(bo_gl, SHWS_API_VA);
		     CHECK_OK(shws_bo_unref(bo_gl, SHWS_API_VA));
		     shws_bo_unref(bo_gl, SHWS_API_VA);
	     }));
	CASE("unref-wrong-api", -EINVAL, shws_bo_unref(bo_gl, SHWS_API_VULKAN));
	CASE("unref-bad-api", -EINVAL, shws_bo_unref(bo_gl, (enum shws_api)99));
	CASE("unref-null", 0, shws_bo_unref(NULL, SHWS_API_GL));
	CHECK_INT(shws_bo_api_refs(bo_gl, SHWS_API_GL), ==, 1);
	CHECK(bo_shws_matches(bo_gl, SEED)); /* the buffer survived */

	CASE("export-null-out", -EINVAL, shws_bo_export_dmabuf(bo_gl, NULL));
	CASE("export-null-bo", -EINVAL, shws_bo_export_dmabuf(NULL, &fd));
	CASE("flink-render-node", -EACCES, shws_bo_flink(bo_r, &u32));
	CASE("flink-null-out", -EINVAL, shws_bo_flink(bo_gl, NULL));
	CASE("flink-null-bo", -EINVAL, shws_bo_flink(NULL, &u32));
	CASE("translate-other-device", -EXDEV,
	     shws_bo_translate(bo_gl, vfile, SHWS_API_GL, &tb));
	CHECK(!tb); /* set to NULL on error */
	CASE("translate-wrong-device-bo", -EXDEV,
	     shws_bo_translate(bo_v, rfile, SHWS_API_GL, &tb));
	CASE("translate-null-other", -EINVAL,
	     shws_bo_translate(bo_gl, NULL, SHWS_API_GL, &tb));
	CASE("translate-null-out", -EINVAL,
	     shws_bo_translate(bo_gl, rfile, SHWS_API_GL, NULL));
	CASE("translate-bad-api", -EINVAL,
	     shws_bo_translate(bo_gl, rfile, SHWS_API_COUNT, &tb));
	CASE("translate-null-bo", -EINVAL,
	     shws_bo_translate(NULL, rfile, SHWS_API_GL, &tb));
	CASE("ref-null-bo", -EINVAL, shws_bo_ref(NULL, SHWS_API_GL));
	CASE("ref-bad-api", -EINVAL, shws_bo_ref(bo_gl, SHWS_API_COUNT));
	CASE("find-handle-zero", 0, IS_NULL(shws_bo_find(file, 0)));
	CASE("find-stale-handle", 0, IS_NULL(shws_bo_find(file, stale_handle)));
	CASE("find-huge-handle", 0, IS_NULL(shws_bo_find(file, UINT32_MAX)));
	CASE("find-null-file", 0, IS_NULL(shws_bo_find(NULL, 1)));
	CASE("dump-null-file", -EINVAL, shws_bo_dump(NULL, sink));
	CASE("dump-null-stream", -EINVAL, shws_bo_dump(file, NULL));
	CASE("api-refs-bad-api", 0, shws_bo_api_refs(bo_gl, SHWS_API_COUNT));
}

static void cases_dmabuf_sync(void)
{
	int out = -7;

	CASE("dmabuf-export-sync-flags-zero", -EINVAL,
	     shws_dmabuf_export_sync_file(x, 0, &out));
	CASE("dmabuf-export-sync-unknown-flag", -EINVAL,
	     shws_dmabuf_export_sync_file(x, 4, &out));
	CASE("dmabuf-export-sync-pipe", -ENOTTY,
	     shws_dmabuf_export_sync_file(pipefd[0], SHWS_SYNC_READ, &out));
	CASE("dmabuf-export-sync-drm-fd", -ENOTTY,
	     shws_dmabuf_export_sync_file(card, SHWS_SYNC_READ, &out));
	CASE("dmabuf-export-sync-on-sync-file", -ENOTTY,
	     shws_dmabuf_export_sync_file(sf, SHWS_SYNC_READ, &out));
	CASE("dmabuf-export-sync-negative-fd", -EBADF,
	     shws_dmabuf_export_sync_file(-1, SHWS_SYNC_READ, &out));
	CASE("dmabuf-export-sync-closed-fd", -EBADF,
	     shws_dmabuf_export_sync_file(closed, SHWS_SYNC_READ, &out));
	CASE("dmabuf-export-sync-null-out", -EINVAL,
	     shws_dmabuf_export_sync_file(x, SHWS_SYNC_READ, NULL));
	CHECK_INT(out, ==, -7); /* untouched on failure */
	CASE("dmabuf-import-sync-pipe-as-sync-file", -EINVAL,
	     shws_dmabuf_import_sync_file(x, SHWS_SYNC_READ, pipefd[0]));
	CASE("dmabuf-import-sync-dmabuf-as-sync-file", -EINVAL,
	     shws_dmabuf_import_sync_file(x, SHWS_SYNC_READ, vx));
	CASE("dmabuf-import-sync-closed-sync-file", -EBADF,
	     shws_dmabuf_import_sync_file(x, SHWS_SYNC_READ, closed));
	CASE("dmabuf-import-sync-not-dmabuf", -ENOTTY,
	     shws_dmabuf_import_sync_file(pipefd[0], SHWS_SYNC_READ, sf));
	CASE("dmabuf-import-sync-bad-flags", -EINVAL,
	     shws_dmabuf_import_sync_file(x, 8, sf));

	/* Formerly shws_bo_export/import_sync_file: the same calls on the
	 * bo's exported dma-buf (a NULL bo becomes fd -1). */
	CASE("bo-dmabuf-export-sync-no-dmabuf", -EBADF,
	     shws_dmabuf_export_sync_file(-1, SHWS_SYNC_READ, &out));
	CASE("bo-dmabuf-export-sync-bad-flags", -EINVAL,
	     shws_dmabuf_export_sync_file(bx, 0x10, &out));
	CASE("bo-dmabuf-export-sync-null-out", -EINVAL,
	     shws_dmabuf_export_sync_file(bx, SHWS_SYNC_READ, NULL));
	CASE("bo-dmabuf-import-sync-pipe", -EINVAL,
	     shws_dmabuf_import_sync_file(bx, SHWS_SYNC_WRITE, pipefd[1]));
	CASE("bo-dmabuf-import-sync-closed-fd", -EBADF,
	     shws_dmabuf_import_sync_file(bx, SHWS_SYNC_WRITE, closed));
	CASE("bo-dmabuf-import-sync-no-dmabuf", -EBADF,
	     shws_dmabuf_import_sync_file(-1, SHWS_SYNC_WRITE, sf));
	CHECK_INT(out, ==, -7);
}

static void cases_sync_file(void)
{
	struct shws_sync_file_info info;
	struct shws_sync_fence_info fences[2];
	uint64_t cap = 0;
	int out = -7;

	CASE("sync-info-null-info", -EINVAL, shws_sync_file_info(sf, NULL, NULL, 0));
	CASE("sync-info-null-fences", -EINVAL,
	     shws_sync_file_info(sf, &info, NULL, 3));
	CASE("sync-info-dmabuf", -EINVAL, shws_sync_file_info(x, &info, NULL, 0));
	CASE("sync-info-drm-fd", -EINVAL,
	     shws_sync_file_info(card, &info, fences, 2));
	CASE("sync-info-negative-fd", -EBADF,
	     shws_sync_file_info(-1, &info, NULL, 0));
	CASE("sync-merge-null-out", -EINVAL, shws_sync_file_merge(NULL, sf, sf, NULL));
	CASE("sync-merge-pipe", -EINVAL,
	     shws_sync_file_merge("m", pipefd[0], sf, &out));
	CASE("sync-merge-closed", -EBADF, shws_sync_file_merge("m", sf, closed, &out));
	CASE("sync-wait-dmabuf", -EINVAL, shws_sync_file_wait(x, 0));
	CASE("sync-wait-negative-fd", -EBADF, shws_sync_file_wait(-1, 0));
	CASE("sync-wait-closed-fd", -EBADF, shws_sync_file_wait(closed, 10));
	CASE("sync-file-check-closed", -EBADF, shws_sync_file_check(closed));
	CASE("sync-file-check-pipe", -EINVAL, shws_sync_file_check(pipefd[0]));
	CASE("sync-file-check-dmabuf", -EINVAL, shws_sync_file_check(x));
	CHECK_INT(out, ==, -7);

	CHECK_SYS(drmGetCap(card, DRM_CAP_SYNCOBJ, &cap));
	CASE("syncobj-import-no-such-syncobj", cap ? -ENOENT : -EOPNOTSUPP,
	     shws_syncobj_import_sync_file(card, 0x7ff0, sf));
	CASE("syncobj-import-negative-drm-fd", -EBADF,
	     shws_syncobj_import_sync_file(-1, 1, sf));
	CASE("syncobj-export-null-out", -EINVAL,
	     shws_syncobj_export_sync_file(card, 1, NULL));
	CASE("syncobj-export-not-drm", -ENOTTY,
	     shws_syncobj_export_sync_file(pipefd[0], 1, &out));
	CHECK_INT(out, ==, -7);
}

static void cases_wsi_identity(void)
{
	uint64_t ino;
	int out = -7;

	CASE("wsi-acquire-null-out", -EINVAL,
	     shws_wsi_acquire(x, SHWS_SYNC_WRITE, NULL));
	CASE("wsi-acquire-no-flags", -EINVAL, shws_wsi_acquire(x, 0, &out));
	CASE("wsi-acquire-bad-flags", -EINVAL, shws_wsi_acquire(x, 4, &out));
	CASE("wsi-acquire-negative-fd", -EBADF,
	     shws_wsi_acquire(-1, SHWS_SYNC_WRITE, &out));
	CASE("wsi-acquire-pipe", -ENOTTY,
	     shws_wsi_acquire(pipefd[0], SHWS_SYNC_WRITE, &out));
	CASE("wsi-acquire-read-sync-file", -ENOTTY,
	     shws_wsi_acquire(sf, SHWS_SYNC_READ, &out));
	CASE("wsi-release-not-sync-file", -EINVAL, shws_wsi_release(x, pipefd[0]));
	CASE("wsi-release-not-dmabuf", -ENOTTY, shws_wsi_release(pipefd[0], -1));
	CASE("wsi-release-closed-dmabuf", -EBADF, shws_wsi_release(closed, -1));
	CHECK_INT(out, ==, -7);

	CASE("identity-negative-fd", -EBADF, shws_identity_compare(-1, card));
	CASE("identity-closed-fd", -EBADF, shws_identity_compare(card, closed));
	CASE("identity-bad-method", -EINVAL,
	     shws_identity_compare_method((enum shws_identity_method)9, card,
					  card));
	CASE("identity-method-closed-fd", -EBADF,
	     shws_identity_compare_method(SHWS_IDENTITY_METHOD_EPOLL, closed,
					  card));
	CASE("dmabuf-ino-pipe", -EINVAL, shws_identity_dmabuf_ino(pipefd[0], &ino));
	CASE("dmabuf-ino-negative-fd", -EBADF, shws_identity_dmabuf_ino(-1, &ino));
	CASE("same-device-pipe", -ENOTTY,
	     shws_identity_same_device(pipefd[0], card));
	CASE("same-device-closed-fd", -EBADF,
	     shws_identity_same_device(card, closed));
	CASE("same-device-opath-fd", -EBADF,
	     shws_identity_same_device(opath, card));
}

static void teardown(void)
{
	CHECK_OK(shws_bo_unref(bo_v, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(bo_r, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(bo_gl, SHWS_API_GL));
	shws_file_unref(vfile, SHWS_API_GL);
	shws_file_unref(rfile, SHWS_API_GL);
	shws_file_unref(file, SHWS_API_GL);
	fclose(sink);
}

int main(void)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count();

	kt_banner("badinput-matrix");
	setup();
	cases_file();
	cases_import();
	cases_adopt_lookup();
	cases_bo();
	cases_dmabuf_sync();
	cases_sync_file();
	cases_wsi_identity();
	teardown();
	close(x);
	close(vx);
	close(bx);
	close(sf);
	close(pipefd[0]);
	close(pipefd[1]);
	close(memfd);
	close(devnull);
	close(opath);
	close(virtio);
	close(render);
	close(card);
	CHECK_INT(test_fd_count(), ==, fds);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	printf("badinput-matrix: %d bad inputs, each with the documented "
	       "errno, fd table and buffers unchanged\n", cases);
	CHECK_INT(cases, >=, 30);
	test_pass("no-leaks");
	return 0;
}
