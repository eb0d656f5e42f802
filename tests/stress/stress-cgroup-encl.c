// SPDX-License-Identifier: MIT
/*
 * Limits hold under concurrency, with real enclaves: threads build, run
 * and release enclaves in a tree of 56 cgroups (depth up to 4, random
 * limits, some below what one enclave keeps unreclaimable, their sum far
 * above the EPC) while ksgxd and the workers' async reclaim run, a thread
 * changes limits and kills runs, and runs migrate and leave dying cgroups
 * behind.  Both policies, one after the other.
 *
 * A run: attach the thread's task to a random cgroup (or to a fresh leaf
 * of its own), create an enclave, add its pages (a TCS, then REG pages,
 * in calls of 32 that reclaim at a limit), init, enter, then a few
 * hundred accesses: read a page and check it is exactly the version last
 * written, write the next version, sometimes touch an address never
 * added (EAUG on first touch).  Some runs move their task to another
 * cgroup halfway (later faults charge the new one, E1, behaviour 36);
 * runs in their own leaf move to its parent and rmdir the leaf while the
 * enclave still holds pages there (a dying cgroup, behaviour 24).  The
 * run ends with exit and release.
 *
 * What is checked:
 *
 *  - Every call returns 0 or a documented error: create and add pages
 *    -ENOMEM (only SECS and VA pages left to evict) or -EINTR (killed);
 *    an access -EFAULT (the SIGBUS outcome) or -EINTR; init and enter
 *    never fail.  Every page read is exactly its last version, or zeros
 *    for an augmented page never written.  Each run ends one way.
 *
 *  - No successful charge leaves committed usage above a level's max.
 *    The enclave layer's allocations are not visible from here, so we
 *    cannot count held pages as the fake-owner stress test does.  What
 *    is visible is misc.peak: a charge raises a level's peak only after
 *    the new usage passed that level's max, so a peak is always a usage
 *    some charge was allowed to reach.  A sampler reads every level's
 *    peak every half millisecond; when it went up, the charge that did
 *    it read the level's max at some moment since the previous sample
 *    or since the start of a call in flight then (each thread publishes
 *    when its call began), so the new peak must not exceed the largest
 *    limit in effect during that window.  The limiter keeps each level's
 *    history of limits with the times around each change.  With a limit
 *    constant over the window this is the exact bound, peak <= max; a
 *    plain sample of usage against max would be wrong, since usage
 *    includes adds that are about to be undone.  Only a level's own max
 *    bounds its peak: a child's peak may pass its parent's limit by the
 *    pages an ancestor then refused (M6).
 *
 *    Runs in a leaf of their own give it a limit that never changes, and
 *    check its peak against it exactly when they leave it.
 *
 *  - Every half second, with the runs paused between calls, ksgxd
 *    stopped and the workers flushed: epcg_sgx_check() (each level's
 *    usage is exactly the frames charged to its subtree, LRUs and free
 *    lists agree); usage <= peak <= the largest limit the level ever had;
 *    and usage at most the larger of its value at the last pause and the
 *    largest limit in force since (see check_invariants()).
 *
 *  - No livelock: a call still running after LIVELOCK_S fails the test.
 *    Under v17 a fault may legitimately wait for ever (behaviour 16: a
 *    parent full of two children's pages, neither child's own usage at
 *    the worker's threshold, so nobody reclaims); as with a hung process,
 *    we send its task a signal after STALL_MS and count it.  Under intent
 *    no fault is signalled: they all finish on their own.
 *
 *  - At the end, every enclave released: every usage 0, every frame
 *    free, epcg_sgx_check() clean.
 *
 * Seeded (EPCG_SEED), time-bounded (EPCG_STRESS_SECONDS, default 5 s,
 * half per policy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>
#include <pthread.h>
#include <unistd.h>

#include "sgx/sgx-internal.h"
#include "test.h"
#include "util/atomic.h"
#include "util/macros.h"

#define RES EPCG_MISC_RES_SGX_EPC
#define PG EPCG_PAGE_SIZE
#define RW (EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE)

#define NR_PAGES 1024 /* the EPC: 4 MiB */
#define NR_WORKERS 8
#define NR_FIXED 56 /* cgroups below the root */
#define MAX_DEPTH 4
#define MIN_ENCL 16 /* pages added per enclave: 16 to 256 */
#define MAX_ENCL 256
#define ADD_CHUNK 32
#define MAX_HIST 8192 /* limit changes kept per level */
#define STALL_MS 200
#define LIVELOCK_S 20
#define SLACK_NS 1000000ull /* clocks of two threads: 1 ms of doubt */
#define PAUSE_NS 500000000ull /* a quiescent check every half second */

