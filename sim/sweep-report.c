// SPDX-License-Identifier: MIT
/*
 * Outputs of a sweep (see sweep.h): the table on the terminal, the curve
 * as CSV, and the HTML report with its plots.
 *
 * All three are written from the points alone, so a merged sweep and
 * the same sweep run on one machine give the same bytes.  The curve's x
 * axis is the limit; the baseline has none, so it appears in the tables
 * as "max" and in the plots as a reference line.  When the limits span
 * a factor of 16 or more, the plots use a log2 axis, where a series of
 * doubling limits (the usual way to look for a knee) is evenly spaced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <math.h>

#include "plot.h"
#include "report.h"
#include "sweep.h"

#define CELL 32

/* Enclaves whose run failed: ENOMEM, SIGBUS or EFAULT. */
static unsigned failed(const struct epcg_sweep_point *p)
{
	return p->outcomes[EPCG_OUTCOME_ENOMEM] +
	       p->outcomes[EPCG_OUTCOME_SIGBUS] +
	       p->outcomes[EPCG_OUTCOME_EFAULT];
}

static double miss_ratio(const struct epcg_sweep_point *p)
{
	return p->accesses ? (double)p->total.faults / (double)p->accesses :
			     NAN;
}

static void header_text(FILE *f, const struct epcg_sweep *sw)
{
	uint64_t epc = 0;
	char b[CELL];

	for (unsigned i = 0; i < sw->nr_sections; i++)
		epc += sw->sections[i];
	fprintf(f,
		"policy %s, seed %" PRIu64 ", EPC %s in %u section%s, "
		"%u limits and the unlimited baseline",
		epcg_sgx_policy_name(sw->policy), sw->seed,
		epcg__size_format(b, epc), sw->nr_sections,
		sw->nr_sections == 1 ? "" : "s", sw->nr_points - 1);
}

/* ---- the terminal table ---- */

enum tcol {
	T_LIMIT,
	T_FAULTS,
	T_EWB,
	T_ELDU,
	T_MISS,
	T_ACCESSES,
	T_RUNTIME,
	T_SLOWDOWN,
	T_ENOMEM,
	T_SIGBUS,
	T_ENCLAVES,
	T_NR
};

static void row_cells(const struct epcg_sweep *sw, unsigned i, char (*c)[CELL])
{
	const struct epcg_sweep_point *p = &sw->points[i];
	double sd = epcg_sweep_slowdown(sw, i), mr = miss_ratio(p);

	epcg__size_format(c[T_LIMIT], p->limit);
	if (p->limit == EPCG_SCENARIO_MAX)
		strcpy(c[T_LIMIT], "max");
	snprintf(c[T_FAULTS], CELL, "%" PRIu64, p->total.faults);
	snprintf(c[T_EWB], CELL, "%" PRIu64, p->total.ewb);
	snprintf(c[T_ELDU], CELL, "%" PRIu64, p->total.eldu);
	snprintf(c[T_MISS], CELL, isnan(mr) ? "-" : "%.4f", mr);
	snprintf(c[T_ACCESSES], CELL, "%" PRIu64, p->accesses);
	epcg__time_format(c[T_RUNTIME], p->runtime_ns);
	snprintf(c[T_SLOWDOWN], CELL, isnan(sd) ? "-" : "%.3fx", sd);
	snprintf(c[T_ENOMEM], CELL, "%u", p->outcomes[EPCG_OUTCOME_ENOMEM]);
	snprintf(c[T_SIGBUS], CELL, "%u", p->outcomes[EPCG_OUTCOME_SIGBUS]);
	snprintf(c[T_ENCLAVES], CELL, "%u", p->nr_enclaves);
}

