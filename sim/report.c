// SPDX-License-Identifier: MIT
/*
 * The HTML report of a run (`epcg run --report FILE.html`).
 *
 * One file that a browser opens from disk, mail or a CI artifact store
 * and shows the same everywhere: the style sheet is inline, the plots are
 * SVG written here (plot.c), and there is no script and no link to
 * anything.  A Content-Security-Policy in the page says so to the
 * browser too ("default-src 'none'"), so a report cannot fetch or run
 * anything even if a cgroup or enclave name tried to smuggle markup in
 * (every name is escaped anyway).
 *
 * The page puts the plots first, as that is what a reader opens it for:
 * usage against limit per cgroup, then paging rates; the tables of the
 * terminal report follow, with the events and checks.
 */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <math.h>

#include "plot.h"

/* At most this many points per line; longer series are bucketed. */
#define MAX_POINTS 1000
/* At most this many cgroups get a usage plot, and lines a rate plot. */
#define MAX_USAGE_PLOTS 48
#define MAX_RATE_LINES 10

#define esc plot_escape

void epcg__html_write_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, "
	      "initial-scale=1\">\n<title>",
	      f);
	esc(f, title);
	fputs("</title>\n<style>\n"
	      "body{font:14px/1.45 system-ui,sans-serif;color:#222;"
	      "background:#fff;margin:0 auto;max-width:1180px;padding:12px 20px}\n"
	      "h1{font-size:22px;margin:8px 0 2px}\n"
	      "h2{font-size:17px;margin:22px 0 6px;border-bottom:1px solid #ddd;"
	      "padding-bottom:3px}\n"
	      "p.meta{color:#555;margin:0 0 8px}\n"
	      ".grid{display:grid;grid-template-columns:repeat(auto-fill,"
	      "minmax(540px,1fr));gap:8px 16px}\n"
	      "svg.plot{max-width:100%;height:auto;display:block}\n"
	      "table{border-collapse:collapse;margin:6px 0;font-size:13px}\n"
	      "th,td{padding:2px 9px;border-bottom:1px solid #e5e5e5;"
	      "text-align:right;white-space:nowrap}\n"
	      "th{background:#f4f4f4}\n"
	      "td.l,th.l{text-align:left}\n"
	      ".pass{color:#1a7f37;font-weight:bold}\n"
	      ".fail{color:#c62828;font-weight:bold}\n"
	      "tr.bad td{background:#fdecea}\n"
	      "p.small,footer{color:#666;font-size:12px}\n"
	      "footer{margin:24px 0 8px;border-top:1px solid #ddd;"
	      "padding-top:6px}\n"
	      "</style>\n</head>\n<body>\n",
	      f);
}

void epcg__html_write_foot(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}

/* ---- series, reduced for drawing ---- */

/* Doubles for one line of a plot. */
struct line {
	double *x;
	double *y;
	unsigned n;
};

static int line_alloc(struct line *l, unsigned cap)
{
	l->n = 0;
	l->x = calloc(cap ? cap : 1, sizeof(double));
	l->y = calloc(cap ? cap : 1, sizeof(double));
	return l->x && l->y ? 0 : -ENOMEM;
}

static void line_free(struct line *l)
{
	free(l->x);
	free(l->y);
	l->x = l->y = NULL;
}

static void line_add(struct line *l, uint64_t t_ns, double y)
{
	l->x[l->n] = (double)t_ns / 1e9;
	l->y[l->n] = y;
	l->n++;
}

/* Samples per bucket, so that a line has at most MAX_POINTS points. */
static unsigned bucket_size(const struct epcg_results *r)
{
	return (r->series.nr + MAX_POINTS / 2 - 1) / (MAX_POINTS / 2);
}

/*
 * Usage of cgroup @c: every sample, or per bucket its lowest and its
 * highest value in time order, so that no peak disappears.
 */
