/* SPDX-License-Identifier: MIT */
/*
 * sync_file utilities on real fences: shws_sync_file_check, shws_sync_file_info
 * (status, count, names, per-fence entries), shws_sync_file_merge (name
 * kept, duplicates and signalled fences dropped) and shws_sync_file_wait
 * (timeout, then success once signalled); and fd classification
 * (src/fd_kind.h) of real dma-bufs and sync_files.
 */
#include <fcntl.h>

#include <shws/shws.h>

#include "fd_kind.h"
#include "vgem_fence.h"

struct job {
	struct vbuf buf;
	uint32_t fence;
	int sync_file;
};

/* A pending "GPU job": a vgem write fence, as a sync_file. */
static struct job job_new(int vgem)
{
	struct job j = { .buf = vbuf_new(vgem) };

	j.fence = vf_attach(&j.buf, 1);
	CHECK_OK(shws_dmabuf_export_sync_file(j.buf.dmabuf, SHWS_SYNC_READ,
					      &j.sync_file));
	return j;
}

static void job_free(struct job *j)
{
	close(j->sync_file);
	vbuf_free(&j->buf);
}

static struct shws_sync_file_info info_of(int fd)
{
	struct shws_sync_file_info info;

	memset(&info, 0xaa, sizeof(info));
	CHECK_OK(shws_sync_file_info(fd, &info, NULL, 0));
	CHECK(memchr(info.name, '\0', sizeof(info.name)));
	return info;
}

static void test_sync_file_check(int vgem)
{
	struct job j = job_new(vgem);

	CHECK_OK(shws_sync_file_check(j.sync_file));
	CHECK_INT(shws_sync_file_check(j.buf.dmabuf), ==, -EINVAL);
	CHECK_INT(shws_sync_file_check(vgem), ==, -EINVAL);
	vf_signal(vgem, j.fence);
	CHECK_OK(shws_sync_file_check(j.sync_file));
	job_free(&j);
	test_pass("sync-file-check");
}

/* The kinds a kernel is needed for (the others: unit-fd-kind), and the
 * two users of the classification agree: the sync calls and
 * shws_identity_dmabuf_ino(). */
static void test_fd_kind(int vgem)
{
	struct job j = job_new(vgem);
	struct vbuf idle = vbuf_new(vgem);
	struct stat st;
	bool own = false;
	uint64_t ino;
	int stub, merged, closed;

	int32_t status = 77;

	CHECK_INT(shws_fd_kind(j.sync_file), ==, SHWS_FD_SYNC_FILE);
	/* The status word comes with the identification. */
	CHECK_INT(shws_fd_kind_sync_status(j.sync_file, &status), ==,
		  SHWS_FD_SYNC_FILE);
	CHECK_INT(status, ==, 0); /* pending */
	status = 77;
	CHECK_INT(shws_fd_kind_sync_status(j.buf.dmabuf, &status), ==,
		  SHWS_FD_DMABUF);
	CHECK_INT(status, ==, 77);
	CHECK_INT(shws_fd_kind(j.buf.dmabuf), ==, SHWS_FD_DMABUF);
	CHECK_INT(shws_fd_kind(vgem), ==, SHWS_FD_OTHER); /* a DRM fd */
	/* A signalled stub and a merge are sync_files too. */
	CHECK_OK(shws_dmabuf_export_sync_file(idle.dmabuf, SHWS_SYNC_RW,
					      &stub));
	CHECK_INT(shws_fd_kind(stub), ==, SHWS_FD_SYNC_FILE);
	CHECK_OK(shws_sync_file_merge(NULL, stub, j.sync_file, &merged));
	CHECK_INT(shws_fd_kind(merged), ==, SHWS_FD_SYNC_FILE);

	/* With a known st_dev (6.1: the dma-buf filesystem, own inodes). */
	CHECK_SYS(fstat(j.buf.dmabuf, &st));
	CHECK_INT(shws_fd_kind_stat(j.buf.dmabuf, &st, &own), ==,
		  SHWS_FD_DMABUF);
	CHECK(own);
	own = false;
	CHECK_SYS(fstat(idle.dmabuf, &st));
	CHECK_INT(shws_fd_kind_stat(idle.dmabuf, &st, &own), ==,
		  SHWS_FD_DMABUF);
	CHECK(own);
	CHECK_SYS(fstat(stub, &st));
	CHECK_INT(shws_fd_kind_stat(stub, &st, NULL), ==, SHWS_FD_SYNC_FILE);
	CHECK_SYS(fstat(vgem, &st));
	CHECK_INT(shws_fd_kind_stat(vgem, &st, NULL), ==, SHWS_FD_OTHER);

	/* The identity call accepts exactly the dma-bufs. */
	CHECK_OK(shws_identity_dmabuf_ino(j.buf.dmabuf, &ino));
	CHECK_INT(shws_identity_dmabuf_ino(stub, &ino), ==, -EINVAL);
	CHECK_INT(shws_identity_dmabuf_ino(vgem, &ino), ==, -EINVAL);

	CHECK_INT(shws_fd_kind_sync_status(stub, &status), ==,
		  SHWS_FD_SYNC_FILE);
	CHECK_INT(status, ==, 1); /* signalled */
	closed = CHECK_SYS(dup(stub));
	close(closed);
	CHECK_INT(shws_fd_kind(closed), ==, -EBADF);
	close(merged);
	close(stub);
	vf_signal(vgem, j.fence);
	job_free(&j);
	vbuf_free(&idle);
	test_pass("fd-kind");
}

