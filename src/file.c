/* SPDX-License-Identifier: MIT */
/*
 * Files: one open file description on a DRM node (file_priv.h). The
 * registry decides when a file is created and destroyed; this module owns
 * what a file holds.
 */
#include <stdlib.h>
#include <unistd.h>

#include "device_priv.h"
#include "file_priv.h"

atomic_uint shws_fork_generation;

void shws_file_generation_bump(void)
{
	atomic_fetch_add(&shws_fork_generation, 1);
}

struct shws_file *shws_file_create(struct shws_device *device, int fd,
				   dev_t rdev, enum shws_node_type node,
				   bool is_private)
{
	struct shws_file *file = calloc(1, sizeof(*file));

	if (!file)
		return NULL;
	file->fd = fd;
	file->device = device;
	file->rdev = rdev;
	file->node = node;
	file->is_private = is_private;
	file->generation = shws_generation();
	shws_mutex_init(&file->lock);
	shws_bo_table_init(&file->table);
	atomic_init(&file->refs, 0);
	for (unsigned i = 0; i < SHWS_API_COUNT; i++)
		atomic_init(&file->api_refs[i], 0);
	return file;
}

static void log_leftover(struct shws_slot *slot, void *data)
{
	(void)data;
	shws_dbg("handle %u left in a dying file", slot->handle);
}

void shws_file_destroy(struct shws_file *file)
{
	shws_file_log(file, "destroyed");
	shws_bo_table_foreach(&file->table, log_leftover, NULL);
	shws_bo_table_fini(&file->table);
	close(file->fd);
	free(file);
}

void shws_file_log(const struct shws_file *file, const char *what)
{
	shws_dbg("file %p fd %d (%s %s%s%s) %s: refs %u, gl %u vulkan %u "
		 "va %u other %u", (const void *)file, file->fd,
		 shws_device_driver(file->device),
		 shws_node_type_name(file->node),
		 file->is_private ? ", private" : "",
		 shws_file_inherited(file) ? ", inherited" : "", what,
		 atomic_load(&file->refs),
		 atomic_load(&file->api_refs[SHWS_API_GL]),
		 atomic_load(&file->api_refs[SHWS_API_VULKAN]),
		 atomic_load(&file->api_refs[SHWS_API_VA]),
		 atomic_load(&file->api_refs[SHWS_API_OTHER]));
}

SHWS_EXPORT int shws_file_fd(const struct shws_file *file)
{
	return file->fd;
}

SHWS_EXPORT struct shws_device *shws_file_device(const struct shws_file *file)
{
	return file->device;
}

SHWS_EXPORT enum shws_node_type shws_file_node_type(const struct shws_file *file)
{
	return file->node;
}

SHWS_EXPORT bool shws_file_is_private(const struct shws_file *file)
{
	return file->is_private;
}

SHWS_EXPORT unsigned shws_file_api_refs(const struct shws_file *file,
					enum shws_api api)
{
	return shws_api_valid(api) ? atomic_load(&file->api_refs[api]) : 0;
}
