// SPDX-License-Identifier: MIT
/*
 * The EPC cgroup: the glue between the generic misc controller and the
 * SGX reclaimer, as the v17 series builds it (E2 to E13).
 *
 * What a cgroup owns
 * ------------------
 * Every misc cgroup gets a struct epcg_sgx_cgroup, made by the sgx_epc
 * resource's alloc callback and hung off the cgroup as its private
 * pointer.  It holds the LRU of the reclaimable pages charged to that
 * cgroup (pages of a task whose cgroup does not have misc enabled are
 * charged to the nearest ancestor that does, so they land there too), a
 * work item for async reclaim, and a round-robin cursor used whenever
 * reclaim is rooted at this cgroup.
 *
 * Charging a page (E3, E4)
 * ------------------------
 * An allocation charges one page to the current task's cgroup: the misc
 * controller adds 4096 bytes at that cgroup and every ancestor, and any
 * level whose limit would be exceeded refuses.  When it refuses, the
 * questions are asked in a fixed order, because the order is visible:
 *
 *   1. is anything reclaimable in the subtree we would reclaim from?  No:
 *      -ENOMEM, the limit is final (checked before signals, so a signal
 *      never turns a hopeless charge into a restart);
 *   2. is a signal pending?  -ERESTARTSYS;
 *   3. may the caller reclaim?  No (fault paths): queue the cgroup's
 *      async work and return -EBUSY so the caller retries later.  Yes
 *      (ioctl paths): scan at least one page of that subtree, yield, and
 *      charge again.
 *
 * "The subtree we would reclaim from" is where the two policies differ
 * (E13).  v17 always uses the charging cgroup's subtree: the misc charge
 * does not say which level refused, so when a parent's limit is full of a
 * sibling's pages, the charging cgroup cannot take any of them and gets
 * -ENOMEM (ioctl) or SIGBUS (fault) although the parent holds reclaimable
 * pages.  The policy "intent" reclaims from the subtree of the level that
 * refused, which is what the series meant.  v17 also has a statement
 * after its charge loop that would queue async work when a successful
 * charge leaves the cgroup inside its 32-page headroom, but the loop only
 * ever leaves through a return, so that never runs; v17 reproduces that,
 * intent does queue the work.
 *
 * The subtree walk (E6)
 * ---------------------
 * Reclaim rooted at R scans cgroups of R's subtree one batch (at most 16
 * pages) each, in pre-order, starting where R's cursor points and moving
 * the cursor past the cgroup visited, wrapping from the last descendant
 * back to R.  So successive batches rooted at R visit R, its first child,
 * that child's subtree, the next child, ..., then R again: no cgroup is
 * favoured, whatever the size of its LRU.  Each cgroup has its own cursor
 * (sync reclaim, async work and direct reclaim root the walk at the
 * charging cgroup, global reclaim at the root), starting at the cgroup
 * itself.
 *
 * A cursor holds no reference: holding one would keep a removed cgroup
 * alive just because some ancestor's cursor happens to point at it.
 * Instead, the walk pins each cgroup it visits with a tryget, which fails
 * only for a cgroup already being freed: such cgroups are skipped, but a
 * removed ("dying") cgroup that still holds pages is still pinned and
 * scanned, since its pages hold references (E11).  When a cgroup is freed,
 * every ancestor cursor pointing at it is moved on to the next cgroup in
 * pre-order that can still be pinned, or the ancestor itself.  The misc
 * controller runs the free callback while the cgroup is still linked in
 * the tree, so "the next one in pre-order" is still defined.
 *
 * The walk skips cgroups whose own LRU is empty at the moment the cursor
 * is consulted.  The kernel visits them and scans nothing; the pages
 * visited, their order and the cursor's position after each non-empty
 * visit are the same, because the skip happens when the cursor is read
 * and the cursor itself still advances one pinnable cgroup at a time.
 *
 * Skipping must not cost a step per idle cgroup, or a machine with ten
 * thousand cgroups, ten of them with pages, would spend a thousand steps
 * per batch.  So the cgroups keep a busy index, changed only when an LRU
 * goes empty <-> non-empty: every cgroup counts the non-empty LRUs of its
 * subtree (nr_busy: "anything reclaimable below?" is one load, where the
 * kernel locks every LRU of the subtree) and lists its children with a
 * non-zero count in sibling order (the misc controller's link serial,
 * which is the order pre-order walks take).  The next busy cgroup at or
 * after the cursor is then found by going down first busy children and
 * up to the next busy sibling: depth times busy siblings, independent of
 * how many idle cgroups lie in between.
 *
 * Async reclaim (E7)
 * ------------------
 * One work item per cgroup, on the execution context's shared pool.  Its
 * threshold comes from L, the tightest limit on the path from the cgroup
 * to the root, in pages: L - 32 when L > 128, else L (a small limit keeps
 * no headroom, or it would thrash).  While the cgroup's own hierarchical
 * usage is at or above the threshold and its subtree has reclaimable
 * pages, it reclaims 16-page rounds rooted at the cgroup.  It compares the
 * cgroup's own usage only, so a parent filled by a sibling does not make
 * a child's worker reclaim anything (behaviour 16).
 *
 * Freeing a cgroup
 * ----------------
 * The free callback first cancels the cgroup's work and waits for a
 * running instance (E7, behaviour 41), then moves the cursors, then
 * frees.  Waiting is safe only if the work never drops the cgroup's last
 * reference itself (the free callback would then wait for its own
 * caller).  So the work pins its cgroup for its whole run and hands that
 * final reference to the machine's put work instead of dropping it;
 * every other reference the work drops (walk pins, freed pages) cannot be
 * the last one while that pin is held.  The cursor fix-up pins its new
 * target to prove it alive and drops that pin the same deferred way, so
 * a free callback never frees another cgroup from inside itself.
 *
 * Locks (docs/locking.md): misc tree lock, then a cursor lock, then an
 * LRU lock, then a free-list lock; the busy lock (the index) is a leaf,
 * taken under an LRU lock or a cursor lock, and so is the put lock.
 * Nothing here holds a lock while putting a cgroup reference, freeing a
 * page or waiting for work.
 *
 *	field				guarded by
 *	------------------------------	---------------------------------
 *	sgx, cg, parent			immutable
 *	lru.reclaimable, lru.nr		lru.lock (nr also read as a hint)
 *	nr_busy				busy_lock (atomic: read lock-free)
 *	lru_busy, busy_children/link	busy_lock
 *	next_cg				next_lock, under the tree lock
 *	put_link, nr_puts		sgx->put_lock
 *	check_*				sgx->check_lock
 *	stats				atomic, relaxed
 */
