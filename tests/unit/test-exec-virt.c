// SPDX-License-Identifier: MIT
/*
 * Unit tests of the execution seam, virtual-time implementation: threads
 * run in order of their clocks, ties by id; cond_resched, sleep and kill;
 * work items and kthreads in virtual time; the same run twice gives the
 * same trace; every simulated thread has its own stack.
 */
#include <epcg/exec.h>

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util/macros.h"

/* A trace of what ran when, compared byte for byte between runs. */
struct trace {
	char buf[16384];
	size_t len;
};

static void tracef(struct trace *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tracef(struct trace *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	ASSERT_TRUE(n > 0 && (size_t)n < sizeof(t->buf) - t->len);
	t->len += (size_t)n;
}

static struct epcg_exec *virt(unsigned nr_workers)
{
	struct epcg_exec *ex;

	ASSERT_OK(epcg_exec_virt_create(nr_workers, &ex));
	return ex;
}

/* A simulated thread that logs its name and clock at each step. */
struct stepper {
	struct epcg_exec *ex;
	struct trace *t;
	const char *name;
	int steps;
	uint64_t cost;		/* accounted per step */
	uint64_t nap;		/* slept per step, 0: cond_resched */
};

static void stepper_fn(void *arg)
{
	struct stepper *s = arg;

	for (int i = 0; i < s->steps; i++) {
		tracef(s->t, "%s@%llu ", s->name,
		       (unsigned long long)epcg_exec_now_ns(s->ex));
		epcg_exec_account_ns(s->ex, s->cost);
		if (s->nap)
			epcg_exec_sleep_ns(s->ex, s->nap);
		else
			epcg_exec_cond_resched(s->ex);
	}
}

static uint64_t vt_now(struct epcg_vthread *vt)
{
	struct epcg_vthread_info info;

	ASSERT_OK(epcg_vthread_info(vt, &info));
	return info.now_ns;
}

static enum epcg_vthread_state vt_state(struct epcg_vthread *vt)
{
	struct epcg_vthread_info info;

	ASSERT_OK(epcg_vthread_info(vt, &info));
	return info.state;
}

TEST(create_invalid)
{
	struct epcg_exec *ex;
	struct epcg_vthread_info info;

	ASSERT_ERR(epcg_exec_virt_create(1, NULL), EINVAL);
	ASSERT_ERR(epcg_exec_spawn(NULL, "x", 0, stepper_fn, NULL, NULL, NULL),
		   EINVAL);
	ASSERT_ERR(epcg_exec_run(NULL, 0), EINVAL);
	ASSERT_ERR(epcg_vthread_kill(NULL), EINVAL);
	ASSERT_ERR(epcg_vthread_info(NULL, &info), EINVAL);
	ex = virt(0);
	ASSERT_ERR(epcg_exec_spawn(ex, NULL, 0, stepper_fn, NULL, NULL, NULL),
		   EINVAL);
	ASSERT_ERR(epcg_exec_spawn(ex, "x", 0, NULL, NULL, NULL, NULL), EINVAL);
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 0);
	epcg_exec_destroy(ex);
}

TEST(live_has_no_simulated_threads)
{
	struct epcg_exec *ex;

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	ASSERT_ERR(epcg_exec_spawn(ex, "x", 0, stepper_fn, NULL, NULL, NULL),
		   EOPNOTSUPP);
	ASSERT_ERR(epcg_exec_run(ex, UINT64_MAX), EOPNOTSUPP);
	uint64_t t0 = epcg_exec_now_ns(ex);
	epcg_exec_sleep_ns(ex, 2000000);
	ASSERT_CMP(epcg_exec_now_ns(ex) - t0, >=, 2000000);
	epcg_exec_destroy(ex);
}

