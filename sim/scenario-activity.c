// SPDX-License-Identifier: MIT
/*
 * What runs and when, in a scenario: workloads, their phases, timed
 * events and expectations (docs/scenarios.md).  The parser's core and the
 * machine, cgroup and enclave directives are in scenario.c.
 */
#include "scenario-internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- workloads ---- */

/* "uniform", "zipf", "zipf:S", "scan"; PHASES/TRACE only if @full. */
static int want_pattern(struct epcg_parser *p, const char *s, bool full,
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
			return epcg__scn_fail(
				p,
				"zipf exponent must be a number above 0 "
				"(at most 100), not '%s'",
				s + 5);
		*pattern = EPCG_PATTERN_ZIPF;
		*zipf_s = v;
		return 0;
	}
	i = epcg__scn_lookup(epcg__scn_pattern_names, EPCG_PATTERN_NR, s);
	if (i < 0 || (!full && (i == EPCG_PATTERN_PHASES ||
				i == EPCG_PATTERN_TRACE)))
		return epcg__scn_fail(p, "unknown access pattern '%s'", s);
	*pattern = (enum epcg_pattern)i;
	if (i == EPCG_PATTERN_ZIPF)
		*zipf_s = 1.0;
	return 0;
}

/* Offset and working-set size must lie within @size bytes. */
static int want_region(struct epcg_parser *p, uint64_t offset, uint64_t ws,
		       uint64_t size, const char *name)
{
	if (offset % EPCG_PAGE_SIZE || ws % EPCG_PAGE_SIZE)
		return epcg__scn_fail(p,
				      "offset and ws must be multiples of %u",
				      EPCG_PAGE_SIZE);
	if (offset >= size || ws > size - offset)
		return epcg__scn_fail(
			p,
			"working set (offset + ws) exceeds enclave "
			"'%s' (%llu bytes)",
			name, (unsigned long long)size);
	return 0;
}

static char *trace_path(struct epcg_parser *p, const char *file)
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

static int trace_option(struct epcg_parser *p, const char *key, const char *val,
			struct epcg_trace_opts *t)
{
	uint64_t v;
	char *end;
	int i;

	if (!strcmp(key, "format")) {
		i = epcg__scn_lookup(trace_format_names, EPCG_TRACE_FORMAT_NR,
				     val);
		if (i < 0)
			return epcg__scn_fail(
				p,
				"unknown trace format '%s' (txt, csv "
				"or addr)",
				val);
		t->format = (enum epcg_trace_format)i;
		return 0;
	}
	if (!strcmp(key, "column"))
		return epcg__scn_want_range(p, "column", val, 1, 64,
					    &t->id_col);
	if (!strcmp(key, "header"))
		return epcg__scn_want_onoff(p, val, &t->header);
	if (!strcmp(key, "delimiter")) {
		if (!strcmp(val, "tab"))
			t->delim = '\t';
		else if (!strcmp(val, "space"))
			t->delim = ' ';
		else if (strlen(val) == 1 && val[0] != '#')
			t->delim = val[0];
		else
			return epcg__scn_fail(
				p,
				"delimiter must be one character, "
				"'tab' or 'space', not '%s'",
				val);
		return 0;
	}
	if (!strcmp(key, "base")) {
		errno = 0;
		v = strtoull(val, &end, 0);
		if (errno || end == val || *end || val[0] == '-')
			return epcg__scn_fail(p, "bad address '%s'", val);
		t->base = v;
		return 0;
	}
	return 1;	/* not a trace option */
}

static int workload_option(struct epcg_parser *p, const char *key,
			   const char *val, struct epcg_workload *wl)
{
	int r;

	if (wl->pattern == EPCG_PATTERN_TRACE) {
		r = trace_option(p, key, val, &wl->trace);
		if (r <= 0)
			return r;
	}
	if (!strcmp(key, "accesses"))
		return epcg__scn_want_count(p, val, &wl->accesses);
	if (!strcmp(key, "duration"))
		return epcg__scn_want_time(p, val, &wl->duration_ns);
	if (!strcmp(key, "think"))
		return epcg__scn_want_time(p, val, &wl->think_ns);
	if (!strcmp(key, "ws"))
		return epcg__scn_want_size(p, val, &wl->size);
	if (!strcmp(key, "offset"))
		return epcg__scn_want_size(p, val, &wl->offset);
	return epcg__scn_fail(p, "unknown option '%s' for 'workload'", key);
}

