// SPDX-License-Identifier: MIT
/*
 * Unit tests of the scenario format: every directive and option parsed
 * into the in-memory scenario, every error message exactly as a user sees
 * it ("FILE:LINE: message"), and every shipped example scenario parses.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "scenario.h"
#include "test.h"

static char err[512];

static struct epcg_scenario *parse_ok(const char *text)
{
	struct epcg_scenario *sc = NULL;
	int r = epcg_scenario_parse("t.scn", text, strlen(text), &sc, err,
				    sizeof(err));

	if (r)
		epcg_test_fail(__FILE__, __LINE__, "parse failed: %s", err);
	return sc;
}

/* The error of parsing @text, exactly. */
static const char *parse_err(const char *text)
{
	struct epcg_scenario *sc = NULL;
	int r = epcg_scenario_parse("t.scn", text, strlen(text), &sc, err,
				    sizeof(err));

	ASSERT_ERR(r, EINVAL);
	ASSERT_NULL(sc);
	return err;
}

TEST(sizes)
{
	uint64_t v;

	ASSERT_OK(epcg_scenario_parse_size("4096", &v));
	ASSERT_U64_EQ(v, 4096);
	ASSERT_OK(epcg_scenario_parse_size("64M", &v));
	ASSERT_U64_EQ(v, 64ull << 20);
	ASSERT_OK(epcg_scenario_parse_size("1Mi", &v));
	ASSERT_U64_EQ(v, 1ull << 20);
	ASSERT_OK(epcg_scenario_parse_size("16k", &v));
	ASSERT_U64_EQ(v, 16384);
	ASSERT_OK(epcg_scenario_parse_size("2Gi", &v));
	ASSERT_U64_EQ(v, 2ull << 30);
	ASSERT_OK(epcg_scenario_parse_size("1T", &v));
	ASSERT_U64_EQ(v, 1ull << 40);
	ASSERT_ERR(epcg_scenario_parse_size("", &v), EINVAL);
	ASSERT_ERR(epcg_scenario_parse_size("-1", &v), EINVAL);
	ASSERT_ERR(epcg_scenario_parse_size("12Q", &v), EINVAL);
	ASSERT_ERR(epcg_scenario_parse_size("M", &v), EINVAL);
	ASSERT_ERR(epcg_scenario_parse_size("99999999999999T", &v), EINVAL);
	ASSERT_ERR(epcg_scenario_parse_size("99999999999999999999", &v),
		   EINVAL);
}

TEST(times)
{
	uint64_t v;

	ASSERT_OK(epcg_scenario_parse_time("0", &v));
	ASSERT_U64_EQ(v, 0);
	ASSERT_OK(epcg_scenario_parse_time("250ms", &v));
	ASSERT_U64_EQ(v, 250000000);
	ASSERT_OK(epcg_scenario_parse_time("40us", &v));
	ASSERT_U64_EQ(v, 40000);
	ASSERT_OK(epcg_scenario_parse_time("2s", &v));
	ASSERT_U64_EQ(v, 2000000000);
	ASSERT_OK(epcg_scenario_parse_time("7ns", &v));
	ASSERT_U64_EQ(v, 7);
	ASSERT_ERR(epcg_scenario_parse_time("5", &v), EINVAL);
	ASSERT_ERR(epcg_scenario_parse_time("1.5s", &v), EINVAL);
	ASSERT_ERR(epcg_scenario_parse_time("3min", &v), EINVAL);
	ASSERT_ERR(epcg_scenario_parse_time("99999999999s", &v), EINVAL);
}

TEST(machine_directives)
{
	struct epcg_scenario *sc = parse_ok(
		"# a comment line\n"
		"   \n"
		"epc 128M sections 2   # trailing comment\n"
		"policy intent\n"
		"seed 99\n"
		"duration 3s\n"
		"workers 4\n"
		"cost ewb 7us eldu 8us\n"
		"cost einit 1ms\n");

	ASSERT_EQ(sc->nr_secs, 2);
	ASSERT_U64_EQ(sc->secs[0].size, 64ull << 20);
	ASSERT_U64_EQ(sc->secs[1].size, 64ull << 20);
	ASSERT_EQ(sc->secs[1].node, 1);
	ASSERT_EQ(sc->policy, EPCG_SGX_POLICY_INTENT);
	ASSERT_U64_EQ(sc->seed, 99);
	ASSERT_U64_EQ(sc->duration_ns, 3000000000ull);
	ASSERT_EQ(sc->workers, 4);
	ASSERT_U64_EQ(sc->cost_ns[EPCG_COST_EWB], 7000);
	ASSERT_U64_EQ(sc->cost_ns[EPCG_COST_ELDU], 8000);
	ASSERT_U64_EQ(sc->cost_ns[EPCG_COST_EINIT], 1000000);
	ASSERT_U64_EQ(sc->cost_ns[EPCG_COST_FAULT], 3000);	/* default */
	ASSERT_STREQ(sc->file, "t.scn");
	epcg_scenario_destroy(sc);
}

