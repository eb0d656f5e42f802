// SPDX-License-Identifier: MIT
/*
 * The machine: what epcg_sgx_create() puts together, in the order the
 * kernel initialises SGX (EPC sections, then the leaves' state, then the
 * EPC cgroup, which needs the capacity, then ksgxd), its counters, and the
 * checker of the accounting invariants that tests and debug runs call at
 * quiescent points.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/sgx.h>
#include <stdarg.h>

#include "encl-internal.h"
#include "encls-internal.h"
#include "epc-internal.h"
#include "sgx-internal.h"
#include "util/alloc.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"
#include "util/macros.h"

static const char *const policy_names[EPCG_SGX_POLICY_NR] = {
	[EPCG_SGX_POLICY_V17] = "v17",
	[EPCG_SGX_POLICY_INTENT] = "intent",
};

const char *epcg_sgx_policy_name(enum epcg_sgx_policy policy)
{
	return (unsigned)policy < EPCG_SGX_POLICY_NR ? policy_names[policy] :
						       NULL;
}

int epcg_sgx_policy_lookup(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < EPCG_SGX_POLICY_NR; i++)
		if (!strcmp(name, policy_names[i]))
			return i;
	return -EINVAL;
}

int epcg_sgx_create(struct epcg_misc *m, struct epcg_exec *ex,
		    const struct epcg_sgx_config *cfg, struct epcg_sgx **ret)
{
	struct epcg_sgx *sgx;
	int err;

	if (!m || !ex || !cfg || !ret ||
	    (unsigned)cfg->policy >= EPCG_SGX_POLICY_NR)
		return -EINVAL;
	sgx = epcg_calloc(1, sizeof(*sgx));
	if (!sgx)
		return -ENOMEM;
	sgx->misc = m;
	sgx->ex = ex;
	sgx->policy = cfg->policy;
	/*
	 * Enclave pages are the only reclaimable pages a machine holds, so
	 * their owner operations are installed here, before any thread can
	 * reach an LRU (tests replace them with fakes before use).
	 */
	sgx->rops = &epcg__encl_reclaim_ops;
	epcg_mutex_init(&sgx->check_lock);
	epcg__sgx_counters_init(&sgx->stats);

	err = epcg_epc_create(m, ex, cfg->secs, cfg->nr_secs, &sgx->epc);
	if (err)
		goto err_free;
	err = epcg__encls_create_for_epc(sgx->epc, &sgx->encls);
	if (err)
		goto err_epc;
	err = epcg__sgx_cgroup_init(sgx);
	if (err)
		goto err_encls;
	err = epcg__sgx_ksgxd_start(sgx);
	if (err)
		goto err_cgroup;
	*ret = sgx;
	return 0;

err_cgroup:
	epcg__sgx_cgroup_finish(sgx);
err_encls:
	epcg__encls_destroy(sgx->encls);
err_epc:
	epcg_epc_destroy(sgx->epc);
err_free:
	epcg_mutex_finish(&sgx->check_lock);
	free(sgx);
	return err;
}

void epcg_sgx_destroy(struct epcg_sgx *sgx)
{
	if (!sgx)
		return;
	epcg__sgx_ksgxd_stop(sgx);
	/* Cgroups left would call back into freed state: leak instead. */
	if (EPCG_WARN_ONCE(
		    epcg__sgx_cgroup_finish(sgx),
		    "sgx: machine destroyed while cgroups exist; leaking it"))
		return;
	epcg__encls_destroy(sgx->encls);
	epcg_epc_destroy(sgx->epc);
	epcg_mutex_finish(&sgx->check_lock);
	free(sgx);
}

void epcg_sgx_set_costs(struct epcg_sgx *sgx,
			const struct epcg_sgx_costs *costs)
{
	if (costs)
		sgx->costs = *costs;
	else
		memset(&sgx->costs, 0, sizeof(sgx->costs));
}

