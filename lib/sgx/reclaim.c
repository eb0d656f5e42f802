// SPDX-License-Identifier: MIT
/*
 * The reclaimer: which EPC pages are reclaimable (the per-cgroup LRUs),
 * one reclaim batch on one LRU (H7), and ksgxd, the global reclaimer
 * thread (E9).
 *
 * LRU membership
 * --------------
 * A page the enclave layer may lose to reclaim (a REG or TCS page after
 * EADD, EAUG or a reload) is appended to the LRU of the cgroup it was
 * charged to and flagged RECLAIMER_TRACKED.  SECS, VA and guest pages are
 * never marked: they stay charged but out of reach (E2).  The flag means
 * "the reclaimer knows this page": either it is on the LRU, or a batch has
 * isolated it, in which case its list node points at itself.  Unmarking
 * such an isolated page fails with -EBUSY and the caller (enclave release)
 * leaves the page to the batch, which frees or puts it back.  Every change
 * of the flag and of list membership happens under the LRU lock of the
 * page's cgroup, so unmark sees either "on the list" or "isolated", never
 * a step in between.
 *
 * When an LRU goes from empty to non-empty or back, the cgroup and all its
 * ancestors count it in their nr_busy.  That makes "does this subtree have
 * anything reclaimable?" one atomic load, asked by every charge that
 * meets a limit and by every reclaim loop.  The kernel answers it by
 * locking every LRU of the subtree in turn, which costs O(cgroups) and is
 * exactly what a machine with thousands of mostly idle cgroups cannot
 * afford.  The count is exact whenever no LRU is changing; while one is,
 * a reader may be told "empty" by a level that has not been updated yet,
 * which is the same answer it would have had a moment earlier.
 *
 * One batch
 * ---------
 * Up to EPCG_SGX_NR_TO_SCAN pages are taken from the head (the oldest) of
 * one LRU under its lock.  For each, the owner is pinned; a page whose
 * enclave is being released is dropped from the LRU there and then (its
 * flag cleared, still under the lock) and left to the release path, which
 * will free and uncharge it.  Outside the lock, each pinned page is aged:
 * one accessed since the last scan gets a second chance at the LRU tail.
 * The rest have their backing prepared (failure: back to the tail), then
 * all survivors are blocked before the first is written back, so that
 * pages of one enclave share one ETRACK (H6).  A page written back is
 * invalid: the batch frees its frame, which uncharges its cgroup.  A page
 * whose write-back failed is intact and goes back to the tail.
 *
 * The batch returns how many pages it took off the LRU, whatever became
 * of them: that is the "scanned" count the subtree walk (cgroup.c) uses to
 * decide when it has done enough, as in the kernel.  A batch that meets
 * only young pages still counts them, so a caller asking for N scanned
 * pages always finishes; the pages will be old by the next pass.
 *
 * ksgxd
 * -----
 * A kthread of the execution context: it runs while fewer than
 * EPCG_SGX_NR_HIGH_PAGES frames are free and anything anywhere is
 * reclaimable, one global round (16 pages scanned from the root's subtree,
 * round-robin over cgroups, ignoring limits) at a time.  Allocations wake
 * it when they leave fewer than EPCG_SGX_NR_LOW_PAGES free.
 *
 * Locks: the LRU lock only.  It is held while calling get_owner and, for
 * a page going back to the LRU, put_owner (both must not block); never
 * while calling the other owner operations or freeing a page.
 */
#include <errno.h>

#include "epc-internal.h"
#include "sgx-internal.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"
#include "util/macros.h"

static struct epcg_sgx_cgroup *lru_cgroup(struct epcg_lru *lru)
{
	return epcg_container_of(lru, struct epcg_sgx_cgroup, lru);
}

static void lru_add_tail(struct epcg_sgx_cgroup *sgx_cg,
			 struct epcg_epc_page *page)
{
	struct epcg_lru *lru = &sgx_cg->lru;
	bool was_empty = epcg_list_empty(&lru->reclaimable);

