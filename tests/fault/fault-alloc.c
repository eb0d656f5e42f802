// SPDX-License-Identifier: MIT
/*
 * Host-allocation failure injection (built only with -Dfault_injection=
 * true; see lib/util/alloc.h).
 *
 * For each operation that allocates host memory, round N makes its Nth
 * allocation fail, for N = 1, 2, ... until a round injects nothing (the
 * operation made fewer than N allocations and succeeded).  Every round
 * runs twice: failing only the Nth allocation, and failing the Nth and
 * every later one (so an error path that allocates again fails too).
 * OpenSSL's allocations are routed through the injector as well
 * (CRYPTO_set_mem_functions), so a failing digest or cipher context is
 * one more N.
 *
 * A failed round must return a clean -errno (-ENOMEM, or what the
 * operation documents), change nothing a caller can see, leave the
 * machine's invariants whole (epcg_sgx_check(): every frame free, on one
 * LRU or owned; each cgroup's usage equal to the pages charged to it),
 * keep what was already built usable (an enclave whose add_pages failed
 * halfway takes the rest and reads back intact), and, after its teardown,
 * leak nothing: in the AddressSanitizer build, LeakSanitizer checks the
 * whole heap after every round.
 *
 * Operations with no host allocation at all (a fault on an evicted page,
 * a reclaim batch, release) are asserted to make none: no host memory
 * shortage can break them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/cgroup.h>
#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>
#include <unistd.h>

#include "fault.h"
#include "sgx/sgx-internal.h"
#include "test.h"

#define PG EPCG_PAGE_SIZE
#define RES EPCG_MISC_RES_SGX_EPC
#define RW (EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE)
#define EPC_PAGES 2048

/* ---- a machine ---- */

struct fx {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_misc_cg *root;
	struct epcg_misc_cg *cg; /* the test task's cgroup */
	struct epcg_task task;
};

/* Build the stack a front end builds.  Return: 0 or the first error. */
static int fx_try_setup(struct fx *f)
{
	struct epcg_epc_section_spec sec = { EPC_PAGES * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, EPCG_SGX_POLICY_V17 };
	int err;

	memset(f, 0, sizeof(*f));
	err = epcg_exec_live_create(1, &f->ex);
	if (!err)
		err = epcg_misc_create(&f->m);
	if (!err)
		err = epcg_sgx_create(f->m, f->ex, &cfg, &f->sgx);
	if (!err) {
		f->root = epcg_misc_root(f->m);
		err = epcg_misc_cg_create(f->root, "t", &f->cg);
	}
	if (err)
		return err;
	epcg_task_init(&f->task, 100, -1);
	epcg_misc_task_attach(&f->task, f->cg);
	epcg_task_set_current(&f->task);
	return 0;
}

static void fx_setup(struct fx *f)
{
	ASSERT_OK(fx_try_setup(f));
}

static void fx_check(struct fx *f)
{
	char why[256];

	epcg_exec_flush(f->ex);
	if (epcg_sgx_check(f->sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "invariant: %s", why);
}

/* Tear down whatever fx_try_setup() built, checking it is all free. */
static void fx_teardown(struct fx *f)
{
	if (f->sgx) {
		struct epcg_epc *epc = epcg_sgx_epc(f->sgx);

		for (int i = 0; i < 1000 &&
				epcg_epc_nr_free(epc) != epcg_epc_nr_pages(epc);
		     i++)
			usleep(1000);
		fx_check(f);
		ASSERT_U64_EQ(epcg_misc_usage(f->root, RES), 0);
		ASSERT_U64_EQ(epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc));
	}
	epcg_task_set_current(NULL);
	if (f->cg) {
		epcg_misc_task_attach(&f->task, NULL);
		ASSERT_OK(epcg_misc_cg_remove(f->cg));
	}
	if (f->ex)
		epcg_exec_flush(f->ex);
	epcg_sgx_destroy(f->sgx);
	epcg_misc_destroy(f->m);
	epcg_exec_destroy(f->ex);
	memset(f, 0, sizeof(*f));
}