int epcg__scn_do_workload(struct epcg_parser *p)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_workload wl;
	unsigned first, count, i = 3;
	int r;

	if ((r = epcg__scn_need(p, 3, "an enclave and a pattern")) ||
	    (r = epcg__scn_find_enclaves(p, p->word[1], &first, &count)))
		return r;
	if (strcmp(sc->enclaves[first].group, p->word[1]))
		return epcg__scn_fail(
			p,
			"workloads are per enclave declaration: use "
			"'%s'",
			sc->enclaves[first].group);
	if (sc->enclaves[first].wl.line)
		return epcg__scn_fail(
			p, "enclave '%s' already has a workload (line %d)",
			p->word[1], sc->enclaves[first].wl.line);
	epcg__scn_workload_default(&wl);
	wl.line = p->line;
	wl.trace.id_col = 1;
	wl.trace.delim = ',';
	if ((r = want_pattern(p, p->word[2], true, &wl.pattern, &wl.zipf_s)))
		return r;
	if (wl.pattern == EPCG_PATTERN_TRACE) {
		if (p->nr < 4)
			return epcg__scn_fail(p, "'trace' needs a file");
		wl.trace_path = trace_path(p, p->word[3]);
		if (!wl.trace_path)
			return epcg__scn_nomem(p);
		i = 4;
	}
	for (; i < p->nr; i += 2) {
		if (!strcmp(p->word[i], "loop")) {
			wl.loop = true;
			i--;
			continue;
		}
		if (i + 1 >= p->nr) {
			r = epcg__scn_fail(p, "option '%s' needs a value",
					   p->word[i]);
			goto err_free;
		}
		if ((r = workload_option(p, p->word[i], p->word[i + 1], &wl)))
			goto err_free;
	}
	if ((r = want_region(p, wl.offset, wl.size, sc->enclaves[first].size,
			     p->word[1])))
		goto err_free;
	if (wl.loop && !wl.accesses && !wl.duration_ns) {
		r = epcg__scn_fail(p, "'loop' needs 'accesses' or 'duration'");
		goto err_free;
	}
	if (wl.loop && wl.pattern != EPCG_PATTERN_PHASES &&
	    wl.pattern != EPCG_PATTERN_TRACE) {
		r = epcg__scn_fail(p,
				   "'loop' is for phases and trace workloads");
		goto err_free;
	}
	/* Each instance owns its copy (the phases are added to all). */
	for (unsigned k = 0; k < count; k++) {
		sc->enclaves[first + k].wl = wl;
		if (k && wl.trace_path) {
			sc->enclaves[first + k].wl.trace_path =
				strdup(wl.trace_path);
			if (!sc->enclaves[first + k].wl.trace_path)
				return epcg__scn_nomem(p);
		}
	}
	return 0;

err_free:
	free(wl.trace_path);
	return r;
}

