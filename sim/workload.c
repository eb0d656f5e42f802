// SPDX-License-Identifier: MIT
/*
 * Workload generators and trace readers (see workload.h).
 *
 * The PRNG is xoshiro256** (Blackman and Vigna), seeded by splitmix64 so
 * that neighbouring seeds give unrelated streams; each simulated thread
 * gets its own stream from (seed, stream).  Uniform draws use Lemire's
 * multiply-and-reject, so no page is favoured by a modulo (the draws are
 * inline, in workload.h).  Zipf uses
 * rejection-inversion: invert the integral H of the continuous density
 * x^-s, round to the nearest rank, and accept unless the rank falls in
 * the small sliver where the continuous hat exceeds the discrete mass;
 * the result is exact, and about one uniform draw per sample.
 *
 * Traces map to pages by key modulo the pages of the working set: an
 * object id is its own key (non-numeric ids are hashed with FNV-1a), an
 * address is folded to its 4 KiB page relative to a base address.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void epcg_rng_seed(struct epcg_rng *rng, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&seed);
}

uint64_t epcg__rng_below_retry(struct epcg_rng *rng, uint64_t n,
			       unsigned __int128 m)
{
	uint64_t floor = -n % n;

	while ((uint64_t)m < floor)
		m = (unsigned __int128)epcg_rng_next(rng) * n;
	return (uint64_t)(m >> 64);
}

double epcg_rng_double(struct epcg_rng *rng)
{
	return (double)(epcg_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* ---- Zipf by rejection-inversion ---- */

/* log1p(x) / x, continuous at 0. */
static double log1p_over(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* expm1(x) / x, continuous at 0. */
static double expm1_over(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

/* The density x^-s. */
static double zipf_h(const struct epcg_zipf *z, double x)
{
	return exp(-z->s * log(x));
}

/* H(x) = (x^(1-s) - 1) / (1 - s), log(x) at s = 1: H' = h. */
static double zipf_hint(const struct epcg_zipf *z, double x)
{
	double lx = log(x);

	return expm1_over((1 - z->s) * lx) * lx;
}

static double zipf_hint_inv(const struct epcg_zipf *z, double y)
{
	double t = y * (1 - z->s);

	if (t < -1)
		t = -1;	/* rounding near the end of the range */
	return exp(log1p_over(t) * y);
}

int epcg_zipf_init(struct epcg_zipf *z, uint64_t n, double s)
{
	if (!n || !isfinite(s) || s <= 0)
		return -EINVAL;
	z->n = n;
	z->s = s;
	z->h_x1 = zipf_hint(z, 1.5) - 1;
	z->h_n = zipf_hint(z, (double)n + 0.5);
	z->bound = 2 - zipf_hint_inv(z, zipf_hint(z, 2.5) - zipf_h(z, 2));
	return 0;
}

uint64_t epcg_zipf_next(const struct epcg_zipf *z, struct epcg_rng *rng)
{
	for (;;) {
		double u = z->h_n + epcg_rng_double(rng) * (z->h_x1 - z->h_n);
		double x = zipf_hint_inv(z, u);
		double kd = floor(x + 0.5);
		uint64_t k;

		if (kd < 1)
			kd = 1;
		if (kd > (double)z->n)
			kd = (double)z->n;
		k = (uint64_t)kd;
		if (kd - x <= z->bound ||
		    u >= zipf_hint(z, kd + 0.5) - zipf_h(z, kd))
			return k;
	}
}

/* ---- traces ---- */

/* "NAME:LINE: what 'token'", or "NAME: what" for the whole file. */
static int trace_fail(char *err, size_t errlen, const char *name,
		      uint64_t line, const char *what, const char *tok)
{
	if (errlen && line)
		snprintf(err, errlen, "%s:%llu: %s '%.64s'", name,
			 (unsigned long long)line, what, tok);
	else if (errlen)
		snprintf(err, errlen, "%s: %s", name, what);
	return -EINVAL;
}

/* FNV-1a: a stable key for a non-numeric object id. */
static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t id_key(const char *s, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			break;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return i == n && n ? v : fnv1a(s, n);
}

/* Trim blanks and one pair of double quotes. */
static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t' || **s == '\r'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
		      (*s)[*n - 1] == '\r' || (*s)[*n - 1] == '\n'))
		(*n)--;
	if (*n >= 2 && (*s)[0] == '"' && (*s)[*n - 1] == '"')
		(*s)++, *n -= 2;
}

/*
 * The csv field @col (1-based) of @line; false if there is none.  A NUL
 * @delim splits nothing: strchr() finds the terminator, not a field.
 */
static bool csv_field(const char *line, char delim, unsigned col,
		      const char **f, size_t *n)
{
	const char *s = line, *e;

	for (unsigned i = 1; i < col; i++) {
		s = strchr(s, delim);
		if (!s || !*s)
			return false;
		s++;
	}
	e = strchr(s, delim);
	*f = s;
	*n = e ? (size_t)(e - s) : strlen(s);
	trim(f, n);
	return true;
}

