// SPDX-License-Identifier: MIT
/*
 * The emulated ENCLS leaves: every status code and fault each leaf can
 * return, the EPCM effects of success, entry epochs and thread tracking,
 * and leaves racing on one page.
 *
 * Frames used by most tests: pfn 0 the SECS, 1 and 2 VA pages, 3 and up
 * enclave pages.
 */
#include <time.h>

#include <pthread.h>

#include "sgx-fixture.h"
#include "util/atomic.h"
#include "util/lock.h"

#define NR 32
#define SECS 0
#define VA 1
#define VA2 2
#define P(i) (3 + (i))

/* A machine with one enclave (SECS at pfn 0) and one VA page (pfn 1). */
static void setup_with_enclave(struct fx *f, struct fx_encl *e)
{
	fx_init(f, NR);
	fx_ecreate(f, e, SECS);
	ASSERT_STATUS(epcg__encls_epa(f->m, VA), 0);
}

TEST(status_names_and_fault_encoding)
{
	ASSERT_STREQ(epcg_sgx_status_name(0), "SGX_SUCCESS");
	ASSERT_STREQ(epcg_sgx_status_name(EPCG_SGX_NOT_TRACKED),
		     "SGX_NOT_TRACKED");
	ASSERT_STREQ(epcg_sgx_status_name(EPCG_SGX_PG_IS_SECS),
		     "SGX_PG_IS_SECS");
	ASSERT_STREQ(epcg_sgx_status_name(EPCG_SGX_UNMASKED_EVENT),
		     "SGX_UNMASKED_EVENT");
	ASSERT_STREQ(epcg_sgx_status_name(EPCG_SGX_INVALID_KEYNAME),
		     "SGX_INVALID_KEYNAME");
	ASSERT_STREQ(epcg_sgx_status_name(GP), "#GP");
	ASSERT_STREQ(epcg_sgx_status_name(PF), "#PF");
	ASSERT_STREQ(epcg_sgx_status_name(22), "SGX_UNKNOWN");
	ASSERT_STREQ(epcg_sgx_status_name(-1), "SGX_UNKNOWN");
	for (int c = 1; c <= 21; c++)
		ASSERT_TRUE(strcmp(epcg_sgx_status_name(c), "SGX_UNKNOWN"));

	/* The values hardware uses, since logs and tools compare them. */
	ASSERT_EQ(EPCG_SGX_MAC_COMPARE_FAIL, 9);
	ASSERT_EQ(EPCG_SGX_NOT_TRACKED, 11);
	ASSERT_EQ(EPCG_SGX_CHILD_PRESENT, 13);
	ASSERT_EQ(EPCG_SGX_PAGE_NOT_MODIFIABLE, 20);
	ASSERT_EQ(EPCG_SGX_UNMASKED_EVENT, 128);

	ASSERT_TRUE(epcg_encls_faulted(GP));
	ASSERT_TRUE(epcg_encls_faulted(PF));
	ASSERT_FALSE(epcg_encls_faulted(EPCG_SGX_INVALID_KEYNAME));
	ASSERT_EQ(epcg_encls_trapnr(PF), 14);
	ASSERT_EQ(epcg_encls_trapnr(GP), 13);
	ASSERT_TRUE(epcg_encls_failed(EPCG_SGX_VA_SLOT_OCCUPIED));
	ASSERT_TRUE(epcg_encls_failed(GP));
	ASSERT_FALSE(epcg_encls_failed(0));
}

TEST(create_rejects_bad_frames)
{
	uint8_t *frames = aligned_alloc(EPCG_PAGE_SIZE, 2 * EPCG_PAGE_SIZE);
	struct epcg_encls *m;

	ASSERT_ERR(epcg__encls_create(0, fx_frame_of, frames, &m), EINVAL);
	ASSERT_ERR(epcg__encls_create(1, NULL, frames, &m), EINVAL);
	ASSERT_ERR(epcg__encls_create(1, fx_frame_of, frames + 8, &m), EINVAL);
	ASSERT_OK(epcg__encls_create(2, fx_frame_of, frames, &m));
	ASSERT_EQ(epcg__encls_nr_frames(m), 2);
	epcg__encls_destroy(m);
	epcg__encls_destroy(NULL);
	free(frames);
}

TEST(ecreate_binds_a_new_enclave)
{
	struct fx f;
	struct fx_encl a, b;
	struct epcg_epcm_info info;

	fx_init(&f, NR);
	fx_ecreate(&f, &a, 0);
	fx_ecreate(&f, &b, 1);
	info = fx_epcm(&f, 0);
	ASSERT_TRUE(info.valid);
	ASSERT_EQ(info.type, EPCG_SGX_PT_SECS);
	ASSERT_TRUE(info.owner == a.s);
	ASSERT_NE(epcg__secs_eid(a.s), 0);
	ASSERT_NE(epcg__secs_eid(a.s), epcg__secs_eid(b.s));
	ASSERT_EQ(epcg__secs_pfn(a.s), 0);
	ASSERT_EQ(epcg__secs_pfn(b.s), 1);
	ASSERT_FALSE(epcg__secs_initialized(a.s));
	ASSERT_EQ(epcg__secs_nr_children(a.s), 0);
	fx_encl_finish(&a);
	fx_encl_finish(&b);
	fx_finish(&f);
}

TEST(ecreate_faults)
{
	struct epcg_sgx_secs src = { .size = FX_SIZE,
				     .base = FX_BASE,
				     .ssa_frame_size = 1 };
	struct epcg_sgx_secinfo si = { .flags = FX_PT(SECS) };
	struct epcg_sgx_pageinfo pi = { .srcpge = &src, .secinfo = &si };
	struct epcg_secs *s, *s2;
	struct fx f;

	fx_init(&f, NR);
	ASSERT_OK(epcg__secs_create(f.m, &s));
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, NR, s), PF);
	ASSERT_STATUS(epcg__encls_ecreate(f.m, NULL, 0, s), GP);
	src.size = 3 * EPCG_PAGE_SIZE;
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s), GP);
	src.size = EPCG_PAGE_SIZE;
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s), GP);
	src.size = FX_SIZE;
	src.base = FX_BASE + EPCG_PAGE_SIZE;
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s), GP);
	src.base = FX_BASE;
	src.attributes = EPCG_SGX_ATTR_INIT;
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s), GP);
	src.attributes = 0;
	src.reserved4[100] = 1;
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s), GP);
	src.reserved4[100] = 0;
	si.flags = FX_PT(REG);
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s), GP);
	si.flags = FX_PT(SECS);
	ASSERT_OK(epcg__epcm_hold(f.m, 0));
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s), GP);
	epcg__epcm_release(f.m, 0);
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s), 0);
	/* The same state twice, and a frame that is already valid. */
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 1, s), GP);
	ASSERT_OK(epcg__secs_create(f.m, &s2));
	ASSERT_STATUS(epcg__encls_ecreate(f.m, &pi, 0, s2), PF);
	ASSERT_EQ(epcg__secs_eid(s2), 0);
	ASSERT_STATUS(epcg__encls_eremove(f.m, 0), 0);
	epcg__secs_destroy(s);
	epcg__secs_destroy(s2);
	fx_finish(&f);
}

