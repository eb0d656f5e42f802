/* SPDX-License-Identifier: MIT */
/*
 * The cgroup v2 "misc" controller: hierarchical accounting of scarce,
 * countable host resources (SEV ASIDs, SEV-ES ASIDs, SGX EPC bytes).
 *
 * Charging hierarchically means that an amount charged to a cgroup is
 * counted against that cgroup *and every ancestor up to the root*, so a
 * limit anywhere on the path can refuse it; the alternative, counting it
 * only where it was charged, would let a parent's limit be bypassed by
 * creating children.  Each level's usage is therefore "own + descendants".
 *
 * This module knows nothing of SGX.  A resource provider (the EPC) sets the
 * resource's capacity and may register per-resource callbacks that run when
 * a cgroup is created and freed, to hang its own per-cgroup state off the
 * cgroup (the EPC cgroup keeps its LRU there).
 *
 * Rules implemented here are SPEC M1 to M9; the interface-file layer (show
 * and write of misc.* files as pure functions over a buffer) is at the end.
 */
#ifndef EPCG_MISC_H
#define EPCG_MISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct epcg_task;

/* Resources, in the order every interface file lists them (M1). */
enum epcg_misc_res {
	EPCG_MISC_RES_SEV,
	EPCG_MISC_RES_SEV_ES,
	EPCG_MISC_RES_SGX_EPC,
	EPCG_MISC_RES_NR
};

/* The interface files of the controller (M3). */
enum epcg_misc_file {
	EPCG_MISC_FILE_CAPACITY,	/* root only, 0444 */
	EPCG_MISC_FILE_CURRENT,		/* all, 0444 */
	EPCG_MISC_FILE_PEAK,		/* all, 0444 */
	EPCG_MISC_FILE_MAX,		/* non-root, 0644 */
	EPCG_MISC_FILE_EVENTS,		/* non-root, 0444 */
	EPCG_MISC_FILE_EVENTS_LOCAL,	/* non-root, 0444 */
	EPCG_MISC_FILE_NR
};

/* "max": no limit.  Also the largest value a misc.max write accepts. */
#define EPCG_MISC_MAX UINT64_MAX

/* Bytes a misc.max write may carry in one write(2) call (M5). */
#define EPCG_MISC_WRITE_MAX 4096

/* Enough for any misc.* file's content with every resource listed. */
#define EPCG_MISC_SHOW_BUFSZ 256

struct epcg_misc;	/* one controller instance: capacities, the tree */
struct epcg_misc_cg;	/* one cgroup's misc state (the kernel's css) */

/**
 * struct epcg_misc_res_ops - a resource provider's per-cgroup callbacks.
 * @alloc: called for a new cgroup, after its counters are set up, for each
 *	resource whose capacity is > 0 at that moment.  A negative errno
 *	fails the cgroup's creation (already-run @alloc calls are undone
 *	with @free).
 * @free: called when the cgroup's last reference is dropped, for each
 *	resource whose @alloc succeeded.  The cgroup is still in the tree
 *	(refcount 0) while @free runs, so a walk can still step off it.
 *
 * Both run without the tree lock and may call any epcg_misc_*() function
 * except creating or freeing cgroups; the root's (run by
 * epcg_misc_set_capacity() and epcg_misc_set_res_ops()) must not call
 * those two either.
 */
struct epcg_misc_res_ops {
	int (*alloc)(struct epcg_misc_cg *cg, void *data);
	void (*free)(struct epcg_misc_cg *cg, void *data);
};

/*
 * Called after a counter behind a misc.events or misc.events.local file
 * changed, so a file front end can wake poll() waiters (M6).
 */
typedef void epcg_misc_notify_fn(struct epcg_misc_cg *cg,
				 enum epcg_misc_file file, void *data);

/* ---- controller ---------------------------------------------------- */

/**
 * epcg_misc_create() - a controller with a root cgroup and all capacities 0.
 * @ret: the new controller.
 *
 * Context: any thread.
 * Return: 0; -ENOMEM; -EINVAL if @ret is NULL.
 */
int epcg_misc_create(struct epcg_misc **ret);