struct epcg_epc *epcg_sgx_epc(const struct epcg_sgx *sgx)
{
	return sgx->epc;
}

enum epcg_sgx_policy epcg_sgx_policy(const struct epcg_sgx *sgx)
{
	return sgx->policy;
}

/* ---- counters ---- */

static void stats_read(const struct epcg_sgx_counters *c,
		       struct epcg_sgx_stats *ret)
{
	/* Atomic loads take non-const pointers in C11. */
	struct epcg_sgx_counters *w = (struct epcg_sgx_counters *)c;

	ret->ewb = epcg_atomic_load_relaxed(&w->ewb);
	ret->eldu = epcg_atomic_load_relaxed(&w->eldu);
	ret->faults = epcg_atomic_load_relaxed(&w->faults);
	ret->reclaim_scans = epcg_atomic_load_relaxed(&w->reclaim_scans);
	ret->enomem = epcg_atomic_load_relaxed(&w->enomem);
	ret->sigbus = epcg_atomic_load_relaxed(&w->sigbus);
	ret->paging_ns = epcg_atomic_load_relaxed(&w->paging_ns);
}

int epcg_sgx_cg_stats(const struct epcg_misc_cg *cg, struct epcg_sgx_stats *ret)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(cg);

	if (!sgx_cg || !ret)
		return -EINVAL;
	stats_read(&sgx_cg->stats, ret);
	return 0;
}

void epcg_sgx_stats(const struct epcg_sgx *sgx, struct epcg_sgx_stats *ret)
{
	stats_read(&sgx->stats, ret);
}

/* ---- the invariant checker ---- */

/* Where each frame was found by the list walks. */
#define SEEN_FREE 0x1
#define SEEN_LRU 0x2

struct check {
	struct epcg_sgx *sgx;
	uint8_t *seen; /* by pfn */
	char *why;
	size_t size;
};

static int __attribute__((format(printf, 2, 3)))
violation(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->size) {
		va_start(ap, fmt);
		vsnprintf(c->why, c->size, fmt, ap);
		va_end(ap);
	}
	return -EIO;
}

static const char *cg_path(const struct epcg_misc_cg *cg, char *buf,
			   size_t size)
{
	epcg_misc_cg_path(cg, buf, size);
	return buf;
}

/* Every free list: its pages are free, uncharged, untracked, counted. */
static int check_free_lists(struct check *c)
{
	struct epcg_epc *epc = c->sgx->epc;
	uint64_t total = 0;
	int err = 0;

	for (unsigned i = 0; i < epc->nr_epc_nodes && !err; i++) {
		int nid = epc->epc_nodes[i];
		struct epcg_epc_node *node = &epc->nodes[nid];
		struct epcg_epc_page *page;
		uint64_t n = 0;

		epcg_spinlock_lock(&node->lock);
		for (page = node->free; page; page = epcg__epc_free_next(page)) {
			uint64_t pfn = epcg_epc_page_pfn(page);
			uint32_t flags = epcg_atomic_load_relaxed(&page->flags);

			if (flags != EPCG_EPC_PAGE_FREE || page->cg ||
			    (c->seen[pfn] & SEEN_FREE)) {
				err = violation(
					c,
					"page %llu on node %d's free list has flags %#x, cgroup %p, or is listed twice",
					(unsigned long long)pfn, nid, flags,
					(void *)page->cg);
				break;
			}
			c->seen[pfn] |= SEEN_FREE;
			n++;
		}
		if (!err && n != epcg_atomic_load_relaxed(&node->nr_free))
			err = violation(
				c,
				"node %d lists %llu free pages but counts %llu",
				nid, (unsigned long long)n,
				(unsigned long long)epcg_atomic_load_relaxed(
					&node->nr_free));
		epcg_spinlock_unlock(&node->lock);
		total += n;
	}
	if (!err && total != epcg_epc_nr_free(epc))
		err = violation(
			c, "free lists hold %llu pages, the EPC counts %llu",
			(unsigned long long)total,
			(unsigned long long)epcg_epc_nr_free(epc));
	return err;
}

