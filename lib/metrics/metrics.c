// SPDX-License-Identifier: MIT
/*
 * The metrics renderer: a misc controller's tree and an SGX machine's
 * counters as Prometheus families (docs/metrics.md lists them).
 *
 * Snapshot, then print
 * --------------------
 * The text format groups samples by family: every cgroup's used bytes,
 * then every cgroup's limit, and so on.  Walking the tree once per family
 * would hold the tree lock fifteen times and give each family a different
 * view of the tree; instead one walk copies what every family needs into
 * an array (a few hundred bytes per cgroup), and the families are printed
 * from that copy without any lock.  Each cgroup's path is built from its
 * parent's as the pre-order walk descends and escaped once for all the
 * families that carry it.
 *
 * Which cgroups, and why references
 * ---------------------------------
 * The walk holds the misc tree lock, so no cgroup is linked or unlinked
 * meanwhile, but a cgroup's EPC state is freed by the free callback, which
 * runs without that lock once the last reference is gone.  So each cgroup
 * is pinned with a tryget before its paging counters are read; one that
 * is already being freed fails the tryget and is left out (it holds no
 * pages, or it would hold references).  Removed ("dying") cgroups are left
 * out too: their directory is gone, a new cgroup may already have taken
 * the same path (two series with one label set would fail the scrape),
 * and what they still hold is counted in their ancestors' usage.  The
 * pins are dropped after the lock is released, because dropping the last
 * one frees the cgroup, and freeing takes the tree lock.
 *
 * Determinism
 * -----------
 * Families come in a fixed order, cgroups in pre-order (children in
 * creation order), misc resources in M1 order, integers in decimal and
 * durations as exact decimal seconds: the same state always gives the same
 * bytes, which is what the simulator's output relies on.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/epc.h>
#include <epcg/metrics.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>

#include "metrics/metrics-internal.h"
#include "util/macros.h"

#define SGX EPCG_MISC_RES_SGX_EPC

/* The misc counters a snapshot keeps, per cgroup and resource. */
enum misc_val {
	VAL_USAGE,
	VAL_LIMIT, /* misc.max, "max" read as 0 */
	VAL_PEAK,
	VAL_EVENTS,
	VAL_EVENTS_LOCAL,
	VAL_NR
};

/*
 * struct cg_snap - one cgroup as the walk saw it.
 * @cg: pinned until the snapshot is released (snap_put_all()).
 * @path: offset of the escaped path in the snapshot's @paths.
 * @is_root: the root has no misc.max and no events files (M3).
 * @has_stats: @stats is valid (the cgroup has EPC state).
 */
struct cg_snap {
	struct epcg_misc_cg *cg;
	size_t path;
	bool is_root;
	bool has_stats;
	uint64_t val[EPCG_MISC_RES_NR][VAL_NR];
	struct epcg_sgx_stats stats;
};

/* Where the walk is: the raw path of the last cgroup seen at a depth. */
struct level {
	const struct epcg_misc_cg *cg;
	size_t len;
};

/*
 * struct snap - everything the families print; private to one render.
 * @capacity: per resource; a resource with 0 is not rendered (M1).
 * @cgs, @nr, @cap: the cgroups in pre-order.
 * @paths: escaped paths, each followed by a NUL.
 * @raw: the unescaped path being built; @levels (room for @levels_cap):
 *	the length of its prefix at each depth, and whose path that is.
 */
struct snap {
	const struct epcg_metrics_source *src;
	uint64_t capacity[EPCG_MISC_RES_NR];
	struct cg_snap *cgs;
	size_t nr, cap;
	struct epcg_metrics_buf paths;
	struct epcg_metrics_buf raw;
	struct level *levels;
	size_t levels_cap;
	struct epcg_sgx_stats totals;
	uint64_t free_pages;
};

/* ---- the snapshot ---- */

/* @arr with room for @need elements of @elem bytes; NULL if out of memory. */
static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;

	if (need <= *cap)
		return arr;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / elem)
		return NULL;
	arr = realloc(arr, n * elem);
	if (arr)
		*cap = n;
	return arr;
}

