// SPDX-License-Identifier: MIT
/*
 * epcg run: simulate a scenario in virtual time and report what each
 * cgroup and enclave saw (docs/simulator.md).
 *
 * Without a file it runs the embedded default, scenarios/default.scn
 * compiled into the binary: a multi-tenant node where one tenant fits its
 * limit, one thrashes, a batch job over-commits the EPC, an enclave is
 * killed midway and a limit is lowered midway.
 *
 * Exit status: 0 when the run finished and every expectation held; 1
 * when an expectation failed; 2 for a usage error or a scenario that
 * cannot be read, parsed or run ("FILE:LINE: message" on stderr); 3 when
 * the simulation itself failed or an output could not be written.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <epcg/metrics.h>
#include <epcg/sgx.h>

#include "cli.h"
#include "report.h"
#include "results.h"
#include "scenario.h"
#include "sim-opts.h"
#include "sim.h"

/* scenarios/default.scn, generated into the build (embed-scenario.py). */
extern const char epcg_default_scenario[];
extern const size_t epcg_default_scenario_len;

#define EXIT_CHECK 1	/* an expectation failed */
#define EXIT_USAGE 2	/* bad options or scenario */
#define EXIT_RUN 3	/* the run or an output failed */

/* The simulator's overrides first, in enum cli_sim_opt's order. */
enum {
	OPT_SEED = CLI_SIM_OPT_BASE + CLI_SIM_OPT_SEED,
	OPT_POLICY = CLI_SIM_OPT_BASE + CLI_SIM_OPT_POLICY,
	OPT_EPC = CLI_SIM_OPT_BASE + CLI_SIM_OPT_EPC,
	OPT_SECTIONS = CLI_SIM_OPT_BASE + CLI_SIM_OPT_SECTIONS,
	OPT_JSON = CLI_SIM_OPT_END,
	OPT_CSV,
	OPT_PROM,
	OPT_REPORT,
	OPT_INTERVAL,
};

static const struct option run_options[] = {
	CLI_SIM_LONG_OPTIONS,
	{ "json", required_argument, NULL, OPT_JSON },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "prom", required_argument, NULL, OPT_PROM },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct run_args {
	const char *file;	/* NULL: the embedded default */
	struct cli_sim_opts sim; /* --seed --policy --epc --sections */
	const char *json;
	const char *csv;
	const char *prom;
	const char *report;
	bool quiet;
	uint64_t interval_ns;	/* 0: the default */
};

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: epcg run [SCENARIO] [--seed N] [--policy v17|intent]\n"
		"                [--json FILE] [--csv FILE] [--prom FILE]\n"
		"                [--report FILE.html] [--quiet]\n"
		"                [--epc SIZE] [--sections N] [--interval TIME]\n"
		"\n"
		"Simulates SCENARIO (docs/scenarios.md) in virtual time, or the\n"
		"embedded default without one, and prints per-cgroup and\n"
		"per-enclave results and the scenario's checks.\n"
		"\n"
		"  --seed N          override the scenario's seed\n"
		"  --policy P        override its reclaim policy (v17, intent)\n"
		"  --json FILE       write the results as JSON ('-': stdout)\n"
		"  --csv FILE        write the time series as CSV\n"
		"  --prom FILE       write the final state as Prometheus text\n"
		"  --report FILE     write an HTML report with plots\n"
		"  --quiet           print nothing but failed checks\n"
		"  --epc SIZE        override the EPC size (K/M/G, Ki/Mi/Gi)\n"
		"  --sections N      with --epc: split it into N sections (1-8)\n"
		"  --interval TIME   time-series interval (default 10ms)\n"
		"\n"
		"Exit status: 0 all checks passed, 1 a check failed, 2 bad\n"
		"options or scenario, 3 the run or an output failed.\n");
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	int c, rc;

	memset(a, 0, sizeof(*a));
	cli_sim_opts_init(&a->sim);
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", run_options, NULL)) != -1) {
		switch (c) {
		case OPT_SEED:
		case OPT_POLICY:
		case OPT_EPC:
		case OPT_SECTIONS:
			rc = cli_sim_opts_parse(
				&a->sim, (enum cli_sim_opt)(c - CLI_SIM_OPT_BASE),
				optarg);
			if (rc)
				return rc;
			break;
		case OPT_JSON:
			a->json = optarg;
			break;
		case OPT_CSV:
			a->csv = optarg;
			break;
		case OPT_PROM:
			a->prom = optarg;
			break;
		case OPT_REPORT:
			a->report = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case OPT_INTERVAL:
			if (epcg_scenario_parse_time(optarg, &a->interval_ns) ||
			    !a->interval_ns)
				return cli_usage_error("bad --interval '%s'",
						       optarg);
			break;
		case 'h':
			run_usage(stdout);
			return -1;
		default:
			run_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s'",
				       argv[optind]);
	if (a->sim.sections && !a->sim.epc)
		return cli_usage_error("--sections needs --epc");
	return 0;
}

/*
 * What the run's hooks fill in: the progress bar, and for --prom the
 * Prometheus text of the final state, rendered from the live machine at
 * the end of the run (before it is torn down) by the same renderer as
 * the daemon's, so the names and labels are the daemon's.
 */
