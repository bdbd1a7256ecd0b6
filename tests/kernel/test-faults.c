/* SPDX-License-Identifier: MIT */
/*
 * Faults: every one must end in a clean negative errno or a documented
 * fallback, never a leak or a crash (docs/reliability.md).
 *  - app-closes-fds: the app closes its device fds and dma-buf fds right
 *    after handing them to shws; everything keeps working.
 *  - emfile: the fd table is full (0, 1, 2 or 3 free slots) at every
 *    fd-creating call: 0 or -EMFILE (identity: UNKNOWN), and the fd table
 *    is exactly as before once the results are closed.
 *  - alloc-failure: this program is linked with -Wl,--wrap for malloc,
 *    calloc, realloc, aligned_alloc (the handle table's buckets) and
 *    strdup, which also covers libshws's objects (the
 *    internal static library): the Nth allocation of a whole scenario
 *    fails, for N = 1, 2, ... until the scenario runs without reaching N.
 *    Every call returns 0 or -ENOMEM; fds and dma-bufs return to the
 *    baseline each time; ASan's leak check covers memory at exit.
 *  - eintr: SIGALRM without SA_RESTART, sent to the waiting thread while
 *    it sleeps in poll() on a pending fence: the wait neither fails with
 *    EINTR nor returns early (a timed one keeps its timeout; one for ever
 *    returns only once the fence signalled, after a fixed number of
 *    handled signals).
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "test-bo-common.h"
#include "vgem_fence.h"

#define SEED 0xfa170000u

/* --- Allocation failure injection ---------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
char *__wrap_strdup(const char *s);

static atomic_long fail_at;    /* 0: disarmed */
static atomic_long alloc_calls, injected;

static bool inject(void)
{
	if (!atomic_load(&fail_at))
		return false;
	if (atomic_fetch_add(&alloc_calls, 1) + 1 != atomic_load(&fail_at))
		return false;
	atomic_fetch_add(&injected, 1);
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return inject() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return inject() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return inject() ? NULL : __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
	return inject() ? NULL : __real_aligned_alloc(align, n);
}

char *__wrap_strdup(const char *s)
{
	return inject() ? NULL : __real_strdup(s);
}

/* --- Shared ------------------------------------------------------------- */

static int card_fd(void)
{
	return kt_open_driver("vgem", KT_PRIMARY);
}

static void check_baseline(const char *what, int fds, int bufs)
{
	if (test_fd_count() != fds)
		test_fail("%s: %d fds, baseline %d", what, test_fd_count(),
			  fds);
	if (kt_dmabuf_count() != bufs)
		test_fail("%s: %d dma-bufs, baseline %d", what,
			  kt_dmabuf_count(), bufs);
}

/* --- app-closes-fds ------------------------------------------------------- */

