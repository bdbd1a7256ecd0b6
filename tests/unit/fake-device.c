/* SPDX-License-Identifier: MIT */
/*
 * The simulated devices of fake-kernel.h: every function of src/device.c
 * (device_priv.h, and the public ones it defines) on fake GPUs whose node
 * fds are pipes (fake_drm_open()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <shws/identity.h>

#include "device_priv.h"
#include "fake-kernel.h"
#include "util.h"

#define FAKE_DEVICES_MAX 8

struct fake_device {
	char driver[32];
};

static struct fake_device devices[FAKE_DEVICES_MAX];
static unsigned n_devices;
static unsigned opens;

static const char *const node_names[] = {
	[SHWS_NODE_PRIMARY] = "primary",
	[SHWS_NODE_RENDER] = "render",
	[SHWS_NODE_ACCEL] = "accel",
};

/* Fake node numbers: card N is 226:N, renderD is 226:128+N; no accel. */
static dev_t node_rdev(int dev, enum shws_node_type type)
{
	return type == SHWS_NODE_PRIMARY ? makedev(226, dev) :
	       type == SHWS_NODE_RENDER	 ? makedev(226, 128 + dev) :
					   0;
}

int fake_device_add(const char *driver)
{
	if (n_devices == FAKE_DEVICES_MAX)
		return -ENOSPC;
	snprintf(devices[n_devices].driver, sizeof(devices[0].driver), "%s",
		 driver);
	return (int)n_devices++;
}

int fake_drm_open(int dev, enum shws_node_type type)
{
	int p[2];

	if (dev < 0 || (unsigned)dev >= n_devices || !node_rdev(dev, type))
		return -ENODEV;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fake_gem_desc_add(p[0], p[1], dev, type);
	opens++;
	return p[0];
}

unsigned fake_device_opens(void)
{
	return opens;
}

void fake_device_reset_(void)
{
	n_devices = 0;
	opens = 0;
}

SHWS_EXPORT const char *shws_node_type_name(enum shws_node_type type)
{
	if ((int)type < 0 || type >= SHWS_NODE_COUNT)
		return "invalid";
	return node_names[type];
}

int shws_node_classify(int fd, struct stat *st, enum shws_node_type *type)
{
	int flags, dev;

	if (fd < 0 || fstat(fd, st) < 0)
		return -EBADF;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || (flags & O_PATH))
		return -EBADF;
	if (!fake_gem_desc_of(fd, &dev, type))
		return -ENOTTY;
	st->st_mode = S_IFCHR | 0666;
	st->st_rdev = node_rdev(dev, *type);
	return 0;
}

SHWS_EXPORT const char *shws_device_driver(const struct shws_device *device)
{
	return device->driver;
}

SHWS_EXPORT const char *shws_device_node_path(const struct shws_device *device,
					      enum shws_node_type type)
{
	if ((int)type < 0 || type >= SHWS_NODE_COUNT)
		return NULL;
	return device->node_path[type];
}

static int dev_of_rdev(dev_t rdev)
{
	for (unsigned d = 0; d < n_devices; d++)
		for (int t = 0; t < SHWS_NODE_COUNT; t++)
			if (node_rdev(d, t) && node_rdev(d, t) == rdev)
				return (int)d;
	return -1;
}

int shws_device_init(struct shws_device *dev, int fd, const struct stat *st,
		     enum shws_node_type type)
{
	int d = dev_of_rdev(st->st_rdev);
	char buf[64];

	(void)fd;
	(void)type;
	memset(dev, 0, sizeof(*dev));
	if (d < 0)
		return -ENODEV;
	dev->driver = strdup(devices[d].driver);
	snprintf(buf, sizeof(buf), "/sys/devices/fake/%d", d);
	dev->sysfs_path = strdup(buf);
	for (int t = 0; t < SHWS_NODE_COUNT; t++) {
		dev->node_rdev[t] = node_rdev(d, t);
		if (!dev->node_rdev[t])
			continue;
		snprintf(buf, sizeof(buf), t == SHWS_NODE_PRIMARY ?
			 "/dev/dri/card%d" : "/dev/dri/renderD%d",
			 t == SHWS_NODE_PRIMARY ? d : 128 + d);
		dev->node_path[t] = strdup(buf);
		if (!dev->node_path[t])
			goto nomem;
	}
	if (!dev->driver || !dev->sysfs_path)
		goto nomem;
	return 0;
nomem:
	shws_device_fini(dev);
	return -ENOMEM;
}

void shws_device_fini(struct shws_device *dev)
{
	free(dev->driver);
	free(dev->sysfs_path);
	for (int t = 0; t < SHWS_NODE_COUNT; t++)
		free(dev->node_path[t]);
	memset(dev, 0, sizeof(*dev));
}

bool shws_device_equal(const struct shws_device *a,
		       const struct shws_device *b)
{
	return a->sysfs_path && b->sysfs_path &&
	       !strcmp(a->sysfs_path, b->sysfs_path);
}

bool shws_device_has_rdev(const struct shws_device *dev, dev_t rdev)
{
	for (int t = 0; t < SHWS_NODE_COUNT; t++)
		if (dev->node_rdev[t] && dev->node_rdev[t] == rdev)
			return true;
	return false;
}

int shws_device_open_private(const struct shws_device *dev,
			     enum shws_node_type caller_type,
			     enum shws_node_type *opened_type)
{
	enum shws_node_type t = dev->node_rdev[SHWS_NODE_RENDER] ?
					SHWS_NODE_RENDER : caller_type;
	int d = dev_of_rdev(dev->node_rdev[t]);
	int fd;

	if (d < 0)
		return -ENODEV;
	fd = fake_drm_open(d, t);
	if (fd >= 0)
		*opened_type = t;
	return fd;
}

SHWS_EXPORT int shws_identity_same_device(int fd_a, int fd_b)
{
	struct stat sa, sb;
	enum shws_node_type ta, tb;
	int r = shws_node_classify(fd_a, &sa, &ta);

	if (r == 0)
		r = shws_node_classify(fd_b, &sb, &tb);
	if (r < 0)
		return r;
	return dev_of_rdev(sa.st_rdev) == dev_of_rdev(sb.st_rdev) ?
		       SHWS_IDENTITY_SAME : SHWS_IDENTITY_DIFFERENT;
}
