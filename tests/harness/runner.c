// SPDX-License-Identifier: MIT
/*
 * The test runner: one forked process per test, a timeout, TAP output and
 * the closing "N passed, N failed, N skipped" line.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define SKIP_EXIT 77
#define DEFAULT_TIMEOUT_S 60

static char skip_reason[256];

_Noreturn void epcg_test_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(skip_reason, sizeof(skip_reason), fmt, ap);
	va_end(ap);
	printf("# skip: %s\n", skip_reason);
	fflush(stdout);
	_exit(SKIP_EXIT);
}

_Noreturn void epcg_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "# %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void epcg_test_note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

uint64_t epcg_test_seed(void)
{
	static uint64_t seed;
	static int noted;
	const char *s = getenv("EPCG_SEED");

	if (!noted) {
		seed = s ? strtoull(s, NULL, 0) : 20261126;
		epcg_test_note("seed %llu (set EPCG_SEED to change)",
			       (unsigned long long)seed);
		noted = 1;
	}
	return seed;
}

double epcg_test_stress_seconds(double def)
{
	const char *s = getenv("EPCG_STRESS_SECONDS");
	double v = s ? strtod(s, NULL) : def;

	return v > 0 ? v : def;
}

uint64_t epcg_test_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

const char *epcg_test_errname(int err)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" },   { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
		{ EINTR, "EINTR" },   { EIO, "EIO" },	    { E2BIG, "E2BIG" },
		{ EBADF, "EBADF" },   { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" }, { EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" },
		{ ERANGE, "ERANGE" }, { ENOTEMPTY, "ENOTEMPTY" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { ENOTSUP, "ENOTSUP" },
		{ 512, "ERESTARTSYS" },
	};
	int e = err < 0 ? -err : err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	return "E?";
}

static int selected(const char *name, int argc, char **argv)
{
	const char *env = getenv("EPCG_TESTS");

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], name))
				return 1;
		return 0;
	}
	if (env && *env) {
		size_t n = strlen(name);

		for (const char *p = env; p && *p;) {
			const char *end = strchr(p, ':');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			if (len == n && !strncmp(p, name, n))
				return 1;
			p = end ? end + 1 : NULL;
		}
		return 0;
	}
	return 1;
}

static unsigned timeout_of(const struct epcg_test *t)
{
	const char *s = getenv("EPCG_TEST_TIMEOUT_SCALE");
	double scale = s ? strtod(s, NULL) : 1.0;
	unsigned base = t->timeout_s ? t->timeout_s : DEFAULT_TIMEOUT_S;

	if (scale < 1.0)
		scale = 1.0;
	return (unsigned)(base * scale);
}

/* Run one test in a child; return 0 pass, 1 fail, 2 skip. */
static int run_one(const struct epcg_test *t, char *why, size_t whylen)
{
	unsigned timeout = timeout_of(t);
	struct timespec start, now;
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		t->fn();
		fflush(stdout);
		_exit(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(why, whylen, "timed out after %u s", timeout);
			return 1;
		}
		usleep(2000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT)
		return 2;
	if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
	return 1;
}

int epcg_test_main(const struct epcg_test *tests, size_t nr, int argc,
		   char **argv)
{
	unsigned passed = 0, failed = 0, skipped = 0, n = 0;
	char why[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < nr; i++)
		n += selected(tests[i].name, argc, argv);
	printf("1..%u\n", n);
	n = 0;
	for (size_t i = 0; i < nr; i++) {
		if (!selected(tests[i].name, argc, argv))
			continue;
		n++;
		why[0] = 0;
		switch (run_one(&tests[i], why, sizeof(why))) {
		case 0:
			passed++;
			printf("ok %u - %s\n", n, tests[i].name);
			break;
		case 2:
			skipped++;
			printf("ok %u - %s # SKIP\n", n, tests[i].name);
			break;
		default:
			failed++;
			printf("not ok %u - %s # %s\n", n, tests[i].name, why);
			break;
		}
	}
	printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
