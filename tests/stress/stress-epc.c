// SPDX-License-Identifier: MIT
/*
 * Stress test of the EPC allocator and its charge: several threads
 * allocate and free EPC pages across a random cgroup tree with random
 * limits while a checker thread moves their tasks between cgroups and
 * samples usage.
 *
 * What is checked:
 *  - No committed usage above max (M9): per cgroup, the pages the threads
 *    hold charged within its subtree (counted after a successful alloc,
 *    uncounted before the free) never exceed max / 4096.
 *  - Sampled misc usage exceeds max at most by the charges in flight, one
 *    page per thread.
 *  - Frames are distinct: each holder writes a cookie into its frames and
 *    finds it intact at free time.
 *  - At the end, with the cgroups removed while still charged (dying):
 *    every page freed, usage 0 at every level, every frame free, and the
 *    dying cgroups gone once the last reference is dropped.
 *
 * Seeded (EPCG_SEED), time-bounded (EPCG_STRESS_SECONDS, default 5 s).
 */
#include <epcg/epc.h>

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <epcg/exec.h>
#include <epcg/misc.h>

#include "test.h"
#include "util/atomic.h"

#define RES EPCG_MISC_RES_SGX_EPC
#define PG EPCG_PAGE_SIZE
#define NR_THREADS 4
#define NR_CGS 21		/* the root and 20 below it */
#define MAX_DEPTH 4
#define PAGES_PER_SECTION 256
#define MAX_HELD 160		/* per thread; 4 x 160 > 512 frames */

struct stress;

struct worker {
	struct stress *s;
	unsigned id;
	struct epcg_task task;
	uint64_t rng;
	struct epcg_epc_page *pages[MAX_HELD];
	unsigned nr;
	uint64_t nr_alloc, nr_busy, nr_nomem;
	pthread_t thread;
};

