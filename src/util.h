/* SPDX-License-Identifier: MIT */
/*
 * The util layer: what every other module of libshws may use, and nothing
 * here uses another module (docs/architecture.md, "Layers").
 *  - export and log macros (log.c);
 *  - the one rule for enum shws_api arguments (api.c);
 *  - the one rule for errno after a failed syscall.
 * The futex mutex (mutex.h) and fd classification (fd_kind.h) are util too.
 */
#ifndef SHWS_UTIL_H
#define SHWS_UTIL_H

#include <errno.h>
#include <stdbool.h>

#include <shws/api.h>
#include <shws/log.h>

/* Marks a definition as part of the ABI. Every such symbol must also be
 * listed in src/shws.sym; tests/symbols-check enforces it. */
#define SHWS_EXPORT __attribute__((visibility("default")))

#define SHWS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define shws_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

void shws_log_print(enum shws_log_level level, const char *file, int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define shws_log(level, ...) \
	shws_log_print(level, __FILE__, __LINE__, __VA_ARGS__)
#define shws_err(...) shws_log(SHWS_LOG_ERROR, __VA_ARGS__)
#define shws_info(...) shws_log(SHWS_LOG_INFO, __VA_ARGS__)
#define shws_dbg(...) shws_log(SHWS_LOG_DEBUG, __VA_ARGS__)

/* The negative errno of the syscall that just failed. -EIO if errno was
 * left 0 (a libdrm wrapper that failed without setting it), so a failure
 * is never reported as success. */
static inline int shws_neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* The one rule for an enum shws_api argument: a value of the enum, or
 * the function returns -EINVAL (NULL for lookups) and changes nothing. */
static inline bool shws_api_valid(enum shws_api api)
{
	return (unsigned)api < SHWS_API_COUNT;
}

#endif
