// SPDX-License-Identifier: MIT
/*
 * Tasks, work items, and the dispatch of every exec.h operation to the
 * context's implementation.
 *
 * The current task is per OS thread (thread-local storage): a live thread
 * sets it once, a virtual-time scheduler on every switch.  A signal is a
 * flag read relaxed: the charge loop polls it, and seeing it one round late
 * only delays the abort.
 */
#include "exec-internal.h"

#include <errno.h>
#include <stddef.h>

#include "util/atomic.h"

static _Thread_local struct epcg_task *current_task;

void epcg_task_init(struct epcg_task *task, int pid, int node)
{
	task->pid = pid;
	task->node = node;
	epcg_atomic_init(&task->sigpending, 0);
	epcg_atomic_init(&task->cg_lock, 0);
	task->cg = NULL;
	task->cg_refs = 0;
	task->priv = NULL;
}

struct epcg_task *epcg_task_current(void)
{
	return current_task;
}

struct epcg_task *epcg_task_set_current(struct epcg_task *task)
{
	struct epcg_task *prev = current_task;

	current_task = task;
	return prev;
}

bool epcg_task_signal_pending(const struct epcg_task *task)
{
	if (!task)
		return false;
	/* The field is atomic; the cast drops only the const of the task. */
	return epcg_atomic_load_relaxed((_Atomic int *)&task->sigpending) != 0;
}

void epcg_task_set_signal(struct epcg_task *task, int pending)
{
	epcg_atomic_store_relaxed(&task->sigpending, pending ? 1 : 0);
}

void epcg_work_init(struct epcg_work *work, void (*fn)(struct epcg_work *))
{
	work->fn = fn;
	epcg_atomic_init(&work->state, 0);
	work->next = NULL;
	work->queued_ns = 0;
}

void epcg_exec_destroy(struct epcg_exec *ex)
{
	if (ex)
		ex->ops->destroy(ex);
}

bool epcg_exec_queue_work(struct epcg_exec *ex, struct epcg_work *work)
{
	return ex->ops->queue_work(ex, work);
}

bool epcg_exec_cancel_work_sync(struct epcg_exec *ex, struct epcg_work *work)
{
	return ex->ops->cancel_work_sync(ex, work);
}

void epcg_exec_flush(struct epcg_exec *ex)
{
	ex->ops->flush(ex);
}

int epcg_exec_kthread_start(struct epcg_exec *ex, const char *name,
			    bool (*should_run)(void *arg),
			    void (*run)(void *arg), void *arg,
			    struct epcg_kthread **ret)
{
	if (!ex || !name || !should_run || !run || !ret)
		return -EINVAL;
	return ex->ops->kthread_start(ex, name, should_run, run, arg, ret);
}

void epcg_kthread_wake(struct epcg_kthread *kt)
{
	kt->ex->ops->kthread_wake(kt);
}

void epcg_kthread_stop(struct epcg_kthread *kt)
{
	if (kt)
		kt->ex->ops->kthread_stop(kt);
}

void epcg_exec_cond_resched(struct epcg_exec *ex)
{
	ex->ops->cond_resched(ex);
}

uint64_t epcg_exec_now_ns(struct epcg_exec *ex)
{
	return ex->ops->now_ns(ex);
}

void epcg_exec_account_ns(struct epcg_exec *ex, uint64_t ns)
{
	ex->ops->account_ns(ex, ns);
}

uint64_t epcg_exec_advance_ns(struct epcg_exec *ex, uint64_t ns)
{
	return ex->ops->advance_ns(ex, ns);
}

void epcg_exec_sleep_ns(struct epcg_exec *ex, uint64_t ns)
{
	ex->ops->sleep_ns(ex, ns);
}

int epcg_exec_spawn(struct epcg_exec *ex, const char *name,
		    uint64_t start_ns, void (*fn)(void *arg), void *arg,
		    struct epcg_task *task, struct epcg_vthread **ret)
{
	if (!ex || !name || !fn)
		return -EINVAL;
	return ex->ops->spawn(ex, name, start_ns, fn, arg, task, ret);
}

int epcg_exec_run(struct epcg_exec *ex, uint64_t until_ns)
{
	if (!ex)
		return -EINVAL;
	return ex->ops->run(ex, until_ns);
}
