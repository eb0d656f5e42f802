// SPDX-License-Identifier: MIT
/*
 * An enclave's backing store failing under it (SPEC H7 to H9): writes that
 * fail keep the page resident and intact while the reclaimer moves on to
 * other pages; reads that fail end in the SIGBUS outcome for that enclave
 * only.  Failures come from the test hook in front of every backing-store
 * operation (ENOSPC, EIO) and from the kernel itself: /dev/full under the
 * store's descriptor (ENOSPC on every write), a file-size limit between
 * the pages and their metadata (the page written, its PCMD refused with
 * EFBIG), a write-only descriptor (every read fails).  Every test checks
 * the machine's invariants and reads back every byte it wrote; the TAP
 * notes give the figures docs/robustness.md quotes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <epcg/encl.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sgx/encl-internal.h"
#include "sgx/sgx-internal.h"
#include "test.h"

#define PG EPCG_PAGE_SIZE
#define RES EPCG_MISC_RES_SGX_EPC
#define RW (EPCG_ENCL_PROT_READ | EPCG_ENCL_PROT_WRITE)

struct fx {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_misc_cg *root;
	struct epcg_misc_cg *cg; /* the test task's cgroup */
	struct epcg_task task;
	uint64_t verified; /* bytes read back and compared */
};

static void fx_setup(struct fx *f, uint64_t epc_pages)
{
	struct epcg_epc_section_spec sec = { epc_pages * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, EPCG_SGX_POLICY_V17 };

	memset(f, 0, sizeof(*f));
	ASSERT_OK(epcg_exec_live_create(1, &f->ex));
	ASSERT_OK(epcg_misc_create(&f->m));
	ASSERT_OK(epcg_sgx_create(f->m, f->ex, &cfg, &f->sgx));
	f->root = epcg_misc_root(f->m);
	ASSERT_OK(epcg_misc_cg_create(f->root, "t", &f->cg));
	epcg_task_init(&f->task, 100, -1);
	epcg_misc_task_attach(&f->task, f->cg);
	epcg_task_set_current(&f->task);
}