enum limit_class {
	LIM_NONE, /* always "max" */
	LIM_TINY, /* 1 to 4 pages: below SECS plus VA plus a page */
	LIM_SMALL, /* 5 to 64 pages */
	LIM_LARGE, /* 64 to 512 pages */
	LIM_NR
};

/* One limit and when it may have been in force: from @t0 (just before it
 * was set) until the next entry's @t1 (just after that one was set). */
struct limit {
	uint64_t value, t0, t1;
};

struct node {
	struct epcg_misc_cg *cg;
	unsigned depth;
	enum limit_class cls;
	pthread_mutex_t lock; /* guards hist, nr_hist, hi_max */
	struct limit *hist;
	unsigned nr_hist;
	uint64_t hi_max;
	uint64_t last_peak; /* sampler only */
	uint64_t last_usage; /* at the last pause; main thread only */
};

/* How a run ended; each run ends exactly one way. */
enum end {
	END_DONE,
	END_ENOMEM_CREATE,
	END_ENOMEM_ADD,
	END_SIGBUS,
	END_KILLED,
	END_STALLED, /* v17: a fault signalled by the watchdog */
	END_NR
};

static const char *const end_names[END_NR] = {
	"done",	  "ENOMEM at create", "ENOMEM at add",
	"SIGBUS", "killed",	      "stalled (v17)"
};

/* What the call in flight is, for the watchdog. */
enum call {
	CALL_NONE,
	CALL_BUILD, /* create, add pages: reclaim and wait */
	CALL_FAULT, /* access: retries while the cgroup's work runs */
};

struct worker {
	unsigned id;
	struct epcg_task task;
	uint64_t rng;
	pthread_t thread;
	epcg_atomic(uint64_t) call_ns; /* start of the call in flight, or 0 */
	epcg_atomic(int) call; /* enum call */
	epcg_atomic(bool) stalled; /* the watchdog signalled this call */
	/* The current run. */
	unsigned gen;
	uint32_t *ver; /* per page of ELRANGE: 0 never written */
	uint64_t nr_added, nr_range;
	char leaf[32];
	uint64_t leaf_max;
	/* Counts. */
	uint64_t ends[END_NR];
	uint64_t accesses, eaug, migrations, dying;
	uint64_t leaf_checks, leaf_full;
};

static struct {
	enum epcg_sgx_policy policy;
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct node nodes[NR_FIXED + 1]; /* [0] is the root */
	struct worker workers[NR_WORKERS];
	pthread_t limiter, sampler;
	uint64_t stall_ns, livelock_ns;
	epcg_atomic(bool) sampler_stop;
	epcg_atomic(uint64_t) peak_checks, tight_checks, at_limit;
	uint64_t last_pause_ns, usage_checks, usage_tight;
	/* Pausing runs for the periodic check; lock guards the rest. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause, stop;
	unsigned nr_paused;
	uint64_t nr_stalls, nr_kills, nr_limits;
} S;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *rng, uint64_t n)
{
	return epcg_test_rand(rng) % n;
}

/* ---- limits and their history ---- */

static uint64_t random_limit(enum limit_class cls, uint64_t *rng)
{
	switch (cls) {
	case LIM_TINY:
		return (1 + rnd(rng, 4)) * PG;
	case LIM_SMALL:
		return (5 + rnd(rng, 60)) * PG;
	case LIM_LARGE:
		return (64 + rnd(rng, 449)) * PG;
	default:
		return EPCG_MISC_MAX;
	}
}

/* A third unlimited, a third large, the rest small or tiny. */
static enum limit_class random_class(uint64_t *rng)
{
	static const enum limit_class pick[12] = {
		LIM_NONE,  LIM_NONE,  LIM_NONE,	 LIM_NONE,
		LIM_TINY,  LIM_TINY,  LIM_SMALL, LIM_SMALL,
		LIM_LARGE, LIM_LARGE, LIM_LARGE, LIM_LARGE,
	};

