// SPDX-License-Identifier: MIT
/*
 * Unit tests of the EPC cgroup: one test per checkable behaviour of the
 * v17 series that concerns the library (reference epc-cgroup-series.md,
 * section 7), named bNN_ after it; the reclaim-walk behaviours (21 to 23,
 * 26, 29, 31) are in test-reclaim.c.  Pages have fake owners (sgx-fake.h)
 * so LRUs fill deterministically without enclaves.  Where the enclave
 * layer turns a library result into a user-visible one (SIGBUS, EAGAIN,
 * EFAULT), the test checks the library result that mapping starts from.
 * Async work is made deterministic by flushing the worker pool, or by
 * running a work function directly on the test thread.  Every test ends
 * with the invariant check.
 */
#include "exec/exec-internal.h"
#include "sgx-fake.h"

#define NOREC EPCG_EPC_NO_RECLAIM
#define REC EPCG_EPC_RECLAIM

static void show(struct epcg_misc_cg *cg, enum epcg_misc_file file, char *buf)
{
	ASSERT_OK(epcg_misc_file_show(cg, file, buf, EPCG_MISC_SHOW_BUFSZ));
}

/* Run @cg's async reclaim work on this thread, then its deferred put. */
static void run_work(struct sfx *f, struct epcg_misc_cg *cg)
{
	struct epcg_work *w = &scg(cg)->reclaim_work;

	w->fn(w);
	epcg_exec_flush(f->ex);
}

TEST(b01_capacity_is_sum_of_sections)
{
	struct epcg_epc_section_spec secs[2] = { { 64 * PG, 0 },
						 { 192 * PG, 1 } };
	struct epcg_sgx_config cfg = { secs, 2, EPCG_SGX_POLICY_V17 };
	char buf[EPCG_MISC_SHOW_BUFSZ];
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_sgx_create(m, ex, &cfg, &sgx));
	show(epcg_misc_root(m), EPCG_MISC_FILE_CAPACITY, buf);
	ASSERT_STREQ(buf, "sgx_epc 1048576\n");
	ASSERT_U64_EQ(epcg_epc_nr_pages(epcg_sgx_epc(sgx)), 256);
	epcg_sgx_destroy(sgx);
	epcg_misc_destroy(m);
	epcg_exec_destroy(ex);
}

TEST(b02_failed_init_hides_sgx_epc)
{
	struct epcg_epc_section_spec sec = { 64 * PG, 0 };
	struct epcg_sgx_config bad = { &sec, 0, EPCG_SGX_POLICY_V17 };
	struct epcg_sgx_config good = { &sec, 1, EPCG_SGX_POLICY_V17 };
	char buf[EPCG_MISC_SHOW_BUFSZ];
	struct epcg_misc_cg *cg;
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx = NULL;

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_ERR(epcg_sgx_create(m, ex, &bad, &sgx), EINVAL);
	/* A machine cannot come after cgroups: init fails, capacity 0. */
	ASSERT_OK(epcg_misc_cg_create(epcg_misc_root(m), "early", &cg));
	ASSERT_ERR(epcg_sgx_create(m, ex, &good, &sgx), EBUSY);
	ASSERT_NULL(sgx);
	ASSERT_U64_EQ(epcg_misc_capacity(m, RES), 0);

	show(epcg_misc_root(m), EPCG_MISC_FILE_CAPACITY, buf);
	ASSERT_STREQ(buf, "");
	show(cg, EPCG_MISC_FILE_MAX, buf);
	ASSERT_STREQ(buf, "");
	show(cg, EPCG_MISC_FILE_CURRENT, buf);
	ASSERT_STREQ(buf, "");
	ASSERT_ERR(epcg_misc_file_write(cg, EPCG_MISC_FILE_MAX, "sgx_epc 4096",
					12),
		   EINVAL);
	ASSERT_OK(epcg_misc_cg_remove(cg));
	epcg_misc_destroy(m);
	epcg_exec_destroy(ex);
}

TEST(b03_new_cgroup_shows_max_and_zero)
{
	char buf[EPCG_MISC_SHOW_BUFSZ];
	struct epcg_misc_cg *cg;
	struct sfx f;

	sfx_setup(&f, 256);
	cg = mkcg(&f, f.root, "c");
	show(cg, EPCG_MISC_FILE_MAX, buf);
	ASSERT_STREQ(buf, "sgx_epc max\n");
	show(cg, EPCG_MISC_FILE_CURRENT, buf);
	ASSERT_STREQ(buf, "sgx_epc 0\n");
	sfx_check(&f);
	sfx_teardown(&f);
}

TEST(b04_limit_rounds_down_to_whole_pages)
{
	struct fake_page *fps[2], *fp;
	struct epcg_misc_cg *cg;
	struct sfx f;

	sfx_setup(&f, 256);
	cg = mkcg(&f, f.root, "c");
	ASSERT_OK(epcg_misc_set_max(cg, RES, 10000));
	fake_fill(&f, cg, FAKE_UNRECL, 2, fps);
	ASSERT_U64_EQ(epcg_misc_usage(cg, RES), 8192);
	ASSERT_ERR(fake_alloc(&f, cg, FAKE_UNRECL, NOREC, &fp), ENOMEM);
	ASSERT_ERR(fake_alloc(&f, cg, FAKE_UNRECL, REC, &fp), ENOMEM);
	ASSERT_U64_EQ(epcg_misc_usage(cg, RES), 8192);
	sfx_check(&f);
	fake_release_all(&f, fps, 2);
	sfx_teardown(&f);
}

