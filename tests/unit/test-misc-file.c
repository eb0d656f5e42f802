// SPDX-License-Identifier: MIT
/*
 * Unit tests of the misc interface files (lib/misc/misc-file.c): which
 * files exist where (M3), their exact content (M4), and misc.max writes
 * (M5): every malformed request gets its errno and changes nothing.
 */
#include <stdbool.h>

#include <epcg/misc.h>

#include "misc/misc-internal.h"
#include "test.h"

#define EPC EPCG_MISC_RES_SGX_EPC
#define SEV EPCG_MISC_RES_SEV
#define SEV_ES EPCG_MISC_RES_SEV_ES
#define PAGE 4096ull

/* A controller with sgx_epc present and one child "a" of the root. */
struct fixture {
	struct epcg_misc *m;
	struct epcg_misc_cg *root, *a;
};

static void setup(struct fixture *f, uint64_t epc_capacity)
{
	ASSERT_OK(epcg_misc_create(&f->m));
	ASSERT_OK(epcg_misc_set_capacity(f->m, EPC, epc_capacity));
	f->root = epcg_misc_root(f->m);
	ASSERT_OK(epcg_misc_cg_create(f->root, "a", &f->a));
}

static void teardown(struct fixture *f)
{
	ASSERT_OK(epcg_misc_cg_remove(f->a));
	epcg_misc_destroy(f->m);
}

/* The content of @file of @cg, in a static buffer. */
static const char *show(struct epcg_misc_cg *cg, enum epcg_misc_file file)
{
	static char buf[EPCG_MISC_SHOW_BUFSZ];
	int n = epcg_misc_file_show(cg, file, buf, sizeof(buf));

	ASSERT_OK(n);
	ASSERT_EQ(n, strlen(buf));
	return buf;
}

/* Write a C string to @cg's misc.max. */
static int write_max(struct epcg_misc_cg *cg, const char *s)
{
	return epcg_misc_file_write(cg, EPCG_MISC_FILE_MAX, s, strlen(s));
}

/* ---- M3: which files, where ------------------------------------------ */

TEST(m3_file_names_and_lookup)
{
	static const char *const names[EPCG_MISC_FILE_NR] = {
		"misc.capacity", "misc.current", "misc.peak",
		"misc.max",	 "misc.events",	 "misc.events.local",
	};

	for (int i = 0; i < EPCG_MISC_FILE_NR; i++) {
		ASSERT_STREQ(epcg_misc_file_name(i), names[i]);
		ASSERT_EQ(epcg_misc_file_lookup(names[i]), i);
	}
	ASSERT_NULL(epcg_misc_file_name(EPCG_MISC_FILE_NR));
	ASSERT_NULL(epcg_misc_file_name((enum epcg_misc_file)(-1)));
	ASSERT_ERR(epcg_misc_file_lookup("misc.min"), ENOENT);
	ASSERT_ERR(epcg_misc_file_lookup("misc.max "), ENOENT);
	ASSERT_ERR(epcg_misc_file_lookup("MISC.MAX"), ENOENT);
	ASSERT_ERR(epcg_misc_file_lookup("misc.events.loca"), ENOENT);
	ASSERT_ERR(epcg_misc_file_lookup(""), ENOENT);
	ASSERT_ERR(epcg_misc_file_lookup(NULL), ENOENT);
}

TEST(m3_only_misc_max_is_writable)
{
	for (int i = 0; i < EPCG_MISC_FILE_NR; i++)
		ASSERT_EQ(epcg_misc_file_mode(i),
			  i == EPCG_MISC_FILE_MAX ? 0644 : 0444);
	ASSERT_EQ(epcg_misc_file_mode(EPCG_MISC_FILE_NR), 0);
}

TEST(m3_root_has_capacity_current_peak_only)
{
	struct fixture f;

	setup(&f, 0);
	ASSERT_TRUE(epcg_misc_file_exists(f.root, EPCG_MISC_FILE_CAPACITY));
	ASSERT_TRUE(epcg_misc_file_exists(f.root, EPCG_MISC_FILE_CURRENT));
	ASSERT_TRUE(epcg_misc_file_exists(f.root, EPCG_MISC_FILE_PEAK));
	ASSERT_FALSE(epcg_misc_file_exists(f.root, EPCG_MISC_FILE_MAX));
	ASSERT_FALSE(epcg_misc_file_exists(f.root, EPCG_MISC_FILE_EVENTS));
	ASSERT_FALSE(
		epcg_misc_file_exists(f.root, EPCG_MISC_FILE_EVENTS_LOCAL));
	ASSERT_FALSE(epcg_misc_file_exists(f.root, EPCG_MISC_FILE_NR));
	ASSERT_FALSE(epcg_misc_file_exists(NULL, EPCG_MISC_FILE_CURRENT));
	teardown(&f);
}

