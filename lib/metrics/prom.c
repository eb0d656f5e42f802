// SPDX-License-Identifier: MIT
/*
 * The Prometheus text exposition format, version 0.0.4: a growable buffer
 * and the writers of its three kinds of line.
 *
 *	# HELP name text			(backslash, newline escaped)
 *	# TYPE name gauge|counter
 *	name{label="value",...} value		(backslash, quote, newline escaped)
 *
 * Names passed to the public writers are checked against the format's
 * grammar, so a caller's typo fails a test instead of a scrape; the
 * renderer's own samples skip the check (a test parses its whole output
 * instead), since it prints hundreds of thousands of lines for a large
 * tree.  Errors stick in the buffer: after the first failed growth every
 * append is a no-op and the renderer checks once, at the end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/metrics.h>

#include "metrics/metrics-internal.h"

void epcg_metrics_buf_init(struct epcg_metrics_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
}

void epcg_metrics_buf_finish(struct epcg_metrics_buf *b)
{
	if (!b)
		return;
	free(b->data);
	epcg_metrics_buf_init(b);
}

void epcg_metrics_buf_reset(struct epcg_metrics_buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for @n more bytes plus the NUL; doubles, so appends are O(1). */
static bool reserve(struct epcg_metrics_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->err)
		return false;
	if (n > SIZE_MAX - b->len - 1)
		goto nomem;
	need = b->len + n + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		goto nomem;
	b->data = p;
	b->cap = cap;
	return true;
nomem:
	b->err = -ENOMEM;
	return false;
}

void epcg__metrics_put(struct epcg_metrics_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void put_str(struct epcg_metrics_buf *b, const char *s)
{
	epcg__metrics_put(b, s, strlen(s));
}

static void put_char(struct epcg_metrics_buf *b, char c)
{
	epcg__metrics_put(b, &c, 1);
}

void epcg__metrics_escape(struct epcg_metrics_buf *b, const char *s,
			  enum epcg__metrics_escape what)
{
	const char *run = s;

	/* Copy runs of plain bytes in one go; escape the few special ones. */
	for (; *s; s++) {
		const char *esc = NULL;

		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (*s == '"' && what == EPCG__METRICS_ESCAPE_LABEL)
			esc = "\\\"";
		if (!esc)
			continue;
		epcg__metrics_put(b, run, (size_t)(s - run));
		put_str(b, esc);
		run = s + 1;
	}
	epcg__metrics_put(b, run, (size_t)(s - run));
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metrics; labels the same without ':'. */
static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++) {
		char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || (colon && c == ':'))
			continue;
		return false;
	}
	return true;
}

static const char *const type_names[EPCG_METRICS_TYPE_NR] = {
	[EPCG_METRICS_GAUGE] = "gauge",
	[EPCG_METRICS_COUNTER] = "counter",
};

int epcg_metrics_write_header(struct epcg_metrics_buf *b, const char *name,
			      enum epcg_metrics_type type, const char *help)
{
	if (!b || !name_ok(name, true) ||
	    (unsigned)type >= EPCG_METRICS_TYPE_NR)
		return -EINVAL;
	put_str(b, "# HELP ");
	put_str(b, name);
	put_char(b, ' ');
	epcg__metrics_escape(b, help ? help : "", EPCG__METRICS_ESCAPE_HELP);
	put_str(b, "\n# TYPE ");
	put_str(b, name);
	put_char(b, ' ');
	put_str(b, type_names[type]);
	put_char(b, '\n');
	return b->err;
}

/* Whether a sample's metric and label names follow the grammar. */
static bool sample_ok(const struct epcg_metrics_buf *b, const char *name,
		      const struct epcg_metrics_label *labels, unsigned nr)
{
	if (!b || !name_ok(name, true) || (nr && !labels))
		return false;
	for (unsigned i = 0; i < nr; i++)
		if (!name_ok(labels[i].name, false) || !labels[i].value)
			return false;
	return true;
}

/* Decimal digits of @v, without snprintf (the renderer prints many). */
static void put_u64(struct epcg_metrics_buf *b, uint64_t v)
{
	char num[20];
	size_t i = sizeof(num);

	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	epcg__metrics_put(b, num + i, sizeof(num) - i);
}

/* @ns as seconds: integer part, then the fraction without trailing 0s. */
static void put_seconds(struct epcg_metrics_buf *b, uint64_t ns)
{
	uint32_t frac = (uint32_t)(ns % 1000000000u);
	char digits[10];
	size_t n = 10;

	put_u64(b, ns / 1000000000u);
	if (!frac)
		return;
	digits[0] = '.';
	for (size_t i = 9; i >= 1; i--) {
		digits[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	while (digits[n - 1] == '0')
		n--;
	epcg__metrics_put(b, digits, n);
}

int epcg__metrics_sample(struct epcg_metrics_buf *b, const char *name,
			 const struct epcg_metrics_label *labels, unsigned nr,
			 enum epcg__metrics_escape esc,
			 enum epcg__metrics_unit unit, uint64_t value)
{
	put_str(b, name);
	if (nr) {
		put_char(b, '{');
		for (unsigned i = 0; i < nr; i++) {
			if (i)
				put_char(b, ',');
			put_str(b, labels[i].name);
			put_str(b, "=\"");
			if (esc == EPCG__METRICS_ESCAPE_NONE)
				put_str(b, labels[i].value);
			else
				epcg__metrics_escape(b, labels[i].value, esc);
			put_char(b, '"');
		}
		put_char(b, '}');
	}
	put_char(b, ' ');
	if (unit == EPCG__METRICS_UNIT_NS)
		put_seconds(b, value);
	else
		put_u64(b, value);
	put_char(b, '\n');
	return b->err;
}

int epcg_metrics_write_u64(struct epcg_metrics_buf *b, const char *name,
			   const struct epcg_metrics_label *labels, unsigned nr,
			   uint64_t value)
{
	if (!sample_ok(b, name, labels, nr))
		return -EINVAL;
	return epcg__metrics_sample(b, name, labels, nr,
				    EPCG__METRICS_ESCAPE_LABEL,
				    EPCG__METRICS_UNIT_COUNT, value);
}

int epcg_metrics_write_ns(struct epcg_metrics_buf *b, const char *name,
			  const struct epcg_metrics_label *labels, unsigned nr,
			  uint64_t ns)
{
	if (!sample_ok(b, name, labels, nr))
		return -EINVAL;
	return epcg__metrics_sample(b, name, labels, nr,
				    EPCG__METRICS_ESCAPE_LABEL,
				    EPCG__METRICS_UNIT_NS, ns);
}
