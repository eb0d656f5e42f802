// SPDX-License-Identifier: MIT
/*
 * The daemon's control socket: small text requests in length-prefixed
 * frames (epcgfs-proto.c), each connection served by its own thread, who
 * is asking known only from the kernel (SO_PEERCRED), never from what a
 * request says.
 *
 * Requests (docs/interface.md has the full table):
 *	ping				-> "0"
 *	pid				-> "0 <daemon pid>"
 *	charge RES AMOUNT PATH		-> "0" or "-<errno>"  (test hooks)
 *	uncharge RES AMOUNT PATH	-> "0" or "-<errno>"  (test hooks)
 *	capacity RES AMOUNT		-> "0" or "-<errno>"  (test hooks)
 *	check				-> "0" or "-5"        (test hooks)
 *	window, encl-*			-> enclave clients (epcgfs-encl.c)
 *
 * Connections.  The listening thread accepts, records the peer's
 * credentials and a pidfd of its process, and starts a thread for the
 * connection.  It also watches, for every connection, the socket for a
 * hang-up and the pidfd for the process's exit: either marks the
 * connection gone, raises the signal of the task its requests run as (so
 * a request blocked in reclaim or retrying a fault gives up at once) and
 * shuts the socket down (so a connection whose process died while a
 * child kept the socket open still ends).  The connection's thread then
 * drops everything the client held (its enclaves are released) and ends.
 *
 * Timeouts: a connection that holds no window and no enclave is dropped
 * after 2 s of silence; once a message has started, the rest of it must
 * come within 2 s, whoever sends it.  A client that holds enclaves may
 * stay silent as long as it likes: it is a session, ended by its hang-up
 * or its exit.  At most CONN_MAX connections are served at once; more
 * are closed at once.
 *
 * Errors of one client are logged with its pid and uid and affect only
 * its connection; a client's messages are never echoed into the log.
 *
 * Test hooks: a raw charge is recorded with the misc cgroup it went to
 * (and a reference to it), keyed by the cgroup path as written, so
 * "uncharge" finds it again after the cgroup was removed: the misc cgroup
 * is then dying and is freed by the last uncharge (T4, M7).  Only uid 0
 * and the daemon's own user may use the hooks.
 *
 * Locks: hooks_lock serializes the hooks and guards the charge records;
 * it is taken before any lock of the tree and never under one.  lock
 * guards the connection lists, counts and ids and is a leaf: nothing is
 * called into the tree, the machine or an enclave while it is held.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <epcg/sgx.h>

#include "epcgfs-internal.h"
#include "util/alloc.h"

#define CLIENT_TIMEOUT_MS 2000
#define CONN_MAX 256
#define LOG_MAX_PER_CONN 16

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
/* The asm-generic value (Linux 6.5); older kernels answer ENOPROTOOPT. */
#if !defined(SO_PEERPIDFD) && (defined(__x86_64__) || defined(__aarch64__))
#define SO_PEERPIDFD 77
#endif

struct charge_rec {
	char *path;
	enum epcg_misc_res res;
	struct epcg_misc_cg *mcg; /* a reference */
	uint64_t amount;
	struct charge_rec *next;
};

/* One accepted connection. */
struct epcgfs_conn {
	struct epcgfs_peer peer; /* fd and cred immutable after accept */
	struct epcg_task task; /* the requests' task, bound lazily */
	bool bound; /* only the connection's thread */
	int pidfd; /* of the peer process, -1 if none could be had */
	uint64_t id; /* names it in the watch set; immutable */
	pthread_t thread;
	unsigned nr_logged; /* only the connection's thread */
	struct epcgfs_conn *next, *prev; /* ctl->lock: live or done list */
};

struct epcgfs_ctl {
	struct epcgfs *fs;
	struct epcgfs_encls *encls;
	int lfd, evfd, epfd;
	pthread_t thread;
	bool started;
	pthread_mutex_t hooks_lock; /* recs; the hooks run under it */
	struct charge_rec *recs; /* newest first */
	pthread_mutex_t lock; /* the fields below */
	pthread_cond_t all_done; /* nr_conns went to 0 */
	struct epcgfs_conn live; /* list head: connections being served */
	struct epcgfs_conn done; /* list head: ended, to be joined */
	unsigned nr_conns; /* on the live list */
	uint64_t next_id;
	bool stopping;
};

static void list_init(struct epcgfs_conn *head)
{
	head->next = head->prev = head;
}

