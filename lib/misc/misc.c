// SPDX-License-Identifier: MIT
/*
 * The misc controller: capacities, the cgroup tree, hierarchical charging.
 *
 * Design
 * ------
 * Every cgroup keeps, per resource, a usage that counts what was charged to
 * it *and to all its descendants*.  A charge therefore walks from the
 * charged cgroup up to the root and adds the amount at every level; any
 * level whose limit (max) or the host capacity would be exceeded refuses
 * it.  That is how a parent's limit bounds its whole subtree: a child
 * cannot escape it by charging below it.
 *
 * The walk takes no lock.  At each level it first adds the amount with one
 * atomic add-and-return, and only then compares the returned new usage
 * with that level's max and with the capacity.  If the comparison fails,
 * the amount is subtracted again from every level charged so far (the
 * failing one included) and the caller gets -EBUSY.  The alternatives
 * were a lock around the whole walk, which makes every charger in the tree
 * wait for every other one (and charges are as frequent as EPC page
 * allocations), or a compare-and-swap loop per level, which retries under
 * contention; add-then-check costs one atomic instruction per level and is
 * what the kernel does, so its corner cases are the kernel's.
 *
 * Add-then-check has two visible consequences, both shared with the
 * kernel.  First, between another charger's add and its undo, a reader
 * (misc.current, or this walk) may see a usage above max: the excess is a
 * charge that is about to be refused.  Second, two chargers racing for the
 * last bit of room may both be refused where either alone would have fit.
 * What it never allows is a *successful* charge that leaves committed
 * usage above max (M9): the charge that would push the committed total
 * over the limit sees, in the value its own add returned, every charge
 * committed before it plus its own amount, and so refuses itself.  That
 * argument only needs all changes of one level's usage to be ordered,
 * which any atomic read-modify-write gives, so the counters use relaxed
 * atomics.  The check is done in exact arithmetic: an add that wraps past
 * 2^64 exceeds every limit.
 *
 * A level that passes raises its peak (watermark) with a CAS loop that
 * only ever moves it up.  Peaks below a failing level stay raised, as in
 * the kernel: they record usage that was briefly there.
 *
 * Lifetime
 * --------
 * A cgroup is reference counted.  Its creator holds the "online"
 * reference, each child holds one on its parent, and charge owners (EPC
 * pages, tasks) hold their own.  Removing a cgroup (rmdir) marks it dying
 * and drops the online reference; while other references remain it keeps
 * its place in the tree, stays counted in its ancestors' usage and is
 * visited by tree walks, so reclaim can still reach its pages.  The last
 * put runs the providers' @free callbacks while the cgroup is still
 * linked (so a provider can move a cursor off it with a walk), then
 * unlinks it and drops the reference it held on its parent.
 *
 * The root is created and freed with the controller; its reference count
 * is kept only so that every cgroup can be got and put the same way.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/exec.h>
#include <inttypes.h>

#include "misc-internal.h"
#include "util/alloc.h"

#define NAME_MAX_LEN 255
/* Buckets of the name index of a new controller; it doubles as it fills. */
#define NAMES_MIN 64

static const char *const res_names[EPCG_MISC_RES_NR] = {
	[EPCG_MISC_RES_SEV] = "sev",
	[EPCG_MISC_RES_SEV_ES] = "sev_es",
	[EPCG_MISC_RES_SGX_EPC] = "sgx_epc",
};

const char *epcg_misc_res_name(enum epcg_misc_res res)
{
	return epcg__misc_res_valid(res) ? res_names[res] : NULL;
}

int epcg_misc_res_lookup(const char *name, size_t len)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < EPCG_MISC_RES_NR; i++)
		if (strlen(res_names[i]) == len &&
		    !memcmp(res_names[i], name, len))
			return i;
	return -EINVAL;
}

/* ---- cgroup objects ---------------------------------------------------- */

