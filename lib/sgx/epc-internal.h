/* SPDX-License-Identifier: MIT */
/*
 * The EPC's private structures, for the other modules of lib/sgx (the
 * reclaimer links pages on LRUs through @list and keeps its state in
 * @flags) and for tests.
 *
 * Who guards what:
 *
 *	data				guard
 *	------------------------------	--------------------------------------
 *	epcg_epc_page.list		the lock of the list it is on: its
 *					node's free-list lock while FREE, else
 *					the LRU lock of its cgroup (reclaimer)
 *	epcg_epc_page.owner, .cg	the page's holder: written at alloc and
 *					free, which the caller serialises with
 *					every other use of the page
 *	epcg_epc_page.flags		atomic; FREE changes under the free-list
 *					lock, other bits by their owner
 *	epcg_epc_page.epc_id, .section	immutable after create
 *	epcg__epc_by_id[]		atomic: set by create (before any page
 *					is handed out), cleared by destroy
 *	epcg_epc_node.free		epcg_epc_node.lock
 *	epcg_epc_node.nr_free		written under epcg_epc_node.lock (a
 *					relaxed load and store, no atomic
 *					add); read without it as a relaxed
 *					snapshot
 *	epcg_epc.next_node		atomic, relaxed (a round-robin hint)
 *	everything else in epcg_epc	immutable after create
 *
 * Lock order: at most one node lock at a time; nothing else is taken
 * under it.  A node lock is a spinlock: its critical sections are a list
 * push or pop, and every allocation and free takes it once.
 */
#ifndef EPCG_EPC_INTERNAL_H
#define EPCG_EPC_INTERNAL_H

#include <stdint.h>

#include <epcg/epc.h>
#include <epcg/misc.h>

#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"
#include "util/macros.h"

/*
 * Page flags.  Only FREE is the allocator's; the reclaimer adds its own
 * bits (reclaimable, isolated by a batch, ...) above it.
 */
#define EPCG_EPC_PAGE_FREE 0x1u
/*
 * The reclaimer's: the page is on its cgroup's LRU, or isolated from it
 * by a reclaim batch (then its @list is empty).  Changes under the LRU
 * lock of the page's cgroup.
 */
#define EPCG_EPC_PAGE_RECLAIMER_TRACKED 0x2u

/**
 * struct epcg_epc_page - the descriptor of one 4 KiB EPC frame.
 * @list: free-list link while free; the reclaimer's LRU link once the
 *	page is reclaimable.  Guarded by the lock of the list it is on.
 * @owner: what the frame holds (enclave page, VA page, ...), as given to
 *	epcg_epc_alloc_page(); NULL while free.
 * @cg: the cgroup charged for the page, holding one reference; NULL while
 *	free.
 * @flags: EPCG_EPC_PAGE_* bits; atomic.
 * @section: index of the frame's section in its EPC (immutable).
 * @epc_id: the number of the frame's EPC, an index into epcg__epc_by_id
 *	(immutable): 2 bytes where a pointer would take 8.
 *
 * One exists per frame, so its size matters: with the emulated EPCM entry
 * (lib/sgx/epcm.h, 24 bytes) a frame's metadata must stay within 64
 * bytes, a budget the kernel's own descriptor (40 bytes with the v17
 * series' cgroup pointer) would fit too.
 */
struct epcg_epc_page {
	struct epcg_list list;
	void *owner;
	struct epcg_misc_cg *cg;
	epcg_atomic(uint32_t) flags;
	uint16_t section;
	uint16_t epc_id;
};

_Static_assert(sizeof(struct epcg_epc_page) <= 40,
	       "an EPC page descriptor takes at most 40 bytes");

/**
 * struct epcg_epc_section - one section: frames and their descriptors
 * (all immutable after create).
 * @base: the frame memory, @nr_pages * EPCG_PAGE_SIZE bytes, mapped
 *	private, anonymous and without reservation.
 * @first_pfn: pfn of the first frame; sections number their frames one
 *	after the other in creation order.
 * @nr_pages: frames in the section.
 * @node: NUMA node of the section.
 * @pages: the descriptors, @nr_pages of them.
 */
