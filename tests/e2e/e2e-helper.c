// SPDX-License-Identifier: MIT
/*
 * A small helper for the shell end-to-end tests of the mounted tree, for
 * what shells cannot say precisely:
 *
 *	e2e-helper write FILE DATA...	open FILE once for writing, one
 *					write(2) per DATA; print "ok" or the
 *					errno name per write (or of the open)
 *	e2e-helper big FILE N		one write(2) of N spaces
 *	e2e-helper open FILE r|w|rw	print "ok" or the errno name of open
 *	e2e-helper read FILE CHUNK	read FILE in CHUNK-byte reads, print it
 *	e2e-helper poll FILE MS CMD	read FILE, run CMD (sh -c), wait up to
 *					MS for POLLPRI; print "woken" or
 *					"timeout"
 *	e2e-helper abuse DIR		misuse the control socket of the tree
 *					mounted at DIR (oversized, truncated,
 *					binary requests); print each reply
 *
 * Exit status 0 unless the helper itself was misused.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "EUNKNOWN";
}

static int do_write(int argc, char **argv)
{
	int fd = open(argv[2], O_WRONLY);

	if (fd < 0) {
		printf("open %s\n", name(errno));
		return 0;
	}
	for (int i = 3; i < argc; i++) {
		ssize_t n = write(fd, argv[i], strlen(argv[i]));

		puts(n < 0 ? name(errno) : "ok");
	}
	close(fd);
	return 0;
}

static int do_big(char **argv)
{
	size_t len = strtoul(argv[3], NULL, 10);
	char *buf = malloc(len);
	int fd = open(argv[2], O_WRONLY);

	if (!buf || fd < 0) {
		printf("open %s\n", name(errno));
		return 0;
	}
	memset(buf, ' ', len);
	puts(write(fd, buf, len) < 0 ? name(errno) : "ok");
	close(fd);
	free(buf);
	return 0;
}

static int do_open(char **argv)
{
	int flags = !strcmp(argv[3], "r") ? O_RDONLY :
		    !strcmp(argv[3], "w") ? O_WRONLY :
					    O_RDWR;
	int fd = open(argv[2], flags);

	puts(fd < 0 ? name(errno) : "ok");
	if (fd >= 0)
		close(fd);
	return 0;
}

static int do_read(char **argv)
{
	size_t chunk = strtoul(argv[3], NULL, 10);
	char buf[4096];
	int fd = open(argv[2], O_RDONLY);
	ssize_t n;

	if (fd < 0 || chunk == 0 || chunk > sizeof(buf))
		return 2;
	while ((n = read(fd, buf, chunk)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return n < 0;
}

static int do_poll(char **argv)
{
	struct pollfd pfd = { .events = POLLPRI };
	char buf[4096];

	pfd.fd = open(argv[2], O_RDONLY);
	if (pfd.fd < 0)
		return 2;
	while (read(pfd.fd, buf, sizeof(buf)) > 0)
		;
	if (system(argv[4]) < 0)
		return 2;
	if (poll(&pfd, 1, atoi(argv[3])) > 0 && (pfd.revents & POLLPRI))
		puts("woken");
	else
		puts("timeout");
	close(pfd.fd);
	return 0;
}

/* The daemon's socket name, as docs/interface.md defines it. */
static int ctl_connect(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t h = 0xcbf29ce484222325ull;
	char canon[PATH_MAX];
	int fd, n;

	if (!realpath(dir, canon))
		return -1;
	for (const unsigned char *p = (const void *)canon; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "epcg/%016llx",
		     (unsigned long long)h);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 ||
	    connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				n)) < 0)
		return -1;
	return fd;
}

/* Send @len raw bytes, then print the reply frame's text (or "closed"). */
static void raw(const char *dir, const void *buf, size_t len, bool hangup)
{
	unsigned char hdr[4];
	char reply[256];
	uint32_t rlen = 0;
	int fd = ctl_connect(dir);

	if (fd < 0) {
		puts("noconnect");
		return;
	}
	if (write(fd, buf, len) != (ssize_t)len || hangup) {
		close(fd);
		puts("hangup");
		return;
	}
	if (read(fd, hdr, 4) != 4) {
		close(fd);
		puts("closed");
		return;
	}
	for (int i = 0; i < 4; i++)
		rlen |= (uint32_t)hdr[i] << (8 * i);
	if (rlen >= sizeof(reply) || read(fd, reply, rlen) != (ssize_t)rlen) {
		close(fd);
		puts("badreply");
		return;
	}
	reply[rlen] = '\0';
	puts(reply);
	close(fd);
}

static int do_abuse(const char *dir)
{
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, 'x' };
	static const unsigned char cut[] = { 100, 0, 0, 0, 'c', 'h' };
	static const unsigned char bin[] = { 5, 0, 0, 0, 0, 1, 0xfe, 0, 7 };
	static const unsigned char junk[] = { 4, 0, 0, 0, 'j', 'u', 'n', 'k' };

	raw(dir, huge, sizeof(huge), false); /* -7: E2BIG, then closed */
	raw(dir, cut, sizeof(cut), true); /* gone mid-request */
	raw(dir, bin, sizeof(bin), false); /* NUL inside: -22 */
	raw(dir, junk, sizeof(junk), false); /* unknown verb: -22 */
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "abuse"))
		return do_abuse(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "write"))
		return do_write(argc, argv);
	if (argc == 4 && !strcmp(argv[1], "big"))
		return do_big(argv);
	if (argc == 4 && !strcmp(argv[1], "open"))
		return do_open(argv);
	if (argc == 4 && !strcmp(argv[1], "read"))
		return do_read(argv);
	if (argc == 5 && !strcmp(argv[1], "poll"))
		return do_poll(argv);
	fprintf(stderr, "usage: e2e-helper write|big|open|read|poll ...\n");
	return 2;
}
