// SPDX-License-Identifier: MIT
/*
 * Unit tests of the EPC allocator: section validation, capacity, the
 * charge every allocation makes (E1) and its undoing, node preference,
 * pfn mapping and frame memory.  After each operation the tests check the
 * accounting invariant: at every cgroup, sgx_epc usage is 4096 times the
 * number of allocated pages charged within its subtree.
 */
#include <epcg/epc.h>

#include <stdlib.h>
#include <unistd.h>

#include <epcg/exec.h>
#include <epcg/misc.h>

#include "sgx/epc-internal.h"
#include "test.h"

#define RES EPCG_MISC_RES_SGX_EPC
#define PG EPCG_PAGE_SIZE
#define MAX_HELD 4096

struct fixture {
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_epc *epc;
	struct epcg_task task;		/* current task of the test thread */
	struct epcg_epc_page *held[MAX_HELD];
	unsigned nr_held;
};

static void setup(struct fixture *f, const struct epcg_epc_section_spec *secs,
		  unsigned nr)
{
	memset(f, 0, sizeof(*f));
	ASSERT_OK(epcg_exec_live_create(1, &f->ex));
	ASSERT_OK(epcg_misc_create(&f->m));
	ASSERT_OK(epcg_epc_create(f->m, f->ex, secs, nr, &f->epc));
	epcg_task_init(&f->task, 100, -1);
	epcg_task_set_current(&f->task);
}

static void setup_pages(struct fixture *f, uint64_t nr_pages)
{
	struct epcg_epc_section_spec sec = { nr_pages * PG, 0 };

	setup(f, &sec, 1);
}

static void teardown(struct fixture *f)
{
	epcg_task_set_current(NULL);
	epcg_misc_task_attach(&f->task, NULL);
	epcg_epc_destroy(f->epc);
	epcg_misc_destroy(f->m);
	epcg_exec_destroy(f->ex);
}

static struct epcg_misc_cg *mkcg(struct epcg_misc_cg *parent,
				 const char *name)
{
	struct epcg_misc_cg *cg;

	ASSERT_OK(epcg_misc_cg_create(parent, name, &cg));
	return cg;
}

static bool in_subtree(struct epcg_misc_cg *cg, struct epcg_misc_cg *top)
{
	for (; cg; cg = epcg_misc_cg_parent(cg))
		if (cg == top)
			return true;
	return false;
}

/*
 * The invariant, at every cgroup of the tree (dying ones included): usage
 * == 4096 * pages held whose charged cgroup is in its subtree; and every
 * frame is either free or held.
 */
static void check_invariant(struct fixture *f)
{
	struct epcg_misc_cg *root = epcg_misc_root(f->m), *pos = NULL;

	epcg_misc_tree_lock(f->m);
	while ((pos = epcg_misc_cg_next_pre(pos, root))) {
		uint64_t want = 0;

		for (unsigned i = 0; i < f->nr_held; i++)
			if (in_subtree(epcg_epc_page_cg(f->held[i]), pos))
				want += PG;
		ASSERT_U64_EQ(epcg_misc_usage(pos, RES), want);
	}
	epcg_misc_tree_unlock(f->m);
	ASSERT_U64_EQ(epcg_epc_nr_free(f->epc) + f->nr_held,
		      epcg_epc_nr_pages(f->epc));
}

/* Allocate as the fixture's task; keep the page; check; return -errno. */
static int alloc(struct fixture *f, struct epcg_epc_page **ret)
{
	struct epcg_epc_page *page = NULL;
	int r = epcg_epc_alloc_page(f->epc, f, EPCG_EPC_NO_RECLAIM, &page);

	if (!r) {
		ASSERT_CMP(f->nr_held, <, MAX_HELD);
		ASSERT_FALSE(epcg_atomic_load_relaxed(&page->flags) &
			     EPCG_EPC_PAGE_FREE);
		ASSERT_TRUE(epcg_epc_page_owner(page) == f);
		f->held[f->nr_held++] = page;
		if (ret)
			*ret = page;
	}
	check_invariant(f);
	return r;
}

