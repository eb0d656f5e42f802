// SPDX-License-Identifier: MIT
/*
 * Stress test of the EPC cgroup and its reclaim: threads allocate (with
 * and without reclaim), touch and free pages with fake owners in a tree of
 * 60 cgroups (depth up to 4, random limits, some smaller than what the
 * threads keep unreclaimable, their sum far above the EPC), while ksgxd
 * and the async workers reclaim, a thread changes limits, and another
 * replaces short-lived leaf cgroups (removed while they still hold pages,
 * so they die and are freed by reclaim or release).
 *
 * What is checked:
 *  - No successful charge leaves committed usage above any level's max:
 *    per cgroup, the pages charged within its subtree that are held
 *    (counted after a successful allocation, uncounted before the free or
 *    at write-back) never exceed the highest max that cgroup has had
 *    since the run began (limits move while it runs).
 *  - Every allocation returns 0 or a documented error (-EBUSY, -ENOMEM,
 *    -ERESTARTSYS; -EBUSY or -EFAULT for guest pages) and no allocation
 *    call takes longer than a bound (no livelock).
 *  - Every second, with the threads paused, ksgxd stopped and the workers
 *    flushed, epcg_sgx_check() holds; and at the end, after everything is
 *    freed and removed, it holds and every usage is 0.
 *
 * Seeded (EPCG_SEED), time-bounded (EPCG_STRESS_SECONDS, default 5 s).
 */
#include <pthread.h>

#include "../unit/sgx-fake.h"

#define NR_THREADS 8
#define NR_FIXED 60 /* fixed cgroups below the root */
#define NR_SLOTS 6 /* short-lived leaves */
#define MAX_DEPTH 4
#define NR_PAGES 1024
#define MAX_HELD 200 /* per thread: 8 x 200 > 1024 frames */
#define MAX_CALL_NS (10ull * 1000 * 1000 * 1000)

struct node {
	struct epcg_misc_cg *cg;
	epcg_atomic(int64_t) held; /* held pages charged in the subtree */
	epcg_atomic(uint64_t) hi_max; /* highest max since the start */
};

struct slot {
	pthread_mutex_t lock;
	struct epcg_misc_cg *cg; /* the online reference: @lock */
	int parent;
	unsigned gen;
};

struct worker {
	unsigned id;
	struct epcg_task task;
	uint64_t rng;
	struct fake_page *held[MAX_HELD];
	unsigned nr;
	struct epcg_epc_page *guest[16];
	unsigned nr_guest;
	uint64_t ops, ok, busy, nomem, restart, fault;
	pthread_t thread;
};

static struct {
	struct sfx f;
	struct node nodes[NR_FIXED + 1]; /* [0] is the root */
	unsigned nr_nodes;
	struct slot slots[NR_SLOTS];
	struct worker workers[NR_THREADS];
	pthread_t limiter, churner;
	uint64_t deadline_ns;
	uint64_t max_call_ns;
	/* Pausing for the periodic check. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause, stop;
	unsigned nr_paused;
} S;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct node *node_of(struct epcg_misc_cg *cg)
{
	for (unsigned i = 0; i < S.nr_nodes; i++)
		if (S.nodes[i].cg == cg)
			return &S.nodes[i];
	return NULL; /* a short-lived leaf: unlimited, not tracked */
}

/* Count @page as held (+1) or not (-1) at every level above it. */
static void account(struct epcg_epc_page *page, int64_t delta)
{
	for (struct epcg_misc_cg *c = epcg_epc_page_cg(page); c;
	     c = epcg_misc_cg_parent(c)) {
		struct node *n = node_of(c);
		int64_t held;

		if (!n)
			continue;
		held = epcg_atomic_add_return_acq_rel(&n->held, delta);
		if (delta > 0) {
			uint64_t hi = epcg_atomic_load_acquire(&n->hi_max);

			if ((uint64_t)held > hi / PG)
				epcg_test_fail(
					__FILE__, __LINE__,
					"%lld pages held under a max of %llu bytes",
					(long long)held,
					(unsigned long long)hi);
		}
	}
}

static void on_evict(struct epcg_epc_page *page)
{
	account(page, -1);
}

static void set_limit(struct node *n, uint64_t max)
{
	uint64_t hi = epcg_atomic_load_relaxed(&n->hi_max);

	/* Raise the bound first: a charge may pass the moment max does. */
	while (hi < max && !epcg_atomic_cas_weak_relaxed(&n->hi_max, &hi, max))
		;
	ASSERT_OK(epcg_misc_set_max(n->cg, RES, max));
}

