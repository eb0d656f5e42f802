/* SPDX-License-Identifier: MIT */
/*
 * A tiny benchmark harness: time a loop with CLOCK_MONOTONIC, repeat it,
 * keep the median, and report it as a ratio to a baseline measured in the
 * same run.
 *
 * Absolute nanoseconds depend on the machine, its load and its frequency
 * scaling; a ratio to a baseline loop run on the same machine at the same
 * moment mostly does not.  So every figure is a pair: a target and its
 * baseline, measured interleaved.  Single-threaded pairs alternate short
 * chunks (target chunk 1, baseline chunk 1, baseline chunk 2, target
 * chunk 2, ...) and keep each side's median of BENCH_CHUNKS chunks, so a
 * chunk the scheduler preempted on a busy machine does not count;
 * multi-threaded pairs alternate whole runs and keep the median of
 * BENCH_RUNS runs.
 *
 *	static void charge(void *arg, unsigned thread, uint64_t iters) ...
 *
 *	struct bench_case t = { .name = "charge depth 4", .run = charge,
 *				.arg = &state, .nr_threads = 1 };
 *	struct bench_case b = { .name = "atomic add+sub x5", .run = bare,
 *				.arg = &state, .nr_threads = 1 };
 *	bench_pair(&t, &b, 1000000);
 *	bench_report(&t, &b);
 */
#ifndef EPCG_BENCH_HARNESS_H
#define EPCG_BENCH_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_RUNS 5
#define BENCH_CHUNKS 201
#define BENCH_CHUNK_NS 200000.0
#define BENCH_MAX_THREADS 8

/**
 * struct bench_case - one measured loop.
 * @name: shown in the report.
 * @run: performs @iters operations as thread @thread (0 to
 *	@nr_threads - 1); every thread gets the same @iters.
 * @arg: passed to @run.
 * @nr_threads: threads running @run at once (1 to BENCH_MAX_THREADS).
 * @ns_per_op: result: the median over chunks or runs of the wall time
 *	from the common start to the last thread's end, divided by the
 *	operations each thread did.
 * @ratio: result (targets only): this case against its baseline, the
 *	median of the chunk pairs' ratios (one thread), or of ns_per_op
 *	(more threads).
 */
struct bench_case {
	const char *name;
	void (*run)(void *arg, unsigned thread, uint64_t iters);
	void *arg;
	unsigned nr_threads;
	double ns_per_op;
	double ratio;
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * Measure @target and @baseline interleaved, after untimed warm-ups; fill
 * in both ns_per_op.  @iters: operations per run (threads), or 20 chunks'
 * worth (one thread).
 */
void bench_pair(struct bench_case *target, struct bench_case *baseline,
		uint64_t iters);

/* @target's ratio to @baseline: @target->ratio if set, else of ns_per_op. */
double bench_ratio(const struct bench_case *target,
		   const struct bench_case *baseline);

/* Print "name: X ns/op, ratio Y vs baseline NAME (Z ns/op)". */
void bench_report(const struct bench_case *target,
		  const struct bench_case *baseline);

/* Print the header: program, build type, runs, and how to reproduce. */
void bench_banner(const char *prog);

/*
 * Parse the options every benchmark takes, then print the banner:
 *
 *	-f TEXT   run only the cases whose name contains TEXT
 *	-s SCALE  multiply every iteration count by SCALE (e.g. 0.01 to run
 *	          under valgrind --tool=callgrind; at least 1 iteration);
 *	          one-thread chunks are then a fixed 1/20 of the count
 *	          instead of about BENCH_CHUNK_NS, so that the number of
 *	          operations, and with it an instruction count, repeats
 *
 * Exits with a usage message on anything else.
 */
void bench_init(int argc, char **argv, const char *prog);

/* Whether the case @name passes the -f filter (always without -f). */
bool bench_want(const char *name);

/* @iters scaled by -s, at least 1. */
uint64_t bench_iters(uint64_t iters);

/* How a figure compares with its target, for bench_verdict(). */
enum bench_cmp {
	BENCH_AT_MOST, /* met if value <= limit */
	BENCH_AT_LEAST, /* met if value >= limit */
	BENCH_REPORT, /* no target: the figure is only reported */
	BENCH_CMP_NR
};

/*
 * Print one verdict line, "[target ID] WHAT: VALUE (must be <= LIMIT):
 * met" (or MISSED, or "reported" for BENCH_REPORT), which
 * scripts/bench.sh collects into its summary.  @id is the target
 * number.  Return: whether the target was met (true for BENCH_REPORT).
 */
bool bench_verdict(unsigned id, const char *what, double value,
		   enum bench_cmp cmp, double limit);

#endif
