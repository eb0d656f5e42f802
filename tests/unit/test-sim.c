// SPDX-License-Identifier: MIT
/*
 * Unit tests of the simulator (sim/sim.c, docs/simulator.md): runs are
 * deterministic to the byte; every kind of expectation passes and fails
 * when it should; every shipped scenario runs and its expectations hold;
 * the ENOMEM, SIGBUS, killed, stopped and running outcomes appear exactly
 * where the limits' arithmetic puts them; the JSON writer escapes what it
 * must; and the simulator agrees with the live model on outcomes and
 * misc.current/misc.peak for scenarios small enough to run both ways.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>

#include "results.h"
#include "scenario.h"
#include "sim.h"
#include "test.h"

#define PG 4096ull
#define KIB 1024ull
#define MIB (1024ull * 1024)
#define RES EPCG_MISC_RES_SGX_EPC

static char err[512];

static struct epcg_scenario *parse(const char *text)
{
	struct epcg_scenario *sc = NULL;

	if (epcg_scenario_parse("t.scn", text, strlen(text), &sc, err,
				sizeof(err)))
		epcg_test_fail(__FILE__, __LINE__, "parse: %s", err);
	return sc;
}

static struct epcg_results *run_sc(const struct epcg_scenario *sc)
{
	struct epcg_results *r = NULL;
	int rc = epcg_sim_run(sc, NULL, &r, err, sizeof(err));

	if (rc)
		epcg_test_fail(__FILE__, __LINE__, "run: %s (%s)", err,
			       epcg_test_errname(rc));
	ASSERT_NOT_NULL(r);
	return r;
}

static struct epcg_results *run_text(const char *text)
{
	struct epcg_scenario *sc = parse(text);
	struct epcg_results *r = run_sc(sc);

	epcg_scenario_destroy(sc);
	return r;
}

static char *json_of(const struct epcg_results *r, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ASSERT_NOT_NULL(f);
	ASSERT_OK(epcg_results_write_json(r, f));
	ASSERT_EQ(fclose(f), 0);
	return buf;
}

static const struct epcg_result_enclave *
encl_named(const struct epcg_results *r, const char *name)
{
	for (unsigned i = 0; i < r->nr_enclaves; i++)
		if (!strcmp(r->enclaves[i].name, name))
			return &r->enclaves[i];
	epcg_test_fail(__FILE__, __LINE__, "no enclave %s", name);
}

static const struct epcg_result_cgroup *cg_named(const struct epcg_results *r,
						 const char *path)
{
	for (unsigned i = 0; i < r->nr_cgroups; i++)
		if (!strcmp(r->cgroups[i].path, path))
			return &r->cgroups[i];
	epcg_test_fail(__FILE__, __LINE__, "no cgroup %s", path);
}

/* Every expectation's verdict must be what its text's last word says. */
static void assert_verdicts(const struct epcg_results *r, unsigned want_nr)
{
	ASSERT_EQ(r->nr_expects, want_nr);
	for (unsigned i = 0; i < r->nr_expects; i++) {
		const struct epcg_result_expect *x = &r->expects[i];

		if (i && x->line <= r->expects[i - 1].line)
			epcg_test_fail(__FILE__, __LINE__,
				       "expectations out of line order");
		epcg_test_note("line %d: %s %s (%s)", x->line, x->text,
			       x->passed ? "PASS" : "FAIL", x->detail);
	}
}

/* ---- determinism ---- */

/* Threads, faults at a limit, a kill, a limit change, a move. */
static const char busy_scn[] =
	"epc 8M sections 2\n"
	"seed 5\n"
	"duration 200ms\n"
	"cgroup /a max 2M\n"
	"cgroup /b max 3M\n"
	"enclave x size 4M threads 3 cgroup /a\n"
	"workload x zipf:0.9 duration 1s think 20us\n"
	"enclave y size 2M threads 2 cgroup /b start 20ms\n"
	"workload y uniform duration 150ms think 20us\n"
	"enclave z size 1M cgroup /b start 10ms\n"
	"workload z scan duration 1s think 5us\n"
	"at 50ms set /a max 1M\n"
	"at 80ms kill z\n"
	"at 100ms move y /a\n"
	"at 150ms expect cgroup /a current <= 3M\n";

