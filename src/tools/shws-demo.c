/* SPDX-License-Identifier: MIT */
/*
 * shws-demo: a real present loop with explicit sync on KMS.
 *
 * Two processes over a UNIX socket. The compositor is KMS master on
 * virtio_gpu, allocates the swapchain images (dumb buffers), and sends their
 * dma-bufs to the client with SCM_RIGHTS. The client renders frame k into an
 * image: shws_wsi_acquire (wait for the display to be done with it), a fake
 * GPU job (a thread that stores k into the image after --delay ms and then
 * signals a vgem fence), shws_wsi_release with that fence, PRESENT. The
 * compositor turns the image's fences into an IN_FENCE_FD with
 * shws_wsi_acquire_for_read, commits atomically (NONBLOCK, page-flip event,
 * OUT_FENCE_PTR), gives the out-fence back to the previous image as a read
 * fence and releases it. At each flip it reads the image: it must hold
 * frame k. With --implicit the IN_FENCE_FD is left out; Linux 6.1
 * virtio_gpu ignores implicit fences on flips, so frames reach the screen
 * before they are rendered, and the demo counts them.
 *
 * SHWS_DMABUF_SYNC=fallback runs the pre-6.0 path: acquire and release
 * block on the CPU, the compositor holds a release back until its flip
 * landed, no IN_FENCE_FD is needed, and every frame must still be complete.
 *
 * Needs a vgem and a virtio_gpu node and nobody else as KMS master: run it
 * in the test VM, e.g. tests/vm/run -- build/src/tools/shws-demo.
 * Exit status: 0 when every check held (--implicit: breakage is reported,
 * not failed), 1 otherwise.
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <shws/shws.h>

#define MAX_IMAGES 3

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

enum msg_type { MSG_HELLO, MSG_RELEASE, MSG_PRESENT, MSG_DONE };

struct msg {
	uint32_t type;
	uint32_t image;
	uint32_t frame;
	uint32_t count; /* HELLO: number of images (and fds) */
	uint64_t size;  /* HELLO: bytes per image */
	int64_t t_ns;   /* PRESENT: CLOCK_MONOTONIC when presented */
};

struct options {
	int frames;
	int images;
	int delay_ms;
	int implicit;
	int verbose;
};

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
	char ctl[CMSG_SPACE(sizeof(int) * MAX_IMAGES)] = { 0 };
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

/* Receives one message; fds (if any) land in @fds, CLOEXEC. */
static struct msg recv_msg(int sock, int *fds, int max_fds)
{
	char ctl[CMSG_SPACE(sizeof(int) * MAX_IMAGES)];
	struct msg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &h, MSG_CMSG_CLOEXEC);

	if (n != sizeof(m))
		die("recvmsg: %s", n < 0 ? strerror(errno) : "short message");
	for (c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

		if (c->cmsg_type != SCM_RIGHTS || k > max_fds)
			die("unexpected control message");
		memcpy(fds, CMSG_DATA(c), sizeof(int) * k);
	}
	return m;
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

struct image {
	uint32_t handle, fb;
	int dmabuf;
	uint64_t size;
	volatile uint32_t *map;
};

static struct image image_new(const struct kms *k)
{
	struct drm_mode_create_dumb c = { .width = k->mode.hdisplay,
					  .height = k->mode.vdisplay,
					  .bpp = 32 };
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };
	struct image im = { 0 };

	check(drmIoctl(k->fd, DRM_IOCTL_MODE_CREATE_DUMB, &c), "CREATE_DUMB");
	im.handle = handles[0] = c.handle;
	pitches[0] = c.pitch;
	im.size = c.size;
	check(drmModeAddFB2(k->fd, c.width, c.height, DRM_FORMAT_XRGB8888,
			    handles, pitches, offsets, &im.fb, 0),
	      "AddFB2");
	check(drmPrimeHandleToFD(k->fd, c.handle, DRM_CLOEXEC | DRM_RDWR,
				 &im.dmabuf),
	      "PRIME export");
	im.map = mmap(NULL, im.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      im.dmabuf, 0);
	if (im.map == MAP_FAILED)
		die("mmap dma-buf: %s", strerror(errno));
	im.map[0] = UINT32_MAX; /* "no frame yet" */
	return im;
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
	/* OUT_FENCE_PTR points to a 32-bit int on 6.1 (KERNEL-FACTS). */
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
		if (poll(&p, 1, 5000) != 1)
			die("no page-flip event within 5 s");
		check(drmHandleEvent(k->fd, &ev), "drmHandleEvent");
	}
	return flip_time_ns;
}

/* The previous image leaves the screen when the flip lands: its readers'
 * fence is the out-fence. Without the import ioctl, hold the release back
 * until the flip happened instead (the blocking fallback, compositor side). */
