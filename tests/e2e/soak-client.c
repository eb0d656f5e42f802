// SPDX-License-Identifier: MIT
/*
 * The C parts of the soak test of the live daemon (tests/e2e/soak.sh):
 *
 *	soak-client run DIR SEED PAGES SECONDS STATUS
 *		an enclave client: build an enclave of PAGES regular pages
 *		(plus one TCS page) on the tree mounted at DIR, access it at
 *		random for SECONDS, read every page back, print a summary
 *		line.  STATUS is a small text file it keeps rewriting with
 *		its phase and counters, so whoever kills it knows where it
 *		was and how much it had verified.
 *	soak-client watch DIR STOPFILE
 *		the continuous checker: sample every file of every cgroup
 *		until STOPFILE exists, check what holds at any instant, print
 *		a summary line (and each violation).
 *	soak-client quiet DIR
 *		the checks of a quiescent point (no client left): every
 *		misc.current 0, the misc.events sums, nothing populated, and
 *		the daemon's own epcg_sgx_check() (test hook "check").
 *
 * Page contents.  Word i of page p at version v is derived from (SEED, p,
 * v) alone, so a page that came back from eviction stale (an older
 * version), from another page or from another client's enclave, or
 * corrupted by the sealing, fails the check.  A write rewrites the whole
 * page with the next version; every read checks every byte it got against
 * the last version written.  A batch in which the enclave faulted is
 * followed by a read-back of every page it touched.
 *
 * Exit status of "run": 0 done, every page intact; 3 a page read back
 * wrong (data lost or corrupted: the soak fails); 4 a fault the daemon
 * could not serve (the SIGBUS outcome); 5 the build was refused at a
 * limit with nothing reclaimable (ENOMEM, SPEC E5); 1 anything else.
 * "watch" and "quiet" exit 1 if an invariant failed.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "epcgfs.h"

#define PAGE 4096u
#define WORDS (PAGE / 8)
#define GOLDEN 0x9e3779b97f4a7c15ull
/* Whole pages one batch of accesses carries at most. */
#define BATCH_PAGES (EPCGFS_WIN_DATA_SIZE / PAGE)

