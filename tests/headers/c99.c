/* SPDX-License-Identifier: MIT */
/* Compiled with -std=c99 -pedantic-errors: the public API must allow it. */
#include <shws/shws.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	const char *v = shws_version();

	if (!v || !strchr(v, '.')) {
		fprintf(stderr, "bad version string\n");
		return 1;
	}
	printf("shws %s from C99\n", v);
	return 0;
}
