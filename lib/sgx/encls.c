// SPDX-License-Identifier: MIT
/*
 * The emulated ENCLS leaves: the hardware side of SGX paging.
 *
 * What the model is
 * -----------------
 * The EPCM is an array with one entry per EPC frame, indexed by the frame
 * number (pfn), beside the frames themselves; only the leaves in this file
 * read or write it, as only the CPU does on hardware.  An entry holds what
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
 * Status, fault and errno
 * -----------------------
 * A leaf returns 0, a positive EPCG_SGX_* status, or EPCG_ENCLS_FAULT_FLAG
 * | trap number.  Statuses are what hardware puts in RAX; faults are what
 * hardware raises; neither is an errno, and no leaf returns one: the
 * enclave and reclaim layers translate at their boundary.  A fault and
 * every status except the VA_SLOT_OCCUPIED warning leave the machine as
 * it was (a failed ELDU zeroes the target frame, which is invalid anyway).
 */
#include "encls-internal.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto-internal.h"
#include "util/lock.h"
#include "util/macros.h"

#define GP EPCG_ENCLS_FAULT(EPCG_X86_TRAP_GP)
#define PF EPCG_ENCLS_FAULT(EPCG_X86_TRAP_PF)

/* Entry flags: SECINFO's R/W/X/PENDING/MODIFIED/PR bits, then ours. */
#define EPCM_VALID (1u << 6)
#define EPCM_BLOCKED (1u << 7)
#define EPCM_SECINFO_MASK \
	(EPCG_SGX_SECINFO_PERM_MASK | EPCG_SGX_SECINFO_STATE_MASK)

#define BUSY_EXCL 0x80000000u

_Static_assert(sizeof(struct epcg_sgx_secinfo) == 64, "SECINFO layout");
_Static_assert(sizeof(struct epcg_sgx_pcmd) == 128, "PCMD layout");
_Static_assert(offsetof(struct epcg_sgx_pcmd, mac) == 112, "PCMD layout");
_Static_assert(sizeof(struct epcg_sgx_secs) == 4096, "SECS layout");
_Static_assert(offsetof(struct epcg_sgx_secs, mrenclave) == 64, "SECS layout");
_Static_assert(offsetof(struct epcg_sgx_secs, isv_prod_id) == 256,
	       "SECS layout");

/*
 * struct epcm_entry - one frame as the CPU sees it.
 * @busy: BUSY_EXCL, or the number of shared holders (atomic).
 * @flags: EPCM_VALID, EPCM_BLOCKED and the SECINFO bits (under @busy).
 * @type: enum epcg_sgx_page_type (under @busy).
 * @epoch: entry epoch recorded by EBLOCK, EMODPR, EMODT (under @busy).
 * @linaddr: the enclave linear address (under @busy).
 * @owner: the enclave of a SECS or child page, NULL for VA (under @busy).
 * @frame: the frame's bytes (immutable).
 */
struct epcm_entry {
	epcg_atomic(uint32_t) busy;
	uint8_t flags;
	uint8_t type;
	uint32_t epoch;
	uint64_t linaddr;
	struct epcg_secs *owner;
	void *frame;
};

/*
 * struct epcg_encls - the machine's ENCLS unit.
 * @nr: frames (immutable).
 * @epcm: the entries (see struct epcm_entry).
 * @crypto: the paging key and version counter.
 * @next_eid: the next enclave id (atomic).
 */
struct epcg_encls {
	uint64_t nr;
	struct epcm_entry *epcm;
	struct epcg_paging_crypto *crypto;
	epcg_atomic(uint64_t) next_eid;
};

/*
 * struct epcg_secs - an enclave's state beside its SECS page.
 * @m: the unit (immutable).
 * @eid, @base, @size, @attributes, @ssa_frame_size: set by ECREATE, then
 *	immutable (published by the SECS entry's release).
 * @pfn: where the SECS is resident or EPCG_SGX_NO_PFN; written under the
 *	SECS entry held exclusively, read atomically.
 * @initialized: set by EINIT (release), read with acquire.
 * @nr_children: resident TCS/REG/TRIM pages (atomic); grows only under
 *	the SECS held shared.
 * @track: the tracking word (see the essay; atomic).
 * @measure_lock: guards @sha, @sha_final, @mrenclave.
 * @threads_lock: guards @threads and each listed thread's fields.
 * @threads: struct epcg_encl_thread inside now.
 */