	epcg_list_add_tail(&page->list, &lru->reclaimable);
	epcg_atomic_store_relaxed(&lru->nr,
				  epcg_atomic_load_relaxed(&lru->nr) + 1);
	if (was_empty)
		epcg__sgx_cgroup_lru_busy(sgx_cg, true);
}

static void lru_del(struct epcg_sgx_cgroup *sgx_cg, struct epcg_epc_page *page)
{
	struct epcg_lru *lru = &sgx_cg->lru;

	epcg_list_del_init(&page->list);
	epcg_atomic_store_relaxed(&lru->nr,
				  epcg_atomic_load_relaxed(&lru->nr) - 1);
	if (epcg_list_empty(&lru->reclaimable))
		epcg__sgx_cgroup_lru_busy(sgx_cg, false);
}

static void count(epcg_atomic(uint64_t) * c, uint64_t n)
{
	if (n)
		epcg_atomic_fetch_add_relaxed(c, n);
}

void epcg__sgx_mark_reclaimable(struct epcg_sgx *sgx,
				struct epcg_epc_page *page)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(page->cg);
	uint32_t flags;

	if (EPCG_WARN_ONCE(!sgx_cg, "reclaim: marking a page with no cgroup"))
		return;
	epcg_mutex_lock(&sgx_cg->lru.lock);
	flags = epcg_atomic_load_relaxed(&page->flags);
	if (!EPCG_WARN_ONCE(flags & (EPCG_EPC_PAGE_RECLAIMER_TRACKED |
				     EPCG_EPC_PAGE_FREE),
			    "reclaim: marking a tracked or free page")) {
		epcg_atomic_fetch_or_acq_rel(&page->flags,
					     EPCG_EPC_PAGE_RECLAIMER_TRACKED);
		lru_add_tail(sgx_cg, page);
	}
	epcg_mutex_unlock(&sgx_cg->lru.lock);
}

int epcg__sgx_unmark_reclaimable(struct epcg_sgx *sgx,
				 struct epcg_epc_page *page)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(page->cg);
	int ret = 0;

	if (!sgx_cg)
		return 0;
	epcg_mutex_lock(&sgx_cg->lru.lock);
	if (epcg_atomic_load_relaxed(&page->flags) &
	    EPCG_EPC_PAGE_RECLAIMER_TRACKED) {
		if (epcg_list_empty(&page->list)) {
			ret = -EBUSY; /* isolated: the batch owns it */
		} else {
			lru_del(sgx_cg, page);
			epcg_atomic_fetch_and_acq_rel(
				&page->flags, ~EPCG_EPC_PAGE_RECLAIMER_TRACKED);
		}
	}
	epcg_mutex_unlock(&sgx_cg->lru.lock);
	return ret;
}

/*
 * An isolated page survives this batch: back to its LRU's tail, and its
 * owner's pin dropped.  Both under the LRU lock: once the page is on the
 * list, another batch may take it, write it back, free the frame and
 * hand it to a new owner, and put_owner() finds the owner through the
 * page.  The kernel keeps the owner in a local for that; our operations
 * are given the page, so the lock keeps the page's owner fixed instead.
 * The pin is dropped after the page is back, never before: a release
 * that finds its page isolated leaves it to the batch.
 */
static void put_back(struct epcg_sgx *sgx, struct epcg_sgx_cgroup *sgx_cg,
		     struct epcg_epc_page *page)
{
	epcg_mutex_lock(&sgx_cg->lru.lock);
	lru_add_tail(sgx_cg, page);
	sgx->rops->put_owner(page);
	epcg_mutex_unlock(&sgx_cg->lru.lock);
}

/*
 * Take up to EPCG_SGX_NR_TO_SCAN pages off @sgx_cg's LRU into @iso, their
 * owners pinned; drop the pages whose owner is going away.  Return: pages
 * taken off the LRU; *@nr_iso: how many of them are in @iso.
 */
static unsigned isolate(struct epcg_sgx *sgx, struct epcg_sgx_cgroup *sgx_cg,
			struct epcg_epc_page **iso, unsigned *nr_iso)
{
	struct epcg_lru *lru = &sgx_cg->lru;
	unsigned scanned = 0, n = 0;

