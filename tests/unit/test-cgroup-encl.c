// SPDX-License-Identifier: MIT
/*
 * Behaviours of section 7 of the EPC cgroup notes with real enclaves, where
 * the fake page owners of test-sgx-cgroup.c stand in for something the
 * enclave layer decides: what an enclave keeps unreclaimable (SECS, Version
 * Array pages), how far building gets before -ENOMEM, what a fault does
 * while it waits (it retries, it never reclaims), which task a reload is
 * charged to, what a signal interrupts.  Test names start with the
 * behaviour's number.
 *
 * Everything runs in virtual time: the scenario is a simulated thread per
 * task, the reclaim workers and ksgxd are simulated threads too, so who
 * runs when (a fault retrying while the cgroup's work reclaims) is the
 * same on every machine, and a fault that would retry for ever is seen
 * as still running at a virtual deadline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>

#include "sgx/sgx-internal.h"
#include "test.h"
#include "util/atomic.h"

#define PG EPCG_PAGE_SIZE
#define RES EPCG_MISC_RES_SGX_EPC
#define RW (EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE)
#define MSEC 1000000ull

struct fx {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_misc_cg *root;
	struct epcg_misc_cg *cgs[8];
	unsigned nr_cgs;
};

static void fx_setup(struct fx *f, enum epcg_sgx_policy policy)
{
	struct epcg_epc_section_spec sec = { 1024 * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, policy };

	memset(f, 0, sizeof(*f));
	ASSERT_OK(epcg_exec_virt_create(2, &f->ex));
	ASSERT_OK(epcg_misc_create(&f->m));
	ASSERT_OK(epcg_sgx_create(f->m, f->ex, &cfg, &f->sgx));
	f->root = epcg_misc_root(f->m);
}

static struct epcg_misc_cg *mkcg(struct fx *f, struct epcg_misc_cg *parent,
				 const char *name, uint64_t max_pages)
{
	struct epcg_misc_cg *cg;

	ASSERT_OK(epcg_misc_cg_create(parent, name, &cg));
	if (max_pages)
		ASSERT_OK(epcg_misc_set_max(cg, RES, max_pages * PG));
	f->cgs[f->nr_cgs++] = cg;
	return cg;
}

static void fx_check(struct fx *f)
{
	char why[256];

	epcg_exec_flush(f->ex);
	if (epcg_sgx_check(f->sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "invariant: %s", why);
}

/* Every enclave released: E12, and the machine goes. */
static void fx_teardown(struct fx *f)
{
	struct epcg_epc *epc = epcg_sgx_epc(f->sgx);

	fx_check(f);
	ASSERT_U64_EQ(epcg_misc_usage(f->root, RES), 0);
	ASSERT_U64_EQ(epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc));
	while (f->nr_cgs) {
		struct epcg_misc_cg *cg = f->cgs[--f->nr_cgs];

		if (cg)
			ASSERT_OK(epcg_misc_cg_remove(cg));
	}
	epcg_exec_flush(f->ex);
	epcg_sgx_destroy(f->sgx);
	epcg_misc_destroy(f->m);
	epcg_exec_destroy(f->ex);
}

/* Run @fn(@arg) as @task from now until it returns or @for_ns passed. */
static int as_task(struct fx *f, struct epcg_task *task, void (*fn)(void *),
		   void *arg, uint64_t for_ns)
{
	uint64_t now = epcg_exec_now_ns(f->ex);

	ASSERT_OK(epcg_exec_spawn(f->ex, "task", now, fn, arg, task, NULL));
	return epcg_exec_run(f->ex,
			     for_ns == UINT64_MAX ? UINT64_MAX : now + for_ns);
}

static uint64_t usage_pages(struct epcg_misc_cg *cg)
{
	return epcg_misc_usage(cg, RES) / PG;
}

static uint64_t lru_len(struct epcg_misc_cg *cg)
{
	return epcg_atomic_load_relaxed(&epcg__sgx_cgroup_of(cg)->lru.nr);
}

static struct epcg_sgx_stats cg_stats(struct epcg_misc_cg *cg)
{
	struct epcg_sgx_stats st;