/* The content of page @idx of an enclave tagged @tag. */
static void pattern(uint8_t *buf, unsigned tag, uint64_t idx)
{
	uint64_t seed = ((uint64_t)tag << 40) ^ (idx << 16);

	for (unsigned i = 0; i < PG; i += 8) {
		uint64_t v = (seed + i) * 0x9e3779b97f4a7c15ull;

		memcpy(buf + i, &v, 8);
	}
}

static uint8_t *source(uint64_t nr, unsigned tag)
{
	uint8_t *src = malloc(nr * PG);

	ASSERT_NOT_NULL(src);
	for (uint64_t i = 0; i < nr; i++)
		pattern(src + i * PG, tag, i);
	return src;
}

static struct epcg_encl_stats stats(struct epcg_encl *e)
{
	struct epcg_encl_stats st;

	epcg_encl_stats(e, &st);
	return st;
}

static struct epcg_encl *build(struct fx *f, uint64_t size, uint64_t nr,
			       unsigned tag)
{
	uint8_t *src = source(nr, tag);
	struct epcg_encl *e;

	ASSERT_OK(epcg_encl_create(f->sgx, size, &e));
	ASSERT_OK(epcg_encl_add_pages(e, 0, src, nr, EPCG_ENCL_PAGE_REG, RW,
				      NULL));
	ASSERT_OK(epcg_encl_init(e, NULL));
	free(src);
	return e;
}

/* Every one of the @nr first pages of @e reads back as pattern @tag. */
static uint64_t verify_pages(struct epcg_encl *e, uint64_t nr, unsigned tag)
{
	static uint8_t want[PG], got[PG];
	struct epcg_encl_thread *t;

	ASSERT_OK(epcg_encl_enter(e, &t));
	for (uint64_t i = 0; i < nr; i++) {
		pattern(want, tag, i);
		ASSERT_OK(epcg_encl_access(e, t, i * PG, EPCG_ENCL_READ, got,
					   PG));
		ASSERT_MEMEQ(got, want, PG);
	}
	epcg_encl_exit(t);
	return nr * PG;
}

static void evict_all(struct fx *f, struct epcg_encl *e)
{
	for (int i = 0; i < 1000 && stats(e).resident; i++)
		epcg__sgx_cgroup_reclaim_pages(f->sgx, f->root, 4096);
	ASSERT_U64_EQ(stats(e).resident, 0);
}

/*
 * Let OpenSSL set up its global state (algorithm tables, the default
 * provider) before anything is armed: a failure there is OpenSSL's own
 * start-up, not one of our operations, and would stick for the process.
 */
static void warm_up(void)
{
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f);
	e = build(&f, 4 * PG, 2, 0);
	evict_all(&f, e);
	verify_pages(e, 2, 0);
	epcg_encl_release(e);
	fx_teardown(&f);
	fault_leak_check();
}

/* ---- the machine and its cgroups ---- */

TEST(machine_create)
{
	struct fault_tally t = { 0 };

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			struct fx f;
			int err;

			fault_arm(n, fault_modes[m]);
			err = fx_try_setup(&f);
			s = fault_disarm();
			fx_teardown(&f);
			fault_leak_check_round(n);
			/* -EIO: OpenSSL could not set up the paging key. */
			if (fault_round_done_or(&t, n, s, err, ENOMEM, EIO))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("exec + misc + sgx + cgroup", &t);
}

