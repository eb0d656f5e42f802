// SPDX-License-Identifier: MIT
/*
 * Enclaves on a whole machine (EPC, leaves, EPC cgroup, real reclaimer,
 * live execution context): lifecycle, VA sizing, paging round trips, the
 * fault path, release, the SIGBUS outcome on every kind of tampering and
 * replay of the backing store, the E5 outcomes at a limit, EDMM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/encl.h>
#include <epcg/encls.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>
#include <unistd.h>

#include "sgx/encl-internal.h"
#include "sgx/sgx-internal.h"
#include "test.h"

#define PG EPCG_PAGE_SIZE
#define RES EPCG_MISC_RES_SGX_EPC
#define RW (EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE)

struct fx {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_misc_cg *root;
	struct epcg_misc_cg *cg; /* the test task's cgroup */
	struct epcg_task task;
};

static void fx_setup(struct fx *f, uint64_t epc_pages)
{
	struct epcg_epc_section_spec sec = { epc_pages * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, EPCG_SGX_POLICY_V17 };

	memset(f, 0, sizeof(*f));
	ASSERT_OK(epcg_exec_live_create(1, &f->ex));
	ASSERT_OK(epcg_misc_create(&f->m));
	ASSERT_OK(epcg_sgx_create(f->m, f->ex, &cfg, &f->sgx));
	f->root = epcg_misc_root(f->m);
	ASSERT_OK(epcg_misc_cg_create(f->root, "t", &f->cg));
	epcg_task_init(&f->task, 100, -1);
	epcg_misc_task_attach(&f->task, f->cg);
	epcg_task_set_current(&f->task);
}

static void fx_check(struct fx *f)
{
	char why[256];

	epcg_exec_flush(f->ex);
	if (epcg_sgx_check(f->sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "invariant: %s", why);
}

static void fx_teardown(struct fx *f)
{
	struct epcg_epc *epc = epcg_sgx_epc(f->sgx);

	/* A batch of ksgxd may still be freeing the frames it wrote out. */
	for (int i = 0;
	     i < 1000 && epcg_epc_nr_free(epc) != epcg_epc_nr_pages(epc); i++)
		usleep(1000);
	fx_check(f);
	ASSERT_U64_EQ(epcg_misc_usage(f->root, RES), 0); /* E12 */
	ASSERT_U64_EQ(epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc));
	epcg_task_set_current(NULL);
	epcg_misc_task_attach(&f->task, NULL);
	ASSERT_OK(epcg_misc_cg_remove(f->cg));
	epcg_exec_flush(f->ex);
	epcg_sgx_destroy(f->sgx);
	epcg_misc_destroy(f->m);
	epcg_exec_destroy(f->ex);
}

static uint64_t usage_pages(struct epcg_misc_cg *cg)
{
	return epcg_misc_usage(cg, RES) / PG;
}

/* The content of page @idx, version @ver, of an enclave tagged @tag. */
static void pattern(uint8_t *buf, unsigned tag, uint64_t idx, unsigned ver)
{
	uint64_t seed = ((uint64_t)tag << 40) ^ (idx << 16) ^ ver;

	for (unsigned i = 0; i < PG; i += 8) {
		uint64_t v = (seed + i) * 0x9e3779b97f4a7c15ull;

		memcpy(buf + i, &v, 8);
	}
}

/* An initialized enclave of @nr REG pages (pattern @tag, version 0). */
static struct epcg_encl *build_on(struct epcg_sgx *sgx, uint64_t size,
				  uint64_t nr, unsigned tag)
{
	uint8_t *src = malloc(nr * PG);
	struct epcg_encl *e;
	uint64_t added;

	ASSERT_NOT_NULL(src);
	for (uint64_t i = 0; i < nr; i++)
		pattern(src + i * PG, tag, i, 0);
	ASSERT_OK(epcg_encl_create(sgx, size, &e));
	ASSERT_OK(epcg_encl_add_pages(e, 0, src, nr, EPCG_ENCL_PAGE_REG, RW,
				      &added));
	ASSERT_U64_EQ(added, nr);
	ASSERT_OK(epcg_encl_init(e, NULL));
	free(src);
	return e;
}

static struct epcg_encl *build(struct fx *f, uint64_t size, uint64_t nr,
			       unsigned tag)
{
	return build_on(f->sgx, size, nr, tag);
}

static struct epcg_encl_stats stats(struct epcg_encl *e)
{
	struct epcg_encl_stats st;

	epcg_encl_stats(e, &st);
	return st;
}

/* Reclaim until every page of @e is out (young pages need two passes). */
static void evict_all(struct fx *f, struct epcg_encl *e)
{
	for (int i = 0; i < 1000 && stats(e).resident; i++)
		epcg__sgx_cgroup_reclaim_pages(f->sgx, f->root, 4096);
	ASSERT_U64_EQ(stats(e).resident, 0);
}

static void check_page(struct epcg_encl *e, struct epcg_encl_thread *t,
		       unsigned tag, uint64_t idx, unsigned ver)
{
	static uint8_t want[PG], got[PG];

	pattern(want, tag, idx, ver);
	ASSERT_OK(epcg_encl_access(e, t, idx * PG, EPCG_ENCL_READ, got, PG));
	ASSERT_MEMEQ(got, want, PG);
}

static void write_page(struct epcg_encl *e, struct epcg_encl_thread *t,
		       unsigned tag, uint64_t idx, unsigned ver)
{
	static uint8_t buf[PG];

	pattern(buf, tag, idx, ver);
	ASSERT_OK(epcg_encl_access(e, t, idx * PG, EPCG_ENCL_WRITE, buf, PG));
}

