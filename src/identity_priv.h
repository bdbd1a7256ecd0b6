/* SPDX-License-Identifier: MIT */
/* Identity internals shared with the registry and white-box tests. */
#ifndef SHWS_IDENTITY_INTERNAL_H
#define SHWS_IDENTITY_INTERNAL_H

#include <stdbool.h>

/* Forget the probe and the policy: the next call re-reads SHWS_IDENTITY
 * and probes again. For tests only (a process probes once). */
void shws_identity_reset(void);

/* true if shws_identity_compare() would use kcmp first right now (the
 * policy allows it, it works, no seccomp filter seen, no dupfd_query):
 * then kcmp's total order of files may be used for a sorted search. */
bool shws_identity_kcmp_first(void);

/* kcmp(KCMP_FILE)'s order of the files of @a and @b: 0 same file, 1 @a's
 * file sorts before @b's, 2 after (the kernel orders obfuscated pointers:
 * a total order, stable while both files live), or -errno. Call only when
 * shws_identity_kcmp_first() said so. */
int shws_identity_kcmp_order(int a, int b);

#endif