struct epcg_epc_section {
	void *base;
	uint64_t first_pfn;
	uint64_t nr_pages;
	int node;
	struct epcg_epc_page *pages;
};

/**
 * struct epcg_epc_node - the free frames of one NUMA node.
 * @lock: guards @free and the writes of @nr_free.
 * @free: the free frames as a stack: the top frame, whose @list.next
 *	links the next one down (NULL at the bottom; @list.prev is unused
 *	while free).  Allocation pops, free pushes.
 * @nr_free: frames on @free; atomic so that epcg_epc_nr_free() may read
 *	it without the lock.
 * @nr_pages: frames of all the node's sections (immutable).
 * @bottom: the bottom frame while sections are added (create only).
 *
 * Each node has its own cache line(s), so allocators on different nodes
 * do not share one.
 */
struct epcg_epc_node {
	struct epcg_spinlock lock;
	struct epcg_epc_page *free;
	epcg_atomic(uint64_t) nr_free;
	uint64_t nr_pages;
	struct epcg_epc_page *bottom;
} epcg_cacheline_aligned;

/* The frame below @page on its node's free stack, or NULL. */
static inline struct epcg_epc_page *
epcg__epc_free_next(const struct epcg_epc_page *page)
{
	return page->list.next ?
		       epcg_container_of(page->list.next,
					 struct epcg_epc_page, list) :
		       NULL;
}

/**
 * struct epcg_epc - the EPC.
 * @misc: the controller charged (immutable).
 * @ex: the execution context (immutable).
 * @nr_sections: sections in @sections (immutable).
 * @nr_pages: frames in all sections (immutable).
 * @nr_epc_nodes: nodes that have at least one section (immutable).
 * @epc_nodes: those nodes, ascending (immutable).
 * @node_index: for each node, its index in @epc_nodes, or 0 if it has no
 *	EPC (immutable): where an allocation for that node starts.
 * @section_node: the node of each section, a copy of its @node
 *	(immutable): where a freed frame goes back to.
 * @sections: the sections.
 * @id: the EPC's number in epcg__epc_by_id (immutable).
 * @nodes: free lists, indexed by node; a node without EPC has none.
 * @next_node: counts fallbacks; the next one starts at this number modulo
 *	the count of the other nodes with EPC.  Atomic, relaxed.
 *
 * There is no global count of free frames: epcg_epc_nr_free() adds up the
 * nodes' counts (at most EPCG_EPC_MAX_NODES loads), which keeps a second
 * atomic, on a line every allocator in the machine would share, off the
 * allocation path.
 *
 * The fields up to @section_node are all that an allocation and a free
 * read besides the node's own line, and they share the first cache line
 * (node numbers are bytes, and a section's node is copied out of the
 * section array for that): an allocation and a free touch two lines of
 * the EPC, not three.
 */
struct epcg_epc {
	struct epcg_misc *misc;
	unsigned nr_epc_nodes;
	unsigned nr_sections;
	uint8_t epc_nodes[EPCG_EPC_MAX_NODES];
	uint8_t node_index[EPCG_EPC_MAX_NODES];
	uint8_t section_node[EPCG_EPC_MAX_SECTIONS];
	struct epcg_exec *ex;
	uint64_t nr_pages;
	unsigned id;
	struct epcg_epc_section sections[EPCG_EPC_MAX_SECTIONS];
	struct epcg_epc_node nodes[EPCG_EPC_MAX_NODES];
	epcg_atomic(unsigned) next_node epcg_cacheline_aligned;
};

_Static_assert(offsetof(struct epcg_epc, section_node) +
			       EPCG_EPC_MAX_SECTIONS <=
		       EPCG_CACHELINE,
	       "the EPC's allocation fields share its first cache line");

/*
 * Every live EPC by number, so that a page descriptor names its EPC in two
 * bytes (epc_id).  At most EPCG_EPC_MAX_IDS EPCs exist at once.
 */
