/* SPDX-License-Identifier: MIT */
/*
 * Buffer objects: one refcounted record per (file, GEM handle), shared by
 * every API of the process, stored inline in the file's handle table. See
 * include/shws/bo.h for the contract and docs/handle-tables.md for why
 * each rule exists.
 *
 * A live bo holds its file through the registry (a hold, not an API
 * reference). Nothing else holds anything: a translation hands the caller
 * a bo of its own, and the cache of translations is weak (checked against
 * the target's incarnation number before use), so no reference cycle can
 * form and nothing needs collecting.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shws/bo.h>

#include "bo_table.h"
#include "file_priv.h"
#include "gem.h"
#include "registry_priv.h"
#include "util.h"

/* At most this many cached translations per bo (one per other file of the
 * device in practice; a dead file's entry is replaced, never followed). */
#define XLAT_CACHE_MAX 4

/* A cached translation: the same buffer was @handle in @file, in the
 * incarnation @gen of that slot. A weak reference: valid only if that
 * slot is still live with the same @gen. */
struct xlat {
	const struct shws_file *file;
	uint32_t handle;
	uint32_t gen;
	struct xlat *next;
};

struct shws_bo {
	_Alignas(SHWS_BO_SLOT_SIZE) struct shws_slot slot;
	/* References per api, for attribution and double-unref detection.
	 * Their sum equals slot.refcnt except transiently. */
	_Atomic uint32_t api_refs[SHWS_API_COUNT];
	/* Incarnation number, new each time the slot becomes live. */
	uint32_t gen;
	/* Written while unreachable (refcnt 0), read by reference holders. */
	struct shws_file *file;
	uint64_t size;
	/* Under the file's lock. */
	struct xlat *xlat;
};

_Static_assert(sizeof(struct shws_bo) == SHWS_BO_SLOT_SIZE,
	       "struct shws_bo fills exactly one slot of the table");
_Static_assert(SHWS_BO_HANDLE_MAX == SHWS_BO_TABLE_HANDLE_MAX,
	       "the documented limit is the table's");

/* Incarnations: 32 bits wrap after 4 billion buffers; a stale cache entry
 * matches only if the same file, handle and number come back. */
static atomic_uint next_gen = 1;

static struct shws_bo *bo_of(struct shws_slot *slot)
{
	return slot ? shws_container_of(slot, struct shws_bo, slot) : NULL;
}

static void api_get(struct shws_bo *bo, enum shws_api api)
{
	atomic_fetch_add_explicit(&bo->api_refs[api], 1, memory_order_relaxed);
}

