/* SPDX-License-Identifier: MIT */
/*
 * (c) Mixed APIs in one process on one DRM file description: GL through
 * Mesa (EGL on GBM, kms_swrast) and a second client using shws directly
 * (standing in for a VA-API driver) import the same dma-buf, which yields
 * one GEM handle. Each release order is tried: the client that keeps its
 * import must still be able to read the buffer.
 *
 * The buffer is created on a different open of the device, so neither
 * client's release can hide behind the creator's reference.
 *
 * Exit status: 0 both orders OK; 3 the survivor's buffer died (or a
 * child crashed using it); 1 anything else.
 */
#include <shws/shws.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "egl_common.h"

#define W 64
#define H 64
#define PATTERN 0xff336699u /* ARGB: r 0x33, g 0x66, b 0x99 */

/* The shws client reads the buffer through its own handle. */
static int va_read(struct shws_bo *bo, uint32_t stride)
{
	struct drm_mode_map_dumb map = { .handle = shws_bo_handle(bo) };
	int fd = shws_file_fd(shws_bo_file(bo));
	uint32_t *p;
	int bad = 0;

	if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map)) {
		printf("va: MAP_DUMB on handle %u: %s\n", map.handle, strerror(errno));
		return -1;
	}
	p = mmap(NULL, shws_bo_size(bo), PROT_READ, MAP_SHARED, fd, map.offset);
	if (p == MAP_FAILED) {
		printf("va: mmap: %s\n", strerror(errno));
		return -1;
	}
	for (int y = 0; y < H && !bad; y++)
		for (int x = 0; x < W && !bad; x++)
			bad = p[y * (stride / 4) + x] != PATTERN;
	munmap(p, shws_bo_size(bo));
	if (bad)
		printf("va: wrong contents\n");
	return bad ? -1 : 0;
}

/* GL reads the buffer by sampling its EGLImage into a plain texture. */
static int gl_read(struct egl *e, EGLImageKHR img)
{
	GLuint tex = egl_texture(img), dst, fbo;
	int r;

	glGenTextures(1, &dst);
	glBindTexture(GL_TEXTURE_2D, dst);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, W, H, 0, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
	fbo = egl_fbo(dst);
	glViewport(0, 0, W, H);
	glClearColor(0, 0, 0, 1);
	glClear(GL_COLOR_BUFFER_BIT);
	glActiveTexture(GL_TEXTURE0);
	glBindTexture(GL_TEXTURE_2D, tex);
	glUseProgram(e->prog_tex);
	glUniform1i(glGetUniformLocation(e->prog_tex, "tex"), 0);
	egl_draw_quad(e->prog_tex);
	glFinish();
	r = egl_probe(W, H, 0x33, 0x66, 0x99);
	glBindFramebuffer(GL_FRAMEBUFFER, 0);
	glDeleteFramebuffers(1, &fbo);
	glDeleteTextures(1, &dst);
	glDeleteTextures(1, &tex);
	if (r)
		printf("gl: sampling the image failed\n");
	return r;
}

/* A dma-buf with the pattern, created on its own open of the device. */
static int make_buffer(uint32_t *stride)
{
	int fd = kt_open_driver("virtio_gpu", KT_PRIMARY);
	struct gbm_device *gbm = gbm_create_device(fd);
	struct gbm_bo *bo;
	uint32_t *p, map_stride;
	void *data = NULL;
	int dmabuf;

	CHECK(gbm);
	bo = gbm_bo_create(gbm, W, H, GBM_FORMAT_ARGB8888,
			   GBM_BO_USE_RENDERING | GBM_BO_USE_SCANOUT |
				   GBM_BO_USE_LINEAR);
	CHECK(bo);
	p = gbm_bo_map(bo, 0, 0, W, H, GBM_BO_TRANSFER_WRITE, &map_stride, &data);
	CHECK(p);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			p[y * (map_stride / 4) + x] = PATTERN;
	gbm_bo_unmap(bo, data);
	*stride = gbm_bo_get_stride(bo);
	dmabuf = gbm_bo_get_fd(bo);
	CHECK_INT(dmabuf, >=, 0);
	gbm_bo_destroy(bo);
	gbm_device_destroy(gbm);
	close(fd);
	return dmabuf;
}

