// SPDX-License-Identifier: MIT
/*
 * epcg sweep: run a scenario once per limit of one cgroup and print the
 * curve (limit, faults, EWB, ELDU, slowdown versus unlimited, ENOMEM and
 * SIGBUS outcomes); write it as CSV and as an HTML report with plots.
 * docs/simulator.md describes sweeps, docs/fleet.md running their shards
 * as a Kubernetes Indexed Job.
 *
 *	epcg sweep [SCENARIO] --cgroup PATH --limits A,B,C|--range F:T:N
 *	epcg sweep ... --shard I/N --out shard-I.sweep
 *	epcg sweep --merge shard-*.sweep [--out all.sweep] [--csv] [--report]
 *
 * Exit status: 0 done; 2 bad options, scenario or sweep files (shards
 * that do not belong together included); 3 a run failed or an output
 * could not be written.  Failed expectations of the scenario do not
 * count: at some limits they are bound to fail.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <epcg/sgx.h>
#include <getopt.h>
#include <inttypes.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "scenario.h"
#include "sim-opts.h"
#include "sweep.h"

/* scenarios/default.scn, generated into the build (embed-scenario.py). */
extern const char epcg_default_scenario[];
extern const size_t epcg_default_scenario_len;

#define EXIT_USAGE 2
#define EXIT_RUN 3

enum {
	OPT_SEED = CLI_SIM_OPT_BASE + CLI_SIM_OPT_SEED,
	OPT_POLICY = CLI_SIM_OPT_BASE + CLI_SIM_OPT_POLICY,
	OPT_EPC = CLI_SIM_OPT_BASE + CLI_SIM_OPT_EPC,
	OPT_SECTIONS = CLI_SIM_OPT_BASE + CLI_SIM_OPT_SECTIONS,
	OPT_CGROUP = CLI_SIM_OPT_END,
	OPT_LIMITS,
	OPT_RANGE,
	OPT_JOBS,
	OPT_SHARD,
	OPT_OUT,
	OPT_MERGE,
	OPT_CSV,
	OPT_REPORT,
};

static const struct option sweep_options[] = {
	CLI_SIM_LONG_OPTIONS,
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "limits", required_argument, NULL, OPT_LIMITS },
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct sweep_args {
	const char *file; /* NULL: the embedded default */
	const char *cgroup;
	const char *limits;
	const char *range;
	struct cli_sim_opts sim; /* --seed --policy --epc --sections */
	unsigned jobs;
	bool sharded;
	unsigned shard, nr_shards;
	const char *out;
	bool merge;
	char **files; /* --merge: the sweep files */
	int nr_files;
	const char *csv;
	const char *report;
	bool quiet;
	bool run_option; /* an option that only a run takes was given */
};

static void sweep_usage(FILE *f)
{
	fprintf(f,
		"usage: epcg sweep [SCENARIO] --cgroup PATH\n"
		"                  (--limits A,B,... | --range FROM:TO:POINTS)\n"
		"                  [--seed N] [--policy v17|intent] [--epc SIZE]\n"
		"                  [--sections N] [--jobs N] [--shard I/N]\n"
		"                  [--out FILE] [--csv FILE] [--report FILE.html]\n"
		"                  [--quiet]\n"
		"       epcg sweep --merge FILE... [--out FILE] [--csv FILE]\n"
		"                  [--report FILE.html] [--quiet]\n"
		"\n"
		"Runs SCENARIO (or the embedded default) once without a limit on\n"
		"cgroup PATH and once per limit, and prints the curve: faults,\n"
		"EWB, ELDU, miss ratio, slowdown versus unlimited, and how many\n"
		"enclaves ended in ENOMEM or SIGBUS.  The scenario's 'set' events\n"
		"of PATH are left out: the limit holds for the whole run.\n"
		"\n"
		"  --cgroup PATH     the cgroup whose misc.max is swept\n"
		"  --limits LIST     limits: sizes (64M, 1Gi, 4096) and 'max'\n"
		"  --range F:T:N     N limits from F to T, evenly spaced (pages)\n"
		"  --seed N          override the scenario's seed\n"
		"  --policy P        override its reclaim policy (v17, intent)\n"
		"  --epc SIZE        override the EPC size\n"
		"  --sections N      with --epc: split it into N sections (1-8)\n"
		"  --jobs N          run N limits at a time (default 1)\n"
		"  --shard I/N       run only slice I of N (0 <= I < N): the runs\n"
		"                    whose index (0 the baseline, then the limits\n"
		"                    in increasing order) modulo N is I; needs --out\n"
		"  --out FILE        write the points as a sweep file, for --merge\n"
		"  --merge FILE...   join the sweep files of all N shards\n"
		"  --csv FILE        write the curve as CSV ('-': stdout)\n"
		"  --report FILE     write an HTML report with plots\n"
		"  --quiet           print nothing on success\n"
		"\n"
		"Exit status: 0 done, 2 bad options, scenario or sweep files,\n"
		"3 a run or an output failed.\n");
}

