/* SPDX-License-Identifier: MIT */
/*
 * The whole bo/file API on the host, against the simulated kernel of
 * fake-kernel.h (the real registry.c, file.c, bo.c and bo_table.c; only
 * gem.c and device.c are replaced). Every test ends with every object
 * released, every fake handle closed exactly once and no fd left open.
 * Regression tests of docs/reliability.md's findings are marked so.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <shws/bo.h>
#include <shws/file.h>
#include <shws/log.h>

#include "fake-kernel.h"
#include "gem.h"
#include "test.h"

/* --- aligned_alloc, wrapped (-Wl,--wrap=aligned_alloc): the largest
 * request the table made, so a test can tell a bounded allocation. */
void *__real_aligned_alloc(size_t align, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
static _Atomic size_t max_aligned_alloc;

void *__wrap_aligned_alloc(size_t align, size_t size)
{
	size_t m = atomic_load(&max_aligned_alloc);

	while (size > m && !atomic_compare_exchange_weak(&max_aligned_alloc,
							 &m, size))
		;
	return __real_aligned_alloc(align, size);
}

/* --- Per-test set-up and the final accounting ------------------------- */

static int fds_before;
static int dev_a, dev_b;

static void begin(void)
{
	fds_before = test_fd_count();
	dev_a = fake_device_add("fakegpu");
	dev_b = fake_device_add("othergpu");
	CHECK(dev_a >= 0 && dev_b >= 0);
}

/* Every handle closed once, nothing closed twice, no fd left. */
static void end(const char *name)
{
	CHECK_INT(fake_gem_open_handles(), ==, 0);
	CHECK_INT(fake_gem_live_objects(), ==, 0);
	CHECK_INT(fake_gem_bad_closes(), ==, 0);
	fake_kernel_reset();
	CHECK_INT(test_fd_count(), ==, fds_before);
	test_pass(name);
}

static int drm_open(int dev, enum shws_node_type type)
{
	int fd = fake_drm_open(dev, type);

	CHECK_INT(fd, >=, 0);
	return fd;
}

static struct shws_file *file_open(int fd, enum shws_api api)
{
	struct shws_file *f = NULL;

	CHECK_OK(shws_file_open(fd, 0, api, &f));
	CHECK(f);
	return f;
}

static int dmabuf_new(uint64_t size)
{
	int fd = fake_dmabuf_new(size);

	CHECK_INT(fd, >=, 0);
	return fd;
}

/* The fake object behind @bo's handle. */
static unsigned object_of(const struct shws_bo *bo)
{
	return fake_gem_object(shws_file_fd(shws_bo_file(bo)),
			       shws_bo_handle(bo));
}

/* --- Tests ------------------------------------------------------------------ */

static void test_prime_dedupe(void)
{
	struct shws_bo *a, *b, *c;
	struct shws_file *f, *f2;
	int fd, fd2, dmabuf, exp, before;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_RENDER);
	f = file_open(fd, SHWS_API_GL);
	/* Another fd of the same description finds the same file. */
	fd2 = test_pass_fd(fd);
	f2 = file_open(fd2, SHWS_API_VA);
	CHECK(f2 == f);
	CHECK_INT(shws_file_api_refs(f, SHWS_API_GL), ==, 1);
	CHECK_INT(shws_file_api_refs(f, SHWS_API_VA), ==, 1);
	CHECK(!shws_file_is_private(f));

	dmabuf = dmabuf_new(3 * 4096);
	CHECK_OK(shws_bo_import_dmabuf(f, dmabuf, SHWS_API_GL, &a));
	CHECK_OK(shws_bo_import_dmabuf(f, dmabuf, SHWS_API_VA, &b));
	CHECK(a == b);
	CHECK_INT(shws_bo_size(a), ==, 3 * 4096);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_GL), ==, 1);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_VA), ==, 1);
	CHECK_INT(fake_gem_handles(fd), ==, 1);
	CHECK_INT(object_of(a), ==, fake_dmabuf_object(dmabuf));

	/* An export is the same dma-buf; importing it is the same bo. */
	CHECK_OK(shws_bo_export_dmabuf(a, &exp));
	CHECK_INT(fake_dmabuf_object(exp), ==, fake_dmabuf_object(dmabuf));
	CHECK_OK(shws_bo_import_dmabuf(f, exp, SHWS_API_VULKAN, &c));
	CHECK(c == a);
	close(exp);
	close(dmabuf);

	/* Bad input changes nothing. */
	CHECK_INT(shws_bo_import_dmabuf(f, -1, SHWS_API_GL, &b), ==, -EBADF);
	CHECK_INT(shws_bo_import_dmabuf(f, fd, SHWS_API_GL, &b), ==, -EINVAL);
	CHECK_INT(shws_bo_import_dmabuf(f, 0, SHWS_API_COUNT, &b), ==, -EINVAL);
	CHECK_INT(shws_bo_import_dmabuf(NULL, 0, SHWS_API_GL, &b), ==, -EINVAL);
	CHECK_INT(shws_bo_import_dmabuf(f, 0, SHWS_API_GL, NULL), ==, -EINVAL);

	/* An injected kernel failure reaches the caller; EINTR is
	 * restarted. */
	dmabuf = dmabuf_new(4096);
	fake_gem_fail_next(FAKE_PRIME_IMPORT, -ENOMEM);
	CHECK_INT(shws_bo_import_dmabuf(f, dmabuf, SHWS_API_GL, &b), ==,
		  -ENOMEM);
	CHECK(!b);
	fake_gem_fail_next(FAKE_PRIME_IMPORT, -EINTR);
	CHECK_OK(shws_bo_import_dmabuf(f, dmabuf, SHWS_API_GL, &b));
	CHECK_INT(fake_gem_restarts(), ==, 1);
	CHECK_INT(fake_gem_handles(fd), ==, 2);
	CHECK_OK(shws_bo_unref(b, SHWS_API_GL));
	CHECK_INT(fake_gem_handles(fd), ==, 1);
	close(dmabuf);

	/* The application closes its fds and its file references: the bo
	 * keeps the file (and shws's own fd) alive. */
	close(fd);
	close(fd2);
	CHECK_OK(shws_file_unref(f, SHWS_API_GL));
	CHECK_OK(shws_file_unref(f2, SHWS_API_VA));
	before = test_fd_count();
	CHECK_INT(fake_gem_handles(shws_file_fd(f)), ==, 1);
	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(a, SHWS_API_VA));
	CHECK_INT(test_fd_count(), ==, before);
	CHECK_OK(shws_bo_unref(a, SHWS_API_VULKAN));
	/* The last bo took the file, and shws's fd, with it. */
	CHECK_INT(test_fd_count(), ==, before - 1);
	end("prime-dedupe");
}

