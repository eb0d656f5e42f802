// SPDX-License-Identifier: MIT
/*
 * Paging crypto: the AES-GCM seal and open on their own (IV layout, a
 * known answer from plain OpenSSL, versions, the key never leaving: not
 * in any output, the raw key wiped from its locked, undumped page, the
 * daemon's process hardening), then
 * through EWB and ELDU: every way a written-out page can be tampered with,
 * misplaced or replayed must end in SGX_MAC_COMPARE_FAIL with nothing
 * loaded.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sgx-fixture.h"
#include "sgx/crypto-internal.h"

#define NR 32
#define SECS 0
#define VA 1
#define P(i) (3 + (i))

static const uint8_t test_key[EPCG_PAGING_KEY_SIZE] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
};

static uint8_t page_in[EPCG_PAGE_SIZE], page_out[EPCG_PAGE_SIZE],
	page_back[EPCG_PAGE_SIZE];

static void fill_aad(uint8_t aad[EPCG_PAGING_HEADER_SIZE], uint8_t seed)
{
	for (int i = 0; i < EPCG_PAGING_HEADER_SIZE; i++)
		aad[i] = (uint8_t)(seed + 3 * i);
}

TEST(iv_is_the_version_shifted_left_32)
{
	uint8_t iv[EPCG_PAGING_IV_SIZE];
	const uint8_t want[EPCG_PAGING_IV_SIZE] = { 1, 2, 3, 4, 5, 6,
						    7, 8, 0, 0, 0, 0 };

	epcg__paging_iv(0x0102030405060708ull, iv);
	ASSERT_MEMEQ(iv, want, sizeof(want));
}

TEST(header_layout)
{
	struct epcg_sgx_pcmd pcmd = { .enclave_id = 99 };
	uint8_t hdr[EPCG_PAGING_HEADER_SIZE];

	pcmd.secinfo.flags = FX_PT(TCS) | 0x5;
	pcmd.reserved[0] = 0xa1;
	pcmd.reserved[39] = 0xa2;
	memset(pcmd.mac, 0xff, sizeof(pcmd.mac));
	epcg__paging_header(hdr, &pcmd, 0x1122334455667788ull, 7);
	ASSERT_EQ(hdr[0], 0x05);
	ASSERT_EQ(hdr[1], EPCG_SGX_PT_TCS);
	ASSERT_TRUE(fx_all_zero(hdr + 2, 62));
	ASSERT_EQ(hdr[64], 0x88);
	ASSERT_EQ(hdr[71], 0x11);
	ASSERT_EQ(hdr[72], 7);
	ASSERT_TRUE(fx_all_zero(hdr + 73, 7));
	ASSERT_EQ(hdr[80], 0xa1);
	ASSERT_EQ(hdr[119], 0xa2);
	ASSERT_TRUE(fx_all_zero(hdr + 120, 8));
}

/* The seal equals AES-128-GCM computed directly with OpenSSL. */
TEST(seal_matches_plain_openssl)
{
	uint8_t aad[EPCG_PAGING_HEADER_SIZE], iv[EPCG_PAGING_IV_SIZE];
	uint8_t tag[16], want_tag[16], want[EPCG_PAGE_SIZE];
	struct epcg_paging_crypto *pc;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len;

	ASSERT_OK(epcg__paging_crypto_create_with_key(test_key, &pc));
	fx_pattern(page_in, 1);
	fill_aad(aad, 9);
	ASSERT_OK(epcg__paging_seal(pc, 0x1234, aad, page_in, page_out, tag));

	memset(iv, 0, sizeof(iv));
	iv[6] = 0x12;
	iv[7] = 0x34;
	ASSERT_EQ(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, test_key, iv),
		  1);
	ASSERT_EQ(EVP_EncryptUpdate(c, NULL, &len, aad, sizeof(aad)), 1);
	ASSERT_EQ(EVP_EncryptUpdate(c, want, &len, page_in, EPCG_PAGE_SIZE), 1);
	ASSERT_EQ(EVP_EncryptFinal_ex(c, want + len, &len), 1);
	ASSERT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, want_tag),
		  1);
	ASSERT_MEMEQ(page_out, want, EPCG_PAGE_SIZE);
	ASSERT_MEMEQ(tag, want_tag, 16);
	EVP_CIPHER_CTX_free(c);
	epcg__paging_crypto_destroy(pc);
}

