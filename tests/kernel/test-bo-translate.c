/* SPDX-License-Identifier: MIT */
/*
 * Translation: the handle of a buffer in another file of the same device,
 * held by the bo and released with it; translating back and forth builds
 * a cycle that is still freed. Cross-device imports follow the kernel.
 */
#include <stdio.h>

#include "test-bo-common.h"

#define SEED 0x44440000u

static void pass_for(const char *what, const char *driver)
{
	char name[64];

	snprintf(name, sizeof(name), "%s@%s", what, driver);
	test_pass(name);
}

/* Same dma-buf (st_ino) behind handle @h of @fd and behind @bo. */
static void check_same_buffer(int fd, uint32_t h, struct shws_bo *bo)
{
	int a, b;

	CHECK_SYS(drmPrimeHandleToFD(fd, h, DRM_CLOEXEC | DRM_RDWR, &a));
	CHECK_OK(shws_bo_export_dmabuf(bo, &b));
	CHECK_INT(bo_fd_ino(a), ==, bo_fd_ino(b));
	close(a);
	close(b);
}

static int live_bos(struct shws_file *file)
{
	FILE *null = fopen("/dev/null", "w");
	int n;

	CHECK(null);
	n = shws_bo_dump(file, null);
	fclose(null);
	CHECK_INT(n, >=, 0);
	return n;
}

/* render -> card where the card has no bo yet: the translation creates
 * one, owned by the render bo and closed with it. */
static void render_to_card(const char *driver)
{
	int c = kt_open_driver(driver, KT_PRIMARY);
	int r = kt_open_driver(driver, KT_RENDER);
	int x = bo_make_dmabuf(c, SEED);
	struct shws_file *fc, *fr;
	struct shws_bo *br;
	uint32_t hc, hc2;

	CHECK_OK(shws_file_open(c, SHWS_API_OTHER, &fc));
	CHECK_OK(shws_file_open(r, SHWS_API_GL, &fr));
	CHECK(shws_file_device(fc) == shws_file_device(fr));
	CHECK_OK(shws_bo_import_dmabuf(fr, x, SHWS_API_GL, &br));
	close(x);
	CHECK_INT(live_bos(fc), ==, 0);

	CHECK_OK(shws_bo_translate(br, fc, &hc));
	CHECK_INT(live_bos(fc), ==, 1);
	check_same_buffer(c, hc, br);
	CHECK_OK(shws_bo_translate(br, fc, &hc2)); /* cached */
	CHECK_INT(hc2, ==, hc);
	CHECK_OK(shws_bo_translate(br, fr, &hc2)); /* its own file */
	CHECK_INT(hc2, ==, shws_bo_handle(br));

	CHECK_OK(shws_bo_unref(br, SHWS_API_GL));
	CHECK_INT(live_bos(fc), ==, 0); /* the translation died with it */
	CHECK_INT(live_bos(fr), ==, 0);
	shws_file_unref(fr, SHWS_API_GL);
	shws_file_unref(fc, SHWS_API_OTHER);
	close(r);
	close(c);
	pass_for("render-to-card", driver);
}

/* card -> render -> card: the second translation finds the first bo
 * (dedupe in the card's table), so the two bos hold each other. */
static void round_trip(const char *driver)
{
	int c = kt_open_driver(driver, KT_PRIMARY);
	int r = kt_open_driver(driver, KT_RENDER);
	struct shws_file *fc, *fr;
	struct shws_bo *bc, *br;
	uint32_t h = bo_dumb_create(c, BO_SIZE), hr, hc;
	void *map = bo_dumb_map(c, h, BO_SIZE);

	bo_fill(map, BO_SIZE, SEED);
	munmap(map, BO_SIZE);
	CHECK_OK(shws_file_open(c, SHWS_API_GL, &fc));
	CHECK_OK(shws_file_open(r, SHWS_API_VULKAN, &fr));
	CHECK_OK(shws_bo_adopt(fc, h, BO_SIZE, SHWS_API_GL, &bc));

	CHECK_OK(shws_bo_translate(bc, fr, &hr));
	br = shws_bo_lookup(fr, hr, SHWS_API_VULKAN);
	CHECK(br);
	CHECK(bo_shws_matches(br, SEED));
	CHECK_OK(shws_bo_translate(br, fc, &hc));
	CHECK_INT(hc, ==, h);

	CHECK_OK(shws_bo_unref(bc, SHWS_API_GL));
	/* Vulkan still holds br, br holds bc: the card handle stays. */
	check_same_buffer(c, h, br);
	CHECK_INT(live_bos(fc), ==, 1);
	CHECK_OK(shws_bo_unref(br, SHWS_API_VULKAN));
	/* No API holds either: the cycle is collected, both handles closed. */
	CHECK_INT(live_bos(fc), ==, 0);
	CHECK_INT(live_bos(fr), ==, 0);
	CHECK_INT(drmCloseBufferHandle(c, h), ==, -1);
	CHECK_INT(errno, ==, EINVAL);

	shws_file_unref(fr, SHWS_API_VULKAN);
	shws_file_unref(fc, SHWS_API_GL);
	close(r);
	close(c);
	pass_for("round-trip-cycle", driver);
}

/* Three files of one device, translated round in a ring: a 3-cycle of
 * holds. It lives while any API holds any of the three, and dies with the
 * last API reference. */