static void test_flink(void)
{
	struct shws_bo *a, *b, *c, *d;
	struct shws_file *f, *g, *r;
	int fd, fd2, fdr, opens;
	uint32_t name, name2, pitch;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_PRIMARY);
	fd2 = drm_open(dev_a, SHWS_NODE_PRIMARY);
	fdr = drm_open(dev_a, SHWS_NODE_RENDER);
	f = file_open(fd, SHWS_API_GL);
	g = file_open(fd2, SHWS_API_VA);
	r = file_open(fdr, SHWS_API_VULKAN);
	CHECK(f != g && f != r && g != r);

	CHECK_OK(shws_bo_create_dumb(f, 64, 64, 32, SHWS_API_GL, &a, &pitch));
	CHECK_OK(shws_bo_flink(a, &name));
	CHECK_OK(shws_bo_flink(a, &name2));
	CHECK_INT(name, ==, name2);
	CHECK_INT(fake_gem_calls(FAKE_GEM_FLINK), ==, 1);
	/* The name is known in its own file: no GEM_OPEN. */
	CHECK_OK(shws_bo_import_flink(f, name, SHWS_API_VA, &b));
	CHECK(b == a);
	CHECK_INT(fake_gem_calls(FAKE_GEM_OPEN), ==, 0);
	/* In another file: GEM_OPEN once, then the name index. */
	CHECK_OK(shws_bo_import_flink(g, name, SHWS_API_VA, &c));
	CHECK_OK(shws_bo_import_flink(g, name, SHWS_API_GL, &d));
	CHECK(c == d && c != a);
	CHECK_INT(fake_gem_calls(FAKE_GEM_OPEN), ==, 1);
	CHECK_INT(object_of(c), ==, object_of(a));
	CHECK_INT(shws_bo_size(c), ==, shws_bo_size(a));
	CHECK_INT(shws_bo_api_refs(c, SHWS_API_VA), ==, 1);
	CHECK_INT(shws_bo_api_refs(c, SHWS_API_GL), ==, 1);

	/* Render nodes refuse flink; bad names. */
	opens = (int)fake_gem_calls(FAKE_GEM_OPEN);
	CHECK_INT(shws_bo_import_flink(r, name, SHWS_API_GL, &d), ==, -EACCES);
	CHECK_INT(shws_bo_import_flink(f, 0, SHWS_API_GL, &d), ==, -EINVAL);
	CHECK_INT(shws_bo_import_flink(f, name + 100, SHWS_API_GL, &d), ==,
		  -ENOENT);
	CHECK(!d);
	CHECK_INT(fake_gem_calls(FAKE_GEM_OPEN), ==, opens + 2);
	CHECK_INT(shws_bo_flink(a, NULL), ==, -EINVAL);

	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(b, SHWS_API_VA));
	CHECK_INT(fake_gem_handles(fd), ==, 0);
	/* The name lives on through g's handle. */
	CHECK_OK(shws_bo_import_flink(f, name, SHWS_API_GL, &a));
	CHECK_INT(object_of(a), ==, object_of(c));
	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(c, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(c, SHWS_API_GL));
	CHECK_INT(fake_gem_open_handles(), ==, 0);

	CHECK_OK(shws_file_unref(f, SHWS_API_GL));
	CHECK_OK(shws_file_unref(g, SHWS_API_VA));
	CHECK_OK(shws_file_unref(r, SHWS_API_VULKAN));
	close(fd);
	close(fd2);
	close(fdr);
	end("flink");
}

