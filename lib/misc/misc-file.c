// SPDX-License-Identifier: MIT
/*
 * The misc.* interface files as pure functions over buffers: which files a
 * cgroup has (M3), what they read (M4) and how a misc.max write is parsed
 * and applied (M5).  A front end (FUSE, CLI) only moves bytes.
 *
 * The misc.max parser follows the kernel's order of checks exactly, because
 * scripts and container runtimes depend on which errno a bad write gets:
 * size, whitespace strip, split at the first space, name, value ("max" or a
 * C-style unsigned number), and only then the capacity.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <inttypes.h>

#include "misc-internal.h"

static const char *const file_names[EPCG_MISC_FILE_NR] = {
	[EPCG_MISC_FILE_CAPACITY] = "misc.capacity",
	[EPCG_MISC_FILE_CURRENT] = "misc.current",
	[EPCG_MISC_FILE_PEAK] = "misc.peak",
	[EPCG_MISC_FILE_MAX] = "misc.max",
	[EPCG_MISC_FILE_EVENTS] = "misc.events",
	[EPCG_MISC_FILE_EVENTS_LOCAL] = "misc.events.local",
};

static bool file_valid(enum epcg_misc_file file)
{
	return (unsigned)file < EPCG_MISC_FILE_NR;
}

const char *epcg_misc_file_name(enum epcg_misc_file file)
{
	return file_valid(file) ? file_names[file] : NULL;
}

int epcg_misc_file_lookup(const char *name)
{
	if (!name)
		return -ENOENT;
	for (int i = 0; i < EPCG_MISC_FILE_NR; i++)
		if (!strcmp(file_names[i], name))
			return i;
	return -ENOENT;
}

unsigned epcg_misc_file_mode(enum epcg_misc_file file)
{
	if (!file_valid(file))
		return 0;
	return file == EPCG_MISC_FILE_MAX ? 0644 : 0444;
}

bool epcg_misc_file_exists(const struct epcg_misc_cg *cg,
			   enum epcg_misc_file file)
{
	if (!cg || !file_valid(file))
		return false;
	switch (file) {
	case EPCG_MISC_FILE_CAPACITY:
		return epcg_misc_cg_is_root(cg);
	case EPCG_MISC_FILE_CURRENT:
	case EPCG_MISC_FILE_PEAK:
		return true;
	default:
		return !epcg_misc_cg_is_root(cg);
	}
}

/*
 * The value @file shows for @res, and whether its line is shown at all:
 * capacity and max only for resources present (capacity > 0), the
 * counters also while non-zero, so a charge made before the capacity
 * dropped to 0 stays visible until it is uncharged (M4).
 */
static bool line_value(const struct epcg_misc_cg *cg, enum epcg_misc_file file,
		       enum epcg_misc_res res, uint64_t *ret)
{
	uint64_t cap = epcg_misc_capacity(cg->misc, res);

	switch (file) {
	case EPCG_MISC_FILE_CAPACITY:
		*ret = cap;
		return cap;
	case EPCG_MISC_FILE_MAX:
		*ret = epcg_misc_max(cg, res);
		return cap;
	case EPCG_MISC_FILE_CURRENT:
		*ret = epcg_misc_usage(cg, res);
		break;
	case EPCG_MISC_FILE_PEAK:
		*ret = epcg_misc_peak(cg, res);
		break;
	case EPCG_MISC_FILE_EVENTS:
		*ret = epcg_misc_events(cg, res);
		break;
	default:
		*ret = epcg_misc_events_local(cg, res);
		break;
	}
	return cap || *ret;
}

