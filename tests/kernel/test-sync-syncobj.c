/* SPDX-License-Identifier: MIT */
/*
 * The syncobj bridge (shws_syncobj_import_sync_file /
 * shws_syncobj_export_sync_file) on both kernels of the test bed.
 *
 * Which device has syncobjs is asserted per kernel, never just followed
 * (docs/kernel-facts.md): vgem never has them; virtio_gpu has them from
 * Linux 6.5 on (include/shws/sync_file.h). So on 6.1 every device must say
 * -EOPNOTSUPP, in both directions, on primary and render nodes, before the
 * other arguments are looked at; on 6.12 vgem still says -EOPNOTSUPP and
 * virtio_gpu runs the bridge end to end with vgem fences as the GPU work:
 *  - sync_file -> syncobj -> sync_file keeps the very fence (unsignalled
 *    until the vgem fence signals, then signalled; same driver/timeline);
 *  - waits: shws_sync_file_wait() and DRM_IOCTL_SYNCOBJ_WAIT time out
 *    while pending and return once signalled, also when the signal comes
 *    from another thread during the wait;
 *  - states: an already-signalled sync_file, a syncobj created signalled,
 *    a later import replacing the syncobj's fence either way;
 *  - bad input: unknown and foreign handles, an empty syncobj, fds that
 *    are not sync_files or not DRM, closed fds, NULL out; nothing leaks.
 */
#include <pthread.h>

#include <shws/shws.h>

#include "vgem_fence.h"

#include <linux/sync_file.h>

static uint64_t cap_syncobj(int fd)
{
	uint64_t v = 0;

	CHECK_SYS(drmGetCap(fd, DRM_CAP_SYNCOBJ, &v));
	return v;
}

static const char *node_name(enum kt_node node)
{
	return node == KT_PRIMARY ? "primary" : "render";
}

static void check_unsupported(int fd, int sync_file)
{
	uint32_t obj = 0;
	int out = 777;

	CHECK_INT(shws_syncobj_import_sync_file(fd, 1, sync_file), ==,
		  -EOPNOTSUPP);
	CHECK_INT(shws_syncobj_export_sync_file(fd, 1, &out), ==, -EOPNOTSUPP);
	/* The device answer comes first, whatever the other arguments. */
	CHECK_INT(shws_syncobj_import_sync_file(fd, 0, -1), ==, -EOPNOTSUPP);
	CHECK_INT(out, ==, 777);
	/* The kernel agrees: its own syncobj ioctl is refused too. */
	CHECK_INT(drmSyncobjCreate(fd, 0, &obj), ==, -1);
	CHECK_INT(errno, ==, EOPNOTSUPP);
}

/* One fence's identity inside a sync_file, straight from the kernel
 * (SYNC_IOC_FILE_INFO), not through shws. */
struct fence_id {
	char driver[32];
	char timeline[32];
	uint32_t num_fences;
	int32_t status;
};

static struct fence_id fence_id(int sync_file)
{
	struct sync_fence_info fi[4];
	struct sync_file_info info = { .num_fences = 4,
				       .sync_fence_info = (uintptr_t)fi };
	struct fence_id id = { { 0 } };

	memset(fi, 0, sizeof(fi));
	CHECK_SYS(ioctl(sync_file, SYNC_IOC_FILE_INFO, &info));
	id.num_fences = info.num_fences;
	id.status = info.status;
	if (info.num_fences >= 1) {
		snprintf(id.driver, sizeof(id.driver), "%s", fi[0].driver_name);
		snprintf(id.timeline, sizeof(id.timeline), "%s",
			 fi[0].obj_name);
	}
	return id;
}

/* DRM_IOCTL_SYNCOBJ_WAIT for @obj with a deadline @ms from now. */
static int syncobj_wait_ms(int fd, uint32_t obj, int ms)
{
	struct timespec ts;
	int64_t deadline;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
		   (int64_t)ms * 1000000;
	return drmSyncobjWait(fd, &obj, 1, deadline, 0, NULL);
}

/* A pending vgem write fence on @b, as a sync_file from the kernel. */
static int pending_sync_file(const struct vbuf *b, uint32_t *fence)
{
	*fence = vf_attach(b, 1);
	return vf_sync_file(b);
}

