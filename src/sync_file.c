/* SPDX-License-Identifier: MIT */
/* sync_file utilities: check, describe, merge, wait. */
#include <errno.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xf86drm.h>

#include <shws/sync_file.h>

#include "fd_kind.h"
#include "sync_priv.h"
#include "util.h"

_Static_assert(sizeof(((struct sync_fence_info *)0)->obj_name) ==
		       SHWS_SYNC_NAME_LEN,
	       "timeline name length is ABI");
_Static_assert(sizeof(((struct sync_file_info *)0)->name) ==
		       SHWS_SYNC_NAME_LEN,
	       "sync_file name length is ABI");

/* fd_kind.h identifies the fd before any SYNC_IOC_* reaches it, so no
 * other driver's ioctl handler ever sees one. 0 a sync_file (*@status
 * set), -EINVAL another kind, -EBADF. */
static int require_sync_file(int fd, int32_t *status)
{
	int kind = shws_fd_kind_sync_status(fd, status);

	if (kind < 0)
		return kind;
	return kind == SHWS_FD_SYNC_FILE ? 0 : -EINVAL;
}

SHWS_EXPORT int shws_sync_file_check(int fd)
{
	int32_t status;

	return require_sync_file(fd, &status);
}

/* The status word of a checked sync_file: 1 signalled, 0 pending, < 0 the
 * error it signalled with. 0 or a negative errno. */
static int sync_file_status(int fd, int32_t *status)
{
	struct sync_file_info info = { .num_fences = 0 };

	if (drmIoctl(fd, SYNC_IOC_FILE_INFO, &info) < 0)
		return shws_neg_errno();
	*status = info.status;
	return 0;
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
		int r = shws_neg_errno();

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
	r = shws_sync_file_check(fd);
	if (r)
		return r;
	if (drmIoctl(fd, SYNC_IOC_FILE_INFO, &info) < 0)
		return shws_neg_errno();
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
	r = shws_sync_file_check(a);
	if (!r)
		r = shws_sync_file_check(b);
	if (r)
		return r;
	strncpy(data.name, name ? name : "shws-merge", sizeof(data.name) - 1);
	if (drmIoctl(a, SYNC_IOC_MERGE, &data) < 0)
		return shws_neg_errno();
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
			return shws_neg_errno();
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
		/* Now signalled: read back whether it carried an error. */
		if (!r)
			r = sync_file_status(fd, &status);
		if (r)
			return r;
	}
	return status < 0 ? status : 0;
}
