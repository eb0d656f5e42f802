// SPDX-License-Identifier: MIT
/*
 * Results of a run (see results.h): names and freeing.  The simulator
 * fills them in (sim.c); the outputs read them (table.c, json.c, ...).
 */
#include "results.h"

#include <stdlib.h>

const char *epcg_results_end_name(enum epcg_results_end end)
{
	static const char *const names[EPCG_RESULTS_END_NR] = {
		[EPCG_RESULTS_END_DONE] = "done",
		[EPCG_RESULTS_END_DURATION] = "duration",
	};

	return (unsigned)end < EPCG_RESULTS_END_NR ? names[end] : NULL;
}

void epcg_results_destroy(struct epcg_results *r)
{
	if (!r)
		return;
	for (unsigned i = 0; r->cgroups && i < r->nr_cgroups; i++)
		free(r->cgroups[i].path);
	for (unsigned i = 0; r->enclaves && i < r->nr_enclaves; i++) {
		free(r->enclaves[i].name);
		free(r->enclaves[i].group);
	}
	for (unsigned i = 0; r->expects && i < r->nr_expects; i++) {
		free(r->expects[i].text);
		free(r->expects[i].detail);
	}
	for (unsigned i = 0; r->events && i < r->nr_events; i++)
		free(r->events[i].text);
	free(r->cgroups);
	free(r->enclaves);
	free(r->expects);
	free(r->events);
	free(r->series.t_ns);
	free(r->series.s);
	free(r->scenario);
	free(r);
}
