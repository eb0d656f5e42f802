// SPDX-License-Identifier: MIT
/*
 * Unit tests of the misc controller core (lib/misc/misc.c): resources and
 * capacities (M1), defaults (M2), the charge walk (M6), uncharge (M7),
 * hierarchical counters (M8), concurrency (M9), limits (M5), cgroup
 * lifetime including dying cgroups (T4, E11), provider callbacks, walks
 * and tasks.  Each test is named after the rule it checks.
 */
#include <stdbool.h>
#include <time.h>

#include <epcg/exec.h>
#include <epcg/misc.h>
#include <pthread.h>
#include <unistd.h>

#include "misc/misc-internal.h"
#include "test.h"

#define EPC EPCG_MISC_RES_SGX_EPC
#define SEV EPCG_MISC_RES_SEV
#define SEV_ES EPCG_MISC_RES_SEV_ES
#define PAGE 4096ull

static struct epcg_misc *setup(uint64_t epc_capacity)
{
	struct epcg_misc *m;

	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, epc_capacity));
	return m;
}

static struct epcg_misc_cg *mkcg(struct epcg_misc_cg *parent, const char *name)
{
	struct epcg_misc_cg *cg = NULL;

	ASSERT_OK(epcg_misc_cg_create(parent, name, &cg));
	ASSERT_NOT_NULL(cg);
	return cg;
}

/* Remove every cgroup in @cgs (leaves first) and destroy the controller. */
static void teardown(struct epcg_misc *m, struct epcg_misc_cg **cgs, int nr)
{
	for (int i = nr - 1; i >= 0; i--)
		ASSERT_OK(epcg_misc_cg_remove(cgs[i]));
	epcg_misc_destroy(m);
}

/* ---- recorders for callbacks ------------------------------------------- */

struct note {
	struct epcg_misc_cg *cg;
	enum epcg_misc_file file;
};

static struct note notes[64];
static int nr_notes;

static void record_notify(struct epcg_misc_cg *cg, enum epcg_misc_file file,
			  void *data)
{
	ASSERT_TRUE(data == &nr_notes);
	ASSERT_CMP(nr_notes, <, 64);
	notes[nr_notes++] = (struct note){ cg, file };
}

/* One resource provider's bookkeeping, passed as the callbacks' data. */
struct probe {
	enum epcg_misc_res res;
	int allocs, frees;
	int fail_at; /* fail the n-th alloc (1-based), 0: never */
	int err; /* what a failing alloc returns */
	bool check_linked; /* in free: the cgroup is still in the tree */
	bool saw_linked, saw_tryget_fail;
};

static int probe_alloc(struct epcg_misc_cg *cg, void *data)
{
	struct probe *p = data;

	if (++p->allocs == p->fail_at)
		return p->err;
	epcg_misc_cg_set_priv(cg, p->res, p);
	return 0;
}

static void probe_free(struct epcg_misc_cg *cg, void *data)
{
	struct probe *p = data;
	struct epcg_misc *m = epcg_misc_cg_controller(cg);
	struct epcg_misc_cg *pos = NULL;

	ASSERT_TRUE(epcg_misc_cg_priv(cg, p->res) == p);
	p->frees++;
	if (!p->check_linked)
		return;
	epcg_misc_tree_lock(m);
	while ((pos = epcg_misc_cg_next_pre(pos, epcg_misc_root(m))))
		if (pos == cg)
			p->saw_linked = true;
	p->saw_tryget_fail = !epcg_misc_cg_tryget(cg);
	epcg_misc_tree_unlock(m);
}

static const struct epcg_misc_res_ops probe_ops = {
	.alloc = probe_alloc,
	.free = probe_free,
};

/* Redirects stderr to a file so warnings can be counted. */
struct capture {
	FILE *f;
	int saved;
};

static void capture_begin(struct capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	ASSERT_NOT_NULL(c->f);
	c->saved = dup(2);
	ASSERT_CMP(c->saved, >=, 0);
	ASSERT_CMP(dup2(fileno(c->f), 2), ==, 2);
}

/* Restore stderr; return how many warning lines were printed. */
static int capture_end(struct capture *c, char *text, size_t size)
{
	size_t n;
	int warnings = 0;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	rewind(c->f);
	n = fread(text, 1, size - 1, c->f);
	text[n] = '\0';
	fclose(c->f);
	for (const char *p = text; (p = strstr(p, "epcg: warning")); p++)
		warnings++;
	return warnings;
}

/* ---- M1, M2: resources, capacities, defaults ------------------------- */

TEST(m1_resources_listed_in_v17_order)
{
	ASSERT_STREQ(epcg_misc_res_name(EPCG_MISC_RES_SEV), "sev");
	ASSERT_STREQ(epcg_misc_res_name(EPCG_MISC_RES_SEV_ES), "sev_es");
	ASSERT_STREQ(epcg_misc_res_name(EPCG_MISC_RES_SGX_EPC), "sgx_epc");
	ASSERT_NULL(epcg_misc_res_name(EPCG_MISC_RES_NR));
	ASSERT_NULL(epcg_misc_res_name((enum epcg_misc_res)(-1)));

	ASSERT_EQ(epcg_misc_res_lookup("sev", 3), EPCG_MISC_RES_SEV);
	ASSERT_EQ(epcg_misc_res_lookup("sev_es", 6), EPCG_MISC_RES_SEV_ES);
	ASSERT_EQ(epcg_misc_res_lookup("sgx_epc", 7), EPCG_MISC_RES_SGX_EPC);
	/* Only the first @len bytes count. */
	ASSERT_EQ(epcg_misc_res_lookup("sgx_epc 5", 7), EPCG_MISC_RES_SGX_EPC);
	ASSERT_EQ(epcg_misc_res_lookup("sev_es", 3), EPCG_MISC_RES_SEV);
	ASSERT_ERR(epcg_misc_res_lookup("sgx_ep", 6), EINVAL);
	ASSERT_ERR(epcg_misc_res_lookup("SGX_EPC", 7), EINVAL);
	ASSERT_ERR(epcg_misc_res_lookup("sgx_epc", 8), EINVAL);
	ASSERT_ERR(epcg_misc_res_lookup("", 0), EINVAL);
	ASSERT_ERR(epcg_misc_res_lookup(NULL, 0), EINVAL);
}

TEST(m1_capacity_defaults_to_zero_and_is_settable)
{
	struct epcg_misc *m;

	ASSERT_ERR(epcg_misc_create(NULL), EINVAL);
	ASSERT_OK(epcg_misc_create(&m));
	for (int i = 0; i < EPCG_MISC_RES_NR; i++)
		ASSERT_U64_EQ(epcg_misc_capacity(m, i), 0);
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, 1ull << 40));
	ASSERT_OK(epcg_misc_set_capacity(m, SEV, UINT64_MAX));
	ASSERT_U64_EQ(epcg_misc_capacity(m, EPC), 1ull << 40);
	ASSERT_U64_EQ(epcg_misc_capacity(m, SEV), UINT64_MAX);
	ASSERT_U64_EQ(epcg_misc_capacity(m, SEV_ES), 0);
	ASSERT_ERR(epcg_misc_set_capacity(m, EPCG_MISC_RES_NR, 1), EINVAL);
	ASSERT_ERR(epcg_misc_set_capacity(NULL, EPC, 1), EINVAL);
	ASSERT_U64_EQ(epcg_misc_capacity(m, EPCG_MISC_RES_NR), 0);
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, 0));
	ASSERT_U64_EQ(epcg_misc_capacity(m, EPC), 0);
	epcg_misc_destroy(m);
}

TEST(m1_charge_with_capacity_zero_is_einval_and_counts_nothing)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	struct epcg_misc_cg *failed = NULL;

	ASSERT_ERR(epcg_misc_try_charge(EPC, a, PAGE, &failed), EINVAL);
	ASSERT_ERR(epcg_misc_try_charge(SEV, a, 1, NULL), EINVAL);
	ASSERT_NULL(failed);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events(a, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(a, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(epcg_misc_root(m), EPC), 0);
	teardown(m, &a, 1);
}

TEST(m2_new_cgroup_starts_at_defaults)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	for (int i = 0; i < EPCG_MISC_RES_NR; i++) {
		ASSERT_U64_EQ(epcg_misc_max(a, i), EPCG_MISC_MAX);
		ASSERT_U64_EQ(epcg_misc_usage(a, i), 0);
		ASSERT_U64_EQ(epcg_misc_peak(a, i), 0);
		ASSERT_U64_EQ(epcg_misc_events(a, i), 0);
		ASSERT_U64_EQ(epcg_misc_events_local(a, i), 0);
		ASSERT_NULL(epcg_misc_cg_priv(a, i));
		ASSERT_U64_EQ(epcg_misc_max(epcg_misc_root(m), i),
			      EPCG_MISC_MAX);
	}
	/* An invalid resource reads as "nothing", max as "max". */
	ASSERT_U64_EQ(epcg_misc_max(a, EPCG_MISC_RES_NR), EPCG_MISC_MAX);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPCG_MISC_RES_NR), 0);
	ASSERT_U64_EQ(epcg_misc_peak(a, EPCG_MISC_RES_NR), 0);
	ASSERT_U64_EQ(epcg_misc_events(a, EPCG_MISC_RES_NR), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(a, EPCG_MISC_RES_NR), 0);
	ASSERT_NULL(epcg_misc_cg_priv(a, EPCG_MISC_RES_NR));
	teardown(m, &a, 1);
}

/* ---- M6: the charge walk --------------------------------------------- */

TEST(m6_invalid_resource_or_null_cgroup_is_einval)
{
	struct epcg_misc *m = setup(100 * PAGE);

	ASSERT_ERR(epcg_misc_try_charge(EPCG_MISC_RES_NR, epcg_misc_root(m),
					PAGE, NULL),
		   EINVAL);
	ASSERT_ERR(epcg_misc_try_charge((enum epcg_misc_res)(-1),
					epcg_misc_root(m), PAGE, NULL),
		   EINVAL);
	ASSERT_ERR(epcg_misc_try_charge(EPC, NULL, PAGE, NULL), EINVAL);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(m), EPC), 0);
	epcg_misc_destroy(m);
}

TEST(m6_zero_amount_succeeds_without_effect_after_capacity_check)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_OK(epcg_misc_set_max(a, EPC, 0));
	ASSERT_EQ(epcg_misc_try_charge(EPC, a, 0, NULL), 0);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(a, EPC), 0);
	/* The capacity check comes first. */
	ASSERT_ERR(epcg_misc_try_charge(SEV, a, 0, NULL), EINVAL);
	teardown(m, &a, 1);
}