TEST(b05_charge_raises_every_ancestor)
{
	struct epcg_misc_cg *c, *d;
	struct fake_page *fp;
	struct sfx f;

	sfx_setup(&f, 256);
	c = mkcg(&f, f.root, "C");
	d = mkcg(&f, c, "D");
	ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &fp));
	ASSERT_U64_EQ(epcg_misc_usage(d, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(c, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(f.root, RES), PG);
	ASSERT_TRUE(epcg_epc_page_cg(fp->page) == d);
	sfx_check(&f);
	fake_release(&f, fp);
	ASSERT_U64_EQ(epcg_misc_usage(f.root, RES), 0);
	sfx_teardown(&f);
}

TEST(b06_free_after_migration_uncharges_old_chain)
{
	struct epcg_misc_cg *c, *d, *e;
	struct fake_page *fp;
	struct sfx f;

	sfx_setup(&f, 256);
	c = mkcg(&f, f.root, "C");
	d = mkcg(&f, c, "D");
	e = mkcg(&f, f.root, "E");
	ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &fp));
	epcg_misc_task_attach(&f.task, e);
	fake_release(&f, fp);
	ASSERT_U64_EQ(epcg_misc_usage(d, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(c, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(f.root, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(e, RES), 0);
	ASSERT_U64_EQ(epcg_misc_peak(e, RES), 0);
	ASSERT_U64_EQ(epcg_misc_peak(d, RES), PG);
	sfx_check(&f);
	sfx_teardown(&f);
}

TEST(b07_refused_charge_counts_events_per_attempt)
{
	struct fake_page *fps[2], *fp;
	struct epcg_misc_cg *c, *d;
	struct sfx f;

	sfx_setup(&f, 256);
	c = mkcg(&f, f.root, "C");
	d = mkcg(&f, c, "D");
	set_max_pages(d, 2);
	fake_fill(&f, d, FAKE_REG, 2, fps);
	/* Young: the first reclaim round only ages them, so two refusals. */
	epcg_atomic_store_relaxed(&fps[0]->young, true);
	epcg_atomic_store_relaxed(&fps[1]->young, true);
	ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &fp));
	ASSERT_U64_EQ(epcg_misc_events_local(d, RES), 2);
	ASSERT_U64_EQ(epcg_misc_events(d, RES), 2);
	ASSERT_U64_EQ(epcg_misc_events(c, RES), 2);
	ASSERT_U64_EQ(epcg_misc_events_local(c, RES), 0);
	ASSERT_U64_EQ(epcg_misc_events(f.root, RES), 0);
	ASSERT_EQ(fake_resident(fps, 2), 0);
	sfx_check(&f);
	fake_release_all(&f, fps, 2);
	fake_release(&f, fp);
	sfx_teardown(&f);
}

TEST(b08_reclaiming_charge_evicts_own_subtree_and_succeeds)
{
	struct fake_page *fps[8], *others[8];
	struct epcg_misc_cg *d, *other;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	other = mkcg(&f, f.root, "other");
	set_max_pages(d, 8);
	fake_fill(&f, d, FAKE_REG, 8, fps);
	fake_fill(&f, other, FAKE_REG, 8, others);
	for (unsigned i = 0; i < 4; i++) {
		struct fake_page *fp;

		ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &fp));
		ASSERT_CMP(usage_pages(d), <=, 8);
		fake_release(&f, fp);
	}
	ASSERT_CMP(epcg_misc_peak(d, RES), <=, 8 * PG);
	ASSERT_U64_EQ(cg_ewb(d), 8);
	ASSERT_U64_EQ(cg_ewb(other), 0);
	ASSERT_EQ(fake_resident(others, 8), 8);
	sfx_check(&f);
	fake_release_all(&f, fps, 8);
	fake_release_all(&f, others, 8);
	sfx_teardown(&f);
}

TEST(b09_nothing_reclaimable_enomem_nothing_killed)
{
	struct fake_page *fps[4], *fp;
	struct epcg_sgx_stats st;
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	set_max_pages(d, 4);
	fake_fill(&f, d, FAKE_UNRECL, 4, fps);
	ASSERT_ERR(fake_alloc(&f, d, FAKE_REG, REC, &fp), ENOMEM);
	ASSERT_ERR(fake_alloc(&f, d, FAKE_UNRECL, REC, &fp), ENOMEM);
	ASSERT_EQ(fake_resident(fps, 4), 4);
	ASSERT_U64_EQ(usage_pages(d), 4);
	ASSERT_OK(epcg_sgx_cg_stats(d, &st));
	ASSERT_U64_EQ(st.enomem, 2);
	ASSERT_U64_EQ(st.reclaim_scans, 0);
	sfx_check(&f);
	fake_release_all(&f, fps, 4);
	sfx_teardown(&f);
}

TEST(b10_signal_restarts_unless_nothing_is_reclaimable)
{
	struct fake_page *rec[4], *unrec[4], *fp;
	struct epcg_misc_cg *a, *b;
	struct sfx f;

	sfx_setup(&f, 256);
	a = mkcg(&f, f.root, "A");
	b = mkcg(&f, f.root, "B");
	set_max_pages(a, 4);
	set_max_pages(b, 4);
	fake_fill(&f, a, FAKE_REG, 4, rec);
	fake_fill(&f, b, FAKE_UNRECL, 4, unrec);
	epcg_task_set_signal(&f.task, 1);
	ASSERT_ERR(fake_alloc(&f, a, FAKE_REG, REC, &fp), EPCG_ERESTARTSYS);
	/* Emptiness comes first: a hopeless charge is -ENOMEM, signal or not. */
	ASSERT_ERR(fake_alloc(&f, b, FAKE_REG, REC, &fp), ENOMEM);
	epcg_task_set_signal(&f.task, 0);
	ASSERT_EQ(fake_resident(rec, 4), 4);
	ASSERT_U64_EQ(usage_pages(a), 4);
	sfx_check(&f);
	fake_release_all(&f, rec, 4);
	fake_release_all(&f, unrec, 4);
	sfx_teardown(&f);
}

