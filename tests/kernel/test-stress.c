/* SPDX-License-Identifier: MIT */
/*
 * Stress: three in-process clients tagged gl, vulkan and va, each with two
 * threads, share the DRM files (card and render node of vgem and of
 * virtio_gpu) and the buffers on them, and run a seeded random mix of
 * operations: create (dumb + adopt), dma-buf import, flink open, export,
 * translate, lookup, release, sync_file export/import, the "app" closing
 * its dma-buf fds and reopening its device fds. Every step is checked
 * against a reference model; every barrier (each thread PHASE_OPS steps)
 * checks the whole model against the kernel's bufinfo; a fork() child
 * works on its own files in the middle of the run; SIGALRM (no
 * SA_RESTART) interrupts every thread's syscalls throughout.
 *
 *   ktest-stress [--seed S] [--ops N] [--serial] [--no-signals] [--no-fork]
 *
 * Default: 100 000 operations; 10 000 in ASan/TSan builds; at most 20 000
 * under piglit (SHWS_PIGLIT=1) unless --ops says otherwise.
 *
 * The seed fixes every thread's sequence of operations; --serial runs the
 * six threads' steps round-robin on one thread, so the interleaving is
 * reproducible too (docs/reliability.md: rerunning a failing seed).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "test-bo-common.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STRESS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define STRESS_SANITIZED 1
#endif
#endif

/* Sanitized builds run 5-15x slower under TCG: a smaller default keeps
 * the kernel suite within its time budget there. */
#ifdef STRESS_SANITIZED
#define DEFAULT_OPS 10000
#else
#define DEFAULT_OPS 100000
#endif

/* piglit (SHWS_PIGLIT=1) runs every test a second time, with a 300 s
 * limit per test: the bounded run there is smaller. */
#define PIGLIT_OPS 20000

#define OBJ_SIZE 4096
#define CLIENTS 3
#define THREADS_PER_CLIENT 2
#define THREADS (CLIENTS * THREADS_PER_CLIENT)
#define MAX_REFS 16   /* per thread */
#define MAX_POOL 48   /* dma-buf fds the app keeps */
#define PHASE_OPS 250 /* per thread between global checks */
#define FULL_EVERY 64 /* a thread's own bos by export every N steps */
#define CONTENT_EVERY 8 /* bo checks that also read the pages */
#define FORK_EVERY 8  /* phases */

enum op {
	OP_CREATE, OP_IMPORT, OP_FLINK, OP_EXPORT, OP_TRANSLATE, OP_LOOKUP,
	OP_RELEASE, OP_SYNC, OP_CLOSE_FD, OP_REOPEN, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"create", "import", "flink-open", "export", "translate", "lookup",
	"release", "sync_file", "app-close-dmabuf-fd", "app-reopen-device-fd",
};
static const unsigned op_weight[OP_COUNT] = { 5, 14, 8, 10, 10, 10, 20, 8,
					      8, 1 };

static const enum shws_api client_api[CLIENTS] = {
	SHWS_API_GL, SHWS_API_VULKAN, SHWS_API_VA,
};

/* One buffer (GEM object), as the model sees it. */
struct obj {
	uint32_t id;
	int dev;     /* 0 vgem, 1 virtio_gpu: its exporter */
	ino_t ino;   /* its dma-buf */
	/* Under pool_lock. The app's dma-buf fd and the OTHER reference it
	 * keeps with it (the flink name lives only while a handle does). */
	int pool_fd;
	struct shws_bo *keeper;
	uint32_t flink;
	int flink_dev; /* names are per device: the keeper's */
	atomic_int refs; /* references the worker threads hold */
};

/* One device node the app keeps open; every client opens it in shws. */
struct slot {
	pthread_rwlock_t lock; /* write: the app reopens it */
	int dev;
	bool primary;
	char path[64];
	int app_fd;
	struct shws_file *file;
};

struct ref {
	struct shws_bo *bo;
	struct obj *obj;
};

struct worker {
	unsigned idx, client;
	enum shws_api api;
	uint64_t rng;
	struct ref refs[MAX_REFS];
	unsigned nrefs;
	unsigned long steps, checks, count[OP_COUNT];
	double secs[OP_COUNT];
	pthread_t thread;
};