/* One option of a run (not of a merge). */
static int parse_run_option(int c, struct sweep_args *a)
{
	uint64_t v;

	a->run_option = true;
	switch (c) {
	case OPT_CGROUP:
		a->cgroup = optarg;
		return 0;
	case OPT_LIMITS:
		a->limits = optarg;
		return 0;
	case OPT_RANGE:
		a->range = optarg;
		return 0;
	case OPT_SEED:
	case OPT_POLICY:
	case OPT_EPC:
	case OPT_SECTIONS:
		return cli_sim_opts_parse(
			&a->sim, (enum cli_sim_opt)(c - CLI_SIM_OPT_BASE), optarg);
	case OPT_JOBS:
		if (cli_parse_u64(optarg, &v) || v < 1 || v > 1024)
			return cli_usage_error("jobs must be 1 to 1024, not "
					       "'%s'",
					       optarg);
		a->jobs = (unsigned)v;
		return 0;
	case OPT_SHARD:
		if (epcg_sweep_parse_shard(optarg, &a->shard, &a->nr_shards))
			return cli_usage_error("bad --shard '%s' (I/N with 0 "
					       "<= I < N, e.g. 0/4)",
					       optarg);
		a->sharded = true;
		return 0;
	default:
		sweep_usage(stderr);
		return EXIT_USAGE;
	}
}

static int check_args(struct sweep_args *a)
{
	if (a->merge) {
		if (a->run_option)
			return cli_usage_error("--merge takes only --out, "
					       "--csv, --report and --quiet");
		if (!a->nr_files)
			return cli_usage_error("--merge needs the sweep files "
					       "of the shards");
		return 0;
	}
	if (a->nr_files > 1)
		return cli_usage_error("unexpected argument '%s'", a->files[1]);
	a->file = a->nr_files ? a->files[0] : NULL;
	if (!a->cgroup)
		return cli_usage_error("--cgroup PATH is required (the cgroup "
				       "whose limit is swept)");
	if (!a->limits == !a->range)
		return cli_usage_error("give the limits with either --limits "
				       "or --range");
	if (a->sim.sections && !a->sim.epc)
		return cli_usage_error("--sections needs --epc");
	if (a->sharded && (a->csv || a->report))
		return cli_usage_error("a shard has part of the curve: write "
				       "it with --out and merge the shards "
				       "for --csv and --report");
	if (a->sharded && !a->out)
		return cli_usage_error("--shard needs --out FILE (the shard's "
				       "sweep file, for --merge)");
	return 0;
}

static int parse_args(int argc, char **argv, struct sweep_args *a)
{
	int c, rc;

	memset(a, 0, sizeof(*a));
	cli_sim_opts_init(&a->sim);
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", sweep_options, NULL)) != -1) {
		switch (c) {
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_MERGE:
			a->merge = true;
			break;
		case OPT_CSV:
			a->csv = optarg;
			break;
		case OPT_REPORT:
			a->report = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'h':
			sweep_usage(stdout);
			return -1;
		default:
			rc = parse_run_option(c, a);
			if (rc)
				return rc;
		}
	}
	a->files = argv + optind;
	a->nr_files = argc - optind;
	return check_args(a);
}

