// SPDX-License-Identifier: MIT
/*
 * Unit tests of the workload generators: the PRNG against an independent
 * reference, uniform draws by chi-square, Zipf by its exact probabilities
 * and its rank-frequency slope, scans, phases, trace readers against the
 * small traces in tests/data, and replay through a generator.  Seeds are
 * fixed, so every statistic below is one deterministic number.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "workload.h"

#define PAGE 4096ull

static char err[512];

/* Chi-square statistic of @obs against equal expectations. */
static double chi2_uniform(const uint64_t *obs, unsigned bins, uint64_t total)
{
	double e = (double)total / bins, x = 0;

	for (unsigned i = 0; i < bins; i++)
		x += ((double)obs[i] - e) * ((double)obs[i] - e) / e;
	return x;
}

TEST(rng_matches_reference)
{
	struct epcg_rng a, b;

	/* xoshiro256** seeded by splitmix64(12345), from a separate model. */
	epcg_rng_seed(&a, 12345);
	ASSERT_U64_EQ(epcg_rng_next(&a), 0xbe6a36374160d49bull);
	ASSERT_U64_EQ(epcg_rng_next(&a), 0x214aaa0637a688c6ull);
	ASSERT_U64_EQ(epcg_rng_next(&a), 0xf69d16de9954d388ull);
	epcg_rng_seed(&a, 7);
	epcg_rng_seed(&b, 7);
	for (int i = 0; i < 1000; i++)
		ASSERT_U64_EQ(epcg_rng_next(&a), epcg_rng_next(&b));
	epcg_rng_seed(&b, 8);
	ASSERT_NE(epcg_rng_next(&a), epcg_rng_next(&b));
}

TEST(rng_double_in_unit_interval)
{
	struct epcg_rng r;
	double sum = 0;

	epcg_rng_seed(&r, 3);
	for (int i = 0; i < 100000; i++) {
		double d = epcg_rng_double(&r);

		ASSERT_TRUE(d >= 0 && d < 1);
		sum += d;
	}
	ASSERT_TRUE(fabs(sum / 100000 - 0.5) < 0.005);
}

TEST(uniform_chi_square)
{
	/* 99.9th percentiles of chi-square with 63 and 9 degrees. */
	static const struct {
		unsigned bins;
		double crit;
	} cases[] = { { 64, 103.44 }, { 10, 27.88 } };
	struct epcg_rng r;
	uint64_t obs[64];

	for (size_t c = 0; c < 2; c++) {
		unsigned bins = cases[c].bins;
		uint64_t total = 10000ull * bins;
		double x;

		memset(obs, 0, sizeof(obs));
		epcg_rng_seed(&r, epcg_test_seed() + c);
		for (uint64_t i = 0; i < total; i++) {
			uint64_t v = epcg_rng_below(&r, bins);

			ASSERT_CMP(v, <, bins);
			obs[v]++;
		}
		x = chi2_uniform(obs, bins, total);
		epcg_test_note("uniform over %u: chi2 %.1f (99.9%%: %.2f)",
			       bins, x, cases[c].crit);
		ASSERT_TRUE(x < cases[c].crit);
	}
	ASSERT_U64_EQ(epcg_rng_below(&r, 0), 0);
	ASSERT_U64_EQ(epcg_rng_below(&r, 1), 0);
}

/* Lemire's bounded draw written out in one piece, to compare with. */
static uint64_t below_reference(struct epcg_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)epcg_rng_next(r) * n;

	if ((uint64_t)m < n) {
		uint64_t floor = -n % n;

		while ((uint64_t)m < floor)
			m = (unsigned __int128)epcg_rng_next(r) * n;
	}
	return (uint64_t)(m >> 64);
}

TEST(below_rejects_like_the_reference)
{
	/* Bounds whose rejection zone is large (a quarter of the draws
	 * for 3 << 62), small, and empty (powers of two). */
	static const uint64_t bounds[] = { 3ull << 62, (1ull << 63) + 1,
					   1000003, 1ull << 40 };
	struct epcg_rng a, b;

	for (size_t c = 0; c < 4; c++) {
		epcg_rng_seed(&a, epcg_test_seed() + c);
		b = a;
		for (int i = 0; i < 10000; i++)
			ASSERT_U64_EQ(epcg_rng_below(&a, bounds[c]),
				      below_reference(&b, bounds[c]));
		/* Both consumed the same draws. */
		ASSERT_U64_EQ(epcg_rng_next(&a), epcg_rng_next(&b));
	}
}