/* One cgroup's LRU: its pages are tracked, allocated, charged here. */
static int check_lru(struct check *c, struct epcg_sgx_cgroup *sgx_cg)
{
	struct epcg_epc_page *page;
	char path[128];
	uint64_t n = 0;
	int err = 0;

	epcg_mutex_lock(&sgx_cg->lru.lock);
	epcg_list_for_each_entry(page, &sgx_cg->lru.reclaimable, list) {
		uint64_t pfn = epcg_epc_page_pfn(page);
		uint32_t flags = epcg_atomic_load_relaxed(&page->flags);

		if (flags != EPCG_EPC_PAGE_RECLAIMER_TRACKED ||
		    page->cg != sgx_cg->cg || c->seen[pfn]) {
			err = violation(
				c,
				"page %llu on the LRU of %s has flags %#x, is charged elsewhere, or is listed twice",
				(unsigned long long)pfn,
				cg_path(sgx_cg->cg, path, sizeof(path)), flags);
			break;
		}
		c->seen[pfn] |= SEEN_LRU;
		n++;
	}
	if (!err && n != epcg_atomic_load_relaxed(&sgx_cg->lru.nr))
		err = violation(
			c, "the LRU of %s holds %llu pages but counts %llu",
			cg_path(sgx_cg->cg, path, sizeof(path)),
			(unsigned long long)n,
			(unsigned long long)epcg_atomic_load_relaxed(
				&sgx_cg->lru.nr));
	epcg_mutex_unlock(&sgx_cg->lru.lock);
	if (!err && n)
		for (struct epcg_sgx_cgroup *a = sgx_cg; a; a = a->parent)
			a->check_busy++;
	return err;
}

/* Every frame: free and listed, or allocated, charged, tracked iff listed. */
static int check_frames(struct check *c)
{
	struct epcg_epc *epc = c->sgx->epc;

	for (uint64_t pfn = 0; pfn < epc->nr_pages; pfn++) {
		struct epcg_epc_page *page = epcg_epc_pfn_to_page(epc, pfn);
		uint32_t flags = epcg_atomic_load_relaxed(&page->flags);
		struct epcg_sgx_cgroup *sgx_cg;

		if (flags & EPCG_EPC_PAGE_FREE) {
			if (!(c->seen[pfn] & SEEN_FREE))
				return violation(
					c, "free page %llu is on no free list",
					(unsigned long long)pfn);
			continue;
		}
		sgx_cg = epcg__sgx_cgroup_of(page->cg);
		if (!sgx_cg)
			return violation(
				c, "allocated page %llu has no charged cgroup",
				(unsigned long long)pfn);
		if (!(flags & EPCG_EPC_PAGE_RECLAIMER_TRACKED) !=
		    !(c->seen[pfn] & SEEN_LRU))
			return violation(
				c,
				"page %llu is %s but %s an LRU (isolated at a quiescent point?)",
				(unsigned long long)pfn,
				flags & EPCG_EPC_PAGE_RECLAIMER_TRACKED ?
					"tracked" :
					"untracked",
				c->seen[pfn] & SEEN_LRU ? "on" : "on no");
		sgx_cg->check_pages++;
	}
	return 0;
}

/*
 * The busy index of @sgx_cg (cgroup.c): its own flag matches its LRU, it
 * is listed by its parent exactly when its subtree has a busy LRU, and
 * its list is in sibling order.  Called with the busy lock held.
 */
