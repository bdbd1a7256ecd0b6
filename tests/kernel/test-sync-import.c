/* SPDX-License-Identifier: MIT */
/*
 * shws_dmabuf_import_sync_file: a READ import is seen by later writers
 * only, a WRITE import by everyone (checked through later exports and
 * through poll() on the dma-buf); a signalled sync_file changes nothing;
 * bad input gets the documented errno.
 */
#include <fcntl.h>

#include <shws/shws.h>

#include "vgem_fence.h"

/* A pending sync_file: a vgem write fence on a scratch buffer. */
struct pending {
	struct vbuf buf;
	uint32_t fence;
	int sync_file;
};

static struct pending pending_new(int vgem)
{
	struct pending p = { .buf = vbuf_new(vgem) };

	p.fence = vf_attach(&p.buf, 1);
	CHECK_OK(shws_dmabuf_export_sync_file(p.buf.dmabuf, SHWS_SYNC_WRITE,
					      &p.sync_file));
	CHECK(!sf_signalled(p.sync_file));
	return p;
}

static void pending_signal(struct pending *p)
{
	vf_signal(p->buf.vgem, p->fence);
	CHECK(sf_signalled(p->sync_file));
}

static void pending_free(struct pending *p)
{
	close(p->sync_file);
	vbuf_free(&p->buf);
}

static int export_ready(const struct vbuf *b, unsigned flags)
{
	int fd, ready;

	CHECK_OK(shws_dmabuf_export_sync_file(b->dmabuf, flags, &fd));
	ready = sf_signalled(fd);
	close(fd);
	return ready;
}

static void test_import(int vgem, unsigned flags, const char *name)
{
	struct vbuf b = vbuf_new(vgem);
	struct pending p = pending_new(vgem);
	int write = flags & SHWS_SYNC_WRITE;

	CHECK(export_ready(&b, SHWS_SYNC_READ));
	CHECK_OK(shws_dmabuf_import_sync_file(b.dmabuf, flags, p.sync_file));
	/* Borrowed: the caller's fd is still open and still the sync_file. */
	CHECK_OK(shws_sync_file_check(p.sync_file));

	/* Readers wait only for a write fence; writers for any fence. */
	CHECK_INT(export_ready(&b, SHWS_SYNC_READ), ==, !write);
	CHECK(!export_ready(&b, SHWS_SYNC_WRITE));
	CHECK_INT(fd_ready(b.dmabuf, POLLIN), ==, !write);
	CHECK(!fd_ready(b.dmabuf, POLLOUT));

	pending_signal(&p);
	CHECK(export_ready(&b, SHWS_SYNC_READ));
	CHECK(export_ready(&b, SHWS_SYNC_WRITE));
	CHECK(fd_ready(b.dmabuf, POLLOUT));
	pending_free(&p);
	vbuf_free(&b);
	test_pass(name);
}

/* The dma-buf keeps its own reference: closing the sync_file right after
 * import does not drop the fence. */
static void test_import_then_close(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	struct pending p = pending_new(vgem);
	int dup_fd = fcntl(p.sync_file, F_DUPFD_CLOEXEC, 0);

	CHECK_INT(dup_fd, >=, 0);
	CHECK_OK(shws_dmabuf_import_sync_file(b.dmabuf, SHWS_SYNC_WRITE,
					      dup_fd));
	close(dup_fd);
	CHECK(!export_ready(&b, SHWS_SYNC_READ));
	pending_signal(&p);
	CHECK(export_ready(&b, SHWS_SYNC_READ));
	pending_free(&p);
	vbuf_free(&b);
	test_pass("import-fd-borrowed");
}

static void test_import_signalled(int vgem)
{
	struct vbuf b = vbuf_new(vgem), idle = vbuf_new(vgem);
	int stub;

	CHECK_OK(shws_dmabuf_export_sync_file(idle.dmabuf, SHWS_SYNC_RW, &stub));
	CHECK(sf_signalled(stub));
	CHECK_OK(shws_dmabuf_import_sync_file(b.dmabuf, SHWS_SYNC_WRITE, stub));
	CHECK_OK(shws_dmabuf_import_sync_file(b.dmabuf, SHWS_SYNC_READ, stub));
	CHECK(export_ready(&b, SHWS_SYNC_WRITE));
	CHECK(fd_ready(b.dmabuf, POLLOUT));
	close(stub);
	vbuf_free(&idle);
	vbuf_free(&b);
	test_pass("import-signalled-no-effect");
}

static void test_bad_input(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	int sf, p[2], closed;

	CHECK_OK(shws_dmabuf_export_sync_file(b.dmabuf, SHWS_SYNC_READ, &sf));
	CHECK_SYS(pipe2(p, O_CLOEXEC));
	closed = dup(sf);
	close(closed);

	CHECK_INT(shws_dmabuf_import_sync_file(b.dmabuf, 0, sf), ==, -EINVAL);
	CHECK_INT(shws_dmabuf_import_sync_file(b.dmabuf, 5, sf), ==, -EINVAL);
	/* Not a sync_file: a pipe, a dma-buf, a DRM fd. */
	CHECK_INT(shws_dmabuf_import_sync_file(b.dmabuf, SHWS_SYNC_READ, p[0]),
		  ==, -EINVAL);
	CHECK_INT(shws_dmabuf_import_sync_file(b.dmabuf, SHWS_SYNC_READ,
					       b.dmabuf),
		  ==, -EINVAL);
	CHECK_INT(shws_dmabuf_import_sync_file(b.dmabuf, SHWS_SYNC_WRITE, vgem),
		  ==, -EINVAL);
	CHECK_INT(shws_dmabuf_import_sync_file(b.dmabuf, SHWS_SYNC_WRITE,
					       closed),
		  ==, -EBADF);
	CHECK_INT(shws_dmabuf_import_sync_file(b.dmabuf, SHWS_SYNC_WRITE, -1),
		  ==, -EBADF);
	/* Not a dma-buf on the other side. */
	CHECK_INT(shws_dmabuf_import_sync_file(sf, SHWS_SYNC_WRITE, sf), ==,
		  -ENOTTY);
	CHECK_INT(shws_dmabuf_import_sync_file(vgem, SHWS_SYNC_WRITE, sf), ==,
		  -ENOTTY);
	/* None of that left a fence behind. */
	CHECK(fd_ready(b.dmabuf, POLLOUT));

	close(p[0]);
	close(p[1]);
	close(sf);
	vbuf_free(&b);
	test_pass("import-bad-input");
}

int main(void)
{
	int fds = test_fd_count(), bufs, vgem;

	kt_banner("sync-import");
	unsetenv("SHWS_DMABUF_SYNC");
	bufs = kt_dmabuf_count();
	vgem = kt_open_driver("vgem", KT_PRIMARY);
	test_import(vgem, SHWS_SYNC_READ, "import-read");
	test_import(vgem, SHWS_SYNC_WRITE, "import-write");
	test_import(vgem, SHWS_SYNC_RW, "import-rw-is-write");
	test_import_then_close(vgem);
	test_import_signalled(vgem);
	test_bad_input(vgem);
	close(vgem);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("sync-import");
	return 0;
}