	ASSERT_OK(epcg_sgx_cg_stats(cg, &st));
	return st;
}

static struct epcg_encl_stats encl_stats(struct epcg_encl *e)
{
	struct epcg_encl_stats st;

	epcg_encl_stats(e, &st);
	return st;
}

/* ---- enclaves ---- */

/* Page @idx of an enclave tagged @tag, version @ver. */
static void pattern(uint8_t *buf, unsigned tag, uint64_t idx, unsigned ver)
{
	uint64_t x = ((uint64_t)tag << 40) ^ (idx << 16) ^ ver,
		 *w = (void *)buf;

	for (unsigned i = 0; i < PG / 8; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		w[i] = x;
	}
}

/*
 * What a scenario step works on: an enclave (tag, pages added, pages it
 * should get), the outcome of the last call and the pages it added.
 */
struct encl_ctx {
	struct fx *f;
	struct epcg_encl *e;
	unsigned tag;
	uint64_t size; /* ELRANGE, pages */
	uint64_t nr; /* pages to add */
	uint64_t idx; /* the page an access step reads */
	int err;
	uint64_t added;
};

/* ECREATE, then add @c->nr REG pages (a TCS first), then EINIT. */
static void build_fn(void *arg)
{
	struct encl_ctx *c = arg;
	uint8_t *src = aligned_alloc(PG, c->nr * PG);

	ASSERT_NOT_NULL(src);
	for (uint64_t i = 0; i < c->nr; i++)
		pattern(src + i * PG, c->tag, i, 0);
	c->added = 0;
	c->err = epcg_encl_create(c->f->sgx, c->size * PG, &c->e);
	if (c->err) {
		c->e = NULL;
	} else {
		c->err = epcg_encl_add_pages(c->e, 0, src, 1,
					     EPCG_ENCL_PAGE_TCS, 0, &c->added);
		if (!c->err && c->nr > 1) {
			uint64_t n;

			c->err = epcg_encl_add_pages(c->e, PG, src + PG,
						     c->nr - 1,
						     EPCG_ENCL_PAGE_REG, RW,
						     &n);
			c->added += n;
		}
		if (!c->err)
			ASSERT_OK(epcg_encl_init(c->e, NULL));
	}
	free(src);
}

/* Add @c->nr more REG pages after those added so far (not initialized). */
static void add_more_fn(void *arg)
{
	struct encl_ctx *c = arg;
	uint8_t *src = aligned_alloc(PG, c->nr * PG);
	uint64_t n = 0;

	ASSERT_NOT_NULL(src);
	for (uint64_t i = 0; i < c->nr; i++)
		pattern(src + i * PG, c->tag, c->added + i, 0);
	c->err = epcg_encl_add_pages(c->e, c->added * PG, src, c->nr,
				     EPCG_ENCL_PAGE_REG, RW, &n);
	c->added += n;
	free(src);
}

static void create_fn(void *arg)
{
	struct encl_ctx *c = arg;

	c->added = 0;
	c->err = epcg_encl_create(c->f->sgx, c->size * PG, &c->e);
	if (c->err)
		c->e = NULL;
}

/* Read page @c->idx and check it is version 0 of its pattern. */
static void read_fn(void *arg)
{
	static uint8_t got[PG] __attribute__((aligned(8)));
	static uint8_t want[PG] __attribute__((aligned(8)));
	struct encl_ctx *c = arg;
	struct epcg_encl_thread *t;

	ASSERT_OK(epcg_encl_enter(c->e, &t));
	c->err =
		epcg_encl_access(c->e, t, c->idx * PG, EPCG_ENCL_READ, got, PG);
	epcg_encl_exit(t);
	if (c->err)
		return;
	if (c->idx < c->added)
		pattern(want, c->tag, c->idx, 0);
	else
		memset(want, 0, PG); /* augmented on this touch */
	ASSERT_MEMEQ(got, want, PG);
}

