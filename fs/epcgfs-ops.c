// SPDX-License-Identifier: MIT
/*
 * The FUSE operations: translation only.  Each operation resolves its path
 * to a cgroup (and a file), calls the cgroup tree, and turns the answer
 * into what kernfs would have given (docs/interface.md, SPEC T1 to T4).
 *
 * What kernfs does and FUSE does not do by itself:
 *  - permissions: the mount runs without default_permissions, so the
 *    kernel checks nothing; open() asks the tree, which refuses writers of
 *    0444 files even for root (EACCES);
 *  - one write(2), one request: files are opened direct_io, so a write
 *    reaches us whole and unsplit, and several writes on one descriptor
 *    are each handled;
 *  - reads are never torn: a read at offset 0 generates the whole content
 *    into the open file's snapshot, later offsets are served from it;
 *  - st_size is 0 and nothing is cached (timeouts 0), as for kernfs;
 *  - poll: a change notified by the tree marks the open file and wakes
 *    its poller (POLLPRI|POLLERR, as kernfs_generic_poll reports).
 *
 * One file is ours, not the kernel's: epcg.stat (0444), the paging
 * counters of SPEC X1, beside the misc.* files of every cgroup that has
 * misc state of its own (and the root).  It is served here from the
 * machine's per-cgroup counters; the kernel files are untouched.
 */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/sgx.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <poll.h>
#include <unistd.h>

#include "epcgfs-internal.h"
#include "util/alloc.h"

static struct epcgfs *fs_get(void)
{
	return fuse_get_context()->private_data;
}

static struct epcg_cgroup_cred cred_get(void)
{
	struct fuse_context *ctx = fuse_get_context();

	return (struct epcg_cgroup_cred){ ctx->uid, ctx->gid, ctx->pid };
}

/* epcg.stat is where the cgroup's own misc state is (misc.current). */
static bool stat_exists(struct epcg_cgroup *cg)
{
	return epcg_cgroup_file_exists(cg, EPCG_CGROUP_FILE_MISC_CURRENT);
}

int epcgfs_stat_show(struct epcg_cgroup *cg, char **ret_buf, size_t *ret_len)
{
	struct epcg_sgx_stats st = { 0 };
	struct epcg_misc_cg *mcg = epcg_cgroup_misc_get(cg);
	int n;

	if (!mcg)
		return -ENODEV;
	/* A cgroup made while sgx_epc had no capacity counts nothing. */
	epcg_sgx_cg_stats(mcg, &st);
	epcg_misc_cg_put(mcg);
	n = asprintf(ret_buf,
		     "ewb %" PRIu64 "\neldu %" PRIu64 "\nfaults %" PRIu64
		     "\nreclaim_scans %" PRIu64 "\nenomem %" PRIu64
		     "\nsigbus %" PRIu64 "\npaging_ns %" PRIu64 "\n",
		     st.ewb, st.eldu, st.faults, st.reclaim_scans, st.enomem,
		     st.sigbus, st.paging_ns);
	if (n < 0)
		return -ENOMEM;
	*ret_len = (size_t)n;
	return 0;
}

/*
 * Resolve @path to a cgroup and, if it names a file, the file
 * (EPCG_CGROUP_FILE_NR for a directory, EPCGFS_FILE_STAT for epcg.stat).
 * Return: 0 with a reference on *@ret; -ENOENT.
 */
static int resolve(const char *path, struct epcg_cgroup **ret,
		   enum epcg_cgroup_file *file)
{
	struct epcgfs *fs = fs_get();
	const char *base = strrchr(path, '/');
	char dir[PATH_MAX];
	int f, r;

	*file = EPCG_CGROUP_FILE_NR;
	if (!base || (size_t)(base - path) >= sizeof(dir))
		return -ENOENT;
	f = epcg_cgroup_file_lookup(base + 1);
	if (f < 0 && !strcmp(base + 1, EPCGFS_STAT_NAME))
		f = EPCGFS_FILE_STAT;
	if (f >= 0) {
		memcpy(dir, path, (size_t)(base - path));
		dir[base - path] = '\0';
		r = epcg_cgroup_lookup(fs->tree, dir, ret);
		if (r)
			return r;
		if (f == EPCGFS_FILE_STAT ? !stat_exists(*ret) :
					    !epcg_cgroup_file_exists(*ret, f)) {
			epcg_cgroup_put(*ret);
			return -ENOENT;
		}
		*file = f;
		return 0;
	}
	return epcg_cgroup_lookup(fs->tree, path, ret);
}

