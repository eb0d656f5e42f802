/* SPDX-License-Identifier: MIT */
/*
 * The cgroup v2 core tree: named cgroups, the core interface files
 * (cgroup.controllers, cgroup.subtree_control, cgroup.procs, cgroup.events,
 * cgroup.type), the misc.* files routed to the misc controller, and a
 * registry of which process belongs to which cgroup.
 *
 * A cgroup here is a directory of the tree; its misc state (struct
 * epcg_misc_cg, the kernel's misc css) exists only while its parent has
 * "misc" in cgroup.subtree_control (SPEC T2).  Enabling misc there creates
 * the children's misc state, disabling removes it; a removed misc cgroup
 * that still holds charges stays "dying" in the misc controller until the
 * last one is uncharged, which is also what rmdir does (T4).
 *
 * Every rule of SPEC T1 to T5 is a library function over buffers, so it is
 * tested without a file system; the FUSE front end (fs/) only translates.
 * The outside world (does a pid exist, who is its parent, a file changed)
 * reaches the tree through struct epcg_cgroup_ops, which tests fake.
 *
 * Processes: a process written into a cgroup.procs file belongs to that
 * cgroup.  A process never written anywhere belongs to the cgroup of its
 * nearest ancestor process that was (fork inheritance), else to the root;
 * it is recorded there the first time it is looked up, as if it had been
 * placed at fork.  A process's misc cgroup, the one its tasks charge, is
 * the misc state of the nearest ancestor of its cgroup that has one (T5).
 */
#ifndef EPCG_CGROUP_H
#define EPCG_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

struct epcg_misc;
struct epcg_misc_cg;
struct epcg_task;

/* The interface files of a cgroup directory, core files first. */
enum epcg_cgroup_file {
	EPCG_CGROUP_FILE_CONTROLLERS, /* all, 0444 */
	EPCG_CGROUP_FILE_EVENTS, /* non-root, 0444 */
	EPCG_CGROUP_FILE_PROCS, /* all, 0644 */
	EPCG_CGROUP_FILE_SUBTREE_CONTROL, /* all, 0644 */
	EPCG_CGROUP_FILE_TYPE, /* non-root, 0644 */
	/* misc.*: EPCG_CGROUP_FILE_MISC + enum epcg_misc_file */
	EPCG_CGROUP_FILE_MISC_CAPACITY,
	EPCG_CGROUP_FILE_MISC_CURRENT,
	EPCG_CGROUP_FILE_MISC_PEAK,
	EPCG_CGROUP_FILE_MISC_MAX,
	EPCG_CGROUP_FILE_MISC_EVENTS,
	EPCG_CGROUP_FILE_MISC_EVENTS_LOCAL,
	EPCG_CGROUP_FILE_NR
};

#define EPCG_CGROUP_FILE_MISC EPCG_CGROUP_FILE_MISC_CAPACITY

/* Bytes one write(2) to any interface file may carry; more is E2BIG. */
#define EPCG_CGROUP_WRITE_MAX 4096

/* Longest cgroup name in bytes (as NAME_MAX). */
#define EPCG_CGROUP_NAME_MAX 255

struct epcg_cgroup_tree; /* one hierarchy: cgroups, processes, lock */
struct epcg_cgroup; /* one cgroup (a directory) */

/**
 * struct epcg_cgroup_cred - who asks: the writer of a file, the caller of
 * mkdir.  The FUSE front end fills it from the request's context.
 * @uid: user id; 0 may write every writable file.
 * @gid: group id.
 * @pid: process id, what "0" means in a cgroup.procs write.
 */