TEST(m3_non_root_has_current_peak_max_events)
{
	struct fixture f;

	setup(&f, 0);
	ASSERT_FALSE(epcg_misc_file_exists(f.a, EPCG_MISC_FILE_CAPACITY));
	ASSERT_TRUE(epcg_misc_file_exists(f.a, EPCG_MISC_FILE_CURRENT));
	ASSERT_TRUE(epcg_misc_file_exists(f.a, EPCG_MISC_FILE_PEAK));
	ASSERT_TRUE(epcg_misc_file_exists(f.a, EPCG_MISC_FILE_MAX));
	ASSERT_TRUE(epcg_misc_file_exists(f.a, EPCG_MISC_FILE_EVENTS));
	ASSERT_TRUE(epcg_misc_file_exists(f.a, EPCG_MISC_FILE_EVENTS_LOCAL));
	ASSERT_FALSE(epcg_misc_file_exists(f.a, EPCG_MISC_FILE_NR));
	teardown(&f);
}

/* ---- M4: read format -------------------------------------------------- */

TEST(m4_capacity_lists_present_resources_in_order)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_CAPACITY), "sgx_epc 32768\n");
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, 509));
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_CAPACITY),
		     "sev 509\nsgx_epc 32768\n");
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV_ES, UINT64_MAX));
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_CAPACITY),
		     "sev 509\nsev_es 18446744073709551615\nsgx_epc 32768\n");
	teardown(&f);
}

TEST(m4_current_lists_present_or_nonzero)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_CURRENT), "sgx_epc 0\n");
	ASSERT_OK(epcg_misc_try_charge(EPC, f.a, PAGE, NULL));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_CURRENT), "sgx_epc 4096\n");
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_CURRENT), "sgx_epc 4096\n");

	/* Capacity gone: still listed while non-zero. */
	ASSERT_OK(epcg_misc_set_capacity(f.m, EPC, 0));
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_CAPACITY), "");
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_CURRENT), "sgx_epc 4096\n");
	epcg_misc_uncharge(EPC, f.a, PAGE);
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_CURRENT), "");
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_CURRENT), "");
	teardown(&f);
}

TEST(m4_peak_lists_present_or_nonzero)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, 4));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_PEAK), "sev 0\nsgx_epc 0\n");
	ASSERT_OK(epcg_misc_try_charge(SEV, f.a, 3, NULL));
	epcg_misc_uncharge(SEV, f.a, 3);
	ASSERT_OK(epcg_misc_try_charge(EPC, f.a, 2 * PAGE, NULL));
	epcg_misc_uncharge(EPC, f.a, 2 * PAGE);
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_PEAK), "sev 3\nsgx_epc 8192\n");
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, 0));
	ASSERT_OK(epcg_misc_set_capacity(f.m, EPC, 0));
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_PEAK),
		     "sev 3\nsgx_epc 8192\n");
	teardown(&f);
}

TEST(m4_max_prints_max_and_lists_present_only)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sgx_epc max\n");
	ASSERT_OK(epcg_misc_set_max(f.a, EPC, 2 * PAGE));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sgx_epc 8192\n");
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, 4));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sev max\nsgx_epc 8192\n");
	ASSERT_OK(epcg_misc_set_max(f.a, SEV, 0));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sev 0\nsgx_epc 8192\n");
	/* A set limit of an absent resource is not shown. */
	ASSERT_OK(epcg_misc_set_capacity(f.m, EPC, 0));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sev 0\n");
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, 0));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "");
	teardown(&f);
}

