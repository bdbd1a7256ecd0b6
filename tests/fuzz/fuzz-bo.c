/* SPDX-License-Identifier: MIT */
/*
 * A coverage-guided fuzzer of the whole public bo/file API (docs/
 * reliability.md, "The bo fuzzer"). Each input is a sequence of calls
 * (files opened on several descriptions of two fake devices, imports,
 * adopts, dumb buffers, lookups, references, exports, flink names,
 * translations, injected kernel and allocation failures, bad input) run
 * on the simulated kernel of tests/unit/fake-kernel.h against a reference
 * model: what each call must return, and every file's and bo's per-api
 * counts. After every call the model, shws and the fake kernel must
 * agree; at the end of the input everything is released: no handle open
 * in the fake, none closed twice, no fd left.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer) in tests/fuzz/meson.build,
 * or with any compiler as a replay of the files given on the command line
 * (the committed corpus: test fuzz-bo-corpus).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shws/bo.h>
#include <shws/file.h>

#include "fake-kernel.h"
#include "gem.h"
#include "identity_priv.h"
#include "test.h"

#define MAX_DESC 10
#define MAX_BO 48
#define MAX_POOL 8
#define MAX_NAMES 8
#define MAX_OPS 256
#define MAX_OBJ 2048
#define API_BAD SHWS_API_COUNT  /* an out-of-range api */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- Allocation failure injection (-Wl,--wrap=aligned_alloc) ----------- */

void *__real_aligned_alloc(size_t align, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
static bool fail_aligned_alloc;

void *__wrap_aligned_alloc(size_t align, size_t size)
{
	if (fail_aligned_alloc) {
		fail_aligned_alloc = false;
		errno = ENOMEM;
		return NULL;
	}
	return __real_aligned_alloc(align, size);
}

/* --- The model ------------------------------------------------------------ */

struct mdesc {
	bool used;
	bool priv;             /* a private file's own description (no test fd) */
	int fd;                /* the test's fd, -1 once closed (or private) */
	int dev;
	enum shws_node_type type;
	/* Its shws_file while the model says it lives. */
	struct shws_file *file;
	unsigned api[SHWS_API_COUNT];
	/* The file's name index: name -> bo index; at most one entry per
	 * bo of the file. */
	uint32_t idx_name[MAX_BO];
	int idx_bo[MAX_BO];
};

struct mbo {
	bool used;
	struct shws_bo *ptr;
	int desc;
	uint32_t handle;
	unsigned obj;
	uint64_t size;
	uint32_t name;         /* the name shws recorded on it, 0: none */
	unsigned api[SHWS_API_COUNT];
};

struct mpool {
	int fd;
	unsigned obj;
};

static struct mdesc desc[MAX_DESC];
static struct mbo bos[MAX_BO];
static struct mpool pool[MAX_POOL];
static unsigned n_pool;
static uint32_t obj_name[MAX_OBJ];   /* the kernel's name of each object */
static uint32_t names_seen[MAX_NAMES];
static unsigned n_names;
static uint32_t last_name;           /* the fake's name counter */
/* SHWS_IDENTITY=none in force: no description can be told from another,
 * so a further opener of a node gets a private file. */
static bool id_none;
/* Probe mode (the input's first byte): after every call, every live bo is
 * translated into every other held file of its device and released
 * again, which must give a bo of the same buffer and change nothing else.
 * It checks the translation cache in every state the input reaches
 * (including a cached target whose handle number came back as another
 * buffer), at the price of refreshing the cache all the time; inputs
 * without it keep the cache's own history. */
static bool probe;

/* The input. */
static const uint8_t *in;
static size_t in_len, in_pos;
static unsigned op_no;
static const char *op_name;

static uint8_t byte(void)
{
	return in_pos < in_len ? in[in_pos++] : 0;
}

__attribute__((format(printf, 3, 4), noreturn)) static void
model_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz-bo: model disagrees at op %u (%s), %s:%d: ",
		op_no, op_name ? op_name : "end", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define M_CHECK(c)                                                         \
	do {                                                               \
		if (!(c))                                                  \
			model_fail(__FILE__, __LINE__, "%s", #c);          \
	} while (0)
#define M_EQ(a, b)                                                         \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_)                                              \
			model_fail(__FILE__, __LINE__, "%s == %s (%lld vs %lld)", \
				   #a, #b, a_, b_);                        \
	} while (0)

static bool file_held(const struct mdesc *d)
{
	unsigned n = 0;

	for (unsigned a = 0; a < SHWS_API_COUNT; a++)
		n += d->api[a];
	return d->file && n;
}

static unsigned bos_of(int di)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_BO; i++)
		n += bos[i].used && bos[i].desc == di;
	return n;
}

static unsigned n_bos(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_BO; i++)
		n += bos[i].used;
	return n;
}

/* A file dies with its last api reference and its last bo. */
static void file_maybe_dead(int di)
{
	if (!file_held(&desc[di]) && !bos_of(di)) {
		desc[di].file = NULL;
		memset(desc[di].idx_name, 0, sizeof(desc[di].idx_name));
	}
}

