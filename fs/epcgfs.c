// SPDX-License-Identifier: MIT
/*
 * epcg mount: the daemon that serves a live cgroup v2 tree over FUSE, a
 * software EPC behind it, and the control socket its clients use.
 *
 * It owns a misc controller, the software SGX machine over it (struct
 * epcg_sgx: the EPC split into --sections sections, one NUMA node each,
 * whose total is the sgx_epc capacity; ksgxd and the reclaim workers run
 * on a live execution context), the cgroup tree over the controller, a
 * process exit watcher and the control socket.  Client processes build
 * and run enclaves on the machine through the socket (epcgfs-encl.c).
 *
 * Start-up order matters twice.  The mount is made before the daemon
 * detaches, so when `epcg mount DIR` returns the tree is there.  Threads
 * (ksgxd, reclaim workers, the watcher, the socket) cannot survive a
 * fork, so the machine is built in the detached child, which tells the
 * waiting parent whether that worked: errors still reach the terminal
 * and the exit status of `epcg mount`.  SIGTERM, SIGINT and SIGHUP end
 * the loop, then the tree is unmounted; `epcg umount` (fusermount3 -u)
 * ends it the same way.  Teardown releases every client's enclaves
 * (their backing stores go with them) before the machine goes, and logs
 * what it found: the EPC must be all free and nothing charged.  Metrics
 * (--metrics, --metrics-file) start with the machine and stop after the
 * clients are gone.
 *
 * The paging key lives in this process only.  Before anything else the
 * process makes itself not dumpable, with no core size (crypto.c says
 * what that covers), so neither a crash nor its own user can copy the
 * key out.  A second daemon for the same directory is refused by the
 * control socket's bind; `epcg mount` checks the directory before that.
 */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <epcg/epc.h>
#include <epcg/sgx.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "epcgfs-internal.h"
#include "sgx/crypto-internal.h"
#include "util/alloc.h"

void epcgfs_log(struct epcgfs *fs, const char *fmt, ...)
{
	va_list ap;

	if (!fs->log)
		return;
	va_start(ap, fmt);
	/* One call per line: stdio locks the stream around each. */
	vfprintf(fs->log, fmt, ap);
	va_end(ap);
}

/*
 * Whether this process's daemon reached its loop: only then does its
 * teardown report (a failed start has said why already).  Written by the
 * daemon's main thread only.
 */
static bool served;

/*
 * With every client gone: say whether everything came back (every EPC
 * frame free, nothing charged at the root, the accounting consistent).
 */
static void log_released(struct epcgfs *fs)
{
	const struct epcg_epc *epc = epcg_sgx_epc(fs->sgx);
	uint64_t used = epcg_misc_usage(epcg_misc_root(fs->misc),
					EPCG_MISC_RES_SGX_EPC);
	char why[256] = "";

	if (epcg_sgx_check(fs->sgx, why, sizeof(why)))
		epcgfs_log(fs, "epcg: accounting broken at exit: %s\n", why);
	epcgfs_log(fs,
		   "epcg: clients released: %" PRIu64 " of %" PRIu64
		   " EPC pages free, sgx_epc usage %" PRIu64 "\n",
		   epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc), used);
}

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
 * Split the EPC into sections of whole pages, one per NUMA node, the
 * remainder going to the first ones.  Return: 0 or -EINVAL (a size that
 * is not a page multiple, or fewer pages than sections).
 */
static int epc_sections(const struct epcgfs_options *o,
			struct epcg_epc_section_spec *secs)
{
	uint64_t size = o->capacity[EPCG_MISC_RES_SGX_EPC];
	uint64_t pages = size / EPCG_PAGE_SIZE;
	unsigned n = o->nr_sections;

	if (!n || n > EPCG_EPC_MAX_SECTIONS || size % EPCG_PAGE_SIZE ||
	    pages < n)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		secs[i].size = (pages / n + (i < pages % n)) * EPCG_PAGE_SIZE;
		secs[i].node = (int)i;
	}
	return 0;
}

/*
 * Build the software EPC: a live execution context, the machine with its
 * sections and policy (it sets the sgx_epc capacity), then the other
 * resources' capacities.  Runs in the detached daemon: it starts threads.
 */
