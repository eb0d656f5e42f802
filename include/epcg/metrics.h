/* SPDX-License-Identifier: MIT */
/*
 * Metrics: the misc controller's tree and the SGX machine's paging counters
 * in the Prometheus text exposition format (version 0.0.4), for three
 * consumers: a scrape endpoint of the live daemon (`--metrics ADDR:PORT`),
 * a file for node_exporter's textfile collector (`--metrics-file PATH`),
 * and the simulator's `--prom FILE`.  docs/metrics.md lists every series.
 *
 * The renderer is pure library code: it reads counters and writes text
 * into a growable buffer, so the simulator gets byte-identical output for
 * identical state (fixed family order, cgroups in pre-order, resources in
 * M1 order, no timestamps).  The HTTP server is a separate part built on
 * libmicrohttpd (meson dependency `metrics_http_dep`); without that library
 * it still links and epcg_metrics_http_start() fails with -EOPNOTSUPP, so
 * front ends need no #ifdef.  The textfile writer replaces the file
 * atomically (write a temporary, then rename), as the collector requires.
 *
 * Typical use by a daemon:
 *
 *	struct epcg_metrics_source src = { .misc = m, .sgx = sgx };
 *	struct epcg_metrics_http *http;
 *
 *	err = epcg_metrics_http_start("127.0.0.1", 9464,
 *				      EPCG_METRICS_BIND_LOOPBACK,
 *				      epcg_metrics_source_render, &src, &http);
 *	...
 *	epcg_metrics_http_stop(http);
 *
 * and, every interval, for the textfile collector:
 *
 *	struct epcg_metrics_buf b;
 *
 *	epcg_metrics_buf_init(&b);
 *	err = epcg_metrics_render(&src, &b);
 *	if (!err)
 *		err = epcg_metrics_write_file(path, b.data, b.len);
 *	epcg_metrics_buf_finish(&b);
 */
#ifndef EPCG_METRICS_H
#define EPCG_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct epcg_misc;
struct epcg_sgx;

/* What the HTTP endpoint answers: Content-Type of the text format. */
#define EPCG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ---- the text buffer ------------------------------------------------- */

/**
 * struct epcg_metrics_buf - a growable text buffer.
 * @data: the text, NUL-terminated once anything was appended (NULL before).
 * @len: its length, without the NUL.
 * @cap: bytes allocated at @data.
 * @err: the first error of an append (-ENOMEM), sticky until reset: later
 *	appends do nothing, so a writer may check once at the end.
 *
 * Owned by one thread at a time; no limits but memory.
 */
struct epcg_metrics_buf {
	char *data;
	size_t len;
	size_t cap;
	int err;
};

/** epcg_metrics_buf_init() - an empty buffer (allocates nothing). */
void epcg_metrics_buf_init(struct epcg_metrics_buf *b);

/** epcg_metrics_buf_finish() - free the text; @b may be re-initialized. */
void epcg_metrics_buf_finish(struct epcg_metrics_buf *b);

/** epcg_metrics_buf_reset() - empty @b, keep its memory, clear @err. */
void epcg_metrics_buf_reset(struct epcg_metrics_buf *b);

/* ---- writing families and samples ---------------------------------------- */

/* Metric types of the text format that epcg emits. */
enum epcg_metrics_type {
	EPCG_METRICS_GAUGE,
	EPCG_METRICS_COUNTER,
	EPCG_METRICS_TYPE_NR
};

/* One label of a sample; the value is escaped when written. */
struct epcg_metrics_label {
	const char *name;
	const char *value;
};

/**
 * epcg_metrics_write_header() - start a metric family: its "# HELP" and
 * "# TYPE" lines.
 * @b: the buffer to append to.
 * @name: the family's name, [a-zA-Z_:][a-zA-Z0-9_:]*.
 * @type: gauge or counter.
 * @help: one line of text; backslashes and newlines are escaped.
 *
 * The text format wants all samples of a family right after its header
 * and each family once per exposition; the caller keeps to that.
 *
 * Context: the thread that owns @b.
 * Return: 0; -EINVAL for a bad name or type (nothing appended); -ENOMEM
 * (also left in @b->err).
 */
int epcg_metrics_write_header(struct epcg_metrics_buf *b, const char *name,
			      enum epcg_metrics_type type, const char *help);