TEST(b11_fault_at_limit_queues_work_and_retry_succeeds)
{
	struct fake_page *fps[4], *fp;
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	set_max_pages(d, 4);
	fake_fill(&f, d, FAKE_REG, 4, fps);
	/* The fault does not reclaim: it returns at once, work queued. */
	ASSERT_ERR(fake_alloc(&f, d, FAKE_REG, NOREC, &fp), EBUSY);
	epcg_exec_flush(f.ex);
	/* The worker freed room (threshold L = 4 at or below 128 pages). */
	ASSERT_CMP(usage_pages(d), <, 4);
	ASSERT_U64_EQ(cg_ewb(d), 4);
	ASSERT_OK(fake_alloc(&f, d, FAKE_REG, NOREC, &fp));
	sfx_check(&f);
	fake_release(&f, fp);
	fake_release_all(&f, fps, 4);
	sfx_teardown(&f);
}

TEST(b12_fault_with_empty_lrus_is_sigbus)
{
	struct fake_page *fps[4], *fp;
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	set_max_pages(d, 4);
	fake_fill(&f, d, FAKE_UNRECL, 4, fps);
	/* -ENOMEM from a no-reclaim allocation is the fault path's SIGBUS. */
	ASSERT_ERR(fake_alloc(&f, d, FAKE_REG, NOREC, &fp), ENOMEM);
	epcg_exec_flush(f.ex);
	ASSERT_U64_EQ(cg_scans(d), 0);
	sfx_check(&f);
	fake_release_all(&f, fps, 4);
	sfx_teardown(&f);
}

TEST(b13_guest_fault_retries_or_sigbus)
{
	struct epcg_epc_page *gp[4], *extra;
	struct fake_page *host[2];
	struct epcg_sgx_stats st;
	struct epcg_misc_cg *g;
	struct sfx f;

	sfx_setup(&f, 256);
	g = mkcg(&f, f.root, "G");
	set_max_pages(g, 4);
	epcg_misc_task_attach(&f.task, g);
	ASSERT_OK(epcg_sgx_vepc_alloc(f.sgx, NULL, &gp[0]));
	ASSERT_OK(epcg_sgx_vepc_alloc(f.sgx, NULL, &gp[1]));
	fake_fill(&f, g, FAKE_REG, 2, host);
	ASSERT_U64_EQ(lru_len(g), 2); /* guest pages are on no LRU */

	/* Host pages reclaimable in G's subtree: retry, and it works. */
	ASSERT_ERR(epcg_sgx_vepc_alloc(f.sgx, NULL, &gp[2]), EBUSY);
	epcg_exec_flush(f.ex);
	ASSERT_EQ(fake_resident(host, 2), 0);
	ASSERT_OK(epcg_sgx_vepc_alloc(f.sgx, NULL, &gp[2]));
	ASSERT_OK(epcg_sgx_vepc_alloc(f.sgx, NULL, &gp[3]));

	/* Only guest pages: SIGBUS. */
	ASSERT_ERR(epcg_sgx_vepc_alloc(f.sgx, NULL, &extra), EFAULT);
	ASSERT_OK(epcg_sgx_cg_stats(g, &st));
	ASSERT_U64_EQ(st.sigbus, 1);
	epcg_sgx_stats(f.sgx, &st);
	ASSERT_U64_EQ(st.sigbus, 1);
	ASSERT_U64_EQ(usage_pages(g), 4);
	ASSERT_U64_EQ(lru_len(g), 0);
	sfx_check(&f);
	for (unsigned i = 0; i < 4; i++)
		epcg_sgx_vepc_free(f.sgx, gp[i]);
	fake_release_all(&f, host, 2);
	ASSERT_U64_EQ(usage_pages(g), 0);
	sfx_teardown(&f);
}

TEST(b14_edmm_reload_after_direct_reclaim)
{
	struct fake_page *rec[20], *unrec[4], *fp;
	struct epcg_misc_cg *a, *b;
	struct sfx f;

	sfx_setup(&f, 256);
	a = mkcg(&f, f.root, "A");
	b = mkcg(&f, f.root, "B");
	set_max_pages(a, 20);
	set_max_pages(b, 4);
	fake_fill(&f, a, FAKE_REG, 20, rec);
	fake_fill(&f, b, FAKE_UNRECL, 4, unrec);
	for (unsigned i = 0; i < 20; i++)
		epcg_atomic_store_relaxed(&rec[i]->young, true);

	/* Direct reclaim scans 16 young pages; the reload gets -EBUSY. */
	epcg_misc_task_attach(&f.task, a);
	epcg__sgx_reclaim_direct(f.sgx);
	ASSERT_U64_EQ(cg_scans(a), 16);
	ASSERT_EQ(fake_resident(rec, 20), 20);
	ASSERT_ERR(fake_alloc(&f, a, FAKE_REG, NOREC, &fp), EBUSY); /* EAGAIN */
	epcg_exec_flush(f.ex);
	ASSERT_OK(fake_alloc(&f, a, FAKE_REG, NOREC, &fp)); /* the retry */
	fake_release(&f, fp);

	/* Nothing reclaimable: -ENOMEM, which EDMM reports as EFAULT. */
	epcg_misc_task_attach(&f.task, b);
	epcg__sgx_reclaim_direct(f.sgx);
	ASSERT_ERR(fake_alloc(&f, b, FAKE_REG, NOREC, &fp), ENOMEM);
	sfx_check(&f);
	fake_release_all(&f, rec, 20);
	fake_release_all(&f, unrec, 4);
	sfx_teardown(&f);
}

/*
 * P (limit 20 pages) with children A (nothing reclaimable) and B (20
 * reclaimable pages): v17 reclaims only from A's subtree, so A fails.
 */