static void app_closes_fds(void)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count();
	int card = card_fd(), render = kt_open_driver("vgem", KT_RENDER);
	struct shws_file *fc, *fr;
	struct shws_bo *bo, *rbo, *t;
	uint32_t name;
	int x, fd, sf;

	CHECK_OK(shws_file_open(card, 0, SHWS_API_GL, &fc));
	CHECK_OK(shws_file_open(render, 0, SHWS_API_VA, &fr));
	x = bo_make_dmabuf(card, SEED);
	CHECK_OK(shws_bo_import_dmabuf(fc, x, SHWS_API_GL, &bo));
	CHECK_OK(shws_bo_import_dmabuf(fr, x, SHWS_API_VA, &rbo));
	/* The app lets go of everything it owns at once. */
	close(x);
	close(card);
	close(render);
	shws_file_unref(fc, SHWS_API_GL);
	shws_file_unref(fr, SHWS_API_VA);
	/* The bos keep their files (and so the handles) alive. */
	CHECK(bo_shws_matches(bo, SEED));
	CHECK(bo_shws_matches(rbo, SEED));
	CHECK_OK(shws_bo_flink(bo, &name));
	CHECK(name != 0);
	CHECK_OK(shws_bo_translate(rbo, shws_bo_file(bo), SHWS_API_GL, &t));
	CHECK(t == bo);
	CHECK_OK(shws_bo_unref(t, SHWS_API_GL));
	CHECK_OK(shws_bo_translate(bo, fr, SHWS_API_VA, &t));
	CHECK(t == rbo);
	CHECK_OK(shws_bo_unref(t, SHWS_API_VA));
	CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
	close(fd);
	/* rbo's fences: those of its dma-buf. */
	CHECK_OK(shws_bo_export_dmabuf(rbo, &fd));
	CHECK_OK(shws_dmabuf_export_sync_file(fd, SHWS_SYNC_RW, &sf));
	CHECK_OK(shws_sync_file_wait(sf, 0));
	close(sf);
	close(fd);
	CHECK_OK(shws_bo_unref(rbo, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	check_baseline("app-closes-fds", fds, bufs);
	test_pass("app-closes-fds");
}

/* --- EMFILE --------------------------------------------------------------- */

struct filler {
	int *fd;
	int n;
};

/* Fills every free slot below the soft limit; returns how many. */
static void fill_table(struct filler *f, int max)
{
	f->fd = calloc((size_t)max, sizeof(int));
	CHECK(f->fd);
	f->n = 0;
	for (;;) {
		int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

		if (fd < 0) {
			CHECK_INT(errno, ==, EMFILE);
			break;
		}
		CHECK_INT(f->n, <, max);
		f->fd[f->n++] = fd;
	}
}

static void free_slots(struct filler *f, int k)
{
	for (; k > 0 && f->n; k--)
		close(f->fd[--f->n]);
}

static int free_slot_count(void)
{
	int fd[8], n = 0;

	while (n < 8 && (fd[n] = fcntl(0, F_DUPFD_CLOEXEC, 0)) >= 0)
		n++;
	for (int i = 0; i < n; i++)
		close(fd[i]);
	return n;
}

static void unfill(struct filler *f)
{
	free_slots(f, f->n);
	free(f->fd);
}

/* 0 or -EMFILE: anything else is a wrong errno. Counts what happened. */
static unsigned long emfile_calls, emfile_refused;

static bool ok_or_emfile(const char *what, int k, int r)
{
	emfile_calls++;
	if (r == -EMFILE) {
		emfile_refused++;
		return false;
	}
	if (r != 0)
		test_fail("%s with %d free fd slots: %d (%s), want 0 or -EMFILE",
			  what, k, r, strerror(-r));
	return true;
}

/* Every fd-creating call with exactly @k free slots. The fixtures were
 * made before the table was filled. */
static void emfile_round(int k, int card, int render2, int x,
			 struct shws_bo *bo, struct shws_file *fr)
{
	struct shws_file *f;
	struct shws_bo *b2;
	int fd, sf, sf2, r;

	/* A second open() of the node: a new description, needs a dup. */
	if (ok_or_emfile("shws_file_open(new description)", k,
			 shws_file_open(render2, SHWS_FILE_PRIVATE_OK,
					 SHWS_API_VULKAN, &f)))
		shws_file_unref(f, SHWS_API_VULKAN);
	if (ok_or_emfile("shws_bo_export_dmabuf", k,
			 shws_bo_export_dmabuf(bo, &fd))) {
		/* The bo's fences, through its dma-buf. */
		if (ok_or_emfile("shws_dmabuf_export_sync_file(bo)", k,
				 shws_dmabuf_export_sync_file(
					 fd, SHWS_SYNC_READ, &sf)))
			close(sf);
		close(fd);
	}
	/* Translation exports a temporary dma-buf. */
	if (ok_or_emfile("shws_bo_translate", k,
			 shws_bo_translate(bo, fr, SHWS_API_GL, &b2))) {
		CHECK(b2);
		CHECK_OK(shws_bo_unref(b2, SHWS_API_GL));
	}
	if (ok_or_emfile("shws_dmabuf_export_sync_file", k,
			 shws_dmabuf_export_sync_file(x, SHWS_SYNC_RW, &sf))) {
		if (ok_or_emfile("shws_sync_file_merge", k,
				 shws_sync_file_merge(NULL, sf, sf, &sf2)))
			close(sf2);
		/* Import creates no fd. */
		ok_or_emfile("shws_dmabuf_import_sync_file", k,
			     shws_dmabuf_import_sync_file(x, SHWS_SYNC_WRITE,
							  sf));
		close(sf);
	}
	r = shws_wsi_acquire(x, SHWS_SYNC_WRITE, &sf);
	if (ok_or_emfile("shws_wsi_acquire", k, r) && sf >= 0)
		close(sf);
	r = shws_wsi_acquire(x, SHWS_SYNC_READ, &sf);
	if (ok_or_emfile("shws_wsi_acquire(READ)", k, r) && sf >= 0)
		close(sf);
	/* The epoll method needs two slots: without them it cannot tell,
	 * and says so (UNKNOWN), never DIFFERENT. */
	r = shws_identity_compare_method(SHWS_IDENTITY_METHOD_EPOLL, card,
					 card);
	emfile_calls++;
	CHECK(r == SHWS_IDENTITY_SAME || (k < 2 && r == SHWS_IDENTITY_UNKNOWN));
	r = shws_identity_compare_method(SHWS_IDENTITY_METHOD_EPOLL, card,
					 render2);
	emfile_calls++;
	CHECK(r == SHWS_IDENTITY_DIFFERENT ||
	      (k < 2 && r == SHWS_IDENTITY_UNKNOWN));
	/* Import and lookup create no fd: they must just work. */
	CHECK_OK(shws_bo_import_dmabuf(shws_bo_file(bo), x, SHWS_API_VA, &b2));
	CHECK(b2 == bo);
	CHECK_OK(shws_bo_unref(b2, SHWS_API_VA));
}

static void emfile(void)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count();
	int card = card_fd(), render = kt_open_driver("vgem", KT_RENDER);
	int render2 = kt_open_driver("vgem", KT_RENDER);
	struct shws_file *fc, *fr;
	struct rlimit old, lim;
	struct shws_bo *bo;
	struct filler fill;
	int x;

	CHECK_OK(shws_file_open(card, 0, SHWS_API_GL, &fc));
	CHECK_OK(shws_file_open(render, 0, SHWS_API_GL, &fr));
	x = bo_make_dmabuf(card, SEED);
	CHECK_OK(shws_bo_import_dmabuf(fc, x, SHWS_API_GL, &bo));
	/* Warm the once-per-process probes (identity, dma-buf sync caps)
	 * while fds are free: they are not what this test is about. */
	CHECK_INT(shws_identity_compare(card, render), ==,
		  SHWS_IDENTITY_DIFFERENT);
	CHECK(shws_dmabuf_sync_caps(x) >= 0);

	CHECK_SYS(getrlimit(RLIMIT_NOFILE, &old));
	lim = old;
	lim.rlim_cur = (rlim_t)test_fd_count() + 64;
	CHECK_SYS(setrlimit(RLIMIT_NOFILE, &lim));
	for (int k = 0; k <= 3; k++) {
		fill_table(&fill, 128);
		free_slots(&fill, k);
		emfile_round(k, card, render2, x, bo, fr);
		/* Exactly k slots still free: nothing leaked into the table
		 * and nothing of ours was closed (/proc/self/fd cannot be
		 * read now: opendir needs a slot). */
		CHECK_INT(free_slot_count(), ==, k);
		unfill(&fill);
	}
	CHECK_SYS(setrlimit(RLIMIT_NOFILE, &old));
	CHECK(bo_shws_matches(bo, SEED));
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	shws_file_unref(fr, SHWS_API_GL);
	shws_file_unref(fc, SHWS_API_GL);
	close(x);
	close(render2);
	close(render);
	close(card);
	check_baseline("emfile", fds, bufs);
	printf("emfile: %lu fd-creating calls with 0-3 free slots, %lu "
	       "refused with -EMFILE\n", emfile_calls, emfile_refused);
	CHECK(emfile_refused > 0);
	test_pass("emfile");
}