static uint64_t seed = 1;
static unsigned long total_ops = DEFAULT_OPS;
static bool serial, use_signals = true, use_fork = true;

static struct slot slots[4]; /* dev * 2 + (render ? 1 : 0) */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct obj *objs;          /* pool_lock for the count */
static unsigned nobjs, objs_cap;
static struct obj *pool[MAX_POOL]; /* objects whose pool_fd is open */
static unsigned npool;
static struct worker workers[THREADS];
static pthread_barrier_t barrier;
static unsigned long phases_per_thread;
static int base_bufs;
static atomic_ulong signals_seen;
static unsigned long forks, global_checks, bo_checks_global;
static _Atomic unsigned long bo_checks, content_checks;

static void on_alarm(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&signals_seen, 1, memory_order_relaxed);
}

static void print_seed_on_failure(int status, void *arg)
{
	(void)arg;
	if (status != 0)
		fprintf(stderr, "stress FAILED: seed %llu ops %lu%s "
			"(rerun: ktest-stress --seed %llu --ops %lu%s)\n",
			(unsigned long long)seed, total_ops,
			serial ? " serial" : "", (unsigned long long)seed,
			total_ops, serial ? " --serial" : "");
}

static uint64_t rnd64(struct worker *w)
{
	/* splitmix64 */
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd(struct worker *w, unsigned n)
{
	return (unsigned)(rnd64(w) % n);
}

static uint32_t obj_seed(uint32_t id)
{
	return 0x5eed0000u ^ (id * 0x9e3779b1u);
}

/* --- Checks ------------------------------------------------------------- */

/* @bo is @o: its export is @o's dma-buf (same st_ino), and, with
 * @contents, the pages hold @o's id (through mmap: costly under TCG, where
 * every munmap of a multi-threaded process is a cross-CPU TLB flush). */
static void check_bo_full(struct shws_bo *bo, const struct obj *o,
			  bool contents)
{
	int fd;

	CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
	CHECK_INT(bo_fd_ino(fd), ==, o->ino);
	if (contents) {
		CHECK(bo_dmabuf_pattern(fd, OBJ_SIZE, obj_seed(o->id), false));
		atomic_fetch_add_explicit(&content_checks, 1,
					  memory_order_relaxed);
	}
	close(fd);
	atomic_fetch_add_explicit(&bo_checks, 1, memory_order_relaxed);
}

/* Every bo a step touched; contents on every CONTENT_EVERY-th. */
static void check_bo(struct worker *w, struct shws_bo *bo,
		     const struct obj *o)
{
	check_bo_full(bo, o, ++w->checks % CONTENT_EVERY == 0);
}

static unsigned own_refs_on(const struct worker *w, const struct shws_bo *bo)
{
	unsigned n = 0;

	for (unsigned i = 0; i < w->nrefs; i++)
		n += w->refs[i].bo == bo;
	return n;
}

/* After every step: each reference the thread holds is still its bo,
 * found lock-free by its handle, with at least our references counted;
 * every FULL_EVERY steps the contents too. */
static void check_own(struct worker *w)
{
	bool full = w->steps % FULL_EVERY == 0;

	for (unsigned i = 0; i < w->nrefs; i++) {
		struct shws_bo *bo = w->refs[i].bo, *again;

		again = shws_bo_lookup(shws_bo_file(bo), shws_bo_handle(bo),
				       w->api);
		CHECK(again == bo);
		CHECK_INT(shws_bo_api_refs(bo, w->api), >,
			  own_refs_on(w, bo));
		CHECK_OK(shws_bo_unref(again, w->api));
		if (full)
			check_bo(w, bo, w->refs[i].obj);
	}
}

static unsigned live_objects(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nobjs; i++)
		n += objs[i].pool_fd >= 0 || atomic_load(&objs[i].refs) > 0;
	return n;
}

