// SPDX-License-Identifier: MIT
/*
 * The scenario parser: one directive per line, words separated by blanks,
 * '#' to the end of the line is a comment.  docs/scenarios.md is the
 * reference; this file follows it directive by directive.
 *
 * Parsing is a single pass over the lines.  Names must be declared before
 * they are used (a cgroup before its children and before an enclave in
 * it, an enclave before its workload and its events), which keeps every
 * error local to the line that causes it.  What can only be judged at the
 * end (no EPC, a phased workload without phases, an enclave nothing
 * starts) is checked after the last line and reported at the line that
 * declared the thing.  The first error stops the parse.
 *
 * This file holds the core, the machine, cgroups and enclaves; values and
 * error reporting are in scenario-value.c, workloads, phases, events and
 * expectations in scenario-activity.c.
 */
#include "scenario-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE 4096
#define MAX_SCENARIO_BYTES (16u << 20)
#define MAX_COUNT 1024
#define MAX_WORKERS 64
#define FIRST_PID 1000
/* Defaults of the cost model (docs/scenarios.md explains the figures). */
static const uint64_t default_cost_ns[EPCG_COST_NR] = {
	[EPCG_COST_ACCESS] = 100,	[EPCG_COST_FAULT] = 3000,
	[EPCG_COST_EWB] = 5000,		[EPCG_COST_ELDU] = 5000,
	[EPCG_COST_EBLOCK] = 200,	[EPCG_COST_ETRACK] = 200,
	[EPCG_COST_IPI] = 2000,		[EPCG_COST_EPA] = 1000,
	[EPCG_COST_EADD] = 1000,	[EPCG_COST_EAUG] = 1000,
	[EPCG_COST_EREMOVE] = 300,	[EPCG_COST_ECREATE] = 2000,
	[EPCG_COST_EINIT] = 17000,	[EPCG_COST_EENTER] = 4000,
};

/* The reclaim policies of sgx.h, by the names epcg_sgx_policy_name() uses. */
static const char *const policy_names[EPCG_SGX_POLICY_NR] = {
	[EPCG_SGX_POLICY_V17] = "v17",
	[EPCG_SGX_POLICY_INTENT] = "intent",
};

/* ---- lookups ---- */

/* Index of cgroup @path (-1 for "/"), or -2 with the error reported. */
int epcg__scn_find_cgroup(struct epcg_parser *p, const char *path)
{
	if (!strcmp(path, "/"))
		return -1;
	for (unsigned i = 0; i < p->sc->nr_cgroups; i++)
		if (!strcmp(p->sc->cgroups[i].path, path))
			return (int)i;
	epcg__scn_fail(p, "unknown cgroup '%s'", path);
	return -2;
}

/*
 * The enclaves named @name: an instance, or every instance of a group.
 * Return: 0 with *@first and *@count set; -EINVAL reported.
 */
int epcg__scn_find_enclaves(struct epcg_parser *p, const char *name,
			    unsigned *first, unsigned *count)
{
	struct epcg_scenario *sc = p->sc;
	unsigned i;

	for (i = 0; i < sc->nr_enclaves; i++) {
		if (!strcmp(sc->enclaves[i].name, name)) {
			*first = i;
			*count = 1;
			return 0;
		}
	}
	for (i = 0; i < sc->nr_enclaves; i++) {
		if (strcmp(sc->enclaves[i].group, name))
			continue;
		*first = i;
		*count = 0;
		while (i < sc->nr_enclaves &&
		       !strcmp(sc->enclaves[i].group, name))
			i++, (*count)++;
		return 0;
	}
	return epcg__scn_fail(p, "unknown enclave '%s'", name);
}

/* ---- machine directives ---- */

static int once(struct epcg_parser *p, int *seen)
{
	if (*seen)
		return epcg__scn_fail(p, "'%s' given twice (first on line %d)",
			    p->word[0], *seen);
	*seen = p->line;
	return 0;
}

