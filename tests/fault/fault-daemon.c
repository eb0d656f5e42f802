// SPDX-License-Identifier: MIT
/*
 * Host-allocation failure injection in the daemon's request handling
 * (built only with -Dfault_injection=true and libfuse3; see
 * lib/util/alloc.h and tests/fault/fault.h).
 *
 * Each test runs one kind of request on an in-process daemon core
 * (fs/epcgfs-core.c: the machine `epcg mount` builds, its enclave table
 * and test hooks, no FUSE, no socket), on a connection whose peer is this
 * process (uid 0) in cgroup /t.  Round N fails the Nth host allocation
 * the request makes, for N = 1, 2, ... until a round injects nothing, in
 * both modes (the Nth only; the Nth and every later one).
 *
 * Every round checks: the reply is a well-formed reply of that request
 * whose status is 0 or the documented error (-ENOMEM, -EFAULT for the
 * SIGBUS outcome of a fault), with the counts the protocol gives;
 * epcg_sgx_check() holds; the connection still works (the same request
 * again succeeds, and what it built reads back); and when the session
 * ends (as a hang-up ends it) every EPC frame is free, and with the
 * control state gone every resource's usage is 0.  LeakSanitizer scans
 * the heap every 32nd round and after each test.
 *
 * Ending a session, removing an enclave and giving back a test-hook
 * charge are asserted to allocate nothing at all.
 */
#include <errno.h>
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
#include "fault.h"
#include "test.h"

#define PG 4096u
#define EPC_PAGES 1024u
/*
 * misc.max of /t where a test needs reclaim: well above the 16 pages one
 * reclaim batch isolates, so that a retrying fault never finds the LRU
 * empty (which is a correct SIGBUS, but not what these tests are about).
 */
#define LIMIT_PAGES 64u

static const struct epcg_cgroup_cred root_cred = { 0, 0, 1 };

static struct epcgfs_options opts = {
	.mountpoint = "/nonexistent",
	.test_hooks = true,
	.capacity = { [EPCG_MISC_RES_SGX_EPC] = EPC_PAGES * PG },
	.nr_sections = 1,
	.policy = "v17",
};

/* A daemon core with /t (misc enabled) holding this process. */
struct dm {
	struct epcgfs *fs;
	struct epcg_cgroup *t; /* a reference */
	struct epcgfs_conn *conn; /* this process, uid 0 */
	unsigned char *win; /* its window, mapped here, or NULL */
};

static void dm_check(struct dm *d)
{
	char why[256];

	epcg_exec_flush(d->fs->ex);
	if (epcg_sgx_check(d->fs->sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "invariant: %s", why);
}

static void set_max(struct dm *d, uint64_t pages)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "sgx_epc %" PRIu64, pages * PG);

	ASSERT_OK(epcg_cgroup_file_write(d->t, EPCG_CGROUP_FILE_MISC_MAX, buf,
					 (size_t)n, &root_cred));
}

/* sgx_epc usage of /t. */
static uint64_t t_usage(struct dm *d)
{
	struct epcg_misc_cg *mc = epcg_cgroup_misc_get(d->t);
	uint64_t u;

	ASSERT_NOT_NULL(mc);
	u = epcg_misc_usage(mc, EPCG_MISC_RES_SGX_EPC);
	epcg_misc_cg_put(mc);
	return u;
}

static struct epcgfs_conn *conn_open(struct dm *d)
{
	struct ucred cred = { getpid(), 0, 0 };
	struct epcgfs_conn *c;

	ASSERT_OK(epcgfs_conn_open(d->fs->ctl, &cred, &c));
	return c;
}

static void dm_setup(struct dm *d)
{
	struct epcg_cgroup *root;
	char pid[32];

	memset(d, 0, sizeof(*d));
	ASSERT_OK(epcgfs_core_create(&opts, &d->fs));
	ASSERT_OK(epcg_cgroup_lookup(d->fs->tree, "/", &root));
	ASSERT_OK(epcg_cgroup_file_write(root, EPCG_CGROUP_FILE_SUBTREE_CONTROL,
					 "+misc", 5, &root_cred));
	ASSERT_OK(epcg_cgroup_mkdir(root, "t", &root_cred, &d->t));
	epcg_cgroup_put(root);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ASSERT_OK(epcg_cgroup_file_write(d->t, EPCG_CGROUP_FILE_PROCS, pid,
					 strlen(pid), &root_cred));
	d->conn = conn_open(d);
}