TEST(m6_charge_adds_at_every_level_to_root)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[3];

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	cgs[2] = mkcg(cgs[1], "c");
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[2], 3 * PAGE, NULL));
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[1], PAGE, NULL));
	ASSERT_U64_EQ(epcg_misc_usage(cgs[2], EPC), 3 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[1], EPC), 4 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[0], EPC), 4 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 4 * PAGE);
	ASSERT_U64_EQ(epcg_misc_peak(root, EPC), 4 * PAGE);
	ASSERT_U64_EQ(epcg_misc_peak(cgs[2], EPC), 3 * PAGE);
	/* Other resources are untouched. */
	ASSERT_U64_EQ(epcg_misc_usage(root, SEV), 0);
	epcg_misc_uncharge(EPC, cgs[2], 3 * PAGE);
	epcg_misc_uncharge(EPC, cgs[1], PAGE);
	teardown(m, cgs, 3);
}

TEST(m6_limit_is_inclusive)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_OK(epcg_misc_set_max(a, EPC, 2 * PAGE));
	ASSERT_OK(epcg_misc_try_charge(EPC, a, 2 * PAGE, NULL));
	ASSERT_ERR(epcg_misc_try_charge(EPC, a, 1, NULL), EBUSY);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 2 * PAGE);
	epcg_misc_uncharge(EPC, a, 2 * PAGE);
	teardown(m, &a, 1);
}

TEST(m6_limit_failure_at_leaf_counts_leaf_and_ancestors_not_root)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[2], *failed = NULL;

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	ASSERT_OK(epcg_misc_set_max(cgs[1], EPC, PAGE));
	ASSERT_ERR(epcg_misc_try_charge(EPC, cgs[1], 2 * PAGE, &failed), EBUSY);
	ASSERT_TRUE(failed == cgs[1]);
	ASSERT_U64_EQ(epcg_misc_events_local(cgs[1], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events(cgs[1], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events_local(cgs[0], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events(cgs[0], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events_local(root, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events(root, EPC), 0);
	for (int i = 0; i < 2; i++)
		ASSERT_U64_EQ(epcg_misc_usage(cgs[i], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 0);
	teardown(m, cgs, 2);
}

TEST(m6_failure_counts_events_on_failing_level_and_ancestors_not_root)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[4], *failed = NULL;

	/* root / a / b / c / d, limit on b: the charge at d fails at b. */
	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	cgs[2] = mkcg(cgs[1], "c");
	cgs[3] = mkcg(cgs[2], "d");
	ASSERT_OK(epcg_misc_set_max(cgs[1], EPC, 3 * PAGE));
	ASSERT_ERR(epcg_misc_try_charge(EPC, cgs[3], 4 * PAGE, &failed), EBUSY);
	ASSERT_TRUE(failed == cgs[1]);

	/* Below F: nothing counted, not even at the charged cgroup. */
	ASSERT_U64_EQ(epcg_misc_events(cgs[3], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(cgs[3], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events(cgs[2], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(cgs[2], EPC), 0);
	/* F: both counters. */
	ASSERT_U64_EQ(epcg_misc_events(cgs[1], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events_local(cgs[1], EPC), 1);
	/* Above F: only the hierarchical one, and never at the root. */
	ASSERT_U64_EQ(epcg_misc_events(cgs[0], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events_local(cgs[0], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events(root, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_events_local(root, EPC), 0);
	teardown(m, cgs, 4);
}

TEST(m6_failure_undoes_every_level_including_failing_one)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[3];

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	cgs[2] = mkcg(cgs[1], "c");
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[2], PAGE, NULL));
	ASSERT_OK(epcg_misc_set_max(cgs[0], EPC, 2 * PAGE));
	ASSERT_ERR(epcg_misc_try_charge(EPC, cgs[2], 2 * PAGE, NULL), EBUSY);
	for (int i = 0; i < 3; i++)
		ASSERT_U64_EQ(epcg_misc_usage(cgs[i], EPC), PAGE);
	/* The level above F was never charged. */
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), PAGE);
	epcg_misc_uncharge(EPC, cgs[2], PAGE);
	teardown(m, cgs, 3);
}

TEST(m6_peak_raised_below_failing_level_stays_raised)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[3];

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	cgs[2] = mkcg(cgs[1], "c");
	ASSERT_OK(epcg_misc_set_max(cgs[0], EPC, 4 * PAGE));
	ASSERT_ERR(epcg_misc_try_charge(EPC, cgs[2], 5 * PAGE, NULL), EBUSY);
	/* c and b passed: their peaks keep the rolled-back usage. */
	ASSERT_U64_EQ(epcg_misc_peak(cgs[2], EPC), 5 * PAGE);
	ASSERT_U64_EQ(epcg_misc_peak(cgs[1], EPC), 5 * PAGE);
	/* a failed, the root was never reached. */
	ASSERT_U64_EQ(epcg_misc_peak(cgs[0], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_peak(root, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[2], EPC), 0);
	teardown(m, cgs, 3);
}

TEST(m6_charge_larger_than_capacity_fails_at_the_leaf)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[2], *failed = NULL;

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	/* No limit anywhere: the capacity alone refuses it, at the leaf. */
	ASSERT_ERR(epcg_misc_try_charge(EPC, cgs[1], 11 * PAGE, &failed),
		   EBUSY);
	ASSERT_TRUE(failed == cgs[1]);
	ASSERT_U64_EQ(epcg_misc_events_local(cgs[1], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events(cgs[1], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events(cgs[0], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events_local(root, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 0);
	teardown(m, cgs, 2);
}

TEST(m6_capacity_failure_at_non_root_level)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[3], *failed = NULL;

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "x");
	cgs[2] = mkcg(cgs[0], "y");
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[1], 6 * PAGE, NULL));
	/* y itself would hold 5 pages, but a's subtree would hold 11. */
	ASSERT_ERR(epcg_misc_try_charge(EPC, cgs[2], 5 * PAGE, &failed), EBUSY);
	ASSERT_TRUE(failed == cgs[0]);
	ASSERT_U64_EQ(epcg_misc_events_local(cgs[0], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events(cgs[0], EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events(cgs[2], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_peak(cgs[2], EPC), 5 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[2], EPC), 0);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[0], EPC), 6 * PAGE);
	epcg_misc_uncharge(EPC, cgs[1], 6 * PAGE);
	teardown(m, cgs, 3);
}

TEST(m6_failure_at_root_changes_no_visible_events_file)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[2], *failed = NULL;

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(root, "b");
	epcg_misc_set_notify(m, record_notify, &nr_notes);
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[0], 6 * PAGE, NULL));
	/* b's 5 pages pass b and fail only at the root (11 > capacity). */
	ASSERT_ERR(epcg_misc_try_charge(EPC, cgs[1], 5 * PAGE, &failed), EBUSY);
	ASSERT_TRUE(failed == root);
	ASSERT_EQ(nr_notes, 0);
	for (int i = 0; i < 2; i++) {
		ASSERT_U64_EQ(epcg_misc_events(cgs[i], EPC), 0);
		ASSERT_U64_EQ(epcg_misc_events_local(cgs[i], EPC), 0);
	}
	/* Only the root's own counter moved, and the root has no file. */
	ASSERT_U64_EQ(epcg_misc_events_local(root, EPC), 1);
	ASSERT_U64_EQ(epcg_misc_events(root, EPC), 0);
	ASSERT_FALSE(epcg_misc_file_exists(root, EPCG_MISC_FILE_EVENTS));
	ASSERT_FALSE(epcg_misc_file_exists(root, EPCG_MISC_FILE_EVENTS_LOCAL));
	epcg_misc_uncharge(EPC, cgs[0], 6 * PAGE);
	teardown(m, cgs, 2);
}

TEST(m6_notify_called_for_each_changed_events_file)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[3];

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	cgs[2] = mkcg(cgs[1], "c");
	epcg_misc_set_notify(m, record_notify, &nr_notes);
	ASSERT_OK(epcg_misc_set_max(cgs[1], EPC, PAGE));
	ASSERT_ERR(epcg_misc_try_charge(EPC, cgs[2], 2 * PAGE, NULL), EBUSY);
	ASSERT_EQ(nr_notes, 3);
	ASSERT_TRUE(notes[0].cg == cgs[1]);
	ASSERT_EQ(notes[0].file, EPCG_MISC_FILE_EVENTS_LOCAL);
	ASSERT_TRUE(notes[1].cg == cgs[1]);
	ASSERT_EQ(notes[1].file, EPCG_MISC_FILE_EVENTS);
	ASSERT_TRUE(notes[2].cg == cgs[0]);
	ASSERT_EQ(notes[2].file, EPCG_MISC_FILE_EVENTS);
	teardown(m, cgs, 3);
}

TEST(m6_notify_not_called_on_success_and_can_be_removed)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	epcg_misc_set_notify(m, record_notify, &nr_notes);
	ASSERT_OK(epcg_misc_try_charge(EPC, a, PAGE, NULL));
	epcg_misc_uncharge(EPC, a, PAGE);
	ASSERT_EQ(nr_notes, 0);
	ASSERT_OK(epcg_misc_set_max(a, EPC, 0));
	epcg_misc_set_notify(m, NULL, NULL);
	ASSERT_ERR(epcg_misc_try_charge(EPC, a, PAGE, NULL), EBUSY);
	ASSERT_EQ(nr_notes, 0);
	ASSERT_U64_EQ(epcg_misc_events_local(a, EPC), 1);
	teardown(m, &a, 1);
}

TEST(m6_charge_that_would_wrap_u64_fails)
{
	struct epcg_misc *m = setup(UINT64_MAX);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	struct epcg_misc_cg *failed = NULL;
	struct capture cap;
	char text[256];

	ASSERT_OK(epcg_misc_try_charge(EPC, a, PAGE, NULL));
	capture_begin(&cap);
	ASSERT_ERR(epcg_misc_try_charge(EPC, a, UINT64_MAX, &failed), EBUSY);
	/* Undoing the wrapped add is not an underflow. */
	ASSERT_EQ(capture_end(&cap, text, sizeof(text)), 0);
	ASSERT_TRUE(failed == a);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(m), EPC), PAGE);
	epcg_misc_uncharge(EPC, a, PAGE);
	teardown(m, &a, 1);
}

