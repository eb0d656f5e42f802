// SPDX-License-Identifier: MIT
/*
 * Unit tests of the reclaimer: LRU membership, one batch (H7), the
 * round-robin subtree walk (E6), ksgxd (E9), dying cgroups and owners,
 * and the fairness figures recorded in docs/reclaim.md.  Tests named bNN_
 * check behaviour NN of section 7 of the reference notes on the series;
 * the others check the mechanics those behaviours rest on.  Pages have
 * fake owners (sgx-fake.h).
 */
#include "misc/misc-internal.h"
#include "sgx-fake.h"

#define NOREC EPCG_EPC_NO_RECLAIM
#define REC EPCG_EPC_RECLAIM

/* The cgroups whose scan counters went up, in @cgs order: which one. */
static int scanned_by(struct epcg_misc_cg **cgs, uint64_t *before, int n)
{
	int who = -1;

	for (int i = 0; i < n; i++) {
		uint64_t now = cg_scans(cgs[i]);

		if (now != before[i]) {
			ASSERT_EQ(who, -1); /* one batch, one cgroup */
			who = i;
		}
		before[i] = now;
	}
	return who;
}

/* The owners on @cg's LRU, head first; return how many. */
static unsigned lru_owners(struct epcg_misc_cg *cg, struct fake_page **out,
			   unsigned max)
{
	struct epcg_epc_page *page;
	unsigned n = 0;

	epcg_list_for_each_entry(page, &scg(cg)->lru.reclaimable, list) {
		ASSERT_CMP(n, <, max);
		out[n++] = epcg_epc_page_owner(page);
	}
	return n;
}

TEST(mark_and_unmark_move_pages_on_and_off_the_lru)
{
	struct epcg_misc_cg *p, *d;
	struct fake_page *fp;
	struct sfx f;

	sfx_setup(&f, 256);
	p = mkcg(&f, f.root, "P");
	d = mkcg(&f, p, "D");
	ASSERT_OK(fake_alloc(&f, d, FAKE_UNRECL, REC, &fp));
	ASSERT_TRUE(epcg__sgx_cgroup_lru_empty(f.root));
	epcg__sgx_mark_reclaimable(f.sgx, fp->page);
	ASSERT_U64_EQ(lru_len(d), 1);
	ASSERT_FALSE(epcg__sgx_cgroup_lru_empty(d));
	ASSERT_FALSE(epcg__sgx_cgroup_lru_empty(p));
	ASSERT_FALSE(epcg__sgx_cgroup_lru_empty(f.root));
	ASSERT_U64_EQ(epcg_atomic_load_relaxed(&scg(f.root)->nr_busy), 1);
	sfx_check(&f);
	ASSERT_OK(epcg__sgx_unmark_reclaimable(f.sgx, fp->page));
	ASSERT_OK(epcg__sgx_unmark_reclaimable(f.sgx, fp->page)); /* no-op */
	ASSERT_U64_EQ(lru_len(d), 0);
	ASSERT_TRUE(epcg__sgx_cgroup_lru_empty(f.root));
	sfx_check(&f);
	fake_release(&f, fp);
	sfx_teardown(&f);
}

/* Ops whose block step tries to unmark the page it is blocking. */
static int unmark_result = 1;
static struct epcg_sgx *unmark_sgx;
static void block_and_unmark(struct epcg_epc_page *page)
{
	unmark_result = epcg__sgx_unmark_reclaimable(unmark_sgx, page);
}

TEST(unmark_of_an_isolated_page_is_busy)
{
	struct epcg_reclaim_ops ops = fake_ops;
	struct epcg_misc_cg *d;
	struct fake_page *fp;
	struct sfx f;

	sfx_setup(&f, 256);
	ops.block = block_and_unmark;
	f.sgx->rops = &ops;
	unmark_sgx = f.sgx;
	d = mkcg(&f, f.root, "D");
	ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &fp));
	ASSERT_EQ(epcg__sgx_reclaim_lru(f.sgx, &scg(d)->lru), 1);
	ASSERT_ERR(unmark_result, EBUSY);
	ASSERT_NULL(fp->page); /* the batch kept it and wrote it back */
	sfx_check(&f);
	f.sgx->rops = &fake_ops;
	fake_release(&f, fp);
	sfx_teardown(&f);
}

