// SPDX-License-Identifier: MIT
/*
 * EWB and ELDU throughput against the bare cipher they are built on.
 *
 * Target: the emulated leaves on an ENCLS unit over plain frames (no EPC
 * allocator, no cgroups: only the leaves are measured).  Each thread owns
 * an enclave with BATCH pages and repeats: ETRACK, EWB of every page
 * (timed), ELDU of every page (timed), EBLOCK of every page.
 * Baseline: what the leaves cannot avoid, AES-128-GCM of one 4 KiB page
 * with a 128-byte AAD through OpenSSL EVP, a fresh 12-byte IV per page,
 * key schedule kept in a per-thread context: seal (timed) then open and
 * verify (timed), over the same amount of memory.
 *
 * Target and baseline alternate batch by batch within each run, so both
 * see the same machine at the same moment; each batch is timed on its
 * own and a run's figure for an operation is the median batch, which a
 * preempted batch does not move.  BENCH_RUNS runs, median of the runs,
 * with one thread and with two, each thread on its own enclave as two
 * reclaimers would be.  Throughput is BATCH pages over the median batch
 * time, summed over the threads.  The figure that matters is the
 * leaves' throughput as a fraction of the bare cipher's: the project's
 * target is at least 0.85.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/encls.h>
#include <openssl/evp.h>
#include <pthread.h>

#include "harness.h"
#include "sgx/encls-internal.h"

#define BATCH 32 /* pages per thread, written out then loaded */
#define MAX_THREADS 2
#define FRAMES_PER_THREAD (BATCH + 2) /* pages, their SECS, a VA page */
#define BATCHES_PER_RUN 512
#define BASE 0x40000000ull

enum op { OP_EWB, OP_ELDU, OP_SEAL, OP_OPEN, OP_NR };

struct blob {
	uint8_t data[EPCG_PAGE_SIZE];
	struct epcg_sgx_pcmd pcmd;
} __attribute__((aligned(4096)));

struct bench;

struct worker {
	struct bench *b;
	struct epcg_encls *m;
	unsigned batch; /* index of the current batch in the run */
	uint64_t secs, va, first; /* pfns */
	struct blob *blobs; /* BATCH */
	uint8_t *plain; /* BATCH pages, for the baseline */
	EVP_CIPHER_CTX *seal, *open;
	uint8_t aad[128];
	uint32_t ns[OP_NR][BATCHES_PER_RUN]; /* each batch of a run, timed */
};

struct bench {
	struct epcg_encls *m;
	uint8_t *frames;
	struct worker w[MAX_THREADS];
	unsigned nr_threads;
	pthread_barrier_t start;
};

static void die(const char *what, int ret)
{
	fprintf(stderr, "bench-paging: %s failed: %s (%#x)\n", what,
		epcg_sgx_status_name(ret), ret);
	exit(1);
}

static void *frame_of(void *arg, uint64_t pfn)
{
	return (uint8_t *)arg + pfn * EPCG_PAGE_SIZE;
}

/* An enclave of BATCH pages (not initialized: paging does not need it). */
static void worker_init(struct bench *b, struct worker *w, unsigned t)
{
	static const uint8_t key[16] = "bench-paging-key";
	struct epcg_sgx_secs *src = aligned_alloc(4096, sizeof(*src));
	struct epcg_sgx_secinfo si = { .flags = EPCG_SGX_SECINFO_PT(
					       EPCG_SGX_PT_SECS) };
	struct epcg_sgx_pageinfo pi = { .srcpge = src, .secinfo = &si };
	struct epcg_secs *s = NULL;
	int ret;

	w->m = b->m;
	w->secs = (uint64_t)t * FRAMES_PER_THREAD;
	w->va = w->secs + 1;
	w->first = w->secs + 2;
	w->blobs = aligned_alloc(4096, BATCH * sizeof(*w->blobs));
	w->plain = aligned_alloc(4096, BATCH * EPCG_PAGE_SIZE);
	if (!src || !w->blobs || !w->plain || epcg__secs_create(w->m, &s))
		die("allocation", 0);
	memset(src, 0, sizeof(*src));
	src->size = 1024ull * EPCG_PAGE_SIZE;
	src->base = BASE;
	src->ssa_frame_size = 1;
	ret = epcg__encls_ecreate(w->m, &pi, w->secs, s);
	if (ret)
		die("ECREATE", ret);
	ret = epcg__encls_epa(w->m, w->va);
	if (ret)
		die("EPA", ret);
	si.flags = EPCG_SGX_SECINFO_PT(EPCG_SGX_PT_REG) | EPCG_SGX_SECINFO_R |
		   EPCG_SGX_SECINFO_W;
	pi.secinfo = &si;
	pi.secs = w->secs;
	for (unsigned i = 0; i < BATCH; i++) {
		memset(src, (int)(i + 1), sizeof(*src));
		pi.linaddr = BASE + (uint64_t)i * EPCG_PAGE_SIZE;
		ret = epcg__encls_eadd(w->m, &pi, w->first + i);
		if (!ret)
			ret = epcg__encls_eblock(w->m, w->first + i);
		if (ret)
			die("EADD/EBLOCK", ret);
		memset(w->plain + (size_t)i * EPCG_PAGE_SIZE, (int)(i + 1),
		       EPCG_PAGE_SIZE);
	}
	free(src);
	memset(w->aad, 0x11, sizeof(w->aad));
	w->seal = EVP_CIPHER_CTX_new();
	w->open = EVP_CIPHER_CTX_new();
	if (!w->seal || !w->open ||
	    EVP_EncryptInit_ex(w->seal, EVP_aes_128_gcm(), NULL, key, NULL) !=
		    1 ||
	    EVP_DecryptInit_ex(w->open, EVP_aes_128_gcm(), NULL, key, NULL) !=
		    1)
		die("EVP setup", 0);
}

