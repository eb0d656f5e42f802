// SPDX-License-Identifier: MIT
/*
 * Unit tests of the metrics renderer and the textfile writer
 * (lib/metrics/{prom,metrics,textfile}.c): the text format's lines and
 * escaping, the exact exposition of small trees with and without an SGX
 * machine (golden strings), order and determinism, what is left out
 * (dying cgroups, absent resources, the root's limit), 10,000 cgroups, a
 * render racing tree changes, and the atomic replacement of a textfile.
 */
#include <time.h>

#include <dirent.h>
#include <epcg/metrics.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sgx-fake.h"

#define SEV EPCG_MISC_RES_SEV
#define SEV_ES EPCG_MISC_RES_SEV_ES

static struct epcg_misc_cg *mkmisc(struct epcg_misc_cg *parent,
				   const char *name)
{
	struct epcg_misc_cg *cg;

	ASSERT_OK(epcg_misc_cg_create(parent, name, &cg));
	return cg;
}

/* Render @src into a fresh string the test frees. */
static char *render(struct epcg_misc *m, struct epcg_sgx *sgx)
{
	struct epcg_metrics_source src = { .misc = m, .sgx = sgx };
	struct epcg_metrics_buf b;
	char *s;

	epcg_metrics_buf_init(&b);
	ASSERT_OK(epcg_metrics_render(&src, &b));
	ASSERT_NOT_NULL(b.data);
	ASSERT_EQ(strlen(b.data), b.len);
	s = b.data; /* the caller frees */
	return s;
}

/* How many lines of @text start with @prefix. */
static unsigned count_lines(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	unsigned count = 0;

	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		if (!strncmp(l, prefix, n))
			count++;
		if (!strchr(l, '\n'))
			break;
	}
	return count;
}

/* Whether @text has the whole line @line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define ASSERT_LINE(text, line)                                          \
	do {                                                             \
		if (!has_line((text), (line)))                           \
			epcg_test_fail(__FILE__, __LINE__,               \
				       "no line \"%s\" in:\n%s", (line), \
				       (text));                          \
	} while (0)

#define ASSERT_NO_LINE(text, line)                                        \
	do {                                                              \
		if (has_line((text), (line)))                             \
			epcg_test_fail(__FILE__, __LINE__,                \
				       "unexpected line \"%s\"", (line)); \
	} while (0)

/* ---- the text format ---------------------------------------------------- */

TEST(buf_grows_resets_and_finishes)
{
	struct epcg_metrics_buf b;
	struct epcg_metrics_label l = { "k", "v" };
	size_t cap;

	epcg_metrics_buf_init(&b);
	ASSERT_NULL(b.data);
	ASSERT_EQ(b.len, 0);
	for (int i = 0; i < 2000; i++)
		ASSERT_OK(epcg_metrics_write_u64(&b, "x", &l, 1, (uint64_t)i));
	ASSERT_CMP(b.len, >, 4096);
	ASSERT_EQ(strlen(b.data), b.len);
	ASSERT_TRUE(!strncmp(b.data, "x{k=\"v\"} 0\nx{k=\"v\"} 1\n", 22));
	cap = b.cap;
	epcg_metrics_buf_reset(&b);
	ASSERT_EQ(b.len, 0);
	ASSERT_EQ(b.cap, cap);
	ASSERT_STREQ(b.data, "");
	epcg_metrics_buf_finish(&b);
	ASSERT_NULL(b.data);
	epcg_metrics_buf_finish(NULL);
}

TEST(header_and_sample_lines)
{
	struct epcg_metrics_label l[2] = { { "cgroup", "/a" },
					   { "event", "max" } };
	struct epcg_metrics_buf b;

	epcg_metrics_buf_init(&b);
	ASSERT_OK(epcg_metrics_write_header(&b, "epcg_x_total",
					    EPCG_METRICS_COUNTER, "Things."));
	ASSERT_OK(epcg_metrics_write_u64(&b, "epcg_x_total", l, 2, UINT64_MAX));
	ASSERT_OK(epcg_metrics_write_header(&b, "epcg_y", EPCG_METRICS_GAUGE,
					    NULL));
	ASSERT_OK(epcg_metrics_write_u64(&b, "epcg_y", NULL, 0, 0));
	ASSERT_STREQ(b.data, "# HELP epcg_x_total Things.\n"
			     "# TYPE epcg_x_total counter\n"
			     "epcg_x_total{cgroup=\"/a\",event=\"max\"} "
			     "18446744073709551615\n"
			     "# HELP epcg_y \n"
			     "# TYPE epcg_y gauge\n"
			     "epcg_y 0\n");
	epcg_metrics_buf_finish(&b);
}

TEST(bad_names_are_refused_without_output)
{
	struct epcg_metrics_label bad[] = { { "a:b", "v" } };
	struct epcg_metrics_label ok[] = { { "_a1", "v" } };
	struct epcg_metrics_buf b;

	epcg_metrics_buf_init(&b);
	ASSERT_ERR(epcg_metrics_write_header(&b, "1x", EPCG_METRICS_GAUGE, ""),
		   EINVAL);
	ASSERT_ERR(epcg_metrics_write_header(&b, "x", EPCG_METRICS_TYPE_NR, ""),
		   EINVAL);
	ASSERT_ERR(epcg_metrics_write_u64(&b, "a-b", NULL, 0, 1), EINVAL);
	ASSERT_ERR(epcg_metrics_write_u64(&b, "", NULL, 0, 1), EINVAL);
	ASSERT_ERR(epcg_metrics_write_u64(&b, NULL, NULL, 0, 1), EINVAL);
	ASSERT_ERR(epcg_metrics_write_u64(&b, "x", bad, 1, 1), EINVAL);
	ASSERT_ERR(epcg_metrics_write_u64(&b, "x", NULL, 1, 1), EINVAL);
	ASSERT_EQ(b.len, 0);
	ASSERT_OK(epcg_metrics_write_u64(&b, "ns:x_1", ok, 1, 1));
	ASSERT_STREQ(b.data, "ns:x_1{_a1=\"v\"} 1\n");
	epcg_metrics_buf_finish(&b);
}

TEST(label_values_and_help_are_escaped)
{
	struct epcg_metrics_label l = { "cgroup", "/a\\b\"c\nd" };
	struct epcg_metrics_buf b;

	epcg_metrics_buf_init(&b);
	ASSERT_OK(epcg_metrics_write_header(&b, "x", EPCG_METRICS_GAUGE,
					    "a \"quoted\" \\ and\nmore"));
	ASSERT_OK(epcg_metrics_write_u64(&b, "x", &l, 1, 7));
	/* HELP escapes backslash and newline, not the double quote. */
	ASSERT_STREQ(b.data, "# HELP x a \"quoted\" \\\\ and\\nmore\n"
			     "# TYPE x gauge\n"
			     "x{cgroup=\"/a\\\\b\\\"c\\nd\"} 7\n");
	epcg_metrics_buf_finish(&b);
}

