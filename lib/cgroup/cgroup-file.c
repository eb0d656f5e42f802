// SPDX-License-Identifier: MIT
/*
 * The interface files of a cgroup directory as pure functions: which files
 * a cgroup has, who may open them, their content, and what one write(2)
 * does (SPEC T1 to T3; misc.* are routed to the misc controller, M3 to M5).
 *
 * A write is parsed completely before anything changes, and every rule
 * that can refuse it is checked before the first change, so a failed
 * write changes nothing.  One write(2) is one request: a second line in a
 * cgroup.procs write is not a second pid, it makes the number malformed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>
#include <inttypes.h>

#include "cgroup-internal.h"
#include "util/alloc.h"

static const struct {
	const char *name;
	unsigned mode;
} files[EPCG_CGROUP_FILE_NR] = {
	[EPCG_CGROUP_FILE_CONTROLLERS] = { "cgroup.controllers", 0444 },
	[EPCG_CGROUP_FILE_EVENTS] = { "cgroup.events", 0444 },
	[EPCG_CGROUP_FILE_PROCS] = { "cgroup.procs", 0644 },
	[EPCG_CGROUP_FILE_SUBTREE_CONTROL] = { "cgroup.subtree_control", 0644 },
	[EPCG_CGROUP_FILE_TYPE] = { "cgroup.type", 0644 },
	[EPCG_CGROUP_FILE_MISC_CAPACITY] = { "misc.capacity", 0444 },
	[EPCG_CGROUP_FILE_MISC_CURRENT] = { "misc.current", 0444 },
	[EPCG_CGROUP_FILE_MISC_PEAK] = { "misc.peak", 0444 },
	[EPCG_CGROUP_FILE_MISC_MAX] = { "misc.max", 0644 },
	[EPCG_CGROUP_FILE_MISC_EVENTS] = { "misc.events", 0444 },
	[EPCG_CGROUP_FILE_MISC_EVENTS_LOCAL] = { "misc.events.local", 0444 },
};

static bool file_valid(enum epcg_cgroup_file file)
{
	return (unsigned)file < EPCG_CGROUP_FILE_NR;
}

const char *epcg_cgroup_file_name(enum epcg_cgroup_file file)
{
	return file_valid(file) ? files[file].name : NULL;
}

int epcg_cgroup_file_lookup(const char *name)
{
	for (int f = 0; name && f < EPCG_CGROUP_FILE_NR; f++)
		if (!strcmp(files[f].name, name))
			return f;
	return -ENOENT;
}

unsigned epcg_cgroup_file_mode(enum epcg_cgroup_file file)
{
	return file_valid(file) ? files[file].mode : 0;
}

static enum epcg_misc_file misc_file(enum epcg_cgroup_file file)
{
	return (enum epcg_misc_file)(file - EPCG_CGROUP_FILE_MISC);
}

bool epcg__cgroup_file_exists(const struct epcg_cgroup *cg,
			      enum epcg_cgroup_file file)
{
	bool root = !cg->parent;

	switch (file) {
	case EPCG_CGROUP_FILE_CONTROLLERS:
	case EPCG_CGROUP_FILE_PROCS:
	case EPCG_CGROUP_FILE_SUBTREE_CONTROL:
		return true;
	case EPCG_CGROUP_FILE_EVENTS:
	case EPCG_CGROUP_FILE_TYPE:
		return !root;
	default:
		/* A non-root cgroup has misc state iff its parent enabled it. */
		return file_valid(file) && cg->misc &&
		       epcg_misc_file_exists(cg->misc, misc_file(file));
	}
}

bool epcg_cgroup_file_exists(struct epcg_cgroup *cg, enum epcg_cgroup_file file)
{
	bool r;

	epcg_mutex_lock(&cg->tree->lock);
	r = !cg->removed && epcg__cgroup_file_exists(cg, file);
	epcg_mutex_unlock(&cg->tree->lock);
	return r;
}