static void test_adopt(void)
{
	struct shws_bo *a, *b, *x;
	struct shws_file *f;
	int fd, fd2, dup_fd, closed;
	uint32_t h, h2;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_RENDER);
	f = file_open(fd, SHWS_API_VA);
	CHECK_OK(fake_gem_create(fd, 8192, &h));

	/* Adopt, then adopt again: the ownership merges. */
	dup_fd = test_pass_fd(fd); /* same description, another fd */
	CHECK_OK(shws_bo_adopt(f, dup_fd, h, 8192, SHWS_API_VA, &a));
	CHECK_OK(shws_bo_adopt(f, fd, h, 8192, SHWS_API_GL, &b));
	CHECK(a == b);
	CHECK_INT(shws_bo_handle(a), ==, h);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_VA), ==, 1);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_GL), ==, 1);
	/* Through shws's own fd, no identity check needed. */
	CHECK_OK(shws_bo_adopt(f, shws_file_fd(f), h, 8192, SHWS_API_GL, &b));
	CHECK_OK(shws_bo_unref(b, SHWS_API_GL));

	/* Another size: the table and the kernel disagree. Nothing
	 * changes. */
	x = (struct shws_bo *)&x;
	CHECK_INT(shws_bo_adopt(f, fd, h, 8192 + 4096, SHWS_API_VULKAN, &x),
		  ==, -EEXIST);
	CHECK(!x);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_VULKAN), ==, 0);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_VA), ==, 1);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_GL), ==, 1);

	/* A handle created on another description: -EXDEV, and the caller
	 * keeps (and closes) it. */
	fd2 = drm_open(dev_a, SHWS_NODE_RENDER);
	CHECK_OK(fake_gem_create(fd2, 4096, &h2));
	CHECK_INT(shws_bo_adopt(f, fd2, h2, 4096, SHWS_API_VA, &x), ==, -EXDEV);
	CHECK_INT(fake_gem_handles(fd), ==, 1);
	CHECK_OK(shws_gem_close(fd2, h2));
	/* Not open: -EBADF. */
	closed = drm_open(dev_a, SHWS_NODE_RENDER);
	close(closed);
	CHECK_INT(shws_bo_adopt(f, closed, h, 8192, SHWS_API_VA, &x), ==,
		  -EBADF);
	CHECK_INT(shws_bo_adopt(f, fd, 0, 8192, SHWS_API_VA, &x), ==, -EINVAL);
	CHECK_INT(shws_bo_adopt(f, fd, h, 0, SHWS_API_VA, &x), ==, -EINVAL);
	CHECK_INT(shws_bo_adopt(f, fd, h, 8192, SHWS_API_COUNT, &x), ==,
		  -EINVAL);

	CHECK_OK(shws_bo_unref(a, SHWS_API_VA));
	CHECK_INT(fake_gem_handles(fd), ==, 1);
	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	CHECK_INT(fake_gem_handles(fd), ==, 0);
	CHECK_OK(shws_file_unref(f, SHWS_API_VA));
	close(fd);
	close(fd2);
	close(dup_fd);
	end("adopt");
}