static int pick_desc_held(void)
{
	int held[MAX_DESC], n = 0;
	uint8_t b = byte();

	for (int i = 0; i < MAX_DESC; i++)
		if (file_held(&desc[i]))
			held[n++] = i;
	return n ? held[b % n] : -1;
}

static int pick_bo(void)
{
	int live[MAX_BO], n = 0;
	uint8_t b = byte();

	for (int i = 0; i < MAX_BO; i++)
		if (bos[i].used)
			live[n++] = i;
	return n ? live[b % n] : -1;
}

/* Mostly valid apis, sometimes an invalid one. */
static enum shws_api pick_api(void)
{
	uint8_t b = byte();

	return b % 16 == 15 ? API_BAD : (enum shws_api)(b % SHWS_API_COUNT);
}

static int free_bo_slot(void)
{
	for (int i = 0; i < MAX_BO; i++)
		if (!bos[i].used)
			return i;
	return -1;
}

/* The handle the fake gives next in description @di: the lowest free. */
static uint32_t next_handle(int di)
{
	for (uint32_t h = 1;; h++) {
		bool taken = false;

		for (unsigned i = 0; i < MAX_BO; i++)
			if (bos[i].used && bos[i].desc == di &&
			    bos[i].handle == h)
				taken = true;
		if (!taken)
			return h;
	}
}

/* The model's bo of @obj in @di with the lowest handle (what the fake's
 * PRIME import returns), or -1. */
static int bo_of_obj(int di, unsigned obj)
{
	int best = -1;

	for (int i = 0; i < MAX_BO; i++)
		if (bos[i].used && bos[i].desc == di && bos[i].obj == obj &&
		    (best < 0 || bos[i].handle < bos[best].handle))
			best = i;
	return best;
}

static int bo_of_ptr(const struct shws_bo *p)
{
	for (int i = 0; i < MAX_BO; i++)
		if (bos[i].used && bos[i].ptr == p)
			return i;
	return -1;
}

static bool obj_alive(unsigned obj)
{
	for (int i = 0; i < MAX_BO; i++)
		if (bos[i].used && bos[i].obj == obj)
			return true;
	return false;
}

static int index_find(int di, uint32_t name)
{
	for (int i = 0; i < MAX_BO; i++)
		if (name && desc[di].idx_name[i] == name)
			return desc[di].idx_bo[i];
	return -1;
}

/* shws_bo_table_name_set(): the name on the bo, and in the file's index
 * unless another bo stands for it there. */
static void name_set(int bi, uint32_t name)
{
	int di = bos[bi].desc;

	bos[bi].name = name;
	if (index_find(di, name) >= 0)
		return;
	for (int i = 0; i < MAX_BO; i++) {
		if (!desc[di].idx_name[i]) {
			desc[di].idx_name[i] = name;
			desc[di].idx_bo[i] = bi;
			return;
		}
	}
	model_fail(__FILE__, __LINE__, "name index full");
}

static void name_seen(uint32_t name)
{
	for (unsigned i = 0; i < n_names; i++)
		if (names_seen[i] == name)
			return;
	if (n_names < MAX_NAMES)
		names_seen[n_names++] = name;
	else
		names_seen[name % MAX_NAMES] = name;
}

/* A new model bo for @p, which shws just returned for a new handle. */
static int bo_new(int di, struct shws_bo *p, unsigned obj, uint64_t size,
		  enum shws_api api)
{
	int bi = free_bo_slot();

	M_CHECK(bi >= 0);
	M_CHECK(p);
	M_CHECK(bo_of_ptr(p) < 0);
	memset(&bos[bi], 0, sizeof(bos[bi]));
	bos[bi].used = true;
	bos[bi].ptr = p;
	bos[bi].desc = di;
	bos[bi].handle = shws_bo_handle(p);
	bos[bi].obj = obj;
	bos[bi].size = size;
	bos[bi].api[api] = 1;
	M_EQ(fake_gem_object(shws_file_fd(desc[di].file), bos[bi].handle), obj);
	return bi;
}

/* The bo's last reference went: it is gone, and maybe its file too. */
static void bo_dead(int bi)
{
	struct mdesc *d = &desc[bos[bi].desc];
	unsigned obj = bos[bi].obj;

	for (int i = 0; i < MAX_BO; i++)
		if (d->idx_name[i] && d->idx_bo[i] == bi)
			d->idx_name[i] = 0;
	bos[bi].used = false;
	/* The kernel forgets the name with the object's last handle. */
	if (obj < MAX_OBJ && !obj_alive(obj))
		obj_name[obj] = 0;
	file_maybe_dead(bos[bi].desc);
}

/* --- Injected failures ---------------------------------------------------- */

static const enum fake_call injectable[] = {
	FAKE_PRIME_IMPORT, FAKE_PRIME_EXPORT, FAKE_GEM_OPEN, FAKE_GEM_FLINK,
	FAKE_CREATE_DUMB,
};
static const int inject_err[] = { -ENOMEM, -EMFILE, -EINTR, -ENOSPC };
static int armed_err[FAKE_CALL_COUNT];
static bool alloc_armed;

/* After a call: the error an injected failure made it return (0: none
 * fired, or a restarted one). */