/* Reclaim until every page of @c's enclave is out, SECS too (H7). */
static void evict_fn(void *arg)
{
	struct encl_ctx *c = arg;

	for (int i = 0; i < 1000 && (encl_stats(c->e).resident ||
				     encl_stats(c->e).secs_resident);
	     i++)
		epcg__sgx_cgroup_reclaim_pages(c->f->sgx, c->f->root, 4096);
	ASSERT_U64_EQ(encl_stats(c->e).resident, 0);
	ASSERT_U64_EQ(encl_stats(c->e).secs_resident, 0);
	c->err = 0;
}

static void release_fn(void *arg)
{
	struct encl_ctx *c = arg;

	epcg_encl_release(c->e);
	c->e = NULL;
	c->err = 0;
}

/* A task attached to @cg. */
static void task_in(struct epcg_task *task, int pid, struct epcg_misc_cg *cg)
{
	epcg_task_init(task, pid, -1);
	epcg_misc_task_attach(task, cg);
}

static void run_ok(struct fx *f, struct epcg_task *task, void (*fn)(void *),
		   struct encl_ctx *c)
{
	ASSERT_OK(as_task(f, task, fn, c, UINT64_MAX));
	ASSERT_OK(c->err);
}

/*
 * A build at a limit evicts a batch at a time, so it may end below the
 * limit: read back @c's written-out pages from page 1 on until @cg holds
 * @pages.  Below the limit a reload evicts nothing.
 */
static void fill_to(struct fx *f, struct epcg_task *task, struct encl_ctx *c,
		    struct epcg_misc_cg *cg, uint64_t pages)
{
	for (c->idx = 1; c->idx < c->added && usage_pages(cg) < pages; c->idx++)
		run_ok(f, task, read_fn, c);
	ASSERT_U64_EQ(usage_pages(cg), pages);
}

/* ---- 5, 28: what an enclave is charged, and what is reclaimable ---- */

TEST(b05_b28_real_enclave_charges_pages_secs_and_va_up_the_tree)
{
	struct epcg_misc_cg *c, *d;
	struct encl_ctx e = { .tag = 1, .size = 1024, .nr = 600 };
	struct epcg_task task;
	struct fx f;

	fx_setup(&f, EPCG_SGX_POLICY_V17);
	e.f = &f;
	c = mkcg(&f, f.root, "C", 0);
	d = mkcg(&f, c, "D", 0);
	task_in(&task, 1, d);
	run_ok(&f, &task, build_fn, &e);
	/*
	 * 600 pages, the SECS, and a VA page at ECREATE plus one when the
	 * count (SECS included) reached 512: 603 pages, at D, C and the
	 * root; only the 600 are on an LRU, D's.
	 */
	ASSERT_U64_EQ(encl_stats(e.e).va_pages, 2);
	ASSERT_U64_EQ(usage_pages(d), 603);
	ASSERT_U64_EQ(usage_pages(c), 603);
	ASSERT_U64_EQ(usage_pages(f.root), 603);
	ASSERT_U64_EQ(lru_len(d), 600);
	ASSERT_U64_EQ(lru_len(c), 0);
	ASSERT_U64_EQ(lru_len(f.root), 0);
	/* Evicting everything leaves the VA pages: SECS goes last (29). */
	run_ok(&f, &task, evict_fn, &e);
	ASSERT_U64_EQ(usage_pages(d), 2);
	ASSERT_U64_EQ(lru_len(d), 0);
	run_ok(&f, &task, release_fn, &e);
	ASSERT_U64_EQ(usage_pages(d), 0);
	epcg_misc_task_attach(&task, NULL);
	fx_teardown(&f);
}

/* ---- 8, 11, 20: building waits for reclaim, faults retry ---- */