int epcg__scn_do_phase(struct epcg_parser *p)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_phase ph = { 0 };
	struct epcg_scenario_enclave *e;
	unsigned first, count;
	int r;

	if ((r = epcg__scn_need(p, 4,
				"an enclave, a duration and a pattern")) ||
	    (r = epcg__scn_find_enclaves(p, p->word[1], &first, &count)))
		return r;
	e = &sc->enclaves[first];
	if (strcmp(e->group, p->word[1]))
		return epcg__scn_fail(
			p,
			"workloads are per enclave declaration: use "
			"'%s'",
			e->group);
	if (e->wl.pattern != EPCG_PATTERN_PHASES || !e->wl.line)
		return epcg__scn_fail(
			p,
			"'phase' needs a 'workload %s phases' line "
			"before it",
			p->word[1]);
	ph.line = p->line;
	ph.zipf_s = 1.0;
	if ((r = epcg__scn_want_time(p, p->word[2], &ph.duration_ns)))
		return r;
	if (!ph.duration_ns)
		return epcg__scn_fail(p, "a phase must last longer than 0");
	if ((r = want_pattern(p, p->word[3], false, &ph.pattern, &ph.zipf_s)))
		return r;
	for (unsigned i = 4; i < p->nr; i += 2) {
		const char *key = p->word[i];

		if (i + 1 >= p->nr)
			return epcg__scn_fail(p, "option '%s' needs a value",
					      key);
		if (!strcmp(key, "ws"))
			r = epcg__scn_want_size(p, p->word[i + 1], &ph.size);
		else if (!strcmp(key, "offset"))
			r = epcg__scn_want_size(p, p->word[i + 1], &ph.offset);
		else if (!strcmp(key, "think"))
			r = epcg__scn_want_time(p, p->word[i + 1],
						&ph.think_ns);
		else
			r = epcg__scn_fail(p, "unknown option '%s' for 'phase'",
					   key);
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
			return epcg__scn_nomem(p);
		wl->phases = n;
		wl->phases[wl->nr_phases++] = ph;
	}
	return 0;
}

/* ---- expectations and events ---- */

static int want_cmp(struct epcg_parser *p, const char *s, enum epcg_cmp *ret)
{
	int i = epcg__scn_lookup(cmp_names, EPCG_CMP_NR, s);

	if (i < 0)
		return epcg__scn_fail(
			p, "bad comparison '%s' (==, !=, <, <=, > or >=)", s);
	*ret = (enum epcg_cmp)i;
	return 0;
}

static int want_value(struct epcg_parser *p, enum value_kind kind,
		      const char *s, uint64_t *ret)
{
	switch (kind) {
	case VALUE_BYTES:
		return epcg__scn_want_limit(p, s, ret);
	case VALUE_TIME:
		return epcg__scn_want_time(p, s, ret);
	default:
		return epcg__scn_want_count(p, s, ret);
	}
}

/* "cgroup PATH METRIC OP VALUE" or "enclave NAME ..." from word @w. */
static int parse_expect(struct epcg_parser *p, unsigned w,
			struct epcg_expect *x)
{
	unsigned first, count;
	int m, o, r;

	memset(x, 0, sizeof(*x));
	x->line = p->line;
	if (p->nr < w + 4)
		return epcg__scn_fail(
			p, "'expect' needs cgroup PATH METRIC OP VALUE or "
			   "enclave NAME outcome OUTCOME");
	if (!strcmp(p->word[w], "cgroup")) {
		x->target = EPCG_TARGET_CGROUP;
		x->index = epcg__scn_find_cgroup(p, p->word[w + 1]);
		if (x->index < -1)
			return -EINVAL;
		x->count = 1;
	} else if (!strcmp(p->word[w], "enclave")) {
		x->target = EPCG_TARGET_ENCLAVE;
		if ((r = epcg__scn_find_enclaves(p, p->word[w + 1], &first,
						 &count)))
			return r;
		x->index = (int)first;
		x->count = count;
	} else {
		return epcg__scn_fail(
			p, "expected 'cgroup' or 'enclave', not '%s'",
			p->word[w]);
	}
	m = epcg__scn_lookup(epcg__scn_metric_names, EPCG_METRIC_NR,
			     p->word[w + 2]);
	if (m < 0 || (x->target == EPCG_TARGET_CGROUP &&
		      !metric_info[m].cgroup) ||
	    (x->target == EPCG_TARGET_ENCLAVE && !metric_info[m].enclave))
		return epcg__scn_fail(p, "unknown metric '%s' for %s",
				      p->word[w + 2],
				      x->target == EPCG_TARGET_CGROUP ?
					      "a cgroup" :
					      "an enclave");
	x->metric = (enum epcg_metric)m;
	if (x->metric == EPCG_METRIC_OUTCOME) {
		o = epcg__scn_lookup(epcg__scn_outcome_names, EPCG_OUTCOME_NR,
				     p->word[w + 3]);
		if (o < 0)
			return epcg__scn_fail(p, "unknown outcome '%s'",
					      p->word[w + 3]);
		x->outcome = (enum epcg_outcome)o;
		if (p->nr == w + 4)
			return 0;
		if (p->nr != w + 6)
			return epcg__scn_fail(
				p, "an outcome is followed by nothing or "
				   "by OP COUNT");
		x->counted = true;
		if ((r = want_cmp(p, p->word[w + 4], &x->cmp)))
			return r;
		return epcg__scn_want_count(p, p->word[w + 5], &x->value);
	}
	if (p->nr != w + 5)
		return epcg__scn_fail(p, "'expect' needs %s METRIC OP VALUE",
			    x->target == EPCG_TARGET_CGROUP ? "cgroup PATH" :
							      "enclave NAME");
	if ((r = want_cmp(p, p->word[w + 3], &x->cmp)))
		return r;
	return want_value(p, metric_info[m].kind, p->word[w + 4], &x->value);
}

