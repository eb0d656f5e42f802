// SPDX-License-Identifier: MIT
/*
 * What a hierarchical charge costs.
 *
 * Charging one page walks from the cgroup to the root and does an atomic
 * add (and two limit reads) at every level, so its floor is the cost of
 * the atomics alone.  Each figure here is a ratio to exactly that floor,
 * measured in the same run: a bare atomic add and subtract on as many
 * counters as the walk touches, each counter at the offset the misc
 * cgroup keeps its sgx_epc usage, in objects of the misc cgroup's size
 * and alignment, one per level.
 *
 *  - charge+uncharge of 4096 bytes of sgx_epc at depths 1, 2, 4 and 8
 *    (depth d: d cgroups below the root, so d + 1 levels are charged),
 *    by one thread, and by two threads charging sibling leaves under one
 *    parent (they share every level above the leaves);
 *  - alloc+free of one EPC page with its charge at depth 4, against the
 *    depth-4 charge+uncharge: the allocator's own cost on top of the
 *    charge (task lookup, cgroup reference, free-list lock);
 *  - the floor of that design, reported: the fourteen atomic operations an
 *    alloc+free makes (the charge's ten, the task's lock, the free-list
 *    lock twice, the page's reference put) and nothing else, against the
 *    ten alone.  An alloc+free cannot be cheaper than this ratio without
 *    dropping an atomic; what it costs above it is its instructions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/epc.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>

#include "harness.h"
#include "misc/misc-internal.h"
#include "sgx/sgx-internal.h"
#include "util/lock.h"

#define RES EPCG_MISC_RES_SGX_EPC
#define PG EPCG_PAGE_SIZE
#define MAX_DEPTH 8
#define ITERS 1000000

/* Where a misc cgroup keeps its sgx_epc usage, and how big one is. */
#define USAGE_OFFSET offsetof(struct epcg_misc_cg, res[RES].usage)
#define CG_SIZE sizeof(struct epcg_misc_cg)

/*
 * A chain root - c1 - ... - c(d-1) with two sibling leaves at depth d,
 * and its bare-counter twin.  Thread t charges leaf[t].
 */
struct chain {
	unsigned levels; /* d + 1 */
	struct epcg_misc_cg *cg[MAX_DEPTH]; /* c1 .. c(d-1) */
	struct epcg_misc_cg *leaf[2];
	void *obj[MAX_DEPTH + 2]; /* baseline objects */
	epcg_atomic(uint64_t) * ctr[2][MAX_DEPTH + 1]; /* leaf to root */
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-charge: %s: %d\n", what, err);
	exit(1);
}

static epcg_atomic(uint64_t) * new_counter(struct chain *ch, unsigned i)
{
	char *o = aligned_alloc(_Alignof(struct epcg_misc_cg), CG_SIZE);

	if (!o)
		die("out of memory", -1);
	memset(o, 0, CG_SIZE);
	ch->obj[i] = o;
	return (epcg_atomic(uint64_t) *)(o + USAGE_OFFSET);
}

static void chain_init(struct chain *ch, struct epcg_misc *m, unsigned depth)
{
	struct epcg_misc_cg *parent = epcg_misc_root(m);
	epcg_atomic(uint64_t) * shared[MAX_DEPTH];
	char name[16];
	int r;

	memset(ch, 0, sizeof(*ch));
	ch->levels = depth + 1;
	/* Levels 0 (the root) to depth - 1 are shared by both leaves. */
	shared[0] = new_counter(ch, 0);
	for (unsigned i = 1; i < depth; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		r = epcg_misc_cg_create(parent, name, &ch->cg[i]);
		if (r)
			die("cg_create", r);
		parent = ch->cg[i];
		shared[i] = new_counter(ch, i);
	}
	for (unsigned t = 0; t < 2; t++) {
		snprintf(name, sizeof(name), "leaf%u", t);
		r = epcg_misc_cg_create(parent, name, &ch->leaf[t]);
		if (r)
			die("cg_create", r);
		ch->ctr[t][0] = new_counter(ch, depth + t);
		for (unsigned l = 1; l <= depth; l++)
			ch->ctr[t][l] = shared[depth - l];
	}
}

static void chain_finish(struct chain *ch)
{
	for (unsigned t = 0; t < 2; t++)
		epcg_misc_cg_remove(ch->leaf[t]);
	for (unsigned i = ch->levels - 2; i >= 1; i--)
		epcg_misc_cg_remove(ch->cg[i]);
	for (unsigned i = 0; i < MAX_DEPTH + 2; i++)
		free(ch->obj[i]);
}