/**
 * epcg_metrics_write_u64() - append one sample line
 * `name{l1="v1",l2="v2"} value`.
 * @b: the buffer.
 * @name: the sample's name, as for a header.
 * @labels: its labels, in the order to print them (NULL if @nr is 0).
 * @nr: how many; 0 prints no braces.
 * @value: printed as a decimal integer.
 *
 * Label values are escaped as the format says: backslash, double quote
 * and newline become \\, \" and \n; every other byte is copied.
 *
 * Context: the thread that owns @b.
 * Return: 0; -EINVAL for a bad metric or label name (nothing appended);
 * -ENOMEM (also left in @b->err).
 */
int epcg_metrics_write_u64(struct epcg_metrics_buf *b, const char *name,
			   const struct epcg_metrics_label *labels, unsigned nr,
			   uint64_t value);

/**
 * epcg_metrics_write_ns() - like epcg_metrics_write_u64(), for a duration
 * of @ns nanoseconds printed in seconds.
 *
 * Exact decimal, no floating point: 1500000000 prints "1.5", 0 prints
 * "0", 12 prints "0.000000012".
 *
 * Return: as epcg_metrics_write_u64().
 */
int epcg_metrics_write_ns(struct epcg_metrics_buf *b, const char *name,
			  const struct epcg_metrics_label *labels, unsigned nr,
			  uint64_t ns);

/* ---- rendering the tree ---------------------------------------------------- */

/**
 * struct epcg_metrics_source - what to render.
 * @misc: the misc controller (required).
 * @sgx: the SGX machine on @misc, or NULL: then only the misc controller's
 *	series are rendered (no paging counters, no free EPC).
 */
struct epcg_metrics_source {
	struct epcg_misc *misc;
	struct epcg_sgx *sgx;
};

/**
 * epcg_metrics_render() - append the exposition of @src to @b.
 * @src: the controller and, optionally, the machine.
 * @b: the buffer; appended to (reset it first for a whole exposition).
 *
 * Renders, in this order (docs/metrics.md has names, units and help):
 * the EPC's capacity and free bytes and the machine's reclaim policy and
 * paging totals; then per cgroup (label `cgroup`, the path, "/" for the
 * root) the sgx_epc usage, limit (0 when "max", as the OSC exporter does),
 * peak, events and local events, and the paging counters of SPEC X1;
 * then the generic series of the other misc resources (label `resource`)
 * whose capacity is > 0.  The sgx_epc series appear when its capacity is
 * > 0.  Cgroups come in pre-order (children in creation order), each
 * family once, so equal state gives equal bytes.  Removed ("dying")
 * cgroups are left out, as their directories are gone; what they still
 * hold shows in their ancestors' usage.
 *
 * Values are a snapshot taken cgroup by cgroup while the tree's shape is
 * held still; counters change meanwhile, so two cgroups' values may be a
 * few microseconds apart, as when a scraper reads the files one by one.
 *
 * Context: any thread holding no epcg lock; takes the misc tree lock.
 * May drop the last reference of a cgroup removed meanwhile, which frees
 * it (and runs the EPC cgroup's free callback), so not from a worker or
 * the reclaimer of @src->sgx's execution context.
 * Return: 0; -EINVAL if @src, @src->misc or @b is NULL; -ENOMEM (@b then
 * holds a partial exposition; discard it).
 */
int epcg_metrics_render(const struct epcg_metrics_source *src,
			struct epcg_metrics_buf *b);

/*
 * The renderer the HTTP endpoint calls for every scrape: fill @b (empty on
 * entry) with a whole exposition.  Return 0 or a negative errno (the
 * scrape then gets status 500).
 */
typedef int epcg_metrics_render_fn(struct epcg_metrics_buf *b, void *data);

/**
 * epcg_metrics_source_render() - epcg_metrics_render() with the
 * signature of epcg_metrics_render_fn; @data is a struct
 * epcg_metrics_source that must outlive the server.
 */
int epcg_metrics_source_render(struct epcg_metrics_buf *b, void *data);

/* ---- the textfile collector ---------------------------------------------- */

