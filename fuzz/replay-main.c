// SPDX-License-Identifier: MIT
/*
 * Replay a fuzz corpus through its target without libFuzzer, as a plain
 * test: every file of the corpus directory (EPCG_FUZZ_CORPUS, or the
 * directories given as arguments) goes through LLVMFuzzerTestOneInput()
 * in name order, one TAP line each, then "N passed, N failed, N skipped".
 * A target that crashes takes the run down, which the test runner
 * reports; so regressions found by fuzzing stay fixed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EPCG_FUZZ_CORPUS
#error "EPCG_FUZZ_CORPUS must name the corpus directory"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *n;
	size_t cap = 0, len = 0, got;

	if (!f)
		return -1;
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			n = realloc(buf, cap);
			if (!n) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = n;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	*data = buf;
	*size = len;
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	const char *dirs[64];
	unsigned nr_dirs = 0, passed = 0, failed = 0, n = 0;
	char path[4096];

	if (argc > 1)
		for (int i = 1; i < argc && nr_dirs < 64; i++)
			dirs[nr_dirs++] = argv[i];
	else
		dirs[nr_dirs++] = EPCG_FUZZ_CORPUS;
	for (unsigned d = 0; d < nr_dirs; d++) {
		struct dirent **names;
		int nr = scandir(dirs[d], &names, NULL, by_name);

		if (nr < 0) {
			printf("not ok %u - cannot read corpus %s\n", ++n,
			       dirs[d]);
			failed++;
			continue;
		}
		for (int i = 0; i < nr; i++) {
			uint8_t *data;
			size_t size;

			if (names[i]->d_name[0] == '.') {
				free(names[i]);
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", dirs[d],
				 names[i]->d_name);
			if (read_file(path, &data, &size)) {
				printf("not ok %u - %s unreadable\n", ++n,
				       names[i]->d_name);
				failed++;
			} else {
				LLVMFuzzerTestOneInput(data, size);
				free(data);
				printf("ok %u - %s\n", ++n, names[i]->d_name);
				passed++;
			}
			fflush(stdout);
			free(names[i]);
		}
		free(names);
	}
	printf("1..%u\n", n);
	printf("%u passed, %u failed, 0 skipped\n", passed, failed);
	return failed ? 1 : 0;
}
