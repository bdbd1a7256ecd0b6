/* SPDX-License-Identifier: MIT */
/*
 * The registry on real DRM files (vgem and virtio_gpu): one shws_file per
 * open file description, whichever way the fd reached the opener; distinct
 * files for distinct opens; the caller's fd may be closed at any time;
 * UNKNOWN identity gives a private file; bad input.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <xf86drm.h>

#include <shws/file.h>
#include <shws/identity.h>

#include "identity_priv.h"
#include "kt.h"
#include "test.h"

static const enum shws_identity_method methods[] = {
	SHWS_IDENTITY_METHOD_DUPFD_QUERY,
	SHWS_IDENTITY_METHOD_KCMP,
	SHWS_IDENTITY_METHOD_EPOLL,
};

/* Every method that works here must agree; auto too. */
static void expect_identity(int a, int b, int want, const char *what)
{
	unsigned mask = shws_identity_methods(), i;
	int r;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!(mask & SHWS_IDENTITY_METHOD_BIT(methods[i])))
			continue;
		r = shws_identity_compare_method(methods[i], a, b);
		if (r != want)
			test_fail("%s: %s says %d, want %d", what,
				  shws_identity_method_name(methods[i]), r,
				  want);
	}
	CHECK_INT(shws_identity_compare(a, b), ==, want);
}

/* The identity method per kernel (docs/kernel-facts.md): F_DUPFD_QUERY
 * arrived in 6.10 (EINVAL before), so 6.1 chooses kcmp and 6.12 chooses
 * F_DUPFD_QUERY; both kernels have kcmp (CONFIG_KCMP) and the epoll test. */
static void test_methods(void)
{
	unsigned mask = shws_identity_methods();
	enum shws_identity_method chosen = shws_identity_chosen_method();
	bool before_6_10 = kt_kernel_before(6, 10);

	printf("identity methods 0x%x, chosen %s\n", mask,
	       shws_identity_method_name(chosen));
	CHECK(mask & SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_EPOLL));
	CHECK(mask & SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_KCMP));
	if (before_6_10) {
		CHECK(!(mask & SHWS_IDENTITY_METHOD_BIT(
				       SHWS_IDENTITY_METHOD_DUPFD_QUERY)));
		CHECK_INT(chosen, ==, SHWS_IDENTITY_METHOD_KCMP);
		test_pass("methods-kcmp-chosen");
	} else {
		CHECK(mask & SHWS_IDENTITY_METHOD_BIT(
				     SHWS_IDENTITY_METHOD_DUPFD_QUERY));
		CHECK_INT(chosen, ==, SHWS_IDENTITY_METHOD_DUPFD_QUERY);
		test_pass("methods-dupfd_query-chosen");
	}
	test_pass("methods");
}

/* card vs render vs dup vs two opens vs SCM_RIGHTS, raw identity. */
static void test_identity(const char *driver)
{
	int card = kt_open_driver(driver, KT_PRIMARY);
	int card2 = kt_open_driver(driver, KT_PRIMARY);
	int render = kt_open_driver(driver, KT_RENDER);
	int d = (int)CHECK_SYS(fcntl(card, F_DUPFD_CLOEXEC, 0));
	int passed = test_pass_fd(card);

	expect_identity(card, d, SHWS_IDENTITY_SAME, "dup");
	expect_identity(card, passed, SHWS_IDENTITY_SAME, "SCM_RIGHTS");
	expect_identity(card, card2, SHWS_IDENTITY_DIFFERENT, "two opens");
	expect_identity(card, render, SHWS_IDENTITY_DIFFERENT, "card/render");
	CHECK_INT(shws_identity_same_device(card, render), ==,
		  SHWS_IDENTITY_SAME);
	CHECK_INT(shws_identity_same_device(card2, d), ==, SHWS_IDENTITY_SAME);
	close(passed);
	close(d);
	close(render);
	close(card2);
	close(card);
	printf("PASS identity-%s\n", driver);
}

