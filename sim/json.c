// SPDX-License-Identifier: MIT
/*
 * Results as JSON (`epcg run --json FILE`; the schema is in
 * docs/simulator.md).
 *
 * A small writer of our own: keys in a fixed order, integers only (times
 * in nanoseconds, sizes in bytes), null for "no limit" and "never", and
 * strings escaped as RFC 8259 requires (quotation mark, reverse solidus
 * and control characters; everything else, UTF-8 included, as it is).
 * Equal results therefore give equal bytes.  Containers are laid out one
 * member per line, except those marked flat (a cgroup's counters, an
 * array of samples), which stay on one line to keep the file readable.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include <inttypes.h>

#include "results.h"

#define JSON_DEPTH 8

struct jw {
	FILE *f;
	int depth;
	bool first[JSON_DEPTH];
	bool flat[JSON_DEPTH];
};

static void jw_string(struct jw *w, const char *s)
{
	fputc('"', w->f);
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(w->f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", w->f);
		else if (*p == '\t')
			fputs("\\t", w->f);
		else if (*p == '\r')
			fputs("\\r", w->f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(w->f, "\\u%04x", *p);
		else
			fputc(*p, w->f);
	}
	fputc('"', w->f);
}

/* Start a member (with @key inside an object, without in an array). */
static void jw_member(struct jw *w, const char *key)
{
	if (w->depth) {
		if (!w->first[w->depth])
			fputc(',', w->f);
		if (w->flat[w->depth]) {
			if (!w->first[w->depth])
				fputc(' ', w->f);
		} else {
			fprintf(w->f, "\n%*s", 2 * w->depth, "");
		}
		w->first[w->depth] = false;
	}
	if (key) {
		jw_string(w, key);
		fputs(": ", w->f);
	}
}

static void jw_open(struct jw *w, const char *key, char c, bool flat)
{
	jw_member(w, key);
	fputc(c, w->f);
	w->depth++;
	w->first[w->depth] = true;
	w->flat[w->depth] = flat || (w->depth > 1 && w->flat[w->depth - 1]);
}

