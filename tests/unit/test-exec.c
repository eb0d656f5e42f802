// SPDX-License-Identifier: MIT
/*
 * Unit tests of the execution seam, live implementation: work-item rules
 * (pending once, requeue while running, cancel, flush), kthread wake-ups,
 * the current task and the signal flag.
 */
#include <epcg/exec.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "util/atomic.h"
#include "util/lock.h"
#include "util/macros.h"

#define WAIT_TIMEOUT_NS (20ull * 1000 * 1000 * 1000)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spin politely until *@v >= @want; fail the test after 20 s. */
#define WAIT_FOR(v, want)                                                \
	do {                                                             \
		uint64_t epcg__t0 = now_ns();                            \
		while (epcg_atomic_load_acquire(v) < (want)) {           \
			if (now_ns() - epcg__t0 > WAIT_TIMEOUT_NS)        \
				epcg_test_fail(__FILE__, __LINE__,        \
					       "timed out waiting for %s", \
					       #v);                       \
			usleep(50);                                      \
		}                                                        \
	} while (0)

/* A door a work function waits at until the test opens it. */
struct gate {
	struct epcg_mutex lock;
	struct epcg_cond cv;
	bool open;		/* lock */
};

static void gate_init(struct gate *g)
{
	epcg_mutex_init(&g->lock);
	epcg_cond_init(&g->cv);
	g->open = false;
}

static void gate_pass(struct gate *g)
{
	epcg_mutex_lock(&g->lock);
	while (!g->open)
		epcg_cond_wait(&g->cv, &g->lock);
	epcg_mutex_unlock(&g->lock);
}

static void gate_set(struct gate *g, bool open)
{
	epcg_mutex_lock(&g->lock);
	g->open = open;
	epcg_cond_broadcast(&g->cv);
	epcg_mutex_unlock(&g->lock);
}

/* A work item that counts its runs and may wait at a gate. */
struct counted {
	struct epcg_work work;
	struct gate *gate;		/* NULL: do not wait */
	epcg_atomic(int) started;
	epcg_atomic(int) finished;
	epcg_atomic(int) running;	/* instances inside fn now */
	epcg_atomic(int) overlap;	/* ever two at once */
	int requeue;			/* times to queue itself again */
	struct epcg_exec *ex;
};

static void counted_fn(struct epcg_work *work)
{
	struct counted *c = epcg_container_of(work, struct counted, work);

	if (epcg_atomic_fetch_add_acq_rel(&c->running, 1))
		epcg_atomic_store_relaxed(&c->overlap, 1);
	epcg_atomic_fetch_add_acq_rel(&c->started, 1);
	if (c->gate)
		gate_pass(c->gate);
	if (c->requeue > 0) {
		c->requeue--;
		epcg_exec_queue_work(c->ex, work);
	}
	epcg_atomic_fetch_sub_acq_rel(&c->running, 1);
	epcg_atomic_fetch_add_acq_rel(&c->finished, 1);
}

static void counted_init(struct counted *c, struct epcg_exec *ex,
			 struct gate *g)
{
	memset(c, 0, sizeof(*c));
	epcg_work_init(&c->work, counted_fn);
	c->gate = g;
	c->ex = ex;
}

static int ran(struct counted *c)
{
	return epcg_atomic_load_acquire(&c->finished);
}

TEST(create_invalid)
{
	struct epcg_exec *ex;
	struct epcg_kthread *kt;

	ASSERT_ERR(epcg_exec_live_create(1, NULL), EINVAL);
	ASSERT_OK(epcg_exec_live_create(0, &ex));
	ASSERT_ERR(epcg_exec_kthread_start(ex, "x", NULL, NULL, NULL, &kt),
		   EINVAL);
	ASSERT_ERR(epcg_exec_kthread_start(NULL, "x", NULL, NULL, NULL, &kt),
		   EINVAL);
	epcg_kthread_stop(NULL);
	epcg_exec_destroy(ex);
	epcg_exec_destroy(NULL);
}

TEST(work_queued_once_while_pending)
{
	struct epcg_exec *ex;
	struct gate g;
	struct counted blocker, a;

	gate_init(&g);
	ASSERT_OK(epcg_exec_live_create(1, &ex));
	counted_init(&blocker, ex, &g);
	counted_init(&a, ex, NULL);

	/* Keep the only worker busy so that @a stays pending. */
	ASSERT_TRUE(epcg_exec_queue_work(ex, &blocker.work));
	WAIT_FOR(&blocker.started, 1);
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	ASSERT_FALSE(epcg_exec_queue_work(ex, &a.work));
	ASSERT_FALSE(epcg_exec_queue_work(ex, &a.work));
	gate_set(&g, true);
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&a), 1);
	ASSERT_EQ(ran(&blocker), 1);

	/* Once it ran, it can be queued again. */
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&a), 2);
	epcg_exec_destroy(ex);
}

