/* SPDX-License-Identifier: MIT */
/*
 * Host memory for the library, with a failure injector for tests.
 *
 * Every heap allocation the library makes goes through these wrappers, so
 * that a test can make exactly the Nth one fail and check what the
 * failure does: the operation returns a clean -errno, frees what it had
 * taken, and leaves every invariant intact.  Without the meson option
 * fault_injection the wrappers are the C library's functions under
 * another name (static inline, no cost).  With it, each call first counts
 * itself and may fail as armed; memory is still released with free().
 *
 * Host resources other than heap memory that an operation may fail to get
 * (an enclave's backing store) ask epcg_fault_hit() first, so they are
 * counted and failed in the same sequence.
 *
 * The injector is one set of process-wide counters: arm it from one
 * thread while nothing else allocates; any thread may then allocate.
 */
#ifndef EPCG_UTIL_ALLOC_H
#define EPCG_UTIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "epcg-config.h"

/* How many calls an armed injector fails. */
enum epcg_fault_mode {
	EPCG_FAULT_ONCE, /* the Nth call only; later calls succeed */
	EPCG_FAULT_FROM, /* the Nth call and every one after it */
	EPCG_FAULT_MODE_NR
};

#ifdef EPCG_FAULT_INJECTION

void *epcg_malloc(size_t size);
void *epcg_calloc(size_t nr, size_t size);
void *epcg_realloc(void *ptr, size_t size);
void *epcg_aligned_alloc(size_t align, size_t size);
char *epcg_strdup(const char *s);
char *epcg_strndup(const char *s, size_t n);

/**
 * epcg_fault_hit() - count one attempt to get a host resource, and say
 * whether the injector wants it to fail.
 *
 * The allocation wrappers call it first; other host resources call it
 * before they are created and fail with their own errno if it says so.
 *
 * Context: any thread; lock-free.
 * Return: true if this attempt must fail.
 */
bool epcg_fault_hit(void);

/**
 * epcg_fault_set_nth() - arm the injector: the @nth host allocation from
 * now (1: the next one) fails, and with EPCG_FAULT_FROM every later one
 * too.  @nth 0 disarms it.  Either way the count restarts at 0.
 *
 * Context: while no other thread allocates through the library.
 */
void epcg_fault_set_nth(uint64_t nth, enum epcg_fault_mode mode);

/**
 * epcg_fault_count() - host allocations attempted since the last
 * epcg_fault_set_nth() (or since the program started).
 */
uint64_t epcg_fault_count(void);

/**
 * epcg_fault_injected() - allocations the injector failed since the last
 * epcg_fault_set_nth(); 0 means the armed failure was never reached.
 */
uint64_t epcg_fault_injected(void);

#else /* !EPCG_FAULT_INJECTION: the C library, unchanged */

static inline void *epcg_malloc(size_t size)
{
	return malloc(size);
}

static inline void *epcg_calloc(size_t nr, size_t size)
{
	return calloc(nr, size);
}

static inline void *epcg_realloc(void *ptr, size_t size)
{
	return realloc(ptr, size);
}

static inline void *epcg_aligned_alloc(size_t align, size_t size)
{
	return aligned_alloc(align, size);
}

static inline char *epcg_strdup(const char *s)
{
	return strdup(s);
}

static inline char *epcg_strndup(const char *s, size_t n)
{
	return strndup(s, n);
}

static inline bool epcg_fault_hit(void)
{
	return false;
}

static inline void epcg_fault_set_nth(uint64_t nth, enum epcg_fault_mode mode)
{
}

static inline uint64_t epcg_fault_count(void)
{
	return 0;
}

static inline uint64_t epcg_fault_injected(void)
{
	return 0;
}

#endif /* EPCG_FAULT_INJECTION */

#endif
