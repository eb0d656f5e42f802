/* SPDX-License-Identifier: MIT */
/*
 * Sweeps: one scenario run once per limit of one cgroup, and the curve
 * that comes out (`epcg sweep`): for each limit, the paging it caused
 * (faults, EWB, ELDU), how much slower the workload ran than without a
 * limit, and how its enclaves ended.  It is the miss-ratio curve of an
 * EPC limit, the question "what does limit L cost workload W" asked for
 * every L at once.
 *
 * A sweep is a list of points.  Point 0 is always the baseline, the run
 * with no limit on the cgroup ("max"); the others are the requested
 * limits in increasing order.  Each point is an independent, deterministic
 * run (sim.h), so points may run in any order, on any number of threads
 * or machines, and give the same numbers.
 *
 * Beyond one machine.  A sweep is cut into N shards: shard I (counting
 * from 0, as a Kubernetes Indexed Job counts its pods) runs the points
 * whose index modulo N is I, so the expensive small limits spread over
 * every shard.  Each shard writes a sweep file (epcg_sweep_write()):
 * the sweep's parameters, the shard, and a row per point it ran.
 * epcg_sweep_merge() joins the N files after checking that they are
 * shards of one sweep (same scenario text, cgroup, seed, policy, EPC and
 * limits), that each shard is there once and each point once; the
 * merged sweep is the one a single machine would have produced, and
 * every output written from it is byte for byte the same.
 *
 * Like the simulator, nothing here prints: errors come back as a message
 * in a caller's buffer, once.
 */
#ifndef EPCG_SIM_SWEEP_H
#define EPCG_SIM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <epcg/sgx.h>

#include "scenario.h"

/* Version of the sweep file format; bumped when a field changes. */
#define EPCG_SWEEP_VERSION 1

/* Most points a sweep may have (the baseline included). */
#define EPCG_SWEEP_MAX_POINTS 10000

/**
 * struct epcg_sweep_point - one limit and what its run gave.
 * @limit: misc.max of the swept cgroup, in bytes, for the whole run
 *	(EPCG_SCENARIO_MAX: none, the baseline).
 * @done: the point was run (or read from a file); a shard holds only its
 *	own points.
 * @virtual_ns: when the run ended.
 * @runtime_ns: the run times of the enclaves in the cgroup's subtree,
 *	added up (struct epcg_result_enclave's virtual_ns).
 * @accesses: their page accesses, added up.
 * @nr_enclaves: how many enclaves that is.
 * @outcomes: how many of them ended each way (enum epcg_outcome; the
 *	FAILED entry stays 0).
 * @peak: the cgroup's misc.peak.
 * @events: its misc.events (charges refused at it or below).
 * @total: its paging counters, hierarchical (ewb, eldu, faults,
 *	reclaim_scans, enomem, sigbus, paging_ns).
 * @nr_failed: expectations of the scenario that failed in this run.
 */
struct epcg_sweep_point {
	uint64_t limit;
	bool done;
	uint64_t virtual_ns;
	uint64_t runtime_ns;
	uint64_t accesses;
	unsigned nr_enclaves;
	unsigned outcomes[EPCG_OUTCOME_NR];
	uint64_t peak;
	uint64_t events;
	struct epcg_sgx_stats total;
	unsigned nr_failed;
};

/**
 * struct epcg_sweep - a sweep, whole or one shard of it.
 * @scenario: the scenario's file name as given ("default.scn" for the
 *	embedded one).
 * @hash: epcg_sweep_hash() of the scenario's text.
 * @cgroup: the swept cgroup's path.
 * @seed: the seed of every run.
 * @policy: the reclaim policy of every run.
 * @sections: EPC section sizes in bytes, @nr_sections of them.
 * @shard: which shard this is, 0 to @nr_shards - 1.
 * @nr_shards: how many there are (1: the whole sweep).
 * @points: the points, the baseline first.
 * @nr_points: how many (2 to EPCG_SWEEP_MAX_POINTS).
 * @dropped_events: `set` events of the swept cgroup left out of every run
 *	(a sweep holds the limit still); 0 for a sweep read from a file.
 */
struct epcg_sweep {
	char *scenario;
	uint64_t hash;
	char *cgroup;
	uint64_t seed;
	enum epcg_sgx_policy policy;
	uint64_t sections[EPCG_EPC_MAX_SECTIONS];
	unsigned nr_sections;
	unsigned shard;
	unsigned nr_shards;
	struct epcg_sweep_point *points;
	unsigned nr_points;
	unsigned dropped_events;
};

/* ---- what to sweep ---- */

