// SPDX-License-Identifier: MIT
/*
 * The EPC page allocator: sections, frames, per-node free lists, and the
 * charge every allocation makes (SPEC H1, E1).
 *
 * Layout
 * ------
 *
 *   struct epcg_epc
 *     sections[s]   base  --> | frame | frame | frame | ...  4 KiB each,
 *                                                             one mapping
 *                   pages --> | desc  | desc  | desc  | ...  40 bytes each
 *     nodes[n]      lock, nr_free, free: desc -> desc -> ...  (cache line)
 *
 * A section is one anonymous mapping made with MAP_NORESERVE, so a large
 * EPC costs address space until frames are written.  Its frames are
 * numbered (pfn) after those of the sections created before it, and each
 * has a descriptor (struct epcg_epc_page) in an array beside the mapping:
 * pfn, descriptor and frame address convert into each other with an index
 * and no lookup beyond finding the section.  A descriptor names its EPC
 * by a two-byte number, an index into a process-wide table of live EPCs,
 * rather than by an eight-byte pointer: with 1M frames per 4 GiB of EPC
 * and up to 128M per socket, every byte of the descriptor counts, and
 * the lookup costs the same one load the pointer did.
 *
 * Each NUMA node that has EPC has one free list behind its own lock, the
 * kernel's layout: allocators on different nodes do not contend.  An
 * allocation tries the calling task's node, then every other node with
 * EPC.  The fallback starts one node further on each time (a shared,
 * relaxed cursor), so spill-over spreads over the remaining nodes instead
 * of draining the lowest-numbered one first.
 *
 * A node's free frames are a stack, linked through the descriptors: a
 * frame is popped from the top and a freed one pushed back on top, so the
 * frame freed last is reused first, and a pop or a push touches the node's
 * line and the frame's descriptor only (a doubly linked list would touch
 * a neighbour's descriptor too).  The kernel does the
 * opposite (freed frames go to the tail), which costs nothing on
 * hardware, where every frame is always there.  Here a frame is host
 * memory that becomes resident when first written: reusing frames in
 * turn would, given time, make the whole EPC resident (4 GiB of RAM for a
 * 4 GiB EPC holding 100 MiB of enclaves) and make every fault of a
 * thrashing enclave a host page fault on a cold frame.  Which frame a
 * page gets is invisible to every rule (SPEC H1 names none), so we keep
 * the resident set at the peak number of frames ever in use, and the
 * hot frames in the caches.
 *
 * The node lock is a spinlock, as the kernel's is: it is held for one
 * list push or pop, and every allocation and every free takes it, so a
 * mutex's second atomic (on unlock) and its bookkeeping would be a third
 * of what the allocator adds to the charge (docs/benchmarks.md).  For the
 * same reason there is no global free count to keep up to date:
 * epcg_epc_nr_free() sums the nodes' counts, which only their lock
 * holders write.
 *
 * Invariants
 * ----------
 *
 *  - A frame is on its node's free list exactly when its FREE flag is set
 *    and its @cg is NULL.
 *  - A node's nr_free is the length of its list whenever its lock is
 *    free; epcg_epc_nr_free() is their sum.
 *  - An allocated frame's @cg holds one reference on the cgroup, and one
 *    page (4096 bytes) of sgx_epc is charged to that cgroup and to every
 *    ancestor up to the root, until the frame is freed.  So the sum, over
 *    allocated frames charged within a cgroup's subtree, of 4096 equals
 *    that cgroup's sgx_epc usage.
 *  - The sgx_epc capacity equals the sum of the section sizes while the
 *    EPC exists.
 *
 * Why charge before taking a frame
 * --------------------------------
 *
 * E1 orders it so, as the kernel series does, and for good reasons.  The
 * charge is the check that may say no (a limit), and it costs atomics but
 * no lock, while taking a frame takes a node lock and changes shared
 * state.  Charging first means a cgroup at its limit never holds a frame
 * it may not have, not even for a moment, so it cannot starve other
 * cgroups of frames in a full EPC; and the two failures stay distinct: a
 * refused charge is -EBUSY (reclaim within the cgroup's subtree helps),
 * an empty EPC after a successful charge is -ENOMEM (only global reclaim
 * helps).  Undoing the charge when no frame is left costs a second walk,
 * but only when the EPC is exhausted.
 *
 * Freeing runs the other way round, as the kernel's sgx_free_epc_page()
 * does: uncharge, then return the frame.  For a moment the page is no
 * longer charged but its frame is not free yet, so a concurrent
 * allocation may pass its charge and find no frame: with a capacity equal
 * to the frame count it then fails with -ENOMEM (the reclaim layer will
 * retry there instead).  The stress test counts how often that happens.
 *
 * The charge itself goes through charge_page() below: the one place where
 * the EPC cgroup's charge loop (reclaim on -EBUSY, E3/E4) plugs in.
 */