TEST(seal_open_round_trip)
{
	uint8_t aad[EPCG_PAGING_HEADER_SIZE], tag[16];
	struct epcg_paging_crypto *pc;
	uint64_t v;

	ASSERT_OK(epcg__paging_crypto_create(&pc));
	fill_aad(aad, 1);
	for (int i = 0; i < 100; i++) {
		fx_pattern(page_in, i);
		v = epcg__paging_next_version(pc);
		ASSERT_OK(
			epcg__paging_seal(pc, v, aad, page_in, page_out, tag));
		ASSERT_TRUE(memcmp(page_in, page_out, EPCG_PAGE_SIZE));
		ASSERT_OK(epcg__paging_open(pc, v, aad, page_out, tag,
					    page_back));
		ASSERT_MEMEQ(page_in, page_back, EPCG_PAGE_SIZE);
	}
	/* In place, as ELDU opens inside the frame. */
	memcpy(page_back, page_in, EPCG_PAGE_SIZE);
	ASSERT_OK(epcg__paging_seal(pc, v + 1, aad, page_back, page_back, tag));
	ASSERT_OK(epcg__paging_open(pc, v + 1, aad, page_back, tag, page_back));
	ASSERT_MEMEQ(page_in, page_back, EPCG_PAGE_SIZE);
	epcg__paging_crypto_destroy(pc);
	epcg__paging_crypto_destroy(NULL);
}

TEST(failed_open_leaves_zeroes)
{
	uint8_t aad[EPCG_PAGING_HEADER_SIZE], tag[16];
	struct epcg_paging_crypto *pc, *other;

	ASSERT_OK(epcg__paging_crypto_create(&pc));
	ASSERT_OK(epcg__paging_crypto_create(&other));
	fill_aad(aad, 2);
	fx_pattern(page_in, 5);
	ASSERT_OK(epcg__paging_seal(pc, 10, aad, page_in, page_out, tag));

	memset(page_back, 0xaa, EPCG_PAGE_SIZE);
	ASSERT_ERR(epcg__paging_open(pc, 11, aad, page_out, tag, page_back),
		   EBADMSG);
	ASSERT_TRUE(fx_all_zero(page_back, EPCG_PAGE_SIZE));
	aad[127] ^= 1;
	ASSERT_ERR(epcg__paging_open(pc, 10, aad, page_out, tag, page_back),
		   EBADMSG);
	aad[127] ^= 1;
	tag[15] ^= 0x80;
	ASSERT_ERR(epcg__paging_open(pc, 10, aad, page_out, tag, page_back),
		   EBADMSG);
	tag[15] ^= 0x80;
	page_out[4000] ^= 4;
	memset(page_back, 0xaa, EPCG_PAGE_SIZE);
	ASSERT_ERR(epcg__paging_open(pc, 10, aad, page_out, tag, page_back),
		   EBADMSG);
	ASSERT_TRUE(fx_all_zero(page_back, EPCG_PAGE_SIZE));
	page_out[4000] ^= 4;
	/* Another machine's key. */
	ASSERT_ERR(epcg__paging_open(other, 10, aad, page_out, tag, page_back),
		   EBADMSG);
	ASSERT_OK(epcg__paging_open(pc, 10, aad, page_out, tag, page_back));
	ASSERT_MEMEQ(page_back, page_in, EPCG_PAGE_SIZE);
	epcg__paging_crypto_destroy(pc);
	epcg__paging_crypto_destroy(other);
}

#define VERSION_THREADS 4
#define VERSIONS_EACH 50000

struct version_run {
	struct epcg_paging_crypto *pc;
	uint64_t *out;
};

