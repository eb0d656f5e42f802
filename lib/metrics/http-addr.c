// SPDX-License-Identifier: MIT
/*
 * Listen addresses of the metrics endpoint: parsing "ADDR:PORT" option
 * values and deciding what is loopback.  Built with or without
 * libmicrohttpd, so front ends can parse their options either way.
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <epcg/metrics.h>
#include <netdb.h>
#include <netinet/in.h>

#include "metrics/http-internal.h"

/* A decimal port, 0 to 65535, nothing else.  Return: 0 or -EINVAL. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

int epcg_metrics_listen_parse(const char *spec, char *addr, size_t size,
			      uint16_t *port)
{
	const char *host, *colon;
	size_t n;

	if (!spec || !addr || !size || !port)
		return -EINVAL;
	if (spec[0] == '[') {
		/* "[v6]:port": the brackets keep the address's colons apart. */
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host = spec + 1;
		n = (size_t)(end - host);
		colon = end + 1;
		if (!n)
			return -EINVAL;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || memchr(spec, ']', (size_t)(colon - spec)))
			return -EINVAL;
		host = spec;
		n = (size_t)(colon - spec);
		/* An unbracketed IPv6 address would be ambiguous. */
		if (memchr(spec, ':', n))
			return -EINVAL;
		if (!n) {
			host = "127.0.0.1";
			n = strlen(host);
		}
	}
	if (parse_port(colon + 1, port))
		return -EINVAL;
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(addr, host, n);
	addr[n] = '\0';
	return 0;
}

int epcg__metrics_addr(const char *addr, uint16_t port,
		       struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST,
				  .ai_family = AF_INET6,
				  .ai_socktype = SOCK_STREAM };
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6;
	struct addrinfo *ai;

	memset(ss, 0, sizeof(*ss));
	if (!strcmp(addr, "localhost"))
		addr = "127.0.0.1";
	/* Dotted quads only: inet_pton() refuses "1.2.3" and "0x7f.1". */
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	/* IPv6 through getaddrinfo(), which knows scope ids ("fe80::1%lo"). */
	if (getaddrinfo(addr, NULL, &hints, &ai))
		return -EINVAL;
	if (ai->ai_family != AF_INET6 || ai->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(ai);
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	in6 = (struct sockaddr_in6 *)ss;
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		/* "::ffff:a.b.c.d" is an IPv4 address: listen on that. */
		struct in_addr v4;

		memcpy(&v4, &in6->sin6_addr.s6_addr[12], sizeof(v4));
		memset(ss, 0, sizeof(*ss));
		in->sin_family = AF_INET;
		in->sin_addr = v4;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	in6->sin6_port = htons(port);
	return 0;
}

bool epcg__metrics_addr_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}
