/* SPDX-License-Identifier: MIT */
/*
 * WSI acquire/release on a vgem "swapchain image", in the mode named by
 * SYNC_TEST_MODE (this file; test-sync-fallback.c builds it again with
 * "fallback", which forces the poll()/wait path through SHWS_DMABUF_SYNC).
 * Both builds check the same ordering: the renderer never writes before the
 * display's read fence signalled, and the compositor never reads before
 * the renderer's render-done fence did, checked through buffer contents.
 * Mode-specific checks: the ioctl path returns at once with fences, the
 * fallback blocks and returns -1.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include <shws/shws.h>

#include "vgem_fence.h"

#ifndef SYNC_TEST_MODE
#define SYNC_TEST_MODE "auto"
#endif
#define TEST_NAME "sync-wsi-" SYNC_TEST_MODE

static int fallback;

/* Signals one vgem fence from another thread after a delay, optionally
 * storing a value into a mapped buffer first (the "GPU" writing). */
struct signaller {
	pthread_t thread;
	int vgem;
	uint32_t fence;
	int delay_ms;
	volatile uint32_t *dst;
	uint32_t value;
	atomic_int done;
};

static void *signaller_main(void *arg)
{
	struct signaller *s = arg;

	sleep_ms(s->delay_ms);
	if (s->dst)
		*s->dst = s->value;
	atomic_store(&s->done, 1);
	vf_signal(s->vgem, s->fence);
	return NULL;
}

static void signaller_start(struct signaller *s, int vgem, uint32_t fence,
			    int delay_ms)
{
	s->vgem = vgem;
	s->fence = fence;
	s->delay_ms = delay_ms;
	atomic_store(&s->done, 0);
	CHECK_INT(pthread_create(&s->thread, NULL, signaller_main, s), ==, 0);
}

static void signaller_join(struct signaller *s)
{
	CHECK_INT(pthread_join(s->thread, NULL), ==, 0);
	CHECK(atomic_load(&s->done));
}

/* Waits for what an acquire returned: a sync_file, or -1 = idle. */
static void wait_acquired(int fd)
{
	if (fd >= 0) {
		CHECK_OK(shws_sync_file_wait(fd, -1));
		close(fd);
	}
}

static void test_caps(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	int want = fallback ? 0 : SHWS_DMABUF_CAP_EXPORT_SYNC_FILE |
					  SHWS_DMABUF_CAP_IMPORT_SYNC_FILE;
	int out = 777;

	CHECK_INT(shws_dmabuf_sync_caps(b.dmabuf), ==, want);
	if (fallback) {
		/* The raw API says so rather than pretending. */
		CHECK_INT(shws_dmabuf_export_sync_file(b.dmabuf, SHWS_SYNC_READ,
						       &out),
			  ==, -EOPNOTSUPP);
		CHECK_INT(out, ==, 777);
	}
	vbuf_free(&b);
	test_pass("caps");
}

static void test_acquire_idle(int vgem)
{
	struct vbuf img = vbuf_new(vgem);
	int fd = 777;

	CHECK_OK(shws_wsi_acquire(img.dmabuf, SHWS_SYNC_WRITE, &fd));
	if (fallback) {
		CHECK_INT(fd, ==, -1);
	} else {
		CHECK_INT(fd, >=, 0);
		CHECK(fd_cloexec(fd));
		CHECK(sf_signalled(fd));
		close(fd);
	}
	vbuf_free(&img);
	test_pass("acquire-idle");
}

/* The display still reads the image: the renderer must not write. */
static void test_acquire_waits_for_reader(int vgem)
{
	struct vbuf img = vbuf_new(vgem);
	struct signaller reader = { 0 };
	int fd = 777;

	signaller_start(&reader, vgem, vf_attach(&img, 0), 100);
	CHECK_OK(shws_wsi_acquire(img.dmabuf, SHWS_SYNC_WRITE, &fd));
	if (fallback) {
		CHECK_INT(fd, ==, -1);
		CHECK(atomic_load(&reader.done)); /* it blocked */
	}
	wait_acquired(fd);
	CHECK(atomic_load(&reader.done));
	signaller_join(&reader);
	vbuf_free(&img);
	test_pass("acquire-waits-for-readers");
}

/* Only the ioctl path can hand back a fence without blocking. */
static void test_acquire_nonblocking(int vgem)
{
	struct vbuf img = vbuf_new(vgem);
	uint32_t f = vf_attach(&img, 0);
	int fd;

	CHECK_OK(shws_wsi_acquire(img.dmabuf, SHWS_SYNC_WRITE, &fd));
	CHECK_INT(fd, >=, 0);
	CHECK(!sf_signalled(fd));
	vf_signal(vgem, f);
	CHECK(sf_signalled(fd));
	close(fd);
	vbuf_free(&img);
	test_pass("acquire-returns-pending-fence");
}