TEST(zipf_exact_probabilities)
{
	static const double s_values[] = { 0.5, 1.0, 1.3 };
	struct epcg_zipf z;
	struct epcg_rng r;

	for (size_t c = 0; c < 3; c++) {
		double s = s_values[c], hn = 0, x = 0;
		uint64_t obs[10] = { 0 }, total = 400000;

		ASSERT_OK(epcg_zipf_init(&z, 10, s));
		epcg_rng_seed(&r, epcg_test_seed() + 10 + c);
		for (uint64_t i = 0; i < total; i++) {
			uint64_t k = epcg_zipf_next(&z, &r);

			ASSERT_TRUE(k >= 1 && k <= 10);
			obs[k - 1]++;
		}
		for (int k = 1; k <= 10; k++)
			hn += pow(k, -s);
		for (int k = 1; k <= 10; k++) {
			double e = total * pow(k, -s) / hn;

			x += (obs[k - 1] - e) * (obs[k - 1] - e) / e;
		}
		epcg_test_note("zipf s=%.1f n=10: chi2 %.1f (99.9%%: 27.88)",
			       s, x);
		ASSERT_TRUE(x < 27.88);
	}
}

/* Least-squares slope of log(frequency) over log(rank), ranks 1..@top. */
static double rank_slope(const uint64_t *freq, unsigned top)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;

	for (unsigned k = 1; k <= top; k++) {
		double lx = log(k), ly = log((double)freq[k - 1]);

		sx += lx;
		sy += ly;
		sxx += lx * lx;
		sxy += lx * ly;
	}
	return (top * sxy - sx * sy) / (top * sxx - sx * sx);
}

TEST(zipf_rank_frequency_slope)
{
	static const double s_values[] = { 0.8, 0.99, 1.2 };
	enum { N = 100000, TOP = 50, DRAWS = 2000000 };
	static uint64_t freq[N];
	struct epcg_zipf z;
	struct epcg_rng r;

	for (size_t c = 0; c < 3; c++) {
		double slope;

		memset(freq, 0, sizeof(freq));
		ASSERT_OK(epcg_zipf_init(&z, N, s_values[c]));
		epcg_rng_seed(&r, epcg_test_seed() + 20 + c);
		for (int i = 0; i < DRAWS; i++) {
			uint64_t k = epcg_zipf_next(&z, &r);

			ASSERT_TRUE(k >= 1 && k <= N);
			freq[k - 1]++;
		}
		slope = rank_slope(freq, TOP);
		epcg_test_note("zipf s=%.2f: rank-frequency slope %.3f",
			       s_values[c], slope);
		ASSERT_TRUE(fabs(slope + s_values[c]) < 0.05);
	}
}

TEST(zipf_edges)
{
	struct epcg_zipf z;
	struct epcg_rng r;

	ASSERT_ERR(epcg_zipf_init(&z, 0, 1.0), EINVAL);
	ASSERT_ERR(epcg_zipf_init(&z, 10, 0), EINVAL);
	ASSERT_ERR(epcg_zipf_init(&z, 10, NAN), EINVAL);
	ASSERT_OK(epcg_zipf_init(&z, 1, 1.0));
	epcg_rng_seed(&r, 1);
	for (int i = 0; i < 100; i++)
		ASSERT_U64_EQ(epcg_zipf_next(&z, &r), 1);
	/* Huge n and steep s: still in range, mostly rank 1. */
	ASSERT_OK(epcg_zipf_init(&z, 1ull << 40, 3.0));
	for (int i = 0, ones = 0; i < 1000; i++) {
		uint64_t k = epcg_zipf_next(&z, &r);

		ASSERT_TRUE(k >= 1 && k <= 1ull << 40);
		ones += k == 1;
		if (i == 999)
			ASSERT_CMP(ones, >, 750);
	}
}

static void wl_init(struct epcg_workload *wl, enum epcg_pattern p)
{
	memset(wl, 0, sizeof(*wl));
	wl->pattern = p;
	wl->zipf_s = 1.0;
}

