/* SPDX-License-Identifier: MIT */
/*
 * The Enclave Page Cache as a page allocator.
 *
 * The EPC is made of up to eight sections, each on one NUMA node, each an
 * array of 4 KiB frames with a descriptor per frame.  Free frames sit on
 * per-node free lists, each behind its own lock; an allocation tries the
 * calling task's node first and then the other nodes round-robin (H1).
 *
 * Every allocation is charged before a frame is taken: one page (4096
 * bytes) of the misc resource sgx_epc to the allocating task's cgroup and
 * all its ancestors (E1).  The page remembers that cgroup and holds a
 * reference to it, so freeing the page uncharges exactly the cgroup that
 * was charged, even if the task has moved or the cgroup was removed since.
 * The capacity of sgx_epc is the sum of the section sizes, set when the
 * EPC is created.
 */
#ifndef EPCG_EPC_H
#define EPCG_EPC_H

#include <stdint.h>

#define EPCG_PAGE_SHIFT 12
#define EPCG_PAGE_SIZE (1u << EPCG_PAGE_SHIFT)
#define EPCG_EPC_MAX_SECTIONS 8
#define EPCG_EPC_MAX_NODES 8

struct epcg_exec;
struct epcg_misc;
struct epcg_misc_cg;
struct epcg_epc;
struct epcg_epc_page;

/**
 * struct epcg_epc_section_spec - one EPC section to create.
 * @size: bytes, a non-zero multiple of EPCG_PAGE_SIZE.
 * @node: the NUMA node it belongs to, 0 to EPCG_EPC_MAX_NODES - 1.
 */
struct epcg_epc_section_spec {
	uint64_t size;
	int node;
};

/* Whether an allocation may reclaim EPC to succeed (E4, E8). */
enum epcg_epc_reclaim {
	EPCG_EPC_NO_RECLAIM,	/* page faults, EAUG: report -EBUSY instead */
	EPCG_EPC_RECLAIM,	/* ioctl-like paths: may reclaim and retry */
	EPCG_EPC_RECLAIM_NR
};

/**
 * epcg_epc_create() - build the EPC and set sgx_epc's capacity.
 * @m: the misc controller to charge.
 * @ex: the execution context (clock, wake-ups).
 * @secs: the sections.
 * @nr_secs: how many, 1 to EPCG_EPC_MAX_SECTIONS.
 * @ret: the EPC.
 *
 * Frame memory is reserved lazily, so a large EPC costs address space, not
 * RAM, until its pages are written.
 *
 * Context: any thread; one EPC per misc controller.
 * Return: 0; -EINVAL for a bad section list or NULL argument; -ENOMEM (also
 * when 4096 EPCs exist already in the process); the misc controller's
 * error if setting the capacity failed.
 */
int epcg_epc_create(struct epcg_misc *m, struct epcg_exec *ex,
		    const struct epcg_epc_section_spec *secs, unsigned nr_secs,
		    struct epcg_epc **ret);

/**
 * epcg_epc_destroy() - free the EPC and set sgx_epc's capacity to 0.
 * @epc: the EPC, may be NULL.
 *
 * Every page must have been freed; frames still allocated are reported
 * once (a leak is a bug in the caller).
 *
 * Context: no other thread uses @epc.
 */
void epcg_epc_destroy(struct epcg_epc *epc);

/** epcg_epc_nr_pages() - the number of frames in all sections. */
uint64_t epcg_epc_nr_pages(const struct epcg_epc *epc);

/** epcg_epc_nr_free() - free frames now (a relaxed snapshot). */
uint64_t epcg_epc_nr_free(const struct epcg_epc *epc);

/** epcg_epc_nr_sections() - the number of sections. */
unsigned epcg_epc_nr_sections(const struct epcg_epc *epc);

/** epcg_epc_misc() - the misc controller @epc charges. */
struct epcg_misc *epcg_epc_misc(const struct epcg_epc *epc);

/** epcg_epc_exec() - the execution context of @epc. */
struct epcg_exec *epcg_epc_exec(const struct epcg_epc *epc);

/**
 * epcg_epc_alloc_page() - charge one page to the current task's cgroup and
 * take a free frame.
 * @epc: the EPC.
 * @owner: recorded in the page for its user (enclave page, VA page, ...).
 * @reclaim: whether the caller may reclaim (see enum epcg_epc_reclaim).
 * @ret: the page; its frame content is undefined.
 *
 * The charge comes first (E1); if no frame is free afterwards the charge
 * is undone.
 *
 * Context: any thread; takes one free-list lock at a time.
 * Return: 0; -EINVAL for NULL arguments; -EBUSY if a limit refused the
 * charge; -ENOMEM if no frame is free.
 */
int epcg_epc_alloc_page(struct epcg_epc *epc, void *owner,
			enum epcg_epc_reclaim reclaim,
			struct epcg_epc_page **ret);

/**
 * epcg_epc_free_page() - return @page's frame and uncharge its cgroup.
 * @page: the page, may be NULL.
 *
 * Context: any thread.
 */
void epcg_epc_free_page(struct epcg_epc_page *page);

/** epcg_epc_page_addr() - the frame's 4096 bytes. */
void *epcg_epc_page_addr(const struct epcg_epc_page *page);

/** epcg_epc_page_pfn() - the frame's index over all sections, from 0. */
uint64_t epcg_epc_page_pfn(const struct epcg_epc_page *page);

/** epcg_epc_page_node() - the NUMA node of the frame's section. */
int epcg_epc_page_node(const struct epcg_epc_page *page);

/** epcg_epc_page_cg() - the cgroup charged for @page (NULL if free). */
struct epcg_misc_cg *epcg_epc_page_cg(const struct epcg_epc_page *page);

/** epcg_epc_page_owner() - the @owner given at allocation. */
void *epcg_epc_page_owner(const struct epcg_epc_page *page);

/** epcg_epc_pfn_to_page() - the descriptor of frame @pfn, NULL if out of range. */
struct epcg_epc_page *epcg_epc_pfn_to_page(struct epcg_epc *epc, uint64_t pfn);

#endif
