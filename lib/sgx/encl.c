// SPDX-License-Identifier: MIT
/*
 * Enclaves: the design, their lifecycle (create, add pages, init, threads,
 * release) and access (SPEC H2, H8 to H10, E1, E4, E5).  Page table, VA
 * slots, backing store and reloads are in encl-paging.c; the reclaimer's
 * owner operations in encl-reclaim.c; SGX2 (EDMM) in encl-edmm.c.
 *
 * What an enclave is made of
 * --------------------------
 *
 *   struct epcg_encl
 *     secs        the leaves' state: enclave id, entry epochs, threads
 *     secs_page   the SECS as a page: its EPC page, or its VA slot
 *     chunks[]  --> chunk of 512 struct epcg_encl_page (40 bytes each),
 *                   allocated when a page in its range first appears
 *     va_pages  --> VA page <-> VA page <-> ...  (free slots first)
 *     backing_fd    the enclave's memfd (below)
 *
 * Every page the enclave has, SECS included, is described by a struct
 * epcg_encl_page: where it is in the EPC, or, while written out, which VA
 * slot holds its version.  The EPC page's owner pointer points back at
 * that description, which is how the reclaimer, holding only EPC pages,
 * reaches the enclave.  The table is two-level and sparse, like the
 * kernel's xarray: ELRANGE may be far larger than what is ever added,
 * and a chunk costs 20 KiB only once one of its 512 pages exists.
 *
 * Version Array pages are allocated ahead (H2): one whenever the page
 * count, the SECS included, reaches a multiple of 512, at ECREATE, EADD
 * and EAUG time.  Each written-out page holds one slot, so a free slot
 * always exists and writing a page out never allocates; that matters,
 * since the reclaimer writes pages out precisely when EPC is short.  VA
 * pages are never written out themselves and never on an LRU; they are
 * charged to the cgroup of the task that built the enclave.
 *
 * The backing store (H8)
 * ----------------------
 * One memfd per enclave (an unlinked temporary file where memfd_create()
 * is missing), sparse, so it costs only what is written:
 *
 *   0            size         size + 4096                  end
 *   | page 0 | page 1 | ... | SECS | PCMD 0 .. PCMD n-1, PCMD SECS |
 *
 * Page i's ciphertext is at i * 4096, the SECS's right after ELRANGE, and
 * the 128-byte PCMDs (paging metadata: SECINFO, enclave id, MAC) are
 * packed 32 to a page after that, the SECS's last.  Nothing here is
 * trusted: ELDU authenticates every byte it uses.  The file is memory of
 * the host, never charged to sgx_epc.  The memfd is mapped and EWB seals
 * into it, ELDU opens from it, room being taken with fallocate() before a
 * slot is first touched; other stores use pread()/pwrite() (the details,
 * and how each kind reports a store that cannot be written, are at the
 * top of encl-paging.c).  Every blob read or written passes one function
 * (backing_io()) that tests can make fail.
 *
 * The fault path (H9, E4)
 * -----------------------
 * An access to a page out of the EPC loads it back, its SECS first when
 * that was written out too (a child cannot be loaded without a resident
 * parent).  Each load allocates with EPCG_EPC_NO_RECLAIM: a fault must
 * not wait for reclaim, so at a limit the charge queues the cgroup's
 * async reclaim and reports -EBUSY, and with the EPC full the allocation
 * wakes ksgxd and reports -EBUSY.  The access then drops the enclave
 * lock, yields and tries again, as a thread re-executes a faulting
 * instruction.  -ENOMEM (nothing reclaimable anywhere that could help),
 * an unreadable backing store, or SGX_MAC_COMPARE_FAIL from ELDU end in
 * the SIGBUS outcome: the enclave is marked faulted and every access
 * fails with -EFAULT from then on.  A failed ELDU leaves its frame
 * invalid and zeroed and the page's VA slot as it was; no byte of it ever
 * reaches the caller.
 *
 * Locking: the enclave lock is the TLB
 * ------------------------------------
 * One mutex per enclave guards its page table, its VA slots, the scratch
 * page used for paging I/O and every EPCM change made on its behalf.  An
 * access copies to or from the frame while holding it, and the
 * reclaimer's EWB runs under it, so a page can never be sealed while a
 * copy into it is half done.  On hardware the same guarantee comes from
 * EBLOCK plus ETRACK plus the IPI: no thread may still hold a translation
 * when EWB runs.  We model that protocol faithfully (EBLOCK, ETRACK on
 * SGX_NOT_TRACKED, then forced exits, H6) because its costs and counts
 * are part of what epcg reports, but it cannot carry the data safety
 * here: our IPI analogue marks threads as out without interrupting a copy
 * in flight.  A lock-free access relying on epochs alone was considered
 * and rejected for that reason.  The cost is that accesses to one enclave
 * serialize with each other and with its paging; different enclaves do
 * not contend.
 *
 * The lock is never held across an allocation that may reclaim, because
 * reclaim takes enclave locks (the owner operations, encl-reclaim.c), nor
 * across a yield (a virtual-time thread must not sleep holding a lock
 * another simulated thread takes).  Build and EDMM calls therefore do not
 * serialize on a mutex either: a BUILDING bit makes a second concurrent
 * call fail with -EBUSY, as the kernel's per-enclave ioctl bit does.
 *
 * Release (H10)
 * -------------
 * Reclaim batches pin the enclave (get_owner) for the pages they hold.
 * Release first sets RELEASING, after which no batch can pin it (pages a
 * batch isolates from then on are dropped from their LRU and left to us),
 * and waits for the pins already taken to be dropped, which happens at
 * the end of the batch.  Then no reclaimer can touch the enclave, and
 * release EREMOVEs and frees every resident page, the SECS and the VA
 * pages, each uncharging the cgroup it was charged to, and closes the
 * backing store.  Waiting, instead of leaving an isolated page to the
 * batch as the kernel does, gives release's caller the guarantee that
 * the enclave's charges are gone when it returns (E12).
 *
 * The measurement
 * ---------------
 * EINIT compares the leaves' measurement with the SIGSTRUCT's.  A caller
 * without one gets what a debug signer would produce: we hash the same
 * SDM-defined 64-byte blocks (ECREATE, EADD, EEXTEND) as pages are added,
 * and init with NULL uses that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <unistd.h>

#include "encl-internal.h"
#include "epc-internal.h"
#include "util/alloc.h"
#include "util/macros.h"

#define PAGE EPCG_PAGE_SIZE

/* Modelled cost of one re-executed faulting access (virtual time). */
#define RETRY_NS 2000