static void run_charge(void *arg, unsigned thread, uint64_t iters)
{
	struct chain *ch = arg;
	struct epcg_misc_cg *cg = ch->leaf[thread];

	for (uint64_t i = 0; i < iters; i++) {
		int r = epcg_misc_try_charge(RES, cg, PG, NULL);

		if (r)
			die("try_charge", r);
		epcg_misc_uncharge(RES, cg, PG);
	}
}

static void run_bare(void *arg, unsigned thread, uint64_t iters)
{
	struct chain *ch = arg;
	epcg_atomic(uint64_t) **ctr = ch->ctr[thread];
	unsigned levels = ch->levels;

	for (uint64_t i = 0; i < iters; i++) {
		for (unsigned l = 0; l < levels; l++)
			(void)epcg_atomic_add_return_relaxed(ctr[l], PG);
		for (unsigned l = 0; l < levels; l++)
			epcg_atomic_fetch_sub_relaxed(ctr[l], PG);
	}
}

/*
 * The atomics of one alloc+free, bare: the ten of the charge walk, the
 * task's lock (taken and released), the node's free-list lock at the
 * allocation and again at the free, and the reference the page held,
 * dropped (its count at the misc cgroup's offset, in the leaf's object;
 * the reference itself comes from the task's reserve without an atomic).
 * Each lock in a cache line of its own, as in the task and the EPC.
 */
struct floor_state {
	struct chain *ch;
	struct epcg_spinlock task_lock epcg_cacheline_aligned;
	struct epcg_spinlock node_lock epcg_cacheline_aligned;
};

#define REF_OFFSET offsetof(struct epcg_misc_cg, refcount)

static void run_floor(void *arg, unsigned thread, uint64_t iters)
{
	struct floor_state *f = arg;
	epcg_atomic(uint64_t) **ctr = f->ch->ctr[thread];
	epcg_atomic(long) *ref =
		(epcg_atomic(long) *)((char *)f->ch->obj[f->ch->levels - 1] +
				      REF_OFFSET);
	unsigned levels = f->ch->levels;

	for (uint64_t i = 0; i < iters; i++) {
		epcg_spinlock_lock(&f->task_lock);
		epcg_spinlock_unlock(&f->task_lock);
		for (unsigned l = 0; l < levels; l++)
			(void)epcg_atomic_add_return_relaxed(ctr[l], PG);
		epcg_spinlock_lock(&f->node_lock);
		epcg_spinlock_unlock(&f->node_lock);
		for (unsigned l = 0; l < levels; l++)
			epcg_atomic_fetch_sub_relaxed(ctr[l], PG);
		(void)epcg_atomic_sub_return_acq_rel(ref, 1);
		epcg_spinlock_lock(&f->node_lock);
		epcg_spinlock_unlock(&f->node_lock);
	}
}

static void bench_floor(struct epcg_misc *m)
{
	static const char name[] = "alloc+free's 14 atomics alone, depth 4";
	struct floor_state *f;
	struct bench_case t, b;
	struct chain ch;

	if (!bench_want(name))
		return;
	f = aligned_alloc(EPCG_CACHELINE, sizeof(*f));
	if (!f)
		die("out of memory", -1);
	memset(f, 0, sizeof(*f));
	chain_init(&ch, m, 4);
	f->ch = &ch;
	epcg_spinlock_init(&f->task_lock);
	epcg_spinlock_init(&f->node_lock);
	t = (struct bench_case){ .name = name,
				 .run = run_floor,
				 .arg = f,
				 .nr_threads = 1 };
	b = (struct bench_case){ .name = "atomic add+sub x5",
				 .run = run_bare,
				 .arg = &ch,
				 .nr_threads = 1 };
	bench_pair(&t, &b, bench_iters(ITERS));
	bench_report(&t, &b);
	bench_verdict(2, "alloc+free's atomics alone / the charge's (floor)",
		      bench_ratio(&t, &b), BENCH_REPORT, 0);
	chain_finish(&ch);
	free(f);
}

struct alloc_state {
	struct epcg_epc *epc;
	struct epcg_sgx *sgx;
};

static void run_alloc(void *arg, unsigned thread, uint64_t iters)
{
	struct alloc_state *s = arg;
	struct epcg_epc_page *page;

	for (uint64_t i = 0; i < iters; i++) {
		int r = epcg_epc_alloc_page(s->epc, NULL, EPCG_EPC_NO_RECLAIM,
					    &page);

		if (r)
			die("alloc_page", r);
		epcg_epc_free_page(page);
	}
}