static void three_cycle(void)
{
	int c1 = kt_open_driver("vgem", KT_PRIMARY);
	int c2 = kt_open_driver("vgem", KT_PRIMARY);
	int r = kt_open_driver("vgem", KT_RENDER);
	struct shws_file *f1, *f2, *fr;
	struct shws_bo *b1, *b2, *br;
	uint32_t h = bo_dumb_create(c1, BO_SIZE), hr, h2, back;
	void *map = bo_dumb_map(c1, h, BO_SIZE);

	bo_fill(map, BO_SIZE, SEED);
	munmap(map, BO_SIZE);
	CHECK_OK(shws_file_open(c1, SHWS_API_GL, &f1));
	CHECK_OK(shws_file_open(c2, SHWS_API_VA, &f2));
	CHECK_OK(shws_file_open(r, SHWS_API_VULKAN, &fr));
	CHECK_OK(shws_bo_adopt(f1, h, BO_SIZE, SHWS_API_GL, &b1));
	CHECK_OK(shws_bo_translate(b1, fr, &hr));
	br = shws_bo_lookup(fr, hr, SHWS_API_VULKAN);
	CHECK(br);
	CHECK_OK(shws_bo_translate(br, f2, &h2));
	b2 = shws_bo_lookup(f2, h2, SHWS_API_VA);
	CHECK(b2);
	CHECK_OK(shws_bo_translate(b2, f1, &back));
	CHECK_INT(back, ==, h);

	CHECK_OK(shws_bo_unref(b1, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(b2, SHWS_API_VA));
	/* Vulkan's reference keeps the whole ring. */
	CHECK_INT(live_bos(f1) + live_bos(f2) + live_bos(fr), ==, 3);
	check_same_buffer(c1, h, br);
	CHECK(bo_shws_matches(br, SEED));
	CHECK_OK(shws_bo_unref(br, SHWS_API_VULKAN));
	CHECK_INT(live_bos(f1) + live_bos(f2) + live_bos(fr), ==, 0);
	CHECK_INT(drmCloseBufferHandle(c1, h), ==, -1);

	shws_file_unref(fr, SHWS_API_VULKAN);
	shws_file_unref(f2, SHWS_API_VA);
	shws_file_unref(f1, SHWS_API_GL);
	close(r);
	close(c2);
	close(c1);
	test_pass("three-file-cycle");
}

/* The kernel decides cross-device imports (6.1: virtio_gpu -> vgem works,
 * vgem -> virtio_gpu is ENODEV); translation across devices is EXDEV. */
static void cross_device(void)
{
	int vg = kt_open_driver("vgem", KT_PRIMARY);
	int vc = kt_open_driver("virtio_gpu", KT_PRIMARY);
	int from_virtio = bo_make_dmabuf(vc, SEED);
	int from_vgem = bo_make_dmabuf(vg, SEED + 1);
	struct shws_file *fvg, *fvc;
	struct shws_bo *bo, *none;
	uint32_t h;

	CHECK_OK(shws_file_open(vg, SHWS_API_GL, &fvg));
	CHECK_OK(shws_file_open(vc, SHWS_API_GL, &fvc));
	CHECK(shws_file_device(fvg) != shws_file_device(fvc));

	CHECK_OK(shws_bo_import_dmabuf(fvg, from_virtio, SHWS_API_GL, &bo));
	CHECK(bo_shws_matches(bo, SEED));
	CHECK_INT(shws_bo_import_dmabuf(fvc, from_vgem, SHWS_API_GL, &none),
		  ==, -ENODEV);
	CHECK(!none);
	CHECK_INT(shws_bo_translate(bo, fvc, &h), ==, -EXDEV);
	CHECK_INT(live_bos(fvc), ==, 0);
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));

	shws_file_unref(fvc, SHWS_API_GL);
	shws_file_unref(fvg, SHWS_API_GL);
	close(from_vgem);
	close(from_virtio);
	close(vc);
	close(vg);
	test_pass("cross-device");
}

/* The dump says which API holds which buffer. */
static void attribution(void)
{
	int c = kt_open_driver("vgem", KT_PRIMARY);
	int x = bo_make_dmabuf(c, SEED);
	struct shws_file *f;
	struct shws_bo *gl, *va;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	CHECK_OK(shws_file_open(c, SHWS_API_GL, &f));
	CHECK_OK(shws_bo_import_dmabuf(f, x, SHWS_API_GL, &gl));
	CHECK_OK(shws_bo_import_dmabuf(f, x, SHWS_API_VA, &va));
	shws_bo_ref(va, SHWS_API_VA);
	out = open_memstream(&text, &len);
	CHECK(out);
	CHECK_INT(shws_bo_dump(f, out), ==, 1);
	fclose(out);
	CHECK(strstr(text, "gl=1"));
	CHECK(strstr(text, "va=2"));
	CHECK(strstr(text, "vulkan=0"));
	free(text);
	CHECK_OK(shws_bo_unref(va, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(va, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(gl, SHWS_API_GL));
	shws_file_unref(f, SHWS_API_GL);
	close(x);
	close(c);
	test_pass("attribution-dump");
}

int main(void)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count();

	kt_banner("bo-translate");
	render_to_card("vgem");
	render_to_card("virtio_gpu");
	round_trip("vgem");
	round_trip("virtio_gpu");
	three_cycle();
	cross_device();
	attribution();
	CHECK_INT(test_fd_count(), ==, fds);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	test_pass("no-leaks");
	return 0;
}
