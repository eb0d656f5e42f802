/* SPDX-License-Identifier: MIT */
/*
 * Scenarios: what the simulator runs, as a hand-writable text file.
 *
 * A scenario declares a machine (EPC size and sections, the reclaim
 * policy, costs), a cgroup tree with misc.max values, enclaves with their
 * workloads, timed events (limit changes, enclave start/stop/kill,
 * process moves, checks) and expected outcomes.  The format is described
 * in docs/scenarios.md; this header is its in-memory form.  Parsing does
 * no simulation and opens no file: trace workloads keep their path (made
 * relative to the scenario's directory) for the workload module to read.
 *
 * Every error is reported once, as "FILE:LINE: message" (or "FILE:
 * message" for what concerns the whole file), in a caller-provided
 * buffer; nothing is printed.
 */
#ifndef EPCG_SIM_SCENARIO_H
#define EPCG_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <epcg/epc.h>
#include <epcg/sgx.h>

/* A limit of "max" (no limit), as misc.max prints it. */
#define EPCG_SCENARIO_MAX UINT64_MAX

/* Longest name of an enclave (instances get ".N" appended). */
#define EPCG_SCENARIO_NAME_MAX 48

/* Modelled costs, in virtual nanoseconds (docs/scenarios.md, "cost"). */
enum epcg_scenario_cost {
	EPCG_COST_ACCESS,	/* one resident access (think time) */
	EPCG_COST_FAULT,	/* fault entry and exit, without the reload */
	EPCG_COST_EWB,
	EPCG_COST_ELDU,
	EPCG_COST_EBLOCK,
	EPCG_COST_ETRACK,
	EPCG_COST_IPI,		/* forcing enclave threads out */
	EPCG_COST_EPA,
	EPCG_COST_EADD,
	EPCG_COST_EAUG,
	EPCG_COST_EREMOVE,
	EPCG_COST_ECREATE,
	EPCG_COST_EINIT,
	EPCG_COST_EENTER,	/* an enclave entry (or resume) with its exit */
	EPCG_COST_NR
};

/* Access patterns (docs/scenarios.md, "workload"). */
enum epcg_pattern {
	EPCG_PATTERN_UNIFORM,
	EPCG_PATTERN_ZIPF,
	EPCG_PATTERN_SCAN,
	EPCG_PATTERN_PHASES,
	EPCG_PATTERN_TRACE,
	EPCG_PATTERN_NR
};

/* Trace file formats. */
enum epcg_trace_format {
	EPCG_TRACE_TXT,		/* libCacheSim txt: one object id per line */
	EPCG_TRACE_CSV,		/* libCacheSim csv: id in a column */
	EPCG_TRACE_ADDR,	/* addresses (Lackey, memtrace), folded */
	EPCG_TRACE_FORMAT_NR
};

/**
 * struct epcg_trace_opts - how to read a trace file.
 * @format: the format.
 * @id_col: csv: 1-based column of the object id.
 * @delim: csv: the delimiter character.
 * @header: csv: skip the first line.
 * @base: addr: the address of enclave page 0.
 */
struct epcg_trace_opts {
	enum epcg_trace_format format;
	unsigned id_col;
	char delim;
	bool header;
	uint64_t base;
};

/**
 * struct epcg_phase - one phase of a phased workload (masim-like).
 * @line: where it was declared.
 * @duration_ns: how long it lasts.
 * @pattern: UNIFORM, ZIPF or SCAN within the phase's region.
 * @zipf_s: the Zipf exponent.
 * @offset: first byte of the region in the enclave.
 * @size: bytes in the region (0: to the end of the enclave).
 * @think_ns: compute time between two accesses (0: the access cost).
 */
struct epcg_phase {
	int line;
	uint64_t duration_ns;
	enum epcg_pattern pattern;
	double zipf_s;
	uint64_t offset;
	uint64_t size;
	uint64_t think_ns;
};

/**
 * struct epcg_workload - what each thread of an enclave does once running.
 * @line: the workload line (0: none given, the default applies).
 * @pattern: the access pattern.
 * @zipf_s: the Zipf exponent (ZIPF).
 * @offset: first byte of the working set in the enclave.
 * @size: bytes in the working set (0: to the end of the enclave).
 * @accesses: accesses per thread (0: see docs, a default applies).
 * @duration_ns: stop after this long (0: no time limit).
 * @think_ns: compute time between accesses (0: the access cost).
 * @loop: PHASES: start over after the last phase; TRACE: replay again.
 * @phases: PHASES: the phases, in order.
 * @nr_phases: how many.
 * @trace_path: TRACE: the file, relative to the current directory.
 * @trace: TRACE: how to read it.
 */
struct epcg_workload {
	int line;
	enum epcg_pattern pattern;
	double zipf_s;
	uint64_t offset;
	uint64_t size;
	uint64_t accesses;
	uint64_t duration_ns;
	uint64_t think_ns;
	bool loop;
	struct epcg_phase *phases;
	unsigned nr_phases;
	char *trace_path;
	struct epcg_trace_opts trace;
};

