// SPDX-License-Identifier: MIT
/*
 * Fuzz target: sessions of text requests to the daemon (the control
 * socket's requests, docs/interface.md), run in-process on a whole
 * daemon core (fs/epcgfs-core.c: misc, cgroup tree, live execution
 * context, software EPC, enclave table, test hooks), without FUSE and
 * without a socket.
 *
 * The input is a list of lines.  A line "P REQUEST" sends REQUEST (any
 * bytes but a newline, NULs included) as one frame from connection P:
 *	a, b	two connections of this process (uid 0): they may share
 *		enclaves
 *	c	another process (our parent) as an unprivileged uid, in
 *		another cgroup
 *	d	a forged pid no process has (uid 0)
 * A line with no such prefix is a request of connection a.  Lines
 * starting with '!' are the harness's own, not requests:
 *	!op P I OFFSET LEN FLAGS	write operation I of P's window
 *	!max CG PAGES			set misc.max of /t or /u (CG 't', 'u')
 *	!fill P BYTE			fill P's window data with BYTE
 * A window the daemon hands out is mapped here, as a client maps it, and
 * its first operations are preset to small reads and writes of the first
 * pages.
 *
 * The machine is built once per process (core_once()); each input
 * starts with a fresh control state and the default limits.
 *
 * After every request: the reply is well formed for its verb (a status,
 * 0 or a negative errno, and the numbers the protocol gives for that
 * verb); epcg_sgx_check() holds (every frame free, on one LRU or owned;
 * usage equal to the pages charged); a request naming an enclave another
 * process created fails as if it did not exist (never 0, never pages
 * added or accesses done).  At the end every connection closes (as if
 * hung up) and the control state goes (dropping what the test hooks
 * charged): the invariants hold, every EPC frame is free and every
 * resource's usage is 0.
 *
 * The EPC (1024 pages) is four times the largest limit the harness
 * allows its two cgroups, so reclaim happens per cgroup, at a limit, and
 * ksgxd (global pressure) stays idle: epcg_sgx_check() needs a quiescent
 * machine, and flushing the execution context's work gives one.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/cgroup.h>
#include <epcg/epc.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>

#include "epcgfs-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PG 4096u
#define EPC_PAGES 1024u
#define MAX_PAGES_T 256u /* misc.max of /t at most, pages */
#define MAX_PAGES_U 128u
#define NR_PEERS 4
#define REQS_MAX 96 /* requests run per input; the rest is ignored */
#define IDS_MAX 256
#define UNPRIV_UID 65534
#define FORGED_PID 0x7ffffff0

#define FAIL(...)                                                 \
	do {                                                      \
		fprintf(stderr, "fuzz-daemon-req: " __VA_ARGS__); \
		fputc('\n', stderr);                              \
		abort();                                          \
	} while (0)

struct peer {
	struct epcgfs_conn *conn;
	int proc; /* 0: this process, 1: the other, 2: forged */
	unsigned char *win; /* mapped window or NULL */
};

struct state {
	struct epcgfs *fs;
	struct peer peers[NR_PEERS];
	struct epcg_cgroup *t, *u; /* core_once()'s */
	/* Enclave ids each process was given (by encl-create replies). */
	uint64_t ids[3][IDS_MAX];
	unsigned nr_ids[3];
	/*
	 * sgx_epc the test hooks charged and did not uncharge: charges with
	 * no EPC page behind them, which epcg_sgx_check() rightly counts as
	 * a mismatch; it runs only while there are none.
	 */
	uint64_t raw_epc;
};

static const struct epcg_cgroup_cred root_cred = { 0, 0, 1 };

static struct epcgfs_options opts = {
	.mountpoint = "/nonexistent",
	.test_hooks = true,
	.capacity = { [EPCG_MISC_RES_SGX_EPC] = EPC_PAGES * PG },
	.nr_sections = 2,
	.policy = "v17",
};

static void check_machine(struct state *s, const char *after)
{
	char why[256];

	epcg_exec_flush(s->fs->ex);
	if (!s->raw_epc && epcg_sgx_check(s->fs->sgx, why, sizeof(why)))
		FAIL("invariant after %s: %s", after, why);
}

/* ---- replies ---- */

/* Split @reply into decimal numbers; only the first may be negative. */
static int reply_nums(const char *reply, int64_t *vals, int max)
{
	const char *p = reply;
	int n = 0;

	for (;;) {
		char *end;
		bool neg = *p == '-';

		if (n == max)
			return -1;
		if (!(p[neg] >= '0' && p[neg] <= '9') || (neg && n))
			return -1;
		if (p[neg] == '0' && p[neg + 1] >= '0' && p[neg + 1] <= '9')
			return -1; /* no leading zeros */
		errno = 0;
		vals[n++] = strtoll(p, &end, 10);
		if (errno)
			return -1;
		if (!*end)
			return n;
		if (*end != ' ')
			return -1;
		p = end + 1;
	}
}

