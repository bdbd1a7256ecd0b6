/* SPDX-License-Identifier: MIT */
/* Compiled with -std=c99 -pedantic-errors: the public API must allow it. */
#include <shws/shws.h>
#include <stdio.h>
#include <string.h>

/* The generated version macros (include/shws/version.h.in) work in #if. */
#if !SHWS_CHECK_VERSION(SHWS_VERSION_MAJOR, SHWS_VERSION_MINOR, \
			SHWS_VERSION_MICRO)
#error "SHWS_CHECK_VERSION is false for the headers' own version"
#endif
#if !SHWS_CHECK_VERSION(0, 0, 0) || \
	!SHWS_CHECK_VERSION(SHWS_VERSION_MAJOR - 1, 99, 99) || \
	!SHWS_CHECK_VERSION(SHWS_VERSION_MAJOR, SHWS_VERSION_MINOR - 1, 99)
#error "SHWS_CHECK_VERSION is false for an older version"
#endif
#if SHWS_CHECK_VERSION(SHWS_VERSION_MAJOR, SHWS_VERSION_MINOR, \
		       SHWS_VERSION_MICRO + 1) || \
	SHWS_CHECK_VERSION(SHWS_VERSION_MAJOR, SHWS_VERSION_MINOR + 1, 0) || \
	SHWS_CHECK_VERSION(SHWS_VERSION_MAJOR + 1, 0, 0)
#error "SHWS_CHECK_VERSION is true for a newer version"
#endif

int main(void)
{
	const char *v = shws_version();
	char numbers[64];

	if (!v || !strchr(v, '.')) {
		fprintf(stderr, "bad version string\n");
		return 1;
	}
	/* The library and the headers come from one build. */
	if (strcmp(v, SHWS_VERSION_STRING) != 0) {
		fprintf(stderr, "shws_version() %s, headers %s\n", v,
			SHWS_VERSION_STRING);
		return 1;
	}
	snprintf(numbers, sizeof(numbers), "%d.%d.%d", SHWS_VERSION_MAJOR,
		 SHWS_VERSION_MINOR, SHWS_VERSION_MICRO);
	if (strcmp(numbers, SHWS_VERSION_STRING) != 0) {
		fprintf(stderr, "version macros %s, string %s\n", numbers,
			SHWS_VERSION_STRING);
		return 1;
	}
	printf("shws %s from C99\n", v);
	return 0;
}
