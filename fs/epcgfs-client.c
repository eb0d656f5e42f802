// SPDX-License-Identifier: MIT
/*
 * The client side of the enclave requests (docs/interface.md, "Enclave
 * clients"): connect to the daemon serving a path, map the window it
 * hands out, and exchange requests whose replies are a status and a few
 * numbers.  What to ask is the caller's business (cli/cmd-enclave.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "epcgfs.h"

/* Parse "STATUS [N...]"; missing numbers read 0.  Return: -EPROTO or 0. */
static int parse_reply(const char *reply, long *status, uint64_t *vals,
		       unsigned nr_vals)
{
	const char *p = reply;
	char *end;

	errno = 0;
	*status = strtol(p, &end, 10);
	if (end == p || errno || *status > 0 || *status < -4095 ||
	    (*end && *end != ' '))
		return -EPROTO;
	for (unsigned i = 0; i < nr_vals; i++)
		vals[i] = 0;
	for (unsigned i = 0; i < nr_vals && *end == ' '; i++) {
		p = end + 1;
		vals[i] = strtoull(p, &end, 10);
		if (end == p)
			return -EPROTO;
	}
	return 0;
}

int epcgfs_client_call(struct epcgfs_client *c, const char *request,
		       uint64_t *vals, unsigned nr_vals)
{
	char reply[EPCGFS_CTL_MAX + 1];
	size_t len;
	long status;
	int r;

	r = epcgfs_frame_send(c->fd, request, strlen(request));
	if (!r)
		r = epcgfs_frame_recv(c->fd, reply, sizeof(reply), &len);
	if (!r)
		r = parse_reply(reply, &status, vals, nr_vals);
	return r ? r : (int)status;
}

int epcgfs_client_open(const char *path, struct epcgfs_client *c)
{
	static const char req[] = "window";
	char rest[PATH_MAX], reply[256];
	uint64_t v[4];
	long status;
	size_t len;
	void *win;
	int wfd, r;

	memset(c, 0, sizeof(*c));
	c->fd = epcgfs_ctl_connect(path, rest, sizeof(rest));
	if (c->fd < 0)
		return c->fd;
	r = epcgfs_frame_send(c->fd, req, strlen(req));
	if (!r)
		r = epcgfs_frame_recv_fd(c->fd, reply, sizeof(reply), &len,
					 &wfd);
	if (r)
		goto err;
	r = parse_reply(reply, &status, v, 4);
	if (!r && status)
		r = (int)status;
	/* The layout is fixed; a daemon that says otherwise is not ours. */
	if (!r &&
	    (wfd < 0 || v[0] != EPCGFS_WIN_SIZE || v[1] != EPCGFS_WIN_OPS_MAX ||
	     v[2] != EPCGFS_WIN_DATA_OFF || v[3] != EPCGFS_WIN_DATA_SIZE))
		r = -EPROTO;
	if (r)
		goto err_fd;
	win = mmap(NULL, EPCGFS_WIN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   wfd, 0);
	if (win == MAP_FAILED) {
		r = -errno;
		goto err_fd;
	}
	close(wfd);
	c->win = win;
	c->ops = win;
	c->data = (unsigned char *)win + EPCGFS_WIN_DATA_OFF;
	return 0;
err_fd:
	if (wfd >= 0)
		close(wfd);
err:
	close(c->fd);
	c->fd = -1;
	return r;
}

void epcgfs_client_close(struct epcgfs_client *c)
{
	if (c->win)
		munmap(c->win, EPCGFS_WIN_SIZE);
	if (c->fd >= 0)
		close(c->fd);
	c->win = NULL;
	c->fd = -1;
}
