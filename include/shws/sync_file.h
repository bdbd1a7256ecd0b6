/* SPDX-License-Identifier: MIT */
/*
 * Fences as fds (docs/sync.md), three groups, named shws_<object>_<verb>:
 *  - dma-buf <-> sync_file: shws_dmabuf_export_sync_file(),
 *    shws_dmabuf_import_sync_file(), shws_dmabuf_sync_caps();
 *  - sync_file utilities: shws_sync_file_check(), shws_sync_file_info(),
 *    shws_sync_file_merge(), shws_sync_file_wait();
 *  - syncobj bridge: shws_syncobj_import_sync_file(),
 *    shws_syncobj_export_sync_file().
 * The WSI helpers with a blocking fallback are in <shws/wsi.h>. A shws_bo's
 * fences are those of its dma-buf: shws_bo_export_dmabuf(), then the
 * dma-buf calls here.
 *
 * Every function works on plain fds: dma-buf fds, sync_file fds and DRM
 * fds. Every fd argument is borrowed (never closed, never kept); every fd
 * returned is new, CLOEXEC and owned by the caller; outputs are untouched
 * on failure. Each returns 0 (or a non-negative value where said) or a
 * negative errno. None of them blocks, except shws_sync_file_wait() for
 * at most its timeout: the functions here never fall back to waiting on
 * the CPU (the raw dma-buf calls say -EOPNOTSUPP instead).
 *
 * Thread-safety: every function may be called from any thread at any time.
 * The only process-wide state is the capability probe (one atomic word,
 * written once) and the SHWS_DMABUF_SYNC environment variable (read once).
 */
#ifndef SHWS_SYNC_FILE_H
#define SHWS_SYNC_FILE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Access flags: dma-buf export/import here, shws_wsi_acquire(). */
#define SHWS_SYNC_READ (1u << 0)
#define SHWS_SYNC_WRITE (1u << 1)
#define SHWS_SYNC_RW (SHWS_SYNC_READ | SHWS_SYNC_WRITE)

/**
 * Exports the implicit fences of a dma-buf as one sync_file.
 *
 * @flags SHWS_SYNC_READ: the sync_file signals when every *writer* is done
 *        (what a reader must wait for). SHWS_SYNC_WRITE or SHWS_SYNC_RW:
 *        it signals when *every* fence, readers and writers, is done (what a
 *        writer must wait for). A buffer with nothing pending yields an
 *        already-signalled sync_file. The sync_file is a snapshot: fences
 *        added to the dma-buf later are not in it.
 * @dmabuf_fd borrowed.
 * @sync_file_out on success a new CLOEXEC sync_file fd that the caller owns
 *        and must close; untouched on failure.
 *
 * Returns 0 or:
 *  -EINVAL     @flags is 0 or has bits other than SHWS_SYNC_RW, or
 *              @sync_file_out is NULL.
 *  -EBADF      @dmabuf_fd is not an open fd.
 *  -ENOTTY     @dmabuf_fd is open but not a dma-buf.
 *  -EOPNOTSUPP the kernel has no DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0
 *              or CONFIG_SYNC_FILE=n), or SHWS_DMABUF_SYNC=fallback. No
 *              fallback: this call never blocks (shws_wsi_acquire() is the
 *              one that waits on the CPU instead).
 *  -EMFILE, -ENOMEM from the kernel.
 * Thread-safe; replaces shws_bo_export_sync_file(bo, ...) on the bo's
 * shws_bo_export_dmabuf().
 */
int shws_dmabuf_export_sync_file(int dmabuf_fd, unsigned flags,
				 int *sync_file_out);