/* Regression (docs/reliability.md): a bogus huge handle must not make the
 * table allocate a bucket sized by it. */
static void test_adopt_huge_handle(void)
{
	static const uint32_t bad[] = {
		SHWS_BO_HANDLE_MAX + 1, 1u << 24, 0x7fffffffu, 0x80000000u,
		0xffffffffu,
	};
	struct shws_bo *x, *a;
	struct shws_file *f;
	uint32_t h;
	int fd;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_RENDER);
	f = file_open(fd, SHWS_API_GL);
	atomic_store(&max_aligned_alloc, 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(shws_bo_adopt(f, fd, bad[i], 4096, SHWS_API_GL, &x),
			  ==, -ERANGE);
	CHECK_INT(atomic_load(&max_aligned_alloc), ==, 0);
	CHECK_INT(fake_gem_handles(fd), ==, 0);
	/* A real handle still goes through: one bucket of 64 slots. */
	CHECK_OK(fake_gem_create(fd, 4096, &h));
	CHECK_OK(shws_bo_adopt(f, fd, h, 4096, SHWS_API_GL, &a));
	CHECK_INT(atomic_load(&max_aligned_alloc), <=, 64 * 64);
	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	CHECK_OK(shws_file_unref(f, SHWS_API_GL));
	close(fd);
	end("adopt-huge-handle");
}

static void test_create_dumb(void)
{
	struct shws_bo *a, *b;
	struct shws_file *f, *r;
	int fd, fdr;
	uint32_t pitch = 0;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_PRIMARY);
	fdr = drm_open(dev_a, SHWS_NODE_RENDER);
	f = file_open(fd, SHWS_API_OTHER);
	r = file_open(fdr, SHWS_API_OTHER);
	CHECK_OK(shws_bo_create_dumb(f, 100, 10, 32, SHWS_API_GL, &a, &pitch));
	CHECK_INT(pitch, ==, 448);
	CHECK_INT(shws_bo_size(a), ==, 8192);
	CHECK_INT(shws_bo_file(a) == f, ==, 1);
	CHECK_INT(fake_object_size(object_of(a)), ==, 8192);
	CHECK_INT(shws_bo_create_dumb(r, 1, 1, 32, SHWS_API_GL, &b, &pitch), ==,
		  -EACCES);
	CHECK(!b);
	CHECK_INT(shws_bo_create_dumb(f, 0, 1, 32, SHWS_API_GL, &b, &pitch), ==,
		  -EINVAL);
	CHECK_INT(shws_bo_create_dumb(f, 1, 1, 12, SHWS_API_GL, &b, &pitch), ==,
		  -EINVAL);
	CHECK_INT(shws_bo_create_dumb(f, 1, 1, 32, SHWS_API_GL, &b, NULL), ==,
		  -EINVAL);
	fake_gem_fail_next(FAKE_CREATE_DUMB, -ENOMEM);
	CHECK_INT(shws_bo_create_dumb(f, 1, 1, 32, SHWS_API_GL, &b, &pitch), ==,
		  -ENOMEM);
	CHECK_INT(fake_gem_handles(fd), ==, 1);
	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	CHECK_OK(shws_file_unref(f, SHWS_API_OTHER));
	CHECK_OK(shws_file_unref(r, SHWS_API_OTHER));
	close(fd);
	close(fdr);
	end("create-dumb");
}