int epcg_cgroup_file_open(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			  enum epcg_cgroup_access access,
			  const struct epcg_cgroup_cred *cred)
{
	int err = 0;

	if (!file_valid(file) || (unsigned)access >= EPCG_CGROUP_ACCESS_NR)
		return -EINVAL;
	epcg_mutex_lock(&cg->tree->lock);
	if (cg->removed)
		err = -ENODEV;
	else if (!epcg__cgroup_file_exists(cg, file))
		err = -ENOENT;
	else if (access == EPCG_CGROUP_READ)
		err = 0;
	else if (!(files[file].mode & 0200))
		err = -EACCES; /* no write bit: even uid 0, as kernfs */
	else if (!epcg__cgroup_may_write_file(cg, file, cred))
		err = -EACCES;
	epcg_mutex_unlock(&cg->tree->lock);
	return err;
}

/* ---- show ---------------------------------------------------------------- */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* One pid per line, ascending. */
static char *show_procs(const struct epcg_cgroup *cg, size_t *ret_len)
{
	const size_t line = 12; /* "2147483647\n" and a NUL */
	struct epcg__proc *p;
	size_t n = 0, len = 0;
	pid_t *pids;
	char *buf;

	pids = epcg_malloc((cg->nr_procs + 1) * sizeof(*pids));
	buf = epcg_malloc(cg->nr_procs * line + 1);
	if (!pids || !buf) {
		free(pids);
		free(buf);
		return NULL;
	}
	epcg_list_for_each_entry(p, &cg->procs, in_cg)
		pids[n++] = p->pid;
	qsort(pids, n, sizeof(*pids), cmp_pid);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, line, "%d\n", (int)pids[i]);
	free(pids);
	*ret_len = len;
	return buf;
}

static int show_locked(const struct epcg_cgroup *cg, enum epcg_cgroup_file file,
		       char **ret_buf, size_t *ret_len)
{
	char *buf;
	int len;

	if (file == EPCG_CGROUP_FILE_PROCS) {
		*ret_buf = show_procs(cg, ret_len);
		return *ret_buf ? 0 : -ENOMEM;
	}
	buf = epcg_malloc(EPCG_MISC_SHOW_BUFSZ);
	if (!buf)
		return -ENOMEM;
	switch (file) {
	case EPCG_CGROUP_FILE_CONTROLLERS:
		len = snprintf(buf, EPCG_MISC_SHOW_BUFSZ, "%s",
			       !cg->parent || cg->parent->subtree_misc ?
				       "misc\n" :
				       "");
		break;
	case EPCG_CGROUP_FILE_SUBTREE_CONTROL:
		len = snprintf(buf, EPCG_MISC_SHOW_BUFSZ, "%s",
			       cg->subtree_misc ? "misc\n" : "");
		break;
	case EPCG_CGROUP_FILE_EVENTS:
		len = snprintf(buf, EPCG_MISC_SHOW_BUFSZ,
			       "populated %d\nfrozen 0\n",
			       cg->nr_populated ? 1 : 0);
		break;
	case EPCG_CGROUP_FILE_TYPE:
		len = snprintf(buf, EPCG_MISC_SHOW_BUFSZ, "domain\n");
		break;
	default:
		len = epcg_misc_file_show(cg->misc, misc_file(file), buf,
					  EPCG_MISC_SHOW_BUFSZ);
		break;
	}
	if (len < 0) {
		free(buf);
		return len;
	}
	*ret_buf = buf;
	*ret_len = (size_t)len;
	return 0;
}

int epcg_cgroup_file_show(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			  char **ret_buf, size_t *ret_len)
{
	int err;

	epcg_mutex_lock(&cg->tree->lock);
	if (cg->removed)
		err = -ENODEV;
	else if (!epcg__cgroup_file_exists(cg, file))
		err = -ENOENT;
	else
		err = show_locked(cg, file, ret_buf, ret_len);
	epcg_mutex_unlock(&cg->tree->lock);
	return err;
}

/* ---- write ------------------------------------------------------------- */

/* Strip leading and trailing whitespace into a NUL-terminated copy. */
static char *strip_dup(const char *buf, size_t len)
{
	char *s;

	while (len && isspace((unsigned char)*buf)) {
		buf++;
		len--;
	}
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	s = epcg_malloc(len + 1);
	if (s) {
		memcpy(s, buf, len);
		s[len] = '\0';
	}
	return s;
}