static void test_info(int vgem)
{
	struct job j = job_new(vgem);
	struct shws_sync_fence_info fences[4];
	struct shws_sync_file_info info = info_of(j.sync_file);

	CHECK_INT(info.status, ==, 0);
	CHECK_INT(info.num_fences, ==, 1);
	printf("pending export: name '%s', %u fence(s)\n", info.name,
	       info.num_fences);

	memset(fences, 0xaa, sizeof(fences));
	CHECK_OK(shws_sync_file_info(j.sync_file, &info, fences, 4));
	CHECK_INT(info.num_fences, ==, 1);
	CHECK(!strcmp(fences[0].driver_name, "vgem"));
	CHECK_INT(fences[0].status, ==, 0);
	CHECK_INT(fences[0].timestamp_ns, ==, 0);
	CHECK_INT((unsigned char)fences[1].driver_name[0], ==, 0xaa);
	printf("fence 0: driver '%s' timeline '%s'\n", fences[0].driver_name,
	       fences[0].timeline_name);

	vf_signal(vgem, j.fence);
	CHECK_OK(shws_sync_file_info(j.sync_file, &info, fences, 1));
	CHECK_INT(info.status, ==, 1);
	CHECK_INT(fences[0].status, ==, 1);
	CHECK_INT(fences[0].timestamp_ns, >, 0);
	job_free(&j);
	test_pass("info-status-count-names");
}

static void test_stub(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	struct shws_sync_file_info info;
	int stub;

	CHECK_OK(shws_dmabuf_export_sync_file(b.dmabuf, SHWS_SYNC_RW, &stub));
	info = info_of(stub);
	CHECK_INT(info.status, ==, 1);
	CHECK_INT(info.num_fences, >=, 1);
	CHECK_OK(shws_sync_file_wait(stub, 0));
	CHECK_OK(shws_sync_file_wait(stub, -1));
	close(stub);
	vbuf_free(&b);
	test_pass("stub-is-signalled");
}

