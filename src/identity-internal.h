/* SPDX-License-Identifier: MIT */
/* Identity internals shared with the registry and white-box tests. */
#ifndef SHWS_IDENTITY_INTERNAL_H
#define SHWS_IDENTITY_INTERNAL_H

/* Forget the probe and the policy: the next call re-reads SHWS_IDENTITY
 * and probes again. For tests only (a process probes once). */
void shws_identity_reset(void);

#endif
