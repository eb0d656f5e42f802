/* SPDX-License-Identifier: MIT */
/*
 * Enclaves on the software SGX machine: the /dev/sgx_enclave analogue.
 *
 * An enclave is built in three steps, as with the kernel driver's ioctls:
 * create (ECREATE: its SECS and first Version Array page), add pages
 * (EADD and EEXTEND each page, with its contents, type and permissions),
 * init (EINIT).  Threads then enter it and read and write its memory;
 * pages the reclaimer wrote out to the enclave's backing store come back
 * transparently on the next access (a page fault), and an enclave built
 * on SGX2 can grow (EAUG on first touch of an unbacked page), restrict
 * permissions, change page types and remove pages.  Release frees every
 * EPC page the enclave holds and its backing store.
 *
 * Every EPC page an enclave uses is charged to the cgroup of the task that
 * allocated it (epcg_task_current() at that moment, SPEC E1): the task
 * that builds the enclave pays for its SECS, VA pages and added pages, a
 * task whose access reloads a page pays for that page.
 *
 * Outcomes at a limit (SPEC E5): building calls reclaim and wait for room,
 * failing with -ENOMEM only when nothing is reclaimable; an access never
 * waits for reclaim itself, it retries until ksgxd or the cgroup's async
 * reclaim made room, and ends in the SIGBUS outcome (-EFAULT, and the
 * enclave is marked faulted) when nothing is reclaimable or the page read
 * back from the backing store fails its integrity check.  Data is never
 * silently wrong.
 */
#ifndef EPCG_ENCL_H
#define EPCG_ENCL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct epcg_encl;
struct epcg_encl_thread;
struct epcg_sgx;
struct epcg_sgx_sigstruct;

/* Page permissions, as PROT_* and SECINFO's R/W/X bits. */
#define EPCG_ENCL_PROT_READ 0x1u
#define EPCG_ENCL_PROT_WRITE 0x2u
#define EPCG_ENCL_PROT_EXEC 0x4u
#define EPCG_ENCL_PROT_MASK 0x7u

/* The largest enclave (ELRANGE) epcg_encl_create() accepts. */
#define EPCG_ENCL_MAX_SIZE (1ull << 36)

/* Types of the pages an enclave can be given. */
enum epcg_encl_page_type {
	EPCG_ENCL_PAGE_REG, /* code or data */
	EPCG_ENCL_PAGE_TCS, /* thread control structure */
	EPCG_ENCL_PAGE_TRIM, /* being removed (epcg_encl_modify_type()) */
	EPCG_ENCL_PAGE_TYPE_NR
};

/* What an access does with the enclave's memory. */
enum epcg_encl_access { EPCG_ENCL_READ, EPCG_ENCL_WRITE, EPCG_ENCL_ACCESS_NR };

/**
 * struct epcg_encl_stats - one enclave's state and paging counters (X1).
 * @size: bytes of its address range (ELRANGE).
 * @pages: pages it has (added or augmented, not removed), SECS excluded.
 * @resident: of those, how many are in the EPC now.
 * @secs_resident: 1 if its SECS is in the EPC now, else 0.
 * @va_pages: its Version Array pages (always resident).
 * @accesses: pages touched by epcg_encl_access() (one per page spanned).
 * @faults: accesses that found their page (or the SECS) out of the EPC.
 * @ewb: its pages written back (evicted), SECS included.
 * @eldu: its pages loaded back, SECS included.
 * @eaug: pages added by EAUG.
 * @etrack: ETRACKs issued for it.
 * @forced_exits: threads forced out of it (the IPI analogue).
 * @sigbus: faults that ended in the SIGBUS outcome.
 * @faulted: whether it is marked faulted (no further access succeeds).
 *
 * Counters are monotonic; each is a relaxed snapshot.
 */
struct epcg_encl_stats {
	uint64_t size;
	uint64_t pages;
	uint64_t resident;
	uint64_t secs_resident;
	uint64_t va_pages;
	uint64_t accesses;
	uint64_t faults;
	uint64_t ewb;
	uint64_t eldu;
	uint64_t eaug;
	uint64_t etrack;
	uint64_t forced_exits;
	uint64_t sigbus;
	bool faulted;
};

