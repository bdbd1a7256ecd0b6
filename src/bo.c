/* SPDX-License-Identifier: MIT */
/*
 * Buffer objects: one refcounted record per (file, GEM handle), shared by
 * every API of the process. See include/shws/bo.h for the contract and
 * docs/handle-tables.md for why each rule exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xf86drm.h>

#include <shws/bo.h>

#include "bo.h"
#include "bo_table.h"
#include "file.h"
#include "private.h"

#define NAME_BUCKETS 64

/* A live bo holds a reference on its file. It is nobody's API reference,
 * and the file module counts per api only valid enum shws_api values, so
 * the hold uses the first invalid one: the file's per-api statistics show
 * only what the APIs hold. */
#define FILE_HOLD ((enum shws_api)SHWS_API_COUNT)

/* What file->bos points to. */
struct bo_file {
	struct shws_bo_table table;
	/* flink name -> bo: chains of handles linked through bo->name_next
	 * (0 ends a chain). Under the file's lock. GEM_OPEN returns a new
	 * handle on every call, so the name is the only dedupe key for flink
	 * imports. */
	uint32_t names[NAME_BUCKETS];
};

/* A translation: @target is the same buffer in another file, held with a
 * SHWS_BO_TAG_SHWS reference by the bo whose list this is on. */
struct shws_bo_xlat {
	struct shws_bo *target;
	struct shws_bo_xlat *next;
};

/* Protects every bo's xlat list. Translations are rare (display export),
 * so one process-wide lock is enough. Order: a file's lock, then this;
 * never the other way round (unrefs that may take a file lock happen
 * after this is dropped). */
static pthread_mutex_t xlat_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t xlat_once = PTHREAD_ONCE_INIT;

/* Held across fork(), as the registry lock is, so a child's new files can
 * translate even if a parent thread was translating at that moment. Safe:
 * nothing is ever locked while xlat_lock is held. */
static void xlat_before_fork(void)
{
	pthread_mutex_lock(&xlat_lock);
}

static void xlat_after_fork(void)
{
	pthread_mutex_unlock(&xlat_lock);
}

static void xlat_install_atfork(void)
{
	pthread_atfork(xlat_before_fork, xlat_after_fork, xlat_after_fork);
}

static void xlat_lock_take(void)
{
	pthread_once(&xlat_once, xlat_install_atfork);
	pthread_mutex_lock(&xlat_lock);
}

static void xlat_lock_drop(void)
{
	pthread_mutex_unlock(&xlat_lock);
}

static inline void bo_release(struct shws_bo *bo);
static void bo_put_tag(struct shws_bo *bo, unsigned tag);

static struct bo_file *bo_file(const struct shws_file *file)
{
	return file->bos;
}

static bool api_valid(enum shws_api api)
{
	return (unsigned)api < SHWS_API_COUNT;
}