TEST(misc_cgroup_create)
{
	struct fault_tally t = { 0 };
	struct epcg_misc_cg *a, *b;
	struct epcg_encl *e;
	struct fx f;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			int err;

			fx_setup(&f);
			ASSERT_OK(epcg_misc_cg_create(f.cg, "a", &a));
			fault_arm(n, fault_modes[m]);
			err = epcg_misc_cg_create(a, "b", &b);
			s = fault_disarm();
			fx_check(&f);
			if (err) {
				/* Nothing was linked: the name is free. */
				ASSERT_OK(epcg_misc_cg_create(a, "b", &b));
			}
			/* It works: it is charged, its LRU pages out. */
			ASSERT_OK(epcg_misc_set_max(b, RES, 64 * PG));
			epcg_misc_task_attach(&f.task, b);
			e = build(&f, 32 * PG, 16, 6);
			ASSERT_U64_EQ(epcg_misc_usage(b, RES), 18 * PG);
			evict_all(&f, e);
			verify_pages(e, 16, 6);
			fx_check(&f);
			epcg_encl_release(e);
			epcg_misc_task_attach(&f.task, f.cg);
			ASSERT_OK(epcg_misc_cg_remove(b));
			ASSERT_OK(epcg_misc_cg_remove(a));
			fx_teardown(&f);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("misc cgroup create", &t);
}

TEST(misc_cgroup_remove_allocates_nothing)
{
	struct epcg_misc_cg *a;
	struct fault_shot s;
	struct fx f;

	warm_up();
	fx_setup(&f);
	ASSERT_OK(epcg_misc_set_capacity(f.m, EPCG_MISC_RES_SEV, 16));
	ASSERT_OK(epcg_misc_cg_create(f.cg, "a", &a));
	/* A charge holds a reference, as an EPC page does. */
	ASSERT_OK(epcg_misc_try_charge(EPCG_MISC_RES_SEV, a, 1, NULL));
	epcg_misc_cg_get(a);
	fault_arm(1, EPCG_FAULT_FROM);
	ASSERT_OK(epcg_misc_cg_remove(a)); /* dying: still charged */
	epcg_misc_uncharge(EPCG_MISC_RES_SEV, a, 1);
	epcg_misc_cg_put(a); /* the last reference frees it */
	s = fault_disarm();
	ASSERT_U64_EQ(s.calls, 0);
	fx_teardown(&f);
	fault_leak_check();
}

/* ---- the cgroup v2 tree ---- */

static int fake_lookup(pid_t pid, void *data)
{
	return pid >= 1 && pid <= 64 ? pid : -ESRCH;
}

static int fake_parent(pid_t pid, void *data)
{
	return pid >= 1 && pid <= 64 ? pid / 2 : -ESRCH;
}

static const struct epcg_cgroup_ops fake_ops = {
	.pid_lookup = fake_lookup,
	.pid_parent = fake_parent,
};

static const struct epcg_cgroup_cred root_cred = { 0, 0, 1 };

struct tree {
	struct fx f;
	struct epcg_cgroup_tree *t;
	struct epcg_cgroup *root;
};

static void tree_setup(struct tree *tr)
{
	fx_setup(&tr->f);
	ASSERT_OK(epcg_cgroup_tree_create(tr->f.m, &fake_ops, NULL, &root_cred,
					  &tr->t));
	ASSERT_OK(epcg_cgroup_lookup(tr->t, "/", &tr->root));
}

static void tree_teardown(struct tree *tr)
{
	epcg_cgroup_put(tr->root);
	epcg_cgroup_tree_destroy(tr->t);
	fx_teardown(&tr->f);
}

static int write_str(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
		     const char *s)
{
	return epcg_cgroup_file_write(cg, file, s, strlen(s), &root_cred);
}

/* What @file of @path shows equals @want. */
static void expect_show(struct tree *tr, const char *path,
			enum epcg_cgroup_file file, const char *want)
{
	struct epcg_cgroup *cg;
	size_t len;
	char *buf;

	ASSERT_OK(epcg_cgroup_lookup(tr->t, path, &cg));
	ASSERT_OK(epcg_cgroup_file_show(cg, file, &buf, &len));
	ASSERT_STREQ(buf, want);
	free(buf);
	epcg_cgroup_put(cg);
}

