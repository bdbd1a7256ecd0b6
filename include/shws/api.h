/* SPDX-License-Identifier: MIT */
#ifndef SHWS_API_H
#define SHWS_API_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Which client API a reference belongs to. shws keeps a count per API on
 * every file, for statistics and debug logs only: it never changes
 * behaviour. Pass the same value to the matching unref.
 */
enum shws_api {
	SHWS_API_OTHER = 0,
	SHWS_API_GL,
	SHWS_API_VULKAN,
	SHWS_API_VA,
	SHWS_API_COUNT
};

/** "other", "gl", "vulkan", "va"; "invalid" for anything else. Never NULL. */
const char *shws_api_name(enum shws_api api);

#ifdef __cplusplus
}
#endif

#endif