int epcg__scn_need(struct epcg_parser *p, unsigned nr, const char *what)
{
	if (p->nr < nr)
		return epcg__scn_fail(p, "'%s' needs %s", p->word[0], what);
	return 0;
}

static int too_many(struct epcg_parser *p, unsigned nr)
{
	if (p->nr > nr)
		return epcg__scn_fail(p, "unexpected '%s' after '%s'",
				      p->word[nr], p->word[0]);
	return 0;
}

static int do_epc(struct epcg_parser *p)
{
	struct epcg_scenario *sc = p->sc;
	unsigned nr = 1;
	uint64_t size;
	int r;

	if ((r = epcg__scn_need(p, 2, "a size")) || (r = once(p, &p->epc_line)))
		return r;
	if (p->section_line)
		return epcg__scn_fail(p,
				      "'epc' and 'section' cannot be combined");
	if ((r = epcg__scn_want_size(p, p->word[1], &size)))
		return r;
	if (p->nr >= 3) {
		if (strcmp(p->word[2], "sections"))
			return epcg__scn_fail(p, "unexpected '%s' after 'epc'",
				    p->word[2]);
		if (p->nr < 4)
			return epcg__scn_fail(
				p, "option 'sections' needs a value");
		if ((r = epcg__scn_want_range(p, "sections", p->word[3], 1,
				    EPCG_EPC_MAX_SECTIONS, &nr)) ||
		    (r = too_many(p, 4)))
			return r;
	}
	if (!size || size % ((uint64_t)nr * EPCG_PAGE_SIZE))
		return epcg__scn_fail(
			p,
			"EPC size must split into %u sections of a "
			"non-zero multiple of %u bytes",
			nr, EPCG_PAGE_SIZE);
	for (unsigned i = 0; i < nr; i++) {
		sc->secs[i].size = size / nr;
		sc->secs[i].node = (int)i;
	}
	sc->nr_secs = nr;
	return 0;
}

static int do_section(struct epcg_parser *p)
{
	struct epcg_scenario *sc = p->sc;
	unsigned node = sc->nr_secs;
	uint64_t size;
	int r;

	if ((r = epcg__scn_need(p, 2, "a size")))
		return r;
	if (p->epc_line)
		return epcg__scn_fail(p,
				      "'epc' and 'section' cannot be combined");
	if (sc->nr_secs == EPCG_EPC_MAX_SECTIONS)
		return epcg__scn_fail(p, "more than %u sections",
				      EPCG_EPC_MAX_SECTIONS);
	if ((r = epcg__scn_want_size(p, p->word[1], &size)) ||
	    (r = epcg__scn_want_page_multiple(p, "EPC section size", size)))
		return r;
	if (p->nr >= 3) {
		if (strcmp(p->word[2], "node"))
			return epcg__scn_fail(p,
					      "unexpected '%s' after 'section'",
					      p->word[2]);
		if (p->nr < 4)
			return epcg__scn_fail(p, "option 'node' needs a value");
		if ((r = epcg__scn_want_range(p, "node", p->word[3], 0,
				    EPCG_EPC_MAX_NODES - 1, &node)) ||
		    (r = too_many(p, 4)))
			return r;
	}
	if (!p->section_line)
		p->section_line = p->line;
	sc->secs[sc->nr_secs].size = size;
	sc->secs[sc->nr_secs].node = (int)node;
	sc->nr_secs++;
	return 0;
}

static int do_policy(struct epcg_parser *p)
{
	int r, policy;

	if ((r = epcg__scn_need(p, 2, "a name")) ||
	    (r = once(p, &p->policy_line)) || (r = too_many(p, 2)))
		return r;
	policy = epcg__scn_lookup(policy_names, EPCG_SGX_POLICY_NR, p->word[1]);
	if (policy < 0)
		return epcg__scn_fail(p, "unknown policy '%s' (v17 or intent)",
			    p->word[1]);
	p->sc->policy = (enum epcg_sgx_policy)policy;
	return 0;
}