TEST(same_seed_same_json_bytes)
{
	struct epcg_scenario *sc = parse(busy_scn);
	struct epcg_results *a = run_sc(sc), *b = run_sc(sc), *c;
	size_t la, lb, lc;
	char *ja = json_of(a, &la), *jb = json_of(b, &lb), *jc;

	ASSERT_CMP(a->machine.ewb, >, 100);
	ASSERT_CMP(a->machine.faults, >, 100);
	ASSERT_EQ(la, lb);
	ASSERT_MEMEQ(ja, jb, la);
	/* Another seed, another run. */
	sc->seed = 6;
	c = run_sc(sc);
	jc = json_of(c, &lc);
	ASSERT_TRUE(la != lc || memcmp(ja, jc, la));
	free(ja);
	free(jb);
	free(jc);
	epcg_results_destroy(a);
	epcg_results_destroy(b);
	epcg_results_destroy(c);
	epcg_scenario_destroy(sc);
}

TEST(table_is_deterministic_too)
{
	struct epcg_scenario *sc = parse(busy_scn);
	struct epcg_results *a = run_sc(sc), *b = run_sc(sc);
	char *ta = NULL, *tb = NULL;
	size_t la, lb;
	FILE *f;

	f = open_memstream(&ta, &la);
	ASSERT_OK(epcg_results_print_table(a, f, EPCG_TABLE_ALL));
	fclose(f);
	f = open_memstream(&tb, &lb);
	ASSERT_OK(epcg_results_print_table(b, f, EPCG_TABLE_ALL));
	fclose(f);
	ASSERT_EQ(la, lb);
	ASSERT_MEMEQ(ta, tb, la);
	ASSERT_NOT_NULL(strstr(ta, "policy v17  seed 5 "));
	ASSERT_NOT_NULL(strstr(ta, "\nz "));
	free(ta);
	free(tb);
	epcg_results_destroy(a);
	epcg_results_destroy(b);
	epcg_scenario_destroy(sc);
}

TEST(quantum_and_interval_do_not_change_outcomes)
{
	struct epcg_scenario *sc = parse(busy_scn);
	struct epcg_sim_opts fine = { .quantum_ns = 5000,
				      .sample_ns = 1000000 };
	struct epcg_results *a = run_sc(sc), *b = NULL;

	ASSERT_OK(epcg_sim_run(sc, &fine, &b, err, sizeof(err)));
	for (unsigned i = 0; i < a->nr_enclaves; i++)
		ASSERT_EQ(a->enclaves[i].outcome, b->enclaves[i].outcome);
	ASSERT_U64_EQ(b->series.interval_ns, 1000000);
	ASSERT_CMP(b->series.nr, >, a->series.nr);
	epcg_results_destroy(a);
	epcg_results_destroy(b);
	epcg_scenario_destroy(sc);
}

/* ---- expectations ---- */

/*
 * One scenario, every metric: each line has a twin that must fail, so the
 * verdicts alternate pass, fail.  "ok" enclave o: 256 pages under 2M, no
 * faults.  "nom" asks 512 pages of a 12K limit: VA + SECS + one page is
 * all that fits, so the 512th page (which needs a second VA page) finds
 * nothing reclaimable: ENOMEM.  "bus" is built under 2M, then its limit
 * drops to 8K and "thief" (same cgroup) evicts it all to make room for
 * its own VA and SECS: its next touch has nothing to reclaim: SIGBUS.
 */