TEST(b21_cursor_visits_preorder_and_wraps)
{
	struct epcg_misc_cg *cgs[4], *r, *a, *c, *b;
	struct fake_page *fps[4][64];
	static const int want[] = { 0, 1, 2, 3, 0, 1, 2, 3, 0 };
	uint64_t before[4] = { 0 };
	struct sfx f;

	sfx_setup(&f, 512);
	r = mkcg(&f, f.root, "R");
	a = mkcg(&f, r, "A");
	c = mkcg(&f, a, "C");
	b = mkcg(&f, r, "B");
	cgs[0] = r, cgs[1] = a, cgs[2] = c, cgs[3] = b;
	for (int i = 0; i < 4; i++)
		fake_fill(&f, cgs[i], FAKE_REG, 64, fps[i]);
	for (unsigned i = 0; i < EPCG_ARRAY_SIZE(want); i++) {
		ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, r, 1), 16);
		ASSERT_EQ(scanned_by(cgs, before, 4), want[i]);
	}
	/* A's own cursor is fresh: it starts at A, then C, then A. */
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, a, 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 4), 1);
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, a, 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 4), 2);
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, a, 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 4), 1);
	sfx_check(&f);
	for (int i = 0; i < 4; i++)
		fake_release_all(&f, fps[i], 64);
	sfx_teardown(&f);
}

/* Cgroups with nothing on their LRU are passed over, order unchanged. */
TEST(cursor_passes_idle_cgroups_in_order)
{
	struct epcg_misc_cg *cgs[6];
	struct fake_page *fps[3][48];
	static const int want[] = { 1, 3, 5, 1, 3, 5 };
	uint64_t before[6] = { 0 };
	char name[8];
	struct sfx f;

	sfx_setup(&f, 512);
	cgs[0] = mkcg(&f, f.root, "R");
	for (int i = 1; i < 6; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		cgs[i] = mkcg(&f, cgs[i < 3 ? 0 : 2], name);
	}
	for (int i = 0; i < 3; i++)
		fake_fill(&f, cgs[2 * i + 1], FAKE_REG, 48, fps[i]);
	for (unsigned i = 0; i < EPCG_ARRAY_SIZE(want); i++) {
		ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, cgs[0], 1), 16);
		ASSERT_EQ(scanned_by(cgs, before, 6), want[i]);
	}
	/* A cgroup that fills up is visited where its place is. */
	epcg_misc_task_attach(&f.task, cgs[2]);
	fake_fill(&f, cgs[2], FAKE_REG, 16, NULL);
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, cgs[0], 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 6), 1);
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, cgs[0], 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 6), 2);
	sfx_check(&f);
	for (int i = 0; i < 3; i++)
		fake_release_all(&f, fps[i], 48);
	sfx_teardown(&f);
}

/*
 * The plain v17 walk, as a model: the pre-order list of @top's subtree,
 * the first cgroup with pages at or after the cursor (wrapping), and the
 * cursor moved one step past it.  Return the index of the cgroup in
 * @all, or -1 if no LRU has pages.
 */
static int model_pick(struct sfx *f, struct epcg_misc_cg *top,
		      struct epcg_misc_cg **cursor, struct epcg_misc_cg **all,
		      int nr_all)
{
	struct epcg_misc_cg *order[128], *pick = NULL;
	int n = 0, at = 0;

	epcg_misc_tree_lock(f->m);
	for (struct epcg_misc_cg *p = top; p; p = epcg_misc_cg_next_pre(p, top))
		order[n++] = p;
	epcg_misc_tree_unlock(f->m);
	for (int i = 0; i < n; i++)
		if (order[i] == *cursor)
			at = i;
	for (int k = 0; k < n && !pick; k++) {
		int j = (at + k) % n;

		if (lru_len(order[j])) {
			pick = order[j];
			*cursor = order[(j + 1) % n];
		}
	}
	for (int i = 0; i < nr_all; i++)
		if (all[i] == pick)
			return i;
	return -1;
}

