// SPDX-License-Identifier: MIT
/*
 * The host-allocation failure injector (built with the meson option
 * fault_injection; see alloc.h).
 *
 * Three relaxed atomics: the calls counted since the injector was last
 * armed, the call number that fails first (0: none), and how many calls it
 * failed.  A call takes its number with one fetch-add, so concurrent
 * callers get distinct numbers and exactly the armed ones fail; which
 * thread's call that is depends on the interleaving, which is why tests
 * arm it while only one thread allocates.
 */
#include <errno.h>

#include "alloc.h"
#include "atomic.h"

static epcg_atomic(uint64_t) calls;	/* since the last arm */
static epcg_atomic(uint64_t) fail_at;	/* first call to fail; 0: none */
static epcg_atomic(unsigned) fail_mode;	/* enum epcg_fault_mode */
static epcg_atomic(uint64_t) failed;	/* calls failed since the last arm */

bool epcg_fault_hit(void)
{
	uint64_t n = epcg_atomic_fetch_add_relaxed(&calls, 1) + 1;
	uint64_t at = epcg_atomic_load_relaxed(&fail_at);

	if (!at || n < at)
		return false;
	if (n > at && epcg_atomic_load_relaxed(&fail_mode) == EPCG_FAULT_ONCE)
		return false;
	epcg_atomic_fetch_add_relaxed(&failed, 1);
	return true;
}

void epcg_fault_set_nth(uint64_t nth, enum epcg_fault_mode mode)
{
	epcg_atomic_store_relaxed(&fail_at, 0);
	epcg_atomic_store_relaxed(&calls, 0);
	epcg_atomic_store_relaxed(&failed, 0);
	epcg_atomic_store_relaxed(&fail_mode, (unsigned)mode);
	epcg_atomic_store_relaxed(&fail_at, nth);
}

uint64_t epcg_fault_count(void)
{
	return epcg_atomic_load_relaxed(&calls);
}

uint64_t epcg_fault_injected(void)
{
	return epcg_atomic_load_relaxed(&failed);
}

/* Fail as malloc() does: NULL with errno ENOMEM. */
static bool fail(void)
{
	if (!epcg_fault_hit())
		return false;
	errno = ENOMEM;
	return true;
}

void *epcg_malloc(size_t size)
{
	return fail() ? NULL : malloc(size);
}

void *epcg_calloc(size_t nr, size_t size)
{
	return fail() ? NULL : calloc(nr, size);
}

void *epcg_realloc(void *ptr, size_t size)
{
	/* A failed realloc() leaves @ptr allocated and unchanged. */
	return fail() ? NULL : realloc(ptr, size);
}

void *epcg_aligned_alloc(size_t align, size_t size)
{
	return fail() ? NULL : aligned_alloc(align, size);
}

char *epcg_strdup(const char *s)
{
	return fail() ? NULL : strdup(s);
}

char *epcg_strndup(const char *s, size_t n)
{
	return fail() ? NULL : strndup(s, n);
}