static const char kinds_scn[] =
	"epc 8M\n"
	"duration 1s\n"
	"cgroup /ok max 2M\n"
	"cgroup /nom max 12K\n"
	"cgroup /bus max 2M\n"
	"enclave o size 1M cgroup /ok\n"
	"workload o scan accesses 512 think 10us\n"
	"enclave nom size 2M cgroup /nom\n"
	"enclave bus size 1M cgroup /bus\n"
	"workload bus scan accesses 2000 think 100us\n"
	"enclave thief size 1M cgroup /bus start 50ms\n"
	"enclave w count 3 size 64K cgroup /ok start 2s\n"
	"at 40ms set /bus max 8K\n"
	"at 30ms expect cgroup /bus current >= 1M\n" /* 14 */
	"at 30ms expect cgroup /bus current < 1M\n"
	"at 2s expect cgroup /ok current == 0\n" /* 16: not reached */
	"# from here on, pairs: pass on even lines, fail on odd ones\n"
	"expect cgroup /ok peak == 1032K\n" /* 18 */
	"expect cgroup /ok peak != 1032K\n"
	"expect cgroup /ok max == 2M\n"
	"expect cgroup / max < max\n"
	"expect cgroup /nom events >= 1\n"
	"expect cgroup /nom events == 0\n"
	"expect cgroup /nom events_local > 0\n"
	"expect cgroup /ok events_local > 0\n"
	"expect cgroup /bus evictions >= 256\n"
	"expect cgroup /ok evictions > 0\n"
	"expect cgroup / reloads >= 0\n"
	"expect cgroup / reloads < 0\n"
	"expect cgroup /ok faults == 0\n"
	"expect cgroup /bus faults == 0\n"
	"expect cgroup /nom scans >= 1\n"
	"expect cgroup /ok scans >= 1\n"
	"expect cgroup /nom enomem == 1\n"
	"expect cgroup /bus enomem == 0\n"
	"expect cgroup /bus sigbus == 1\n"
	"expect cgroup /ok sigbus == 1\n"
	"expect enclave o accesses == 512\n"
	"expect enclave o accesses == 511\n"
	"expect enclave o runtime >= 5ms\n"
	"expect enclave o runtime > 1s\n"
	"expect enclave bus evictions >= 256\n"
	"expect enclave o evictions != 0\n"
	"expect enclave bus faults >= 1\n"
	"expect enclave o faults >= 1\n"
	"expect enclave bus reloads <= 1\n"
	"expect enclave bus reloads > 1\n"
	"expect enclave o outcome ok\n"
	"expect enclave o outcome killed\n"
	"expect enclave nom outcome ENOMEM\n"
	"expect enclave nom outcome SIGBUS\n"
	"expect enclave bus outcome SIGBUS\n"
	"expect enclave bus outcome ok\n"
	"expect enclave thief outcome failed\n"
	"expect enclave bus outcome stopped\n"
	"expect enclave w outcome running == 3\n"
	"expect enclave w outcome running < 3\n"
	"expect enclave w accesses == 0\n"
	"expect enclave w accesses != 0\n";

TEST(every_expectation_kind_passes_and_fails)
{
	struct epcg_results *r = run_text(kinds_scn);

	assert_verdicts(r, 45);
	for (unsigned i = 0; i < r->nr_expects; i++) {
		const struct epcg_result_expect *x = &r->expects[i];
		bool want = x->line == 16 ? false : (x->line % 2 == 0);

		if (x->passed != want)
			epcg_test_fail(__FILE__, __LINE__,
				       "line %d (%s): %s, want %s (%s)",
				       x->line, x->text,
				       x->passed ? "passed" : "failed",
				       want ? "pass" : "fail", x->detail);
	}
	ASSERT_EQ(r->nr_failed, 23);
	/* The timed check after the end was never made. */
	ASSERT_FALSE(r->expects[2].reached);
	ASSERT_STREQ(r->expects[2].detail, "not reached (the run ended at "
					   "1s)");
	ASSERT_TRUE(r->expects[0].timed && r->expects[0].reached);
	ASSERT_U64_EQ(r->expects[0].at_ns, 30000000);
	ASSERT_STREQ(r->expects[3].text, "cgroup /ok peak == 1032K");
	ASSERT_STREQ(r->expects[3].detail, "was 1032K");
	epcg_results_destroy(r);
}

/* ---- outcomes where the arithmetic puts them ---- */

