// SPDX-License-Identifier: MIT
/*
 * Line charts as inline SVG (see plot.h).
 *
 * An axis is chosen before anything is drawn: its unit comes from the
 * largest value (MiB for a 128 MiB EPC, ms for a run of 300 ms), its
 * step is a round number of that unit (1, 2 or 5 times a power of ten;
 * a power of two for sizes, so a 96 MiB limit falls on a 32 MiB tick),
 * and the top of the axis is the first step at or above the data.  Tick
 * labels are bare numbers; the axis title carries the unit ("usage
 * (MiB)").  A log2 axis puts a tick on every power of two of its range.
 *
 * Everything is written with fixed precision from the input doubles, so
 * two equal inputs give two equal files: the reports inherit the
 * determinism of the results they draw.
 */
#include "plot.h"

#include <errno.h>
#include <string.h>

#include <math.h>

#define FONT_PX 12
#define CHAR_PX 6.6 /* average width of a character of the font */
#define LEFT 66
#define RIGHT 18
#define BOTTOM 44
#define TITLE_H 20
#define NOTE_H 16
#define LEGEND_H 18
#define MAX_TICKS 16

static const char *const palette[PLOT_COLORS + 1] = {
	"#1f77b4", "#ff7f0e", "#2ca02c",
	"#9467bd", "#8c564b", "#e377c2",
	"#17becf", "#bcbd22", [PLOT_COLOR_LIMIT] = "#d62728",
};

const char *plot_color(unsigned i)
{
	return i == PLOT_COLOR_LIMIT ? palette[i] : palette[i % PLOT_COLORS];
}

void plot_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A unit of display: values are divided by @div and followed by @name. */
struct scale {
	double div;
	const char *name;
};

static struct scale unit_scale(double v, enum plot_unit unit)
{
	static const char *const bytes[] = { "bytes", "KiB", "MiB", "GiB",
					     "TiB" };
	struct scale s = { 1, "" };
	unsigned k = 0;

	v = fabs(v);
	switch (unit) {
	case PLOT_UNIT_SECONDS:
		if (v >= 1 || v == 0)
			s = (struct scale){ 1, "s" };
		else if (v >= 1e-3)
			s = (struct scale){ 1e-3, "ms" };
		else
			s = (struct scale){ 1e-6, "us" };
		break;
	case PLOT_UNIT_BYTES:
		while (k < 4 && v >= 1024 * s.div) {
			s.div *= 1024;
			k++;
		}
		s.name = bytes[k];
		break;
	case PLOT_UNIT_RATE:
	case PLOT_UNIT_COUNT:
		if (v >= 1e6)
			s.div = 1e6, s.name = "M";
		else if (v >= 1e4)
			s.div = 1e3, s.name = "k";
		break;
	case PLOT_UNIT_RATIO:
		s.name = "x";
		break;
	default:
		break;
	}
	return s;
}

const char *plot_format(char *buf, double v, enum plot_unit unit)
{
	struct scale s = unit_scale(v, unit);
	const char *sep =
		unit == PLOT_UNIT_SECONDS || unit == PLOT_UNIT_BYTES ? " " : "";

	if (unit == PLOT_UNIT_RATE)
		snprintf(buf, PLOT_LABEL_MAX, "%.4g%s/s", v / s.div, s.name);
	else
		snprintf(buf, PLOT_LABEL_MAX, "%.4g%s%s", v / s.div, sep,
			 s.name);
	return buf;
}

