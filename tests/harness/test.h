/* SPDX-License-Identifier: MIT */
/*
 * The epcg test harness: typed assertions and a table-driven runner.
 *
 * A test file defines its tests with TEST(name) and ends with a table:
 *
 *	static const struct epcg_test tests[] = {
 *		TEST_ENTRY(charge_walks_to_root),
 *		TEST_ENTRY_TIMEOUT(stress_alloc_free, 120),
 *	};
 *	TEST_MAIN(tests)
 *
 * Each test runs in its own forked process with a timeout (default 60 s,
 * scaled by EPCG_TEST_TIMEOUT_SCALE for slow sanitizer builds), so a crash
 * or a hang fails one test, not the run.  Output is TAP; the last line is
 * "N passed, N failed, N skipped".  Arguments (or EPCG_TESTS=a:b) select
 * tests by name.  An assertion failure prints file, line, the expression
 * and the values, then aborts the test's process.
 */
#ifndef EPCG_TEST_H
#define EPCG_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct epcg_test {
	const char *name;
	void (*fn)(void);
	unsigned timeout_s;
};

#define TEST(name) static void test_##name(void)
#define TEST_ENTRY(name) { #name, test_##name, 0 }
#define TEST_ENTRY_TIMEOUT(name, secs) { #name, test_##name, (secs) }

int epcg_test_main(const struct epcg_test *tests, size_t nr, int argc,
		   char **argv);

#define TEST_MAIN(table)                                                  \
	int main(int argc, char **argv)                                   \
	{                                                                 \
		return epcg_test_main(table, sizeof(table) / sizeof(table[0]), \
				      argc, argv);                        \
	}

/* Leave the current test as skipped, with a reason shown in the TAP line. */
_Noreturn void epcg_test_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void epcg_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A TAP diagnostic line ("# ...") from inside a test. */
void epcg_test_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Seed for randomised tests: EPCG_SEED or a fixed default; printed once. */
uint64_t epcg_test_seed(void);
/* Seconds a stress test may run: EPCG_STRESS_SECONDS or @def. */
double epcg_test_stress_seconds(double def);
/* A small, fast PRNG (splitmix64) for tests. */
uint64_t epcg_test_rand(uint64_t *state);

/* errno name for a negative or positive errno value ("EBUSY"). */
const char *epcg_test_errname(int err);

#define ASSERT_TRUE(expr)                                                     \
	do {                                                                  \
		if (!(expr))                                                  \
			epcg_test_fail(__FILE__, __LINE__, "%s is false", #expr); \
	} while (0)

#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))

#define ASSERT_EQ(a, b)                                                       \
	do {                                                                  \
		long long epcg__a = (long long)(a), epcg__b = (long long)(b); \
		if (epcg__a != epcg__b)                                       \
			epcg_test_fail(__FILE__, __LINE__,                    \
				       "%s == %s: %lld != %lld", #a, #b,       \
				       epcg__a, epcg__b);                     \
	} while (0)

#define ASSERT_NE(a, b)                                                       \
	do {                                                                  \
		long long epcg__a = (long long)(a), epcg__b = (long long)(b); \
		if (epcg__a == epcg__b)                                       \
			epcg_test_fail(__FILE__, __LINE__,                    \
				       "%s != %s: both %lld", #a, #b, epcg__a); \
	} while (0)

#define ASSERT_U64_EQ(a, b)                                                   \
	do {                                                                  \
		uint64_t epcg__a = (uint64_t)(a), epcg__b = (uint64_t)(b);    \
		if (epcg__a != epcg__b)                                       \
			epcg_test_fail(__FILE__, __LINE__,                    \
				       "%s == %s: %" PRIu64 " != %" PRIu64,   \
				       #a, #b, epcg__a, epcg__b);             \
	} while (0)

#define ASSERT_CMP(a, op, b)                                                  \
	do {                                                                  \
		uint64_t epcg__a = (uint64_t)(a), epcg__b = (uint64_t)(b);    \
		if (!(epcg__a op epcg__b))                                    \
			epcg_test_fail(__FILE__, __LINE__,                    \
				       "%s %s %s: %" PRIu64 " vs %" PRIu64,   \
				       #a, #op, #b, epcg__a, epcg__b);        \
	} while (0)

/* @expr returns 0 (or a count >= 0) on success, -errno on failure. */
#define ASSERT_OK(expr)                                                       \
	do {                                                                  \
		long long epcg__r = (long long)(expr);                        \
		if (epcg__r < 0)                                              \
			epcg_test_fail(__FILE__, __LINE__, "%s failed: %s",   \
				       #expr, epcg_test_errname((int)epcg__r)); \
	} while (0)

/* @expr returns exactly -@err (e.g. ASSERT_ERR(f(), EBUSY)). */
#define ASSERT_ERR(expr, err)                                                 \
	do {                                                                  \
		long long epcg__r = (long long)(expr);                        \
		if (epcg__r != -(long long)(err))                             \
			epcg_test_fail(__FILE__, __LINE__,                    \
				       "%s: want -%s, got %lld (%s)", #expr,   \
				       epcg_test_errname(err), epcg__r,       \
				       epcg__r < 0 ?                          \
					       epcg_test_errname((int)epcg__r) : \
					       "success");                    \
	} while (0)

#define ASSERT_STREQ(a, b)                                                    \
	do {                                                                  \
		const char *epcg__a = (a), *epcg__b = (b);                    \
		if (!epcg__a || !epcg__b || strcmp(epcg__a, epcg__b))         \
			epcg_test_fail(__FILE__, __LINE__,                    \
				       "%s == %s: \"%s\" != \"%s\"", #a, #b,   \
				       epcg__a ? epcg__a : "(null)",          \
				       epcg__b ? epcg__b : "(null)");         \
	} while (0)

#define ASSERT_MEMEQ(a, b, n)                                                 \
	do {                                                                  \
		if (memcmp((a), (b), (n)))                                    \
			epcg_test_fail(__FILE__, __LINE__,                    \
				       "%s and %s differ in %zu bytes", #a, #b, \
				       (size_t)(n));                          \
	} while (0)

#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)

#endif
