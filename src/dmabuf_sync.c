/* SPDX-License-Identifier: MIT */
/* dma-buf implicit fences <-> sync_file: DMA_BUF_IOCTL_EXPORT/IMPORT_SYNC_FILE,
 * their once-per-process probe, and the poll() fallback. */
#include <errno.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xf86drm.h>

#include <shws/sync_file.h>

#include "fd_kind.h"
#include "sync_priv.h"
#include "util.h"

/* Kernel headers older than 6.0 lack these; the numbers are ABI. */
#ifndef DMA_BUF_IOCTL_EXPORT_SYNC_FILE
struct dma_buf_export_sync_file {
	__u32 flags;
	__s32 fd;
};
struct dma_buf_import_sync_file {
	__u32 flags;
	__s32 fd;
};
#define DMA_BUF_IOCTL_EXPORT_SYNC_FILE \
	_IOWR(DMA_BUF_BASE, 2, struct dma_buf_export_sync_file)
#define DMA_BUF_IOCTL_IMPORT_SYNC_FILE \
	_IOW(DMA_BUF_BASE, 3, struct dma_buf_import_sync_file)
#endif

enum sync_mode { MODE_AUTO, MODE_IOCTL, MODE_FALLBACK };

static enum sync_mode mode;
static pthread_once_t mode_once = PTHREAD_ONCE_INIT;

#define CAPS_UNKNOWN (-1)
static atomic_int probed_caps = CAPS_UNKNOWN;

/* SHWS_DMABUF_SYNC: auto (default), ioctl, fallback. Read once. */
static void read_mode(void)
{
	const char *v = getenv("SHWS_DMABUF_SYNC");

	mode = MODE_AUTO;
	if (!v || !*v || !strcmp(v, "auto"))
		return;
	if (!strcmp(v, "ioctl"))
		mode = MODE_IOCTL;
	else if (!strcmp(v, "fallback"))
		mode = MODE_FALLBACK;
	else
		shws_err("SHWS_DMABUF_SYNC=%s: expected auto, ioctl or fallback; "
			 "using auto", v);
	if (mode != MODE_AUTO)
		shws_info("SHWS_DMABUF_SYNC=%s", v);
}

static enum sync_mode get_mode(void)
{
	pthread_once(&mode_once, read_mode);
	return mode;
}

int shws_dmabuf_require(int fd)
{
	int kind = shws_fd_kind(fd);

	if (kind < 0)
		return kind;
	return kind == SHWS_FD_DMABUF ? 0 : -ENOTTY;
}

/* The kernel checks flags before anything else, so flags 0 on a real
 * dma-buf is harmless: EINVAL means the ioctl exists, ENOTTY that it does
 * not (dma_buf_ioctl's default case; also CONFIG_SYNC_FILE=n). 1, 0, or
 * -1 for any other answer (e.g. the fd was closed under us). */
static int probe_one(int dmabuf_fd, unsigned long request)
{
	/* Export and import take the same {flags, fd} layout. */
	struct dma_buf_export_sync_file arg = { .flags = 0, .fd = -1 };

	if (drmIoctl(dmabuf_fd, request, &arg) == 0)
		return -1;
	return errno == EINVAL ? 1 : errno == ENOTTY ? 0 : -1;
}

/* The caps mask, or CAPS_UNKNOWN when the answer was not a clean one. */
static int probe(int dmabuf_fd)
{
	int exp = probe_one(dmabuf_fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE);
	int imp = probe_one(dmabuf_fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE);

	if (exp < 0 || imp < 0)
		return CAPS_UNKNOWN;
	shws_info("dma-buf sync_file ioctls: export %s, import %s",
		  exp ? "yes" : "no", imp ? "yes" : "no");
	return (exp ? SHWS_DMABUF_CAP_EXPORT_SYNC_FILE : 0) |
	       (imp ? SHWS_DMABUF_CAP_IMPORT_SYNC_FILE : 0);
}

/* Caps for a fd the caller already verified to be a dma-buf. */
int shws_dmabuf_caps_verified(int dmabuf_fd)
{
	int caps;

	switch (get_mode()) {
	case MODE_FALLBACK:
		return 0;
	case MODE_IOCTL:
		return SHWS_DMABUF_CAP_EXPORT_SYNC_FILE |
		       SHWS_DMABUF_CAP_IMPORT_SYNC_FILE;
	case MODE_AUTO:
		break;
	}
	caps = atomic_load(&probed_caps);
	if (caps != CAPS_UNKNOWN)
		return caps;
	/* Racing probers compute the same answer; either store is fine.
	 * An unclean answer is not cached, and this call falls back. */
	caps = probe(dmabuf_fd);
	if (caps == CAPS_UNKNOWN)
		return 0;
	atomic_store(&probed_caps, caps);
	return caps;
}