/*
 * Run @req on @c; check the reply is well formed: a status (0 or a
 * negative errno) then exactly @nr_vals numbers if it is 0, none if it is
 * not, except that a @counted reply ("STATUS DONE") carries its count
 * whenever the request ran (a request refused before it ran, for a bad
 * argument or an unknown enclave, is answered by its status alone).
 * Return: the status; @vals receives the numbers after it.
 */
static int call(struct epcgfs_conn *c, const char *req, int nr_vals,
		bool counted, uint64_t *vals, int *fd)
{
	char buf[EPCGFS_CTL_MAX + 1], reply[256], *p, *end;
	long status;
	int n = 0, pass;

	snprintf(buf, sizeof(buf), "%s", req);
	epcgfs_conn_request(c, buf, strlen(buf), reply, sizeof(reply), &pass);
	status = strtol(reply, &end, 10);
	if (end == reply || status > 0 || status < -4095)
		epcg_test_fail(__FILE__, __LINE__, "\"%s\": reply \"%s\"", req,
			       reply);
	for (p = end; *p == ' '; p = end) {
		uint64_t v = strtoull(p + 1, &end, 10);

		if (end == p + 1 || p[1] == '-' || n == 16)
			epcg_test_fail(__FILE__, __LINE__,
				       "\"%s\": reply \"%s\"", req, reply);
		if (vals)
			vals[n] = v;
		n++;
	}
	/* A refused request's reply is its status alone, counted or not. */
	if (*p || (n != (status ? 0 : nr_vals) && !(counted && n == nr_vals)))
		epcg_test_fail(__FILE__, __LINE__, "\"%s\": reply \"%s\"", req,
			       reply);
	if (fd)
		*fd = pass;
	else if (pass >= 0)
		epcg_test_fail(__FILE__, __LINE__, "\"%s\": a descriptor", req);
	return (int)status;
}

/* "window": map it here as a client does.  Return: the status. */
static int window(struct dm *d, struct epcgfs_conn *c)
{
	uint64_t v[4];
	int fd, r = call(c, "window", 4, false, v, &fd);
	void *win;

	if (r) {
		ASSERT_EQ(fd, -1);
		return r;
	}
	ASSERT_CMP(fd, >=, 0);
	ASSERT_U64_EQ(v[0], EPCGFS_WIN_SIZE);
	win = mmap(NULL, EPCGFS_WIN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	close(fd);
	ASSERT_TRUE(win != MAP_FAILED);
	if (c == d->conn)
		d->win = win;
	else
		munmap(win, EPCGFS_WIN_SIZE);
	return 0;
}

static int create(struct epcgfs_conn *c, uint64_t size, uint64_t *id)
{
	char req[64];

	snprintf(req, sizeof(req), "encl-create %" PRIu64, size);
	return call(c, req, 1, false, id, NULL);
}

/* The content of page @i of the enclaves here. */
static void pattern(unsigned char *buf, uint64_t i)
{
	for (unsigned k = 0; k < PG; k += 8) {
		uint64_t v = (i * PG + k) * 0x9e3779b97f4a7c15ull;

		memcpy(buf + k, &v, 8);
	}
}

/* "encl-add ID FIRST NR reg 3" from pages @first.. of the pattern. */
static int add(struct dm *d, uint64_t id, uint64_t first, uint64_t nr,
	       uint64_t *added)
{
	char req[128];

	for (uint64_t i = 0; i < nr; i++)
		pattern(d->win + EPCGFS_WIN_DATA_OFF + i * PG, first + i);
	snprintf(req, sizeof(req),
		 "encl-add %" PRIu64 " %" PRIu64 " %" PRIu64 " reg 3", id,
		 first * PG, nr);
	return call(d->conn, req, 1, true, added, NULL);
}

static int id_call(struct epcgfs_conn *c, const char *verb, uint64_t id,
		   int nr_vals, bool counted, uint64_t *vals)
{
	char req[64];

	snprintf(req, sizeof(req), "%s %" PRIu64, verb, id);
	return call(c, req, nr_vals, counted, vals, NULL);
}

/* Read pages @first.. @first + @nr - 1 in one batch.  Return: status. */
static int read_pages(struct dm *d, uint64_t id, uint64_t first, uint64_t nr,
		      uint64_t *done)
{
	struct epcgfs_op *ops = (struct epcgfs_op *)d->win;
	char req[64];

	for (uint64_t i = 0; i < nr; i++) {
		ops[i].offset = (first + i) * PG;
		ops[i].len = PG;
		ops[i].flags = 0;
	}
	snprintf(req, sizeof(req), "encl-access %" PRIu64 " %" PRIu64, id, nr);
	return call(d->conn, req, 1, true, done, NULL);
}

/* Every page of @first.. reads back as the pattern. */
static void verify(struct dm *d, uint64_t id, uint64_t first, uint64_t nr)
{
	unsigned char want[PG];
	uint64_t done;

	for (uint64_t at = 0; at < nr; at += 512) {
		uint64_t k = nr - at < 512 ? nr - at : 512;

		ASSERT_OK(read_pages(d, id, first + at, k, &done));
		ASSERT_U64_EQ(done, k);
		for (uint64_t i = 0; i < k; i++) {
			pattern(want, first + at + i);
			ASSERT_MEMEQ(d->win + EPCGFS_WIN_DATA_OFF + i * PG,
				     want, PG);
		}
	}
}

/* A window and an initialized enclave of @nr pattern pages (8 MiB). */
static uint64_t build(struct dm *d, uint64_t nr)
{
	uint64_t id, added;

	if (!d->win)
		ASSERT_OK(window(d, d->conn));
	ASSERT_OK(create(d->conn, 2048 * PG, &id));
	for (uint64_t at = 0; at < nr; at += 512) {
		uint64_t k = nr - at < 512 ? nr - at : 512;

		ASSERT_OK(add(d, id, at, k, &added));
		ASSERT_U64_EQ(added, k);
	}
	ASSERT_OK(id_call(d->conn, "encl-init", id, 0, false, NULL));
	return id;
}

/*
 * End every session (as hang-ups do) and check that nothing is left:
 * once the control state drops the test hooks' charges, the invariants,
 * every frame free and every resource's usage 0.  Then tear the core
 * down.
 */
static void dm_teardown(struct dm *d)
{
	struct epcg_epc *epc = epcg_sgx_epc(d->fs->sgx);
	struct epcg_misc_cg *root = epcg_misc_root(d->fs->misc);

	epcgfs_conn_close(d->conn);
	if (d->win)
		munmap(d->win, EPCGFS_WIN_SIZE);
	epcgfs_ctl_destroy(d->fs->ctl);
	d->fs->ctl = NULL;
	dm_check(d);
	ASSERT_U64_EQ(epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc));
	for (int r = 0; r < EPCG_MISC_RES_NR; r++)
		ASSERT_U64_EQ(epcg_misc_usage(root, (enum epcg_misc_res)r), 0);
	epcg_cgroup_put(d->t);
	epcgfs_core_destroy(d->fs);
	memset(d, 0, sizeof(*d));
}