/* A reader waits for writers only: a pending reader does not block it. */
static void test_acquire_read(int vgem)
{
	struct vbuf img = vbuf_new(vgem);
	uint32_t r = vf_attach(&img, 0);
	struct signaller writer = { 0 };
	int fd;

	/* The flag rule of the dma-buf calls, on a real dma-buf. */
	fd = 1234;
	CHECK_INT(shws_wsi_acquire(img.dmabuf, 0, &fd), ==, -EINVAL);
	CHECK_INT(shws_wsi_acquire(img.dmabuf, 4, &fd), ==, -EINVAL);
	CHECK_INT(fd, ==, 1234);
	CHECK_OK(shws_wsi_acquire(img.dmabuf, SHWS_SYNC_READ, &fd));
	if (fallback)
		CHECK_INT(fd, ==, -1);
	else
		CHECK(sf_signalled(fd));
	if (fd >= 0)
		close(fd);
	CHECK(!fd_ready(img.dmabuf, POLLOUT)); /* the reader still runs */
	vf_signal(vgem, r);

	signaller_start(&writer, vgem, vf_attach(&img, 1), 100);
	CHECK_OK(shws_wsi_acquire(img.dmabuf, SHWS_SYNC_READ, &fd));
	wait_acquired(fd);
	CHECK(atomic_load(&writer.done));
	signaller_join(&writer);
	vbuf_free(&img);
	test_pass("acquire-read");
}

static void test_release(int vgem)
{
	struct vbuf img = vbuf_new(vgem), gpu = vbuf_new(vgem);
	struct signaller render = { 0 };
	uint32_t f = vf_attach(&gpu, 1);
	int done_fd;

	done_fd = vf_sync_file(&gpu);
	if (fallback) {
		signaller_start(&render, vgem, f, 100);
		CHECK_OK(shws_wsi_release(img.dmabuf, done_fd));
		CHECK(atomic_load(&render.done)); /* it blocked */
		CHECK(fd_ready(img.dmabuf, POLLOUT)); /* nothing attached */
		signaller_join(&render);
	} else {
		CHECK_OK(shws_wsi_release(img.dmabuf, done_fd));
		/* A write fence now: readers and writers both wait. */
		CHECK(!fd_ready(img.dmabuf, POLLIN));
		CHECK(!fd_ready(img.dmabuf, POLLOUT));
		vf_signal(vgem, f);
		CHECK(fd_ready(img.dmabuf, POLLOUT));
	}
	CHECK_OK(shws_sync_file_check(done_fd)); /* borrowed */
	CHECK_OK(shws_wsi_release(img.dmabuf, -1));
	CHECK(fd_ready(img.dmabuf, POLLOUT));
	close(done_fd);
	vbuf_free(&gpu);
	vbuf_free(&img);
	test_pass("release");
}

/*
 * The protocol end to end, three frames on one image: the renderer
 * acquires, "renders" frame k (the GPU thread stores k into the image,
 * then signals render-done), releases; the compositor acquires for read,
 * reads k, and scans out (a display read fence, signalled later).
 */
static void test_frames(int vgem)
{
	struct vbuf img = vbuf_new(vgem), gpu = vbuf_new(vgem);
	volatile uint32_t *pixels;
	uint32_t k;

	pixels = mmap(NULL, img.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      img.dmabuf, 0);
	CHECK(pixels != MAP_FAILED);
	pixels[0] = 0;

	for (k = 1; k <= 3; k++) {
		struct signaller render = { 0 }, display = { 0 };
		int acq, done_fd, present;

		/* Renderer. */
		CHECK_OK(shws_wsi_acquire(img.dmabuf, SHWS_SYNC_WRITE, &acq));
		wait_acquired(acq);
		render.dst = pixels;
		render.value = k;
		signaller_start(&render, vgem, vf_attach(&gpu, 1), 80);
		done_fd = vf_sync_file(&gpu);
		CHECK_OK(shws_wsi_release(img.dmabuf, done_fd));
		close(done_fd);

		/* Compositor: the content is frame k, never k - 1. */
		CHECK_OK(shws_wsi_acquire(img.dmabuf, SHWS_SYNC_READ, &present));
		wait_acquired(present);
		vf_hb_acquire(); /* the wait ordered the GPU's write before us */
		CHECK_INT(pixels[0], ==, k);
		signaller_join(&render);

		/* Display scans out; the next acquire must wait for it. */
		signaller_start(&display, vgem, vf_attach(&img, 0), 80);
		CHECK_OK(shws_wsi_acquire(img.dmabuf, SHWS_SYNC_WRITE, &acq));
		wait_acquired(acq);
		CHECK(atomic_load(&display.done));
		signaller_join(&display);
	}
	munmap((void *)pixels, img.size);
	vbuf_free(&gpu);
	vbuf_free(&img);
	test_pass("frames-ordering");
}

int main(void)
{
	int fds, bufs, vgem;

	/* Read once per process: set before the first shws call. */
	setenv("SHWS_DMABUF_SYNC", SYNC_TEST_MODE, 1);
	fallback = !strcmp(SYNC_TEST_MODE, "fallback");
	kt_banner(TEST_NAME);
	fds = test_fd_count();
	bufs = kt_dmabuf_count();
	vgem = kt_open_driver("vgem", KT_PRIMARY);
	test_caps(vgem);
	test_acquire_idle(vgem);
	test_acquire_waits_for_reader(vgem);
	if (!fallback)
		test_acquire_nonblocking(vgem);
	test_acquire_read(vgem);
	test_release(vgem);
	test_frames(vgem);
	close(vgem);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass(TEST_NAME);
	return 0;
}