TEST(m4_events_keys_end_in_dot_max)
{
	struct fixture f;
	struct epcg_misc_cg *b;

	setup(&f, 8 * PAGE);
	ASSERT_OK(epcg_misc_cg_create(f.a, "b", &b));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_EVENTS), "sgx_epc.max 0\n");
	ASSERT_OK(epcg_misc_set_max(b, EPC, 0));
	ASSERT_ERR(epcg_misc_try_charge(EPC, b, PAGE, NULL), EBUSY);
	ASSERT_ERR(epcg_misc_try_charge(EPC, b, PAGE, NULL), EBUSY);
	ASSERT_STREQ(show(b, EPCG_MISC_FILE_EVENTS), "sgx_epc.max 2\n");
	ASSERT_STREQ(show(b, EPCG_MISC_FILE_EVENTS_LOCAL), "sgx_epc.max 2\n");
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_EVENTS), "sgx_epc.max 2\n");
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_EVENTS_LOCAL), "sgx_epc.max 0\n");
	/* Non-zero counts stay listed after the capacity is gone. */
	ASSERT_OK(epcg_misc_set_capacity(f.m, EPC, 0));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_EVENTS), "sgx_epc.max 2\n");
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_EVENTS_LOCAL), "");
	ASSERT_OK(epcg_misc_cg_remove(b));
	teardown(&f);
}

TEST(m4_empty_when_nothing_qualifies)
{
	struct fixture f;
	char buf[8] = "junk";

	setup(&f, 0);
	for (int i = 0; i < EPCG_MISC_FILE_NR; i++) {
		struct epcg_misc_cg *cg =
			i == EPCG_MISC_FILE_CAPACITY ? f.root : f.a;

		ASSERT_EQ(epcg_misc_file_show(cg, i, buf, sizeof(buf)), 0);
		ASSERT_STREQ(buf, "");
	}
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_CURRENT), "");
	ASSERT_STREQ(show(f.root, EPCG_MISC_FILE_PEAK), "");
	teardown(&f);
}

TEST(m4_show_is_enospc_when_buffer_too_small)
{
	struct fixture f;
	const char *want = "sgx_epc 32768\n";
	size_t len = strlen(want);
	char buf[32];

	setup(&f, 8 * PAGE);
	memset(buf, '#', sizeof(buf));
	ASSERT_ERR(epcg_misc_file_show(f.root, EPCG_MISC_FILE_CAPACITY, buf,
				       len),
		   ENOSPC);
	ASSERT_EQ(buf[0], '\0');
	ASSERT_ERR(epcg_misc_file_show(f.root, EPCG_MISC_FILE_CAPACITY, NULL,
				       0),
		   ENOSPC);
	ASSERT_EQ(epcg_misc_file_show(f.root, EPCG_MISC_FILE_CAPACITY, buf,
				      len + 1),
		  len);
	ASSERT_STREQ(buf, want);
	/* Empty content needs only the NUL. */
	ASSERT_OK(epcg_misc_set_capacity(f.m, EPC, 0));
	ASSERT_EQ(epcg_misc_file_show(f.root, EPCG_MISC_FILE_CAPACITY, buf, 1),
		  0);
	ASSERT_STREQ(buf, "");
	teardown(&f);
}

TEST(m4_show_of_missing_file_is_enoent)
{
	struct fixture f;
	char buf[EPCG_MISC_SHOW_BUFSZ];

	setup(&f, 8 * PAGE);
	ASSERT_ERR(epcg_misc_file_show(f.root, EPCG_MISC_FILE_MAX, buf,
				       sizeof(buf)),
		   ENOENT);
	ASSERT_ERR(epcg_misc_file_show(f.root, EPCG_MISC_FILE_EVENTS, buf,
				       sizeof(buf)),
		   ENOENT);
	ASSERT_ERR(epcg_misc_file_show(f.root, EPCG_MISC_FILE_EVENTS_LOCAL, buf,
				       sizeof(buf)),
		   ENOENT);
	ASSERT_ERR(epcg_misc_file_show(f.a, EPCG_MISC_FILE_CAPACITY, buf,
				       sizeof(buf)),
		   ENOENT);
	ASSERT_ERR(epcg_misc_file_show(f.a, EPCG_MISC_FILE_NR, buf,
				       sizeof(buf)),
		   ENOENT);
	ASSERT_ERR(epcg_misc_file_show(NULL, EPCG_MISC_FILE_CURRENT, buf,
				       sizeof(buf)),
		   ENOENT);
	teardown(&f);
}