TEST(enomem_exactly_where_the_va_page_does_not_fit)
{
	/* 12K = VA + SECS + one page; 511 pages need one VA page, 512 two. */
	struct epcg_results *r = run_text("epc 4M\n"
					  "cgroup /a max 12K\n"
					  "cgroup /b max 12K\n"
					  "enclave fits size 2044K cgroup /a\n"
					  "workload fits scan accesses 600\n"
					  "enclave nope size 2M cgroup /b\n");
	const struct epcg_result_enclave *fits = encl_named(r, "fits");
	const struct epcg_result_enclave *nope = encl_named(r, "nope");

	ASSERT_EQ(fits->outcome, EPCG_OUTCOME_OK);
	ASSERT_U64_EQ(fits->pages, 511);
	ASSERT_U64_EQ(fits->accesses, 600);
	ASSERT_CMP(fits->faults, >=, 500);
	ASSERT_EQ(nope->outcome, EPCG_OUTCOME_ENOMEM);
	ASSERT_EQ(nope->error, -ENOMEM);
	ASSERT_U64_EQ(nope->pages, 511);
	ASSERT_U64_EQ(nope->accesses, 0);
	ASSERT_U64_EQ(cg_named(r, "/a")->peak, 12 * KIB);
	ASSERT_U64_EQ(cg_named(r, "/b")->peak, 12 * KIB);
	ASSERT_U64_EQ(cg_named(r, "/b")->total.enomem, 1);
	ASSERT_U64_EQ(cg_named(r, "/")->current, 0);
	epcg_results_destroy(r);
}

TEST(sigbus_when_a_fault_has_nothing_to_reclaim)
{
	struct epcg_results *r = run_text(kinds_scn);
	const struct epcg_result_enclave *bus = encl_named(r, "bus");
	const struct epcg_result_enclave *thief = encl_named(r, "thief");
	const struct epcg_result_cgroup *cg = cg_named(r, "/bus");

	ASSERT_EQ(bus->outcome, EPCG_OUTCOME_SIGBUS);
	ASSERT_EQ(bus->error, -EFAULT);
	ASSERT_U64_EQ(bus->sigbus, 1);
	ASSERT_CMP(bus->ewb, >=, 256);
	ASSERT_EQ(thief->outcome, EPCG_OUTCOME_ENOMEM);
	/* 256 pages + VA + SECS before the drop; nothing after. */
	ASSERT_U64_EQ(cg->peak, 258 * PG);
	ASSERT_U64_EQ(cg->current, 0);
	ASSERT_U64_EQ(cg->total.sigbus, 1);
	ASSERT_U64_EQ(cg->max, 8 * KIB);
	epcg_results_destroy(r);
}

TEST(killed_stopped_and_running)
{
	struct epcg_results *r =
		run_text("epc 8M\n"
			 "duration 100ms\n"
			 "cgroup /k max 4M\n"
			 "enclave k size 1M threads 2 cgroup /k\n"
			 "workload k uniform duration 1s think 1us\n"
			 "enclave early size 1M cgroup /k start 50ms\n"
			 "enclave building size 8M cgroup /k start 60ms\n"
			 "enclave s size 1M start 10ms\n"
			 "workload s scan duration 1s think 1us\n"
			 "enclave run size 1M start 20ms\n"
			 "workload run scan duration 1s think 1us\n"
			 "at 30ms kill k\n"
			 "at 40ms kill early\n"
			 "at 40ms stop s\n"
			 "at 61ms kill building\n"
			 "at 45ms expect cgroup /k current == 0\n");
	const struct epcg_result_enclave *k = encl_named(r, "k");
	const struct epcg_result_enclave *early = encl_named(r, "early");
	const struct epcg_result_enclave *building = encl_named(r, "building");
	const struct epcg_result_enclave *s = encl_named(r, "s");
	const struct epcg_result_enclave *run = encl_named(r, "run");

	ASSERT_EQ(k->outcome, EPCG_OUTCOME_KILLED);
	ASSERT_U64_EQ(k->end_ns, 30000000);
	ASSERT_U64_EQ(k->virtual_ns, 30000000);
	ASSERT_CMP(k->accesses, >, 1000);
	/* Killed before it started: it never did. */
	ASSERT_EQ(early->outcome, EPCG_OUTCOME_KILLED);
	ASSERT_U64_EQ(early->start_ns, EPCG_SCENARIO_NEVER);
	ASSERT_U64_EQ(early->virtual_ns, 0);
	/* Killed while adding its pages. */
	ASSERT_EQ(building->outcome, EPCG_OUTCOME_KILLED);
	ASSERT_CMP(building->pages, <, 2048);
	ASSERT_EQ(s->outcome, EPCG_OUTCOME_STOPPED);
	ASSERT_CMP(s->end_ns, >=, 40000000);
	ASSERT_CMP(s->end_ns, <, 41000000);
	/* Still at work at the end of the run. */
	ASSERT_EQ(run->outcome, EPCG_OUTCOME_RUNNING);
	ASSERT_U64_EQ(run->end_ns, 100000000);
	ASSERT_EQ(r->end, EPCG_RESULTS_END_DURATION);
	ASSERT_U64_EQ(r->virtual_ns, 100000000);
	/* The kill gave every charge back (E12). */
	ASSERT_TRUE(r->expects[0].passed);
	ASSERT_U64_EQ(cg_named(r, "/k")->current, 0);
	ASSERT_EQ(r->nr_events, 4);
	ASSERT_STREQ(r->events[0].text, "kill k");
	ASSERT_STREQ(r->events[2].text, "stop s");
	epcg_results_destroy(r);
}