TEST(eadd_copies_and_sets_the_epcm)
{
	uint8_t want[EPCG_PAGE_SIZE];
	struct epcg_epcm_info info;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	ASSERT_STATUS(fx_eadd(&e, P(0), 0, EPCG_SGX_PT_REG,
			      EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_X),
		      0);
	ASSERT_STATUS(fx_eadd(&e, P(1), 1, EPCG_SGX_PT_TCS,
			      EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_W),
		      0);
	fx_pattern(want, 0);
	ASSERT_MEMEQ(fx_bytes(&f, P(0)), want, EPCG_PAGE_SIZE);
	info = fx_epcm(&f, P(0));
	ASSERT_TRUE(info.valid);
	ASSERT_FALSE(info.blocked);
	ASSERT_EQ(info.type, EPCG_SGX_PT_REG);
	ASSERT_EQ(info.flags, EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_X);
	ASSERT_U64_EQ(info.linaddr, fx_linaddr(0));
	ASSERT_TRUE(info.owner == e.s);
	info = fx_epcm(&f, P(1));
	ASSERT_EQ(info.type, EPCG_SGX_PT_TCS);
	ASSERT_EQ(info.flags, 0); /* a TCS gets no permissions */
	ASSERT_EQ(epcg__secs_nr_children(e.s), 2);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(eadd_faults)
{
	struct epcg_sgx_secinfo si = { .flags = 0 };
	struct epcg_sgx_pageinfo pi;
	struct fx_encl e;
	struct fx f;
	uint8_t src[EPCG_PAGE_SIZE] = { 0 };

	setup_with_enclave(&f, &e);
	pi = (struct epcg_sgx_pageinfo){ .linaddr = fx_linaddr(0),
					 .srcpge = src,
					 .secinfo = &si,
					 .secs = SECS };
	/* SECINFO: state bits, W without R, wrong types, reserved bytes. */
	si.flags = FX_PT(REG) | EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_PENDING;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	si.flags = FX_PT(REG) | EPCG_SGX_SECINFO_W;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	si.flags = FX_PT(VA);
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	si.flags = FX_PT(TRIM);
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	si.flags = FX_PT(REG) | EPCG_SGX_SECINFO_R;
	si.reserved[3] = 1;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	si.reserved[3] = 0;
	/* Addresses outside ELRANGE or not page-aligned. */
	pi.linaddr = FX_BASE + FX_SIZE;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	pi.linaddr = FX_BASE - EPCG_PAGE_SIZE;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	pi.linaddr = FX_BASE + 8;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	pi.linaddr = fx_linaddr(0);
	/* Operands that are not what they must be. */
	pi.secs = VA;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), PF);
	pi.secs = P(5);
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), PF);
	pi.secs = EPCG_SGX_NO_PFN;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), PF);
	pi.secs = SECS;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, VA), PF);
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, NR), PF);
	pi.srcpge = NULL;
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), PF);
	pi.srcpge = src;
	/* Busy target, busy SECS. */
	ASSERT_OK(epcg__epcm_hold(f.m, P(0)));
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	epcg__epcm_release(f.m, P(0));
	ASSERT_OK(epcg__epcm_hold(f.m, SECS));
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(0)), GP);
	epcg__epcm_release(f.m, SECS);
	ASSERT_EQ(epcg__secs_nr_children(e.s), 0);
	ASSERT_FALSE(fx_epcm(&f, P(0)).valid);
	/* After EINIT no page can be added. */
	fx_add_reg(&e, P(0), 0);
	fx_einit(&e);
	pi.linaddr = fx_linaddr(1);
	ASSERT_STATUS(epcg__encls_eadd(f.m, &pi, P(1)), GP);
	ASSERT_FALSE(fx_epcm(&f, P(1)).valid);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(measurement_and_einit)
{
	struct epcg_sgx_sigstruct sig = { .attribute_mask = 0 };
	uint8_t md[32];
	struct fx_encl e, other;
	struct fx f;

	fx_init(&f, NR);
	fx_ecreate(&f, &e, SECS);
	ASSERT_OK(fx_ecreate_at(&f, &other, VA2, FX_BASE, 0));
	fx_add_reg(&e, P(0), 0);
	fx_eextend_page(&e, P(0), 0);
	ASSERT_STATUS(fx_eadd(&e, P(1), 7, EPCG_SGX_PT_TCS, 0), 0);
	fx_eextend_page(&e, P(1), 7);
	fx_add_reg(&other, P(2), 0);

	/* EEXTEND: bad offsets, another enclave's page, a non-SECS. */
	ASSERT_STATUS(epcg__encls_eextend(f.m, SECS, P(0), 128), GP);
	ASSERT_STATUS(epcg__encls_eextend(f.m, SECS, P(0), 4096), GP);
	ASSERT_STATUS(epcg__encls_eextend(f.m, SECS, P(2), 0), PF);
	ASSERT_STATUS(epcg__encls_eextend(f.m, P(0), P(0), 0), GP);
	ASSERT_STATUS(epcg__encls_eextend(f.m, P(1), P(0), 0), PF);
	ASSERT_STATUS(epcg__encls_eextend(f.m, SECS, P(9), 0), PF);
	ASSERT_OK(epcg__epcm_hold(f.m, P(0)));
	ASSERT_STATUS(epcg__encls_eextend(f.m, SECS, P(0), 0), GP);
	epcg__epcm_release(f.m, P(0));
	ASSERT_OK(epcg__epcm_hold(f.m, SECS));
	ASSERT_STATUS(epcg__encls_eextend(f.m, SECS, P(0), 0), GP);
	epcg__epcm_release(f.m, SECS);

	/* EINIT: wrong attributes, wrong measurement, then right. */
	fx_expected(&e, sig.enclave_hash);
	sig.attributes = EPCG_SGX_ATTR_DEBUG;
	sig.attribute_mask = EPCG_SGX_ATTR_DEBUG;
	ASSERT_STATUS(epcg__encls_einit(f.m, SECS, &sig),
		      EPCG_SGX_INVALID_ATTRIBUTE);
	sig.attributes = 0;
	sig.enclave_hash[5] ^= 1;
	ASSERT_STATUS(epcg__encls_einit(f.m, SECS, &sig),
		      EPCG_SGX_INVALID_MEASUREMENT);
	ASSERT_FALSE(epcg__secs_initialized(e.s));
	sig.enclave_hash[5] ^= 1;
	ASSERT_STATUS(epcg__encls_einit(f.m, SECS, NULL), GP);
	ASSERT_STATUS(epcg__encls_einit(f.m, P(0), &sig), PF);
	ASSERT_STATUS(epcg__encls_einit(f.m, NR, &sig), PF);
	ASSERT_OK(epcg__epcm_hold(f.m, SECS));
	ASSERT_STATUS(epcg__encls_einit(f.m, SECS, &sig), GP);
	epcg__epcm_release(f.m, SECS);
	ASSERT_STATUS(epcg__encls_einit(f.m, SECS, &sig), 0);
	ASSERT_TRUE(epcg__secs_initialized(e.s));
	epcg__secs_mrenclave(e.s, md);
	ASSERT_MEMEQ(md, sig.enclave_hash, 32);
	ASSERT_MEMEQ(((struct epcg_sgx_secs *)fx_bytes(&f, SECS))->mrenclave,
		     md, 32);
	ASSERT_STATUS(epcg__encls_einit(f.m, SECS, &sig), GP);
	ASSERT_STATUS(epcg__encls_eextend(f.m, SECS, P(0), 0), GP);

	/* Same pages, other order of EEXTEND: another measurement. */
	fx_expected(&other, md);
	ASSERT_TRUE(memcmp(md, sig.enclave_hash, 32));
	fx_encl_finish(&e);
	fx_encl_finish(&other);
	fx_finish(&f);
}

