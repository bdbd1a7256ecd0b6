/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

__attribute__((format(printf, 2, 0)))
static void default_handler(enum shws_log_level level, const char *fmt,
			    va_list args)
{
	static const char *const names[] = { "", "error", "info", "debug" };

	fprintf(stderr, "shws %s: ", names[level]);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

static _Atomic(int) log_level = SHWS_LOG_SILENT;
static _Atomic(shws_log_handler) log_handler = default_handler;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

/* SHWS_DEBUG: unset or "0" silent, "error", "info", "1" or "debug". */
static void read_env(void)
{
	const char *v = getenv("SHWS_DEBUG");

	if (!v || !*v || !strcmp(v, "0"))
		return;
	if (!strcmp(v, "error"))
		atomic_store(&log_level, SHWS_LOG_ERROR);
	else if (!strcmp(v, "info"))
		atomic_store(&log_level, SHWS_LOG_INFO);
	else
		atomic_store(&log_level, SHWS_LOG_DEBUG);
}

SHWS_EXPORT void shws_log_init(enum shws_log_level level,
			       shws_log_handler handler)
{
	/* An explicit call wins over the environment, so read it first. */
	pthread_once(&env_once, read_env);
	if (level > SHWS_LOG_DEBUG)
		level = SHWS_LOG_DEBUG;
	atomic_store(&log_level, level);
	atomic_store(&log_handler, handler ? handler : default_handler);
}

SHWS_EXPORT enum shws_log_level shws_log_get_level(void)
{
	pthread_once(&env_once, read_env);
	return atomic_load(&log_level);
}

void shws_log_print(enum shws_log_level level, const char *file, int line,
		    const char *fmt, ...)
{
	char buf[1024];
	const char *base;
	va_list args;
	int saved = errno;

	if (level > shws_log_get_level() || level == SHWS_LOG_SILENT)
		return;

	base = strrchr(file, '/');
	va_start(args, fmt);
	/* Prefix "[file:line] " onto the caller's format, not its output, so
	 * the handler still receives a format and arguments. */
	snprintf(buf, sizeof(buf), "[%s:%d] %s", base ? base + 1 : file, line,
		 fmt);
	atomic_load(&log_handler)(level, buf, args);
	va_end(args);
	errno = saved;
}