static void list_add(struct epcgfs_conn *head, struct epcgfs_conn *c)
{
	c->next = head->next;
	c->prev = head;
	head->next->prev = c;
	head->next = c;
}

static void list_del(struct epcgfs_conn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->next = c->prev = c;
}

struct epcgfs_encls *epcgfs_ctl_encls(struct epcgfs_ctl *c)
{
	return c->encls;
}

/* ---- logging and identity ------------------------------------------------ */

void epcgfs_peer_log(struct epcgfs_peer *p, const char *fmt, ...)
{
	struct epcgfs_conn *c = (struct epcgfs_conn *)p;
	char msg[256];
	va_list ap;

	if (c->nr_logged > LOG_MAX_PER_CONN)
		return;
	if (c->nr_logged++ == LOG_MAX_PER_CONN) {
		epcgfs_log(p->fs,
			   "epcg: client pid %d uid %u: further messages of "
			   "this connection are not logged\n",
			   (int)p->cred.pid, (unsigned)p->cred.uid);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	epcgfs_log(p->fs, "epcg: client pid %d uid %u: %s\n", (int)p->cred.pid,
		   (unsigned)p->cred.uid, msg);
}

int epcgfs_peer_bind(struct epcgfs_peer *p)
{
	struct epcgfs_conn *c = (struct epcgfs_conn *)p;
	int err;

	if (c->bound)
		return 0;
	if (p->cred.pid <= 0)
		return -ESRCH;
	err = epcg_cgroup_proc_bind_task(p->fs->tree, p->cred.pid, &c->task);
	if (err)
		return err;
	c->bound = true;
	return 0;
}

/* ---- test hooks ------------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	return *end ? -EINVAL : 0;
}

/* "RES AMOUNT[ PATH]": split into its fields (PATH is the rest). */
static int parse_args(char *args, enum epcg_misc_res *res, uint64_t *amount,
		      char **path)
{
	char *sp1 = strchr(args, ' '), *sp2;
	int r;

	if (!sp1)
		return -EINVAL;
	*sp1 = '\0';
	r = epcg_misc_res_lookup(args, strlen(args));
	if (r < 0)
		return r;
	*res = (enum epcg_misc_res)r;
	sp2 = strchr(sp1 + 1, ' ');
	if (!path != !sp2)
		return -EINVAL;
	if (sp2) {
		*sp2 = '\0';
		*path = sp2 + 1;
	}
	return parse_u64(sp1 + 1, amount);
}

static int do_charge(struct epcgfs_ctl *c, char *args)
{
	struct epcg_cgroup *cg;
	struct epcg_misc_cg *mcg;
	struct charge_rec *rec;
	enum epcg_misc_res res;
	uint64_t amount;
	char *path;
	int r;

	r = parse_args(args, &res, &amount, &path);
	if (r)
		return r;
	r = epcg_cgroup_lookup(c->fs->tree, path, &cg);
	if (r)
		return r;
	mcg = epcg_cgroup_misc_get(cg);
	epcg_cgroup_put(cg);
	if (!mcg)
		return -ENOENT;
	rec = epcg_calloc(1, sizeof(*rec));
	if (rec)
		rec->path = epcg_strdup(path);
	r = !rec || !rec->path ? -ENOMEM :
				 epcg_misc_try_charge(res, mcg, amount, NULL);
	if (r || !amount) {
		if (rec)
			free(rec->path);
		free(rec);
		epcg_misc_cg_put(mcg);
		return r;
	}
	rec->res = res;
	rec->mcg = mcg;
	rec->amount = amount;
	rec->next = c->recs;
	c->recs = rec;
	return 0;
}

static int do_uncharge(struct epcgfs_ctl *c, char *args)
{
	struct charge_rec **pp, *rec;
	enum epcg_misc_res res;
	uint64_t amount, held = 0;
	char *path;
	int r;

	r = parse_args(args, &res, &amount, &path);
	if (r)
		return r;
	for (rec = c->recs; rec; rec = rec->next)
		if (rec->res == res && !strcmp(rec->path, path))
			held += rec->amount;
	if (amount > held)
		return -EINVAL; /* more than was charged there */
	for (pp = &c->recs; amount && (rec = *pp);) {
		uint64_t n;

		if (rec->res != res || strcmp(rec->path, path)) {
			pp = &rec->next;
			continue;
		}
		n = amount < rec->amount ? amount : rec->amount;
		epcg_misc_uncharge(res, rec->mcg, n);
		amount -= n;
		rec->amount -= n;
		if (rec->amount) {
			pp = &rec->next;
			continue;
		}
		*pp = rec->next;
		epcg_misc_cg_put(rec->mcg);
		free(rec->path);
		free(rec);
	}
	return 0;
}

static int do_capacity(struct epcgfs_ctl *c, char *args)
{
	enum epcg_misc_res res;
	uint64_t amount;
	int r;

	r = parse_args(args, &res, &amount, NULL);
	if (r)
		return r;
	/* The live EPC's size is its sections' (--epc); it cannot change. */
	if (res == EPCG_MISC_RES_SGX_EPC)
		return -EBUSY;
	return epcg_misc_set_capacity(c->fs->misc, res, amount);
}

/*
 * epcg_sgx_check() in the daemon, for tests at a quiescent point (no
 * client active): its reason is logged, the reply says only -EIO.
 */
static int do_check(struct epcgfs_ctl *c, char *args)
{
	char why[256];
	int r;

	if (*args)
		return -EINVAL;
	r = epcg_sgx_check(c->fs->sgx, why, sizeof(why));
	if (r)
		epcgfs_log(c->fs, "epcg: check: %s\n", why);
	return r;
}

static bool may_use_hooks(const struct epcgfs_peer *p)
{
	return p->cred.uid == 0 || p->cred.uid == geteuid();
}

/* ---- requests ------------------------------------------------------------------ */

static void handle(struct epcgfs_conn *conn, char *req, char *reply,
		   size_t size, int *fd_out)
{
	static const struct {
		const char *verb;
		int (*fn)(struct epcgfs_ctl *c, char *args);
	} hooks[] = {
		{ "charge ", do_charge },
		{ "uncharge ", do_uncharge },
		{ "capacity ", do_capacity },
		{ "check", do_check },
	};
	struct epcgfs_peer *p = &conn->peer;
	struct epcgfs_ctl *c = p->ctl;
	size_t len = strlen(req);
	int r = -EINVAL;

	*fd_out = -1;
	if (!strcmp(req, "ping")) {
		snprintf(reply, size, "0");
		return;
	}
	if (!strcmp(req, "pid")) {
		snprintf(reply, size, "0 %d", (int)getpid());
		return;
	}
	if (epcgfs_encl_request(p, req, reply, size, fd_out))
		return;
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		size_t n = strlen(hooks[i].verb);

		if (strncmp(req, hooks[i].verb, n))
			continue;
		if (!c->fs->opts->test_hooks) {
			r = -EOPNOTSUPP;
		} else if (!may_use_hooks(p)) {
			r = -EPERM;
			epcgfs_peer_log(p, "test hook refused: not root or "
					   "the daemon's user");
		} else {
			pthread_mutex_lock(&c->hooks_lock);
			r = hooks[i].fn(c, req + n);
			pthread_mutex_unlock(&c->hooks_lock);
		}
		snprintf(reply, size, "%d", r);
		return;
	}
	epcgfs_peer_log(p, "unknown request (%zu bytes)", len);
	snprintf(reply, size, "%d", r);
}

