// SPDX-License-Identifier: MIT
/*
 * The simulator's engine: a scenario run on the library in virtual time.
 *
 * What is simulated
 * -----------------
 * Everything the scenario declares is built from the real library, not a
 * model of it: a misc controller with the scenario's cgroups and limits
 * (enabled directly through the misc API: the simulator has no file
 * tree), a software SGX machine with the scenario's sections, policy and
 * cost model, and one virtual-time execution context carrying the
 * machine's reclaim workers and ksgxd.  The simulator adds only the
 * actors a real node would have:
 *
 *   an enclave process   a simulated thread that creates the enclave,
 *                        adds its pages (or, with EDMM, only its TCS
 *                        pages), initializes it and starts its threads;
 *                        its struct epcg_task is shared by all its
 *                        threads, so a move or a signal reaches them all
 *   an enclave thread    enters the enclave and runs its workload: page
 *                        after page from the generator, each touched with
 *                        epcg_encl_access() (which faults, reloads,
 *                        retries or fails exactly as the library does),
 *                        each followed by the think time; the last thread
 *                        out releases the enclave
 *   the events thread    sleeps until each timed event and performs it
 *                        (misc.max writes, start, stop, kill, move,
 *                        timed checks)
 *   the sampler          reads every cgroup at a fixed virtual interval
 *   a reaper             after a kill, waits for the process's threads
 *                        to die and releases what they held
 *
 * Time
 * ----
 * Every simulated thread has its own clock (lib/exec/exec-virt.c).  The
 * library charges the cost model to whoever does the work (the faulting
 * thread for its fault and reload, the reclaimer for EBLOCK, ETRACK and
 * EWB, the builder for EADD and EINIT); the simulator charges the think
 * time between accesses.  An enclave thread does not yield after every
 * access, which would make the simulation mostly context switches: it
 * runs a quantum (EPCG_SIM_QUANTUM_NS of its own time, like a time slice)
 * and then offers the CPU to any thread that is behind it.  Threads thus
 * run at most a quantum "ahead" of each other, and the library itself
 * yields inside every retry and reclaim loop, so waits for reclaim are
 * modelled at the granularity the library defines.
 *
 * Killing
 * -------
 * A kill is SIGKILL: the process's task gets the signal (the library's
 * charge and retry loops give up with -EINTR) and its simulated threads
 * die at their next sleep.  A thread looks for the kill before each
 * access, at each quantum and after every failed call, and then sleeps:
 * it dies before its next access (or, if the kill came while it was
 * inside the library, as soon as the library returns).  Nothing a thread
 * must give back lives on its stack: its
 * enclave thread handle and the enclave are in struct sim_thread and
 * struct sim_enclave, and the reaper exits and releases them once every
 * thread of the process is gone.
 *
 * Determinism
 * -----------
 * No wall clock, address or host property takes part in any decision.
 * Simulated threads are created in scenario order (the events thread
 * and sampler first, so at equal clocks an event happens before the
 * accesses of that instant and a sample sees the state after it), each
 * workload thread draws from its own stream derived from the seed, and
 * the scheduler orders threads by clock and creation.  The driver runs
 * the scheduler in fixed slices of virtual time (for the progress
 * display), which does not change the order in which threads run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>

#include "sim-internal.h"

#define PAGE EPCG_PAGE_SIZE
#define RES EPCG_MISC_RES_SGX_EPC

/* Pages added by one build call: the zero source below. */
#define BUILD_CHUNK 16

/* How often a reaper looks whether a killed process's threads are gone. */
#define REAP_POLL_NS 10000ull

/* The driver's slice of virtual time between progress reports. */
#define SLICE_NS 10000000ull

static const char zero_pages[BUILD_CHUNK * PAGE];

void epcg__sim_fail(struct sim *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->err)
		return;
	s->err = err;
	if (!s->msg || !s->msglen)
		return;
	va_start(ap, fmt);
	vsnprintf(s->msg, s->msglen, fmt, ap);
	va_end(ap);
}

static uint64_t now(struct sim *s)
{
	return epcg_exec_now_ns(s->ex);
}

int epcg__sim_task_cgroup(struct sim *s, struct epcg_task *task)
{
	struct epcg_misc_cg *cg = epcg_misc_task_get_cg(s->misc, task);
	int idx = 0;

	for (unsigned i = 0; i < s->nr_cgs; i++)
		if (s->cgs[i] == cg)
			idx = (int)i;
	epcg_misc_cg_put(cg);
	return idx;
}

void epcg__sim_enclave_stats(struct sim_enclave *e, struct epcg_encl_stats *ret)
{
	if (e->state == SIM_ENDED || !e->encl)
		*ret = e->final;
	else
		epcg_encl_stats(e->encl, ret);
}

enum epcg_outcome epcg__sim_enclave_outcome(const struct sim_enclave *e)
{
	return e->state == SIM_ENDED ? e->outcome : EPCG_OUTCOME_RUNNING;
}