static void test_merge(int vgem)
{
	struct job a = job_new(vgem), b = job_new(vgem);
	struct shws_sync_file_info info;
	int self, both, after, fd_a_dup;

	/* The same fence twice is kept once. */
	CHECK_OK(shws_sync_file_merge("self", a.sync_file, a.sync_file, &self));
	CHECK(fd_cloexec(self));
	info = info_of(self);
	CHECK(!strcmp(info.name, "self"));
	CHECK_INT(info.num_fences, ==, 1);

	/* Two exports of one buffer carry the same fence: still one. */
	CHECK_OK(shws_dmabuf_export_sync_file(a.buf.dmabuf, SHWS_SYNC_WRITE,
					      &fd_a_dup));
	close(self);
	CHECK_OK(shws_sync_file_merge(NULL, a.sync_file, fd_a_dup, &self));
	info = info_of(self);
	CHECK(!strcmp(info.name, "shws-merge"));
	CHECK_INT(info.num_fences, ==, 1);
	close(fd_a_dup);

	/* Two different fences: two, and it waits for both. */
	CHECK_OK(shws_sync_file_merge("a name longer than thirty-one bytes",
				      a.sync_file, b.sync_file, &both));
	info = info_of(both);
	CHECK_INT(info.num_fences, ==, 2);
	CHECK_INT(strlen(info.name), ==, SHWS_SYNC_NAME_LEN - 1);
	CHECK(!strncmp(info.name, "a name longer than", 18));
	vf_signal(vgem, a.fence);
	CHECK(sf_signalled(self));
	CHECK(!sf_signalled(both));

	/* A signalled fence is dropped from a merge. */
	CHECK_OK(shws_sync_file_merge("after", a.sync_file, b.sync_file,
				      &after));
	CHECK_INT(info_of(after).num_fences, ==, 1);
	vf_signal(vgem, b.fence);
	CHECK(sf_signalled(both));
	CHECK(sf_signalled(after));

	close(self);
	close(both);
	close(after);
	job_free(&a);
	job_free(&b);
	test_pass("merge-dedupe-name");
}

static void test_wait(int vgem)
{
	struct job j = job_new(vgem);
	int64_t t0;

	CHECK_INT(shws_sync_file_wait(j.sync_file, 0), ==, -ETIME);
	t0 = mono_ms();
	CHECK_INT(shws_sync_file_wait(j.sync_file, 100), ==, -ETIME);
	/* A lower bound only: it must not give up early. */
	CHECK_INT(mono_ms() - t0, >=, 100);
	vf_signal(vgem, j.fence);
	CHECK_OK(shws_sync_file_wait(j.sync_file, 0));
	CHECK_OK(shws_sync_file_wait(j.sync_file, 100));
	job_free(&j);
	test_pass("wait-timeout");
}

static void test_bad_input(int vgem)
{
	struct vbuf b = vbuf_new(vgem);
	struct shws_sync_file_info info;
	int out = 777;

	CHECK_INT(shws_sync_file_wait(b.dmabuf, 0), ==, -EINVAL);
	CHECK_INT(shws_sync_file_wait(vgem, 0), ==, -EINVAL);
	CHECK_INT(shws_sync_file_info(b.dmabuf, &info, NULL, 0), ==, -EINVAL);
	CHECK_INT(shws_sync_file_info(vgem, &info, NULL, 0), ==, -EINVAL);
	CHECK_INT(shws_sync_file_merge("x", vgem, vgem, &out), ==, -EINVAL);
	CHECK_INT(shws_sync_file_merge("x", b.dmabuf, b.dmabuf, &out), ==,
		  -EINVAL);
	CHECK_INT(out, ==, 777);
	vbuf_free(&b);
	test_pass("sync-file-bad-input");
}

int main(void)
{
	int fds = test_fd_count(), bufs, vgem;

	kt_banner("sync-file");
	bufs = kt_dmabuf_count();
	vgem = kt_open_driver("vgem", KT_PRIMARY);
	test_sync_file_check(vgem);
	test_fd_kind(vgem);
	test_info(vgem);
	test_stub(vgem);
	test_merge(vgem);
	test_wait(vgem);
	test_bad_input(vgem);
	close(vgem);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("sync-file");
	return 0;
}
