/* SPDX-License-Identifier: MIT */
/*
 * Private view of files, devices and the registry.
 *
 * Locking: one process-wide registry lock (registry.c) protects the device
 * list, each device's file list and refcount, and the 1 -> 0 transition of
 * every file's refcount. A file's own lock (file->lock) belongs to the
 * handle-table module. Lock order: registry lock, then file->lock; never
 * take the registry lock while holding a file lock.
 */
#ifndef SHWS_FILE_PRIVATE_H
#define SHWS_FILE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <xf86drm.h>

#include "mutex.h"

#include <shws/file.h>

struct shws_device {
	/* Immutable after creation. */
	char *driver;
	char *node_path[SHWS_NODE_COUNT];
	dev_t node_rdev[SHWS_NODE_COUNT]; /* 0 when absent */
	char *sysfs_path;   /* realpath of /sys/dev/char/M:m/device, or NULL */
	drmDevicePtr drm;   /* NULL when libdrm cannot describe it (accel) */
	unsigned generation; /* fork generation it was created in */

	/* Under the registry lock. */
	unsigned refs;              /* files pointing here */
	struct shws_file *files;    /* shared (non-private) files */
	struct shws_device *next;   /* in the registry's list */

	/* Under the registry lock: the shared files again, in kcmp's order,
	 * for a binary search (file.c). Once one file could not be ordered
	 * (kcmp not the chosen method, ENOMEM) unordered is set for good and
	 * lookups scan the list. */
	struct shws_file **by_kcmp;
	unsigned n_by_kcmp, cap_by_kcmp;
	bool unordered;
};

struct shws_file {
	/* Immutable after creation. */
	int fd;                      /* shws's own dup (or private open) */
	struct shws_device *device;
	dev_t rdev;
	enum shws_node_type node;
	bool is_private;
	unsigned generation;         /* fork generation it was created in */

	/* The file lock: the handle-table module imports and does the final
	 * GEM_CLOSE under it. Never taken by the registry except at init. */
	struct shws_mutex lock;

	/* Owned by the handle-table module (branch bo); NULL until it
	 * integrates. */
	void *bos;

	atomic_uint refs;
	atomic_uint api_refs[SHWS_API_COUNT];

	struct shws_file *next;      /* in device->files, registry lock */
};

/* The process's fork generation: bumped in the child by registry.c's
 * atfork handler. Read on every lookup, so inline (no call). */
extern atomic_uint shws_fork_generation;

static inline unsigned shws_registry_generation(void)
{
	return atomic_load_explicit(&shws_fork_generation,
				    memory_order_relaxed);
}

/* true in a child process for a file created before fork(): the handle
 * table must then refuse ioctls (-ECHILD) and never GEM_CLOSE. */
static inline bool shws_file_inherited(const struct shws_file *file)
{
	return file->generation != shws_registry_generation();
}

/* registry.c */
void shws_registry_lock(void);
void shws_registry_unlock(void);
struct shws_device *shws_registry_find_device(dev_t rdev);
struct shws_device *shws_registry_find_equal(const struct shws_device *dev);
void shws_registry_add_device(struct shws_device *dev);
void shws_registry_remove_device(struct shws_device *dev);
bool shws_registry_shared_with_parent(int fd, dev_t rdev);

/* device.c */
int shws_node_classify(int fd, struct stat *st,
		       enum shws_node_type *type);
int shws_device_create(int fd, const struct stat *st,
		       enum shws_node_type type, struct shws_device **out);
void shws_device_destroy(struct shws_device *dev);
bool shws_device_equal(const struct shws_device *a,
		       const struct shws_device *b);
int shws_device_open_private(const struct shws_device *dev,
			     enum shws_node_type caller_type,
			     enum shws_node_type *opened_type);

#endif
