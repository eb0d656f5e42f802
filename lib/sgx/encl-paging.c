// SPDX-License-Identifier: MIT
/*
 * Where an enclave's pages are when they are not in the EPC, and how they
 * come back: the page table, Version Array slots and the growth that
 * keeps one VA page per 512 pages (H2), the backing store (H8), the
 * paging counters (X1) and the reload path used by faults and EDMM calls
 * (H9).  The design is in the essay at the top of encl.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encl-internal.h"
#include "epc-internal.h"
#include "util/alloc.h"
#include "util/macros.h"

#define PAGE EPCG_PAGE_SIZE

/* ---- the backing store ---- */

/*
 * A memfd store is mapped shared over its whole size and EWB seals
 * straight into a page's slot there, ELDU opens straight from it: no
 * system call and no copy per page, as the kernel's EWB writes into the
 * shmem page itself.  A file that is mapped but not yet that long, or a
 * sparse hole that tmpfs cannot fill, would raise SIGBUS on the first
 * touch, so room is taken before any blob is touched: fallocate() of the
 * 64 KiB chunk around it (clipped to the area it lies in, the pages or
 * the PCMDs), once per chunk, and a bit says the chunk has its room.
 * That is where a mapped store says it cannot be written: tmpfs out of
 * space (-ENOSPC), a file-size limit (-EFBIG), before the EWB, so the
 * page simply stays resident.  Once a chunk has room, writing into it
 * cannot fail.
 *
 * A store that is not a memfd (the temporary-file fallback), or that
 * could not be mapped, is read and written with pread() and pwrite()
 * through the scratch page, as is any store whose descriptor a test took
 * (epcg__encl_backing_fd()): that one may have another file behind it by
 * now (/dev/full, a write-only descriptor), and the kernel's own errors
 * from it are what the test is about.
 */
#define ROOM_CHUNK (16 * (uint64_t)PAGE)