static const char *tag_name(unsigned tag)
{
	return tag == SHWS_BO_TAG_SHWS ? "shws" : shws_api_name(tag);
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* --- The file's tables ------------------------------------------------ */

int shws_bo_file_init(struct shws_file *file)
{
	struct bo_file *bf = calloc(1, sizeof(*bf));

	if (!bf)
		return -ENOMEM;
	shws_bo_table_init(&bf->table);
	file->bos = bf;
	return 0;
}

static void log_leftover(struct shws_bo *bo, void *data)
{
	(void)data;
	shws_dbg("bo handle %u (%llu bytes) left in a dying file",
		 bo->handle, (unsigned long long)bo->size);
}

void shws_bo_file_fini(struct shws_file *file)
{
	struct bo_file *bf = file->bos;

	if (!bf)
		return;
	shws_bo_table_foreach(&bf->table, log_leftover, NULL);
	shws_bo_table_fini(&bf->table);
	free(bf);
	file->bos = NULL;
}

static uint32_t *name_chain(struct bo_file *bf, uint32_t name)
{
	return &bf->names[name % NAME_BUCKETS];
}

/* The bo of a chained handle (0: none). Chained handles are live. */
static struct shws_bo *name_bo(struct bo_file *bf, uint32_t handle)
{
	return handle ? shws_bo_table_slot(&bf->table, handle) : NULL;
}

static struct shws_bo *name_find(struct bo_file *bf, uint32_t name)
{
	struct shws_bo *bo = name_bo(bf, *name_chain(bf, name));

	while (bo && bo->flink_name != name)
		bo = name_bo(bf, bo->name_next);
	return bo;
}

/* Records @name on @bo, and in the name table unless another handle of
 * this file already stands for that name (GEM_OPEN made a second one). */
static void name_set_locked(struct bo_file *bf, struct shws_bo *bo,
			    uint32_t name)
{
	uint32_t *chain = name_chain(bf, name);

	bo->flink_name = name;
	if (name_find(bf, name))
		return;
	bo->name_next = *chain;
	*chain = bo->handle;
}

static void name_remove_locked(struct bo_file *bf, struct shws_bo *bo)
{
	uint32_t *p = name_chain(bf, bo->flink_name);

	while (*p && *p != bo->handle)
		p = &name_bo(bf, *p)->name_next;
	if (*p)
		*p = bo->name_next;
	bo->name_next = 0;
	bo->flink_name = 0;
}

/* --- Life and death of a slot ------------------------------------------ */

static void file_lock(struct shws_file *file)
{
	shws_mutex_lock(&file->lock);
}

static void file_unlock(struct shws_file *file)
{
	shws_mutex_unlock(&file->lock);
}

/* Under the file's lock, right after the kernel returned @handle: its
 * slot. *@live says whether the handle is live (then the caller now holds
 * a reference on it, tag still to add) or the slot is free for
 * bo_init_locked(). NULL only on ENOMEM. */
static inline struct shws_bo *slot_locked(struct shws_file *file,
					  uint32_t handle, bool *live)
{
	struct shws_bo_table *table = &bo_file(file)->table;
	struct shws_bo *bo = shws_bo_table_slot(table, handle);

	if (!bo) /* the first handle of its bucket */
		bo = shws_bo_table_slot_alloc(table, handle);
	*live = bo && shws_bo_try_ref(bo);
	return bo;
}

/* Under the file's lock: fills a free slot and makes it live with one
 * reference tagged @tag. Every field is written before the publishing
 * store, while no lock-free reader can win a reference. */
static void bo_init_locked(struct shws_bo *bo, struct shws_file *file,
			   uint64_t size, unsigned tag)
{
	bo->file = file;
	bo->size = size;
	bo->flink_name = 0;
	bo->name_next = 0;
	bo->xlat = NULL;
	for (unsigned t = 0; t < SHWS_BO_TAGS; t++)
		atomic_store_explicit(&bo->tag_refs[t], 0,
				      memory_order_relaxed);
	shws_bo_tag_get(bo, tag);
	/* A live bo keeps its file (and so the handle's namespace) alive;
	 * dropped after the handle is closed. */
	shws_file_ref(file, FILE_HOLD);
	shws_dbg("file fd %d: bo handle %u created for %s",
		 shws_file_fd(file), bo->handle, tag_name(tag));
	shws_bo_publish(bo);
}

/* slot_locked() + bo_init_locked() for a known size. */
static struct shws_bo *get_or_insert_locked(struct shws_file *file,
					    uint32_t handle, uint64_t size,
					    unsigned tag, bool *created)
{
	bool live;
	struct shws_bo *bo = slot_locked(file, handle, &live);

	*created = bo && !live;
	if (live)
		shws_bo_tag_get(bo, tag);
	else if (bo)
		bo_init_locked(bo, file, size, tag);
	return bo;
}

/* Closes a handle shws owns, under the file's lock. A fork()ed child
 * never does: the handle is the parent's (KERNEL-FACTS: the child shares
 * the drm_file, its GEM_CLOSE would kill the parent's buffer). */
static void close_handle_locked(struct shws_file *file, uint32_t handle)
{
	if (shws_file_inherited(file))
		return;
	if (drmCloseBufferHandle(shws_file_fd(file), handle))
		shws_err("GEM_CLOSE of handle %u: %s", handle,
			 strerror(errno));
}

/* Under the file's lock, on the 1 -> 0 transition: the handle is closed
 * before the lock is dropped, so no import can get this number back from
 * the kernel while the table still calls it dead-but-open (virgl's bug).
 * Returns the bo's translations for the caller to release unlocked. */
static struct shws_bo_xlat *retire_locked(struct shws_bo *bo)
{
	struct shws_bo_xlat *list;

	if (bo->flink_name)
		name_remove_locked(bo_file(bo->file), bo);
	close_handle_locked(bo->file, bo->handle);
	shws_dbg("file fd %d: bo handle %u closed", shws_file_fd(bo->file),
		 bo->handle);
	xlat_lock_take();
	list = bo->xlat;
	bo->xlat = NULL;
	xlat_lock_drop();
	return list;
}

static void xlat_release(struct shws_bo_xlat *list)
{
	while (list) {
		struct shws_bo_xlat *next = list->next;

		bo_put_tag(list->target, SHWS_BO_TAG_SHWS);
		free(list);
		list = next;
	}
}

/* bo_release() when the reference may be the last one. */
static void bo_release_last(struct shws_bo *bo)
{
	struct shws_file *file = bo->file;
	struct shws_bo_xlat *list = NULL;
	bool dead = false;

	if (shws_file_inherited(file)) {
		/* fork() child: the handle is the parent's and a parent thread
		 * may have held the file's lock at fork(); forget, touch no
		 * lock, close nothing (the translations leak in the child). */
		if (shws_bo_put(bo) == 0)
			shws_file_unref(file, FILE_HOLD);
		return;
	}
	file_lock(file);
	if (shws_bo_put(bo) == 0) {
		list = retire_locked(bo);
		dead = true;
	}
	file_unlock(file);
	if (!dead)
		return;
	/* From here the slot may already hold a new import: only locals. */
	xlat_release(list);
	shws_file_unref(file, FILE_HOLD);
}

/* Drops one reference (its tag already dropped). Inline: the common
 * case is one compare-and-swap. */
static inline void bo_release(struct shws_bo *bo)
{
	if (!shws_bo_put_unless_last(bo))
		bo_release_last(bo);
}

/* --- Translation cycles -------------------------------------------------
 * A bo holds its translations. Translating a translation back (render ->
 * card -> render) gives the original bo, so holds can form cycles that
 * refcounts alone never free. When a bo held by translations loses its
 * last API reference, find the bos reachable from it through holds, and
 * free the holds of those no API reaches any more (a small synchronous
 * trial deletion: the graph is a handful of files of one device).
 */

static uint32_t ext_refs(struct shws_bo *bo)
{
	uint32_t n = 0;

	for (unsigned t = 0; t < SHWS_API_COUNT; t++)
		n += atomic_load_explicit(&bo->tag_refs[t],
					  memory_order_relaxed);
	return n;
}

struct graph {
	struct shws_bo **node;
	uint32_t *held; /* holds from inside the graph */
	bool *live;     /* reached by an API, or held from outside */
	unsigned n, cap;
};

static int graph_index(const struct graph *g, const struct shws_bo *bo)
{
	for (unsigned i = 0; i < g->n; i++)
		if (g->node[i] == bo)
			return (int)i;
	return -1;
}

static bool graph_add(struct graph *g, struct shws_bo *bo)
{
	if (g->n == g->cap) {
		unsigned cap = g->cap ? 2 * g->cap : 8;
		struct shws_bo **node = realloc(g->node, cap * sizeof(*node));

		if (!node)
			return false;
		g->node = node;
		g->cap = cap;
	}
	g->node[g->n++] = bo;
	return true;
}

/* Under xlat_lock: everything reachable from @root through holds. */
static bool graph_build(struct graph *g, struct shws_bo *root)
{
	if (!graph_add(g, root))
		return false;
	for (unsigned i = 0; i < g->n; i++)
		for (struct shws_bo_xlat *x = g->node[i]->xlat; x; x = x->next)
			if (graph_index(g, x->target) < 0 &&
			    !graph_add(g, x->target))
				return false;
	g->held = calloc(g->n, sizeof(*g->held));
	g->live = calloc(g->n, sizeof(*g->live));
	return g->held && g->live;
}

/* Under xlat_lock: marks the nodes that must survive. */
static void graph_mark(struct graph *g)
{
	bool changed = true;

	for (unsigned i = 0; i < g->n; i++)
		for (struct shws_bo_xlat *x = g->node[i]->xlat; x; x = x->next)
			g->held[graph_index(g, x->target)]++;
	for (unsigned i = 0; i < g->n; i++) {
		struct shws_bo *bo = g->node[i];
		uint32_t shws = atomic_load_explicit(
			&bo->tag_refs[SHWS_BO_TAG_SHWS], memory_order_relaxed);

		/* More holds than we can see = someone outside holds it (or an
		 * import is in flight): keep it, conservatively. */
		g->live[i] = ext_refs(bo) > 0 || shws > g->held[i];
	}
	while (changed) { /* what a live node holds stays live */
		changed = false;
		for (unsigned i = 0; i < g->n; i++) {
			if (!g->live[i])
				continue;
			for (struct shws_bo_xlat *x = g->node[i]->xlat; x;
			     x = x->next) {
				int j = graph_index(g, x->target);

				if (!g->live[j])
					g->live[j] = changed = true;
			}
		}
	}
}

static void graph_free(struct graph *g)
{
	free(g->node);
	free(g->held);
	free(g->live);
}

static void collect_cycles(struct shws_bo *bo)
{
	struct shws_bo_xlat *garbage = NULL;
	struct graph g = { 0 };

	xlat_lock_take();
	if (graph_build(&g, bo)) {
		graph_mark(&g);
		for (unsigned i = 0; i < g.n; i++) {
			struct shws_bo_xlat *x = g.node[i]->xlat, *next;

			if (g.live[i])
				continue;
			g.node[i]->xlat = NULL;
			for (; x; x = next) {
				next = x->next;
				x->next = garbage;
				garbage = x;
			}
		}
	} else if (!ext_refs(bo)) {
		/* No memory for the graph: drop the root's own holds. Safe,
		 * since no API holds it (checked under the lock, as graph_mark
		 * does), so nobody relies on its cached translations; it only
		 * loses the cache. Keeping them would leak a cycle forever. */
		shws_err("out of memory collecting translations: "
			 "dropping the translations of handle %u", bo->handle);
		garbage = bo->xlat;
		bo->xlat = NULL;
	}
	xlat_lock_drop();
	graph_free(&g);
	xlat_release(garbage);
}

/* Inline, cheapest test first: most bos are held by no translation. */
static inline void maybe_collect(struct shws_bo *bo)
{
	if (atomic_load_explicit(&bo->tag_refs[SHWS_BO_TAG_SHWS],
				 memory_order_relaxed) &&
	    !shws_file_inherited(bo->file) && !ext_refs(bo))
		collect_cycles(bo);
}

static void bo_put_tag(struct shws_bo *bo, unsigned tag)
{
	if (!shws_bo_tag_put(bo, tag)) {
		shws_err("bo handle %u: unref without a reference (tag %u)",
			 bo->handle, tag);
		return;
	}
	maybe_collect(bo); /* we still hold our reference here */
	bo_release(bo);
}

/* --- Public API ---------------------------------------------------------- */

static int check_import_args(struct shws_file *file, enum shws_api api,
			     struct shws_bo **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!file || !api_valid(api))
		return -EINVAL;
	if (shws_file_inherited(file))
		return -ECHILD;
	return 0;
}