/* ---- M7: uncharge ------------------------------------------------------ */

TEST(m7_uncharge_subtracts_at_every_level)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[2];

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[1], 5 * PAGE, NULL));
	epcg_misc_uncharge(EPC, cgs[1], 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[1], EPC), 3 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[0], EPC), 3 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 3 * PAGE);
	/* Peaks and events are untouched by uncharges. */
	ASSERT_U64_EQ(epcg_misc_peak(cgs[1], EPC), 5 * PAGE);
	epcg_misc_uncharge(EPC, cgs[1], 3 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 0);
	teardown(m, cgs, 2);
}

TEST(m7_uncharge_of_nothing_is_a_noop)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	struct capture cap;
	char text[256];

	ASSERT_OK(epcg_misc_try_charge(EPC, a, PAGE, NULL));
	capture_begin(&cap);
	epcg_misc_uncharge(EPC, a, 0);
	epcg_misc_uncharge(EPCG_MISC_RES_NR, a, PAGE);
	epcg_misc_uncharge(EPC, NULL, PAGE);
	ASSERT_EQ(capture_end(&cap, text, sizeof(text)), 0);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), PAGE);
	epcg_misc_uncharge(EPC, a, PAGE);
	teardown(m, &a, 1);
}

TEST(m7_uncharge_ignores_capacity)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_OK(epcg_misc_try_charge(EPC, a, 2 * PAGE, NULL));
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, 0));
	epcg_misc_uncharge(EPC, a, 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(m), EPC), 0);
	teardown(m, &a, 1);
}

TEST(m7_charge_stays_with_cgroup_after_task_moves)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *cgs[2], *cg;
	struct epcg_task task = { .pid = 42, .node = -1 };

	cgs[0] = mkcg(epcg_misc_root(m), "a");
	cgs[1] = mkcg(epcg_misc_root(m), "b");
	epcg_misc_task_attach(&task, cgs[0]);
	cg = epcg_misc_task_get_cg(m, &task);
	ASSERT_TRUE(cg == cgs[0]);
	ASSERT_OK(epcg_misc_try_charge(EPC, cg, PAGE, NULL));

	epcg_misc_task_attach(&task, cgs[1]);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[0], EPC), PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[1], EPC), 0);
	/* The charge owner kept the charged cgroup: that is what it frees. */
	epcg_misc_uncharge(EPC, cg, PAGE);
	epcg_misc_cg_put(cg);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[0], EPC), 0);
	epcg_misc_task_attach(&task, NULL);
	teardown(m, cgs, 2);
}

TEST(m7_uncharge_after_remove_reaches_ancestors)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *a = mkcg(root, "a");
	struct epcg_misc_cg *b = mkcg(a, "b");

	ASSERT_OK(epcg_misc_try_charge(EPC, b, 3 * PAGE, NULL));
	epcg_misc_cg_get(b); /* what an EPC page charged to b holds */
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_TRUE(epcg_misc_cg_is_dying(a));
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 3 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 3 * PAGE);
	epcg_misc_uncharge(EPC, b, 3 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 0);
	epcg_misc_cg_put(b);
	epcg_misc_destroy(m);
}

TEST(m7_underflow_warns_once_and_is_not_clamped)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	struct capture cap;
	char text[1024];

	ASSERT_OK(epcg_misc_try_charge(EPC, a, PAGE, NULL));
	capture_begin(&cap);
	epcg_misc_uncharge(EPC, a, 2 * PAGE);
	epcg_misc_uncharge(EPC, a, PAGE);
	ASSERT_EQ(capture_end(&cap, text, sizeof(text)), 1);
	ASSERT_TRUE(strstr(text, "sgx_epc") != NULL);
	/* -8192 as a u64, at every level: the bug stays visible. */
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), (uint64_t)0 - 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(m), EPC),
		      (uint64_t)0 - 2 * PAGE);
	/* Putting it back restores sane numbers, and nothing crashed. */
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, UINT64_MAX));
	epcg_misc_uncharge(EPC, a, (uint64_t)0 - 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 0);
	teardown(m, &a, 1);
}

/*
 * epcg_misc_uncharge_put() is epcg_misc_uncharge() then epcg_misc_cg_put()
 * in one call (the free path of an EPC page): every level up to the root
 * is uncharged, then the caller's reference goes.
 */
TEST(m7_uncharge_put_uncharges_every_level_then_drops_the_reference)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[3];
	long refs;

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "b");
	cgs[2] = mkcg(cgs[1], "c");
	refs = epcg_atomic_load_relaxed(&cgs[2]->refcount);
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[2], 3 * PAGE, NULL));
	epcg_misc_cg_get(cgs[2]);
	epcg_misc_cg_get(cgs[2]);
	epcg_misc_uncharge_put(EPC, cgs[2], PAGE);
	for (int i = 0; i < 3; i++)
		ASSERT_U64_EQ(epcg_misc_usage(cgs[i], EPC), 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 2 * PAGE);
	ASSERT_EQ(epcg_atomic_load_relaxed(&cgs[2]->refcount), refs + 1);
	/* Peaks and events are untouched, as by an uncharge. */
	ASSERT_U64_EQ(epcg_misc_peak(cgs[2], EPC), 3 * PAGE);
	ASSERT_U64_EQ(epcg_misc_events(cgs[2], EPC), 0);

	/* Amount 0 or an invalid resource: the reference only. */
	epcg_misc_uncharge_put(EPC, cgs[2], 0);
	ASSERT_EQ(epcg_atomic_load_relaxed(&cgs[2]->refcount), refs);
	epcg_misc_cg_get(cgs[2]);
	epcg_misc_uncharge_put(EPCG_MISC_RES_NR, cgs[2], PAGE);
	ASSERT_EQ(epcg_atomic_load_relaxed(&cgs[2]->refcount), refs);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 2 * PAGE);
	epcg_misc_uncharge_put(EPC, NULL, PAGE); /* a no-op */

	/* Another resource's counters stay apart. */
	ASSERT_OK(epcg_misc_set_capacity(m, SEV, 10));
	ASSERT_OK(epcg_misc_try_charge(SEV, cgs[2], 4, NULL));
	epcg_misc_cg_get(cgs[2]);
	epcg_misc_uncharge_put(SEV, cgs[2], 4);
	ASSERT_U64_EQ(epcg_misc_usage(root, SEV), 0);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 2 * PAGE);
	epcg_misc_uncharge(EPC, cgs[2], 2 * PAGE);
	ASSERT_OK(epcg_misc_set_capacity(m, SEV, 0));
	teardown(m, cgs, 3);
}

/*
 * Below zero, the walk goes on to the root (as epcg_misc_uncharge() does,
 * one report) and the reference is still dropped.
 */
TEST(m7_uncharge_put_underflow_warns_once_and_still_puts)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	struct epcg_misc_cg *b = mkcg(a, "b");
	struct capture cap;
	char text[1024];
	long refs = epcg_atomic_load_relaxed(&b->refcount);

	ASSERT_OK(epcg_misc_try_charge(EPC, b, PAGE, NULL));
	epcg_misc_cg_get(b);
	epcg_misc_cg_get(b);
	capture_begin(&cap);
	epcg_misc_uncharge_put(EPC, b, 2 * PAGE);
	epcg_misc_uncharge_put(EPC, b, PAGE);
	ASSERT_EQ(capture_end(&cap, text, sizeof(text)), 1);
	ASSERT_TRUE(strstr(text, "sgx_epc") != NULL);
	ASSERT_U64_EQ(epcg_misc_usage(b, EPC), (uint64_t)0 - 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), (uint64_t)0 - 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(m), EPC),
		      (uint64_t)0 - 2 * PAGE);
	ASSERT_EQ(epcg_atomic_load_relaxed(&b->refcount), refs);
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, UINT64_MAX));
	epcg_misc_uncharge(EPC, b, (uint64_t)0 - 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(m), EPC), 0);
	{
		struct epcg_misc_cg *cgs[2] = { a, b };

		teardown(m, cgs, 2);
	}
}

/* ---- M8: hierarchical counters ----------------------------------------- */

TEST(m8_current_is_hierarchical)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[4];

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "x");
	cgs[2] = mkcg(cgs[0], "y");
	cgs[3] = mkcg(root, "b");
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[0], 1 * PAGE, NULL));
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[1], 2 * PAGE, NULL));
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[2], 4 * PAGE, NULL));
	ASSERT_OK(epcg_misc_try_charge(EPC, cgs[3], 8 * PAGE, NULL));
	ASSERT_U64_EQ(epcg_misc_usage(cgs[0], EPC), 7 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[1], EPC), 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[2], EPC), 4 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[3], EPC), 8 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 15 * PAGE);
	epcg_misc_uncharge(EPC, cgs[0], 1 * PAGE);
	epcg_misc_uncharge(EPC, cgs[1], 2 * PAGE);
	epcg_misc_uncharge(EPC, cgs[2], 4 * PAGE);
	epcg_misc_uncharge(EPC, cgs[3], 8 * PAGE);
	teardown(m, cgs, 4);
}

TEST(m8_peak_never_decreases)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_OK(epcg_misc_try_charge(EPC, a, 5 * PAGE, NULL));
	epcg_misc_uncharge(EPC, a, 5 * PAGE);
	ASSERT_OK(epcg_misc_try_charge(EPC, a, 2 * PAGE, NULL));
	ASSERT_U64_EQ(epcg_misc_peak(a, EPC), 5 * PAGE);
	ASSERT_U64_EQ(epcg_misc_peak(epcg_misc_root(m), EPC), 5 * PAGE);
	ASSERT_OK(epcg_misc_try_charge(EPC, a, 4 * PAGE, NULL));
	ASSERT_U64_EQ(epcg_misc_peak(a, EPC), 6 * PAGE);
	epcg_misc_uncharge(EPC, a, 6 * PAGE);
	ASSERT_U64_EQ(epcg_misc_peak(a, EPC), 6 * PAGE);
	teardown(m, &a, 1);
}

TEST(m8_events_only_increase)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_OK(epcg_misc_set_max(a, EPC, 0));
	for (int i = 1; i <= 5; i++) {
		ASSERT_ERR(epcg_misc_try_charge(EPC, a, PAGE, NULL), EBUSY);
		ASSERT_U64_EQ(epcg_misc_events(a, EPC), i);
		ASSERT_U64_EQ(epcg_misc_events_local(a, EPC), i);
	}
	/* Raising the limit or succeeding does not reset them. */
	ASSERT_OK(epcg_misc_set_max(a, EPC, EPCG_MISC_MAX));
	ASSERT_OK(epcg_misc_try_charge(EPC, a, PAGE, NULL));
	epcg_misc_uncharge(EPC, a, PAGE);
	ASSERT_U64_EQ(epcg_misc_events(a, EPC), 5);
	teardown(m, &a, 1);
}