struct hooks {
	struct cli_progress prog;
	bool want_prom;
	struct epcg_metrics_buf prom;
	int prom_err;
};

/* Wall time only decides whether and when to draw, never the results. */
static void progress_fn(void *arg, uint64_t now_ns, uint64_t end_ns)
{
	struct cli_progress *p = &((struct hooks *)arg)->prog;
	double w;

	if (!cli_progress_due(p, 0.1, false, &w))
		return;
	if (!end_ns) {
		fprintf(stderr, "\rsimulating: %.3fs of virtual time",
			(double)now_ns / 1e9);
		return;
	}
	cli_progress_bar(p, (double)now_ns / (double)end_ns,
			 "%.3fs / %.3fs virtual", (double)now_ns / 1e9,
			 (double)end_ns / 1e9);
}

static void at_end(void *arg, struct epcg_misc *m, struct epcg_sgx *sgx,
		   const struct epcg_results *r)
{
	struct hooks *h = arg;
	struct epcg_metrics_source src = { .misc = m, .sgx = sgx };

	if (h->want_prom)
		h->prom_err = epcg_metrics_render(&src, &h->prom);
}

/* ---- outputs ---- */

typedef int results_writer(const struct epcg_results *r, FILE *f);

/* Write @r to @path ("-": stdout) with @fn. */
static int write_file(const struct epcg_results *r, const char *path,
		      results_writer *fn)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int err;

	if (!f) {
		err = -errno;
		cli_error("cannot write %s: %s", path, strerror(-err));
		return err;
	}
	err = fn(r, f);
	if (f != stdout && fclose(f) && !err)
		err = -EIO;
	if (err)
		cli_error("cannot write %s: %s", path, strerror(-err));
	return err;
}

/* The Prometheus text, replacing @path atomically (textfile collector). */
static int write_prom(struct hooks *h, const char *path)
{
	int err = h->prom_err;

	if (!err && !strcmp(path, "-"))
		err = fwrite(h->prom.data, 1, h->prom.len, stdout) ==
				      h->prom.len && !fflush(stdout) ? 0 : -EIO;
	else if (!err)
		err = epcg_metrics_write_file(path, h->prom.data, h->prom.len);
	if (err)
		cli_error("cannot write %s: %s", path, strerror(-err));
	return err;
}

static int write_outputs(const struct epcg_results *r, const struct run_args *a,
			 struct hooks *h)
{
	int err = 0;

	if (a->json && write_file(r, a->json, epcg_results_write_json))
		err = -EIO;
	if (a->csv && write_file(r, a->csv, epcg_results_write_csv))
		err = -EIO;
	if (a->report && write_file(r, a->report, epcg_results_write_html))
		err = -EIO;
	if (a->prom && write_prom(h, a->prom))
		err = -EIO;
	return err;
}

/* ---- the command ---- */

/* An output goes to stdout ("-"), so the table must not. */
static bool stdout_taken(const struct run_args *a)
{
	const char *out[] = { a->json, a->csv, a->prom, a->report };

	for (size_t i = 0; i < EPCG_ARRAY_SIZE_T(out); i++)
		if (out[i] && !strcmp(out[i], "-"))
			return true;
	return false;
}

static int load(const struct run_args *a, struct epcg_scenario **sc)
{
	char err[512];
	int r;

	if (a->file)
		r = epcg_scenario_load(a->file, sc, err, sizeof(err));
	else
		r = epcg_scenario_parse("default.scn", epcg_default_scenario,
					epcg_default_scenario_len, sc, err,
					sizeof(err));
	if (r) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct hooks h = { 0 };
	struct epcg_sim_opts opts = {
		.progress = progress_fn,
		.at_end = at_end,
		.arg = &h,
	};
	struct epcg_scenario *sc = NULL;
	struct epcg_results *r = NULL;
	struct run_args a;
	char err[512];
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = load(&a, &sc);
	if (!rc)
		rc = cli_sim_opts_apply(&a.sim, sc);
	if (rc)
		goto out;
	opts.sample_ns = a.interval_ns;
	cli_progress_start(&h.prog, !a.quiet && isatty(STDERR_FILENO));
	epcg_metrics_buf_init(&h.prom);
	h.want_prom = a.prom != NULL;
	rc = epcg_sim_run(sc, &opts, &r, err, sizeof(err));
	cli_progress_done(&h.prog);
	if (rc) {
		fprintf(stderr, "%s%s\n", rc == -EINVAL ? "" : "epcg: ", err);
		rc = rc == -EINVAL ? EXIT_USAGE : EXIT_RUN;
		goto out;
	}
	if (!a.quiet && !stdout_taken(&a))
		epcg_results_print_table(r, stdout, EPCG_TABLE_ALL);
	else if (r->nr_failed)
		epcg_results_print_table(r, stderr, EPCG_TABLE_FAILED_ONLY);
	fflush(stdout);
	if (write_outputs(r, &a, &h))
		rc = EXIT_RUN;
	else if (r->nr_failed)
		rc = EXIT_CHECK;
out:
	epcg_metrics_buf_finish(&h.prom);
	epcg_results_destroy(r);
	epcg_scenario_destroy(sc);
	return rc;
}
