/* SPDX-License-Identifier: MIT */
/* Logging: silent by default, handler receives "[file:line]" and the
 * message, errno preserved, SHWS_DEBUG read once. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "test.h"

static int calls;
static char last[256];
static enum shws_log_level last_level;

__attribute__((format(printf, 2, 0)))
static void handler(enum shws_log_level level, const char *fmt, va_list ap)
{
	calls++;
	last_level = level;
	vsnprintf(last, sizeof(last), fmt, ap);
	errno = EIO; /* shws must restore errno whatever the handler does */
}

int main(void)
{
	unsetenv("SHWS_DEBUG");
	CHECK_INT(shws_log_get_level(), ==, SHWS_LOG_SILENT);

	shws_log_init(SHWS_LOG_SILENT, handler);
	shws_err("hidden %d", 1);
	CHECK_INT(calls, ==, 0);
	test_pass("silent-by-default");

	shws_log_init(SHWS_LOG_INFO, handler);
	errno = ENOENT;
	shws_info("value %d", 42);
	CHECK_INT(errno, ==, ENOENT);
	CHECK_INT(calls, ==, 1);
	CHECK_INT(last_level, ==, SHWS_LOG_INFO);
	CHECK(strstr(last, "[test-log.c:"));
	CHECK(strstr(last, "] value 42"));
	test_pass("handler-format-errno");

	shws_dbg("too verbose");
	CHECK_INT(calls, ==, 1);
	test_pass("level-filter");

	/* The environment is read once, before the first explicit init. */
	setenv("SHWS_DEBUG", "1", 1);
	CHECK_INT(shws_log_get_level(), ==, SHWS_LOG_INFO);
	test_pass("env-read-once");
	return 0;
}
