/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by every library module: array sizes, container_of,
 * branch hints, warn-once for "cannot happen" states that must not crash.
 */
#ifndef EPCG_UTIL_MACROS_H
#define EPCG_UTIL_MACROS_H

#include <stddef.h>
#include <stdio.h>

#define EPCG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define epcg_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define epcg_likely(x) __builtin_expect(!!(x), 1)
#define epcg_unlikely(x) __builtin_expect(!!(x), 0)

#define EPCG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EPCG_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Cache line size used to keep hot, independently written fields apart. */
#define EPCG_CACHELINE 64
#define epcg_cacheline_aligned __attribute__((aligned(EPCG_CACHELINE)))

/*
 * EPCG_WARN_ONCE() - report a broken invariant once per call site and go on.
 *
 * Library code never logs, with this single exception: a state that a bug
 * elsewhere produced (an uncharge below zero, say) is reported once on
 * stderr, the way the kernel's WARN_ONCE does, and the caller keeps going.
 * Evaluates to the condition so it can guard a recovery branch.
 */
#define EPCG_WARN_ONCE(cond, ...)                                          \
	({                                                                 \
		static int epcg__warned;                                   \
		int epcg__c = !!(cond);                                    \
		if (epcg_unlikely(epcg__c) &&                              \
		    !__atomic_exchange_n(&epcg__warned, 1,                 \
					 __ATOMIC_RELAXED)) {              \
			fprintf(stderr, "epcg: warning: " __VA_ARGS__);    \
			fputc('\n', stderr);                               \
		}                                                          \
		epcg__c;                                                   \
	})

#endif
