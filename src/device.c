/* SPDX-License-Identifier: MIT */
/*
 * Devices: one GPU, whatever node (primary, render, accel) it was reached
 * through. st_rdev differs between the nodes of one GPU, so it is only a
 * key for a node; the device is identified by libdrm's description of its
 * bus (drmGetDevice2 + drmDevicesEqual) or, where libdrm has none (accel
 * nodes, platform devices without a device tree), by the sysfs device the
 * node hangs off.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <shws/identity.h>

#include "device_priv.h"
#include "util.h"

#define DRM_CHAR_MAJOR 226   /* include/uapi/linux/major.h */
#define ACCEL_CHAR_MAJOR 261 /* include/drm/drm_accel.h */

static const char *const node_names[] = {
	[SHWS_NODE_PRIMARY] = "primary",
	[SHWS_NODE_RENDER] = "render",
	[SHWS_NODE_ACCEL] = "accel",
};

SHWS_EXPORT const char *shws_node_type_name(enum shws_node_type type)
{
	if ((int)type < 0 || type >= SHWS_NODE_COUNT)
		return "invalid";
	return node_names[type];
}

int shws_node_classify(int fd, struct stat *st, enum shws_node_type *type)
{
	int flags;

	if (fd < 0 || fstat(fd, st) < 0)
		return -EBADF;
	/* An O_PATH fd has no file operations: no ioctl, no dup'able I/O. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || (flags & O_PATH))
		return -EBADF;
	if (!S_ISCHR(st->st_mode))
		return -ENOTTY;
	if (major(st->st_rdev) == ACCEL_CHAR_MAJOR) {
		*type = SHWS_NODE_ACCEL;
		return 0;
	}
	if (major(st->st_rdev) != DRM_CHAR_MAJOR)
		return -ENOTTY;
	/* libdrm knows the minor ranges of the installed kernel ABI. */
	switch (drmGetNodeTypeFromFd(fd)) {
	case DRM_NODE_PRIMARY:
		*type = SHWS_NODE_PRIMARY;
		return 0;
	case DRM_NODE_RENDER:
		*type = SHWS_NODE_RENDER;
		return 0;
	default:
		return -ENOTTY; /* control nodes: no GEM */
	}
}

static char *sysfs_device(dev_t rdev)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device",
		 major(rdev), minor(rdev));
	return realpath(path, NULL);
}

/* The rdev in sysfs "dev" ("226:128\n") of a node directory. */
static dev_t sysfs_node_rdev(const char *dir, const char *name)
{
	unsigned maj, min;
	char path[PATH_MAX];
	FILE *f;
	int n;

	/* A truncated path would name another file: treat it as no node. */
	n = snprintf(path, sizeof(path), "%s/%s/dev", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	return n == 2 ? makedev(maj, min) : 0;
}

/* Records @path for @type if it is really that node (a container's /dev
 * need not match sysfs). */
static void set_node(struct shws_device *dev, enum shws_node_type type,
		     const char *path, dev_t rdev)
{
	struct stat st;

	if (dev->node_path[type] || !path)
		return;
	if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    (rdev && st.st_rdev != rdev))
		return;
	dev->node_path[type] = strdup(path);
	if (dev->node_path[type])
		dev->node_rdev[type] = st.st_rdev;
}

static void scan_sysfs_dir(struct shws_device *dev, const char *sub)
{
	static const struct {
		const char *prefix, *devdir;
		enum shws_node_type type;
	} kinds[] = {
		{ "renderD", "/dev/dri/", SHWS_NODE_RENDER },
		{ "card", "/dev/dri/", SHWS_NODE_PRIMARY },
		{ "accel", "/dev/accel/", SHWS_NODE_ACCEL },
	};
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *e;
	unsigned k;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", dev->sysfs_path, sub);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		for (k = 0; k < SHWS_ARRAY_SIZE(kinds); k++) {
			size_t n = strlen(kinds[k].prefix);

			/* Exactly prefix + number: "card0", not
			 * "card0-Virtual-1". */
			if (strncmp(e->d_name, kinds[k].prefix, n) ||
			    !e->d_name[n] ||
			    e->d_name[n + strspn(e->d_name + n, "0123456789")])
				continue;
			snprintf(path, sizeof(path), "%s%s", kinds[k].devdir,
				 e->d_name);
			set_node(dev, kinds[k].type, path,
				 sysfs_node_rdev(dir, e->d_name));
			break;
		}
	}
	closedir(d);
}

static void find_nodes(struct shws_device *dev, int fd,
		       const struct stat *st, enum shws_node_type type)
{
	char path[64], *name;

	if (dev->drm) {
		if (dev->drm->available_nodes & (1 << DRM_NODE_PRIMARY))
			set_node(dev, SHWS_NODE_PRIMARY,
				 dev->drm->nodes[DRM_NODE_PRIMARY], 0);
		if (dev->drm->available_nodes & (1 << DRM_NODE_RENDER))
			set_node(dev, SHWS_NODE_RENDER,
				 dev->drm->nodes[DRM_NODE_RENDER], 0);
	}
	if (dev->sysfs_path) {
		scan_sysfs_dir(dev, "drm");
		scan_sysfs_dir(dev, "accel");
	}
	if (dev->node_rdev[type] == st->st_rdev)
		return;
	/* Without sysfs: at least the caller's own node. */
	if (type == SHWS_NODE_ACCEL) {
		snprintf(path, sizeof(path), "/dev/accel/accel%u",
			 minor(st->st_rdev));
		set_node(dev, type, path, st->st_rdev);
	} else {
		name = drmGetDeviceNameFromFd2(fd);
		set_node(dev, type, name, st->st_rdev);
		free(name);
	}
	if (!dev->node_rdev[type])
		dev->node_rdev[type] = st->st_rdev; /* known, path unknown */
}

