// SPDX-License-Identifier: MIT
/*
 * Unit tests of sweeps: parsing --limits, --range and --shard with their
 * errors; shards that cover every point exactly once; the points of a
 * small scenario (each one the run `epcg run` would make at that limit;
 * the same with one job or several); shard files that merge into the
 * sweep a single machine produces, byte for byte in every output; and
 * every way a merge refuses files that do not belong together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "results.h"
#include "scenario.h"
#include "sim.h"
#include "sweep.h"
#include "test.h"

#define KIB 1024ull
#define MIB (1024ull * 1024)

static char err[1024];

/*
 * One 1 MiB enclave touching a Zipf working set a fixed number of times,
 * in a cgroup whose limit a timed event lowers (a sweep leaves that out).
 */
static const char small_scn[] = "epc 2M\n"
				"seed 5\n"
				"cgroup /app max 1M\n"
				"cgroup /app/sub\n"
				"cgroup /other\n"
				"enclave a size 1M cgroup /app/sub\n"
				"workload a zipf:0.9 accesses 4000 think 1us\n"
				"enclave b size 256K cgroup /other\n"
				"workload b scan accesses 500\n"
				"at 1ms set /app max 512K\n"
				"expect enclave a outcome ok\n";

static const uint64_t small_limits[] = {
	1 * MIB, 0, 64 * KIB, 512 * KIB, 256 * KIB, EPCG_SCENARIO_MAX
};

static struct epcg_scenario *small(void)
{
	struct epcg_scenario *sc = NULL;

	if (epcg_scenario_parse("small.scn", small_scn, strlen(small_scn), &sc,
				err, sizeof(err)))
		epcg_test_fail(__FILE__, __LINE__, "parse: %s", err);
	return sc;
}

static uint64_t small_hash(void)
{
	return epcg_sweep_hash(small_scn, strlen(small_scn));
}

static struct epcg_sweep *create(const struct epcg_scenario *sc, unsigned shard,
				 unsigned nr_shards)
{
	struct epcg_sweep *sw = NULL;

	if (epcg_sweep_create(sc, small_hash(), "/app", small_limits,
			      sizeof(small_limits) / sizeof(small_limits[0]),
			      shard, nr_shards, &sw, err, sizeof(err)))
		epcg_test_fail(__FILE__, __LINE__, "create: %s", err);
	return sw;
}

static void run(struct epcg_sweep *sw, const struct epcg_scenario *sc,
		unsigned jobs)
{
	struct epcg_sweep_opts o = { .jobs = jobs };

	if (epcg_sweep_run(sw, sc, &o, err, sizeof(err)))
		epcg_test_fail(__FILE__, __LINE__, "run: %s", err);
}

/* What @fn writes for @sw, as a string to free(). */
static char *render(int (*fn)(const struct epcg_sweep *, FILE *),
		    const struct epcg_sweep *sw)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ASSERT_NOT_NULL(f);
	ASSERT_OK(fn(sw, f));
	ASSERT_EQ(fclose(f), 0);
	return buf;
}

/* Read a sweep file held in @text; 0 or the error (message in err). */
static int read_text(const char *name, const char *text,
		     struct epcg_sweep **ret)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	ASSERT_NOT_NULL(f);
	rc = epcg_sweep_read(name, f, ret, err, sizeof(err));
	fclose(f);
	return rc;
}

static struct epcg_sweep *read_ok(const char *name, const char *text)
{
	struct epcg_sweep *sw = NULL;

	if (read_text(name, text, &sw))
		epcg_test_fail(__FILE__, __LINE__, "read: %s", err);
	return sw;
}

/* ---- parsing ---- */

TEST(limits_parse)
{
	uint64_t *v = NULL;
	unsigned n = 0;

	ASSERT_OK(epcg_sweep_parse_limits("64M,1Mi,4096,max,0", &v, &n, err,
					  sizeof(err)));
	ASSERT_EQ(n, 5);
	ASSERT_U64_EQ(v[0], 64 * MIB);
	ASSERT_U64_EQ(v[1], MIB);
	ASSERT_U64_EQ(v[2], 4096);
	ASSERT_U64_EQ(v[3], EPCG_SCENARIO_MAX);
	ASSERT_U64_EQ(v[4], 0);
	free(v);
}

