/* SPDX-License-Identifier: MIT */
/* Swapchain-image acquire/release over a dma-buf's implicit fences, with
 * the blocking fallback for kernels without the sync_file ioctls. */
#include <errno.h>
#include <poll.h>

#include <shws/sync_file.h>
#include <shws/wsi.h>

#include "util.h"
#include "sync_private.h"

/* Export with @flags, or, without the ioctl, block in poll() for @events
 * (the same set of fences: POLLOUT = all, POLLIN = writers) and say -1. */
static int acquire(int dmabuf_fd, unsigned flags, short events, int *out)
{
	int r, caps;

	if (!out)
		return -EINVAL;
	r = shws_dmabuf_check(dmabuf_fd);
	if (r <= 0)
		return r ? r : -ENOTTY;
	caps = shws_dmabuf_caps_verified(dmabuf_fd);
	if (caps & SHWS_DMABUF_CAP_EXPORT_SYNC_FILE)
		return shws_dmabuf_export_verified(dmabuf_fd, flags, out);
	r = shws_dmabuf_poll(dmabuf_fd, events);
	if (r)
		return r;
	*out = -1;
	return 0;
}

SHWS_EXPORT int shws_wsi_acquire(int dmabuf_fd, int *acquire_sync_file_out)
{
	/* The renderer writes: it must wait for readers as well as writers. */
	return acquire(dmabuf_fd, SHWS_SYNC_WRITE, POLLOUT,
		       acquire_sync_file_out);
}

SHWS_EXPORT int shws_wsi_acquire_for_read(int dmabuf_fd,
					  int *acquire_sync_file_out)
{
	return acquire(dmabuf_fd, SHWS_SYNC_READ, POLLIN,
		       acquire_sync_file_out);
}

SHWS_EXPORT int shws_wsi_release(int dmabuf_fd, int render_done_sync_file)
{
	int r, caps;

	r = shws_dmabuf_check(dmabuf_fd);
	if (r <= 0)
		return r ? r : -ENOTTY;
	if (render_done_sync_file == -1)
		return 0;
	caps = shws_dmabuf_caps_verified(dmabuf_fd);
	/* A write fence: every later user, reader or writer, waits for it. */
	if (caps & SHWS_DMABUF_CAP_IMPORT_SYNC_FILE)
		return shws_dmabuf_import_verified(dmabuf_fd, SHWS_SYNC_WRITE,
						   render_done_sync_file);
	/* Nothing can carry the fence to the next user: finish it here. */
	return shws_sync_file_wait(render_done_sync_file, -1);
}