/* SSA frames per TCS: our enclaves do not model state save areas. */
#define SSA_FRAME_SIZE 1

static bool encl_state(const struct epcg_encl *encl, unsigned bit)
{
	struct epcg_encl *w = (struct epcg_encl *)encl;

	return epcg_atomic_load_acquire(&w->state) & bit;
}

static int alloc_errno(int err)
{
	return err == -EPCG_ERESTARTSYS ? -EINTR : err;
}

/* ---- the signer's measurement ---- */

static void measure(struct epcg_encl *encl, const char *tag, uint64_t a,
		    const void *tail, size_t tail_len, const void *data,
		    size_t len)
{
	uint8_t block[64] = { 0 };

	if (!encl->measure)
		return;
	memcpy(block, tag, strlen(tag));
	for (int i = 0; i < 8; i++)
		block[8 + i] = (uint8_t)(a >> (8 * i));
	if (tail)
		memcpy(block + 16, tail, tail_len);
	if (EVP_DigestUpdate(encl->measure, block, sizeof(block)) != 1 ||
	    (len && EVP_DigestUpdate(encl->measure, data, len) != 1)) {
		EVP_MD_CTX_free(encl->measure);
		encl->measure = NULL; /* init without a SIGSTRUCT fails */
	}
}

static void measure_ecreate(struct epcg_encl *encl)
{
	uint8_t block[64] = "ECREATE";

	for (int i = 0; i < 4; i++)
		block[8 + i] = (uint8_t)(SSA_FRAME_SIZE >> (8 * i));
	for (int i = 0; i < 8; i++)
		block[12 + i] = (uint8_t)(encl->size >> (8 * i));
	if (encl->measure &&
	    EVP_DigestUpdate(encl->measure, block, sizeof(block)) != 1) {
		EVP_MD_CTX_free(encl->measure);
		encl->measure = NULL;
	}
}

void epcg__encl_backoff(struct epcg_encl *encl)
{
	epcg_exec_account_ns(encl->sgx->ex, RETRY_NS);
	epcg_exec_cond_resched(encl->sgx->ex);
}

/* ---- threads ---- */

