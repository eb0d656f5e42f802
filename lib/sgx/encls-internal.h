/* SPDX-License-Identifier: MIT */
/*
 * The emulated ENCLS (and the few ENCLU) leaves, the EPCM, per-enclave SECS
 * state and thread tracking.  See the essay at the top of encls.c.
 *
 * Every leaf returns 0, a positive EPCG_SGX_* status or a fault encoding
 * (include/epcg/encls.h), never an errno; a leaf that faults or returns a
 * status other than SGX_VA_SLOT_OCCUPIED changed nothing.  Pages are named
 * by frame number (pfn), the machine's analogue of an EPC address; a pfn
 * outside the EPC is a #PF, as an address outside the EPC is on hardware.
 *
 * Synchronization
 * ---------------
 *	object                 guarded by
 *	EPCM entry             its busy word: a leaf that changes the entry
 *	                       holds it exclusively, a leaf that only needs
 *	                       it to stay put (the SECS of EADD/ELDU, the VA
 *	                       page of EWB/ELDU) holds it shared; a leaf that
 *	                       cannot get it reports a conflict at once
 *	                       (SGX_EPC_PAGE_CONFLICT or #GP), it never waits
 *	VA slot                atomic exchange / compare-and-swap
 *	SECS state             immutable after ECREATE, except: measurement
 *	                       (its own mutex), initialized / resident pfn /
 *	                       child count / tracking word (atomics), the list
 *	                       of threads inside (its own mutex)
 * Leaves on different pages run concurrently without locks.
 */
#ifndef EPCG_SGX_ENCLS_INTERNAL_H
#define EPCG_SGX_ENCLS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <epcg/encls.h>
#include <epcg/epc.h>

#include "util/atomic.h"
#include "util/list.h"

struct epcg_encls;
struct epcg_secs;

/* ---- the machine ---- */

/* The bytes of frame @pfn (4096-aligned), for epcg__encls_create(). */
typedef void *(*epcg_encls_frame_fn)(void *arg, uint64_t pfn);

/**
 * epcg__encls_create() - the ENCLS unit of a machine: an EPCM entry per
 * frame (all invalid) and a fresh random paging key.
 * @nr_frames: frames in the EPC, > 0.
 * @frame: gives the bytes of each frame: called for every frame here, to
 *	check them, then by each leaf for the frames it reads or writes (the
 *	EPCM keeps no frame address, to stay small), so it must be cheap,
 *	thread-safe and return the same address for a pfn every time.
 * @arg: passed to @frame; must outlive the unit.
 * @ret: the unit.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for no frames, a NULL argument or a frame that is not
 * page-aligned; -ENOMEM; -EIO if no paging key could be had.
 */
int epcg__encls_create(uint64_t nr_frames, epcg_encls_frame_fn frame, void *arg,
		       struct epcg_encls **ret);

static inline void *epcg__encls_epc_frame(void *epc, uint64_t pfn)
{
	return epcg_epc_page_addr(epcg_epc_pfn_to_page(epc, pfn));
}

/* epcg__encls_create_for_epc() - the ENCLS unit over the frames of @epc. */
static inline int epcg__encls_create_for_epc(struct epcg_epc *epc,
					     struct epcg_encls **ret)
{
	return epcg__encls_create(epcg_epc_nr_pages(epc), epcg__encls_epc_frame,
				  epc, ret);
}

/*
 * epcg__encls_destroy() - free the unit and wipe the paging key.  @m may be
 * NULL.  Context: no leaf runs; pages still valid in the EPCM are simply
 * forgotten.
 */
void epcg__encls_destroy(struct epcg_encls *m);

/* epcg__encls_nr_frames() - the number of EPCM entries. */
uint64_t epcg__encls_nr_frames(const struct epcg_encls *m);

/* ---- per-enclave SECS state ---- */

/**
 * epcg__secs_create() - the state of one enclave, unbound until ECREATE.
 * @m: the unit.
 * @ret: the state.
 *
 * The state outlives the SECS page's residency: EWB of the SECS keeps it,
 * ELDU of the SECS finds it again.  Its owner destroys it when the enclave
 * is released.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for NULL arguments; -ENOMEM.
 */
int epcg__secs_create(struct epcg_encls *m, struct epcg_secs **ret);

/*
 * epcg__secs_destroy() - free enclave state.  @secs may be NULL.
 * Context: the SECS and every child page are invalid in the EPCM (removed
 * or written back), no thread is inside, and no blob of its SECS will be
 * loaded again.  A violation is reported once and the state leaks.
 */
void epcg__secs_destroy(struct epcg_secs *secs);

