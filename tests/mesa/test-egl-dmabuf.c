/* SPDX-License-Identifier: MIT */
/*
 * (a) GLES2 on EGL/GBM (kms_swrast) renders into a gbm buffer, reads it
 * back, exports it as a dma-buf (EGL_MESA_image_dma_buf_export), imports
 * that again with EGL_EXT_image_dma_buf_import and samples the colour.
 */
#include "egl_common.h"

#define W 64
#define H 64

int main(void)
{
	int fds0 = test_fd_count();
	struct egl e;
	struct gbm_bo *bo;
	EGLImageKHR img_a, img_b;
	GLuint tex_a, tex_b, tex_c, fbo_a, fbo_c;
	int d0, d1, fourcc, planes;
	EGLint stride, offset;
	EGLuint64KHR modifier;
	int fd;

	kt_banner("mesa-egl-dmabuf");
	fd = kt_open_driver("virtio_gpu", KT_PRIMARY);
	egl_init(&e, fd);
	egl_need_ext(eglQueryString(e.dpy, EGL_EXTENSIONS),
		     "EGL_MESA_image_dma_buf_export");
	CHECK(pExportDMABUFImageQueryMESA && pExportDMABUFImageMESA);

	bo = gbm_bo_create(e.gbm, W, H, GBM_FORMAT_ARGB8888,
			   GBM_BO_USE_RENDERING | GBM_BO_USE_SCANOUT |
				   GBM_BO_USE_LINEAR);
	CHECK(bo);
	d0 = gbm_bo_get_fd(bo);
	CHECK_INT(d0, >=, 0);

	/* Render a colour into the buffer and read it back. */
	img_a = egl_import(&e, d0, W, H, (int)gbm_bo_get_stride(bo));
	CHECK(img_a != EGL_NO_IMAGE_KHR);
	tex_a = egl_texture(img_a);
	fbo_a = egl_fbo(tex_a);
	glViewport(0, 0, W, H);
	glUseProgram(e.prog_color);
	glUniform4f(glGetUniformLocation(e.prog_color, "color"), 0.2f, 0.4f, 0.6f, 1.0f);
	egl_draw_quad(e.prog_color);
	glFinish();
	CHECK_OK(egl_probe(W, H, 51, 102, 153));
	test_pass("render-readback");

	/* Export the rendered image as a dma-buf ... */
	CHECK(eglExportDMABUFImageQueryMESA(e.dpy, img_a, &fourcc, &planes, &modifier));
	CHECK_INT(planes, ==, 1);
	CHECK(eglExportDMABUFImageMESA(e.dpy, img_a, &d1, &stride, &offset));
	CHECK_INT(d1, >=, 0);
	CHECK_INT(offset, ==, 0);
	CHECK_INT(fcntl(d1, F_GETFD), ==, FD_CLOEXEC);
	test_pass("export");

	/* ... import it again and sample it into a plain texture. */
	img_b = egl_import(&e, d1, W, H, stride);
	CHECK(img_b != EGL_NO_IMAGE_KHR);
	tex_b = egl_texture(img_b);
	glGenTextures(1, &tex_c);
	glBindTexture(GL_TEXTURE_2D, tex_c);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, W, H, 0, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
	fbo_c = egl_fbo(tex_c);
	glClearColor(0, 0, 0, 1);
	glClear(GL_COLOR_BUFFER_BIT);
	glActiveTexture(GL_TEXTURE0);
	glBindTexture(GL_TEXTURE_2D, tex_b);
	glUseProgram(e.prog_tex);
	glUniform1i(glGetUniformLocation(e.prog_tex, "tex"), 0);
	egl_draw_quad(e.prog_tex);
	glFinish();
	CHECK_OK(egl_probe(W, H, 51, 102, 153));
	test_pass("reimport-sample");

	glBindFramebuffer(GL_FRAMEBUFFER, 0);
	glDeleteFramebuffers(1, &fbo_a);
	glDeleteFramebuffers(1, &fbo_c);
	glDeleteTextures(1, &tex_a);
	glDeleteTextures(1, &tex_b);
	glDeleteTextures(1, &tex_c);
	CHECK(eglDestroyImageKHR(e.dpy, img_b));
	CHECK(eglDestroyImageKHR(e.dpy, img_a));
	close(d1);
	close(d0);
	gbm_bo_destroy(bo);
	egl_fini(&e);
	close(fd);
	CHECK_INT(test_fd_count(), ==, fds0);
	printf("RESULT: OK\n");
	return 0;
}