static void release(struct fixture *f, struct epcg_epc_page *page)
{
	for (unsigned i = 0; i < f->nr_held; i++) {
		if (f->held[i] != page)
			continue;
		f->held[i] = f->held[--f->nr_held];
		epcg_epc_free_page(page);
		ASSERT_TRUE(epcg_atomic_load_relaxed(&page->flags) &
			    EPCG_EPC_PAGE_FREE);
		ASSERT_NULL(epcg_epc_page_cg(page));
		check_invariant(f);
		return;
	}
	ASSERT_TRUE(!"page not held");
}

static void release_all(struct fixture *f)
{
	while (f->nr_held)
		release(f, f->held[f->nr_held - 1]);
}

TEST(descriptor_fits_a_cache_line)
{
	ASSERT_CMP(sizeof(struct epcg_epc_page), <=, 64);
}

TEST(create_invalid)
{
	struct epcg_epc_section_spec ok = { 4 * PG, 0 };
	struct epcg_epc_section_spec nine[9];
	struct epcg_epc_section_spec bad[] = {
		{ 0, 0 },		/* empty */
		{ PG - 1, 0 },		/* less than a page */
		{ PG + 1, 0 },		/* not a multiple */
		{ 3 * PG + 512, 0 },	/* not a multiple */
		{ PG, -1 },		/* node below 0 */
		{ PG, EPCG_EPC_MAX_NODES }, /* node above 7 */
		{ PG, 1000 },
	};
	uint64_t huge = UINT64_MAX & ~(uint64_t)(PG - 1);
	struct epcg_epc_section_spec overflow[2] = { { huge, 0 }, { huge, 1 } };
	struct epcg_exec *ex;
	struct epcg_misc *m;
	struct epcg_epc *epc = NULL;

	ASSERT_OK(epcg_exec_live_create(1, &ex));
	ASSERT_OK(epcg_misc_create(&m));
	for (unsigned i = 0; i < 9; i++)
		nine[i] = ok;

	ASSERT_ERR(epcg_epc_create(NULL, ex, &ok, 1, &epc), EINVAL);
	ASSERT_ERR(epcg_epc_create(m, NULL, &ok, 1, &epc), EINVAL);
	ASSERT_ERR(epcg_epc_create(m, ex, NULL, 1, &epc), EINVAL);
	ASSERT_ERR(epcg_epc_create(m, ex, &ok, 1, NULL), EINVAL);
	ASSERT_ERR(epcg_epc_create(m, ex, &ok, 0, &epc), EINVAL);
	ASSERT_ERR(epcg_epc_create(m, ex, nine, 9, &epc), EINVAL);
	for (unsigned i = 0; i < EPCG_ARRAY_SIZE(bad); i++) {
		struct epcg_epc_section_spec two[2] = { ok, bad[i] };

		ASSERT_ERR(epcg_epc_create(m, ex, &bad[i], 1, &epc), EINVAL);
		/* A bad section anywhere in the list. */
		ASSERT_ERR(epcg_epc_create(m, ex, two, 2, &epc), EINVAL);
	}
	ASSERT_ERR(epcg_epc_create(m, ex, overflow, 2, &epc), EINVAL);
	ASSERT_NULL(epc);
	ASSERT_U64_EQ(epcg_misc_capacity(m, RES), 0);

	/* Eight sections is the most, and it works. */
	ASSERT_OK(epcg_epc_create(m, ex, nine, 8, &epc));
	ASSERT_EQ(epcg_epc_nr_sections(epc), 8);
	epcg_epc_destroy(epc);
	epcg_epc_destroy(NULL);
	epcg_misc_destroy(m);
	epcg_exec_destroy(ex);
}