/*
 * Run one received request of @len bytes (NUL-terminated at @len): a
 * request with a NUL byte inside is malformed, anything else goes to
 * handle().  The calling thread runs as the connection's task.
 */
static void dispatch(struct epcgfs_conn *conn, char *req, size_t len,
		     char *reply, size_t size, int *fd_out)
{
	*fd_out = -1;
	if (strlen(req) != len) {
		epcgfs_peer_log(&conn->peer, "malformed request (NUL byte)");
		snprintf(reply, size, "%d", -EINVAL);
		return;
	}
	handle(conn, req, reply, size, fd_out);
}

/*
 * Wait for the next message: 0 when one has started, -ECONNRESET at a
 * clean end, -ETIMEDOUT if an idle connection stayed silent too long.
 */
static int wait_message(struct epcgfs_conn *conn)
{
	struct pollfd pfd = { .fd = conn->peer.fd, .events = POLLIN };
	int timeout = epcgfs_encl_session_active(&conn->peer) ?
			      -1 :
			      CLIENT_TIMEOUT_MS;
	char byte;
	int n;

	do
		n = poll(&pfd, 1, timeout);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return -errno;
	n = (int)recv(conn->peer.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 1 ? 0 : -ECONNRESET;
}

static void serve(struct epcgfs_conn *conn)
{
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_MS / 1000 };
	struct epcgfs_peer *p = &conn->peer;
	char req[EPCGFS_CTL_MAX + 1], reply[256];
	int fd = p->fd, r, pass;
	size_t len;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		r = wait_message(conn);
		if (r)
			return; /* hang-up or idle: nothing to log */
		r = epcgfs_frame_recv(fd, req, sizeof(req), &len);
		if (r == -E2BIG) {
			/* The stream is out of step: answer and hang up. */
			epcgfs_peer_log(p, "message over %d bytes; hanging up",
					EPCGFS_CTL_MAX);
			snprintf(reply, sizeof(reply), "%d", -E2BIG);
			epcgfs_frame_send(fd, reply, strlen(reply));
			return;
		}
		if (r) {
			epcgfs_peer_log(p, "%s in the middle of a message",
					r == -ETIMEDOUT ? "silent" : "hung up");
			return;
		}
		dispatch(conn, req, len, reply, sizeof(reply), &pass);
		r = epcgfs_frame_send_fd(fd, reply, strlen(reply), pass);
		if (pass >= 0)
			close(pass);
		if (r) {
			epcgfs_peer_log(p, "gone before the reply");
			return;
		}
		if (epcg_task_signal_pending(&conn->task))
			return; /* gone (hang-up or exit) */
	}
}

