// SPDX-License-Identifier: MIT
/*
 * The control socket's framing (fs/epcgfs-proto.c): a frame leaves in one
 * system call, so the receiver finds it whole.  The daemon reads a
 * frame's body with a timeout once the header has come; a sender that
 * wrote header and body separately and was descheduled between them on a
 * busy host lost its connection (seen once in the soak as EPIPE).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "epcgfs.h"
#include "test.h"

/*
 * The test's own send() and sendmsg() take the place of the C library's
 * for the framing code linked into this program, so that the calls a
 * frame takes can be counted; they pass the data on unchanged.
 */
static unsigned nr_sends;

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	nr_sends++;
	return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	nr_sends++;
	return syscall(SYS_sendmsg, fd, msg, flags);
}

static const size_t sizes[] = { 0, 1, 63, 1000, EPCGFS_CTL_MAX };

static void pair(int sv[2])
{
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
}

/* What one non-blocking read finds queued: the whole frame, no more. */
static size_t read_once(int fd, unsigned char *buf, size_t size, int *got_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { buf, size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

	ASSERT_TRUE(n > 0);
	*got_fd = -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(got_fd, CMSG_DATA(cm), sizeof(int));
	return (size_t)n;
}

static void check_frame(const unsigned char *got, size_t n, const char *body,
			size_t len)
{
	ASSERT_EQ(n, 4 + len);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(got[i], (unsigned char)(len >> (8 * i)));
	ASSERT_MEMEQ(got + 4, body, len);
}

TEST(frame_leaves_in_one_call)
{
	static char body[EPCGFS_CTL_MAX];
	static unsigned char got[2 * EPCGFS_CTL_MAX];
	int sv[2], fd;

	memset(body, 'x', sizeof(body));
	pair(sv);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n;

		body[0] = (char)('a' + i);
		nr_sends = 0;
		ASSERT_OK(epcgfs_frame_send(sv[0], body, sizes[i]));
		ASSERT_EQ(nr_sends, 1);
		n = read_once(sv[1], got, sizeof(got), &fd);
		check_frame(got, n, body, sizes[i]);
		ASSERT_EQ(fd, -1);
	}
	ASSERT_ERR(epcgfs_frame_send(sv[0], body, EPCGFS_CTL_MAX + 1), E2BIG);
	close(sv[0]);
	close(sv[1]);
}

TEST(frame_with_descriptor_leaves_in_one_call)
{
	static char body[EPCGFS_CTL_MAX];
	static unsigned char got[2 * EPCGFS_CTL_MAX];
	int sv[2], fd, pass = open("/dev/null", O_RDONLY);

	ASSERT_TRUE(pass >= 0);
	memset(body, 'y', sizeof(body));
	pair(sv);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n;

		nr_sends = 0;
		ASSERT_OK(epcgfs_frame_send_fd(sv[0], body, sizes[i], pass));
		ASSERT_EQ(nr_sends, 1);
		n = read_once(sv[1], got, sizeof(got), &fd);
		check_frame(got, n, body, sizes[i]);
		ASSERT_TRUE(fd >= 0);
		close(fd);
	}
	close(pass);
	close(sv[0]);
	close(sv[1]);
}

/* Round trip through the receivers, several frames queued back to back. */
TEST(frames_back_to_back_round_trip)
{
	char buf[EPCGFS_CTL_MAX + 1], body[64];
	int sv[2], fd;
	size_t len;

	pair(sv);
	for (int i = 0; i < 50; i++) {
		len = (size_t)snprintf(body, sizeof(body), "request %d", i);
		if (i % 2)
			ASSERT_OK(epcgfs_frame_send(sv[0], body, len));
		else
			ASSERT_OK(epcgfs_frame_send_fd(sv[0], body, len, 0));
	}
	for (int i = 0; i < 50; i++) {
		snprintf(body, sizeof(body), "request %d", i);
		ASSERT_OK(epcgfs_frame_recv_fd(sv[1], buf, sizeof(buf), &len,
					       &fd));
		ASSERT_STREQ(buf, body);
		ASSERT_EQ(fd >= 0, i % 2 == 0);
		if (fd >= 0)
			close(fd);
	}
	close(sv[0]);
	close(sv[1]);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(frame_leaves_in_one_call),
	TEST_ENTRY(frame_with_descriptor_leaves_in_one_call),
	TEST_ENTRY(frames_back_to_back_round_trip),
};
TEST_MAIN(tests)
