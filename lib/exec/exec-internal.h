/* SPDX-License-Identifier: MIT */
/*
 * The execution seam from the inside: an operations table per
 * implementation.
 *
 * struct epcg_exec is a base that each implementation embeds as its first
 * member, with a pointer to its table of operations; the public functions
 * of exec.h only dispatch through that table (exec.c).  The live
 * implementation (exec-live.c) runs on pthreads, the virtual-time one
 * (exec-virt.c) on coroutines and a simulated clock; the core cannot tell
 * them apart.  Simulated threads exist only in virtual time: the live
 * table answers spawn and run with -EOPNOTSUPP.  A kthread likewise starts
 * with struct epcg_kthread, so that epcg_kthread_wake() and
 * epcg_kthread_stop(), which get only the thread, find their context.
 */
#ifndef EPCG_EXEC_INTERNAL_H
#define EPCG_EXEC_INTERNAL_H

#include <epcg/exec.h>

/*
 * Bits of struct epcg_work::state.  They change only under the context's
 * queue lock; the field is atomic so that a lock-free peek is well defined.
 *
 * PENDING: an instance is queued and has not started yet.
 * COLOR: the flush generation the pending instance was queued in (see
 *	epcg_exec_flush() in the implementation).
 * CANCEL_ONE: added once per epcg_exec_cancel_work_sync() in progress on
 *	the item; while any is counted, queueing the item fails.
 */
#define EPCG_WORK_PENDING 0x1
#define EPCG_WORK_COLOR 0x2
#define EPCG_WORK_CANCEL_SHIFT 8
#define EPCG_WORK_CANCEL_ONE (1 << EPCG_WORK_CANCEL_SHIFT)

/**
 * struct epcg_exec_ops - one execution context implementation.
 *
 * Each member implements the exec.h function of the same name, with the
 * same contract; see there.  @destroy frees the context, never NULL.
 */
struct epcg_exec_ops {
	bool (*queue_work)(struct epcg_exec *ex, struct epcg_work *work);
	bool (*cancel_work_sync)(struct epcg_exec *ex, struct epcg_work *work);
	void (*flush)(struct epcg_exec *ex);
	int (*kthread_start)(struct epcg_exec *ex, const char *name,
			     bool (*should_run)(void *arg),
			     void (*run)(void *arg), void *arg,
			     struct epcg_kthread **ret);
	void (*kthread_wake)(struct epcg_kthread *kt);
	void (*kthread_stop)(struct epcg_kthread *kt);
	void (*cond_resched)(struct epcg_exec *ex);
	uint64_t (*now_ns)(struct epcg_exec *ex);
	void (*account_ns)(struct epcg_exec *ex, uint64_t ns);
	uint64_t (*advance_ns)(struct epcg_exec *ex, uint64_t ns);
	void (*sleep_ns)(struct epcg_exec *ex, uint64_t ns);
	int (*spawn)(struct epcg_exec *ex, const char *name, uint64_t start_ns,
		     void (*fn)(void *arg), void *arg, struct epcg_task *task,
		     struct epcg_vthread **ret);
	int (*run)(struct epcg_exec *ex, uint64_t until_ns);
	void (*destroy)(struct epcg_exec *ex);
};

/**
 * struct epcg_exec - the base of every execution context.
 * @ops: the implementation; immutable after create.
 */
struct epcg_exec {
	const struct epcg_exec_ops *ops;
};

/**
 * struct epcg_kthread - the base of every kthread.
 * @ex: the context that started it; immutable.
 */
struct epcg_kthread {
	struct epcg_exec *ex;
};

/* Kept from a kthread's name, plus the NUL (the pthreads limit). */
#define EPCG_KTHREAD_NAME_LEN 16

#endif
