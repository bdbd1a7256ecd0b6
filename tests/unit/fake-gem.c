/* SPDX-License-Identifier: MIT */
/*
 * The simulated GEM of fake-kernel.h: every function of src/gem.h, on the
 * fake descriptions that fake-device.c opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-kernel.h"
#include "gem.h"

struct obj {
	uint64_t size;
	uint32_t name;     /* flink name, 0: none yet */
	int dmabuf_fd;     /* the fake's own fd of its dma-buf, or -1 */
	dev_t dmabuf_dev;
	ino_t dmabuf_ino;
	unsigned handles;  /* open handles in all descriptions */
};

struct desc {
	dev_t st_dev;
	ino_t ino;
	int wfd;           /* the pipe's write end: keeps the inode alive */
	int dev;
	enum shws_node_type type;
	unsigned *handle;  /* handle -> object id, 0: free */
	uint32_t cap;
	unsigned open;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct obj *objs;      /* id - 1 */
static unsigned n_objs, cap_objs;
static struct desc *descs;
static unsigned n_descs, cap_descs;
static uint32_t next_name;
static unsigned bad_closes, restarts, calls[FAKE_CALL_COUNT];
static int fail_err[FAKE_CALL_COUNT];
static void (*close_hook)(int fd, uint32_t handle);

static void *grow(void *a, unsigned *cap, unsigned need, size_t elem)
{
	unsigned c = *cap ? *cap : 8;

	while (c < need)
		c *= 2;
	if (c == *cap)
		return a;
	a = realloc(a, c * elem);
	if (!a)
		abort(); /* the fake's own memory: not under test */
	memset((char *)a + *cap * elem, 0, (c - *cap) * elem);
	*cap = c;
	return a;
}

/* Under the lock. */
static struct desc *desc_of(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return NULL;
	for (unsigned i = 0; i < n_descs; i++)
		if (descs[i].ino == st.st_ino && descs[i].st_dev == st.st_dev)
			return &descs[i];
	return NULL;
}

void fake_gem_desc_add(int fd, int wfd, int dev, enum shws_node_type type)
{
	struct stat st;
	struct desc *d;

	if (fstat(fd, &st) < 0)
		abort();
	pthread_mutex_lock(&lock);
	descs = grow(descs, &cap_descs, n_descs + 1, sizeof(*descs));
	d = &descs[n_descs++];
	memset(d, 0, sizeof(*d));
	d->st_dev = st.st_dev;
	d->ino = st.st_ino;
	d->wfd = wfd;
	d->dev = dev;
	d->type = type;
	pthread_mutex_unlock(&lock);
}

bool fake_gem_desc_of(int fd, int *dev, enum shws_node_type *type)
{
	struct desc *d;

	pthread_mutex_lock(&lock);
	d = desc_of(fd);
	if (d) {
		*dev = d->dev;
		*type = d->type;
	}
	pthread_mutex_unlock(&lock);
	return d != NULL;
}

/* Under the lock: a new object, its id. */
static unsigned obj_new(uint64_t size)
{
	struct obj *o;

	objs = grow(objs, &cap_objs, n_objs + 1, sizeof(*objs));
	o = &objs[n_objs++];
	o->size = size;
	o->name = 0;
	o->dmabuf_fd = -1;
	o->handles = 0;
	return n_objs;
}

/* Under the lock: the lowest free handle from 1 for object @id. */
static uint32_t handle_new(struct desc *d, unsigned id)
{
	uint32_t h = 1;

	while (h < d->cap && d->handle[h])
		h++;
	if (h >= d->cap)
		d->handle = grow(d->handle, &d->cap, h + 1, sizeof(*d->handle));
	d->handle[h] = id;
	d->open++;
	objs[id - 1].handles++;
	return h;
}

static unsigned handle_obj(struct desc *d, uint32_t h)
{
	return h && h < d->cap ? d->handle[h] : 0;
}

/* Under the lock: the injected result of a call of @c, 0 to proceed. */
static int injected(enum fake_call c)
{
	int err = fail_err[c];

	calls[c]++;
	if (!err)
		return 0;
	fail_err[c] = 0;
	if (err == -EINTR || err == -EAGAIN) {
		/* gem.c restarts these: the retry goes through. */
		restarts++;
		calls[c]++;
		return 0;
	}
	return err;
}

/* Under the lock: the object of dma-buf @fd, 0 if it is none. */
static unsigned dmabuf_obj(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return 0;
	for (unsigned i = 0; i < n_objs; i++)
		if (objs[i].dmabuf_fd >= 0 && objs[i].dmabuf_ino == st.st_ino &&
		    objs[i].dmabuf_dev == st.st_dev)
			return i + 1;
	return 0;
}

/* Under the lock: gives object @id its dma-buf. 0 or -errno. */
static int dmabuf_make(unsigned id)
{
	struct obj *o = &objs[id - 1];
	struct stat st;
	int fd;

	if (o->dmabuf_fd >= 0)
		return 0;
	fd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)o->size) < 0 || fstat(fd, &st) < 0) {
		close(fd);
		return -ENOMEM;
	}
	o->dmabuf_fd = fd;
	o->dmabuf_dev = st.st_dev;
	o->dmabuf_ino = st.st_ino;
	return 0;
}

