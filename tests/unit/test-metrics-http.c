// SPDX-License-Identifier: MIT
/*
 * Unit tests of the metrics HTTP endpoint (lib/metrics/http*.c), talking
 * to it with a plain socket client: status lines, headers and bodies of
 * /metrics, other paths and other methods; the loopback-only policy and
 * the errors of a failed start; "ADDR:PORT" parsing; renders never running
 * concurrently; stopping with connections open.  In a build without
 * libmicrohttpd the server tests are skipped (the stub refuses to start).
 * Every socket has a receive timeout, so a misbehaving server fails a
 * test instead of hanging it.
 */
#include <time.h>

#include <arpa/inet.h>
#include <epcg/metrics.h>
#include <epcg/misc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "util/atomic.h"
#include "util/macros.h"

#define RES EPCG_MISC_RES_SGX_EPC

/* ---- a tiny HTTP client ------------------------------------------------- */

struct reply {
	int status;
	char content_type[128];
	char allow[64];
	char *body;
	size_t body_len;
};

static int connect_to(int family, uint16_t port)
{
	struct timeval tv = { 5, 0 };
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(port),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err;

	ASSERT_TRUE(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (family == AF_INET)
		err = connect(fd, (struct sockaddr *)&in, sizeof(in));
	else
		err = connect(fd, (struct sockaddr *)&in6, sizeof(in6));
	ASSERT_OK(err ? -errno : 0);
	return fd;
}

/* The value of header @name in the header block @hdrs, into @out. */
static void header(const char *hdrs, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *l = hdrs; l && *l; l = strstr(l, "\r\n")) {
		if (l[0] == '\r')
			l += 2;
		if (!strncasecmp(l, name, n) && l[n] == ':') {
			const char *v = l + n + 1, *end = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)(end - v), v);
			return;
		}
	}
}

/* Send @request (a whole HTTP/1.1 request) and read the reply to EOF. */
static void exchange(int family, uint16_t port, const char *request,
		     struct reply *r)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), *end;
	int fd = connect_to(family, port);
	ssize_t n;

	ASSERT_NOT_NULL(buf);
	ASSERT_EQ(write(fd, request, strlen(request)), strlen(request));
	for (;;) {
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ASSERT_NOT_NULL(buf);
		}
		n = read(fd, buf + len, cap - len - 1);
		ASSERT_TRUE(n >= 0); /* not a timeout */
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	memset(r, 0, sizeof(*r));
	ASSERT_EQ(sscanf(buf, "HTTP/1.1 %d ", &r->status), 1);
	end = strstr(buf, "\r\n\r\n");
	ASSERT_NOT_NULL(end);
	end[2] = '\0'; /* keep the last header's CRLF */
	header(buf, "Content-Type", r->content_type, sizeof(r->content_type));
	header(buf, "Allow", r->allow, sizeof(r->allow));
	r->body_len = len - (size_t)(end + 4 - buf);
	r->body = malloc(r->body_len + 1);
	ASSERT_NOT_NULL(r->body);
	memcpy(r->body, end + 4, r->body_len);
	r->body[r->body_len] = '\0';
	free(buf);
}

static void get(uint16_t port, const char *method, const char *path,
		struct reply *r)
{
	char req[256];

	snprintf(req, sizeof(req),
		 "%s %s HTTP/1.1\r\nHost: localhost\r\n"
		 "Connection: close\r\n\r\n",
		 method, path);
	exchange(AF_INET, port, req, r);
}

/* ---- fixtures ---- */

struct tree {
	struct epcg_misc *m;
	struct epcg_misc_cg *a;
	struct epcg_metrics_source src;
};

static void tree_setup(struct tree *t)
{
	ASSERT_OK(epcg_misc_create(&t->m));
	ASSERT_OK(epcg_misc_set_capacity(t->m, RES, 1 << 20));
	ASSERT_OK(epcg_misc_cg_create(epcg_misc_root(t->m), "a", &t->a));
	t->src = (struct epcg_metrics_source){ .misc = t->m };
}

static void tree_teardown(struct tree *t)
{
	ASSERT_OK(epcg_misc_cg_remove(t->a));
	epcg_misc_destroy(t->m);
}

static char *render_now(struct tree *t)
{
	struct epcg_metrics_buf b;

	epcg_metrics_buf_init(&b);
	ASSERT_OK(epcg_metrics_render(&t->src, &b));
	return b.data;
}

/* Start on 127.0.0.1 and a free port, or skip without libmicrohttpd. */
static struct epcg_metrics_http *start(epcg_metrics_render_fn *fn, void *data)
{
	struct epcg_metrics_http *h;
	int err = epcg_metrics_http_start(
		"127.0.0.1", 0, EPCG_METRICS_BIND_LOOPBACK, fn, data, &h);

