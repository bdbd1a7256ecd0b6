/* SPDX-License-Identifier: MIT */
/*
 * The file module: struct shws_file, one open file description on a DRM
 * node, and what lives in it — shws's own fd, the file lock, the GEM
 * handle table and the reference counts. It does not find files or decide
 * when one dies: the registry (registry_priv.h) owns the life cycle and
 * calls shws_file_create()/_destroy(); the bo module holds files through
 * the registry.
 *
 * Locking: the file lock belongs to the bo module (imports and the final
 * GEM_CLOSE happen under it). The registry never takes it.
 */
#ifndef SHWS_FILE_PRIV_H
#define SHWS_FILE_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include <shws/file.h>

#include "bo_table.h"
#include "mutex.h"
#include "util.h"

struct shws_file {
	/* Immutable after creation. */
	int fd;                      /* shws's own dup (or private open) */
	struct shws_device *device;
	dev_t rdev;
	enum shws_node_type node;
	bool is_private;
	unsigned generation;         /* fork generation it was created in */

	struct shws_mutex lock;
	struct shws_bo_table table;  /* under lock, lookups lock-free */

	/* All references: the APIs' plus the holds of live bos. The 1 -> 0
	 * transition happens under the registry lock. */
	atomic_uint refs;
	atomic_uint api_refs[SHWS_API_COUNT];
};

/* The process's fork generation: bumped in a fork()ed child by the
 * registry's atfork handler through shws_file_generation_bump(). Read on
 * every lookup, so inline. */
extern atomic_uint shws_fork_generation;

void shws_file_generation_bump(void);

static inline unsigned shws_generation(void)
{
	return atomic_load_explicit(&shws_fork_generation,
				    memory_order_relaxed);
}

/* true in a child process for a file created before fork(): a fork()ed
 * child shares the parent's descriptions and so its GEM handles, and a
 * GEM_CLOSE there would kill the parent's buffers
 * (tests/kernel/test-fork.c). The bo module refuses ioctls (-ECHILD) and
 * never closes a handle of an inherited file, nor takes its lock (a parent
 * thread may have held it at fork()). */
static inline bool shws_file_inherited(const struct shws_file *file)
{
	return file->generation != shws_generation();
}

static inline void shws_file_lock(struct shws_file *file)
{
	shws_mutex_lock(&file->lock);
}

static inline void shws_file_unlock(struct shws_file *file)
{
	shws_mutex_unlock(&file->lock);
}

/* A new file on @device owning @fd, with no reference yet (the registry
 * publishes it with its first). NULL on ENOMEM (@fd is then not closed). */
struct shws_file *shws_file_create(struct shws_device *device, int fd,
				   dev_t rdev, enum shws_node_type node,
				   bool is_private);

/* Frees a file whose last reference is gone and closes its fd. Live bos
 * hold their file, so the table is empty unless the file was inherited
 * through fork() (the parent's handles are then forgotten, never closed). */
void shws_file_destroy(struct shws_file *file);

/* Reference counting for the registry. _get() needs a reference held or
 * the registry lock; _put_unless_last() is lock-free and false when the
 * reference is the last (the caller then takes the registry lock and
 * calls _put()); _put() returns the count left. */
static inline void shws_file_get(struct shws_file *file)
{
	atomic_fetch_add(&file->refs, 1);
}

static inline bool shws_file_put_unless_last(struct shws_file *file)
{
	unsigned refs = atomic_load(&file->refs);

	while (refs > 1)
		if (atomic_compare_exchange_weak(&file->refs, &refs, refs - 1))
			return true;
	return false;
}

static inline unsigned shws_file_put(struct shws_file *file)
{
	return atomic_fetch_sub(&file->refs, 1) - 1;
}

/* The per-api counts: _api_get() for a valid api; _api_put() refuses to go
 * below zero (false: @api holds no reference, a double unref). */
static inline void shws_file_api_get(struct shws_file *file,
				     enum shws_api api)
{
	atomic_fetch_add(&file->api_refs[api], 1);
}

static inline bool shws_file_api_put(struct shws_file *file,
				     enum shws_api api)
{
	unsigned v = atomic_load(&file->api_refs[api]);

	do {
		if (!v)
			return false;
	} while (!atomic_compare_exchange_weak(&file->api_refs[api], &v,
					       v - 1));
	return true;
}

/* Debug log of @file's state, prefixed by @what. */
void shws_file_log(const struct shws_file *file, const char *what);

#endif