#include <errno.h>
#include <stdlib.h>

#include "epc-internal.h"
#include "sgx-internal.h"
#include "util/alloc.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"
#include "util/macros.h"

#define RES EPCG_MISC_RES_SGX_EPC

struct epcg_sgx_cgroup *epcg__sgx_cgroup_of(const struct epcg_misc_cg *cg)
{
	return cg ? epcg_misc_cg_priv(cg, RES) : NULL;
}

bool epcg__sgx_cgroup_lru_empty(struct epcg_misc_cg *root)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(root);

	return !sgx_cg || !epcg_atomic_load_acquire(&sgx_cg->nr_busy);
}

/* ---- deferred puts ---- */

void epcg__sgx_cgroup_put_deferred(struct epcg_sgx *sgx,
				   struct epcg_misc_cg *cg)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(cg);

	epcg_mutex_lock(&sgx->put_lock);
	if (!sgx_cg->nr_puts++)
		epcg_list_add_tail(&sgx_cg->put_link, &sgx->put_list);
	epcg_mutex_unlock(&sgx->put_lock);
	epcg_exec_queue_work(sgx->ex, &sgx->put_work);
}

static void put_work_fn(struct epcg_work *work)
{
	struct epcg_sgx *sgx =
		epcg_container_of(work, struct epcg_sgx, put_work);

	for (;;) {
		struct epcg_sgx_cgroup *sgx_cg;
		struct epcg_misc_cg *cg;
		unsigned long n;

		epcg_mutex_lock(&sgx->put_lock);
		if (epcg_list_empty(&sgx->put_list)) {
			epcg_mutex_unlock(&sgx->put_lock);
			return;
		}
		sgx_cg = epcg_list_first_entry(
			&sgx->put_list, struct epcg_sgx_cgroup, put_link);
		epcg_list_del_init(&sgx_cg->put_link);
		n = sgx_cg->nr_puts;
		sgx_cg->nr_puts = 0;
		cg = sgx_cg->cg;
		epcg_mutex_unlock(&sgx->put_lock);
		/* Only the last put can free @sgx_cg; @cg was read before. */
		while (n--)
			epcg_misc_cg_put(cg);
	}
}