TEST(m4_every_file_fits_the_documented_buffer)
{
	struct fixture f;
	char buf[EPCG_MISC_SHOW_BUFSZ];

	setup(&f, UINT64_MAX);
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, UINT64_MAX));
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV_ES, UINT64_MAX));
	for (int r = 0; r < EPCG_MISC_RES_NR; r++) {
		ASSERT_OK(epcg_misc_try_charge(r, f.a, UINT64_MAX, NULL));
		ASSERT_OK(epcg_misc_set_max(f.a, r, UINT64_MAX - 1));
	}
	for (int i = 0; i < EPCG_MISC_FILE_NR; i++) {
		struct epcg_misc_cg *cg =
			i == EPCG_MISC_FILE_CAPACITY ? f.root : f.a;

		ASSERT_CMP(epcg_misc_file_show(cg, i, buf, sizeof(buf)), >, 0);
	}
	ASSERT_STREQ(buf, "sev.max 0\nsev_es.max 0\nsgx_epc.max 0\n");
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX),
		     "sev 18446744073709551614\nsev_es 18446744073709551614\n"
		     "sgx_epc 18446744073709551614\n");
	for (int r = 0; r < EPCG_MISC_RES_NR; r++)
		epcg_misc_uncharge(r, f.a, UINT64_MAX);
	teardown(&f);
}

/* ---- M5: misc.max writes ------------------------------------------------ */

#define LIMIT0 12345ull /* the limit every table row starts from */

struct row {
	const char *in;
	size_t len;
	int err; /* positive errno, or 0 */
	enum epcg_misc_res res;
	uint64_t max;
};

/* Lengths come from sizeof, so a row may hold a NUL byte. */
/* clang-format off */
#define ROW_ERR(s, e) { s, sizeof(s) - 1, e, EPCG_MISC_RES_NR, 0 }
#define ROW_OK(s, v) { s, sizeof(s) - 1, 0, EPC, v }
/* clang-format on */

static const struct row rows[] = {
	/* Splitting at the first single space. */
	ROW_ERR("sgx_epc", EINVAL),
	ROW_ERR("sgx_epc\t5", EINVAL),
	ROW_ERR("sgx_epc\v5", EINVAL),
	ROW_ERR("sgx_epc  5", EINVAL),
	ROW_ERR("sgx_epc 5 6", EINVAL),
	ROW_ERR("sgx_epc 5\t6", EINVAL),
	ROW_ERR("sgx_epc ", EINVAL),
	ROW_ERR(" 5", EINVAL),
	ROW_ERR("", EINVAL),
	ROW_ERR(" \t\n\v\f\r ", EINVAL),
	/* The name, exactly. */
	ROW_ERR("SGX_EPC 5", EINVAL),
	ROW_ERR("sgx_ep 5", EINVAL),
	ROW_ERR("sgx_epcc 5", EINVAL),
	ROW_ERR("tdx 5", EINVAL),
	ROW_ERR("sgx_epc.max 5", EINVAL),
	/* The value: "max" or a C-style u64. */
	ROW_ERR("sgx_epc -1", EINVAL),
	ROW_ERR("sgx_epc -0", EINVAL),
	ROW_ERR("sgx_epc +", EINVAL),
	ROW_ERR("sgx_epc ++1", EINVAL),
	ROW_ERR("sgx_epc +-1", EINVAL),
	ROW_ERR("sgx_epc 08", EINVAL),
	ROW_ERR("sgx_epc 09", EINVAL),
	ROW_ERR("sgx_epc 0x", EINVAL),
	ROW_ERR("sgx_epc 0X", EINVAL),
	ROW_ERR("sgx_epc 0xg", EINVAL),
	ROW_ERR("sgx_epc 0x1g", EINVAL),
	ROW_ERR("sgx_epc 0b1", EINVAL),
	ROW_ERR("sgx_epc x10", EINVAL),
	ROW_ERR("sgx_epc 1x", EINVAL),
	ROW_ERR("sgx_epc 1.5", EINVAL),
	ROW_ERR("sgx_epc 1e3", EINVAL),
	ROW_ERR("sgx_epc 4k", EINVAL),
	ROW_ERR("sgx_epc Max", EINVAL),
	ROW_ERR("sgx_epc MAX", EINVAL),
	ROW_ERR("sgx_epc ma", EINVAL),
	ROW_ERR("sgx_epc maxx", EINVAL),
	ROW_ERR("sgx_epc max\n1", EINVAL),
	ROW_ERR("sgx_epc 5\x01", EINVAL),
	ROW_ERR("sgx_epc 1\nsgx_epc 2", EINVAL),
	ROW_ERR("sgx_epc 1\n\n2", EINVAL),
	/* Overflow, reported before trailing junk and before capacity. */
	ROW_ERR("sgx_epc 18446744073709551616", ERANGE),
	ROW_ERR("sgx_epc 99999999999999999999", ERANGE),
	ROW_ERR("sgx_epc 99999999999999999999x", ERANGE),
	ROW_ERR("sgx_epc 0x10000000000000000", ERANGE),
	ROW_ERR("sgx_epc 02000000000000000000000", ERANGE),
	ROW_ERR("sev 18446744073709551616", ERANGE),
	/* A resource that is not present, after its value parsed. */
	ROW_ERR("sev 5", EINVAL),
	ROW_ERR("sev max", EINVAL),
	ROW_ERR("sev_es 0", EINVAL),
	ROW_ERR("sev x", EINVAL),
	/* Accepted spellings. */
	ROW_OK("sgx_epc 4096", 4096),
	ROW_OK("sgx_epc 4096\n", 4096),
	ROW_OK("  sgx_epc 0x10\n", 16),
	ROW_OK("\t\n\v\f\r sgx_epc 7 \r\f\v\n\t", 7),
	ROW_OK("sgx_epc +010", 8),
	ROW_OK("sgx_epc +0x10", 16),
	ROW_OK("sgx_epc 012", 10),
	ROW_OK("sgx_epc 0", 0),
	ROW_OK("sgx_epc 00", 0),
	ROW_OK("sgx_epc +0", 0),
	ROW_OK("sgx_epc 0X1f", 31),
	ROW_OK("sgx_epc 0xABCdef", 0xabcdef),
	ROW_OK("sgx_epc 1000000000000", 1000000000000ull),
	ROW_OK("sgx_epc max", EPCG_MISC_MAX),
	ROW_OK("sgx_epc max\n", EPCG_MISC_MAX),
	ROW_OK("sgx_epc 18446744073709551615", EPCG_MISC_MAX),
	ROW_OK("sgx_epc 18446744073709551614", EPCG_MISC_MAX - 1),
	ROW_OK("sgx_epc 0xffffffffffffffff", EPCG_MISC_MAX),
	ROW_OK("sgx_epc 01777777777777777777777", EPCG_MISC_MAX),
	ROW_OK("sgx_epc 000000000000000000000000000042", 042),
	/* The kernel sees a C string: a NUL ends the request. */
	ROW_OK("sgx_epc 5\0junk", 5),
	ROW_ERR("\0sgx_epc 5", EINVAL),
};

