/* SPDX-License-Identifier: MIT */
#ifndef SHWS_BO_H
#define SHWS_BO_H

#include <stdint.h>
#include <stdio.h>

#include <shws/api.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shws_file;

/**
 * A buffer object: one GEM handle in one shws_file, with a reference count
 * shared by every API of the process. There is exactly one shws_bo per
 * (file, handle): every way of getting a handle (PRIME import, flink
 * import, adopting a driver-created handle, lookup) returns the same
 * object, so GL, Vulkan and VA-API on one file can never close each
 * other's handle. The kernel keeps no count per import; shws does.
 *
 * Ownership:
 *  - A struct shws_bo pointer is valid while the caller holds a reference.
 *    Every function that returns one gives the caller one reference,
 *    tagged with the enum shws_api passed in; release it with
 *    shws_bo_unref() and the same api.
 *  - The GEM handle belongs to shws. Callers use it for their own ioctls
 *    (command submission, mmap offsets ...) but never GEM_CLOSE it: shws
 *    closes it when the last reference goes, under the file's lock.
 *  - Every handle of a file must reach shws: a driver creates buffers
 *    with shws_bo_create_dumb(), or with its own create ioctl on a fd of
 *    the file's own description, and gives that handle to shws_bo_adopt()
 *    before anyone can import the same buffer (the kernel would return
 *    that handle).
 *  - A live bo keeps its file alive (its own dup of the device fd), so the
 *    application may close its device fd and its dma-buf fds at once.
 *    A bo holds nothing else: no bo keeps another alive.
 *
 * Thread-safety: every function may be called from any thread, on the
 * same bo or file concurrently. shws_bo_lookup() takes no lock and makes
 * no syscall; imports and the last unref take the file's lock.
 *
 * After fork(): in the child, bos of files created before the fork are
 * inert. Functions that would make an ioctl return -ECHILD, lookups return
 * NULL, and the last unref never closes the handle (it is the parent's).
 */
struct shws_bo;

/**
 * Imports a dma-buf. @dmabuf_fd is borrowed: shws neither keeps nor closes
 * it. If the buffer already has a handle in @file (the kernel returns the
 * existing handle), the existing bo gets a new reference.
 *
 * Returns 0 and sets *@out, or:
 *  -EINVAL: @api out of range, @out NULL, or @dmabuf_fd is not a dma-buf
 *           (pipe, DRM fd, sync_file: the kernel's answer);
 *  -EBADF:  @dmabuf_fd is negative or not open;
 *  -ENODEV and other kernel errnos: the driver of @file cannot import a
 *           dma-buf of that exporter (e.g. vgem -> virtio_gpu on 6.1);
 *  -ECHILD: @file was inherited through fork();
 *  -ENOMEM.
 */
int shws_bo_import_dmabuf(struct shws_file *file, int dmabuf_fd,
			  enum shws_api api, struct shws_bo **out);

/**
 * Imports a flink (global) name. GEM_OPEN returns a new handle on every
 * call, so shws keeps a name table per file and returns the existing bo
 * for a name it has seen (imported or flinked) in this file.
 * Only primary (card) nodes allow this.
 *
 * Returns 0 and sets *@out, or:
 *  -EINVAL: @name is 0, @api out of range or @out NULL;
 *  -ENOENT: no buffer has that name;
 *  -EACCES: @file is a render node (the kernel refuses flink there);
 *  -ECHILD, -ENOMEM, or another kernel errno.
 */
int shws_bo_import_flink(struct shws_file *file, uint32_t name,
			 enum shws_api api, struct shws_bo **out);

/**
 * Hands a GEM handle the driver created itself (its own create ioctl) to
 * shws. @fd is the fd the driver created it on: it must be @file's own
 * description (shws_file_fd(@file) always is), since a handle is a number
 * in one description's namespace; shws checks (one identity comparison
 * unless @fd is shws_file_fd(@file)). On success the handle belongs to
 * shws: the caller must not GEM_CLOSE it any more. If @handle is already
 * live in the table with the same @size, that bo is returned with a new
 * reference and the caller's ownership simply merges into it (there is
 * one kernel handle either way). On failure the caller keeps ownership of
 * @handle.
 *
 * Returns 0 and sets *@out, or:
 *  -EINVAL: @handle or @size is 0, @api out of range or @out NULL;
 *  -ERANGE: @handle is above SHWS_BO_HANDLE_MAX (no kernel hands out such
 *           a handle to a file with fewer live buffers; the table refuses
 *           to size itself by a bogus number);
 *  -EXDEV:  @fd is not @file's description, or shws cannot tell (a
 *           private file, or no identity method): the handle would name
 *           another buffer, or none, in @file;
 *  -EBADF:  @fd is not open;
 *  -EEXIST: @handle is live in the table with another size: it is a
 *           different buffer, so the table and the kernel disagree (the
 *           caller closed a handle owned by shws). Nothing changed.
 *  -ECHILD, -ENOMEM.
 */
int shws_bo_adopt(struct shws_file *file, int fd, uint32_t handle,
		  uint64_t size, enum shws_api api, struct shws_bo **out);

/** The highest GEM handle shws_bo_adopt() accepts (2^20 - 1). */
#define SHWS_BO_HANDLE_MAX ((1u << 20) - 1)

