// SPDX-License-Identifier: MIT
/*
 * The live execution context: real threads and the monotonic clock.
 *
 * Work items run on a shared pool of worker threads that take them from
 * one FIFO queue.  The kernel's work_struct rules hold:
 *
 *  - an item is pending at most once: queueing it while it waits in the
 *    queue does nothing and returns false;
 *  - an item may be queued again while it runs (by itself or by anyone),
 *    and then runs once more after the running instance returns;
 *  - an item never runs on two workers at once: a worker that takes an
 *    item another worker is running hands it to that worker, which runs
 *    it next (its @next slot);
 *  - the pool never touches an item after its function returned, so a
 *    function may free its own item.  Who runs what is therefore kept in
 *    the worker (@current), not in the item.
 *
 * Flush waits for what was queued before it, not for work queued later,
 * so a self-requeueing item cannot starve it.  Each instance is queued
 * with the pool's current "color" (one bit kept in the item's state and,
 * once it runs, in its worker); the pool counts unfinished instances per
 * color.  A flush flips the color and waits until the old one drains.
 * Flushes take turns, so at most two colors are ever in use.
 *
 * A kthread is one pthread that sleeps on its condition variable until
 * woken, then calls run() while should_run() is true, between rounds
 * checking whether it was asked to stop.  A wake-up sets an atomic flag
 * before signalling and the thread clears that flag before it calls
 * should_run(): a wake that lands during a round is seen as a set flag
 * afterwards, so wake-ups are never lost, and repeated wakes of a busy
 * thread cost one atomic exchange each, no lock.
 *
 * Who guards what:
 *
 *   data                                      guard
 *   ----------------------------------------  ----------------------------
 *   live_exec: head, tail, nr_inflight,       lx->lock
 *     color, nr_done_waiters, flushing,
 *     stopping, kthreads
 *   epcg_work: next                           lx->lock
 *   epcg_work: state                          written under lx->lock;
 *                                             atomic for lock-free peeks
 *   epcg_work: fn                             immutable once initialised
 *   live_worker: current, next, color         lx->lock
 *   live_exec: nr_workers, workers[].thread   immutable after create
 *   live_kthread: woken                       atomic (xchg by both sides)
 *   live_kthread: stop                        atomic, set once
 *   live_kthread: lock, wake                  the sleep itself, no data
 *   live_kthread: link                        lx->lock
 *
 * Lock order: lx->lock and a kthread's lock are never held together.
 * Neither is held while a work function, should_run() or run() executes.
 */
#include "exec-internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/lock.h"
#include "util/macros.h"

struct live_exec;

struct live_worker {
	struct live_exec *lx;		/* immutable */
	pthread_t thread;		/* immutable after create */
	struct epcg_work *current;	/* the item running here: lx->lock */
	struct epcg_work *next;		/* its requeue, handed over: lx->lock */
	unsigned color;			/* @current's flush color: lx->lock */
};

struct live_exec {
	struct epcg_exec ex;
	struct epcg_mutex lock;
	struct epcg_cond more;		/* to workers: work queued, or stop */
	struct epcg_cond done;		/* an instance or a flush ended */
	struct epcg_work *head;		/* pending instances, FIFO */
	struct epcg_work *tail;
	unsigned nr_inflight[2];	/* queued, unfinished, per color */
	unsigned color;			/* color of instances queued now */
	unsigned nr_done_waiters;	/* threads sleeping on @done */
	bool flushing;			/* a flush is waiting for a color */
	bool stopping;			/* destroy: workers exit when idle */
	struct epcg_list kthreads;	/* live_kthread.link */
	unsigned nr_workers;
	struct live_worker workers[];
};

struct live_kthread {
	struct epcg_kthread kt;
	bool (*should_run)(void *arg);	/* immutable */
	void (*run)(void *arg);		/* immutable */
	void *arg;			/* immutable */
	char name[EPCG_KTHREAD_NAME_LEN];
	struct epcg_mutex lock;		/* to sleep on @wake; guards no data */
	struct epcg_cond wake;
	epcg_atomic(int) woken;		/* a wake-up not yet consumed */
	epcg_atomic(int) stop;		/* epcg_kthread_stop() was called */
	pthread_t thread;
	struct epcg_list link;		/* in live_exec.kthreads */
};

static struct live_exec *to_live(struct epcg_exec *ex)
{
	return epcg_container_of(ex, struct live_exec, ex);
}