/* The start of every ioctl: takes the lock (the caller drops it), plays
 * an injected failure, and finds @drm_fd's description (-ENOTTY: not a
 * fake DRM fd; -EACCES: @primary_only and a render node, as the kernel's
 * DRM_AUTH ioctls answer there). */
static int enter(enum fake_call c, int drm_fd, bool primary_only,
		 struct desc **d)
{
	int r;

	pthread_mutex_lock(&lock);
	r = injected(c);
	if (r)
		return r;
	*d = desc_of(drm_fd);
	if (!*d)
		return -ENOTTY;
	if (primary_only && (*d)->type != SHWS_NODE_PRIMARY)
		return -EACCES;
	return 0;
}

int shws_gem_prime_import(int drm_fd, int dmabuf_fd, uint32_t *handle)
{
	struct desc *d;
	unsigned id;
	int r;

	r = enter(FAKE_PRIME_IMPORT, drm_fd, false, &d);
	if (r)
		goto out;
	if (fcntl(dmabuf_fd, F_GETFD) < 0) {
		r = -EBADF;
		goto out;
	}
	id = dmabuf_obj(dmabuf_fd);
	if (!id) {
		r = -EINVAL;
		goto out;
	}
	for (uint32_t h = 1; h < d->cap; h++) {
		if (d->handle[h] == id) {
			*handle = h;
			goto out;
		}
	}
	*handle = handle_new(d, id);
out:
	pthread_mutex_unlock(&lock);
	return r;
}