TEST(order_by_start_time)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct stepper a = { ex, &t, "a", 1, 0, 0 };
	struct stepper b = { ex, &t, "b", 1, 0, 0 };
	struct stepper c = { ex, &t, "c", 1, 0, 0 };
	struct stepper d = { ex, &t, "d", 1, 0, 0 };

	ASSERT_OK(epcg_exec_spawn(ex, "a", 30, stepper_fn, &a, NULL, NULL));
	ASSERT_OK(epcg_exec_spawn(ex, "b", 10, stepper_fn, &b, NULL, NULL));
	ASSERT_OK(epcg_exec_spawn(ex, "c", 20, stepper_fn, &c, NULL, NULL));
	/* Same time as c, created later: after c. */
	ASSERT_OK(epcg_exec_spawn(ex, "d", 20, stepper_fn, &d, NULL, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "b@10 c@20 d@20 a@30 ");
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 30);
	epcg_exec_destroy(ex);
}

TEST(cond_resched_switches_to_earlier)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	/* a pays 100 per step, b 30: b gets three steps per step of a. */
	struct stepper a = { ex, &t, "a", 3, 100, 0 };
	struct stepper b = { ex, &t, "b", 7, 30, 0 };
	struct epcg_vthread *va, *vb;

	ASSERT_OK(epcg_exec_spawn(ex, "a", 0, stepper_fn, &a, NULL, &va));
	ASSERT_OK(epcg_exec_spawn(ex, "b", 0, stepper_fn, &b, NULL, &vb));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "a@0 b@0 b@30 b@60 b@90 a@100 b@120 b@150 b@180 "
			    "a@200 ");
	ASSERT_U64_EQ(vt_now(va), 300);
	ASSERT_U64_EQ(vt_now(vb), 210);
	ASSERT_EQ(vt_state(va), EPCG_VTHREAD_FINISHED);
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 300);
	epcg_exec_destroy(ex);
}

TEST(cond_resched_keeps_the_earliest)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct stepper a = { ex, &t, "a", 3, 0, 0 };
	struct stepper b = { ex, &t, "b", 1, 0, 0 };
	struct epcg_vthread *va;
	struct epcg_vthread_info info;

	/* a never moves its clock: at equal times the smaller id goes on. */
	ASSERT_OK(epcg_exec_spawn(ex, "a", 5, stepper_fn, &a, NULL, &va));
	ASSERT_OK(epcg_exec_spawn(ex, "b", 5, stepper_fn, &b, NULL, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "a@5 a@5 a@5 b@5 ");
	ASSERT_OK(epcg_vthread_info(va, &info));
	ASSERT_EQ(info.switches, 1);
	ASSERT_STREQ(info.name, "a");
	epcg_exec_destroy(ex);
}

TEST(sleep_interleaves)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct stepper a = { ex, &t, "a", 3, 0, 100 };
	struct stepper b = { ex, &t, "b", 2, 10, 140 };

	ASSERT_OK(epcg_exec_spawn(ex, "a", 0, stepper_fn, &a, NULL, NULL));
	ASSERT_OK(epcg_exec_spawn(ex, "b", 50, stepper_fn, &b, NULL, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "a@0 b@50 a@100 a@200 b@200 ");
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 350);
	epcg_exec_destroy(ex);
}

TEST(sleep_outside_lets_time_pass)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct stepper a = { ex, &t, "a", 5, 0, 100 };

	ASSERT_OK(epcg_exec_spawn(ex, "a", 0, stepper_fn, &a, NULL, NULL));
	epcg_exec_sleep_ns(ex, 250);
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "a@0 a@100 a@200 ");
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 250);
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "a@0 a@100 a@200 a@300 a@400 ");
	epcg_exec_destroy(ex);
}

/* A thread that advances its clock and records what each call returned. */
struct advancer {
	struct epcg_exec *ex;
	uint64_t got[3];
	uint64_t now[3];
};

static void advancer_fn(void *arg)
{
	struct advancer *a = arg;

	for (int i = 0; i < 3; i++) {
		a->got[i] = epcg_exec_advance_ns(a->ex, 10u << i);
		a->now[i] = epcg_exec_now_ns(a->ex);
	}
	/* Saturates, as accounting does. */
	a->got[2] = epcg_exec_advance_ns(a->ex, UINT64_MAX);
}