/* A zeroed cgroup with default counters (M2), not yet in any tree. */
static struct epcg_misc_cg *cg_alloc(struct epcg_misc *m,
				     struct epcg_misc_cg *parent,
				     const char *name, size_t len)
{
	size_t size = offsetof(struct epcg_misc_cg, name) + len + 1;
	struct epcg_misc_cg *cg;

	/* Round up: aligned_alloc wants a multiple of the alignment. */
	size = (size + EPCG_CACHELINE - 1) & ~(size_t)(EPCG_CACHELINE - 1);
	cg = epcg_aligned_alloc(EPCG_CACHELINE, size);
	if (!cg)
		return NULL;
	memset(cg, 0, size);
	for (int i = 0; i < EPCG_MISC_RES_NR; i++) {
		epcg_atomic_init(&cg->res[i].usage, 0);
		epcg_atomic_init(&cg->res[i].max, EPCG_MISC_MAX);
		epcg_atomic_init(&cg->res[i].watermark, 0);
		epcg_atomic_init(&cg->res[i].events, 0);
		epcg_atomic_init(&cg->res[i].events_local, 0);
		epcg_atomic_init(&cg->priv[i], NULL);
	}
	epcg_atomic_init(&cg->refcount, 1);
	epcg_atomic_init(&cg->dying, false);
	cg->parent = parent;
	cg->misc = m;
	cg->depth = parent ? parent->depth + 1 : 0;
	epcg_list_init(&cg->children);
	epcg_list_init(&cg->sibling);
	memcpy(cg->name, name, len);
	cg->name[len] = '\0';
	return cg;
}

/* Run @free for every resource in @mask, with the ops registered now. */
static void run_free(struct epcg_misc *m, struct epcg_misc_cg *cg,
		     unsigned mask)
{
	for (int i = 0; i < EPCG_MISC_RES_NR; i++) {
		const struct epcg_misc_res_ops *ops = m->res_ops[i];

		if ((mask & (1u << i)) && ops && ops->free)
			ops->free(cg, m->res_data[i]);
	}
}

/*
 * Run @alloc for every resource with capacity > 0 (and an @alloc); on a
 * failure undo the ones that ran.  Return: 0 or the callback's error.
 */
static int run_alloc(struct epcg_misc *m, struct epcg_misc_cg *cg)
{
	int err;

	for (int i = 0; i < EPCG_MISC_RES_NR; i++) {
		const struct epcg_misc_res_ops *ops = m->res_ops[i];

		if (!ops || !ops->alloc || !epcg_misc_capacity(m, i))
			continue;
		err = ops->alloc(cg, m->res_data[i]);
		if (err)
			goto err_free_done;
		cg->alloced |= 1u << i;
	}
	return 0;

err_free_done:
	run_free(m, cg, cg->alloced);
	cg->alloced = 0;
	return err < 0 ? err : -EINVAL;
}

/* ---- controller -------------------------------------------------------- */

int epcg_misc_create(struct epcg_misc **ret)
{
	struct epcg_misc *m;

	if (!ret)
		return -EINVAL;
	m = epcg_calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->root = cg_alloc(m, NULL, "", 0);
	m->names = epcg_calloc(NAMES_MIN, sizeof(*m->names));
	if (!m->root || !m->names) {
		free(m->names);
		free(m->root);
		free(m);
		return -ENOMEM;
	}
	m->names_mask = NAMES_MIN - 1;
	for (int i = 0; i < EPCG_MISC_RES_NR; i++)
		epcg_atomic_init(&m->capacity[i], 0);
	epcg_atomic_init(&m->notify, NULL);
	epcg_atomic_init(&m->notify_data, NULL);
	epcg_mutex_init(&m->tree_lock);
	epcg_mutex_init(&m->ops_lock);
	*ret = m;
	return 0;
}

void epcg_misc_destroy(struct epcg_misc *m)
{
	unsigned long left;
	long refs;

	if (!m)
		return;
	epcg_mutex_lock(&m->tree_lock);
	left = m->nr_cgroups;
	epcg_mutex_unlock(&m->tree_lock);
	refs = epcg_atomic_load_acquire(&m->root->refcount);
	/* Somebody still uses it: leaking beats a use after free. */
	if (EPCG_WARN_ONCE(left || refs != 1,
			   "misc: controller destroyed in use (%lu cgroups, "
			   "%ld root references): leaked",
			   left, refs))
		return;
	run_free(m, m->root, m->root->alloced);
	epcg_mutex_finish(&m->ops_lock);
	epcg_mutex_finish(&m->tree_lock);
	free(m->names);
	free(m->root);
	free(m);
}

struct epcg_misc_cg *epcg_misc_root(struct epcg_misc *m)
{
	return m->root;
}