SHWS_EXPORT int shws_dmabuf_sync_caps(int dmabuf_fd)
{
	int r;

	/* Forced modes and a known answer need no dma-buf. */
	if (get_mode() != MODE_AUTO ||
	    atomic_load(&probed_caps) != CAPS_UNKNOWN)
		return shws_dmabuf_caps_verified(dmabuf_fd);
	if (dmabuf_fd == -1)
		return -ENODATA;
	r = shws_dmabuf_require(dmabuf_fd);
	return r ? r : shws_dmabuf_caps_verified(dmabuf_fd);
}

/* The one rule for sync access flags (sync_priv.h). */
int shws_sync_flags_check(unsigned flags)
{
	if (!flags || (flags & ~SHWS_SYNC_RW))
		return -EINVAL;
	return 0;
}

static unsigned kernel_flags(unsigned flags)
{
	return (flags & SHWS_SYNC_READ ? DMA_BUF_SYNC_READ : 0) |
	       (flags & SHWS_SYNC_WRITE ? DMA_BUF_SYNC_WRITE : 0);
}

/* Common front half of export/import: 0 to go on with the ioctl, or the
 * negative errno to return. */
static int dmabuf_prepare(int dmabuf_fd, unsigned flags, unsigned cap)
{
	int r = shws_sync_flags_check(flags);

	if (r)
		return r;
	r = shws_dmabuf_require(dmabuf_fd);
	if (r)
		return r;
	if (!(shws_dmabuf_caps_verified(dmabuf_fd) & cap))
		return -EOPNOTSUPP;
	return 0;
}

int shws_dmabuf_export_verified(int dmabuf_fd, unsigned flags, int *out)
{
	struct dma_buf_export_sync_file arg = { .flags = kernel_flags(flags),
						.fd = -1 };
	int r;

	if (drmIoctl(dmabuf_fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg) < 0) {
		/* Only reachable with SHWS_DMABUF_SYNC=ioctl on an old kernel. */
		r = errno == ENOTTY ? -EOPNOTSUPP : shws_neg_errno();
		shws_dbg("EXPORT_SYNC_FILE(fd %d): %s", dmabuf_fd, strerror(-r));
		return r;
	}
	*out = arg.fd;
	return 0;
}

int shws_dmabuf_import_verified(int dmabuf_fd, unsigned flags,
				int sync_file_fd)
{
	struct dma_buf_import_sync_file arg = { .flags = kernel_flags(flags),
						.fd = sync_file_fd };
	int r;

	/* The kernel says EINVAL for a closed fd too; tell the two apart. */
	r = shws_sync_file_check(sync_file_fd);
	if (r)
		return r;
	if (drmIoctl(dmabuf_fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg) < 0) {
		r = errno == ENOTTY ? -EOPNOTSUPP : shws_neg_errno();
		shws_dbg("IMPORT_SYNC_FILE(fd %d): %s", dmabuf_fd, strerror(-r));
		return r;
	}
	return 0;
}

SHWS_EXPORT int shws_dmabuf_export_sync_file(int dmabuf_fd, unsigned flags,
					     int *sync_file_out)
{
	int r;

	if (!sync_file_out)
		return -EINVAL;
	r = dmabuf_prepare(dmabuf_fd, flags, SHWS_DMABUF_CAP_EXPORT_SYNC_FILE);
	return r ? r
		 : shws_dmabuf_export_verified(dmabuf_fd, flags, sync_file_out);
}

SHWS_EXPORT int shws_dmabuf_import_sync_file(int dmabuf_fd, unsigned flags,
					     int sync_file_fd)
{
	int r;

	r = dmabuf_prepare(dmabuf_fd, flags, SHWS_DMABUF_CAP_IMPORT_SYNC_FILE);
	return r ? r
		 : shws_dmabuf_import_verified(dmabuf_fd, flags, sync_file_fd);
}

/* dma_buf_poll(): POLLIN once no write fence is pending, POLLOUT once no
 * fence at all is. Available since dma-buf fences exist (3.17). */
int shws_dmabuf_poll(int dmabuf_fd, short events)
{
	struct pollfd p = { .fd = dmabuf_fd, .events = events };

	for (;;) {
		int n = poll(&p, 1, -1);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return shws_neg_errno();
		if (p.revents & POLLNVAL)
			return -EBADF;
		if (p.revents & POLLERR)
			return -EIO;
		if (p.revents & events)
			return 0;
	}
}
