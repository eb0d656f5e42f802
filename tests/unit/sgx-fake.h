/* SPDX-License-Identifier: MIT */
/*
 * A machine with fake page owners, for the EPC cgroup and reclaim tests.
 *
 * The reclaimer reaches a page's owner only through struct
 * epcg_reclaim_ops, so these tests install their own: every fake page
 * has a struct fake_page as its owner, whose flags say what each step
 * answers (young, being released, prepare or write failing), and which
 * counts what was done to it.  That fills LRUs deterministically, without
 * enclaves, leaves or crypto.  A fake "SECS" can be attached to a group
 * of pages: writing back its last resident child frees it, as the enclave
 * layer does (H7).
 *
 * Counters are atomic: the stress test shares the ops.
 */
#ifndef EPCG_TEST_SGX_FAKE_H
#define EPCG_TEST_SGX_FAKE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <epcg/exec.h>
#include <epcg/misc.h>
#include <epcg/sgx.h>
#include <sched.h>

#include "sgx/epc-internal.h"
#include "sgx/sgx-internal.h"
#include "test.h"

#define RES EPCG_MISC_RES_SGX_EPC
#define PG EPCG_PAGE_SIZE

/* What a fake page is. */
enum fake_kind {
	FAKE_REG, /* reclaimable: marked after allocation */
	FAKE_UNRECL, /* SECS or VA: charged, never on an LRU */
	FAKE_KIND_NR
};

struct fake_page {
	struct epcg_epc_page *page; /* NULL once written back or freed */
	enum fake_kind kind;
	epcg_atomic(bool) young; /* age() answers this, then clears */
	epcg_atomic(bool) sticky_young; /* age() always says young */
	epcg_atomic(int) prepare_err;
	epcg_atomic(int) write_err;
	epcg_atomic(int) pins; /* get_owner - put_owner, | FAKE_DEAD */
	epcg_atomic(int) blocked;
	epcg_atomic(int) written;
	struct fake_page *secs; /* freed with the last child */
	epcg_atomic(int) children; /* for a SECS: resident children */
	struct epcg_sgx *sgx;
	struct epcg_task *writer_task; /* epcg_task_current() at write */
	epcg_atomic(bool) wrote;
};

/* Global: ops have no context argument. */
static struct {
	epcg_atomic(uint64_t) isolated, written, dropped;
	/* Called when a page is written back, while it is still charged. */
	void (*on_evict)(struct epcg_epc_page *page);
} fake;

static inline struct fake_page *fake_of(struct epcg_epc_page *page)
{
	return epcg_epc_page_owner(page);
}

/* Set in pins once the owner is being released: no new pins. */
#define FAKE_DEAD 0x40000000

/* An enclave's "tryget": fails once the owner started its release. */
static inline bool fake_get_owner(struct epcg_epc_page *page)
{
	struct fake_page *fp = fake_of(page);
	int v = epcg_atomic_load_relaxed(&fp->pins);

	do {
		if (v & FAKE_DEAD) {
			epcg_atomic_fetch_add_relaxed(&fake.dropped, 1);
			return false;
		}
	} while (!epcg_atomic_cas_acq_rel(&fp->pins, &v, v + 1));
	epcg_atomic_fetch_add_relaxed(&fake.isolated, 1);
	return true;
}

static inline void fake_put_owner(struct epcg_epc_page *page)
{
	epcg_atomic_fetch_sub_acq_rel(&fake_of(page)->pins, 1);
}

/*
 * Start releasing @fp's owner: reclaimers can no longer pin it; wait until
 * those that did let go (as an enclave's release waits for its refcount).
 */
static inline void fake_kill(struct fake_page *fp)
{
	epcg_atomic_fetch_or_acq_rel(&fp->pins, FAKE_DEAD);
	while (epcg_atomic_load_acquire(&fp->pins) != FAKE_DEAD)
		sched_yield();
}

static inline bool fake_age(struct epcg_epc_page *page)
{
	struct fake_page *fp = fake_of(page);

	if (epcg_atomic_load_relaxed(&fp->sticky_young))
		return true;
	return epcg_atomic_xchg_acq_rel(&fp->young, false);
}