static void usage_line(const struct epcg_results *r, unsigned c, struct line *l)
{
	unsigned per = bucket_size(r), nr = r->series.nr;

	for (unsigned b = 0; b < nr; b += per) {
		unsigned lo = b, hi = b, end = b + per < nr ? b + per : nr;

		for (unsigned i = b; i < end; i++) {
			uint64_t v = epcg_result_sample_at(r, i, c)->current;

			if (v < epcg_result_sample_at(r, lo, c)->current)
				lo = i;
			if (v > epcg_result_sample_at(r, hi, c)->current)
				hi = i;
		}
		if (lo > hi) {
			unsigned t = lo;

			lo = hi;
			hi = t;
		}
		line_add(l, r->series.t_ns[lo],
			 (double)epcg_result_sample_at(r, lo, c)->current);
		if (hi != lo)
			line_add(l, r->series.t_ns[hi],
				 (double)epcg_result_sample_at(r, hi, c)
					 ->current);
	}
}

/*
 * When the limit of cgroup @c changed between two samples: the time of
 * the last `set` event of @c in (@t0, @t1] ("set PATH max SIZE", as the
 * results word it), else @t1, the first sample that saw it.
 */
static uint64_t limit_change(const struct epcg_results *r, unsigned c,
			     uint64_t t0, uint64_t t1)
{
	const char *path = r->cgroups[c].path;
	size_t n = strlen(path);
	uint64_t at = t1;

	for (unsigned i = 0; i < r->nr_events; i++) {
		const struct epcg_result_event *e = &r->events[i];

		if (e->at_ns > t0 && e->at_ns <= t1 &&
		    !strncmp(e->text, "set ", 4) &&
		    !strncmp(e->text + 4, path, n) &&
		    !strncmp(e->text + 4 + n, " max ", 5))
			at = e->at_ns;
	}
	return at;
}

/* The limit of cgroup @c where it changes (NaN while there is none). */
static void limit_line(const struct epcg_results *r, unsigned c, struct line *l)
{
	for (unsigned i = 0; i < r->series.nr; i++) {
		uint64_t m = epcg_result_sample_at(r, i, c)->max;
		uint64_t t = r->series.t_ns[i];
		bool changed = i &&
			       m != epcg_result_sample_at(r, i - 1, c)->max;

		if (i && i + 1 < r->series.nr && !changed)
			continue;
		if (changed)
			t = limit_change(r, c, r->series.t_ns[i - 1], t);
		line_add(l, t, m == EPCG_SCENARIO_MAX ? NAN : (double)m);
		/* The last sample closes the line at the end of the run. */
		if (changed && i + 1 == r->series.nr && t < r->series.t_ns[i])
			line_add(l, r->series.t_ns[i],
				 m == EPCG_SCENARIO_MAX ? NAN : (double)m);
	}
}

/* Which counter of a sample a rate plot shows. */
enum rate_of { RATE_EWB, RATE_FAULTS, RATE_NR };

static uint64_t counter(const struct epcg_results *r, unsigned i, unsigned c,
			enum rate_of what)
{
	const struct epcg_result_sample *s = epcg_result_sample_at(r, i, c);

	return what == RATE_EWB ? s->ewb : s->faults;
}

/* The rate over each bucket: exact, as the counters are cumulative. */
static void rate_line(const struct epcg_results *r, unsigned c,
		      enum rate_of what, struct line *l)
{
	unsigned per = bucket_size(r), nr = r->series.nr;

	if (nr)
		line_add(l, 0, 0);
	for (unsigned b = 0; b + 1 < nr; b += per) {
		unsigned e = b + per < nr ? b + per : nr - 1;

		line_add(l, r->series.t_ns[e],
			 epcg_result_rate(
				 counter(r, b, c, what), counter(r, e, c, what),
				 r->series.t_ns[b], r->series.t_ns[e]));
	}
}

/* ---- the plots ---- */