/* Record the time since *@t as this batch's sample of @op; restart *@t. */
static void sample(struct worker *w, enum op op, uint64_t *t)
{
	uint64_t now = bench_now_ns();

	w->ns[op][w->batch] = (uint32_t)(now - *t);
	*t = now;
}

/* ETRACK, EWB all (timed), ELDU all (timed), EBLOCK all. */
static void paging_batch(struct worker *w)
{
	struct epcg_sgx_pageinfo pi = { .secs = w->secs };
	uint64_t t;
	int ret;

	ret = epcg__encls_etrack(w->m, w->secs);
	if (ret)
		die("ETRACK", ret);
	t = bench_now_ns();
	for (unsigned i = 0; i < BATCH; i++) {
		pi.srcpge = w->blobs[i].data;
		pi.pcmd = &w->blobs[i].pcmd;
		ret = epcg__encls_ewb(w->m, &pi, w->first + i, w->va, i);
		if (ret)
			die("EWB", ret);
	}
	sample(w, OP_EWB, &t);
	for (unsigned i = 0; i < BATCH; i++) {
		pi.linaddr = BASE + (uint64_t)i * EPCG_PAGE_SIZE;
		pi.srcpge = w->blobs[i].data;
		pi.pcmd = &w->blobs[i].pcmd;
		ret = epcg__encls_eldu(w->m, &pi, w->first + i, w->va, i);
		if (ret)
			die("ELDU", ret);
	}
	sample(w, OP_ELDU, &t);
	for (unsigned i = 0; i < BATCH; i++) {
		ret = epcg__encls_eblock(w->m, w->first + i);
		if (ret)
			die("EBLOCK", ret);
	}
}