/*
 * The busy index gives exactly the plain walk's order: random trees grown
 * while reclaim runs, random pages, reclaim rooted anywhere.
 */
TEST(cursor_order_matches_the_plain_walk)
{
	struct epcg_misc_cg *all[100], *cursor[100];
	uint64_t rng = epcg_test_seed(), before[100] = { 0 };
	struct fake_page **pages;
	unsigned nr_pages = 0;
	int nr = 1;
	char name[16];
	struct sfx f;

	sfx_setup(&f, 8192);
	pages = calloc(8000, sizeof(*pages));
	ASSERT_NOT_NULL(pages);
	all[0] = f.root;
	cursor[0] = f.root;
	for (int step = 0; step < 3000; step++) {
		unsigned r = (unsigned)(epcg_test_rand(&rng) % 100);
		int top = (int)(epcg_test_rand(&rng) % nr), got, want;

		if (r < 5 && nr < 100) { /* a new cgroup somewhere */
			snprintf(name, sizeof(name), "c%d", nr);
			all[nr] =
				mkcg(&f, all[epcg_test_rand(&rng) % nr], name);
			cursor[nr] = all[nr];
			nr++;
			continue;
		}
		if (r < 40 && nr_pages + 16 < 8000) { /* pages somewhere */
			unsigned n = 1 + (unsigned)(epcg_test_rand(&rng) % 16);

			fake_fill(&f, all[epcg_test_rand(&rng) % nr], FAKE_REG,
				  n, pages + nr_pages);
			nr_pages += n;
			continue;
		}
		want = model_pick(&f, all[top], &cursor[top], all, nr);
		ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, all[top], 1) >
				  0,
			  want >= 0);
		got = scanned_by(all, before, nr);
		ASSERT_EQ(got, want);
		ASSERT_TRUE(scg(all[top])->next_cg == cursor[top]);
	}
	sfx_check(&f);
	fake_release_all(&f, pages, nr_pages);
	free(pages);
	sfx_teardown(&f);
}

TEST(b22_batch_takes_16_from_head_and_young_pages_to_tail)
{
	struct fake_page *fps[20], *order[20];
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	fake_fill(&f, d, FAKE_REG, 20, fps);
	for (int i = 0; i < 4; i++)
		epcg_atomic_store_relaxed(&fps[i]->young, true);
	ASSERT_EQ(epcg__sgx_reclaim_lru(f.sgx, &scg(d)->lru), 16);
	for (int i = 0; i < 20; i++) {
		bool reclaimed = i >= 4 && i < 16;

		ASSERT_EQ(fps[i]->page == NULL, reclaimed);
		ASSERT_EQ(epcg_atomic_load_relaxed(&fps[i]->blocked),
			  reclaimed);
	}
	/* What is left: the four never scanned, then the young ones. */
	ASSERT_EQ(lru_owners(d, order, 20), 8);
	for (int i = 0; i < 4; i++) {
		ASSERT_TRUE(order[i] == fps[16 + i]);
		ASSERT_TRUE(order[4 + i] == fps[i]);
	}
	ASSERT_U64_EQ(cg_scans(d), 16);
	ASSERT_U64_EQ(cg_ewb(d), 12);
	ASSERT_U64_EQ(usage_pages(d), 8);
	sfx_check(&f);
	fake_release_all(&f, fps, 20);
	sfx_teardown(&f);
}

