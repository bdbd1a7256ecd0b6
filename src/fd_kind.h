/* SPDX-License-Identifier: MIT */
/*
 * fd classification: the one place that tells a dma-buf or a sync_file
 * from any other fd (util layer: uses nothing else of libshws).
 *
 * An fd is identified by its filesystem (fstatfs) before any dma-buf or
 * sync_file ioctl reaches it, never by the errno of such an ioctl: some
 * files answer ioctls they do not know with EINVAL instead of ENOTTY
 * (userfaultfd; epoll since 6.9), which reads like "a dma-buf whose kernel
 * has the ioctl" (docs/sync.md, "Identifying fds";
 * probe-only-on-a-dmabuf in tests/unit/test-sync-args.c).
 *
 *  - dma-buf: since 5.3 every dma-buf lives on its own pseudo filesystem
 *    (DMA_BUF_MAGIC). Before, it was an anon-inode file whose
 *    /proc/self/fd link reads "anon_inode:dmabuf".
 *  - sync_file: an anon-inode file that accepts SYNC_IOC_FILE_INFO (no
 *    other anon-inode file does).
 *
 * Thread-safety: any thread, any time. The only state is the dma-buf
 * filesystem's st_dev, learnt once (one atomic word).
 * No fd is created, kept or closed.
 */
#ifndef SHWS_FD_KIND_H
#define SHWS_FD_KIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* include/uapi/linux/magic.h; older headers lack DMA_BUF_MAGIC (5.3). */
#define SHWS_DMA_BUF_MAGIC 0x444d4142
#define SHWS_ANON_INODE_FS_MAGIC 0x09041934

enum shws_fd_kind {
	SHWS_FD_OTHER = 0,     /* an open fd of any other kind */
	SHWS_FD_DMABUF = 1,    /* a dma-buf */
	SHWS_FD_SYNC_FILE = 2, /* a sync_file */
};

/*
 * What @fd (borrowed) is: an enum shws_fd_kind (>= 0), or -EBADF if it is
 * not an open fd (negative, closed, or O_PATH for a sync_file check), or
 * another negative errno from fstatfs().
 */
int shws_fd_kind(int fd);

/*
 * shws_fd_kind(), and for a sync_file also the status word of the
 * SYNC_IOC_FILE_INFO that identified it, in *@status (1 signalled, 0
 * pending, < 0 the error it signalled with): a waiter needs no second
 * ioctl. *@status is untouched for other kinds.
 */
int shws_fd_kind_sync_status(int fd, int32_t *status);

/*
 * The same answer as shws_fd_kind(@fd), for a caller that already has
 * fstat(@fd) in @st; cheaper: once a dma-buf on the dma-buf filesystem was
 * seen, a fd on that st_dev is a dma-buf without another syscall.
 * @own_inode (may be NULL), for a dma-buf: true if st_ino identifies the
 * dma-buf (its own filesystem, 5.3+), false before 5.3, where every
 * anon-inode file shares one inode.
 */
int shws_fd_kind_stat(int fd, const struct stat *st, bool *own_inode);

#endif