TEST(eremove_statuses)
{
	struct epcg_encl_thread t;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	epcg__encl_thread_init(&t);
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(9)), 0); /* invalid */
	ASSERT_STATUS(epcg__encls_eremove(f.m, NR), PF);
	fx_add_reg(&e, P(0), 0);
	fx_add_reg(&e, P(1), 1);
	fx_einit(&e);
	ASSERT_STATUS(epcg__encls_eremove(f.m, SECS), EPCG_SGX_CHILD_PRESENT);
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(0)), EPCG_SGX_ENCLAVE_ACT);
	ASSERT_TRUE(fx_epcm(&f, P(0)).valid);
	epcg__encl_eexit(&t);
	ASSERT_OK(epcg__epcm_hold(f.m, P(0)));
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(0)), GP);
	epcg__epcm_release(f.m, P(0));
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(0)), 0);
	ASSERT_FALSE(fx_epcm(&f, P(0)).valid);
	ASSERT_EQ(epcg__secs_nr_children(e.s), 1);
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(1)), 0);
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(1)), 0);
	ASSERT_STATUS(epcg__encls_eremove(f.m, SECS), 0);
	ASSERT_EQ(epcg__secs_pfn(e.s), EPCG_SGX_NO_PFN);
	ASSERT_STATUS(epcg__encls_eremove(f.m, VA), 0);
	ASSERT_FALSE(fx_epcm(&f, VA).valid);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(epa_makes_empty_va_pages)
{
	struct epcg_epcm_info info;
	struct fx f;

	fx_init(&f, NR);
	ASSERT_STATUS(epcg__encls_epa(f.m, VA), 0);
	info = fx_epcm(&f, VA);
	ASSERT_TRUE(info.valid);
	ASSERT_EQ(info.type, EPCG_SGX_PT_VA);
	ASSERT_NULL(info.owner);
	ASSERT_TRUE(fx_all_zero(fx_bytes(&f, VA), EPCG_PAGE_SIZE));
	ASSERT_STATUS(epcg__encls_epa(f.m, VA), PF);
	ASSERT_STATUS(epcg__encls_epa(f.m, NR), PF);
	ASSERT_OK(epcg__epcm_hold(f.m, VA2));
	ASSERT_STATUS(epcg__encls_epa(f.m, VA2), GP);
	epcg__epcm_release(f.m, VA2);
	fx_finish(&f);
}