static struct live_kthread *to_live_kthread(struct epcg_kthread *kt)
{
	return epcg_container_of(kt, struct live_kthread, kt);
}

static unsigned color_of(int state)
{
	return (state & EPCG_WORK_COLOR) ? 1 : 0;
}

static void fifo_push(struct live_exec *lx, struct epcg_work *w)
{
	w->next = NULL;
	if (lx->tail)
		lx->tail->next = w;
	else
		lx->head = w;
	lx->tail = w;
}

static struct epcg_work *fifo_pop(struct live_exec *lx)
{
	struct epcg_work *w = lx->head;

	if (w) {
		lx->head = w->next;
		if (!lx->head)
			lx->tail = NULL;
		w->next = NULL;
	}
	return w;
}

/* Unlink @w from the queue; false if it is not there. */
static bool fifo_remove(struct live_exec *lx, struct epcg_work *w)
{
	struct epcg_work *prev = NULL, *pos;

	for (pos = lx->head; pos; prev = pos, pos = pos->next) {
		if (pos != w)
			continue;
		if (prev)
			prev->next = w->next;
		else
			lx->head = w->next;
		if (lx->tail == w)
			lx->tail = prev;
		w->next = NULL;
		return true;
	}
	return false;
}

/* The worker running @w now, or NULL. */
static struct live_worker *worker_running(struct live_exec *lx,
					  const struct epcg_work *w)
{
	for (unsigned i = 0; i < lx->nr_workers; i++)
		if (lx->workers[i].current == w)
			return &lx->workers[i];
	return NULL;
}

static void wait_done(struct live_exec *lx)
{
	lx->nr_done_waiters++;
	epcg_cond_wait(&lx->done, &lx->lock);
	lx->nr_done_waiters--;
}

/* An instance of color @color finished or was cancelled. */
static void retire(struct live_exec *lx, unsigned color)
{
	lx->nr_inflight[color]--;
	if (lx->nr_done_waiters)
		epcg_cond_broadcast(&lx->done);
}

/*
 * Run @w, then whatever instance of it was handed to this worker while it
 * ran.  Called and returns with lx->lock held; drops it around the call.
 */
static void run_work(struct live_worker *wk, struct epcg_work *w)
{
	struct live_exec *lx = wk->lx;

	while (w) {
		int state = epcg_atomic_load_relaxed(&w->state);

		wk->color = color_of(state);
		epcg_atomic_store_relaxed(&w->state,
					  state & ~EPCG_WORK_PENDING);
		wk->current = w;
		epcg_mutex_unlock(&lx->lock);

		w->fn(w);

		/* From here on @w may be freed: only compare the pointer. */
		epcg_mutex_lock(&lx->lock);
		wk->current = NULL;
		retire(lx, wk->color);
		w = wk->next;
		wk->next = NULL;
	}
}

static void *worker_main(void *arg)
{
	struct live_worker *wk = arg;
	struct live_exec *lx = wk->lx;
	struct live_worker *owner;
	struct epcg_work *w;

	epcg_mutex_lock(&lx->lock);
	for (;;) {
		w = fifo_pop(lx);
		if (!w) {
			if (lx->stopping)
				break;
			epcg_cond_wait(&lx->more, &lx->lock);
			continue;
		}
		owner = worker_running(lx, w);
		if (owner) {
			/* Never two pending instances: the slot is free. */
			owner->next = w;
			continue;
		}
		run_work(wk, w);
	}
	epcg_mutex_unlock(&lx->lock);
	return NULL;
}

static bool live_queue_work(struct epcg_exec *ex, struct epcg_work *w)
{
	struct live_exec *lx = to_live(ex);
	bool queued = false;
	int state;

	epcg_mutex_lock(&lx->lock);
	state = epcg_atomic_load_relaxed(&w->state);
	if (!(state & EPCG_WORK_PENDING) && state < EPCG_WORK_CANCEL_ONE) {
		state &= ~EPCG_WORK_COLOR;
		state |= EPCG_WORK_PENDING | (lx->color ? EPCG_WORK_COLOR : 0);
		epcg_atomic_store_relaxed(&w->state, state);
		lx->nr_inflight[lx->color]++;
		fifo_push(lx, w);
		epcg_cond_signal(&lx->more);
		queued = true;
	}
	epcg_mutex_unlock(&lx->lock);
	return queued;
}

