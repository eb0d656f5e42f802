// SPDX-License-Identifier: MIT
/*
 * The v17 series' EPC cgroup selftest, as our own test: its cgroup layout
 * and its arithmetic, on a software machine, with real enclaves built and
 * run by real threads, one thread for each process the script starts.
 *
 * The script (reference notes, epc-cgroup-series.md section 5) reads the
 * capacity C from misc.capacity, makes
 *
 *	sgx_kselftest/
 *		sgx_test_small_parent/	max C/512
 *			sgx_test_small/
 *		sgx_test_large/		max 4 x C/512
 *		sgx_test_larger/	max C
 *
 * and runs a workload that builds an enclave as large as the whole EPC
 * (add every page, init), enters it and touches pages.  C/512 bytes is
 * exactly the Version Array footprint of such an enclave (one VA page per
 * 512 pages), so with its SECS it cannot fit in the small limit; the large
 * limit holds the unreclaimable pages of three such enclaves but not four.
 * The cases, in its order:
 *
 *	1. one run in sgx_test_small (limit on the parent): fails;
 *	2. four concurrent runs in sgx_test_large: at least one succeeds;
 *	3. five concurrent runs in sgx_test_large: at least one fails;
 *	4. eight concurrent runs in sgx_test_larger: all succeed;
 *	5. the same, one run killed at a random moment: all others succeed;
 *	then sgx_kselftest's misc.current must be 0 (the leak check).
 *
 * Its sixth case (a memory.max that the enclaves' backing store exceeds)
 * has no counterpart: epcg's backing store is host memory charged to no
 * controller.
 *
 * We check more than the script can see: which runs fail, where and with
 * which error (-ENOMEM from adding pages when only SECS and VA pages are
 * left, or the SIGBUS outcome, -EFAULT, of a fault that found nothing
 * reclaimable), the exact page at which the lone run of case 1 stops,
 * that no level's misc.peak ever exceeds its max (limits are constant
 * during a case, and peaks are only raised by charges that passed), the
 * events counters, every page's content, and after each case: usage 0,
 * every frame free, epcg_sgx_check() clean.  A killed run gets its task's
 * signal and releases its enclave, as process death would.
 *
 * Both policies run the whole sequence, except in sanitizer builds,
 * where intent stops after case 3: cases 4 and 5 (sixteen enclaves of C
 * in one cgroup) take most of the time and neither policy behaves
 * differently there.  The capacity is 32 MiB; smaller ones break the
 * script's own expectations (docs/reclaim.md, "The selftest").
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
#include "util/macros.h"

#define RES EPCG_MISC_RES_SGX_EPC
#define PG EPCG_PAGE_SIZE
#define RW (EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE)
#define RX (EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_EXEC)

#define KS_EPC_MIB 32 /* C; docs/reclaim.md says why not smaller */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define MAX_RUNS 8
#define CHUNK 256 /* pages per add call: a killed run stops between calls */
#define TOUCH_STRIDE 61 /* heap pages read back: every 61st */
#define MAGIC 0x5eed5e1f7e57ull

/* Where a run ended. */
enum stage { ST_CREATE, ST_ADD, ST_INIT, ST_TOUCH, ST_DONE, ST_NR };

static const char *const stage_names[ST_NR] = { "create", "add", "init",
						"touch", "done" };

struct ks;

struct run {
	struct ks *ks;
	unsigned id;
	struct epcg_task task;
	pthread_t thread;
	int err; /* 0, or the error that ended it */
	enum stage stage;
	uint64_t added; /* pages added before it ended */
	bool killed; /* its task got the signal */
};