/* Returns 0 if the survivor could read the buffer. */
static int run_order(struct egl *e, struct shws_file *va_file, int gl_first)
{
	const char *name = gl_first ? "gl releases first" : "va releases first";
	uint32_t stride;
	int dmabuf = make_buffer(&stride), r;
	EGLImageKHR img = egl_import(e, dmabuf, W, H, (int)stride);
	struct shws_bo *bo;

	CHECK(img != EGL_NO_IMAGE_KHR);
	CHECK_OK(shws_bo_import_dmabuf(va_file, dmabuf, SHWS_API_VA, &bo));
	/* Both readable while both hold the buffer. */
	CHECK_OK(gl_read(e, img));
	CHECK_OK(va_read(bo, stride));
	close(dmabuf); /* neither client needs the fd any more */

	if (gl_first) {
		/* GL lets go of everything: the image, and the context, display
		 * and gbm device with it (a context may keep using an image's
		 * resource after eglDestroyImageKHR). */
		CHECK(eglDestroyImageKHR(e->dpy, img));
		egl_fini(e);
		e->dpy = EGL_NO_DISPLAY;
		r = va_read(bo, stride);
		CHECK_OK(shws_bo_unref(bo, SHWS_API_VA));
	} else {
		CHECK_OK(shws_bo_unref(bo, SHWS_API_VA));
		r = gl_read(e, img);
		CHECK(eglDestroyImageKHR(e->dpy, img));
	}
	printf("%s: %s\n", name, r ? "BROKEN: the other client's buffer died" : "OK");
	return r;
}

/* One release order, in its own process: on unpatched Mesa the survivor's
 * buffer is gone and softpipe may crash reading it; the parent reports
 * that as BROKEN instead of dying with it. */
static int child(int gl_first)
{
	int fds0 = test_fd_count();
	struct shws_file *va_file;
	struct egl e;
	int fd, r;

	fd = kt_open_driver("virtio_gpu", KT_PRIMARY);
	egl_init(&e, fd);
	/* The VA stand-in on the same fd: the same open file description. */
	CHECK_OK(shws_file_open(fd, 0, SHWS_API_VA, &va_file));
	CHECK(!shws_file_is_private(va_file));
	r = run_order(&e, va_file, gl_first);
	shws_file_unref(va_file, SHWS_API_VA);
	if (e.dpy != EGL_NO_DISPLAY)
		egl_fini(&e);
	close(fd);
	CHECK_INT(test_fd_count(), ==, fds0);
	return r ? 3 : 0;
}

int main(void)
{
	int broken = 0;

	kt_banner("mesa-mixed-api");
	for (int gl_first = 1; gl_first >= 0; gl_first--) {
		int status;
		pid_t pid;

		fflush(stdout);
		pid = CHECK_SYS(fork());
		if (pid == 0) {
			int r = child(gl_first);

			fflush(stdout);
			_exit(r);
		}
		CHECK_SYS(waitpid(pid, &status, 0));
		if (WIFSIGNALED(status)) {
			printf("%s: BROKEN: crashed (signal %d) using the buffer\n",
			       gl_first ? "gl releases first" : "va releases first",
			       WTERMSIG(status));
			broken = 1;
		} else if (WEXITSTATUS(status) == 3) {
			broken = 1;
		} else if (WEXITSTATUS(status) != 0) {
			test_fail("child failed (exit %d)", WEXITSTATUS(status));
		}
	}
	if (broken) {
		printf("RESULT: BROKEN\n");
		return 3;
	}
	printf("RESULT: OK\n");
	return 0;
}