TEST(requeue_while_running_runs_again)
{
	struct epcg_exec *ex;
	struct gate g;
	struct counted a;

	gate_init(&g);
	/* Several workers: the second instance must still not overlap. */
	ASSERT_OK(epcg_exec_live_create(4, &ex));
	counted_init(&a, ex, &g);

	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	WAIT_FOR(&a.started, 1);
	/* Running, not pending: queueing succeeds, once. */
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	ASSERT_FALSE(epcg_exec_queue_work(ex, &a.work));
	usleep(20000);
	ASSERT_EQ(epcg_atomic_load_acquire(&a.started), 1);
	gate_set(&g, true);
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&a), 2);
	ASSERT_EQ(epcg_atomic_load_relaxed(&a.overlap), 0);
	epcg_exec_destroy(ex);
}

TEST(self_requeue_never_overlaps)
{
	struct epcg_exec *ex;
	struct counted a;

	ASSERT_OK(epcg_exec_live_create(4, &ex));
	counted_init(&a, ex, NULL);
	a.requeue = 1000;
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	WAIT_FOR(&a.finished, 1001);
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&a), 1001);
	ASSERT_EQ(epcg_atomic_load_relaxed(&a.overlap), 0);
	epcg_exec_destroy(ex);
}

TEST(cancel_pending)
{
	struct epcg_exec *ex;
	struct gate g;
	struct counted blocker, a;

	gate_init(&g);
	ASSERT_OK(epcg_exec_live_create(1, &ex));
	counted_init(&blocker, ex, &g);
	counted_init(&a, ex, NULL);

	ASSERT_TRUE(epcg_exec_queue_work(ex, &blocker.work));
	WAIT_FOR(&blocker.started, 1);
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	ASSERT_TRUE(epcg_exec_cancel_work_sync(ex, &a.work));
	/* Nothing pending any more. */
	ASSERT_FALSE(epcg_exec_cancel_work_sync(ex, &a.work));
	gate_set(&g, true);
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&a), 0);

	/* A cancelled item can be queued again. */
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&a), 1);
	epcg_exec_destroy(ex);
}

static void *open_later(void *arg)
{
	usleep(50000);
	gate_set(arg, true);
	return NULL;
}

TEST(cancel_running_waits)
{
	struct epcg_exec *ex;
	struct gate g;
	struct counted a;
	pthread_t t;

	gate_init(&g);
	ASSERT_OK(epcg_exec_live_create(2, &ex));
	counted_init(&a, ex, &g);

	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	WAIT_FOR(&a.started, 1);
	ASSERT_EQ(pthread_create(&t, NULL, open_later, &g), 0);
	/* Running, not pending: false, and only after it has finished. */
	ASSERT_FALSE(epcg_exec_cancel_work_sync(ex, &a.work));
	ASSERT_EQ(ran(&a), 1);
	pthread_join(t, NULL);
	epcg_exec_destroy(ex);
}

TEST(cancel_running_and_requeued)
{
	struct epcg_exec *ex;
	struct gate g;
	struct counted a;
	pthread_t t;

	gate_init(&g);
	ASSERT_OK(epcg_exec_live_create(2, &ex));
	counted_init(&a, ex, &g);

	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	WAIT_FOR(&a.started, 1);
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	ASSERT_EQ(pthread_create(&t, NULL, open_later, &g), 0);
	/* The pending instance is dropped, the running one waited for. */
	ASSERT_TRUE(epcg_exec_cancel_work_sync(ex, &a.work));
	ASSERT_EQ(ran(&a), 1);
	pthread_join(t, NULL);
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&a), 1);
	epcg_exec_destroy(ex);
}