/* Wait until no deferred put is pending (teardown). */
static void put_drain(struct epcg_sgx *sgx)
{
	bool empty;

	do {
		epcg_exec_flush(sgx->ex);
		epcg_mutex_lock(&sgx->put_lock);
		empty = epcg_list_empty(&sgx->put_list);
		epcg_mutex_unlock(&sgx->put_lock);
	} while (!empty);
}

/* ---- the busy index ---- */

static uint64_t serial(const struct epcg_sgx_cgroup *c)
{
	return epcg_misc_cg_serial(c->cg);
}

static struct epcg_sgx_cgroup *first_busy_child(struct epcg_sgx_cgroup *c)
{
	if (epcg_list_empty(&c->busy_children))
		return NULL;
	return epcg_list_first_entry(&c->busy_children, struct epcg_sgx_cgroup,
				     busy_link);
}

/* Put @c among its parent's busy children, in sibling order. */
static void busy_link_in(struct epcg_sgx_cgroup *c)
{
	struct epcg_sgx_cgroup *s;

	epcg_list_for_each_entry(s, &c->parent->busy_children, busy_link)
		if (serial(s) > serial(c))
			break;
	/* Before @s, or at the tail if the loop ran off the end. */
	epcg_list_add_tail(&c->busy_link, &s->busy_link);
}

void epcg__sgx_cgroup_lru_busy(struct epcg_sgx_cgroup *sgx_cg, bool busy)
{
	struct epcg_sgx *sgx = sgx_cg->sgx;

	epcg_mutex_lock(&sgx->busy_lock);
	sgx_cg->lru_busy = busy;
	for (struct epcg_sgx_cgroup *c = sgx_cg; c; c = c->parent) {
		uint64_t n = epcg_atomic_load_relaxed(&c->nr_busy);

		epcg_atomic_store_release(&c->nr_busy, busy ? n + 1 : n - 1);
		if (!c->parent)
			continue;
		if (busy && n == 0)
			busy_link_in(c);
		else if (!busy && n == 1)
			epcg_list_del_init(&c->busy_link);
	}
	epcg_mutex_unlock(&sgx->busy_lock);
}

/*
 * The first cgroup of @c's subtree in pre-order whose own LRU has pages,
 * or NULL (also for a NULL @c).  Each level's first busy child holds the
 * first such cgroup below it, so this is one path down.  busy_lock held.
 */
static struct epcg_sgx_cgroup *first_busy_in(struct epcg_sgx_cgroup *c)
{
	while (c && !c->lru_busy)
		c = first_busy_child(c);
	return c;
}

/* @c's first busy sibling after it in sibling order, or NULL. */
static struct epcg_sgx_cgroup *busy_sibling_after(struct epcg_sgx_cgroup *c)
{
	struct epcg_sgx_cgroup *s;

	epcg_list_for_each_entry(s, &c->parent->busy_children, busy_link)
		if (serial(s) > serial(c))
			return s;
	return NULL;
}

/*
 * The first cgroup after @x in the pre-order of @top's subtree whose own
 * LRU has pages, without wrapping; NULL if none.  busy_lock held.
 */
static struct epcg_sgx_cgroup *busy_after(struct epcg_sgx_cgroup *x,
					  struct epcg_sgx_cgroup *top)
{
	struct epcg_sgx_cgroup *r = first_busy_in(first_busy_child(x));

	for (struct epcg_sgx_cgroup *a = x; !r && a != top; a = a->parent)
		r = first_busy_in(busy_sibling_after(a));
	return r;
}

/* The same, at or after @x, wrapping from the last back to @top. */
static struct epcg_sgx_cgroup *busy_from(struct epcg_sgx_cgroup *x,
					 struct epcg_sgx_cgroup *top)
{
	struct epcg_sgx_cgroup *r = x->lru_busy ? x : busy_after(x, top);

	return r ? r : first_busy_in(top);
}

/* ---- the subtree walk (E6) ---- */

/* @pos's successor in the pre-order of @root's subtree, wrapping to @root. */
static struct epcg_misc_cg *step(struct epcg_misc_cg *pos,
				 struct epcg_misc_cg *root)
{
	struct epcg_misc_cg *next = epcg_misc_cg_next_pre(pos, root);