static void test_lookup_find(void)
{
	struct shws_bo *a, *b;
	struct shws_file *f;
	uint32_t h, pitch;
	int fd;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_PRIMARY);
	f = file_open(fd, SHWS_API_GL);
	CHECK_OK(shws_bo_create_dumb(f, 16, 16, 32, SHWS_API_GL, &a, &pitch));
	h = shws_bo_handle(a);
	b = shws_bo_lookup(f, h, SHWS_API_VA);
	CHECK(b == a);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_VA), ==, 1);
	CHECK(shws_bo_find(f, h) == a);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_GL), ==, 1);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_VA), ==, 1);
	CHECK(!shws_bo_lookup(f, 0, SHWS_API_GL));
	CHECK(!shws_bo_lookup(f, h + 1, SHWS_API_GL));
	CHECK(!shws_bo_lookup(f, h, SHWS_API_COUNT));
	CHECK(!shws_bo_lookup(f, 0xffffffffu, SHWS_API_GL));
	CHECK(!shws_bo_lookup(NULL, h, SHWS_API_GL));
	CHECK(!shws_bo_find(f, 0));
	CHECK(!shws_bo_find(f, 12345));
	CHECK(!shws_bo_find(f, 0xffffffffu));
	CHECK_INT(shws_bo_ref(a, SHWS_API_COUNT), ==, -EINVAL);
	CHECK_INT(shws_bo_ref(NULL, SHWS_API_GL), ==, -EINVAL);
	CHECK_OK(shws_bo_ref(a, SHWS_API_OTHER));
	CHECK_OK(shws_bo_unref(a, SHWS_API_OTHER));
	CHECK_OK(shws_bo_unref(a, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	CHECK(!shws_bo_lookup(f, h, SHWS_API_GL));
	CHECK(!shws_bo_find(f, h));
	CHECK_OK(shws_bo_unref(NULL, SHWS_API_GL));
	CHECK_OK(shws_file_unref(f, SHWS_API_GL));
	close(fd);
	end("lookup-find");
}

/* A render-node bo shown on the card node of the same device. */
static void test_translate(void)
{
	struct shws_bo *a, *t, *t2, *u, *v;
	struct shws_file *r, *k, *other;
	int fdr, fdk, fdo, dmabuf;
	unsigned imports;
	uint32_t pitch, th;

	begin();
	fdr = drm_open(dev_a, SHWS_NODE_RENDER);
	fdk = drm_open(dev_a, SHWS_NODE_PRIMARY);
	fdo = drm_open(dev_b, SHWS_NODE_RENDER);
	r = file_open(fdr, SHWS_API_VULKAN);
	k = file_open(fdk, SHWS_API_GL);
	other = file_open(fdo, SHWS_API_GL);
	CHECK(shws_file_device(r) == shws_file_device(k));
	CHECK(shws_file_device(r) != shws_file_device(other));

	dmabuf = dmabuf_new(4096);
	CHECK_OK(shws_bo_import_dmabuf(r, dmabuf, SHWS_API_VULKAN, &a));
	close(dmabuf);
	CHECK_OK(shws_bo_translate(a, k, SHWS_API_GL, &t));
	CHECK(shws_bo_file(t) == k);
	CHECK_INT(object_of(t), ==, object_of(a));
	CHECK_INT(shws_bo_api_refs(t, SHWS_API_GL), ==, 1);
	/* Cached while alive: no syscall the second time. */
	imports = fake_gem_calls(FAKE_PRIME_IMPORT);
	CHECK_OK(shws_bo_translate(a, k, SHWS_API_VA, &t2));
	CHECK(t2 == t);
	CHECK_INT(fake_gem_calls(FAKE_PRIME_IMPORT), ==, imports);
	CHECK_INT(fake_gem_calls(FAKE_PRIME_EXPORT), ==, 1);
	CHECK_OK(shws_bo_unref(t2, SHWS_API_VA));
	/* Own file: the same bo. */
	CHECK_OK(shws_bo_translate(a, r, SHWS_API_GL, &t2));
	CHECK(t2 == a);
	CHECK_OK(shws_bo_unref(t2, SHWS_API_GL));
	CHECK_INT(shws_bo_translate(a, other, SHWS_API_GL, &t2), ==, -EXDEV);
	CHECK_INT(shws_bo_translate(NULL, k, SHWS_API_GL, &t2), ==, -EINVAL);
	CHECK_INT(shws_bo_translate(a, NULL, SHWS_API_GL, &t2), ==, -EINVAL);
	CHECK_INT(shws_bo_translate(a, k, SHWS_API_COUNT, &t2), ==, -EINVAL);

	/* The cache is weak: release the target, let its handle number be
	 * reused by another buffer, translate again. */
	th = shws_bo_handle(t);
	CHECK_OK(shws_bo_unref(t, SHWS_API_GL));
	CHECK_INT(fake_gem_handles(fdk), ==, 0);
	CHECK_OK(shws_bo_create_dumb(k, 8, 8, 32, SHWS_API_GL, &u, &pitch));
	CHECK_INT(shws_bo_handle(u), ==, th);
	CHECK_OK(shws_bo_translate(a, k, SHWS_API_GL, &t));
	CHECK(t != u);
	CHECK_INT(object_of(t), ==, object_of(a));
	CHECK_INT(shws_bo_api_refs(u, SHWS_API_GL), ==, 1);
	/* Release order 1: the source first, then the target. */
	CHECK_OK(shws_bo_unref(a, SHWS_API_VULKAN));
	CHECK_INT(fake_gem_handles(fdr), ==, 0);
	CHECK_INT(object_of(t), !=, 0);
	CHECK_OK(shws_bo_unref(t, SHWS_API_GL));
	CHECK_INT(fake_gem_handles(fdk), ==, 1); /* u */

	/* Release order 2: the target first, then the source; and a
	 * translation back, the other way round. */
	CHECK_OK(shws_bo_translate(u, r, SHWS_API_VA, &v));
	CHECK_OK(shws_bo_translate(v, k, SHWS_API_OTHER, &t));
	CHECK(t == u); /* the same buffer has one bo in k */
	CHECK_OK(shws_bo_unref(t, SHWS_API_OTHER));
	CHECK_OK(shws_bo_unref(v, SHWS_API_VA));
	CHECK_INT(fake_gem_handles(fdr), ==, 0);
	CHECK_OK(shws_bo_unref(u, SHWS_API_GL));

	/* A failed export reaches the caller. */
	CHECK_OK(shws_bo_create_dumb(k, 8, 8, 32, SHWS_API_GL, &u, &pitch));
	fake_gem_fail_next(FAKE_PRIME_EXPORT, -EMFILE);
	CHECK_INT(shws_bo_translate(u, r, SHWS_API_VA, &v), ==, -EMFILE);
	CHECK(!v);
	fake_gem_fail_next(FAKE_PRIME_IMPORT, -ENOMEM);
	CHECK_INT(shws_bo_translate(u, r, SHWS_API_VA, &v), ==, -ENOMEM);
	CHECK_INT(fake_gem_handles(fdr), ==, 0);
	CHECK_OK(shws_bo_unref(u, SHWS_API_GL));

	CHECK_OK(shws_file_unref(r, SHWS_API_VULKAN));
	CHECK_OK(shws_file_unref(k, SHWS_API_GL));
	CHECK_OK(shws_file_unref(other, SHWS_API_GL));
	close(fdr);
	close(fdk);
	close(fdo);
	end("translate");
}

static void test_bo_double_unref(void)
{
	struct shws_bo *a;
	struct shws_file *f;
	uint32_t pitch;
	int fd;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_PRIMARY);
	f = file_open(fd, SHWS_API_GL);
	CHECK_OK(shws_bo_create_dumb(f, 8, 8, 32, SHWS_API_GL, &a, &pitch));
	CHECK_OK(shws_bo_ref(a, SHWS_API_VA));
	CHECK_OK(shws_bo_unref(a, SHWS_API_VA));
	CHECK_INT(shws_bo_unref(a, SHWS_API_VA), ==, -EINVAL);
	CHECK_INT(shws_bo_unref(a, SHWS_API_COUNT), ==, -EINVAL);
	CHECK_INT(shws_bo_api_refs(a, SHWS_API_GL), ==, 1);
	CHECK_INT(fake_gem_handles(fd), ==, 1);
	CHECK_OK(shws_bo_unref(a, SHWS_API_GL));
	CHECK_INT(fake_gem_handles(fd), ==, 0);
	CHECK_OK(shws_file_unref(f, SHWS_API_GL));
	close(fd);
	end("bo-double-unref");
}

