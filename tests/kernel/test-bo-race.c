/* SPDX-License-Identifier: MIT */
/*
 * Import/close race (cf. IGT's prime_self_import import-close-race): four
 * threads import and release the same dma-buf on one file for 10 000
 * rounds each, while two threads create, fill, check and destroy buffers
 * of their own on that file. Every bo an importer gets must be that
 * dma-buf (same st_ino; contents checked through mmap), every created
 * buffer must keep its own contents, and afterwards the kernel's bufinfo
 * must show nothing left over. Every 100 rounds the importers meet, so that
 * both outcomes of an import (the bo held by another thread, the bo dead)
 * happen however the threads are scheduled.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "test-bo-common.h"

#define IMPORTERS 4
#define CREATORS 2
#define ROUNDS 10000
#define INO_EVERY 4     /* st_ino of an export; a lookup otherwise */
#define MAP_EVERY 500   /* contents through mmap */
#define MEET_EVERY 100  /* rounds between meets of the importers (below) */
/* Imports that found the bo dead, and imports that found it held by another
 * thread: the meets alone make ROUNDS / MEET_EVERY of the first and
 * IMPORTERS times as many of the second, whatever the scheduling. */
#define MIN_FRESH (ROUNDS / MEET_EVERY)
#define SEED_X 0x55550000u

static struct shws_file *file;
static int card, shared_fd;
static ino_t shared_ino;
static _Atomic int importers_left = IMPORTERS;
static _Atomic unsigned long created, dedup_hits, fresh;
static pthread_barrier_t meet_barrier;

static void check_is_shared(struct shws_bo *bo, bool contents)
{
	int fd;

	CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
	CHECK_INT(bo_fd_ino(fd), ==, shared_ino);
	if (contents)
		CHECK(bo_dmabuf_pattern(fd, BO_SIZE, SEED_X, false));
	close(fd);
}

/* The handle names this bo, lock-free. */
static void check_lookup(struct shws_bo *bo)
{
	struct shws_bo *again = shws_bo_lookup(file, shws_bo_handle(bo),
					       SHWS_API_OTHER);

	CHECK(again == bo);
	CHECK_OK(shws_bo_unref(again, SHWS_API_OTHER));
}

static uint32_t total_refs(struct shws_bo *bo)
{
	uint32_t n = 0;

	for (int api = 0; api < SHWS_API_COUNT; api++)
		n += shws_bo_api_refs(bo, (enum shws_api)api);
	return n;
}

static void meet_wait(void)
{
	int r = pthread_barrier_wait(&meet_barrier);

	CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
}

/*
 * How often the free-running rounds below hit either case depends on the
 * scheduling (on a loaded host the threads mostly run one after another).
 * A meet makes both happen by construction: every importer holds the bo at
 * once (each import after the first found it held by another thread), then
 * all let go, and importer 1 imports alone (the bo is dead: re-created).
 */
static void meet(unsigned idx, enum shws_api api)
{
	struct shws_bo *a;

	CHECK_OK(shws_bo_import_dmabuf(file, shared_fd, api, &a));
	meet_wait(); /* every importer holds it */
	CHECK_INT(total_refs(a), >=, IMPORTERS);
	atomic_fetch_add(&dedup_hits, 1);
	meet_wait(); /* every importer has counted */
	CHECK_OK(shws_bo_unref(a, api));
	meet_wait(); /* nobody holds it */
	if (idx == 1) {
		CHECK_OK(shws_bo_import_dmabuf(file, shared_fd, api, &a));
		CHECK_INT(total_refs(a), ==, 1);
		atomic_fetch_add(&fresh, 1);
		check_is_shared(a, true);
		CHECK_OK(shws_bo_unref(a, api));
	}
	meet_wait();
}