int shws_gem_prime_export(int drm_fd, uint32_t handle, int *dmabuf_fd)
{
	struct desc *d;
	unsigned id;
	int r, fd;

	r = enter(FAKE_PRIME_EXPORT, drm_fd, false, &d);
	if (r)
		goto out;
	id = handle_obj(d, handle);
	if (!id) {
		r = -ENOENT;
		goto out;
	}
	r = dmabuf_make(id);
	if (r)
		goto out;
	fd = fcntl(objs[id - 1].dmabuf_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		r = -errno;
	else
		*dmabuf_fd = fd;
out:
	pthread_mutex_unlock(&lock);
	return r;
}

int shws_gem_close(int drm_fd, uint32_t handle)
{
	void (*hook)(int, uint32_t);
	struct desc *d;
	unsigned id;
	int r;

	pthread_mutex_lock(&lock);
	hook = close_hook;
	pthread_mutex_unlock(&lock);
	if (hook)
		hook(drm_fd, handle);
	pthread_mutex_lock(&lock);
	r = injected(FAKE_GEM_CLOSE);
	if (r)
		goto out;
	d = desc_of(drm_fd);
	id = d ? handle_obj(d, handle) : 0;
	if (!d) {
		r = -ENOTTY;
	} else if (!id) {
		bad_closes++;
		r = -EINVAL;
	} else {
		d->handle[handle] = 0;
		d->open--;
		/* The kernel drops the flink name with the last handle. */
		if (!--objs[id - 1].handles)
			objs[id - 1].name = 0;
	}
out:
	pthread_mutex_unlock(&lock);
	return r;
}

int shws_gem_open(int drm_fd, uint32_t name, uint32_t *handle,
		  uint64_t *size)
{
	struct desc *d;
	int r;

	r = enter(FAKE_GEM_OPEN, drm_fd, true, &d);
	if (r)
		goto out;
	r = -ENOENT;
	/* A name lives while its object has a handle somewhere (the
	 * kernel's name holds the object only through its handles). */
	for (unsigned i = 0; i < n_objs; i++) {
		if (name && objs[i].name == name && objs[i].handles) {
			*handle = handle_new(d, i + 1);
			*size = objs[i].size;
			r = 0;
			break;
		}
	}
out:
	pthread_mutex_unlock(&lock);
	return r;
}

int shws_gem_flink(int drm_fd, uint32_t handle, uint32_t *name)
{
	struct desc *d;
	unsigned id;
	int r;

	r = enter(FAKE_GEM_FLINK, drm_fd, true, &d);
	if (r)
		goto out;
	id = handle_obj(d, handle);
	if (!id) {
		r = -ENOENT;
		goto out;
	}
	if (!objs[id - 1].name)
		objs[id - 1].name = ++next_name;
	*name = objs[id - 1].name;
out:
	pthread_mutex_unlock(&lock);
	return r;
}

int shws_gem_create_dumb(int drm_fd, uint32_t width, uint32_t height,
			 uint32_t bpp, uint32_t *handle, uint32_t *pitch,
			 uint64_t *size)
{
	struct desc *d;
	uint64_t p, s;
	int r;

	r = enter(FAKE_CREATE_DUMB, drm_fd, true, &d);
	if (r)
		goto out;
	/* As drm_mode_create_dumb(): 8-bit multiples, no overflow. */
	if (!width || !height || !bpp || bpp % 8 || bpp > 32 ||
	    width > 16384 || height > 16384) {
		r = -EINVAL;
		goto out;
	}
	p = (uint64_t)width * (bpp / 8);
	p = (p + 63) & ~63ull;
	s = (p * height + 4095) & ~4095ull;
	*handle = handle_new(d, obj_new(s));
	*pitch = (uint32_t)p;
	*size = s;
out:
	pthread_mutex_unlock(&lock);
	return r;
}

uint64_t shws_gem_dmabuf_size(int dmabuf_fd)
{
	off_t end = lseek(dmabuf_fd, 0, SEEK_END);

	return end > 0 ? (uint64_t)end : 0;
}

/* --- The test's side ------------------------------------------------------ */

int fake_gem_create(int fd, uint64_t size, uint32_t *handle)
{
	struct desc *d;
	int r = 0;

	pthread_mutex_lock(&lock);
	d = desc_of(fd);
	if (!d || !size)
		r = d ? -EINVAL : -ENOTTY;
	else
		*handle = handle_new(d, obj_new(size));
	pthread_mutex_unlock(&lock);
	return r;
}

int fake_dmabuf_new(uint64_t size)
{
	unsigned id;
	int r;

	pthread_mutex_lock(&lock);
	id = obj_new(size);
	r = dmabuf_make(id);
	if (!r) {
		r = fcntl(objs[id - 1].dmabuf_fd, F_DUPFD_CLOEXEC, 0);
		if (r < 0)
			r = -errno;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

int fake_gem_handles(int fd)
{
	struct desc *d;
	int n;

	pthread_mutex_lock(&lock);
	d = desc_of(fd);
	n = d ? (int)d->open : -1;
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned fake_gem_object(int fd, uint32_t handle)
{
	struct desc *d;
	unsigned id;

	pthread_mutex_lock(&lock);
	d = desc_of(fd);
	id = d ? handle_obj(d, handle) : 0;
	pthread_mutex_unlock(&lock);
	return id;
}

unsigned fake_dmabuf_object(int fd)
{
	unsigned id;

	pthread_mutex_lock(&lock);
	id = dmabuf_obj(fd);
	pthread_mutex_unlock(&lock);
	return id;
}

uint64_t fake_object_size(unsigned id)
{
	uint64_t s;

	pthread_mutex_lock(&lock);
	s = id && id <= n_objs ? objs[id - 1].size : 0;
	pthread_mutex_unlock(&lock);
	return s;
}

unsigned fake_gem_live_objects(void)
{
	unsigned n = 0;

	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n_objs; i++)
		n += objs[i].handles != 0;
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned fake_gem_open_handles(void)
{
	unsigned n = 0;

	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n_descs; i++)
		n += descs[i].open;
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned fake_gem_bad_closes(void)
{
	return __atomic_load_n(&bad_closes, __ATOMIC_RELAXED);
}

unsigned fake_gem_calls(enum fake_call call)
{
	unsigned n;

	pthread_mutex_lock(&lock);
	n = calls[call];
	pthread_mutex_unlock(&lock);
	return n;
}

void fake_gem_fail_next(enum fake_call call, int err)
{
	pthread_mutex_lock(&lock);
	fail_err[call] = err;
	pthread_mutex_unlock(&lock);
}

bool fake_gem_fail_armed(enum fake_call call)
{
	bool armed;

	pthread_mutex_lock(&lock);
	armed = fail_err[call] != 0;
	pthread_mutex_unlock(&lock);
	return armed;
}

unsigned fake_gem_restarts(void)
{
	unsigned n;

	pthread_mutex_lock(&lock);
	n = restarts;
	pthread_mutex_unlock(&lock);
	return n;
}

void fake_gem_set_close_hook(void (*hook)(int fd, uint32_t handle))
{
	pthread_mutex_lock(&lock);
	close_hook = hook;
	pthread_mutex_unlock(&lock);
}

void fake_kernel_reset(void)
{
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n_objs; i++)
		if (objs[i].dmabuf_fd >= 0)
			close(objs[i].dmabuf_fd);
	for (unsigned i = 0; i < n_descs; i++) {
		close(descs[i].wfd);
		free(descs[i].handle);
	}
	free(objs);
	free(descs);
	objs = NULL;
	descs = NULL;
	n_objs = cap_objs = n_descs = cap_descs = 0;
	next_name = 0;
	bad_closes = restarts = 0;
	memset(calls, 0, sizeof(calls));
	memset(fail_err, 0, sizeof(fail_err));
	close_hook = NULL;
	pthread_mutex_unlock(&lock);
	fake_device_reset_();
}