/* Split @path into its parent cgroup and last component. */
static int resolve_parent(const char *path, struct epcg_cgroup **ret,
			  const char **name)
{
	const char *base = strrchr(path, '/');
	char dir[PATH_MAX];

	if (!base || (size_t)(base - path) >= sizeof(dir))
		return -ENOENT;
	memcpy(dir, path, (size_t)(base - path));
	dir[base - path] = '\0';
	*name = base + 1;
	return epcg_cgroup_lookup(fs_get()->tree, dir, ret);
}

static void fill_stat(struct stat *st, struct epcg_cgroup *cg,
		      enum epcg_cgroup_file file)
{
	struct epcgfs *fs = fs_get();

	memset(st, 0, sizeof(*st));
	if (file == EPCG_CGROUP_FILE_NR || file == EPCGFS_FILE_STAT)
		epcg_cgroup_owner(cg, &st->st_uid, &st->st_gid);
	else
		epcg_cgroup_file_owner(cg, file, &st->st_uid, &st->st_gid);
	if (file == EPCG_CGROUP_FILE_NR) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | (file == EPCGFS_FILE_STAT ?
						 0444 :
						 epcg_cgroup_file_mode(file));
		st->st_nlink = 1;
	}
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = fs->start;
}

static int op_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	enum epcg_cgroup_file file;
	struct epcg_cgroup *cg;
	int r;

	if (fi && fi->fh) {
		struct epcgfs_open *of = (void *)(uintptr_t)fi->fh;

		fill_stat(st, of->cg, of->file);
		return 0;
	}
	r = resolve(path, &cg, &file);
	if (r)
		return r;
	fill_stat(st, cg, file);
	epcg_cgroup_put(cg);
	return 0;
}

struct readdir_ctx {
	void *buf;
	fuse_fill_dir_t filler;
	bool stat; /* epcg.stat still to list */
};

static int readdir_one(const char *name, enum epcg_cgroup_file file, void *arg)
{
	struct readdir_ctx *ctx = arg;

	/* Our file goes after the kernel's files, before the children. */
	if (ctx->stat && file == EPCG_CGROUP_FILE_NR) {
		ctx->stat = false;
		if (ctx->filler(ctx->buf, EPCGFS_STAT_NAME, NULL, 0, 0))
			return 1;
	}
	return ctx->filler(ctx->buf, name, NULL, 0, 0) ? 1 : 0;
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	enum epcg_cgroup_file file;
	struct epcgfs_open *of;
	struct epcg_cgroup *cg;
	int r;

	r = resolve(path, &cg, &file);
	if (r)
		return r;
	if (file != EPCG_CGROUP_FILE_NR) {
		epcg_cgroup_put(cg);
		return -ENOTDIR;
	}
	of = epcg_calloc(1, sizeof(*of));
	if (!of) {
		epcg_cgroup_put(cg);
		return -ENOMEM;
	}
	of->cg = cg;
	of->file = EPCG_CGROUP_FILE_NR;
	fi->fh = (uintptr_t)of;
	return 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct epcgfs_open *of = (void *)(uintptr_t)fi->fh;

	epcg_cgroup_put(of->cg);
	free(of);
	return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct epcgfs_open *of = (void *)(uintptr_t)fi->fh;
	struct readdir_ctx ctx = { buf, filler, stat_exists(of->cg) };
	int r;

	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	r = epcg_cgroup_for_each_entry(of->cg, readdir_one, &ctx);
	if (!r && ctx.stat)
		filler(buf, EPCGFS_STAT_NAME, NULL, 0, 0);
	return r < 0 ? r : 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	static const enum epcg_cgroup_access acc[] = {
		[O_RDONLY] = EPCG_CGROUP_READ,
		[O_WRONLY] = EPCG_CGROUP_WRITE,
		[O_RDWR] = EPCG_CGROUP_READ_WRITE,
	};
	struct epcg_cgroup_cred cred = cred_get();
	int mode = fi->flags & O_ACCMODE;
	struct epcgfs *fs = fs_get();
	enum epcg_cgroup_file file;
	struct epcgfs_open *of;
	struct epcg_cgroup *cg;
	int r;

	if (mode > O_RDWR)
		return -EINVAL;
	r = resolve(path, &cg, &file);
	if (r)
		return r;
	if (file == EPCG_CGROUP_FILE_NR) {
		r = -EISDIR;
		goto err_put;
	}
	if (file == EPCGFS_FILE_STAT)
		r = mode == O_RDONLY ? 0 : -EACCES; /* 0444, even for root */
	else
		r = epcg_cgroup_file_open(cg, file, acc[mode], &cred);
	if (r)
		goto err_put;
	r = -ENOMEM;
	of = epcg_calloc(1, sizeof(*of));
	if (!of)
		goto err_put;
	of->cg = cg;
	of->file = file;
	pthread_mutex_init(&of->snap_lock, NULL);
	if (file == EPCG_CGROUP_FILE_EVENTS ||
	    file == EPCG_CGROUP_FILE_MISC_EVENTS ||
	    file == EPCG_CGROUP_FILE_MISC_EVENTS_LOCAL)
		of->key = epcg_cgroup_file_poll_key(cg, file);
	pthread_mutex_lock(&fs->poll_lock);
	of->next = fs->opens.next;
	of->prev = &fs->opens;
	fs->opens.next->prev = of;
	fs->opens.next = of;
	pthread_mutex_unlock(&fs->poll_lock);
	fi->fh = (uintptr_t)of;
	fi->direct_io = 1;
	return 0;

err_put:
	epcg_cgroup_put(cg);
	return r;
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	struct epcgfs_open *of = (void *)(uintptr_t)fi->fh;
	struct epcgfs *fs = fs_get();

	pthread_mutex_lock(&fs->poll_lock);
	of->prev->next = of->next;
	of->next->prev = of->prev;
	if (of->ph)
		fuse_pollhandle_destroy(of->ph);
	pthread_mutex_unlock(&fs->poll_lock);
	epcg_cgroup_put(of->cg);
	pthread_mutex_destroy(&of->snap_lock);
	free(of->snap);
	free(of);
	return 0;
}