struct stress {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_epc *epc;
	struct epcg_misc_cg *cgs[NR_CGS];	/* cgs[0] is the root */
	int parent[NR_CGS];
	uint64_t max[NR_CGS];			/* bytes; fixed while running */
	epcg_atomic(uint64_t) held[NR_CGS];	/* pages held in the subtree */
	epcg_atomic(int) stop;			/* end of the timed phase */
	pthread_barrier_t parked;		/* threads wait here, holding */
	pthread_barrier_t resume;		/* ... until the tree is gone */
	uint64_t deadline_ns;
	struct worker w[NR_THREADS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cg_index(struct stress *s, struct epcg_misc_cg *cg)
{
	for (int i = 0; i < NR_CGS; i++)
		if (s->cgs[i] == cg)
			return i;
	epcg_test_fail(__FILE__, __LINE__, "page charged to an unknown cgroup");
}

static uint64_t cookie(const struct worker *w, struct epcg_epc_page *page)
{
	return epcg_epc_page_pfn(page) ^ ((uint64_t)(w->id + 1) << 48);
}

static void do_alloc(struct worker *w)
{
	struct stress *s = w->s;
	struct epcg_epc_page *page;
	uint64_t *mem;
	int r, i;

	r = epcg_epc_alloc_page(s->epc, w, EPCG_EPC_NO_RECLAIM, &page);
	if (r == -EBUSY) {
		w->nr_busy++;
		return;
	}
	if (r == -ENOMEM) {
		w->nr_nomem++;
		return;
	}
	ASSERT_OK(r);
	w->nr_alloc++;
	/* Count it at every level, then check that level's limit. */
	i = cg_index(s, epcg_epc_page_cg(page));
	for (; i >= 0; i = s->parent[i]) {
		uint64_t held = epcg_atomic_add_return_acq_rel(&s->held[i], 1);

		if (s->max[i] != EPCG_MISC_MAX)
			ASSERT_CMP(held, <=, s->max[i] / PG);
	}
	mem = epcg_epc_page_addr(page);
	mem[0] = cookie(w, page);
	mem[PG / sizeof(*mem) - 1] = ~cookie(w, page);
	w->pages[w->nr++] = page;
}

static void do_free(struct worker *w, unsigned k)
{
	struct stress *s = w->s;
	struct epcg_epc_page *page = w->pages[k];
	uint64_t *mem = epcg_epc_page_addr(page);

	ASSERT_U64_EQ(mem[0], cookie(w, page));
	ASSERT_U64_EQ(mem[PG / sizeof(*mem) - 1], ~cookie(w, page));
	ASSERT_TRUE(epcg_epc_page_owner(page) == w);
	for (int i = cg_index(s, epcg_epc_page_cg(page)); i >= 0;
	     i = s->parent[i])
		epcg_atomic_fetch_sub_acq_rel(&s->held[i], 1);
	w->pages[k] = w->pages[--w->nr];
	epcg_epc_free_page(page);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	uint64_t n = 0;

	epcg_task_set_current(&w->task);
	while (!epcg_atomic_load_acquire(&s->stop)) {
		uint64_t x = epcg_test_rand(&w->rng);

		/* Lean towards allocating, so limits and the EPC fill up. */
		if (w->nr < MAX_HELD && (x % 100 < 55 || !w->nr))
			do_alloc(w);
		else
			do_free(w, (unsigned)((x >> 8) % w->nr));
		if (++n % 64 == 0 && now_ns() > s->deadline_ns)
			epcg_atomic_store_release(&s->stop, 1);
	}
	/* Hold on to the pages while the main thread removes the tree. */
	pthread_barrier_wait(&s->parked);
	pthread_barrier_wait(&s->resume);
	while (w->nr)
		do_free(w, w->nr - 1);
	epcg_task_set_current(NULL);
	return NULL;
}

/* Moves tasks between cgroups and samples usage while the workers run. */
static void *checker_main(void *arg)
{
	struct stress *s = arg;
	uint64_t rng = epcg_test_seed() ^ 0xc0ffee, samples = 0;
	const uint64_t slack = NR_THREADS * (uint64_t)PG;

	while (!epcg_atomic_load_acquire(&s->stop)) {
		uint64_t x = epcg_test_rand(&rng);
		struct worker *w = &s->w[x % NR_THREADS];

		epcg_misc_task_attach(&w->task, s->cgs[(x >> 8) % NR_CGS]);
		for (int i = 0; i < NR_CGS; i++) {
			uint64_t usage = epcg_misc_usage(s->cgs[i], RES);

			/* Only charges in flight, one per thread, may show. */
			if (s->max[i] != EPCG_MISC_MAX)
				ASSERT_CMP(usage, <=, s->max[i] + slack);
			ASSERT_CMP(usage, <=,
				   epcg_epc_nr_pages(s->epc) * PG + slack);
		}
		ASSERT_CMP(epcg_epc_nr_free(s->epc), <=,
			   epcg_epc_nr_pages(s->epc));
		samples++;
		usleep(200);
	}
	epcg_test_note("checker: %llu samples", (unsigned long long)samples);
	return NULL;
}

static void build_tree(struct stress *s, uint64_t *rng)
{
	char name[16];

	s->cgs[0] = epcg_misc_root(s->m);
	s->parent[0] = -1;
	s->max[0] = EPCG_MISC_MAX;
	for (int i = 1; i < NR_CGS; i++) {
		uint64_t x = epcg_test_rand(rng);
		int p;

		/* A random parent that leaves room for a child. */
		do {
			p = (int)(epcg_test_rand(rng) % (uint64_t)i);
		} while (epcg_misc_cg_depth(s->cgs[p]) >= MAX_DEPTH);
		snprintf(name, sizeof(name), "cg%d", i);
		ASSERT_OK(epcg_misc_cg_create(s->cgs[p], name, &s->cgs[i]));
		s->parent[i] = p;
		/* One in four unlimited, the rest 4 to 260 pages. */
		s->max[i] = x % 4 ? ((x >> 8) % 257 + 4) * PG : EPCG_MISC_MAX;
		ASSERT_OK(epcg_misc_set_max(s->cgs[i], RES, s->max[i]));
	}
}

/* Cgroups left in the whole tree, dying ones included. */
static unsigned tree_size(struct stress *s)
{
	struct epcg_misc_cg *pos = NULL;
	unsigned n = 0;

	epcg_misc_tree_lock(s->m);
	while ((pos = epcg_misc_cg_next_pre(pos, s->cgs[0])))
		n++;
	epcg_misc_tree_unlock(s->m);
	return n;
}

TEST(alloc_free_across_a_cgroup_tree)
{
	struct epcg_epc_section_spec secs[] = {
		{ PAGES_PER_SECTION * PG, 0 }, { PAGES_PER_SECTION * PG, 1 },
	};
	uint64_t rng = epcg_test_seed(), nr_alloc = 0, nr_busy = 0,
		 nr_nomem = 0;
	double secs_to_run = epcg_test_stress_seconds(5);
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t checker;

	ASSERT_NOT_NULL(s);
	ASSERT_OK(epcg_exec_live_create(1, &s->ex));
	ASSERT_OK(epcg_misc_create(&s->m));
	ASSERT_OK(epcg_epc_create(s->m, s->ex, secs, 2, &s->epc));
	build_tree(s, &rng);
	pthread_barrier_init(&s->parked, NULL, NR_THREADS + 1);
	pthread_barrier_init(&s->resume, NULL, NR_THREADS + 1);
	s->deadline_ns = now_ns() + (uint64_t)(secs_to_run * 1e9);

	for (unsigned t = 0; t < NR_THREADS; t++) {
		struct worker *w = &s->w[t];

		w->s = s;
		w->id = t;
		w->rng = rng ^ (0x9e3779b97f4a7c15ull * (t + 1));
		/* Nodes -1, 0, 1, 0: both preference and fallback. */
		epcg_task_init(&w->task, (int)t + 1, (int)(t % 3) - 1);
		epcg_misc_task_attach(&w->task,
				      s->cgs[epcg_test_rand(&rng) % NR_CGS]);
		ASSERT_EQ(pthread_create(&w->thread, NULL, worker_main, w), 0);
	}
	ASSERT_EQ(pthread_create(&checker, NULL, checker_main, s), 0);

	/* Every worker stopped with its pages held: remove the whole tree. */
	pthread_barrier_wait(&s->parked);
	pthread_join(checker, NULL);
	for (unsigned t = 0; t < NR_THREADS; t++)
		epcg_misc_task_attach(&s->w[t].task, NULL);
	/* Keep each cgroup's memory to read its usage once it is freed. */
	for (int i = NR_CGS - 1; i > 0; i--) {
		epcg_misc_cg_get(s->cgs[i]);
		ASSERT_OK(epcg_misc_cg_remove(s->cgs[i]));
	}
	pthread_barrier_wait(&s->resume);

	for (unsigned t = 0; t < NR_THREADS; t++) {
		pthread_join(s->w[t].thread, NULL);
		nr_alloc += s->w[t].nr_alloc;
		nr_busy += s->w[t].nr_busy;
		nr_nomem += s->w[t].nr_nomem;
	}
	epcg_test_note("%llu allocations, %llu refused by a limit (EBUSY), "
		       "%llu without a frame (ENOMEM)",
		       (unsigned long long)nr_alloc,
		       (unsigned long long)nr_busy,
		       (unsigned long long)nr_nomem);
	ASSERT_CMP(nr_alloc, >, 0);

	for (int i = 0; i < NR_CGS; i++) {
		ASSERT_U64_EQ(epcg_misc_usage(s->cgs[i], RES), 0);
		ASSERT_U64_EQ(epcg_atomic_load_relaxed(&s->held[i]), 0);
	}
	ASSERT_U64_EQ(epcg_epc_nr_free(s->epc), epcg_epc_nr_pages(s->epc));
	/* Our references were the last: the dying cgroups go with them. */
	ASSERT_EQ(tree_size(s), NR_CGS);
	for (int i = 1; i < NR_CGS; i++)
		epcg_misc_cg_put(s->cgs[i]);
	ASSERT_EQ(tree_size(s), 1);

	pthread_barrier_destroy(&s->parked);
	pthread_barrier_destroy(&s->resume);
	epcg_epc_destroy(s->epc);
	epcg_misc_destroy(s->m);
	epcg_exec_destroy(s->ex);
	free(s);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY_TIMEOUT(alloc_free_across_a_cgroup_tree, 300),
};
TEST_MAIN(tests)