static void stats_add(struct epcg_sgx_stats *a, const struct epcg_sgx_stats *b)
{
	a->ewb += b->ewb;
	a->eldu += b->eldu;
	a->faults += b->faults;
	a->reclaim_scans += b->reclaim_scans;
	a->enomem += b->enomem;
	a->sigbus += b->sigbus;
	a->paging_ns += b->paging_ns;
}

void epcg__sim_cgroup_totals(struct sim *s, struct epcg_sgx_stats *local,
			     struct epcg_sgx_stats *total)
{
	for (unsigned i = 0; i < s->nr_cgs; i++) {
		memset(&local[i], 0, sizeof(local[i]));
		epcg_sgx_cg_stats(s->cgs[i], &local[i]);
		total[i] = local[i];
	}
	/* Children come after their parents: fold them up from the end. */
	for (unsigned i = s->nr_cgs; i-- > 1;)
		stats_add(&total[s->sc->cgroups[i - 1].parent + 1], &total[i]);
}

/* ---- enclaves: the end of their life ---- */

static void check_done(struct sim *s)
{
	if (!s->nr_active && s->events_done && s->sampler_vt)
		epcg_vthread_kill(s->sampler_vt);
}

/*
 * The enclave is over (its threads are gone): keep its counters, release
 * it, and record how it ended.  @outcome applies unless a failure came
 * first.
 */
static void enclave_end(struct sim_enclave *e, enum epcg_outcome outcome,
			uint64_t end_ns)
{
	struct sim *s = e->sim;

	if (e->encl) {
		epcg_encl_stats(e->encl, &e->final);
		epcg_encl_release(e->encl);
		e->encl = NULL;
	}
	if (!e->failed)
		e->outcome = outcome;
	e->end_ns = end_ns;
	e->final_cgroup = epcg__sim_task_cgroup(s, &e->task);
	e->state = SIM_ENDED;
	s->nr_active--;
	check_done(s);
}

/* Failed with ENOMEM, SIGBUS or EFAULT: the first failure sticks. */
static void enclave_failed(struct sim_enclave *e, enum epcg_outcome outcome,
			   int err)
{
	if (e->failed)
		return;
	e->failed = true;
	e->outcome = outcome;
	e->error = err;
}

/* Die now if our process was killed (never returns then). */
static void maybe_die(struct sim_enclave *e)
{
	if (e->killed)
		epcg_exec_sleep_ns(e->sim->ex, 0);
}

static bool vthread_gone(const struct epcg_vthread *vt)
{
	struct epcg_vthread_info info;

	if (!vt || epcg_vthread_info(vt, &info))
		return true;
	return info.state == EPCG_VTHREAD_FINISHED ||
	       info.state == EPCG_VTHREAD_KILLED;
}

static bool process_gone(const struct sim_enclave *e)
{
	if (!vthread_gone(e->proc))
		return false;
	for (unsigned i = 0; i < e->decl->threads; i++)
		if (!vthread_gone(e->threads[i].vt))
			return false;
	return true;
}

/* After a kill: wait for the threads to die, then clean up after them. */
static void reaper_main(void *arg)
{
	struct sim_enclave *e = arg;
	uint64_t killed_at = now(e->sim);

	while (!process_gone(e))
		epcg_exec_sleep_ns(e->sim->ex, REAP_POLL_NS);
	for (unsigned i = 0; i < e->decl->threads; i++) {
		epcg_encl_exit(e->threads[i].et);
		e->threads[i].et = NULL;
	}
	enclave_end(e, EPCG_OUTCOME_KILLED, killed_at);
}

/* SIGKILL @e's process.  Context: a simulated thread or plain code. */
static void enclave_kill(struct sim_enclave *e)
{
	struct sim *s = e->sim;
	int err;

	if (e->state == SIM_ENDED || e->killed)
		return;
	e->killed = true;
	if (e->state == SIM_PENDING) {
		/* Never started: it simply never will. */
		e->outcome = EPCG_OUTCOME_KILLED;
		e->end_ns = EPCG_SCENARIO_NEVER;
		e->final_cgroup = epcg__sim_task_cgroup(s, &e->task);
		e->state = SIM_ENDED;
		return;
	}
	epcg_vthread_kill(e->proc);
	for (unsigned i = 0; i < e->decl->threads; i++)
		if (e->threads[i].vt)
			epcg_vthread_kill(e->threads[i].vt);
	if (e->state == SIM_SCHEDULED) {
		/* Its process never ran: nothing to clean up. */
		e->start_ns = EPCG_SCENARIO_NEVER;
		enclave_end(e, EPCG_OUTCOME_KILLED, EPCG_SCENARIO_NEVER);
		return;
	}
	err = epcg_exec_spawn(s->ex, "reaper", now(s), reaper_main, e, NULL,
			      &e->reaper);
	if (err)
		epcg__sim_fail(s, err, "cannot spawn a reaper");
}

/* ---- enclave threads ---- */

