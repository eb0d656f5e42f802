/* SPDX-License-Identifier: MIT */
/*
 * The daemon's state, shared by its parts: epcgfs.c (setup, main loop,
 * teardown), epcgfs-ops.c (FUSE operations), epcgfs-ctl.c (control
 * socket and test hooks) and epcgfs-watch.c (process exit watcher).
 *
 * Locks: the cgroup tree's own lock is taken inside every epcg_cgroup_*()
 * call.  poll_lock (open files waiting in poll) and the ctl and watch
 * locks are leaves: they are taken under the tree lock by callbacks and
 * nothing is called into the tree while holding them.
 */
#ifndef EPCGFS_INTERNAL_H
#define EPCGFS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <epcg/cgroup.h>
#include <epcg/misc.h>
#include <pthread.h>
#include <sys/types.h>

#include "epcgfs.h"

struct fuse_pollhandle;
struct epcgfs_watch;
struct epcgfs_ctl;

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
	struct epcg_cgroup_tree *tree;
	struct epcgfs_watch *watch;
	struct epcgfs_ctl *ctl;
	struct timespec start; /* times shown by stat */
	pthread_mutex_t poll_lock;
	struct epcgfs_open opens; /* list head of pollable opens */
};

/* epcgfs-ops.c */
extern const struct fuse_operations epcgfs_ops;
void epcgfs_notify(const void *key, enum epcg_cgroup_file file, void *data);

/* epcgfs-watch.c */
int epcgfs_watch_create(struct epcg_cgroup_tree *t, struct epcgfs_watch **ret);
int epcgfs_watch_start(struct epcgfs_watch *w);
void epcgfs_watch_add(struct epcgfs_watch *w, pid_t pid);
void epcgfs_watch_destroy(struct epcgfs_watch *w);

/* epcgfs-ctl.c */
int epcgfs_ctl_create(struct epcgfs *fs, struct epcgfs_ctl **ret);
int epcgfs_ctl_start(struct epcgfs_ctl *c);
void epcgfs_ctl_destroy(struct epcgfs_ctl *c);

#endif
