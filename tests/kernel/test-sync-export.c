/* SPDX-License-Identifier: MIT */
/*
 * shws_dmabuf_export_sync_file against real vgem fences: READ waits for
 * writers only, WRITE and RW for everyone; an idle buffer gives a
 * signalled stub; an export is a snapshot; the result is CLOEXEC. Also the
 * capability probe (flags 0: EINVAL = present, ENOTTY = absent) and the
 * answer for a DRM fd.
 */
#include <linux/dma-buf.h>

#include <shws/shws.h>

#include "vgem_fence.h"

static int export(const struct vbuf *b, unsigned flags)
{
	int fd = -1;

	CHECK_OK(shws_dmabuf_export_sync_file(b->dmabuf, flags, &fd));
	CHECK_INT(fd, >=, 0);
	CHECK(fd_cloexec(fd));
	CHECK_OK(shws_sync_file_check(fd));
	return fd;
}

/* The probe's premise on this kernel: flags 0 is refused with EINVAL, so
 * the ioctls exist and the probe had no side effect. */
static void test_probe(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	struct { uint32_t flags; int32_t fd; } arg = { 0, -1 };

	CHECK_INT(shws_dmabuf_sync_caps(-1), ==, -ENODATA);
	CHECK_INT(ioctl(b.dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg), ==,
		  -1);
	CHECK_INT(errno, ==, EINVAL);
	CHECK_INT(arg.fd, ==, -1);
	CHECK_INT(ioctl(b.dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg), ==,
		  -1);
	CHECK_INT(errno, ==, EINVAL);

	CHECK_INT(shws_dmabuf_sync_caps(b.dmabuf), ==,
		  SHWS_DMABUF_CAP_EXPORT_SYNC_FILE |
			  SHWS_DMABUF_CAP_IMPORT_SYNC_FILE);
	/* Cached: no dma-buf needed any more. */
	CHECK_INT(shws_dmabuf_sync_caps(-1), ==,
		  SHWS_DMABUF_CAP_EXPORT_SYNC_FILE |
			  SHWS_DMABUF_CAP_IMPORT_SYNC_FILE);
	vbuf_free(&b);
	test_pass("probe-flags-0");
}

static void test_idle_stub(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	int r = export(&b, SHWS_SYNC_READ);
	int w = export(&b, SHWS_SYNC_WRITE);

	CHECK(sf_signalled(r));
	CHECK(sf_signalled(w));
	CHECK_OK(shws_sync_file_wait(w, 0));
	close(r);
	close(w);
	vbuf_free(&b);
	test_pass("idle-buffer-stub");
}

/* A pending reader blocks writers, not readers. */
static void test_pending_read(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	uint32_t f = vf_attach(&b, 0);
	int r = export(&b, SHWS_SYNC_READ);
	int w = export(&b, SHWS_SYNC_WRITE);
	int rw = export(&b, SHWS_SYNC_RW);

	CHECK(sf_signalled(r));
	CHECK(!sf_signalled(w));
	CHECK(!sf_signalled(rw));
	vf_signal(vgem, f);
	CHECK(sf_signalled(w));
	CHECK(sf_signalled(rw));
	close(r);
	close(w);
	close(rw);
	vbuf_free(&b);
	test_pass("pending-read-fence");
}

/* A pending writer blocks everyone. */
static void test_pending_write(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	uint32_t f = vf_attach(&b, 1);
	int r = export(&b, SHWS_SYNC_READ);
	int w = export(&b, SHWS_SYNC_WRITE);

	CHECK(!sf_signalled(r));
	CHECK(!sf_signalled(w));
	vf_signal(vgem, f);
	CHECK(sf_signalled(r));
	CHECK(sf_signalled(w));
	close(r);
	close(w);
	vbuf_free(&b);
	test_pass("pending-write-fence");
}

/* Reader and writer pending at once (vgem refuses that on one buffer, so
 * the writer comes from another buffer's fence, imported as WRITE):
 * READ follows the writer alone, WRITE follows both. */
