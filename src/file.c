/* SPDX-License-Identifier: MIT */
/*
 * Files: one per open file description, found by kernel file identity.
 *
 * Refcounting: shws_file_ref() and non-final unrefs are atomic. The 1 -> 0
 * transition happens only under the registry lock, and lookups take their
 * reference under it too, so a lookup can never revive a dying file, and a
 * file's teardown (GEM_CLOSE of its handles, close of its dup) completes
 * before any new file for the same description can be created: two live
 * shws_files on one description would share one handle namespace without
 * sharing a handle table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shws/identity.h>

#include "bo.h"
#include "file.h"
#include "identity-internal.h"
#include "private.h"

static const char *const api_names[] = {
	[SHWS_API_OTHER] = "other",
	[SHWS_API_GL] = "gl",
	[SHWS_API_VULKAN] = "vulkan",
	[SHWS_API_VA] = "va",
};

static bool api_valid(enum shws_api api)
{
	return (int)api >= 0 && api < SHWS_API_COUNT;
}

SHWS_EXPORT const char *shws_api_name(enum shws_api api)
{
	return api_valid(api) ? api_names[api] : "invalid";
}

static void count_api(struct shws_file *file, enum shws_api api, int delta)
{
	if (api_valid(api))
		atomic_fetch_add(&file->api_refs[api], (unsigned)delta);
}

static void log_file(const struct shws_file *file, const char *what)
{
	shws_dbg("file %p fd %d (%s %s%s%s) %s: refs %u, gl %u vulkan %u "
		 "va %u other %u", (const void *)file, file->fd,
		 file->device->driver, shws_node_type_name(file->node),
		 file->is_private ? ", private" : "",
		 shws_file_inherited(file) ? ", inherited" : "", what,
		 atomic_load(&file->refs), atomic_load(&file->api_refs[1]),
		 atomic_load(&file->api_refs[2]),
		 atomic_load(&file->api_refs[3]),
		 atomic_load(&file->api_refs[0]));
}

/*
 * kcmp order (registry lock held throughout). KCMP_FILE answers "same",
 * "before" or "after": the kernel compares the two struct file pointers
 * through a per-boot bijection, a total order that holds while the files
 * live. So with kcmp as the identity method, finding a description among a
 * device's n files is a binary search, log2(n) syscalls instead of up to n
 * (docs/performance.md, P3). dupfd_query and epoll only say same or not:
 * with them, and once any file could not be ordered, the list is scanned.
 */
static void order_drop(struct shws_device *dev)
{
	free(dev->by_kcmp);
	dev->by_kcmp = NULL;
	dev->n_by_kcmp = dev->cap_by_kcmp = 0;
}

/* *pos: the index of @fd's file (*found) or where it would go; or -errno
 * when kcmp failed. */
static int order_search(const struct shws_device *dev, int fd,
			unsigned *pos, bool *found)
{
	unsigned lo = 0, hi = dev->n_by_kcmp;

	*found = false;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int r = shws_identity_kcmp_order(fd, dev->by_kcmp[mid]->fd);

		if (r < 0)
			return r;
		if (r == 0) {
			*found = true;
			lo = mid;
			break;
		}
		if (r == 1)
			hi = mid;
		else
			lo = mid + 1;
	}
	*pos = lo;
	return 0;
}

static bool order_grow(struct shws_device *dev)
{
	unsigned cap = dev->cap_by_kcmp ? 2 * dev->cap_by_kcmp : 8;
	struct shws_file **a;

	if (dev->n_by_kcmp < dev->cap_by_kcmp)
		return true;
	a = realloc(dev->by_kcmp, cap * sizeof(*a));
	if (!a)
		return false;
	dev->by_kcmp = a;
	dev->cap_by_kcmp = cap;
	return true;
}

