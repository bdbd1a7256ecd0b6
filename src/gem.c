/* SPDX-License-Identifier: MIT */
/* The GEM ioctls (gem.h). */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

#include "gem.h"
#include "util.h"

/* ioctl(2) directly, with drmIoctl()'s restart but without its extra
 * calls: a dedupe-hit import is this ioctl plus a few instructions, and
 * under TCG each call and return costs about as much as the rest
 * (docs/performance.md, P2). */
static inline int gem_ioctl(int fd, unsigned long request, void *arg)
{
	int r;

	do {
		r = ioctl(fd, request, arg);
	} while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r ? shws_neg_errno() : 0;
}

int shws_gem_prime_import(int drm_fd, int dmabuf_fd, uint32_t *handle)
{
	struct drm_prime_handle args = { .fd = dmabuf_fd };
	int r = gem_ioctl(drm_fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args);

	if (!r)
		*handle = args.handle;
	return r;
}

int shws_gem_prime_export(int drm_fd, uint32_t handle, int *dmabuf_fd)
{
	struct drm_prime_handle args = {
		.handle = handle,
		.flags = DRM_CLOEXEC | DRM_RDWR,
	};
	int r = gem_ioctl(drm_fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &args);

	if (!r)
		*dmabuf_fd = args.fd;
	return r;
}

int shws_gem_close(int drm_fd, uint32_t handle)
{
	struct drm_gem_close args = { .handle = handle };

	return gem_ioctl(drm_fd, DRM_IOCTL_GEM_CLOSE, &args);
}

int shws_gem_open(int drm_fd, uint32_t name, uint32_t *handle,
		  uint64_t *size)
{
	struct drm_gem_open args = { .name = name };
	int r = gem_ioctl(drm_fd, DRM_IOCTL_GEM_OPEN, &args);

	if (!r) {
		*handle = args.handle;
		*size = args.size;
	}
	return r;
}

int shws_gem_flink(int drm_fd, uint32_t handle, uint32_t *name)
{
	struct drm_gem_flink args = { .handle = handle };
	int r = gem_ioctl(drm_fd, DRM_IOCTL_GEM_FLINK, &args);

	if (!r)
		*name = args.name;
	return r;
}

int shws_gem_create_dumb(int drm_fd, uint32_t width, uint32_t height,
			 uint32_t bpp, uint32_t *handle, uint32_t *pitch,
			 uint64_t *size)
{
	struct drm_mode_create_dumb args = {
		.width = width,
		.height = height,
		.bpp = bpp,
	};
	int r = gem_ioctl(drm_fd, DRM_IOCTL_MODE_CREATE_DUMB, &args);

	if (!r) {
		*handle = args.handle;
		*pitch = args.pitch;
		*size = args.size;
	}
	return r;
}

uint64_t shws_gem_dmabuf_size(int dmabuf_fd)
{
	off_t end = lseek(dmabuf_fd, 0, SEEK_END);

	return end > 0 ? (uint64_t)end : 0;
}
