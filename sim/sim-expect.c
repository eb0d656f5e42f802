// SPDX-License-Identifier: MIT
/*
 * Expectations of a scenario checked against a running (or finished)
 * simulation, and the words reports use for checks and events.
 *
 * Cgroup metrics read the live controller: misc.current, misc.peak,
 * misc.max, misc.events and misc.events.local as the kernel defines them
 * (hierarchical), and the paging counters summed over the cgroup's
 * subtree, so that "cgroup / evictions" counts every eviction on the
 * machine, as misc.current at the root counts every page.  Enclave
 * metrics read the enclave's own counters (its final ones once it was
 * released), summed over a count group.  Outcomes compare how each
 * instance ended, "running" for one that has not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>

#include "sim-internal.h"

static const char *const cmp_names[EPCG_CMP_NR] = {
	"==", "!=", "<", "<=", ">", ">=",
};

/* How a metric's value reads. */
enum unit {
	UNIT_BYTES,
	UNIT_COUNT,
	UNIT_TIME,
};

static enum unit unit_of(enum epcg_metric m)
{
	switch (m) {
	case EPCG_METRIC_CURRENT:
	case EPCG_METRIC_PEAK:
	case EPCG_METRIC_MAX:
		return UNIT_BYTES;
	case EPCG_METRIC_RUNTIME:
		return UNIT_TIME;
	default:
		return UNIT_COUNT;
	}
}

char *epcg__sim_fmt_size(char *buf, size_t size, uint64_t bytes)
{
	static const struct {
		char unit;
		unsigned shift;
	} units[] = { { 'T', 40 }, { 'G', 30 }, { 'M', 20 }, { 'K', 10 } };

	if (bytes == EPCG_SCENARIO_MAX) {
		snprintf(buf, size, "max");
		return buf;
	}
	for (size_t i = 0; bytes && i < sizeof(units) / sizeof(units[0]); i++) {
		if (bytes & ((1ull << units[i].shift) - 1))
			continue;
		snprintf(buf, size, "%" PRIu64 "%c", bytes >> units[i].shift,
			 units[i].unit);
		return buf;
	}
	snprintf(buf, size, "%" PRIu64, bytes);
	return buf;
}

char *epcg__sim_fmt_time(char *buf, size_t size, uint64_t ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = { { "s", 1000000000ull },
		      { "ms", 1000000ull },
		      { "us", 1000ull } };

	for (size_t i = 0; ns && i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns % units[i].ns)
			continue;
		snprintf(buf, size, "%" PRIu64 "%s", ns / units[i].ns,
			 units[i].unit);
		return buf;
	}
	snprintf(buf, size, ns ? "%" PRIu64 "ns" : "0", ns);
	return buf;
}

static char *fmt_value(char *buf, size_t size, enum unit unit, uint64_t v)
{
	switch (unit) {
	case UNIT_BYTES:
		return epcg__sim_fmt_size(buf, size, v);
	case UNIT_TIME:
		return epcg__sim_fmt_time(buf, size, v);
	default:
		snprintf(buf, size, "%" PRIu64, v);
		return buf;
	}
}

static bool compare(uint64_t a, enum epcg_cmp cmp, uint64_t b)
{
	switch (cmp) {
	case EPCG_CMP_EQ:
		return a == b;
	case EPCG_CMP_NE:
		return a != b;
	case EPCG_CMP_LT:
		return a < b;
	case EPCG_CMP_LE:
		return a <= b;
	case EPCG_CMP_GT:
		return a > b;
	case EPCG_CMP_GE:
		return a >= b;
	default:
		return false;
	}
}