/**
 * epcg_misc_destroy() - free the controller.
 * @m: the controller, may be NULL.
 *
 * Every cgroup but the root must have been freed (removed and its last
 * reference put); leftovers are reported once and leaked rather than freed
 * under a user.
 *
 * Context: no other thread uses @m.
 */
void epcg_misc_destroy(struct epcg_misc *m);

/**
 * epcg_misc_root() - the root cgroup, valid for @m's lifetime (no reference
 * needed).
 */
struct epcg_misc_cg *epcg_misc_root(struct epcg_misc *m);

/**
 * epcg_misc_set_res_ops() - register a resource provider's callbacks.
 * @m: the controller.
 * @res: the resource.
 * @ops: the callbacks (static storage), or NULL to unregister.
 * @data: passed to the callbacks.
 *
 * Call before any cgroup other than the root exists.  The root's @alloc
 * runs as soon as @ops are registered and the capacity is > 0: here if the
 * capacity already is, else in epcg_misc_set_capacity().  Replacing ops
 * first runs the old @free on the root's state.
 *
 * Context: no concurrent cgroup creation.
 * Return: 0; -EINVAL for an invalid @res; -EBUSY if non-root cgroups exist;
 * the root's @alloc error (@ops stay registered, the root unallocated).
 */
int epcg_misc_set_res_ops(struct epcg_misc *m, enum epcg_misc_res res,
			  const struct epcg_misc_res_ops *ops, void *data);

/**
 * epcg_misc_set_capacity() - set how much of @res the host has (M1).
 * @m: the controller.
 * @res: the resource.
 * @capacity: the amount; 0 means "not present".
 *
 * Takes effect for later charges only; usage and limits are unchanged.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for an invalid @res; the root's @alloc callback's
 * error if it had to run (see epcg_misc_set_res_ops()) and failed; the
 * capacity is then unchanged.
 */
int epcg_misc_set_capacity(struct epcg_misc *m, enum epcg_misc_res res,
			   uint64_t capacity);

/** epcg_misc_capacity() - the capacity of @res (0 for an invalid @res). */
uint64_t epcg_misc_capacity(const struct epcg_misc *m, enum epcg_misc_res res);

/**
 * epcg_misc_set_notify() - install the events-changed callback.
 * @fn: the callback (NULL: none); called from the charge path, must not
 *	block or call back into the controller.
 * @data: passed to @fn.
 */
void epcg_misc_set_notify(struct epcg_misc *m, epcg_misc_notify_fn *fn,
			  void *data);

/* ---- names --------------------------------------------------------- */

/** epcg_misc_res_name() - "sev", "sev_es", "sgx_epc"; NULL if invalid. */
const char *epcg_misc_res_name(enum epcg_misc_res res);

/**
 * epcg_misc_res_lookup() - the resource named exactly @name (@len bytes).
 * Return: the resource (>= 0), or -EINVAL for an unknown name.
 */
int epcg_misc_res_lookup(const char *name, size_t len);

/* ---- cgroups --------------------------------------------------------- */

/**
 * epcg_misc_cg_create() - a new child cgroup of @parent with default state.
 * @parent: a live (not removed) cgroup.
 * @name: the child's name, unique among @parent's live children, no '/'
 *	or newline, not "." or "..", 1 to 255 bytes.
 * @ret: the new cgroup, holding one reference owned by the caller (the
 *	"online" reference, given up by epcg_misc_cg_remove()).
 *
 * Limits start at "max", counters at 0 (M2).  Runs @alloc of every
 * resource with capacity > 0.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -EINVAL for a bad name or NULL argument; -EEXIST if a live
 * child has that name; -ENOENT if @parent was removed; -ENOMEM; an
 * @alloc callback's error.
 */
int epcg_misc_cg_create(struct epcg_misc_cg *parent, const char *name,
			struct epcg_misc_cg **ret);

/**
 * epcg_misc_cg_remove() - remove a cgroup (rmdir) and drop the online
 * reference.
 * @cg: a live, non-root cgroup with no live children.
 *
 * The cgroup stays "dying" while references remain (an EPC page charged to
 * it holds one): its usage stays counted in its ancestors until its last
 * charge is uncharged, and tree walks still visit it.  It is freed when
 * the last reference goes.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -EBUSY if it has live children; -EINVAL for the root; -ENOENT
 * if already removed.
 */
