// SPDX-License-Identifier: MIT
/*
 * Error reporting and argument parsing shared by the subcommands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int __attribute__((format(printf, 2, 0)))
report(int code, const char *fmt, va_list ap)
{
	fputs("epcg: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return code;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = report(2, fmt, ap);
	va_end(ap);
	return r;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = report(1, fmt, ap);
	va_end(ap);
	return r;
}

int cli_parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {
		{ "", 0 },    { "K", 10 },  { "M", 20 },  { "G", 30 },
		{ "T", 40 },  { "Ki", 10 }, { "Mi", 20 }, { "Gi", 30 },
		{ "Ti", 40 }, { "k", 10 },
	};
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -EINVAL;
		*ret = (uint64_t)v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

int cli_parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

const char *cli_errno_name(int err)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" },	{ ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
		{ EINTR, "EINTR" },	{ EIO, "EIO" },	      { E2BIG, "E2BIG" },
		{ EAGAIN, "EAGAIN" },	{ ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
		{ EFAULT, "EFAULT" },	{ EBUSY, "EBUSY" },   { EEXIST, "EEXIST" },
		{ EINVAL, "EINVAL" },	{ ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },
		{ ENOTEMPTY, "ENOTEMPTY" }, { ENOTCONN, "ENOTCONN" },
		{ ECONNREFUSED, "ECONNREFUSED" }, { 512, "ERESTARTSYS" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENODEV, "ENODEV" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { ECONNRESET, "ECONNRESET" },
		{ EPIPE, "EPIPE" },
	};
	int e = err < 0 ? -err : err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	return "EUNKNOWN";
}
