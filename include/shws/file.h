/* SPDX-License-Identifier: MIT */
#ifndef SHWS_FILE_H
#define SHWS_FILE_H

#include <stdbool.h>

#include <shws/api.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The process-wide registry of DRM files and devices (docs/registry.md).
 *
 * struct shws_file is one open file description ("struct file" in the
 * kernel) on a DRM primary, render or accel node: the namespace GEM handles
 * live in. The registry holds at most one shws_file per description, found
 * by kernel file identity (include/shws/identity.h), so every driver in the
 * process that opens the same description gets the same object. Each
 * shws_file holds its own F_DUPFD_CLOEXEC dup of the description.
 *
 * When shws cannot tell whether a caller's fd is the same description as a
 * file it already has (identity UNKNOWN), it never guesses: it fails, or,
 * if the caller allows it, opens a *private* file on the same device (a
 * separate open(), guaranteed to be a distinct description). Handles of
 * the caller's fd are not valid in a private file; buffers reach it
 * through dma-bufs.
 *
 * struct shws_device is one GPU: the primary, render and accel nodes of one
 * device are one shws_device. It lives as long as any of its files.
 *
 * Thread-safety:
 *  - shws_file_open(), shws_file_ref() and shws_file_unref() may be called
 *    from any thread, concurrently, on any files. The registry is protected
 *    by one process-wide lock, taken by shws_file_open() and by the final
 *    unref of a file; shws_file_ref() and non-final unrefs are lock-free.
 *  - The accessors (shws_file_fd(), shws_file_device(), ...) and all
 *    shws_device_*() functions read immutable data: any thread, no lock,
 *    as long as the caller holds a reference on the file (a device stays
 *    valid while any reference on any of its files is held).
 *
 * fork(): the child starts with an empty registry. Files created before
 * fork() are "inherited" in the child: shws refuses GEM work on them there
 * and their final unref in the child closes only shws's dup, never a GEM
 * handle (the parent still owns those handles: a child's GEM_CLOSE on the
 * shared description would kill the parent's buffers). A child calling
 * shws_file_open() on an inherited fd gets -ENOTUNIQ, or a private file
 * with SHWS_FILE_PRIVATE_OK. Only fork() through
 * libc is seen (pthread_atfork); a raw clone() sharing no memory is not.
 */
struct shws_file;
struct shws_device;

enum shws_node_type {
	SHWS_NODE_PRIMARY = 0, /* /dev/dri/cardN */
	SHWS_NODE_RENDER,      /* /dev/dri/renderDN */
	SHWS_NODE_ACCEL,       /* /dev/accel/accelN */
	SHWS_NODE_COUNT
};

/** Flags of shws_file_open(). */
#define SHWS_FILE_PRIVATE_OK (1u << 0)

/**
 * The registry's file for the open file description of @fd, with one
 * reference for @api.
 *
 * @fd is borrowed: shws dups it (F_DUPFD_CLOEXEC) and never closes or
 * otherwise changes it; the caller may close it at any time after the
 * call, shws's file keeps the description alive. Every opener of the same
 * description gets the same object.
 *
 * If shws cannot tell whether @fd is a description it already has
 * (identity UNKNOWN, or a description shared with the parent process
 * after fork()), it never guesses. Without SHWS_FILE_PRIVATE_OK in @flags
 * it then fails with -ENOTUNIQ. With it, it opens a *private* file on the
 * same device (shws_file_is_private() says so): the caller's own GEM
 * handles are not valid there, so such a caller must do every GEM ioctl
 * on shws_file_fd() (shws_bo_create_dumb() does) and reach other buffers
 * through dma-bufs.
 *
 * Returns 0 and stores the file in *@out, or:
 *  -EBADF   @fd is negative, not open, or an O_PATH fd;
 *  -ENOTTY  @fd is not a DRM primary/render or accel node (regular file,
 *           pipe, socket, dma-buf, DRM control node, other device);
 *  -EINVAL  @api is not an enum shws_api value, @flags has an unknown
 *           bit, or @out is NULL;
 *  -ENOTUNIQ  a private file would be needed and @flags does not allow
 *           one;
 *  -EMFILE, -ENFILE  no fd slot left for shws's dup;
 *  -ENOMEM;
 *  -ENODEV and other -errno from open(): a private file was needed but the
 *           device's node could not be opened.
 * On error nothing is leaked and *@out is unchanged.
 */
int shws_file_open(int fd, unsigned flags, enum shws_api api,
		   struct shws_file **out);

/** Takes another reference for @api on @file (which the caller holds a
 * reference on). Returns 0, or -EINVAL (@file NULL or @api invalid:
 * nothing taken). */
int shws_file_ref(struct shws_file *file, enum shws_api api);

/** Drops a reference taken for @api. The last reference of the file
 * (its bos hold it too) closes shws's dup. NULL is accepted (returns 0).
 * Returns 0, or -EINVAL if @api holds no reference on @file (a double
 * unref, or the wrong api, or an invalid one): nothing is changed then,
 * so the other APIs' references stay intact. */
int shws_file_unref(struct shws_file *file, enum shws_api api);

/**
 * shws's own fd for @file: borrowed by the caller, who must never close
 * it. It is valid while the caller holds a reference. Every GEM ioctl on
 * handles shws hands out for this file must go through this fd.
 */
int shws_file_fd(const struct shws_file *file);

/** The device @file belongs to. Never NULL. */
struct shws_device *shws_file_device(const struct shws_file *file);

/** The node type of the file's node. */
enum shws_node_type shws_file_node_type(const struct shws_file *file);

/**
 * true if @file is a private file that shws opened itself because it could
 * not tell whether the caller's fd was a description it already had. The
 * caller's GEM handles are not valid in it.
 */
bool shws_file_is_private(const struct shws_file *file);

/** References on @file currently held for @api (statistics, debugging);
 * 0 for an invalid @api. */
unsigned shws_file_api_refs(const struct shws_file *file, enum shws_api api);

/** The kernel driver's name ("vgem", "virtio_gpu", ...). Never NULL
 * (empty if the kernel did not say). */
const char *shws_device_driver(const struct shws_device *device);

/** The device node path of @type, or NULL if the device has no such
 * node or shws could not find it (sysfs not mounted). */
const char *shws_device_node_path(const struct shws_device *device,
				  enum shws_node_type type);

/** "primary", "render", "accel"; "invalid" otherwise. Never NULL. */
const char *shws_node_type_name(enum shws_node_type type);

#ifdef __cplusplus
}
#endif

#endif