TEST(defaults)
{
	struct epcg_scenario *sc = parse_ok("epc 64M");

	ASSERT_EQ(sc->nr_secs, 1);
	ASSERT_EQ(sc->secs[0].node, 0);
	ASSERT_EQ(sc->policy, EPCG_SGX_POLICY_V17);
	ASSERT_U64_EQ(sc->seed, 1);
	ASSERT_U64_EQ(sc->duration_ns, 0);
	ASSERT_EQ(sc->workers, 2);
	ASSERT_EQ(sc->nr_cgroups + sc->nr_enclaves + sc->nr_events +
			  sc->nr_expects, 0);
	for (int i = 0; i < EPCG_COST_NR; i++)
		ASSERT_NOT_NULL(epcg_scenario_cost_name(i));
	ASSERT_NULL(epcg_scenario_cost_name(EPCG_COST_NR));
	epcg_scenario_destroy(sc);
}

TEST(sections)
{
	struct epcg_scenario *sc = parse_ok("section 32M node 1\n"
					    "section 16M\n"
					    "section 4096 node 7\n");

	ASSERT_EQ(sc->nr_secs, 3);
	ASSERT_U64_EQ(sc->secs[0].size, 32ull << 20);
	ASSERT_EQ(sc->secs[0].node, 1);
	ASSERT_EQ(sc->secs[1].node, 1);		/* default: its index */
	ASSERT_U64_EQ(sc->secs[2].size, 4096);
	ASSERT_EQ(sc->secs[2].node, 7);
	epcg_scenario_destroy(sc);
}

TEST(cgroups)
{
	struct epcg_scenario *sc = parse_ok("epc 64M\n"
					    "cgroup /a max 32M\n"
					    "cgroup /a/b max max\n"
					    "cgroup /a/b/c max 100\n"
					    "cgroup /d\n");

	ASSERT_EQ(sc->nr_cgroups, 4);
	ASSERT_STREQ(sc->cgroups[0].path, "/a");
	ASSERT_EQ(sc->cgroups[0].parent, -1);
	ASSERT_U64_EQ(sc->cgroups[0].max, 32ull << 20);
	ASSERT_EQ(sc->cgroups[1].parent, 0);
	ASSERT_U64_EQ(sc->cgroups[1].max, EPCG_SCENARIO_MAX);
	ASSERT_EQ(sc->cgroups[2].parent, 1);
	ASSERT_U64_EQ(sc->cgroups[2].max, 100);	/* not page-rounded (M5) */
	ASSERT_EQ(sc->cgroups[3].parent, -1);
	ASSERT_U64_EQ(sc->cgroups[3].max, EPCG_SCENARIO_MAX);
	ASSERT_EQ(sc->cgroups[3].line, 5);
	epcg_scenario_destroy(sc);
}

TEST(enclaves)
{
	struct epcg_scenario *sc = parse_ok(
		"epc 64M\n"
		"cgroup /a\n"
		"enclave one size 8M\n"
		"enclave two size 1Mi threads 4 tcs 6 edmm on cgroup /a "
		"pid 77 start 250ms\n"
		"enclave many size 4096 count 3 cgroup / edmm off start never\n"
		"at 1s start many\n");
	struct epcg_scenario_enclave *e = sc->enclaves;

	ASSERT_EQ(sc->nr_enclaves, 5);
	ASSERT_STREQ(e[0].name, "one");
	ASSERT_STREQ(e[0].group, "one");
	ASSERT_U64_EQ(e[0].size, 8ull << 20);
	ASSERT_EQ(e[0].threads, 1);
	ASSERT_EQ(e[0].tcs, 1);
	ASSERT_FALSE(e[0].edmm);
	ASSERT_EQ(e[0].cgroup, -1);
	ASSERT_EQ(e[0].pid, 1000);
	ASSERT_U64_EQ(e[0].start_ns, 0);
	ASSERT_EQ(e[0].wl.line, 0);
	ASSERT_EQ(e[0].wl.pattern, EPCG_PATTERN_UNIFORM);
	ASSERT_EQ(e[1].threads, 4);
	ASSERT_EQ(e[1].tcs, 6);
	ASSERT_TRUE(e[1].edmm);
	ASSERT_EQ(e[1].cgroup, 0);
	ASSERT_EQ(e[1].pid, 77);
	ASSERT_U64_EQ(e[1].start_ns, 250000000);
	ASSERT_STREQ(e[2].name, "many.1");
	ASSERT_STREQ(e[4].name, "many.3");
	ASSERT_STREQ(e[4].group, "many");
	ASSERT_EQ(e[4].pid, 1004);
	ASSERT_U64_EQ(e[4].start_ns, EPCG_SCENARIO_NEVER);
	ASSERT_EQ(sc->nr_events, 3);
	ASSERT_EQ(sc->events[2].kind, EPCG_EVENT_START);
	ASSERT_EQ(sc->events[2].enclave, 4);
	epcg_scenario_destroy(sc);
}