TEST(b15_sibling_pressure_v17_fails)
{
	struct epcg_misc_cg *p, *a, *b;
	struct fake_page *fps[20], *fp;
	struct sfx f;

	sfx_setup(&f, 256);
	p = mkcg(&f, f.root, "P");
	a = mkcg(&f, p, "A");
	b = mkcg(&f, p, "B");
	fake_fill(&f, b, FAKE_REG, 20, fps);
	set_max_pages(p, 20);
	ASSERT_ERR(fake_alloc(&f, a, FAKE_REG, REC, &fp), ENOMEM); /* ioctl */
	ASSERT_ERR(fake_alloc(&f, a, FAKE_REG, NOREC, &fp),
		   ENOMEM); /* SIGBUS */
	epcg_exec_flush(f.ex);
	ASSERT_EQ(fake_resident(fps, 20), 20);
	ASSERT_U64_EQ(cg_scans(b), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(p, RES), 2);
	sfx_check(&f);
	fake_release_all(&f, fps, 20);
	sfx_teardown(&f);
}

/* The same under the intent policy: reclaim reaches the sibling. */
TEST(b15_sibling_pressure_intent_reclaims_sibling)
{
	struct epcg_misc_cg *p, *a, *b;
	struct fake_page *fps[20], *fp1, *fp2;
	struct sfx f;

	sfx_setup_policy(&f, 256, EPCG_SGX_POLICY_INTENT);
	p = mkcg(&f, f.root, "P");
	a = mkcg(&f, p, "A");
	b = mkcg(&f, p, "B");
	fake_fill(&f, b, FAKE_REG, 20, fps);
	set_max_pages(p, 20);
	/* A fault queues P's work (the level that refused), then succeeds. */
	ASSERT_ERR(fake_alloc(&f, a, FAKE_REG, NOREC, &fp1), EBUSY);
	epcg_exec_flush(f.ex);
	ASSERT_CMP(fake_resident(fps, 20), <, 20);
	ASSERT_OK(fake_alloc(&f, a, FAKE_REG, NOREC, &fp1));
	fake_release(&f, fp1);
	fake_release_all(&f, fps, 20);

	/* An ioctl reclaims from P's subtree synchronously. */
	ASSERT_OK(epcg_misc_set_max(p, RES, EPCG_MISC_MAX));
	fake_fill(&f, b, FAKE_REG, 20, fps);
	set_max_pages(p, 20);
	ASSERT_OK(fake_alloc(&f, a, FAKE_REG, REC, &fp2));
	ASSERT_CMP(fake_resident(fps, 20), <, 20);
	ASSERT_CMP(usage_pages(p), <=, 20);
	sfx_check(&f);
	fake_release(&f, fp2);
	fake_release_all(&f, fps, 20);
	sfx_teardown(&f);
}

/*
 * P limit 20 pages, A and B 10 reclaimable pages each.  v17: an ioctl in
 * A evicts A's own pages; a fault in A is only retried, and A's worker,
 * comparing A's usage (10) with P's limit, does nothing.
 */
TEST(b16_shared_parent_v17_worker_idle)
{
	struct fake_page *pa[10], *pb[10], *fp;
	struct epcg_misc_cg *p, *a, *b;
	struct sfx f;

	sfx_setup(&f, 256);
	p = mkcg(&f, f.root, "P");
	a = mkcg(&f, p, "A");
	b = mkcg(&f, p, "B");
	fake_fill(&f, a, FAKE_REG, 10, pa);
	fake_fill(&f, b, FAKE_REG, 10, pb);
	set_max_pages(p, 20);

	ASSERT_ERR(fake_alloc(&f, a, FAKE_REG, NOREC, &fp), EBUSY);
	epcg_exec_flush(f.ex);
	ASSERT_EQ(fake_resident(pa, 10), 10);
	ASSERT_EQ(fake_resident(pb, 10), 10);
	ASSERT_ERR(fake_alloc(&f, a, FAKE_REG, NOREC, &fp), EBUSY);
	epcg_exec_flush(f.ex);

	ASSERT_OK(fake_alloc(&f, a, FAKE_REG, REC, &fp));
	ASSERT_CMP(fake_resident(pa, 10), <, 10);
	ASSERT_EQ(fake_resident(pb, 10), 10);
	sfx_check(&f);
	fake_release(&f, fp);
	fake_release_all(&f, pa, 10);
	fake_release_all(&f, pb, 10);
	sfx_teardown(&f);
}

/* The same under intent: the fault queues P's work, which makes room. */
TEST(b16_shared_parent_intent_worker_reclaims)
{
	struct fake_page *pa[10], *pb[10], *fp;
	struct epcg_misc_cg *p, *a, *b;
	struct sfx f;

	sfx_setup_policy(&f, 256, EPCG_SGX_POLICY_INTENT);
	p = mkcg(&f, f.root, "P");
	a = mkcg(&f, p, "A");
	b = mkcg(&f, p, "B");
	fake_fill(&f, a, FAKE_REG, 10, pa);
	fake_fill(&f, b, FAKE_REG, 10, pb);
	set_max_pages(p, 20);

	ASSERT_ERR(fake_alloc(&f, a, FAKE_REG, NOREC, &fp), EBUSY);
	epcg_exec_flush(f.ex);
	ASSERT_CMP(usage_pages(p), <, 20);
	ASSERT_CMP(fake_resident(pb, 10), <, 10); /* the sibling paid too */
	ASSERT_OK(fake_alloc(&f, a, FAKE_REG, NOREC, &fp));
	sfx_check(&f);
	fake_release(&f, fp);
	fake_release_all(&f, pa, 10);
	fake_release_all(&f, pb, 10);
	sfx_teardown(&f);
}

/* Fill @cg with @n reclaimable pages into a new array. */
static struct fake_page **fill_new(struct sfx *f, struct epcg_misc_cg *cg,
				   unsigned n)
{
	struct fake_page **fps = calloc(n, sizeof(*fps));

	ASSERT_NOT_NULL(fps);
	fake_fill(f, cg, FAKE_REG, n, fps);
	return fps;
}

static void release_new(struct sfx *f, struct fake_page **fps, unsigned n)
{
	fake_release_all(f, fps, n);
	free(fps);
}