/*
 * Client connections do bulk work (a batch of 4096 accesses keeps a thread
 * busy for a millisecond or more), while the FUSE threads answer file
 * operations someone waits on (cat misc.current).  A busy host shares its
 * CPUs by weight, so while it serves requests a connection thread runs
 * CONN_NICE lower (a third of the weight): a file operation then waits
 * less for a CPU behind the clients' batches (docs/benchmarks.md, target
 * 7).  It goes back to the daemon's priority to release what the client
 * held, which a client's exit should not wait on any longer than before;
 * so it lowers its priority only if it may raise it again (root, or a
 * RLIMIT_NICE that allows it).  Linux keeps the nice value per thread.
 */
#define CONN_NICE 5

/*
 * Lower the calling thread's priority by CONN_NICE if it may be restored.
 * Return: the nice value to restore with setpriority(), or INT_MIN if
 * nothing changed.
 */
static int conn_lower_priority(void)
{
	struct rlimit rl;
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (errno)
		return INT_MIN;
	/* Unprivileged threads may go down to nice 20 - RLIMIT_NICE. */
	if (geteuid() && (getrlimit(RLIMIT_NICE, &rl) ||
			  (rl.rlim_cur != RLIM_INFINITY &&
			   (rlim_t)(20 - nice) > rl.rlim_cur)))
		return INT_MIN;
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), nice + CONN_NICE))
		return INT_MIN;
	return nice;
}

static void conn_restore_priority(int nice)
{
	if (nice != INT_MIN)
		setpriority(PRIO_PROCESS, (id_t)gettid(), nice);
}

/*
 * Drop everything the client of @conn held: its enclaves and window, its
 * task's place in the tree.  The calling thread runs as its task.
 */
static void conn_release(struct epcgfs_conn *conn)
{
	epcgfs_encl_session_end(&conn->peer);
	if (conn->bound)
		epcg_cgroup_proc_unbind_task(conn->peer.fs->tree,
					     conn->peer.cred.pid, &conn->task);
	conn->bound = false;
	epcg_misc_task_attach(&conn->task, NULL);
}

/* The fields an accepted and an in-process connection set alike. */
static void conn_init(struct epcgfs_ctl *c, struct epcgfs_conn *conn, int fd,
		      const struct ucred *cred)
{
	conn->peer.fs = c->fs;
	conn->peer.ctl = c;
	conn->peer.fd = fd;
	conn->peer.task = &conn->task;
	conn->peer.cred = *cred;
	epcg_task_init(&conn->task, cred->pid, -1);
	conn->pidfd = -1;
}