TEST(failed_prepare_or_write_puts_the_page_back_intact)
{
	struct fake_page *fps[4], *order[4];
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	fake_fill(&f, d, FAKE_REG, 4, fps);
	epcg_atomic_store_relaxed(&fps[0]->prepare_err, -ENOMEM);
	epcg_atomic_store_relaxed(&fps[1]->write_err, -EIO);
	ASSERT_EQ(epcg__sgx_reclaim_lru(f.sgx, &scg(d)->lru), 4);
	ASSERT_NOT_NULL(fps[0]->page);
	ASSERT_NOT_NULL(fps[1]->page);
	ASSERT_NULL(fps[2]->page);
	ASSERT_NULL(fps[3]->page);
	ASSERT_EQ(epcg_atomic_load_relaxed(&fps[0]->blocked), 0);
	ASSERT_EQ(epcg_atomic_load_relaxed(&fps[1]->blocked), 1);
	ASSERT_EQ(lru_owners(d, order, 4), 2);
	ASSERT_TRUE(order[0] == fps[0] && order[1] == fps[1]);
	ASSERT_U64_EQ(usage_pages(d), 2);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(epcg_atomic_load_relaxed(&fps[i]->pins), 0);
	sfx_check(&f);
	fake_release_all(&f, fps, 4);
	sfx_teardown(&f);
}

TEST(b23_dying_descendant_scanned_unpinnable_skipped)
{
	struct epcg_misc_cg *cgs[3], *r, *x, *d;
	struct fake_page *px[128], *pd[64];
	uint64_t before[3] = { 0 };
	long refs;
	struct sfx f;

	sfx_setup(&f, 512);
	r = mkcg(&f, f.root, "R");
	x = mkcg(&f, r, "X");
	d = mkcg(&f, r, "D");
	cgs[0] = r, cgs[1] = x, cgs[2] = d;
	fake_fill(&f, x, FAKE_REG, 128, px);
	fake_fill(&f, d, FAKE_REG, 64, pd);
	epcg_misc_task_attach(&f.task, NULL);
	rmcg(&f, d);
	/* Dying but referenced by its pages: still scanned. */
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, r, 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 3), 1);
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, r, 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 3), 2);
	/*
	 * One that can no longer be pinned (its count reached zero, its
	 * free callback not yet done) is skipped.  Forge that state.
	 */
	refs = epcg_atomic_xchg_acq_rel(&d->refcount, 0);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, r, 1), 16);
		ASSERT_EQ(scanned_by(cgs, before, 3), 1);
	}
	ASSERT_TRUE(scg(r)->next_cg == r);
	epcg_atomic_store_release(&d->refcount, refs);
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, r, 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 3), 1);
	ASSERT_EQ(epcg__sgx_cgroup_reclaim_pages(f.sgx, r, 1), 16);
	ASSERT_EQ(scanned_by(cgs, before, 3), 2);
	sfx_check(&f);
	fake_release_all(&f, px, 128);
	fake_release_all(&f, pd, 64);
	sfx_teardown(&f);
}

/* Wait until ksgxd has stopped changing the free count. */
static uint64_t settle(struct sfx *f)
{
	uint64_t prev = UINT64_MAX, now;

	for (int i = 0; i < 500; i++) {
		now = epcg_epc_nr_free(epcg_sgx_epc(f->sgx));
		if (now == prev && now >= EPCG_SGX_NR_HIGH_PAGES)
			break;
		prev = now;
		sleep_ms(10);
	}
	return now;
}

TEST(b26_ksgxd_wakes_below_32_free_and_refills_to_64)
{
	struct fake_page *fps[240], *unrec[200];
	struct epcg_misc_cg *a;
	uint64_t nr_free;
	struct sfx f;

	sfx_setup(&f, 256);
	a = mkcg(&f, f.root, "A");
	for (unsigned i = 0; i < 240; i++) {
		int err;

		while ((err = fake_alloc(&f, a, FAKE_REG, NOREC, &fps[i])) ==
		       -EBUSY)
			sleep_ms(1);
		ASSERT_OK(err);
	}
	nr_free = settle(&f);
	ASSERT_CMP(nr_free, >=, EPCG_SGX_NR_HIGH_PAGES);
	ASSERT_CMP(nr_free, <, EPCG_SGX_NR_HIGH_PAGES + EPCG_SGX_NR_TO_SCAN);
	ASSERT_CMP(cg_ewb(a), >=, 48);
	sfx_check(&f);
	fake_release_all(&f, fps, 240);

	/* Nothing reclaimable: ksgxd leaves the EPC as it is. */
	fake_fill(&f, a, FAKE_UNRECL, 200, unrec);
	sleep_ms(50);
	ASSERT_U64_EQ(epcg_epc_nr_free(epcg_sgx_epc(f.sgx)), 56);
	fake_release_all(&f, unrec, 200);
	sfx_check(&f);
	sfx_teardown(&f);
}