int epcg_misc_cg_remove(struct epcg_misc_cg *cg);

/**
 * epcg_misc_cg_get() - take a reference on @cg (which must have one).
 * epcg_misc_cg_tryget() - take one unless @cg is already being freed.
 * epcg_misc_cg_put() - drop a reference; the last one frees @cg (may be NULL).
 *
 * Context: any thread.  put may run @free callbacks and take the tree lock.
 * Return (tryget): true if a reference was taken.
 */
void epcg_misc_cg_get(struct epcg_misc_cg *cg);
bool epcg_misc_cg_tryget(struct epcg_misc_cg *cg);
void epcg_misc_cg_put(struct epcg_misc_cg *cg);

/** epcg_misc_cg_parent() - the parent, NULL for the root. */
struct epcg_misc_cg *epcg_misc_cg_parent(const struct epcg_misc_cg *cg);
/** epcg_misc_cg_controller() - the controller @cg belongs to. */
struct epcg_misc *epcg_misc_cg_controller(const struct epcg_misc_cg *cg);
/** epcg_misc_cg_name() - the name ("" for the root). */
const char *epcg_misc_cg_name(const struct epcg_misc_cg *cg);
/** epcg_misc_cg_is_root() - whether @cg is the root. */
bool epcg_misc_cg_is_root(const struct epcg_misc_cg *cg);
/** epcg_misc_cg_is_dying() - whether @cg was removed (it may still be charged). */
bool epcg_misc_cg_is_dying(const struct epcg_misc_cg *cg);
/** epcg_misc_cg_depth() - 0 for the root, 1 for its children, ... */
unsigned epcg_misc_cg_depth(const struct epcg_misc_cg *cg);
/**
 * epcg_misc_cg_serial() - where @cg stands in the order its controller's
 * cgroups were linked into the tree (the kernel's css serial number): 0
 * for the root, larger for every later cgroup.  A parent's children are in
 * increasing serial order, which is the order epcg_misc_cg_next_pre()
 * visits them in, so providers can order cgroups the way a walk would
 * without walking.  Set before epcg_misc_cg_create() returns; immutable.
 */
uint64_t epcg_misc_cg_serial(const struct epcg_misc_cg *cg);

/**
 * epcg_misc_cg_path() - the cgroup's path, "/" for the root, "/a/b" below.
 * Return: the length it needs (like snprintf); the output is cut to @size.
 */
int epcg_misc_cg_path(const struct epcg_misc_cg *cg, char *buf, size_t size);

/**
 * epcg_misc_cg_priv() / epcg_misc_cg_set_priv() - the resource provider's
 * per-cgroup pointer for @res (set by its @alloc callback).
 */
void *epcg_misc_cg_priv(const struct epcg_misc_cg *cg, enum epcg_misc_res res);
void epcg_misc_cg_set_priv(struct epcg_misc_cg *cg, enum epcg_misc_res res,
			   void *priv);

/**
 * epcg_misc_tree_lock() / epcg_misc_tree_unlock() - hold the tree's shape
 * still: no cgroup is linked or unlinked meanwhile, so the walks below are
 * safe.  Cgroups seen under the lock may already be at refcount 0 (being
 * freed): use epcg_misc_cg_tryget() to keep one past the unlock.
 */
void epcg_misc_tree_lock(struct epcg_misc *m);
void epcg_misc_tree_unlock(struct epcg_misc *m);

/**
 * epcg_misc_cg_next_pre() - pre-order successor of @pos within the subtree
 * of @root, including dying cgroups.
 * @pos: the current position, or NULL to start (returns @root).
 * @root: the subtree's root.
 *
 * Context: the tree lock held.
 * Return: the next cgroup, or NULL after the last one.
 */
struct epcg_misc_cg *epcg_misc_cg_next_pre(struct epcg_misc_cg *pos,
					   struct epcg_misc_cg *root);

/* ---- tasks ------------------------------------------------------------ */