/**
 * Adds the fence(s) of a sync_file to a dma-buf's implicit fences.
 *
 * @flags SHWS_SYNC_READ: added as a read fence (later writers wait for it,
 *        later readers do not). SHWS_SYNC_WRITE or SHWS_SYNC_RW: added as a
 *        write fence (everyone after waits for it). An already-signalled
 *        sync_file is accepted and changes nothing.
 * @dmabuf_fd borrowed. @sync_file_fd borrowed (the dma-buf takes its own
 *        reference to the fence; the caller may close the fd at once).
 *
 * Returns 0 or:
 *  -EINVAL     bad @flags (as for export), or @sync_file_fd is open but
 *              not a sync_file.
 *  -EBADF      @dmabuf_fd or @sync_file_fd is not an open fd.
 *  -ENOTTY     @dmabuf_fd is open but not a dma-buf.
 *  -EOPNOTSUPP no DMA_BUF_IOCTL_IMPORT_SYNC_FILE (as for export); never
 *              blocks (shws_wsi_release() is the one that waits instead).
 *  -ENOMEM from the kernel.
 * Thread-safe; replaces shws_bo_import_sync_file(bo, ...) on the bo's
 * shws_bo_export_dmabuf().
 */
int shws_dmabuf_import_sync_file(int dmabuf_fd, unsigned flags,
				 int sync_file_fd);

/** Capability bits returned by shws_dmabuf_sync_caps(). */
#define SHWS_DMABUF_CAP_EXPORT_SYNC_FILE (1u << 0)
#define SHWS_DMABUF_CAP_IMPORT_SYNC_FILE (1u << 1)

/**
 * Which dma-buf sync_file ioctls shws will use in this process.
 *
 * The kernel only answers these ioctls on a dma-buf (any other fd says
 * ENOTTY whatever the kernel version), so the probe needs one: the first
 * dma-buf seen by any shws call, or @dmabuf_fd here. It issues the ioctls
 * with flags 0, which every kernel that has them rejects (EINVAL) before
 * doing anything, and caches the answer for the life of the process.
 * SHWS_DMABUF_SYNC=fallback forces 0; =ioctl forces both bits without
 * probing (docs/env-vars.md).
 *
 * @dmabuf_fd borrowed; may be -1 once the answer is known.
 *
 * Returns a non-negative mask of SHWS_DMABUF_CAP_* or:
 *  -ENODATA    not probed yet and @dmabuf_fd is -1.
 *  -EBADF      @dmabuf_fd is needed and not an open fd.
 *  -ENOTTY     @dmabuf_fd is needed and is not a dma-buf.
 * Thread-safe: concurrent first probes compute the same answer.
 */
int shws_dmabuf_sync_caps(int dmabuf_fd);

/** Longest name a sync_file or a fence's timeline can carry, with NUL. */
#define SHWS_SYNC_NAME_LEN 32

/** One fence inside a sync_file. */
struct shws_sync_fence_info {
	char timeline_name[SHWS_SYNC_NAME_LEN];
	char driver_name[SHWS_SYNC_NAME_LEN];
	/** 1 signalled, 0 pending, negative errno: signalled with an error. */
	int32_t status;
	uint32_t reserved;
	/** CLOCK_MONOTONIC time it signalled, in ns; 0 while pending. */
	uint64_t timestamp_ns;
};

/** A sync_file as a whole. */
struct shws_sync_file_info {
	char name[SHWS_SYNC_NAME_LEN];
	/** 1 signalled, 0 pending, negative errno: signalled with an error.
	 * The kernel may report 0 for a fence that signalled but nobody has
	 * looked at yet; shws_sync_file_wait() is the authority. */
	int32_t status;
	/** Number of fences in the sync_file (signalled ones included). */
	uint32_t num_fences;
};

/**
 * Describes a sync_file.
 *
 * @fd borrowed. @info filled on success.
 * @fences NULL, or a caller array of @max_fences entries: the first
 *        min(@max_fences, info->num_fences) are filled.
 *
 * Returns 0 or:
 *  -EINVAL     @info is NULL, @fences is NULL with @max_fences > 0, or @fd
 *              is open but not a sync_file.
 *  -EBADF      @fd is not an open fd.
 *  -ENOMEM     out of memory (only when @max_fences > 0).
 * Thread-safe; never blocks.
 */
