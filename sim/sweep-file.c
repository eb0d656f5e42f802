// SPDX-License-Identifier: MIT
/*
 * Sweep files (see sweep.h): how a shard's points travel from the
 * machine that ran them to the one that merges them.
 *
 * A sweep file is text: a header of "key value" lines naming everything
 * that makes two runs comparable, then a CSV table with a row per point,
 * then an "end N" line with the number of rows:
 *
 *	epcg-sweep 1
 *	scenario default.scn
 *	scenario-hash 4f1e0d2c3b4a5968
 *	cgroup /tenants/db
 *	seed 42
 *	policy v17
 *	sections 67108864 67108864
 *	dropped-set-events 1
 *	limits max 4194304 8388608
 *	shard 1/2
 *	point,limit,virtual_ns,...
 *	1,4194304,4055849900,...
 *	end 1
 *
 * The header lists every limit of the whole sweep, not only the shard's,
 * so that shards of different sweeps cannot be mixed up, and a merge
 * knows which points to expect.  The trailer catches a file cut short
 * (a pod killed while writing), which would otherwise read as a shard
 * with fewer points.  Reading is strict: keys in this order, integers
 * in decimal, every point of the shard present once, in order; anything
 * else is an error naming the line, because a merge that guesses could
 * publish a curve made of two different experiments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <stdarg.h>

#include "sweep.h"

/* The counters of a row, after "point,limit", in file order. */
enum col {
	COL_VIRTUAL_NS,
	COL_RUNTIME_NS,
	COL_ACCESSES,
	COL_ENCLAVES,
	COL_OUTCOME, /* EPCG_OUTCOME_RUNNING + 1 columns */
	COL_PEAK = COL_OUTCOME + EPCG_OUTCOME_RUNNING + 1,
	COL_EVENTS,
	COL_EWB,
	COL_ELDU,
	COL_FAULTS,
	COL_SCANS,
	COL_ENOMEM,
	COL_SIGBUS,
	COL_PAGING_NS,
	COL_CHECKS_FAILED,
	COL_NR
};

static const char *const col_names[COL_NR] = {
	[COL_VIRTUAL_NS] = "virtual_ns",
	[COL_RUNTIME_NS] = "runtime_ns",
	[COL_ACCESSES] = "accesses",
	[COL_ENCLAVES] = "enclaves",
	[COL_OUTCOME + EPCG_OUTCOME_OK] = "outcome_ok",
	[COL_OUTCOME + EPCG_OUTCOME_ENOMEM] = "outcome_ENOMEM",
	[COL_OUTCOME + EPCG_OUTCOME_SIGBUS] = "outcome_SIGBUS",
	[COL_OUTCOME + EPCG_OUTCOME_EFAULT] = "outcome_EFAULT",
	[COL_OUTCOME + EPCG_OUTCOME_KILLED] = "outcome_killed",
	[COL_OUTCOME + EPCG_OUTCOME_STOPPED] = "outcome_stopped",
	[COL_OUTCOME + EPCG_OUTCOME_RUNNING] = "outcome_running",
	[COL_PEAK] = "peak",
	[COL_EVENTS] = "events",
	[COL_EWB] = "ewb",
	[COL_ELDU] = "eldu",
	[COL_FAULTS] = "faults",
	[COL_SCANS] = "reclaim_scans",
	[COL_ENOMEM] = "enomem",
	[COL_SIGBUS] = "sigbus",
	[COL_PAGING_NS] = "paging_ns",
	[COL_CHECKS_FAILED] = "checks_failed",
};

/* The point's counters in column order, or set them from @v. */
static void point_cols(struct epcg_sweep_point *p, uint64_t *v, bool store)
{
	uint64_t *f[COL_NR] = {
		[COL_VIRTUAL_NS] = &p->virtual_ns,
		[COL_RUNTIME_NS] = &p->runtime_ns,
		[COL_ACCESSES] = &p->accesses,
		[COL_PEAK] = &p->peak,
		[COL_EVENTS] = &p->events,
		[COL_EWB] = &p->total.ewb,
		[COL_ELDU] = &p->total.eldu,
		[COL_FAULTS] = &p->total.faults,
		[COL_SCANS] = &p->total.reclaim_scans,
		[COL_ENOMEM] = &p->total.enomem,
		[COL_SIGBUS] = &p->total.sigbus,
		[COL_PAGING_NS] = &p->total.paging_ns,
	};
	unsigned *u[COL_NR] = {
		[COL_ENCLAVES] = &p->nr_enclaves,
		[COL_CHECKS_FAILED] = &p->nr_failed,
	};

	for (unsigned o = 0; o <= EPCG_OUTCOME_RUNNING; o++)
		u[COL_OUTCOME + o] = &p->outcomes[o];
	for (unsigned c = 0; c < COL_NR; c++) {
		if (store && f[c])
			*f[c] = v[c];
		else if (store)
			*u[c] = (unsigned)v[c];
		else
			v[c] = f[c] ? *f[c] : *u[c];
	}
}