struct epcg_cgroup_cred {
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

/**
 * struct epcg_cgroup_ops - the world outside the tree.
 * @pid_lookup: the process that @pid names: @pid itself, or its thread
 *	group leader if @pid is a thread id.  Return: that pid (> 0);
 *	-ESRCH if no such live process; -EINVAL for a kernel thread.
 * @pid_parent: the parent process of @pid.  Return: its pid (> 0), 0 if
 *	it has none, -ESRCH if @pid does not exist.
 * @proc_added: a process entered the registry; the caller should report
 *	its exit with epcg_cgroup_proc_exit().  May be NULL.
 * @notify: the content of @file changed in a way pollers wait for
 *	(cgroup.events, misc.events, misc.events.local).  @key is
 *	epcg_cgroup_file_poll_key() of the file.  May be NULL.
 *
 * @pid_lookup and @pid_parent are required.  All four are called with the
 * tree lock held (@notify also from charge paths that hold no lock of the
 * tree): they must not call back into the tree and must not block long.
 */
struct epcg_cgroup_ops {
	int (*pid_lookup)(pid_t pid, void *data);
	int (*pid_parent)(pid_t pid, void *data);
	void (*proc_added)(pid_t pid, void *data);
	void (*notify)(const void *key, enum epcg_cgroup_file file, void *data);
};

/* ---- tree ------------------------------------------------------------ */

/**
 * epcg_cgroup_tree_create() - a tree holding only the root cgroup.
 * @m: the misc controller it exposes; its root is the root's misc state.
 *	The tree installs @m's events-changed callback (epcg_misc_set_notify).
 * @ops: the outside world (static storage).
 * @data: passed to @ops.
 * @owner: owner of the root cgroup and its files.
 * @ret: the new tree.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument or missing ops; -ENOMEM.
 */
int epcg_cgroup_tree_create(struct epcg_misc *m,
			    const struct epcg_cgroup_ops *ops, void *data,
			    const struct epcg_cgroup_cred *owner,
			    struct epcg_cgroup_tree **ret);

/**
 * epcg_cgroup_tree_destroy() - remove every cgroup and free the tree.
 * @t: the tree, may be NULL.
 *
 * Cgroups are removed bottom-up (their misc state becomes dying if it still
 * holds charges); the misc controller's notify callback is cleared.
 *
 * Context: no other thread uses @t; every reference taken with
 * epcg_cgroup_get()/lookup has been put.
 */
void epcg_cgroup_tree_destroy(struct epcg_cgroup_tree *t);

/** epcg_cgroup_tree_misc() - the misc controller of @t. */
struct epcg_misc *epcg_cgroup_tree_misc(const struct epcg_cgroup_tree *t);

/* ---- cgroups --------------------------------------------------------- */

/**
 * epcg_cgroup_lookup() - the cgroup at @path.
 * @t: the tree.
 * @path: "/" or "" for the root, "/a/b" or "a/b" below; repeated and
 *	trailing slashes are ignored.
 * @ret: the cgroup, with a reference the caller puts.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -ENOENT if there is no such cgroup; -EINVAL for a NULL
 * argument.
 */
int epcg_cgroup_lookup(struct epcg_cgroup_tree *t, const char *path,
		       struct epcg_cgroup **ret);

/**
 * epcg_cgroup_get() / epcg_cgroup_put() - keep a cgroup's memory alive.
 *
 * A reference does not keep the cgroup in the tree: after rmdir, file
 * operations on it fail with -ENODEV.  put accepts NULL.
 *
 * Context: any thread; put takes the tree lock.
 */
void epcg_cgroup_get(struct epcg_cgroup *cg);
void epcg_cgroup_put(struct epcg_cgroup *cg);

/**
 * epcg_cgroup_mkdir() - create the child @name of @parent (T4).
 * @parent: the parent cgroup.
 * @name: 1 to EPCG_CGROUP_NAME_MAX bytes, no '/' or newline, not "." or
 *	"..".
 * @cred: the creator; it owns the new cgroup and its files.  It needs to
 *	own @parent (or be uid 0).
 * @ret: if not NULL, the new cgroup with a reference the caller puts.
 *
 * The child gets misc state (defaults, M2) if @parent has misc in its
 * cgroup.subtree_control.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -EEXIST if a child or an interface file (cgroup.procs,
 * misc.max, ...) has the name; -EINVAL for a bad name;
 * -EACCES if @cred may not write @parent; -ENODEV if @parent was removed;
 * -ENOMEM; an error of epcg_misc_cg_create().
 */
int epcg_cgroup_mkdir(struct epcg_cgroup *parent, const char *name,
		      const struct epcg_cgroup_cred *cred,
		      struct epcg_cgroup **ret);

/**
 * epcg_cgroup_rmdir() - remove @cg (T4).
 * @cg: the cgroup.
 * @cred: the caller; it needs to own @cg's parent (or be uid 0).
 *
 * Outstanding misc charges do not block removal: the misc state becomes
 * dying and stays counted in its ancestors until its last charge goes.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -EBUSY if @cg has children or processes; -EPERM for the
 * root; -EACCES if @cred may not write the parent; -ENODEV if already
 * removed.
 */
int epcg_cgroup_rmdir(struct epcg_cgroup *cg,
		      const struct epcg_cgroup_cred *cred);

/** epcg_cgroup_is_root() - whether @cg is the root. */
bool epcg_cgroup_is_root(const struct epcg_cgroup *cg);

/**
 * epcg_cgroup_owner() - the owner of @cg's directory.
 * Context: any thread; takes the tree lock.
 */
void epcg_cgroup_owner(struct epcg_cgroup *cg, uid_t *uid, gid_t *gid);

/**
 * epcg_cgroup_file_owner() - the owner of @file of @cg.
 *
 * As in the kernel's cgroup file system, the directory and each file have
 * an owner of their own: the creator of the cgroup (for misc.*, whoever
 * wrote "+misc" into the parent's cgroup.subtree_control), until chown.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -EINVAL for an invalid @file.
 */
int epcg_cgroup_file_owner(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			   uid_t *uid, gid_t *gid);

/**
 * epcg_cgroup_chown() - give @cg's directory to @uid/@gid: the new owner
 * may create and remove cgroups below it.  Its files keep their owners.
 * Delegating a cgroup, as cgroup v2 defines it, is this plus
 * epcg_cgroup_file_chown() of cgroup.procs and cgroup.subtree_control;
 * the cgroup's own misc.max stays with its owner (the delegator), so a
 * delegatee cannot raise the limit it was given.
 * @cred: the caller; only uid 0 may change owners.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -EPERM if @cred is not uid 0; -ENODEV if @cg was removed.
 */
int epcg_cgroup_chown(struct epcg_cgroup *cg, uid_t uid, gid_t gid,
		      const struct epcg_cgroup_cred *cred);

/**
 * epcg_cgroup_file_chown() - give @file of @cg to @uid/@gid; its owner
 * may then write it (if its mode allows writing at all).
 * @cred: the caller; only uid 0 may change owners.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -EPERM if @cred is not uid 0; -ENODEV if @cg was removed;
 * -ENOENT if @cg does not have @file now; -EINVAL for an invalid @file.
 */
int epcg_cgroup_file_chown(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			   uid_t uid, gid_t gid,
			   const struct epcg_cgroup_cred *cred);

/**
 * epcg_cgroup_path() - "/" for the root, "/a/b" below.
 * Context: any thread; takes the tree lock.
 * Return: the length needed (like snprintf); -ENODEV if removed.
 */
int epcg_cgroup_path(struct epcg_cgroup *cg, char *buf, size_t size);

/**
 * epcg_cgroup_misc_get() - the misc cgroup that charges made for @cg land
 * in: @cg's own misc state, or that of its nearest ancestor with one (T5).
 *
 * Context: any thread; takes the tree lock.
 * Return: a reference the caller drops with epcg_misc_cg_put(); NULL if
 * @cg was removed.
 */
struct epcg_misc_cg *epcg_cgroup_misc_get(struct epcg_cgroup *cg);

/**
 * epcg_cgroup_for_each_entry() - list @cg's directory: each existing file,
 * then each child, in creation order.
 * @fn: called with the tree lock held, must not call back into the tree;
 *	@file is the file's enum value, or EPCG_CGROUP_FILE_NR for a child
 *	directory.  A non-zero return stops the walk and is returned.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0, @fn's stop value, or -ENODEV if @cg was removed.
 */
int epcg_cgroup_for_each_entry(struct epcg_cgroup *cg,
			       int (*fn)(const char *name,
					 enum epcg_cgroup_file file, void *arg),
			       void *arg);

/* ---- interface files ---------------------------------------------------- */

/** epcg_cgroup_file_name() - "cgroup.procs", ...; NULL if invalid. */
const char *epcg_cgroup_file_name(enum epcg_cgroup_file file);

/** epcg_cgroup_file_lookup() - the file named @name, or -ENOENT. */
int epcg_cgroup_file_lookup(const char *name);

/** epcg_cgroup_file_mode() - 0444 or 0644; 0 if invalid. */
unsigned epcg_cgroup_file_mode(enum epcg_cgroup_file file);

/**
 * epcg_cgroup_file_exists() - whether @cg has @file now: root/non-root
 * (T1, M3) and, for misc.*, whether the parent has misc enabled (T2).
 *
 * Context: any thread; takes the tree lock.
 */
bool epcg_cgroup_file_exists(struct epcg_cgroup *cg,
			     enum epcg_cgroup_file file);

/* How a file is opened: the access modes of open(2). */
enum epcg_cgroup_access {
	EPCG_CGROUP_READ,
	EPCG_CGROUP_WRITE,
	EPCG_CGROUP_READ_WRITE,
	EPCG_CGROUP_ACCESS_NR
};

/**
 * epcg_cgroup_file_open() - may @cred open @file of @cg for @access?
 *
 * Every file is world-readable.  Writing needs a writable file (a 0444
 * file is -EACCES even for uid 0, as in kernfs) and @cred to own the file
 * (epcg_cgroup_file_owner(), not the directory) or be uid 0.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -ENOENT if @cg does not have @file; -EACCES; -ENODEV if @cg
 * was removed; -EINVAL for an invalid @file or @access.
 */
int epcg_cgroup_file_open(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			  enum epcg_cgroup_access access,
			  const struct epcg_cgroup_cred *cred);

/**
 * epcg_cgroup_file_show() - the whole content of @file of @cg, generated
 * now (T1, M4).
 * @ret_buf: a NUL-terminated malloc()ed buffer the caller frees.
 * @ret_len: its length without the NUL.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -ENOENT if @cg does not have @file; -ENODEV if @cg was
 * removed; -ENOMEM.
 */
int epcg_cgroup_file_show(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			  char **ret_buf, size_t *ret_len);

/**
 * epcg_cgroup_file_write() - apply one write(2) to @file of @cg.
 * @buf: the bytes written, not NUL-terminated.
 * @len: their number; 0 succeeds and does nothing.
 * @cred: the writer (its pid is what "0" means in cgroup.procs).
 *
 * cgroup.subtree_control (T2), cgroup.procs (T3), misc.max (M5) and
 * cgroup.type ("threaded" is not supported) are writable.  Permission to
 * write the file itself is epcg_cgroup_file_open()'s check; a cgroup.procs
 * write also needs @cred to own the common ancestor of the process's old
 * and new cgroup.  A failed write changes nothing.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -E2BIG if @len > EPCG_CGROUP_WRITE_MAX; -ENOENT if @cg does
 * not have @file, or +misc is not in its cgroup.controllers; -ENODEV if @cg
 * was removed; -EINVAL for a malformed write or a read-only file; -EBUSY
 * for -misc while a child has misc enabled, +misc in a non-root cgroup with
 * processes, or a process moved into a non-root cgroup with misc enabled;
 * -ESRCH for an unknown pid; -EACCES if @cred does not own the common
 * ancestor; -EOPNOTSUPP for "threaded"; -ERANGE; -ENOMEM.
 */
int epcg_cgroup_file_write(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			   const char *buf, size_t len,
			   const struct epcg_cgroup_cred *cred);

/**
 * epcg_cgroup_file_poll_key() - the identity that @ops->notify passes for
 * @file of @cg (cgroup.events: the cgroup; misc.*: its misc state).
 *
 * A front end compares keys to find the open files to wake; a key may be
 * reused by a later object, which only causes a spurious wake-up.
 *
 * Context: any thread; takes the tree lock.
 * Return: the key, or NULL if @cg (or its misc state) is gone.
 */
const void *epcg_cgroup_file_poll_key(struct epcg_cgroup *cg,
				      enum epcg_cgroup_file file);

/* ---- processes ----------------------------------------------------------- */

/**
 * epcg_cgroup_proc_cgroup() - the cgroup process @pid belongs to (T5).
 * @ret: the cgroup, with a reference the caller puts.
 *
 * A process not yet in the registry is placed by fork inheritance and
 * recorded there (@ops->proc_added runs).
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -ESRCH or -EINVAL from @ops->pid_lookup; -ENOMEM.
 */
int epcg_cgroup_proc_cgroup(struct epcg_cgroup_tree *t, pid_t pid,
			    struct epcg_cgroup **ret);

/**
 * epcg_cgroup_proc_exit() - report that process @pid exited.
 *
 * It leaves its cgroup (cgroup.events may change and notify); its bound
 * tasks keep the misc cgroup they charge now.
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; -ESRCH if @pid was not in the registry.
 */
int epcg_cgroup_proc_exit(struct epcg_cgroup_tree *t, pid_t pid);

/**
 * epcg_cgroup_proc_bind_task() - let @task charge for process @pid: attach
 * it to the process's misc cgroup now and whenever the process moves or
 * misc is enabled or disabled above it (epcg_misc_task_attach()).
 *
 * Context: any thread; takes the tree lock.
 * Return: 0; the errors of epcg_cgroup_proc_cgroup(); -EEXIST if @task is
 * already bound.
 */
int epcg_cgroup_proc_bind_task(struct epcg_cgroup_tree *t, pid_t pid,
			       struct epcg_task *task);

/**
 * epcg_cgroup_proc_unbind_task() - stop following process @pid for @task;
 * @task keeps the misc cgroup it charges now.  Unknown pairs are ignored.
 *
 * Context: any thread; takes the tree lock.
 */
void epcg_cgroup_proc_unbind_task(struct epcg_cgroup_tree *t, pid_t pid,
				  struct epcg_task *task);

/*
 * Live callbacks for struct epcg_cgroup_ops, reading /proc: a zombie does
 * not count as a live process; @data is unused.
 */
int epcg_cgroup_proc_lookup_live(pid_t pid, void *data);
int epcg_cgroup_proc_parent_live(pid_t pid, void *data);

#endif