/* The size of a dma-buf: its llseek reports it. Only called once the
 * kernel accepted @fd as a dma-buf, so a caller's regular file offset is
 * never moved. */
static uint64_t dmabuf_size(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);

	return end > 0 ? (uint64_t)end : 0;
}

/* PRIME_FD_TO_HANDLE straight to ioctl(2), with drmIoctl()'s restart on
 * EINTR/EAGAIN but without its two extra calls: the dedupe hit is this
 * ioctl plus a few instructions, and under TCG each call and return costs
 * about as much as the rest (docs/performance.md, P2). */
static int prime_fd_to_handle(int drm_fd, int fd, uint32_t *handle)
{
	struct drm_prime_handle args = { .fd = fd };
	int r;

	do {
		r = ioctl(drm_fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args);
	} while (r == -1 && (errno == EINTR || errno == EAGAIN));
	if (r)
		return neg_errno();
	*handle = args.handle;
	return 0;
}

/* Under the lock, after the kernel returned @handle for dma-buf @fd and
 * the handle is not live in the table: a new bo (or ENOMEM). Out of line:
 * it keeps the dedupe hit's code (and its register saves) small. */
static __attribute__((noinline)) int import_new_locked(struct shws_file *file,
							int fd, uint32_t handle,
							unsigned tag,
							struct shws_bo **out)
{
	bool created;
	struct shws_bo *bo = get_or_insert_locked(file, handle,
						  dmabuf_size(fd), tag,
						  &created);

