// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the trace readers (sim/workload.h) on arbitrary bytes, read
 * from memory through a FILE, then replayed through a workload generator.
 *
 * The first eight bytes choose the options: format (txt, csv, addr),
 * csv column (0 to 64), delimiter (any byte), header, and the base
 * address of addr traces (four bytes, shifted to a page); the rest is the
 * trace.  Whatever the input, the reader either fills a trace of at least
 * one key (no more keys than lines) or fails with -EINVAL and one
 * "NAME..." message; a trace workload replaying it yields pages inside
 * the enclave only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OPT_BYTES 8
#define NAME "fuzz.trace"

static void replay(const struct epcg_trace *tr)
{
	struct epcg_workload wl = {
		.pattern = EPCG_PATTERN_TRACE,
		.accesses = 64,
	};
	const uint64_t size = 64 * 4096;
	struct epcg_workload_gen g;
	uint64_t think;
	int64_t page;
	unsigned n = 0;

	if (epcg_workload_gen_init(&g, &wl, size, tr, 1, 0, 1000))
		abort();
	while ((page = epcg_workload_gen_next(&g, n * 1000ull, &think)) >= 0) {
		if ((uint64_t)page >= size / 4096 || ++n > 64)
			abort();
	}
}

/*
 * A stream with nothing in it: fmemopen() of zero bytes fails in some C
 * libraries, and a file system path may not be what it should be.
 */
static FILE *empty_file(void)
{
	FILE *f;
	int p[2];

	if (pipe(p))
		return NULL;
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f)
		close(p[0]);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct epcg_trace_opts o = { 0 };
	struct epcg_trace tr = { NULL, 0 };
	char err[256] = "";
	uint64_t lines = 1;
	FILE *f;
	int r;

	if (size < OPT_BYTES)
		return 0;
	o.format = (enum epcg_trace_format)(data[0] % EPCG_TRACE_FORMAT_NR);
	o.id_col = data[1] % 65;
	o.delim = (char)data[2];
	o.header = data[3] & 1;
	o.base = (uint64_t)(data[4] | data[5] << 8 | data[6] << 16 |
			    (uint32_t)data[7] << 24)
		 << 12;
	data += OPT_BYTES;
	size -= OPT_BYTES;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';

	f = size ? fmemopen((void *)data, size, "r") : empty_file();
	if (!f)
		return 0;
	r = epcg_trace_read(f, NAME, &o, &tr, err, sizeof(err));
	fclose(f);
	if (r == 0) {
		if (!tr.nr || !tr.keys || tr.nr > lines)
			abort();
		replay(&tr);
		epcg_trace_finish(&tr);
	} else if (r == -EINVAL) {
		if (strncmp(err, NAME ":", strlen(NAME ":")) || tr.keys)
			abort();
	} else if (r != -ENOMEM) {
		abort();
	}
	return 0;
}
