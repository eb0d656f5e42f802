// SPDX-License-Identifier: MIT
/*
 * "No data loss": enclaves four times the size of the EPC, touched at
 * random by several threads while ksgxd and the cgroups' async reclaim
 * page them out and the faults page them back in.
 *
 * Every page carries its enclave, its index and a version in a header,
 * and a body derived from the three, so any page read back can be checked
 * in full.  Each page has one owner thread, the only one that writes it:
 * the owner reads the page (which must be exactly its last version), then
 * writes the next version.  Other threads read it too and check that the
 * content is one whole version between the last one the owner finished
 * before the read and the last one it started after (reads of one page
 * are atomic).  So a lost write, a stale or replayed page, a torn page or
 * a page of another enclave or index all fail at once; at the end, every
 * page of every enclave is checked against its final version.
 *
 * Two runs.  In the first, the threads are split over two cgroups, one
 * with a limit below its share, so both global reclaim (ksgxd, a full
 * EPC) and per-cgroup reclaim (async work at a limit) run; it uses the
 * "intent" policy, because under v17 a fault in a cgroup whose own LRU
 * happens to be empty while the EPC is full is refused by the root's
 * capacity and ends in SIGBUS (E13a, the capacity acting as the shared
 * ancestor's limit), which is v17's behaviour, not data loss.  The second
 * run uses v17 with every thread in one cgroup, where that cannot happen.
 * Printed: the EWB and ELDU counts, which must be in the tens of
 * thousands in the default run; afterwards the enclaves are released,
 * usage must drop to 0 and the machine's invariants must hold.
 *
 * Seeded (EPCG_SEED), time-bounded (EPCG_STRESS_SECONDS, default 5 s).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>
#include <pthread.h>
#include <unistd.h>

#include "test.h"
#include "util/atomic.h"

#define RES EPCG_MISC_RES_SGX_EPC
#define PG EPCG_PAGE_SIZE
#define EPC_PAGES 1024 /* 4 MiB */
#define NR_ENCL 4
#define ENCL_PAGES 1024 /* 4 MiB each: 16 MiB in all */
#define NR_THREADS 4
#define LIMIT_A_PAGES 600 /* cgroup "a": threads 0 and 1 */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MIN_PAGING 1000 /* sanitizers slow everything down */
#else
#define MIN_PAGING 10000
#endif

struct hdr {
	uint32_t encl;
	uint32_t idx;
	uint64_t ver;
};

struct page_state {
	epcg_atomic(uint64_t) started; /* last version its owner began */
	epcg_atomic(uint64_t) done; /* last version its owner finished */
};

struct stress;

struct worker {
	struct stress *s;
	unsigned id;
	struct epcg_task task;
	struct epcg_encl_thread *t[NR_ENCL];
	uint64_t rng;
	uint64_t reads, writes;
	pthread_t thread;
};