TEST(workloads)
{
	struct epcg_scenario *sc = parse_ok(
		"epc 64M\n"
		"enclave u size 16M\n"
		"workload u uniform accesses 1000 think 2us ws 8M offset 4M\n"
		"enclave z size 16M\n"
		"workload z zipf:0.99 duration 2s\n"
		"enclave z1 size 16M\n"
		"workload z1 zipf\n"
		"enclave s size 16M count 2\n"
		"workload s scan\n"
		"enclave t size 16M\n"
		"workload t trace traces/a.csv format csv column 3 "
		"delimiter ; header yes loop accesses 10\n"
		"enclave a size 16M\n"
		"workload a trace /abs/x.txt format addr base 0x400000 "
		"delimiter tab\n"
		"enclave d size 16M\n"
		"workload d trace d.txt delimiter space\n");
	struct epcg_scenario_enclave *e = sc->enclaves;

	ASSERT_EQ(e[0].wl.pattern, EPCG_PATTERN_UNIFORM);
	ASSERT_EQ(e[0].wl.line, 3);
	ASSERT_U64_EQ(e[0].wl.accesses, 1000);
	ASSERT_U64_EQ(e[0].wl.think_ns, 2000);
	ASSERT_U64_EQ(e[0].wl.size, 8ull << 20);
	ASSERT_U64_EQ(e[0].wl.offset, 4ull << 20);
	ASSERT_EQ(e[1].wl.pattern, EPCG_PATTERN_ZIPF);
	ASSERT_TRUE(e[1].wl.zipf_s > 0.989 && e[1].wl.zipf_s < 0.991);
	ASSERT_U64_EQ(e[1].wl.duration_ns, 2000000000ull);
	ASSERT_TRUE(e[2].wl.zipf_s == 1.0);
	ASSERT_EQ(e[3].wl.pattern, EPCG_PATTERN_SCAN);
	ASSERT_EQ(e[4].wl.pattern, EPCG_PATTERN_SCAN);	/* the group */
	ASSERT_EQ(e[5].wl.pattern, EPCG_PATTERN_TRACE);
	/* Relative to the scenario's directory ("t.scn": none). */
	ASSERT_STREQ(e[5].wl.trace_path, "traces/a.csv");
	ASSERT_EQ(e[5].wl.trace.format, EPCG_TRACE_CSV);
	ASSERT_EQ(e[5].wl.trace.id_col, 3);
	ASSERT_EQ(e[5].wl.trace.delim, ';');
	ASSERT_TRUE(e[5].wl.trace.header);
	ASSERT_TRUE(e[5].wl.loop);
	ASSERT_STREQ(e[6].wl.trace_path, "/abs/x.txt");
	ASSERT_EQ(e[6].wl.trace.format, EPCG_TRACE_ADDR);
	ASSERT_U64_EQ(e[6].wl.trace.base, 0x400000);
	ASSERT_EQ(e[6].wl.trace.delim, '\t');
	ASSERT_EQ(e[7].wl.trace.format, EPCG_TRACE_TXT);
	ASSERT_EQ(e[7].wl.trace.delim, ' ');
	ASSERT_EQ(e[7].wl.trace.id_col, 1);
	epcg_scenario_destroy(sc);
}

TEST(trace_paths_are_relative_to_the_scenario)
{
	static const char text[] = "epc 8M\nenclave t size 4M\n"
				   "workload t trace x/y.txt\n";
	struct epcg_scenario *sc;

	ASSERT_OK(epcg_scenario_parse("dir/sub/s.scn", text, strlen(text), &sc,
				      err, sizeof(err)));
	ASSERT_STREQ(sc->enclaves[0].wl.trace_path, "dir/sub/x/y.txt");
	epcg_scenario_destroy(sc);
	ASSERT_OK(epcg_scenario_parse("/s.scn", text, strlen(text), &sc, err,
				      sizeof(err)));
	ASSERT_STREQ(sc->enclaves[0].wl.trace_path, "/x/y.txt");
	epcg_scenario_destroy(sc);
}

TEST(phases)
{
	struct epcg_scenario *sc = parse_ok(
		"epc 64M\n"
		"enclave p size 32M count 2\n"
		"workload p phases loop duration 10s\n"
		"phase p 500ms uniform ws 8M\n"
		"phase p 1s zipf:1.5 ws 4M offset 16M think 300ns\n"
		"phase p 2s scan\n");
	struct epcg_workload *wl = &sc->enclaves[1].wl;

	ASSERT_EQ(wl->pattern, EPCG_PATTERN_PHASES);
	ASSERT_TRUE(wl->loop);
	ASSERT_EQ(wl->nr_phases, 3);
	ASSERT_U64_EQ(wl->phases[0].duration_ns, 500000000);
	ASSERT_U64_EQ(wl->phases[0].size, 8ull << 20);
	ASSERT_EQ(wl->phases[1].pattern, EPCG_PATTERN_ZIPF);
	ASSERT_TRUE(wl->phases[1].zipf_s == 1.5);
	ASSERT_U64_EQ(wl->phases[1].offset, 16ull << 20);
	ASSERT_U64_EQ(wl->phases[1].think_ns, 300);
	ASSERT_EQ(wl->phases[2].pattern, EPCG_PATTERN_SCAN);
	ASSERT_EQ(wl->phases[2].line, 6);
	ASSERT_EQ(sc->enclaves[0].wl.nr_phases, 3);
	epcg_scenario_destroy(sc);
}