#include <epcg/epc.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <epcg/exec.h>
#include <epcg/misc.h>

#include "epc-internal.h"
#include "util/alloc.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"
#include "util/macros.h"

static int validate(const struct epcg_epc_section_spec *secs,
		    unsigned nr_secs)
{
	uint64_t total = 0;

	if (!secs || nr_secs < 1 || nr_secs > EPCG_EPC_MAX_SECTIONS)
		return -EINVAL;
	for (unsigned i = 0; i < nr_secs; i++) {
		uint64_t size = secs[i].size;

		if (!size || size % EPCG_PAGE_SIZE)
			return -EINVAL;
		if (secs[i].node < 0 || secs[i].node >= EPCG_EPC_MAX_NODES)
			return -EINVAL;
		if (total + size < total)
			return -EINVAL;
		total += size;
	}
	return 0;
}

/* Map the frames and set up the descriptors of section @idx. */
static int section_init(struct epcg_epc *epc, unsigned idx,
			const struct epcg_epc_section_spec *spec)
{
	struct epcg_epc_section *sec = &epc->sections[idx];
	struct epcg_epc_node *node = &epc->nodes[spec->node];

	sec->nr_pages = spec->size >> EPCG_PAGE_SHIFT;
	sec->first_pfn = epc->nr_pages;
	sec->node = spec->node;
	epc->section_node[idx] = (uint8_t)spec->node;
	sec->pages = epcg_calloc(sec->nr_pages, sizeof(*sec->pages));
	if (!sec->pages)
		return -ENOMEM;
	sec->base = mmap(NULL, spec->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sec->base == MAP_FAILED) {
		sec->base = NULL;
		free(sec->pages);
		sec->pages = NULL;
		return -ENOMEM;
	}

	/* Below the node's earlier sections: frames go out in pfn order. */
	for (uint64_t i = 0; i < sec->nr_pages; i++) {
		struct epcg_epc_page *page = &sec->pages[i];

		page->epc_id = (uint16_t)epc->id;
		page->section = (uint16_t)idx;
		epcg_atomic_init(&page->flags, EPCG_EPC_PAGE_FREE);
		page->list.next = i + 1 < sec->nr_pages ? &page[1].list : NULL;
	}
	if (sec->nr_pages) {
		if (node->bottom)
			node->bottom->list.next = &sec->pages[0].list;
		else
			node->free = &sec->pages[0];
		node->bottom = &sec->pages[sec->nr_pages - 1];
	}
	epcg_atomic_store_relaxed(&node->nr_free,
				  epcg_atomic_load_relaxed(&node->nr_free) +
					  sec->nr_pages);
	node->nr_pages += sec->nr_pages;
	epc->nr_pages += sec->nr_pages;
	epc->nr_sections = idx + 1;
	return 0;
}

static void section_finish(struct epcg_epc_section *sec)
{
	if (sec->base)
		munmap(sec->base, sec->nr_pages << EPCG_PAGE_SHIFT);
	free(sec->pages);
}

epcg_atomic(struct epcg_epc *) epcg__epc_by_id[EPCG_EPC_MAX_IDS];

/* Give @epc the first free number.  Return: 0, or -ENOMEM if none is. */
static int id_claim(struct epcg_epc *epc)
{
	for (unsigned i = 0; i < EPCG_EPC_MAX_IDS; i++) {
		struct epcg_epc *none = NULL;

		if (epcg_atomic_cas_acq_rel(&epcg__epc_by_id[i], &none, epc)) {
			epc->id = i;
			return 0;
		}
	}
	return -ENOMEM;
}

