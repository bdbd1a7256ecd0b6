/* SPDX-License-Identifier: MIT */
/* Type-stable, lock-free-readable GEM handle table. See bo_table.h. */
#include <stdlib.h>
#include <string.h>

#include "bo_table.h"

_Static_assert(sizeof(struct shws_slot) <= SHWS_BO_SLOT_SIZE,
	       "the table's part fits in a slot");

void shws_bo_table_init(struct shws_bo_table *table)
{
	for (unsigned i = 0; i < SHWS_BO_TABLE_BUCKETS; i++)
		atomic_init(&table->bucket[i], NULL);
	memset(table->names, 0, sizeof(table->names));
}

void shws_bo_table_fini(struct shws_bo_table *table)
{
	for (unsigned i = 0; i < SHWS_BO_TABLE_BUCKETS; i++) {
		free(atomic_load(&table->bucket[i]));
		atomic_store(&table->bucket[i], NULL);
	}
}

static struct shws_slot *slot_at(struct shws_slot *bucket, uint32_t i)
{
	return (struct shws_slot *)((char *)bucket + i * SHWS_BO_SLOT_SIZE);
}

/* A zeroed bucket of @n slots whose headers know their handles. */
static struct shws_slot *bucket_new(unsigned k, uint32_t n)
{
	uint32_t first = k ? n : 0; /* bucket k >= 1 starts at its size */
	struct shws_slot *b;

	/* n * 64 bytes: a multiple of the alignment, as C11 requires. */
	b = aligned_alloc(SHWS_BO_SLOT_SIZE, (size_t)n * SHWS_BO_SLOT_SIZE);
	if (!b)
		return NULL;
	memset(b, 0, (size_t)n * SHWS_BO_SLOT_SIZE);
	for (uint32_t i = 0; i < n; i++)
		slot_at(b, i)->handle = first + i;
	return b;
}

struct shws_slot *shws_bo_table_slot_alloc(struct shws_bo_table *table,
					   uint32_t handle)
{
	struct shws_slot *b, *expected = NULL;
	unsigned k;
	uint32_t off, n;

	if (handle > SHWS_BO_TABLE_HANDLE_MAX)
		return NULL;
	n = shws_bo_table_locate(handle, &k, &off);
	b = atomic_load_explicit(&table->bucket[k], memory_order_acquire);
	if (b)
		return slot_at(b, off);
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
	return slot_at(b, off);
}

unsigned shws_bo_table_foreach(struct shws_bo_table *table,
			       void (*fn)(struct shws_slot *slot, void *data),
			       void *data)
{
	unsigned live = 0;

	for (unsigned k = 0; k < SHWS_BO_TABLE_BUCKETS; k++) {
		struct shws_slot *b = atomic_load_explicit(
			&table->bucket[k], memory_order_acquire);
		uint32_t n = k ? 1u << (k + SHWS_BO_TABLE_MIN_SHIFT - 1)
			       : SHWS_BO_TABLE_MIN_SLOTS;

		for (uint32_t i = 0; b && i < n; i++) {
			if (!shws_slot_live(slot_at(b, i)))
				continue;
			live++;
			if (fn)
				fn(slot_at(b, i), data);
		}
	}
	return live;
}

static uint32_t *name_chain(struct shws_bo_table *table, uint32_t name)
{
	return &table->names[name % SHWS_BO_TABLE_NAME_BUCKETS];
}

/* The slot of a chained handle (0: none). Chained handles are live. */
static struct shws_slot *name_slot(struct shws_bo_table *table,
				   uint32_t handle)
{
	return handle ? shws_bo_table_slot(table, handle) : NULL;
}

struct shws_slot *shws_bo_table_name_find(struct shws_bo_table *table,
					  uint32_t name)
{
	struct shws_slot *s = name_slot(table, *name_chain(table, name));

	while (s && s->name != name)
		s = name_slot(table, s->name_next);
	return s;
}

void shws_bo_table_name_set(struct shws_bo_table *table,
			    struct shws_slot *slot, uint32_t name)
{
	uint32_t *chain = name_chain(table, name);

	slot->name = name;
	if (shws_bo_table_name_find(table, name))
		return;
	slot->name_next = *chain;
	*chain = slot->handle;
}

void shws_bo_table_name_clear(struct shws_bo_table *table,
			      struct shws_slot *slot)
{
	uint32_t *p = name_chain(table, slot->name);

	if (!slot->name)
		return;
	while (*p && *p != slot->handle)
		p = &name_slot(table, *p)->name_next;
	if (*p)
		*p = slot->name_next;
	slot->name_next = 0;
	slot->name = 0;
}