/* Quiescent (every worker waits at the barrier): the whole model. */
static void global_check(void)
{
	/* Each live object has exactly one dma-buf (created at birth; later
	 * exports and imports return the same one): the kernel's bufinfo is
	 * an independent count of buffers shws did not close. */
	CHECK_INT(kt_dmabuf_count(), ==, base_bufs + (int)live_objects());
	for (unsigned t = 0; t < THREADS; t++) {
		for (unsigned i = 0; i < workers[t].nrefs; i++) {
			struct shws_bo *bo = workers[t].refs[i].bo;
			enum shws_api api = workers[t].api;
			unsigned want = 0;

			for (unsigned u = 0; u < THREADS; u++)
				if (workers[u].api == api)
					want += own_refs_on(&workers[u], bo);
			CHECK_INT(shws_bo_api_refs(bo, api), ==, want);
		}
	}
	for (unsigned i = 0; i < npool; i++) {
		struct obj *o = pool[i];

		CHECK_INT(bo_fd_ino(o->pool_fd), ==, o->ino);
		CHECK(bo_dmabuf_pattern(o->pool_fd, OBJ_SIZE, obj_seed(o->id),
					false));
		CHECK_INT(shws_bo_api_refs(o->keeper, SHWS_API_OTHER), ==, 1);
		check_bo_full(o->keeper, o, false);
		bo_checks_global++;
	}
	global_checks++;
}

/* --- The model's bookkeeping ---------------------------------------------- */

static void add_ref(struct worker *w, struct shws_bo *bo, struct obj *o)
{
	CHECK_INT(w->nrefs, <, MAX_REFS);
	w->refs[w->nrefs++] = (struct ref){ .bo = bo, .obj = o };
}

static struct ref *pick_ref(struct worker *w)
{
	return w->nrefs ? &w->refs[rnd(w, w->nrefs)] : NULL;
}

static void drop_ref(struct worker *w, struct ref *r)
{
	struct obj *o = r->obj;

	CHECK_OK(shws_bo_unref(r->bo, w->api));
	atomic_fetch_sub(&o->refs, 1);
	*r = w->refs[--w->nrefs];
}

static int bo_dev(struct shws_bo *bo)
{
	const char *drv = shws_device_driver(shws_file_device(shws_bo_file(bo)));

	return strcmp(drv, "vgem") ? 1 : 0;
}

/* pool_lock held. */
static void pool_add(struct obj *o, int fd, struct shws_bo *keeper)
{
	o->pool_fd = fd;
	o->keeper = keeper;
	o->flink = 0;
	o->flink_dev = bo_dev(keeper);
	if (shws_file_node_type(shws_bo_file(keeper)) == SHWS_NODE_PRIMARY)
		CHECK_OK(shws_bo_flink(keeper, &o->flink));
	pool[npool++] = o;
}

/* pool_lock held. Returns the keeper for the caller to unref. */
static struct shws_bo *pool_remove(unsigned i)
{
	struct obj *o = pool[i];
	struct shws_bo *keeper = o->keeper;

	close(o->pool_fd);
	o->pool_fd = -1;
	o->keeper = NULL;
	o->flink = 0;
	pool[i] = pool[--npool];
	return keeper;
}

/* --- Operations ------------------------------------------------------- */

static void op_release(struct worker *w);
static void op_close_fd(struct worker *w);

static void op_create(struct worker *w)
{
	struct slot *s = &slots[rnd(w, 2) * 2];
	struct shws_bo *bo;
	struct obj *o;
	uint32_t h;
	int fd;

	if (w->nrefs == MAX_REFS)
		return op_release(w);
	pthread_mutex_lock(&pool_lock);
	if (npool == MAX_POOL || nobjs == objs_cap) {
		pthread_mutex_unlock(&pool_lock);
		return op_close_fd(w);
	}
	o = &objs[nobjs];
	o->id = nobjs++;
	o->pool_fd = -1;
	pthread_mutex_unlock(&pool_lock);

	pthread_rwlock_rdlock(&s->lock);
	h = bo_dumb_create(s->app_fd, OBJ_SIZE);
	CHECK_OK(shws_bo_adopt(s->file, shws_file_fd(s->file), h, OBJ_SIZE, w->api, &bo));
	CHECK_INT(shws_bo_handle(bo), ==, h);
	pthread_rwlock_unlock(&s->lock);
	CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
	CHECK(bo_dmabuf_pattern(fd, OBJ_SIZE, obj_seed(o->id), true));
	o->dev = s->dev;
	o->ino = bo_fd_ino(fd);
	atomic_store(&o->refs, 1);
	add_ref(w, bo, o);
	shws_bo_ref(bo, SHWS_API_OTHER);
	pthread_mutex_lock(&pool_lock);
	pool_add(o, fd, bo);
	pthread_mutex_unlock(&pool_lock);
}