/* ---- lifecycle ---- */

TEST(lifecycle)
{
	static uint8_t src[4 * PG], buf[64];
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;
	uint64_t n;

	fx_setup(&f, 1024);
	ASSERT_OK(epcg_encl_create(f.sgx, 16 * PG, &e));
	ASSERT_U64_EQ(usage_pages(f.cg), 2); /* SECS + VA */
	ASSERT_ERR(epcg_encl_enter(e, &t), EINVAL); /* not initialized */
	for (unsigned i = 0; i < 3; i++)
		pattern(src + i * PG, 1, i, 0);
	ASSERT_OK(
		epcg_encl_add_pages(e, 0, src, 3, EPCG_ENCL_PAGE_REG, RW, &n));
	ASSERT_U64_EQ(n, 3);
	memset(src, 0, PG);
	ASSERT_OK(epcg_encl_add_pages(e, 8 * PG, src, 1, EPCG_ENCL_PAGE_TCS, 0,
				      &n));
	ASSERT_ERR(epcg_encl_add_pages(e, 0, src, 1, EPCG_ENCL_PAGE_REG, RW,
				       &n),
		   EEXIST);
	ASSERT_U64_EQ(n, 0);
	ASSERT_U64_EQ(usage_pages(f.cg), 6);
	ASSERT_OK(epcg_encl_init(e, NULL));
	ASSERT_ERR(epcg_encl_init(e, NULL), EINVAL);
	ASSERT_ERR(epcg_encl_add_pages(e, 9 * PG, src, 1, EPCG_ENCL_PAGE_REG,
				       RW, &n),
		   EINVAL);

	ASSERT_OK(epcg_encl_enter(e, &t));
	for (unsigned i = 0; i < 3; i++)
		check_page(e, t, 1, i, 0);
	/* A range across a page boundary, and the TCS page (read-write). */
	memset(buf, 0x5c, sizeof(buf));
	ASSERT_OK(epcg_encl_access(e, t, PG - 32, EPCG_ENCL_WRITE, buf, 64));
	memset(buf, 0, sizeof(buf));
	ASSERT_OK(epcg_encl_access(e, t, PG - 32, EPCG_ENCL_READ, buf, 64));
	for (unsigned i = 0; i < 64; i++)
		ASSERT_EQ(buf[i], 0x5c);
	ASSERT_OK(epcg_encl_access(e, t, 8 * PG, EPCG_ENCL_WRITE, buf, 8));
	ASSERT_ERR(epcg_encl_access(e, t, 15 * PG, EPCG_ENCL_READ, buf, 2 * PG),
		   EINVAL);
	ASSERT_U64_EQ(stats(e).accesses, 3 + 2 + 2 + 1);
	ASSERT_U64_EQ(stats(e).faults, 0);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	ASSERT_U64_EQ(usage_pages(f.cg), 0);
	fx_teardown(&f);
}

TEST(bad_arguments)
{
	static uint8_t src[PG];
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;
	uint64_t n;

	fx_setup(&f, 256);
	ASSERT_ERR(epcg_encl_create(NULL, 16 * PG, &e), EINVAL);
	ASSERT_ERR(epcg_encl_create(f.sgx, 12 * PG, &e), EINVAL);
	ASSERT_ERR(epcg_encl_create(f.sgx, PG, &e), EINVAL);
	ASSERT_ERR(epcg_encl_create(f.sgx, EPCG_ENCL_MAX_SIZE * 2, &e), EINVAL);
	ASSERT_OK(epcg_encl_create(f.sgx, 4 * PG, &e));
	ASSERT_ERR(epcg_encl_add_pages(e, 1, src, 1, EPCG_ENCL_PAGE_REG, RW,
				       &n),
		   EINVAL);
	ASSERT_ERR(epcg_encl_add_pages(e, 3 * PG, src, 2, EPCG_ENCL_PAGE_REG,
				       RW, &n),
		   EINVAL);
	ASSERT_ERR(epcg_encl_add_pages(e, 0, src, 1, EPCG_ENCL_PAGE_REG,
				       EPCG_ENCL_PROT_WRITE, &n),
		   EINVAL);
	ASSERT_ERR(epcg_encl_add_pages(e, 0, src, 1, EPCG_ENCL_PAGE_TCS, RW,
				       &n),
		   EINVAL);
	ASSERT_ERR(epcg_encl_add_pages(e, 0, src, 1, EPCG_ENCL_PAGE_TRIM, 0,
				       &n),
		   EINVAL);
	/* A second build call while one runs. */
	ASSERT_OK(epcg__encl_build_begin(e));
	ASSERT_ERR(epcg_encl_add_pages(e, 0, src, 1, EPCG_ENCL_PAGE_REG, RW,
				       &n),
		   EBUSY);
	ASSERT_ERR(epcg_encl_init(e, NULL), EBUSY);
	epcg__encl_build_end(e);
	ASSERT_OK(epcg_encl_add_pages(e, 0, src, 1, EPCG_ENCL_PAGE_REG,
				      EPCG_ENCL_PROT_READ, &n));
	ASSERT_OK(epcg_encl_init(e, NULL));
	ASSERT_OK(epcg_encl_enter(e, &t));
	ASSERT_ERR(epcg_encl_access(e, t, 0, EPCG_ENCL_WRITE, src, 1), EACCES);
	ASSERT_OK(epcg_encl_access(e, t, 0, EPCG_ENCL_READ, src, 1));
	ASSERT_ERR(epcg_encl_access(e, NULL, 0, EPCG_ENCL_READ, src, 1),
		   EINVAL);
	ASSERT_ERR(epcg_encl_access(e, t, 0, EPCG_ENCL_ACCESS_NR, src, 1),
		   EINVAL);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	epcg_encl_release(NULL);
	fx_teardown(&f);
}