/* A round step giving about @want intervals over @range. */
static double nice_step(double range, unsigned want, enum plot_unit unit)
{
	double raw = range / want, p, m;

	if (!(raw > 0))
		return 1;
	if (unit == PLOT_UNIT_BYTES && raw >= 1)
		return exp2(ceil(log2(raw)));
	p = pow(10, floor(log10(raw)));
	m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* One axis: the data range, and what is drawn. */
struct axis {
	enum plot_unit unit;
	enum plot_scale scale;
	double lo, hi; /* the axis' range */
	double ticks[MAX_TICKS];
	unsigned nr_ticks;
	struct scale show; /* how tick labels are written */
};

/*
 * A linear axis from @lo to @hi.  A value axis (@headroom) ends on the
 * first tick 4% above @hi, so the highest value (often a limit) does not
 * run along the frame; a time axis ends exactly at @hi.
 */
static void axis_linear(struct axis *a, double lo, double hi, unsigned want,
			bool headroom)
{
	double step;
	unsigned i = 0, k;

	if (!(hi > lo))
		hi = lo + (lo > 0 ? lo : 1);
	step = nice_step(hi - lo, want, a->unit);
	while ((hi - lo) / step > MAX_TICKS - 2)
		step *= 2;
	a->lo = lo;
	a->hi = headroom ? ceil(hi * 1.04 / step) * step : hi;
	for (k = (unsigned)ceil(lo / step - 1e-9);
	     k * step <= a->hi + step * 1e-9 && i < MAX_TICKS; k++)
		a->ticks[i++] = k * step;
	a->nr_ticks = i;
	a->show = unit_scale(fmax(fabs(a->lo), a->hi), a->unit);
}

static void axis_log2(struct axis *a, double lo, double hi)
{
	double l = floor(log2(lo)), h = ceil(log2(hi));
	unsigned every = 1, i = 0;

	if (h <= l)
		h = l + 1;
	while ((h - l) / every > MAX_TICKS - 1)
		every *= 2;
	a->lo = exp2(l);
	a->hi = exp2(h);
	for (double e = l; e <= h && i < MAX_TICKS; e += every)
		a->ticks[i++] = exp2(e);
	a->nr_ticks = i;
	a->show = unit_scale(a->hi, a->unit);
}

/* The position of @v along an axis of @len pixels, from 0. */
static double axis_pos(const struct axis *a, double v, double len)
{
	if (a->scale == PLOT_SCALE_LOG2)
		return (log2(v) - log2(a->lo)) / (log2(a->hi) - log2(a->lo)) *
		       len;
	return (v - a->lo) / (a->hi - a->lo) * len;
}

static void tick_label(char *buf, const struct axis *a, double v)
{
	snprintf(buf, PLOT_LABEL_MAX, "%.6g", v / a->show.div);
}

/* The chart's frame in pixels, and its axes. */
struct frame {
	const struct plot *p;
	double left, top, w, h; /* the plotting area */
	unsigned width, height; /* the whole SVG */
	struct axis x, y;
};

static double px(const struct frame *fr, double x)
{
	return fr->left + axis_pos(&fr->x, x, fr->w);
}

static double py(const struct frame *fr, double y)
{
	return fr->top + fr->h - axis_pos(&fr->y, y, fr->h);
}

static bool usable(const struct frame *fr, double x, double y)
{
	return isfinite(x) && isfinite(y) &&
	       (fr->x.scale != PLOT_SCALE_LOG2 || x > 0);
}

/* ---- ranges ---- */

static void data_range(const struct plot *p, const struct plot_series *s,
		       unsigned nr, double *xlo, double *xhi, double *yhi)
{
	*xlo = INFINITY;
	*xhi = -INFINITY;
	*yhi = p->ymax > 0 ? p->ymax : 0;
	for (unsigned i = 0; i < nr; i++) {
		for (unsigned j = 0; j < s[i].n; j++) {
			double x = s[i].x[j], y = s[i].y[j];

			if (!isfinite(x) || !isfinite(y) ||
			    (p->xscale == PLOT_SCALE_LOG2 && x <= 0))
				continue;
			*xlo = fmin(*xlo, x);
			*xhi = fmax(*xhi, x);
			if (p->ycap > 0 && y > p->ycap)
				y = p->ycap;
			*yhi = fmax(*yhi, y);
		}
	}
	for (unsigned i = 0; i < p->nr_hlines; i++)
		if (!(p->ycap > 0 && p->hlines[i].y > p->ycap))
			*yhi = fmax(*yhi, p->hlines[i].y);
	if (p->xmax > p->xmin) {
		*xlo = p->xmin;
		*xhi = p->xmax;
	}
	if (!isfinite(*xlo)) {
		*xlo = p->xscale == PLOT_SCALE_LOG2 ? 1 : 0;
		*xhi = *xlo + 1;
	}
	/* Nothing above 0: an axis of whole units, not of fractions. */
	if (!(*yhi > 0))
		*yhi = p->yunit == PLOT_UNIT_BYTES ? 4096 :
		       p->yunit == PLOT_UNIT_COUNT ? 5 :
						     1;
}

/* ---- the legend ---- */

struct legend_item {
	const char *name;
	const char *color;
	const char *dash; /* stroke-dasharray, or NULL */
	bool dot;
};

/* Lay the items out in rows; with @f, draw them.  Return: rows used. */
static unsigned legend(FILE *f, const struct frame *fr, double top,
		       const struct legend_item *it, unsigned nr)
{
	double x = fr->left, max_x = fr->width - RIGHT;
	unsigned rows = nr ? 1 : 0;

	for (unsigned i = 0; i < nr; i++) {
		double w = 30 + CHAR_PX * (double)strlen(it[i].name) + 14;
		double y = top + (rows - 1) * LEGEND_H + LEGEND_H / 2.0;

		if (x + w > max_x && x > fr->left) {
			x = fr->left;
			rows++;
			y += LEGEND_H;
		}
		if (f) {
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				"y2=\"%.1f\" stroke=\"%s\" "
				"stroke-width=\"2.5\"",
				x, y, x + 22, y, it[i].color);
			if (it[i].dash)
				fprintf(f, " stroke-dasharray=\"%s\"",
					it[i].dash);
			fputs("/>", f);
			if (it[i].dot)
				fprintf(f,
					"<circle cx=\"%.1f\" cy=\"%.1f\" "
					"r=\"3.5\" fill=\"%s\"/>",
					x + 11, y, it[i].color);
			fprintf(f,
				"<text x=\"%.1f\" y=\"%.1f\" "
				"dominant-baseline=\"middle\">",
				x + 28, y + 1);
			plot_escape(f, it[i].name);
			fputs("</text>\n", f);
		}
		x += w;
	}
	return rows;
}

