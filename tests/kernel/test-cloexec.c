/* SPDX-License-Identifier: MIT */
/*
 * fd hygiene: everything shws creates is CLOEXEC. After heavy use (files
 * on both devices, a private file, imports, exports, flink, translations,
 * sync_files, merges, WSI acquire, identity probes), with all of it still
 * open, the test fork()s and exec()s itself; the child lists
 * /proc/self/fd and fails on any fd but stdio and one control fd the
 * parent deliberately left inheritable (which proves the check can see an
 * inherited fd).
 */
#include <sys/wait.h>

#include "test-bo-common.h"
#include "vgem_fence.h"

#define SEED 0xc10e0000u

static int child_main(int control)
{
	DIR *d = opendir("/proc/self/fd");
	bool saw_control = false;
	struct dirent *e;
	int bad = 0;

	if (!d)
		return 3;
	while ((e = readdir(d))) {
		char link[64], target[256];
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd <= 2 || fd == dirfd(d))
			continue;
		if (fd == control) {
			saw_control = true;
			continue;
		}
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "cloexec child: inherited fd %d -> %s\n", fd,
			target);
		bad++;
	}
	closedir(d);
	if (!saw_control) {
		fprintf(stderr, "cloexec child: the control fd %d is missing\n",
			control);
		return 2;
	}
	return bad ? 1 : 0;
}

static void run_child(int control)
{
	char arg[16];
	pid_t pid;
	int status;

	snprintf(arg, sizeof(arg), "%d", control);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The child reports through its exit status only. */
		unsetenv("SHWS_PIGLIT");
		execl("/proc/self/exe", "ktest-cloexec", "--child", arg,
		      (char *)NULL);
		_exit(127);
	}
	CHECK_SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), ==, 0);
}

int main(int argc, char **argv)
{
	int card, card2, render, virtio, x, fd, sf, sf2, acq, p[2], fds;
	struct shws_file *fc, *fc2, *fr, *fv;
	struct shws_bo *a, *b, *v, *vg, *t;
	uint32_t h, name;
	struct vbuf vb;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_main(atoi(argv[2]));
	kt_banner("cloexec");
	fds = test_fd_count();
	/* Identity "none": the second open of a description cannot be told
	 * apart, so shws opens a private file of its own (its open()). */
	setenv("SHWS_IDENTITY", "none", 1);

	card = kt_open_driver("vgem", KT_PRIMARY);
	render = kt_open_driver("vgem", KT_RENDER);
	virtio = kt_open_driver("virtio_gpu", KT_PRIMARY);
	CHECK_OK(shws_file_open(card, 0, SHWS_API_GL, &fc));
	card2 = CHECK_SYS(fcntl(card, F_DUPFD_CLOEXEC, 0));
	CHECK_OK(shws_file_open(card2, SHWS_FILE_PRIVATE_OK, SHWS_API_VA, &fc2));
	CHECK(shws_file_is_private(fc2));
	CHECK_OK(shws_file_open(render, 0, SHWS_API_VULKAN, &fr));
	CHECK_OK(shws_file_open(virtio, 0, SHWS_API_GL, &fv));

	x = bo_make_dmabuf(card, SEED);
	CHECK_OK(shws_bo_import_dmabuf(fc, x, SHWS_API_GL, &a));
	CHECK_OK(shws_bo_flink(a, &name));
	CHECK_OK(shws_bo_import_flink(fc, name, SHWS_API_VA, &b));
	CHECK(b == a);
	CHECK_OK(shws_bo_unref(b, SHWS_API_VA));
	CHECK_OK(shws_bo_import_dmabuf(fc2, x, SHWS_API_VA, &b));
	CHECK_OK(shws_bo_translate(a, fr, SHWS_API_VULKAN, &t));
	h = bo_dumb_create(virtio, BO_SIZE);
	CHECK_OK(shws_bo_adopt(fv, shws_file_fd(fv), h, BO_SIZE, SHWS_API_GL, &v));
	CHECK_OK(shws_bo_export_dmabuf(v, &fd));
	CHECK_OK(shws_bo_import_dmabuf(fc, fd, SHWS_API_GL, &vg)); /* -> vgem */
	/* a's and b's fences: those of their dma-buf, x. */
	CHECK_OK(shws_dmabuf_export_sync_file(x, SHWS_SYNC_RW, &sf));
	CHECK_OK(shws_dmabuf_import_sync_file(x, SHWS_SYNC_WRITE, sf));
	CHECK_OK(shws_sync_file_merge("cloexec", sf, sf, &sf2));
	vb = vbuf_new(card);
	vf_attach(&vb, 1); /* pending: acquire returns a real sync_file */
	CHECK_OK(shws_wsi_acquire(vb.dmabuf, SHWS_SYNC_WRITE, &acq));
	CHECK(acq >= 0);
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_EPOLL, card,
					       render), ==,
		  SHWS_IDENTITY_DIFFERENT);
	CHECK_INT(shws_identity_same_device(card, render), ==,
		  SHWS_IDENTITY_SAME);
	/* The fds shws handed out are CLOEXEC one by one, too. */
	CHECK(fd_cloexec(fd) && fd_cloexec(sf) && fd_cloexec(sf2) &&
	      fd_cloexec(acq));

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	CHECK_SYS(fcntl(p[0], F_SETFD, 0)); /* the control: inherited */
	run_child(p[0]);
	close(p[0]);
	close(p[1]);
	test_pass("exec-inherits-no-shws-fd");

	close(acq);
	vbuf_free(&vb); /* its fence self-signals later; nothing waits */
	close(sf2);
	close(sf);
	close(fd);
	CHECK_OK(shws_bo_unref(t, SHWS_API_VULKAN));
	CHECK_OK(shws_bo_unref(vg, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(v, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(b, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	shws_file_unref(fv, SHWS_API_GL);
	shws_file_unref(fr, SHWS_API_VULKAN);
	shws_file_unref(fc2, SHWS_API_VA);
	shws_file_unref(fc, SHWS_API_GL);
	close(x);
	close(virtio);
	close(render);
	close(card2);
	close(card);
	CHECK_INT(test_fd_count(), ==, fds);
	test_pass("no-leaks");
	return 0;
}