/*
 * Build @cg's raw path in @s->raw: its parent's path (the last cgroup seen
 * one level up, in a pre-order walk) plus "/name", or, should the parent
 * not be the one recorded, the path the controller computes.
 */
static int raw_path(struct snap *s, struct epcg_misc_cg *cg)
{
	unsigned depth = epcg_misc_cg_depth(cg);
	struct epcg_metrics_buf *raw = &s->raw;
	const char *name = epcg_misc_cg_name(cg);
	struct level *levels;

	levels = grow(s->levels, &s->levels_cap, (size_t)depth + 1,
		      sizeof(*levels));
	if (!levels)
		return -ENOMEM;
	s->levels = levels;
	if (!depth) {
		raw->len = 0;
	} else if (s->levels[depth - 1].cg == epcg_misc_cg_parent(cg)) {
		raw->len = s->levels[depth - 1].len;
		epcg__metrics_put(raw, "/", 1);
		epcg__metrics_put(raw, name, strlen(name));
	} else {
		size_t n = (size_t)epcg_misc_cg_path(cg, NULL, 0);
		char *tmp = malloc(n + 1);

		if (!tmp)
			return -ENOMEM;
		epcg_misc_cg_path(cg, tmp, n + 1);
		raw->len = 0;
		epcg__metrics_put(raw, tmp, n);
		free(tmp);
	}
	if (raw->err)
		return raw->err;
	s->levels[depth].cg = cg;
	s->levels[depth].len = raw->len;
	return 0;
}

static void read_misc(struct snap *s, struct cg_snap *c)
{
	for (unsigned r = 0; r < EPCG_MISC_RES_NR; r++) {
		uint64_t *v = c->val[r];
		uint64_t max;

		if (!s->capacity[r])
			continue;
		max = epcg_misc_max(c->cg, r);
		v[VAL_USAGE] = epcg_misc_usage(c->cg, r);
		v[VAL_LIMIT] = max == EPCG_MISC_MAX ? 0 : max;
		v[VAL_PEAK] = epcg_misc_peak(c->cg, r);
		v[VAL_EVENTS] = epcg_misc_events(c->cg, r);
		v[VAL_EVENTS_LOCAL] = epcg_misc_events_local(c->cg, r);
	}
}

/* Record @cg (not dying, tree lock held).  Return: 0 or -ENOMEM. */
static int snap_cg(struct snap *s, struct epcg_misc_cg *cg)
{
	struct cg_snap *c;
	int err;

	/* Room first: a pin once taken must be recorded to be dropped. */
	c = grow(s->cgs, &s->cap, s->nr + 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	s->cgs = c;
	if (!epcg_misc_cg_tryget(cg))
		return 0;
	c = &s->cgs[s->nr++];
	memset(c, 0, sizeof(*c));
	c->cg = cg;
	c->is_root = epcg_misc_cg_is_root(cg);
	read_misc(s, c);
	c->has_stats = s->src->sgx && !epcg_sgx_cg_stats(cg, &c->stats);

	err = raw_path(s, cg);
	if (err)
		return err;
	c->path = s->paths.len;
	if (c->is_root)
		epcg__metrics_put(&s->paths, "/", 1);
	else
		epcg__metrics_escape(&s->paths, s->raw.data,
				     EPCG__METRICS_ESCAPE_LABEL);
	epcg__metrics_put(&s->paths, "", 1);
	return s->paths.err;
}

static void snap_put_all(struct snap *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		epcg_misc_cg_put(s->cgs[i].cg);
		s->cgs[i].cg = NULL;
	}
}

static int snap_take(struct snap *s)
{
	struct epcg_misc *m = s->src->misc;
	struct epcg_misc_cg *root = epcg_misc_root(m), *cg = NULL;
	int err = 0;

	for (unsigned r = 0; r < EPCG_MISC_RES_NR; r++)
		s->capacity[r] = epcg_misc_capacity(m, r);

	epcg_misc_tree_lock(m);
	while (!err && (cg = epcg_misc_cg_next_pre(cg, root)))
		if (!epcg_misc_cg_is_dying(cg))
			err = snap_cg(s, cg);
	epcg_misc_tree_unlock(m);
	snap_put_all(s);

	if (s->src->sgx) {
		epcg_sgx_stats(s->src->sgx, &s->totals);
		s->free_pages = epcg_epc_nr_free(epcg_sgx_epc(s->src->sgx));
	}
	return err;
}