static void *conn_thread(void *arg)
{
	struct epcgfs_conn *conn = arg;
	struct epcgfs_ctl *c = conn->peer.ctl;
	int nice = conn_lower_priority();
	uint64_t one = 1;

	epcg_task_set_current(&conn->task);
	serve(conn);
	conn_restore_priority(nice);
	/* Everything the client held goes before the connection does. */
	conn_release(conn);
	epcg_task_set_current(NULL);

	pthread_mutex_lock(&c->lock);
	list_del(conn);
	pthread_mutex_unlock(&c->lock);
	/* Off the live list: the watcher can no longer touch the fds. */
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, conn->peer.fd, NULL);
	close(conn->peer.fd);
	if (conn->pidfd >= 0) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, conn->pidfd, NULL);
		close(conn->pidfd);
	}
	pthread_mutex_lock(&c->lock);
	list_add(&c->done, conn);
	if (!--c->nr_conns)
		pthread_cond_broadcast(&c->all_done);
	pthread_mutex_unlock(&c->lock);
	if (write(c->evfd, &one, sizeof(one)) < 0) {
		/* Saturated: the listener wakes anyway and reaps. */
	}
	return NULL;
}

/* Join and free the connections that ended. */
static void reap(struct epcgfs_ctl *c)
{
	struct epcgfs_conn head;

	list_init(&head);
	pthread_mutex_lock(&c->lock);
	if (c->done.next != &c->done) {
		head.next = c->done.next;
		head.prev = c->done.prev;
		head.next->prev = head.prev->next = &head;
		list_init(&c->done);
	}
	pthread_mutex_unlock(&c->lock);
	while (head.next != &head) {
		struct epcgfs_conn *conn = head.next;

		list_del(conn);
		pthread_join(conn->thread, NULL);
		free(conn);
	}
}

/* The connection's peer is gone: stop its requests, end its reads. */
static void conn_kill(struct epcgfs_conn *conn)
{
	epcg_task_set_signal(&conn->task, 1);
	shutdown(conn->peer.fd, SHUT_RDWR);
}

/* A hang-up or an exit was seen for connection @id (lock held). */
static void conn_gone(struct epcgfs_ctl *c, uint64_t id)
{
	for (struct epcgfs_conn *conn = c->live.next; conn != &c->live;
	     conn = conn->next)
		if (conn->id == id) {
			conn_kill(conn);
			return;
		}
}

static int peer_pidfd(int fd, pid_t pid)
{
#ifdef SO_PEERPIDFD
	socklen_t len = sizeof(int);
	int pidfd = -1;

	if (!getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) &&
	    pidfd >= 0)
		return pidfd;
#endif
	return pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

static void accept_one(struct epcgfs_ctl *c)
{
	struct epoll_event ev = { 0 };
	struct epcgfs_conn *conn;
	struct ucred cred;
	socklen_t len;
	int fd;

	fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	conn = epcg_calloc(1, sizeof(*conn));
	if (!conn) {
		close(fd);
		return;
	}
	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		memset(&cred, 0, sizeof(cred));
	conn_init(c, conn, fd, &cred);
	conn->pidfd = peer_pidfd(fd, cred.pid);

	pthread_mutex_lock(&c->lock);
	if (c->stopping || c->nr_conns >= CONN_MAX) {
		pthread_mutex_unlock(&c->lock);
		epcgfs_log(c->fs,
			   "epcg: client pid %d uid %u: refused: %u "
			   "connections are served already\n",
			   (int)conn->peer.cred.pid,
			   (unsigned)conn->peer.cred.uid, CONN_MAX);
		goto err;
	}
	conn->id = ++c->next_id;
	list_add(&c->live, conn);
	c->nr_conns++;
	ev.events = EPOLLRDHUP | EPOLLONESHOT;
	ev.data.u64 = conn->id << 1;
	epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
	if (conn->pidfd >= 0) {
		ev.events = EPOLLIN | EPOLLONESHOT;
		ev.data.u64 = conn->id << 1 | 1;
		epoll_ctl(c->epfd, EPOLL_CTL_ADD, conn->pidfd, &ev);
	}
	if (pthread_create(&conn->thread, NULL, conn_thread, conn)) {
		list_del(conn);
		c->nr_conns--;
		pthread_mutex_unlock(&c->lock);
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
		if (conn->pidfd >= 0)
			epoll_ctl(c->epfd, EPOLL_CTL_DEL, conn->pidfd, NULL);
		goto err;
	}
	pthread_mutex_unlock(&c->lock);
	return;
err:
	if (conn->pidfd >= 0)
		close(conn->pidfd);
	close(fd);
	free(conn);
}

#define TAG_LISTEN UINT64_MAX
#define TAG_WAKE (UINT64_MAX - 1)