int epcg__encl_thread_check(struct epcg_encl *encl, struct epcg_encl_thread *t)
{
	if (!t || t->secs != encl->secs)
		return -EINVAL;
	if (epcg__encl_kicked(t)) {
		/* Forced out by the reclaimer: resume (ERESUME's cost). */
		if (epcg__encl_eenter(encl->secs, t))
			return -EINVAL;
		epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_EENTER);
	}
	return 0;
}

int epcg_encl_enter(struct epcg_encl *encl, struct epcg_encl_thread **ret)
{
	struct epcg_encl_thread *t;

	if (!encl || !ret || !encl_state(encl, EPCG_ENCL_INITIALIZED))
		return -EINVAL;
	t = epcg_malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	epcg__encl_thread_init(t);
	if (epcg__encl_eenter(encl->secs, t)) {
		free(t);
		return -EBUSY; /* initialized: only "too many inside" is left */
	}
	epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_EENTER);
	*ret = t;
	return 0;
}

void epcg_encl_exit(struct epcg_encl_thread *thread)
{
	if (!thread)
		return;
	epcg__encl_eexit(thread);
	free(thread);
}

/* ---- build calls ---- */

int epcg__encl_build_begin(struct epcg_encl *encl)
{
	unsigned old =
		epcg_atomic_fetch_or_acq_rel(&encl->state, EPCG_ENCL_BUILDING);

	return old & EPCG_ENCL_BUILDING ? -EBUSY : 0;
}

void epcg__encl_build_end(struct epcg_encl *encl)
{
	epcg_atomic_fetch_and_acq_rel(&encl->state, ~EPCG_ENCL_BUILDING);
}

static void encl_free(struct epcg_encl *encl)
{
	epcg__secs_destroy(encl->secs);
	epcg__encl_backing_destroy(encl);
	if (encl->chunks)
		for (uint64_t i = 0; i < encl->nr_slots; i++)
			free(encl->chunks[i]);
	free(encl->chunks);
	free(encl->scratch);
	free(encl->pcmd);
	EVP_MD_CTX_free(encl->measure);
	epcg_mutex_finish(&encl->lock);
	free(encl);
}

static struct epcg_encl *encl_alloc(struct epcg_sgx *sgx, uint64_t size)
{
	struct epcg_encl *encl = epcg_calloc(1, sizeof(*encl));

	if (!encl)
		return NULL;
	encl->sgx = sgx;
	encl->base = size; /* any multiple of the size will do */
	encl->size = size;
	encl->backing_fd = -1;
	encl->nr_slots = (size / PAGE + EPCG_ENCL_CHUNK_PAGES - 1) /
			 EPCG_ENCL_CHUNK_PAGES;
	epcg_atomic_init(&encl->refs, 1);
	epcg_atomic_init(&encl->state, 0);
	epcg_mutex_init(&encl->lock);
	epcg_list_init(&encl->va_pages);
	encl->secs_page.encl = encl;
	encl->secs_page.offset = size;
	encl->secs_page.type = EPCG_SGX_PT_SECS;
	epcg_atomic_init(&encl->secs_page.flags, EPCG_ENCL_PAGE_PRESENT);
	encl->chunks = epcg_calloc(encl->nr_slots, sizeof(*encl->chunks));
	encl->scratch = epcg_aligned_alloc(PAGE, PAGE);
	encl->pcmd =
		epcg_aligned_alloc(sizeof(*encl->pcmd), sizeof(*encl->pcmd));
	encl->measure = EVP_MD_CTX_new();
	if (!encl->chunks || !encl->scratch || !encl->pcmd || !encl->measure ||
	    EVP_DigestInit_ex(encl->measure, EVP_sha256(), NULL) != 1 ||
	    epcg__encl_backing_create(encl) ||
	    epcg__secs_create(sgx->encls, &encl->secs)) {
		encl_free(encl);
		return NULL;
	}
	return encl;
}

