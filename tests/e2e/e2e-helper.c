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
 *	e2e-helper pid DIR		print the pid of the daemon of DIR
 *	e2e-helper forge DIR		isolation: this process builds an
 *					enclave, a child process uses its id
 *					in every enclave request; print what
 *					each got, then what a second
 *					connection of this process gets
 *	e2e-helper hostile DIR SEED	random bytes, random frames, and
 *					malformed enclave requests and
 *					window operations; print the replies
 *	e2e-helper cut DIR		hang up in the middle of enclave
 *					requests (a batch of adds, a batch of
 *					accesses, half a frame)
 *
 * Exit status 0 unless the helper itself was misused or broke.
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
#include <inttypes.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "epcgfs.h"

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

/* ---- enclave clients ------------------------------------------------------- */

/* The errno name of a status (0: "ok"). */
static const char *status_name(int r)
{
	return r ? name(-r) : "ok";
}

/* @tmpl with each '@' replaced by @id. */
static void fill_id(char *req, size_t size, const char *tmpl, uint64_t id)
{
	size_t n = 0;

	for (; *tmpl && n + 24 < size; tmpl++)
		if (*tmpl == '@')
			n += (size_t)snprintf(req + n, size - n, "%llu",
					      (unsigned long long)id);
		else
			req[n++] = *tmpl;
	req[n] = '\0';
}

/* Send one request ('@' in @tmpl stands for @id); return the status. */
static int call(struct epcgfs_client *c, const char *tmpl, uint64_t id,
		uint64_t *vals, unsigned nr)
{
	char req[256];

	fill_id(req, sizeof(req), tmpl, id);
	return epcgfs_client_call(c, req, vals, nr);
}

/*
 * A small initialized enclave: one TCS page and one regular page whose
 * bytes are all @fill.  Return: its id, or 0 on failure.
 */
static uint64_t small_enclave(struct epcgfs_client *c, int fill)
{
	uint64_t v[1];

	if (epcgfs_client_call(c, "encl-create 8192", v, 1))
		return 0;
	memset(c->data, fill, 4096);
	if (call(c, "encl-add @ 0 1 tcs 0", v[0], NULL, 0) ||
	    call(c, "encl-add @ 4096 1 reg 3", v[0], NULL, 0) ||
	    call(c, "encl-init @", v[0], NULL, 0))
		return 0;
	return v[0];
}

/* Read the regular page of a small enclave; check it holds @fill. */
static const char *read_back(struct epcgfs_client *c, uint64_t id, int fill)
{
	int r;

	c->ops[0] = (struct epcgfs_op){ 4096, 4096, 0 };
	memset(c->data, ~fill, 4096);
	r = call(c, "encl-access @ 1", id, NULL, 0);
	if (r)
		return status_name(r);
	for (int i = 0; i < 4096; i++)
		if (c->data[i] != (unsigned char)fill)
			return "wrong";
	return "ok";
}

static int do_forge(const char *dir)
{
	static const char *const reqs[] = {
		"encl-access @ 1",	"encl-stats @",	 "encl-init @",
		"encl-add @ 0 1 reg 3", "encl-remove @",
	};
	struct epcgfs_client a, b;
	uint64_t id;
	pid_t pid;
	int st;

	if (epcgfs_client_open(dir, &a))
		return 2;
	id = small_enclave(&a, 0x5a);
	if (!id)
		return 2;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* Another process: it knows the id, and that is all. */
		if (epcgfs_client_open(dir, &b))
			_exit(2);
		printf("other");
		for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
			b.ops[0] = (struct epcgfs_op){ 4096, 4096, 0 };
			printf(" %s",
			       status_name(call(&b, reqs[i], id, NULL, 0)));
		}
		printf("\n");
		fflush(stdout);
		epcgfs_client_close(&b);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		return 2;
	/* A second connection of this process may join it. */
	if (epcgfs_client_open(dir, &b))
		return 2;
	printf("same %s\n", read_back(&b, id, 0x5a));
	epcgfs_client_close(&b);
	printf("owner %s\n", read_back(&a, id, 0x5a));
	epcgfs_client_close(&a);
	return 0;
}