/* Regression (docs/reliability.md): a file's per-api double unref is
 * refused like a bo's, and the other api's reference survives. */
static void test_file_double_unref(void)
{
	struct shws_file *f, *g;
	int fd, with_file;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_RENDER);
	f = file_open(fd, SHWS_API_GL);
	g = file_open(fd, SHWS_API_VA);
	CHECK(f == g);
	with_file = test_fd_count();
	CHECK_OK(shws_file_unref(f, SHWS_API_GL));
	CHECK_INT(shws_file_unref(f, SHWS_API_GL), ==, -EINVAL);
	CHECK_INT(shws_file_unref(f, SHWS_API_VULKAN), ==, -EINVAL);
	CHECK_INT(shws_file_unref(f, SHWS_API_COUNT), ==, -EINVAL);
	/* VA's reference still holds the file and shws's fd. */
	CHECK_INT(test_fd_count(), ==, with_file);
	CHECK_INT(shws_file_api_refs(g, SHWS_API_VA), ==, 1);
	CHECK_INT(shws_file_api_refs(g, SHWS_API_GL), ==, 0);
	CHECK_INT(shws_file_ref(g, SHWS_API_COUNT), ==, -EINVAL);
	CHECK_INT(shws_file_ref(NULL, SHWS_API_GL), ==, -EINVAL);
	CHECK_OK(shws_file_unref(NULL, SHWS_API_GL));
	CHECK_OK(shws_file_ref(g, SHWS_API_OTHER));
	CHECK_OK(shws_file_unref(g, SHWS_API_OTHER));
	CHECK_OK(shws_file_unref(g, SHWS_API_VA));
	CHECK_INT(test_fd_count(), ==, with_file - 1);
	close(fd);
	end("file-double-unref");
}

