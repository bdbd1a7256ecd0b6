/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the benchmarks (tests/bench, docs/performance.md).
 * Every figure is one line on stdout:
 *   NAME value unit (baseline value, ratio)
 * where ratio = value / baseline (lower is better for costs). The run
 * script parses these lines; nothing else goes to stdout.
 */
#ifndef SHWS_BENCH_H
#define SHWS_BENCH_H

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_REPS 7

#define bench_die(...)                                                    \
	do {                                                              \
		fprintf(stderr, "bench: " __VA_ARGS__);                   \
		fprintf(stderr, "\n");                                    \
		exit(1);                                                  \
	} while (0)

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One figure. @baseline <= 0 means "no baseline" (printed as "-"). */
static inline void bench_report(const char *name, double value,
				const char *unit, double baseline)
{
	if (baseline > 0)
		printf("%s %.4g %s (baseline %.4g %s, %.3f)\n", name, value,
		       unit, baseline, unit, value / baseline);
	else
		printf("%s %.4g %s (baseline -, -)\n", name, value, unit);
	fflush(stdout);
}

/* Heap bytes in use: malloc'ed chunks plus mmap'ed ones. */
static inline size_t bench_heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* xorshift, for shuffles that do not depend on libc's rand(). */
static inline uint32_t bench_rand(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static inline void bench_shuffle(uint32_t *v, uint32_t n, uint32_t seed)
{
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = bench_rand(&seed) % (i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

#endif