static int fired(void)
{
	int err = 0;

	for (unsigned i = 0; i < FAKE_CALL_COUNT; i++) {
		if (armed_err[i] && !fake_gem_fail_armed(i)) {
			if (armed_err[i] != -EINTR)
				err = armed_err[i];
			armed_err[i] = 0;
		}
	}
	if (alloc_armed && !fail_aligned_alloc) {
		alloc_armed = false;
		err = -ENOMEM;
	}
	return err;
}

/* --- Agreement after every call ---------------------------------------- */

static bool any_armed(void)
{
	for (unsigned i = 0; i < FAKE_CALL_COUNT; i++)
		if (armed_err[i])
			return true;
	return alloc_armed;
}

static void probe_translations(void)
{
	if (any_armed() || free_bo_slot() < 0)
		return; /* the probe would consume them */
	for (int bi = 0; bi < MAX_BO; bi++) {
		for (int di = 0; di < MAX_DESC && bos[bi].used; di++) {
			struct shws_bo *out = NULL;
			int src = bos[bi].desc, ti;
			uint32_t h;

			if (di == src || !file_held(&desc[di]) ||
			    desc[di].dev != desc[src].dev)
				continue;
			h = next_handle(di);
			M_EQ(shws_bo_translate(bos[bi].ptr, desc[di].file,
					       SHWS_API_OTHER, &out), 0);
			ti = bo_of_ptr(out);
			if (ti >= 0) {
				M_EQ(bos[ti].desc, di);
				M_EQ(bos[ti].obj, bos[bi].obj);
				M_EQ(shws_bo_unref(out, SHWS_API_OTHER), 0);
				continue;
			}
			M_EQ(bo_of_obj(di, bos[bi].obj), -1);
			M_CHECK(shws_bo_file(out) == desc[di].file);
			M_EQ(shws_bo_handle(out), h);
			M_EQ(fake_gem_object(shws_file_fd(desc[di].file), h),
			     bos[bi].obj);
			M_EQ(shws_bo_unref(out, SHWS_API_OTHER), 0);
			M_EQ(fake_gem_object(shws_file_fd(desc[di].file), h), 0);
		}
	}
}

static void check_all(void)
{
	unsigned handles = 0;

	for (int di = 0; di < MAX_DESC; di++) {
		struct mdesc *d = &desc[di];

		if (!d->used || !d->file)
			continue;
		for (unsigned a = 0; a < SHWS_API_COUNT; a++)
			M_EQ(shws_file_api_refs(d->file, a), d->api[a]);
		M_EQ(fake_gem_handles(shws_file_fd(d->file)), bos_of(di));
		M_EQ(shws_file_node_type(d->file), d->type);
		M_EQ(shws_file_is_private(d->file), d->priv);
	}
	for (int bi = 0; bi < MAX_BO; bi++) {
		struct mbo *b = &bos[bi];
		struct shws_file *f;

		if (!b->used)
			continue;
		f = desc[b->desc].file;
		M_CHECK(f);
		M_CHECK(shws_bo_file(b->ptr) == f);
		M_EQ(shws_bo_handle(b->ptr), b->handle);
		M_EQ(shws_bo_size(b->ptr), b->size);
		for (unsigned a = 0; a < SHWS_API_COUNT; a++)
			M_EQ(shws_bo_api_refs(b->ptr, a), b->api[a]);
		M_EQ(fake_gem_object(shws_file_fd(f), b->handle), b->obj);
		M_CHECK(shws_bo_find(f, b->handle) == b->ptr);
		handles++;
	}
	M_EQ(fake_gem_open_handles(), handles);
	M_EQ(fake_gem_bad_closes(), 0);
}

/* --- The calls -------------------------------------------------------------- */

static void op_open_desc(void)
{
	uint8_t b = byte();
	int di;

	for (di = 0; di < MAX_DESC && desc[di].used; di++)
		;
	if (di == MAX_DESC)
		return;
	desc[di].used = true;
	desc[di].dev = b & 1;
	desc[di].type = (b >> 1) & 1 ? SHWS_NODE_RENDER : SHWS_NODE_PRIMARY;
	desc[di].fd = fake_drm_open(desc[di].dev, desc[di].type);
	M_CHECK(desc[di].fd >= 0);
}

static void op_close_desc_fd(void)
{
	uint8_t b = byte();
	int di = b % MAX_DESC;

	if (desc[di].used && desc[di].fd >= 0) {
		close(desc[di].fd);
		desc[di].fd = -1;
	}
}

/* shws_file_open() of @fd (on @di's description) when identity is
 * UNKNOWN: a shared file if the node has none yet, else a private file on
 * a description of its own (the render node) or -ENOTUNIQ. */
static void file_open_unknown(int di, int fd, unsigned flags,
			      enum shws_api api)
{
	struct shws_file *f = (struct shws_file *)&f;
	bool shared = false;
	int pi, r;