static void *draw_versions(void *arg)
{
	struct version_run *r = arg;

	for (int i = 0; i < VERSIONS_EACH; i++)
		r->out[i] = epcg__paging_next_version(r->pc);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST(versions_never_repeat)
{
	static uint64_t all[VERSION_THREADS * VERSIONS_EACH];
	struct version_run runs[VERSION_THREADS];
	pthread_t th[VERSION_THREADS];
	struct epcg_paging_crypto *pc;
	size_t n = EPCG_ARRAY_SIZE(all);

	ASSERT_OK(epcg__paging_crypto_create(&pc));
	ASSERT_U64_EQ(epcg__paging_next_version(pc), 1);
	for (int k = 0; k < VERSION_THREADS; k++) {
		runs[k] = (struct version_run){ pc, all + k * VERSIONS_EACH };
		ASSERT_EQ(pthread_create(&th[k], NULL, draw_versions, &runs[k]),
			  0);
	}
	for (int k = 0; k < VERSION_THREADS; k++)
		pthread_join(th[k], NULL);
	qsort(all, n, sizeof(all[0]), cmp_u64);
	ASSERT_U64_EQ(all[0], 2);
	for (size_t i = 1; i < n; i++)
		ASSERT_CMP(all[i], >, all[i - 1]);
	epcg__paging_crypto_destroy(pc);
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle,
		     size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(hay + i, needle, len))
			return true;
	return false;
}

/* Nothing written out carries the key, even for an all-zero page. */
TEST(key_never_in_output)
{
	uint8_t aad[EPCG_PAGING_HEADER_SIZE] = { 0 }, tag[16];
	struct epcg_paging_crypto *pc;

	ASSERT_OK(epcg__paging_crypto_create_with_key(test_key, &pc));
	for (int i = 0; i < 64; i++) {
		if (i)
			fx_pattern(page_in, i);
		else
			memset(page_in, 0, EPCG_PAGE_SIZE);
		ASSERT_OK(epcg__paging_seal(pc, epcg__paging_next_version(pc),
					    aad, page_in, page_out, tag));
		ASSERT_FALSE(contains(page_out, EPCG_PAGE_SIZE, test_key, 8));
		ASSERT_FALSE(
			contains(page_out, EPCG_PAGE_SIZE, test_key + 8, 8));
		ASSERT_FALSE(contains(tag, 16, test_key, 8));
		ASSERT_FALSE(contains(tag, 16, test_key + 8, 8));
	}
	epcg__paging_crypto_destroy(pc);
}

/* ---- keeping the key to this process ---- */

/*
 * The VmFlags of the mapping of /proc/self/smaps that holds @addr, into
 * @flags (" lo dd ..."; empty if none holds it).
 */
static void vm_flags_of(const void *addr, char *flags, size_t size)
{
	uintptr_t a = (uintptr_t)addr;
	char line[512];
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	flags[0] = '\0';
	ASSERT_NOT_NULL(f);
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2) {
			in = lo <= a && a < hi;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, size, "%s", line + 8);
			break;
		}
	}
	fclose(f);
}

/*
 * Whether mlock() locks here: the sanitizers' runtimes replace it with a
 * call that does nothing, and an unprivileged process may have no memlock
 * quota.  Tried on a page of our own.
 */
