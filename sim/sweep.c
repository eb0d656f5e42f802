// SPDX-License-Identifier: MIT
/*
 * Sweeps (see sweep.h): what to sweep, and running the points.
 *
 * A point runs a variant of the scenario: a shallow copy whose cgroup
 * array has the swept cgroup's limit replaced, and whose event list has
 * that cgroup's `set` events left out, so the limit holds for the whole
 * run; the rest (names, workloads, phases) is shared with the parsed
 * scenario, which no run writes to.  Runs are independent (sim.h), so
 * with several jobs each thread takes the next point of its shard and
 * writes only that point; a mutex guards the queue, the progress count
 * and the first error, and the join publishes the points to the caller.
 *
 * Why the baseline is point 0 and not a separate run: it is sharded and
 * merged like any other point, so a shard file holds everything needed
 * to compute every slowdown once merged, and no shard runs it twice.
 */
#include "sweep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>

#include "report.h"
#include "results.h"
#include "sim.h"

#define MAX_SHARDS 100000

int epcg__sweep_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

uint64_t epcg_sweep_hash(const void *text, size_t len)
{
	const unsigned char *p = text;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- parsing what to sweep ---- */

/* One limit: a size, or "max". */
static int parse_limit(const char *s, uint64_t *v)
{
	if (!strcmp(s, "max")) {
		*v = EPCG_SCENARIO_MAX;
		return 0;
	}
	return epcg_scenario_parse_size(s, v);
}

int epcg_sweep_parse_limits(const char *s, uint64_t **ret, unsigned *nr,
			    char *err, size_t errlen)
{
	unsigned n = 1, i = 0;
	char *copy, *word, *save = NULL;
	uint64_t *v;

	if (!s || !ret || !nr)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (!*s || s[strlen(s) - 1] == ',' || *s == ',' || strstr(s, ",,"))
		return epcg__sweep_fail(err, errlen, "empty limit in '%s'", s);
	if (n > EPCG_SWEEP_MAX_POINTS - 1)
		return epcg__sweep_fail(err, errlen,
					"too many limits (%u; at most %u)", n,
					EPCG_SWEEP_MAX_POINTS - 1);
	copy = strdup(s);
	v = calloc(n, sizeof(*v));
	if (!copy || !v) {
		free(copy);
		free(v);
		return -ENOMEM;
	}
	for (word = strtok_r(copy, ",", &save); word;
	     word = strtok_r(NULL, ",", &save)) {
		if (parse_limit(word, &v[i])) {
			epcg__sweep_fail(err, errlen, "bad limit '%s'", word);
			free(copy);
			free(v);
			return -EINVAL;
		}
		i++;
	}
	free(copy);
	*ret = v;
	*nr = i;
	return 0;
}

/* Split "A:B:C" into its three words, in @buf. */
static int split3(const char *s, char *buf, size_t len, char **w)
{
	char *c1, *c2;

	if (strlen(s) >= len)
		return -EINVAL;
	strcpy(buf, s);
	c1 = strchr(buf, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || strchr(c2 + 1, ':'))
		return -EINVAL;
	*c1 = *c2 = '\0';
	w[0] = buf;
	w[1] = c1 + 1;
	w[2] = c2 + 1;
	return 0;
}

static int parse_count(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int epcg_sweep_parse_range(const char *s, uint64_t **ret, unsigned *nr,
			   char *err, size_t errlen)
{
	uint64_t from, to, points, d, q, r;
	char buf[128], *w[3];
	uint64_t *v;

	if (!s || !ret || !nr)
		return -EINVAL;
	if (split3(s, buf, sizeof(buf), w))
		return epcg__sweep_fail(err, errlen,
					"bad range '%s' (FROM:TO:POINTS, "
					"e.g. 4M:64M:16)",
					s);
	if (epcg_scenario_parse_size(w[0], &from))
		return epcg__sweep_fail(err, errlen,
					"bad size '%s' in range '%s'", w[0], s);
	if (epcg_scenario_parse_size(w[1], &to))
		return epcg__sweep_fail(err, errlen,
					"bad size '%s' in range '%s'", w[1], s);
	if (parse_count(w[2], &points))
		return epcg__sweep_fail(err, errlen,
					"bad number of points '%s' in range "
					"'%s'",
					w[2], s);
	if (from >= to)
		return epcg__sweep_fail(err, errlen,
					"range '%s' must go up (FROM < TO)", s);
	if (points < 2 || points > EPCG_SWEEP_MAX_POINTS - 1)
		return epcg__sweep_fail(err, errlen,
					"range '%s' needs 2 to %u points", s,
					EPCG_SWEEP_MAX_POINTS - 1);
	v = calloc(points, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* FROM + floor(i (TO - FROM) / (POINTS - 1)), without overflow. */
	d = to - from;
	q = d / (points - 1);
	r = d % (points - 1);
	for (uint64_t i = 0; i < points; i++) {
		v[i] = from + q * i + r * i / (points - 1);
		if (i && i + 1 < points)
			v[i] -= v[i] % EPCG_PAGE_SIZE;
		if (i && v[i] <= v[i - 1]) {
			free(v);
			return epcg__sweep_fail(
				err, errlen,
				"range '%s' is finer than a "
				"page (%u bytes): use fewer points",
				s, EPCG_PAGE_SIZE);
		}
	}
	*ret = v;
	*nr = (unsigned)points;
	return 0;
}

int epcg_sweep_parse_shard(const char *s, unsigned *index, unsigned *count)
{
	uint64_t i, n;
	const char *slash;
	char buf[32];

	if (!s || !index || !count)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (parse_count(buf, &i) || parse_count(slash + 1, &n) || !n ||
	    n > MAX_SHARDS || i >= n)
		return -EINVAL;
	*index = (unsigned)i;
	*count = (unsigned)n;
	return 0;
}

/* ---- the sweep ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void epcg_sweep_destroy(struct epcg_sweep *sw)
{
	if (!sw)
		return;
	free(sw->scenario);
	free(sw->cgroup);
	free(sw->points);
	free(sw);
}

bool epcg_sweep_complete(const struct epcg_sweep *sw)
{
	for (unsigned i = 0; i < sw->nr_points; i++)
		if (!sw->points[i].done)
			return false;
	return true;
}

/* Index of @path in @sc's cgroups, -1 for the root, -2 if unknown. */
static int find_cgroup(const struct epcg_scenario *sc, const char *path)
{
	if (!strcmp(path, "/"))
		return -1;
	for (unsigned i = 0; i < sc->nr_cgroups; i++)
		if (!strcmp(sc->cgroups[i].path, path))
			return (int)i;
	return -2;
}

/* The limits as points: the baseline, then the others increasing. */
static int make_points(struct epcg_sweep *sw, const uint64_t *limits,
		       unsigned nr, char *err, size_t errlen)
{
	uint64_t *v = calloc(nr + 1, sizeof(*v));
	unsigned n = 0;
	char b[32];

	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < nr; i++)
		if (limits[i] != EPCG_SCENARIO_MAX)
			v[n++] = limits[i];
	qsort(v, n, sizeof(*v), cmp_u64);
	for (unsigned i = 1; i < n; i++) {
		if (v[i] == v[i - 1]) {
			snprintf(b, sizeof(b), "%" PRIu64, v[i]);
			free(v);
			return epcg__sweep_fail(err, errlen,
						"limit %s given twice", b);
		}
	}
	if (!n || n > EPCG_SWEEP_MAX_POINTS - 1) {
		free(v);
		return epcg__sweep_fail(err, errlen,
					n ? "too many limits" :
					    "no limit to sweep besides 'max'");
	}
	sw->points = calloc(n + 1, sizeof(*sw->points));
	if (!sw->points) {
		free(v);
		return -ENOMEM;
	}
	sw->nr_points = n + 1;
	sw->points[0].limit = EPCG_SCENARIO_MAX;
	for (unsigned i = 0; i < n; i++)
		sw->points[i + 1].limit = v[i];
	free(v);
	return 0;
}

int epcg_sweep_create(const struct epcg_scenario *sc, uint64_t hash,
		      const char *cgroup, const uint64_t *limits, unsigned nr,
		      unsigned shard, unsigned nr_shards,
		      struct epcg_sweep **ret, char *err, size_t errlen)
{
	struct epcg_sweep *sw;
	int k, rc;

	if (!sc || !cgroup || !ret || (nr && !limits))
		return -EINVAL;
	*ret = NULL;
	k = find_cgroup(sc, cgroup);
	if (k == -1)
		return epcg__sweep_fail(err, errlen,
					"cannot sweep the root cgroup: it has "
					"no limit");
	if (k < 0)
		return epcg__sweep_fail(err, errlen, "%s: no cgroup '%s'",
					sc->file, cgroup);
	if (!nr_shards || shard >= nr_shards || nr_shards > MAX_SHARDS)
		return epcg__sweep_fail(err, errlen, "bad shard %u/%u", shard,
					nr_shards);
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	sw->scenario = strdup(sc->file ? sc->file : "<scenario>");
	sw->cgroup = strdup(cgroup);
	if (!sw->scenario || !sw->cgroup) {
		rc = -ENOMEM;
		goto fail;
	}
	sw->hash = hash;
	sw->seed = sc->seed;
	sw->policy = sc->policy;
	sw->nr_sections = sc->nr_secs;
	for (unsigned i = 0; i < sc->nr_secs; i++)
		sw->sections[i] = sc->secs[i].size;
	sw->shard = shard;
	sw->nr_shards = nr_shards;
	for (unsigned i = 0; i < sc->nr_events; i++)
		if (sc->events[i].kind == EPCG_EVENT_SET_MAX &&
		    sc->events[i].cgroup == k)
			sw->dropped_events++;
	rc = make_points(sw, limits, nr, err, errlen);
	if (rc)
		goto fail;
	*ret = sw;
	return 0;
fail:
	epcg_sweep_destroy(sw);
	return rc;
}

double epcg_sweep_slowdown(const struct epcg_sweep *sw, unsigned i)
{
	const struct epcg_sweep_point *p = &sw->points[i], *b = &sw->points[0];

	if (!p->done || !b->done || !p->accesses || !b->accesses ||
	    !b->runtime_ns)
		return NAN;
	return ((double)p->runtime_ns / (double)p->accesses) /
	       ((double)b->runtime_ns / (double)b->accesses);
}

/* ---- running one point ---- */

/* @sc with cgroup @k limited to @limit throughout (see the top). */
static int variant_init(struct epcg_scenario *v, const struct epcg_scenario *sc,
			int k, uint64_t limit)
{
	*v = *sc;
	v->cgroups = calloc(sc->nr_cgroups, sizeof(*v->cgroups));
	v->events = calloc(sc->nr_events + 1, sizeof(*v->events));
	if (!v->cgroups || !v->events) {
		free(v->cgroups);
		free(v->events);
		return -ENOMEM;
	}
	memcpy(v->cgroups, sc->cgroups, sc->nr_cgroups * sizeof(*v->cgroups));
	v->cgroups[k].max = limit;
	v->nr_events = 0;
	for (unsigned i = 0; i < sc->nr_events; i++)
		if (sc->events[i].kind != EPCG_EVENT_SET_MAX ||
		    sc->events[i].cgroup != k)
			v->events[v->nr_events++] = sc->events[i];
	return 0;
}

static void variant_finish(struct epcg_scenario *v)
{
	free(v->cgroups);
	free(v->events);
}

/* Results cgroup @c is @k or below it. */
static bool in_subtree(const struct epcg_results *r, int c, int k)
{
	for (; c >= 0; c = r->cgroups[c].parent)
		if (c == k)
			return true;
	return false;
}

static void take_results(struct epcg_sweep_point *p,
			 const struct epcg_results *r, int k)
{
	const struct epcg_result_cgroup *cg = &r->cgroups[k];

	p->virtual_ns = r->virtual_ns;
	p->peak = cg->peak;
	p->events = cg->events;
	p->total = cg->total;
	p->nr_failed = r->nr_failed;
	for (unsigned i = 0; i < r->nr_enclaves; i++) {
		const struct epcg_result_enclave *e = &r->enclaves[i];

		if (!in_subtree(r, e->cgroup, k))
			continue;
		p->nr_enclaves++;
		p->runtime_ns += e->virtual_ns;
		p->accesses += e->accesses;
		if ((unsigned)e->outcome < EPCG_OUTCOME_NR)
			p->outcomes[e->outcome]++;
	}
	p->done = true;
}

/* The state shared by the threads of one epcg_sweep_run(). */
struct runner {
	struct epcg_sweep *sw;
	const struct epcg_scenario *sc;
	const struct epcg_sweep_opts *opts;
	int k; /* the swept cgroup in the scenario */
	pthread_mutex_t lock; /* guards all below, and progress calls */
	unsigned next; /* the next point to consider */
	unsigned done; /* points of the shard finished */
	unsigned total; /* points of the shard */
	int err; /* the first failure, 0 if none */
	char *msg; /* its message */
	size_t msglen;
};

static void report(struct runner *rn)
{
	if (rn->opts && rn->opts->progress)
		rn->opts->progress(rn->opts->arg, rn->done, rn->total);
}

static void sim_progress(void *arg, uint64_t now_ns, uint64_t end_ns)
{
	struct runner *rn = arg;

	pthread_mutex_lock(&rn->lock);
	report(rn);
	pthread_mutex_unlock(&rn->lock);
}

static int run_point(struct runner *rn, unsigned i)
{
	struct epcg_sweep_point *p = &rn->sw->points[i];
	struct epcg_sim_opts o = { .progress = sim_progress, .arg = rn };
	struct epcg_results *r = NULL;
	struct epcg_scenario v;
	char msg[512] = "", b[32];
	int err;

	err = variant_init(&v, rn->sc, rn->k, p->limit);
	if (!err) {
		err = epcg_sim_run(&v, &o, &r, msg, sizeof(msg));
		variant_finish(&v);
	}
	if (!err)
		take_results(p, r, rn->k + 1);
	epcg_results_destroy(r);
	if (!err)
		return 0;
	pthread_mutex_lock(&rn->lock);
	if (!rn->err) {
		rn->err = err;
		if (rn->msg && rn->msglen)
			snprintf(rn->msg, rn->msglen, "limit %s: %s",
				 epcg__size_format(b, p->limit),
				 msg[0] ? msg : strerror(-err));
	}
	pthread_mutex_unlock(&rn->lock);
	return err;
}

static void *worker(void *arg)
{
	struct runner *rn = arg;

	for (;;) {
		unsigned i;

		pthread_mutex_lock(&rn->lock);
		while (rn->next < rn->sw->nr_points &&
		       !epcg_sweep_in_shard(rn->sw, rn->next))
			rn->next++;
		i = rn->next++;
		if (rn->err || i >= rn->sw->nr_points) {
			pthread_mutex_unlock(&rn->lock);
			return NULL;
		}
		pthread_mutex_unlock(&rn->lock);
		if (run_point(rn, i))
			return NULL;
		pthread_mutex_lock(&rn->lock);
		rn->done++;
		report(rn);
		pthread_mutex_unlock(&rn->lock);
	}
}

int epcg_sweep_run(struct epcg_sweep *sw, const struct epcg_scenario *sc,
		   const struct epcg_sweep_opts *opts, char *err, size_t errlen)
{
	struct runner rn = {
		.sw = sw,
		.sc = sc,
		.opts = opts,
		.msg = err,
		.msglen = errlen,
	};
	unsigned jobs = opts && opts->jobs > 1 ? opts->jobs : 1, started = 0;
	pthread_t *tid = NULL;

	if (err && errlen)
		err[0] = '\0';
	if (!sw || !sc)
		return -EINVAL;
	rn.k = find_cgroup(sc, sw->cgroup);
	if (rn.k < 0)
		return epcg__sweep_fail(err, errlen, "%s: no cgroup '%s'",
					sc->file, sw->cgroup);
	for (unsigned i = 0; i < sw->nr_points; i++)
		rn.total += epcg_sweep_in_shard(sw, i);
	if (jobs > rn.total)
		jobs = rn.total ? rn.total : 1;
	pthread_mutex_init(&rn.lock, NULL);
	if (jobs > 1) {
		tid = calloc(jobs - 1, sizeof(*tid));
		if (!tid)
			rn.err = -ENOMEM;
	}
	/* The calling thread is one of the jobs. */
	for (; !rn.err && started + 1 < jobs; started++) {
		if (pthread_create(&tid[started], NULL, worker, &rn)) {
			pthread_mutex_lock(&rn.lock);
			rn.err = -EAGAIN;
			epcg__sweep_fail(err, errlen,
					 "cannot start a thread for job %u",
					 started + 2);
			pthread_mutex_unlock(&rn.lock);
			break;
		}
	}
	if (!rn.err) {
		pthread_mutex_lock(&rn.lock);
		report(&rn);
		pthread_mutex_unlock(&rn.lock);
		worker(&rn);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	pthread_mutex_destroy(&rn.lock);
	return rn.err;
}