TEST(limits_errors)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "", "empty limit in ''" },
		{ "64M,,1M", "empty limit in '64M,,1M'" },
		{ "64M,", "empty limit in '64M,'" },
		{ ",64M", "empty limit in ',64M'" },
		{ "12Q", "bad limit '12Q'" },
		{ "1M,-1", "bad limit '-1'" },
		{ "1M,maximum", "bad limit 'maximum'" },
		{ "64M 1M", "bad limit '64M 1M'" },
	};
	uint64_t *v = NULL;
	unsigned n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_ERR(epcg_sweep_parse_limits(cases[i].in, &v, &n, err,
						   sizeof(err)),
			   EINVAL);
		ASSERT_STREQ(err, cases[i].msg);
	}
}

TEST(range_parse)
{
	uint64_t *v = NULL;
	unsigned n = 0;

	ASSERT_OK(
		epcg_sweep_parse_range("4M:64M:16", &v, &n, err, sizeof(err)));
	ASSERT_EQ(n, 16);
	ASSERT_U64_EQ(v[0], 4 * MIB);
	ASSERT_U64_EQ(v[1], 8 * MIB);
	ASSERT_U64_EQ(v[15], 64 * MIB);
	for (unsigned i = 1; i < n; i++) {
		ASSERT_CMP(v[i], >, v[i - 1]);
		ASSERT_U64_EQ(v[i] % 4096, 0);
	}
	free(v);
	/* Inner points fall on whole pages; the ends stay as given. */
	ASSERT_OK(
		epcg_sweep_parse_range("1000:1Mi:3", &v, &n, err, sizeof(err)));
	ASSERT_EQ(n, 3);
	ASSERT_U64_EQ(v[0], 1000);
	ASSERT_U64_EQ(v[1], 524288); /* 524788 rounded down */
	ASSERT_U64_EQ(v[2], MIB);
	free(v);
	ASSERT_OK(epcg_sweep_parse_range("0:1T:2", &v, &n, err, sizeof(err)));
	ASSERT_EQ(n, 2);
	ASSERT_U64_EQ(v[1], 1ull << 40);
	free(v);
}

TEST(range_errors)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "4M:64M", "bad range '4M:64M' (FROM:TO:POINTS, e.g. "
			    "4M:64M:16)" },
		{ "4M:64M:3:4", "bad range '4M:64M:3:4' (FROM:TO:POINTS, "
				"e.g. 4M:64M:16)" },
		{ "4Q:64M:3", "bad size '4Q' in range '4Q:64M:3'" },
		{ "4M::3", "bad size '' in range '4M::3'" },
		{ "4M:64M:x", "bad number of points 'x' in range "
			      "'4M:64M:x'" },
		{ "4M:64M:-3", "bad number of points '-3' in range "
			       "'4M:64M:-3'" },
		{ "64M:4M:3", "range '64M:4M:3' must go up (FROM < TO)" },
		{ "4M:4M:3", "range '4M:4M:3' must go up (FROM < TO)" },
		{ "4M:64M:1", "range '4M:64M:1' needs 2 to 9999 points" },
		{ "4M:64M:10000", "range '4M:64M:10000' needs 2 to 9999 "
				  "points" },
		{ "4096:8192:3", "range '4096:8192:3' is finer than a page "
				 "(4096 bytes): use fewer points" },
	};
	uint64_t *v = NULL;
	unsigned n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_ERR(epcg_sweep_parse_range(cases[i].in, &v, &n, err,
						  sizeof(err)),
			   EINVAL);
		ASSERT_STREQ(err, cases[i].msg);
	}
}

TEST(shard_parse)
{
	static const char *const bad[] = {
		"",	 "1",  "4/4", "1/0",	  "a/2",  "1/b",  "-1/2",
		"1/2/3", "/2", "1/",  "0/100001", " 1/2", "1/2 ",
	};
	unsigned i, n;

	ASSERT_OK(epcg_sweep_parse_shard("0/1", &i, &n));
	ASSERT_EQ(i, 0);
	ASSERT_EQ(n, 1);
	ASSERT_OK(epcg_sweep_parse_shard("7/8", &i, &n));
	ASSERT_EQ(i, 7);
	ASSERT_EQ(n, 8);
	ASSERT_OK(epcg_sweep_parse_shard("99999/100000", &i, &n));
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		ASSERT_ERR(epcg_sweep_parse_shard(bad[k], &i, &n), EINVAL);
}