/* ECREATE into @epc from a SECS built in the scratch page.  @lock. */
static int ecreate(struct epcg_encl *encl, struct epcg_epc_page *epc)
{
	struct epcg_sgx_secs *src = (struct epcg_sgx_secs *)encl->scratch;
	struct epcg_sgx_secinfo si = { .flags = EPCG_SGX_SECINFO_PT(
					       EPCG_SGX_PT_SECS) };
	struct epcg_sgx_pageinfo pi = { .srcpge = src,
					.secinfo = &si,
					.secs = EPCG_SGX_NO_PFN };
	int st;

	memset(src, 0, sizeof(*src));
	src->size = encl->size;
	src->base = encl->base;
	src->ssa_frame_size = SSA_FRAME_SIZE;
	src->attributes = EPCG_SGX_ATTR_MODE64BIT;
	st = epcg__encls_ecreate(encl->sgx->encls, &pi, epcg_epc_page_pfn(epc),
				 encl->secs);
	if (EPCG_WARN_ONCE(st, "encl: ECREATE failed: %s",
			   epcg_sgx_status_name(st)))
		return -EIO;
	epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_ECREATE);
	measure_ecreate(encl);
	return 0;
}

int epcg_encl_create(struct epcg_sgx *sgx, uint64_t size,
		     struct epcg_encl **ret)
{
	struct epcg_epc_page *epc;
	struct epcg_encl_va *va;
	struct epcg_encl *encl;
	int err;

	if (!sgx || !ret || size < 2 * PAGE || size > EPCG_ENCL_MAX_SIZE ||
	    (size & (size - 1)))
		return -EINVAL;
	encl = encl_alloc(sgx, size);
	if (!encl)
		return -ENOMEM;
	/* As the kernel: the first VA page, then the SECS (which counts). */
	err = epcg__encl_grow(encl, 0, EPCG_EPC_RECLAIM, &va);
	if (err)
		goto err_free;
	err = epcg__sgx_alloc_page(sgx, &encl->secs_page, EPCG_EPC_RECLAIM,
				   &epc);
	if (err)
		goto err_va;
	epcg_mutex_lock(&encl->lock);
	err = ecreate(encl, epc);
	if (!err) {
		encl->secs_page.epc_page = epc;
		epcg__encl_grown(encl, va);
	}
	epcg_mutex_unlock(&encl->lock);
	if (err)
		goto err_epc;
	*ret = encl;
	return 0;

err_epc:
	epcg__sgx_free_page(sgx, epc);
err_va:
	epcg__encl_va_free(encl, va);
err_free:
	encl_free(encl);
	return alloc_errno(err);
}

/* EADD and EEXTEND one page into @epc and make it reclaimable.  @lock. */
static int eadd(struct epcg_encl *encl, struct epcg_encl_page *page,
		struct epcg_epc_page *epc, const void *src,
		enum epcg_sgx_page_type pt, unsigned perm)
{
	struct epcg_encls *m = encl->sgx->encls;
	uint64_t secs_pfn = epcg__encl_pfn(&encl->secs_page);
	struct epcg_sgx_secinfo si = { .flags = EPCG_SGX_SECINFO_PT(pt) |
						perm };
	struct epcg_sgx_pageinfo pi = {
		.linaddr = encl->base + page->offset,
		.srcpge = (void *)src,
		.secinfo = &si,
		.secs = secs_pfn,
	};
	uint64_t pfn = epcg_epc_page_pfn(epc);
	int st;

	st = epcg__encls_eadd(m, &pi, pfn);
	if (EPCG_WARN_ONCE(st, "encl: EADD failed: %s",
			   epcg_sgx_status_name(st)))
		return -EIO;
	epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_EADD);
	measure(encl, "EADD", page->offset, &si, 48, NULL, 0);
	for (unsigned off = 0; off < PAGE; off += 256) {
		st = epcg__encls_eextend(m, secs_pfn, pfn, off);
		EPCG_WARN_ONCE(st, "encl: EEXTEND failed: %s",
			       epcg_sgx_status_name(st));
		measure(encl, "EEXTEND", page->offset + off, NULL, 0,
			(const char *)src + off, 256);
	}
	page->epc_page = epc;
	page->type = pt;
	page->secinfo = pt == EPCG_SGX_PT_TCS ? 0 : perm;
	epcg_atomic_fetch_or_acq_rel(&page->flags, EPCG_ENCL_PAGE_PRESENT);
	encl->nr_pages++;
	epcg__sgx_mark_reclaimable(encl->sgx, epc);
	return 0;
}

static int add_one(struct epcg_encl *encl, uint64_t offset, const void *src,
		   enum epcg_sgx_page_type pt, unsigned perm)
{
	struct epcg_encl_page *page = NULL;
	struct epcg_encl_va *va;
	struct epcg_epc_page *epc;
	uint64_t page_cnt;
	int err = 0;