	if (!bo) {
		/* Only a handle that was not live can fail here (the slot
		 * allocation happens first), so it is new and ours to close. */
		close_handle_locked(file, handle);
		return -ENOMEM;
	}
	*out = bo;
	return 0;
}

/* The dedupe hit is lock, ioctl, slot, two increments, unlock: keep it
 * that, inline and with nothing else on its path. */
static inline int import_dmabuf(struct shws_file *file, int fd, unsigned tag,
				struct shws_bo **out)
{
	struct shws_bo *bo;
	uint32_t handle;
	int ret;

	if (fd < 0)
		return -EBADF;
	/* The ioctl and the insert are one step under the lock: the kernel
	 * may return a handle whose bo is dying on another thread, and that
	 * thread's GEM_CLOSE must not run in between. (An unlocked ioctl
	 * checked afterwards with a close sequence count was tried: the
	 * stress test then found a leaked dma-buf now and then on 6.1, see
	 * docs/handle-tables.md.) */
	file_lock(file);
	ret = prime_fd_to_handle(file->fd, fd, &handle);
	if (ret)
		goto out;
	bo = shws_bo_table_slot(&bo_file(file)->table, handle);
	/* Under the lock a live bo stays live: only a locked unref takes
	 * the count to 0, and lock-free ones stop at 1. So a plain
	 * increment is enough here, no increment-unless-zero loop. */
	if (bo && atomic_load_explicit(&bo->refcnt, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&bo->refcnt, 1, memory_order_relaxed);
		shws_bo_tag_get(bo, tag);
		*out = bo;
	} else {
		ret = import_new_locked(file, fd, handle, tag, out);
	}
out:
	file_unlock(file);
	return ret;
}

