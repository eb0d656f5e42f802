// SPDX-License-Identifier: MIT
/*
 * The cgroup v2 core tree: cgroups as directories, their misc state, and
 * the process registry.
 *
 * Two trees live side by side.  This one is what users see: every mkdir
 * makes a cgroup here.  The misc controller's tree holds a misc cgroup
 * only for cgroups whose parent enabled misc in cgroup.subtree_control
 * (SPEC T2), plus the root.  Because misc can be enabled in a cgroup only
 * if it is in its cgroup.controllers (the parent enabled it), the cgroups
 * with misc state always form a connected top part of this tree, and a
 * child's misc cgroup is always created under its parent's.
 *
 * Charges are never moved.  A process's tasks charge the misc state of the
 * nearest ancestor of the process's cgroup that has one (T5); when the
 * process moves, or misc is switched on or off above it, its bound tasks
 * are re-attached for future charges, while what they already charged
 * stays where it was charged, held there by the misc cgroup's references
 * (a removed misc cgroup with charges is "dying", not gone: T4, M7).
 *
 * Processes enter the registry when written into a cgroup.procs file or
 * when first looked up (then by fork inheritance, see cgroup.h) and leave
 * when their exit is reported.  A cgroup is "populated" while it or a
 * descendant has a process; every change of that notifies cgroup.events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-internal.h"
#include "util/alloc.h"

/* How far fork inheritance walks up the parent chain before giving up. */
#define INHERIT_DEPTH_MAX 4096

/* ---- cgroups ------------------------------------------------------------ */

static struct epcg_cgroup *cg_alloc(struct epcg_cgroup_tree *t,
				    struct epcg_cgroup *parent,
				    const char *name, size_t len,
				    const struct epcg_cgroup_cred *owner)
{
	struct epcg_cgroup *cg = epcg_calloc(1, sizeof(*cg) + len + 1);

	if (!cg)
		return NULL;
	cg->tree = t;
	cg->parent = parent;
	epcg_list_init(&cg->children);
	epcg_list_init(&cg->sibling);
	epcg_list_init(&cg->procs);
	cg->refcount = 1;
	cg->dir_owner.uid = owner->uid;
	cg->dir_owner.gid = owner->gid;
	for (unsigned i = 0; i < EPCG_CGROUP_FILE_NR; i++)
		cg->file_owner[i] = cg->dir_owner;
	memcpy(cg->name, name, len);
	return cg;
}

static void put_locked(struct epcg_cgroup *cg)
{
	while (cg && --cg->refcount == 0) {
		struct epcg_cgroup *parent = cg->parent;

		free(cg);
		cg = parent;
	}
}

void epcg_cgroup_get(struct epcg_cgroup *cg)
{
	epcg_mutex_lock(&cg->tree->lock);
	cg->refcount++;
	epcg_mutex_unlock(&cg->tree->lock);
}

void epcg_cgroup_put(struct epcg_cgroup *cg)
{
	struct epcg_cgroup_tree *t;

	if (!cg)
		return;
	t = cg->tree;
	epcg_mutex_lock(&t->lock);
	put_locked(cg);
	epcg_mutex_unlock(&t->lock);
}

bool epcg_cgroup_is_root(const struct epcg_cgroup *cg)
{
	return !cg->parent;
}

void epcg_cgroup_owner(struct epcg_cgroup *cg, uid_t *uid, gid_t *gid)
{
	epcg_mutex_lock(&cg->tree->lock);
	*uid = cg->dir_owner.uid;
	*gid = cg->dir_owner.gid;
	epcg_mutex_unlock(&cg->tree->lock);
}

static bool file_valid(enum epcg_cgroup_file file)
{
	return (unsigned)file < EPCG_CGROUP_FILE_NR;
}

int epcg_cgroup_file_owner(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			   uid_t *uid, gid_t *gid)
{
	if (!file_valid(file))
		return -EINVAL;
	epcg_mutex_lock(&cg->tree->lock);
	*uid = cg->file_owner[file].uid;
	*gid = cg->file_owner[file].gid;
	epcg_mutex_unlock(&cg->tree->lock);
	return 0;
}