static unsigned legend_items(const struct plot *p, const struct plot_series *s,
			     unsigned nr, struct legend_item *it)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nr; i++) {
		if (!s[i].name)
			continue;
		it[n++] = (struct legend_item){
			.name = s[i].name,
			.color = plot_color(s[i].color),
			.dash = s[i].style == PLOT_STEP ? "6 4" : NULL,
			.dot = s[i].style == PLOT_POINTS,
		};
	}
	for (unsigned i = 0; i < p->nr_hlines; i++)
		it[n++] = (struct legend_item){
			.name = p->hlines[i].label,
			.color = "#555",
			.dash = "2 3",
		};
	return n;
}

/* ---- axes ---- */

static void draw_axes(FILE *f, const struct frame *fr)
{
	const struct plot *p = fr->p;
	char buf[PLOT_LABEL_MAX];

	for (unsigned i = 0; i < fr->y.nr_ticks; i++) {
		double y = py(fr, fr->y.ticks[i]);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#e3e3e3\"/>",
			fr->left, y, fr->left + fr->w, y);
		tick_label(buf, &fr->y, fr->y.ticks[i]);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
			"dominant-baseline=\"middle\">%s</text>\n",
			fr->left - 6, y, buf);
	}
	for (unsigned i = 0; i < fr->x.nr_ticks; i++) {
		double x = px(fr, fr->x.ticks[i]);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#999\"/>",
			x, fr->top + fr->h, x, fr->top + fr->h + 4);
		tick_label(buf, &fr->x, fr->x.ticks[i]);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" "
			"text-anchor=\"middle\">%s</text>\n",
			x, fr->top + fr->h + 17, buf);
	}
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n",
		fr->left, fr->top, fr->w, fr->h);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
		fr->left + fr->w / 2, fr->top + fr->h + 36);
	plot_escape(f, p->xlabel);
	if (*fr->x.show.name)
		fprintf(f, " (%s)", fr->x.show.name);
	fputs("</text>\n", f);
	fprintf(f,
		"<text transform=\"translate(14 %.1f) rotate(-90)\" "
		"text-anchor=\"middle\">",
		fr->top + fr->h / 2);
	plot_escape(f, p->ylabel);
	if (*fr->y.show.name)
		fprintf(f, " (%s)", fr->y.show.name);
	fputs("</text>\n", f);
}

/* ---- series ---- */

/*
 * Polylines through the usable points of @s, broken at gaps and at bad
 * points (a run that failed is not a point of the curve).
 */
static void draw_line(FILE *f, const struct frame *fr,
		      const struct plot_series *s, const char *extra)
{
	bool open = false;

	for (unsigned j = 0; j < s->n; j++) {
		double x = s->x[j], y = s->y[j];

		if (!usable(fr, x, y) || (s->bad && s->bad[j])) {
			if (open)
				fputs("\"/>\n", f);
			open = false;
			continue;
		}
		if (!open)
			fprintf(f,
				"<polyline fill=\"none\" stroke=\"%s\" "
				"stroke-width=\"2\" "
				"stroke-linejoin=\"round\"%s points=\"",
				plot_color(s->color), extra);
		fprintf(f, "%s%.1f,%.1f", open ? " " : "", px(fr, x),
			py(fr, y));
		open = true;
	}
	if (open)
		fputs("\"/>\n", f);
}

