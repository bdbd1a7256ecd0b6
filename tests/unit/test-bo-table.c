/* SPDX-License-Identifier: MIT */
/*
 * The handle table without a kernel: layout, type stability, refcount
 * primitives, and a threaded stress test against a simulated kernel handle
 * namespace that behaves like GEM (PRIME import returns the existing handle,
 * freed numbers are reused at once, lowest first).
 */
#include <pthread.h>
#include <stdint.h>

#include "bo_table.h"
#include "util.h"
#include "test.h"

/* What the bo module keeps in a slot, reduced to what these tests need:
 * the table's header first, then per-api counts and a size. */
struct shws_bo {
	_Alignas(SHWS_BO_SLOT_SIZE) struct shws_slot s;
	_Atomic uint32_t tag_refs[SHWS_API_COUNT];
	uint64_t size;
};
#define SHWS_BO_TAGS SHWS_API_COUNT
_Static_assert(sizeof(struct shws_bo) == SHWS_BO_SLOT_SIZE, "one slot");

static struct shws_bo *bo_of(struct shws_slot *s)
{
	return (struct shws_bo *)s;
}

static struct shws_bo *tb_slot(struct shws_bo_table *t, uint32_t h)
{
	return bo_of(shws_bo_table_slot(t, h));
}

static struct shws_bo *tb_slot_alloc(struct shws_bo_table *t, uint32_t h)
{
	return bo_of(shws_bo_table_slot_alloc(t, h));
}

static struct shws_bo *tb_lookup(struct shws_bo_table *t, uint32_t h)
{
	return bo_of(shws_bo_table_lookup(t, h));
}

static bool shws_bo_try_ref(struct shws_bo *bo) { return shws_slot_try_ref(&bo->s); }
static void shws_bo_publish(struct shws_bo *bo) { shws_slot_publish(&bo->s); }
static bool shws_bo_put_unless_last(struct shws_bo *bo) { return shws_slot_put_unless_last(&bo->s); }
static uint32_t shws_bo_put(struct shws_bo *bo) { return shws_slot_put(&bo->s); }

static void shws_bo_tag_get(struct shws_bo *bo, unsigned tag)
{
	atomic_fetch_add(&bo->tag_refs[tag], 1);
}

static bool shws_bo_tag_put(struct shws_bo *bo, unsigned tag)
{
	uint32_t v = atomic_load(&bo->tag_refs[tag]);

	do {
		if (!v)
			return false;
	} while (!atomic_compare_exchange_weak(&bo->tag_refs[tag], &v, v - 1));
	return true;
}

static void test_layout(void)
{
	static const uint32_t handles[] = {
		0, 1, 63, 64, 65, 127, 128, 255, 256, 4095, 4096, 100000,
		SHWS_BO_TABLE_HANDLE_MAX,
	};
	struct shws_bo_table t;
	struct shws_bo *first[SHWS_ARRAY_SIZE(handles)];

	shws_bo_table_init(&t);
	for (unsigned i = 0; i < SHWS_ARRAY_SIZE(handles); i++)
		CHECK(!tb_slot(&t, handles[i]));
	for (unsigned i = 0; i < SHWS_ARRAY_SIZE(handles); i++) {
		CHECK(!tb_lookup(&t, handles[i]));
		first[i] = tb_slot_alloc(&t, handles[i]);
		CHECK(first[i]);
		CHECK_INT(first[i]->s.handle, ==, handles[i]);
		CHECK_INT(first[i]->s.refcnt, ==, 0);
	}
	/* Type-stable: the same slot every time, after any other growth. */
	for (unsigned i = 0; i < SHWS_ARRAY_SIZE(handles); i++) {
		CHECK(tb_slot(&t, handles[i]) == first[i]);
		CHECK(tb_slot_alloc(&t, handles[i]) == first[i]);
	}
	/* Neighbours across a bucket boundary are distinct slots. */
	CHECK(tb_slot(&t, 63) != tb_slot(&t, 64));
	CHECK(tb_slot(&t, 64) + 1 == tb_slot(&t, 65));
	/* Every handle of the first seven buckets maps to its own slot. */
	for (uint32_t h = 0; h < 4096; h++) {
		struct shws_bo *bo = tb_slot_alloc(&t, h);

		CHECK(bo && bo->s.handle == h && tb_slot(&t, h) == bo);
	}
	/* Above the limit: no slot, and no attempt to allocate one (a bogus
	 * handle must not size the table). */
	CHECK(!tb_slot(&t, UINT32_MAX));
	CHECK(!tb_slot(&t, 1u << 31));
	CHECK(!tb_slot_alloc(&t, SHWS_BO_TABLE_HANDLE_MAX + 1));
	CHECK(!tb_slot_alloc(&t, UINT32_MAX));
	CHECK(!tb_lookup(&t, UINT32_MAX));
	CHECK_INT(shws_bo_table_foreach(&t, NULL, NULL), ==, 0);
	shws_bo_table_fini(&t);
	test_pass("layout");
}