/* ---- the scenario ---- */

static int read_text(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 0;
	char buf[65536];
	size_t n;

	*text = NULL;
	*len = 0;
	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		char *t = realloc(*text, cap + n + 1);

		if (!t) {
			fclose(f);
			return -ENOMEM;
		}
		memcpy(t + cap, buf, n);
		cap += n;
		*text = t;
	}
	n = (size_t)ferror(f);
	fclose(f);
	*len = cap;
	return n ? -EIO : 0;
}

/* Load the scenario and the hash of its text. */
static int load(const struct sweep_args *a, struct epcg_scenario **sc,
		uint64_t *hash)
{
	char err[512], *text = NULL;
	size_t len;
	int r;

	if (!a->file) {
		*hash = epcg_sweep_hash(epcg_default_scenario,
					epcg_default_scenario_len);
		r = epcg_scenario_parse("default.scn", epcg_default_scenario,
					epcg_default_scenario_len, sc, err,
					sizeof(err));
	} else {
		r = read_text(a->file, &text, &len);
		if (r) {
			free(text);
			fprintf(stderr, "%s: %s\n", a->file, strerror(-r));
			return EXIT_USAGE;
		}
		*hash = epcg_sweep_hash(text, len);
		r = epcg_scenario_parse(a->file, text, len, sc, err,
					sizeof(err));
		free(text);
	}
	if (r) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

/* Wall time decides only whether and when to draw, never the results. */
static void progress_fn(void *arg, unsigned done, unsigned total)
{
	struct cli_progress *p = arg;
	double w;

	if (!cli_progress_due(p, 0.2, done >= total, &w))
		return;
	cli_progress_bar(p, total ? (double)done / total : 1.0,
			 "%u/%u runs  %.0fs", done, total, w);
}

/* ---- outputs ---- */

typedef int sweep_writer(const struct epcg_sweep *sw, FILE *f);

/*
 * Write @sw to @path ("-": stdout) with @fn.  A file is written under a
 * temporary name and renamed, so that a reader (a merge step waiting
 * for shards) never sees half of one.
 */
static int write_file(const struct epcg_sweep *sw, const char *path,
		      sweep_writer *fn)
{
	char tmp[4096];
	struct stat st;
	FILE *f;
	int err;

	if (!strcmp(path, "-")) {
		err = fn(sw, stdout);
		goto out;
	}
	/*
	 * Only a regular file (or a new one) is replaced atomically through
	 * PATH.tmp and rename; anything else (/dev/null, a FIFO, a terminal)
	 * is written in place, never replaced by a regular file.
	 */
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		f = fopen(path, "w");
		if (!f) {
			err = -errno;
			goto out;
		}
		err = fn(sw, f);
		if (fclose(f) && !err)
			err = -EIO;
		goto out;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		goto out;
	}
	err = fn(sw, f);
	if (fclose(f) && !err)
		err = -EIO;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	if (err)
		cli_error("cannot write %s: %s", path, strerror(-err));
	return err;
}

static bool stdout_taken(const struct sweep_args *a)
{
	return (a->out && !strcmp(a->out, "-")) ||
	       (a->csv && !strcmp(a->csv, "-")) ||
	       (a->report && !strcmp(a->report, "-"));
}

static int outputs(const struct epcg_sweep *sw, const struct sweep_args *a)
{
	int rc = 0;

	if (!a->quiet && !stdout_taken(a))
		epcg_sweep_print_table(sw, stdout);
	fflush(stdout);
	if (a->out && write_file(sw, a->out, epcg_sweep_write))
		rc = EXIT_RUN;
	if (a->csv && write_file(sw, a->csv, epcg_sweep_write_csv))
		rc = EXIT_RUN;
	if (a->report && write_file(sw, a->report, epcg_sweep_write_html))
		rc = EXIT_RUN;
	return rc;
}