/* The bare cipher: seal all (timed), open and verify all (timed). */
static void raw_batch(struct worker *w, uint64_t *iv_counter)
{
	uint8_t iv[12] = { 0 };
	uint64_t t = bench_now_ns();
	int len;

	for (unsigned i = 0; i < BATCH; i++) {
		uint8_t *out = w->blobs[i].data;

		memcpy(iv, iv_counter, sizeof(*iv_counter));
		++*iv_counter;
		if (EVP_EncryptInit_ex(w->seal, NULL, NULL, NULL, iv) != 1 ||
		    EVP_EncryptUpdate(w->seal, NULL, &len, w->aad, 128) != 1 ||
		    EVP_EncryptUpdate(w->seal, out, &len,
				      w->plain + (size_t)i * EPCG_PAGE_SIZE,
				      EPCG_PAGE_SIZE) != 1 ||
		    EVP_EncryptFinal_ex(w->seal, out + len, &len) != 1 ||
		    EVP_CIPHER_CTX_ctrl(w->seal, EVP_CTRL_GCM_GET_TAG, 16,
					w->blobs[i].pcmd.mac) != 1)
			die("raw seal", 0);
	}
	sample(w, OP_SEAL, &t);
	*iv_counter -= BATCH;
	for (unsigned i = 0; i < BATCH; i++) {
		uint8_t *out = w->plain + (size_t)i * EPCG_PAGE_SIZE;

		memcpy(iv, iv_counter, sizeof(*iv_counter));
		++*iv_counter;
		if (EVP_DecryptInit_ex(w->open, NULL, NULL, NULL, iv) != 1 ||
		    EVP_DecryptUpdate(w->open, NULL, &len, w->aad, 128) != 1 ||
		    EVP_DecryptUpdate(w->open, out, &len, w->blobs[i].data,
				      EPCG_PAGE_SIZE) != 1 ||
		    EVP_CIPHER_CTX_ctrl(w->open, EVP_CTRL_GCM_SET_TAG, 16,
					w->blobs[i].pcmd.mac) != 1 ||
		    EVP_DecryptFinal_ex(w->open, out + len, &len) != 1)
			die("raw open", 0);
	}
	sample(w, OP_OPEN, &t);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Target and baseline batches alternate, each leading every other time. */
static void run_worker(struct bench *b, struct worker *w)
{
	uint64_t iv_counter = 1;

	pthread_barrier_wait(&b->start);
	for (w->batch = 0; w->batch < BATCHES_PER_RUN; w->batch++) {
		if (w->batch % 2) {
			paging_batch(w);
			raw_batch(w, &iv_counter);
		} else {
			raw_batch(w, &iv_counter);
			paging_batch(w);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	run_worker(w->b, w);
	return NULL;
}

/*
 * One run on @nr threads: for each operation, BATCH pages over the
 * thread's median batch time, summed over the threads, into @rate.
 */
static void run_once(struct bench *b, unsigned nr, double rate[OP_NR])
{
	pthread_t th[MAX_THREADS];

	pthread_barrier_init(&b->start, NULL, nr);
	for (unsigned t = 1; t < nr; t++)
		if (pthread_create(&th[t], NULL, worker_main, &b->w[t]))
			die("pthread_create", 0);
	run_worker(b, &b->w[0]);
	for (unsigned t = 1; t < nr; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&b->start);
	for (unsigned op = 0; op < OP_NR; op++) {
		rate[op] = 0;
		for (unsigned t = 0; t < nr; t++) {
			uint32_t *v = b->w[t].ns[op];

			qsort(v, BATCHES_PER_RUN, sizeof(*v), cmp_u32);
			rate[op] += 1e9 * BATCH / v[BATCHES_PER_RUN / 2];
		}
	}
}

static void report(const char *leaf, const char *raw, unsigned nr,
		   double leaf_rate, double raw_rate)
{
	char tn[128], bn[64];
	struct bench_case t = { .name = tn, .ns_per_op = 1e9 / leaf_rate };
	struct bench_case base = { .name = bn, .ns_per_op = 1e9 / raw_rate };

	snprintf(tn, sizeof(tn), "%s, %u thread%s", leaf, nr,
		 nr > 1 ? "s" : "");
	snprintf(bn, sizeof(bn), "%s", raw);
	bench_report(&t, &base);
	printf("  %s: %.0f pages/s, %s: %.0f pages/s\n", tn, leaf_rate, raw,
	       raw_rate);
	snprintf(tn + strlen(tn), sizeof(tn) - strlen(tn),
		 ", throughput / %s's", raw);
	/* One thread: the target; two: how it scales, reported. */
	bench_verdict(3, tn, leaf_rate / raw_rate,
		      nr == 1 ? BENCH_AT_LEAST : BENCH_REPORT, 0.85);
}

/* Measure with @nr threads; @med: each operation's pages/s. */
static void measure(struct bench *b, unsigned nr, double *med)
{
	double rate[OP_NR][BENCH_RUNS], r[OP_NR];

	run_once(b, nr, r); /* warm-up */
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		run_once(b, nr, r);
		for (unsigned op = 0; op < OP_NR; op++)
			rate[op][i] = r[op];
	}
	for (unsigned op = 0; op < OP_NR; op++) {
		qsort(rate[op], BENCH_RUNS, sizeof(double), cmp_double);
		med[op] = rate[op][BENCH_RUNS / 2];
	}
	report("EWB", "raw AES-GCM seal", nr, med[OP_EWB], med[OP_SEAL]);
	report("ELDU", "raw AES-GCM open", nr, med[OP_ELDU], med[OP_OPEN]);
}

int main(int argc, char **argv)
{
	static struct bench b;
	uint64_t nr_frames = MAX_THREADS * FRAMES_PER_THREAD;
	double one[OP_NR], two[OP_NR];

	bench_init(argc, argv, "bench-paging");
	printf("# %d pages per batch and thread, %d batches per run; "
	       "throughput in pages/s summed over threads\n",
	       BATCH, BATCHES_PER_RUN);
	b.frames = aligned_alloc(4096, nr_frames * EPCG_PAGE_SIZE);
	if (!b.frames ||
	    epcg__encls_create(nr_frames, frame_of, b.frames, &b.m))
		die("machine", 0);
	for (unsigned t = 0; t < MAX_THREADS; t++) {
		b.w[t].b = &b;
		worker_init(&b, &b.w[t], t);
	}
	measure(&b, 1, one);
	measure(&b, 2, two);
	printf("# scaling, 2 threads / 1: EWB %.2f (seal %.2f), ELDU %.2f "
	       "(open %.2f)\n",
	       two[OP_EWB] / one[OP_EWB], two[OP_SEAL] / one[OP_SEAL],
	       two[OP_ELDU] / one[OP_ELDU], two[OP_OPEN] / one[OP_OPEN]);
	bench_verdict(3, "EWB throughput, 2 threads / 1 thread",
		      two[OP_EWB] / one[OP_EWB], BENCH_REPORT, 0);
	bench_verdict(3, "ELDU throughput, 2 threads / 1 thread",
		      two[OP_ELDU] / one[OP_ELDU], BENCH_REPORT, 0);
	return 0;
}
