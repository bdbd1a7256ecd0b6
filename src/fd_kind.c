/* SPDX-License-Identifier: MIT */
/* fd classification (src/fd_kind.h). */
#include <linux/sync_file.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fd_kind.h"
#include "util.h"

/* st_dev + 1 of the dma-buf filesystem (one superblock), 0 = not seen. */
static atomic_ullong dmabuf_dev;

/* Before 5.3 a dma-buf was an anon-inode file named "dmabuf": /proc is the
 * only way to tell it from the other anon-inode files. */
static bool legacy_dmabuf(int fd)
{
	char path[32], target[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "anon_inode:dmabuf");
}

/* Among anon-inode files only a sync_file accepts SYNC_IOC_FILE_INFO; the
 * others say ENOTTY, or EINVAL (userfaultfd, epoll since 6.9; a pre-5.3
 * dma-buf: dma_buf_ioctl() knows only its own commands). num_fences = 0
 * asks for the count and status only: nothing is written through a
 * pointer. The sync_file is tried first: it is the common case, and costs
 * no readlink(). */
static int anon_inode_kind(int fd, int32_t *sync_status)
{
	struct sync_file_info info = { .num_fences = 0 };

	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info) == 0) {
		if (sync_status)
			*sync_status = info.status;
		return SHWS_FD_SYNC_FILE;
	}
	/* O_PATH fds pass fstatfs() but no ioctl. */
	if (errno == EBADF)
		return -EBADF;
	return legacy_dmabuf(fd) ? SHWS_FD_DMABUF : SHWS_FD_OTHER;
}

static int kind_by_fs(int fd, const struct stat *st, bool *own_inode,
		      int32_t *sync_status)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return shws_neg_errno();
	switch ((unsigned long)sfs.f_type) {
	case SHWS_DMA_BUF_MAGIC:
		if (st)
			atomic_store(&dmabuf_dev,
				     (unsigned long long)st->st_dev + 1);
		if (own_inode)
			*own_inode = true;
		return SHWS_FD_DMABUF;
	case SHWS_ANON_INODE_FS_MAGIC:
		if (own_inode)
			*own_inode = false;
		return anon_inode_kind(fd, sync_status);
	default:
		return SHWS_FD_OTHER;
	}
}

int shws_fd_kind(int fd)
{
	if (fd < 0)
		return -EBADF;
	return kind_by_fs(fd, NULL, NULL, NULL);
}

int shws_fd_kind_sync_status(int fd, int32_t *status)
{
	if (fd < 0)
		return -EBADF;
	return kind_by_fs(fd, NULL, NULL, status);
}

int shws_fd_kind_stat(int fd, const struct stat *st, bool *own_inode)
{
	if (fd < 0)
		return -EBADF;
	if (atomic_load(&dmabuf_dev) == (unsigned long long)st->st_dev + 1) {
		if (own_inode)
			*own_inode = true;
		return SHWS_FD_DMABUF;
	}
	return kind_by_fs(fd, st, own_inode, NULL);
}