/* ---- the sweep's points ---- */

TEST(points_sorted_with_the_baseline_first)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = create(sc, 0, 1);

	ASSERT_EQ(sw->nr_points, 6);
	ASSERT_U64_EQ(sw->points[0].limit, EPCG_SCENARIO_MAX);
	ASSERT_U64_EQ(sw->points[1].limit, 0);
	ASSERT_U64_EQ(sw->points[2].limit, 64 * KIB);
	ASSERT_U64_EQ(sw->points[3].limit, 256 * KIB);
	ASSERT_U64_EQ(sw->points[4].limit, 512 * KIB);
	ASSERT_U64_EQ(sw->points[5].limit, MIB);
	ASSERT_EQ(sw->dropped_events, 1);
	ASSERT_STREQ(sw->scenario, "small.scn");
	ASSERT_STREQ(sw->cgroup, "/app");
	ASSERT_U64_EQ(sw->seed, 5);
	ASSERT_EQ(sw->nr_sections, 1);
	ASSERT_U64_EQ(sw->sections[0], 2 * MIB);
	ASSERT_FALSE(epcg_sweep_complete(sw));
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
}

TEST(create_errors)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = NULL;
	uint64_t twice[] = { MIB, 64 * KIB, MIB };
	uint64_t only_max[] = { EPCG_SCENARIO_MAX };
	uint64_t one[] = { MIB };

	ASSERT_ERR(epcg_sweep_create(sc, 0, "/", one, 1, 0, 1, &sw, err,
				     sizeof(err)),
		   EINVAL);
	ASSERT_STREQ(err, "cannot sweep the root cgroup: it has no limit");
	ASSERT_ERR(epcg_sweep_create(sc, 0, "/nope", one, 1, 0, 1, &sw, err,
				     sizeof(err)),
		   EINVAL);
	ASSERT_STREQ(err, "small.scn: no cgroup '/nope'");
	ASSERT_ERR(epcg_sweep_create(sc, 0, "/app", twice, 3, 0, 1, &sw, err,
				     sizeof(err)),
		   EINVAL);
	ASSERT_STREQ(err, "limit 1048576 given twice");
	ASSERT_ERR(epcg_sweep_create(sc, 0, "/app", only_max, 1, 0, 1, &sw, err,
				     sizeof(err)),
		   EINVAL);
	ASSERT_STREQ(err, "no limit to sweep besides 'max'");
	ASSERT_ERR(epcg_sweep_create(sc, 0, "/app", one, 1, 2, 2, &sw, err,
				     sizeof(err)),
		   EINVAL);
	ASSERT_STREQ(err, "bad shard 2/2");
	ASSERT_NULL(sw);
	epcg_scenario_destroy(sc);
}

TEST(shards_cover_every_point_once)
{
	struct epcg_scenario *sc = small();
	uint64_t limits[64];

	for (unsigned i = 0; i < 64; i++)
		limits[i] = (i + 1) * 4096ull;
	for (unsigned nr = 1; nr <= 64; nr++) {
		for (unsigned shards = 1; shards <= 12; shards++) {
			unsigned seen[65] = { 0 }, total = 0;

			for (unsigned s = 0; s < shards; s++) {
				struct epcg_sweep *sw = NULL;

				ASSERT_OK(epcg_sweep_create(
					sc, 0, "/app", limits, nr, s, shards,
					&sw, err, sizeof(err)));
				ASSERT_EQ(sw->nr_points, nr + 1);
				for (unsigned i = 0; i < sw->nr_points; i++) {
					if (!epcg_sweep_in_shard(sw, i))
						continue;
					seen[i]++;
					total++;
				}
				epcg_sweep_destroy(sw);
			}
			ASSERT_EQ(total, nr + 1);
			for (unsigned i = 0; i <= nr; i++)
				ASSERT_EQ(seen[i], 1);
		}
	}
	epcg_scenario_destroy(sc);
}

