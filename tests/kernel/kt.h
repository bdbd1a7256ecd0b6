/* SPDX-License-Identifier: MIT */
/*
 * Helpers for kernel tests: they run inside the test VM (tests/vm/run), where
 * vgem and virtio_gpu are loaded. Every helper fails the test on error;
 * nothing here skips.
 */
#ifndef SHWS_KT_H
#define SHWS_KT_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <xf86drm.h>

#include "test.h"

enum kt_node {
	KT_PRIMARY = 1, /* /dev/dri/cardN */
	KT_RENDER = 2,  /* /dev/dri/renderDN */
};

/* The driver name behind a DRM fd, e.g. "vgem". Fails the test on error. */
static inline const char *kt_driver_name(int fd, char *buf, size_t len)
{
	drmVersionPtr v = drmGetVersion(fd);

	if (!v)
		test_fail("drmGetVersion(%d): %s", fd, strerror(errno));
	snprintf(buf, len, "%s", v->name);
	drmFreeVersion(v);
	return buf;
}

/* Opens (O_RDWR|O_CLOEXEC) the first node of that kind whose driver is
 * @driver. Each call is a new open file description. */
static inline int kt_open_driver(const char *driver, enum kt_node node)
{
	const char *prefix = node == KT_PRIMARY ? "card" : "renderD";
	int base = node == KT_PRIMARY ? 0 : 128;
	char path[64], name[64];

	for (int i = base; i < base + 16; i++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/%s%d", prefix, i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!strcmp(kt_driver_name(fd, name, sizeof(name)), driver))
			return fd;
		close(fd);
	}
	test_fail("no %s node for driver %s (is this the test VM?)",
		  node == KT_PRIMARY ? "primary" : "render", driver);
}

/* A dumb buffer of @size bytes (width = size / 4, height 1, 32 bpp). */
static inline uint32_t kt_create_dumb(int fd, uint32_t width, uint32_t height,
				      uint64_t *size_out)
{
	struct drm_mode_create_dumb c = { .width = width, .height = height,
					  .bpp = 32 };

	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		test_fail("CREATE_DUMB: %s", strerror(errno));
	if (size_out)
		*size_out = c.size;
	return c.handle;
}

/* A 64 x 64 (32 bpp) dumb buffer through @fd whose words read seed + i;
 * returns its handle. */
#define KT_PATTERN_SIZE (64 * 64 * 4)

static inline uint32_t kt_make_pattern(int fd, uint32_t seed)
{
	uint64_t size;
	uint32_t handle = kt_create_dumb(fd, 64, 64, &size);
	struct drm_mode_map_dumb m = { .handle = handle };
	uint32_t *p;

	CHECK_INT(size, >=, KT_PATTERN_SIZE);
	if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m))
		test_fail("MAP_DUMB: %s", strerror(errno));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)m.offset);
	if (p == MAP_FAILED)
		test_fail("mmap of a dumb buffer: %s", strerror(errno));
	for (uint64_t i = 0; i < size / 4; i++)
		p[i] = seed + (uint32_t)i;
	munmap(p, size);
	return handle;
}

/* Live dma-bufs system-wide, from debugfs (the leak oracle). */
static inline int kt_dmabuf_count(void)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	char line[512];
	int n = -1;

	if (!f)
		test_fail("bufinfo: %s (debugfs not mounted?)", strerror(errno));
	/* Each object has its own "Total N devices attached" line; the last
	 * line is "Total N objects, M bytes". */
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " objects, "))
			sscanf(line, "Total %d objects", &n);
	fclose(f);
	if (n < 0)
		test_fail("bufinfo has no Total line");
	return n;
}

/* Prints the kernel release so every kernel test's log shows where it ran. */
static inline void kt_banner(const char *test)
{
	struct utsname u;

	uname(&u);
	printf("%s: kernel %s %s\n", test, u.sysname, u.release);
}

/* 1 if the running kernel is older than @major.@minor. The test bed has two
 * kernels, 6.1 and 6.12 (docs/testing.md); tests that see a kernel fact
 * differ between them assert the fact for the kernel they run on
 * (docs/kernel-facts.md). */
static inline int kt_kernel_before(int major, int minor)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (uname(&u))
		test_fail("uname: %s", strerror(errno));
	if (sscanf(u.release, "%d.%d", &maj, &min) != 2)
		test_fail("cannot parse the kernel release '%s'", u.release);
	return maj < major || (maj == major && min < minor);
}

#endif
