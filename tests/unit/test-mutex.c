/* SPDX-License-Identifier: MIT */
/*
 * The file lock (src/mutex.h): mutual exclusion under real contention, and
 * a waiter that sleeps in the kernel (state 2) until the holder unlocks.
 * The TSan build runs this too: a lock that did not order the critical
 * sections would show up there as a data race on the plain counter.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "mutex.h"
#include "test.h"

#define THREADS 4
#define ROUNDS 200000

static struct shws_mutex lock;
static unsigned long counter;    /* plain: only the lock protects it */
static atomic_int inside;        /* holders right now: must stay <= 1 */
static atomic_int overlaps;

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		shws_mutex_lock(&lock);
		if (atomic_fetch_add(&inside, 1) != 0)
			atomic_fetch_add(&overlaps, 1);
		counter++;
		atomic_fetch_sub(&inside, 1);
		shws_mutex_unlock(&lock);
	}
	return NULL;
}

static void test_exclusion(void)
{
	pthread_t t[THREADS];

	shws_mutex_init(&lock);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, hammer, NULL) == 0);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	CHECK_INT(atomic_load(&overlaps), ==, 0);
	CHECK_INT(counter, ==, (unsigned long)THREADS * ROUNDS);
	CHECK_INT(atomic_load(&lock.state), ==, 0);
	test_pass("exclusion");
}

static atomic_int waiter_has_it;

static void *waiter(void *arg)
{
	(void)arg;
	shws_mutex_lock(&lock);
	atomic_store(&waiter_has_it, 1);
	shws_mutex_unlock(&lock);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void test_sleeping_waiter(void)
{
	pthread_t t;

	shws_mutex_init(&lock);
	shws_mutex_lock(&lock);
	CHECK_INT(atomic_load(&lock.state), ==, 1);
	CHECK(pthread_create(&t, NULL, waiter, NULL) == 0);
	/* The waiter marks the lock contended (2) before it sleeps. No bound
	 * of our own on how long the waiter takes to get there (a loaded host
	 * may not run it for a while): meson's test timeout catches a hang. */
	while (atomic_load(&lock.state) != 2)
		sleep_ms(1);
	sleep_ms(50); /* it stays out while the lock is held */
	CHECK_INT(atomic_load(&waiter_has_it), ==, 0);
	shws_mutex_unlock(&lock); /* 2: wakes it */
	CHECK(pthread_join(t, NULL) == 0);
	CHECK_INT(atomic_load(&waiter_has_it), ==, 1);
	CHECK_INT(atomic_load(&lock.state), ==, 0);
	test_pass("sleeping-waiter");
}

int main(void)
{
	test_exclusion();
	test_sleeping_waiter();
	return 0;
}