TEST(a_move_leaves_charges_where_they_were_made)
{
	/* "m" adds 1M in /from, moves, then grows by EAUG in /to. */
	struct epcg_results *r =
		run_text("epc 16M\n"
			 "cgroup /from\n"
			 "cgroup /to\n"
			 "enclave m size 2M edmm on cgroup /from\n"
			 "workload m scan accesses 512 think 100us\n"
			 "at 20ms move m /to\n"
			 "at 15ms expect cgroup /from current "
			 "<= 1M\n"
			 "at 45ms expect cgroup /to current >= "
			 "512K\n"
			 "at 45ms expect cgroup /from current "
			 "<= 1M\n");
	const struct epcg_result_enclave *m = encl_named(r, "m");

	ASSERT_EQ(m->outcome, EPCG_OUTCOME_OK);
	ASSERT_EQ(m->cgroup, 2); /* "/to" */
	ASSERT_EQ(r->nr_failed, 0);
	ASSERT_CMP(cg_named(r, "/from")->peak, <=, MIB);
	ASSERT_CMP(cg_named(r, "/to")->peak, >=, 512 * KIB);
	epcg_results_destroy(r);
}

TEST(series_samples_every_cgroup_at_the_interval)
{
	struct epcg_scenario *sc = parse(busy_scn);
	struct epcg_sim_opts opts = { .sample_ns = 25000000 };
	struct epcg_results *r = NULL;

	ASSERT_OK(epcg_sim_run(sc, &opts, &r, err, sizeof(err)));
	ASSERT_EQ(r->series.nr, 9); /* 0, 25, ..., 200 ms */
	for (unsigned i = 0; i < r->series.nr; i++) {
		ASSERT_U64_EQ(r->series.t_ns[i], i * 25000000ull);
		for (unsigned c = 0; c < r->nr_cgroups; c++) {
			const struct epcg_result_sample *s =
				epcg_result_sample_at(r, i, c);

			ASSERT_CMP(s->current, <=, r->epc_bytes);
			if (i) {
				const struct epcg_result_sample *p =
					epcg_result_sample_at(r, i - 1, c);

				ASSERT_CMP(s->ewb, >=, p->ewb);
				ASSERT_CMP(s->faults, >=, p->faults);
			}
		}
	}
	/* /a's limit as it changed at 50 ms. */
	ASSERT_U64_EQ(epcg_result_sample_at(r, 1, 1)->max, 2 * MIB);
	ASSERT_U64_EQ(epcg_result_sample_at(r, 2, 1)->max, 1 * MIB);
	ASSERT_U64_EQ(epcg_result_sample_at(r, 0, 0)->max, EPCG_SCENARIO_MAX);
	ASSERT_TRUE(epcg_result_rate(0, 10, 0, 1000000000) == 10.0);
	ASSERT_TRUE(epcg_result_rate(5, 5, 7, 7) == 0.0);
	epcg_results_destroy(r);
	epcg_scenario_destroy(sc);
}

TEST(errors_name_the_scenario_line)
{
	struct epcg_scenario *sc = parse("epc 1M\n"
					 "enclave e size 64K\n"
					 "workload e trace no/such/file.txt\n");
	struct epcg_results *r = NULL;

	ASSERT_ERR(epcg_sim_run(sc, NULL, &r, err, sizeof(err)), EINVAL);
	ASSERT_NULL(r);
	ASSERT_NOT_NULL(strstr(err, "t.scn:3: cannot read the trace of 'e'"));
	ASSERT_ERR(epcg_sim_run(NULL, NULL, &r, err, sizeof(err)), EINVAL);
	epcg_scenario_destroy(sc);
}

/* ---- the JSON writer ---- */