/**
 * epcg_metrics_write_file() - replace the file @path with @len bytes of
 * @text, atomically for readers.
 * @path: the destination; node_exporter's textfile collector reads
 *	`*.prom` files of its directory (--collector.textfile.directory).
 * @text: the content (may be NULL if @len is 0).
 * @len: its length.
 *
 * Writes "@path.tmp" (mode 0644 less the umask), then renames it over
 * @path, so a reader sees the old or the new content, never a mix: the
 * collector ignores the temporary, which does not end in ".prom".  Not
 * flushed to disk (metrics are rewritten every interval; a crash may lose
 * the last one).  On failure the temporary is removed and @path is
 * untouched.  One writer per @path at a time.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL or empty @path, or NULL @text with @len
 * > 0; -ENAMETOOLONG; otherwise the -errno of open(2), write(2) or
 * rename(2) (-ENOENT, -EACCES, -ENOSPC, ...).
 */
int epcg_metrics_write_file(const char *path, const char *text, size_t len);

/* ---- the HTTP endpoint (metrics_http_dep) ---------------------------------- */

/*
 * Which addresses epcg_metrics_http_start() agrees to listen on.  The
 * endpoint has no authentication, so by default it refuses anything but a
 * loopback address; ANY lets the caller pass another one on purpose.
 */
enum epcg_metrics_bind {
	EPCG_METRICS_BIND_LOOPBACK, /* 127.0.0.0/8, ::1 (or ::ffff:127.x) */
	EPCG_METRICS_BIND_ANY, /* whatever address is given */
	EPCG_METRICS_BIND_NR
};

struct epcg_metrics_http;

/**
 * epcg_metrics_listen_parse() - split an "ADDR:PORT" option value.
 * @spec: "127.0.0.1:9464", "[::1]:9464", "localhost:9464", or ":9464"
 *	(meaning 127.0.0.1).
 * @addr: receives the address part (without brackets).
 * @size: @addr's size.
 * @port: receives the port, 0 to 65535.
 *
 * Checks the syntax only; epcg_metrics_http_start() checks the address.
 *
 * Return: 0; -EINVAL for a missing colon, empty or non-numeric port, a
 * port above 65535 or unbalanced brackets; -ENAMETOOLONG if the address
 * does not fit @size.
 */
int epcg_metrics_listen_parse(const char *spec, char *addr, size_t size,
			      uint16_t *port);

/**
 * epcg_metrics_http_start() - serve GET /metrics on @addr:@port.
 * @addr: a numeric IPv4 or IPv6 address, or "localhost" (127.0.0.1).
 * @port: the TCP port; 0 picks a free one (see epcg_metrics_http_port()).
 * @bind: EPCG_METRICS_BIND_LOOPBACK refuses a non-loopback @addr.
 * @fn: renders each scrape; called on the server's thread, one call at a
 *	time, with an empty buffer.
 * @data: passed to @fn; must outlive the server.
 * @ret: the running server.
 *
 * Answers GET (and HEAD) of "/metrics" with 200 and
 * EPCG_METRICS_CONTENT_TYPE, other paths with 404, other methods with 405
 * (and "Allow: GET, HEAD"), and a failed render with 500.  One internal
 * thread of libmicrohttpd polls every connection, so a slow scraper
 * cannot make @fn run concurrently; idle connections time out after 10
 * seconds and at most 16 are open at once.  The library prints nothing.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument, a bad @bind or an @addr that is
 * not an address; -EPERM for a non-loopback @addr under
 * EPCG_METRICS_BIND_LOOPBACK; the -errno of socket(2), bind(2) or
 * listen(2) (-EADDRINUSE, -EADDRNOTAVAIL, -EACCES, ...); -ENOMEM; -EIO if
 * libmicrohttpd failed to start; -EOPNOTSUPP if epcg was built without
 * libmicrohttpd.
 */
int epcg_metrics_http_start(const char *addr, uint16_t port,
			    enum epcg_metrics_bind bind,
			    epcg_metrics_render_fn *fn, void *data,
			    struct epcg_metrics_http **ret);

/** epcg_metrics_http_port() - the port the server listens on. */
uint16_t epcg_metrics_http_port(const struct epcg_metrics_http *h);

/**
 * epcg_metrics_http_stop() - stop the server and free it.
 * @h: the server, may be NULL.
 *
 * Waits for a running @fn to return; no call starts after this returns.
 *
 * Context: any thread but the server's own (not from @fn).
 */
void epcg_metrics_http_stop(struct epcg_metrics_http *h);

#endif
