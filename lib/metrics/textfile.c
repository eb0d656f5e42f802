// SPDX-License-Identifier: MIT
/*
 * The textfile writer: node_exporter's textfile collector reads every
 * `*.prom` file of a directory at each scrape, so a file must never be
 * seen half written.  We write a temporary beside the destination (same
 * directory, hence same file system) and rename it over the destination,
 * which replaces the name atomically: a reader opens the old file or the
 * new one.  The temporary's name ends in ".tmp", which the collector
 * ignores.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <epcg/metrics.h>
#include <fcntl.h>
#include <unistd.h>

/* Write all @len bytes of @p to @fd.  Return: 0 or -errno. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int epcg_metrics_write_file(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err, n;

	if (!path || !*path || (!text && len))
		return -EINVAL;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0)
		return -errno;
	err = write_all(fd, text, len);
	/* close() reports write-back errors of some file systems (NFS). */
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