/*
 * Let OpenSSL and the C library set up their global state (algorithm
 * tables, the default provider, stdio) before anything is armed: a
 * failure there is their start-up, not one of our requests.
 */
static void warm_up(void)
{
	struct dm d;

	dm_setup(&d);
	set_max(&d, LIMIT_PAGES);
	verify(&d, build(&d, 96), 0, 96);
	dm_teardown(&d);
	fault_leak_check();
}

/* ---- connections ---- */

/*
 * A new connection and its first request: the connection's state (the
 * accept path allocates the same), then "window" (the session).
 */
TEST(connection_and_window)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct ucred cred = { getpid(), 0, 0 };
			struct epcgfs_conn *c = NULL;
			struct fault_shot s;
			struct dm d;
			int err;

			dm_setup(&d);
			fault_arm(n, fault_modes[m]);
			err = epcgfs_conn_open(d.fs->ctl, &cred, &c);
			if (!err)
				err = window(&d, c);
			s = fault_disarm();
			dm_check(&d);
			if (err && c) {
				/* The connection is fine: it asks again. */
				ASSERT_OK(window(&d, c));
			}
			epcgfs_conn_close(c);
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("connection + window", &t);
}

/*
 * Binding the connection to its process in the cgroup tree happens on
 * its first request that charges (here an encl-add of an enclave that
 * does not exist: -ENOENT once bound).
 */
TEST(connection_bind)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			uint64_t added = 0;
			struct fault_shot s;
			struct dm d;
			int err;

			dm_setup(&d);
			ASSERT_OK(window(&d, d.conn));
			fault_arm(n, fault_modes[m]);
			err = add(&d, 99, 0, 1, &added);
			s = fault_disarm();
			ASSERT_U64_EQ(added, 0);
			dm_check(&d);
			if (err != -ENOMEM)
				ASSERT_ERR(err, ENOENT);
			/* Bound or not, it builds and charges /t. */
			verify(&d, build(&d, 8), 0, 8);
			ASSERT_U64_EQ(t_usage(&d), 10 * PG);
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err == -ENOENT ? 0 : err,
					     ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("bind (first charging request)", &t);
}