TEST(init_checks_the_measurement)
{
	struct epcg_sgx_sigstruct sig = { .attribute_mask = 0 };
	static uint8_t src[2 * PG];
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 256);
	ASSERT_OK(epcg_encl_create(f.sgx, 4 * PG, &e));
	pattern(src, 3, 0, 0);
	pattern(src + PG, 3, 1, 0);
	ASSERT_OK(epcg_encl_add_pages(e, 0, src, 2, EPCG_ENCL_PAGE_REG, RW,
				      NULL));
	memset(sig.enclave_hash, 0x11, sizeof(sig.enclave_hash));
	ASSERT_ERR(epcg_encl_init(e, &sig), EPERM);
	/* Attributes the signer does not allow. */
	sig.attribute_mask = EPCG_SGX_ATTR_MODE64BIT;
	ASSERT_ERR(epcg_encl_init(e, &sig), EPERM);
	ASSERT_OK(epcg_encl_init(e, NULL)); /* our own signer */
	epcg_encl_release(e);
	fx_teardown(&f);
}

/* ---- VA sizing (H2) ---- */

TEST(va_page_per_512_pages)
{
	uint8_t *src = calloc(1024, PG);
	struct epcg_encl *e;
	struct fx f;
	uint64_t n;

	ASSERT_NOT_NULL(src);
	fx_setup(&f, 2048);
	ASSERT_OK(epcg_encl_create(f.sgx, 2048 * PG, &e));
	ASSERT_U64_EQ(stats(e).va_pages, 1);
	/* The SECS counts: 511 pages fill the first VA page's 512 slots. */
	ASSERT_OK(epcg_encl_add_pages(e, 0, src, 511, EPCG_ENCL_PAGE_REG, RW,
				      &n));
	ASSERT_U64_EQ(stats(e).va_pages, 1);
	ASSERT_OK(epcg_encl_add_pages(e, 511 * PG, src, 1, EPCG_ENCL_PAGE_REG,
				      RW, &n));
	ASSERT_U64_EQ(stats(e).va_pages, 2);
	ASSERT_OK(epcg_encl_add_pages(e, 512 * PG, src, 511, EPCG_ENCL_PAGE_REG,
				      RW, &n));
	ASSERT_U64_EQ(stats(e).va_pages, 2);
	ASSERT_OK(epcg_encl_add_pages(e, 1023 * PG, src, 1, EPCG_ENCL_PAGE_REG,
				      RW, &n));
	ASSERT_U64_EQ(stats(e).va_pages, 3);
	ASSERT_U64_EQ(stats(e).pages, 1024);
	/* Every page, the SECS and the VA pages are charged. */
	ASSERT_U64_EQ(usage_pages(f.cg), 1024 + 1 + 3);
	/* Evicting them all needs no allocation: one slot each. */
	ASSERT_OK(epcg_encl_init(e, NULL));
	evict_all(&f, e);
	ASSERT_U64_EQ(stats(e).secs_resident, 0);
	ASSERT_U64_EQ(usage_pages(f.cg), 3);
	ASSERT_U64_EQ(stats(e).ewb, 1025);
	epcg_encl_release(e);
	free(src);
	fx_teardown(&f);
}

/* ---- paging round trips ---- */

TEST(round_trip_through_eviction)
{
	struct epcg_encl_thread *t;
	struct epcg_sgx_stats cs;
	struct epcg_encl_stats st;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 64 * PG, 64, 7);
	ASSERT_OK(epcg_encl_enter(e, &t));
	evict_all(&f, e);
	st = stats(e);
	ASSERT_U64_EQ(st.secs_resident, 0);
	ASSERT_U64_EQ(st.ewb, 65); /* the pages and the SECS */
	ASSERT_U64_EQ(usage_pages(f.cg), 1); /* the VA page stays */
	for (uint64_t i = 0; i < 64; i++)
		check_page(e, t, 7, i, 0);
	st = stats(e);
	ASSERT_U64_EQ(st.eldu, 65);
	ASSERT_U64_EQ(st.faults, 64);
	ASSERT_U64_EQ(st.resident, 64);
	/* Writes survive a second round trip. */
	for (uint64_t i = 0; i < 64; i += 2)
		write_page(e, t, 7, i, 1);
	evict_all(&f, e);
	for (uint64_t i = 0; i < 64; i++)
		check_page(e, t, 7, i, i % 2 ? 0 : 1);
	ASSERT_OK(epcg_sgx_cg_stats(f.cg, &cs));
	ASSERT_U64_EQ(cs.ewb, 130);
	ASSERT_U64_EQ(cs.eldu, 130);
	ASSERT_U64_EQ(cs.faults, 128);
	ASSERT_U64_EQ(cs.sigbus, 0);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(fault_reloads_secs_first)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 4, 2);
	ASSERT_OK(epcg_encl_enter(e, &t));
	evict_all(&f, e);
	ASSERT_U64_EQ(stats(e).secs_resident, 0);
	check_page(e, t, 2, 3, 0);
	ASSERT_U64_EQ(stats(e).secs_resident, 1);
	ASSERT_U64_EQ(stats(e).eldu, 2); /* SECS, then the page */
	ASSERT_U64_EQ(stats(e).faults, 1);
	ASSERT_TRUE(epcg__encl_page_resident(e, 3 * PG));
	ASSERT_FALSE(epcg__encl_page_resident(e, 2 * PG));
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(small_epc_round_trip)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;

	/* 96 frames for 256 pages: adding and reading both have to page. */
	fx_setup(&f, 96);
	e = build(&f, 256 * PG, 256, 9);
	ASSERT_OK(epcg_encl_enter(e, &t));
	for (int round = 0; round < 3; round++)
		for (uint64_t i = 0; i < 256; i++)
			check_page(e, t, 9, i, 0);
	ASSERT_CMP(stats(e).ewb, >=, 256 - 96);
	ASSERT_CMP(stats(e).eldu, >=, 256);
	ASSERT_FALSE(stats(e).faulted);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(threads_are_forced_out_and_reenter)
{
	struct epcg_encl_thread *t1, *t2;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 8, 4);
	ASSERT_OK(epcg_encl_enter(e, &t1));
	ASSERT_OK(epcg_encl_enter(e, &t2));
	/* Threads inside since before the EBLOCK: ETRACK, then the IPI. */
	evict_all(&f, e);
	ASSERT_CMP(stats(e).etrack, >=, 1);
	ASSERT_CMP(stats(e).forced_exits, >=, 2);
	ASSERT_TRUE(epcg__encl_kicked(t1));
	/* They re-enter by themselves at their next access. */
	check_page(e, t1, 4, 0, 0);
	ASSERT_FALSE(epcg__encl_kicked(t1));
	check_page(e, t2, 4, 1, 0);
	epcg_encl_exit(t1);
	epcg_encl_exit(t2);
	epcg_encl_release(e);
	fx_teardown(&f);
}