/* The enclave id (unique per unit, from 1), 0 before ECREATE. */
uint64_t epcg__secs_eid(const struct epcg_secs *secs);
/* The SECS's pfn while resident, EPCG_SGX_NO_PFN otherwise. */
uint64_t epcg__secs_pfn(const struct epcg_secs *secs);
/* Whether EINIT succeeded. */
bool epcg__secs_initialized(const struct epcg_secs *secs);
/* Child pages (TCS, REG, TRIM) valid in the EPCM now (a snapshot). */
uint64_t epcg__secs_nr_children(const struct epcg_secs *secs);
/* Threads inside now, from the current and the previous epoch. */
unsigned epcg__secs_nr_inside(const struct epcg_secs *secs);
/* MRENCLAVE: the final measurement after EINIT, zeroes before. */
void epcg__secs_mrenclave(const struct epcg_secs *secs, uint8_t out[32]);

/* ---- thread tracking (EENTER, EEXIT, AEX and the IPI analogue) ---- */

enum epcg_encl_thread_state {
	EPCG_ENCL_THREAD_OUTSIDE,
	EPCG_ENCL_THREAD_INSIDE,
	EPCG_ENCL_THREAD_KICKED, /* forced out; eexit, then re-enter */
	EPCG_ENCL_THREAD_STATE_NR
};

/**
 * struct epcg_encl_thread - one logical processor's presence in an enclave
 * (the caller's storage; the token of EENTER).
 * @secs: the enclave entered (guarded by its threads mutex).
 * @epoch: the entry epoch (same).
 * @node: on the enclave's list of threads inside (same).
 * @state: enum epcg_encl_thread_state; atomic, so the thread can poll it
 *	without the mutex.
 */
struct epcg_encl_thread {
	struct epcg_secs *secs;
	uint32_t epoch;
	struct epcg_list node;
	epcg_atomic(int) state;
};

/* epcg__encl_thread_init() - a thread outside every enclave. */
void epcg__encl_thread_init(struct epcg_encl_thread *t);

/**
 * epcg__encl_eenter() - a thread enters @secs's enclave: it counts as
 * inside in the current entry epoch until it leaves or is forced out.
 * @secs: the enclave.
 * @t: the thread, outside (or kicked out, which first completes its exit).
 *
 * Context: any thread; takes the enclave's threads mutex.
 * Return: 0; #GP if the enclave is not initialized, @t is inside an
 * enclave, or 65535 threads are already inside.
 */
int epcg__encl_eenter(struct epcg_secs *secs, struct epcg_encl_thread *t);

/**
 * epcg__encl_eexit() - the thread leaves (EEXIT, or an AEX: both end the
 * thread's presence the same way as far as tracking is concerned).
 * @t: the thread; nothing happens if it is outside; if it was forced out
 *	it is merely marked outside (its count moved already).
 *
 * Context: any thread; takes the enclave's threads mutex.
 */
void epcg__encl_eexit(struct epcg_encl_thread *t);

/*
 * epcg__encl_kicked() - whether @t was forced out and must re-enter.
 * Inline: every enclave access asks.
 */
static inline bool epcg__encl_kicked(const struct epcg_encl_thread *t)
{
	struct epcg_encl_thread *w = (struct epcg_encl_thread *)t;

	return epcg_atomic_load_acquire(&w->state) == EPCG_ENCL_THREAD_KICKED;
}

/**
 * epcg__encl_force_aex() - the IPI analogue: every thread inside @secs's
 * enclave is marked kicked and stops counting as inside, so the tracking
 * cycle completes.  The threads notice at their next access
 * (epcg__encl_kicked()), exit and re-enter in the current epoch.
 * @secs: the enclave.
 *
 * Context: any thread; takes the enclave's threads mutex.
 * Return: the number of threads forced out.
 */
unsigned epcg__encl_force_aex(struct epcg_secs *secs);

/* ---- the leaves ---- */

/**
 * epcg__encls_ecreate() - ECREATE: make @pfn the SECS of a new enclave.
 * @m: the unit.
 * @pi: @pi->srcpge holds a struct epcg_sgx_secs (size a power of two of at
 *	least two pages, base aligned to it, ssa_frame_size > 0, reserved
 *	bytes and ATTRIBUTES.INIT zero); @pi->secinfo has type SECS and no
 *	other flag.
 * @pfn: a free (invalid) frame.
 * @secs: fresh state from epcg__secs_create(), bound to the enclave here:
 *	it gets a new enclave id and starts its measurement.
 *
 * Context: any thread.
 * Return: 0; #GP for a bad SECS or SECINFO, a @secs already bound, or
 * @pfn busy; #PF if @pfn is outside the EPC or valid.
 */
