// SPDX-License-Identifier: MIT
/*
 * The emulated ENCLS leaves: the hardware side of SGX paging.
 *
 * What the model is
 * -----------------
 * The EPCM is an array with one entry per EPC frame, indexed by the frame
 * number (pfn), beside the frames themselves; only the leaves read or
 * write it, as only the CPU does on hardware.  An entry holds what
 * the SDM makes architecturally visible - VALID, page type, R/W/X, PENDING,
 * MODIFIED, PR, BLOCKED, the owning enclave and the enclave linear address
 * - plus the one thing an emulator must add: the entry epoch recorded by
 * EBLOCK (and by EMODPR/EMODT), which EWB and EACCEPT compare with the
 * enclave's tracking state.
 *
 * Each enclave has a struct epcg_secs beside its SECS page: the enclave id
 * (EID), ELRANGE, attributes, the running SHA-256 measurement, the
 * initialized flag, the count of resident children and the tracking word.
 * On hardware all of that lives inside the SECS page; here the SECS frame
 * holds the architectural fields copied by ECREATE plus, in its reserved
 * bytes, the EID and a pointer to that state.  EWB seals the whole frame,
 * so when ELDU opens a SECS blob the pointer comes back authenticated and
 * the enclave finds its state again, wherever the new frame is.
 *
 * Entry epochs and tracking
 * -------------------------
 * The tracking word of an enclave packs {epoch, threads inside that entered
 * in this epoch, threads inside from the previous epoch} into one 64-bit
 * atomic, so EENTER, EEXIT, ETRACK and the IPI analogue never disagree:
 *
 *	EENTER    cur + 1, the thread remembers the epoch
 *	EEXIT     cur - 1 or prev - 1, by the remembered epoch
 *	ETRACK    refuse (SGX_PREV_TRK_INCMPL) while prev > 0; else
 *	          epoch + 1, prev = cur, cur = 0
 *	force AEX cur = prev = 0; every inside thread is marked kicked
 *
 * A thread inside is always from the current or the previous epoch, since
 * ETRACK refuses to start a cycle before the last one drained.  A page
 * blocked in epoch b is tracked when epoch > b + 1, or epoch == b + 1 and
 * prev == 0: every thread that could still hold a mapping made before the
 * EBLOCK has left.  Epochs are 32-bit and compared by difference; after a
 * wrap a page may look untracked, never falsely tracked.
 *
 * Concurrency
 * -----------
 * Each entry has a busy word taken with one compare-and-swap: exclusive by
 * the leaf that changes the entry, shared by leaves that only need an
 * operand to stay as it is (a child's SECS in EADD/EAUG/ELDU, a VA page in
 * EWB/ELDU).  Hardware does not wait for a busy page either: EBLOCK,
 * EMODPR and EMODT return SGX_EPC_PAGE_CONFLICT, the other leaves #GP.
 * Entry fields are plain and read or written only under the busy word,
 * whose acquire/release orders them.  VA slots are updated with atomic
 * exchange and compare-and-swap, so two EWBs into one VA page need no
 * exclusive hold.  A SECS cannot leave while a child loads because the
 * load holds the SECS shared and SECS EWB/EREMOVE need it exclusively;
 * the child count only grows under that shared hold.
 *
 * Exact, simplified, left out
 * ---------------------------
 * Exact: the status codes, their values and which checks produce them;
 * VA_SLOT_OCCUPIED as a warning that still evicts; BLKSTATE as
 * informational; EPC_PAGE_CONFLICT for the leaves that report it; the MAC
 * binding (type, permissions, state bits, address, enclave, version);
 * anti-replay by clearing the VA slot; EID 0 in the header of SECS and VA
 * pages; MRENCLAVE computed with the SDM's 64-byte update blocks for
 * ECREATE, EADD and EEXTEND.
 * Simplified: operands are pfns and slot numbers, not addresses (a pfn
 * outside the EPC is #PF, a bad slot or offset #GP); EINIT checks the
 * measurement and attributes against a reduced SIGSTRUCT without a
 * signature; EEXTEND measures what EADD copied; EENTER/EEXIT only track
 * presence (no TCS, no SSA); ETRACK is atomic, so SGX_ENTRYEPOCH_LOCKED
 * never happens; the running SHA-256 state stays outside the SECS frame
 * (an EWB of an unfinished enclave keeps it); TCS contents are not
 * validated.
 * Left out: EDBGRD/EDBGWR, EGETKEY, EREPORT, ELDBC/ELDUC, virtualization.
 *
 * Files: this one holds the machine, the enclave state and the leaves
 * that build an enclave (ECREATE, EADD, EEXTEND, EINIT, EREMOVE, EPA);
 * encls-paging.c the paging leaves and thread tracking; encls-edmm.c the
 * SGX2 leaves; epcm.h what the three share.
 *
 * Status, fault and errno
 * -----------------------
 * A leaf returns 0, a positive EPCG_SGX_* status, or EPCG_ENCLS_FAULT_FLAG
 * | trap number.  Statuses are what hardware puts in RAX; faults are what
 * hardware raises; neither is an errno, and no leaf returns one: the
 * enclave and reclaim layers translate at their boundary.  A fault and
 * every status except the VA_SLOT_OCCUPIED warning leave the machine as
 * it was (a failed ELDU zeroes the target frame, which is invalid anyway).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto-internal.h"
#include "epcm.h"
#include "util/alloc.h"
#include "util/macros.h"

#define GP EPCG_ENCLS_FAULT(EPCG_X86_TRAP_GP)
#define PF EPCG_ENCLS_FAULT(EPCG_X86_TRAP_PF)

_Static_assert(sizeof(struct epcg_sgx_secinfo) == 64, "SECINFO layout");
_Static_assert(sizeof(struct epcg_sgx_pcmd) == 128, "PCMD layout");
_Static_assert(offsetof(struct epcg_sgx_pcmd, mac) == 112, "PCMD layout");
_Static_assert(sizeof(struct epcg_sgx_secs) == 4096, "SECS layout");
_Static_assert(offsetof(struct epcg_sgx_secs, mrenclave) == 64, "SECS layout");
_Static_assert(offsetof(struct epcg_sgx_secs, isv_prod_id) == 256,
	       "SECS layout");

/* ---- the machine ---- */