static int do_seed(struct epcg_parser *p)
{
	int r;

	if ((r = epcg__scn_need(p, 2, "a number")) ||
	    (r = once(p, &p->seed_line)) || (r = too_many(p, 2)))
		return r;
	return epcg__scn_want_count(p, p->word[1], &p->sc->seed);
}

static int do_duration(struct epcg_parser *p)
{
	int r;

	if ((r = epcg__scn_need(p, 2, "a time")) ||
	    (r = once(p, &p->duration_line)) || (r = too_many(p, 2)))
		return r;
	return epcg__scn_want_time(p, p->word[1], &p->sc->duration_ns);
}

static int do_workers(struct epcg_parser *p)
{
	int r;

	if ((r = epcg__scn_need(p, 2, "a number")) ||
	    (r = once(p, &p->workers_line)) || (r = too_many(p, 2)))
		return r;
	return epcg__scn_want_range(p, "workers", p->word[1], 1, MAX_WORKERS,
			  &p->sc->workers);
}

static int do_cost(struct epcg_parser *p)
{
	int r, c;

	if ((r = epcg__scn_need(p, 3, "NAME TIME pairs")))
		return r;
	for (unsigned i = 1; i < p->nr; i += 2) {
		c = epcg__scn_lookup(epcg__scn_cost_names, EPCG_COST_NR,
				     p->word[i]);
		if (c < 0)
			return epcg__scn_fail(p, "unknown cost '%s'",
					      p->word[i]);
		if (i + 1 >= p->nr)
			return epcg__scn_fail(p, "cost '%s' needs a time",
					      p->word[i]);
		if (p->cost_line[c])
			return epcg__scn_fail(
				p,
				"cost '%s' given twice (first on line "
				"%d)",
				p->word[i], p->cost_line[c]);
		if ((r = epcg__scn_want_time(p, p->word[i + 1],
					     &p->sc->cost_ns[c])))
			return r;
		p->cost_line[c] = p->line;
	}
	return 0;
}

/* ---- cgroups ---- */

static int do_cgroup(struct epcg_parser *p)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_scenario_cgroup *cg;
	const char *path, *slash;
	int parent = -1, r;
	uint64_t max = EPCG_SCENARIO_MAX;
	size_t len;

	if ((r = epcg__scn_need(p, 2, "a path")))
		return r;
	path = p->word[1];
	len = strlen(path);
	if (path[0] != '/')
		return epcg__scn_fail(
			p, "cgroup path must start with '/', not '%s'", path);
	if (len == 1)
		return epcg__scn_fail(
			p, "the root cgroup is always there and has no "
			   "limit");
	if (path[len - 1] == '/' || strstr(path, "//"))
		return epcg__scn_fail(p, "bad cgroup path '%s'", path);
	for (unsigned i = 0; i < sc->nr_cgroups; i++)
		if (!strcmp(sc->cgroups[i].path, path))
			return epcg__scn_fail(
				p,
				"cgroup '%s' declared twice (first on "
				"line %d)",
				path, sc->cgroups[i].line);
	slash = strrchr(path, '/');
	if (slash != path) {
		char *pp = strndup(path, (size_t)(slash - path));

		if (!pp)
			return epcg__scn_nomem(p);
		for (parent = (int)sc->nr_cgroups - 1; parent >= 0; parent--)
			if (!strcmp(sc->cgroups[parent].path, pp))
				break;
		if (parent < 0)
			r = epcg__scn_fail(
				p,
				"cgroup '%s' declared before its parent "
				"'%s'",
				path, pp);
		free(pp);
		if (r)
			return r;
	}
	if (p->nr >= 3) {
		if (strcmp(p->word[2], "max"))
			return epcg__scn_fail(p,
					      "unexpected '%s' after 'cgroup'",
					      p->word[2]);
		if (p->nr < 4)
			return epcg__scn_fail(p, "option 'max' needs a value");
		if ((r = epcg__scn_want_limit(p, p->word[3], &max)) ||
		    (r = too_many(p, 4)))
			return r;
	}
	if ((r = epcg__scn_grow(p, (void **)&sc->cgroups, &p->cap_cgroups,
		      sc->nr_cgroups, sizeof(*sc->cgroups))))
		return r;
	cg = &sc->cgroups[sc->nr_cgroups];
	cg->path = strdup(path);
	if (!cg->path)
		return epcg__scn_nomem(p);
	cg->line = p->line;
	cg->parent = parent;
	cg->max = max;
	sc->nr_cgroups++;
	return 0;
}