struct ks {
	enum epcg_sgx_policy policy;
	uint64_t cap; /* C, in pages */
	uint64_t encl_pages; /* TCS + code + C of heap */
	uint64_t encl_size; /* ELRANGE: the next power of two */
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_misc_cg *top, *small_parent, *small, *large, *larger;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned nr_ready;
	bool go;
	struct run runs[MAX_RUNS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Page @idx of run @id's enclave (@buf 8-byte aligned): a sequence seeded
 * with both, so a page of another run or index differs.
 */
static void pattern(uint8_t *buf, unsigned id, uint64_t idx)
{
	uint64_t x = ((uint64_t)id << 40) ^ (idx << 8) ^ 0xa5, *w = (void *)buf;

	for (unsigned i = 0; i < PG / 8; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		w[i] = x;
	}
}

static bool killed(struct run *r)
{
	return epcg_task_signal_pending(&r->task);
}

/* Record how @r ended; false so callers can "return end(...)". */
static bool end(struct run *r, enum stage st, int err)
{
	r->stage = st;
	r->err = err;
	return false;
}

/* Add the TCS, one code page and the heap, CHUNK pages per call. */
static bool add_all(struct run *r, struct epcg_encl *e, uint8_t *buf)
{
	uint64_t n, idx = 0;
	int err;

	pattern(buf, r->id, 0);
	err = epcg_encl_add_pages(e, 0, buf, 1, EPCG_ENCL_PAGE_TCS, 0, &n);
	r->added += n;
	if (err)
		return end(r, ST_ADD, err);
	pattern(buf, r->id, 1);
	err = epcg_encl_add_pages(e, PG, buf, 1, EPCG_ENCL_PAGE_REG, RX, &n);
	r->added += n;
	if (err)
		return end(r, ST_ADD, err);
	for (idx = 2; idx < r->ks->encl_pages; idx += n) {
		uint64_t nr =
			EPCG_MIN((uint64_t)CHUNK, r->ks->encl_pages - idx);

		if (killed(r))
			return end(r, ST_ADD, -EINTR);
		for (uint64_t i = 0; i < nr; i++)
			pattern(buf + i * PG, r->id, idx + i);
		err = epcg_encl_add_pages(e, idx * PG, buf, nr,
					  EPCG_ENCL_PAGE_REG, RW, &n);
		r->added += n;
		if (err)
			return end(r, ST_ADD, err);
	}
	return true;
}

/*
 * What "unclobbered_vdso_oversubscribed" does once built: enter, put a
 * value into a buffer of the heap and get it back; we also read the TCS,
 * the code page and every TOUCH_STRIDE-th heap page, checking contents.
 */
static bool touch(struct run *r, struct epcg_encl *e, uint8_t *buf)
{
	static _Thread_local uint64_t want[PG / 8];
	struct epcg_encl_thread *t;
	uint64_t magic = MAGIC ^ r->id, got = 0;
	struct epcg_encl_stats st;
	int err;

	err = epcg_encl_enter(e, &t);
	if (err)
		return end(r, ST_TOUCH, err);
	err = epcg_encl_access(e, t, 2 * PG, EPCG_ENCL_WRITE, &magic,
			       sizeof(magic));
	if (!err)
		err = epcg_encl_access(e, t, 2 * PG, EPCG_ENCL_READ, &got,
				       sizeof(got));
	if (!err && got != magic)
		epcg_test_fail(__FILE__, __LINE__, "run %u: buffer reads %llx",
			       r->id, (unsigned long long)got);
	for (uint64_t idx = 0; !err && idx < r->ks->encl_pages;
	     idx = idx < 3 ? idx + 1 : idx + TOUCH_STRIDE) {
		if (killed(r)) {
			err = -EINTR;
			break;
		}
		if (idx == 2)
			continue; /* the buffer, changed above */
		err = epcg_encl_access(e, t, idx * PG, EPCG_ENCL_READ, buf, PG);
		if (err)
			break;
		pattern((uint8_t *)want, r->id, idx);
		if (memcmp(buf, want, PG))
			epcg_test_fail(__FILE__, __LINE__,
				       "run %u: page %llu differs", r->id,
				       (unsigned long long)idx);
	}
	epcg_encl_exit(t);
	epcg_encl_stats(e, &st);
	if (err)
		return end(r, ST_TOUCH, err);
	if (st.faulted)
		epcg_test_fail(__FILE__, __LINE__, "run %u faulted silently",
			       r->id);
	return true;
}

static void *run_main(void *arg)
{
	struct run *r = arg;
	struct ks *ks = r->ks;
	uint8_t *buf = malloc((size_t)CHUNK * PG);
	struct epcg_encl *e = NULL;
	int err;

	ASSERT_NOT_NULL(buf);
	epcg_task_set_current(&r->task);
	pthread_mutex_lock(&ks->lock);
	ks->nr_ready++;
	pthread_cond_broadcast(&ks->cond);
	while (!ks->go)
		pthread_cond_wait(&ks->cond, &ks->lock);
	pthread_mutex_unlock(&ks->lock);

	err = epcg_encl_create(ks->sgx, ks->encl_size, &e);
	if (err) {
		end(r, ST_CREATE, err);
		e = NULL;
	} else if (add_all(r, e, buf)) {
		err = killed(r) ? -EINTR : epcg_encl_init(e, NULL);
		if (err)
			end(r, ST_INIT, err);
		else if (touch(r, e, buf))
			end(r, ST_DONE, 0);
	}
	/* Process exit: the enclave goes, whatever happened. */
	epcg_encl_release(e);
	epcg_task_set_current(NULL);
	free(buf);
	return NULL;
}

/* Start @n runs in @cg, all at once (a barrier), as the script does. */
static void start_runs(struct ks *ks, struct epcg_misc_cg *cg, unsigned n)
{
	memset(ks->runs, 0, sizeof(ks->runs));
	ks->nr_ready = 0;
	ks->go = false;
	for (unsigned i = 0; i < n; i++) {
		struct run *r = &ks->runs[i];

		r->ks = ks;
		r->id = i + 1;
		epcg_task_init(&r->task, 1000 + (int)i, -1);
		epcg_misc_task_attach(&r->task, cg);
		ASSERT_EQ(pthread_create(&r->thread, NULL, run_main, r), 0);
	}
	pthread_mutex_lock(&ks->lock);
	while (ks->nr_ready < n)
		pthread_cond_wait(&ks->cond, &ks->lock);
	ks->go = true;
	pthread_cond_broadcast(&ks->cond);
	pthread_mutex_unlock(&ks->lock);
}

static void join_runs(struct ks *ks, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ASSERT_EQ(pthread_join(ks->runs[i].thread, NULL), 0);
		epcg_misc_task_attach(&ks->runs[i].task, NULL);
	}
}

/* Leak check and invariants, after every case. */
static void quiesce_and_check(struct ks *ks)
{
	struct epcg_epc *epc = epcg_sgx_epc(ks->sgx);
	char why[256];

	/* A ksgxd batch may still be freeing the frames it wrote out. */
	for (int i = 0;
	     i < 5000 && epcg_epc_nr_free(epc) != epcg_epc_nr_pages(epc); i++)
		usleep(1000);
	epcg_exec_flush(ks->ex);
	ASSERT_U64_EQ(epcg_misc_usage(ks->top, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(ks->m), RES), 0);
	ASSERT_U64_EQ(epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc));
	if (epcg_sgx_check(ks->sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "invariant: %s", why);
}

/*
 * No level's peak above its own max (the root's: the capacity).  Only its
 * own: a charge raises a level's peak as soon as it passes that level,
 * before an ancestor may refuse it (M6), so sgx_test_small's peak may be
 * one page above its parent's limit.
 */
static void check_peaks(struct ks *ks)
{
	struct epcg_misc_cg *cgs[] = { ks->top, ks->small_parent, ks->small,
				       ks->large, ks->larger };

	ASSERT_CMP(epcg_misc_peak(epcg_misc_root(ks->m), RES), <=,
		   ks->cap * PG);
	for (unsigned i = 0; i < EPCG_ARRAY_SIZE(cgs); i++)
		ASSERT_CMP(epcg_misc_peak(cgs[i], RES), <=,
			   EPCG_MIN(epcg_misc_max(cgs[i], RES), ks->cap * PG));
}

struct tally {
	unsigned ok, enomem, sigbus, killed;
};

/* Every run ended in a documented way; count the outcomes. */
static struct tally tally(struct ks *ks, unsigned n, const char *what)
{
	struct tally t = { 0 };
	char line[512];
	int len = 0;