	if (err == -EOPNOTSUPP)
		epcg_test_skip("built without libmicrohttpd");
	ASSERT_OK(err);
	ASSERT_NOT_NULL(h);
	ASSERT_NE(epcg_metrics_http_port(h), 0);
	return h;
}

/* ---- tests ---- */

TEST(get_metrics_returns_the_exposition)
{
	struct epcg_metrics_http *h;
	struct reply r;
	struct tree t;
	char *want;

	tree_setup(&t);
	h = start(epcg_metrics_source_render, &t.src);
	get(epcg_metrics_http_port(h), "GET", "/metrics", &r);
	ASSERT_EQ(r.status, 200);
	ASSERT_STREQ(r.content_type,
		     "text/plain; version=0.0.4; charset=utf-8");
	want = render_now(&t);
	ASSERT_STREQ(r.body, want);
	ASSERT_TRUE(
		strstr(r.body, "epcg_sgx_epc_used_bytes{cgroup=\"/a\"} 0\n"));
	free(want);
	free(r.body);

	/* Every scrape renders afresh. */
	ASSERT_OK(epcg_misc_try_charge(RES, t.a, 8192, NULL));
	get(epcg_metrics_http_port(h), "GET", "/metrics?x=1", &r);
	ASSERT_EQ(r.status, 200);
	ASSERT_TRUE(strstr(r.body,
			   "epcg_sgx_epc_used_bytes{cgroup=\"/a\"} 8192\n"));
	free(r.body);
	epcg_misc_uncharge(RES, t.a, 8192);

	epcg_metrics_http_stop(h);
	tree_teardown(&t);
}

TEST(other_paths_404_other_methods_405)
{
	static const char *const paths[] = { "/", "/metrics/", "/metricsx",
					     "/favicon.ico" };
	static const char *const methods[] = { "POST", "PUT", "DELETE",
					       "OPTIONS" };
	struct epcg_metrics_http *h;
	struct reply r;
	struct tree t;
	uint16_t port;

	tree_setup(&t);
	h = start(epcg_metrics_source_render, &t.src);
	port = epcg_metrics_http_port(h);
	for (size_t i = 0; i < EPCG_ARRAY_SIZE(paths); i++) {
		get(port, "GET", paths[i], &r);
		ASSERT_EQ(r.status, 404);
		free(r.body);
	}
	for (size_t i = 0; i < EPCG_ARRAY_SIZE(methods); i++) {
		get(port, methods[i], "/metrics", &r);
		ASSERT_EQ(r.status, 405);
		ASSERT_STREQ(r.allow, "GET, HEAD");
		free(r.body);
	}
	/* A request with a body gets its 405 too. */
	exchange(AF_INET, port,
		 "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Length: 5\r\n\r\nhello",
		 &r);
	ASSERT_EQ(r.status, 405);
	free(r.body);
	/* HEAD: the headers of GET, no body. */
	get(port, "HEAD", "/metrics", &r);
	ASSERT_EQ(r.status, 200);
	ASSERT_STREQ(r.content_type, EPCG_METRICS_CONTENT_TYPE);
	ASSERT_EQ(r.body_len, 0);
	free(r.body);
	epcg_metrics_http_stop(h);
	tree_teardown(&t);
}

static int failing_render(struct epcg_metrics_buf *b, void *data)
{
	return -EIO;
}

TEST(failed_render_is_500)
{
	struct epcg_metrics_http *h = start(failing_render, NULL);
	struct reply r;

	get(epcg_metrics_http_port(h), "GET", "/metrics", &r);
	ASSERT_EQ(r.status, 500);
	free(r.body);
	epcg_metrics_http_stop(h);
}

static int empty_render(struct epcg_metrics_buf *b, void *data)
{
	return 0;
}

TEST(empty_exposition_is_200)
{
	struct epcg_metrics_http *h = start(empty_render, NULL);
	struct reply r;

	get(epcg_metrics_http_port(h), "GET", "/metrics", &r);
	ASSERT_EQ(r.status, 200);
	ASSERT_EQ(r.body_len, 0);
	free(r.body);
	epcg_metrics_http_stop(h);
}

