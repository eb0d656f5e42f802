// SPDX-License-Identifier: MIT
/*
 * The daemon's control socket: small text requests in length-prefixed
 * frames (epcgfs-proto.c), one connection at a time, each read bounded by
 * a timeout so that a silent or half-gone client cannot stall the daemon.
 *
 * Requests (docs/interface.md has the full table):
 *	ping				-> "0"
 *	pid				-> "0 <daemon pid>"
 *	charge RES AMOUNT PATH		-> "0" or "-<errno>"  (test hooks)
 *	uncharge RES AMOUNT PATH	-> "0" or "-<errno>"  (test hooks)
 *	capacity RES AMOUNT		-> "0" or "-<errno>"  (test hooks)
 *
 * A raw charge is recorded with the misc cgroup it went to (and a
 * reference to it), keyed by the cgroup path as written, so "uncharge"
 * finds it again after the cgroup was removed: the misc cgroup is then
 * dying and is freed by the last uncharge (T4, M7).  Only uid 0 and the
 * daemon's own user may use the hooks (SO_PEERCRED).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "epcgfs-internal.h"

#define CLIENT_TIMEOUT_S 2

struct charge_rec {
	char *path;
	enum epcg_misc_res res;
	struct epcg_misc_cg *mcg; /* a reference */
	uint64_t amount;
	struct charge_rec *next;
};

struct epcgfs_ctl {
	struct epcgfs *fs;
	int lfd, evfd;
	pthread_t thread;
	bool started;
	struct charge_rec *recs; /* newest first; only the ctl thread */
};

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
	rec = calloc(1, sizeof(*rec));
	if (rec)
		rec->path = strdup(path);
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
	return r ? r : epcg_misc_set_capacity(c->fs->misc, res, amount);
}

static bool may_use_hooks(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void handle(struct epcgfs_ctl *c, int fd, char *req, char *reply,
		   size_t size)
{
	static const struct {
		const char *verb;
		int (*fn)(struct epcgfs_ctl *c, char *args);
	} hooks[] = {
		{ "charge ", do_charge },
		{ "uncharge ", do_uncharge },
		{ "capacity ", do_capacity },
	};
	int r = -EINVAL;

	if (!strcmp(req, "ping")) {
		r = 0;
	} else if (!strcmp(req, "pid")) {
		snprintf(reply, size, "0 %d", (int)getpid());
		return;
	}
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		size_t n = strlen(hooks[i].verb);

		if (strncmp(req, hooks[i].verb, n))
			continue;
		if (!c->fs->opts->test_hooks)
			r = -EOPNOTSUPP;
		else if (!may_use_hooks(fd))
			r = -EPERM;
		else
			r = hooks[i].fn(c, req + n);
	}
	snprintf(reply, size, "%d", r);
}

static void serve(struct epcgfs_ctl *c, int fd)
{
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S };
	char req[EPCGFS_CTL_MAX + 1], reply[64];
	size_t len;
	int r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		r = epcgfs_frame_recv(fd, req, sizeof(req), &len);
		if (r == -E2BIG) {
			/* The stream is out of step: answer and hang up. */
			snprintf(reply, sizeof(reply), "%d", -E2BIG);
			epcgfs_frame_send(fd, reply, strlen(reply));
			return;
		}
		if (r)
			return;
		if (strlen(req) != len) {
			snprintf(reply, sizeof(reply), "%d", -EINVAL);
		} else {
			handle(c, fd, req, reply, sizeof(reply));
		}
		if (epcgfs_frame_send(fd, reply, strlen(reply)))
			return;
	}
}

static void *ctl_thread(void *arg)
{
	struct epcgfs_ctl *c = arg;
	struct pollfd pfd[2] = {
		{ .fd = c->lfd, .events = POLLIN },
		{ .fd = c->evfd, .events = POLLIN },
	};

	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(c, fd);
		close(fd);
	}
	return NULL;
}

int epcgfs_ctl_create(struct epcgfs *fs, struct epcgfs_ctl **ret)
{
	struct epcgfs_ctl *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa;
	unsigned len;
	int err;

	if (!c)
		return -ENOMEM;
	c->fs = fs;
	c->evfd = -1;
	epcgfs_ctl_addr(fs->mountpoint, &sa, &len);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, len) ||
	    listen(c->lfd, 16))
		goto err;
	c->evfd = eventfd(0, EFD_CLOEXEC);
	if (c->evfd < 0)
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
	if (c->started) {
		if (write(c->evfd, &one, sizeof(one)) < 0) {
			/* Cannot fail for a fresh eventfd. */
		}
		pthread_join(c->thread, NULL);
	}
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->evfd >= 0)
		close(c->evfd);
	while (c->recs) {
		struct charge_rec *rec = c->recs;

		c->recs = rec->next;
		epcg_misc_uncharge(rec->res, rec->mcg, rec->amount);
		epcg_misc_cg_put(rec->mcg);
		free(rec->path);
		free(rec);
	}
	free(c);
}
