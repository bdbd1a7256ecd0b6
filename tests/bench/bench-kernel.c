/* SPDX-License-Identifier: MIT */
/*
 * The benchmarks that need the DRM kernel (run in the test VM by
 * tests/bench/run; see docs/performance.md). One mode per process, because
 * SHWS_IDENTITY and SHWS_DMABUF_SYNC are read once per process:
 *
 *   bench-kernel import          P2: dma-buf import through shws vs the raw
 *                                PRIME_FD_TO_HANDLE ioctl (dedupe hit,
 *                                first import, last release)
 *   bench-kernel registry        P3: finding a file in the registry with 1,
 *                                8, 64 files open on one node, with the
 *                                identity method the policy picks (set
 *                                SHWS_IDENTITY to choose); dma-buf
 *                                identity by st_ino
 *   bench-kernel compare         P3: one identity comparison per method, on
 *                                pipes (runs anywhere, the host included)
 *   bench-kernel filemem         P5: heap bytes per shws_file
 *   bench-kernel wsi ITERS [REPS] P4: REPS (default 7) times ITERS
 *                                acquire+release pairs on one idle dma-buf
 *                                (time per pair; run under strace -c -f for
 *                                syscalls per pair)
 */
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xf86drm.h>

#include <shws/shws.h>

#include "bench.h"
#include "kernel/kt.h"

/* Each call is a new open file description of vgem's primary node
 * (kt_open_driver() fails the run, like bench_die(), when there is none). */
static int open_vgem(void)
{
	return kt_open_driver("vgem", KT_PRIMARY);
}

/* A 4 KiB dumb buffer's dma-buf (the handle stays in @fd). */
static int new_dmabuf(int fd)
{
	struct drm_mode_create_dumb c = { .width = 1024, .height = 1,
					  .bpp = 32 };
	int d;

	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c) ||
	    drmPrimeHandleToFD(fd, c.handle, DRM_CLOEXEC | DRM_RDWR, &d))
		bench_die("dumb buffer: %s", strerror(errno));
	return d;
}

static struct shws_file *open_file(int fd)
{
	struct shws_file *f;
	int r = shws_file_open(fd, 0, SHWS_API_GL, &f);

	if (r)
		bench_die("shws_file_open: %s", strerror(-r));
	return f;
}

/* --- P2 -------------------------------------------------------------------- */

#define IMPORT_BUFS 64
#define HIT_ITERS 20000
#define HIT_REPS 15
#define FIRST_REPS 31

/* The raw ioctls, as a driver without shws would call them: ioctl(2)
 * with a restart on EINTR/EAGAIN, as drmIoctl() does, but not through
 * libdrm's two wrapper calls (shws does not use them on this path
 * either, so neither side pays for them). */
static int raw_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static void raw_prime(int fd, int d, uint32_t *h)
{
	struct drm_prime_handle args = { .fd = d };

	if (raw_ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args))
		bench_die("PRIME_FD_TO_HANDLE: %s", strerror(errno));
	*h = args.handle;
}

static void raw_close(int fd, uint32_t h)
{
	struct drm_gem_close args = { .handle = h };

	if (raw_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &args))
		bench_die("GEM_CLOSE: %s", strerror(errno));
}

static struct shws_bo *hit_bos[HIT_ITERS];

/* HIT_ITERS imports of a buffer the file holds (the references pile up),
 * then their unrefs (never the last: the caller holds one more). */
static void hit_shws(struct shws_file *f, int d, double *import,
		     double *unref)
{
	uint64_t t0 = bench_now_ns(), t1;
	int r;

	for (int i = 0; i < HIT_ITERS; i++)
		if ((r = shws_bo_import_dmabuf(f, d, SHWS_API_VULKAN,
					       &hit_bos[i])))
			bench_die("shws import: %s", strerror(-r));
	t1 = bench_now_ns();
	for (int i = 0; i < HIT_ITERS; i++)
		if ((r = shws_bo_unref(hit_bos[i], SHWS_API_VULKAN)))
			bench_die("shws unref: %s", strerror(-r));
	*import = (double)(t1 - t0) / HIT_ITERS;
	*unref = (double)(bench_now_ns() - t1) / HIT_ITERS;
}

/* Import and unref in turn: what a caller that looks a buffer up and lets
 * it go again pays per round trip. */
