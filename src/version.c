/* SPDX-License-Identifier: MIT */
#include <shws/version.h>

#include "private.h"

SHWS_EXPORT const char *shws_version(void)
{
	return SHWS_VERSION_STRING;
}