TEST(scan_and_defaults)
{
	struct epcg_workload wl;
	struct epcg_workload_gen g;
	uint64_t think;

	wl_init(&wl, EPCG_PATTERN_SCAN);
	wl.offset = 2 * PAGE;
	wl.size = 3 * PAGE;
	ASSERT_OK(epcg_workload_gen_init(&g, &wl, 8 * PAGE, NULL, 1, 0, 100));
	/* One pass over the working set by default. */
	ASSERT_EQ(epcg_workload_gen_next(&g, 0, &think), 2);
	ASSERT_U64_EQ(think, 100);
	ASSERT_EQ(epcg_workload_gen_next(&g, 0, &think), 3);
	ASSERT_EQ(epcg_workload_gen_next(&g, 0, &think), 4);
	ASSERT_EQ(epcg_workload_gen_next(&g, 0, &think), -1);
	/* With a count it wraps. */
	wl.accesses = 5;
	wl.think_ns = 7;
	ASSERT_OK(epcg_workload_gen_init(&g, &wl, 8 * PAGE, NULL, 1, 0, 100));
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(epcg_workload_gen_next(&g, 0, &think), 2 + i % 3);
		ASSERT_U64_EQ(think, 7);
	}
	ASSERT_EQ(epcg_workload_gen_next(&g, 0, NULL), -1);
	/* Out of the enclave: refused. */
	wl.size = 7 * PAGE;
	ASSERT_ERR(epcg_workload_gen_init(&g, &wl, 8 * PAGE, NULL, 1, 0, 1),
		   EINVAL);
}

TEST(uniform_stays_in_its_region_and_counts)
{
	struct epcg_workload wl;
	struct epcg_workload_gen g;
	uint64_t seen[16] = { 0 }, n = 0;
	int64_t p;

	wl_init(&wl, EPCG_PATTERN_UNIFORM);
	wl.offset = 4 * PAGE;
	wl.size = 16 * PAGE;
	ASSERT_OK(epcg_workload_gen_init(&g, &wl, 64 * PAGE, NULL, 9, 3, 1));
	while ((p = epcg_workload_gen_next(&g, 0, NULL)) >= 0) {
		ASSERT_TRUE(p >= 4 && p < 20);
		seen[p - 4]++;
		n++;
	}
	ASSERT_U64_EQ(n, 64);		/* four per page by default */
	/* Duration-bounded: ends when the elapsed time says so. */
	wl.duration_ns = 1000;
	ASSERT_OK(epcg_workload_gen_init(&g, &wl, 64 * PAGE, NULL, 9, 3, 1));
	ASSERT_TRUE(epcg_workload_gen_next(&g, 999, NULL) >= 0);
	ASSERT_EQ(epcg_workload_gen_next(&g, 1000, NULL), -1);
}

TEST(streams_are_deterministic_and_distinct)
{
	struct epcg_workload wl;
	struct epcg_workload_gen a, b, c;
	int same = 0;

	wl_init(&wl, EPCG_PATTERN_ZIPF);
	wl.zipf_s = 0.9;
	wl.accesses = 1000;
	ASSERT_OK(epcg_workload_gen_init(&a, &wl, 4096 * PAGE, NULL, 5, 1, 1));
	ASSERT_OK(epcg_workload_gen_init(&b, &wl, 4096 * PAGE, NULL, 5, 1, 1));
	ASSERT_OK(epcg_workload_gen_init(&c, &wl, 4096 * PAGE, NULL, 5, 2, 1));
	for (int i = 0; i < 1000; i++) {
		int64_t pa = epcg_workload_gen_next(&a, 0, NULL);

		ASSERT_EQ(pa, epcg_workload_gen_next(&b, 0, NULL));
		same += pa == epcg_workload_gen_next(&c, 0, NULL);
	}
	ASSERT_CMP(same, <, 500);
}