/* --- Regression (docs/reliability.md): adopt's -EEXIST path racing the
 * owner's last unref. The log handler holds adopt right after it took
 * its temporary reference (it logs the conflict under the file's lock)
 * until the other thread's unref (lock-free: the count was 2) is done. */

static atomic_int race_phase; /* 1: adopt logged, 2: unref done */

static void race_log(enum shws_log_level level, const char *fmt,
		     va_list args)
{
	struct timespec ts = { 0, 1000000 };

	(void)level;
	(void)args;
	if (!strstr(fmt, "adopt of handle"))
		return;
	atomic_store(&race_phase, 1);
	for (int i = 0; i < 5000 && atomic_load(&race_phase) != 2; i++)
		nanosleep(&ts, NULL);
}

struct race_arg {
	struct shws_bo *bo;
	int ret;
};

static void *race_unref(void *p)
{
	struct race_arg *arg = p;
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < 5000 && atomic_load(&race_phase) != 1; i++)
		nanosleep(&ts, NULL);
	arg->ret = shws_bo_unref(arg->bo, SHWS_API_GL);
	atomic_store(&race_phase, 2);
	return NULL;
}

static void test_adopt_conflict_race(void)
{
	struct race_arg arg;
	struct shws_bo *bo, *x;
	struct shws_file *f;
	pthread_t t;
	int fd, dmabuf, r;
	uint32_t h;

	begin();
	fd = drm_open(dev_a, SHWS_NODE_RENDER);
	f = file_open(fd, SHWS_API_GL);
	dmabuf = dmabuf_new(4096);
	CHECK_OK(shws_bo_import_dmabuf(f, dmabuf, SHWS_API_GL, &bo));
	close(dmabuf);
	h = shws_bo_handle(bo);

	atomic_store(&race_phase, 0);
	shws_log_init(SHWS_LOG_ERROR, race_log);
	arg.bo = bo;
	arg.ret = 1;
	CHECK_INT(pthread_create(&t, NULL, race_unref, &arg), ==, 0);
	r = shws_bo_adopt(f, fd, h, 4096 + 4096, SHWS_API_VA, &x);
	CHECK_INT(pthread_join(t, NULL), ==, 0);
	shws_log_init(SHWS_LOG_SILENT, NULL);
	CHECK_INT(atomic_load(&race_phase), ==, 2);
	CHECK_INT(r, ==, -EEXIST);
	CHECK_OK(arg.ret);

	/* The owner's unref was the last reference but adopt's: adopt must
	 * have retired the bo, closed the handle and released the file. */
	CHECK_INT(fake_gem_handles(fd), ==, 0);
	CHECK(!shws_bo_lookup(f, h, SHWS_API_GL));
	CHECK_OK(shws_file_unref(f, SHWS_API_GL));
	close(fd);
	end("adopt-conflict-race");
}

/* --- Threads: several apis importing, looking up, translating, exporting
 * and releasing the same buffers at once, with the lock-free lookups and
 * unrefs racing the locked last unrefs. Each thread is one api and holds
 * only its own references; every bo it gets must be the buffer it asked
 * for (the fake's object behind the handle). */

#define THREADS 4
#define BUFS 4
#define HELD_MAX 3
#define THREAD_OPS 100000

struct worker {
	enum shws_api api;
	unsigned seed;
	struct shws_file *file[2];
	int dmabuf[BUFS];
	unsigned obj[BUFS];
	unsigned ops;
};

