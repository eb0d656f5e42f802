// SPDX-License-Identifier: MIT
/*
 * The benchmark harness: interleaved runs, medians, ratio reports.
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct runner {
	const struct bench_case *c;
	unsigned thread;
	uint64_t iters;
	pthread_barrier_t *start;
};

static void *runner_main(void *arg)
{
	struct runner *r = arg;

	pthread_barrier_wait(r->start);
	r->c->run(r->c->arg, r->thread, r->iters);
	return NULL;
}

/* One run of @c: ns per operation, wall time over all its threads. */
static double run_once(const struct bench_case *c, uint64_t iters)
{
	struct runner r[BENCH_MAX_THREADS];
	pthread_t t[BENCH_MAX_THREADS];
	unsigned n = c->nr_threads ? c->nr_threads : 1;
	pthread_barrier_t start;
	uint64_t t0, t1;

	if (n == 1) {
		t0 = bench_now_ns();
		c->run(c->arg, 0, iters);
		t1 = bench_now_ns();
		return (double)(t1 - t0) / (double)iters;
	}
	if (n > BENCH_MAX_THREADS) {
		fprintf(stderr, "bench: %s: too many threads\n", c->name);
		exit(1);
	}
	/* The helpers and this thread start together; this one is thread 0. */
	pthread_barrier_init(&start, NULL, n);
	for (unsigned i = 1; i < n; i++) {
		r[i] = (struct runner){ c, i, iters, &start };
		if (pthread_create(&t[i], NULL, runner_main, &r[i])) {
			fprintf(stderr, "bench: cannot create a thread\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&start);
	t0 = bench_now_ns();
	c->run(c->arg, 0, iters);
	for (unsigned i = 1; i < n; i++)
		pthread_join(t[i], NULL);
	t1 = bench_now_ns();
	pthread_barrier_destroy(&start);
	return (double)(t1 - t0) / (double)iters;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_pair(struct bench_case *target, struct bench_case *baseline,
		uint64_t iters)
{
	double t[BENCH_RUNS], b[BENCH_RUNS];

	run_once(target, iters / 4 + 1);
	run_once(baseline, iters / 4 + 1);
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		t[i] = run_once(target, iters);
		b[i] = run_once(baseline, iters);
	}
	target->ns_per_op = median(t, BENCH_RUNS);
	baseline->ns_per_op = median(b, BENCH_RUNS);
}

void bench_report(const struct bench_case *target,
		  const struct bench_case *baseline)
{
	printf("%s: %.1f ns/op, ratio %.2f vs baseline %s (%.1f ns/op)\n",
	       target->name, target->ns_per_op,
	       target->ns_per_op / baseline->ns_per_op, baseline->name,
	       baseline->ns_per_op);
}

void bench_banner(const char *prog)
{
#ifdef NDEBUG
	const char *asserts = "off";
#else
	const char *asserts = "on";
#endif
#ifdef __OPTIMIZE__
	const char *opt = "optimized";
#else
	const char *opt = "NOT optimized";
#endif
	printf("# %s: median of %d interleaved runs; %s, assertions %s\n",
	       prog, BENCH_RUNS, opt, asserts);
	printf("# reproduce: meson setup build-release --buildtype=release && "
	       "ninja -C build-release && build-release/bench/%s\n", prog);
}
