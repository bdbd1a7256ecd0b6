/* SPDX-License-Identifier: MIT */
/*
 * A shws_bo's fences, the way a caller reaches them: shws_bo_export_dmabuf()
 * and the dma-buf sync_file calls on that dma-buf (these replaced
 * shws_bo_export/import_sync_file). On vgem: the dma-buf's fences are the
 * bo's GEM object's (vgem fences attached on the bo's handle show up in the
 * export; an import is seen through an independent dma-buf of the bo by
 * poll()); the sync calls create no fd but the sync_file (fd count); the
 * bo's dma-buf lives as long as the bo (bufinfo); the imported fd is
 * borrowed; bad input, an inherited bo after fork() and the forced
 * fallback get the documented errnos.
 */
#include <sys/wait.h>

#include <shws/shws.h>

#include "vgem_fence.h"

struct tbo {
	struct shws_file *file;
	struct shws_bo *bo;
	struct vbuf v; /* the bo's handle in the caller's vgem fd */
};

static struct tbo tbo_new(int vgem)
{
	struct tbo t = { .v = { .vgem = vgem, .dmabuf = -1 } };

	t.v.handle = kt_create_dumb(vgem, 64, 64, &t.v.size);
	CHECK_OK(shws_file_open(vgem, 0, SHWS_API_OTHER, &t.file));
	CHECK_OK(shws_bo_adopt(t.file, shws_file_fd(t.file), t.v.handle, t.v.size, SHWS_API_OTHER,
			       &t.bo));
	return t;
}

static void tbo_free(struct tbo *t)
{
	CHECK_OK(shws_bo_unref(t->bo, SHWS_API_OTHER));
	shws_file_unref(t->file, SHWS_API_OTHER);
}

/* Is the export with @flags of the bo's dma-buf already signalled? */
static int bo_ready(int dmabuf, unsigned flags)
{
	int fd = -1, ready;

	CHECK_OK(shws_dmabuf_export_sync_file(dmabuf, flags, &fd));
	CHECK(fd >= 0);
	CHECK(fd_cloexec(fd));
	ready = sf_signalled(fd);
	close(fd);
	return ready;
}

static void export_fences(int vgem)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count(), pending, with_bo;
	struct tbo t = tbo_new(vgem);
	uint32_t fence;
	int d;

	CHECK_INT(kt_dmabuf_count(), ==, bufs); /* never exported yet */
	CHECK_OK(shws_bo_export_dmabuf(t.bo, &d));
	with_bo = test_fd_count(); /* the file's dup and d */
	CHECK(bo_ready(d, SHWS_SYNC_READ));
	CHECK(bo_ready(d, SHWS_SYNC_RW));
	/* The first export created the bo's dma-buf. */
	CHECK_INT(kt_dmabuf_count(), ==, bufs + 1);
	CHECK_INT(test_fd_count(), ==, with_bo); /* only sync_files, closed */
	CHECK_INT(shws_dmabuf_import_sync_file(d, SHWS_SYNC_READ, -1), ==,
		  -EBADF);
	CHECK_INT(test_fd_count(), ==, with_bo); /* also on failure */

	/* A GPU writer on the bo's handle: everyone must wait. */
	fence = vf_attach(&t.v, 1);
	CHECK_OK(shws_dmabuf_export_sync_file(d, SHWS_SYNC_READ, &pending));
	CHECK(!sf_signalled(pending));
	CHECK(!bo_ready(d, SHWS_SYNC_WRITE));
	vf_signal(vgem, fence);
	CHECK(sf_signalled(pending));
	CHECK(bo_ready(d, SHWS_SYNC_READ));
	CHECK(bo_ready(d, SHWS_SYNC_WRITE));
	close(pending);

	/* A GPU reader: writers wait, readers do not. */
	fence = vf_attach(&t.v, 0);
	CHECK(bo_ready(d, SHWS_SYNC_READ));
	CHECK(!bo_ready(d, SHWS_SYNC_WRITE));
	vf_signal(vgem, fence);
	CHECK(bo_ready(d, SHWS_SYNC_WRITE));

	/* The bo's dma-buf stays with the bo after the fd is closed. */
	close(d);
	CHECK_INT(kt_dmabuf_count(), ==, bufs + 1);
	tbo_free(&t);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("export");
}

static void import_fences(int vgem)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count(), oracle;
	struct tbo t = tbo_new(vgem);
	struct vbuf other = vbuf_new(vgem);
	uint32_t fence;
	int sf, d;

	/* An independent view of the bo: its dma-buf, polled directly. */
	CHECK_OK(shws_bo_export_dmabuf(t.bo, &oracle));
	CHECK_OK(shws_bo_export_dmabuf(t.bo, &d));
	CHECK(fd_ready(oracle, POLLIN | POLLOUT));

	/* Another buffer's pending write, imported as a READ fence. */
	fence = vf_attach(&other, 1);
	sf = vf_sync_file(&other);
	CHECK_OK(shws_dmabuf_import_sync_file(d, SHWS_SYNC_READ, sf));
	CHECK(fd_ready(oracle, POLLIN));
	CHECK(!fd_ready(oracle, POLLOUT));
	CHECK(bo_ready(d, SHWS_SYNC_READ));
	CHECK(!bo_ready(d, SHWS_SYNC_WRITE));
	/* ... and as a WRITE fence: now readers wait too. */
	CHECK_OK(shws_dmabuf_import_sync_file(d, SHWS_SYNC_WRITE, sf));
	CHECK(!fd_ready(oracle, POLLIN));
	CHECK(!bo_ready(d, SHWS_SYNC_READ));
	/* Borrowed: the caller's fd is still open, and closing it keeps the
	 * fence on the bo. */
	CHECK(fd_cloexec(sf));
	close(sf);
	CHECK(!fd_ready(oracle, POLLIN));
	vf_signal(vgem, fence);
	CHECK(fd_ready(oracle, POLLIN | POLLOUT));
	CHECK(bo_ready(d, SHWS_SYNC_RW));

	close(d);
	close(oracle);
	vbuf_free(&other);
	tbo_free(&t);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("import");
}