static uint64_t rnd(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Send a frame of @len random bytes on @fd; return the reply's status. */
static const char *random_frame(int fd, uint64_t *seed, size_t len)
{
	static char buf[4096], reply[4097];
	size_t rlen;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)rnd(seed);
	if (epcgfs_frame_send(fd, buf, len) ||
	    epcgfs_frame_recv(fd, reply, sizeof(reply), &rlen))
		return "closed";
	return reply;
}

static int do_hostile(const char *dir, uint64_t seed)
{
	static const char *const bad[] = {
		"encl-add @ 0 0 reg 3",
		"encl-add @ 0 513 reg 3",
		"encl-add @ 0 1 bogus 3",
		"encl-add @ 0 1 reg 8",
		"encl-add @ 0 1 reg",
		"encl-access @ 0",
		"encl-access @ 4097",
		"encl-access @  1",
		"encl-access @ 1 1",
		"encl-access @ -1",
		"encl-create 12345",
		"encl-create 0",
		"encl-create 18446744073709551616",
		"encl-create 8192 1",
		"encl-stats @x",
		"encl-init",
		"encl-frob @",
		"encl-access 99999999 1",
		"window",
	};
	static const struct epcgfs_op ops[] = {
		{ 4096, 0, 0 }, /* empty */
		{ 4096, 4097, 0 }, /* longer than a page */
		{ 4096, 16, 0x80 }, /* unknown flag */
		{ 8192, 16, 0 }, /* past the enclave */
		{ UINT64_MAX - 8, 16, 0 }, /* wraps around */
	};
	char rest[4096];
	struct epcgfs_client c;
	uint64_t id, counts[3] = { 0 };
	int fd;

	/*
	 * Raw random bytes, the first four read as a length: mostly too long
	 * (E2BIG, hang-up), else a message cut short (dropped after 2 s).
	 */
	for (int i = 0; i < 20; i++) {
		unsigned char raw[64], hdr[4];

		for (size_t k = 0; k < sizeof(raw); k++)
			raw[k] = (unsigned char)rnd(&seed);
		raw[3] |= 0x80; /* keep it too long: a cut one costs 2 s */
		fd = epcgfs_ctl_connect(dir, rest, sizeof(rest));
		if (fd < 0 || write(fd, raw, sizeof(raw)) < 0)
			return 2;
		/* The reply "-7" (E2BIG): a 2-byte frame. */
		counts[read(fd, hdr, 4) == 4 && hdr[0] == 2 &&
				       read(fd, hdr, 2) == 2 &&
				       !memcmp(hdr, "-7", 2) ?
			       0 :
			       1]++;
		close(fd);
	}
	printf("random bytes: %llu answered, %llu not\n",
	       (unsigned long long)counts[0], (unsigned long long)counts[1]);
	counts[0] = counts[1] = 0;
	/* Random frames of random lengths, on one connection. */
	fd = epcgfs_ctl_connect(dir, rest, sizeof(rest));
	if (fd < 0)
		return 2;
	for (int i = 0; i < 50; i++) {
		const char *r = random_frame(fd, &seed, 1 + rnd(&seed) % 4096);

		counts[!strcmp(r, "-22") ? 0 : !strcmp(r, "closed") ? 1 : 2]++;
		if (!strcmp(r, "closed"))
			break;
	}
	close(fd);
	printf("random frames: %llu EINVAL, %llu other\n",
	       (unsigned long long)counts[0],
	       (unsigned long long)(counts[1] + counts[2]));
	/* Malformed enclave requests, around a real enclave. */
	if (epcgfs_client_open(dir, &c))
		return 2;
	id = small_enclave(&c, 0x33);
	if (!id)
		return 2;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		printf("%s%s", i ? " " : "",
		       status_name(call(&c, bad[i], id, NULL, 0)));
	printf("\n");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		uint64_t done;

		c.ops[0] = (struct epcgfs_op){ 4096, 4096, 0 };
		c.ops[1] = ops[i];
		printf("%s%s", i ? " " : "",
		       status_name(call(&c, "encl-access @ 2", id, &done, 1)));
		printf("/%" PRIu64, done);
	}
	printf("\n");
	printf("still %s\n", read_back(&c, id, 0x33));
	epcgfs_client_close(&c);
	/* A connection without a window. */
	fd = epcgfs_ctl_connect(dir, rest, sizeof(rest));
	if (fd < 0)
		return 2;
	c.fd = fd;
	c.win = NULL;
	printf("no window: %s\n",
	       status_name(call(&c, "encl-access @ 1", id, NULL, 0)));
	close(fd);
	return 0;
}

