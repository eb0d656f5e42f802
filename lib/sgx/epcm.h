/* SPDX-License-Identifier: MIT */
/*
 * The EPCM and the per-enclave state, shared by the files of the ENCLS
 * module (encls.c: the machine and enclave building; encls-paging.c:
 * EBLOCK, ETRACK, EWB, ELDU and thread tracking; encls-edmm.c: EAUG,
 * EMODPR, EMODT, EACCEPT) and by nothing else: other modules see
 * encls-internal.h.  The model and its locking are explained at the top
 * of encls.c.
 */
#ifndef EPCG_SGX_EPCM_H
#define EPCG_SGX_EPCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "encls-internal.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"

/* Entry flags: SECINFO's R/W/X/PENDING/MODIFIED/PR bits, then ours. */
#define EPCM_VALID (1u << 6)
#define EPCM_BLOCKED (1u << 7)
#define EPCM_SECINFO_MASK \
	(EPCG_SGX_SECINFO_PERM_MASK | EPCG_SGX_SECINFO_STATE_MASK)

#define BUSY_EXCL 0x8000u

/*
 * struct epcm_entry - one frame as the CPU sees it.
 * @busy: BUSY_EXCL, or the number of shared holders, at most 0x7fff
 *	(atomic; a leaf holds an entry shared only for its own duration, so
 *	the count is bounded by the threads running leaves).
 * @flags: EPCM_VALID, EPCM_BLOCKED and the SECINFO bits (under @busy).
 * @type: enum epcg_sgx_page_type (under @busy).
 * @epoch: entry epoch recorded by EBLOCK, EMODPR, EMODT (under @busy).
 * @linaddr: the enclave linear address (under @busy).
 * @owner: the enclave of a SECS or child page, NULL for VA (under @busy).
 *
 * One exists per frame: with the allocator's descriptor (40 bytes) a
 * frame's metadata stays within 64 bytes.  So the frame's address is not
 * kept here but asked of the unit's frame function (entry_frame()).
 */
struct epcm_entry {
	epcg_atomic(uint16_t) busy;
	uint8_t flags;
	uint8_t type;
	uint32_t epoch;
	uint64_t linaddr;
	struct epcg_secs *owner;
};

_Static_assert(sizeof(struct epcm_entry) <= 24,
	       "an EPCM entry takes at most 24 bytes");

/*
 * struct epcg_encls - the machine's ENCLS unit.
 * @nr: frames (immutable).
 * @epcm: the entries (see struct epcm_entry).
 * @frame, @frame_arg: where frame pfn's bytes are (immutable).
 * @crypto: the paging key and version counter.
 * @next_eid: the next enclave id (atomic).
 */