TEST(non_loopback_addresses_are_refused)
{
	static const char *const refused[] = {
		"0.0.0.0",     "10.1.2.3",	  "::",
		"2001:db8::1", "::ffff:10.0.0.1", "128.0.0.1"
	};
	static const char *const invalid[] = { "example.com", "", "1.2.3",
					       "127.0.0.1:80" };
	struct epcg_metrics_http *h = start(empty_render, NULL);
	int err;

	epcg_metrics_http_stop(h);
	for (size_t i = 0; i < EPCG_ARRAY_SIZE(refused); i++) {
		h = (void *)1;
		ASSERT_ERR(epcg_metrics_http_start(refused[i], 0,
						   EPCG_METRICS_BIND_LOOPBACK,
						   empty_render, NULL, &h),
			   EPERM);
		ASSERT_NULL(h);
	}
	for (size_t i = 0; i < EPCG_ARRAY_SIZE(invalid); i++)
		ASSERT_ERR(epcg_metrics_http_start(invalid[i], 0,
						   EPCG_METRICS_BIND_ANY,
						   empty_render, NULL, &h),
			   EINVAL);
	/* Other loopback spellings are fine. */
	ASSERT_OK(epcg_metrics_http_start("localhost", 0,
					  EPCG_METRICS_BIND_LOOPBACK,
					  empty_render, NULL, &h));
	epcg_metrics_http_stop(h);
	ASSERT_OK(epcg_metrics_http_start("127.0.0.2", 0,
					  EPCG_METRICS_BIND_LOOPBACK,
					  empty_render, NULL, &h));
	epcg_metrics_http_stop(h);
	ASSERT_OK(epcg_metrics_http_start("::ffff:127.0.0.1", 0,
					  EPCG_METRICS_BIND_LOOPBACK,
					  empty_render, NULL, &h));
	epcg_metrics_http_stop(h);
	/* Allowed on purpose, then it is up to the host: not ours here. */
	err = epcg_metrics_http_start("192.0.2.1", 0, EPCG_METRICS_BIND_ANY,
				      empty_render, NULL, &h);
	ASSERT_EQ(err, -EADDRNOTAVAIL);
}