/* sync_file -> syncobj -> sync_file: the same fence comes back, pending
 * until vgem signals it; both waits agree. */
static void check_roundtrip(int fd, int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	uint32_t obj, f;
	int sf = pending_sync_file(&b, &f), back = -1, again = -1;
	struct fence_id in, out;

	CHECK_SYS(drmSyncobjCreate(fd, 0, &obj));
	CHECK_OK(shws_syncobj_import_sync_file(fd, obj, sf));
	CHECK_OK(shws_syncobj_export_sync_file(fd, obj, &back));
	CHECK(back >= 0 && back != sf);
	CHECK(fd_cloexec(back));
	CHECK(!sf_signalled(back));
	in = fence_id(sf);
	out = fence_id(back);
	CHECK_INT(out.num_fences, ==, 1);
	CHECK_INT(out.status, ==, 0);
	CHECK_INT(strcmp(in.driver, out.driver), ==, 0);
	CHECK_INT(strcmp(in.timeline, out.timeline), ==, 0);
	CHECK_INT(strcmp(out.driver, "vgem"), ==, 0);
	printf("round trip keeps fence %s/%s\n", out.driver, out.timeline);

	/* Waits while pending: both time out. */
	CHECK_INT(shws_sync_file_wait(back, 0), ==, -ETIME);
	CHECK_INT(shws_sync_file_wait(back, 20), ==, -ETIME);
	CHECK_INT(syncobj_wait_ms(fd, obj, 20), ==, -ETIME);
	/* The closed input changes nothing: the syncobj holds the fence. */
	close(sf);
	CHECK_OK(shws_syncobj_export_sync_file(fd, obj, &again));
	CHECK(!sf_signalled(again));

	vf_signal(vgem, f);
	CHECK(sf_signalled(back));
	CHECK(sf_signalled(again));
	CHECK_OK(shws_sync_file_wait(back, 0));
	CHECK_OK(syncobj_wait_ms(fd, obj, 0));
	CHECK_INT(fence_id(back).status, ==, 1);

	close(again);
	close(back);
	CHECK_SYS(drmSyncobjDestroy(fd, obj));
	vbuf_free(&b);
	test_pass("roundtrip");
}

struct signaller {
	int vgem;
	uint32_t fence;
	int delay_ms;
};

static void *signal_later(void *arg)
{
	struct signaller *s = arg;

	sleep_ms(s->delay_ms);
	vf_signal(s->vgem, s->fence);
	return NULL;
}

/* A wait that is already sleeping when the fence signals returns then:
 * on the exported sync_file, and on the syncobj itself. */
static void check_blocking_wait(int fd, int vgem, int on_syncobj)
{
	struct vbuf b = vbuf_new(vgem);
	struct signaller s = { .vgem = vgem, .delay_ms = 100 };
	int sf = pending_sync_file(&b, &s.fence), back;
	uint32_t obj;
	pthread_t t;
	int64_t t0, waited;

	CHECK_SYS(drmSyncobjCreate(fd, 0, &obj));
	CHECK_OK(shws_syncobj_import_sync_file(fd, obj, sf));
	CHECK_OK(shws_syncobj_export_sync_file(fd, obj, &back));
	t0 = mono_ms();
	CHECK_INT(pthread_create(&t, NULL, signal_later, &s), ==, 0);
	if (on_syncobj)
		CHECK_OK(syncobj_wait_ms(fd, obj, 5000));
	else
		CHECK_OK(shws_sync_file_wait(back, 5000));
	waited = mono_ms() - t0;
	vf_hb_acquire();
	CHECK_INT(pthread_join(t, NULL), ==, 0);
	CHECK_INT(waited, >=, 90);
	CHECK_INT(waited, <, 5000);
	CHECK(sf_signalled(back));
	close(back);
	close(sf);
	CHECK_SYS(drmSyncobjDestroy(fd, obj));
	vbuf_free(&b);
	test_pass(on_syncobj ? "wait-syncobj-blocking" : "wait-sync-file-blocking");
}

/* Signalled inputs, a syncobj created signalled, and replacement: the last
 * import decides what the syncobj holds. */