/*
 * Run the root's @alloc for @res if the ops, a capacity of @capacity and
 * no earlier success say so.  Called with ops_lock held.
 */
static int root_alloc(struct epcg_misc *m, enum epcg_misc_res res,
		      uint64_t capacity)
{
	const struct epcg_misc_res_ops *ops = m->res_ops[res];
	struct epcg_misc_cg *root = m->root;
	int err;

	assert(epcg_mutex_held(&m->ops_lock));
	if (!capacity || !ops || !ops->alloc || (root->alloced & (1u << res)))
		return 0;
	err = ops->alloc(root, m->res_data[res]);
	if (err)
		return err < 0 ? err : -EINVAL;
	root->alloced |= 1u << res;
	return 0;
}

int epcg_misc_set_res_ops(struct epcg_misc *m, enum epcg_misc_res res,
			  const struct epcg_misc_res_ops *ops, void *data)
{
	const struct epcg_misc_res_ops *old;
	void *old_data;
	int err;

	if (!m || !epcg__misc_res_valid(res))
		return -EINVAL;
	epcg_mutex_lock(&m->ops_lock);
	epcg_mutex_lock(&m->tree_lock);
	if (m->nr_cgroups) {
		epcg_mutex_unlock(&m->tree_lock);
		err = -EBUSY;
		goto out_unlock;
	}
	old = m->res_ops[res];
	old_data = m->res_data[res];
	m->res_ops[res] = ops;
	m->res_data[res] = data;
	epcg_mutex_unlock(&m->tree_lock);

	/* The root's state belongs to the provider that made it. */
	if (m->root->alloced & (1u << res)) {
		if (old && old->free)
			old->free(m->root, old_data);
		m->root->alloced &= ~(1u << res);
	}
	err = root_alloc(m, res, epcg_misc_capacity(m, res));
out_unlock:
	epcg_mutex_unlock(&m->ops_lock);
	return err;
}

int epcg_misc_set_capacity(struct epcg_misc *m, enum epcg_misc_res res,
			   uint64_t capacity)
{
	int err;

	if (!m || !epcg__misc_res_valid(res))
		return -EINVAL;
	epcg_mutex_lock(&m->ops_lock);
	/* The provider's root state must exist before the first charge. */
	err = root_alloc(m, res, capacity);
	if (!err)
		epcg_atomic_store_relaxed(&m->capacity[res], capacity);
	epcg_mutex_unlock(&m->ops_lock);
	return err;
}

uint64_t epcg_misc_capacity(const struct epcg_misc *m, enum epcg_misc_res res)
{
	if (!m || !epcg__misc_res_valid(res))
		return 0;
	/* The cast drops const: C11 atomic loads take a non-const pointer. */
	return epcg_atomic_load_relaxed(
		&((struct epcg_misc *)m)->capacity[res]);
}

void epcg_misc_set_notify(struct epcg_misc *m, epcg_misc_notify_fn *fn,
			  void *data)
{
	epcg_atomic_store_relaxed(&m->notify_data, data);
	epcg_atomic_store_release(&m->notify, fn);
}

static void notify(struct epcg_misc_cg *cg, enum epcg_misc_file file)
{
	struct epcg_misc *m = cg->misc;
	epcg_misc_notify_fn *fn = epcg_atomic_load_acquire(&m->notify);

	if (fn)
		fn(cg, file, epcg_atomic_load_relaxed(&m->notify_data));
}

/* ---- the tree ------------------------------------------------------------ */

/*
 * The cgroup whose sibling link is @pos.  Used instead of the list.h
 * for_each_entry macros, which form a cgroup pointer from the list head
 * at the end of a walk: a misaligned pointer the sanitizer rejects.
 */
static struct epcg_misc_cg *sibling_cg(struct epcg_list *pos)
{
	return epcg_list_entry(pos, struct epcg_misc_cg, sibling);
}

static bool name_valid(const char *name, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return !memchr(name, '/', len) && !memchr(name, '\n', len);
}

/* ---- the name index (live cgroups by parent and name) ------------------ */

/* FNV-1a over the name, started from the parent's address, then mixed. */
static uint64_t name_hash(const struct epcg_misc_cg *parent, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uintptr_t)parent;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h ^ (h >> 31);
}

static struct epcg_misc_cg **name_bucket(struct epcg_misc *m, uint64_t hash)
{
	return &m->names[hash & m->names_mask];
}

