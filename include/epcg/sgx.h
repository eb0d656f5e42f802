/* SPDX-License-Identifier: MIT */
/*
 * The software SGX machine: an EPC, the emulated ENCLS leaves with their
 * paging key, the EPC cgroup (per-cgroup LRUs and reclaim) and the global
 * reclaimer thread (ksgxd), bound to one misc controller and one execution
 * context.  Enclaves (encl.h) are created on a machine.
 */
#ifndef EPCG_SGX_H
#define EPCG_SGX_H

#include <stddef.h>
#include <stdint.h>

#include <epcg/epc.h>

struct epcg_exec;
struct epcg_misc;
struct epcg_misc_cg;
struct epcg_sgx;

/*
 * Reclaim policy (SPEC E13, X3).  V17 reproduces the posted v17 code,
 * including reclaim confined to the charging cgroup's subtree and the
 * unreachable post-charge queueing of async reclaim.  INTENT implements
 * what the series says it wants: reclaim the subtree of the level that
 * refused the charge, and queue async reclaim after a successful charge
 * that leaves less than the headroom.
 */
enum epcg_sgx_policy {
	EPCG_SGX_POLICY_V17,
	EPCG_SGX_POLICY_INTENT,
	EPCG_SGX_POLICY_NR
};

/*
 * Modelled costs of the machine's operations (SPEC X2), for virtual time.
 *
 * Each one is charged with epcg_exec_account_ns() to the task that does
 * the work, at the point where the kernel would spend it: an enclave
 * thread pays for its faults, its entries and the reloads they need, the
 * builder of an enclave for ECREATE, EADD and EINIT, whoever reclaims
 * (ksgxd, a reclaim worker, or a task reclaiming directly) for EBLOCK,
 * ETRACK, EWB and the forced exits.  In a live context accounting does
 * nothing (real work takes real time), so costs only shape virtual-time
 * runs; a machine charges nothing until epcg_sgx_set_costs() says
 * otherwise.
 */
enum epcg_sgx_cost {
	EPCG_SGX_COST_FAULT,	/* an enclave fault on a non-resident page:
				 * exit, the kernel's handler and the resume,
				 * without the reload (charged once per access
				 * that faults) */
	EPCG_SGX_COST_EWB,	/* evicting one page (a successful EWB) */
	EPCG_SGX_COST_ELDU,	/* reloading one page */
	EPCG_SGX_COST_EBLOCK,
	EPCG_SGX_COST_ETRACK,
	EPCG_SGX_COST_IPI,	/* forcing an enclave's threads out */
	EPCG_SGX_COST_EPA,	/* creating a Version Array page */
	EPCG_SGX_COST_EADD,	/* EADD of one page with its EEXTENDs */
	EPCG_SGX_COST_EAUG,	/* EAUG of one page and its EACCEPT */
	EPCG_SGX_COST_EREMOVE,
	EPCG_SGX_COST_ECREATE,
	EPCG_SGX_COST_EINIT,
	EPCG_SGX_COST_EENTER,	/* a thread entering (EENTER, or resuming
				 * after a forced exit), with its exit */
	EPCG_SGX_COST_NR
};

/**
 * struct epcg_sgx_costs - a cost model.
 * @ns: virtual nanoseconds per operation, indexed by enum epcg_sgx_cost;
 *	0 charges nothing.
 */
struct epcg_sgx_costs {
	uint64_t ns[EPCG_SGX_COST_NR];
};

/**
 * struct epcg_sgx_config - how to build a machine.
 * @secs: EPC sections.
 * @nr_secs: how many, 1 to EPCG_EPC_MAX_SECTIONS.
 * @policy: the reclaim policy.
 */
struct epcg_sgx_config {
	const struct epcg_epc_section_spec *secs;
	unsigned nr_secs;
	enum epcg_sgx_policy policy;
};

/*
 * Paging counters the kernel does not expose (SPEC X1), per cgroup (the
 * cgroup the page was charged to, or the faulting task's cgroup for
 * faults) and per machine.  Monotonic.
 */
struct epcg_sgx_stats {
	uint64_t ewb;		/* pages written back (evicted) */
	uint64_t eldu;		/* pages loaded back */
	uint64_t faults;	/* enclave faults on non-resident pages */
	uint64_t reclaim_scans;	/* pages isolated by reclaim batches */
	uint64_t enomem;	/* allocations failed with -ENOMEM */
	uint64_t sigbus;	/* faults that ended in SIGBUS */
	uint64_t paging_ns;	/* time spent in EWB/ELDU (clock of the exec) */
};

/** epcg_sgx_policy_name() - "v17", "intent"; NULL if invalid. */
const char *epcg_sgx_policy_name(enum epcg_sgx_policy policy);

/** epcg_sgx_policy_lookup() - the policy named @name, or -EINVAL. */
int epcg_sgx_policy_lookup(const char *name);

