// SPDX-License-Identifier: MIT
/*
 * The terminal report of a run (`epcg run` without --quiet): a header
 * saying what ran (scenario, policy, seed, EPC), a row per cgroup, a row
 * per enclave, and the expectations as kselftest-style PASS and FAIL
 * lines.  Columns are as wide as their widest cell; sizes are binary
 * (K, M, G) with one decimal unless exact; times are virtual.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>

#include "results.h"

#define CELL 128
#define MAX_COLS 12

/* A table: a header row and rows of cells, all formatted beforehand. */
struct table {
	unsigned cols;
	unsigned rows; /* the header included */
	char (*cell)[MAX_COLS][CELL];
	unsigned width[MAX_COLS];
};

static int table_init(struct table *t, unsigned rows, unsigned cols)
{
	t->cols = cols;
	t->rows = 0;
	memset(t->width, 0, sizeof(t->width));
	t->cell = calloc(rows + 1, sizeof(*t->cell));
	return t->cell ? 0 : -ENOMEM;
}

static void table_set(struct table *t, unsigned row, unsigned col,
		      const char *s)
{
	size_t n;

	snprintf(t->cell[row][col], CELL, "%s", s);
	n = strlen(t->cell[row][col]);
	if (n > t->width[col])
		t->width[col] = (unsigned)n;
	if (row + 1 > t->rows)
		t->rows = row + 1;
}

