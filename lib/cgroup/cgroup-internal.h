/* SPDX-License-Identifier: MIT */
/*
 * The cgroup tree's private structures, shared by cgroup.c (tree, mkdir,
 * rmdir, process registry) and cgroup-file.c (interface files), and
 * visible to tests.
 *
 * Synchronization: one mutex per tree, t->lock, guards everything below
 * except what is marked immutable.  Nothing in this module is hot (file
 * operations, mkdir, process moves), so one lock keeps every multi-step
 * rule (all-or-nothing subtree_control writes, populated transitions)
 * trivially atomic.
 *
 *	field				guarded by
 *	-----------------------------	---------------------------------
 *	tree, parent, name		immutable after mkdir
 *	dir_owner, file_owner		t->lock (chown)
 *	children, sibling		t->lock
 *	procs, nr_procs, nr_populated	t->lock
 *	misc, subtree_misc, removed	t->lock
 *	refcount			t->lock
 *	proc hash, proc fields		t->lock
 *
 * Lock order: t->lock, then the misc controller's locks (misc cgroups are
 * created and removed under t->lock), then a task's cg_lock.  The ops
 * callbacks run under t->lock and must take no lock that is held while
 * calling into the tree.
 */
#ifndef EPCG_CGROUP_INTERNAL_H
#define EPCG_CGROUP_INTERNAL_H

#include <epcg/cgroup.h>
#include <epcg/misc.h>

#include "util/list.h"
#include "util/lock.h"
#include "util/macros.h"

#define EPCG__PROC_HASH_SIZE 256

struct epcg_cgroup {
	struct epcg_cgroup_tree *tree; /* immutable */
	struct epcg_cgroup *parent; /* immutable; holds a reference */
	struct epcg_list children; /* live children, creation order */
	struct epcg_list sibling; /* in parent->children while live */
	struct epcg_list procs; /* struct epcg__proc.in_cg */
	unsigned long nr_procs; /* length of procs */
	unsigned long nr_populated; /* processes here and below */
	/*
	 * The misc state, owning its online reference: set while the parent
	 * has misc in subtree_control (always for the root, which does not
	 * own it: it is the controller's root).
	 */
	struct epcg_misc_cg *misc;
	bool subtree_misc; /* misc in cgroup.subtree_control */
	bool removed; /* rmdir done */
	long refcount; /* the tree holds one while live */
	/*
	 * Owners, as in kernfs: the directory and each file has its own,
	 * set to the creator (for misc.*: the writer of the parent's "+misc")
	 * and changed one at a time by chown.  Delegation is chown of the
	 * directory plus cgroup.procs and cgroup.subtree_control; the
	 * cgroup's own limits stay with whoever owns those files.
	 */
	struct epcg__owner {
		uid_t uid;
		gid_t gid;
	} dir_owner, file_owner[EPCG_CGROUP_FILE_NR];
	char name[]; /* immutable; "" for the root */
};

/* One process in the registry. */
struct epcg__proc {
	pid_t pid;
	struct epcg_cgroup *cg; /* the cgroup it belongs to */
	struct epcg_list in_cg; /* in cg->procs */
	struct epcg_list in_hash; /* in t->procs[hash(pid)] */
	struct epcg_task **tasks; /* bound tasks */
	unsigned nr_tasks;
	unsigned tasks_cap;
};

struct epcg_cgroup_tree {
	struct epcg_mutex lock;
	struct epcg_misc *misc; /* immutable */
	const struct epcg_cgroup_ops *ops; /* immutable */
	void *data; /* immutable */
	struct epcg_cgroup *root; /* immutable */
	struct epcg_list procs[EPCG__PROC_HASH_SIZE];
};

/* cgroup.c, for cgroup-file.c; all with t->lock held. */
struct epcg_misc_cg *epcg__cgroup_misc_effective(struct epcg_cgroup *cg);
void epcg__cgroup_notify(struct epcg_cgroup *cg, enum epcg_cgroup_file file);
int epcg__cgroup_set_subtree_misc(struct epcg_cgroup *cg, bool enable,
				  const struct epcg_cgroup_cred *cred);
int epcg__cgroup_procs_write(struct epcg_cgroup *dst, pid_t pid,
			     const struct epcg_cgroup_cred *cred);
bool epcg__cgroup_may_write(const struct epcg_cgroup *cg,
			    const struct epcg_cgroup_cred *cred);
bool epcg__cgroup_may_write_file(const struct epcg_cgroup *cg,
				 enum epcg_cgroup_file file,
				 const struct epcg_cgroup_cred *cred);

/* cgroup-file.c, for cgroup.c; with t->lock held. */
bool epcg__cgroup_file_exists(const struct epcg_cgroup *cg,
			      enum epcg_cgroup_file file);

#endif