/* The workload loop of one thread: the simulator's hot path. */
static void thread_run(struct sim_thread *t)
{
	struct sim_enclave *e = t->e;
	struct epcg_exec *ex = e->sim->ex;
	uint64_t quantum = e->sim->quantum_ns;
	uint64_t next_yield = t->start_ns + quantum;
	uint64_t think, clock = t->start_ns;
	int64_t page;
	int err;

	for (;;) {
		if (e->stopping || e->failed || e->killed)
			return;
		page = epcg_workload_gen_next(&t->gen, clock - t->start_ns,
					      &think);
		if (page < 0)
			return;
		err = epcg_encl_touch(e->encl, t->et, (uint64_t)page * PAGE,
				      EPCG_ENCL_READ);
		if (err) {
			maybe_die(e);
			enclave_failed(e,
				       err == -EFAULT ? EPCG_OUTCOME_SIGBUS :
							EPCG_OUTCOME_EFAULT,
				       err);
			return;
		}
		clock = epcg_exec_advance_ns(ex, think);
		if (clock >= next_yield) {
			maybe_die(e);
			epcg_exec_cond_resched(ex);
			next_yield = clock + quantum;
		}
	}
}

static void thread_main(void *arg)
{
	struct sim_thread *t = arg;
	struct sim_enclave *e = t->e;
	struct sim *s = e->sim;
	int err;

	t->start_ns = now(s);
	maybe_die(e);
	err = epcg_encl_enter(e->encl, &t->et);
	if (err) {
		epcg__sim_fail(s, err, "%s: EENTER failed", e->decl->name);
		enclave_failed(e, EPCG_OUTCOME_EFAULT, err);
	} else {
		thread_run(t);
		maybe_die(e);
		epcg_encl_exit(t->et);
		t->et = NULL;
	}
	if (--e->nr_running || e->killed)
		return;
	enclave_end(e, e->stopping ? EPCG_OUTCOME_STOPPED : EPCG_OUTCOME_OK,
		    now(s));
}

/* ---- enclave processes ---- */

/* The address range of an enclave of @size bytes: a power of two. */
static uint64_t elrange(uint64_t size)
{
	uint64_t r = 2 * PAGE;

	while (r < size)
		r <<= 1;
	return r;
}

/* Add @nr pages from @first, a chunk at a time, offering the CPU. */
static int add_pages(struct sim_enclave *e, uint64_t first, uint64_t nr,
		     enum epcg_encl_page_type type, unsigned prot)
{
	struct sim *s = e->sim;
	uint64_t next_yield = now(s) + s->quantum_ns;
	int err;

	while (nr) {
		uint64_t n = nr < BUILD_CHUNK ? nr : BUILD_CHUNK;

		if (e->killed)
			return -EINTR;
		if (e->stopping)
			return 0;
		err = epcg_encl_add_pages(e->encl, first * PAGE, zero_pages, n,
					  type, prot, NULL);
		if (err)
			return err;
		first += n;
		nr -= n;
		if (now(s) >= next_yield) {
			epcg_exec_cond_resched(s->ex);
			next_yield = now(s) + s->quantum_ns;
		}
	}
	return 0;
}

/* Create, add pages, init, as an SGX runtime's loader does. */
static int build(struct sim_enclave *e)
{
	const struct epcg_scenario_enclave *d = e->decl;
	uint64_t pages = d->size / PAGE;
	uint64_t tcs = d->tcs < pages ? d->tcs : pages;
	int err;

	err = epcg_encl_create(e->sim->sgx, elrange(d->size), &e->encl);
	if (err)
		return err;
	err = add_pages(e, 0, tcs, EPCG_ENCL_PAGE_TCS, 0);
	if (!err && !d->edmm)
		err = add_pages(e, tcs, pages - tcs, EPCG_ENCL_PAGE_REG,
				EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE);
	if (!err && !e->stopping)
		err = epcg_encl_init(e->encl, NULL);
	return err;
}

static void process_main(void *arg)
{
	struct sim_enclave *e = arg;
	struct sim *s = e->sim;
	int err;

	e->state = SIM_BUILDING;
	e->start_ns = now(s);
	err = build(e);
	maybe_die(e);
	if (err) {
		enclave_failed(e,
			       err == -ENOMEM ? EPCG_OUTCOME_ENOMEM :
						EPCG_OUTCOME_EFAULT,
			       err);
		if (err != -ENOMEM)
			epcg__sim_fail(s, err,
				       "%s: building the enclave failed",
				       e->decl->name);
	}
	if (err || e->stopping) {
		enclave_end(e, EPCG_OUTCOME_STOPPED, now(s));
		return;
	}
	e->state = SIM_RUNNING;
	e->nr_running = e->decl->threads;
	for (unsigned i = 0; i < e->decl->threads; i++) {
		err = epcg_exec_spawn(s->ex, e->decl->name, now(s), thread_main,
				      &e->threads[i], &e->task,
				      &e->threads[i].vt);
		if (err) {
			epcg__sim_fail(s, err, "cannot spawn a thread");
			e->nr_running -= e->decl->threads - i;
			enclave_failed(e, EPCG_OUTCOME_EFAULT, err);
			if (!e->nr_running)
				enclave_end(e, EPCG_OUTCOME_OK, now(s));
			return;
		}
	}
}