TEST(eblock_statuses)
{
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(1)), EPCG_SGX_PG_INVLD);
	ASSERT_STATUS(epcg__encls_eblock(f.m, SECS), EPCG_SGX_PG_IS_SECS);
	ASSERT_STATUS(epcg__encls_eblock(f.m, VA), EPCG_SGX_NOTBLOCKABLE);
	ASSERT_STATUS(epcg__encls_eblock(f.m, NR), PF);
	ASSERT_OK(epcg__epcm_hold(f.m, P(0)));
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(0)),
		      EPCG_SGX_EPC_PAGE_CONFLICT);
	epcg__epcm_release(f.m, P(0));
	ASSERT_FALSE(fx_epcm(&f, P(0)).blocked);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(0)), 0);
	ASSERT_TRUE(fx_epcm(&f, P(0)).blocked);
	ASSERT_EQ(fx_epcm(&f, P(0)).epoch, 1); /* the epoch at EBLOCK */
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(0)), EPCG_SGX_BLKSTATE);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(etrack_statuses)
{
	struct epcg_encl_thread t;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	fx_einit(&e);
	epcg__encl_thread_init(&t);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	/* t entered in the current epoch: the next ETRACK makes it old. */
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), EPCG_SGX_PREV_TRK_INCMPL);
	epcg__encl_eexit(&t);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(epcg__encls_etrack(f.m, P(0)), PF);
	ASSERT_STATUS(epcg__encls_etrack(f.m, VA), PF);
	ASSERT_STATUS(epcg__encls_etrack(f.m, P(5)), PF);
	ASSERT_STATUS(epcg__encls_etrack(f.m, NR), PF);
	ASSERT_OK(epcg__epcm_hold(f.m, SECS));
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), GP);
	epcg__epcm_release(f.m, SECS);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(ewb_blocking_and_tracking)
{
	static struct fx_blob b;
	struct epcg_encl_thread t;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	fx_add_reg(&e, P(1), 1);
	fx_einit(&e);
	epcg__encl_thread_init(&t);

	ASSERT_STATUS(fx_ewb(&f, P(0), VA, 0, &b), EPCG_SGX_PAGE_NOT_BLOCKED);
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(0)), 0);
	ASSERT_STATUS(fx_ewb(&f, P(0), VA, 0, &b), EPCG_SGX_NOT_TRACKED);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(fx_ewb(&f, P(0), VA, 0, &b), 0);
	ASSERT_FALSE(fx_epcm(&f, P(0)).valid);
	ASSERT_NE(fx_slot(&f, VA, 0), 0);
	ASSERT_U64_EQ(b.linaddr, fx_linaddr(0));
	ASSERT_EQ(b.pcmd.enclave_id, epcg__secs_eid(e.s));
	ASSERT_U64_EQ(b.pcmd.secinfo.flags,
		      FX_PT(REG) | EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_W);
	ASSERT_EQ(epcg__secs_nr_children(e.s), 1);

	/* A thread inside since before the block holds the page back. */
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(1)), 0);
	ASSERT_STATUS(fx_ewb(&f, P(1), VA, 1, &b), EPCG_SGX_NOT_TRACKED);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(fx_ewb(&f, P(1), VA, 1, &b), EPCG_SGX_NOT_TRACKED);
	ASSERT_TRUE(fx_epcm(&f, P(1)).valid);
	ASSERT_EQ(fx_slot(&f, VA, 1), 0);
	/* The IPI analogue: the thread is out, the cycle completes. */
	ASSERT_EQ(epcg__encl_force_aex(e.s), 1);
	ASSERT_TRUE(epcg__encl_kicked(&t));
	ASSERT_STATUS(fx_ewb(&f, P(1), VA, 1, &b), 0);
	/* Kicked out, the thread re-enters in the current epoch. */
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	ASSERT_FALSE(epcg__encl_kicked(&t));
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 1);
	epcg__encl_eexit(&t);
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 0);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(ewb_late_entrants_do_not_block_tracking)
{
	static struct fx_blob b;
	struct epcg_encl_thread t;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	fx_einit(&e);
	epcg__encl_thread_init(&t);
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(0)), 0);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	/* Entered after the ETRACK: it cannot hold an old mapping. */
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	ASSERT_STATUS(fx_ewb(&f, P(0), VA, 0, &b), 0);
	epcg__encl_eexit(&t);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(ewb_secs_and_va_rules)
{
	static struct fx_blob b, bs, bv;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	ASSERT_STATUS(epcg__encls_epa(f.m, VA2), 0);
	fx_add_reg(&e, P(0), 0);
	fx_einit(&e);
	ASSERT_STATUS(fx_ewb(&f, SECS, VA, 0, &bs), EPCG_SGX_CHILD_PRESENT);
	ASSERT_TRUE(fx_epcm(&f, SECS).valid);
	fx_evict(&e, P(0), VA, 1, &b);
	/* A SECS needs neither EBLOCK nor ETRACK, only no children. */
	ASSERT_STATUS(fx_ewb(&f, SECS, VA, 0, &bs), 0);
	ASSERT_EQ(bs.pcmd.enclave_id, epcg__secs_eid(e.s));
	ASSERT_EQ(epcg__secs_pfn(e.s), EPCG_SGX_NO_PFN);
	ASSERT_FALSE(fx_epcm(&f, SECS).valid);
	/* A VA page goes out as it is, its version into another VA page. */
	ASSERT_STATUS(fx_ewb(&f, VA, VA2, 0, &bv), 0);
	ASSERT_EQ(bv.pcmd.enclave_id, 0);
	ASSERT_FALSE(fx_epcm(&f, VA).valid);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(ewb_va_slot_occupied_still_evicts)
{
	static struct fx_blob b0, b1;
	struct fx_encl e;
	struct fx f;
	uint64_t v0;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	fx_add_reg(&e, P(1), 1);
	fx_einit(&e);
	fx_evict(&e, P(0), VA, 7, &b0);
	v0 = fx_slot(&f, VA, 7);
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(1)), 0);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(fx_ewb(&f, P(1), VA, 7, &b1), EPCG_SGX_VA_SLOT_OCCUPIED);
	ASSERT_FALSE(fx_epcm(&f, P(1)).valid);
	ASSERT_CMP(fx_slot(&f, VA, 7), >, v0);
	ASSERT_EQ(epcg__secs_nr_children(e.s), 0);
	/* The slot now vouches for the second page only. */
	ASSERT_STATUS(fx_eldu(&f, &b0, fx_linaddr(0), SECS, P(0), VA, 7),
		      EPCG_SGX_MAC_COMPARE_FAIL);
	ASSERT_STATUS(fx_eldu(&f, &b1, fx_linaddr(1), SECS, P(1), VA, 7), 0);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(ewb_faults)
{
	static struct fx_blob b;
	struct epcg_sgx_pageinfo pi = { .srcpge = b.data, .pcmd = NULL };
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	fx_add_reg(&e, P(1), 1);
	fx_einit(&e);
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(0)), 0);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(fx_ewb(&f, P(5), VA, 0, &b), PF); /* invalid page */
	ASSERT_STATUS(fx_ewb(&f, P(0), P(1), 0, &b), PF); /* not a VA page */
	ASSERT_STATUS(fx_ewb(&f, P(0), VA2, 0, &b), PF); /* invalid VA */
	ASSERT_STATUS(fx_ewb(&f, NR, VA, 0, &b), PF);
	ASSERT_STATUS(fx_ewb(&f, P(0), NR, 0, &b), PF);
	ASSERT_STATUS(fx_ewb(&f, P(0), VA, 512, &b), GP);
	ASSERT_STATUS(fx_ewb(&f, VA, VA, 0, &b), GP);
	ASSERT_STATUS(epcg__encls_ewb(f.m, &pi, P(0), VA, 0), PF);
	ASSERT_OK(epcg__epcm_hold(f.m, P(0)));
	ASSERT_STATUS(fx_ewb(&f, P(0), VA, 0, &b), GP);
	epcg__epcm_release(f.m, P(0));
	ASSERT_OK(epcg__epcm_hold(f.m, VA));
	ASSERT_STATUS(fx_ewb(&f, P(0), VA, 0, &b), GP);
	epcg__epcm_release(f.m, VA);
	ASSERT_TRUE(fx_epcm(&f, P(0)).valid);
	ASSERT_EQ(fx_slot(&f, VA, 0), 0);
	ASSERT_STATUS(fx_ewb(&f, P(0), VA, 0, &b), 0);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(eldu_restores_page_and_clears_slot)
{
	static struct fx_blob b;
	uint8_t want[EPCG_PAGE_SIZE];
	struct epcg_epcm_info info;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	ASSERT_STATUS(fx_eadd(&e, P(0), 3, EPCG_SGX_PT_REG,
			      EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_X),
		      0);
	fx_einit(&e);
	fx_evict(&e, P(0), VA, 42, &b);
	ASSERT_TRUE(memcmp(b.data, fx_bytes(&f, P(0)), EPCG_PAGE_SIZE));
	memset(fx_bytes(&f, P(4)), 0xee, EPCG_PAGE_SIZE);
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(3), SECS, P(4), VA, 42), 0);
	fx_pattern(want, 3);
	ASSERT_MEMEQ(fx_bytes(&f, P(4)), want, EPCG_PAGE_SIZE);
	info = fx_epcm(&f, P(4));
	ASSERT_TRUE(info.valid);
	ASSERT_FALSE(info.blocked);
	ASSERT_EQ(info.type, EPCG_SGX_PT_REG);
	ASSERT_EQ(info.flags, EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_X);
	ASSERT_U64_EQ(info.linaddr, fx_linaddr(3));
	ASSERT_TRUE(info.owner == e.s);
	ASSERT_EQ(fx_slot(&f, VA, 42), 0);
	ASSERT_EQ(epcg__secs_nr_children(e.s), 1);
	/* Once loaded, the same blob never opens again. */
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(3), SECS, P(5), VA, 42),
		      EPCG_SGX_MAC_COMPARE_FAIL);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(eldb_loads_blocked)
{
	static struct fx_blob b;
	struct epcg_sgx_pageinfo pi = { .linaddr = fx_linaddr(0),
					.srcpge = b.data,
					.pcmd = &b.pcmd,
					.secs = SECS };
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	ASSERT_STATUS(fx_eadd(&e, P(0), 0, EPCG_SGX_PT_TCS, 0), 0);
	fx_einit(&e);
	fx_evict(&e, P(0), VA, 0, &b);
	/* ELDB checks the MAC as ELDU does. */
	pi.linaddr = fx_linaddr(1);
	ASSERT_STATUS(epcg__encls_eldb(f.m, &pi, P(1), VA, 0),
		      EPCG_SGX_MAC_COMPARE_FAIL);
	ASSERT_FALSE(fx_epcm(&f, P(1)).valid);
	pi.linaddr = fx_linaddr(0);
	ASSERT_STATUS(epcg__encls_eldb(f.m, &pi, P(1), VA, 0), 0);
	ASSERT_TRUE(fx_epcm(&f, P(1)).blocked);
	ASSERT_EQ(fx_epcm(&f, P(1)).type, EPCG_SGX_PT_TCS);
	ASSERT_STATUS(epcg__encls_eblock(f.m, P(1)), EPCG_SGX_BLKSTATE);
	/* Blocked already: tracking alone lets it go out again. */
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(fx_ewb(&f, P(1), VA, 0, &b), 0);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(eldu_faults)
{
	static struct fx_blob b, bs;
	struct epcg_sgx_pageinfo pi = { .srcpge = NULL, .pcmd = &b.pcmd };
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	ASSERT_STATUS(epcg__encls_epa(f.m, VA2), 0);
	fx_add_reg(&e, P(0), 0);
	fx_add_reg(&e, P(1), 1);
	fx_einit(&e);
	fx_evict(&e, P(0), VA, 0, &b);
	/* Target valid, not a VA page, slot out of range, busy frames. */
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(1), VA, 0), PF);
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(2), P(1), 0), PF);
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, NR, VA, 0), PF);
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(2), VA, 512), GP);
	ASSERT_STATUS(epcg__encls_eldu(f.m, &pi, P(2), VA, 0), PF);
	ASSERT_OK(epcg__epcm_hold(f.m, P(2)));
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(2), VA, 0), GP);
	epcg__epcm_release(f.m, P(2));
	ASSERT_OK(epcg__epcm_hold(f.m, VA));
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(2), VA, 0), GP);
	epcg__epcm_release(f.m, VA);
	ASSERT_OK(epcg__epcm_hold(f.m, SECS));
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(2), VA, 0), GP);
	epcg__epcm_release(f.m, SECS);
	/* A child needs its SECS resident. */
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), P(1), P(2), VA, 0), PF);
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), EPCG_SGX_NO_PFN, P(2), VA,
			      0),
		      PF);
	fx_evict(&e, P(1), VA, 1, &bs);
	ASSERT_STATUS(fx_ewb(&f, SECS, VA2, 0, &bs), 0);
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(2), VA, 0), PF);
	ASSERT_FALSE(fx_epcm(&f, P(2)).valid);
	/* Nothing was consumed: the slot still opens the blob. */
	ASSERT_NE(fx_slot(&f, VA, 0), 0);
	ASSERT_STATUS(fx_eldu(&f, &bs, 0, EPCG_SGX_NO_PFN, SECS, VA2, 0), 0);
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(2), VA, 0), 0);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(secs_evicted_and_reloaded_elsewhere)
{
	static struct fx_blob b[3], bs;
	uint8_t want[EPCG_PAGE_SIZE], md[32], md2[32];
	struct epcg_encl_thread t;
	struct fx_encl e;
	struct fx f;
	uint64_t eid;

	setup_with_enclave(&f, &e);
	for (unsigned i = 0; i < 3; i++)
		fx_add_reg(&e, P(i), i);
	fx_einit(&e);
	eid = epcg__secs_eid(e.s);
	epcg__secs_mrenclave(e.s, md);
	for (unsigned i = 0; i < 3; i++)
		fx_evict(&e, P(i), VA, i, &b[i]);
	ASSERT_STATUS(fx_ewb(&f, SECS, VA, 3, &bs), 0);
	ASSERT_U64_EQ(bs.linaddr, 0);
	ASSERT_STATUS(epcg__encls_eremove(f.m, SECS), 0); /* invalid: no-op */
	/* The SECS comes back at another frame; children follow it. */
	ASSERT_STATUS(fx_eldu(&f, &bs, 0, EPCG_SGX_NO_PFN, P(10), VA, 3), 0);
	ASSERT_EQ(epcg__secs_pfn(e.s), P(10));
	ASSERT_EQ(epcg__secs_eid(e.s), eid);
	ASSERT_TRUE(fx_epcm(&f, P(10)).owner == e.s);
	ASSERT_TRUE(epcg__secs_initialized(e.s));
	epcg__secs_mrenclave(e.s, md2);
	ASSERT_MEMEQ(md, md2, 32);
	for (unsigned i = 0; i < 3; i++) {
		ASSERT_STATUS(fx_eldu(&f, &b[i], fx_linaddr(i), P(10),
				      P(20 + i), VA, i),
			      0);
		fx_pattern(want, i);
		ASSERT_MEMEQ(fx_bytes(&f, P(20 + i)), want, EPCG_PAGE_SIZE);
	}
	ASSERT_EQ(epcg__secs_nr_children(e.s), 3);
	/* Tracking continues on the new frame. */
	e.secs_pfn = P(10);
	epcg__encl_thread_init(&t);
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	epcg__encl_eexit(&t);
	fx_evict(&e, P(20), VA, 0, &b[0]);
	for (unsigned i = 1; i < 3; i++)
		ASSERT_STATUS(epcg__encls_eremove(f.m, P(20 + i)), 0);
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(10)), 0);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(va_page_evicted_and_reloaded)
{
	static struct fx_blob b, bv;
	uint8_t want[EPCG_PAGE_SIZE];
	struct fx_encl e;
	struct fx f;
	uint64_t v;

	setup_with_enclave(&f, &e);
	ASSERT_STATUS(epcg__encls_epa(f.m, VA2), 0);
	fx_add_reg(&e, P(0), 0);
	fx_einit(&e);
	fx_evict(&e, P(0), VA, 100, &b);
	v = fx_slot(&f, VA, 100);
	ASSERT_STATUS(fx_ewb(&f, VA, VA2, 9, &bv), 0);
	ASSERT_STATUS(fx_eldu(&f, &bv, 0, EPCG_SGX_NO_PFN, P(7), VA2, 9), 0);
	ASSERT_EQ(fx_epcm(&f, P(7)).type, EPCG_SGX_PT_VA);
	ASSERT_U64_EQ(fx_slot(&f, P(7), 100), v);
	ASSERT_STATUS(fx_eldu(&f, &b, fx_linaddr(0), SECS, P(1), P(7), 100), 0);
	fx_pattern(want, 0);
	ASSERT_MEMEQ(fx_bytes(&f, P(1)), want, EPCG_PAGE_SIZE);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(eaug_and_eaccept)
{
	struct epcg_sgx_pageinfo pi = { .linaddr = fx_linaddr(5),
					.secs = SECS };
	struct epcg_sgx_secinfo si;
	struct epcg_epcm_info info;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	ASSERT_STATUS(epcg__encls_eaug(f.m, &pi, P(1)), GP); /* before EINIT */
	fx_einit(&e);
	pi.linaddr = FX_BASE + FX_SIZE;
	ASSERT_STATUS(epcg__encls_eaug(f.m, &pi, P(1)), GP);
	pi.linaddr = fx_linaddr(5);
	ASSERT_STATUS(epcg__encls_eaug(f.m, &pi, P(0)), PF);
	ASSERT_STATUS(epcg__encls_eaug(f.m, NULL, P(1)), GP);
	pi.secs = VA;
	ASSERT_STATUS(epcg__encls_eaug(f.m, &pi, P(1)), PF);
	pi.secs = SECS;
	ASSERT_OK(epcg__epcm_hold(f.m, P(1)));
	ASSERT_STATUS(epcg__encls_eaug(f.m, &pi, P(1)), GP);
	epcg__epcm_release(f.m, P(1));
	ASSERT_STATUS(epcg__encls_eaug(f.m, &pi, P(1)), 0);
	info = fx_epcm(&f, P(1));
	ASSERT_EQ(info.type, EPCG_SGX_PT_REG);
	ASSERT_EQ(info.flags, EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_W |
				      EPCG_SGX_SECINFO_PENDING);
	ASSERT_TRUE(fx_all_zero(fx_bytes(&f, P(1)), EPCG_PAGE_SIZE));
	ASSERT_EQ(epcg__secs_nr_children(e.s), 2);
	/* A pending page cannot be modified before it is accepted. */
	si = (struct epcg_sgx_secinfo){ .flags = EPCG_SGX_SECINFO_R };
	ASSERT_STATUS(epcg__encls_emodpr(f.m, &si, P(1)),
		      EPCG_SGX_PAGE_NOT_MODIFIABLE);
	/* EACCEPT wants the exact SECINFO. */
	si.flags = FX_PT(REG) | EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_PENDING;
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(1)),
		      EPCG_SGX_PAGE_ATTRIBUTES_MISMATCH);
	si.flags |= EPCG_SGX_SECINFO_W;
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, NULL, P(1)), GP);
	ASSERT_OK(epcg__epcm_hold(f.m, P(1)));
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(1)), GP);
	epcg__epcm_release(f.m, P(1));
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(2)), PF);
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(1)), 0);
	ASSERT_EQ(fx_epcm(&f, P(1)).flags,
		  EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_W);
	/* Nothing left to accept. */
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(1)),
		      EPCG_SGX_PAGE_ATTRIBUTES_MISMATCH);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(emodpr_restricts_and_needs_tracking)
{
	struct epcg_sgx_secinfo si = { .flags = EPCG_SGX_SECINFO_R |
						EPCG_SGX_SECINFO_X };
	struct epcg_encl_thread t;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	ASSERT_STATUS(fx_eadd(&e, P(0), 0, EPCG_SGX_PT_REG,
			      EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_W),
		      0);
	ASSERT_STATUS(fx_eadd(&e, P(1), 1, EPCG_SGX_PT_TCS, 0), 0);
	ASSERT_STATUS(epcg__encls_emodpr(f.m, &si, P(0)), GP); /* no EINIT */
	fx_einit(&e);
	epcg__encl_thread_init(&t);
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	ASSERT_STATUS(epcg__encls_emodpr(f.m, &si, P(1)), PF); /* a TCS */
	ASSERT_STATUS(epcg__encls_emodpr(f.m, &si, P(2)), PF);
	ASSERT_STATUS(epcg__encls_emodpr(f.m, &si, NR), PF);
	si.flags |= EPCG_SGX_SECINFO_PR;
	ASSERT_STATUS(epcg__encls_emodpr(f.m, &si, P(0)), GP);
	si.flags &= ~(uint64_t)EPCG_SGX_SECINFO_PR;
	ASSERT_OK(epcg__epcm_hold(f.m, P(0)));
	ASSERT_STATUS(epcg__encls_emodpr(f.m, &si, P(0)),
		      EPCG_SGX_EPC_PAGE_CONFLICT);
	epcg__epcm_release(f.m, P(0));
	ASSERT_STATUS(epcg__encls_emodpr(f.m, &si, P(0)), 0);
	/* RW & RX = R, and PR until the enclave accepts. */
	ASSERT_EQ(fx_epcm(&f, P(0)).flags,
		  EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_PR);
	si.flags = FX_PT(REG) | EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_PR;
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(0)),
		      EPCG_SGX_NOT_TRACKED);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	/* t entered before the ETRACK and is still inside. */
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(0)),
		      EPCG_SGX_NOT_TRACKED);
	ASSERT_EQ(epcg__encl_force_aex(e.s), 1);
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(0)), 0);
	ASSERT_EQ(fx_epcm(&f, P(0)).flags, EPCG_SGX_SECINFO_R);
	epcg__encl_eexit(&t);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(emodt_trim_and_tcs)
{
	struct epcg_sgx_secinfo si = { .flags = FX_PT(TRIM) };
	struct epcg_sgx_pageinfo pi = { .linaddr = fx_linaddr(9),
					.secs = SECS };
	struct epcg_encl_thread t;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	fx_add_reg(&e, P(1), 1);
	fx_add_reg(&e, P(2), 2);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(0)), GP); /* no EINIT */
	fx_einit(&e);
	epcg__encl_thread_init(&t);
	ASSERT_STATUS(epcg__encls_eaug(f.m, &pi, P(3)), 0);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(3)),
		      EPCG_SGX_PAGE_NOT_MODIFIABLE);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(5)), PF);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, SECS), PF);
	ASSERT_OK(epcg__epcm_hold(f.m, P(0)));
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(0)),
		      EPCG_SGX_EPC_PAGE_CONFLICT);
	epcg__epcm_release(f.m, P(0));
	si.flags = FX_PT(REG);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(0)), GP);
	si.flags = FX_PT(TRIM) | EPCG_SGX_SECINFO_R;
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(0)), GP);

	si.flags = FX_PT(TRIM);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(0)), 0);
	ASSERT_EQ(fx_epcm(&f, P(0)).type, EPCG_SGX_PT_TRIM);
	ASSERT_EQ(fx_epcm(&f, P(0)).flags, EPCG_SGX_SECINFO_MODIFIED);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(0)),
		      EPCG_SGX_PAGE_NOT_MODIFIABLE);
	/* Unaccepted, a trimmed page cannot go while a thread runs. */
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(0)), EPCG_SGX_ENCLAVE_ACT);
	si.flags |= EPCG_SGX_SECINFO_MODIFIED;
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(0)),
		      EPCG_SGX_NOT_TRACKED);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	epcg__encl_eexit(&t);
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(0)), 0);
	ASSERT_OK(epcg__encl_eenter(e.s, &t));
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(0)), 0);
	ASSERT_STATUS(epcg__encls_eremove(f.m, P(1)), EPCG_SGX_ENCLAVE_ACT);
	epcg__encl_eexit(&t);

	/* REG to TCS; TCS to TCS is no conversion. */
	si.flags = FX_PT(TCS);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(1)), 0);
	ASSERT_EQ(fx_epcm(&f, P(1)).type, EPCG_SGX_PT_TCS);
	si.flags |= EPCG_SGX_SECINFO_MODIFIED;
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	ASSERT_STATUS(epcg__encls_eaccept(f.m, e.s, &si, P(1)), 0);
	si.flags = FX_PT(TCS);
	ASSERT_STATUS(epcg__encls_emodt(f.m, &si, P(1)), GP);
	fx_encl_finish(&e);
	fx_finish(&f);
}