static void b08_b11(enum epcg_sgx_policy policy)
{
	struct encl_ctx e = { .tag = 2, .size = 256, .nr = 200 };
	struct epcg_sgx_stats before;
	uint64_t faults;
	struct epcg_misc_cg *d;
	struct epcg_task task;
	struct fx f;

	fx_setup(&f, policy);
	e.f = &f;
	d = mkcg(&f, f.root, "D", 40);
	task_in(&task, 1, d);
	/* Blocks at the limit, reclaims D's own pages, succeeds. */
	run_ok(&f, &task, build_fn, &e);
	ASSERT_U64_EQ(e.added, 200);
	ASSERT_U64_EQ(epcg_misc_peak(d, RES), 40 * PG); /* never above */
	ASSERT_CMP(epcg_misc_events_local(d, RES), >=, 1);
	ASSERT_CMP(cg_stats(d).ewb, >=, 200 - 38);
	if (policy == EPCG_SGX_POLICY_INTENT) {
		/*
		 * 20: the charge that reached the threshold (40: no headroom
		 * at or below 128) queued D's work, which reclaimed until
		 * below it; v17 never does, so there D stays full.
		 */
		ASSERT_CMP(usage_pages(d), <, 40);
	} else {
		fill_to(&f, &task, &e, d, 40);
	}
	/*
	 * Under v17, a fault at the limit does not reclaim: it queues D's
	 * work and retries until the work made room (a round of 16 pages).
	 * Under intent, room was made before.
	 */
	e.idx = 100;
	before = cg_stats(d);
	faults = encl_stats(e.e).faults;
	run_ok(&f, &task, read_fn, &e);
	if (policy == EPCG_SGX_POLICY_V17)
		ASSERT_CMP(cg_stats(d).reclaim_scans, >=,
			   before.reclaim_scans + 16);
	ASSERT_CMP(usage_pages(d), <=, 40);
	ASSERT_U64_EQ(epcg_misc_peak(d, RES), 40 * PG);
	ASSERT_U64_EQ(encl_stats(e.e).faults, faults + 1);
	ASSERT_FALSE(epcg_encl_faulted(e.e));
	run_ok(&f, &task, release_fn, &e);
	epcg_misc_task_attach(&task, NULL);
	fx_teardown(&f);
}

TEST(b08_b11_real_build_waits_and_fault_retries_v17)
{
	b08_b11(EPCG_SGX_POLICY_V17);
}

TEST(b08_b20_real_build_waits_and_intent_keeps_headroom)
{
	b08_b11(EPCG_SGX_POLICY_INTENT);
}

/* ---- 9, 10: nothing reclaimable, signals ---- */

TEST(b09_real_add_pages_enomem_reports_the_pages_added)
{
	struct encl_ctx e = { .tag = 3, .size = 2048, .nr = 1500 };
	struct epcg_misc_cg *d;
	struct epcg_task task;
	struct fx f;

	fx_setup(&f, EPCG_SGX_POLICY_V17);
	e.f = &f;
	d = mkcg(&f, f.root, "D", 4);
	task_in(&task, 1, d);
	/*
	 * SECS, VA, one page.  Each added page evicts the one before.  At
	 * counts (SECS included) 512 and 1024 a VA page comes first; the
	 * second of them fills the limit with SECS and VA pages, and the
	 * page it came for finds nothing to evict: 512 * (4 - 2) - 1 pages
	 * added (the TCS among them), as in the selftest's small case.  The
	 * VA page of the failed page is given back.
	 */
	ASSERT_OK(as_task(&f, &task, build_fn, &e, UINT64_MAX));
	ASSERT_EQ(e.err, -ENOMEM);
	ASSERT_U64_EQ(e.added, 1023);
	ASSERT_U64_EQ(encl_stats(e.e).pages, 1023);
	ASSERT_U64_EQ(encl_stats(e.e).va_pages, 2);
	ASSERT_U64_EQ(usage_pages(d), 3);
	ASSERT_U64_EQ(lru_len(d), 0);
	ASSERT_U64_EQ(cg_stats(d).enomem, 1);
	run_ok(&f, &task, release_fn, &e);
	epcg_misc_task_attach(&task, NULL);
	fx_teardown(&f);
}

