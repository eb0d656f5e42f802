// SPDX-License-Identifier: MIT
/*
 * The live interface under load (target 7): what a reader of the mounted
 * tree and an enclave client pay for going through the daemon.
 *
 * The program mounts a tree (epcg mount, 256 MiB of EPC in 2 sections),
 * enables misc, makes cgroups /a and /b, and runs two client processes,
 * one in each, each with an enclave of 16 MiB whose pages all stay
 * resident.  Two phases of PHASE_SECONDS each:
 *
 *  1. both clients read 8 bytes of a uniformly drawn page, 4096 reads per
 *     request (the window carries the batch: one round trip, no copy
 *     through the socket), as fast as they can; meanwhile this process
 *     reads /a/misc.current through the mount (open, read, close: what
 *     `cat` does, without starting a process) and, alternating with it,
 *     a regular file with the same content (the baseline: the same system
 *     calls without FUSE);
 *  2. client /a keeps loading the daemon with batches; client /b makes
 *     one-read requests, each timed, alternating with a "ping" on the
 *     same connection (the baseline: a round trip that does no work).
 *
 * Reported: the latency of the misc.current read and of a one-page access
 * (p50, p99) against their baselines; each client's accesses per second
 * of wall time in phase 1; and the CPU time of the clients and the
 * daemon per access, against the same accesses made in-process on a
 * machine of the same shape (the floor: the enclave lock, the page lookup
 * and the copy, with no daemon between), a ratio the machine's other
 * load hardly moves.  The target, at least 1M resident accesses per
 * second for a client, is checked on CPU time: a client and the daemon
 * thread serving it take turns, so given a CPU each (which a shared
 * 2-CPU machine does not always give) that is the rate it gets.
 *
 * Needs FUSE (root or fusermount3); without it, it says so and reports
 * nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>
#include <epcgfs.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define PAGE EPCG_PAGE_SIZE
#define MIB (1024ull * 1024)
#define EPC_SIZE (256 * MIB)
#define ENCL_SIZE (16 * MIB)
#define ENCL_PAGES (ENCL_SIZE / PAGE)
#define TOUCH 8 /* bytes each access reads */
#define PHASE_SECONDS 3.0
#define MAX_SAMPLES 200000
#define LOCAL_ACCESSES 4000000

enum mode { MODE_BATCH, MODE_SINGLE };

/* What a client reports through its pipe. */
struct client_result {
	int err; /* 0, or the -errno that stopped it */
	uint64_t accesses;
	double seconds; /* wall time of its access loop */
	double cpu; /* its CPU seconds in that loop */
	double p50, p99; /* MODE_SINGLE: one-access round trip, ns */
	double ping_p50, ping_p99; /* MODE_SINGLE: "ping" round trip, ns */
};

static char mnt[64];

static __attribute__((noreturn)) void die(const char *what, int err)
{
	fprintf(stderr, "bench-live: %s: %s\n", what, strerror(-err));
	exit(1);
}

static double now_s(void)
{
	return (double)bench_now_ns() / 1e9;
}

/* The calling thread's CPU seconds. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: enough to spread reads over the pages. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The @q quantile (0 to 1) of @v's @n values; sorts @v. */
static double quantile(double *v, size_t n, double q)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)(q * (double)(n - 1))];
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
}

/* Open, read and close @path, as cat does: nanoseconds. */
static double read_file_ns(const char *path)
{
	char buf[256];
	uint64_t t0 = bench_now_ns();
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
		die(path, -errno);
	close(fd);
	return (double)(bench_now_ns() - t0);
}

