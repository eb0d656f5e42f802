// SPDX-License-Identifier: MIT
/*
 * What the reclaimer asks of an enclave page (struct epcg_reclaim_ops),
 * and ETRACK with its IPI analogue (H6, H7).
 *
 * A batch pins the enclave of each page it isolates (get_owner: a
 * reference unless release has started), ages it (the ACCESSED bit an
 * access sets: a page touched since the last scan gets a second chance),
 * prepares it (marks it RECLAIMING, so EDMM calls back off), blocks all
 * survivors, then writes each one back and finally drops the pin
 * (put_owner).  Everything but get_owner, age and put_owner runs under the
 * enclave lock; get_owner runs under the LRU lock and touches atomics
 * only.
 *
 * Writing a page back (H6): make room for its blob in the backing store
 * (a store with none leaves the page resident, nothing sealed), then EWB
 * into the blob's place (see encl-paging.c); on SGX_NOT_TRACKED,
 * ETRACK and EWB again; still not tracked, force the threads inside out
 * (the IPI analogue, which completes the cycle) and EWB once more.  The
 * kernel stops there.  We add one last round, ETRACK then forced exits
 * then EWB, for the case where ETRACK found the previous cycle incomplete
 * (SGX_PREV_TRK_INCMPL) and so did not start a new epoch; since every
 * ETRACK of an enclave runs under its lock, that round always succeeds.
 * The sealed page is then committed to the backing store.  If that fails
 * (ENOSPC, EIO) the page is loaded straight back from the sealed copy
 * with ELDU, into the same frame, and the batch puts it back on its LRU,
 * resident and intact.  When the last resident child of an initialized
 * enclave leaves, the SECS is written back too, and its frame freed.
 */
#include <errno.h>

#include "encl-internal.h"
#include "epc-internal.h"
#include "util/macros.h"

#define PAGE EPCG_PAGE_SIZE

static struct epcg_encl_page *owner(struct epcg_epc_page *epc)
{
	return epc->owner;
}

static bool encl_get_owner(struct epcg_epc_page *epc)
{
	struct epcg_encl *encl = owner(epc)->encl;
	uint64_t refs = epcg_atomic_load_relaxed(&encl->refs);

	do {
		if (refs & EPCG_ENCL_RELEASING)
			return false;
	} while (!epcg_atomic_cas_acq_rel(&encl->refs, &refs, refs + 1));
	return true;
}

static void encl_put_owner(struct epcg_epc_page *epc)
{
	/* After this, release may free the enclave: touch nothing more. */
	epcg_atomic_fetch_sub_acq_rel(&owner(epc)->encl->refs, 1);
}

static bool encl_age(struct epcg_epc_page *epc)
{
	return epcg_atomic_fetch_and_acq_rel(&owner(epc)->flags,
					     ~EPCG_ENCL_PAGE_ACCESSED) &
	       EPCG_ENCL_PAGE_ACCESSED;
}

static int encl_prepare(struct epcg_epc_page *epc)
{
	struct epcg_encl_page *page = owner(epc);
	struct epcg_encl *encl = page->encl;
	int err = 0;

	epcg_mutex_lock(&encl->lock);
	if (EPCG_WARN_ONCE(page->epc_page != epc,
			   "encl: reclaiming a page that is not resident"))
		err = -EINVAL;
	else
		epcg_atomic_fetch_or_acq_rel(&page->flags,
					     EPCG_ENCL_PAGE_RECLAIMING);
	epcg_mutex_unlock(&encl->lock);
	return err;
}

static void encl_block(struct epcg_epc_page *epc)
{
	struct epcg_encl *encl = owner(epc)->encl;
	int st;

	epcg_mutex_lock(&encl->lock);
	st = epcg__encls_eblock(encl->sgx->encls, epcg_epc_page_pfn(epc));
	if (!st)
		epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_EBLOCK);
	/* Already blocked (a failed write-back before) is fine. */
	EPCG_WARN_ONCE(st && st != EPCG_SGX_BLKSTATE, "encl: EBLOCK failed: %s",
		       epcg_sgx_status_name(st));
	epcg_mutex_unlock(&encl->lock);
}

/* The IPI analogue: force every thread out of @encl.  @lock. */
static void kick(struct epcg_encl *encl)
{
	unsigned n = epcg__encl_force_aex(encl->secs);

	if (n)
		epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_IPI);
	epcg_atomic_fetch_add_relaxed(&encl->stats.forced_exits, n);
}

/* ETRACK on @encl's SECS.  Return: the leaf's status.  @lock. */
static int track(struct epcg_encl *encl)
{
	int st = epcg__encls_etrack(encl->sgx->encls,
				    epcg__encl_pfn(&encl->secs_page));

	epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_ETRACK);
	if (!st)
		epcg_atomic_fetch_add_relaxed(&encl->stats.etrack, 1);
	return st;
}

int epcg__encl_etrack(struct epcg_encl *encl)
{
	if (track(encl)) {
		/* The last cycle is incomplete: complete it, then retry. */
		kick(encl);
		if (track(encl))
			return -EFAULT;
	}
	kick(encl);
	return 0;
}

/*
 * EWB @page to where @blob says (its slot in the backing store, or the
 * scratch page), tracking as H6 says.  @lock.
 */