	return next ? next : root;
}

/*
 * The first cgroup at or after @root's cursor (pre-order, wrapping) that
 * has pages on its own LRU and can be pinned; NULL if none.  The busy
 * index finds it without stepping over idle cgroups one by one.
 */
static struct epcg_sgx_cgroup *busy_get(struct epcg_sgx_cgroup *root)
{
	struct epcg_sgx *sgx = root->sgx;
	struct epcg_sgx_cgroup *x, *first;

	epcg_mutex_lock(&sgx->busy_lock);
	x = first = busy_from(epcg__sgx_cgroup_of(root->next_cg), root);
	/* Pages but no pin: its free callback runs (a forged state). */
	while (x && !epcg_misc_cg_tryget(x->cg)) {
		x = busy_after(x, root);
		if (!x)
			x = first_busy_in(root);
		if (x == first)
			x = NULL;
	}
	epcg_mutex_unlock(&sgx->busy_lock);
	return x;
}

/*
 * The next cgroup of @root's subtree to scan, pinned, or NULL if none with
 * reclaimable pages could be pinned; the cursor moves past it, to the
 * next cgroup in pre-order that can be pinned (idle or not, as in v17).
 * That target is pinned to prove it is not being freed; the pin is
 * returned in *@unpin for the caller to drop after the locks.
 */
static struct epcg_sgx_cgroup *next_get(struct epcg_sgx_cgroup *root,
					struct epcg_misc_cg **unpin)
{
	struct epcg_misc_cg *top = root->cg, *pos;
	struct epcg_sgx_cgroup *found;

	epcg_misc_tree_lock(root->sgx->misc);
	epcg_mutex_lock(&root->next_lock);
	found = busy_get(root);
	if (found) {
		/* @top is pinned by our caller: it can always be the next. */
		for (pos = step(found->cg, top); pos != top && pos != found->cg;
		     pos = step(pos, top)) {
			if (epcg__sgx_cgroup_of(pos) &&
			    epcg_misc_cg_tryget(pos)) {
				*unpin = pos;
				break;
			}
		}
		root->next_cg = pos;
	}
	epcg_mutex_unlock(&root->next_lock);
	epcg_misc_tree_unlock(root->sgx->misc);
	return found;
}

unsigned epcg__sgx_cgroup_reclaim_pages(struct epcg_sgx *sgx,
					struct epcg_misc_cg *root,
					unsigned nr_to_scan)
{
	struct epcg_sgx_cgroup *root_cg = epcg__sgx_cgroup_of(root);
	unsigned cnt = 0;

	if (!root_cg)
		return 0;
	while (cnt < nr_to_scan && !epcg__sgx_cgroup_lru_empty(root)) {
		struct epcg_misc_cg *unpin = NULL;
		struct epcg_sgx_cgroup *sgx_cg = next_get(root_cg, &unpin);

		epcg_misc_cg_put(unpin);
		if (!sgx_cg)
			break;
		cnt += epcg__sgx_reclaim_lru(sgx, &sgx_cg->lru);
		epcg_misc_cg_put(sgx_cg->cg);
	}
	return cnt;
}

/* ---- async and direct reclaim (E7, E10) ---- */

bool epcg__sgx_cgroup_should_reclaim(struct epcg_sgx_cgroup *sgx_cg)
{
	uint64_t limit = EPCG_MISC_MAX, threshold, usage;

	if (!epcg_atomic_load_acquire(&sgx_cg->nr_busy))
		return false;
	for (struct epcg_misc_cg *c = sgx_cg->cg; c; c = epcg_misc_cg_parent(c))
		limit = EPCG_MIN(limit, epcg_misc_max(c, RES));
	limit /= EPCG_PAGE_SIZE;
	threshold = limit;
	if (limit > EPCG_SGX_CG_LOW_LIMIT)
		threshold -= EPCG_SGX_CG_MIN_FREE_PAGE;
	usage = epcg_misc_usage(sgx_cg->cg, RES) / EPCG_PAGE_SIZE;
	return usage >= threshold;
}