/* ---- release (H10, E12) ---- */

TEST(release_frees_everything)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *a, *b;
	struct fx f;

	fx_setup(&f, 1024);
	a = build(&f, 1024 * PG, 600, 1); /* two VA pages */
	ASSERT_OK(epcg_encl_enter(a, &t));
	evict_all(&f, a);
	/* Some pages back in, some out; SECS in. */
	for (uint64_t i = 0; i < 600; i += 3)
		check_page(a, t, 1, i, 0);
	epcg_encl_exit(t);
	b = build(&f, 64 * PG, 64, 2);
	ASSERT_U64_EQ(usage_pages(f.cg), 200 + 1 + 2 + 64 + 1 + 1);
	fx_check(&f);
	epcg_encl_release(a);
	ASSERT_U64_EQ(usage_pages(f.cg), 64 + 1 + 1);
	fx_check(&f);
	evict_all(&f, b); /* released with everything out */
	epcg_encl_release(b);
	ASSERT_U64_EQ(usage_pages(f.cg), 0);
	fx_teardown(&f); /* all frames free, checker clean */
}

TEST(release_with_charges_in_two_cgroups)
{
	struct epcg_misc_cg *other;
	struct epcg_encl_thread *t;
	struct epcg_task task2;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 32 * PG, 32, 5);
	evict_all(&f, e);
	/* Another task, in another cgroup, faults the pages back in (E1). */
	ASSERT_OK(epcg_misc_cg_create(f.root, "u", &other));
	epcg_task_init(&task2, 101, -1);
	epcg_misc_task_attach(&task2, other);
	epcg_task_set_current(&task2);
	ASSERT_OK(epcg_encl_enter(e, &t));
	for (uint64_t i = 0; i < 32; i++)
		check_page(e, t, 5, i, 0);
	epcg_encl_exit(t);
	ASSERT_U64_EQ(usage_pages(other), 33); /* pages and SECS */
	ASSERT_U64_EQ(usage_pages(f.cg), 1); /* the VA page */
	epcg_task_set_current(&f.task);
	epcg_encl_release(e);
	ASSERT_U64_EQ(usage_pages(other), 0);
	ASSERT_U64_EQ(usage_pages(f.cg), 0);
	epcg_misc_task_attach(&task2, NULL);
	ASSERT_OK(epcg_misc_cg_remove(other));
	fx_teardown(&f);
}

/* ---- the SIGBUS outcome: tampering and replay ---- */

struct blob {
	uint8_t data[PG];
	uint8_t pcmd[EPCG_ENCL_PCMD_SIZE];
};

static void blob_read(struct epcg_encl *e, uint64_t idx, struct blob *b)
{
	int fd = epcg__encl_backing_fd(e);

	ASSERT_EQ(pread(fd, b->data, PG, epcg__encl_backing_page_off(e, idx)),
		  PG);
	ASSERT_EQ(pread(fd, b->pcmd, sizeof(b->pcmd),
			epcg__encl_backing_pcmd_off(e, idx)),
		  sizeof(b->pcmd));
}

static void blob_write(struct epcg_encl *e, uint64_t idx, const struct blob *b)
{
	int fd = epcg__encl_backing_fd(e);

	ASSERT_EQ(pwrite(fd, b->data, PG, epcg__encl_backing_page_off(e, idx)),
		  PG);
	ASSERT_EQ(pwrite(fd, b->pcmd, sizeof(b->pcmd),
			 epcg__encl_backing_pcmd_off(e, idx)),
		  sizeof(b->pcmd));
}

/*
 * Access page @idx of @e expecting the SIGBUS outcome: -EFAULT, nothing
 * copied, the enclave marked faulted, and no later access succeeding.
 */