/* Free what epcg_epc_create() built; the capacity is the caller's. */
static void epc_free(struct epcg_epc *epc)
{
	for (unsigned i = 0; i < epc->nr_sections; i++)
		section_finish(&epc->sections[i]);
	if (epc->id < EPCG_EPC_MAX_IDS)
		epcg_atomic_store_release(&epcg__epc_by_id[epc->id], NULL);
	free(epc);
}

int epcg_epc_create(struct epcg_misc *m, struct epcg_exec *ex,
		    const struct epcg_epc_section_spec *secs, unsigned nr_secs,
		    struct epcg_epc **ret)
{
	struct epcg_epc *epc;
	int r;

	if (!m || !ex || !ret)
		return -EINVAL;
	r = validate(secs, nr_secs);
	if (r)
		return r;

	/* The size of an aligned type is a multiple of its alignment. */
	epc = epcg_aligned_alloc(_Alignof(struct epcg_epc), sizeof(*epc));
	if (!epc)
		return -ENOMEM;
	memset(epc, 0, sizeof(*epc));
	epc->misc = m;
	epc->ex = ex;
	epc->id = EPCG_EPC_MAX_IDS;
	for (unsigned n = 0; n < EPCG_EPC_MAX_NODES; n++) {
		epcg_spinlock_init(&epc->nodes[n].lock);
		epc->nodes[n].free = NULL;
		epc->nodes[n].bottom = NULL;
		epcg_atomic_init(&epc->nodes[n].nr_free, 0);
	}
	r = id_claim(epc);
	if (r)
		goto err_free;
	for (unsigned i = 0; i < nr_secs; i++) {
		r = section_init(epc, i, &secs[i]);
		if (r)
			goto err_free;
	}
	for (int n = 0; n < EPCG_EPC_MAX_NODES; n++) {
		epc->node_index[n] = (uint8_t)epc->nr_epc_nodes;
		if (epc->nodes[n].nr_pages)
			epc->epc_nodes[epc->nr_epc_nodes++] = (uint8_t)n;
		else
			epc->node_index[n] = 0;
	}
	epcg_atomic_init(&epc->next_node, 0);

	r = epcg_misc_set_capacity(m, EPCG_MISC_RES_SGX_EPC,
				   epc->nr_pages << EPCG_PAGE_SHIFT);
	if (r)
		goto err_free;
	*ret = epc;
	return 0;

err_free:
	epc_free(epc);
	return r;
}

void epcg_epc_destroy(struct epcg_epc *epc)
{
	uint64_t leaked;

	if (!epc)
		return;
	leaked = epc->nr_pages - epcg_epc_nr_free(epc);
	EPCG_WARN_ONCE(leaked,
		       "EPC destroyed with %llu of %llu pages allocated",
		       (unsigned long long)leaked,
		       (unsigned long long)epc->nr_pages);
	epcg_misc_set_capacity(epc->misc, EPCG_MISC_RES_SGX_EPC, 0);
	epc_free(epc);
}

struct epcg_epc_page *epcg__epc_take_frame_other(struct epcg_epc *epc,
						 unsigned first)
{
	unsigned nr = epc->nr_epc_nodes, k;
	struct epcg_epc_page *page;

	/* The other nodes in turn, each fallback starting one further on. */
	k = epcg_atomic_fetch_add_relaxed(&epc->next_node, 1);
	for (unsigned i = 0; i < nr - 1; i++) {
		unsigned idx = (k + i) % (nr - 1);

		/* @idx counts the nodes other than @first: step over it. */
		idx += idx >= first;
		page = epcg__epc_pop(&epc->nodes[epc->epc_nodes[idx]]);
		if (page)
			return page;
	}
	return NULL;
}

/*
 * charge_page() - charge one page of sgx_epc to the current task's cgroup
 * and all its ancestors (E1); on success *@ret_cg is that cgroup with a
 * reference, which the page keeps until it is freed.
 *
 * The cgroup is the one the allocating task is in now, not the one the
 * enclave was created in.  This is the hook of the EPC cgroup's charge
 * loop: there, when a limit refuses the charge, a caller that may reclaim
 * (@reclaim) reclaims from the cgroup's subtree and retries, one that may
 * not queues async reclaim, and a pending signal ends the loop (E3, E4).
 * Until then a refused charge is final.
 */