static void bad_input(int vgem)
{
	int fds = test_fd_count(), p[2], out = 1234, closed, d;
	struct tbo t = tbo_new(vgem);

	CHECK_OK(shws_bo_export_dmabuf(t.bo, &d));
	/* No dma-buf (formerly a NULL bo): fd -1. */
	CHECK_INT(shws_dmabuf_export_sync_file(-1, SHWS_SYNC_READ, &out), ==,
		  -EBADF);
	CHECK_INT(shws_dmabuf_export_sync_file(d, 0, &out), ==, -EINVAL);
	CHECK_INT(shws_dmabuf_export_sync_file(d, 4, &out), ==, -EINVAL);
	CHECK_INT(shws_dmabuf_export_sync_file(d, SHWS_SYNC_READ, NULL), ==,
		  -EINVAL);
	CHECK_INT(out, ==, 1234); /* untouched on failure */

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	CHECK_INT(shws_dmabuf_import_sync_file(-1, SHWS_SYNC_READ, p[0]), ==,
		  -EBADF);
	CHECK_INT(shws_dmabuf_import_sync_file(d, 0, p[0]), ==, -EINVAL);
	CHECK_INT(shws_dmabuf_import_sync_file(d, SHWS_SYNC_READ, p[0]), ==,
		  -EINVAL);
	CHECK_INT(shws_dmabuf_import_sync_file(d, SHWS_SYNC_READ, -1), ==,
		  -EBADF);
	closed = dup(p[1]);
	CHECK_SYS(closed);
	close(closed);
	CHECK_INT(shws_dmabuf_import_sync_file(d, SHWS_SYNC_WRITE, closed), ==,
		  -EBADF);
	close(p[0]);
	close(p[1]);

	close(d);
	tbo_free(&t);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("bad-input");
}

/* In a child, the inherited bo gives no dma-buf (so no fence either). */
static void after_fork(int vgem)
{
	struct tbo t = tbo_new(vgem);
	int status, sf = -1, d;
	pid_t pid;

	CHECK_OK(shws_bo_export_dmabuf(t.bo, &d));
	CHECK_OK(shws_dmabuf_export_sync_file(d, SHWS_SYNC_READ, &sf));
	close(d);
	fflush(stdout);
	pid = fork();

	CHECK_SYS(pid);
	if (pid == 0) {
		int out = 1234;

		if (shws_bo_export_dmabuf(t.bo, &out) != -ECHILD)
			_exit(1);
		/* The inherited sync_file is the kernel's: still one. */
		_exit(shws_sync_file_check(sf) ? 2 : 0);
	}
	close(sf);
	CHECK_SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), ==, 0);
	/* The parent's bo still works. */
	CHECK_OK(shws_bo_export_dmabuf(t.bo, &d));
	CHECK_OK(shws_dmabuf_export_sync_file(d, SHWS_SYNC_READ, &sf));
	close(sf);
	close(d);
	tbo_free(&t);
	test_pass("after-fork");
}

/* Run by main() in a child with SHWS_DMABUF_SYNC=fallback. */
static int fallback(void)
{
	int vgem = kt_open_driver("vgem", KT_PRIMARY);
	int fds = test_fd_count(), out = 1234;
	struct tbo t = tbo_new(vgem);
	struct vbuf other = vbuf_new(vgem);
	int sf = vf_sync_file(&other), d;

	CHECK_OK(shws_bo_export_dmabuf(t.bo, &d));
	CHECK_INT(shws_dmabuf_export_sync_file(d, SHWS_SYNC_READ, &out), ==,
		  -EOPNOTSUPP);
	CHECK_INT(out, ==, 1234);
	CHECK_INT(shws_dmabuf_import_sync_file(d, SHWS_SYNC_WRITE, sf), ==,
		  -EOPNOTSUPP);
	close(d);
	close(sf);
	vbuf_free(&other);
	tbo_free(&t);
	CHECK_INT(test_fd_count(), ==, fds);
	close(vgem);
	test_pass("fallback-eopnotsupp");
	return 0;
}

int main(int argc, char **argv)
{
	int fds, vgem, status;
	pid_t pid;

	if (argc == 2 && !strcmp(argv[1], "--fallback"))
		return fallback();

	kt_banner("sync-bo");
	fds = test_fd_count();
	vgem = kt_open_driver("vgem", KT_PRIMARY);
	export_fences(vgem);
	import_fences(vgem);
	bad_input(vgem);
	after_fork(vgem);
	close(vgem);
	CHECK_INT(test_fd_count(), ==, fds);

	/* SHWS_DMABUF_SYNC is read once per process: a fresh one. */
	fflush(stdout);
	pid = fork();
	CHECK_SYS(pid);
	if (pid == 0) {
		setenv("SHWS_DMABUF_SYNC", "fallback", 1);
		execl("/proc/self/exe", argv[0], "--fallback", (char *)NULL);
		_exit(127);
	}
	CHECK_SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), ==, 0);
	test_pass("sync-bo");
	return 0;
}
