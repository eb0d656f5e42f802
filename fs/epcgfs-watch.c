// SPDX-License-Identifier: MIT
/*
 * The process exit watcher: every process that enters the cgroup tree's
 * registry is watched through a pidfd, and its exit is reported to the
 * tree (cgroup.events "populated" and poll wake-ups follow from there).
 *
 * epcgfs_watch_add() runs under the tree lock (from the proc_added
 * callback), so it never calls into the tree: a process already gone is
 * queued and reported by the watcher thread.  Without pidfds (kernels
 * before 5.3) the watcher checks its processes twice a second instead.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "epcgfs-internal.h"
#include "util/alloc.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define POLL_INTERVAL_MS 500

struct epcgfs_watch {
	struct epcg_cgroup_tree *tree;
	int epfd, evfd;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* the fields below */
	bool stop;
	pid_t *gone; /* exited before they could be watched */
	size_t nr_gone, gone_cap;
	pid_t *polled; /* watched by polling (no pidfd) */
	size_t nr_polled, polled_cap;
};

static int push(pid_t **arr, size_t *nr, size_t *cap, pid_t pid)
{
	if (*nr == *cap) {
		size_t n = *cap ? 2 * *cap : 16;
		pid_t *a = epcg_realloc(*arr, n * sizeof(*a));

		if (!a)
			return -ENOMEM;
		*arr = a;
		*cap = n;
	}
	(*arr)[(*nr)++] = pid;
	return 0;
}

void epcgfs_watch_add(struct epcgfs_watch *w, pid_t pid)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t one = 1;
	int fd;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		ev.data.u64 = (uint64_t)(uint32_t)pid << 32 | (uint32_t)fd;
		if (!epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev))
			return;
		close(fd);
	}
	pthread_mutex_lock(&w->lock);
	if (fd < 0 && errno == ESRCH)
		push(&w->gone, &w->nr_gone, &w->gone_cap, pid);
	else
		push(&w->polled, &w->nr_polled, &w->polled_cap, pid);
	pthread_mutex_unlock(&w->lock);
	if (write(w->evfd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: the thread is awake anyway. */
	}
}

static bool proc_alive(pid_t pid)
{
	return epcg_cgroup_proc_lookup_live(pid, NULL) == pid;
}

/* Report queued exits and polled processes that are gone. */
static bool sweep(struct epcgfs_watch *w)
{
	pid_t *gone = NULL;
	size_t nr = 0, cap = 0;
	bool stop, polling;

	pthread_mutex_lock(&w->lock);
	stop = w->stop;
	gone = w->gone;
	nr = w->nr_gone;
	cap = w->gone_cap;
	w->gone = NULL;
	w->nr_gone = w->gone_cap = 0;
	for (size_t i = 0; i < w->nr_polled;) {
		if (proc_alive(w->polled[i])) {
			i++;
			continue;
		}
		push(&gone, &nr, &cap, w->polled[i]);
		w->polled[i] = w->polled[--w->nr_polled];
	}
	polling = w->nr_polled;
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < nr; i++)
		epcg_cgroup_proc_exit(w->tree, gone[i]);
	free(gone);
	return stop ? false : polling;
}

static void *watch_thread(void *arg)
{
	struct epcgfs_watch *w = arg;
	bool polling = false;

	for (;;) {
		struct epoll_event evs[32];
		int n = epoll_wait(w->epfd, evs, 32,
				   polling ? POLL_INTERVAL_MS : -1);
		uint64_t cnt;

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			pid_t pid = (pid_t)(evs[i].data.u64 >> 32);
			int fd = (int)(uint32_t)evs[i].data.u64;

			if (fd == w->evfd) {
				if (read(w->evfd, &cnt, sizeof(cnt)) < 0) {
					/* Nothing to drain. */
				}
				continue;
			}
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			epcg_cgroup_proc_exit(w->tree, pid);
		}
		polling = sweep(w);
		pthread_mutex_lock(&w->lock);
		if (w->stop) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

int epcgfs_watch_create(struct epcg_cgroup_tree *t, struct epcgfs_watch **ret)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct epcgfs_watch *w = epcg_calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->tree = t;
	pthread_mutex_init(&w->lock, NULL);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.u64 = (uint32_t)w->evfd;
	if (w->epfd < 0 || w->evfd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev)) {
		int err = -errno;

		epcgfs_watch_destroy(w);
		return err;
	}
	*ret = w;
	return 0;
}

int epcgfs_watch_start(struct epcgfs_watch *w)
{
	int err = pthread_create(&w->thread, NULL, watch_thread, w);

	w->started = !err;
	return -err;
}

void epcgfs_watch_destroy(struct epcgfs_watch *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_mutex_unlock(&w->lock);
		if (write(w->evfd, &one, sizeof(one)) < 0) {
			/* Saturated: the thread wakes anyway. */
		}
		pthread_join(w->thread, NULL);
	}
	/* Open pidfds are closed with the process; the set goes with epfd. */
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->evfd >= 0)
		close(w->evfd);
	pthread_mutex_destroy(&w->lock);
	free(w->gone);
	free(w->polled);
	free(w);
}
