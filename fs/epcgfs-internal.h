/* SPDX-License-Identifier: MIT */
/*
 * The daemon's state, shared by its parts: epcgfs.c (setup, main loop,
 * teardown), epcgfs-ops.c (FUSE operations), epcgfs-ctl.c (control
 * socket: connections, framing, test hooks), epcgfs-encl.c (the enclave
 * requests of client processes), epcgfs-metrics.c (Prometheus endpoint
 * and textfile) and epcgfs-watch.c (process exit watcher).
 *
 * Heap memory comes from lib/util/alloc.h (epcg_malloc() and friends), so
 * that the allocation failure injector reaches the request handlers.
 *
 * Locks: the cgroup tree's own lock is taken inside every epcg_cgroup_*()
 * call.  poll_lock (open files waiting in poll) and the ctl and watch
 * locks are leaves: they are taken under the tree lock by callbacks and
 * nothing is called into the tree while holding them.  The ctl lock is
 * never held across a call into the SGX machine or an enclave.
 */
#ifndef EPCGFS_INTERNAL_H
#define EPCGFS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <epcg/cgroup.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "epcgfs.h"

struct epcg_sgx;
struct fuse_pollhandle;
struct epcgfs_watch;
struct epcgfs_ctl;
struct epcgfs_conn;
struct epcgfs_session;
struct epcgfs_metrics;

/*
 * epcg.stat: the one file of the tree that is ours, not the kernel's
 * (SPEC X1).  It lives beside the cgroup files in the same enum space.
 */
#define EPCGFS_FILE_STAT ((enum epcg_cgroup_file)(EPCG_CGROUP_FILE_NR + 1))
#define EPCGFS_STAT_NAME "epcg.stat"

/* One open(2) of an interface file. */
struct epcgfs_open {
	struct epcg_cgroup *cg; /* a reference */
	enum epcg_cgroup_file file;
	char *snap; /* content generated at offset 0 */
	size_t snap_len;
	bool has_snap;
	pthread_mutex_t snap_lock; /* snap, snap_len, has_snap */
	/* poll_lock: */
	const void *key; /* poll key, NULL if not pollable */
	bool pending; /* changed since the last read */
	struct fuse_pollhandle *ph; /* a poller waits */
	struct epcgfs_open *next, *prev;
};

struct epcgfs {
	const struct epcgfs_options *opts;
	char *mountpoint; /* canonical */
	struct epcg_misc *misc;
	struct epcg_exec *ex; /* live: ksgxd, reclaim workers */
	struct epcg_sgx *sgx; /* the software EPC and its enclaves */
	struct epcg_cgroup_tree *tree;
	struct epcgfs_watch *watch;
	struct epcgfs_ctl *ctl;
	struct epcgfs_metrics *metrics; /* --metrics, --metrics-file */
	char *metrics_path; /* --metrics-file, made absolute */
	FILE *log; /* --log FILE, else stderr; line-buffered */
	struct timespec start; /* times shown by stat */
	pthread_mutex_t poll_lock;
	struct epcgfs_open opens; /* list head of pollable opens */
};

