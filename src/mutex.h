/* SPDX-License-Identifier: MIT */
/*
 * A small futex mutex for the file lock, which every dma-buf import takes.
 * Uncontended, lock and unlock are one atomic instruction each, inline:
 * no call and no return. pthread_mutex_lock/unlock cost three calls and
 * about 55 instructions per pair, a measurable part of an import (under
 * TCG every return is an indirect jump: docs/performance.md, P2).
 *
 * States: 0 free, 1 held, 2 held and maybe waited for (the classic
 * three-state futex mutex). Not recursive, no owner checks. The atomics
 * carry the acquire/release edges, so ThreadSanitizer sees the ordering
 * it protects without annotations.
 *
 * After fork(), a mutex a parent thread held is held forever in the
 * child: shws never takes the lock of an inherited file (file.h).
 */
#ifndef SHWS_MUTEX_H
#define SHWS_MUTEX_H

#include <stdatomic.h>

struct shws_mutex {
	atomic_uint state;
};

void shws_mutex_lock_slow(struct shws_mutex *m);
void shws_mutex_wake(struct shws_mutex *m);

static inline void shws_mutex_init(struct shws_mutex *m)
{
	atomic_init(&m->state, 0);
}

static inline void shws_mutex_lock(struct shws_mutex *m)
{
	unsigned free_state = 0;

	if (!atomic_compare_exchange_strong_explicit(&m->state, &free_state, 1,
						     memory_order_acquire,
						     memory_order_relaxed))
		shws_mutex_lock_slow(m);
}

static inline void shws_mutex_unlock(struct shws_mutex *m)
{
	/* 1 -> 0: nobody waits. From 2, someone may sleep: hand over. */
	if (atomic_fetch_sub_explicit(&m->state, 1, memory_order_release) != 1)
		shws_mutex_wake(m);
}

#endif