static void fx_check(struct fx *f)
{
	char why[256];

	epcg_exec_flush(f->ex);
	if (epcg_sgx_check(f->sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "invariant: %s", why);
}

static void fx_teardown(struct fx *f)
{
	struct epcg_epc *epc = epcg_sgx_epc(f->sgx);

	for (int i = 0;
	     i < 1000 && epcg_epc_nr_free(epc) != epcg_epc_nr_pages(epc); i++)
		usleep(1000);
	fx_check(f);
	ASSERT_U64_EQ(epcg_misc_usage(f->root, RES), 0); /* E12 */
	ASSERT_U64_EQ(epcg_epc_nr_free(epc), epcg_epc_nr_pages(epc));
	epcg_task_set_current(NULL);
	epcg_misc_task_attach(&f->task, NULL);
	ASSERT_OK(epcg_misc_cg_remove(f->cg));
	epcg_exec_flush(f->ex);
	epcg_sgx_destroy(f->sgx);
	epcg_misc_destroy(f->m);
	epcg_exec_destroy(f->ex);
	epcg_test_note("%" PRIu64 " bytes read back intact", f->verified);
}

/* Page @idx of an enclave tagged @tag, in version @ver. */
static void pattern(uint8_t *buf, unsigned tag, uint64_t idx, unsigned ver)
{
	uint64_t seed = ((uint64_t)tag << 40) ^ (idx << 16) ^ ver;

	for (unsigned i = 0; i < PG; i += 8) {
		uint64_t v = (seed + i) * 0xd6e8feb86659fd93ull;

		memcpy(buf + i, &v, 8);
	}
}

static struct epcg_encl *build(struct fx *f, uint64_t size, uint64_t nr,
			       unsigned tag)
{
	uint8_t *src = malloc(nr * PG);
	struct epcg_encl *e;

	ASSERT_NOT_NULL(src);
	for (uint64_t i = 0; i < nr; i++)
		pattern(src + i * PG, tag, i, 0);
	ASSERT_OK(epcg_encl_create(f->sgx, size, &e));
	ASSERT_OK(epcg_encl_add_pages(e, 0, src, nr, EPCG_ENCL_PAGE_REG, RW,
				      NULL));
	ASSERT_OK(epcg_encl_init(e, NULL));
	free(src);
	return e;
}

static struct epcg_encl_stats stats(struct epcg_encl *e)
{
	struct epcg_encl_stats st;

	epcg_encl_stats(e, &st);
	return st;
}

static void check_page(struct fx *f, struct epcg_encl *e,
		       struct epcg_encl_thread *t, unsigned tag, uint64_t idx,
		       unsigned ver)
{
	static uint8_t want[PG], got[PG];

	pattern(want, tag, idx, ver);
	ASSERT_OK(epcg_encl_access(e, t, idx * PG, EPCG_ENCL_READ, got, PG));
	ASSERT_MEMEQ(got, want, PG);
	f->verified += PG;
}

static void write_page(struct epcg_encl *e, struct epcg_encl_thread *t,
		       unsigned tag, uint64_t idx, unsigned ver)
{
	static uint8_t buf[PG];

	pattern(buf, tag, idx, ver);
	ASSERT_OK(epcg_encl_access(e, t, idx * PG, EPCG_ENCL_WRITE, buf, PG));
}

/* Global reclaim, enough passes to age and evict everything evictable. */
static void reclaim_all(struct fx *f)
{
	for (int i = 0; i < 4; i++)
		epcg__sgx_cgroup_reclaim_pages(f->sgx, f->root, 4096);
}

/* ---- writes that fail ---- */

/*
 * Two enclaves; every write of A's store fails.  Reclaim passes over A's
 * pages (each goes back to its LRU, resident and intact) and evicts all of
 * B's; then A's store recovers and its pages go out and come back too.
 */
static void write_failure_moves_on(int err)
{
	struct epcg_encl_thread *ta, *tb;
	struct epcg_encl *a, *b;
	struct epcg_sgx_stats before, after;
	struct fx f;

	fx_setup(&f, 1024);
	a = build(&f, 64 * PG, 48, 1);
	b = build(&f, 64 * PG, 48, 2);
	ASSERT_OK(epcg_encl_enter(a, &ta));
	ASSERT_OK(epcg_encl_enter(b, &tb));
	epcg_sgx_stats(f.sgx, &before);
	epcg__encl_backing_inject(a, EPCG_ENCL_BACKING_WRITE, err, 1u << 30);
	reclaim_all(&f);
	epcg_sgx_stats(f.sgx, &after);
	ASSERT_U64_EQ(stats(a).resident, 48);
	ASSERT_U64_EQ(stats(a).secs_resident, 1);
	ASSERT_U64_EQ(stats(a).ewb, 0);
	ASSERT_U64_EQ(stats(b).resident, 0);
	ASSERT_U64_EQ(stats(b).secs_resident, 0);
	ASSERT_FALSE(epcg_encl_faulted(a));
	fx_check(&f);
	epcg_test_note("%s: %" PRIu64 " pages scanned, %" PRIu64
		       " evicted, A's 48 all kept",
		       epcg_test_errname(err),
		       after.reclaim_scans - before.reclaim_scans,
		       after.ewb - before.ewb);
	for (uint64_t i = 0; i < 48; i++) {
		check_page(&f, a, ta, 1, i, 0);
		check_page(&f, b, tb, 2, i, 0);
	}
	/* Writes to A's pages while its store is down stay too. */
	for (uint64_t i = 0; i < 48; i += 2)
		write_page(a, ta, 1, i, 1);
	reclaim_all(&f);
	ASSERT_U64_EQ(stats(a).resident, 48);
	epcg__encl_backing_inject(a, EPCG_ENCL_BACKING_WRITE, 0, 0);
	reclaim_all(&f);
	ASSERT_U64_EQ(stats(a).resident, 0);
	for (uint64_t i = 0; i < 48; i++)
		check_page(&f, a, ta, 1, i, i % 2 ? 0 : 1);
	fx_check(&f);
	epcg_encl_exit(ta);
	epcg_encl_exit(tb);
	epcg_encl_release(a);
	epcg_encl_release(b);
	fx_teardown(&f);
}

TEST(write_enospc_keeps_pages_and_moves_on)
{
	write_failure_moves_on(ENOSPC);
}

TEST(write_eio_keeps_pages_and_moves_on)
{
	write_failure_moves_on(EIO);
}

/*
 * At a cgroup's limit, with A's pages unwritable: B's build reclaims
 * from the same cgroup, skips A's pages and evicts its own, and finishes.
 */
TEST(write_failure_at_limit_other_enclave_builds)
{
	struct epcg_encl_thread *ta, *tb;
	struct epcg_encl *a, *b;
	struct fx f;

	fx_setup(&f, 1024);
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, 64 * PG));
	a = build(&f, 32 * PG, 24, 3);
	epcg__encl_backing_inject(a, EPCG_ENCL_BACKING_WRITE, ENOSPC, 1u << 30);
	b = build(&f, 256 * PG, 160, 4); /* blocks, reclaims B's, succeeds */
	ASSERT_CMP(epcg_misc_usage(f.cg, RES), <=, 64 * PG);
	ASSERT_U64_EQ(stats(a).resident, 24);
	ASSERT_CMP(stats(b).ewb, >=, 160 - 64);
	fx_check(&f);
	ASSERT_OK(epcg_encl_enter(a, &ta));
	ASSERT_OK(epcg_encl_enter(b, &tb));
	/* B's faults at the limit are served by evicting B's pages. */
	for (uint64_t i = 0; i < 160; i++)
		check_page(&f, b, tb, 4, i, 0);
	for (uint64_t i = 0; i < 24; i++)
		check_page(&f, a, ta, 3, i, 0);
	ASSERT_FALSE(epcg_encl_faulted(a) || epcg_encl_faulted(b));
	epcg__encl_backing_inject(a, EPCG_ENCL_BACKING_WRITE, 0, 0);
	fx_check(&f);
	epcg_encl_exit(ta);
	epcg_encl_exit(tb);
	epcg_encl_release(a);
	epcg_encl_release(b);
	fx_teardown(&f);
}