int epcg__encls_create(uint64_t nr_frames, epcg_encls_frame_fn frame, void *arg,
		       struct epcg_encls **ret)
{
	struct epcg_encls *m;
	uint64_t pfn;
	int err;

	if (!nr_frames || !frame || !ret)
		return -EINVAL;
	m = epcg_calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->nr = nr_frames;
	epcg_atomic_init(&m->next_eid, 1);
	m->epcm = epcg_calloc(nr_frames, sizeof(*m->epcm));
	if (!m->epcm) {
		err = -ENOMEM;
		goto err_free_m;
	}
	for (pfn = 0; pfn < nr_frames; pfn++) {
		void *f = frame(arg, pfn);

		if (!f || (uintptr_t)f % EPCG_PAGE_SIZE) {
			err = -EINVAL;
			goto err_free_epcm;
		}
		epcg_atomic_init(&m->epcm[pfn].busy, 0);
	}
	m->frame = frame;
	m->frame_arg = arg;
	err = epcg__paging_crypto_create(&m->crypto);
	if (err)
		goto err_free_epcm;
	*ret = m;
	return 0;

err_free_epcm:
	free(m->epcm);
err_free_m:
	free(m);
	return err;
}

void epcg__encls_destroy(struct epcg_encls *m)
{
	if (!m)
		return;
	epcg__paging_crypto_destroy(m->crypto);
	free(m->epcm);
	free(m);
}

uint64_t epcg__encls_nr_frames(const struct epcg_encls *m)
{
	return m->nr;
}

void *epcg__encls_frame(struct epcg_encls *m, uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);

	return e ? entry_frame(m, e) : NULL;
}

int epcg__epcm_read(struct epcg_encls *m, uint64_t pfn,
		    struct epcg_epcm_info *ret)
{
	struct epcm_entry *e = entry(m, pfn);

	if (!e || !ret)
		return -EINVAL;
	ret->valid = e->flags & EPCM_VALID;
	ret->blocked = e->flags & EPCM_BLOCKED;
	ret->type = e->type;
	ret->flags = e->flags & EPCM_SECINFO_MASK;
	ret->linaddr = e->linaddr;
	ret->owner = e->owner;
	ret->epoch = e->epoch;
	return 0;
}

int epcg__epcm_hold(struct epcg_encls *m, uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);

	if (!e)
		return -EINVAL;
	return entry_lock(e) ? 0 : -EBUSY;
}

void epcg__epcm_release(struct epcg_encls *m, uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);

	if (e)
		entry_unlock(e);
}

/* ---- enclave state ---- */