/**
 * epcg_encl_create() - ECREATE an enclave of @size bytes.
 * @sgx: the machine.
 * @size: its address range, a power of two from two pages to
 *	EPCG_ENCL_MAX_SIZE.
 * @ret: the enclave.
 *
 * Allocates the first Version Array page and the SECS, both charged to
 * the current task's cgroup with reclaim allowed (the allocation reclaims
 * and waits while the limit is reached and something is reclaimable), and
 * a backing store of @size plus the SECS page plus 128 bytes of paging
 * metadata per page, outside the EPC and not charged to sgx_epc.
 *
 * Context: any thread; no enclave lock held.
 * Return: 0; -EINVAL for a NULL argument or a bad @size; -ENOMEM if memory,
 * a backing store, or EPC with nothing reclaimable could not be had;
 * -EINTR if a signal of the current task interrupted the wait for EPC;
 * -EIO if an emulated leaf failed unexpectedly (a bug, reported once).
 */
int epcg_encl_create(struct epcg_sgx *sgx, uint64_t size,
		     struct epcg_encl **ret);

/**
 * epcg_encl_add_pages() - EADD and EEXTEND @nr pages to an enclave that is
 * not initialized yet.
 * @encl: the enclave.
 * @offset: where the first page goes, page-aligned, from the start of the
 *	enclave.
 * @src: @nr * 4096 bytes of contents.
 * @nr: pages to add, at least 1.
 * @type: EPCG_ENCL_PAGE_REG or EPCG_ENCL_PAGE_TCS.
 * @prot: EPCG_ENCL_PROT_* bits of a REG page (WRITE needs READ); 0 for a
 *	TCS page, which the hardware leaves without permissions and which
 *	threads may read and write.
 * @ret_added: if not NULL, set to the number of pages added, also on
 *	failure (the pages before the failing one stay added).
 *
 * Each page is charged to the current task's cgroup with reclaim allowed:
 * at a limit the call reclaims from the cgroup's subtree and waits (E4).
 * A Version Array page is allocated first whenever the enclave's page
 * count (its SECS included) reaches a multiple of 512, so that writing a
 * page out never needs a new allocation (H2).
 *
 * Context: any thread; not concurrently with another build or EDMM call
 * on @encl.
 * Return: 0; -EINVAL for a NULL argument, a bad range, offset, type or
 * permission, or an enclave already initialized; -EEXIST if a page in the
 * range was already added; -EBUSY if another build or EDMM call on @encl
 * is running; -ENOMEM if EPC with nothing reclaimable (or memory) ran out;
 * -EINTR if a signal interrupted the wait for EPC; -EIO if an emulated
 * leaf failed unexpectedly (a bug, reported once).
 */
int epcg_encl_add_pages(struct epcg_encl *encl, uint64_t offset,
			const void *src, uint64_t nr,
			enum epcg_encl_page_type type, unsigned prot,
			uint64_t *ret_added);

/**
 * epcg_encl_init() - EINIT: seal the measurement and make the enclave
 * runnable.
 * @encl: the enclave.
 * @sig: the expected measurement and attributes, or NULL to accept the
 *	measurement of what was added (a debug signer that signs whatever
 *	it is given).
 *
 * Context: any thread; not concurrently with another build or EDMM call.
 * Return: 0; -EINVAL for a NULL @encl or an enclave already initialized;
 * -EPERM if @sig does not match the measurement or the attributes; -EBUSY
 * if another build or EDMM call on @encl is running; -ENOMEM if host
 * memory to finish the measurement could not be had (nothing changed, the
 * enclave may be initialized later); -EIO if the emulated leaf failed
 * unexpectedly.
 */
int epcg_encl_init(struct epcg_encl *encl,
		   const struct epcg_sgx_sigstruct *sig);

/**
 * epcg_encl_enter() - EENTER: a new thread starts running in the enclave.
 * @encl: an initialized enclave.
 * @ret: the thread, to be passed to the access calls and to
 *	epcg_encl_exit().
 *
 * A thread counts as inside the enclave in the entry epoch it entered in,
 * which is what the reclaimer's ETRACK waits for.  A thread the reclaimer
 * forced out (the IPI analogue) re-enters by itself at its next access.
 *
 * Context: any thread; the returned thread is used by one OS thread at a
 * time.
 * Return: 0; -EINVAL for NULL arguments or an enclave not initialized;
 * -ENOMEM; -EBUSY if 65535 threads are inside already.
 */
int epcg_encl_enter(struct epcg_encl *encl, struct epcg_encl_thread **ret);

/**
 * epcg_encl_exit() - EEXIT: the thread leaves the enclave and is freed.
 * @thread: the thread, may be NULL.
 *
 * Context: the OS thread using @thread; before the enclave is released.
 */
