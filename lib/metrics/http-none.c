// SPDX-License-Identifier: MIT
/*
 * The metrics endpoint of a build without libmicrohttpd: it links, and
 * says why it cannot start, so front ends need no conditional code.
 */
#include <errno.h>

#include <epcg/metrics.h>

int epcg_metrics_http_start(const char *addr, uint16_t port,
			    enum epcg_metrics_bind bind,
			    epcg_metrics_render_fn *fn, void *data,
			    struct epcg_metrics_http **ret)
{
	if (ret)
		*ret = NULL;
	return -EOPNOTSUPP;
}

uint16_t epcg_metrics_http_port(const struct epcg_metrics_http *h)
{
	return 0;
}

void epcg_metrics_http_stop(struct epcg_metrics_http *h)
{
}
