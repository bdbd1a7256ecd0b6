/* SPDX-License-Identifier: MIT */
/*
 * The per-file GEM handle table: a leaf container of type-stable 64-byte
 * slots indexed by GEM handle, with lock-free lookup, and a name index
 * (flink name -> handle) beside it. It knows nothing of files or bos: the
 * bo module puts a struct shws_slot at the start of each struct shws_bo
 * and keeps its own fields in the rest of the slot.
 *
 * Layout: a fixed array of buckets; bucket 0 holds handles [0, 64), bucket
 * k >= 1 holds [64 << (k-1), 64 << k). Buckets are allocated on first use
 * and never move or get freed while the table lives, so a slot pointer
 * taken from the table stays readable memory until shws_bo_table_fini(),
 * whatever happens to the handle. The kernel hands out the lowest free
 * handle from 1 (tests/kernel/test-bo-classic.c shows it), so the table
 * stays dense: at most twice the size of the highest live handle. Handles
 * above SHWS_BO_TABLE_HANDLE_MAX are refused, so no bogus handle can make the
 * table allocate more than 64 MiB at once.
 *
 * A slot is "live" while its refcount is non-zero; its handle field is
 * written once, when the bucket is allocated.
 *
 * Concurrency contract (the caller's lock is the file's):
 *  - shws_bo_table_slot(), _lookup() and shws_slot_try_ref() take no lock
 *    and make no syscall; they may run concurrently with anything but
 *    _fini().
 *  - A slot goes 0 -> 1 only through shws_slot_publish() and 1 -> 0 only
 *    through shws_slot_put(), both under the lock; the rest of the slot is
 *    written while the refcount is 0 (unreachable), or under the lock.
 *  - shws_slot_put_unless_last() needs no lock: it never drops the last
 *    reference.
 *  - The name index is used under the lock only.
 */
#ifndef SHWS_BO_TABLE_H
#define SHWS_BO_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SHWS_BO_TABLE_MIN_SHIFT 6
/* 2^20 - 1: the kernel's handles are dense from 1, so a real file reaches
 * this only with a million live buffers. */
#define SHWS_BO_TABLE_HANDLE_MAX ((1u << 20) - 1)
#define SHWS_BO_TABLE_BUCKETS (20 - SHWS_BO_TABLE_MIN_SHIFT + 1)
#define SHWS_BO_TABLE_NAME_BUCKETS 64

/* One cache line per slot: a lookup touches one line and neighbours never
 * share one (docs/performance.md, P5). */
#define SHWS_BO_SLOT_SIZE 64

/* The table's part of a slot; the user's data follows it. Slots are
 * SHWS_BO_SLOT_SIZE apart and aligned to it (the user's struct says
 * _Alignas(SHWS_BO_SLOT_SIZE) and fills exactly one slot). */
struct shws_slot {
	/* Total references; 0 = slot free. */
	_Atomic uint32_t refcnt;
	/* Written once when the bucket is allocated. */
	uint32_t handle;
	/* Under the lock: the flink name (0: none) and the next handle on
	 * its name chain (0 ends it). */
	uint32_t name;
	uint32_t name_next;
};

struct shws_bo_table {
	_Atomic(struct shws_slot *) bucket[SHWS_BO_TABLE_BUCKETS];
	/* flink name -> chain of handles through slot->name_next. */
	uint32_t names[SHWS_BO_TABLE_NAME_BUCKETS];
};

void shws_bo_table_init(struct shws_bo_table *table);

/* Frees the buckets. Every slot must be free (a live one here is the
 * caller's bug; shws_bo_table_foreach() can check). */
void shws_bo_table_fini(struct shws_bo_table *table);

/* Like shws_bo_table_slot() but allocates the bucket. NULL on ENOMEM, or
 * if @handle is above SHWS_BO_TABLE_HANDLE_MAX. Safe to call concurrently
 * (buckets are installed with compare-and-swap). */
struct shws_slot *shws_bo_table_slot_alloc(struct shws_bo_table *table,
					   uint32_t handle);

/* Calls @fn on every live slot (racy without the lock; used for dumps and
 * leak checks). Returns the number of live slots. */
unsigned shws_bo_table_foreach(struct shws_bo_table *table,
			       void (*fn)(struct shws_slot *slot, void *data),
			       void *data);

/* Under the lock: the live slot that stands for flink @name, or NULL. */
struct shws_slot *shws_bo_table_name_find(struct shws_bo_table *table,
					  uint32_t name);