	for (int i = 0; i < MAX_DESC; i++)
		if (desc[i].used && desc[i].file && !desc[i].priv &&
		    desc[i].dev == desc[di].dev &&
		    desc[i].type == desc[di].type)
			shared = true;
	for (pi = 0; pi < MAX_DESC && desc[pi].used; pi++)
		;
	if (shared && (flags & SHWS_FILE_PRIVATE_OK) && pi == MAX_DESC)
		return; /* no room in the model for another description */
	r = shws_file_open(fd, flags, api, &f);
	if (!shared) {
		M_EQ(r, 0);
		M_CHECK(f && !desc[di].file);
		desc[di].file = f;
		desc[di].api[api]++;
		return;
	}
	if (!(flags & SHWS_FILE_PRIVATE_OK)) {
		M_EQ(r, -ENOTUNIQ);
		M_CHECK(!f);
		return;
	}
	M_EQ(r, 0);
	M_CHECK(shws_file_is_private(f));
	for (int i = 0; i < MAX_DESC; i++)
		M_CHECK(desc[i].file != f);
	memset(&desc[pi], 0, sizeof(desc[pi]));
	desc[pi].used = true;
	desc[pi].priv = true;
	desc[pi].fd = -1;
	desc[pi].dev = desc[di].dev;
	desc[pi].type = SHWS_NODE_RENDER; /* the render node first */
	desc[pi].file = f;
	desc[pi].api[api] = 1;
}

static void op_identity(void)
{
	static const char *const policy[] = { NULL, "kcmp", "epoll", "none",
					      "dupfd_query" };
	uint8_t b = byte() % ARRAY_SIZE(policy);

	if (policy[b])
		setenv("SHWS_IDENTITY", policy[b], 1);
	else
		unsetenv("SHWS_IDENTITY");
	shws_identity_reset();
	id_none = b == 3;
}

static void op_file_open(void)
{
	uint8_t b = byte();
	int di = b % MAX_DESC;
	enum shws_api api = pick_api();
	unsigned flags = (b & 0x80) ? SHWS_FILE_PRIVATE_OK : 0;
	struct shws_file *f = (struct shws_file *)&f;
	int r, fd;

	if (!desc[di].used || desc[di].fd < 0)
		return;
	fd = desc[di].fd;
	if (b & 0x40) /* another fd of the same description */
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	M_CHECK(fd >= 0);
	if (id_none && api != API_BAD) {
		file_open_unknown(di, fd, flags, api);
		if (fd != desc[di].fd)
			close(fd);
		return;
	}
	r = shws_file_open(fd, flags, api, &f);
	if (fd != desc[di].fd)
		close(fd);
	if (api == API_BAD) {
		M_EQ(r, -EINVAL);
		return;
	}
	M_EQ(r, 0);
	if (desc[di].file)
		M_CHECK(f == desc[di].file);
	M_CHECK(f);
	desc[di].file = f;
	desc[di].api[api]++;
}

static void op_file_open_bad(void)
{
	uint8_t b = byte();
	struct shws_file *f;
	int fd = -1, want = -EBADF, r;

	switch (b % 4) {
	case 0:
		break;
	case 1: /* not a DRM node */
		if (!n_pool)
			return;
		fd = pool[b % n_pool].fd;
		want = -ENOTTY;
		break;
	case 2: /* unknown flags */
		for (int i = 0; i < MAX_DESC; i++)
			if (desc[i].used && desc[i].fd >= 0)
				fd = desc[i].fd;
		if (fd < 0)
			return;
		M_EQ(shws_file_open(fd, 0x100, SHWS_API_GL, &f), -EINVAL);
		return;
	case 3:
		M_EQ(shws_file_open(0, 0, SHWS_API_GL, NULL), -EINVAL);
		return;
	}
	r = shws_file_open(fd, 0, SHWS_API_GL, &f);
	M_EQ(r, want);
}

static void op_file_ref(void)
{
	int di = pick_desc_held();
	enum shws_api api = pick_api();

	if (di < 0)
		return;
	if (api == API_BAD) {
		M_EQ(shws_file_ref(desc[di].file, api), -EINVAL);
		return;
	}
	M_EQ(shws_file_ref(desc[di].file, api), 0);
	desc[di].api[api]++;
}

static void op_file_unref(void)
{
	int di = pick_desc_held();
	enum shws_api api = pick_api();
	int r;

	if (di < 0)
		return;
	r = shws_file_unref(desc[di].file, api);
	if (api == API_BAD || !desc[di].api[api]) {
		M_EQ(r, -EINVAL);
		return;
	}
	M_EQ(r, 0);
	desc[di].api[api]--;
	file_maybe_dead(di);
}

static void op_import_dmabuf(void)
{
	int di = pick_desc_held();
	uint8_t b = byte();
	enum shws_api api = pick_api();
	struct shws_bo *bo = (struct shws_bo *)&bo;
	unsigned obj = 0;
	int fd, r, err, bi;

	if (di < 0 || free_bo_slot() < 0)
		return;
	switch (b % 8) {
	case 0:
		fd = -1;
		break;
	case 1:
		fd = desc[di].fd >= 0 ? desc[di].fd : shws_file_fd(desc[di].file);
		break;
	case 2:
		fd = 1000; /* not open */
		if (fcntl(fd, F_GETFD) >= 0)
			return;
		break;
	default:
		if (!n_pool)
			return;
		fd = pool[b % n_pool].fd;
		obj = pool[b % n_pool].obj;
	}
	r = shws_bo_import_dmabuf(desc[di].file, fd, api, &bo);
	err = fired();
	if (api == API_BAD || fd == -1) {
		M_EQ(r, api == API_BAD ? -EINVAL : -EBADF);
		M_CHECK(!bo);
		return;
	}
	if (err) {
		M_EQ(r, err);
		M_CHECK(!bo);
		return;
	}
	if (!obj) {
		M_EQ(r, fd == 1000 ? -EBADF : -EINVAL);
		M_CHECK(!bo);
		return;
	}
	M_EQ(r, 0);
	bi = bo_of_obj(di, obj);
	if (bi >= 0) {
		M_CHECK(bo == bos[bi].ptr);
		bos[bi].api[api]++;
	} else {
		uint32_t h = next_handle(di);

		bi = bo_new(di, bo, obj, fake_object_size(obj), api);
		M_EQ(bos[bi].handle, h);
	}
}