/* The live child of @parent named @name, or NULL.  tree_lock held. */
static struct epcg_misc_cg *name_find(struct epcg_misc_cg *parent,
				      const char *name, uint64_t hash)
{
	struct epcg_misc_cg *c = *name_bucket(parent->misc, hash);

	for (; c; c = c->name_next)
		if (c->name_hash == hash && c->parent == parent &&
		    !strcmp(c->name, name))
			return c;
	return NULL;
}

/*
 * Twice the buckets once there are as many entries as buckets.  If that
 * memory cannot be had, the chains just grow longer: nothing fails.
 */
static void names_grow(struct epcg_misc *m)
{
	size_t n = (m->names_mask + 1) * 2;
	struct epcg_misc_cg **old = m->names, **t;

	t = epcg_calloc(n, sizeof(*t));
	if (!t)
		return;
	m->names = t;
	for (size_t i = 0; i <= m->names_mask; i++) {
		struct epcg_misc_cg *c = old[i], *next;

		for (; c; c = next) {
			next = c->name_next;
			c->name_next = t[c->name_hash & (n - 1)];
			t[c->name_hash & (n - 1)] = c;
		}
	}
	m->names_mask = n - 1;
	free(old);
}

static void name_add(struct epcg_misc_cg *cg)
{
	struct epcg_misc *m = cg->misc;
	struct epcg_misc_cg **b;

	if (m->nr_names > m->names_mask)
		names_grow(m);
	b = name_bucket(m, cg->name_hash);
	cg->name_next = *b;
	*b = cg;
	m->nr_names++;
}

static void name_del(struct epcg_misc_cg *cg)
{
	struct epcg_misc_cg **p = name_bucket(cg->misc, cg->name_hash);

	while (*p != cg)
		p = &(*p)->name_next;
	*p = cg->name_next;
	cg->name_next = NULL;
	cg->misc->nr_names--;
}

/*
 * Whether @parent can take a child named @name (@hash from name_hash()):
 * 0, -ENOENT (parent removed) or -EEXIST (a live child has the name;
 * dying ones do not count, as in cgroupfs where the name is free again
 * once rmdir returned).
 */
static int can_link(struct epcg_misc_cg *parent, const char *name,
		    uint64_t hash)
{
	assert(epcg_mutex_held(&parent->misc->tree_lock));
	if (epcg_atomic_load_relaxed(&parent->dying))
		return -ENOENT;
	return name_find(parent, name, hash) ? -EEXIST : 0;
}

int epcg_misc_cg_create(struct epcg_misc_cg *parent, const char *name,
			struct epcg_misc_cg **ret)
{
	struct epcg_misc_cg *cg;
	struct epcg_misc *m;
	uint64_t hash;
	size_t len;
	int err;

	if (!parent || !name || !ret)
		return -EINVAL;
	len = strnlen(name, NAME_MAX_LEN + 1);
	if (!name_valid(name, len))
		return -EINVAL;
	m = parent->misc;
	hash = name_hash(parent, name);

	/*
	 * Check early so the common failures run no callback, and count the
	 * cgroup as allocated from here on so the ops cannot change while
	 * its @alloc calls run.
	 */
	epcg_mutex_lock(&m->tree_lock);
	err = can_link(parent, name, hash);
	if (!err)
		m->nr_cgroups++;
	epcg_mutex_unlock(&m->tree_lock);
	if (err)
		return err;

	cg = cg_alloc(m, parent, name, len);
	if (!cg) {
		err = -ENOMEM;
		goto err_uncount;
	}
	err = run_alloc(m, cg);
	if (err)
		goto err_free_cg;

	/* The callbacks ran unlocked: the parent or the name may be gone. */
	epcg_mutex_lock(&m->tree_lock);
	err = can_link(parent, name, hash);
	if (err) {
		epcg_mutex_unlock(&m->tree_lock);
		goto err_free_alloced;
	}
	epcg_misc_cg_get(parent);
	cg->serial = ++m->last_serial;
	cg->name_hash = hash;
	epcg_list_add_tail(&cg->sibling, &parent->children);
	name_add(cg);
	epcg_mutex_unlock(&m->tree_lock);
	*ret = cg;
	return 0;

err_free_alloced:
	run_free(m, cg, cg->alloced);
err_free_cg:
	free(cg);
err_uncount:
	epcg_mutex_lock(&m->tree_lock);
	m->nr_cgroups--;
	epcg_mutex_unlock(&m->tree_lock);
	return err;
}

