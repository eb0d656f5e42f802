// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a sequence of writes, mkdirs and rmdirs on a small cgroup
 * tree (SPEC T1 to T4, M5), from arbitrary bytes.
 *
 * The input is a list of commands, each three bytes and a payload:
 *	op, cgroup, length, then `length` bytes.
 * op selects the action (a write to cgroup.subtree_control, cgroup.procs,
 * cgroup.type, misc.max or any file; mkdir; rmdir; giving a cgroup to the
 * unprivileged uid; a process exit) and the caller (uid 0 or that uid);
 * cgroup indexes the live cgroups.
 * The outside world is a fake: pids 1 to 64 are processes whose parent is
 * pid / 2, pids 65 to 72 threads of pids 1 to 8.
 *
 * After every command the target checks the rules a sequence of valid and
 * invalid writes must never break: a failed write changes nothing (every
 * file of every cgroup reads the same as before); misc.* files exist
 * exactly where the parent enabled misc (T2); a non-root cgroup with misc
 * enabled has no processes (no internal processes, T2/T3); cgroup.procs
 * lists distinct pids in ascending order; cgroup.events says populated
 * exactly when the cgroup or a descendant has a process.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/cgroup.h>
#include <epcg/misc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NR_CG 12
#define WRITER_PID 7
#define UNPRIV_UID 1000

enum op {
	OP_SUBTREE_CONTROL,
	OP_PROCS,
	OP_TYPE,
	OP_MISC_MAX,
	OP_ANY_FILE,
	OP_MKDIR,
	OP_RMDIR,
	OP_CHOWN,
	OP_EXIT,
	OP_NR
};

struct cg {
	struct epcg_cgroup *cg; /* a reference */
	int parent; /* index, -1 for the root */
};

struct state {
	struct epcg_misc *m;
	struct epcg_cgroup_tree *t;
	struct cg cgs[NR_CG];
	unsigned nr;
	unsigned nr_shown; /* cgroups take_shows() saw */
	char *shows[NR_CG][EPCG_CGROUP_FILE_NR];
	size_t lens[NR_CG][EPCG_CGROUP_FILE_NR];
};

static int fake_lookup(pid_t pid, void *data)
{
	if (pid >= 1 && pid <= 64)
		return pid;
	if (pid >= 65 && pid <= 72)
		return pid - 64; /* a thread: its leader */
	return -ESRCH;
}

static int fake_parent(pid_t pid, void *data)
{
	if (pid < 1 || pid > 64)
		return -ESRCH;
	return pid / 2;
}

static const struct epcg_cgroup_ops fake_ops = {
	.pid_lookup = fake_lookup,
	.pid_parent = fake_parent,
};

static void take_shows(struct state *s)
{
	s->nr_shown = s->nr;
	for (unsigned i = 0; i < s->nr; i++)
		for (int f = 0; f < EPCG_CGROUP_FILE_NR; f++) {
			s->shows[i][f] = NULL;
			if (epcg_cgroup_file_show(s->cgs[i].cg, f,
						  &s->shows[i][f],
						  &s->lens[i][f]) &&
			    s->shows[i][f])
				abort(); /* a failed show returns nothing */
		}
}

static void drop_shows(struct state *s)
{
	for (unsigned i = 0; i < s->nr_shown; i++)
		for (int f = 0; f < EPCG_CGROUP_FILE_NR; f++)
			free(s->shows[i][f]);
}

/* Nothing any file shows changed since take_shows(). */
static void check_unchanged(struct state *s)
{
	for (unsigned i = 0; i < s->nr; i++)
		for (int f = 0; f < EPCG_CGROUP_FILE_NR; f++) {
			char *b = NULL;
			size_t n = 0;
			int r = epcg_cgroup_file_show(s->cgs[i].cg, f, &b, &n);

			if (!r != !!s->shows[i][f] ||
			    (!r && (n != s->lens[i][f] ||
				    memcmp(b, s->shows[i][f], n))))
				abort();
			free(b);
		}
}

static bool shows(struct epcg_cgroup *cg, enum epcg_cgroup_file f,
		  const char *want)
{
	char *b;
	size_t n;
	bool r;

	if (epcg_cgroup_file_show(cg, f, &b, &n))
		return false;
	r = n == strlen(want) && !memcmp(b, want, n);
	free(b);
	return r;
}

/* Processes in @cg (cgroup.procs must be ascending and distinct). */
static unsigned nr_procs(struct epcg_cgroup *cg)
{
	unsigned nr = 0;
	long last = 0;
	char *b, *p;
	size_t n;

	if (epcg_cgroup_file_show(cg, EPCG_CGROUP_FILE_PROCS, &b, &n))
		abort();
	if (strlen(b) != n || (n && b[n - 1] != '\n'))
		abort();
	for (p = b; *p;) {
		long v = strtol(p, &p, 10);

		if (*p++ != '\n' || v <= last)
			abort();
		last = v;
		nr++;
	}
	free(b);
	return nr;
}

