// SPDX-License-Identifier: MIT
/*
 * The daemon's metrics (docs/metrics.md): the misc tree and the machine's
 * paging counters in the Prometheus text format, served on a loopback
 * HTTP endpoint (--metrics ADDR:PORT) and written for node_exporter's
 * textfile collector (--metrics-file PATH) at start, every
 * EPCGFS_METRICS_INTERVAL_S seconds and once more at a clean exit.
 *
 * Rendering takes only the misc tree lock and may free a cgroup removed
 * meanwhile, so it runs on threads of its own (the HTTP server's, the
 * writer's), never on a reclaim worker.  The writer's failures are logged
 * once each time the outcome changes, not at every interval.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <epcg/metrics.h>
#include <pthread.h>

#include "epcgfs-internal.h"
#include "util/alloc.h"

#define EPCGFS_METRICS_INTERVAL_S 10

struct epcgfs_metrics {
	struct epcgfs *fs;
	struct epcg_metrics_source src; /* immutable while running */
	struct epcg_metrics_http *http;
	pthread_t writer;
	bool writing; /* the writer thread runs */
	pthread_mutex_t lock; /* stop */
	pthread_cond_t wake;
	bool stop;
	int last_err; /* the writer's last outcome; only the writer */
};

/* Render and replace the file; log when the outcome changes. */
static void write_once(struct epcgfs_metrics *m)
{
	struct epcg_metrics_buf b;
	int err;

	epcg_metrics_buf_init(&b);
	err = epcg_metrics_render(&m->src, &b);
	if (!err)
		err = epcg_metrics_write_file(m->fs->metrics_path, b.data,
					      b.len);
	epcg_metrics_buf_finish(&b);
	if (err && err != m->last_err)
		epcgfs_log(m->fs, "epcg: metrics: cannot write %s: %s\n",
			   m->fs->metrics_path, strerror(-err));
	else if (!err && m->last_err)
		epcgfs_log(m->fs, "epcg: metrics: writing %s again\n",
			   m->fs->metrics_path);
	m->last_err = err;
}

static void *writer_thread(void *arg)
{
	struct epcgfs_metrics *m = arg;
	bool stop = false;

	while (!stop) {
		struct timespec until;

		write_once(m);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += EPCGFS_METRICS_INTERVAL_S;
		pthread_mutex_lock(&m->lock);
		while (!m->stop && pthread_cond_timedwait(&m->wake, &m->lock,
							  &until) != ETIMEDOUT)
			;
		stop = m->stop;
		pthread_mutex_unlock(&m->lock);
	}
	write_once(m); /* the state at exit */
	return NULL;
}

int epcgfs_metrics_start(struct epcgfs *fs, struct epcgfs_metrics **ret)
{
	const struct epcgfs_options *o = fs->opts;
	struct epcgfs_metrics *m;
	pthread_condattr_t ca;
	char addr[256];
	uint16_t port;
	int err;

	*ret = NULL;
	if (!o->metrics && !o->metrics_file)
		return 0;
	m = epcg_calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fs = fs;
	m->src.misc = fs->misc;
	m->src.sgx = fs->sgx;
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->wake, &ca);
	pthread_condattr_destroy(&ca);
	*ret = m;
	if (o->metrics) {
		err = epcg_metrics_listen_parse(o->metrics, addr, sizeof(addr),
						&port);
		if (!err)
			err = epcg_metrics_http_start(
				addr, port, EPCG_METRICS_BIND_LOOPBACK,
				epcg_metrics_source_render, &m->src, &m->http);
		if (err)
			return err;
	}
	if (fs->metrics_path) {
		err = -pthread_create(&m->writer, NULL, writer_thread, m);
		if (err)
			return err;
		m->writing = true;
	}
	return 0;
}

void epcgfs_metrics_stop(struct epcgfs_metrics *m)
{
	if (!m)
		return;
	epcg_metrics_http_stop(m->http);
	if (m->writing) {
		pthread_mutex_lock(&m->lock);
		m->stop = true;
		pthread_cond_signal(&m->wake);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->writer, NULL);
	}
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
