// SPDX-License-Identifier: MIT
/*
 * epcg enclave: a client process with an enclave on the software EPC of a
 * tree mounted by `epcg mount` (the /dev/sgx_enclave analogue).
 *
 *	epcg enclave [--size SIZE] [--tcs N] [--pattern uniform|zipf:S|scan]
 *		     [--accesses N] [--seconds S] [--threads N] [--seed N]
 *		     [--writes PCT] [--touch BYTES] [--verify all|none] DIR
 *
 * It builds an enclave of SIZE bytes of pages (N TCS pages, then regular
 * pages), inits it, runs the access pattern from N threads (each its own
 * connection, its own thread inside the enclave, its own share of the
 * regular pages), reads every page back, prints one summary line and
 * exits 0.  Its EPC is charged to the cgroup this process belongs to,
 * which the daemon learns from the kernel, not from us.
 *
 * Every page has checkable content: 512 words derived from the enclave
 * (its id), the page index and the page's version, which every write
 * bumps (a write rewrites the whole page).  Every byte a read returns is
 * checked against the version we wrote last, so a page that came back
 * from eviction wrong, late or from another enclave is caught.  A read
 * touches --touch bytes at an aligned place in its page (the whole page
 * by default; 64 is a cache line), and the final pass reads every page
 * whole (--verify none skips it: a client that, like the kselftest's
 * test_sgx, touches a few pages after building and leaves).
 *
 * Accesses go in batches of up to EPCGFS_WIN_OPS_MAX through the
 * connection's window: one round trip per batch, the data packed after
 * the operation list (docs/interface.md).
 *
 * Failures: building that fails prints the errno name and the pages added
 * (ENOMEM at a limit with nothing reclaimable, SPEC E5) and exits 1; a
 * fault the daemon could not serve (the SIGBUS outcome) kills this
 * process with SIGBUS, as the kernel would; a wrong page exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include "cli.h"
#include "epcgfs.h"
#include "workload.h"

#define PAGE 4096u
#define WORDS (PAGE / 8)
/* Pages one add or one batch of whole-page accesses carries. */
#define BATCH_MAX (EPCGFS_WIN_DATA_SIZE / PAGE)
#define SIZE_DEFAULT (1u << 20)

enum pattern { PAT_UNIFORM, PAT_ZIPF, PAT_SCAN };

struct opts {
	const char *dir;
	uint64_t size;
	unsigned tcs;
	enum pattern pattern;
	double zipf_s;
	uint64_t accesses;
	bool accesses_given; /* else 4 per regular page */
	double seconds; /* 0: not given */
	unsigned threads;
	uint64_t seed;
	unsigned writes; /* percent */
	unsigned touch; /* bytes a read touches, a multiple of 8 */
	bool verify; /* read every page back at the end */
};

/* The enclave as this process sees it. */
struct encl {
	const struct opts *o;
	uint64_t id;
	uint64_t tag; /* derived from the id: what makes its pages its own */
	uint64_t pages; /* TCS pages first, then regular ones */
	uint32_t *version; /* per page; each thread writes only its own */
};

