// SPDX-License-Identifier: MIT
/*
 * The scenario parser's values: sizes, times, counts, names, and the
 * "FILE:LINE: message" reporting every directive uses (scenario.c).
 */
#include "scenario-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const epcg__scn_cost_names[EPCG_COST_NR] = {
	"access", "fault", "ewb",  "eldu",    "eblock",  "etrack", "ipi",
	"epa",	  "eadd",  "eaug", "eremove", "ecreate", "einit", "eenter",
};

const char *const epcg__scn_metric_names[EPCG_METRIC_NR] = {
	"current",   "peak",	"max",	   "events", "events_local",
	"evictions", "reloads", "faults",  "scans",  "enomem",
	"sigbus",    "accesses", "runtime", "outcome",
};

const char *const epcg__scn_outcome_names[EPCG_OUTCOME_NR] = {
	"ok",	  "ENOMEM",  "SIGBUS",	"EFAULT",
	"killed", "stopped", "running", "failed",
};

const char *const epcg__scn_pattern_names[EPCG_PATTERN_NR] = {
	"uniform", "zipf", "scan", "phases", "trace",
};

/* Report "FILE:LINE: message" and fail the parse. */
int epcg__scn_fail(struct epcg_parser *p, const char *fmt, ...)
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

int epcg__scn_nomem(struct epcg_parser *p)
{
	epcg__scn_fail(p, "out of memory");
	return -ENOMEM;
}

/* Grow *@arr (of *@cap elements of @size) to hold @nr + 1. */
int epcg__scn_grow(struct epcg_parser *p, void **arr, unsigned *cap,
		   unsigned nr, size_t size)
{
	unsigned ncap;
	void *n;

	if (nr < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 8;
	n = realloc(*arr, ncap * size);
	if (!n)
		return epcg__scn_nomem(p);
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

int epcg__scn_lookup(const char *const *names, unsigned nr, const char *s)
{
	for (unsigned i = 0; i < nr; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

const char *epcg_scenario_cost_name(enum epcg_scenario_cost cost)
{
	return (unsigned)cost < EPCG_COST_NR ? epcg__scn_cost_names[cost] :
					       NULL;
}

const char *epcg_metric_name(enum epcg_metric metric)
{
	return (unsigned)metric < EPCG_METRIC_NR ?
		       epcg__scn_metric_names[metric] :
		       NULL;
}

const char *epcg_outcome_name(enum epcg_outcome outcome)
{
	return (unsigned)outcome < EPCG_OUTCOME_NR ?
		       epcg__scn_outcome_names[outcome] :
		       NULL;
}

const char *epcg_pattern_name(enum epcg_pattern pattern)
{
	return (unsigned)pattern < EPCG_PATTERN_NR ?
		       epcg__scn_pattern_names[pattern] :
		       NULL;
}

int epcg__scn_want_size(struct epcg_parser *p, const char *s, uint64_t *ret)
{
	if (epcg_scenario_parse_size(s, ret))
		return epcg__scn_fail(p, "bad size '%s'", s);
	return 0;
}

int epcg__scn_want_limit(struct epcg_parser *p, const char *s, uint64_t *ret)
{
	if (!strcmp(s, "max")) {
		*ret = EPCG_SCENARIO_MAX;
		return 0;
	}
	return epcg__scn_want_size(p, s, ret);
}

int epcg__scn_want_time(struct epcg_parser *p, const char *s, uint64_t *ret)
{
	if (epcg_scenario_parse_time(s, ret))
		return epcg__scn_fail(p, "bad time '%s' (use ns, us, ms or s)",
				      s);
	return 0;
}

int epcg__scn_want_count(struct epcg_parser *p, const char *s, uint64_t *ret)
{
	char *end;

	if (parse_u64(s, ret, &end) || *end)
		return epcg__scn_fail(p, "bad number '%s'", s);
	return 0;
}

/* A count in [@lo, @hi], named @what in the message. */
int epcg__scn_want_range(struct epcg_parser *p, const char *what, const char *s,
		      unsigned lo, unsigned hi, unsigned *ret)
{
	uint64_t v;
	char *end;

	if (parse_u64(s, &v, &end) || *end || v < lo || v > hi)
		return epcg__scn_fail(p, "%s must be %u to %u, not '%s'", what,
				      lo, hi, s);
	*ret = (unsigned)v;
	return 0;
}

int epcg__scn_want_onoff(struct epcg_parser *p, const char *s, bool *ret)
{
	if (!strcmp(s, "on") || !strcmp(s, "yes")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(s, "off") || !strcmp(s, "no")) {
		*ret = false;
		return 0;
	}
	return epcg__scn_fail(p, "expected on or off, not '%s'", s);
}

int epcg__scn_want_page_multiple(struct epcg_parser *p, const char *what,
			      uint64_t v)
{
	if (!v || v % EPCG_PAGE_SIZE)
		return epcg__scn_fail(p, "%s must be a non-zero multiple of %u",
				      what, EPCG_PAGE_SIZE);
	return 0;
}

bool epcg__scn_valid_name(const char *s)
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
