/* SPDX-License-Identifier: MIT */
/*
 * Translation: the same buffer as a bo of another file of the same device,
 * owned by the caller; no bo holds another, so every order of release
 * frees everything; the cache never hands out a dead translation's reused
 * handle. Cross-device imports follow the kernel.
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

/* render -> card where the card has no bo yet: the translation is a bo of
 * the card's table owned by the caller, living on its own (no bo holds
 * another), and a second call while it lives returns the same bo. */
static void render_to_card(const char *driver)
{
	int c = kt_open_driver(driver, KT_PRIMARY);
	int r = kt_open_driver(driver, KT_RENDER);
	int x = bo_make_dmabuf(c, SEED);
	struct shws_file *fc, *fr;
	struct shws_bo *br, *tc, *tc2, *self;

	CHECK_OK(shws_file_open(c, 0, SHWS_API_OTHER, &fc));
	CHECK_OK(shws_file_open(r, 0, SHWS_API_GL, &fr));
	CHECK(shws_file_device(fc) == shws_file_device(fr));
	CHECK_OK(shws_bo_import_dmabuf(fr, x, SHWS_API_GL, &br));
	close(x);
	CHECK_INT(live_bos(fc), ==, 0);

	CHECK_OK(shws_bo_translate(br, fc, SHWS_API_VULKAN, &tc));
	CHECK(shws_bo_file(tc) == fc);
	CHECK_INT(shws_bo_api_refs(tc, SHWS_API_VULKAN), ==, 1);
	CHECK_INT(live_bos(fc), ==, 1);
	check_same_buffer(c, shws_bo_handle(tc), br);
	CHECK_OK(shws_bo_translate(br, fc, SHWS_API_GL, &tc2)); /* cached */
	CHECK(tc2 == tc);
	CHECK_INT(shws_bo_api_refs(tc, SHWS_API_GL), ==, 1);
	CHECK_OK(shws_bo_translate(br, fr, SHWS_API_VA, &self));
	CHECK(self == br);
	CHECK_INT(shws_bo_api_refs(br, SHWS_API_VA), ==, 1);
	CHECK_OK(shws_bo_unref(self, SHWS_API_VA));

	/* The source dies first: the translation is the caller's and lives. */
	CHECK_OK(shws_bo_unref(br, SHWS_API_GL));
	CHECK_INT(live_bos(fr), ==, 0);
	CHECK_INT(live_bos(fc), ==, 1);
	CHECK(bo_shws_matches(tc, SEED));
	CHECK_OK(shws_bo_unref(tc2, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(tc, SHWS_API_VULKAN));
	CHECK_INT(live_bos(fc), ==, 0);
	shws_file_unref(fr, SHWS_API_GL);
	shws_file_unref(fc, SHWS_API_OTHER);
	close(r);
	close(c);
	pass_for("render-to-card", driver);
}

/* The cache is weak: once the translation died and its handle number was
 * given to another buffer, translating again must not return that buffer
 * (it would alias someone else's memory) but the right one. */
static void stale_cache(const char *driver)
{
	int c = kt_open_driver(driver, KT_PRIMARY);
	int r = kt_open_driver(driver, KT_RENDER);
	int x = bo_make_dmabuf(c, SEED);
	struct shws_file *fc, *fr;
	struct shws_bo *br, *t, *other;
	uint32_t hc, reused;
	void *map;

	CHECK_OK(shws_file_open(c, 0, SHWS_API_GL, &fc));
	CHECK_OK(shws_file_open(r, 0, SHWS_API_GL, &fr));
	CHECK_OK(shws_bo_import_dmabuf(fr, x, SHWS_API_GL, &br));
	close(x);
	CHECK_OK(shws_bo_translate(br, fc, SHWS_API_GL, &t));
	hc = shws_bo_handle(t);
	CHECK_OK(shws_bo_unref(t, SHWS_API_GL));
	CHECK_INT(live_bos(fc), ==, 0);
	/* The kernel hands the lowest free number out again at once. */
	reused = bo_dumb_create(c, BO_SIZE);
	CHECK_INT(reused, ==, hc);
	map = bo_dumb_map(c, reused, BO_SIZE);
	bo_fill(map, BO_SIZE, SEED + 7);
	munmap(map, BO_SIZE);
	CHECK_OK(shws_bo_adopt(fc, c, reused, BO_SIZE, SHWS_API_VA, &other));

	CHECK_OK(shws_bo_translate(br, fc, SHWS_API_GL, &t));
	CHECK(t != other);
	CHECK(bo_shws_matches(t, SEED));
	CHECK(bo_shws_matches(other, SEED + 7));
	check_same_buffer(c, shws_bo_handle(t), br);
	CHECK_OK(shws_bo_unref(t, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(other, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(br, SHWS_API_GL));
	CHECK_INT(live_bos(fc) + live_bos(fr), ==, 0);
	shws_file_unref(fr, SHWS_API_GL);
	shws_file_unref(fc, SHWS_API_GL);
	close(r);
	close(c);
	pass_for("stale-cache", driver);
}

/* card -> render -> card: the way back finds the first bo (dedupe in the
 * card's table). No bo holds another, so releasing in either order frees
 * both handles with the last reference. */
static void round_trip(const char *driver, bool card_first)
{
	int c = kt_open_driver(driver, KT_PRIMARY);
	int r = kt_open_driver(driver, KT_RENDER);
	struct shws_file *fc, *fr;
	struct shws_bo *bc, *br, *back;
	uint32_t h = bo_dumb_create(c, BO_SIZE);
	void *map = bo_dumb_map(c, h, BO_SIZE);

	bo_fill(map, BO_SIZE, SEED);
	munmap(map, BO_SIZE);
	CHECK_OK(shws_file_open(c, 0, SHWS_API_GL, &fc));
	CHECK_OK(shws_file_open(r, 0, SHWS_API_VULKAN, &fr));
	CHECK_OK(shws_bo_adopt(fc, c, h, BO_SIZE, SHWS_API_GL, &bc));

	CHECK_OK(shws_bo_translate(bc, fr, SHWS_API_VULKAN, &br));
	CHECK(bo_shws_matches(br, SEED));
	CHECK_OK(shws_bo_translate(br, fc, SHWS_API_VULKAN, &back));
	CHECK(back == bc);
	CHECK_OK(shws_bo_unref(back, SHWS_API_VULKAN));

	CHECK_OK(shws_bo_unref(card_first ? bc : br,
			       card_first ? SHWS_API_GL : SHWS_API_VULKAN));
	CHECK_INT(live_bos(fc) + live_bos(fr), ==, 1);
	CHECK(bo_shws_matches(card_first ? br : bc, SEED));
	CHECK_OK(shws_bo_unref(card_first ? br : bc,
			       card_first ? SHWS_API_VULKAN : SHWS_API_GL));
	CHECK_INT(live_bos(fc), ==, 0);
	CHECK_INT(live_bos(fr), ==, 0);
	CHECK_INT(drmCloseBufferHandle(c, h), ==, -1);
	CHECK_INT(errno, ==, EINVAL);

	shws_file_unref(fr, SHWS_API_VULKAN);
	shws_file_unref(fc, SHWS_API_GL);
	close(r);
	close(c);
	pass_for(card_first ? "round-trip-card-first" :
			      "round-trip-render-first", driver);
}

/* Three files of one device, translated round in a ring: the way back is
 * the first bo, and the ring dies with the last reference. */
static void three_ring(void)
{
	int c1 = kt_open_driver("vgem", KT_PRIMARY);
	int c2 = kt_open_driver("vgem", KT_PRIMARY);
	int r = kt_open_driver("vgem", KT_RENDER);
	struct shws_file *f1, *f2, *fr;
	struct shws_bo *b1, *b2, *br, *back;
	uint32_t h = bo_dumb_create(c1, BO_SIZE);
	void *map = bo_dumb_map(c1, h, BO_SIZE);

	bo_fill(map, BO_SIZE, SEED);
	munmap(map, BO_SIZE);
	CHECK_OK(shws_file_open(c1, 0, SHWS_API_GL, &f1));
	CHECK_OK(shws_file_open(c2, 0, SHWS_API_VA, &f2));
	CHECK_OK(shws_file_open(r, 0, SHWS_API_VULKAN, &fr));
	CHECK_OK(shws_bo_adopt(f1, c1, h, BO_SIZE, SHWS_API_GL, &b1));
	CHECK_OK(shws_bo_translate(b1, fr, SHWS_API_VULKAN, &br));
	CHECK_OK(shws_bo_translate(br, f2, SHWS_API_VA, &b2));
	CHECK_OK(shws_bo_translate(b2, f1, SHWS_API_GL, &back));
	CHECK(back == b1);
	CHECK_INT(shws_bo_api_refs(b1, SHWS_API_GL), ==, 2);

	CHECK_OK(shws_bo_unref(b1, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(b2, SHWS_API_VA));
	CHECK_INT(live_bos(f1) + live_bos(f2) + live_bos(fr), ==, 2);
	CHECK(bo_shws_matches(br, SEED));
	CHECK_OK(shws_bo_unref(back, SHWS_API_GL));
	CHECK_INT(live_bos(f1) + live_bos(f2) + live_bos(fr), ==, 1);
	CHECK_INT(drmCloseBufferHandle(c1, h), ==, -1);
	CHECK_OK(shws_bo_unref(br, SHWS_API_VULKAN));
	CHECK_INT(live_bos(f1) + live_bos(f2) + live_bos(fr), ==, 0);

	shws_file_unref(fr, SHWS_API_VULKAN);
	shws_file_unref(f2, SHWS_API_VA);
	shws_file_unref(f1, SHWS_API_GL);
	close(r);
	close(c2);
	close(c1);
	test_pass("three-file-ring");
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
	struct shws_bo *bo, *none, *t;

	CHECK_OK(shws_file_open(vg, 0, SHWS_API_GL, &fvg));
	CHECK_OK(shws_file_open(vc, 0, SHWS_API_GL, &fvc));
	CHECK(shws_file_device(fvg) != shws_file_device(fvc));

	CHECK_OK(shws_bo_import_dmabuf(fvg, from_virtio, SHWS_API_GL, &bo));
	CHECK(bo_shws_matches(bo, SEED));
	CHECK_INT(shws_bo_import_dmabuf(fvc, from_vgem, SHWS_API_GL, &none),
		  ==, -ENODEV);
	CHECK(!none);
	CHECK_INT(shws_bo_translate(bo, fvc, SHWS_API_GL, &t), ==, -EXDEV);
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

	CHECK_OK(shws_file_open(c, 0, SHWS_API_GL, &f));
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
	stale_cache("vgem");
	stale_cache("virtio_gpu");
	round_trip("vgem", true);
	round_trip("vgem", false);
	round_trip("virtio_gpu", true);
	round_trip("virtio_gpu", false);
	three_ring();
	cross_device();
	attribution();
	CHECK_INT(test_fd_count(), ==, fds);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	test_pass("no-leaks");
	return 0;
}