SHWS_EXPORT int shws_bo_import_dmabuf(struct shws_file *file, int dmabuf_fd,
				      enum shws_api api, struct shws_bo **out)
{
	int ret = check_import_args(file, api, out);

	if (!ret)
		ret = import_dmabuf(file, dmabuf_fd, api, out);
	if (ret)
		shws_dbg("dma-buf import of fd %d: %s", dmabuf_fd,
			 strerror(-ret));
	return ret;
}

static int gem_open_locked(struct shws_file *file, uint32_t name,
			   uint32_t *handle, uint64_t *size)
{
	struct drm_gem_open req = { .name = name };

	if (drmIoctl(shws_file_fd(file), DRM_IOCTL_GEM_OPEN, &req))
		return neg_errno();
	*handle = req.handle;
	*size = req.size;
	return 0;
}

SHWS_EXPORT int shws_bo_import_flink(struct shws_file *file, uint32_t name,
				     enum shws_api api, struct shws_bo **out)
{
	int ret = check_import_args(file, api, out);
	struct shws_bo *bo;
	uint32_t handle;
	uint64_t size;
	bool created;

	if (ret)
		return ret;
	if (!name)
		return -EINVAL;
	file_lock(file);
	bo = name_find(bo_file(file), name);
	if (bo && shws_bo_try_ref(bo)) { /* live: names leave at death */
		shws_bo_tag_get(bo, api);
		goto done;
	}
	ret = gem_open_locked(file, name, &handle, &size);
	if (ret)
		goto done;
	bo = get_or_insert_locked(file, handle, size, api, &created);
	if (!bo) {
		close_handle_locked(file, handle);
		ret = -ENOMEM;
		goto done;
	}
	if (!bo->flink_name)
		name_set_locked(bo_file(file), bo, name);
done:
	file_unlock(file);
	if (!ret)
		*out = bo;
	return ret;
}