void epcg_encl_exit(struct epcg_encl_thread *thread);

/**
 * epcg_encl_access() - a thread reads or writes enclave memory.
 * @encl: the enclave.
 * @thread: a thread inside @encl.
 * @offset: where, from the start of the enclave.
 * @access: EPCG_ENCL_READ (enclave to @buf) or EPCG_ENCL_WRITE.
 * @buf: @len bytes.
 * @len: bytes; the range may span pages.
 *
 * Each page touched is marked accessed (the reclaimer gives it a second
 * chance).  A page out of the EPC is loaded back first, its SECS before
 * it if needed, with an allocation that does not reclaim: at a limit or
 * with the EPC full, the access retries (the cgroup's async reclaim and
 * ksgxd make room) until the page is in.  An unbacked page of an
 * initialized enclave is added by EAUG and accepted, as an SGX2 runtime's
 * fault handler does.  Nothing reclaimable, an unreadable backing store,
 * or a page that fails its integrity check (SGX_MAC_COMPARE_FAIL) is the
 * SIGBUS outcome: the enclave is marked faulted and this and every later
 * access fail with -EFAULT.  A page that failed its check is never
 * loaded; no data is ever returned from it.
 *
 * Context: any thread, with @thread; concurrent accesses to one enclave
 * are allowed.
 * Return: 0; -EINVAL for a NULL argument, a range outside the enclave, or
 * a @thread not inside @encl; -EACCES if a page's permissions do not allow
 * the access (a TRIM page, or one with a change not yet accepted); -EFAULT
 * for the SIGBUS outcome; -EINTR if a signal of the current task stopped
 * the retries (nothing was marked faulted; bytes before the failing page
 * were transferred).
 */
int epcg_encl_access(struct epcg_encl *encl, struct epcg_encl_thread *thread,
		     uint64_t offset, enum epcg_encl_access access, void *buf,
		     size_t len);

/**
 * epcg_encl_touch() - a thread touches the page at @offset without moving
 * data: what epcg_encl_access() does for one page (the fault path, EAUG
 * of an unbacked page, the accessed bit, the counters) minus the copy.
 * @encl: the enclave.
 * @thread: a thread inside @encl.
 * @offset: any address in the page, from the start of the enclave.
 * @access: EPCG_ENCL_READ or EPCG_ENCL_WRITE (checked against the page's
 *	permissions).
 *
 * For simulators, where what matters is which pages are touched, not
 * their bytes: it spares a copy to or from a frame that is rarely in the
 * host's caches.
 *
 * Context: as epcg_encl_access().
 * Return: as epcg_encl_access().
 */
int epcg_encl_touch(struct epcg_encl *encl, struct epcg_encl_thread *thread,
		    uint64_t offset, enum epcg_encl_access access);

/**
 * epcg_encl_aug_page() - EAUG one page at @offset and accept it, as the
 * first touch of an unbacked address in an initialized enclave does.
 * @encl: the enclave.
 * @thread: a thread inside @encl (it runs the EACCEPT).
 * @offset: a page-aligned offset with no page yet.
 *
 * The new page is zeroed, readable and writable, charged to the current
 * task's cgroup with an allocation that does not reclaim (retried as an
 * access is).
 *
 * Context: any thread, with @thread.
 * Return: 0; -EINVAL for a NULL argument, a bad offset, an enclave not
 * initialized or a @thread not inside it; -EEXIST if the page exists;
 * -EFAULT for the SIGBUS outcome (nothing reclaimable); -EINTR if a
 * signal stopped the retries.
 */
int epcg_encl_aug_page(struct epcg_encl *encl, struct epcg_encl_thread *thread,
		       uint64_t offset);

/**
 * epcg_encl_restrict_perms() - EMODPR @nr REG pages to @prot (an
 * intersection with their permissions), then ETRACK, so the enclave can
 * EACCEPT the change (epcg_encl_accept()).
 * @encl: an initialized enclave.
 * @offset: first page, page-aligned.
 * @nr: pages.
 * @prot: EPCG_ENCL_PROT_* bits (WRITE needs READ).
 * @ret_done: if not NULL, pages changed, also on failure.
 *
 * A page out of the EPC is reloaded first, after one round of direct
 * reclaim (E10), with an allocation that does not reclaim.
 *
 * Context: any thread; not concurrently with another build or EDMM call.
 * Return: 0; -EINVAL for a NULL @encl, a bad range or @prot, an enclave
 * not initialized, or a page that is missing or not REG; -EBUSY if another
 * build or EDMM call runs; -EAGAIN if a page could not be reloaded now (a
 * limit or a full EPC with reclaimable pages, or a page being reclaimed):
 * retry; -EFAULT if nothing is reclaimable, a reload failed its integrity
 * check, or the leaf refused (e.g. a change not yet accepted); -EINTR if
 * a signal of the current task interrupted a reload.
 */
