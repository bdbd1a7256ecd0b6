/* SPDX-License-Identifier: MIT */
/* Type-stable, lock-free-readable GEM handle table. See bo_table.h. */
#include <stdlib.h>
#include <string.h>

#include "bo_table.h"

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

/* A zeroed bucket whose slots know their handles. */
static struct shws_bo *bucket_new(unsigned k, uint32_t n)
{
	uint32_t first = k ? n : 0; /* bucket k >= 1 starts at its size */
	struct shws_bo *b;

	/* n * 64 bytes: a multiple of the alignment, as C11 requires. */
	b = aligned_alloc(SHWS_BO_SLOT_SIZE, (size_t)n * sizeof(*b));
	if (!b)
		return NULL;
	memset(b, 0, (size_t)n * sizeof(*b));
	for (uint32_t i = 0; i < n; i++)
		b[i].handle = first + i;
	return b;
}

struct shws_bo *shws_bo_table_slot_alloc(struct shws_bo_table *table,
					 uint32_t handle)
{
	struct shws_bo *b, *expected = NULL;
	unsigned k;
	uint32_t off, n = shws_bo_table_locate(handle, &k, &off);

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