static void check_states(int fd, int vgem)
{
	struct vbuf idle = vbuf_new(vgem), busy = vbuf_new(vgem);
	uint32_t obj, sig_obj, f;
	int done, pending, back;

	/* Nothing pending on @idle: the kernel gives a signalled stub. */
	done = vf_sync_file(&idle);
	CHECK(sf_signalled(done));
	pending = pending_sync_file(&busy, &f);

	CHECK_SYS(drmSyncobjCreate(fd, 0, &obj));
	CHECK_OK(shws_syncobj_import_sync_file(fd, obj, done));
	CHECK_OK(shws_syncobj_export_sync_file(fd, obj, &back));
	CHECK(sf_signalled(back));
	CHECK_OK(syncobj_wait_ms(fd, obj, 0));
	close(back);
	test_pass("import-signalled");

	/* Signalled, then pending: pending wins. */
	CHECK_OK(shws_syncobj_import_sync_file(fd, obj, pending));
	CHECK_OK(shws_syncobj_export_sync_file(fd, obj, &back));
	CHECK(!sf_signalled(back));
	CHECK_INT(syncobj_wait_ms(fd, obj, 0), ==, -ETIME);
	close(back);
	/* Pending, then signalled: signalled wins, while vgem's fence is
	 * still pending. */
	CHECK_OK(shws_syncobj_import_sync_file(fd, obj, done));
	CHECK_OK(shws_syncobj_export_sync_file(fd, obj, &back));
	CHECK(sf_signalled(back));
	CHECK(!sf_signalled(pending));
	close(back);
	test_pass("import-replaces");

	/* A syncobj created signalled exports a signalled sync_file. */
	CHECK_SYS(drmSyncobjCreate(fd, DRM_SYNCOBJ_CREATE_SIGNALED, &sig_obj));
	CHECK_OK(shws_syncobj_export_sync_file(fd, sig_obj, &back));
	CHECK(sf_signalled(back));
	CHECK_OK(shws_sync_file_wait(back, 0));
	close(back);
	test_pass("created-signalled");

	vf_signal(vgem, f);
	CHECK(sf_signalled(pending));
	close(pending);
	close(done);
	CHECK_SYS(drmSyncobjDestroy(fd, sig_obj));
	CHECK_SYS(drmSyncobjDestroy(fd, obj));
	vbuf_free(&busy);
	vbuf_free(&idle);
}

/* Bad input on a device that has syncobjs. @other is another open file of
 * the same device: its handles are not @fd's. */
