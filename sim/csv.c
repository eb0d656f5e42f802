// SPDX-License-Identifier: MIT
/*
 * The time series of a run as CSV (`epcg run --csv FILE`), and the
 * number formats the CSV and HTML writers of runs and sweeps share.
 *
 * The file is "long" (one row per time and cgroup) rather than "wide"
 * (one column per cgroup): its columns do not depend on the scenario, so
 * scripts and plotting tools read every file the same way, and a pivot
 * gives the wide form when wanted.  Sizes and counts are integers;
 * time is an exact decimal; only the rates, which are quotients, are
 * printed with a fixed three decimals.  Nothing depends on the host or
 * the locale (no thousands separators, '.' for the decimal point).
 */
#include <errno.h>
#include <string.h>

#include <inttypes.h>

#include "report.h"

void epcg__csv_write_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void epcg__seconds_write(FILE *f, uint64_t ns)
{
	uint64_t frac = ns % UINT64_C(1000000000);
	int digits = 9;

	fprintf(f, "%" PRIu64, ns / UINT64_C(1000000000));
	if (!frac)
		return;
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	fprintf(f, ".%0*" PRIu64, digits, frac);
}

const char *epcg__size_format(char *buf, uint64_t v)
{
	static const char units[] = "KMGT";
	double d = (double)v;
	int u = -1;

	if (v == EPCG_SCENARIO_MAX)
		return "max";
	if (v < 1024) {
		snprintf(buf, 32, "%" PRIu64, v);
		return buf;
	}
	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	if (v % (1ull << (10 * (u + 1))) == 0)
		snprintf(buf, 32, "%.0f%c", d, units[u]);
	else
		snprintf(buf, 32, "%.1f%c", d, units[u]);
	return buf;
}

const char *epcg__time_format(char *buf, uint64_t ns)
{
	if (ns >= 1000000000ull)
		snprintf(buf, 32, "%.3fs", (double)ns / 1e9);
	else if (ns >= 1000000ull)
		snprintf(buf, 32, "%.3fms", (double)ns / 1e6);
	else if (ns >= 1000ull)
		snprintf(buf, 32, "%.3fus", (double)ns / 1e3);
	else
		snprintf(buf, 32, "%" PRIu64 "ns", ns);
	return buf;
}

static void write_row(FILE *f, const struct epcg_results *r, unsigned i,
		      unsigned c)
{
	const struct epcg_result_sample *s = epcg_result_sample_at(r, i, c);
	const struct epcg_result_sample *p =
		i ? epcg_result_sample_at(r, i - 1, c) : s;
	uint64_t t0 = i ? r->series.t_ns[i - 1] : 0, t1 = r->series.t_ns[i];

	epcg__seconds_write(f, t1);
	fputc(',', f);
	epcg__csv_write_field(f, r->cgroups[c].path);
	fprintf(f, ",%" PRIu64 ",", s->current);
	if (s->max == EPCG_SCENARIO_MAX)
		fputs("max", f);
	else
		fprintf(f, "%" PRIu64, s->max);
	fprintf(f, ",%.3f,%.3f,%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
		epcg_result_rate(p->faults, s->faults, t0, t1),
		epcg_result_rate(p->ewb, s->ewb, t0, t1),
		epcg_result_rate(p->eldu, s->eldu, t0, t1), s->faults, s->ewb,
		s->eldu);
}

int epcg_results_write_csv(const struct epcg_results *r, FILE *f)
{
	if (!r || !f)
		return -EINVAL;
	fputs("time_s,cgroup,current_bytes,max_bytes,faults_per_s,ewb_per_s,"
	      "eldu_per_s,faults,ewb,eldu\n",
	      f);
	for (unsigned i = 0; i < r->series.nr; i++)
		for (unsigned c = 0; c < r->nr_cgroups; c++)
			write_row(f, r, i, c);
	return ferror(f) || fflush(f) ? -EIO : 0;
}