static double pair_shws(struct shws_file *f, int d)
{
	uint64_t t0 = bench_now_ns();

	for (int i = 0; i < HIT_ITERS; i++) {
		struct shws_bo *bo;
		int r = shws_bo_import_dmabuf(f, d, SHWS_API_VULKAN, &bo);

		if (r || (r = shws_bo_unref(bo, SHWS_API_VULKAN)))
			bench_die("shws import: %s", strerror(-r));
	}
	return (double)(bench_now_ns() - t0) / HIT_ITERS;
}

static double hit_raw(int fd, int d)
{
	uint64_t t0 = bench_now_ns();
	uint32_t h;

	for (int i = 0; i < HIT_ITERS; i++)
		raw_prime(fd, d, &h);
	return (double)(bench_now_ns() - t0) / HIT_ITERS;
}

/* First imports of IMPORT_BUFS buffers, then their last releases. */
static void first_last_shws(struct shws_file *f, const int *d, double *first,
			    double *last)
{
	struct shws_bo *bo[IMPORT_BUFS];
	uint64_t t0 = bench_now_ns(), t1;
	int r;

	for (int i = 0; i < IMPORT_BUFS; i++)
		if ((r = shws_bo_import_dmabuf(f, d[i], SHWS_API_GL, &bo[i])))
			bench_die("shws import: %s", strerror(-r));
	t1 = bench_now_ns();
	for (int i = 0; i < IMPORT_BUFS; i++)
		if (shws_bo_unref(bo[i], SHWS_API_GL))
			bench_die("shws unref failed");
	*first = (double)(t1 - t0) / IMPORT_BUFS;
	*last = (double)(bench_now_ns() - t1) / IMPORT_BUFS;
}

static void first_last_raw(int fd, const int *d, double *first, double *last)
{
	uint32_t h[IMPORT_BUFS];
	uint64_t t0 = bench_now_ns(), t1;

	for (int i = 0; i < IMPORT_BUFS; i++)
		raw_prime(fd, d[i], &h[i]);
	t1 = bench_now_ns();
	for (int i = 0; i < IMPORT_BUFS; i++)
		raw_close(fd, h[i]);
	*first = (double)(t1 - t0) / IMPORT_BUFS;
	*last = (double)(bench_now_ns() - t1) / IMPORT_BUFS;
}

static void bench_import(void)
{
	int e = open_vgem(), g = open_vgem(), sfd = open_vgem();
	struct shws_file *f = open_file(sfd);
	double hs[HIT_REPS], hu[HIT_REPS], hp[HIT_REPS], hr[HIT_REPS],
		fs[FIRST_REPS], fr[FIRST_REPS], ls[FIRST_REPS], lr[FIRST_REPS];
	struct shws_bo *held;
	int d[IMPORT_BUFS + 1]; /* d[0]: the dedupe-hit buffer */
	uint32_t h;

	for (int i = 0; i <= IMPORT_BUFS; i++)
		d[i] = new_dmabuf(e);
	/* Dedupe hit: the buffer is already held in both files. */
	if (shws_bo_import_dmabuf(f, d[0], SHWS_API_GL, &held) ||
	    drmPrimeFDToHandle(g, d[0], &h))
		bench_die("first import failed");
	/* Alternating which side goes first, so that drift within a
	 * round (TCG, the host) does not always favour the same side. */
	for (int rep = 0; rep < HIT_REPS; rep++) {
		if (rep % 2)
			hr[rep] = hit_raw(g, d[0]);
		hit_shws(f, d[0], &hs[rep], &hu[rep]);
		hp[rep] = pair_shws(f, d[0]);
		if (!(rep % 2))
			hr[rep] = hit_raw(g, d[0]);
	}
	/* A round of first imports is short (64 ops): more rounds, so that
	 * a burst of another VM on the host does not decide the median. */
	for (int rep = 0; rep < FIRST_REPS; rep++) {
		first_last_shws(f, d + 1, &fs[rep], &ls[rep]);
		first_last_raw(g, d + 1, &fr[rep], &lr[rep]);
	}
	bench_report("P2-import-dedupe-hit", bench_median(hs, HIT_REPS),
		     "ns/import", bench_median(hr, HIT_REPS));
	/* No kernel baseline: the raw ioctl hands out no reference. */
	bench_report("P2-unref-not-last", bench_median(hu, HIT_REPS),
		     "ns/unref", 0);
	bench_report("P2-import-unref-pair", bench_median(hp, HIT_REPS),
		     "ns/pair", bench_median(hr, HIT_REPS));
	bench_report("P2-import-first", bench_median(fs, FIRST_REPS),
		     "ns/import", bench_median(fr, FIRST_REPS));
	bench_report("P2-release-last", bench_median(ls, FIRST_REPS),
		     "ns/release", bench_median(lr, FIRST_REPS));
}