static uint64_t rnd(struct worker *w, uint64_t n)
{
	return epcg_test_rand(&w->rng) % n;
}

/* Pause here while the main thread checks; false once told to stop. */
static bool checkpoint(void)
{
	bool go;

	pthread_mutex_lock(&S.lock);
	if (S.pause) {
		S.nr_paused++;
		pthread_cond_broadcast(&S.cond);
		while (S.pause)
			pthread_cond_wait(&S.cond, &S.lock);
		S.nr_paused--;
	}
	go = !S.stop;
	pthread_mutex_unlock(&S.lock);
	return go;
}

/* Attach @w's task to a random fixed cgroup or short-lived leaf. */
static void pick_cgroup(struct worker *w)
{
	if (rnd(w, 4) == 0) {
		struct slot *sl = &S.slots[rnd(w, NR_SLOTS)];

		pthread_mutex_lock(&sl->lock);
		epcg_misc_task_attach(&w->task, sl->cg);
		pthread_mutex_unlock(&sl->lock);
	} else {
		epcg_misc_task_attach(&w->task, S.nodes[rnd(w, S.nr_nodes)].cg);
	}
}

static void count_err(struct worker *w, int err)
{
	switch (err) {
	case 0:
		w->ok++;
		break;
	case -EBUSY:
		w->busy++;
		break;
	case -ENOMEM:
		w->nomem++;
		break;
	case -EPCG_ERESTARTSYS:
		w->restart++;
		break;
	case -EFAULT:
		w->fault++;
		break;
	default:
		epcg_test_fail(__FILE__, __LINE__, "undocumented error %d",
			       err);
	}
}

static void timed(uint64_t t0)
{
	uint64_t d = now_ns() - t0;

	if (d > MAX_CALL_NS)
		epcg_test_fail(__FILE__, __LINE__, "an allocation took %llu ms",
			       (unsigned long long)(d / 1000000));
	if (d > __atomic_load_n(&S.max_call_ns, __ATOMIC_RELAXED))
		__atomic_store_n(&S.max_call_ns, d, __ATOMIC_RELAXED);
}

static void do_alloc(struct worker *w)
{
	enum fake_kind kind = rnd(w, 10) ? FAKE_REG : FAKE_UNRECL;
	enum epcg_epc_reclaim mode = rnd(w, 2) ? EPCG_EPC_RECLAIM :
						 EPCG_EPC_NO_RECLAIM;
	struct fake_page *fp = calloc(1, sizeof(*fp));
	bool signal = rnd(w, 20) == 0;
	uint64_t t0;
	int err;

	ASSERT_NOT_NULL(fp);
	fp->kind = kind;
	fp->sgx = S.f.sgx;
	pick_cgroup(w);
	if (signal)
		epcg_task_set_signal(&w->task, 1);
	t0 = now_ns();
	err = epcg__sgx_alloc_page(S.f.sgx, fp, mode, &fp->page);
	timed(t0);
	if (signal)
		epcg_task_set_signal(&w->task, 0);
	count_err(w, err);
	if (err == -EFAULT)
		epcg_test_fail(__FILE__, __LINE__, "-EFAULT from a host page");
	if (err) {
		free(fp);
		return;
	}
	account(fp->page, 1);
	if (kind == FAKE_REG)
		epcg__sgx_mark_reclaimable(S.f.sgx, fp->page);
	w->held[w->nr++] = fp;
}

/* Release as an enclave does: no new pins, wait out the old, free. */
static void do_release(struct worker *w, unsigned i)
{
	struct fake_page *fp = w->held[i];

	fake_kill(fp);
	if (fp->page) {
		ASSERT_OK(epcg__sgx_unmark_reclaimable(S.f.sgx, fp->page));
		account(fp->page, -1);
		epcg__sgx_free_page(S.f.sgx, fp->page);
	}
	free(fp);
	w->held[i] = w->held[--w->nr];
}