static void test_refcount(void)
{
	struct shws_bo_table t;
	struct shws_bo *bo;

	shws_bo_table_init(&t);
	bo = tb_slot_alloc(&t, 5);
	CHECK(!shws_bo_try_ref(bo));
	bo->size = 4096;
	shws_bo_publish(bo);
	CHECK(tb_lookup(&t, 5) == bo);
	CHECK_INT(bo->s.refcnt, ==, 2);
	CHECK(!tb_lookup(&t, 6));
	CHECK(shws_bo_put_unless_last(bo));
	CHECK(!shws_bo_put_unless_last(bo)); /* the last one needs the lock */
	CHECK_INT(bo->s.refcnt, ==, 1);
	CHECK_INT(shws_bo_table_foreach(&t, NULL, NULL), ==, 1);
	CHECK_INT(shws_bo_put(bo), ==, 0);
	CHECK(!tb_lookup(&t, 5));
	CHECK(!shws_bo_try_ref(bo));

	shws_bo_tag_get(bo, SHWS_API_GL);
	CHECK(shws_bo_tag_put(bo, SHWS_API_GL));
	CHECK(!shws_bo_tag_put(bo, SHWS_API_GL)); /* double unref caught */
	CHECK(!shws_bo_tag_put(bo, SHWS_API_VA));
	CHECK_INT(bo->tag_refs[SHWS_API_GL], ==, 0);
	shws_bo_table_fini(&t);
	test_pass("refcount");
}

/* --- Concurrent bucket allocation ----------------------------------- */

static struct shws_bo_table race_table;
static pthread_barrier_t race_barrier;

static void *alloc_thread(void *arg)
{
	uint32_t h = (uint32_t)(uintptr_t)arg;

	pthread_barrier_wait(&race_barrier);
	return tb_slot_alloc(&race_table, h);
}

static void test_alloc_race(void)
{
	enum { N = 8 };
	pthread_t th[N];
	void *res[N];

	for (int round = 0; round < 50; round++) {
		uint32_t h = 64u << (round % 12);

		shws_bo_table_init(&race_table);
		pthread_barrier_init(&race_barrier, NULL, N);
		for (int i = 0; i < N; i++)
			CHECK_INT(pthread_create(&th[i], NULL, alloc_thread,
						 (void *)(uintptr_t)(h + i)),
				  ==, 0);
		for (int i = 0; i < N; i++)
			pthread_join(th[i], &res[i]);
		for (int i = 0; i < N; i++) {
			CHECK(res[i]);
			CHECK(res[i] == tb_slot(&race_table, h + i));
			CHECK(res[i] == (struct shws_bo *)res[0] + i);
		}
		pthread_barrier_destroy(&race_barrier);
		shws_bo_table_fini(&race_table);
	}
	test_pass("bucket-alloc-race");
}

/* --- Stress against a simulated GEM namespace ------------------------ */