	epcg_mutex_lock(&encl->lock);
	if (encl_state(encl, EPCG_ENCL_INITIALIZED))
		err = -EINVAL;
	else if (epcg__encl_page_lookup(encl, offset))
		err = -EEXIST;
	else if (!(page = epcg__encl_page_get(encl, offset)))
		err = -ENOMEM;
	page_cnt = encl->page_cnt;
	epcg_mutex_unlock(&encl->lock);
	if (err)
		return err;

	/*
	 * Both allocations may reclaim, so they run without the lock; the
	 * BUILDING bit keeps the page count and the entry as they were.
	 */
	err = epcg__encl_grow(encl, page_cnt, EPCG_EPC_RECLAIM, &va);
	if (err)
		return alloc_errno(err);
	err = epcg__sgx_alloc_page(encl->sgx, page, EPCG_EPC_RECLAIM, &epc);
	if (err) {
		epcg__encl_va_free(encl, va);
		return alloc_errno(err);
	}
	epcg_mutex_lock(&encl->lock);
	err = eadd(encl, page, epc, src, pt, perm);
	if (!err)
		epcg__encl_grown(encl, va);
	epcg_mutex_unlock(&encl->lock);
	if (err) {
		epcg__sgx_free_page(encl->sgx, epc);
		epcg__encl_va_free(encl, va);
	}
	return err;
}

int epcg_encl_add_pages(struct epcg_encl *encl, uint64_t offset,
			const void *src, uint64_t nr,
			enum epcg_encl_page_type type, unsigned prot,
			uint64_t *ret_added)
{
	enum epcg_sgx_page_type pt;
	uint64_t done = 0;
	int err;

	if (ret_added)
		*ret_added = 0;
	if (!encl || !src || !nr || offset % PAGE || offset >= encl->size ||
	    nr > (encl->size - offset) / PAGE)
		return -EINVAL;
	if (type == EPCG_ENCL_PAGE_REG && !(prot & ~EPCG_ENCL_PROT_MASK) &&
	    (!(prot & EPCG_ENCL_PROT_WRITE) || (prot & EPCG_ENCL_PROT_READ)))
		pt = EPCG_SGX_PT_REG;
	else if (type == EPCG_ENCL_PAGE_TCS && !prot)
		pt = EPCG_SGX_PT_TCS;
	else
		return -EINVAL;
	err = epcg__encl_build_begin(encl);
	if (err)
		return err;
	for (; done < nr; done++) {
		err = add_one(encl, offset + done * PAGE,
			      (const char *)src + done * PAGE, pt, prot);
		if (err)
			break;
	}
	epcg__encl_build_end(encl);
	if (ret_added)
		*ret_added = done;
	return err;
}

int epcg_encl_init(struct epcg_encl *encl, const struct epcg_sgx_sigstruct *sig)
{
	struct epcg_sgx_sigstruct own = { .attribute_mask = 0 };
	unsigned len = 0;
	int err, st;

	if (!encl)
		return -EINVAL;
	err = epcg__encl_build_begin(encl);
	if (err)
		return err;
	epcg_mutex_lock(&encl->lock);
	if (encl_state(encl, EPCG_ENCL_INITIALIZED)) {
		err = -EINVAL;
		goto out;
	}
	if (!sig) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();

		if (!encl->measure)
			err = -EPERM; /* the measurement was lost */
		else if (!c || EVP_MD_CTX_copy_ex(c, encl->measure) != 1 ||
			 EVP_DigestFinal_ex(c, own.enclave_hash, &len) != 1)
			err = -ENOMEM; /* no host memory to finish it */
		EVP_MD_CTX_free(c);
		if (err)
			goto out;
		sig = &own;
	}
	/* An uninitialized enclave's SECS is never written out. */
	st = epcg__encls_einit(encl->sgx->encls,
			       epcg__encl_pfn(&encl->secs_page), sig);
	if (st == EPCG_SGX_INVALID_MEASUREMENT ||
	    st == EPCG_SGX_INVALID_ATTRIBUTE) {
		err = -EPERM;
	} else if (st == EPCG_SGX_UNMASKED_EVENT) {
		err = -ENOMEM; /* the emulated leaf lacked host memory */
	} else if (EPCG_WARN_ONCE(st, "encl: EINIT failed: %s",
				  epcg_sgx_status_name(st))) {
		err = -EIO;
	} else {
		epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_EINIT);
		epcg_atomic_fetch_or_acq_rel(&encl->state,
					     EPCG_ENCL_INITIALIZED);
		EVP_MD_CTX_free(encl->measure);
		encl->measure = NULL;
	}
