/* SPDX-License-Identifier: MIT */
/*
 * The syncobj bridge answers from DRM_CAP_SYNCOBJ. On Linux 6.1 neither vgem
 * nor virtio_gpu has syncobjs: both directions must say -EOPNOTSUPP, on
 * primary and render nodes, before looking at the other arguments. If a
 * kernel here does report the cap, the real round trip is checked instead
 * (sync_file -> syncobj -> sync_file keeps the fence).
 */
#include <shws/shws.h>

#include "vgem_fence.h"

static uint64_t cap_syncobj(int fd)
{
	uint64_t v = 0;

	CHECK_SYS(drmGetCap(fd, DRM_CAP_SYNCOBJ, &v));
	return v;
}

static void check_unsupported(int fd, int sync_file)
{
	int out = 777;

	CHECK_INT(shws_syncobj_import_sync_file(fd, 1, sync_file), ==,
		  -EOPNOTSUPP);
	CHECK_INT(shws_syncobj_export_sync_file(fd, 1, &out), ==, -EOPNOTSUPP);
	/* The device answer comes first, whatever the other arguments. */
	CHECK_INT(shws_syncobj_import_sync_file(fd, 0, -1), ==, -EOPNOTSUPP);
	CHECK_INT(out, ==, 777);
}

static void check_roundtrip(int fd, const struct vbuf *b)
{
	uint32_t obj, f = vf_attach(b, 1);
	int sf, back;

	CHECK_OK(shws_dmabuf_export_sync_file(b->dmabuf, SHWS_SYNC_READ, &sf));
	CHECK_SYS(drmSyncobjCreate(fd, 0, &obj));
	CHECK_INT(shws_syncobj_export_sync_file(fd, obj, &back), ==, -EINVAL);
	CHECK_OK(shws_syncobj_import_sync_file(fd, obj, sf));
	CHECK_OK(shws_syncobj_export_sync_file(fd, obj, &back));
	CHECK(!sf_signalled(back));
	vf_signal(b->vgem, f);
	CHECK(sf_signalled(back));
	CHECK_INT(shws_syncobj_export_sync_file(fd, obj + 1000, &back), ==,
		  -ENOENT);
	close(back);
	close(sf);
	CHECK_SYS(drmSyncobjDestroy(fd, obj));
}

static void test_driver(int vgem, const char *driver, enum kt_node node)
{
	int fd = kt_open_driver(driver, node);
	struct vbuf b = vbuf_new(vgem);
	int sf;
	uint64_t cap = cap_syncobj(fd);

	printf("%s %s: DRM_CAP_SYNCOBJ = %llu\n", driver,
	       node == KT_PRIMARY ? "primary" : "render",
	       (unsigned long long)cap);
	CHECK_OK(shws_dmabuf_export_sync_file(b.dmabuf, SHWS_SYNC_READ, &sf));
	if (cap)
		check_roundtrip(fd, &b);
	else
		check_unsupported(fd, sf);
	close(sf);
	vbuf_free(&b);
	close(fd);
}

int main(void)
{
	int fds = test_fd_count(), vgem;

	kt_banner("sync-syncobj");
	vgem = kt_open_driver("vgem", KT_PRIMARY);
	test_driver(vgem, "vgem", KT_PRIMARY);
	test_driver(vgem, "vgem", KT_RENDER);
	test_driver(vgem, "virtio_gpu", KT_PRIMARY);
	test_driver(vgem, "virtio_gpu", KT_RENDER);
	test_pass("syncobj-follows-cap");
	close(vgem);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("sync-syncobj");
	return 0;
}
