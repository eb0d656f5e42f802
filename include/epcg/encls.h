/* SPDX-License-Identifier: MIT */
/*
 * The architectural side of the emulated SGX instructions: the status codes
 * the ENCLS leaves return, how a fault is reported, the page types and the
 * in-memory structures software hands to the leaves (SECINFO, PCMD, SECS,
 * PAGEINFO).  The leaves themselves are internal to the library
 * (lib/sgx/encls-internal.h); front ends only need these names to report
 * what happened.
 *
 * A leaf's result is one of three disjoint things, never an errno:
 *
 *   0                                  success
 *   1 .. 256 (EPCG_SGX_*)              the status hardware puts in RAX;
 *                                      SGX_VA_SLOT_OCCUPIED is a warning
 *                                      (the leaf did its work)
 *   EPCG_ENCLS_FAULT_FLAG | trap       hardware raised #GP (13) or #PF (14)
 *                                      and the leaf changed nothing
 *
 * The layer above (enclaves, reclaimer) turns these into -errno at its
 * boundary, the way the kernel driver does.
 */
#ifndef EPCG_ENCLS_H
#define EPCG_ENCLS_H

#include <stdbool.h>
#include <stdint.h>

/* Hardware status codes, with the values the SDM gives them. */
#define EPCG_SGX_INVALID_SIG_STRUCT 1
#define EPCG_SGX_INVALID_ATTRIBUTE 2
#define EPCG_SGX_BLKSTATE 3
#define EPCG_SGX_INVALID_MEASUREMENT 4
#define EPCG_SGX_NOTBLOCKABLE 5
#define EPCG_SGX_PG_INVLD 6
#define EPCG_SGX_EPC_PAGE_CONFLICT 7
#define EPCG_SGX_INVALID_SIGNATURE 8
#define EPCG_SGX_MAC_COMPARE_FAIL 9
#define EPCG_SGX_PAGE_NOT_BLOCKED 10
#define EPCG_SGX_NOT_TRACKED 11
#define EPCG_SGX_VA_SLOT_OCCUPIED 12
#define EPCG_SGX_CHILD_PRESENT 13
#define EPCG_SGX_ENCLAVE_ACT 14
#define EPCG_SGX_ENTRYEPOCH_LOCKED 15
#define EPCG_SGX_INVALID_EINITTOKEN 16
#define EPCG_SGX_PREV_TRK_INCMPL 17
#define EPCG_SGX_PG_IS_SECS 18
#define EPCG_SGX_PAGE_ATTRIBUTES_MISMATCH 19
#define EPCG_SGX_PAGE_NOT_MODIFIABLE 20
#define EPCG_SGX_PAGE_NOT_DEBUGGABLE 21
#define EPCG_SGX_INVALID_CPUSVN 32
#define EPCG_SGX_INVALID_ISVSVN 64
#define EPCG_SGX_UNMASKED_EVENT 128
#define EPCG_SGX_INVALID_KEYNAME 256

/*
 * A fault is the trap number with bit 30 set; no status code comes near
 * that bit, so the two can never be confused.
 */
#define EPCG_ENCLS_FAULT_FLAG 0x40000000
#define EPCG_X86_TRAP_GP 13 /* general protection */
#define EPCG_X86_TRAP_PF 14 /* page fault */
#define EPCG_ENCLS_FAULT(trap) (EPCG_ENCLS_FAULT_FLAG | (trap))

/* epcg_encls_faulted() - whether @ret reports a fault rather than a status. */
static inline bool epcg_encls_faulted(int ret)
{
	return ret & EPCG_ENCLS_FAULT_FLAG;
}

/* epcg_encls_trapnr() - the trap number of a fault @ret. */
static inline int epcg_encls_trapnr(int ret)
{
	return ret & ~EPCG_ENCLS_FAULT_FLAG;
}

/*
 * epcg_encls_failed() - whether a leaf did not do what was asked: it
 * faulted or returned a status.  SGX_VA_SLOT_OCCUPIED counts as a failure
 * here, as in the Linux driver, although the page was written out.
 */
static inline bool epcg_encls_failed(int ret)
{
	return ret != 0;
}

/**
 * epcg_sgx_status_name() - the name of a leaf result, for reports.
 * @ret: 0, an EPCG_SGX_* status or a fault encoding.
 *
 * Context: any thread.
 * Return: "SGX_SUCCESS", "SGX_NOT_TRACKED" (the hardware name, without our
 * prefix), "#GP" / "#PF" for faults, "SGX_UNKNOWN" for anything else.
 */
const char *epcg_sgx_status_name(int ret);

/* EPC page types (SECINFO.FLAGS bits 15:8, EPCM.PT). */
enum epcg_sgx_page_type {
	EPCG_SGX_PT_SECS,
	EPCG_SGX_PT_TCS,
	EPCG_SGX_PT_REG,
	EPCG_SGX_PT_VA,
	EPCG_SGX_PT_TRIM,
	EPCG_SGX_PT_NR
};

/* SECINFO.FLAGS: permissions and EDMM state in bits 0-5, type in 15:8. */
#define EPCG_SGX_SECINFO_R (1u << 0)
#define EPCG_SGX_SECINFO_W (1u << 1)
#define EPCG_SGX_SECINFO_X (1u << 2)
#define EPCG_SGX_SECINFO_PENDING (1u << 3)
#define EPCG_SGX_SECINFO_MODIFIED (1u << 4)
#define EPCG_SGX_SECINFO_PR (1u << 5)
#define EPCG_SGX_SECINFO_PERM_MASK 0x07u
#define EPCG_SGX_SECINFO_STATE_MASK 0x38u
#define EPCG_SGX_SECINFO_PT_SHIFT 8
#define EPCG_SGX_SECINFO_PT_MASK 0xff00u
#define EPCG_SGX_SECINFO_PT(pt) ((uint64_t)(pt) << EPCG_SGX_SECINFO_PT_SHIFT)
#define EPCG_SGX_SECINFO_RESERVED_MASK (~(uint64_t)0xff3f)