/* --- Allocation failure ---------------------------------------------------- */

/* Returns true to go on: 0 goes on, -ENOMEM stops the scenario, anything
 * else fails the test. */
static bool step_ok(const char *what, long n, int r)
{
	if (r == 0)
		return true;
	if (r != -ENOMEM)
		test_fail("%s with allocation %ld failing: %d (%s), want 0 or "
			  "-ENOMEM", what, n, r, strerror(-r));
	return false;
}

/*
 * One scenario touching every allocating path: new device and files,
 * adopt, import, flink import, translation both ways (a hold cycle, freed
 * by the cycle collector), sync_file export/import, fence info. Runs with
 * the Nth allocation failing; cleans up whatever it got.
 */
static void alloc_scenario(long n, int x)
{
	struct shws_file *fc = NULL, *fr = NULL;
	struct shws_bo *a = NULL, *b = NULL, *c = NULL, *back = NULL;
	struct shws_bo *again = NULL;
	struct shws_sync_fence_info fi[2];
	struct shws_sync_file_info info;
	int card = card_fd(), render = kt_open_driver("vgem", KT_RENDER);
	uint32_t h = bo_dumb_create(card, BO_SIZE), name;
	bool adopted = false;
	int sf = -1, abuf = -1, bbuf = -1;

	atomic_store(&alloc_calls, 0);
	atomic_store(&fail_at, n);
	if (!step_ok("file_open(card)", n,
		     shws_file_open(card, 0, SHWS_API_GL, &fc)))
		goto out;
	if (!step_ok("file_open(render)", n,
		     shws_file_open(render, 0, SHWS_API_VA, &fr)))
		goto out;
	if (!step_ok("adopt", n,
		     shws_bo_adopt(fc, shws_file_fd(fc), h, BO_SIZE, SHWS_API_GL, &a)))
		goto out;
	adopted = true;
	if (!step_ok("import_dmabuf", n,
		     shws_bo_import_dmabuf(fr, x, SHWS_API_VA, &b)))
		goto out;
	if (!step_ok("flink", n, shws_bo_flink(a, &name)) ||
	    !step_ok("import_flink", n,
		     shws_bo_import_flink(fc, name, SHWS_API_VULKAN, &c)))
		goto out;
	CHECK(c == a);
	/* render -> card and back: the way back is b itself. */
	if (!step_ok("translate", n,
		     shws_bo_translate(b, fc, SHWS_API_GL, &back)))
		goto out;
	CHECK(shws_bo_file(back) == fc);
	if (!step_ok("translate back", n,
		     shws_bo_translate(back, fr, SHWS_API_VA, &again)))
		goto out;
	CHECK(again == b);
	/* A bo's fences are those of its dma-buf. */
	if (!step_ok("export_dmabuf(a)", n, shws_bo_export_dmabuf(a, &abuf)) ||
	    !step_ok("export_dmabuf(b)", n, shws_bo_export_dmabuf(b, &bbuf)))
		goto out;
	if (!step_ok("export_sync_file", n,
		     shws_dmabuf_export_sync_file(abuf, SHWS_SYNC_RW, &sf)))
		goto out;
	if (!step_ok("sync_file_info", n, shws_sync_file_info(sf, &info, fi, 2)))
		goto out;
	step_ok("import_sync_file", n,
		shws_dmabuf_import_sync_file(bbuf, SHWS_SYNC_WRITE, sf));
out:
	/* Still armed: the last unrefs must not need memory. */
	if (sf >= 0)
		close(sf);
	if (abuf >= 0)
		close(abuf);
	if (bbuf >= 0)
		close(bbuf);
	if (again)
		CHECK_OK(shws_bo_unref(again, SHWS_API_VA));
	if (back)
		CHECK_OK(shws_bo_unref(back, SHWS_API_GL));
	if (c)
		CHECK_OK(shws_bo_unref(c, SHWS_API_VULKAN));
	if (b)
		CHECK_OK(shws_bo_unref(b, SHWS_API_VA));
	if (a)
		CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	atomic_store(&fail_at, 0);
	if (!adopted) /* adopt failed or never ran: the handle is ours */
		CHECK_SYS(drmCloseBufferHandle(card, h));
	shws_file_unref(fr, SHWS_API_VA);
	shws_file_unref(fc, SHWS_API_GL);
	close(render);
	close(card);
}