int epcg_encl_restrict_perms(struct epcg_encl *encl, uint64_t offset,
			     uint64_t nr, unsigned prot, uint64_t *ret_done);

/**
 * epcg_encl_modify_type() - EMODT @nr pages to @type (a REG page to TCS, a
 * REG or TCS page to TRIM), then ETRACK; the enclave must EACCEPT.
 * @encl: an initialized enclave.
 * @offset: first page, page-aligned.
 * @nr: pages.
 * @type: EPCG_ENCL_PAGE_TCS or EPCG_ENCL_PAGE_TRIM.
 * @ret_done: if not NULL, pages changed, also on failure.
 *
 * Context and reloads: as epcg_encl_restrict_perms().
 * Return: as epcg_encl_restrict_perms(); -EINVAL also for a bad @type or a
 * conversion the hardware does not allow.
 */
int epcg_encl_modify_type(struct epcg_encl *encl, uint64_t offset, uint64_t nr,
			  enum epcg_encl_page_type type, uint64_t *ret_done);

/**
 * epcg_encl_remove_pages() - EREMOVE @nr TRIM pages the enclave accepted,
 * and uncharge them.
 * @encl: an initialized enclave.
 * @offset: first page, page-aligned.
 * @nr: pages.
 * @ret_done: if not NULL, pages removed, also on failure.
 *
 * Context and reloads: as epcg_encl_restrict_perms().
 * Return: 0; -EINVAL for a NULL @encl, a bad range, an enclave not
 * initialized or a missing page; -EPERM for a page that is not TRIM or
 * whose trimming the enclave has not accepted; -EBUSY, -EAGAIN, -EFAULT as
 * epcg_encl_restrict_perms().
 */
int epcg_encl_remove_pages(struct epcg_encl *encl, uint64_t offset, uint64_t nr,
			   uint64_t *ret_done);

/**
 * epcg_encl_accept() - EACCEPT (run by the enclave): confirm the pending
 * change of the page at @offset (an EAUG, a permission restriction, a
 * type change).
 * @encl: the enclave.
 * @thread: a thread inside @encl.
 * @offset: the page, page-aligned.
 *
 * The page is reloaded first if it is out of the EPC, as an access would.
 *
 * Context: any thread, with @thread.
 * Return: 0; -EINVAL for a NULL argument, a bad offset, a missing page, a
 * @thread not inside @encl, or a page with no change pending; -EAGAIN if
 * the change's tracking cycle has not completed; -EFAULT, -EINTR as
 * epcg_encl_access().
 */
int epcg_encl_accept(struct epcg_encl *encl, struct epcg_encl_thread *thread,
		     uint64_t offset);

/**
 * epcg_encl_release() - destroy the enclave: free every EPC page it holds
 * (its pages, EREMOVEd and uncharged; its VA pages; its SECS) and its
 * backing store (H10).
 * @encl: the enclave, may be NULL.
 *
 * From the moment release starts, the reclaimer no longer takes the
 * enclave's pages; a batch already holding some finishes with them first
 * (release waits for it).  When release returns, the enclave's charges are
 * all gone (E12).
 *
 * Context: any thread; every thread has exited and no other call on
 * @encl runs or follows; not from a reclaimer.
 */
void epcg_encl_release(struct epcg_encl *encl);

/**
 * epcg_encl_stats() - fill @ret with @encl's state and counters.
 *
 * Context: any thread; takes the enclave lock.
 */
void epcg_encl_stats(struct epcg_encl *encl, struct epcg_encl_stats *ret);

/**
 * epcg_encl_faulted() - whether @encl met the SIGBUS outcome (a front end
 * raises SIGBUS in the enclave's process).
 *
 * Context: any thread; a relaxed read.
 */
bool epcg_encl_faulted(const struct epcg_encl *encl);

/** epcg_encl_size() - the size of @encl's address range, in bytes. */
uint64_t epcg_encl_size(const struct epcg_encl *encl);

#endif
