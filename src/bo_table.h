/* SPDX-License-Identifier: MIT */
/*
 * The per-file GEM handle table: type-stable storage for struct shws_bo,
 * indexed by GEM handle, with lock-free lookup.
 *
 * Layout: a fixed array of buckets; bucket 0 holds handles [0, 64), bucket
 * k >= 1 holds [64 << (k-1), 64 << k). Buckets are allocated on first use
 * and never move or get freed while the table lives, so a struct shws_bo
 * pointer taken from the table stays readable memory until
 * shws_bo_table_fini(), whatever happens to the handle. The kernel hands
 * out the lowest free handle from 1 (KERNEL-FACTS.md), so the table stays
 * dense and at most twice the size of the highest live handle.
 *
 * The bo lives *inline* in its slot: the slot for handle h is the bo of
 * handle h, and its handle field is written once, when the bucket is
 * allocated. A slot is "live" while its refcount is non-zero.
 *
 * Concurrency contract (the caller is bo.c; the "lock" is the file's):
 *  - shws_bo_table_lookup() and shws_bo_try_ref() take no lock and make no
 *    syscall; they may run concurrently with anything but _fini().
 *  - A slot goes 0 -> 1 only through shws_bo_publish() and 1 -> 0 only
 *    through shws_bo_put(), both under the lock; fields other than the
 *    counts are written while the refcount is 0 (unreachable), or under
 *    the lock.
 *  - shws_bo_put_unless_last() needs no lock: it never drops the last
 *    reference.
 */
#ifndef SHWS_BO_TABLE_H
#define SHWS_BO_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <shws/api.h>

struct shws_file;
struct shws_bo_xlat;

/* Reference tags: one per enum shws_api, plus references shws holds
 * itself (a translated bo is held by the bo it was translated from). */
#define SHWS_BO_TAG_SHWS SHWS_API_COUNT
#define SHWS_BO_TAGS (SHWS_API_COUNT + 1)

#define SHWS_BO_TABLE_MIN_SHIFT 6
#define SHWS_BO_TABLE_BUCKETS (32 - SHWS_BO_TABLE_MIN_SHIFT + 1)

/* One cache line per bo: the slots of a bucket are 64-byte aligned, so a
 * lookup touches one line and neighbours never share one. (The 2-thread
 * lookup did not get measurably faster; memory per bo went from 72 to 64
 * bytes: docs/performance.md, P5.) */
#define SHWS_BO_SLOT_SIZE 64

struct shws_bo {
	/* Total references; 0 = slot free. */
	_Alignas(SHWS_BO_SLOT_SIZE) _Atomic uint32_t refcnt;
	/* References per tag, for attribution and double-unref detection.
	 * Their sum equals refcnt except transiently. */
	_Atomic uint32_t tag_refs[SHWS_BO_TAGS];
	/* Written once when the bucket is allocated. */
	uint32_t handle;

	/* Under the file's lock: the flink name, and the next handle on its
	 * name chain (0 ends it; bo.c). */
	uint32_t flink_name;
	uint32_t name_next;

	/* Written while unreachable (refcnt 0), read by reference holders. */
	struct shws_file *file;
	uint64_t size;

	/* Under bo.c's translation lock. */
	struct shws_bo_xlat *xlat;
};

_Static_assert(sizeof(struct shws_bo) == SHWS_BO_SLOT_SIZE,
	       "struct shws_bo must fill exactly one cache line");

struct shws_bo_table {
	_Atomic(struct shws_bo *) bucket[SHWS_BO_TABLE_BUCKETS];
};

void shws_bo_table_init(struct shws_bo_table *table);

/* Frees the buckets. Every bo must be dead: the caller checks with
 * shws_bo_table_count_live() first (a live bo here is a bug). */
void shws_bo_table_fini(struct shws_bo_table *table);

/* Like shws_bo_table_slot() but allocates the bucket; NULL only on
 * ENOMEM. Safe to call concurrently (buckets are installed with
 * compare-and-swap). */
struct shws_bo *shws_bo_table_slot_alloc(struct shws_bo_table *table,
					 uint32_t handle);