/* Results cgroup @c is @k or one of its descendants. */
static bool below(const struct epcg_results *r, int c, int k)
{
	for (; c >= 0; c = r->cgroups[c].parent)
		if (c == k)
			return true;
	return false;
}

TEST(a_point_is_the_run_at_its_limit)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = create(sc, 0, 1);
	struct epcg_results *r = NULL;
	const struct epcg_sweep_point *p;
	uint64_t runtime = 0, accesses = 0;

	run(sw, sc, 1);
	ASSERT_TRUE(epcg_sweep_complete(sw));
	/* The same run by hand: /app at 256K throughout, no `set` event. */
	sc->cgroups[0].max = 256 * KIB;
	sc->nr_events = 0;
	ASSERT_OK(epcg_sim_run(sc, NULL, &r, err, sizeof(err)));
	p = &sw->points[3];
	ASSERT_U64_EQ(p->limit, 256 * KIB);
	ASSERT_U64_EQ(p->total.faults, r->cgroups[1].total.faults);
	ASSERT_U64_EQ(p->total.ewb, r->cgroups[1].total.ewb);
	ASSERT_U64_EQ(p->total.eldu, r->cgroups[1].total.eldu);
	ASSERT_U64_EQ(p->total.paging_ns, r->cgroups[1].total.paging_ns);
	ASSERT_U64_EQ(p->peak, r->cgroups[1].peak);
	ASSERT_U64_EQ(p->events, r->cgroups[1].events);
	ASSERT_U64_EQ(p->virtual_ns, r->virtual_ns);
	for (unsigned i = 0; i < r->nr_enclaves; i++) {
		if (!below(r, r->enclaves[i].cgroup, 1))
			continue;
		runtime += r->enclaves[i].virtual_ns;
		accesses += r->enclaves[i].accesses;
	}
	/* Enclave a is in /app/sub, b elsewhere: only a counts. */
	ASSERT_EQ(p->nr_enclaves, 1);
	ASSERT_U64_EQ(p->runtime_ns, runtime);
	ASSERT_U64_EQ(p->accesses, accesses);
	ASSERT_U64_EQ(p->accesses, 4000);
	ASSERT_CMP(p->total.faults, >, 0);
	epcg_results_destroy(r);
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
}

TEST(the_curve)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = create(sc, 0, 1);

	run(sw, sc, 2);
	/* Unlimited: nothing pages; limit 0: the enclave cannot start. */
	ASSERT_U64_EQ(sw->points[0].total.faults, 0);
	ASSERT_TRUE(epcg_sweep_slowdown(sw, 0) == 1.0);
	ASSERT_EQ(sw->points[1].outcomes[EPCG_OUTCOME_ENOMEM], 1);
	ASSERT_TRUE(isnan(epcg_sweep_slowdown(sw, 1)));
	/* Then fewer faults and less slowdown as the limit grows. */
	for (unsigned i = 3; i < sw->nr_points; i++) {
		ASSERT_EQ(sw->points[i].outcomes[EPCG_OUTCOME_OK], 1);
		ASSERT_CMP(sw->points[i].total.faults, <,
			   sw->points[i - 1].total.faults);
		ASSERT_TRUE(epcg_sweep_slowdown(sw, i) <
			    epcg_sweep_slowdown(sw, i - 1));
		ASSERT_TRUE(epcg_sweep_slowdown(sw, i) > 1.0);
		/* A fixed number of accesses: the ratio of run times. */
		ASSERT_TRUE(fabs(epcg_sweep_slowdown(sw, i) -
				 (double)sw->points[i].runtime_ns /
					 (double)sw->points[0].runtime_ns) <
			    1e-12);
	}
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
}

TEST(jobs_do_not_change_the_results)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *one = create(sc, 0, 1), *four = create(sc, 0, 1);
	char *a, *b;

	run(one, sc, 1);
	run(four, sc, 4);
	a = render(epcg_sweep_write, one);
	b = render(epcg_sweep_write, four);
	ASSERT_STREQ(a, b);
	free(a);
	free(b);
	epcg_sweep_destroy(one);
	epcg_sweep_destroy(four);
	epcg_scenario_destroy(sc);
}

