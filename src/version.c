/* SPDX-License-Identifier: MIT */
#include <shws/version.h>

#include "util.h"

SHWS_EXPORT const char *shws_version(void)
{
	return SHWS_VERSION_STRING;
}