static int check_busy_index(struct check *c, struct epcg_sgx_cgroup *sgx_cg)
{
	struct epcg_sgx_cgroup *s, *prev = NULL;
	bool linked = !epcg_list_empty(&sgx_cg->busy_link);
	char path[128];

	if (sgx_cg->lru_busy != !!epcg_atomic_load_relaxed(&sgx_cg->lru.nr) ||
	    (sgx_cg->parent && linked != !!sgx_cg->check_busy))
		return violation(c, "cgroup %s is wrongly in the busy index",
				 cg_path(sgx_cg->cg, path, sizeof(path)));
	epcg_list_for_each_entry(s, &sgx_cg->busy_children, busy_link) {
		if (s->parent != sgx_cg ||
		    (prev && epcg_misc_cg_serial(prev->cg) >=
				     epcg_misc_cg_serial(s->cg)))
			return violation(
				c, "the busy children of %s are out of order",
				cg_path(sgx_cg->cg, path, sizeof(path)));
		prev = s;
	}
	return 0;
}

/* The sums over subtrees against the misc usage and the busy index. */
static int check_sums(struct check *c, struct epcg_misc_cg *cg)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(cg);
	uint64_t usage = epcg_misc_usage(cg, EPCG_MISC_RES_SGX_EPC);
	uint64_t busy = epcg_atomic_load_relaxed(&sgx_cg->nr_busy);
	char path[128];

	if (usage != sgx_cg->check_sub * EPCG_PAGE_SIZE)
		return violation(
			c,
			"cgroup %s: sgx_epc usage %llu, but %llu pages are charged in its subtree",
			cg_path(cg, path, sizeof(path)),
			(unsigned long long)usage,
			(unsigned long long)sgx_cg->check_sub);
	if (busy != sgx_cg->check_busy)
		return violation(
			c,
			"cgroup %s counts %llu busy LRUs in its subtree, but %llu are",
			cg_path(cg, path, sizeof(path)),
			(unsigned long long)busy,
			(unsigned long long)sgx_cg->check_busy);
	return check_busy_index(c, sgx_cg);
}

/* The walks of the tree; called with the tree lock held. */
static int check_tree(struct check *c)
{
	struct epcg_misc_cg *root = epcg_misc_root(c->sgx->misc), *cg;
	char path[128];
	int err;

	for (cg = root; cg; cg = epcg_misc_cg_next_pre(cg, root)) {
		struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(cg);

		if (!sgx_cg)
			return violation(c, "cgroup %s has no EPC state",
					 cg_path(cg, path, sizeof(path)));
		sgx_cg->check_pages = 0;
		sgx_cg->check_sub = 0;
		sgx_cg->check_busy = 0;
	}
	for (cg = root; cg; cg = epcg_misc_cg_next_pre(cg, root)) {
		err = check_lru(c, epcg__sgx_cgroup_of(cg));
		if (err)
			return err;
	}
	err = check_free_lists(c);
	if (!err)
		err = check_frames(c);
	if (err)
		return err;
	for (cg = root; cg; cg = epcg_misc_cg_next_pre(cg, root)) {
		struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(cg);

		for (struct epcg_sgx_cgroup *a = sgx_cg; a; a = a->parent)
			a->check_sub += sgx_cg->check_pages;
	}
	/* After the LRU locks: the busy lock nests inside them. */
	epcg_mutex_lock(&c->sgx->busy_lock);
	for (cg = root; cg && !err; cg = epcg_misc_cg_next_pre(cg, root))
		err = check_sums(c, cg);
	epcg_mutex_unlock(&c->sgx->busy_lock);
	return err;
}

int epcg_sgx_check(struct epcg_sgx *sgx, char *why, size_t size)
{
	struct check c = { .sgx = sgx, .why = why, .size = size };
	int err;

	if (size)
		why[0] = '\0';
	c.seen = epcg_calloc(epcg_epc_nr_pages(sgx->epc), 1);
	if (!c.seen)
		return violation(&c, "out of memory");
	epcg_mutex_lock(&sgx->check_lock);
	epcg_misc_tree_lock(sgx->misc);
	err = check_tree(&c);
	epcg_misc_tree_unlock(sgx->misc);
	epcg_mutex_unlock(&sgx->check_lock);
	free(c.seen);
	return err;
}
