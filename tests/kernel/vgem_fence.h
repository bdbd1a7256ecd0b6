/* SPDX-License-Identifier: MIT */
/*
 * vgem as a fake GPU for the sync tests: dumb buffers exported as dma-bufs,
 * and vgem's test fences (DRM_IOCTL_VGEM_FENCE_ATTACH / _SIGNAL) as the
 * "GPU work" that reads or writes them.
 *
 * The ioctl layout is the kernel's uapi (include/uapi/drm/vgem_drm.h, an
 * ABI since 4.10); libdrm ships no header for it, so it is restated here.
 *
 * Kernel facts the tests rely on (6.1):
 *  - ATTACH adds an unsignalled fence to the object's reservation, as a
 *    write fence with VGEM_FENCE_WRITE, else as a read fence. It refuses
 *    (EBUSY) a fence that would conflict with a pending one: a read while a
 *    write is pending, a write while anything is. So one vgem buffer cannot
 *    hold a pending reader and a pending writer at once; tests get that mix
 *    by importing another buffer's fence.
 *  - A vgem fence signals by itself ~10 s after ATTACH: every test signals
 *    its fences explicitly and keeps its delays far below that.
 */
#ifndef SHWS_TEST_VGEM_FENCE_H
#define SHWS_TEST_VGEM_FENCE_H

#include <linux/dma-buf.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <xf86drm.h>

#include "kt.h"

struct vf_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct vf_signal {
	uint32_t fence;
	uint32_t flags;
};

#define VF_WRITE 0x1
#define VF_IOCTL_ATTACH DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct vf_attach)
#define VF_IOCTL_SIGNAL DRM_IOW(DRM_COMMAND_BASE + 0x2, struct vf_signal)

/* A vgem dumb buffer and its dma-buf (exported CLOEXEC|RDWR). */
struct vbuf {
	int vgem;
	uint32_t handle;
	int dmabuf;
	uint64_t size;
};

static inline struct vbuf vbuf_new(int vgem)
{
	struct vbuf b = { .vgem = vgem };

	b.handle = kt_create_dumb(vgem, 64, 64, &b.size);
	CHECK_SYS(drmPrimeHandleToFD(vgem, b.handle, DRM_CLOEXEC | DRM_RDWR,
				     &b.dmabuf));
	return b;
}

static inline void vbuf_free(struct vbuf *b)
{
	close(b->dmabuf);
	CHECK_SYS(drmCloseBufferHandle(b->vgem, b->handle));
	b->dmabuf = -1;
}

/* ATTACH; returns 0 or -errno so callers can check EBUSY. */
static inline int vf_try_attach(const struct vbuf *b, int write,
				uint32_t *fence)
{
	struct vf_attach a = { .handle = b->handle,
			       .flags = write ? VF_WRITE : 0 };

	if (drmIoctl(b->vgem, VF_IOCTL_ATTACH, &a))
		return -errno;
	*fence = a.out_fence;
	return 0;
}

/* A pending fence on @b: a writer if @write, else a reader. */
static inline uint32_t vf_attach(const struct vbuf *b, int write)
{
	uint32_t fence = 0;
	int r = vf_try_attach(b, write, &fence);

	if (r)
		test_fail("VGEM_FENCE_ATTACH(%s): %s", write ? "write" : "read",
			  strerror(-r));
	return fence;
}

/*
 * A fake GPU job writes memory and then signals its fence; a waiter reads
 * the memory once the fence signalled. The kernel fence orders the two, but
 * ThreadSanitizer cannot see a fence, so the edge is stated explicitly:
 * vf_signal() releases, vf_hb_acquire() (called after the wait, before
 * reading) acquires. No-ops without TSan.
 */
#ifdef __SANITIZE_THREAD__
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static char vf_hb_token;
#define vf_hb_release() __tsan_release(&vf_hb_token)
#define vf_hb_acquire() __tsan_acquire(&vf_hb_token)
#else
#define vf_hb_release() ((void)0)
#define vf_hb_acquire() ((void)0)
#endif

static inline void vf_signal(int vgem, uint32_t fence)
{
	struct vf_signal s = { .fence = fence };

	vf_hb_release();
	if (drmIoctl(vgem, VF_IOCTL_SIGNAL, &s))
		test_fail("VGEM_FENCE_SIGNAL(%u): %s", fence, strerror(errno));
}

/* @b's fences as a sync_file, straight from the kernel (not through shws,
 * so it works when a test forces shws onto its fallback): the "render done"
 * fence of a fake GPU job. */
static inline int vf_sync_file(const struct vbuf *b)
{
	struct dma_buf_export_sync_file arg = { .flags = DMA_BUF_SYNC_RW,
						.fd = -1 };

	if (drmIoctl(b->dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg))
		test_fail("EXPORT_SYNC_FILE: %s", strerror(errno));
	return arg.fd;
}

/* The independent oracle: poll() with timeout 0, straight to the kernel.
 * sync_file: POLLIN = signalled. dma-buf: POLLIN = no writer pending,
 * POLLOUT = nothing pending. */
static inline int fd_ready(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, 0);

	if (n < 0)
		test_fail("poll(%d): %s", fd, strerror(errno));
	return n == 1 && (p.revents & events) == events;
}

static inline int sf_signalled(int sync_file)
{
	return fd_ready(sync_file, POLLIN);
}

static inline int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* 1 if @fd has FD_CLOEXEC. */
static inline int fd_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		test_fail("F_GETFD(%d): %s", fd, strerror(errno));
	return !!(flags & FD_CLOEXEC);
}

#endif