static void expect_sigbus(struct epcg_encl *e, struct epcg_encl_thread *t,
			  uint64_t idx)
{
	static uint8_t buf[PG];

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_ERR(epcg_encl_access(e, t, idx * PG, EPCG_ENCL_READ, buf, PG),
		   EFAULT);
	for (unsigned i = 0; i < PG; i++)
		ASSERT_EQ(buf[i], 0xa5);
	ASSERT_TRUE(epcg_encl_faulted(e));
	ASSERT_U64_EQ(stats(e).sigbus, 1);
	ASSERT_FALSE(epcg__encl_page_resident(e, idx * PG));
	ASSERT_ERR(epcg_encl_access(e, t, 0, EPCG_ENCL_READ, buf, 1), EFAULT);
}

/* Two evicted enclaves; @tamper spoils @a's page 5; @b must not notice. */
static void tamper_case(void (*tamper)(struct epcg_encl *a, struct epcg_encl *b,
				       struct epcg_encl_thread *ta))
{
	struct epcg_encl_thread *ta, *tb;
	struct epcg_sgx_stats cs;
	struct epcg_encl *a, *b;
	struct fx f;

	fx_setup(&f, 1024);
	a = build(&f, 16 * PG, 16, 1);
	b = build(&f, 16 * PG, 16, 2);
	ASSERT_OK(epcg_encl_enter(a, &ta));
	ASSERT_OK(epcg_encl_enter(b, &tb));
	evict_all(&f, a);
	evict_all(&f, b);
	tamper(a, b, ta);
	/* An untouched page of the same enclave still loads... */
	check_page(a, ta, 1, 4, 0);
	expect_sigbus(a, ta, 5);
	/* ...and the other enclave is unaffected. */
	for (uint64_t i = 0; i < 16; i++)
		check_page(b, tb, 2, i, 0);
	ASSERT_FALSE(epcg_encl_faulted(b));
	ASSERT_OK(epcg_sgx_cg_stats(f.cg, &cs));
	ASSERT_U64_EQ(cs.sigbus, 1);
	epcg_encl_exit(ta);
	epcg_encl_exit(tb);
	epcg_encl_release(a);
	epcg_encl_release(b);
	fx_teardown(&f);
}

static void flip_ciphertext(struct epcg_encl *a, struct epcg_encl *b,
			    struct epcg_encl_thread *ta)
{
	struct blob bl;

	blob_read(a, 5, &bl);
	bl.data[1234] ^= 0x10;
	blob_write(a, 5, &bl);
}

static void flip_pcmd(struct epcg_encl *a, struct epcg_encl *b,
		      struct epcg_encl_thread *ta)
{
	struct blob bl;

	blob_read(a, 5, &bl);
	bl.pcmd[0] ^= EPCG_SGX_SECINFO_X; /* claim it is executable */
	blob_write(a, 5, &bl);
}

static void flip_mac(struct epcg_encl *a, struct epcg_encl *b,
		     struct epcg_encl_thread *ta)
{
	struct blob bl;

	blob_read(a, 5, &bl);
	bl.pcmd[EPCG_ENCL_PCMD_SIZE - 1] ^= 1;
	blob_write(a, 5, &bl);
}

static void swap_blobs(struct epcg_encl *a, struct epcg_encl *b,
		       struct epcg_encl_thread *ta)
{
	struct blob b5, b6;

	blob_read(a, 5, &b5);
	blob_read(a, 6, &b6);
	blob_write(a, 5, &b6);
	blob_write(a, 6, &b5);
}

static void foreign_blob(struct epcg_encl *a, struct epcg_encl *b,
			 struct epcg_encl_thread *ta)
{
	struct blob bl;

	/* The same page of another enclave, written out as well. */
	blob_read(b, 5, &bl);
	blob_write(a, 5, &bl);
}

static void replay_old_version(struct epcg_encl *a, struct epcg_encl *b,
			       struct epcg_encl_thread *ta)
{
	struct blob old;

	blob_read(a, 5, &old);
	/* Load it, change it, write it out again: a newer version. */
	write_page(a, ta, 1, 5, 1);
	for (int i = 0; i < 100 && epcg__encl_page_resident(a, 5 * PG); i++)
		epcg__sgx_cgroup_reclaim_pages(a->sgx, a->sgx->root_cg->cg,
					       4096);
	ASSERT_FALSE(epcg__encl_page_resident(a, 5 * PG));
	blob_write(a, 5, &old);
}

TEST(sigbus_on_flipped_ciphertext)
{
	tamper_case(flip_ciphertext);
}

TEST(sigbus_on_flipped_pcmd)
{
	tamper_case(flip_pcmd);
}

TEST(sigbus_on_flipped_mac)
{
	tamper_case(flip_mac);
}

TEST(sigbus_on_swapped_blobs)
{
	tamper_case(swap_blobs);
}

TEST(sigbus_on_blob_of_another_enclave)
{
	tamper_case(foreign_blob);
}

TEST(sigbus_on_replayed_old_version)
{
	tamper_case(replay_old_version);
}

TEST(sigbus_on_tampered_secs)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct blob bl;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 4, 3);
	ASSERT_OK(epcg_encl_enter(e, &t));
	evict_all(&f, e);
	blob_read(e, 16, &bl); /* the SECS sits after ELRANGE */
	bl.data[100] ^= 0xff;
	blob_write(e, 16, &bl);
	expect_sigbus(e, t, 0);
	ASSERT_U64_EQ(stats(e).secs_resident, 0);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

/* ---- backing store failures ---- */

