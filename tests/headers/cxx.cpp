// SPDX-License-Identifier: MIT
// Compiled as C++11 with -pedantic-errors: the public API must allow it.
#include <shws/shws.h>
#include <cstdio>
#include <cstring>

int main()
{
	const char *v = shws_version();

	if (!v || !std::strchr(v, '.')) {
		std::fprintf(stderr, "bad version string\n");
		return 1;
	}
	std::printf("shws %s from C++\n", v);
	return 0;
}