/**
 * epcg_sgx_create() - build a machine: EPC, paging key, EPC cgroup, ksgxd.
 * @m: the misc controller; its sgx_epc capacity becomes the EPC size.
 * @ex: the execution context (workers, ksgxd, clock).
 * @cfg: the configuration.
 * @ret: the machine.
 *
 * Create the machine before any non-root cgroup of @m: every cgroup needs
 * the EPC cgroup's state, which is made when the cgroup is created.
 *
 * Context: any thread; one machine per misc controller.
 * Return: 0; -EINVAL for a bad configuration or NULL argument; -EBUSY if
 * @m already has non-root cgroups; -ENOMEM; -EIO if no paging key could
 * be had.
 */
int epcg_sgx_create(struct epcg_misc *m, struct epcg_exec *ex,
		    const struct epcg_sgx_config *cfg, struct epcg_sgx **ret);

/**
 * epcg_sgx_destroy() - stop ksgxd and the reclaim work, free the machine.
 * @sgx: the machine, may be NULL.
 *
 * Every enclave and guest page must have been released and every
 * non-root cgroup of the misc controller freed; otherwise the machine is
 * reported once and leaked rather than freed under its users.
 *
 * Context: no other thread uses @sgx.
 */
void epcg_sgx_destroy(struct epcg_sgx *sgx);

/**
 * epcg_sgx_vepc_alloc() - an EPC page for a guest's virtual EPC, on behalf
 * of the current task (a guest fault).
 * @sgx: the machine.
 * @owner: recorded in the page.
 * @ret: the page.
 *
 * Charged to the current task's cgroup like any EPC page (E1), but never
 * reclaimable by the host: it is on no LRU, and it only counts against
 * the cgroup's limit until freed.  The allocation never reclaims (a guest
 * fault may not wait): at a limit with reclaimable pages in the cgroup's
 * subtree it queues the cgroup's async reclaim and fails with -EBUSY, and
 * the fault is retried; with nothing reclaimable (or a signal pending, as
 * in the kernel's guest fault path) the guest gets SIGBUS.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for NULL arguments; -EBUSY (retry the fault later);
 * -EFAULT (deliver SIGBUS; counted in the cgroup's and the machine's
 * sigbus counters).
 */
int epcg_sgx_vepc_alloc(struct epcg_sgx *sgx, void *owner,
			struct epcg_epc_page **ret);

/**
 * epcg_sgx_vepc_free() - free a page of epcg_sgx_vepc_alloc() and
 * uncharge its cgroup.
 * @sgx: the machine.
 * @page: the page, may be NULL.
 *
 * Context: any thread.
 */
void epcg_sgx_vepc_free(struct epcg_sgx *sgx, struct epcg_epc_page *page);

/**
 * epcg_sgx_set_costs() - install a cost model (virtual time).
 * @sgx: the machine.
 * @costs: copied; NULL charges nothing again.
 *
 * Context: before the first enclave or guest page exists on @sgx, from
 * the thread that created it: the table is read without locks.
 */
void epcg_sgx_set_costs(struct epcg_sgx *sgx,
			const struct epcg_sgx_costs *costs);

/** epcg_sgx_epc() - the machine's EPC. */
struct epcg_epc *epcg_sgx_epc(const struct epcg_sgx *sgx);

/** epcg_sgx_policy() - the machine's reclaim policy. */
enum epcg_sgx_policy epcg_sgx_policy(const struct epcg_sgx *sgx);

/**
 * epcg_sgx_cg_stats() - the paging counters of one cgroup (its own, not
 * its descendants').
 * Return: 0; -EINVAL if @cg has no EPC cgroup state (capacity was 0).
 */
int epcg_sgx_cg_stats(const struct epcg_misc_cg *cg,
		      struct epcg_sgx_stats *ret);

/** epcg_sgx_stats() - the machine's totals. */
void epcg_sgx_stats(const struct epcg_sgx *sgx, struct epcg_sgx_stats *ret);

/**
 * epcg_sgx_check() - verify the accounting invariants at a quiescent point.
 * @sgx: the machine; no allocation, free or reclaim may run meanwhile.
 * @why: filled with a description of the first violation found.
 * @size: its size.
 *
 * Checks that every frame is free, on exactly one LRU, or allocated and
 * unreclaimable (SECS, VA, guest pages); that each cgroup's sgx_epc usage
 * equals 4096 times the pages charged to it and its descendants; that
 * the free count matches the free lists; and that the reclaimer's own
 * bookkeeping (LRU lengths, which subtrees have reclaimable pages)
 * matches the pages.
 *
 * Return: 0 if all hold; -EIO with @why filled otherwise.
 */
int epcg_sgx_check(struct epcg_sgx *sgx, char *why, size_t size);

#endif