	return pick[rnd(rng, EPCG_ARRAY_SIZE(pick))];
}

static void set_limit(struct node *n, uint64_t value)
{
	uint64_t t0 = now_ns(), t1;

	ASSERT_OK(epcg_misc_set_max(n->cg, RES, value));
	t1 = now_ns();
	pthread_mutex_lock(&n->lock);
	if (n->nr_hist == MAX_HIST) { /* keep the bound sound: merge */
		n->hist[MAX_HIST - 2].value =
			EPCG_MAX(n->hist[MAX_HIST - 2].value,
				 n->hist[MAX_HIST - 1].value);
		n->nr_hist--;
	}
	n->hist[n->nr_hist++] = (struct limit){ value, t0, t1 };
	n->hi_max = EPCG_MAX(n->hi_max, value);
	pthread_mutex_unlock(&n->lock);
}

/*
 * The largest limit that a charge reading @n's max between @a and @b may
 * have seen; *@tight: whether only one limit was in force then.
 */
static uint64_t limit_bound(struct node *n, uint64_t a, uint64_t b, bool *tight)
{
	uint64_t bound = 0;
	unsigned seen = 0;

	a = a > SLACK_NS ? a - SLACK_NS : 0;
	b += SLACK_NS;
	pthread_mutex_lock(&n->lock);
	for (unsigned k = 0; k < n->nr_hist; k++) {
		bool last = k + 1 == n->nr_hist;

		if (n->hist[k].t0 > b || (!last && n->hist[k + 1].t1 < a))
			continue;
		bound = EPCG_MAX(bound, n->hist[k].value);
		seen++;
	}
	pthread_mutex_unlock(&n->lock);
	*tight = seen == 1;
	return bound;
}

/* ---- the peak sampler ---- */

/*
 * The earliest start of a call in flight, or @t if none.  A call that
 * publishes its start just as we read finds the clock within SLACK_NS of
 * @t; the slack also covers the two threads' views of memory and clock.
 */
static uint64_t calls_since(uint64_t t)
{
	for (unsigned i = 0; i < NR_WORKERS; i++) {
		uint64_t c = epcg_atomic_load_acquire(&S.workers[i].call_ns);

		if (c && c < t)
			t = c;
	}
	return t;
}

static void sample_peaks(uint64_t since)
{
	uint64_t cap = epcg_misc_capacity(S.m, RES);

	for (unsigned i = 0; i <= NR_FIXED; i++) {
		struct node *n = &S.nodes[i];
		uint64_t peak = epcg_misc_peak(n->cg, RES), bound;
		bool tight;

		if (peak > cap)
			epcg_test_fail(__FILE__, __LINE__,
				       "peak %llu above the capacity",
				       (unsigned long long)peak);
		if (peak <= n->last_peak)
			continue;
		n->last_peak = peak;
		if (i == 0)
			continue; /* the root: bounded by the capacity */
		bound = limit_bound(n, since, now_ns(), &tight);
		epcg_atomic_fetch_add_relaxed(&S.peak_checks, 1);
		if (tight)
			epcg_atomic_fetch_add_relaxed(&S.tight_checks, 1);
		if (peak == bound)
			epcg_atomic_fetch_add_relaxed(&S.at_limit, 1);
		if (peak > bound) {
			char path[128];

			epcg_misc_cg_path(n->cg, path, sizeof(path));
			epcg_test_fail(__FILE__, __LINE__,
				       "%s: peak %llu pages, above every limit "
				       "in force (at most %llu pages)",
				       path, (unsigned long long)(peak / PG),
				       (unsigned long long)(bound / PG));
		}
	}
}

static void *sampler_main(void *arg)
{
	uint64_t since = 0;

	(void)arg;
	while (!epcg_atomic_load_acquire(&S.sampler_stop)) {
		uint64_t t = now_ns(), next = calls_since(t);

		sample_peaks(since);
		since = next;
		usleep(500);
	}
	return NULL;
}

/* ---- pausing ---- */

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

/* ---- runs ---- */

static void call_begin(struct worker *w, enum call call)
{
	epcg_atomic_store_relaxed(&w->call, (int)call);
	epcg_atomic_store_release(&w->call_ns, now_ns());
}

static void call_end(struct worker *w)
{
	epcg_atomic_store_release(&w->call_ns, 0);
}

/* Version @ver of page @idx of run @gen of worker @wid; 0 is zeros. */
static void fill(uint64_t *buf, unsigned wid, unsigned gen, uint64_t idx,
		 uint32_t ver)
{
	uint64_t x = ((uint64_t)wid << 56) ^ ((uint64_t)gen << 32) ^
		     (idx << 12) ^ ver;

	for (unsigned i = 0; i < PG / 8; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = ver ? x : 0;
	}
}

static bool signalled(struct worker *w)
{
	return epcg_task_signal_pending(&w->task);
}

/* The end of a run that stopped on -EINTR or a pending signal. */
static enum end killed_end(struct worker *w)
{
	return epcg_atomic_load_acquire(&w->stalled) ? END_STALLED : END_KILLED;
}

static struct node *random_node(struct worker *w)
{
	return &S.nodes[rnd(&w->rng, NR_FIXED + 1)];
}

static enum end build(struct worker *w, struct epcg_encl **ret)
{
	static _Thread_local uint64_t src[ADD_CHUNK * PG / 8];
	uint64_t size = 2 * PG, added = 0, n;
	struct epcg_encl *e;
	int err;

