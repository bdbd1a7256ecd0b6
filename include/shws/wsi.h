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
 * Thread-safety: as for sync_file.h; the image's fences are the kernel's,
 * so concurrent calls on one dma-buf are safe but their order is the
 * caller's business.
 */
#ifndef SHWS_WSI_H
#define SHWS_WSI_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The renderer got an image back and is about to WRITE it: returns what it
 * must wait on first. That is every fence on the image, readers included
 * (the compositor or the display may still be reading it).
 *
 * @dmabuf_fd borrowed.
 * @acquire_sync_file_out on success either a new CLOEXEC sync_file fd the
 *        caller owns (pass it to the GPU as a wait, or close it), or -1:
 *        "already idle, nothing to wait on". -1 is what the fallback always
 *        returns, after poll(POLLOUT) on the dma-buf has BLOCKED until
 *        every fence signalled. Untouched on failure.
 *
 * Returns 0 or:
 *  -EINVAL     @acquire_sync_file_out is NULL.
 *  -EBADF      @dmabuf_fd is not an open fd.
 *  -ENOTTY     @dmabuf_fd is not a dma-buf.
 *  -EOPNOTSUPP only with SHWS_DMABUF_SYNC=ioctl on a kernel without the
 *              ioctl (that setting forbids the fallback).
 *  -EMFILE, -ENOMEM from the kernel.
 */
int shws_wsi_acquire(int dmabuf_fd, int *acquire_sync_file_out);

/**
 * The reader's side (a compositor sampling the image, or KMS scanning it
 * out): what to wait on before READING it, i.e. its writers only. This is
 * the sync_file to give KMS as IN_FENCE_FD: Linux 6.1 virtio_gpu ignores
 * implicit fences on page flips, so only the explicit fence is correct
 * there.
 *
 * Same parameters, ownership, -1 meaning and errnos as shws_wsi_acquire();
 * the fallback BLOCKS in poll(POLLIN) until every writer is done.
 */
int shws_wsi_acquire_for_read(int dmabuf_fd, int *acquire_sync_file_out);

/**
 * The renderer is done submitting to the image: attaches its render-done
 * fence as the image's WRITE fence, so that every implicit-sync user after
 * this (the compositor's GPU, shws_wsi_acquire_for_read()) waits for the
 * rendering. The caller then hands the dma-buf over (wl_surface.commit,
 * SCM_RIGHTS, an atomic commit...); shws does not.
 *
 * @dmabuf_fd borrowed.
 * @render_done_sync_file borrowed (never closed here), or -1 when the
 *        rendering is already complete: nothing is attached.
 *
 * The fallback cannot attach anything, so it BLOCKS until
 * @render_done_sync_file signalled: when this returns the image is
 * complete, and implicit sync has nothing left to order.
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