TEST(cancel_stops_self_requeue)
{
	struct epcg_exec *ex;
	struct counted a;
	int n;

	ASSERT_OK(epcg_exec_live_create(2, &ex));
	counted_init(&a, ex, NULL);
	a.requeue = 1 << 30;
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	WAIT_FOR(&a.finished, 100);
	epcg_exec_cancel_work_sync(ex, &a.work);
	/* Neither pending nor running: the count stays where it is. */
	n = ran(&a);
	usleep(20000);
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&a), n);
	ASSERT_EQ(epcg_atomic_load_relaxed(&a.running), 0);
	epcg_exec_destroy(ex);
}

#define NR_ITEMS 256

TEST(flush_waits_for_all)
{
	struct epcg_exec *ex;
	struct counted *c = calloc(NR_ITEMS, sizeof(*c));

	ASSERT_NOT_NULL(c);
	ASSERT_OK(epcg_exec_live_create(3, &ex));
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < NR_ITEMS; i++) {
			counted_init(&c[i], ex, NULL);
			ASSERT_TRUE(epcg_exec_queue_work(ex, &c[i].work));
		}
		epcg_exec_flush(ex);
		for (int i = 0; i < NR_ITEMS; i++)
			ASSERT_EQ(ran(&c[i]), 1);
	}
	epcg_exec_destroy(ex);
	free(c);
}

TEST(flush_not_starved_by_requeue)
{
	struct epcg_exec *ex;
	struct counted a, b;

	ASSERT_OK(epcg_exec_live_create(2, &ex));
	counted_init(&a, ex, NULL);
	counted_init(&b, ex, NULL);
	a.requeue = 1 << 30;
	ASSERT_TRUE(epcg_exec_queue_work(ex, &a.work));
	ASSERT_TRUE(epcg_exec_queue_work(ex, &b.work));
	/* Returns although @a keeps queueing itself. */
	epcg_exec_flush(ex);
	ASSERT_EQ(ran(&b), 1);
	ASSERT_CMP(ran(&a), >=, 1);
	epcg_exec_cancel_work_sync(ex, &a.work);
	epcg_exec_destroy(ex);
}

struct flusher {
	struct epcg_exec *ex;
	struct counted items[16];
};

static void *flush_loop(void *arg)
{
	struct flusher *f = arg;

	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 16; i++) {
			counted_init(&f->items[i], f->ex, NULL);
			epcg_exec_queue_work(f->ex, &f->items[i].work);
		}
		epcg_exec_flush(f->ex);
		for (int i = 0; i < 16; i++)
			if (ran(&f->items[i]) != 1)
				return (void *)1;
	}
	return NULL;
}