TEST(b29_last_child_written_back_frees_the_secs)
{
	struct fake_page *secs, *kids[3];
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	ASSERT_OK(fake_alloc(&f, d, FAKE_UNRECL, REC, &secs));
	for (int i = 0; i < 3; i++) {
		kids[i] = calloc(1, sizeof(*kids[i]));
		ASSERT_NOT_NULL(kids[i]);
		kids[i]->sgx = f.sgx;
		kids[i]->secs = secs;
		epcg_atomic_fetch_add_relaxed(&secs->children, 1);
		ASSERT_OK(epcg__sgx_alloc_page(f.sgx, kids[i], REC,
					       &kids[i]->page));
		epcg__sgx_mark_reclaimable(f.sgx, kids[i]->page);
	}
	epcg_atomic_store_relaxed(&kids[2]->young, true);
	ASSERT_EQ(epcg__sgx_reclaim_lru(f.sgx, &scg(d)->lru), 3);
	ASSERT_NOT_NULL(secs->page); /* a child is still resident */
	ASSERT_U64_EQ(usage_pages(d), 2);
	ASSERT_EQ(epcg__sgx_reclaim_lru(f.sgx, &scg(d)->lru), 1);
	ASSERT_NULL(secs->page);
	ASSERT_U64_EQ(usage_pages(d), 0);
	sfx_check(&f);
	fake_release_all(&f, kids, 3);
	fake_release(&f, secs);
	sfx_teardown(&f);
}

TEST(b31_page_of_a_released_owner_is_dropped_not_reclaimed)
{
	struct fake_page *fps[4];
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	fake_fill(&f, d, FAKE_REG, 4, fps);
	fake_kill(fps[1]);
	fake_kill(fps[2]);
	ASSERT_EQ(epcg__sgx_reclaim_lru(f.sgx, &scg(d)->lru), 4);
	ASSERT_U64_EQ(lru_len(d), 0);
	ASSERT_U64_EQ(cg_ewb(d), 2);
	ASSERT_EQ(epcg_atomic_load_relaxed(&fps[1]->written), 0);
	ASSERT_NOT_NULL(fps[1]->page); /* left to the release path */
	ASSERT_FALSE(epcg_atomic_load_relaxed(&fps[1]->page->flags) &
		     EPCG_EPC_PAGE_RECLAIMER_TRACKED);
	ASSERT_U64_EQ(usage_pages(d), 2);
	sfx_check(&f);
	/* The release frees and uncharges them. */
	fake_release(&f, fps[1]);
	fake_release(&f, fps[2]);
	fps[1] = fps[2] = NULL;
	ASSERT_U64_EQ(usage_pages(d), 0);
	sfx_check(&f);
	fake_release_all(&f, fps, 4);
	sfx_teardown(&f);
}

/*
 * The async work of a dying cgroup reclaims its last pages: the work's
 * own pin is then the cgroup's last reference, dropped by the put work,
 * and the cgroup is freed (a free callback waiting for its own work would
 * hang here).
 */
