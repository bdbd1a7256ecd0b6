/* SPDX-License-Identifier: MIT */
/*
 * The device module: struct shws_device, one GPU whatever node it was
 * reached through, and the classification of DRM node fds. A device is
 * immutable once initialised; the registry embeds it in its own record
 * (which groups the device's files) and decides its lifetime.
 */
#ifndef SHWS_DEVICE_PRIV_H
#define SHWS_DEVICE_PRIV_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <xf86drm.h>

#include <shws/file.h>

struct shws_device {
	char *driver;
	char *node_path[SHWS_NODE_COUNT];
	dev_t node_rdev[SHWS_NODE_COUNT]; /* 0 when absent */
	char *sysfs_path;   /* realpath of /sys/dev/char/M:m/device, or NULL */
	drmDevicePtr drm;   /* NULL when libdrm cannot describe it (accel) */
};

/* fstat()s @fd and says which kind of DRM node it is: 0, or -EBADF
 * (negative, closed or O_PATH fd), -ENOTTY (not a primary, render or accel
 * node). */
int shws_node_classify(int fd, struct stat *st, enum shws_node_type *type);

/* Describes the device behind @fd (a node of @type, fstat()ed into @st)
 * in @dev. 0 or -ENOMEM (then @dev holds nothing to free). */
int shws_device_init(struct shws_device *dev, int fd, const struct stat *st,
		     enum shws_node_type type);
void shws_device_fini(struct shws_device *dev);

/* The same GPU? Bus identity, else the sysfs device, else a shared node. */
bool shws_device_equal(const struct shws_device *a,
		       const struct shws_device *b);

/* true if @rdev is one of @dev's nodes. */
bool shws_device_has_rdev(const struct shws_device *dev, dev_t rdev);

/* A new open() of one of @dev's nodes (the render node first, else
 * @caller_type's), never master: a description distinct from every other.
 * Returns the fd (the caller owns it) and its type in *@opened_type, or a
 * negative errno (-ENODEV: no usable node). */
int shws_device_open_private(const struct shws_device *dev,
			     enum shws_node_type caller_type,
			     enum shws_node_type *opened_type);

#endif