TEST(threads_enter_exit_and_kick)
{
	struct epcg_encl_thread a, b;
	struct fx_encl e;
	struct fx f;

	setup_with_enclave(&f, &e);
	fx_add_reg(&e, P(0), 0);
	epcg__encl_thread_init(&a);
	epcg__encl_thread_init(&b);
	ASSERT_STATUS(epcg__encl_eenter(e.s, &a), GP); /* not initialized */
	fx_einit(&e);
	ASSERT_OK(epcg__encl_eenter(e.s, &a));
	ASSERT_STATUS(epcg__encl_eenter(e.s, &a), GP); /* already inside */
	ASSERT_OK(epcg__encl_eenter(e.s, &b));
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 2);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	epcg__encl_eexit(&b); /* leaves from the previous epoch */
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 1);
	ASSERT_OK(epcg__encl_eenter(e.s, &b));
	ASSERT_EQ(epcg__encl_force_aex(e.s), 2);
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 0);
	ASSERT_TRUE(epcg__encl_kicked(&a));
	ASSERT_TRUE(epcg__encl_kicked(&b));
	/* Exiting after a kick moves no count (none below zero). */
	epcg__encl_eexit(&a);
	ASSERT_FALSE(epcg__encl_kicked(&a));
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 0);
	ASSERT_EQ(epcg__encl_force_aex(e.s), 0);
	/* A kicked thread may re-enter directly. */
	ASSERT_OK(epcg__encl_eenter(e.s, &b));
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 1);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	epcg__encl_eexit(&b);
	epcg__encl_eexit(&b); /* outside: nothing */
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 0);
	ASSERT_STATUS(epcg__encls_etrack(f.m, SECS), 0);
	fx_encl_finish(&e);
	fx_finish(&f);
}