struct adder {
	struct fx *f;
	struct epcg_encl *e;
	struct epcg_task task;
	uint64_t added;
	int err;
	int done; /* __atomic: set when the call returned */
};

static void *add_thread(void *arg)
{
	struct adder *ad = arg;
	uint8_t *src = calloc(64, PG);

	epcg_task_set_current(&ad->task);
	ad->err = src ? epcg_encl_add_pages(ad->e, 0, src, 64,
					    EPCG_ENCL_PAGE_REG, RW,
					    &ad->added) :
			-ENOMEM;
	epcg_task_set_current(NULL);
	free(src);
	__atomic_store_n(&ad->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The cgroup is full of pages that cannot be written out: a build at the
 * limit cannot make room and keeps retrying, as the kernel's does, but a
 * signal stops it (-EINTR) with what it added kept, and nothing is lost.
 */
TEST(write_failure_everywhere_build_waits_until_signalled)
{
	struct adder ad = { 0 };
	struct epcg_encl_thread *ta;
	struct epcg_encl *a;
	pthread_t th;
	struct fx f;

	fx_setup(&f, 1024);
	ASSERT_OK(epcg_misc_set_max(f.cg, RES, 40 * PG));
	a = build(&f, 64 * PG, 36, 5); /* 38 pages with SECS and VA */
	epcg__encl_backing_inject(a, EPCG_ENCL_BACKING_WRITE, ENOSPC, 1u << 30);
	ad.f = &f;
	ASSERT_OK(epcg_encl_create(f.sgx, 128 * PG, &ad.e)); /* the last 2 */
	epcg_task_init(&ad.task, 101, -1);
	epcg_misc_task_attach(&ad.task, f.cg);
	ASSERT_EQ(pthread_create(&th, NULL, add_thread, &ad), 0);
	usleep(200 * 1000);
	ASSERT_FALSE(
		__atomic_load_n(&ad.done, __ATOMIC_ACQUIRE)); /* retrying */
	epcg_task_set_signal(&ad.task, 1);
	ASSERT_EQ(pthread_join(th, NULL), 0);
	ASSERT_ERR(ad.err, EINTR);
	ASSERT_U64_EQ(ad.added, 0);
	ASSERT_U64_EQ(stats(ad.e).pages, 0);
	ASSERT_U64_EQ(stats(a).resident, 36);
	fx_check(&f);
	ASSERT_OK(epcg_encl_enter(a, &ta));
	for (uint64_t i = 0; i < 36; i++)
		check_page(&f, a, ta, 5, i, 0);
	epcg_encl_exit(ta);
	epcg_encl_release(ad.e);
	epcg_misc_task_attach(&ad.task, NULL);
	epcg__encl_backing_inject(a, EPCG_ENCL_BACKING_WRITE, 0, 0);
	epcg_encl_release(a);
	fx_teardown(&f);
}

/*
 * Failures that come and go: in each of 40 rounds some pages get a new
 * version, the next k writes of the store fail (k random), and global
 * reclaim runs; every page always reads back its latest version.
 */
TEST(intermittent_write_failures_lose_nothing)
{
	const uint64_t nr = 96;
	unsigned ver[96] = { 0 };
	uint64_t seed = epcg_test_seed(), injected = 0, ewb0;
	struct epcg_encl_thread *t;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 128 * PG, nr, 6);
	ASSERT_OK(epcg_encl_enter(e, &t));
	ewb0 = stats(e).ewb;
	for (unsigned round = 0; round < 40; round++) {
		unsigned k = (unsigned)(epcg_test_rand(&seed) % 48);

		for (uint64_t i = 0; i < nr; i++)
			if (epcg_test_rand(&seed) % 3 == 0)
				write_page(e, t, 6, i, ++ver[i]);
		epcg__encl_backing_inject(e, EPCG_ENCL_BACKING_WRITE,
					  round % 2 ? EIO : ENOSPC, k);
		reclaim_all(&f);
		injected += k - e->inject[EPCG_ENCL_BACKING_WRITE].count;
		epcg__encl_backing_inject(e, EPCG_ENCL_BACKING_WRITE, 0, 0);
		fx_check(&f);
		for (uint64_t i = 0; i < nr; i++)
			if (epcg_test_rand(&seed) % 2)
				check_page(&f, e, t, 6, i, ver[i]);
	}
	for (uint64_t i = 0; i < nr; i++)
		check_page(&f, e, t, 6, i, ver[i]);
	ASSERT_FALSE(epcg_encl_faulted(e));
	epcg_test_note("40 rounds: %" PRIu64
		       " write failures injected, %" PRIu64
		       " pages written out",
		       injected, stats(e).ewb - ewb0);
	ASSERT_CMP(injected, >, 0);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

/* Put @fd under the enclave's store descriptor; returns the saved one. */
static int swap_store(struct epcg_encl *e, int fd)
{
	int store = epcg__encl_backing_fd(e), saved = dup(store);

	ASSERT_CMP(saved, >=, 0);
	ASSERT_EQ(dup2(fd, store), store);
	close(fd);
	return saved;
}

static void restore_store(struct epcg_encl *e, int saved)
{
	int store = epcg__encl_backing_fd(e);

	ASSERT_EQ(dup2(saved, store), store);
	close(saved);
}

/* The kernel's own ENOSPC: /dev/full takes no write. */
TEST(write_to_dev_full_keeps_pages)
{
	struct epcg_encl_thread *ta, *tb;
	struct epcg_encl *a, *b;
	int full = open("/dev/full", O_RDWR | O_CLOEXEC), saved;
	struct fx f;

	if (full < 0)
		epcg_test_skip("no /dev/full");
	fx_setup(&f, 1024);
	a = build(&f, 32 * PG, 20, 7);
	b = build(&f, 32 * PG, 20, 8);
	saved = swap_store(a, full);
	reclaim_all(&f);
	ASSERT_U64_EQ(stats(a).resident, 20);
	ASSERT_U64_EQ(stats(b).resident, 0);
	fx_check(&f);
	ASSERT_OK(epcg_encl_enter(a, &ta));
	ASSERT_OK(epcg_encl_enter(b, &tb));
	for (uint64_t i = 0; i < 20; i++) {
		check_page(&f, a, ta, 7, i, 0);
		check_page(&f, b, tb, 8, i, 0);
	}
	restore_store(a, saved);
	reclaim_all(&f);
	ASSERT_U64_EQ(stats(a).resident, 0);
	for (uint64_t i = 0; i < 20; i++)
		check_page(&f, a, ta, 7, i, 0);
	epcg_encl_exit(ta);
	epcg_encl_exit(tb);
	epcg_encl_release(a);
	epcg_encl_release(b);
	fx_teardown(&f);
}

/*
 * Half a write: a file-size limit between the pages and their metadata
 * lets the page's ciphertext through and refuses its PCMD (EFBIG).  The
 * page stays resident and intact; the half-written blob is never used.
 */
TEST(page_written_pcmd_refused_keeps_pages)
{
	struct epcg_encl_thread *t;
	struct rlimit old, lim;
	struct epcg_encl *e;
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 32 * PG, 24, 9);
	ASSERT_OK(epcg_encl_enter(e, &t));
	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = epcg__encl_backing_pcmd_off(e, 0);
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	reclaim_all(&f);
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	ASSERT_U64_EQ(stats(e).resident, 24);
	ASSERT_U64_EQ(stats(e).ewb, 0);
	fx_check(&f);
	for (uint64_t i = 0; i < 24; i++)
		check_page(&f, e, t, 9, i, 0);
	/* Write new versions, evict for real, and read them back. */
	for (uint64_t i = 0; i < 24; i++)
		write_page(e, t, 9, i, 2);
	reclaim_all(&f);
	ASSERT_U64_EQ(stats(e).resident, 0);
	for (uint64_t i = 0; i < 24; i++)
		check_page(&f, e, t, 9, i, 2);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	fx_teardown(&f);
}

/* ---- reads that fail ---- */

/*
 * Every read of A's store fails (a write-only descriptor: EBADF from the
 * kernel).  A's next fault is the SIGBUS outcome, and so is every later
 * access; B, in the same cgroup, pages on; A's release frees everything.
 */
TEST(read_failure_is_sigbus_for_that_enclave_only)
{
	struct epcg_encl_thread *ta, *tb;
	struct epcg_encl *a, *b;
	struct epcg_sgx_stats st;
	uint8_t buf[PG];
	int wr, saved;
	struct fx f;

	fx_setup(&f, 1024);
	a = build(&f, 32 * PG, 16, 10);
	b = build(&f, 32 * PG, 16, 11);
	ASSERT_OK(epcg_encl_enter(a, &ta));
	ASSERT_OK(epcg_encl_enter(b, &tb));
	reclaim_all(&f);
	ASSERT_U64_EQ(stats(a).resident + stats(b).resident, 0);
	wr = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_CMP(wr, >=, 0);
	saved = swap_store(a, wr);
	ASSERT_ERR(epcg_encl_access(a, ta, 3 * PG, EPCG_ENCL_READ, buf, PG),
		   EFAULT);
	ASSERT_TRUE(epcg_encl_faulted(a));
	ASSERT_U64_EQ(stats(a).sigbus, 1);
	ASSERT_ERR(epcg_encl_access(a, ta, 0, EPCG_ENCL_READ, buf, PG), EFAULT);
	restore_store(a, saved);
	/* Faulted for good, even with the store readable again. */
	ASSERT_ERR(epcg_encl_access(a, ta, 0, EPCG_ENCL_READ, buf, PG), EFAULT);
	for (uint64_t i = 0; i < 16; i++)
		check_page(&f, b, tb, 11, i, 0);
	ASSERT_FALSE(epcg_encl_faulted(b));
	fx_check(&f);
	epcg_sgx_stats(f.sgx, &st);
	ASSERT_CMP(st.sigbus, >=, 1);
	epcg_encl_exit(ta);
	epcg_encl_exit(tb);
	epcg_encl_release(a);
	ASSERT_U64_EQ(epcg_misc_usage(f.cg, RES),
		      (stats(b).resident + stats(b).secs_resident +
		       stats(b).va_pages) *
			      PG);
	epcg_encl_release(b);
	fx_teardown(&f);
}

/* The SECS comes back first; if that read fails, the fault is SIGBUS. */
TEST(secs_read_failure_is_sigbus)
{
	struct epcg_encl_thread *t;
	struct epcg_encl *e, *other;
	uint8_t buf[PG];
	struct fx f;

	fx_setup(&f, 1024);
	e = build(&f, 16 * PG, 8, 12);
	other = build(&f, 16 * PG, 8, 13);
	ASSERT_OK(epcg_encl_enter(e, &t));
	reclaim_all(&f);
	ASSERT_U64_EQ(stats(e).secs_resident, 0);
	epcg__encl_backing_inject(e, EPCG_ENCL_BACKING_READ, EIO, 1);
	ASSERT_ERR(epcg_encl_access(e, t, 0, EPCG_ENCL_READ, buf, PG), EFAULT);
	ASSERT_U64_EQ(stats(e).secs_resident, 0);
	ASSERT_U64_EQ(stats(e).eldu, 0);
	fx_check(&f);
	epcg_encl_exit(t);
	ASSERT_OK(epcg_encl_enter(other, &t));
	for (uint64_t i = 0; i < 8; i++)
		check_page(&f, other, t, 13, i, 0);
	epcg_encl_exit(t);
	epcg_encl_release(e);
	epcg_encl_release(other);
	fx_teardown(&f);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(write_enospc_keeps_pages_and_moves_on),
	TEST_ENTRY(write_eio_keeps_pages_and_moves_on),
	TEST_ENTRY(write_failure_at_limit_other_enclave_builds),
	TEST_ENTRY(write_failure_everywhere_build_waits_until_signalled),
	TEST_ENTRY(intermittent_write_failures_lose_nothing),
	TEST_ENTRY(write_to_dev_full_keeps_pages),
	TEST_ENTRY(page_written_pcmd_refused_keeps_pages),
	TEST_ENTRY(read_failure_is_sigbus_for_that_enclave_only),
	TEST_ENTRY(secs_read_failure_is_sigbus),
};

TEST_MAIN(tests)