TEST(events_sorted_stably)
{
	struct epcg_scenario *sc = parse_ok(
		"epc 64M\n"
		"cgroup /a max 8M\n"
		"cgroup /b\n"
		"enclave e size 4M count 2\n"
		"enclave late size 4M start never\n"
		"at 2s set /a max max\n"
		"at 1s kill e.2\n"
		"at 1s stop e\n"
		"at 500ms move e.1 /b\n"
		"at 500ms move e.2 /\n"
		"at 3s start late\n"
		"at 1s set /b max 1M\n"
		"at 4s expect cgroup /a current == 0\n");
	struct epcg_event *ev = sc->events;

	ASSERT_EQ(sc->nr_events, 9);
	ASSERT_EQ(ev[0].kind, EPCG_EVENT_MOVE);
	ASSERT_EQ(ev[0].enclave, 0);
	ASSERT_EQ(ev[0].cgroup, 1);
	ASSERT_EQ(ev[1].cgroup, -1);
	ASSERT_EQ(ev[2].kind, EPCG_EVENT_KILL);
	ASSERT_EQ(ev[2].enclave, 1);
	ASSERT_EQ(ev[3].kind, EPCG_EVENT_STOP);	/* one per instance */
	ASSERT_EQ(ev[3].enclave, 0);
	ASSERT_EQ(ev[4].kind, EPCG_EVENT_STOP);
	ASSERT_EQ(ev[4].enclave, 1);
	ASSERT_EQ(ev[5].kind, EPCG_EVENT_SET_MAX);
	ASSERT_U64_EQ(ev[5].value, 1ull << 20);
	ASSERT_EQ(ev[6].kind, EPCG_EVENT_SET_MAX);
	ASSERT_U64_EQ(ev[6].value, EPCG_SCENARIO_MAX);
	ASSERT_EQ(ev[7].kind, EPCG_EVENT_START);
	ASSERT_EQ(ev[7].enclave, 2);
	ASSERT_EQ(ev[8].kind, EPCG_EVENT_EXPECT);
	ASSERT_U64_EQ(ev[8].at_ns, 4000000000ull);
	ASSERT_EQ(ev[8].expect.metric, EPCG_METRIC_CURRENT);
	for (unsigned i = 1; i < sc->nr_events; i++)
		ASSERT_CMP(ev[i - 1].at_ns, <=, ev[i].at_ns);
	epcg_scenario_destroy(sc);
}

TEST(expectations)
{
	struct epcg_scenario *sc = parse_ok(
		"epc 64M\n"
		"cgroup /a\n"
		"enclave e size 4M count 3 cgroup /a\n"
		"enclave f size 4M\n"
		"expect cgroup /a peak <= 16M\n"
		"expect cgroup / current == 0\n"
		"expect cgroup /a max != max\n"
		"expect cgroup /a events > 1\n"
		"expect cgroup /a events_local < 2\n"
		"expect cgroup /a evictions >= 5\n"
		"expect cgroup /a reloads == 1\n"
		"expect cgroup /a faults == 1\n"
		"expect cgroup /a scans == 1\n"
		"expect cgroup /a enomem == 1\n"
		"expect cgroup /a sigbus == 1\n"
		"expect enclave f outcome ENOMEM\n"
		"expect enclave e outcome ok >= 2\n"
		"expect enclave e.2 outcome killed\n"
		"expect enclave f runtime < 2s\n"
		"expect enclave f accesses > 100\n"
		"expect enclave e faults == 0\n");
	struct epcg_expect *x = sc->expects;

	ASSERT_EQ(sc->nr_expects, 17);
	ASSERT_EQ(x[0].target, EPCG_TARGET_CGROUP);
	ASSERT_EQ(x[0].index, 0);
	ASSERT_EQ(x[0].metric, EPCG_METRIC_PEAK);
	ASSERT_EQ(x[0].cmp, EPCG_CMP_LE);
	ASSERT_U64_EQ(x[0].value, 16ull << 20);
	ASSERT_EQ(x[1].index, -1);
	ASSERT_EQ(x[1].cmp, EPCG_CMP_EQ);
	ASSERT_EQ(x[2].cmp, EPCG_CMP_NE);
	ASSERT_U64_EQ(x[2].value, EPCG_SCENARIO_MAX);
	ASSERT_EQ(x[3].cmp, EPCG_CMP_GT);
	ASSERT_EQ(x[4].cmp, EPCG_CMP_LT);
	ASSERT_EQ(x[5].cmp, EPCG_CMP_GE);
	ASSERT_EQ(x[5].metric, EPCG_METRIC_EVICTIONS);
	ASSERT_EQ(x[10].metric, EPCG_METRIC_SIGBUS);
	ASSERT_EQ(x[11].target, EPCG_TARGET_ENCLAVE);
	ASSERT_EQ(x[11].index, 3);
	ASSERT_EQ(x[11].outcome, EPCG_OUTCOME_ENOMEM);
	ASSERT_FALSE(x[11].counted);
	ASSERT_EQ(x[12].index, 0);
	ASSERT_EQ(x[12].count, 3);
	ASSERT_TRUE(x[12].counted);
	ASSERT_U64_EQ(x[12].value, 2);
	ASSERT_EQ(x[13].index, 1);
	ASSERT_EQ(x[13].count, 1);
	ASSERT_EQ(x[14].metric, EPCG_METRIC_RUNTIME);
	ASSERT_U64_EQ(x[14].value, 2000000000ull);
	ASSERT_EQ(x[15].metric, EPCG_METRIC_ACCESSES);
	ASSERT_EQ(x[16].count, 3);
	for (int i = 0; i < EPCG_METRIC_NR; i++)
		ASSERT_NOT_NULL(epcg_metric_name(i));
	for (int i = 0; i < EPCG_OUTCOME_NR; i++)
		ASSERT_NOT_NULL(epcg_outcome_name(i));
	for (int i = 0; i < EPCG_PATTERN_NR; i++)
		ASSERT_NOT_NULL(epcg_pattern_name(i));
	ASSERT_NULL(epcg_metric_name(EPCG_METRIC_NR));
	ASSERT_NULL(epcg_outcome_name(EPCG_OUTCOME_NR));
	ASSERT_NULL(epcg_pattern_name(EPCG_PATTERN_NR));
	epcg_scenario_destroy(sc);
}