/**
 * epcg_misc_task_attach() - make @cg the cgroup @task charges (migration).
 * @task: the task.
 * @cg: a cgroup of a live controller, or NULL for the root.
 *
 * Takes a reference on @cg and drops the old one, with the references
 * the task kept in reserve for its pages (see epcg_misc_task_get_cg()).
 * Charges already made stay with the cgroup they were made to (T3, M7).
 *
 * Context: any thread.
 */
void epcg_misc_task_attach(struct epcg_task *task, struct epcg_misc_cg *cg);

/**
 * epcg_misc_task_get_cg() - a reference to the cgroup @task charges.
 * @m: the controller (supplies the root).
 * @task: the task, or NULL (internal work): the root.
 *
 * The reference comes from a reserve the task refills a few dozen at a
 * time, so most calls do no atomic operation on the cgroup; it is a full
 * reference all the same, to be dropped with epcg_misc_cg_put().
 *
 * Context: any thread.
 * Return: the cgroup with a reference the caller must put.
 */
struct epcg_misc_cg *epcg_misc_task_get_cg(struct epcg_misc *m,
					   struct epcg_task *task);

/* ---- charging ----------------------------------------------------------- */

/**
 * epcg_misc_try_charge() - charge @amount of @res to @cg and every ancestor.
 * @res: the resource.
 * @cg: the cgroup to charge (the caller holds a reference).
 * @amount: how much; 0 succeeds and does nothing.
 * @ret_failed: if not NULL, on -EBUSY set to the level that refused.
 *
 * Lock-free, as the kernel's: at each level from @cg up, add first and then
 * check the new usage against that level's max and the capacity; a level
 * that passes raises its peak.  At the first level F that fails, F's
 * events.local and the events of F and its non-root ancestors go up by
 * one, and the add is undone on every level charged so far, F included
 * (M6).  Peaks raised below F stay raised.  A concurrent reader may see a
 * usage above max for a moment, but no successful charge ever leaves
 * committed usage above any level's max or the capacity (M9).
 *
 * Context: any thread; no locks.
 * Return: 0; -EINVAL for an invalid @res, NULL @cg, or a capacity of 0;
 * -EBUSY if a limit or the capacity refused it.
 */
int epcg_misc_try_charge(enum epcg_misc_res res, struct epcg_misc_cg *cg,
			 uint64_t amount, struct epcg_misc_cg **ret_failed);

/**
 * epcg_misc_uncharge() - subtract @amount of @res from @cg and every
 * ancestor.
 *
 * Must name the cgroup that was charged, whatever happened since (task
 * moved, cgroup removed).  An invalid @res, NULL @cg or @amount 0 is a
 * no-op; capacity is not checked.  Going below zero is a bug elsewhere:
 * reported once, the value is left as is (M7).
 *
 * Context: any thread; no locks.
 */
void epcg_misc_uncharge(enum epcg_misc_res res, struct epcg_misc_cg *cg,
			uint64_t amount);

/**
 * epcg_misc_uncharge_put() - uncharge @amount of @res from @cg and every
 * ancestor, then drop one reference on @cg.
 * @res: the resource.
 * @cg: the cgroup that was charged; the caller gives up one reference.
 * @amount: how much; 0 only drops the reference.
 *
 * What releasing a charge that holds a reference on its cgroup takes (an
 * EPC page, E1), in one call: epcg_misc_uncharge() followed by
 * epcg_misc_cg_put(), with the same effects in the same order.  The
 * uncharge reaches the root first; the reference may be the last one,
 * which then frees @cg (and every dying ancestor whose last reference
 * it held) at this call.  An invalid @res uncharges nothing but still
 * drops the reference; a NULL @cg is a no-op.
 *
 * Context: any thread; no locks held by the caller that the last put
 * takes (the tree lock, and whatever the resources' @free callbacks take).
 */
void epcg_misc_uncharge_put(enum epcg_misc_res res, struct epcg_misc_cg *cg,
			    uint64_t amount);

/* ---- state ---------------------------------------------------------------- */