/**
 * epcg_sweep_parse_limits() - parse "64M,128M,1Gi,max".
 * @s: sizes as the scenario format writes them (K, M, G, T or Ki, Mi,
 *	Gi, Ti; binary), or "max", separated by commas.
 * @ret: receives an array of the limits as given, freed with free().
 * @nr: receives its length.
 * @err: receives a message on failure ("bad limit '12Q'").
 * @errlen: its size.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for an empty list or element, a bad size, or more
 * than EPCG_SWEEP_MAX_POINTS - 1 limits; -ENOMEM.
 */
int epcg_sweep_parse_limits(const char *s, uint64_t **ret, unsigned *nr,
			    char *err, size_t errlen);

/**
 * epcg_sweep_parse_range() - parse "FROM:TO:POINTS", e.g. "4M:64M:16".
 * @s: two sizes, FROM < TO, and a count of points, 2 or more.
 * @ret: receives POINTS limits, freed with free(): FROM, TO, and evenly
 *	spaced values between them, each rounded down to a whole page (the
 *	unit a limit is charged in); FROM and TO as given.
 * @nr: receives POINTS.
 * @err: receives a message on failure.
 * @errlen: its size.
 *
 * Context: any thread.
 * Return: 0; -EINVAL if malformed, FROM >= TO, POINTS < 2 or above
 * EPCG_SWEEP_MAX_POINTS - 1, or if rounding made two points equal (the
 * range is finer than a page); -ENOMEM.
 */
int epcg_sweep_parse_range(const char *s, uint64_t **ret, unsigned *nr,
			   char *err, size_t errlen);

/**
 * epcg_sweep_parse_shard() - parse "I/N" (0 <= I < N <= 100000).
 * Context: any thread.
 * Return: 0; -EINVAL if malformed or out of range.
 */
int epcg_sweep_parse_shard(const char *s, unsigned *index, unsigned *count);

/** epcg_sweep_hash() - FNV-1a (64 bits) of @len bytes at @text. */
uint64_t epcg_sweep_hash(const void *text, size_t len);

/**
 * epcg_sweep_create() - a sweep of @sc, its points not yet run.
 * @sc: the scenario, with its seed, policy and sections as the runs
 *	will use them (overrides applied).
 * @hash: epcg_sweep_hash() of the scenario's text.
 * @cgroup: the path of the cgroup to sweep; not the root, which has no
 *	limit.
 * @limits: the limits, in any order ("max" included or not: the
 *	baseline is always there).
 * @nr: how many.
 * @shard: this shard, below @nr_shards.
 * @nr_shards: 1 for the whole sweep.
 * @ret: the sweep, freed with epcg_sweep_destroy().
 * @err: receives a message on failure.
 * @errlen: its size.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument, an unknown cgroup or the root,
 * a limit given twice, no limit but "max", too many, or a bad shard;
 * -ENOMEM.
 */
int epcg_sweep_create(const struct epcg_scenario *sc, uint64_t hash,
		      const char *cgroup, const uint64_t *limits, unsigned nr,
		      unsigned shard, unsigned nr_shards,
		      struct epcg_sweep **ret, char *err, size_t errlen);

/** epcg_sweep_destroy() - free @sw (may be NULL). */
void epcg_sweep_destroy(struct epcg_sweep *sw);

/** epcg_sweep_in_shard() - point @i belongs to @sw's shard. */
static inline bool epcg_sweep_in_shard(const struct epcg_sweep *sw, unsigned i)
{
	return i % sw->nr_shards == sw->shard;
}

/**
 * epcg_sweep_complete() - every point of @sw is done (a whole sweep, or
 * a merge of all its shards).
 */
bool epcg_sweep_complete(const struct epcg_sweep *sw);

/* ---- running ---- */

/**
 * struct epcg_sweep_opts - how to run (zero it for the defaults).
 * @jobs: runs at a time, each on its own thread (0 or 1: one, on the
 *	calling thread).  The results do not depend on it.
 * @progress: called now and then with the points of the shard done so
 *	far and their number: after each point, and while one runs.  Calls
 *	are serialized but may come from any of the sweep's threads.
 * @arg: passed to @progress.
 */
struct epcg_sweep_opts {
	unsigned jobs;
	void (*progress)(void *arg, unsigned done, unsigned total);
	void *arg;
};

/**
 * epcg_sweep_run() - run the points of @sw's shard.
 * @sw: the sweep (epcg_sweep_create() with this @sc).
 * @sc: the scenario; read only, shared by the runs.
 * @opts: options, may be NULL.
 * @err: receives a message on failure, naming the limit whose run failed
 *	("limit 4M: ...").
 * @errlen: its size.
 *
 * Each point runs @sc with the swept cgroup's misc.max at the point's
 * limit from the start, and without the scenario's `set` events for that
 * cgroup (epcg_sweep_create() counted them in @sw->dropped_events);
 * everything else is the scenario's, expectations included (their
 * failures are counted, not fatal).  On failure, the points being run
 * finish and no other starts.
 *
 * Context: any thread; returns when the shard's points are done.
 * Return: 0; an error of epcg_sim_run() (-EINVAL a scenario that cannot
 * run, -ENOMEM, -EDEADLK, -EIO); -EAGAIN if a thread could not be
 * started.
 */
