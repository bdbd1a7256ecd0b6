/* SPDX-License-Identifier: MIT */
#ifndef SHWS_IDENTITY_H
#define SHWS_IDENTITY_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Kernel file identity: do two fds refer to the same open file description
 * (the kernel's struct file, which is where GEM handles live)?
 *
 * The answer is three-way and never a guess: when no method can tell,
 * the answer is SHWS_IDENTITY_UNKNOWN, and callers must not treat it as
 * "different" (see docs/identity.md).
 *
 * Methods, in the order shws tries them:
 *  1. fcntl(F_DUPFD_QUERY), Linux 6.10+;
 *  2. kcmp(KCMP_FILE), needs CONFIG_KCMP;
 *  3. the epoll/dup3 EEXIST trick (7 syscalls, 2 free fd slots).
 * Which methods work is probed once per process. When a seccomp filter is
 * active (Seccomp: 2 in /proc/self/status, re-read before each use of 1 or
 * 2 until seen) only method 3 is used, because sandboxes have killed
 * processes for 1 and 2. The environment variable SHWS_IDENTITY
 * (auto|dupfd_query|kcmp|epoll|none), read once, overrides the policy.
 *
 * Every fd parameter here is borrowed: shws never closes it and keeps no
 * reference after the call returns.
 *
 * Thread-safety: every function may be called from any thread at any time;
 * the probe runs once, under a lock, on first use.
 */
enum shws_identity {
	SHWS_IDENTITY_DIFFERENT = 0,
	SHWS_IDENTITY_SAME = 1,
	SHWS_IDENTITY_UNKNOWN = 2
};

enum shws_identity_method {
	SHWS_IDENTITY_METHOD_NONE = 0,
	SHWS_IDENTITY_METHOD_DUPFD_QUERY = 1,
	SHWS_IDENTITY_METHOD_KCMP = 2,
	SHWS_IDENTITY_METHOD_EPOLL = 3
};

/** Bit of @m in the mask returned by shws_identity_methods(). */
#define SHWS_IDENTITY_METHOD_BIT(m) (1u << (unsigned)(m))

/**
 * Are @fd_a and @fd_b (borrowed) the same open file description?
 *
 * Returns SHWS_IDENTITY_SAME, SHWS_IDENTITY_DIFFERENT or
 * SHWS_IDENTITY_UNKNOWN (no method allowed by the policy could answer, e.g.
 * SHWS_IDENTITY=none, or only the epoll method is allowed and there is no
 * free fd slot, or the file does not support poll), or
 * -EBADF if either fd is not open.
 */
int shws_identity_compare(int fd_a, int fd_b);

/**
 * Like shws_identity_compare() but with exactly one method, ignoring the
 * policy and the probe. For tools and tests: the caller, not shws, decides
 * whether the method is safe under its sandbox.
 *
 * Returns SAME, DIFFERENT or UNKNOWN (the method failed for this pair;
 * SHWS_IDENTITY_METHOD_NONE always gives UNKNOWN for valid fds),
 * -EBADF if either fd is not open, -EINVAL if @method is not a method.
 */
int shws_identity_compare_method(enum shws_identity_method method, int fd_a,
				 int fd_b);

/**
 * Mask of SHWS_IDENTITY_METHOD_BIT()s of the methods that were probed and
 * work in this process. Under an active seccomp filter (and no override)
 * the methods a sandbox may kill on are not probed, and so not listed.
 */
unsigned shws_identity_methods(void);

/**
 * The method shws_identity_compare() tries first under the current policy,
 * or SHWS_IDENTITY_METHOD_NONE if it will always answer UNKNOWN.
 */
enum shws_identity_method shws_identity_chosen_method(void);

/** "none", "dupfd_query", "kcmp", "epoll"; "invalid" otherwise. Never NULL. */
const char *shws_identity_method_name(enum shws_identity_method method);

/**
 * 1 if a seccomp filter is active in this process (as last observed),
 * 0 if not, -errno if /proc/self/status could not be read (shws then
 * behaves as if a filter were active).
 */
int shws_identity_seccomp_active(void);

/**
 * dma-buf identity. Every dma-buf has its own inode, so st_ino of the
 * borrowed @fd identifies the dma-buf (and so the exported object): one
 * fstat() (plus one fstatfs() the first time, to learn the dma-buf
 * filesystem's st_dev). Stores it in *@ino.
 *
 * Returns 0, -EBADF (fd not open), -EINVAL (not a dma-buf),
 * -EOPNOTSUPP (a dma-buf on a kernel before 5.3, where dma-bufs are
 * anon-inode files that share one inode with every other anon-inode file,
 * so st_ino identifies nothing).
 */
int shws_identity_dmabuf_ino(int fd, uint64_t *ino);

/**
 * Do the borrowed DRM or accel fds @fd_a and @fd_b belong to the same
 * device (GPU)? The primary, render and accel nodes of one GPU have
 * different st_rdev but are one device: libdrm's drmGetDevice2() and
 * drmDevicesEqual() decide, falling back to the sysfs device each node
 * belongs to (libdrm knows no accel nodes).
 *
 * Returns SHWS_IDENTITY_SAME, SHWS_IDENTITY_DIFFERENT,
 * SHWS_IDENTITY_UNKNOWN (neither libdrm nor sysfs could say), -EBADF (an
 * fd not open, or O_PATH), -ENOTTY (an fd that is not a DRM or accel node).
 */
int shws_identity_same_device(int fd_a, int fd_b);

#ifdef __cplusplus
}
#endif

#endif
