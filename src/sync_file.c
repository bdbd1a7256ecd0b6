/* SPDX-License-Identifier: MIT */
/* sync_file utilities: identify, describe, merge, wait. */
#include <errno.h>
#include <linux/magic.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <xf86drm.h>

#include <shws/sync_file.h>

#include "util.h"
#include "sync_private.h"

#ifndef ANON_INODE_FS_MAGIC
#define ANON_INODE_FS_MAGIC 0x09041934
#endif

_Static_assert(sizeof(((struct sync_fence_info *)0)->obj_name) ==
		       SHWS_SYNC_NAME_LEN,
	       "timeline name length is ABI");
_Static_assert(sizeof(((struct sync_file_info *)0)->name) ==
		       SHWS_SYNC_NAME_LEN,
	       "sync_file name length is ABI");

/* A sync_file is always an anon-inode file. Filtering on that first keeps
 * SYNC_IOC_* away from every driver's own ioctl handler (pipes, devices,
 * DRM, dma-bufs). Among anon-inode files only a sync_file accepts
 * SYNC_IOC_FILE_INFO; the others say ENOTTY or EINVAL (userfaultfd, epoll
 * since 6.9). */
int shws_sync_file_query(int fd, int32_t *status)
{
	struct sync_file_info info = { .num_fences = 0 };
	struct statfs sfs;

	if (fd < 0)
		return -EBADF;
	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if (sfs.f_type != ANON_INODE_FS_MAGIC)
		return 0;
	if (drmIoctl(fd, SYNC_IOC_FILE_INFO, &info) < 0)
		return errno == EBADF ? -EBADF : 0;
	if (status)
		*status = info.status;
	return 1;
}

/* 0 if @fd is a sync_file, else the documented negative errno. */
static int require_sync_file(int fd, int32_t *status)
{
	int r = shws_sync_file_query(fd, status);

	return r == 1 ? 0 : r ? r : -EINVAL;
}

SHWS_EXPORT int shws_is_sync_file(int fd)
{
	return shws_sync_file_query(fd, NULL);
}

static void copy_name(char *dst, const char *src)
{
	memcpy(dst, src, SHWS_SYNC_NAME_LEN);
	dst[SHWS_SYNC_NAME_LEN - 1] = '\0';
}

static int fences_info(int fd, uint32_t count,
		       struct shws_sync_fence_info *out, uint32_t max)
{
	struct sync_file_info info = { .num_fences = count };
	struct sync_fence_info *k = calloc(count, sizeof(*k));
	uint32_t i;

	if (!k)
		return -ENOMEM;
	info.sync_fence_info = (uint64_t)(uintptr_t)k;
	/* A sync_file's fence set never changes, so count still fits. */
	if (drmIoctl(fd, SYNC_IOC_FILE_INFO, &info) < 0) {
		int r = -errno;

		free(k);
		return r;
	}
	for (i = 0; i < max && i < info.num_fences; i++) {
		copy_name(out[i].timeline_name, k[i].obj_name);
		copy_name(out[i].driver_name, k[i].driver_name);
		out[i].status = k[i].status;
		out[i].reserved = 0;
		out[i].timestamp_ns = k[i].timestamp_ns;
	}
	free(k);
	return 0;
}

SHWS_EXPORT int shws_sync_file_info(int fd, struct shws_sync_file_info *out,
				    struct shws_sync_fence_info *fences,
				    uint32_t max_fences)
{
	/* num_fences = 0 asks for the count and the overall status only. */
	struct sync_file_info info = { .num_fences = 0 };
	int r;

	if (!out || (!fences && max_fences))
		return -EINVAL;
	r = require_sync_file(fd, NULL);
	if (r)
		return r;
	if (drmIoctl(fd, SYNC_IOC_FILE_INFO, &info) < 0)
		return -errno;
	if (max_fences && info.num_fences) {
		r = fences_info(fd, info.num_fences, fences, max_fences);
		if (r)
			return r;
	}
	copy_name(out->name, info.name);
	out->status = info.status;
	out->num_fences = info.num_fences;
	return 0;
}

SHWS_EXPORT int shws_sync_file_merge(const char *name, int a, int b, int *out)
{
	struct sync_merge_data data = { .fd2 = b };
	int r;

	if (!out)
		return -EINVAL;
	r = require_sync_file(a, NULL);
	if (!r)
		r = require_sync_file(b, NULL);
	if (r)
		return r;
	strncpy(data.name, name ? name : "shws-merge", sizeof(data.name) - 1);
	if (drmIoctl(a, SYNC_IOC_MERGE, &data) < 0)
		return -errno;
	*out = data.fence; /* the kernel makes it O_CLOEXEC */
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sync_file_poll() says POLLIN once the fence signalled; it also enables
 * signalling, which FILE_INFO alone does not on every kernel. */
static int poll_sync_file(int fd, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
		int n = poll(&p, 1, left < 0 && deadline >= 0 ? 0 : left);

		if (n > 0 && (p.revents & POLLIN))
			return 0;
		if (n > 0)
			return p.revents & POLLNVAL ? -EBADF : -EINVAL;
		if (n == 0)
			return -ETIME;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

SHWS_EXPORT int shws_sync_file_wait(int fd, int timeout_ms)
{
	int32_t status = 0;
	int r = require_sync_file(fd, &status);

	if (r)
		return r;
	if (status == 0) {
		r = poll_sync_file(fd, timeout_ms);
		if (r)
			return r;
		/* Now signalled: read back whether it carried an error. */
		if (shws_sync_file_query(fd, &status) != 1)
			return -EBADF;
	}
	return status < 0 ? status : 0;
}