/* How many numbers a successful reply to @verb carries after its status. */
struct verb {
	const char *name;
	bool prefix; /* matches the requests that start with @name */
	int ok_vals; /* numbers after a 0 status */
	bool counted; /* "STATUS COUNT" once it ran, even if STATUS < 0 */
	bool takes_id;
};

/* As the daemon matches them: whole words, or prefixes of the request. */
static const struct verb verbs[] = {
	{ "ping", false, 0, false, false },
	{ "pid", false, 1, false, false },
	{ "charge ", true, 0, false, false },
	{ "uncharge ", true, 0, false, false },
	{ "capacity ", true, 0, false, false },
	{ "check", true, 0, false, false }, /* its arguments: -EINVAL */
	{ "window", false, 4, false, false },
	{ "encl-create ", true, 1, false, false },
	{ "encl-add ", true, 1, true, true },
	{ "encl-init ", true, 0, false, true },
	{ "encl-access ", true, 1, true, true },
	{ "encl-stats ", true, 14, false, true },
	{ "encl-remove ", true, 0, false, true },
};

static const struct verb *verb_of(const char *req, size_t len)
{
	if (strlen(req) != len)
		return NULL; /* a NUL inside: malformed whatever it says */
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		size_t n = strlen(verbs[i].name);

		if (verbs[i].prefix ? !strncmp(req, verbs[i].name, n) :
				      !strcmp(req, verbs[i].name))
			return &verbs[i];
	}
	return NULL;
}

/*
 * Check @reply against the protocol for @v (NULL: no such request, so
 * -EINVAL); return its numbers in @vals and their count.
 */
static int check_reply(const struct verb *v, const char *req, const char *reply,
		       int64_t *vals)
{
	int n = reply_nums(reply, vals, EPCGFS_REPLY_VALS);

	if (n < 1)
		FAIL("malformed reply \"%s\" to \"%s\"", reply, req);
	if (vals[0] > 0 || vals[0] < -4095)
		FAIL("status %" PRId64 " to \"%s\"", vals[0], req);
	if (!v) {
		if (n != 1 || vals[0] != -EINVAL)
			FAIL("reply \"%s\" to an unknown request", reply);
		return n;
	}
	if (v->counted && n == 2) {
		if (vals[1] < 0)
			FAIL("negative count in \"%s\"", reply);
		return n;
	}
	if (vals[0] == 0 && n != 1 + v->ok_vals)
		FAIL("reply \"%s\" to \"%s\": want %d numbers", reply, req,
		     1 + v->ok_vals);
	if (vals[0] < 0 && n != 1)
		FAIL("error reply \"%s\" to \"%s\" has more", reply, req);
	for (int i = 1; i < n; i++)
		if (vals[i] < 0)
			FAIL("negative number in \"%s\"", reply);
	return n;
}

/* ---- the harness ---- */

static bool owns(const struct state *s, int proc, uint64_t id)
{
	for (unsigned i = 0; i < s->nr_ids[proc]; i++)
		if (s->ids[proc][i] == id)
			return true;
	return false;
}

/*
 * Follow the sgx_epc that succeeded "charge RES AMOUNT PATH" and
 * "uncharge ..." requests hold, reading them as the daemon does.
 */
static void track_hook(struct state *s, const char *req)
{
	bool charge = !strncmp(req, "charge sgx_epc ", 15);
	const char *amount;
	uint64_t n;

	if (!charge && strncmp(req, "uncharge sgx_epc ", 17))
		return;
	amount = req + (charge ? 15 : 17);
	n = strtoull(amount, NULL, 10);
	if (charge)
		s->raw_epc += n;
	else if (n > s->raw_epc)
		FAIL("uncharged %" PRIu64 " of %" PRIu64, n, s->raw_epc);
	else
		s->raw_epc -= n;
}

/* The enclave id a request names: its first field's digits. */
static bool request_id(const char *args, uint64_t *id)
{
	char *end;

	if (*args < '0' || *args > '9')
		return false;
	errno = 0;
	*id = strtoull(args, &end, 10);
	return !errno && (*end == ' ' || !*end);
}