TEST(json_escapes_strings)
{
	struct epcg_results r = { .version = EPCG_RESULTS_VERSION };
	char name[] = "a\"b\\c\nd\te\x01"
		      "f\x7f"
		      "g\xc3\xa9";
	char *j;
	size_t len;

	r.scenario = name;
	j = json_of(&r, &len);
	ASSERT_NOT_NULL(strstr(j, "\"scenario\": \"a\\\"b\\\\c\\nd\\te\\u0001"
				  "f\\u007fg\xc3\xa9\",\n"));
	ASSERT_NOT_NULL(strstr(j, "\"cgroups\": [],\n"));
	ASSERT_EQ(j[len - 1], '\n');
	free(j);
}

/* ---- the shipped scenarios ---- */

/*
 * The shipped scenarios are single-threaded virtual time through and
 * through: ThreadSanitizer has nothing to look at there and would only
 * multiply their run time, so it skips them all.  The four long ones
 * (a few seconds each) exercise no code the shorter tests here do not,
 * so AddressSanitizer skips those; the normal build runs everything.
 */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

enum scenario_size {
	SCENARIO_SHORT,
	SCENARIO_LONG,
};

static void skip_under_sanitizers(enum scenario_size size)
{
#ifdef UNDER_TSAN
	epcg_test_skip("single-threaded; run by the other builds");
#endif
#ifdef UNDER_ASAN
	if (size == SCENARIO_LONG)
		epcg_test_skip("long; run by the normal build");
#endif
	(void)size;
}

static void run_shipped(const char *name, enum scenario_size size)
{
	struct epcg_scenario *sc;
	struct epcg_results *r;
	char path[512];

	skip_under_sanitizers(size);
	snprintf(path, sizeof(path), "%s/%s", EPCG_SCENARIOS, name);
	if (epcg_scenario_load(path, &sc, err, sizeof(err)))
		epcg_test_fail(__FILE__, __LINE__, "%s", err);
	r = run_sc(sc);
	for (unsigned i = 0; i < r->nr_expects; i++)
		if (!r->expects[i].passed)
			epcg_test_note("FAIL %s:%d: %s (%s)", name,
				       r->expects[i].line, r->expects[i].text,
				       r->expects[i].detail);
	ASSERT_CMP(r->nr_expects, >, 0);
	ASSERT_EQ(r->nr_failed, 0);
	ASSERT_U64_EQ(r->cgroups[0].current, 0);
	epcg_results_destroy(r);
	epcg_scenario_destroy(sc);
}

static const char *const shipped[] = {
	"default.scn",		 "kselftest.scn", "limit-drop.scn",
	"overcommit-global.scn", "phases.scn",	  "sibling-pressure.scn",
	"trace-replay.scn",
};

TEST(default_scenario)
{
	run_shipped("default.scn", SCENARIO_LONG);
}

TEST(kselftest_scenario)
{
	run_shipped("kselftest.scn", SCENARIO_LONG);
}

TEST(limit_drop_scenario)
{
	run_shipped("limit-drop.scn", SCENARIO_LONG);
}

TEST(overcommit_global_scenario)
{
	run_shipped("overcommit-global.scn", SCENARIO_SHORT);
}

TEST(phases_scenario)
{
	run_shipped("phases.scn", SCENARIO_LONG);
}

TEST(sibling_pressure_scenario)
{
	run_shipped("sibling-pressure.scn", SCENARIO_SHORT);
}

TEST(trace_replay_scenario)
{
	run_shipped("trace-replay.scn", SCENARIO_SHORT);
}

TEST(every_shipped_scenario_has_a_test)
{
	struct dirent **names;
	int nr = scandir(EPCG_SCENARIOS, &names, NULL, alphasort);

	ASSERT_TRUE(nr > 0);
	for (int i = 0; i < nr; i++) {
		const char *n = names[i]->d_name;
		size_t len = strlen(n);
		bool known = false;

		for (size_t k = 0; k < sizeof(shipped) / sizeof(shipped[0]);
		     k++)
			known |= !strcmp(n, shipped[k]);
		if (len > 4 && !strcmp(n + len - 4, ".scn") && !known)
			epcg_test_fail(__FILE__, __LINE__,
				       "scenarios/%s has no test here", n);
		free(names[i]);
	}
	free(names);
}

