/* SPDX-License-Identifier: MIT */
/*
 * Enclaves, inside: the structures shared by encl.c (lifecycle, access,
 * release), encl-paging.c (page table, VA slots, backing store, reloads),
 * encl-reclaim.c (the reclaimer's owner operations for enclave pages) and
 * encl-edmm.c (EAUG, EMODPR, EMODT, EACCEPT, page removal), and the
 * accessors the tests use to reach the backing store.  The design is in
 * the essay at the top of encl.c.
 *
 * Synchronization table
 * ---------------------
 *	field					guard
 *	--------------------------------------	----------------------------
 *	epcg_encl: sgx, secs, base, size,	immutable after create
 *	  backing_fd, pcmd_off, backing_bytes,
 *	  nr_slots
 *	epcg_encl.refs				atomic (get_owner/put_owner
 *						pins, RELEASING bit)
 *	epcg_encl.state				atomic bits; INITIALIZED and
 *						FAULTED are set under @lock,
 *						BUILDING by compare-and-swap
 *	epcg_encl: chunks, secs_page, page_cnt,	@lock
 *	  nr_pages, va_pages, nr_va, scratch,
 *	  pcmd, measure, backing_map,
 *	  backing_room
 *	epcg_encl.stats				atomic, relaxed; accesses is
 *						written only under @lock
 *	epcg_encl.inject			atomic, relaxed
 *	epcg_encl_page: encl, offset		immutable once the entry is
 *						set up (under @lock)
 *	epcg_encl_page: epc_page, va_page,	the enclave's @lock
 *	  va_slot, type, secinfo
 *	epcg_encl_page.flags			atomic; ACCESSED is set and
 *						cleared without a lock, the
 *						other bits change under
 *						@lock
 *	epcg_encl_va: link, nr_used, used	the enclave's @lock
 *	epcg_encl_va.epc_page			immutable
 *
 * Lock order: an enclave's @lock, then an LRU lock (marking pages
 * reclaimable), then a free-list lock; an enclave's @lock, then the
 * leaves' per-enclave threads mutex.  No enclave lock is held across an
 * allocation that may reclaim (reclaim takes enclave locks through the
 * owner operations) or across a yield.  The reclaimer calls
 * @get_owner under an LRU lock: it only touches atomics.
 */
#ifndef EPCG_SGX_ENCL_INTERNAL_H
#define EPCG_SGX_ENCL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <epcg/encl.h>
#include <epcg/encls.h>

#include "encls-internal.h"
#include "sgx-internal.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"

/* Pages described by one chunk of the page table (and one VA page). */
#define EPCG_ENCL_CHUNK_PAGES 512u

/* Bytes of paging metadata (PCMD) per page in the backing store. */
#define EPCG_ENCL_PCMD_SIZE 128u

/* struct epcg_encl_page.flags */
#define EPCG_ENCL_PAGE_PRESENT 0x1u /* added or augmented, not removed */
#define EPCG_ENCL_PAGE_ACCESSED 0x2u /* touched since the last aging */
#define EPCG_ENCL_PAGE_RECLAIMING 0x4u /* prepared by a batch, not written */

/* struct epcg_encl.state */
#define EPCG_ENCL_INITIALIZED 0x1u /* EINIT succeeded */
#define EPCG_ENCL_FAULTED 0x2u /* met the SIGBUS outcome */
#define EPCG_ENCL_BUILDING 0x4u /* a build or EDMM call runs */

/* struct epcg_encl.refs: the pin count, and the bit release sets. */
#define EPCG_ENCL_RELEASING (1ull << 62)

struct epcg_encl_va;

/**
 * struct epcg_encl_page - what the enclave knows of one of its pages
 * (the kernel's sgx_encl_page), including its SECS.
 * @epc_page: the EPC page holding it, NULL while written out.
 * @va_page: while written out, the VA page holding its version.
 * @encl: the enclave.
 * @offset: from the start of the enclave; the SECS's is the enclave's
 *	size (its place in the backing store).
 * @flags: EPCG_ENCL_PAGE_*.
 * @va_slot: while written out, the slot in @va_page.
 * @type: enum epcg_sgx_page_type, as the EPCM has it.
 * @secinfo: R/W/X and PENDING/MODIFIED/PR, as the EPCM has them.
 *
 * Guards: see the table above.  One exists per page of every enclave,
 * so it must stay small: at most one cache line.
 */
struct epcg_encl_page {
	struct epcg_epc_page *epc_page;
	struct epcg_encl_va *va_page;
	struct epcg_encl *encl;
	uint64_t offset;
	epcg_atomic(uint32_t) flags;
	uint16_t va_slot;
	uint8_t type;
	uint8_t secinfo;
};