/* A cgroup's metric now (@idx: scenario index, -1 for the root). */
static uint64_t cgroup_metric(struct sim *s, int idx, enum epcg_metric m)
{
	struct epcg_misc_cg *cg = s->cgs[idx + 1];
	const struct epcg_sgx_stats *t;

	switch (m) {
	case EPCG_METRIC_CURRENT:
		return epcg_misc_usage(cg, EPCG_MISC_RES_SGX_EPC);
	case EPCG_METRIC_PEAK:
		return epcg_misc_peak(cg, EPCG_MISC_RES_SGX_EPC);
	case EPCG_METRIC_MAX:
		return epcg_misc_max(cg, EPCG_MISC_RES_SGX_EPC);
	case EPCG_METRIC_EVENTS:
		return epcg_misc_events(cg, EPCG_MISC_RES_SGX_EPC);
	case EPCG_METRIC_EVENTS_LOCAL:
		return epcg_misc_events_local(cg, EPCG_MISC_RES_SGX_EPC);
	default:
		break;
	}
	epcg__sim_cgroup_totals(s, s->local, s->total);
	t = &s->total[idx + 1];
	switch (m) {
	case EPCG_METRIC_EVICTIONS:
		return t->ewb;
	case EPCG_METRIC_RELOADS:
		return t->eldu;
	case EPCG_METRIC_FAULTS:
		return t->faults;
	case EPCG_METRIC_SCANS:
		return t->reclaim_scans;
	case EPCG_METRIC_ENOMEM:
		return t->enomem;
	case EPCG_METRIC_SIGBUS:
		return t->sigbus;
	default:
		return 0;
	}
}

/* One enclave's metric now. */
static uint64_t enclave_metric(struct sim_enclave *e, enum epcg_metric m,
			       uint64_t now_ns)
{
	struct epcg_encl_stats st;

	if (m == EPCG_METRIC_RUNTIME) {
		if (e->start_ns == EPCG_SCENARIO_NEVER || now_ns < e->start_ns)
			return 0;
		if (e->state == SIM_ENDED && e->end_ns != EPCG_SCENARIO_NEVER)
			return e->end_ns - e->start_ns;
		return now_ns - e->start_ns;
	}
	epcg__sim_enclave_stats(e, &st);
	switch (m) {
	case EPCG_METRIC_EVICTIONS:
		return st.ewb;
	case EPCG_METRIC_RELOADS:
		return st.eldu;
	case EPCG_METRIC_FAULTS:
		return st.faults;
	case EPCG_METRIC_ACCESSES:
		return st.accesses;
	default:
		return 0;
	}
}

static bool outcome_matches(enum epcg_outcome have, enum epcg_outcome want)
{
	if (want == EPCG_OUTCOME_FAILED)
		return have == EPCG_OUTCOME_ENOMEM ||
		       have == EPCG_OUTCOME_SIGBUS ||
		       have == EPCG_OUTCOME_EFAULT;
	return have == want;
}

/* The expectation in the scenario's words. */
static int expect_text(struct sim *s, const struct epcg_expect *x, char **ret)
{
	const char *what = x->target == EPCG_TARGET_CGROUP ? "cgroup" :
							     "enclave";
	const char *name;
	char v[32];
	char *text;

	if (x->target == EPCG_TARGET_CGROUP)
		name = x->index < 0 ? "/" : s->sc->cgroups[x->index].path;
	else
		name = x->count > 1 ? s->sc->enclaves[x->index].group :
				      s->sc->enclaves[x->index].name;
	if (x->metric == EPCG_METRIC_OUTCOME && !x->counted)
		snprintf(v, sizeof(v), "%s", epcg_outcome_name(x->outcome));
	else if (x->metric == EPCG_METRIC_OUTCOME)
		snprintf(v, sizeof(v), "%s %s %" PRIu64,
			 epcg_outcome_name(x->outcome), cmp_names[x->cmp],
			 x->value);
	else
		snprintf(v, sizeof(v), "%s ", cmp_names[x->cmp]);
	if (x->metric != EPCG_METRIC_OUTCOME)
		fmt_value(v + strlen(v), sizeof(v) - strlen(v),
			  unit_of(x->metric), x->value);
	if (asprintf(&text, "%s %s %s %s", what, name,
		     epcg_metric_name(x->metric), v) < 0)
		return -ENOMEM;
	*ret = text;
	return 0;
}

