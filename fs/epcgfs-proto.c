// SPDX-License-Identifier: MIT
/*
 * The control socket's framing and addressing, used by the daemon and by
 * the epcg command (docs/interface.md, "Control socket").
 *
 * Every message is a 4-byte little-endian length followed by that many
 * bytes of text, at most EPCGFS_CTL_MAX; a reply may carry one file
 * descriptor (SCM_RIGHTS) with its first bytes.  The socket is a Unix stream
 * socket in the abstract namespace, named after a hash of the mount
 * point's canonical path, so no file is left behind by a crashed daemon
 * and a client finds the daemon from any path inside the mount.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "epcgfs.h"

static int io_all(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;

	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) :
				  recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Send a frame's header and body with one sendmsg() (and @msg's control
 * data, if any, with its first byte), then whatever the socket did not
 * take.  One call matters: the daemon reads a frame's body with a
 * timeout once its header has come, and a sender descheduled between two
 * calls on a busy host could run into it and lose its connection.  A
 * frame (at most 4 bytes + EPCGFS_CTL_MAX) fits the socket's buffer, so
 * it arrives whole.
 */
static int send_frame(int fd, struct msghdr *msg, const void *buf, size_t len)
{
	unsigned char hdr[4];
	struct iovec iov[2] = {
		{ hdr, sizeof(hdr) },
		{ (void *)buf, len },
	};
	size_t sent;
	ssize_t n;
	int r;

	if (len > EPCGFS_CTL_MAX)
		return -E2BIG;
	for (int i = 0; i < 4; i++)
		hdr[i] = (unsigned char)(len >> (8 * i));
	msg->msg_iov = iov;
	msg->msg_iovlen = len ? 2 : 1;
	do
		n = sendmsg(fd, msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	sent = (size_t)n;
	if (sent < sizeof(hdr)) {
		r = io_all(fd, hdr + sent, sizeof(hdr) - sent, true);
		if (r)
			return r;
		sent = sizeof(hdr);
	}
	sent -= sizeof(hdr);
	return io_all(fd, (char *)buf + sent, len - sent, true);
}

int epcgfs_frame_send(int fd, const void *buf, size_t len)
{
	struct msghdr msg = { 0 };

	return send_frame(fd, &msg, buf, len);
}

int epcgfs_frame_recv(int fd, char *buf, size_t size, size_t *ret_len)
{
	unsigned char hdr[4];
	uint32_t len = 0;
	int r;

	r = io_all(fd, hdr, sizeof(hdr), false);
	if (r)
		return r;
	for (int i = 0; i < 4; i++)
		len |= (uint32_t)hdr[i] << (8 * i);
	if (len > EPCGFS_CTL_MAX || len >= size)
		return -E2BIG;
	r = io_all(fd, buf, len, false);
	if (r)
		return r;
	buf[len] = '\0';
	*ret_len = len;
	return 0;
}

int epcgfs_frame_send_fd(int fd, const void *buf, size_t len, int pass_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;

	if (pass_fd < 0)
		return epcgfs_frame_send(fd, buf, len);
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	/* The descriptor goes with the first byte. */
	return send_frame(fd, &msg, buf, len);
}

int epcgfs_frame_recv_fd(int fd, char *buf, size_t size, size_t *ret_len,
			 int *ret_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	unsigned char hdr[4];
	size_t got = 0;
	uint32_t len = 0;
	int r;

	*ret_fd = -1;
	while (got < sizeof(hdr)) {
		struct iovec iov = { hdr + got, sizeof(hdr) - got };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		struct cmsghdr *cm;
		ssize_t n;

		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0	    ? -ECONNRESET :
			    errno == EAGAIN ? -ETIMEDOUT :
					      -errno;
			goto err;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS ||
			    cm->cmsg_len != CMSG_LEN(sizeof(int)))
				continue;
			if (*ret_fd >= 0)
				close(*ret_fd);
			memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
		}
		got += (size_t)n;
	}
	for (int i = 0; i < 4; i++)
		len |= (uint32_t)hdr[i] << (8 * i);
	r = -E2BIG;
	if (len > EPCGFS_CTL_MAX || len >= size)
		goto err;
	r = io_all(fd, buf, len, false);
	if (r)
		goto err;
	buf[len] = '\0';
	*ret_len = len;
	return 0;
err:
	if (*ret_fd >= 0)
		close(*ret_fd);
	*ret_fd = -1;
	return r;
}

int epcgfs_ctl_addr(const char *mp, void *sockaddr_un, unsigned *ret_len)
{
	struct sockaddr_un *sa = sockaddr_un;
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
	int n;

	for (const unsigned char *p = (const void *)mp; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "epcg/%016llx",
		     (unsigned long long)h);
	*ret_len = (unsigned)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	return 0;
}

static int try_connect(const char *dir)
{
	struct sockaddr_un sa;
	char canon[PATH_MAX];
	unsigned len;
	int fd;

	if (!realpath(dir, canon))
		return -errno;
	epcgfs_ctl_addr(canon, &sa, &len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Make @path absolute and drop ".", ".." and repeated slashes lexically. */
static int normalize(const char *path, char *out, size_t size)
{
	char tmp[PATH_MAX * 2];
	size_t len = 0;
	char *tok, *save;

	if (path[0] == '/') {
		snprintf(tmp, sizeof(tmp), "%s", path);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		snprintf(tmp, sizeof(tmp), "%s/%s", cwd, path);
	}
	out[0] = '\0';
	for (tok = strtok_r(tmp, "/", &save); tok;
	     tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			char *slash = strrchr(out, '/');

			len = slash ? (size_t)(slash - out) : 0;
			out[len] = '\0';
			continue;
		}
		if (len + 1 + strlen(tok) + 1 > size)
			return -ENAMETOOLONG;
		len += (size_t)sprintf(out + len, "/%s", tok);
	}
	if (!len)
		snprintf(out, size, "/");
	return 0;
}

int epcgfs_ctl_connect(const char *path, char *rest, size_t rest_size)
{
	char norm[PATH_MAX];
	size_t len;
	int r;

	r = normalize(path, norm, sizeof(norm));
	if (r)
		return r;
	/* Longest prefix first: the innermost mount point wins. */
	for (len = strlen(norm); len > 0;) {
		char save = norm[len];
		int fd;

		norm[len] = '\0';
		fd = try_connect(len ? norm : "/");
		norm[len] = save;
		if (fd >= 0) {
			snprintf(rest, rest_size, "%s",
				 norm[len] ? norm + len : "/");
			return fd;
		}
		while (len > 0 && norm[--len] != '/')
			;
	}
	return -ECONNREFUSED;
}

int epcgfs_ctl_call(int fd, const char *request, char *reply, size_t size)
{
	size_t len;
	int r;

	r = epcgfs_frame_send(fd, request, strlen(request));
	return r ? r : epcgfs_frame_recv(fd, reply, size, &len);
}