TEST(durations_print_as_exact_seconds)
{
	static const struct {
		uint64_t ns;
		const char *text;
	} cases[] = {
		{ 0, "t 0\n" },
		{ 12, "t 0.000000012\n" },
		{ 1000000000, "t 1\n" },
		{ 1500000000, "t 1.5\n" },
		{ 123456789012, "t 123.456789012\n" },
		{ UINT64_MAX, "t 18446744073.709551615\n" },
	};

	for (size_t i = 0; i < EPCG_ARRAY_SIZE(cases); i++) {
		struct epcg_metrics_buf b;

		epcg_metrics_buf_init(&b);
		ASSERT_OK(epcg_metrics_write_ns(&b, "t", NULL, 0, cases[i].ns));
		ASSERT_STREQ(b.data, cases[i].text);
		epcg_metrics_buf_finish(&b);
	}
}

/* ---- rendering a tree ----------------------------------------------------- */

TEST(render_refuses_bad_arguments)
{
	struct epcg_metrics_source none = { 0 }, src = { 0 };
	struct epcg_metrics_buf b;
	struct epcg_misc *m;

	ASSERT_OK(epcg_misc_create(&m));
	src.misc = m;
	epcg_metrics_buf_init(&b);
	ASSERT_ERR(epcg_metrics_render(NULL, &b), EINVAL);
	ASSERT_ERR(epcg_metrics_render(&none, &b), EINVAL);
	ASSERT_ERR(epcg_metrics_render(&src, NULL), EINVAL);
	/* Nothing present: nothing to say, and that is not an error. */
	ASSERT_OK(epcg_metrics_render(&src, &b));
	ASSERT_EQ(b.len, 0);
	epcg_metrics_buf_finish(&b);
	epcg_misc_destroy(m);
}

/*
 * The misc controller alone: /a (limit 16 KiB, one refused charge), /a/b
 * (usage 8 KiB), /c (limit 0, a name with a quote and a backslash).
 */
TEST(render_misc_tree_golden)
{
	struct epcg_misc_cg *a, *b, *c;
	struct epcg_misc *m;
	char *text;

	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, RES, 1 << 20));
	a = mkmisc(epcg_misc_root(m), "a");
	b = mkmisc(a, "b");
	c = mkmisc(epcg_misc_root(m), "c\"\\");
	ASSERT_OK(epcg_misc_set_max(a, RES, 4 * PG));
	ASSERT_OK(epcg_misc_set_max(c, RES, 0));
	ASSERT_OK(epcg_misc_try_charge(RES, b, 2 * PG, NULL));
	ASSERT_ERR(epcg_misc_try_charge(RES, b, 3 * PG, NULL), EBUSY);

	text = render(m, NULL);
	ASSERT_STREQ(
		text,
		"# HELP epcg_sgx_epc_capacity_bytes EPC of the host in bytes "
		"(misc.capacity of sgx_epc).\n"
		"# TYPE epcg_sgx_epc_capacity_bytes gauge\n"
		"epcg_sgx_epc_capacity_bytes 1048576\n"
		"# HELP epcg_sgx_epc_used_bytes EPC charged to the cgroup and "
		"its descendants, in bytes (misc.current).\n"
		"# TYPE epcg_sgx_epc_used_bytes gauge\n"
		"epcg_sgx_epc_used_bytes{cgroup=\"/\"} 8192\n"
		"epcg_sgx_epc_used_bytes{cgroup=\"/a\"} 8192\n"
		"epcg_sgx_epc_used_bytes{cgroup=\"/a/b\"} 8192\n"
		"epcg_sgx_epc_used_bytes{cgroup=\"/c\\\"\\\\\"} 0\n"
		"# HELP epcg_sgx_epc_limit_bytes EPC limit of the cgroup in "
		"bytes (misc.max); 0 means no limit (max), as in the OSC "
		"exporter.\n"
		"# TYPE epcg_sgx_epc_limit_bytes gauge\n"
		"epcg_sgx_epc_limit_bytes{cgroup=\"/a\"} 16384\n"
		"epcg_sgx_epc_limit_bytes{cgroup=\"/a/b\"} 0\n"
		"epcg_sgx_epc_limit_bytes{cgroup=\"/c\\\"\\\\\"} 0\n"
		"# HELP epcg_sgx_epc_peak_bytes Highest EPC usage of the "
		"cgroup and its descendants, in bytes (misc.peak).\n"
		"# TYPE epcg_sgx_epc_peak_bytes gauge\n"
		"epcg_sgx_epc_peak_bytes{cgroup=\"/\"} 8192\n"
		"epcg_sgx_epc_peak_bytes{cgroup=\"/a\"} 8192\n"
		"epcg_sgx_epc_peak_bytes{cgroup=\"/a/b\"} 20480\n"
		"epcg_sgx_epc_peak_bytes{cgroup=\"/c\\\"\\\\\"} 0\n"
		"# HELP epcg_sgx_epc_events_total Charges refused by the "
		"limit of the cgroup or of a descendant (misc.events).\n"
		"# TYPE epcg_sgx_epc_events_total counter\n"
		"epcg_sgx_epc_events_total{cgroup=\"/a\",event=\"max\"} 1\n"
		"epcg_sgx_epc_events_total{cgroup=\"/a/b\",event=\"max\"} 0\n"
		"epcg_sgx_epc_events_total{cgroup=\"/c\\\"\\\\\",event=\"max\"}"
		" 0\n"
		"# HELP epcg_sgx_epc_events_local_total Charges refused by "
		"the limit of this cgroup itself (misc.events.local).\n"
		"# TYPE epcg_sgx_epc_events_local_total counter\n"
		"epcg_sgx_epc_events_local_total{cgroup=\"/a\",event=\"max\"}"
		" 1\n"
		"epcg_sgx_epc_events_local_total{cgroup=\"/a/b\","
		"event=\"max\"} 0\n"
		"epcg_sgx_epc_events_local_total{cgroup=\"/c\\\"\\\\\","
		"event=\"max\"} 0\n");
	free(text);
	epcg_misc_uncharge(RES, b, 2 * PG);
	ASSERT_OK(epcg_misc_cg_remove(c));
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_OK(epcg_misc_cg_remove(a));
	epcg_misc_destroy(m);
}