/* A slot whose driver can import @o's dma-buf: vgem -> virtio_gpu is
 * ENODEV on 6.1, virtio_gpu -> vgem works. */
static struct slot *import_slot(struct worker *w, const struct obj *o)
{
	return o->dev == 0 ? &slots[rnd(w, 2)] : &slots[rnd(w, 4)];
}

static void op_import(struct worker *w)
{
	struct shws_bo *bo;
	struct slot *s;
	struct obj *o;
	int fd;

	if (w->nrefs == MAX_REFS)
		return op_release(w);
	pthread_mutex_lock(&pool_lock);
	if (!npool) {
		pthread_mutex_unlock(&pool_lock);
		return op_create(w);
	}
	o = pool[rnd(w, npool)];
	/* The app's own copy: the import borrows it. */
	fd = CHECK_SYS(fcntl(o->pool_fd, F_DUPFD_CLOEXEC, 0));
	atomic_fetch_add(&o->refs, 1);
	pthread_mutex_unlock(&pool_lock);

	s = import_slot(w, o);
	pthread_rwlock_rdlock(&s->lock);
	CHECK_OK(shws_bo_import_dmabuf(s->file, fd, w->api, &bo));
	pthread_rwlock_unlock(&s->lock);
	close(fd);
	check_bo(w, bo, o);
	add_ref(w, bo, o);
}

static void op_flink(struct worker *w)
{
	int dev = (int)rnd(w, 2);
	struct slot *s = &slots[dev * 2];
	struct shws_bo *bo = NULL;
	struct obj *o = NULL;

	if (w->nrefs == MAX_REFS)
		return op_release(w);
	pthread_rwlock_rdlock(&s->lock);
	pthread_mutex_lock(&pool_lock);
	for (unsigned tries = 0; npool && tries < 8 && !bo; tries++) {
		o = pool[rnd(w, npool)];
		if (o->flink_dev != dev || !o->flink)
			continue;
		/* Under pool_lock: the keeper keeps the name alive. */
		CHECK_OK(shws_bo_import_flink(s->file, o->flink, w->api, &bo));
		atomic_fetch_add(&o->refs, 1);
	}
	pthread_mutex_unlock(&pool_lock);
	pthread_rwlock_unlock(&s->lock);
	if (!bo)
		return op_import(w);
	check_bo(w, bo, o);
	add_ref(w, bo, o);
}

static void op_export(struct worker *w)
{
	struct ref *r = pick_ref(w);
	bool kept = false;
	int fd;

	if (!r)
		return op_import(w);
	CHECK_OK(shws_bo_export_dmabuf(r->bo, &fd));
	CHECK_INT(fcntl(fd, F_GETFD), ==, FD_CLOEXEC);
	CHECK_INT(bo_fd_ino(fd), ==, r->obj->ino);
	pthread_mutex_lock(&pool_lock);
	/* Sometimes the app keeps it (with a reference of its own). */
	if (r->obj->pool_fd < 0 && npool < MAX_POOL && rnd(w, 2)) {
		shws_bo_ref(r->bo, SHWS_API_OTHER);
		pool_add(r->obj, fd, r->bo);
		kept = true;
	}
	pthread_mutex_unlock(&pool_lock);
	if (!kept)
		close(fd);
}

static void op_translate(struct worker *w)
{
	struct ref *r = pick_ref(w);
	struct shws_bo *bo, *there, *again;
	struct slot *s;
	int dev;

	if (!r)
		return op_import(w);
	bo = r->bo;
	dev = bo_dev(bo);
	s = &slots[dev * 2 + rnd(w, 2)];
	pthread_rwlock_rdlock(&s->lock);
	CHECK_OK(shws_bo_translate(bo, s->file, w->api, &there));
	CHECK(shws_bo_file(there) == s->file);
	CHECK_OK(shws_bo_translate(bo, s->file, w->api, &again));
	CHECK(again == there); /* one bo per (file, handle) */
	CHECK_OK(shws_bo_unref(again, w->api));
	if (s->file == shws_bo_file(bo))
		CHECK(there == bo);
	pthread_rwlock_unlock(&s->lock);
	atomic_fetch_add(&r->obj->refs, 1);
	check_bo(w, there, r->obj);
	if (w->nrefs < MAX_REFS && rnd(w, 2)) {
		add_ref(w, there, r->obj);
	} else {
		CHECK_OK(shws_bo_unref(there, w->api));
		atomic_fetch_sub(&r->obj->refs, 1);
	}

	/* A file of the other device is refused. */
	s = &slots[(1 - dev) * 2 + rnd(w, 2)];
	pthread_rwlock_rdlock(&s->lock);
	CHECK_INT(shws_bo_translate(bo, s->file, w->api, &again), ==, -EXDEV);
	pthread_rwlock_unlock(&s->lock);
}