int epcg__secs_create(struct epcg_encls *m, struct epcg_secs **ret)
{
	struct epcg_secs *s;

	if (!m || !ret)
		return -EINVAL;
	s = epcg_calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->m = m;
	s->sha = EVP_MD_CTX_new();
	s->sha_final = EVP_MD_CTX_new();
	/*
	 * MRENCLAVE starts here, not in ECREATE: starting a digest may need
	 * host memory, and a leaf has no way to report running out of it.
	 * ECREATE takes a state only once (its eid), so the digest is fresh.
	 */
	if (!s->sha || !s->sha_final ||
	    EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(s->sha);
		EVP_MD_CTX_free(s->sha_final);
		free(s);
		return -ENOMEM;
	}
	epcg_atomic_init(&s->pfn, EPCG_SGX_NO_PFN);
	epcg_atomic_init(&s->initialized, false);
	epcg_atomic_init(&s->nr_children, 0);
	epcg_atomic_init(&s->track, track_word(0, 0, 0));
	epcg_mutex_init(&s->measure_lock);
	epcg_mutex_init(&s->threads_lock);
	epcg_list_init(&s->threads);
	*ret = s;
	return 0;
}

void epcg__secs_destroy(struct epcg_secs *s)
{
	if (!s)
		return;
	if (EPCG_WARN_ONCE(epcg__secs_pfn(s) != EPCG_SGX_NO_PFN ||
				   epcg__secs_nr_children(s) ||
				   epcg__secs_nr_inside(s),
			   "enclave %llu destroyed while in use",
			   (unsigned long long)s->eid))
		return;
	EVP_MD_CTX_free(s->sha);
	EVP_MD_CTX_free(s->sha_final);
	epcg_mutex_finish(&s->measure_lock);
	epcg_mutex_finish(&s->threads_lock);
	free(s);
}

uint64_t epcg__secs_eid(const struct epcg_secs *s)
{
	return s->eid;
}

uint64_t epcg__secs_pfn(const struct epcg_secs *s)
{
	return epcg_atomic_load_acquire(&((struct epcg_secs *)s)->pfn);
}

bool epcg__secs_initialized(const struct epcg_secs *s)
{
	return epcg_atomic_load_acquire(&((struct epcg_secs *)s)->initialized);
}

uint64_t epcg__secs_nr_children(const struct epcg_secs *s)
{
	return epcg_atomic_load_acquire(&((struct epcg_secs *)s)->nr_children);
}

unsigned epcg__secs_nr_inside(const struct epcg_secs *s)
{
	uint64_t w = epcg_atomic_load_acquire(&((struct epcg_secs *)s)->track);

	return track_cur(w) + track_prev(w);
}

void epcg__secs_mrenclave(const struct epcg_secs *s, uint8_t out[32])
{
	struct epcg_secs *w = (struct epcg_secs *)s;

	epcg_mutex_lock(&w->measure_lock);
	memcpy(out, w->mrenclave, sizeof(w->mrenclave));
	epcg_mutex_unlock(&w->measure_lock);
}

/* ---- measurement: 64-byte update blocks as the SDM defines them ---- */

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void measure(struct epcg_secs *s, const uint8_t block[64],
		    const void *data, size_t len)
{
	int ok;

	epcg_mutex_lock(&s->measure_lock);
	ok = EVP_DigestUpdate(s->sha, block, 64) == 1 &&
	     (!len || EVP_DigestUpdate(s->sha, data, len) == 1);
	epcg_mutex_unlock(&s->measure_lock);
	EPCG_WARN_ONCE(!ok, "SHA-256 update failed; MRENCLAVE is wrong");
}

int epcg__epcm_secs_get(struct epcg_encls *m, uint64_t secs_pfn,
			struct epcm_entry **se, struct epcg_secs **ret)
{
	struct epcm_entry *e = entry(m, secs_pfn);

	if (!e)
		return PF;
	if (!entry_lock_shared(e))
		return GP;
	if (!entry_is(e, EPCG_SGX_PT_SECS)) {
		entry_unlock_shared(e);
		return PF;
	}
	*se = e;
	*ret = e->owner;
	return 0;
}

/* ---- ECREATE, EADD, EEXTEND, EINIT ---- */

