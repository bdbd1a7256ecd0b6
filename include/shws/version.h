/* SPDX-License-Identifier: MIT */
#ifndef SHWS_VERSION_H
#define SHWS_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version string, "MAJOR.MINOR.PATCH". Never NULL. */
const char *shws_version(void);

#ifdef __cplusplus
}
#endif

#endif
