// SPDX-License-Identifier: MIT
/*
 * epcg mount / umount / misc: serve a live cgroup v2 tree and a software
 * EPC over FUSE, take it down, and (with --test-hooks) charge and uncharge
 * it by hand.
 *
 *	epcg mount [-f] [--epc SIZE] [--sections N] [--capacity NAME=VALUE]
 *		   [--policy v17|intent] [--test-hooks] [--log FILE]
 *		   [--metrics ADDR:PORT] [--metrics-file PATH] DIR
 *	epcg umount DIR
 *	epcg misc charge|uncharge DIR/CGROUP NAME AMOUNT
 *	epcg misc capacity DIR NAME AMOUNT
 *
 * The misc commands are silent on success; on failure they print the
 * errno name (EBUSY, EINVAL, ...) on stderr and exit 1.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <epcg/metrics.h>
#include <epcg/misc.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "epcgfs.h"

#define DEFAULT_EPC (128ull << 20)
#define UMOUNT_WAIT_MS 5000

static const struct option mount_options[] = {
	{ "foreground", no_argument, NULL, 'f' },
	{ "epc", required_argument, NULL, 'e' },
	{ "sections", required_argument, NULL, 's' },
	{ "capacity", required_argument, NULL, 'c' },
	{ "policy", required_argument, NULL, 'p' },
	{ "test-hooks", no_argument, NULL, 't' },
	{ "log", required_argument, NULL, 'l' },
	{ "metrics", required_argument, NULL, 'm' },
	{ "metrics-file", required_argument, NULL, 'M' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static void mount_usage(FILE *f)
{
	fprintf(f,
		"usage: epcg mount [-f] [--epc SIZE] [--sections N]\n"
		"                  [--capacity NAME=VALUE] [--policy v17|intent]\n"
		"                  [--test-hooks] [--log FILE]\n"
		"                  [--metrics ADDR:PORT] [--metrics-file PATH] DIR\n\n"
		"Serves a cgroup v2 tree with the misc controller at DIR, over a\n"
		"software EPC that 'epcg enclave' clients build enclaves on.\n"
		"  -f, --foreground  stay in the foreground\n"
		"  --epc SIZE        EPC size, the sgx_epc capacity (default 128M)\n"
		"  --sections N      EPC sections (NUMA nodes), 1-8 (default 2)\n"
		"  --capacity NAME=VALUE  capacity of another misc resource\n"
		"  --policy P        reclaim policy: v17 (default) or intent\n"
		"  --test-hooks      accept 'epcg misc charge|uncharge|capacity'\n"
		"  --log FILE        append the daemon's log to FILE\n"
		"  --metrics ADDR:PORT   serve Prometheus metrics on a loopback\n"
		"                    address (e.g. 127.0.0.1:9464)\n"
		"  --metrics-file PATH   write them to PATH every 10 s (for\n"
		"                    node_exporter's textfile collector)\n");
}

static int parse_capacity(const char *arg, struct epcgfs_options *o)
{
	const char *eq = strchr(arg, '=');
	uint64_t v;
	int res;

	if (!eq)
		return -EINVAL;
	res = epcg_misc_res_lookup(arg, (size_t)(eq - arg));
	if (res < 0 || cli_parse_size(eq + 1, &v) < 0)
		return -EINVAL;
	o->capacity[res] = v;
	return 0;
}

/*
 * The file system mounted exactly at canonical path @dir, from
 * /proc/self/mountinfo (mount point: field 5, octal escapes; type: the
 * first field after " - "), copied to @type.  Return: true if one is.
 */