static void write_limit(FILE *f, uint64_t v)
{
	if (v == EPCG_SCENARIO_MAX)
		fputs("max", f);
	else
		fprintf(f, "%" PRIu64, v);
}

int epcg_sweep_write(const struct epcg_sweep *sw, FILE *f)
{
	unsigned rows = 0;

	if (!sw || !f)
		return -EINVAL;
	if (strchr(sw->scenario, '\n') || strchr(sw->cgroup, '\n'))
		return -EINVAL;
	fprintf(f,
		"epcg-sweep %d\nscenario %s\nscenario-hash %016" PRIx64
		"\ncgroup %s\nseed %" PRIu64 "\npolicy %s\nsections",
		EPCG_SWEEP_VERSION, sw->scenario, sw->hash, sw->cgroup,
		sw->seed, epcg_sgx_policy_name(sw->policy));
	for (unsigned i = 0; i < sw->nr_sections; i++)
		fprintf(f, " %" PRIu64, sw->sections[i]);
	fprintf(f, "\ndropped-set-events %u\nlimits", sw->dropped_events);
	for (unsigned i = 0; i < sw->nr_points; i++) {
		fputc(' ', f);
		write_limit(f, sw->points[i].limit);
	}
	fprintf(f, "\nshard %u/%u\npoint,limit", sw->shard, sw->nr_shards);
	for (unsigned c = 0; c < COL_NR; c++)
		fprintf(f, ",%s", col_names[c]);
	fputc('\n', f);
	for (unsigned i = 0; i < sw->nr_points; i++) {
		struct epcg_sweep_point *p = &sw->points[i];
		uint64_t v[COL_NR];

		if (!p->done)
			continue;
		point_cols(p, v, false);
		fprintf(f, "%u,", i);
		write_limit(f, p->limit);
		for (unsigned c = 0; c < COL_NR; c++)
			fprintf(f, ",%" PRIu64, v[c]);
		fputc('\n', f);
		rows++;
	}
	fprintf(f, "end %u\n", rows);
	return ferror(f) || fflush(f) ? -EIO : 0;
}

/* ---- reading ---- */

struct reader {
	const char *name;
	FILE *f;
	char *line;
	size_t cap;
	int lineno;
	bool eof; /* the last expect_key() found the end of the file */
	char *err;
	size_t errlen;
};