TEST(b17_worker_keeps_32_pages_headroom_above_128)
{
	struct fake_page **fps;
	struct epcg_misc_cg *c;
	struct sfx f;

	sfx_setup(&f, 1200);
	c = mkcg(&f, f.root, "C");
	set_max_pages(c, 1000);
	fps = fill_new(&f, c, 1000);
	run_work(&f, c);
	/* Rounds of 16 while usage >= 968: 1000, 984, 968, then 952. */
	ASSERT_U64_EQ(usage_pages(c), 952);
	ASSERT_CMP(usage_pages(c), <=, 967);
	sfx_check(&f);
	release_new(&f, fps, 1000);
	sfx_teardown(&f);
}

TEST(b18_worker_keeps_no_headroom_at_or_below_128)
{
	struct fake_page **fps;
	struct epcg_misc_cg *c;
	struct sfx f;

	sfx_setup(&f, 256);
	c = mkcg(&f, f.root, "C");
	set_max_pages(c, 100);
	fps = fill_new(&f, c, 100);
	run_work(&f, c);
	ASSERT_U64_EQ(usage_pages(c), 84); /* one round: 100 >= 100 */
	sfx_check(&f);
	release_new(&f, fps, 100);
	sfx_teardown(&f);
}

TEST(b19_worker_threshold_uses_ancestor_limit)
{
	struct epcg_misc_cg *p, *c;
	struct fake_page **fps;
	struct sfx f;

	sfx_setup(&f, 512);
	p = mkcg(&f, f.root, "P");
	c = mkcg(&f, p, "C");
	set_max_pages(p, 300);
	fps = fill_new(&f, c, 300);
	run_work(&f, c);
	/* Threshold 300 - 32 = 268: 300, 284, 268, then 252. */
	ASSERT_U64_EQ(usage_pages(c), 252);
	sfx_check(&f);
	release_new(&f, fps, 300);
	sfx_teardown(&f);
}

/* Fill C (limit 200, threshold 168) to 180 in both modes. */
static void fill_into_headroom(struct sfx *f, struct epcg_misc_cg *c,
			       struct fake_page **fps)
{
	for (unsigned i = 0; i < 180; i++)
		ASSERT_OK(fake_alloc(f, c, FAKE_REG, i % 2 ? REC : NOREC,
				     &fps[i]));
	epcg_exec_flush(f->ex);
}

TEST(b20_v17_never_queues_after_successful_charge)
{
	struct fake_page *fps[180];
	struct epcg_misc_cg *c;
	struct sfx f;

	sfx_setup(&f, 512);
	c = mkcg(&f, f.root, "C");
	set_max_pages(c, 200);
	fill_into_headroom(&f, c, fps);
	ASSERT_U64_EQ(usage_pages(c), 180);
	ASSERT_U64_EQ(cg_scans(c), 0);
	sfx_check(&f);
	fake_release_all(&f, fps, 180);
	sfx_teardown(&f);
}

TEST(b20_intent_queues_after_charge_into_headroom)
{
	struct fake_page *fps[180];
	struct epcg_misc_cg *c;
	struct sfx f;

	sfx_setup_policy(&f, 512, EPCG_SGX_POLICY_INTENT);
	c = mkcg(&f, f.root, "C");
	set_max_pages(c, 200);
	fill_into_headroom(&f, c, fps);
	ASSERT_CMP(usage_pages(c), <, 168);
	ASSERT_CMP(cg_scans(c), >, 0);
	sfx_check(&f);
	fake_release_all(&f, fps, 180);
	sfx_teardown(&f);
}

/* Whether @cg is still in the tree under @root. */
static bool in_tree(struct sfx *f, struct epcg_misc_cg *cg)
{
	bool found = false;

	epcg_misc_tree_lock(f->m);
	for (struct epcg_misc_cg *pos = f->root; pos;
	     pos = epcg_misc_cg_next_pre(pos, f->root))
		found |= pos == cg;
	epcg_misc_tree_unlock(f->m);
	return found;
}

TEST(b24_removed_cgroup_with_pages_stays_until_last_page)
{
	struct fake_page *px[20], *pd[20], *py[20];
	struct epcg_misc_cg *p, *x, *d, *y;
	struct sfx f;

	sfx_setup(&f, 256);
	p = mkcg(&f, f.root, "P");
	x = mkcg(&f, p, "X");
	d = mkcg(&f, p, "D");
	y = mkcg(&f, p, "Y");
	fake_fill(&f, x, FAKE_REG, 20, px);
	fake_fill(&f, d, FAKE_REG, 20, pd);
	fake_fill(&f, y, FAKE_REG, 20, py);
	epcg_misc_task_attach(&f.task, NULL);
	rmcg(&f, d);
	ASSERT_TRUE(epcg_misc_cg_is_dying(d));
	ASSERT_U64_EQ(usage_pages(p), 60);
	ASSERT_U64_EQ(usage_pages(f.root), 60);

	/* One batch at X moves P's cursor to D. */
	ASSERT_CMP(epcg__sgx_cgroup_reclaim_pages(f.sgx, p, 1), ==, 16);
	ASSERT_TRUE(scg(p)->next_cg == d);
	/* Global reclaim still reaches the dying cgroup's pages. */
	while (fake_resident(pd, 20))
		epcg__sgx_cgroup_reclaim_pages(f.sgx, f.root, 16);
	/* Its last page is gone: freed, and P's cursor moved on to Y. */
	ASSERT_FALSE(in_tree(&f, d));
	ASSERT_TRUE(scg(p)->next_cg == y);
	ASSERT_U64_EQ(usage_pages(p),
		      fake_resident(px, 20) + fake_resident(py, 20));
	sfx_check(&f);
	fake_release_all(&f, px, 20);
	fake_release_all(&f, pd, 20);
	fake_release_all(&f, py, 20);
	sfx_teardown(&f);
}

/*
 * Take @n frames without charging anything, as a page being freed holds
 * its frame for a moment after its uncharge: the only state in which a
 * charge can pass while no frame is free, since the capacity is the
 * number of frames and every allocated frame is charged.
 */