/* Spawn @e's process to start at @at_ns. */
static int enclave_spawn(struct sim_enclave *e, uint64_t at_ns)
{
	struct sim *s = e->sim;
	int err;

	err = epcg_exec_spawn(s->ex, e->decl->name, at_ns, process_main, e,
			      &e->task, &e->proc);
	if (err)
		return err;
	e->state = SIM_SCHEDULED;
	s->nr_active++;
	return 0;
}

/* ---- timed events ---- */

static void event_start(struct sim_enclave *e)
{
	int err;

	if (e->state != SIM_PENDING)
		return;
	err = enclave_spawn(e, now(e->sim));
	if (err)
		epcg__sim_fail(e->sim, err, "cannot start %s", e->decl->name);
}

static void event_stop(struct sim_enclave *e)
{
	if (e->state == SIM_ENDED)
		return;
	e->stopping = true;
	if (e->state == SIM_PENDING) {
		e->outcome = EPCG_OUTCOME_STOPPED;
		e->end_ns = EPCG_SCENARIO_NEVER;
		e->final_cgroup = epcg__sim_task_cgroup(e->sim, &e->task);
		e->state = SIM_ENDED;
	} else if (e->state == SIM_SCHEDULED) {
		epcg_vthread_kill(e->proc); /* never runs */
		e->start_ns = EPCG_SCENARIO_NEVER;
		enclave_end(e, EPCG_OUTCOME_STOPPED, EPCG_SCENARIO_NEVER);
	}
}

static struct epcg_misc_cg *cg_of(struct sim *s, int scenario_idx)
{
	return s->cgs[scenario_idx + 1];
}

static void record_event(struct sim *s, const struct epcg_event *ev)
{
	struct epcg_results *r = s->r;
	struct epcg_result_event *x = &r->events[r->nr_events];
	char *text = epcg__sim_event_text(s->sc, ev);

	if (!text) {
		epcg__sim_fail(s, -ENOMEM, "out of memory");
		return;
	}
	x->line = ev->line;
	x->at_ns = now(s);
	x->text = text;
	r->nr_events++;
}

static void do_event(struct sim *s, unsigned i)
{
	const struct epcg_event *ev = &s->sc->events[i];
	struct sim_enclave *e = ev->enclave >= 0 ? &s->encls[ev->enclave] :
						   NULL;
	int err;

	switch (ev->kind) {
	case EPCG_EVENT_SET_MAX:
		err = epcg_misc_set_max(cg_of(s, ev->cgroup), RES, ev->value);
		if (err)
			epcg__sim_fail(s, err, "%s:%d: setting misc.max failed",
				       s->sc->file, ev->line);
		break;
	case EPCG_EVENT_START:
		event_start(e);
		break;
	case EPCG_EVENT_STOP:
		event_stop(e);
		break;
	case EPCG_EVENT_KILL:
		enclave_kill(e);
		break;
	case EPCG_EVENT_MOVE:
		epcg_misc_task_attach(
			&e->task, ev->cgroup < 0 ? NULL : cg_of(s, ev->cgroup));
		break;
	case EPCG_EVENT_EXPECT:
		err = epcg__sim_expect(s, &ev->expect, now(s),
				       &s->r->expects[s->event_expect[i]]);
		if (err)
			epcg__sim_fail(s, err, "out of memory");
		return;
	default:
		return;
	}
	record_event(s, ev);
}

static void events_main(void *arg)
{
	struct sim *s = arg;

	for (unsigned i = 0; i < s->sc->nr_events; i++) {
		uint64_t t = now(s), at = s->sc->events[i].at_ns;

		if (at > t)
			epcg_exec_sleep_ns(s->ex, at - t);
		do_event(s, i);
	}
	s->events_done = true;
	check_done(s);
}

/* ---- the time series ---- */

static int sample(struct sim *s, uint64_t t)
{
	struct epcg_result_series *ser = &s->r->series;
	struct epcg_sgx_stats *total = s->total;
	unsigned n = s->nr_cgs;

	if (ser->nr == s->series_cap) {
		unsigned cap = s->series_cap ? 2 * s->series_cap : 256;
		uint64_t *tt = realloc(ser->t_ns, cap * sizeof(*tt));
		struct epcg_result_sample *ss;

		if (!tt)
			return -ENOMEM;
		ser->t_ns = tt;
		ss = realloc(ser->s, (size_t)cap * n * sizeof(*ss));
		if (!ss)
			return -ENOMEM;
		ser->s = ss;
		s->series_cap = cap;
	}
	epcg__sim_cgroup_totals(s, s->local, total);
	ser->t_ns[ser->nr] = t;
	for (unsigned c = 0; c < n; c++) {
		struct epcg_result_sample *x = &ser->s[(size_t)ser->nr * n + c];

		x->current = epcg_misc_usage(s->cgs[c], RES);
		x->max = epcg_misc_max(s->cgs[c], RES);
		x->faults = total[c].faults;
		x->ewb = total[c].ewb;
		x->eldu = total[c].eldu;
	}
	ser->nr++;
	return 0;
}

