// SPDX-License-Identifier: MIT
/*
 * What choosing a reclaim target costs as cgroups multiply.
 *
 * One global reclaim round (epcg__sgx_cgroup_reclaim_pages(root, 16))
 * finds the next cgroup with reclaimable pages from the root's cursor and
 * scans one batch of 16 pages there.  The pages' owners here always say
 * "young", so each batch isolates, ages and puts back 16 pages and frees
 * nothing: the LRUs stay as they are and every round costs the same.
 *
 * The baseline is a machine with 10 cgroups, each with pages.  The
 * targets have the same 10 busy cgroups among 10,000, spread evenly in
 * pre-order, in two shapes: flat (all children of the root) and a tree
 * of depth 3 (20 x 20 x 23, 9,620 cgroups).  The requirement
 * (docs/reclaim.md, target 5 of docs/benchmarks.md) is a ratio of at most
 * 2 for both, while the rounds visit the busy cgroups in exactly the v17
 * cursor order, which check_order() verifies before timing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>

#include "harness.h"
#include "sgx/epc-internal.h"
#include "sgx/sgx-internal.h"

#define RES EPCG_MISC_RES_SGX_EPC
#define NR_BUSY 10
#define PAGES_PER_BUSY 64
#define ROUNDS 20000

static bool own_get(struct epcg_epc_page *page)
{
	return true;
}

static void own_put(struct epcg_epc_page *page)
{
}

/* The cgroup whose LRU the last batch scanned (see check_order()). */
static struct epcg_misc_cg *last_scanned;

static bool own_age(struct epcg_epc_page *page)
{
	last_scanned = page->cg;
	return true; /* always young: scanned, put back, never freed */
}

static int own_prepare(struct epcg_epc_page *page)
{
	return 0;
}

static void own_block(struct epcg_epc_page *page)
{
}

static int own_write(struct epcg_epc_page *page)
{
	return -EIO;
}

static const struct epcg_reclaim_ops young_ops = {
	own_get, own_put, own_age, own_prepare, own_block, own_write,
};

struct machine {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_task task;
	struct epcg_misc_cg **cgs; /* creation order, parents first */
	unsigned nr_cgs;
	struct epcg_misc_cg *busy[NR_BUSY]; /* in pre-order */
	struct epcg_epc_page **pages;
	unsigned nr_pages;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-reclaim-walk: %s: %d\n", what, err);
	exit(1);
}

static struct epcg_misc_cg *mk(struct machine *mc, struct epcg_misc_cg *p)
{
	char name[16];
	int r;

	snprintf(name, sizeof(name), "c%u", mc->nr_cgs);
	r = epcg_misc_cg_create(p, name, &mc->cgs[mc->nr_cgs]);
	if (r)
		die("cg_create", r);
	return mc->cgs[mc->nr_cgs++];
}

static void fill(struct machine *mc, struct epcg_misc_cg *cg)
{
	epcg_misc_task_attach(&mc->task, cg);
	for (unsigned i = 0; i < PAGES_PER_BUSY; i++) {
		struct epcg_epc_page *page;
		int r = epcg__sgx_alloc_page(mc->sgx, NULL, EPCG_EPC_NO_RECLAIM,
					     &page);

		if (r)
			die("alloc", r);
		epcg__sgx_mark_reclaimable(mc->sgx, page);
		mc->pages[mc->nr_pages++] = page;
	}
}

/*
 * @shape 0: flat; 1: depth 3 (20 x 20 x 23, 9,620 cgroups).  @total cgroups below the
 * root; every (total / NR_BUSY)-th in pre-order gets pages.
 */
static void machine_init(struct machine *mc, unsigned total, int shape)
{
	struct epcg_epc_section_spec sec = {
		(uint64_t)NR_BUSY * PAGES_PER_BUSY * 2 * EPCG_PAGE_SIZE, 0
	};
	struct epcg_sgx_config cfg = { &sec, 1, EPCG_SGX_POLICY_V17 };
	int r;

	memset(mc, 0, sizeof(*mc));
	mc->cgs = calloc(total, sizeof(*mc->cgs));
	mc->pages = calloc(NR_BUSY * PAGES_PER_BUSY, sizeof(*mc->pages));
	if (!mc->cgs || !mc->pages)
		die("out of memory", -1);
	if ((r = epcg_exec_live_create(1, &mc->ex)) ||
	    (r = epcg_misc_create(&mc->m)) ||
	    (r = epcg_sgx_create(mc->m, mc->ex, &cfg, &mc->sgx)))
		die("setup", r);
	mc->sgx->rops = &young_ops;
	epcg_task_init(&mc->task, 1, -1);
	epcg_task_set_current(&mc->task);

	if (shape == 0) {
		for (unsigned i = 0; i < total; i++)
			mk(mc, epcg_misc_root(mc->m));
	} else {
		for (unsigned a = 0; a < 20; a++) {
			struct epcg_misc_cg *ca = mk(mc, epcg_misc_root(mc->m));

			for (unsigned b = 0; b < 20; b++) {
				struct epcg_misc_cg *cb = mk(mc, ca);

				for (unsigned c = 0; c < 23; c++)
					mk(mc, cb);
			}
		}
	}
	/* Pre-order equals creation order here. */
	for (unsigned i = 0; i < NR_BUSY; i++) {
		mc->busy[i] = mc->cgs[i * (mc->nr_cgs / NR_BUSY) +
				      mc->nr_cgs / NR_BUSY - 1];
		fill(mc, mc->busy[i]);
	}
	epcg_misc_task_attach(&mc->task, NULL);
}