static void op_import_flink(void)
{
	int di = pick_desc_held();
	uint8_t b = byte();
	enum shws_api api = pick_api();
	struct shws_bo *bo = (struct shws_bo *)&bo;
	uint32_t name, h;
	unsigned obj = 0;
	int r, err, bi;

	if (di < 0 || free_bo_slot() < 0)
		return;
	if (b % 8 == 0)
		name = 0;
	else if (b % 8 == 1 || !n_names)
		name = 5000 + b; /* never handed out */
	else
		name = names_seen[b % n_names];
	h = next_handle(di);
	r = shws_bo_import_flink(desc[di].file, name, api, &bo);
	err = fired();
	if (api == API_BAD || !name) {
		M_EQ(r, -EINVAL);
		M_CHECK(!bo);
		return;
	}
	bi = index_find(di, name);
	if (bi >= 0) { /* no GEM_OPEN: nothing can fire */
		M_EQ(err, 0);
		M_EQ(r, 0);
		M_CHECK(bo == bos[bi].ptr);
		bos[bi].api[api]++;
		return;
	}
	if (err) {
		M_EQ(r, err);
		M_CHECK(!bo);
		return;
	}
	if (desc[di].type != SHWS_NODE_PRIMARY) {
		M_EQ(r, -EACCES);
		return;
	}
	for (unsigned o = 1; o < MAX_OBJ; o++)
		if (obj_name[o] == name && obj_alive(o))
			obj = o;
	if (!obj) {
		M_EQ(r, -ENOENT);
		M_CHECK(!bo);
		return;
	}
	M_EQ(r, 0);
	/* GEM_OPEN: always a new handle. */
	bi = bo_new(di, bo, obj, fake_object_size(obj), api);
	M_EQ(bos[bi].handle, h);
	name_set(bi, name);
}

/* The fd to create handles on for @di's description. */
static int desc_fd(int di)
{
	return desc[di].fd >= 0 ? desc[di].fd : shws_file_fd(desc[di].file);
}

/* Whether shws_bo_adopt() accepts @fd, a fd of @di's description, as
 * @di's file's own: shws's own fd always; another fd only if identity can
 * tell. */
static bool adopt_fd_ok(int di, int fd)
{
	return fd == shws_file_fd(desc[di].file) || !id_none;
}

static void op_adopt_new(void)
{
	int di = pick_desc_held();
	uint8_t b = byte();
	enum shws_api api = pick_api();
	uint64_t size = ((uint64_t)(byte() % 16) + 1) * 4096;
	struct shws_bo *bo = (struct shws_bo *)&bo;
	int fd, other = -1, r, err;
	uint32_t h;

	if (di < 0 || free_bo_slot() < 0)
		return;
	fd = desc_fd(di);
	if (b % 4 == 0) { /* a handle made on another description */
		for (int i = 0; i < MAX_DESC; i++)
			if (i != di && desc[i].used && desc[i].fd >= 0 &&
			    (b & 4 || desc[i].dev == desc[di].dev))
				other = i;
		if (other < 0)
			return;
		fd = desc[other].fd;
	}
	M_EQ(fake_gem_create(fd, size, &h), 0);
	r = shws_bo_adopt(desc[di].file, fd, h, size, api, &bo);
	err = fired();
	if (other < 0 && !adopt_fd_ok(di, fd))
		other = di;
	if (api == API_BAD || other >= 0 || err) {
		M_EQ(r, api == API_BAD ? -EINVAL : other >= 0 ? -EXDEV : err);
		M_CHECK(!bo);
		/* The caller keeps its handle and closes it. */
		M_EQ(shws_gem_close(fd, h), 0);
		return;
	}
	M_EQ(r, 0);
	M_EQ(h, next_handle(di));
	bo_new(di, bo, fake_gem_object(fd, h), size, api);
}

static void op_adopt_existing(void)
{
	int bi = pick_bo();
	uint8_t b = byte();
	enum shws_api api = pick_api();
	struct shws_bo *bo = (struct shws_bo *)&bo;
	uint64_t size;
	int di, r;

	if (bi < 0)
		return;
	di = bos[bi].desc;
	if (!file_held(&desc[di]))
		return;
	size = bos[bi].size + (b & 1 ? 4096 : 0);
	r = shws_bo_adopt(desc[di].file, desc_fd(di), bos[bi].handle, size,
			  api, &bo);
	M_EQ(fired(), 0); /* no allocation: the bucket exists */
	if (api == API_BAD) {
		M_EQ(r, -EINVAL);
	} else if (!adopt_fd_ok(di, desc_fd(di))) {
		M_EQ(r, -EXDEV);
		M_CHECK(!bo);
	} else if (b & 1) {
		M_EQ(r, -EEXIST);
		M_CHECK(!bo);
	} else {
		M_EQ(r, 0);
		M_CHECK(bo == bos[bi].ptr);
		bos[bi].api[api]++;
	}
}