/* epcgfs.c */
void epcgfs_log(struct epcgfs *fs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The set-up steps a mounted daemon and an in-process core share.
 * epcgfs_setup_tree(): options, locks, the misc controller and the cgroup
 * tree (live process lookups).  epcgfs_setup_epc(): a live execution
 * context and the software EPC the options describe (starts threads).
 * epcgfs_teardown(): undo whatever of them was done, clients first; @fs
 * itself is the caller's.  Return: 0 or -errno.
 */
int epcgfs_setup_tree(struct epcgfs *fs, const struct epcgfs_options *o);
int epcgfs_setup_epc(struct epcgfs *fs);
void epcgfs_teardown(struct epcgfs *fs);

/*
 * epcgfs-core.c: the daemon without FUSE, without a socket and without
 * threads of its own (ksgxd and the reclaim workers run), for tests and
 * fuzz targets: the request layer over a whole machine.  Nothing is
 * logged.  Connections are made with epcgfs_conn_open().
 *
 * epcgfs_core_create() - build it from @o (mountpoint, metrics and log are
 * ignored; @o must outlive it).  Context: may sleep.  Return: 0 or -errno
 * (-ENOMEM, -EINVAL for a bad EPC size or policy, -EIO).
 *
 * epcgfs_core_destroy() - tear it down.  Context: every connection opened
 * on it closed.
 */
int epcgfs_core_create(const struct epcgfs_options *o, struct epcgfs **ret);
void epcgfs_core_destroy(struct epcgfs *fs);

/* epcgfs-metrics.c: start what the options ask for (nothing: *@ret NULL). */
int epcgfs_metrics_start(struct epcgfs *fs, struct epcgfs_metrics **ret);
void epcgfs_metrics_stop(struct epcgfs_metrics *m);

/* epcgfs-ops.c */
extern const struct fuse_operations epcgfs_ops;
void epcgfs_notify(const void *key, enum epcg_cgroup_file file, void *data);
int epcgfs_stat_show(struct epcg_cgroup *cg, char **ret_buf, size_t *ret_len);

/* epcgfs-watch.c */
int epcgfs_watch_create(struct epcg_cgroup_tree *t, struct epcgfs_watch **ret);
int epcgfs_watch_start(struct epcgfs_watch *w);
void epcgfs_watch_add(struct epcgfs_watch *w, pid_t pid);
void epcgfs_watch_destroy(struct epcgfs_watch *w);

/* epcgfs-ctl.c */
int epcgfs_ctl_create(struct epcgfs *fs, struct epcgfs_ctl **ret);
int epcgfs_ctl_start(struct epcgfs_ctl *c);
void epcgfs_ctl_destroy(struct epcgfs_ctl *c);

/*
 * epcgfs_ctl_create_local() - the control state (enclave table, test-hook
 * records) with no socket: connections come from epcgfs_conn_open() only.
 * Return: 0 or -ENOMEM.
 */
int epcgfs_ctl_create_local(struct epcgfs *fs, struct epcgfs_ctl **ret);

/*
 * In-process connections (tests, fuzz targets): what an accepted socket
 * connection is, minus the socket, the thread and the exit watch.  The
 * caller says who the peer is (@cred, as SO_PEERCRED would) and runs its
 * requests one at a time, each exactly as the connection's thread runs
 * a received frame.
 *
 * epcgfs_conn_open() - a connection of @cred.  Context: any thread.
 * Return: 0 or -ENOMEM.
 *
 * epcgfs_conn_request() - run request @req of @len bytes (a frame's
 * content; it is modified, and @req[@len] must be writable and is set to
 * NUL) and write the reply into @reply.  *@fd_out receives a descriptor
 * the reply passes (the caller's to close) or -1.  Context: the calling
 * thread runs as the connection's task meanwhile; one request of a
 * connection at a time.
 *
 * epcgfs_conn_close() - end the connection as a hang-up does: everything
 * it held is released; @conn is freed.
 */
int epcgfs_conn_open(struct epcgfs_ctl *c, const struct ucred *cred,
		     struct epcgfs_conn **ret);
void epcgfs_conn_request(struct epcgfs_conn *conn, char *req, size_t len,
			 char *reply, size_t size, int *fd_out);
void epcgfs_conn_close(struct epcgfs_conn *conn);

/*
 * What the enclave requests (epcgfs-encl.c) see of a connection.  The
 * connection's own thread is the only one that runs its requests, so the
 * session needs no lock of its own.
 */
struct epcgfs_peer {
	struct epcgfs *fs;
	struct epcgfs_ctl *ctl;
	int fd; /* the connection */
	struct ucred cred; /* SO_PEERCRED at accept: who this is */
	struct epcg_task *task; /* runs its requests; see bind */
	struct epcgfs_session *sess; /* NULL until its first enclave request */
};

/*
 * epcgfs_peer_bind() - bind the connection's task to its peer's process
 * in the cgroup tree (T5), once.  Return: 0 or -errno (-ESRCH).
 */
int epcgfs_peer_bind(struct epcgfs_peer *p);

/* epcgfs_peer_log() - log one line about this client (rate-limited). */
void epcgfs_peer_log(struct epcgfs_peer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* epcgfs-encl.c: the enclave table shared by all connections. */
struct epcgfs_encls;
int epcgfs_encls_create(struct epcgfs_encls **ret);
void epcgfs_encls_destroy(struct epcgfs_encls *t);
struct epcgfs_encls *epcgfs_ctl_encls(struct epcgfs_ctl *c);

/*
 * epcgfs_encl_request() - run one enclave request of @p ("window",
 * "encl-create ...", ...).  Return: true if @req was one (@reply is
 * filled, and *@fd_out is a descriptor to pass with it, or -1); false if
 * @req is not an enclave request.
 */
bool epcgfs_encl_request(struct epcgfs_peer *p, char *req, char *reply,
			 size_t size, int *fd_out);

/* epcgfs_encl_session_end() - drop everything @p holds (connection end). */
void epcgfs_encl_session_end(struct epcgfs_peer *p);

/* Whether @p holds a window or an enclave (no idle timeout then). */
bool epcgfs_encl_session_active(const struct epcgfs_peer *p);

#endif