int shws_sync_file_info(int fd, struct shws_sync_file_info *info,
			struct shws_sync_fence_info *fences,
			uint32_t max_fences);

/**
 * Merges two sync_files into a new one that signals when both have. The
 * kernel drops fences that already signalled and keeps one copy of a fence
 * present in both (so merging a sync_file with itself is allowed).
 *
 * @name NULL for "shws-merge"; else kept, truncated to 31 bytes.
 * @a, @b borrowed.
 * @out on success a new CLOEXEC sync_file fd the caller owns; untouched on
 *        failure.
 *
 * Returns 0 or:
 *  -EINVAL     @out is NULL, or @a or @b is open but not a sync_file.
 *  -EBADF      @a or @b is not an open fd.
 *  -EMFILE, -ENOMEM from the kernel.
 * Thread-safe; never blocks.
 */
int shws_sync_file_merge(const char *name, int a, int b, int *out);

/**
 * Waits for a sync_file to signal. Interrupted sleeps resume with the time
 * that is left.
 *
 * @fd borrowed.
 * @timeout_ms 0 polls once; negative waits for ever (fences are
 *        guaranteed by the kernel to signal in finite time).
 *
 * Returns 0 once signalled, or:
 *  -ETIME      still pending after @timeout_ms.
 *  -EINVAL     @fd is open but not a sync_file.
 *  -EBADF      @fd is not an open fd.
 *  other negative errno: the fence signalled *with an error* (e.g. -EIO
 *              after a GPU reset); what the kernel recorded, unchanged.
 * Thread-safe. BLOCKS the calling thread for up to @timeout_ms.
 */
int shws_sync_file_wait(int fd, int timeout_ms);

/**
 * Is @fd a sync_file? @fd borrowed. The fd is identified by its filesystem
 * (sync_files are anonymous-inode files) before any sync_file ioctl is
 * sent, so no unrelated driver ever receives one. Thread-safe.
 *
 * Returns 0 if it is, or:
 *  -EINVAL     @fd is an open fd of another kind (the errno every other
 *              function here gives for it).
 *  -EBADF      @fd is not an open fd.
 * (Replaces shws_is_sync_file(), which said 1 / 0 / -EBADF.)
 */
int shws_sync_file_check(int fd);

/**
 * syncobj bridge. Both need DRM_CAP_SYNCOBJ on @drm_fd's device (checked
 * on every call: the answer is per device; Linux 6.1 vgem and virtio_gpu
 * say 0, virtio_gpu gains syncobj in 6.5).
 *
 * shws_syncobj_import_sync_file: replaces the fence in @syncobj by the
 * sync_file's. @drm_fd, @sync_file_fd borrowed; @syncobj is the caller's
 * handle in @drm_fd's file, neither created nor destroyed here.
 *
 * shws_syncobj_export_sync_file: a new CLOEXEC sync_file for the fence
 * currently in @syncobj, owned by the caller, in @out (untouched on
 * failure).
 *
 * Return 0 or:
 *  -EOPNOTSUPP the device has no syncobj (DRM_CAP_SYNCOBJ = 0).
 *  -EINVAL     @out is NULL; @sync_file_fd is open but not a sync_file;
 *              export: the syncobj holds no fence yet.
 *  -ENOENT     @syncobj is not a syncobj handle in @drm_fd's file.
 *  -EBADF      @drm_fd or @sync_file_fd is not an open fd.
 *  -ENOTTY     @drm_fd is not a DRM fd.
 * Thread-safe (the kernel orders concurrent calls on one syncobj); never
 * block.
 */
int shws_syncobj_import_sync_file(int drm_fd, uint32_t syncobj,
				  int sync_file_fd);
int shws_syncobj_export_sync_file(int drm_fd, uint32_t syncobj, int *out);

#ifdef __cplusplus
}
#endif

#endif