static void jw_close(struct jw *w, char c)
{
	bool empty = w->first[w->depth], flat = w->flat[w->depth];

	w->depth--;
	if (!empty && !flat)
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
	fputc(c, w->f);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_member(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

static void jw_int(struct jw *w, const char *key, int v)
{
	jw_member(w, key);
	fprintf(w->f, "%d", v);
}

/* @v, or null if it is @none (no limit, never). */
static void jw_u64_or_null(struct jw *w, const char *key, uint64_t v,
			   uint64_t none)
{
	jw_member(w, key);
	if (v == none)
		fputs("null", w->f);
	else
		fprintf(w->f, "%" PRIu64, v);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_member(w, key);
	if (s)
		jw_string(w, s);
	else
		fputs("null", w->f);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_member(w, key);
	fputs(v ? "true" : "false", w->f);
}

/* ---- the schema ---- */

static const char *errno_name(int err)
{
	switch (-err) {
	case 0:
		return NULL;
	case ENOMEM:
		return "ENOMEM";
	case EFAULT:
		return "EFAULT";
	case EINTR:
		return "EINTR";
	case EIO:
		return "EIO";
	case EBUSY:
		return "EBUSY";
	case EINVAL:
		return "EINVAL";
	default:
		return "EUNKNOWN";
	}
}

static void write_stats(struct jw *w, const struct epcg_sgx_stats *st)
{
	jw_u64(w, "ewb", st->ewb);
	jw_u64(w, "eldu", st->eldu);
	jw_u64(w, "faults", st->faults);
	jw_u64(w, "reclaim_scans", st->reclaim_scans);
	jw_u64(w, "enomem", st->enomem);
	jw_u64(w, "sigbus", st->sigbus);
	jw_u64(w, "paging_ns", st->paging_ns);
}

static void write_cgroups(struct jw *w, const struct epcg_results *r)
{
	jw_open(w, "cgroups", '[', false);
	for (unsigned i = 0; i < r->nr_cgroups; i++) {
		const struct epcg_result_cgroup *c = &r->cgroups[i];

		jw_open(w, NULL, '{', true);
		jw_str(w, "path", c->path);
		jw_str(w, "parent",
		       c->parent < 0 ? NULL : r->cgroups[c->parent].path);
		jw_u64_or_null(w, "max", c->max, EPCG_SCENARIO_MAX);
		jw_u64(w, "current", c->current);
		jw_u64(w, "peak", c->peak);
		jw_u64(w, "events_max", c->events);
		jw_u64(w, "events_local_max", c->events_local);
		write_stats(w, &c->total);
		jw_open(w, "local", '{', true);
		write_stats(w, &c->local);
		jw_close(w, '}');
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void write_enclaves(struct jw *w, const struct epcg_results *r)
{
	jw_open(w, "enclaves", '[', false);
	for (unsigned i = 0; i < r->nr_enclaves; i++) {
		const struct epcg_result_enclave *e = &r->enclaves[i];

		jw_open(w, NULL, '{', true);
		jw_str(w, "name", e->name);
		jw_str(w, "group", e->group);
		jw_str(w, "cgroup", r->cgroups[e->cgroup].path);
		jw_int(w, "pid", e->pid);
		jw_u64(w, "threads", e->threads);
		jw_u64(w, "size", e->size);
		jw_u64(w, "pages", e->pages);
		jw_u64(w, "accesses", e->accesses);
		jw_u64(w, "faults", e->faults);
		jw_u64(w, "ewb", e->ewb);
		jw_u64(w, "eldu", e->eldu);
		jw_u64(w, "sigbus", e->sigbus);
		jw_str(w, "outcome", epcg_outcome_name(e->outcome));
		jw_str(w, "error", errno_name(e->error));
		jw_u64_or_null(w, "start_ns", e->start_ns, EPCG_SCENARIO_NEVER);
		jw_u64_or_null(w, "end_ns", e->end_ns, EPCG_SCENARIO_NEVER);
		jw_u64(w, "virtual_ns", e->virtual_ns);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void write_expects(struct jw *w, const struct epcg_results *r)
{
	jw_open(w, "expects", '[', false);
	for (unsigned i = 0; i < r->nr_expects; i++) {
		const struct epcg_result_expect *x = &r->expects[i];

		jw_open(w, NULL, '{', true);
		jw_int(w, "line", x->line);
		jw_str(w, "text", x->text);
		jw_bool(w, "timed", x->timed);
		jw_u64(w, "at_ns", x->at_ns);
		jw_bool(w, "reached", x->reached);
		jw_bool(w, "passed", x->passed);
		jw_u64(w, "actual", x->actual);
		jw_str(w, "detail", x->detail);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void write_events(struct jw *w, const struct epcg_results *r)
{
	jw_open(w, "events", '[', false);
	for (unsigned i = 0; i < r->nr_events; i++) {
		jw_open(w, NULL, '{', true);
		jw_int(w, "line", r->events[i].line);
		jw_u64(w, "at_ns", r->events[i].at_ns);
		jw_str(w, "text", r->events[i].text);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

/* What one field of a sample is called and where it is. */
enum sample_field {
	FIELD_CURRENT,
	FIELD_MAX,
	FIELD_FAULTS,
	FIELD_EWB,
	FIELD_ELDU,
	FIELD_NR
};

static void write_samples(struct jw *w, const struct epcg_results *r,
			  unsigned c, enum sample_field f)
{
	static const char *const names[FIELD_NR] = {
		"current", "max", "faults", "ewb", "eldu",
	};

	jw_open(w, names[f], '[', true);
	for (unsigned i = 0; i < r->series.nr; i++) {
		const struct epcg_result_sample *s =
			epcg_result_sample_at(r, i, c);

		switch (f) {
		case FIELD_CURRENT:
			jw_u64(w, NULL, s->current);
			break;
		case FIELD_MAX:
			jw_u64_or_null(w, NULL, s->max, EPCG_SCENARIO_MAX);
			break;
		case FIELD_FAULTS:
			jw_u64(w, NULL, s->faults);
			break;
		case FIELD_EWB:
			jw_u64(w, NULL, s->ewb);
			break;
		default:
			jw_u64(w, NULL, s->eldu);
			break;
		}
	}
	jw_close(w, ']');
}

static void write_series(struct jw *w, const struct epcg_results *r)
{
	jw_open(w, "series", '{', false);
	jw_u64(w, "interval_ns", r->series.interval_ns);
	jw_open(w, "t_ns", '[', true);
	for (unsigned i = 0; i < r->series.nr; i++)
		jw_u64(w, NULL, r->series.t_ns[i]);
	jw_close(w, ']');
	jw_open(w, "cgroups", '[', false);
	for (unsigned c = 0; c < r->nr_cgroups; c++) {
		jw_open(w, NULL, '{', false);
		jw_str(w, "path", r->cgroups[c].path);
		for (int f = 0; f < FIELD_NR; f++)
			write_samples(w, r, c, (enum sample_field)f);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

int epcg_results_write_json(const struct epcg_results *r, FILE *f)
{
	struct jw w = { .f = f };

	jw_open(&w, NULL, '{', false);
	jw_u64(&w, "version", r->version);
	jw_str(&w, "scenario", r->scenario);
	jw_u64(&w, "seed", r->seed);
	jw_str(&w, "policy", epcg_sgx_policy_name(r->policy));
	jw_u64(&w, "epc_bytes", r->epc_bytes);
	jw_open(&w, "sections", '[', true);
	for (unsigned i = 0; i < r->nr_sections; i++)
		jw_u64(&w, NULL, r->section_bytes[i]);
	jw_close(&w, ']');
	jw_u64(&w, "duration_ns", r->duration_ns);
	jw_u64(&w, "virtual_ns", r->virtual_ns);
	jw_str(&w, "end", epcg_results_end_name(r->end));
	jw_u64(&w, "accesses", r->accesses);
	jw_open(&w, "costs_ns", '{', true);
	for (int i = 0; i < EPCG_COST_NR; i++)
		jw_u64(&w, epcg_scenario_cost_name(i), r->cost_ns[i]);
	jw_close(&w, '}');
	jw_open(&w, "machine", '{', true);
	write_stats(&w, &r->machine);
	jw_close(&w, '}');
	write_cgroups(&w, r);
	write_enclaves(&w, r);
	jw_u64(&w, "passed", r->nr_expects - r->nr_failed);
	jw_u64(&w, "failed", r->nr_failed);
	write_expects(&w, r);
	write_events(&w, r);
	write_series(&w, r);
	jw_close(&w, '}');
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}