/* ---- M5: set_max ----------------------------------------------------- */

TEST(m5_set_max_is_non_preemptive)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_OK(epcg_misc_try_charge(EPC, a, 5 * PAGE, NULL));
	ASSERT_OK(epcg_misc_set_max(a, EPC, 2 * PAGE));
	ASSERT_U64_EQ(epcg_misc_max(a, EPC), 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 5 * PAGE);
	ASSERT_ERR(epcg_misc_try_charge(EPC, a, PAGE, NULL), EBUSY);
	epcg_misc_uncharge(EPC, a, 4 * PAGE);
	ASSERT_OK(epcg_misc_try_charge(EPC, a, PAGE, NULL));
	epcg_misc_uncharge(EPC, a, 2 * PAGE);
	teardown(m, &a, 1);
}

TEST(m5_set_max_above_capacity_is_accepted)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_OK(epcg_misc_set_max(a, EPC, 1000 * PAGE));
	ASSERT_U64_EQ(epcg_misc_max(a, EPC), 1000 * PAGE);
	/* The capacity still refuses. */
	ASSERT_ERR(epcg_misc_try_charge(EPC, a, 11 * PAGE, NULL), EBUSY);
	ASSERT_OK(epcg_misc_set_max(a, EPC, EPCG_MISC_MAX));
	ASSERT_U64_EQ(epcg_misc_max(a, EPC), EPCG_MISC_MAX);
	teardown(m, &a, 1);
}

TEST(m5_set_max_errors)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_ERR(epcg_misc_set_max(epcg_misc_root(m), EPC, PAGE), EINVAL);
	ASSERT_ERR(epcg_misc_set_max(a, EPCG_MISC_RES_NR, PAGE), EINVAL);
	ASSERT_ERR(epcg_misc_set_max(a, SEV, 1), EINVAL);
	ASSERT_ERR(epcg_misc_set_max(NULL, EPC, 1), EINVAL);
	ASSERT_U64_EQ(epcg_misc_max(a, SEV), EPCG_MISC_MAX);
	ASSERT_U64_EQ(epcg_misc_max(epcg_misc_root(m), EPC), EPCG_MISC_MAX);
	teardown(m, &a, 1);
}

/* ---- M9: concurrency ------------------------------------------------- */

/*
 * Several threads charge and uncharge random amounts on a small tree with
 * limits.  The check: every thread adds a charge to held[] of each level
 * on its path only *after* the charge succeeded, and takes it out *before*
 * uncharging, so held[] of a level is always a sum of charges that were
 * all committed at once.  M9 says such a sum never exceeds the level's
 * max (or the capacity); transient adds of charges that are about to fail
 * never reach held[], so a correct controller cannot trip the check and a
 * controller that lets a committed total pass max will.
 */
enum { L_ROOT, L_A, L_X, L_Y, L_B, L_NR };

#define M9_THREADS 4
#define M9_HOLD 8

static const int m9_parent[L_NR] = { -1, L_ROOT, L_A, L_A, L_ROOT };

static struct {
	struct epcg_misc *m;
	struct epcg_misc_cg *cg[L_NR];
	uint64_t limit[L_NR]; /* max, or the capacity at the root */
	epcg_atomic(uint64_t) held[L_NR];
	epcg_atomic(uint64_t) failed_at[L_NR];
	epcg_atomic(uint64_t) charges;
	epcg_atomic(int) stop;
	uint64_t seed;
} m9;

static int m9_level(struct epcg_misc_cg *cg)
{
	for (int l = 0; l < L_NR; l++)
		if (m9.cg[l] == cg)
			return l;
	epcg_test_fail(__FILE__, __LINE__, "unknown failing level");
}

static void m9_hold(int l, uint64_t amount)
{
	for (; l >= 0; l = m9_parent[l]) {
		uint64_t v =
			epcg_atomic_add_return_acq_rel(&m9.held[l], amount);

		ASSERT_CMP(v, <=, m9.limit[l]);
	}
}

static void m9_release(int l, uint64_t amount)
{
	for (int p = l; p >= 0; p = m9_parent[p])
		epcg_atomic_fetch_sub_acq_rel(&m9.held[p], amount);
	epcg_misc_uncharge(EPC, m9.cg[l], amount);
}

static void *m9_charger(void *arg)
{
	uint64_t rng = m9.seed ^ ((uintptr_t)arg * 0x9e3779b97f4a7c15ull);
	struct {
		int l;
		uint64_t amount;
	} hold[M9_HOLD];
	int n = 0;

	while (!epcg_atomic_load_acquire(&m9.stop)) {
		uint64_t r = epcg_test_rand(&rng);

		if (n < M9_HOLD && (n == 0 || (r & 1))) {
			int l = (int)((r >> 8) % L_NR);
			uint64_t amount = 1 + (r >> 16) % 10;
			struct epcg_misc_cg *failed = NULL;
			int err = epcg_misc_try_charge(EPC, m9.cg[l], amount,
						       &failed);

			if (!err) {
				m9_hold(l, amount);
				hold[n].l = l;
				hold[n++].amount = amount;
				epcg_atomic_fetch_add_relaxed(&m9.charges, 1);
			} else {
				ASSERT_ERR(err, EBUSY);
				epcg_atomic_fetch_add_relaxed(
					&m9.failed_at[m9_level(failed)], 1);
			}
		} else {
			int k = (int)((r >> 8) % (uint64_t)n);

			m9_release(hold[k].l, hold[k].amount);
			hold[k] = hold[--n];
		}
	}
	while (n--)
		m9_release(hold[n].l, hold[n].amount);
	return NULL;
}

/* Watches the committed sums and the peaks while the chargers run. */
static void *m9_monitor(void *arg)
{
	while (!epcg_atomic_load_acquire(&m9.stop)) {
		for (int l = 0; l < L_NR; l++) {
			ASSERT_CMP(epcg_atomic_load_acquire(&m9.held[l]), <=,
				   m9.limit[l]);
			ASSERT_CMP(epcg_misc_peak(m9.cg[l], EPC), <=,
				   m9.limit[l]);
		}
	}
	return NULL;
}

TEST(m9_concurrent_charges_never_commit_above_max)
{
	pthread_t threads[M9_THREADS + 1];
	double secs = epcg_test_stress_seconds(1.0);
	struct timespec ts = { (time_t)secs,
			       (long)((secs - (double)(time_t)secs) * 1e9) };
	uint64_t fl[L_NR];

	m9.seed = epcg_test_seed();
	m9.limit[L_ROOT] = 100;
	m9.limit[L_A] = 60;
	m9.limit[L_X] = 40;
	m9.limit[L_Y] = 35;
	m9.limit[L_B] = 50;
	m9.m = setup(m9.limit[L_ROOT]);
	m9.cg[L_ROOT] = epcg_misc_root(m9.m);
	for (int l = 1; l < L_NR; l++) {
		char name[2] = { (char)('a' + l), 0 };

		m9.cg[l] = mkcg(m9.cg[m9_parent[l]], name);
		ASSERT_OK(epcg_misc_set_max(m9.cg[l], EPC, m9.limit[l]));
	}

	for (uintptr_t i = 0; i < M9_THREADS; i++)
		ASSERT_EQ(pthread_create(&threads[i], NULL, m9_charger,
					 (void *)(i + 1)),
			  0);
	ASSERT_EQ(pthread_create(&threads[M9_THREADS], NULL, m9_monitor, NULL),
		  0);
	nanosleep(&ts, NULL);
	epcg_atomic_store_release(&m9.stop, 1);
	for (int i = 0; i <= M9_THREADS; i++)
		ASSERT_EQ(pthread_join(threads[i], NULL), 0);

	for (int l = 0; l < L_NR; l++) {
		ASSERT_U64_EQ(epcg_misc_usage(m9.cg[l], EPC), 0);
		ASSERT_U64_EQ(epcg_atomic_load_relaxed(&m9.held[l]), 0);
		fl[l] = epcg_atomic_load_relaxed(&m9.failed_at[l]);
		ASSERT_U64_EQ(epcg_misc_events_local(m9.cg[l], EPC), fl[l]);
	}
	/* Events are exact even under contention. */
	ASSERT_U64_EQ(epcg_misc_events(m9.cg[L_X], EPC), fl[L_X]);
	ASSERT_U64_EQ(epcg_misc_events(m9.cg[L_Y], EPC), fl[L_Y]);
	ASSERT_U64_EQ(epcg_misc_events(m9.cg[L_A], EPC),
		      fl[L_A] + fl[L_X] + fl[L_Y]);
	ASSERT_U64_EQ(epcg_misc_events(m9.cg[L_B], EPC), fl[L_B]);
	ASSERT_U64_EQ(epcg_misc_events(m9.cg[L_ROOT], EPC), 0);
	ASSERT_CMP(epcg_atomic_load_relaxed(&m9.charges), >, 0);
	ASSERT_CMP(fl[L_ROOT] + fl[L_A] + fl[L_X] + fl[L_Y] + fl[L_B], >, 0);
	epcg_test_note("%" PRIu64 " charges, failures root %" PRIu64
		       " a %" PRIu64 " x %" PRIu64 " y %" PRIu64 " b %" PRIu64,
		       epcg_atomic_load_relaxed(&m9.charges), fl[L_ROOT],
		       fl[L_A], fl[L_X], fl[L_Y], fl[L_B]);
	teardown(m9.m, &m9.cg[1], L_NR - 1);
}

/* ---- T4: creating and removing ---------------------------------------- */

TEST(t4_create_duplicate_name_is_eexist)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[3], *dup = NULL;

	cgs[0] = mkcg(root, "a");
	ASSERT_ERR(epcg_misc_cg_create(root, "a", &dup), EEXIST);
	ASSERT_NULL(dup);
	/* Names are per parent. */
	cgs[1] = mkcg(cgs[0], "a");
	cgs[2] = mkcg(root, "b");
	teardown(m, cgs, 3);
}

/*
 * Names are checked through an index that grows as children are added
 * (misc.c): with many more children than its first size, every name is
 * still found under its own parent only, and a removed child's name is
 * free again while the dying child stays in the tree.
 */
