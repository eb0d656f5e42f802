// SPDX-License-Identifier: MIT
/*
 * Scenario overrides and the progress line of `epcg run` and `epcg
 * sweep` (sim-opts.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <epcg/epc.h>
#include <epcg/sgx.h>

#include "cli.h"
#include "scenario.h"
#include "sim-opts.h"

void cli_sim_opts_init(struct cli_sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->policy = -1;
}

int cli_sim_opts_parse(struct cli_sim_opts *o, enum cli_sim_opt which,
		       const char *arg)
{
	uint64_t v;
	int p;

	switch (which) {
	case CLI_SIM_OPT_SEED:
		if (cli_parse_u64(arg, &o->seed))
			return cli_usage_error("bad --seed '%s'", arg);
		o->has_seed = true;
		return 0;
	case CLI_SIM_OPT_POLICY:
		p = epcg_sgx_policy_lookup(arg);
		if (p < 0)
			return cli_usage_error("unknown policy '%s' (v17, "
					       "intent)",
					       arg);
		o->policy = p;
		return 0;
	case CLI_SIM_OPT_EPC:
		if (cli_parse_size(arg, &o->epc) || !o->epc)
			return cli_usage_error("bad --epc size '%s'", arg);
		return 0;
	case CLI_SIM_OPT_SECTIONS:
		if (cli_parse_u64(arg, &v) || v < 1 ||
		    v > EPCG_EPC_MAX_SECTIONS)
			return cli_usage_error("sections must be 1 to %d, not "
					       "'%s'",
					       EPCG_EPC_MAX_SECTIONS, arg);
		o->sections = (unsigned)v;
		return 0;
	case CLI_SIM_OPT_NR:
		break;
	}
	return cli_usage_error("unknown simulator option");
}

int cli_sim_opts_apply(const struct cli_sim_opts *o, struct epcg_scenario *sc)
{
	unsigned nr = o->sections ? o->sections : sc->nr_secs;

	if (o->has_seed)
		sc->seed = o->seed;
	if (o->policy >= 0)
		sc->policy = (enum epcg_sgx_policy)o->policy;
	if (!o->epc)
		return 0;
	if (o->epc % ((uint64_t)nr * EPCG_PAGE_SIZE))
		return cli_usage_error("--epc must split into %u section%s of "
				       "a multiple of %u bytes",
				       nr, nr == 1 ? "" : "s", EPCG_PAGE_SIZE);
	for (unsigned i = 0; i < nr; i++) {
		sc->secs[i].size = o->epc / nr;
		sc->secs[i].node = (int)i;
	}
	sc->nr_secs = nr;
	return 0;
}

static double elapsed(const struct cli_progress *p)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - p->t0.tv_sec) +
	       (double)(t.tv_nsec - p->t0.tv_nsec) / 1e9;
}

void cli_progress_start(struct cli_progress *p, bool enabled)
{
	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

bool cli_progress_due(struct cli_progress *p, double gap, bool force,
		      double *wall)
{
	double w;

	if (!p->enabled)
		return false;
	w = elapsed(p);
	*wall = w;
	if (w < 1.0 || (w - p->last < gap && !force))
		return false;
	p->last = w;
	p->shown = true;
	return true;
}

void cli_progress_bar(struct cli_progress *p, double frac, const char *fmt,
		      ...)
{
	static const char full[] = "##############################";
	const int width = (int)sizeof(full) - 1;
	int fill = (int)((double)width * frac);
	va_list ap;

	(void)p;
	if (fill < 0)
		fill = 0;
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r[%.*s%*s] ", fill, full, width - fill, "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r%*s\r", 60, "");
}
