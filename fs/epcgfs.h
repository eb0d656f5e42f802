/* SPDX-License-Identifier: MIT */
/*
 * The FUSE front end's interface to the epcg command: run the daemon that
 * serves a live cgroup v2 tree at a mount point, and talk to a running one
 * through its control socket (docs/interface.md describes both).
 */
#ifndef EPCGFS_H
#define EPCGFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <epcg/misc.h>

/* Longest request or reply on the control socket, in bytes. */
#define EPCGFS_CTL_MAX 4096

struct epcgfs_options {
	const char *mountpoint;
	bool foreground; /* -f: do not daemonize */
	bool test_hooks; /* accept charge/uncharge/capacity */
	uint64_t capacity[EPCG_MISC_RES_NR]; /* sgx_epc: --epc */
	unsigned nr_sections; /* --sections, for the EPC seam */
	const char *policy; /* "v17" or "intent" */
};

/**
 * epcgfs_main() - mount the tree and serve it until unmounted or SIGTERM.
 *
 * Without @o->foreground, returns in the parent once the mount is ready
 * and keeps serving in a detached child.  Reports errors on stderr.
 *
 * Return: the process exit code (0 on a clean unmount).
 */
int epcgfs_main(const struct epcgfs_options *o);

/**
 * epcgfs_ctl_connect() - connect to the daemon serving @path or one of its
 * ancestors.
 * @path: a mount point, or a path below one (need not exist: the cgroup
 *	may have been removed).
 * @rest: receives the part of @path below the mount point ("/a/b", "/"
 *	for the mount point itself).
 * @rest_size: its size.
 *
 * Return: a connected socket; -ECONNREFUSED if no daemon serves a prefix
 * of @path; -ENAMETOOLONG; -errno.
 */
int epcgfs_ctl_connect(const char *path, char *rest, size_t rest_size);

/**
 * epcgfs_ctl_call() - send one request and wait for its reply.
 * @reply: receives the reply, NUL-terminated.
 *
 * Return: 0; -E2BIG if a message was too long; -ECONNRESET; -errno.
 */
int epcgfs_ctl_call(int fd, const char *request, char *reply, size_t size);

/* Framing shared by both ends: a 4-byte little-endian length, then data. */
int epcgfs_frame_send(int fd, const void *buf, size_t len);
int epcgfs_frame_recv(int fd, char *buf, size_t size, size_t *ret_len);

/* The control socket's abstract name for canonical mount path @mp. */
int epcgfs_ctl_addr(const char *mp, void *sockaddr_un, unsigned *ret_len);

#endif
