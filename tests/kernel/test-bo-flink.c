/* SPDX-License-Identifier: MIT */
/*
 * flink names on the primary node are deduped (GEM_OPEN alone returns a new
 * handle every call); render nodes refuse flink but take PRIME.
 */
#include "test-bo-common.h"

#define SEED 0x33330000u

/* The kernel fact shws works around. */
static void gem_open_twice(int fd, uint32_t name)
{
	struct drm_gem_open a = { .name = name }, b = { .name = name };

	CHECK_SYS(drmIoctl(fd, DRM_IOCTL_GEM_OPEN, &a));
	CHECK_SYS(drmIoctl(fd, DRM_IOCTL_GEM_OPEN, &b));
	CHECK_INT(a.handle, !=, b.handle);
	CHECK_SYS(drmCloseBufferHandle(fd, a.handle));
	CHECK_SYS(drmCloseBufferHandle(fd, b.handle));
}

static void flink_dedupe(void)
{
	int c1 = kt_open_driver("vgem", KT_PRIMARY);
	int c2 = kt_open_driver("vgem", KT_PRIMARY);
	struct shws_file *f1, *f2;
	struct shws_bo *b1, *again, *a, *b;
	uint32_t h, name, name2;
	void *map;

	CHECK_OK(shws_file_open(c1, 0, SHWS_API_GL, &f1));
	CHECK_OK(shws_file_open(c2, 0, SHWS_API_VA, &f2));
	CHECK(f1 != f2); /* two open() calls: two handle namespaces */

	h = bo_dumb_create(c1, BO_SIZE);
	map = bo_dumb_map(c1, h, BO_SIZE);
	bo_fill(map, BO_SIZE, SEED);
	munmap(map, BO_SIZE);
	CHECK_OK(shws_bo_adopt(f1, shws_file_fd(f1), h, BO_SIZE, SHWS_API_GL, &b1));
	CHECK_OK(shws_bo_flink(b1, &name));
	CHECK_INT(name, !=, 0);
	CHECK_OK(shws_bo_flink(b1, &name2));
	CHECK_INT(name2, ==, name);

	gem_open_twice(c2, name);

	CHECK_OK(shws_bo_import_flink(f2, name, SHWS_API_VA, &a));
	CHECK_OK(shws_bo_import_flink(f2, name, SHWS_API_GL, &b));
	CHECK(a == b);
	CHECK(shws_bo_file(a) == f2);
	CHECK_INT(shws_bo_size(a), ==, BO_SIZE);
	CHECK(bo_shws_matches(a, SEED));
	/* The flinking file finds its own bo by name, too. */
	CHECK_OK(shws_bo_import_flink(f1, name, SHWS_API_VA, &again));
	CHECK(again == b1);

	CHECK_OK(shws_bo_unref(a, SHWS_API_VA));
	CHECK(bo_shws_matches(b, SEED)); /* one release does not close it */
	CHECK_OK(shws_bo_unref(b, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(again, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(b1, SHWS_API_GL));
	/* Every handle of the name is gone: the name is dead. */
	CHECK_INT(shws_bo_import_flink(f2, name, SHWS_API_VA, &a), ==, -ENOENT);
	CHECK(!a);

	shws_file_unref(f2, SHWS_API_VA);
	shws_file_unref(f1, SHWS_API_GL);
	close(c2);
	close(c1);
	test_pass("flink-dedupe-primary");
}

static void render_node(void)
{
	int c = kt_open_driver("vgem", KT_PRIMARY);
	int r = kt_open_driver("vgem", KT_RENDER);
	int x = bo_make_dmabuf(c, SEED);
	struct shws_file *fr;
	struct shws_bo *b, *b2;
	uint32_t name = 0;

	CHECK_OK(shws_file_open(r, 0, SHWS_API_VULKAN, &fr));
	CHECK_OK(shws_bo_import_dmabuf(fr, x, SHWS_API_VULKAN, &b));
	CHECK_OK(shws_bo_import_dmabuf(fr, x, SHWS_API_VA, &b2));
	CHECK(b == b2);
	CHECK(bo_shws_matches(b, SEED));
	CHECK_INT(shws_bo_flink(b, &name), ==, -EACCES);
	CHECK_INT(shws_bo_import_flink(fr, 1, SHWS_API_VA, &b2), ==, -EACCES);
	CHECK_OK(shws_bo_unref(b, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(b, SHWS_API_VULKAN));
	shws_file_unref(fr, SHWS_API_VULKAN);
	close(x);
	close(r);
	close(c);
	test_pass("render-node-prime-only");
}

int main(void)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count();

	kt_banner("bo-flink");
	flink_dedupe();
	render_node();
	CHECK_INT(test_fd_count(), ==, fds);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	test_pass("no-leaks");
	return 0;
}