static bool live_cancel_work_sync(struct epcg_exec *ex, struct epcg_work *w)
{
	struct live_exec *lx = to_live(ex);
	bool cancelled = false;
	int state;

	epcg_mutex_lock(&lx->lock);
	/* Count ourselves in first, so nobody can queue it while we wait. */
	state = epcg_atomic_load_relaxed(&w->state) + EPCG_WORK_CANCEL_ONE;
	if (state & EPCG_WORK_PENDING) {
		if (!fifo_remove(lx, w)) {
			/* Not in the queue: handed to the worker running it. */
			for (unsigned i = 0; i < lx->nr_workers; i++)
				if (lx->workers[i].next == w)
					lx->workers[i].next = NULL;
		}
		retire(lx, color_of(state));
		state &= ~EPCG_WORK_PENDING;
		cancelled = true;
	}
	epcg_atomic_store_relaxed(&w->state, state);
	while (worker_running(lx, w))
		wait_done(lx);
	state = epcg_atomic_load_relaxed(&w->state) - EPCG_WORK_CANCEL_ONE;
	epcg_atomic_store_relaxed(&w->state, state);
	epcg_mutex_unlock(&lx->lock);
	return cancelled;
}

static void live_flush(struct epcg_exec *ex)
{
	struct live_exec *lx = to_live(ex);
	unsigned old;

	epcg_mutex_lock(&lx->lock);
	while (lx->flushing)
		wait_done(lx);
	lx->flushing = true;
	old = lx->color;
	lx->color ^= 1;
	while (lx->nr_inflight[old])
		wait_done(lx);
	lx->flushing = false;
	if (lx->nr_done_waiters)
		epcg_cond_broadcast(&lx->done);
	epcg_mutex_unlock(&lx->lock);
}

static void *kthread_main(void *arg)
{
	struct live_kthread *lk = arg;

	for (;;) {
		epcg_mutex_lock(&lk->lock);
		while (!epcg_atomic_load_relaxed(&lk->woken) &&
		       !epcg_atomic_load_relaxed(&lk->stop))
			epcg_cond_wait(&lk->wake, &lk->lock);
		epcg_mutex_unlock(&lk->lock);
		if (epcg_atomic_load_acquire(&lk->stop))
			break;
		/*
		 * Consume the wake-up before looking for work: a wake from
		 * now on sets the flag again and brings one more round.  The
		 * exchange pairs with the waker's, so should_run() sees what
		 * the waker wrote before waking.
		 */
		epcg_atomic_xchg_acq_rel(&lk->woken, 0);
		while (!epcg_atomic_load_acquire(&lk->stop) &&
		       lk->should_run(lk->arg))
			lk->run(lk->arg);
	}
	return NULL;
}

static int live_kthread_start(struct epcg_exec *ex, const char *name,
			      bool (*should_run)(void *arg),
			      void (*run)(void *arg), void *arg,
			      struct epcg_kthread **ret)
{
	struct live_exec *lx = to_live(ex);
	struct live_kthread *lk;

	lk = epcg_calloc(1, sizeof(*lk));
	if (!lk)
		return -ENOMEM;
	lk->kt.ex = ex;
	lk->should_run = should_run;
	lk->run = run;
	lk->arg = arg;
	snprintf(lk->name, sizeof(lk->name), "%s", name);
	epcg_mutex_init(&lk->lock);
	epcg_cond_init(&lk->wake);
	epcg_atomic_init(&lk->woken, 0);
	epcg_atomic_init(&lk->stop, 0);

	if (pthread_create(&lk->thread, NULL, kthread_main, lk))
		goto err_finish;
	pthread_setname_np(lk->thread, lk->name);

	epcg_mutex_lock(&lx->lock);
	epcg_list_add_tail(&lk->link, &lx->kthreads);
	epcg_mutex_unlock(&lx->lock);
	*ret = &lk->kt;
	return 0;

err_finish:
	epcg_cond_finish(&lk->wake);
	epcg_mutex_finish(&lk->lock);
	free(lk);
	return -ENOMEM;
}

static void live_kthread_wake(struct epcg_kthread *kt)
{
	struct live_kthread *lk = to_live_kthread(kt);

	/* Already set: the thread has not consumed it and will look again. */
	if (epcg_atomic_xchg_acq_rel(&lk->woken, 1))
		return;
	epcg_mutex_lock(&lk->lock);
	epcg_cond_signal(&lk->wake);
	epcg_mutex_unlock(&lk->lock);
}