	w->nr_added = MIN_ENCL + rnd(&w->rng, MAX_ENCL - MIN_ENCL + 1);
	while (size < 2 * w->nr_added * PG) /* room to augment */
		size *= 2;
	w->nr_range = size / PG;
	call_begin(w, CALL_BUILD);
	err = epcg_encl_create(S.sgx, size, &e);
	call_end(w);
	if (err == -ENOMEM)
		return END_ENOMEM_CREATE;
	if (err == -EINTR)
		return killed_end(w);
	ASSERT_OK(err);
	*ret = e;
	w->ver = calloc(w->nr_range, sizeof(*w->ver));
	ASSERT_NOT_NULL(w->ver);
	while (added < w->nr_added) {
		uint64_t nr =
			EPCG_MIN((uint64_t)ADD_CHUNK, w->nr_added - added);
		bool tcs = added == 0;

		if (signalled(w))
			return killed_end(w);
		if (tcs)
			nr = 1;
		for (uint64_t i = 0; i < nr; i++)
			fill(src + i * PG / 8, w->id, w->gen, added + i, 1);
		call_begin(w, CALL_BUILD);
		err = epcg_encl_add_pages(e, added * PG, src, nr,
					  tcs ? EPCG_ENCL_PAGE_TCS :
						EPCG_ENCL_PAGE_REG,
					  tcs ? 0 : RW, &n);
		call_end(w);
		for (uint64_t i = 0; i < n; i++)
			w->ver[added + i] = 1;
		added += n;
		if (err == -ENOMEM) {
			ASSERT_CMP(n, <, nr);
			return END_ENOMEM_ADD;
		}
		if (err == -EINTR)
			return killed_end(w);
		ASSERT_OK(err);
		ASSERT_U64_EQ(n, nr);
	}
	ASSERT_OK(epcg_encl_init(e, NULL));
	return END_DONE;
}

/* One access: check page @idx is its last version, maybe write the next. */
static int step(struct worker *w, struct epcg_encl *e,
		struct epcg_encl_thread *t)
{
	static _Thread_local uint64_t buf[PG / 8], want[PG / 8];
	uint64_t idx = rnd(&w->rng, 16) ? rnd(&w->rng, w->nr_added) :
					  rnd(&w->rng, w->nr_range);
	bool unbacked = idx >= w->nr_added && !w->ver[idx];
	int err;

