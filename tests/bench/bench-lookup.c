/* SPDX-License-Identifier: MIT */
/*
 * P1 (handle -> bo lookup) and P5 (bytes per bo record), on the host.
 *
 * shws: the real shws_bo_lookup() + shws_bo_unref() path (P1-lookup-*),
 * and the borrowed shws_bo_find() (P1-find-*: the lookup of a driver that
 * already holds a reference), over a table populated with
 * shws_bo_adopt(). No DRM device is needed: the bench builds a bare
 * struct shws_file (what the registry would create) without an fd.
 * Lookups and non-final unrefs never touch the fd; the table is never torn
 * down (the last unref would GEM_CLOSE on it), the process just exits.
 *
 * BASELINE (written here, in the style of iris/virgl, not their code): one
 * mutex around a Mesa-style open-addressing hash table (prime size,
 * double hashing, hash and key-equal through function pointers, keys are
 * pointers to the bo's handle, like _mesa_hash_table with _mesa_hash_uint);
 * lookup = lock, search, atomic increment, unlock; release = atomic
 * decrement unless last (iris_bo_unreference's fast path). Two locks,
 * each its own figure: a pthread mutex (virgl's mtx_t) for P1-lookup-*,
 * and a futex mutex (iris's simple_mtx_t; shws's src/mutex.h stands in)
 * for P1-lookup-futex-*.
 *
 * Usage: bench-lookup            all figures
 *        bench-lookup probe shws|baseline THREADS HANDLES ITERS
 *            only populate + ITERS lookups per thread (for strace -c -f:
 *            the run script diffs two ITERS to get syscalls per lookup)
 *        bench-lookup seccomp THREADS HANDLES ITERS
 *            shws lookups with a seccomp filter that kills the process on
 *            any syscall; exit status 0 proves the loop made none
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shws/bo.h>

#include "bench.h"
#include "file_priv.h"
#include "util.h"

/* --- shws ---------------------------------------------------------------- */

static struct shws_file *fake_file(void)
{
	/* No device, no fd: adopt only compares fds, and the table's
	 * logic never makes a syscall on a lookup. The file is never
	 * released (its last reference would go to the registry). */
	struct shws_file *f = shws_file_create(NULL, -1, 0, SHWS_NODE_PRIMARY,
					       false);

	if (!f)
		bench_die("out of memory");
	shws_file_get(f);
	return f;
}

/* Handles 1..n, like the kernel hands them out (lowest free first). */
static void shws_populate(struct shws_file *f, uint32_t n)
{
	struct shws_bo *bo;

	for (uint32_t h = 1; h <= n; h++)
		if (shws_bo_adopt(f, shws_file_fd(f), h, 4096, SHWS_API_GL, &bo))
			bench_die("shws_bo_adopt(%u) failed", h);
}

/* --- baseline: mutex + Mesa-style hash table ------------------------------ */

struct base_bo {
	_Atomic uint32_t refcnt;
	uint32_t handle;
	uint64_t size;
};

struct base_entry {
	uint32_t hash;
	const void *key;
	void *data;
};

struct base_table {
	/* virgl's mtx_t is a pthread mutex; iris's simple_mtx_t is a futex
	 * mutex like shws's own (src/mutex.h, used here as that stand-in). */
	bool futex;
	pthread_mutex_t lock;
	struct shws_mutex flock;
	struct base_entry *e;
	uint32_t size, rehash;
	uint32_t (*hash)(const void *key);
	int (*equal)(const void *a, const void *b);
};

