// SPDX-License-Identifier: MIT
/*
 * The cost of one full enclave fault round trip against the cipher at its
 * heart.
 *
 * Target: page A of an initialized two-page enclave is evicted by the
 * real reclaimer (isolate, age, prepare, EBLOCK, ETRACK, EWB,
 * backing-store write, free, uncharge) and read back by an enclave access
 * (fault: charge, frame, backing-store read, ELDU, LRU).  Page B is
 * touched before each batch, so it is young and survives, and the SECS
 * stays resident: each operation moves exactly one page out and back.
 * The access that reloads A marks it young, so each operation runs two
 * batches: the first only ages A (and B), the second evicts A; the extra
 * batch costs two list moves.  No thread is inside the enclave during the
 * batches, so EWB needs no forced exits.
 * Baseline: what an eviction and a reload cannot avoid, AES-128-GCM seal
 * then open-and-verify of one 4 KiB page with a 128-byte AAD through the
 * machine's own paging crypto (epcg__paging_seal/open), fresh version each
 * time.
 *
 * The ratio is the software machine's overhead per fault over raw crypto:
 * locks, bookkeeping, two syscalls each way for the memfd, the charge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>

#include "harness.h"
#include "sgx/crypto-internal.h"
#include "sgx/encl-internal.h"
#include "sgx/sgx-internal.h"

#define PG EPCG_PAGE_SIZE
#define ITERS 20000

struct fault_bench {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_task task;
	struct epcg_encl *encl;
	struct epcg_encl_thread *t;
	struct epcg_paging_crypto *pc;
	uint8_t page[PG] __attribute__((aligned(64)));
	uint8_t aad[EPCG_PAGING_HEADER_SIZE];
	uint8_t tag[EPCG_PAGING_TAG_SIZE];
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-fault: %s failed: %d\n", what, err);
	exit(1);
}

static void round_trip(void *arg, unsigned thread, uint64_t iters)
{
	struct fault_bench *b = arg;
	struct epcg_lru *lru = &b->sgx->root_cg->lru;
	int err;

	for (uint64_t i = 0; i < iters; i++) {
		for (int pass = 0; pass < 2; pass++) {
			err = epcg_encl_access(b->encl, b->t, PG,
					       EPCG_ENCL_READ, b->page, 8);
			if (err)
				die("touching B", err);
			/* Out for the batch, as a thread whose CPU got the
			 * IPI; the next access re-enters. */
			epcg__encl_eexit(b->t);
			epcg__sgx_reclaim_lru(b->sgx, lru);
			if (epcg__encl_eenter(b->encl->secs, b->t))
				die("EENTER", -1);
		}
		if (epcg__encl_page_resident(b->encl, 0))
			die("evicting A", -1);
		err = epcg_encl_access(b->encl, b->t, 0, EPCG_ENCL_READ,
				       b->page, 8);
		if (err)
			die("reloading A", err);
	}
}

static void seal_open(void *arg, unsigned thread, uint64_t iters)
{
	struct fault_bench *b = arg;
	int err;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t v = epcg__paging_next_version(b->pc);

		err = epcg__paging_seal(b->pc, v, b->aad, b->page, b->page,
					b->tag);
		if (!err)
			err = epcg__paging_open(b->pc, v, b->aad, b->page,
						b->tag, b->page);
		if (err)
			die("seal+open", err);
	}
}

static void setup(struct fault_bench *b)
{
	struct epcg_epc_section_spec sec = { 256 * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, EPCG_SGX_POLICY_V17 };
	static uint8_t src[2 * PG];
	int err;

	memset(src, 0x42, sizeof(src));
	memset(b->aad, 0x17, sizeof(b->aad));
	if ((err = epcg_exec_live_create(1, &b->ex)) ||
	    (err = epcg_misc_create(&b->m)) ||
	    (err = epcg_sgx_create(b->m, b->ex, &cfg, &b->sgx)))
		die("machine", err);
	epcg_task_init(&b->task, 1, -1);
	epcg_task_set_current(&b->task);
	if ((err = epcg_encl_create(b->sgx, 2 * PG, &b->encl)) ||
	    (err = epcg_encl_add_pages(b->encl, 0, src, 2, EPCG_ENCL_PAGE_REG,
				       EPCG_ENCL_PROT_READ, NULL)) ||
	    (err = epcg_encl_init(b->encl, NULL)) ||
	    (err = epcg_encl_enter(b->encl, &b->t)))
		die("enclave", err);
	if ((err = epcg__paging_crypto_create(&b->pc)))
		die("paging crypto", err);
}

static void teardown(struct fault_bench *b)
{
	struct epcg_encl_stats st;

	epcg_encl_stats(b->encl, &st);
	printf("  (enclave: %llu EWB, %llu ELDU, %llu forced exits)\n",
	       (unsigned long long)st.ewb, (unsigned long long)st.eldu,
	       (unsigned long long)st.forced_exits);
	epcg__paging_crypto_destroy(b->pc);
	epcg_encl_exit(b->t);
	epcg_encl_release(b->encl);
	epcg_task_set_current(NULL);
	epcg_sgx_destroy(b->sgx);
	epcg_misc_destroy(b->m);
	epcg_exec_destroy(b->ex);
}

int main(int argc, char **argv)
{
	struct fault_bench *b = aligned_alloc(64, sizeof(*b));
	struct bench_case target = { .name = "fault round trip (evict + reload)",
				     .run = round_trip,
				     .arg = b,
				     .nr_threads = 1 };
	struct bench_case base = {
		.name = "AES-GCM seal+open, 4 KiB + 128 B AAD",
		.run = seal_open,
		.arg = b,
		.nr_threads = 1
	};

	if (!b)
		die("malloc", -1);
	memset(b, 0, sizeof(*b));
	bench_init(argc, argv, "bench-fault");
	setup(b);
	bench_pair(&target, &base, bench_iters(ITERS));
	bench_report(&target, &base);
	bench_verdict(3, "fault round trip / raw seal+open",
		      bench_ratio(&target, &base), BENCH_REPORT, 0);
	teardown(b);
	free(b);
	return 0;
}
