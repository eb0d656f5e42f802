/* SPDX-License-Identifier: MIT */
/*
 * Workload generators: which enclave page a simulated thread touches next.
 *
 * Everything here is a pure function of its inputs: a seeded PRNG of our
 * own (xoshiro256**, seeded through splitmix64, never the C library's),
 * exact samplers (Zipf by rejection-inversion, uniform without modulo
 * bias), and trace readers that turn libCacheSim-style id traces or
 * address traces into page numbers.  Same seed, same pages, on any
 * machine.
 */
#ifndef EPCG_SIM_WORKLOAD_H
#define EPCG_SIM_WORKLOAD_H

#include <stdint.h>
#include <stdio.h>

#include "scenario.h"

/* xoshiro256**: 256 bits of state, period 2^256 - 1. */
struct epcg_rng {
	uint64_t s[4];
};

/** epcg_rng_seed() - seed from one number (any value, 0 included). */
void epcg_rng_seed(struct epcg_rng *rng, uint64_t seed);

/*
 * The two draws below are inline: one of them runs per simulated access,
 * and as calls they were a quarter of the generator's instructions.
 */

static inline uint64_t epcg__rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/** epcg_rng_next() - 64 random bits. */
static inline uint64_t epcg_rng_next(struct epcg_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = epcg__rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = epcg__rng_rotl(s[3], 45);
	return result;
}

/* The rare end of epcg_rng_below(): @m, the first draw times @n, may be
 * biased; draw again until it is not.  Return: the result. */
uint64_t epcg__rng_below_retry(struct epcg_rng *rng, uint64_t n,
			       unsigned __int128 m);

/*
 * epcg_rng_below() - uniform in [0, @n), exactly (no modulo bias); 0 if
 *	@n is 0.  Lemire's multiply-and-reject: the high half of a draw
 *	times @n, drawn again while the low half falls in the few values
 *	that would favour some results (only possible when it is below @n).
 */
static inline uint64_t epcg_rng_below(struct epcg_rng *rng, uint64_t n)
{
	unsigned __int128 m;

	if (!n)
		return 0;
	m = (unsigned __int128)epcg_rng_next(rng) * n;
	if ((uint64_t)m < n)
		return epcg__rng_below_retry(rng, n, m);
	return (uint64_t)(m >> 64);
}

/** epcg_rng_double() - uniform in [0, 1), 53 bits. */
double epcg_rng_double(struct epcg_rng *rng);

/*
 * Zipf over ranks 1..n with P(k) proportional to k^-s, sampled exactly by
 * rejection-inversion (Hoermann and Derflinger): constant time per draw
 * and no table, so a 100 GiB enclave costs nothing to set up.
 */
struct epcg_zipf {
	uint64_t n;
	double s;
	double h_x1;		/* H(1.5) - 1 */
	double h_n;		/* H(n + 0.5) */
	double bound;		/* accept without the second test below it */
};

/**
 * epcg_zipf_init() - prepare a sampler.
 * Return: 0; -EINVAL if @n is 0 or @s is not a finite number above 0.
 */
int epcg_zipf_init(struct epcg_zipf *z, uint64_t n, double s);

/** epcg_zipf_next() - a rank in [1, n]; rank 1 is the most frequent. */
uint64_t epcg_zipf_next(const struct epcg_zipf *z, struct epcg_rng *rng);

/**
 * struct epcg_trace - a trace read into memory: one page key per access.
 * @keys: txt/csv: the object id (a number, or a hash of a non-numeric id);
 *	addr: the page number of the address minus that of the base.
 * @nr: accesses.
 */
struct epcg_trace {
	uint64_t *keys;
	uint64_t nr;
};

/**
 * epcg_trace_read() - read a trace.
 * @f: the open trace.
 * @name: the file name for messages.
 * @opts: its format.
 * @ret: filled in; free with epcg_trace_finish().
 * @err: receives "NAME:LINE: message" on failure.
 * @errlen: its size.
 *
 * txt: one id per line (blank lines and '#' comments skipped).  csv: the
 * id in column @opts->id_col, fields split at @opts->delim, first line
 * skipped if @opts->header.  addr: Valgrind Lackey lines ("I  04012a3c,4",
 * " L 1ffefffd88,8"), memtrace lines ("readd 0x7ff000 8") or a bare
 * address per line; "==PID==" lines are skipped.
 *
 * Return: 0; -EINVAL for a malformed line or an empty trace; -ENOMEM; -EIO
 * if reading failed.
 */
int epcg_trace_read(FILE *f, const char *name,
		    const struct epcg_trace_opts *opts, struct epcg_trace *ret,
		    char *err, size_t errlen);

/** epcg_trace_load() - epcg_trace_read() on a path; -errno if unopenable. */
int epcg_trace_load(const char *path, const struct epcg_trace_opts *opts,
		    struct epcg_trace *ret, char *err, size_t errlen);

/** epcg_trace_finish() - free what epcg_trace_read() filled in. */
void epcg_trace_finish(struct epcg_trace *trace);

/**
 * struct epcg_workload_gen - one thread's position in its workload.
 *
 * All fields are private to workload.c.
 */
struct epcg_workload_gen {
	const struct epcg_workload *wl;
	const struct epcg_trace *trace;
	uint64_t enclave_pages;
	struct epcg_rng rng;
	struct epcg_zipf zipf;
	uint64_t first;		/* first page of the current region */
	uint64_t pages;		/* pages in it */
	enum epcg_pattern pattern;	/* of the current phase */
	uint64_t cursor;	/* scan position, trace position */
	uint64_t done;		/* accesses made */
	uint64_t limit;		/* accesses allowed (UINT64_MAX: none) */
	unsigned phase;
	uint64_t phase_end;	/* elapsed time the phase ends at */
	uint64_t think_ns;	/* of the current region */
	uint64_t access_ns;	/* think time when none is given */
};

/**
 * epcg_workload_gen_init() - start a thread on a workload.
 * @g: the generator.
 * @wl: the workload (kept by reference).
 * @enclave_size: bytes in the enclave.
 * @trace: TRACE: the trace read for it (kept by reference), else NULL.
 * @seed: the scenario's seed.
 * @stream: distinguishes threads: enclave index * 1024 + thread, say.
 * @access_ns: the think time when the workload gives none.
 *
 * With neither accesses nor duration given, uniform and zipf make four
 * accesses per page of the working set, scan one pass, phases one run
 * through the phases, trace one replay.
 *
 * Return: 0; -EINVAL if the workload does not fit the enclave or a trace
 * workload has no trace.
 */
int epcg_workload_gen_init(struct epcg_workload_gen *g,
			   const struct epcg_workload *wl,
			   uint64_t enclave_size,
			   const struct epcg_trace *trace, uint64_t seed,
			   uint64_t stream, uint64_t access_ns);

/**
 * epcg_workload_gen_next() - the next page to touch.
 * @g: the generator.
 * @elapsed_ns: virtual time since the thread started (phases and the
 *	workload's duration are measured on it).
 * @think_ns: receives the compute time to spend before the next access.
 *
 * Return: a page index in [0, enclave pages), or -1 when the workload is
 * done.
 */
int64_t epcg_workload_gen_next(struct epcg_workload_gen *g,
			       uint64_t elapsed_ns, uint64_t *think_ns);

#endif