int epcg_cgroup_chown(struct epcg_cgroup *cg, uid_t uid, gid_t gid,
		      const struct epcg_cgroup_cred *cred)
{
	int err = 0;

	epcg_mutex_lock(&cg->tree->lock);
	if (cred->uid != 0)
		err = -EPERM;
	else if (cg->removed)
		err = -ENODEV;
	if (!err) {
		cg->dir_owner.uid = uid;
		cg->dir_owner.gid = gid;
	}
	epcg_mutex_unlock(&cg->tree->lock);
	return err;
}

int epcg_cgroup_file_chown(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			   uid_t uid, gid_t gid,
			   const struct epcg_cgroup_cred *cred)
{
	int err = 0;

	if (!file_valid(file))
		return -EINVAL;
	epcg_mutex_lock(&cg->tree->lock);
	if (cred->uid != 0)
		err = -EPERM;
	else if (cg->removed)
		err = -ENODEV;
	else if (!epcg__cgroup_file_exists(cg, file))
		err = -ENOENT;
	if (!err) {
		cg->file_owner[file].uid = uid;
		cg->file_owner[file].gid = gid;
	}
	epcg_mutex_unlock(&cg->tree->lock);
	return err;
}

bool epcg__cgroup_may_write(const struct epcg_cgroup *cg,
			    const struct epcg_cgroup_cred *cred)
{
	return cred->uid == 0 || cred->uid == cg->dir_owner.uid;
}

bool epcg__cgroup_may_write_file(const struct epcg_cgroup *cg,
				 enum epcg_cgroup_file file,
				 const struct epcg_cgroup_cred *cred)
{
	return cred->uid == 0 || cred->uid == cg->file_owner[file].uid;
}

void epcg__cgroup_notify(struct epcg_cgroup *cg, enum epcg_cgroup_file file)
{
	struct epcg_cgroup_tree *t = cg->tree;
	const void *key = cg;

	if (!t->ops->notify)
		return;
	if (file >= EPCG_CGROUP_FILE_MISC) {
		key = cg->misc;
		if (!key)
			return;
	}
	t->ops->notify(key, file, t->data);
}

struct epcg_misc_cg *epcg__cgroup_misc_effective(struct epcg_cgroup *cg)
{
	while (!cg->misc)
		cg = cg->parent;
	return cg->misc;
}

struct epcg_misc_cg *epcg_cgroup_misc_get(struct epcg_cgroup *cg)
{
	struct epcg_misc_cg *mcg = NULL;

	epcg_mutex_lock(&cg->tree->lock);
	if (!cg->removed) {
		mcg = epcg__cgroup_misc_effective(cg);
		epcg_misc_cg_get(mcg);
	}
	epcg_mutex_unlock(&cg->tree->lock);
	return mcg;
}