/* Set every paging counter of @c to @base + its index. */
static void set_counters(struct epcg_sgx_counters *c, uint64_t base)
{
	epcg_atomic_store_relaxed(&c->ewb, base + 1);
	epcg_atomic_store_relaxed(&c->eldu, base + 2);
	epcg_atomic_store_relaxed(&c->faults, base + 3);
	epcg_atomic_store_relaxed(&c->reclaim_scans, base + 4);
	epcg_atomic_store_relaxed(&c->enomem, base + 5);
	epcg_atomic_store_relaxed(&c->sigbus, base + 6);
	epcg_atomic_store_relaxed(&c->paging_ns, base * 1000000 + 7);
}

/* A machine of 64 pages, /t with 3 pages and a limit of 8, counters set. */
TEST(render_machine_golden)
{
	struct fake_page *fps[3];
	struct epcg_misc_cg *t;
	struct sfx f;
	char *text;

	sfx_setup(&f, 64);
	t = mkcg(&f, f.root, "t");
	set_max_pages(t, 8);
	fake_fill(&f, t, FAKE_UNRECL, 3, fps);
	set_counters(&f.sgx->stats, 100);
	set_counters(&scg(f.root)->stats, 0);
	set_counters(&scg(t)->stats, 10);

	text = render(f.m, f.sgx);
	ASSERT_STREQ(
		text,
		"# HELP epcg_sgx_epc_capacity_bytes EPC of the host in bytes "
		"(misc.capacity of sgx_epc).\n"
		"# TYPE epcg_sgx_epc_capacity_bytes gauge\n"
		"epcg_sgx_epc_capacity_bytes 262144\n"
		"# HELP epcg_sgx_epc_free_bytes EPC not allocated to any "
		"page, in bytes.\n"
		"# TYPE epcg_sgx_epc_free_bytes gauge\n"
		"epcg_sgx_epc_free_bytes 249856\n"
		"# HELP epcg_sgx_info The software SGX machine; its reclaim "
		"policy (v17 or intent) is a label; always 1.\n"
		"# TYPE epcg_sgx_info gauge\n"
		"epcg_sgx_info{policy=\"v17\"} 1\n"
		"# HELP epcg_sgx_evicted_pages_total EPC pages written back "
		"to memory outside the EPC (EWB), machine total.\n"
		"# TYPE epcg_sgx_evicted_pages_total counter\n"
		"epcg_sgx_evicted_pages_total 101\n"
		"# HELP epcg_sgx_reloaded_pages_total Pages loaded back into "
		"the EPC (ELDU), machine total.\n"
		"# TYPE epcg_sgx_reloaded_pages_total counter\n"
		"epcg_sgx_reloaded_pages_total 102\n"
		"# HELP epcg_sgx_faults_total Enclave page faults on pages "
		"not in the EPC, machine total.\n"
		"# TYPE epcg_sgx_faults_total counter\n"
		"epcg_sgx_faults_total 103\n"
		"# HELP epcg_sgx_reclaim_scanned_pages_total Pages taken off "
		"an LRU by reclaim batches, written back or not, machine "
		"total.\n"
		"# TYPE epcg_sgx_reclaim_scanned_pages_total counter\n"
		"epcg_sgx_reclaim_scanned_pages_total 104\n"
		"# HELP epcg_sgx_enomem_total EPC allocations that failed "
		"with ENOMEM (nothing reclaimable), machine total.\n"
		"# TYPE epcg_sgx_enomem_total counter\n"
		"epcg_sgx_enomem_total 105\n"
		"# HELP epcg_sgx_sigbus_total Enclave faults that ended in "
		"SIGBUS, machine total.\n"
		"# TYPE epcg_sgx_sigbus_total counter\n"
		"epcg_sgx_sigbus_total 106\n"
		"# HELP epcg_sgx_paging_seconds_total Time spent in EWB and "
		"ELDU, in seconds of the machine's clock, machine total.\n"
		"# TYPE epcg_sgx_paging_seconds_total counter\n"
		"epcg_sgx_paging_seconds_total 0.100000007\n"
		"# HELP epcg_sgx_epc_used_bytes EPC charged to the cgroup and "
		"its descendants, in bytes (misc.current).\n"
		"# TYPE epcg_sgx_epc_used_bytes gauge\n"
		"epcg_sgx_epc_used_bytes{cgroup=\"/\"} 12288\n"
		"epcg_sgx_epc_used_bytes{cgroup=\"/t\"} 12288\n"
		"# HELP epcg_sgx_epc_limit_bytes EPC limit of the cgroup in "
		"bytes (misc.max); 0 means no limit (max), as in the OSC "
		"exporter.\n"
		"# TYPE epcg_sgx_epc_limit_bytes gauge\n"
		"epcg_sgx_epc_limit_bytes{cgroup=\"/t\"} 32768\n"
		"# HELP epcg_sgx_epc_peak_bytes Highest EPC usage of the "
		"cgroup and its descendants, in bytes (misc.peak).\n"
		"# TYPE epcg_sgx_epc_peak_bytes gauge\n"
		"epcg_sgx_epc_peak_bytes{cgroup=\"/\"} 12288\n"
		"epcg_sgx_epc_peak_bytes{cgroup=\"/t\"} 12288\n"
		"# HELP epcg_sgx_epc_events_total Charges refused by the "
		"limit of the cgroup or of a descendant (misc.events).\n"
		"# TYPE epcg_sgx_epc_events_total counter\n"
		"epcg_sgx_epc_events_total{cgroup=\"/t\",event=\"max\"} 0\n"
		"# HELP epcg_sgx_epc_events_local_total Charges refused by "
		"the limit of this cgroup itself (misc.events.local).\n"
		"# TYPE epcg_sgx_epc_events_local_total counter\n"
		"epcg_sgx_epc_events_local_total{cgroup=\"/t\",event=\"max\"}"
		" 0\n"
		"# HELP epcg_sgx_epc_evicted_pages_total EPC pages written "
		"back to memory outside the EPC (EWB), counted in the cgroup "
		"itself, not its descendants.\n"
		"# TYPE epcg_sgx_epc_evicted_pages_total counter\n"
		"epcg_sgx_epc_evicted_pages_total{cgroup=\"/\"} 1\n"
		"epcg_sgx_epc_evicted_pages_total{cgroup=\"/t\"} 11\n"
		"# HELP epcg_sgx_epc_reloaded_pages_total Pages loaded back "
		"into the EPC (ELDU), counted in the cgroup itself, not its "
		"descendants.\n"
		"# TYPE epcg_sgx_epc_reloaded_pages_total counter\n"
		"epcg_sgx_epc_reloaded_pages_total{cgroup=\"/\"} 2\n"
		"epcg_sgx_epc_reloaded_pages_total{cgroup=\"/t\"} 12\n"
		"# HELP epcg_sgx_epc_faults_total Enclave page faults on "
		"pages not in the EPC, counted in the cgroup itself, not its "
		"descendants.\n"
		"# TYPE epcg_sgx_epc_faults_total counter\n"
		"epcg_sgx_epc_faults_total{cgroup=\"/\"} 3\n"
		"epcg_sgx_epc_faults_total{cgroup=\"/t\"} 13\n"
		"# HELP epcg_sgx_epc_reclaim_scanned_pages_total Pages taken "
		"off an LRU by reclaim batches, written back or not, counted "
		"in the cgroup itself, not its descendants.\n"
		"# TYPE epcg_sgx_epc_reclaim_scanned_pages_total counter\n"
		"epcg_sgx_epc_reclaim_scanned_pages_total{cgroup=\"/\"} 4\n"
		"epcg_sgx_epc_reclaim_scanned_pages_total{cgroup=\"/t\"} 14\n"
		"# HELP epcg_sgx_epc_enomem_total EPC allocations that failed "
		"with ENOMEM (nothing reclaimable), counted in the cgroup "
		"itself, not its descendants.\n"
		"# TYPE epcg_sgx_epc_enomem_total counter\n"
		"epcg_sgx_epc_enomem_total{cgroup=\"/\"} 5\n"
		"epcg_sgx_epc_enomem_total{cgroup=\"/t\"} 15\n"
		"# HELP epcg_sgx_epc_sigbus_total Enclave faults that ended "
		"in SIGBUS, counted in the cgroup itself, not its "
		"descendants.\n"
		"# TYPE epcg_sgx_epc_sigbus_total counter\n"
		"epcg_sgx_epc_sigbus_total{cgroup=\"/\"} 6\n"
		"epcg_sgx_epc_sigbus_total{cgroup=\"/t\"} 16\n"
		"# HELP epcg_sgx_epc_paging_seconds_total Time spent in EWB "
		"and ELDU, in seconds of the machine's clock, counted in the "
		"cgroup itself, not its descendants.\n"
		"# TYPE epcg_sgx_epc_paging_seconds_total counter\n"
		"epcg_sgx_epc_paging_seconds_total{cgroup=\"/\"} 0.000000007\n"
		"epcg_sgx_epc_paging_seconds_total{cgroup=\"/t\"} 0.010000007\n");
	free(text);
	fake_release_all(&f, fps, 3);
	sfx_check(&f);
	sfx_teardown(&f);
}

