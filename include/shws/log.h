/* SPDX-License-Identifier: MIT */
#ifndef SHWS_LOG_H
#define SHWS_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * shws is silent by default. Messages go to the handler set here; without
 * one, to stderr, and only when the level allows it. The initial level is
 * SHWS_LOG_SILENT, or what the SHWS_DEBUG environment variable says
 * (read once, see docs/env-vars.md).
 *
 * Thread-safety: all functions here may be called from any thread. The
 * handler may be called from any thread that calls into shws, concurrently.
 */
enum shws_log_level {
	SHWS_LOG_SILENT = 0,
	SHWS_LOG_ERROR = 1,
	SHWS_LOG_INFO = 2,
	SHWS_LOG_DEBUG = 3,
};

/**
 * A log handler. @fmt is a printf format; the message carries its own
 * "[file:line] " prefix and no trailing newline. errno is preserved across
 * the call by shws, so handlers need not save it.
 */
typedef void (*shws_log_handler)(enum shws_log_level level, const char *fmt,
				 va_list args);

/** Sets the handler (NULL restores the stderr default) and the level. */
void shws_log_init(enum shws_log_level level, shws_log_handler handler);

/** The level in force. */
enum shws_log_level shws_log_get_level(void);

#ifdef __cplusplus
}
#endif

#endif