/* false if @api holds no reference on @bo (a double unref). */
static bool api_put(struct shws_bo *bo, enum shws_api api)
{
	uint32_t v = atomic_load_explicit(&bo->api_refs[api],
					  memory_order_relaxed);

	do {
		if (v == 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&bo->api_refs[api], &v,
							v - 1,
							memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

/* --- Life and death of a slot ------------------------------------------ */

/* Under the file's lock: fills a free slot and makes it live with one
 * reference for @api. Every field is written before the publishing store,
 * while no lock-free reader can win a reference. */
static void bo_init_locked(struct shws_bo *bo, struct shws_file *file,
			   uint64_t size, enum shws_api api)
{
	bo->file = file;
	bo->size = size;
	bo->slot.name = 0;
	bo->slot.name_next = 0;
	bo->xlat = NULL;
	bo->gen = atomic_fetch_add_explicit(&next_gen, 1,
					    memory_order_relaxed);
	for (unsigned a = 0; a < SHWS_API_COUNT; a++)
		atomic_store_explicit(&bo->api_refs[a], 0,
				      memory_order_relaxed);
	api_get(bo, api);
	/* A live bo keeps its file (and so the handle's namespace) alive;
	 * released after the handle is closed. */
	shws_registry_file_hold(file);
	shws_dbg("file fd %d: bo handle %u created for %s", file->fd,
		 bo->slot.handle, shws_api_name(api));
	shws_slot_publish(&bo->slot);
}

/* Under the file's lock, right after the kernel returned @handle (at most
 * SHWS_BO_HANDLE_MAX): its bo with a new reference for @api, live or new;
 * *@created says which. NULL only on ENOMEM. */
static struct shws_bo *get_or_insert_locked(struct shws_file *file,
					    uint32_t handle, uint64_t size,
					    enum shws_api api, bool *created)
{
	struct shws_bo *bo = bo_of(shws_bo_table_slot_alloc(&file->table,
							    handle));

	*created = false;
	if (!bo)
		return NULL;
	if (shws_slot_live(&bo->slot)) { /* only a locked put reaches 0 */
		shws_slot_get(&bo->slot);
		api_get(bo, api);
	} else {
		bo_init_locked(bo, file, size, api);
		*created = true;
	}
	return bo;
}

/* Closes a handle shws owns, under the file's lock. A fork()ed child
 * never does: the handle is the parent's (file_priv.h). */
static void close_handle_locked(struct shws_file *file, uint32_t handle)
{
	int r;

	if (shws_file_inherited(file))
		return;
	r = shws_gem_close(file->fd, handle);
	if (r)
		shws_err("GEM_CLOSE of handle %u: %s", handle, strerror(-r));
}

static void xlat_free(struct xlat *x)
{
	while (x) {
		struct xlat *next = x->next;

		free(x);
		x = next;
	}
}

/* On the 1 -> 0 transition, under the file's lock: the handle is closed
 * before the lock is dropped, so no import can get this number back from
 * the kernel while the table still calls it dead-but-open (the race that
 * PRIOR-ART in docs/handle-tables.md describes for virgl). The caller
 * releases the file hold after unlocking. */
static void retire_locked(struct shws_bo *bo)
{
	shws_bo_table_name_clear(&bo->file->table, &bo->slot);
	close_handle_locked(bo->file, bo->slot.handle);
	xlat_free(bo->xlat);
	bo->xlat = NULL;
	shws_dbg("file fd %d: bo handle %u closed", bo->file->fd,
		 bo->slot.handle);
}

/* Under the file's lock: drops a reference that may be the last. true if
 * it was: the caller must release the file hold once unlocked (from then
 * on the slot may hold a new import: use only locals). */
static bool put_locked(struct shws_bo *bo)
{
	if (shws_slot_put(&bo->slot))
		return false;
	retire_locked(bo);
	return true;
}

/* bo_release() when the reference may be the last one. */
static void bo_release_last(struct shws_bo *bo)
{
	struct shws_file *file = bo->file;
	bool dead;

	if (shws_file_inherited(file)) {
		/* fork() child: the handle is the parent's and a parent thread
		 * may have held the file's lock at fork(); close nothing, take
		 * no lock (nothing else in the child touches this bo's cache:
		 * translations of inherited files are refused). */
		if (shws_slot_put(&bo->slot) == 0) {
			xlat_free(bo->xlat);
			bo->xlat = NULL;
			shws_registry_file_release(file);
		}
		return;
	}
	shws_file_lock(file);
	dead = put_locked(bo);
	shws_file_unlock(file);
	if (dead)
		shws_registry_file_release(file);
}

/* Drops one reference (its api count already dropped). Inline: the common
 * case is one compare-and-swap. */
static inline void bo_release(struct shws_bo *bo)
{
	if (!shws_slot_put_unless_last(&bo->slot))
		bo_release_last(bo);
}

/* --- Imports ------------------------------------------------------------- */

static int check_file_args(struct shws_file *file, enum shws_api api,
			   struct shws_bo **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!file || !shws_api_valid(api))
		return -EINVAL;
	if (shws_file_inherited(file))
		return -ECHILD;
	return 0;
}

/* Under the lock, after the kernel returned @handle for a dma-buf or a
 * flink name and the handle is not live in the table: a new bo. Every
 * handle of a file reaches shws, so one not in the table is new and ours
 * to close when we cannot keep it. Out of line: it keeps the dedupe hit's
 * code (and its register saves) small. */
static __attribute__((noinline)) int insert_new_locked(struct shws_file *file,
							uint32_t handle,
							uint64_t size,
							enum shws_api api,
							struct shws_bo **out)
{
	bool created;

	*out = NULL;
	if (handle <= SHWS_BO_HANDLE_MAX)
		*out = get_or_insert_locked(file, handle, size, api, &created);
	if (*out)
		return 0;
	close_handle_locked(file, handle);
	return handle > SHWS_BO_HANDLE_MAX ? -ERANGE : -ENOMEM;
}

/* The dedupe hit is lock, ioctl, slot, two increments, unlock: keep it
 * that, inline and with nothing else on its path. */
static inline int import_dmabuf(struct shws_file *file, int fd,
				enum shws_api api, struct shws_bo **out)
{
	struct shws_bo *bo;
	uint32_t handle;
	int ret;

	if (fd < 0)
		return -EBADF;
	/* The ioctl and the insert are one step under the lock: the kernel
	 * may return a handle whose bo is dying on another thread, and that
	 * thread's GEM_CLOSE must not run in between (docs/handle-tables.md
	 * tells what an unlocked ioctl did in the stress test). */
	shws_file_lock(file);
	ret = shws_gem_prime_import(file->fd, fd, &handle);
	if (ret)
		goto out;
	bo = bo_of(shws_bo_table_slot(&file->table, handle));
	if (bo && shws_slot_live(&bo->slot)) {
		shws_slot_get(&bo->slot);
		api_get(bo, api);
		*out = bo;
	} else {
		ret = insert_new_locked(file, handle,
					shws_gem_dmabuf_size(fd), api, out);
	}
out:
	shws_file_unlock(file);
	return ret;
}

SHWS_EXPORT int shws_bo_import_dmabuf(struct shws_file *file, int dmabuf_fd,
				      enum shws_api api, struct shws_bo **out)
{
	int ret = check_file_args(file, api, out);

	if (!ret)
		ret = import_dmabuf(file, dmabuf_fd, api, out);
	if (ret)
		shws_dbg("dma-buf import of fd %d: %s", dmabuf_fd,
			 strerror(-ret));
	return ret;
}

SHWS_EXPORT int shws_bo_import_flink(struct shws_file *file, uint32_t name,
				     enum shws_api api, struct shws_bo **out)
{
	int ret = check_file_args(file, api, out);
	struct shws_bo *bo;
	uint32_t handle;
	uint64_t size;

	if (ret)
		return ret;
	if (!name)
		return -EINVAL;
	shws_file_lock(file);
	/* Named slots are live: names leave at death, under this lock. */
	bo = bo_of(shws_bo_table_name_find(&file->table, name));
	if (bo) {
		shws_slot_get(&bo->slot);
		api_get(bo, api);
		goto done;
	}
	ret = shws_gem_open(file->fd, name, &handle, &size);
	if (!ret)
		ret = insert_new_locked(file, handle, size, api, &bo);
	if (!ret && !bo->slot.name)
		shws_bo_table_name_set(&file->table, &bo->slot, name);
done:
	shws_file_unlock(file);
	if (!ret)
		*out = bo;
	return ret;
}

/* Under the lock: @handle, which the caller created on the file's own
 * description, becomes a bo. -EEXIST if the table has a live bo of another
 * size there (the caller closed a handle owned by shws); nothing changed
 * then, and the caller keeps @handle. */
static int adopt_locked(struct shws_file *file, uint32_t handle,
			uint64_t size, enum shws_api api,
			struct shws_bo **out, bool *dead)
{
	bool created;
	struct shws_bo *bo = get_or_insert_locked(file, handle, size, api,
						  &created);

	*dead = false;
	if (!bo)
		return -ENOMEM;
	if (!created && bo->size != size) {
		shws_err("adopt of handle %u (%llu bytes): table has %llu bytes;"
			 " a handle owned by shws was closed behind its back",
			 handle, (unsigned long long)size,
			 (unsigned long long)bo->size);
		/* Our reference may be the last one: the owner may have
		 * dropped its own lock-free since we took ours. */
		api_put(bo, api);
		*dead = put_locked(bo);
		return -EEXIST;
	}
	*out = bo;
	return 0;
}

SHWS_EXPORT int shws_bo_adopt(struct shws_file *file, int fd, uint32_t handle,
			      uint64_t size, enum shws_api api,
			      struct shws_bo **out)
{
	int ret = check_file_args(file, api, out);
	bool dead;

	if (ret)
		return ret;
	if (!handle || !size)
		return -EINVAL;
	if (handle > SHWS_BO_HANDLE_MAX)
		return -ERANGE;
	ret = shws_registry_file_is(file, fd);
	if (ret)
		return ret;
	shws_file_lock(file);
	ret = adopt_locked(file, handle, size, api, out, &dead);
	shws_file_unlock(file);
	if (dead)
		shws_registry_file_release(file);
	return ret;
}

SHWS_EXPORT int shws_bo_create_dumb(struct shws_file *file, uint32_t width,
				    uint32_t height, uint32_t bpp,
				    enum shws_api api, struct shws_bo **out,
				    uint32_t *pitch_out)
{
	int ret = check_file_args(file, api, out);
	uint32_t handle, pitch;
	uint64_t size;

	if (ret)
		return ret;
	if (!width || !height || !bpp || !pitch_out)
		return -EINVAL;
	shws_file_lock(file);
	/* On shws's own fd: the handle is in this file's namespace whatever
	 * the caller's fds are (a private file included). */
	ret = shws_gem_create_dumb(file->fd, width, height, bpp, &handle,
				   &pitch, &size);
	if (!ret)
		ret = insert_new_locked(file, handle, size, api, out);
	shws_file_unlock(file);
	if (!ret)
		*pitch_out = pitch;
	return ret;
}

/* --- References ------------------------------------------------------------ */

SHWS_EXPORT struct shws_bo *shws_bo_lookup(struct shws_file *file,
					   uint32_t handle, enum shws_api api)
{
	struct shws_bo *bo;

	if (!file || !handle || !shws_api_valid(api) ||
	    shws_file_inherited(file))
		return NULL;
	bo = bo_of(shws_bo_table_lookup(&file->table, handle));
	if (bo)
		api_get(bo, api);
	return bo;
}

SHWS_EXPORT struct shws_bo *shws_bo_find(struct shws_file *file,
					 uint32_t handle)
{
	struct shws_bo *bo;

	if (!file || !handle || shws_file_inherited(file))
		return NULL;
	bo = bo_of(shws_bo_table_slot(&file->table, handle));
	return bo && shws_slot_live(&bo->slot) ? bo : NULL;
}

SHWS_EXPORT int shws_bo_ref(struct shws_bo *bo, enum shws_api api)
{
	if (!bo || !shws_api_valid(api))
		return -EINVAL;
	/* The caller holds a reference, so this is never 0 -> 1. */
	shws_slot_get(&bo->slot);
	api_get(bo, api);
	return 0;
}

SHWS_EXPORT int shws_bo_unref(struct shws_bo *bo, enum shws_api api)
{
	if (!bo)
		return 0;
	if (!shws_api_valid(api) || !api_put(bo, api)) {
		shws_err("bo handle %u: unref by an api that holds no reference"
			 " (double unref?); ignored", bo->slot.handle);
		return -EINVAL;
	}
	bo_release(bo);
	return 0;
}

/* --- Export and translation ------------------------------------------------ */

SHWS_EXPORT int shws_bo_export_dmabuf(struct shws_bo *bo, int *fd_out)
{
	if (!bo || !fd_out)
		return -EINVAL;
	*fd_out = -1;
	if (shws_file_inherited(bo->file))
		return -ECHILD;
	return shws_gem_prime_export(bo->file->fd, bo->slot.handle, fd_out);
}

SHWS_EXPORT int shws_bo_flink(struct shws_bo *bo, uint32_t *name_out)
{
	uint32_t name;
	int ret = 0;

	if (!bo || !name_out)
		return -EINVAL;
	if (shws_file_inherited(bo->file))
		return -ECHILD;
	shws_file_lock(bo->file);
	if (!bo->slot.name) {
		ret = shws_gem_flink(bo->file->fd, bo->slot.handle, &name);
		if (!ret)
			shws_bo_table_name_set(&bo->file->table, &bo->slot,
					       name);
	}
	*name_out = bo->slot.name;
	shws_file_unlock(bo->file);
	return ret;
}

/* Under @bo's file lock: the cache entry for @other, or NULL. */
static struct xlat *xlat_find_locked(struct shws_bo *bo,
				     const struct shws_file *other)
{
	for (struct xlat *x = bo->xlat; x; x = x->next)
		if (x->file == other)
			return x;
	return NULL;
}

/* The cached translation of @bo into @other with a reference for @api,
 * or NULL. Valid only if the slot is still the incarnation it was. */
static struct shws_bo *xlat_lookup(struct shws_bo *bo, struct shws_file *other,
				   enum shws_api api)
{
	struct shws_bo *target;
	struct xlat *x;
	uint32_t handle = 0, gen = 0;

	shws_file_lock(bo->file);
	x = xlat_find_locked(bo, other);
	if (x) {
		handle = x->handle;
		gen = x->gen;
	}
	shws_file_unlock(bo->file);
	if (!x)
		return NULL;
	/* With a reference the incarnation cannot change under us. */
	target = bo_of(shws_bo_table_lookup(&other->table, handle));
	if (!target)
		return NULL;
	if (target->gen != gen) {
		bo_release(target);
		return NULL;
	}
	api_get(target, api);
	return target;
}

/* Remembers @target as @bo's translation into its file. A failed
 * allocation only loses the cache. */
static void xlat_store(struct shws_bo *bo, const struct shws_bo *target)
{
	struct xlat *x, **p;
	unsigned n = 0;

	shws_file_lock(bo->file);
	x = xlat_find_locked(bo, target->file);
	if (!x) {
		/* Keep the newest XLAT_CACHE_MAX - 1, then prepend. */
		for (p = &bo->xlat; *p && ++n < XLAT_CACHE_MAX; p = &(*p)->next)
			;
		xlat_free(*p);
		*p = NULL;
		x = malloc(sizeof(*x));
		if (x) {
			x->next = bo->xlat;
			bo->xlat = x;
		}
	}
	if (x) {
		x->file = target->file;
		x->handle = target->slot.handle;
		x->gen = target->gen;
	}
	shws_file_unlock(bo->file);
}

SHWS_EXPORT int shws_bo_translate(struct shws_bo *bo, struct shws_file *other,
				  enum shws_api api, struct shws_bo **out)
{
	int ret = check_file_args(other, api, out), fd;

	if (ret)
		return ret;
	if (!bo)
		return -EINVAL;
	if (shws_file_inherited(bo->file))
		return -ECHILD;
	if (other == bo->file) {
		shws_bo_ref(bo, api);
		*out = bo;
		return 0;
	}
	if (other->device != bo->file->device)
		return -EXDEV;
	*out = xlat_lookup(bo, other, api);
	if (*out)
		return 0;
	ret = shws_bo_export_dmabuf(bo, &fd);
	if (ret)
		return ret;
	ret = import_dmabuf(other, fd, api, out);
	close(fd);
	if (!ret)
		xlat_store(bo, *out);
	return ret;
}

/* --- Introspection ----------------------------------------------------------- */

SHWS_EXPORT uint32_t shws_bo_handle(const struct shws_bo *bo)
{
	return bo->slot.handle;
}

SHWS_EXPORT uint64_t shws_bo_size(const struct shws_bo *bo)
{
	return bo->size;
}

SHWS_EXPORT struct shws_file *shws_bo_file(const struct shws_bo *bo)
{
	return bo->file;
}

SHWS_EXPORT uint32_t shws_bo_api_refs(const struct shws_bo *bo,
				      enum shws_api api)
{
	if (!bo || !shws_api_valid(api))
		return 0;
	return atomic_load_explicit(&bo->api_refs[api], memory_order_relaxed);
}

struct dump_ctx {
	FILE *out;
	bool failed;
};

static void dump_one(struct shws_slot *slot, void *data)
{
	struct shws_bo *bo = bo_of(slot);
	struct dump_ctx *ctx = data;
	int r;

	r = fprintf(ctx->out, "handle %u size %llu name %u refs",
		    slot->handle, (unsigned long long)bo->size, slot->name);
	for (unsigned a = 0; a < SHWS_API_COUNT && r >= 0; a++)
		r = fprintf(ctx->out, " %s=%u", shws_api_name(a),
			    atomic_load(&bo->api_refs[a]));
	for (struct xlat *x = bo->xlat; x && r >= 0; x = x->next)
		r = fprintf(ctx->out, " xlat=%p:%u", (const void *)x->file,
			    x->handle);
	if (r < 0 || fputc('\n', ctx->out) == EOF)
		ctx->failed = true;
}

SHWS_EXPORT int shws_bo_dump(struct shws_file *file, FILE *out)
{
	struct dump_ctx ctx = { .out = out };
	unsigned n;

	if (!file || !out)
		return -EINVAL;
	if (shws_file_inherited(file))
		return -ECHILD; /* its lock may have been held at fork() */
	/* Under the lock so no bo dies while we print it. */
	shws_file_lock(file);
	n = shws_bo_table_foreach(&file->table, dump_one, &ctx);
	shws_file_unlock(file);
	return ctx.failed ? -EIO : (int)n;
}