TEST(backing_write_failure_keeps_pages)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 16, 6);
	ASSERT_OK(epcg_encl_enter(e, &t));
	epcg__encl_backing_inject(e, EPCG_ENCL_BACKING_WRITE, ENOSPC, 1u << 30);
	for (int i = 0; i < 4; i++)
		epcg__sgx_cgroup_reclaim_pages(f.sgx, f.root, 64);
	ASSERT_U64_EQ(stats(e).resident, 16);
	ASSERT_U64_EQ(stats(e).ewb, 0);
	fx_check(&f);
	for (uint64_t i = 0; i < 16; i++)
		check_page(e, t, 6, i, 0);
	ASSERT_FALSE(epcg_encl_faulted(e));
	/* The disk has room again: they go, and come back intact. */
	epcg__encl_backing_inject(e, EPCG_ENCL_BACKING_WRITE, 0, 0);
	evict_all(&f, e);
	for (uint64_t i = 0; i < 16; i++)
		check_page(e, t, 6, i, 0);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(backing_read_failure_is_sigbus_for_that_enclave)
{
	struct epcg_encl_thread *ta, *tb;
	struct epcg_encl *a, *b;
	struct fx f;

	fx_setup(&f, 1024);
	a = build(&f, 16 * PG, 8, 1);
	b = build(&f, 16 * PG, 8, 2);
	ASSERT_OK(epcg_encl_enter(a, &ta));
	ASSERT_OK(epcg_encl_enter(b, &tb));
	evict_all(&f, a);
	evict_all(&f, b);
	epcg__encl_backing_inject(a, EPCG_ENCL_BACKING_READ, EIO, 1);
	expect_sigbus(a, ta, 2);
	check_page(b, tb, 2, 2, 0);
	epcg_encl_exit(ta);
	epcg_encl_exit(tb);
	epcg_encl_release(a);
	epcg_encl_release(b);
	fx_teardown(&f);
}

/* ---- E5 outcomes at a limit ---- */

TEST(add_pages_at_limit_reclaims_then_succeeds)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, 20 * PG));
	e = build(&f, 128 * PG, 100, 8); /* blocks, reclaims, succeeds */
	ASSERT_CMP(usage_pages(f.cg), <=, 20);
	ASSERT_CMP(stats(e).ewb, >=, 100 - 18);
	/* Faults at the limit retry until async reclaim made room. */
	ASSERT_OK(epcg_encl_enter(e, &t));
	for (uint64_t i = 0; i < 100; i++)
		check_page(e, t, 8, i, 0);
	ASSERT_CMP(usage_pages(f.cg), <=, 20);
	ASSERT_FALSE(epcg_encl_faulted(e));
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(add_pages_with_nothing_reclaimable_is_enomem)
{
	uint8_t *src = calloc(600, PG);
	struct epcg_encl *e;
	struct fx f;
	uint64_t n;

	ASSERT_NOT_NULL(src);
	fx_setup(&f, 1024);
	/*
	 * SECS, a VA page and one page fit.  Each added page pushes the
	 * previous one out, until the 512th needs a second VA page: that
	 * one evicts the last page, and then the page itself finds nothing
	 * reclaimable.
	 */
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, 3 * PG));
	ASSERT_OK(epcg_encl_create(f.sgx, 1024 * PG, &e));
	ASSERT_ERR(epcg_encl_add_pages(e, 0, src, 600, EPCG_ENCL_PAGE_REG, RW,
				       &n),
		   ENOMEM);
	ASSERT_U64_EQ(n, 511);
	ASSERT_U64_EQ(stats(e).pages, 511);
	ASSERT_U64_EQ(stats(e).va_pages, 1);
	ASSERT_U64_EQ(usage_pages(f.cg), 2);
	epcg_encl_release(e);
	free(src);
	fx_teardown(&f);
}

TEST(create_with_nothing_reclaimable_is_enomem)
{
	struct epcg_encl *e, *e2;
	struct fx f;

	fx_setup(&f, 1024);
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, 3 * PG));
	ASSERT_OK(epcg_encl_create(f.sgx, 4 * PG, &e));
	ASSERT_ERR(epcg_encl_create(f.sgx, 4 * PG, &e2), ENOMEM);
	ASSERT_U64_EQ(usage_pages(f.cg), 2);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(fault_with_nothing_reclaimable_is_sigbus)
{
	struct epcg_encl_thread *t;
	struct epcg_sgx_stats cs;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 8, 1);
	ASSERT_OK(epcg_encl_enter(e, &t));
	evict_all(&f, e);
	ASSERT_U64_EQ(usage_pages(f.cg), 1); /* the VA page */
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, PG));
	expect_sigbus(e, t, 0);
	ASSERT_OK(epcg_sgx_cg_stats(f.cg, &cs));
	ASSERT_U64_EQ(cs.sigbus, 1);
	ASSERT_CMP(cs.enomem, >=, 1);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

/* ---- EDMM ---- */