out:
	epcg_mutex_unlock(&encl->lock);
	epcg__encl_build_end(encl);
	return err;
}

/* ---- access ---- */

static bool access_allowed(const struct epcg_encl_page *page,
			   enum epcg_encl_access access)
{
	unsigned need = access == EPCG_ENCL_READ ? EPCG_SGX_SECINFO_R :
						   EPCG_SGX_SECINFO_W;

	if (page->secinfo &
	    (EPCG_SGX_SECINFO_PENDING | EPCG_SGX_SECINFO_MODIFIED))
		return false;
	if (page->type == EPCG_SGX_PT_TCS)
		return true; /* mapped read-write, as the kernel does */
	return page->type == EPCG_SGX_PT_REG && (page->secinfo & need);
}

/*
 * The page at @offset if an access can use it as it is: present and
 * resident, in an enclave that has not met the SIGBUS outcome.  NULL
 * sends the access to fault_in(), which tells every other case apart.
 * This is epcg__encl_page_lookup() and fault_in()'s checks for that one
 * case, inline: in a workload that fits its limit nearly every access
 * ends here, and it is then a few loads and one branch.  @lock.
 */
static inline struct epcg_encl_page *resident_page(struct epcg_encl *encl,
						   uint64_t offset)
{
	struct epcg_encl_page *page;

	if (encl_state(encl, EPCG_ENCL_FAULTED))
		return NULL;
	page = epcg__encl_page_lookup(encl, offset);
	return page && page->epc_page ? page : NULL;
}

/*
 * Find the page at @offset and make it resident, faulting it in (or EAUG
 * it) as needed; @counted says whether this access was already counted as
 * a fault.  @lock.  Return: the page; -EBUSY (retry); -EINTR; -EFAULT
 * (the SIGBUS outcome, recorded); -EINVAL (no page, not initialized).
 */
static int fault_in(struct epcg_encl *encl, struct epcg_encl_thread *t,
		    uint64_t offset, enum epcg_encl_fault_mode mode,
		    bool *counted, struct epcg_encl_page **ret)
{
	struct epcg_encl_page *page;
	int err = 0;

	if (encl_state(encl, EPCG_ENCL_FAULTED))
		return -EFAULT;
	page = epcg__encl_page_lookup(encl, offset);
	if (!page && (mode != EPCG_ENCL_FAULT_AUG ||
		      !encl_state(encl, EPCG_ENCL_INITIALIZED)))
		return -EINVAL;
	if (!page) {
		err = epcg__encl_aug(encl, t, offset, &page);
	} else if (!page->epc_page) {
		if (!*counted) {
			epcg__encl_count_fault(encl);
			*counted = true;
		}
		err = epcg__encl_load(encl, page);
	}
	if (err == -EBUSY)
		return err;
	if (err == -EPCG_ERESTARTSYS)
		return -EINTR;
	if (err) {
		epcg__encl_sigbus(encl);
		return -EFAULT;
	}
	*ret = page;
	return 0;
}

/*
 * Whether @t may access @encl right away: inside it and not forced out,
 * i.e. what epcg__encl_thread_check() accepts without re-entering (its
 * epcg__encl_kicked() test, inline).  Anything else goes to that check.
 */
static inline bool thread_ready(const struct epcg_encl *encl,
				struct epcg_encl_thread *t)
{
	return t && t->secs == encl->secs && !epcg__encl_kicked(t);
}

/* Out of line even here: epcg_encl_touch() keeps only its fast path. */
__attribute__((noinline)) int
epcg__encl_with_page(struct epcg_encl *encl, struct epcg_encl_thread *t,
		     uint64_t offset, enum epcg_encl_fault_mode mode,
		     int (*fn)(struct epcg_encl *encl,
			       struct epcg_encl_page *page, void *arg),
		     void *arg)
{
	bool counted = false;
	struct epcg_encl_page *page;
	int err;

	for (;;) {
		if (!thread_ready(encl, t)) {
			err = epcg__encl_thread_check(encl, t);
			if (err)
				return err;
		}
		epcg_mutex_lock(&encl->lock);
		page = resident_page(encl, offset);
		err = page ? 0 :
			     fault_in(encl, t, offset, mode, &counted, &page);
		if (!err)
			err = fn(encl, page, arg);
		epcg_mutex_unlock(&encl->lock);
		if (err != -EBUSY)
			return err;
		if (epcg_task_signal_pending(epcg_task_current()))
			return -EINTR;
		epcg__encl_backoff(encl);
	}
}