/* ---- shard files and merging ---- */

/* The files of @nr shards of the small sweep, run with @jobs each. */
static char **shard_files(const struct epcg_scenario *sc, unsigned nr,
			  unsigned jobs)
{
	char **files = calloc(nr, sizeof(*files));

	ASSERT_NOT_NULL(files);
	for (unsigned s = 0; s < nr; s++) {
		struct epcg_sweep *sw = create(sc, s, nr);

		run(sw, sc, jobs);
		files[s] = render(epcg_sweep_write, sw);
		epcg_sweep_destroy(sw);
	}
	return files;
}

static void free_files(char **files, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		free(files[i]);
	free(files);
}

TEST(merge_equals_the_unsharded_sweep)
{
	static const char *const names[] = { "s2", "s0", "s3", "s1" };
	static const unsigned order[] = { 2, 0, 3, 1 };
	struct epcg_scenario *sc = small();
	struct epcg_sweep *whole = create(sc, 0, 1), *parts[4], *merged = NULL;
	char **files = shard_files(sc, 4, 2);
	char *a, *b;

	run(whole, sc, 1);
	for (unsigned i = 0; i < 4; i++)
		parts[i] = read_ok(names[i], files[order[i]]);
	ASSERT_OK(epcg_sweep_merge(parts, names, 4, &merged, err, sizeof(err)));
	ASSERT_TRUE(epcg_sweep_complete(merged));
	a = render(epcg_sweep_write, whole);
	b = render(epcg_sweep_write, merged);
	ASSERT_STREQ(a, b);
	free(a);
	free(b);
	a = render(epcg_sweep_write_csv, whole);
	b = render(epcg_sweep_write_csv, merged);
	ASSERT_STREQ(a, b);
	free(a);
	free(b);
	a = render(epcg_sweep_write_html, whole);
	b = render(epcg_sweep_write_html, merged);
	ASSERT_STREQ(a, b);
	free(a);
	free(b);
	a = render(epcg_sweep_print_table, whole);
	b = render(epcg_sweep_print_table, merged);
	ASSERT_STREQ(a, b);
	free(a);
	free(b);
	for (unsigned i = 0; i < 4; i++)
		epcg_sweep_destroy(parts[i]);
	epcg_sweep_destroy(merged);
	epcg_sweep_destroy(whole);
	free_files(files, 4);
	epcg_scenario_destroy(sc);
}

TEST(more_shards_than_points)
{
	static const char *names[8];
	struct epcg_scenario *sc = small();
	char **files = shard_files(sc, 8, 1);
	struct epcg_sweep *parts[8], *merged = NULL;

	for (unsigned i = 0; i < 8; i++) {
		names[i] = "shard";
		parts[i] = read_ok("shard", files[i]);
	}
	/* Shards 6 and 7 have no point; they still take part. */
	ASSERT_NOT_NULL(strstr(files[7], "\nend 0\n"));
	ASSERT_ERR(epcg_sweep_merge(parts, names, 7, &merged, err, sizeof(err)),
		   EINVAL);
	ASSERT_STREQ(err, "shard 7/8 is missing");
	ASSERT_OK(epcg_sweep_merge(parts, names, 8, &merged, err, sizeof(err)));
	ASSERT_TRUE(epcg_sweep_complete(merged));
	for (unsigned i = 0; i < 8; i++)
		epcg_sweep_destroy(parts[i]);
	epcg_sweep_destroy(merged);
	free_files(files, 8);
	epcg_scenario_destroy(sc);
}