static void sampler_main(void *arg)
{
	struct sim *s = arg;

	for (;;) {
		if (sample(s, now(s))) {
			epcg__sim_fail(s, -ENOMEM, "out of memory");
			return;
		}
		if (!s->nr_active && s->events_done)
			return;
		epcg_exec_sleep_ns(s->ex, s->sample_ns);
	}
}

/* ---- building the world ---- */

/* Which library cost each scenario cost is (the access cost is ours). */
static const struct {
	enum epcg_scenario_cost scn;
	enum epcg_sgx_cost sgx;
} cost_map[] = {
	{ EPCG_COST_FAULT, EPCG_SGX_COST_FAULT },
	{ EPCG_COST_EWB, EPCG_SGX_COST_EWB },
	{ EPCG_COST_ELDU, EPCG_SGX_COST_ELDU },
	{ EPCG_COST_EBLOCK, EPCG_SGX_COST_EBLOCK },
	{ EPCG_COST_ETRACK, EPCG_SGX_COST_ETRACK },
	{ EPCG_COST_IPI, EPCG_SGX_COST_IPI },
	{ EPCG_COST_EPA, EPCG_SGX_COST_EPA },
	{ EPCG_COST_EADD, EPCG_SGX_COST_EADD },
	{ EPCG_COST_EAUG, EPCG_SGX_COST_EAUG },
	{ EPCG_COST_EREMOVE, EPCG_SGX_COST_EREMOVE },
	{ EPCG_COST_ECREATE, EPCG_SGX_COST_ECREATE },
	{ EPCG_COST_EINIT, EPCG_SGX_COST_EINIT },
	{ EPCG_COST_EENTER, EPCG_SGX_COST_EENTER },
};

static int build_machine(struct sim *s)
{
	const struct epcg_scenario *sc = s->sc;
	struct epcg_sgx_config cfg = {
		.secs = sc->secs,
		.nr_secs = sc->nr_secs,
		.policy = sc->policy,
	};
	struct epcg_sgx_costs costs = { { 0 } };
	int err;

	err = epcg_exec_virt_create(sc->workers, &s->ex);
	if (!err)
		err = epcg_misc_create(&s->misc);
	if (!err)
		err = epcg_sgx_create(s->misc, s->ex, &cfg, &s->sgx);
	if (err) {
		epcg__sim_fail(s, err, "cannot build the machine");
		return err;
	}
	for (size_t i = 0; i < sizeof(cost_map) / sizeof(cost_map[0]); i++)
		costs.ns[cost_map[i].sgx] = sc->cost_ns[cost_map[i].scn];
	epcg_sgx_set_costs(s->sgx, &costs);

	s->nr_cgs = sc->nr_cgroups + 1;
	s->cgs = calloc(s->nr_cgs, sizeof(*s->cgs));
	s->local = calloc(s->nr_cgs, sizeof(*s->local));
	s->total = calloc(s->nr_cgs, sizeof(*s->total));
	if (!s->cgs || !s->local || !s->total)
		return -ENOMEM;
	s->cgs[0] = epcg_misc_root(s->misc);
	for (unsigned i = 0; i < sc->nr_cgroups; i++) {
		const struct epcg_scenario_cgroup *c = &sc->cgroups[i];
		const char *name = strrchr(c->path, '/') + 1;

		err = epcg_misc_cg_create(s->cgs[c->parent + 1], name,
					  &s->cgs[i + 1]);
		if (!err && c->max != EPCG_SCENARIO_MAX)
			err = epcg_misc_set_max(s->cgs[i + 1], RES, c->max);
		if (err) {
			epcg__sim_fail(s, err, "%s:%d: cannot create cgroup %s",
				       sc->file, c->line, c->path);
			return err;
		}
	}
	return 0;
}

