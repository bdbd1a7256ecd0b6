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

#include "file.h"
#include "private.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shws_device *devices; /* registry_lock */
static atomic_uint generation;
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
	devices = NULL;
	atomic_fetch_add(&generation, 1);
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

unsigned shws_registry_generation(void)
{
	return atomic_load(&generation);
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

/* Inherited devices are not in this process's list any more. */
void shws_registry_remove_device(struct shws_device *dev)
{
	struct shws_device **p;

	if (dev->generation != shws_registry_generation())
		return;
	for (p = &devices; *p; p = &(*p)->next) {
		if (*p == dev) {
			*p = dev->next;
			return;
		}
	}
}