TEST(alloc_free_invalid)
{
	struct fixture f;
	struct epcg_epc_page *page;

	setup_pages(&f, 4);
	ASSERT_ERR(epcg_epc_alloc_page(NULL, NULL, EPCG_EPC_RECLAIM, &page),
		   EINVAL);
	ASSERT_ERR(epcg_epc_alloc_page(f.epc, NULL, EPCG_EPC_RECLAIM, NULL),
		   EINVAL);
	ASSERT_ERR(epcg_epc_alloc_page(f.epc, NULL, EPCG_EPC_RECLAIM_NR, &page),
		   EINVAL);
	ASSERT_ERR(epcg_epc_alloc_page(f.epc, NULL, (enum epcg_epc_reclaim)-1,
				       &page),
		   EINVAL);
	epcg_epc_free_page(NULL);
	check_invariant(&f);
	teardown(&f);
}

TEST(capacity_is_sum_of_sections)
{
	struct epcg_epc_section_spec secs[] = {
		{ 4 * PG, 0 }, { 8 * PG, 1 }, { 2 * PG, 0 }, { 1 * PG, 7 },
	};
	struct fixture f;

	setup(&f, secs, 4);
	ASSERT_U64_EQ(epcg_misc_capacity(f.m, RES), 15 * PG);
	ASSERT_U64_EQ(epcg_epc_nr_pages(f.epc), 15);
	ASSERT_U64_EQ(epcg_epc_nr_free(f.epc), 15);
	ASSERT_EQ(epcg_epc_nr_sections(f.epc), 4);
	ASSERT_TRUE(epcg_epc_misc(f.epc) == f.m);
	ASSERT_TRUE(epcg_epc_exec(f.epc) == f.ex);
	/* The other resources are untouched. */
	ASSERT_U64_EQ(epcg_misc_capacity(f.m, EPCG_MISC_RES_SEV), 0);

	epcg_epc_destroy(f.epc);
	ASSERT_U64_EQ(epcg_misc_capacity(f.m, RES), 0);
	f.epc = NULL;
	teardown(&f);
}

