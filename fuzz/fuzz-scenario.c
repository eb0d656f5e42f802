// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the scenario parser on arbitrary bytes.
 *
 * Whatever the input, the parser must either build a scenario or report
 * one "FILE:LINE: message" error, never crash, leak or read past the
 * buffer.  A parsed scenario is checked for the invariants the simulator
 * relies on (parents before children, events in time order, sections
 * within the limits).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct epcg_scenario *sc)
{
	if (!sc->nr_secs || sc->nr_secs > EPCG_EPC_MAX_SECTIONS)
		abort();
	for (unsigned i = 0; i < sc->nr_cgroups; i++)
		if (sc->cgroups[i].parent >= (int)i)
			abort();
	for (unsigned i = 1; i < sc->nr_events; i++)
		if (sc->events[i - 1].at_ns > sc->events[i].at_ns)
			abort();
	for (unsigned i = 0; i < sc->nr_enclaves; i++)
		if (sc->enclaves[i].size % EPCG_PAGE_SIZE ||
		    sc->enclaves[i].cgroup >= (int)sc->nr_cgroups ||
		    sc->enclaves[i].tcs < sc->enclaves[i].threads)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct epcg_scenario *sc = NULL;
	char err[256];
	int r;

	r = epcg_scenario_parse("fuzz.scn", (const char *)data, size, &sc, err,
				sizeof(err));
	if (r == 0) {
		check(sc);
		epcg_scenario_destroy(sc);
	} else if (r == -EINVAL && strncmp(err, "fuzz.scn:", 9)) {
		abort();	/* every parse error names the file */
	}
	return 0;
}
