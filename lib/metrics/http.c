// SPDX-License-Identifier: MIT
/*
 * The metrics endpoint: GET /metrics over HTTP, served by libmicrohttpd.
 *
 * A scrape endpoint is a small thing, but an HTTP server is not: request
 * parsing, keep-alive, partial writes, slow clients and timeouts are where
 * hand-written servers break, so we use a maintained library and keep
 * only the policy here.
 *
 * Policy
 * ------
 * - Where: a loopback address unless the caller explicitly allows any.
 *   The endpoint has no authentication; what it tells (cgroup paths,
 *   usage) should not leave the host by accident.
 * - What: "/metrics" for GET and HEAD; 404 for other paths; 405 with an
 *   Allow header for other methods; 500 if the renderer fails.
 * - How: one polling thread inside libmicrohttpd handles every connection,
 *   so the renderer runs on that thread and never concurrently with
 *   itself; at most 16 connections, each dropped after 10 idle seconds.
 *
 * The socket is ours
 * ------------------
 * We create, bind and listen on the socket ourselves and hand it over, so
 * a failure has its real errno (address in use, not available, ...)
 * rather than libmicrohttpd's bare NULL, and port 0 can be resolved with
 * getsockname().  Once handed over, libmicrohttpd closes it when stopped.
 * If starting fails, whether it already closed the socket depends on how
 * far it got, so we keep a duplicate: the socket is still ours to close
 * exactly when the handed-over descriptor still refers to the same open
 * socket as the duplicate (same device and inode).  Comparing numbers
 * alone would not do: another thread may have reused the number.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/metrics.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics/http-internal.h"

#define HTTP_MAX_CONNECTIONS 16
#define HTTP_IDLE_TIMEOUT_S 10

/*
 * struct epcg_metrics_http - a running endpoint.
 * @daemon: libmicrohttpd's server; owns the listening socket.
 * @fn, @data: the renderer; called on @daemon's thread only.
 * @port: where it listens.
 * All immutable while the server runs.
 */
struct epcg_metrics_http {
	struct MHD_Daemon *daemon;
	epcg_metrics_render_fn *fn;
	void *data;
	uint16_t port;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     const char *text, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* 200 with a fresh exposition; 500 if the renderer fails. */
static enum MHD_Result reply_metrics(struct epcg_metrics_http *h,
				     struct MHD_Connection *conn)
{
	struct epcg_metrics_buf b;
	struct MHD_Response *r;
	enum MHD_Result ret;

	epcg_metrics_buf_init(&b);
	if (h->fn(&b, h->data) || b.err) {
		epcg_metrics_buf_finish(&b);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "metrics unavailable\n", NULL);
	}
	if (b.len) {
		/* libmicrohttpd takes the text and free()s it when sent. */
		r = MHD_create_response_from_buffer(b.len, b.data,
						    MHD_RESPMEM_MUST_FREE);
		if (r)
			epcg_metrics_buf_init(&b);
	} else {
		r = MHD_create_response_from_buffer(0, (void *)"",
						    MHD_RESPMEM_PERSISTENT);
	}
	epcg_metrics_buf_finish(&b);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				EPCG_METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct epcg_metrics_http *h = cls;

	/*
	 * Answered on the first call, before any request body: a body is
	 * never wanted here, and libmicrohttpd closes the connection after
	 * a reply that left one unread.
	 */
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "method not allowed\n", "GET, HEAD");
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	return reply_metrics(h, conn);
}

/* A listening TCP socket on @ss.  Return: the descriptor or -errno. */
static int listen_on(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, fd, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Rebinding while old connections linger in TIME_WAIT is fine. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	if (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	if (bind(fd, (const struct sockaddr *)ss, len) ||
	    listen(fd, HTTP_MAX_CONNECTIONS))
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Whether @fd still refers to the same open socket as @dup. */
static bool same_socket(int fd, int dup)
{
	struct stat a, b;

	return !fstat(fd, &a) && !fstat(dup, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int daemon_start(struct epcg_metrics_http *h, int fd, int family)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
	int keep;

	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0)
		return -errno;
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, answer, h, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
		MHD_OPTION_END);
	if (!h->daemon && same_socket(fd, keep))
		close(fd);
	close(keep);
	return h->daemon ? 0 : -EIO;
}

int epcg_metrics_http_start(const char *addr, uint16_t port,
			    enum epcg_metrics_bind bind,
			    epcg_metrics_render_fn *fn, void *data,
			    struct epcg_metrics_http **ret)
{
	struct epcg_metrics_http *h;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err;

	if (ret)
		*ret = NULL;
	if (!addr || !fn || !ret || (unsigned)bind >= EPCG_METRICS_BIND_NR)
		return -EINVAL;
	err = epcg__metrics_addr(addr, port, &ss, &len);
	if (err)
		return err;
	if (bind == EPCG_METRICS_BIND_LOOPBACK &&
	    !epcg__metrics_addr_loopback(&ss))
		return -EPERM;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fn = fn;
	h->data = data;
	fd = listen_on(&ss, len);
	if (fd < 0) {
		err = fd;
		goto free_h;
	}
	h->port = port_of(fd);
	err = daemon_start(h, fd, ss.ss_family);
	if (err)
		goto free_h;
	*ret = h;
	return 0;
free_h:
	free(h);
	return err;
}

uint16_t epcg_metrics_http_port(const struct epcg_metrics_http *h)
{
	return h ? h->port : 0;
}

void epcg_metrics_http_stop(struct epcg_metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