/* The CPU seconds process @pid has used (/proc/PID/stat). */
static double proc_cpu(pid_t pid)
{
	unsigned long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	/* Fields after the command name, which may hold spaces. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%lu %lu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- the daemon ---- */

/*
 * Mount the tree.  epcgfs_main() forks the daemon and exits its caller
 * once the tree is served, so it runs in a child of ours.  Return: the
 * daemon's pid, or a negative errno.
 */
static int mount_tree(void)
{
	struct epcgfs_options o = { .mountpoint = mnt,
				    .nr_sections = 2,
				    .policy = "v17",
				    .log = "/dev/null" };
	char rest[64], reply[64];
	pid_t pid;
	int st, fd, r, dpid;

	o.capacity[EPCG_MISC_RES_SGX_EPC] = EPC_SIZE;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		/* The daemon keeps nothing of ours open but what it needs. */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, STDERR_FILENO);
		_exit(epcgfs_main(&o));
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -ENODEV;
	fd = epcgfs_ctl_connect(mnt, rest, sizeof(rest));
	if (fd < 0)
		return fd;
	r = epcgfs_ctl_call(fd, "pid", reply, sizeof(reply));
	close(fd);
	if (r < 0)
		return r;
	if (sscanf(reply, "0 %d", &dpid) != 1)
		return -EPROTO;
	return dpid;
}

/* Stop the daemon (SIGTERM unmounts cleanly) and wait until it is gone. */
static void unmount_tree(pid_t daemon)
{
	kill(daemon, SIGTERM);
	for (int i = 0; i < 500 && !kill(daemon, 0); i++)
		usleep(10000);
	rmdir(mnt);
}

/* ---- a client ---- */

/* @n reads of TOUCH bytes at uniformly drawn pages, into the window. */
static void fill_ops(struct epcgfs_client *c, unsigned n, uint64_t *rng)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t r = rng_next(rng);

		c->ops[i].offset = (r % ENCL_PAGES) * PAGE +
				   (r >> 32) % (PAGE / TOUCH) * TOUCH;
		c->ops[i].len = TOUCH;
		c->ops[i].flags = 0;
	}
}

static int access_batch(struct epcgfs_client *c, uint64_t id, unsigned n)
{
	char req[64];
	uint64_t done;
	int r;

	snprintf(req, sizeof(req), "encl-access %" PRIu64 " %u", id, n);
	r = epcgfs_client_call(c, req, &done, 1);
	return r ? r : done == n ? 0 : -EIO;
}

/* An enclave with one TCS page, initialized, every page touched once. */
static int enclave_build(struct epcgfs_client *c, uint64_t *id)
{
	char req[64];
	uint64_t v[1];
	int r;

	snprintf(req, sizeof(req), "encl-create %llu",
		 (unsigned long long)ENCL_SIZE);
	r = epcgfs_client_call(c, req, v, 1);
	if (r)
		return r;
	*id = v[0];
	memset(c->data, 0, PAGE);
	snprintf(req, sizeof(req), "encl-add %" PRIu64 " 0 1 tcs 0", *id);
	r = epcgfs_client_call(c, req, v, 1);
	if (!r) {
		snprintf(req, sizeof(req), "encl-init %" PRIu64, *id);
		r = epcgfs_client_call(c, req, NULL, 0);
	}
	/* The first touch of a page adds it (EAUG): all of them now. */
	for (uint64_t p = 0; !r && p < ENCL_PAGES; p += EPCGFS_WIN_OPS_MAX) {
		unsigned n = 0;

		for (; n < EPCGFS_WIN_OPS_MAX && p + n < ENCL_PAGES; n++) {
			c->ops[n].offset = (p + n) * PAGE;
			c->ops[n].len = TOUCH;
			c->ops[n].flags = 0;
		}
		r = access_batch(c, *id, n);
	}
	return r;
}

static void client_loop(struct epcgfs_client *c, uint64_t id, enum mode mode,
			struct client_result *res)
{
	static double lat[MAX_SAMPLES], ping[MAX_SAMPLES];
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	double t0 = now_s(), c0 = cpu_s(), end = t0 + PHASE_SECONDS;
	size_t n = 0;
	char reply[64];

