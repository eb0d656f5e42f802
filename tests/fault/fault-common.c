// SPDX-License-Identifier: MIT
/*
 * The allocation failure tests' shared loop helpers (fault.h), and the
 * routing of OpenSSL's allocations through the injector.
 */
#include <stdlib.h>

#include <inttypes.h>
#include <openssl/crypto.h>

#include "fault.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static void *ossl_malloc(size_t n, const char *file, int line)
{
	return epcg_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	return epcg_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
	free(p);
}

/* Before OpenSSL allocates anything (it refuses afterwards). */
__attribute__((constructor)) static void route_openssl(void)
{
	CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
}

const enum epcg_fault_mode fault_modes[2] = { EPCG_FAULT_ONCE,
					      EPCG_FAULT_FROM };

void fault_arm(uint64_t n, enum epcg_fault_mode mode)
{
	epcg_fault_set_nth(n, mode);
}

struct fault_shot fault_disarm(void)
{
	struct fault_shot s = { epcg_fault_count(), epcg_fault_injected() };

	epcg_fault_set_nth(0, EPCG_FAULT_ONCE);
	return s;
}

void fault_leak_check(void)
{
#ifdef HAVE_LSAN
	if (__lsan_do_recoverable_leak_check())
		epcg_test_fail(__FILE__, __LINE__, "memory leaked (see above)");
#endif
}

void fault_leak_check_round(uint64_t n)
{
	if (n % 32 == 0)
		fault_leak_check();
}

bool fault_round_done_or(struct fault_tally *t, uint64_t n, struct fault_shot s,
			 int err, int want, int also)
{
	if (!s.failed) {
		if (err)
			epcg_test_fail(__FILE__, __LINE__,
				       "round %" PRIu64 ": %s with no failure "
				       "injected",
				       n, epcg_test_errname(err));
		if (n - 1 > t->max_n)
			t->max_n = n - 1;
		return true;
	}
	if (err && err != -want && err != -also)
		epcg_test_fail(__FILE__, __LINE__,
			       "round %" PRIu64 ": want -%s or success, got %s",
			       n, epcg_test_errname(want),
			       epcg_test_errname(err));
	if (n >= FAULT_ROUNDS_MAX)
		epcg_test_fail(__FILE__, __LINE__, "no end after %u rounds",
			       FAULT_ROUNDS_MAX);
	t->rounds++;
	t->failed += err != 0;
	return false;
}

bool fault_round_done(struct fault_tally *t, uint64_t n, struct fault_shot s,
		      int err, int want)
{
	return fault_round_done_or(t, n, s, err, want, want);
}

void fault_tally_note(const char *what, const struct fault_tally *t)
{
	epcg_test_note("%s: %" PRIu64 " allocations, %u rounds injected, "
		       "%u failed cleanly, %u absorbed",
		       what, t->max_n, t->rounds, t->failed,
		       t->rounds - t->failed);
}