/* ---- a strict reader of the exposition ---- */

static bool is_name(const char **p, bool colon)
{
	const char *s = *p;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      *s == '_' || (colon && *s == ':')))
		return false;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	       (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':'))
		s++;
	*p = s;
	return true;
}

/* One sample line; its metric name must be @family.  Return the key end. */
static const char *parse_sample(const char *l, const char *family)
{
	const char *p = l;
	size_t n = strlen(family);

	ASSERT_TRUE(is_name(&p, true));
	ASSERT_EQ((size_t)(p - l), n);
	ASSERT_TRUE(!strncmp(l, family, n));
	if (*p == '{') {
		p++;
		for (;;) {
			ASSERT_TRUE(is_name(&p, false));
			ASSERT_TRUE(p[0] == '=' && p[1] == '"');
			for (p += 2; *p != '"'; p++) {
				ASSERT_TRUE(*p && *p != '\n');
				if (*p == '\\') {
					p++;
					ASSERT_TRUE(*p == '\\' || *p == '"' ||
						    *p == 'n');
				}
			}
			p++;
			if (*p == '}')
				break;
			ASSERT_EQ(*p, ',');
			p++;
		}
		p++;
	}
	ASSERT_EQ(*p, ' ');
	/* A decimal number: digits, optionally a fraction. */
	{
		const char *v = p + 1;

		ASSERT_TRUE(*v >= '0' && *v <= '9');
		while (*v >= '0' && *v <= '9')
			v++;
		if (*v == '.') {
			v++;
			ASSERT_TRUE(*v >= '0' && *v <= '9');
			while (*v >= '0' && *v <= '9')
				v++;
			ASSERT_TRUE(v[-1] != '0');
		}
		ASSERT_EQ(*v, '\n');
	}
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Check @text against the text format: HELP then TYPE per family, each
 * family once, samples right after their family's header and named after
 * it, valid label syntax and escapes, no two samples with one label set,
 * counters named *_total.  Return the number of families.
 */
static unsigned check_exposition(const char *text)
{
	char **keys = NULL, **families = NULL, family[128] = "";
	size_t nr_keys = 0, nr_families = 0, cap_keys = 0;
	const char *l = text;

	ASSERT_TRUE(!*text || text[strlen(text) - 1] == '\n');
	while (*l) {
		const char *end = strchr(l, '\n');
		char type[16];

		if (!strncmp(l, "# HELP ", 7)) {
			const char *p = l + 7;
			size_t n;

			ASSERT_TRUE(is_name(&p, true));
			n = (size_t)(p - l - 7);
			ASSERT_CMP(n, <, sizeof(family));
			memcpy(family, l + 7, n);
			family[n] = '\0';
			ASSERT_EQ(*p, ' ');
			ASSERT_CMP(end - p, >, 1); /* some help text */
			l = end + 1;
			ASSERT_EQ(sscanf(l, "# TYPE %*s %15s", type), 1);
			ASSERT_TRUE(!strncmp(l + 7, family, strlen(family)));
			ASSERT_EQ(l[7 + strlen(family)], ' ');
			ASSERT_TRUE(!strcmp(type, "gauge") ||
				    !strcmp(type, "counter"));
			if (!strcmp(type, "counter"))
				ASSERT_TRUE(strlen(family) > 6 &&
					    !strcmp(family + strlen(family) - 6,
						    "_total"));
			families = realloc(families, (nr_families + 1) *
							     sizeof(*families));
			families[nr_families++] = strdup(family);
		} else {
			const char *key_end;

			ASSERT_TRUE(*family); /* no sample before a header */
			key_end = parse_sample(l, family);
			if (nr_keys == cap_keys) {
				cap_keys = cap_keys ? 2 * cap_keys : 1024;
				keys = realloc(keys, cap_keys * sizeof(*keys));
				ASSERT_NOT_NULL(keys);
			}
			keys[nr_keys++] = strndup(l, (size_t)(key_end - l));
		}
		l = strchr(l, '\n') + 1;
	}
	qsort(families, nr_families, sizeof(*families), cmp_str);
	for (size_t i = 1; i < nr_families; i++)
		ASSERT_TRUE(strcmp(families[i - 1], families[i]));
	qsort(keys, nr_keys, sizeof(*keys), cmp_str);
	for (size_t i = 1; i < nr_keys; i++)
		if (!strcmp(keys[i - 1], keys[i]))
			epcg_test_fail(__FILE__, __LINE__, "duplicate %s",
				       keys[i]);
	for (size_t i = 0; i < nr_keys; i++)
		free(keys[i]);
	for (size_t i = 0; i < nr_families; i++)
		free(families[i]);
	free(keys);
	free(families);
	return (unsigned)nr_families;
}

/* Every family at once, odd names included, read back strictly. */
TEST(exposition_is_well_formed)
{
	struct fake_page *fps[2];
	struct epcg_misc_cg *a, *b;
	struct sfx f;
	char *text;

	sfx_setup(&f, 64);
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV, 8));
	ASSERT_OK(epcg_misc_set_capacity(f.m, SEV_ES, 4));
	a = mkcg(&f, f.root, "we\\ird \"name\"");
	b = mkcg(&f, a, "x\ty");
	fake_fill(&f, b, FAKE_REG, 2, fps);
	set_counters(&scg(b)->stats, 3);
	text = render(f.m, f.sgx);
	/* 3 machine + 7 totals + 5 sgx_epc + 7 per cgroup + 6 generic. */
	ASSERT_EQ(check_exposition(text), 28);
	ASSERT_LINE(text, "epcg_sgx_epc_used_bytes{cgroup=\"/we\\\\ird "
			  "\\\"name\\\"/x\ty\"} 8192");
	free(text);
	fake_release_all(&f, fps, 2);
	sfx_check(&f);
	sfx_teardown(&f);
}