static struct epcg_cgroup *child_find(struct epcg_cgroup *parent,
				      const char *name, size_t len)
{
	struct epcg_cgroup *c;

	epcg_list_for_each_entry(c, &parent->children, sibling)
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

int epcg_cgroup_lookup(struct epcg_cgroup_tree *t, const char *path,
		       struct epcg_cgroup **ret)
{
	struct epcg_cgroup *cg;

	if (!t || !path || !ret)
		return -EINVAL;
	epcg_mutex_lock(&t->lock);
	cg = t->root;
	while (cg && *path) {
		size_t len = strcspn(path, "/");

		if (len)
			cg = child_find(cg, path, len);
		path += len;
		path += strspn(path, "/");
	}
	if (cg)
		cg->refcount++;
	epcg_mutex_unlock(&t->lock);
	*ret = cg;
	return cg ? 0 : -ENOENT;
}

static int path_locked(const struct epcg_cgroup *cg, char *buf, size_t size)
{
	int len;

	if (!cg->parent) {
		if (size)
			snprintf(buf, size, "/");
		return 1;
	}
	len = cg->parent->parent ? path_locked(cg->parent, buf, size) : 0;
	if ((size_t)len < size)
		snprintf(buf + len, size - (size_t)len, "/%s", cg->name);
	return len + 1 + (int)strlen(cg->name);
}

int epcg_cgroup_path(struct epcg_cgroup *cg, char *buf, size_t size)
{
	int r = -ENODEV;

	epcg_mutex_lock(&cg->tree->lock);
	if (!cg->removed)
		r = path_locked(cg, buf, size);
	epcg_mutex_unlock(&cg->tree->lock);
	return r;
}

static bool name_valid(const char *name, size_t len)
{
	if (len == 0 || len > EPCG_CGROUP_NAME_MAX)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return !memchr(name, '/', len) && !memchr(name, '\n', len);
}

int epcg_cgroup_mkdir(struct epcg_cgroup *parent, const char *name,
		      const struct epcg_cgroup_cred *cred,
		      struct epcg_cgroup **ret)
{
	struct epcg_cgroup_tree *t;
	struct epcg_cgroup *cg;
	size_t len;
	int err;

	if (!parent || !name || !cred)
		return -EINVAL;
	t = parent->tree;
	len = strnlen(name, EPCG_CGROUP_NAME_MAX + 1);
	epcg_mutex_lock(&t->lock);
	err = -ENODEV;
	if (parent->removed)
		goto out_unlock;
	err = -EACCES;
	if (!epcg__cgroup_may_write(parent, cred))
		goto out_unlock;
	err = -EINVAL;
	if (!name_valid(name, len))
		goto out_unlock;
	err = -EEXIST; /* a child or an interface file has the name */
	if (child_find(parent, name, len) || epcg_cgroup_file_lookup(name) >= 0)
		goto out_unlock;
	err = -ENOMEM;
	cg = cg_alloc(t, parent, name, len, cred);
	if (!cg)
		goto out_unlock;
	if (parent->subtree_misc) {
		err = epcg_misc_cg_create(parent->misc, cg->name, &cg->misc);
		if (err)
			goto err_free;
	}
	parent->refcount++;
	epcg_list_add_tail(&cg->sibling, &parent->children);
	if (ret) {
		cg->refcount++;
		*ret = cg;
	}
	err = 0;
	goto out_unlock;

err_free:
	free(cg);
out_unlock:
	epcg_mutex_unlock(&t->lock);
	return err;
}

/* Unlink a childless, process-free cgroup and drop the tree's reference. */
static void cg_unlink(struct epcg_cgroup *cg)
{
	cg->removed = true;
	epcg_list_del_init(&cg->sibling);
	if (cg->misc) {
		/* Its misc children are gone (no children here): cannot fail. */
		EPCG_WARN_ONCE(epcg_misc_cg_remove(cg->misc),
			       "misc state of a removed cgroup would not go");
		cg->misc = NULL;
	}
	put_locked(cg);
}

int epcg_cgroup_rmdir(struct epcg_cgroup *cg,
		      const struct epcg_cgroup_cred *cred)
{
	struct epcg_cgroup_tree *t = cg->tree;
	int err = 0;

	epcg_mutex_lock(&t->lock);
	if (!cg->parent)
		err = -EPERM;
	else if (cg->removed)
		err = -ENODEV;
	else if (!epcg__cgroup_may_write(cg->parent, cred))
		err = -EACCES;
	else if (!epcg_list_empty(&cg->children) || cg->nr_procs)
		err = -EBUSY;
	else
		cg_unlink(cg);
	epcg_mutex_unlock(&t->lock);
	return err;
}

/* Pre-order successor of @pos in @root's subtree (live cgroups only). */
static struct epcg_cgroup *next_pre(struct epcg_cgroup *pos,
				    struct epcg_cgroup *root)
{
	if (!epcg_list_empty(&pos->children))
		return epcg_list_first_entry(&pos->children, struct epcg_cgroup,
					     sibling);
	for (; pos != root; pos = pos->parent)
		if (pos->sibling.next != &pos->parent->children)
			return epcg_list_entry(pos->sibling.next,
					       struct epcg_cgroup, sibling);
	return NULL;
}

int epcg_cgroup_for_each_entry(struct epcg_cgroup *cg,
			       int (*fn)(const char *name,
					 enum epcg_cgroup_file file, void *arg),
			       void *arg)
{
	struct epcg_cgroup_tree *t = cg->tree;
	struct epcg_cgroup *c;
	int r = -ENODEV;

	epcg_mutex_lock(&t->lock);
	if (cg->removed)
		goto out_unlock;
	r = 0;
	for (int f = 0; f < EPCG_CGROUP_FILE_NR && !r; f++)
		if (epcg__cgroup_file_exists(cg, f))
			r = fn(epcg_cgroup_file_name(f), f, arg);
	epcg_list_for_each_entry(c, &cg->children, sibling)
		if (!r)
			r = fn(c->name, EPCG_CGROUP_FILE_NR, arg);
out_unlock:
	epcg_mutex_unlock(&t->lock);
	return r;
}

/* ---- processes and their tasks ----------------------------------------- */

static struct epcg_list *proc_bucket(struct epcg_cgroup_tree *t, pid_t pid)
{
	return &t->procs[(unsigned)pid % EPCG__PROC_HASH_SIZE];
}

static struct epcg__proc *proc_find(struct epcg_cgroup_tree *t, pid_t pid)
{
	struct epcg__proc *p;

	epcg_list_for_each_entry(p, proc_bucket(t, pid), in_hash)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* Re-attach @p's tasks to the misc cgroup its cgroup charges now. */
static void proc_rebind(struct epcg__proc *p)
{
	struct epcg_misc_cg *mcg;

	if (!p->nr_tasks)
		return;
	mcg = epcg__cgroup_misc_effective(p->cg);
	for (unsigned i = 0; i < p->nr_tasks; i++)
		epcg_misc_task_attach(p->tasks[i], mcg);
}

/* Count @delta processes in @cg and its ancestors, notify 0 <-> 1. */
static void populated_add(struct epcg_cgroup *cg, long delta)
{
	for (; cg; cg = cg->parent) {
		unsigned long old = cg->nr_populated;

		cg->nr_populated += (unsigned long)delta;
		if (cg->parent && !old != !cg->nr_populated)
			epcg__cgroup_notify(cg, EPCG_CGROUP_FILE_EVENTS);
	}
}

static void proc_link(struct epcg__proc *p, struct epcg_cgroup *cg)
{
	p->cg = cg;
	epcg_list_add_tail(&p->in_cg, &cg->procs);
	cg->nr_procs++;
	cg->refcount++;
	populated_add(cg, 1);
}

static void proc_unlink(struct epcg__proc *p)
{
	struct epcg_cgroup *cg = p->cg;

	epcg_list_del_init(&p->in_cg);
	cg->nr_procs--;
	populated_add(cg, -1);
	p->cg = NULL;
	put_locked(cg);
}

static int proc_new(struct epcg_cgroup_tree *t, pid_t pid,
		    struct epcg_cgroup *cg, struct epcg__proc **ret)
{
	struct epcg__proc *p = epcg_calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->pid = pid;
	epcg_list_add_tail(&p->in_hash, proc_bucket(t, pid));
	proc_link(p, cg);
	if (t->ops->proc_added)
		t->ops->proc_added(pid, t->data);
	*ret = p;
	return 0;
}

static void proc_free(struct epcg__proc *p)
{
	proc_unlink(p);
	epcg_list_del_init(&p->in_hash);
	free(p->tasks);
	free(p);
}

/*
 * The cgroup of @pid (a process id, not a thread id) without recording
 * anything: its registry entry, else that of its nearest registered
 * ancestor process, else the root.
 */
static struct epcg_cgroup *proc_cgroup_peek(struct epcg_cgroup_tree *t,
					    pid_t pid)
{
	for (int i = 0; pid > 0 && i < INHERIT_DEPTH_MAX; i++) {
		struct epcg__proc *p = proc_find(t, pid);

		if (p)
			return p->cg;
		pid = t->ops->pid_parent(pid, t->data);
	}
	return t->root;
}

/* The registry entry of live process @pid, created by inheritance. */
static int proc_get(struct epcg_cgroup_tree *t, pid_t pid,
		    struct epcg__proc **ret)
{
	int tgid = t->ops->pid_lookup(pid, t->data);

	if (tgid < 0)
		return tgid;
	if (tgid == 0)
		return -ESRCH;
	*ret = proc_find(t, tgid);
	if (*ret)
		return 0;
	return proc_new(t, tgid, proc_cgroup_peek(t, tgid), ret);
}

int epcg_cgroup_proc_cgroup(struct epcg_cgroup_tree *t, pid_t pid,
			    struct epcg_cgroup **ret)
{
	struct epcg__proc *p;
	int err;

	epcg_mutex_lock(&t->lock);
	err = proc_get(t, pid, &p);
	if (!err) {
		*ret = p->cg;
		p->cg->refcount++;
	}
	epcg_mutex_unlock(&t->lock);
	return err;
}

int epcg_cgroup_proc_exit(struct epcg_cgroup_tree *t, pid_t pid)
{
	struct epcg__proc *p;
	int err = -ESRCH;

	epcg_mutex_lock(&t->lock);
	p = proc_find(t, pid);
	if (p) {
		proc_free(p);
		err = 0;
	}
	epcg_mutex_unlock(&t->lock);
	return err;
}

int epcg_cgroup_proc_bind_task(struct epcg_cgroup_tree *t, pid_t pid,
			       struct epcg_task *task)
{
	struct epcg__proc *p;
	int err;

	epcg_mutex_lock(&t->lock);
	err = proc_get(t, pid, &p);
	if (err)
		goto out_unlock;
	for (unsigned i = 0; i < p->nr_tasks; i++)
		if (p->tasks[i] == task) {
			err = -EEXIST;
			goto out_unlock;
		}
	if (p->nr_tasks == p->tasks_cap) {
		unsigned cap = p->tasks_cap ? 2 * p->tasks_cap : 4;
		struct epcg_task **n = epcg_realloc(p->tasks, cap * sizeof(*n));

		err = -ENOMEM;
		if (!n)
			goto out_unlock;
		p->tasks = n;
		p->tasks_cap = cap;
	}
	p->tasks[p->nr_tasks++] = task;
	epcg_misc_task_attach(task, epcg__cgroup_misc_effective(p->cg));
	err = 0;
out_unlock:
	epcg_mutex_unlock(&t->lock);
	return err;
}

void epcg_cgroup_proc_unbind_task(struct epcg_cgroup_tree *t, pid_t pid,
				  struct epcg_task *task)
{
	struct epcg__proc *p;

	epcg_mutex_lock(&t->lock);
	p = proc_find(t, pid);
	for (unsigned i = 0; p && i < p->nr_tasks; i++) {
		if (p->tasks[i] != task)
			continue;
		p->tasks[i] = p->tasks[--p->nr_tasks];
		break;
	}
	epcg_mutex_unlock(&t->lock);
}

static struct epcg_cgroup *common_ancestor(struct epcg_cgroup *a,
					   struct epcg_cgroup *b)
{
	for (struct epcg_cgroup *x = a; x; x = x->parent)
		for (struct epcg_cgroup *y = b; y; y = y->parent)
			if (x == y)
				return x;
	return NULL;
}

int epcg__cgroup_procs_write(struct epcg_cgroup *dst, pid_t pid,
			     const struct epcg_cgroup_cred *cred)
{
	struct epcg_cgroup_tree *t = dst->tree;
	struct epcg_cgroup *src;
	struct epcg__proc *p;
	int tgid;

	if (pid == 0)
		pid = cred->pid;
	tgid = t->ops->pid_lookup(pid, t->data);
	if (tgid < 0)
		return tgid;
	if (tgid == 0)
		return -ESRCH;
	p = proc_find(t, tgid);
	src = p ? p->cg : proc_cgroup_peek(t, tgid);
	/* As the kernel: the writer may write the common ancestor's procs. */
	if (!epcg__cgroup_may_write_file(common_ancestor(src, dst),
					 EPCG_CGROUP_FILE_PROCS, cred))
		return -EACCES;
	/* No internal processes: a non-root cgroup hands misc to its children. */
	if (dst->parent && dst->subtree_misc)
		return -EBUSY;
	if (!p)
		return proc_new(t, tgid, dst, &p);
	if (src == dst)
		return 0;
	/* Count in first, so that common ancestors never look unpopulated. */
	populated_add(dst, 1);
	epcg_list_del_init(&p->in_cg);
	src->nr_procs--;
	populated_add(src, -1);
	epcg_list_add_tail(&p->in_cg, &dst->procs);
	dst->nr_procs++;
	dst->refcount++;
	p->cg = dst;
	put_locked(src);
	proc_rebind(p);
	return 0;
}

/* ---- cgroup.subtree_control ---------------------------------------------- */

/* Re-attach the tasks of every process in @cg's subtree. */
static void subtree_rebind(struct epcg_cgroup *cg)
{
	for (struct epcg_cgroup *c = cg; c; c = next_pre(c, cg)) {
		struct epcg__proc *p;

		epcg_list_for_each_entry(p, &c->procs, in_cg)
			proc_rebind(p);
	}
}

static void children_misc_remove(struct epcg_cgroup *cg)
{
	struct epcg_cgroup *c;

	epcg_list_for_each_entry(c, &cg->children, sibling) {
		if (!c->misc)
			continue;
		EPCG_WARN_ONCE(epcg_misc_cg_remove(c->misc),
			       "misc state of a child would not go");
		c->misc = NULL;
	}
}

int epcg__cgroup_set_subtree_misc(struct epcg_cgroup *cg, bool enable,
				  const struct epcg_cgroup_cred *cred)
{
	struct epcg_cgroup *c;
	int err;

	if (cg->subtree_misc == enable)
		return 0;
	if (!enable) {
		epcg_list_for_each_entry(c, &cg->children, sibling)
			if (c->subtree_misc)
				return -EBUSY;
		children_misc_remove(cg);
		cg->subtree_misc = false;
		subtree_rebind(cg);
		return 0;
	}
	if (cg->parent && cg->nr_procs)
		return -EBUSY;
	epcg_list_for_each_entry(c, &cg->children, sibling) {
		err = epcg_misc_cg_create(cg->misc, c->name, &c->misc);
		if (err) {
			children_misc_remove(cg);
			return err;
		}
	}
	/* The children's misc.* files appear now, owned by the writer. */
	epcg_list_for_each_entry(c, &cg->children, sibling)
		for (unsigned i = EPCG_CGROUP_FILE_MISC; i < EPCG_CGROUP_FILE_NR;
		     i++)
			c->file_owner[i] = (struct epcg__owner){ cred->uid,
								 cred->gid };
	cg->subtree_misc = true;
	subtree_rebind(cg);
	return 0;
}

/* ---- tree ---------------------------------------------------------------- */

static void misc_notify(struct epcg_misc_cg *mcg, enum epcg_misc_file file,
			void *data)
{
	struct epcg_cgroup_tree *t = data;

	if (t->ops->notify)
		t->ops->notify(mcg, EPCG_CGROUP_FILE_MISC + file, t->data);
}

int epcg_cgroup_tree_create(struct epcg_misc *m,
			    const struct epcg_cgroup_ops *ops, void *data,
			    const struct epcg_cgroup_cred *owner,
			    struct epcg_cgroup_tree **ret)
{
	struct epcg_cgroup_tree *t;

	if (!m || !ops || !ops->pid_lookup || !ops->pid_parent || !owner ||
	    !ret)
		return -EINVAL;
	t = epcg_calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->root = cg_alloc(t, NULL, "", 0, owner);
	if (!t->root) {
		free(t);
		return -ENOMEM;
	}
	t->root->misc = epcg_misc_root(m);
	t->misc = m;
	t->ops = ops;
	t->data = data;
	for (size_t i = 0; i < EPCG__PROC_HASH_SIZE; i++)
		epcg_list_init(&t->procs[i]);
	epcg_mutex_init(&t->lock);
	epcg_misc_set_notify(m, misc_notify, t);
	*ret = t;
	return 0;
}

/* Post-order: the last descendant of @cg's subtree in pre-order's reverse. */
static struct epcg_cgroup *deepest_last(struct epcg_cgroup *cg)
{
	while (!epcg_list_empty(&cg->children))
		cg = epcg_list_entry(cg->children.prev, struct epcg_cgroup,
				     sibling);
	return cg;
}

void epcg_cgroup_tree_destroy(struct epcg_cgroup_tree *t)
{
	struct epcg_cgroup *cg;

	if (!t)
		return;
	epcg_misc_set_notify(t->misc, NULL, NULL);
	epcg_mutex_lock(&t->lock);
	for (size_t i = 0; i < EPCG__PROC_HASH_SIZE; i++)
		while (!epcg_list_empty(&t->procs[i]))
			proc_free(epcg_list_first_entry(
				&t->procs[i], struct epcg__proc, in_hash));
	while ((cg = deepest_last(t->root)) != t->root)
		cg_unlink(cg);
	epcg_mutex_unlock(&t->lock);
	EPCG_WARN_ONCE(t->root->refcount != 1,
		       "cgroup tree destroyed with references held");
	epcg_mutex_finish(&t->lock);
	free(t->root);
	free(t);
}

struct epcg_misc *epcg_cgroup_tree_misc(const struct epcg_cgroup_tree *t)
{
	return t->misc;
}
