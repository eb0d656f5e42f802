// SPDX-License-Identifier: MIT
/*
 * Unit tests of the files written from the results of a run: the CSV
 * time series byte for byte on small results built by hand, and the HTML
 * report's promises (self-contained, no script, every name escaped, one
 * plot per cgroup and two rate plots, long series reduced, equal results
 * giving equal bytes); the number formats the writers share; and write
 * errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "plot.h"
#include "report.h"
#include "results.h"
#include "test.h"

#define MIB (1024ull * 1024)

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	ASSERT_NOT_NULL(p);
	return p;
}

/*
 * Results with the root and @nr_cg - 1 children of it named @names, and
 * @nr samples 10 ms apart: usage grows by a MiB per sample, faults by
 * 10 and EWB by 20 per sample and level of the tree (the root counts its
 * children's).
 */
static struct epcg_results *make(unsigned nr_cg, const char *const *names,
				 unsigned nr)
{
	struct epcg_results *r = calloc(1, sizeof(*r));

	ASSERT_NOT_NULL(r);
	r->version = EPCG_RESULTS_VERSION;
	r->scenario = xstrdup("hand.scn");
	r->seed = 3;
	r->epc_bytes = 64 * MIB;
	r->nr_sections = 1;
	r->section_bytes[0] = 64 * MIB;
	r->virtual_ns = nr ? (uint64_t)(nr - 1) * 10000000 : 0;
	r->nr_cgroups = nr_cg;
	r->cgroups = calloc(nr_cg, sizeof(*r->cgroups));
	ASSERT_NOT_NULL(r->cgroups);
	for (unsigned c = 0; c < nr_cg; c++) {
		r->cgroups[c].path = xstrdup(c ? names[c - 1] : "/");
		r->cgroups[c].parent = c ? 0 : -1;
		r->cgroups[c].max = c == 1 ? 8 * MIB : EPCG_SCENARIO_MAX;
		r->cgroups[c].peak = (uint64_t)nr * MIB;
	}
	r->series.interval_ns = 10000000;
	r->series.nr = nr;
	r->series.t_ns = calloc(nr + 1, sizeof(uint64_t));
	r->series.s = calloc((size_t)nr * nr_cg + 1, sizeof(*r->series.s));
	ASSERT_NOT_NULL(r->series.t_ns);
	ASSERT_NOT_NULL(r->series.s);
	for (unsigned i = 0; i < nr; i++) {
		r->series.t_ns[i] = (uint64_t)i * 10000000;
		for (unsigned c = 0; c < nr_cg; c++) {
			struct epcg_result_sample *s =
				&r->series.s[(size_t)i * nr_cg + c];
			uint64_t k = c ? 1 : nr_cg - 1;

			s->current = (uint64_t)i * MIB * k;
			s->max = r->cgroups[c].max;
			s->faults = 10ull * i * k;
			s->ewb = 20ull * i * k;
			s->eldu = 10ull * i * k;
		}
	}
	return r;
}

/* What @fn writes for @r, as a string to free(). */
static char *render(int (*fn)(const struct epcg_results *, FILE *),
		    const struct epcg_results *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ASSERT_NOT_NULL(f);
	ASSERT_OK(fn(r, f));
	ASSERT_EQ(fclose(f), 0);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

TEST(csv_exact)
{
	static const char *const names[] = { "/a" };
	struct epcg_results *r = make(2, names, 3);
	char *csv;

	r->series.t_ns[2] = 15000000; /* the end of the run: 5 ms later */
	r->series.s[2 * 2 + 1].max = EPCG_SCENARIO_MAX; /* set ... max */
	csv = render(epcg_results_write_csv, r);
	ASSERT_STREQ(
		csv,
		"time_s,cgroup,current_bytes,max_bytes,faults_per_s,"
		"ewb_per_s,eldu_per_s,faults,ewb,eldu\n"
		"0,/,0,max,0.000,0.000,0.000,0,0,0\n"
		"0,/a,0,8388608,0.000,0.000,0.000,0,0,0\n"
		"0.01,/,1048576,max,1000.000,2000.000,1000.000,10,20,10\n"
		"0.01,/a,1048576,8388608,1000.000,2000.000,1000.000,10,20,10\n"
		"0.015,/,2097152,max,2000.000,4000.000,2000.000,20,40,20\n"
		"0.015,/a,2097152,max,2000.000,4000.000,2000.000,20,40,20\n");
	free(csv);
	epcg_results_destroy(r);
}

TEST(csv_quotes_odd_paths)
{
	static const char *const names[] = { "/a,b", "/q\"x" };
	struct epcg_results *r = make(3, names, 1);
	char *csv = render(epcg_results_write_csv, r);

	ASSERT_NOT_NULL(strstr(csv, "\n0,\"/a,b\",0,8388608,"));
	ASSERT_NOT_NULL(strstr(csv, "\n0,\"/q\"\"x\",0,max,"));
	free(csv);
	epcg_results_destroy(r);
}

TEST(csv_without_samples_is_a_header)
{
	struct epcg_results *r = make(1, NULL, 0);
	char *csv = render(epcg_results_write_csv, r);

	ASSERT_EQ(count(csv, "\n"), 1);
	free(csv);
	epcg_results_destroy(r);
}

static char *seconds(uint64_t ns)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ASSERT_NOT_NULL(f);
	epcg__seconds_write(f, ns);
	ASSERT_EQ(fclose(f), 0);
	return buf;
}

