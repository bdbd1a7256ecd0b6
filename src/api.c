/* SPDX-License-Identifier: MIT */
/* Names of the client APIs that hold references (include/shws/api.h). */
#include "util.h"

static const char *const api_names[] = {
	[SHWS_API_OTHER] = "other",
	[SHWS_API_GL] = "gl",
	[SHWS_API_VULKAN] = "vulkan",
	[SHWS_API_VA] = "va",
};

_Static_assert(SHWS_ARRAY_SIZE(api_names) == SHWS_API_COUNT,
	       "a name for every api");

SHWS_EXPORT const char *shws_api_name(enum shws_api api)
{
	return shws_api_valid(api) ? api_names[api] : "invalid";
}
