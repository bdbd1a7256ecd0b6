/* SPDX-License-Identifier: MIT */
/*
 * shws-demo: a real present loop with explicit sync on KMS.
 *
 * Two processes over a UNIX socket (SOCK_SEQPACKET) that carries dma-buf
 * and sync_file fds with SCM_RIGHTS. The compositor is KMS master on
 * virtio_gpu; it allocates a ring of K buffers (dumb buffers: 6.1
 * virtio_gpu cannot import a vgem dma-buf for scan-out) and sends their
 * dma-bufs to the client. The client renders frame k into buffer k % K:
 *
 *   client                                compositor
 *   wait for RELEASE(b)
 *   shws_wsi_acquire(b, WRITE) -> acquire
 *   queue a GPU job: wait acquire, sleep D ms, write k into every pixel,
 *     signal a vgem fence (DRM_IOCTL_VGEM_FENCE_ATTACH; the signal comes
 *     from the worker thread, so the job is truly asynchronous)
 *   shws_wsi_release(b, done)
 *   PRESENT(k, b) + done  ---------------> shws_wsi_acquire(b, READ) -> in
 *                                          atomic commit: FB = b,
 *                                            IN_FENCE_FD = in, OUT_FENCE_PTR
 *                                          at the flip event: check frame k
 *                    <---------------      when the out-fence signals, the
 *                      RELEASE(previous)   previous buffer is off the screen:
 *                                          check it, RELEASE it
 *
 * The checks (see docs/sync.md, "The demo"):
 *  - early: the render-done sync_file sent with PRESENT must have signalled
 *    no later than the flip's kernel timestamp (a second, independent
 *    witness of the fence the compositor got from the buffer itself);
 *  - wrong pixels: at the flip, the presented buffer must hold k (one
 *    word in every 4 KiB page, read through the dma-buf mmap between
 *    DMA_BUF_IOCTL_SYNC START and END: the scanned-out copy is in the
 *    host, out of reach);
 *  - reused: when the buffer leaves the screen it must still hold k (the
 *    client wrote nothing into it before it was returned);
 *  - out of order: frames arrive as 0, 1, 2, ...
 *
 * --implicit leaves IN_FENCE_FD out and relies on the render fence that
 * shws_wsi_release put on the buffer's reservation: Linux 6.1 virtio_gpu
 * ignores implicit fences on flips, so frames are flipped before their fence
 * signalled ("early"). That is reported, and is not a failure.
 *
 * SHWS_DMABUF_SYNC=fallback runs the pre-6.0 path: shws_wsi_release blocks
 * until the frame is rendered and acquire(READ) returns no fence, so no
 * IN_FENCE_FD is needed, and no frame may be early either.
 *
 * Needs a vgem and a virtio_gpu node and nobody else as KMS master: run it
 * in the test VM, e.g. tests/vm/run -- build/src/tools/shws-demo.
 * Exit status: 0 when every check held (--implicit: early frames are
 * reported, not failed), 1 when a check failed or on error, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/dma-buf.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <shws/shws.h>

#define MAX_BUFFERS 8
/* No value a frame number reaches: what a buffer holds before frame 0. */
#define NO_FRAME UINT32_MAX
/* How long a flip or an out-fence may take before the demo calls it hung. */
#define HANG_MS 60000

/* vgem's test-fence uAPI (include/uapi/drm/vgem_drm.h); not in libdrm. */
struct vgem_attach {
	uint32_t handle, flags, out_fence, pad;
};
struct vgem_signal {
	uint32_t fence, flags;
};
#define VGEM_WRITE 0x1
#define VGEM_ATTACH DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct vgem_attach)
#define VGEM_SIGNAL DRM_IOW(DRM_COMMAND_BASE + 0x2, struct vgem_signal)

enum msg_type { MSG_HELLO, MSG_RELEASE, MSG_PRESENT, MSG_DONE, MSG_BYE };

struct msg {
	uint32_t type;
	uint32_t buffer;
	uint32_t frame;
	uint32_t count; /* HELLO: number of buffers (and fds) */
	uint64_t size;  /* HELLO: bytes per buffer */
	int64_t t_ns;   /* PRESENT: CLOCK_MONOTONIC when submitted */
};