static bool mounted_at(const char *dir, char *type, size_t size)
{
	char line[4096], mp[PATH_MAX], *sep;
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *p = line;
		size_t n = 0;

		for (int field = 0; field < 4 && p; field++) {
			p = strchr(p, ' ');
			p = p ? p + 1 : NULL;
		}
		if (!p)
			continue;
		while (*p && *p != ' ' && n + 1 < sizeof(mp)) {
			unsigned o;

			if (p[0] == '\\' && sscanf(p + 1, "%3o", &o) == 1) {
				mp[n++] = (char)o;
				p += 4;
			} else {
				mp[n++] = *p++;
			}
		}
		mp[n] = '\0';
		sep = strstr(p, " - ");
		if (strcmp(mp, dir) || !sep)
			continue;
		found = true;
		snprintf(type, size, "%.*s", (int)strcspn(sep + 3, " \n"),
			 sep + 3);
	}
	fclose(f);
	return found;
}

/*
 * Refuse a mount point that cannot take the tree, with a message that
 * says why: a missing path, not a directory, a stale FUSE mount (its
 * daemon is gone), a file system already mounted there (a second epcg,
 * or any other: the tree would hide it), or a directory with files in it
 * (they would be hidden).  Return: 0, or 1 after the message.
 */
static int check_mountpoint(const char *path)
{
	char *dir, type[64];
	struct dirent *de;
	struct stat st;
	bool empty = true;
	DIR *d;

	if (stat(path, &st)) {
		if (errno == ENOTCONN)
			return cli_error("mount: %s: a stale mount (its daemon "
					 "is gone); run 'epcg umount %s' first",
					 path, path);
		return cli_error("mount: %s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return cli_error("mount: %s: not a directory", path);
	dir = realpath(path, NULL);
	if (!dir)
		return cli_error("mount: %s: %s", path, strerror(errno));
	if (mounted_at(dir, type, sizeof(type))) {
		free(dir);
		if (!strcmp(type, "fuse.epcg"))
			return cli_error("mount: %s: an epcg file system is "
					 "already mounted there",
					 path);
		return cli_error("mount: %s: a %s file system is already "
				 "mounted there",
				 path, type);
	}
	free(dir);
	d = opendir(path);
	if (!d)
		return cli_error("mount: %s: %s", path, strerror(errno));
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	if (!empty)
		return cli_error("mount: %s: not empty (the tree would hide "
				 "its files)",
				 path);
	return 0;
}

int cmd_mount(int argc, char **argv)
{
	struct epcgfs_options o = {
		.nr_sections = 2,
		.policy = "v17",
	};
	int c;

	o.capacity[EPCG_MISC_RES_SGX_EPC] = DEFAULT_EPC;
	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", mount_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.foreground = true;
			break;
		case 'e':
			if (cli_parse_size(optarg,
					   &o.capacity[EPCG_MISC_RES_SGX_EPC]))
				return cli_usage_error(
					"mount: bad --epc size '%s'", optarg);
			break;
		case 's':
			o.nr_sections = (unsigned)atoi(optarg);
			if (o.nr_sections < 1 || o.nr_sections > 8)
				return cli_usage_error(
					"mount: --sections must be 1 to 8, not '%s'",
					optarg);
			break;
		case 'c':
			if (parse_capacity(optarg, &o))
				return cli_usage_error(
					"mount: bad --capacity '%s' (NAME=VALUE)",
					optarg);
			break;
		case 'p':
			if (strcmp(optarg, "v17") && strcmp(optarg, "intent"))
				return cli_usage_error(
					"mount: --policy must be v17 or intent, not '%s'",
					optarg);
			o.policy = optarg;
			break;
		case 't':
			o.test_hooks = true;
			break;
		case 'l':
			o.log = optarg;
			break;
		case 'm': {
			char addr[256];
			uint16_t port;

			if (epcg_metrics_listen_parse(optarg, addr,
						      sizeof(addr), &port))
				return cli_usage_error(
					"mount: --metrics must be ADDR:PORT, "
					"not '%s'",
					optarg);
			o.metrics = optarg;
			break;
		}
		case 'M':
			if (!*optarg)
				return cli_usage_error(
					"mount: --metrics-file needs a path");
			o.metrics_file = optarg;
			break;
		case 'h':
			mount_usage(stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("mount: expected one DIR (see "
				       "'epcg mount --help')");
	o.mountpoint = argv[optind];
	if (!o.capacity[EPCG_MISC_RES_SGX_EPC] ||
	    o.capacity[EPCG_MISC_RES_SGX_EPC] % 4096 ||
	    o.capacity[EPCG_MISC_RES_SGX_EPC] / 4096 < o.nr_sections)
		return cli_usage_error(
			"mount: the EPC must be a multiple of 4096 bytes with "
			"at least one page per section");
	if (check_mountpoint(o.mountpoint))
		return 1;
	return epcgfs_main(&o);
}

/*
 * Ask the daemon serving @path.  A @request ending in a space gets the
 * cgroup path below the mount point appended.  Return 0 or -errno.
 */
static int ctl_ask(const char *path, const char *request, char *reply,
		   size_t size)
{
	char rest[4096], req[EPCGFS_CTL_MAX + 1];
	size_t len = strlen(request);
	int fd, r;

	fd = epcgfs_ctl_connect(path, rest, sizeof(rest));
	if (fd < 0)
		return fd;
	if ((size_t)snprintf(req, sizeof(req), "%s%s", request,
			     len && request[len - 1] == ' ' ? rest : "") >=
	    sizeof(req)) {
		close(fd);
		return -E2BIG;
	}
	r = epcgfs_ctl_call(fd, req, reply, size);
	close(fd);
	return r;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cmd_umount(int argc, char **argv)
{
	char reply[64];
	bool served;
	pid_t pid;
	int st;

	if (argc != 2 || argv[1][0] == '-') {
		if (argc == 2 && !strcmp(argv[1], "--help")) {
			printf("usage: epcg umount DIR\n");
			return 0;
		}
		return cli_usage_error("umount: expected one DIR");
	}
	served = !ctl_ask(argv[1], "pid", reply, sizeof(reply));
	pid = fork();
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-u", "--", argv[1],
		       (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return cli_error("umount: %s", strerror(errno));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		/* No fusermount3: root can unmount directly. */
		if (umount2(argv[1], 0))
			return cli_error("umount: %s: %s", argv[1],
					 strerror(errno));
	} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		return 1; /* fusermount3 said why */
	}
	/* Wait until the daemon has let go of its socket. */
	for (long t0 = now_ms(); served && now_ms() - t0 < UMOUNT_WAIT_MS;) {
		served = !ctl_ask(argv[1], "ping", reply, sizeof(reply));
		if (served)
			usleep(10000);
	}
	return 0;
}

static int misc_fail(int err)
{
	fprintf(stderr, "%s\n", cli_errno_name(err));
	return 1;
}

int cmd_misc(int argc, char **argv)
{
	char reply[64], req[512];
	const char *verb;
	uint64_t v;
	long r;
	int err;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: epcg misc charge|uncharge DIR/CGROUP NAME AMOUNT\n"
		       "       epcg misc capacity DIR NAME AMOUNT\n"
		       "(needs a tree mounted with --test-hooks)\n");
		return 0;
	}
	if (argc != 5)
		return cli_usage_error(
			"misc: expected charge|uncharge|capacity "
			"PATH NAME AMOUNT");
	verb = argv[1];
	if (strcmp(verb, "charge") && strcmp(verb, "uncharge") &&
	    strcmp(verb, "capacity"))
		return cli_usage_error("misc: unknown subcommand '%s'", verb);
	if (cli_parse_size(argv[4], &v))
		return cli_usage_error("misc: bad amount '%s'", argv[4]);
	/* capacity names the mount point; the others a cgroup below it. */
	snprintf(req, sizeof(req), "%s %s %" PRIu64 "%s", verb, argv[3], v,
		 strcmp(verb, "capacity") ? " " : "");
	err = ctl_ask(argv[2], req, reply, sizeof(reply));
	if (err)
		return misc_fail(err);
	r = strtol(reply, NULL, 10);
	return r < 0 ? misc_fail((int)r) : 0;
}
