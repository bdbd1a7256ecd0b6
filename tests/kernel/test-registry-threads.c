/* SPDX-License-Identifier: MIT */
/*
 * The registry under concurrency: 8 threads open, ref and unref files of
 * shared descriptions (one kept alive by the main thread, one whose file
 * comes and goes) and of their own descriptions. Every opener of a live
 * description must get the live file; nothing leaks.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <shws/file.h>
#include <shws/identity.h>

#include "kt.h"

#define THREADS 8
#define ROUNDS 150

static int anchored_fd, churn_fd;
static struct shws_file *anchor;
static atomic_int failures;

static void fail(const char *what)
{
	fprintf(stderr, "thread: %s\n", what);
	atomic_fetch_add(&failures, 1);
}

static void *worker(void *arg)
{
	enum shws_api api = (enum shws_api)((long)arg % SHWS_API_COUNT);
	struct shws_file *f, *own;
	int i, d, mine;

	for (i = 0; i < ROUNDS; i++) {
		/* A live description: always the live file. */
		d = fcntl(anchored_fd, F_DUPFD_CLOEXEC, 0);
		if (d < 0 || shws_file_open(d, 0, api, &f) != 0) {
			fail("open anchored");
			break;
		}
		close(d); /* the opener's fd may go at once */
		if (f != anchor)
			fail("anchored description gave another file");
		if (shws_file_ref(f, SHWS_API_OTHER) ||
		    shws_file_unref(f, SHWS_API_OTHER))
			fail("ref/unref of a held file failed");
		shws_file_unref(f, api);

		/* A description whose file is created and destroyed by
		 * whichever thread comes first and last. */
		d = fcntl(churn_fd, F_DUPFD_CLOEXEC, 0);
		if (d < 0 || shws_file_open(d, 0, api, &f) != 0) {
			fail("open churn");
			break;
		}
		if (shws_identity_compare(shws_file_fd(f), churn_fd) !=
		    SHWS_IDENTITY_SAME)
			fail("churn file is another description");
		close(d);
		shws_file_unref(f, api);

		/* A description of its own: never anyone else's file. */
		if (i % 16 == 0) {
			mine = kt_open_driver("vgem", KT_RENDER);
			if (shws_file_open(mine, 0, api, &own) != 0)
				fail("open own");
			else if (own == anchor)
				fail("own description gave the anchor");
			else
				shws_file_unref(own, api);
			close(mine);
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t threads[THREADS];
	int before = test_fd_count();
	long i;

	kt_banner("registry-threads");
	anchored_fd = kt_open_driver("vgem", KT_RENDER);
	churn_fd = kt_open_driver("vgem", KT_RENDER);
	CHECK_OK(shws_file_open(anchored_fd, 0, SHWS_API_OTHER, &anchor));
	for (i = 0; i < THREADS; i++)
		CHECK_INT(pthread_create(&threads[i], NULL, worker, (void *)i),
			  ==, 0);
	for (i = 0; i < THREADS; i++)
		CHECK_INT(pthread_join(threads[i], NULL), ==, 0);
	CHECK_INT(atomic_load(&failures), ==, 0);
	CHECK_INT(shws_file_api_refs(anchor, SHWS_API_OTHER), ==, 1);
	CHECK_INT(shws_file_api_refs(anchor, SHWS_API_GL), ==, 0);
	test_pass("concurrent-open-unref");

	shws_file_unref(anchor, SHWS_API_OTHER);
	close(churn_fd);
	close(anchored_fd);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("no-fd-leak");
	return 0;
}