TEST(crlf_and_no_final_newline)
{
	struct epcg_scenario *sc = parse_ok("epc 8M\r\ncgroup /a max 1M");

	ASSERT_EQ(sc->nr_cgroups, 1);
	ASSERT_U64_EQ(sc->cgroups[0].max, 1ull << 20);
	epcg_scenario_destroy(sc);
}

/* Every error message, exactly. */
static const struct {
	const char *text;
	const char *msg;
} errors[] = {
	/* values */
	{ "epc 12Q", "t.scn:1: bad size '12Q'" },
	{ "epc 8M\nduration 5", "t.scn:2: bad time '5' (use ns, us, ms or s)" },
	{ "epc 8M\nseed x1", "t.scn:2: bad number 'x1'" },
	{ "epc 8M sections 9", "t.scn:1: sections must be 1 to 8, not '9'" },
	{ "epc 8M\nworkers 0", "t.scn:2: workers must be 1 to 64, not '0'" },
	{ "epc 8M\nenclave e size 1M edmm maybe",
	  "t.scn:2: expected on or off, not 'maybe'" },
	{ "section 1000", "t.scn:1: EPC section size must be a non-zero "
			  "multiple of 4096" },
	{ "epc 8M\nenclave e size 4097",
	  "t.scn:2: enclave size must be a non-zero multiple of 4096" },
	/* lookups */
	{ "epc 8M\nenclave e size 1M cgroup /x",
	  "t.scn:2: unknown cgroup '/x'" },
	{ "epc 8M\nworkload x scan", "t.scn:2: unknown enclave 'x'" },
	/* machine */
	{ "epc 8M\nepc 8M", "t.scn:2: 'epc' given twice (first on line 1)" },
	{ "epc", "t.scn:1: 'epc' needs a size" },
	{ "epc 8M\npolicy v17 now",
	  "t.scn:2: unexpected 'now' after 'policy'" },
	{ "section 8M\nepc 8M", "t.scn:2: 'epc' and 'section' cannot be "
				"combined" },
	{ "epc 8M nodes 2", "t.scn:1: unexpected 'nodes' after 'epc'" },
	{ "epc 8M sections", "t.scn:1: option 'sections' needs a value" },
	{ "epc 12K sections 2", "t.scn:1: EPC size must split into 2 sections "
				"of a non-zero multiple of 4096 bytes" },
	{ "epc 8M\nsection 8M", "t.scn:2: 'epc' and 'section' cannot be "
				"combined" },
	{ "section 4K\nsection 4K\nsection 4K\nsection 4K\nsection 4K\n"
	  "section 4K\nsection 4K\nsection 4K\nsection 4K",
	  "t.scn:9: more than 8 sections" },
	{ "section 8M numa 1", "t.scn:1: unexpected 'numa' after 'section'" },
	{ "section 8M node", "t.scn:1: option 'node' needs a value" },
	{ "section 8M node 8", "t.scn:1: node must be 0 to 7, not '8'" },
	{ "epc 8M\npolicy fair", "t.scn:2: unknown policy 'fair' (v17 or "
				 "intent)" },
	{ "epc 8M\ncost ewb 1us ewx 2us", "t.scn:2: unknown cost 'ewx'" },
	{ "epc 8M\ncost ewb 1us eldu", "t.scn:2: cost 'eldu' needs a time" },
	{ "epc 8M\ncost ewb 1us\ncost ewb 2us",
	  "t.scn:3: cost 'ewb' given twice (first on line 2)" },
	{ "epc 8M\ncost ewb", "t.scn:2: 'cost' needs NAME TIME pairs" },
	/* cgroups */
	{ "epc 8M\ncgroup a", "t.scn:2: cgroup path must start with '/', not "
			      "'a'" },
	{ "epc 8M\ncgroup /", "t.scn:2: the root cgroup is always there and "
			      "has no limit" },
	{ "epc 8M\ncgroup /a//b", "t.scn:2: bad cgroup path '/a//b'" },
	{ "epc 8M\ncgroup /a/", "t.scn:2: bad cgroup path '/a/'" },
	{ "epc 8M\ncgroup /a\ncgroup /a max 1M",
	  "t.scn:3: cgroup '/a' declared twice (first on line 2)" },
	{ "epc 8M\ncgroup /a/b", "t.scn:2: cgroup '/a/b' declared before its "
				 "parent '/a'" },
	{ "epc 8M\ncgroup /a min 1M", "t.scn:2: unexpected 'min' after "
				      "'cgroup'" },
	{ "epc 8M\ncgroup /a max", "t.scn:2: option 'max' needs a value" },
	{ "epc 8M\ncgroup /a max 1M 2M", "t.scn:2: unexpected '2M' after "
					 "'cgroup'" },
	/* enclaves */
	{ "epc 8M\nenclave e size 1M color red",
	  "t.scn:2: unknown option 'color' for 'enclave'" },
	{ "epc 8M\nenclave e.x size 1M",
	  "t.scn:2: bad enclave name 'e.x' (letters, digits, '_' and '-', at "
	  "most 47)" },
	{ "epc 8M\nenclave e size 1M\nenclave e size 2M",
	  "t.scn:3: enclave 'e' declared twice (first on line 2)" },
	{ "epc 8M\nenclave e size", "t.scn:2: option 'size' needs a value" },
	{ "epc 8M\nenclave e threads 2", "t.scn:2: enclave 'e' needs a size" },
	{ "epc 8M\nenclave e size 1M threads 4 tcs 2",
	  "t.scn:2: tcs (2) is less than threads (4)" },
	{ "epc 8M\nenclave e size 1M threads 0",
	  "t.scn:2: threads must be 1 to 1024, not '0'" },
	{ "epc 8M\nenclave e size 1M count 2 pid 5",
	  "t.scn:2: 'pid' cannot be given with 'count'" },
	{ "epc 8M\nenclave", "t.scn:2: 'enclave' needs a name" },
	/* workloads */
	{ "epc 8M\nenclave e size 1M\nworkload e zipf:0",
	  "t.scn:3: zipf exponent must be a number above 0 (at most 100), "
	  "not '0'" },
	{ "epc 8M\nenclave e size 1M\nworkload e zipf:x",
	  "t.scn:3: zipf exponent must be a number above 0 (at most 100), "
	  "not 'x'" },
	{ "epc 8M\nenclave e size 1M\nworkload e random",
	  "t.scn:3: unknown access pattern 'random'" },
	{ "epc 8M\nenclave e size 1M\nworkload e scan ws 100",
	  "t.scn:3: offset and ws must be multiples of 4096" },
	{ "epc 8M\nenclave e size 1M\nworkload e scan ws 1M offset 4K",
	  "t.scn:3: working set (offset + ws) exceeds enclave 'e' (1048576 "
	  "bytes)" },
	{ "epc 8M\nenclave e size 1M\nworkload e trace x format bin",
	  "t.scn:3: unknown trace format 'bin' (txt, csv or addr)" },
	{ "epc 8M\nenclave e size 1M\nworkload e trace x delimiter ::",
	  "t.scn:3: delimiter must be one character, 'tab' or 'space', not "
	  "'::'" },
	{ "epc 8M\nenclave e size 1M\nworkload e trace x base 0xZZ",
	  "t.scn:3: bad address '0xZZ'" },
	{ "epc 8M\nenclave e size 1M\nworkload e trace x column 0",
	  "t.scn:3: column must be 1 to 64, not '0'" },
	{ "epc 8M\nenclave e size 1M\nworkload e scan column 2",
	  "t.scn:3: unknown option 'column' for 'workload'" },
	{ "epc 8M\nenclave e size 1M count 2\nworkload e.1 scan",
	  "t.scn:3: workloads are per enclave declaration: use 'e'" },
	{ "epc 8M\nenclave e size 1M\nworkload e scan\nworkload e uniform",
	  "t.scn:4: enclave 'e' already has a workload (line 3)" },
	{ "epc 8M\nenclave e size 1M\nworkload e trace",
	  "t.scn:3: 'trace' needs a file" },
	{ "epc 8M\nenclave e size 1M\nworkload e scan accesses",
	  "t.scn:3: option 'accesses' needs a value" },
	{ "epc 8M\nenclave e size 1M\nworkload e phases loop",
	  "t.scn:3: 'loop' needs 'accesses' or 'duration'" },
	{ "epc 8M\nenclave e size 1M\nworkload e scan loop accesses 5",
	  "t.scn:3: 'loop' is for phases and trace workloads" },
	{ "epc 8M\nenclave e size 1M\nworkload e",
	  "t.scn:3: 'workload' needs an enclave and a pattern" },
	/* phases */
	{ "epc 8M\nenclave e size 1M count 2\nworkload e phases\n"
	  "phase e.1 1s scan",
	  "t.scn:4: workloads are per enclave declaration: use 'e'" },
	{ "epc 8M\nenclave e size 1M\nworkload e scan\nphase e 1s scan",
	  "t.scn:4: 'phase' needs a 'workload e phases' line before it" },
	{ "epc 8M\nenclave e size 1M\nworkload e phases\nphase e 0 scan",
	  "t.scn:4: a phase must last longer than 0" },
	{ "epc 8M\nenclave e size 1M\nworkload e phases\nphase e 1s phases",
	  "t.scn:4: unknown access pattern 'phases'" },
	{ "epc 8M\nenclave e size 1M\nworkload e phases\nphase e 1s scan ws",
	  "t.scn:4: option 'ws' needs a value" },
	{ "epc 8M\nenclave e size 1M\nworkload e phases\n"
	  "phase e 1s scan rate 5",
	  "t.scn:4: unknown option 'rate' for 'phase'" },
	{ "epc 8M\nenclave e size 1M\nworkload e phases\n"
	  "phase e 1s scan ws 2M",
	  "t.scn:4: working set (offset + ws) exceeds enclave 'e' (1048576 "
	  "bytes)" },
	{ "epc 8M\nenclave e size 1M\nworkload e phases\nphase e 1s",
	  "t.scn:4: 'phase' needs an enclave, a duration and a pattern" },
	/* expectations */
	{ "epc 8M\ncgroup /a\nexpect cgroup /a current =< 0",
	  "t.scn:3: bad comparison '=<' (==, !=, <, <=, > or >=)" },
	{ "epc 8M\nexpect cgroup /",
	  "t.scn:2: 'expect' needs cgroup PATH METRIC OP VALUE or enclave "
	  "NAME outcome OUTCOME" },
	{ "epc 8M\nexpect process 1 current == 0",
	  "t.scn:2: expected 'cgroup' or 'enclave', not 'process'" },
	{ "epc 8M\nexpect cgroup / outcome == ok",
	  "t.scn:2: unknown metric 'outcome' for a cgroup" },
	{ "epc 8M\nenclave e size 1M\nexpect enclave e peak == 0",
	  "t.scn:3: unknown metric 'peak' for an enclave" },
	{ "epc 8M\nenclave e size 1M\nexpect enclave e outcome fine",
	  "t.scn:3: unknown outcome 'fine'" },
	{ "epc 8M\nenclave e size 1M\nexpect enclave e outcome ok >=",
	  "t.scn:3: an outcome is followed by nothing or by OP COUNT" },
	{ "epc 8M\nexpect cgroup / current == 0 bytes",
	  "t.scn:2: 'expect' needs cgroup PATH METRIC OP VALUE" },
	{ "epc 8M\nexpect cgroup / current == 1X",
	  "t.scn:2: bad size '1X'" },
	{ "epc 8M\nenclave e size 1M\nexpect enclave e runtime < 1",
	  "t.scn:3: bad time '1' (use ns, us, ms or s)" },
	{ "epc 8M\nexpect cgroup / events > 1M", "t.scn:2: bad number '1M'" },
	{ "epc 8M\nexpect cgroup /nope current == 0",
	  "t.scn:2: unknown cgroup '/nope'" },
	{ "epc 8M\nexpect enclave nope outcome ok",
	  "t.scn:2: unknown enclave 'nope'" },
	/* events */
	{ "epc 8M\nenclave e size 1M\nat 1s start e",
	  "t.scn:3: enclave 'e' has its own start time; declare it 'start "
	  "never' to start it with an event" },
	{ "epc 8M\ncgroup /a\nat 1s set /a limit 5",
	  "t.scn:3: 'set' needs CGROUP max VALUE" },
	{ "epc 8M\nat 1s set / max 5", "t.scn:2: the root cgroup has no "
				       "misc.max" },
	{ "epc 8M\nat 1s set /x max 5", "t.scn:2: unknown cgroup '/x'" },
	{ "epc 8M\ncgroup /a\nat 1s set /a max -1", "t.scn:3: bad size '-1'" },
	{ "epc 8M\nat 1s kill", "t.scn:2: 'kill' needs an enclave" },
	{ "epc 8M\nenclave e size 1M\nat 1s move e",
	  "t.scn:3: 'move' needs an enclave and a cgroup" },
	{ "epc 8M\nenclave e size 1M\nat 1s move e /x",
	  "t.scn:3: unknown cgroup '/x'" },
	{ "epc 8M\nat 1s reboot", "t.scn:2: unknown event 'reboot' (set, "
				  "start, stop, kill, move or expect)" },
	{ "epc 8M\nat 1s", "t.scn:2: 'at' needs a time and an event" },
	{ "epc 8M\nat 1 kill e",
	  "t.scn:2: bad time '1' (use ns, us, ms or s)" },
	{ "epc 8M\nat 1s expect cgroup / peak", "t.scn:2: 'expect' needs "
	  "cgroup PATH METRIC OP VALUE or enclave NAME outcome OUTCOME" },
	/* lines and the whole file */
	{ "epc 8M\nfrobnicate 3", "t.scn:2: unknown directive 'frobnicate'" },
	{ "epc 8M\nseed 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
	  "22 23 24 25 26 27 28 29 30 31 32",
	  "t.scn:2: too many words (at most 32)" },
	{ "", "t.scn: no EPC declared (add 'epc SIZE')" },
	{ "# only a comment\n", "t.scn: no EPC declared (add 'epc SIZE')" },
	{ "epc 8M\nenclave e size 1M\nworkload e phases",
	  "t.scn:3: workload of 'e' has no 'phase' lines" },
	{ "epc 8M\nenclave e size 1M start never",
	  "t.scn:2: enclave 'e' is 'start never' but no event starts it" },
};

