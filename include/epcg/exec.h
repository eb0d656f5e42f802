/* SPDX-License-Identifier: MIT */
/*
 * The execution seam: everything the core needs from "the machine it runs
 * on" besides memory.
 *
 * The library never calls pthreads, sleeps or reads a clock directly.  It
 * asks an execution context (struct epcg_exec) to queue a work item, wake a
 * kernel-thread analogue, yield, read the clock, or account time spent in
 * an emulated operation; and it asks the current task (struct epcg_task)
 * for its cgroup, its NUMA node and whether a signal is pending.  Two
 * implementations sit behind this header: live (real pthreads, the
 * monotonic clock) and, later, virtual time (one OS thread, a simulated
 * clock).  That seam is what makes both the daemon and the deterministic
 * simulator run the same core code.
 *
 * Kernel threads are expressed as a pair of callbacks: should_run() says
 * whether there is work, run() does one bounded round of it.  The live
 * implementation loops in a thread, sleeping on a condition variable while
 * should_run() is false; a virtual-time scheduler calls run() as an event.
 */
#ifndef EPCG_EXEC_H
#define EPCG_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct epcg_exec;
struct epcg_kthread;
struct epcg_misc_cg;

/**
 * struct epcg_work - a deferred function, queued at most once at a time.
 * @fn: what to run, on a worker of the context it was queued on.
 *
 * The kernel's work_struct: queueing an already pending item is a no-op,
 * an item may requeue itself while running, and cancel waits for a running
 * instance to finish.  The other fields belong to the execution context.
 */
struct epcg_work {
	void (*fn)(struct epcg_work *work);
	_Atomic int state;		/* EPCG_WORK_* bits, context-owned */
	struct epcg_work *next;		/* queue link, guarded by the queue */
};

/**
 * struct epcg_task - something that allocates EPC: a client thread, a
 * simulated enclave thread, a test.
 * @pid: process id shown to users (0 for internal tasks).
 * @node: preferred NUMA node for allocations (-1: none, use node 0).
 * @sigpending: a signal is pending (the charge loop returns -ERESTARTSYS).
 * @cg_lock: a tiny spinlock guarding @cg, owned by the misc controller.
 * @cg: the task's misc cgroup, a counted reference, or NULL for the root.
 *	Read and changed only through epcg_misc_task_*().
 * @priv: owner's data (front ends).
 */
struct epcg_task {
	int pid;
	int node;
	_Atomic int sigpending;
	_Atomic int cg_lock;
	struct epcg_misc_cg *cg;
	void *priv;
};

/**
 * epcg_task_init() - set up a task with no cgroup (charges go to the root).
 * @task: caller-owned storage.
 * @pid: pid shown to users, 0 for internal tasks.
 * @node: preferred NUMA node, -1 for none.
 *
 * Context: any thread.
 */
void epcg_task_init(struct epcg_task *task, int pid, int node);

/**
 * epcg_task_current() - the task the calling thread runs as.
 *
 * Context: any thread; thread-local, no locking.
 * Return: the task set by epcg_task_set_current(), or NULL (internal work:
 * ksgxd, reclaim workers), which charges the root cgroup.
 */
struct epcg_task *epcg_task_current(void);

/**
 * epcg_task_set_current() - make @task the calling thread's current task.
 * @task: the task, or NULL.
 *
 * Context: any thread.  A virtual-time scheduler calls it on every switch.
 * Return: the previous current task.
 */
struct epcg_task *epcg_task_set_current(struct epcg_task *task);

/**
 * epcg_task_signal_pending() - whether @task has a signal pending.
 * @task: the task, may be NULL (never signalled).
 *
 * Context: any thread; a relaxed read, a late answer only delays the abort.
 */
bool epcg_task_signal_pending(const struct epcg_task *task);

/**
 * epcg_task_set_signal() - raise (@pending 1) or clear (0) a signal.
 * @task: the task.
 * @pending: 1 to raise, 0 to clear.
 *
 * Context: any thread.
 */