TEST(advance_charges_and_returns_the_clock)
{
	struct epcg_exec *ex = virt(1);
	struct advancer a = { ex, { 0 }, { 0 } };
	struct epcg_vthread *vt;

	/* Outside a thread: the frontier's clock. */
	ASSERT_U64_EQ(epcg_exec_advance_ns(ex, 5), 5);
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 5);
	ASSERT_OK(epcg_exec_spawn(ex, "a", 100, advancer_fn, &a, NULL, &vt));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_U64_EQ(a.got[0], 110);
	ASSERT_U64_EQ(a.now[0], 110);
	ASSERT_U64_EQ(a.got[1], 130);
	ASSERT_U64_EQ(a.now[1], 130);
	ASSERT_U64_EQ(a.now[2], 170);
	ASSERT_U64_EQ(a.got[2], UINT64_MAX);
	ASSERT_U64_EQ(vt_now(vt), UINT64_MAX);
	epcg_exec_destroy(ex);
}

TEST(run_to_a_deadline)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct stepper a = { ex, &t, "a", 4, 0, 100 };
	struct stepper b = { ex, &t, "b", 1, 0, 0 };

	ASSERT_OK(epcg_exec_spawn(ex, "a", 0, stepper_fn, &a, NULL, NULL));
	ASSERT_ERR(epcg_exec_run(ex, 200), ETIMEDOUT);
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "a@0 a@100 ");
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 200);
	/* Spawned late, with a start before the frontier: starts at 200. */
	ASSERT_OK(epcg_exec_spawn(ex, "b", 50, stepper_fn, &b, NULL, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "a@0 a@100 a@200 b@200 a@300 ");
	epcg_exec_destroy(ex);
}

/* Ping-pong: two threads hand a ball back and forth through a shared turn. */
struct player {
	struct epcg_exec *ex;
	struct trace *t;
	int *turn;
	int me;
	int rounds;
};

static void player_fn(void *arg)
{
	struct player *p = arg;

	for (int i = 0; i < p->rounds; i++) {
		while (*p->turn != p->me)
			epcg_exec_sleep_ns(p->ex, 7);
		tracef(p->t, "%c%d@%llu ", p->me ? 'B' : 'A', i,
		       (unsigned long long)epcg_exec_now_ns(p->ex));
		/*
		 * Pay first, let the others catch up, then publish: what a
		 * thread writes is seen by whoever runs next, whatever its
		 * clock, so writes other threads poll follow a yield.
		 */
		epcg_exec_account_ns(p->ex, 20);
		epcg_exec_cond_resched(p->ex);
		*p->turn = !p->me;
	}
}

