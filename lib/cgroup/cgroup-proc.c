// SPDX-License-Identifier: MIT
/*
 * The live answers to "does this process exist" and "who is its parent",
 * read from /proc, for struct epcg_cgroup_ops of the mounted tree.
 *
 * A zombie has exited: it is no live process, so it can neither be moved
 * nor make a cgroup populated.  A thread id names its process (writing
 * a TID into cgroup.procs moves the whole process).  Kernel threads cannot
 * be moved (EINVAL), as on a real host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-internal.h"

#define PF_KTHREAD_FLAG 0x00200000u

/*
 * Read the state, parent and flags fields of /proc/@pid/stat.  The command
 * name in parentheses may contain anything, so parse after its last ')'.
 */
static int read_stat(pid_t pid, char *state, int *ppid, unsigned *flags)
{
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 1, " %c %d %*d %*d %*d %*d %u", state, ppid, flags) != 3)
		return -ESRCH;
	return 0;
}

/* The Tgid: line of /proc/@pid/status: the process a thread belongs to. */
static pid_t read_tgid(pid_t pid)
{
	char path[64], line[256];
	pid_t tgid = -ESRCH;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

int epcg_cgroup_proc_lookup_live(pid_t pid, void *data)
{
	unsigned flags;
	pid_t tgid;
	char state;
	int ppid;

	if (pid <= 0)
		return -ESRCH;
	tgid = read_tgid(pid);
	if (tgid <= 0 || read_stat(tgid, &state, &ppid, &flags))
		return -ESRCH;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	if (flags & PF_KTHREAD_FLAG)
		return -EINVAL;
	return tgid;
}

int epcg_cgroup_proc_parent_live(pid_t pid, void *data)
{
	unsigned flags;
	char state;
	int ppid;

	if (pid <= 0 || read_stat(pid, &state, &ppid, &flags))
		return -ESRCH;
	return ppid > 0 ? ppid : 0;
}
