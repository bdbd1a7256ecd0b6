/* SPDX-License-Identifier: MIT */
/*
 * The process-wide registry (registry_priv.h). It lives in libshws.so, so
 * every driver .so in the process sees the same one.
 *
 * A file's 1 -> 0 transition happens under the registry lock, and lookups
 * take their reference under it too, so a lookup never revives a dying
 * file, and a file's teardown (its dup closed) completes before a new file
 * for the same description can be created: two live shws_files on one
 * description would share one handle namespace without sharing a table.
 *
 * fork(): a child shares every open file description with its parent, and
 * with it every GEM handle; a GEM_CLOSE in the child kills the parent's
 * buffer (tests/kernel/test-fork.c). The child therefore starts with an
 * empty registry and a new fork generation: objects of an older generation
 * are "inherited" and only ever abandoned there.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shws/identity.h>

#include "device_priv.h"
#include "file_priv.h"
#include "identity_priv.h"
#include "registry_priv.h"
#include "util.h"

/* A device as the registry keeps it: the device, the files on it, and
 * how many files (shared or private) point to it. */
struct reg_device {
	struct shws_device dev;
	unsigned generation;     /* fork generation it was created in */
	unsigned refs;           /* files pointing here */
	/* The shared (findable) files. While @sorted, in kcmp's order, for
	 * a binary search; once one file could not be ordered (kcmp not
	 * the method, ENOMEM) in no order until the index empties. */
	struct shws_file **files;
	unsigned n_files, cap_files;
	bool sorted;
	struct reg_device *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_device *devices;  /* registry_lock */
/* Devices of earlier fork generations still referenced in this process
 * (registry_lock): not findable, but their files are still compared
 * against, so that a description shared with the parent is recognised. */
static struct reg_device *inherited;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* --- Locking and fork() ------------------------------------------------ */

/* Hold the lock across fork() so the child's copy of the lists is not
 * caught half-updated by another thread. */
static void before_fork(void)
{
	pthread_mutex_lock(&registry_lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&registry_lock);
}

/* The inherited devices and files stay allocated for whoever still holds
 * references in the child; they are just no longer findable. */
static void after_fork_child(void)
{
	struct reg_device **tail = &devices;

	while (*tail)
		tail = &(*tail)->next;
	*tail = inherited;
	inherited = devices;
	devices = NULL;
	shws_file_generation_bump();
	pthread_mutex_unlock(&registry_lock);
}

static void install_atfork(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static void registry_lock_take(void)
{
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&registry_lock);
}

static void registry_lock_drop(void)
{
	pthread_mutex_unlock(&registry_lock);
}

static struct reg_device *reg_device(const struct shws_file *file)
{
	return shws_container_of(file->device, struct reg_device, dev);
}

/* --- Devices (registry lock held) --------------------------------------- */

static struct reg_device *find_device(dev_t rdev)
{
	for (struct reg_device *rd = devices; rd; rd = rd->next)
		if (shws_device_has_rdev(&rd->dev, rdev))
			return rd;
	return NULL;
}

static struct reg_device *find_equal(const struct shws_device *like)
{
	for (struct reg_device *rd = devices; rd; rd = rd->next)
		if (shws_device_equal(&rd->dev, like))
			return rd;
	return NULL;
}

/* The device behind @fd, found or created. */
static int get_device(int fd, const struct stat *st, enum shws_node_type type,
		      struct reg_device **out)
{
	struct reg_device *rd = find_device(st->st_rdev), *same;
	int r;

	if (rd) {
		*out = rd;
		return 0;
	}
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	r = shws_device_init(&rd->dev, fd, st, type);
	if (r < 0) {
		free(rd);
		return r;
	}
	same = find_equal(&rd->dev);
	if (same) {
		shws_device_fini(&rd->dev);
		free(rd);
		*out = same;
		return 0;
	}
	rd->generation = shws_generation();
	rd->sorted = true;
	rd->next = devices;
	devices = rd;
	*out = rd;
	return 0;
}

/* Frees @rd once no file points to it. Inherited devices are on the
 * inherited list, not the registry's. */
static void put_device_if_unused(struct reg_device *rd)
{
	struct reg_device **p;

	if (rd->refs)
		return;
	p = rd->generation == shws_generation() ? &devices : &inherited;
	for (; *p; p = &(*p)->next) {
		if (*p == rd) {
			*p = rd->next;
			break;
		}
	}
	free(rd->files);
	shws_device_fini(&rd->dev);
	free(rd);
}

/* --- The file index (registry lock held) --------------------------------
 * KCMP_FILE answers "same", "before" or "after": the kernel compares the
 * two struct file pointers through a per-boot bijection, a total order
 * that holds while the files live (tests/kernel/test-registry-order.c).
 * So wherever the policy allows kcmp, finding a description among a
 * device's n files is a binary search, log2(n) syscalls instead of up to
 * n (docs/performance.md, P3) — also where F_DUPFD_QUERY is the method
 * single comparisons use, since it only says same or not. Without kcmp
 * (a seccomp filter, or a policy that names another method) the index is
 * scanned, asking the policy once per lookup, not once per file.
 */

static bool kcmp_allowed(unsigned mask)
{
	return mask & SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_KCMP);
}