/*
 * cgroup.subtree_control: space-separated "+misc"/"-misc"; empty tokens
 * (repeated spaces) are skipped and the last token wins.
 * Return: 1 enable, 0 disable, -1 no token; -EINVAL for a bad token.
 */
static int parse_subtree_control(char *s)
{
	int want = -1;
	char *tok;

	while ((tok = strsep(&s, " "))) {
		if (!*tok)
			continue;
		if ((tok[0] != '+' && tok[0] != '-') || strcmp(tok + 1, "misc"))
			return -EINVAL;
		want = tok[0] == '+';
	}
	return want;
}

static int write_subtree_control(struct epcg_cgroup *cg, char *s,
				 const struct epcg_cgroup_cred *cred)
{
	int want = parse_subtree_control(s);

	if (want < 0)
		return want == -1 ? 0 : want;
	/* +misc needs misc in this cgroup's own cgroup.controllers. */
	if (want && cg->parent && !cg->parent->subtree_misc)
		return -ENOENT;
	return epcg__cgroup_set_subtree_misc(cg, want, cred);
}

/*
 * A pid as the kernel's integer parser takes it: optional sign, C base
 * detection ("0x" hex, leading 0 octal), digits only, fits an int.
 * Return: the value (>= 0) or -EINVAL for anything else, negatives too.
 */
static int parse_pid(const char *s)
{
	unsigned base = 10;
	uint64_t v = 0;
	bool neg = false;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    isxdigit((unsigned char)s[2])) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;

		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (isxdigit((unsigned char)*s))
			d = (unsigned)(tolower(*s) - 'a' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		v = v * base + d;
		if (v > INT32_MAX)
			return -EINVAL;
	}
	return neg && v ? -EINVAL : (int)v;
}

static int write_locked(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			const char *buf, size_t len,
			const struct epcg_cgroup_cred *cred)
{
	char *s;
	int err;

	if (file >= EPCG_CGROUP_FILE_MISC)
		return epcg_misc_file_write(cg->misc, misc_file(file), buf,
					    len);
	if (!(files[file].mode & 0200))
		return -EINVAL;
	s = strip_dup(buf, len);
	if (!s)
		return -ENOMEM;
	switch (file) {
	case EPCG_CGROUP_FILE_SUBTREE_CONTROL:
		err = write_subtree_control(cg, s, cred);
		break;
	case EPCG_CGROUP_FILE_PROCS:
		err = parse_pid(s);
		if (err >= 0)
			err = epcg__cgroup_procs_write(cg, err, cred);
		break;
	case EPCG_CGROUP_FILE_TYPE:
		err = strcmp(s, "threaded") ? -EINVAL : -EOPNOTSUPP;
		break;
	default:
		err = -EINVAL;
		break;
	}
	free(s);
	return err;
}

int epcg_cgroup_file_write(struct epcg_cgroup *cg, enum epcg_cgroup_file file,
			   const char *buf, size_t len,
			   const struct epcg_cgroup_cred *cred)
{
	int err;

	if (!file_valid(file) || !cred || (!buf && len))
		return -EINVAL;
	if (len > EPCG_CGROUP_WRITE_MAX)
		return -E2BIG;
	if (!len)
		return 0;
	epcg_mutex_lock(&cg->tree->lock);
	if (cg->removed)
		err = -ENODEV;
	else if (!epcg__cgroup_file_exists(cg, file))
		err = -ENOENT;
	else
		err = write_locked(cg, file, buf, len, cred);
	epcg_mutex_unlock(&cg->tree->lock);
	return err;
}

const void *epcg_cgroup_file_poll_key(struct epcg_cgroup *cg,
				      enum epcg_cgroup_file file)
{
	const void *key = NULL;

	epcg_mutex_lock(&cg->tree->lock);
	if (!cg->removed)
		key = file >= EPCG_CGROUP_FILE_MISC ? (const void *)cg->misc :
						      (const void *)cg;
	epcg_mutex_unlock(&cg->tree->lock);
	return key;
}
