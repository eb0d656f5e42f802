// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the sweep file reader (sim/sweep-file.c) on arbitrary
 * bytes, read from memory through a FILE.  Sweep files come from other
 * machines (the shards of a fleet run), so the reader must refuse
 * anything malformed with one "NAME..." message and never crash.
 *
 * Whatever the input, epcg_sweep_read() either fails with -EINVAL (or
 * -ENOMEM) and a message naming the file, or returns a sweep that holds
 * its promises: 2 to EPCG_SWEEP_MAX_POINTS points, the baseline first and
 * the other limits increasing, a shard below the shard count, and every
 * point of the shard done and no other.  Such a sweep written back reads
 * back to the same bytes; merged alone (when it is a whole sweep) it is
 * unchanged; and its CSV, HTML and table can be written.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.sweep"

/* @sw written as a sweep file, in a string to free(). */
static char *written(const struct epcg_sweep *sw, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f || epcg_sweep_write(sw, f) || fclose(f))
		abort();
	return buf;
}

static void check(const struct epcg_sweep *sw)
{
	if (sw->nr_points < 2 || sw->nr_points > EPCG_SWEEP_MAX_POINTS ||
	    sw->points[0].limit != EPCG_SCENARIO_MAX || !sw->nr_shards ||
	    sw->shard >= sw->nr_shards)
		abort();
	for (unsigned i = 0; i < sw->nr_points; i++) {
		if (i > 1 && sw->points[i].limit <= sw->points[i - 1].limit)
			abort();
		if (sw->points[i].done != epcg_sweep_in_shard(sw, i))
			abort();
	}
}

/* Write what needs a whole sweep, to nowhere. */
static void outputs(const struct epcg_sweep *sw)
{
	FILE *f = fopen("/dev/null", "w");

	if (!f)
		abort();
	if (epcg_sweep_write_csv(sw, f) || epcg_sweep_write_html(sw, f) ||
	    epcg_sweep_print_table(sw, f))
		abort();
	fclose(f);
}

static void round_trip(const struct epcg_sweep *sw)
{
	struct epcg_sweep *back = NULL, *merged = NULL;
	const char *name = NAME;
	char err[512], *a, *b;
	size_t alen, blen;
	FILE *f;

	a = written(sw, &alen);
	f = fmemopen(a, alen, "r");
	if (!f || epcg_sweep_read(NAME, f, &back, err, sizeof(err)))
		abort();
	fclose(f);
	b = written(back, &blen);
	if (alen != blen || memcmp(a, b, alen))
		abort();
	free(b);
	if (sw->nr_shards == 1) {
		if (epcg_sweep_merge((struct epcg_sweep *const *)&sw, &name, 1,
				     &merged, err, sizeof(err)))
			abort();
		b = written(merged, &blen);
		if (alen != blen || memcmp(a, b, alen))
			abort();
		free(b);
		outputs(merged);
		epcg_sweep_destroy(merged);
	}
	free(a);
	epcg_sweep_destroy(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct epcg_sweep *sw = NULL;
	char err[512] = "";
	FILE *f;
	int r;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	r = epcg_sweep_read(NAME, f, &sw, err, sizeof(err));
	fclose(f);
	if (r) {
		if ((r != -EINVAL && r != -ENOMEM) || sw ||
		    (r == -EINVAL && strncmp(err, NAME, strlen(NAME))))
			abort();
		return 0;
	}
	check(sw);
	round_trip(sw);
	epcg_sweep_destroy(sw);
	return 0;
}
