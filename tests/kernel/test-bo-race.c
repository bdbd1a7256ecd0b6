/* SPDX-License-Identifier: MIT */
/*
 * Import/close race (cf. IGT's prime_self_import import-close-race): four
 * threads import and release the same dma-buf on one file for 10 000
 * rounds each, while two threads create, fill, check and destroy buffers
 * of their own on that file. Every bo an importer gets must be that
 * dma-buf (same st_ino; contents checked through mmap), every created
 * buffer must keep its own contents, and afterwards the kernel's bufinfo
 * must show nothing left over.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "test-bo-common.h"

#define IMPORTERS 4
#define CREATORS 2
#define ROUNDS 10000
#define CHECK_EVERY 500 /* contents through mmap; ino every round */
#define SEED_X 0x55550000u

static struct shws_file *file;
static int card, shared_fd;
static ino_t shared_ino;
static _Atomic int importers_left = IMPORTERS;
static _Atomic unsigned long created, dedup_hits;

static void check_is_shared(struct shws_bo *bo, bool contents)
{
	int fd;

	CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
	CHECK_INT(bo_fd_ino(fd), ==, shared_ino);
	if (contents)
		CHECK(bo_dmabuf_pattern(fd, BO_SIZE, SEED_X, false));
	close(fd);
}

static uint32_t total_refs(struct shws_bo *bo)
{
	uint32_t n = 0;

	for (int api = 0; api < SHWS_API_COUNT; api++)
		n += shws_bo_api_refs(bo, (enum shws_api)api);
	return n;
}

static void *importer(void *arg)
{
	enum shws_api api = (enum shws_api)((uintptr_t)arg % SHWS_API_COUNT);
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		struct shws_bo *a, *b = NULL;

		CHECK_OK(shws_bo_import_dmabuf(file, shared_fd, api, &a));
		seed = seed * 1103515245u + 12345u;
		if (seed & 0x10000) { /* sometimes hold two at once */
			CHECK_OK(shws_bo_import_dmabuf(file, shared_fd, api,
						       &b));
			CHECK(a == b);
		}
		if (total_refs(a) > (b ? 2u : 1u)) /* another thread has it */
			atomic_fetch_add(&dedup_hits, 1);
		check_is_shared(a, r % CHECK_EVERY == 0);
		CHECK_OK(shws_bo_unref(b, api));
		CHECK_OK(shws_bo_unref(a, api));
	}
	atomic_fetch_sub(&importers_left, 1);
	return NULL;
}

static void *creator(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg << 24;

	while (atomic_load(&importers_left) > 0) {
		uint32_t h = bo_dumb_create(card, BO_SIZE);
		struct shws_bo *bo, *again;
		void *map = bo_dumb_map(card, h, BO_SIZE);

		CHECK_OK(shws_bo_adopt(file, h, BO_SIZE, SHWS_API_VULKAN, &bo));
		bo_fill(map, BO_SIZE, ++seed);
		again = shws_bo_lookup(file, h, SHWS_API_GL);
		CHECK(again == bo);
		CHECK(bo_matches(map, BO_SIZE, seed));
		CHECK(bo_shws_matches(again, seed));
		CHECK_OK(shws_bo_unref(again, SHWS_API_GL));
		munmap(map, BO_SIZE);
		CHECK_OK(shws_bo_unref(bo, SHWS_API_VULKAN));
		atomic_fetch_add(&created, 1);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	int fds = test_fd_count(), bufs = bo_bufinfo_count();
	pthread_t imp[IMPORTERS], cre[CREATORS];
	int exporter = bo_open_node("vgem", false);
	double t0;

	card = bo_open_node("vgem", false);
	shared_fd = bo_make_dmabuf(exporter, SEED_X);
	shared_ino = bo_fd_ino(shared_fd);
	CHECK_OK(shws_file_open(card, SHWS_API_GL, &file));

	t0 = now();
	for (uintptr_t i = 0; i < CREATORS; i++)
		CHECK_INT(pthread_create(&cre[i], NULL, creator,
					 (void *)(i + 1)), ==, 0);
	for (uintptr_t i = 0; i < IMPORTERS; i++)
		CHECK_INT(pthread_create(&imp[i], NULL, importer,
					 (void *)(i + 1)), ==, 0);
	for (int i = 0; i < IMPORTERS; i++)
		pthread_join(imp[i], NULL);
	for (int i = 0; i < CREATORS; i++)
		pthread_join(cre[i], NULL);
	printf("%d x %d imports, %lu buffers created, %lu shared imports "
	       "in %.1f s\n", IMPORTERS, ROUNDS, atomic_load(&created),
	       atomic_load(&dedup_hits), now() - t0);
	CHECK_INT(atomic_load(&created), >, 0);
	CHECK_INT(shws_bo_dump(file, stdout), ==, 0);
	test_pass("import-close-race");

	shws_file_unref(file, SHWS_API_GL);
	close(shared_fd);
	close(card);
	close(exporter);
	CHECK_INT(test_fd_count(), ==, fds);
	CHECK_INT(bo_bufinfo_count(), ==, bufs);
	test_pass("bufinfo-oracle");
	return 0;
}
