// SPDX-License-Identifier: MIT
/*
 * Paging crypto: how EWB seals an EPC page and ELDU opens it again.
 *
 * The cipher
 * ----------
 * AES-128-GCM through OpenSSL's EVP interface, one 4096-byte page per
 * message, a 16-byte tag, and a 128-byte MAC header as additional
 * authenticated data.  Everything the hardware binds to a page is in the
 * header (below) or in the IV, so a blob opens only at the place it was
 * written from, in the enclave it belongs to, with the version it was
 * written with.
 *
 * The IV
 * ------
 * Each eviction draws a fresh 64-bit version from a counter that starts at
 * 1 and only grows (an atomic fetch-add, so no two threads ever share a
 * value).  The SDM feeds "version << 32" to the GCM counter; read as a
 * 96-bit big-endian number that is
 *
 *	IV[0..7]  = version, big-endian
 *	IV[8..11] = 0
 *
 * which is what epcg__paging_iv() builds.  A GCM nonce must never repeat
 * under one key; the counter never repeats and the key lives exactly as
 * long as the counter, so it does not.  The version is also what EWB
 * stores in the VA slot: ELDU reads it back from there, so a blob opens
 * only while its slot still holds its version (anti-replay, see encls.c).
 *
 * The MAC header (128 bytes, integers little-endian)
 * --------------------------------------------------
 *	  0  SECINFO (64): page type, R/W/X, PENDING, MODIFIED, PR; rest 0
 *	 64  enclave linear address (8)
 *	 72  enclave id (8): the owner's for TCS/REG/TRIM, 0 for SECS and VA
 *	 80  the PCMD's reserved bytes (40), zero as EWB writes them
 *	120  zero (8)
 * Both sides build it from a PCMD (epcg__paging_header()): EWB from the
 * PCMD it is about to write, ELDU from the PCMD it was given plus the
 * linear address and enclave id of the load request.  Any difference in
 * type, permissions, state bits, address, enclave or reserved bytes thus
 * changes the AAD and fails the tag.
 *
 * The PCMD (128 bytes, struct epcg_sgx_pcmd): SECINFO copy (64), enclave
 * id (8), reserved (40), the GCM tag (16).
 *
 * The key
 * -------
 * One random AES-128 key per machine from RAND_priv_bytes (OpenSSL's
 * private CSPRNG, seeded from the kernel).  It is drawn into a page of its
 * own (the key area), expanded once into a pool of cipher contexts, and
 * wiped right after, so the only copies are the key schedules inside
 * those contexts; they never leave process memory and
 * EVP_CIPHER_CTX_free() wipes them on destroy.  Nothing derived from the
 * key is ever written to a backing buffer or a file: EWB writes
 * ciphertext, PCMD and version only, and no function here takes a
 * descriptor.
 *
 * Keeping it off disk.  The key area is locked in RAM (mlock, when the
 * memlock limit allows; a failure is not an error) and left out of core
 * dumps (MADV_DONTDUMP), so the raw key never reaches swap or a core
 * file.  The key schedules are in OpenSSL's heap, which we do not
 * control: they can be swapped out like any heap page of the process, so
 * a host that must rule that out runs without swap or with encrypted
 * swap.  A process whose key matters (the daemon) also calls
 * epcg__paging_process_harden(): not dumpable (no core file, no ptrace
 * or /proc/PID/mem by its own user) and a core size limit of 0.  The
 * library does not do that by itself: tests and the simulator want their
 * core files.
 *
 * Speed
 * -----
 * A seal or open takes a context from the pool, sets only the IV
 * (EVP_CipherInit_ex with no cipher and no key keeps the key schedule),
 * runs one AAD update, one data update, the tag step, and puts the context
 * back: no allocation per page.  An open first copies the ciphertext
 * next to the plaintext's place and decrypts there, so untrusted memory is
 * read once (see gcm_open_data()).  The pool has a slot per likely thread;
 * a thread starts its search at a slot of its own (a thread-local hint),
 * so two threads rarely touch the same slot.  When every slot is busy a
 * thread yields and retries; a pool that is too small costs time, never
 * correctness.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/encls.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "crypto-internal.h"
#include "util/alloc.h"
#include "util/atomic.h"
#include "util/macros.h"

#define POOL_SLOTS 64
#define HDR_SIZE EPCG_PAGING_HEADER_SIZE
#define DATA_SIZE EPCG_PAGING_DATA_SIZE
#define TAG_SIZE EPCG_PAGING_TAG_SIZE

/*
 * struct ctx_slot - one pair of cipher contexts, keyed once.
 * @busy: 1 while a thread uses the slot (atomic; acquire on take, release
 *	on put, so the contexts' state passes from one user to the next).
 * @ctx: the encrypting and decrypting contexts; owned by whoever holds
 *	@busy.
 */