#define EPCG_EPC_MAX_IDS 4096
extern epcg_atomic(struct epcg_epc *) epcg__epc_by_id[EPCG_EPC_MAX_IDS];

/*
 * epcg__epc_nr_free() - free frames in @epc: the sum of the nodes'
 * counts, each a relaxed snapshot (so the sum is one too).  Inline for
 * the allocation path's ksgxd check.  Context: any thread, no lock.
 */
static inline uint64_t epcg__epc_nr_free(struct epcg_epc *epc)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < epc->nr_epc_nodes; i++)
		n += epcg_atomic_load_relaxed(
			&epc->nodes[epc->epc_nodes[i]].nr_free);
	return n;
}

/* The EPC @page belongs to. */
static inline struct epcg_epc *
epcg__epc_page_epc(const struct epcg_epc_page *page)
{
	return epcg_atomic_load_relaxed(&epcg__epc_by_id[page->epc_id]);
}

/* The section @page belongs to. */
static inline const struct epcg_epc_section *
epcg__epc_page_section(const struct epcg_epc_page *page)
{
	return &epcg__epc_page_epc(page)->sections[page->section];
}

/* Pop the top frame of @node's free stack, clearing FREE; or NULL. */
static inline struct epcg_epc_page *epcg__epc_pop(struct epcg_epc_node *node)
{
	struct epcg_epc_page *page;

	epcg_spinlock_lock(&node->lock);
	page = node->free;
	if (page) {
		node->free = epcg__epc_free_next(page);
		epcg_list_init(&page->list);
		/* Only lock holders write it: no atomic add needed. */
		epcg_atomic_store_relaxed(
			&node->nr_free,
			epcg_atomic_load_relaxed(&node->nr_free) - 1);
		epcg_atomic_store_relaxed(&page->flags, 0);
	}
	epcg_spinlock_unlock(&node->lock);
	return page;
}

/* The rest of epcg__epc_take_frame(): the nodes other than epc_nodes[@first]. */
struct epcg_epc_page *epcg__epc_take_frame_other(struct epcg_epc *epc,
						 unsigned first);

/*
 * epcg__epc_take_frame() - a free frame, without charging anything.
 * @epc: the EPC.
 * @node: the preferred node; -1 or a node without EPC means the first
 *	node that has EPC.
 *
 * Tries @node, then every other node with EPC, starting one further on
 * each call (round-robin).  The frame comes back with @cg and @owner NULL
 * and FREE cleared.  Inline: the first node's pop is the allocation fast
 * path.  Context: any thread; takes one node lock at a time.
 * Return: the frame, or NULL if every node is empty.
 */
static inline struct epcg_epc_page *epcg__epc_take_frame(struct epcg_epc *epc,
							 int node)
{
	/* Where @node is in epc_nodes; not there: the first node with EPC. */
	unsigned first =
		(unsigned)node < EPCG_EPC_MAX_NODES ? epc->node_index[node] : 0;
	struct epcg_epc_page *page;

	page = epcg__epc_pop(&epc->nodes[epc->epc_nodes[first]]);
	if (page || epc->nr_epc_nodes == 1)
		return page;
	return epcg__epc_take_frame_other(epc, first);
}

/*
 * epcg__epc_return_frame() - push @page on its node's free stack and set
 * FREE.  The caller has already uncharged it and cleared @cg.
 * Context: any thread.
 */
static inline void epcg__epc_return_frame(struct epcg_epc_page *page)
{
	struct epcg_epc *epc = epcg__epc_page_epc(page);
	struct epcg_epc_node *node =
		&epc->nodes[epc->section_node[page->section]];

	epcg_spinlock_lock(&node->lock);
	epcg_atomic_store_relaxed(&page->flags, EPCG_EPC_PAGE_FREE);
	page->list.next = node->free ? &node->free->list : NULL;
	node->free = page;
	epcg_atomic_store_relaxed(&node->nr_free,
				  epcg_atomic_load_relaxed(&node->nr_free) + 1);
	epcg_spinlock_unlock(&node->lock);
}

#endif