static void alloc_failure(void)
{
	int fds = test_fd_count(), bufs;
	int card = card_fd(), x = bo_make_dmabuf(card, SEED);
	long n;

	close(card);
	bufs = kt_dmabuf_count();
	for (n = 1;; n++) {
		long before = atomic_load(&injected);

		char what[64];

		alloc_scenario(n, x);
		snprintf(what, sizeof(what), "alloc-failure, allocation %ld", n);
		check_baseline(what, fds + 1, bufs);
		if (atomic_load(&injected) == before)
			break; /* the scenario made fewer than n allocations */
	}
	close(x);
	CHECK(n > 5); /* the hooks did see shws's allocations */
	printf("alloc-failure: the scenario makes %ld allocations; each one "
	       "failed once: %ld runs, every call 0 or -ENOMEM, no leak\n",
	       n - 1, (long)atomic_load(&injected));
	test_pass("alloc-failure");
}

/* --- EINTR ------------------------------------------------------------------ */

/*
 * SIGALRM without SA_RESTART, sent by a second thread to the waiting thread
 * alone and only while it sleeps (in poll()), at most once a millisecond.
 * What is asserted is shws's promise, never a number of signals per unit of
 * time: that number depends on scheduling (TSan defers signal handlers, and
 * a loaded host once delivered 1 where the old check wanted more than 10
 * in 300 ms).
 *  - timed: a 300 ms wait on a pending fence returns -ETIME, never -EINTR,
 *    and not before its 300 ms, whatever signals it took.
 *  - unbounded: a wait for ever returns 0, and only after the test
 *    signalled the fence; the signaller signals the fence only once
 *    EINTR_HITS signal handlers ran during the wait. That number is reached
 *    by waiting for it, so load changes how long this takes, not whether it
 *    passes. (vgem signals a fence by itself after 10 s: the test would
 *    then see the wait return before it signalled, and fail.)
 */