/* ---- leaves racing ---- */

#define RACE_PAGES 8

struct race {
	struct fx *f;
	struct fx_encl *e;
	struct epcg_mutex encl_lock; /* the enclave layer's lock around EWB */
	epcg_atomic(int) stop;
	epcg_atomic(uint64_t) evictions;
	epcg_atomic(uint64_t) conflicts;
	struct fx_blob blobs[RACE_PAGES];
};

struct racer {
	struct race *r;
	unsigned first; /* a reclaimer's pages: first, first + 2, ... */
	uint64_t seed;
};

/*
 * Write one page out the way the Linux reclaimer does (H6): EWB; on
 * NOT_TRACKED ETRACK and again; then force the threads out and again.
 * Then, as lib/sgx/encl-reclaim.c adds: when that ETRACK was refused
 * (SGX_PREV_TRK_INCMPL: another reclaimer's cycle had not drained, so no
 * epoch began after this page's EBLOCK), ETRACK, force out and EWB once
 * more, which cannot fail under the lock.
 */
static int race_ewb(struct race *r, unsigned i)
{
	int ret;

	epcg_mutex_lock(&r->encl_lock);
	ret = fx_ewb(r->f, P(i), VA, i, &r->blobs[i]);
	if (ret == EPCG_SGX_NOT_TRACKED) {
		(void)epcg__encls_etrack(r->f->m, SECS);
		ret = fx_ewb(r->f, P(i), VA, i, &r->blobs[i]);
	}
	if (ret == EPCG_SGX_NOT_TRACKED) {
		epcg__encl_force_aex(r->e->s);
		ret = fx_ewb(r->f, P(i), VA, i, &r->blobs[i]);
	}
	if (ret == EPCG_SGX_NOT_TRACKED) {
		(void)epcg__encls_etrack(r->f->m, SECS);
		epcg__encl_force_aex(r->e->s);
		ret = fx_ewb(r->f, P(i), VA, i, &r->blobs[i]);
	}
	epcg_mutex_unlock(&r->encl_lock);
	return ret;
}