static int op_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct epcgfs_open *of = (void *)(uintptr_t)fi->fh;
	struct epcgfs *fs = fs_get();
	int r = 0;

	pthread_mutex_lock(&of->snap_lock);
	if (off == 0 || !of->has_snap) {
		char *snap;
		size_t len;

		/* Clear first: a change after this generation must show. */
		pthread_mutex_lock(&fs->poll_lock);
		of->pending = false;
		pthread_mutex_unlock(&fs->poll_lock);
		r = of->file == EPCGFS_FILE_STAT ?
			    epcgfs_stat_show(of->cg, &snap, &len) :
			    epcg_cgroup_file_show(of->cg, of->file, &snap,
						  &len);
		if (!r) {
			free(of->snap);
			of->snap = snap;
			of->snap_len = len;
			of->has_snap = true;
		}
	}
	if (!r) {
		if ((size_t)off >= of->snap_len)
			size = 0;
		else if (size > of->snap_len - (size_t)off)
			size = of->snap_len - (size_t)off;
		memcpy(buf, of->snap + off, size);
		r = (int)size;
	}
	pthread_mutex_unlock(&of->snap_lock);
	return r;
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct epcgfs_open *of = (void *)(uintptr_t)fi->fh;
	struct epcg_cgroup_cred cred = cred_get();
	int r;

	if (size > INT_MAX)
		return -E2BIG;
	if (of->file == EPCGFS_FILE_STAT)
		return -EBADF; /* opened read-only: cannot happen */
	r = epcg_cgroup_file_write(of->cg, of->file, buf, size, &cred);
	return r ? r : (int)size;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	enum epcg_cgroup_file file;
	struct epcg_cgroup *cg;
	int r;

	if (fi && fi->fh)
		return 0; /* O_TRUNC of an open interface file */
	r = resolve(path, &cg, &file);
	if (r)
		return r;
	epcg_cgroup_put(cg);
	return file == EPCG_CGROUP_FILE_NR ? -EISDIR : 0;
}

static int op_mkdir(const char *path, mode_t mode)
{
	struct epcg_cgroup_cred cred = cred_get();
	struct epcg_cgroup *parent;
	const char *name;
	int r;

	r = resolve_parent(path, &parent, &name);
	if (r)
		return r;
	/* Our file's name is taken, as the kernel files' names are. */
	r = strcmp(name, EPCGFS_STAT_NAME) ?
		    epcg_cgroup_mkdir(parent, name, &cred, NULL) :
		    -EEXIST;
	epcg_cgroup_put(parent);
	return r;
}

static int op_rmdir(const char *path)
{
	struct epcg_cgroup_cred cred = cred_get();
	enum epcg_cgroup_file file;
	struct epcg_cgroup *cg;
	int r;

	r = resolve(path, &cg, &file);
	if (r)
		return r;
	r = file == EPCG_CGROUP_FILE_NR ? epcg_cgroup_rmdir(cg, &cred) :
					  -ENOTDIR;
	epcg_cgroup_put(cg);
	return r;
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return -EACCES;
}

