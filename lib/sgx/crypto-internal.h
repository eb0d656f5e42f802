/* SPDX-License-Identifier: MIT */
/*
 * The paging crypto of the software SGX machine: AES-128-GCM under one
 * machine key, used by EWB to seal a page and by ELDU/ELDB to open it.
 * See the essay at the top of crypto.c for the layouts and key handling.
 */
#ifndef EPCG_SGX_CRYPTO_INTERNAL_H
#define EPCG_SGX_CRYPTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <epcg/encls.h>

#define EPCG_PAGING_KEY_SIZE 16 /* AES-128 */
#define EPCG_PAGING_IV_SIZE 12
#define EPCG_PAGING_TAG_SIZE 16
#define EPCG_PAGING_HEADER_SIZE 128 /* the MAC header, used as AAD */
#define EPCG_PAGING_DATA_SIZE 4096

struct epcg_paging_crypto;
struct epcg_sgx_pcmd;

/*
 * epcg__paging_crypto_create() - a paging context with a fresh random key
 * from the OpenSSL CSPRNG (RAND_priv_bytes).
 * Context: any thread.
 * Return: 0; -ENOMEM; -EIO if no key could be generated or the cipher is
 * unavailable.
 */
int epcg__paging_crypto_create(struct epcg_paging_crypto **ret);

/*
 * epcg__paging_crypto_create_with_key() - the same with a caller-chosen key,
 * for known-answer tests only; a machine always uses a random key.
 * Return: as epcg__paging_crypto_create().
 */
int epcg__paging_crypto_create_with_key(const uint8_t key[EPCG_PAGING_KEY_SIZE],
					struct epcg_paging_crypto **ret);

/*
 * epcg__paging_key_area() - the page the raw key of a random-key context
 * was drawn into (all zero after create), for tests of the wipe.
 * *@ret_size: its size.  Context: any thread.
 * Return: the page; NULL for a context made with a caller's key.
 */
const uint8_t *epcg__paging_key_area(const struct epcg_paging_crypto *pc,
				     size_t *ret_size);

/*
 * epcg__paging_process_harden() - protect the keys of this process from
 * its own user: not dumpable (no core file; no ptrace, /proc/PID/mem or
 * /proc/PID/fd for anyone without CAP_SYS_PTRACE) and a core size limit
 * of 0, for good.  For processes whose paging key matters (the daemon);
 * call it before the machine is created.
 * Context: any thread; affects the whole process.
 * Return: 0 or -errno.
 */
int epcg__paging_process_harden(void);

/*
 * epcg__paging_crypto_destroy() - wipe every copy of the key schedule and
 * free.  @pc may be NULL.  Context: no seal or open in progress.
 */
void epcg__paging_crypto_destroy(struct epcg_paging_crypto *pc);

/*
 * epcg__paging_next_version() - a version never returned before under this
 * key: 1, 2, 3, ... (0 marks an empty VA slot and is never returned).
 * Context: any thread; lock-free.
 */
uint64_t epcg__paging_next_version(struct epcg_paging_crypto *pc);

/* epcg__paging_iv() - the 12-byte GCM IV of @version (see crypto.c). */
void epcg__paging_iv(uint64_t version, uint8_t iv[EPCG_PAGING_IV_SIZE]);

/*
 * epcg__paging_header() - build the 128-byte MAC header of a page from its
 * PCMD (SECINFO and reserved bytes), its enclave linear address and the
 * enclave id that binds it (0 for SECS and VA pages).
 * Context: any thread.
 */
void epcg__paging_header(uint8_t hdr[EPCG_PAGING_HEADER_SIZE],
			 const struct epcg_sgx_pcmd *pcmd, uint64_t linaddr,
			 uint64_t eid);

/*
 * epcg__paging_seal() - encrypt one page and authenticate it with @aad.
 * @plain and @cipher are EPCG_PAGING_DATA_SIZE bytes and may be the same
 * buffer (not otherwise overlapping); @aad is EPCG_PAGING_HEADER_SIZE.
 * Context: any thread; @version must come from epcg__paging_next_version()
 * of the same @pc and be used once.
 * Return: 0; -EIO if the cipher failed (nothing useful in @cipher).
 */
int epcg__paging_seal(struct epcg_paging_crypto *pc, uint64_t version,
		      const void *aad, const void *plain, void *cipher,
		      uint8_t tag[EPCG_PAGING_TAG_SIZE]);

/*
 * epcg__paging_open() - decrypt one page and verify its tag.
 * Same buffer rules as seal.  @cipher and @tag are read exactly once (they
 * may sit in untrusted memory that changes meanwhile).  On failure @plain
 * holds zeroes, never a partial plaintext.
 * Context: any thread.
 * Return: 0; -EBADMSG if the tag does not match (wrong key, version, AAD,
 * ciphertext or tag); -EIO if the cipher failed.
 */
int epcg__paging_open(struct epcg_paging_crypto *pc, uint64_t version,
		      const void *aad, const void *cipher,
		      const uint8_t tag[EPCG_PAGING_TAG_SIZE], void *plain);

/*
 * epcg__paging_open_from() - epcg__paging_open() of a ciphertext whose
 * writers @src says (enum epcg_sgx_src, the PAGEINFO's: UNTRUSTED is
 * copied to @plain first and decrypted there, so that it is read exactly
 * once; PRIVATE is decrypted where it is, saving the copy, 7% of an open
 * in bench-paging); epcg__paging_open() is EPCG_SGX_SRC_UNTRUSTED.  The
 * tag is read once either way.
 * Context and Return: as epcg__paging_open().
 */
int epcg__paging_open_from(struct epcg_paging_crypto *pc, uint64_t version,
			   const void *aad, const void *cipher,
			   enum epcg_sgx_src src,
			   const uint8_t tag[EPCG_PAGING_TAG_SIZE],
			   void *plain);

#endif