TEST(file_round_trip)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = create(sc, 1, 2), *back;
	char *a, *b;

	run(sw, sc, 1);
	a = render(epcg_sweep_write, sw);
	back = read_ok("x", a);
	b = render(epcg_sweep_write, back);
	ASSERT_STREQ(a, b);
	ASSERT_NOT_NULL(strstr(a, "epcg-sweep 1\nscenario small.scn\n"));
	ASSERT_NOT_NULL(strstr(a, "\ncgroup /app\nseed 5\npolicy v17\n"
				  "sections 2097152\ndropped-set-events 1\n"
				  "limits max 0 65536 262144 524288 1048576\n"
				  "shard 1/2\npoint,limit,"));
	ASSERT_NOT_NULL(strstr(a, "\n1,0,"));
	ASSERT_NOT_NULL(strstr(a, "\n3,262144,"));
	ASSERT_NOT_NULL(strstr(a, "\n5,1048576,"));
	ASSERT_NOT_NULL(strstr(a, "\nend 3\n"));
	ASSERT_ERR(epcg_sweep_write_csv(sw, stdout), EINVAL);
	ASSERT_ERR(epcg_sweep_write_html(sw, stdout), EINVAL);
	free(a);
	free(b);
	epcg_sweep_destroy(back);
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
}

/* @text with the first @from replaced by @to, to free(). */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	ASSERT_NOT_NULL(at);
	ASSERT_NOT_NULL(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to,
		 at + strlen(from));
	return out;
}

/* Reading @text fails with exactly @msg. */
static void read_fails(const char *text, const char *msg)
{
	struct epcg_sweep *sw = NULL;

	ASSERT_ERR(read_text("f.sweep", text, &sw), EINVAL);
	ASSERT_NULL(sw);
	ASSERT_STREQ(err, msg);
}

TEST(read_errors)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = create(sc, 0, 2);
	char *good, *bad;
	size_t len;

	run(sw, sc, 1);
	good = render(epcg_sweep_write, sw);
	len = strlen(good);
	read_fails("", "f.sweep:1: file ends before 'epcg-sweep' (cut "
		       "short?)");
	read_fails("hello\n", "f.sweep:1: not an epcg sweep file");
	bad = edit(good, "epcg-sweep 1", "epcg-sweep 2");
	read_fails(bad, "f.sweep:1: sweep file version 2, this epcg reads "
			"version 1");
	free(bad);
	bad = edit(good, "seed 5", "seed five");
	read_fails(bad, "f.sweep:5: bad seed 'five'");
	free(bad);
	bad = edit(good, "policy v17", "policy v18");
	read_fails(bad, "f.sweep:6: unknown policy 'v18'");
	free(bad);
	bad = edit(good, "limits max 0", "limits 0 max");
	read_fails(bad, "f.sweep:9: bad limits: 'max' first, then "
			"increasing byte counts");
	free(bad);
	bad = edit(good, "shard 0/2", "shard 2/2");
	read_fails(bad, "f.sweep:10: bad shard '2/2' (I/N, 0 <= I < N)");
	free(bad);
	/* Point 1 is shard 1's, not shard 0's. */
	bad = edit(good, "\n2,65536,", "\n1,0,");
	read_fails(bad, "f.sweep:13: point 1 is not in shard 0/2");
	free(bad);
	bad = edit(good, "\n2,65536,", "\n0,max,");
	read_fails(bad, "f.sweep:13: point 0 out of order or repeated");
	free(bad);
	bad = edit(good, "\n2,65536,", "\n2,65537,");
	read_fails(bad, "f.sweep:13: point 2 has another limit in the "
			"header");
	free(bad);
	bad = edit(good, "\nend 3\n", "\nend 4\n");
	read_fails(bad, "f.sweep:15: 'end 4' but 3 rows (cut short?)");
	free(bad);
	bad = edit(good, "\nend 3\n", "\nend 3\nmore\n");
	read_fails(bad, "f.sweep:16: text after the 'end' line");
	free(bad);
	/* Cut short: in a row, and after the last row. */
	good[len - 30] = '\0';
	read_fails(good, "f.sweep:14: file ends without its 'end' line (cut "
			 "short?)");
	free(good);
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
}

TEST(read_refuses_a_shard_without_all_its_points)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = create(sc, 0, 2);
	char *good, *bad, *row, *end;

	run(sw, sc, 1);
	good = render(epcg_sweep_write, sw);
	/* Drop the row of point 2 and count one row less. */
	row = strstr(good, "\n2,65536,");
	ASSERT_NOT_NULL(row);
	end = strchr(row + 1, '\n');
	memmove(row, end, strlen(end) + 1);
	bad = edit(good, "\nend 3\n", "\nend 2\n");
	read_fails(bad, "f.sweep: point 2 of shard 0/2 is missing");
	free(bad);
	free(good);
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
}