TEST(ping_pong)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	int turn = 0;
	struct player a = { ex, &t, &turn, 0, 3 };
	struct player b = { ex, &t, &turn, 1, 3 };

	ASSERT_OK(epcg_exec_spawn(ex, "A", 0, player_fn, &a, NULL, NULL));
	ASSERT_OK(epcg_exec_spawn(ex, "B", 0, player_fn, &b, NULL, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	/* Each sees the ball at its first poll (every 7 ns) after the pass. */
	ASSERT_STREQ(t.buf, "A0@0 B0@21 A1@48 B1@69 A2@96 B2@117 ");
	epcg_exec_destroy(ex);
}

/* Work items: a counted item that records when it ran. */
struct vwork {
	struct epcg_work work;
	struct epcg_exec *ex;
	struct trace *t;
	const char *name;
	uint64_t cost;
	int requeue;
	int runs;
	bool resched;		/* yield in the middle */
};

static void vwork_fn(struct epcg_work *work)
{
	struct vwork *w = epcg_container_of(work, struct vwork, work);

	w->runs++;
	tracef(w->t, "%s@%llu ", w->name,
	       (unsigned long long)epcg_exec_now_ns(w->ex));
	epcg_exec_account_ns(w->ex, w->cost / 2);
	if (w->resched)
		epcg_exec_cond_resched(w->ex);
	epcg_exec_account_ns(w->ex, w->cost - w->cost / 2);
	if (w->requeue > 0) {
		w->requeue--;
		ASSERT_TRUE(epcg_exec_queue_work(w->ex, work));
	}
}

static void vwork_init(struct vwork *w, struct epcg_exec *ex, struct trace *t,
		       const char *name, uint64_t cost)
{
	memset(w, 0, sizeof(*w));
	epcg_work_init(&w->work, vwork_fn);
	w->ex = ex;
	w->t = t;
	w->name = name;
	w->cost = cost;
}

struct queuer {
	struct epcg_exec *ex;
	struct vwork *w1, *w2;
	bool pending_again;	/* second queue of w1 while pending */
	bool flushed_all;
	uint64_t flush_at;
};

static void queuer_fn(void *arg)
{
	struct queuer *q = arg;

	ASSERT_TRUE(epcg_exec_queue_work(q->ex, &q->w1->work));
	q->pending_again = epcg_exec_queue_work(q->ex, &q->w1->work);
	epcg_exec_account_ns(q->ex, 10);
	ASSERT_TRUE(epcg_exec_queue_work(q->ex, &q->w2->work));
	epcg_exec_flush(q->ex);
	q->flushed_all = q->w1->runs >= 1 && q->w2->runs >= 1;
	q->flush_at = epcg_exec_now_ns(q->ex);
}

TEST(work_runs_at_the_queuers_time)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct vwork w1, w2;
	struct queuer q = { ex, &w1, &w2, false, false, 0 };

	vwork_init(&w1, ex, &t, "w1", 50);
	vwork_init(&w2, ex, &t, "w2", 30);
	w1.requeue = 1;
	ASSERT_OK(epcg_exec_spawn(ex, "q", 100, queuer_fn, &q, NULL, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	/*
	 * One worker: w1 at 100 (queued then), requeued at 150 behind w2
	 * (queued at 110), so w2 at 150, then w1 again at 180.
	 */
	ASSERT_STREQ(t.buf, "w1@100 w2@150 w1@180 ");
	ASSERT_FALSE(q.pending_again);
	ASSERT_TRUE(q.flushed_all);
	/*
	 * The flush returned when w2 was done; w1's requeue was queued after
	 * the flush began, so it did not wait for that.
	 */
	ASSERT_U64_EQ(q.flush_at, 180);
	ASSERT_EQ(w1.runs, 2);
	epcg_exec_destroy(ex);
}

TEST(workers_run_in_parallel_in_virtual_time)
{
	struct epcg_exec *ex = virt(2);
	struct trace t = { .len = 0 };
	struct vwork w1, w2, w3;

	vwork_init(&w1, ex, &t, "w1", 100);
	vwork_init(&w2, ex, &t, "w2", 100);
	vwork_init(&w3, ex, &t, "w3", 100);
	/* Queued from plain code at the frontier, 0. */
	ASSERT_TRUE(epcg_exec_queue_work(ex, &w1.work));
	ASSERT_TRUE(epcg_exec_queue_work(ex, &w2.work));
	ASSERT_TRUE(epcg_exec_queue_work(ex, &w3.work));
	epcg_exec_flush(ex);
	t.buf[t.len] = 0;
	/* Two workers: w1 and w2 both at 0, w3 after the first is done. */
	ASSERT_STREQ(t.buf, "w1@0 w2@0 w3@100 ");
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 100);
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 200);
	epcg_exec_destroy(ex);
}

struct canceller {
	struct epcg_exec *ex;
	struct vwork *w;
	bool cancelled;
	uint64_t returned_at;
};

static void canceller_fn(void *arg)
{
	struct canceller *c = arg;

	c->cancelled = epcg_exec_cancel_work_sync(c->ex, &c->w->work);
	c->returned_at = epcg_exec_now_ns(c->ex);
}

TEST(cancel_waits_for_a_running_item)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct vwork w;
	struct canceller c = { ex, &w, true, 0 };

	vwork_init(&w, ex, &t, "w", 100);
	w.resched = true;
	ASSERT_TRUE(epcg_exec_queue_work(ex, &w.work));
	/* At 20 the item is half done (it yields at 50). */
	ASSERT_OK(epcg_exec_spawn(ex, "c", 20, canceller_fn, &c, NULL, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_FALSE(c.cancelled);
	ASSERT_EQ(w.runs, 1);
	ASSERT_U64_EQ(c.returned_at, 100);
	epcg_exec_destroy(ex);
}

TEST(cancel_drops_a_pending_item)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct vwork w;

	vwork_init(&w, ex, &t, "w", 100);
	ASSERT_TRUE(epcg_exec_queue_work(ex, &w.work));
	ASSERT_TRUE(epcg_exec_cancel_work_sync(ex, &w.work));
	ASSERT_FALSE(epcg_exec_cancel_work_sync(ex, &w.work));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_EQ(w.runs, 0);
	/* Queueable again afterwards. */
	ASSERT_TRUE(epcg_exec_queue_work(ex, &w.work));
	epcg_exec_flush(ex);
	ASSERT_EQ(w.runs, 1);
	epcg_exec_destroy(ex);
}

