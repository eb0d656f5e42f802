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
 * monotonic clock) and virtual time (one OS thread, a simulated clock per
 * simulated thread).  That seam is what makes both the daemon and the
 * deterministic simulator run the same core code.
 *
 * Kernel threads are expressed as a pair of callbacks: should_run() says
 * whether there is work, run() does one bounded round of it.  The live
 * implementation loops in a thread, sleeping on a condition variable while
 * should_run() is false; the virtual-time one runs the loop as a simulated
 * thread that the scheduler wakes.
 *
 * Simulated threads (struct epcg_vthread) exist only in virtual time: the
 * simulator spawns its enclave threads and timed events with
 * epcg_exec_spawn(), runs them with epcg_exec_run(), and they wait virtual
 * time with epcg_exec_sleep_ns().  Live front ends make real threads
 * instead; there those calls return -EOPNOTSUPP (sleep really sleeps).
 */
#ifndef EPCG_EXEC_H
#define EPCG_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct epcg_exec;
struct epcg_kthread;
struct epcg_misc_cg;
struct epcg_vthread;

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
	uint64_t queued_ns;		/* virtual time of queueing */
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
 * @cg_refs: further references on @cg the task holds in reserve, handed
 *	out to the pages it allocates; guarded by @cg_lock, owned by the
 *	misc controller.
 * @priv: owner's data (front ends).
 */
