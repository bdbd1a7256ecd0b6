/* SPDX-License-Identifier: MIT */
/* The contended halves of the futex mutex (mutex.h). */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mutex.h"

static void futex(atomic_uint *addr, int op, unsigned val)
{
	/* EINTR, EAGAIN (the value moved): the callers loop and re-check. */
	syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

void shws_mutex_lock_slow(struct shws_mutex *m)
{
	/* Mark the mutex contended; whoever unlocks it then wakes one. */
	while (atomic_exchange_explicit(&m->state, 2, memory_order_acquire))
		futex(&m->state, FUTEX_WAIT, 2);
}

void shws_mutex_wake(struct shws_mutex *m)
{
	atomic_store_explicit(&m->state, 0, memory_order_release);
	futex(&m->state, FUTEX_WAKE, 1);
}
