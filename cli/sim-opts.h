/* SPDX-License-Identifier: MIT */
/*
 * What `epcg run` and `epcg sweep` share: the options that override a
 * scenario (--seed, --policy, --epc, --sections) and the progress line
 * drawn on a terminal while the simulator works.
 */
#ifndef EPCG_CLI_SIM_OPTS_H
#define EPCG_CLI_SIM_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct epcg_scenario;

enum cli_sim_opt {
	CLI_SIM_OPT_SEED,
	CLI_SIM_OPT_POLICY,
	CLI_SIM_OPT_EPC,
	CLI_SIM_OPT_SECTIONS,
	CLI_SIM_OPT_NR
};

/*
 * Their getopt_long() values are CLI_SIM_OPT_BASE + enum cli_sim_opt; a
 * command numbers its own options from CLI_SIM_OPT_END.
 */
#define CLI_SIM_OPT_BASE 256
#define CLI_SIM_OPT_END (CLI_SIM_OPT_BASE + CLI_SIM_OPT_NR)

/* Their entries in a command's struct option table (<getopt.h>). */
#define CLI_SIM_LONG_OPTIONS                                                   \
	{ "seed", required_argument, NULL,                                     \
	  CLI_SIM_OPT_BASE + CLI_SIM_OPT_SEED },                               \
	{ "policy", required_argument, NULL,                                   \
	  CLI_SIM_OPT_BASE + CLI_SIM_OPT_POLICY },                             \
	{ "epc", required_argument, NULL, CLI_SIM_OPT_BASE + CLI_SIM_OPT_EPC },  \
	{ "sections", required_argument, NULL,                                 \
	  CLI_SIM_OPT_BASE + CLI_SIM_OPT_SECTIONS }

/* Overrides of a scenario's own settings; zero / -1 keep the scenario's. */
struct cli_sim_opts {
	bool has_seed;
	uint64_t seed;
	int policy;		/* -1: the scenario's */
	uint64_t epc;		/* 0: the scenario's */
	unsigned sections;	/* 0: the scenario's */
};

/* cli_sim_opts_init() - no overrides. */
void cli_sim_opts_init(struct cli_sim_opts *o);

/*
 * cli_sim_opts_parse() - take the value @arg of option @which.
 * Return: 0, or the usage exit code after saying what is wrong.
 */
int cli_sim_opts_parse(struct cli_sim_opts *o, enum cli_sim_opt which,
		       const char *arg);

/*
 * cli_sim_opts_apply() - override @sc's seed, policy and EPC layout (an
 * --epc size split evenly into --sections sections, one per node).
 * Return: 0, or the usage exit code when the size does not split into
 * whole pages.
 */
int cli_sim_opts_apply(const struct cli_sim_opts *o, struct epcg_scenario *sc);

/*
 * A progress line on stderr.  Wall time only decides whether and when to
 * draw, never what is simulated.
 */
struct cli_progress {
	bool enabled;
	bool shown;
	struct timespec t0;
	double last; /* wall seconds of the last drawing */
};

/* cli_progress_start() - start the clock; draw only if @enabled. */
void cli_progress_start(struct cli_progress *p, bool enabled);

/*
 * cli_progress_due() - whether to draw now: enabled, at least a second
 * after the start and @gap seconds after the last drawing (or @force).
 * Sets *@wall to the seconds since the start.
 */
bool cli_progress_due(struct cli_progress *p, double gap, bool force,
		      double *wall);

/*
 * cli_progress_bar() - draw a 30-column bar filled to @frac (0 to 1),
 * followed by the text of @fmt.
 */
void cli_progress_bar(struct cli_progress *p, double frac, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

/* cli_progress_done() - erase the line if anything was drawn. */
void cli_progress_done(struct cli_progress *p);

#endif