static void op_lookup(struct worker *w)
{
	struct ref *r = pick_ref(w);
	struct shws_bo *again;

	if (!r)
		return op_import(w);
	again = shws_bo_lookup(shws_bo_file(r->bo), shws_bo_handle(r->bo),
			       w->api);
	CHECK(again == r->bo);
	if (w->nrefs < MAX_REFS && rnd(w, 2)) {
		atomic_fetch_add(&r->obj->refs, 1);
		add_ref(w, again, r->obj);
	} else {
		CHECK_OK(shws_bo_unref(again, w->api));
	}
}

static void op_release(struct worker *w)
{
	struct ref *r = pick_ref(w);

	if (r)
		drop_ref(w, r);
}

static void op_sync(struct worker *w)
{
	static const unsigned flags[] = { SHWS_SYNC_READ, SHWS_SYNC_WRITE,
					  SHWS_SYNC_RW };
	struct ref *r = pick_ref(w);
	int dmabuf, sf, ret;

	if (!r)
		return op_import(w);
	/* A bo's fences are those of its dma-buf. */
	CHECK_OK(shws_bo_export_dmabuf(r->bo, &dmabuf));
	ret = shws_dmabuf_export_sync_file(dmabuf, flags[rnd(w, 3)], &sf);
	if (ret == -EOPNOTSUPP) { /* Linux < 6.0: documented */
		CHECK_INT(shws_dmabuf_sync_caps(-1), ==, 0);
		close(dmabuf);
		return;
	}
	CHECK_OK(ret);
	CHECK_INT(fcntl(sf, F_GETFD), ==, FD_CLOEXEC);
	CHECK_OK(shws_sync_file_check(sf));
	CHECK_OK(shws_sync_file_wait(sf, 0)); /* nobody attaches fences */
	CHECK_OK(shws_dmabuf_import_sync_file(dmabuf, flags[rnd(w, 3)], sf));
	close(sf);
	close(dmabuf);
}

static void op_close_fd(struct worker *w)
{
	struct shws_bo *keeper;

	pthread_mutex_lock(&pool_lock);
	if (!npool) {
		pthread_mutex_unlock(&pool_lock);
		return op_release(w);
	}
	keeper = pool_remove(rnd(w, npool));
	pthread_mutex_unlock(&pool_lock);
	CHECK_OK(shws_bo_unref(keeper, SHWS_API_OTHER));
}

/* Every client opens the slot's fd in shws: the same file for all. */
static void slot_open_files(struct slot *s)
{
	for (unsigned c = 0; c < CLIENTS; c++) {
		struct shws_file *f;

		CHECK_OK(shws_file_open(s->app_fd, 0, client_api[c], &f));
		CHECK(c == 0 || f == s->file);
		CHECK(!shws_file_is_private(f));
		s->file = f;
	}
}

static void slot_close_files(struct slot *s)
{
	for (unsigned c = 0; c < CLIENTS; c++)
		shws_file_unref(s->file, client_api[c]);
	s->file = NULL;
}

/* The app closes its device fd and opens the node again: a new open
 * file description, so a new shws file; bos on the old one live on. */
static void op_reopen(struct worker *w)
{
	struct slot *s = &slots[rnd(w, 4)];

	pthread_rwlock_wrlock(&s->lock);
	slot_close_files(s);
	close(s->app_fd);
	s->app_fd = CHECK_SYS(open(s->path, O_RDWR | O_CLOEXEC));
	slot_open_files(s);
	pthread_rwlock_unlock(&s->lock);
}