struct options {
	int frames;
	int buffers;
	int gpu_delay_ms;
	int implicit;
	int verbose;
};

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "shws-demo: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void check(int r, const char *what)
{
	if (r < 0)
		die("%s: %s", what, strerror(r == -1 ? errno : -r));
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int open_driver(const char *driver)
{
	char path[32];

	for (int i = 0; i < 16; i++) {
		drmVersionPtr v;
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, driver)) {
			drmFreeVersion(v);
			return fd;
		}
		drmFreeVersion(v);
		close(fd);
	}
	die("no %s card node (run this in the test VM)", driver);
	return -1;
}

/* --- messages ---------------------------------------------------------- */

static void send_msg(int sock, const struct msg *m, const int *fds, int nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * MAX_BUFFERS)] = { 0 };
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		h.msg_control = ctl;
		h.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	if (sendmsg(sock, &h, MSG_NOSIGNAL) != sizeof(*m))
		die("sendmsg: %s", strerror(errno));
}

/* The fds a message of this type carries: HELLO the buffers' dma-bufs,
 * PRESENT the frame's render-done sync_file. */
static uint32_t msg_nfds(const struct msg *m)
{
	return m->type == MSG_HELLO ? m->count : m->type == MSG_PRESENT;
}

/* Receives one message; its fds (exactly msg_nfds(), CLOEXEC) land in
 * @fds, which has room for MAX_BUFFERS (NULL: the message must have none). */
static struct msg recv_msg(int sock, int *fds)
{
	char ctl[CMSG_SPACE(sizeof(int) * MAX_BUFFERS)];
	int rx[MAX_BUFFERS];
	struct msg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &h, MSG_CMSG_CLOEXEC);
	uint32_t got = 0;

	if (n != sizeof(m))
		die("recvmsg: %s", n < 0 ? strerror(errno) : "short message");
	if (h.msg_flags & MSG_CTRUNC)
		die("recvmsg: fds truncated");
	for (c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		uint32_t k = (uint32_t)((c->cmsg_len - CMSG_LEN(0)) /
					sizeof(int));

		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_RIGHTS || got + k > MAX_BUFFERS)
			die("unexpected control message");
		memcpy(rx + got, CMSG_DATA(c), sizeof(int) * k);
		got += k;
	}
	if (got != msg_nfds(&m) || (got && !fds))
		die("message %u came with %u fds, expected %u", m.type, got,
		    fds ? msg_nfds(&m) : 0);
	if (got && fds) /* fds is set whenever got is (checked above) */
		memcpy(fds, rx, sizeof(int) * got);
	return m;
}

/* Pixels of a frame: every 32-bit word of the buffer holds its number. */
static void fill(uint32_t *p, uint64_t size, uint32_t v)
{
	for (uint64_t i = 0; i < size / 4; i++)
		p[i] = v;
}

#define PAGE_WORDS 1024 /* 32-bit words in 4 KiB */

/* Pages of the buffer whose sampled word does not hold @v. One word per
 * 4 KiB page (reading all 4 MiB of a 1280x800 buffer twice a frame costs
 * tens of ms under TCG and would hide the --implicit breakage behind the
 * checker's own slowness); the word's offset in the page moves with @v, so
 * successive frames look at different pixels. Read between
 * DMA_BUF_IOCTL_SYNC START and END (READ). START waits for the buffer's
 * write fences (6.1 dma_buf_ioctl -> dma_buf_begin_cpu_access), so this
 * sees what the writer the reservation knows about left, never a frame
 * still being written. */
static uint64_t count_not(int dmabuf, const uint32_t *p, uint64_t size,
			  uint32_t v)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START |
					   DMA_BUF_SYNC_READ };
	uint64_t words = size / 4, off = (v * 67u) % PAGE_WORDS, bad = 0;

	check(drmIoctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s), "DMA_BUF_IOCTL_SYNC");
	for (uint64_t i = 0; i < words; i += PAGE_WORDS)
		bad += p[i + off < words ? i + off : words - 1] != v;
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	check(drmIoctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s), "DMA_BUF_IOCTL_SYNC");
	return bad;
}

/* --- the compositor: KMS on virtio_gpu ----------------------------------- */

struct kms {
	int fd;
	uint32_t conn, crtc, plane, mode_blob;
	drmModeModeInfo mode;
	struct { uint32_t fb, crtc, src_w, src_h, crtc_w, crtc_h, src_x,
			  src_y, crtc_x, crtc_y, in_fence; } pp;
	uint32_t crtc_active, crtc_mode, crtc_out_fence, conn_crtc;
};