static int write_marks(const struct epcg_results *r, struct plot_mark **ret,
		       char (**labels)[12])
{
	*ret = calloc(r->nr_events + 1, sizeof(**ret));
	*labels = calloc(r->nr_events + 1, sizeof(**labels));
	if (!*ret || !*labels)
		return -ENOMEM;
	for (unsigned i = 0; i < r->nr_events; i++) {
		snprintf((*labels)[i], sizeof((*labels)[i]), "%u", i + 1);
		(*ret)[i] = (struct plot_mark){
			.x = (double)r->events[i].at_ns / 1e9,
			.label = (*labels)[i],
		};
	}
	return 0;
}

static int usage_plot(FILE *f, const struct epcg_results *r, unsigned c,
		      const struct plot_mark *marks)
{
	const struct epcg_result_cgroup *cg = &r->cgroups[c];
	struct line use = { 0 }, lim = { 0 };
	struct plot_series s[2];
	struct plot_hline cap;
	char id[16], note[160], pk[32], mx[32], capn[64];
	uint64_t top_limit = 0;
	unsigned nr = 1;
	int err;

	err = line_alloc(&use, r->series.nr * 2);
	if (!err)
		err = line_alloc(&lim, r->series.nr + 1);
	if (err)
		goto out;
	usage_line(r, c, &use);
	limit_line(r, c, &lim);
	for (unsigned i = 0; i < lim.n; i++)
		if (!isnan(lim.y[i]) && lim.y[i] > (double)top_limit)
			top_limit = (uint64_t)lim.y[i];
	s[0] = (struct plot_series){
		"usage (misc.current)", use.x, use.y, use.n, PLOT_AREA, 0, NULL
	};
	if (c && top_limit)
		s[nr++] = (struct plot_series){
			"limit (misc.max)", lim.x, lim.y, lim.n, PLOT_STEP,
			PLOT_COLOR_LIMIT,   NULL
		};
	snprintf(id, sizeof(id), "usage-%u", c);
	snprintf(note, sizeof(note),
		 "peak %s, limit %s at the end, %" PRIu64
		 " charge%s refused here or below",
		 epcg__size_format(pk, cg->peak),
		 epcg__size_format(mx, cg->max), cg->events,
		 cg->events == 1 ? "" : "s");
	if (!c) {
		snprintf(capn, sizeof(capn), "EPC capacity %s",
			 epcg__size_format(mx, r->epc_bytes));
		cap = (struct plot_hline){ (double)r->epc_bytes, capn };
		snprintf(note, sizeof(note), "peak %s of the whole EPC",
			 epcg__size_format(pk, cg->peak));
	}
	err = plot_svg(
		f,
		&(struct plot){
			.id = id,
			.title = cg->path,
			.note = note,
			.xunit = PLOT_UNIT_SECONDS,
			.yunit = PLOT_UNIT_BYTES,
			.xlabel = "virtual time",
			.ylabel = "EPC",
			.xmin = 0,
			.xmax = (double)r->virtual_ns / 1e9,
			/* A limit far above the usage would flatten it. */
			.ycap = cg->peak ? 2.5 * (double)cg->peak : 0,
			.width = 560,
			.height = 250,
			.marks = marks,
			.nr_marks = r->nr_events,
			.hlines = c ? NULL : &cap,
			.nr_hlines = c ? 0 : 1,
		},
		s, nr);
out:
	line_free(&use);
	line_free(&lim);
	return err;
}

static uint64_t busyness(const struct epcg_results *r, unsigned c)
{
	return r->cgroups[c].total.ewb + r->cgroups[c].total.faults;
}

/*
 * Cgroups to draw in a rate plot, in tree order: all of them if they
 * fit, else the root and the busiest others (the first at a tie).
 */
