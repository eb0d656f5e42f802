// SPDX-License-Identifier: MIT
/*
 * The simulator's speed: page accesses per second of host time, when
 * they hit and when they thrash (target 4: at least 20M resident-page
 * accesses per second in a hit-dominated scenario).
 *
 * Each case is a whole epcg_sim_run() of a small scenario, timed from
 * the call to its return (setting up the machine and building the
 * enclave included), against a baseline measured interleaved with it in
 * the same process: run 1 of the case, run 1 of the baseline, run 2 of
 * the baseline, run 2 of the case, ...; each side keeps the median of
 * BENCH_RUNS runs.  Times are the process's CPU time, not wall time: the
 * simulator runs on one thread and sleeps nowhere, so its CPU time is
 * its cost, and unlike wall time it does not count the time other
 * processes of a busy machine held the CPU.
 *
 *  - hit, uniform / hit, zipf: every page of the enclave stays resident,
 *    four simulated threads touch them.  Baseline: what any simulator of
 *    page accesses must do per access, the same generator drawing the
 *    same pages and an atomic "accessed" bit set in a 40-byte descriptor
 *    per page, the size of the enclave layer's.  The ratio is what the
 *    virtual-time machinery, the enclave lock and the fault check add.
 *  - thrash: one thread, uniform over four times its cgroup's limit, so
 *    three accesses in four fault and every fault costs an EWB (by the
 *    reclaim worker) and an ELDU.  Baseline: the AES-128-GCM seals and
 *    opens the run did (its EWB and ELDU counts), with the machine's own
 *    paging crypto, 4 KiB pages with a 128-byte AAD, on as many distinct
 *    pages as the run's (frames of its 2 MiB limit, slots of its 8 MiB
 *    enclave), so that the cipher meets the same cache misses.  Their
 *    ratio is the share of the run spent in the cipher, computed for each
 *    run and its own baselines, the median of THRASH_RUNS kept (a burst
 *    of load then spoils one ratio, not the figure).  The same on one
 *    hot page is reported beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "results.h"
#include "scenario.h"
#include "sgx/crypto-internal.h"
#include "sim.h"
#include "workload.h"

#define PG 4096u
/* Thrash runs, each with its baselines; the share is their median. */
#define THRASH_RUNS 7

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench-sim: %s: %s\n", what, why);
	exit(1);
}

static struct epcg_scenario *parse(const char *text)
{
	struct epcg_scenario *sc;
	char err[256];

	if (epcg_scenario_parse("bench.scn", text, strlen(text), &sc, err,
				sizeof(err)))
		die("scenario", err);
	return sc;
}

/* The process's CPU time in nanoseconds. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One run: its CPU time and results. */
static double run_once(const struct epcg_scenario *sc,
		       struct epcg_results **ret)
{
	char err[256];
	uint64_t t0 = cpu_ns();