#define MAX_HANDLES 1024
#define SHARED_OBJS 6  /* "dma-bufs" several threads import */
#define IMPORTERS 4
#define CREATORS 2
#define LOOKERS 2
#define ROUNDS 40000

struct sim {
	pthread_mutex_t lock; /* the file's lock */
	struct shws_bo_table table;
	/* The kernel: object id behind each handle (0 = free), and the handle
	 * of each shared object in this file (0 = none). */
	_Atomic uint64_t kobj[MAX_HANDLES];
	uint32_t shared_handle[SHARED_OBJS + 1];
	_Atomic uint64_t next_id;
	_Atomic uint64_t lookups_hit, closes, imports_dedup;
};

static struct sim sim;

static uint32_t kernel_new_handle(uint64_t id)
{
	for (uint32_t h = 1; h < MAX_HANDLES; h++) {
		if (!atomic_load(&sim.kobj[h])) {
			atomic_store(&sim.kobj[h], id);
			return h;
		}
	}
	test_fail("simulated kernel out of handles");
}

static void kernel_close(uint32_t h)
{
	uint64_t id = atomic_load(&sim.kobj[h]);

	CHECK(id); /* GEM_CLOSE of a dead handle: EINVAL in the kernel */
	if (id <= SHARED_OBJS)
		sim.shared_handle[id] = 0;
	atomic_store(&sim.kobj[h], 0);
	atomic_fetch_add(&sim.closes, 1);
}

/* Under the lock: the bo of a handle the kernel just returned. */
static struct shws_bo *sim_insert_locked(uint32_t h, uint64_t id,
					 unsigned tag)
{
	struct shws_bo *bo = tb_slot_alloc(&sim.table, h);

	CHECK(bo);
	if (shws_bo_try_ref(bo)) {
		atomic_fetch_add(&sim.imports_dedup, 1);
		CHECK_INT(bo->size, ==, id);
	} else {
		bo->size = id;
		shws_bo_publish(bo);
	}
	shws_bo_tag_get(bo, tag);
	return bo;
}

static struct shws_bo *sim_import(uint64_t id, unsigned tag)
{
	struct shws_bo *bo;
	uint32_t h;

	pthread_mutex_lock(&sim.lock);
	h = sim.shared_handle[id];
	if (!h) /* PRIME: existing handle if the file has one */
		h = sim.shared_handle[id] = kernel_new_handle(id);
	bo = sim_insert_locked(h, id, tag);
	pthread_mutex_unlock(&sim.lock);
	return bo;
}

static struct shws_bo *sim_create(unsigned tag)
{
	uint64_t id = atomic_fetch_add(&sim.next_id, 1);
	struct shws_bo *bo;
	uint32_t h;

	pthread_mutex_lock(&sim.lock);
	h = kernel_new_handle(id);
	/* A fresh handle must not be live in the table. */
	CHECK(!tb_lookup(&sim.table, h));
	bo = sim_insert_locked(h, id, tag);
	pthread_mutex_unlock(&sim.lock);
	return bo;
}

static void sim_unref(struct shws_bo *bo, unsigned tag)
{
	CHECK(shws_bo_tag_put(bo, tag));
	if (shws_bo_put_unless_last(bo))
		return;
	pthread_mutex_lock(&sim.lock);
	if (shws_bo_put(bo) == 0)
		kernel_close(bo->s.handle); /* under the lock, never after */
	pthread_mutex_unlock(&sim.lock);
}

/* While we hold a reference, the kernel handle must be open and name the
 * object the bo says. */
static void check_held(struct shws_bo *bo)
{
	CHECK_INT(atomic_load(&bo->s.refcnt), >, 0);
	CHECK_INT(atomic_load(&sim.kobj[bo->s.handle]), ==, bo->size);
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static void *importer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg, tag = seed % SHWS_API_COUNT;
	struct shws_bo *held[4];

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t id = 1 + rnd(&seed) % SHARED_OBJS;
		unsigned n = 1 + rnd(&seed) % 4;

		for (unsigned i = 0; i < n; i++) {
			held[i] = sim_import(id, tag);
			check_held(held[i]);
			CHECK_INT(held[i]->size, ==, id);
		}
		for (unsigned i = 0; i < n; i++) {
			check_held(held[i]);
			sim_unref(held[i], tag);
		}
	}
	return NULL;
}