int epcg_sweep_print_table(const struct epcg_sweep *sw, FILE *f)
{
	static const char *const head[T_NR] = {
		"limit",      "faults",	  "EWB",      "ELDU",
		"miss ratio", "accesses", "run time", "slowdown",
		"ENOMEM",     "SIGBUS",	  "enclaves",
	};
	char(*cell)[T_NR][CELL];
	unsigned width[T_NR], rows = 0;

	if (!sw || !f)
		return -EINVAL;
	cell = calloc(sw->nr_points + 1, sizeof(*cell));
	if (!cell)
		return -ENOMEM;
	for (unsigned c = 0; c < T_NR; c++) {
		snprintf(cell[0][c], CELL, "%s", head[c]);
		width[c] = (unsigned)strlen(head[c]);
	}
	for (unsigned i = 0; i < sw->nr_points; i++) {
		if (!sw->points[i].done)
			continue;
		row_cells(sw, i, cell[++rows]);
		for (unsigned c = 0; c < T_NR; c++)
			if (strlen(cell[rows][c]) > width[c])
				width[c] = (unsigned)strlen(cell[rows][c]);
	}
	fprintf(f, "epcg sweep: %s  cgroup %s  ", sw->scenario, sw->cgroup);
	header_text(f, sw);
	if (sw->nr_shards > 1)
		fprintf(f, "\nshard %u/%u: %u of the %u points", sw->shard,
			sw->nr_shards, rows, sw->nr_points);
	fputs("\n\n", f);
	for (unsigned r = 0; r <= rows; r++) {
		for (unsigned c = 0; c < T_NR; c++)
			fprintf(f, c ? "  %*s" : "%*s", (int)width[c],
				cell[r][c]);
		fputc('\n', f);
	}
	free(cell);
	if (sw->nr_shards == 1)
		fprintf(f, "# slowdown: virtual time per access against the "
			   "unlimited run; ENOMEM, SIGBUS: enclaves that "
			   "ended so\n");
	return ferror(f) ? -EIO : 0;
}

/* ---- CSV ---- */

int epcg_sweep_write_csv(const struct epcg_sweep *sw, FILE *f)
{
	if (!sw || !f || !epcg_sweep_complete(sw))
		return -EINVAL;
	fputs("limit_bytes,faults,ewb,eldu,miss_ratio,slowdown,runtime_s,"
	      "accesses,peak_bytes,events,reclaim_scans,paging_s,enclaves,ok,"
	      "enomem,sigbus,efault,killed,stopped,running,checks_failed\n",
	      f);
	for (unsigned i = 0; i < sw->nr_points; i++) {
		const struct epcg_sweep_point *p = &sw->points[i];
		double sd = epcg_sweep_slowdown(sw, i), mr = miss_ratio(p);

		if (p->limit == EPCG_SCENARIO_MAX)
			fputs("max", f);
		else
			fprintf(f, "%" PRIu64, p->limit);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
			p->total.faults, p->total.ewb, p->total.eldu);
		if (!isnan(mr))
			fprintf(f, "%.6f", mr);
		fputc(',', f);
		if (!isnan(sd))
			fprintf(f, "%.4f", sd);
		fputc(',', f);
		epcg__seconds_write(f, p->runtime_ns);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
			p->accesses, p->peak, p->events,
			p->total.reclaim_scans);
		epcg__seconds_write(f, p->total.paging_ns);
		fprintf(f, ",%u", p->nr_enclaves);
		for (unsigned o = 0; o <= EPCG_OUTCOME_RUNNING; o++)
			fprintf(f, ",%u", p->outcomes[o]);
		fprintf(f, ",%u\n", p->nr_failed);
	}
	return ferror(f) || fflush(f) ? -EIO : 0;
}

/* ---- HTML ---- */

/* The limited points as plot coordinates. */
struct curve {
	unsigned n;
	double *x;
	double *faults, *ewb, *eldu, *miss, *slow;
	bool *bad;
};

static void curve_free(struct curve *c)
{
	free(c->x);
	free(c->faults);
	free(c->ewb);
	free(c->eldu);
	free(c->miss);
	free(c->slow);
	free(c->bad);
}

