/* SPDX-License-Identifier: MIT */
/*
 * Line charts as inline SVG, for the simulator's HTML reports (report.c,
 * sweep-report.c).  Internal to sim/.
 *
 * A chart is drawn from plain arrays of doubles in one call: axes with
 * round tick values in the unit of the data (binary sizes for bytes,
 * ms or s for virtual time, k and M for rates), a legend, optional
 * vertical markers (timed events) and horizontal reference lines (the
 * EPC capacity, an unlimited baseline).  The output is a function of the
 * input only: coordinates are printed with one decimal, so equal data
 * give equal bytes.  There is no script and nothing outside the <svg>
 * element: a page that inlines it stays self-contained.
 */
#ifndef EPCG_SIM_PLOT_H
#define EPCG_SIM_PLOT_H

#include <stdbool.h>
#include <stdio.h>

/* What the numbers on an axis are, which decides ticks and labels. */
enum plot_unit {
	PLOT_UNIT_SECONDS, /* virtual time, in seconds */
	PLOT_UNIT_BYTES, /* sizes: binary units, KiB, MiB, GiB */
	PLOT_UNIT_RATE, /* events per second: k, M */
	PLOT_UNIT_COUNT, /* plain counts: k, M */
	PLOT_UNIT_RATIO, /* a factor, printed with a trailing x */
	PLOT_UNIT_NR
};

/* How a series is drawn. */
enum plot_style {
	PLOT_LINE, /* a solid line */
	PLOT_AREA, /* a solid line with the area below it tinted */
	PLOT_STEP, /* a dashed line that holds each value until the next
			 * point: a limit that changes at events */
	PLOT_POINTS, /* a line with a marker at every point, and a hover
			 * text (SVG <title>) giving its coordinates */
	PLOT_STYLE_NR
};

/* Scale of the x axis. */
enum plot_scale {
	PLOT_SCALE_LINEAR,
	PLOT_SCALE_LOG2, /* powers of two evenly spaced; x must be > 0 */
	PLOT_SCALE_NR
};

/**
 * struct plot_series - one line of a chart.
 * @name: the legend's text.
 * @x: @n x values, increasing.
 * @y: @n y values; a NaN leaves a gap in the line.
 * @n: points.
 * @style: how to draw it.
 * @color: index into the palette (PLOT_COLOR_LIMIT: the limit red).
 * @bad: PLOT_POINTS: points drawn as a cross instead of a dot (a run in
 *	which an enclave failed); may be NULL.
 */
struct plot_series {
	const char *name;
	const double *x;
	const double *y;
	unsigned n;
	enum plot_style style;
	unsigned color;
	const bool *bad;
};

/* A vertical marker at @x with a short @label (a number, a letter). */
struct plot_mark {
	double x;
	const char *label;
};

/* A dotted horizontal reference line at @y, named in the legend. */
struct plot_hline {
	double y;
	const char *label;
};

/* Palette entries; the palette repeats after PLOT_COLORS. */
#define PLOT_COLORS 8
#define PLOT_COLOR_LIMIT PLOT_COLORS

/**
 * struct plot - a chart.
 * @id: unique in the page ([a-z0-9-]), names the chart's clip path.
 * @title: shown above the chart.
 * @note: a second, smaller line after the title (may be NULL).
 * @xunit, @yunit: what the axes hold.
 * @xlabel, @ylabel: the axes' names (units are appended).
 * @xscale: linear or log2.
 * @xmin, @xmax: the x range; if @xmax <= @xmin, the data's.
 * @ymax: at least this much on the y axis (0: the data decide); y
 *	always starts at 0.
 * @ycap: if > 0, values above it are left off the scale (clipped)
 *	instead of stretching the axis (a limit far above usage).
 * @width, @height: size in pixels (the SVG scales to its container).
 * @marks: vertical markers, @nr_marks of them.
 * @hlines: reference lines, @nr_hlines of them.
 */
struct plot {
	const char *id;
	const char *title;
	const char *note;
	enum plot_unit xunit;
	enum plot_unit yunit;
	const char *xlabel;
	const char *ylabel;
	enum plot_scale xscale;
	double xmin;
	double xmax;
	double ymax;
	double ycap;
	unsigned width;
	unsigned height;
	const struct plot_mark *marks;
	unsigned nr_marks;
	const struct plot_hline *hlines;
	unsigned nr_hlines;
};

/**
 * plot_svg() - write @p with its series @s as one <svg> element.
 * @f: where to.
 * @p: the chart.
 * @s: the series, drawn in order (the last on top).
 * @nr: how many (0 draws empty axes with "no data").
 *
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument.  Write errors are left in @f's
 * error flag for the caller to check once.
 */
int plot_svg(FILE *f, const struct plot *p, const struct plot_series *s,
	     unsigned nr);

/** plot_color() - the CSS color of palette entry @i. */
const char *plot_color(unsigned i);

/**
 * plot_escape() - write @s with &, <, >, " and ' as XML entities, so it
 * can stand in text or in an attribute.
 */
void plot_escape(FILE *f, const char *s);

/**
 * plot_format() - @v as an axis would label it: "24 MiB", "1.5 s",
 * "12.3k/s", "1.25x".
 * @buf: at least PLOT_LABEL_MAX bytes.
 */
#define PLOT_LABEL_MAX 48
const char *plot_format(char *buf, double v, enum plot_unit unit);

#endif
