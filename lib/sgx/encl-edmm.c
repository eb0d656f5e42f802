// SPDX-License-Identifier: MIT
/*
 * SGX2 dynamic memory management for enclaves (EDMM): growing by EAUG on
 * first touch, restricting permissions (EMODPR), changing page types
 * (EMODT), removing trimmed pages, and the enclave's side, EACCEPT.
 *
 * EAUG happens on the fault path, so, like a reload, it allocates its
 * page (and a VA page when the count reaches a multiple of 512) without
 * reclaiming, and -EBUSY means "retry the access" (E4).  The three
 * ioctl-like calls need the page resident while they hold the enclave
 * lock, so, as the kernel does, each page first gets one round of direct
 * reclaim (E10) without the lock, then is reloaded with an allocation
 * that does not reclaim; what cannot be reloaded now is -EAGAIN, what
 * can never be is -EFAULT (E5).  After EMODPR and EMODT comes an ETRACK
 * and the IPI analogue, so the enclave's EACCEPT finds the tracking cycle
 * complete.
 */
#include <errno.h>

#include "encl-internal.h"
#include "epc-internal.h"
#include "util/macros.h"

#define PAGE EPCG_PAGE_SIZE

static struct epcg_sgx_secinfo secinfo_of(unsigned pt, unsigned bits)
{
	struct epcg_sgx_secinfo si = {
		.flags = EPCG_SGX_SECINFO_PT(pt) | bits,
	};

	return si;
}

int epcg__encl_aug(struct epcg_encl *encl, struct epcg_encl_thread *t,
		   uint64_t offset, struct epcg_encl_page **ret)
{
	const unsigned rw = EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_W;
	struct epcg_sgx *sgx = encl->sgx;
	struct epcg_sgx_secinfo si;
	struct epcg_sgx_pageinfo pi = { .linaddr = encl->base + offset };
	struct epcg_encl_page *page;
	struct epcg_epc_page *epc;
	struct epcg_encl_va *va;
	int err, st;

	page = epcg__encl_page_get(encl, offset);
	if (!page)
		return -ENOMEM;
	if (!encl->secs_page.epc_page) {
		/* EAUG needs the SECS: reload it as a fault would. */
		err = epcg__encl_load(encl, &encl->secs_page);
		if (err)
			return err;
	}
	err = epcg__encl_grow(encl, encl->page_cnt, EPCG_EPC_NO_RECLAIM, &va);
	if (err)
		return err;
	err = epcg__sgx_alloc_page(sgx, page, EPCG_EPC_NO_RECLAIM, &epc);
	if (err) {
		epcg__encl_va_free(encl, va);
		return err;
	}
	pi.secs = epcg__encl_pfn(&encl->secs_page);
	st = epcg__encls_eaug(sgx->encls, &pi, epcg_epc_page_pfn(epc));
	if (EPCG_WARN_ONCE(st, "encl: EAUG failed: %s",
			   epcg_sgx_status_name(st))) {
		epcg__sgx_free_page(sgx, epc);
		epcg__encl_va_free(encl, va);
		return -EIO;
	}
	epcg__sgx_cost(sgx, EPCG_SGX_COST_EAUG);
	page->epc_page = epc;
	page->type = EPCG_SGX_PT_REG;
	page->secinfo = rw | EPCG_SGX_SECINFO_PENDING;
	epcg_atomic_fetch_or_acq_rel(&page->flags, EPCG_ENCL_PAGE_PRESENT);
	epcg__encl_grown(encl, va);
	encl->nr_pages++;
	epcg_atomic_fetch_add_relaxed(&encl->stats.eaug, 1);

	/* The runtime's fault handler accepts the page at once. */
	si = secinfo_of(EPCG_SGX_PT_REG, rw | EPCG_SGX_SECINFO_PENDING);
	st = epcg__encls_eaccept(sgx->encls, t->secs, &si,
				 epcg_epc_page_pfn(epc));
	if (!EPCG_WARN_ONCE(st, "encl: EACCEPT of an EAUG page failed: %s",
			    epcg_sgx_status_name(st)))
		page->secinfo = rw;
	epcg__sgx_mark_reclaimable(sgx, epc);
	*ret = page;
	return 0;
}

static int aug_done(struct epcg_encl *encl, struct epcg_encl_page *page,
		    void *arg)
{
	return 0;
}

