/* SPDX-License-Identifier: MIT */
/*
 * The registry's binary search in kcmp order (file.c, docs/registry.md):
 * with many files on one device (both nodes of vgem), every description
 * is found again through any fd of it, new descriptions get new files, and
 * the device's ordered array stays complete and strictly sorted while files
 * come and go in a shuffled order. When kcmp is not the chosen method (a
 * kernel with F_DUPFD_QUERY) the same checks hold through the list scan.
 */
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <shws/file.h>
#include <shws/identity.h>

#include "registry_priv.h"
#include "kt.h"
#include "test.h"

#define N 40

static int fds[N];
static struct shws_file *files[N];
static bool live[N];

/* The index is kept in kcmp's order wherever the policy allows kcmp,
 * even where single comparisons use F_DUPFD_QUERY (6.10+). */
static bool kcmp_allowed(void)
{
	return shws_identity_methods() &
	       SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_KCMP);
}

/* The white-box invariant: every shared file of the device is in the
 * array, strictly increasing in kcmp's order. */
static void check_order(struct shws_device *dev, unsigned want)
{
	pid_t pid = getpid();
	int fd[N + 1];
	unsigned n;
	bool sorted;

	if (!kcmp_allowed())
		return;
	shws_registry_index_snapshot(dev, fd, N + 1, &n, &sorted);
	CHECK(sorted);
	CHECK_INT(n, ==, want);
	for (unsigned i = 1; i < n; i++)
		CHECK_INT(syscall(SYS_kcmp, pid, pid, KCMP_FILE, fd[i - 1],
				  fd[i]), ==, 1);
}

/* Every live description is found again through a dup of its fd. */
static void check_all_found(void)
{
	for (int i = 0; i < N; i++) {
		struct shws_file *f;
		int d;

		if (!live[i])
			continue;
		d = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		CHECK_SYS(d);
		CHECK_OK(shws_file_open(d, 0, SHWS_API_VA, &f));
		CHECK(f == files[i]);
		shws_file_unref(f, SHWS_API_VA);
		close(d);
	}
}

static void test_order(void)
{
	int before = test_fd_count(), order[N];
	struct shws_device *dev;
	struct shws_file *f;
	uint32_t seed = 12345;
	unsigned n = 0;

	for (int i = 0; i < N; i++) {
		fds[i] = kt_open_driver("vgem", i % 3 ? KT_PRIMARY : KT_RENDER);
		CHECK_OK(shws_file_open(fds[i], 0, SHWS_API_GL, &files[i]));
		live[i] = true;
		for (int j = 0; j < i; j++)
			CHECK(files[j] != files[i]);
		order[i] = i;
	}
	dev = shws_file_device(files[0]);
	check_order(dev, N);
	check_all_found();

	/* Release in a shuffled order; check as we go. */
	for (int i = N - 1; i > 0; i--) {
		int j, t;

		seed = seed * 1103515245u + 12345u;
		j = (int)((seed >> 8) % (uint32_t)(i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < N; k++) {
		int i = order[k];

		shws_file_unref(files[i], SHWS_API_GL);
		close(fds[i]);
		live[i] = false;
		n = (unsigned)(N - k - 1);
		if (n)
			check_order(dev, n);
		if (k % 7 == 0)
			check_all_found();
	}

	/* A fresh start after the device went away. */
	fds[0] = kt_open_driver("vgem", KT_PRIMARY);
	CHECK_OK(shws_file_open(fds[0], 0, SHWS_API_GL, &f));
	check_order(shws_file_device(f), 1);
	shws_file_unref(f, SHWS_API_GL);
	close(fds[0]);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass(kcmp_allowed() ? "order-kcmp" : "order-scan");
}

int main(void)
{
	kt_banner("registry-order");
	/* Both kernels have kcmp: the index is in its order on 6.1 (where
	 * kcmp is also the method of single comparisons) and on 6.12 (where
	 * F_DUPFD_QUERY is). */
	CHECK(kcmp_allowed());
	CHECK_INT(shws_identity_chosen_method() == SHWS_IDENTITY_METHOD_KCMP,
		  ==, kt_kernel_before(6, 10));
	printf("registry-order: kcmp order, single comparisons by %s\n",
	       shws_identity_method_name(shws_identity_chosen_method()));
	test_order();
	return 0;
}
