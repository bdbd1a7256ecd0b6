/* SPDX-License-Identifier: MIT */
/* EGL on GBM with a surfaceless GLES2 context, for the Mesa tests. */
#ifndef SHWS_MESA_EGL_COMMON_H
#define SHWS_MESA_EGL_COMMON_H

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>
#include <drm_fourcc.h>
#include <gbm.h>
#include <stdlib.h>
#include <string.h>

#include "kt.h"

/* Extension entry points: only through eglGetProcAddress(). */
static PFNEGLCREATEIMAGEKHRPROC pCreateImageKHR;
static PFNEGLDESTROYIMAGEKHRPROC pDestroyImageKHR;
static PFNEGLEXPORTDMABUFIMAGEQUERYMESAPROC pExportDMABUFImageQueryMESA;
static PFNEGLEXPORTDMABUFIMAGEMESAPROC pExportDMABUFImageMESA;
static PFNGLEGLIMAGETARGETTEXTURE2DOESPROC pEGLImageTargetTexture2DOES;
#define eglCreateImageKHR pCreateImageKHR
#define eglDestroyImageKHR pDestroyImageKHR
#define eglExportDMABUFImageQueryMESA pExportDMABUFImageQueryMESA
#define eglExportDMABUFImageMESA pExportDMABUFImageMESA
#define glEGLImageTargetTexture2DOES pEGLImageTargetTexture2DOES

struct egl {
	struct gbm_device *gbm;
	EGLDisplay dpy;
	EGLContext ctx;
	GLuint prog_color, prog_tex;
};

static inline void egl_need_ext(const char *exts, const char *ext)
{
	if (!exts || !strstr(exts, ext))
		test_fail("missing %s", ext);
}

static inline GLuint egl_shader(GLenum type, const char *src)
{
	GLuint s = glCreateShader(type);
	GLint ok = 0;

	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	CHECK(ok);
	return s;
}

static inline GLuint egl_program(const char *fs)
{
	static const char vs[] =
		"attribute vec2 pos;\n"
		"varying vec2 uv;\n"
		"void main() { uv = pos * 0.5 + 0.5; gl_Position = vec4(pos, 0.0, 1.0); }\n";
	GLuint p = glCreateProgram();
	GLint ok = 0;

	glAttachShader(p, egl_shader(GL_VERTEX_SHADER, vs));
	glAttachShader(p, egl_shader(GL_FRAGMENT_SHADER, fs));
	glBindAttribLocation(p, 0, "pos");
	glLinkProgram(p);
	glGetProgramiv(p, GL_LINK_STATUS, &ok);
	CHECK(ok);
	return p;
}

static inline void egl_init(struct egl *e, int fd)
{
	static const EGLint ctx_attr[] = { EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE };
	EGLint major, minor;

	e->gbm = gbm_create_device(fd);
	CHECK(e->gbm);
	egl_need_ext(eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS),
		     "EGL_KHR_platform_gbm");
	e->dpy = eglGetPlatformDisplay(EGL_PLATFORM_GBM_KHR, e->gbm, NULL);
	CHECK(e->dpy != EGL_NO_DISPLAY);
	CHECK(eglInitialize(e->dpy, &major, &minor));
	egl_need_ext(eglQueryString(e->dpy, EGL_EXTENSIONS), "EGL_KHR_surfaceless_context");
	egl_need_ext(eglQueryString(e->dpy, EGL_EXTENSIONS), "EGL_EXT_image_dma_buf_import");
	CHECK(eglBindAPI(EGL_OPENGL_ES_API));
	e->ctx = eglCreateContext(e->dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, ctx_attr);
	CHECK(e->ctx != EGL_NO_CONTEXT);
	CHECK(eglMakeCurrent(e->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, e->ctx));
	egl_need_ext((const char *)glGetString(GL_EXTENSIONS), "GL_OES_EGL_image");
	pCreateImageKHR = (PFNEGLCREATEIMAGEKHRPROC)eglGetProcAddress("eglCreateImageKHR");
	pDestroyImageKHR = (PFNEGLDESTROYIMAGEKHRPROC)eglGetProcAddress("eglDestroyImageKHR");
	pExportDMABUFImageQueryMESA = (PFNEGLEXPORTDMABUFIMAGEQUERYMESAPROC)
		eglGetProcAddress("eglExportDMABUFImageQueryMESA");
	pExportDMABUFImageMESA = (PFNEGLEXPORTDMABUFIMAGEMESAPROC)
		eglGetProcAddress("eglExportDMABUFImageMESA");
	pEGLImageTargetTexture2DOES = (PFNGLEGLIMAGETARGETTEXTURE2DOESPROC)
		eglGetProcAddress("glEGLImageTargetTexture2DOES");
	CHECK(pCreateImageKHR && pDestroyImageKHR && pEGLImageTargetTexture2DOES);
	printf("EGL %d.%d, GL_RENDERER %s, GL_VERSION %s\n", major, minor,
	       (const char *)glGetString(GL_RENDERER),
	       (const char *)glGetString(GL_VERSION));
	e->prog_color = egl_program("precision mediump float;\n"
				    "uniform vec4 color;\n"
				    "void main() { gl_FragColor = color; }\n");
	e->prog_tex = egl_program("precision mediump float;\n"
				  "uniform sampler2D tex;\n"
				  "varying vec2 uv;\n"
				  "void main() { gl_FragColor = texture2D(tex, uv); }\n");
}

