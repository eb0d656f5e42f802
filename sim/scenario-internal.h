/* SPDX-License-Identifier: MIT */
/*
 * The scenario parser from the inside, shared by scenario.c (the core:
 * lines, the machine, cgroups, enclaves), scenario-value.c (values and
 * error reporting) and scenario-activity.c (workloads, phases, events,
 * expectations).
 *
 * Every helper that reads a value reports its own error through
 * epcg__scn_fail(), naming the line, and returns -EINVAL; callers just
 * pass a non-zero result up.
 */
#ifndef EPCG_SIM_SCENARIO_INTERNAL_H
#define EPCG_SIM_SCENARIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

#define EPCG_SCN_MAX_WORDS 32
#define EPCG_SCN_MAX_THREADS 1024

/* The state of one parse. */
struct epcg_parser {
	struct epcg_scenario *sc;
	const char *file;
	const char *dir;		/* trace paths are relative to it */
	size_t dir_len;
	int line;
	char *word[EPCG_SCN_MAX_WORDS];
	unsigned nr;
	char *err;
	size_t errlen;
	int epc_line;			/* 0: not seen */
	int section_line;
	int policy_line;
	int seed_line;
	int duration_line;
	int workers_line;
	int cost_line[EPCG_COST_NR];
	unsigned cap_cgroups, cap_enclaves, cap_events, cap_expects;
};

extern const char *const epcg__scn_cost_names[EPCG_COST_NR];
extern const char *const epcg__scn_metric_names[EPCG_METRIC_NR];
extern const char *const epcg__scn_outcome_names[EPCG_OUTCOME_NR];
extern const char *const epcg__scn_pattern_names[EPCG_PATTERN_NR];

/* Report "FILE:LINE: message" (or "FILE: message" at line 0): -EINVAL. */
int epcg__scn_fail(struct epcg_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Report running out of memory: -ENOMEM. */
int epcg__scn_nomem(struct epcg_parser *p);
/* Grow *@arr (*@cap elements of @size) to hold @nr + 1. */
int epcg__scn_grow(struct epcg_parser *p, void **arr, unsigned *cap,
		   unsigned nr, size_t size);
/* Index of @s in @names[@nr], or -1. */
int epcg__scn_lookup(const char *const *names, unsigned nr, const char *s);

/* Values; each reports its own error. */
int epcg__scn_want_size(struct epcg_parser *p, const char *s, uint64_t *ret);
int epcg__scn_want_limit(struct epcg_parser *p, const char *s,
			 uint64_t *ret);
int epcg__scn_want_time(struct epcg_parser *p, const char *s, uint64_t *ret);
int epcg__scn_want_count(struct epcg_parser *p, const char *s,
			 uint64_t *ret);
int epcg__scn_want_range(struct epcg_parser *p, const char *what,
			 const char *s, unsigned lo, unsigned hi,
			 unsigned *ret);
int epcg__scn_want_onoff(struct epcg_parser *p, const char *s, bool *ret);
int epcg__scn_want_page_multiple(struct epcg_parser *p, const char *what,
				 uint64_t v);
bool epcg__scn_valid_name(const char *s);

/* Lookups and shapes of lines (scenario.c). */
int epcg__scn_find_cgroup(struct epcg_parser *p, const char *path);
int epcg__scn_find_enclaves(struct epcg_parser *p, const char *name,
			    unsigned *first, unsigned *count);
int epcg__scn_need(struct epcg_parser *p, unsigned nr, const char *what);
void epcg__scn_workload_default(struct epcg_workload *wl);

/* Directives of scenario-activity.c. */
int epcg__scn_do_workload(struct epcg_parser *p);
int epcg__scn_do_phase(struct epcg_parser *p);
int epcg__scn_do_expect(struct epcg_parser *p);
int epcg__scn_do_at(struct epcg_parser *p);

#endif
