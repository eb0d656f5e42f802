// SPDX-License-Identifier: MIT
/*
 * The virtual-time execution context: coroutines on one OS thread and a
 * simulated clock.
 *
 * Why virtual time.  The simulator must answer "what does an EPC limit
 * cost this workload" the same way on a laptop and on a loaded CI box,
 * byte for byte.  Real threads cannot give that: who wins a race depends
 * on the host.  So every simulated thread (an enclave thread, ksgxd, a
 * reclaim worker) is a coroutine with its own stack, all of them run on
 * the one OS thread that called epcg_exec_run(), and only the scheduler
 * below decides who runs next.
 *
 * One clock per thread.  Each simulated thread carries its own virtual
 * time.  It moves when the thread pays for something (epcg_exec_account_ns,
 * which is how the cost model of the emulated leaves and faults reaches the
 * results, or epcg_exec_advance_ns, the same with the clock returned) or
 * sleeps.  The scheduler always resumes the runnable thread
 * with the smallest clock, ties going to the smaller id (ids count
 * creations, so they depend only on the order the program did things).
 * No wall clock, no address and no hash takes part in any decision, which
 * is the whole determinism argument.  Because every thread, when resumed,
 * has the smallest clock of all runnable ones, and anything it wakes or
 * queues starts at its own clock or later, the clocks the scheduler
 * resumes threads at never decrease: that sequence is the simulation's
 * frontier, and it is what epcg_exec_now_ns() reads outside any thread.
 *
 * Cooperative, like the kernel without preemption.  A thread runs until it
 * yields: epcg_exec_cond_resched() (switch only if someone is earlier),
 * epcg_exec_sleep_ns(), or a wait for an event (an idle worker, a kthread
 * with nothing to do, cancel_work_sync, flush).  Accounting never
 * switches, so a thread may run ahead of the others between yields; the
 * core's long loops call cond_resched to bound that, exactly where the
 * kernel does.  Locks are never held across a yield (the exec.h
 * contracts), which matters twice here: all coroutines share one OS
 * thread, so a pthread mutex held across a switch would deadlock the
 * simulation.
 *
 * Work items and kthreads.  The worker pool is N simulated threads that
 * take items from one queue ordered by the virtual time the item was
 * queued at (FIFO among equal times).  Queueing wakes the idle worker with
 * the smallest id at the queuer's clock, or its own if that is later (it
 * was busy until then).  The work_struct rules, the hand-over of an item
 * requeued while it runs and the two-color flush are those of the live
 * implementation (exec-live.c), with "sleep on a condition variable"
 * replaced by "block until woken".  A kthread is a simulated thread
 * running the same loop as a live one: block until woken, then run()
 * while should_run().  Blocked threads are woken at the waker's clock.
 *
 * What threads see of each other.  A thread that runs ahead between
 * yields writes shared state "in its future": a thread resumed afterwards
 * with an earlier clock sees it already.  Two rules keep that honest.
 * Wake-ups carry time: a woken thread runs no earlier than its waker's
 * clock, and a waker that just made a waiter runnable (a worker that
 * retired an item, a flush that ended) yields to every thread not later
 * than itself, even at an equal clock and a larger id (it is "deferred",
 * the one exception to ties by id), so the waiter checks the state as it
 * was at the wake-up.  And a thread that publishes something others poll
 * should pay its cost, cond_resched, then publish.
 *
 * Waiting outside a simulated thread.  flush, cancel_work_sync,
 * kthread_stop and destroy may be called from plain code (the simulator's
 * set-up, a test).  There is no coroutine to park, so they drive the
 * scheduler themselves until what they wait for happens: from outside,
 * waiting means letting simulated time pass.
 *
 * Killing.  epcg_vthread_kill() is SIGKILL, not thread cancellation: it
 * raises the signal on the thread's task (the charge loop unwinds with
 * -ERESTARTSYS) and the thread dies at its next sleep, the simulator's
 * return to user space.  Stopping it anywhere else would abandon state on
 * its stack (pages a reclaim batch isolated, a half-done fault).
 *
 * Switching stacks.  lib/exec/fiber.c saves and restores what the ABI
 * makes a callee preserve, nothing more: no signal mask, which the
 * coroutines never change and swapcontext() would set with a system call
 * at every switch (ucontext remains the fallback off x86-64).
 *
 * Sanitizers.  ASan must be told about every stack switch (and that a
 * finished coroutine's fake stack can go), TSan about every fiber; both
 * are compiled in only when building with them.  Stacks are mmap()ed with
 * a guard page below, so an overflow faults instead of writing into a
 * neighbour.
 *
 * Everything below runs on one OS thread, so nothing is locked:
 *
 *   data                                    who changes it
 *   --------------------------------------  ------------------------------
 *   virt_exec: all fields                   the context's OS thread
 *   epcg_work: state, next, queued_ns       the context's OS thread (the
 *                                           atomic state is kept atomic
 *                                           for the shared type only)
 */