static int op_mknod(const char *path, mode_t mode, dev_t dev)
{
	return -EACCES;
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
	return -EPERM;
}

static int op_unlink(const char *path)
{
	return -EPERM;
}

static int op_link(const char *from, const char *to)
{
	return -EPERM;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return -EPERM;
}

static int op_chown(const char *path, uid_t uid, gid_t gid,
		    struct fuse_file_info *fi)
{
	struct epcg_cgroup_cred cred = cred_get();
	enum epcg_cgroup_file file;
	struct epcg_cgroup *cg;
	uid_t ouid;
	gid_t ogid;
	int r;

	r = resolve(path, &cg, &file);
	if (r)
		return r;
	if (file == EPCGFS_FILE_STAT) {
		r = -EPERM; /* ours, read-only, follows the directory */
	} else if (file == EPCG_CGROUP_FILE_NR) {
		epcg_cgroup_owner(cg, &ouid, &ogid);
		r = epcg_cgroup_chown(cg, uid == (uid_t)-1 ? ouid : uid,
				      gid == (gid_t)-1 ? ogid : gid, &cred);
	} else {
		epcg_cgroup_file_owner(cg, file, &ouid, &ogid);
		r = epcg_cgroup_file_chown(cg, file,
					   uid == (uid_t)-1 ? ouid : uid,
					   gid == (gid_t)-1 ? ogid : gid, &cred);
	}
	epcg_cgroup_put(cg);
	return r;
}

static int op_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	return 0; /* touch works, times stay (kernfs keeps them too) */
}

static int op_access(const char *path, int mask)
{
	struct epcg_cgroup_cred cred = cred_get();
	enum epcg_cgroup_file file;
	struct epcg_cgroup *cg;
	uid_t uid;
	gid_t gid;
	int r;

	r = resolve(path, &cg, &file);
	if (r)
		return r;
	if (mask & W_OK) {
		if (file == EPCGFS_FILE_STAT) {
			r = -EACCES;
		} else if (file != EPCG_CGROUP_FILE_NR) {
			r = epcg_cgroup_file_open(cg, file, EPCG_CGROUP_WRITE,
						  &cred);
		} else {
			epcg_cgroup_owner(cg, &uid, &gid);
			r = cred.uid == 0 || cred.uid == uid ? 0 : -EACCES;
		}
	}
	if (!r && (mask & X_OK) && file != EPCG_CGROUP_FILE_NR)
		r = -EACCES;
	epcg_cgroup_put(cg);
	return r;
}

static int op_poll(const char *path, struct fuse_file_info *fi,
		   struct fuse_pollhandle *ph, unsigned *reventsp)
{
	struct epcgfs_open *of = (void *)(uintptr_t)fi->fh;
	struct epcgfs *fs = fs_get();

	*reventsp = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	pthread_mutex_lock(&fs->poll_lock);
	if (of->pending)
		*reventsp |= POLLERR | POLLPRI;
	if (ph) {
		if (of->ph)
			fuse_pollhandle_destroy(of->ph);
		of->ph = ph;
	}
	pthread_mutex_unlock(&fs->poll_lock);
	return 0;
}

void epcgfs_notify(const void *key, enum epcg_cgroup_file file, void *data)
{
	struct epcgfs *fs = data;

	pthread_mutex_lock(&fs->poll_lock);
	for (struct epcgfs_open *of = fs->opens.next; of != &fs->opens;
	     of = of->next) {
		if (!of->key || of->key != key || of->file != file)
			continue;
		of->pending = true;
		if (of->ph) {
			fuse_notify_poll(of->ph);
			fuse_pollhandle_destroy(of->ph);
			of->ph = NULL;
		}
	}
	pthread_mutex_unlock(&fs->poll_lock);
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->nullpath_ok = 1;
	cfg->hard_remove = 1;
	cfg->use_ino = 0;
	return fuse_get_context()->private_data;
}

const struct fuse_operations epcgfs_ops = {
	.init = op_init,
	.getattr = op_getattr,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.open = op_open,
	.release = op_release,
	.read = op_read,
	.write = op_write,
	.truncate = op_truncate,
	.mkdir = op_mkdir,
	.rmdir = op_rmdir,
	.create = op_create,
	.mknod = op_mknod,
	.rename = op_rename,
	.unlink = op_unlink,
	.link = op_link,
	.chmod = op_chmod,
	.chown = op_chown,
	.utimens = op_utimens,
	.access = op_access,
	.poll = op_poll,
};