static void map_window(struct peer *p, int fd)
{
	struct epcgfs_op *ops;
	void *win;

	win = mmap(NULL, EPCGFS_WIN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	close(fd);
	if (win == MAP_FAILED)
		FAIL("cannot map a window");
	if (p->win)
		FAIL("a second window was handed out");
	p->win = win;
	ops = win;
	/* Reads and writes of the first 16 pages, 64 bytes each. */
	for (unsigned i = 0; i < 64; i++) {
		ops[i].offset = (uint64_t)(i % 16) * PG + (i / 16) * 64;
		ops[i].len = 64;
		ops[i].flags = i & 1 ? EPCGFS_OP_WRITE : 0;
	}
	memset((unsigned char *)win + EPCGFS_WIN_DATA_OFF, 0x5a,
	       EPCGFS_WIN_DATA_SIZE);
}

static int peer_index(char c)
{
	return c >= 'a' && c < 'a' + NR_PEERS ? c - 'a' : -1;
}

/* The harness's own commands (lines starting with '!'). */
static void harness_cmd(struct state *s, const char *cmd)
{
	unsigned long long a, b, c;
	unsigned idx;
	char who;

	if (sscanf(cmd, "!op %c %u %llu %llu %llu", &who, &idx, &a, &b, &c) ==
	    5) {
		int i = peer_index(who);
		struct epcgfs_op *ops;

		if (i < 0 || !s->peers[i].win || idx >= EPCGFS_WIN_OPS_MAX)
			return;
		ops = (struct epcgfs_op *)s->peers[i].win;
		ops[idx].offset = a;
		ops[idx].len = (uint32_t)b;
		ops[idx].flags = (uint32_t)c;
	} else if (sscanf(cmd, "!max %c %llu", &who, &a) == 2) {
		unsigned cap = who == 't' ? MAX_PAGES_T : MAX_PAGES_U;
		char buf[64];
		int n;

		if (who != 't' && who != 'u')
			return;
		n = snprintf(buf, sizeof(buf), "sgx_epc %llu",
			     (a % cap + 1) * PG);
		if (epcg_cgroup_file_write(who == 't' ? s->t : s->u,
					   EPCG_CGROUP_FILE_MISC_MAX, buf,
					   (size_t)n, &root_cred))
			FAIL("cannot set misc.max: %s", buf);
	} else if (sscanf(cmd, "!fill %c %llu", &who, &a) == 2) {
		int i = peer_index(who);

		if (i >= 0 && s->peers[i].win)
			memset(s->peers[i].win + EPCGFS_WIN_DATA_OFF,
			       (int)(a & 0xff), EPCGFS_WIN_DATA_SIZE);
	}
}

static void request(struct state *s, int pi, const char *line, size_t len)
{
	static char req[EPCGFS_CTL_MAX + 1], copy[EPCGFS_CTL_MAX + 1];
	struct peer *p = &s->peers[pi];
	int64_t vals[EPCGFS_REPLY_VALS];
	const struct verb *v;
	char reply[256];
	uint64_t id;
	int fd, n;

	memcpy(req, line, len);
	req[len] = '\0';
	memcpy(copy, req, len + 1);
	v = verb_of(copy, len);
	epcgfs_conn_request(p->conn, req, len, reply, sizeof(reply), &fd);
	if (strlen(reply) >= sizeof(reply) - 1)
		FAIL("reply filled its buffer");
	if (getenv("EPCG_FUZZ_VERBOSE"))
		fprintf(stderr, "%c %s -> %s\n", 'a' + pi, copy, reply);
	n = check_reply(v, copy, reply, vals);
	if (fd >= 0 && !(v && !strcmp(v->name, "window") && !vals[0]))
		FAIL("a descriptor with \"%s\"", reply);
	if (v && !strcmp(v->name, "window") && !vals[0]) {
		if (fd < 0)
			FAIL("a window without its descriptor");
		map_window(p, fd);
	}
	if (v &&
	    (!strcmp(v->name, "charge ") || !strcmp(v->name, "uncharge ")) &&
	    !vals[0])
		track_hook(s, copy);
	if (v && !strcmp(v->name, "encl-create ") && !vals[0]) {
		if (p->proc == 2)
			FAIL("a forged pid created an enclave");
		if (owns(s, 0, (uint64_t)vals[1]) ||
		    owns(s, 1, (uint64_t)vals[1]))
			FAIL("enclave id %" PRId64 " given twice", vals[1]);
		if (s->nr_ids[p->proc] < IDS_MAX)
			s->ids[p->proc][s->nr_ids[p->proc]++] =
				(uint64_t)vals[1];
	}
	/* Another process's enclave: as if it did not exist. */
	if (v && v->takes_id && request_id(copy + strlen(v->name), &id) &&
	    !owns(s, p->proc, id) && (owns(s, 0, id) || owns(s, 1, id))) {
		if (vals[0] != -ENOENT && vals[0] != -EINVAL &&
		    vals[0] != -ENOBUFS && vals[0] != -ESRCH)
			FAIL("\"%s\" of another process's enclave: \"%s\"",
			     copy, reply);
		if (n == 2 && vals[1])
			FAIL("\"%s\": work done on another's enclave", copy);
	}
	check_machine(s, copy);
}

/*
 * The machine, its tree and its execution context are built once: their
 * threads' start and end would cost more than most inputs (they are what
 * a running daemon keeps anyway).  Each input gets a fresh control state,
 * so enclave ids start at 1 again and no test-hook charge or enclave of
 * an input outlives it (finish() checks that).
 */
static struct epcgfs *core;
static struct epcg_cgroup *cg_t, *cg_u; /* references */

static void core_once(void)
{
	struct epcg_cgroup *root;
	char pid[32];
	int err;

	if (core)
		return;
	err = epcgfs_core_create(&opts, &core);
	if (err)
		FAIL("core: %s", strerror(-err));
	epcgfs_ctl_destroy(core->ctl);
	core->ctl = NULL;
	if (epcg_cgroup_lookup(core->tree, "/", &root))
		FAIL("no root");
	if (epcg_cgroup_file_write(root, EPCG_CGROUP_FILE_SUBTREE_CONTROL,
				   "+misc", 5, &root_cred) ||
	    epcg_cgroup_mkdir(root, "t", &root_cred, &cg_t) ||
	    epcg_cgroup_mkdir(root, "u", &root_cred, &cg_u))
		FAIL("cannot build the tree");
	epcg_cgroup_put(root);
	/* This process in /t, the other one in /u. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (epcg_cgroup_file_write(cg_t, EPCG_CGROUP_FILE_PROCS, pid,
				   strlen(pid), &root_cred))
		FAIL("cannot move %s", pid);
	snprintf(pid, sizeof(pid), "%d", (int)getppid());
	if (epcg_cgroup_file_write(cg_u, EPCG_CGROUP_FILE_PROCS, pid,
				   strlen(pid), &root_cred))
		FAIL("cannot move %s", pid);
}

static void setup(struct state *s)
{
	static const int procs[NR_PEERS] = { 0, 0, 1, 2 };

	core_once();
	memset(s, 0, sizeof(*s));
	s->fs = core;
	s->t = cg_t;
	s->u = cg_u;
	if (epcgfs_ctl_create_local(core, &core->ctl))
		FAIL("no control state");
	harness_cmd(s, "!max t 255");
	harness_cmd(s, "!max u 127");
	for (int i = 0; i < NR_PEERS; i++) {
		struct ucred cred = { 0 };

		s->peers[i].proc = procs[i];
		cred.pid = procs[i] == 0 ? getpid() :
			   procs[i] == 1 ? getppid() :
					   FORGED_PID;
		cred.uid = procs[i] == 1 ? UNPRIV_UID : 0;
		cred.gid = cred.uid;
		if (epcgfs_conn_open(core->ctl, &cred, &s->peers[i].conn))
			FAIL("cannot open a connection");
	}
}

static void finish(struct state *s)
{
	struct epcg_epc *epc = epcg_sgx_epc(s->fs->sgx);
	struct epcg_misc_cg *root = epcg_misc_root(s->fs->misc);

	for (int i = 0; i < NR_PEERS; i++) {
		epcgfs_conn_close(s->peers[i].conn);
		if (s->peers[i].win)
			munmap(s->peers[i].win, EPCGFS_WIN_SIZE);
	}
	/* The control state drops what the test hooks charged. */
	epcgfs_ctl_destroy(s->fs->ctl);
	s->fs->ctl = NULL;
	s->raw_epc = 0;
	check_machine(s, "every session ended");
	if (epcg_epc_nr_free(epc) != epcg_epc_nr_pages(epc))
		FAIL("%" PRIu64 " EPC frames still used",
		     epcg_epc_nr_pages(epc) - epcg_epc_nr_free(epc));
	for (int r = 0; r < EPCG_MISC_RES_NR; r++) {
		if (epcg_misc_usage(root, (enum epcg_misc_res)r))
			FAIL("usage of resource %d is %" PRIu64, r,
			     epcg_misc_usage(root, (enum epcg_misc_res)r));
		/* What "capacity" hooks set goes back to the options'. */
		if (r != EPCG_MISC_RES_SGX_EPC &&
		    epcg_misc_set_capacity(s->fs->misc, (enum epcg_misc_res)r,
					   0))
			FAIL("cannot reset capacity %d", r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct state s;
	unsigned nr = 0;

	setup(&s);
	while (p < end && nr < REQS_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		int pi = 0;

		if (len && p[0] == '!') {
			char cmd[128];
			size_t n = len < sizeof(cmd) - 1 ? len :
							   sizeof(cmd) - 1;

			memcpy(cmd, p, n);
			cmd[n] = '\0';
			harness_cmd(&s, cmd);
		} else if (len <= EPCGFS_CTL_MAX) {
			const char *req = p;
			size_t rlen = len;

			if (len >= 2 && peer_index(p[0]) >= 0 && p[1] == ' ') {
				pi = peer_index(p[0]);
				req += 2;
				rlen -= 2;
			}
			request(&s, pi, req, rlen);
			nr++;
		}
		p += len + 1;
	}
	finish(&s);
	return 0;
}