/* One accessing thread: its connection, its pages, its results. */
struct worker {
	struct encl *e;
	struct epcgfs_client c;
	unsigned index;
	uint64_t quota; /* accesses to make; UINT64_MAX: until the time */
	uint64_t deadline_ns; /* 0: none */
	uint64_t accesses, writes;
	int err; /* 0, or -errno that stopped it */
	uint64_t bad_page; /* the page that failed its check (err -EIO) */
	pthread_t thread;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The first word of page @page at @version; word i adds i times a constant. */
static uint64_t page_base(const struct encl *e, uint64_t page, uint32_t version)
{
	return mix64(e->tag ^ mix64(page << 24 ^ version));
}

static void page_fill(const struct encl *e, void *dst, uint64_t page,
		      uint32_t version)
{
	uint64_t *w = dst, v = page_base(e, page, version);

	for (unsigned i = 0; i < WORDS; i++, v += 0x9e3779b97f4a7c15ull)
		w[i] = v;
}

/* Check @nr words read from word @first of @page at @version. */
static bool page_check(const struct encl *e, const void *src, uint64_t page,
		       uint32_t version, unsigned first, unsigned nr)
{
	const uint64_t *w = src;
	uint64_t v = page_base(e, page, version) +
		     first * 0x9e3779b97f4a7c15ull,
		 bad = 0;

	for (unsigned i = 0; i < nr; i++, v += 0x9e3779b97f4a7c15ull)
		bad |= w[i] ^ v;
	return !bad;
}

/* The daemon could not serve a fault: die as the kernel would make us. */
static _Noreturn void die_sigbus(uint64_t id)
{
	struct rlimit rl;
	sigset_t set;

	fprintf(stderr,
		"epcg: enclave %" PRIu64 ": a fault could not be served "
		"(EFAULT): SIGBUS\n",
		id);
	fflush(stderr);
	/* No core file for an expected death. */
	if (!getrlimit(RLIMIT_CORE, &rl)) {
		rl.rlim_cur = 0;
		setrlimit(RLIMIT_CORE, &rl);
	}
	signal(SIGBUS, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGBUS);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGBUS);
	abort(); /* not reached */
}

/* ---- build ------------------------------------------------------------- */

static int build(struct epcgfs_client *c, struct encl *e, uint64_t *added)
{
	const struct opts *o = e->o;
	char req[128];
	uint64_t v[1];
	int r;

	*added = 0;
	for (uint64_t p = 0; p < e->pages;) {
		bool tcs = p < o->tcs;
		uint64_t end = tcs ? o->tcs : e->pages;
		uint64_t nr = end - p < BATCH_MAX ? end - p : BATCH_MAX;

		for (uint64_t i = 0; i < nr; i++)
			page_fill(e, c->data + i * PAGE, p + i, 0);
		snprintf(req, sizeof(req),
			 "encl-add %" PRIu64 " %" PRIu64 " %" PRIu64 " %s %u",
			 e->id, p * PAGE, nr, tcs ? "tcs" : "reg", tcs ? 0 : 3);
		r = epcgfs_client_call(c, req, v, 1);
		*added += v[0];
		if (r)
			return r;
		p += nr;
	}
	snprintf(req, sizeof(req), "encl-init %" PRIu64, e->id);
	return epcgfs_client_call(c, req, NULL, 0);
}

/* ---- access ------------------------------------------------------------- */

/* Which of its pages a worker touches next. */
struct picker {
	enum pattern pattern;
	struct epcg_rng rng;
	struct epcg_zipf zipf;
	uint64_t first, stride, n; /* its pages: first + k * stride, k < n */
	uint64_t cursor;
};

static uint64_t pick(struct picker *pk)
{
	uint64_t k;

	switch (pk->pattern) {
	case PAT_ZIPF:
		k = epcg_zipf_next(&pk->zipf, &pk->rng) - 1;
		break;
	case PAT_SCAN:
		k = pk->cursor++ % pk->n;
		break;
	default:
		k = epcg_rng_below(&pk->rng, pk->n);
		break;
	}
	return pk->first + k * pk->stride;
}

/*
 * One batch being filled: the operations go to the window, and what a
 * read must find is kept here.  Data is packed in the window in order.
 */
struct batch {
	unsigned nr;
	size_t pos; /* data bytes used */
	uint64_t page[EPCGFS_WIN_OPS_MAX];
	uint32_t version[EPCGFS_WIN_OPS_MAX]; /* a read's expected version */
	size_t at[EPCGFS_WIN_OPS_MAX]; /* where its data is */
};

/* Whether @b has room for one more access, a whole page at worst. */
static bool batch_room(const struct batch *b)
{
	return b->nr < EPCGFS_WIN_OPS_MAX &&
	       b->pos + PAGE <= EPCGFS_WIN_DATA_SIZE;
}