static uint32_t hash_uint(const void *key)
{
	/* A 32-bit finaliser (murmur3 fmix32). */
	uint32_t h = *(const uint32_t *)key;

	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

static int key_uint_equal(const void *a, const void *b)
{
	return *(const uint32_t *)a == *(const uint32_t *)b;
}

static int is_prime(uint32_t n)
{
	for (uint32_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return n > 1;
}

static void base_init(struct base_table *t, uint32_t n)
{
	t->size = 2 * n + 3;
	while (!is_prime(t->size))
		t->size++;
	t->rehash = t->size - 2;
	t->e = calloc(t->size, sizeof(*t->e));
	if (!t->e)
		bench_die("out of memory");
	t->hash = hash_uint;
	t->equal = key_uint_equal;
	pthread_mutex_init(&t->lock, NULL);
	shws_mutex_init(&t->flock);
}

static void base_lock(struct base_table *t)
{
	if (t->futex)
		shws_mutex_lock(&t->flock);
	else
		pthread_mutex_lock(&t->lock);
}

static void base_unlock(struct base_table *t)
{
	if (t->futex)
		shws_mutex_unlock(&t->flock);
	else
		pthread_mutex_unlock(&t->lock);
}

static void base_insert(struct base_table *t, struct base_bo *bo)
{
	uint32_t h = t->hash(&bo->handle);
	uint32_t i = h % t->size, step = 1 + h % t->rehash;

	while (t->e[i].key)
		i = (i + step) % t->size;
	t->e[i] = (struct base_entry){ h, &bo->handle, bo };
}

static struct base_bo *base_search(struct base_table *t, uint32_t handle)
{
	uint32_t h = t->hash(&handle);
	uint32_t i = h % t->size, step = 1 + h % t->rehash;

	for (;;) {
		struct base_entry *e = &t->e[i];

		if (!e->key)
			return NULL;
		if (e->hash == h && t->equal(e->key, &handle))
			return e->data;
		i = (i + step) % t->size;
	}
}

static struct base_bo *base_lookup(struct base_table *t, uint32_t handle)
{
	struct base_bo *bo;

	base_lock(t);
	bo = base_search(t, handle);
	if (bo)
		atomic_fetch_add_explicit(&bo->refcnt, 1,
					  memory_order_relaxed);
	base_unlock(t);
	return bo;
}

static void base_release(struct base_table *t, struct base_bo *bo)
{
	uint32_t v = atomic_load_explicit(&bo->refcnt, memory_order_relaxed);

	/* Fast path: not the last reference, no lock. */
	while (v > 1)
		if (atomic_compare_exchange_weak_explicit(
			    &bo->refcnt, &v, v - 1, memory_order_release,
			    memory_order_relaxed))
			return;
	base_lock(t); /* never reached here: all stay live */
	atomic_fetch_sub(&bo->refcnt, 1);
	base_unlock(t);
}

static struct base_table *base_populate(uint32_t n)
{
	struct base_table *t = calloc(1, sizeof(*t));
	struct base_bo *bos = calloc(n, sizeof(*bos));

	if (!t || !bos)
		bench_die("out of memory");
	base_init(t, n);
	for (uint32_t i = 0; i < n; i++) {
		bos[i].handle = i + 1;
		bos[i].size = 4096;
		atomic_init(&bos[i].refcnt, 1);
		base_insert(t, &bos[i]);
	}
	return t;
}

/* --- the loops ------------------------------------------------------------ */

struct run {
	struct shws_file *file;   /* shws, or */
	struct base_table *base;  /* baseline */
	uint32_t *order;          /* handles in a shuffled order */
	uint32_t n;
	uint64_t iters;
	pthread_barrier_t *barrier;
	atomic_int *go;           /* seccomp mode: spin instead of barrier */
	atomic_int *done;
	atomic_int *ready;        /* seccomp mode: past thread start-up */
	bool borrow;              /* shws_bo_find() instead */
	uint64_t ns;
	int bad;
};

static void loop(struct run *r)
{
	uint32_t j = 0;

	for (uint64_t i = 0; i < r->iters; i++) {
		uint32_t h = r->order[j];

		if (++j == r->n)
			j = 0;
		if (r->file && r->borrow) {
			struct shws_bo *bo = shws_bo_find(r->file, h);

			if (!bo || shws_bo_handle(bo) != h)
				r->bad++;
		} else if (r->file) {
			struct shws_bo *bo = shws_bo_lookup(r->file, h,
							    SHWS_API_VULKAN);

			if (!bo || shws_bo_unref(bo, SHWS_API_VULKAN))
				r->bad++;
		} else {
			struct base_bo *bo = base_lookup(r->base, h);

			if (!bo)
				r->bad++;
			else
				base_release(r->base, bo);
		}
	}
}

static void *thread_main(void *arg)
{
	struct run *r = arg;
	uint64_t t0;

	if (r->go) {
		atomic_fetch_add(r->ready, 1);
		while (!atomic_load(r->go))
			;
	} else {
		pthread_barrier_wait(r->barrier);
	}
	t0 = bench_now_ns();
	loop(r);
	r->ns = bench_now_ns() - t0;
	if (r->done) {
		/* seccomp mode: a returning thread would call exit(), a
		 * syscall; spin until the main thread's exit_group. */
		atomic_fetch_add(r->done, 1);
		for (;;)
			;
	}
	return NULL;
}

static uint32_t *shuffled(uint32_t n, uint32_t seed)
{
	uint32_t *v = malloc(n * sizeof(*v));

	if (!v)
		bench_die("out of memory");
	for (uint32_t i = 0; i < n; i++)
		v[i] = i + 1;
	bench_shuffle(v, n, seed);
	return v;
}

/* ns per lookup+release, per thread, the slowest thread's average. */
static double run_threads(struct shws_file *f, struct base_table *b,
			  uint32_t n, int threads, uint64_t iters,
			  uint32_t **orders, bool borrow)
{
	pthread_barrier_t barrier;
	struct run r[2];
	pthread_t th[2];
	double worst = 0;

	pthread_barrier_init(&barrier, NULL, (unsigned)threads);
	for (int i = 0; i < threads; i++) {
		r[i] = (struct run){ .file = f, .base = b, .order = orders[i],
				     .n = n, .iters = iters,
				     .barrier = &barrier, .borrow = borrow };
		if (pthread_create(&th[i], NULL, thread_main, &r[i]))
			bench_die("pthread_create failed");
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		if (r[i].bad)
			bench_die("%d lookups failed", r[i].bad);
		if ((double)r[i].ns / (double)iters > worst)
			worst = (double)r[i].ns / (double)iters;
	}
	pthread_barrier_destroy(&barrier);
	return worst;
}

static void figure_lookup(uint32_t n, int threads)
{
	struct shws_file *f = fake_file();
	struct base_table *b, *bf;
	uint32_t *orders[2] = { shuffled(n, 1), shuffled(n, 2) };
	double s[BENCH_REPS], base[BENCH_REPS], basef[BENCH_REPS];
	double find[BENCH_REPS];
	uint64_t iters = 2000000;
	char name[64];

	shws_populate(f, n);
	b = base_populate(n);
	bf = base_populate(n);
	bf->futex = true;
	/* Interleaved, so drift on a shared machine hits all alike. */
	for (int rep = 0; rep < BENCH_REPS; rep++) {
		s[rep] = run_threads(f, NULL, n, threads, iters, orders, false);
		find[rep] = run_threads(f, NULL, n, threads, iters, orders,
					true);
		base[rep] = run_threads(NULL, b, n, threads, iters, orders,
					false);
		basef[rep] = run_threads(NULL, bf, n, threads, iters, orders,
					 false);
	}
	snprintf(name, sizeof(name), "P1-lookup-%uh-%dt", n, threads);
	bench_report(name, bench_median(s, BENCH_REPS), "ns/lookup",
		     bench_median(base, BENCH_REPS));
	snprintf(name, sizeof(name), "P1-lookup-futex-%uh-%dt", n, threads);
	bench_report(name, bench_median(s, BENCH_REPS), "ns/lookup",
		     bench_median(basef, BENCH_REPS));
	snprintf(name, sizeof(name), "P1-find-%uh-%dt", n, threads);
	bench_report(name, bench_median(find, BENCH_REPS), "ns/lookup",
		     bench_median(base, BENCH_REPS));
	snprintf(name, sizeof(name), "P1-find-futex-%uh-%dt", n, threads);
	bench_report(name, bench_median(find, BENCH_REPS), "ns/lookup",
		     bench_median(basef, BENCH_REPS));
}

/* P5: heap bytes per live bo, table storage included (buckets grow in
 * powers of two, so this is more than sizeof(struct shws_bo)). */
static void figure_memory(uint32_t n)
{
	struct shws_file *f = fake_file();
	size_t before, after, base_before;
	char name[64];

	before = bench_heap_bytes();
	shws_populate(f, n);
	after = bench_heap_bytes();
	base_before = bench_heap_bytes();
	base_populate(n);
	snprintf(name, sizeof(name), "P5-bytes-per-bo-%uh", n);
	bench_report(name, (double)(after - before) / n, "bytes",
		     (double)(bench_heap_bytes() - base_before) / n);
}

/* --- syscall probes ------------------------------------------------------- */

static int probe(const char *who, int threads, uint32_t n, uint64_t iters)
{
	struct shws_file *f = NULL;
	struct base_table *b = NULL;
	uint32_t *orders[2] = { shuffled(n, 1), shuffled(n, 2) };

	if (!strcmp(who, "shws")) {
		f = fake_file();
		shws_populate(f, n);
	} else {
		b = base_populate(n);
	}
	run_threads(f, b, n, threads, iters, orders, false);
	return 0;
}

/* Kills the process on every syscall but exit_group: after this, the only
 * way to exit 0 is to make no other syscall. */
static void seccomp_no_syscalls(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { SHWS_ARRAY_SIZE(insns), insns };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_TSYNC, &prog))
		bench_die("seccomp: %s", strerror(errno));
}