TEST(cgroups_in_preorder_and_output_deterministic)
{
	struct epcg_misc_cg *z, *a, *zy, *zx;
	struct epcg_misc *m;
	char *t1, *t2;
	const char *pz, *pzy, *pzx, *pa;

	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, RES, 1 << 20));
	/* Creation order, not name order: z before a, y before x. */
	z = mkmisc(epcg_misc_root(m), "z");
	a = mkmisc(epcg_misc_root(m), "a");
	zy = mkmisc(z, "y");
	zx = mkmisc(z, "x");
	t1 = render(m, NULL);
	t2 = render(m, NULL);
	ASSERT_STREQ(t1, t2);
	pz = strstr(t1, "used_bytes{cgroup=\"/z\"}");
	pzy = strstr(t1, "used_bytes{cgroup=\"/z/y\"}");
	pzx = strstr(t1, "used_bytes{cgroup=\"/z/x\"}");
	pa = strstr(t1, "used_bytes{cgroup=\"/a\"}");
	ASSERT_TRUE(pz && pzy && pzx && pa);
	ASSERT_TRUE(pz < pzy && pzy < pzx && pzx < pa);
	/* Each family once. */
	ASSERT_EQ(count_lines(t1, "# TYPE epcg_sgx_epc_used_bytes "), 1);
	free(t1);
	free(t2);
	ASSERT_OK(epcg_misc_cg_remove(zx));
	ASSERT_OK(epcg_misc_cg_remove(zy));
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_OK(epcg_misc_cg_remove(z));
	epcg_misc_destroy(m);
}

TEST(unset_limit_is_zero_and_root_has_no_limit)
{
	struct epcg_misc_cg *a;
	struct epcg_misc *m;
	char *text;

	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, RES, 1 << 20));
	/* Only the root: no limit or events families at all. */
	text = render(m, NULL);
	ASSERT_FALSE(strstr(text, "limit_bytes"));
	ASSERT_FALSE(strstr(text, "events"));
	ASSERT_LINE(text, "epcg_sgx_epc_used_bytes{cgroup=\"/\"} 0");
	free(text);

	a = mkmisc(epcg_misc_root(m), "a");
	text = render(m, NULL);
	ASSERT_LINE(text, "epcg_sgx_epc_limit_bytes{cgroup=\"/a\"} 0");
	ASSERT_FALSE(strstr(text, "limit_bytes{cgroup=\"/\"}"));
	free(text);
	ASSERT_OK(epcg_misc_set_max(a, RES, EPCG_MISC_MAX - 1));
	text = render(m, NULL);
	ASSERT_LINE(text, "epcg_sgx_epc_limit_bytes{cgroup=\"/a\"} "
			  "18446744073709551614");
	free(text);
	ASSERT_OK(epcg_misc_cg_remove(a));
	epcg_misc_destroy(m);
}

TEST(counters_follow_charges_and_events)
{
	struct epcg_misc_cg *p, *c1, *c2;
	struct epcg_misc *m;
	char *text;

	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, RES, 64 * PG));
	p = mkmisc(epcg_misc_root(m), "p");
	c1 = mkmisc(p, "c1");
	c2 = mkmisc(p, "c2");
	ASSERT_OK(epcg_misc_set_max(p, RES, 10 * PG));
	ASSERT_OK(epcg_misc_set_max(c2, RES, 2 * PG));
	ASSERT_OK(epcg_misc_try_charge(RES, c1, 7 * PG, NULL));
	ASSERT_OK(epcg_misc_try_charge(RES, c2, 2 * PG, NULL));
	/* c2's own limit refuses twice, p's limit once (for c1). */
	ASSERT_ERR(epcg_misc_try_charge(RES, c2, PG, NULL), EBUSY);
	ASSERT_ERR(epcg_misc_try_charge(RES, c2, PG, NULL), EBUSY);
	ASSERT_ERR(epcg_misc_try_charge(RES, c1, 2 * PG, NULL), EBUSY);
	epcg_misc_uncharge(RES, c1, 3 * PG);

	text = render(m, NULL);
	ASSERT_LINE(text, "epcg_sgx_epc_used_bytes{cgroup=\"/\"} 24576");
	ASSERT_LINE(text, "epcg_sgx_epc_used_bytes{cgroup=\"/p\"} 24576");
	ASSERT_LINE(text, "epcg_sgx_epc_used_bytes{cgroup=\"/p/c1\"} 16384");
	ASSERT_LINE(text, "epcg_sgx_epc_peak_bytes{cgroup=\"/p\"} 36864");
	ASSERT_LINE(text, "epcg_sgx_epc_peak_bytes{cgroup=\"/p/c1\"} 36864");
	ASSERT_LINE(text, "epcg_sgx_epc_limit_bytes{cgroup=\"/p/c2\"} 8192");
	ASSERT_LINE(text, "epcg_sgx_epc_events_total{cgroup=\"/p\","
			  "event=\"max\"} 3");
	ASSERT_LINE(text, "epcg_sgx_epc_events_local_total{cgroup=\"/p\","
			  "event=\"max\"} 1");
	ASSERT_LINE(text, "epcg_sgx_epc_events_total{cgroup=\"/p/c2\","
			  "event=\"max\"} 2");
	ASSERT_LINE(text, "epcg_sgx_epc_events_local_total{cgroup=\"/p/c2\","
			  "event=\"max\"} 2");
	ASSERT_LINE(text, "epcg_sgx_epc_events_total{cgroup=\"/p/c1\","
			  "event=\"max\"} 0");
	free(text);
	epcg_misc_uncharge(RES, c1, 4 * PG);
	epcg_misc_uncharge(RES, c2, 2 * PG);
	ASSERT_OK(epcg_misc_cg_remove(c2));
	ASSERT_OK(epcg_misc_cg_remove(c1));
	ASSERT_OK(epcg_misc_cg_remove(p));
	epcg_misc_destroy(m);
}