/*
 * What every access does to a resident page.  The reclaimer clears
 * ACCESSED without the enclave lock (aging), so setting it is atomic, but
 * only when it is clear: the bit of a page in use stays set between two
 * agings, and a locked read-modify-write of a set bit changes nothing
 * while it costs as much as the rest of an access.  The access counter
 * is written only here, under @lock, so it is a plain increment (readers
 * read it atomically, without the lock).  @lock.
 */
static inline void mark_accessed(struct epcg_encl *encl,
				 struct epcg_encl_page *page)
{
	if (!(epcg_atomic_load_relaxed(&page->flags) &
	      EPCG_ENCL_PAGE_ACCESSED))
		epcg_atomic_fetch_or_acq_rel(&page->flags,
					     EPCG_ENCL_PAGE_ACCESSED);
	epcg_atomic_store_relaxed(
		&encl->stats.accesses,
		epcg_atomic_load_relaxed(&encl->stats.accesses) + 1);
}

struct copy {
	enum epcg_encl_access access;
	unsigned off;
	void *buf;
	size_t len;
};

static int copy_page(struct epcg_encl *encl, struct epcg_encl_page *page,
		     void *arg)
{
	struct copy *c = arg;
	char *frame = (char *)epcg_epc_page_addr(page->epc_page) + c->off;

	if (!access_allowed(page, c->access))
		return -EACCES;
	if (c->access == EPCG_ENCL_READ)
		memcpy(c->buf, frame, c->len);
	else
		memcpy(frame, c->buf, c->len);
	mark_accessed(encl, page);
	return 0;
}

static int touch_page(struct epcg_encl *encl, struct epcg_encl_page *page,
		      void *arg)
{
	const enum epcg_encl_access *access = arg;

	if (!access_allowed(page, *access))
		return -EACCES;
	mark_accessed(encl, page);
	return 0;
}

/*
 * The simulator's per-access call.  The common case (the thread inside,
 * the page resident) runs here with nothing but the lock around it; any
 * other drops the lock and takes the general path, which checks it all
 * again under the lock it takes (a second lock only on the way to a
 * fault, EAUG or failure, which cost far more).
 */
int epcg_encl_touch(struct epcg_encl *encl, struct epcg_encl_thread *thread,
		    uint64_t offset, enum epcg_encl_access access)
{
	struct epcg_encl_page *page;
	int err;

	if (!encl || !thread || (unsigned)access >= EPCG_ENCL_ACCESS_NR ||
	    offset >= encl->size)
		return -EINVAL;
	offset -= offset % PAGE;
	if (epcg_likely(thread_ready(encl, thread))) {
		epcg_mutex_lock(&encl->lock);
		page = resident_page(encl, offset);
		if (epcg_likely(page)) {
			err = touch_page(encl, page, &access);
			epcg_mutex_unlock(&encl->lock);
			return err;
		}
		epcg_mutex_unlock(&encl->lock);
	}
	return epcg__encl_with_page(encl, thread, offset, EPCG_ENCL_FAULT_AUG,
				    touch_page, &access);
}

int epcg_encl_access(struct epcg_encl *encl, struct epcg_encl_thread *thread,
		     uint64_t offset, enum epcg_encl_access access, void *buf,
		     size_t len)
{
	struct copy c = { .access = access, .buf = buf };
	int err;

	if (!encl || !thread || (!buf && len) ||
	    (unsigned)access >= EPCG_ENCL_ACCESS_NR || offset > encl->size ||
	    len > encl->size - offset)
		return -EINVAL;
	while (len) {
		c.off = (unsigned)(offset % PAGE);
		c.len = EPCG_MIN(len, (size_t)(PAGE - c.off));
		err = epcg__encl_with_page(encl, thread, offset - c.off,
					   EPCG_ENCL_FAULT_AUG, copy_page, &c);
		if (err)
			return err;
		c.buf = (char *)c.buf + c.len;
		offset += c.len;
		len -= c.len;
	}
	return 0;
}

