/* SPDX-License-Identifier: MIT */
/*
 * Inside the software SGX machine: the contract between its modules.
 *
 *   alloc.c    epcg__sgx_alloc_page / epcg__sgx_free_page: charge (through
 *              the EPC cgroup), take a frame (through epc.c), global
 *              reclaim when frames run out, ksgxd wake-ups (E1, E8, E9)
 *   cgroup.c   the EPC cgroup: per-cgroup LRUs, the charge loop (E3, E4),
 *              the round-robin subtree walk (E6), async and direct reclaim
 *              (E7, E10), dying cgroups (E11), policies (E13)
 *   reclaim.c  LRU mark/unmark, one 16-page batch on one LRU (H7), ksgxd
 *   encl.c     enclaves; implements struct epcg_reclaim_ops for its pages
 *   encls.c    the emulated leaves and the EPCM; crypto.c the paging crypto
 *   epc.c      sections, frames, per-node free lists
 *
 * The reclaimer never calls the enclave layer by name: it goes through
 * the owner operations below, so tests can put pages with fake owners on
 * LRUs and check the reclaim walks deterministically.
 */
#ifndef EPCG_SGX_INTERNAL_H
#define EPCG_SGX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <epcg/epc.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>

#include "epc-internal.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"

/* Constants of the Linux driver and the series (reference 2, table). */
#define EPCG_SGX_NR_TO_SCAN 16		/* pages per reclaim batch */
#define EPCG_SGX_NR_LOW_PAGES 32	/* wake ksgxd below this many free */
#define EPCG_SGX_NR_HIGH_PAGES 64	/* ksgxd reclaims until this many free */
#define EPCG_SGX_CG_MIN_FREE_PAGE 32	/* per-cgroup headroom (E7) */
#define EPCG_SGX_CG_LOW_LIMIT 128	/* no headroom at or below this limit */

/*
 * ERESTARTSYS: the kernel's "interrupted, restart the call" code, returned
 * by the charge and allocation loops when a signal is pending (E3).  It is
 * not a user-visible errno; front ends turn it into EINTR.
 */
#define EPCG_ERESTARTSYS 512

/**
 * struct epcg_lru - one cgroup's list of reclaimable EPC pages (E2).
 * @lock: guards @reclaimable and the membership of pages in it.
 * @reclaimable: pages in LRU order, oldest at the head; linked through
 *	struct epcg_epc_page's list field.
 * @nr: pages on @reclaimable; written under @lock, read without it as a
 *	hint ("is anything reclaimable here?").
 */
struct epcg_lru {
	struct epcg_mutex lock;
	struct epcg_list reclaimable;
	epcg_atomic(uint64_t) nr;
};

/**
 * struct epcg_reclaim_ops - what the reclaimer asks of a page's owner.
 *
 * Called by the batch reclaimer (H7) in this order for each isolated page:
 * @get_owner, then @age, then @prepare, then (for all survivors of the
 * batch first) @block, then @write, then @put_owner.  A page whose step
 * fails goes back to the tail of its LRU.
 *
 * @get_owner: pin the page's enclave; false if it is being released (the
 *	page is then dropped from the LRU and left to the release path).
 *	Called under the LRU lock: must not block or take locks.
 * @put_owner: drop that pin.  For a page going back to its LRU it is
 *	called under the LRU lock right after the page is back (so no other
 *	batch can take the page, and change its owner, in between): must
 *	not block or take locks either.
 * @age: test and clear "accessed since the last scan"; true means young:
 *	the page gets a second chance.
 * @prepare: make room in the backing store and mark the page as being
 *	reclaimed; a negative errno skips the page.
 * @block: EBLOCK the page.
 * @write: EWB the page (with ETRACK and forced exits as needed, H6), mark
 *	it non-resident, and write back the SECS if this was the last
 *	resident child of an initialized enclave.  0: the frame is invalid
 *	and the reclaimer frees it; negative errno: the page stays resident
 *	and intact (e.g. the backing store could not be written).
 */
struct epcg_reclaim_ops {
	bool (*get_owner)(struct epcg_epc_page *page);
	void (*put_owner)(struct epcg_epc_page *page);
	bool (*age)(struct epcg_epc_page *page);
	int (*prepare)(struct epcg_epc_page *page);
	void (*block)(struct epcg_epc_page *page);
	int (*write)(struct epcg_epc_page *page);
};

