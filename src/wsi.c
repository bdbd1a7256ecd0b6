/* SPDX-License-Identifier: MIT */
/* Swapchain-image acquire/release over a dma-buf's implicit fences, with
 * the blocking fallback for kernels without the sync_file ioctls. */
#include <errno.h>
#include <poll.h>

#include <shws/sync_file.h>
#include <shws/wsi.h>

#include "sync_priv.h"
#include "util.h"

/* Export with @flags, or, without the ioctl, block in poll() on the same
 * set of fences (SHWS_SYNC_READ: writers = POLLIN; SHWS_SYNC_WRITE or RW:
 * all = POLLOUT; dma_buf_poll()) and say -1. */
SHWS_EXPORT int shws_wsi_acquire(int dmabuf_fd, unsigned flags,
				 int *acquire_sync_file_out)
{
	int r = shws_sync_flags_check(flags);

	if (r)
		return r;
	if (!acquire_sync_file_out)
		return -EINVAL;
	r = shws_dmabuf_require(dmabuf_fd);
	if (r)
		return r;
	if (shws_dmabuf_caps_verified(dmabuf_fd) &
	    SHWS_DMABUF_CAP_EXPORT_SYNC_FILE)
		return shws_dmabuf_export_verified(dmabuf_fd, flags,
						   acquire_sync_file_out);
	r = shws_dmabuf_poll(dmabuf_fd,
			     flags & SHWS_SYNC_WRITE ? POLLOUT : POLLIN);
	if (r)
		return r;
	*acquire_sync_file_out = -1;
	return 0;
}

SHWS_EXPORT int shws_wsi_release(int dmabuf_fd, int render_done_sync_file)
{
	int r = shws_dmabuf_require(dmabuf_fd);

	if (r)
		return r;
	if (render_done_sync_file == -1)
		return 0;
	/* A write fence: every later user, reader or writer, waits for it. */
	if (shws_dmabuf_caps_verified(dmabuf_fd) &
	    SHWS_DMABUF_CAP_IMPORT_SYNC_FILE)
		return shws_dmabuf_import_verified(dmabuf_fd, SHWS_SYNC_WRITE,
						   render_done_sync_file);
	/* Nothing can carry the fence to the next user: finish it here. */
	return shws_sync_file_wait(render_done_sync_file, -1);
}