/* Send @req and hang up without waiting for the reply. */
static void send_and_go(struct epcgfs_client *c, const char *fmt, uint64_t id)
{
	char req[256];

	fill_id(req, sizeof(req), fmt, id);
	epcgfs_frame_send(c->fd, req, strlen(req));
	epcgfs_client_close(c);
}

static int do_cut(const char *dir)
{
	static const unsigned char half_hdr[] = { 10, 0 };
	static const unsigned char half_body[] = { 10, 0, 0, 0, 'e', 'n' };
	struct epcgfs_client c;
	uint64_t v[1];
	char rest[4096];
	int fd;

	/* Gone while 512 pages are being added. */
	if (epcgfs_client_open(dir, &c) ||
	    epcgfs_client_call(&c, "encl-create 4194304", v, 1))
		return 2;
	memset(c.data, 0x11, EPCGFS_WIN_DATA_SIZE);
	send_and_go(&c, "encl-add @ 0 512 reg 3", v[0]);
	/* Gone while 512 pages are being read. */
	if (epcgfs_client_open(dir, &c) ||
	    epcgfs_client_call(&c, "encl-create 4194304", v, 1))
		return 2;
	memset(c.data, 0x22, EPCGFS_WIN_DATA_SIZE);
	if (call(&c, "encl-add @ 0 1 tcs 0", v[0], NULL, 0) ||
	    call(&c, "encl-add @ 4096 511 reg 3", v[0], NULL, 0) ||
	    call(&c, "encl-init @", v[0], NULL, 0))
		return 2;
	for (unsigned i = 0; i < EPCGFS_WIN_OPS_MAX; i++)
		c.ops[i] =
			(struct epcgfs_op){ (1 + i % 511) * 4096ull, 4096, 0 };
	send_and_go(&c, "encl-access @ 512", v[0]);
	/* Half a header, half a message. */
	fd = epcgfs_ctl_connect(dir, rest, sizeof(rest));
	if (fd < 0 || write(fd, half_hdr, sizeof(half_hdr)) < 0)
		return 2;
	close(fd);
	fd = epcgfs_ctl_connect(dir, rest, sizeof(rest));
	if (fd < 0 || write(fd, half_body, sizeof(half_body)) < 0)
		return 2;
	close(fd);
	puts("done");
	return 0;
}

static int do_pid(const char *dir)
{
	char rest[4096], reply[64];
	int fd = epcgfs_ctl_connect(dir, rest, sizeof(rest));

	if (fd < 0 || epcgfs_ctl_call(fd, "pid", reply, sizeof(reply)))
		return 2;
	close(fd);
	puts(reply + 2);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "abuse"))
		return do_abuse(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "pid"))
		return do_pid(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "forge"))
		return do_forge(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "hostile"))
		return do_hostile(argv[2], strtoull(argv[3], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "cut"))
		return do_cut(argv[2]);
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
	fprintf(stderr, "usage: e2e-helper write|big|open|read|poll|abuse|"
			"pid|forge|hostile|cut ...\n");
	return 2;
}