struct epcg_encls {
	uint64_t nr;
	struct epcm_entry *epcm;
	epcg_encls_frame_fn frame;
	void *frame_arg;
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

static inline struct secs_hidden *secs_hidden(void *frame)
{
	return (struct secs_hidden *)((char *)frame + SECS_HIDDEN_OFFSET);
}

/* ---- the busy word ---- */

static inline bool entry_lock(struct epcm_entry *e)
{
	uint16_t idle = 0;

	return epcg_atomic_cas_acq_rel(&e->busy, &idle, BUSY_EXCL);
}

static inline void entry_unlock(struct epcm_entry *e)
{
	epcg_atomic_store_release(&e->busy, 0);
}

static inline bool entry_lock_shared(struct epcm_entry *e)
{
	uint16_t v = epcg_atomic_load_relaxed(&e->busy);

	do {
		if (v & BUSY_EXCL)
			return false;
	} while (!epcg_atomic_cas_acq_rel(&e->busy, &v, v + 1));
	return true;
}

static inline void entry_unlock_shared(struct epcm_entry *e)
{
	epcg_atomic_fetch_sub_acq_rel(&e->busy, 1);
}

static inline struct epcm_entry *entry(struct epcg_encls *m, uint64_t pfn)
{
	return pfn < m->nr ? &m->epcm[pfn] : NULL;
}

/* The 4096 bytes of @e's frame. */
static inline void *entry_frame(struct epcg_encls *m,
				const struct epcm_entry *e)
{
	return m->frame(m->frame_arg, (uint64_t)(e - m->epcm));
}

static inline bool entry_is(const struct epcm_entry *e,
			    enum epcg_sgx_page_type t)
{
	return (e->flags & EPCM_VALID) && e->type == t;
}

static inline bool type_is_child(unsigned t)
{
	return t == EPCG_SGX_PT_TCS || t == EPCG_SGX_PT_REG ||
	       t == EPCG_SGX_PT_TRIM;
}

static inline void entry_set(struct epcm_entry *e, unsigned type,
			     unsigned flags, uint64_t linaddr,
			     struct epcg_secs *owner)
{
	e->type = type;
	e->flags = EPCM_VALID | flags;
	e->linaddr = linaddr;
	e->owner = owner;
	e->epoch = 0;
}

static inline unsigned secinfo_type(uint64_t flags)
{
	return (flags & EPCG_SGX_SECINFO_PT_MASK) >> EPCG_SGX_SECINFO_PT_SHIFT;
}

static inline uint64_t entry_secinfo(const struct epcm_entry *e)
{
	return (e->flags & EPCM_SECINFO_MASK) | EPCG_SGX_SECINFO_PT(e->type);
}

static inline bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* ---- the tracking word: epoch << 32 | cur << 16 | prev ---- */

#define TRACK_MAX_INSIDE 0xffffu

static inline uint32_t track_epoch(uint64_t w)
{
	return (uint32_t)(w >> 32);
}

static inline unsigned track_cur(uint64_t w)
{
	return (w >> 16) & 0xffff;
}

static inline unsigned track_prev(uint64_t w)
{
	return w & 0xffff;
}

static inline uint64_t track_word(uint32_t epoch, unsigned cur, unsigned prev)
{
	return (uint64_t)epoch << 32 | (uint64_t)cur << 16 | prev;
}

static inline uint32_t secs_epoch(struct epcg_secs *s)
{
	return track_epoch(epcg_atomic_load_acquire(&s->track));
}

/* Whether every thread that could have entered by epoch @b has left. */
static inline bool secs_tracked(struct epcg_secs *s, uint32_t b)
{
	uint64_t w = epcg_atomic_load_acquire(&s->track);
	uint32_t d = track_epoch(w) - b;

	return d > 1 || (d == 1 && !track_prev(w));
}

/*
 * ---- VA slots: 8-byte words of a VA frame, updated atomically ----
 * Plain memory read through an atomic view: the frame is 4096-aligned, so
 * every slot is naturally aligned, and 64-bit atomics are lock-free.
 */

#define VA_SLOT(m, va, slot) \
	((epcg_atomic(uint64_t) *)((uint64_t *)entry_frame(m, va) + (slot)))

static inline uint64_t va_slot_load(struct epcg_encls *m, struct epcm_entry *va,
				    unsigned slot)
{
	return epcg_atomic_load_acquire(VA_SLOT(m, va, slot));
}

/* Store @version, return what the slot held. */
static inline uint64_t va_slot_xchg(struct epcg_encls *m, struct epcm_entry *va,
				    unsigned slot, uint64_t version)
{
	return epcg_atomic_xchg_acq_rel(VA_SLOT(m, va, slot), version);
}

/* Clear the slot if it still holds @version. */
static inline bool va_slot_clear(struct epcg_encls *m, struct epcm_entry *va,
				 unsigned slot, uint64_t version)
{
	return epcg_atomic_cas_acq_rel(VA_SLOT(m, va, slot), &version, 0);
}

static inline bool in_elrange(const struct epcg_secs *s, uint64_t linaddr)
{
	return !(linaddr % EPCG_PAGE_SIZE) && linaddr >= s->base &&
	       linaddr - s->base < s->size;
}

/*
 * epcg__epcm_secs_get() - take the SECS operand of a child leaf shared.
 * @m: the unit.
 * @secs_pfn: the operand.
 * @se: on success, the SECS's entry, to be released with
 *	entry_unlock_shared().
 * @ret: on success, the enclave.
 * Return: 0; #GP if the SECS is held exclusively; #PF if @secs_pfn is not
 * a valid SECS.
 */
int epcg__epcm_secs_get(struct epcg_encls *m, uint64_t secs_pfn,
			struct epcm_entry **se, struct epcg_secs **ret);

#endif