static void withhold(struct sfx *f, struct epcg_epc_page **frames, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		frames[i] = epcg__epc_take_frame(epcg_sgx_epc(f->sgx), -1);
		ASSERT_NOT_NULL(frames[i]);
	}
}

static void give_back(struct epcg_epc_page **frames, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		epcg__epc_return_frame(frames[i]);
}

TEST(b25_epc_exhausted_global_reclaim_or_error)
{
	struct fake_page *pa[32], *pc[32], *more[16], *unrec[48], *fp;
	struct epcg_epc_page *held[32];
	struct epcg_misc_cg *a, *b, *c;
	struct sfx f;

	sfx_setup(&f, 96);
	epcg__sgx_ksgxd_stop(f.sgx); /* frames only freed on demand */
	a = mkcg(&f, f.root, "A");
	b = mkcg(&f, f.root, "B");
	c = mkcg(&f, f.root, "C");
	withhold(&f, held, 32);
	fake_fill(&f, a, FAKE_REG, 32, pa);
	fake_fill(&f, c, FAKE_REG, 32, pc);
	ASSERT_U64_EQ(epcg_epc_nr_free(epcg_sgx_epc(f.sgx)), 0);

	/* The charge passes, no frame: a fault gets -EBUSY, charge undone. */
	ASSERT_ERR(fake_alloc(&f, b, FAKE_UNRECL, NOREC, &fp), EBUSY);
	ASSERT_U64_EQ(usage_pages(b), 0);
	/* An ioctl runs a global round: 16 pages, the first busy cgroup. */
	ASSERT_OK(fake_alloc(&f, b, FAKE_UNRECL, REC, &more[0]));
	ASSERT_U64_EQ(cg_ewb(a), 16);
	ASSERT_U64_EQ(cg_ewb(c), 0);
	for (unsigned i = 1; i < 16; i++)
		ASSERT_OK(fake_alloc(&f, b, FAKE_UNRECL, NOREC, &more[i]));
	ASSERT_OK(fake_alloc(&f, b, FAKE_UNRECL, REC, &fp));
	ASSERT_U64_EQ(cg_ewb(c), 16); /* the next round, the next cgroup */
	fake_release(&f, fp);

	/* Nothing reclaimable anywhere: -ENOMEM, charge undone. */
	fake_release_all(&f, pa, 32);
	fake_release_all(&f, pc, 32);
	fake_fill(&f, a, FAKE_UNRECL, 48, unrec);
	ASSERT_U64_EQ(epcg_epc_nr_free(epcg_sgx_epc(f.sgx)), 0);
	ASSERT_ERR(fake_alloc(&f, b, FAKE_REG, REC, &fp), ENOMEM);
	ASSERT_ERR(fake_alloc(&f, b, FAKE_REG, NOREC, &fp), ENOMEM);
	ASSERT_U64_EQ(usage_pages(b), 16);
	ASSERT_U64_EQ(usage_pages(f.root), 64);
	give_back(held, 32);
	sfx_check(&f);
	fake_release_all(&f, unrec, 48);
	fake_release_all(&f, more, 16);
	sfx_teardown(&f);
}

/*
 * With every frame charged, the charge itself is refused, by the root's
 * capacity.  v17 then looks only at the charging cgroup's subtree: a
 * cgroup with nothing reclaimable gets -ENOMEM although the EPC is full
 * of other cgroups' reclaimable pages (ksgxd normally keeps 64 frames
 * free, so this shows when it cannot keep up).  Intent reclaims from the
 * refusing level, the root: global reclaim.
 */
TEST(b25_full_epc_refuses_at_the_root_capacity)
{
	struct fake_page *pa[64], *fp;
	struct epcg_misc_cg *a, *b;
	struct sfx f;

	for (int pol = 0; pol < EPCG_SGX_POLICY_NR; pol++) {
		sfx_setup_policy(&f, 64, pol);
		epcg__sgx_ksgxd_stop(f.sgx);
		a = mkcg(&f, f.root, "A");
		b = mkcg(&f, f.root, "B");
		fake_fill(&f, a, FAKE_REG, 64, pa);
		if (pol == EPCG_SGX_POLICY_V17) {
			ASSERT_ERR(fake_alloc(&f, b, FAKE_REG, REC, &fp),
				   ENOMEM);
			ASSERT_U64_EQ(cg_ewb(a), 0);
		} else {
			ASSERT_OK(fake_alloc(&f, b, FAKE_REG, REC, &fp));
			ASSERT_U64_EQ(cg_ewb(a), 16);
			fake_release(&f, fp);
		}
		ASSERT_U64_EQ(epcg_misc_events_local(f.root, RES), 1);
		sfx_check(&f);
		fake_release_all(&f, pa, 64);
		sfx_teardown(&f);
	}
}

TEST(b27_direct_reclaim_cgroup_then_global)
{
	struct fake_page *pc[180], *px[230];
	struct epcg_misc_cg *c, *x, *y;
	struct sfx f;

	sfx_setup(&f, 1024);
	c = mkcg(&f, f.root, "C");
	set_max_pages(c, 200);
	fake_fill(&f, c, FAKE_REG, 180, pc); /* at threshold 168 */
	epcg_misc_task_attach(&f.task, c);
	epcg__sgx_reclaim_direct(f.sgx);
	ASSERT_U64_EQ(cg_scans(c), 16);
	ASSERT_U64_EQ(usage_pages(c), 164);
	epcg__sgx_reclaim_direct(f.sgx); /* below threshold: nothing */
	ASSERT_U64_EQ(cg_scans(c), 16);
	fake_release_all(&f, pc, 180);
	sfx_teardown(&f);

	/* Fewer than 32 frames free: one global round as well. */
	sfx_setup(&f, 256);
	epcg__sgx_ksgxd_stop(f.sgx);
	x = mkcg(&f, f.root, "X");
	y = mkcg(&f, f.root, "Y");
	fake_fill(&f, x, FAKE_REG, 230, px);
	epcg_misc_task_attach(&f.task, y);
	epcg__sgx_reclaim_direct(f.sgx);
	ASSERT_U64_EQ(cg_scans(x), 16);
	ASSERT_U64_EQ(epcg_epc_nr_free(epcg_sgx_epc(f.sgx)), 26 + 16);
	sfx_check(&f);
	fake_release_all(&f, px, 230);
	sfx_teardown(&f);
}