SHWS_EXPORT int shws_bo_adopt(struct shws_file *file, uint32_t handle,
			      uint64_t size, enum shws_api api,
			      struct shws_bo **out)
{
	int ret = check_import_args(file, api, out);
	struct shws_bo *bo;
	bool created;

	if (ret)
		return ret;
	if (!handle || !size)
		return -EINVAL;
	file_lock(file);
	bo = get_or_insert_locked(file, handle, size, api, &created);
	if (!bo) {
		ret = -ENOMEM; /* the caller keeps the handle */
	} else if (!created && bo->size != size) {
		shws_err("adopt of handle %u (%llu bytes): table has %llu bytes;"
			 " a handle owned by shws was closed behind its back",
			 handle, (unsigned long long)size,
			 (unsigned long long)bo->size);
		/* Not the last reference: the table's owner still holds one. */
		shws_bo_tag_put(bo, api);
		shws_bo_put(bo);
		ret = -EEXIST;
	} else {
		*out = bo;
	}
	file_unlock(file);
	return ret;
}

SHWS_EXPORT struct shws_bo *shws_bo_lookup(struct shws_file *file,
					   uint32_t handle, enum shws_api api)
{
	struct shws_bo *bo;

	if (!file || !handle || !api_valid(api) || shws_file_inherited(file))
		return NULL;
	bo = shws_bo_table_lookup(&bo_file(file)->table, handle);
	if (bo)
		shws_bo_tag_get(bo, api);
	return bo;
}

SHWS_EXPORT void shws_bo_ref(struct shws_bo *bo, enum shws_api api)
{
	if (!api_valid(api))
		api = SHWS_API_OTHER;
	/* The caller holds a reference, so this is never 0 -> 1. */
	atomic_fetch_add_explicit(&bo->refcnt, 1, memory_order_relaxed);
	shws_bo_tag_get(bo, api);
}

SHWS_EXPORT int shws_bo_unref(struct shws_bo *bo, enum shws_api api)
{
	if (!bo)
		return 0;
	if (!api_valid(api) || !shws_bo_tag_put(bo, api)) {
		shws_err("bo handle %u: unref by an api that holds no reference"
			 " (double unref?); ignored", bo->handle);
		return -EINVAL;
	}
	maybe_collect(bo);
	bo_release(bo);
	return 0;
}

SHWS_EXPORT int shws_bo_export_dmabuf(struct shws_bo *bo, int *fd_out)
{
	int fd;

	if (!bo || !fd_out)
		return -EINVAL;
	*fd_out = -1;
	if (shws_file_inherited(bo->file))
		return -ECHILD;
	if (drmPrimeHandleToFD(shws_file_fd(bo->file), bo->handle,
			       DRM_CLOEXEC | DRM_RDWR, &fd))
		return neg_errno();
	*fd_out = fd;
	return 0;
}

SHWS_EXPORT int shws_bo_flink(struct shws_bo *bo, uint32_t *name_out)
{
	struct drm_gem_flink req = { 0 };
	int ret = 0;

	if (!bo || !name_out)
		return -EINVAL;
	if (shws_file_inherited(bo->file))
		return -ECHILD;
	file_lock(bo->file);
	if (!bo->flink_name) {
		req.handle = bo->handle;
		if (drmIoctl(shws_file_fd(bo->file), DRM_IOCTL_GEM_FLINK, &req))
			ret = neg_errno();
		else
			name_set_locked(bo_file(bo->file), bo, req.name);
	}
	*name_out = bo->flink_name;
	file_unlock(bo->file);
	return ret;
}

