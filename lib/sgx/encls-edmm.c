// SPDX-License-Identifier: MIT
/*
 * The EDMM leaves (SGX2): EAUG adds a page to a running enclave, EMODPR
 * restricts a page's permissions, EMODT changes its type, and EACCEPT is
 * the enclave's confirmation of each.  A change the enclave must accept
 * records the entry epoch, and EACCEPT waits for the tracking cycle that
 * flushes stale mappings, as EWB does after EBLOCK.
 */
#include <string.h>

#include "epcm.h"

#define GP EPCG_ENCLS_FAULT(EPCG_X86_TRAP_GP)
#define PF EPCG_ENCLS_FAULT(EPCG_X86_TRAP_PF)

/* ---- EDMM: EAUG, EMODPR, EMODT, EACCEPT ---- */

int epcg__encls_eaug(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		     uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn), *se;
	struct epcg_secs *s;
	int ret;

	if (!e)
		return PF;
	if (!pi)
		return GP;
	if (!entry_lock(e))
		return GP;
	ret = PF;
	if (e->flags & EPCM_VALID)
		goto out_unlock;
	ret = epcg__epcm_secs_get(m, pi->secs, &se, &s);
	if (ret)
		goto out_unlock;
	ret = GP;
	if (!epcg__secs_initialized(s) || !in_elrange(s, pi->linaddr))
		goto out_unlock_secs;
	memset(entry_frame(m, e), 0, EPCG_PAGE_SIZE);
	entry_set(e, EPCG_SGX_PT_REG,
		  EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_W |
			  EPCG_SGX_SECINFO_PENDING,
		  pi->linaddr, s);
	epcg_atomic_fetch_add_acq_rel(&s->nr_children, 1);
	ret = 0;
out_unlock_secs:
	entry_unlock_shared(se);
out_unlock:
	entry_unlock(e);
	return ret;
}

/*
 * Common front of EMODPR and EMODT: @e is a valid child of an initialized
 * enclave, not in the middle of another change.  Called with @e held.
 */
static int emod_check(const struct epcm_entry *e)
{
	if (!(e->flags & EPCM_VALID) || !type_is_child(e->type))
		return PF;
	if (!epcg__secs_initialized(e->owner))
		return GP;
	if (e->flags & (EPCG_SGX_SECINFO_PENDING | EPCG_SGX_SECINFO_MODIFIED))
		return EPCG_SGX_PAGE_NOT_MODIFIABLE;
	return 0;
}

int epcg__encls_emodpr(struct epcg_encls *m, const struct epcg_sgx_secinfo *si,
		       uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);
	int ret;

	if (!e)
		return PF;
	if (!si || (si->flags & ~(uint64_t)EPCG_SGX_SECINFO_PERM_MASK) ||
	    !all_zero(si->reserved, sizeof(si->reserved)))
		return GP;
	if (!entry_lock(e))
		return EPCG_SGX_EPC_PAGE_CONFLICT;
	ret = emod_check(e);
	if (!ret && e->type != EPCG_SGX_PT_REG)
		ret = PF;
	if (!ret) {
		e->flags &= ~EPCG_SGX_SECINFO_PERM_MASK |
			    (si->flags & EPCG_SGX_SECINFO_PERM_MASK);
		e->flags |= EPCG_SGX_SECINFO_PR;
		e->epoch = secs_epoch(e->owner);
	}
	entry_unlock(e);
	return ret;
}

int epcg__encls_emodt(struct epcg_encls *m, const struct epcg_sgx_secinfo *si,
		      uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);
	unsigned pt;
	int ret;

	if (!e)
		return PF;
	if (!si || (si->flags & ~(uint64_t)EPCG_SGX_SECINFO_PT_MASK) ||
	    !all_zero(si->reserved, sizeof(si->reserved)))
		return GP;
	pt = secinfo_type(si->flags);
	if (pt != EPCG_SGX_PT_TCS && pt != EPCG_SGX_PT_TRIM)
		return GP;
	if (!entry_lock(e))
		return EPCG_SGX_EPC_PAGE_CONFLICT;
	ret = emod_check(e);
	if (!ret && e->type == EPCG_SGX_PT_TRIM)
		ret = PF;
	if (!ret && pt == EPCG_SGX_PT_TCS && e->type != EPCG_SGX_PT_REG)
		ret = GP;
	if (!ret) {
		e->type = pt;
		e->flags = (e->flags & (EPCM_VALID | EPCM_BLOCKED)) |
			   EPCG_SGX_SECINFO_MODIFIED;
		e->epoch = secs_epoch(e->owner);
	}
	entry_unlock(e);
	return ret;
}

static int eaccept_locked(struct epcm_entry *e, struct epcg_secs *s,
			  uint64_t want)
{
	const unsigned track = EPCG_SGX_SECINFO_MODIFIED | EPCG_SGX_SECINFO_PR;

	if (!(e->flags & EPCM_VALID) || e->owner != s ||
	    (e->flags & EPCM_BLOCKED))
		return PF;
	if (want != entry_secinfo(e) || !(want & EPCG_SGX_SECINFO_STATE_MASK))
		return EPCG_SGX_PAGE_ATTRIBUTES_MISMATCH;
	if ((want & track) && !secs_tracked(s, e->epoch))
		return EPCG_SGX_NOT_TRACKED;
	e->flags &= ~EPCG_SGX_SECINFO_STATE_MASK;
	return 0;
}

int epcg__encls_eaccept(struct epcg_encls *m, struct epcg_secs *s,
			const struct epcg_sgx_secinfo *si, uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);
	int ret;

	if (!e)
		return PF;
	if (!s || !si || (si->flags & EPCG_SGX_SECINFO_RESERVED_MASK) ||
	    !all_zero(si->reserved, sizeof(si->reserved)))
		return GP;
	if (!entry_lock(e))
		return GP;
	ret = eaccept_locked(e, s, si->flags);
	entry_unlock(e);
	return ret;
}
