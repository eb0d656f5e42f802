// SPDX-License-Identifier: MIT
/*
 * The enclave requests of the control socket: client processes build and
 * run enclaves on the daemon's software SGX machine, as processes do
 * through /dev/sgx_enclave on a real one (docs/interface.md, "Enclave
 * clients").
 *
 *	window				-> "0 SIZE OPS DATA_OFF DATA_SIZE" + fd
 *	encl-create SIZE		-> "0 ID"
 *	encl-add ID OFFSET NR TYPE PROT	-> "STATUS ADDED"
 *	encl-init ID			-> "0"
 *	encl-access ID NR		-> "STATUS DONE"
 *	encl-stats ID			-> "0 SIZE PAGES RESIDENT ..."
 *	encl-remove ID			-> "0"
 *
 * Who may touch an enclave.  Every connection is known by the pid and uid
 * the kernel reported for it (SO_PEERCRED) and nothing else.  An enclave
 * belongs to the process that created it: any connection of that same
 * process (its threads each open one) may use it, no other.  Enclave ids
 * are unique for the daemon's lifetime, and an id that is not the
 * caller's gets -ENOENT, exactly as one never issued: a client cannot
 * even learn that another's exists.
 *
 * Lifetime.  Each connection that used an enclave holds a use of it (and,
 * once it accessed it, a thread inside it).  The enclave is released
 * (every EPC page freed and uncharged, the backing store dropped) when
 * the last use goes: when the connections that used it have closed, which
 * the process's exit or kill brings about, or after "encl-remove" and the
 * other connections' next request or close.  The ctl thread raises the
 * signal of a gone client's task first, so a request blocked in reclaim
 * or retrying a fault stops (-EINTR) instead of holding the enclave.
 *
 * Bulk data goes through the connection's window, a memfd the daemon
 * creates, sizes and seals (no shrink, no grow) before handing it out, so
 * a client cannot make the daemon's mapping fault by truncating it.  The
 * client writes the window while we read it, so every operation record is
 * copied out once and only the copy is checked and used; page data is
 * copied straight between the window and the enclave, and whatever a
 * client scribbles there concurrently only affects its own pages.
 *
 * The access path is batched: one request carries up to
 * EPCGFS_WIN_OPS_MAX operations, so the socket round trip is paid once per
 * batch and a resident page costs one epcg_encl_access() (the enclave
 * lock and a copy).  Faults are served by that same call: it never
 * reclaims, it retries while the cgroup's async reclaim and ksgxd make
 * room, and reports -EFAULT for the SIGBUS outcome (SPEC E5), which the
 * client turns into a real SIGBUS.
 *
 * Locks: the table's lock guards the handle list and each handle's users
 * and link; it is a leaf, never held across a call into the library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/encl.h>
#include <epcg/sgx.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>

#include "epcgfs-internal.h"
#include "util/alloc.h"

/* Enclaves one connection may hold, and the daemon in all. */
#define USES_MAX 64
#define HANDLES_MAX 1024

struct encl_handle {
	uint64_t id; /* immutable */
	pid_t pid; /* the creator's process, immutable */
	uid_t uid; /* and user */
	struct epcg_encl *encl; /* immutable */
	_Atomic bool removed; /* encl-remove ran: no new request may use it */
	/* table lock: */
	unsigned users; /* connections holding a use */
	bool linked; /* in the table (found by id) */
	struct encl_handle *next;
};

struct epcgfs_encls {
	pthread_mutex_t lock; /* the fields below */
	struct encl_handle *head; /* linked handles */
	unsigned nr; /* handles not yet released */
	uint64_t next_id;
};

/* What one connection holds; only its own thread touches it. */
struct encl_use {
	struct encl_handle *h;
	struct epcg_encl_thread *thread; /* NULL until its first access */
};

struct epcgfs_session {
	unsigned char *win; /* the window, EPCGFS_WIN_SIZE bytes, or NULL */
	struct encl_use uses[USES_MAX];
	unsigned nr_uses;
};

int epcgfs_encls_create(struct epcgfs_encls **ret)
{
	struct epcgfs_encls *t = epcg_calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	*ret = t;
	return 0;
}