/* Slots of a VA page: each holds the version of one evicted page. */
#define EPCG_SGX_VA_SLOT_NR 512

/* struct epcg_sgx_secinfo - 64 bytes; everything but @flags is reserved. */
struct epcg_sgx_secinfo {
	uint64_t flags;
	uint8_t reserved[56];
} __attribute__((aligned(64)));

/**
 * struct epcg_sgx_pcmd - paging crypto metadata, 128 bytes, written by EWB
 * beside the evicted page and read back by ELDU.
 * @secinfo: type, permissions and EDMM state of the evicted page.
 * @enclave_id: the owner's enclave id (a child), the SECS's own id (a
 *	SECS), 0 (a VA page).
 * @reserved: zero; covered by the MAC.
 * @mac: the AES-GCM tag.
 */
struct epcg_sgx_pcmd {
	struct epcg_sgx_secinfo secinfo;
	uint64_t enclave_id;
	uint8_t reserved[40];
	uint8_t mac[16];
} __attribute__((aligned(128)));

/*
 * struct epcg_sgx_secs - the SECS as ECREATE reads it from its source page.
 * Only the fields the machine uses are named; the reserved ranges must be
 * zero (the emulator keeps its own bookkeeping in them once the SECS is in
 * the EPC, as hardware keeps the enclave id there).
 */
struct epcg_sgx_secs {
	uint64_t size; /* bytes, a power of two, >= 2 pages */
	uint64_t base; /* aligned to @size */
	uint32_t ssa_frame_size; /* in pages */
	uint32_t misc_select;
	uint8_t reserved1[24];
	uint64_t attributes;
	uint64_t xfrm;
	uint8_t mrenclave[32]; /* written by EINIT */
	uint8_t reserved2[32];
	uint8_t mrsigner[32];
	uint8_t reserved3[96];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint8_t reserved4[3836];
} __attribute__((aligned(4096)));

/* SECS.ATTRIBUTES bits the machine knows. */
#define EPCG_SGX_ATTR_INIT (1ull << 0) /* set by EINIT; must be 0 at ECREATE */
#define EPCG_SGX_ATTR_DEBUG (1ull << 1)
#define EPCG_SGX_ATTR_MODE64BIT (1ull << 2)

/*
 * struct epcg_sgx_sigstruct - what EINIT checks, reduced to the fields the
 * machine can verify without a signing key: the expected measurement and
 * the attributes the signer allows.  There is no RSA signature, so EINIT
 * never returns SGX_INVALID_SIGNATURE or SGX_INVALID_SIG_STRUCT.
 */
struct epcg_sgx_sigstruct {
	uint8_t enclave_hash[32];
	uint64_t attributes;
	uint64_t attribute_mask;
};

/*
 * "No EPC page": PAGEINFO.SECS for leaves that take no parent.  Pages are
 * named by their frame number (pfn) where hardware takes an EPC address.
 */
#define EPCG_SGX_NO_PFN UINT64_MAX

/**
 * enum epcg_sgx_src - who may write ELDU's or ELDB's ciphertext while the
 * leaf reads it.
 * @EPCG_SGX_SRC_UNTRUSTED: anyone (the zero value, as hardware assumes):
 *	the leaf copies it into the frame before it decrypts, so that it
 *	reads it exactly once and a racing writer cannot make the plaintext
 *	differ from what the MAC covers.
 * @EPCG_SGX_SRC_PRIVATE: nobody (memory the caller alone writes, under
 *	its own lock, such as an enclave's own backing store): the leaf
 *	decrypts straight from it, saving the copy.
 */
enum epcg_sgx_src {
	EPCG_SGX_SRC_UNTRUSTED,
	EPCG_SGX_SRC_PRIVATE,
	EPCG_SGX_SRC_NR
};

/**
 * struct epcg_sgx_pageinfo - the operands of EADD, EAUG, ECREATE, EWB,
 * ELDU and ELDB, as hardware's PAGEINFO.
 * @linaddr: the page's enclave linear address (EADD, EAUG, ELDU, ELDB);
 *	written by EWB.
 * @srcpge: 4096 bytes outside the EPC: page contents (EADD), the SECS
 *	(ECREATE), the ciphertext written (EWB) or read (ELDU, ELDB).
 * @secinfo: EADD, ECREATE.
 * @pcmd: EWB (written), ELDU and ELDB (read).
 * @secs: pfn of the parent SECS for child pages (EADD, EAUG, ELDU and ELDB
 *	of REG/TCS/TRIM pages); EPCG_SGX_NO_PFN otherwise.
 * @src: (ELDU, ELDB) who may write @srcpge while the leaf runs; not
 *	hardware's, which always copies: see enum epcg_sgx_src.
 */
struct epcg_sgx_pageinfo {
	uint64_t linaddr;
	void *srcpge;
	const struct epcg_sgx_secinfo *secinfo;
	struct epcg_sgx_pcmd *pcmd;
	uint64_t secs;
	enum epcg_sgx_src src;
};

#endif
