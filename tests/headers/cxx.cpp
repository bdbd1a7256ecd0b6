// SPDX-License-Identifier: MIT
// Compiled as C++11 with -pedantic-errors: the public API must allow it.
#include <shws/shws.h>
#include <cstdio>
#include <cstring>

static_assert(SHWS_CHECK_VERSION(SHWS_VERSION_MAJOR, SHWS_VERSION_MINOR,
				 SHWS_VERSION_MICRO),
	      "SHWS_CHECK_VERSION is false for the headers' own version");
static_assert(!SHWS_CHECK_VERSION(SHWS_VERSION_MAJOR + 1, 0, 0),
	      "SHWS_CHECK_VERSION is true for a newer version");

int main()
{
	const char *v = shws_version();

	if (!v || !std::strchr(v, '.') ||
	    std::strcmp(v, SHWS_VERSION_STRING) != 0) {
		std::fprintf(stderr, "bad version string\n");
		return 1;
	}
	std::printf("shws %s from C++\n", v);
	return 0;
}
