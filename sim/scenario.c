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
 */
#include "scenario.h"

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

#define MAX_WORDS 32
#define MAX_LINE 4096
#define MAX_SCENARIO_BYTES (16u << 20)
#define MAX_THREADS 1024
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
	[EPCG_COST_EINIT] = 17000,
};

static const char *const cost_names[EPCG_COST_NR] = {
	"access", "fault", "ewb",  "eldu",    "eblock",  "etrack", "ipi",
	"epa",	  "eadd",  "eaug", "eremove", "ecreate", "einit",
};

static const char *const metric_names[EPCG_METRIC_NR] = {
	"current",   "peak",	"max",	   "events", "events_local",
	"evictions", "reloads", "faults",  "scans",  "enomem",
	"sigbus",    "accesses", "runtime", "outcome",
};

static const char *const outcome_names[EPCG_OUTCOME_NR] = {
	"ok",	  "ENOMEM",  "SIGBUS",	"EFAULT",
	"killed", "stopped", "running", "failed",
};

static const char *const pattern_names[EPCG_PATTERN_NR] = {
	"uniform", "zipf", "scan", "phases", "trace",
};

/* The reclaim policies of sgx.h, by the names epcg_sgx_policy_name() uses. */
static const char *const policy_names[EPCG_SGX_POLICY_NR] = {
	[EPCG_SGX_POLICY_V17] = "v17",
	[EPCG_SGX_POLICY_INTENT] = "intent",
};

static const char *const cmp_names[EPCG_CMP_NR] = {
	"==", "!=", "<", "<=", ">", ">=",
};

static const char *const trace_format_names[EPCG_TRACE_FORMAT_NR] = {
	"txt", "csv", "addr",
};

/* How a metric's value is written, and what it applies to. */
enum value_kind {
	VALUE_BYTES,
	VALUE_COUNT,
	VALUE_TIME,
	VALUE_OUTCOME,
};

static const struct {
	enum value_kind kind;
	bool cgroup;
	bool enclave;
} metric_info[EPCG_METRIC_NR] = {
	[EPCG_METRIC_CURRENT] = { VALUE_BYTES, true, false },
	[EPCG_METRIC_PEAK] = { VALUE_BYTES, true, false },
	[EPCG_METRIC_MAX] = { VALUE_BYTES, true, false },
	[EPCG_METRIC_EVENTS] = { VALUE_COUNT, true, false },
	[EPCG_METRIC_EVENTS_LOCAL] = { VALUE_COUNT, true, false },
	[EPCG_METRIC_EVICTIONS] = { VALUE_COUNT, true, true },
	[EPCG_METRIC_RELOADS] = { VALUE_COUNT, true, true },
	[EPCG_METRIC_FAULTS] = { VALUE_COUNT, true, true },
	[EPCG_METRIC_SCANS] = { VALUE_COUNT, true, false },
	[EPCG_METRIC_ENOMEM] = { VALUE_COUNT, true, false },
	[EPCG_METRIC_SIGBUS] = { VALUE_COUNT, true, false },
	[EPCG_METRIC_ACCESSES] = { VALUE_COUNT, false, true },
	[EPCG_METRIC_RUNTIME] = { VALUE_TIME, false, true },
	[EPCG_METRIC_OUTCOME] = { VALUE_OUTCOME, false, true },
};

struct parser {
	struct epcg_scenario *sc;
	const char *file;
	const char *dir;		/* trace paths are relative to it */
	size_t dir_len;
	int line;
	char *word[MAX_WORDS];
	unsigned nr;
	char *err;
	size_t errlen;
	int epc_line;			/* 0: not seen */
	int section_line;
	int policy_line;
	int seed_line;
	int duration_line;
	int workers_line;
	int cost_line[EPCG_COST_NR];
	unsigned cap_cgroups, cap_enclaves, cap_events, cap_expects;
};

static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Report "FILE:LINE: message" and fail the parse. */
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!p->errlen)
		return -EINVAL;
	if (p->line)
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->file);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int fail_nomem(struct parser *p)
{
	fail(p, "out of memory");
	return -ENOMEM;
}

/* Grow *@arr (of *@cap elements of @size) to hold @nr + 1. */
static int grow(struct parser *p, void **arr, unsigned *cap, unsigned nr,
		size_t size)
{
	unsigned ncap;
	void *n;

	if (nr < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 8;
	n = realloc(*arr, ncap * size);
	if (!n)
		return fail_nomem(p);
	*arr = n;
	*cap = ncap;
	return 0;
}

/* ---- values ---- */

static int parse_u64(const char *s, uint64_t *ret, char **end)
{
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno)
		return -EINVAL;
	*ret = v;
	return 0;
}

int epcg_scenario_parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {
		{ "", 0 },    { "K", 10 },  { "M", 20 },  { "G", 30 },
		{ "T", 40 },  { "Ki", 10 }, { "Mi", 20 }, { "Gi", 30 },
		{ "Ti", 40 }, { "k", 10 },
	};
	uint64_t v;
	char *end;

	if (!s || parse_u64(s, &v, &end))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -EINVAL;
		*ret = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

