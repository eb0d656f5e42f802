/* SPDX-License-Identifier: MIT */
/*
 * What one simulation run produced: the contract between the simulator
 * (sim.c, which fills it) and every output (the terminal table and JSON
 * of `epcg run`, CSV time series, Prometheus text, the HTML report,
 * sweeps, merging of shards).
 *
 * A struct epcg_results is plain data: no pointer into the scenario, the
 * machine or the simulator survives the run.  Every string and array is
 * owned by the results and freed by epcg_results_destroy(), so code that
 * builds results of its own (merging shards, tests) allocates them with
 * malloc() the same way.
 *
 * Everything in it is a function of the scenario, its seed and the
 * policy, never of the host: no wall clock, no address, no thread id.
 * Two runs of the same inputs give equal results, and every output
 * written from them is byte for byte the same.
 *
 * Units.  Sizes and limits are bytes (a limit of "max" is
 * EPCG_SCENARIO_MAX); times are virtual nanoseconds from the start of
 * the run; counters are plain counts.
 *
 * Cgroups.  Index 0 is always the root ("/"); scenario cgroup i (in
 * struct epcg_scenario) is results cgroup i + 1, so parents come before
 * their children.  misc.current, misc.peak and misc.events are
 * hierarchical in the kernel (a cgroup's own pages plus its
 * descendants'); so are @total's paging counters here, which is what the
 * outputs and the scenario expectations use.  @local has the cgroup's own
 * counters, for those who want to split a subtree.
 */
#ifndef EPCG_SIM_RESULTS_H
#define EPCG_SIM_RESULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <epcg/epc.h>
#include <epcg/sgx.h>

#include "scenario.h"

/* Bumped whenever a field changes meaning or the JSON schema changes. */
#define EPCG_RESULTS_VERSION 1

/**
 * struct epcg_result_cgroup - one cgroup at the end of the run.
 * @path: "/" for the root, "/tenants/web" below it.
 * @parent: index of the parent in epcg_results.cgroups, -1 for the root.
 * @max: misc.max of sgx_epc at the end, in bytes (EPCG_SCENARIO_MAX for
 *	"max"; always that for the root, which has no limit).
 * @current: misc.current (hierarchical), bytes.
 * @peak: misc.peak (hierarchical high watermark), bytes.
 * @events: misc.events "sgx_epc.max": charges refused at this cgroup or
 *	below it (SPEC M6).
 * @events_local: misc.events.local: refused at this cgroup's own limit.
 * @total: paging counters of this cgroup and all its descendants (X1):
 *	@total.ewb pages evicted, .eldu reloaded, .faults enclave faults on
 *	non-resident pages, .reclaim_scans pages scanned by reclaim batches,
 *	.enomem failed allocations, .sigbus faults that ended in SIGBUS,
 *	.paging_ns virtual time spent in EWB and ELDU.
 * @local: the same counters for this cgroup alone.
 */
struct epcg_result_cgroup {
	char *path;
	int parent;
	uint64_t max;
	uint64_t current;
	uint64_t peak;
	uint64_t events;
	uint64_t events_local;
	struct epcg_sgx_stats total;
	struct epcg_sgx_stats local;
};

/**
 * struct epcg_result_enclave - one enclave (one simulated process).
 * @name: unique; instances of a "count N" group are NAME.1 .. NAME.N.
 * @group: the name as declared (NAME for every instance of a group).
 * @cgroup: index in epcg_results.cgroups of the cgroup its process was in
 *	at the end (a "move" event changes it; charges stay where made).
 * @pid: the process id shown in reports.
 * @threads: enclave threads running the workload.
 * @size: bytes declared (its pages; the enclave's address range is the
 *	next power of two, as SGX requires).
 * @pages: pages it had when it ended (added at build time or by EAUG).
 * @accesses: pages touched by its threads.
 * @faults: accesses that found their page (or the SECS) out of the EPC.
 * @ewb: its pages written back (evicted), SECS included.
 * @eldu: its pages loaded back, SECS included.
 * @sigbus: faults that ended in the SIGBUS outcome (0 or 1 in practice).
 * @outcome: how it ended (EPCG_OUTCOME_OK .. EPCG_OUTCOME_RUNNING; never
 *	EPCG_OUTCOME_FAILED, which exists for expectations only).
 * @error: the negative errno behind an ENOMEM, SIGBUS or EFAULT outcome
 *	(-ENOMEM, -EFAULT, ...), 0 otherwise.
 * @start_ns: when its process started; EPCG_SCENARIO_NEVER if it never
 *	did (declared "start never" without a start event, or killed or
 *	stopped before its start).
 * @end_ns: when it ended (its last thread left and it was released, or
 *	the kill); the end of the run if it was still running.
 *	EPCG_SCENARIO_NEVER if it never started.
 * @virtual_ns: @end_ns - @start_ns, its run time (0 if it never started).
 */