TEST(m5_max_write_table_errors_and_values)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	for (size_t i = 0; i < EPCG_ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		size_t len = r->len;
		enum epcg_misc_res res = EPCG_MISC_RES_NR;
		uint64_t max = 0;
		int err;

		ASSERT_OK(epcg_misc_set_max(f.a, EPC, LIMIT0));
		err = epcg_misc_max_parse(f.m, r->in, len, &res, &max);
		if (err != -r->err)
			epcg_test_fail(__FILE__, __LINE__,
				       "row %zu \"%s\": parse gave %d, want %d",
				       i, r->in, err, -r->err);
		err = epcg_misc_file_write(f.a, EPCG_MISC_FILE_MAX, r->in, len);
		/* An empty write(2) never reaches the parser. */
		if (!len)
			ASSERT_EQ(err, 0);
		else if (err != -r->err)
			epcg_test_fail(__FILE__, __LINE__,
				       "row %zu \"%s\": write gave %d, want %d",
				       i, r->in, err, -r->err);
		if (r->err) {
			/* A failed write changes nothing. */
			ASSERT_U64_EQ(epcg_misc_max(f.a, EPC), LIMIT0);
			ASSERT_U64_EQ(epcg_misc_max(f.a, SEV), EPCG_MISC_MAX);
			continue;
		}
		ASSERT_EQ(res, r->res);
		ASSERT_U64_EQ(max, r->max);
		ASSERT_U64_EQ(epcg_misc_max(f.a, r->res), r->max);
	}
	teardown(&f);
}