static void check_rules(struct state *s)
{
	unsigned procs[NR_CG], populated[NR_CG] = { 0 };

	for (unsigned i = 0; i < s->nr; i++) {
		struct epcg_cgroup *cg = s->cgs[i].cg;
		int p = s->cgs[i].parent;
		bool enabled =
			shows(cg, EPCG_CGROUP_FILE_SUBTREE_CONTROL, "misc\n");
		bool has_misc = epcg_cgroup_file_exists(
			cg, EPCG_CGROUP_FILE_MISC_CURRENT);

		procs[i] = nr_procs(cg);
		if (p >= 0 &&
		    has_misc != shows(s->cgs[p].cg,
				      EPCG_CGROUP_FILE_SUBTREE_CONTROL,
				      "misc\n"))
			abort(); /* T2 */
		if (p >= 0 && enabled && procs[i])
			abort(); /* no internal processes */
		if (enabled &&
		    !shows(cg, EPCG_CGROUP_FILE_CONTROLLERS, "misc\n"))
			abort();
	}
	/* Parents come before children: add each count to its ancestors. */
	for (int i = (int)s->nr - 1; i >= 0; i--) {
		populated[i] += procs[i];
		if (s->cgs[i].parent >= 0)
			populated[s->cgs[i].parent] += populated[i];
	}
	for (unsigned i = 1; i < s->nr; i++)
		if (!shows(s->cgs[i].cg, EPCG_CGROUP_FILE_EVENTS,
			   populated[i] ? "populated 1\nfrozen 0\n" :
					  "populated 0\nfrozen 0\n"))
			abort();
}

static int do_mkdir(struct state *s, unsigned at, const char *buf, size_t len,
		    const struct epcg_cgroup_cred *cred)
{
	char name[EPCG_CGROUP_NAME_MAX + 2];
	struct epcg_cgroup *cg;
	int r;

	if (s->nr == NR_CG || len > EPCG_CGROUP_NAME_MAX + 1)
		return -ENOSPC;
	memcpy(name, buf, len);
	name[len] = '\0';
	r = epcg_cgroup_mkdir(s->cgs[at].cg, name, cred, &cg);
	if (r)
		return r;
	s->cgs[s->nr].cg = cg;
	s->cgs[s->nr].parent = (int)at;
	s->nr++;
	return 0;
}

static int do_rmdir(struct state *s, unsigned at,
		    const struct epcg_cgroup_cred *cred)
{
	int r = epcg_cgroup_rmdir(s->cgs[at].cg, cred);

	if (r)
		return r;
	if (!at)
		abort(); /* the root cannot go */
	for (unsigned i = 0; i < s->nr; i++)
		if (s->cgs[i].parent == (int)at)
			abort(); /* removed with a child */
	epcg_cgroup_put(s->cgs[at].cg);
	/* Keep parents before children: shift the later ones down. */
	for (unsigned i = at + 1; i < s->nr; i++) {
		s->cgs[i - 1] = s->cgs[i];
		if (s->cgs[i - 1].parent > (int)at)
			s->cgs[i - 1].parent--;
	}
	s->nr--;
	return 0;
}

static int run(struct state *s, enum op op, unsigned at, const char *buf,
	       size_t len, const struct epcg_cgroup_cred *cred)
{
	static const enum epcg_cgroup_file file_of[] = {
		[OP_SUBTREE_CONTROL] = EPCG_CGROUP_FILE_SUBTREE_CONTROL,
		[OP_PROCS] = EPCG_CGROUP_FILE_PROCS,
		[OP_TYPE] = EPCG_CGROUP_FILE_TYPE,
		[OP_MISC_MAX] = EPCG_CGROUP_FILE_MISC_MAX,
	};
	struct epcg_cgroup *cg = s->cgs[at].cg;

	switch (op) {
	case OP_SUBTREE_CONTROL:
	case OP_PROCS:
	case OP_TYPE:
	case OP_MISC_MAX:
		return epcg_cgroup_file_write(cg, file_of[op], buf, len, cred);
	case OP_ANY_FILE:
		if (!len)
			return 0;
		return epcg_cgroup_file_write(
			cg, (unsigned char)buf[0] % EPCG_CGROUP_FILE_NR,
			buf + 1, len - 1, cred);
	case OP_MKDIR:
		return do_mkdir(s, at, buf, len, cred);
	case OP_RMDIR:
		return do_rmdir(s, at, cred);
	case OP_CHOWN:
		return epcg_cgroup_chown(cg, UNPRIV_UID, 0, cred);
	default:
		return epcg_cgroup_proc_exit(s->t,
					     len ? (unsigned char)buf[0] : 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct epcg_cgroup_cred root_cred = { 0, 0, WRITER_PID };
	struct state s = { .nr = 1, .cgs[0].parent = -1 };
	size_t pos = 0;

	if (epcg_misc_create(&s.m) ||
	    epcg_misc_set_capacity(s.m, EPCG_MISC_RES_SGX_EPC, 1ull << 30) ||
	    epcg_cgroup_tree_create(s.m, &fake_ops, NULL, &root_cred, &s.t) ||
	    epcg_cgroup_lookup(s.t, "/", &s.cgs[0].cg))
		abort();
	while (pos + 3 <= size) {
		enum op op = (data[pos] & 0x7f) % OP_NR;
		struct epcg_cgroup_cred cred = { data[pos] & 0x80 ? UNPRIV_UID :
								    0,
						 0, WRITER_PID };
		unsigned at = data[pos + 1] % s.nr;
		size_t len = data[pos + 2];
		const char *buf = (const char *)data + pos + 3;
		int r;

		if (len > size - pos - 3)
			len = size - pos - 3;
		pos += 3 + len;
		/* A failed write changes nothing: compare every file. */
		s.nr_shown = 0;
		if (op <= OP_ANY_FILE)
			take_shows(&s);
		r = run(&s, op, at, buf, len, &cred);
		if (r > 0)
			abort();
		if (r && op <= OP_ANY_FILE)
			check_unchanged(&s);
		drop_shows(&s);
		check_rules(&s);
	}
	for (unsigned i = 0; i < s.nr; i++)
		epcg_cgroup_put(s.cgs[i].cg);
	epcg_cgroup_tree_destroy(s.t);
	epcg_misc_destroy(s.m);
	return 0;
}