static uint32_t prop_id(int fd, uint32_t obj, uint32_t type, const char *name)
{
	drmModeObjectPropertiesPtr props =
		drmModeObjectGetProperties(fd, obj, type);
	uint32_t id = 0;

	for (uint32_t i = 0; props && i < props->count_props && !id; i++) {
		drmModePropertyPtr p = drmModeGetProperty(fd, props->props[i]);

		if (p && !strcmp(p->name, name))
			id = p->prop_id;
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	if (!id)
		die("KMS object %u has no property %s", obj, name);
	return id;
}

static uint64_t prop_value(int fd, uint32_t obj, uint32_t type,
			   const char *name)
{
	drmModeObjectPropertiesPtr props =
		drmModeObjectGetProperties(fd, obj, type);
	uint64_t v = UINT64_MAX;

	for (uint32_t i = 0; props && i < props->count_props; i++) {
		drmModePropertyPtr p = drmModeGetProperty(fd, props->props[i]);

		if (p && !strcmp(p->name, name))
			v = props->prop_values[i];
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	return v;
}

static void kms_pick_output(struct kms *k)
{
	drmModeResPtr res = drmModeGetResources(k->fd);
	int crtc_index = -1;

	if (!res)
		die("drmModeGetResources: %s", strerror(errno));
	for (int i = 0; i < res->count_connectors && !k->conn; i++) {
		drmModeConnectorPtr c =
			drmModeGetConnector(k->fd, res->connectors[i]);

		if (c && c->connection == DRM_MODE_CONNECTED &&
		    c->count_modes > 0) {
			k->conn = c->connector_id;
			k->mode = c->modes[0];
		}
		drmModeFreeConnector(c);
	}
	if (!k->conn || res->count_crtcs < 1)
		die("no connected output");
	k->crtc = res->crtcs[0];
	crtc_index = 0;
	drmModeFreeResources(res);

	drmModePlaneResPtr planes = drmModeGetPlaneResources(k->fd);

	for (uint32_t i = 0; planes && i < planes->count_planes; i++) {
		drmModePlanePtr p = drmModeGetPlane(k->fd, planes->planes[i]);

		if (p && (p->possible_crtcs & (1u << crtc_index)) &&
		    prop_value(k->fd, p->plane_id, DRM_MODE_OBJECT_PLANE,
			       "type") == DRM_PLANE_TYPE_PRIMARY && !k->plane)
			k->plane = p->plane_id;
		drmModeFreePlane(p);
	}
	drmModeFreePlaneResources(planes);
	if (!k->plane)
		die("no primary plane");
}

static void kms_props(struct kms *k)
{
	const uint32_t P = DRM_MODE_OBJECT_PLANE;

	k->pp.fb = prop_id(k->fd, k->plane, P, "FB_ID");
	k->pp.crtc = prop_id(k->fd, k->plane, P, "CRTC_ID");
	k->pp.src_x = prop_id(k->fd, k->plane, P, "SRC_X");
	k->pp.src_y = prop_id(k->fd, k->plane, P, "SRC_Y");
	k->pp.src_w = prop_id(k->fd, k->plane, P, "SRC_W");
	k->pp.src_h = prop_id(k->fd, k->plane, P, "SRC_H");
	k->pp.crtc_x = prop_id(k->fd, k->plane, P, "CRTC_X");
	k->pp.crtc_y = prop_id(k->fd, k->plane, P, "CRTC_Y");
	k->pp.crtc_w = prop_id(k->fd, k->plane, P, "CRTC_W");
	k->pp.crtc_h = prop_id(k->fd, k->plane, P, "CRTC_H");
	k->pp.in_fence = prop_id(k->fd, k->plane, P, "IN_FENCE_FD");
	k->crtc_active = prop_id(k->fd, k->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE");
	k->crtc_mode = prop_id(k->fd, k->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID");
	k->crtc_out_fence =
		prop_id(k->fd, k->crtc, DRM_MODE_OBJECT_CRTC, "OUT_FENCE_PTR");
	k->conn_crtc =
		prop_id(k->fd, k->conn, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID");
}

struct buffer {
	uint32_t handle, fb;
	int dmabuf;
	uint64_t size;
	uint32_t *map;
	uint32_t frame; /* what it holds once rendered; NO_FRAME at first */
};

static struct buffer buffer_new(const struct kms *k)
{
	struct drm_mode_create_dumb c = { .width = k->mode.hdisplay,
					  .height = k->mode.vdisplay,
					  .bpp = 32 };
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };
	struct buffer b = { .frame = NO_FRAME };

	check(drmIoctl(k->fd, DRM_IOCTL_MODE_CREATE_DUMB, &c), "CREATE_DUMB");
	b.handle = handles[0] = c.handle;
	pitches[0] = c.pitch;
	b.size = c.size;
	check(drmModeAddFB2(k->fd, c.width, c.height, DRM_FORMAT_XRGB8888,
			    handles, pitches, offsets, &b.fb, 0),
	      "AddFB2");
	check(drmPrimeHandleToFD(k->fd, c.handle, DRM_CLOEXEC | DRM_RDWR,
				 &b.dmabuf),
	      "PRIME export");
	b.map = mmap(NULL, b.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     b.dmabuf, 0);
	if (b.map == MAP_FAILED)
		die("mmap dma-buf: %s", strerror(errno));
	/* Dumb buffers start zeroed, which would pass for frame 0. */
	fill(b.map, b.size, NO_FRAME);
	return b;
}

static void add_plane(drmModeAtomicReqPtr req, const struct kms *k,
		      uint32_t fb)
{
	drmModeAtomicAddProperty(req, k->plane, k->pp.fb, fb);
	drmModeAtomicAddProperty(req, k->plane, k->pp.crtc, k->crtc);
	drmModeAtomicAddProperty(req, k->plane, k->pp.src_x, 0);
	drmModeAtomicAddProperty(req, k->plane, k->pp.src_y, 0);
	drmModeAtomicAddProperty(req, k->plane, k->pp.src_w,
				 (uint64_t)k->mode.hdisplay << 16);
	drmModeAtomicAddProperty(req, k->plane, k->pp.src_h,
				 (uint64_t)k->mode.vdisplay << 16);
	drmModeAtomicAddProperty(req, k->plane, k->pp.crtc_x, 0);
	drmModeAtomicAddProperty(req, k->plane, k->pp.crtc_y, 0);
	drmModeAtomicAddProperty(req, k->plane, k->pp.crtc_w, k->mode.hdisplay);
	drmModeAtomicAddProperty(req, k->plane, k->pp.crtc_h, k->mode.vdisplay);
}

static void kms_modeset(struct kms *k, uint32_t fb)
{
	drmModeAtomicReqPtr req = drmModeAtomicAlloc();

	check(drmModeCreatePropertyBlob(k->fd, &k->mode, sizeof(k->mode),
					&k->mode_blob),
	      "mode blob");
	drmModeAtomicAddProperty(req, k->crtc, k->crtc_mode, k->mode_blob);
	drmModeAtomicAddProperty(req, k->crtc, k->crtc_active, 1);
	drmModeAtomicAddProperty(req, k->conn, k->conn_crtc, k->crtc);
	add_plane(req, k, fb);
	check(drmModeAtomicCommit(k->fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET,
				  NULL),
	      "modeset commit");
	drmModeAtomicFree(req);
}

/* A NONBLOCK flip with an event; returns the OUT_FENCE sync_file. */
static int kms_flip(const struct kms *k, uint32_t fb, int in_fence)
{
	drmModeAtomicReqPtr req = drmModeAtomicAlloc();
	/* OUT_FENCE_PTR points to a 32-bit int: the kernel stores an s32
	 * through it (drm_atomic_uapi.c); kernel-sync-demo runs this on 6.1. */
	int32_t out_fence = -1;

	add_plane(req, k, fb);
	if (in_fence >= 0)
		drmModeAtomicAddProperty(req, k->plane, k->pp.in_fence,
					 (uint64_t)in_fence);
	drmModeAtomicAddProperty(req, k->crtc, k->crtc_out_fence,
				 (uint64_t)(uintptr_t)&out_fence);
	check(drmModeAtomicCommit(k->fd, req,
				  DRM_MODE_ATOMIC_NONBLOCK |
					  DRM_MODE_PAGE_FLIP_EVENT,
				  NULL),
	      "flip commit");
	drmModeAtomicFree(req);
	return out_fence;
}

/* The flip's time as the kernel stamped it (CLOCK_MONOTONIC, the DRM
 * default), so latency does not include our own wake-up. */
static int64_t flip_time_ns;

static void on_flip(int fd, unsigned seq, unsigned sec, unsigned usec,
		    unsigned crtc, void *data)
{
	flip_time_ns = (int64_t)sec * 1000000000 + (int64_t)usec * 1000;
}

static int64_t kms_wait_flip(const struct kms *k)
{
	drmEventContext ev = { .version = 3, .page_flip_handler2 = on_flip };
	struct pollfd p = { .fd = k->fd, .events = POLLIN };

	flip_time_ns = 0;
	while (!flip_time_ns) {
		/* A hang detector, not a deadline: a loaded TCG host can take
		 * seconds per flip, so only a minute without one means stuck. */
		if (poll(&p, 1, HANG_MS) != 1)
			die("no page-flip event within %d s", HANG_MS / 1000);
		check(drmHandleEvent(k->fd, &ev), "drmHandleEvent");
	}
	return flip_time_ns;
}

struct stats {
	int presented, early, out_of_order, wrong_pixels, reused;
	int64_t *lat; /* present -> flip, one per presented frame */
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* 1 when the render-done fence had not signalled by @flip_ns: still
 * pending, or signalled later. Both times are the kernel's
 * CLOCK_MONOTONIC; the flip event only has microseconds. */
static int flipped_early(int done, int64_t flip_ns, int64_t *signal_ns)
{
	struct shws_sync_fence_info f[4];
	struct shws_sync_file_info info;
	int64_t last = 0;

	check(shws_sync_file_info(done, &info, f, 4), "render fence info");
	if (info.num_fences > 4)
		die("render fence has %u fences", info.num_fences);
	for (uint32_t i = 0; i < info.num_fences; i++) {
		if (f[i].status < 0)
			die("render fence signalled an error: %s",
			    strerror(-f[i].status));
		if (f[i].status == 0) {
			*signal_ns = -1;
			return 1;
		}
		if ((int64_t)f[i].timestamp_ns > last)
			last = (int64_t)f[i].timestamp_ns;
	}
	*signal_ns = last;
	return last / 1000 > flip_ns / 1000;
}

/* The buffer that left the screen with this flip (its out-fence has
 * signalled): it must still hold its frame, then it goes back. */
static void retire(int sock, struct buffer *b, uint32_t index,
		   struct stats *st)
{
	struct msg r = { .type = MSG_RELEASE, .buffer = index };

	if (count_not(b->dmabuf, b->map, b->size, b->frame))
		st->reused++;
	send_msg(sock, &r, NULL, 0);
}

static void report(const struct stats *st, const struct options *o)
{
	int64_t *lat = st->lat;
	int n = st->presented;

	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	printf("frames presented: %d of %d\n", n, o->frames);
	printf("frames early (flipped before their render fence signalled): "
	       "%d\n", st->early);
	printf("frames out of order: %d, with wrong pixels at the flip: %d, "
	       "overwritten before release: %d\n",
	       st->out_of_order, st->wrong_pixels, st->reused);
	if (n)
		printf("latency present->flip: min %.2f ms, median %.2f ms, "
		       "max %.2f ms\n",
		       lat[0] / 1e6,
		       (n % 2 ? lat[n / 2] : (lat[n / 2 - 1] + lat[n / 2]) / 2) /
			       1e6,
		       lat[n - 1] / 1e6);
	/* One machine-readable line, for tests/kernel/test-sync-demo.c. */
	printf("result: mode=%s presented=%d early=%d out_of_order=%d "
	       "wrong_pixels=%d reused=%d\n",
	       o->implicit ? "implicit" : "explicit", n, st->early,
	       st->out_of_order, st->wrong_pixels, st->reused);
	if (o->implicit)
		printf("implicit: %s\n",
		       st->early ? "BROKEN, as expected on a kernel whose KMS "
				   "ignores implicit fences on flips (virtio_gpu "
				   "on 6.1 and 6.12)"
				 : "no early frame (this kernel honours implicit "
				   "fences on flips, or the fallback finished "
				   "rendering before the present)");
}

static int compositor(int sock, const struct options *o, int kms_fd)
{
	struct kms k = { .fd = kms_fd };
	struct buffer buf[MAX_BUFFERS];
	struct stats st = { 0 };
	int fds[MAX_BUFFERS], ok;
	uint32_t shown, expect = 0;

	st.lat = calloc((size_t)o->frames, sizeof(*st.lat));
	if (!st.lat)
		die("out of memory");
	check(drmSetClientCap(k.fd, DRM_CLIENT_CAP_ATOMIC, 1), "atomic cap");
	kms_pick_output(&k);
	kms_props(&k);
	for (int i = 0; i < o->buffers; i++) {
		buf[i] = buffer_new(&k);
		fds[i] = buf[i].dmabuf;
	}
	/* The last buffer is on the screen first; the others are free. */
	shown = (uint32_t)o->buffers - 1;
	kms_modeset(&k, buf[shown].fb);
	printf("compositor: %ux%u on virtio_gpu, %d buffers, %d frames, "
	       "GPU delay %d ms, %s, dma-buf sync_file ioctls %s\n",
	       k.mode.hdisplay, k.mode.vdisplay, o->buffers, o->frames,
	       o->gpu_delay_ms,
	       o->implicit ? "IMPLICIT sync (no IN_FENCE_FD)"
			   : "explicit sync (IN_FENCE_FD)",
	       shws_dmabuf_sync_caps(buf[0].dmabuf) > 0 ? "used"
							: "NOT used (fallback)");

	struct msg h = { .type = MSG_HELLO, .count = (uint32_t)o->buffers,
			 .size = buf[0].size };
	send_msg(sock, &h, fds, o->buffers);
	for (int i = 0; i < o->buffers - 1; i++) {
		struct msg r = { .type = MSG_RELEASE, .buffer = (uint32_t)i };

		send_msg(sock, &r, NULL, 0);
	}

	for (;;) {
		int rx[MAX_BUFFERS], in_fence = -1, out_fence;
		struct msg p = recv_msg(sock, rx);
		int64_t t_flip, t_signal;
		uint64_t wrong = 0;
		struct buffer *b;
		int early;

		if (p.type == MSG_DONE)
			break;
		if (p.type != MSG_PRESENT || p.buffer >= (uint32_t)o->buffers ||
		    p.buffer == shown || st.presented == o->frames)
			die("bad message %u (buffer %u)", p.type, p.buffer);
		b = &buf[p.buffer];
		if (p.frame != expect)
			st.out_of_order++;
		expect = p.frame + 1;

		/* Acquire: the buffer's writers as one sync_file (6.1
		 * virtio_gpu ignores them unless they come as IN_FENCE_FD). */
		if (!o->implicit)
			check(shws_wsi_acquire(b->dmabuf, SHWS_SYNC_READ,
					       &in_fence),
			      "shws_wsi_acquire(READ)");
		out_fence = kms_flip(&k, b->fb, in_fence);
		if (in_fence >= 0)
			close(in_fence);
		t_flip = kms_wait_flip(&k);

		/* What reached the screen: was it rendered, and is it frame
		 * k? Early first: the pixel check below waits for the
		 * render. */
		early = flipped_early(rx[0], t_flip, &t_signal);
		st.early += early;
		close(rx[0]);
		b->frame = p.frame;
		wrong = count_not(b->dmabuf, b->map, b->size, p.frame);
		st.wrong_pixels += wrong != 0;
		st.lat[st.presented++] = t_flip - p.t_ns;
		if (o->verbose)
			printf("frame %u buffer %u: flip %.2f ms after present, "
			       "%s%s, %llu wrong pages\n",
			       p.frame, p.buffer, (t_flip - p.t_ns) / 1e6,
			       early ? "EARLY: fence " : "fence ",
			       t_signal < 0 ? "still pending"
					    : (early ? "signalled after the flip"
						     : "signalled before"),
			       (unsigned long long)wrong);

		/* Return the buffer this flip replaced once it is off the
		 * screen, i.e. when the out-fence signals. */
		check(shws_sync_file_wait(out_fence, HANG_MS), "out-fence");
		close(out_fence);
		retire(sock, &buf[shown], shown, &st);
		shown = p.buffer;
	}
	{
		struct msg bye = { .type = MSG_BYE };

		send_msg(sock, &bye, NULL, 0);
	}
	report(&st, o);
	ok = st.presented == o->frames && !st.out_of_order &&
	     !st.wrong_pixels && !st.reused && (o->implicit || !st.early);
	for (int i = 0; i < o->buffers; i++) {
		munmap(buf[i].map, buf[i].size);
		close(buf[i].dmabuf);
	}
	free(st.lat);
	return ok ? 0 : 1;
}

/* --- the client: renders with a fake GPU ---------------------------------- */

/* One job for the fake GPU: wait @acquire, take @delay of "GPU time",
 * store @frame in every pixel, signal vgem fence @fence. */
struct job {
	int acquire; /* owned by the queue until the job ran; -1: none */
	uint32_t fence, frame;
	uint32_t *dst;
	uint64_t size;
};

/* The GPU: a worker thread that runs jobs in submission order, like a
 * ring. The client never waits for it on the CPU. */
struct gpu {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job q[MAX_BUFFERS];
	unsigned head, tail; /* q[head % MAX_BUFFERS] runs next */
	int vgem, delay_ms, stop;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *gpu_main(void *arg)
{
	struct gpu *g = arg;

	for (;;) {
		struct vgem_signal s = { 0 };
		struct job j;

		pthread_mutex_lock(&g->lock);
		while (g->head == g->tail && !g->stop)
			pthread_cond_wait(&g->cond, &g->lock);
		if (g->head == g->tail) {
			pthread_mutex_unlock(&g->lock);
			return NULL;
		}
		j = g->q[g->head % MAX_BUFFERS];
		pthread_mutex_unlock(&g->lock);

		/* A GPU takes the acquire sync_file as a wait semaphore. */
		if (j.acquire >= 0) {
			check(shws_sync_file_wait(j.acquire, -1),
			      "GPU: acquire wait");
			close(j.acquire);
		}
		sleep_ms(g->delay_ms);
		/* The GPU writes; no DMA_BUF_IOCTL_SYNC here: START would
		 * wait for this job's own fence, which shws_wsi_release put
		 * on the buffer. */
		fill(j.dst, j.size, j.frame);
		s.fence = j.fence;
		if (drmIoctl(g->vgem, VGEM_SIGNAL, &s))
			die("VGEM_FENCE_SIGNAL: %s", strerror(errno));

		pthread_mutex_lock(&g->lock);
		g->head++;
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->lock);
	}
}

static void gpu_submit(struct gpu *g, const struct job *j)
{
	pthread_mutex_lock(&g->lock);
	/* Cannot happen: at most one job per buffer is queued, as a buffer
	 * is only rendered again after it came back from the screen. */
	if (g->tail - g->head >= MAX_BUFFERS)
		die("GPU queue full");
	g->q[g->tail++ % MAX_BUFFERS] = *j;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void gpu_start(struct gpu *g, int vgem, int delay_ms)
{
	*g = (struct gpu){ .vgem = vgem, .delay_ms = delay_ms };
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	if (pthread_create(&g->thread, NULL, gpu_main, g))
		die("pthread_create");
}

static void gpu_stop(struct gpu *g)
{
	pthread_mutex_lock(&g->lock);
	g->stop = 1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	if (pthread_join(g->thread, NULL))
		die("pthread_join");
}

/* The GPU's private per-buffer timeline: a vgem buffer to carry the job's
 * fence, as a real driver's fence lives on its own ring. Only
 * shws_wsi_release puts it on the shared buffer. */
struct timeline {
	uint32_t handle;
	int dmabuf;
};

static struct timeline timeline_new(int vgem)
{
	struct drm_mode_create_dumb c = { .width = 64, .height = 64, .bpp = 32 };
	struct timeline t;

	check(drmIoctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &c), "vgem dumb");
	t.handle = c.handle;
	check(drmPrimeHandleToFD(vgem, c.handle, DRM_CLOEXEC | DRM_RDWR,
				 &t.dmabuf),
	      "vgem export");
	return t;
}

/* A new vgem fence on @t, and the render-done sync_file for it. The "GPU
 * driver" hands out its fence by its own means (straight from the kernel,
 * so SHWS_DMABUF_SYNC=fallback, which only stops shws from using this
 * ioctl, leaves it working). */
static int fence_new(int vgem, const struct timeline *t, uint32_t *fence)
{
	struct vgem_attach a = { .handle = t->handle, .flags = VGEM_WRITE };
	struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_RW,
					      .fd = -1 };

	/* EBUSY would mean the previous job on this buffer still runs: it
	 * cannot, the buffer came back from the screen since. */
	if (drmIoctl(vgem, VGEM_ATTACH, &a))
		die("VGEM_FENCE_ATTACH: %s", strerror(errno));
	if (drmIoctl(t->dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e))
		die("EXPORT_SYNC_FILE (needs Linux 6.0): %s", strerror(errno));
	*fence = a.out_fence;
	return e.fd;
}

static int client(int sock, const struct options *o)
{
	int vgem = open_driver("vgem");
	int fds[MAX_BUFFERS], released[MAX_BUFFERS] = { 0 };
	uint32_t *maps[MAX_BUFFERS];
	struct timeline tl[MAX_BUFFERS];
	struct msg h = recv_msg(sock, fds);
	struct gpu gpu;

	if (h.type != MSG_HELLO || h.count != (uint32_t)o->buffers)
		die("client: bad hello");
	for (int i = 0; i < o->buffers; i++) {
		maps[i] = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fds[i], 0);
		if (maps[i] == MAP_FAILED)
			die("client mmap: %s", strerror(errno));
		tl[i] = timeline_new(vgem);
	}
	gpu_start(&gpu, vgem, o->gpu_delay_ms);

	for (int k = 0; k < o->frames; k++) {
		int i = k % o->buffers, acq, done;
		struct job j;

		while (!released[i]) {
			struct msg r = recv_msg(sock, NULL);

			if (r.type != MSG_RELEASE || r.buffer >= h.count)
				die("client: bad message %u", r.type);
			released[r.buffer] = 1;
		}
		released[i] = 0;
		/* Whatever still uses the buffer; the GPU job waits for it. */
		check(shws_wsi_acquire(fds[i], SHWS_SYNC_WRITE, &acq),
		      "shws_wsi_acquire(WRITE)");
		done = fence_new(vgem, &tl[i], &j.fence);
		j.acquire = acq;
		j.frame = (uint32_t)k;
		j.dst = maps[i];
		j.size = h.size;
		gpu_submit(&gpu, &j);
		/* Release with the render-done fence, on the buffer itself
		 * (so --implicit, which does not send it, still has it on
		 * the buffer's reservation) ... */
		check(shws_wsi_release(fds[i], done), "shws_wsi_release");

		/* ... and explicitly with the present. */
		struct msg p = { .type = MSG_PRESENT, .buffer = (uint32_t)i,
				 .frame = (uint32_t)k, .t_ns = now_ns() };
		send_msg(sock, &p, &done, 1);
		close(done);
	}
	struct msg d = { .type = MSG_DONE };
	send_msg(sock, &d, NULL, 0);
	/* Read to the end: closing a UNIX socket with unread messages resets
	 * the peer (ECONNRESET) before it has read ours. */
	for (;;) {
		struct msg r = recv_msg(sock, NULL);

		if (r.type == MSG_BYE)
			break;
		if (r.type != MSG_RELEASE)
			die("client: bad message %u", r.type);
	}
	gpu_stop(&gpu);
	for (int i = 0; i < o->buffers; i++) {
		munmap(maps[i], h.size);
		close(fds[i]);
		close(tl[i].dmabuf);
	}
	close(vgem);
	return 0;
}

static void usage(FILE *f, int status)
{
	fprintf(f,
		"usage: shws-demo [--frames N] [--buffers K] [--gpu-delay-ms D] "
		"[--implicit] [--verbose] [--help]\n");
	if (status)
		exit(status);
	fprintf(f,
		"  --frames N        frames to present (default 120)\n"
		"  --buffers K       buffers in the ring, 2..%d (default 3)\n"
		"  --gpu-delay-ms D  time the fake GPU takes per frame, 0..1000 "
		"(default 20)\n"
		"  --implicit        no IN_FENCE_FD: rely on implicit sync only\n"
		"  --verbose         one line per frame\n"
		"Runs where vgem and virtio_gpu are (the test VM). Exit 0 when "
		"every frame\nwas right (with --implicit, early frames are "
		"reported, not failed).\n",
		MAX_BUFFERS);
	exit(status);
}

static int number(const char *s, int lo, int hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage(stderr, 2);
	return (int)v;
}

static struct options parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "buffers", required_argument, NULL, 'b' },
		{ "gpu-delay-ms", required_argument, NULL, 'd' },
		{ "implicit", no_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .frames = 120, .buffers = 3, .gpu_delay_ms = 20 };
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.frames = number(optarg, 1, 100000); break;
		case 'b': o.buffers = number(optarg, 2, MAX_BUFFERS); break;
		/* vgem fences signal by themselves after ~10 s: keep each
		 * job (and the queue of K of them) well below. */
		case 'd': o.gpu_delay_ms = number(optarg, 0, 1000); break;
		case 'I': o.implicit = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	return o;
}

int main(int argc, char **argv)
{
	struct options o = parse(argc, argv);
	int sv[2], status, rc, kms_fd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die("socketpair: %s", strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Before fork: the first opener of a card node becomes KMS master,
	 * and the client's search for vgem opens card nodes too. */
	kms_fd = open_driver("virtio_gpu");
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* Only the fd: the file is the compositor's; nothing of it is
		 * touched here. */
		close(kms_fd);
		close(sv[0]);
		_exit(client(sv[1], &o));
	}
	close(sv[1]);
	rc = compositor(sv[0], &o, kms_fd);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		rc = 1;
	printf("shws-demo: %s\n", rc ? "FAIL" : "ok");
	return rc;
}