static void run_sgx_alloc(void *arg, unsigned thread, uint64_t iters)
{
	struct alloc_state *s = arg;
	struct epcg_epc_page *page;

	for (uint64_t i = 0; i < iters; i++) {
		int r = epcg__sgx_alloc_page(s->sgx, NULL, EPCG_EPC_NO_RECLAIM,
					     &page);

		if (r)
			die("sgx alloc_page", r);
		epcg__sgx_free_page(s->sgx, page);
	}
}

static void bench_depth(struct epcg_misc *m, unsigned depth)
{
	char tname[64], bname[64];
	struct bench_case t, b;
	struct chain ch;

	chain_init(&ch, m, depth);
	for (unsigned threads = 1; threads <= 2; threads++) {
		snprintf(tname, sizeof(tname),
			 "charge+uncharge depth %u, %u thread%s", depth,
			 threads, threads > 1 ? "s" : "");
		snprintf(bname, sizeof(bname), "atomic add+sub x%u", ch.levels);
		if (!bench_want(tname))
			continue;
		t = (struct bench_case){ .name = tname,
					 .run = run_charge,
					 .arg = &ch,
					 .nr_threads = threads };
		b = (struct bench_case){ .name = bname,
					 .run = run_bare,
					 .arg = &ch,
					 .nr_threads = threads };
		bench_pair(&t, &b, bench_iters(ITERS));
		bench_report(&t, &b);
		if (depth == 4)
			bench_verdict(1, tname, bench_ratio(&t, &b),
				      threads == 1 ? BENCH_AT_MOST :
						     BENCH_REPORT,
				      1.5);
	}
	chain_finish(&ch);
}

/*
 * Alloc+free of one page by a task in a depth-4 cgroup against the depth-4
 * charge+uncharge (charging the same cgroup), through the bare allocator
 * (epc.c) or through the SGX machine (alloc.c: the E3/E4 charge loop and
 * the ksgxd check on top).  A 64-page EPC, so ksgxd is never due.
 */
static void bench_alloc(const char *name, int machine)
{
	struct epcg_epc_section_spec sec = { 64 * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, EPCG_SGX_POLICY_V17 };
	struct alloc_state s = { NULL, NULL };
	struct epcg_exec *ex = NULL;
	struct epcg_misc *m = NULL;
	struct bench_case t, b;
	struct epcg_task task;
	struct chain ch;
	int r;

	if (!bench_want(name))
		return;
	r = epcg_exec_live_create(1, &ex);
	if (!r)
		r = epcg_misc_create(&m);
	if (!r)
		r = machine ? epcg_sgx_create(m, ex, &cfg, &s.sgx) :
			      epcg_epc_create(m, ex, &sec, 1, &s.epc);
	if (r)
		die("setup", r);
	chain_init(&ch, m, 4);
	epcg_task_init(&task, 1, 0);
	epcg_misc_task_attach(&task, ch.leaf[0]);
	epcg_task_set_current(&task);

	t = (struct bench_case){ .name = name,
				 .run = machine ? run_sgx_alloc : run_alloc,
				 .arg = &s,
				 .nr_threads = 1 };
	b = (struct bench_case){ .name = "charge+uncharge depth 4",
				 .run = run_charge,
				 .arg = &ch,
				 .nr_threads = 1 };
	bench_pair(&t, &b, bench_iters(ITERS));
	bench_report(&t, &b);
	bench_verdict(2, name, bench_ratio(&t, &b), BENCH_AT_MOST, 2.0);

	epcg_task_set_current(NULL);
	epcg_misc_task_attach(&task, NULL);
	chain_finish(&ch);
	epcg_sgx_destroy(s.sgx);
	epcg_epc_destroy(s.epc);
	epcg_misc_destroy(m);
	epcg_exec_destroy(ex);
}

int main(int argc, char **argv)
{
	static const unsigned depths[] = { 1, 2, 4, 8 };
	struct epcg_misc *m;
	int r;

	bench_init(argc, argv, "bench-charge");
	r = epcg_misc_create(&m);
	if (r)
		die("setup", r);

	/* The charge benchmarks need a capacity; nothing is allocated. */
	r = epcg_misc_set_capacity(m, RES, 1ull << 40);
	if (r)
		die("set_capacity", r);
	for (unsigned i = 0; i < sizeof(depths) / sizeof(depths[0]); i++)
		bench_depth(m, depths[i]);
	bench_floor(m);
	epcg_misc_set_capacity(m, RES, 0);
	epcg_misc_destroy(m);

	bench_alloc("alloc+free EPC page depth 4, allocator", 0);
	bench_alloc("alloc+free EPC page depth 4, SGX machine", 1);
	return 0;
}