int epcg_sweep_run(struct epcg_sweep *sw, const struct epcg_scenario *sc,
		   const struct epcg_sweep_opts *opts, char *err,
		   size_t errlen);

/**
 * epcg_sweep_slowdown() - how much slower point @i ran than the baseline.
 *
 * The virtual time per access of the cgroup's enclaves at the limit over
 * the same without a limit.  For workloads that make a fixed number of
 * accesses it is the ratio of their run times; for workloads that run
 * for a fixed time it is the inverse ratio of their throughputs.
 *
 * Context: any thread.
 * Return: the factor (1 for the baseline), NaN if a run made no access or
 * is not done.
 */
double epcg_sweep_slowdown(const struct epcg_sweep *sw, unsigned i);

/*
 * epcg__sweep_fail() - for sweep.c and sweep-file.c: write the message
 * into @err (if there is room) and return -EINVAL.
 */
int epcg__sweep_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- sweep files: shards and merging (sweep-file.c) ---- */

/**
 * epcg_sweep_write() - @sw as a sweep file: its parameters, its shard,
 * and one CSV row per point done.  docs/simulator.md gives the format.
 * Context: any thread.
 * Return: 0; -EINVAL for a name with a newline; -EIO if writing failed.
 */
int epcg_sweep_write(const struct epcg_sweep *sw, FILE *f);

/**
 * epcg_sweep_read() - read a sweep file.
 * @name: the file's name, for messages.
 * @f: the file.
 * @ret: the sweep, freed with epcg_sweep_destroy().
 * @err: receives "NAME:LINE: message" on failure.
 * @errlen: its size.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for anything but a well-formed, complete file of
 * this version (a file cut short, a row of another shard, a row twice,
 * a bad number); -ENOMEM; -EIO if reading failed.
 */
int epcg_sweep_read(const char *name, FILE *f, struct epcg_sweep **ret,
		    char *err, size_t errlen);

/**
 * epcg_sweep_merge() - join the shards of one sweep.
 * @parts: the shards, in any order.
 * @names: their file names, for messages.
 * @nr: how many.
 * @ret: the whole sweep (shard 0 of 1), freed with epcg_sweep_destroy().
 * @err: receives a message on failure, naming the files concerned.
 * @errlen: its size.
 *
 * Context: any thread.
 * Return: 0; -EINVAL if the parts are not shards of one sweep (a
 * parameter differs), a shard is missing or given twice, or a point is
 * missing; -ENOMEM.
 */
int epcg_sweep_merge(struct epcg_sweep *const *parts, const char *const *names,
		     unsigned nr, struct epcg_sweep **ret, char *err,
		     size_t errlen);

/* ---- outputs (sweep-report.c) ---- */

/**
 * epcg_sweep_print_table() - the curve as a table on a terminal: a
 * header, then one line per point done (limit, faults, EWB, ELDU, miss
 * ratio, accesses, run time, slowdown, ENOMEM and SIGBUS outcomes).
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument; -ENOMEM; -EIO if writing
 * failed.
 */
int epcg_sweep_print_table(const struct epcg_sweep *sw, FILE *f);

/**
 * epcg_sweep_write_csv() - the curve as CSV, one row per point, the
 * baseline ("max") first:
 *
 *	limit_bytes,faults,ewb,eldu,miss_ratio,slowdown,runtime_s,
 *	accesses,peak_bytes,events,reclaim_scans,paging_s,enclaves,ok,
 *	enomem,sigbus,efault,killed,stopped,running,checks_failed
 *
 * miss_ratio is faults per access (6 decimals), slowdown is
 * epcg_sweep_slowdown() (4 decimals; empty if unknown), enomem to
 * running count the enclaves that ended that way.
 * Context: any thread.
 * Return: 0; -EINVAL unless @sw is complete; -EIO if writing failed.
 */
int epcg_sweep_write_csv(const struct epcg_sweep *sw, FILE *f);

/**
 * epcg_sweep_write_html() - a self-contained HTML report of the curve:
 * SVG plots of paging, miss ratio and slowdown against the limit (runs
 * in which an enclave failed marked), and the table.
 * Context: any thread.
 * Return: 0; -EINVAL unless @sw is complete; -ENOMEM; -EIO if writing
 * failed.
 */
int epcg_sweep_write_html(const struct epcg_sweep *sw, FILE *f);

#endif