int epcgfs_setup_epc(struct epcgfs *fs)
{
	struct epcg_epc_section_spec secs[EPCG_EPC_MAX_SECTIONS];
	struct epcg_sgx_config cfg = { .secs = secs };
	int err, policy;

	err = epc_sections(fs->opts, secs);
	if (err)
		return err;
	cfg.nr_secs = fs->opts->nr_sections;
	policy = epcg_sgx_policy_lookup(fs->opts->policy);
	if (policy < 0)
		return policy;
	cfg.policy = (enum epcg_sgx_policy)policy;
	err = epcg_exec_live_create(0, &fs->ex);
	if (err)
		return err;
	err = epcg_sgx_create(fs->misc, fs->ex, &cfg, &fs->sgx);
	if (err)
		return err;
	for (int r = 0; r < EPCG_MISC_RES_NR; r++) {
		if (r == EPCG_MISC_RES_SGX_EPC || !fs->opts->capacity[r])
			continue;
		err = epcg_misc_set_capacity(fs->misc, r,
					     fs->opts->capacity[r]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * What every daemon state has, mounted or not (epcgfs-core.c): its
 * options, the misc controller and the cgroup tree over it, owned by the
 * daemon's user.  fs->log is left as it is.
 */
int epcgfs_setup_tree(struct epcgfs *fs, const struct epcgfs_options *o)
{
	struct epcg_cgroup_cred owner = { geteuid(), getegid(), 0 };
	int err;

	fs->opts = o;
	clock_gettime(CLOCK_REALTIME, &fs->start);
	pthread_mutex_init(&fs->poll_lock, NULL);
	fs->opens.next = fs->opens.prev = &fs->opens;
	err = epcg_misc_create(&fs->misc);
	if (err)
		return err;
	return epcg_cgroup_tree_create(fs->misc, &live_ops, fs, &owner,
				       &fs->tree);
}

static int fs_setup(struct epcgfs *fs, const struct epcgfs_options *o)
{
	struct epcg_epc_section_spec secs[EPCG_EPC_MAX_SECTIONS];
	int err;

	fs->log = stderr;
	err = epcgfs_setup_tree(fs, o);
	if (err)
		return err;
	/* Check what the child will build, while errors reach the user. */
	if (epc_sections(o, secs) || epcg_sgx_policy_lookup(o->policy) < 0)
		return -EINVAL;
	if (o->log) {
		fs->log = fopen(o->log, "ae");
		if (!fs->log)
			return -errno;
		setvbuf(fs->log, NULL, _IOLBF, 0);
	}
	fs->mountpoint = realpath(o->mountpoint, NULL);
	if (!fs->mountpoint)
		return -errno;
	/* The daemon runs in "/": a relative path means the caller's. */
	if (o->metrics_file) {
		char cwd[PATH_MAX];

		if (o->metrics_file[0] == '/')
			fs->metrics_path = epcg_strdup(o->metrics_file);
		else if (getcwd(cwd, sizeof(cwd)) &&
			 asprintf(&fs->metrics_path, "%s/%s", cwd,
				  o->metrics_file) < 0)
			fs->metrics_path = NULL;
		if (!fs->metrics_path)
			return -ENOMEM;
	}
	return epcgfs_watch_create(fs->tree, &fs->watch);
}

void epcgfs_teardown(struct epcgfs *fs)
{
	/* Clients first: their enclaves hold EPC pages and cgroups. */
	epcgfs_ctl_destroy(fs->ctl);
	/* Its last file shows the state with every client gone. */
	epcgfs_metrics_stop(fs->metrics);
	epcgfs_watch_destroy(fs->watch);
	fs->watch = NULL;
	epcg_cgroup_tree_destroy(fs->tree);
	/* Reclaim work may still hold a cgroup reference: let it finish. */
	if (fs->ex)
		epcg_exec_flush(fs->ex);
	if (served && fs->sgx && fs->log)
		log_released(fs);
	epcg_sgx_destroy(fs->sgx);
	epcg_exec_destroy(fs->ex);
	epcg_misc_destroy(fs->misc);
	pthread_mutex_destroy(&fs->poll_lock);
	free(fs->mountpoint);
	free(fs->metrics_path);
	if (fs->log && fs->log != stderr)
		fclose(fs->log);
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

/*
 * libfuse leaves a signal alone that was ignored when the daemon started
 * (a shell ignores SIGINT in the commands it runs with '&', nohup
 * SIGHUP).  A detached daemon has left that shell's job control, so its
 * documented stop signals are made to work again; in the foreground the
 * caller's choice stands.
 */
static void stop_signals_default(void)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

/*
 * Block (@how SIG_BLOCK, the old mask into *@old) or restore (SIG_SETMASK)
 * the stop signals in the calling thread.  The threads the daemon starts
 * (the machine's, the watcher's, the socket's and, through it, every
 * connection's, the metrics') are started with them blocked and pass that
 * on, as libfuse does for its own: a stop signal must reach the main
 * thread, whose fuse_loop_mt() notices the end of the session only when
 * the signal interrupts its wait.  Handled by another thread, the signal
 * would stop nothing until the next file system request.
 */
static void stop_signals_mask(int how, sigset_t *old)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(how, how == SIG_BLOCK ? &stop : old,
			how == SIG_BLOCK ? old : NULL);
}

/*
 * Detach from the terminal: fork, and let the parent wait for one status
 * byte from the child (0: serving) to exit with.  Returns in the child
 * with the pipe's write end in *@ready (or -1 in the foreground).
 */
static int daemon_fork(bool foreground, int *ready)
{
	int pfd[2], st;
	char c = 1;
	pid_t pid;

	*ready = -1;
	if (foreground)
		return 0;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			c = 1; /* the child died before it could say */
		if (c)
			waitpid(pid, &st, 0);
		_exit(c ? 1 : 0);
	}
	close(pfd[0]);
	*ready = pfd[1];
	if (setsid() < 0 || chdir("/"))
		return -errno;
	return 0;
}

/* Tell the waiting parent how start-up went; detach stdio on success. */
static void daemon_ready(int ready, bool ok)
{
	char c = ok ? 0 : 1;
	int null;

	if (ready < 0)
		return;
	if (ok) {
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			close(null);
		}
	}
	if (write(ready, &c, 1) != 1) {
		/* The parent is gone: nobody to tell. */
	}
	close(ready);
}

int epcgfs_main(const struct epcgfs_options *o)
{
	struct epcgfs fs = { 0 };
	struct fuse *f;
	sigset_t mask;
	int err, ready = -1, rc = 1;

	err = epcg__paging_process_harden();
	if (err) {
		fprintf(stderr,
			"epcg: mount: cannot protect the paging key: %s\n",
			strerror(-err));
		return 1;
	}
	err = fs_setup(&fs, o);
	if (err) {
		fprintf(stderr, "epcg: mount: %s: %s\n", o->mountpoint,
			strerror(-err));
		goto out;
	}
	/* Bind before forking: a second daemon for DIR fails here. */
	err = epcgfs_ctl_create(&fs, &fs.ctl);
	if (err) {
		if (err == -EADDRINUSE)
			fprintf(stderr,
				"epcg: mount: %s: an epcg file system is "
				"already mounted there\n",
				o->mountpoint);
		else
			fprintf(stderr,
				"epcg: mount: control socket for %s: %s\n",
				fs.mountpoint, strerror(-err));
		goto out;
	}
	f = fs_mount(&fs);
	if (!f) {
		fprintf(stderr, "epcg: mount: cannot mount %s\n",
			fs.mountpoint);
		goto out;
	}
	if (!o->foreground)
		stop_signals_default();
	if (fuse_set_signal_handlers(fuse_get_session(f)) ||
	    daemon_fork(o->foreground, &ready)) {
		fprintf(stderr, "epcg: mount: cannot start the daemon\n");
		goto out_unmount;
	}
	signal(SIGPIPE, SIG_IGN);
	stop_signals_mask(SIG_BLOCK, &mask);
	err = epcgfs_setup_epc(&fs);
	if (err) {
		fprintf(stderr, "epcg: mount: software EPC: %s\n",
			strerror(-err));
		goto out_signals;
	}
	err = epcgfs_metrics_start(&fs, &fs.metrics);
	if (err) {
		fprintf(stderr, "epcg: mount: metrics: %s\n", strerror(-err));
		goto out_signals;
	}
	err = epcgfs_watch_start(fs.watch);
	if (!err)
		err = epcgfs_ctl_start(fs.ctl);
	if (err) {
		fprintf(stderr, "epcg: mount: threads: %s\n", strerror(-err));
		goto out_signals;
	}
	daemon_ready(ready, true);
	ready = -1;
	served = true;
	/* A stop signal that came meanwhile is taken here. */
	stop_signals_mask(SIG_SETMASK, &mask);
	/* A signal that ended the loop is a clean exit (its number comes back). */
	err = fuse_loop_mt(f, 0);
	rc = err < 0 ? 1 : 0;
	if (err > 0)
		epcgfs_log(&fs, "epcg: %s: stopping on signal %d (%s)\n",
			   fs.mountpoint, err, strsignal(err));
	else
		epcgfs_log(&fs, "epcg: %s: stopping: %s\n", fs.mountpoint,
			   err ? strerror(-err) : "unmounted");

out_signals:
	fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
	fuse_unmount(f);
	fuse_destroy(f);
out:
	epcgfs_teardown(&fs);
	daemon_ready(ready, false);
	return rc;
}