TEST(t4_names_stay_unique_per_parent_with_many_children)
{
	enum { NR = 1000 };
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	static struct epcg_misc_cg *cgs[2 * NR + 2];
	struct epcg_misc_cg *dup = NULL, *p, *q;
	char name[16];

	p = cgs[0] = mkcg(root, "p");
	q = cgs[1] = mkcg(root, "q");
	for (int i = 0; i < NR; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		cgs[2 + i] = mkcg(p, name);
		cgs[2 + NR + i] = mkcg(q, name);
	}
	for (int i = 0; i < NR; i += 7) {
		snprintf(name, sizeof(name), "c%d", i);
		ASSERT_ERR(epcg_misc_cg_create(p, name, &dup), EEXIST);
		ASSERT_ERR(epcg_misc_cg_create(q, name, &dup), EEXIST);
	}
	ASSERT_ERR(epcg_misc_cg_create(root, "p", &dup), EEXIST);
	ASSERT_NULL(dup);
	/* A removed (here: still referenced, so dying) child frees its name. */
	epcg_misc_cg_get(cgs[2 + 5]);
	ASSERT_OK(epcg_misc_cg_remove(cgs[2 + 5]));
	ASSERT_OK(epcg_misc_cg_create(p, "c5", &dup));
	ASSERT_ERR(epcg_misc_cg_create(p, "c5", &cgs[2 + 5]), EEXIST);
	epcg_misc_cg_put(cgs[2 + 5]);
	cgs[2 + 5] = dup;
	teardown(m, cgs, 2 * NR + 2);
}

TEST(t4_create_bad_names_are_einval)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[2], *cg = NULL;
	char long_name[257];
	static const char *const bad[] = {
		"", ".", "..", "a/b", "/", "a\nb", "\n",
	};

	for (size_t i = 0; i < EPCG_ARRAY_SIZE(bad); i++)
		ASSERT_ERR(epcg_misc_cg_create(root, bad[i], &cg), EINVAL);
	memset(long_name, 'x', 256);
	long_name[256] = '\0';
	ASSERT_ERR(epcg_misc_cg_create(root, long_name, &cg), EINVAL);
	ASSERT_ERR(epcg_misc_cg_create(NULL, "a", &cg), EINVAL);
	ASSERT_ERR(epcg_misc_cg_create(root, NULL, &cg), EINVAL);
	ASSERT_ERR(epcg_misc_cg_create(root, "a", NULL), EINVAL);
	ASSERT_NULL(cg);
	/* The edges that are fine: 255 bytes, dots inside, spaces. */
	long_name[255] = '\0';
	cgs[0] = mkcg(root, long_name);
	cgs[1] = mkcg(root, "...a b");
	teardown(m, cgs, 2);
}

TEST(t4_create_under_removed_parent_is_enoent)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	struct epcg_misc_cg *cg = NULL;

	epcg_misc_cg_get(a);
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_ERR(epcg_misc_cg_create(a, "b", &cg), ENOENT);
	ASSERT_NULL(cg);
	epcg_misc_cg_put(a);
	epcg_misc_destroy(m);
}

TEST(t4_remove_with_live_children_is_ebusy)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *cgs[2];

	cgs[0] = mkcg(epcg_misc_root(m), "a");
	cgs[1] = mkcg(cgs[0], "b");
	ASSERT_ERR(epcg_misc_cg_remove(cgs[0]), EBUSY);
	ASSERT_FALSE(epcg_misc_cg_is_dying(cgs[0]));
	teardown(m, cgs, 2);
}

TEST(t4_remove_root_is_einval_and_twice_is_enoent)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");

	ASSERT_ERR(epcg_misc_cg_remove(epcg_misc_root(m)), EINVAL);
	ASSERT_ERR(epcg_misc_cg_remove(NULL), EINVAL);
	epcg_misc_cg_get(a);
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_ERR(epcg_misc_cg_remove(a), ENOENT);
	epcg_misc_cg_put(a);
	epcg_misc_destroy(m);
}

TEST(t4_name_is_free_again_after_remove)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *old = mkcg(root, "a"), *new;

	ASSERT_OK(epcg_misc_try_charge(EPC, old, PAGE, NULL));
	epcg_misc_cg_get(old);
	ASSERT_OK(epcg_misc_cg_remove(old));
	/* The dying "a" still exists, but the name is free. */
	new = mkcg(root, "a");
	ASSERT_TRUE(new != old);
	ASSERT_U64_EQ(epcg_misc_usage(new, EPC), 0);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), PAGE);
	epcg_misc_uncharge(EPC, old, PAGE);
	epcg_misc_cg_put(old);
	teardown(m, &new, 1);
}

TEST(t4_remove_with_only_dying_children_succeeds)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	struct epcg_misc_cg *b = mkcg(a, "b");

	ASSERT_OK(epcg_misc_try_charge(EPC, b, PAGE, NULL));
	epcg_misc_cg_get(b);
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_OK(epcg_misc_cg_remove(a));
	epcg_misc_uncharge(EPC, b, PAGE);
	epcg_misc_cg_put(b);
	epcg_misc_destroy(m);
}

/* ---- E11: dying cgroups ------------------------------------------------ */

/* The cgroups tree walk from the root visits, in order. */
static int walk(struct epcg_misc *m, struct epcg_misc_cg *from,
		struct epcg_misc_cg **out, int max)
{
	struct epcg_misc_cg *pos = NULL;
	int n = 0;

	epcg_misc_tree_lock(m);
	while ((pos = epcg_misc_cg_next_pre(pos, from))) {
		ASSERT_CMP(n, <, max);
		out[n++] = pos;
	}
	epcg_misc_tree_unlock(m);
	return n;
}

TEST(e11_dying_cgroup_stays_counted_until_uncharged_then_freed)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct probe p = { .res = EPC };
	struct epcg_misc_cg *a, *b, *seen[8];

	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p));
	ASSERT_EQ(p.allocs, 1); /* the root's */
	a = mkcg(root, "a");
	b = mkcg(a, "b");
	ASSERT_OK(epcg_misc_try_charge(EPC, b, 2 * PAGE, NULL));
	epcg_misc_cg_get(b); /* the charged page's reference */
	ASSERT_OK(epcg_misc_cg_remove(b));

	ASSERT_TRUE(epcg_misc_cg_is_dying(b));
	ASSERT_EQ(p.frees, 0);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 2 * PAGE);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 2 * PAGE);
	ASSERT_EQ(walk(m, root, seen, 8), 3);
	ASSERT_TRUE(seen[2] == b);
	/* Its limit still applies to charges made to it. */
	ASSERT_OK(epcg_misc_set_max(b, EPC, 2 * PAGE));
	ASSERT_ERR(epcg_misc_try_charge(EPC, b, PAGE, NULL), EBUSY);

	epcg_misc_uncharge(EPC, b, 2 * PAGE);
	ASSERT_EQ(p.frees, 0);
	epcg_misc_cg_put(b);
	ASSERT_EQ(p.frees, 1);
	ASSERT_EQ(walk(m, root, seen, 8), 2);
	ASSERT_U64_EQ(epcg_misc_usage(a, EPC), 0);
	teardown(m, &a, 1);
	ASSERT_EQ(p.frees, 3);
	ASSERT_EQ(p.allocs, 3);
}

TEST(e11_last_put_frees_dying_ancestors_too)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct probe p = { .res = EPC };
	struct epcg_misc_cg *a, *b, *c, *seen[8];

	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p));
	a = mkcg(root, "a");
	b = mkcg(a, "b");
	c = mkcg(b, "c");
	ASSERT_OK(epcg_misc_try_charge(EPC, c, PAGE, NULL));
	epcg_misc_cg_get(c);
	ASSERT_OK(epcg_misc_cg_remove(c));
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_EQ(walk(m, root, seen, 8), 4);
	ASSERT_EQ(p.frees, 0);
	epcg_misc_uncharge(EPC, c, PAGE);
	epcg_misc_cg_put(c);
	ASSERT_EQ(p.frees, 3);
	ASSERT_EQ(walk(m, root, seen, 8), 1);
	epcg_misc_destroy(m);
	ASSERT_EQ(p.frees, 4);
}

/*
 * The put of epcg_misc_uncharge_put() frees a removed cgroup, and the
 * dying ancestors whose last reference it held, at that call; their
 * usage has reached 0 by then at every level, so the free callbacks and
 * a walk right after see the tree without them.
 */
struct usage_probe {
	struct probe p;
	struct epcg_misc_cg *root;
	uint64_t root_usage_at_free;
};

static void usage_probe_free(struct epcg_misc_cg *cg, void *data)
{
	struct usage_probe *u = data;

	u->root_usage_at_free = epcg_misc_usage(u->root, EPC);
	probe_free(cg, &u->p);
}

static int usage_probe_alloc(struct epcg_misc_cg *cg, void *data)
{
	struct usage_probe *u = data;

	return probe_alloc(cg, &u->p);
}

static const struct epcg_misc_res_ops usage_probe_ops = {
	.alloc = usage_probe_alloc,
	.free = usage_probe_free,
};

TEST(e11_uncharge_put_frees_dying_cgroups_at_the_last_reference)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct usage_probe u = { .p = { .res = EPC }, .root = root };
	struct epcg_misc_cg *a, *b, *seen[8];

	/* The probe's priv pointer is &u, which starts with the probe. */
	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &usage_probe_ops, &u));
	a = mkcg(root, "a");
	b = mkcg(a, "b");
	ASSERT_OK(epcg_misc_try_charge(EPC, b, 2 * PAGE, NULL));
	epcg_misc_cg_get(b); /* one page's reference */
	epcg_misc_cg_get(b); /* the other's */
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_OK(epcg_misc_cg_remove(a));
	u.root_usage_at_free = 12345;

	epcg_misc_uncharge_put(EPC, b, PAGE);
	ASSERT_EQ(u.p.frees, 0);
	ASSERT_EQ(walk(m, root, seen, 8), 3);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), PAGE);

	epcg_misc_uncharge_put(EPC, b, PAGE);
	ASSERT_EQ(u.p.frees, 2); /* b, then a, whose last reference b held */
	ASSERT_U64_EQ(u.root_usage_at_free, 0);
	ASSERT_EQ(walk(m, root, seen, 8), 1);
	ASSERT_U64_EQ(epcg_misc_usage(root, EPC), 0);
	epcg_misc_destroy(m);
	ASSERT_EQ(u.p.frees, 3);
}