/* ---- enclave requests ---- */

TEST(encl_create)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			uint64_t id;
			struct dm d;
			int err;

			dm_setup(&d);
			ASSERT_OK(window(&d, d.conn));
			fault_arm(n, fault_modes[m]);
			err = create(d.conn, 64 * PG, &id);
			s = fault_disarm();
			dm_check(&d);
			if (err) {
				ASSERT_U64_EQ(t_usage(&d), 0);
				/* Nothing was given an id: 1 is unknown. */
				ASSERT_ERR(id_call(d.conn, "encl-stats", 1, 14,
						   false, NULL),
					   ENOENT);
			}
			verify(&d, build(&d, 16), 0, 16);
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("encl-create (bind included)", &t);
}

/*
 * 512 pages in one request: page-table chunks and VA pages on the way.
 * A failure reports the pages added before it; the rest go in after.
 */
TEST(encl_add)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			uint64_t id, added = 0, more = 0;
			struct fault_shot s;
			struct dm d;
			int err;

			dm_setup(&d);
			ASSERT_OK(window(&d, d.conn));
			ASSERT_OK(create(d.conn, 2048 * PG, &id));
			fault_arm(n, fault_modes[m]);
			err = add(&d, id, 0, 512, &added);
			s = fault_disarm();
			dm_check(&d);
			if (err) {
				ASSERT_CMP(added, <, 512);
				ASSERT_OK(
					add(&d, id, added, 512 - added, &more));
			}
			ASSERT_U64_EQ(added + more, 512);
			ASSERT_OK(id_call(d.conn, "encl-init", id, 0, false,
					  NULL));
			verify(&d, id, 0, 512);
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("encl-add of 512 pages", &t);
}

TEST(encl_init)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			uint64_t id, added;
			struct fault_shot s;
			struct dm d;
			int err;

			dm_setup(&d);
			ASSERT_OK(window(&d, d.conn));
			ASSERT_OK(create(d.conn, 64 * PG, &id));
			ASSERT_OK(add(&d, id, 0, 16, &added));
			fault_arm(n, fault_modes[m]);
			err = id_call(d.conn, "encl-init", id, 0, false, NULL);
			s = fault_disarm();
			dm_check(&d);
			/* Still uninitialized: it can be, later. */
			if (err)
				ASSERT_OK(id_call(d.conn, "encl-init", id, 0,
						  false, NULL));
			verify(&d, id, 0, 16);
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("encl-init", &t);
}

/*
 * The first access of a connection enters the enclave (a thread); the
 * batch then faults 192 evicted pages back at a 64-page limit, so every
 * fault reclaims.  Only the entry allocates: a failure is -ENOMEM with
 * nothing done.
 */
TEST(encl_access_faults_reclaim)
{
	struct fault_tally t = { 0 };
	uint64_t faults = 0;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			uint64_t id, done = 0, st[14];
			struct epcgfs_conn *c;
			struct fault_shot s;
			struct dm d;
			int err;

			dm_setup(&d);
			set_max(&d, LIMIT_PAGES);
			id = build(&d, 192);
			/*
			 * A new connection of the process takes a use, the
			 * old one goes: no thread in the enclave yet.
			 */
			c = conn_open(&d);
			ASSERT_OK(id_call(c, "encl-stats", id, 14, false, st));
			epcgfs_conn_close(d.conn);
			munmap(d.win, EPCGFS_WIN_SIZE);
			d.conn = c;
			d.win = NULL;
			ASSERT_OK(window(&d, d.conn));
			fault_arm(n, fault_modes[m]);
			err = read_pages(&d, id, 0, 192, &done);
			s = fault_disarm();
			dm_check(&d);
			if (err)
				ASSERT_U64_EQ(done, 0);
			else
				ASSERT_U64_EQ(done, 192);
			verify(&d, id, 0, 192);
			ASSERT_OK(id_call(d.conn, "encl-stats", id, 14, false,
					  st));
			ASSERT_CMP(st[6], >=, 192 - LIMIT_PAGES);
			faults += st[6];
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("encl-access: enter + 192 faults at a limit", &t);
	epcg_test_note("%" PRIu64 " faults served over the rounds", faults);
}

/*
 * A write to a page never added adds it (EAUG): a host shortage there is
 * the SIGBUS outcome (-EFAULT), as in the kernel's fault handler.
 */