static int curve_init(struct curve *c, const struct epcg_sweep *sw)
{
	unsigned n = sw->nr_points - 1;

	memset(c, 0, sizeof(*c));
	c->n = n;
	c->x = calloc(n, sizeof(double));
	c->faults = calloc(n, sizeof(double));
	c->ewb = calloc(n, sizeof(double));
	c->eldu = calloc(n, sizeof(double));
	c->miss = calloc(n, sizeof(double));
	c->slow = calloc(n, sizeof(double));
	c->bad = calloc(n, sizeof(bool));
	if (!c->x || !c->faults || !c->ewb || !c->eldu || !c->miss ||
	    !c->slow || !c->bad) {
		curve_free(c);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct epcg_sweep_point *p = &sw->points[i + 1];

		c->x[i] = (double)p->limit;
		c->faults[i] = (double)p->total.faults;
		c->ewb[i] = (double)p->total.ewb;
		c->eldu[i] = (double)p->total.eldu;
		c->miss[i] = miss_ratio(p);
		c->slow[i] = epcg_sweep_slowdown(sw, i + 1);
		c->bad[i] = failed(p) != 0;
	}
	return 0;
}

static int curve_plots(FILE *f, const struct epcg_sweep *sw,
		       const struct curve *c)
{
	const struct epcg_sweep_point *base = &sw->points[0];
	bool log2x = c->x[0] > 0 && c->x[c->n - 1] / c->x[0] >= 16;
	struct plot p = {
		.xunit = PLOT_UNIT_BYTES,
		.xlabel = "limit of the cgroup (misc.max)",
		.xscale = log2x ? PLOT_SCALE_LOG2 : PLOT_SCALE_LINEAR,
		/* Linear: from 0; log2: the data's range. */
		.xmin = 0,
		.xmax = log2x ? 0 : c->x[c->n - 1],
		.width = 560,
		.height = 300,
	};
	char lb[PLOT_LABEL_MAX + 32], vb[PLOT_LABEL_MAX];
	struct plot_hline ref;
	double one = 1;
	int err;

	/* Faults last, on top: ELDU often equals them. */
	struct plot_series paging[] = {
		{ "EWB (evictions)", c->x, c->ewb, c->n, PLOT_POINTS, 1,
		  c->bad },
		{ "ELDU (reloads)", c->x, c->eldu, c->n, PLOT_POINTS, 2,
		  c->bad },
		{ "faults", c->x, c->faults, c->n, PLOT_POINTS, 0, c->bad },
	};
	struct plot_series miss = { "faults per access", c->x, c->miss, c->n,
				    PLOT_POINTS,	 3,    c->bad };
	struct plot_series slow = { "slowdown",	 c->x, c->slow, c->n,
				    PLOT_POINTS, 4,    c->bad };

	p.id = "sweep-paging";
	p.title = "Paging against the limit";
	p.note = "counted in the cgroup and its descendants";
	p.yunit = PLOT_UNIT_COUNT;
	p.ylabel = "pages";
	snprintf(lb, sizeof(lb), "unlimited: %s faults",
		 plot_format(vb, (double)base->total.faults, PLOT_UNIT_COUNT));
	ref = (struct plot_hline){ (double)base->total.faults, lb };
	p.hlines = &ref;
	p.nr_hlines = 1;
	err = plot_svg(f, &p, paging, 3);
	if (err)
		return err;

	p.id = "sweep-miss";
	p.title = "Miss ratio";
	p.note = "faults per page access of the cgroup's enclaves";
	p.yunit = PLOT_UNIT_COUNT;
	p.ylabel = "faults per access";
	p.nr_hlines = 0;
	err = plot_svg(f, &p, &miss, 1);
	if (err)
		return err;

	p.id = "sweep-slowdown";
	p.title = "Slowdown versus unlimited";
	p.note = "virtual time per access, over the same without a limit";
	p.yunit = PLOT_UNIT_RATIO;
	p.ylabel = "slowdown";
	p.ymax = 1;
	ref = (struct plot_hline){ one, "unlimited (1x)" };
	p.hlines = &ref;
	p.nr_hlines = 1;
	return plot_svg(f, &p, &slow, 1);
}