TEST(b10_real_signal_interrupts_a_wait_but_not_enomem)
{
	struct encl_ctx e = { .tag = 4, .size = 64, .nr = 40 };
	struct encl_ctx g = { .tag = 5, .size = 64, .nr = 1 };
	struct epcg_misc_cg *d;
	struct epcg_task task;
	struct fx f;

	fx_setup(&f, EPCG_SGX_POLICY_V17);
	e.f = g.f = &f;
	d = mkcg(&f, f.root, "D", 32);
	task_in(&task, 1, d);
	run_ok(&f, &task, build_fn, &e);
	fill_to(&f, &task, &e, d, 32);
	ASSERT_CMP(encl_stats(e.e).resident, <, 40);

	/* Full, pages to reclaim, a signal: each wait gives up. */
	epcg_task_set_signal(&task, 1);
	ASSERT_OK(as_task(&f, &task, create_fn, &g, UINT64_MAX));
	ASSERT_EQ(g.err, -EINTR);
	ASSERT_NULL(g.e);
	/* The first page still written out: its fault must wait. */
	for (e.idx = 1; e.idx < 40;) {
		uint64_t faults = encl_stats(e.e).faults;

		ASSERT_OK(as_task(&f, &task, read_fn, &e, UINT64_MAX));
		if (encl_stats(e.e).faults != faults)
			break;
		ASSERT_OK(e.err); /* was resident */
		e.idx++;
	}
	ASSERT_EQ(e.err, -EINTR);
	ASSERT_FALSE(epcg_encl_faulted(e.e));
	ASSERT_U64_EQ(usage_pages(d), 32);

	/* Nothing reclaimable: -ENOMEM, and SIGBUS, signal or not. */
	epcg_task_set_signal(&task, 0);
	run_ok(&f, &task, evict_fn, &e);
	ASSERT_U64_EQ(usage_pages(d), 1); /* the VA page */
	ASSERT_OK(epcg_misc_set_max(d, RES, PG));
	epcg_task_set_signal(&task, 1);
	ASSERT_OK(as_task(&f, &task, create_fn, &g, UINT64_MAX));
	ASSERT_EQ(g.err, -ENOMEM);
	e.idx = 1;
	ASSERT_OK(as_task(&f, &task, read_fn, &e, UINT64_MAX));
	ASSERT_EQ(e.err, -EFAULT);
	ASSERT_TRUE(epcg_encl_faulted(e.e));
	epcg_task_set_signal(&task, 0);
	run_ok(&f, &task, release_fn, &e);
	epcg_misc_task_attach(&task, NULL);
	fx_teardown(&f);
}

/* ---- 15: sibling pressure (E13a) ---- */

/*
 * P (40 pages) holds A's new enclave (SECS and VA, nothing reclaimable)
 * and B's enclave, which filled the rest.  A then adds pages; and A's
 * other enclave, evicted before B came, is touched.
 */
static void b15(enum epcg_sgx_policy policy)
{
	struct encl_ctx a = { .tag = 6, .size = 64, .nr = 8 };
	struct encl_ctx a2 = { .tag = 7, .size = 64, .nr = 8 };
	struct encl_ctx b = { .tag = 8, .size = 256, .nr = 100 };
	struct epcg_misc_cg *p, *ca, *cb;
	struct epcg_task ta, tb;
	uint64_t b_ewb;
	struct fx f;

	fx_setup(&f, policy);
	a.f = a2.f = b.f = &f;
	p = mkcg(&f, f.root, "P", 40);
	ca = mkcg(&f, p, "A", 0);
	cb = mkcg(&f, p, "B", 0);
	task_in(&ta, 1, ca);
	task_in(&tb, 2, cb);
	run_ok(&f, &ta, build_fn, &a2);
	run_ok(&f, &ta, evict_fn, &a2); /* A keeps one VA page */
	run_ok(&f, &ta, create_fn, &a); /* SECS + VA */
	run_ok(&f, &tb, build_fn, &b); /* fills P with B's pages */
	fill_to(&f, &tb, &b, p, 40);
	ASSERT_U64_EQ(lru_len(ca), 0);
	ASSERT_U64_EQ(usage_pages(ca), 3);

	b_ewb = cg_stats(cb).ewb;
	a.nr = 8;
	ASSERT_OK(as_task(&f, &ta, add_more_fn, &a, UINT64_MAX));
	a2.idx = 3;
	ASSERT_OK(as_task(&f, &ta, read_fn, &a2, UINT64_MAX));
	if (policy == EPCG_SGX_POLICY_V17) {
		/* A's subtree has nothing to give: P's pages are B's. */
		ASSERT_EQ(a.err, -ENOMEM);
		ASSERT_U64_EQ(a.added, 0);
		ASSERT_EQ(a2.err, -EFAULT);
		ASSERT_TRUE(epcg_encl_faulted(a2.e));
		ASSERT_U64_EQ(cg_stats(cb).ewb, b_ewb);
		ASSERT_U64_EQ(cg_stats(ca).sigbus, 1);
	} else {
		/* P refused, so P's subtree is reclaimed: B's pages go. */
		ASSERT_OK(a.err);
		ASSERT_U64_EQ(a.added, 8);
		ASSERT_OK(a2.err);
		ASSERT_CMP(cg_stats(cb).ewb, >, b_ewb);
	}
	ASSERT_CMP(usage_pages(p), <=, 40);
	ASSERT_U64_EQ(epcg_misc_peak(p, RES), 40 * PG);
	run_ok(&f, &ta, release_fn, &a);
	run_ok(&f, &ta, release_fn, &a2);
	run_ok(&f, &tb, release_fn, &b);
	epcg_misc_task_attach(&ta, NULL);
	epcg_misc_task_attach(&tb, NULL);
	fx_teardown(&f);
}