/* Evict and reload its own pages; a busy page (#GP) is tried again. */
static void *race_reclaimer(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->r;
	uint8_t want[EPCG_PAGE_SIZE];
	int ret;

	while (!epcg_atomic_load_acquire(&r->stop)) {
		for (unsigned i = me->first; i < RACE_PAGES; i += 2) {
			do {
				ret = epcg__encls_eblock(r->f->m, P(i));
			} while (ret == EPCG_SGX_EPC_PAGE_CONFLICT);
			if (ret != EPCG_SGX_BLKSTATE)
				ASSERT_STATUS(ret, 0);
			do {
				ret = race_ewb(r, i);
			} while (ret == GP);
			ASSERT_STATUS(ret, 0);
			do {
				ret = fx_eldu(r->f, &r->blobs[i], fx_linaddr(i),
					      SECS, P(i), VA, i);
			} while (ret == GP);
			ASSERT_STATUS(ret, 0);
			fx_pattern(want, i);
			ASSERT_MEMEQ(fx_bytes(r->f, P(i)), want,
				     EPCG_PAGE_SIZE);
			epcg_atomic_fetch_add_relaxed(&r->evictions, 1);
		}
	}
	return NULL;
}

/* An enclave thread comes and goes and pokes EBLOCK at random pages. */
static void *race_intruder(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->r;
	struct epcg_encl_thread t;
	uint64_t rng = me->seed;
	int ret;

	epcg__encl_thread_init(&t);
	while (!epcg_atomic_load_acquire(&r->stop)) {
		unsigned i = epcg_test_rand(&rng) % RACE_PAGES;

		if (epcg__encl_kicked(&t) || !t.secs)
			ASSERT_OK(epcg__encl_eenter(r->e->s, &t));
		ret = epcg__encls_eblock(r->f->m, P(i));
		if (ret == EPCG_SGX_EPC_PAGE_CONFLICT)
			epcg_atomic_fetch_add_relaxed(&r->conflicts, 1);
		else if (ret != EPCG_SGX_BLKSTATE && ret != EPCG_SGX_PG_INVLD)
			ASSERT_STATUS(ret, 0);
		if (epcg_test_rand(&rng) % 4 == 0)
			epcg__encl_eexit(&t);
	}
	epcg__encl_eexit(&t);
	return NULL;
}