	while (!res->err && now_s() < end) {
		if (mode == MODE_BATCH) {
			fill_ops(c, EPCGFS_WIN_OPS_MAX, &rng);
			res->err = access_batch(c, id, EPCGFS_WIN_OPS_MAX);
			res->accesses += EPCGFS_WIN_OPS_MAX;
			continue;
		}
		if (n == MAX_SAMPLES)
			break;
		fill_ops(c, 1, &rng);
		lat[n] = (double)bench_now_ns();
		res->err = access_batch(c, id, 1);
		lat[n] = (double)bench_now_ns() - lat[n];
		ping[n] = (double)bench_now_ns();
		if (!res->err &&
		    epcgfs_ctl_call(c->fd, "ping", reply, sizeof(reply)) < 0)
			res->err = -EPROTO;
		ping[n] = (double)bench_now_ns() - ping[n];
		res->accesses++;
		n++;
	}
	res->seconds = now_s() - t0;
	res->cpu = cpu_s() - c0;
	res->p50 = quantile(lat, n, 0.5);
	res->p99 = quantile(lat, n, 0.99);
	res->ping_p50 = quantile(ping, n, 0.5);
	res->ping_p99 = quantile(ping, n, 0.99);
}

static void client_main(const char *cg, enum mode mode, int out)
{
	struct client_result res = { 0 };
	struct epcgfs_client c;
	char path[128], req[64];
	uint64_t id = 0;

	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", mnt, cg);
	res.err = write_file(path, "0");
	if (!res.err)
		res.err = epcgfs_client_open(mnt, &c);
	if (!res.err) {
		res.err = enclave_build(&c, &id);
		/* Both clients start loading at about the same moment. */
		if (write(out, &res, 1) != 1)
			_exit(1);
		if (!res.err)
			client_loop(&c, id, mode, &res);
		snprintf(req, sizeof(req), "encl-remove %" PRIu64, id);
		epcgfs_client_call(&c, req, NULL, 0);
		epcgfs_client_close(&c);
	} else if (write(out, &res, 1) != 1) {
		_exit(1);
	}
	if (write(out, &res, sizeof(res)) != sizeof(res))
		_exit(1);
	_exit(0);
}

struct client {
	pid_t pid;
	int fd;
};

static void client_start(struct client *cl, const char *cg, enum mode mode)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		die("pipe", -errno);
	fflush(stdout);
	cl->pid = fork();
	if (cl->pid < 0)
		die("fork", -errno);
	if (!cl->pid) {
		close(p[0]);
		client_main(cg, mode, p[1]);
	}
	close(p[1]);
	cl->fd = p[0];
}

/* Wait until the client has built its enclave. */
static void client_ready(struct client *cl)
{
	char c;

	if (read(cl->fd, &c, 1) != 1)
		die("client", -EPIPE);
}

static void client_wait(struct client *cl, struct client_result *res)
{
	ssize_t n = read(cl->fd, res, sizeof(*res));
	int st;

	close(cl->fd);
	waitpid(cl->pid, &st, 0);
	if (n != sizeof(*res))
		die("client", -EPIPE);
	if (res->err)
		die("client", res->err);
}

/* ---- the in-process floor ---- */

/*
 * The same reads on a machine in this process: CPU ns per access (of this
 * thread: other processes of a busy machine do not count).  Run before
 * any client is forked, and torn down, so no thread of it is left when
 * we fork.
 */