static void check_bad_input(int fd, int other, int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	uint32_t obj, foreign;
	int sf = vf_sync_file(&b), out = 777, p[2], closed;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	closed = (int)CHECK_SYS(dup(p[0]));
	close(closed);
	CHECK_SYS(drmSyncobjCreate(fd, 0, &obj));
	/* Handles are the lowest free numbers per file: the third of @other
	 * is one @fd does not have. */
	for (int i = 0; i < 3; i++)
		CHECK_SYS(drmSyncobjCreate(other, 0, &foreign));
	CHECK(foreign != obj);

	/* An empty syncobj has nothing to export. */
	CHECK_INT(shws_syncobj_export_sync_file(fd, obj, &out), ==, -EINVAL);
	/* Handles that are not syncobjs in this file: 0, unknown, and one
	 * of another file of the same device. */
	CHECK_INT(shws_syncobj_import_sync_file(fd, 0, sf), ==, -ENOENT);
	CHECK_INT(shws_syncobj_export_sync_file(fd, 0, &out), ==, -ENOENT);
	CHECK_INT(shws_syncobj_import_sync_file(fd, obj + 1000, sf), ==,
		  -ENOENT);
	CHECK_INT(shws_syncobj_export_sync_file(fd, obj + 1000, &out), ==,
		  -ENOENT);
	CHECK_INT(shws_syncobj_import_sync_file(fd, foreign, sf), ==, -ENOENT);
	CHECK_INT(shws_syncobj_export_sync_file(fd, foreign, &out), ==,
		  -ENOENT);
	/* sync_file_fd: not open, or open and not a sync_file. */
	CHECK_INT(shws_syncobj_import_sync_file(fd, obj, -1), ==, -EBADF);
	CHECK_INT(shws_syncobj_import_sync_file(fd, obj, closed), ==, -EBADF);
	CHECK_INT(shws_syncobj_import_sync_file(fd, obj, p[0]), ==, -EINVAL);
	CHECK_INT(shws_syncobj_import_sync_file(fd, obj, b.dmabuf), ==,
		  -EINVAL);
	CHECK_INT(shws_syncobj_import_sync_file(fd, obj, fd), ==, -EINVAL);
	/* None of that put a fence in. */
	CHECK_INT(shws_syncobj_export_sync_file(fd, obj, &out), ==, -EINVAL);
	/* drm_fd: not open, not DRM. */
	CHECK_INT(shws_syncobj_import_sync_file(-1, obj, sf), ==, -EBADF);
	CHECK_INT(shws_syncobj_export_sync_file(-1, obj, &out), ==, -EBADF);
	CHECK_INT(shws_syncobj_import_sync_file(closed, obj, sf), ==, -EBADF);
	CHECK_INT(shws_syncobj_import_sync_file(p[0], obj, sf), ==, -ENOTTY);
	CHECK_INT(shws_syncobj_export_sync_file(p[0], obj, &out), ==, -ENOTTY);
	CHECK_INT(shws_syncobj_export_sync_file(b.dmabuf, obj, &out), ==,
		  -ENOTTY);
	/* A device without syncobjs, with a handle this one has. */
	CHECK_INT(shws_syncobj_import_sync_file(vgem, obj, sf), ==,
		  -EOPNOTSUPP);
	/* NULL out. */
	CHECK_INT(shws_syncobj_export_sync_file(fd, obj, NULL), ==, -EINVAL);
	CHECK_INT(out, ==, 777);

	/* After all that the syncobj still works. */
	CHECK_OK(shws_syncobj_import_sync_file(fd, obj, sf));
	CHECK_OK(shws_syncobj_export_sync_file(fd, obj, &out));
	CHECK(sf_signalled(out));
	close(out);

	for (uint32_t h = 1; h <= foreign; h++)
		CHECK_SYS(drmSyncobjDestroy(other, h));
	CHECK_SYS(drmSyncobjDestroy(fd, obj));
	/* A destroyed handle is gone. */
	CHECK_INT(shws_syncobj_export_sync_file(fd, obj, &out), ==, -ENOENT);
	close(p[0]);
	close(p[1]);
	close(sf);
	vbuf_free(&b);
	test_pass("bad-input");
}

/* Whether @driver must have syncobjs on this kernel. */
static int want_syncobj(const char *driver)
{
	return !strcmp(driver, "virtio_gpu") && !kt_kernel_before(6, 5);
}

static void test_driver(int vgem, const char *driver, enum kt_node node)
{
	int fd = kt_open_driver(driver, node);
	uint64_t cap = cap_syncobj(fd);

	printf("%s %s: DRM_CAP_SYNCOBJ = %llu (want %d)\n", driver,
	       node_name(node), (unsigned long long)cap, want_syncobj(driver));
	CHECK_INT(cap, ==, (uint64_t)want_syncobj(driver));
	if (cap) {
		int other = kt_open_driver(driver, node);

		check_roundtrip(fd, vgem);
		check_blocking_wait(fd, vgem, 0);
		check_blocking_wait(fd, vgem, 1);
		check_states(fd, vgem);
		check_bad_input(fd, other, vgem);
		close(other);
	} else {
		struct vbuf b = vbuf_new(vgem);
		int sf;

		CHECK_OK(shws_dmabuf_export_sync_file(b.dmabuf, SHWS_SYNC_READ,
						      &sf));
		check_unsupported(fd, sf);
		close(sf);
		vbuf_free(&b);
		test_pass("unsupported");
	}
	close(fd);
}

int main(void)
{
	int fds = test_fd_count(), bufs, vgem;

	kt_banner("sync-syncobj");
	vgem = kt_open_driver("vgem", KT_PRIMARY);
	bufs = kt_dmabuf_count();
	test_driver(vgem, "vgem", KT_PRIMARY);
	test_driver(vgem, "vgem", KT_RENDER);
	test_driver(vgem, "virtio_gpu", KT_PRIMARY);
	test_driver(vgem, "virtio_gpu", KT_RENDER);
	test_pass(kt_kernel_before(6, 5) ? "syncobj-none-before-6.5"
					 : "syncobj-virtio_gpu-from-6.5");
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	close(vgem);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("sync-syncobj");
	return 0;
}