static int seccomp_child(int threads, uint32_t n, uint64_t iters)
{
	struct shws_file *f = fake_file();
	uint32_t *orders[2] = { shuffled(n, 1), shuffled(n, 2) };
	atomic_int go = 0, done = 0, ready = 0;
	struct run r[2];
	pthread_t th[2];
	int bad = 0;

	shws_populate(f, n);
	for (int i = 0; i < threads; i++) {
		r[i] = (struct run){ .file = f, .order = orders[i], .n = n,
				     .iters = iters, .go = &go,
				     .done = &done, .ready = &ready };
		if (pthread_create(&th[i], NULL, thread_main, &r[i]))
			bench_die("pthread_create failed");
	}
	/* A thread still starting up makes syscalls (rseq, signal mask). */
	while (atomic_load(&ready) < threads)
		;
	seccomp_no_syscalls();
	atomic_store(&go, 1);
	while (atomic_load(&done) < threads)
		;
	for (int i = 0; i < threads; i++)
		bad += r[i].bad;
	syscall(SYS_exit_group, bad ? 3 : 0);
	return 1;
}

/* 0 syscalls per lookup, proven: the child dies of SIGSYS otherwise. */
static void figure_seccomp(int threads, uint32_t n, uint64_t iters)
{
	char name[64];
	int status;
	pid_t pid = fork();

	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(seccomp_child(threads, n, iters));
	if (waitpid(pid, &status, 0) != pid)
		bench_die("waitpid: %s", strerror(errno));
	snprintf(name, sizeof(name), "P1-seccomp-syscalls-%uh-%dt", n,
		 threads);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		bench_report(name, 0, "syscalls/lookup", 0);
	else
		bench_die("%s: the loop made a syscall or failed (status 0x%x)",
			  name, status);
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 1000, 100000 };

	if (argc == 6 && !strcmp(argv[1], "probe"))
		return probe(argv[2], atoi(argv[3]),
			     (uint32_t)strtoul(argv[4], NULL, 0),
			     strtoull(argv[5], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "seccomp")) {
		figure_seccomp(atoi(argv[2]),
			       (uint32_t)strtoul(argv[3], NULL, 0),
			       strtoull(argv[4], NULL, 0));
		return 0;
	}
	if (argc != 1)
		bench_die("usage: bench-lookup [probe shws|baseline THREADS "
			  "HANDLES ITERS | seccomp THREADS HANDLES ITERS]");
	for (unsigned i = 0; i < SHWS_ARRAY_SIZE(sizes); i++)
		for (int t = 1; t <= 2; t++)
			figure_lookup(sizes[i], t);
	for (unsigned i = 0; i < SHWS_ARRAY_SIZE(sizes); i++)
		for (int t = 1; t <= 2; t++)
			figure_seccomp(t, sizes[i], 1000000);
	for (unsigned i = 0; i < SHWS_ARRAY_SIZE(sizes); i++)
		figure_memory(sizes[i]);
	return 0;
}