static void do_guest(struct worker *w)
{
	struct epcg_epc_page *page;
	uint64_t t0;
	int err;

	if (w->nr_guest == EPCG_ARRAY_SIZE(w->guest) || rnd(w, 2)) {
		if (!w->nr_guest)
			return;
		page = w->guest[--w->nr_guest];
		account(page, -1);
		epcg_sgx_vepc_free(S.f.sgx, page);
		return;
	}
	pick_cgroup(w);
	t0 = now_ns();
	err = epcg_sgx_vepc_alloc(S.f.sgx, NULL, &page);
	timed(t0);
	count_err(w, err);
	if (err == -ENOMEM || err == -EPCG_ERESTARTSYS)
		epcg_test_fail(__FILE__, __LINE__, "guest alloc: %d", err);
	if (!err) {
		account(page, 1);
		w->guest[w->nr_guest++] = page;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	epcg_task_set_current(&w->task);
	while (checkpoint()) {
		unsigned op = (unsigned)rnd(w, 100);

		w->ops++;
		if (w->nr == MAX_HELD || (op < 35 && w->nr))
			do_release(w, (unsigned)rnd(w, w->nr));
		else if (op < 40 && w->nr)
			epcg_atomic_store_relaxed(
				&w->held[rnd(w, w->nr)]->young, true);
		else if (op < 45)
			do_guest(w);
		else
			do_alloc(w);
	}
	epcg_task_set_current(NULL);
	return NULL;
}

static uint64_t random_limit(uint64_t *rng)
{
	switch (epcg_test_rand(rng) % 4) {
	case 0:
		return EPCG_MISC_MAX;
	case 1: /* below what a few threads keep unreclaimable */
		return (1 + epcg_test_rand(rng) % 8) * PG;
	default:
		return (8 + epcg_test_rand(rng) % 400) * PG;
	}
}

static void *limiter_main(void *arg)
{
	uint64_t rng = *(uint64_t *)arg;

	while (checkpoint()) {
		struct node *n = &S.nodes[1 + epcg_test_rand(&rng) % NR_FIXED];

		set_limit(n, random_limit(&rng));
		sleep_ms(1);
	}
	return NULL;
}

static void slot_fill(struct slot *sl)
{
	char name[32];

	snprintf(name, sizeof(name), "tmp%ld-%u", (long)(sl - S.slots),
		 sl->gen++);
	ASSERT_OK(epcg_misc_cg_create(S.nodes[sl->parent].cg, name, &sl->cg));
}

static void *churner_main(void *arg)
{
	uint64_t rng = *(uint64_t *)arg;

	while (checkpoint()) {
		struct slot *sl = &S.slots[epcg_test_rand(&rng) % NR_SLOTS];

		pthread_mutex_lock(&sl->lock);
		ASSERT_OK(epcg_misc_cg_remove(sl->cg)); /* may stay dying */
		slot_fill(sl);
		pthread_mutex_unlock(&sl->lock);
		sleep_ms(5);
	}
	return NULL;
}

static void build_tree(uint64_t *rng)
{
	unsigned depth[NR_FIXED + 1] = { 0 };
	char name[16];

	S.nodes[0].cg = S.f.root;
	/* The root has no max, but the capacity bounds it the same way. */
	epcg_atomic_init(&S.nodes[0].hi_max, (uint64_t)NR_PAGES * PG);
	S.nr_nodes = 1;
	for (unsigned i = 1; i <= NR_FIXED; i++) {
		unsigned p;

		do
			p = (unsigned)(epcg_test_rand(rng) % i);
		while (depth[p] >= MAX_DEPTH);
		depth[i] = depth[p] + 1;
		snprintf(name, sizeof(name), "n%u", i);
		S.nodes[i].cg = mkcg(&S.f, S.nodes[p].cg, name);
		epcg_atomic_init(&S.nodes[i].hi_max, 0);
		S.nr_nodes++;
		set_limit(&S.nodes[i], random_limit(rng));
	}
	for (unsigned i = 0; i < NR_SLOTS; i++) {
		struct slot *sl = &S.slots[i];

		pthread_mutex_init(&sl->lock, NULL);
		do
			sl->parent = (int)(epcg_test_rand(rng) % S.nr_nodes);
		while (depth[sl->parent] >= MAX_DEPTH);
		slot_fill(sl);
	}
}

/* Stop everything that touches pages, check, and start again. */
static void check_paused(unsigned nr_threads)
{
	pthread_mutex_lock(&S.lock);
	S.pause = true;
	while (S.nr_paused < nr_threads)
		pthread_cond_wait(&S.cond, &S.lock);
	pthread_mutex_unlock(&S.lock);

	epcg__sgx_ksgxd_stop(S.f.sgx);
	sfx_check(&S.f); /* flushes the workers first */
	ASSERT_OK(epcg__sgx_ksgxd_start(S.f.sgx));

	pthread_mutex_lock(&S.lock);
	S.pause = false;
	pthread_cond_broadcast(&S.cond);
	pthread_mutex_unlock(&S.lock);
}

TEST(stress_sgx_cgroup)
{
	uint64_t seed = epcg_test_seed(), rng = seed, lim_rng, churn_rng;
	double secs = epcg_test_stress_seconds(5);
	uint64_t ops = 0, ok = 0, busy = 0, nomem = 0, restart = 0, fault = 0;
	uint64_t start = now_ns();
	struct epcg_sgx_stats st;

	for (int pol = 0; pol < EPCG_SGX_POLICY_NR; pol++) {
		memset(&S, 0, sizeof(S));
		pthread_mutex_init(&S.lock, NULL);
		pthread_cond_init(&S.cond, NULL);
		sfx_setup_policy(&S.f, NR_PAGES, pol);
		fake.on_evict = on_evict;
		build_tree(&rng);
		S.deadline_ns = now_ns() + (uint64_t)(secs / 2 * 1e9);
		lim_rng = epcg_test_rand(&rng);
		churn_rng = epcg_test_rand(&rng);
		for (unsigned i = 0; i < NR_THREADS; i++) {
			struct worker *w = &S.workers[i];

			w->id = i;
			w->rng = epcg_test_rand(&rng);
			epcg_task_init(&w->task, 1000 + (int)i, -1);
			ASSERT_EQ(pthread_create(&w->thread, NULL, worker_main,
						 w),
				  0);
		}
		ASSERT_EQ(pthread_create(&S.limiter, NULL, limiter_main,
					 &lim_rng),
			  0);
		ASSERT_EQ(pthread_create(&S.churner, NULL, churner_main,
					 &churn_rng),
			  0);
		while (now_ns() + 1000000000ull < S.deadline_ns) {
			sleep_ms(1000);
			check_paused(NR_THREADS + 2);
		}
		while (now_ns() < S.deadline_ns)
			sleep_ms(10);
		pthread_mutex_lock(&S.lock);
		S.stop = true;
		pthread_mutex_unlock(&S.lock);
		for (unsigned i = 0; i < NR_THREADS; i++)
			pthread_join(S.workers[i].thread, NULL);
		pthread_join(S.limiter, NULL);
		pthread_join(S.churner, NULL);

		/* Everything back: pages, guest pages, cgroups. */
		for (unsigned i = 0; i < NR_THREADS; i++) {
			struct worker *w = &S.workers[i];

			while (w->nr)
				do_release(w, 0);
			while (w->nr_guest) {
				struct epcg_epc_page *page =
					w->guest[--w->nr_guest];

				account(page, -1);
				epcg_sgx_vepc_free(S.f.sgx, page);
			}
			epcg_misc_task_attach(&w->task, NULL);
			ops += w->ops, ok += w->ok, busy += w->busy;
			nomem += w->nomem, restart += w->restart;
			fault += w->fault;
		}
		for (unsigned i = 0; i < NR_SLOTS; i++)
			ASSERT_OK(epcg_misc_cg_remove(S.slots[i].cg));
		sfx_check(&S.f);
		for (unsigned i = 0; i < S.nr_nodes; i++) {
			ASSERT_U64_EQ(epcg_misc_usage(S.nodes[i].cg, RES), 0);
			ASSERT_EQ(epcg_atomic_load_relaxed(&S.nodes[i].held),
				  0);
		}
		epcg_sgx_stats(S.f.sgx, &st);
		epcg_test_note(
			"%s: %llu ops, %llu ok, %llu EBUSY, %llu ENOMEM, "
			"%llu ERESTARTSYS, %llu EFAULT; %llu written "
			"back, %llu scanned; slowest call %llu us",
			epcg_sgx_policy_name(pol), (unsigned long long)ops,
			(unsigned long long)ok, (unsigned long long)busy,
			(unsigned long long)nomem, (unsigned long long)restart,
			(unsigned long long)fault, (unsigned long long)st.ewb,
			(unsigned long long)st.reclaim_scans,
			(unsigned long long)(S.max_call_ns / 1000));
		ASSERT_CMP(ok, >, 0);
		ASSERT_CMP(st.ewb, >, 0);
		fake.on_evict = NULL;
		sfx_teardown(&S.f);
		ops = ok = busy = nomem = restart = fault = 0;
	}
	epcg_test_note("seed %llu, %.1f s", (unsigned long long)seed,
		       (double)(now_ns() - start) / 1e9);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY_TIMEOUT(stress_sgx_cgroup, 300),
};

TEST_MAIN(tests)