static bool parse_hex(const char *s, uint64_t *ret)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*ret = strtoull(s, &end, 16);
	return !errno && end != s && (!*end || *end == ',');
}

/* One address line: Lackey, memtrace or bare. */
static bool addr_line(char *line, uint64_t *addr)
{
	char *save, *a = strtok_r(line, " \t\r\n", &save);
	char *b = a ? strtok_r(NULL, " \t\r\n", &save) : NULL;

	if (!a)
		return false;
	if (b && ((strlen(a) == 1 && strchr("ILSM", a[0])) ||
		  !strcmp(a, "readi") || !strcmp(a, "readd") ||
		  !strcmp(a, "write")))
		return parse_hex(b, addr);
	return !b && parse_hex(a, addr);
}

static int push_key(struct epcg_trace *t, uint64_t *cap, uint64_t key)
{
	if (t->nr == *cap) {
		uint64_t ncap = *cap ? 2 * *cap : 1024;
		uint64_t *n = realloc(t->keys, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->keys = n;
		*cap = ncap;
	}
	t->keys[t->nr++] = key;
	return 0;
}

/* Key of one line; 1 if the line carries no access, <0 on error. */
static int line_key(const struct epcg_trace_opts *o, char *line, uint64_t nr,
		    uint64_t *key, const char *name, char *err, size_t errlen)
{
	const char *f = line;
	char *copy;
	size_t n;
	uint64_t addr;
	bool ok;

	line[strcspn(line, "\r\n")] = 0;
	n = strlen(line);

	switch (o->format) {
	case EPCG_TRACE_TXT:
		trim(&f, &n);
		if (!n || f[0] == '#')
			return 1;
		*key = id_key(f, n);
		return 0;
	case EPCG_TRACE_CSV:
		if (o->header && nr == 1)
			return 1;
		trim(&f, &n);
		if (!n)
			return 1;
		if (!csv_field(line, o->delim, o->id_col, &f, &n) || !n)
			return trace_fail(err, errlen, name, nr,
					  "no object id in the id column of",
					  line);
		*key = id_key(f, n);
		return 0;
	case EPCG_TRACE_ADDR:
		trim(&f, &n);
		if (!n || !strncmp(f, "==", 2) || f[0] == '#')
			return 1;
		copy = strndup(f, n);
		if (!copy)
			return -ENOMEM;
		ok = addr_line(copy, &addr);
		free(copy);
		if (!ok)
			return trace_fail(err, errlen, name, nr,
					  "not an address line", f);
		*key = (addr >> 12) - (o->base >> 12);
		return 0;
	default:
		return trace_fail(err, errlen, name, 0, "bad trace format",
				  "");
	}
}

int epcg_trace_read(FILE *f, const char *name,
		    const struct epcg_trace_opts *opts, struct epcg_trace *ret,
		    char *err, size_t errlen)
{
	struct epcg_trace t = { NULL, 0 };
	uint64_t cap = 0, nr = 0, key;
	char *line = NULL;
	size_t size = 0;
	int r = 0;

	while (getline(&line, &size, f) >= 0) {
		nr++;
		r = line_key(opts, line, nr, &key, name, err, errlen);
		if (r < 0)
			break;
		if (r == 0 && push_key(&t, &cap, key)) {
			r = -ENOMEM;
			break;
		}
		r = 0;
	}
	free(line);
	if (!r && ferror(f))
		r = -EIO;
	if (!r && !t.nr)
		r = trace_fail(err, errlen, name, 0, "empty trace", "");
	if (r) {
		if (r == -EIO && errlen)
			snprintf(err, errlen, "%s: read error", name);
		free(t.keys);
		return r;
	}
	*ret = t;
	return 0;
}

int epcg_trace_load(const char *path, const struct epcg_trace_opts *opts,
		    struct epcg_trace *ret, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		r = -errno;
		if (errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = epcg_trace_read(f, path, opts, ret, err, errlen);
	fclose(f);
	return r;
}

void epcg_trace_finish(struct epcg_trace *trace)
{
	if (!trace)
		return;
	free(trace->keys);
	trace->keys = NULL;
	trace->nr = 0;
}

/* ---- generators ---- */

/* Point @g at a region and pattern (the workload's or a phase's). */
static void set_region(struct epcg_workload_gen *g, enum epcg_pattern pattern,
		       double zipf_s, uint64_t offset, uint64_t size,
		       uint64_t think_ns, uint64_t access_ns)
{
	uint64_t bytes = size ? size : g->enclave_pages * 4096 - offset;

	g->pattern = pattern;
	g->first = offset / 4096;
	g->pages = bytes / 4096;
	g->cursor = 0;
	g->think_ns = think_ns ? think_ns : access_ns;
	if (pattern == EPCG_PATTERN_ZIPF)
		epcg_zipf_init(&g->zipf, g->pages, zipf_s);
}

static uint64_t default_limit(const struct epcg_workload_gen *g)
{
	const struct epcg_workload *wl = g->wl;

	if (wl->accesses)
		return wl->accesses;
	if (wl->duration_ns || wl->loop)
		return UINT64_MAX;
	switch (wl->pattern) {
	case EPCG_PATTERN_SCAN:
		return g->pages;
	case EPCG_PATTERN_TRACE:
		return g->trace->nr;
	case EPCG_PATTERN_PHASES:
		return UINT64_MAX;
	default:
		return 4 * g->pages;
	}
}

int epcg_workload_gen_init(struct epcg_workload_gen *g,
			   const struct epcg_workload *wl,
			   uint64_t enclave_size,
			   const struct epcg_trace *trace, uint64_t seed,
			   uint64_t stream, uint64_t access_ns)
{
	uint64_t pages = enclave_size / 4096;
	const struct epcg_phase *ph;

	memset(g, 0, sizeof(*g));
	if (!pages || wl->offset % 4096 || wl->size % 4096 ||
	    wl->offset >= enclave_size || wl->size > enclave_size - wl->offset)
		return -EINVAL;
	if (wl->pattern == EPCG_PATTERN_TRACE && (!trace || !trace->nr))
		return -EINVAL;
	if (wl->pattern == EPCG_PATTERN_PHASES && !wl->nr_phases)
		return -EINVAL;
	g->wl = wl;
	g->trace = trace;
	g->enclave_pages = pages;
	g->access_ns = access_ns;
	/* Streams apart: splitmix64 decorrelates neighbouring inputs. */
	epcg_rng_seed(&g->rng, seed ^ (stream * 0xd1342543de82ef95ull));
	if (wl->pattern == EPCG_PATTERN_PHASES) {
		for (unsigned i = 0; i < wl->nr_phases; i++) {
			ph = &wl->phases[i];
			if (ph->offset >= enclave_size ||
			    ph->size > enclave_size - ph->offset)
				return -EINVAL;
		}
		ph = &wl->phases[0];
		set_region(g, ph->pattern, ph->zipf_s, ph->offset, ph->size,
			   ph->think_ns, access_ns);
		g->phase_end = ph->duration_ns;
	} else {
		set_region(g, wl->pattern, wl->zipf_s, wl->offset, wl->size,
			   wl->think_ns, access_ns);
	}
	g->limit = default_limit(g);
	return 0;
}

/* Move to the phase @elapsed_ns falls in; false when past the last. */
static bool advance_phase(struct epcg_workload_gen *g, uint64_t elapsed_ns)
{
	const struct epcg_workload *wl = g->wl;
	const struct epcg_phase *ph;

	while (elapsed_ns >= g->phase_end) {
		if (++g->phase == wl->nr_phases) {
			if (!wl->loop)
				return false;
			g->phase = 0;
		}
		ph = &wl->phases[g->phase];
		set_region(g, ph->pattern, ph->zipf_s, ph->offset, ph->size,
			   ph->think_ns, g->access_ns);
		g->phase_end += ph->duration_ns;
	}
	return true;
}

/* Count the access to @page (relative to the region) and hand it out. */
static inline int64_t gen_emit(struct epcg_workload_gen *g, uint64_t page,
			       uint64_t *think_ns)
{
	g->done++;
	if (think_ns)
		*think_ns = g->think_ns;
	return (int64_t)(g->first + page);
}

/* epcg_workload_gen_next() but for its first test, for every workload. */
static __attribute__((noinline)) int64_t
gen_next_any(struct epcg_workload_gen *g, uint64_t elapsed_ns,
	     uint64_t *think_ns)
{
	const struct epcg_workload *wl = g->wl;
	uint64_t page;

	if (wl->duration_ns && elapsed_ns >= wl->duration_ns)
		return -1;
	if (wl->pattern == EPCG_PATTERN_PHASES &&
	    !advance_phase(g, elapsed_ns))
		return -1;
	switch (g->pattern) {
	case EPCG_PATTERN_ZIPF:
		page = epcg_zipf_next(&g->zipf, &g->rng) - 1;
		break;
	case EPCG_PATTERN_SCAN:
		page = g->cursor++ % g->pages;
		break;
	case EPCG_PATTERN_TRACE:
		page = g->trace->keys[g->cursor++ % g->trace->nr] % g->pages;
		break;
	default:
		page = epcg_rng_below(&g->rng, g->pages);
		break;
	}
	return gen_emit(g, page, think_ns);
}

/*
 * A uniform workload without a duration (one region, no clock to watch)
 * is drawn here, as gen_next_any() would draw it, without a call or a
 * stack frame: it is the hit-dominated simulation's generator.
 */
int64_t epcg_workload_gen_next(struct epcg_workload_gen *g,
			       uint64_t elapsed_ns, uint64_t *think_ns)
{
	const struct epcg_workload *wl = g->wl;

	if (g->done >= g->limit)
		return -1;
	if (wl->pattern != EPCG_PATTERN_UNIFORM || wl->duration_ns)
		return gen_next_any(g, elapsed_ns, think_ns);
	return gen_emit(g, epcg_rng_below(&g->rng, g->pages), think_ns);
}
