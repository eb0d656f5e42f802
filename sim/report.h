/* SPDX-License-Identifier: MIT */
/*
 * Files written from the results of one run, beside the terminal table
 * and JSON of results.h: the CSV time series (`epcg run --csv`) and the
 * self-contained HTML report with SVG plots (`epcg run --report`).
 * docs/simulator.md describes both.  Like every output of results, they
 * are functions of the results alone: equal results, equal bytes.
 */
#ifndef EPCG_SIM_REPORT_H
#define EPCG_SIM_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "results.h"

/**
 * epcg_results_write_csv() - the time series as CSV (RFC 4180).
 * @r: the results.
 * @f: where to.
 *
 * One header line, then one row per sample and cgroup, time-major (every
 * cgroup at the first sampling time, root first, then the next time):
 *
 *	time_s,cgroup,current_bytes,max_bytes,faults_per_s,ewb_per_s,
 *	eldu_per_s,faults,ewb,eldu
 *
 * time_s is the exact virtual time in seconds ("0.01", "4.0558499");
 * max_bytes is "max" for no limit, as misc.max prints it; the counters
 * are hierarchical and cumulative from the start, the rates are those
 * counters' increase over the interval that ends at the row's time (0 at
 * the first sample), printed with three decimals.  A cgroup path with a
 * comma or a quote is quoted.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument; -EIO if writing failed.
 */
int epcg_results_write_csv(const struct epcg_results *r, FILE *f);

/**
 * epcg_results_write_html() - a self-contained HTML report of the run.
 * @r: the results.
 * @f: where to.
 *
 * One page with no script and no external resource (a
 * Content-Security-Policy in the page forbids both): what ran; an SVG
 * plot per cgroup of its usage against its limit over virtual time, with
 * its peak and the timed events marked; the paging rate of every cgroup
 * over time (evictions and faults per second); then the per-cgroup and
 * per-enclave tables, the events and the checks.  Long series are
 * reduced to at most 1000 points per line (the highest and lowest usage
 * of each bucket, the exact rate over it), so the page stays small.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument; -ENOMEM; -EIO if writing
 * failed.
 */
int epcg_results_write_html(const struct epcg_results *r, FILE *f);

/* ---- pieces shared by the CSV and HTML writers of runs and sweeps ---- */

/** epcg__csv_write_field() - @s as one CSV field, quoted if need be. */
void epcg__csv_write_field(FILE *f, const char *s);

/**
 * epcg__seconds_write() - @ns as exact decimal seconds, without trailing
 * zeros: 0 "0", 10000000 "0.01", 1500000000 "1.5".
 */
void epcg__seconds_write(FILE *f, uint64_t ns);

/**
 * epcg__html_write_head() - the start of a report page, up to and
 * including <body>: the doctype, the character set, a
 * Content-Security-Policy that allows no script and no fetch, the title
 * (escaped) and the style sheet.
 */
void epcg__html_write_head(FILE *f, const char *title);

/** epcg__html_write_foot() - the end of a report page. */
void epcg__html_write_foot(FILE *f);

/**
 * epcg__size_format() - @v in bytes as the tables show it: "max" for
 * EPCG_SCENARIO_MAX, "64M", "16.5M", "4096".
 * @buf: at least 32 bytes.
 */
const char *epcg__size_format(char *buf, uint64_t v);

/** epcg__time_format() - virtual @ns as "4.056s", "734.807ms", "12us". */
const char *epcg__time_format(char *buf, uint64_t ns);

#endif
