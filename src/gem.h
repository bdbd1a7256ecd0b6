/* SPDX-License-Identifier: MIT */
/*
 * The GEM ioctls libshws makes, one function each, all through one
 * wrapper: ioctl(2) restarted on EINTR/EAGAIN (as libdrm's drmIoctl) and
 * the result as 0 or a negative errno. The handle table's logic (bo.c)
 * reaches the kernel only through these, so the host tests and the fuzzer
 * can link a simulated GEM in place of gem.c (tests/unit/fake-gem.c).
 */
#ifndef SHWS_GEM_H
#define SHWS_GEM_H

#include <stdint.h>

/* PRIME_FD_TO_HANDLE: the handle of dma-buf @dmabuf_fd in @drm_fd's file
 * (the existing one if the buffer already has a handle there). */
int shws_gem_prime_import(int drm_fd, int dmabuf_fd, uint32_t *handle);

/* PRIME_HANDLE_TO_FD with DRM_CLOEXEC | DRM_RDWR: the first export fixes
 * the access mode for the buffer's life (docs/handle-tables.md). */
int shws_gem_prime_export(int drm_fd, uint32_t handle, int *dmabuf_fd);

/* GEM_CLOSE. */
int shws_gem_close(int drm_fd, uint32_t handle);

/* GEM_OPEN: a new handle for flink @name on every call. */
int shws_gem_open(int drm_fd, uint32_t name, uint32_t *handle,
		  uint64_t *size);

/* GEM_FLINK: the global name of @handle (the same name every time). */
int shws_gem_flink(int drm_fd, uint32_t handle, uint32_t *name);

/* MODE_CREATE_DUMB. */
int shws_gem_create_dumb(int drm_fd, uint32_t width, uint32_t height,
			 uint32_t bpp, uint32_t *handle, uint32_t *pitch,
			 uint64_t *size);

/* The size of a dma-buf (its llseek end); 0 if the kernel says nothing.
 * Only for an fd the kernel just accepted as a dma-buf. */
uint64_t shws_gem_dmabuf_size(int dmabuf_fd);

#endif