TEST(every_error_message)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		const char *got = parse_err(errors[i].text);

		if (strcmp(got, errors[i].msg))
			epcg_test_fail(__FILE__, __LINE__,
				       "case %zu:\n#  want: %s\n#  got:  %s",
				       i, errors[i].msg, got);
	}
}

TEST(long_line_and_nul)
{
	static char text[6000];
	struct epcg_scenario *sc;

	memset(text, ' ', sizeof(text) - 1);
	memcpy(text, "epc 8M\n", 7);
	ASSERT_STREQ(parse_err(text),
		     "t.scn:2: line too long (over 4096 characters)");
	ASSERT_ERR(epcg_scenario_parse("t.scn", "epc 8M\n\0x", 9, &sc, err,
				       sizeof(err)), EINVAL);
	ASSERT_STREQ(err, "t.scn:2: NUL byte in line");
	ASSERT_ERR(epcg_scenario_parse("t.scn", "epc 8M", 6, NULL, err,
				       sizeof(err)), EINVAL);
	ASSERT_STREQ(err, "t.scn: invalid arguments");
	/* Unnamed input, a tiny error buffer: truncated, not overrun. */
	ASSERT_ERR(epcg_scenario_parse(NULL, "x", 1, &sc, err, 12), EINVAL);
	ASSERT_STREQ(err, "<scenario>:");
	ASSERT_ERR(epcg_scenario_parse(NULL, "x", 1, &sc, NULL, 0), EINVAL);
}