/* A kthread that consumes a budget of rounds, 10 ns each. */
struct vkt {
	struct epcg_exec *ex;
	struct trace *t;
	int budget;
	int rounds;
};

static bool vkt_should_run(void *arg)
{
	return ((struct vkt *)arg)->budget > 0;
}

static void vkt_run(void *arg)
{
	struct vkt *k = arg;

	k->budget--;
	k->rounds++;
	tracef(k->t, "k@%llu ", (unsigned long long)epcg_exec_now_ns(k->ex));
	epcg_exec_account_ns(k->ex, 10);
	epcg_exec_cond_resched(k->ex);
}

struct waker {
	struct epcg_exec *ex;
	struct epcg_kthread *kt;
	struct vkt *k;
	struct trace *t;
};

static void waker_fn(void *arg)
{
	struct waker *w = arg;

	w->k->budget = 3;
	epcg_kthread_wake(w->kt);
	tracef(w->t, "woke@%llu ", (unsigned long long)epcg_exec_now_ns(w->ex));
	epcg_exec_sleep_ns(w->ex, 15);
	/* Mid-round: the flag brings one more round after this one. */
	w->k->budget += 1;
	epcg_kthread_wake(w->kt);
	epcg_exec_sleep_ns(w->ex, 100);
	tracef(w->t, "end@%llu ", (unsigned long long)epcg_exec_now_ns(w->ex));
}