static unsigned rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

static void *worker_run(void *p)
{
	struct worker *w = p;
	struct shws_bo *held[HELD_MAX];
	unsigned n = 0, objs[HELD_MAX];

	for (unsigned i = 0; i < THREAD_OPS; i++) {
		unsigned r = rnd(&w->seed), k = r % BUFS;
		struct shws_bo *bo = NULL;
		unsigned obj = 0;
		int fd;

		switch ((r >> 8) % 6) {
		case 0:
		case 1: /* import into either file */
			if (n == HELD_MAX)
				break;
			CHECK_OK(shws_bo_import_dmabuf(w->file[r >> 12 & 1],
						       w->dmabuf[k], w->api,
						       &bo));
			obj = w->obj[k];
			break;
		case 2: /* lookup of a handle held, or of any small number */
			if (n == HELD_MAX || !n)
				break;
			bo = shws_bo_lookup(shws_bo_file(held[k % n]),
					    shws_bo_handle(held[k % n]),
					    w->api);
			CHECK(bo == held[k % n]);
			obj = objs[k % n];
			break;
		case 3: /* translate into the other file */
			if (n == HELD_MAX || !n)
				break;
			CHECK_OK(shws_bo_translate(
				held[k % n],
				w->file[shws_bo_file(held[k % n]) == w->file[0]],
				w->api, &bo));
			obj = objs[k % n];
			break;
		case 4: /* export */
			if (!n)
				break;
			CHECK_OK(shws_bo_export_dmabuf(held[k % n], &fd));
			CHECK_INT(fake_dmabuf_object(fd), ==, objs[k % n]);
			close(fd);
			break;
		default: /* release */
			if (!n)
				break;
			k %= n;
			CHECK_OK(shws_bo_unref(held[k], w->api));
			n--;
			held[k] = held[n];
			objs[k] = objs[n];
			break;
		}
		if (bo) {
			CHECK_INT(object_of(bo), ==, obj);
			CHECK_INT(shws_bo_api_refs(bo, w->api), >=, 1);
			held[n] = bo;
			objs[n++] = obj;
		}
		w->ops++;
	}
	while (n)
		CHECK_OK(shws_bo_unref(held[--n], w->api));
	return NULL;
}

static void test_threads(void)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int fdr, fdk, dmabuf[BUFS];
	struct shws_file *r, *k;

	begin();
	fdr = drm_open(dev_a, SHWS_NODE_RENDER);
	fdk = drm_open(dev_a, SHWS_NODE_PRIMARY);
	r = file_open(fdr, SHWS_API_OTHER);
	k = file_open(fdk, SHWS_API_OTHER);
	for (int i = 0; i < BUFS; i++)
		dmabuf[i] = dmabuf_new(4096 * (i + 1));
	for (int i = 0; i < THREADS; i++) {
		w[i].api = (enum shws_api)i;
		w[i].seed = 1234u + (unsigned)i;
		w[i].file[0] = r;
		w[i].file[1] = k;
		w[i].ops = 0;
		for (int b = 0; b < BUFS; b++) {
			w[i].dmabuf[b] = dmabuf[b];
			w[i].obj[b] = fake_dmabuf_object(dmabuf[b]);
		}
		CHECK_INT(pthread_create(&t[i], NULL, worker_run, &w[i]), ==, 0);
	}
	for (int i = 0; i < THREADS; i++) {
		CHECK_INT(pthread_join(t[i], NULL), ==, 0);
		CHECK_INT(w[i].ops, ==, THREAD_OPS);
	}
	CHECK_INT(fake_gem_handles(fdr), ==, 0);
	CHECK_INT(fake_gem_handles(fdk), ==, 0);
	for (int i = 0; i < BUFS; i++)
		close(dmabuf[i]);
	CHECK_OK(shws_file_unref(r, SHWS_API_OTHER));
	CHECK_OK(shws_file_unref(k, SHWS_API_OTHER));
	close(fdr);
	close(fdk);
	end("threads");
}

int main(void)
{
	test_prime_dedupe();
	test_flink();
	test_adopt();
	test_adopt_huge_handle();
	test_create_dumb();
	test_lookup_find();
	test_translate();
	test_bo_double_unref();
	test_file_double_unref();
	test_adopt_conflict_race();
	test_threads();
	return 0;
}