static int check_secs_source(const struct epcg_sgx_pageinfo *pi)
{
	const struct epcg_sgx_secs *src = pi->srcpge;
	const struct epcg_sgx_secinfo *si = pi->secinfo;

	if (!src || !si)
		return PF;
	if (si->flags != EPCG_SGX_SECINFO_PT(EPCG_SGX_PT_SECS) ||
	    !all_zero(si->reserved, sizeof(si->reserved)))
		return GP;
	if (src->size < 2 * EPCG_PAGE_SIZE || (src->size & (src->size - 1)) ||
	    src->base % src->size || !src->ssa_frame_size ||
	    (src->attributes & EPCG_SGX_ATTR_INIT) ||
	    !all_zero(src->reserved1, sizeof(src->reserved1)) ||
	    !all_zero(src->reserved2, sizeof(src->reserved2)) ||
	    !all_zero(src->reserved3, sizeof(src->reserved3)) ||
	    !all_zero(src->reserved4, sizeof(src->reserved4)))
		return GP;
	return 0;
}

int epcg__encls_ecreate(struct epcg_encls *m,
			const struct epcg_sgx_pageinfo *pi, uint64_t pfn,
			struct epcg_secs *s)
{
	struct epcm_entry *e = entry(m, pfn);
	const struct epcg_sgx_secs *src;
	struct epcg_sgx_secs *secs;
	uint8_t block[64] = "ECREATE";
	int ret;

	if (!e)
		return PF;
	if (!pi)
		return GP;
	ret = check_secs_source(pi);
	if (ret)
		return ret;
	if (!s || s->m != m || s->eid)
		return GP;
	if (!entry_lock(e))
		return GP;
	if (e->flags & EPCM_VALID) {
		entry_unlock(e);
		return PF;
	}
	src = pi->srcpge;
	secs = entry_frame(m, e);
	memcpy(secs, src, sizeof(*secs));
	s->eid = epcg_atomic_fetch_add_relaxed(&m->next_eid, 1);
	s->base = src->base;
	s->size = src->size;
	s->attributes = src->attributes;
	s->ssa_frame_size = src->ssa_frame_size;
	secs_hidden(secs)->eid = s->eid;
	secs_hidden(secs)->state = s;
	put_le(block + 8, s->ssa_frame_size, 4);
	put_le(block + 12, s->size, 8);
	measure(s, block, NULL, 0);
	epcg_atomic_store_release(&s->pfn, pfn);
	entry_set(e, EPCG_SGX_PT_SECS, 0, 0, s);
	entry_unlock(e);
	return 0;
}

static int check_eadd_secinfo(const struct epcg_sgx_secinfo *si)
{
	uint64_t f = si->flags;
	unsigned pt = secinfo_type(f);

	if ((f & EPCG_SGX_SECINFO_RESERVED_MASK) ||
	    (f & EPCG_SGX_SECINFO_STATE_MASK) ||
	    !all_zero(si->reserved, sizeof(si->reserved)))
		return GP;
	if (pt != EPCG_SGX_PT_REG && pt != EPCG_SGX_PT_TCS)
		return GP;
	if ((f & EPCG_SGX_SECINFO_W) && !(f & EPCG_SGX_SECINFO_R))
		return GP;
	return 0;
}

int epcg__encls_eadd(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		     uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn), *se;
	uint8_t block[64] = "EADD";
	struct epcg_secs *s;
	unsigned pt, perm;
	int ret;

	if (!e)
		return PF;
	if (!pi || !pi->srcpge || !pi->secinfo)
		return PF;
	ret = check_eadd_secinfo(pi->secinfo);
	if (ret)
		return ret;
	if (!entry_lock(e))
		return GP;
	ret = PF;
	if (e->flags & EPCM_VALID)
		goto out_unlock;
	ret = epcg__epcm_secs_get(m, pi->secs, &se, &s);
	if (ret)
		goto out_unlock;
	ret = GP;
	if (epcg__secs_initialized(s) || !in_elrange(s, pi->linaddr))
		goto out_unlock_secs;
	pt = secinfo_type(pi->secinfo->flags);
	perm = pi->secinfo->flags & EPCG_SGX_SECINFO_PERM_MASK;
	memcpy(entry_frame(m, e), pi->srcpge, EPCG_PAGE_SIZE);
	put_le(block + 8, pi->linaddr - s->base, 8);
	memcpy(block + 16, pi->secinfo, 48);
	measure(s, block, NULL, 0);
	entry_set(e, pt, pt == EPCG_SGX_PT_TCS ? 0 : perm, pi->linaddr, s);
	epcg_atomic_fetch_add_acq_rel(&s->nr_children, 1);
	ret = 0;