TEST(load_reports_the_file)
{
	struct epcg_scenario *sc;

	ASSERT_ERR(epcg_scenario_load("/nonexistent/x.scn", &sc, err,
				      sizeof(err)), ENOENT);
	ASSERT_STREQ(err, "/nonexistent/x.scn: No such file or directory");
	ASSERT_ERR(epcg_scenario_load(EPCG_TEST_DATA, &sc, err, sizeof(err)),
		   EINVAL);
	ASSERT_STREQ(err, EPCG_TEST_DATA ": not a regular file");
	ASSERT_ERR(epcg_scenario_load(EPCG_TEST_DATA "/ids.txt", &sc, err,
				      sizeof(err)), EINVAL);
	ASSERT_STREQ(err, EPCG_TEST_DATA "/ids.txt:2: unknown directive '3'");
}

TEST(shipped_scenarios_parse)
{
	struct dirent **names;
	char path[1024];
	int nr = scandir(EPCG_SCENARIOS, &names, NULL, alphasort);
	unsigned parsed = 0;

	ASSERT_TRUE(nr > 0);
	for (int i = 0; i < nr; i++) {
		const char *n = names[i]->d_name;
		size_t len = strlen(n);
		struct epcg_scenario *sc;

		if (len > 4 && !strcmp(n + len - 4, ".scn")) {
			snprintf(path, sizeof(path), "%s/%s", EPCG_SCENARIOS,
				 n);
			if (epcg_scenario_load(path, &sc, err, sizeof(err)))
				epcg_test_fail(__FILE__, __LINE__, "%s", err);
			ASSERT_TRUE(sc->nr_enclaves > 0);
			epcg_scenario_destroy(sc);
			parsed++;
		}
		free(names[i]);
	}
	free(names);
	ASSERT_CMP(parsed, >=, 7);
}