TEST(phases_follow_elapsed_time)
{
	struct epcg_phase ph[2] = {
		{ 1, 100, EPCG_PATTERN_SCAN, 1.0, 0, 2 * PAGE, 10 },
		{ 2, 50, EPCG_PATTERN_UNIFORM, 1.0, 8 * PAGE, 4 * PAGE, 0 },
	};
	struct epcg_workload wl;
	struct epcg_workload_gen g;
	uint64_t think;
	int64_t p;

	wl_init(&wl, EPCG_PATTERN_PHASES);
	wl.phases = ph;
	wl.nr_phases = 2;
	ASSERT_OK(epcg_workload_gen_init(&g, &wl, 16 * PAGE, NULL, 1, 0, 3));
	ASSERT_EQ(epcg_workload_gen_next(&g, 0, &think), 0);
	ASSERT_U64_EQ(think, 10);
	ASSERT_EQ(epcg_workload_gen_next(&g, 10, &think), 1);
	ASSERT_EQ(epcg_workload_gen_next(&g, 99, &think), 0);
	p = epcg_workload_gen_next(&g, 100, &think);
	ASSERT_TRUE(p >= 8 && p < 12);
	ASSERT_U64_EQ(think, 3);	/* the default access cost */
	ASSERT_EQ(epcg_workload_gen_next(&g, 150, &think), -1);
	/* Looping starts over at the first phase. */
	wl.loop = true;
	wl.duration_ns = 1000;
	ASSERT_OK(epcg_workload_gen_init(&g, &wl, 16 * PAGE, NULL, 1, 0, 3));
	ASSERT_EQ(epcg_workload_gen_next(&g, 160, &think), 0);
	ASSERT_EQ(epcg_workload_gen_next(&g, 1000, &think), -1);
	/* A phase outside the enclave is refused. */
	ph[1].offset = 14 * PAGE;
	ASSERT_ERR(epcg_workload_gen_init(&g, &wl, 16 * PAGE, NULL, 1, 0, 3),
		   EINVAL);
	wl.nr_phases = 0;
	ASSERT_ERR(epcg_workload_gen_init(&g, &wl, 16 * PAGE, NULL, 1, 0, 3),
		   EINVAL);
}

static void load(const char *file, enum epcg_trace_format fmt,
		 struct epcg_trace *t, unsigned col, bool header, uint64_t base)
{
	struct epcg_trace_opts o = { fmt, col, ',', header, base };
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", EPCG_TEST_DATA, file);
	if (epcg_trace_load(path, &o, t, err, sizeof(err)))
		epcg_test_fail(__FILE__, __LINE__, "%s", err);
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

TEST(trace_txt)
{
	struct epcg_trace t;
	const uint64_t want[] = { 3, 1, 4, 1, 5, fnv("name-a"), 9 };

	load("ids.txt", EPCG_TRACE_TXT, &t, 1, false, 0);
	ASSERT_U64_EQ(t.nr, 7);
	for (unsigned i = 0; i < 7; i++)
		ASSERT_U64_EQ(t.keys[i], want[i]);
	epcg_trace_finish(&t);
	epcg_trace_finish(NULL);
}

TEST(trace_csv)
{
	struct epcg_trace t;
	const uint64_t want[] = { 10, 11, 10, 12 };

	load("ids.csv", EPCG_TRACE_CSV, &t, 2, true, 0);
	ASSERT_U64_EQ(t.nr, 4);
	for (unsigned i = 0; i < 4; i++)
		ASSERT_U64_EQ(t.keys[i], want[i]);
	epcg_trace_finish(&t);
}

TEST(trace_addresses_fold_to_pages)
{
	struct epcg_trace t;
	const uint64_t want[] = { 0, 1, 3, 4, 2, 5 };

	load("lackey.txt", EPCG_TRACE_ADDR, &t, 1, false, 0x4000000);
	ASSERT_U64_EQ(t.nr, 6);
	for (unsigned i = 0; i < 6; i++)
		ASSERT_U64_EQ(t.keys[i], want[i]);
	epcg_trace_finish(&t);
}

static int read_mem(const char *text, const struct epcg_trace_opts *o,
		    struct epcg_trace *t)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	ASSERT_NOT_NULL(f);
	r = epcg_trace_read(f, "mem", o, t, err, sizeof(err));
	fclose(f);
	return r;
}