static int pick_cgroups(const struct epcg_results *r, unsigned *pick,
			unsigned *nr)
{
	unsigned n = 1, out = 0;
	bool *taken;

	if (r->nr_cgroups <= MAX_RATE_LINES) {
		for (unsigned c = 0; c < r->nr_cgroups; c++)
			pick[c] = c;
		*nr = r->nr_cgroups;
		return 0;
	}
	taken = calloc(r->nr_cgroups, sizeof(*taken));
	if (!taken)
		return -ENOMEM;
	taken[0] = true;
	for (; n < MAX_RATE_LINES; n++) {
		unsigned best = 0;

		for (unsigned c = 1; c < r->nr_cgroups; c++)
			if (!taken[c] &&
			    (!best || busyness(r, c) > busyness(r, best)))
				best = c;
		taken[best] = true;
	}
	for (unsigned c = 0; c < r->nr_cgroups; c++)
		if (taken[c])
			pick[out++] = c;
	free(taken);
	*nr = out;
	return 0;
}

static int rate_plot(FILE *f, const struct epcg_results *r, enum rate_of what,
		     const struct plot_mark *marks)
{
	unsigned pick[MAX_RATE_LINES], n = 0;
	struct plot_series s[MAX_RATE_LINES];
	struct line l[MAX_RATE_LINES] = { 0 };
	char note[128];
	int err = pick_cgroups(r, pick, &n);

	for (unsigned i = 0; i < n && !err; i++) {
		err = line_alloc(&l[i], r->series.nr + 1);
		if (err)
			break;
		rate_line(r, pick[i], what, &l[i]);
		s[i] = (struct plot_series){ r->cgroups[pick[i]].path,
					     l[i].x,
					     l[i].y,
					     l[i].n,
					     PLOT_LINE,
					     i,
					     NULL };
	}
	if (n < r->nr_cgroups)
		snprintf(note, sizeof(note),
			 "hierarchical; the %u busiest of "
			 "%u cgroups",
			 n, r->nr_cgroups);
	else
		snprintf(note, sizeof(note),
			 "hierarchical: a cgroup counts "
			 "its descendants; / is the whole machine");
	if (!err)
		err = plot_svg(
			f,
			&(struct plot){
				.id = what == RATE_EWB ? "rate-ewb" :
							 "rate-faults",
				.title = what == RATE_EWB ?
						 "Evictions (EWB) per second" :
						 "Faults per second",
				.note = note,
				.xunit = PLOT_UNIT_SECONDS,
				.yunit = PLOT_UNIT_RATE,
				.xlabel = "virtual time",
				.ylabel = what == RATE_EWB ? "pages evicted" :
							     "faults",
				.xmin = 0,
				.xmax = (double)r->virtual_ns / 1e9,
				.width = 560,
				.height = 280,
				.marks = marks,
				.nr_marks = r->nr_events,
			},
			s, n);
	for (unsigned i = 0; i < n; i++)
		line_free(&l[i]);
	return err;
}

static int write_plots(FILE *f, const struct epcg_results *r)
{
	struct plot_mark *marks;
	char(*labels)[12];
	unsigned nr = r->nr_cgroups < MAX_USAGE_PLOTS ? r->nr_cgroups :
							MAX_USAGE_PLOTS;
	int err = write_marks(r, &marks, &labels);

	fputs("<h2>EPC usage against limit</h2>\n", f);
	if (r->nr_events)
		fputs("<p class=\"small\">Dotted vertical lines are the timed "
		      "events, numbered as in <a href=\"#events\">the list "
		      "below</a>.</p>\n",
		      f);
	fputs("<div class=\"grid\">\n", f);
	for (unsigned c = 0; c < nr && !err; c++)
		err = usage_plot(f, r, c, marks);
	fputs("</div>\n", f);
	if (nr < r->nr_cgroups)
		fprintf(f,
			"<p class=\"small\">%u more cgroups are in the "
			"tables and the CSV time series.</p>\n",
			r->nr_cgroups - nr);
	fputs("<h2>Paging rate</h2>\n<div class=\"grid\">\n", f);
	if (!err)
		err = rate_plot(f, r, RATE_EWB, marks);
	if (!err)
		err = rate_plot(f, r, RATE_FAULTS, marks);
	fputs("</div>\n", f);
	free(marks);
	free(labels);
	return err;
}