static void test_cross_device(void)
{
	int v = kt_open_driver("vgem", KT_RENDER);
	int g = kt_open_driver("virtio_gpu", KT_RENDER);
	struct shws_file *fv, *fg;

	CHECK_INT(shws_identity_same_device(v, g), ==,
		  SHWS_IDENTITY_DIFFERENT);
	CHECK_OK(shws_file_open(v, 0, SHWS_API_GL, &fv));
	CHECK_OK(shws_file_open(g, 0, SHWS_API_GL, &fg));
	CHECK(shws_file_device(fv) != shws_file_device(fg));
	CHECK(!strcmp(shws_device_driver(shws_file_device(fv)), "vgem"));
	CHECK(!strcmp(shws_device_driver(shws_file_device(fg)), "virtio_gpu"));
	shws_file_unref(fg, SHWS_API_GL);
	shws_file_unref(fv, SHWS_API_GL);
	close(g);
	close(v);
	test_pass("cross-device");
}

/* The three "APIs" receive one description by three paths (the fd itself,
 * a dup, SCM_RIGHTS) and must share one shws_file. */
static void test_three_apis(const char *driver)
{
	int before = test_fd_count();
	int app = kt_open_driver(driver, KT_PRIMARY);
	int vk_fd = (int)CHECK_SYS(dup(app));
	int va_fd = test_pass_fd(app);
	int other = kt_open_driver(driver, KT_PRIMARY);
	int render = kt_open_driver(driver, KT_RENDER);
	struct shws_file *gl, *vk, *va, *fo, *fr, *again;
	struct shws_device *dev;
	uint32_t h;

	CHECK_OK(shws_file_open(app, 0, SHWS_API_GL, &gl));
	CHECK_OK(shws_file_open(vk_fd, 0, SHWS_API_VULKAN, &vk));
	CHECK_OK(shws_file_open(va_fd, 0, SHWS_API_VA, &va));
	CHECK(gl == vk && vk == va);
	CHECK(!shws_file_is_private(gl));
	CHECK_INT(shws_file_api_refs(gl, SHWS_API_GL), ==, 1);
	CHECK_INT(shws_file_api_refs(gl, SHWS_API_VULKAN), ==, 1);
	CHECK_INT(shws_file_api_refs(gl, SHWS_API_VA), ==, 1);
	CHECK_INT(shws_file_api_refs(gl, SHWS_API_OTHER), ==, 0);
	CHECK_INT(shws_file_node_type(gl), ==, SHWS_NODE_PRIMARY);
	/* shws's fd is its own dup of the same description. */
	CHECK(shws_file_fd(gl) != app && shws_file_fd(gl) != vk_fd &&
	      shws_file_fd(gl) != va_fd);
	CHECK_INT(shws_identity_compare(shws_file_fd(gl), app), ==,
		  SHWS_IDENTITY_SAME);
	CHECK_INT(fcntl(shws_file_fd(gl), F_GETFD), ==, FD_CLOEXEC);

	/* Different opens: different files, one device. */
	CHECK_OK(shws_file_open(other, 0, SHWS_API_GL, &fo));
	CHECK_OK(shws_file_open(render, 0, SHWS_API_VULKAN, &fr));
	CHECK(fo != gl && fr != gl && fr != fo);
	dev = shws_file_device(gl);
	CHECK(shws_file_device(fo) == dev && shws_file_device(fr) == dev);
	CHECK_INT(shws_file_node_type(fr), ==, SHWS_NODE_RENDER);
	CHECK(!strcmp(shws_device_driver(dev), driver));
	CHECK(shws_device_node_path(dev, SHWS_NODE_PRIMARY) != NULL);
	CHECK(shws_device_node_path(dev, SHWS_NODE_RENDER) != NULL);
	CHECK(!strncmp(shws_device_node_path(dev, SHWS_NODE_RENDER),
		       "/dev/dri/renderD", 16));

	/* The app closes every fd it had: nothing changes for shws. */
	h = kt_make_pattern(shws_file_fd(gl), 0x1000);
	close(app);
	close(vk_fd);
	close(va_fd);
	CHECK_OK(shws_file_open(shws_file_fd(gl), 0, SHWS_API_OTHER, &again));
	CHECK(again == gl);
	CHECK_INT(drmCloseBufferHandle(shws_file_fd(gl), h), ==, 0);
	shws_file_unref(again, SHWS_API_OTHER);

	shws_file_unref(va, SHWS_API_VA);
	shws_file_unref(vk, SHWS_API_VULKAN);
	CHECK_INT(shws_file_api_refs(gl, SHWS_API_GL), ==, 1);
	shws_file_unref(gl, SHWS_API_GL);
	shws_file_unref(fr, SHWS_API_VULKAN);
	shws_file_unref(fo, SHWS_API_GL);
	close(other);
	close(render);
	CHECK_INT(test_fd_count(), ==, before);
	printf("PASS three-apis-%s\n", driver);
}