/* ---- release ---- */

/* EREMOVE and free @page's EPC page, which no reclaimer holds.  @lock. */
static void remove_resident(struct epcg_encl *encl, struct epcg_encl_page *page)
{
	struct epcg_sgx *sgx = encl->sgx;
	int st;

	while (epcg__sgx_unmark_reclaimable(sgx, page->epc_page) == -EBUSY) {
		/* Cannot happen once the pins are gone; harmless if it does. */
		epcg_mutex_unlock(&encl->lock);
		epcg__encl_backoff(encl);
		epcg_mutex_lock(&encl->lock);
	}
	st = epcg__encls_eremove(sgx->encls, epcg__encl_pfn(page));
	if (EPCG_WARN_ONCE(st, "encl: EREMOVE failed: %s; leaking the page",
			   epcg_sgx_status_name(st)))
		return;
	epcg__sgx_cost(sgx, EPCG_SGX_COST_EREMOVE);
	epcg__sgx_free_page(sgx, page->epc_page);
	page->epc_page = NULL;
}

void epcg_encl_release(struct epcg_encl *encl)
{
	struct epcg_encl_va *va, *tmp;
	int st;

	if (!encl)
		return;
	/* No new pins from here on; wait for the batches holding some. */
	epcg_atomic_fetch_or_acq_rel(&encl->refs, EPCG_ENCL_RELEASING);
	while ((epcg_atomic_load_acquire(&encl->refs) & ~EPCG_ENCL_RELEASING) >
	       1)
		epcg__encl_backoff(encl);

	epcg_mutex_lock(&encl->lock);
	if (EPCG_WARN_ONCE(epcg__secs_nr_inside(encl->secs),
			   "encl: released with threads inside"))
		epcg__encl_force_aex(encl->secs);
	for (uint64_t i = 0; i < encl->nr_slots; i++) {
		struct epcg_encl_page *chunk = encl->chunks[i];

		for (unsigned j = 0; chunk && j < EPCG_ENCL_CHUNK_PAGES; j++)
			if (chunk[j].epc_page)
				remove_resident(encl, &chunk[j]);
	}
	if (encl->secs_page.epc_page) {
		st = epcg__encls_eremove(encl->sgx->encls,
					 epcg__encl_pfn(&encl->secs_page));
		if (!EPCG_WARN_ONCE(st, "encl: EREMOVE of the SECS failed: %s",
				    epcg_sgx_status_name(st))) {
			epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_EREMOVE);
			epcg__sgx_free_page(encl->sgx,
					    encl->secs_page.epc_page);
		}
	}
	epcg_list_for_each_entry_safe(va, tmp, &encl->va_pages, link)
		epcg__encl_va_free(encl, va);
	epcg_mutex_unlock(&encl->lock);
	encl_free(encl);
}

/* ---- state ---- */

void epcg_encl_stats(struct epcg_encl *encl, struct epcg_encl_stats *ret)
{
	struct epcg_encl_counters *c = &encl->stats;

	epcg_mutex_lock(&encl->lock);
	ret->size = encl->size;
	ret->pages = encl->nr_pages;
	ret->resident = epcg__secs_nr_children(encl->secs);
	ret->secs_resident = encl->secs_page.epc_page != NULL;
	ret->va_pages = encl->nr_va;
	epcg_mutex_unlock(&encl->lock);
	ret->accesses = epcg_atomic_load_relaxed(&c->accesses);
	ret->faults = epcg_atomic_load_relaxed(&c->faults);
	ret->ewb = epcg_atomic_load_relaxed(&c->ewb);
	ret->eldu = epcg_atomic_load_relaxed(&c->eldu);
	ret->eaug = epcg_atomic_load_relaxed(&c->eaug);
	ret->etrack = epcg_atomic_load_relaxed(&c->etrack);
	ret->forced_exits = epcg_atomic_load_relaxed(&c->forced_exits);
	ret->sigbus = epcg_atomic_load_relaxed(&c->sigbus);
	ret->faulted = encl_state(encl, EPCG_ENCL_FAULTED);
}

bool epcg_encl_faulted(const struct epcg_encl *encl)
{
	return encl_state(encl, EPCG_ENCL_FAULTED);
}

uint64_t epcg_encl_size(const struct epcg_encl *encl)
{
	return encl->size;
}