struct epcg_secs {
	struct epcg_encls *m;
	uint64_t eid;
	uint64_t base;
	uint64_t size;
	uint64_t attributes;
	uint32_t ssa_frame_size;
	epcg_atomic(uint64_t) pfn;
	epcg_atomic(bool) initialized;
	epcg_atomic(uint64_t) nr_children;
	epcg_atomic(uint64_t) track;
	struct epcg_mutex measure_lock;
	EVP_MD_CTX *sha;
	EVP_MD_CTX *sha_final;
	uint8_t mrenclave[32];
	struct epcg_mutex threads_lock;
	struct epcg_list threads;
};

/* What ECREATE stores in the SECS frame's reserved bytes. */
struct secs_hidden {
	uint64_t eid;
	struct epcg_secs *state;
};

#define SECS_HIDDEN_OFFSET 3072
_Static_assert(SECS_HIDDEN_OFFSET >= offsetof(struct epcg_sgx_secs, reserved4),
	       "hidden SECS fields must sit in reserved bytes");

static struct secs_hidden *secs_hidden(void *frame)
{
	return (struct secs_hidden *)((char *)frame + SECS_HIDDEN_OFFSET);
}

/* ---- the busy word ---- */

static bool entry_lock(struct epcm_entry *e)
{
	uint32_t idle = 0;

	return epcg_atomic_cas_acq_rel(&e->busy, &idle, BUSY_EXCL);
}

static void entry_unlock(struct epcm_entry *e)
{
	epcg_atomic_store_release(&e->busy, 0);
}

static bool entry_lock_shared(struct epcm_entry *e)
{
	uint32_t v = epcg_atomic_load_relaxed(&e->busy);

	do {
		if (v & BUSY_EXCL)
			return false;
	} while (!epcg_atomic_cas_acq_rel(&e->busy, &v, v + 1));
	return true;
}

static void entry_unlock_shared(struct epcm_entry *e)
{
	epcg_atomic_fetch_sub_acq_rel(&e->busy, 1);
}

static struct epcm_entry *entry(struct epcg_encls *m, uint64_t pfn)
{
	return pfn < m->nr ? &m->epcm[pfn] : NULL;
}

static bool entry_is(const struct epcm_entry *e, enum epcg_sgx_page_type t)
{
	return (e->flags & EPCM_VALID) && e->type == t;
}

static bool type_is_child(unsigned t)
{
	return t == EPCG_SGX_PT_TCS || t == EPCG_SGX_PT_REG ||
	       t == EPCG_SGX_PT_TRIM;
}

static void entry_set(struct epcm_entry *e, unsigned type, unsigned flags,
		      uint64_t linaddr, struct epcg_secs *owner)
{
	e->type = type;
	e->flags = EPCM_VALID | flags;
	e->linaddr = linaddr;
	e->owner = owner;
	e->epoch = 0;
}

static unsigned secinfo_type(uint64_t flags)
{
	return (flags & EPCG_SGX_SECINFO_PT_MASK) >> EPCG_SGX_SECINFO_PT_SHIFT;
}