static void snap_finish(struct snap *s)
{
	free(s->cgs);
	free(s->levels);
	epcg_metrics_buf_finish(&s->paths);
	epcg_metrics_buf_finish(&s->raw);
}

/* ---- families ---- */

/*
 * struct family - one metric family of misc counters.
 * @name, @type, @help: as printed.
 * @val: which counter.
 * @root: whether the root has it (the root has no limit or events).
 * @event: the `event` label's value ("max", the key of misc.events), or
 *	NULL for no such label.
 */
struct family {
	const char *name;
	enum epcg_metrics_type type;
	enum misc_val val;
	bool root;
	const char *event;
	const char *help;
};

static const struct family sgx_epc_families[] = {
	{ "epcg_sgx_epc_used_bytes", EPCG_METRICS_GAUGE, VAL_USAGE, true, NULL,
	  "EPC charged to the cgroup and its descendants, in bytes "
	  "(misc.current)." },
	{ "epcg_sgx_epc_limit_bytes", EPCG_METRICS_GAUGE, VAL_LIMIT, false,
	  NULL,
	  "EPC limit of the cgroup in bytes (misc.max); 0 means no limit "
	  "(max), as in the OSC exporter." },
	{ "epcg_sgx_epc_peak_bytes", EPCG_METRICS_GAUGE, VAL_PEAK, true, NULL,
	  "Highest EPC usage of the cgroup and its descendants, in bytes "
	  "(misc.peak)." },
	{ "epcg_sgx_epc_events_total", EPCG_METRICS_COUNTER, VAL_EVENTS, false,
	  "max",
	  "Charges refused by the limit of the cgroup or of a descendant "
	  "(misc.events)." },
	{ "epcg_sgx_epc_events_local_total", EPCG_METRICS_COUNTER,
	  VAL_EVENTS_LOCAL, false, "max",
	  "Charges refused by the limit of this cgroup itself "
	  "(misc.events.local)." },
};

static const struct family misc_families[] = {
	{ "epcg_misc_usage", EPCG_METRICS_GAUGE, VAL_USAGE, true, NULL,
	  "Amount of the misc resource charged to the cgroup and its "
	  "descendants (misc.current)." },
	{ "epcg_misc_limit", EPCG_METRICS_GAUGE, VAL_LIMIT, false, NULL,
	  "Limit of the misc resource (misc.max); 0 means no limit (max)." },
	{ "epcg_misc_peak", EPCG_METRICS_GAUGE, VAL_PEAK, true, NULL,
	  "Highest usage of the misc resource (misc.peak)." },
	{ "epcg_misc_events_total", EPCG_METRICS_COUNTER, VAL_EVENTS, false,
	  "max",
	  "Charges refused by the limit of the cgroup or of a descendant "
	  "(misc.events)." },
	{ "epcg_misc_events_local_total", EPCG_METRICS_COUNTER,
	  VAL_EVENTS_LOCAL, false, "max",
	  "Charges refused by the limit of this cgroup itself "
	  "(misc.events.local)." },
};

/*
 * struct stat_family - one paging counter of SPEC X1, printed twice: per
 * cgroup (@cg_name) and as the machine's total (@total_name).
 * @off: the field of struct epcg_sgx_stats.
 * @unit: how it prints.
 */
struct stat_family {
	const char *cg_name;
	const char *total_name;
	size_t off;
	enum epcg__metrics_unit unit;
	const char *help;
};

#define STAT(field) offsetof(struct epcg_sgx_stats, field)

