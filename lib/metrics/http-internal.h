/* SPDX-License-Identifier: MIT */
/*
 * Address handling shared by the HTTP endpoint and its build without
 * libmicrohttpd (which answers -EOPNOTSUPP): which addresses count as
 * loopback, and turning "ADDR" into a socket address.
 */
#ifndef EPCG_METRICS_HTTP_INTERNAL_H
#define EPCG_METRICS_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

/*
 * epcg__metrics_addr() - the socket address of a numeric IPv4 or IPv6
 * @addr (or "localhost", taken as 127.0.0.1) and @port; no name lookup.
 * Return: 0; -EINVAL if @addr is not such an address.
 */
int epcg__metrics_addr(const char *addr, uint16_t port,
		       struct sockaddr_storage *ss, socklen_t *len);

/*
 * epcg__metrics_addr_loopback() - whether @ss only reaches this host:
 * 127.0.0.0/8 or ::1.
 */
bool epcg__metrics_addr_loopback(const struct sockaddr_storage *ss);

#endif