static void (*const ops[OP_COUNT])(struct worker *) = {
	op_create, op_import, op_flink, op_export, op_translate, op_lookup,
	op_release, op_sync, op_close_fd, op_reopen,
};

static void step(struct worker *w)
{
	unsigned total = 0, x;
	struct timespec t0, t1;
	enum op op = 0;

	for (unsigned i = 0; i < OP_COUNT; i++)
		total += op_weight[i];
	x = rnd(w, total);
	while (x >= op_weight[op])
		x -= op_weight[op++];
	w->count[op]++;
	w->steps++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ops[op](w);
	check_own(w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w->secs[op] += (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* --- fork() in the middle ----------------------------------------------- */

/* The child shares every description with the parent: shws refuses GEM
 * work on inherited files (-ECHILD), works on files of its own, and the
 * parent's model must still check out afterwards. */
static void fork_child(void)
{
	struct worker *w = &workers[0];
	struct shws_file *f;
	struct shws_bo *bo;
	int card, fd;
	uint32_t h;

	if (w->nrefs) {
		CHECK_INT(shws_bo_export_dmabuf(w->refs[0].bo, &fd), ==,
			  -ECHILD);
		CHECK(!shws_bo_lookup(shws_bo_file(w->refs[0].bo),
				      shws_bo_handle(w->refs[0].bo), w->api));
	}
	card = kt_open_driver("vgem", KT_PRIMARY);
	CHECK_OK(shws_file_open(card, 0, SHWS_API_GL, &f));
	h = bo_dumb_create(card, OBJ_SIZE);
	CHECK_OK(shws_bo_adopt(f, shws_file_fd(f), h, OBJ_SIZE, SHWS_API_GL, &bo));
	CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
	CHECK(bo_dmabuf_pattern(fd, OBJ_SIZE, 0xc41d, true));
	close(fd);
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	shws_file_unref(f, SHWS_API_GL);
	close(card);
	_exit(0);
}

static void fork_check(void)
{
	int status;
	pid_t pid = fork();

	CHECK(pid >= 0);
	if (pid == 0)
		fork_child();
	while (waitpid(pid, &status, 0) < 0)
		CHECK_INT(errno, ==, EINTR); /* SIGALRM */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	forks++;
	global_check();
}

static void phase_end(unsigned long phase)
{
	global_check();
	if (use_fork && phase % FORK_EVERY == FORK_EVERY / 2)
		fork_check();
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (unsigned long p = 0; p < phases_per_thread; p++) {
		for (unsigned i = 0; i < PHASE_OPS; i++)
			step(w);
		pthread_barrier_wait(&barrier);
		if (w->idx == 0)
			phase_end(p);
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

/* --- Setup, run, teardown ------------------------------------------------ */

static void parse_args(int argc, char **argv)
{
	const char *piglit = getenv("SHWS_PIGLIT");

	if (piglit && !strcmp(piglit, "1") && total_ops > PIGLIT_OPS)
		total_ops = PIGLIT_OPS;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			total_ops = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--serial"))
			serial = true;
		else if (!strcmp(argv[i], "--no-signals"))
			use_signals = false;
		else if (!strcmp(argv[i], "--no-fork"))
			use_fork = false;
		else
			test_fail("usage: %s [--seed S] [--ops N] [--serial] "
				  "[--no-signals] [--no-fork]", argv[0]);
	}
}

static void setup_slot(struct slot *s, const char *driver, int dev,
		       bool primary)
{
	int fd = kt_open_driver(driver, primary ? KT_PRIMARY : KT_RENDER);
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, s->path, sizeof(s->path) - 1);
	CHECK(n > 0);
	s->path[n] = '\0';
	s->dev = dev;
	s->primary = primary;
	s->app_fd = fd;
	pthread_rwlock_init(&s->lock, NULL);
	slot_open_files(s);
}

static void start_signals(void)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	struct itimerval it = { .it_interval = { 0, 3000 },
				.it_value = { 0, 3000 } };

	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGALRM, &sa, NULL));
	CHECK_SYS(setitimer(ITIMER_REAL, &it, NULL));
}

static void stop_signals(void)
{
	struct itimerval it = { 0 };

	CHECK_SYS(setitimer(ITIMER_REAL, &it, NULL));
	signal(SIGALRM, SIG_IGN);
}