int epcg_misc_cg_remove(struct epcg_misc_cg *cg)
{
	struct epcg_list *pos;
	struct epcg_misc *m;
	int err = 0;

	if (!cg || !cg->parent)
		return -EINVAL;
	m = cg->misc;
	epcg_mutex_lock(&m->tree_lock);
	if (epcg_atomic_load_relaxed(&cg->dying)) {
		err = -ENOENT;
		goto out_unlock;
	}
	epcg_list_for_each(pos, &cg->children) {
		if (!epcg_atomic_load_relaxed(&sibling_cg(pos)->dying)) {
			err = -EBUSY;
			goto out_unlock;
		}
	}
	epcg_atomic_store_relaxed(&cg->dying, true);
	name_del(cg); /* the name is free again (T4) */
out_unlock:
	epcg_mutex_unlock(&m->tree_lock);
	if (!err)
		epcg_misc_cg_put(cg);
	return err;
}

void epcg_misc_cg_get(struct epcg_misc_cg *cg)
{
	epcg_atomic_fetch_add_relaxed(&cg->refcount, 1);
}

bool epcg_misc_cg_tryget(struct epcg_misc_cg *cg)
{
	long v = epcg_atomic_load_relaxed(&cg->refcount);

	do {
		if (v == 0)
			return false;
	} while (!epcg_atomic_cas_weak_relaxed(&cg->refcount, &v, v + 1));
	return true;
}

/*
 * Free @cg, whose last reference is gone; return its parent, whose
 * reference it held.
 */
static struct epcg_misc_cg *cg_release(struct epcg_misc_cg *cg)
{
	struct epcg_misc_cg *parent = cg->parent;
	struct epcg_misc *m = cg->misc;

	/* Still linked: a provider's @free may walk off it (see the top). */
	run_free(m, cg, cg->alloced);
	epcg_mutex_lock(&m->tree_lock);
	epcg_list_del_init(&cg->sibling);
	m->nr_cgroups--;
	epcg_mutex_unlock(&m->tree_lock);
	free(cg);
	return parent;
}

/*
 * @cg's last reference is gone: free it, then each ancestor whose last
 * reference the one freed before it held.  Iterative, not recursive: a
 * chain of dying cgroups can be as deep as the tree.  Out of line, so
 * that the puts that are not the last (nearly all of them) stay a leaf
 * function without a stack frame.
 */
static __attribute__((noinline)) void cg_free_chain(struct epcg_misc_cg *cg)
{
	do {
		if (EPCG_WARN_ONCE(!cg->parent,
				   "misc: root cgroup refcount dropped to 0"))
			return;
		cg = cg_release(cg);
	} while (cg && epcg_atomic_sub_return_acq_rel(&cg->refcount, 1) == 0);
}

/* Drop @n references on @cg at once (n >= 1); the last frees it. */
static inline void cg_put_many(struct epcg_misc_cg *cg, long n)
{
	if (cg && epcg_atomic_sub_return_acq_rel(&cg->refcount, n) == 0)
		cg_free_chain(cg);
}

void epcg_misc_cg_put(struct epcg_misc_cg *cg)
{
	cg_put_many(cg, 1);
}

struct epcg_misc_cg *epcg_misc_cg_parent(const struct epcg_misc_cg *cg)
{
	return cg->parent;
}

struct epcg_misc *epcg_misc_cg_controller(const struct epcg_misc_cg *cg)
{
	return cg->misc;
}

const char *epcg_misc_cg_name(const struct epcg_misc_cg *cg)
{
	return cg->name;
}

bool epcg_misc_cg_is_root(const struct epcg_misc_cg *cg)
{
	return !cg->parent;
}

bool epcg_misc_cg_is_dying(const struct epcg_misc_cg *cg)
{
	return epcg_atomic_load_relaxed(&((struct epcg_misc_cg *)cg)->dying);
}

unsigned epcg_misc_cg_depth(const struct epcg_misc_cg *cg)
{
	return cg->depth;
}

uint64_t epcg_misc_cg_serial(const struct epcg_misc_cg *cg)
{
	return cg->serial;
}

