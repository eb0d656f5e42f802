// SPDX-License-Identifier: MIT
/*
 * The paging leaves - EBLOCK, ETRACK, EWB, ELDU, ELDB - and the thread
 * tracking they depend on (EENTER, EEXIT, the forced AEX).  The model of
 * epochs and the MAC binding are explained at the top of encls.c and
 * crypto.c.
 */
#include <string.h>

#include "crypto-internal.h"
#include "epcm.h"
#include "util/macros.h"

#define GP EPCG_ENCLS_FAULT(EPCG_X86_TRAP_GP)
#define PF EPCG_ENCLS_FAULT(EPCG_X86_TRAP_PF)

/* ---- EBLOCK, ETRACK ---- */

int epcg__encls_eblock(struct epcg_encls *m, uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);
	int ret = 0;

	if (!e)
		return PF;
	if (!entry_lock(e))
		return EPCG_SGX_EPC_PAGE_CONFLICT;
	if (!(e->flags & EPCM_VALID))
		ret = EPCG_SGX_PG_INVLD;
	else if (e->type == EPCG_SGX_PT_SECS)
		ret = EPCG_SGX_PG_IS_SECS;
	else if (e->type == EPCG_SGX_PT_VA)
		ret = EPCG_SGX_NOTBLOCKABLE;
	else if (e->flags & EPCM_BLOCKED)
		ret = EPCG_SGX_BLKSTATE;
	else {
		e->flags |= EPCM_BLOCKED;
		e->epoch = secs_epoch(e->owner);
	}
	entry_unlock(e);
	return ret;
}

static int etrack_secs(struct epcg_secs *s)
{
	uint64_t w = epcg_atomic_load_relaxed(&s->track), n;

	do {
		if (track_prev(w))
			return EPCG_SGX_PREV_TRK_INCMPL;
		n = track_word(track_epoch(w) + 1, 0, track_cur(w));
	} while (!epcg_atomic_cas_acq_rel(&s->track, &w, n));
	return 0;
}

int epcg__encls_etrack(struct epcg_encls *m, uint64_t secs_pfn)
{
	struct epcm_entry *se;
	struct epcg_secs *s;
	int ret;

	ret = epcg__epcm_secs_get(m, secs_pfn, &se, &s);
	if (ret)
		return ret;
	ret = etrack_secs(s);
	entry_unlock_shared(se);
	return ret;
}

/* ---- EWB ---- */

/*
 * Check that @e may be written out and say which enclave id goes into the
 * MAC header (@hdr_eid) and into the PCMD (@pcmd_eid).
 */
static int ewb_check(struct epcm_entry *e, uint64_t *hdr_eid,
		     uint64_t *pcmd_eid)
{
	struct epcg_secs *s = e->owner;

	switch (e->type) {
	case EPCG_SGX_PT_SECS:
		if (epcg__secs_nr_children(s))
			return EPCG_SGX_CHILD_PRESENT;
		*hdr_eid = 0;
		*pcmd_eid = s->eid;
		return 0;
	case EPCG_SGX_PT_VA:
		*hdr_eid = 0;
		*pcmd_eid = 0;
		return 0;
	default:
		if (!(e->flags & EPCM_BLOCKED))
			return EPCG_SGX_PAGE_NOT_BLOCKED;
		if (!secs_tracked(s, e->epoch))
			return EPCG_SGX_NOT_TRACKED;
		*hdr_eid = s->eid;
		*pcmd_eid = s->eid;
		return 0;
	}
}

static int ewb_locked(struct epcg_encls *m, struct epcm_entry *e,
		      struct epcm_entry *va, unsigned slot,
		      struct epcg_sgx_pageinfo *pi)
{
	uint8_t hdr[EPCG_PAGING_HEADER_SIZE];
	struct epcg_sgx_pcmd pcmd;
	uint64_t hdr_eid, version, old;
	int ret;

	if (!(e->flags & EPCM_VALID) || !entry_is(va, EPCG_SGX_PT_VA))
		return PF;
	ret = ewb_check(e, &hdr_eid, &pcmd.enclave_id);
	if (ret)
		return ret;
	memset(&pcmd.secinfo, 0, sizeof(pcmd.secinfo));
	pcmd.secinfo.flags = entry_secinfo(e);
	memset(pcmd.reserved, 0, sizeof(pcmd.reserved));
	epcg__paging_header(hdr, &pcmd, e->linaddr, hdr_eid);
	version = epcg__paging_next_version(m->crypto);
	if (EPCG_WARN_ONCE(epcg__paging_seal(m->crypto, version, hdr,
					     entry_frame(m, e), pi->srcpge,
					     pcmd.mac),
			   "paging seal failed"))
		return GP;
	memcpy(pi->pcmd, &pcmd, sizeof(pcmd));
	pi->linaddr = e->linaddr;
	old = va_slot_xchg(m, va, slot, version);
	e->flags = 0;
	if (e->type == EPCG_SGX_PT_SECS)
		epcg_atomic_store_release(&e->owner->pfn, EPCG_SGX_NO_PFN);
	else if (type_is_child(e->type))
		epcg_atomic_fetch_sub_acq_rel(&e->owner->nr_children, 1);
	return old ? EPCG_SGX_VA_SLOT_OCCUPIED : 0;
}

