/* SPDX-License-Identifier: MIT */
/* Type-stable, lock-free-readable GEM handle table. See bo_table.h. */
#include <stdlib.h>

#include "bo_table.h"

#define MIN_SLOTS (1u << SHWS_BO_TABLE_MIN_SHIFT)

/* Bucket index and offset of @handle; returns the bucket's slot count.
 * Branch-free on purpose: lookups come in a data-dependent order, and a
 * mispredicted "handle < MIN_SLOTS" stalls the next lookup's cache miss
 * behind this one's (measured: twice the 2-thread lookup cost,
 * docs/performance.md). */
static uint32_t locate(uint32_t handle, unsigned *bucket, uint32_t *offset)
{
	/* Handles below MIN_SLOTS share bucket 0: their msb reads as
	 * MIN_SHIFT - 1 and their base as 0. */
	unsigned msb = 31 - (unsigned)__builtin_clz(handle | (MIN_SLOTS - 1));
	uint32_t base = (1u << msb) & ~(MIN_SLOTS - 1);

	*bucket = msb - SHWS_BO_TABLE_MIN_SHIFT + 1;
	*offset = handle - base;
	return base ? base : MIN_SLOTS;
}

void shws_bo_table_init(struct shws_bo_table *table)
{
	for (unsigned i = 0; i < SHWS_BO_TABLE_BUCKETS; i++)
		atomic_init(&table->bucket[i], NULL);
}

void shws_bo_table_fini(struct shws_bo_table *table)
{
	for (unsigned i = 0; i < SHWS_BO_TABLE_BUCKETS; i++) {
		free(atomic_load(&table->bucket[i]));
		atomic_store(&table->bucket[i], NULL);
	}
}

struct shws_bo *shws_bo_table_slot(struct shws_bo_table *table,
				   uint32_t handle)
{
	struct shws_bo *b;
	unsigned k;
	uint32_t off;

	locate(handle, &k, &off);
	b = atomic_load_explicit(&table->bucket[k], memory_order_acquire);
	return b ? &b[off] : NULL;
}

/* A zeroed bucket whose slots know their handles. */
static struct shws_bo *bucket_new(unsigned k, uint32_t n)
{
	uint32_t first = k ? n : 0; /* bucket k >= 1 starts at its size */
	struct shws_bo *b = calloc(n, sizeof(*b));

	if (!b)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		b[i].handle = first + i;
	return b;
}

struct shws_bo *shws_bo_table_slot_alloc(struct shws_bo_table *table,
					 uint32_t handle)
{
	struct shws_bo *b, *expected = NULL;
	unsigned k;
	uint32_t off, n = locate(handle, &k, &off);

	b = atomic_load_explicit(&table->bucket[k], memory_order_acquire);
	if (b)
		return &b[off];
	b = bucket_new(k, n);
	if (!b)
		return NULL;
	/* Release: a reader that finds the bucket sees the handle fields. */
	if (!atomic_compare_exchange_strong_explicit(&table->bucket[k],
						     &expected, b,
						     memory_order_acq_rel,
						     memory_order_acquire)) {
		free(b); /* another thread installed it first */
		b = expected;
	}
	return &b[off];
}

bool shws_bo_try_ref(struct shws_bo *bo)
{
	uint32_t v = atomic_load_explicit(&bo->refcnt, memory_order_relaxed);

	do {
		if (v == 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&bo->refcnt, &v, v + 1,
							memory_order_acquire,
							memory_order_relaxed));
	return true;
}

struct shws_bo *shws_bo_table_lookup(struct shws_bo_table *table,
				     uint32_t handle)
{
	struct shws_bo *bo = shws_bo_table_slot(table, handle);

	if (!bo || !shws_bo_try_ref(bo))
		return NULL;
	/* The re-check "the slot still holds that handle" holds by
	 * construction: the bo is inline and its handle never changes. If the
	 * handle died and was re-imported between our load and the increment,
	 * we hold the new incarnation, which is what @handle names now. */
	return bo;
}

void shws_bo_publish(struct shws_bo *bo)
{
	atomic_store_explicit(&bo->refcnt, 1, memory_order_release);
}

bool shws_bo_put_unless_last(struct shws_bo *bo)
{
	uint32_t v = atomic_load_explicit(&bo->refcnt, memory_order_relaxed);

	do {
		if (v <= 1)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&bo->refcnt, &v, v - 1,
							memory_order_release,
							memory_order_relaxed));
	return true;
}

uint32_t shws_bo_put(struct shws_bo *bo)
{
	/* acq_rel: the thread that reaches 0 sees every holder's writes. */
	return atomic_fetch_sub_explicit(&bo->refcnt, 1,
					 memory_order_acq_rel) - 1;
}

void shws_bo_tag_get(struct shws_bo *bo, unsigned tag)
{
	atomic_fetch_add_explicit(&bo->tag_refs[tag], 1, memory_order_relaxed);
}

bool shws_bo_tag_put(struct shws_bo *bo, unsigned tag)
{
	uint32_t v = atomic_load_explicit(&bo->tag_refs[tag],
					  memory_order_relaxed);

	do {
		if (v == 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&bo->tag_refs[tag], &v,
							v - 1,
							memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

unsigned shws_bo_table_foreach(struct shws_bo_table *table,
			       void (*fn)(struct shws_bo *bo, void *data),
			       void *data)
{
	unsigned live = 0;

	for (unsigned k = 0; k < SHWS_BO_TABLE_BUCKETS; k++) {
		struct shws_bo *b = atomic_load_explicit(&table->bucket[k],
							 memory_order_acquire);
		uint32_t n = k ? 1u << (k + SHWS_BO_TABLE_MIN_SHIFT - 1)
			       : 1u << SHWS_BO_TABLE_MIN_SHIFT;

		for (uint32_t i = 0; b && i < n; i++) {
			if (!atomic_load_explicit(&b[i].refcnt,
						  memory_order_acquire))
				continue;
			live++;
			if (fn)
				fn(&b[i], data);
		}
	}
	return live;
}