TEST(default_scenario_is_the_multi_tenant_node)
{
	struct epcg_scenario *sc;

	ASSERT_OK(epcg_scenario_load(EPCG_SCENARIOS "/default.scn", &sc, err,
				     sizeof(err)));
	ASSERT_EQ(sc->nr_secs, 2);
	ASSERT_U64_EQ(sc->secs[0].size + sc->secs[1].size, 128ull << 20);
	ASSERT_EQ(sc->nr_enclaves, 4);
	ASSERT_TRUE(sc->nr_events >= 3);
	epcg_scenario_destroy(sc);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(sizes),
	TEST_ENTRY(times),
	TEST_ENTRY(machine_directives),
	TEST_ENTRY(defaults),
	TEST_ENTRY(sections),
	TEST_ENTRY(cgroups),
	TEST_ENTRY(enclaves),
	TEST_ENTRY(workloads),
	TEST_ENTRY(trace_paths_are_relative_to_the_scenario),
	TEST_ENTRY(phases),
	TEST_ENTRY(events_sorted_stably),
	TEST_ENTRY(expectations),
	TEST_ENTRY(crlf_and_no_final_newline),
	TEST_ENTRY(every_error_message),
	TEST_ENTRY(long_line_and_nul),
	TEST_ENTRY(load_reports_the_file),
	TEST_ENTRY(shipped_scenarios_parse),
	TEST_ENTRY(default_scenario_is_the_multi_tenant_node),
};

TEST_MAIN(tests)