struct epcg_result_enclave {
	char *name;
	char *group;
	int cgroup;
	int pid;
	unsigned threads;
	uint64_t size;
	uint64_t pages;
	uint64_t accesses;
	uint64_t faults;
	uint64_t ewb;
	uint64_t eldu;
	uint64_t sigbus;
	enum epcg_outcome outcome;
	int error;
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t virtual_ns;
};

/**
 * struct epcg_result_expect - one expectation and its verdict, in the
 * order they were written in the scenario file.
 * @line: the scenario line.
 * @timed: an "at TIME expect" (checked at @at_ns), else checked at the end.
 * @reached: the check was made; false for a timed check whose time lies
 *	after the end of the run (it then counts as failed).
 * @passed: the check held.
 * @at_ns: when it was (or would have been) checked.
 * @actual: what was measured: the metric's value (summed over a count
 *	group), or for an outcome, how many instances had it.
 * @text: the check in the scenario's words, e.g. "cgroup /tenants/db
 *	peak <= 16M" or "enclave web outcome ok".
 * @detail: the measurement in words, e.g. "16777216 bytes", "was SIGBUS",
 *	"3 of 4 instances"; "not reached" if !@reached.
 */
struct epcg_result_expect {
	int line;
	bool timed;
	bool reached;
	bool passed;
	uint64_t at_ns;
	uint64_t actual;
	char *text;
	char *detail;
};

/**
 * struct epcg_result_event - a timed event as it happened.
 * @line: the scenario line.
 * @at_ns: when it happened.
 * @text: what, in the scenario's words ("set /tenants/db max 8M",
 *	"kill flaky", "move web /batch", "start b", "stop b").  Timed
 *	expectations are in epcg_results.expects, not here.
 */
struct epcg_result_event {
	int line;
	uint64_t at_ns;
	char *text;
};

/**
 * struct epcg_result_sample - one cgroup at one sampling time.
 * @current: misc.current, bytes.
 * @max: misc.max, bytes (EPCG_SCENARIO_MAX for "max").
 * @faults: faults so far (hierarchical, cumulative from the start).
 * @ewb: pages evicted so far (hierarchical, cumulative).
 * @eldu: pages reloaded so far (hierarchical, cumulative).
 *
 * Counters are cumulative so that no information is lost to rounding;
 * epcg_result_rate() turns two neighbouring samples into a rate.
 */
struct epcg_result_sample {
	uint64_t current;
	uint64_t max;
	uint64_t faults;
	uint64_t ewb;
	uint64_t eldu;
};

/**
 * struct epcg_result_series - every cgroup sampled at a fixed virtual
 * interval.
 * @interval_ns: the interval.
 * @nr: samples per cgroup.
 * @t_ns: @nr sampling times, increasing: 0, @interval_ns, 2 x
 *	@interval_ns, ...; the last one is the end of the run (which need
 *	not be a multiple of the interval).
 * @s: @nr x epcg_results.nr_cgroups samples, time-major: sample i of
 *	cgroup c is @s[i * nr_cgroups + c] (see epcg_result_sample_at()).
 */
struct epcg_result_series {
	uint64_t interval_ns;
	unsigned nr;
	uint64_t *t_ns;
	struct epcg_result_sample *s;
};

/* How a run ended. */
enum epcg_results_end {
	EPCG_RESULTS_END_DONE, /* every enclave was done */
	EPCG_RESULTS_END_DURATION, /* the scenario's duration was reached */
	EPCG_RESULTS_END_NR
};

