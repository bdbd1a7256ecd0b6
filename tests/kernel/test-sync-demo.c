/* SPDX-License-Identifier: MIT */
/*
 * Runs src/tools/shws-demo (built beside this test) on the VM's virtio_gpu:
 * a real KMS present loop whose every frame must be complete when it
 * reaches the screen, with the ioctl path and with the forced fallback.
 * The --implicit run is reported, not judged (its result depends on the
 * kernel: 6.1 virtio_gpu ignores implicit fences on flips).
 */
#include <libgen.h>
#include <limits.h>
#include <sys/wait.h>

#include "kt.h"

static char demo[PATH_MAX];

static void find_demo(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		test_fail("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	/* build/tests/kernel/ktest-sync-demo -> build/src/tools/shws-demo */
	snprintf(demo, sizeof(demo), "%s/../../src/tools/shws-demo",
		 dirname(self));
	if (access(demo, X_OK))
		test_fail("%s: %s (built with -Dtools=false?)", demo,
			  strerror(errno));
}

/* Runs the demo, echoes its output, returns its exit status; @out gets
 * the output for checks. */
static int run(const char *env, const char *args, char *out, size_t len)
{
	char cmd[PATH_MAX + 256];
	size_t used = 0;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "%s '%s' %s 2>&1", env, demo, args);
	printf("$ %s\n", cmd);
	p = popen(cmd, "r");
	if (!p)
		test_fail("popen: %s", strerror(errno));
	while (used + 1 < len && fgets(out + used, (int)(len - used), p))
		used += strlen(out + used);
	out[used] = '\0';
	fputs(out, stdout);
	status = pclose(p);
	CHECK(WIFEXITED(status));
	return WEXITSTATUS(status);
}

int main(void)
{
	char out[4096];

	kt_banner("sync-demo");
	find_demo();

	CHECK_INT(run("", "--frames 20", out, sizeof(out)), ==, 0);
	CHECK(strstr(out, "20 frames, 0 shown before rendering finished, "
			  "0 out of order"));
	CHECK(strstr(out, "ioctls used"));
	test_pass("demo-explicit");

	CHECK_INT(run("SHWS_DMABUF_SYNC=fallback", "--frames 10", out,
		      sizeof(out)),
		  ==, 0);
	CHECK(strstr(out, "10 frames, 0 shown before rendering finished"));
	CHECK(strstr(out, "NOT used (fallback)"));
	test_pass("demo-fallback");

	CHECK_INT(run("", "--frames 10 --implicit", out, sizeof(out)), ==, 0);
	CHECK(strstr(out, "implicit: "));
	test_pass("demo-implicit-reported");
	test_pass("sync-demo");
	return 0;
}