TEST(b15_real_sibling_pressure_v17_enomem_and_sigbus)
{
	b15(EPCG_SGX_POLICY_V17);
}

TEST(b15_real_sibling_pressure_intent_reclaims_the_sibling)
{
	b15(EPCG_SGX_POLICY_INTENT);
}

/* ---- 16: a parent full of two children's pages ---- */

/*
 * P (40 pages, so no headroom: threshold 40) holds A's and B's enclaves,
 * 20 pages each, all reclaimable but A's page 0, evicted.  A touches it.
 */
static void b16(enum epcg_sgx_policy policy)
{
	struct encl_ctx a = { .tag = 9, .size = 32, .nr = 20 };
	struct encl_ctx b = { .tag = 10, .size = 32, .nr = 18 };
	struct epcg_misc_cg *p, *ca, *cb;
	struct epcg_task ta, tb;
	struct fx f;
	int ret;

	fx_setup(&f, policy);
	a.f = b.f = &f;
	p = mkcg(&f, f.root, "P", 40);
	ca = mkcg(&f, p, "A", 0);
	cb = mkcg(&f, p, "B", 0);
	task_in(&ta, 1, ca);
	task_in(&tb, 2, cb);
	run_ok(&f, &ta, build_fn, &a);
	run_ok(&f, &ta, evict_fn, &a); /* A: its VA page */
	run_ok(&f, &tb, build_fn, &b); /* B: 18 pages, SECS, VA */
	fill_to(&f, &ta, &a, p, 40); /* A: VA, SECS, pages 1 to 18 */
	ASSERT_U64_EQ(usage_pages(ca), 20);
	ASSERT_U64_EQ(usage_pages(cb), 20);

	a.idx = 0;
	ret = as_task(&f, &ta, read_fn, &a, 10 * MSEC);
	if (policy == EPCG_SGX_POLICY_V17) {
		/*
		 * A's work compares A's usage with P's limit, finds it below
		 * and does nothing; B's work is never queued.  The fault
		 * retries for as long as we let it: here 10 ms of virtual
		 * time, some 5000 retries.
		 */
		ASSERT_EQ(ret, -ETIMEDOUT);
		ASSERT_U64_EQ(usage_pages(p), 40);
		ASSERT_U64_EQ(cg_stats(cb).ewb, 0);
		/* Only a signal ends it, and the enclave lives on. */
		epcg_task_set_signal(&ta, 1);
		ASSERT_OK(epcg_exec_run(f.ex, UINT64_MAX));
		ASSERT_EQ(a.err, -EINTR);
		ASSERT_FALSE(epcg_encl_faulted(a.e));
		epcg_task_set_signal(&ta, 0);
	} else {
		/* P's work reclaims P's subtree, B's pages included. */
		ASSERT_OK(ret);
		ASSERT_OK(a.err);
		ASSERT_CMP(cg_stats(cb).ewb, >, 0);
	}
	ASSERT_U64_EQ(epcg_misc_peak(p, RES), 40 * PG);
	run_ok(&f, &ta, release_fn, &a);
	run_ok(&f, &tb, release_fn, &b);
	epcg_misc_task_attach(&ta, NULL);
	epcg_misc_task_attach(&tb, NULL);
	fx_teardown(&f);
}