/* Copy @n bytes to @buf at @at, dropping what would not fit before a NUL. */
static void put_clipped(char *buf, size_t size, size_t at, const char *src,
			size_t n)
{
	if (at < size - 1)
		memcpy(buf + at, src, EPCG_MIN(n, size - 1 - at));
}

int epcg_misc_cg_path(const struct epcg_misc_cg *cg, char *buf, size_t size)
{
	const struct epcg_misc_cg *c;
	size_t len = cg->parent ? 0 : 1, end;

	for (c = cg; c->parent; c = c->parent)
		len += 1 + strlen(c->name);
	if (!size)
		return (int)len;
	if (!cg->parent)
		put_clipped(buf, size, 0, "/", 1);
	/* Names come leaf first: fill from the end. */
	end = len;
	for (c = cg; c->parent; c = c->parent) {
		size_t n = strlen(c->name);

		end -= n;
		put_clipped(buf, size, end, c->name, n);
		put_clipped(buf, size, --end, "/", 1);
	}
	buf[EPCG_MIN(len, size - 1)] = '\0';
	return (int)len;
}

void *epcg_misc_cg_priv(const struct epcg_misc_cg *cg, enum epcg_misc_res res)
{
	if (!epcg__misc_res_valid(res))
		return NULL;
	return epcg_atomic_load_acquire(
		&((struct epcg_misc_cg *)cg)->priv[res]);
}

void epcg_misc_cg_set_priv(struct epcg_misc_cg *cg, enum epcg_misc_res res,
			   void *priv)
{
	if (epcg__misc_res_valid(res))
		epcg_atomic_store_release(&cg->priv[res], priv);
}

void epcg_misc_tree_lock(struct epcg_misc *m)
{
	epcg_mutex_lock(&m->tree_lock);
}

void epcg_misc_tree_unlock(struct epcg_misc *m)
{
	epcg_mutex_unlock(&m->tree_lock);
}

struct epcg_misc_cg *epcg_misc_cg_next_pre(struct epcg_misc_cg *pos,
					   struct epcg_misc_cg *root)
{
	struct epcg_misc_cg *c;

	assert(epcg_mutex_held(&root->misc->tree_lock));
	if (!pos)
		return root;
	if (!epcg_list_empty(&pos->children))
		return sibling_cg(pos->children.next);
	/* No child: the next sibling of the nearest level that has one. */
	for (c = pos; c != root && c->parent; c = c->parent) {
		if (c->sibling.next != &c->parent->children)
			return sibling_cg(c->sibling.next);
	}
	return NULL;
}

/* ---- tasks ------------------------------------------------------------- */

/*
 * task->cg_lock is a spinlock of one word: task->cg changes only on
 * migration and is read once per charge, so the critical sections are a
 * few instructions and a mutex per task would be overkill.
 *
 * Every page a task allocates holds a reference on the task's cgroup (E1),
 * so taking that reference is on the allocation path.  A task therefore
 * takes TASK_CG_REFS references at a time with one atomic add and keeps
 * them in task->cg_refs, under the lock it takes anyway to read task->cg:
 * the page's reference is real (it is counted in the cgroup's refcount,
 * and the page drops it like any other when it is freed), only its
 * atomic is shared with the next ones.  The reserve never outlives the
 * task's own reference: both are given back together when the task
 * leaves the cgroup, so a cgroup is freed exactly when it would be
 * without the reserve.  The root is never freed and its task pointer is
 * NULL, so charges to it take their reference one by one.
 */
#define TASK_CG_REFS 64

static void task_lock(struct epcg_task *task)
{
	while (epcg_atomic_xchg_acq_rel(&task->cg_lock, 1)) {
		while (epcg_atomic_load_relaxed(&task->cg_lock))
			;
	}
}

static void task_unlock(struct epcg_task *task)
{
	epcg_atomic_store_release(&task->cg_lock, 0);
}

void epcg_misc_task_attach(struct epcg_task *task, struct epcg_misc_cg *cg)
{
	struct epcg_misc_cg *old;
	long refs;

	if (!task)
		return;
	if (cg)
		epcg_misc_cg_get(cg);
	task_lock(task);
	old = task->cg;
	refs = task->cg_refs;
	task->cg = cg;
	task->cg_refs = 0;
	task_unlock(task);
	/*
	 * Outside the spinlock: the last put frees and takes the tree lock.
	 * The task's own reference and its reserve go together.
	 */
	cg_put_many(old, refs + 1);
}