/* @align: 'L' (names, words) or 'R' (numbers) per column. */
static void table_print(struct table *t, FILE *f, const char *align)
{
	for (unsigned r = 0; r < t->rows; r++) {
		for (unsigned c = 0; c < t->cols; c++) {
			bool last = c + 1 == t->cols;

			if (align[c] == 'L')
				fprintf(f, "%-*s", last ? 0 : (int)t->width[c],
					t->cell[r][c]);
			else
				fprintf(f, "%*s", (int)t->width[c],
					t->cell[r][c]);
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
	free(t->cell);
	t->cell = NULL;
}

static const char *fmt_size(char *buf, uint64_t v)
{
	static const char units[] = "KMGT";
	double d = (double)v;
	int u = -1;

	if (v == EPCG_SCENARIO_MAX)
		return "max";
	if (v < 1024) {
		snprintf(buf, CELL, "%" PRIu64, v);
		return buf;
	}
	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	if (v % (1ull << (10 * (u + 1))) == 0)
		snprintf(buf, CELL, "%.0f%c", d, units[u]);
	else
		snprintf(buf, CELL, "%.1f%c", d, units[u]);
	return buf;
}

static const char *fmt_time(char *buf, uint64_t ns)
{
	if (ns >= 1000000000ull)
		snprintf(buf, CELL, "%.3fs", (double)ns / 1e9);
	else if (ns >= 1000000ull)
		snprintf(buf, CELL, "%.3fms", (double)ns / 1e6);
	else if (ns >= 1000ull)
		snprintf(buf, CELL, "%.3fus", (double)ns / 1e3);
	else
		snprintf(buf, CELL, "%" PRIu64 "ns", ns);
	return buf;
}

static const char *fmt_u64(char *buf, uint64_t v)
{
	snprintf(buf, CELL, "%" PRIu64, v);
	return buf;
}

static int print_header(const struct epcg_results *r, FILE *f)
{
	char epc[CELL], end[CELL];

	fprintf(f,
		"epcg run: %s  policy %s  seed %" PRIu64 "  EPC %s in %u "
		"section%s  ran %s (%s)\n\n",
		r->scenario, epcg_sgx_policy_name(r->policy), r->seed,
		fmt_size(epc, r->epc_bytes), r->nr_sections,
		r->nr_sections == 1 ? "" : "s", fmt_time(end, r->virtual_ns),
		r->end == EPCG_RESULTS_END_DURATION ? "its duration" :
						      "all done");
	return 0;
}

static int print_cgroups(const struct epcg_results *r, FILE *f)
{
	static const char *const head[] = {
		"cgroup", "max",  "current", "peak",   "events", "events.local",
		"EWB",	  "ELDU", "faults",  "ENOMEM", "SIGBUS",
	};
	unsigned cols = sizeof(head) / sizeof(head[0]);
	struct table t;
	char b[CELL];

	if (table_init(&t, r->nr_cgroups, cols))
		return -ENOMEM;
	for (unsigned c = 0; c < cols; c++)
		table_set(&t, 0, c, head[c]);
	for (unsigned i = 0; i < r->nr_cgroups; i++) {
		const struct epcg_result_cgroup *c = &r->cgroups[i];
		unsigned row = i + 1;

		table_set(&t, row, 0, c->path);
		table_set(&t, row, 1, fmt_size(b, c->max));
		table_set(&t, row, 2, fmt_size(b, c->current));
		table_set(&t, row, 3, fmt_size(b, c->peak));
		table_set(&t, row, 4, fmt_u64(b, c->events));
		table_set(&t, row, 5, fmt_u64(b, c->events_local));
		table_set(&t, row, 6, fmt_u64(b, c->total.ewb));
		table_set(&t, row, 7, fmt_u64(b, c->total.eldu));
		table_set(&t, row, 8, fmt_u64(b, c->total.faults));
		table_set(&t, row, 9, fmt_u64(b, c->total.enomem));
		table_set(&t, row, 10, fmt_u64(b, c->total.sigbus));
	}
	table_print(&t, f, "LRRRRRRRRRR");
	return 0;
}

static int print_enclaves(const struct epcg_results *r, FILE *f)
{
	static const char *const head[] = {
		"enclave", "cgroup",  "pages", "accesses",
		"faults",  "outcome", "time",
	};
	unsigned cols = sizeof(head) / sizeof(head[0]);
	struct table t;
	char b[CELL];

	if (!r->nr_enclaves)
		return 0;
	if (table_init(&t, r->nr_enclaves, cols))
		return -ENOMEM;
	for (unsigned c = 0; c < cols; c++)
		table_set(&t, 0, c, head[c]);
	for (unsigned i = 0; i < r->nr_enclaves; i++) {
		const struct epcg_result_enclave *e = &r->enclaves[i];
		unsigned row = i + 1;

		table_set(&t, row, 0, e->name);
		table_set(&t, row, 1, r->cgroups[e->cgroup].path);
		table_set(&t, row, 2, fmt_u64(b, e->pages));
		table_set(&t, row, 3, fmt_u64(b, e->accesses));
		table_set(&t, row, 4, fmt_u64(b, e->faults));
		table_set(&t, row, 5, epcg_outcome_name(e->outcome));
		table_set(&t, row, 6,
			  e->start_ns == EPCG_SCENARIO_NEVER ?
				  "-" :
				  fmt_time(b, e->virtual_ns));
	}
	fputc('\n', f);
	table_print(&t, f, "LLRRRLR");
	return 0;
}

static void print_expects(const struct epcg_results *r, FILE *f, unsigned flags)
{
	char at[CELL];

	if (!r->nr_expects)
		return;
	if (!(flags & EPCG_TABLE_FAILED_ONLY))
		fputc('\n', f);
	for (unsigned i = 0; i < r->nr_expects; i++) {
		const struct epcg_result_expect *x = &r->expects[i];

		if (x->passed && (flags & EPCG_TABLE_FAILED_ONLY))
			continue;
		fprintf(f, "%s %s:%d: ", x->passed ? "PASS" : "FAIL",
			r->scenario, x->line);
		if (x->timed)
			fprintf(f, "at %s: ", fmt_time(at, x->at_ns));
		fprintf(f, "%s (%s)\n", x->text, x->detail);
	}
	if (!(flags & EPCG_TABLE_FAILED_ONLY))
		fprintf(f, "# %u expectation%s: %u passed, %u failed\n",
			r->nr_expects, r->nr_expects == 1 ? "" : "s",
			r->nr_expects - r->nr_failed, r->nr_failed);
}

int epcg_results_print_table(const struct epcg_results *r, FILE *f,
			     unsigned flags)
{
	if (!(flags & EPCG_TABLE_FAILED_ONLY)) {
		if (!(flags & EPCG_TABLE_NO_HEADER))
			print_header(r, f);
		if (print_cgroups(r, f) || print_enclaves(r, f))
			return -ENOMEM;
	}
	print_expects(r, f, flags);
	return ferror(f) ? -EIO : 0;
}
