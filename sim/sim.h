/* SPDX-License-Identifier: MIT */
/*
 * The simulator: run a parsed scenario on the library in virtual time and
 * say what happened (results.h).
 *
 * One call builds everything a scenario declares (a misc controller with
 * its cgroup tree and limits, a software SGX machine with the scenario's
 * sections, policy and cost model, on a virtual-time execution context),
 * runs the enclaves' processes and threads, the timed events and a
 * sampler as simulated threads until every enclave is done or the
 * scenario's duration is reached, checks the expectations, and tears it
 * all down again, checking on the way that every charge was returned
 * (SPEC E12).  Nothing here reads a wall clock or depends on the host:
 * the same scenario, seed and policy give the same results, byte for
 * byte, on any machine.  docs/simulator.md describes the model.
 */
#ifndef EPCG_SIM_SIM_H
#define EPCG_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "results.h"
#include "scenario.h"

struct epcg_misc;
struct epcg_sgx;

/* Default interval of the time series: 10 ms of virtual time. */
#define EPCG_SIM_SAMPLE_NS 10000000ull

/*
 * Default scheduling quantum: an enclave thread runs this much of its own
 * virtual time (accesses, think time, faults) before it offers the CPU to
 * a simulated thread that is behind it.  It plays the part of a time
 * slice; smaller is finer-grained and slower to simulate.
 */
#define EPCG_SIM_QUANTUM_NS 50000ull

/**
 * struct epcg_sim_opts - how to run (everything optional: zero it).
 * @sample_ns: time-series interval (0: EPCG_SIM_SAMPLE_NS).
 * @quantum_ns: scheduling quantum of enclave threads (0:
 *	EPCG_SIM_QUANTUM_NS).
 * @progress: called from the calling thread every so often with the
 *	virtual time reached and the end (the scenario's duration, or 0 if
 *	the run ends when its enclaves do); must not touch the simulation.
 *	How often it is called depends on virtual time only.
 * @at_end: called once at the end of the run, before anything is torn
 *	down, with the machine as it stands and the results (which it may
 *	read, not change): where a front end renders state the results do
 *	not hold (e.g. the misc files, or metrics).
 * @arg: passed to both.
 */
struct epcg_sim_opts {
	uint64_t sample_ns;
	uint64_t quantum_ns;
	void (*progress)(void *arg, uint64_t now_ns, uint64_t end_ns);
	void (*at_end)(void *arg, struct epcg_misc *m, struct epcg_sgx *sgx,
		       const struct epcg_results *r);
	void *arg;
};

/**
 * epcg_sim_run() - simulate @sc.
 * @sc: the scenario (epcg_scenario_parse()); its seed and policy fields
 *	are the run's (a front end overriding them changes them first).
 * @opts: options, may be NULL.
 * @ret: the results, freed with epcg_results_destroy().  The run
 *	succeeded even if expectations failed (@ret's nr_failed says so).
 * @err: receives a message on failure: "FILE:LINE: message" for a
 *	problem of the scenario found only now (a trace that cannot be
 *	read, a workload that does not fit), else what went wrong.
 * @errlen: size of @err.
 *
 * Context: any thread; runs everything on it and returns when the run is
 * over.  Independent runs may go on in different threads.
 * Return: 0; -EINVAL for a scenario that cannot be run (see @err) or a
 * NULL argument; -ENOMEM; -EDEADLK if simulated threads were left waiting
 * for something that could never come (a bug); -EIO if the machine's
 * accounting was found inconsistent at the end (a bug: a leaked charge,
 * a page on no list).
 */
int epcg_sim_run(const struct epcg_scenario *sc,
		 const struct epcg_sim_opts *opts, struct epcg_results **ret,
		 char *err, size_t errlen);

#endif