static uint64_t entry_secinfo(const struct epcm_entry *e)
{
	return (e->flags & EPCM_SECINFO_MASK) | EPCG_SGX_SECINFO_PT(e->type);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* ---- the tracking word: epoch << 32 | cur << 16 | prev ---- */

#define TRACK_MAX_INSIDE 0xffffu

static uint32_t track_epoch(uint64_t w)
{
	return (uint32_t)(w >> 32);
}

static unsigned track_cur(uint64_t w)
{
	return (w >> 16) & 0xffff;
}

static unsigned track_prev(uint64_t w)
{
	return w & 0xffff;
}

static uint64_t track_word(uint32_t epoch, unsigned cur, unsigned prev)
{
	return (uint64_t)epoch << 32 | (uint64_t)cur << 16 | prev;
}

static uint32_t secs_epoch(struct epcg_secs *s)
{
	return track_epoch(epcg_atomic_load_acquire(&s->track));
}

/* Whether every thread that could have entered by epoch @b has left. */
static bool secs_tracked(struct epcg_secs *s, uint32_t b)
{
	uint64_t w = epcg_atomic_load_acquire(&s->track);
	uint32_t d = track_epoch(w) - b;

	return d > 1 || (d == 1 && !track_prev(w));
}

/* ---- VA slots: 8-byte words of a VA frame, updated atomically ---- */

static epcg_atomic(uint64_t) *va_slot(struct epcm_entry *va, unsigned slot)
{
	return (epcg_atomic(uint64_t) *)((uint64_t *)va->frame + slot);
}

/* ---- the machine ---- */

int epcg__encls_create(uint64_t nr_frames, epcg_encls_frame_fn frame,
		       void *arg, struct epcg_encls **ret)
{
	struct epcg_encls *m;
	uint64_t pfn;
	int err;

	if (!nr_frames || !frame || !ret)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->nr = nr_frames;
	epcg_atomic_init(&m->next_eid, 1);
	m->epcm = calloc(nr_frames, sizeof(*m->epcm));
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
		m->epcm[pfn].frame = f;
	}
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

	return e ? e->frame : NULL;
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
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->m = m;
	s->sha = EVP_MD_CTX_new();
	s->sha_final = EVP_MD_CTX_new();
	if (!s->sha || !s->sha_final) {
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
	secs = e->frame;
	memcpy(secs, src, sizeof(*secs));
	s->eid = epcg_atomic_fetch_add_relaxed(&m->next_eid, 1);
	s->base = src->base;
	s->size = src->size;
	s->attributes = src->attributes;
	s->ssa_frame_size = src->ssa_frame_size;
	secs_hidden(secs)->eid = s->eid;
	secs_hidden(secs)->state = s;
	EPCG_WARN_ONCE(EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) != 1,
		       "SHA-256 init failed; MRENCLAVE is wrong");
	put_le(block + 8, s->ssa_frame_size, 4);
	put_le(block + 12, s->size, 8);
	measure(s, block, NULL, 0);
	epcg_atomic_store_release(&s->pfn, pfn);
	entry_set(e, EPCG_SGX_PT_SECS, 0, 0, s);
	entry_unlock(e);
	return 0;
}

/*
 * Take the SECS operand of a child leaf shared: on success *ret holds the
 * enclave and the caller must entry_unlock_shared() @*se.
 */
