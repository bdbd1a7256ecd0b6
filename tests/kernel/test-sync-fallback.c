/* SPDX-License-Identifier: MIT */
/*
 * test-sync-wsi.c again with SHWS_DMABUF_SYNC=fallback: the path kernels
 * without DMA_BUF_IOCTL_EXPORT/IMPORT_SYNC_FILE (< 6.0) take, forced on
 * this one. Same ordering checks; acquire returns -1 after blocking in
 * poll(), release blocks until the render-done fence signalled.
 */
#define SYNC_TEST_MODE "fallback"
#include "test-sync-wsi.c"