static void run(void)
{
	if (serial) {
		for (unsigned long p = 0; p < phases_per_thread; p++) {
			for (unsigned i = 0; i < PHASE_OPS; i++)
				for (unsigned t = 0; t < THREADS; t++)
					step(&workers[t]);
			phase_end(p);
		}
		return;
	}
	CHECK_INT(pthread_barrier_init(&barrier, NULL, THREADS), ==, 0);
	for (unsigned t = 0; t < THREADS; t++)
		CHECK_INT(pthread_create(&workers[t].thread, NULL, worker_main,
					 &workers[t]), ==, 0);
	for (unsigned t = 0; t < THREADS; t++)
		CHECK_INT(pthread_join(workers[t].thread, NULL), ==, 0);
	pthread_barrier_destroy(&barrier);
}

static void teardown(void)
{
	for (unsigned t = 0; t < THREADS; t++)
		while (workers[t].nrefs)
			drop_ref(&workers[t], &workers[t].refs[0]);
	while (npool)
		CHECK_OK(shws_bo_unref(pool_remove(0), SHWS_API_OTHER));
	CHECK_INT(live_objects(), ==, 0);
	for (unsigned i = 0; i < 4; i++) {
		slot_close_files(&slots[i]);
		close(slots[i].app_fd);
		pthread_rwlock_destroy(&slots[i].lock);
	}
}

static void report(double secs)
{
	unsigned long count[OP_COUNT] = { 0 }, steps = 0;
	double spent[OP_COUNT] = { 0 };

	for (unsigned t = 0; t < THREADS; t++) {
		steps += workers[t].steps;
		for (unsigned i = 0; i < OP_COUNT; i++)
			count[i] += workers[t].count[i], spent[i] += workers[t].secs[i];
	}
	printf("stress: %lu operations in %.1f s (%.0f/s), %u buffers, "
	       "%lu global checks, %lu bo checks (%lu with contents), %lu forks, "
	       "%lu signals\n", steps, secs, steps / (secs > 0 ? secs : 1),
	       nobjs, global_checks,
	       (unsigned long)atomic_load(&bo_checks),
	       (unsigned long)atomic_load(&content_checks), forks,
	       (unsigned long)atomic_load(&signals_seen));
	for (unsigned i = 0; i < OP_COUNT; i++)
		printf("stress:   %-22s %7lu  %6.1f ms each (thread time)\n",
		       op_names[i], count[i],
		       count[i] ? 1e3 * spent[i] / count[i] : 0.0);
	CHECK_INT(steps, >=, total_ops);
}

int main(int argc, char **argv)
{
	int fds = test_fd_count();
	struct timespec t0, t1;

	parse_args(argc, argv);
	on_exit(print_seed_on_failure, NULL);
	kt_banner("stress");
	printf("stress: seed %llu ops %lu%s%s%s\n", (unsigned long long)seed,
	       total_ops, serial ? " serial" : "",
	       use_signals ? " signals" : "", use_fork ? " fork" : "");
	fflush(stdout);
	base_bufs = kt_dmabuf_count();
	phases_per_thread = (total_ops + THREADS * PHASE_OPS - 1) /
			    (THREADS * PHASE_OPS);
	objs_cap = (unsigned)(phases_per_thread * THREADS * PHASE_OPS);
	objs = calloc(objs_cap, sizeof(*objs));
	CHECK(objs);
	setup_slot(&slots[0], "vgem", 0, true);
	setup_slot(&slots[1], "vgem", 0, false);
	setup_slot(&slots[2], "virtio_gpu", 1, true);
	setup_slot(&slots[3], "virtio_gpu", 1, false);
	for (unsigned t = 0; t < THREADS; t++) {
		workers[t].idx = t;
		workers[t].client = t % CLIENTS;
		workers[t].api = client_api[t % CLIENTS];
		workers[t].rng = seed * 0x100000001b3ull + t;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (use_signals)
		start_signals();
	run();
	if (use_signals)
		stop_signals();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	global_check();
	teardown();
	report((double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	CHECK_INT(kt_dmabuf_count(), ==, base_bufs);
	free(objs);
	CHECK_INT(test_fd_count(), ==, fds);
	if (use_signals)
		CHECK_INT(atomic_load(&signals_seen), >, 0);
	test_pass("stress");
	return 0;
}