/**
 * struct epcg_scenario_cgroup - a cgroup of the tree.
 * @line: where it was declared.
 * @path: absolute, e.g. "/tenants/a"; parents are declared first.
 * @parent: index of the parent, -1 for a child of the root.
 * @max: its misc.max for sgx_epc in bytes, EPCG_SCENARIO_MAX for "max".
 */
struct epcg_scenario_cgroup {
	int line;
	char *path;
	int parent;
	uint64_t max;
};

/**
 * struct epcg_scenario_enclave - one enclave (one process).
 * @line: where it was declared.
 * @name: unique; a declaration with "count N" makes NAME.1 .. NAME.N.
 * @group: the name as declared (NAME for every instance of a count).
 * @size: bytes, a multiple of EPCG_PAGE_SIZE.
 * @threads: enclave threads running the workload.
 * @tcs: TCS pages (>= @threads).
 * @edmm: pages are added on first touch (EAUG) instead of up front.
 * @cgroup: index of its process's cgroup, -1 for the root.
 * @pid: the process id shown in reports.
 * @start_ns: when it starts; EPCG_SCENARIO_NEVER: by a "start" event.
 * @wl: its workload.
 */
struct epcg_scenario_enclave {
	int line;
	char name[EPCG_SCENARIO_NAME_MAX + 8];
	char group[EPCG_SCENARIO_NAME_MAX];
	uint64_t size;
	unsigned threads;
	unsigned tcs;
	bool edmm;
	int cgroup;
	int pid;
	uint64_t start_ns;
	struct epcg_workload wl;
};

#define EPCG_SCENARIO_NEVER UINT64_MAX

/* What an expectation looks at. */
enum epcg_metric {
	/* cgroup metrics */
	EPCG_METRIC_CURRENT,	/* misc.current, bytes */
	EPCG_METRIC_PEAK,	/* misc.peak, bytes */
	EPCG_METRIC_MAX,	/* misc.max, bytes */
	EPCG_METRIC_EVENTS,	/* misc.events sgx_epc.max */
	EPCG_METRIC_EVENTS_LOCAL,
	/* cgroup and enclave metrics (SPEC X1) */
	EPCG_METRIC_EVICTIONS,	/* EWB */
	EPCG_METRIC_RELOADS,	/* ELDU */
	EPCG_METRIC_FAULTS,
	EPCG_METRIC_SCANS,	/* cgroup only: reclaim scans */
	EPCG_METRIC_ENOMEM,	/* cgroup only */
	EPCG_METRIC_SIGBUS,	/* cgroup only */
	/* enclave metrics */
	EPCG_METRIC_ACCESSES,
	EPCG_METRIC_RUNTIME,	/* ns from start to end */
	EPCG_METRIC_OUTCOME,
	EPCG_METRIC_NR
};

/* How an enclave ended. */
enum epcg_outcome {
	EPCG_OUTCOME_OK,	/* finished its workload, released */
	EPCG_OUTCOME_ENOMEM,	/* adding pages failed: nothing reclaimable */
	EPCG_OUTCOME_SIGBUS,	/* a fault could not be served */
	EPCG_OUTCOME_EFAULT,	/* an EDMM request failed */
	EPCG_OUTCOME_KILLED,	/* a kill event */
	EPCG_OUTCOME_STOPPED,	/* a stop event */
	EPCG_OUTCOME_RUNNING,	/* still running when the simulation ended */
	EPCG_OUTCOME_FAILED,	/* in expectations: ENOMEM, SIGBUS or EFAULT */
	EPCG_OUTCOME_NR
};

enum epcg_cmp {
	EPCG_CMP_EQ,
	EPCG_CMP_NE,
	EPCG_CMP_LT,
	EPCG_CMP_LE,
	EPCG_CMP_GT,
	EPCG_CMP_GE,
	EPCG_CMP_NR
};

enum epcg_target {
	EPCG_TARGET_CGROUP,
	EPCG_TARGET_ENCLAVE,
	EPCG_TARGET_NR
};

/**
 * struct epcg_expect - a check of the outcome.
 * @line: where it was written.
 * @target: a cgroup or an enclave (group).
 * @index: the cgroup index (-1: the root), or the first enclave of the
 *	group.
 * @count: enclaves in the group (1 for a cgroup).
 * @metric: what is compared.
 * @cmp: how.
 * @value: with what (bytes, a count or ns, as the metric says).
 * @outcome: OUTCOME: the outcome looked for.
 * @counted: OUTCOME: compare the number of instances with @outcome to
 *	@value with @cmp; otherwise every instance must have @outcome.
 *	Numeric metrics of a group compare the sum over its instances.
 */
struct epcg_expect {
	int line;
	enum epcg_target target;
	int index;
	unsigned count;
	enum epcg_metric metric;
	enum epcg_cmp cmp;
	uint64_t value;
	enum epcg_outcome outcome;
	bool counted;
};