static int rfail(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int rfail(struct reader *rd, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (rd->err && rd->errlen) {
		n = rd->lineno ?
			    snprintf(rd->err, rd->errlen, "%s:%d: ", rd->name,
				     rd->lineno) :
			    snprintf(rd->err, rd->errlen, "%s: ", rd->name);
		if (n < 0 || (size_t)n >= rd->errlen)
			return -EINVAL;
		va_start(ap, fmt);
		vsnprintf(rd->err + n, rd->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * The next line without its newline, or NULL at the end of the file.  A
 * last line without a newline counts as the end: the writer ends every
 * line, so the file was cut short there.
 */
static char *next_line(struct reader *rd)
{
	ssize_t n = getline(&rd->line, &rd->cap, rd->f);

	if (n <= 0 || rd->line[n - 1] != '\n')
		return NULL;
	rd->lineno++;
	rd->line[n - 1] = '\0';
	return rd->line;
}

/* The value of the next line, which must be "@key VALUE". */
static int expect_key(struct reader *rd, const char *key, char **val)
{
	size_t n = strlen(key);
	char *l = next_line(rd);

	if (!l) {
		if (ferror(rd->f))
			return -EIO;
		rd->lineno++;
		rd->eof = true;
		return rfail(rd, "file ends before '%s' (cut short?)", key);
	}
	if (strncmp(l, key, n) || l[n] != ' ' || !l[n + 1])
		return rfail(rd, "expected '%s ...'", key);
	*val = l + n + 1;
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* A space-separated list of limits into @sw's points. */
static int parse_limits(struct reader *rd, struct epcg_sweep *sw, char *s)
{
	unsigned n = 1;
	char *save = NULL;

	for (char *p = s; *p; p++)
		n += *p == ' ';
	if (n < 2 || n > EPCG_SWEEP_MAX_POINTS)
		return rfail(rd, "a sweep has 2 to %u points, not %u",
			     EPCG_SWEEP_MAX_POINTS, n);
	sw->points = calloc(n, sizeof(*sw->points));
	if (!sw->points)
		return -ENOMEM;
	n = 0;
	for (char *w = strtok_r(s, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		uint64_t v = EPCG_SCENARIO_MAX;
		bool ok;

		if (!n)
			ok = !strcmp(w, "max");
		else
			ok = !parse_u64(w, &v) && v != EPCG_SCENARIO_MAX &&
			     (n == 1 || v > sw->points[n - 1].limit);
		if (!ok)
			return rfail(rd, "bad limits: 'max' first, then "
					 "increasing byte counts");
		sw->points[n++].limit = v;
	}
	sw->nr_points = n;
	return n >= 2 ? 0 : rfail(rd, "bad limits");
}

static int read_header(struct reader *rd, struct epcg_sweep *sw)
{
	char *val, *end, *save = NULL;
	uint64_t v;
	int p, err;

	if ((err = expect_key(rd, "epcg-sweep", &val)))
		return err == -EINVAL && !rd->eof ?
			       rfail(rd, "not an epcg sweep file") :
			       err;
	if (parse_u64(val, &v) || v != EPCG_SWEEP_VERSION)
		return rfail(rd,
			     "sweep file version %s, this epcg reads "
			     "version %d",
			     val, EPCG_SWEEP_VERSION);
	if ((err = expect_key(rd, "scenario", &val)))
		return err;
	if (!(sw->scenario = strdup(val)))
		return -ENOMEM;
	if ((err = expect_key(rd, "scenario-hash", &val)))
		return err;
	errno = 0;
	sw->hash = strtoull(val, &end, 16);
	if (errno || *end || strlen(val) != 16)
		return rfail(rd, "bad scenario hash '%s'", val);
	if ((err = expect_key(rd, "cgroup", &val)))
		return err;
	if (val[0] != '/' || !(sw->cgroup = strdup(val)))
		return val[0] != '/' ? rfail(rd, "bad cgroup '%s'", val) :
				       -ENOMEM;
	if ((err = expect_key(rd, "seed", &val)))
		return err;
	if (parse_u64(val, &sw->seed))
		return rfail(rd, "bad seed '%s'", val);
	if ((err = expect_key(rd, "policy", &val)))
		return err;
	p = epcg_sgx_policy_lookup(val);
	if (p < 0)
		return rfail(rd, "unknown policy '%s'", val);
	sw->policy = (enum epcg_sgx_policy)p;
	if ((err = expect_key(rd, "sections", &val)))
		return err;
	for (char *w = strtok_r(val, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		if (sw->nr_sections == EPCG_EPC_MAX_SECTIONS ||
		    parse_u64(w, &sw->sections[sw->nr_sections]))
			return rfail(rd, "bad EPC sections");
		sw->nr_sections++;
	}
	if ((err = expect_key(rd, "dropped-set-events", &val)))
		return err;
	if (parse_u64(val, &v) || v > UINT32_MAX)
		return rfail(rd, "bad count '%s'", val);
	sw->dropped_events = (unsigned)v;
	if ((err = expect_key(rd, "limits", &val)) ||
	    (err = parse_limits(rd, sw, val)))
		return err;
	if ((err = expect_key(rd, "shard", &val)))
		return err;
	if (epcg_sweep_parse_shard(val, &sw->shard, &sw->nr_shards))
		return rfail(rd, "bad shard '%s' (I/N, 0 <= I < N)", val);
	return 0;
}

static int read_columns(struct reader *rd)
{
	char want[1024];
	size_t n = (size_t)snprintf(want, sizeof(want), "point,limit");
	char *l;

	for (unsigned c = 0; c < COL_NR; c++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, ",%s",
				      col_names[c]);
	l = next_line(rd);
	if (!l && ferror(rd->f))
		return -EIO;
	if (!l) {
		rd->lineno++;
		return rfail(rd, "file ends before the column names (cut "
				 "short?)");
	}
	if (strcmp(l, want))
		return rfail(rd, "expected the column names '%s'", want);
	return 0;
}

/* Columns held in an unsigned int of the point. */
static bool col_is_count(unsigned c)
{
	return c == COL_ENCLAVES || c == COL_CHECKS_FAILED ||
	       (c >= COL_OUTCOME && c < COL_PEAK);
}

/* One row "point,limit,v0,...": store it in its point. */
static int read_row(struct reader *rd, struct epcg_sweep *sw, char *l,
		    unsigned *last)
{
	uint64_t v[COL_NR], idx, lim = EPCG_SCENARIO_MAX;
	char *save = NULL, *w[COL_NR + 2];
	unsigned n = 0;

	for (char *t = strtok_r(l, ",", &save); t && n < COL_NR + 2;
	     t = strtok_r(NULL, ",", &save))
		w[n++] = t;
	if (n != COL_NR + 2 || strtok_r(NULL, ",", &save))
		return rfail(rd, "expected %d fields", COL_NR + 2);
	if (parse_u64(w[0], &idx) || idx >= sw->nr_points)
		return rfail(rd, "bad point '%s'", w[0]);
	if (strcmp(w[1], "max") && parse_u64(w[1], &lim))
		return rfail(rd, "bad limit '%s'", w[1]);
	if (lim != sw->points[idx].limit)
		return rfail(rd, "point %s has another limit in the header",
			     w[0]);
	if (!epcg_sweep_in_shard(sw, (unsigned)idx))
		return rfail(rd, "point %s is not in shard %u/%u", w[0],
			     sw->shard, sw->nr_shards);
	if (*last != UINT32_MAX && idx <= *last)
		return rfail(rd, "point %s out of order or repeated", w[0]);
	for (unsigned c = 0; c < COL_NR; c++)
		if (parse_u64(w[c + 2], &v[c]) ||
		    (col_is_count(c) && v[c] > UINT32_MAX))
			return rfail(rd, "bad %s '%s'", col_names[c], w[c + 2]);
	point_cols(&sw->points[idx], v, true);
	sw->points[idx].done = true;
	*last = (unsigned)idx;
	return 0;
}

static int read_rows(struct reader *rd, struct epcg_sweep *sw)
{
	unsigned rows = 0, last = UINT32_MAX;
	uint64_t n;
	char *l;
	int err;

	while ((l = next_line(rd)) && strncmp(l, "end ", 4)) {
		if ((err = read_row(rd, sw, l, &last)))
			return err;
		rows++;
	}
	if (!l) {
		if (ferror(rd->f))
			return -EIO;
		rd->lineno++;
		return rfail(rd, "file ends without its 'end' line (cut "
				 "short?)");
	}
	if (parse_u64(l + 4, &n) || n != rows)
		return rfail(rd, "'%s' but %u rows (cut short?)", l, rows);
	if (next_line(rd))
		return rfail(rd, "text after the 'end' line");
	rd->lineno = 0;
	for (unsigned i = 0; i < sw->nr_points; i++)
		if (epcg_sweep_in_shard(sw, i) && !sw->points[i].done)
			return rfail(rd, "point %u of shard %u/%u is missing",
				     i, sw->shard, sw->nr_shards);
	return 0;
}

int epcg_sweep_read(const char *name, FILE *f, struct epcg_sweep **ret,
		    char *err, size_t errlen)
{
	struct reader rd = {
		.name = name ? name : "<sweep>",
		.f = f,
		.err = err,
		.errlen = errlen,
	};
	struct epcg_sweep *sw;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!f || !ret)
		return -EINVAL;
	*ret = NULL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	rc = read_header(&rd, sw);
	if (!rc)
		rc = read_columns(&rd);
	if (!rc)
		rc = read_rows(&rd, sw);
	free(rd.line);
	if (rc == -EIO)
		snprintf(err, errlen, "%s: read error", rd.name);
	if (rc) {
		epcg_sweep_destroy(sw);
		return rc;
	}
	*ret = sw;
	return 0;
}

/* ---- merging ---- */

/* What differs between @a and @b, NULL if nothing. */
static const char *differs(const struct epcg_sweep *a,
			   const struct epcg_sweep *b)
{
	if (strcmp(a->scenario, b->scenario))
		return "the scenario names differ";
	if (a->hash != b->hash)
		return "the scenario texts differ (their hashes)";
	if (strcmp(a->cgroup, b->cgroup))
		return "the cgroups differ";
	if (a->seed != b->seed)
		return "the seeds differ";
	if (a->policy != b->policy)
		return "the policies differ";
	if (a->nr_sections != b->nr_sections ||
	    memcmp(a->sections, b->sections,
		   a->nr_sections * sizeof(a->sections[0])))
		return "the EPC sections differ";
	if (a->dropped_events != b->dropped_events)
		return "the dropped set events differ";
	if (a->nr_points != b->nr_points)
		return "the limits differ";
	for (unsigned i = 0; i < a->nr_points; i++)
		if (a->points[i].limit != b->points[i].limit)
			return "the limits differ";
	if (a->nr_shards != b->nr_shards)
		return "the numbers of shards differ";
	return NULL;
}

static int check_shards(struct epcg_sweep *const *parts,
			const char *const *names, unsigned nr, char *err,
			size_t errlen)
{
	unsigned n = parts[0]->nr_shards, missing = 0, first = 0;
	unsigned *who = malloc(n * sizeof(*who));

	if (!who)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		who[i] = UINT32_MAX;
	for (unsigned i = 0; i < nr; i++) {
		unsigned s = parts[i]->shard;

		if (who[s] != UINT32_MAX) {
			epcg__sweep_fail(err, errlen,
					 "%s: shard %u/%u is also in %s",
					 names[i], s, n, names[who[s]]);
			free(who);
			return -EINVAL;
		}
		who[s] = i;
	}
	for (unsigned s = 0; s < n; s++) {
		if (who[s] != UINT32_MAX)
			continue;
		if (!missing++)
			first = s;
	}
	free(who);
	if (missing == 1)
		return epcg__sweep_fail(err, errlen, "shard %u/%u is missing",
					first, n);
	if (missing)
		return epcg__sweep_fail(err, errlen,
					"shard %u/%u and %u more of %u are "
					"missing",
					first, n, missing - 1, n);
	return 0;
}

int epcg_sweep_merge(struct epcg_sweep *const *parts, const char *const *names,
		     unsigned nr, struct epcg_sweep **ret, char *err,
		     size_t errlen)
{
	const struct epcg_sweep *a;
	struct epcg_sweep *sw;
	const char *what;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!parts || !names || !ret)
		return -EINVAL;
	*ret = NULL;
	if (!nr)
		return epcg__sweep_fail(err, errlen, "no sweep file to merge");
	a = parts[0];
	for (unsigned i = 1; i < nr; i++) {
		what = differs(a, parts[i]);
		if (what)
			return epcg__sweep_fail(err, errlen,
						"%s and %s are not shards "
						"of one sweep: %s",
						names[0], names[i], what);
	}
	rc = check_shards(parts, names, nr, err, errlen);
	if (rc)
		return rc;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	*sw = *a;
	sw->scenario = strdup(a->scenario);
	sw->cgroup = strdup(a->cgroup);
	sw->points = calloc(a->nr_points, sizeof(*sw->points));
	if (!sw->scenario || !sw->cgroup || !sw->points) {
		epcg_sweep_destroy(sw);
		return -ENOMEM;
	}
	sw->shard = 0;
	sw->nr_shards = 1;
	for (unsigned i = 0; i < a->nr_points; i++)
		sw->points[i].limit = a->points[i].limit;
	for (unsigned p = 0; p < nr; p++)
		for (unsigned i = 0; i < a->nr_points; i++)
			if (parts[p]->points[i].done)
				sw->points[i] = parts[p]->points[i];
	for (unsigned i = 0; i < sw->nr_points; i++) {
		if (!sw->points[i].done) {
			epcg_sweep_destroy(sw);
			return epcg__sweep_fail(err, errlen,
						"point %u of shard %u/%u is "
						"missing",
						i, i % a->nr_shards,
						a->nr_shards);
		}
	}
	*ret = sw;
	return 0;
}