int epcg__encls_ecreate(struct epcg_encls *m,
			const struct epcg_sgx_pageinfo *pi, uint64_t pfn,
			struct epcg_secs *secs);

/**
 * epcg__encls_eadd() - EADD: copy a page into a free frame as a REG or TCS
 * page of an uninitialized enclave and measure its address and SECINFO.
 * @m: the unit.
 * @pi: @pi->srcpge the contents, @pi->secinfo type REG or TCS with
 *	permissions (W needs R) and no state bit, @pi->linaddr page-aligned
 *	inside the enclave, @pi->secs the SECS's pfn.
 * @pfn: a free frame.
 *
 * A TCS page gets no permissions in the EPCM, as on hardware.
 *
 * Context: any thread; measurement updates of one enclave serialize.
 * Return: 0; #GP for a bad SECINFO or address, an initialized enclave, or a
 * busy @pfn or SECS; #PF for a valid @pfn or a SECS operand that is not a
 * valid SECS.
 */
int epcg__encls_eadd(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		     uint64_t pfn);

/**
 * epcg__encls_eextend() - EEXTEND: measure 256 bytes of an added page.
 * @m: the unit.
 * @secs_pfn: the enclave's SECS.
 * @pfn: a child page of that enclave.
 * @offset: of the chunk in the page, a multiple of 256.
 *
 * Context: any thread.
 * Return: 0; #GP for a bad offset, an initialized enclave, or a busy page;
 * #PF if either page is not valid, @secs_pfn is not a SECS or @pfn not its
 * child.
 */
int epcg__encls_eextend(struct epcg_encls *m, uint64_t secs_pfn, uint64_t pfn,
			unsigned offset);

/**
 * epcg__encls_einit() - EINIT: finish the measurement and initialize.
 * @m: the unit.
 * @secs_pfn: the enclave's SECS.
 * @sig: the expected measurement and the allowed attributes.
 *
 * After EINIT the enclave can be entered and EADD fails; EAUG works.
 *
 * Context: any thread.
 * Return: 0; SGX_INVALID_ATTRIBUTE if the SECS attributes differ from
 * @sig's under its mask; SGX_INVALID_MEASUREMENT if MRENCLAVE is not
 * @sig->enclave_hash (the enclave stays uninitialized, so the call may be
 * repeated); SGX_UNMASKED_EVENT if the host had no memory to finish the
 * measurement (nothing changed, the call may be repeated); #GP for a NULL
 * @sig, an initialized enclave or a busy SECS; #PF if @secs_pfn is not a
 * valid SECS.
 */
int epcg__encls_einit(struct epcg_encls *m, uint64_t secs_pfn,
		      const struct epcg_sgx_sigstruct *sig);

/**
 * epcg__encls_eremove() - EREMOVE: invalidate a page.
 * @m: the unit.
 * @pfn: any frame.
 *
 * An invalid page is a success (nothing to do).  A SECS needs all its
 * children gone; its state survives (epcg__secs_destroy() frees it).
 *
 * Context: any thread.
 * Return: 0; SGX_CHILD_PRESENT for a SECS with resident children;
 * SGX_ENCLAVE_ACT for a REG, TCS or unaccepted TRIM page while a thread is
 * inside its enclave; #GP if @pfn is busy; #PF if it is outside the EPC.
 */
int epcg__encls_eremove(struct epcg_encls *m, uint64_t pfn);

/**
 * epcg__encls_epa() - EPA: make a free frame a VA page of 512 empty slots.
 * @m: the unit.
 * @pfn: a free frame.
 *
 * Context: any thread.
 * Return: 0; #GP if @pfn is busy; #PF if it is valid or outside the EPC.
 */
int epcg__encls_epa(struct epcg_encls *m, uint64_t pfn);

/**
 * epcg__encls_eblock() - EBLOCK: stop new mappings of a child page and
 * record its enclave's current entry epoch, which EWB's tracking check
 * compares against.
 * @m: the unit.
 * @pfn: a REG, TCS or TRIM page.
 *
 * Context: any thread.
 * Return: 0; SGX_BLKSTATE if already blocked (informational, nothing
 * changed); SGX_PG_INVLD if not valid; SGX_PG_IS_SECS for a SECS;
 * SGX_NOTBLOCKABLE for a VA page; SGX_EPC_PAGE_CONFLICT if another leaf
 * holds the page; #PF if @pfn is outside the EPC.  (SGX_ENTRYEPOCH_LOCKED
 * never: ETRACK is a single atomic step here.)
 */
int epcg__encls_eblock(struct epcg_encls *m, uint64_t pfn);