/* ---- the simulator against the live model ---- */

/*
 * The same story told twice: once as a scenario in virtual time, once by
 * hand on a live execution context (real ksgxd and reclaim workers),
 * with the enclave calls made from this one thread in the order the
 * scenario implies.  Outcomes (ENOMEM, SIGBUS) and misc.current/peak
 * must agree: the arithmetic of limits does not depend on time.
 *
 * Case "bus": enclave e1 (1 MiB) fills /c under 2M and touches every
 * page; /c drops to 8K; e2 starts in /c: its create evicts all of e1 to
 * fit VA + SECS, then cannot add a page: ENOMEM; e1's next touch finds
 * nothing reclaimable: SIGBUS.  Case "nom": a 2 MiB enclave under 12K
 * (ENOMEM at its 512th page).  Case "fits": 1 MiB under 2M, no fault.
 */
struct live_case {
	const char *name;
	uint64_t size1; /* e1 */
	uint64_t max1; /* /c at the start */
	uint64_t drop; /* then this (0: no drop, no e2) */
	uint64_t size2; /* e2 */
};

static const struct live_case live_cases[] = {
	{ "bus", 1 * MIB, 2 * MIB, 8 * KIB, 1 * MIB },
	{ "nom", 2 * MIB, 12 * KIB, 0, 0 },
	{ "fits", 1 * MIB, 2 * MIB, 0, 0 },
};

struct live_result {
	enum epcg_outcome o1, o2;
	uint64_t peak, current;
};

static const uint8_t zero_page[PG];

/* Build as the simulator does: one TCS page, then REG pages. */
static int live_build(struct epcg_sgx *sgx, uint64_t size,
		      struct epcg_encl **ret)
{
	uint64_t range = 2 * PG;
	int e;

	while (range < size)
		range <<= 1;
	e = epcg_encl_create(sgx, range, ret);
	if (e)
		return e;
	e = epcg_encl_add_pages(*ret, 0, zero_page, 1, EPCG_ENCL_PAGE_TCS, 0,
				NULL);
	for (uint64_t p = 1; !e && p < size / PG; p++)
		e = epcg_encl_add_pages(
			*ret, p * PG, zero_page, 1, EPCG_ENCL_PAGE_REG,
			EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE, NULL);
	if (!e)
		e = epcg_encl_init(*ret, NULL);
	return e;
}

static void live_run(const struct live_case *lc, struct live_result *out)
{
	struct epcg_epc_section_spec sec = { 8 * MIB, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, EPCG_SGX_POLICY_V17 };
	struct epcg_encl *e1 = NULL, *e2 = NULL;
	struct epcg_encl_thread *t;
	struct epcg_misc_cg *cg;
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_task task;
	int e;

	ASSERT_OK(epcg_exec_live_create(2, &ex));
	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_sgx_create(m, ex, &cfg, &sgx));
	ASSERT_OK(epcg_misc_cg_create(epcg_misc_root(m), "c", &cg));
	ASSERT_OK(epcg_misc_set_max(cg, RES, lc->max1));
	epcg_task_init(&task, 1000, 0);
	epcg_misc_task_attach(&task, cg);
	epcg_task_set_current(&task);

	out->o2 = EPCG_OUTCOME_NR;
	e = live_build(sgx, lc->size1, &e1);
	out->o1 = e == -ENOMEM ? EPCG_OUTCOME_ENOMEM : EPCG_OUTCOME_OK;
	if (!e) {
		ASSERT_OK(epcg_encl_enter(e1, &t));
		for (uint64_t p = 0; p < lc->size1 / PG; p++)
			ASSERT_OK(
				epcg_encl_touch(e1, t, p * PG, EPCG_ENCL_READ));
		if (lc->drop) {
			ASSERT_OK(epcg_misc_set_max(cg, RES, lc->drop));
			e = live_build(sgx, lc->size2, &e2);
			out->o2 = e == -ENOMEM ? EPCG_OUTCOME_ENOMEM :
						 EPCG_OUTCOME_OK;
			epcg_encl_release(e2);
			e = epcg_encl_touch(e1, t, 0, EPCG_ENCL_READ);
			if (e == -EFAULT)
				out->o1 = EPCG_OUTCOME_SIGBUS;
		}
		epcg_encl_exit(t);
	} else {
		ASSERT_ERR(e, ENOMEM);
	}
	out->peak = epcg_misc_peak(cg, RES);
	epcg_encl_release(e1);
	out->current = epcg_misc_usage(cg, RES);

	epcg_task_set_current(NULL);
	epcg_misc_task_attach(&task, NULL);
	ASSERT_OK(epcg_misc_cg_remove(cg));
	epcg_sgx_destroy(sgx);
	epcg_exec_destroy(ex);
	epcg_misc_destroy(m);
}