static int charge_page(struct epcg_epc *epc, struct epcg_task *task,
		       enum epcg_epc_reclaim reclaim,
		       struct epcg_misc_cg **ret_cg)
{
	struct epcg_misc_cg *cg;
	int r;

	cg = epcg_misc_task_get_cg(epc->misc, task);
	r = epcg_misc_try_charge(EPCG_MISC_RES_SGX_EPC, cg, EPCG_PAGE_SIZE,
				 NULL);
	if (r) {
		epcg_misc_cg_put(cg);
		return r;
	}
	*ret_cg = cg;
	return 0;
}

/* Undo charge_page(): uncharge @cg and drop the page's reference. */
static void uncharge_page(struct epcg_misc_cg *cg)
{
	epcg_misc_uncharge_put(EPCG_MISC_RES_SGX_EPC, cg, EPCG_PAGE_SIZE);
}

int epcg_epc_alloc_page(struct epcg_epc *epc, void *owner,
			enum epcg_epc_reclaim reclaim,
			struct epcg_epc_page **ret)
{
	struct epcg_task *task = epcg_task_current();
	struct epcg_epc_page *page;
	struct epcg_misc_cg *cg;
	int r;

	if (!epc || !ret || (unsigned)reclaim >= EPCG_EPC_RECLAIM_NR)
		return -EINVAL;
	r = charge_page(epc, task, reclaim, &cg);
	if (r)
		return r;
	page = epcg__epc_take_frame(epc, task ? task->node : -1);
	if (!page) {
		uncharge_page(cg);
		return -ENOMEM;
	}
	page->owner = owner;
	page->cg = cg;
	*ret = page;
	return 0;
}

void epcg_epc_free_page(struct epcg_epc_page *page)
{
	struct epcg_misc_cg *cg;

	if (!page)
		return;
	if (EPCG_WARN_ONCE(epcg_atomic_load_relaxed(&page->flags) &
				   EPCG_EPC_PAGE_FREE,
			   "EPC page %llu freed twice",
			   (unsigned long long)epcg_epc_page_pfn(page)))
		return;
	cg = page->cg;
	page->cg = NULL;
	page->owner = NULL;
	uncharge_page(cg);
	epcg__epc_return_frame(page);
}

uint64_t epcg_epc_nr_pages(const struct epcg_epc *epc)
{
	return epc->nr_pages;
}

uint64_t epcg_epc_nr_free(const struct epcg_epc *epc)
{
	/* The cast drops const: C11 atomic loads take a non-const pointer. */
	return epcg__epc_nr_free((struct epcg_epc *)epc);
}

unsigned epcg_epc_nr_sections(const struct epcg_epc *epc)
{
	return epc->nr_sections;
}

struct epcg_misc *epcg_epc_misc(const struct epcg_epc *epc)
{
	return epc->misc;
}

struct epcg_exec *epcg_epc_exec(const struct epcg_epc *epc)
{
	return epc->ex;
}

static uint64_t page_index(const struct epcg_epc_page *page)
{
	return (uint64_t)(page - epcg__epc_page_section(page)->pages);
}

void *epcg_epc_page_addr(const struct epcg_epc_page *page)
{
	return (char *)epcg__epc_page_section(page)->base +
	       (page_index(page) << EPCG_PAGE_SHIFT);
}

uint64_t epcg_epc_page_pfn(const struct epcg_epc_page *page)
{
	return epcg__epc_page_section(page)->first_pfn + page_index(page);
}

int epcg_epc_page_node(const struct epcg_epc_page *page)
{
	return epcg__epc_page_section(page)->node;
}

struct epcg_misc_cg *epcg_epc_page_cg(const struct epcg_epc_page *page)
{
	return page->cg;
}

void *epcg_epc_page_owner(const struct epcg_epc_page *page)
{
	return page->owner;
}

struct epcg_epc_page *epcg_epc_pfn_to_page(struct epcg_epc *epc, uint64_t pfn)
{
	for (unsigned i = 0; i < epc->nr_sections; i++) {
		struct epcg_epc_section *sec = &epc->sections[i];

		if (pfn - sec->first_pfn < sec->nr_pages)
			return &sec->pages[pfn - sec->first_pfn];
	}
	return NULL;
}