_Static_assert(sizeof(struct epcg_encl_page) <= 64,
	       "enclave page metadata must fit in 64 bytes");

/**
 * struct epcg_encl_va - one Version Array page of an enclave.
 * @epc_page: its EPC page (immutable; VA pages are never written out).
 * @link: on the enclave's @va_pages: pages with a free slot first.
 * @nr_used: slots holding a version.
 * @used: a bit per slot.
 */
struct epcg_encl_va {
	struct epcg_epc_page *epc_page;
	struct epcg_list link;
	unsigned nr_used;
	uint64_t used[EPCG_SGX_VA_SLOT_NR / 64];
};

/* Per-enclave counters (X1), atomic and relaxed; see epcg_encl_stats. */
struct epcg_encl_counters {
	epcg_atomic(uint64_t) accesses;
	epcg_atomic(uint64_t) faults;
	epcg_atomic(uint64_t) ewb;
	epcg_atomic(uint64_t) eldu;
	epcg_atomic(uint64_t) eaug;
	epcg_atomic(uint64_t) etrack;
	epcg_atomic(uint64_t) forced_exits;
	epcg_atomic(uint64_t) sigbus;
};

/* Backing-store operations, for failure injection. */
enum epcg_encl_backing_op {
	EPCG_ENCL_BACKING_READ,
	EPCG_ENCL_BACKING_WRITE,
	EPCG_ENCL_BACKING_OP_NR
};

/* A failure to inject into the next @count operations of one kind. */
struct epcg_encl_inject {
	epcg_atomic(unsigned) count;
	epcg_atomic(int) err;
};

/**
 * struct epcg_encl - one enclave.
 * @sgx: the machine.
 * @secs: the leaves' state of the enclave (EID, epochs, threads inside).
 * @base: ELRANGE start (aligned to @size).
 * @size: ELRANGE size, a power of two.
 * @backing_fd: the backing store (memfd or unlinked temporary file).
 * @pcmd_off: where the PCMDs start in it.
 * @backing_bytes: its size once every blob is in.
 * @backing_map: the store mapped shared, or NULL when it is read and
 *	written through @backing_fd (see encl-paging.c).
 * @backing_room: with @backing_map, one bit per chunk of the store whose
 *	space is taken (see encl-paging.c).
 * @nr_slots: page-table chunk pointers in @chunks.
 * @refs: pins taken by reclaim batches (get_owner), plus one for the
 *	enclave itself, plus EPCG_ENCL_RELEASING once release started.
 * @state: EPCG_ENCL_INITIALIZED, EPCG_ENCL_FAULTED, EPCG_ENCL_BUILDING.
 * @lock: guards the page table and everything paging changes.
 * @chunks: the page table, EPCG_ENCL_CHUNK_PAGES entries per chunk,
 *	allocated on first use.
 * @secs_page: the SECS as an enclave page.
 * @page_cnt: pages counted for VA sizing: the SECS plus pages added or
 *	augmented, less pages removed.
 * @nr_pages: pages added or augmented, less pages removed.
 * @va_pages: struct epcg_encl_va list, pages with free slots first.
 * @nr_va: VA pages.
 * @scratch: one page of ciphertext on its way to or from the backing store.
 * @pcmd: its PCMD.
 * @measure: the signer's running copy of the measurement (for init with
 *	no SIGSTRUCT); NULL after init.
 * @stats: counters.
 * @inject: failures to inject, per enum epcg_encl_backing_op.
 */
struct epcg_encl {
	struct epcg_sgx *sgx;
	struct epcg_secs *secs;
	uint64_t base;
	uint64_t size;
	int backing_fd;
	uint64_t pcmd_off;
	uint64_t backing_bytes;
	uint8_t *backing_map;
	uint64_t *backing_room;
	uint64_t nr_slots;
	epcg_atomic(uint64_t) refs;
	epcg_atomic(unsigned) state;
	struct epcg_mutex lock;
	struct epcg_encl_page **chunks;
	struct epcg_encl_page secs_page;
	uint64_t page_cnt;
	uint64_t nr_pages;
	struct epcg_list va_pages;
	uint64_t nr_va;
	uint8_t *scratch;
	struct epcg_sgx_pcmd *pcmd;
	void *measure;
	struct epcg_encl_counters stats;
	struct epcg_encl_inject inject[EPCG_ENCL_BACKING_OP_NR];
};

/* The reclaimer's owner operations for enclave pages (encl-reclaim.c). */
extern const struct epcg_reclaim_ops epcg__encl_reclaim_ops;

/* ---- encl.c and encl-paging.c, for the other enclave files ---- */

