/* SPDX-License-Identifier: MIT */
/*
 * The registry: the process-wide list of devices, each device's index of
 * shared files, and the life cycle of every file (created by
 * shws_file_open(), destroyed with its last reference). The bo module
 * holds a file for each live bo through the two calls below; a hold is a
 * reference no API owns, so it never shows in shws_file_api_refs().
 *
 * Locking: one process-wide registry lock protects the device list, the
 * file indexes and every file's 1 -> 0 transition. Lock order: the
 * registry lock, then a file lock; the registry never takes a file lock.
 */
#ifndef SHWS_REGISTRY_PRIV_H
#define SHWS_REGISTRY_PRIV_H

#include <stdbool.h>

struct shws_file;

/* Another hold on @file; the caller holds a reference on it. */
void shws_registry_file_hold(struct shws_file *file);

/* Drops a hold; the last reference destroys the file. */
void shws_registry_file_release(struct shws_file *file);

/* 0 if @fd is @file's own open file description; -EXDEV if it is another
 * one, or if shws cannot tell (never a guess); -EBADF if @fd is not open. */
int shws_registry_file_is(const struct shws_file *file, int fd);

/* For white-box tests: the fds of @device's shared files as the index
 * holds them (up to @max), their count in *@n, and whether the index is
 * in kcmp's order. Takes the registry lock. */
struct shws_device;
void shws_registry_index_snapshot(const struct shws_device *device, int *fds,
				  unsigned max, unsigned *n, bool *sorted);

#endif