/* ---- the two modes ---- */

static int oom(void)
{
	cli_error("out of memory");
	return EXIT_RUN;
}

static int limits(const struct sweep_args *a, uint64_t **v, unsigned *nr)
{
	char err[256];
	int r;

	if (a->limits)
		r = epcg_sweep_parse_limits(a->limits, v, nr, err, sizeof(err));
	else
		r = epcg_sweep_parse_range(a->range, v, nr, err, sizeof(err));
	if (r == -ENOMEM)
		return oom();
	if (r)
		return cli_usage_error("%s", err);
	return 0;
}

static int run(const struct sweep_args *a)
{
	struct cli_progress prog = { 0 };
	struct epcg_sweep_opts opts = {
		.jobs = a->jobs,
		.progress = progress_fn,
		.arg = &prog,
	};
	struct epcg_scenario *sc = NULL;
	struct epcg_sweep *sw = NULL;
	uint64_t *v = NULL, hash = 0;
	unsigned nr = 0;
	char err[768];
	int rc;

	rc = limits(a, &v, &nr);
	if (!rc)
		rc = load(a, &sc, &hash);
	if (!rc)
		rc = cli_sim_opts_apply(&a->sim, sc);
	if (rc)
		goto out;
	rc = epcg_sweep_create(sc, hash, a->cgroup, v, nr,
			       a->sharded ? a->shard : 0,
			       a->sharded ? a->nr_shards : 1, &sw, err,
			       sizeof(err));
	if (rc) {
		rc = rc == -ENOMEM ? oom() : cli_usage_error("%s", err);
		goto out;
	}
	if (sw->dropped_events && !a->quiet)
		fprintf(stderr,
			"epcg: note: leaving out %u 'set' event%s of "
			"%s: a sweep holds its limit\n",
			sw->dropped_events, sw->dropped_events == 1 ? "" : "s",
			sw->cgroup);
	cli_progress_start(&prog, !a->quiet && isatty(STDERR_FILENO));
	rc = epcg_sweep_run(sw, sc, &opts, err, sizeof(err));
	cli_progress_done(&prog);
	if (rc) {
		fprintf(stderr, "%s%s\n", rc == -EINVAL ? "" : "epcg: ", err);
		rc = rc == -EINVAL ? EXIT_USAGE : EXIT_RUN;
		goto out;
	}
	rc = outputs(sw, a);
out:
	epcg_sweep_destroy(sw);
	epcg_scenario_destroy(sc);
	free(v);
	return rc;
}

static int merge(const struct sweep_args *a)
{
	unsigned nr = (unsigned)a->nr_files;
	struct epcg_sweep **parts = calloc(nr, sizeof(*parts));
	struct epcg_sweep *sw = NULL;
	char err[768];
	int rc = 0;

	if (!parts)
		return oom();
	for (unsigned i = 0; i < nr && !rc; i++) {
		FILE *f = fopen(a->files[i], "r");

		if (!f) {
			rc = cli_usage_error("cannot read %s: %s", a->files[i],
					     strerror(errno));
			break;
		}
		rc = epcg_sweep_read(a->files[i], f, &parts[i], err,
				     sizeof(err));
		fclose(f);
		if (rc)
			rc = rc == -ENOMEM ? oom() : cli_usage_error("%s", err);
	}
	if (!rc) {
		rc = epcg_sweep_merge(parts, (const char *const *)a->files, nr,
				      &sw, err, sizeof(err));
		if (rc)
			rc = rc == -ENOMEM ? oom() : cli_usage_error("%s", err);
	}
	if (!rc)
		rc = outputs(sw, a);
	epcg_sweep_destroy(sw);
	for (unsigned i = 0; i < nr; i++)
		epcg_sweep_destroy(parts[i]);
	free(parts);
	return rc;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep_args a;
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc < 0 ? 0 : rc;
	return a.merge ? merge(&a) : run(&a);
}