int epcg__encls_ewb(struct epcg_encls *m, struct epcg_sgx_pageinfo *pi,
		    uint64_t pfn, uint64_t va_pfn, unsigned va_slot)
{
	struct epcm_entry *e = entry(m, pfn), *va = entry(m, va_pfn);
	int ret;

	if (!e || !va)
		return PF;
	if (!pi || !pi->srcpge || !pi->pcmd)
		return PF;
	if (va_slot >= EPCG_SGX_VA_SLOT_NR || va_pfn == pfn)
		return GP;
	if (!entry_lock(e))
		return GP;
	ret = GP;
	if (!entry_lock_shared(va))
		goto out_unlock;
	ret = ewb_locked(m, e, va, va_slot, pi);
	entry_unlock_shared(va);
out_unlock:
	entry_unlock(e);
	return ret;
}

/* ---- ELDU, ELDB ---- */

enum eld_kind { ELD_UNBLOCKED, ELD_BLOCKED };

/*
 * After a SECS blob opened: find the enclave state its frame names and
 * check it is the enclave the PCMD names and that it is not resident.
 */
static struct epcg_secs *eld_secs_state(struct epcg_encls *m, void *frame,
					uint64_t pcmd_eid)
{
	struct secs_hidden *h = secs_hidden(frame);
	struct epcg_secs *s = h->state;

	if (!s || s->m != m || s->eid != h->eid || h->eid != pcmd_eid ||
	    epcg__secs_pfn(s) != EPCG_SGX_NO_PFN)
		return NULL;
	return s;
}

static int eld_locked(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		      struct epcm_entry *e, uint64_t pfn, struct epcm_entry *va,
		      unsigned slot, enum eld_kind kind)
{
	uint8_t hdr[EPCG_PAGING_HEADER_SIZE];
	struct epcm_entry *se = NULL;
	struct epcg_sgx_pcmd pcmd;
	struct epcg_secs *s = NULL;
	uint64_t version, eid = 0;
	unsigned pt, flags;
	int ret;

	if ((e->flags & EPCM_VALID) || !entry_is(va, EPCG_SGX_PT_VA))
		return PF;
	/* Untrusted memory: read the PCMD once, then use the copy only. */
	memcpy(&pcmd, pi->pcmd, sizeof(pcmd));
	pt = secinfo_type(pcmd.secinfo.flags);
	if (type_is_child(pt)) {
		ret = epcg__epcm_secs_get(m, pi->secs, &se, &s);
		if (ret)
			return ret;
		eid = s->eid;
	}
	ret = EPCG_SGX_MAC_COMPARE_FAIL;
	if (pt >= EPCG_SGX_PT_NR ||
	    (pt != EPCG_SGX_PT_SECS && pcmd.enclave_id != eid))
		goto out_wipe;
	epcg__paging_header(hdr, &pcmd, pi->linaddr, eid);
	version = va_slot_load(m, va, slot);
	if (epcg__paging_open_from(m->crypto, version, hdr, pi->srcpge, pi->src,
				   pcmd.mac, entry_frame(m, e)))
		goto out_wipe;
	if (pt == EPCG_SGX_PT_SECS) {
		s = eld_secs_state(m, entry_frame(m, e), pcmd.enclave_id);
		if (!s)
			goto out_wipe;
	}
	ret = GP;
	if (!va_slot_clear(m, va, slot, version))
		goto out_wipe;
	flags = pcmd.secinfo.flags & EPCM_SECINFO_MASK;
	if (kind == ELD_BLOCKED && type_is_child(pt))
		flags |= EPCM_BLOCKED;
	entry_set(e, pt, flags, pi->linaddr, s);
	if (type_is_child(pt)) {
		e->epoch = secs_epoch(s);
		epcg_atomic_fetch_add_acq_rel(&s->nr_children, 1);
	} else if (pt == EPCG_SGX_PT_SECS) {
		epcg_atomic_store_release(&s->pfn, pfn);
	}
	ret = 0;
	goto out_unlock_secs;

out_wipe:
	memset(entry_frame(m, e), 0, EPCG_PAGE_SIZE);
out_unlock_secs:
	if (se)
		entry_unlock_shared(se);
	return ret;
}