TEST(kthread_runs_when_woken)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct vkt k = { ex, &t, 0, 0 };
	struct waker w = { ex, NULL, &k, &t };

	ASSERT_OK(epcg_exec_kthread_start(ex, "ksgxd", vkt_should_run, vkt_run,
					  &k, &w.kt));
	ASSERT_OK(epcg_exec_spawn(ex, "waker", 100, waker_fn, &w, NULL, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	t.buf[t.len] = 0;
	ASSERT_STREQ(t.buf, "woke@100 k@100 k@110 k@120 k@130 end@215 ");
	ASSERT_EQ(k.rounds, 4);
	epcg_kthread_stop(w.kt);
	epcg_exec_destroy(ex);
}

struct stopper {
	struct epcg_exec *ex;
	struct epcg_kthread *kt;
	struct vkt *k;
	uint64_t stopped_at;
};

static void stopper_fn(void *arg)
{
	struct stopper *s = arg;

	s->k->budget = 1000;
	epcg_kthread_wake(s->kt);
	epcg_exec_sleep_ns(s->ex, 35);
	epcg_kthread_stop(s->kt);
	s->stopped_at = epcg_exec_now_ns(s->ex);
}

TEST(kthread_stop_from_a_thread)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct vkt k = { ex, &t, 0, 0 };
	struct stopper s = { ex, NULL, &k, 0 };

	ASSERT_OK(epcg_exec_kthread_start(ex, "ksgxd", vkt_should_run, vkt_run,
					  &k, &s.kt));
	ASSERT_OK(epcg_exec_spawn(ex, "stopper", 0, stopper_fn, &s, NULL,
				  NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	/* Rounds at 0, 10, 20, 30; stop at 35 lets the round at 30 end. */
	ASSERT_EQ(k.rounds, 4);
	ASSERT_U64_EQ(s.stopped_at, 40);
	epcg_exec_destroy(ex);
}

TEST(kthread_stop_idle)
{
	struct epcg_exec *ex = virt(1);
	struct trace t = { .len = 0 };
	struct vkt k = { ex, &t, 2, 0 };
	struct epcg_kthread *kt;

	ASSERT_OK(epcg_exec_kthread_start(ex, "idle", vkt_should_run, vkt_run,
					  &k, &kt));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_EQ(k.rounds, 0);		/* never woken, never ran */
	epcg_kthread_wake(kt);
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_EQ(k.rounds, 2);
	epcg_kthread_stop(kt);
	epcg_exec_destroy(ex);
}

/* A victim that sleeps in steps and records how far it got. */
struct victim {
	struct epcg_exec *ex;
	int steps;
	bool reached_end;
	bool signalled;
	bool self_kill;
	struct epcg_vthread *vt;
};

static void victim_fn(void *arg)
{
	struct victim *v = arg;

	for (int i = 0; i < 10; i++) {
		v->steps++;
		if (v->self_kill && i == 2) {
			ASSERT_OK(epcg_vthread_kill(v->vt));
			/* cond_resched is not a stopping point. */
			epcg_exec_cond_resched(v->ex);
			v->signalled = epcg_task_signal_pending(
				epcg_task_current());
		}
		epcg_exec_sleep_ns(v->ex, 100);
	}
	v->reached_end = true;
}

struct killer {
	struct epcg_exec *ex;
	struct epcg_vthread *target;
};

static void killer_fn(void *arg)
{
	struct killer *k = arg;

	ASSERT_OK(epcg_vthread_kill(k->target));
	ASSERT_OK(epcg_vthread_kill(k->target));	/* twice is fine */
}

TEST(kill_a_sleeping_thread)
{
	struct epcg_exec *ex = virt(1);
	struct epcg_task task;
	struct victim v = { ex, 0, false, false, false, NULL };
	struct killer k = { ex, NULL };

	epcg_task_init(&task, 42, -1);
	ASSERT_OK(epcg_exec_spawn(ex, "victim", 0, victim_fn, &v, &task,
				  &v.vt));
	k.target = v.vt;
	ASSERT_OK(epcg_exec_spawn(ex, "killer", 250, killer_fn, &k, NULL,
				  NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	/* Steps at 0, 100, 200; asleep until 300, woken at 250 to die. */
	ASSERT_EQ(v.steps, 3);
	ASSERT_FALSE(v.reached_end);
	ASSERT_EQ(vt_state(v.vt), EPCG_VTHREAD_KILLED);
	ASSERT_U64_EQ(vt_now(v.vt), 250);
	/* The run ended when it died, not when its sleep would have. */
	ASSERT_U64_EQ(epcg_exec_now_ns(ex), 250);
	ASSERT_TRUE(epcg_task_signal_pending(&task));
	/* Killing a dead thread is fine. */
	ASSERT_OK(epcg_vthread_kill(v.vt));
	epcg_exec_destroy(ex);
}

TEST(kill_before_start)
{
	struct epcg_exec *ex = virt(1);
	struct victim v = { ex, 0, false, false, false, NULL };

	ASSERT_OK(epcg_exec_spawn(ex, "victim", 500, victim_fn, &v, NULL,
				  &v.vt));
	ASSERT_EQ(vt_state(v.vt), EPCG_VTHREAD_RUNNABLE);
	ASSERT_ERR(epcg_exec_run(ex, 100), ETIMEDOUT);
	ASSERT_OK(epcg_vthread_kill(v.vt));
	ASSERT_EQ(vt_state(v.vt), EPCG_VTHREAD_KILLED);
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_EQ(v.steps, 0);
	epcg_exec_destroy(ex);
}

TEST(kill_self_stops_at_next_sleep)
{
	struct epcg_exec *ex = virt(1);
	struct epcg_task task;
	struct victim v = { ex, 0, false, false, true, NULL };

	epcg_task_init(&task, 7, -1);
	ASSERT_OK(epcg_exec_spawn(ex, "victim", 0, victim_fn, &v, &task,
				  &v.vt));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_EQ(v.steps, 3);
	ASSERT_TRUE(v.signalled);
	ASSERT_EQ(vt_state(v.vt), EPCG_VTHREAD_KILLED);
	ASSERT_U64_EQ(vt_now(v.vt), 200);
	epcg_exec_destroy(ex);
}

static void current_fn(void *arg)
{
	struct epcg_task *want = arg;

	ASSERT_TRUE(epcg_task_current() == want);
}

TEST(current_task_follows_the_thread)
{
	struct epcg_exec *ex = virt(1);
	struct epcg_task a, b;

	epcg_task_init(&a, 1, -1);
	epcg_task_init(&b, 2, -1);
	ASSERT_OK(epcg_exec_spawn(ex, "a", 0, current_fn, &a, &a, NULL));
	ASSERT_OK(epcg_exec_spawn(ex, "b", 0, current_fn, &b, &b, NULL));
	ASSERT_OK(epcg_exec_spawn(ex, "n", 0, current_fn, NULL, NULL, NULL));
	epcg_task_set_current(&b);
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_TRUE(epcg_task_current() == &b);
	epcg_task_set_current(NULL);
	epcg_exec_destroy(ex);
}

/*
 * Determinism: a busy mix (threads with seeded costs and naps, work items
 * queued from them, a kthread) traced twice from scratch.
 */
struct mix {
	struct epcg_exec *ex;
	struct trace *t;
	struct vwork *w;
	struct epcg_kthread *kt;
	struct vkt *k;
	uint64_t seed;
	int id;
};

static void mix_fn(void *arg)
{
	struct mix *m = arg;
	uint64_t s = m->seed;

	for (int i = 0; i < 40; i++) {
		uint64_t r = epcg_test_rand(&s);

		tracef(m->t, "%d.%d@%llu ", m->id, i,
		       (unsigned long long)epcg_exec_now_ns(m->ex));
		epcg_exec_account_ns(m->ex, r % 97);
		switch (r >> 60 & 3) {
		case 0:
			epcg_exec_queue_work(m->ex, &m->w->work);
			break;
		case 1:
			m->k->budget += 2;
			epcg_kthread_wake(m->kt);
			break;
		case 2:
			epcg_exec_sleep_ns(m->ex, r >> 8 & 255);
			break;
		default:
			epcg_exec_cond_resched(m->ex);
			break;
		}
	}
}

static void run_mix(struct trace *t, uint64_t seed)
{
	struct epcg_exec *ex = virt(3);
	struct vwork w[4];
	struct vkt k = { ex, t, 0, 0 };
	struct epcg_kthread *kt;
	struct mix m[6];
	char name[8];

	ASSERT_OK(epcg_exec_kthread_start(ex, "k", vkt_should_run, vkt_run,
					  &k, &kt));
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		vwork_init(&w[i], ex, t, i % 2 ? "wo" : "we", 40 + 13 * i);
		w[i].resched = i & 1;
	}
	for (int i = 0; i < 6; i++) {
		m[i] = (struct mix){ ex, t, &w[i % 4], kt, &k, seed + i, i };
		snprintf(name, sizeof(name), "m%d", i);
		ASSERT_OK(epcg_exec_spawn(ex, name, (uint64_t)(i * 37) % 50,
					  mix_fn, &m[i], NULL, NULL));
	}
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	tracef(t, "end@%llu", (unsigned long long)epcg_exec_now_ns(ex));
	epcg_kthread_stop(kt);
	epcg_exec_destroy(ex);
}

TEST(same_inputs_same_trace)
{
	static struct trace t1, t2, t3;
	uint64_t seed = epcg_test_seed();

	run_mix(&t1, seed);
	run_mix(&t2, seed);
	ASSERT_EQ(t1.len, t2.len);
	ASSERT_MEMEQ(t1.buf, t2.buf, t1.len);
	run_mix(&t3, seed + 1);
	ASSERT_TRUE(t1.len != t3.len || memcmp(t1.buf, t3.buf, t1.len));
}

/* Stack isolation: each thread's locals survive the others' runs. */
struct filler {
	struct epcg_exec *ex;
	unsigned char pattern;
	uintptr_t addr;
	bool intact;
};

static void filler_fn(void *arg)
{
	struct filler *f = arg;
	volatile unsigned char buf[64 * 1024];
	bool ok = true;

	f->addr = (uintptr_t)buf;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(f->pattern + i);
	for (int round = 0; round < 3; round++) {
		epcg_exec_sleep_ns(f->ex, 10);
		for (size_t i = 0; i < sizeof(buf); i++)
			ok &= buf[i] == (unsigned char)(f->pattern + i);
	}
	f->intact = ok;
}

TEST(stacks_are_isolated)
{
	struct epcg_exec *ex = virt(1);
	struct filler f[3];
	uintptr_t d;

	for (int i = 0; i < 3; i++) {
		f[i] = (struct filler){ ex, (unsigned char)(0x11 * (i + 1)), 0,
					false };
		ASSERT_OK(epcg_exec_spawn(ex, "filler", 0, filler_fn, &f[i],
					  NULL, NULL));
	}
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(f[i].intact);
		d = f[i].addr > f[(i + 1) % 3].addr ?
			    f[i].addr - f[(i + 1) % 3].addr :
			    f[(i + 1) % 3].addr - f[i].addr;
		ASSERT_CMP(d, >=, 64 * 1024);
	}
	epcg_exec_destroy(ex);
}

static unsigned recurse(volatile unsigned char *prev, unsigned depth)
{
	volatile unsigned char frame[4096];

	frame[0] = prev ? prev[0] + 1 : 0;
	frame[sizeof(frame) - 1] = frame[0];
	if (depth == 0)
		return frame[0];
	return recurse(frame, depth - 1) + frame[sizeof(frame) - 1];
}

static void overflow_fn(void *arg)
{
	/* Far more than any coroutine stack: must hit the guard page. */
	*(unsigned *)arg = recurse(NULL, 1u << 16);
}

TEST(stack_overflow_hits_the_guard)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct epcg_exec *ex;
		unsigned sink = 0;

		/* Sanitizer reports of the expected overflow would be noise. */
		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		if (epcg_exec_virt_create(1, &ex))
			_exit(2);
		epcg_exec_spawn(ex, "deep", 0, overflow_fn, &sink, NULL, NULL);
		epcg_exec_run(ex, UINT64_MAX);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	/* Killed by SIGSEGV, or a sanitizer's report and exit: never 0. */
	ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}

TEST(destroy_runs_pending_work)
{
	struct epcg_exec *ex = virt(2);
	struct trace t = { .len = 0 };
	struct vwork w;
	struct victim v = { NULL, 0, false, false, false, NULL };

	vwork_init(&w, ex, &t, "w", 10);
	v.ex = ex;
	ASSERT_TRUE(epcg_exec_queue_work(ex, &w.work));
	/* An unfinished thread is dropped where it stands. */
	ASSERT_OK(epcg_exec_spawn(ex, "v", 1000, victim_fn, &v, NULL, NULL));
	epcg_exec_destroy(ex);
	ASSERT_EQ(w.runs, 1);
	ASSERT_EQ(v.steps, 0);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(create_invalid),
	TEST_ENTRY(live_has_no_simulated_threads),
	TEST_ENTRY(order_by_start_time),
	TEST_ENTRY(cond_resched_switches_to_earlier),
	TEST_ENTRY(cond_resched_keeps_the_earliest),
	TEST_ENTRY(sleep_interleaves),
	TEST_ENTRY(sleep_outside_lets_time_pass),
	TEST_ENTRY(advance_charges_and_returns_the_clock),
	TEST_ENTRY(run_to_a_deadline),
	TEST_ENTRY(ping_pong),
	TEST_ENTRY(work_runs_at_the_queuers_time),
	TEST_ENTRY(workers_run_in_parallel_in_virtual_time),
	TEST_ENTRY(cancel_waits_for_a_running_item),
	TEST_ENTRY(cancel_drops_a_pending_item),
	TEST_ENTRY(kthread_runs_when_woken),
	TEST_ENTRY(kthread_stop_from_a_thread),
	TEST_ENTRY(kthread_stop_idle),
	TEST_ENTRY(kill_a_sleeping_thread),
	TEST_ENTRY(kill_before_start),
	TEST_ENTRY(kill_self_stops_at_next_sleep),
	TEST_ENTRY(current_task_follows_the_thread),
	TEST_ENTRY(same_inputs_same_trace),
	TEST_ENTRY(stacks_are_isolated),
	TEST_ENTRY(stack_overflow_hits_the_guard),
	TEST_ENTRY(destroy_runs_pending_work),
};

TEST_MAIN(tests)