	for (unsigned i = 0; i < n; i++) {
		struct run *r = &ks->runs[i];

		len += snprintf(line + len, sizeof(line) - (size_t)len,
				" %s%s@%s", r->err ? "" : "ok",
				r->err ? epcg_test_errname(r->err) : "",
				stage_names[r->stage]);
		if (r->killed) {
			/* Wherever it was: an interrupted wait, or done. */
			ASSERT_TRUE(r->err == 0 || r->err == -EINTR ||
				    r->err == -ENOMEM || r->err == -EFAULT);
			t.killed++;
		} else if (!r->err) {
			ASSERT_EQ(r->stage, ST_DONE);
			t.ok++;
		} else if (r->err == -ENOMEM) {
			/* Only SECS and VA pages left: building fails. */
			ASSERT_TRUE(r->stage == ST_CREATE ||
				    r->stage == ST_ADD);
			t.enomem++;
		} else if (r->err == -EFAULT) {
			/* A fault with nothing reclaimable: SIGBUS. */
			ASSERT_EQ(r->stage, ST_TOUCH);
			t.sigbus++;
		} else {
			epcg_test_fail(__FILE__, __LINE__,
				       "%s: run %u ended with %s at %s", what,
				       r->id, epcg_test_errname(r->err),
				       stage_names[r->stage]);
		}
	}
	epcg_test_note("%s %s:%s", epcg_sgx_policy_name(ks->policy), what,
		       line);
	return t;
}

static void setup(struct ks *ks, enum epcg_sgx_policy policy)
{
	struct epcg_sgx_config cfg;
	struct epcg_epc_section_spec sec;
	uint64_t c;

	memset(ks, 0, sizeof(*ks));
	ks->policy = policy;
	ks->cap = (uint64_t)KS_EPC_MIB << (20 - EPCG_PAGE_SHIFT);
	ks->encl_pages = ks->cap + 2;
	for (ks->encl_size = 2 * PG; ks->encl_size < ks->encl_pages * PG;)
		ks->encl_size *= 2;
	sec = (struct epcg_epc_section_spec){ ks->cap * PG, 0 };
	cfg = (struct epcg_sgx_config){ &sec, 1, policy };
	pthread_mutex_init(&ks->lock, NULL);
	pthread_cond_init(&ks->cond, NULL);
	ASSERT_OK(epcg_exec_live_create(2, &ks->ex));
	ASSERT_OK(epcg_misc_create(&ks->m));
	ASSERT_OK(epcg_sgx_create(ks->m, ks->ex, &cfg, &ks->sgx));

	c = epcg_misc_capacity(ks->m, RES); /* the script reads it */
	ASSERT_U64_EQ(c, ks->cap * PG);
	ASSERT_OK(epcg_misc_cg_create(epcg_misc_root(ks->m), "sgx_kselftest",
				      &ks->top));
	ASSERT_OK(epcg_misc_cg_create(ks->top, "sgx_test_small_parent",
				      &ks->small_parent));
	ASSERT_OK(epcg_misc_cg_create(ks->small_parent, "sgx_test_small",
				      &ks->small));
	ASSERT_OK(epcg_misc_cg_create(ks->top, "sgx_test_large", &ks->large));
	ASSERT_OK(epcg_misc_cg_create(ks->top, "sgx_test_larger", &ks->larger));
	ASSERT_OK(epcg_misc_set_max(ks->small_parent, RES, c / 512));
	ASSERT_OK(epcg_misc_set_max(ks->large, RES, 4 * (c / 512)));
	ASSERT_OK(epcg_misc_set_max(ks->larger, RES, c));
}

static void teardown(struct ks *ks)
{
	ASSERT_OK(epcg_misc_cg_remove(ks->small));
	ASSERT_OK(epcg_misc_cg_remove(ks->small_parent));
	ASSERT_OK(epcg_misc_cg_remove(ks->large));
	ASSERT_OK(epcg_misc_cg_remove(ks->larger));
	ASSERT_OK(epcg_misc_cg_remove(ks->top));
	epcg_exec_flush(ks->ex);
	epcg_sgx_destroy(ks->sgx);
	epcg_misc_destroy(ks->m);
	epcg_exec_destroy(ks->ex);
	pthread_cond_destroy(&ks->cond);
	pthread_mutex_destroy(&ks->lock);
}

/*
 * Pages the lone run of case 1 adds before -ENOMEM, with a limit of @l
 * pages: the SECS and the first VA page come with ECREATE; each page added
 * pushes the previous one out; when the page count (SECS included)
 * reaches 512 * k a VA page comes first.  When SECS plus VA pages fill the
 * limit, the next page finds nothing to reclaim: after 512 * (l - 2) - 1
 * pages.
 */
static uint64_t case1_added(uint64_t l)
{
	return 512 * (l - 2) - 1;
}

static void case1(struct ks *ks)
{
	uint64_t limit = ks->cap / 512;
	struct run *r = &ks->runs[0];
	struct tally t;

	start_runs(ks, ks->small, 1);
	join_runs(ks, 1);
	t = tally(ks, 1, "1 in small");
	epcg_test_note("%s 1 in small: -ENOMEM after %llu of %llu pages",
		       epcg_sgx_policy_name(ks->policy),
		       (unsigned long long)r->added,
		       (unsigned long long)ks->encl_pages);
	ASSERT_EQ(t.ok, 0);
	ASSERT_EQ(r->err, -ENOMEM);
	ASSERT_EQ(r->stage, ST_ADD);
	/*
	 * Under intent, a charge that reaches the threshold queues the
	 * cgroup's async work (E13b); while its batch holds the one or two
	 * pages on the LRU, the builder's next charge finds nothing to
	 * reclaim and gets -ENOMEM before the VA pages fill the limit.
	 */
	if (ks->policy == EPCG_SGX_POLICY_V17)
		ASSERT_U64_EQ(r->added, case1_added(limit));
	else
		ASSERT_CMP(r->added, <=, case1_added(limit));
	/* The limit that refused was the parent's. */
	ASSERT_CMP(epcg_misc_events_local(ks->small_parent, RES), >=, 1);
	ASSERT_U64_EQ(epcg_misc_events(ks->small_parent, RES),
		      epcg_misc_events_local(ks->small_parent, RES));
	ASSERT_U64_EQ(epcg_misc_events(ks->small, RES), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(ks->small, RES), 0);
	/* Full, and one page more below the level that refused. */
	ASSERT_U64_EQ(epcg_misc_peak(ks->small_parent, RES), limit * PG);
	ASSERT_U64_EQ(epcg_misc_peak(ks->small, RES), (limit + 1) * PG);
	check_peaks(ks);
	quiesce_and_check(ks);
}

static struct tally concurrent(struct ks *ks, struct epcg_misc_cg *cg,
			       unsigned n, int victim, uint64_t kill_after_ns,
			       const char *what, uint64_t *ret_ns)
{
	uint64_t t0 = now_ns();
	struct tally t;

	start_runs(ks, cg, n);
	if (victim >= 0) {
		struct run *r = &ks->runs[victim];

		usleep((useconds_t)(kill_after_ns / 1000));
		r->killed = true;
		epcg_task_set_signal(&r->task, 1);
	}
	join_runs(ks, n);
	if (ret_ns)
		*ret_ns = now_ns() - t0;
	t = tally(ks, n, what);
	check_peaks(ks);
	quiesce_and_check(ks);
	return t;
}

static void kselftest(enum epcg_sgx_policy policy)
{
	uint64_t rng = epcg_test_seed() ^ (uint64_t)policy, t0 = now_ns();
	uint64_t dur, events_before;
	struct epcg_sgx_stats st;
	struct tally t;
	struct ks *ks = calloc(1, sizeof(*ks));
	int victim;

	ASSERT_NOT_NULL(ks);
	setup(ks, policy);

	case1(ks);

	events_before = epcg_misc_events_local(ks->large, RES);
	t = concurrent(ks, ks->large, 4, -1, 0, "4 in large", NULL);
	ASSERT_CMP(t.ok, >=, 1);
	/* A run that failed was refused by large's own limit. */
	if (t.ok < 4)
		ASSERT_CMP(epcg_misc_events_local(ks->large, RES), >,
			   events_before);

	t = concurrent(ks, ks->large, 5, -1, 0, "5 in large", NULL);
	ASSERT_CMP(t.ok, <, 5);
	if (SANITIZED && policy == EPCG_SGX_POLICY_INTENT)
		goto out;

	t = concurrent(ks, ks->larger, 8, -1, 0, "8 in larger", &dur);
	ASSERT_EQ(t.ok, 8);

	/* Kill one between 10% and 60% of the time the last case took. */
	victim = (int)(epcg_test_rand(&rng) % 8);
	t = concurrent(ks, ks->larger, 8, victim,
		       dur / 10 + epcg_test_rand(&rng) % (dur / 2 + 1),
		       "8 in larger, one killed", NULL);
	ASSERT_EQ(t.killed, 1);
	ASSERT_EQ(t.ok, 7);

out:
	/* The script's leak check, on sgx_kselftest. */
	ASSERT_U64_EQ(epcg_misc_usage(ks->top, RES), 0);
	epcg_sgx_stats(ks->sgx, &st);
	epcg_test_note("%s: C %llu MiB, %.1f s; EWB %llu, ELDU %llu, "
		       "ENOMEM %llu, SIGBUS %llu",
		       epcg_sgx_policy_name(policy),
		       (unsigned long long)(ks->cap * PG >> 20),
		       (double)(now_ns() - t0) / 1e9,
		       (unsigned long long)st.ewb, (unsigned long long)st.eldu,
		       (unsigned long long)st.enomem,
		       (unsigned long long)st.sigbus);
	teardown(ks);
	free(ks);
}

TEST(kselftest_v17)
{
	kselftest(EPCG_SGX_POLICY_V17);
}

TEST(kselftest_intent)
{
	kselftest(EPCG_SGX_POLICY_INTENT);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY_TIMEOUT(kselftest_v17, 300),
	TEST_ENTRY_TIMEOUT(kselftest_intent, 300),
};

TEST_MAIN(tests)
