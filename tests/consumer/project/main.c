/* SPDX-License-Identifier: MIT */
#include <shws/shws.h>
#include <stdio.h>

int main(void)
{
	printf("consumer linked against shws %s\n", shws_version());
	return shws_version()[0] ? 0 : 1;
}