TEST(m5_erange_is_reported_before_the_capacity_check)
{
	struct fixture f;
	enum epcg_misc_res res;
	uint64_t max;

	setup(&f, 8 * PAGE);
	ASSERT_U64_EQ(epcg_misc_capacity(f.m, SEV), 0);
	ASSERT_ERR(epcg_misc_max_parse(f.m, "sev 18446744073709551616", 24,
				       &res, &max),
		   ERANGE);
	ASSERT_ERR(write_max(f.a, "sev 18446744073709551616"), ERANGE);
	ASSERT_ERR(write_max(f.a, "sev 08"), EINVAL);
	ASSERT_ERR(write_max(f.a, "sev 1"), EINVAL);
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, 1));
	ASSERT_OK(write_max(f.a, "sev 1"));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sev 1\nsgx_epc max\n");
	teardown(&f);
}

TEST(m5_overlong_write_is_e2big_before_anything_else)
{
	struct fixture f;
	char buf[EPCG_MISC_WRITE_MAX + 1];

	setup(&f, 8 * PAGE);
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "sgx_epc 5", 9);
	ASSERT_ERR(epcg_misc_file_write(f.a, EPCG_MISC_FILE_MAX, buf,
					sizeof(buf)),
		   E2BIG);
	memcpy(buf, "sev 99999999999999999999", 24);
	ASSERT_ERR(epcg_misc_file_write(f.a, EPCG_MISC_FILE_MAX, buf,
					sizeof(buf)),
		   E2BIG);
	ASSERT_U64_EQ(epcg_misc_max(f.a, EPC), EPCG_MISC_MAX);
	/* Exactly 4096 bytes is one page: accepted. */
	memcpy(buf, "sgx_epc 5               ", 24);
	ASSERT_OK(epcg_misc_file_write(f.a, EPCG_MISC_FILE_MAX, buf,
				       EPCG_MISC_WRITE_MAX));
	ASSERT_U64_EQ(epcg_misc_max(f.a, EPC), 5);
	teardown(&f);
}

TEST(m5_parse_never_reads_past_len)
{
	static const char text[] = "sgx_epc 123456789";
	struct fixture f;
	enum epcg_misc_res res;
	uint64_t max;

	setup(&f, 8 * PAGE);
	/* Each prefix sits at the very end of an exact-size allocation. */
	for (size_t len = 0; len <= strlen(text); len++) {
		char *buf = malloc(len ? len : 1);
		int err;

		ASSERT_NOT_NULL(buf);
		memcpy(buf, text, len);
		err = epcg_misc_max_parse(f.m, buf, len, &res, &max);
		if (len <= 8) {
			ASSERT_ERR(err, EINVAL);
		} else {
			uint64_t want = 0;

			for (size_t k = 8; k < len; k++)
				want = want * 10 + (uint64_t)(text[k] - '0');
			ASSERT_OK(err);
			ASSERT_U64_EQ(max, want);
		}
		free(buf);
	}
	teardown(&f);
}

TEST(m5_parse_null_arguments_are_einval)
{
	struct fixture f;
	enum epcg_misc_res res;
	uint64_t max;

	setup(&f, 8 * PAGE);
	ASSERT_ERR(epcg_misc_max_parse(NULL, "sgx_epc 1", 9, &res, &max),
		   EINVAL);
	ASSERT_ERR(epcg_misc_max_parse(f.m, NULL, 9, &res, &max), EINVAL);
	ASSERT_ERR(epcg_misc_max_parse(f.m, NULL, 0, &res, &max), EINVAL);
	ASSERT_ERR(epcg_misc_max_parse(f.m, "sgx_epc 1", 9, NULL, &max),
		   EINVAL);
	ASSERT_ERR(epcg_misc_max_parse(f.m, "sgx_epc 1", 9, &res, NULL),
		   EINVAL);
	teardown(&f);
}

TEST(m5_limit_above_capacity_or_below_usage_is_accepted)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	ASSERT_OK(epcg_misc_try_charge(EPC, f.a, 4 * PAGE, NULL));
	ASSERT_OK(write_max(f.a, "sgx_epc 4095"));
	ASSERT_U64_EQ(epcg_misc_usage(f.a, EPC), 4 * PAGE);
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sgx_epc 4095\n");
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_CURRENT), "sgx_epc 16384\n");
	ASSERT_OK(write_max(f.a, "sgx_epc 1099511627776"));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sgx_epc 1099511627776\n");
	epcg_misc_uncharge(EPC, f.a, 4 * PAGE);
	teardown(&f);
}

