/* SPDX-License-Identifier: MIT */
/*
 * The process-wide registry: the list of devices, each with its shared
 * files, under one lock. It lives in libshws.so, so every driver .so in the
 * process sees the same one.
 *
 * fork(): a child shares every open file description with its parent, and
 * with it every GEM handle; a GEM_CLOSE in the child kills the parent's
 * buffer (KERNEL-FACTS "fork()"). The child therefore starts with an empty
 * registry and a new fork generation: objects of an older generation are
 * "inherited" and only ever abandoned there.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <shws/identity.h>

#include "file.h"
#include "private.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shws_device *devices; /* registry_lock */
/* Devices of earlier fork generations still referenced in this process
 * (registry_lock): not findable, but their files are still compared
 * against, so that a description shared with the parent is recognised. */
static struct shws_device *inherited;
atomic_uint shws_fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Hold the lock across fork() so the child's copy of the list is not
 * caught half-updated by another thread. */
static void before_fork(void)
{
	pthread_mutex_lock(&registry_lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&registry_lock);
}

/* The inherited devices and files stay allocated for whoever still holds
 * references in the child; they are just no longer findable. */
static void after_fork_child(void)
{
	struct shws_device **tail = &devices;

	while (*tail)
		tail = &(*tail)->next;
	*tail = inherited;
	inherited = devices;
	devices = NULL;
	atomic_fetch_add(&shws_fork_generation, 1);
	pthread_mutex_unlock(&registry_lock);
}

static void install_atfork(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

void shws_registry_lock(void)
{
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&registry_lock);
}

void shws_registry_unlock(void)
{
	pthread_mutex_unlock(&registry_lock);
}

static bool device_has_rdev(const struct shws_device *dev, dev_t rdev)
{
	int i;

	for (i = 0; i < SHWS_NODE_COUNT; i++)
		if (dev->node_rdev[i] == rdev)
			return true;
	return false;
}

struct shws_device *shws_registry_find_device(dev_t rdev)
{
	struct shws_device *dev;

	for (dev = devices; dev; dev = dev->next)
		if (device_has_rdev(dev, rdev))
			return dev;
	return NULL;
}

struct shws_device *shws_registry_find_equal(const struct shws_device *like)
{
	struct shws_device *dev;

	for (dev = devices; dev; dev = dev->next)
		if (shws_device_equal(dev, like))
			return dev;
	return NULL;
}

void shws_registry_add_device(struct shws_device *dev)
{
	dev->generation = shws_registry_generation();
	dev->next = devices;
	devices = dev;
}

/* Inherited devices are on the inherited list, not the registry's. */
void shws_registry_remove_device(struct shws_device *dev)
{
	struct shws_device **p;

	p = dev->generation == shws_registry_generation() ? &devices :
							    &inherited;
	for (; *p; p = &(*p)->next) {
		if (*p == dev) {
			*p = dev->next;
			return;
		}
	}
}

/*
 * In a child: may @fd (on node @rdev) be a description shared with the
 * parent, through a file shws had before fork()? SAME or UNKNOWN against
 * any live inherited file says so. A file for it in the child would share
 * the parent's GEM handles (PRIME import returns the parent's handle for
 * the parent's buffer), and its GEM_CLOSEs would kill the parent's
 * buffers.
 */
bool shws_registry_shared_with_parent(int fd, dev_t rdev)
{
	struct shws_device *dev;
	struct shws_file *file;

	for (dev = inherited; dev; dev = dev->next)
		for (file = dev->files; file; file = file->next)
			if (file->rdev == rdev &&
			    shws_identity_compare(fd, file->fd) !=
				    SHWS_IDENTITY_DIFFERENT)
				return true;
	return false;
}
