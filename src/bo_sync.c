/* SPDX-License-Identifier: MIT */
/* sync_file export/import on a shws_bo: through a dma-buf of the bo, whose
 * reservation is the GEM object's own (drm_gem_prime_export shares
 * obj->resv), so the fences are the ones the driver's submissions use. */
#include <errno.h>
#include <unistd.h>

#include <shws/bo.h>
#include <shws/sync_file.h>

#include "util.h"

/* The same argument checks, in the same order, as the dma-buf functions,
 * so a bad call gets the same errno whichever form it uses. */
static int check_args(const struct shws_bo *bo, unsigned flags)
{
	if (!bo || !flags || (flags & ~SHWS_SYNC_RW))
		return -EINVAL;
	return 0;
}

SHWS_EXPORT int shws_bo_export_sync_file(struct shws_bo *bo, unsigned flags,
					 int *sync_file_out)
{
	int r = check_args(bo, flags), dmabuf;

	if (r)
		return r;
	if (!sync_file_out)
		return -EINVAL;
	r = shws_bo_export_dmabuf(bo, &dmabuf);
	if (r)
		return r;
	r = shws_dmabuf_export_sync_file(dmabuf, flags, sync_file_out);
	close(dmabuf);
	return r;
}

SHWS_EXPORT int shws_bo_import_sync_file(struct shws_bo *bo, unsigned flags,
					 int sync_file_fd)
{
	int r = check_args(bo, flags), dmabuf;

	if (r)
		return r;
	/* Identify the caller's fd before this function opens one of its
	 * own: a closed @sync_file_fd's number would be reused by the
	 * temporary dma-buf, and the caller would get -EINVAL ("not a
	 * sync_file") for -EBADF. */
	r = shws_is_sync_file(sync_file_fd);
	if (r <= 0)
		return r ? r : -EINVAL;
	r = shws_bo_export_dmabuf(bo, &dmabuf);
	if (r)
		return r;
	r = shws_dmabuf_import_sync_file(dmabuf, flags, sync_file_fd);
	close(dmabuf);
	return r;
}
