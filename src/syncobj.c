/* SPDX-License-Identifier: MIT */
/* syncobj <-> sync_file, where the device has syncobjs at all. */
#include <errno.h>
#include <stddef.h>
#include <xf86drm.h>

#include <shws/sync_file.h>

#include "util.h"

/* Asked on every call, not cached: the answer belongs to the device behind
 * @drm_fd, and one process can hold several. Checking first also gives one
 * answer whatever errno a kernel's syncobj ioctls use for "no
 * DRIVER_SYNCOBJ" (EOPNOTSUPP on 6.1; older kernels differed). */
static int require_syncobj(int drm_fd)
{
	uint64_t value = 0;

	if (drm_fd < 0)
		return -EBADF;
	if (drmGetCap(drm_fd, DRM_CAP_SYNCOBJ, &value))
		return shws_neg_errno();
	return value ? 0 : -EOPNOTSUPP;
}

SHWS_EXPORT int shws_syncobj_import_sync_file(int drm_fd, uint32_t syncobj,
					      int sync_file_fd)
{
	int r = require_syncobj(drm_fd);

	if (r)
		return r;
	r = shws_sync_file_check(sync_file_fd);
	if (r)
		return r;
	if (drmSyncobjImportSyncFile(drm_fd, syncobj, sync_file_fd))
		return shws_neg_errno();
	return 0;
}

SHWS_EXPORT int shws_syncobj_export_sync_file(int drm_fd, uint32_t syncobj,
					      int *out)
{
	int fd = -1;
	int r;

	if (!out)
		return -EINVAL;
	r = require_syncobj(drm_fd);
	if (r)
		return r;
	/* The kernel creates the sync_file fd O_CLOEXEC. */
	if (drmSyncobjExportSyncFile(drm_fd, syncobj, &fd))
		return shws_neg_errno();
	*out = fd;
	return 0;
}
