// SPDX-License-Identifier: MIT
/*
 * The benchmark harness: interleaved runs, medians, ratio reports.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>
#include <unistd.h>

/* The -f filter and the -s scale (bench_init). */
static const char *filter;
static double scale = 1.0;

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

/* Operations of @c that take about BENCH_CHUNK_NS, from a trial. */
static uint64_t chunk_size(const struct bench_case *c, uint64_t iters)
{
	uint64_t n = iters / 100 ? iters / 100 : 1;
	double ns;

	if (scale != 1.0) /* -s: a repeatable count, see bench_init() */
		return iters / 20 ? iters / 20 : 1;
	ns = run_once(c, n);
	if (ns <= 0)
		return n;
	n = (uint64_t)(BENCH_CHUNK_NS / ns);
	return n ? n : 1;
}

/*
 * One thread each: alternate chunks of about BENCH_CHUNK_NS, target and
 * baseline, the side going first swapping every time.  A chunk is short,
 * so the two chunks of a pair see the machine in the same state (a busy
 * sibling CPU, a neighbour's cache traffic, frequency), and a chunk the
 * scheduler preempted is an outlier.  The ratio is the median over the
 * pairs of target / baseline; each side's ns_per_op is its median chunk.
 * Return: that ratio.
 */
static double pair_chunked(struct bench_case *target,
			   struct bench_case *baseline, uint64_t iters)
{
	static double t[BENCH_CHUNKS], b[BENCH_CHUNKS], r[BENCH_CHUNKS];
	uint64_t tn = chunk_size(target, iters);
	uint64_t bn = chunk_size(baseline, iters);

	for (unsigned i = 0; i < 5; i++) {
		run_once(target, tn);
		run_once(baseline, bn);
	}
	for (unsigned i = 0; i < BENCH_CHUNKS; i++) {
		if (i % 2) {
			b[i] = run_once(baseline, bn);
			t[i] = run_once(target, tn);
		} else {
			t[i] = run_once(target, tn);
			b[i] = run_once(baseline, bn);
		}
		r[i] = t[i] / b[i];
	}
	target->ns_per_op = median(t, BENCH_CHUNKS);
	baseline->ns_per_op = median(b, BENCH_CHUNKS);
	return median(r, BENCH_CHUNKS);
}

void bench_pair(struct bench_case *target, struct bench_case *baseline,
		uint64_t iters)
{
	double t[BENCH_RUNS], b[BENCH_RUNS];

	if (target->nr_threads <= 1 && baseline->nr_threads <= 1) {
		target->ratio = pair_chunked(target, baseline, iters);
		return;
	}
	run_once(target, iters / 4 + 1);
	run_once(baseline, iters / 4 + 1);
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		t[i] = run_once(target, iters);
		b[i] = run_once(baseline, iters);
	}
	target->ns_per_op = median(t, BENCH_RUNS);
	baseline->ns_per_op = median(b, BENCH_RUNS);
	target->ratio = target->ns_per_op / baseline->ns_per_op;
}

double bench_ratio(const struct bench_case *target,
		   const struct bench_case *baseline)
{
	return target->ratio > 0 ? target->ratio :
				   target->ns_per_op / baseline->ns_per_op;
}

void bench_report(const struct bench_case *target,
		  const struct bench_case *baseline)
{
	double ratio = bench_ratio(target, baseline);

	printf("%s: %.1f ns/op, ratio %.2f vs baseline %s (%.1f ns/op)\n",
	       target->name, target->ns_per_op, ratio, baseline->name,
	       baseline->ns_per_op);
	fflush(stdout);
}

/* The banner, with @args (the options given) in the reproduce line. */
static void banner(const char *prog, const char *args)
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
	printf("# %s: %s, assertions %s; one thread: median of %d "
	       "interleaved chunks, more: median of %d interleaved runs\n",
	       prog, opt, asserts, BENCH_CHUNKS, BENCH_RUNS);
	printf("# reproduce: meson setup build-release --buildtype=release && "
	       "ninja -C build-release && build-release/bench/%s%s\n",
	       prog, args);
}

void bench_banner(const char *prog)
{
	banner(prog, "");
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-f TEXT] [-s SCALE]\n"
		"  -f TEXT   run only the cases whose name contains TEXT\n"
		"  -s SCALE  multiply the iteration counts (e.g. 0.01 under "
		"callgrind)\n",
		prog);
	exit(2);
}

void bench_init(int argc, char **argv, const char *prog)
{
	char args[256] = "";
	char *end;
	int c;

	while ((c = getopt(argc, argv, "f:s:h")) != -1) {
		switch (c) {
		case 'f':
			filter = optarg;
			break;
		case 's':
			scale = strtod(optarg, &end);
			if (end == optarg || *end || !(scale > 0) ||
			    !(scale < 1e6)) {
				fprintf(stderr,
					"%s: -s: not a positive number below "
					"1e6: '%s'\n",
					prog, optarg);
				usage(prog);
			}
			break;
		default:
			usage(prog);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
			argv[optind]);
		usage(prog);
	}
	if (filter)
		snprintf(args, sizeof(args), " -f '%s'", filter);
	if (scale != 1.0)
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
			 " -s %g", scale);
	banner(prog, args);
}

bool bench_want(const char *name)
{
	return !filter || strstr(name, filter);
}

uint64_t bench_iters(uint64_t iters)
{
	double n = (double)iters * scale;

	return n < 1 ? 1 : (uint64_t)n;
}

bool bench_verdict(unsigned id, const char *what, double value,
		   enum bench_cmp cmp, double limit)
{
	static const char *const op[BENCH_CMP_NR] = { "<=", ">=", "" };
	bool met = cmp == BENCH_AT_MOST	 ? value <= limit :
		   cmp == BENCH_AT_LEAST ? value >= limit :
					   true;

	if (cmp == BENCH_REPORT || (unsigned)cmp >= BENCH_CMP_NR)
		printf("[target %u] %s: %.2f (reported)\n", id, what, value);
	else
		printf("[target %u] %s: %.2f (must be %s %.2f): %s\n", id, what,
		       value, op[cmp], limit, met ? "met" : "MISSED");
	fflush(stdout);
	return met;
}