/* shws_file_ref() from a second thread's point of view: refs add up and
 * the last unref, not the first, closes shws's dup. */
static void test_refcount(void)
{
	int before = test_fd_count();
	int fd = kt_open_driver("vgem", KT_RENDER);
	struct shws_file *f, *g;
	int own;

	CHECK_OK(shws_file_open(fd, 0, SHWS_API_GL, &f));
	own = shws_file_fd(f);
	CHECK_OK(shws_file_ref(f, SHWS_API_VA));
	g = f;
	CHECK_INT(shws_file_api_refs(f, SHWS_API_VA), ==, 1);
	shws_file_unref(f, SHWS_API_GL);
	CHECK_INT(fcntl(own, F_GETFD), ==, FD_CLOEXEC);
	shws_file_unref(g, SHWS_API_VA);
	close(fd);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("refcount");
}

/* Identity UNKNOWN: never a guess. -ENOTUNIQ unless the caller allows a
 * private file (a separate open); then that. */
static void test_unknown_gives_private(void)
{
	int before = test_fd_count();
	int app = kt_open_driver("vgem", KT_PRIMARY);
	int d = (int)CHECK_SYS(dup(app));
	struct shws_file *f, *p;

	setenv("SHWS_IDENTITY", "none", 1);
	shws_identity_reset();
	CHECK_OK(shws_file_open(app, 0, SHWS_API_GL, &f));
	CHECK(!shws_file_is_private(f)); /* first on this node: no doubt */
	p = NULL;
	CHECK_INT(shws_file_open(d, 0, SHWS_API_VULKAN, &p), ==, -ENOTUNIQ);
	CHECK(!p);
	CHECK_INT(test_fd_count(), ==, before + 3);
	CHECK_OK(shws_file_open(d, SHWS_FILE_PRIVATE_OK, SHWS_API_VULKAN, &p));
	CHECK(p != f);
	CHECK(shws_file_is_private(p));
	CHECK(shws_file_device(p) == shws_file_device(f));
	CHECK_INT(shws_file_node_type(p), ==, SHWS_NODE_RENDER);
	/* Really a different description (asked with a real method). */
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_EPOLL,
					       shws_file_fd(p), app), ==,
		  SHWS_IDENTITY_DIFFERENT);
	unsetenv("SHWS_IDENTITY");
	shws_identity_reset();
	shws_file_unref(p, SHWS_API_VULKAN);
	shws_file_unref(f, SHWS_API_GL);
	close(d);
	close(app);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("unknown-gives-private");
}

/* Bad input with real device-ish fds: a dma-buf, a closed DRM fd, an
 * O_PATH fd of a DRM node. Nothing leaks, the caller's fd is untouched. */