TEST(cgroup_mkdir_rmdir)
{
	struct fault_tally t = { 0 };
	struct epcg_cgroup *a;
	struct tree tr;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			int err;

			tree_setup(&tr);
			ASSERT_OK(write_str(tr.root,
					    EPCG_CGROUP_FILE_SUBTREE_CONTROL,
					    "+misc"));
			fault_arm(n, fault_modes[m]);
			err = epcg_cgroup_mkdir(tr.root, "a", &root_cred, &a);
			s = fault_disarm();
			fx_check(&tr.f);
			if (err) {
				ASSERT_ERR(epcg_cgroup_lookup(tr.t, "/a", &a),
					   ENOENT);
				ASSERT_OK(epcg_cgroup_mkdir(tr.root, "a",
							    &root_cred, &a));
			}
			expect_show(&tr, "/a", EPCG_CGROUP_FILE_MISC_MAX,
				    "sgx_epc max\n");
			/* rmdir may not fail for want of memory. */
			fault_arm(1, EPCG_FAULT_FROM);
			ASSERT_OK(epcg_cgroup_rmdir(a, &root_cred));
			ASSERT_U64_EQ(fault_disarm().calls, 0);
			epcg_cgroup_put(a);
			tree_teardown(&tr);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("cgroup mkdir (with misc state)", &t);
}

/*
 * Enabling misc in a cgroup with children creates a misc cgroup for each:
 * all or nothing.
 */
TEST(cgroup_enable_misc_with_children)
{
	static const char *const kids[] = { "/p/a", "/p/b", "/p/c", "/p/a/x" };
	struct fault_tally t = { 0 };
	struct epcg_cgroup *p, *c;
	struct tree tr;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			int err;

			tree_setup(&tr);
			ASSERT_OK(write_str(tr.root,
					    EPCG_CGROUP_FILE_SUBTREE_CONTROL,
					    "+misc"));
			ASSERT_OK(epcg_cgroup_mkdir(tr.root, "p", &root_cred,
						    &p));
			for (unsigned i = 0; i < 3; i++) {
				ASSERT_OK(epcg_cgroup_mkdir(p, kids[i] + 3,
							    &root_cred, &c));
				if (i == 0) {
					struct epcg_cgroup *x;

					ASSERT_OK(epcg_cgroup_mkdir(
						c, "x", &root_cred, &x));
					epcg_cgroup_put(x);
				}
				epcg_cgroup_put(c);
			}
			fault_arm(n, fault_modes[m]);
			err = write_str(p, EPCG_CGROUP_FILE_SUBTREE_CONTROL,
					"+misc");
			s = fault_disarm();
			fx_check(&tr.f);
			expect_show(&tr, "/p", EPCG_CGROUP_FILE_SUBTREE_CONTROL,
				    err ? "" : "misc\n");
			for (unsigned i = 0; i < 4; i++) {
				ASSERT_OK(
					epcg_cgroup_lookup(tr.t, kids[i], &c));
				ASSERT_EQ(epcg_cgroup_file_exists(
						  c, EPCG_CGROUP_FILE_MISC_MAX),
					  !err && i < 3);
				epcg_cgroup_put(c);
			}
			ASSERT_OK(write_str(p, EPCG_CGROUP_FILE_SUBTREE_CONTROL,
					    "-misc"));
			epcg_cgroup_put(p);
			tree_teardown(&tr);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("subtree_control +misc over 3 children", &t);
}