TEST(b28_secs_and_va_charged_but_never_on_an_lru)
{
	struct fake_page *secs, *va, *reg[3];
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	ASSERT_OK(fake_alloc(&f, d, FAKE_UNRECL, REC, &secs));
	ASSERT_OK(fake_alloc(&f, d, FAKE_UNRECL, REC, &va));
	fake_fill(&f, d, FAKE_REG, 3, reg);
	ASSERT_U64_EQ(usage_pages(d), 5);
	ASSERT_U64_EQ(lru_len(d), 3);
	ASSERT_FALSE(epcg_atomic_load_relaxed(&secs->page->flags) &
		     EPCG_EPC_PAGE_RECLAIMER_TRACKED);
	/* Reclaim takes the REG pages and leaves SECS and VA alone. */
	epcg__sgx_cgroup_reclaim_pages(f.sgx, d, 16);
	ASSERT_EQ(fake_resident(reg, 3), 0);
	ASSERT_NOT_NULL(secs->page);
	ASSERT_NOT_NULL(va->page);
	ASSERT_U64_EQ(usage_pages(d), 2);
	sfx_check(&f);
	fake_release(&f, secs);
	fake_release(&f, va);
	fake_release_all(&f, reg, 3);
	sfx_teardown(&f);
}

TEST(b30_all_pages_freed_usage_zero)
{
	struct fake_page *pd[40], *pe[40];
	struct epcg_misc_cg *d, *e;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	e = mkcg(&f, d, "E");
	set_max_pages(d, 60);
	fake_fill(&f, d, FAKE_REG, 30, pd);
	fake_fill(&f, e, FAKE_REG, 30, pe);
	for (unsigned i = 30; i < 40; i++) {
		ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &pd[i]));
		ASSERT_OK(fake_alloc(&f, e, FAKE_REG, REC, &pe[i]));
	}
	epcg_exec_flush(f.ex);
	sfx_check(&f);
	fake_release_all(&f, pd, 40);
	fake_release_all(&f, pe, 40);
	ASSERT_U64_EQ(epcg_misc_usage(d, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(e, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(f.root, RES), 0);
	sfx_check(&f);
	sfx_teardown(&f);
}

TEST(b32_lowering_max_is_non_preemptive)
{
	struct fake_page *fps[10], *fp;
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	fake_fill(&f, d, FAKE_REG, 10, fps);
	set_max_pages(d, 4);
	epcg_exec_flush(f.ex);
	ASSERT_U64_EQ(usage_pages(d), 10);
	ASSERT_EQ(fake_resident(fps, 10), 10);
	ASSERT_U64_EQ(cg_scans(d), 0);
	/* The next allocation reclaims (ioctl) or is refused (fault). */
	ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &fp));
	ASSERT_CMP(usage_pages(d), <=, 4);
	sfx_check(&f);
	fake_release(&f, fp);
	fake_release_all(&f, fps, 10);
	sfx_teardown(&f);
}

TEST(b33_without_cgroups_the_root_lru_is_the_global_lru)
{
	struct fake_page *fps[20];
	struct sfx f;

	sfx_setup(&f, 256);
	fake_fill(&f, NULL, FAKE_REG, 20, fps);
	ASSERT_U64_EQ(lru_len(f.root), 20);
	ASSERT_U64_EQ(usage_pages(f.root), 20);
	ASSERT_CMP(epcg__sgx_cgroup_reclaim_pages(f.sgx, f.root, 16), ==, 16);
	ASSERT_U64_EQ(lru_len(f.root), 4);
	sfx_check(&f);
	fake_release_all(&f, fps, 20);
	sfx_teardown(&f);
}

/*
 * A task in a cgroup below which misc is not enabled resolves to the
 * nearest enabled ancestor (the cgroup layer's job, T5): its pages are
 * charged there and sit on that LRU, and no limit below applies.
 */
TEST(b34_pages_go_to_the_nearest_enabled_ancestor)
{
	struct epcg_misc_cg *p;
	struct fake_page *fps[5];
	struct sfx f;

	sfx_setup(&f, 256);
	p = mkcg(&f, f.root, "P");
	fake_fill(&f, p, FAKE_REG, 5, fps);
	ASSERT_U64_EQ(lru_len(p), 5);
	for (unsigned i = 0; i < 5; i++)
		ASSERT_TRUE(epcg_epc_page_cg(fps[i]->page) == p);
	sfx_check(&f);
	fake_release_all(&f, fps, 5);
	sfx_teardown(&f);
}

/*
 * Reclaim run by a charging task runs as that task (its backing memory is
 * charged to the caller's memcg); the async worker runs as no task.
 */
TEST(b35_reclaim_context_of_sync_and_async_reclaim)
{
	struct fake_page *fps[4], *fp;
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	set_max_pages(d, 4);
	fake_fill(&f, d, FAKE_REG, 4, fps);
	ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &fp));
	for (unsigned i = 0; i < 4; i++)
		ASSERT_TRUE(fps[i]->writer_task == &f.task);
	fake_release_all(&f, fps, 4);
	fake_release(&f, fp);

	fake_fill(&f, d, FAKE_REG, 4, fps);
	ASSERT_ERR(fake_alloc(&f, d, FAKE_REG, NOREC, &fp), EBUSY);
	epcg_exec_flush(f.ex);
	for (unsigned i = 0; i < 4; i++) {
		ASSERT_TRUE(epcg_atomic_load_relaxed(&fps[i]->wrote));
		ASSERT_NULL(fps[i]->writer_task);
	}
	sfx_check(&f);
	fake_release_all(&f, fps, 4);
	sfx_teardown(&f);
}