static void machine_finish(struct machine *mc)
{
	for (unsigned i = 0; i < mc->nr_pages; i++) {
		epcg__sgx_unmark_reclaimable(mc->sgx, mc->pages[i]);
		epcg__sgx_free_page(mc->sgx, mc->pages[i]);
	}
	while (mc->nr_cgs--)
		epcg_misc_cg_remove(mc->cgs[mc->nr_cgs]);
	epcg_task_set_current(NULL);
	epcg_sgx_destroy(mc->sgx);
	epcg_misc_destroy(mc->m);
	epcg_exec_destroy(mc->ex);
	free(mc->cgs);
	free(mc->pages);
}

/*
 * The speed must not come from visiting cgroups in another order: rounds
 * rooted at the root must take the busy cgroups one after the other in
 * pre-order, wrapping around (E6, the v17 cursor; the idle ones are
 * skipped), wherever the cursor stands.  Untimed; exits on a mismatch.
 */
static void check_order(struct machine *mc, const char *what)
{
	struct epcg_misc_cg *root = epcg_misc_root(mc->m);
	unsigned first = NR_BUSY;

	for (unsigned i = 0; i < 3 * NR_BUSY; i++) {
		if (epcg__sgx_cgroup_reclaim_pages(mc->sgx, root, 16) != 16)
			die("round", -1);
		if (first == NR_BUSY)
			for (first = 0; first < NR_BUSY; first++)
				if (mc->busy[first] == last_scanned)
					break;
		if (first == NR_BUSY ||
		    last_scanned != mc->busy[(first + i) % NR_BUSY]) {
			fprintf(stderr,
				"bench-reclaim-walk: %s: round %u scanned "
				"the wrong cgroup\n",
				what, i);
			exit(1);
		}
	}
	printf("%s: %u rounds visited the %u busy cgroups in pre-order, "
	       "wrapping\n",
	       what, 3 * NR_BUSY, NR_BUSY);
}

static void run_round(void *arg, unsigned thread, uint64_t iters)
{
	struct machine *mc = arg;
	struct epcg_misc_cg *root = epcg_misc_root(mc->m);

	for (uint64_t i = 0; i < iters; i++)
		if (epcg__sgx_cgroup_reclaim_pages(mc->sgx, root, 16) != 16)
			die("round", -1);
}

int main(int argc, char **argv)
{
	struct machine small, flat, deep;
	struct bench_case b = { .name = "round, 10 cgroups all busy",
				.run = run_round,
				.arg = &small,
				.nr_threads = 1 };
	struct bench_case t1 = { .name = "round, 10 busy of 10000, flat",
				 .run = run_round,
				 .arg = &flat,
				 .nr_threads = 1 };
	struct bench_case t2 = { .name = "round, 10 busy of 9620, depth 3",
				 .run = run_round,
				 .arg = &deep,
				 .nr_threads = 1 };

	bench_init(argc, argv, "bench-reclaim-walk");
	machine_init(&small, NR_BUSY, 0);
	machine_init(&flat, 10000, 0);
	machine_init(&deep, 9620, 1);
	check_order(&small, b.name);
	check_order(&flat, t1.name);
	check_order(&deep, t2.name);
	bench_pair(&t1, &b, bench_iters(ROUNDS));
	bench_report(&t1, &b);
	bench_verdict(5, t1.name, bench_ratio(&t1, &b), BENCH_AT_MOST, 2.0);
	bench_pair(&t2, &b, bench_iters(ROUNDS));
	bench_report(&t2, &b);
	bench_verdict(5, t2.name, bench_ratio(&t2, &b), BENCH_AT_MOST, 2.0);
	machine_finish(&deep);
	machine_finish(&flat);
	machine_finish(&small);
	return 0;
}