enum epcg_event_kind {
	EPCG_EVENT_SET_MAX,	/* write misc.max of a cgroup */
	EPCG_EVENT_START,	/* start an enclave declared "start never" */
	EPCG_EVENT_STOP,	/* ask an enclave to finish and exit */
	EPCG_EVENT_KILL,	/* SIGKILL an enclave's process */
	EPCG_EVENT_MOVE,	/* move an enclave's process to a cgroup */
	EPCG_EVENT_EXPECT,	/* check an expectation at that time */
	EPCG_EVENT_KIND_NR
};

/**
 * struct epcg_event - something that happens at a virtual time.
 * @line: where it was written.
 * @at_ns: when.
 * @kind: what.
 * @enclave: START/STOP/KILL/MOVE: the enclave index.
 * @cgroup: SET_MAX/MOVE: the cgroup index (-1: the root, MOVE only).
 * @value: SET_MAX: the new limit (EPCG_SCENARIO_MAX for "max").
 * @expect: EXPECT: the check.
 */
struct epcg_event {
	int line;
	uint64_t at_ns;
	enum epcg_event_kind kind;
	int enclave;
	int cgroup;
	uint64_t value;
	struct epcg_expect expect;
};

/**
 * struct epcg_scenario - a parsed scenario.
 * @file: the name used in messages.
 * @secs: EPC sections.
 * @nr_secs: how many (1 to EPCG_EPC_MAX_SECTIONS).
 * @policy: the reclaim policy.
 * @seed: seeds every random choice of the run.
 * @duration_ns: end of the simulation (0: when every enclave is done).
 * @workers: simulated reclaim workers.
 * @cost_ns: modelled cost of each operation.
 * @cgroups: the cgroups, parents before children.
 * @enclaves: the enclaves, in declaration order.
 * @events: timed events, sorted by time (stable: file order at a tie).
 * @expects: checks made at the end of the run.
 */
struct epcg_scenario {
	char *file;
	struct epcg_epc_section_spec secs[EPCG_EPC_MAX_SECTIONS];
	unsigned nr_secs;
	enum epcg_sgx_policy policy;
	uint64_t seed;
	uint64_t duration_ns;
	unsigned workers;
	uint64_t cost_ns[EPCG_COST_NR];
	struct epcg_scenario_cgroup *cgroups;
	unsigned nr_cgroups;
	struct epcg_scenario_enclave *enclaves;
	unsigned nr_enclaves;
	struct epcg_event *events;
	unsigned nr_events;
	struct epcg_expect *expects;
	unsigned nr_expects;
};

/**
 * epcg_scenario_parse() - parse a scenario held in memory.
 * @file: the name for messages and the directory trace paths are
 *	relative to (NULL: "<scenario>", paths relative to the current
 *	directory).
 * @text: the text; need not be NUL-terminated.
 * @len: its length in bytes.
 * @ret: the scenario, to be freed with epcg_scenario_destroy().
 * @err: receives "FILE:LINE: message" on failure.
 * @errlen: size of @err (the message is truncated to fit).
 *
 * Context: any thread; reads no file.
 * Return: 0; -EINVAL for a malformed scenario (see @err); -ENOMEM.
 */
int epcg_scenario_parse(const char *file, const char *text, size_t len,
			struct epcg_scenario **ret, char *err, size_t errlen);

/**
 * epcg_scenario_load() - read and parse a scenario file.
 * @path: the file.
 * @ret: the scenario.
 * @err: receives "FILE:LINE: message" (or "FILE: reason") on failure.
 * @errlen: size of @err.
 *
 * Return: 0; -EINVAL for a malformed scenario; -ENOMEM; the -errno of
 * opening or reading @path.
 */
int epcg_scenario_load(const char *path, struct epcg_scenario **ret,
		       char *err, size_t errlen);

/** epcg_scenario_destroy() - free @sc (may be NULL). */
void epcg_scenario_destroy(struct epcg_scenario *sc);

/**
 * epcg_scenario_parse_size() - parse "64M", "4096", "1Mi", "2G" (units
 *	are binary: K, M, G, T or Ki, Mi, Gi, Ti).
 * Return: 0; -EINVAL if malformed or out of range.
 */
int epcg_scenario_parse_size(const char *s, uint64_t *ret);

/**
 * epcg_scenario_parse_time() - parse "250ms", "40us", "2s", "100ns", "0".
 * Return: 0; -EINVAL if malformed, without a unit, or out of range.
 */
int epcg_scenario_parse_time(const char *s, uint64_t *ret);

/** Names, as the format spells them; NULL if out of range. */
const char *epcg_scenario_cost_name(enum epcg_scenario_cost cost);
const char *epcg_metric_name(enum epcg_metric metric);
const char *epcg_outcome_name(enum epcg_outcome outcome);
const char *epcg_pattern_name(enum epcg_pattern pattern);

#endif