static double local_floor(void)
{
	struct epcg_epc_section_spec secs[2] = { { EPC_SIZE / 2, 0 },
						 { EPC_SIZE / 2, 1 } };
	struct epcg_sgx_config cfg = { secs, 2, EPCG_SGX_POLICY_V17 };
	static uint8_t tcs[PAGE], buf[TOUCH];
	uint64_t rng = 0x9e3779b97f4a7c15ull, n = bench_iters(LOCAL_ACCESSES);
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_task task;
	double t0, t1;
	int r;

	if ((r = epcg_exec_live_create(1, &ex)) || (r = epcg_misc_create(&m)) ||
	    (r = epcg_sgx_create(m, ex, &cfg, &sgx)))
		die("local machine", r);
	epcg_task_init(&task, 1, -1);
	epcg_task_set_current(&task);
	if ((r = epcg_encl_create(sgx, ENCL_SIZE, &e)) ||
	    (r = epcg_encl_add_pages(e, 0, tcs, 1, EPCG_ENCL_PAGE_TCS, 0,
				     NULL)) ||
	    (r = epcg_encl_init(e, NULL)) || (r = epcg_encl_enter(e, &t)))
		die("local enclave", r);
	for (uint64_t p = 0; p < ENCL_PAGES; p++)
		if ((r = epcg_encl_access(e, t, p * PAGE, EPCG_ENCL_READ, buf,
					  TOUCH)))
			die("local access", r);
	t0 = cpu_s();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t x = rng_next(&rng);
		uint64_t off = (x % ENCL_PAGES) * PAGE +
			       (x >> 32) % (PAGE / TOUCH) * TOUCH;

		if ((r = epcg_encl_access(e, t, off, EPCG_ENCL_READ, buf,
					  TOUCH)))
			die("local access", r);
	}
	t1 = cpu_s();
	epcg_encl_exit(t);
	epcg_encl_release(e);
	epcg_task_set_current(NULL);
	epcg_sgx_destroy(sgx);
	epcg_misc_destroy(m);
	epcg_exec_destroy(ex);
	return (t1 - t0) * 1e9 / (double)n;
}

/* ---- the phases ---- */

/* Phase 1: both clients batch; we read misc.current and the plain file. */
static void phase_load(pid_t daemon, double floor_ns)
{
	static double fuse[MAX_SAMPLES], plain[MAX_SAMPLES];
	struct client_result ra, rb;
	char cur[128], copy[128];
	double d0, d1, cpu, rate_a, rate_b;
	struct client a, b;
	size_t n = 0;
	int fd;

	snprintf(cur, sizeof(cur), "%s/a/misc.current", mnt);
	snprintf(copy, sizeof(copy), "%s.misc.current", mnt);
	fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "sgx_epc 16777216\n", 17) != 17)
		die(copy, -errno);
	close(fd);

	client_start(&a, "a", MODE_BATCH);
	client_start(&b, "b", MODE_BATCH);
	client_ready(&a);
	client_ready(&b);
	d0 = proc_cpu(daemon);
	for (double end = now_s() + PHASE_SECONDS;
	     now_s() < end && n < MAX_SAMPLES; n++) {
		if (n % 2) {
			plain[n] = read_file_ns(copy);
			fuse[n] = read_file_ns(cur);
		} else {
			fuse[n] = read_file_ns(cur);
			plain[n] = read_file_ns(copy);
		}
		usleep(200); /* a reader, not a third load */
	}
	client_wait(&a, &ra);
	client_wait(&b, &rb);
	d1 = proc_cpu(daemon);
	unlink(copy);

	rate_a = (double)ra.accesses / ra.seconds;
	rate_b = (double)rb.accesses / rb.seconds;
	cpu = d1 - d0 + ra.cpu + rb.cpu;
	printf("cat misc.current through the mount, %zu reads under 2 "
	       "batching clients: p50 %.1f us, p99 %.1f us; a regular file: "
	       "p50 %.1f us, p99 %.1f us\n",
	       n, quantile(fuse, n, 0.5) / 1e3, quantile(fuse, n, 0.99) / 1e3,
	       quantile(plain, n, 0.5) / 1e3, quantile(plain, n, 0.99) / 1e3);
	printf("client accesses (%d-byte reads of resident pages, %u per "
	       "request): /a %.2fM/s, /b %.2fM/s of wall time\n",
	       TOUCH, EPCGFS_WIN_OPS_MAX, rate_a / 1e6, rate_b / 1e6);
	printf("CPU of clients and daemon: %.2f s for %.2fM accesses, %.1f ns "
	       "per access; in-process floor %.1f ns of CPU per access\n",
	       cpu, (double)(ra.accesses + rb.accesses) / 1e6,
	       cpu * 1e9 / (double)(ra.accesses + rb.accesses), floor_ns);
	bench_verdict(7, "cat misc.current p50, us",
		      quantile(fuse, n, 0.5) / 1e3, BENCH_REPORT, 0);
	bench_verdict(7, "cat misc.current p99, us",
		      quantile(fuse, n, 0.99) / 1e3, BENCH_REPORT, 0);
	bench_verdict(7, "cat misc.current p50 / regular file p50",
		      quantile(fuse, n, 0.5) / quantile(plain, n, 0.5),
		      BENCH_REPORT, 0);
	/*
	 * A client and the daemon thread serving it take turns (the client
	 * waits for its batch), so with a CPU for each the rate is one over
	 * their CPU time per access: that is the target's figure.  The wall
	 * rates above also depend on how many CPUs the host leaves us.
	 */
	bench_verdict(7, "client resident accesses per CPU second, M",
		      (double)(ra.accesses + rb.accesses) / cpu / 1e6,
		      BENCH_AT_LEAST, 1.0);
	bench_verdict(7, "client /a resident accesses per wall second, M",
		      rate_a / 1e6, BENCH_REPORT, 0);
	bench_verdict(7, "client /b resident accesses per wall second, M",
		      rate_b / 1e6, BENCH_REPORT, 0);
	bench_verdict(7, "CPU per access, through the daemon / in-process",
		      cpu * 1e9 / (double)(ra.accesses + rb.accesses) /
			      floor_ns,
		      BENCH_REPORT, 0);
}