static int child_secs_get(struct epcg_encls *m, uint64_t secs_pfn,
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

static bool in_elrange(const struct epcg_secs *s, uint64_t linaddr)
{
	return !(linaddr % EPCG_PAGE_SIZE) && linaddr >= s->base &&
	       linaddr - s->base < s->size;
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
	ret = child_secs_get(m, pi->secs, &se, &s);
	if (ret)
		goto out_unlock;
	ret = GP;
	if (epcg__secs_initialized(s) || !in_elrange(s, pi->linaddr))
		goto out_unlock_secs;
	pt = secinfo_type(pi->secinfo->flags);
	perm = pi->secinfo->flags & EPCG_SGX_SECINFO_PERM_MASK;
	memcpy(e->frame, pi->srcpge, EPCG_PAGE_SIZE);
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

int epcg__encls_eextend(struct epcg_encls *m, uint64_t secs_pfn,
			uint64_t pfn, unsigned offset)
{
	struct epcm_entry *e = entry(m, pfn), *se;
	uint8_t block[64] = "EEXTEND";
	struct epcg_secs *s;
	int ret;

	if (!e || !entry(m, secs_pfn))
		return PF;
	if (offset % 256 || offset >= EPCG_PAGE_SIZE || pfn == secs_pfn)
		return GP;
	ret = child_secs_get(m, secs_pfn, &se, &s);
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
	measure(s, block, (const uint8_t *)e->frame + offset, 256);
	ret = 0;
out_unlock:
	entry_unlock_shared(e);
out_unlock_secs:
	entry_unlock_shared(se);
	return ret;
}

static int einit_locked(struct epcm_entry *e,
			const struct epcg_sgx_sigstruct *sig)
{
	struct epcg_secs *s = e->owner;
	struct epcg_sgx_secs *secs = e->frame;
	uint8_t md[32];
	unsigned len = 0;
	int ok;

	if (epcg__secs_initialized(s))
		return GP;
	if ((s->attributes & sig->attribute_mask) !=
	    (sig->attributes & sig->attribute_mask))
		return EPCG_SGX_INVALID_ATTRIBUTE;
	epcg_mutex_lock(&s->measure_lock);
	ok = EVP_MD_CTX_copy_ex(s->sha_final, s->sha) == 1 &&
	     EVP_DigestFinal_ex(s->sha_final, md, &len) == 1 &&
	     len == sizeof(md);
	if (ok && !CRYPTO_memcmp(md, sig->enclave_hash, sizeof(md)))
		memcpy(s->mrenclave, md, sizeof(md));
	else
		ok = 0;
	epcg_mutex_unlock(&s->measure_lock);
	if (!ok)
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
	ret = entry_is(e, EPCG_SGX_PT_SECS) ? einit_locked(e, sig) : PF;
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
	memset(e->frame, 0, EPCG_PAGE_SIZE);
	entry_set(e, EPCG_SGX_PT_VA, 0, 0, NULL);
	entry_unlock(e);
	return 0;
}

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

	ret = child_secs_get(m, secs_pfn, &se, &s);
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
	if (EPCG_WARN_ONCE(epcg__paging_seal(m->crypto, version, hdr, e->frame,
					     pi->srcpge, pcmd.mac),
			   "paging seal failed"))
		return GP;
	memcpy(pi->pcmd, &pcmd, sizeof(pcmd));
	pi->linaddr = e->linaddr;
	old = epcg_atomic_xchg_acq_rel(va_slot(va, slot), version);
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
		ret = child_secs_get(m, pi->secs, &se, &s);
		if (ret)
			return ret;
		eid = s->eid;
	}
	ret = EPCG_SGX_MAC_COMPARE_FAIL;
	if (pt >= EPCG_SGX_PT_NR ||
	    (pt != EPCG_SGX_PT_SECS && pcmd.enclave_id != eid))
		goto out_wipe;
	epcg__paging_header(hdr, &pcmd, pi->linaddr, eid);
	/* Like hardware, copy the ciphertext in, then decrypt in place. */
	memcpy(e->frame, pi->srcpge, EPCG_PAGE_SIZE);
	version = epcg_atomic_load_acquire(va_slot(va, slot));
	if (epcg__paging_open(m->crypto, version, hdr, e->frame, pcmd.mac,
			      e->frame))
		goto out_wipe;
	if (pt == EPCG_SGX_PT_SECS) {
		s = eld_secs_state(m, e->frame, pcmd.enclave_id);
		if (!s)
			goto out_wipe;
	}
	ret = GP;
	if (!epcg_atomic_cas_acq_rel(va_slot(va, slot), &version, 0))
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
	memset(e->frame, 0, EPCG_PAGE_SIZE);
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
	ret = child_secs_get(m, pi->secs, &se, &s);
	if (ret)
		goto out_unlock;
	ret = GP;
	if (!epcg__secs_initialized(s) || !in_elrange(s, pi->linaddr))
		goto out_unlock_secs;
	memset(e->frame, 0, EPCG_PAGE_SIZE);
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
			if (track_epoch(w) == t->epoch)
				n = w - ((uint64_t)1 << 16);
			else
				n = w - 1;
		} while (!epcg_atomic_cas_acq_rel(&s->track, &w, n));
	}
	t->secs = NULL;
	epcg_atomic_store_release(&t->state, EPCG_ENCL_THREAD_OUTSIDE);
	epcg_mutex_unlock(&s->threads_lock);
}

bool epcg__encl_kicked(const struct epcg_encl_thread *t)
{
	struct epcg_encl_thread *w = (struct epcg_encl_thread *)t;

	return epcg_atomic_load_acquire(&w->state) == EPCG_ENCL_THREAD_KICKED;
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
