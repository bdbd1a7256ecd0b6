/* SPDX-License-Identifier: MIT */
/* Identity internals shared with the registry and white-box tests. */
#ifndef SHWS_IDENTITY_PRIV_H
#define SHWS_IDENTITY_PRIV_H

#include <stdbool.h>

/* Forget the probe and the policy: the next call re-reads SHWS_IDENTITY
 * and probes again. For tests only (a process probes once). */
void shws_identity_reset(void);

/* The SHWS_IDENTITY_METHOD_BIT()s of the methods the policy allows right
 * now: in auto mode this re-reads the seccomp state (until a filter is
 * seen), which costs a read of /proc/self/status. A caller comparing one
 * fd against many files asks once and passes the mask to
 * shws_identity_compare_mask() for each. */
unsigned shws_identity_allowed(void);

/* shws_identity_compare() with the methods of @mask only (from
 * shws_identity_allowed() a moment ago), in the usual order. */
int shws_identity_compare_mask(unsigned mask, int fd_a, int fd_b);

/* kcmp(KCMP_FILE)'s order of the files of @a and @b: 0 same file, 1 @a's
 * file sorts before @b's, 2 after (the kernel orders obfuscated pointers:
 * a total order, stable while both files live), or -errno. Call only when
 * shws_identity_allowed() has the kcmp bit. */
int shws_identity_kcmp_order(int a, int b);

#endif
