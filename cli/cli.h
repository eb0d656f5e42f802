/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the epcg command: one function per subcommand, and the
 * small helpers they use to report errors the same way.
 */
#ifndef EPCG_CLI_H
#define EPCG_CLI_H

#include <stdint.h>

struct cli_command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

int cmd_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_misc(int argc, char **argv);
int cmd_enclave(int argc, char **argv);

/* Print "epcg: <message>\n" on stderr; returns the exit code 2 (usage). */
#define EPCG_ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "epcg: <message>\n" on stderr; returns the exit code 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse a size: bytes with an optional K/M/G/T suffix (powers of 1024) or
 * a Kubernetes binary suffix (Ki, Mi, Gi, Ti).  Return: 0 or -EINVAL.
 */
int cli_parse_size(const char *s, uint64_t *ret);

/* Parse a decimal count (digits only).  Return: 0 or -EINVAL. */
int cli_parse_u64(const char *s, uint64_t *ret);

/* The errno name for a negative or positive errno ("EBUSY"). */
const char *cli_errno_name(int err);

#endif