static char *driver_name(int fd)
{
	drmVersionPtr v = drmGetVersion(fd);
	char *name = strdup(v && v->name ? v->name : "");

	drmFreeVersion(v);
	return name;
}

int shws_device_init(struct shws_device *dev, int fd, const struct stat *st,
		     enum shws_node_type type)
{
	*dev = (struct shws_device){ 0 };
	dev->driver = driver_name(fd);
	if (!dev->driver)
		return -ENOMEM;
	/* Flags 0: the PCI revision would wake a suspended GPU. */
	if (type == SHWS_NODE_ACCEL || drmGetDevice2(fd, 0, &dev->drm) != 0)
		dev->drm = NULL;
	dev->sysfs_path = sysfs_device(st->st_rdev);
	find_nodes(dev, fd, st, type);
	shws_dbg("device %s (%s, libdrm %s): primary %s render %s accel %s",
		 dev->driver, dev->sysfs_path ? dev->sysfs_path : "no sysfs",
		 dev->drm ? "yes" : "no",
		 dev->node_path[0] ? dev->node_path[0] : "-",
		 dev->node_path[1] ? dev->node_path[1] : "-",
		 dev->node_path[2] ? dev->node_path[2] : "-");
	return 0;
}

void shws_device_fini(struct shws_device *dev)
{
	for (int i = 0; i < SHWS_NODE_COUNT; i++)
		free(dev->node_path[i]);
	if (dev->drm)
		drmFreeDevice(&dev->drm);
	free(dev->sysfs_path);
	free(dev->driver);
}

bool shws_device_equal(const struct shws_device *a,
		       const struct shws_device *b)
{
	int i;

	if (a->drm && b->drm)
		return drmDevicesEqual(a->drm, b->drm);
	if (a->sysfs_path && b->sysfs_path)
		return !strcmp(a->sysfs_path, b->sysfs_path);
	for (i = 0; i < SHWS_NODE_COUNT; i++)
		if (a->node_rdev[i] && a->node_rdev[i] == b->node_rdev[i])
			return true;
	return false;
}

bool shws_device_has_rdev(const struct shws_device *dev, dev_t rdev)
{
	for (int i = 0; i < SHWS_NODE_COUNT; i++)
		if (dev->node_rdev[i] == rdev)
			return true;
	return false;
}

static int open_node(const struct shws_device *dev, enum shws_node_type t)
{
	struct stat st;
	int fd;

	if (!dev->node_path[t])
		return -ENODEV;
	fd = open(dev->node_path[t], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_rdev != dev->node_rdev[t]) {
		close(fd);
		return -ENODEV;
	}
	/* Opening a primary node with no master makes the opener master:
	 * shws must never hold master behind the application's back. */
	if (t == SHWS_NODE_PRIMARY && drmIsMaster(fd))
		drmDropMaster(fd);
	return fd;
}

/*
 * A private file: a separate open(), so a description distinct from every
 * other. The render node needs no master and no authentication; the
 * primary node is the fallback for devices without one.
 */
int shws_device_open_private(const struct shws_device *dev,
			     enum shws_node_type caller_type,
			     enum shws_node_type *opened_type)
{
	enum shws_node_type order[2] = { SHWS_NODE_RENDER, caller_type };
	int fd = -ENODEV;
	unsigned i;

	if (caller_type == SHWS_NODE_ACCEL)
		order[0] = SHWS_NODE_ACCEL;
	for (i = 0; i < SHWS_ARRAY_SIZE(order); i++) {
		fd = open_node(dev, order[i]);
		if (fd >= 0) {
			*opened_type = order[i];
			return fd;
		}
	}
	return fd;
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

/* A throw-away description of the device behind @fd, for comparison. */
struct device_key {
	drmDevicePtr drm;
	char *sysfs;
};

static int device_key(int fd, struct stat *st, struct device_key *key)
{
	enum shws_node_type type;
	int r = shws_node_classify(fd, st, &type);

	if (r < 0)
		return r;
	key->drm = NULL;
	if (type != SHWS_NODE_ACCEL && drmGetDevice2(fd, 0, &key->drm) != 0)
		key->drm = NULL;
	key->sysfs = sysfs_device(st->st_rdev);
	return 0;
}

static void device_key_fini(struct device_key *key)
{
	if (key->drm)
		drmFreeDevice(&key->drm);
	free(key->sysfs);
}

SHWS_EXPORT int shws_identity_same_device(int fd_a, int fd_b)
{
	struct device_key ka, kb;
	struct stat sa, sb;
	int r;

	r = device_key(fd_a, &sa, &ka);
	if (r < 0)
		return r;
	r = device_key(fd_b, &sb, &kb);
	if (r < 0) {
		device_key_fini(&ka);
		return r;
	}
	if (sa.st_rdev == sb.st_rdev)
		r = SHWS_IDENTITY_SAME;
	else if (ka.drm && kb.drm)
		r = drmDevicesEqual(ka.drm, kb.drm) ? SHWS_IDENTITY_SAME :
						      SHWS_IDENTITY_DIFFERENT;
	else if (ka.sysfs && kb.sysfs)
		r = strcmp(ka.sysfs, kb.sysfs) ? SHWS_IDENTITY_DIFFERENT :
						 SHWS_IDENTITY_SAME;
	else
		r = SHWS_IDENTITY_UNKNOWN;
	device_key_fini(&ka);
	device_key_fini(&kb);
	return r;
}