static int backing_tmpfile(void)
{
	const char *dir = getenv("TMPDIR");

	return open(dir && *dir ? dir : P_tmpdir,
		    O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* Chunks of room in the page area; the PCMD area's follow them. */
static uint64_t page_chunks(const struct epcg_encl *encl)
{
	return (encl->pcmd_off + ROOM_CHUNK - 1) / ROOM_CHUNK;
}

/* Map @encl's memfd store, or leave it to descriptor I/O. */
static void backing_map(struct epcg_encl *encl)
{
	uint64_t pcmd = encl->backing_bytes - encl->pcmd_off;
	uint64_t chunks = page_chunks(encl) +
			  (pcmd + ROOM_CHUNK - 1) / ROOM_CHUNK;
	void *map;

	encl->backing_room = calloc((chunks + 63) / 64, sizeof(uint64_t));
	if (!encl->backing_room)
		return;
	map = mmap(NULL, encl->backing_bytes, PROT_READ | PROT_WRITE,
		   MAP_SHARED, encl->backing_fd, 0);
	if (map == MAP_FAILED) {
		free(encl->backing_room);
		encl->backing_room = NULL;
		return;
	}
	encl->backing_map = map;
}

/* Leave the mapping for descriptor I/O, sized as descriptor I/O expects. */
static void backing_unmap(struct epcg_encl *encl)
{
	struct stat st;

	if (!encl->backing_map)
		return;
	munmap(encl->backing_map, encl->backing_bytes);
	encl->backing_map = NULL;
	free(encl->backing_room);
	encl->backing_room = NULL;
	/* Unwritten slots then read as zeros (failing ELDU), not as EOF. */
	if (!fstat(encl->backing_fd, &st) &&
	    (uint64_t)st.st_size < encl->backing_bytes &&
	    ftruncate(encl->backing_fd, (off_t)encl->backing_bytes))
		return; /* a read past the end fails with -EIO instead */
}

int epcg__encl_backing_create(struct epcg_encl *encl)
{
	uint64_t nr = encl->size / PAGE + 1; /* pages and the SECS */
	uint64_t pcmd = (nr * EPCG_ENCL_PCMD_SIZE + PAGE - 1) &
			~(uint64_t)(PAGE - 1);
	bool memfd = true;
	int fd;

	if (epcg_fault_hit())
		return -ENOMEM;
	fd = memfd_create("epcg-enclave", MFD_CLOEXEC);
	if (fd < 0) {
		memfd = false;
		fd = backing_tmpfile();
	}
	if (fd < 0)
		return -ENOMEM;
	encl->backing_fd = fd;
	encl->pcmd_off = encl->size + PAGE;
	encl->backing_bytes = encl->pcmd_off + pcmd;
	if (memfd)
		backing_map(encl);
	/* Descriptor I/O: sized once, sparse. */
	if (!encl->backing_map &&
	    ftruncate(fd, (off_t)encl->backing_bytes))
		return -ENOMEM; /* the caller's unwinding closes @fd */
	return 0;
}

void epcg__encl_backing_destroy(struct epcg_encl *encl)
{
	if (encl->backing_map)
		munmap(encl->backing_map, encl->backing_bytes);
	free(encl->backing_room);
	if (encl->backing_fd >= 0)
		close(encl->backing_fd);
}

/*
 * Take room for the blob byte at @off of a mapped store, if its chunk has
 * none yet.  @lock.  Return: 0; -errno from fallocate().
 */
static int backing_room(struct epcg_encl *encl, uint64_t off)
{
	uint64_t c, start, end;
	int err;

	if (off < encl->pcmd_off) {
		c = off / ROOM_CHUNK;
		start = c * ROOM_CHUNK;
		end = EPCG_MIN(start + ROOM_CHUNK, encl->pcmd_off);
	} else {
		c = (off - encl->pcmd_off) / ROOM_CHUNK;
		start = encl->pcmd_off + c * ROOM_CHUNK;
		end = EPCG_MIN(start + ROOM_CHUNK, encl->backing_bytes);
		c += page_chunks(encl);
	}
	if (encl->backing_room[c / 64] & (1ull << (c % 64)))
		return 0;
	do
		err = fallocate(encl->backing_fd, 0, (off_t)start,
				(off_t)(end - start));
	while (err && errno == EINTR);
	if (err)
		return -errno;
	encl->backing_room[c / 64] |= 1ull << (c % 64);
	return 0;
}

/* Room for page @index's ciphertext and PCMD.  @lock. */
static int backing_room_page(struct epcg_encl *encl, uint64_t index)
{
	int err = backing_room(encl, epcg__encl_backing_page_off(encl, index));

	return err ? err :
		     backing_room(encl,
				  epcg__encl_backing_pcmd_off(encl, index));
}

/* Point @pi at page @index's slot in the mapped store. */
static void backing_slot(struct epcg_encl *encl, uint64_t index,
			 struct epcg_sgx_pageinfo *pi)
{
	uint8_t *map = encl->backing_map;

	pi->srcpge = map + epcg__encl_backing_page_off(encl, index);
	pi->pcmd = (struct epcg_sgx_pcmd *)(map + epcg__encl_backing_pcmd_off(
							  encl, index));
}

/* pread() or pwrite() all of @len bytes at @off. */
static int backing_fd_io(struct epcg_encl *encl, enum epcg_encl_backing_op op,
			 void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t r =
			op == EPCG_ENCL_BACKING_READ ?
				pread(encl->backing_fd, p, len, (off_t)off) :
				pwrite(encl->backing_fd, p, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/*
 * The one place a blob is read from or written to the backing store
 * (failure injection): page @index's ciphertext and PCMD, between the
 * store and the scratch copies, or, for a mapped store, a check that
 * their slot has room (reads; a write found it before the EWB).  @lock.
 */
static int backing_io(struct epcg_encl *encl, enum epcg_encl_backing_op op,
		      uint64_t index)
{
	struct epcg_encl_inject *inj = &encl->inject[op];
	unsigned n = epcg_atomic_load_relaxed(&inj->count);
	int err;

	while (n)
		if (epcg_atomic_cas_weak_relaxed(&inj->count, &n, n - 1))
			return -epcg_atomic_load_relaxed(&inj->err);
	if (encl->backing_map)
		return op == EPCG_ENCL_BACKING_READ ?
			       backing_room_page(encl, index) :
			       0;
	err = backing_fd_io(encl, op, encl->scratch, PAGE,
			    epcg__encl_backing_page_off(encl, index));
	return err ? err :
		     backing_fd_io(encl, op, encl->pcmd, EPCG_ENCL_PCMD_SIZE,
				   epcg__encl_backing_pcmd_off(encl, index));
}

uint64_t epcg__encl_backing_page_off(const struct epcg_encl *encl,
				     uint64_t index)
{
	return index * PAGE;
}

uint64_t epcg__encl_backing_pcmd_off(const struct epcg_encl *encl,
				     uint64_t index)
{
	return encl->pcmd_off + index * EPCG_ENCL_PCMD_SIZE;
}

int epcg__encl_backing_reserve(struct epcg_encl *encl, uint64_t index,
			       struct epcg_sgx_pageinfo *pi)
{
	int err;

	if (!encl->backing_map) {
		pi->srcpge = encl->scratch;
		pi->pcmd = encl->pcmd;
		return 0;
	}
	err = backing_room_page(encl, index);
	if (!err)
		backing_slot(encl, index, pi);
	return err;
}

int epcg__encl_backing_write(struct epcg_encl *encl, uint64_t index)
{
	return backing_io(encl, EPCG_ENCL_BACKING_WRITE, index);
}

int epcg__encl_backing_read(struct epcg_encl *encl, uint64_t index,
			    struct epcg_sgx_pageinfo *pi)
{
	int err = backing_io(encl, EPCG_ENCL_BACKING_READ, index);

	if (err)
		return err;
	if (encl->backing_map) {
		backing_slot(encl, index, pi);
	} else {
		pi->srcpge = encl->scratch;
		pi->pcmd = encl->pcmd;
	}
	return 0;
}

/*
 * A prefetch never faults, even where the store has no room yet.  The
 * PCMD first: the leaf reads it first.
 */
void epcg__encl_backing_prefetch(struct epcg_encl *encl, uint64_t index)
{
	const uint8_t *p;

	if (!encl->backing_map)
		return;
	__builtin_prefetch(encl->backing_map +
			   epcg__encl_backing_pcmd_off(encl, index));
	p = encl->backing_map + epcg__encl_backing_page_off(encl, index);
	for (unsigned i = 0; i < PAGE; i += 64)
		__builtin_prefetch(p + i);
}

int epcg__encl_backing_fd(struct epcg_encl *encl)
{
	epcg_mutex_lock(&encl->lock);
	backing_unmap(encl);
	epcg_mutex_unlock(&encl->lock);
	return encl->backing_fd;
}

void epcg__encl_backing_inject(struct epcg_encl *encl,
			       enum epcg_encl_backing_op op, int err,
			       unsigned count)
{
	epcg_atomic_store_relaxed(&encl->inject[op].err, err);
	epcg_atomic_store_relaxed(&encl->inject[op].count, count);
}

/* ---- the page table ---- */

struct epcg_encl_page *epcg__encl_page_get(struct epcg_encl *encl,
					   uint64_t offset)
{
	uint64_t idx = offset / PAGE, first;
	struct epcg_encl_page **slot =
		&encl->chunks[idx / EPCG_ENCL_CHUNK_PAGES];

	if (!*slot) {
		struct epcg_encl_page *chunk =
			epcg_calloc(EPCG_ENCL_CHUNK_PAGES, sizeof(*chunk));

		if (!chunk)
			return NULL;
		first = idx - idx % EPCG_ENCL_CHUNK_PAGES;
		for (unsigned i = 0; i < EPCG_ENCL_CHUNK_PAGES; i++) {
			chunk[i].encl = encl;
			chunk[i].offset = (first + i) * PAGE;
			epcg_atomic_init(&chunk[i].flags, 0);
		}
		*slot = chunk;
	}
	return &(*slot)[idx % EPCG_ENCL_CHUNK_PAGES];
}

bool epcg__encl_page_resident(struct epcg_encl *encl, uint64_t offset)
{
	struct epcg_encl_page *page;
	bool ret;

	epcg_mutex_lock(&encl->lock);
	page = offset < encl->size ?
		       epcg__encl_page_lookup(encl,
					      offset & ~(uint64_t)(PAGE - 1)) :
		       NULL;
	ret = page && page->epc_page;
	epcg_mutex_unlock(&encl->lock);
	return ret;
}

/* ---- Version Array pages and slots ---- */

struct epcg_encl_va *epcg__encl_va_get(struct epcg_encl *encl,
				       unsigned *ret_slot)
{
	struct epcg_encl_va *va;
	unsigned w;

	if (EPCG_WARN_ONCE(epcg_list_empty(&encl->va_pages),
			   "encl: no VA page"))
		return NULL;
	va = epcg_list_first_entry(&encl->va_pages, struct epcg_encl_va, link);
	if (EPCG_WARN_ONCE(va->nr_used == EPCG_SGX_VA_SLOT_NR,
			   "encl: every VA slot is in use"))
		return NULL;
	for (w = 0; !~va->used[w]; w++)
		;
	*ret_slot = w * 64 + (unsigned)__builtin_ctzll(~va->used[w]);
	va->used[w] |= 1ull << (*ret_slot % 64);
	if (++va->nr_used == EPCG_SGX_VA_SLOT_NR)
		epcg_list_move_tail(&va->link, &encl->va_pages);
	return va;
}

void epcg__encl_va_put(struct epcg_encl *encl, struct epcg_encl_va *va,
		       unsigned slot)
{
	va->used[slot / 64] &= ~(1ull << (slot % 64));
	va->nr_used--;
	/* Slots are taken from the first VA page: put one with room there. */
	epcg_list_del_init(&va->link);
	epcg_list_add(&va->link, &encl->va_pages);
}

int epcg__encl_grow(struct epcg_encl *encl, uint64_t page_cnt,
		    enum epcg_epc_reclaim reclaim, struct epcg_encl_va **ret_va)
{
	struct epcg_encl_va *va;
	int err;

	*ret_va = NULL;
	if (page_cnt % EPCG_SGX_VA_SLOT_NR)
		return 0;
	va = epcg_calloc(1, sizeof(*va));
	if (!va)
		return -ENOMEM;
	epcg_list_init(&va->link);
	err = epcg__sgx_alloc_page(encl->sgx, va, reclaim, &va->epc_page);
	if (err) {
		free(va);
		return err;
	}
	if (EPCG_WARN_ONCE(epcg__encls_epa(encl->sgx->encls,
					   epcg_epc_page_pfn(va->epc_page)),
			   "encl: EPA failed")) {
		epcg__sgx_free_page(encl->sgx, va->epc_page);
		free(va);
		return -EIO;
	}
	epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_EPA);
	*ret_va = va;
	return 0;
}

void epcg__encl_grown(struct epcg_encl *encl, struct epcg_encl_va *va)
{
	encl->page_cnt++;
	if (va) {
		epcg_list_add(&va->link, &encl->va_pages);
		encl->nr_va++;
	}
}

void epcg__encl_va_free(struct epcg_encl *encl, struct epcg_encl_va *va)
{
	if (!va)
		return;
	EPCG_WARN_ONCE(epcg__encls_eremove(encl->sgx->encls,
					   epcg_epc_page_pfn(va->epc_page)),
		       "encl: EREMOVE of a VA page failed");
	epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_EREMOVE);
	epcg__sgx_free_page(encl->sgx, va->epc_page);
	free(va);
}

/* ---- counters ---- */

static struct epcg_sgx_counters *cg_counters(struct epcg_misc_cg *cg)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(cg);

	return sgx_cg ? &sgx_cg->stats : NULL;
}

static void count(epcg_atomic(uint64_t) * c, uint64_t n)
{
	epcg_atomic_fetch_add_relaxed(c, n);
}

void epcg__encl_count_eldu(struct epcg_encl *encl, struct epcg_epc_page *epc,
			   uint64_t ns)
{
	struct epcg_sgx_counters *c = cg_counters(epc->cg);

	count(&encl->stats.eldu, 1);
	count(&encl->sgx->stats.eldu, 1);
	count(&encl->sgx->stats.paging_ns, ns);
	if (c) {
		count(&c->eldu, 1);
		count(&c->paging_ns, ns);
	}
}

void epcg__encl_count_ewb(struct epcg_encl *encl, struct epcg_epc_page *epc,
			  uint64_t ns, bool by_reclaimer)
{
	struct epcg_sgx_counters *c = cg_counters(epc->cg);

	count(&encl->stats.ewb, 1);
	count(&encl->sgx->stats.paging_ns, ns);
	if (c)
		count(&c->paging_ns, ns);
	/* The batch counts the pages it frees; we count the SECS. */
	if (!by_reclaimer) {
		count(&encl->sgx->stats.ewb, 1);
		if (c)
			count(&c->ewb, 1);
	}
}

/* What count_task() counts. */
enum task_event {
	TASK_FAULT,
	TASK_SIGBUS,
};

/* Count a fault or a SIGBUS for the machine and the current task's cgroup. */
static void count_task(struct epcg_encl *encl, enum task_event ev)
{
	struct epcg_sgx *sgx = encl->sgx;
	struct epcg_misc_cg *cg =
		epcg_misc_task_get_cg(sgx->misc, epcg_task_current());
	struct epcg_sgx_counters *c = cg_counters(cg);

	if (ev == TASK_FAULT) {
		count(&sgx->stats.faults, 1);
		if (c)
			count(&c->faults, 1);
	} else {
		count(&sgx->stats.sigbus, 1);
		if (c)
			count(&c->sigbus, 1);
	}
	/* The task holds a reference too: never the last one. */
	epcg_misc_cg_put(cg);
}

void epcg__encl_count_fault(struct epcg_encl *encl)
{
	epcg__sgx_cost(encl->sgx, EPCG_SGX_COST_FAULT);
	count(&encl->stats.faults, 1);
	count_task(encl, TASK_FAULT);
}

void epcg__encl_sigbus(struct epcg_encl *encl)
{
	epcg_atomic_fetch_or_acq_rel(&encl->state, EPCG_ENCL_FAULTED);
	count(&encl->stats.sigbus, 1);
	count_task(encl, TASK_SIGBUS);
}

/* ---- the fault path ---- */

/* ELDU @page (a child, or the SECS) into a new EPC page.  @lock. */
static int eldu_page(struct epcg_encl *encl, struct epcg_encl_page *page)
{
	struct epcg_sgx *sgx = encl->sgx;
	bool secs = epcg__encl_is_secs(page);
	/*
	 * The blob is in the enclave's own store (mapped: its slot; else
	 * the scratch page it was read into), which only this enclave's
	 * paging writes, under @lock, held here: nobody can change it while
	 * ELDU reads it, so ELDU need not copy it first.  A store whose
	 * descriptor a test took is read into the scratch page, never
	 * mapped (epcg__encl_backing_fd()).
	 */
	struct epcg_sgx_pageinfo pi = {
		.linaddr = secs ? 0 : encl->base + page->offset,
		.secs = secs ? EPCG_SGX_NO_PFN :
			       epcg__encl_pfn(&encl->secs_page),
		.src = EPCG_SGX_SRC_PRIVATE,
	};
	struct epcg_epc_page *epc;
	uint64_t t0, ns;
	int err, st;

	epcg__encl_backing_prefetch(encl, page->offset / PAGE);
	err = epcg__sgx_alloc_page(sgx, page, EPCG_EPC_NO_RECLAIM, &epc);
	if (err)
		return err;
	err = epcg__encl_backing_read(encl, page->offset / PAGE, &pi);
	if (err) {
		err = -EIO;
		goto err_free;
	}
	t0 = epcg_exec_now_ns(sgx->ex);
	st = epcg__encls_eldu(sgx->encls, &pi, epcg_epc_page_pfn(epc),
			      epcg_epc_page_pfn(page->va_page->epc_page),
			      page->va_slot);
	if (!st)
		epcg__sgx_cost(sgx, EPCG_SGX_COST_ELDU);
	ns = epcg_exec_now_ns(sgx->ex) - t0;
	if (st) {
		err = st == EPCG_SGX_MAC_COMPARE_FAIL ? -EBADMSG : -EIO;
		EPCG_WARN_ONCE(err == -EIO, "encl: ELDU failed: %s",
			       epcg_sgx_status_name(st));
		goto err_free;
	}
	epcg__encl_va_put(encl, page->va_page, page->va_slot);
	page->va_page = NULL;
	page->epc_page = epc;
	if (!secs)
		epcg__sgx_mark_reclaimable(sgx, epc);
	epcg__encl_count_eldu(encl, epc, ns);
	return 0;

err_free:
	/* ELDU failed or never ran: the frame is invalid in the EPCM. */
	epcg__sgx_free_page(sgx, epc);
	return err;
}

int epcg__encl_load(struct epcg_encl *encl, struct epcg_encl_page *page)
{
	int err;

	if (!encl->secs_page.epc_page) {
		err = eldu_page(encl, &encl->secs_page);
		if (err)
			return err;
	}
	if (page->epc_page)
		return 0;
	return eldu_page(encl, page);
}