int epcg_encl_aug_page(struct epcg_encl *encl, struct epcg_encl_thread *thread,
		       uint64_t offset)
{
	bool existed;

	if (!encl || !thread || offset % PAGE || offset >= encl->size ||
	    !(epcg_atomic_load_acquire(&encl->state) & EPCG_ENCL_INITIALIZED))
		return -EINVAL;
	epcg_mutex_lock(&encl->lock);
	existed = epcg__encl_page_lookup(encl, offset) != NULL;
	epcg_mutex_unlock(&encl->lock);
	if (existed)
		return -EEXIST;
	/* A concurrent access may EAUG it first; either way it exists. */
	return epcg__encl_with_page(encl, thread, offset, EPCG_ENCL_FAULT_AUG,
				    aug_done, NULL);
}

/* ---- ioctl-like calls: EMODPR, EMODT, remove ---- */

/* What one EDMM call does to one resident page, under the lock. */
typedef int edmm_fn(struct epcg_encl *encl, struct epcg_encl_page *page,
		    unsigned arg);

/*
 * The page at @offset, resident, for an EDMM call.  @lock.  Return: 0;
 * -EINVAL (no page); -EAGAIN (try again later); -EINTR; -EFAULT.
 */
static int edmm_page(struct epcg_encl *encl, uint64_t offset,
		     struct epcg_encl_page **ret)
{
	struct epcg_encl_page *page = epcg__encl_page_lookup(encl, offset);
	int err;

	if (!page)
		return -EINVAL;
	if (epcg_atomic_load_acquire(&page->flags) & EPCG_ENCL_PAGE_RECLAIMING)
		return -EAGAIN;
	err = epcg__encl_load(encl, page);
	if (err == -EBUSY)
		return -EAGAIN;
	if (err == -EPCG_ERESTARTSYS)
		return -EINTR;
	if (err)
		return -EFAULT;
	*ret = page;
	return 0;
}

static int edmm_range(struct epcg_encl *encl, uint64_t offset, uint64_t nr,
		      edmm_fn *fn, unsigned arg, uint64_t *ret_done)
{
	struct epcg_encl_page *page;
	uint64_t done = 0;
	int err;

	if (ret_done)
		*ret_done = 0;
	if (!encl || !nr || offset % PAGE || offset >= encl->size ||
	    nr > (encl->size - offset) / PAGE)
		return -EINVAL;
	err = epcg__encl_build_begin(encl);
	if (err)
		return err;
	if (!(epcg_atomic_load_acquire(&encl->state) & EPCG_ENCL_INITIALIZED))
		err = -EINVAL;
	for (; !err && done < nr; done++) {
		epcg__sgx_reclaim_direct(encl->sgx);
		epcg_mutex_lock(&encl->lock);
		err = edmm_page(encl, offset + done * PAGE, &page);
		if (!err)
			err = fn(encl, page, arg);
		epcg_mutex_unlock(&encl->lock);
		if (err)
			break;
	}
	epcg__encl_build_end(encl);
	if (ret_done)
		*ret_done = done;
	return err;
}

static int restrict_one(struct epcg_encl *encl, struct epcg_encl_page *page,
			unsigned prot)
{
	struct epcg_sgx_secinfo si = { .flags = prot };
	int st;

	if (page->type != EPCG_SGX_PT_REG)
		return -EINVAL;
	st = epcg__encls_emodpr(encl->sgx->encls, &si, epcg__encl_pfn(page));
	if (st)
		return -EFAULT;
	page->secinfo =
		(uint8_t)((page->secinfo & ~EPCG_SGX_SECINFO_PERM_MASK) |
			  (page->secinfo & prot) | EPCG_SGX_SECINFO_PR);
	return epcg__encl_etrack(encl);
}

int epcg_encl_restrict_perms(struct epcg_encl *encl, uint64_t offset,
			     uint64_t nr, unsigned prot, uint64_t *ret_done)
{
	if ((prot & ~EPCG_ENCL_PROT_MASK) ||
	    ((prot & EPCG_ENCL_PROT_WRITE) && !(prot & EPCG_ENCL_PROT_READ))) {
		if (ret_done)
			*ret_done = 0;
		return -EINVAL;
	}
	return edmm_range(encl, offset, nr, restrict_one, prot, ret_done);
}

static int modify_one(struct epcg_encl *encl, struct epcg_encl_page *page,
		      unsigned pt)
{
	struct epcg_sgx_secinfo si = secinfo_of(pt, 0);
	int st;

	st = epcg__encls_emodt(encl->sgx->encls, &si, epcg__encl_pfn(page));
	if (st == EPCG_ENCLS_FAULT(EPCG_X86_TRAP_GP))
		return -EINVAL; /* a conversion the hardware refuses */
	if (st)
		return -EFAULT;
	page->type = (uint8_t)pt;
	page->secinfo = EPCG_SGX_SECINFO_MODIFIED;
	return epcg__encl_etrack(encl);
}

