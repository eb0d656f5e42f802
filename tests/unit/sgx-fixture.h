/* SPDX-License-Identifier: MIT */
/*
 * A small software SGX machine for the leaf and crypto tests: an ENCLS unit
 * over frames the test allocates itself (no EPC allocator, no cgroups),
 * enclaves built with ECREATE/EADD/EINIT, and EWB/ELDU blobs.  The test
 * keeps its own SHA-256 of every measured block, written from the SDM's
 * description of MRENCLAVE, so EINIT checks the leaves' measurement
 * against an independent computation.
 */
#ifndef EPCG_TEST_SGX_FIXTURE_H
#define EPCG_TEST_SGX_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <epcg/encls.h>
#include <openssl/evp.h>

#include "sgx/encls-internal.h"
#include "test.h"

#define FX_BASE 0x40000000ull /* ELRANGE of fixture enclaves */
#define FX_SIZE (256ull * EPCG_PAGE_SIZE)

/* SECINFO.FLAGS of page type @t (SECS, TCS, REG, VA, TRIM). */
#define FX_PT(t) EPCG_SGX_SECINFO_PT(EPCG_SGX_PT_##t)

#define GP EPCG_ENCLS_FAULT(EPCG_X86_TRAP_GP)
#define PF EPCG_ENCLS_FAULT(EPCG_X86_TRAP_PF)

/* The leaf result @expr must be exactly @want (0, a status or a fault). */
#define ASSERT_STATUS(expr, want)                                           \
	do {                                                                \
		int fx__r = (expr), fx__w = (want);                         \
		if (fx__r != fx__w)                                         \
			epcg_test_fail(__FILE__, __LINE__,                  \
				       "%s: want %s, got %s (%#x)", #expr,  \
				       epcg_sgx_status_name(fx__w),         \
				       epcg_sgx_status_name(fx__r), fx__r); \
	} while (0)

struct fx {
	struct epcg_encls *m;
	uint8_t *frames;
	uint64_t nr;
	enum epcg_sgx_src eldu_src;	/* what fx_eldu() says of its blob */
};

struct fx_encl {
	struct fx *fx;
	struct epcg_secs *s;
	uint64_t secs_pfn;
	EVP_MD_CTX *shadow;
};

/* One written-out page: what EWB leaves in untrusted memory. */
struct fx_blob {
	uint8_t data[EPCG_PAGE_SIZE] __attribute__((aligned(4096)));
	struct epcg_sgx_pcmd pcmd;
	uint64_t linaddr;
};

static inline void *fx_frame_of(void *arg, uint64_t pfn)
{
	return (uint8_t *)arg + pfn * EPCG_PAGE_SIZE;
}

static inline void fx_init(struct fx *f, uint64_t nr)
{
	f->nr = nr;
	f->frames = aligned_alloc(EPCG_PAGE_SIZE, nr * EPCG_PAGE_SIZE);
	ASSERT_NOT_NULL(f->frames);
	memset(f->frames, 0x5a, nr * EPCG_PAGE_SIZE);
	ASSERT_OK(epcg__encls_create(nr, fx_frame_of, f->frames, &f->m));
}

static inline void fx_finish(struct fx *f)
{
	epcg__encls_destroy(f->m);
	free(f->frames);
}

static inline uint8_t *fx_bytes(struct fx *f, uint64_t pfn)
{
	return epcg__encls_frame(f->m, pfn);
}

static inline struct epcg_epcm_info fx_epcm(struct fx *f, uint64_t pfn)
{
	struct epcg_epcm_info info;

	ASSERT_OK(epcg__epcm_read(f->m, pfn, &info));
	return info;
}