out_unlock_secs:
	entry_unlock_shared(se);
out_unlock:
	entry_unlock(e);
	return ret;
}

int epcg__encls_eextend(struct epcg_encls *m, uint64_t secs_pfn, uint64_t pfn,
			unsigned offset)
{
	struct epcm_entry *e = entry(m, pfn), *se;
	uint8_t block[64] = "EEXTEND";
	struct epcg_secs *s;
	int ret;

	if (!e || !entry(m, secs_pfn))
		return PF;
	if (offset % 256 || offset >= EPCG_PAGE_SIZE || pfn == secs_pfn)
		return GP;
	ret = epcg__epcm_secs_get(m, secs_pfn, &se, &s);
	if (ret)
		return ret;
	ret = GP;
	if (!entry_lock_shared(e))
		goto out_unlock_secs;
	ret = PF;
	if (!(e->flags & EPCM_VALID) || !type_is_child(e->type) ||
	    e->owner != s)
		goto out_unlock;
	ret = GP;
	if (epcg__secs_initialized(s))
		goto out_unlock;
	put_le(block + 8, e->linaddr + offset - s->base, 8);
	measure(s, block, (const uint8_t *)entry_frame(m, e) + offset, 256);
	ret = 0;
out_unlock:
	entry_unlock_shared(e);
out_unlock_secs:
	entry_unlock_shared(se);
	return ret;
}

static int einit_locked(struct epcg_encls *m, struct epcm_entry *e,
			const struct epcg_sgx_sigstruct *sig)
{
	struct epcg_secs *s = e->owner;
	struct epcg_sgx_secs *secs = entry_frame(m, e);
	uint8_t md[32];
	unsigned len = 0;
	int ok;

	if (epcg__secs_initialized(s))
		return GP;
	if ((s->attributes & sig->attribute_mask) !=
	    (sig->attributes & sig->attribute_mask))
		return EPCG_SGX_INVALID_ATTRIBUTE;
	/*
	 * The digest is finished on a copy, so that a failed EINIT leaves the
	 * measurement open as the hardware does.  The copy needs host
	 * memory; without it the leaf ends as an interrupted EINIT would
	 * (SGX_UNMASKED_EVENT): nothing changed, a retry may succeed.
	 */
	epcg_mutex_lock(&s->measure_lock);
	ok = EVP_MD_CTX_copy_ex(s->sha_final, s->sha) == 1 &&
	     EVP_DigestFinal_ex(s->sha_final, md, &len) == 1 &&
	     len == sizeof(md);
	if (ok && !CRYPTO_memcmp(md, sig->enclave_hash, sizeof(md)))
		memcpy(s->mrenclave, md, sizeof(md));
	epcg_mutex_unlock(&s->measure_lock);
	if (!ok)
		return EPCG_SGX_UNMASKED_EVENT;
	if (CRYPTO_memcmp(md, sig->enclave_hash, sizeof(md)))
		return EPCG_SGX_INVALID_MEASUREMENT;
	memcpy(secs->mrenclave, md, sizeof(md));
	secs->attributes |= EPCG_SGX_ATTR_INIT;
	epcg_atomic_store_release(&s->initialized, true);
	return 0;
}

int epcg__encls_einit(struct epcg_encls *m, uint64_t secs_pfn,
		      const struct epcg_sgx_sigstruct *sig)
{
	struct epcm_entry *e = entry(m, secs_pfn);
	int ret;

	if (!e)
		return PF;
	if (!sig)
		return GP;
	if (!entry_lock(e))
		return GP;
	ret = entry_is(e, EPCG_SGX_PT_SECS) ? einit_locked(m, e, sig) : PF;
	entry_unlock(e);
	return ret;
}

/* ---- EREMOVE, EPA ---- */

static int eremove_locked(struct epcm_entry *e)
{
	struct epcg_secs *s = e->owner;

	if (!(e->flags & EPCM_VALID))
		return 0;
	switch (e->type) {
	case EPCG_SGX_PT_SECS:
		if (epcg__secs_nr_children(s))
			return EPCG_SGX_CHILD_PRESENT;
		epcg_atomic_store_release(&s->pfn, EPCG_SGX_NO_PFN);
		break;
	case EPCG_SGX_PT_VA:
		break;
	default:
		/* A trimmed page the enclave accepted may go while it runs. */
		if (!(e->type == EPCG_SGX_PT_TRIM &&
		      !(e->flags & EPCG_SGX_SECINFO_MODIFIED)) &&
		    epcg__secs_nr_inside(s))
			return EPCG_SGX_ENCLAVE_ACT;
		e->flags = 0;
		epcg_atomic_fetch_sub_acq_rel(&s->nr_children, 1);
		return 0;
	}
	e->flags = 0;
	return 0;
}

