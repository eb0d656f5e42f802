// SPDX-License-Identifier: MIT
/*
 * epcg run: build a software EPC and a cgroup tree, let tenants allocate
 * EPC pages under their limits, and print what each cgroup saw.
 *
 * The embedded default is a small multi-tenant node: 128 MiB of EPC in two
 * sections, a parent "tenants" limited to 96 MiB and three children: one
 * whose demand fits its limit, one whose limit is below its demand, and
 * one without a limit of its own that runs into the parent's.  Without
 * reclaim (which later layers add) a refused charge ends a tenant's growth;
 * the table shows where each was refused and the misc.events counters.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/epc.h>
#include <epcg/exec.h>
#include <epcg/misc.h>

#include "cli.h"

#define MIB ((uint64_t)1024 * 1024)

struct tenant {
	const char *parent;	/* NULL: child of the root */
	const char *name;
	uint64_t max;		/* EPCG_MISC_MAX: no limit */
	uint64_t demand;	/* bytes the tenant tries to allocate */
	struct epcg_misc_cg *cg;
	struct epcg_epc_page **pages;
	uint64_t nr_pages;
	int err;		/* the error that stopped it, or 0 */
};

static struct tenant default_tenants[] = {
	{ .name = "tenants", .max = 96 * MIB },
	{ .parent = "tenants", .name = "fits", .max = 32 * MIB,
	  .demand = 24 * MIB },
	{ .parent = "tenants", .name = "limited", .max = 16 * MIB,
	  .demand = 32 * MIB },
	{ .parent = "tenants", .name = "greedy", .max = EPCG_MISC_MAX,
	  .demand = 64 * MIB },
};