int epcg_scenario_parse_time(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 },
		{ "us", 1000 },
		{ "ms", 1000000 },
		{ "s", 1000000000 },
	};
	uint64_t v;
	char *end;

	if (!s || parse_u64(s, &v, &end))
		return -EINVAL;
	if (!*end && v == 0) {
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].ns)
			return -EINVAL;
		*ret = v * units[i].ns;
		return 0;
	}
	return -EINVAL;
}

static int lookup(const char *const *names, unsigned nr, const char *s)
{
	for (unsigned i = 0; i < nr; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

const char *epcg_scenario_cost_name(enum epcg_scenario_cost cost)
{
	return (unsigned)cost < EPCG_COST_NR ? cost_names[cost] : NULL;
}

const char *epcg_metric_name(enum epcg_metric metric)
{
	return (unsigned)metric < EPCG_METRIC_NR ? metric_names[metric] : NULL;
}

const char *epcg_outcome_name(enum epcg_outcome outcome)
{
	return (unsigned)outcome < EPCG_OUTCOME_NR ? outcome_names[outcome] :
						     NULL;
}

const char *epcg_pattern_name(enum epcg_pattern pattern)
{
	return (unsigned)pattern < EPCG_PATTERN_NR ? pattern_names[pattern] :
						     NULL;
}

static int want_size(struct parser *p, const char *s, uint64_t *ret)
{
	if (epcg_scenario_parse_size(s, ret))
		return fail(p, "bad size '%s'", s);
	return 0;
}

static int want_limit(struct parser *p, const char *s, uint64_t *ret)
{
	if (!strcmp(s, "max")) {
		*ret = EPCG_SCENARIO_MAX;
		return 0;
	}
	return want_size(p, s, ret);
}

static int want_time(struct parser *p, const char *s, uint64_t *ret)
{
	if (epcg_scenario_parse_time(s, ret))
		return fail(p, "bad time '%s' (use ns, us, ms or s)", s);
	return 0;
}

static int want_count(struct parser *p, const char *s, uint64_t *ret)
{
	char *end;

	if (parse_u64(s, ret, &end) || *end)
		return fail(p, "bad number '%s'", s);
	return 0;
}

/* A count in [@lo, @hi], named @what in the message. */
static int want_range(struct parser *p, const char *what, const char *s,
		      unsigned lo, unsigned hi, unsigned *ret)
{
	uint64_t v;
	char *end;

	if (parse_u64(s, &v, &end) || *end || v < lo || v > hi)
		return fail(p, "%s must be %u to %u, not '%s'", what, lo, hi,
			    s);
	*ret = (unsigned)v;
	return 0;
}

static int want_onoff(struct parser *p, const char *s, bool *ret)
{
	if (!strcmp(s, "on") || !strcmp(s, "yes")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(s, "off") || !strcmp(s, "no")) {
		*ret = false;
		return 0;
	}
	return fail(p, "expected on or off, not '%s'", s);
}

static int want_page_multiple(struct parser *p, const char *what,
			      uint64_t v)
{
	if (!v || v % EPCG_PAGE_SIZE)
		return fail(p, "%s must be a non-zero multiple of %u", what,
			    EPCG_PAGE_SIZE);
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= EPCG_SCENARIO_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_' && *s != '-')
			return false;
	return true;
}

/* ---- lookups ---- */

/* Index of cgroup @path (-1 for "/"), or -2 with the error reported. */
static int find_cgroup(struct parser *p, const char *path)
{
	if (!strcmp(path, "/"))
		return -1;
	for (unsigned i = 0; i < p->sc->nr_cgroups; i++)
		if (!strcmp(p->sc->cgroups[i].path, path))
			return (int)i;
	fail(p, "unknown cgroup '%s'", path);
	return -2;
}

/*
 * The enclaves named @name: an instance, or every instance of a group.
 * Return: 0 with *@first and *@count set; -EINVAL reported.
 */
static int find_enclaves(struct parser *p, const char *name, unsigned *first,
			 unsigned *count)
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
	return fail(p, "unknown enclave '%s'", name);
}

/* ---- machine directives ---- */

static int once(struct parser *p, int *seen)
{
	if (*seen)
		return fail(p, "'%s' given twice (first on line %d)",
			    p->word[0], *seen);
	*seen = p->line;
	return 0;
}

static int need(struct parser *p, unsigned nr, const char *what)
{
	if (p->nr < nr)
		return fail(p, "'%s' needs %s", p->word[0], what);
	return 0;
}

static int too_many(struct parser *p, unsigned nr)
{
	if (p->nr > nr)
		return fail(p, "unexpected '%s' after '%s'", p->word[nr],
			    p->word[0]);
	return 0;
}

static int do_epc(struct parser *p)
{
	struct epcg_scenario *sc = p->sc;
	unsigned nr = 1;
	uint64_t size;
	int r;

	if ((r = need(p, 2, "a size")) || (r = once(p, &p->epc_line)))
		return r;
	if (p->section_line)
		return fail(p, "'epc' and 'section' cannot be combined");
	if ((r = want_size(p, p->word[1], &size)))
		return r;
	if (p->nr >= 3) {
		if (strcmp(p->word[2], "sections"))
			return fail(p, "unexpected '%s' after 'epc'",
				    p->word[2]);
		if (p->nr < 4)
			return fail(p, "option 'sections' needs a value");
		if ((r = want_range(p, "sections", p->word[3], 1,
				    EPCG_EPC_MAX_SECTIONS, &nr)) ||
		    (r = too_many(p, 4)))
			return r;
	}
	if (!size || size % ((uint64_t)nr * EPCG_PAGE_SIZE))
		return fail(p, "EPC size must split into %u sections of a "
			    "non-zero multiple of %u bytes", nr,
			    EPCG_PAGE_SIZE);
	for (unsigned i = 0; i < nr; i++) {
		sc->secs[i].size = size / nr;
		sc->secs[i].node = (int)i;
	}
	sc->nr_secs = nr;
	return 0;
}

static int do_section(struct parser *p)
{
	struct epcg_scenario *sc = p->sc;
	unsigned node = sc->nr_secs;
	uint64_t size;
	int r;

	if ((r = need(p, 2, "a size")))
		return r;
	if (p->epc_line)
		return fail(p, "'epc' and 'section' cannot be combined");
	if (sc->nr_secs == EPCG_EPC_MAX_SECTIONS)
		return fail(p, "more than %u sections", EPCG_EPC_MAX_SECTIONS);
	if ((r = want_size(p, p->word[1], &size)) ||
	    (r = want_page_multiple(p, "EPC section size", size)))
		return r;
	if (p->nr >= 3) {
		if (strcmp(p->word[2], "node"))
			return fail(p, "unexpected '%s' after 'section'",
				    p->word[2]);
		if (p->nr < 4)
			return fail(p, "option 'node' needs a value");
		if ((r = want_range(p, "node", p->word[3], 0,
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

static int do_policy(struct parser *p)
{
	int r, policy;

	if ((r = need(p, 2, "a name")) || (r = once(p, &p->policy_line)) ||
	    (r = too_many(p, 2)))
		return r;
	policy = lookup(policy_names, EPCG_SGX_POLICY_NR, p->word[1]);
	if (policy < 0)
		return fail(p, "unknown policy '%s' (v17 or intent)",
			    p->word[1]);
	p->sc->policy = (enum epcg_sgx_policy)policy;
	return 0;
}

static int do_seed(struct parser *p)
{
	int r;

	if ((r = need(p, 2, "a number")) || (r = once(p, &p->seed_line)) ||
	    (r = too_many(p, 2)))
		return r;
	return want_count(p, p->word[1], &p->sc->seed);
}

static int do_duration(struct parser *p)
{
	int r;

	if ((r = need(p, 2, "a time")) || (r = once(p, &p->duration_line)) ||
	    (r = too_many(p, 2)))
		return r;
	return want_time(p, p->word[1], &p->sc->duration_ns);
}

static int do_workers(struct parser *p)
{
	int r;

	if ((r = need(p, 2, "a number")) || (r = once(p, &p->workers_line)) ||
	    (r = too_many(p, 2)))
		return r;
	return want_range(p, "workers", p->word[1], 1, MAX_WORKERS,
			  &p->sc->workers);
}

static int do_cost(struct parser *p)
{
	int r, c;

	if ((r = need(p, 3, "NAME TIME pairs")))
		return r;
	for (unsigned i = 1; i < p->nr; i += 2) {
		c = lookup(cost_names, EPCG_COST_NR, p->word[i]);
		if (c < 0)
			return fail(p, "unknown cost '%s'", p->word[i]);
		if (i + 1 >= p->nr)
			return fail(p, "cost '%s' needs a time", p->word[i]);
		if (p->cost_line[c])
			return fail(p, "cost '%s' given twice (first on line "
				    "%d)", p->word[i], p->cost_line[c]);
		if ((r = want_time(p, p->word[i + 1], &p->sc->cost_ns[c])))
			return r;
		p->cost_line[c] = p->line;
	}
	return 0;
}

/* ---- cgroups ---- */

static int do_cgroup(struct parser *p)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_scenario_cgroup *cg;
	const char *path, *slash;
	int parent = -1, r;
	uint64_t max = EPCG_SCENARIO_MAX;
	size_t len;

	if ((r = need(p, 2, "a path")))
		return r;
	path = p->word[1];
	len = strlen(path);
	if (path[0] != '/')
		return fail(p, "cgroup path must start with '/', not '%s'",
			    path);
	if (len == 1)
		return fail(p, "the root cgroup is always there and has no "
			    "limit");
	if (path[len - 1] == '/' || strstr(path, "//"))
		return fail(p, "bad cgroup path '%s'", path);
	for (unsigned i = 0; i < sc->nr_cgroups; i++)
		if (!strcmp(sc->cgroups[i].path, path))
			return fail(p, "cgroup '%s' declared twice (first on "
				    "line %d)", path, sc->cgroups[i].line);
	slash = strrchr(path, '/');
	if (slash != path) {
		char *pp = strndup(path, (size_t)(slash - path));

		if (!pp)
			return fail_nomem(p);
		for (parent = (int)sc->nr_cgroups - 1; parent >= 0; parent--)
			if (!strcmp(sc->cgroups[parent].path, pp))
				break;
		if (parent < 0)
			r = fail(p, "cgroup '%s' declared before its parent "
				 "'%s'", path, pp);
		free(pp);
		if (r)
			return r;
	}
	if (p->nr >= 3) {
		if (strcmp(p->word[2], "max"))
			return fail(p, "unexpected '%s' after 'cgroup'",
				    p->word[2]);
		if (p->nr < 4)
			return fail(p, "option 'max' needs a value");
		if ((r = want_limit(p, p->word[3], &max)) ||
		    (r = too_many(p, 4)))
			return r;
	}
	if ((r = grow(p, (void **)&sc->cgroups, &p->cap_cgroups,
		      sc->nr_cgroups, sizeof(*sc->cgroups))))
		return r;
	cg = &sc->cgroups[sc->nr_cgroups];
	cg->path = strdup(path);
	if (!cg->path)
		return fail_nomem(p);
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

static int enclave_option(struct parser *p, const char *key, const char *val,
			  struct enclave_opts *o)
{
	unsigned pid;
	int r;

	if (!strcmp(key, "size")) {
		if ((r = want_size(p, val, &o->size)))
			return r;
		return want_page_multiple(p, "enclave size", o->size);
	}
	if (!strcmp(key, "threads"))
		return want_range(p, "threads", val, 1, MAX_THREADS,
				  &o->threads);
	if (!strcmp(key, "tcs")) {
		o->tcs_given = true;
		return want_range(p, "tcs", val, 1, MAX_THREADS, &o->tcs);
	}
	if (!strcmp(key, "count"))
		return want_range(p, "count", val, 1, MAX_COUNT, &o->count);
	if (!strcmp(key, "edmm"))
		return want_onoff(p, val, &o->edmm);
	if (!strcmp(key, "cgroup")) {
		o->cgroup = find_cgroup(p, val);
		return o->cgroup < -1 ? -EINVAL : 0;
	}
	if (!strcmp(key, "pid")) {
		if ((r = want_range(p, "pid", val, 1, INT_MAX, &pid)))
			return r;
		o->pid = (int)pid;
		return 0;
	}
	if (!strcmp(key, "start")) {
		if (!strcmp(val, "never")) {
			o->start_ns = EPCG_SCENARIO_NEVER;
			return 0;
		}
		return want_time(p, val, &o->start_ns);
	}
	return fail(p, "unknown option '%s' for 'enclave'", key);
}

static void workload_default(struct epcg_workload *wl)
{
	memset(wl, 0, sizeof(*wl));
	wl->pattern = EPCG_PATTERN_UNIFORM;
	wl->zipf_s = 1.0;
}

static int do_enclave(struct parser *p)
{
	struct epcg_scenario *sc = p->sc;
	struct enclave_opts o = { 0, 1, 1, 1, false, false, -1, 0, 0 };
	const char *name;
	unsigned first, nr;
	int r;

	if ((r = need(p, 2, "a name")))
		return r;
	name = p->word[1];
	if (!valid_name(name))
		return fail(p, "bad enclave name '%s' (letters, digits, '_' "
			    "and '-', at most %d)", name,
			    EPCG_SCENARIO_NAME_MAX - 1);
	for (unsigned i = 0; i < sc->nr_enclaves; i++)
		if (!strcmp(sc->enclaves[i].group, name))
			return fail(p, "enclave '%s' declared twice (first on "
				    "line %d)", name, sc->enclaves[i].line);
	for (unsigned i = 2; i < p->nr; i += 2) {
		if (i + 1 >= p->nr)
			return fail(p, "option '%s' needs a value", p->word[i]);
		if ((r = enclave_option(p, p->word[i], p->word[i + 1], &o)))
			return r;
	}
	if (!o.size)
		return fail(p, "enclave '%s' needs a size", name);
	if (!o.tcs_given)
		o.tcs = o.threads;
	if (o.tcs < o.threads)
		return fail(p, "tcs (%u) is less than threads (%u)", o.tcs,
			    o.threads);
	if (o.count > 1 && o.pid)
		return fail(p, "'pid' cannot be given with 'count'");
	first = sc->nr_enclaves;
	for (nr = 0; nr < o.count; nr++) {
		struct epcg_scenario_enclave *e;

		if ((r = grow(p, (void **)&sc->enclaves, &p->cap_enclaves,
			      sc->nr_enclaves, sizeof(*sc->enclaves))))
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
		workload_default(&e->wl);
		sc->nr_enclaves++;
	}
	return 0;
}

/* ---- workloads ---- */

/* "uniform", "zipf", "zipf:S", "scan"; PHASES/TRACE only if @full. */
static int want_pattern(struct parser *p, const char *s, bool full,
			enum epcg_pattern *pattern, double *zipf_s)
{
	char *end;
	double v;
	int i;

	if (!strncmp(s, "zipf:", 5)) {
		errno = 0;
		v = strtod(s + 5, &end);
		if (errno || end == s + 5 || *end || !isfinite(v) || v <= 0 ||
		    v > 100)
			return fail(p, "zipf exponent must be a number above 0 "
				    "(at most 100), not '%s'", s + 5);
		*pattern = EPCG_PATTERN_ZIPF;
		*zipf_s = v;
		return 0;
	}
	i = lookup(pattern_names, EPCG_PATTERN_NR, s);
	if (i < 0 || (!full && (i == EPCG_PATTERN_PHASES ||
				i == EPCG_PATTERN_TRACE)))
		return fail(p, "unknown access pattern '%s'", s);
	*pattern = (enum epcg_pattern)i;
	if (i == EPCG_PATTERN_ZIPF)
		*zipf_s = 1.0;
	return 0;
}

/* Offset and working-set size must lie within @size bytes. */
static int want_region(struct parser *p, uint64_t offset, uint64_t ws,
		       uint64_t size, const char *name)
{
	if (offset % EPCG_PAGE_SIZE || ws % EPCG_PAGE_SIZE)
		return fail(p, "offset and ws must be multiples of %u",
			    EPCG_PAGE_SIZE);
	if (offset >= size || ws > size - offset)
		return fail(p, "working set (offset + ws) exceeds enclave "
			    "'%s' (%llu bytes)", name,
			    (unsigned long long)size);
	return 0;
}

static char *trace_path(struct parser *p, const char *file)
{
	char *s;

	if (file[0] == '/' || !p->dir_len)
		return strdup(file);
	if (p->dir_len == 1 && p->dir[0] == '/') {
		s = malloc(strlen(file) + 2);
		if (s)
			sprintf(s, "/%s", file);
		return s;
	}
	s = malloc(p->dir_len + 1 + strlen(file) + 1);
	if (s)
		sprintf(s, "%.*s/%s", (int)p->dir_len, p->dir, file);
	return s;
}

static int trace_option(struct parser *p, const char *key, const char *val,
			struct epcg_trace_opts *t)
{
	uint64_t v;
	char *end;
	int i;

	if (!strcmp(key, "format")) {
		i = lookup(trace_format_names, EPCG_TRACE_FORMAT_NR, val);
		if (i < 0)
			return fail(p, "unknown trace format '%s' (txt, csv "
				    "or addr)", val);
		t->format = (enum epcg_trace_format)i;
		return 0;
	}
	if (!strcmp(key, "column"))
		return want_range(p, "column", val, 1, 64, &t->id_col);
	if (!strcmp(key, "header"))
		return want_onoff(p, val, &t->header);
	if (!strcmp(key, "delimiter")) {
		if (!strcmp(val, "tab"))
			t->delim = '\t';
		else if (!strcmp(val, "space"))
			t->delim = ' ';
		else if (strlen(val) == 1 && val[0] != '#')
			t->delim = val[0];
		else
			return fail(p, "delimiter must be one character, "
				    "'tab' or 'space', not '%s'", val);
		return 0;
	}
	if (!strcmp(key, "base")) {
		errno = 0;
		v = strtoull(val, &end, 0);
		if (errno || end == val || *end || val[0] == '-')
			return fail(p, "bad address '%s'", val);
		t->base = v;
		return 0;
	}
	return 1;	/* not a trace option */
}

static int workload_option(struct parser *p, const char *key,
			   const char *val, struct epcg_workload *wl)
{
	int r;

	if (wl->pattern == EPCG_PATTERN_TRACE) {
		r = trace_option(p, key, val, &wl->trace);
		if (r <= 0)
			return r;
	}
	if (!strcmp(key, "accesses"))
		return want_count(p, val, &wl->accesses);
	if (!strcmp(key, "duration"))
		return want_time(p, val, &wl->duration_ns);
	if (!strcmp(key, "think"))
		return want_time(p, val, &wl->think_ns);
	if (!strcmp(key, "ws"))
		return want_size(p, val, &wl->size);
	if (!strcmp(key, "offset"))
		return want_size(p, val, &wl->offset);
	return fail(p, "unknown option '%s' for 'workload'", key);
}

static int do_workload(struct parser *p)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_workload wl;
	unsigned first, count, i = 3;
	int r;

	if ((r = need(p, 3, "an enclave and a pattern")) ||
	    (r = find_enclaves(p, p->word[1], &first, &count)))
		return r;
	if (strcmp(sc->enclaves[first].group, p->word[1]))
		return fail(p, "workloads are per enclave declaration: use "
			    "'%s'", sc->enclaves[first].group);
	if (sc->enclaves[first].wl.line)
		return fail(p, "enclave '%s' already has a workload (line %d)",
			    p->word[1], sc->enclaves[first].wl.line);
	workload_default(&wl);
	wl.line = p->line;
	wl.trace.id_col = 1;
	wl.trace.delim = ',';
	if ((r = want_pattern(p, p->word[2], true, &wl.pattern, &wl.zipf_s)))
		return r;
	if (wl.pattern == EPCG_PATTERN_TRACE) {
		if (p->nr < 4)
			return fail(p, "'trace' needs a file");
		wl.trace_path = trace_path(p, p->word[3]);
		if (!wl.trace_path)
			return fail_nomem(p);
		i = 4;
	}
	for (; i < p->nr; i += 2) {
		if (!strcmp(p->word[i], "loop")) {
			wl.loop = true;
			i--;
			continue;
		}
		if (i + 1 >= p->nr) {
			r = fail(p, "option '%s' needs a value", p->word[i]);
			goto err_free;
		}
		if ((r = workload_option(p, p->word[i], p->word[i + 1], &wl)))
			goto err_free;
	}
	if ((r = want_region(p, wl.offset, wl.size, sc->enclaves[first].size,
			     p->word[1])))
		goto err_free;
	if (wl.loop && !wl.accesses && !wl.duration_ns) {
		r = fail(p, "'loop' needs 'accesses' or 'duration'");
		goto err_free;
	}
	if (wl.loop && wl.pattern != EPCG_PATTERN_PHASES &&
	    wl.pattern != EPCG_PATTERN_TRACE) {
		r = fail(p, "'loop' is for phases and trace workloads");
		goto err_free;
	}
	/* Each instance owns its copy (the phases are added to all). */
	for (unsigned k = 0; k < count; k++) {
		sc->enclaves[first + k].wl = wl;
		if (k && wl.trace_path) {
			sc->enclaves[first + k].wl.trace_path =
				strdup(wl.trace_path);
			if (!sc->enclaves[first + k].wl.trace_path)
				return fail_nomem(p);
		}
	}
	return 0;

err_free:
	free(wl.trace_path);
	return r;
}

static int do_phase(struct parser *p)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_phase ph = { 0 };
	struct epcg_scenario_enclave *e;
	unsigned first, count;
	int r;

	if ((r = need(p, 4, "an enclave, a duration and a pattern")) ||
	    (r = find_enclaves(p, p->word[1], &first, &count)))
		return r;
	e = &sc->enclaves[first];
	if (strcmp(e->group, p->word[1]))
		return fail(p, "workloads are per enclave declaration: use "
			    "'%s'", e->group);
	if (e->wl.pattern != EPCG_PATTERN_PHASES || !e->wl.line)
		return fail(p, "'phase' needs a 'workload %s phases' line "
			    "before it", p->word[1]);
	ph.line = p->line;
	ph.zipf_s = 1.0;
	if ((r = want_time(p, p->word[2], &ph.duration_ns)))
		return r;
	if (!ph.duration_ns)
		return fail(p, "a phase must last longer than 0");
	if ((r = want_pattern(p, p->word[3], false, &ph.pattern, &ph.zipf_s)))
		return r;
	for (unsigned i = 4; i < p->nr; i += 2) {
		const char *key = p->word[i];

		if (i + 1 >= p->nr)
			return fail(p, "option '%s' needs a value", key);
		if (!strcmp(key, "ws"))
			r = want_size(p, p->word[i + 1], &ph.size);
		else if (!strcmp(key, "offset"))
			r = want_size(p, p->word[i + 1], &ph.offset);
		else if (!strcmp(key, "think"))
			r = want_time(p, p->word[i + 1], &ph.think_ns);
		else
			r = fail(p, "unknown option '%s' for 'phase'", key);
		if (r)
			return r;
	}
	if ((r = want_region(p, ph.offset, ph.size, e->size, p->word[1])))
		return r;
	for (unsigned k = 0; k < count; k++) {
		struct epcg_workload *wl = &sc->enclaves[first + k].wl;
		struct epcg_phase *n;

		n = realloc(wl->phases, (wl->nr_phases + 1) * sizeof(*n));
		if (!n)
			return fail_nomem(p);
		wl->phases = n;
		wl->phases[wl->nr_phases++] = ph;
	}
	return 0;
}

/* ---- expectations and events ---- */

static int want_cmp(struct parser *p, const char *s, enum epcg_cmp *ret)
{
	int i = lookup(cmp_names, EPCG_CMP_NR, s);

	if (i < 0)
		return fail(p, "bad comparison '%s' (==, !=, <, <=, > or >=)",
			    s);
	*ret = (enum epcg_cmp)i;
	return 0;
}

static int want_value(struct parser *p, enum value_kind kind, const char *s,
		      uint64_t *ret)
{
	switch (kind) {
	case VALUE_BYTES:
		return want_limit(p, s, ret);
	case VALUE_TIME:
		return want_time(p, s, ret);
	default:
		return want_count(p, s, ret);
	}
}

/* "cgroup PATH METRIC OP VALUE" or "enclave NAME ..." from word @w. */
static int parse_expect(struct parser *p, unsigned w, struct epcg_expect *x)
{
	unsigned first, count;
	int m, o, r;

	memset(x, 0, sizeof(*x));
	x->line = p->line;
	if (p->nr < w + 4)
		return fail(p, "'expect' needs cgroup PATH METRIC OP VALUE or "
			    "enclave NAME outcome OUTCOME");
	if (!strcmp(p->word[w], "cgroup")) {
		x->target = EPCG_TARGET_CGROUP;
		x->index = find_cgroup(p, p->word[w + 1]);
		if (x->index < -1)
			return -EINVAL;
		x->count = 1;
	} else if (!strcmp(p->word[w], "enclave")) {
		x->target = EPCG_TARGET_ENCLAVE;
		if ((r = find_enclaves(p, p->word[w + 1], &first, &count)))
			return r;
		x->index = (int)first;
		x->count = count;
	} else {
		return fail(p, "expected 'cgroup' or 'enclave', not '%s'",
			    p->word[w]);
	}
	m = lookup(metric_names, EPCG_METRIC_NR, p->word[w + 2]);
	if (m < 0 || (x->target == EPCG_TARGET_CGROUP &&
		      !metric_info[m].cgroup) ||
	    (x->target == EPCG_TARGET_ENCLAVE && !metric_info[m].enclave))
		return fail(p, "unknown metric '%s' for %s", p->word[w + 2],
			    x->target == EPCG_TARGET_CGROUP ? "a cgroup" :
							      "an enclave");
	x->metric = (enum epcg_metric)m;
	if (x->metric == EPCG_METRIC_OUTCOME) {
		o = lookup(outcome_names, EPCG_OUTCOME_NR, p->word[w + 3]);
		if (o < 0)
			return fail(p, "unknown outcome '%s'", p->word[w + 3]);
		x->outcome = (enum epcg_outcome)o;
		if (p->nr == w + 4)
			return 0;
		if (p->nr != w + 6)
			return fail(p, "an outcome is followed by nothing or "
				    "by OP COUNT");
		x->counted = true;
		if ((r = want_cmp(p, p->word[w + 4], &x->cmp)))
			return r;
		return want_count(p, p->word[w + 5], &x->value);
	}
	if (p->nr != w + 5)
		return fail(p, "'expect' needs %s METRIC OP VALUE",
			    x->target == EPCG_TARGET_CGROUP ? "cgroup PATH" :
							      "enclave NAME");
	if ((r = want_cmp(p, p->word[w + 3], &x->cmp)))
		return r;
	return want_value(p, metric_info[m].kind, p->word[w + 4], &x->value);
}

static int do_expect(struct parser *p)
{
	struct epcg_scenario *sc = p->sc;
	int r;

	if ((r = grow(p, (void **)&sc->expects, &p->cap_expects,
		      sc->nr_expects, sizeof(*sc->expects))))
		return r;
	if ((r = parse_expect(p, 1, &sc->expects[sc->nr_expects])))
		return r;
	sc->nr_expects++;
	return 0;
}

static struct epcg_event *new_event(struct parser *p, uint64_t at)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_event *ev;

	if (grow(p, (void **)&sc->events, &p->cap_events, sc->nr_events,
		 sizeof(*sc->events)))
		return NULL;
	ev = &sc->events[sc->nr_events++];
	memset(ev, 0, sizeof(*ev));
	ev->line = p->line;
	ev->at_ns = at;
	ev->enclave = -1;
	ev->cgroup = -1;
	return ev;
}

/* One event per enclave of @name (an instance or a whole group). */
static int enclave_events(struct parser *p, uint64_t at,
			  enum epcg_event_kind kind, const char *name,
			  int cgroup)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_event *ev;
	unsigned first, count;
	int r;

	if ((r = find_enclaves(p, name, &first, &count)))
		return r;
	for (unsigned i = first; i < first + count; i++) {
		if (kind == EPCG_EVENT_START &&
		    sc->enclaves[i].start_ns != EPCG_SCENARIO_NEVER)
			return fail(p, "enclave '%s' has its own start time; "
				    "declare it 'start never' to start it "
				    "with an event", sc->enclaves[i].name);
		ev = new_event(p, at);
		if (!ev)
			return -ENOMEM;
		ev->kind = kind;
		ev->enclave = (int)i;
		ev->cgroup = cgroup;
	}
	return 0;
}

static int do_at(struct parser *p)
{
	static const char *const kinds[EPCG_EVENT_KIND_NR] = {
		"set", "start", "stop", "kill", "move", "expect",
	};
	struct epcg_event *ev;
	uint64_t at, max;
	int kind, cg, r;

	if ((r = need(p, 3, "a time and an event")) ||
	    (r = want_time(p, p->word[1], &at)))
		return r;
	kind = lookup(kinds, EPCG_EVENT_KIND_NR, p->word[2]);
	switch (kind) {
	case EPCG_EVENT_SET_MAX:
		if (p->nr != 6 || strcmp(p->word[4], "max"))
			return fail(p, "'set' needs CGROUP max VALUE");
		cg = find_cgroup(p, p->word[3]);
		if (cg < -1)
			return -EINVAL;
		if (cg == -1)
			return fail(p, "the root cgroup has no misc.max");
		if ((r = want_limit(p, p->word[5], &max)))
			return r;
		ev = new_event(p, at);
		if (!ev)
			return -ENOMEM;
		ev->kind = EPCG_EVENT_SET_MAX;
		ev->cgroup = cg;
		ev->value = max;
		return 0;
	case EPCG_EVENT_START:
	case EPCG_EVENT_STOP:
	case EPCG_EVENT_KILL:
		if (p->nr != 4)
			return fail(p, "'%s' needs an enclave", kinds[kind]);
		return enclave_events(p, at, (enum epcg_event_kind)kind,
				      p->word[3], -1);
	case EPCG_EVENT_MOVE:
		if (p->nr != 5)
			return fail(p, "'move' needs an enclave and a cgroup");
		cg = find_cgroup(p, p->word[4]);
		if (cg < -1)
			return -EINVAL;
		return enclave_events(p, at, EPCG_EVENT_MOVE, p->word[3], cg);
	case EPCG_EVENT_EXPECT:
		ev = new_event(p, at);
		if (!ev)
			return -ENOMEM;
		ev->kind = EPCG_EVENT_EXPECT;
		r = parse_expect(p, 3, &ev->expect);
		if (r)
			p->sc->nr_events--;
		return r;
	default:
		return fail(p, "unknown event '%s' (set, start, stop, kill, "
			    "move or expect)", p->word[2]);
	}
}

/* ---- lines ---- */

static const struct {
	const char *name;
	int (*fn)(struct parser *p);
} directives[] = {
	{ "epc", do_epc },	     { "section", do_section },
	{ "policy", do_policy },     { "seed", do_seed },
	{ "duration", do_duration }, { "workers", do_workers },
	{ "cost", do_cost },	     { "cgroup", do_cgroup },
	{ "enclave", do_enclave },   { "workload", do_workload },
	{ "phase", do_phase },	     { "expect", do_expect },
	{ "at", do_at },
};

/* Split @line (NUL-terminated, modified) into words; drop the comment. */
static int split(struct parser *p, char *line)
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
		if (p->nr == MAX_WORDS)
			return fail(p, "too many words (at most %d)",
				    MAX_WORDS);
		p->word[p->nr++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		if (*s)
			*s++ = 0;
	}
}

static int parse_line(struct parser *p, char *line)
{
	int r;

	if ((r = split(p, line)) || !p->nr)
		return r;
	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (!strcmp(p->word[0], directives[i].name))
			return directives[i].fn(p);
	return fail(p, "unknown directive '%s'", p->word[0]);
}

/* What the last line cannot show: checked at the declaring line. */
static int check_whole(struct parser *p)
{
	struct epcg_scenario *sc = p->sc;

	p->line = 0;
	if (!sc->nr_secs)
		return fail(p, "no EPC declared (add 'epc SIZE')");
	for (unsigned i = 0; i < sc->nr_enclaves; i++) {
		struct epcg_scenario_enclave *e = &sc->enclaves[i];
		bool started = e->start_ns != EPCG_SCENARIO_NEVER;

		if (e->wl.pattern == EPCG_PATTERN_PHASES && !e->wl.nr_phases) {
			p->line = e->wl.line;
			return fail(p, "workload of '%s' has no 'phase' lines",
				    e->group);
		}
		for (unsigned k = 0; k < sc->nr_events && !started; k++)
			started = sc->events[k].kind == EPCG_EVENT_START &&
				  sc->events[k].enclave == (int)i;
		if (!started) {
			p->line = e->line;
			return fail(p, "enclave '%s' is 'start never' but no "
				    "event starts it", e->name);
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
	struct parser p = { .err = err, .errlen = errlen };
	const char *slash, *pos = text, *end = text + len;
	char line[MAX_LINE + 2];
	struct epcg_scenario *sc;
	int r = 0;

	p.file = file ? file : "<scenario>";
	if (err && errlen)
		err[0] = 0;
	if (!ret || (!text && len))
		return fail(&p, "invalid arguments");
	slash = file ? strrchr(file, '/') : NULL;
	if (slash) {
		p.dir = file;
		p.dir_len = slash == file ? 1 : (size_t)(slash - file);
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc || !(sc->file = strdup(p.file))) {
		free(sc);
		return fail_nomem(&p);
	}
	p.sc = sc;
	scenario_defaults(sc);
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = (nl ? nl : end) - pos;

		p.line++;
		if (n > MAX_LINE) {
			r = fail(&p, "line too long (over %d characters)",
				 MAX_LINE);
			break;
		}
		if (memchr(pos, 0, n)) {
			r = fail(&p, "NUL byte in line");
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