TEST(work_of_a_dying_cgroup_frees_it_safely)
{
	struct fake_page *fps[8], *fp;
	struct epcg_misc_cg *d;
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	set_max_pages(d, 8);
	fake_fill(&f, d, FAKE_REG, 8, fps);
	ASSERT_ERR(fake_alloc(&f, d, FAKE_REG, NOREC, &fp), EBUSY);
	epcg_misc_task_attach(&f.task, NULL);
	rmcg(&f, d);
	epcg_exec_flush(f.ex);
	epcg_exec_flush(f.ex);
	ASSERT_EQ(fake_resident(fps, 8), 0);
	ASSERT_U64_EQ(usage_pages(f.root), 0);
	epcg_misc_tree_lock(f.m);
	ASSERT_NULL(epcg_misc_cg_next_pre(f.root, f.root));
	epcg_misc_tree_unlock(f.m);
	sfx_check(&f);
	fake_release_all(&f, fps, 8);
	sfx_teardown(&f);
}

TEST(check_reports_broken_accounting)
{
	struct epcg_misc_cg *d;
	struct fake_page *fp;
	char why[256];
	struct sfx f;

	sfx_setup(&f, 256);
	d = mkcg(&f, f.root, "D");
	ASSERT_OK(fake_alloc(&f, d, FAKE_REG, REC, &fp));
	sfx_check(&f);
	ASSERT_OK(epcg_misc_try_charge(RES, d, PG, NULL));
	ASSERT_ERR(epcg_sgx_check(f.sgx, why, sizeof(why)), EIO);
	ASSERT_TRUE(strstr(why, "usage") != NULL);
	epcg_misc_uncharge(RES, d, PG);
	epcg_atomic_fetch_and_acq_rel(&fp->page->flags,
				      ~EPCG_EPC_PAGE_RECLAIMER_TRACKED);
	ASSERT_ERR(epcg_sgx_check(f.sgx, why, sizeof(why)), EIO);
	epcg_atomic_fetch_or_acq_rel(&fp->page->flags,
				     EPCG_EPC_PAGE_RECLAIMER_TRACKED);
	sfx_check(&f);
	fake_release(&f, fp);
	sfx_teardown(&f);
}

TEST(policy_names_and_lookup)
{
	ASSERT_STREQ(epcg_sgx_policy_name(EPCG_SGX_POLICY_V17), "v17");
	ASSERT_STREQ(epcg_sgx_policy_name(EPCG_SGX_POLICY_INTENT), "intent");
	ASSERT_NULL(epcg_sgx_policy_name(EPCG_SGX_POLICY_NR));
	ASSERT_EQ(epcg_sgx_policy_lookup("v17"), EPCG_SGX_POLICY_V17);
	ASSERT_EQ(epcg_sgx_policy_lookup("intent"), EPCG_SGX_POLICY_INTENT);
	ASSERT_ERR(epcg_sgx_policy_lookup("V17"), EINVAL);
	ASSERT_ERR(epcg_sgx_policy_lookup(NULL), EINVAL);
}

/* ---- fairness (docs/reclaim.md) ---- */

/*
 * Siblings A and B under P: reclaim rooted at P (what P's async work and
 * intent's sync reclaim do) and global reclaim both split their batches
 * between the two by turns, whatever each holds.
 */
TEST(fairness_of_parent_and_global_reclaim)
{
	struct fake_page *pa[300], *pb[100];
	struct epcg_misc_cg *p, *a, *b;
	uint64_t ea, eb;
	struct sfx f;

	sfx_setup(&f, 1024);
	p = mkcg(&f, f.root, "P");
	a = mkcg(&f, p, "A");
	b = mkcg(&f, p, "B");
	fake_fill(&f, a, FAKE_REG, 300, pa);
	fake_fill(&f, b, FAKE_REG, 100, pb);
	for (int i = 0; i < 8; i++)
		epcg__sgx_cgroup_reclaim_pages(f.sgx, p, 16);
	ea = cg_ewb(a), eb = cg_ewb(b);
	epcg_test_note("parent reclaim, 128 pages, A holding 300, B 100: "
		       "A lost %" PRIu64 ", B lost %" PRIu64,
		       ea, eb);
	ASSERT_U64_EQ(ea, 64);
	ASSERT_U64_EQ(eb, 64);
	for (int i = 0; i < 8; i++)
		epcg__sgx_cgroup_reclaim_pages(f.sgx, f.root, 16);
	epcg_test_note("global reclaim, 8 rounds, A holding 236, B 36: "
		       "A lost %" PRIu64 ", B lost %" PRIu64,
		       cg_ewb(a) - ea, cg_ewb(b) - eb);
	/* B ran out in round 6, which then took a full batch from A too. */
	ASSERT_U64_EQ(cg_ewb(b) - eb, 36);
	ASSERT_U64_EQ(cg_ewb(a) - ea, 96);
	sfx_check(&f);
	fake_release_all(&f, pa, 300);
	fake_release_all(&f, pb, 100);
	sfx_teardown(&f);
}

