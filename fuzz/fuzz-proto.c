// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the control socket's frame decoders (fs/epcgfs-proto.c) on
 * an arbitrary byte stream, as a hostile or broken peer would send it: the
 * daemon's (epcgfs_frame_recv) and the client's, which also takes a
 * passed descriptor (epcgfs_frame_recv_fd).
 *
 * The decoder reads from a socket, so the target pushes the input into one
 * end of a Unix stream socket pair, closes it, and decodes frames at the
 * other end until the decoder stops.  The first byte picks the receive
 * buffer's size (small ones reach the "does not fit" path).  An
 * independent decode of the same bytes says what each call must return:
 * every frame whose length fits comes back whole and NUL-terminated, a
 * length over the limit or the buffer is -E2BIG and ends the stream (the
 * daemon hangs up: the stream is out of step), a stream cut short is
 * -ECONNRESET.  Last, the payload goes through epcgfs_frame_send() and
 * back, byte for byte.
 *
 * The text requests inside the frames are parsed by the daemon's control
 * thread (fs/epcgfs-ctl.c), which has no entry point outside a running
 * daemon; the e2e tests drive it (docs/robustness.md).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <unistd.h>

#include "epcgfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What fits in a socket pair's buffer without a reader. */
#define STREAM_MAX (64 * 1024)

static const size_t buf_sizes[] = { 1, 2, 5, 64, 4096, EPCGFS_CTL_MAX + 1 };

static char rbuf[EPCGFS_CTL_MAX + 1];

static void push(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = send(fd, c, len, MSG_NOSIGNAL);

		if (n <= 0)
			abort();
		c += n;
		len -= (size_t)n;
	}
}

/* Which decoder: the daemon's, or the client's (which takes a passed fd). */
enum decoder { DECODE_PLAIN, DECODE_FD, DECODE_NR };

static int recv_with(enum decoder d, int fd, size_t bufsz, size_t *len)
{
	int passed = 0, r;

	if (d == DECODE_PLAIN)
		return epcgfs_frame_recv(fd, rbuf, bufsz, len);
	r = epcgfs_frame_recv_fd(fd, rbuf, bufsz, len, &passed);
	if (passed != -1)
		abort(); /* no descriptor was sent */
	return r;
}

static void decode_stream(const uint8_t *data, size_t size, size_t bufsz,
			  enum decoder d)
{
	size_t pos = 0, len;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	push(sv[0], data, size);
	close(sv[0]);
	for (;;) {
		uint32_t want;
		int expect;

		/* The independent decode. */
		if (size - pos < 4) {
			expect = -ECONNRESET; /* no header, or half of one */
			want = 0;
		} else {
			want = (uint32_t)data[pos] |
			       (uint32_t)data[pos + 1] << 8 |
			       (uint32_t)data[pos + 2] << 16 |
			       (uint32_t)data[pos + 3] << 24;
			if (want > EPCGFS_CTL_MAX || want >= bufsz)
				expect = -E2BIG;
			else if (size - pos - 4 < want)
				expect = -ECONNRESET;
			else
				expect = 0;
		}
		memset(rbuf, 0x5a, bufsz);
		len = SIZE_MAX;
		r = recv_with(d, sv[1], bufsz, &len);
		if (r != expect)
			abort();
		if (r)
			break;
		if (len != want || rbuf[len] != '\0' ||
		    memcmp(rbuf, data + pos + 4, len))
			abort();
		pos += 4 + len;
	}
	close(sv[1]);
}

static void round_trip(const uint8_t *data, size_t size)
{
	size_t len = size > EPCGFS_CTL_MAX ? EPCGFS_CTL_MAX : size;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	if (epcgfs_frame_send(sv[0], data, len) ||
	    epcgfs_frame_recv(sv[1], rbuf, sizeof(rbuf), &len) ||
	    len != (size > EPCGFS_CTL_MAX ? EPCGFS_CTL_MAX : size) ||
	    memcmp(rbuf, data, len) || rbuf[len])
		abort();
	if (size > EPCGFS_CTL_MAX &&
	    epcgfs_frame_send(sv[0], data, size) != -E2BIG)
		abort();
	close(sv[0]);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bufsz;

	if (!size)
		return 0;
	bufsz = buf_sizes[data[0] % (sizeof(buf_sizes) / sizeof(buf_sizes[0]))];
	data++;
	size--;
	if (size > STREAM_MAX)
		size = STREAM_MAX;
	for (int d = 0; d < DECODE_NR; d++)
		decode_stream(data, size, bufsz, d);
	round_trip(data, size);
	return 0;
}