static void point_table(FILE *f, const struct epcg_sweep *sw)
{
	static const char *const head[] = {
		"limit",    "faults",	"EWB",	    "ELDU", "miss ratio",
		"accesses", "run time", "slowdown", "peak", "events",
		"ENOMEM",   "SIGBUS",	"enclaves",
	};
	char b[CELL];

	fputs("<h2>Points</h2>\n<table>\n<tr>", f);
	for (unsigned c = 0; c < sizeof(head) / sizeof(head[0]); c++)
		fprintf(f, "<th>%s</th>", head[c]);
	fputs("</tr>\n", f);
	for (unsigned i = 0; i < sw->nr_points; i++) {
		const struct epcg_sweep_point *p = &sw->points[i];
		double sd = epcg_sweep_slowdown(sw, i), mr = miss_ratio(p);

		fprintf(f, "<tr%s><td>%s</td>",
			failed(p) ? " class=\"bad\"" : "",
			epcg__size_format(b, p->limit));
		fprintf(f,
			"<td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
			"</td>",
			p->total.faults, p->total.ewb, p->total.eldu);
		fprintf(f, isnan(mr) ? "<td>-</td>" : "<td>%.4f</td>", mr);
		fprintf(f, "<td>%" PRIu64 "</td>", p->accesses);
		fprintf(f, "<td>%s</td>", epcg__time_format(b, p->runtime_ns));
		fprintf(f, isnan(sd) ? "<td>-</td>" : "<td>%.3fx</td>", sd);
		fprintf(f, "<td>%s</td><td>%" PRIu64 "</td>",
			epcg__size_format(b, p->peak), p->events);
		fprintf(f, "<td>%u</td><td>%u</td><td>%u</td></tr>\n",
			p->outcomes[EPCG_OUTCOME_ENOMEM],
			p->outcomes[EPCG_OUTCOME_SIGBUS], p->nr_enclaves);
	}
	fputs("</table>\n<p class=\"small\">Counters are the swept cgroup's, "
	      "hierarchical.  Run time, accesses and outcomes are those of "
	      "the enclaves in its subtree; ENOMEM and SIGBUS count enclaves "
	      "that ended so (rows in red).</p>\n",
	      f);
}

int epcg_sweep_write_html(const struct epcg_sweep *sw, FILE *f)
{
	struct curve c;
	char title[256];
	int err;

	if (!sw || !f || !epcg_sweep_complete(sw) || sw->nr_points < 2)
		return -EINVAL;
	err = curve_init(&c, sw);
	if (err)
		return err;
	snprintf(title, sizeof(title), "epcg sweep: %s, %s", sw->scenario,
		 sw->cgroup);
	epcg__html_write_head(f, title);
	fputs("<h1>epcg sweep: ", f);
	plot_escape(f, sw->scenario);
	fputs(", cgroup ", f);
	plot_escape(f, sw->cgroup);
	fputs("</h1>\n<p class=\"meta\">", f);
	header_text(f, sw);
	fputs("</p>\n", f);
	if (sw->dropped_events)
		fprintf(f,
			"<p class=\"small\">The scenario's %u "
			"<code>set</code> event%s of this cgroup %s left "
			"out: a sweep holds the limit for the whole "
			"run.</p>\n",
			sw->dropped_events, sw->dropped_events == 1 ? "" : "s",
			sw->dropped_events == 1 ? "was" : "were");
	fputs("<h2>The curve</h2>\n<p class=\"small\">A cross marks a limit "
	      "at which an enclave failed (ENOMEM, SIGBUS or EFAULT).  Hover "
	      "over a point for its values.</p>\n<div class=\"grid\">\n",
	      f);
	err = curve_plots(f, sw, &c);
	fputs("</div>\n", f);
	curve_free(&c);
	if (err)
		return err;
	point_table(f, sw);
	fputs("<footer>Times are virtual: they follow the scenario's cost "
	      "model, not the host.</footer>\n",
	      f);
	epcg__html_write_foot(f);
	return ferror(f) || fflush(f) ? -EIO : 0;
}