int epcg__scn_do_expect(struct epcg_parser *p)
{
	struct epcg_scenario *sc = p->sc;
	int r;

	if ((r = epcg__scn_grow(p, (void **)&sc->expects, &p->cap_expects,
		      sc->nr_expects, sizeof(*sc->expects))))
		return r;
	if ((r = parse_expect(p, 1, &sc->expects[sc->nr_expects])))
		return r;
	sc->nr_expects++;
	return 0;
}

static struct epcg_event *new_event(struct epcg_parser *p, uint64_t at)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_event *ev;

	if (epcg__scn_grow(p, (void **)&sc->events, &p->cap_events,
			   sc->nr_events, sizeof(*sc->events)))
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
static int enclave_events(struct epcg_parser *p, uint64_t at,
			  enum epcg_event_kind kind, const char *name,
			  int cgroup)
{
	struct epcg_scenario *sc = p->sc;
	struct epcg_event *ev;
	unsigned first, count;
	int r;

	if ((r = epcg__scn_find_enclaves(p, name, &first, &count)))
		return r;
	for (unsigned i = first; i < first + count; i++) {
		if (kind == EPCG_EVENT_START &&
		    sc->enclaves[i].start_ns != EPCG_SCENARIO_NEVER)
			return epcg__scn_fail(
				p,
				"enclave '%s' has its own start time; "
				"declare it 'start never' to start it "
				"with an event",
				sc->enclaves[i].name);
		ev = new_event(p, at);
		if (!ev)
			return -ENOMEM;
		ev->kind = kind;
		ev->enclave = (int)i;
		ev->cgroup = cgroup;
	}
	return 0;
}

int epcg__scn_do_at(struct epcg_parser *p)
{
	static const char *const kinds[EPCG_EVENT_KIND_NR] = {
		"set", "start", "stop", "kill", "move", "expect",
	};
	struct epcg_event *ev;
	uint64_t at, max;
	int kind, cg, r;

	if ((r = epcg__scn_need(p, 3, "a time and an event")) ||
	    (r = epcg__scn_want_time(p, p->word[1], &at)))
		return r;
	kind = epcg__scn_lookup(kinds, EPCG_EVENT_KIND_NR, p->word[2]);
	switch (kind) {
	case EPCG_EVENT_SET_MAX:
		if (p->nr != 6 || strcmp(p->word[4], "max"))
			return epcg__scn_fail(p,
					      "'set' needs CGROUP max VALUE");
		cg = epcg__scn_find_cgroup(p, p->word[3]);
		if (cg < -1)
			return -EINVAL;
		if (cg == -1)
			return epcg__scn_fail(
				p, "the root cgroup has no misc.max");
		if ((r = epcg__scn_want_limit(p, p->word[5], &max)))
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
			return epcg__scn_fail(p, "'%s' needs an enclave",
					      kinds[kind]);
		return enclave_events(p, at, (enum epcg_event_kind)kind,
				      p->word[3], -1);
	case EPCG_EVENT_MOVE:
		if (p->nr != 5)
			return epcg__scn_fail(
				p, "'move' needs an enclave and a cgroup");
		cg = epcg__scn_find_cgroup(p, p->word[4]);
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
		return epcg__scn_fail(
			p,
			"unknown event '%s' (set, start, stop, kill, "
			"move or expect)",
			p->word[2]);
	}
}