static inline int fake_prepare(struct epcg_epc_page *page)
{
	return epcg_atomic_load_relaxed(&fake_of(page)->prepare_err);
}

static inline void fake_block(struct epcg_epc_page *page)
{
	epcg_atomic_fetch_add_relaxed(&fake_of(page)->blocked, 1);
}

static inline int fake_write(struct epcg_epc_page *page)
{
	struct fake_page *fp = fake_of(page);
	int err = epcg_atomic_load_relaxed(&fp->write_err);

	if (err)
		return err;
	/* Only the batch holding the page may write it: no race on ->page. */
	if (fake.on_evict)
		fake.on_evict(page);
	fp->writer_task = epcg_task_current();
	epcg_atomic_store_relaxed(&fp->wrote, true);
	epcg_atomic_fetch_add_relaxed(&fp->written, 1);
	epcg_atomic_fetch_add_relaxed(&fake.written, 1);
	fp->page = NULL;
	if (fp->secs &&
	    epcg_atomic_sub_return_acq_rel(&fp->secs->children, 1) == 0) {
		/* The last child left: write back and free the SECS (H7). */
		struct fake_page *secs = fp->secs;

		epcg__sgx_free_page(fp->sgx, secs->page);
		secs->page = NULL;
	}
	return 0;
}

static const struct epcg_reclaim_ops fake_ops = {
	.get_owner = fake_get_owner,
	.put_owner = fake_put_owner,
	.age = fake_age,
	.prepare = fake_prepare,
	.block = fake_block,
	.write = fake_write,
};

/* ---- the machine ---- */

struct sfx {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_sgx *sgx;
	struct epcg_misc_cg *root;
	struct epcg_task task; /* the test thread's current task */
	struct epcg_misc_cg *cgs[256]; /* made by mkcg(), creation order */
	unsigned nr_cgs;
};

static inline void sfx_setup_policy(struct sfx *f, uint64_t nr_pages,
				    enum epcg_sgx_policy policy)
{
	struct epcg_epc_section_spec sec = { nr_pages * PG, 0 };
	struct epcg_sgx_config cfg = { &sec, 1, policy };

	memset(f, 0, sizeof(*f));
	memset(&fake, 0, sizeof(fake));
	ASSERT_OK(epcg_exec_live_create(1, &f->ex));
	ASSERT_OK(epcg_misc_create(&f->m));
	ASSERT_OK(epcg_sgx_create(f->m, f->ex, &cfg, &f->sgx));
	f->sgx->rops = &fake_ops;
	f->root = epcg_misc_root(f->m);
	epcg_task_init(&f->task, 100, -1);
	epcg_task_set_current(&f->task);
}

static inline void sfx_setup(struct sfx *f, uint64_t nr_pages)
{
	sfx_setup_policy(f, nr_pages, EPCG_SGX_POLICY_V17);
}

static inline void sfx_check(struct sfx *f)
{
	char why[256];

	epcg_exec_flush(f->ex);
	if (epcg_sgx_check(f->sgx, why, sizeof(why)))
		epcg_test_fail(__FILE__, __LINE__, "invariant: %s", why);
}

/* Remove the cgroups mkcg() made and that are still live, leaves first. */
static inline void sfx_teardown(struct sfx *f)
{
	epcg_task_set_current(NULL);
	epcg_misc_task_attach(&f->task, NULL);
	while (f->nr_cgs--) {
		struct epcg_misc_cg *cg = f->cgs[f->nr_cgs];

		if (cg && !epcg_misc_cg_is_dying(cg))
			ASSERT_OK(epcg_misc_cg_remove(cg));
	}
	epcg_exec_flush(f->ex);
	epcg_sgx_destroy(f->sgx);
	epcg_misc_destroy(f->m);
	epcg_exec_destroy(f->ex);
}

static inline struct epcg_misc_cg *
mkcg(struct sfx *f, struct epcg_misc_cg *parent, const char *name)
{
	struct epcg_misc_cg *cg;

	ASSERT_OK(epcg_misc_cg_create(parent, name, &cg));
	ASSERT_CMP(f->nr_cgs, <, EPCG_ARRAY_SIZE(f->cgs));
	f->cgs[f->nr_cgs++] = cg;
	return cg;
}