/* Phase 2: /a batches, /b times one-access requests and pings. */
static void phase_latency(void)
{
	struct client_result ra, rb;
	struct client a, b;

	client_start(&a, "a", MODE_BATCH);
	client_start(&b, "b", MODE_SINGLE);
	client_ready(&a);
	client_ready(&b);
	client_wait(&a, &ra);
	client_wait(&b, &rb);
	printf("one-access request of client /b while /a batches (%.2fM/s): "
	       "%llu requests, p50 %.1f us, p99 %.1f us; ping on the same "
	       "connection: p50 %.1f us, p99 %.1f us\n",
	       (double)ra.accesses / ra.seconds / 1e6,
	       (unsigned long long)rb.accesses, rb.p50 / 1e3, rb.p99 / 1e3,
	       rb.ping_p50 / 1e3, rb.ping_p99 / 1e3);
	bench_verdict(7, "one access p50, us", rb.p50 / 1e3, BENCH_REPORT, 0);
	bench_verdict(7, "one access p99, us", rb.p99 / 1e3, BENCH_REPORT, 0);
	bench_verdict(7, "one access p50 / ping p50", rb.p50 / rb.ping_p50,
		      BENCH_REPORT, 0);
}

/* @mnt/@rel as a path in @buf. */
static const char *at(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", mnt, rel);
	return buf;
}

int main(int argc, char **argv)
{
	char path[128];
	double floor_ns;
	int daemon, r;

	bench_init(argc, argv, "bench-live");
	floor_ns = local_floor();
	snprintf(mnt, sizeof(mnt), "/tmp/epcg-bench-live-XXXXXX");
	if (!mkdtemp(mnt))
		die("mkdtemp", -errno);
	daemon = mount_tree();
	if (daemon < 0) {
		rmdir(mnt);
		printf("[target 7] skipped: cannot mount a tree here (%s); "
		       "FUSE needs /dev/fuse and root or fusermount3\n",
		       strerror(-daemon));
		return 0;
	}
	r = write_file(at(path, sizeof(path), "cgroup.subtree_control"),
		       "+misc");
	if (!r && mkdir(at(path, sizeof(path), "a"), 0755))
		r = -errno;
	if (!r && mkdir(at(path, sizeof(path), "b"), 0755))
		r = -errno;
	if (r) {
		unmount_tree(daemon);
		die("cgroups", r);
	}
	printf("# tree at %s: %llu MiB of EPC; clients: an enclave of %llu "
	       "MiB each, resident\n",
	       mnt, (unsigned long long)(EPC_SIZE / MIB),
	       (unsigned long long)(ENCL_SIZE / MIB));
	phase_load(daemon, floor_ns);
	phase_latency();
	rmdir(at(path, sizeof(path), "a"));
	rmdir(at(path, sizeof(path), "b"));
	unmount_tree(daemon);
	return 0;
}
