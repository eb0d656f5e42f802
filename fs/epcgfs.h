/* SPDX-License-Identifier: MIT */
/*
 * The FUSE front end's interface to the epcg command: run the daemon that
 * serves a live cgroup v2 tree and a software EPC at a mount point, and
 * talk to a running one through its control socket, as `epcg misc` and
 * the enclave client (`epcg enclave`) do.  docs/interface.md describes
 * the commands, the tree and the protocol.
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
	unsigned nr_sections; /* --sections: EPC sections, one NUMA node each */
	const char *policy; /* "v17" or "intent" */
	const char *log; /* --log FILE: the daemon's log, else stderr */
	const char *metrics; /* --metrics ADDR:PORT: the scrape endpoint */
	const char *metrics_file; /* --metrics-file PATH: textfile output */
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

/*
 * The same, with a file descriptor passed alongside (SCM_RIGHTS): the
 * daemon hands its window to a client this way.  @pass_fd < 0: none (the
 * caller keeps it either way).  Receiving, *@ret_fd is the descriptor
 * that came with the frame (close-on-exec, the caller's), or -1; on an
 * error none is left open.  Returns as the two above.
 */
int epcgfs_frame_send_fd(int fd, const void *buf, size_t len, int pass_fd);
int epcgfs_frame_recv_fd(int fd, char *buf, size_t size, size_t *ret_len,
			 int *ret_fd);

/* The control socket's abstract name for canonical mount path @mp. */
int epcgfs_ctl_addr(const char *mp, void *sockaddr_un, unsigned *ret_len);

/* ---- enclave clients ------------------------------------------------------ */

/*
 * The window: shared memory the daemon creates for a connection (request
 * "window") and passes to the client, sealed against resizing.  Bulk data
 * of the enclave requests goes through it instead of the socket: page
 * contents for "encl-add", and for "encl-access" a list of operations
 * followed by the bytes they read or write, packed in order.
 *
 *	0                 EPCGFS_WIN_DATA_OFF                  EPCGFS_WIN_SIZE
 *	| op 0 | op 1 | ... |  data of op 0 | data of op 1 | ... |
 */
#define EPCGFS_WIN_OPS_MAX 4096u
#define EPCGFS_WIN_DATA_OFF (EPCGFS_WIN_OPS_MAX * 16u)
#define EPCGFS_WIN_DATA_SIZE (512u * 4096u)
#define EPCGFS_WIN_SIZE (EPCGFS_WIN_DATA_OFF + EPCGFS_WIN_DATA_SIZE)

/* Operation flags of struct epcgfs_op. */
#define EPCGFS_OP_WRITE 0x1u

/*
 * struct epcgfs_op - one access of an "encl-access" batch, in host byte
 * order.  @offset: from the start of the enclave.  @len: bytes, 1 to
 * 4096; its data follows the previous operation's in the data area.
 * @flags: EPCGFS_OP_WRITE (window to enclave), else a read.
 */
struct epcgfs_op {
	uint64_t offset;
	uint32_t len;
	uint32_t flags;
};

/* Numbers an enclave request's reply carries at most after its status. */
#define EPCGFS_REPLY_VALS 16

/**
 * struct epcgfs_client - one connection of an enclave client and its
 * window.
 */
struct epcgfs_client {
	int fd;
	void *win; /* EPCGFS_WIN_SIZE bytes, shared with the daemon */
	struct epcgfs_op *ops; /* EPCGFS_WIN_OPS_MAX of them */
	unsigned char *data; /* EPCGFS_WIN_DATA_SIZE bytes */
};

/**
 * epcgfs_client_open() - connect to the daemon serving @path and map the
 * window it hands out.
 * @path: the mount point or a path inside it.
 * @c: filled in; on failure its fd is -1.
 *
 * The daemon knows the connection by this process's pid and uid: every
 * connection a process opens may use the enclaves the process created.
 *
 * Context: any thread; one thread uses @c at a time.
 * Return: 0; -ECONNREFUSED if no daemon serves @path; -EPROTO if its
 * reply is not understood; -errno.
 */
int epcgfs_client_open(const char *path, struct epcgfs_client *c);

/**
 * epcgfs_client_close() - unmap and hang up; the daemon drops this
 * connection's uses of enclaves (the last use releases one).
 * @c: the client, may be unopened (fd -1).
 *
 * Context: the thread that uses @c.
 */
void epcgfs_client_close(struct epcgfs_client *c);

/**
 * epcgfs_client_call() - one request; parse the reply "STATUS [N...]".
 * @vals: receives up to @nr_vals numbers that follow the status; missing
 *	ones are set to 0.
 *
 * Blocks until the daemon answers: an add at a limit waits for reclaim.
 *
 * Context: the thread that uses @c.
 * Return: the status (0 or -errno from the daemon); -ECONNRESET or
 * another -errno if the exchange itself failed; -EPROTO for a reply that
 * is not a status.
 */
int epcgfs_client_call(struct epcgfs_client *c, const char *request,
		       uint64_t *vals, unsigned nr_vals);

#endif