/* ---- the tables ---- */

static void cell(FILE *f, const char *s)
{
	fputs("<td>", f);
	esc(f, s);
	fputs("</td>", f);
}

static void cell_l(FILE *f, const char *s)
{
	fputs("<td class=\"l\">", f);
	esc(f, s);
	fputs("</td>", f);
}

static void cell_u64(FILE *f, uint64_t v)
{
	fprintf(f, "<td>%" PRIu64 "</td>", v);
}

static void head_row(FILE *f, const char *const *h, unsigned n, unsigned left)
{
	fputs("<tr>", f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "<th%s>%s</th>", i < left ? " class=\"l\"" : "",
			h[i]);
	fputs("</tr>\n", f);
}

static void cgroup_table(FILE *f, const struct epcg_results *r)
{
	static const char *const h[] = {
		"cgroup",	"max",	  "current",	 "peak",   "events",
		"events.local", "EWB",	  "ELDU",	 "faults", "scans",
		"ENOMEM",	"SIGBUS", "paging time",
	};
	char b[32];

	fputs("<h2>Cgroups</h2>\n<table>\n", f);
	head_row(f, h, sizeof(h) / sizeof(h[0]), 1);
	for (unsigned i = 0; i < r->nr_cgroups; i++) {
		const struct epcg_result_cgroup *c = &r->cgroups[i];

		fputs(c->total.enomem || c->total.sigbus ?
			      "<tr class=\"bad\">" :
			      "<tr>",
		      f);
		cell_l(f, c->path);
		cell(f, i ? epcg__size_format(b, c->max) : "");
		cell(f, epcg__size_format(b, c->current));
		cell(f, epcg__size_format(b, c->peak));
		cell_u64(f, c->events);
		cell_u64(f, c->events_local);
		cell_u64(f, c->total.ewb);
		cell_u64(f, c->total.eldu);
		cell_u64(f, c->total.faults);
		cell_u64(f, c->total.reclaim_scans);
		cell_u64(f, c->total.enomem);
		cell_u64(f, c->total.sigbus);
		cell(f, epcg__time_format(b, c->total.paging_ns));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<p class=\"small\">Counters are hierarchical: a "
	      "cgroup's include its descendants'.  events: charges refused "
	      "at this cgroup or below; events.local: by its own "
	      "limit.</p>\n",
	      f);
}