static int ewb(struct epcg_encl *encl, struct epcg_encl_page *page,
	       struct epcg_encl_va *va, unsigned slot,
	       const struct epcg_sgx_pageinfo *blob)
{
	struct epcg_sgx_pageinfo pi = {
		.srcpge = blob->srcpge,
		.pcmd = blob->pcmd,
		.secs = EPCG_SGX_NO_PFN,
	};
	struct epcg_encls *m = encl->sgx->encls;
	uint64_t pfn = epcg__encl_pfn(page);
	uint64_t va_pfn = epcg_epc_page_pfn(va->epc_page);
	int st;

	st = epcg__encls_ewb(m, &pi, pfn, va_pfn, slot);
	if (st != EPCG_SGX_NOT_TRACKED)
		return st;
	track(encl);
	st = epcg__encls_ewb(m, &pi, pfn, va_pfn, slot);
	if (st != EPCG_SGX_NOT_TRACKED)
		return st;
	kick(encl);
	st = epcg__encls_ewb(m, &pi, pfn, va_pfn, slot);
	if (st != EPCG_SGX_NOT_TRACKED)
		return st;
	track(encl);
	kick(encl);
	return epcg__encls_ewb(m, &pi, pfn, va_pfn, slot);
}

/*
 * The backing store refused the blob: load it back from where EWB sealed
 * it (@blob) into the same frame.  @lock.  Return: whether the page is
 * intact.
 */
static bool restore(struct epcg_encl *encl, struct epcg_encl_page *page,
		    struct epcg_encl_va *va, unsigned slot,
		    const struct epcg_sgx_pageinfo *blob)
{
	bool secs = epcg__encl_is_secs(page);
	struct epcg_sgx_pageinfo pi = {
		.linaddr = secs ? 0 : encl->base + page->offset,
		.srcpge = blob->srcpge,
		.pcmd = blob->pcmd,
		.secs = secs ? EPCG_SGX_NO_PFN :
			       epcg__encl_pfn(&encl->secs_page),
	};
	int st = epcg__encls_eldu(encl->sgx->encls, &pi, epcg__encl_pfn(page),
				  epcg_epc_page_pfn(va->epc_page), slot);

	return !EPCG_WARN_ONCE(st, "encl: reload after a failed write-back: %s",
			       epcg_sgx_status_name(st));
}

/*
 * Write @page (a blocked child, or the SECS with no child resident) back
 * to the backing store.  @lock.  Return: 0 (the page is out, its frame
 * invalid; the caller frees it); -errno (the page is resident and intact).
 */
static int write_back(struct epcg_encl *encl, struct epcg_encl_page *page)
{
	uint64_t index = page->offset / PAGE;
	struct epcg_sgx *sgx = encl->sgx;
	struct epcg_sgx_pageinfo blob;
	struct epcg_encl_va *va;
	uint64_t t0, ns;
	unsigned slot;
	int err, st;

	va = epcg__encl_va_get(encl, &slot);
	if (!va)
		return -ENOSPC;
	/* No room in the store: nothing sealed, nothing to undo. */
	err = epcg__encl_backing_reserve(encl, index, &blob);
	if (err) {
		epcg__encl_va_put(encl, va, slot);
		return err;
	}
	t0 = epcg_exec_now_ns(sgx->ex);
	st = ewb(encl, page, va, slot, &blob);
	if (!st)
		epcg__sgx_cost(sgx, EPCG_SGX_COST_EWB);
	ns = epcg_exec_now_ns(sgx->ex) - t0;
	if (EPCG_WARN_ONCE(st, "encl: EWB failed: %s",
			   epcg_sgx_status_name(st))) {
		epcg__encl_va_put(encl, va, slot);
		return -EIO;
	}
	err = epcg__encl_backing_write(encl, index);
	if (err) {
		if (restore(encl, page, va, slot, &blob)) {
			epcg__encl_va_put(encl, va, slot);
			return err;
		}
		/*
		 * Cannot happen: the page is lost.  It stays "written out",
		 * so its next load fails the MAC check: SIGBUS, never wrong
		 * data.
		 */
	}
	epcg__encl_count_ewb(encl, page->epc_page, ns,
			     !epcg__encl_is_secs(page));
	page->va_page = va;
	page->va_slot = (uint16_t)slot;
	page->epc_page = NULL;
	return 0;
}

/* The last child left an initialized enclave: write its SECS out too. */
static void secs_write_back(struct epcg_encl *encl)
{
	struct epcg_epc_page *epc = encl->secs_page.epc_page;

	if (!epc || epcg__secs_nr_children(encl->secs) ||
	    !(epcg_atomic_load_relaxed(&encl->state) & EPCG_ENCL_INITIALIZED))
		return;
	if (!write_back(encl, &encl->secs_page))
		epcg__sgx_free_page(encl->sgx, epc);
}

static int encl_write(struct epcg_epc_page *epc)
{
	struct epcg_encl_page *page = owner(epc);
	struct epcg_encl *encl = page->encl;
	int err;

	epcg_mutex_lock(&encl->lock);
	epcg_atomic_fetch_and_acq_rel(&page->flags, ~EPCG_ENCL_PAGE_RECLAIMING);
	err = write_back(encl, page);
	if (!err)
		secs_write_back(encl);
	epcg_mutex_unlock(&encl->lock);
	return err;
}

const struct epcg_reclaim_ops epcg__encl_reclaim_ops = {
	.get_owner = encl_get_owner,
	.put_owner = encl_put_owner,
	.age = encl_age,
	.prepare = encl_prepare,
	.block = encl_block,
	.write = encl_write,
};