int epcg_misc_file_show(const struct epcg_misc_cg *cg, enum epcg_misc_file file,
			char *buf, size_t size)
{
	bool events = file == EPCG_MISC_FILE_EVENTS ||
		      file == EPCG_MISC_FILE_EVENTS_LOCAL;
	char tmp[EPCG_MISC_SHOW_BUFSZ];
	size_t len = 0;

	if (!epcg_misc_file_exists(cg, file))
		return -ENOENT;
	for (int i = 0; i < EPCG_MISC_RES_NR; i++) {
		uint64_t v;
		int n;

		if (!line_value(cg, file, i, &v))
			continue;
		if (file == EPCG_MISC_FILE_MAX && v == EPCG_MISC_MAX)
			n = snprintf(tmp + len, sizeof(tmp) - len, "%s max\n",
				     epcg_misc_res_name(i));
		else
			n = snprintf(tmp + len, sizeof(tmp) - len,
				     "%s%s %" PRIu64 "\n",
				     epcg_misc_res_name(i),
				     events ? ".max" : "", v);
		/* Cannot happen: the buffer fits every resource's line. */
		if (n < 0 || (size_t)n >= sizeof(tmp) - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	if (len >= size) {
		if (size)
			buf[0] = '\0';
		return -ENOSPC;
	}
	memcpy(buf, tmp, len);
	buf[len] = '\0';
	return (int)len;
}

/* ---- misc.max writes ------------------------------------------------- */

/* The kernel's isspace() set for strstrip(), in ASCII. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* The value of digit @c in bases up to 16; 16 if it is not a digit. */
static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 16;
}

/*
 * Parse @len bytes at @s as the kernel's kstrtou64(s, 0) would: an
 * optional '+'; base 16 after "0x"/"0X" if a hex digit follows, base 8
 * after a leading '0', else base 10; at least one digit; then at most one
 * '\n' and nothing else.  Overflow is reported before trailing junk, as
 * the kernel does.
 *
 * Return: 0; -ERANGE past 2^64-1; -EINVAL for anything else malformed.
 */
static int parse_u64(const char *s, size_t len, uint64_t *ret)
{
	bool overflow = false;
	unsigned base = 10;
	size_t i = 0, start;
	uint64_t v = 0;

	if (i < len && s[i] == '+')
		i++;
	if (i < len && s[i] == '0') {
		base = 8;
		if (i + 2 < len && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
		    digit_value(s[i + 2]) < 16) {
			base = 16;
			i += 2;
		}
	}
	for (start = i; i < len; i++) {
		unsigned d = digit_value(s[i]);

		if (d >= base)
			break;
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	if (overflow)
		return -ERANGE;
	if (i == start)
		return -EINVAL;
	if (i < len && s[i] == '\n')
		i++;
	if (i < len)
		return -EINVAL;
	*ret = v;
	return 0;
}

int epcg_misc_max_parse(const struct epcg_misc *m, const char *buf, size_t len,
			enum epcg_misc_res *ret_res, uint64_t *ret_max)
{
	const char *space, *value;
	size_t vlen;
	uint64_t max;
	int res, err;

	if (len > EPCG_MISC_WRITE_MAX)
		return -E2BIG;
	if (!m || (!buf && len) || !ret_res || !ret_max)
		return -EINVAL;
	/* The kernel sees a C string: a NUL byte ends the request. */
	if (len) {
		const char *nul = memchr(buf, '\0', len);

		if (nul)
			len = (size_t)(nul - buf);
	}
	while (len && is_space(buf[0])) {
		buf++;
		len--;
	}
	while (len && is_space(buf[len - 1]))
		len--;

	space = len ? memchr(buf, ' ', len) : NULL;
	if (!space)
		return -EINVAL;
	res = epcg_misc_res_lookup(buf, (size_t)(space - buf));
	if (res < 0)
		return res;

	value = space + 1;
	vlen = len - (size_t)(value - buf);
	if (vlen == 3 && !memcmp(value, "max", 3)) {
		max = EPCG_MISC_MAX;
	} else {
		err = parse_u64(value, vlen, &max);
		if (err)
			return err;
	}
	if (!epcg_misc_capacity(m, res))
		return -EINVAL;
	*ret_res = res;
	*ret_max = max;
	return 0;
}

int epcg_misc_file_write(struct epcg_misc_cg *cg, enum epcg_misc_file file,
			 const char *buf, size_t len)
{
	enum epcg_misc_res res;
	uint64_t max;
	int err;

	if (!epcg_misc_file_exists(cg, file))
		return -ENOENT;
	if (file != EPCG_MISC_FILE_MAX)
		return -EINVAL;
	/* Like cgroupfs: an empty write(2) succeeds and changes nothing. */
	if (!len)
		return 0;
	err = epcg_misc_max_parse(epcg_misc_cg_controller(cg), buf, len, &res,
				  &max);
	if (err)
		return err;
	return epcg_misc_set_max(cg, res, max);
}