	epcg_mutex_lock(&lru->lock);
	while (scanned < EPCG_SGX_NR_TO_SCAN &&
	       !epcg_list_empty(&lru->reclaimable)) {
		struct epcg_epc_page *page = epcg_list_first_entry(
			&lru->reclaimable, struct epcg_epc_page, list);

		lru_del(sgx_cg, page);
		scanned++;
		if (sgx->rops->get_owner(page))
			iso[n++] = page;
		else /* being released: the release path frees it */
			epcg_atomic_fetch_and_acq_rel(
				&page->flags, ~EPCG_EPC_PAGE_RECLAIMER_TRACKED);
	}
	epcg_mutex_unlock(&lru->lock);
	*nr_iso = n;
	return scanned;
}

/* A page was written back: it is invalid, its frame can go. */
static void reclaimed(struct epcg_sgx *sgx, struct epcg_sgx_cgroup *sgx_cg,
		      struct epcg_epc_page *page)
{
	count(&sgx_cg->stats.ewb, 1);
	count(&sgx->stats.ewb, 1);
	epcg_mutex_lock(&sgx_cg->lru.lock);
	epcg_atomic_fetch_and_acq_rel(&page->flags,
				      ~EPCG_EPC_PAGE_RECLAIMER_TRACKED);
	epcg_mutex_unlock(&sgx_cg->lru.lock);
	sgx->rops->put_owner(page);
	epcg__sgx_free_page(sgx, page);
}

unsigned epcg__sgx_reclaim_lru(struct epcg_sgx *sgx, struct epcg_lru *lru)
{
	const struct epcg_reclaim_ops *ops = sgx->rops;
	struct epcg_sgx_cgroup *sgx_cg = lru_cgroup(lru);
	struct epcg_epc_page *iso[EPCG_SGX_NR_TO_SCAN];
	unsigned scanned, n;

	if (!ops)
		return 0;
	scanned = isolate(sgx, sgx_cg, iso, &n);
	count(&sgx_cg->stats.reclaim_scans, scanned);
	count(&sgx->stats.reclaim_scans, scanned);

	/* Second chance for young pages; no backing, no reclaim. */
	for (unsigned i = 0; i < n; i++) {
		if (!ops->age(iso[i]) && ops->prepare(iso[i]) >= 0)
			continue;
		put_back(sgx, sgx_cg, iso[i]);
		iso[i] = NULL;
	}
	/* Block all before writing any: one ETRACK per enclave (H6). */
	for (unsigned i = 0; i < n; i++)
		if (iso[i])
			ops->block(iso[i]);
	for (unsigned i = 0; i < n; i++) {
		if (!iso[i])
			continue;
		if (ops->write(iso[i]) == 0)
			reclaimed(sgx, sgx_cg, iso[i]);
		else
			put_back(sgx, sgx_cg, iso[i]);
	}
	return scanned;
}

/* ---- ksgxd ---- */

static bool global_should_reclaim(struct epcg_sgx *sgx, uint64_t watermark)
{
	return epcg_epc_nr_free(sgx->epc) < watermark &&
	       !epcg__sgx_cgroup_lru_empty(sgx->root_cg->cg);
}

static bool ksgxd_should_run(void *arg)
{
	return global_should_reclaim(arg, EPCG_SGX_NR_HIGH_PAGES);
}

static void ksgxd_run(void *arg)
{
	struct epcg_sgx *sgx = arg;

	epcg__sgx_cgroup_reclaim_pages(sgx, sgx->root_cg->cg,
				       EPCG_SGX_NR_TO_SCAN);
}

int epcg__sgx_ksgxd_start(struct epcg_sgx *sgx)
{
	return epcg_exec_kthread_start(sgx->ex, "ksgxd", ksgxd_should_run,
				       ksgxd_run, sgx, &sgx->ksgxd);
}

void epcg__sgx_ksgxd_stop(struct epcg_sgx *sgx)
{
	epcg_kthread_stop(sgx->ksgxd);
	sgx->ksgxd = NULL;
}