void epcgfs_encls_destroy(struct epcgfs_encls *t)
{
	if (!t)
		return;
	/* Every connection has ended and dropped its uses by now. */
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static struct epcgfs_session *session_get(struct epcgfs_peer *p)
{
	if (!p->sess)
		p->sess = epcg_calloc(1, sizeof(*p->sess));
	return p->sess;
}

bool epcgfs_encl_session_active(const struct epcgfs_peer *p)
{
	return p->sess && (p->sess->win || p->sess->nr_uses);
}

/* Give up @p's use @i; the last use of an enclave releases it. */
static void use_drop(struct epcgfs_peer *p, unsigned i)
{
	struct epcgfs_encls *t = epcgfs_ctl_encls(p->ctl);
	struct epcgfs_session *s = p->sess;
	struct encl_handle *h = s->uses[i].h;
	bool last;

	epcg_encl_exit(s->uses[i].thread);
	s->uses[i] = s->uses[--s->nr_uses];
	pthread_mutex_lock(&t->lock);
	last = !--h->users;
	if (last && h->linked) {
		struct encl_handle **pp = &t->head;

		while (*pp != h)
			pp = &(*pp)->next;
		*pp = h->next;
		h->linked = false;
	}
	if (last)
		t->nr--;
	pthread_mutex_unlock(&t->lock);
	if (!last)
		return;
	epcg_encl_release(h->encl);
	free(h);
}

void epcgfs_encl_session_end(struct epcgfs_peer *p)
{
	struct epcgfs_session *s = p->sess;

	if (!s)
		return;
	while (s->nr_uses)
		use_drop(p, s->nr_uses - 1);
	if (s->win)
		munmap(s->win, EPCGFS_WIN_SIZE);
	free(s);
	p->sess = NULL;
}

/*
 * Find enclave @id for @p: among the uses of this connection, else in the
 * table if the same process created it (then this connection takes a
 * use).  Return: the use's index; -ENOENT if there is no such enclave for
 * this client; -EMFILE if the connection holds too many.
 */
static int use_find(struct epcgfs_peer *p, uint64_t id)
{
	struct epcgfs_encls *t = epcgfs_ctl_encls(p->ctl);
	struct epcgfs_session *s = p->sess;
	struct encl_handle *h;

	for (unsigned i = 0; i < s->nr_uses; i++) {
		if (s->uses[i].h->id != id)
			continue;
		if (!s->uses[i].h->removed)
			return (int)i;
		use_drop(p, i);
		return -ENOENT;
	}
	pthread_mutex_lock(&t->lock);
	for (h = t->head; h; h = h->next)
		if (h->id == id)
			break;
	/* Another process's enclave is reported exactly as a missing one. */
	if (!h || h->removed || h->pid != p->cred.pid ||
	    h->uid != p->cred.uid) {
		pthread_mutex_unlock(&t->lock);
		epcgfs_peer_log(p, "no enclave %" PRIu64 " for this client",
				id);
		return -ENOENT;
	}
	if (s->nr_uses == USES_MAX) {
		pthread_mutex_unlock(&t->lock);
		return -EMFILE;
	}
	h->users++;
	pthread_mutex_unlock(&t->lock);
	s->uses[s->nr_uses].h = h;
	s->uses[s->nr_uses].thread = NULL;
	return (int)s->nr_uses++;
}

/* ---- parsing ------------------------------------------------------------ */

/* A decimal u64 with no sign, no spaces, no junk.  Return: 0 or -EINVAL. */
static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/*
 * Split @args at single spaces into exactly @nr fields.  Return: 0 or
 * -EINVAL (too few, too many, empty fields).
 */
static int split(char *args, char **fields, unsigned nr)
{
	unsigned n = 0;

	for (;;) {
		char *sp = strchr(args, ' ');

		if (!*args || sp == args || n == nr)
			return -EINVAL;
		fields[n++] = args;
		if (!sp)
			break;
		*sp = '\0';
		args = sp + 1;
	}
	return n == nr ? 0 : -EINVAL;
}

/* Parse @nr numeric fields of @args. */
static int parse_nums(char *args, uint64_t *vals, unsigned nr)
{
	char *fields[8];
	int r = split(args, fields, nr);

	for (unsigned i = 0; !r && i < nr; i++)
		r = parse_u64(fields[i], &vals[i]);
	return r;
}

/* ---- requests ------------------------------------------------------------- */

static int do_window(struct epcgfs_peer *p, char *reply, size_t size,
		     int *fd_out)
{
	struct epcgfs_session *s = p->sess;
	void *win;
	int fd, r;

	if (s->win)
		return -EEXIST;
	fd = memfd_create("epcg-window", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, EPCGFS_WIN_SIZE) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		goto err;
	win = mmap(NULL, EPCGFS_WIN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (win == MAP_FAILED)
		goto err;
	s->win = win;
	*fd_out = fd;
	snprintf(reply, size, "0 %u %u %u %u", EPCGFS_WIN_SIZE,
		 EPCGFS_WIN_OPS_MAX, EPCGFS_WIN_DATA_OFF, EPCGFS_WIN_DATA_SIZE);
	return 0;
err:
	r = -errno;
	close(fd);
	return r;
}

static int do_create(struct epcgfs_peer *p, char *args, char *reply,
		     size_t size)
{
	struct epcgfs_encls *t = epcgfs_ctl_encls(p->ctl);
	struct epcgfs_session *s = p->sess;
	struct encl_handle *h;
	struct epcg_encl *encl;
	uint64_t esize;
	int r;

	r = parse_nums(args, &esize, 1);
	if (r)
		return r;
	r = epcgfs_peer_bind(p);
	if (r)
		return r;
	if (s->nr_uses == USES_MAX)
		return -EMFILE;
	h = epcg_calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_lock(&t->lock);
	r = t->nr < HANDLES_MAX ? 0 : -EMFILE;
	t->nr += !r;
	pthread_mutex_unlock(&t->lock);
	if (r)
		goto err_free;
	/* Charged to the peer's cgroup: this thread runs as its task. */
	r = epcg_encl_create(p->fs->sgx, esize, &encl);
	if (r) {
		pthread_mutex_lock(&t->lock);
		t->nr--;
		pthread_mutex_unlock(&t->lock);
		goto err_free;
	}
	h->encl = encl;
	h->pid = p->cred.pid;
	h->uid = p->cred.uid;
	h->users = 1;
	h->linked = true;
	pthread_mutex_lock(&t->lock);
	h->id = ++t->next_id;
	h->next = t->head;
	t->head = h;
	pthread_mutex_unlock(&t->lock);
	s->uses[s->nr_uses].h = h;
	s->uses[s->nr_uses++].thread = NULL;
	snprintf(reply, size, "0 %" PRIu64, h->id);
	return 0;
err_free:
	free(h);
	return r;
}

static int do_add(struct epcgfs_peer *p, char *args, char *reply, size_t size)
{
	enum epcg_encl_page_type type;
	uint64_t v[3], prot, added = 0;
	char *fields[5];
	int r, i;

	r = split(args, fields, 5);
	for (int k = 0; !r && k < 3; k++)
		r = parse_u64(fields[k], &v[k]);
	if (!r)
		r = parse_u64(fields[4], &prot);
	if (r)
		return r;
	if (!strcmp(fields[3], "reg"))
		type = EPCG_ENCL_PAGE_REG;
	else if (!strcmp(fields[3], "tcs"))
		type = EPCG_ENCL_PAGE_TCS;
	else
		return -EINVAL;
	if (!p->sess->win)
		return -ENOBUFS;
	if (!v[2] || v[2] > EPCGFS_WIN_DATA_SIZE / 4096 ||
	    prot > EPCG_ENCL_PROT_MASK)
		return -EINVAL;
	r = epcgfs_peer_bind(p);
	if (r)
		return r;
	i = use_find(p, v[0]);
	if (i < 0)
		return i;
	r = epcg_encl_add_pages(p->sess->uses[i].h->encl, v[1],
				p->sess->win + EPCGFS_WIN_DATA_OFF, v[2], type,
				(unsigned)prot, &added);
	if (r == -ENOMEM)
		epcgfs_peer_log(p,
				"enclave %" PRIu64 ": ENOMEM after %" PRIu64
				" pages of a batch of %" PRIu64,
				v[0], added, v[2]);
	snprintf(reply, size, "%d %" PRIu64, r, added);
	return 0;
}

static int do_init(struct epcgfs_peer *p, char *args, char *reply, size_t size)
{
	uint64_t id;
	int r, i;

	r = parse_nums(args, &id, 1);
	if (r)
		return r;
	i = use_find(p, id);
	if (i < 0)
		return i;
	r = epcg_encl_init(p->sess->uses[i].h->encl, NULL);
	snprintf(reply, size, "%d", r);
	return 0;
}

/* Run @nr operations from the window; *@done counts those completed. */
static int run_ops(struct epcgfs_peer *p, struct encl_use *u, uint64_t nr,
		   uint64_t *done)
{
	const unsigned char *ops = p->sess->win;
	unsigned char *data = p->sess->win + EPCGFS_WIN_DATA_OFF;
	size_t pos = 0;

	for (*done = 0; *done < nr; (*done)++) {
		struct epcgfs_op op;
		int r;

		/* Read once: the client may be writing it as we go. */
		memcpy(&op, ops + *done * sizeof(op), sizeof(op));
		if (!op.len || op.len > 4096 || op.flags & ~EPCGFS_OP_WRITE ||
		    op.len > EPCGFS_WIN_DATA_SIZE - pos)
			return -EINVAL;
		r = epcg_encl_access(u->h->encl, u->thread, op.offset,
				     op.flags & EPCGFS_OP_WRITE ?
					     EPCG_ENCL_WRITE :
					     EPCG_ENCL_READ,
				     data + pos, op.len);
		if (r)
			return r;
		pos += op.len;
	}
	return 0;
}

static int do_access(struct epcgfs_peer *p, char *args, char *reply,
		     size_t size)
{
	uint64_t v[2], done = 0;
	struct encl_use *u;
	int r, i;

	r = parse_nums(args, v, 2);
	if (r)
		return r;
	if (!p->sess->win)
		return -ENOBUFS;
	if (!v[1] || v[1] > EPCGFS_WIN_OPS_MAX)
		return -EINVAL;
	/* Faults charge the faulting process's cgroup (E1). */
	r = epcgfs_peer_bind(p);
	if (r)
		return r;
	i = use_find(p, v[0]);
	if (i < 0)
		return i;
	u = &p->sess->uses[i];
	r = u->thread ? 0 : epcg_encl_enter(u->h->encl, &u->thread);
	if (!r)
		r = run_ops(p, u, v[1], &done);
	if (r == -EFAULT)
		epcgfs_peer_log(p,
				"enclave %" PRIu64 ": SIGBUS (a fault could "
				"not be served)",
				v[0]);
	snprintf(reply, size, "%d %" PRIu64, r, done);
	return 0;
}

static int do_stats(struct epcgfs_peer *p, char *args, char *reply, size_t size)
{
	struct epcg_encl_stats st;
	uint64_t id;
	int r, i;

	r = parse_nums(args, &id, 1);
	if (r)
		return r;
	i = use_find(p, id);
	if (i < 0)
		return i;
	epcg_encl_stats(p->sess->uses[i].h->encl, &st);
	snprintf(reply, size,
		 "0 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %d",
		 st.size, st.pages, st.resident, st.secs_resident, st.va_pages,
		 st.accesses, st.faults, st.ewb, st.eldu, st.eaug, st.etrack,
		 st.forced_exits, st.sigbus, st.faulted ? 1 : 0);
	return 0;
}

static int do_remove(struct epcgfs_peer *p, char *args, char *reply,
		     size_t size)
{
	struct epcgfs_encls *t = epcgfs_ctl_encls(p->ctl);
	struct encl_handle *h;
	uint64_t id;
	int r, i;

	r = parse_nums(args, &id, 1);
	if (r)
		return r;
	i = use_find(p, id);
	if (i < 0)
		return i;
	h = p->sess->uses[i].h;
	pthread_mutex_lock(&t->lock);
	h->removed = true;
	if (h->linked) {
		struct encl_handle **pp = &t->head;

		while (*pp != h)
			pp = &(*pp)->next;
		*pp = h->next;
		h->linked = false;
	}
	pthread_mutex_unlock(&t->lock);
	use_drop(p, (unsigned)i);
	return 0;
}

bool epcgfs_encl_request(struct epcgfs_peer *p, char *req, char *reply,
			 size_t size, int *fd_out)
{
	static const struct {
		const char *verb;
		int (*fn)(struct epcgfs_peer *p, char *args, char *reply,
			  size_t size);
	} verbs[] = {
		{ "encl-create ", do_create }, { "encl-add ", do_add },
		{ "encl-init ", do_init },     { "encl-access ", do_access },
		{ "encl-stats ", do_stats },   { "encl-remove ", do_remove },
	};
	bool window = !strcmp(req, "window");
	int r = -ENOMEM;

	if (!window && strncmp(req, "encl-", 5))
		return false;
	reply[0] = '\0';
	if (!session_get(p))
		goto out;
	if (window) {
		r = do_window(p, reply, size, fd_out);
		goto out;
	}
	r = -EINVAL;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		size_t n = strlen(verbs[i].verb);

		if (!strncmp(req, verbs[i].verb, n)) {
			r = verbs[i].fn(p, req + n, reply, size);
			break;
		}
	}
	if (r == -EINVAL)
		epcgfs_peer_log(p, "malformed enclave request");
out:
	if (r || !reply[0])
		snprintf(reply, size, "%d", r);
	return true;
}
