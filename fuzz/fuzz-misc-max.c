// SPDX-License-Identifier: MIT
/*
 * Fuzz target: one write(2) to misc.max (SPEC M5) on arbitrary bytes.
 *
 * The first byte says which resources are present (bit i: resource i has
 * a capacity), so the capacity check is reached both ways; the rest is
 * the write.  The target checks the parser against an independent reading
 * of M5 built on strtoull() (same errno, same resource, same value), that
 * epcg_misc_file_write() agrees with the parser, that a failed write
 * changes no limit and a successful one changes exactly one, and that
 * every line misc.max then shows parses back to the value it shows.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/misc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* M5's whitespace (the kernel's isspace() in ASCII). */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/*
 * M5 read a second way: a NUL ends the request, strip, split at the first
 * space, the name, then "max" or a number that strtoull() takes whole
 * (base 0), with no sign but '+', no leading blank, at most one '\n'
 * after it; overflow before junk; capacity last.
 */
static int oracle(const struct epcg_misc *m, const char *buf, size_t len,
		  enum epcg_misc_res *ret_res, uint64_t *ret_max)
{
	char s[EPCG_MISC_WRITE_MAX + 1], *b = s, *sp, *v, *end;
	unsigned long long x;
	int res;

	if (len > EPCG_MISC_WRITE_MAX)
		return -E2BIG;
	memcpy(s, buf, len);
	s[len] = '\0';
	len = strlen(s);
	while (len && is_space(b[len - 1]))
		b[--len] = '\0';
	while (*b && is_space(*b))
		b++;
	sp = strchr(b, ' ');
	if (!sp)
		return -EINVAL;
	res = epcg_misc_res_lookup(b, (size_t)(sp - b));
	if (res < 0)
		return -EINVAL;
	v = sp + 1;
	if (!strcmp(v, "max")) {
		x = EPCG_MISC_MAX;
	} else {
		const char *d = v + (*v == '+');

		/* strtoull() would skip blanks, negate, or (C23) take 0b. */
		if (!*v || is_space(*v) || *v == '-' || is_space(*d) ||
		    *d == '-' || *d == '+' ||
		    (d[0] == '0' && (d[1] == 'b' || d[1] == 'B')))
			return -EINVAL;
		errno = 0;
		x = strtoull(v, &end, 0);
		if (errno == ERANGE)
			return -ERANGE;
		if (end == v || errno)
			return -EINVAL;
		if (*end == '\n')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (!epcg_misc_capacity(m, res))
		return -EINVAL;
	*ret_res = res;
	*ret_max = x;
	return 0;
}

static void snapshot(const struct epcg_misc_cg *cg,
		     uint64_t max[EPCG_MISC_RES_NR])
{
	for (int r = 0; r < EPCG_MISC_RES_NR; r++)
		max[r] = epcg_misc_max(cg, r);
}

/* Every line of misc.max parses back to what it shows. */
static void check_show(struct epcg_misc *m, struct epcg_misc_cg *cg)
{
	char buf[EPCG_MISC_SHOW_BUFSZ], *line, *nl;
	enum epcg_misc_res res;
	uint64_t max;
	int n = epcg_misc_file_show(cg, EPCG_MISC_FILE_MAX, buf, sizeof(buf));

	if (n < 0)
		abort();
	for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
		if (epcg_misc_max_parse(m, line, (size_t)(nl + 1 - line), &res,
					&max) ||
		    epcg_misc_max(cg, res) != max)
			abort();
	}
	if (*line)
		abort(); /* every line ends with '\n' */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t before[EPCG_MISC_RES_NR], after[EPCG_MISC_RES_NR];
	enum epcg_misc_res res = EPCG_MISC_RES_NR, ores = EPCG_MISC_RES_NR;
	uint64_t max = 0, omax = 0;
	struct epcg_misc_cg *cg;
	struct epcg_misc *m;
	const char *buf;
	size_t len;
	int r, o, w;

	if (!size)
		return 0;
	buf = (const char *)data + 1;
	len = size - 1;
	if (epcg_misc_create(&m))
		abort();
	for (int i = 0; i < EPCG_MISC_RES_NR; i++)
		if (data[0] & (1u << i) &&
		    epcg_misc_set_capacity(m, i, (uint64_t)(i + 1) << 30))
			abort();
	if (epcg_misc_cg_create(epcg_misc_root(m), "f", &cg))
		abort();

	r = epcg_misc_max_parse(m, buf, len, &res, &max);
	o = oracle(m, buf, len, &ores, &omax);
	if (r != o || (!r && (res != ores || max != omax)))
		abort();
	if (r && r != -EINVAL && r != -ERANGE && r != -E2BIG)
		abort();

	snapshot(cg, before);
	w = epcg_misc_file_write(cg, EPCG_MISC_FILE_MAX, buf, len);
	snapshot(cg, after);
	if (len && w != r)
		abort();
	for (int i = 0; i < EPCG_MISC_RES_NR; i++)
		if (after[i] != (!w && len && i == (int)res ? max : before[i]))
			abort();
	check_show(m, cg);

	/* The root has no misc.max; a read-only file takes no write. */
	if (epcg_misc_file_write(epcg_misc_root(m), EPCG_MISC_FILE_MAX, buf,
				 len) != -ENOENT ||
	    epcg_misc_file_write(cg, EPCG_MISC_FILE_CURRENT, buf, len) !=
		    -EINVAL)
		abort();

	if (epcg_misc_cg_remove(cg))
		abort();
	epcg_misc_destroy(m);
	return 0;
}