/* Per-cgroup and per-machine counters (SPEC X1); all atomic, relaxed. */
struct epcg_sgx_counters {
	epcg_atomic(uint64_t) ewb;
	epcg_atomic(uint64_t) eldu;
	epcg_atomic(uint64_t) faults;
	epcg_atomic(uint64_t) reclaim_scans;
	epcg_atomic(uint64_t) enomem;
	epcg_atomic(uint64_t) sigbus;
	epcg_atomic(uint64_t) paging_ns;
};

static inline void epcg__sgx_counters_init(struct epcg_sgx_counters *c)
{
	epcg_atomic_init(&c->ewb, 0);
	epcg_atomic_init(&c->eldu, 0);
	epcg_atomic_init(&c->faults, 0);
	epcg_atomic_init(&c->reclaim_scans, 0);
	epcg_atomic_init(&c->enomem, 0);
	epcg_atomic_init(&c->sigbus, 0);
	epcg_atomic_init(&c->paging_ns, 0);
}

/**
 * struct epcg_sgx_cgroup - the EPC cgroup state of one misc cgroup, hung
 * off it as the sgx_epc resource's private pointer (the series'
 * struct sgx_cgroup).
 * @sgx: the machine (immutable).
 * @cg: the misc cgroup (immutable; no reference: this object lives
 *	exactly as long as the misc cgroup).
 * @parent: the parent's state, NULL for the root (immutable; alive as
 *	long as this one, since a misc cgroup pins its parent).
 * @lru: reclaimable pages charged to this cgroup.
 * @nr_busy: how many cgroups of this subtree (this one included) have a
 *	non-empty LRU.  Written under @sgx->busy_lock when an LRU goes empty
 *	<-> non-empty, at every level up to the root; atomic, read without
 *	locks: 0 answers "is anything reclaimable below here?" in O(1) (the
 *	kernel walks the subtree).
 * @lru_busy: whether @lru is non-empty, as the busy index sees it;
 *	@sgx->busy_lock.
 * @busy_children: the children with @nr_busy > 0, in sibling order (misc
 *	link serial); @sgx->busy_lock.  With @lru_busy, the index that lets
 *	the subtree walk jump to the next cgroup with pages (cgroup.c).
 * @busy_link: in the parent's @busy_children; @sgx->busy_lock.
 * @reclaim_work: async reclaim (E7), on the shared worker pool.
 * @next_lock: guards @next_cg.
 * @next_cg: round-robin cursor for reclaim rooted here (E6); starts at
 *	@cg itself; holds no reference (fixed up when a cgroup is freed).
 * @put_link: on the machine's deferred-put list; @sgx->put_lock.
 * @nr_puts: references to put from the deferred-put work; @sgx->put_lock.
 * @check_pages, @check_sub, @check_busy: scratch of epcg_sgx_check();
 *	@sgx->check_lock.
 * @stats: counters (X1).
 */
struct epcg_sgx_cgroup {
	struct epcg_sgx *sgx;
	struct epcg_misc_cg *cg;
	struct epcg_sgx_cgroup *parent;
	struct epcg_lru lru;
	epcg_atomic(uint64_t) nr_busy;
	bool lru_busy;
	struct epcg_list busy_children;
	struct epcg_list busy_link;
	struct epcg_work reclaim_work;
	struct epcg_mutex next_lock;
	struct epcg_misc_cg *next_cg;
	struct epcg_list put_link;
	unsigned long nr_puts;
	uint64_t check_pages, check_sub, check_busy;
	struct epcg_sgx_counters stats;
};

