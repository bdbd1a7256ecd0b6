/* SPDX-License-Identifier: MIT */
/*
 * A simulated kernel for host tests: fake-device.c stands in for
 * src/device.c (DRM nodes and devices) and fake-gem.c for src/gem.c (the
 * GEM ioctls), so the real registry.c, file.c, bo.c and bo_table.c run on
 * a machine without /dev/dri (tests/unit/test-bo.c, tests/fuzz/).
 *
 * Fake DRM fds: every open of a fake node is the read end of a new pipe,
 * one open file description each (dup() or SCM_RIGHTS give more fds on
 * it). A pipe, not a regular file, so that every identity method of
 * src/identity.c (F_DUPFD_QUERY, kcmp, epoll) works on it. The fake keeps
 * the pipe's write end open until fake_kernel_reset(), so the pipe's inode
 * number (the fake's key for the description) is never reused meanwhile.
 *
 * GEM as the kernel does it, per description: handles are the lowest free
 * number from 1, reused at once; PRIME import returns the existing handle
 * of the object in that description (the lowest, if GEM_OPEN made more);
 * GEM_OPEN returns a new handle on every call; GEM_FLINK the same global
 * name every time; GEM_CLOSE of an unknown handle is -EINVAL; FLINK,
 * GEM_OPEN and CREATE_DUMB are -EACCES on a render node.
 *
 * Fake dma-bufs: a memfd of the object's size (so its llseek end is the
 * size), one per object, created on the first export; every export returns
 * a new fd of that same description (as the kernel's dma-buf file). The
 * fake keeps its own fd of it until fake_kernel_reset(), so any fd of it
 * still maps back to the object (by inode).
 *
 * Threads: the gem functions and the queries take the fake's one lock, so
 * shws may call them from several threads at once (test-bo's race and
 * threads tests). fake_device_add() and fake_kernel_reset() are for the
 * test's main thread, with no other thread in shws.
 */
#ifndef SHWS_TESTS_FAKE_KERNEL_H
#define SHWS_TESTS_FAKE_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <shws/file.h>

/* The gem calls, for failure injection and statistics. */
enum fake_call {
	FAKE_PRIME_IMPORT,
	FAKE_PRIME_EXPORT,
	FAKE_GEM_CLOSE,
	FAKE_GEM_OPEN,
	FAKE_GEM_FLINK,
	FAKE_CREATE_DUMB,
	FAKE_CALL_COUNT
};

/* --- Devices (fake-device.c) --- */

/* A new fake GPU with a primary and a render node; returns its index. */
int fake_device_add(const char *driver);

/* A new open of node @type of device @dev: a new description, the fd
 * owned by the caller. -errno on failure. */
int fake_drm_open(int dev, enum shws_node_type type);

/* How many opens (fake_drm_open() and shws's private opens). */
unsigned fake_device_opens(void);

/* For fake_kernel_reset(): forgets the devices. */
void fake_device_reset_(void);

/* --- Descriptions and GEM (fake-gem.c) --- */

/* For fake-device.c: registers the read end @fd of a new pipe (write end
 * @wfd, now owned by the fake) as a description of @dev's node @type. */
void fake_gem_desc_add(int fd, int wfd, int dev, enum shws_node_type type);

/* The description behind @fd: true and its device and node type, or false
 * (not a fake DRM fd). */
bool fake_gem_desc_of(int fd, int *dev, enum shws_node_type *type);

/* The driver's own create ioctl (what a Mesa driver does before
 * shws_bo_adopt()): a new object of @size with a handle in @fd's
 * description. 0 or -errno. */
int fake_gem_create(int fd, uint64_t size, uint32_t *handle);

/* A dma-buf exported by some other device: an object with no handle
 * anywhere. Returns the fd (caller owns it) or -errno. */
int fake_dmabuf_new(uint64_t size);

/* Open handles in @fd's description (-1 if @fd is not a fake DRM fd). */
int fake_gem_handles(int fd);

/* The object id behind @handle in @fd's description, 0 if none. */
unsigned fake_gem_object(int fd, uint32_t handle);

/* The object id behind dma-buf @fd, 0 if none. */
unsigned fake_dmabuf_object(int fd);

/* Size of object @id (0 if none). */
uint64_t fake_object_size(unsigned id);

/* Objects with at least one open handle, in any description. */
unsigned fake_gem_live_objects(void);

/* Handles open in all descriptions together. */
unsigned fake_gem_open_handles(void);

/* GEM_CLOSE calls of a handle that was not open (-EINVAL), so far. */
unsigned fake_gem_bad_closes(void);

/* Calls made of @call so far (failed ones included). */
unsigned fake_gem_calls(enum fake_call call);

/* The next call of @call fails with @err (negative). -EINTR and -EAGAIN
 * are restarted as gem.c's wrapper restarts them: the call then succeeds,
 * after one more restart counted in fake_gem_restarts(). */
void fake_gem_fail_next(enum fake_call call, int err);

/* true while an injected failure of @call is still armed. */
bool fake_gem_fail_armed(enum fake_call call);

/* Restarts of interrupted calls (see fake_gem_fail_next()). */
unsigned fake_gem_restarts(void);

/* Optional hook run at the start of each GEM_CLOSE (test-bo's races). */
void fake_gem_set_close_hook(void (*hook)(int fd, uint32_t handle));

/* Forgets everything and closes the fake's own fds (pipe write ends,
 * dma-buf memfds). The fds handed out stay the holders'. */
void fake_kernel_reset(void);

#endif