/* Under xlat_lock: @bo's translation into @other, or NULL. */
static struct shws_bo *xlat_find(struct shws_bo *bo, struct shws_file *other)
{
	for (struct shws_bo_xlat *x = bo->xlat; x; x = x->next)
		if (x->target->file == other)
			return x->target;
	return NULL;
}

/* Exports @bo and imports it into @other: a bo there, tagged SHWS. */
static int xlat_import(struct shws_bo *bo, struct shws_file *other,
		       struct shws_bo **out)
{
	int fd, ret = shws_bo_export_dmabuf(bo, &fd);

	if (ret)
		return ret;
	ret = import_dmabuf(other, fd, SHWS_BO_TAG_SHWS, out);
	close(fd);
	return ret;
}

/* Records @target as @bo's translation unless another thread won. Returns
 * the handle to use; consumes @target's reference if it is not kept. */
static uint32_t xlat_insert(struct shws_bo *bo, struct shws_bo *target,
			    struct shws_bo_xlat *x)
{
	struct shws_bo *found;
	uint32_t handle;

	xlat_lock_take();
	found = xlat_find(bo, target->file);
	if (!found) {
		x->target = target;
		x->next = bo->xlat;
		bo->xlat = x;
		x = NULL;
		found = target;
	}
	handle = found->handle;
	xlat_lock_drop();
	if (x) { /* lost the race: the same handle, dedupe made sure */
		free(x);
		bo_put_tag(target, SHWS_BO_TAG_SHWS);
	}
	return handle;
}

SHWS_EXPORT int shws_bo_translate(struct shws_bo *bo, struct shws_file *other,
				  uint32_t *handle_out)
{
	struct shws_bo_xlat *x;
	struct shws_bo *target;
	int ret;

	if (!bo || !other || !handle_out)
		return -EINVAL;
	if (other == bo->file) {
		*handle_out = bo->handle;
		return 0;
	}
	if (shws_file_device(other) != shws_file_device(bo->file))
		return -EXDEV;
	if (shws_file_inherited(bo->file) || shws_file_inherited(other))
		return -ECHILD;
	xlat_lock_take();
	target = xlat_find(bo, other);
	if (target)
		*handle_out = target->handle;
	xlat_lock_drop();
	if (target)
		return 0;

	x = malloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	ret = xlat_import(bo, other, &target);
	if (ret) {
		free(x);
		return ret;
	}
	*handle_out = xlat_insert(bo, target, x);
	return 0;
}

SHWS_EXPORT uint32_t shws_bo_handle(const struct shws_bo *bo)
{
	return bo->handle;
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
	if (!bo || !api_valid(api))
		return 0;
	return atomic_load_explicit(&bo->tag_refs[api], memory_order_relaxed);
}

struct dump_ctx {
	FILE *out;
	bool failed;
};

static void dump_one(struct shws_bo *bo, void *data)
{
	struct dump_ctx *ctx = data;
	int r;

	r = fprintf(ctx->out, "handle %u size %llu name %u refs",
		    bo->handle, (unsigned long long)bo->size, bo->flink_name);
	for (unsigned t = 0; t < SHWS_BO_TAGS && r >= 0; t++)
		r = fprintf(ctx->out, " %s=%u",
			    tag_name(t),
			    atomic_load(&bo->tag_refs[t]));
	xlat_lock_take();
	for (struct shws_bo_xlat *x = bo->xlat; x && r >= 0; x = x->next)
		r = fprintf(ctx->out, " xlat=%d:%u",
			    shws_file_fd(x->target->file), x->target->handle);
	xlat_lock_drop();
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
	file_lock(file);
	n = shws_bo_table_foreach(&bo_file(file)->table, dump_one, &ctx);
	file_unlock(file);
	return ctx.failed ? -EIO : (int)n;
}