static void op_adopt_bad(void)
{
	static const uint32_t handles[] = {
		0, SHWS_BO_HANDLE_MAX + 1, 0x80000000u, 0xffffffffu,
	};
	int di = pick_desc_held();
	uint8_t b = byte();
	struct shws_bo *bo = (struct shws_bo *)&bo;
	uint32_t h = handles[b % 4];
	int r;

	if (di < 0)
		return;
	if (b & 4) {
		r = shws_bo_adopt(desc[di].file, desc_fd(di), 1, 0,
				  SHWS_API_GL, &bo);
		M_EQ(r, -EINVAL);
		return;
	}
	r = shws_bo_adopt(desc[di].file, desc_fd(di), h, 4096, SHWS_API_GL,
			  &bo);
	M_EQ(fired(), 0);
	M_EQ(r, h ? -ERANGE : -EINVAL);
	M_CHECK(!bo);
}

static void op_create_dumb(void)
{
	static const uint32_t bpps[] = { 32, 32, 24, 16, 8, 0, 12, 40 };
	int di = pick_desc_held();
	uint32_t w = byte() % 70, hgt = byte() % 70, bpp = bpps[byte() % 8];
	enum shws_api api = pick_api();
	struct shws_bo *bo = (struct shws_bo *)&bo;
	uint32_t pitch = 0, h;
	uint64_t p;
	int r, err;

	if (di < 0 || free_bo_slot() < 0)
		return;
	h = next_handle(di);
	r = shws_bo_create_dumb(desc[di].file, w, hgt, bpp, api, &bo, &pitch);
	err = fired();
	if (api == API_BAD || !w || !hgt || !bpp) {
		M_EQ(err, 0);
		M_EQ(r, -EINVAL);
		return;
	}
	if (err) {
		M_EQ(r, err);
		M_CHECK(!bo);
		return;
	}
	if (desc[di].type != SHWS_NODE_PRIMARY) {
		M_EQ(r, -EACCES);
		return;
	}
	if (bpp % 8 || bpp > 32) {
		M_EQ(r, -EINVAL);
		return;
	}
	M_EQ(r, 0);
	p = ((uint64_t)w * (bpp / 8) + 63) & ~63ull;
	M_EQ(pitch, p);
	bo_new(di, bo, fake_gem_object(desc_fd(di), h), (p * hgt + 4095) & ~4095ull,
	       api);
	M_EQ(shws_bo_handle(bo), h);
}

/* A handle of a live bo of @di, or some other number. */
static uint32_t pick_handle(int di)
{
	uint8_t b = byte();
	int bi = pick_bo();

	if (b % 4 == 0 || bi < 0 || bos[bi].desc != di)
		return b % 4 == 1 ? 0xffffffffu : b % 8;
	return bos[bi].handle;
}

static int bo_at(int di, uint32_t h)
{
	for (int i = 0; i < MAX_BO; i++)
		if (bos[i].used && bos[i].desc == di && bos[i].handle == h)
			return i;
	return -1;
}

static void op_lookup(void)
{
	int di = pick_desc_held();
	enum shws_api api = pick_api();
	struct shws_bo *bo;
	uint32_t h;
	int bi;

	if (di < 0)
		return;
	h = pick_handle(di);
	bi = bo_at(di, h);
	bo = shws_bo_lookup(desc[di].file, h, api);
	if (bi < 0 || api == API_BAD) {
		M_CHECK(!bo);
		return;
	}
	M_CHECK(bo == bos[bi].ptr);
	bos[bi].api[api]++;
}

static void op_find(void)
{
	int di = pick_desc_held();
	struct shws_bo *bo;
	uint32_t h;
	int bi;

	if (di < 0)
		return;
	h = pick_handle(di);
	bi = bo_at(di, h);
	bo = shws_bo_find(desc[di].file, h);
	M_CHECK(bo == (bi < 0 ? NULL : bos[bi].ptr));
}

static void op_bo_ref(void)
{
	int bi = pick_bo();
	enum shws_api api = pick_api();

	if (bi < 0)
		return;
	if (api == API_BAD) {
		M_EQ(shws_bo_ref(bos[bi].ptr, api), -EINVAL);
		return;
	}
	M_EQ(shws_bo_ref(bos[bi].ptr, api), 0);
	bos[bi].api[api]++;
}

static bool bo_unref_model(int bi, enum shws_api api)
{
	unsigned left = 0;

	bos[bi].api[api]--;
	for (unsigned a = 0; a < SHWS_API_COUNT; a++)
		left += bos[bi].api[a];
	if (!left)
		bo_dead(bi);
	return !left;
}