static int setup_enclave(struct sim *s, unsigned idx)
{
	const struct epcg_scenario *sc = s->sc;
	const struct epcg_scenario_enclave *d = &sc->enclaves[idx];
	struct sim_enclave *e = &s->encls[idx];
	const struct epcg_trace *trace = NULL;
	char why[256];
	int err;

	e->sim = s;
	e->decl = d;
	e->idx = idx;
	e->state = SIM_PENDING;
	e->start_ns = EPCG_SCENARIO_NEVER;
	e->end_ns = EPCG_SCENARIO_NEVER;
	epcg_task_init(&e->task, d->pid, sc->secs[idx % sc->nr_secs].node);
	epcg_misc_task_attach(&e->task,
			      d->cgroup < 0 ? NULL : cg_of(s, d->cgroup));
	e->threads = calloc(d->threads, sizeof(*e->threads));
	if (!e->threads)
		return -ENOMEM;
	if (d->wl.pattern == EPCG_PATTERN_TRACE) {
		err = epcg_trace_load(d->wl.trace_path, &d->wl.trace, &e->trace,
				      why, sizeof(why));
		if (err) {
			if (err != -EINVAL && err != -ENOMEM)
				snprintf(why, sizeof(why), "%s: %s",
					 d->wl.trace_path, strerror(-err));
			epcg__sim_fail(s, -EINVAL,
				       "%s:%d: cannot read the "
				       "trace of '%s': %s",
				       sc->file, d->wl.line, d->name, why);
			return -EINVAL;
		}
		trace = &e->trace;
	}
	for (unsigned i = 0; i < d->threads; i++) {
		struct sim_thread *t = &e->threads[i];

		t->e = e;
		t->idx = i;
		err = epcg_workload_gen_init(&t->gen, &d->wl, d->size, trace,
					     sc->seed, (uint64_t)idx * 1024 + i,
					     sc->cost_ns[EPCG_COST_ACCESS]);
		if (err) {
			epcg__sim_fail(s, -EINVAL,
				       "%s:%d: the workload of "
				       "'%s' cannot run on it",
				       sc->file,
				       d->wl.line ? d->wl.line : d->line,
				       d->name);
			return -EINVAL;
		}
	}
	return 0;
}

static char *dup_str(const char *str)
{
	return str ? strdup(str) : NULL;
}

static bool timed_expect(const struct epcg_event *ev)
{
	return ev->kind == EPCG_EVENT_EXPECT;
}