int epcg_encl_modify_type(struct epcg_encl *encl, uint64_t offset, uint64_t nr,
			  enum epcg_encl_page_type type, uint64_t *ret_done)
{
	unsigned pt;

	if (type == EPCG_ENCL_PAGE_TCS)
		pt = EPCG_SGX_PT_TCS;
	else if (type == EPCG_ENCL_PAGE_TRIM)
		pt = EPCG_SGX_PT_TRIM;
	else
		pt = EPCG_SGX_PT_NR;
	if (pt == EPCG_SGX_PT_NR) {
		if (ret_done)
			*ret_done = 0;
		return -EINVAL;
	}
	return edmm_range(encl, offset, nr, modify_one, pt, ret_done);
}

static int remove_one(struct epcg_encl *encl, struct epcg_encl_page *page,
		      unsigned unused)
{
	struct epcg_sgx_secinfo probe = { .flags = EPCG_SGX_SECINFO_PERM_MASK };
	struct epcg_sgx *sgx = encl->sgx;
	int st;

	if (page->type != EPCG_SGX_PT_TRIM)
		return -EPERM;
	/*
	 * EMODPR is the kernel's probe for "was the trim accepted?": on an
	 * unaccepted TRIM page it reports SGX_PAGE_NOT_MODIFIABLE, on an
	 * accepted one it faults (#PF: not a REG page) and changes nothing.
	 */
	st = epcg__encls_emodpr(sgx->encls, &probe, epcg__encl_pfn(page));
	if (st != EPCG_ENCLS_FAULT(EPCG_X86_TRAP_PF))
		return -EPERM;
	if (epcg__sgx_unmark_reclaimable(sgx, page->epc_page) == -EBUSY)
		return -EAGAIN; /* a batch holds it: try again */
	st = epcg__encls_eremove(sgx->encls, epcg__encl_pfn(page));
	if (EPCG_WARN_ONCE(st, "encl: EREMOVE of a trimmed page failed: %s",
			   epcg_sgx_status_name(st))) {
		epcg__sgx_mark_reclaimable(sgx, page->epc_page);
		return -EFAULT;
	}
	epcg__sgx_cost(sgx, EPCG_SGX_COST_EREMOVE);
	epcg__sgx_free_page(sgx, page->epc_page);
	page->epc_page = NULL;
	page->type = 0;
	page->secinfo = 0;
	epcg_atomic_store_release(&page->flags, 0);
	encl->page_cnt--;
	encl->nr_pages--;
	return 0;
}

int epcg_encl_remove_pages(struct epcg_encl *encl, uint64_t offset, uint64_t nr,
			   uint64_t *ret_done)
{
	return edmm_range(encl, offset, nr, remove_one, 0, ret_done);
}

/* ---- EACCEPT ---- */

static int accept_one(struct epcg_encl *encl, struct epcg_encl_page *page,
		      void *arg)
{
	struct epcg_encl_thread *t = arg;
	struct epcg_sgx_secinfo si = secinfo_of(page->type, page->secinfo);
	int st;

	if (!(page->secinfo & EPCG_SGX_SECINFO_STATE_MASK))
		return -EINVAL;
	if (epcg_atomic_load_acquire(&page->flags) & EPCG_ENCL_PAGE_RECLAIMING)
		return -EBUSY; /* blocked: fault again once it is out */
	st = epcg__encls_eaccept(encl->sgx->encls, t->secs, &si,
				 epcg__encl_pfn(page));
	if (st == EPCG_SGX_NOT_TRACKED)
		return -EAGAIN;
	if (st == EPCG_ENCLS_FAULT(EPCG_X86_TRAP_PF))
		return -EAGAIN; /* blocked by a failed write-back */
	if (EPCG_WARN_ONCE(st, "encl: EACCEPT failed: %s",
			   epcg_sgx_status_name(st)))
		return -EINVAL;
	page->secinfo &= (uint8_t)~EPCG_SGX_SECINFO_STATE_MASK;
	return 0;
}

int epcg_encl_accept(struct epcg_encl *encl, struct epcg_encl_thread *thread,
		     uint64_t offset)
{
	if (!encl || !thread || offset % PAGE || offset >= encl->size)
		return -EINVAL;
	return epcg__encl_with_page(encl, thread, offset,
				    EPCG_ENCL_FAULT_EXISTING, accept_one,
				    thread);
}