TEST(b16_real_shared_parent_v17_fault_retries_until_a_signal)
{
	b16(EPCG_SGX_POLICY_V17);
}

TEST(b16_real_shared_parent_intent_fault_succeeds)
{
	b16(EPCG_SGX_POLICY_INTENT);
}

/* ---- 6, 24: migration, rmdir with pages ---- */

TEST(b06_b24_real_removed_cgroup_keeps_its_pages_until_release)
{
	struct encl_ctx e = { .tag = 11, .size = 128, .nr = 100 };
	struct encl_ctx g = { .tag = 12, .size = 128, .nr = 100 };
	struct epcg_misc_cg *c, *d;
	struct epcg_task task;
	struct fx f;

	fx_setup(&f, EPCG_SGX_POLICY_V17);
	e.f = g.f = &f;
	c = mkcg(&f, f.root, "C", 0);
	d = mkcg(&f, c, "D", 0);
	task_in(&task, 1, d);
	run_ok(&f, &task, build_fn, &e);
	ASSERT_U64_EQ(usage_pages(d), 102);
	/* The task moves to C and D is removed: D dies, still charged. */
	epcg_misc_task_attach(&task, c);
	epcg_misc_cg_get(d);
	ASSERT_OK(epcg_misc_cg_remove(d));
	ASSERT_TRUE(epcg_misc_cg_is_dying(d));
	ASSERT_U64_EQ(usage_pages(c), 102);
	/* C's limit: reclaim rooted at C takes D's pages too. */
	ASSERT_OK(epcg_misc_set_max(c, RES, 110 * PG));
	run_ok(&f, &task, build_fn, &g);
	ASSERT_CMP(cg_stats(d).ewb, >, 0);
	ASSERT_CMP(usage_pages(c), <=, 110);
	/* Faults of D's enclave now charge C (E1), not the dying D. */
	e.idx = 0;
	run_ok(&f, &task, evict_fn, &e);
	ASSERT_U64_EQ(usage_pages(d), 1); /* its VA page */
	run_ok(&f, &task, read_fn, &e);
	ASSERT_U64_EQ(usage_pages(d), 1);
	/* Release uncharges each page where it was charged (6). */
	run_ok(&f, &task, release_fn, &e);
	ASSERT_U64_EQ(usage_pages(d), 0);
	epcg_misc_cg_put(d); /* D is freed now */
	f.cgs[--f.nr_cgs] = NULL;
	run_ok(&f, &task, release_fn, &g);
	ASSERT_U64_EQ(usage_pages(c), 0);
	epcg_misc_task_attach(&task, NULL);
	fx_teardown(&f);
}

/* ---- 32: lowering a limit ---- */

TEST(b32_real_lowering_max_waits_for_the_next_allocation)
{
	struct encl_ctx e = { .tag = 13, .size = 128, .nr = 60 };
	struct epcg_encl_stats before;
	struct epcg_misc_cg *d;
	struct epcg_task task;
	struct fx f;

	fx_setup(&f, EPCG_SGX_POLICY_V17);
	e.f = &f;
	d = mkcg(&f, f.root, "D", 0);
	task_in(&task, 1, d);
	run_ok(&f, &task, build_fn, &e);
	ASSERT_U64_EQ(usage_pages(d), 62);
	before = encl_stats(e.e);
	ASSERT_OK(epcg_misc_set_max(d, RES, 10 * PG));
	/* Nothing happens to usage or to the enclave's pages... */
	for (e.idx = 0; e.idx < 60; e.idx++)
		run_ok(&f, &task, read_fn, &e);
	ASSERT_U64_EQ(encl_stats(e.e).faults, before.faults);
	ASSERT_U64_EQ(encl_stats(e.e).ewb, 0);
	ASSERT_U64_EQ(usage_pages(d), 62);
	/*
	 * ...until the next allocation, a page augmented on first touch:
	 * it waits until D's work has reclaimed below the new limit.
	 */
	e.idx = 100;
	run_ok(&f, &task, read_fn, &e);
	ASSERT_U64_EQ(encl_stats(e.e).eaug, 1);
	ASSERT_CMP(usage_pages(d), <=, 10);
	ASSERT_CMP(encl_stats(e.e).ewb, >=, 52);
	run_ok(&f, &task, release_fn, &e);
	epcg_misc_task_attach(&task, NULL);
	fx_teardown(&f);
}

