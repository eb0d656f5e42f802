// SPDX-License-Identifier: MIT
/*
 * Allocating and freeing EPC pages on the machine (E1, E8, E9): the charge
 * first, through the EPC cgroup's charge loop, then a frame.
 *
 * The two can fail for different reasons and are told apart.  A refused
 * charge means a cgroup limit; the charge loop (cgroup.c) has already
 * reclaimed from the cgroup's subtree or queued its async work, and
 * reports -EBUSY, -ENOMEM or -ERESTARTSYS.  A charge that succeeds but
 * finds no free frame means the whole EPC is in use: limits do not matter
 * then, and the fallback is global reclaim (a round of 16 pages over every
 * cgroup, rooted at the root) for callers that may reclaim, -EBUSY for
 * those that may not, -ENOMEM when nothing anywhere is reclaimable.  In
 * every failure the charge is undone, so a failed allocation leaves no
 * trace in misc.current.  Afterwards, whatever the outcome, ksgxd is woken
 * if fewer than 32 frames are free and something can be reclaimed.
 *
 * Guest (virtual EPC) pages go through the same path without reclaim and
 * are never put on an LRU: the host cannot reclaim a page the guest owns.
 */
#include <errno.h>

#include <epcg/sgx.h>

#include "epc-internal.h"
#include "sgx-internal.h"
#include "util/atomic.h"
#include "util/macros.h"

int epcg__sgx_alloc_page(struct epcg_sgx *sgx, void *owner,
			 enum epcg_epc_reclaim reclaim,
			 struct epcg_epc_page **ret)
{
	struct epcg_task *task = epcg_task_current();
	struct epcg_misc_cg *root = sgx->root_cg->cg;
	struct epcg_epc_page *page;
	struct epcg_misc_cg *cg;
	int err = 0;

	err = epcg__sgx_cgroup_try_charge(sgx, task, reclaim, &cg);
	if (err)
		return err;
	for (;;) {
		page = epcg__epc_take_frame(sgx->epc, task ? task->node : -1);
		if (page)
			break;
		if (epcg__sgx_cgroup_lru_empty(root)) {
			err = -ENOMEM;
			break;
		}
		if (reclaim == EPCG_EPC_NO_RECLAIM) {
			err = -EBUSY;
			break;
		}
		if (epcg_task_signal_pending(task)) {
			err = -EPCG_ERESTARTSYS;
			break;
		}
		epcg__sgx_cgroup_reclaim_pages(sgx, root, EPCG_SGX_NR_TO_SCAN);
		epcg_exec_cond_resched(sgx->ex);
	}
	if (page) {
		page->owner = owner;
		page->cg = cg; /* the charge's reference goes to the page */
		*ret = page;
	} else {
		if (err == -ENOMEM) {
			epcg_atomic_fetch_add_relaxed(
				&epcg__sgx_cgroup_of(cg)->stats.enomem, 1);
			epcg_atomic_fetch_add_relaxed(&sgx->stats.enomem, 1);
		}
		epcg__sgx_cgroup_uncharge(cg);
	}
	epcg__sgx_ksgxd_maybe_wake(sgx);
	return err;
}

void epcg__sgx_free_page(struct epcg_sgx *sgx, struct epcg_epc_page *page)
{
	uint32_t flags = epcg_atomic_load_relaxed(&page->flags);
	struct epcg_misc_cg *cg = page->cg;

	if (EPCG_WARN_ONCE(flags & EPCG_EPC_PAGE_FREE,
			   "sgx: EPC page %llu freed twice",
			   (unsigned long long)epcg_epc_page_pfn(page)))
		return;
	EPCG_WARN_ONCE(flags & EPCG_EPC_PAGE_RECLAIMER_TRACKED,
		       "sgx: EPC page %llu freed while reclaimable",
		       (unsigned long long)epcg_epc_page_pfn(page));
	page->cg = NULL;
	page->owner = NULL;
	if (cg)
		epcg__sgx_cgroup_uncharge(cg);
	epcg__epc_return_frame(page);
}

int epcg_sgx_vepc_alloc(struct epcg_sgx *sgx, void *owner,
			struct epcg_epc_page **ret)
{
	struct epcg_sgx_cgroup *sgx_cg;
	struct epcg_misc_cg *cg;
	int err;

	if (!sgx || !ret)
		return -EINVAL;
	err = epcg__sgx_alloc_page(sgx, owner, EPCG_EPC_NO_RECLAIM, ret);
	if (!err || err == -EBUSY)
		return err;

	/* The kernel's guest fault turns every other failure into SIGBUS. */
	cg = epcg_misc_task_get_cg(sgx->misc, epcg_task_current());
	sgx_cg = epcg__sgx_cgroup_of(cg);
	if (sgx_cg)
		epcg_atomic_fetch_add_relaxed(&sgx_cg->stats.sigbus, 1);
	epcg_atomic_fetch_add_relaxed(&sgx->stats.sigbus, 1);
	epcg_misc_cg_put(cg);
	return -EFAULT;
}

void epcg_sgx_vepc_free(struct epcg_sgx *sgx, struct epcg_epc_page *page)
{
	if (sgx && page)
		epcg__sgx_free_page(sgx, page);
}