static const struct option run_options[] = {
	{ "epc", required_argument, NULL, 'e' },
	{ "sections", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void run_usage(FILE *f)
{
	fprintf(f, "usage: epcg run [--epc SIZE] [--sections N]\n\n"
		   "Runs the embedded default scenario on a software EPC.\n"
		   "  --epc SIZE     EPC size (K/M/G or Ki/Mi/Gi), default 128M\n"
		   "  --sections N   EPC sections (NUMA nodes), 1-8, default 2\n");
}

static struct tenant *find_tenant(const char *name)
{
	for (size_t i = 0; i < EPCG_ARRAY_SIZE_T(default_tenants); i++)
		if (!strcmp(default_tenants[i].name, name))
			return &default_tenants[i];
	return NULL;
}

static int build_tree(struct epcg_misc *m)
{
	for (size_t i = 0; i < EPCG_ARRAY_SIZE_T(default_tenants); i++) {
		struct tenant *t = &default_tenants[i];
		struct epcg_misc_cg *parent = epcg_misc_root(m);
		int r;

		if (t->parent)
			parent = find_tenant(t->parent)->cg;
		r = epcg_misc_cg_create(parent, t->name, &t->cg);
		if (r < 0)
			return r;
		if (t->max != EPCG_MISC_MAX) {
			r = epcg_misc_set_max(t->cg, EPCG_MISC_RES_SGX_EPC,
					      t->max);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Allocate the tenant's demand page by page, as its task, until refused. */
static int grow(struct epcg_epc *epc, struct tenant *t)
{
	uint64_t want = t->demand / EPCG_PAGE_SIZE;
	struct epcg_task task;

	if (!want)
		return 0;
	t->pages = calloc(want, sizeof(*t->pages));
	if (!t->pages)
		return -ENOMEM;
	epcg_task_init(&task, 0, -1);
	epcg_misc_task_attach(&task, t->cg);
	epcg_task_set_current(&task);
	while (t->nr_pages < want) {
		int r = epcg_epc_alloc_page(epc, t, EPCG_EPC_RECLAIM,
					    &t->pages[t->nr_pages]);

		if (r < 0) {
			t->err = r;
			break;
		}
		memset(epcg_epc_page_addr(t->pages[t->nr_pages]),
		       (int)(t->nr_pages & 0xff), EPCG_PAGE_SIZE);
		t->nr_pages++;
	}
	epcg_task_set_current(NULL);
	epcg_misc_task_attach(&task, NULL);
	return 0;
}

static void print_row(struct epcg_misc_cg *cg, const struct tenant *t)
{
	const enum epcg_misc_res r = EPCG_MISC_RES_SGX_EPC;
	char path[256], max[32];
	uint64_t lim = epcg_misc_max(cg, r);

	epcg_misc_cg_path(cg, path, sizeof(path));
	if (epcg_misc_cg_is_root(cg) || lim == EPCG_MISC_MAX)
		snprintf(max, sizeof(max), "max");
	else
		snprintf(max, sizeof(max), "%" PRIu64 "M", lim / MIB);
	printf("%-20s %8s %9" PRIu64 "M %8" PRIu64 "M %7" PRIu64
	       " %7" PRIu64 "  ",
	       path, max, epcg_misc_usage(cg, r) / MIB,
	       epcg_misc_peak(cg, r) / MIB, epcg_misc_events(cg, r),
	       epcg_misc_events_local(cg, r));
	if (!t || !t->demand)
		printf("-\n");
	else
		printf("%" PRIu64 "M of %" PRIu64 "M%s%s\n",
		       t->nr_pages * EPCG_PAGE_SIZE / MIB, t->demand / MIB,
		       t->err ? ", refused: " : "",
		       t->err ? cli_errno_name(t->err) : "");
}

static void print_table(struct epcg_misc *m, struct epcg_epc *epc)
{
	struct epcg_misc_cg *root = epcg_misc_root(m);

	printf("EPC %" PRIu64 "M in %u sections, %" PRIu64 " pages free\n\n",
	       epcg_epc_nr_pages(epc) * EPCG_PAGE_SIZE / MIB,
	       epcg_epc_nr_sections(epc), epcg_epc_nr_free(epc));
	printf("%-20s %8s %10s %9s %7s %7s  %s\n", "cgroup", "max", "current",
	       "peak", "events", "local", "allocated");
	print_row(root, NULL);
	for (size_t i = 0; i < EPCG_ARRAY_SIZE_T(default_tenants); i++)
		print_row(default_tenants[i].cg, &default_tenants[i]);
}

static void release_all(void)
{
	for (size_t i = EPCG_ARRAY_SIZE_T(default_tenants); i-- > 0;) {
		struct tenant *t = &default_tenants[i];

		for (uint64_t p = 0; p < t->nr_pages; p++)
			epcg_epc_free_page(t->pages[p]);
		free(t->pages);
		t->pages = NULL;
		t->nr_pages = 0;
		if (t->cg)
			epcg_misc_cg_remove(t->cg);
		t->cg = NULL;
	}
}

static int parse_args(int argc, char **argv, uint64_t *epc_size,
		      unsigned *nr_secs)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", run_options, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (cli_parse_size(optarg, epc_size) < 0 || !*epc_size)
				return cli_usage_error("run: bad --epc size '%s'",
						       optarg);
			break;
		case 's':
			*nr_secs = (unsigned)atoi(optarg);
			if (*nr_secs < 1 || *nr_secs > EPCG_EPC_MAX_SECTIONS)
				return cli_usage_error(
					"run: --sections must be 1 to %d, not '%s'",
					EPCG_EPC_MAX_SECTIONS, optarg);
			break;
		case 'h':
			run_usage(stdout);
			return -1;
		default:
			run_usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		return cli_usage_error("run: unexpected argument '%s'",
				       argv[optind]);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct epcg_epc_section_spec secs[EPCG_EPC_MAX_SECTIONS];
	uint64_t epc_size = 128 * MIB;
	unsigned nr_secs = 2;
	struct epcg_exec *ex = NULL;
	struct epcg_misc *m = NULL;
	struct epcg_epc *epc = NULL;
	int r;

	r = parse_args(argc, argv, &epc_size, &nr_secs);
	if (r)
		return r < 0 ? 0 : r;
	uint64_t pages = epc_size / EPCG_PAGE_SIZE;
	if (pages < nr_secs)
		return cli_usage_error("run: --epc too small for %u sections",
				       nr_secs);
	for (unsigned i = 0; i < nr_secs; i++) {
		secs[i].size = (pages / nr_secs +
				(i < pages % nr_secs ? 1 : 0)) * EPCG_PAGE_SIZE;
		secs[i].node = (int)i;
	}
	r = epcg_exec_live_create(1, &ex);
	if (r >= 0)
		r = epcg_misc_create(&m);
	if (r >= 0)
		r = epcg_epc_create(m, ex, secs, nr_secs, &epc);
	if (r >= 0)
		r = build_tree(m);
	for (size_t i = 0; r >= 0 && i < EPCG_ARRAY_SIZE_T(default_tenants); i++)
		r = grow(epc, &default_tenants[i]);
	if (r >= 0)
		print_table(m, epc);
	release_all();
	if (r >= 0 && epcg_misc_usage(epcg_misc_root(m), EPCG_MISC_RES_SGX_EPC))
		r = -EIO;
	epcg_epc_destroy(epc);
	epcg_misc_destroy(m);
	epcg_exec_destroy(ex);
	if (r < 0)
		return cli_error("run: %s (%s)", strerror(-r),
				 cli_errno_name(r));
	return 0;
}