int epcg__encls_eremove(struct epcg_encls *m, uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);
	int ret;

	if (!e)
		return PF;
	if (!entry_lock(e))
		return GP;
	ret = eremove_locked(e);
	entry_unlock(e);
	return ret;
}

int epcg__encls_epa(struct epcg_encls *m, uint64_t pfn)
{
	struct epcm_entry *e = entry(m, pfn);

	if (!e)
		return PF;
	if (!entry_lock(e))
		return GP;
	if (e->flags & EPCM_VALID) {
		entry_unlock(e);
		return PF;
	}
	memset(entry_frame(m, e), 0, EPCG_PAGE_SIZE);
	entry_set(e, EPCG_SGX_PT_VA, 0, 0, NULL);
	entry_unlock(e);
	return 0;
}

/* ---- names ---- */

static const char *const status_names[] = {
	[0] = "SGX_SUCCESS",
	[EPCG_SGX_INVALID_SIG_STRUCT] = "SGX_INVALID_SIG_STRUCT",
	[EPCG_SGX_INVALID_ATTRIBUTE] = "SGX_INVALID_ATTRIBUTE",
	[EPCG_SGX_BLKSTATE] = "SGX_BLKSTATE",
	[EPCG_SGX_INVALID_MEASUREMENT] = "SGX_INVALID_MEASUREMENT",
	[EPCG_SGX_NOTBLOCKABLE] = "SGX_NOTBLOCKABLE",
	[EPCG_SGX_PG_INVLD] = "SGX_PG_INVLD",
	[EPCG_SGX_EPC_PAGE_CONFLICT] = "SGX_EPC_PAGE_CONFLICT",
	[EPCG_SGX_INVALID_SIGNATURE] = "SGX_INVALID_SIGNATURE",
	[EPCG_SGX_MAC_COMPARE_FAIL] = "SGX_MAC_COMPARE_FAIL",
	[EPCG_SGX_PAGE_NOT_BLOCKED] = "SGX_PAGE_NOT_BLOCKED",
	[EPCG_SGX_NOT_TRACKED] = "SGX_NOT_TRACKED",
	[EPCG_SGX_VA_SLOT_OCCUPIED] = "SGX_VA_SLOT_OCCUPIED",
	[EPCG_SGX_CHILD_PRESENT] = "SGX_CHILD_PRESENT",
	[EPCG_SGX_ENCLAVE_ACT] = "SGX_ENCLAVE_ACT",
	[EPCG_SGX_ENTRYEPOCH_LOCKED] = "SGX_ENTRYEPOCH_LOCKED",
	[EPCG_SGX_INVALID_EINITTOKEN] = "SGX_INVALID_EINITTOKEN",
	[EPCG_SGX_PREV_TRK_INCMPL] = "SGX_PREV_TRK_INCMPL",
	[EPCG_SGX_PG_IS_SECS] = "SGX_PG_IS_SECS",
	[EPCG_SGX_PAGE_ATTRIBUTES_MISMATCH] = "SGX_PAGE_ATTRIBUTES_MISMATCH",
	[EPCG_SGX_PAGE_NOT_MODIFIABLE] = "SGX_PAGE_NOT_MODIFIABLE",
	[EPCG_SGX_PAGE_NOT_DEBUGGABLE] = "SGX_PAGE_NOT_DEBUGGABLE",
	[EPCG_SGX_INVALID_CPUSVN] = "SGX_INVALID_CPUSVN",
	[EPCG_SGX_INVALID_ISVSVN] = "SGX_INVALID_ISVSVN",
	[EPCG_SGX_UNMASKED_EVENT] = "SGX_UNMASKED_EVENT",
	[EPCG_SGX_INVALID_KEYNAME] = "SGX_INVALID_KEYNAME",
};

const char *epcg_sgx_status_name(int ret)
{
	if (ret == GP)
		return "#GP";
	if (ret == PF)
		return "#PF";
	if (ret >= 0 && (size_t)ret < EPCG_ARRAY_SIZE(status_names) &&
	    status_names[ret])
		return status_names[ret];
	return "SGX_UNKNOWN";
}