	call_begin(w, CALL_FAULT);
	err = epcg_encl_access(e, t, idx * PG, EPCG_ENCL_READ, buf, PG);
	call_end(w);
	w->accesses++;
	if (err)
		return err;
	if (unbacked)
		w->eaug++;
	fill(want, w->id, w->gen, idx, w->ver[idx]);
	if (memcmp(buf, want, PG))
		epcg_test_fail(__FILE__, __LINE__,
			       "worker %u run %u page %llu: not version %u",
			       w->id, w->gen, (unsigned long long)idx,
			       w->ver[idx]);
	if (rnd(&w->rng, 2))
		return 0;
	fill(buf, w->id, w->gen, idx, w->ver[idx] + 1);
	call_begin(w, CALL_FAULT);
	err = epcg_encl_access(e, t, idx * PG, EPCG_ENCL_WRITE, buf, PG);
	call_end(w);
	w->accesses++;
	if (!err)
		w->ver[idx]++;
	return err;
}

/*
 * Leave our own leaf (rmdir): nothing is charged to it any more, so its
 * peak is final, and its limit never changed: peak <= max exactly.
 */
static void leaf_leave(struct worker *w, struct epcg_misc_cg *leaf)
{
	uint64_t peak = epcg_misc_peak(leaf, RES);

	ASSERT_CMP(peak, <=, w->leaf_max);
	w->leaf_checks++;
	w->leaf_full += peak == w->leaf_max;
	epcg_misc_task_attach(&w->task, epcg_misc_cg_parent(leaf));
	ASSERT_OK(epcg_misc_cg_remove(leaf));
}

/* Halfway through a run: move, and give up a leaf of our own. */
static void move_on(struct worker *w, struct epcg_misc_cg **leaf)
{
	if (*leaf) {
		/* rmdir while the enclave still holds pages: it dies. */
		leaf_leave(w, *leaf);
		*leaf = NULL;
		w->dying++;
	} else if (!rnd(&w->rng, 4)) {
		epcg_misc_task_attach(&w->task, random_node(w)->cg);
		w->migrations++;
	}
}

static enum end run_enclave(struct worker *w, struct epcg_encl *e,
			    struct epcg_misc_cg **leaf)
{
	unsigned nr_steps = 100 + (unsigned)rnd(&w->rng, 400);
	struct epcg_encl_thread *t;
	enum end how = END_DONE;