/* Paging counters move with real reclaim: evictions show per cgroup. */
TEST(paging_counters_follow_reclaim)
{
	struct fake_page *fps[8], *extra;
	struct epcg_sgx_stats st;
	struct epcg_misc_cg *t;
	char line[128], *text;
	struct sfx f;

	sfx_setup(&f, 64);
	t = mkcg(&f, f.root, "t");
	set_max_pages(t, 8);
	fake_fill(&f, t, FAKE_REG, 8, fps);
	/* The ninth page of /t must reclaim one of its own. */
	ASSERT_OK(fake_alloc(&f, t, FAKE_REG, EPCG_EPC_RECLAIM, &extra));
	ASSERT_OK(epcg_sgx_cg_stats(t, &st));
	ASSERT_CMP(st.ewb, >=, 1);
	text = render(f.m, f.sgx);
	snprintf(line, sizeof(line),
		 "epcg_sgx_epc_evicted_pages_total{cgroup=\"/t\"} %" PRIu64,
		 st.ewb);
	ASSERT_LINE(text, line);
	snprintf(line, sizeof(line),
		 "epcg_sgx_epc_reclaim_scanned_pages_total{cgroup=\"/t\"} "
		 "%" PRIu64,
		 st.reclaim_scans);
	ASSERT_LINE(text, line);
	epcg_sgx_stats(f.sgx, &st);
	snprintf(line, sizeof(line), "epcg_sgx_evicted_pages_total %" PRIu64,
		 st.ewb);
	ASSERT_LINE(text, line);
	free(text);
	fake_release(&f, extra);
	fake_release_all(&f, fps, 8);
	sfx_check(&f);
	sfx_teardown(&f);
}

TEST(other_misc_resources_render_when_present)
{
	struct epcg_misc_cg *a;
	struct epcg_misc *m;
	char *text;

	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, SEV, 10));
	a = mkmisc(epcg_misc_root(m), "a");
	ASSERT_OK(epcg_misc_set_max(a, SEV, 3));
	ASSERT_OK(epcg_misc_try_charge(SEV, a, 2, NULL));
	ASSERT_ERR(epcg_misc_try_charge(SEV, a, 2, NULL), EBUSY);

	text = render(m, NULL);
	/* sgx_epc and sev_es have capacity 0: not present, not rendered. */
	ASSERT_FALSE(strstr(text, "sgx_epc"));
	ASSERT_FALSE(strstr(text, "sev_es"));
	ASSERT_STREQ(
		text,
		"# HELP epcg_misc_capacity Amount of the misc resource the "
		"host has (misc.capacity).\n"
		"# TYPE epcg_misc_capacity gauge\n"
		"epcg_misc_capacity{resource=\"sev\"} 10\n"
		"# HELP epcg_misc_usage Amount of the misc resource charged "
		"to the cgroup and its descendants (misc.current).\n"
		"# TYPE epcg_misc_usage gauge\n"
		"epcg_misc_usage{cgroup=\"/\",resource=\"sev\"} 2\n"
		"epcg_misc_usage{cgroup=\"/a\",resource=\"sev\"} 2\n"
		"# HELP epcg_misc_limit Limit of the misc resource "
		"(misc.max); 0 means no limit (max).\n"
		"# TYPE epcg_misc_limit gauge\n"
		"epcg_misc_limit{cgroup=\"/a\",resource=\"sev\"} 3\n"
		"# HELP epcg_misc_peak Highest usage of the misc resource "
		"(misc.peak).\n"
		"# TYPE epcg_misc_peak gauge\n"
		"epcg_misc_peak{cgroup=\"/\",resource=\"sev\"} 2\n"
		"epcg_misc_peak{cgroup=\"/a\",resource=\"sev\"} 2\n"
		"# HELP epcg_misc_events_total Charges refused by the limit "
		"of the cgroup or of a descendant (misc.events).\n"
		"# TYPE epcg_misc_events_total counter\n"
		"epcg_misc_events_total{cgroup=\"/a\",resource=\"sev\","
		"event=\"max\"} 1\n"
		"# HELP epcg_misc_events_local_total Charges refused by the "
		"limit of this cgroup itself (misc.events.local).\n"
		"# TYPE epcg_misc_events_local_total counter\n"
		"epcg_misc_events_local_total{cgroup=\"/a\",resource=\"sev\","
		"event=\"max\"} 1\n");
	free(text);

	/* Both generic resources: cgroup-major, then M1 order. */
	ASSERT_OK(epcg_misc_set_capacity(m, SEV_ES, 5));
	text = render(m, NULL);
	ASSERT_TRUE(strstr(text,
			   "epcg_misc_capacity{resource=\"sev\"} 10\n"
			   "epcg_misc_capacity{resource=\"sev_es\"} 5\n"));
	ASSERT_TRUE(strstr(
		text, "epcg_misc_usage{cgroup=\"/\",resource=\"sev\"} 2\n"
		      "epcg_misc_usage{cgroup=\"/\",resource=\"sev_es\"} 0\n"
		      "epcg_misc_usage{cgroup=\"/a\",resource=\"sev\"} 2\n"
		      "epcg_misc_usage{cgroup=\"/a\",resource=\"sev_es\"} "
		      "0\n"));
	free(text);
	epcg_misc_uncharge(SEV, a, 2);
	ASSERT_OK(epcg_misc_cg_remove(a));
	epcg_misc_destroy(m);
}