static void release_after(int dmabuf, int out_fence)
{
	int r = shws_dmabuf_import_sync_file(dmabuf, SHWS_SYNC_READ, out_fence);

	if (r == -EOPNOTSUPP)
		r = shws_sync_file_wait(out_fence, -1);
	check(r, "out-fence to the previous image");
}

struct stats {
	int frames, stale, out_of_order;
	int64_t lat_min, lat_max, lat_sum;
};

static void stats_add(struct stats *s, int64_t lat)
{
	if (!s->frames || lat < s->lat_min)
		s->lat_min = lat;
	if (lat > s->lat_max)
		s->lat_max = lat;
	s->lat_sum += lat;
	s->frames++;
}

static int compositor(int sock, const struct options *o, int kms_fd)
{
	struct kms k = { .fd = kms_fd };
	struct image im[MAX_IMAGES];
	struct stats st = { 0 };
	int fds[MAX_IMAGES], shown, expect = 0;

	check(drmSetClientCap(k.fd, DRM_CLIENT_CAP_ATOMIC, 1), "atomic cap");
	kms_pick_output(&k);
	kms_props(&k);
	for (int i = 0; i < o->images; i++) {
		im[i] = image_new(&k);
		fds[i] = im[i].dmabuf;
	}
	/* The last image is on screen first; the others are free. */
	shown = o->images - 1;
	kms_modeset(&k, im[shown].fb);
	printf("compositor: %ux%u on virtio_gpu, %d images, %s sync, "
	       "dma-buf sync_file ioctls %s\n",
	       k.mode.hdisplay, k.mode.vdisplay, o->images,
	       o->implicit ? "IMPLICIT (no IN_FENCE_FD)" : "explicit",
	       shws_dmabuf_sync_caps(im[0].dmabuf) > 0 ? "used"
							: "NOT used (fallback)");

	struct msg m = { .type = MSG_HELLO, .count = (uint32_t)o->images,
			 .size = im[0].size };
	send_msg(sock, &m, fds, o->images);
	for (int i = 0; i < o->images - 1; i++) {
		struct msg r = { .type = MSG_RELEASE, .image = (uint32_t)i };

		send_msg(sock, &r, NULL, 0);
	}

	for (;;) {
		struct msg p = recv_msg(sock, NULL, 0);
		int in_fence = -1, out_fence;
		int64_t t_flip;
		uint32_t got;

		if (p.type == MSG_DONE)
			break;
		if (p.type != MSG_PRESENT || p.image >= (uint32_t)o->images)
			die("bad message %u", p.type);
		if ((int)p.frame != expect++)
			st.out_of_order++;

		if (!o->implicit)
			check(shws_wsi_acquire_for_read(im[p.image].dmabuf,
							&in_fence),
			      "shws_wsi_acquire_for_read");
		out_fence = kms_flip(&k, im[p.image].fb, in_fence);
		if (in_fence >= 0)
			close(in_fence);

		release_after(im[shown].dmabuf, out_fence);
		close(out_fence);
		struct msg r = { .type = MSG_RELEASE, .image = (uint32_t)shown };
		send_msg(sock, &r, NULL, 0);
		shown = (int)p.image;

		t_flip = kms_wait_flip(&k);
		got = im[p.image].map[0];
		if (got != p.frame)
			st.stale++;
		stats_add(&st, t_flip - p.t_ns);
		if (o->verbose)
			printf("frame %u image %u: screen shows %d, %.2f ms\n",
			       p.frame, p.image, (int)got,
			       (t_flip - p.t_ns) / 1e6);
	}

	printf("compositor: %d frames, %d shown before rendering finished, "
	       "%d out of order; present->flip latency min %.2f avg %.2f "
	       "max %.2f ms\n",
	       st.frames, st.stale, st.out_of_order, st.lat_min / 1e6,
	       st.frames ? st.lat_sum / 1e6 / st.frames : 0.0,
	       st.lat_max / 1e6);
	if (o->implicit) {
		printf("implicit: %s\n",
		       st.stale ? "BROKEN as expected on a kernel that ignores "
				  "implicit fences on flips"
				: "no breakage seen (the kernel honours implicit "
				  "fences, the blocking fallback finished "
				  "rendering first, or the GPU was fast)");
		return st.out_of_order || st.frames != o->frames;
	}
	return st.stale || st.out_of_order || st.frames != o->frames;
}

/* --- the client: renders with a fake GPU ---------------------------------- */

struct gpu_job {
	pthread_t thread;
	int vgem, delay_ms, running;
	uint32_t fence, frame;
	volatile uint32_t *dst;
};

static void *gpu_main(void *arg)
{
	struct gpu_job *j = arg;
	struct timespec ts = { j->delay_ms / 1000,
			       (long)(j->delay_ms % 1000) * 1000000 };
	struct vgem_signal s = { .fence = j->fence };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	j->dst[0] = j->frame;
	if (drmIoctl(j->vgem, VGEM_SIGNAL, &s))
		die("VGEM_FENCE_SIGNAL: %s", strerror(errno));
	return NULL;
}