static void op_bo_unref(void)
{
	int bi = pick_bo();
	enum shws_api api = pick_api();
	struct shws_file *f;
	uint32_t h;
	int r, di;

	if (bi < 0)
		return;
	di = bos[bi].desc;
	f = desc[di].file;
	h = bos[bi].handle;
	r = shws_bo_unref(bos[bi].ptr, api);
	if (api == API_BAD || !bos[bi].api[api]) {
		M_EQ(r, -EINVAL);
		return;
	}
	M_EQ(r, 0);
	if (bo_unref_model(bi, api) && desc[di].file)
		M_EQ(fake_gem_object(shws_file_fd(f), h), 0);
}

static void pool_add(int fd, unsigned obj)
{
	if (n_pool == MAX_POOL) {
		close(pool[0].fd);
		memmove(&pool[0], &pool[1], (MAX_POOL - 1) * sizeof(pool[0]));
		n_pool--;
	}
	pool[n_pool].fd = fd;
	pool[n_pool].obj = obj;
	n_pool++;
}

static void op_export(void)
{
	int bi = pick_bo();
	uint8_t b = byte();
	int fd = -2, r, err;

	if (bi < 0)
		return;
	r = shws_bo_export_dmabuf(bos[bi].ptr, b & 1 ? &fd : NULL);
	err = fired();
	if (!(b & 1)) {
		M_EQ(r, -EINVAL);
		M_EQ(err, 0);
		return;
	}
	if (err) {
		M_EQ(r, err);
		M_EQ(fd, -1);
		return;
	}
	M_EQ(r, 0);
	M_EQ(fake_dmabuf_object(fd), bos[bi].obj);
	pool_add(fd, bos[bi].obj);
}

static void op_foreign_dmabuf(void)
{
	uint64_t size = ((uint64_t)(byte() % 8) + 1) * 4096;
	int fd = fake_dmabuf_new(size);

	M_CHECK(fd >= 0);
	pool_add(fd, fake_dmabuf_object(fd));
}

static void op_close_dmabuf(void)
{
	uint8_t b = byte();
	unsigned i;

	if (!n_pool)
		return;
	i = b % n_pool;
	close(pool[i].fd);
	pool[i] = pool[--n_pool];
}

static void op_flink(void)
{
	int bi = pick_bo();
	uint8_t b = byte();
	uint32_t name = 0;
	unsigned obj;
	int r, err;

	if (bi < 0)
		return;
	obj = bos[bi].obj;
	r = shws_bo_flink(bos[bi].ptr, b & 7 ? &name : NULL);
	err = fired();
	if (!(b & 7)) {
		M_EQ(r, -EINVAL);
		return;
	}
	if (bos[bi].name) { /* cached: no ioctl */
		M_EQ(err, 0);
		M_EQ(r, 0);
		M_EQ(name, bos[bi].name);
		return;
	}
	if (err) {
		M_EQ(r, err);
		return;
	}
	if (desc[bos[bi].desc].type != SHWS_NODE_PRIMARY) {
		M_EQ(r, -EACCES);
		return;
	}
	M_EQ(r, 0);
	M_CHECK(obj < MAX_OBJ);
	if (!obj_name[obj])
		obj_name[obj] = ++last_name;
	M_EQ(name, obj_name[obj]);
	name_set(bi, name);
	name_seen(name);
}

static void op_translate(void)
{
	int bi = pick_bo();
	int di = pick_desc_held();
	enum shws_api api = pick_api();
	struct shws_bo *out = (struct shws_bo *)&out;
	int r, err, ti, src;

	/* Room for a new bo in the model, whatever the call makes. */
	if (bi < 0 || di < 0 || free_bo_slot() < 0)
		return;
	src = bos[bi].desc;
	r = shws_bo_translate(bos[bi].ptr, desc[di].file, api, &out);
	err = fired();
	if (api == API_BAD) {
		M_EQ(r, -EINVAL);
		return;
	}
	if (di == src) {
		M_EQ(r, 0);
		M_CHECK(out == bos[bi].ptr);
		bos[bi].api[api]++;
		return;
	}
	if (desc[di].dev != desc[src].dev) {
		M_EQ(r, -EXDEV);
		return;
	}
	if (err) {
		M_EQ(r, err);
		M_CHECK(!out);
		return;
	}
	M_EQ(r, 0);
	/* Cached or imported: a bo of the same buffer in the other file. */
	ti = bo_of_ptr(out);
	if (ti >= 0) {
		M_EQ(bos[ti].desc, di);
		M_EQ(bos[ti].obj, bos[bi].obj);
		bos[ti].api[api]++;
	} else {
		uint32_t h = next_handle(di);

		M_EQ(bo_of_obj(di, bos[bi].obj), -1);
		ti = bo_new(di, out, bos[bi].obj, bos[bi].size, api);
		M_EQ(bos[ti].handle, h);
	}
}

static void op_inject(void)
{
	uint8_t b = byte();
	enum fake_call c = injectable[b % ARRAY_SIZE(injectable)];
	int err = inject_err[(b >> 4) % ARRAY_SIZE(inject_err)];

	if (b & 8) {
		fail_aligned_alloc = alloc_armed = true;
		return;
	}
	fake_gem_fail_next(c, err);
	armed_err[c] = err;
}

