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
#include <unistd.h>

#include "encl-internal.h"
#include "epc-internal.h"
#include "util/alloc.h"
#include "util/macros.h"

#define PAGE EPCG_PAGE_SIZE

/* ---- the backing store ---- */

static int backing_tmpfile(void)
{
	const char *dir = getenv("TMPDIR");

	return open(dir && *dir ? dir : P_tmpdir,
		    O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

int epcg__encl_backing_create(struct epcg_encl *encl)
{
	uint64_t nr = encl->size / PAGE + 1; /* pages and the SECS */
	uint64_t pcmd = (nr * EPCG_ENCL_PCMD_SIZE + PAGE - 1) &
			~(uint64_t)(PAGE - 1);
	int fd;

	if (epcg_fault_hit())
		return -ENOMEM;
	fd = memfd_create("epcg-enclave", MFD_CLOEXEC);
	if (fd < 0)
		fd = backing_tmpfile();
	if (fd < 0)
		return -ENOMEM;
	encl->pcmd_off = encl->size + PAGE;
	if (ftruncate(fd, (off_t)(encl->pcmd_off + pcmd))) {
		close(fd);
		return -ENOMEM;
	}
	encl->backing_fd = fd;
	return 0;
}

/* The one place the backing store is read or written (failure injection). */
static int backing_io(struct epcg_encl *encl, enum epcg_encl_backing_op op,
		      void *buf, size_t len, uint64_t off)
{
	struct epcg_encl_inject *inj = &encl->inject[op];
	unsigned n = epcg_atomic_load_relaxed(&inj->count);
	char *p = buf;

	while (n)
		if (epcg_atomic_cas_weak_relaxed(&inj->count, &n, n - 1))
			return -epcg_atomic_load_relaxed(&inj->err);
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

int epcg__encl_backing_read(struct epcg_encl *encl, uint64_t index)
{
	int err = backing_io(encl, EPCG_ENCL_BACKING_READ, encl->scratch, PAGE,
			     epcg__encl_backing_page_off(encl, index));

	if (!err)
		err = backing_io(encl, EPCG_ENCL_BACKING_READ, encl->pcmd,
				 EPCG_ENCL_PCMD_SIZE,
				 epcg__encl_backing_pcmd_off(encl, index));
	return err;
}

int epcg__encl_backing_write(struct epcg_encl *encl, uint64_t index)
{
	int err = backing_io(encl, EPCG_ENCL_BACKING_WRITE, encl->scratch, PAGE,
			     epcg__encl_backing_page_off(encl, index));

	if (!err)
		err = backing_io(encl, EPCG_ENCL_BACKING_WRITE, encl->pcmd,
				 EPCG_ENCL_PCMD_SIZE,
				 epcg__encl_backing_pcmd_off(encl, index));
	return err;
}

int epcg__encl_backing_fd(const struct epcg_encl *encl)
{
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

struct epcg_encl_page *epcg__encl_page_lookup(struct epcg_encl *encl,
					      uint64_t offset)
{
	uint64_t idx = offset / PAGE;
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
	struct epcg_sgx_pageinfo pi = {
		.linaddr = secs ? 0 : encl->base + page->offset,
		.srcpge = encl->scratch,
		.pcmd = encl->pcmd,
		.secs = secs ? EPCG_SGX_NO_PFN :
			       epcg__encl_pfn(&encl->secs_page),
	};
	struct epcg_epc_page *epc;
	uint64_t t0, ns;
	int err, st;

	err = epcg__sgx_alloc_page(sgx, page, EPCG_EPC_NO_RECLAIM, &epc);
	if (err)
		return err;
	err = epcg__encl_backing_read(encl, page->offset / PAGE);
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