static void reclaim_work_fn(struct epcg_work *work)
{
	struct epcg_sgx_cgroup *sgx_cg =
		epcg_container_of(work, struct epcg_sgx_cgroup, reclaim_work);
	struct epcg_sgx *sgx = sgx_cg->sgx;

	/* Fails only while the free callback waits for us to return. */
	if (!epcg_misc_cg_tryget(sgx_cg->cg))
		return;
	while (epcg__sgx_cgroup_should_reclaim(sgx_cg)) {
		epcg__sgx_cgroup_reclaim_pages(sgx, sgx_cg->cg,
					       EPCG_SGX_NR_TO_SCAN);
		epcg_exec_cond_resched(sgx->ex);
	}
	/* Possibly the last reference: never dropped from our own work. */
	epcg__sgx_cgroup_put_deferred(sgx, sgx_cg->cg);
}

void epcg__sgx_reclaim_direct(struct epcg_sgx *sgx)
{
	struct epcg_misc_cg *cg =
		epcg_misc_task_get_cg(sgx->misc, epcg_task_current());
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(cg);

	if (sgx_cg && epcg__sgx_cgroup_should_reclaim(sgx_cg))
		epcg__sgx_cgroup_reclaim_pages(sgx, cg, EPCG_SGX_NR_TO_SCAN);
	epcg_misc_cg_put(cg);
	if (epcg_epc_nr_free(sgx->epc) < EPCG_SGX_NR_LOW_PAGES &&
	    !epcg__sgx_cgroup_lru_empty(sgx->root_cg->cg))
		epcg__sgx_cgroup_reclaim_pages(sgx, sgx->root_cg->cg,
					       EPCG_SGX_NR_TO_SCAN);
}

/* ---- the charge loop (E3, E4, E13) ---- */

static void queue_reclaim(struct epcg_sgx *sgx, struct epcg_misc_cg *cg)
{
	epcg_exec_queue_work(sgx->ex, &epcg__sgx_cgroup_of(cg)->reclaim_work);
}

/*
 * The first attempt is inline in the allocation (sgx-internal.h), and it
 * succeeds nearly always; everything that follows a refused one, or a
 * success under the intent policy, is here, out of the fast path.
 */
int epcg__sgx_cgroup_charge_slow(struct epcg_sgx *sgx, struct epcg_task *task,
				 enum epcg_epc_reclaim reclaim,
				 struct epcg_misc_cg *cg, int ret,
				 struct epcg_misc_cg *failed,
				 struct epcg_misc_cg **ret_cg)
{
	for (;;) {
		struct epcg_misc_cg *target = cg;

		if (ret != -EBUSY)
			break;
		/* E13: v17 never learns which level refused the charge. */
		if (sgx->policy == EPCG_SGX_POLICY_INTENT && failed)
			target = failed;
		if (epcg__sgx_cgroup_lru_empty(target)) {
			ret = -ENOMEM;
			break;
		}
		if (epcg_task_signal_pending(task)) {
			ret = -EPCG_ERESTARTSYS;
			break;
		}
		if (reclaim == EPCG_EPC_NO_RECLAIM) {
			queue_reclaim(sgx, target);
			break;
		}
		epcg__sgx_cgroup_reclaim_pages(sgx, target, 1);
		epcg_exec_cond_resched(sgx->ex);
		failed = NULL;
		ret = epcg_misc_try_charge(RES, cg, EPCG_PAGE_SIZE, &failed);
	}
	if (ret) {
		if (ret == -ENOMEM) {
			struct epcg_sgx_cgroup *sgx_cg =
				epcg__sgx_cgroup_of(cg);

			if (sgx_cg)
				epcg_atomic_fetch_add_relaxed(
					&sgx_cg->stats.enomem, 1);
			epcg_atomic_fetch_add_relaxed(&sgx->stats.enomem, 1);
		}
		epcg_misc_cg_put(cg);
		return ret;
	}
	/* The headroom step v17 meant but cannot reach (E13b). */
	if (sgx->policy == EPCG_SGX_POLICY_INTENT &&
	    epcg__sgx_cgroup_should_reclaim(epcg__sgx_cgroup_of(cg)))
		queue_reclaim(sgx, cg);
	*ret_cg = cg;
	return 0;
}

/* ---- per-cgroup state: the misc resource callbacks ---- */