#include "exec-internal.h"
#include "fiber.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/atomic.h"
#include "util/list.h"
#include "util/macros.h"

#if defined(__SANITIZE_ADDRESS__)
#define VIRT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIRT_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define VIRT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VIRT_TSAN 1
#endif
#endif

#ifdef VIRT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef VIRT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* Sanitizers inflate frames (redzones), so give their builds more room. */
#if defined(VIRT_ASAN) || defined(VIRT_TSAN)
#define VIRT_STACK_SIZE (1024u * 1024u)
#else
#define VIRT_STACK_SIZE (256u * 1024u)
#endif

#define NO_HEAP_IDX UINT_MAX

enum vt_kind {
	VT_SPAWNED,
	VT_WORKER,
	VT_KTHREAD,
	VT_KIND_NR
};

struct virt_exec;
struct virt_kthread;

struct epcg_vthread {
	struct virt_exec *vx;
	unsigned id;			/* creation order; breaks ties */
	enum vt_kind kind;
	enum epcg_vthread_state state;
	char name[EPCG_KTHREAD_NAME_LEN];
	uint64_t now;			/* its clock */
	uint64_t sleep_from;		/* its clock when the sleep began */
	uint64_t switches;		/* times resumed */
	bool started;			/* entered its coroutine once */
	bool sleeping;			/* in epcg_exec_sleep_ns() */
	bool killed;			/* epcg_vthread_kill() was called */
	bool deferred;			/* let peers at its clock go first */
	unsigned heap_idx;		/* in vx->heap, or NO_HEAP_IDX */
	struct epcg_list link;		/* vx->threads, creation order */
	struct epcg_list wait_link;	/* vx->waiters while waiting */
	void (*fn)(void *arg);		/* spawned: the body */
	void *arg;
	struct epcg_task *task;		/* epcg_task_current() inside */
	struct virt_worker *worker;	/* VT_WORKER */
	struct virt_kthread *kthread;	/* VT_KTHREAD */
	struct epcg_fiber ctx;		/* where it resumes */
	void *map;			/* guard page + stack, or NULL */
	size_t map_size;
	void *stack;			/* above the guard page */
#ifdef VIRT_ASAN
	void *fake_stack;		/* ASan's, saved while switched out */
#endif
#ifdef VIRT_TSAN
	void *fiber;
#endif
};

struct virt_worker {
	struct epcg_vthread *vt;
	struct epcg_work *current;	/* the item running here */
	struct epcg_work *next;		/* its requeue, handed over */
	unsigned color;			/* @current's flush color */
	bool idle;			/* blocked waiting for work */
};

struct virt_kthread {
	struct epcg_kthread kt;
	struct epcg_vthread *vt;
	bool (*should_run)(void *arg);
	void (*run)(void *arg);
	void *arg;
	bool woken;			/* a wake-up not yet consumed */
	bool stop;			/* epcg_kthread_stop() was called */
	bool idle;			/* blocked waiting for a wake-up */
};

struct virt_exec {
	struct epcg_exec ex;
	struct epcg_fiber sched_ctx;	/* where the scheduler runs */
#ifdef VIRT_ASAN
	const void *sched_stack;	/* its stack, as ASan reported it */
	size_t sched_stack_size;
#endif
#ifdef VIRT_TSAN
	void *sched_fiber;
#endif
	struct epcg_vthread *running;	/* NULL: scheduler, plain code */
	uint64_t frontier;		/* clock outside simulated threads */
	uint64_t latest;		/* largest clock reached */
	unsigned next_id;
	unsigned nr_live;		/* spawned, not yet ended */
	struct epcg_vthread **heap;	/* runnable threads, min (now, id) */
	unsigned heap_nr;
	unsigned heap_cap;		/* >= threads that exist */
	unsigned nr_threads;
	struct epcg_list threads;	/* epcg_vthread.link */
	struct epcg_list waiters;	/* epcg_vthread.wait_link */
	struct epcg_work *head;		/* pending, by queued_ns */
	unsigned nr_inflight[2];	/* queued, unfinished, per color */
	unsigned color;			/* of instances queued now */
	bool flushing;
	unsigned nr_workers;
	struct virt_worker *workers;
};

