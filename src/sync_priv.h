/* SPDX-License-Identifier: MIT */
/* Internals of the sync module (sync_file.c, dmabuf_sync.c, syncobj.c,
 * wsi.c). The module uses the util layer only: fds in, fds out, no bo and
 * no file (docs/sync.md). */
#ifndef SHWS_SYNC_PRIV_H
#define SHWS_SYNC_PRIV_H

/* The one rule for sync access flags: a non-zero subset of SHWS_SYNC_RW.
 * 0 or -EINVAL. */
int shws_sync_flags_check(unsigned flags);

/* 0 if @fd is a dma-buf, -ENOTTY an open fd of another kind (what the
 * kernel says for a dma-buf ioctl on it), -EBADF not an open fd. */
int shws_dmabuf_require(int fd);

/* For a fd already known to be a dma-buf: the capability mask, probing on
 * first use; and the bare export/import (flags already validated; import
 * checks @sync_file_fd itself), 0 or a negative errno as the public calls. */
int shws_dmabuf_caps_verified(int dmabuf_fd);
int shws_dmabuf_export_verified(int dmabuf_fd, unsigned flags, int *out);
int shws_dmabuf_import_verified(int dmabuf_fd, unsigned flags,
				int sync_file_fd);

/* Blocks in poll() on a dma-buf until @events (POLLIN: no writer pending,
 * POLLOUT: nothing pending) is ready. 0 or a negative errno. */
int shws_dmabuf_poll(int dmabuf_fd, short events);

#endif
