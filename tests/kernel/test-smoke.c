/* SPDX-License-Identifier: MIT */
/*
 * The first kernel fact test: both DRM drivers are there, and PRIME
 * re-import of a buffer's own dma-buf returns the handle the file already
 * has (the kernel fact the whole handle table rests on).
 */
#include "kt.h"

static void prime_roundtrip(const char *driver)
{
	char name[64];
	int fd = kt_open_driver(driver, KT_PRIMARY);
	uint64_t size;
	uint32_t handle, again;
	int dmabuf;

	CHECK(!strcmp(kt_driver_name(fd, name, sizeof(name)), driver));
	printf("%s: driver %s\n", driver, name);

	handle = kt_create_dumb(fd, 64, 64, &size);
	CHECK_INT(handle, >, 0);
	CHECK_INT(size, >=, 64 * 64 * 4);

	CHECK_SYS(drmPrimeHandleToFD(fd, handle, DRM_CLOEXEC | DRM_RDWR,
				     &dmabuf));
	CHECK_INT(dmabuf, >=, 0);
	CHECK_INT(kt_dmabuf_count(), >=, 1);

	CHECK_SYS(drmPrimeFDToHandle(fd, dmabuf, &again));
	CHECK_INT(again, ==, handle);
	printf("%s: dumb handle %u -> dma-buf fd %d -> handle %u\n", driver,
	       handle, dmabuf, again);

	close(dmabuf);
	CHECK_SYS(drmCloseBufferHandle(fd, handle));
	close(fd);
}

int main(void)
{
	int fds = test_fd_count();
	int bufs;

	kt_banner("smoke");
	bufs = kt_dmabuf_count();
	prime_roundtrip("vgem");
	prime_roundtrip("virtio_gpu");
	/* Last handle closed and fd closed: the dma-buf is gone. */
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("smoke");
	return 0;
}