/* Fill @buf with a pattern that names @seed in every byte position. */
static inline void fx_pattern(uint8_t *buf, uint32_t seed)
{
	for (unsigned i = 0; i < EPCG_PAGE_SIZE; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* One 64-byte block: an 8-byte tag, the page offset, 48 more bytes. */
static inline void fx_shadow(struct fx_encl *e, const char *tag, uint64_t off,
			     const void *tail, size_t tail_len)
{
	uint8_t block[64] = { 0 };

	memcpy(block, tag, strlen(tag));
	for (int i = 0; i < 8; i++)
		block[8 + i] = (uint8_t)(off >> (8 * i));
	if (tail)
		memcpy(block + 16, tail, tail_len);
	ASSERT_EQ(EVP_DigestUpdate(e->shadow, block, sizeof(block)), 1);
}

static inline int fx_ecreate_at(struct fx *f, struct fx_encl *e,
				uint64_t secs_pfn, uint64_t base,
				uint64_t attributes)
{
	static struct epcg_sgx_secs src;
	struct epcg_sgx_secinfo si = { .flags = FX_PT(SECS) };
	struct epcg_sgx_pageinfo pi = { .srcpge = &src,
					.secinfo = &si,
					.secs = EPCG_SGX_NO_PFN };
	uint8_t block[64] = "ECREATE";
	int ret;

	memset(&src, 0, sizeof(src));
	src.size = FX_SIZE;
	src.base = base;
	src.ssa_frame_size = 1;
	src.attributes = attributes;
	e->fx = f;
	e->secs_pfn = secs_pfn;
	ASSERT_OK(epcg__secs_create(f->m, &e->s));
	ret = epcg__encls_ecreate(f->m, &pi, secs_pfn, e->s);
	if (ret)
		return ret;
	e->shadow = EVP_MD_CTX_new();
	ASSERT_NOT_NULL(e->shadow);
	ASSERT_EQ(EVP_DigestInit_ex(e->shadow, EVP_sha256(), NULL), 1);
	block[8] = 1; /* SSAFRAMESIZE, 4 bytes */
	for (int i = 0; i < 8; i++)
		block[12 + i] = (uint8_t)(FX_SIZE >> (8 * i));
	ASSERT_EQ(EVP_DigestUpdate(e->shadow, block, sizeof(block)), 1);
	return 0;
}

static inline void fx_ecreate(struct fx *f, struct fx_encl *e,
			      uint64_t secs_pfn)
{
	ASSERT_STATUS(fx_ecreate_at(f, e, secs_pfn, FX_BASE, 0), 0);
}

static inline uint64_t fx_linaddr(unsigned idx)
{
	return FX_BASE + (uint64_t)idx * EPCG_PAGE_SIZE;
}

/* EADD page @idx of @e into @pfn with content fx_pattern(@idx). */
static inline int fx_eadd(struct fx_encl *e, uint64_t pfn, unsigned idx,
			  unsigned pt, unsigned perm)
{
	static uint8_t src[EPCG_PAGE_SIZE] __attribute__((aligned(4096)));
	struct epcg_sgx_secinfo si = { .flags = EPCG_SGX_SECINFO_PT(pt) |
						perm };
	struct epcg_sgx_pageinfo pi = {
		.linaddr = fx_linaddr(idx),
		.srcpge = src,
		.secinfo = &si,
		.secs = e->secs_pfn,
	};
	int ret;

	fx_pattern(src, idx);
	ret = epcg__encls_eadd(e->fx->m, &pi, pfn);
	if (!ret)
		fx_shadow(e, "EADD", (uint64_t)idx * EPCG_PAGE_SIZE, &si, 48);
	return ret;
}

static inline void fx_add_reg(struct fx_encl *e, uint64_t pfn, unsigned idx)
{
	ASSERT_STATUS(fx_eadd(e, pfn, idx, EPCG_SGX_PT_REG,
			      EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_W),
		      0);
}

/* EEXTEND all of page @idx (resident at @pfn). */
static inline void fx_eextend_page(struct fx_encl *e, uint64_t pfn,
				   unsigned idx)
{
	uint8_t *bytes = fx_bytes(e->fx, pfn);

	for (unsigned off = 0; off < EPCG_PAGE_SIZE; off += 256) {
		ASSERT_STATUS(epcg__encls_eextend(e->fx->m, e->secs_pfn, pfn,
						  off),
			      0);
		fx_shadow(e, "EEXTEND", (uint64_t)idx * EPCG_PAGE_SIZE + off,
			  NULL, 0);
		ASSERT_EQ(EVP_DigestUpdate(e->shadow, bytes + off, 256), 1);
	}
}

/* The measurement the test expects, without finishing its running copy. */
static inline void fx_expected(struct fx_encl *e, uint8_t md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned len;

	ASSERT_NOT_NULL(c);
	ASSERT_EQ(EVP_MD_CTX_copy_ex(c, e->shadow), 1);
	ASSERT_EQ(EVP_DigestFinal_ex(c, md, &len), 1);
	EVP_MD_CTX_free(c);
}

static inline void fx_einit(struct fx_encl *e)
{
	struct epcg_sgx_sigstruct sig = { .attribute_mask = 0 };

	fx_expected(e, sig.enclave_hash);
	ASSERT_STATUS(epcg__encls_einit(e->fx->m, e->secs_pfn, &sig), 0);
}

/* Remove the enclave's resident pages (children first) and free it. */
static inline void fx_encl_finish(struct fx_encl *e)
{
	struct fx *f = e->fx;
	uint64_t pfn;

	for (pfn = 0; pfn < f->nr; pfn++) {
		struct epcg_epcm_info info = fx_epcm(f, pfn);

		if (info.valid && info.owner == e->s &&
		    info.type != EPCG_SGX_PT_SECS)
			ASSERT_STATUS(epcg__encls_eremove(f->m, pfn), 0);
	}
	pfn = epcg__secs_pfn(e->s);
	if (pfn != EPCG_SGX_NO_PFN)
		ASSERT_STATUS(epcg__encls_eremove(f->m, pfn), 0);
	ASSERT_EQ(epcg__secs_nr_children(e->s), 0);
	EVP_MD_CTX_free(e->shadow);
	epcg__secs_destroy(e->s);
}

static inline int fx_ewb(struct fx *f, uint64_t pfn, uint64_t va, unsigned slot,
			 struct fx_blob *b)
{
	struct epcg_sgx_pageinfo pi = { .srcpge = b->data,
					.pcmd = &b->pcmd,
					.secs = EPCG_SGX_NO_PFN };
	int ret = epcg__encls_ewb(f->m, &pi, pfn, va, slot);

	b->linaddr = pi.linaddr;
	return ret;
}

static inline int fx_eldu(struct fx *f, const struct fx_blob *b,
			  uint64_t linaddr, uint64_t secs_pfn, uint64_t pfn,
			  uint64_t va, unsigned slot)
{
	struct epcg_sgx_pageinfo pi = {
		.linaddr = linaddr,
		.srcpge = (void *)b->data,
		.pcmd = (struct epcg_sgx_pcmd *)&b->pcmd,
		.secs = secs_pfn,
		.src = f->eldu_src,
	};

	return epcg__encls_eldu(f->m, &pi, pfn, va, slot);
}

/* EBLOCK, ETRACK, EWB of a child page, all expected to succeed. */
static inline void fx_evict(struct fx_encl *e, uint64_t pfn, uint64_t va,
			    unsigned slot, struct fx_blob *b)
{
	ASSERT_STATUS(epcg__encls_eblock(e->fx->m, pfn), 0);
	ASSERT_STATUS(epcg__encls_etrack(e->fx->m, e->secs_pfn), 0);
	ASSERT_STATUS(fx_ewb(e->fx, pfn, va, slot, b), 0);
}

static inline bool fx_all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static inline uint64_t fx_slot(struct fx *f, uint64_t va, unsigned slot)
{
	uint64_t v;

	memcpy(&v, fx_bytes(f, va) + 8 * slot, sizeof(v));
	return v;
}

#endif
