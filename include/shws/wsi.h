/* SPDX-License-Identifier: MIT */
/*
 * WSI helpers for one swapchain image, a dma-buf shared between a renderer
 * (the client, e.g. Mesa's Vulkan WSI) and a window system (a compositor or
 * KMS). They turn the dma-buf's implicit fences into an explicit sync_file
 * and back. The protocol, with a sequence diagram and the per-kernel
 * fallback matrix, is in docs/sync.md.
 *
 * On kernels without DMA_BUF_IOCTL_EXPORT/IMPORT_SYNC_FILE (Linux < 6.0),
 * or with SHWS_DMABUF_SYNC=fallback, these functions still give the same
 * ordering but by BLOCKING THE CALLING THREAD on the CPU until the fences
 * signal; each function says what it waits for.
 *
 * They are the only sync calls that block on the CPU, and only on those
 * kernels: they add that guarantee over the raw dma-buf calls of
 * <shws/sync_file.h>, which say -EOPNOTSUPP there. Use the raw calls when
 * a driver's own implicit sync is the better fallback.
 *
 * Ownership: every fd argument is borrowed (never closed, never kept);
 * a sync_file returned is new, CLOEXEC and the caller's.
 *
 * Thread-safety: any thread, as for sync_file.h; the image's fences are the kernel's,
 * so concurrent calls on one dma-buf are safe but their order is the
 * caller's business.
 */
#ifndef SHWS_WSI_H
#define SHWS_WSI_H

/* SHWS_SYNC_READ, SHWS_SYNC_WRITE */
#include <shws/sync_file.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Before accessing a swapchain image: returns what the caller must wait on
 * first, as a sync_file, from the image's implicit fences.
 *
 * @flags what the caller is about to do (the export flags of
 *        shws_dmabuf_export_sync_file()):
 *        SHWS_SYNC_WRITE (or SHWS_SYNC_RW): it will WRITE the image, e.g.
 *        the renderer that got an image back: wait for EVERY fence,
 *        readers included (the compositor or the display may still be
 *        reading it).
 *        SHWS_SYNC_READ: it will READ the image, e.g. a compositor sampling
 *        it or KMS scanning it out: wait for the writers only. This is the
 *        sync_file to give KMS as IN_FENCE_FD: Linux 6.1 virtio_gpu
 *        ignores implicit fences on page flips, so only the explicit fence
 *        is correct there.
 * @dmabuf_fd borrowed.
 * @acquire_sync_file_out on success either a new CLOEXEC sync_file fd the
 *        caller owns (pass it to the GPU as a wait, or close it), or -1:
 *        "already idle, nothing to wait on". Untouched on failure.
 *
 * The guarantee over shws_dmabuf_export_sync_file(): it works on every
 * kernel. Without DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0, or
 * SHWS_DMABUF_SYNC=fallback) it BLOCKS THE CALLING THREAD on the CPU in
 * poll() on the dma-buf (POLLOUT for WRITE: until every fence signalled;
 * POLLIN for READ: until every writer's did), then returns -1. With the
 * ioctl it never blocks and always returns a sync_file (possibly already
 * signalled).
 *
 * Returns 0 or:
 *  -EINVAL     @flags is 0 or has bits other than SHWS_SYNC_RW, or
 *              @acquire_sync_file_out is NULL.
 *  -EBADF      @dmabuf_fd is not an open fd.
 *  -ENOTTY     @dmabuf_fd is not a dma-buf.
 *  -EOPNOTSUPP only with SHWS_DMABUF_SYNC=ioctl on a kernel without the
 *              ioctl (that setting forbids the fallback).
 *  -EMFILE, -ENOMEM from the kernel.
 *
 * Replaces shws_wsi_acquire(fd, &out) (now flags SHWS_SYNC_WRITE) and
 * shws_wsi_acquire_for_read(fd, &out) (now flags SHWS_SYNC_READ).
 */
int shws_wsi_acquire(int dmabuf_fd, unsigned flags,
		     int *acquire_sync_file_out);

/**
 * The renderer is done submitting to the image: attaches its render-done
 * fence as the image's WRITE fence, so that every implicit-sync user
 * after this (the compositor's GPU, shws_wsi_acquire(SHWS_SYNC_READ))
 * waits for the rendering. The caller then hands the dma-buf over (wl_surface.commit,
 * SCM_RIGHTS, an atomic commit...); shws does not.
 *
 * @dmabuf_fd borrowed.
 * @render_done_sync_file borrowed (never closed here), or -1 when the
 *        rendering is already complete: nothing is attached.
 *
 * The guarantee over shws_dmabuf_import_sync_file(): it works on every
 * kernel. Without DMA_BUF_IOCTL_IMPORT_SYNC_FILE (Linux < 6.0, or
 * SHWS_DMABUF_SYNC=fallback) nothing can attach the fence, so it BLOCKS
 * THE CALLING THREAD on the CPU until @render_done_sync_file signalled:
 * when this returns the image is complete, and implicit sync has nothing
 * left to order. With the ioctl it never blocks.
 *
 * Returns 0 or:
 *  -EINVAL     @render_done_sync_file is open but not a sync_file.
 *  -EBADF      @dmabuf_fd or @render_done_sync_file is not an open fd.
 *  -ENOTTY     @dmabuf_fd is not a dma-buf.
 *  -EOPNOTSUPP as for shws_wsi_acquire().
 *  -ENOMEM from the kernel.
 *  fallback only: the negative errno a fence signalled with (see
 *              shws_sync_file_wait()).
 */
int shws_wsi_release(int dmabuf_fd, int render_done_sync_file);

#ifdef __cplusplus
}
#endif

#endif