TEST(eaug_on_first_touch)
{
	static uint8_t buf[PG];
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 1024 * PG, 4, 1);
	ASSERT_OK(epcg_encl_enter(e, &t));
	memset(buf, 0xee, sizeof(buf));
	ASSERT_OK(epcg_encl_access(e, t, 10 * PG, EPCG_ENCL_READ, buf, PG));
	for (unsigned i = 0; i < PG; i++)
		ASSERT_EQ(buf[i], 0);
	write_page(e, t, 1, 10, 3);
	check_page(e, t, 1, 10, 3);
	ASSERT_OK(epcg_encl_aug_page(e, t, 11 * PG));
	ASSERT_ERR(epcg_encl_aug_page(e, t, 11 * PG), EEXIST);
	ASSERT_U64_EQ(stats(e).eaug, 2);
	ASSERT_U64_EQ(stats(e).pages, 6);
	/* EAUG grows the VA pages too (507 more pages: 512 counted). */
	for (uint64_t i = 12; i < 12 + 507; i++)
		ASSERT_OK(epcg_encl_aug_page(e, t, i * PG));
	ASSERT_U64_EQ(stats(e).va_pages, 2);
	/* Augmented pages page out and back like any other. */
	evict_all(&f, e);
	check_page(e, t, 1, 10, 3);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(restrict_perms_then_accept)
{
	static uint8_t buf[8];
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;
	uint64_t n;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 8, 1);
	ASSERT_OK(epcg_encl_enter(e, &t));
	evict_all(&f, e); /* the call reloads what it needs */
	ASSERT_OK(epcg_encl_restrict_perms(e, 2 * PG, 2, EPCG_ENCL_PROT_READ,
					   &n));
	ASSERT_U64_EQ(n, 2);
	ASSERT_CMP(stats(e).etrack, >=, 2);
	ASSERT_ERR(epcg_encl_access(e, t, 2 * PG, EPCG_ENCL_WRITE, buf, 8),
		   EACCES);
	ASSERT_OK(epcg_encl_access(e, t, 2 * PG, EPCG_ENCL_READ, buf, 8));
	ASSERT_OK(epcg_encl_accept(e, t, 2 * PG));
	ASSERT_ERR(epcg_encl_accept(e, t, 2 * PG), EINVAL); /* done */
	ASSERT_ERR(epcg_encl_accept(e, t, 12 * PG), EINVAL); /* no page */
	ASSERT_ERR(epcg_encl_access(e, t, 2 * PG, EPCG_ENCL_WRITE, buf, 8),
		   EACCES);
	ASSERT_ERR(epcg_encl_restrict_perms(e, 0, 1, EPCG_ENCL_PROT_WRITE, &n),
		   EINVAL);
	ASSERT_ERR(epcg_encl_restrict_perms(e, 12 * PG, 1, EPCG_ENCL_PROT_READ,
					    &n),
		   EINVAL);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(trim_accept_remove)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;
	uint64_t n, before;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 8, 1);
	ASSERT_OK(epcg_encl_enter(e, &t));
	before = usage_pages(f.cg);
	ASSERT_ERR(epcg_encl_remove_pages(e, 0, 1, &n), EPERM); /* REG */
	ASSERT_OK(epcg_encl_modify_type(e, 0, 2, EPCG_ENCL_PAGE_TRIM, &n));
	ASSERT_U64_EQ(n, 2);
	ASSERT_ERR(epcg_encl_remove_pages(e, 0, 1, &n),
		   EPERM); /* not accepted */
	ASSERT_ERR(epcg_encl_access(e, t, 0, EPCG_ENCL_READ, &n, 1), EACCES);
	ASSERT_OK(epcg_encl_accept(e, t, 0));
	ASSERT_OK(epcg_encl_accept(e, t, PG));
	evict_all(&f, e); /* removal reloads trimmed pages first */
	ASSERT_OK(epcg_encl_remove_pages(e, 0, 2, &n));
	ASSERT_U64_EQ(n, 2);
	ASSERT_U64_EQ(stats(e).pages, 6);
	check_page(e, t, 1, 2, 0);
	ASSERT_U64_EQ(usage_pages(f.cg), before - 8 + 1); /* 1 reloaded */
	/* TCS from REG; a TCS cannot become TCS again. */
	ASSERT_OK(epcg_encl_modify_type(e, 3 * PG, 1, EPCG_ENCL_PAGE_TCS, &n));
	ASSERT_OK(epcg_encl_accept(e, t, 3 * PG));
	ASSERT_ERR(epcg_encl_modify_type(e, 3 * PG, 1, EPCG_ENCL_PAGE_TCS, &n),
		   EINVAL);
	ASSERT_ERR(epcg_encl_modify_type(e, 4 * PG, 1, EPCG_ENCL_PAGE_REG, &n),
		   EINVAL);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(edmm_at_limit_is_eagain_then_succeeds)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;
	uint64_t n;
	int err;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 8, 1);
	ASSERT_OK(epcg_encl_enter(e, &t));
	evict_all(&f, e);
	/* SECS and pages 1-7 back in: the cgroup is full. */
	for (uint64_t i = 1; i < 8; i++)
		check_page(e, t, 1, i, 0);
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, usage_pages(f.cg) * PG));
	/* Reclaimable, but nothing can be written out for now. */
	epcg__encl_backing_inject(e, EPCG_ENCL_BACKING_WRITE, ENOSPC, 1u << 30);
	ASSERT_ERR(epcg_encl_restrict_perms(e, 0, 1, EPCG_ENCL_PROT_READ, &n),
		   EAGAIN);
	ASSERT_U64_EQ(n, 0);
	ASSERT_FALSE(epcg_encl_faulted(e));
	/*
	 * Room can be made again: a retry succeeds.  Let the cgroup's async
	 * reclaim finish first: while its batch holds every page of the
	 * cgroup, the LRU looks empty and a charge would take that for
	 * "nothing reclaimable" (-EFAULT), as in the kernel.
	 */
	epcg__encl_backing_inject(e, EPCG_ENCL_BACKING_WRITE, 0, 0);
	epcg_exec_flush(f.ex);
	for (int i = 0; i < 10000; i++) {
		err = epcg_encl_restrict_perms(e, 0, 1, EPCG_ENCL_PROT_READ,
					       &n);
		if (err != -EAGAIN)
			break;
		usleep(100);
	}
	ASSERT_OK(err);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