static void live_kthread_stop(struct epcg_kthread *kt)
{
	struct live_kthread *lk = to_live_kthread(kt);
	struct live_exec *lx = to_live(kt->ex);

	epcg_atomic_store_release(&lk->stop, 1);
	epcg_mutex_lock(&lk->lock);
	epcg_cond_signal(&lk->wake);
	epcg_mutex_unlock(&lk->lock);
	pthread_join(lk->thread, NULL);

	epcg_mutex_lock(&lx->lock);
	epcg_list_del_init(&lk->link);
	epcg_mutex_unlock(&lx->lock);
	epcg_cond_finish(&lk->wake);
	epcg_mutex_finish(&lk->lock);
	free(lk);
}

static void live_cond_resched(struct epcg_exec *ex)
{
	sched_yield();
}

static uint64_t live_now_ns(struct epcg_exec *ex)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void live_account_ns(struct epcg_exec *ex, uint64_t ns)
{
	/* Real work already took real time. */
}

static uint64_t live_advance_ns(struct epcg_exec *ex, uint64_t ns)
{
	live_account_ns(ex, ns);
	return live_now_ns(ex);
}

static void live_sleep_ns(struct epcg_exec *ex, uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Simulated threads are virtual-time only; live front ends make threads. */
static int live_spawn(struct epcg_exec *ex, const char *name,
		      uint64_t start_ns, void (*fn)(void *arg), void *arg,
		      struct epcg_task *task, struct epcg_vthread **ret)
{
	return -EOPNOTSUPP;
}

static int live_run(struct epcg_exec *ex, uint64_t until_ns)
{
	return -EOPNOTSUPP;
}

/* Let the workers drain the queue and exit, then join the first @nr. */
static void stop_workers(struct live_exec *lx, unsigned nr)
{
	epcg_mutex_lock(&lx->lock);
	lx->stopping = true;
	epcg_cond_broadcast(&lx->more);
	epcg_mutex_unlock(&lx->lock);
	for (unsigned i = 0; i < nr; i++)
		pthread_join(lx->workers[i].thread, NULL);
}

static void free_live(struct live_exec *lx)
{
	epcg_cond_finish(&lx->done);
	epcg_cond_finish(&lx->more);
	epcg_mutex_finish(&lx->lock);
	free(lx);
}

static void live_destroy(struct epcg_exec *ex)
{
	struct live_exec *lx = to_live(ex);

	stop_workers(lx, lx->nr_workers);
	EPCG_WARN_ONCE(!epcg_list_empty(&lx->kthreads),
		       "exec destroyed with kthreads still running");
	free_live(lx);
}

static const struct epcg_exec_ops live_ops = {
	.queue_work = live_queue_work,
	.cancel_work_sync = live_cancel_work_sync,
	.flush = live_flush,
	.kthread_start = live_kthread_start,
	.kthread_wake = live_kthread_wake,
	.kthread_stop = live_kthread_stop,
	.cond_resched = live_cond_resched,
	.now_ns = live_now_ns,
	.account_ns = live_account_ns,
	.advance_ns = live_advance_ns,
	.sleep_ns = live_sleep_ns,
	.spawn = live_spawn,
	.run = live_run,
	.destroy = live_destroy,
};

int epcg_exec_live_create(unsigned nr_workers, struct epcg_exec **ret)
{
	struct live_exec *lx;
	unsigned i;

	if (!ret)
		return -EINVAL;
	if (!nr_workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nr_workers = n > 0 ? (unsigned)n : 1;
	}
	lx = epcg_calloc(1, sizeof(*lx) + nr_workers * sizeof(lx->workers[0]));
	if (!lx)
		return -ENOMEM;
	lx->ex.ops = &live_ops;
	epcg_mutex_init(&lx->lock);
	epcg_cond_init(&lx->more);
	epcg_cond_init(&lx->done);
	epcg_list_init(&lx->kthreads);
	lx->nr_workers = nr_workers;

	for (i = 0; i < nr_workers; i++) {
		lx->workers[i].lx = lx;
		if (pthread_create(&lx->workers[i].thread, NULL, worker_main,
				   &lx->workers[i]))
			goto err_stop;
		pthread_setname_np(lx->workers[i].thread, "epcg-worker");
	}
	*ret = &lx->ex;
	return 0;

err_stop:
	stop_workers(lx, i);
	free_live(lx);
	return -ENOMEM;
}