TEST(cgroup_procs_write)
{
	struct fault_tally t = { 0 };
	struct epcg_cgroup *a, *b;
	struct tree tr;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			int err;

			tree_setup(&tr);
			ASSERT_OK(epcg_cgroup_mkdir(tr.root, "a", &root_cred,
						    &a));
			ASSERT_OK(epcg_cgroup_mkdir(tr.root, "b", &root_cred,
						    &b));
			ASSERT_OK(write_str(a, EPCG_CGROUP_FILE_PROCS, "12"));
			fault_arm(n, fault_modes[m]);
			/* 12 moves; 13 is new to the registry. */
			err = write_str(b, EPCG_CGROUP_FILE_PROCS, "12");
			if (!err)
				err = write_str(b, EPCG_CGROUP_FILE_PROCS,
						"13");
			s = fault_disarm();
			/* A failed write moved nothing. */
			if (err && !s.calls)
				epcg_test_fail(__FILE__, __LINE__, "no calls");
			expect_show(&tr, "/a", EPCG_CGROUP_FILE_PROCS,
				    err == 0 || s.calls > 1 ? "" : "12\n");
			ASSERT_OK(write_str(b, EPCG_CGROUP_FILE_PROCS, "12"));
			ASSERT_OK(write_str(b, EPCG_CGROUP_FILE_PROCS, "13"));
			expect_show(&tr, "/b", EPCG_CGROUP_FILE_PROCS,
				    "12\n13\n");
			expect_show(&tr, "/a", EPCG_CGROUP_FILE_PROCS, "");
			expect_show(&tr, "/b", EPCG_CGROUP_FILE_EVENTS,
				    "populated 1\nfrozen 0\n");
			epcg_cgroup_put(a);
			epcg_cgroup_put(b);
			tree_teardown(&tr);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("cgroup.procs writes", &t);
}

TEST(cgroup_bind_tasks)
{
	struct epcg_task tasks[12];
	struct fault_tally t = { 0 };
	struct epcg_cgroup *a;
	struct tree tr;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			unsigned bound = 0;
			struct fault_shot s;
			int err = 0;

			tree_setup(&tr);
			ASSERT_OK(write_str(tr.root,
					    EPCG_CGROUP_FILE_SUBTREE_CONTROL,
					    "+misc"));
			ASSERT_OK(epcg_cgroup_mkdir(tr.root, "a", &root_cred,
						    &a));
			ASSERT_OK(write_str(a, EPCG_CGROUP_FILE_PROCS, "20"));
			fault_arm(n, fault_modes[m]);
			for (; bound < 12 && !err; bound++) {
				epcg_task_init(&tasks[bound], 20, -1);
				err = epcg_cgroup_proc_bind_task(tr.t, 20,
								 &tasks[bound]);
			}
			s = fault_disarm();
			bound -= err != 0;
			/* The bound ones follow the process; the rest not. */
			ASSERT_OK(write_str(tr.root, EPCG_CGROUP_FILE_PROCS,
					    "20"));
			for (unsigned i = 0; i < bound; i++) {
				struct epcg_misc_cg *mc = epcg_misc_task_get_cg(
					tr.f.m, &tasks[i]);

				ASSERT_TRUE(mc == tr.f.root);
				epcg_misc_cg_put(mc);
				epcg_cgroup_proc_unbind_task(tr.t, 20,
							     &tasks[i]);
				epcg_misc_task_attach(&tasks[i], NULL);
			}
			epcg_cgroup_put(a);
			tree_teardown(&tr);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("bind 12 tasks to a process", &t);
}

/* ---- enclaves ---- */

TEST(encl_create)
{
	struct fault_tally t = { 0 };
	struct epcg_encl *e;
	struct fx f;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			int err;

			fx_setup(&f);
			fault_arm(n, fault_modes[m]);
			err = epcg_encl_create(f.sgx, 16 * PG, &e);
			s = fault_disarm();
			fx_check(&f);
			if (err) {
				ASSERT_U64_EQ(epcg_misc_usage(f.cg, RES), 0);
			} else {
				uint8_t *src = source(4, 1);

				ASSERT_OK(epcg_encl_add_pages(
					e, 0, src, 4, EPCG_ENCL_PAGE_REG, RW,
					NULL));
				ASSERT_OK(epcg_encl_init(e, NULL));
				evict_all(&f, e);
				verify_pages(e, 4, 1);
				free(src);
				epcg_encl_release(e);
			}
			fx_teardown(&f);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("enclave create", &t);
}

/*
 * 1100 pages: three page-table chunks and three VA pages (one per 512
 * pages) are allocated on the way.  A failure leaves the pages before it
 * added, and the enclave takes the rest and works.
 */