/* rmdir @cg now; teardown forgets it (it may be freed any time after). */
static inline void rmcg(struct sfx *f, struct epcg_misc_cg *cg)
{
	for (unsigned i = 0; i < f->nr_cgs; i++)
		if (f->cgs[i] == cg)
			f->cgs[i] = NULL;
	ASSERT_OK(epcg_misc_cg_remove(cg));
}

static inline void set_max_pages(struct epcg_misc_cg *cg, uint64_t pages)
{
	ASSERT_OK(epcg_misc_set_max(cg, RES, pages * PG));
}

static inline uint64_t usage_pages(const struct epcg_misc_cg *cg)
{
	return epcg_misc_usage(cg, RES) / PG;
}

static inline struct epcg_sgx_cgroup *scg(struct epcg_misc_cg *cg)
{
	return epcg__sgx_cgroup_of(cg);
}

static inline uint64_t lru_len(struct epcg_misc_cg *cg)
{
	return epcg_atomic_load_relaxed(&scg(cg)->lru.nr);
}

static inline uint64_t cg_ewb(struct epcg_misc_cg *cg)
{
	struct epcg_sgx_stats st;

	ASSERT_OK(epcg_sgx_cg_stats(cg, &st));
	return st.ewb;
}

static inline uint64_t cg_scans(struct epcg_misc_cg *cg)
{
	struct epcg_sgx_stats st;

	ASSERT_OK(epcg_sgx_cg_stats(cg, &st));
	return st.reclaim_scans;
}

/*
 * Allocate one fake page as the test thread's task, in @cg (NULL: the
 * task's current cgroup is kept).  Return: 0 with *@ret, or the error.
 */
static inline int fake_alloc(struct sfx *f, struct epcg_misc_cg *cg,
			     enum fake_kind kind, enum epcg_epc_reclaim reclaim,
			     struct fake_page **ret)
{
	struct fake_page *fp = calloc(1, sizeof(*fp));
	int err;

	*ret = NULL;
	ASSERT_NOT_NULL(fp);
	fp->kind = kind;
	fp->sgx = f->sgx;
	if (cg)
		epcg_misc_task_attach(&f->task, cg);
	err = epcg__sgx_alloc_page(f->sgx, fp, reclaim, &fp->page);
	if (err) {
		free(fp);
		return err;
	}
	if (kind == FAKE_REG)
		epcg__sgx_mark_reclaimable(f->sgx, fp->page);
	*ret = fp;
	return 0;
}

/* Fill @cg with @n pages of @kind (allocated without reclaim). */
static inline void fake_fill(struct sfx *f, struct epcg_misc_cg *cg,
			     enum fake_kind kind, unsigned n,
			     struct fake_page **out)
{
	for (unsigned i = 0; i < n; i++) {
		struct fake_page *fp;

		ASSERT_OK(fake_alloc(f, cg, kind, EPCG_EPC_NO_RECLAIM, &fp));
		if (out)
			out[i] = fp;
	}
}

/*
 * Release a fake page as the enclave layer would: unmark (the page must not
 * be isolated: tests call this at quiescent points) and free if resident.
 */
static inline void fake_release(struct sfx *f, struct fake_page *fp)
{
	if (fp->page) {
		ASSERT_OK(epcg__sgx_unmark_reclaimable(f->sgx, fp->page));
		epcg__sgx_free_page(f->sgx, fp->page);
		fp->page = NULL;
	}
	ASSERT_EQ(epcg_atomic_load_relaxed(&fp->pins) & ~FAKE_DEAD, 0);
	free(fp);
}

static inline void fake_release_all(struct sfx *f, struct fake_page **fps,
				    unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fps[i])
			fake_release(f, fps[i]);
}

/* How many of @fps are still resident. */
static inline unsigned fake_resident(struct fake_page **fps, unsigned n)
{
	unsigned r = 0;

	for (unsigned i = 0; i < n; i++)
		r += fps[i]->page != NULL;
	return r;
}

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

#endif