struct epcg_misc_cg *epcg_misc_task_get_cg(struct epcg_misc *m,
					   struct epcg_task *task)
{
	struct epcg_misc_cg *cg = NULL;

	if (task) {
		task_lock(task);
		cg = task->cg;
		/* The task's own reference keeps cg alive while we get more. */
		if (cg && !task->cg_refs) {
			epcg_atomic_fetch_add_relaxed(&cg->refcount,
						      TASK_CG_REFS);
			task->cg_refs = TASK_CG_REFS;
		}
		if (cg)
			task->cg_refs--;
		task_unlock(task);
	}
	if (!cg) {
		cg = m->root;
		epcg_misc_cg_get(cg);
	}
	return cg;
}

/* ---- charging ------------------------------------------------------------ */

static void raise_watermark(struct epcg_misc_counters *c, uint64_t usage)
{
	uint64_t old = epcg_atomic_load_relaxed(&c->watermark);

	/* A racing raise may win; we only retry while ours is higher. */
	while (old < usage &&
	       !epcg_atomic_cas_weak_relaxed(&c->watermark, &old, usage))
		;
}

/*
 * Report a usage that went below zero.  Cold and out of line: the walks
 * that may call it then need no stack frame of their own.
 */
static __attribute__((noinline, cold)) void
warn_below_zero(enum epcg_misc_res res, uint64_t now, uint64_t amount)
{
	EPCG_WARN_ONCE(true,
		       "misc: %s usage went below zero (%" PRId64
		       " after uncharging %" PRIu64 ")",
		       res_names[res], (int64_t)now, amount);
}

/*
 * Subtract @amount from one level's usage.  A result below zero, read as
 * a signed 64-bit number like the kernel does, means something uncharged
 * more than it charged.  (Real usage stays far below 2^63, and the signed
 * test, unlike "old < amount", stays quiet when the charge path undoes an
 * add that wrapped.)  Not clamped (M7): the bug stays visible in
 * misc.current.
 */
static inline void cancel_one(struct epcg_misc_cg *cg, enum epcg_misc_res res,
			      uint64_t amount)
{
	uint64_t now =
		epcg_atomic_sub_return_relaxed(&cg->res[res].usage, amount);

	if (epcg_unlikely((int64_t)now < 0))
		warn_below_zero(res, now, amount);
}

/* Count a failure at @failed (M6) and tell pollers of the files it shows in. */
static void count_failure(struct epcg_misc_cg *failed, enum epcg_misc_res res)
{
	struct epcg_misc_cg *c;

	epcg_atomic_fetch_add_relaxed(&failed->res[res].events_local, 1);
	/* The root has no events files, so only non-root levels notify. */
	if (failed->parent)
		notify(failed, EPCG_MISC_FILE_EVENTS_LOCAL);
	for (c = failed; c->parent; c = c->parent) {
		epcg_atomic_fetch_add_relaxed(&c->res[res].events, 1);
		notify(c, EPCG_MISC_FILE_EVENTS);
	}
}

int epcg_misc_try_charge(enum epcg_misc_res res, struct epcg_misc_cg *cg,
			 uint64_t amount, struct epcg_misc_cg **ret_failed)
{
	struct epcg_misc *m;
	struct epcg_misc_cg *i, *j;

	if (!epcg__misc_res_valid(res) || !cg)
		return -EINVAL;
	m = cg->misc;
	if (!epcg_misc_capacity(m, res))
		return -EINVAL;
	if (!amount)
		return 0;

	for (i = cg; i; i = i->parent) {
		struct epcg_misc_counters *c = &i->res[res];
		uint64_t now =
			epcg_atomic_add_return_relaxed(&c->usage, amount);

		/* now < amount: the add wrapped, the true sum is >= 2^64. */
		if (now < amount || now > epcg_atomic_load_relaxed(&c->max) ||
		    now > epcg_misc_capacity(m, res))
			goto err_cancel;
		raise_watermark(c, now);
	}
	return 0;

err_cancel:
	count_failure(i, res);
	for (j = cg; j != i; j = j->parent)
		cancel_one(j, res, amount);
	cancel_one(i, res, amount);
	if (ret_failed)
		*ret_failed = i;
	return -EBUSY;
}