/*
 * A task hands its pages references from a reserve it refills many at a
 * time (misc.c); whatever the reserve holds, a removed cgroup must be
 * freed at the very put that drops the last reference a page or the task
 * really holds: here once at the last page (the task left first), once
 * at the task's leaving (the pages went first).  More pages than one
 * refill, so the reserve is refilled on the way.
 */
TEST(e11_task_reference_reserve_frees_cgroup_at_last_real_put)
{
	enum { NR = 150 };
	struct epcg_misc *m = setup(100 * PAGE);
	struct probe p = { .res = EPC };
	static struct epcg_misc_cg *refs[NR];
	struct epcg_misc_cg *a, *b;
	struct epcg_task task;

	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p));
	a = mkcg(epcg_misc_root(m), "a");
	b = mkcg(epcg_misc_root(m), "b");
	epcg_task_init(&task, 1, -1);

	/* a: the task leaves before the last page goes. */
	epcg_misc_task_attach(&task, a);
	for (int i = 0; i < NR; i++) {
		refs[i] = epcg_misc_task_get_cg(m, &task);
		ASSERT_TRUE(refs[i] == a);
	}
	ASSERT_OK(epcg_misc_cg_remove(a));
	for (int i = 0; i < NR - 1; i++)
		epcg_misc_cg_put(refs[i]);
	epcg_misc_task_attach(&task, b);
	ASSERT_EQ(p.frees, 0);
	epcg_misc_cg_put(refs[NR - 1]);
	ASSERT_EQ(p.frees, 1);

	/* b: the pages go before the task leaves. */
	for (int i = 0; i < NR; i++)
		refs[i] = epcg_misc_task_get_cg(m, &task);
	ASSERT_OK(epcg_misc_cg_remove(b));
	for (int i = 0; i < NR; i++)
		epcg_misc_cg_put(refs[i]);
	ASSERT_EQ(p.frees, 1);
	epcg_misc_task_attach(&task, NULL);
	ASSERT_EQ(p.frees, 2);

	/* The root: no reserve, every reference counted one by one. */
	refs[0] = epcg_misc_task_get_cg(m, &task);
	ASSERT_TRUE(refs[0] == epcg_misc_root(m));
	ASSERT_EQ(epcg_atomic_load_relaxed(&refs[0]->refcount), 2);
	epcg_misc_cg_put(refs[0]);
	epcg_misc_destroy(m);
	ASSERT_EQ(p.frees, 3);
}

TEST(e11_free_runs_while_cgroup_is_still_in_tree_and_tryget_fails)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct probe p = { .res = EPC, .check_linked = true };
	struct epcg_misc_cg *a;

	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p));
	a = mkcg(epcg_misc_root(m), "a");
	ASSERT_TRUE(epcg_misc_cg_tryget(a));
	epcg_misc_cg_put(a);
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_EQ(p.frees, 1);
	ASSERT_TRUE(p.saw_linked);
	ASSERT_TRUE(p.saw_tryget_fail);
	p.check_linked = false;
	epcg_misc_destroy(m);
}

/* ---- resource provider callbacks ---------------------------------------- */

TEST(res_ops_alloc_runs_only_for_resources_with_capacity)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct probe pe = { .res = EPC }, ps = { .res = SEV };
	struct epcg_misc_cg *a;

	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &pe));
	ASSERT_OK(epcg_misc_set_res_ops(m, SEV, &probe_ops, &ps));
	ASSERT_EQ(pe.allocs, 1);
	ASSERT_EQ(ps.allocs, 0);
	a = mkcg(epcg_misc_root(m), "a");
	ASSERT_EQ(pe.allocs, 2);
	ASSERT_EQ(ps.allocs, 0);
	ASSERT_TRUE(epcg_misc_cg_priv(a, EPC) == &pe);
	ASSERT_NULL(epcg_misc_cg_priv(a, SEV));

	/* SEV appears later: new cgroups get it, a never had it. */
	ASSERT_OK(epcg_misc_set_capacity(m, SEV, 10));
	ASSERT_EQ(ps.allocs, 1); /* the root's */
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_EQ(pe.frees, 1);
	ASSERT_EQ(ps.frees, 0);
	epcg_misc_destroy(m);
	ASSERT_EQ(pe.frees, 2);
	ASSERT_EQ(ps.frees, 1);
}

TEST(res_ops_alloc_failure_unwinds_and_fails_create)
{
	struct epcg_misc *m = setup(100 * PAGE);
	struct probe ps = { .res = SEV }, pe = { .res = EPC };
	struct epcg_misc_cg *root = epcg_misc_root(m), *cg = NULL, *seen[4];

	ASSERT_OK(epcg_misc_set_capacity(m, SEV, 10));
	ASSERT_OK(epcg_misc_set_res_ops(m, SEV, &probe_ops, &ps));
	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &pe));
	/* SEV's alloc runs first and succeeds, then EPC's fails. */
	pe.fail_at = 2;
	pe.err = -ENOMEM;
	ASSERT_ERR(epcg_misc_cg_create(root, "a", &cg), ENOMEM);
	ASSERT_NULL(cg);
	ASSERT_EQ(ps.allocs, 2);
	ASSERT_EQ(ps.frees, 1);
	ASSERT_EQ(pe.frees, 0);
	ASSERT_EQ(walk(m, root, seen, 4), 1);
	/* Nothing is left counted: ops can still be replaced. */
	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, NULL, NULL));
	ASSERT_EQ(pe.frees, 1); /* the root's state */
	cg = mkcg(root, "a");
	ASSERT_EQ(ps.allocs, 3);
	teardown(m, &cg, 1);
	ASSERT_EQ(ps.frees, 3);
}

TEST(res_ops_root_alloc_runs_when_capacity_becomes_positive)
{
	struct epcg_misc *m;
	struct probe p = { .res = EPC, .fail_at = 1, .err = -ENOMEM };

	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p));
	ASSERT_EQ(p.allocs, 0);
	/* A failing root alloc leaves the capacity as it was. */
	ASSERT_ERR(epcg_misc_set_capacity(m, EPC, 10 * PAGE), ENOMEM);
	ASSERT_U64_EQ(epcg_misc_capacity(m, EPC), 0);
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, 10 * PAGE));
	ASSERT_EQ(p.allocs, 2);
	ASSERT_TRUE(epcg_misc_cg_priv(epcg_misc_root(m), EPC) == &p);
	/* Only once, whatever the capacity does later. */
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, 0));
	ASSERT_OK(epcg_misc_set_capacity(m, EPC, 20 * PAGE));
	ASSERT_EQ(p.allocs, 2);
	ASSERT_EQ(p.frees, 0);
	epcg_misc_destroy(m);
	ASSERT_EQ(p.frees, 1);
}

TEST(res_ops_registered_after_capacity_allocate_the_root)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct probe p = { .res = EPC, .fail_at = 1, .err = -ENOMEM };

	ASSERT_ERR(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p), ENOMEM);
	ASSERT_NULL(epcg_misc_cg_priv(epcg_misc_root(m), EPC));
	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p));
	ASSERT_EQ(p.allocs, 2);
	ASSERT_TRUE(epcg_misc_cg_priv(epcg_misc_root(m), EPC) == &p);
	epcg_misc_destroy(m);
	ASSERT_EQ(p.frees, 1);
}

TEST(res_ops_registration_errors)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct probe p = { .res = EPC };
	struct epcg_misc_cg *a;

	ASSERT_ERR(epcg_misc_set_res_ops(m, EPCG_MISC_RES_NR, &probe_ops, &p),
		   EINVAL);
	ASSERT_ERR(epcg_misc_set_res_ops(NULL, EPC, &probe_ops, &p), EINVAL);
	a = mkcg(epcg_misc_root(m), "a");
	ASSERT_ERR(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p), EBUSY);
	/* A dying cgroup still counts: its @free is yet to run. */
	epcg_misc_cg_get(a);
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_ERR(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p), EBUSY);
	epcg_misc_cg_put(a);
	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p));
	ASSERT_EQ(p.allocs, 1);
	ASSERT_EQ(p.frees, 0);
	epcg_misc_destroy(m);
	ASSERT_EQ(p.frees, 1);
}

TEST(res_ops_priv_pointer_per_resource)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	int x, y;

	epcg_misc_cg_set_priv(a, EPC, &x);
	epcg_misc_cg_set_priv(a, SEV, &y);
	epcg_misc_cg_set_priv(a, EPCG_MISC_RES_NR, &y);
	ASSERT_TRUE(epcg_misc_cg_priv(a, EPC) == &x);
	ASSERT_TRUE(epcg_misc_cg_priv(a, SEV) == &y);
	ASSERT_NULL(epcg_misc_cg_priv(a, SEV_ES));
	teardown(m, &a, 1);
}

/* ---- walks, names, paths --------------------------------------------- */

TEST(tree_next_pre_is_preorder_within_subtree)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[6], *seen[8];

	/* root { a { x { p } y } b { q } } */
	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "x");
	cgs[2] = mkcg(cgs[1], "p");
	cgs[3] = mkcg(cgs[0], "y");
	cgs[4] = mkcg(root, "b");
	cgs[5] = mkcg(cgs[4], "q");
	ASSERT_EQ(walk(m, root, seen, 8), 7);
	ASSERT_TRUE(seen[0] == root);
	for (int i = 0; i < 6; i++)
		ASSERT_TRUE(seen[i + 1] == cgs[i]);
	/* A subtree walk stays inside it. */
	ASSERT_EQ(walk(m, cgs[0], seen, 8), 4);
	ASSERT_TRUE(seen[0] == cgs[0]);
	ASSERT_TRUE(seen[1] == cgs[1]);
	ASSERT_TRUE(seen[2] == cgs[2]);
	ASSERT_TRUE(seen[3] == cgs[3]);
	ASSERT_EQ(walk(m, cgs[3], seen, 8), 1);
	ASSERT_EQ(walk(m, cgs[1], seen, 8), 2);
	teardown(m, cgs, 6);
}