static void order_insert(struct shws_device *dev, struct shws_file *file)
{
	unsigned pos;
	bool found;

	if (dev->unordered)
		return;
	if (!shws_identity_kcmp_first() ||
	    order_search(dev, file->fd, &pos, &found) < 0 || found ||
	    !order_grow(dev)) {
		dev->unordered = true;
		order_drop(dev);
		return;
	}
	memmove(&dev->by_kcmp[pos + 1], &dev->by_kcmp[pos],
		(dev->n_by_kcmp - pos) * sizeof(*dev->by_kcmp));
	dev->by_kcmp[pos] = file;
	dev->n_by_kcmp++;
}

static void order_remove(struct shws_device *dev, struct shws_file *file)
{
	for (unsigned i = 0; i < dev->n_by_kcmp; i++) {
		if (dev->by_kcmp[i] != file)
			continue;
		memmove(&dev->by_kcmp[i], &dev->by_kcmp[i + 1],
			(dev->n_by_kcmp - i - 1) * sizeof(*dev->by_kcmp));
		dev->n_by_kcmp--;
		break;
	}
	if (!dev->files) {
		/* Nothing left to order: start afresh. */
		order_drop(dev);
		dev->unordered = false;
	}
}

/* The shared file of @fd by binary search. 1 = decided (*out is the file
 * with a new reference, or NULL), 0 = no order to use: scan the list. */
static int order_find(struct shws_device *dev, int fd,
		      struct shws_file **out)
{
	unsigned pos;
	bool found;

	if (dev->unordered || !dev->n_by_kcmp ||
	    !shws_identity_kcmp_first() ||
	    order_search(dev, fd, &pos, &found) < 0)
		return 0;
	*out = found ? dev->by_kcmp[pos] : NULL;
	if (*out)
		atomic_fetch_add(&(*out)->refs, 1);
	return 1;
}

/* Registry lock held. Takes ownership of @fd. */
static struct shws_file *file_create(struct shws_device *dev, int fd,
				     dev_t rdev, enum shws_node_type node,
				     bool is_private)
{
	struct shws_file *file = calloc(1, sizeof(*file));

	if (!file)
		return NULL;
	file->fd = fd;
	file->device = dev;
	file->rdev = rdev;
	file->node = node;
	file->is_private = is_private;
	file->generation = dev->generation;
	shws_mutex_init(&file->lock);
	if (shws_bo_file_init(file)) {
		free(file);
		return NULL;
	}
	atomic_init(&file->refs, 0);
	dev->refs++;
	if (!is_private) {
		file->next = dev->files;
		dev->files = file;
		order_insert(dev, file);
	}
	return file;
}

static void unlink_file(struct shws_file *file)
{
	struct shws_file **p;

	for (p = &file->device->files; *p; p = &(*p)->next) {
		if (*p == file) {
			*p = file->next;
			break;
		}
	}
	order_remove(file->device, file);
}

/* Registry lock held; the last reference is gone. */
static void file_destroy(struct shws_file *file)
{
	struct shws_device *dev = file->device;

	log_file(file, "destroyed");
	if (!file->is_private)
		unlink_file(file);
	/* Before the fd is closed; frees memory only (live bos hold the file). */
	shws_bo_file_fini(file);
	close(file->fd);
	free(file);
	if (--dev->refs == 0) {
		shws_registry_remove_device(dev);
		shws_device_destroy(dev);
	}
}

/* Registry lock held. Finds or creates the device behind @fd. */
static int get_device(int fd, struct stat *st, enum shws_node_type type,
		      struct shws_device **out)
{
	struct shws_device *dev, *same;
	int r;

	dev = shws_registry_find_device(st->st_rdev);
	if (dev) {
		*out = dev;
		return 0;
	}
	r = shws_device_create(fd, st, type, &dev);
	if (r < 0)
		return r;
	same = shws_registry_find_equal(dev);
	if (same) {
		shws_device_destroy(dev);
		dev = same;
	} else {
		shws_registry_add_device(dev);
	}
	*out = dev;
	return 0;
}

/*
 * Registry lock held. The shared file of @fd's description, if any (with a
 * new reference); *unknown is set when some file could not be told apart.
 * Only files on the same node can be the same description.
 */