#define EINTR_HITS 10
/* Timed waits until one of them took a signal: only against a signaller
 * that never ran during 300 ms, 10 times in a row. (Each phase has a fence
 * of its own: vgem signals a fence by itself after 10 s.) */
#define EINTR_TIMED_TRIES 10

static atomic_bool in_wait;      /* the main thread is in shws_sync_file_wait() */
static atomic_ulong hits;        /* handlers that ran while in_wait */

static void on_alarm(int sig)
{
	(void)sig;
	if (atomic_load(&in_wait))
		atomic_fetch_add(&hits, 1);
}

struct signaller {
	pthread_t target;
	pid_t tid;
	int vgem;
	uint32_t fence;
	unsigned long want;      /* 0: signal until stopped; else hits, then the fence */
	atomic_bool stop;
	atomic_bool fence_signalled;
	atomic_ulong sent;
};

/* true if thread @tid of this process sleeps interruptibly (state S). */
static bool thread_sleeps(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		test_fail("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		test_fail("read %s: %s", path, n ? strerror(errno) : "empty");
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static void *signal_waiter(void *arg)
{
	struct signaller *s = arg;
	const struct timespec ms = { 0, 1000000 };

	while (!atomic_load(&s->stop)) {
		if (s->want && atomic_load(&hits) >= s->want) {
			atomic_store(&s->fence_signalled, true);
			vf_signal(s->vgem, s->fence);
			break;
		}
		if (atomic_load(&in_wait) && thread_sleeps(s->tid)) {
			CHECK_INT(pthread_kill(s->target, SIGALRM), ==, 0);
			atomic_fetch_add(&s->sent, 1);
		}
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static void signaller_start(struct signaller *s, pthread_t *thread)
{
	atomic_store(&s->stop, false);
	atomic_store(&s->sent, 0);
	CHECK_INT(pthread_create(thread, NULL, signal_waiter, s), ==, 0);
}

static void signaller_stop(struct signaller *s, pthread_t thread)
{
	atomic_store(&s->stop, true);
	CHECK_INT(pthread_join(thread, NULL), ==, 0);
}

static void eintr(void)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	int vgem = card_fd(), sf, tries;
	struct vbuf b = vbuf_new(vgem), b2 = vbuf_new(vgem);
	struct signaller s = {
		.target = pthread_self(),
		.tid = (pid_t)syscall(SYS_gettid),
		.vgem = vgem,
	};
	unsigned long timed_hits = 0;
	pthread_t thread;
	int64_t t0, took = 0;

	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGALRM, &sa, NULL));

	/* Timed. */
	s.fence = vf_attach(&b, 1);
	CHECK_OK(shws_dmabuf_export_sync_file(b.dmabuf, SHWS_SYNC_READ, &sf));
	signaller_start(&s, &thread);
	for (tries = 0; tries < EINTR_TIMED_TRIES && !timed_hits; tries++) {
		atomic_store(&hits, 0);
		atomic_store(&in_wait, true);
		t0 = mono_ms();
		CHECK_INT(shws_sync_file_wait(sf, 300), ==, -ETIME);
		took = mono_ms() - t0;
		atomic_store(&in_wait, false);
		CHECK_INT(took, >=, 300);
		timed_hits = atomic_load(&hits);
	}
	signaller_stop(&s, thread);
	if (!timed_hits)
		test_fail("no signal reached any of %d timed waits: the "
			  "signalling thread never ran", EINTR_TIMED_TRIES);
	vf_signal(vgem, s.fence);
	CHECK_OK(shws_sync_file_wait(sf, 0));
	close(sf);

	/* Unbounded: the fence is signalled after EINTR_HITS handlers. */
	s.fence = vf_attach(&b2, 1);
	s.want = EINTR_HITS;
	CHECK_OK(shws_dmabuf_export_sync_file(b2.dmabuf, SHWS_SYNC_READ, &sf));
	atomic_store(&hits, 0);
	signaller_start(&s, &thread);
	atomic_store(&in_wait, true);
	CHECK_INT(shws_sync_file_wait(sf, -1), ==, 0);
	atomic_store(&in_wait, false);
	if (!atomic_load(&s.fence_signalled))
		test_fail("the wait returned 0 before the test signalled the "
			  "fence (%lu signals handled)",
			  (unsigned long)atomic_load(&hits));
	CHECK_INT(atomic_load(&hits), >=, EINTR_HITS);
	signaller_stop(&s, thread);

	close(sf);
	vbuf_free(&b2);
	vbuf_free(&b);
	close(vgem);
	/* Not SIG_DFL: a signal TSan still holds back must not kill us. */
	signal(SIGALRM, SIG_IGN);
	printf("eintr: timed wait -ETIME after %lld ms with %lu signals "
	       "handled (try %d); unbounded wait 0 after %lu signals handled, "
	       "%lu sent while it slept\n", (long long)took, timed_hits,
	       tries, (unsigned long)atomic_load(&hits),
	       (unsigned long)atomic_load(&s.sent));
	test_pass("eintr");
}

int main(void)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count();

	kt_banner("faults");
	app_closes_fds();
	emfile();
	alloc_failure();
	eintr();
	check_baseline("faults", fds, bufs);
	test_pass("no-leaks");
	return 0;
}