	ASSERT_OK(epcg_encl_enter(e, &t));
	for (unsigned i = 0; i < nr_steps; i++) {
		int err;

		if (i % 32 == 0 && !checkpoint())
			break;
		if (i == nr_steps / 2)
			move_on(w, leaf);
		if (signalled(w)) {
			how = killed_end(w);
			break;
		}
		err = step(w, e, t);
		if (err == -EINTR) {
			how = killed_end(w);
			break;
		}
		if (err == -EFAULT) {
			ASSERT_TRUE(epcg_encl_faulted(e));
			how = END_SIGBUS;
			break;
		}
		ASSERT_OK(err);
	}
	epcg_encl_exit(t);
	return how;
}

/* Attach to a random cgroup, or to a new leaf of our own (*@leaf). */
static void pick_cgroup(struct worker *w, struct epcg_misc_cg **leaf)
{
	struct node *n = random_node(w);

	*leaf = NULL;
	if (rnd(&w->rng, 4) == 0 && n->depth < MAX_DEPTH) {
		snprintf(w->leaf, sizeof(w->leaf), "w%u-%u", w->id, w->gen);
		ASSERT_OK(epcg_misc_cg_create(n->cg, w->leaf, leaf));
		w->leaf_max = random_limit(random_class(&w->rng), &w->rng);
		if (w->leaf_max != EPCG_MISC_MAX)
			ASSERT_OK(epcg_misc_set_max(*leaf, RES, w->leaf_max));
		epcg_misc_task_attach(&w->task, *leaf);
	} else {
		epcg_misc_task_attach(&w->task, n->cg);
	}
}

static void one_run(struct worker *w)
{
	struct epcg_misc_cg *leaf;
	struct epcg_encl *e = NULL;
	enum end how;

	w->gen++;
	pick_cgroup(w, &leaf);
	how = build(w, &e);
	if (how == END_DONE)
		how = run_enclave(w, e, &leaf);
	epcg_encl_release(e); /* process exit */
	free(w->ver);
	w->ver = NULL;
	if (leaf)
		leaf_leave(w, leaf);
	w->ends[how]++;
	epcg_task_set_signal(&w->task, 0);
	epcg_atomic_store_release(&w->stalled, false);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	epcg_task_set_current(&w->task);
	while (checkpoint())
		one_run(w);
	epcg_misc_task_attach(&w->task, NULL);
	epcg_task_set_current(NULL);
	return NULL;
}

/* ---- the limiter: limits move, runs get killed ---- */

static void *limiter_main(void *arg)
{
	uint64_t rng = *(uint64_t *)arg;

	while (checkpoint()) {
		struct node *n = &S.nodes[1 + rnd(&rng, NR_FIXED)];

		if (n->cls != LIM_NONE) {
			set_limit(n, random_limit(n->cls, &rng));
			S.nr_limits++;
		}
		if (rnd(&rng, 50) == 0) {
			struct worker *w = &S.workers[rnd(&rng, NR_WORKERS)];

			epcg_task_set_signal(&w->task, 1);
			S.nr_kills++;
		}
		usleep(2000);
	}
	return NULL;
}

/* ---- the watchdog, run by the main thread ---- */

static void watchdog(void)
{
	uint64_t t = now_ns();

	for (unsigned i = 0; i < NR_WORKERS; i++) {
		struct worker *w = &S.workers[i];
		uint64_t c = epcg_atomic_load_acquire(&w->call_ns);

		if (!c || c > t)
			continue;
		if (t - c > S.livelock_ns)
			epcg_test_fail(__FILE__, __LINE__,
				       "%s: worker %u stuck in a call for %llu "
				       "ms",
				       epcg_sgx_policy_name(S.policy), i,
				       (unsigned long long)((t - c) / 1000000));
		if (S.policy == EPCG_SGX_POLICY_V17 && t - c > S.stall_ns &&
		    epcg_atomic_load_relaxed(&w->call) == CALL_FAULT &&
		    !epcg_atomic_xchg_acq_rel(&w->stalled, true)) {
			epcg_task_set_signal(&w->task, 1);
			S.nr_stalls++;
		}
	}
}

/* Wait until @nr threads are paused, running the watchdog meanwhile. */
static void wait_paused(unsigned nr)
{
	pthread_mutex_lock(&S.lock);
	while (S.nr_paused < nr) {
		pthread_mutex_unlock(&S.lock);
		watchdog();
		usleep(2000);
		pthread_mutex_lock(&S.lock);
	}
	pthread_mutex_unlock(&S.lock);
}

/*
 * At a quiescent point: usage is exactly what the frames say, and no
 * level holds more than it may.  Since the last pause, each successful
 * charge left usage at most the limit it read, and frees only lower it,
 * so usage now is at most the larger of usage then and the largest limit
 * in force meanwhile: exact when the limit did not move and usage was
 * within it.
 */
static void check_invariants(const char *when)
{
	uint64_t t = now_ns();
	char why[256];

	epcg_exec_flush(S.ex);
	if (epcg_sgx_check(S.sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "%s: invariant: %s", when,
			       why);
	for (unsigned i = 0; i <= NR_FIXED; i++) {
		struct node *n = &S.nodes[i];
		uint64_t usage = epcg_misc_usage(n->cg, RES);
		uint64_t peak = epcg_misc_peak(n->cg, RES), hi, bound;
		bool tight;

		pthread_mutex_lock(&n->lock);
		hi = n->hi_max;
		pthread_mutex_unlock(&n->lock);
		ASSERT_CMP(usage, <=, peak);
		ASSERT_CMP(peak, <=, hi);
		if (i == 0)
			continue;
		bound = limit_bound(n, S.last_pause_ns, t, &tight);
		if (usage > EPCG_MAX(n->last_usage, bound)) {
			char path[128];

			epcg_misc_cg_path(n->cg, path, sizeof(path));
			epcg_test_fail(__FILE__, __LINE__,
				       "%s: %s holds %llu pages, was %llu, "
				       "limits since at most %llu",
				       when, path,
				       (unsigned long long)(usage / PG),
				       (unsigned long long)(n->last_usage / PG),
				       (unsigned long long)(bound / PG));
		}
		S.usage_checks++;
		S.usage_tight += tight && n->last_usage <= bound;
		n->last_usage = usage;
	}
	S.last_pause_ns = t;
}

/* Stop everything that touches pages, check, and start again. */
static void check_paused(void)
{
	pthread_mutex_lock(&S.lock);
	S.pause = true;
	pthread_mutex_unlock(&S.lock);
	wait_paused(NR_WORKERS + 1);

	epcg__sgx_ksgxd_stop(S.sgx);
	check_invariants("paused");
	ASSERT_OK(epcg__sgx_ksgxd_start(S.sgx));

	pthread_mutex_lock(&S.lock);
	S.pause = false;
	pthread_cond_broadcast(&S.cond);
	pthread_mutex_unlock(&S.lock);
}

/* ---- setup ---- */

static void build_tree(uint64_t *rng)
{
	struct epcg_misc_cg *root = epcg_misc_root(S.m);
	uint64_t cap = (uint64_t)NR_PAGES * PG, sum = 0;
	char name[16];

	for (unsigned i = 0; i <= NR_FIXED; i++) {
		struct node *n = &S.nodes[i];

		pthread_mutex_init(&n->lock, NULL);
		n->hist = calloc(MAX_HIST, sizeof(*n->hist));
		ASSERT_NOT_NULL(n->hist);
	}
	S.nodes[0].cg = root;
	S.nodes[0].hi_max = cap;
	for (unsigned i = 1; i <= NR_FIXED; i++) {
		struct node *n = &S.nodes[i];
		unsigned p;

		do
			p = (unsigned)rnd(rng, i);
		while (S.nodes[p].depth >= MAX_DEPTH);
		n->depth = S.nodes[p].depth + 1;
		n->cls = random_class(rng);
		snprintf(name, sizeof(name), "n%u", i);
		ASSERT_OK(epcg_misc_cg_create(S.nodes[p].cg, name, &n->cg));
		if (n->cls == LIM_NONE) {
			n->hist[0] = (struct limit){ EPCG_MISC_MAX, 0, 0 };
			n->nr_hist = 1;
			n->hi_max = EPCG_MISC_MAX;
		} else {
			set_limit(n, random_limit(n->cls, rng));
			sum += EPCG_MIN(n->hi_max, cap);
		}
	}
	ASSERT_CMP(sum, >, cap);
}

static void free_tree(void)
{
	for (unsigned i = NR_FIXED; i >= 1; i--)
		ASSERT_OK(epcg_misc_cg_remove(S.nodes[i].cg));
	for (unsigned i = 0; i <= NR_FIXED; i++) {
		free(S.nodes[i].hist);
		pthread_mutex_destroy(&S.nodes[i].lock);
	}
}

/*
 * The machine installs the enclave layer's owner operations when its
 * first enclave is created, with a plain store that two first creations
 * at once would race on: make that first enclave here, alone.
 */
static void first_enclave(void)
{
	struct epcg_encl *e;

	ASSERT_OK(epcg_encl_create(S.sgx, 2 * PG, &e));
	epcg_encl_release(e);
}

static double timeout_scale(void)
{
	const char *s = getenv("EPCG_TEST_TIMEOUT_SCALE");
	double v = s ? atof(s) : 1;

	return v > 1 ? v : 1;
}

static void run_policy(enum epcg_sgx_policy policy, uint64_t *rng, double secs)
{
	struct epcg_epc_section_spec sec = { (uint64_t)NR_PAGES * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, policy };
	uint64_t ends[END_NR] = { 0 }, acc = 0, eaug = 0, mig = 0, dying = 0;
	uint64_t lim_rng = epcg_test_rand(rng), deadline, runs = 0;
	uint64_t leaf_checks = 0, leaf_full = 0;
	struct epcg_sgx_stats st;
	struct epcg_epc *epc;
	char line[512];
	int len = 0;

	memset(&S, 0, sizeof(S));
	S.policy = policy;
	S.stall_ns = STALL_MS * 1000000ull;
	S.livelock_ns = (uint64_t)(LIVELOCK_S * timeout_scale() * 1e9);
	pthread_mutex_init(&S.lock, NULL);
	pthread_cond_init(&S.cond, NULL);
	ASSERT_OK(epcg_exec_live_create(2, &S.ex));
	ASSERT_OK(epcg_misc_create(&S.m));
	ASSERT_OK(epcg_sgx_create(S.m, S.ex, &cfg, &S.sgx));
	epc = epcg_sgx_epc(S.sgx);
	first_enclave();
	build_tree(rng);

	deadline = now_ns() + (uint64_t)(secs * 1e9);
	ASSERT_EQ(pthread_create(&S.sampler, NULL, sampler_main, NULL), 0);
	for (unsigned i = 0; i < NR_WORKERS; i++) {
		struct worker *w = &S.workers[i];

		w->id = i;
		w->rng = epcg_test_rand(rng);
		epcg_task_init(&w->task, 2000 + (int)i, -1);
		ASSERT_EQ(pthread_create(&w->thread, NULL, worker_main, w), 0);
	}
	ASSERT_EQ(pthread_create(&S.limiter, NULL, limiter_main, &lim_rng), 0);
	for (uint64_t next = now_ns() + PAUSE_NS; now_ns() < deadline;) {
		watchdog();
		usleep(5000);
		if (now_ns() >= next && now_ns() + PAUSE_NS / 2 < deadline) {
			check_paused();
			next = now_ns() + PAUSE_NS;
		}
	}
	pthread_mutex_lock(&S.lock);
	S.stop = true;
	pthread_mutex_unlock(&S.lock);
	/* Runs finish their current call and release their enclave. */
	for (unsigned i = 0; i < NR_WORKERS; i++) {
		struct worker *w = &S.workers[i];

		while (pthread_tryjoin_np(w->thread, NULL)) {
			watchdog();
			usleep(2000);
		}
		for (int k = 0; k < END_NR; k++) {
			ends[k] += w->ends[k];
			runs += w->ends[k];
		}
		acc += w->accesses, eaug += w->eaug;
		leaf_checks += w->leaf_checks, leaf_full += w->leaf_full;
		mig += w->migrations, dying += w->dying;
	}
	pthread_join(S.limiter, NULL);
	epcg_atomic_store_release(&S.sampler_stop, true);
	pthread_join(S.sampler, NULL);
	sample_peaks(0);

	/* Everything released: usage 0 everywhere, every frame free. */
	for (int i = 0;
	     i < 5000 && epcg_epc_nr_free(epc) != epcg_epc_nr_pages(epc); i++)
		usleep(1000);
	check_invariants("end");
	for (unsigned i = 0; i <= NR_FIXED; i++)
		ASSERT_U64_EQ(epcg_misc_usage(S.nodes[i].cg, RES), 0);
	ASSERT_U64_EQ(epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc));

	epcg_sgx_stats(S.sgx, &st);
	for (int k = 0; k < END_NR; k++)
		len += snprintf(line + len, sizeof(line) - (size_t)len,
				"%s%llu %s", k ? ", " : "",
				(unsigned long long)ends[k], end_names[k]);
	epcg_test_note("%s: %llu runs: %s", epcg_sgx_policy_name(policy),
		       (unsigned long long)runs, line);
	epcg_test_note("%s: %llu accesses, %llu EAUG, %llu moved, %llu dying "
		       "leaves; %llu limit changes, %llu kills, %llu stalls "
		       "signalled; EWB %llu, ELDU %llu",
		       epcg_sgx_policy_name(policy), (unsigned long long)acc,
		       (unsigned long long)eaug, (unsigned long long)mig,
		       (unsigned long long)dying,
		       (unsigned long long)S.nr_limits,
		       (unsigned long long)S.nr_kills,
		       (unsigned long long)S.nr_stalls,
		       (unsigned long long)st.ewb, (unsigned long long)st.eldu);
	epcg_test_note("%s: peak rises checked: %llu (%llu under a constant "
		       "limit, %llu reaching it), leaves' peaks %llu (%llu "
		       "at their limit); usage at pauses %llu (%llu exact)",
		       epcg_sgx_policy_name(policy),
		       (unsigned long long)S.peak_checks,
		       (unsigned long long)S.tight_checks,
		       (unsigned long long)S.at_limit,
		       (unsigned long long)leaf_checks,
		       (unsigned long long)leaf_full,
		       (unsigned long long)S.usage_checks,
		       (unsigned long long)S.usage_tight);
	ASSERT_CMP(ends[END_DONE], >, 0);
	ASSERT_CMP(st.ewb, >, 0);
	ASSERT_CMP(S.peak_checks + leaf_checks, >, 0);
	if (policy == EPCG_SGX_POLICY_INTENT)
		ASSERT_U64_EQ(ends[END_STALLED], 0);

	free_tree();
	epcg_exec_flush(S.ex);
	epcg_sgx_destroy(S.sgx);
	epcg_misc_destroy(S.m);
	epcg_exec_destroy(S.ex);
	pthread_cond_destroy(&S.cond);
	pthread_mutex_destroy(&S.lock);
}

TEST(stress_cgroup_encl)
{
	uint64_t seed = epcg_test_seed(), rng = seed, t0 = now_ns();
	double secs = epcg_test_stress_seconds(5);

	for (int pol = 0; pol < EPCG_SGX_POLICY_NR; pol++)
		run_policy((enum epcg_sgx_policy)pol, &rng, secs / 2);
	epcg_test_note("seed %llu, %.1f s", (unsigned long long)seed,
		       (double)(now_ns() - t0) / 1e9);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY_TIMEOUT(stress_cgroup_encl, 300),
};

TEST_MAIN(tests)