/* ---- enclaves ---- */

struct enclave_opts {
	uint64_t size;
	unsigned threads, tcs, count;
	bool edmm, tcs_given;
	int cgroup;
	int pid;
	uint64_t start_ns;
};

static int enclave_option(struct epcg_parser *p, const char *key,
			  const char *val, struct enclave_opts *o)
{
	unsigned pid;
	int r;

	if (!strcmp(key, "size")) {
		if ((r = epcg__scn_want_size(p, val, &o->size)))
			return r;
		return epcg__scn_want_page_multiple(p, "enclave size", o->size);
	}
	if (!strcmp(key, "threads"))
		return epcg__scn_want_range(p, "threads", val, 1,
					    EPCG_SCN_MAX_THREADS, &o->threads);
	if (!strcmp(key, "tcs")) {
		o->tcs_given = true;
		return epcg__scn_want_range(p, "tcs", val, 1,
					    EPCG_SCN_MAX_THREADS, &o->tcs);
	}
	if (!strcmp(key, "count"))
		return epcg__scn_want_range(p, "count", val, 1, MAX_COUNT,
					    &o->count);
	if (!strcmp(key, "edmm"))
		return epcg__scn_want_onoff(p, val, &o->edmm);
	if (!strcmp(key, "cgroup")) {
		o->cgroup = epcg__scn_find_cgroup(p, val);
		return o->cgroup < -1 ? -EINVAL : 0;
	}
	if (!strcmp(key, "pid")) {
		if ((r = epcg__scn_want_range(p, "pid", val, 1, INT_MAX, &pid)))
			return r;
		o->pid = (int)pid;
		return 0;
	}
	if (!strcmp(key, "start")) {
		if (!strcmp(val, "never")) {
			o->start_ns = EPCG_SCENARIO_NEVER;
			return 0;
		}
		return epcg__scn_want_time(p, val, &o->start_ns);
	}
	return epcg__scn_fail(p, "unknown option '%s' for 'enclave'", key);
}

void epcg__scn_workload_default(struct epcg_workload *wl)
{
	memset(wl, 0, sizeof(*wl));
	wl->pattern = EPCG_PATTERN_UNIFORM;
	wl->zipf_s = 1.0;
}