/* *pos: the index of @fd's file (*found) or where it would go; or -errno
 * when kcmp failed. */
static int index_search(const struct reg_device *rd, int fd, unsigned *pos,
			bool *found)
{
	unsigned lo = 0, hi = rd->n_files;

	*found = false;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int r = shws_identity_kcmp_order(fd, rd->files[mid]->fd);

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

static bool index_grow(struct reg_device *rd)
{
	unsigned cap = rd->cap_files ? 2 * rd->cap_files : 8;
	struct shws_file **a;

	if (rd->n_files < rd->cap_files)
		return true;
	a = realloc(rd->files, cap * sizeof(*a));
	if (!a)
		return false;
	rd->files = a;
	rd->cap_files = cap;
	return true;
}

/* false on ENOMEM. */
static bool index_insert(struct reg_device *rd, struct shws_file *file)
{
	unsigned pos = rd->n_files;
	bool found;

	if (!index_grow(rd))
		return false;
	if (rd->sorted && (!kcmp_allowed(shws_identity_allowed()) ||
			   index_search(rd, file->fd, &pos, &found) < 0 ||
			   found)) {
		rd->sorted = false;
		pos = rd->n_files;
	}
	memmove(&rd->files[pos + 1], &rd->files[pos],
		(rd->n_files - pos) * sizeof(*rd->files));
	rd->files[pos] = file;
	rd->n_files++;
	return true;
}

static void index_remove(struct reg_device *rd, struct shws_file *file)
{
	for (unsigned i = 0; i < rd->n_files; i++) {
		if (rd->files[i] != file)
			continue;
		memmove(&rd->files[i], &rd->files[i + 1],
			(rd->n_files - i - 1) * sizeof(*rd->files));
		rd->n_files--;
		break;
	}
	if (!rd->n_files)
		rd->sorted = true; /* nothing left to order: start afresh */
}

/* The shared file of @fd (on node @rdev) with a new reference, or NULL;
 * *unknown is set when some file could not be told apart. */
static struct shws_file *index_find(struct reg_device *rd, int fd, dev_t rdev,
				    bool *unknown)
{
	unsigned pos, mask = shws_identity_allowed();
	bool found;

	*unknown = false;
	if (rd->sorted && rd->n_files && kcmp_allowed(mask) &&
	    index_search(rd, fd, &pos, &found) == 0) {
		if (!found)
			return NULL;
		shws_file_get(rd->files[pos]);
		return rd->files[pos];
	}
	for (unsigned i = 0; i < rd->n_files; i++) {
		struct shws_file *file = rd->files[i];
		int r;

		if (file->rdev != rdev)
			continue;
		r = shws_identity_compare_mask(mask, fd, file->fd);
		if (r == SHWS_IDENTITY_SAME) {
			shws_file_get(file);
			return file;
		}
		if (r != SHWS_IDENTITY_DIFFERENT)
			*unknown = true;
	}
	return NULL;
}

/*
 * In a child: may @fd (on node @rdev) be a description shared with the
 * parent, through a file shws had before fork()? SAME or UNKNOWN against
 * any live inherited file says so. A file for it in the child would share
 * the parent's GEM handles, and its GEM_CLOSEs would kill the parent's
 * buffers.
 */
static bool shared_with_parent(int fd, dev_t rdev)
{
	unsigned mask;

	if (!inherited)
		return false;
	mask = shws_identity_allowed();
	for (struct reg_device *rd = inherited; rd; rd = rd->next)
		for (unsigned i = 0; i < rd->n_files; i++)
			if (rd->files[i]->rdev == rdev &&
			    shws_identity_compare_mask(mask, fd,
						       rd->files[i]->fd) !=
				    SHWS_IDENTITY_DIFFERENT)
				return true;
	return false;
}

/* --- File life cycle (registry lock held) ------------------------------- */

/* A new file for @fd with one reference: shws's dup of @fd, or a private
 * open of the device when @is_private. */
static int file_new(struct reg_device *rd, int fd, const struct stat *st,
		    enum shws_node_type type, bool is_private,
		    struct shws_file **out)
{
	struct shws_file *file;
	int own;

	if (is_private) {
		own = shws_device_open_private(&rd->dev, type, &type);
	} else {
		own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (own < 0)
			own = -errno;
	}
	if (own < 0)
		return own;
	file = shws_file_create(&rd->dev, own,
				is_private ? rd->dev.node_rdev[type] :
					     st->st_rdev,
				type, is_private);
	if (!file || (!is_private && !index_insert(rd, file))) {
		free(file);
		close(own);
		return -ENOMEM;
	}
	if (is_private)
		shws_info("fd %d: using a private %s file", fd,
			  shws_node_type_name(type));
	rd->refs++;
	shws_file_get(file);
	*out = file;
	return 0;
}

/* The last reference is gone. */
static void file_destroy(struct shws_file *file)
{
	struct reg_device *rd = reg_device(file);

	if (!file->is_private)
		index_remove(rd, file);
	shws_file_destroy(file);
	rd->refs--;
	put_device_if_unused(rd);
}

/* Drops one reference of any kind. */
static void file_put(struct shws_file *file)
{
	if (shws_file_put_unless_last(file))
		return;
	registry_lock_take();
	if (shws_file_put(file) == 0)
		file_destroy(file);
	registry_lock_drop();
}

/* The file of @fd's description, found or created. */
static int file_find_or_new(int fd, const struct stat *st,
			    enum shws_node_type type, unsigned flags,
			    struct shws_file **out)
{
	struct reg_device *rd;
	bool unknown;
	int r;

	r = get_device(fd, st, type, &rd);
	if (r < 0)
		return r;
	*out = index_find(rd, fd, st->st_rdev, &unknown);
	if (*out)
		return 0;
	if (!unknown && shared_with_parent(fd, st->st_rdev)) {
		shws_info("fd %d is shared with the parent process", fd);
		unknown = true;
	}
	if (unknown && !(flags & SHWS_FILE_PRIVATE_OK))
		r = -ENOTUNIQ;
	else
		r = file_new(rd, fd, st, type, unknown, out);
	put_device_if_unused(rd);
	return r;
}

SHWS_EXPORT int shws_file_open(int fd, unsigned flags, enum shws_api api,
			       struct shws_file **out)
{
	enum shws_node_type type;
	struct stat st;
	int r;

	if (!shws_api_valid(api) || !out || (flags & ~SHWS_FILE_PRIVATE_OK))
		return -EINVAL;
	r = shws_node_classify(fd, &st, &type);
	if (r < 0)
		return r;
	registry_lock_take();
	r = file_find_or_new(fd, &st, type, flags, out);
	if (!r) {
		shws_file_api_get(*out, api);
		shws_file_log(*out, shws_api_name(api));
	}
	registry_lock_drop();
	return r;
}

SHWS_EXPORT int shws_file_ref(struct shws_file *file, enum shws_api api)
{
	if (!file || !shws_api_valid(api))
		return -EINVAL;
	shws_file_get(file);
	shws_file_api_get(file, api);
	return 0;
}

SHWS_EXPORT int shws_file_unref(struct shws_file *file, enum shws_api api)
{
	if (!file)
		return 0;
	if (!shws_api_valid(api) || !shws_file_api_put(file, api)) {
		shws_err("file fd %d: unref by an api that holds no reference "
			 "(double unref?); ignored", file->fd);
		return -EINVAL;
	}
	file_put(file);
	return 0;
}

void shws_registry_file_hold(struct shws_file *file)
{
	shws_file_get(file);
}

void shws_registry_file_release(struct shws_file *file)
{
	file_put(file);
}

int shws_registry_file_is(const struct shws_file *file, int fd)
{
	int r;

	if (fd == file->fd)
		return 0;
	r = shws_identity_compare(fd, file->fd);
	if (r == SHWS_IDENTITY_SAME)
		return 0;
	return r == -EBADF ? -EBADF : -EXDEV;
}

void shws_registry_index_snapshot(const struct shws_device *device, int *fds,
				  unsigned max, unsigned *n, bool *sorted)
{
	const struct reg_device *rd =
		shws_container_of(device, struct reg_device, dev);

	registry_lock_take();
	for (unsigned i = 0; i < rd->n_files && i < max; i++)
		fds[i] = rd->files[i]->fd;
	*n = rd->n_files;
	*sorted = rd->sorted;
	registry_lock_drop();
}