/* --- P3 -------------------------------------------------------------------- */

#define REG_ITERS 2000
/* A multiple of 64: every file of the node is looked up equally often. The
 * epoll method costs ~10 syscalls per candidate, slow under TCG. */
#define LOOKUP_ITERS 128

/* ns per shws_file_open() + unref of an fd whose description is already in
 * the registry, 0, with @n files on the node, cycling over all of them (the
 * registry's list order does not favour any). One repetition: the files
 * are opened and closed around it, so that repetitions of different @n
 * can be interleaved (drift of a shared machine hits all @n alike). */
static double registry_cost(int n)
{
	int fds[64];
	struct shws_file *files[64];
	uint64_t t0;
	double t;

	for (int i = 0; i < n; i++) {
		fds[i] = open_vgem();
		files[i] = open_file(fds[i]);
	}
	t0 = bench_now_ns();
	for (int i = 0; i < LOOKUP_ITERS; i++) {
		struct shws_file *f = open_file(fds[i % n]);

		if (f != files[i % n])
			bench_die("registry returned another file");
		shws_file_unref(f, SHWS_API_GL);
	}
	t = (double)(bench_now_ns() - t0) / LOOKUP_ITERS;
	for (int i = 0; i < n; i++) {
		shws_file_unref(files[i], SHWS_API_GL);
		close(fds[i]);
	}
	return t;
}

/* One repetition: ns per fstat(). */
static double fstat_cost(int fd)
{
	uint64_t t0 = bench_now_ns();
	struct stat st;

	for (int i = 0; i < REG_ITERS; i++)
		if (fstat(fd, &st))
			bench_die("fstat: %s", strerror(errno));
	return (double)(bench_now_ns() - t0) / REG_ITERS;
}

/* One repetition: ns per shws_identity_dmabuf_ino(). */
static double ino_cost(int d)
{
	uint64_t t0 = bench_now_ns();
	uint64_t ino;

	for (int i = 0; i < REG_ITERS; i++)
		if (shws_identity_dmabuf_ino(d, &ino))
			bench_die("shws_identity_dmabuf_ino failed");
	return (double)(bench_now_ns() - t0) / REG_ITERS;
}

static void bench_registry(void)
{
	enum { N_COUNTS = 3 };
	static const int counts[N_COUNTS] = { 1, 8, 64 };
	double t[N_COUNTS][BENCH_REPS];
	const char *m = shws_identity_method_name(
		shws_identity_chosen_method());
	const char *how = getenv("SHWS_IDENTITY") ? "" : "auto-";
	double one = 0;
	char name[96];
	int e, d;

	for (int rep = 0; rep < BENCH_REPS; rep++)
		for (unsigned i = 0; i < N_COUNTS; i++)
			t[i][rep] = registry_cost(counts[i]);
	for (unsigned i = 0; i < N_COUNTS; i++) {
		double c = bench_median(t[i], BENCH_REPS);

		snprintf(name, sizeof(name), "P3-registry-%s%s-%df", how, m,
			 counts[i]);
		if (counts[i] == 1)
			one = c;
		bench_report(name, c, "ns/lookup", counts[i] == 1 ? 0 : one);
	}
	if (*how) {
		double ino[BENCH_REPS], st[BENCH_REPS];

		e = open_vgem();
		d = new_dmabuf(e);
		for (int rep = 0; rep < BENCH_REPS; rep++) {
			ino[rep] = ino_cost(d);
			st[rep] = fstat_cost(d);
		}
		/* The baseline: the one fstat() any st_ino identity needs. */
		bench_report("P3-dmabuf-ino", bench_median(ino, BENCH_REPS),
			     "ns/identity", bench_median(st, BENCH_REPS));
		close(d);
		close(e);
	}
}

/* One comparison of two different descriptions (the registry's common
 * case: every file but one differs) per method, on two pipes (pollable,
 * which the epoll method needs). */