/* Check an outcome; @out->actual is how many instances had it. */
static int check_outcome(struct sim *s, const struct epcg_expect *x,
			 struct epcg_result_expect *out)
{
	enum epcg_outcome first = EPCG_OUTCOME_NR;
	uint64_t n = 0;
	int r;

	for (unsigned i = 0; i < x->count; i++) {
		struct sim_enclave *e = &s->encls[x->index + (int)i];
		enum epcg_outcome o = epcg__sim_enclave_outcome(e);

		if (outcome_matches(o, x->outcome))
			n++;
		else if (first == EPCG_OUTCOME_NR)
			first = o;
	}
	out->actual = n;
	if (x->counted) {
		out->passed = compare(n, x->cmp, x->value);
		r = asprintf(&out->detail, "%" PRIu64 " of %u", n, x->count);
	} else {
		out->passed = n == x->count;
		if (x->count == 1)
			r = asprintf(
				&out->detail, "was %s",
				epcg_outcome_name(epcg__sim_enclave_outcome(
					&s->encls[x->index])));
		else if (out->passed)
			r = asprintf(&out->detail, "all %u", x->count);
		else
			r = asprintf(&out->detail,
				     "%" PRIu64 " of %u; one "
				     "was %s",
				     n, x->count, epcg_outcome_name(first));
	}
	return r < 0 ? -ENOMEM : 0;
}

int epcg__sim_expect(struct sim *s, const struct epcg_expect *x,
		     uint64_t now_ns, struct epcg_result_expect *out)
{
	char v[32];
	int err;

	free(out->text);
	free(out->detail);
	out->text = out->detail = NULL;
	err = expect_text(s, x, &out->text);
	if (err)
		return err;
	out->reached = true;
	out->at_ns = now_ns;
	if (x->metric == EPCG_METRIC_OUTCOME)
		return check_outcome(s, x, out);
	out->actual = 0;
	if (x->target == EPCG_TARGET_CGROUP)
		out->actual = cgroup_metric(s, x->index, x->metric);
	else
		for (unsigned i = 0; i < x->count; i++)
			out->actual +=
				enclave_metric(&s->encls[x->index + (int)i],
					       x->metric, now_ns);
	out->passed = compare(out->actual, x->cmp, x->value);
	fmt_value(v, sizeof(v), unit_of(x->metric), out->actual);
	if (asprintf(&out->detail, "was %s", v) < 0) {
		out->detail = NULL;
		return -ENOMEM;
	}
	return 0;
}

char *epcg__sim_event_text(const struct epcg_scenario *sc,
			   const struct epcg_event *ev)
{
	const char *encl = ev->enclave >= 0 ? sc->enclaves[ev->enclave].name :
					      "";
	const char *cg = ev->cgroup >= 0 ? sc->cgroups[ev->cgroup].path : "/";
	char v[32];
	char *text;
	int r;

	switch (ev->kind) {
	case EPCG_EVENT_SET_MAX:
		r = asprintf(&text, "set %s max %s", cg,
			     epcg__sim_fmt_size(v, sizeof(v), ev->value));
		break;
	case EPCG_EVENT_START:
		r = asprintf(&text, "start %s", encl);
		break;
	case EPCG_EVENT_STOP:
		r = asprintf(&text, "stop %s", encl);
		break;
	case EPCG_EVENT_KILL:
		r = asprintf(&text, "kill %s", encl);
		break;
	case EPCG_EVENT_MOVE:
		r = asprintf(&text, "move %s %s", encl, cg);
		break;
	default:
		r = asprintf(&text, "expect");
		break;
	}
	return r < 0 ? NULL : text;
}
