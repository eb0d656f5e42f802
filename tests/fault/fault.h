/* SPDX-License-Identifier: MIT */
/*
 * What the allocation failure tests (tests/fault/) share: arming the
 * injector (lib/util/alloc.h) around one operation, the LeakSanitizer
 * scans, and the round loop's bookkeeping.  OpenSSL's allocations are
 * routed through the injector as soon as a test program starts
 * (fault-common.c), so a failing digest or cipher context is one more N.
 *
 * A loop over one operation looks like:
 *
 *	for (unsigned m = 0; m < 2; m++)
 *		for (uint64_t n = 1;; n++) {
 *			set up (unarmed);
 *			fault_arm(n, fault_modes[m]);
 *			err = the operation;
 *			s = fault_disarm();
 *			check and tear down;
 *			fault_leak_check_round(n);
 *			if (fault_round_done(&t, n, s, err, ENOMEM))
 *				break;
 *		}
 */
#ifndef EPCG_TESTS_FAULT_H
#define EPCG_TESTS_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/alloc.h"

#define FAULT_ROUNDS_MAX 10000

/* What one armed stretch of code saw. */
struct fault_shot {
	uint64_t calls; /* allocations attempted */
	uint64_t failed; /* of those, failed by the injector */
};

/* Totals of one test, for the TAP notes docs/robustness.md quotes. */
struct fault_tally {
	unsigned rounds; /* rounds with a failure injected */
	unsigned failed; /* of those, the operation failed */
	uint64_t max_n; /* allocations the operation makes */
};

/* ONCE, then FROM: the two ways every loop runs. */
extern const enum epcg_fault_mode fault_modes[2];

/* Fail the @n-th host allocation from now (and, FROM, every later one). */
void fault_arm(uint64_t n, enum epcg_fault_mode mode);

/* Disarm; return what happened since fault_arm(). */
struct fault_shot fault_disarm(void);

/* A whole-heap LeakSanitizer scan (ASan builds); a leak fails the test. */
void fault_leak_check(void);

/*
 * The scan costs milliseconds and a loop has hundreds of rounds: scan
 * every 32nd round.  Leaks add up, so a later scan still finds what an
 * earlier round lost, with the stack that allocated it.
 */
void fault_leak_check_round(uint64_t n);

/*
 * Account for round @n: one that injected nothing must have succeeded
 * (@err 0) and ends the loop (true); one that injected must have failed
 * with -@want or -@also, or absorbed the failure (@err 0).
 */
bool fault_round_done_or(struct fault_tally *t, uint64_t n, struct fault_shot s,
			 int err, int want, int also);
bool fault_round_done(struct fault_tally *t, uint64_t n, struct fault_shot s,
		      int err, int want);

/* "WHAT: N allocations, R rounds injected, F failed cleanly, A absorbed" */
void fault_tally_note(const char *what, const struct fault_tally *t);

#endif
