/* SPDX-License-Identifier: MIT */
/*
 * What the metrics module's files share: the text format's primitives
 * (prom.c) used by the renderer (metrics.c).
 */
#ifndef EPCG_METRICS_INTERNAL_H
#define EPCG_METRICS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <epcg/metrics.h>

/* Which bytes to escape in a text (the format's two contexts). */
enum epcg__metrics_escape {
	EPCG__METRICS_ESCAPE_NONE, /* already escaped: copy */
	EPCG__METRICS_ESCAPE_LABEL, /* backslash, double quote, newline */
	EPCG__METRICS_ESCAPE_HELP, /* backslash, newline */
	EPCG__METRICS_ESCAPE_NR
};

/* How a sample's value is printed. */
enum epcg__metrics_unit {
	EPCG__METRICS_UNIT_COUNT, /* a decimal integer */
	EPCG__METRICS_UNIT_NS, /* nanoseconds, printed as seconds */
	EPCG__METRICS_UNIT_NR
};

/* Append @n bytes of @s (a no-op once @b->err is set). */
void epcg__metrics_put(struct epcg_metrics_buf *b, const char *s, size_t n);

/* Append @s with the bytes special in context @what escaped. */
void epcg__metrics_escape(struct epcg_metrics_buf *b, const char *s,
			  enum epcg__metrics_escape what);

/*
 * Append one sample line; label values are escaped per @esc.  Names are
 * not checked: the renderer's come from its tables, and a test parses
 * everything it prints.
 * Return: 0 or @b->err.
 */
int epcg__metrics_sample(struct epcg_metrics_buf *b, const char *name,
			 const struct epcg_metrics_label *labels, unsigned nr,
			 enum epcg__metrics_escape esc,
			 enum epcg__metrics_unit unit, uint64_t value);

#endif
