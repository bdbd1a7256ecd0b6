/* SPDX-License-Identifier: MIT */
/*
 * shws: the shared winsys layer. One include for the whole public API.
 *
 * Conventions for every header under shws/:
 *  - Objects are opaque; functions are named shws_<object>_<verb>.
 *  - A function returning int returns 0 (or a documented non-negative value)
 *    on success and a negative errno on failure; its comment lists them.
 *  - Every fd parameter says whether shws borrows it (the caller keeps it
 *    and may close it at any time after the call) or takes it.
 *  - Thread-safety is written per object.
 */
#ifndef SHWS_SHWS_H
#define SHWS_SHWS_H

#include <shws/api.h>
#include <shws/bo.h>
#include <shws/file.h>
#include <shws/identity.h>
#include <shws/log.h>
#include <shws/sync_file.h>
#include <shws/version.h>
#include <shws/wsi.h>

#endif