/*
 * The rest of uncharge_walk() once level @i went below zero (@now): the
 * report, the levels above @i, then the put.  Out of line and reached by
 * a tail call, so the walk itself needs no stack frame.
 */
static __attribute__((noinline, cold)) void
uncharge_rest(struct epcg_misc_cg *i, enum epcg_misc_res res, uint64_t amount,
	      uint64_t now, struct epcg_misc_cg *put)
{
	warn_below_zero(res, now, amount);
	while ((i = i->parent))
		cancel_one(i, res, amount);
	if (put)
		cg_put_many(put, 1);
}

/*
 * Subtract @amount from every level from @cg up, then drop a reference
 * on @put if it is not NULL.  The put comes last: until then the
 * charge's owner still holds its reference, so every level the walk
 * goes through is alive, and the put may be the one that frees.
 */
static inline void uncharge_walk(struct epcg_misc_cg *cg,
				 enum epcg_misc_res res, uint64_t amount,
				 struct epcg_misc_cg *put)
{
	for (struct epcg_misc_cg *i = cg; i; i = i->parent) {
		uint64_t now = epcg_atomic_sub_return_relaxed(
			&i->res[res].usage, amount);

		/* Not clamped (M7): see cancel_one(). */
		if (epcg_unlikely((int64_t)now < 0)) {
			uncharge_rest(i, res, amount, now, put);
			return;
		}
	}
	if (put)
		cg_put_many(put, 1);
}

void epcg_misc_uncharge(enum epcg_misc_res res, struct epcg_misc_cg *cg,
			uint64_t amount)
{
	if (!epcg__misc_res_valid(res) || !cg || !amount)
		return;
	uncharge_walk(cg, res, amount, NULL);
}

/*
 * One call instead of two saves the second call's checks and frame on
 * the free path of every EPC page.
 */
void epcg_misc_uncharge_put(enum epcg_misc_res res, struct epcg_misc_cg *cg,
			    uint64_t amount)
{
	if (!cg)
		return;
	if (epcg__misc_res_valid(res) && amount)
		uncharge_walk(cg, res, amount, cg);
	else
		cg_put_many(cg, 1);
}

/* ---- state --------------------------------------------------------------- */

/* @cg's counters of @res, or NULL if either is invalid. */
static struct epcg_misc_counters *counters(const struct epcg_misc_cg *cg,
					   enum epcg_misc_res res)
{
	if (!cg || !epcg__misc_res_valid(res))
		return NULL;
	/* Reading an atomic needs a non-const pointer in C11. */
	return (struct epcg_misc_counters *)&cg->res[res];
}

uint64_t epcg_misc_usage(const struct epcg_misc_cg *cg, enum epcg_misc_res res)
{
	struct epcg_misc_counters *c = counters(cg, res);

	return c ? epcg_atomic_load_relaxed(&c->usage) : 0;
}

uint64_t epcg_misc_peak(const struct epcg_misc_cg *cg, enum epcg_misc_res res)
{
	struct epcg_misc_counters *c = counters(cg, res);

	return c ? epcg_atomic_load_relaxed(&c->watermark) : 0;
}

uint64_t epcg_misc_max(const struct epcg_misc_cg *cg, enum epcg_misc_res res)
{
	struct epcg_misc_counters *c = counters(cg, res);

	return c ? epcg_atomic_load_relaxed(&c->max) : EPCG_MISC_MAX;
}

uint64_t epcg_misc_events(const struct epcg_misc_cg *cg, enum epcg_misc_res res)
{
	struct epcg_misc_counters *c = counters(cg, res);

	return c ? epcg_atomic_load_relaxed(&c->events) : 0;
}

uint64_t epcg_misc_events_local(const struct epcg_misc_cg *cg,
				enum epcg_misc_res res)
{
	struct epcg_misc_counters *c = counters(cg, res);

	return c ? epcg_atomic_load_relaxed(&c->events_local) : 0;
}

int epcg_misc_set_max(struct epcg_misc_cg *cg, enum epcg_misc_res res,
		      uint64_t max)
{
	if (!cg || !cg->parent || !epcg__misc_res_valid(res))
		return -EINVAL;
	if (!epcg_misc_capacity(cg->misc, res))
		return -EINVAL;
	/* Non-preemptive: nothing is reclaimed, later charges see it. */
	epcg_atomic_store_relaxed(&cg->res[res].max, max);
	return 0;
}