struct stress {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_misc_cg *cg[2];
	struct epcg_encl *encl[NR_ENCL];
	struct page_state st[NR_ENCL][ENCL_PAGES];
	uint64_t deadline_ns;
	struct worker w[NR_THREADS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fill(uint8_t *buf, unsigned e, unsigned idx, uint64_t ver)
{
	struct hdr h = { e, idx, ver };
	uint64_t x = ((uint64_t)e << 48) ^ ((uint64_t)idx << 24) ^ ver;

	memcpy(buf, &h, sizeof(h));
	for (unsigned i = sizeof(h); i < PG; i += 8) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		memcpy(buf + i, &x, 8);
	}
}

/* Check @buf is version @ver_min..@ver_max of page @idx of enclave @e. */
static uint64_t check(const uint8_t *buf, unsigned e, unsigned idx,
		      uint64_t ver_min, uint64_t ver_max)
{
	static _Thread_local uint8_t want[PG];
	struct hdr h;

	memcpy(&h, buf, sizeof(h));
	if (h.encl != e || h.idx != idx || h.ver < ver_min || h.ver > ver_max)
		epcg_test_fail(
			__FILE__, __LINE__,
			"enclave %u page %u: found enclave %u page %u version %llu, want versions %llu..%llu",
			e, idx, h.encl, h.idx, (unsigned long long)h.ver,
			(unsigned long long)ver_min,
			(unsigned long long)ver_max);
	fill(want, e, idx, h.ver);
	if (memcmp(buf, want, PG))
		epcg_test_fail(__FILE__, __LINE__,
			       "enclave %u page %u version %llu: body corrupt",
			       e, idx, (unsigned long long)h.ver);
	return h.ver;
}

static void step(struct worker *w)
{
	static _Thread_local uint8_t buf[PG];
	struct stress *s = w->s;
	uint64_t r = epcg_test_rand(&w->rng);
	unsigned e = (unsigned)(r % NR_ENCL);
	unsigned idx = (unsigned)((r >> 8) % ENCL_PAGES);
	struct page_state *ps = &s->st[e][idx];
	bool owner = idx % NR_THREADS == w->id;
	uint64_t lo, hi, v;

	if (owner && (r >> 40) % 2) {
		v = epcg_atomic_load_acquire(&ps->done);
		ASSERT_OK(epcg_encl_access(s->encl[e], w->t[e], idx * PG,
					   EPCG_ENCL_READ, buf, PG));
		check(buf, e, idx, v, v);
		epcg_atomic_store_release(&ps->started, v + 1);
		fill(buf, e, idx, v + 1);
		ASSERT_OK(epcg_encl_access(s->encl[e], w->t[e], idx * PG,
					   EPCG_ENCL_WRITE, buf, PG));
		epcg_atomic_store_release(&ps->done, v + 1);
		w->writes++;
		return;
	}
	lo = epcg_atomic_load_acquire(&ps->done);
	ASSERT_OK(epcg_encl_access(s->encl[e], w->t[e], idx * PG,
				   EPCG_ENCL_READ, buf, PG));
	hi = epcg_atomic_load_acquire(&ps->started);
	check(buf, e, idx, lo, hi);
	w->reads++;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;

	epcg_task_set_current(&w->task);
	for (unsigned e = 0; e < NR_ENCL; e++)
		ASSERT_OK(epcg_encl_enter(s->encl[e], &w->t[e]));
	do {
		for (int i = 0; i < 64; i++)
			step(w);
	} while (now_ns() < s->deadline_ns);
	for (unsigned e = 0; e < NR_ENCL; e++)
		epcg_encl_exit(w->t[e]);
	epcg_task_set_current(NULL);
	return NULL;
}

static void build(struct stress *s)
{
	uint8_t *src = malloc((size_t)ENCL_PAGES * PG);
	uint64_t added;

	ASSERT_NOT_NULL(src);
	for (unsigned e = 0; e < NR_ENCL; e++) {
		/* Alternate the builder's cgroup, so both hold SECS and VA. */
		epcg_task_set_current(&s->w[e % NR_THREADS].task);
		for (unsigned i = 0; i < ENCL_PAGES; i++)
			fill(src + (size_t)i * PG, e, i, 0);
		ASSERT_OK(epcg_encl_create(s->sgx, (uint64_t)ENCL_PAGES * PG,
					   &s->encl[e]));
		ASSERT_OK(epcg_encl_add_pages(
			s->encl[e], 0, src, ENCL_PAGES, EPCG_ENCL_PAGE_REG,
			EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE, &added));
		ASSERT_U64_EQ(added, ENCL_PAGES);
		ASSERT_OK(epcg_encl_init(s->encl[e], NULL));
	}
	epcg_task_set_current(NULL);
	free(src);
}

/* Every page of every enclave is exactly its last version. */
static void verify_all(struct stress *s)
{
	static uint8_t buf[PG];
	struct epcg_encl_thread *t;

	epcg_task_set_current(&s->w[NR_THREADS - 1].task);
	for (unsigned e = 0; e < NR_ENCL; e++) {
		ASSERT_OK(epcg_encl_enter(s->encl[e], &t));
		for (unsigned i = 0; i < ENCL_PAGES; i++) {
			uint64_t v =
				epcg_atomic_load_acquire(&s->st[e][i].done);

			ASSERT_OK(epcg_encl_access(s->encl[e], t, i * PG,
						   EPCG_ENCL_READ, buf, PG));
			check(buf, e, i, v, v);
		}
		epcg_encl_exit(t);
		ASSERT_FALSE(epcg_encl_faulted(s->encl[e]));
	}
	epcg_task_set_current(NULL);
}

/* Threads 0 and 1 in cgroup "a" (limited), 2 and 3 in "b"; or all in "a". */
enum layout {
	TWO_CGROUPS,
	ONE_CGROUP,
};

static void run(enum epcg_sgx_policy policy, enum layout layout)
{
	struct epcg_epc_section_spec sec = { (uint64_t)EPC_PAGES * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, policy };
	struct stress *s = calloc(1, sizeof(*s));
	uint64_t seed = epcg_test_seed(), reads = 0, writes = 0;
	struct epcg_sgx_stats st;
	struct epcg_epc *epc;
	char why[256];

	ASSERT_NOT_NULL(s);
	ASSERT_OK(epcg_exec_live_create(2, &s->ex));
	ASSERT_OK(epcg_misc_create(&s->m));
	ASSERT_OK(epcg_sgx_create(s->m, s->ex, &cfg, &s->sgx));
	epc = epcg_sgx_epc(s->sgx);
	ASSERT_OK(epcg_misc_cg_create(epcg_misc_root(s->m), "a", &s->cg[0]));
	ASSERT_OK(epcg_misc_cg_create(epcg_misc_root(s->m), "b", &s->cg[1]));
	if (layout == TWO_CGROUPS)
		ASSERT_OK(epcg_misc_set_max(s->cg[0], RES,
					    (uint64_t)LIMIT_A_PAGES * PG));
	for (unsigned i = 0; i < NR_THREADS; i++) {
		struct worker *w = &s->w[i];

		w->s = s;
		w->id = i;
		w->rng = seed + i * 0x9e3779b97f4a7c15ull;
		epcg_task_init(&w->task, 200 + (int)i, -1);
		epcg_misc_task_attach(
			&w->task,
			s->cg[layout == TWO_CGROUPS && i >= NR_THREADS / 2]);
	}
	build(s);

	s->deadline_ns =
		now_ns() + (uint64_t)(epcg_test_stress_seconds(5) * 1e9);
	for (unsigned i = 0; i < NR_THREADS; i++)
		ASSERT_EQ(pthread_create(&s->w[i].thread, NULL, worker_fn,
					 &s->w[i]),
			  0);
	for (unsigned i = 0; i < NR_THREADS; i++) {
		ASSERT_EQ(pthread_join(s->w[i].thread, NULL), 0);
		reads += s->w[i].reads;
		writes += s->w[i].writes;
	}
	verify_all(s);

	epcg_sgx_stats(s->sgx, &st);
	epcg_test_note(
		"%llu reads, %llu writes verified; EWB %llu, ELDU %llu, faults %llu, SIGBUS %llu",
		(unsigned long long)reads, (unsigned long long)writes,
		(unsigned long long)st.ewb, (unsigned long long)st.eldu,
		(unsigned long long)st.faults, (unsigned long long)st.sigbus);
	ASSERT_CMP(st.ewb, >=, MIN_PAGING);
	ASSERT_CMP(st.eldu, >=, MIN_PAGING);
	ASSERT_U64_EQ(st.sigbus, 0);

	for (unsigned e = 0; e < NR_ENCL; e++)
		epcg_encl_release(s->encl[e]);
	/* A ksgxd batch may still be freeing the frames it wrote out. */
	for (int i = 0;
	     i < 1000 && epcg_epc_nr_free(epc) != epcg_epc_nr_pages(epc); i++)
		usleep(1000);
	epcg_exec_flush(s->ex);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(s->m), RES), 0);
	ASSERT_U64_EQ(epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc));
	if (epcg_sgx_check(s->sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "invariant: %s", why);

	for (unsigned i = 0; i < NR_THREADS; i++)
		epcg_misc_task_attach(&s->w[i].task, NULL);
	ASSERT_OK(epcg_misc_cg_remove(s->cg[0]));
	ASSERT_OK(epcg_misc_cg_remove(s->cg[1]));
	epcg_exec_flush(s->ex);
	epcg_sgx_destroy(s->sgx);
	epcg_misc_destroy(s->m);
	epcg_exec_destroy(s->ex);
	free(s);
}

TEST(no_data_loss_two_cgroups)
{
	run(EPCG_SGX_POLICY_INTENT, TWO_CGROUPS);
}

TEST(no_data_loss_v17)
{
	run(EPCG_SGX_POLICY_V17, ONE_CGROUP);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY_TIMEOUT(no_data_loss_two_cgroups, 300),
	TEST_ENTRY_TIMEOUT(no_data_loss_v17, 300),
};

TEST_MAIN(tests)