void epcg_task_set_signal(struct epcg_task *task, int pending);

/**
 * epcg_work_init() - prepare a work item.
 * @work: caller-owned storage.
 * @fn: the function run by a worker.
 */
void epcg_work_init(struct epcg_work *work, void (*fn)(struct epcg_work *));

/**
 * epcg_exec_live_create() - an execution context backed by real threads.
 * @nr_workers: threads in the shared worker pool (0: one per online CPU).
 * @ret: the new context.
 *
 * Context: any thread.
 * Return: 0; -ENOMEM if memory or threads could not be had; -EINVAL if
 * @ret is NULL.
 */
int epcg_exec_live_create(unsigned nr_workers, struct epcg_exec **ret);

/**
 * epcg_exec_destroy() - stop the workers and free the context.
 * @ex: the context, may be NULL.
 *
 * Pending work items are run to completion first; every kthread must have
 * been stopped by its owner.
 *
 * Context: not from a worker or kthread of @ex.
 */
void epcg_exec_destroy(struct epcg_exec *ex);

/**
 * epcg_exec_queue_work() - run @work on the shared worker pool.
 * @ex: the context.
 * @work: an initialised work item.
 *
 * Context: any thread, including the work item itself.
 * Return: true if queued, false if it was already pending (not running).
 */
bool epcg_exec_queue_work(struct epcg_exec *ex, struct epcg_work *work);

/**
 * epcg_exec_cancel_work_sync() - dequeue @work and wait until no instance
 * of it runs.
 *
 * Context: any thread but @work's own; must not be called with a lock that
 * @work's function takes.
 * Return: true if a pending instance was cancelled.
 */
bool epcg_exec_cancel_work_sync(struct epcg_exec *ex, struct epcg_work *work);

/**
 * epcg_exec_flush() - wait until every work item queued so far has run.
 *
 * Context: not from a worker of @ex.
 */
void epcg_exec_flush(struct epcg_exec *ex);

/**
 * epcg_exec_kthread_start() - start a kernel-thread analogue.
 * @ex: the context.
 * @name: for diagnostics (copied; at most 15 characters are kept).
 * @should_run: whether there is work now; called with no lock held.
 * @run: one bounded round of work.
 * @arg: passed to both.
 * @ret: the thread.
 *
 * The thread sleeps until epcg_kthread_wake(); on each wake-up it calls
 * @run while @should_run returns true.
 *
 * Context: any thread.
 * Return: 0; -ENOMEM if it could not be created; -EINVAL on NULL arguments.
 */
int epcg_exec_kthread_start(struct epcg_exec *ex, const char *name,
			    bool (*should_run)(void *arg),
			    void (*run)(void *arg), void *arg,
			    struct epcg_kthread **ret);

/**
 * epcg_kthread_wake() - ask @kt to check for work.
 *
 * Context: any thread; never blocks; a wake-up is never lost.
 */
void epcg_kthread_wake(struct epcg_kthread *kt);

/**
 * epcg_kthread_stop() - stop @kt after its current round and free it.
 * @kt: the thread, may be NULL.
 *
 * Context: not from @kt itself.
 */
void epcg_kthread_stop(struct epcg_kthread *kt);

/**
 * epcg_exec_cond_resched() - a voluntary scheduling point in a long loop.
 *
 * Context: any thread, no locks held.
 */
void epcg_exec_cond_resched(struct epcg_exec *ex);

/**
 * epcg_exec_now_ns() - the context's clock in nanoseconds.
 *
 * Live: CLOCK_MONOTONIC.  Virtual: the simulated clock.
 */
uint64_t epcg_exec_now_ns(struct epcg_exec *ex);

/**
 * epcg_exec_account_ns() - charge @ns of modelled cost to the current task.
 *
 * Live: no effect (real work takes real time).  Virtual: advances the
 * running task's clock, which is how the cost model reaches the results.
 */
void epcg_exec_account_ns(struct epcg_exec *ex, uint64_t ns);

#endif