static const struct stat_family stat_families[] = {
	{ "epcg_sgx_epc_evicted_pages_total", "epcg_sgx_evicted_pages_total",
	  STAT(ewb), EPCG__METRICS_UNIT_COUNT,
	  "EPC pages written back to memory outside the EPC (EWB)" },
	{ "epcg_sgx_epc_reloaded_pages_total", "epcg_sgx_reloaded_pages_total",
	  STAT(eldu), EPCG__METRICS_UNIT_COUNT,
	  "Pages loaded back into the EPC (ELDU)" },
	{ "epcg_sgx_epc_faults_total", "epcg_sgx_faults_total", STAT(faults),
	  EPCG__METRICS_UNIT_COUNT,
	  "Enclave page faults on pages not in the EPC" },
	{ "epcg_sgx_epc_reclaim_scanned_pages_total",
	  "epcg_sgx_reclaim_scanned_pages_total", STAT(reclaim_scans),
	  EPCG__METRICS_UNIT_COUNT,
	  "Pages taken off an LRU by reclaim batches, written back or not" },
	{ "epcg_sgx_epc_enomem_total", "epcg_sgx_enomem_total", STAT(enomem),
	  EPCG__METRICS_UNIT_COUNT,
	  "EPC allocations that failed with ENOMEM (nothing reclaimable)" },
	{ "epcg_sgx_epc_sigbus_total", "epcg_sgx_sigbus_total", STAT(sigbus),
	  EPCG__METRICS_UNIT_COUNT, "Enclave faults that ended in SIGBUS" },
	{ "epcg_sgx_epc_paging_seconds_total", "epcg_sgx_paging_seconds_total",
	  STAT(paging_ns), EPCG__METRICS_UNIT_NS,
	  "Time spent in EWB and ELDU, in seconds of the machine's clock" },
};

static uint64_t stat_of(const struct epcg_sgx_stats *st,
			const struct stat_family *f)
{
	uint64_t v;

	memcpy(&v, (const char *)st + f->off, sizeof(v));
	return v;
}

/* Print @f's header before its first sample only: no empty families. */
struct printer {
	struct epcg_metrics_buf *b;
	const char *name;
	bool started;
};

static void begin(struct printer *p, const char *name,
		  enum epcg_metrics_type type, const char *help)
{
	if (p->started && p->name == name)
		return;
	p->name = name;
	p->started = true;
	epcg_metrics_write_header(p->b, name, type, help);
}

static void family_reset(struct printer *p)
{
	p->name = NULL;
	p->started = false;
}

static void sample(struct printer *p, const char *name,
		   const struct epcg_metrics_label *l, unsigned nr,
		   enum epcg__metrics_unit unit, uint64_t v)
{
	epcg__metrics_sample(p->b, name, l, nr, EPCG__METRICS_ESCAPE_NONE, unit,
			     v);
}

static const char *path_of(const struct snap *s, const struct cg_snap *c)
{
	return s->paths.data + c->path;
}

static void print_machine(const struct snap *s, struct printer *p)
{
	struct epcg_sgx *sgx = s->src->sgx;
	struct epcg_metrics_label policy = { "policy", NULL };
	char help[160];

	if (s->capacity[SGX]) {
		family_reset(p);
		begin(p, "epcg_sgx_epc_capacity_bytes", EPCG_METRICS_GAUGE,
		      "EPC of the host in bytes (misc.capacity of sgx_epc).");
		sample(p, p->name, NULL, 0, EPCG__METRICS_UNIT_COUNT,
		       s->capacity[SGX]);
	}
	if (!sgx)
		return;
	family_reset(p);
	begin(p, "epcg_sgx_epc_free_bytes", EPCG_METRICS_GAUGE,
	      "EPC not allocated to any page, in bytes.");
	sample(p, p->name, NULL, 0, EPCG__METRICS_UNIT_COUNT,
	       s->free_pages * EPCG_PAGE_SIZE);

	family_reset(p);
	begin(p, "epcg_sgx_info", EPCG_METRICS_GAUGE,
	      "The software SGX machine; its reclaim policy (v17 or intent) "
	      "is a label; always 1.");
	policy.value = epcg_sgx_policy_name(epcg_sgx_policy(sgx));
	sample(p, p->name, &policy, 1, EPCG__METRICS_UNIT_COUNT, 1);

	for (size_t i = 0; i < EPCG_ARRAY_SIZE(stat_families); i++) {
		const struct stat_family *f = &stat_families[i];

		snprintf(help, sizeof(help), "%s, machine total.", f->help);
		family_reset(p);
		begin(p, f->total_name, EPCG_METRICS_COUNTER, help);
		sample(p, p->name, NULL, 0, f->unit, stat_of(&s->totals, f));
	}
}