struct ctx_slot {
	epcg_atomic(uint32_t) busy;
	EVP_CIPHER_CTX *ctx[2];
} epcg_cacheline_aligned;

enum { SLOT_OPEN, SLOT_SEAL };

/*
 * struct epcg_paging_crypto - the machine's paging key and its version
 * counter.
 * @next_version: the next version to hand out (atomic, relaxed: only
 *	uniqueness matters, not ordering).
 * @slots: the context pool (see above).
 * @key_area: the page the raw key was drawn into, locked and not dumped,
 *	all zero once the pool is keyed; NULL for a caller's key.  Written
 *	only by create, unmapped by destroy.
 * @key_area_size: its size (one page).
 */
struct epcg_paging_crypto {
	epcg_atomic(uint64_t) next_version epcg_cacheline_aligned;
	struct ctx_slot slots[POOL_SLOTS];
	uint8_t *key_area;
	size_t key_area_size;
};

static _Thread_local unsigned slot_hint;
static epcg_atomic(unsigned) next_hint;

static struct ctx_slot *slot_take(struct epcg_paging_crypto *pc)
{
	unsigned i, start;

	if (!slot_hint)
		slot_hint = epcg_atomic_fetch_add_relaxed(&next_hint, 1) + 1;
	start = slot_hint;
	for (;;) {
		for (i = 0; i < POOL_SLOTS; i++) {
			unsigned k = (start + i) % POOL_SLOTS;
			struct ctx_slot *s = &pc->slots[k];
			uint32_t idle = 0;

			if (!epcg_atomic_load_relaxed(&s->busy) &&
			    epcg_atomic_cas_acq_rel(&s->busy, &idle, 1))
				return s;
		}
		sched_yield();
	}
}

static void slot_put(struct ctx_slot *s)
{
	epcg_atomic_store_release(&s->busy, 0);
}

void epcg__paging_iv(uint64_t version, uint8_t iv[EPCG_PAGING_IV_SIZE])
{
	int i;

	for (i = 0; i < 8; i++)
		iv[i] = (uint8_t)(version >> (56 - 8 * i));
	memset(iv + 8, 0, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void epcg__paging_header(uint8_t hdr[EPCG_PAGING_HEADER_SIZE],
			 const struct epcg_sgx_pcmd *pcmd, uint64_t linaddr,
			 uint64_t eid)
{
	put_le64(hdr, pcmd->secinfo.flags);
	memcpy(hdr + 8, pcmd->secinfo.reserved, sizeof(pcmd->secinfo.reserved));
	put_le64(hdr + 64, linaddr);
	put_le64(hdr + 72, eid);
	memcpy(hdr + 80, pcmd->reserved, sizeof(pcmd->reserved));
	memset(hdr + 120, 0, 8);
}

uint64_t epcg__paging_next_version(struct epcg_paging_crypto *pc)
{
	return epcg_atomic_fetch_add_relaxed(&pc->next_version, 1);
}

static void slots_free(struct epcg_paging_crypto *pc)
{
	unsigned i;

	for (i = 0; i < POOL_SLOTS; i++) {
		EVP_CIPHER_CTX_free(pc->slots[i].ctx[SLOT_OPEN]);
		EVP_CIPHER_CTX_free(pc->slots[i].ctx[SLOT_SEAL]);
	}
}

int epcg__paging_crypto_create_with_key(const uint8_t key[EPCG_PAGING_KEY_SIZE],
					struct epcg_paging_crypto **ret)
{
	struct epcg_paging_crypto *pc;
	unsigned i, dir;

	pc = epcg_aligned_alloc(EPCG_CACHELINE, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	memset(pc, 0, sizeof(*pc));
	epcg_atomic_init(&pc->next_version, 1);
	for (i = 0; i < POOL_SLOTS; i++) {
		epcg_atomic_init(&pc->slots[i].busy, 0);
		for (dir = SLOT_OPEN; dir <= SLOT_SEAL; dir++) {
			EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

			pc->slots[i].ctx[dir] = c;
			if (!c)
				goto err_free_slots;
			if (EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, key,
					      NULL, dir == SLOT_SEAL) != 1)
				goto err_cipher;
		}
	}
	*ret = pc;
	return 0;

err_cipher:
	slots_free(pc);
	free(pc);
	return -EIO;
err_free_slots:
	slots_free(pc);
	free(pc);
	return -ENOMEM;
}

/*
 * A page for the raw key: private, locked in RAM where the memlock limit
 * allows, excluded from core dumps.  Return: the page or NULL (-ENOMEM).
 */
static uint8_t *key_area_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Best effort: an unprivileged process may have no memlock quota. */
	(void)mlock(p, size);
	(void)madvise(p, size, MADV_DONTDUMP);
	return p;
}

static void key_area_unmap(uint8_t *p, size_t size)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, size);
	munlock(p, size);
	munmap(p, size);
}