static void op_dump(void)
{
	int di = pick_desc_held();
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	if (di < 0)
		return;
	out = open_memstream(&buf, &len);
	M_CHECK(out);
	M_EQ(shws_bo_dump(desc[di].file, out), bos_of(di));
	fclose(out);
	free(buf);
}

static const struct {
	const char *name;
	void (*fn)(void);
} ops[] = {
	{ "open-desc", op_open_desc },
	{ "close-desc-fd", op_close_desc_fd },
	{ "file-open", op_file_open },
	{ "file-open-bad", op_file_open_bad },
	{ "file-ref", op_file_ref },
	{ "file-unref", op_file_unref },
	{ "import-dmabuf", op_import_dmabuf },
	{ "import-flink", op_import_flink },
	{ "adopt-new", op_adopt_new },
	{ "adopt-existing", op_adopt_existing },
	{ "adopt-bad", op_adopt_bad },
	{ "create-dumb", op_create_dumb },
	{ "lookup", op_lookup },
	{ "find", op_find },
	{ "bo-ref", op_bo_ref },
	{ "bo-unref", op_bo_unref },
	{ "export", op_export },
	{ "foreign-dmabuf", op_foreign_dmabuf },
	{ "close-dmabuf", op_close_dmabuf },
	{ "flink", op_flink },
	{ "translate", op_translate },
	{ "inject", op_inject },
	{ "dump", op_dump },
	{ "identity", op_identity },
};

/* --- One input ------------------------------------------------------------- */

static void release_all(void)
{
	/* Bos first, in table order, then the files. */
	for (int bi = 0; bi < MAX_BO; bi++) {
		while (bos[bi].used) {
			for (unsigned a = 0; a < SHWS_API_COUNT; a++) {
				if (!bos[bi].api[a])
					continue;
				M_EQ(shws_bo_unref(bos[bi].ptr, a), 0);
				bo_unref_model(bi, a);
				break;
			}
		}
	}
	for (int di = 0; di < MAX_DESC; di++) {
		for (unsigned a = 0; a < SHWS_API_COUNT; a++) {
			while (desc[di].api[a]) {
				M_EQ(shws_file_unref(desc[di].file, a), 0);
				desc[di].api[a]--;
			}
		}
		file_maybe_dead(di);
		M_CHECK(!desc[di].file);
		if (desc[di].used && desc[di].fd >= 0)
			close(desc[di].fd);
		desc[di].used = false;
	}
	for (unsigned i = 0; i < n_pool; i++)
		close(pool[i].fd);
}

static void reset_model(void)
{
	memset(desc, 0, sizeof(desc));
	memset(bos, 0, sizeof(bos));
	memset(obj_name, 0, sizeof(obj_name));
	memset(armed_err, 0, sizeof(armed_err));
	n_pool = n_names = 0;
	last_name = 0;
	alloc_armed = fail_aligned_alloc = false;
	if (id_none || getenv("SHWS_IDENTITY")) {
		unsetenv("SHWS_IDENTITY");
		shws_identity_reset();
	}
	id_none = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds = test_fd_count();

	in = data;
	in_len = size;
	in_pos = 0;
	reset_model();
	probe = byte() & 1;
	M_EQ(fake_device_add("fakegpu"), 0);
	M_EQ(fake_device_add("othergpu"), 1);
	for (op_no = 0; in_pos < in_len && op_no < MAX_OPS; op_no++) {
		unsigned k = byte() % ARRAY_SIZE(ops);

		op_name = ops[k].name;
		ops[k].fn();
		/* An armed failure that did not fire stays armed. */
		check_all();
		if (probe) {
			op_name = "probe";
			probe_translations();
			check_all();
		}
	}
	op_name = NULL;
	/* Disarm what never fired, then release everything. */
	for (unsigned i = 0; i < FAKE_CALL_COUNT; i++)
		fake_gem_fail_next(i, 0);
	fail_aligned_alloc = alloc_armed = false;
	release_all();
	check_all();
	M_EQ(n_bos(), 0);
	M_EQ(fake_gem_open_handles(), 0);
	M_EQ(fake_gem_live_objects(), 0);
	M_EQ(fake_gem_bad_closes(), 0);
	fake_kernel_reset();
	M_EQ(test_fd_count(), fds);
	return 0;
}

#ifndef SHWS_LIBFUZZER
/* Without libFuzzer: replay the files (or directories of files) given. */
#include <dirent.h>
#include <sys/stat.h>

static unsigned replayed;

static void replay_file(const char *path)
{
	static uint8_t buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		test_fail("%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	replayed++;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent *e;
		DIR *d;

		if (stat(argv[i], &st) < 0)
			test_fail("%s: %s", argv[i], strerror(errno));
		if (!S_ISDIR(st.st_mode)) {
			replay_file(argv[i]);
			continue;
		}
		d = opendir(argv[i]);
		if (!d)
			test_fail("%s: %s", argv[i], strerror(errno));
		while ((e = readdir(d))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			replay_file(path);
		}
		closedir(d);
	}
	printf("replayed %u inputs\n", replayed);
	/* An empty corpus tests nothing. */
	return replayed ? 0 : 1;
}
#endif