static void gpu_join(struct gpu_job *j)
{
	if (j->running && pthread_join(j->thread, NULL))
		die("pthread_join");
	j->running = 0;
}

static int kernel_sync_file(int dmabuf)
{
	struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_RW,
					      .fd = -1 };

	if (drmIoctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e))
		die("EXPORT_SYNC_FILE (needs Linux 6.0): %s", strerror(errno));
	return e.fd;
}

/* Starts "rendering" @frame into @dst and returns the render-done
 * sync_file. The fence lives on a private scratch buffer, as a real GPU's
 * would live on its own timeline, so only shws_wsi_release puts it on the
 * image. */
static int gpu_render(struct gpu_job *j, uint32_t scratch, int scratch_fd,
		      volatile uint32_t *dst, uint32_t frame)
{
	struct vgem_attach a = { .handle = scratch, .flags = VGEM_WRITE };
	int done;

	gpu_join(j); /* the scratch buffer must be idle to attach a writer */
	if (drmIoctl(j->vgem, VGEM_ATTACH, &a))
		die("VGEM_FENCE_ATTACH: %s", strerror(errno));
	/* The "GPU driver" hands out its fence as a sync_file by its own
	 * means (straight from the kernel, so SHWS_DMABUF_SYNC=fallback,
	 * which stops shws from using this ioctl, leaves it working). */
	done = kernel_sync_file(scratch_fd);
	j->fence = a.out_fence;
	j->dst = dst;
	j->frame = frame;
	if (pthread_create(&j->thread, NULL, gpu_main, j))
		die("pthread_create");
	j->running = 1;
	return done;
}

static int client(int sock, const struct options *o)
{
	int vgem = open_driver("vgem");
	int fds[MAX_IMAGES], released[MAX_IMAGES] = { 0 };
	volatile uint32_t *maps[MAX_IMAGES];
	struct gpu_job job = { .vgem = vgem, .delay_ms = o->delay_ms };
	struct drm_mode_create_dumb c = { .width = 64, .height = 64, .bpp = 32 };
	int scratch_fd;
	struct msg h = recv_msg(sock, fds, MAX_IMAGES);

	if (h.type != MSG_HELLO || h.count != (uint32_t)o->images)
		die("client: bad hello");
	for (int i = 0; i < o->images; i++) {
		maps[i] = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fds[i], 0);
		if (maps[i] == MAP_FAILED)
			die("client mmap: %s", strerror(errno));
	}
	check(drmIoctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &c), "vgem dumb");
	check(drmPrimeHandleToFD(vgem, c.handle, DRM_CLOEXEC | DRM_RDWR,
				 &scratch_fd),
	      "vgem export");

	for (int k = 0; k < o->frames; k++) {
		int i = k % o->images, acq, done;

		while (!released[i]) {
			struct msg r = recv_msg(sock, NULL, 0);

			if (r.type != MSG_RELEASE || r.image >= h.count)
				die("client: bad message %u", r.type);
			released[r.image] = 1;
		}
		released[i] = 0;
		/* Wait for the display to be done with the image (a GPU would
		 * take the sync_file as a wait semaphore). */
		check(shws_wsi_acquire(fds[i], &acq), "shws_wsi_acquire");
		if (acq >= 0) {
			check(shws_sync_file_wait(acq, -1), "acquire wait");
			close(acq);
		}
		done = gpu_render(&job, c.handle, scratch_fd, maps[i],
				  (uint32_t)k);
		check(shws_wsi_release(fds[i], done), "shws_wsi_release");
		close(done);

		struct msg p = { .type = MSG_PRESENT, .image = (uint32_t)i,
				 .frame = (uint32_t)k, .t_ns = now_ns() };
		send_msg(sock, &p, NULL, 0);
	}
	gpu_join(&job);
	struct msg d = { .type = MSG_DONE };
	send_msg(sock, &d, NULL, 0);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: shws-demo [--frames N] [--images 2|3] [--delay MS] "
		"[--implicit] [--verbose]\n");
	exit(2);
}

static struct options parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "images", required_argument, NULL, 'i' },
		{ "delay", required_argument, NULL, 'd' },
		{ "implicit", no_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .frames = 30, .images = 2, .delay_ms = 30 };
	int c;

	while ((c = getopt_long(argc, argv, "n:i:d:Iv", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.frames = atoi(optarg); break;
		case 'i': o.images = atoi(optarg); break;
		case 'd': o.delay_ms = atoi(optarg); break;
		case 'I': o.implicit = 1; break;
		case 'v': o.verbose = 1; break;
		default: usage();
		}
	}
	/* vgem fences expire by themselves after ~10 s. */
	if (o.frames < 1 || o.images < 2 || o.images > MAX_IMAGES ||
	    o.delay_ms < 0 || o.delay_ms > 2000 || optind != argc)
		usage();
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