/*
 * Readers of the counters.  Each is a relaxed snapshot of one counter.
 * An invalid @res reads 0 (max reads EPCG_MISC_MAX).
 */
uint64_t epcg_misc_usage(const struct epcg_misc_cg *cg, enum epcg_misc_res res);
uint64_t epcg_misc_peak(const struct epcg_misc_cg *cg, enum epcg_misc_res res);
uint64_t epcg_misc_max(const struct epcg_misc_cg *cg, enum epcg_misc_res res);
uint64_t epcg_misc_events(const struct epcg_misc_cg *cg, enum epcg_misc_res res);
uint64_t epcg_misc_events_local(const struct epcg_misc_cg *cg,
				enum epcg_misc_res res);

/**
 * epcg_misc_set_max() - set the limit of @res on @cg.
 *
 * Non-preemptive: a value below the current usage is stored, and nothing
 * is reclaimed; later charges fail until usage drops (M5).
 *
 * Context: any thread.
 * Return: 0; -EINVAL for the root (it has no limit), an invalid @res or a
 * capacity of 0.
 */
int epcg_misc_set_max(struct epcg_misc_cg *cg, enum epcg_misc_res res,
		      uint64_t max);

/* ---- interface files (pure functions over buffers) ------------------------- */

/** epcg_misc_file_name() - "misc.capacity", ...; NULL if invalid. */
const char *epcg_misc_file_name(enum epcg_misc_file file);

/** epcg_misc_file_lookup() - the file named @name, or -ENOENT. */
int epcg_misc_file_lookup(const char *name);

/** epcg_misc_file_mode() - 0444 or 0644 (misc.max); 0 if invalid. */
unsigned epcg_misc_file_mode(enum epcg_misc_file file);

/** epcg_misc_file_exists() - whether @cg has @file (root/non-root, M3). */
bool epcg_misc_file_exists(const struct epcg_misc_cg *cg,
			   enum epcg_misc_file file);

/**
 * epcg_misc_file_show() - the content of @file of @cg (M4).
 * @buf: output, NUL-terminated if @size > 0.
 * @size: its size; EPCG_MISC_SHOW_BUFSZ always suffices.
 *
 * One line "<name> <value>\n" per qualifying resource, in M1 order; events
 * files use "<name>.max <value>"; misc.max prints "max" for EPCG_MISC_MAX.
 * Nothing qualifying: an empty string.
 *
 * Context: any thread.
 * Return: the length of the content (excluding the NUL); -ENOENT if @cg
 * does not have @file; -ENOSPC if @size is too small (nothing useful is
 * written).
 */
int epcg_misc_file_show(const struct epcg_misc_cg *cg, enum epcg_misc_file file,
			char *buf, size_t size);

/**
 * epcg_misc_max_parse() - parse the content of one misc.max write (M5).
 * @m: the controller (for capacities).
 * @buf: the bytes written; need not be NUL-terminated.
 * @len: their number.
 * @ret_res: the resource named.
 * @ret_max: the new limit (EPCG_MISC_MAX for "max").
 *
 * Pure: changes nothing.  Strips leading and trailing whitespace, splits at
 * the first space, matches the name exactly, accepts "max" or a u64 with C
 * base detection and an optional '+', then refuses a capacity of 0.
 *
 * Return: 0; -E2BIG if @len > EPCG_MISC_WRITE_MAX; -EINVAL for no space,
 * an unknown name, a malformed value, a second line, or a capacity of 0;
 * -ERANGE for a value above 2^64-1 (checked before capacity).
 */
int epcg_misc_max_parse(const struct epcg_misc *m, const char *buf, size_t len,
			enum epcg_misc_res *ret_res, uint64_t *ret_max);

/**
 * epcg_misc_file_write() - apply one write(2) of @len bytes to @file of @cg.
 *
 * Only misc.max is writable; a failed write changes nothing.
 *
 * Context: any thread.
 * Return: 0; -ENOENT if @cg does not have @file; -EINVAL if @file is not
 * writable; any error of epcg_misc_max_parse().
 */
int epcg_misc_file_write(struct epcg_misc_cg *cg, enum epcg_misc_file file,
			 const char *buf, size_t len);

#endif