static int do_enclave(struct epcg_parser *p)
{
	struct epcg_scenario *sc = p->sc;
	struct enclave_opts o = { 0, 1, 1, 1, false, false, -1, 0, 0 };
	const char *name;
	unsigned first, nr;
	int r;

	if ((r = epcg__scn_need(p, 2, "a name")))
		return r;
	name = p->word[1];
	if (!epcg__scn_valid_name(name))
		return epcg__scn_fail(
			p,
			"bad enclave name '%s' (letters, digits, '_' "
			"and '-', at most %d)",
			name, EPCG_SCENARIO_NAME_MAX - 1);
	for (unsigned i = 0; i < sc->nr_enclaves; i++)
		if (!strcmp(sc->enclaves[i].group, name))
			return epcg__scn_fail(
				p,
				"enclave '%s' declared twice (first on "
				"line %d)",
				name, sc->enclaves[i].line);
	for (unsigned i = 2; i < p->nr; i += 2) {
		if (i + 1 >= p->nr)
			return epcg__scn_fail(p, "option '%s' needs a value",
					      p->word[i]);
		if ((r = enclave_option(p, p->word[i], p->word[i + 1], &o)))
			return r;
	}
	if (!o.size)
		return epcg__scn_fail(p, "enclave '%s' needs a size", name);
	if (!o.tcs_given)
		o.tcs = o.threads;
	if (o.tcs < o.threads)
		return epcg__scn_fail(p, "tcs (%u) is less than threads (%u)",
				      o.tcs, o.threads);
	if (o.count > 1 && o.pid)
		return epcg__scn_fail(p, "'pid' cannot be given with 'count'");
	first = sc->nr_enclaves;
	for (nr = 0; nr < o.count; nr++) {
		struct epcg_scenario_enclave *e;

		if ((r = epcg__scn_grow(p, (void **)&sc->enclaves,
					&p->cap_enclaves, sc->nr_enclaves,
					sizeof(*sc->enclaves))))
			return r;
		e = &sc->enclaves[sc->nr_enclaves];
		memset(e, 0, sizeof(*e));
		e->line = p->line;
		if (o.count > 1)
			snprintf(e->name, sizeof(e->name), "%s.%u", name,
				 nr + 1);
		else
			snprintf(e->name, sizeof(e->name), "%s", name);
		snprintf(e->group, sizeof(e->group), "%s", name);
		e->size = o.size;
		e->threads = o.threads;
		e->tcs = o.tcs;
		e->edmm = o.edmm;
		e->cgroup = o.cgroup;
		e->pid = o.pid ? o.pid : FIRST_PID + (int)(first + nr);
		e->start_ns = o.start_ns;
		epcg__scn_workload_default(&e->wl);
		sc->nr_enclaves++;
	}
	return 0;
}

/* ---- lines ---- */

static const struct {
	const char *name;
	int (*fn)(struct epcg_parser *p);
} directives[] = {
	{ "epc", do_epc },
	{ "section", do_section },
	{ "policy", do_policy },
	{ "seed", do_seed },
	{ "duration", do_duration },
	{ "workers", do_workers },
	{ "cost", do_cost },
	{ "cgroup", do_cgroup },
	{ "enclave", do_enclave },
	{ "workload", epcg__scn_do_workload },
	{ "phase", epcg__scn_do_phase },
	{ "expect", epcg__scn_do_expect },
	{ "at", epcg__scn_do_at },
};

/* Split @line (NUL-terminated, modified) into words; drop the comment. */
static int split(struct epcg_parser *p, char *line)
{
	char *s = line, *hash = strchr(line, '#');

	if (hash)
		*hash = 0;
	p->nr = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s)
			return 0;
		if (p->nr == EPCG_SCN_MAX_WORDS)
			return epcg__scn_fail(p, "too many words (at most %d)",
				    EPCG_SCN_MAX_WORDS);
		p->word[p->nr++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		if (*s)
			*s++ = 0;
	}
}

static int parse_line(struct epcg_parser *p, char *line)
{
	int r;

	if ((r = split(p, line)) || !p->nr)
		return r;
	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (!strcmp(p->word[0], directives[i].name))
			return directives[i].fn(p);
	return epcg__scn_fail(p, "unknown directive '%s'", p->word[0]);
}

/* What the last line cannot show: checked at the declaring line. */
static int check_whole(struct epcg_parser *p)
{
	struct epcg_scenario *sc = p->sc;

	p->line = 0;
	if (!sc->nr_secs)
		return epcg__scn_fail(p, "no EPC declared (add 'epc SIZE')");
	for (unsigned i = 0; i < sc->nr_enclaves; i++) {
		struct epcg_scenario_enclave *e = &sc->enclaves[i];
		bool started = e->start_ns != EPCG_SCENARIO_NEVER;

		if (e->wl.pattern == EPCG_PATTERN_PHASES && !e->wl.nr_phases) {
			p->line = e->wl.line;
			return epcg__scn_fail(
				p, "workload of '%s' has no 'phase' lines",
				e->group);
		}
		for (unsigned k = 0; k < sc->nr_events && !started; k++)
			started = sc->events[k].kind == EPCG_EVENT_START &&
				  sc->events[k].enclave == (int)i;
		if (!started) {
			p->line = e->line;
			return epcg__scn_fail(
				p,
				"enclave '%s' is 'start never' but no "
				"event starts it",
				e->name);
		}
	}
	return 0;
}