/*
 * A fills P (limit 256 pages), then B asks for 256 pages with reclaiming
 * allocations.  v17 reclaims only B's own subtree: B gets nothing.
 * Intent reclaims P's subtree by turns: B gets in, A pays.
 */
TEST(fairness_of_siblings_overcommitting_a_parent)
{
	for (int pol = 0; pol < EPCG_SGX_POLICY_NR; pol++) {
		struct fake_page *pa[256], *pb[256];
		struct epcg_misc_cg *p, *a, *b;
		unsigned got = 0, enomem = 0;
		struct sfx f;

		sfx_setup_policy(&f, 1024, pol);
		p = mkcg(&f, f.root, "P");
		a = mkcg(&f, p, "A");
		b = mkcg(&f, p, "B");
		fake_fill(&f, a, FAKE_REG, 256, pa);
		set_max_pages(p, 256);
		for (unsigned i = 0; i < 256; i++) {
			int err = fake_alloc(&f, b, FAKE_REG, REC, &pb[got]);

			if (!err)
				got++;
			else if (err == -ENOMEM)
				enomem++;
			else
				ASSERT_OK(err);
		}
		epcg_exec_flush(f.ex);
		epcg_test_note("%s: B got %u of 256 (ENOMEM %u); resident "
			       "A %u, B %u; evicted A %" PRIu64 ", B %" PRIu64,
			       epcg_sgx_policy_name(pol), got, enomem,
			       fake_resident(pa, 256), fake_resident(pb, got),
			       cg_ewb(a), cg_ewb(b));
		if (pol == EPCG_SGX_POLICY_V17) {
			ASSERT_EQ(got, 0);
			ASSERT_EQ(enomem, 256);
		} else {
			ASSERT_EQ(got, 256);
			ASSERT_CMP(cg_ewb(a), >, 0);
		}
		ASSERT_CMP(usage_pages(p), <=, 256);
		sfx_check(&f);
		fake_release_all(&f, pa, 256);
		fake_release_all(&f, pb, got);
		sfx_teardown(&f);
	}
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(mark_and_unmark_move_pages_on_and_off_the_lru),
	TEST_ENTRY(unmark_of_an_isolated_page_is_busy),
	TEST_ENTRY(b21_cursor_visits_preorder_and_wraps),
	TEST_ENTRY(cursor_passes_idle_cgroups_in_order),
	TEST_ENTRY(cursor_order_matches_the_plain_walk),
	TEST_ENTRY(b22_batch_takes_16_from_head_and_young_pages_to_tail),
	TEST_ENTRY(failed_prepare_or_write_puts_the_page_back_intact),
	TEST_ENTRY(b23_dying_descendant_scanned_unpinnable_skipped),
	TEST_ENTRY(b26_ksgxd_wakes_below_32_free_and_refills_to_64),
	TEST_ENTRY(b29_last_child_written_back_frees_the_secs),
	TEST_ENTRY(b31_page_of_a_released_owner_is_dropped_not_reclaimed),
	TEST_ENTRY(work_of_a_dying_cgroup_frees_it_safely),
	TEST_ENTRY(check_reports_broken_accounting),
	TEST_ENTRY(policy_names_and_lookup),
	TEST_ENTRY(fairness_of_parent_and_global_reclaim),
	TEST_ENTRY(fairness_of_siblings_overcommitting_a_parent),
};

TEST_MAIN(tests)