/* Calls @fn on every live bo (racy without the lock; used for dumps and
 * leak checks). Returns the number of live bos. */
unsigned shws_bo_table_foreach(struct shws_bo_table *table,
			       void (*fn)(struct shws_bo *bo, void *data),
			       void *data);

/*
 * The hot path, inline: every lookup, import hit and unref goes through
 * these, and a call per helper costs more than the helper (measured under
 * TCG, where each return is an indirect jump: docs/performance.md, P2).
 */

#define SHWS_BO_TABLE_MIN_SLOTS (1u << SHWS_BO_TABLE_MIN_SHIFT)

/* Bucket index and offset of @handle; returns the bucket's slot count.
 * Branch-free on purpose: lookups come in a data-dependent order, and a
 * mispredicted "handle < MIN_SLOTS" stalls the next lookup's cache miss
 * behind this one's (measured: twice the 2-thread lookup cost, P1). */
static inline uint32_t shws_bo_table_locate(uint32_t handle, unsigned *bucket,
					    uint32_t *offset)
{
	/* Handles below MIN_SLOTS share bucket 0: their msb reads as
	 * MIN_SHIFT - 1 and their base as 0. */
	unsigned msb = 31 - (unsigned)__builtin_clz(
				    handle | (SHWS_BO_TABLE_MIN_SLOTS - 1));
	uint32_t base = (1u << msb) & ~(SHWS_BO_TABLE_MIN_SLOTS - 1);

	*bucket = msb - SHWS_BO_TABLE_MIN_SHIFT + 1;
	*offset = handle - base;
	return base ? base : SHWS_BO_TABLE_MIN_SLOTS;
}

/* The slot of @handle, or NULL if its bucket does not exist yet (then no
 * bo for @handle was ever live). Lock-free, no syscall. */
static inline struct shws_bo *shws_bo_table_slot(struct shws_bo_table *table,
						 uint32_t handle)
{
	struct shws_bo *b;
	unsigned k;
	uint32_t off;

	shws_bo_table_locate(handle, &k, &off);
	b = atomic_load_explicit(&table->bucket[k], memory_order_acquire);
	return b ? &b[off] : NULL;
}

/* Increment-unless-zero. true = the caller now holds a reference. */
static inline bool shws_bo_try_ref(struct shws_bo *bo)
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

/* A new reference on the live bo of @handle, or NULL. Lock-free, no
 * syscall: increment-unless-zero on type-stable storage. The re-check
 * "the slot still holds that handle" holds by construction: the bo is
 * inline and its handle never changes. If the handle died and was
 * re-imported between the load and the increment, the caller holds the
 * new incarnation, which is what @handle names now. */
static inline struct shws_bo *shws_bo_table_lookup(struct shws_bo_table *table,
						   uint32_t handle)
{
	struct shws_bo *bo = shws_bo_table_slot(table, handle);

	return bo && shws_bo_try_ref(bo) ? bo : NULL;
}

/* Makes a free slot live with one reference, after its fields are set.
 * The release store pairs with try_ref's acquire, so a lock-free reader
 * that wins a reference sees the fields written before. */
static inline void shws_bo_publish(struct shws_bo *bo)
{
	atomic_store_explicit(&bo->refcnt, 1, memory_order_release);
}

/* Drops a reference unless it is the last one. Lock-free. */
static inline bool shws_bo_put_unless_last(struct shws_bo *bo)
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

/* Drops a reference; returns the count left. Under the lock when it may
 * be the last (0 = the caller must retire the slot before unlocking).
 * acq_rel: the thread that reaches 0 sees every holder's writes. */
static inline uint32_t shws_bo_put(struct shws_bo *bo)
{
	return atomic_fetch_sub_explicit(&bo->refcnt, 1,
					 memory_order_acq_rel) - 1;
}

/* Per-tag counts. _tag_put() refuses to go below zero (returns false):
 * that is a double unref by that tag's owner. */
static inline void shws_bo_tag_get(struct shws_bo *bo, unsigned tag)
{
	atomic_fetch_add_explicit(&bo->tag_refs[tag], 1, memory_order_relaxed);
}

static inline bool shws_bo_tag_put(struct shws_bo *bo, unsigned tag)
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

#endif
