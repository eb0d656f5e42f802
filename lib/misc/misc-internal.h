/* SPDX-License-Identifier: MIT */
/*
 * The misc controller's private structures, shared by misc.c (controller,
 * tree, charging) and misc-file.c (interface files), and visible to tests.
 *
 * Synchronization table (what guards each field):
 *
 *   field                     written                       read
 *   ------------------------  ----------------------------  -----------
 *   counters (usage, max...)  atomic, no lock               atomic
 *   epcg_misc.capacity[]      atomic (set_capacity)         atomic
 *   parent, misc, depth, name immutable after create        any time
 *   refcount                  atomic                        atomic
 *   dying                     under tree_lock               atomic
 *   children, sibling         tree_lock                     tree_lock
 *   name_next, name_hash      tree_lock                     tree_lock
 *   names, names_mask,        tree_lock                     tree_lock
 *     nr_names
 *   nr_cgroups, last_serial   tree_lock                     tree_lock
 *   serial                    tree_lock, before linking     any time
 *   res_ops[], res_data[]     ops_lock + tree_lock, only    see struct
 *                             while no non-root cgroup
 *   alloced (root's)          ops_lock                      ops_lock
 *   alloced (others')         immutable after create        any time
 *   priv[]                    atomic (provider's rules)     atomic
 *
 * Lock order: ops_lock before tree_lock.  The task spinlock
 * (epcg_task.cg_lock) is a leaf: nothing else is taken under it.
 */
#ifndef EPCG_MISC_INTERNAL_H
#define EPCG_MISC_INTERNAL_H

#include <epcg/misc.h>

#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"
#include "util/macros.h"

/*
 * One resource's counters in one cgroup.  The charge path writes usage and
 * reads max, so they share a cache line; each resource gets a line of its
 * own so that chargers of different resources do not slow each other.
 */
struct epcg_misc_counters {
	epcg_atomic(uint64_t) usage; /* own + descendants; atomic */
	epcg_atomic(uint64_t) max; /* the limit; atomic (set_max) */
	epcg_atomic(uint64_t) watermark; /* peak usage, only rises; atomic */
	epcg_atomic(uint64_t) events; /* failures here or below; atomic */
	epcg_atomic(uint64_t) events_local; /* failures here; atomic */
} epcg_cacheline_aligned;

struct epcg_misc_cg {
	/* Hot: written by every charge and uncharge of the resource. */
	struct epcg_misc_counters res[EPCG_MISC_RES_NR];

	/*
	 * Hot: every EPC page holds a reference, so get/put run as often
	 * as charges; kept off the line the charge walk reads below.
	 * Atomic.  0 means the cgroup is being freed.
	 */
	epcg_atomic(long) refcount epcg_cacheline_aligned;

	/* Read-mostly: the charge walk follows parent at every level. */
	struct epcg_misc_cg *parent epcg_cacheline_aligned; /* immutable */
	struct epcg_misc *misc; /* immutable */
	unsigned depth; /* immutable; 0 for the root */
	/* Link order; set under tree_lock before linking, then immutable. */
	uint64_t serial;
	/* Bit per resource whose @alloc ran: immutable, the root's ops_lock */
	unsigned alloced;
	epcg_atomic(bool) dying; /* removed; written under tree_lock */
	struct epcg_list children; /* live and dying; tree_lock */
	struct epcg_list sibling; /* in parent->children; tree_lock */
	/* Next live cgroup in the same bucket of misc->names; tree_lock. */
	struct epcg_misc_cg *name_next;
	uint64_t name_hash; /* of (parent, name); immutable after create */
	epcg_atomic(void *) priv[EPCG_MISC_RES_NR]; /* provider's; atomic */
	char name[]; /* immutable; "" for the root */
};

struct epcg_misc {
	/* Read by every charge at every level; atomic. */
	epcg_atomic(uint64_t) capacity[EPCG_MISC_RES_NR];

	/*
	 * The events-changed callback and its argument; atomic.  Meant to
	 * be set once at setup: a change racing with a failing charge may
	 * pair the new function with the old argument.
	 */
	epcg_atomic(epcg_misc_notify_fn *) notify;
	epcg_atomic(void *) notify_data;

	struct epcg_misc_cg *root; /* immutable; freed by destroy only */

	/*
	 * The tree lock: guards every cgroup's children/sibling links and
	 * dying flag, nr_cgroups and the resource ops.
	 */
	struct epcg_mutex tree_lock;
	/* Non-root cgroups allocated (live, dying or being created). */
	unsigned long nr_cgroups;
	/* The serial of the cgroup linked last; tree_lock. */
	uint64_t last_serial;
	/*
	 * Live (not removed) non-root cgroups by parent and name, so that
	 * creating a child checks its name in constant time instead of
	 * comparing it with every sibling (10,000 children of one parent
	 * made that quadratic).  @names_mask + 1 buckets (a power of two,
	 * or no table yet), chained through name_next; @nr_names entries.
	 * tree_lock.
	 */
	struct epcg_misc_cg **names;
	size_t names_mask;
	size_t nr_names;
	/*
	 * Written under ops_lock and tree_lock, only while nr_cgroups is 0.
	 * Readers: the root's callbacks (under ops_lock), a creation (which
	 * raises nr_cgroups under tree_lock before it reads them) and a
	 * release (which keeps nr_cgroups above 0 until its @free calls are
	 * done), so no reader can see a change half-way.
	 */
	const struct epcg_misc_res_ops *res_ops[EPCG_MISC_RES_NR];
	void *res_data[EPCG_MISC_RES_NR];

	/*
	 * Serializes running the root's @alloc/@free (set_capacity,
	 * set_res_ops), so it runs at most once per registration.  Those
	 * callbacks run under it: they must not call set_capacity or
	 * set_res_ops.
	 */
	struct epcg_mutex ops_lock;
};

static inline bool epcg__misc_res_valid(enum epcg_misc_res res)
{
	return (unsigned)res < EPCG_MISC_RES_NR;
}

#endif