static void draw_area(FILE *f, const struct frame *fr,
		      const struct plot_series *s)
{
	double base = fr->top + fr->h, first = -1, last = -1;

	for (unsigned j = 0; j < s->n; j++) {
		if (!usable(fr, s->x[j], s->y[j]))
			continue;
		if (first < 0)
			fprintf(f,
				"<polygon fill=\"%s\" fill-opacity=\"0.18\" "
				"stroke=\"none\" points=\"",
				plot_color(s->color));
		else
			fputc(' ', f);
		last = px(fr, s->x[j]);
		if (first < 0) {
			first = last;
			fprintf(f, "%.1f,%.1f ", first, base);
		}
		fprintf(f, "%.1f,%.1f", last, py(fr, s->y[j]));
	}
	if (first >= 0)
		fprintf(f, " %.1f,%.1f\"/>\n", last, base);
	draw_line(f, fr, s, "");
}

static void draw_step(FILE *f, const struct frame *fr,
		      const struct plot_series *s)
{
	bool open = false;
	double prev_y = 0;

	for (unsigned j = 0; j < s->n; j++) {
		double x = s->x[j], y = s->y[j];

		if (!usable(fr, x, y)) {
			if (open && isfinite(x))
				fprintf(f, " H%.1f", px(fr, x));
			if (open)
				fputs("\"/>\n", f);
			open = false;
			continue;
		}
		if (!open)
			fprintf(f,
				"<path fill=\"none\" stroke=\"%s\" "
				"stroke-width=\"2\" stroke-dasharray=\"6 4\" "
				"d=\"M%.1f,%.1f",
				plot_color(s->color), px(fr, x), py(fr, y));
		else if (y != prev_y)
			fprintf(f, " H%.1f V%.1f", px(fr, x), py(fr, y));
		open = true;
		prev_y = y;
		if (j + 1 == s->n)
			fprintf(f, " H%.1f", px(fr, x));
	}
	if (open)
		fputs("\"/>\n", f);
}

static void draw_points(FILE *f, const struct frame *fr,
			const struct plot_series *s)
{
	const struct plot *p = fr->p;
	char xb[PLOT_LABEL_MAX], yb[PLOT_LABEL_MAX];

	draw_line(f, fr, s, "");
	for (unsigned j = 0; j < s->n; j++) {
		double x = s->x[j], y = s->y[j];
		bool bad = s->bad && s->bad[j];
		double cx, cy;

		/* A failed run may have no value: cross it on the axis. */
		if (bad && !isfinite(y))
			y = 0;
		if (!usable(fr, x, y))
			continue;
		cx = px(fr, x);
		cy = py(fr, y);
		if (bad)
			fprintf(f,
				"<path stroke=\"%s\" stroke-width=\"2.5\" "
				"d=\"M%.1f,%.1f l8,8 m0,-8 l-8,8\">",
				palette[PLOT_COLOR_LIMIT], cx - 4, cy - 4);
		else
			fprintf(f,
				"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
				"fill=\"%s\">",
				cx, cy, plot_color(s->color));
		fputs("<title>", f);
		plot_escape(f, s->name);
		fprintf(f, " at %s: ", plot_format(xb, x, p->xunit));
		if (bad && !isfinite(s->y[j]))
			fputs("none, an enclave failed</title></path>\n", f);
		else
			fprintf(f, "%s%s</title>%s\n",
				plot_format(yb, y, p->yunit),
				bad ? " (an enclave failed)" : "",
				bad ? "</path>" : "</circle>");
	}
}

static void draw_series(FILE *f, const struct frame *fr,
			const struct plot_series *s)
{
	switch (s->style) {
	case PLOT_AREA:
		draw_area(f, fr, s);
		break;
	case PLOT_STEP:
		draw_step(f, fr, s);
		break;
	case PLOT_POINTS:
		draw_points(f, fr, s);
		break;
	default:
		draw_line(f, fr, s, "");
		break;
	}
}

static void draw_marks(FILE *f, const struct frame *fr)
{
	const struct plot *p = fr->p;

	for (unsigned i = 0; i < p->nr_marks; i++) {
		double x = p->marks[i].x;

		if (!isfinite(x) || x < fr->x.lo || x > fr->x.hi)
			continue;
		x = px(fr, x);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#777\" "
			"stroke-dasharray=\"1 3\"/>",
			x, fr->top, x, fr->top + fr->h);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			"font-size=\"10\" fill=\"#555\">",
			x, fr->top - 3);
		plot_escape(f, p->marks[i].label);
		fputs("</text>\n", f);
	}
	for (unsigned i = 0; i < p->nr_hlines; i++) {
		double y = p->hlines[i].y;

		if (!isfinite(y) || y > fr->y.hi)
			continue;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#555\" stroke-width=\"1.5\" "
			"stroke-dasharray=\"2 3\"/>\n",
			fr->left, py(fr, y), fr->left + fr->w, py(fr, y));
	}
}