/**
 * epcg__encls_etrack() - ETRACK: start a new entry epoch.  Threads inside
 * now become the previous epoch's, and the tracking cycle completes when
 * they have all left.
 * @m: the unit.
 * @secs_pfn: the enclave's SECS.
 *
 * Context: any thread.
 * Return: 0; SGX_PREV_TRK_INCMPL while threads of the previous cycle are
 * still inside (nothing changed); #GP if the SECS is held exclusively by
 * another leaf; #PF if @secs_pfn is not a valid SECS.
 */
int epcg__encls_etrack(struct epcg_encls *m, uint64_t secs_pfn);

/**
 * epcg__encls_ewb() - EWB: seal a page out of the EPC.
 * @m: the unit.
 * @pi: out: @pi->srcpge receives the 4096-byte ciphertext and @pi->pcmd
 *	the PCMD (both untrusted, caller's memory); @pi->linaddr is set to
 *	the page's linear address.  @pi->secinfo and @pi->secs are ignored.
 * @pfn: the page: REG/TCS/TRIM blocked and tracked; a SECS without
 *	resident children; a VA page as it is.
 * @va_pfn: a valid VA page other than @pfn.
 * @va_slot: the slot (0 to 511) that receives the page's version.
 *
 * On success (and with SGX_VA_SLOT_OCCUPIED) the page is invalid in the
 * EPCM and the frame may be freed; only the blob and the slot can bring
 * it back.
 *
 * Context: any thread.
 * Return: 0; SGX_VA_SLOT_OCCUPIED (warning: the slot held a version, now
 * overwritten; the page was written out all the same);
 * SGX_PAGE_NOT_BLOCKED; SGX_NOT_TRACKED (no ETRACK since the EBLOCK, or a
 * thread that entered before that ETRACK is still inside);
 * SGX_CHILD_PRESENT for a SECS with resident children; #GP for a NULL
 * buffer, a bad slot, @va_pfn == @pfn, a busy page or VA page, or a
 * cipher failure; #PF if @pfn is not valid, @va_pfn not a valid VA page,
 * or either is outside the EPC.
 */
int epcg__encls_ewb(struct epcg_encls *m, struct epcg_sgx_pageinfo *pi,
		    uint64_t pfn, uint64_t va_pfn, unsigned va_slot);

/**
 * epcg__encls_eldu() - ELDU: load a page written out by EWB back into a
 * free frame, after checking it is exactly the page that was written.
 * @m: the unit.
 * @pi: @pi->srcpge the ciphertext, @pi->pcmd its PCMD, @pi->linaddr the
 *	address it must have, @pi->secs the pfn of the (resident) SECS for
 *	a REG/TCS/TRIM page.
 * @pfn: a free frame.
 * @va_pfn: the VA page holding the version.
 * @va_slot: its slot; cleared on success, so the blob opens only once.
 *
 * The MAC header is rebuilt from the PCMD, @pi->linaddr and the SECS
 * operand's enclave id; the tag is checked with the slot's version.  A
 * loaded SECS finds its enclave state again.
 *
 * Context: any thread.
 * Return: 0; SGX_MAC_COMPARE_FAIL for any tampering, a wrong address,
 * enclave or type, or a stale or cleared version (nothing loaded: the
 * frame stays invalid and holds zeroes); #GP for a NULL buffer, a bad
 * slot, @va_pfn == @pfn, a busy page, VA page or SECS, or a slot changed
 * during the load; #PF if @pfn is valid, @va_pfn not a valid VA page, the
 * SECS operand not a valid SECS, or any of them outside the EPC.
 */
int epcg__encls_eldu(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		     uint64_t pfn, uint64_t va_pfn, unsigned va_slot);

/**
 * epcg__encls_eldb() - ELDB: as ELDU, but a child page comes back blocked
 * (so it can be written out again without a new EBLOCK).
 *
 * Context and Return: as epcg__encls_eldu().
 */
int epcg__encls_eldb(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		     uint64_t pfn, uint64_t va_pfn, unsigned va_slot);

/**
 * epcg__encls_eaug() - EAUG: add a zeroed, pending REG page (read-write)
 * to an initialized enclave; the enclave must EACCEPT it before use.
 * @m: the unit.
 * @pi: @pi->linaddr page-aligned inside the enclave, @pi->secs its SECS;
 *	the rest is ignored.
 * @pfn: a free frame.
 *
 * Context: any thread.
 * Return: 0; #GP for a bad address, an uninitialized enclave, or a busy
 * page or SECS; #PF if @pfn is valid or the SECS operand not a valid SECS.
 */