/* Add an access of @len bytes at byte @off of @page to @b. */
static void batch_add(struct worker *w, struct batch *b, uint64_t page,
		      unsigned off, unsigned len, bool write)
{
	struct encl *e = w->e;
	unsigned i = b->nr++;

	w->c.ops[i] = (struct epcgfs_op){ page * PAGE + off, len,
					  write ? EPCGFS_OP_WRITE : 0 };
	b->page[i] = page;
	b->at[i] = b->pos;
	if (write)
		page_fill(e, w->c.data + b->pos, page, ++e->version[page]);
	b->version[i] = e->version[page];
	b->pos += len;
}

/* Send the batch; verify what it read.  Return: 0 or -errno (-EIO). */
static int batch_run(struct worker *w, struct batch *b)
{
	struct encl *e = w->e;
	char req[96];
	uint64_t done;
	int r;

	snprintf(req, sizeof(req), "encl-access %" PRIu64 " %u", e->id, b->nr);
	r = epcgfs_client_call(&w->c, req, &done, 1);
	if (r == -EFAULT)
		die_sigbus(e->id);
	if (r)
		return r;
	for (unsigned i = 0; i < b->nr; i++) {
		const struct epcgfs_op *op = &w->c.ops[i];

		if (op->flags & EPCGFS_OP_WRITE)
			continue;
		if (!page_check(e, w->c.data + b->at[i], b->page[i],
				b->version[i], (op->offset % PAGE) / 8,
				op->len / 8)) {
			w->bad_page = b->page[i];
			return -EIO;
		}
	}
	b->nr = 0;
	b->pos = 0;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct batch *b = malloc(sizeof(*b));
	struct encl *e = w->e;
	const struct opts *o = e->o;
	uint64_t reg = e->pages - o->tcs;
	struct picker pk = {
		.pattern = o->pattern,
		.first = o->tcs + w->index,
		.stride = o->threads,
	};

	if (!b) {
		w->err = -ENOMEM;
		return NULL;
	}
	b->nr = 0;
	b->pos = 0;
	pk.n = (reg - w->index + o->threads - 1) / o->threads;
	epcg_rng_seed(&pk.rng, o->seed ^ mix64(w->index + 1));
	if (pk.pattern == PAT_ZIPF)
		epcg_zipf_init(&pk.zipf, pk.n, o->zipf_s);
	while (w->accesses < w->quota &&
	       (!w->deadline_ns || now_ns() < w->deadline_ns)) {
		uint64_t left = w->quota - w->accesses;
		unsigned nr = 0;

		for (; nr < left && batch_room(b); nr++) {
			uint64_t p = pick(&pk);

			if (epcg_rng_below(&pk.rng, 100) < o->writes) {
				batch_add(w, b, p, 0, PAGE, true);
				w->writes++;
			} else {
				batch_add(w, b, p,
					  (unsigned)epcg_rng_below(
						  &pk.rng, PAGE / o->touch) *
						  o->touch,
					  o->touch, false);
			}
		}
		w->err = batch_run(w, b);
		if (w->err)
			break;
		w->accesses += nr;
	}
	free(b);
	return NULL;
}

/* Read every page back and check it; thread 0's connection. */
static int verify_all(struct worker *w, uint64_t *verified)
{
	static struct batch b;
	struct encl *e = w->e;
	int r;

	b.nr = 0;
	b.pos = 0;
	*verified = 0;
	for (uint64_t p = 0; p < e->pages;) {
		unsigned nr = e->pages - p < BATCH_MAX ?
				      (unsigned)(e->pages - p) :
				      BATCH_MAX;

		for (unsigned i = 0; i < nr; i++)
			batch_add(w, &b, p + i, 0, PAGE, false);
		r = batch_run(w, &b);
		if (r)
			return r;
		p += nr;
		*verified += nr;
	}
	return 0;
}

/* ---- the command ---------------------------------------------------------- */