/* ---- the chart ---- */

static void setup(struct frame *fr, const struct plot *p,
		  const struct plot_series *s, unsigned nr, unsigned rows)
{
	double xlo, xhi, yhi;

	fr->p = p;
	fr->width = p->width ? p->width : 560;
	fr->left = LEFT;
	fr->top = 10 + TITLE_H + (p->note ? NOTE_H : 0) + rows * LEGEND_H +
		  (p->nr_marks ? 12 : 4);
	fr->w = fr->width - LEFT - RIGHT;
	fr->h = (p->height ? p->height : 240) - 10 - TITLE_H - BOTTOM;
	if (fr->h < 60)
		fr->h = 60;
	fr->height = (unsigned)(fr->top + fr->h + BOTTOM);
	data_range(p, s, nr, &xlo, &xhi, &yhi);
	fr->x.unit = p->xunit;
	fr->x.scale = p->xscale;
	if (p->xscale == PLOT_SCALE_LOG2)
		axis_log2(&fr->x, xlo, xhi);
	else
		axis_linear(&fr->x, xlo, xhi, (unsigned)(fr->w / 90), false);
	fr->y.unit = p->yunit;
	fr->y.scale = PLOT_SCALE_LINEAR;
	axis_linear(&fr->y, 0, yhi, 5, true);
}

int plot_svg(FILE *f, const struct plot *p, const struct plot_series *s,
	     unsigned nr)
{
	struct legend_item items[64];
	struct frame fr;
	unsigned nr_items, rows;
	bool empty = true;

	if (!f || !p || !p->id || (nr && !s) ||
	    nr + p->nr_hlines > sizeof(items) / sizeof(items[0]))
		return -EINVAL;
	for (unsigned i = 0; i < nr; i++)
		if (s[i].n)
			empty = false;
	nr_items = legend_items(p, s, nr, items);
	fr.width = p->width ? p->width : 560;
	fr.left = LEFT;
	rows = legend(NULL, &fr, 0, items, nr_items);
	setup(&fr, p, s, nr, rows);

	fprintf(f,
		"<svg class=\"plot\" id=\"%s\" viewBox=\"0 0 %u %u\" "
		"width=\"%u\" height=\"%u\" role=\"img\" "
		"aria-labelledby=\"%s-t\" font-family=\"sans-serif\" "
		"font-size=\"%d\" fill=\"#222\">\n",
		p->id, fr.width, fr.height, fr.width, fr.height, p->id,
		FONT_PX);
	fprintf(f, "<title id=\"%s-t\">", p->id);
	plot_escape(f, p->title);
	fputs("</title>\n", f);
	/* Markers on the frame stay whole; lines end a little outside. */
	fprintf(f,
		"<defs><clipPath id=\"%s-c\"><rect x=\"%.1f\" y=\"%.1f\" "
		"width=\"%.1f\" height=\"%.1f\"/></clipPath></defs>\n",
		p->id, fr.left - 6, fr.top - 6, fr.w + 12, fr.h + 12);
	fprintf(f,
		"<text x=\"%.1f\" y=\"%d\" font-size=\"14\" "
		"font-weight=\"bold\">",
		fr.left, 8 + 14);
	plot_escape(f, p->title);
	fputs("</text>\n", f);
	if (p->note) {
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" fill=\"#555\">", fr.left,
			8 + TITLE_H + 12);
		plot_escape(f, p->note);
		fputs("</text>\n", f);
	}
	legend(f, &fr, 10 + TITLE_H + (p->note ? NOTE_H : 0), items, nr_items);
	draw_axes(f, &fr);
	fprintf(f, "<g clip-path=\"url(#%s-c)\">\n", p->id);
	for (unsigned i = 0; i < nr; i++)
		draw_series(f, &fr, &s[i]);
	fputs("</g>\n", f);
	draw_marks(f, &fr);
	if (empty)
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			"fill=\"#777\">no data</text>\n",
			fr.left + fr.w / 2, fr.top + fr.h / 2);
	fputs("</svg>\n", f);
	return 0;
}