static bool mlock_works(void)
{
	size_t size = (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char flags[512];

	ASSERT_TRUE(p != MAP_FAILED);
	if (mlock(p, size))
		flags[0] = '\0';
	else
		vm_flags_of(p, flags, sizeof(flags));
	munmap(p, size);
	return strstr(flags, " lo") != NULL;
}

/*
 * A machine's random key: drawn into a page of its own that is locked in
 * RAM (where mlock works: see above) and left out of core dumps, and
 * that holds nothing but zeroes once the cipher contexts are keyed, while
 * the contexts still seal and open.
 */
TEST(random_key_wiped_after_setup_locked_not_dumped)
{
	uint8_t aad[EPCG_PAGING_HEADER_SIZE], tag[16];
	char flags[512];
	struct epcg_paging_crypto *pc;
	const uint8_t *area;
	size_t size;
	uint64_t v;

	ASSERT_OK(epcg__paging_crypto_create(&pc));
	area = epcg__paging_key_area(pc, &size);
	ASSERT_NOT_NULL(area);
	ASSERT_EQ(size, (size_t)sysconf(_SC_PAGESIZE));
	ASSERT_TRUE(fx_all_zero(area, size));
	vm_flags_of(area, flags, sizeof(flags));
	ASSERT_NOT_NULL(strstr(flags, " dd"));
	if (mlock_works())
		ASSERT_NOT_NULL(strstr(flags, " lo"));
	/* The wipe did not take the key from the contexts. */
	fx_pattern(page_in, 5);
	fill_aad(aad, 1);
	v = epcg__paging_next_version(pc);
	ASSERT_OK(epcg__paging_seal(pc, v, aad, page_in, page_out, tag));
	ASSERT_TRUE(memcmp(page_in, page_out, EPCG_PAGE_SIZE));
	ASSERT_OK(epcg__paging_open(pc, v, aad, page_out, tag, page_back));
	ASSERT_MEMEQ(page_back, page_in, EPCG_PAGE_SIZE);
	epcg__paging_crypto_destroy(pc);

	/* A caller's key (known-answer tests) has no key area. */
	ASSERT_OK(epcg__paging_crypto_create_with_key(test_key, &pc));
	ASSERT_NULL(epcg__paging_key_area(pc, &size));
	epcg__paging_crypto_destroy(pc);
}

/* Two machines never share a key: each opens only its own blobs. */
TEST(random_keys_differ)
{
	uint8_t aad[EPCG_PAGING_HEADER_SIZE], tag[16];
	struct epcg_paging_crypto *a, *b;
	uint64_t v;

	ASSERT_OK(epcg__paging_crypto_create(&a));
	ASSERT_OK(epcg__paging_crypto_create(&b));
	fx_pattern(page_in, 6);
	fill_aad(aad, 2);
	v = epcg__paging_next_version(a);
	ASSERT_OK(epcg__paging_seal(a, v, aad, page_in, page_out, tag));
	ASSERT_ERR(epcg__paging_open(b, v, aad, page_out, tag, page_back),
		   EBADMSG);
	ASSERT_OK(epcg__paging_open(a, v, aad, page_out, tag, page_back));
	epcg__paging_crypto_destroy(a);
	epcg__paging_crypto_destroy(b);
}

/*
 * The daemon's hardening: no longer dumpable (no core file, no ptrace or
 * /proc/PID/mem by its own user) and no core size left, even as a hard
 * limit.  The test runs in a process of its own, so this stays there.
 */
TEST(process_harden_not_dumpable_no_core)
{
	struct rlimit core;

	ASSERT_EQ(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	ASSERT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	ASSERT_OK(epcg__paging_process_harden());
	ASSERT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	ASSERT_OK(getrlimit(RLIMIT_CORE, &core));
	ASSERT_U64_EQ(core.rlim_cur, 0);
	ASSERT_U64_EQ(core.rlim_max, 0);
	/* Idempotent. */
	ASSERT_OK(epcg__paging_process_harden());
	ASSERT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

/* ---- through the leaves ---- */

struct scene {
	struct fx f;
	struct fx_encl e;
	struct fx_blob b[4];
	uint8_t plain[4][EPCG_PAGE_SIZE];
};

/* An initialized enclave with pages 0-3 added, then evicted to slots 0-3. */
static struct scene *scene_evicted(void)
{
	struct scene *sc = aligned_alloc(EPCG_PAGE_SIZE, sizeof(*sc));

	ASSERT_NOT_NULL(sc);
	memset(sc, 0, sizeof(*sc));
	fx_init(&sc->f, NR);
	fx_ecreate(&sc->f, &sc->e, SECS);
	ASSERT_STATUS(epcg__encls_epa(sc->f.m, VA), 0);
	fx_add_reg(&sc->e, P(0), 0);
	fx_add_reg(&sc->e, P(1), 1);
	ASSERT_STATUS(fx_eadd(&sc->e, P(2), 2, EPCG_SGX_PT_TCS, 0), 0);
	ASSERT_STATUS(fx_eadd(&sc->e, P(3), 3, EPCG_SGX_PT_REG,
			      EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_X),
		      0);
	fx_einit(&sc->e);
	for (unsigned i = 0; i < 4; i++) {
		memcpy(sc->plain[i], fx_bytes(&sc->f, P(i)), EPCG_PAGE_SIZE);
		fx_evict(&sc->e, P(i), VA, i, &sc->b[i]);
	}
	return sc;
}

static void scene_free(struct scene *sc)
{
	fx_encl_finish(&sc->e);
	fx_finish(&sc->f);
	free(sc);
}

/*
 * The load must fail with MAC_COMPARE_FAIL and leave no trace: the frame
 * invalid and without the plaintext, the slot and the child count as they
 * were.
 */
static void expect_rejected(struct scene *sc, const struct fx_blob *b,
			    uint64_t linaddr, uint64_t secs, unsigned slot,
			    const uint8_t *plain)
{
	struct fx *f = &sc->f;
	uint64_t v = fx_slot(f, VA, slot);
	uint64_t children = epcg__secs_nr_children(sc->e.s);

	memcpy(fx_bytes(f, P(10)), plain, EPCG_PAGE_SIZE);
	ASSERT_STATUS(fx_eldu(f, b, linaddr, secs, P(10), VA, slot),
		      EPCG_SGX_MAC_COMPARE_FAIL);
	ASSERT_FALSE(fx_epcm(f, P(10)).valid);
	ASSERT_TRUE(memcmp(fx_bytes(f, P(10)), plain, EPCG_PAGE_SIZE));
	ASSERT_TRUE(fx_all_zero(fx_bytes(f, P(10)), EPCG_PAGE_SIZE));
	ASSERT_U64_EQ(fx_slot(f, VA, slot), v);
	ASSERT_EQ(epcg__secs_nr_children(sc->e.s), children);
}

/* After a rejected variant, the genuine blob still loads, intact. */
static void expect_genuine_loads(struct scene *sc, unsigned i)
{
	ASSERT_STATUS(fx_eldu(&sc->f, &sc->b[i], fx_linaddr(i), SECS, P(20 + i),
			      VA, i),
		      0);
	ASSERT_MEMEQ(fx_bytes(&sc->f, P(20 + i)), sc->plain[i], EPCG_PAGE_SIZE);
	ASSERT_EQ(fx_slot(&sc->f, VA, i), 0);
}

TEST(ewb_eldu_round_trip)
{
	struct scene *sc = scene_evicted();

	for (unsigned i = 0; i < 4; i++) {
		ASSERT_TRUE(
			memcmp(sc->b[i].data, sc->plain[i], EPCG_PAGE_SIZE));
		expect_genuine_loads(sc, i);
	}
	ASSERT_EQ(fx_epcm(&sc->f, P(22)).type, EPCG_SGX_PT_TCS);
	ASSERT_EQ(fx_epcm(&sc->f, P(23)).flags,
		  EPCG_SGX_SECINFO_R | EPCG_SGX_SECINFO_X);
	scene_free(sc);
}

TEST(same_page_twice_gives_different_blobs)
{
	static struct fx_blob again;
	struct scene *sc = scene_evicted();

	expect_genuine_loads(sc, 0);
	ASSERT_STATUS(epcg__encls_eblock(sc->f.m, P(20)), 0);
	ASSERT_STATUS(epcg__encls_etrack(sc->f.m, SECS), 0);
	ASSERT_STATUS(fx_ewb(&sc->f, P(20), VA, 0, &again), 0);
	ASSERT_TRUE(memcmp(again.data, sc->b[0].data, EPCG_PAGE_SIZE));
	ASSERT_TRUE(memcmp(again.pcmd.mac, sc->b[0].pcmd.mac, 16));
	scene_free(sc);
}

TEST(tampered_ciphertext)
{
	static struct fx_blob t;
	struct scene *sc = scene_evicted();

	for (unsigned bit = 0; bit < 8 * EPCG_PAGE_SIZE; bit += 4093) {
		t = sc->b[0];
		t.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_rejected(sc, &t, fx_linaddr(0), SECS, 0, sc->plain[0]);
	}
	expect_genuine_loads(sc, 0);
	scene_free(sc);
}

/*
 * A blob the caller alone writes is decrypted where it is, without the
 * copy (the enclaves' own backing stores): the same checks hold, the
 * blob is left as it was, and a rejected load still leaves zeroes.
 */
TEST(private_source_loads_and_rejects_alike)
{
	static struct fx_blob t, before;
	struct scene *sc = scene_evicted();

	sc->f.eldu_src = EPCG_SGX_SRC_PRIVATE;
	for (unsigned bit = 0; bit < 8 * EPCG_PAGE_SIZE; bit += 4093) {
		t = sc->b[2];
		t.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_rejected(sc, &t, fx_linaddr(2), SECS, 2, sc->plain[2]);
	}
	t = sc->b[2];
	t.pcmd.mac[0] ^= 1;
	expect_rejected(sc, &t, fx_linaddr(2), SECS, 2, sc->plain[2]);
	for (unsigned i = 0; i < 4; i++) {
		before = sc->b[i];
		expect_genuine_loads(sc, i);
		ASSERT_MEMEQ(&sc->b[i], &before, sizeof(before));
	}
	scene_free(sc);
}

/* The paging crypto alone: both kinds of source open the same pages. */
TEST(open_from_either_source)
{
	uint8_t aad[EPCG_PAGING_HEADER_SIZE], tag[16];
	const enum epcg_sgx_src srcs[] = { EPCG_SGX_SRC_UNTRUSTED,
					   EPCG_SGX_SRC_PRIVATE };
	struct epcg_paging_crypto *pc;

	ASSERT_OK(epcg__paging_crypto_create(&pc));
	fill_aad(aad, 3);
	for (unsigned k = 0; k < EPCG_ARRAY_SIZE(srcs); k++) {
		for (int i = 0; i < 20; i++) {
			uint64_t v = epcg__paging_next_version(pc);

			fx_pattern(page_in, i + 100 * (int)k);
			ASSERT_OK(epcg__paging_seal(pc, v, aad, page_in,
						    page_out, tag));
			memset(page_back, 0x33, EPCG_PAGE_SIZE);
			ASSERT_OK(epcg__paging_open_from(pc, v, aad, page_out,
							 srcs[k], tag,
							 page_back));
			ASSERT_MEMEQ(page_in, page_back, EPCG_PAGE_SIZE);
			page_out[i * 200] ^= 0x10;
			memset(page_back, 0x33, EPCG_PAGE_SIZE);
			ASSERT_ERR(epcg__paging_open_from(pc, v, aad, page_out,
							  srcs[k], tag,
							  page_back),
				   EBADMSG);
			ASSERT_TRUE(fx_all_zero(page_back, EPCG_PAGE_SIZE));
		}
		/* In place, where there is nothing to copy. */
		memcpy(page_back, page_in, EPCG_PAGE_SIZE);
		ASSERT_OK(epcg__paging_seal(pc, 999 + k, aad, page_back,
					    page_back, tag));
		ASSERT_OK(epcg__paging_open_from(pc, 999 + k, aad, page_back,
						 srcs[k], tag, page_back));
		ASSERT_MEMEQ(page_in, page_back, EPCG_PAGE_SIZE);
	}
	epcg__paging_crypto_destroy(pc);
}

TEST(tampered_pcmd)
{
	static struct fx_blob t;
	struct scene *sc = scene_evicted();

	/* SECINFO flags: a permission, a state bit, the type's byte. */
	const uint64_t flips[] = { EPCG_SGX_SECINFO_X, EPCG_SGX_SECINFO_PENDING,
				   EPCG_SGX_SECINFO_PR, 1u << 12, 1ull << 40 };
	for (unsigned i = 0; i < EPCG_ARRAY_SIZE(flips); i++) {
		t = sc->b[1];
		t.pcmd.secinfo.flags ^= flips[i];
		expect_rejected(sc, &t, fx_linaddr(1), SECS, 1, sc->plain[1]);
	}
	t = sc->b[1];
	t.pcmd.secinfo.reserved[17] ^= 1;
	expect_rejected(sc, &t, fx_linaddr(1), SECS, 1, sc->plain[1]);
	t = sc->b[1];
	t.pcmd.reserved[0] ^= 0x10;
	expect_rejected(sc, &t, fx_linaddr(1), SECS, 1, sc->plain[1]);
	t = sc->b[1];
	t.pcmd.enclave_id ^= 1;
	expect_rejected(sc, &t, fx_linaddr(1), SECS, 1, sc->plain[1]);
	for (unsigned byte = 0; byte < 16; byte += 5) {
		t = sc->b[1];
		t.pcmd.mac[byte] ^= 0x01;
		expect_rejected(sc, &t, fx_linaddr(1), SECS, 1, sc->plain[1]);
	}
	expect_genuine_loads(sc, 1);
	scene_free(sc);
}

TEST(wrong_linear_address)
{
	struct scene *sc = scene_evicted();

	expect_rejected(sc, &sc->b[0], fx_linaddr(1), SECS, 0, sc->plain[0]);
	expect_rejected(sc, &sc->b[0], fx_linaddr(0) + EPCG_PAGE_SIZE * 100,
			SECS, 0, sc->plain[0]);
	expect_genuine_loads(sc, 0);
	scene_free(sc);
}

TEST(wrong_page_type)
{
	static struct fx_blob t;
	struct scene *sc = scene_evicted();
	const unsigned types[] = { EPCG_SGX_PT_TCS, EPCG_SGX_PT_TRIM,
				   EPCG_SGX_PT_VA, EPCG_SGX_PT_SECS, 7 };

	for (unsigned i = 0; i < EPCG_ARRAY_SIZE(types); i++) {
		t = sc->b[0];
		t.pcmd.secinfo.flags &= ~(uint64_t)EPCG_SGX_SECINFO_PT_MASK;
		t.pcmd.secinfo.flags |= EPCG_SGX_SECINFO_PT(types[i]);
		expect_rejected(sc, &t, fx_linaddr(0), SECS, 0, sc->plain[0]);
	}
	/* A TCS blob passed off as a REG page. */
	t = sc->b[2];
	t.pcmd.secinfo.flags = FX_PT(REG) | EPCG_SGX_SECINFO_R |
			       EPCG_SGX_SECINFO_W;
	expect_rejected(sc, &t, fx_linaddr(2), SECS, 2, sc->plain[2]);
	expect_genuine_loads(sc, 0);
	expect_genuine_loads(sc, 2);
	scene_free(sc);
}

TEST(wrong_enclave)
{
	static struct fx_blob t;
	struct scene *sc = scene_evicted();
	struct fx_encl other;

	/* Same ELRANGE, same page layout: only the enclave id differs. */
	ASSERT_OK(fx_ecreate_at(&sc->f, &other, P(15), FX_BASE, 0));
	fx_add_reg(&other, P(16), 0);
	expect_rejected(sc, &sc->b[0], fx_linaddr(0), P(15), 0, sc->plain[0]);
	/* Relabelled for the other enclave, the MAC still says no. */
	t = sc->b[0];
	t.pcmd.enclave_id = epcg__secs_eid(other.s);
	expect_rejected(sc, &t, fx_linaddr(0), P(15), 0, sc->plain[0]);
	fx_encl_finish(&other);
	expect_genuine_loads(sc, 0);
	scene_free(sc);
}

TEST(swapped_blobs)
{
	static struct fx_blob t;
	struct scene *sc = scene_evicted();

	/* Page 0's blob at page 1's place (address and slot). */
	expect_rejected(sc, &sc->b[0], fx_linaddr(1), SECS, 1, sc->plain[0]);
	/* Page 0's blob with page 1's slot, its own address. */
	expect_rejected(sc, &sc->b[0], fx_linaddr(0), SECS, 1, sc->plain[0]);
	/* Page 0's ciphertext with page 1's PCMD, and the other way. */
	t = sc->b[0];
	t.pcmd = sc->b[1].pcmd;
	expect_rejected(sc, &t, fx_linaddr(0), SECS, 0, sc->plain[0]);
	expect_rejected(sc, &t, fx_linaddr(1), SECS, 1, sc->plain[0]);
	/* Pages 0 and 3 differ in permissions only. */
	t = sc->b[3];
	t.pcmd = sc->b[0].pcmd;
	expect_rejected(sc, &t, fx_linaddr(3), SECS, 3, sc->plain[3]);
	for (unsigned i = 0; i < 4; i++)
		expect_genuine_loads(sc, i);
	scene_free(sc);
}

TEST(replayed_older_blob)
{
	static struct fx_blob old, cur;
	struct scene *sc = scene_evicted();
	uint8_t *bytes;

	old = sc->b[0];
	expect_genuine_loads(sc, 0);
	/* The slot is clear: the blob just loaded cannot load twice. */
	expect_rejected(sc, &old, fx_linaddr(0), SECS, 0, sc->plain[0]);
	/* The enclave rewrites the page; it is evicted into the same slot. */
	bytes = fx_bytes(&sc->f, P(20));
	bytes[0] ^= 0xff;
	ASSERT_STATUS(epcg__encls_eblock(sc->f.m, P(20)), 0);
	ASSERT_STATUS(epcg__encls_etrack(sc->f.m, SECS), 0);
	ASSERT_STATUS(fx_ewb(&sc->f, P(20), VA, 0, &cur), 0);
	expect_rejected(sc, &old, fx_linaddr(0), SECS, 0, sc->plain[0]);
	sc->b[0] = cur;
	sc->plain[0][0] ^= 0xff;
	expect_genuine_loads(sc, 0);
	/* A blob moved to another slot that holds a newer version. */
	expect_rejected(sc, &old, fx_linaddr(0), SECS, 1, sc->plain[0]);
	scene_free(sc);
}

TEST(other_machine_rejects_blob)
{
	struct scene *a = scene_evicted(), *b = scene_evicted();

	/* Same layout, same slots, a different key: nothing opens. */
	memcpy(fx_bytes(&b->f, VA), fx_bytes(&a->f, VA), EPCG_PAGE_SIZE);
	expect_rejected(b, &a->b[0], fx_linaddr(0), SECS, 0, a->plain[0]);
	expect_genuine_loads(a, 0);
	scene_free(a);
	scene_free(b);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(iv_is_the_version_shifted_left_32),
	TEST_ENTRY(header_layout),
	TEST_ENTRY(seal_matches_plain_openssl),
	TEST_ENTRY(seal_open_round_trip),
	TEST_ENTRY(failed_open_leaves_zeroes),
	TEST_ENTRY(versions_never_repeat),
	TEST_ENTRY(key_never_in_output),
	TEST_ENTRY(random_key_wiped_after_setup_locked_not_dumped),
	TEST_ENTRY(random_keys_differ),
	TEST_ENTRY(process_harden_not_dumpable_no_core),
	TEST_ENTRY(ewb_eldu_round_trip),
	TEST_ENTRY(same_page_twice_gives_different_blobs),
	TEST_ENTRY(tampered_ciphertext),
	TEST_ENTRY(private_source_loads_and_rejects_alike),
	TEST_ENTRY(open_from_either_source),
	TEST_ENTRY(tampered_pcmd),
	TEST_ENTRY(wrong_linear_address),
	TEST_ENTRY(wrong_page_type),
	TEST_ENTRY(wrong_enclave),
	TEST_ENTRY(swapped_blobs),
	TEST_ENTRY(replayed_older_blob),
	TEST_ENTRY(other_machine_rejects_blob),
};

TEST_MAIN(tests)