/* A removed cgroup still referenced is left out; its path can be reused. */
TEST(dying_cgroups_are_left_out)
{
	struct epcg_misc_cg *a, *a2;
	struct epcg_misc *m;
	char *text;

	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, RES, 1 << 20));
	a = mkmisc(epcg_misc_root(m), "a");
	ASSERT_OK(epcg_misc_try_charge(RES, a, PG, NULL));
	epcg_misc_cg_get(a);
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_TRUE(epcg_misc_cg_is_dying(a));
	a2 = mkmisc(epcg_misc_root(m), "a");

	text = render(m, NULL);
	ASSERT_EQ(count_lines(text, "epcg_sgx_epc_used_bytes{cgroup=\"/a\"}"),
		  1);
	ASSERT_LINE(text, "epcg_sgx_epc_used_bytes{cgroup=\"/a\"} 0");
	/* What the dying one holds still counts in the root. */
	ASSERT_LINE(text, "epcg_sgx_epc_used_bytes{cgroup=\"/\"} 4096");
	free(text);
	epcg_misc_uncharge(RES, a, PG);
	epcg_misc_cg_put(a);
	ASSERT_OK(epcg_misc_cg_remove(a2));
	epcg_misc_destroy(m);
}

/* A chain deeper than any stack of fixed size, and its paths. */
TEST(deep_paths)
{
	enum { DEPTH = 2000 };
	struct epcg_misc_cg **cgs = calloc(DEPTH, sizeof(*cgs));
	struct epcg_misc_cg *parent;
	struct epcg_misc *m;
	char *text, *want, *p;

	ASSERT_NOT_NULL(cgs);
	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, RES, 1 << 20));
	parent = epcg_misc_root(m);
	for (int i = 0; i < DEPTH; i++)
		parent = cgs[i] = mkmisc(parent, i % 2 ? "o" : "e");
	text = render(m, NULL);
	want = malloc(2 * DEPTH + 64);
	ASSERT_NOT_NULL(want);
	p = want + sprintf(want, "epcg_sgx_epc_used_bytes{cgroup=\"");
	for (int i = 0; i < DEPTH; i++)
		p += sprintf(p, "/%s", i % 2 ? "o" : "e");
	sprintf(p, "\"} 0");
	ASSERT_LINE(text, want);
	ASSERT_EQ(count_lines(text, "epcg_sgx_epc_used_bytes{"), DEPTH + 1);
	free(want);
	free(text);
	for (int i = DEPTH - 1; i >= 0; i--)
		ASSERT_OK(epcg_misc_cg_remove(cgs[i]));
	free(cgs);
	epcg_misc_destroy(m);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100 children of the root with 100 children each: 10,101 cgroups. */
TEST(render_10000_cgroups)
{
	enum { FAN = 100 };
	struct epcg_misc_cg **cgs = calloc(FAN * (FAN + 1), sizeof(*cgs));
	struct epcg_metrics_source src;
	struct epcg_metrics_buf b;
	unsigned nr = 0;
	double t0, t1;
	struct sfx f;

	ASSERT_NOT_NULL(cgs);
	sfx_setup(&f, 256);
	for (int i = 0; i < FAN; i++) {
		char name[16];
		struct epcg_misc_cg *p;

		snprintf(name, sizeof(name), "t%d", i);
		p = cgs[nr++] = mkmisc(f.root, name);
		for (int j = 0; j < FAN; j++) {
			snprintf(name, sizeof(name), "c%d", j);
			cgs[nr++] = mkmisc(p, name);
		}
	}
	src = (struct epcg_metrics_source){ .misc = f.m, .sgx = f.sgx };
	epcg_metrics_buf_init(&b);
	t0 = now_s();
	ASSERT_OK(epcg_metrics_render(&src, &b));
	t1 = now_s();
	epcg_test_note("10101 cgroups: %zu bytes in %.1f ms", b.len,
		       (t1 - t0) * 1e3);
	ASSERT_EQ(count_lines(b.data, "epcg_sgx_epc_used_bytes{"), nr + 1);
	ASSERT_EQ(count_lines(b.data, "epcg_sgx_epc_paging_seconds_total{"),
		  nr + 1);
	ASSERT_EQ(count_lines(b.data, "epcg_sgx_epc_limit_bytes{"), nr);
	ASSERT_LINE(b.data, "epcg_sgx_epc_used_bytes{cgroup=\"/t99/c99\"} 0");
	ASSERT_EQ(check_exposition(b.data), 22);
	/* A second render into the same buffer appends the same text. */
	{
		size_t len = b.len;

		ASSERT_OK(epcg_metrics_render(&src, &b));
		ASSERT_EQ(b.len, 2 * len);
		ASSERT_MEMEQ(b.data, b.data + len, len);
	}
	epcg_metrics_buf_finish(&b);
	while (nr--)
		ASSERT_OK(epcg_misc_cg_remove(cgs[nr]));
	free(cgs);
	sfx_teardown(&f);
}

/*
 * Renders racing cgroup creation, removal (with pages held, so cgroups
 * die and are freed while the walk runs), charges and reclaim.  Every
 * render must succeed and parse; ASan and TSan check the rest.
 */
struct race {
	struct sfx *f;
	epcg_atomic(bool) stop;
	unsigned renders;
};

static void *race_render(void *arg)
{
	struct race *r = arg;
	struct epcg_metrics_source src = { .misc = r->f->m, .sgx = r->f->sgx };
	struct epcg_metrics_buf b;

	epcg_metrics_buf_init(&b);
	while (!epcg_atomic_load_relaxed(&r->stop)) {
		epcg_metrics_buf_reset(&b);
		ASSERT_OK(epcg_metrics_render(&src, &b));
		ASSERT_EQ(count_lines(b.data,
				      "# TYPE epcg_sgx_epc_used_bytes "),
			  1);
		ASSERT_TRUE(
			has_line(b.data, "epcg_sgx_epc_capacity_bytes 262144"));
		r->renders++;
	}
	epcg_metrics_buf_finish(&b);
	return NULL;
}

TEST(render_races_tree_changes)
{
	struct race r = { 0 };
	uint64_t seed = epcg_test_seed();
	double end;
	pthread_t th;
	struct sfx f;
	unsigned rounds = 0;

	sfx_setup(&f, 64);
	r.f = &f;
	ASSERT_EQ(pthread_create(&th, NULL, race_render, &r), 0);
	end = now_s() + epcg_test_stress_seconds(1.0) / 4;
	while (now_s() < end || rounds < 20) {
		struct fake_page *fps[4];
		struct epcg_misc_cg *a, *b;
		unsigned n = 1 + (unsigned)(epcg_test_rand(&seed) % 4);

		ASSERT_OK(epcg_misc_cg_create(f.root, "a", &a));
		ASSERT_OK(epcg_misc_cg_create(a, "b", &b));
		set_max_pages(b, 2);
		fake_fill(&f, b, FAKE_REG, n > 2 ? 2 : n, fps);
		/* Remove while the pages hold references: b dies first. */
		epcg_misc_task_attach(&f.task, NULL);
		ASSERT_OK(epcg_misc_cg_remove(b));
		ASSERT_OK(epcg_misc_cg_remove(a));
		fake_release_all(&f, fps, n > 2 ? 2 : n);
		epcg_exec_flush(f.ex);
		rounds++;
	}
	epcg_atomic_store_relaxed(&r.stop, true);
	ASSERT_EQ(pthread_join(th, NULL), 0);
	epcg_test_note("%u tree rounds, %u renders", rounds, r.renders);
	ASSERT_CMP(r.renders, >, 0);
	sfx_check(&f);
	sfx_teardown(&f);
}

