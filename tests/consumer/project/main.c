/* SPDX-License-Identifier: MIT */
#include <shws/shws.h>
#include <stdio.h>
#include <string.h>

#if !SHWS_CHECK_VERSION(0, 1, 0)
#error "this consumer needs shws 0.1.0 or newer"
#endif

int main(void)
{
	printf("consumer linked against shws %s (headers %s)\n",
	       shws_version(), SHWS_VERSION_STRING);
	return strcmp(shws_version(), SHWS_VERSION_STRING) ? 1 : 0;
}