TEST(merge_errors)
{
	static const char *const names[] = { "a.sweep", "b.sweep", "c.sweep" };
	struct epcg_scenario *sc = small();
	char **files = shard_files(sc, 2, 1), **three;
	struct epcg_sweep *p[3], *m = NULL;
	char *other;

	p[0] = read_ok("a", files[0]);
	p[1] = read_ok("b", files[1]);
	ASSERT_ERR(epcg_sweep_merge(p, names, 0, &m, err, sizeof(err)), EINVAL);
	ASSERT_STREQ(err, "no sweep file to merge");
	ASSERT_ERR(epcg_sweep_merge(p, names, 1, &m, err, sizeof(err)), EINVAL);
	ASSERT_STREQ(err, "shard 1/2 is missing");
	p[2] = read_ok("c", files[0]);
	ASSERT_ERR(epcg_sweep_merge(p, names, 3, &m, err, sizeof(err)), EINVAL);
	ASSERT_STREQ(err, "c.sweep: shard 0/2 is also in a.sweep");
	epcg_sweep_destroy(p[2]);

	/* Everything that makes two sweeps different is refused. */
	static const struct {
		const char *from, *to, *what;
	} diff[] = {
		{ "scenario small.scn", "scenario big.scn",
		  "the scenario names differ" },
		{ "scenario-hash ", "scenario-hash 0",
		  "the scenario texts differ (their hashes)" },
		{ "cgroup /app", "cgroup /other", "the cgroups differ" },
		{ "seed 5", "seed 6", "the seeds differ" },
		{ "policy v17", "policy intent", "the policies differ" },
		{ "sections 2097152", "sections 1048576 1048576",
		  "the EPC sections differ" },
		{ "dropped-set-events 1", "dropped-set-events 0",
		  "the dropped set events differ" },
	};
	for (size_t i = 0; i < sizeof(diff) / sizeof(diff[0]); i++) {
		char want[256], *h;

		other = edit(files[1], diff[i].from, diff[i].to);
		if (!strcmp(diff[i].from, "scenario-hash ")) {
			/* Keep 16 digits: change the first one. */
			free(other);
			other = strdup(files[1]);
			ASSERT_NOT_NULL(other);
			h = strstr(other, "scenario-hash ") + 14;
			*h = *h == '0' ? '1' : '0';
		}
		p[1] = read_ok("b", other);
		ASSERT_ERR(epcg_sweep_merge(p, names, 2, &m, err, sizeof(err)),
			   EINVAL);
		snprintf(want, sizeof(want),
			 "a.sweep and b.sweep are not "
			 "shards of one sweep: %s",
			 diff[i].what);
		ASSERT_STREQ(err, want);
		epcg_sweep_destroy(p[1]);
		free(other);
	}
	/* Shard 1 of a sweep cut in three. */
	three = shard_files(sc, 3, 1);
	p[1] = read_ok("b", three[1]);
	ASSERT_ERR(epcg_sweep_merge(p, names, 2, &m, err, sizeof(err)), EINVAL);
	ASSERT_STREQ(err, "a.sweep and b.sweep are not shards of one sweep: "
			  "the numbers of shards differ");
	epcg_sweep_destroy(p[1]);
	free_files(three, 3);
	ASSERT_NULL(m);
	epcg_sweep_destroy(p[0]);
	free_files(files, 2);
	epcg_scenario_destroy(sc);
}

