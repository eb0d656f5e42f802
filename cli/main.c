// SPDX-License-Identifier: MIT
/*
 * epcg: the command-line front end.  `epcg SUBCOMMAND [ARGS]`; each
 * subcommand lives in its own cmd-*.c and uses only the public headers.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "epcg-config.h"

static const struct cli_command commands[] = {
	{ "run", cmd_run,
	  "run a scenario on a software EPC and print per-cgroup results" },
	{ "sweep", cmd_sweep,
	  "run a scenario once per limit of a cgroup and print the curve" },
	{ "mount", cmd_mount, "serve a live cgroup v2 tree at a directory" },
	{ "umount", cmd_umount, "unmount a tree served by 'epcg mount'" },
	{ "misc", cmd_misc, "charge or uncharge a mounted tree (test hooks)" },
	{ "enclave", cmd_enclave,
	  "run a client enclave on the software EPC of a mounted tree" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: epcg [--help] [--version] COMMAND [ARGS]\n\n"
		   "A software SGX EPC with the cgroup v2 misc controller.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nRun 'epcg COMMAND --help' for a command's options.\n"
		   "Without a command, epcg runs 'run' on its embedded "
		   "default scenario.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		char run[] = "run";

		return cmd_run(1, (char *[]){ run, NULL });
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("epcg %s\n", EPCG_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return cli_usage_error("unknown option '%s' (see 'epcg --help')",
				       argv[1]);
	return cli_usage_error("unknown command '%s' (see 'epcg --help')",
			       argv[1]);
}
