/* SPDX-License-Identifier: MIT */
/*
 * A tiny benchmark harness: time a loop with CLOCK_MONOTONIC, repeat it,
 * keep the median, and report it as a ratio to a baseline measured in the
 * same run.
 *
 * Absolute nanoseconds depend on the machine, its load and its frequency
 * scaling; a ratio to a baseline loop run on the same machine at the same
 * moment mostly does not.  So every figure is a pair: a target and its
 * baseline, measured interleaved (target run 1, baseline run 1, target
 * run 2, ...), each the median of BENCH_RUNS runs.
 *
 *	static void charge(void *arg, unsigned thread, uint64_t iters) ...
 *
 *	struct bench_case t = { "charge depth 4", charge, &state, 1 };
 *	struct bench_case b = { "atomic add+sub x5", bare, &state, 1 };
 *	bench_pair(&t, &b, 1000000);
 *	bench_report(&t, &b);
 */
#ifndef EPCG_BENCH_HARNESS_H
#define EPCG_BENCH_HARNESS_H

#include <stdint.h>

#define BENCH_RUNS 5
#define BENCH_MAX_THREADS 8

/**
 * struct bench_case - one measured loop.
 * @name: shown in the report.
 * @run: performs @iters operations as thread @thread (0 to
 *	@nr_threads - 1); every thread gets the same @iters.
 * @arg: passed to @run.
 * @nr_threads: threads running @run at once (1 to BENCH_MAX_THREADS).
 * @ns_per_op: result: the median over BENCH_RUNS runs of the wall time
 *	from the common start to the last thread's end, divided by @iters.
 */
struct bench_case {
	const char *name;
	void (*run)(void *arg, unsigned thread, uint64_t iters);
	void *arg;
	unsigned nr_threads;
	double ns_per_op;
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * Measure @target and @baseline interleaved, after one untimed warm-up
 * run of each; fill in both ns_per_op.
 */
void bench_pair(struct bench_case *target, struct bench_case *baseline,
		uint64_t iters);

/* Print "name: X ns/op, ratio Y vs baseline NAME (Z ns/op)". */
void bench_report(const struct bench_case *target,
		  const struct bench_case *baseline);

/* Print the header: program, build type, runs, and how to reproduce. */
void bench_banner(const char *prog);

#endif