TEST(tree_accessors_and_path)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[2];
	char buf[64];

	cgs[0] = mkcg(root, "a");
	cgs[1] = mkcg(cgs[0], "bb");
	ASSERT_TRUE(epcg_misc_cg_is_root(root));
	ASSERT_FALSE(epcg_misc_cg_is_root(cgs[0]));
	ASSERT_NULL(epcg_misc_cg_parent(root));
	ASSERT_TRUE(epcg_misc_cg_parent(cgs[1]) == cgs[0]);
	ASSERT_TRUE(epcg_misc_cg_controller(cgs[1]) == m);
	ASSERT_STREQ(epcg_misc_cg_name(root), "");
	ASSERT_STREQ(epcg_misc_cg_name(cgs[1]), "bb");
	ASSERT_EQ(epcg_misc_cg_depth(root), 0);
	ASSERT_EQ(epcg_misc_cg_depth(cgs[1]), 2);
	ASSERT_FALSE(epcg_misc_cg_is_dying(root));

	ASSERT_EQ(epcg_misc_cg_path(root, buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "/");
	ASSERT_EQ(epcg_misc_cg_path(cgs[0], buf, sizeof(buf)), 2);
	ASSERT_STREQ(buf, "/a");
	ASSERT_EQ(epcg_misc_cg_path(cgs[1], buf, sizeof(buf)), 5);
	ASSERT_STREQ(buf, "/a/bb");
	teardown(m, cgs, 2);
}

TEST(tree_path_truncates_like_snprintf)
{
	struct epcg_misc *m = setup(0);
	struct epcg_misc_cg *root = epcg_misc_root(m);
	struct epcg_misc_cg *cgs[2];
	char buf[8];

	cgs[0] = mkcg(root, "abc");
	cgs[1] = mkcg(cgs[0], "def");
	/* Whatever the size: the full length back, a cut prefix, a NUL. */
	for (size_t size = 0; size <= sizeof(buf); size++) {
		memset(buf, '#', sizeof(buf));
		ASSERT_EQ(epcg_misc_cg_path(cgs[1], buf, size), 8);
		if (size) {
			ASSERT_MEMEQ(buf, "/abc/def", size - 1);
			ASSERT_EQ(buf[size - 1], '\0');
		}
		for (size_t i = size; i < sizeof(buf); i++)
			ASSERT_EQ(buf[i], '#');
	}
	memset(buf, '#', sizeof(buf));
	ASSERT_EQ(epcg_misc_cg_path(root, buf, 1), 1);
	ASSERT_EQ(buf[0], '\0');
	ASSERT_EQ(epcg_misc_cg_path(root, NULL, 0), 1);
	teardown(m, cgs, 2);
}

/* ---- tasks ------------------------------------------------------------ */

TEST(task_without_cgroup_charges_root)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct epcg_task task = { .pid = 7, .node = -1 };
	struct epcg_misc_cg *cg;

	cg = epcg_misc_task_get_cg(m, NULL);
	ASSERT_TRUE(cg == epcg_misc_root(m));
	epcg_misc_cg_put(cg);
	cg = epcg_misc_task_get_cg(m, &task);
	ASSERT_TRUE(cg == epcg_misc_root(m));
	ASSERT_OK(epcg_misc_try_charge(EPC, cg, PAGE, NULL));
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(m), EPC), PAGE);
	epcg_misc_uncharge(EPC, cg, PAGE);
	epcg_misc_cg_put(cg);
	/* The root's references balance: destroy frees quietly. */
	epcg_misc_destroy(m);
}

TEST(task_attach_moves_and_holds_reference)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct probe p = { .res = EPC };
	struct epcg_task task = { .pid = 7, .node = -1 };
	struct epcg_misc_cg *a, *cg;

	ASSERT_OK(epcg_misc_set_res_ops(m, EPC, &probe_ops, &p));
	a = mkcg(epcg_misc_root(m), "a");
	epcg_misc_task_attach(&task, a);
	ASSERT_OK(epcg_misc_cg_remove(a));
	/* The task keeps its (now dying) cgroup alive. */
	ASSERT_EQ(p.frees, 0);
	cg = epcg_misc_task_get_cg(m, &task);
	ASSERT_TRUE(cg == a);
	epcg_misc_cg_put(cg);
	epcg_misc_task_attach(&task, epcg_misc_root(m));
	ASSERT_EQ(p.frees, 1);
	cg = epcg_misc_task_get_cg(m, &task);
	ASSERT_TRUE(cg == epcg_misc_root(m));
	epcg_misc_cg_put(cg);
	epcg_misc_task_attach(&task, NULL);
	ASSERT_NULL(task.cg);
	epcg_misc_task_attach(NULL, epcg_misc_root(m));
	epcg_misc_destroy(m);
	ASSERT_EQ(p.frees, 2);
}

/* ---- controller teardown ---------------------------------------------- */

TEST(destroy_with_leftover_cgroups_reports_once_and_leaks)
{
	struct epcg_misc *m = setup(10 * PAGE);
	struct epcg_misc_cg *a = mkcg(epcg_misc_root(m), "a");
	struct capture cap;
	char text[512];

	capture_begin(&cap);
	epcg_misc_destroy(m);
	epcg_misc_destroy(m);
	ASSERT_EQ(capture_end(&cap, text, sizeof(text)), 1);
	/* Not freed: the leftover cgroup and the controller still work. */
	ASSERT_OK(epcg_misc_try_charge(EPC, a, PAGE, NULL));
	epcg_misc_uncharge(EPC, a, PAGE);
	ASSERT_OK(epcg_misc_cg_remove(a));
	epcg_misc_destroy(m);
	epcg_misc_destroy(NULL);
}

/* ---- randomized model check ------------------------------------------- */

/*
 * A reference model of the controller, updated by the test in lockstep
 * with random operations, compared with the library after each one.
 */
#define MODEL_NODES 512
#define MODEL_CHARGES 64

struct model_node {
	struct epcg_misc_cg *cg;
	int parent;
	char name[8];
	bool removed, freed;
	unsigned charges; /* outstanding, each holding a reference */
	uint64_t usage[EPCG_MISC_RES_NR], max[EPCG_MISC_RES_NR];
	uint64_t peak[EPCG_MISC_RES_NR], events[EPCG_MISC_RES_NR];
	uint64_t events_local[EPCG_MISC_RES_NR];
};

struct model_charge {
	int node;
	enum epcg_misc_res res;
	uint64_t amount;
};

static struct {
	struct epcg_misc *m;
	struct model_node n[MODEL_NODES];
	int nr;
	struct model_charge c[MODEL_CHARGES];
	int nr_charges;
	uint64_t cap[EPCG_MISC_RES_NR];
	uint64_t rng;
	int stats[2]; /* charges that passed, that failed */
	int refused; /* creates and removes refused */
} md;

static uint64_t md_rand(uint64_t n)
{
	return epcg_test_rand(&md.rng) % n;
}

static int md_add_node(struct epcg_misc_cg *cg, int parent, const char *name)
{
	struct model_node *n = &md.n[md.nr];

	memset(n, 0, sizeof(*n));
	n->cg = cg;
	n->parent = parent;
	snprintf(n->name, sizeof(n->name), "%s", name);
	for (int r = 0; r < EPCG_MISC_RES_NR; r++)
		n->max[r] = EPCG_MISC_MAX;
	return md.nr++;
}

static bool md_is_ancestor(int anc, int node)
{
	for (; node >= 0; node = md.n[node].parent)
		if (node == anc)
			return true;
	return false;
}

/* Mark the nodes the library must have freed by now. */
static void md_update_freed(void)
{
	bool child_alive[MODEL_NODES] = { false };

	for (int i = md.nr - 1; i > 0; i--) {
		struct model_node *n = &md.n[i];
		bool alive = !n->removed || n->charges || child_alive[i];

		if (!alive)
			n->freed = true;
		else
			child_alive[n->parent] = true;
	}
}

/* The pre-order of @node's subtree among the @nr nodes in @alive. */
static int md_preorder(int node, const int *alive, int nr, int *out, int k)
{
	out[k++] = node;
	for (int i = 0; i < nr; i++)
		if (md.n[alive[i]].parent == node)
			k = md_preorder(alive[i], alive, nr, out, k);
	return k;
}

/* The invariants, after every operation. */
static void md_check(void)
{
	static struct epcg_misc_cg *seen[MODEL_NODES];
	static int alive[MODEL_NODES], want[MODEL_NODES];
	int nr_seen, nr_want, nr_alive = 0;

	md_update_freed();
	for (int i = 0; i < md.nr; i++) {
		struct model_node *n = &md.n[i];

		if (n->freed)
			continue;
		alive[nr_alive++] = i;
		ASSERT_EQ(epcg_misc_cg_is_dying(n->cg), n->removed);
		for (int r = 0; r < EPCG_MISC_RES_NR; r++) {
			uint64_t sum = 0;

			/* Page accounting: usage = sum of charges below. */
			for (int k = 0; k < md.nr_charges; k++)
				if (md.c[k].res == (enum epcg_misc_res)r &&
				    md_is_ancestor(i, md.c[k].node))
					sum += md.c[k].amount;
			ASSERT_U64_EQ(epcg_misc_usage(n->cg, r), sum);
			ASSERT_U64_EQ(n->usage[r], sum);
			ASSERT_U64_EQ(epcg_misc_max(n->cg, r), n->max[r]);
			ASSERT_U64_EQ(epcg_misc_peak(n->cg, r), n->peak[r]);
			ASSERT_CMP(n->peak[r], >=, sum);
			ASSERT_U64_EQ(epcg_misc_events(n->cg, r), n->events[r]);
			ASSERT_U64_EQ(epcg_misc_events_local(n->cg, r),
				      n->events_local[r]);
		}
	}
	nr_seen = walk(md.m, md.n[0].cg, seen, MODEL_NODES);
	nr_want = md_preorder(0, alive, nr_alive, want, 0);
	ASSERT_EQ(nr_seen, nr_want);
	for (int k = 0; k < nr_seen; k++)
		ASSERT_TRUE(seen[k] == md.n[want[k]].cg);
}

/* A node the test may pass to the library: not freed, and referenced. */
static int md_pick_usable(void)
{
	for (;;) {
		int i = (int)md_rand((uint64_t)md.nr);

		if (!md.n[i].freed && (!md.n[i].removed || md.n[i].charges))
			return i;
	}
}