TEST(leaves_race_on_shared_pages)
{
	static struct race r;
	struct racer racers[3];
	pthread_t th[3];
	struct fx_encl e;
	struct fx f;
	double secs = epcg_test_stress_seconds(0.5);
	struct timespec ts = {
		.tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9),
	};

	setup_with_enclave(&f, &e);
	for (unsigned i = 0; i < RACE_PAGES; i++)
		fx_add_reg(&e, P(i), i);
	fx_einit(&e);
	r.f = &f;
	r.e = &e;
	epcg_mutex_init(&r.encl_lock);
	for (unsigned k = 0; k < 3; k++) {
		racers[k] = (struct racer){ &r, k, epcg_test_seed() + k };
		ASSERT_EQ(pthread_create(&th[k], NULL,
					 k < 2 ? race_reclaimer : race_intruder,
					 &racers[k]),
			  0);
	}
	nanosleep(&ts, NULL);
	epcg_atomic_store_release(&r.stop, 1);
	for (unsigned k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	epcg_test_note(
		"%llu evictions, %llu EBLOCK conflicts",
		(unsigned long long)epcg_atomic_load_relaxed(&r.evictions),
		(unsigned long long)epcg_atomic_load_relaxed(&r.conflicts));
	ASSERT_CMP(epcg_atomic_load_relaxed(&r.evictions), >, 0);
	ASSERT_EQ(epcg__secs_nr_children(e.s), RACE_PAGES);
	ASSERT_EQ(epcg__secs_nr_inside(e.s), 0);
	epcg_mutex_finish(&r.encl_lock);
	fx_encl_finish(&e);
	fx_finish(&f);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(status_names_and_fault_encoding),
	TEST_ENTRY(create_rejects_bad_frames),
	TEST_ENTRY(ecreate_binds_a_new_enclave),
	TEST_ENTRY(ecreate_faults),
	TEST_ENTRY(eadd_copies_and_sets_the_epcm),
	TEST_ENTRY(eadd_faults),
	TEST_ENTRY(measurement_and_einit),
	TEST_ENTRY(eremove_statuses),
	TEST_ENTRY(epa_makes_empty_va_pages),
	TEST_ENTRY(eblock_statuses),
	TEST_ENTRY(etrack_statuses),
	TEST_ENTRY(ewb_blocking_and_tracking),
	TEST_ENTRY(ewb_late_entrants_do_not_block_tracking),
	TEST_ENTRY(ewb_secs_and_va_rules),
	TEST_ENTRY(ewb_va_slot_occupied_still_evicts),
	TEST_ENTRY(ewb_faults),
	TEST_ENTRY(eldu_restores_page_and_clears_slot),
	TEST_ENTRY(eldb_loads_blocked),
	TEST_ENTRY(eldu_faults),
	TEST_ENTRY(secs_evicted_and_reloaded_elsewhere),
	TEST_ENTRY(va_page_evicted_and_reloaded),
	TEST_ENTRY(eaug_and_eaccept),
	TEST_ENTRY(emodpr_restricts_and_needs_tracking),
	TEST_ENTRY(emodt_trim_and_tcs),
	TEST_ENTRY(threads_enter_exit_and_kick),
	TEST_ENTRY(leaves_race_on_shared_pages),
};

TEST_MAIN(tests)