TEST(m5_u64_max_reads_back_as_max)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	ASSERT_OK(write_max(f.a, "sgx_epc 5"));
	ASSERT_OK(write_max(f.a, "sgx_epc 18446744073709551615"));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sgx_epc max\n");
	ASSERT_OK(write_max(f.a, "sgx_epc 0"));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sgx_epc 0\n");
	ASSERT_OK(write_max(f.a, "sgx_epc max\n"));
	ASSERT_STREQ(show(f.a, EPCG_MISC_FILE_MAX), "sgx_epc max\n");
	teardown(&f);
}

TEST(m5_write_to_other_files_is_einval_to_missing_ones_enoent)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	for (int i = 0; i < EPCG_MISC_FILE_NR; i++) {
		if (i == EPCG_MISC_FILE_MAX || i == EPCG_MISC_FILE_CAPACITY)
			continue;
		ASSERT_ERR(epcg_misc_file_write(f.a, i, "sgx_epc 5", 9),
			   EINVAL);
	}
	ASSERT_ERR(epcg_misc_file_write(f.a, EPCG_MISC_FILE_CAPACITY,
					"sgx_epc 5", 9),
		   ENOENT);
	ASSERT_ERR(epcg_misc_file_write(f.root, EPCG_MISC_FILE_MAX, "sgx_epc 5",
					9),
		   ENOENT);
	ASSERT_ERR(epcg_misc_file_write(f.root, EPCG_MISC_FILE_CAPACITY,
					"sgx_epc 5", 9),
		   EINVAL);
	ASSERT_ERR(epcg_misc_file_write(f.root, EPCG_MISC_FILE_CURRENT,
					"sgx_epc 5", 9),
		   EINVAL);
	ASSERT_ERR(epcg_misc_file_write(f.a, EPCG_MISC_FILE_NR, "sgx_epc 5", 9),
		   ENOENT);
	ASSERT_ERR(epcg_misc_file_write(NULL, EPCG_MISC_FILE_MAX, "sgx_epc 5",
					9),
		   ENOENT);
	ASSERT_U64_EQ(epcg_misc_max(f.a, EPC), EPCG_MISC_MAX);
	teardown(&f);
}

TEST(m5_empty_write_succeeds_and_changes_nothing)
{
	struct fixture f;

	setup(&f, 8 * PAGE);
	ASSERT_OK(write_max(f.a, "sgx_epc 7"));
	ASSERT_EQ(epcg_misc_file_write(f.a, EPCG_MISC_FILE_MAX, "", 0), 0);
	ASSERT_EQ(epcg_misc_file_write(f.a, EPCG_MISC_FILE_MAX, NULL, 0), 0);
	ASSERT_U64_EQ(epcg_misc_max(f.a, EPC), 7);
	/* Whitespace only is a request, and a malformed one. */
	ASSERT_ERR(write_max(f.a, "\n"), EINVAL);
	ASSERT_U64_EQ(epcg_misc_max(f.a, EPC), 7);
	teardown(&f);
}

/* Every C spelling of random values parses back to the value. */
TEST(m5_parse_accepts_every_c_base_spelling)
{
	static const char *const pads[] = { "", " ", "\n", "\t \r", "\v\f" };
	uint64_t rng = epcg_test_seed();
	struct fixture f;

	setup(&f, 8 * PAGE);
	for (int i = 0; i < 4000; i++) {
		uint64_t v = epcg_test_rand(&rng) >>
			     (epcg_test_rand(&rng) % 64);
		const char *pre = pads[epcg_test_rand(&rng) % 5];
		const char *post = pads[epcg_test_rand(&rng) % 5];
		const char *plus = epcg_test_rand(&rng) % 2 ? "+" : "";
		enum epcg_misc_res res;
		char buf[96];
		uint64_t max;
		int len;

		switch (epcg_test_rand(&rng) % 4) {
		case 0:
			len = snprintf(buf, sizeof(buf),
				       "%ssgx_epc %s%" PRIu64 "%s", pre, plus,
				       v, post);
			break;
		case 1:
			len = snprintf(buf, sizeof(buf),
				       "%ssgx_epc %s0x%" PRIx64 "%s", pre, plus,
				       v, post);
			break;
		case 2:
			len = snprintf(buf, sizeof(buf),
				       "%ssgx_epc %s0X%" PRIX64 "%s", pre, plus,
				       v, post);
			break;
		default:
			len = snprintf(buf, sizeof(buf),
				       "%ssgx_epc %s0%" PRIo64 "%s", pre, plus,
				       v, post);
			break;
		}
		ASSERT_OK(
			epcg_misc_max_parse(f.m, buf, (size_t)len, &res, &max));
		ASSERT_EQ(res, EPC);
		if (max != v)
			epcg_test_fail(__FILE__, __LINE__,
				       "\"%s\" parsed as %" PRIu64, buf, max);
	}
	teardown(&f);
}