static void test_mixed(int vgem)
{
	struct vbuf a = vbuf_new(vgem), other = vbuf_new(vgem);
	uint32_t fr = vf_attach(&a, 0), fw = vf_attach(&other, 1);
	int wfence = export(&other, SHWS_SYNC_READ);
	int r, w;

	CHECK_OK(shws_dmabuf_import_sync_file(a.dmabuf, SHWS_SYNC_WRITE,
					      wfence));
	r = export(&a, SHWS_SYNC_READ);
	w = export(&a, SHWS_SYNC_WRITE);
	CHECK(!sf_signalled(r));
	CHECK(!sf_signalled(w));

	vf_signal(vgem, fw);
	CHECK(sf_signalled(r));
	CHECK(!sf_signalled(w)); /* the reader still runs */
	vf_signal(vgem, fr);
	CHECK(sf_signalled(w));

	close(wfence);
	close(r);
	close(w);
	vbuf_free(&a);
	vbuf_free(&other);
	test_pass("mixed-read-and-write");
}

/* The sync_file holds the fences of the moment: later ones are not in it. */
static void test_snapshot(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	int before = export(&b, SHWS_SYNC_WRITE);
	uint32_t f = vf_attach(&b, 1);
	int after = export(&b, SHWS_SYNC_WRITE);

	CHECK(sf_signalled(before));
	CHECK(!sf_signalled(after));
	vf_signal(vgem, f);
	CHECK(sf_signalled(after));
	close(before);
	close(after);
	vbuf_free(&b);
	test_pass("export-is-a-snapshot");
}

/* A DRM fd is not a dma-buf: shws says ENOTTY without sending the ioctl,
 * as the kernel would (drm_ioctl() checks the ioctl type). */
static void test_drm_fd(int vgem)
{
	struct { uint32_t flags; int32_t fd; } arg = { DMA_BUF_SYNC_RW, -1 };
	int out = 777;

	CHECK_INT(ioctl(vgem, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg), ==, -1);
	CHECK_INT(errno, ==, ENOTTY);
	CHECK_INT(shws_dmabuf_export_sync_file(vgem, SHWS_SYNC_RW, &out), ==,
		  -ENOTTY);
	CHECK_INT(shws_wsi_acquire(vgem, SHWS_SYNC_WRITE, &out), ==, -ENOTTY);
	CHECK_INT(out, ==, 777);
	test_pass("drm-fd-is-not-a-dmabuf");
}

static void test_bad_input(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	int sf = export(&b, SHWS_SYNC_READ), out = 777, closed;

	CHECK_INT(shws_dmabuf_export_sync_file(b.dmabuf, 0, &out), ==, -EINVAL);
	CHECK_INT(shws_dmabuf_export_sync_file(b.dmabuf, 4, &out), ==, -EINVAL);
	CHECK_INT(shws_dmabuf_export_sync_file(sf, SHWS_SYNC_READ, &out), ==,
		  -ENOTTY);
	closed = dup(b.dmabuf);
	close(closed);
	CHECK_INT(shws_dmabuf_export_sync_file(closed, SHWS_SYNC_READ, &out),
		  ==, -EBADF);
	CHECK_INT(out, ==, 777);
	close(sf);
	vbuf_free(&b);
	test_pass("export-bad-input");
}

int main(void)
{
	int fds = test_fd_count(), bufs, vgem;

	kt_banner("sync-export");
	unsetenv("SHWS_DMABUF_SYNC");
	bufs = kt_dmabuf_count();
	vgem = kt_open_driver("vgem", KT_PRIMARY);
	test_probe(vgem);
	test_idle_stub(vgem);
	test_pending_read(vgem);
	test_pending_write(vgem);
	test_mixed(vgem);
	test_snapshot(vgem);
	test_drm_fd(vgem);
	test_bad_input(vgem);
	close(vgem);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("sync-export");
	return 0;
}