/**
 * struct epcg_sgx - the machine.
 * @misc, @ex, @epc: immutable after create.
 * @encls: the leaves' machine state (EPCM, paging key); see encls-internal.h.
 * @policy: immutable after create.
 * @rops: owner operations of enclave pages (epcg__encl_reclaim_ops, set
 *	by epcg_sgx_create(); immutable afterwards except in tests).
 * @root_cg: the root cgroup's EPC cgroup state.
 * @ksgxd: the global reclaimer thread; set by create, cleared by destroy
 *	(tests stop and restart it only at quiescent points).
 * @busy_lock: guards the busy index: every cgroup's @nr_busy (written),
 *	@lru_busy, @busy_children and @busy_link.
 * @put_lock: guards @put_list and every cgroup's @put_link and @nr_puts.
 * @put_list: cgroups with references waiting to be put by @put_work.
 * @put_work: puts them, from a context where freeing a cgroup is safe
 *	(see "Freeing a cgroup" in cgroup.c).
 * @check_lock: serializes epcg_sgx_check() (its per-cgroup scratch).
 * @costs: the cost model (set before any enclave exists, then read-only;
 *	see epcg__sgx_cost()).
 * @stats: machine totals (X1).
 */
struct epcg_sgx {
	struct epcg_misc *misc;
	struct epcg_exec *ex;
	struct epcg_epc *epc;
	struct epcg_encls *encls;
	enum epcg_sgx_policy policy;
	const struct epcg_reclaim_ops *rops;
	struct epcg_sgx_cgroup *root_cg;
	struct epcg_kthread *ksgxd;
	struct epcg_mutex busy_lock;
	struct epcg_mutex put_lock;
	struct epcg_list put_list;
	struct epcg_work put_work;
	struct epcg_mutex check_lock;
	struct epcg_sgx_costs costs;
	struct epcg_sgx_counters stats;
};

/*
 * Charge the modelled cost of @op to the current task's clock (virtual
 * time; a no-op in a live context or for a cost of 0).  Never switches
 * threads, so callers may hold locks.
 */
static inline void epcg__sgx_cost(struct epcg_sgx *sgx, enum epcg_sgx_cost op)
{
	uint64_t ns = sgx->costs.ns[op];

	if (ns)
		epcg_exec_account_ns(sgx->ex, ns);
}

/*
 * Wake ksgxd if fewer than EPCG_SGX_NR_LOW_PAGES frames are free and
 * something is reclaimable (E9).  Inline: every allocation asks, and the
 * answer is nearly always no after the first load.  Both tests are
 * snapshots, as in the kernel.
 */
static inline void epcg__sgx_ksgxd_maybe_wake(struct epcg_sgx *sgx)
{
	if (sgx->ksgxd &&
	    epcg__epc_nr_free(sgx->epc) < EPCG_SGX_NR_LOW_PAGES &&
	    epcg_atomic_load_acquire(&sgx->root_cg->nr_busy))
		epcg_kthread_wake(sgx->ksgxd);
}

/* ---- alloc.c ---- */

/*
 * epcg__sgx_alloc_page() - charge one page to the current task's cgroup
 * (E3/E4 charge loop), take a frame, and on frame exhaustion run global
 * reclaim (E8); wake ksgxd when fewer than EPCG_SGX_NR_LOW_PAGES frames
 * remain (E9).  Return: 0; -EBUSY (caller may not reclaim: retry later);
 * -ENOMEM (nothing reclaimable); -EPCG_ERESTARTSYS (signal pending).
 */
int epcg__sgx_alloc_page(struct epcg_sgx *sgx, void *owner,
			 enum epcg_epc_reclaim reclaim,
			 struct epcg_epc_page **ret);

/* Uncharge the page's cgroup and return the frame (the page must not be on
 * an LRU and must be invalid in the EPCM). */
void epcg__sgx_free_page(struct epcg_sgx *sgx, struct epcg_epc_page *page);

/* ---- reclaim.c ---- */

/* Put @page at the tail of its charged cgroup's LRU (after EADD, EAUG, ELDU). */
void epcg__sgx_mark_reclaimable(struct epcg_sgx *sgx,
				struct epcg_epc_page *page);
/* Take @page off its LRU.  Return: 0; -EBUSY if a reclaimer has it isolated. */
int epcg__sgx_unmark_reclaimable(struct epcg_sgx *sgx,
				 struct epcg_epc_page *page);
/* One batch (H7) of at most EPCG_SGX_NR_TO_SCAN pages from @lru's head.
 * Return: pages scanned (isolated), whether or not they were written back. */
unsigned epcg__sgx_reclaim_lru(struct epcg_sgx *sgx, struct epcg_lru *lru);
/* Start and stop ksgxd. */
int epcg__sgx_ksgxd_start(struct epcg_sgx *sgx);
void epcg__sgx_ksgxd_stop(struct epcg_sgx *sgx);