TEST(encl_add_pages)
{
	const uint64_t nr = 1100;
	uint64_t verified = 0;
	struct fault_tally t = { 0 };
	uint8_t *src = source(nr, 2);
	struct epcg_encl *e;
	struct fx f;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			uint64_t added = 0, more = 0;
			struct fault_shot s;
			int err;

			fx_setup(&f);
			ASSERT_OK(epcg_encl_create(f.sgx, 2048 * PG, &e));
			fault_arm(n, fault_modes[m]);
			err = epcg_encl_add_pages(
				e, 0, src, nr, EPCG_ENCL_PAGE_REG, RW, &added);
			s = fault_disarm();
			fx_check(&f);
			ASSERT_U64_EQ(stats(e).pages, added);
			if (err) {
				ASSERT_CMP(added, <, nr);
				ASSERT_OK(epcg_encl_add_pages(
					e, added * PG, src + added * PG,
					nr - added, EPCG_ENCL_PAGE_REG, RW,
					&more));
			}
			ASSERT_U64_EQ(added + more, nr);
			ASSERT_OK(epcg_encl_init(e, NULL));
			evict_all(&f, e);
			verified += verify_pages(e, nr, 2);
			fx_check(&f);
			epcg_encl_release(e);
			fx_teardown(&f);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	free(src);
	fault_leak_check();
	fault_tally_note("add 1100 pages", &t);
	epcg_test_note("%" PRIu64 " bytes read back after evicting", verified);
}

TEST(encl_init)
{
	struct fault_tally t = { 0 };
	uint8_t *src = source(8, 7);
	struct epcg_encl *e;
	struct fx f;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			int err;

			fx_setup(&f);
			ASSERT_OK(epcg_encl_create(f.sgx, 16 * PG, &e));
			ASSERT_OK(epcg_encl_add_pages(
				e, 0, src, 8, EPCG_ENCL_PAGE_REG, RW, NULL));
			fault_arm(n, fault_modes[m]);
			err = epcg_encl_init(e, NULL);
			s = fault_disarm();
			fx_check(&f);
			/* Not initialized: it can be, later. */
			if (err)
				ASSERT_OK(epcg_encl_init(e, NULL));
			evict_all(&f, e);
			verify_pages(e, 8, 7);
			epcg_encl_release(e);
			fx_teardown(&f);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	free(src);
	fault_leak_check();
	fault_tally_note("enclave init (EINIT)", &t);
}

TEST(encl_enter)
{
	struct fault_tally t = { 0 };
	struct epcg_encl_thread *th;
	struct epcg_encl *e;
	struct fx f;

	warm_up();
	fx_setup(&f);
	e = build(&f, 16 * PG, 4, 3);
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			int err;

			fault_arm(n, fault_modes[m]);
			err = epcg_encl_enter(e, &th);
			s = fault_disarm();
			if (!err)
				epcg_encl_exit(th);
			if (fault_round_done(&t, n, s, err, ENOMEM))
				break;
		}
	}
	verify_pages(e, 4, 3);
	epcg_encl_release(e);
	fx_teardown(&f);
	fault_leak_check();
	fault_leak_check();
	fault_tally_note("enclave enter", &t);
}

/*
 * The paths that run when EPC is short make no host allocation, so no
 * host shortage can fail them: a fault on an evicted page (the SECS
 * first), a reclaim batch, ksgxd's and the cgroups' async reclaim, and
 * release.
 */