	if (epcg_sim_run(sc, NULL, ret, err, sizeof(err)))
		die("run", err);
	return (double)(cpu_ns() - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* ---- the hit baseline: generator plus one accessed bit per access ---- */

struct desc {
	unsigned flags;
	char pad[36];
};

static double hit_baseline(const struct epcg_scenario *sc, uint64_t *ret_n)
{
	const struct epcg_scenario_enclave *e = &sc->enclaves[0];
	uint64_t pages = e->size / PG, n = 0, think;
	struct desc *d = calloc(pages, sizeof(*d));
	uint64_t t0, clock = 0;
	int64_t p;

	if (!d)
		die("baseline", "out of memory");
	t0 = cpu_ns();
	for (unsigned t = 0; t < e->threads; t++) {
		struct epcg_workload_gen g;

		if (epcg_workload_gen_init(&g, &e->wl, e->size, NULL, sc->seed,
					   t, sc->cost_ns[EPCG_COST_ACCESS]))
			die("baseline", "workload");
		clock = 0;
		while ((p = epcg_workload_gen_next(&g, clock, &think)) >= 0) {
			__atomic_fetch_or(&d[p].flags, 1, __ATOMIC_ACQ_REL);
			clock += think;
			n++;
		}
	}
	t0 = cpu_ns() - t0;
	free(d);
	*ret_n = n;
	return (double)t0;
}

/*
 * @cmp: BENCH_AT_LEAST for the target's hit-dominated scenario; the Zipf
 * one is only reported, its sampler alone (pow, exp, log1p per draw)
 * taking about 50 ns, i.e. no more than 20M draws per second.
 */
static void bench_hit(const char *name, const char *text, enum bench_cmp cmp)
{
	struct epcg_scenario *sc = parse(text);
	double sim[BENCH_RUNS], base[BENCH_RUNS], s, b;
	uint64_t accesses = 0, n = 0;

	if (!bench_want(name)) {
		epcg_scenario_destroy(sc);
		return;
	}
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		struct epcg_results *r;

		if (i % 2) {
			base[i] = hit_baseline(sc, &n);
			sim[i] = run_once(sc, &r);
		} else {
			sim[i] = run_once(sc, &r);
			base[i] = hit_baseline(sc, &n);
		}
		if (r->machine.faults)
			die(name, "the hit case faulted");
		accesses = r->accesses;
		epcg_results_destroy(r);
	}
	s = median(sim, BENCH_RUNS) / (double)accesses;
	b = median(base, BENCH_RUNS) / (double)n;
	printf("%s: %.1f ns/access, %.1fM accesses/s; ratio %.2f vs "
	       "generator + accessed bit (%.1f ns/access)\n",
	       name, s, 1e3 / s, s / b, b);
	bench_verdict(4, name, 1e3 / s, cmp, 20.0);
	epcg_scenario_destroy(sc);
}

/* ---- the thrash baseline: the run's seals and opens, raw ---- */

/*
 * The cipher alone, with the machine's own paging crypto, as many seals
 * and opens as the run made.  On one hot page in place (@frames and
 * @slots 0): the cipher with its data in the L1 cache, a floor no run
 * reaches.  Otherwise on the run's pages: seals from @frames distinct
 * frames (the EPC the run may hold) into uniformly drawn slots among
 * @slots (the enclave's backing store), opens from another drawn slot
 * into a frame, each page sealed before it is opened; the memory the
 * cipher reads and writes is then as large as the run's, and so are its
 * cache misses.  Opens decrypt straight from the slot (no read-once copy
 * first), which is the cipher's work and nothing more.
 */
static double crypto_baseline(uint64_t seals, uint64_t opens, uint64_t frames,
			      uint64_t slots)
{
	static uint8_t hot[PG] __attribute__((aligned(64)));
	uint8_t aad[EPCG_PAGING_HEADER_SIZE];
	uint64_t nf = frames ? frames : 1, ns = slots ? slots : 1;
	uint8_t *frame = hot, *store = hot;
	uint64_t t0, seed = 20261126, *ver;
	struct epcg_paging_crypto *pc;
	uint8_t (*tag)[EPCG_PAGING_TAG_SIZE];

	ver = calloc(ns, sizeof(*ver));
	tag = calloc(ns, sizeof(*tag));
	if (frames) {
		frame = aligned_alloc(64, nf * PG);
		store = aligned_alloc(64, ns * PG);
	}
	if (!ver || !tag || !frame || !store)
		die("crypto", "out of memory");
	memset(frame, 0x5a, nf * PG);
	memset(store, 0, ns * PG);
	memset(aad, 0x17, sizeof(aad));
	if (epcg__paging_crypto_create(&pc))
		die("crypto", "no context");
	t0 = cpu_ns();
	for (uint64_t i = 0; i < seals || i < opens; i++) {
		uint64_t f, k;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		f = (seed >> 33) % nf;
		k = (seed >> 13) % ns;
		if (i < seals || !ver[k]) {
			ver[k] = epcg__paging_next_version(pc);
			if (epcg__paging_seal(pc, ver[k], aad, frame + f * PG,
					      store + k * PG, tag[k]))
				die("crypto", "seal");
		}
		if (i >= opens)
			continue;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		k = (seed >> 13) % ns;
		if (!ver[k])
			continue; /* not sealed yet: open the one just sealed */
		if (epcg__paging_open_from(pc, ver[k], aad, store + k * PG,
					   EPCG_SGX_SRC_PRIVATE, tag[k],
					   frame + f * PG))
			die("crypto", "open");
	}
	t0 = cpu_ns() - t0;
	epcg__paging_crypto_destroy(pc);
	if (frames) {
		free(frame);
		free(store);
	}
	free(ver);
	free(tag);
	return (double)t0;
}

/*
 * @frames: the EPC the thrashing cgroup may hold; @slots: its enclave's
 * pages (the footprint baseline, above).
 */
static void bench_thrash(const char *name, const char *text, uint64_t frames,
			 uint64_t slots)
{
	struct epcg_scenario *sc = parse(text);
	double sim[THRASH_RUNS], hot[THRASH_RUNS], base[THRASH_RUNS];
	double share[THRASH_RUNS], hot_share[THRASH_RUNS], s, h, c;
	uint64_t accesses = 0, faults = 0, ewb = 0, eldu = 0;

	if (!bench_want(name)) {
		epcg_scenario_destroy(sc);
		return;
	}
	/* Each run beside its own baselines: the share is per run. */
	for (unsigned i = 0; i < THRASH_RUNS; i++) {
		struct epcg_results *r;

		sim[i] = run_once(sc, &r);
		accesses = r->accesses;
		faults = r->machine.faults;
		ewb = r->machine.ewb;
		eldu = r->machine.eldu;
		epcg_results_destroy(r);
		if (i % 2) {
			base[i] = crypto_baseline(ewb, eldu, frames, slots);
			hot[i] = crypto_baseline(ewb, eldu, 0, 0);
		} else {
			hot[i] = crypto_baseline(ewb, eldu, 0, 0);
			base[i] = crypto_baseline(ewb, eldu, frames, slots);
		}
		share[i] = base[i] / sim[i];
		hot_share[i] = hot[i] / sim[i];
	}
	s = median(sim, THRASH_RUNS);
	h = median(hot, THRASH_RUNS);
	c = median(base, THRASH_RUNS);
	printf("%s: %llu accesses, %llu faults, %llu EWB, %llu ELDU in "
	       "%.0f ms: %.0fk accesses/s, %.1f us/fault\n",
	       name, (unsigned long long)accesses, (unsigned long long)faults,
	       (unsigned long long)ewb, (unsigned long long)eldu, s / 1e6,
	       (double)accesses / s * 1e6, s / (double)faults / 1e3);
	printf("%s: AES-GCM alone on the run's pages (as many seals and "
	       "opens, %llu frames, %llu slots): %.0f ms, share of the run "
	       "%.2f\n",
	       name, (unsigned long long)frames, (unsigned long long)slots,
	       c / 1e6, median(share, THRASH_RUNS));
	printf("%s: AES-GCM alone on one hot page: %.0f ms, share of the run "
	       "%.2f\n",
	       name, h / 1e6, median(hot_share, THRASH_RUNS));
	bench_verdict(4, "thrash: share of the run in AES-GCM",
		      median(share, THRASH_RUNS), BENCH_AT_LEAST, 0.70);
	bench_verdict(4, "thrash: share of the run in AES-GCM on a hot page",
		      median(hot_share, THRASH_RUNS), BENCH_REPORT, 0);
	epcg_scenario_destroy(sc);
}

int main(int argc, char **argv)
{
	char text[1024];
	uint64_t hit, thrash;

	bench_init(argc, argv, "bench-sim");
	hit = bench_iters(2500000);
	thrash = bench_iters(200000);
	snprintf(text, sizeof(text),
		 "epc 64M\n"
		 "cgroup /a\n"
		 "enclave hot size 4M threads 4 cgroup /a\n"
		 "workload hot uniform accesses %llu think 100ns\n",
		 (unsigned long long)hit);
	bench_hit("hit, uniform over 4 MiB, 4 threads", text, BENCH_AT_LEAST);
	snprintf(text, sizeof(text),
		 "epc 64M\n"
		 "cgroup /a max 32M\n"
		 "enclave web size 24M threads 4 cgroup /a\n"
		 "workload web zipf:0.99 accesses %llu think 2us\n",
		 (unsigned long long)hit);
	bench_hit("hit, zipf:0.99 over 24 MiB, 4 threads", text, BENCH_REPORT);
	snprintf(text, sizeof(text),
		 "epc 64M\n"
		 "cgroup /t max 2M\n"
		 "enclave db size 8M cgroup /t\n"
		 "workload db uniform accesses %llu think 1us\n",
		 (unsigned long long)thrash);
	bench_thrash("thrash, uniform over 4x the limit", text, 2 * 256, 8 * 256);
	return 0;
}