/**
 * Creates a dumb buffer (DRM_IOCTL_MODE_CREATE_DUMB) on the file's own
 * description, through shws_file_fd(@file), so its handle is in @file's
 * namespace whatever fds the caller has: the safe way to create a buffer
 * in a private file. *@pitch_out gets the row pitch in bytes;
 * shws_bo_size() is the kernel's size. Map it with DRM_IOCTL_MODE_MAP_DUMB
 * and mmap() on shws_file_fd(@file); never DESTROY_DUMB it (shws closes
 * the handle with its last reference).
 *
 * Returns 0 and sets *@out, or:
 *  -EINVAL: a zero dimension or bpp, a NULL pointer, @api out of range,
 *           or the kernel's answer (an unsupported bpp, e.g. 8 or 16 on
 *           virtio_gpu; overflowing sizes);
 *  -EACCES: a render node (the kernel refuses dumb buffers there);
 *  -ECHILD, -ENOMEM, or another kernel errno.
 */
int shws_bo_create_dumb(struct shws_file *file, uint32_t width,
			uint32_t height, uint32_t bpp, enum shws_api api,
			struct shws_bo **out, uint32_t *pitch_out);

/**
 * The live bo of @handle in @file with a new reference, or NULL (handle 0,
 * unknown, already released, @api out of range, or an inherited file).
 * Lock-free and syscall-free.
 */
struct shws_bo *shws_bo_lookup(struct shws_file *file, uint32_t handle,
			       enum shws_api api);

/**
 * The live bo of @handle in @file *without* a reference (a borrowed
 * pointer), or NULL (handle 0 or unknown, or an inherited file). Valid
 * only while the caller holds a reference on that bo, on behalf of any
 * api: for a driver that keeps its own reference and needs the bo of a
 * handle again. It reads and writes no shared counter, so lookups of the
 * same buffers on several threads do not bounce cache lines between
 * cores (docs/performance.md, P1). Lock-free and syscall-free.
 */
struct shws_bo *shws_bo_find(struct shws_file *file, uint32_t handle);

/**
 * Takes another reference for @api. The caller must already hold one (on
 * behalf of any api). Returns 0, or -EINVAL (@bo NULL or @api out of
 * range: nothing taken).
 */
int shws_bo_ref(struct shws_bo *bo, enum shws_api api);

/**
 * Drops a reference held by @api. The last one closes the GEM handle,
 * under the file's lock, and releases the bo's translations. NULL is
 * accepted and ignored.
 *
 * Returns 0, or -EINVAL if @api holds no reference on @bo (a double unref,
 * or the wrong api): nothing is changed then, so the other APIs' buffers
 * stay intact. A bo pointer used after its last unref is a use after free
 * that shws cannot always detect (the storage is reused for the next
 * buffer that gets the same handle number), though it never faults.
 */
int shws_bo_unref(struct shws_bo *bo, enum shws_api api);

/**
 * Exports @bo as a dma-buf, always with DRM_CLOEXEC | DRM_RDWR (the first
 * export fixes the access mode for the buffer's life, so shws never asks
 * for less). The caller owns *@fd_out and closes it. Repeated exports
 * return fds of the same dma-buf (same st_ino).
 *
 * Returns 0, or -EINVAL (@fd_out NULL), -ECHILD, -EMFILE or another
 * kernel errno.
 */
int shws_bo_export_dmabuf(struct shws_bo *bo, int *fd_out);

/**
 * The flink name of @bo, created on first use and cached. Only primary
 * (card) nodes allow this. Returns 0 or -EINVAL (@name_out NULL),
 * -EACCES (render node), -ECHILD, or another kernel errno.
 */
int shws_bo_flink(struct shws_bo *bo, uint32_t *name_out);

/**
 * The same buffer in @other, a file of the same device (e.g. the KMS card
 * node when @bo lives on the render node), as a bo of @other's table with
 * a new reference for @api: the caller owns it and releases it with
 * shws_bo_unref(). The translation goes through a dma-buf, so it is
 * deduped there like any import. The result is cached without a
 * reference (a cached entry is used only while that bo is still alive),
 * so the second call while the caller holds the result makes no syscall.
 * If @other is @bo's own file, that is @bo with a new reference.
 *
 * Returns 0 and sets *@out, or:
 *  -EINVAL: NULL argument or @api out of range;
 *  -EXDEV:  @other belongs to another device;
 *  -ECHILD: either file was inherited through fork();
 *  -ENOMEM, or a kernel errno from the export or the import.
 */
int shws_bo_translate(struct shws_bo *bo, struct shws_file *other,
		      enum shws_api api, struct shws_bo **out);

/** The GEM handle of @bo in shws_bo_file(@bo). Owned by shws. */
uint32_t shws_bo_handle(const struct shws_bo *bo);

/** The size in bytes (from the creator, GEM_OPEN or the dma-buf). */
uint64_t shws_bo_size(const struct shws_bo *bo);

/** The file @bo belongs to. No reference is added. */
struct shws_file *shws_bo_file(const struct shws_bo *bo);

/**
 * How many references @api holds on @bo right now (a snapshot, for
 * statistics). 0 for an out-of-range @api.
 */
uint32_t shws_bo_api_refs(const struct shws_bo *bo, enum shws_api api);

/**
 * Writes one line per live bo of @file to @out: handle, size, flink name,
 * references per api, cached translations (file:handle).
 * @out is borrowed. Returns the number of live bos, or -EINVAL (NULL
 * argument), -ECHILD (inherited file) or -EIO (a write failed).
 */
int shws_bo_dump(struct shws_file *file, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