/* One family of misc counters over every cgroup, for resources @res[]. */
static void print_misc(const struct snap *s, struct printer *p,
		       const struct family *f, const unsigned *res, unsigned nr)
{
	struct epcg_metrics_label l[3];

	family_reset(p);
	for (size_t i = 0; i < s->nr; i++) {
		const struct cg_snap *c = &s->cgs[i];

		if (c->is_root && !f->root)
			continue;
		for (unsigned j = 0; j < nr; j++) {
			unsigned k = 0;

			l[k++] = (struct epcg_metrics_label){ "cgroup",
							      path_of(s, c) };
			if (res[j] != SGX)
				l[k++] = (struct epcg_metrics_label){
					"resource", epcg_misc_res_name(res[j])
				};
			if (f->event)
				l[k++] =
					(struct epcg_metrics_label){ "event",
								     f->event };
			begin(p, f->name, f->type, f->help);
			sample(p, f->name, l, k, EPCG__METRICS_UNIT_COUNT,
			       c->val[res[j]][f->val]);
		}
	}
}

static void print_stats(const struct snap *s, struct printer *p)
{
	char help[160];

	for (size_t i = 0; i < EPCG_ARRAY_SIZE(stat_families); i++) {
		const struct stat_family *f = &stat_families[i];

		snprintf(help, sizeof(help),
			 "%s, counted in the cgroup itself, not its "
			 "descendants.",
			 f->help);
		family_reset(p);
		for (size_t j = 0; j < s->nr; j++) {
			const struct cg_snap *c = &s->cgs[j];
			struct epcg_metrics_label l = { "cgroup",
							path_of(s, c) };

			if (!c->has_stats)
				continue;
			begin(p, f->cg_name, EPCG_METRICS_COUNTER, help);
			sample(p, f->cg_name, &l, 1, f->unit,
			       stat_of(&c->stats, f));
		}
	}
}

/* The misc resources other than sgx_epc, with their capacities. */
static void print_generic(const struct snap *s, struct printer *p)
{
	unsigned res[EPCG_MISC_RES_NR], nr = 0;
	struct epcg_metrics_label l = { "resource", NULL };

	for (unsigned r = 0; r < EPCG_MISC_RES_NR; r++)
		if (r != SGX && s->capacity[r])
			res[nr++] = r;
	if (!nr)
		return;
	family_reset(p);
	for (unsigned j = 0; j < nr; j++) {
		begin(p, "epcg_misc_capacity", EPCG_METRICS_GAUGE,
		      "Amount of the misc resource the host has "
		      "(misc.capacity).");
		l.value = epcg_misc_res_name(res[j]);
		sample(p, p->name, &l, 1, EPCG__METRICS_UNIT_COUNT,
		       s->capacity[res[j]]);
	}
	for (size_t i = 0; i < EPCG_ARRAY_SIZE(misc_families); i++)
		print_misc(s, p, &misc_families[i], res, nr);
}

static void print_all(const struct snap *s, struct epcg_metrics_buf *b)
{
	static const unsigned sgx_res[] = { SGX };
	struct printer p = { .b = b };

	print_machine(s, &p);
	if (s->capacity[SGX])
		for (size_t i = 0; i < EPCG_ARRAY_SIZE(sgx_epc_families); i++)
			print_misc(s, &p, &sgx_epc_families[i], sgx_res, 1);
	if (s->src->sgx)
		print_stats(s, &p);
	print_generic(s, &p);
}

int epcg_metrics_render(const struct epcg_metrics_source *src,
			struct epcg_metrics_buf *b)
{
	struct snap s;
	int err;

	if (!src || !src->misc || !b)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.src = src;
	epcg_metrics_buf_init(&s.paths);
	epcg_metrics_buf_init(&s.raw);
	err = snap_take(&s);
	if (!err) {
		print_all(&s, b);
		err = b->err;
	}
	snap_finish(&s);
	return err;
}

int epcg_metrics_source_render(struct epcg_metrics_buf *b, void *data)
{
	return epcg_metrics_render(data, b);
}
