/* SPDX-License-Identifier: MIT */
/*
 * shws-info: what shws sees on this machine. DRM and accel devices with
 * their nodes and drivers, the file-identity methods that work and the one
 * chosen, sync_file ioctl support, DRM_CAP_SYNCOBJ, and a self-check of the
 * registry (one node opened twice plus a dup). --json prints the same as
 * JSON. Exit status: 0, or 1 if the self-check got a wrong answer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xf86drm.h>

#include <shws/shws.h>

#define MAX_DEVICES 32
#define MAX_NODES 64

struct node {
	char path[300];
	int fd;
	struct shws_file *file;
};

struct device {
	struct shws_device *dev; /* kept alive by the nodes' files */
	int probe_fd;            /* borrowed from a node: render if any */
	int syncobj;             /* DRM_CAP_SYNCOBJ value or -errno */
	int prime;               /* DRM_CAP_PRIME value or -errno */
	int sync_file;           /* 1 yes, 0 no (ENOTTY), -errno unknown */
};

struct pair {
	const char *a, *b;
	int identity;
	bool same_file, want_same;
};

struct info {
	struct node nodes[MAX_NODES];
	int n_nodes;
	struct device devices[MAX_DEVICES];
	int n_devices;
	/* self-check */
	const char *check_node;
	struct pair pairs[3];
	int check_error; /* -errno if it could not run, 0 otherwise */
	bool check_ok;
};

static bool json;

__attribute__((format(printf, 2, 0)))
static void log_handler(enum shws_log_level level, const char *fmt,
			va_list args)
{
	fprintf(stderr, "shws-info: ");
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

static void scan_dir(struct info *info, const char *dir, const char *prefix)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)) && info->n_nodes < MAX_NODES) {
		struct node *n = &info->nodes[info->n_nodes];

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(n->path, sizeof(n->path), "%s/%s", dir, e->d_name);
		n->fd = open(n->path, O_RDWR | O_CLOEXEC);
		if (n->fd < 0)
			continue;
		/* A tool must not keep DRM master it got by accident. */
		if (drmIsMaster(n->fd))
			drmDropMaster(n->fd);
		if (shws_file_open(n->fd, 0, SHWS_API_OTHER, &n->file) < 0) {
			close(n->fd);
			continue;
		}
		info->n_nodes++;
	}
	closedir(d);
}

static struct device *device_of(struct info *info, struct shws_device *dev)
{
	int i;

	for (i = 0; i < info->n_devices; i++)
		if (info->devices[i].dev == dev)
			return &info->devices[i];
	if (info->n_devices == MAX_DEVICES)
		return NULL;
	info->devices[info->n_devices].dev = dev;
	info->devices[info->n_devices].probe_fd = -1;
	return &info->devices[info->n_devices++];
}

static int get_cap(int fd, uint64_t cap)
{
	uint64_t v = 0;

	if (drmGetCap(fd, cap, &v) != 0)
		return -errno;
	return (int)v;
}

/* A dma-buf needs a buffer; dumb buffers need a primary node. */
static int probe_sync_file(const struct info *info, const struct device *d)
{
	struct drm_mode_create_dumb c = { .width = 16, .height = 16, .bpp = 32 };
	struct dma_buf_export_sync_file x = { .flags = DMA_BUF_SYNC_READ,
					      .fd = -1 };
	int fd = -1, buf = -1, r, i;

	for (i = 0; i < info->n_nodes; i++)
		if (shws_file_device(info->nodes[i].file) == d->dev &&
		    shws_file_node_type(info->nodes[i].file) ==
			    SHWS_NODE_PRIMARY)
			fd = shws_file_fd(info->nodes[i].file);
	if (fd < 0)
		return -ENODEV;
	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c) != 0)
		return -errno;
	r = drmPrimeHandleToFD(fd, c.handle, DRM_CLOEXEC | DRM_RDWR, &buf);
	drmCloseBufferHandle(fd, c.handle);
	if (r != 0)
		return r < 0 ? r : -EIO;
	/* Kernels before 6.0 do not know the ioctl: ENOTTY. */
	if (ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &x) == 0) {
		close(x.fd);
		r = 1;
	} else {
		r = errno == ENOTTY ? 0 : -errno;
	}
	close(buf);
	return r;
}

