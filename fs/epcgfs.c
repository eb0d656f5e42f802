// SPDX-License-Identifier: MIT
/*
 * epcg mount: the daemon that serves a live cgroup v2 tree over FUSE.
 *
 * It owns a misc controller (sgx_epc capacity from --epc, others from
 * --capacity), the cgroup tree over it, a process exit watcher and the
 * control socket.  The mount is made before daemonizing, so when
 * `epcg mount DIR` returns the tree is there; threads start after the
 * fork.  SIGTERM, SIGINT and SIGHUP end the loop, then the tree is
 * unmounted and everything is freed; `epcg umount` (fusermount3 -u) ends
 * it the same way.
 *
 * The software EPC (struct epcg_sgx) is not wired in yet: the seam is
 * setup_epc(), which today only sets the sgx_epc capacity.
 */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fuse.h>
#include <signal.h>
#include <unistd.h>

#include "epcgfs-internal.h"

static void fs_proc_added(pid_t pid, void *data)
{
	struct epcgfs *fs = data;

	if (fs->watch)
		epcgfs_watch_add(fs->watch, pid);
}

static const struct epcg_cgroup_ops live_ops = {
	.pid_lookup = epcg_cgroup_proc_lookup_live,
	.pid_parent = epcg_cgroup_proc_parent_live,
	.proc_added = fs_proc_added,
	.notify = epcgfs_notify,
};

/*
 * The EPC seam: set the misc capacities.  A later change builds the live
 * software EPC here (its sections, --policy) and lets it set sgx_epc.
 */
static int setup_epc(struct epcgfs *fs)
{
	for (int r = 0; r < EPCG_MISC_RES_NR; r++) {
		int err;

		if (!fs->opts->capacity[r])
			continue;
		err = epcg_misc_set_capacity(fs->misc, r,
					     fs->opts->capacity[r]);
		if (err)
			return err;
	}
	return 0;
}

static int fs_setup(struct epcgfs *fs, const struct epcgfs_options *o)
{
	struct epcg_cgroup_cred owner = { geteuid(), getegid(), 0 };
	int err;

	fs->opts = o;
	clock_gettime(CLOCK_REALTIME, &fs->start);
	pthread_mutex_init(&fs->poll_lock, NULL);
	fs->opens.next = fs->opens.prev = &fs->opens;
	fs->mountpoint = realpath(o->mountpoint, NULL);
	if (!fs->mountpoint)
		return -errno;
	err = epcg_misc_create(&fs->misc);
	if (err)
		return err;
	err = setup_epc(fs);
	if (err)
		return err;
	err = epcg_cgroup_tree_create(fs->misc, &live_ops, fs, &owner,
				      &fs->tree);
	if (err)
		return err;
	return epcgfs_watch_create(fs->tree, &fs->watch);
}

static void fs_teardown(struct epcgfs *fs)
{
	epcgfs_ctl_destroy(fs->ctl);
	epcgfs_watch_destroy(fs->watch);
	fs->watch = NULL;
	epcg_cgroup_tree_destroy(fs->tree);
	epcg_misc_destroy(fs->misc);
	pthread_mutex_destroy(&fs->poll_lock);
	free(fs->mountpoint);
}

static struct fuse *fs_mount(struct epcgfs *fs)
{
	char prog[] = "epcg", dash_o[] = "-o", opts[128];
	char *argv[] = { prog, dash_o, opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse *f;

	snprintf(opts, sizeof(opts), "fsname=epcg,subtype=epcg%s",
		 geteuid() == 0 ? ",allow_other" : "");
	f = fuse_new(&args, &epcgfs_ops, sizeof(epcgfs_ops), fs);
	fuse_opt_free_args(&args);
	if (!f)
		return NULL;
	if (fuse_mount(f, fs->mountpoint)) {
		fuse_destroy(f);
		return NULL;
	}
	return f;
}

int epcgfs_main(const struct epcgfs_options *o)
{
	struct epcgfs fs = { 0 };
	struct fuse *f;
	int err, rc = 1;

	err = fs_setup(&fs, o);
	if (err) {
		fprintf(stderr, "epcg: mount: %s: %s\n", o->mountpoint,
			strerror(-err));
		goto out;
	}
	/* Bind before forking: a second daemon for DIR fails here. */
	err = epcgfs_ctl_create(&fs, &fs.ctl);
	if (err) {
		fprintf(stderr, "epcg: mount: control socket for %s: %s\n",
			fs.mountpoint,
			err == -EADDRINUSE ? "already mounted by epcg" :
					     strerror(-err));
		goto out;
	}
	f = fs_mount(&fs);
	if (!f) {
		fprintf(stderr, "epcg: mount: cannot mount %s\n",
			fs.mountpoint);
		goto out;
	}
	if (fuse_set_signal_handlers(fuse_get_session(f)) ||
	    fuse_daemonize(o->foreground)) {
		fprintf(stderr, "epcg: mount: cannot start the daemon\n");
		goto out_unmount;
	}
	signal(SIGPIPE, SIG_IGN);
	err = epcgfs_watch_start(fs.watch);
	if (!err)
		err = epcgfs_ctl_start(fs.ctl);
	if (err) {
		fprintf(stderr, "epcg: mount: threads: %s\n", strerror(-err));
		goto out_signals;
	}
	/* A signal that ended the loop is a clean exit (its number comes back). */
	err = fuse_loop_mt(f, 0);
	rc = err < 0 ? 1 : 0;

out_signals:
	fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
	fuse_unmount(f);
	fuse_destroy(f);
out:
	fs_teardown(&fs);
	return rc;
}