/* ---- 36: the faulting task pays ---- */

TEST(b36_real_fault_by_a_task_elsewhere_charges_that_task)
{
	struct encl_ctx e = { .tag = 14, .size = 128, .nr = 50 };
	struct epcg_misc_cg *x, *y;
	struct epcg_task tx, ty;
	struct fx f;

	fx_setup(&f, EPCG_SGX_POLICY_V17);
	e.f = &f;
	x = mkcg(&f, f.root, "X", 3);
	y = mkcg(&f, f.root, "Y", 0);
	task_in(&ty, 1, y);
	task_in(&tx, 2, x);
	run_ok(&f, &ty, build_fn, &e); /* created in Y */
	run_ok(&f, &ty, evict_fn, &e);
	ASSERT_U64_EQ(usage_pages(y), 1); /* the VA page stays */
	/* X's task reads page 3: SECS and page 3 reloaded, charged to X. */
	e.idx = 3;
	run_ok(&f, &tx, read_fn, &e);
	ASSERT_U64_EQ(usage_pages(x), 2);
	ASSERT_U64_EQ(usage_pages(y), 1);
	ASSERT_U64_EQ(lru_len(x), 1);
	ASSERT_U64_EQ(cg_stats(x).faults, 1);
	/* A page augmented by X's task is X's too. */
	e.idx = 100;
	run_ok(&f, &tx, read_fn, &e);
	ASSERT_U64_EQ(usage_pages(x), 3);
	/*
	 * X is full although Y has no limit: X's next fault waits for X's
	 * work to evict X's pages, and X never goes above 3 pages.
	 */
	e.idx = 7;
	run_ok(&f, &tx, read_fn, &e);
	ASSERT_CMP(usage_pages(x), <=, 3);
	ASSERT_U64_EQ(epcg_misc_peak(x, RES), 3 * PG);
	ASSERT_CMP(cg_stats(x).ewb, >=, 1);
	ASSERT_U64_EQ(usage_pages(y), 1);
	/* Release uncharges both. */
	run_ok(&f, &ty, release_fn, &e);
	ASSERT_U64_EQ(usage_pages(x), 0);
	ASSERT_U64_EQ(usage_pages(y), 0);
	epcg_misc_task_attach(&tx, NULL);
	epcg_misc_task_attach(&ty, NULL);
	fx_teardown(&f);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(b05_b28_real_enclave_charges_pages_secs_and_va_up_the_tree),
	TEST_ENTRY(b08_b11_real_build_waits_and_fault_retries_v17),
	TEST_ENTRY(b08_b20_real_build_waits_and_intent_keeps_headroom),
	TEST_ENTRY(b09_real_add_pages_enomem_reports_the_pages_added),
	TEST_ENTRY(b10_real_signal_interrupts_a_wait_but_not_enomem),
	TEST_ENTRY(b15_real_sibling_pressure_v17_enomem_and_sigbus),
	TEST_ENTRY(b15_real_sibling_pressure_intent_reclaims_the_sibling),
	TEST_ENTRY(b16_real_shared_parent_v17_fault_retries_until_a_signal),
	TEST_ENTRY(b16_real_shared_parent_intent_fault_succeeds),
	TEST_ENTRY(b06_b24_real_removed_cgroup_keeps_its_pages_until_release),
	TEST_ENTRY(b32_real_lowering_max_waits_for_the_next_allocation),
	TEST_ENTRY(b36_real_fault_by_a_task_elsewhere_charges_that_task),
};

TEST_MAIN(tests)