TEST(exact_seconds)
{
	static const struct {
		uint64_t ns;
		const char *s;
	} cases[] = {
		{ 0, "0" },
		{ 1, "0.000000001" },
		{ 10000000, "0.01" },
		{ 1500000000, "1.5" },
		{ 4055849900, "4.0558499" },
		{ 3000000000, "3" },
		{ UINT64_MAX, "18446744073.709551615" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = seconds(cases[i].ns);

		ASSERT_STREQ(s, cases[i].s);
		free(s);
	}
}

TEST(number_formats)
{
	char b[PLOT_LABEL_MAX], t[32];

	ASSERT_STREQ(plot_format(b, 24.0 * MIB, PLOT_UNIT_BYTES), "24 MiB");
	ASSERT_STREQ(plot_format(b, 512, PLOT_UNIT_BYTES), "512 bytes");
	ASSERT_STREQ(plot_format(b, 1.5, PLOT_UNIT_SECONDS), "1.5 s");
	ASSERT_STREQ(plot_format(b, 0.25, PLOT_UNIT_SECONDS), "250 ms");
	ASSERT_STREQ(plot_format(b, 12345, PLOT_UNIT_RATE), "12.35k/s");
	ASSERT_STREQ(plot_format(b, 1.25, PLOT_UNIT_RATIO), "1.25x");
	ASSERT_STREQ(epcg__size_format(t, EPCG_SCENARIO_MAX), "max");
	ASSERT_STREQ(epcg__size_format(t, 64 * MIB), "64M");
	ASSERT_STREQ(epcg__size_format(t, 4096), "4K");
	ASSERT_STREQ(epcg__size_format(t, 1000), "1000");
	ASSERT_STREQ(epcg__time_format(t, 4055849900), "4.056s");
	ASSERT_STREQ(epcg__time_format(t, 12000), "12.000us");
}

TEST(html_is_self_contained)
{
	static const char *const names[] = { "/web", "/db" };
	struct epcg_results *r = make(3, names, 50);
	char *html = render(epcg_results_write_html, r);

	ASSERT_TRUE(!strncmp(html, "<!DOCTYPE html>\n", 16));
	ASSERT_NOT_NULL(strstr(html, "<meta charset=\"utf-8\">"));
	ASSERT_NOT_NULL(strstr(html, "Content-Security-Policy\" "
				     "content=\"default-src 'none'"));
	ASSERT_NOT_NULL(strstr(html, "</html>\n"));
	/* Nothing to run, nothing to fetch. */
	ASSERT_NULL(strstr(html, "<script"));
	ASSERT_NULL(strstr(html, "javascript:"));
	ASSERT_NULL(strstr(html, "http:"));
	ASSERT_NULL(strstr(html, "https:"));
	ASSERT_NULL(strstr(html, " src="));
	ASSERT_NULL(strstr(html, "<link"));
	ASSERT_NULL(strstr(html, "@import"));
	ASSERT_EQ(count(html, "url("), count(html, "url(#"));
	/* A usage plot per cgroup, the two rate plots, all closed. */
	ASSERT_EQ(count(html, "<svg "), 3 + 2);
	ASSERT_EQ(count(html, "</svg>"), 3 + 2);
	ASSERT_NOT_NULL(strstr(html, "id=\"usage-2\""));
	ASSERT_NOT_NULL(strstr(html, "id=\"rate-ewb\""));
	ASSERT_NOT_NULL(strstr(html, "id=\"rate-faults\""));
	/* The limit of /web is drawn, as a dashed red step line. */
	ASSERT_NOT_NULL(strstr(html, "limit (misc.max)"));
	ASSERT_NOT_NULL(strstr(html, "stroke=\"#d62728\" stroke-width=\"2\" "
				     "stroke-dasharray=\"6 4\""));
	free(html);
	epcg_results_destroy(r);
}

TEST(html_escapes_names)
{
	static const char *const names[] = { "/<b>&\"x'" };
	struct epcg_results *r = make(2, names, 5);
	char *html;

	free(r->scenario);
	r->scenario = xstrdup("<script>alert(1)</script>.scn");
	html = render(epcg_results_write_html, r);
	ASSERT_NULL(strstr(html, "<script"));
	ASSERT_NULL(strstr(html, "<b>"));
	ASSERT_NOT_NULL(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ASSERT_NOT_NULL(strstr(html, "/&lt;b&gt;&amp;&quot;x&#39;"));
	free(html);
	epcg_results_destroy(r);
}

TEST(html_is_deterministic)
{
	static const char *const names[] = { "/a", "/a/b" };
	struct epcg_results *r = make(3, names, 200);
	char *one = render(epcg_results_write_html, r);
	char *two = render(epcg_results_write_html, r);

	ASSERT_STREQ(one, two);
	free(one);
	free(two);
	epcg_results_destroy(r);
}

/* The longest run of coordinate pairs in one points="..." attribute. */
static unsigned longest_polyline(const char *html)
{
	unsigned most = 0;

	for (const char *p = html; (p = strstr(p, "points=\"")); p++) {
		unsigned n = 1;

		for (p += 8; *p != '"'; p++)
			n += *p == ' ';
		if (n > most)
			most = n;
	}
	return most;
}

TEST(html_reduces_long_series)
{
	static const char *const names[] = { "/a" };
	struct epcg_results *r = make(2, names, 100000);
	char *html = render(epcg_results_write_html, r);
	unsigned most = longest_polyline(html);

	epcg_test_note("100000 samples: %zu bytes, longest line %u points",
		       strlen(html), most);
	ASSERT_CMP(most, >, 400);
	ASSERT_CMP(most, <=, 1002);
	ASSERT_CMP(strlen(html), <, 300000);
	free(html);
	epcg_results_destroy(r);
}

TEST(html_of_an_empty_run)
{
	struct epcg_results *r = make(1, NULL, 0);
	char *html = render(epcg_results_write_html, r);

	ASSERT_EQ(count(html, "<svg "), 3);
	ASSERT_NOT_NULL(strstr(html, ">no data</text>"));
	free(html);
	epcg_results_destroy(r);
}

TEST(write_errors)
{
	static const char *const names[] = { "/a" };
	struct epcg_results *r = make(2, names, 2000);
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		epcg_test_skip("no /dev/full");
	ASSERT_ERR(epcg_results_write_csv(r, f), EIO);
	clearerr(f);
	ASSERT_ERR(epcg_results_write_html(r, f), EIO);
	fclose(f);
	ASSERT_ERR(epcg_results_write_csv(NULL, stdout), EINVAL);
	ASSERT_ERR(epcg_results_write_html(r, NULL), EINVAL);
	epcg_results_destroy(r);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(csv_exact),
	TEST_ENTRY(csv_quotes_odd_paths),
	TEST_ENTRY(csv_without_samples_is_a_header),
	TEST_ENTRY(exact_seconds),
	TEST_ENTRY(number_formats),
	TEST_ENTRY(html_is_self_contained),
	TEST_ENTRY(html_escapes_names),
	TEST_ENTRY(html_is_deterministic),
	TEST_ENTRY(html_reduces_long_series),
	TEST_ENTRY(html_of_an_empty_run),
	TEST_ENTRY(write_errors),
};

TEST_MAIN(tests)