/* ---- the textfile writer ---------------------------------------------------- */

static char *tmpdir(void)
{
	char *dir = strdup("/tmp/epcg-metrics-XXXXXX");

	ASSERT_NOT_NULL(dir);
	ASSERT_NOT_NULL(mkdtemp(dir));
	return dir;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	s = malloc((size_t)n + 1);
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(fread(s, 1, (size_t)n, fp), (size_t)n);
	s[n] = '\0';
	fclose(fp);
	return s;
}

static unsigned dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	ASSERT_NOT_NULL(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

TEST(textfile_write_replaces_and_cleans_up)
{
	char *dir = tmpdir(), path[256], bad[256], *s;
	char *long_path = malloc(PATH_MAX + 16);
	struct stat st;

	ASSERT_NOT_NULL(long_path);
	snprintf(path, sizeof(path), "%s/epcg.prom", dir);
	ASSERT_OK(epcg_metrics_write_file(path, "a 1\n", 4));
	s = slurp(path);
	ASSERT_STREQ(s, "a 1\n");
	free(s);
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 0600, 0600);
	ASSERT_OK(epcg_metrics_write_file(path, "b 2\nc 3\n", 8));
	s = slurp(path);
	ASSERT_STREQ(s, "b 2\nc 3\n");
	free(s);
	ASSERT_OK(epcg_metrics_write_file(path, NULL, 0));
	s = slurp(path);
	ASSERT_STREQ(s, "");
	free(s);
	/* No temporary left behind. */
	ASSERT_EQ(dir_entries(dir), 1);

	snprintf(bad, sizeof(bad), "%s/missing/epcg.prom", dir);
	ASSERT_ERR(epcg_metrics_write_file(bad, "x", 1), ENOENT);
	ASSERT_ERR(epcg_metrics_write_file("", "x", 1), EINVAL);
	ASSERT_ERR(epcg_metrics_write_file(NULL, "x", 1), EINVAL);
	ASSERT_ERR(epcg_metrics_write_file(path, NULL, 1), EINVAL);
	memset(long_path, 'x', PATH_MAX + 8);
	long_path[0] = '/';
	long_path[PATH_MAX + 8] = '\0';
	ASSERT_ERR(epcg_metrics_write_file(long_path, "x", 1), ENAMETOOLONG);
	/* The destination is a directory: rename fails, nothing is left. */
	snprintf(bad, sizeof(bad), "%s/sub.prom", dir);
	ASSERT_OK(mkdir(bad, 0755));
	ASSERT_ERR(epcg_metrics_write_file(bad, "x", 1), EISDIR);
	ASSERT_EQ(dir_entries(dir), 2);
	s = slurp(path);
	ASSERT_STREQ(s, "");
	free(s);

	rmdir(bad);
	unlink(path);
	ASSERT_OK(rmdir(dir));
	free(long_path);
	free(dir);
}

/*
 * A reader process opens and reads the file as fast as it can while the
 * writer alternates two contents of different sizes: every read must be
 * exactly one of the two (never empty, never a mix).
 */
TEST(textfile_readers_never_see_a_partial_file)
{
	enum { SMALL = 100, BIG = 256 * 1024, WRITES = 300 };
	char *dir = tmpdir(), path[256], *small, *big;
	int status, pipefd[2];
	pid_t pid;

	small = malloc(SMALL);
	big = malloc(BIG);
	ASSERT_TRUE(small && big);
	memset(small, 's', SMALL);
	memset(big, 'b', BIG);
	snprintf(path, sizeof(path), "%s/epcg.prom", dir);
	ASSERT_OK(epcg_metrics_write_file(path, small, SMALL));
	ASSERT_OK(pipe(pipefd));

	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		char *buf = malloc(BIG + 1), c;
		unsigned bad = 0;

		close(pipefd[1]);
		fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
		while (read(pipefd[0], &c, 1) < 0) {
			int fd = open(path, O_RDONLY);
			size_t got = 0;
			ssize_t n;

			if (fd < 0) {
				bad++;
				continue;
			}
			while ((n = read(fd, buf + got, BIG + 1 - got)) > 0)
				got += (size_t)n;
			close(fd);
			if (got == SMALL)
				bad += memcmp(buf, small, SMALL) != 0;
			else if (got == BIG)
				bad += memcmp(buf, big, BIG) != 0;
			else
				bad++;
		}
		_exit(bad ? 1 : 0);
	}
	close(pipefd[0]);
	for (int i = 0; i < WRITES; i++)
		ASSERT_OK(epcg_metrics_write_file(path, i % 2 ? small : big,
						  i % 2 ? SMALL : BIG));
	ASSERT_EQ(write(pipefd[1], "x", 1), 1);
	close(pipefd[1]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	unlink(path);
	ASSERT_EQ(dir_entries(dir), 0);
	ASSERT_OK(rmdir(dir));
	free(small);
	free(big);
	free(dir);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(buf_grows_resets_and_finishes),
	TEST_ENTRY(header_and_sample_lines),
	TEST_ENTRY(bad_names_are_refused_without_output),
	TEST_ENTRY(label_values_and_help_are_escaped),
	TEST_ENTRY(durations_print_as_exact_seconds),
	TEST_ENTRY(render_refuses_bad_arguments),
	TEST_ENTRY(render_misc_tree_golden),
	TEST_ENTRY(render_machine_golden),
	TEST_ENTRY(exposition_is_well_formed),
	TEST_ENTRY(cgroups_in_preorder_and_output_deterministic),
	TEST_ENTRY(unset_limit_is_zero_and_root_has_no_limit),
	TEST_ENTRY(counters_follow_charges_and_events),
	TEST_ENTRY(paging_counters_follow_reclaim),
	TEST_ENTRY(other_misc_resources_render_when_present),
	TEST_ENTRY(dying_cgroups_are_left_out),
	TEST_ENTRY(deep_paths),
	TEST_ENTRY(render_10000_cgroups),
	TEST_ENTRY(render_races_tree_changes),
	TEST_ENTRY(textfile_write_replaces_and_cleans_up),
	TEST_ENTRY(textfile_readers_never_see_a_partial_file),
};

TEST_MAIN(tests)