TEST(concurrent_flushes)
{
	struct flusher f[3];
	pthread_t t[3];
	struct epcg_exec *ex;
	void *res;

	ASSERT_OK(epcg_exec_live_create(2, &ex));
	for (int i = 0; i < 3; i++) {
		f[i].ex = ex;
		ASSERT_EQ(pthread_create(&t[i], NULL, flush_loop, &f[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], &res);
		ASSERT_NULL(res);
	}
	epcg_exec_destroy(ex);
}

TEST(destroy_runs_pending_work)
{
	struct epcg_exec *ex;
	struct counted c[32];

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	for (int i = 0; i < 32; i++) {
		counted_init(&c[i], ex, NULL);
		ASSERT_TRUE(epcg_exec_queue_work(ex, &c[i].work));
	}
	epcg_exec_destroy(ex);
	for (int i = 0; i < 32; i++)
		ASSERT_EQ(ran(&c[i]), 1);
}

static epcg_atomic(int) nr_freed;

static void free_self(struct epcg_work *work)
{
	free(work);
	epcg_atomic_fetch_add_acq_rel(&nr_freed, 1);
}

TEST(work_may_free_itself)
{
	struct epcg_exec *ex;

	ASSERT_OK(epcg_exec_live_create(2, &ex));
	for (int i = 0; i < 100; i++) {
		struct epcg_work *w = malloc(sizeof(*w));

		ASSERT_NOT_NULL(w);
		epcg_work_init(w, free_self);
		ASSERT_TRUE(epcg_exec_queue_work(ex, w));
	}
	epcg_exec_flush(ex);
	ASSERT_EQ(epcg_atomic_load_acquire(&nr_freed), 100);
	epcg_exec_destroy(ex);
}

/*
 * A kthread whose work is "requests not yet handled"; run() handles one.
 * If a wake-up were lost, the thread would sleep with requests pending and
 * the waiter would time out.
 */
struct kt_state {
	epcg_atomic(uint64_t) requests;
	epcg_atomic(uint64_t) handled;
	epcg_atomic(uint64_t) rounds;
	struct epcg_kthread *kt;
};

static bool kt_should_run(void *arg)
{
	struct kt_state *s = arg;

	return epcg_atomic_load_acquire(&s->handled) <
	       epcg_atomic_load_acquire(&s->requests);
}

static void kt_run(void *arg)
{
	struct kt_state *s = arg;

	epcg_atomic_fetch_add_acq_rel(&s->handled, 1);
	epcg_atomic_fetch_add_relaxed(&s->rounds, 1);
}

TEST(kthread_sleeps_until_woken)
{
	struct epcg_exec *ex;
	struct kt_state s = { 0 };

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	epcg_atomic_store_release(&s.requests, 1);
	ASSERT_OK(epcg_exec_kthread_start(ex, "a-rather-long-kthread-name",
					  kt_should_run, kt_run, &s, &s.kt));
	usleep(20000);
	ASSERT_EQ(epcg_atomic_load_acquire(&s.handled), 0);
	epcg_kthread_wake(s.kt);
	WAIT_FOR(&s.handled, 1);
	/* should_run() false now: no further rounds. */
	usleep(10000);
	ASSERT_EQ(epcg_atomic_load_acquire(&s.rounds), 1);
	epcg_kthread_stop(s.kt);
	epcg_exec_destroy(ex);
}

TEST(kthread_ping_pong_no_lost_wakeup)
{
	struct epcg_exec *ex;
	struct kt_state s = { 0 };

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	ASSERT_OK(epcg_exec_kthread_start(ex, "pingpong", kt_should_run,
					  kt_run, &s, &s.kt));
	/* One request at a time: the thread goes back to sleep each time. */
	for (uint64_t i = 1; i <= 3000; i++) {
		epcg_atomic_store_release(&s.requests, i);
		epcg_kthread_wake(s.kt);
		WAIT_FOR(&s.handled, i);
	}
	epcg_kthread_stop(s.kt);
	epcg_exec_destroy(ex);
}

#define NR_WAKERS 4
#define WAKES_PER_WAKER 2000

static void *waker(void *arg)
{
	struct kt_state *s = arg;

	for (int i = 0; i < WAKES_PER_WAKER; i++) {
		epcg_atomic_fetch_add_acq_rel(&s->requests, 1);
		epcg_kthread_wake(s->kt);
		if (i % 64 == 0)
			sched_yield();
	}
	return NULL;
}

TEST(kthread_many_wakers)
{
	struct epcg_exec *ex;
	struct kt_state s = { 0 };
	pthread_t t[NR_WAKERS];

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	ASSERT_OK(epcg_exec_kthread_start(ex, "wakers", kt_should_run, kt_run,
					  &s, &s.kt));
	for (int i = 0; i < NR_WAKERS; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, waker, &s), 0);
	for (int i = 0; i < NR_WAKERS; i++)
		pthread_join(t[i], NULL);
	WAIT_FOR(&s.handled, NR_WAKERS * WAKES_PER_WAKER);
	epcg_kthread_stop(s.kt);
	ASSERT_U64_EQ(epcg_atomic_load_acquire(&s.handled),
		      NR_WAKERS * WAKES_PER_WAKER);
	epcg_exec_destroy(ex);
}

static bool always(void *arg)
{
	return true;
}

static void busy_round(void *arg)
{
	epcg_atomic(uint64_t) *n = arg;

	epcg_atomic_fetch_add_relaxed(n, 1);
	usleep(100);
}

TEST(kthread_stop_while_busy)
{
	struct epcg_exec *ex;
	struct epcg_kthread *kt;
	epcg_atomic(uint64_t) n = 0;

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	ASSERT_OK(epcg_exec_kthread_start(ex, "busy", always, busy_round, &n,
					  &kt));
	epcg_kthread_wake(kt);
	WAIT_FOR(&n, 10);
	/* Stops after its current round although should_run() stays true. */
	epcg_kthread_stop(kt);
	epcg_exec_destroy(ex);
}

