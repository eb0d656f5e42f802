/* SPDX-License-Identifier: MIT */
/*
 * Inside the simulator: the state one run shares between sim.c (the
 * engine: machine, processes, threads, events, sampler, driver) and
 * sim-expect.c (expectations and the words reports use).
 *
 * Everything here lives on the one OS thread that called epcg_sim_run()
 * and is touched only by it: by plain code before and after the run, and
 * by simulated threads (coroutines) during it, which never run at the
 * same time.  So nothing is locked; the only rule is the virtual-time
 * one, that a simulated thread may be stopped for good at a sleep (a
 * kill), so what must outlive it lives here, not on its stack.
 */
#ifndef EPCG_SIM_INTERNAL_H
#define EPCG_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>

#include "results.h"
#include "scenario.h"
#include "sim.h"
#include "workload.h"

struct sim;
struct sim_enclave;

/* One enclave thread (a simulated thread running the workload). */
struct sim_thread {
	struct sim_enclave *e;
	unsigned idx;
	struct epcg_vthread *vt; /* NULL until spawned */
	struct epcg_encl_thread *et; /* while inside the enclave */
	struct epcg_workload_gen gen;
	uint64_t start_ns;
};

/* Where an enclave's process is in its life. */
enum sim_state {
	SIM_PENDING, /* "start never", no start event yet */
	SIM_SCHEDULED, /* its process is spawned, has not run yet */
	SIM_BUILDING, /* create, add pages, init */
	SIM_RUNNING, /* its threads run the workload */
	SIM_ENDED, /* released; outcome and counters final */
	SIM_STATE_NR
};

/*
 * One enclave: its process (a task shared by all its threads, so a
 * signal or a move reaches all of them, as for a real process), the
 * enclave, and how it ended.
 */
struct sim_enclave {
	struct sim *sim;
	const struct epcg_scenario_enclave *decl;
	unsigned idx;
	struct epcg_task task;
	struct epcg_trace trace; /* TRACE workloads */
	struct epcg_encl *encl; /* once created, until released */
	struct epcg_vthread *proc; /* builds it, then spawns threads */
	struct epcg_vthread *reaper; /* cleans up after a kill */
	struct sim_thread *threads;
	unsigned nr_running; /* threads not done with the workload */
	enum sim_state state;
	bool killed; /* SIGKILL sent */
	bool stopping; /* asked to finish */
	bool failed; /* ENOMEM, SIGBUS or EFAULT met */
	enum epcg_outcome outcome; /* once ended, or failed */
	int error;
	uint64_t start_ns;
	uint64_t end_ns;
	struct epcg_encl_stats final; /* counters when it was released */
	int final_cgroup; /* results index of its cgroup then */
};

struct sim {
	const struct epcg_scenario *sc;
	uint64_t sample_ns;
	uint64_t quantum_ns;
	struct epcg_misc *misc;
	struct epcg_exec *ex;
	struct epcg_sgx *sgx;
	struct epcg_misc_cg **cgs; /* results cgroup index -> misc cgroup */
	unsigned nr_cgs;
	struct sim_enclave *encls;
	struct epcg_vthread *events_vt;
	struct epcg_vthread *sampler_vt;
	unsigned nr_active; /* enclaves spawned, not yet ended */
	bool events_done;
	struct epcg_results *r;
	unsigned series_cap; /* samples room in r->series */
	unsigned *event_expect; /* event index -> r->expects index */
	struct epcg_sgx_stats *local; /* scratch, nr_cgs each */
	struct epcg_sgx_stats *total;
	int err; /* first failure inside the run */
	char *msg; /* its message */
	size_t msglen;
};

/* Record the first failure of the run (later ones are dropped). */
void epcg__sim_fail(struct sim *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Results cgroup index of the cgroup @task charges now. */
int epcg__sim_task_cgroup(struct sim *s, struct epcg_task *task);

/* An enclave's counters now: final once ended, live while running. */
void epcg__sim_enclave_stats(struct sim_enclave *e,
			     struct epcg_encl_stats *ret);

/* Its outcome now: final once ended, EPCG_OUTCOME_RUNNING before. */
enum epcg_outcome epcg__sim_enclave_outcome(const struct sim_enclave *e);

/* Paging counters of every results cgroup, hierarchical (@ret[nr_cgs]). */
void epcg__sim_cgroup_totals(struct sim *s, struct epcg_sgx_stats *local,
			     struct epcg_sgx_stats *total);

/*
 * sim-expect.c: check @x now (at @now_ns) into @out (text, detail,
 * verdict).  Return: 0; -ENOMEM.
 */
int epcg__sim_expect(struct sim *s, const struct epcg_expect *x,
		     uint64_t now_ns, struct epcg_result_expect *out);

/* The words of a timed event ("kill flaky"); NULL if out of memory. */
char *epcg__sim_event_text(const struct epcg_scenario *sc,
			   const struct epcg_event *ev);

/*
 * Sizes and times the way scenarios write them: the largest exact unit
 * ("16M", "4096", "max"; "250ms", "3s", "0").  Return: @buf.
 */
char *epcg__sim_fmt_size(char *buf, size_t size, uint64_t bytes);
char *epcg__sim_fmt_time(char *buf, size_t size, uint64_t ns);

#endif