static void *ctl_thread(void *arg)
{
	struct epcgfs_ctl *c = arg;

	for (;;) {
		struct epoll_event evs[32];
		bool stop;
		int n = epoll_wait(c->epfd, evs, 32, -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64, cnt;

			if (tag == TAG_LISTEN) {
				accept_one(c);
			} else if (tag == TAG_WAKE) {
				if (read(c->evfd, &cnt, sizeof(cnt)) < 0) {
					/* Nothing to drain. */
				}
			} else {
				pthread_mutex_lock(&c->lock);
				conn_gone(c, tag >> 1);
				pthread_mutex_unlock(&c->lock);
			}
		}
		reap(c);
		pthread_mutex_lock(&c->lock);
		stop = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
	}
	return NULL;
}

int epcgfs_ctl_create_local(struct epcgfs *fs, struct epcgfs_ctl **ret)
{
	struct epcgfs_ctl *c = epcg_calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->fs = fs;
	c->lfd = c->evfd = c->epfd = -1;
	pthread_mutex_init(&c->hooks_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->all_done, NULL);
	list_init(&c->live);
	list_init(&c->done);
	err = epcgfs_encls_create(&c->encls);
	if (err) {
		epcgfs_ctl_destroy(c);
		return err;
	}
	*ret = c;
	return 0;
}

int epcgfs_ctl_create(struct epcgfs *fs, struct epcgfs_ctl **ret)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct epcgfs_ctl *c;
	struct sockaddr_un sa;
	unsigned len;
	int err;

	err = epcgfs_ctl_create_local(fs, &c);
	if (err)
		return err;
	epcgfs_ctl_addr(fs->mountpoint, &sa, &len);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, len) ||
	    listen(c->lfd, 64))
		goto err;
	c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->evfd < 0 || c->epfd < 0)
		goto err;
	ev.data.u64 = TAG_LISTEN;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev))
		goto err;
	ev.data.u64 = TAG_WAKE;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev))
		goto err;
	*ret = c;
	return 0;
err:
	err = -errno;
	epcgfs_ctl_destroy(c);
	return err;
}

int epcgfs_ctl_start(struct epcgfs_ctl *c)
{
	int err = pthread_create(&c->thread, NULL, ctl_thread, c);

	c->started = !err;
	return -err;
}

void epcgfs_ctl_destroy(struct epcgfs_ctl *c)
{
	uint64_t one = 1;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_mutex_unlock(&c->lock);
	if (c->started) {
		if (write(c->evfd, &one, sizeof(one)) < 0) {
			/* Saturated: the thread is awake anyway. */
		}
		pthread_join(c->thread, NULL);
	}
	if (c->lfd >= 0)
		close(c->lfd);
	/* End every connection: each releases what its client held. */
	pthread_mutex_lock(&c->lock);
	for (struct epcgfs_conn *conn = c->live.next; conn != &c->live;
	     conn = conn->next)
		conn_kill(conn);
	while (c->nr_conns)
		pthread_cond_wait(&c->all_done, &c->lock);
	pthread_mutex_unlock(&c->lock);
	reap(c);
	if (c->evfd >= 0)
		close(c->evfd);
	if (c->epfd >= 0)
		close(c->epfd);
	while (c->recs) {
		struct charge_rec *rec = c->recs;

		c->recs = rec->next;
		epcg_misc_uncharge(rec->res, rec->mcg, rec->amount);
		epcg_misc_cg_put(rec->mcg);
		free(rec->path);
		free(rec);
	}
	epcgfs_encls_destroy(c->encls);
	pthread_cond_destroy(&c->all_done);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->hooks_lock);
	free(c);
}

/* ---- in-process connections --------------------------------------------- */

int epcgfs_conn_open(struct epcgfs_ctl *c, const struct ucred *cred,
		     struct epcgfs_conn **ret)
{
	struct epcgfs_conn *conn = epcg_calloc(1, sizeof(*conn));

	if (!conn)
		return -ENOMEM;
	conn_init(c, conn, -1, cred);
	list_init(conn);
	*ret = conn;
	return 0;
}

void epcgfs_conn_request(struct epcgfs_conn *conn, char *req, size_t len,
			 char *reply, size_t size, int *fd_out)
{
	struct epcg_task *prev = epcg_task_set_current(&conn->task);

	req[len] = '\0';
	dispatch(conn, req, len, reply, size, fd_out);
	epcg_task_set_current(prev);
}

void epcgfs_conn_close(struct epcgfs_conn *conn)
{
	struct epcg_task *prev;

	if (!conn)
		return;
	prev = epcg_task_set_current(&conn->task);
	conn_release(conn);
	epcg_task_set_current(prev);
	free(conn);
}