static int cmp_event(const void *a, const void *b)
{
	const struct epcg_event *x = a, *y = b;

	if (x->at_ns != y->at_ns)
		return x->at_ns < y->at_ns ? -1 : 1;
	/* Stable: a tie keeps file order (lines, then position). */
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void scenario_defaults(struct epcg_scenario *sc)
{
	sc->policy = EPCG_SGX_POLICY_V17;
	sc->seed = 1;
	sc->workers = 2;
	memcpy(sc->cost_ns, default_cost_ns, sizeof(sc->cost_ns));
}

int epcg_scenario_parse(const char *file, const char *text, size_t len,
			struct epcg_scenario **ret, char *err, size_t errlen)
{
	struct epcg_parser p = { .err = err, .errlen = errlen };
	const char *slash, *pos = text, *end = text + len;
	char line[MAX_LINE + 2];
	struct epcg_scenario *sc;
	int r = 0;

	p.file = file ? file : "<scenario>";
	if (err && errlen)
		err[0] = 0;
	if (!ret || (!text && len))
		return epcg__scn_fail(&p, "invalid arguments");
	slash = file ? strrchr(file, '/') : NULL;
	if (slash) {
		p.dir = file;
		p.dir_len = slash == file ? 1 : (size_t)(slash - file);
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc || !(sc->file = strdup(p.file))) {
		free(sc);
		return epcg__scn_nomem(&p);
	}
	p.sc = sc;
	scenario_defaults(sc);
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = (nl ? nl : end) - pos;

		p.line++;
		if (n > MAX_LINE) {
			r = epcg__scn_fail(&p,
					   "line too long (over %d characters)",
					   MAX_LINE);
			break;
		}
		if (memchr(pos, 0, n)) {
			r = epcg__scn_fail(&p, "NUL byte in line");
			break;
		}
		memcpy(line, pos, n);
		line[n] = 0;
		if ((r = parse_line(&p, line)))
			break;
		pos = nl ? nl + 1 : end;
	}
	if (!r)
		r = check_whole(&p);
	if (r) {
		epcg_scenario_destroy(sc);
		return r;
	}
	if (sc->nr_events)
		qsort(sc->events, sc->nr_events, sizeof(*sc->events),
		      cmp_event);
	*ret = sc;
	return 0;
}

int epcg_scenario_load(const char *path, struct epcg_scenario **ret,
		       char *err, size_t errlen)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		r = -errno;
		if (errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_SCENARIO_BYTES) {
		if (errlen)
			snprintf(err, errlen, "%s: %s", path,
				 S_ISREG(st.st_mode) ? "file too large" :
						       "not a regular file");
		close(fd);
		return -EINVAL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	r = epcg_scenario_parse(path, text, got, ret, err, errlen);
	free(text);
	return r;
}

void epcg_scenario_destroy(struct epcg_scenario *sc)
{
	if (!sc)
		return;
	for (unsigned i = 0; i < sc->nr_cgroups; i++)
		free(sc->cgroups[i].path);
	for (unsigned i = 0; i < sc->nr_enclaves; i++) {
		free(sc->enclaves[i].wl.phases);
		free(sc->enclaves[i].wl.trace_path);
	}
	free(sc->cgroups);
	free(sc->enclaves);
	free(sc->events);
	free(sc->expects);
	free(sc->file);
	free(sc);
}