static void test_bad_input(void)
{
	int before = test_fd_count();
	int card = kt_open_driver("vgem", KT_PRIMARY);
	struct shws_file *f = NULL;
	uint64_t ino1, ino2, ino3;
	int buf, buf2, other, closed, opath;
	char path[64];
	uint32_t h, h2;

	h = kt_make_pattern(card, 1);
	h2 = kt_make_pattern(card, 2);
	CHECK_OK(drmPrimeHandleToFD(card, h, DRM_CLOEXEC | DRM_RDWR, &buf));
	CHECK_OK(drmPrimeHandleToFD(card, h, DRM_CLOEXEC | DRM_RDWR, &buf2));
	CHECK_OK(drmPrimeHandleToFD(card, h2, DRM_CLOEXEC | DRM_RDWR, &other));
	CHECK_INT(shws_file_open(buf, 0, SHWS_API_GL, &f), ==, -ENOTTY);
	CHECK(f == NULL);
	CHECK_INT(fcntl(buf, F_GETFD), ==, FD_CLOEXEC);

	/* dma-buf identity: one inode per dma-buf. */
	CHECK_OK(shws_identity_dmabuf_ino(buf, &ino1));
	CHECK_OK(shws_identity_dmabuf_ino(buf2, &ino2));
	CHECK_OK(shws_identity_dmabuf_ino(other, &ino3));
	CHECK_INT(ino1, ==, ino2);
	CHECK_INT(ino1, !=, ino3);
	CHECK_INT(shws_identity_dmabuf_ino(card, &ino3), ==, -EINVAL);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", card);
	opath = (int)CHECK_SYS(open(path, O_PATH | O_CLOEXEC));
	CHECK_INT(shws_file_open(opath, 0, SHWS_API_GL, &f), ==, -EBADF);
	closed = (int)CHECK_SYS(dup(card));
	close(closed);
	CHECK_INT(shws_file_open(closed, 0, SHWS_API_GL, &f), ==, -EBADF);
	CHECK_INT(shws_file_open(-1, 0, SHWS_API_GL, &f), ==, -EBADF);
	CHECK(f == NULL);
	CHECK_INT(shws_identity_same_device(buf, card), ==, -ENOTTY);

	close(opath);
	close(other);
	close(buf2);
	close(buf);
	drmCloseBufferHandle(card, h2);
	drmCloseBufferHandle(card, h);
	close(card);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("bad-input");
}

/* No free fd slot: shws cannot dup (or open a private file); it fails
 * with -EMFILE, leaks nothing, leaves existing files alone. */
static void test_emfile(void)
{
	int before = test_fd_count();
	int app = kt_open_driver("vgem", KT_RENDER);
	int other = kt_open_driver("vgem", KT_RENDER);
	int d = (int)CHECK_SYS(dup(app));
	struct shws_file *f, *g = NULL;
	struct rlimit saved, lim;
	int fillers[64], n = 0, fd, r;

	CHECK_OK(shws_file_open(app, 0, SHWS_API_GL, &f));
	CHECK_SYS(getrlimit(RLIMIT_NOFILE, &saved));
	lim = saved;
	lim.rlim_cur = 64;
	CHECK_SYS(setrlimit(RLIMIT_NOFILE, &lim));
	while (n < 64 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fillers[n++] = fd;
	CHECK_INT(errno, ==, EMFILE);

	/* A new description: no slot for the dup (or, where identity needs
	 * fds itself, for the private file it then takes: allowed here, so
	 * the answer is the fd table's, not "cannot tell"). */
	CHECK_INT(shws_file_open(other, SHWS_FILE_PRIVATE_OK, SHWS_API_VA, &g),
		  ==, -EMFILE);
	CHECK(g == NULL);
	/* Without leave for a private file: -EMFILE, or -ENOTUNIQ when
	 * identity could not be established without a free fd. */
	r = shws_file_open(other, 0, SHWS_API_VA, &g);
	CHECK(r == -EMFILE || r == -ENOTUNIQ);
	CHECK(g == NULL);
	/* The same description: found without a new fd, or, if identity
	 * cannot be established without one, a private file that cannot
	 * be opened either. Never a wrong file, never a crash. */
	r = shws_file_open(d, SHWS_FILE_PRIVATE_OK, SHWS_API_VULKAN, &g);
	CHECK(r == 0 || r == -EMFILE);
	if (r == 0) {
		CHECK(g == f);
		shws_file_unref(g, SHWS_API_VULKAN);
	}
	while (n--)
		close(fillers[n]);
	CHECK_SYS(setrlimit(RLIMIT_NOFILE, &saved));

	CHECK_OK(shws_file_open(d, 0, SHWS_API_VULKAN, &g));
	CHECK(g == f);
	CHECK_INT(shws_file_api_refs(f, SHWS_API_VA), ==, 0);
	shws_file_unref(g, SHWS_API_VULKAN);
	shws_file_unref(f, SHWS_API_GL);
	close(d);
	close(other);
	close(app);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("emfile");
}

int main(void)
{
	int before = test_fd_count();

	kt_banner("registry");
	unsetenv("SHWS_IDENTITY");
	test_methods();
	test_identity("vgem");
	test_identity("virtio_gpu");
	test_cross_device();
	test_three_apis("vgem");
	test_three_apis("virtio_gpu");
	test_refcount();
	test_unknown_gives_private();
	test_bad_input();
	test_emfile();
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("no-fd-leak");
	return 0;
}
