/* SPDX-License-Identifier: MIT */
/* Internal helpers shared by every source file of libshws. */
#ifndef SHWS_PRIVATE_H
#define SHWS_PRIVATE_H

#include <shws/log.h>

/* Marks a definition as part of the ABI. Every such symbol must also be
 * listed in src/shws.sym; tests/symbols-check enforces it. */
#define SHWS_EXPORT __attribute__((visibility("default")))

#define SHWS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void shws_log_print(enum shws_log_level level, const char *file, int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define shws_log(level, ...) \
	shws_log_print(level, __FILE__, __LINE__, __VA_ARGS__)
#define shws_err(...) shws_log(SHWS_LOG_ERROR, __VA_ARGS__)
#define shws_info(...) shws_log(SHWS_LOG_INFO, __VA_ARGS__)
#define shws_dbg(...) shws_log(SHWS_LOG_DEBUG, __VA_ARGS__)

#endif