TEST(edmm_with_nothing_reclaimable_is_efault)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;
	uint64_t n;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 8, 1);
	ASSERT_OK(epcg_encl_enter(e, &t));
	evict_all(&f, e);
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, PG)); /* the VA page */
	ASSERT_ERR(epcg_encl_restrict_perms(e, 0, 1, EPCG_ENCL_PROT_READ, &n),
		   EFAULT);
	ASSERT_ERR(epcg_encl_modify_type(e, 0, 1, EPCG_ENCL_PAGE_TRIM, &n),
		   EFAULT);
	ASSERT_ERR(epcg_encl_remove_pages(e, 0, 1, &n), EFAULT);
	/* No SIGBUS for an ioctl: the enclave runs on once room is back. */
	ASSERT_FALSE(epcg_encl_faulted(e));
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, EPCG_MISC_MAX));
	check_page(e, t, 1, 0, 0);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

/* ---- virtual time ---- */

struct vrun {
	struct epcg_sgx *sgx;
	struct epcg_encl *e;
	uint64_t faults;
};

static void vrun_fn(void *arg)
{
	struct vrun *v = arg;
	struct epcg_encl_thread *t;

	v->e = build_on(v->sgx, 128 * PG, 128, 11);
	ASSERT_OK(epcg_encl_enter(v->e, &t));
	for (int round = 0; round < 2; round++)
		for (uint64_t i = 0; i < 128; i++)
			check_page(v->e, t, 11, (i * 37) % 128, 0);
	v->faults = stats(v->e).faults;
	epcg_encl_exit(t);
}

/* Build and read back an enclave twice the EPC in virtual time. */
static void vrun_once(uint64_t *ret_now, struct epcg_sgx_stats *ret)
{
	struct epcg_epc_section_spec sec = { 64 * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, EPCG_SGX_POLICY_V17 };
	struct vrun v = { 0 };
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_task task;

	ASSERT_OK(epcg_exec_virt_create(2, &ex));
	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_sgx_create(m, ex, &cfg, &v.sgx));
	epcg_task_init(&task, 1, -1);
	ASSERT_OK(epcg_exec_spawn(ex, "encl", 0, vrun_fn, &v, &task, NULL));
	ASSERT_OK(epcg_exec_run(ex, UINT64_MAX));
	ASSERT_NOT_NULL(v.e);
	ASSERT_CMP(v.faults, >=, 128);
	ASSERT_FALSE(epcg_encl_faulted(v.e));
	*ret_now = epcg_exec_now_ns(ex);
	epcg_sgx_stats(v.sgx, ret);
	epcg_encl_release(v.e);
	ASSERT_U64_EQ(epcg_misc_usage(epcg_misc_root(m), RES), 0);
	epcg_sgx_destroy(v.sgx);
	epcg_misc_destroy(m);
	epcg_exec_destroy(ex);
}

TEST(virtual_time_paging_is_deterministic)
{
	struct epcg_sgx_stats a, b;
	uint64_t now_a, now_b;

	vrun_once(&now_a, &a);
	vrun_once(&now_b, &b);
	ASSERT_CMP(a.ewb, >=, 128);
	ASSERT_U64_EQ(now_a, now_b);
	ASSERT_U64_EQ(a.ewb, b.ewb);
	ASSERT_U64_EQ(a.eldu, b.eldu);
	ASSERT_U64_EQ(a.faults, b.faults);
	ASSERT_U64_EQ(a.reclaim_scans, b.reclaim_scans);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(lifecycle),
	TEST_ENTRY(bad_arguments),
	TEST_ENTRY(init_checks_the_measurement),
	TEST_ENTRY(va_page_per_512_pages),
	TEST_ENTRY(round_trip_through_eviction),
	TEST_ENTRY(fault_reloads_secs_first),
	TEST_ENTRY(small_epc_round_trip),
	TEST_ENTRY(threads_are_forced_out_and_reenter),
	TEST_ENTRY(release_frees_everything),
	TEST_ENTRY(release_with_charges_in_two_cgroups),
	TEST_ENTRY(sigbus_on_flipped_ciphertext),
	TEST_ENTRY(sigbus_on_flipped_pcmd),
	TEST_ENTRY(sigbus_on_flipped_mac),
	TEST_ENTRY(sigbus_on_swapped_blobs),
	TEST_ENTRY(sigbus_on_blob_of_another_enclave),
	TEST_ENTRY(sigbus_on_replayed_old_version),
	TEST_ENTRY(sigbus_on_tampered_secs),
	TEST_ENTRY(backing_write_failure_keeps_pages),
	TEST_ENTRY(backing_read_failure_is_sigbus_for_that_enclave),
	TEST_ENTRY(add_pages_at_limit_reclaims_then_succeeds),
	TEST_ENTRY(add_pages_with_nothing_reclaimable_is_enomem),
	TEST_ENTRY(create_with_nothing_reclaimable_is_enomem),
	TEST_ENTRY(fault_with_nothing_reclaimable_is_sigbus),
	TEST_ENTRY(eaug_on_first_touch),
	TEST_ENTRY(restrict_perms_then_accept),
	TEST_ENTRY(trim_accept_remove),
	TEST_ENTRY(edmm_at_limit_is_eagain_then_succeeds),
	TEST_ENTRY(edmm_with_nothing_reclaimable_is_efault),
	TEST_ENTRY(virtual_time_paging_is_deterministic),
};

TEST_MAIN(tests)