TEST(merge_refuses_other_limits)
{
	static const char *const names[] = { "a.sweep", "b.sweep" };
	struct epcg_scenario *sc = small();
	uint64_t limits[] = { 64 * KIB, MIB };
	struct epcg_sweep *sw = NULL, *p[2], *m = NULL;
	char **files = shard_files(sc, 2, 1), *text;

	ASSERT_OK(epcg_sweep_create(sc, small_hash(), "/app", limits, 2, 1, 2,
				    &sw, err, sizeof(err)));
	run(sw, sc, 1);
	text = render(epcg_sweep_write, sw);
	p[0] = read_ok("a", files[0]);
	p[1] = read_ok("b", text);
	ASSERT_ERR(epcg_sweep_merge(p, names, 2, &m, err, sizeof(err)), EINVAL);
	ASSERT_STREQ(err, "a.sweep and b.sweep are not shards of one sweep: "
			  "the limits differ");
	epcg_sweep_destroy(p[0]);
	epcg_sweep_destroy(p[1]);
	epcg_sweep_destroy(sw);
	free(text);
	free_files(files, 2);
	epcg_scenario_destroy(sc);
}

TEST(csv_of_the_curve)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = create(sc, 0, 1);
	static const char head[] =
		"limit_bytes,faults,ewb,eldu,miss_ratio,slowdown,runtime_s,"
		"accesses,peak_bytes,events,reclaim_scans,paging_s,enclaves,"
		"ok,enomem,sigbus,efault,killed,stopped,running,"
		"checks_failed\nmax,0,0,0,0.000000,1.0000,";
	char *csv, *line;

	run(sw, sc, 1);
	csv = render(epcg_sweep_write_csv, sw);
	ASSERT_TRUE(!strncmp(csv, head, strlen(head)));
	/* Limit 0: the enclave got ENOMEM, no access, no slowdown. */
	line = strstr(csv, "\n0,");
	ASSERT_NOT_NULL(line);
	ASSERT_TRUE(!strncmp(line, "\n0,0,0,0,,,0,0,", 15));
	ASSERT_NOT_NULL(strstr(line, ",1,0,1,0,0,0,0,0,1\n"));
	ASSERT_NOT_NULL(strstr(csv, "\n1048576,"));
	free(csv);
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
}

TEST(html_of_the_curve)
{
	struct epcg_scenario *sc = small();
	struct epcg_sweep *sw = create(sc, 0, 1);
	char *html;

	run(sw, sc, 1);
	html = render(epcg_sweep_write_html, sw);
	ASSERT_NULL(strstr(html, "<script"));
	ASSERT_NOT_NULL(strstr(html, "default-src 'none'"));
	ASSERT_NOT_NULL(strstr(html, "id=\"sweep-paging\""));
	ASSERT_NOT_NULL(strstr(html, "id=\"sweep-miss\""));
	ASSERT_NOT_NULL(strstr(html, "id=\"sweep-slowdown\""));
	/* The failed run at limit 0 is a cross, with its reason. */
	ASSERT_NOT_NULL(strstr(html, "none, an enclave failed</title>"));
	ASSERT_NOT_NULL(strstr(html, "1 <code>set</code> event of this "
				     "cgroup was left out"));
	free(html);
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(limits_parse),
	TEST_ENTRY(limits_errors),
	TEST_ENTRY(range_parse),
	TEST_ENTRY(range_errors),
	TEST_ENTRY(shard_parse),
	TEST_ENTRY(points_sorted_with_the_baseline_first),
	TEST_ENTRY(create_errors),
	TEST_ENTRY(shards_cover_every_point_once),
	TEST_ENTRY_TIMEOUT(a_point_is_the_run_at_its_limit, 120),
	TEST_ENTRY_TIMEOUT(the_curve, 120),
	TEST_ENTRY_TIMEOUT(jobs_do_not_change_the_results, 120),
	TEST_ENTRY_TIMEOUT(merge_equals_the_unsharded_sweep, 180),
	TEST_ENTRY_TIMEOUT(more_shards_than_points, 120),
	TEST_ENTRY_TIMEOUT(file_round_trip, 120),
	TEST_ENTRY_TIMEOUT(read_errors, 120),
	TEST_ENTRY_TIMEOUT(read_refuses_a_shard_without_all_its_points, 120),
	TEST_ENTRY_TIMEOUT(merge_errors, 120),
	TEST_ENTRY_TIMEOUT(merge_refuses_other_limits, 120),
	TEST_ENTRY_TIMEOUT(csv_of_the_curve, 120),
	TEST_ENTRY_TIMEOUT(html_of_the_curve, 120),
};

TEST_MAIN(tests)