int epcg__encls_eaug(struct epcg_encls *m, const struct epcg_sgx_pageinfo *pi,
		     uint64_t pfn);

/**
 * epcg__encls_emodpr() - EMODPR: restrict a REG page's permissions to
 * those in @si (an intersection) and set PR until the enclave accepts.
 * @m: the unit.
 * @si: only R/W/X may be set.
 * @pfn: a REG page of an initialized enclave.
 *
 * Records the entry epoch: EACCEPT needs a completed tracking cycle after
 * it, as EWB does after EBLOCK.
 *
 * Context: any thread.
 * Return: 0; SGX_PAGE_NOT_MODIFIABLE if the page is PENDING or MODIFIED;
 * SGX_EPC_PAGE_CONFLICT if another leaf holds it; #GP for a bad SECINFO or
 * an uninitialized enclave; #PF if not a valid REG page or outside the EPC.
 */
int epcg__encls_emodpr(struct epcg_encls *m, const struct epcg_sgx_secinfo *si,
		       uint64_t pfn);

/**
 * epcg__encls_emodt() - EMODT: change a REG page to TCS, or a REG or TCS
 * page to TRIM; permissions drop to none and MODIFIED is set until the
 * enclave accepts (recording the epoch as EMODPR does).
 * @m: the unit.
 * @si: type TCS or TRIM, no other flag.
 * @pfn: the page, of an initialized enclave.
 *
 * Context: any thread.
 * Return: 0; SGX_PAGE_NOT_MODIFIABLE if the page is PENDING or MODIFIED;
 * SGX_EPC_PAGE_CONFLICT if another leaf holds it; #GP for a bad SECINFO or
 * conversion, or an uninitialized enclave; #PF if not a valid REG or TCS
 * page or outside the EPC.
 */
int epcg__encls_emodt(struct epcg_encls *m, const struct epcg_sgx_secinfo *si,
		      uint64_t pfn);

/**
 * epcg__encls_eaccept() - EACCEPT (an ENCLU leaf: the enclave itself
 * confirms a change): the page's type, permissions and PENDING/MODIFIED/PR
 * bits must equal @si's, at least one of those bits set; they are cleared.
 * @m: the unit.
 * @secs: the enclave the accepting thread runs in.
 * @si: the expected SECINFO.
 * @pfn: the page.
 *
 * Context: any thread.
 * Return: 0; SGX_PAGE_ATTRIBUTES_MISMATCH if @si does not match the EPCM;
 * SGX_NOT_TRACKED if an EMODPR or EMODT is accepted before a tracking
 * cycle completed after it; #GP for a NULL @si, set reserved bits or a
 * busy page; #PF if the page is not a valid child of @secs, or blocked.
 */
int epcg__encls_eaccept(struct epcg_encls *m, struct epcg_secs *secs,
			const struct epcg_sgx_secinfo *si, uint64_t pfn);

/* ---- inspection, for tests and quiescent checks ---- */

/**
 * struct epcg_epcm_info - a copy of one EPCM entry.
 * @valid, @blocked: the EPCM bits.
 * @type: enum epcg_sgx_page_type (meaningful when @valid).
 * @flags: R/W/X/PENDING/MODIFIED/PR in SECINFO bit positions.
 * @linaddr: the enclave linear address.
 * @owner: the enclave (SECS and children), NULL for VA pages.
 * @epoch: the epoch recorded by EBLOCK, EMODPR or EMODT.
 */
struct epcg_epcm_info {
	bool valid;
	bool blocked;
	uint8_t type;
	uint8_t flags;
	uint64_t linaddr;
	struct epcg_secs *owner;
	uint32_t epoch;
};

/*
 * epcg__epcm_read() - copy the EPCM entry of @pfn.  Software cannot read
 * the EPCM on hardware; this is for tests and invariant checks.
 * Context: no leaf runs on @pfn.  Return: 0; -EINVAL if @pfn is out of range.
 */
int epcg__epcm_read(struct epcg_encls *m, uint64_t pfn,
		    struct epcg_epcm_info *ret);

/*
 * epcg__epcm_hold() / epcg__epcm_release() - make @pfn's entry busy as if a
 * leaf were running on it, so tests can provoke conflicts deterministically.
 * Return: 0; -EINVAL if out of range; -EBUSY if a leaf holds it.
 */
int epcg__epcm_hold(struct epcg_encls *m, uint64_t pfn);
void epcg__epcm_release(struct epcg_encls *m, uint64_t pfn);

/* The bytes of frame @pfn (tests look at what a failed ELDU left there). */
void *epcg__encls_frame(struct epcg_encls *m, uint64_t pfn);

#endif