static void virt_run(const struct live_case *lc, struct live_result *out)
{
	char text[1024];
	struct epcg_results *r;
	int n;

	n = snprintf(text, sizeof(text),
		     "epc 8M\n"
		     "cgroup /c max %llu\n"
		     "enclave e1 size %llu cgroup /c\n"
		     "workload e1 scan accesses %llu think 1ms\n",
		     (unsigned long long)lc->max1,
		     (unsigned long long)lc->size1,
		     (unsigned long long)(lc->size1 / PG) * 4);
	if (lc->drop)
		snprintf(text + n, sizeof(text) - (size_t)n,
			 "enclave e2 size %llu cgroup /c start 200ms\n"
			 "at 190ms set /c max %llu\n",
			 (unsigned long long)lc->size2,
			 (unsigned long long)lc->drop);
	r = run_text(text);
	out->o1 = encl_named(r, "e1")->outcome;
	out->o2 = lc->drop ? encl_named(r, "e2")->outcome : EPCG_OUTCOME_NR;
	out->peak = cg_named(r, "/c")->peak;
	out->current = cg_named(r, "/c")->current;
	epcg_results_destroy(r);
}

TEST(simulator_agrees_with_the_live_model)
{
	for (size_t i = 0; i < sizeof(live_cases) / sizeof(live_cases[0]);
	     i++) {
		const struct live_case *lc = &live_cases[i];
		struct live_result live, virt;

		live_run(lc, &live);
		virt_run(lc, &virt);
		epcg_test_note(
			"%s: live %s/%s peak %llu, virtual %s/%s "
			"peak %llu",
			lc->name, epcg_outcome_name(live.o1),
			live.o2 < EPCG_OUTCOME_NR ? epcg_outcome_name(live.o2) :
						    "-",
			(unsigned long long)live.peak,
			epcg_outcome_name(virt.o1),
			virt.o2 < EPCG_OUTCOME_NR ? epcg_outcome_name(virt.o2) :
						    "-",
			(unsigned long long)virt.peak);
		ASSERT_EQ(live.o1, virt.o1);
		ASSERT_EQ(live.o2, virt.o2);
		ASSERT_U64_EQ(live.peak, virt.peak);
		ASSERT_U64_EQ(live.current, 0);
		ASSERT_U64_EQ(virt.current, 0);
	}
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(same_seed_same_json_bytes),
	TEST_ENTRY(table_is_deterministic_too),
	TEST_ENTRY(quantum_and_interval_do_not_change_outcomes),
	TEST_ENTRY(every_expectation_kind_passes_and_fails),
	TEST_ENTRY(enomem_exactly_where_the_va_page_does_not_fit),
	TEST_ENTRY(sigbus_when_a_fault_has_nothing_to_reclaim),
	TEST_ENTRY(killed_stopped_and_running),
	TEST_ENTRY(a_move_leaves_charges_where_they_were_made),
	TEST_ENTRY(series_samples_every_cgroup_at_the_interval),
	TEST_ENTRY(errors_name_the_scenario_line),
	TEST_ENTRY(json_escapes_strings),
	TEST_ENTRY(simulator_agrees_with_the_live_model),
	TEST_ENTRY_TIMEOUT(default_scenario, 120),
	TEST_ENTRY_TIMEOUT(kselftest_scenario, 120),
	TEST_ENTRY_TIMEOUT(limit_drop_scenario, 120),
	TEST_ENTRY(overcommit_global_scenario),
	TEST_ENTRY_TIMEOUT(phases_scenario, 120),
	TEST_ENTRY(sibling_pressure_scenario),
	TEST_ENTRY(trace_replay_scenario),
	TEST_ENTRY(every_shipped_scenario_has_a_test),
};

TEST_MAIN(tests)