struct epcg_task {
	int pid;
	int node;
	_Atomic int sigpending;
	_Atomic int cg_lock;
	struct epcg_misc_cg *cg;
	long cg_refs;
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
 * epcg_exec_virt_create() - an execution context in virtual time.
 * @nr_workers: simulated threads in the shared worker pool (0: one).
 * @ret: the new context.
 *
 * Everything runs on the calling OS thread: simulated threads (spawned
 * tasks, workers, kthreads) are coroutines, each with its own stack and
 * its own virtual clock.  The scheduler always resumes the runnable one
 * with the smallest clock, ties going to the one created first, so a run
 * depends only on its inputs, never on the host.  A simulated thread runs
 * until it yields (epcg_exec_cond_resched(), epcg_exec_sleep_ns(), or a
 * wait in epcg_exec_cancel_work_sync() or epcg_exec_flush()); costs added
 * with epcg_exec_account_ns() move its clock forward.  Because nothing
 * else runs meanwhile, a simulated thread must not yield while holding a
 * lock that another may take.
 *
 * Context: any thread; the context is then used from that thread only.
 * Return: 0; -ENOMEM; -EINVAL if @ret is NULL.
 */
int epcg_exec_virt_create(unsigned nr_workers, struct epcg_exec **ret);

/**
 * epcg_exec_destroy() - stop the workers and free the context.
 * @ex: the context, may be NULL.
 *
 * Pending work items are run to completion first; every kthread must have
 * been stopped by its owner.  Virtual time: simulated threads that have
 * not finished are discarded where they stand, as epcg_vthread_kill()
 * would, without running again.
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
 * Live: sched_yield().  Virtual: switches to the scheduler if another
 * simulated thread has an earlier clock (or the same clock and a smaller
 * id), else returns at once.
 *
 * Context: any thread, no locks held.
 */
void epcg_exec_cond_resched(struct epcg_exec *ex);

/**
 * epcg_exec_now_ns() - the context's clock in nanoseconds.
 *
 * Live: CLOCK_MONOTONIC.  Virtual: the running simulated thread's clock;
 * outside one, the scheduler's (the latest clock it resumed a thread at).
 */
uint64_t epcg_exec_now_ns(struct epcg_exec *ex);

/**
 * epcg_exec_account_ns() - charge @ns of modelled cost to the current task.
 *
 * Live: no effect (real work takes real time).  Virtual: advances the
 * running simulated thread's clock (outside one, the scheduler's), which
 * is how the cost model reaches the results.  Never switches threads:
 * callers may hold locks.
 */
void epcg_exec_account_ns(struct epcg_exec *ex, uint64_t ns);

/**
 * epcg_exec_advance_ns() - epcg_exec_account_ns(), then epcg_exec_now_ns(),
 * in one call.
 *
 * For a loop that pays for each step and reads the clock after it (the
 * simulator's think time between two accesses), where two dispatches
 * per step were a measurable part of the step.
 *
 * Context: as epcg_exec_account_ns(): never switches threads.
 * Return: the clock after the charge (live: CLOCK_MONOTONIC).
 */
uint64_t epcg_exec_advance_ns(struct epcg_exec *ex, uint64_t ns);

/**
 * epcg_exec_sleep_ns() - let @ns of the clock pass without doing anything.
 * @ex: the context.
 * @ns: how long; 0 only yields to simulated threads that are not later.
 *
 * Live: nanosleep().  Virtual: the running simulated thread's clock moves
 * @ns forward and the scheduler runs whatever is earlier meanwhile.  A
 * killed simulated thread never returns from here (epcg_vthread_kill()).
 *
 * Context: a simulated thread (virtual) or any thread (live); no locks.
 */
void epcg_exec_sleep_ns(struct epcg_exec *ex, uint64_t ns);

/**
 * epcg_exec_spawn() - create a simulated thread that starts at @start_ns.
 * @ex: a virtual-time context.
 * @name: for diagnostics (copied; at most 15 characters are kept).
 * @start_ns: the virtual time it starts at; an earlier time than the
 *	caller's clock (or the scheduler's, outside a simulated thread)
 *	starts it at that clock instead.
 * @fn: its body; the thread finishes when @fn returns.
 * @arg: passed to @fn.
 * @task: what it runs as (epcg_task_current() inside it), may be NULL.
 * @ret: receives the thread, may be NULL.  The handle stays valid until
 *	epcg_exec_destroy(); its stack is freed as soon as it finishes.
 *
 * Nothing runs until epcg_exec_run() (or a wait that runs the scheduler).
 *
 * Context: the context's OS thread, inside or outside a simulated thread.
 * Return: 0; -EINVAL on NULL @ex, @name or @fn; -ENOMEM; -EOPNOTSUPP for
 * a live context.
 */
int epcg_exec_spawn(struct epcg_exec *ex, const char *name,
		    uint64_t start_ns, void (*fn)(void *arg), void *arg,
		    struct epcg_task *task, struct epcg_vthread **ret);

/**
 * epcg_exec_run() - run the simulation.
 * @ex: a virtual-time context.
 * @until_ns: a virtual deadline: nothing is resumed at or after it
 *	(UINT64_MAX: none).  A thread resumed before it may run past it
 *	until it next yields.
 *
 * Runs simulated threads in order of their clocks until every spawned
 * thread finished and no work item or kthread is left to run, or the
 * deadline.  May be called again to continue, with a later deadline.
 * Afterwards epcg_exec_now_ns() outside a thread reads the deadline, or
 * the latest clock any thread reached if all is done.
 *
 * Context: the context's OS thread, not from a simulated thread.
 * Return: 0 when all is done; -ETIMEDOUT at the deadline with threads
 * left; -EDEADLK if spawned threads are left but all wait on something
 * that will never come; -EINVAL from a simulated thread or on NULL @ex;
 * -EOPNOTSUPP for a live context.
 */
int epcg_exec_run(struct epcg_exec *ex, uint64_t until_ns);

/**
 * epcg_vthread_kill() - kill a spawned simulated thread (SIGKILL).
 * @vt: the thread.
 *
 * Like a real SIGKILL, this does not stop the thread in the middle of a
 * kernel operation: it raises the signal of the thread's task (so the EPC
 * charge loop gives up with -ERESTARTSYS) and the thread stops at its next
 * epcg_exec_sleep_ns(), the simulator's "return to user space", which it
 * then never returns from.  A sleeping thread is woken at the killer's
 * clock to die; one that has not started never runs.  Its stack is
 * dropped unwound, so a thread body must not own anything on its stack
 * across a sleep.  epcg_exec_cond_resched() is not a stopping point: the
 * library calls it in the middle of operations whose state lives on the
 * stack.  Killing oneself takes effect at one's own next sleep.
 *
 * Context: the context's OS thread.
 * Return: 0 (also if it already finished); -EINVAL if @vt is NULL.
 */
int epcg_vthread_kill(struct epcg_vthread *vt);

/* What a simulated thread is doing (virtual time only). */
enum epcg_vthread_state {
	EPCG_VTHREAD_RUNNABLE,	/* waits for its turn (or its start) */
	EPCG_VTHREAD_RUNNING,	/* the scheduler is in it now */
	EPCG_VTHREAD_BLOCKED,	/* waits for an event (work, a wake) */
	EPCG_VTHREAD_FINISHED,	/* its body returned */
	EPCG_VTHREAD_KILLED,	/* stopped by epcg_vthread_kill() */
	EPCG_VTHREAD_STATE_NR
};

/**
 * struct epcg_vthread_info - a simulated thread as seen from outside.
 * @name: its name.
 * @id: its creation number in its context (ties in the schedule go to
 *	the smaller id).
 * @state: what it is doing.
 * @now_ns: its clock; for a finished or killed thread, when it ended.
 * @switches: times the scheduler resumed it.
 */
struct epcg_vthread_info {
	char name[16];
	unsigned id;
	enum epcg_vthread_state state;
	uint64_t now_ns;
	uint64_t switches;
};

/**
 * epcg_vthread_info() - describe @vt.
 * @vt: the thread.
 * @ret: filled in.
 *
 * Context: the context's OS thread.
 * Return: 0; -EINVAL on NULL arguments.
 */
int epcg_vthread_info(const struct epcg_vthread *vt,
		      struct epcg_vthread_info *ret);

#endif