/*
 * The page at @offset (page-aligned, inside), or NULL if none.  @lock.
 * Inline: every enclave access looks its page up.
 */
static inline struct epcg_encl_page *
epcg__encl_page_lookup(struct epcg_encl *encl, uint64_t offset)
{
	uint64_t idx = offset / EPCG_PAGE_SIZE;
	struct epcg_encl_page *chunk =
		encl->chunks[idx / EPCG_ENCL_CHUNK_PAGES];
	struct epcg_encl_page *page;

	if (!chunk)
		return NULL;
	page = &chunk[idx % EPCG_ENCL_CHUNK_PAGES];
	if (!(epcg_atomic_load_relaxed(&page->flags) & EPCG_ENCL_PAGE_PRESENT))
		return NULL;
	return page;
}
/*
 * The entry for @offset, set up (not PRESENT) if it was not; its chunk is
 * allocated if needed.  @lock.  Return: the entry, or NULL (no memory).
 */
struct epcg_encl_page *epcg__encl_page_get(struct epcg_encl *encl,
					   uint64_t offset);

/*
 * Load @page (the SECS first if it is out) with allocations that do not
 * reclaim.  @lock.  Return: 0; -EBUSY (retry later); -EPCG_ERESTARTSYS;
 * -ENOMEM (nothing reclaimable); -EBADMSG (integrity check failed); -EIO
 * (backing store unreadable, or a leaf failed unexpectedly).
 */
int epcg__encl_load(struct epcg_encl *encl, struct epcg_encl_page *page);

/* What the fault path does about an address with no page. */
enum epcg_encl_fault_mode {
	EPCG_ENCL_FAULT_AUG, /* EAUG it (an initialized enclave) */
	EPCG_ENCL_FAULT_EXISTING, /* -EINVAL */
	EPCG_ENCL_FAULT_MODE_NR
};

/*
 * Find the page at @offset, make it resident (loading it, or adding it by
 * EAUG as @mode says), retrying while EPC is short, and run @fn on it with
 * @lock held.  @t must be inside @encl (it is re-entered if it was forced
 * out).  No enclave lock held.  Return: @fn's result; -EINVAL (a bad @t,
 * no page and none to be added); -EINTR (a signal stopped the retries);
 * -EFAULT (the SIGBUS outcome, recorded).
 */
int epcg__encl_with_page(struct epcg_encl *encl, struct epcg_encl_thread *t,
			 uint64_t offset, enum epcg_encl_fault_mode mode,
			 int (*fn)(struct epcg_encl *encl,
				   struct epcg_encl_page *page, void *arg),
			 void *arg);

/*
 * EAUG a page at @offset (no page there yet) and let @t EACCEPT it, with
 * allocations that do not reclaim (encl-edmm.c).  @lock.  Return: 0 with
 * *@ret the page; as epcg__encl_load() otherwise.
 */
int epcg__encl_aug(struct epcg_encl *encl, struct epcg_encl_thread *t,
		   uint64_t offset, struct epcg_encl_page **ret);

/* Count a fault for the enclave, the machine and the current task's
 * cgroup. */
void epcg__encl_count_fault(struct epcg_encl *encl);

/*
 * The SIGBUS outcome: mark @encl faulted and count it for the enclave,
 * the machine and the current task's cgroup.  @lock.
 */
void epcg__encl_sigbus(struct epcg_encl *encl);

/* Back off before a retry: account the cost of a re-fault and yield.  No
 * lock held. */
void epcg__encl_backoff(struct epcg_encl *encl);

/* Re-enter @t if the reclaimer forced it out.  Return: 0; -EINVAL if @t is
 * not inside @encl.  No enclave lock held. */
int epcg__encl_thread_check(struct epcg_encl *encl, struct epcg_encl_thread *t);

/* Claim and drop the right to run a build or EDMM call: -EBUSY if taken. */
int epcg__encl_build_begin(struct epcg_encl *encl);
void epcg__encl_build_end(struct epcg_encl *encl);

/*
 * A free VA slot (one always exists: VA pages are allocated ahead, H2),
 * and its release.  @lock.
 */
struct epcg_encl_va *epcg__encl_va_get(struct epcg_encl *encl,
				       unsigned *ret_slot);
void epcg__encl_va_put(struct epcg_encl *encl, struct epcg_encl_va *va,
		       unsigned slot);

/*
 * Make room for one more page: a VA page if the page count reaches a
 * multiple of 512, allocated with @reclaim and EPA'd.  Return: 0 with
 * *@ret_va the new VA page or NULL if none was needed; an allocation
 * error.  Call with @lock held only for EPCG_EPC_NO_RECLAIM; the count is
 * read under @lock by the caller and passed as @page_cnt.
 */