struct task_check {
	struct epcg_task *mine;
	int ok;
};

static void *task_thread(void *arg)
{
	struct task_check *c = arg;

	c->ok = epcg_task_current() == NULL;
	c->ok &= epcg_task_set_current(c->mine) == NULL;
	usleep(10000);
	c->ok &= epcg_task_current() == c->mine;
	return NULL;
}

TEST(current_task_per_thread)
{
	struct epcg_task a, b;
	struct task_check c;
	pthread_t t;

	epcg_task_init(&a, 10, -1);
	epcg_task_init(&b, 11, 1);
	ASSERT_EQ(a.pid, 10);
	ASSERT_EQ(a.node, -1);
	ASSERT_NULL(a.cg);
	ASSERT_NULL(epcg_task_current());
	ASSERT_NULL(epcg_task_set_current(&a));
	c.mine = &b;
	ASSERT_EQ(pthread_create(&t, NULL, task_thread, &c), 0);
	pthread_join(t, NULL);
	ASSERT_TRUE(c.ok);
	ASSERT_TRUE(epcg_task_current() == &a);
	ASSERT_TRUE(epcg_task_set_current(NULL) == &a);
	ASSERT_NULL(epcg_task_current());
}

static void *raise_signal(void *arg)
{
	epcg_task_set_signal(arg, 1);
	return NULL;
}

TEST(signal_flag)
{
	struct epcg_task task;
	pthread_t t;

	epcg_task_init(&task, 1, 0);
	ASSERT_FALSE(epcg_task_signal_pending(&task));
	ASSERT_FALSE(epcg_task_signal_pending(NULL));
	epcg_task_set_signal(&task, 1);
	ASSERT_TRUE(epcg_task_signal_pending(&task));
	epcg_task_set_signal(&task, 0);
	ASSERT_FALSE(epcg_task_signal_pending(&task));

	/* Raised from another thread, seen here. */
	ASSERT_EQ(pthread_create(&t, NULL, raise_signal, &task), 0);
	pthread_join(t, NULL);
	ASSERT_TRUE(epcg_task_signal_pending(&task));
}

TEST(clock_and_resched)
{
	struct epcg_exec *ex;
	uint64_t t0, t1;

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	t0 = epcg_exec_now_ns(ex);
	usleep(2000);
	epcg_exec_cond_resched(ex);
	epcg_exec_account_ns(ex, 1000000000ull);
	t1 = epcg_exec_now_ns(ex);
	ASSERT_CMP(t1 - t0, >=, 2000000);
	/* account_ns does not move the live clock. */
	ASSERT_CMP(t1 - t0, <, 1000000000ull);
	/* advance_ns neither: it reads it. */
	t0 = epcg_exec_advance_ns(ex, 1000000000ull);
	ASSERT_CMP(t0, >=, t1);
	ASSERT_CMP(t0 - t1, <, 1000000000ull);
	epcg_exec_destroy(ex);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(create_invalid),
	TEST_ENTRY(work_queued_once_while_pending),
	TEST_ENTRY(requeue_while_running_runs_again),
	TEST_ENTRY(self_requeue_never_overlaps),
	TEST_ENTRY(cancel_pending),
	TEST_ENTRY(cancel_running_waits),
	TEST_ENTRY(cancel_running_and_requeued),
	TEST_ENTRY(cancel_stops_self_requeue),
	TEST_ENTRY(flush_waits_for_all),
	TEST_ENTRY(flush_not_starved_by_requeue),
	TEST_ENTRY(concurrent_flushes),
	TEST_ENTRY(destroy_runs_pending_work),
	TEST_ENTRY(work_may_free_itself),
	TEST_ENTRY(kthread_sleeps_until_woken),
	TEST_ENTRY(kthread_ping_pong_no_lost_wakeup),
	TEST_ENTRY(kthread_many_wakers),
	TEST_ENTRY(kthread_stop_while_busy),
	TEST_ENTRY(current_task_per_thread),
	TEST_ENTRY(signal_flag),
	TEST_ENTRY(clock_and_resched),
};
TEST_MAIN(tests)