static void md_charge(void)
{
	int i = md_pick_usable(), l, fail = -1;
	enum epcg_misc_res r = (enum epcg_misc_res)md_rand(EPCG_MISC_RES_NR);
	uint64_t amount = 1 + md_rand(16);
	struct epcg_misc_cg *failed = NULL;
	int err = epcg_misc_try_charge(r, md.n[i].cg, amount, &failed);

	if (!md.cap[r]) {
		ASSERT_ERR(err, EINVAL);
		return;
	}
	for (l = i; l >= 0; l = md.n[l].parent) {
		struct model_node *n = &md.n[l];
		uint64_t new = n->usage[r] + amount;

		if (new > n->max[r] || new > md.cap[r]) {
			fail = l;
			break;
		}
		n->usage[r] = new;
		n->peak[r] = EPCG_MAX(n->peak[r], new);
	}
	md.stats[fail >= 0]++;
	if (fail >= 0) {
		ASSERT_ERR(err, EBUSY);
		ASSERT_TRUE(failed == md.n[fail].cg);
		md.n[fail].events_local[r]++;
		for (l = fail; md.n[l].parent >= 0; l = md.n[l].parent)
			md.n[l].events[r]++;
		for (l = i; l != fail; l = md.n[l].parent)
			md.n[l].usage[r] -= amount;
		return;
	}
	ASSERT_OK(err);
	if (md.nr_charges == MODEL_CHARGES) {
		epcg_misc_uncharge(r, md.n[i].cg, amount);
		for (l = i; l >= 0; l = md.n[l].parent)
			md.n[l].usage[r] -= amount;
		return;
	}
	epcg_misc_cg_get(md.n[i].cg);
	md.n[i].charges++;
	md.c[md.nr_charges++] = (struct model_charge){ i, r, amount };
}

static void md_uncharge_one(int k)
{
	struct model_charge c = md.c[k];

	md.c[k] = md.c[--md.nr_charges];
	epcg_misc_uncharge(c.res, md.n[c.node].cg, c.amount);
	for (int l = c.node; l >= 0; l = md.n[l].parent)
		md.n[l].usage[c.res] -= c.amount;
	md.n[c.node].charges--;
	epcg_misc_cg_put(md.n[c.node].cg);
}

static void md_set_max(void)
{
	int i = md_pick_usable();
	enum epcg_misc_res r = (enum epcg_misc_res)md_rand(EPCG_MISC_RES_NR);
	uint64_t v = md_rand(3) == 0 ? EPCG_MISC_MAX : md_rand(100);
	int err = epcg_misc_set_max(md.n[i].cg, r, v);

	if (i == 0 || !md.cap[r]) {
		ASSERT_ERR(err, EINVAL);
		return;
	}
	ASSERT_OK(err);
	md.n[i].max[r] = v;
}

static void md_create(void)
{
	int p, k, err, want = 0;
	struct epcg_misc_cg *cg = NULL;
	char name[8];

	if (md.nr == MODEL_NODES)
		return;
	do
		p = (int)md_rand((uint64_t)md.nr);
	while (md.n[p].freed);
	/* Sometimes reuse a name, to hit EEXIST. */
	k = (int)md_rand((uint64_t)md.nr);
	if (k && md_rand(2))
		snprintf(name, sizeof(name), "%s", md.n[k].name);
	else
		snprintf(name, sizeof(name), "n%d", md.nr);
	for (int i = 1; i < md.nr; i++)
		if (md.n[i].parent == p && !md.n[i].removed &&
		    !strcmp(md.n[i].name, name))
			want = -EEXIST;
	if (md.n[p].removed)
		want = -ENOENT;
	err = epcg_misc_cg_create(md.n[p].cg, name, &cg);
	ASSERT_EQ(err, want);
	md.refused += !!err;
	if (!err)
		md_add_node(cg, p, name);
}

static void md_remove(void)
{
	int i, want = 0;
	int cand[MODEL_NODES], nr_cand = 0;

	for (int k = 1; k < md.nr; k++)
		if (!md.n[k].freed)
			cand[nr_cand++] = k;
	if (!nr_cand)
		return;
	i = cand[md_rand((uint64_t)nr_cand)];
	for (int c = i + 1; c < md.nr; c++)
		if (md.n[c].parent == i && !md.n[c].removed)
			want = -EBUSY;
	if (md.n[i].removed)
		want = -ENOENT;
	ASSERT_EQ(epcg_misc_cg_remove(md.n[i].cg), want);
	md.refused += !!want;
	if (!want)
		md.n[i].removed = true;
}

static void md_set_capacity(void)
{
	enum epcg_misc_res r = (enum epcg_misc_res)md_rand(EPCG_MISC_RES_NR);
	uint64_t v = md_rand(4) == 0 ? 0 : 20 + md_rand(200);

	ASSERT_OK(epcg_misc_set_capacity(md.m, r, v));
	md.cap[r] = v;
}

TEST(accounting_invariant_holds_over_random_operations)
{
	md.rng = epcg_test_seed();
	md.m = setup(0);
	md_add_node(epcg_misc_root(md.m), -1, "");
	for (int step = 0; step < 20000; step++) {
		uint64_t op = md_rand(100);

		if (op < 35)
			md_charge();
		else if (op < 65 && md.nr_charges)
			md_uncharge_one((int)md_rand((uint64_t)md.nr_charges));
		else if (op < 75)
			md_set_max();
		else if (op < 85)
			md_create();
		else if (op < 93)
			md_remove();
		else
			md_set_capacity();
		md_check();
	}
	while (md.nr_charges) {
		md_uncharge_one(md.nr_charges - 1);
		md_check();
	}
	for (int i = md.nr - 1; i > 0; i--) {
		if (!md.n[i].removed) {
			ASSERT_OK(epcg_misc_cg_remove(md.n[i].cg));
			md.n[i].removed = true;
		}
		md_check();
	}
	for (int i = 1; i < md.nr; i++)
		ASSERT_TRUE(md.n[i].freed);
	epcg_test_note("%d cgroups, %d charges, %d failed, %d refused", md.nr,
		       md.stats[0], md.stats[1], md.refused);
	epcg_misc_destroy(md.m);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(m1_resources_listed_in_v17_order),
	TEST_ENTRY(m1_capacity_defaults_to_zero_and_is_settable),
	TEST_ENTRY(m1_charge_with_capacity_zero_is_einval_and_counts_nothing),
	TEST_ENTRY(m2_new_cgroup_starts_at_defaults),
	TEST_ENTRY(m6_invalid_resource_or_null_cgroup_is_einval),
	TEST_ENTRY(m6_zero_amount_succeeds_without_effect_after_capacity_check),
	TEST_ENTRY(m6_charge_adds_at_every_level_to_root),
	TEST_ENTRY(m6_limit_is_inclusive),
	TEST_ENTRY(m6_limit_failure_at_leaf_counts_leaf_and_ancestors_not_root),
	TEST_ENTRY(
		m6_failure_counts_events_on_failing_level_and_ancestors_not_root),
	TEST_ENTRY(m6_failure_undoes_every_level_including_failing_one),
	TEST_ENTRY(m6_peak_raised_below_failing_level_stays_raised),
	TEST_ENTRY(m6_charge_larger_than_capacity_fails_at_the_leaf),
	TEST_ENTRY(m6_capacity_failure_at_non_root_level),
	TEST_ENTRY(m6_failure_at_root_changes_no_visible_events_file),
	TEST_ENTRY(m6_notify_called_for_each_changed_events_file),
	TEST_ENTRY(m6_notify_not_called_on_success_and_can_be_removed),
	TEST_ENTRY(m6_charge_that_would_wrap_u64_fails),
	TEST_ENTRY(m7_uncharge_subtracts_at_every_level),
	TEST_ENTRY(m7_uncharge_of_nothing_is_a_noop),
	TEST_ENTRY(m7_uncharge_ignores_capacity),
	TEST_ENTRY(m7_charge_stays_with_cgroup_after_task_moves),
	TEST_ENTRY(m7_uncharge_after_remove_reaches_ancestors),
	TEST_ENTRY(m7_underflow_warns_once_and_is_not_clamped),
	TEST_ENTRY(
		m7_uncharge_put_uncharges_every_level_then_drops_the_reference),
	TEST_ENTRY(m7_uncharge_put_underflow_warns_once_and_still_puts),
	TEST_ENTRY(m8_current_is_hierarchical),
	TEST_ENTRY(m8_peak_never_decreases),
	TEST_ENTRY(m8_events_only_increase),
	TEST_ENTRY(m5_set_max_is_non_preemptive),
	TEST_ENTRY(m5_set_max_above_capacity_is_accepted),
	TEST_ENTRY(m5_set_max_errors),
	TEST_ENTRY_TIMEOUT(m9_concurrent_charges_never_commit_above_max, 120),
	TEST_ENTRY(t4_create_duplicate_name_is_eexist),
	TEST_ENTRY(t4_create_bad_names_are_einval),
	TEST_ENTRY(t4_create_under_removed_parent_is_enoent),
	TEST_ENTRY(t4_remove_with_live_children_is_ebusy),
	TEST_ENTRY(t4_remove_root_is_einval_and_twice_is_enoent),
	TEST_ENTRY(t4_name_is_free_again_after_remove),
	TEST_ENTRY(t4_names_stay_unique_per_parent_with_many_children),
	TEST_ENTRY(t4_remove_with_only_dying_children_succeeds),
	TEST_ENTRY(e11_dying_cgroup_stays_counted_until_uncharged_then_freed),
	TEST_ENTRY(e11_last_put_frees_dying_ancestors_too),
	TEST_ENTRY(e11_uncharge_put_frees_dying_cgroups_at_the_last_reference),
	TEST_ENTRY(e11_task_reference_reserve_frees_cgroup_at_last_real_put),
	TEST_ENTRY(
		e11_free_runs_while_cgroup_is_still_in_tree_and_tryget_fails),
	TEST_ENTRY(res_ops_alloc_runs_only_for_resources_with_capacity),
	TEST_ENTRY(res_ops_alloc_failure_unwinds_and_fails_create),
	TEST_ENTRY(res_ops_root_alloc_runs_when_capacity_becomes_positive),
	TEST_ENTRY(res_ops_registered_after_capacity_allocate_the_root),
	TEST_ENTRY(res_ops_registration_errors),
	TEST_ENTRY(res_ops_priv_pointer_per_resource),
	TEST_ENTRY(tree_next_pre_is_preorder_within_subtree),
	TEST_ENTRY(tree_accessors_and_path),
	TEST_ENTRY(tree_path_truncates_like_snprintf),
	TEST_ENTRY(task_without_cgroup_charges_root),
	TEST_ENTRY(task_attach_moves_and_holds_reference),
	TEST_ENTRY(destroy_with_leftover_cgroups_reports_once_and_leaks),
	TEST_ENTRY_TIMEOUT(accounting_invariant_holds_over_random_operations,
			   120),
};

TEST_MAIN(tests)
