/* SPDX-License-Identifier: MIT */
/* Internals shared by sync_file.c, dmabuf_sync.c, syncobj.c and wsi.c. */
#ifndef SHWS_SYNC_PRIVATE_H
#define SHWS_SYNC_PRIVATE_H

#include <stdint.h>

/* 1 a sync_file, 0 another kind of open fd, -EBADF. On 1, *status (if not
 * NULL) gets the kernel's status word: 1 signalled, 0 pending, <0 error. */
int shws_sync_file_query(int fd, int32_t *status);

/* 1 a dma-buf, 0 another kind of open fd, -EBADF. */
int shws_dmabuf_check(int fd);

/* For a fd already known to be a dma-buf (shws_dmabuf_check() == 1): the
 * capability mask, probing on first use; and the bare export/import (flags
 * already validated), 0 or a negative errno as the public calls. */
int shws_dmabuf_caps_verified(int dmabuf_fd);
int shws_dmabuf_export_verified(int dmabuf_fd, unsigned flags, int *out);
int shws_dmabuf_import_verified(int dmabuf_fd, unsigned flags,
				int sync_file_fd);

/* Blocks in poll() on a dma-buf until @events (POLLIN: no writer pending,
 * POLLOUT: nothing pending) is ready. 0 or a negative errno. */
int shws_dmabuf_poll(int dmabuf_fd, short events);

/* Validates @flags (non-zero subset of SHWS_SYNC_RW): 0 or -EINVAL. */
int shws_sync_flags_check(unsigned flags);

#endif