static struct shws_file *find_file(struct shws_device *dev, int fd,
				   dev_t rdev, bool *unknown)
{
	struct shws_file *file;
	int r;

	*unknown = false;
	if (order_find(dev, fd, &file))
		return file;
	for (file = dev->files; file; file = file->next) {
		if (file->rdev != rdev)
			continue;
		r = shws_identity_compare(fd, file->fd);
		if (r == SHWS_IDENTITY_SAME) {
			atomic_fetch_add(&file->refs, 1);
			return file;
		}
		if (r != SHWS_IDENTITY_DIFFERENT)
			*unknown = true;
	}
	return NULL;
}

/* Registry lock held. A new file for @fd: a dup of it when it is known to
 * be a new description, else a private open of the device. */
static int new_file(struct shws_device *dev, int fd, const struct stat *st,
		    enum shws_node_type type, bool is_private,
		    struct shws_file **out)
{
	struct shws_file *file;
	int own;

	if (is_private) {
		own = shws_device_open_private(dev, type, &type);
	} else {
		own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (own < 0)
			own = -errno;
	}
	if (own < 0)
		return own;
	file = file_create(dev, own,
			   is_private ? dev->node_rdev[type] : st->st_rdev,
			   type, is_private);
	if (!file) {
		close(own);
		return -ENOMEM;
	}
	if (is_private)
		shws_info("fd %d: using a private %s file",
			  fd, shws_node_type_name(type));
	atomic_store(&file->refs, 1);
	*out = file;
	return 0;
}

SHWS_EXPORT int shws_file_open(int fd, enum shws_api api,
			       struct shws_file **out)
{
	struct shws_device *dev;
	struct shws_file *file;
	enum shws_node_type type;
	struct stat st;
	bool unknown;
	int r;

	if (!api_valid(api) || !out)
		return -EINVAL;
	r = shws_node_classify(fd, &st, &type);
	if (r < 0)
		return r;

	shws_registry_lock();
	r = get_device(fd, &st, type, &dev);
	if (r < 0)
		goto out;
	file = find_file(dev, fd, st.st_rdev, &unknown);
	if (!file && !unknown &&
	    shws_registry_shared_with_parent(fd, st.st_rdev)) {
		shws_info("fd %d is shared with the parent process: private "
			  "file", fd);
		unknown = true;
	}
	if (!file) {
		r = new_file(dev, fd, &st, type, unknown, &file);
		if (r < 0) {
			if (!dev->refs) {
				shws_registry_remove_device(dev);
				shws_device_destroy(dev);
			}
			goto out;
		}
	}
	count_api(file, api, 1);
	log_file(file, shws_api_name(api));
	*out = file;
out:
	shws_registry_unlock();
	return r;
}

SHWS_EXPORT struct shws_file *shws_file_ref(struct shws_file *file,
					    enum shws_api api)
{
	if (!file)
		return NULL;
	atomic_fetch_add(&file->refs, 1);
	count_api(file, api, 1);
	return file;
}

SHWS_EXPORT void shws_file_unref(struct shws_file *file, enum shws_api api)
{
	unsigned refs;

	if (!file)
		return;
	count_api(file, api, -1);
	/* Not the last reference: no lock. */
	refs = atomic_load(&file->refs);
	while (refs > 1)
		if (atomic_compare_exchange_weak(&file->refs, &refs, refs - 1))
			return;
	shws_registry_lock();
	if (atomic_fetch_sub(&file->refs, 1) == 1)
		file_destroy(file);
	shws_registry_unlock();
}

SHWS_EXPORT int shws_file_fd(const struct shws_file *file)
{
	return file->fd;
}

SHWS_EXPORT struct shws_device *shws_file_device(const struct shws_file *file)
{
	return file->device;
}

SHWS_EXPORT enum shws_node_type shws_file_node_type(const struct shws_file *file)
{
	return file->node;
}

SHWS_EXPORT bool shws_file_is_private(const struct shws_file *file)
{
	return file->is_private;
}

SHWS_EXPORT unsigned shws_file_api_refs(const struct shws_file *file,
					enum shws_api api)
{
	return api_valid(api) ? atomic_load(&file->api_refs[api]) : 0;
}