static void bench_compare(void)
{
	static const enum shws_identity_method ms[] = {
		SHWS_IDENTITY_METHOD_DUPFD_QUERY, SHWS_IDENTITY_METHOD_KCMP,
		SHWS_IDENTITY_METHOD_EPOLL,
	};
	int p[2], q[2], a, b;
	double st[BENCH_REPS], base;

	if (pipe2(p, O_CLOEXEC) || pipe2(q, O_CLOEXEC))
		bench_die("pipe2: %s", strerror(errno));
	a = p[0];
	b = q[0];
	for (int rep = 0; rep < BENCH_REPS; rep++)
		st[rep] = fstat_cost(a);
	base = bench_median(st, BENCH_REPS);

	for (unsigned k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
		double t[BENCH_REPS];
		char name[64];

		if (shws_identity_compare_method(ms[k], a, b) !=
		    SHWS_IDENTITY_DIFFERENT)
			continue; /* not available on this kernel */
		for (int rep = 0; rep < BENCH_REPS; rep++) {
			uint64_t t0 = bench_now_ns();

			for (int i = 0; i < REG_ITERS; i++)
				shws_identity_compare_method(ms[k], a, b);
			t[rep] = (double)(bench_now_ns() - t0) / REG_ITERS;
		}
		snprintf(name, sizeof(name), "P3-compare-%s",
			 shws_identity_method_name(ms[k]));
		/* The baseline is one fstat(): the cost of a trivial
		 * syscall on this machine. */
		bench_report(name, bench_median(t, BENCH_REPS), "ns/compare",
			     base);
	}
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* --- P5 -------------------------------------------------------------------- */

static void bench_filemem(void)
{
	enum { N = 64 };
	int fds[N + 1];
	struct shws_file *files[N + 1];
	size_t before;

	/* The first file also creates the device: not counted. */
	fds[0] = open_vgem();
	files[0] = open_file(fds[0]);
	for (int i = 1; i <= N; i++)
		fds[i] = open_vgem();
	before = bench_heap_bytes();
	for (int i = 1; i <= N; i++)
		files[i] = open_file(fds[i]);
	bench_report("P5-bytes-per-file", (double)(bench_heap_bytes() - before) / N,
		     "bytes", 0);
	for (int i = 0; i <= N; i++) {
		shws_file_unref(files[i], SHWS_API_GL);
		close(fds[i]);
	}
}

/* --- P4 -------------------------------------------------------------------- */

/* A signalled sync_file: the (idle) dma-buf's own fences, taken with the
 * raw ioctl so that the fallback mode can use one too. */
static int signalled_sync_file(int d)
{
	struct dma_buf_export_sync_file x = { .flags = DMA_BUF_SYNC_WRITE,
					      .fd = -1 };

	if (drmIoctl(d, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &x))
		bench_die("EXPORT_SYNC_FILE: %s", strerror(errno));
	return x.fd;
}

static void bench_wsi(long iters, int reps)
{
	int e = open_vgem(), d = new_dmabuf(e), done = signalled_sync_file(d);
	double t[BENCH_REPS];
	const char *mode = getenv("SHWS_DMABUF_SYNC");
	char name[64];

	if (reps < 1 || reps > BENCH_REPS)
		bench_die("REPS must be 1..%d", BENCH_REPS);
	for (int rep = 0; rep < reps; rep++) {
		uint64_t t0 = bench_now_ns();

		for (long i = 0; i < iters; i++) {
			int acq;

			if (shws_wsi_acquire(d, SHWS_SYNC_WRITE, &acq))
				bench_die("shws_wsi_acquire failed");
			if (acq >= 0)
				close(acq);
			if (shws_wsi_release(d, done))
				bench_die("shws_wsi_release failed");
		}
		t[rep] = (double)(bench_now_ns() - t0) / (double)iters;
	}
	snprintf(name, sizeof(name), "P4-wsi-pair-%s",
		 mode && !strcmp(mode, "fallback") ? "fallback" : "explicit");
	bench_report(name, bench_median(t, reps), "ns/pair", 0);
	close(done);
	close(d);
	close(e);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "import"))
		bench_import();
	else if (argc == 2 && !strcmp(argv[1], "registry"))
		bench_registry();
	else if (argc == 2 && !strcmp(argv[1], "compare"))
		bench_compare();
	else if (argc == 2 && !strcmp(argv[1], "filemem"))
		bench_filemem();
	else if ((argc == 3 || argc == 4) && !strcmp(argv[1], "wsi"))
		bench_wsi(atol(argv[2]), argc == 4 ? atoi(argv[3]) : BENCH_REPS);
	else
		bench_die("usage: bench-kernel import|registry|compare|filemem"
			  "|wsi ITERS [REPS]");
	return 0;
}