static struct virt_exec *to_virt(struct epcg_exec *ex)
{
	return epcg_container_of(ex, struct virt_exec, ex);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The clock of whoever calls: the running thread, else the frontier. */
static uint64_t caller_now(const struct virt_exec *vx)
{
	return vx->running ? vx->running->now : vx->frontier;
}

/* ---- the run queue: a binary min-heap on (now, id) ---- */

static bool vt_before(const struct epcg_vthread *a,
		      const struct epcg_vthread *b)
{
	if (a->now != b->now)
		return a->now < b->now;
	if (a->deferred != b->deferred)
		return b->deferred;
	return a->id < b->id;
}

static void heap_set(struct virt_exec *vx, unsigned i, struct epcg_vthread *vt)
{
	vx->heap[i] = vt;
	vt->heap_idx = i;
}

static void heap_sift_up(struct virt_exec *vx, unsigned i)
{
	struct epcg_vthread *vt = vx->heap[i];

	while (i) {
		unsigned parent = (i - 1) / 2;

		if (!vt_before(vt, vx->heap[parent]))
			break;
		heap_set(vx, i, vx->heap[parent]);
		i = parent;
	}
	heap_set(vx, i, vt);
}

static void heap_sift_down(struct virt_exec *vx, unsigned i)
{
	struct epcg_vthread *vt = vx->heap[i];

	for (;;) {
		unsigned child = 2 * i + 1;

		if (child >= vx->heap_nr)
			break;
		if (child + 1 < vx->heap_nr &&
		    vt_before(vx->heap[child + 1], vx->heap[child]))
			child++;
		if (!vt_before(vx->heap[child], vt))
			break;
		heap_set(vx, i, vx->heap[child]);
		i = child;
	}
	heap_set(vx, i, vt);
}

static void heap_push(struct virt_exec *vx, struct epcg_vthread *vt)
{
	/* heap_cap covers every thread, and a thread is in it at most once. */
	heap_set(vx, vx->heap_nr++, vt);
	heap_sift_up(vx, vt->heap_idx);
}

static void heap_remove(struct virt_exec *vx, struct epcg_vthread *vt)
{
	unsigned i = vt->heap_idx;
	struct epcg_vthread *last = vx->heap[--vx->heap_nr];

	vt->heap_idx = NO_HEAP_IDX;
	if (last == vt)
		return;
	heap_set(vx, i, last);
	heap_sift_up(vx, i);
	heap_sift_down(vx, last->heap_idx);
}

static struct epcg_vthread *heap_min(const struct virt_exec *vx)
{
	return vx->heap_nr ? vx->heap[0] : NULL;
}

/* @vt can run from time @at on (or from its own clock, if later). */
static void make_runnable(struct virt_exec *vx, struct epcg_vthread *vt,
			  uint64_t at)
{
	if (vt->now < at)
		vt->now = at;
	vt->state = EPCG_VTHREAD_RUNNABLE;
	heap_push(vx, vt);
}

/* ---- coroutines and their stacks ---- */

static void stack_free(struct epcg_vthread *vt)
{
	if (!vt->map)
		return;
#ifdef VIRT_ASAN
	/* An abandoned stack keeps its frames' redzones poisoned. */
	__asan_unpoison_memory_region(vt->map, vt->map_size);
#endif
#ifdef VIRT_TSAN
	__tsan_destroy_fiber(vt->fiber);
	vt->fiber = NULL;
#endif
	munmap(vt->map, vt->map_size);
	vt->map = NULL;
}

static void trampoline(void *arg);

static int stack_alloc(struct epcg_vthread *vt)
{
	long page = sysconf(_SC_PAGESIZE);

	vt->map_size = VIRT_STACK_SIZE + (size_t)page;
	vt->map = mmap(NULL, vt->map_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (vt->map == MAP_FAILED) {
		vt->map = NULL;
		return -ENOMEM;
	}
	/* Stacks grow down: the guard page is the lowest one. */
	if (mprotect(vt->map, (size_t)page, PROT_NONE)) {
		munmap(vt->map, vt->map_size);
		vt->map = NULL;
		return -ENOMEM;
	}
	vt->stack = (char *)vt->map + page;
	if (epcg__fiber_init(&vt->ctx, vt->stack, VIRT_STACK_SIZE, trampoline,
			     vt)) {
		munmap(vt->map, vt->map_size);
		vt->map = NULL;
		return -ENOMEM;
	}
#ifdef VIRT_TSAN
	vt->fiber = __tsan_create_fiber(0);
	__tsan_set_fiber_name(vt->fiber, vt->name);
#endif
	return 0;
}

/* From the scheduler into @vt, back when it yields or ends. */
static void switch_in(struct virt_exec *vx, struct epcg_vthread *vt)
{
#ifdef VIRT_ASAN
	void *fake_stack;

	__sanitizer_start_switch_fiber(&fake_stack, vt->stack,
				       VIRT_STACK_SIZE);
#endif
#ifdef VIRT_TSAN
	vx->sched_fiber = __tsan_get_current_fiber();
	__tsan_switch_to_fiber(vt->fiber, 0);
#endif
	epcg__fiber_switch(&vx->sched_ctx, &vt->ctx);
#ifdef VIRT_ASAN
	__sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#endif
}

/* Learn the scheduler's stack from ASan on arriving in a coroutine. */
static void arrived(struct virt_exec *vx, struct epcg_vthread *vt)
{
#ifdef VIRT_ASAN
	__sanitizer_finish_switch_fiber(vt->started ? vt->fake_stack : NULL,
					&vx->sched_stack,
					&vx->sched_stack_size);
#endif
}

/*
 * From @vt back to the scheduler; returns when @vt is resumed.  The caller
 * set @vt's state (and put it on the heap or a wait list) first.
 */
static void switch_out(struct virt_exec *vx, struct epcg_vthread *vt)
{
#ifdef VIRT_ASAN
	__sanitizer_start_switch_fiber(&vt->fake_stack, vx->sched_stack,
				       vx->sched_stack_size);
#endif
#ifdef VIRT_TSAN
	__tsan_switch_to_fiber(vx->sched_fiber, 0);
#endif
	epcg__fiber_switch(&vt->ctx, &vx->sched_ctx);
	arrived(vx, vt);
}

/* Leave @vt for good (finished or killed); the scheduler frees its stack. */
static _Noreturn void switch_exit(struct virt_exec *vx, struct epcg_vthread *vt)
{
	if (vt->kind == VT_SPAWNED)
		vx->nr_live--;
#ifdef VIRT_ASAN
	__sanitizer_start_switch_fiber(NULL, vx->sched_stack,
				       vx->sched_stack_size);
#endif
#ifdef VIRT_TSAN
	__tsan_switch_to_fiber(vx->sched_fiber, 0);
#endif
	/* Saved into a fiber nobody resumes: the stack is freed next. */
	epcg__fiber_switch(&vt->ctx, &vx->sched_ctx);
	abort();
}

static void wake_waiters(struct virt_exec *vx);
static void worker_main(struct virt_worker *wk);
static void kthread_main(struct virt_kthread *vk);

static void trampoline(void *arg)
{
	struct epcg_vthread *vt = arg;
	struct virt_exec *vx = vt->vx;

	arrived(vx, vt);
	vt->started = true;
	switch (vt->kind) {
	case VT_SPAWNED:
		if (!vt->killed)
			vt->fn(vt->arg);
		break;
	case VT_WORKER:
		worker_main(vt->worker);
		break;
	case VT_KTHREAD:
		kthread_main(vt->kthread);
		break;
	default:
		break;
	}
	vt->state = vt->killed ? EPCG_VTHREAD_KILLED : EPCG_VTHREAD_FINISHED;
	wake_waiters(vx);	/* kthread_stop() may be waiting for this */
	switch_exit(vx, vt);
}

static struct epcg_vthread *vthread_new(struct virt_exec *vx, const char *name,
					enum vt_kind kind)
{
	struct epcg_vthread *vt, **heap;

	if (vx->nr_threads == vx->heap_cap) {
		unsigned cap = vx->heap_cap ? 2 * vx->heap_cap : 16;

		heap = epcg_realloc(vx->heap, cap * sizeof(*heap));
		if (!heap)
			return NULL;
		vx->heap = heap;
		vx->heap_cap = cap;
	}
	vt = epcg_calloc(1, sizeof(*vt));
	if (!vt)
		return NULL;
	vt->vx = vx;
	vt->kind = kind;
	vt->heap_idx = NO_HEAP_IDX;
	snprintf(vt->name, sizeof(vt->name), "%s", name);
	epcg_list_init(&vt->wait_link);
	if (stack_alloc(vt)) {
		free(vt);
		return NULL;
	}
	vt->id = vx->next_id++;
	vt->now = caller_now(vx);
	vt->state = EPCG_VTHREAD_BLOCKED;
	epcg_list_add_tail(&vt->link, &vx->threads);
	vx->nr_threads++;
	return vt;
}

static void vthread_free(struct virt_exec *vx, struct epcg_vthread *vt)
{
	if (vt->heap_idx != NO_HEAP_IDX)
		heap_remove(vx, vt);
	epcg_list_del_init(&vt->wait_link);
	epcg_list_del_init(&vt->link);
	vx->nr_threads--;
	stack_free(vt);
	free(vt);
}

/* ---- the scheduler ---- */

/* Resume the earliest runnable thread once; false if none before @until. */
static bool sched_step(struct virt_exec *vx, uint64_t until)
{
	struct epcg_vthread *vt = heap_min(vx);
	struct epcg_task *prev;
	uint64_t reached;

	if (!vt || vt->now >= until)
		return false;
	heap_remove(vx, vt);
	if (vx->frontier < vt->now)
		vx->frontier = vt->now;
	vt->deferred = false;
	vt->state = EPCG_VTHREAD_RUNNING;
	vt->switches++;
	vx->running = vt;
	prev = epcg_task_set_current(vt->task);
	switch_in(vx, vt);
	epcg_task_set_current(prev);
	vx->running = NULL;
	/* A sleeper's clock holds its wake-up time: not reached yet. */
	reached = vt->sleeping ? vt->sleep_from : vt->now;
	if (vx->latest < reached)
		vx->latest = reached;
	if (vt->state == EPCG_VTHREAD_FINISHED ||
	    vt->state == EPCG_VTHREAD_KILLED)
		stack_free(vt);
	return true;
}

/* The running thread gives the CPU back; it must be queued somewhere. */
static void yield_running(struct virt_exec *vx)
{
	switch_out(vx, vx->running);
}

/* Wake every thread waiting for an event, at the caller's clock. */
static void wake_waiters(struct virt_exec *vx)
{
	uint64_t now = caller_now(vx);
	struct epcg_vthread *vt, *tmp;

	epcg_list_for_each_entry_safe(vt, tmp, &vx->waiters, wait_link) {
		epcg_list_del_init(&vt->wait_link);
		make_runnable(vx, vt, now);
	}
}

/*
 * Let every thread that is not later than the running one go first, even
 * at the same clock with a smaller id: after waking waiters, so they see
 * the state as it was when they were woken, not after the waker went on.
 */
static void yield_to_peers(struct virt_exec *vx)
{
	struct epcg_vthread *self = vx->running, *next = heap_min(vx);

	if (!self || !next || next->now > self->now)
		return;
	self->deferred = true;
	make_runnable(vx, self, self->now);
	yield_running(vx);
}

/*
 * Wait until @cond(@arg).  A simulated thread blocks and is woken by every
 * wake_waiters() to look again; plain code runs the scheduler meanwhile.
 */
static void wait_event(struct virt_exec *vx, bool (*cond)(struct virt_exec *,
							  const void *),
		       const void *arg)
{
	struct epcg_vthread *self = vx->running;

	while (!cond(vx, arg)) {
		if (!self) {
			if (!sched_step(vx, UINT64_MAX)) {
				EPCG_WARN_ONCE(1, "virtual exec: waiting for "
					       "an event that cannot come");
				return;
			}
			continue;
		}
		self->state = EPCG_VTHREAD_BLOCKED;
		epcg_list_add_tail(&self->wait_link, &vx->waiters);
		yield_running(vx);
	}
}

/* ---- work items ---- */

static unsigned color_of(int state)
{
	return (state & EPCG_WORK_COLOR) ? 1 : 0;
}

/* Insert @w after every item queued at or before its time. */
static void queue_insert(struct virt_exec *vx, struct epcg_work *w)
{
	struct epcg_work **pos = &vx->head;

	while (*pos && (*pos)->queued_ns <= w->queued_ns)
		pos = &(*pos)->next;
	w->next = *pos;
	*pos = w;
}

static bool queue_remove(struct virt_exec *vx, struct epcg_work *w)
{
	struct epcg_work **pos;

	for (pos = &vx->head; *pos; pos = &(*pos)->next) {
		if (*pos == w) {
			*pos = w->next;
			w->next = NULL;
			return true;
		}
	}
	return false;
}

static struct epcg_work *queue_pop(struct virt_exec *vx)
{
	struct epcg_work *w = vx->head;

	if (w) {
		vx->head = w->next;
		w->next = NULL;
	}
	return w;
}

static struct virt_worker *worker_running(struct virt_exec *vx,
					  const struct epcg_work *w)
{
	for (unsigned i = 0; i < vx->nr_workers; i++)
		if (vx->workers[i].current == w)
			return &vx->workers[i];
	return NULL;
}

static void retire(struct virt_exec *vx, unsigned color)
{
	vx->nr_inflight[color]--;
	wake_waiters(vx);
}

static void run_work(struct virt_worker *wk, struct epcg_work *w)
{
	struct virt_exec *vx = wk->vt->vx;

	while (w) {
		int state = epcg_atomic_load_relaxed(&w->state);

		if (wk->vt->now < w->queued_ns)
			wk->vt->now = w->queued_ns;
		wk->color = color_of(state);
		state &= ~EPCG_WORK_PENDING;
		epcg_atomic_store_relaxed(&w->state, state);
		wk->current = w;

		w->fn(w);

		/* From here on @w may be freed: only compare the pointer. */
		wk->current = NULL;
		retire(vx, wk->color);
		w = wk->next;
		wk->next = NULL;
		/* Waiters, and idle peers with an earlier clock, go first. */
		yield_to_peers(vx);
	}
}

static void worker_main(struct virt_worker *wk)
{
	struct virt_exec *vx = wk->vt->vx;
	struct virt_worker *owner;
	struct epcg_work *w;

	for (;;) {
		w = queue_pop(vx);
		if (!w) {
			wk->idle = true;
			wk->vt->state = EPCG_VTHREAD_BLOCKED;
			yield_running(vx);
			continue;
		}
		owner = worker_running(vx, w);
		if (owner) {
			/* One instance at most is pending: the slot is free. */
			owner->next = w;
			continue;
		}
		run_work(wk, w);
	}
}

static bool virt_queue_work(struct epcg_exec *ex, struct epcg_work *w)
{
	struct virt_exec *vx = to_virt(ex);
	int state = epcg_atomic_load_relaxed(&w->state);

	if ((state & EPCG_WORK_PENDING) || state >= EPCG_WORK_CANCEL_ONE)
		return false;
	state &= ~EPCG_WORK_COLOR;
	state |= EPCG_WORK_PENDING | (vx->color ? EPCG_WORK_COLOR : 0);
	epcg_atomic_store_relaxed(&w->state, state);
	vx->nr_inflight[vx->color]++;
	w->queued_ns = caller_now(vx);
	queue_insert(vx, w);
	for (unsigned i = 0; i < vx->nr_workers; i++) {
		struct virt_worker *wk = &vx->workers[i];

		if (wk->idle) {
			wk->idle = false;
			make_runnable(vx, wk->vt, w->queued_ns);
			break;
		}
	}
	return true;
}

static bool work_idle(struct virt_exec *vx, const void *w)
{
	return !worker_running(vx, w);
}

static bool virt_cancel_work_sync(struct epcg_exec *ex, struct epcg_work *w)
{
	struct virt_exec *vx = to_virt(ex);
	bool cancelled = false;
	int state;

	/* Count ourselves in first, so nobody can queue it while we wait. */
	state = epcg_atomic_load_relaxed(&w->state) + EPCG_WORK_CANCEL_ONE;
	if (state & EPCG_WORK_PENDING) {
		if (!queue_remove(vx, w)) {
			/* Not queued: handed to the worker running it. */
			for (unsigned i = 0; i < vx->nr_workers; i++)
				if (vx->workers[i].next == w)
					vx->workers[i].next = NULL;
		}
		state &= ~EPCG_WORK_PENDING;
		epcg_atomic_store_relaxed(&w->state, state);
		retire(vx, color_of(state));
		cancelled = true;
	} else {
		epcg_atomic_store_relaxed(&w->state, state);
	}
	wait_event(vx, work_idle, w);
	state = epcg_atomic_load_relaxed(&w->state) - EPCG_WORK_CANCEL_ONE;
	epcg_atomic_store_relaxed(&w->state, state);
	return cancelled;
}

static bool no_flush(struct virt_exec *vx, const void *unused)
{
	return !vx->flushing;
}

static bool color_drained(struct virt_exec *vx, const void *color)
{
	return !vx->nr_inflight[*(const unsigned *)color];
}

static void virt_flush(struct epcg_exec *ex)
{
	struct virt_exec *vx = to_virt(ex);
	unsigned old;

	wait_event(vx, no_flush, NULL);
	vx->flushing = true;
	old = vx->color;
	vx->color ^= 1;
	wait_event(vx, color_drained, &old);
	vx->flushing = false;
	wake_waiters(vx);
	yield_to_peers(vx);
}

/* ---- kthreads ---- */

static struct virt_kthread *to_virt_kthread(struct epcg_kthread *kt)
{
	return epcg_container_of(kt, struct virt_kthread, kt);
}

static void kthread_main(struct virt_kthread *vk)
{
	struct virt_exec *vx = vk->vt->vx;

	for (;;) {
		while (!vk->woken && !vk->stop) {
			vk->idle = true;
			vk->vt->state = EPCG_VTHREAD_BLOCKED;
			yield_running(vx);
		}
		if (vk->stop)
			break;
		/* Consume it first: a wake during a round brings another. */
		vk->woken = false;
		while (!vk->stop && vk->should_run(vk->arg))
			vk->run(vk->arg);
	}
}

static int virt_kthread_start(struct epcg_exec *ex, const char *name,
			      bool (*should_run)(void *arg),
			      void (*run)(void *arg), void *arg,
			      struct epcg_kthread **ret)
{
	struct virt_exec *vx = to_virt(ex);
	struct virt_kthread *vk;

	vk = epcg_calloc(1, sizeof(*vk));
	if (!vk)
		return -ENOMEM;
	vk->vt = vthread_new(vx, name, VT_KTHREAD);
	if (!vk->vt) {
		free(vk);
		return -ENOMEM;
	}
	vk->kt.ex = ex;
	vk->vt->kthread = vk;
	vk->should_run = should_run;
	vk->run = run;
	vk->arg = arg;
	vk->idle = true;	/* not entered yet: its loop starts blocked */
	*ret = &vk->kt;
	return 0;
}

static void virt_kthread_wake(struct epcg_kthread *kt)
{
	struct virt_kthread *vk = to_virt_kthread(kt);
	struct virt_exec *vx = to_virt(kt->ex);

	vk->woken = true;
	if (vk->idle) {
		vk->idle = false;
		make_runnable(vx, vk->vt, caller_now(vx));
	}
}

static bool kthread_ended(struct virt_exec *vx, const void *vt)
{
	const struct epcg_vthread *t = vt;

	return t->state == EPCG_VTHREAD_FINISHED;
}

static void virt_kthread_stop(struct epcg_kthread *kt)
{
	struct virt_kthread *vk = to_virt_kthread(kt);
	struct virt_exec *vx = to_virt(kt->ex);

	vk->stop = true;
	/* Blocked at the top of its loop, it holds nothing: just drop it. */
	if (!vk->idle) {
		wait_event(vx, kthread_ended, vk->vt);
		/* Nothing can come: ended or not, drop it. */
	}
	vthread_free(vx, vk->vt);
	free(vk);
}

/* ---- clock, yields, simulated threads ---- */

static void virt_cond_resched(struct epcg_exec *ex)
{
	struct virt_exec *vx = to_virt(ex);
	struct epcg_vthread *self = vx->running, *next = heap_min(vx);

	if (!self || !next || !vt_before(next, self))
		return;
	make_runnable(vx, self, self->now);
	yield_running(vx);
}

static uint64_t virt_now_ns(struct epcg_exec *ex)
{
	return caller_now(to_virt(ex));
}

/* The clock the caller's costs go to: the running thread's, else the
 * frontier (see caller_now()). */
static uint64_t *caller_clock(struct virt_exec *vx)
{
	return vx->running ? &vx->running->now : &vx->frontier;
}

static uint64_t virt_advance_ns(struct epcg_exec *ex, uint64_t ns)
{
	uint64_t *clock = caller_clock(to_virt(ex));

	*clock = add_sat(*clock, ns);
	return *clock;
}

static void virt_account_ns(struct epcg_exec *ex, uint64_t ns)
{
	(void)virt_advance_ns(ex, ns);
}

static _Noreturn void die(struct virt_exec *vx, struct epcg_vthread *self)
{
	self->state = EPCG_VTHREAD_KILLED;
	switch_exit(vx, self);
}

static void virt_sleep_ns(struct epcg_exec *ex, uint64_t ns)
{
	struct virt_exec *vx = to_virt(ex);
	struct epcg_vthread *self = vx->running;
	uint64_t until;

	if (!self) {
		/* Plain code: let the simulation run for @ns. */
		until = add_sat(vx->frontier, ns);
		while (sched_step(vx, until))
			;
		if (vx->frontier < until)
			vx->frontier = until;
		return;
	}
	if (self->killed)
		die(vx, self);
	self->sleep_from = self->now;
	self->sleeping = true;
	make_runnable(vx, self, add_sat(self->now, ns));
	yield_running(vx);
	self->sleeping = false;
	if (self->killed)
		die(vx, self);
}

static int virt_spawn(struct epcg_exec *ex, const char *name,
		      uint64_t start_ns, void (*fn)(void *arg), void *arg,
		      struct epcg_task *task, struct epcg_vthread **ret)
{
	struct virt_exec *vx = to_virt(ex);
	struct epcg_vthread *vt;

	vt = vthread_new(vx, name, VT_SPAWNED);
	if (!vt)
		return -ENOMEM;
	vt->fn = fn;
	vt->arg = arg;
	vt->task = task;
	vx->nr_live++;
	make_runnable(vx, vt, start_ns);
	if (ret)
		*ret = vt;
	return 0;
}

static int virt_run(struct epcg_exec *ex, uint64_t until_ns)
{
	struct virt_exec *vx = to_virt(ex);

	if (vx->running)
		return -EINVAL;
	while (sched_step(vx, until_ns))
		;
	if (heap_min(vx)) {
		if (vx->frontier < until_ns)
			vx->frontier = until_ns;
		return -ETIMEDOUT;
	}
	if (vx->frontier < vx->latest)
		vx->frontier = vx->latest;
	return vx->nr_live ? -EDEADLK : 0;
}

int epcg_vthread_kill(struct epcg_vthread *vt)
{
	struct virt_exec *vx;

	if (!vt)
		return -EINVAL;
	vx = vt->vx;
	if (vt->kind != VT_SPAWNED)
		return -EINVAL;
	if (vt->state == EPCG_VTHREAD_FINISHED ||
	    vt->state == EPCG_VTHREAD_KILLED || vt->killed)
		return 0;
	vt->killed = true;
	if (vt->task)
		epcg_task_set_signal(vt->task, 1);
	if (!vt->started) {
		/* Never ran: it ends now, at the killer's clock. */
		heap_remove(vx, vt);
		if (vt->now < caller_now(vx))
			vt->now = caller_now(vx);
		vt->state = EPCG_VTHREAD_KILLED;
		vx->nr_live--;
		stack_free(vt);
	} else if (vt->sleeping && vt->heap_idx != NO_HEAP_IDX) {
		/* Cut the sleep short: wake at the killer's clock, die. */
		heap_remove(vx, vt);
		vt->now = EPCG_MAX(vt->sleep_from, caller_now(vx));
		heap_push(vx, vt);
	}
	return 0;
}

int epcg_vthread_info(const struct epcg_vthread *vt,
		      struct epcg_vthread_info *ret)
{
	if (!vt || !ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", vt->name);
	ret->id = vt->id;
	ret->state = vt->state;
	ret->now_ns = vt->now;
	ret->switches = vt->switches;
	return 0;
}

/* ---- create and destroy ---- */

static bool work_drained(struct virt_exec *vx, const void *unused)
{
	if (vx->head)
		return false;
	for (unsigned i = 0; i < vx->nr_workers; i++)
		if (vx->workers[i].current)
			return false;
	return true;
}

static void free_virt(struct virt_exec *vx)
{
	struct epcg_vthread *vt, *tmp;

	epcg_list_for_each_entry_safe(vt, tmp, &vx->threads, link) {
		if (vt->kind == VT_KTHREAD)
			free(vt->kthread);
		vthread_free(vx, vt);
	}
	free(vx->workers);
	free(vx->heap);
	free(vx);
}

static void virt_destroy(struct epcg_exec *ex)
{
	struct virt_exec *vx = to_virt(ex);
	struct epcg_vthread *vt;
	bool kthreads = false;

	wait_event(vx, work_drained, NULL);
	epcg_list_for_each_entry(vt, &vx->threads, link)
		kthreads |= vt->kind == VT_KTHREAD;
	EPCG_WARN_ONCE(kthreads, "exec destroyed with kthreads still running");
	free_virt(vx);
}

static const struct epcg_exec_ops virt_ops = {
	.queue_work = virt_queue_work,
	.cancel_work_sync = virt_cancel_work_sync,
	.flush = virt_flush,
	.kthread_start = virt_kthread_start,
	.kthread_wake = virt_kthread_wake,
	.kthread_stop = virt_kthread_stop,
	.cond_resched = virt_cond_resched,
	.now_ns = virt_now_ns,
	.account_ns = virt_account_ns,
	.advance_ns = virt_advance_ns,
	.sleep_ns = virt_sleep_ns,
	.spawn = virt_spawn,
	.run = virt_run,
	.destroy = virt_destroy,
};

int epcg_exec_virt_create(unsigned nr_workers, struct epcg_exec **ret)
{
	struct virt_exec *vx;

	if (!ret)
		return -EINVAL;
	if (!nr_workers)
		nr_workers = 1;
	vx = epcg_calloc(1, sizeof(*vx));
	if (!vx)
		return -ENOMEM;
	vx->ex.ops = &virt_ops;
	epcg_list_init(&vx->threads);
	epcg_list_init(&vx->waiters);
	vx->workers = epcg_calloc(nr_workers, sizeof(*vx->workers));
	if (!vx->workers)
		goto err_free;
	vx->nr_workers = nr_workers;
	for (unsigned i = 0; i < nr_workers; i++) {
		struct virt_worker *wk = &vx->workers[i];

		wk->vt = vthread_new(vx, "epcg-worker", VT_WORKER);
		if (!wk->vt)
			goto err_free;
		wk->vt->worker = wk;
		wk->idle = true;	/* not entered yet: starts blocked */
	}
	*ret = &vx->ex;
	return 0;

err_free:
	free_virt(vx);
	return -ENOMEM;
}