static void *importer(void *arg)
{
	enum shws_api api = (enum shws_api)((uintptr_t)arg % SHWS_API_COUNT);
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		struct shws_bo *a, *b = NULL;

		if (r % MEET_EVERY == 0)
			meet((unsigned)(uintptr_t)arg, api);

		CHECK_OK(shws_bo_import_dmabuf(file, shared_fd, api, &a));
		seed = seed * 1103515245u + 12345u;
		if (seed & 0x10000) { /* sometimes hold two at once */
			CHECK_OK(shws_bo_import_dmabuf(file, shared_fd, api,
						       &b));
			CHECK(a == b);
		}
		if (total_refs(a) > (b ? 2u : 1u)) /* another thread has it */
			atomic_fetch_add(&dedup_hits, 1);
		else if (!b && total_refs(a) == 1) /* it was dead: re-created */
			atomic_fetch_add(&fresh, 1);
		/* Exporting on every round would hold the bo most of the time
		 * and the last-unref/import race would rarely run. */
		if (r % INO_EVERY == 0)
			check_is_shared(a, r % MAP_EVERY == 0);
		else
			check_lookup(a);
		CHECK_OK(shws_bo_unref(b, api));
		CHECK_OK(shws_bo_unref(a, api));
	}
	atomic_fetch_sub(&importers_left, 1);
	return NULL;
}

struct created_bo {
	struct shws_bo *bo;
	uint32_t *map;
	uint32_t seed;
};

/* Checks a buffer this thread created still holds its own contents and
 * its handle still names it, then destroys it. */
static void retire(struct created_bo *c, bool through_dmabuf)
{
	struct shws_bo *again;

	again = shws_bo_lookup(file, shws_bo_handle(c->bo), SHWS_API_GL);
	CHECK(again == c->bo);
	CHECK(bo_matches(c->map, BO_SIZE, c->seed));
	if (through_dmabuf)
		CHECK(bo_shws_matches(again, c->seed));
	CHECK_OK(shws_bo_unref(again, SHWS_API_GL));
	munmap(c->map, BO_SIZE);
	CHECK_OK(shws_bo_unref(c->bo, SHWS_API_VULKAN));
	c->bo = NULL;
}

/* Keeps a few buffers of its own alive at a time, so handle numbers keep
 * moving under the importers. */
static void *creator(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg << 24;
	struct created_bo ring[4] = { { 0 } };
	unsigned i = 0;

	while (atomic_load(&importers_left) > 0) {
		struct created_bo *c = &ring[i++ % (sizeof(ring) / sizeof(ring[0]))];
		uint32_t h;

		if (c->bo)
			retire(c, i % 16 == 0);
		h = bo_dumb_create(card, BO_SIZE);
		c->map = bo_dumb_map(card, h, BO_SIZE);
		c->seed = ++seed;
		bo_fill(c->map, BO_SIZE, c->seed);
		CHECK_OK(shws_bo_adopt(file, shws_file_fd(file), h, BO_SIZE, SHWS_API_VULKAN,
				       &c->bo));
		atomic_fetch_add(&created, 1);
	}
	for (unsigned j = 0; j < (sizeof(ring) / sizeof(ring[0])); j++)
		if (ring[j].bo)
			retire(&ring[j], true);
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
	int fds = test_fd_count(), bufs = kt_dmabuf_count();
	pthread_t imp[IMPORTERS], cre[CREATORS];
	int exporter = kt_open_driver("vgem", KT_PRIMARY);
	double t0;

	kt_banner("bo-race");
	card = kt_open_driver("vgem", KT_PRIMARY);
	shared_fd = bo_make_dmabuf(exporter, SEED_X);
	shared_ino = bo_fd_ino(shared_fd);
	CHECK_OK(shws_file_open(card, 0, SHWS_API_GL, &file));

	CHECK_INT(pthread_barrier_init(&meet_barrier, NULL, IMPORTERS), ==, 0);
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
	pthread_barrier_destroy(&meet_barrier);
	printf("%d x %d imports (%lu while another thread held it, %lu after "
	       "it died), %lu buffers created, in %.1f s\n", IMPORTERS, ROUNDS,
	       atomic_load(&dedup_hits), atomic_load(&fresh),
	       atomic_load(&created), now() - t0);
	CHECK_INT(atomic_load(&created), >, 0);
	CHECK_INT(atomic_load(&fresh), >=, MIN_FRESH);
	CHECK_INT(atomic_load(&dedup_hits), >=, MIN_FRESH);
	CHECK_INT(shws_bo_dump(file, stdout), ==, 0);
	test_pass("import-close-race");

	shws_file_unref(file, SHWS_API_GL);
	close(shared_fd);
	close(card);
	close(exporter);
	CHECK_INT(test_fd_count(), ==, fds);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	test_pass("bufinfo-oracle");
	return 0;
}