/**
 * struct epcg_results - one run.
 * @version: EPCG_RESULTS_VERSION.
 * @scenario: the scenario's file name as given ("default.scn" for the
 *	embedded one).
 * @seed: the seed the run used.
 * @policy: the reclaim policy the run used (SPEC X3: reports say which).
 * @epc_bytes: EPC capacity, the sum of the sections.
 * @nr_sections: EPC sections.
 * @section_bytes: size of each section.
 * @duration_ns: the scenario's duration (0: until every enclave is done).
 * @virtual_ns: the virtual time the run ended at.
 * @end: why it ended.
 * @cost_ns: the cost model the run used (enum epcg_scenario_cost).
 * @machine: the machine's paging counters (the root's @total, plus what
 *	no cgroup is charged for).
 * @accesses: page accesses made by all enclaves.
 * @cgroups: the cgroups, root first, parents before children.
 * @enclaves: the enclaves, in scenario order.
 * @expects: the expectations, in scenario line order.
 * @nr_failed: expectations that failed (not reached included).
 * @events: timed events that happened, in order.
 * @series: the time series.
 */
struct epcg_results {
	unsigned version;
	char *scenario;
	uint64_t seed;
	enum epcg_sgx_policy policy;
	uint64_t epc_bytes;
	unsigned nr_sections;
	uint64_t section_bytes[EPCG_EPC_MAX_SECTIONS];
	uint64_t duration_ns;
	uint64_t virtual_ns;
	enum epcg_results_end end;
	uint64_t cost_ns[EPCG_COST_NR];
	struct epcg_sgx_stats machine;
	uint64_t accesses;
	struct epcg_result_cgroup *cgroups;
	unsigned nr_cgroups;
	struct epcg_result_enclave *enclaves;
	unsigned nr_enclaves;
	struct epcg_result_expect *expects;
	unsigned nr_expects;
	unsigned nr_failed;
	struct epcg_result_event *events;
	unsigned nr_events;
	struct epcg_result_series series;
};

/** epcg_result_sample_at() - sample @i of cgroup @c. */
static inline const struct epcg_result_sample *
epcg_result_sample_at(const struct epcg_results *r, unsigned i, unsigned c)
{
	return &r->series.s[(uint64_t)i * r->nr_cgroups + c];
}

/**
 * epcg_result_rate() - events per virtual second between two samples.
 * @prev: a count at time @t0_ns.
 * @next: the same count at @t1_ns (later, not smaller).
 *
 * Return: (@next - @prev) per second of virtual time, 0 if no time passed.
 */
static inline double epcg_result_rate(uint64_t prev, uint64_t next,
				      uint64_t t0_ns, uint64_t t1_ns)
{
	if (t1_ns <= t0_ns || next < prev)
		return 0;
	return (double)(next - prev) * 1e9 / (double)(t1_ns - t0_ns);
}

/** epcg_results_end_name() - "done", "duration"; NULL if invalid. */
const char *epcg_results_end_name(enum epcg_results_end end);

/**
 * epcg_results_destroy() - free @r and everything it owns.
 * @r: the results, may be NULL.
 *
 * Context: any thread; nothing else may use @r.
 */
void epcg_results_destroy(struct epcg_results *r);

/* ---- outputs written from results (sim/table.c, sim/json.c) ---- */

/* What the terminal table shows. */
enum epcg_table_flags {
	EPCG_TABLE_ALL = 0, /* header, cgroups, enclaves, checks */
	EPCG_TABLE_NO_HEADER = 1 << 0, /* no "epcg run: ..." header line */
	EPCG_TABLE_FAILED_ONLY = 1 << 1, /* only the FAIL lines */
};

/**
 * epcg_results_print_table() - the human-readable report of a run.
 * @r: the results.
 * @f: where to (stdout for `epcg run`).
 * @flags: enum epcg_table_flags.
 *
 * A header with the scenario, policy, seed, EPC and virtual time; a
 * table per cgroup (path, max, current, peak, events, events.local, EWB,
 * ELDU, faults, ENOMEM, SIGBUS); a table per enclave (name, cgroup,
 * pages, accesses, faults, outcome, virtual time); then one PASS or
 * FAIL line per expectation, kselftest style, and a summary line.
 *
 * Context: any thread; reads @r only.
 * Return: 0; -ENOMEM; -EIO if writing failed.
 */
int epcg_results_print_table(const struct epcg_results *r, FILE *f,
			     unsigned flags);

/**
 * epcg_results_write_json() - @r as one JSON object (docs/simulator.md
 * has the schema).
 * @r: the results.
 * @f: where to.
 *
 * Keys come in a fixed order and numbers are integers (no floating
 * point), so equal results give equal bytes.  Strings are escaped as
 * RFC 8259 says (quote, backslash, control characters as \uXXXX; other
 * bytes as they are).
 *
 * Context: any thread; reads @r only.
 * Return: 0; -EIO if writing failed.
 */
int epcg_results_write_json(const struct epcg_results *r, FILE *f);

#endif