enum exit_code {
	EXIT_DONE = 0,
	EXIT_OTHER = 1,
	EXIT_MISMATCH = 3,
	EXIT_SIGBUS = 4,
	EXIT_ENOMEM = 5,
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

/* A small generator of the client's own: splitmix64. */
static uint64_t rnd(uint64_t *state)
{
	*state += GOLDEN;
	return mix64(*state);
}

static uint64_t rnd_below(uint64_t *state, uint64_t n)
{
	return rnd(state) % n;
}

/* ---- the client ---------------------------------------------------------- */

struct client {
	struct epcgfs_client c;
	uint64_t seed, id;
	uint64_t pages; /* regular pages; page 0 is the TCS, 1..pages regular */
	uint32_t *version; /* per page, index 1..pages */
	int status_fd;
	const char *phase;
	/* What it did, for the summary and the status file. */
	uint64_t batches, accesses, writes, verified, sweeps, recheck;
	uint64_t faults, ewb, eldu; /* the enclave's, from encl-stats */
	uint64_t d_faults, d_ewb; /* in the last batch */
	/* The first wrong page, for the message. */
	uint64_t bad_page, bad_word;
	uint32_t bad_version;
};

static uint64_t word0(const struct client *cl, uint64_t page, uint32_t v)
{
	return mix64(cl->seed ^ mix64(page << 24 ^ v));
}

static void page_fill(const struct client *cl, void *dst, uint64_t page,
		      uint32_t v)
{
	uint64_t *w = dst, x = word0(cl, page, v);

	for (unsigned i = 0; i < WORDS; i++, x += GOLDEN)
		w[i] = x;
}

/* Check @nr words from word @first; false (and where) if one is wrong. */
static bool page_check(struct client *cl, const void *src, uint64_t page,
		       uint32_t v, unsigned first, unsigned nr)
{
	const uint64_t *w = src;
	uint64_t x = word0(cl, page, v) + first * GOLDEN;

	for (unsigned i = 0; i < nr; i++, x += GOLDEN) {
		if (w[i] != x) {
			cl->bad_page = page;
			cl->bad_version = v;
			cl->bad_word = first + i;
			return false;
		}
	}
	cl->verified += (uint64_t)nr * 8;
	return true;
}

/*
 * Rewrite the status file: one line, fixed width, one pwrite(2), so a
 * reader sees either the old line or the new one.
 */
static void status_write(struct client *cl, const char *phase)
{
	char line[160];
	int n;

	cl->phase = phase;
	if (cl->status_fd < 0)
		return;
	n = snprintf(line, sizeof(line),
		     "%-6s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		     " %" PRIu64 " %" PRIu64 " %" PRIu64,
		     phase, cl->verified, cl->faults, cl->ewb, cl->eldu,
		     cl->d_faults, cl->d_ewb, cl->batches);
	memset(line + n, ' ', sizeof(line) - 1 - (size_t)n);
	line[sizeof(line) - 1] = '\n';
	if (pwrite(cl->status_fd, line, sizeof(line), 0) < 0)
		cl->status_fd = -1;
}

/* Map a failed request to the exit code, with one line on stderr. */
static int fail(struct client *cl, const char *what, int err)
{
	if (err == -EIO) {
		fprintf(stderr,
			"soak-client %" PRIu64 ": MISMATCH page %" PRIu64
			" version %" PRIu32 " word %" PRIu64 " (%s)\n",
			cl->seed, cl->bad_page, cl->bad_version, cl->bad_word,
			what);
		return EXIT_MISMATCH;
	}
	fprintf(stderr, "soak-client %" PRIu64 ": %s: %s\n", cl->seed, what,
		strerrorname_np(-err) ? strerrorname_np(-err) : "?");
	if (err == -EFAULT)
		return EXIT_SIGBUS;
	if (err == -ENOMEM && !strcmp(what, "add"))
		return EXIT_ENOMEM;
	return EXIT_OTHER;
}

static int build(struct client *cl, uint64_t *rng)
{
	char req[128];
	uint64_t v[1];
	int r;

	snprintf(req, sizeof(req), "encl-create %" PRIu64,
		 (uint64_t)PAGE << (64 - __builtin_clzll(cl->pages)));
	r = epcgfs_client_call(&cl->c, req, v, 1);
	if (r)
		return r;
	cl->id = v[0];
	status_write(cl, "add");
	page_fill(cl, cl->c.data, 0, 0);
	snprintf(req, sizeof(req), "encl-add %" PRIu64 " 0 1 tcs 0", cl->id);
	r = epcgfs_client_call(&cl->c, req, v, 1);
	/* Small random batches, so that a kill may land between them. */
	for (uint64_t p = 1; !r && p <= cl->pages;) {
		uint64_t nr = 1 + rnd_below(rng, 32);

		if (nr > cl->pages + 1 - p)
			nr = cl->pages + 1 - p;
		for (uint64_t i = 0; i < nr; i++)
			page_fill(cl, cl->c.data + i * PAGE, p + i, 0);
		snprintf(req, sizeof(req),
			 "encl-add %" PRIu64 " %" PRIu64 " %" PRIu64 " reg 3",
			 cl->id, p * PAGE, nr);
		r = epcgfs_client_call(&cl->c, req, v, 1);
		p += nr;
	}
	if (r)
		return r;
	snprintf(req, sizeof(req), "encl-init %" PRIu64, cl->id);
	return epcgfs_client_call(&cl->c, req, NULL, 0);
}

static int stats(struct client *cl)
{
	uint64_t v[EPCGFS_REPLY_VALS];
	char req[64];
	int r;

	snprintf(req, sizeof(req), "encl-stats %" PRIu64, cl->id);
	r = epcgfs_client_call(&cl->c, req, v, EPCGFS_REPLY_VALS);
	if (r)
		return r;
	cl->d_faults = v[6] - cl->faults;
	cl->d_ewb = v[7] - cl->ewb;
	cl->faults = v[6];
	cl->ewb = v[7];
	cl->eldu = v[8];
	return 0;
}

/* One batch being built: the pages, and each read's expected version. */
struct batch {
	unsigned nr;
	size_t pos;
	uint64_t page[EPCGFS_WIN_OPS_MAX];
	uint32_t version[EPCGFS_WIN_OPS_MAX];
	size_t at[EPCGFS_WIN_OPS_MAX];
};

static void batch_add(struct client *cl, struct batch *b, uint64_t page,
		      unsigned off, unsigned len, bool write)
{
	unsigned i = b->nr++;

	cl->c.ops[i] = (struct epcgfs_op){ page * PAGE + off, len,
					   write ? EPCGFS_OP_WRITE : 0 };
	if (write)
		page_fill(cl, cl->c.data + b->pos, page, ++cl->version[page]);
	b->page[i] = page;
	b->version[i] = cl->version[page];
	b->at[i] = b->pos;
	b->pos += len;
}

/* Run @b, check every read, then the enclave's counters.  0 or -errno. */
static int batch_run(struct client *cl, struct batch *b)
{
	char req[64];
	uint64_t done;
	int r;

	snprintf(req, sizeof(req), "encl-access %" PRIu64 " %u", cl->id, b->nr);
	r = epcgfs_client_call(&cl->c, req, &done, 1);
	if (r)
		return r;
	for (unsigned i = 0; i < b->nr; i++) {
		const struct epcgfs_op *op = &cl->c.ops[i];

		if (op->flags & EPCGFS_OP_WRITE)
			continue;
		if (!page_check(cl, cl->c.data + b->at[i], b->page[i],
				b->version[i], (op->offset % PAGE) / 8,
				op->len / 8))
			return -EIO;
	}
	cl->batches++;
	cl->accesses += b->nr;
	return stats(cl);
}

/* Read back @nr pages from @pages (whole) and check them. */
static int read_back(struct client *cl, struct batch *b, const uint64_t *pages,
		     unsigned nr)
{
	for (unsigned i = 0; i < nr;) {
		unsigned k = 0;
		int r;

		b->nr = 0;
		b->pos = 0;
		for (; i < nr && k < BATCH_PAGES; i++, k++)
			batch_add(cl, b, pages[i], 0, PAGE, false);
		r = batch_run(cl, b);
		if (r)
			return r;
	}
	return 0;
}

/* Read every regular page back. */
static int sweep(struct client *cl, struct batch *b, uint64_t *list)
{
	for (uint64_t p = 1; p <= cl->pages; p++)
		list[p - 1] = p;
	cl->sweeps++;
	return read_back(cl, b, list, (unsigned)cl->pages);
}

/*
 * One random batch: 1 to 64 accesses, a quarter of them writes, the
 * reads mostly whole pages, some a single cache line.  If the enclave
 * faulted meanwhile, every page the batch touched is read back.
 */
static int access_once(struct client *cl, struct batch *b, uint64_t *rng,
		       uint64_t *list)
{
	unsigned nr = 1 + (unsigned)rnd_below(rng, 64);
	int r;

	b->nr = 0;
	b->pos = 0;
	for (unsigned i = 0; i < nr; i++) {
		uint64_t p = 1 + rnd_below(rng, cl->pages);
		unsigned x = (unsigned)rnd_below(rng, 100);

		if (x < 25) {
			batch_add(cl, b, p, 0, PAGE, true);
			cl->writes++;
		} else if (x < 90) {
			batch_add(cl, b, p, 0, PAGE, false);
		} else {
			batch_add(cl, b, p,
				  64 * (unsigned)rnd_below(rng, PAGE / 64), 64,
				  false);
		}
		list[i] = p;
	}
	r = batch_run(cl, b);
	if (r || !cl->d_faults)
		return r;
	cl->recheck++;
	return read_back(cl, b, list, nr);
}

static int do_run(char **argv)
{
	struct client cl = { .status_fd = -1 };
	uint64_t rng, deadline, *list = NULL;
	struct batch *b = NULL;
	int r, rc = EXIT_OTHER;

	cl.seed = strtoull(argv[3], NULL, 10);
	cl.pages = strtoull(argv[4], NULL, 10);
	deadline = now_ns() + (uint64_t)(atof(argv[5]) * 1e9);
	if (cl.pages < 1 || cl.pages > 65536)
		return EXIT_OTHER;
	rng = mix64(cl.seed);
	cl.status_fd = open(argv[6], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	status_write(&cl, "start");
	cl.version = calloc(cl.pages + 1, sizeof(*cl.version));
	list = calloc(cl.pages + EPCGFS_WIN_OPS_MAX, sizeof(*list));
	b = malloc(sizeof(*b));
	if (!cl.version || !list || !b)
		goto out;
	r = epcgfs_client_open(argv[2], &cl.c);
	if (r) {
		rc = fail(&cl, "open", r);
		goto out;
	}
	r = build(&cl, &rng);
	if (r) {
		rc = fail(&cl, "add", r);
		goto out_close;
	}
	status_write(&cl, "access");
	while (now_ns() < deadline) {
		r = access_once(&cl, b, &rng, list);
		if (!r && !rnd_below(&rng, 64)) {
			status_write(&cl, "sweep");
			r = sweep(&cl, b, list);
		}
		if (r) {
			rc = fail(&cl, "access", r);
			goto out_close;
		}
		status_write(&cl, "access");
	}
	status_write(&cl, "sweep");
	r = sweep(&cl, b, list);
	if (r) {
		rc = fail(&cl, "final read-back", r);
		goto out_close;
	}
	status_write(&cl, "done");
	printf("soak-client seed=%" PRIu64 " pages=%" PRIu64 " batches=%" PRIu64
	       " accesses=%" PRIu64 " writes=%" PRIu64 " sweeps=%" PRIu64
	       " rechecks=%" PRIu64 " faults=%" PRIu64 " ewb=%" PRIu64
	       " eldu=%" PRIu64 " verified=%" PRIu64 " mismatches=0\n",
	       cl.seed, cl.pages, cl.batches, cl.accesses, cl.writes, cl.sweeps,
	       cl.recheck, cl.faults, cl.ewb, cl.eldu, cl.verified);
	rc = EXIT_DONE;
out_close:
	epcgfs_client_close(&cl.c);
out:
	if (cl.status_fd >= 0)
		close(cl.status_fd);
	free(cl.version);
	free(list);
	free(b);
	return rc;
}

/* ---- reading the tree ---------------------------------------------------- */

#define CG_MAX 64
#define STAT_KEYS 7

static const char *const stat_keys[STAT_KEYS] = {
	"ewb",	  "eldu",   "faults",	 "reclaim_scans",
	"enomem", "sigbus", "paging_ns",
};

/* What the checker remembers of one cgroup between samples. */
struct cg {
	char path[PATH_MAX]; /* below the mount point, "" for the root */
	int depth, parent; /* parent: index, -1 for the root */
	uint64_t peak, events, events_local;
	uint64_t stat[STAT_KEYS];
	uint64_t current; /* the last sample's */
};

struct tree {
	const char *dir;
	struct cg cg[CG_MAX];
	int nr;
	uint64_t capacity;
	uint64_t samples, reads, violations;
};

/* How a cgroup is named in messages: its path, "/" for the root. */
static const char *cg_name(const struct cg *cg)
{
	return cg->path[0] ? cg->path : "/";
}

static void violation(struct tree *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void violation(struct tree *t, const char *fmt, ...)
{
	va_list ap;

	if (t->violations++ < 20) {
		printf("# VIOLATION: ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
		fflush(stdout);
	}
}

/* Read the whole of @file of cgroup @cg into @buf.  0 or -errno. */
static int read_file(struct tree *t, const struct cg *cg, const char *file,
		     char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s/%s", t->dir, cg->path, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	t->reads++;
	return n < 0 ? -EIO : 0;
}

/*
 * Parse "KEY VALUE\n" lines of a flat-keyed file strictly: every line of
 * that shape, VALUE decimal (or "max" where @max_ok), and pick KEY's
 * value (UINT64_MAX for max).  Return: 0, -ENOENT if KEY is missing,
 * -EINVAL if a line is malformed.
 */
static int parse_key(const char *buf, const char *key, bool max_ok,
		     uint64_t *ret)
{
	bool found = false;

	while (*buf) {
		const char *sp = strchr(buf, ' '), *nl = strchr(buf, '\n');
		uint64_t v;
		char *end;

		if (!sp || !nl || sp > nl || sp == buf)
			return -EINVAL;
		if (max_ok && !strncmp(sp + 1, "max\n", 4)) {
			v = UINT64_MAX;
			end = (char *)sp + 4;
		} else {
			if (sp[1] < '0' || sp[1] > '9')
				return -EINVAL;
			errno = 0;
			v = strtoull(sp + 1, &end, 10);
			if (errno)
				return -EINVAL;
		}
		if (end != nl)
			return -EINVAL;
		if ((size_t)(sp - buf) == strlen(key) &&
		    !strncmp(buf, key, (size_t)(sp - buf))) {
			*ret = v;
			found = true;
		}
		buf = nl + 1;
	}
	return found ? 0 : -ENOENT;
}

/* Read @file and its @key; a missing key reads as 0 (an empty file). */
static int read_key(struct tree *t, const struct cg *cg, const char *file,
		    const char *key, bool max_ok, uint64_t *ret)
{
	char buf[4096];
	int r = read_file(t, cg, file, buf, sizeof(buf));

	if (r) {
		violation(t, "%s/%s: %s", cg->path, file, strerrorname_np(-r));
		return r;
	}
	r = parse_key(buf, key, max_ok, ret);
	if (r == -ENOENT && !buf[0]) {
		*ret = 0;
		r = 0;
	}
	if (r)
		violation(t, "%s/%s: %s: '%s'", cg->path, file,
			  r == -EINVAL ? "does not parse" : "no such key", buf);
	return r;
}

/* Find every cgroup below @path (index @self), parents first. */
static void discover(struct tree *t, int self)
{
	char dir[PATH_MAX + 8];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s%s", t->dir, t->cg[self].path);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) && t->nr < CG_MAX) {
		struct cg *c = &t->cg[t->nr];

		struct stat sb;

		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &sb, 0) ||
		    !S_ISDIR(sb.st_mode))
			continue;
		memset(c, 0, sizeof(*c));
		/* The parent's path, from @dir: @c may not overlap it. */
		snprintf(c->path, sizeof(c->path), "%s/%s",
			 dir + strlen(t->dir), de->d_name);
		c->parent = self;
		c->depth = t->cg[self].depth + 1;
		t->nr++;
		discover(t, t->nr - 1);
	}
	closedir(d);
}

static int tree_open(struct tree *t, const char *dir)
{
	memset(t, 0, sizeof(*t));
	t->dir = dir;
	t->cg[0].parent = -1;
	t->nr = 1;
	discover(t, 0);
	if (read_key(t, &t->cg[0], "misc.capacity", "sgx_epc", false,
		     &t->capacity) ||
	    !t->capacity)
		return -EINVAL;
	return 0;
}

/*
 * One sample of cgroup @cg: what holds at any instant, whatever runs.
 * Reads are not one snapshot, so only relations that survive any
 * interleaving are checked (docs/robustness.md, "Soak").
 */
static void sample_cg(struct tree *t, struct cg *cg)
{
	uint64_t cur, peak, max, ev, evl, st;
	bool root = cg->parent < 0;
	char buf[4096];

	if (read_key(t, cg, "misc.current", "sgx_epc", false, &cur))
		return;
	if (cur > t->capacity || cur % PAGE)
		violation(t,
			  "%s: misc.current %" PRIu64 " (capacity %" PRIu64 ")",
			  cg_name(cg), cur, t->capacity);
	cg->current = cur;
	/*
	 * A charge raises the usage first and the watermark right after (as
	 * the kernel's misc controller does), so a peak read just then may
	 * lag the current read before it: that relation must hold soon, not
	 * at once.  Read the peak again for up to 100 ms.
	 */
	for (int i = 0; i < 100; i++) {
		if (read_key(t, cg, "misc.peak", "sgx_epc", false, &peak) ||
		    peak >= cur)
			break;
		usleep(1000);
	}
	if (!read_key(t, cg, "misc.peak", "sgx_epc", false, &peak)) {
		if (peak < cur || peak < cg->peak || peak > t->capacity)
			violation(t,
				  "%s: misc.peak %" PRIu64
				  " after current %" PRIu64
				  ", previous peak %" PRIu64,
				  cg_name(cg), peak, cur, cg->peak);
		cg->peak = peak;
	}
	if (!root) {
		read_key(t, cg, "misc.max", "sgx_epc", true, &max);
		if (!read_key(t, cg, "misc.events", "sgx_epc.max", false,
			      &ev)) {
			if (ev < cg->events)
				violation(t,
					  "%s: misc.events fell from %" PRIu64
					  " to %" PRIu64,
					  cg_name(cg), cg->events, ev);
			cg->events = ev;
		}
		if (!read_key(t, cg, "misc.events.local", "sgx_epc.max", false,
			      &evl)) {
			if (evl < cg->events_local)
				violation(t, "%s: misc.events.local fell",
					  cg_name(cg));
			cg->events_local = evl;
		}
	}
	if (read_file(t, cg, "epcg.stat", buf, sizeof(buf))) {
		violation(t, "%s/epcg.stat: cannot read", cg->path);
		return;
	}
	for (int k = 0; k < STAT_KEYS; k++) {
		if (parse_key(buf, stat_keys[k], false, &st)) {
			violation(t, "%s/epcg.stat: no %s", cg->path,
				  stat_keys[k]);
			continue;
		}
		if (st < cg->stat[k])
			violation(t,
				  "%s/epcg.stat: %s fell from %" PRIu64
				  " to %" PRIu64,
				  cg->path, stat_keys[k], cg->stat[k], st);
		cg->stat[k] = st;
	}
}

static int daemon_pid(const char *dir)
{
	char rest[PATH_MAX], reply[64];
	int fd = epcgfs_ctl_connect(dir, rest, sizeof(rest)), r;

	if (fd < 0)
		return fd;
	r = epcgfs_ctl_call(fd, "pid", reply, sizeof(reply));
	close(fd);
	return r ? r : atoi(reply + 2);
}

static int do_watch(char **argv)
{
	static struct tree t;
	uint64_t t0 = now_ns(), st[STAT_KEYS] = { 0 };
	int pid = daemon_pid(argv[2]);

	if (pid <= 0 || tree_open(&t, argv[2])) {
		printf("# watch: no daemon or no tree at %s\n", argv[2]);
		return 1;
	}
	while (access(argv[3], F_OK)) {
		if (kill(pid, 0))
			violation(&t, "the daemon (pid %d) is gone", pid);
		for (int i = 0; i < t.nr; i++)
			sample_cg(&t, &t.cg[i]);
		t.samples++;
		if (t.violations > 100)
			break;
		usleep(20000);
	}
	for (int i = 0; i < t.nr; i++)
		for (int k = 0; k < STAT_KEYS; k++)
			st[k] += t.cg[i].stat[k];
	printf("watch: cgroups=%d samples=%" PRIu64 " reads=%" PRIu64
	       " seconds=%.1f violations=%" PRIu64 " ewb=%" PRIu64
	       " eldu=%" PRIu64 " faults=%" PRIu64 " reclaim_scans=%" PRIu64
	       " enomem=%" PRIu64 " sigbus=%" PRIu64 "\n",
	       t.nr, t.samples, t.reads, (double)(now_ns() - t0) / 1e9,
	       t.violations, st[0], st[1], st[2], st[3], st[4], st[5]);
	return t.violations ? 1 : 0;
}

/*
 * A quiescent point: no client left.  Every usage is 0; a limit hit
 * anywhere below a cgroup was counted there, so its misc.events is its
 * own misc.events.local plus its children's misc.events; every SIGBUS a
 * cgroup counted came with a failed allocation of its own (else a page
 * failed to load: lost); nothing is populated; and the daemon's
 * epcg_sgx_check() holds, which with a root usage of 0 means every EPC
 * frame is free (a frame in use is charged).
 */
static int do_quiet(char **argv)
{
	static struct tree t;
	char rest[PATH_MAX], reply[64], buf[256];
	uint64_t sum[CG_MAX] = { 0 };
	int fd, r;

	if (tree_open(&t, argv[2])) {
		printf("# quiet: no tree at %s\n", argv[2]);
		return 1;
	}
	for (int i = 0; i < t.nr; i++) {
		struct cg *cg = &t.cg[i];

		sample_cg(&t, cg);
		if (cg->current)
			violation(&t,
				  "%s: misc.current %" PRIu64 " with no client",
				  cg_name(cg), cg->current);
		/* A SIGBUS of nothing reclaimable follows a failed charge. */
		if (cg->stat[5] > cg->stat[4])
			violation(&t,
				  "%s: %" PRIu64 " SIGBUS but %" PRIu64
				  " failed allocations",
				  cg_name(cg), cg->stat[5], cg->stat[4]);
		if (cg->parent >= 0 &&
		    !read_file(&t, cg, "cgroup.events", buf, sizeof(buf)) &&
		    !strstr(buf, "populated 0\n"))
			violation(&t, "%s: still populated", cg_name(cg));
	}
	/* Children come after their parent: sum up from the end. */
	for (int i = t.nr - 1; i > 0; i--) {
		struct cg *cg = &t.cg[i];

		if (cg->events != cg->events_local + sum[i])
			violation(&t,
				  "%s: misc.events %" PRIu64
				  " != local %" PRIu64 " + children %" PRIu64,
				  cg_name(cg), cg->events, cg->events_local,
				  sum[i]);
		sum[cg->parent] += cg->events;
	}
	fd = epcgfs_ctl_connect(argv[2], rest, sizeof(rest));
	r = fd < 0 ? fd : epcgfs_ctl_call(fd, "check", reply, sizeof(reply));
	if (r || strcmp(reply, "0"))
		violation(&t, "the daemon's check: %s",
			  r ? strerrorname_np(-r) : reply);
	/* The hook takes no argument. */
	r = r ? r : epcgfs_ctl_call(fd, "check 1", reply, sizeof(reply));
	if (!r && strcmp(reply, "-22"))
		violation(&t, "\"check 1\": %s, not -22", reply);
	if (fd >= 0)
		close(fd);
	printf("quiet: cgroups=%d violations=%" PRIu64 "\n", t.nr,
	       t.violations);
	return t.violations ? 1 : 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 7 && !strcmp(argv[1], "run"))
		return do_run(argv);
	if (argc == 4 && !strcmp(argv[1], "watch"))
		return do_watch(argv);
	if (argc == 3 && !strcmp(argv[1], "quiet"))
		return do_quiet(argv);
	fprintf(stderr, "usage: soak-client run DIR SEED PAGES SECONDS STATUS\n"
			"       soak-client watch DIR STOPFILE\n"
			"       soak-client quiet DIR\n");
	return 2;
}