TEST(fault_reclaim_release_allocate_nothing)
{
	struct epcg_encl_thread *th;
	struct epcg_encl *e;
	uint8_t buf[PG];
	struct fault_shot s;
	struct fx f;

	warm_up();
	fx_setup(&f);
	e = build(&f, 64 * PG, 40, 4);
	ASSERT_OK(epcg_encl_enter(e, &th));
	fault_arm(1, EPCG_FAULT_FROM);
	evict_all(&f, e);
	s = fault_disarm();
	ASSERT_U64_EQ(s.calls, 0);
	ASSERT_U64_EQ(stats(e).secs_resident, 0);

	fault_arm(1, EPCG_FAULT_FROM);
	for (uint64_t i = 0; i < 40; i++) {
		uint8_t want[PG];

		pattern(want, 4, i);
		ASSERT_OK(epcg_encl_access(e, th, i * PG, EPCG_ENCL_READ, buf,
					   PG));
		ASSERT_MEMEQ(buf, want, PG);
	}
	s = fault_disarm();
	ASSERT_U64_EQ(s.calls, 0);
	ASSERT_U64_EQ(stats(e).faults, 40);

	/*
	 * At a limit: the access retries while async reclaim makes room.  The
	 * limit leaves more reclaimable pages than one 16-page batch can hold
	 * isolated, so the subtree never looks empty to a retrying fault
	 * (which would be a correct SIGBUS, as in the kernel, but not what
	 * this test is about).
	 */
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, 34 * PG));
	evict_all(&f, e);
	fault_arm(1, EPCG_FAULT_FROM);
	for (uint64_t i = 0; i < 40; i++)
		ASSERT_OK(epcg_encl_access(e, th, i * PG, EPCG_ENCL_READ, buf,
					   PG));
	epcg_exec_flush(f.ex);
	s = fault_disarm();
	ASSERT_U64_EQ(s.calls, 0);
	fx_check(&f);
	epcg_encl_exit(th);

	fault_arm(1, EPCG_FAULT_FROM);
	epcg_encl_release(e);
	s = fault_disarm();
	ASSERT_U64_EQ(s.calls, 0);
	fx_teardown(&f);
	fault_leak_check();
}

/*
 * The first touch of a page in an unbacked part of an SGX2 enclave adds
 * it (EAUG), which may need a page-table chunk and a VA page.
 */
TEST(encl_eaug_on_first_touch)
{
	struct fault_tally t = { 0 };
	struct epcg_encl_thread *th;
	struct epcg_encl *e;
	uint8_t buf[PG];
	struct fx f;

	warm_up();
	for (unsigned m = 0; m < 2; m++) {
		for (uint64_t n = 1;; n++) {
			struct fault_shot s;
			int err;

			fx_setup(&f);
			e = build(&f, 2048 * PG, 511, 5);
			ASSERT_OK(epcg_encl_enter(e, &th));
			memset(buf, 0xa5, sizeof(buf));
			fault_arm(n, fault_modes[m]);
			err = epcg_encl_access(e, th, 1024 * PG,
					       EPCG_ENCL_WRITE, buf, PG);
			s = fault_disarm();
			fx_check(&f);
			/* A host shortage on a fault is SIGBUS, as in Linux. */
			ASSERT_EQ(epcg_encl_faulted(e), err != 0);
			if (!err) {
				uint8_t got[PG];

				ASSERT_OK(epcg_encl_access(e, th, 1024 * PG,
							   EPCG_ENCL_READ, got,
							   PG));
				ASSERT_MEMEQ(got, buf, PG);
			}
			epcg_encl_exit(th);
			epcg_encl_release(e);
			fx_teardown(&f);
			fault_leak_check_round(n);
			if (fault_round_done(&t, n, s, err, EFAULT))
				break;
		}
	}
	fault_leak_check();
	fault_tally_note("EAUG on first touch", &t);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(machine_create),
	TEST_ENTRY(misc_cgroup_create),
	TEST_ENTRY(misc_cgroup_remove_allocates_nothing),
	TEST_ENTRY(cgroup_mkdir_rmdir),
	TEST_ENTRY(cgroup_enable_misc_with_children),
	TEST_ENTRY(cgroup_procs_write),
	TEST_ENTRY(cgroup_bind_tasks),
	TEST_ENTRY(encl_create),
	TEST_ENTRY_TIMEOUT(encl_add_pages, 300),
	TEST_ENTRY(encl_init),
	TEST_ENTRY(encl_enter),
	TEST_ENTRY(fault_reclaim_release_allocate_nothing),
	TEST_ENTRY(encl_eaug_on_first_touch),
};

TEST_MAIN(tests)