TEST(trace_errors)
{
	struct epcg_trace_opts csv = { EPCG_TRACE_CSV, 2, ',', true, 0 };
	struct epcg_trace_opts addr = { EPCG_TRACE_ADDR, 1, ',', false, 0 };
	struct epcg_trace_opts txt = { EPCG_TRACE_TXT, 1, ',', false, 0 };
	struct epcg_trace t;
	char path[512];

	snprintf(path, sizeof(path), "%s/bad.csv", EPCG_TEST_DATA);
	ASSERT_ERR(epcg_trace_load(path, &csv, &t, err, sizeof(err)), EINVAL);
	ASSERT_TRUE(strstr(err, "bad.csv:3: no object id in the id column "
				"of '2'") != NULL);
	ASSERT_ERR(epcg_trace_load("/nonexistent/t", &csv, &t, err,
				   sizeof(err)), ENOENT);
	ASSERT_STREQ(err, "/nonexistent/t: No such file or directory");
	ASSERT_ERR(read_mem("I 0400,4\n L zz,8\n", &addr, &t), EINVAL);
	ASSERT_STREQ(err, "mem:2: not an address line 'L zz,8'");
	ASSERT_ERR(read_mem("hello world\n", &addr, &t), EINVAL);
	ASSERT_STREQ(err, "mem:1: not an address line 'hello world'");
	ASSERT_ERR(read_mem("# nothing\n\n", &txt, &t), EINVAL);
	ASSERT_STREQ(err, "mem: empty trace");
	ASSERT_ERR(read_mem("time,id\n", &csv, &t), EINVAL);
	ASSERT_STREQ(err, "mem: empty trace");
	/* Quoted and tab-separated fields, a huge id hashed not wrapped. */
	csv.delim = '\t';
	csv.header = false;
	ASSERT_OK(read_mem("1\t\"42\"\n2\t99999999999999999999999\n", &csv,
			   &t));
	ASSERT_U64_EQ(t.keys[0], 42);
	ASSERT_U64_EQ(t.keys[1], fnv("99999999999999999999999"));
	epcg_trace_finish(&t);
	/* Found by fuzz-trace: a NUL delimiter read past the line. */
	csv.delim = '\0';
	ASSERT_ERR(read_mem("1,2\n", &csv, &t), EINVAL);
	ASSERT_STREQ(err, "mem:1: no object id in the id column of '1,2'");
	csv.id_col = 1;
	ASSERT_OK(read_mem("7\n", &csv, &t));
	ASSERT_U64_EQ(t.keys[0], 7);
	epcg_trace_finish(&t);
}

TEST(trace_replay_through_a_generator)
{
	struct epcg_workload wl;
	struct epcg_workload_gen g;
	struct epcg_trace t;
	const int64_t want[] = { 2 + 10 % 3, 2 + 11 % 3, 2 + 10 % 3,
				 2 + 12 % 3 };

	load("ids.csv", EPCG_TRACE_CSV, &t, 2, true, 0);
	wl_init(&wl, EPCG_PATTERN_TRACE);
	wl.offset = 2 * PAGE;
	wl.size = 3 * PAGE;
	ASSERT_ERR(epcg_workload_gen_init(&g, &wl, 8 * PAGE, NULL, 1, 0, 1),
		   EINVAL);
	ASSERT_OK(epcg_workload_gen_init(&g, &wl, 8 * PAGE, &t, 1, 0, 1));
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(epcg_workload_gen_next(&g, 0, NULL), want[i]);
	ASSERT_EQ(epcg_workload_gen_next(&g, 0, NULL), -1);	/* one pass */
	wl.loop = true;
	wl.accesses = 6;
	ASSERT_OK(epcg_workload_gen_init(&g, &wl, 8 * PAGE, &t, 1, 0, 1));
	for (int i = 0; i < 6; i++)
		ASSERT_EQ(epcg_workload_gen_next(&g, 0, NULL), want[i % 4]);
	ASSERT_EQ(epcg_workload_gen_next(&g, 0, NULL), -1);
	epcg_trace_finish(&t);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(rng_matches_reference),
	TEST_ENTRY(rng_double_in_unit_interval),
	TEST_ENTRY(uniform_chi_square),
	TEST_ENTRY(below_rejects_like_the_reference),
	TEST_ENTRY(zipf_exact_probabilities),
	TEST_ENTRY(zipf_rank_frequency_slope),
	TEST_ENTRY(zipf_edges),
	TEST_ENTRY(scan_and_defaults),
	TEST_ENTRY(uniform_stays_in_its_region_and_counts),
	TEST_ENTRY(streams_are_deterministic_and_distinct),
	TEST_ENTRY(phases_follow_elapsed_time),
	TEST_ENTRY(trace_txt),
	TEST_ENTRY(trace_csv),
	TEST_ENTRY(trace_addresses_fold_to_pages),
	TEST_ENTRY(trace_errors),
	TEST_ENTRY(trace_replay_through_a_generator),
};

TEST_MAIN(tests)