static void *creator(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		struct shws_bo *bo = sim_create(SHWS_API_VULKAN);

		check_held(bo);
		if (rnd(&seed) & 1) { /* a second API takes it by handle */
			struct shws_bo *again =
				tb_lookup(&sim.table, bo->s.handle);

			CHECK(again == bo);
			shws_bo_tag_get(again, SHWS_API_VA);
			sim_unref(bo, SHWS_API_VULKAN);
			check_held(again);
			sim_unref(again, SHWS_API_VA);
		} else {
			sim_unref(bo, SHWS_API_VULKAN);
		}
	}
	return NULL;
}

static _Atomic int stop_lookers;

static void *looker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	while (!atomic_load(&stop_lookers)) {
		uint32_t h = 1 + rnd(&seed) % 16;
		struct shws_bo *bo = tb_lookup(&sim.table, h);

		if (!bo)
			continue;
		shws_bo_tag_get(bo, SHWS_API_GL);
		CHECK_INT(bo->s.handle, ==, h);
		check_held(bo);
		atomic_fetch_add(&sim.lookups_hit, 1);
		sim_unref(bo, SHWS_API_GL);
	}
	return NULL;
}

static void count_tags(struct shws_slot *slot, void *data)
{
	(void)slot;
	(*(unsigned *)data)++;
}

static void test_stress(void)
{
	pthread_t imp[IMPORTERS], cre[CREATORS], look[LOOKERS];
	unsigned leftover = 0;

	pthread_mutex_init(&sim.lock, NULL);
	shws_bo_table_init(&sim.table);
	atomic_store(&sim.next_id, SHARED_OBJS + 1);
	for (uintptr_t i = 0; i < LOOKERS; i++)
		pthread_create(&look[i], NULL, looker, (void *)(i + 77));
	for (uintptr_t i = 0; i < IMPORTERS; i++)
		pthread_create(&imp[i], NULL, importer, (void *)(i + 1));
	for (uintptr_t i = 0; i < CREATORS; i++)
		pthread_create(&cre[i], NULL, creator, (void *)(i + 31));
	for (int i = 0; i < IMPORTERS; i++)
		pthread_join(imp[i], NULL);
	for (int i = 0; i < CREATORS; i++)
		pthread_join(cre[i], NULL);
	atomic_store(&stop_lookers, 1);
	for (int i = 0; i < LOOKERS; i++)
		pthread_join(look[i], NULL);

	/* Nothing live, nothing open in the "kernel". */
	CHECK_INT(shws_bo_table_foreach(&sim.table, count_tags, &leftover),
		  ==, 0);
	CHECK_INT(leftover, ==, 0);
	for (int h = 0; h < MAX_HANDLES; h++)
		CHECK_INT(atomic_load(&sim.kobj[h]), ==, 0);
	for (int h = 0; h < 64; h++) {
		struct shws_bo *bo = tb_slot(&sim.table, h);

		for (int t = 0; bo && t < SHWS_BO_TAGS; t++)
			CHECK_INT(bo->tag_refs[t], ==, 0);
	}
	/* The races we wanted did happen. */
	CHECK_INT(atomic_load(&sim.imports_dedup), >, 0);
	CHECK_INT(atomic_load(&sim.closes), >, 0);
	printf("stress: %llu closes, %llu dedup imports, %llu lookup hits\n",
	       (unsigned long long)sim.closes,
	       (unsigned long long)sim.imports_dedup,
	       (unsigned long long)sim.lookups_hit);
	shws_bo_table_fini(&sim.table);
	pthread_mutex_destroy(&sim.lock);
	test_pass("stress");
}

int main(void)
{
	test_layout();
	test_refcount();
	test_alloc_race();
	test_stress();
	return 0;
}
