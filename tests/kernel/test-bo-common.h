/* SPDX-License-Identifier: MIT */
/* Helpers shared by the tests/kernel/test-bo-*.c programs: buffers made
 * with dumb ioctls, dma-buf mmaps with DMA_BUF_IOCTL_SYNC brackets, and the
 * debugfs bufinfo oracle
 * (kt.h). */
#ifndef TEST_BO_COMMON_H
#define TEST_BO_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <xf86drm.h>

#include <shws/shws.h>

#include "kt.h"
#include "test.h"

#define BO_SIZE 16384

/* A dumb buffer of @size bytes (primary nodes only; render nodes refuse
 * CREATE_DUMB). Returns the handle. */
static inline uint32_t bo_dumb_create(int fd, uint64_t size)
{
	struct drm_mode_create_dumb req = {
		.width = 1024, .height = (uint32_t)(size / 4096), .bpp = 32,
	};

	CHECK_SYS(drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &req));
	CHECK_INT(req.size, >=, size);
	return req.handle;
}

static inline void *bo_dumb_map(int fd, uint32_t handle, uint64_t size)
{
	struct drm_mode_map_dumb req = { .handle = handle };
	void *p;

	CHECK_SYS(drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &req));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)req.offset);
	CHECK(p != MAP_FAILED);
	return p;
}

static inline void bo_dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	CHECK_SYS(drmIoctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s));
}

static inline void bo_fill(uint32_t *p, uint64_t size, uint32_t seed)
{
	for (uint64_t i = 0; i < size / 4; i++)
		p[i] = seed ^ (uint32_t)(i * 2654435761u);
}

static inline bool bo_matches(const uint32_t *p, uint64_t size, uint32_t seed)
{
	for (uint64_t i = 0; i < size / 4; i++)
		if (p[i] != (seed ^ (uint32_t)(i * 2654435761u)))
			return false;
	return true;
}

/* Writes (@write) or checks the pattern through an mmap of the dma-buf,
 * bracketed by DMA_BUF_IOCTL_SYNC as the uapi asks. (vgem cannot MAP_DUMB
 * an imported handle: mapping the dma-buf works for every exporter.) */
static inline bool bo_dmabuf_pattern(int dmabuf, uint64_t size, uint32_t seed,
				     bool write)
{
	uint64_t dir = write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf,
		       0);
	bool ok = true;

	CHECK(p != MAP_FAILED);
	bo_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | dir);
	if (write)
		bo_fill(p, size, seed);
	else
		ok = bo_matches(p, size, seed);
	bo_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | dir);
	munmap(p, size);
	return ok;
}

/* Checks @bo's contents through a dma-buf exported by shws. */
static inline bool bo_shws_matches(struct shws_bo *bo, uint32_t seed)
{
	int fd;
	bool ok;

	CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
	ok = bo_dmabuf_pattern(fd, BO_SIZE, seed, false);
	close(fd);
	return ok;
}

static inline ino_t bo_fd_ino(int fd)
{
	struct stat st;

	CHECK_SYS(fstat(fd, &st));
	return st.st_ino;
}

/* A dma-buf of a fresh dumb buffer on @card_fd filled with @seed's
 * pattern; the dumb handle is closed again (the dma-buf keeps it). */
static inline int bo_make_dmabuf(int card_fd, uint32_t seed)
{
	uint32_t h = bo_dumb_create(card_fd, BO_SIZE);
	int fd;

	CHECK_SYS(drmPrimeHandleToFD(card_fd, h, DRM_CLOEXEC | DRM_RDWR, &fd));
	CHECK_SYS(drmCloseBufferHandle(card_fd, h));
	CHECK(bo_dmabuf_pattern(fd, BO_SIZE, seed, true));
	return fd;
}

#endif