static int cg_alloc(struct epcg_misc_cg *cg, void *data)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg_calloc(1, sizeof(*sgx_cg));

	if (!sgx_cg)
		return -ENOMEM;
	sgx_cg->sgx = data;
	sgx_cg->cg = cg;
	sgx_cg->parent = epcg__sgx_cgroup_of(epcg_misc_cg_parent(cg));
	epcg_mutex_init(&sgx_cg->lru.lock);
	epcg_list_init(&sgx_cg->lru.reclaimable);
	epcg_atomic_init(&sgx_cg->lru.nr, 0);
	epcg_atomic_init(&sgx_cg->nr_busy, 0);
	epcg_list_init(&sgx_cg->busy_children);
	epcg_list_init(&sgx_cg->busy_link);
	epcg_work_init(&sgx_cg->reclaim_work, reclaim_work_fn);
	epcg_mutex_init(&sgx_cg->next_lock);
	sgx_cg->next_cg = cg;
	epcg_list_init(&sgx_cg->put_link);
	epcg__sgx_counters_init(&sgx_cg->stats);
	epcg_misc_cg_set_priv(cg, RES, sgx_cg);
	return 0;
}

/*
 * Where a cursor of @top pointing at @gone goes: the next cgroup after it
 * in pre-order that can be pinned, or @top.  Called with the tree lock.
 */
static struct epcg_misc_cg *cursor_skip(struct epcg_sgx *sgx,
					struct epcg_misc_cg *gone,
					struct epcg_misc_cg *top)
{
	struct epcg_misc_cg *pos;

	for (pos = step(gone, top); pos != top; pos = step(pos, top)) {
		if (epcg__sgx_cgroup_of(pos) && epcg_misc_cg_tryget(pos)) {
			epcg__sgx_cgroup_put_deferred(sgx, pos);
			break;
		}
	}
	return pos;
}

static void cg_free(struct epcg_misc_cg *cg, void *data)
{
	struct epcg_sgx_cgroup *sgx_cg = epcg__sgx_cgroup_of(cg);
	struct epcg_sgx *sgx = data;

	if (!sgx_cg)
		return;
	/* First, so nothing runs on this state any more (behaviour 41). */
	epcg_exec_cancel_work_sync(sgx->ex, &sgx_cg->reclaim_work);
	EPCG_WARN_ONCE(epcg_atomic_load_relaxed(&sgx_cg->nr_busy),
		       "sgx: cgroup freed with pages on an LRU of its subtree");

	epcg_misc_tree_lock(sgx->misc);
	for (struct epcg_sgx_cgroup *a = sgx_cg->parent; a; a = a->parent) {
		epcg_mutex_lock(&a->next_lock);
		if (a->next_cg == cg)
			a->next_cg = cursor_skip(sgx, cg, a->cg);
		epcg_mutex_unlock(&a->next_lock);
	}
	/* Walks under the tree lock see NULL from now on, never freed state. */
	epcg_misc_cg_set_priv(cg, RES, NULL);
	epcg_misc_tree_unlock(sgx->misc);

	epcg_mutex_finish(&sgx_cg->next_lock);
	epcg_mutex_finish(&sgx_cg->lru.lock);
	free(sgx_cg);
}

static const struct epcg_misc_res_ops sgx_cgroup_ops = {
	.alloc = cg_alloc,
	.free = cg_free,
};

int epcg__sgx_cgroup_init(struct epcg_sgx *sgx)
{
	struct epcg_misc_cg *root = epcg_misc_root(sgx->misc);
	int ret;

	epcg_mutex_init(&sgx->busy_lock);
	epcg_mutex_init(&sgx->put_lock);
	epcg_list_init(&sgx->put_list);
	epcg_work_init(&sgx->put_work, put_work_fn);
	ret = epcg_misc_set_res_ops(sgx->misc, RES, &sgx_cgroup_ops, sgx);
	if (!ret && !epcg__sgx_cgroup_of(root))
		ret = -EINVAL; /* capacity 0: the EPC must come first */
	if (ret) {
		epcg_misc_set_res_ops(sgx->misc, RES, NULL, NULL);
		epcg_mutex_finish(&sgx->put_lock);
		epcg_mutex_finish(&sgx->busy_lock);
		return ret;
	}
	sgx->root_cg = epcg__sgx_cgroup_of(root);
	return 0;
}

int epcg__sgx_cgroup_finish(struct epcg_sgx *sgx)
{
	int ret;

	put_drain(sgx);
	ret = epcg_misc_set_res_ops(sgx->misc, RES, NULL, NULL);
	if (ret)
		return ret;
	sgx->root_cg = NULL;
	epcg_mutex_finish(&sgx->put_lock);
	epcg_mutex_finish(&sgx->busy_lock);
	return 0;
}