static int by_line(const void *a, const void *b)
{
	const struct epcg_result_expect *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/*
 * Sort the expectations by line (each has its own line, so the order is
 * total) and point the timed ones' events at their new places.
 */
static void order_expects(struct sim *s)
{
	const struct epcg_scenario *sc = s->sc;
	struct epcg_results *r = s->r;

	qsort(r->expects, r->nr_expects, sizeof(*r->expects), by_line);
	for (unsigned i = 0; i < sc->nr_events; i++) {
		if (!timed_expect(&sc->events[i]))
			continue;
		for (unsigned k = 0; k < r->nr_expects; k++)
			if (r->expects[k].line == sc->events[i].line)
				s->event_expect[i] = k;
	}
}

/* The results skeleton: what is known before the run. */
static int setup_results(struct sim *s)
{
	const struct epcg_scenario *sc = s->sc;
	struct epcg_results *r;
	unsigned nr_timed = 0;

	r = s->r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->version = EPCG_RESULTS_VERSION;
	r->scenario = dup_str(sc->file ? sc->file : "<scenario>");
	r->seed = sc->seed;
	r->policy = sc->policy;
	r->nr_sections = sc->nr_secs;
	for (unsigned i = 0; i < sc->nr_secs; i++) {
		r->section_bytes[i] = sc->secs[i].size;
		r->epc_bytes += sc->secs[i].size;
	}
	r->duration_ns = sc->duration_ns;
	memcpy(r->cost_ns, sc->cost_ns, sizeof(r->cost_ns));
	r->series.interval_ns = s->sample_ns;
	for (unsigned i = 0; i < sc->nr_events; i++)
		nr_timed += timed_expect(&sc->events[i]);
	r->nr_cgroups = s->nr_cgs;
	r->cgroups = calloc(s->nr_cgs, sizeof(*r->cgroups));
	r->nr_enclaves = sc->nr_enclaves;
	r->enclaves = calloc(sc->nr_enclaves + 1, sizeof(*r->enclaves));
	r->nr_expects = sc->nr_expects + nr_timed;
	r->expects = calloc(r->nr_expects + 1, sizeof(*r->expects));
	r->events = calloc(sc->nr_events + 1, sizeof(*r->events));
	s->event_expect = calloc(sc->nr_events + 1, sizeof(*s->event_expect));
	if (!r->scenario || !r->cgroups || !r->enclaves || !r->expects ||
	    !r->events || !s->event_expect)
		return -ENOMEM;
	for (unsigned i = 0; i < s->nr_cgs; i++) {
		r->cgroups[i].path = dup_str(i ? sc->cgroups[i - 1].path : "/");
		r->cgroups[i].parent = i ? sc->cgroups[i - 1].parent + 1 : -1;
		if (!r->cgroups[i].path)
			return -ENOMEM;
	}
	/* Expectations in line order, timed ones (sorted by time) too. */
	for (unsigned i = 0, k = 0; i < sc->nr_events; i++) {
		if (!timed_expect(&sc->events[i]))
			continue;
		s->event_expect[i] = k;
		r->expects[k].line = sc->events[i].line;
		r->expects[k].timed = true;
		r->expects[k++].at_ns = sc->events[i].at_ns;
	}
	for (unsigned i = 0; i < sc->nr_expects; i++)
		r->expects[nr_timed + i].line = sc->expects[i].line;
	order_expects(s);
	return 0;
}

/* ---- the run ---- */

static int start(struct sim *s)
{
	const struct epcg_scenario *sc = s->sc;
	int err = 0;

	s->events_done = !sc->nr_events;
	if (sc->nr_events)
		err = epcg_exec_spawn(s->ex, "events", 0, events_main, s, NULL,
				      &s->events_vt);
	if (!err)
		err = epcg_exec_spawn(s->ex, "sampler", 0, sampler_main, s,
				      NULL, &s->sampler_vt);
	for (unsigned i = 0; !err && i < sc->nr_enclaves; i++)
		if (sc->enclaves[i].start_ns != EPCG_SCENARIO_NEVER)
			err = enclave_spawn(&s->encls[i],
					    sc->enclaves[i].start_ns);
	if (err)
		epcg__sim_fail(s, err, "cannot start the simulation");
	return err;
}

/* Run to the end, a slice at a time.  Return: 0; -EDEADLK. */
static int drive(struct sim *s, const struct epcg_sim_opts *opts)
{
	uint64_t end = s->sc->duration_ns ? s->sc->duration_ns : UINT64_MAX;
	uint64_t until = 0;
	int rc;

	for (;;) {
		until = end - until > SLICE_NS ? until + SLICE_NS : end;
		rc = epcg_exec_run(s->ex, until);
		if (opts && opts->progress)
			opts->progress(opts->arg, epcg_exec_now_ns(s->ex),
				       s->sc->duration_ns);
		if (!rc) {
			s->r->end = EPCG_RESULTS_END_DONE;
			break;
		}
		if (rc != -ETIMEDOUT) {
			epcg__sim_fail(s, rc,
				       "the simulation got stuck at "
				       "%llu ns: threads wait for "
				       "something that cannot come",
				       (unsigned long long)now(s));
			return rc;
		}
		if (until == end) {
			s->r->end = EPCG_RESULTS_END_DURATION;
			break;
		}
	}
	s->r->virtual_ns = epcg_exec_now_ns(s->ex);
	return 0;
}

static int finish_enclaves(struct sim *s)
{
	struct epcg_results *r = s->r;

	for (unsigned i = 0; i < s->sc->nr_enclaves; i++) {
		struct sim_enclave *e = &s->encls[i];
		struct epcg_result_enclave *x = &r->enclaves[i];
		struct epcg_encl_stats st;
		bool ended = e->state == SIM_ENDED;

		x->name = dup_str(e->decl->name);
		x->group = dup_str(e->decl->group);
		if (!x->name || !x->group)
			return -ENOMEM;
		epcg__sim_enclave_stats(e, &st);
		x->cgroup = ended ? e->final_cgroup :
				    epcg__sim_task_cgroup(s, &e->task);
		x->pid = e->decl->pid;
		x->threads = e->decl->threads;
		x->size = e->decl->size;
		x->pages = st.pages;
		x->accesses = st.accesses;
		x->faults = st.faults;
		x->ewb = st.ewb;
		x->eldu = st.eldu;
		x->sigbus = st.sigbus;
		x->outcome = epcg__sim_enclave_outcome(e);
		x->error = ended ? e->error : 0;
		x->start_ns = e->start_ns;
		x->end_ns = ended ? e->end_ns :
			    e->start_ns == EPCG_SCENARIO_NEVER ?
				    EPCG_SCENARIO_NEVER :
				    r->virtual_ns;
		x->virtual_ns = x->start_ns == EPCG_SCENARIO_NEVER ||
						x->end_ns ==
							EPCG_SCENARIO_NEVER ?
					0 :
					x->end_ns - x->start_ns;
		r->accesses += x->accesses;
	}
	return 0;
}

static int finish_expects(struct sim *s)
{
	const struct epcg_scenario *sc = s->sc;
	struct epcg_results *r = s->r;
	char at[32];
	int err;

	for (unsigned i = 0; i < sc->nr_expects; i++)
		for (unsigned k = 0; k < r->nr_expects; k++)
			if (r->expects[k].line == sc->expects[i].line &&
			    (err = epcg__sim_expect(s, &sc->expects[i],
						    r->virtual_ns,
						    &r->expects[k])))
				return err;
	/* Timed checks the run ended before. */
	for (unsigned i = 0; i < sc->nr_events; i++) {
		struct epcg_result_expect *x;

		if (!timed_expect(&sc->events[i]))
			continue;
		x = &r->expects[s->event_expect[i]];
		if (x->reached)
			continue;
		err = epcg__sim_expect(s, &sc->events[i].expect,
				       sc->events[i].at_ns, x);
		if (err)
			return err;
		free(x->detail);
		epcg__sim_fmt_time(at, sizeof(at), r->virtual_ns);
		x->detail = malloc(64);
		if (!x->detail)
			return -ENOMEM;
		snprintf(x->detail, 64, "not reached (the run ended at %s)",
			 at);
		x->reached = false;
		x->passed = false;
	}
	for (unsigned k = 0; k < r->nr_expects; k++)
		r->nr_failed += !r->expects[k].passed;
	return 0;
}

/* Everything the results hold about the end of the run. */
static int finish(struct sim *s)
{
	struct epcg_results *r = s->r;
	struct epcg_result_series *ser = &r->series;
	int err;

	if (!ser->nr || ser->t_ns[ser->nr - 1] < r->virtual_ns)
		if (sample(s, r->virtual_ns))
			return -ENOMEM;
	epcg__sim_cgroup_totals(s, s->local, s->total);
	for (unsigned i = 0; i < s->nr_cgs; i++) {
		struct epcg_result_cgroup *c = &r->cgroups[i];

		c->max = epcg_misc_max(s->cgs[i], RES);
		c->current = epcg_misc_usage(s->cgs[i], RES);
		c->peak = epcg_misc_peak(s->cgs[i], RES);
		c->events = epcg_misc_events(s->cgs[i], RES);
		c->events_local = epcg_misc_events_local(s->cgs[i], RES);
		c->local = s->local[i];
		c->total = s->total[i];
	}
	epcg_sgx_stats(s->sgx, &r->machine);
	err = finish_enclaves(s);
	if (!err)
		err = finish_expects(s);
	return err;
}

/*
 * Kill what still runs, let it die and be released, and check that every
 * charge came back (E12) and the machine's books balance.
 */
static int wind_down(struct sim *s)
{
	char why[256];
	int rc;

	if (s->events_vt)
		epcg_vthread_kill(s->events_vt);
	if (s->sampler_vt)
		epcg_vthread_kill(s->sampler_vt);
	for (unsigned i = 0; i < s->sc->nr_enclaves; i++)
		enclave_kill(&s->encls[i]);
	rc = epcg_exec_run(s->ex, UINT64_MAX);
	if (rc) {
		epcg__sim_fail(s, rc, "winding down got stuck");
		return rc;
	}
	if (epcg_misc_usage(s->cgs[0], RES)) {
		epcg__sim_fail(s, -EIO,
			       "%llu bytes of sgx_epc still charged "
			       "after every enclave was released",
			       (unsigned long long)epcg_misc_usage(s->cgs[0],
								   RES));
		return -EIO;
	}
	if (epcg_sgx_check(s->sgx, why, sizeof(why))) {
		epcg__sim_fail(s, -EIO,
			       "the machine's accounting is "
			       "inconsistent: %s",
			       why);
		return -EIO;
	}
	return 0;
}

static void destroy(struct sim *s)
{
	for (unsigned i = 0; s->encls && i < s->sc->nr_enclaves; i++) {
		struct sim_enclave *e = &s->encls[i];

		if (e->sim)
			epcg_misc_task_attach(&e->task, NULL);
		epcg_trace_finish(&e->trace);
		free(e->threads);
	}
	for (unsigned i = s->nr_cgs; s->cgs && i-- > 1;)
		if (s->cgs[i])
			epcg_misc_cg_remove(s->cgs[i]);
	epcg_sgx_destroy(s->sgx);
	epcg_exec_destroy(s->ex);
	epcg_misc_destroy(s->misc);
	free(s->encls);
	free(s->cgs);
	free(s->local);
	free(s->total);
	free(s->event_expect);
}

int epcg_sim_run(const struct epcg_scenario *sc,
		 const struct epcg_sim_opts *opts, struct epcg_results **ret,
		 char *err, size_t errlen)
{
	struct sim s = {
		.sc = sc,
		.sample_ns = EPCG_SIM_SAMPLE_NS,
		.quantum_ns = EPCG_SIM_QUANTUM_NS,
		.msg = err,
		.msglen = errlen,
	};
	bool ran = false;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!sc || !ret)
		return -EINVAL;
	*ret = NULL;
	if (opts && opts->sample_ns)
		s.sample_ns = opts->sample_ns;
	if (opts && opts->quantum_ns)
		s.quantum_ns = opts->quantum_ns;
	rc = build_machine(&s);
	if (!rc)
		rc = setup_results(&s);
	if (!rc) {
		s.encls = calloc(sc->nr_enclaves + 1, sizeof(*s.encls));
		rc = s.encls ? 0 : -ENOMEM;
	}
	for (unsigned i = 0; !rc && i < sc->nr_enclaves; i++)
		rc = setup_enclave(&s, i);
	if (!rc)
		rc = start(&s);
	if (!rc) {
		ran = true;
		rc = drive(&s, opts);
	}
	if (!rc)
		rc = finish(&s);
	if (!rc && opts && opts->at_end)
		opts->at_end(opts->arg, s.misc, s.sgx, s.r);
	if (ran && (!rc || rc == -ENOMEM)) {
		int wd = wind_down(&s);

		if (!rc)
			rc = wd;
	}
	if (!rc)
		rc = s.err;
	if (rc == -ENOMEM)
		epcg__sim_fail(&s, rc, "out of memory");
	destroy(&s);
	if (rc) {
		epcg_results_destroy(s.r);
		return rc;
	}
	*ret = s.r;
	return 0;
}