static int eld(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
	       uint64_t pfn, uint64_t va_pfn, unsigned va_slot,
	       enum eld_kind kind)
{
	struct epcm_entry *e = entry(m, pfn), *va = entry(m, va_pfn);
	int ret;

	if (!e || !va)
		return PF;
	if (!pi || !pi->srcpge || !pi->pcmd)
		return PF;
	if (va_slot >= EPCG_SGX_VA_SLOT_NR || va_pfn == pfn)
		return GP;
	if (!entry_lock(e))
		return GP;
	ret = GP;
	if (!entry_lock_shared(va))
		goto out_unlock;
	ret = eld_locked(m, pi, e, pfn, va, va_slot, kind);
	entry_unlock_shared(va);
out_unlock:
	entry_unlock(e);
	return ret;
}

int epcg__encls_eldu(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		     uint64_t pfn, uint64_t va_pfn, unsigned va_slot)
{
	return eld(m, pi, pfn, va_pfn, va_slot, ELD_UNBLOCKED);
}

int epcg__encls_eldb(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		     uint64_t pfn, uint64_t va_pfn, unsigned va_slot)
{
	return eld(m, pi, pfn, va_pfn, va_slot, ELD_BLOCKED);
}

/* ---- thread tracking ---- */

void epcg__encl_thread_init(struct epcg_encl_thread *t)
{
	t->secs = NULL;
	t->epoch = 0;
	epcg_list_init(&t->node);
	epcg_atomic_init(&t->state, EPCG_ENCL_THREAD_OUTSIDE);
}

int epcg__encl_eenter(struct epcg_secs *s, struct epcg_encl_thread *t)
{
	uint64_t w, n;
	int ret = 0;

	if (!s || !t || !epcg__secs_initialized(s))
		return GP;
	if (epcg__encl_kicked(t))
		epcg__encl_eexit(t);
	if (epcg_atomic_load_acquire(&t->state) != EPCG_ENCL_THREAD_OUTSIDE)
		return GP;
	epcg_mutex_lock(&s->threads_lock);
	w = epcg_atomic_load_relaxed(&s->track);
	do {
		if (track_cur(w) == TRACK_MAX_INSIDE) {
			ret = GP;
			goto out_unlock;
		}
		n = w + ((uint64_t)1 << 16);
	} while (!epcg_atomic_cas_acq_rel(&s->track, &w, n));
	t->secs = s;
	t->epoch = track_epoch(n);
	epcg_list_add_tail(&t->node, &s->threads);
	epcg_atomic_store_release(&t->state, EPCG_ENCL_THREAD_INSIDE);
out_unlock:
	epcg_mutex_unlock(&s->threads_lock);
	return ret;
}

/*
 * The tracking word after a thread that entered in @epoch leaves: it
 * counts in the current epoch or, after one ETRACK, in the previous one.
 * Unchanged if neither count can hold it (a bug).
 */
static uint64_t track_leave(uint64_t w, uint32_t epoch)
{
	if (track_epoch(w) == epoch && track_cur(w))
		return w - ((uint64_t)1 << 16);
	if (track_epoch(w) - epoch == 1 && track_prev(w))
		return w - 1;
	return w;
}

void epcg__encl_eexit(struct epcg_encl_thread *t)
{
	struct epcg_secs *s = t->secs;
	uint64_t w, n;

	if (!s)
		return;
	epcg_mutex_lock(&s->threads_lock);
	if (epcg_atomic_load_relaxed(&t->state) == EPCG_ENCL_THREAD_INSIDE) {
		epcg_list_del_init(&t->node);
		w = epcg_atomic_load_relaxed(&s->track);
		do {
			n = track_leave(w, t->epoch);
			/* A count at zero here would borrow across fields. */
			if (EPCG_WARN_ONCE(n == w, "thread tracking underflow"))
				break;
		} while (!epcg_atomic_cas_acq_rel(&s->track, &w, n));
	}
	t->secs = NULL;
	epcg_atomic_store_release(&t->state, EPCG_ENCL_THREAD_OUTSIDE);
	epcg_mutex_unlock(&s->threads_lock);
}

unsigned epcg__encl_force_aex(struct epcg_secs *s)
{
	struct epcg_encl_thread *t, *tmp;
	uint64_t w;
	unsigned n = 0;

	epcg_mutex_lock(&s->threads_lock);
	epcg_list_for_each_entry_safe(t, tmp, &s->threads, node) {
		epcg_list_del_init(&t->node);
		epcg_atomic_store_release(&t->state, EPCG_ENCL_THREAD_KICKED);
		n++;
	}
	w = epcg_atomic_load_relaxed(&s->track);
	while (!epcg_atomic_cas_acq_rel(&s->track, &w,
					track_word(track_epoch(w), 0, 0)))
		;
	epcg_mutex_unlock(&s->threads_lock);
	return n;
}