static const struct option enclave_options[] = {
	{ "size", required_argument, NULL, 'S' },
	{ "tcs", required_argument, NULL, 'T' },
	{ "pattern", required_argument, NULL, 'p' },
	{ "accesses", required_argument, NULL, 'a' },
	{ "seconds", required_argument, NULL, 's' },
	{ "threads", required_argument, NULL, 't' },
	{ "seed", required_argument, NULL, 'r' },
	{ "writes", required_argument, NULL, 'w' },
	{ "touch", required_argument, NULL, 'o' },
	{ "verify", required_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static void enclave_usage(FILE *f)
{
	fprintf(f,
		"usage: epcg enclave [--size SIZE] [--tcs N]\n"
		"                    [--pattern uniform|zipf:S|scan]\n"
		"                    [--accesses N] [--seconds S] [--threads N]\n"
		"                    [--seed N] [--writes PCT] [--touch BYTES]\n"
		"                    [--verify all|none] DIR\n\n"
		"Builds an enclave on the software EPC of the tree mounted at\n"
		"DIR, charged to this process's cgroup, runs an access pattern,\n"
		"checks every page and prints a summary line.\n"
		"  --size SIZE      bytes of pages, TCS included (default 1M)\n"
		"  --tcs N          TCS pages, at least --threads (default: threads)\n"
		"  --pattern P      uniform (default), zipf:S (exponent S), scan\n"
		"  --accesses N     page accesses in all (default 4 per page;\n"
		"                   0: none)\n"
		"  --seconds S      run the pattern for S seconds\n"
		"  --threads N      threads, each with its share of the pages\n"
		"  --seed N         for the pattern (default 1)\n"
		"  --writes PCT     percent of accesses that write (default 25)\n"
		"  --touch BYTES    bytes a read checks, 8 to 4096, a power of\n"
		"                   two (default 4096: the page); writes rewrite\n"
		"                   the page\n"
		"  --verify all|none  read every page back at the end (all)\n"
		"Exit: 0 done; 1 failed (errno name on stderr); killed by SIGBUS\n"
		"when a fault could not be served.\n");
}

static int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || *end || *ret > max ? -EINVAL : 0;
}

static int parse_pattern(const char *s, struct opts *o)
{
	char *end;

	if (!strcmp(s, "uniform")) {
		o->pattern = PAT_UNIFORM;
	} else if (!strcmp(s, "scan")) {
		o->pattern = PAT_SCAN;
	} else if (!strncmp(s, "zipf:", 5)) {
		o->pattern = PAT_ZIPF;
		errno = 0;
		o->zipf_s = strtod(s + 5, &end);
		if (errno || end == s + 5 || *end || !isfinite(o->zipf_s) ||
		    o->zipf_s <= 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	uint64_t v;
	bool tcs_given = false;
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", enclave_options, NULL)) !=
	       -1) {
		switch (c) {
		case 'S':
			if (cli_parse_size(optarg, &o->size) ||
			    o->size % PAGE || !o->size)
				return cli_usage_error(
					"enclave: --size must be a multiple of "
					"4096, not '%s'",
					optarg);
			break;
		case 'T':
			if (parse_uint(optarg, 1u << 16, &v) || !v)
				return cli_usage_error(
					"enclave: bad --tcs '%s'", optarg);
			o->tcs = (unsigned)v;
			tcs_given = true;
			break;
		case 'p':
			if (parse_pattern(optarg, o))
				return cli_usage_error(
					"enclave: --pattern must be uniform, "
					"zipf:S or scan, not '%s'",
					optarg);
			break;
		case 'a':
			if (parse_uint(optarg, UINT64_MAX, &o->accesses))
				return cli_usage_error(
					"enclave: bad --accesses '%s'", optarg);
			o->accesses_given = true;
			break;
		case 's':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !isfinite(o->seconds) || o->seconds <= 0)
				return cli_usage_error(
					"enclave: bad --seconds '%s'", optarg);
			break;
		case 't':
			if (parse_uint(optarg, 256, &v) || !v)
				return cli_usage_error(
					"enclave: --threads must be 1 to 256, "
					"not '%s'",
					optarg);
			o->threads = (unsigned)v;
			break;
		case 'r':
			if (parse_uint(optarg, UINT64_MAX, &o->seed))
				return cli_usage_error(
					"enclave: bad --seed '%s'", optarg);
			break;
		case 'w':
			if (parse_uint(optarg, 100, &v))
				return cli_usage_error(
					"enclave: --writes must be 0 to 100, "
					"not '%s'",
					optarg);
			o->writes = (unsigned)v;
			break;
		case 'o':
			if (parse_uint(optarg, PAGE, &v) || v < 8 ||
			    (v & (v - 1)))
				return cli_usage_error(
					"enclave: --touch must be a power of "
					"two from 8 to 4096, not '%s'",
					optarg);
			o->touch = (unsigned)v;
			break;
		case 'v':
			if (strcmp(optarg, "all") && strcmp(optarg, "none"))
				return cli_usage_error(
					"enclave: --verify must be all or "
					"none, not '%s'",
					optarg);
			o->verify = !strcmp(optarg, "all");
			break;
		case 'h':
			enclave_usage(stdout);
			return -1;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("enclave: expected one DIR (see "
				       "'epcg enclave --help')");
	o->dir = argv[optind];
	if (!tcs_given)
		o->tcs = o->threads;
	if (o->tcs < o->threads)
		return cli_usage_error("enclave: each thread needs a TCS: "
				       "--tcs %u < --threads %u",
				       o->tcs, o->threads);
	if (o->size / PAGE < (uint64_t)o->tcs + o->threads)
		return cli_usage_error("enclave: --size leaves no regular "
				       "page for each thread");
	return 0;
}

/* The enclave's address range: a power of two, two pages at least. */
static uint64_t elrange(uint64_t size)
{
	uint64_t r = 2 * PAGE;

	while (r < size && r <= UINT64_MAX / 2)
		r <<= 1;
	return r;
}

static int fail(const struct encl *e, const char *what, int err)
{
	fprintf(stderr, "epcg: enclave %" PRIu64 ": %s: %s\n", e->id, what,
		cli_errno_name(err));
	return 1;
}

/* Start the workers (worker 0 is on @c0), wait for them, sum them up. */
static int run_workers(struct encl *e, struct worker *ws,
		       struct epcgfs_client *c0, uint64_t *accesses,
		       uint64_t *writes)
{
	const struct opts *o = e->o;
	uint64_t total = o->accesses, deadline = 0;
	int err = 0;

	if (!o->accesses_given)
		total = o->seconds ? UINT64_MAX : 4 * (e->pages - o->tcs);
	if (o->seconds)
		deadline = now_ns() + (uint64_t)(o->seconds * 1e9);
	for (unsigned t = 0; t < o->threads; t++) {
		struct worker *w = &ws[t];

		w->e = e;
		w->index = t;
		w->quota =
			total == UINT64_MAX ?
				UINT64_MAX :
				total / o->threads + (t < total % o->threads);
		w->deadline_ns = deadline;
		w->c.fd = -1;
		if (t == 0)
			w->c = *c0;
		else
			err = epcgfs_client_open(o->dir, &w->c);
		if (!err && t)
			err = -pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			if (t)
				epcgfs_client_close(&w->c);
			for (unsigned k = 1; k < t; k++) {
				pthread_join(ws[k].thread, NULL);
				epcgfs_client_close(&ws[k].c);
			}
			return fail(e, "threads", err);
		}
	}
	worker_main(&ws[0]);
	*accesses = ws[0].accesses;
	*writes = ws[0].writes;
	err = ws[0].err;
	for (unsigned t = 1; t < o->threads; t++) {
		pthread_join(ws[t].thread, NULL);
		epcgfs_client_close(&ws[t].c);
		*accesses += ws[t].accesses;
		*writes += ws[t].writes;
		if (!err)
			err = ws[t].err;
	}
	for (unsigned t = 0; t < o->threads; t++)
		if (ws[t].err == -EIO)
			fprintf(stderr,
				"epcg: enclave %" PRIu64 ": page %" PRIu64
				" read back wrong\n",
				e->id, ws[t].bad_page);
	return err ? fail(e, "access", err) : 0;
}

int cmd_enclave(int argc, char **argv)
{
	struct opts o = {
		.size = SIZE_DEFAULT,
		.threads = 1,
		.seed = 1,
		.writes = 25,
		.touch = PAGE,
		.verify = true,
	};
	struct encl e = { .o = &o };
	uint64_t v[EPCGFS_REPLY_VALS], added, accesses = 0, writes = 0;
	uint64_t verified = 0, t0, t1;
	struct epcgfs_client c;
	struct worker *ws;
	char req[64];
	int r, rc = 1;

	r = parse_args(argc, argv, &o);
	if (r)
		return r < 0 ? 0 : r;
	e.pages = o.size / PAGE;
	e.version = calloc(e.pages, sizeof(*e.version));
	ws = calloc(o.threads, sizeof(*ws));
	if (!e.version || !ws) {
		free(e.version);
		free(ws);
		return cli_error("enclave: %s", strerror(ENOMEM));
	}
	r = epcgfs_client_open(o.dir, &c);
	if (r) {
		fprintf(stderr, "epcg: enclave: %s: %s\n", o.dir,
			cli_errno_name(r));
		goto out_free;
	}
	snprintf(req, sizeof(req), "encl-create %" PRIu64, elrange(o.size));
	r = epcgfs_client_call(&c, req, v, 1);
	if (r) {
		fprintf(stderr,
			"epcg: enclave: create: %s (0 of %" PRIu64
			" pages added)\n",
			cli_errno_name(r), e.pages);
		goto out_close;
	}
	e.id = v[0];
	e.tag = mix64(e.id ^ 0x6570636700000000ull);
	r = build(&c, &e, &added);
	if (r) {
		fprintf(stderr,
			"epcg: enclave %" PRIu64 ": build: %s (%" PRIu64
			" of %" PRIu64 " pages added)\n",
			e.id, cli_errno_name(r), added, e.pages);
		goto out_close;
	}
	t0 = now_ns();
	if (run_workers(&e, ws, &c, &accesses, &writes))
		goto out_close;
	t1 = now_ns();
	r = o.verify ? verify_all(&ws[0], &verified) : 0;
	if (r) {
		if (r == -EIO)
			fprintf(stderr,
				"epcg: enclave %" PRIu64 ": page %" PRIu64
				" read back wrong\n",
				e.id, ws[0].bad_page);
		fail(&e, "verify", r);
		goto out_close;
	}
	snprintf(req, sizeof(req), "encl-stats %" PRIu64, e.id);
	r = epcgfs_client_call(&c, req, v, EPCGFS_REPLY_VALS);
	if (!r) {
		snprintf(req, sizeof(req), "encl-remove %" PRIu64, e.id);
		r = epcgfs_client_call(&c, req, NULL, 0);
	}
	if (r) {
		fail(&e, "stats", r);
		goto out_close;
	}
	printf("enclave %" PRIu64 ": pages=%" PRIu64 " tcs=%u threads=%u "
	       "accesses=%" PRIu64 " writes=%" PRIu64 " seconds=%.3f "
	       "rate=%.0f faults=%" PRIu64 " ewb=%" PRIu64 " eldu=%" PRIu64
	       " verified=%" PRIu64 "\n",
	       e.id, e.pages, o.tcs, o.threads, accesses, writes,
	       (double)(t1 - t0) / 1e9,
	       t1 > t0 ? (double)accesses * 1e9 / (double)(t1 - t0) : 0.0, v[6],
	       v[7], v[8], verified);
	rc = 0;
out_close:
	epcgfs_client_close(&c);
out_free:
	free(e.version);
	free(ws);
	return rc;
}