static inline void egl_fini(struct egl *e)
{
	eglMakeCurrent(e->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroyContext(e->dpy, e->ctx);
	eglTerminate(e->dpy);
	eglReleaseThread();
	gbm_device_destroy(e->gbm);
}

/* An EGLImage of a single-plane ARGB8888 dma-buf (@fd borrowed). */
static inline EGLImageKHR egl_import(struct egl *e, int fd, int w, int h,
				     int stride)
{
	const EGLint attr[] = {
		EGL_WIDTH, w, EGL_HEIGHT, h,
		EGL_LINUX_DRM_FOURCC_EXT, DRM_FORMAT_ARGB8888,
		EGL_DMA_BUF_PLANE0_FD_EXT, fd,
		EGL_DMA_BUF_PLANE0_OFFSET_EXT, 0,
		EGL_DMA_BUF_PLANE0_PITCH_EXT, stride,
		EGL_NONE,
	};

	return eglCreateImageKHR(e->dpy, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT,
				 NULL, attr);
}

/* A texture bound to @img (GL_OES_EGL_image). */
static inline GLuint egl_texture(EGLImageKHR img)
{
	GLuint tex;

	glGenTextures(1, &tex);
	glBindTexture(GL_TEXTURE_2D, tex);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
	glEGLImageTargetTexture2DOES(GL_TEXTURE_2D, img);
	CHECK_INT(glGetError(), ==, GL_NO_ERROR);
	return tex;
}

/* An FBO rendering into @tex. */
static inline GLuint egl_fbo(GLuint tex)
{
	GLuint fbo;

	glGenFramebuffers(1, &fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, fbo);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
			       GL_TEXTURE_2D, tex, 0);
	CHECK_INT(glCheckFramebufferStatus(GL_FRAMEBUFFER), ==,
		  GL_FRAMEBUFFER_COMPLETE);
	return fbo;
}

static inline void egl_draw_quad(GLuint prog)
{
	static const GLfloat quad[] = { -1, -1, 1, -1, -1, 1, 1, 1 };

	glUseProgram(prog);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, quad);
	glEnableVertexAttribArray(0);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
}

/* Checks every pixel of the bound framebuffer against r,g,b (+-2). */
static inline int egl_probe(int w, int h, int r, int g, int b)
{
	unsigned char *px = malloc((size_t)w * h * 4);
	int bad = 0;

	CHECK(px);
	glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px);
	CHECK_INT(glGetError(), ==, GL_NO_ERROR);
	for (int i = 0; i < w * h && !bad; i++)
		if (abs(px[4 * i] - r) > 2 || abs(px[4 * i + 1] - g) > 2 ||
		    abs(px[4 * i + 2] - b) > 2) {
			printf("pixel %d: %d,%d,%d, expected %d,%d,%d\n", i,
			       px[4 * i], px[4 * i + 1], px[4 * i + 2], r, g, b);
			bad = 1;
		}
	free(px);
	return bad ? -1 : 0;
}

#endif