TEST(alloc_charges_task_cgroup_and_ancestors)
{
	struct epcg_misc_cg *root, *a, *b, *c;
	struct epcg_epc_page *p1, *p2;
	struct fixture f;

	setup_pages(&f, 16);
	root = epcg_misc_root(f.m);
	a = mkcg(root, "a");
	b = mkcg(a, "b");
	c = mkcg(root, "c");
	epcg_misc_task_attach(&f.task, b);

	ASSERT_OK(alloc(&f, &p1));
	ASSERT_TRUE(epcg_epc_page_cg(p1) == b);
	ASSERT_U64_EQ(epcg_misc_usage(b, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(a, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(root, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(c, RES), 0);
	ASSERT_OK(alloc(&f, &p2));
	ASSERT_U64_EQ(epcg_misc_usage(a, RES), 2 * PG);
	ASSERT_U64_EQ(epcg_misc_peak(b, RES), 2 * PG);

	release(&f, p1);
	release(&f, p2);
	ASSERT_U64_EQ(epcg_misc_usage(root, RES), 0);

	/* No current task: internal work charges the root only. */
	epcg_task_set_current(NULL);
	ASSERT_OK(alloc(&f, &p1));
	ASSERT_TRUE(epcg_epc_page_cg(p1) == root);
	ASSERT_U64_EQ(epcg_misc_usage(root, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(a, RES), 0);
	release(&f, p1);
	epcg_task_set_current(&f.task);

	epcg_misc_task_attach(&f.task, NULL);
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_OK(epcg_misc_cg_remove(c));
	teardown(&f);
}

TEST(free_uncharges_the_charged_cgroup_after_a_move)
{
	struct epcg_misc_cg *root, *a, *b, *c;
	struct epcg_epc_page *p1, *p2;
	struct fixture f;

	setup_pages(&f, 16);
	root = epcg_misc_root(f.m);
	a = mkcg(root, "a");
	b = mkcg(a, "b");
	c = mkcg(root, "c");

	epcg_misc_task_attach(&f.task, b);
	ASSERT_OK(alloc(&f, &p1));
	/* The task moves: new charges go to c, old ones stay with b. */
	epcg_misc_task_attach(&f.task, c);
	ASSERT_OK(alloc(&f, &p2));
	ASSERT_TRUE(epcg_epc_page_cg(p1) == b);
	ASSERT_TRUE(epcg_epc_page_cg(p2) == c);
	ASSERT_U64_EQ(epcg_misc_usage(b, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(c, RES), PG);

	release(&f, p1);
	ASSERT_U64_EQ(epcg_misc_usage(b, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(a, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(c, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(root, RES), PG);
	release(&f, p2);

	epcg_misc_task_attach(&f.task, NULL);
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_OK(epcg_misc_cg_remove(a));
	ASSERT_OK(epcg_misc_cg_remove(c));
	teardown(&f);
}

/* Cgroups in @top's subtree, dying ones included. */
static unsigned subtree_size(struct epcg_misc *m, struct epcg_misc_cg *top)
{
	struct epcg_misc_cg *pos = NULL;
	unsigned n = 0;

	epcg_misc_tree_lock(m);
	while ((pos = epcg_misc_cg_next_pre(pos, top)))
		n++;
	epcg_misc_tree_unlock(m);
	return n;
}

TEST(dying_cgroup_lives_until_its_last_page)
{
	struct epcg_misc_cg *root, *a, *b;
	struct epcg_epc_page *p1, *p2;
	struct fixture f;

	setup_pages(&f, 16);
	root = epcg_misc_root(f.m);
	a = mkcg(root, "a");
	b = mkcg(a, "b");
	epcg_misc_task_attach(&f.task, b);
	ASSERT_OK(alloc(&f, &p1));
	ASSERT_OK(alloc(&f, &p2));
	epcg_misc_task_attach(&f.task, NULL);

	/* rmdir: b is dying, its pages stay charged to it and to a. */
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_TRUE(epcg_misc_cg_is_dying(b));
	ASSERT_EQ(subtree_size(f.m, a), 2);
	ASSERT_U64_EQ(epcg_misc_usage(a, RES), 2 * PG);
	check_invariant(&f);

	release(&f, p1);
	ASSERT_EQ(subtree_size(f.m, a), 2);
	ASSERT_U64_EQ(epcg_misc_usage(b, RES), PG);
	ASSERT_U64_EQ(epcg_misc_usage(a, RES), PG);

	/* The last page's free drops the last reference: b is gone. */
	release(&f, p2);
	ASSERT_EQ(subtree_size(f.m, a), 1);
	ASSERT_U64_EQ(epcg_misc_usage(a, RES), 0);
	ASSERT_U64_EQ(epcg_misc_usage(root, RES), 0);

	ASSERT_OK(epcg_misc_cg_remove(a));
	teardown(&f);
}

TEST(limit_refuses_with_ebusy_and_nothing_leaks)
{
	struct epcg_misc_cg *root, *a, *b, *c;
	struct epcg_epc_page *p;
	struct fixture f;

	setup_pages(&f, 16);
	root = epcg_misc_root(f.m);
	a = mkcg(root, "a");
	b = mkcg(a, "b");
	c = mkcg(a, "c");
	ASSERT_OK(epcg_misc_set_max(b, RES, 2 * PG));
	epcg_misc_task_attach(&f.task, b);

	ASSERT_OK(alloc(&f, NULL));
	ASSERT_OK(alloc(&f, NULL));
	ASSERT_ERR(alloc(&f, &p), EBUSY);
	ASSERT_ERR(alloc(&f, &p), EBUSY);
	ASSERT_U64_EQ(epcg_misc_usage(b, RES), 2 * PG);
	ASSERT_U64_EQ(epcg_epc_nr_free(f.epc), 14);
	ASSERT_U64_EQ(epcg_misc_events_local(b, RES), 2);
	ASSERT_U64_EQ(epcg_misc_events(a, RES), 2);
	ASSERT_U64_EQ(epcg_misc_events_local(a, RES), 0);

	/* A limit on the parent refuses a sibling too. */
	ASSERT_OK(epcg_misc_set_max(a, RES, 3 * PG));
	epcg_misc_task_attach(&f.task, c);
	ASSERT_OK(alloc(&f, NULL));
	ASSERT_ERR(alloc(&f, &p), EBUSY);
	ASSERT_U64_EQ(epcg_misc_usage(c, RES), PG);
	ASSERT_U64_EQ(epcg_misc_events_local(a, RES), 1);

	/* Freeing makes room again. */
	release(&f, f.held[0]);
	ASSERT_OK(alloc(&f, NULL));
	release_all(&f);
	ASSERT_U64_EQ(epcg_epc_nr_free(f.epc), 16);

	epcg_misc_task_attach(&f.task, NULL);
	ASSERT_OK(epcg_misc_cg_remove(b));
	ASSERT_OK(epcg_misc_cg_remove(c));
	ASSERT_OK(epcg_misc_cg_remove(a));
	teardown(&f);
}

TEST(capacity_refuses_with_ebusy)
{
	struct fixture f;

	setup_pages(&f, 4);
	for (int i = 0; i < 4; i++)
		ASSERT_OK(alloc(&f, NULL));
	/* The capacity (4 pages) refuses the charge before any frame. */
	ASSERT_ERR(alloc(&f, NULL), EBUSY);
	release_all(&f);
	teardown(&f);
}

TEST(enomem_when_frames_run_out_undoes_the_charge)
{
	struct epcg_epc_page *stolen[8];
	struct epcg_misc_cg *root, *a;
	struct fixture f;

	setup_pages(&f, 8);
	root = epcg_misc_root(f.m);
	a = mkcg(root, "a");
	epcg_misc_task_attach(&f.task, a);
	ASSERT_OK(alloc(&f, NULL));
	ASSERT_OK(alloc(&f, NULL));

	/* Take the remaining frames without charging (as a reclaimer's
	 * in-flight pages would be), so the charge passes but no frame is
	 * left. */
	for (int i = 0; i < 6; i++) {
		stolen[i] = epcg__epc_take_frame(f.epc, -1);
		ASSERT_NOT_NULL(stolen[i]);
	}
	ASSERT_NULL(epcg__epc_take_frame(f.epc, -1));
	ASSERT_U64_EQ(epcg_epc_nr_free(f.epc), 0);

	ASSERT_ERR(epcg_epc_alloc_page(f.epc, NULL, EPCG_EPC_RECLAIM,
				       &stolen[7]),
		   ENOMEM);
	ASSERT_U64_EQ(epcg_misc_usage(a, RES), 2 * PG);
	ASSERT_U64_EQ(epcg_misc_usage(root, RES), 2 * PG);
	/* The charge passed: no limit event. */
	ASSERT_U64_EQ(epcg_misc_events_local(a, RES), 0);

	for (int i = 0; i < 6; i++)
		epcg__epc_return_frame(stolen[i]);
	ASSERT_U64_EQ(epcg_epc_nr_free(f.epc), 6);
	check_invariant(&f);
	ASSERT_OK(alloc(&f, NULL));
	release_all(&f);

	epcg_misc_task_attach(&f.task, NULL);
	ASSERT_OK(epcg_misc_cg_remove(a));
	teardown(&f);
}

TEST(node_preference_and_round_robin_fallback)
{
	/* Nodes 0, 1 and 3 have EPC (4 pages each); node 2 has none. */
	struct epcg_epc_section_spec secs[] = {
		{ 4 * PG, 0 }, { 2 * PG, 1 }, { 4 * PG, 3 }, { 2 * PG, 1 },
	};
	struct epcg_epc_page *p;
	struct fixture f;
	int last = -1;

	setup(&f, secs, 4);
	f.task.node = 1;
	for (int i = 0; i < 4; i++) {
		ASSERT_OK(alloc(&f, &p));
		ASSERT_EQ(epcg_epc_page_node(p), 1);
	}
	/* Node 1 is empty: the others in turn, 0 and 3 alternating. */
	for (int i = 0; i < 8; i++) {
		int node;

		ASSERT_OK(alloc(&f, &p));
		node = epcg_epc_page_node(p);
		ASSERT_TRUE(node == 0 || node == 3);
		ASSERT_NE(node, last);
		last = node;
	}
	ASSERT_ERR(alloc(&f, &p), EBUSY);
	release_all(&f);

	/* No preference, or a node without EPC: the first node with EPC. */
	f.task.node = -1;
	ASSERT_OK(alloc(&f, &p));
	ASSERT_EQ(epcg_epc_page_node(p), 0);
	f.task.node = 2;
	ASSERT_OK(alloc(&f, &p));
	ASSERT_EQ(epcg_epc_page_node(p), 0);
	f.task.node = 99;
	ASSERT_OK(alloc(&f, &p));
	ASSERT_EQ(epcg_epc_page_node(p), 0);
	f.task.node = 3;
	ASSERT_OK(alloc(&f, &p));
	ASSERT_EQ(epcg_epc_page_node(p), 3);
	release_all(&f);
	teardown(&f);
}

/*
 * A freed frame goes back to the free stack of its own section's node,
 * whichever node the allocating task preferred, so every node ends up
 * with exactly its own frames again.
 */
TEST(free_returns_each_frame_to_its_sections_node)
{
	struct epcg_epc_section_spec secs[] = {
		{ 4 * PG, 0 }, { 2 * PG, 1 }, { 4 * PG, 3 }, { 2 * PG, 1 },
	};
	const uint64_t frames[EPCG_EPC_MAX_NODES] = { 4, 4, 0, 4 };
	struct fixture f;

	setup(&f, secs, 4);
	for (int round = 0; round < 2; round++) {
		/* Node 2 has none: node 0 first, then the fallback. */
		f.task.node = round ? 2 : 3;
		for (int i = 0; i < 12; i++)
			ASSERT_OK(alloc(&f, NULL));
		for (int n = 0; n < EPCG_EPC_MAX_NODES; n++)
			ASSERT_U64_EQ(epcg_atomic_load_relaxed(
					      &f.epc->nodes[n].nr_free),
				      0);
		/* Free in an order that mixes the nodes. */
		for (unsigned i = 0; i < 12; i += 2)
			release(&f, f.held[(i * 5) % f.nr_held]);
		release_all(&f);
		for (int n = 0; n < EPCG_EPC_MAX_NODES; n++) {
			struct epcg_epc_node *node = &f.epc->nodes[n];
			uint64_t len = 0;

			for (struct epcg_epc_page *p = node->free; p;
			     p = epcg__epc_free_next(p), len++)
				ASSERT_EQ(epcg_epc_page_node(p), n);
			ASSERT_U64_EQ(len, frames[n]);
			ASSERT_U64_EQ(epcg_atomic_load_relaxed(&node->nr_free),
				      frames[n]);
		}
	}
	teardown(&f);
}

TEST(first_node_with_epc_when_node_0_has_none)
{
	struct epcg_epc_section_spec secs[] = { { 2 * PG, 5 }, { 2 * PG, 2 } };
	struct epcg_epc_page *p;
	struct fixture f;

	setup(&f, secs, 2);
	ASSERT_OK(alloc(&f, &p));
	ASSERT_EQ(epcg_epc_page_node(p), 2);
	release_all(&f);
	teardown(&f);
}

TEST(free_returns_frame_to_the_head)
{
	struct epcg_epc_page *p0, *p1, *p;
	struct fixture f;

	setup_pages(&f, 4);
	ASSERT_OK(alloc(&f, &p0));
	ASSERT_OK(alloc(&f, &p1));
	ASSERT_U64_EQ(epcg_epc_page_pfn(p0), 0);
	ASSERT_U64_EQ(epcg_epc_page_pfn(p1), 1);
	release(&f, p0);
	/*
	 * The freed frame 0 comes first (it is resident and warm), then
	 * frames 2 and 3, which were never used.
	 */
	ASSERT_OK(alloc(&f, &p));
	ASSERT_U64_EQ(epcg_epc_page_pfn(p), 0);
	ASSERT_OK(alloc(&f, &p));
	ASSERT_U64_EQ(epcg_epc_page_pfn(p), 2);
	ASSERT_OK(alloc(&f, &p));
	ASSERT_U64_EQ(epcg_epc_page_pfn(p), 3);
	release_all(&f);
	teardown(&f);
}

TEST(pfn_page_mapping)
{
	struct epcg_epc_section_spec secs[] = {
		{ 3 * PG, 1 }, { 5 * PG, 0 }, { 1 * PG, 2 },
	};
	static const int node_of_pfn[] = { 1, 1, 1, 0, 0, 0, 0, 0, 2 };
	struct fixture f;

	setup(&f, secs, 3);
	for (uint64_t pfn = 0; pfn < 9; pfn++) {
		struct epcg_epc_page *page = epcg_epc_pfn_to_page(f.epc, pfn);
		const struct epcg_epc_section *sec;

		ASSERT_NOT_NULL(page);
		sec = epcg__epc_page_section(page);
		ASSERT_U64_EQ(epcg_epc_page_pfn(page), pfn);
		ASSERT_EQ(epcg_epc_page_node(page), node_of_pfn[pfn]);
		ASSERT_EQ(sec->node, node_of_pfn[pfn]);
		ASSERT_TRUE((char *)epcg_epc_page_addr(page) ==
			    (char *)sec->base +
				    (pfn - sec->first_pfn) * PG);
	}
	ASSERT_NULL(epcg_epc_pfn_to_page(f.epc, 9));
	ASSERT_NULL(epcg_epc_pfn_to_page(f.epc, UINT64_MAX));
	teardown(&f);
}

TEST(frame_memory_is_writable_and_distinct)
{
	struct epcg_epc_section_spec secs[] = {
		{ 16 * PG, 0 }, { 16 * PG, 1 },
	};
	struct fixture f;

	setup(&f, secs, 2);
	for (int i = 0; i < 32; i++)
		ASSERT_OK(alloc(&f, NULL));
	for (unsigned i = 0; i < f.nr_held; i++) {
		uint64_t *w = epcg_epc_page_addr(f.held[i]);
		uint64_t pfn = epcg_epc_page_pfn(f.held[i]);

		ASSERT_EQ((uintptr_t)w % PG, 0);
		for (unsigned j = 0; j < PG / sizeof(*w); j++)
			w[j] = pfn << 32 | j;
	}
	for (unsigned i = 0; i < f.nr_held; i++) {
		uint64_t *w = epcg_epc_page_addr(f.held[i]);
		uint64_t pfn = epcg_epc_page_pfn(f.held[i]);

		for (unsigned j = 0; j < PG / sizeof(*w); j++)
			ASSERT_U64_EQ(w[j], pfn << 32 | j);
	}
	release_all(&f);
	teardown(&f);
}

/*
 * Random operations on a small tree (allocate, free, move the task, change
 * a limit, remove a cgroup), checking the invariant after each one.
 */
TEST(invariant_under_random_operations)
{
	struct epcg_epc_section_spec secs[] = {
		{ 48 * PG, 0 }, { 16 * PG, 1 },
	};
	uint64_t rng = epcg_test_seed();
	struct epcg_misc_cg *cgs[8];
	bool removed[8] = { false };
	const int parent_of[8] = { -1, 0, 0, 1, 1, 2, 3, 5 };
	unsigned nr_ok = 0, nr_busy = 0;
	char name[8];
	struct fixture f;

	setup(&f, secs, 2);
	cgs[0] = epcg_misc_root(f.m);
	for (int i = 1; i < 8; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		cgs[i] = mkcg(cgs[parent_of[i]], name);
	}

	for (int op = 0; op < 3000; op++) {
		uint64_t x = epcg_test_rand(&rng), max;
		int i = (int)((x >> 8) % 8);

		switch (x % 10) {
		case 0 ... 3:
			if (alloc(&f, NULL))
				nr_busy++;
			else
				nr_ok++;
			break;
		case 4 ... 6:
			if (f.nr_held)
				release(&f, f.held[(x >> 16) % f.nr_held]);
			break;
		case 7:
			f.task.node = (int)((x >> 24) % 3) - 1;
			if (!removed[i])
				epcg_misc_task_attach(&f.task, cgs[i]);
			break;
		case 8:
			max = (x >> 32) % 24 * PG;
			if (i && !removed[i])
				ASSERT_OK(epcg_misc_set_max(cgs[i], RES, max));
			break;
		case 9:
			/* rmdir of a leaf nobody is attached to. */
			if (op < 2000 || i < 6 || removed[i] ||
			    f.task.cg == cgs[i])
				break;
			ASSERT_OK(epcg_misc_cg_remove(cgs[i]));
			removed[i] = true;
			break;
		}
		check_invariant(&f);
	}
	epcg_test_note("%u allocations, %u refused", nr_ok, nr_busy);
	ASSERT_CMP(nr_ok, >, 100);
	ASSERT_CMP(nr_busy, >, 10);
	epcg_misc_task_attach(&f.task, NULL);
	release_all(&f);
	for (int i = 7; i > 0; i--)
		if (!removed[i])
			ASSERT_OK(epcg_misc_cg_remove(cgs[i]));
	ASSERT_EQ(subtree_size(f.m, cgs[0]), 1);
	ASSERT_U64_EQ(epcg_misc_usage(cgs[0], RES), 0);
	teardown(&f);
}

/* Kept reachable, so the leak sanitizer does not report the leak made on
 * purpose below. */
static struct fixture *leaky;

TEST(destroy_reports_leaked_pages_once)
{
	char buf[512] = "";
	char path[] = "/tmp/epcg-test-epc-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	ASSERT_CMP(fd, >=, 0);
	unlink(path);
	leaky = calloc(1, sizeof(*leaky));
	ASSERT_NOT_NULL(leaky);
	setup_pages(leaky, 4);
	ASSERT_OK(alloc(leaky, NULL));

	ASSERT_EQ(dup2(fd, 2), 2);
	epcg_epc_destroy(leaky->epc);
	fflush(stderr);
	dup2(saved, 2);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ASSERT_CMP(n, >, 0);
	ASSERT_NOT_NULL(strstr(buf, "1 of 4 pages"));
	ASSERT_U64_EQ(epcg_misc_capacity(leaky->m, RES), 0);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(descriptor_fits_a_cache_line),
	TEST_ENTRY(create_invalid),
	TEST_ENTRY(alloc_free_invalid),
	TEST_ENTRY(capacity_is_sum_of_sections),
	TEST_ENTRY(alloc_charges_task_cgroup_and_ancestors),
	TEST_ENTRY(free_uncharges_the_charged_cgroup_after_a_move),
	TEST_ENTRY(dying_cgroup_lives_until_its_last_page),
	TEST_ENTRY(limit_refuses_with_ebusy_and_nothing_leaks),
	TEST_ENTRY(capacity_refuses_with_ebusy),
	TEST_ENTRY(enomem_when_frames_run_out_undoes_the_charge),
	TEST_ENTRY(node_preference_and_round_robin_fallback),
	TEST_ENTRY(free_returns_each_frame_to_its_sections_node),
	TEST_ENTRY(first_node_with_epc_when_node_0_has_none),
	TEST_ENTRY(free_returns_frame_to_the_head),
	TEST_ENTRY(pfn_page_mapping),
	TEST_ENTRY(frame_memory_is_writable_and_distinct),
	TEST_ENTRY(invariant_under_random_operations),
	TEST_ENTRY(destroy_reports_leaked_pages_once),
};
TEST_MAIN(tests)