static void probe_devices(struct info *info)
{
	int i;

	for (i = 0; i < info->n_nodes; i++) {
		struct shws_file *f = info->nodes[i].file;
		struct device *d = device_of(info, shws_file_device(f));

		if (d && (d->probe_fd < 0 ||
			  shws_file_node_type(f) == SHWS_NODE_RENDER))
			d->probe_fd = shws_file_fd(f);
	}
	for (i = 0; i < info->n_devices; i++) {
		struct device *d = &info->devices[i];

		d->syncobj = get_cap(d->probe_fd, DRM_CAP_SYNCOBJ);
		d->prime = get_cap(d->probe_fd, DRM_CAP_PRIME);
		d->sync_file = probe_sync_file(info, d);
	}
}

/*
 * Opens one node twice and dup()s the first: shws must see the dup as the
 * same file and the second open as a different one (or, if it cannot
 * tell, give a private file: never the same shws_file).
 */
static int self_check(struct info *info)
{
	static const char *const names[] = { "open1", "open2", "dup(open1)" };
	static const int pa[3] = { 0, 0, 1 }, pb[3] = { 1, 2, 2 };
	struct shws_file *files[3] = { NULL, NULL, NULL };
	int fds[3] = { -1, -1, -1 }, i, r = 0;
	const char *path = NULL;

	for (i = 0; i < info->n_nodes && !path; i++)
		if (shws_file_node_type(info->nodes[i].file) ==
		    SHWS_NODE_RENDER)
			path = info->nodes[i].path;
	if (!path && info->n_nodes)
		path = info->nodes[0].path;
	if (!path)
		return -ENODEV;
	info->check_node = path;
	fds[0] = open(path, O_RDWR | O_CLOEXEC);
	fds[1] = open(path, O_RDWR | O_CLOEXEC);
	fds[2] = fds[0] < 0 ? -1 : fcntl(fds[0], F_DUPFD_CLOEXEC, 0);
	for (i = 0; i < 3 && r == 0; i++)
		r = fds[i] < 0 ? -errno :
			shws_file_open(fds[i], 0, SHWS_API_OTHER, &files[i]);
	info->check_ok = r == 0;
	for (i = 0; i < 3 && r == 0; i++) {
		struct pair *p = &info->pairs[i];

		p->a = names[pa[i]];
		p->b = names[pb[i]];
		p->identity = shws_identity_compare(fds[pa[i]], fds[pb[i]]);
		p->same_file = files[pa[i]] == files[pb[i]];
		p->want_same = pa[i] == 0 && pb[i] == 2;
		/* UNKNOWN must give distinct (private) files, never a
		 * shared one; a definite answer must be the right one. */
		if (p->identity == SHWS_IDENTITY_UNKNOWN)
			info->check_ok &= !p->same_file;
		else
			info->check_ok &= p->same_file == p->want_same &&
					  p->identity == (p->want_same ?
						SHWS_IDENTITY_SAME :
						SHWS_IDENTITY_DIFFERENT);
	}
	for (i = 0; i < 3; i++) {
		shws_file_unref(files[i], SHWS_API_OTHER);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	return r;
}

/* ---- output ------------------------------------------------------------ */

static void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *identity_name(int r)
{
	switch (r) {
	case SHWS_IDENTITY_SAME: return "same";
	case SHWS_IDENTITY_DIFFERENT: return "different";
	case SHWS_IDENTITY_UNKNOWN: return "unknown";
	default: return "error";
	}
}

static void print_methods(unsigned mask)
{
	const char *sep = "";
	int m;

	for (m = SHWS_IDENTITY_METHOD_DUPFD_QUERY;
	     m <= SHWS_IDENTITY_METHOD_EPOLL; m++) {
		if (!(mask & SHWS_IDENTITY_METHOD_BIT(m)))
			continue;
		fputs(sep, stdout);
		if (json)
			json_str(shws_identity_method_name(m));
		else
			fputs(shws_identity_method_name(m), stdout);
		sep = json ? ", " : " ";
	}
}

static void print_identity(void)
{
	unsigned mask = shws_identity_methods();
	const char *chosen =
		shws_identity_method_name(shws_identity_chosen_method());
	int seccomp = shws_identity_seccomp_active();
	const char *env = getenv("SHWS_IDENTITY");

	if (json) {
		printf("  \"identity\": {\n    \"available\": [");
		print_methods(mask);
		printf("],\n    \"chosen\": ");
		json_str(chosen);
		printf(",\n    \"seccomp\": %s,\n    \"override\": ",
		       seccomp ? "true" : "false");
		json_str(env);
		printf("\n  },\n");
		return;
	}
	printf("identity methods available: ");
	print_methods(mask);
	printf("\nidentity method chosen: %s\n", chosen);
	printf("seccomp filter: %s\n", seccomp ? "active" : "none");
	if (env)
		printf("SHWS_IDENTITY=%s\n", env);
}

static const char *tristate(int v)
{
	return v > 0 ? "true" : v == 0 ? "false" : "null";
}

static void print_device(const struct device *d, bool last)
{
	static const char *const keys[] = { "primary", "render", "accel" };
	int t;

	if (!json) {
		printf("device %s\n", shws_device_driver(d->dev));
		for (t = 0; t < SHWS_NODE_COUNT; t++)
			if (shws_device_node_path(d->dev, t))
				printf("  %-8s %s\n", keys[t],
				       shws_device_node_path(d->dev, t));
		printf("  DRM_CAP_SYNCOBJ %s\n  DRM_CAP_PRIME %d\n",
		       tristate(d->syncobj), d->prime);
		printf("  dma-buf sync_file ioctls: %s\n",
		       d->sync_file > 0 ? "yes" :
		       d->sync_file == 0 ? "no (kernel < 6.0)" : "unknown");
		return;
	}
	printf("    {\n      \"driver\": ");
	json_str(shws_device_driver(d->dev));
	printf(",\n      \"nodes\": {");
	for (t = 0; t < SHWS_NODE_COUNT; t++) {
		printf("%s\"%s\": ", t ? ", " : "", keys[t]);
		json_str(shws_device_node_path(d->dev, t));
	}
	printf("},\n      \"syncobj\": %s,\n      \"prime\": %d,\n"
	       "      \"sync_file_ioctls\": %s\n    }%s\n",
	       tristate(d->syncobj), d->prime < 0 ? 0 : d->prime,
	       tristate(d->sync_file), last ? "" : ",");
}

static void print_check(const struct info *info)
{
	int i;

	if (json) {
		printf("  \"self_check\": {\n    \"node\": ");
		json_str(info->check_node);
		printf(",\n    \"error\": ");
		json_str(info->check_error ? strerror(-info->check_error) :
					     NULL);
		printf(",\n    \"pairs\": [");
		for (i = 0; i < 3 && !info->check_error; i++) {
			const struct pair *p = &info->pairs[i];

			printf("%s\n      {\"a\": \"%s\", \"b\": \"%s\", "
			       "\"identity\": \"%s\", \"same_shws_file\": %s}",
			       i ? "," : "", p->a, p->b,
			       identity_name(p->identity),
			       p->same_file ? "true" : "false");
		}
		printf("\n    ],\n    \"ok\": %s\n  }\n",
		       info->check_error ? "null" :
		       info->check_ok ? "true" : "false");
		return;
	}
	if (info->check_error) {
		printf("self-check: not run (%s)\n",
		       strerror(-info->check_error));
		return;
	}
	printf("self-check on %s:\n", info->check_node);
	for (i = 0; i < 3; i++) {
		const struct pair *p = &info->pairs[i];

		printf("  %-5s vs %-10s identity %-9s -> %s shws_file\n", p->a,
		       p->b, identity_name(p->identity),
		       p->same_file ? "same" : "different");
	}
	printf("self-check: %s\n", info->check_ok ? "ok" : "WRONG");
}

static void print_all(const struct info *info)
{
	int i;

	if (json)
		printf("{\n  \"version\": \"%s\",\n", shws_version());
	else
		printf("shws %s\n", shws_version());
	print_identity();
	if (json)
		printf("  \"devices\": [\n");
	else if (!info->n_devices)
		printf("no DRM or accel devices found\n");
	for (i = 0; i < info->n_devices; i++)
		print_device(&info->devices[i], i == info->n_devices - 1);
	if (json)
		printf("  ],\n");
	print_check(info);
	if (json)
		printf("}\n");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: shws-info [--json] [--debug]\n"
		   "  --json   machine-readable output\n"
		   "  --debug  shws debug log on stderr (as SHWS_DEBUG=debug)\n");
}

int main(int argc, char **argv)
{
	static struct info info;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--debug")) {
			shws_log_init(SHWS_LOG_DEBUG, log_handler);
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	scan_dir(&info, "/dev/dri", "card");
	scan_dir(&info, "/dev/dri", "renderD");
	scan_dir(&info, "/dev/accel", "accel");
	probe_devices(&info);
	info.check_error = self_check(&info);
	print_all(&info);
	for (i = 0; i < info.n_nodes; i++) {
		shws_file_unref(info.nodes[i].file, SHWS_API_OTHER);
		close(info.nodes[i].fd);
	}
	return info.check_error || info.check_ok ? 0 : 1;
}