/* Under the lock: records @name on @slot, and in the index unless another
 * slot already stands for it (GEM_OPEN made a second handle). */
void shws_bo_table_name_set(struct shws_bo_table *table,
			    struct shws_slot *slot, uint32_t name);

/* Under the lock: forgets @slot's name. */
void shws_bo_table_name_clear(struct shws_bo_table *table,
			      struct shws_slot *slot);

/*
 * The hot path, inline: every lookup, import hit and unref goes through
 * these, and a call per helper costs more than the helper (measured under
 * TCG, where each return is an indirect jump: docs/performance.md, P2).
 */

#define SHWS_BO_TABLE_MIN_SLOTS (1u << SHWS_BO_TABLE_MIN_SHIFT)

/* Bucket index and offset of @handle (<= SHWS_BO_TABLE_HANDLE_MAX); returns the
 * bucket's slot count. Branch-free on purpose: lookups come in a
 * data-dependent order, and a mispredicted "handle < MIN_SLOTS" stalls
 * the next lookup's cache miss behind this one's (measured: twice the
 * 2-thread lookup cost, P1). */
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

/* The slot of @handle, or NULL if its bucket does not exist (then no slot
 * for @handle was ever live) or @handle is above SHWS_BO_TABLE_HANDLE_MAX.
 * Lock-free, no syscall. */
static inline struct shws_slot *shws_bo_table_slot(struct shws_bo_table *table,
						   uint32_t handle)
{
	struct shws_slot *b;
	unsigned k;
	uint32_t off;

	if (handle > SHWS_BO_TABLE_HANDLE_MAX)
		return NULL;
	shws_bo_table_locate(handle, &k, &off);
	b = atomic_load_explicit(&table->bucket[k], memory_order_acquire);
	return b ? (struct shws_slot *)((char *)b + off * SHWS_BO_SLOT_SIZE)
		 : NULL;
}

/* true if @slot is live (a snapshot; stable only under the lock, or
 * while the caller holds a reference). */
static inline bool shws_slot_live(struct shws_slot *slot)
{
	return atomic_load_explicit(&slot->refcnt, memory_order_acquire) != 0;
}

/* Increment-unless-zero. true = the caller now holds a reference. */
static inline bool shws_slot_try_ref(struct shws_slot *slot)
{
	uint32_t v = atomic_load_explicit(&slot->refcnt, memory_order_relaxed);

	do {
		if (v == 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&slot->refcnt, &v,
							v + 1,
							memory_order_acquire,
							memory_order_relaxed));
	return true;
}

/* Another reference on a slot the caller already holds one on (or, under
 * the lock, on a live slot: only a locked put reaches 0). */
static inline void shws_slot_get(struct shws_slot *slot)
{
	atomic_fetch_add_explicit(&slot->refcnt, 1, memory_order_relaxed);
}

/* A new reference on the live slot of @handle, or NULL. Lock-free, no
 * syscall: increment-unless-zero on type-stable storage. The re-check
 * "the slot still holds that handle" holds by construction: the handle
 * field never changes. If the handle died and came back between the load
 * and the increment, the caller holds the new incarnation, which is what
 * @handle names now. */
static inline struct shws_slot *shws_bo_table_lookup(struct shws_bo_table *table,
						     uint32_t handle)
{
	struct shws_slot *slot = shws_bo_table_slot(table, handle);

	return slot && shws_slot_try_ref(slot) ? slot : NULL;
}

/* Makes a free slot live with one reference, after its data is written.
 * The release store pairs with try_ref's acquire, so a lock-free reader
 * that wins a reference sees the data written before. */
static inline void shws_slot_publish(struct shws_slot *slot)
{
	atomic_store_explicit(&slot->refcnt, 1, memory_order_release);
}

/* Drops a reference unless it is the last one. Lock-free. */
static inline bool shws_slot_put_unless_last(struct shws_slot *slot)
{
	uint32_t v = atomic_load_explicit(&slot->refcnt, memory_order_relaxed);

	do {
		if (v <= 1)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&slot->refcnt, &v,
							v - 1,
							memory_order_release,
							memory_order_relaxed));
	return true;
}

/* Drops a reference; returns the count left. Under the lock when it may
 * be the last (0 = the caller must retire the slot before unlocking).
 * acq_rel: the thread that reaches 0 sees every holder's writes. */
static inline uint32_t shws_slot_put(struct shws_slot *slot)
{
	return atomic_fetch_sub_explicit(&slot->refcnt, 1,
					 memory_order_acq_rel) - 1;
}

#endif