int epcg__encl_grow(struct epcg_encl *encl, uint64_t page_cnt,
		    enum epcg_epc_reclaim reclaim,
		    struct epcg_encl_va **ret_va);
/* Account a page added with @va (may be NULL) from epcg__encl_grow().
 * @lock. */
void epcg__encl_grown(struct epcg_encl *encl, struct epcg_encl_va *va);
/* Free a VA page of epcg__encl_grow() that was not used.  Any context. */
void epcg__encl_va_free(struct epcg_encl *encl, struct epcg_encl_va *va);

/*
 * ETRACK and send the IPI analogue, so every thread inside is in the new
 * epoch (what the kernel does after EMODPR and EMODT).  @lock; the SECS
 * is resident.  Return: 0; -EFAULT if ETRACK failed twice.
 */
int epcg__encl_etrack(struct epcg_encl *encl);

/* Count one ELDU or EWB of @epc (paging time @ns) for the enclave, the
 * cgroup charged for @epc and the machine. */
void epcg__encl_count_eldu(struct epcg_encl *encl, struct epcg_epc_page *epc,
			   uint64_t ns);
void epcg__encl_count_ewb(struct epcg_encl *encl, struct epcg_epc_page *epc,
			  uint64_t ns, bool machine);

/* Create the backing store, sized for @encl->size (H8).  Return: 0;
 * -ENOMEM. */
int epcg__encl_backing_create(struct epcg_encl *encl);
/* Unmap and close it (what create made; nothing is fine). */
void epcg__encl_backing_destroy(struct epcg_encl *encl);
/*
 * Make room for page @index's blob (offset / 4096; the SECS is size /
 * 4096) and point @pi->srcpge and @pi->pcmd where EWB is to seal it: the
 * store's own slot when it is mapped, else the scratch page and PCMD,
 * which epcg__encl_backing_write() then writes.  Before the EWB, so that
 * a store with no room leaves the page as it is.  @lock.  Return: 0;
 * -errno (no room: -ENOSPC, -EFBIG, ...).
 */
int epcg__encl_backing_reserve(struct epcg_encl *encl, uint64_t index,
			       struct epcg_sgx_pageinfo *pi);
/*
 * Commit the blob EWB sealed where epcg__encl_backing_reserve() said.
 * @lock.  Return: 0; -errno (the store refused it: the blob is still
 * where it was sealed, for ELDU to load it back).
 */
int epcg__encl_backing_write(struct epcg_encl *encl, uint64_t index);
/*
 * Point @pi->srcpge and @pi->pcmd at page @index's blob for ELDU: its
 * slot in the mapped store, or the scratch copies read into.  @lock.
 * Return: 0; -errno (unreadable).
 */
int epcg__encl_backing_read(struct epcg_encl *encl, uint64_t index,
			    struct epcg_sgx_pageinfo *pi);
/*
 * Start bringing page @index's blob in a mapped store into the cache,
 * while the caller does other work before reading it.  @lock.
 */
void epcg__encl_backing_prefetch(struct epcg_encl *encl, uint64_t index);

/* The pfn of @page's EPC page. */
static inline uint64_t epcg__encl_pfn(const struct epcg_encl_page *page)
{
	return epcg_epc_page_pfn(page->epc_page);
}

/* Whether @page is the enclave's SECS. */
static inline bool epcg__encl_is_secs(const struct epcg_encl_page *page)
{
	return page == &page->encl->secs_page;
}

/* ---- for tests: the untrusted side of the backing store ---- */

/*
 * The backing store's file descriptor (owned by the enclave).  From this
 * call on, the store is read and written through the descriptor, never
 * through its mapping, so that whatever the caller puts behind it (another
 * file by dup2(), a file-size limit) is what the enclave meets.  Takes
 * @lock.
 */
int epcg__encl_backing_fd(struct epcg_encl *encl);
/* Where page @index's ciphertext is; the SECS is index size / 4096. */
uint64_t epcg__encl_backing_page_off(const struct epcg_encl *encl,
				     uint64_t index);
/* Where page @index's 128-byte PCMD is. */
uint64_t epcg__encl_backing_pcmd_off(const struct epcg_encl *encl,
				     uint64_t index);
/*
 * Make the next @count backing-store operations of kind @op fail with
 * -@err (a positive errno), as a full or failing disk would.  @count 0
 * disarms.
 */
void epcg__encl_backing_inject(struct epcg_encl *encl,
			       enum epcg_encl_backing_op op, int err,
			       unsigned count);
/* Whether the page at @offset is in the EPC now (false if none). */
bool epcg__encl_page_resident(struct epcg_encl *encl, uint64_t offset);

#endif