int epcg__paging_crypto_create(struct epcg_paging_crypto **ret)
{
	size_t size = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *key = key_area_map(size);
	int err;

	if (!key)
		return -ENOMEM;
	if (RAND_priv_bytes(key, EPCG_PAGING_KEY_SIZE) != 1) {
		key_area_unmap(key, size);
		return -EIO;
	}
	err = epcg__paging_crypto_create_with_key(key, ret);
	OPENSSL_cleanse(key, EPCG_PAGING_KEY_SIZE);
	if (err) {
		key_area_unmap(key, size);
		return err;
	}
	(*ret)->key_area = key;
	(*ret)->key_area_size = size;
	return 0;
}

const uint8_t *epcg__paging_key_area(const struct epcg_paging_crypto *pc,
				     size_t *ret_size)
{
	*ret_size = pc->key_area_size;
	return pc->key_area;
}

int epcg__paging_process_harden(void)
{
	const struct rlimit no_core = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	if (setrlimit(RLIMIT_CORE, &no_core))
		return -errno;
	return 0;
}

void epcg__paging_crypto_destroy(struct epcg_paging_crypto *pc)
{
	if (!pc)
		return;
	slots_free(pc);
	key_area_unmap(pc->key_area, pc->key_area_size);
	OPENSSL_cleanse(pc, sizeof(*pc));
	free(pc);
}

/* Start one GCM message: the IV, then the header as AAD. */
static bool gcm_start(EVP_CIPHER_CTX *c, uint64_t version, const void *aad)
{
	uint8_t iv[EPCG_PAGING_IV_SIZE];
	int len;

	epcg__paging_iv(version, iv);
	return EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1) == 1 &&
	       EVP_CipherUpdate(c, NULL, &len, aad, HDR_SIZE) == 1;
}

/*
 * A shared @in is copied to @out, then decrypted in place: read exactly
 * once, so a writer racing on untrusted memory cannot make the plaintext
 * differ from what the tag authenticates (hardware copies the ciphertext
 * into the EPC page first for the same reason); decrypting straight from
 * it would depend on how OpenSSL happens to read its input.  The copy
 * costs about 7% of an open (bench-paging), and a thrashing simulation
 * as much again in cache misses on the destination, so memory nobody else
 * can write is decrypted where it is.
 */
static bool gcm_open_data(EVP_CIPHER_CTX *c, const uint8_t *in,
			  enum epcg_sgx_src src, uint8_t *out)
{
	int len;

	if (in != out && src != EPCG_SGX_SRC_PRIVATE) {
		memcpy(out, in, DATA_SIZE);
		in = out;
	}
	return EVP_DecryptUpdate(c, out, &len, in, DATA_SIZE) == 1 &&
	       len == DATA_SIZE;
}

int epcg__paging_seal(struct epcg_paging_crypto *pc, uint64_t version,
		      const void *aad, const void *plain, void *cipher,
		      uint8_t tag[EPCG_PAGING_TAG_SIZE])
{
	struct ctx_slot *s = slot_take(pc);
	EVP_CIPHER_CTX *c = s->ctx[SLOT_SEAL];
	int len, ok;

	ok = gcm_start(c, version, aad) &&
	     EVP_EncryptUpdate(c, cipher, &len, plain, DATA_SIZE) == 1 &&
	     EVP_EncryptFinal_ex(c, (uint8_t *)cipher + len, &len) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, tag) == 1;
	slot_put(s);
	return ok ? 0 : -EIO;
}

int epcg__paging_open(struct epcg_paging_crypto *pc, uint64_t version,
		      const void *aad, const void *cipher,
		      const uint8_t tag[EPCG_PAGING_TAG_SIZE], void *plain)
{
	return epcg__paging_open_from(pc, version, aad, cipher,
				      EPCG_SGX_SRC_UNTRUSTED, tag, plain);
}

int epcg__paging_open_from(struct epcg_paging_crypto *pc, uint64_t version,
			   const void *aad, const void *cipher,
			   enum epcg_sgx_src src,
			   const uint8_t tag[EPCG_PAGING_TAG_SIZE],
			   void *plain)
{
	struct ctx_slot *s = slot_take(pc);
	EVP_CIPHER_CTX *c = s->ctx[SLOT_OPEN];
	uint8_t t[TAG_SIZE];
	int len, err = -EIO;

	/* The tag may live in untrusted memory: read it exactly once. */
	memcpy(t, tag, sizeof(t));
	if (!gcm_start(c, version, aad) || !gcm_open_data(c, cipher, src, plain) ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, t) != 1)
		goto out_wipe;
	if (EVP_DecryptFinal_ex(c, (uint8_t *)plain + DATA_SIZE, &len) != 1) {
		err = -EBADMSG;
		goto out_wipe;
	}
	slot_put(s);
	return 0;

out_wipe:
	slot_put(s);
	memset(plain, 0, DATA_SIZE);
	return err;
}