TEST(ipv6_loopback)
{
	struct epcg_metrics_http *h;
	struct reply r;
	int err = epcg_metrics_http_start("::1", 0, EPCG_METRICS_BIND_LOOPBACK,
					  empty_render, NULL, &h);

	if (err == -EOPNOTSUPP)
		epcg_test_skip("built without libmicrohttpd");
	if (err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL)
		epcg_test_skip("no IPv6 loopback here");
	ASSERT_OK(err);
	exchange(
		AF_INET6, epcg_metrics_http_port(h),
		"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		&r);
	ASSERT_EQ(r.status, 200);
	free(r.body);
	epcg_metrics_http_stop(h);
}

TEST(start_errors)
{
	struct epcg_metrics_http *a = start(empty_render, NULL), *b;

	ASSERT_ERR(epcg_metrics_http_start(
			   "127.0.0.1", epcg_metrics_http_port(a),
			   EPCG_METRICS_BIND_LOOPBACK, empty_render, NULL, &b),
		   EADDRINUSE);
	ASSERT_ERR(epcg_metrics_http_start(NULL, 0, EPCG_METRICS_BIND_LOOPBACK,
					   empty_render, NULL, &b),
		   EINVAL);
	ASSERT_ERR(epcg_metrics_http_start("127.0.0.1", 0,
					   EPCG_METRICS_BIND_LOOPBACK, NULL,
					   NULL, &b),
		   EINVAL);
	ASSERT_ERR(epcg_metrics_http_start("127.0.0.1", 0, EPCG_METRICS_BIND_NR,
					   empty_render, NULL, &b),
		   EINVAL);
	ASSERT_ERR(epcg_metrics_http_start("127.0.0.1", 0,
					   EPCG_METRICS_BIND_LOOPBACK,
					   empty_render, NULL, NULL),
		   EINVAL);
	epcg_metrics_http_stop(a);
	epcg_metrics_http_stop(NULL);
}

TEST(listen_spec_parsing)
{
	static const struct {
		const char *spec;
		int err;
		const char *addr;
		uint16_t port;
	} cases[] = {
		{ "127.0.0.1:9464", 0, "127.0.0.1", 9464 },
		{ "localhost:80", 0, "localhost", 80 },
		{ "[::1]:9464", 0, "::1", 9464 },
		{ ":9464", 0, "127.0.0.1", 9464 },
		{ "127.0.0.1:0", 0, "127.0.0.1", 0 },
		{ "127.0.0.1:65535", 0, "127.0.0.1", 65535 },
		{ "127.0.0.1:65536", -EINVAL, NULL, 0 },
		{ "127.0.0.1:", -EINVAL, NULL, 0 },
		{ "127.0.0.1", -EINVAL, NULL, 0 },
		{ "127.0.0.1:9x", -EINVAL, NULL, 0 },
		{ "127.0.0.1:-1", -EINVAL, NULL, 0 },
		{ "::1:9464", -EINVAL, NULL, 0 },
		{ "[::1]9464", -EINVAL, NULL, 0 },
		{ "[::1:9464", -EINVAL, NULL, 0 },
		{ "[]:9464", -EINVAL, NULL, 0 },
		{ "a]:9464", -EINVAL, NULL, 0 },
	};
	char addr[64];
	uint16_t port;

	for (size_t i = 0; i < EPCG_ARRAY_SIZE(cases); i++) {
		int err = epcg_metrics_listen_parse(cases[i].spec, addr,
						    sizeof(addr), &port);

		if (err != cases[i].err)
			epcg_test_fail(__FILE__, __LINE__, "\"%s\": got %d",
				       cases[i].spec, err);
		if (err)
			continue;
		ASSERT_STREQ(addr, cases[i].addr);
		ASSERT_EQ(port, cases[i].port);
	}
	ASSERT_ERR(epcg_metrics_listen_parse("127.0.0.1:1", addr, 9, &port),
		   ENAMETOOLONG);
	ASSERT_OK(epcg_metrics_listen_parse("127.0.0.1:1", addr, 10, &port));
	ASSERT_ERR(epcg_metrics_listen_parse(NULL, addr, 10, &port), EINVAL);
}

/* Many clients at once; the renderer must never run twice at a time. */
struct conc {
	epcg_atomic(int) inside;
	epcg_atomic(int) max_inside;
	epcg_atomic(int) calls;
	uint16_t port;
};

static int slow_render(struct epcg_metrics_buf *b, void *data)
{
	struct conc *c = data;
	struct timespec ts = { 0, 1000000 };
	int now = epcg_atomic_fetch_add_relaxed(&c->inside, 1) + 1;
	int max = epcg_atomic_load_relaxed(&c->max_inside);

	while (now > max && !epcg_atomic_cas_acq_rel(&c->max_inside, &max, now))
		;
	nanosleep(&ts, NULL);
	epcg_atomic_fetch_add_relaxed(&c->calls, 1);
	epcg_atomic_fetch_sub_relaxed(&c->inside, 1);
	return epcg_metrics_write_u64(b, "x", NULL, 0, 1);
}

static void *client(void *arg)
{
	struct conc *c = arg;

	for (int i = 0; i < 10; i++) {
		struct reply r;

		get(c->port, "GET", "/metrics", &r);
		ASSERT_EQ(r.status, 200);
		ASSERT_STREQ(r.body, "x 1\n");
		free(r.body);
	}
	return NULL;
}

TEST(renders_never_overlap)
{
	struct conc c = { 0 };
	struct epcg_metrics_http *h = start(slow_render, &c);
	pthread_t th[8];

	c.port = epcg_metrics_http_port(h);
	for (size_t i = 0; i < EPCG_ARRAY_SIZE(th); i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, client, &c), 0);
	for (size_t i = 0; i < EPCG_ARRAY_SIZE(th); i++)
		ASSERT_EQ(pthread_join(th[i], NULL), 0);
	epcg_metrics_http_stop(h);
	ASSERT_EQ(epcg_atomic_load_relaxed(&c.calls), 80);
	ASSERT_EQ(epcg_atomic_load_relaxed(&c.max_inside), 1);
}

/* Stop returns promptly with idle and half-sent connections open. */
TEST(stop_with_open_connections)
{
	struct epcg_metrics_http *h = start(empty_render, NULL);
	uint16_t port = epcg_metrics_http_port(h);
	int idle = connect_to(AF_INET, port);
	int half = connect_to(AF_INET, port);
	struct reply r;

	ASSERT_EQ(write(half, "GET /met", 8), 8);
	/* The server still answers others meanwhile. */
	get(port, "GET", "/metrics", &r);
	ASSERT_EQ(r.status, 200);
	free(r.body);
	epcg_metrics_http_stop(h);
	close(idle);
	close(half);
	/* The port is free again. */
	ASSERT_OK(epcg_metrics_http_start("127.0.0.1", port,
					  EPCG_METRICS_BIND_LOOPBACK,
					  empty_render, NULL, &h));
	epcg_metrics_http_stop(h);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(get_metrics_returns_the_exposition),
	TEST_ENTRY(other_paths_404_other_methods_405),
	TEST_ENTRY(failed_render_is_500),
	TEST_ENTRY(empty_exposition_is_200),
	TEST_ENTRY(non_loopback_addresses_are_refused),
	TEST_ENTRY(ipv6_loopback),
	TEST_ENTRY(start_errors),
	TEST_ENTRY(listen_spec_parsing),
	TEST_ENTRY(renders_never_overlap),
	TEST_ENTRY(stop_with_open_connections),
};

TEST_MAIN(tests)