TEST(encl_access_eaug)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct epcgfs_op *ops;
			uint64_t id, done = 0, st[14];
			char req[64];
			struct fault_shot s;
			struct dm d;
			int err;

			dm_setup(&d);
			id = build(&d, 511);
			ASSERT_OK(read_pages(&d, id, 0, 1, &done));
			ops = (struct epcgfs_op *)d.win;
			ops[0].offset = 1024 * PG;
			ops[0].len = PG;
			ops[0].flags = EPCGFS_OP_WRITE;
			memset(d.win + EPCGFS_WIN_DATA_OFF, 0xa5, PG);
			snprintf(req, sizeof(req), "encl-access %" PRIu64 " 1",
				 id);
			fault_arm(n, fault_modes[m]);
			err = call(d.conn, req, 1, true, &done, NULL);
			s = fault_disarm();
			ASSERT_U64_EQ(done, err ? 0 : 1);
			dm_check(&d);
			ASSERT_OK(id_call(d.conn, "encl-stats", id, 14, false,
					  st));
			ASSERT_U64_EQ(st[13], err ? 1 : 0);
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, EFAULT))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("encl-access: EAUG on first touch", &t);
}

/* A second connection of the process: its first request makes a session. */
TEST(encl_stats_new_connection)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct epcgfs_conn *c;
			uint64_t id, st[14];
			struct fault_shot s;
			struct dm d;
			int err;

			dm_setup(&d);
			id = build(&d, 8);
			c = conn_open(&d);
			fault_arm(n, fault_modes[m]);
			err = id_call(c, "encl-stats", id, 14, false, st);
			s = fault_disarm();
			dm_check(&d);
			if (!err)
				ASSERT_U64_EQ(st[1], 8);
			ASSERT_OK(id_call(c, "encl-stats", id, 14, false, st));
			ASSERT_U64_EQ(st[1], 8);
			epcgfs_conn_close(c);
			verify(&d, id, 0, 8);
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("encl-stats (new connection's session)", &t);
}

/*
 * What a client gives back never needs memory: encl-remove, ending a
 * session that holds enclaves, threads in them and a window, and
 * uncharging a test-hook charge.
 */
TEST(remove_end_uncharge_allocate_nothing)
{
	struct fault_shot s;
	uint64_t id, id2;
	struct dm d;

	warm_up();
	dm_setup(&d);
	id = build(&d, 64);
	id2 = build(&d, 32);
	verify(&d, id2, 0, 32);
	ASSERT_OK(call(d.conn, "charge sgx_epc 8192 /t", 0, false, NULL, NULL));
	fault_arm(1, EPCG_FAULT_FROM);
	ASSERT_OK(id_call(d.conn, "encl-remove", id, 0, false, NULL));
	ASSERT_OK(
		call(d.conn, "uncharge sgx_epc 8192 /t", 0, false, NULL, NULL));
	epcgfs_conn_close(d.conn);
	d.conn = NULL;
	s = fault_disarm();
	ASSERT_U64_EQ(s.calls, 0);
	munmap(d.win, EPCGFS_WIN_SIZE);
	d.win = NULL;
	dm_teardown(&d);
	fault_leak_check();
}

/* ---- test hooks ---- */

TEST(hook_charge)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			struct dm d;
			int err;

			dm_setup(&d);
			fault_arm(n, fault_modes[m]);
			err = call(d.conn, "charge sgx_epc 8192 /t", 0, false,
				   NULL, NULL);
			s = fault_disarm();
			/* All or nothing: charged and recorded, or neither. */
			ASSERT_U64_EQ(t_usage(&d), err ? 0 : 8192);
			ASSERT_EQ(call(d.conn, "uncharge sgx_epc 8192 /t", 0,
				       false, NULL, NULL),
				  err ? -EINVAL : 0);
			ASSERT_U64_EQ(t_usage(&d), 0);
			dm_check(&d);
			/* Left charged: the control state's end drops it. */
			ASSERT_OK(call(d.conn, "charge sgx_epc 4096 /t", 0,
				       false, NULL, NULL));
			dm_teardown(&d);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("test hook charge", &t);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(connection_and_window),
	TEST_ENTRY(connection_bind),
	TEST_ENTRY(encl_create),
	TEST_ENTRY_TIMEOUT(encl_add, 300),
	TEST_ENTRY(encl_init),
	TEST_ENTRY_TIMEOUT(encl_access_faults_reclaim, 300),
	TEST_ENTRY(encl_access_eaug),
	TEST_ENTRY(encl_stats_new_connection),
	TEST_ENTRY(remove_end_uncharge_allocate_nothing),
	TEST_ENTRY(hook_charge),
};

TEST_MAIN(tests)