TEST(b36_fault_charges_the_faulting_task_not_the_creator)
{
	struct fake_page *secs, *page;
	struct epcg_task other;
	struct epcg_misc_cg *x, *y;
	struct sfx f;

	sfx_setup(&f, 256);
	x = mkcg(&f, f.root, "X");
	y = mkcg(&f, f.root, "Y");
	/* The creator, in Y, makes the enclave's SECS. */
	ASSERT_OK(fake_alloc(&f, y, FAKE_UNRECL, REC, &secs));
	/* Another task, in X, faults a page of that enclave in. */
	epcg_task_init(&other, 200, -1);
	epcg_misc_task_attach(&other, x);
	epcg_task_set_current(&other);
	page = calloc(1, sizeof(*page));
	ASSERT_NOT_NULL(page);
	page->sgx = f.sgx;
	ASSERT_OK(epcg__sgx_alloc_page(f.sgx, page, NOREC, &page->page));
	epcg__sgx_mark_reclaimable(f.sgx, page->page);
	epcg_task_set_current(&f.task);

	ASSERT_TRUE(epcg_epc_page_cg(page->page) == x);
	ASSERT_TRUE(epcg_epc_page_cg(secs->page) == y);
	ASSERT_U64_EQ(usage_pages(x), 1);
	ASSERT_U64_EQ(usage_pages(y), 1);
	ASSERT_U64_EQ(lru_len(x), 1);
	sfx_check(&f);
	fake_release(&f, page);
	fake_release(&f, secs);
	epcg_misc_task_attach(&other, NULL);
	sfx_teardown(&f);
}

/* Holds the only worker until released, so queued work stays pending. */
static epcg_atomic(int) blocker_go;
static void blocker_fn(struct epcg_work *w)
{
	while (!epcg_atomic_load_acquire(&blocker_go))
		sleep_ms(1);
}

TEST(b41_freeing_a_cgroup_cancels_its_pending_work_first)
{
	struct epcg_work blocker;
	struct epcg_misc_cg *d;
	struct epcg_work *w;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	epcg_atomic_store_relaxed(&blocker_go, 0);
	epcg_work_init(&blocker, blocker_fn);
	ASSERT_TRUE(epcg_exec_queue_work(f.ex, &blocker));
	w = &scg(d)->reclaim_work;
	ASSERT_TRUE(epcg_exec_queue_work(f.ex, w));
	ASSERT_TRUE(epcg_atomic_load_relaxed(&w->state) & EPCG_WORK_PENDING);
	/* rmdir drops the last reference: the free callback runs now. */
	rmcg(&f, d);
	/* Were the work still queued, it would run on freed memory here. */
	epcg_atomic_store_release(&blocker_go, 1);
	epcg_exec_flush(f.ex);
	sfx_check(&f);
	sfx_teardown(&f);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(b01_capacity_is_sum_of_sections),
	TEST_ENTRY(b02_failed_init_hides_sgx_epc),
	TEST_ENTRY(b03_new_cgroup_shows_max_and_zero),
	TEST_ENTRY(b04_limit_rounds_down_to_whole_pages),
	TEST_ENTRY(b05_charge_raises_every_ancestor),
	TEST_ENTRY(b06_free_after_migration_uncharges_old_chain),
	TEST_ENTRY(b07_refused_charge_counts_events_per_attempt),
	TEST_ENTRY(b08_reclaiming_charge_evicts_own_subtree_and_succeeds),
	TEST_ENTRY(b09_nothing_reclaimable_enomem_nothing_killed),
	TEST_ENTRY(b10_signal_restarts_unless_nothing_is_reclaimable),
	TEST_ENTRY(b11_fault_at_limit_queues_work_and_retry_succeeds),
	TEST_ENTRY(b12_fault_with_empty_lrus_is_sigbus),
	TEST_ENTRY(b13_guest_fault_retries_or_sigbus),
	TEST_ENTRY(b14_edmm_reload_after_direct_reclaim),
	TEST_ENTRY(b15_sibling_pressure_v17_fails),
	TEST_ENTRY(b15_sibling_pressure_intent_reclaims_sibling),
	TEST_ENTRY(b16_shared_parent_v17_worker_idle),
	TEST_ENTRY(b16_shared_parent_intent_worker_reclaims),
	TEST_ENTRY(b17_worker_keeps_32_pages_headroom_above_128),
	TEST_ENTRY(b18_worker_keeps_no_headroom_at_or_below_128),
	TEST_ENTRY(b19_worker_threshold_uses_ancestor_limit),
	TEST_ENTRY(b20_v17_never_queues_after_successful_charge),
	TEST_ENTRY(b20_intent_queues_after_charge_into_headroom),
	TEST_ENTRY(b24_removed_cgroup_with_pages_stays_until_last_page),
	TEST_ENTRY(b25_epc_exhausted_global_reclaim_or_error),
	TEST_ENTRY(b25_full_epc_refuses_at_the_root_capacity),
	TEST_ENTRY(b27_direct_reclaim_cgroup_then_global),
	TEST_ENTRY(b28_secs_and_va_charged_but_never_on_an_lru),
	TEST_ENTRY(b30_all_pages_freed_usage_zero),
	TEST_ENTRY(b32_lowering_max_is_non_preemptive),
	TEST_ENTRY(b33_without_cgroups_the_root_lru_is_the_global_lru),
	TEST_ENTRY(b34_pages_go_to_the_nearest_enabled_ancestor),
	TEST_ENTRY(b35_reclaim_context_of_sync_and_async_reclaim),
	TEST_ENTRY(b36_fault_charges_the_faulting_task_not_the_creator),
	TEST_ENTRY(b41_freeing_a_cgroup_cancels_its_pending_work_first),
};

TEST_MAIN(tests)