/* ---- cgroup.c ---- */

/*
 * Register the sgx_epc resource callbacks and set up the root's state; the
 * EPC (the capacity) must exist and no non-root cgroup yet.  Return: 0;
 * -EINVAL if the capacity is 0; -EBUSY if non-root cgroups exist; -ENOMEM.
 */
int epcg__sgx_cgroup_init(struct epcg_sgx *sgx);
/*
 * Undo it, after running pending deferred puts.  Return: 0; -EBUSY if
 * non-root cgroups still exist (their state then stays registered).
 */
int epcg__sgx_cgroup_finish(struct epcg_sgx *sgx);
/* The EPC cgroup state of @cg (never NULL once capacity was set). */
struct epcg_sgx_cgroup *epcg__sgx_cgroup_of(const struct epcg_misc_cg *cg);
/*
 * The rest of epcg__sgx_cgroup_try_charge() after its first attempt, which
 * returned @ret (and, on -EBUSY, @failed: the level that refused); @cg
 * holds the reference that attempt took.
 */
int epcg__sgx_cgroup_charge_slow(struct epcg_sgx *sgx, struct epcg_task *task,
				 enum epcg_epc_reclaim reclaim,
				 struct epcg_misc_cg *cg, int ret,
				 struct epcg_misc_cg *failed,
				 struct epcg_misc_cg **ret_cg);

/*
 * The E3/E4 charge loop for @task (the caller's current task, which it
 * has looked up already; NULL charges the root); on success *ret_cg
 * holds a reference.  The first attempt is inline: under v17 a charge
 * that passes needs nothing else, and that is the allocation fast path.
 */
static inline int epcg__sgx_cgroup_try_charge(struct epcg_sgx *sgx,
					      struct epcg_task *task,
					      enum epcg_epc_reclaim reclaim,
					      struct epcg_misc_cg **ret_cg)
{
	struct epcg_misc_cg *cg = epcg_misc_task_get_cg(sgx->misc, task);
	struct epcg_misc_cg *failed = NULL;
	int ret = epcg_misc_try_charge(EPCG_MISC_RES_SGX_EPC, cg,
				       EPCG_PAGE_SIZE, &failed);

	if (epcg_likely(!ret) && sgx->policy == EPCG_SGX_POLICY_V17) {
		*ret_cg = cg;
		return 0;
	}
	return epcg__sgx_cgroup_charge_slow(sgx, task, reclaim, cg, ret,
					    failed, ret_cg);
}

/* Undo a successful charge: uncharge @cg and drop the reference it held. */
static inline void epcg__sgx_cgroup_uncharge(struct epcg_misc_cg *cg)
{
	epcg_misc_uncharge_put(EPCG_MISC_RES_SGX_EPC, cg, EPCG_PAGE_SIZE);
}
/* Whether no page is on any LRU in @root's subtree. */
bool epcg__sgx_cgroup_lru_empty(struct epcg_misc_cg *root);
/* Record that @sgx_cg's LRU became non-empty (@busy) or empty; called
 * under that LRU's lock. */
void epcg__sgx_cgroup_lru_busy(struct epcg_sgx_cgroup *sgx_cg, bool busy);
/* E6: reclaim from @root's subtree until @nr_to_scan pages were scanned or
 * its LRUs are empty.  Return: pages scanned. */
unsigned epcg__sgx_cgroup_reclaim_pages(struct epcg_sgx *sgx,
					struct epcg_misc_cg *root,
					unsigned nr_to_scan);
/* E10: direct reclaim before EDMM reloads. */
void epcg__sgx_reclaim_direct(struct epcg_sgx *sgx);
/*
 * E7: whether @sgx_cg's subtree has reclaimable pages and its usage is at
 * or above its threshold (the tightest limit on its path to the root, less
 * the EPCG_SGX_CG_MIN_FREE_PAGE headroom above EPCG_SGX_CG_LOW_LIMIT).
 */
bool epcg__sgx_cgroup_should_reclaim(struct epcg_sgx_cgroup *sgx_cg);
/* Put @cg's reference later, from the machine's put work (see cgroup.c). */
void epcg__sgx_cgroup_put_deferred(struct epcg_sgx *sgx,
				   struct epcg_misc_cg *cg);

#endif