/*
 * Random requests from a hostile alphabet: the parser never crashes,
 * answers only 0, EINVAL or ERANGE, and whatever it accepts has exactly
 * the value strtoull() gives the same (well-formed) text.
 */
TEST(m5_parse_random_requests_agree_with_strtoull)
{
	static const char alphabet[] =
		"sgx_epc sev max 0123456789abcdefxX+-\n\t ";
	uint64_t rng = epcg_test_seed();
	struct fixture f;
	int accepted = 0;

	setup(&f, 8 * PAGE);
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, 1));
	for (int i = 0; i < 20000; i++) {
		char buf[32], copy[33], *value, *end;
		size_t len = epcg_test_rand(&rng) % sizeof(buf);
		enum epcg_misc_res res;
		uint64_t max;
		int err;

		/* Half the time start from a plausible prefix. */
		if (epcg_test_rand(&rng) % 2 && len > 8) {
			memcpy(buf, "sgx_epc ", 8);
			for (size_t k = 8; k < len; k++)
				buf[k] = "0123456789xX+"[epcg_test_rand(&rng) %
							 13];
		} else {
			for (size_t k = 0; k < len; k++)
				buf[k] = alphabet[epcg_test_rand(&rng) %
						  (sizeof(alphabet) - 1)];
		}
		err = epcg_misc_max_parse(f.m, buf, len, &res, &max);
		ASSERT_TRUE(err == 0 || err == -EINVAL || err == -ERANGE);
		if (err)
			continue;
		accepted++;
		memcpy(copy, buf, len);
		copy[len] = '\0';
		value = strchr(copy + strspn(copy, " \t\n"), ' ') + 1;
		value[strcspn(value, " \t\n")] = '\0';
		if (!strcmp(value, "max")) {
			ASSERT_U64_EQ(max, EPCG_MISC_MAX);
			continue;
		}
		ASSERT_U64_EQ(strtoull(value, &end, 0), max);
		ASSERT_EQ(*end, '\0');
	}
	ASSERT_CMP(accepted, >, 0);
	teardown(&f);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(m3_file_names_and_lookup),
	TEST_ENTRY(m3_only_misc_max_is_writable),
	TEST_ENTRY(m3_root_has_capacity_current_peak_only),
	TEST_ENTRY(m3_non_root_has_current_peak_max_events),
	TEST_ENTRY(m4_capacity_lists_present_resources_in_order),
	TEST_ENTRY(m4_current_lists_present_or_nonzero),
	TEST_ENTRY(m4_peak_lists_present_or_nonzero),
	TEST_ENTRY(m4_max_prints_max_and_lists_present_only),
	TEST_ENTRY(m4_events_keys_end_in_dot_max),
	TEST_ENTRY(m4_empty_when_nothing_qualifies),
	TEST_ENTRY(m4_show_is_enospc_when_buffer_too_small),
	TEST_ENTRY(m4_show_of_missing_file_is_enoent),
	TEST_ENTRY(m4_every_file_fits_the_documented_buffer),
	TEST_ENTRY(m5_max_write_table_errors_and_values),
	TEST_ENTRY(m5_erange_is_reported_before_the_capacity_check),
	TEST_ENTRY(m5_overlong_write_is_e2big_before_anything_else),
	TEST_ENTRY(m5_parse_never_reads_past_len),
	TEST_ENTRY(m5_parse_null_arguments_are_einval),
	TEST_ENTRY(m5_limit_above_capacity_or_below_usage_is_accepted),
	TEST_ENTRY(m5_u64_max_reads_back_as_max),
	TEST_ENTRY(m5_write_to_other_files_is_einval_to_missing_ones_enoent),
	TEST_ENTRY(m5_empty_write_succeeds_and_changes_nothing),
	TEST_ENTRY(m5_parse_accepts_every_c_base_spelling),
	TEST_ENTRY(m5_parse_random_requests_agree_with_strtoull),
};

TEST_MAIN(tests)