static void enclave_table(FILE *f, const struct epcg_results *r)
{
	static const char *const h[] = {
		"enclave", "cgroup", "outcome",	 "pid",	   "threads",
		"size",	   "pages",  "accesses", "faults", "EWB",
		"ELDU",	   "start",  "run time",
	};
	char b[32];

	if (!r->nr_enclaves)
		return;
	fputs("<h2>Enclaves</h2>\n<table>\n", f);
	head_row(f, h, sizeof(h) / sizeof(h[0]), 3);
	for (unsigned i = 0; i < r->nr_enclaves; i++) {
		const struct epcg_result_enclave *e = &r->enclaves[i];
		bool never = e->start_ns == EPCG_SCENARIO_NEVER;
		bool bad = e->outcome == EPCG_OUTCOME_ENOMEM ||
			   e->outcome == EPCG_OUTCOME_SIGBUS ||
			   e->outcome == EPCG_OUTCOME_EFAULT;

		fputs(bad ? "<tr class=\"bad\">" : "<tr>", f);
		cell_l(f, e->name);
		cell_l(f, r->cgroups[e->cgroup].path);
		cell_l(f, epcg_outcome_name(e->outcome));
		fprintf(f, "<td>%d</td><td>%u</td>", e->pid, e->threads);
		cell(f, epcg__size_format(b, e->size));
		cell_u64(f, e->pages);
		cell_u64(f, e->accesses);
		cell_u64(f, e->faults);
		cell_u64(f, e->ewb);
		cell_u64(f, e->eldu);
		cell(f, never ? "never" : epcg__time_format(b, e->start_ns));
		cell(f, never ? "-" : epcg__time_format(b, e->virtual_ns));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void event_table(FILE *f, const struct epcg_results *r)
{
	char b[32];

	if (!r->nr_events)
		return;
	fputs("<h2 id=\"events\">Events</h2>\n<table>\n"
	      "<tr><th>#</th><th>time</th><th>line</th>"
	      "<th class=\"l\">what</th></tr>\n",
	      f);
	for (unsigned i = 0; i < r->nr_events; i++) {
		fprintf(f, "<tr><td>%u</td>", i + 1);
		cell(f, epcg__time_format(b, r->events[i].at_ns));
		fprintf(f, "<td>%d</td>", r->events[i].line);
		cell_l(f, r->events[i].text);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void check_table(FILE *f, const struct epcg_results *r)
{
	char b[32];

	if (!r->nr_expects)
		return;
	fprintf(f,
		"<h2>Checks</h2>\n<p>%u of %u passed.</p>\n<table>\n"
		"<tr><th class=\"l\">result</th><th>line</th><th>at</th>"
		"<th class=\"l\">check</th><th class=\"l\">measured</th>"
		"</tr>\n",
		r->nr_expects - r->nr_failed, r->nr_expects);
	for (unsigned i = 0; i < r->nr_expects; i++) {
		const struct epcg_result_expect *x = &r->expects[i];

		fprintf(f, "<tr><td class=\"l %s\">%s</td><td>%d</td>",
			x->passed ? "pass" : "fail",
			x->passed ? "PASS" : "FAIL", x->line);
		cell(f, x->timed ? epcg__time_format(b, x->at_ns) : "end");
		cell_l(f, x->text);
		cell_l(f, x->detail);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void header(FILE *f, const struct epcg_results *r)
{
	char epc[32], t[32];

	fputs("<h1>epcg run: ", f);
	esc(f, r->scenario);
	fprintf(f,
		"</h1>\n<p class=\"meta\">policy %s &middot; seed %" PRIu64
		" &middot; EPC %s in %u section%s &middot; %s of virtual "
		"time (%s)",
		epcg_sgx_policy_name(r->policy), r->seed,
		epcg__size_format(epc, r->epc_bytes), r->nr_sections,
		r->nr_sections == 1 ? "" : "s",
		epcg__time_format(t, r->virtual_ns),
		r->end == EPCG_RESULTS_END_DURATION ?
			"the scenario's duration" :
			"every enclave done");
	if (r->nr_expects)
		fprintf(f,
			" &middot; <span class=\"%s\">%u of %u checks "
			"passed</span>",
			r->nr_failed ? "fail" : "pass",
			r->nr_expects - r->nr_failed, r->nr_expects);
	fputs("</p>\n", f);
}

static void footer(FILE *f, const struct epcg_results *r)
{
	char t[32];

	fputs("<footer>Times are virtual: they follow the cost model of the "
	      "run, not the host.  Costs:",
	      f);
	for (unsigned i = 0; i < EPCG_COST_NR; i++)
		fprintf(f, "%s %s %s", i ? "," : "",
			epcg_scenario_cost_name((enum epcg_scenario_cost)i),
			epcg__time_format(t, r->cost_ns[i]));
	fprintf(f, ".  Time series every %s, %u samples.</footer>\n",
		epcg__time_format(t, r->series.interval_ns), r->series.nr);
}

int epcg_results_write_html(const struct epcg_results *r, FILE *f)
{
	char title[256];
	int err;

	if (!r || !f)
		return -EINVAL;
	snprintf(title, sizeof(title), "epcg run: %s", r->scenario);
	epcg__html_write_head(f, title);
	header(f, r);
	err = write_plots(f, r);
	if (err)
		return err;
	cgroup_table(f, r);
	enclave_table(f, r);
	event_table(f, r);
	check_table(f, r);
	footer(f, r);
	epcg__html_write_foot(f);
	return ferror(f) || fflush(f) ? -EIO : 0;
}
