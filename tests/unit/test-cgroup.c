// SPDX-License-Identifier: MIT
/*
 * Unit tests of the cgroup v2 core tree as pure library calls: every rule
 * of SPEC T1 to T5 and each error code, the misc.* files it routes (M3 to
 * M5), and that a failed write changes nothing.  Processes are a fake
 * table, so fork inheritance and exits are scripted.
 */
#include <epcg/cgroup.h>
#include <epcg/exec.h>
#include <epcg/misc.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util/atomic.h"

#define EPC (1024ull * 4096)

/* ---- a fake process table ----------------------------------------------- */

struct fake_proc {
	pid_t pid, ppid, tgid;
	bool kthread;
};

static struct fake_proc procs[] = {
	{ 1, 0, 1, false },
	{ 100, 1, 100, false },
	{ 101, 100, 101, false },
	{ 102, 101, 102, false },
	{ 103, 1, 103, false },
	{ 104, 1, 104, false },
	{ 200, 1, 200, false },
	{ 201, 200, 200, false }, /* a thread of 200 */
	{ 2, 0, 2, true },
};

static int nr_added;
static int notified[64];
static const void *notified_key[64];
static int nr_notified;

static struct fake_proc *fake_find(pid_t pid)
{
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

static int fake_lookup(pid_t pid, void *data)
{
	struct fake_proc *p = fake_find(pid);

	if (!p)
		return -ESRCH;
	return p->kthread ? -EINVAL : p->tgid;
}

static int fake_parent(pid_t pid, void *data)
{
	struct fake_proc *p = fake_find(pid);

	return p ? p->ppid : -ESRCH;
}

static void fake_added(pid_t pid, void *data)
{
	nr_added++;
}

static void fake_notify(const void *key, enum epcg_cgroup_file file, void *data)
{
	if (nr_notified < 64) {
		notified_key[nr_notified] = key;
		notified[nr_notified] = file;
	}
	nr_notified++;
}

static const struct epcg_cgroup_ops fake_ops = {
	.pid_lookup = fake_lookup,
	.pid_parent = fake_parent,
	.proc_added = fake_added,
	.notify = fake_notify,
};

static const struct epcg_cgroup_cred root_cred = { 0, 0, 100 };
static const struct epcg_cgroup_cred user_cred = { 1000, 1000, 103 };

static struct epcg_misc *m;
static struct epcg_cgroup_tree *t;
static struct epcg_cgroup *root;

static void setup(void)
{
	ASSERT_OK(epcg_misc_create(&m));
	ASSERT_OK(epcg_misc_set_capacity(m, EPCG_MISC_RES_SGX_EPC, EPC));
	ASSERT_OK(epcg_cgroup_tree_create(m, &fake_ops, NULL, &root_cred, &t));
	ASSERT_OK(epcg_cgroup_lookup(t, "/", &root));
}

static void teardown(void)
{
	epcg_cgroup_put(root);
	epcg_cgroup_tree_destroy(t);
	epcg_misc_destroy(m);
}

static struct epcg_cgroup *mk(struct epcg_cgroup *parent, const char *name)
{
	struct epcg_cgroup *cg;

	ASSERT_OK(epcg_cgroup_mkdir(parent, name, &root_cred, &cg));
	return cg;
}

static int wr(struct epcg_cgroup *cg, enum epcg_cgroup_file f, const char *s)
{
	return epcg_cgroup_file_write(cg, f, s, strlen(s), &root_cred);
}

/* Assert the content of @f of @cg. */
#define ASSERT_SHOW(cg, f, want)                                               \
	do {                                                                   \
		char *show__buf;                                               \
		size_t show__len;                                              \
		ASSERT_OK(                                                     \
			epcg_cgroup_file_show(cg, f, &show__buf, &show__len)); \
		ASSERT_EQ(show__len, strlen(show__buf));                       \
		ASSERT_STREQ(show__buf, want);                                 \
		free(show__buf);                                               \
	} while (0)

#define F_CTRL EPCG_CGROUP_FILE_CONTROLLERS
#define F_EVENTS EPCG_CGROUP_FILE_EVENTS
#define F_PROCS EPCG_CGROUP_FILE_PROCS
#define F_SUBTREE EPCG_CGROUP_FILE_SUBTREE_CONTROL
#define F_TYPE EPCG_CGROUP_FILE_TYPE
#define F_MAX EPCG_CGROUP_FILE_MISC_MAX
#define F_CUR EPCG_CGROUP_FILE_MISC_CURRENT
#define SGX EPCG_MISC_RES_SGX_EPC

/* ---- T1: files ----------------------------------------------------------- */

TEST(file_names_and_modes)
{
	static const char *const names[] = {
		"cgroup.controllers", "cgroup.events",
		"cgroup.procs",	      "cgroup.subtree_control",
		"cgroup.type",	      "misc.capacity",
		"misc.current",	      "misc.peak",
		"misc.max",	      "misc.events",
		"misc.events.local",
	};

	for (int f = 0; f < EPCG_CGROUP_FILE_NR; f++) {
		ASSERT_STREQ(epcg_cgroup_file_name(f), names[f]);
		ASSERT_EQ(epcg_cgroup_file_lookup(names[f]), f);
	}
	ASSERT_ERR(epcg_cgroup_file_lookup("cgroup.threads"), ENOENT);
	ASSERT_ERR(epcg_cgroup_file_lookup(NULL), ENOENT);
	ASSERT_NULL(epcg_cgroup_file_name(EPCG_CGROUP_FILE_NR));
	ASSERT_EQ(epcg_cgroup_file_mode(F_PROCS), 0644);
	ASSERT_EQ(epcg_cgroup_file_mode(F_SUBTREE), 0644);
	ASSERT_EQ(epcg_cgroup_file_mode(F_MAX), 0644);
	ASSERT_EQ(epcg_cgroup_file_mode(F_TYPE), 0644);
	ASSERT_EQ(epcg_cgroup_file_mode(F_CTRL), 0444);
	ASSERT_EQ(epcg_cgroup_file_mode(F_EVENTS), 0444);
	ASSERT_EQ(epcg_cgroup_file_mode(EPCG_CGROUP_FILE_MISC_EVENTS), 0444);
	ASSERT_EQ(epcg_cgroup_file_mode(EPCG_CGROUP_FILE_NR), 0);
}

TEST(root_files)
{
	setup();
	ASSERT_TRUE(epcg_cgroup_is_root(root));
	ASSERT_TRUE(epcg_cgroup_file_exists(root, F_CTRL));
	ASSERT_TRUE(epcg_cgroup_file_exists(root, F_PROCS));
	ASSERT_TRUE(epcg_cgroup_file_exists(root, F_SUBTREE));
	ASSERT_FALSE(epcg_cgroup_file_exists(root, F_EVENTS));
	ASSERT_FALSE(epcg_cgroup_file_exists(root, F_TYPE));
	ASSERT_TRUE(
		epcg_cgroup_file_exists(root, EPCG_CGROUP_FILE_MISC_CAPACITY));
	ASSERT_TRUE(epcg_cgroup_file_exists(root, F_CUR));
	ASSERT_TRUE(epcg_cgroup_file_exists(root, EPCG_CGROUP_FILE_MISC_PEAK));
	ASSERT_FALSE(epcg_cgroup_file_exists(root, F_MAX));
	ASSERT_FALSE(
		epcg_cgroup_file_exists(root, EPCG_CGROUP_FILE_MISC_EVENTS));
	ASSERT_SHOW(root, F_CTRL, "misc\n");
	ASSERT_SHOW(root, F_SUBTREE, "");
	ASSERT_SHOW(root, F_PROCS, "");
	ASSERT_SHOW(root, EPCG_CGROUP_FILE_MISC_CAPACITY, "sgx_epc 4194304\n");
	ASSERT_SHOW(root, F_CUR, "sgx_epc 0\n");
	ASSERT_ERR(wr(root, F_MAX, "sgx_epc 1"), ENOENT);
	teardown();
}

TEST(child_files_follow_parent_subtree_control)
{
	struct epcg_cgroup *a, *b;

	setup();
	a = mk(root, "a");
	ASSERT_FALSE(epcg_cgroup_is_root(a));
	ASSERT_SHOW(a, F_CTRL, "");
	ASSERT_SHOW(a, F_SUBTREE, "");
	ASSERT_SHOW(a, F_EVENTS, "populated 0\nfrozen 0\n");
	ASSERT_SHOW(a, F_TYPE, "domain\n");
	for (int f = EPCG_CGROUP_FILE_MISC; f < EPCG_CGROUP_FILE_NR; f++)
		ASSERT_FALSE(epcg_cgroup_file_exists(a, f));
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_SHOW(root, F_SUBTREE, "misc\n");
	ASSERT_SHOW(a, F_CTRL, "misc\n");
	ASSERT_SHOW(a, F_MAX, "sgx_epc max\n");
	ASSERT_SHOW(a, F_CUR, "sgx_epc 0\n");
	ASSERT_SHOW(a, EPCG_CGROUP_FILE_MISC_EVENTS, "sgx_epc.max 0\n");
	ASSERT_FALSE(
		epcg_cgroup_file_exists(a, EPCG_CGROUP_FILE_MISC_CAPACITY));
	/* A cgroup made after enabling gets misc state too. */
	b = mk(root, "b");
	ASSERT_SHOW(b, F_MAX, "sgx_epc max\n");
	ASSERT_OK(wr(root, F_SUBTREE, "-misc"));
	ASSERT_SHOW(a, F_CTRL, "");
	ASSERT_FALSE(epcg_cgroup_file_exists(b, F_MAX));
	ASSERT_ERR(wr(a, F_MAX, "sgx_epc 1"), ENOENT);
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	teardown();
}

static int count_entry(const char *name, enum epcg_cgroup_file f, void *arg)
{
	int *n = arg;

	n[f == EPCG_CGROUP_FILE_NR]++;
	return 0;
}

TEST(directory_listing_and_lookup)
{
	struct epcg_cgroup *a, *b, *x;
	int n[2] = { 0, 0 };
	char path[64];

	setup();
	a = mk(root, "a");
	b = mk(a, "b");
	ASSERT_OK(epcg_cgroup_for_each_entry(root, count_entry, n));
	ASSERT_EQ(n[0], 6); /* 3 core + capacity, current, peak */
	ASSERT_EQ(n[1], 1);
	ASSERT_OK(epcg_cgroup_lookup(t, "/a//b/", &x));
	ASSERT_TRUE(x == b);
	epcg_cgroup_put(x);
	ASSERT_OK(epcg_cgroup_lookup(t, "a/b", &x));
	ASSERT_TRUE(x == b);
	epcg_cgroup_put(x);
	ASSERT_OK(epcg_cgroup_lookup(t, "", &x));
	ASSERT_TRUE(x == root);
	epcg_cgroup_put(x);
	ASSERT_ERR(epcg_cgroup_lookup(t, "/a/c", &x), ENOENT);
	ASSERT_EQ(epcg_cgroup_path(b, path, sizeof(path)), 4);
	ASSERT_STREQ(path, "/a/b");
	ASSERT_EQ(epcg_cgroup_path(root, path, sizeof(path)), 1);
	ASSERT_STREQ(path, "/");
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	teardown();
}

/* ---- T4: mkdir, rmdir ---------------------------------------------------- */

TEST(mkdir_names)
{
	char long_name[EPCG_CGROUP_NAME_MAX + 2];
	struct epcg_cgroup *a;

	setup();
	a = mk(root, "a");
	ASSERT_ERR(epcg_cgroup_mkdir(root, "a", &root_cred, NULL), EEXIST);
	ASSERT_ERR(epcg_cgroup_mkdir(root, "cgroup.procs", &root_cred, NULL),
		   EEXIST);
	ASSERT_ERR(epcg_cgroup_mkdir(root, "misc.max", &root_cred, NULL),
		   EEXIST);
	ASSERT_ERR(epcg_cgroup_mkdir(root, "a\nb", &root_cred, NULL), EINVAL);
	ASSERT_ERR(epcg_cgroup_mkdir(root, "a/b", &root_cred, NULL), EINVAL);
	ASSERT_ERR(epcg_cgroup_mkdir(root, ".", &root_cred, NULL), EINVAL);
	ASSERT_ERR(epcg_cgroup_mkdir(root, "..", &root_cred, NULL), EINVAL);
	ASSERT_ERR(epcg_cgroup_mkdir(root, "", &root_cred, NULL), EINVAL);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ASSERT_ERR(epcg_cgroup_mkdir(root, long_name, &root_cred, NULL),
		   EINVAL);
	long_name[EPCG_CGROUP_NAME_MAX] = '\0';
	ASSERT_OK(epcg_cgroup_mkdir(root, long_name, &root_cred, NULL));
	ASSERT_OK(epcg_cgroup_mkdir(root, "with space", &root_cred, NULL));
	ASSERT_OK(epcg_cgroup_mkdir(a, "a", &root_cred, NULL));
	epcg_cgroup_put(a);
	teardown();
}

TEST(mkdir_rmdir_permissions_and_owner)
{
	struct epcg_cgroup *d, *x;
	uid_t uid;
	gid_t gid;

	setup();
	ASSERT_ERR(epcg_cgroup_mkdir(root, "u", &user_cred, NULL), EACCES);
	d = mk(root, "d");
	epcg_cgroup_owner(d, &uid, &gid);
	ASSERT_EQ(uid, 0);
	ASSERT_ERR(epcg_cgroup_chown(d, 1000, 1000, &user_cred), EPERM);
	ASSERT_OK(epcg_cgroup_chown(d, 1000, 1000, &root_cred));
	ASSERT_OK(epcg_cgroup_mkdir(d, "x", &user_cred, &x));
	epcg_cgroup_owner(x, &uid, &gid);
	ASSERT_EQ(uid, 1000);
	ASSERT_EQ(gid, 1000);
	/* rmdir needs the parent's owner; the delegatee cannot remove d. */
	ASSERT_ERR(epcg_cgroup_rmdir(d, &user_cred), EACCES);
	ASSERT_OK(epcg_cgroup_rmdir(x, &user_cred));
	ASSERT_ERR(epcg_cgroup_rmdir(x, &user_cred), ENODEV);
	ASSERT_ERR(epcg_cgroup_rmdir(root, &root_cred), EPERM);
	epcg_cgroup_put(x);
	epcg_cgroup_put(d);
	teardown();
}

TEST(rmdir_busy_with_children_or_processes)
{
	struct epcg_cgroup *a, *b;
	char *buf;
	size_t len;

	setup();
	a = mk(root, "a");
	b = mk(a, "b");
	ASSERT_ERR(epcg_cgroup_rmdir(a, &root_cred), EBUSY);
	ASSERT_OK(wr(b, F_PROCS, "104"));
	ASSERT_ERR(epcg_cgroup_rmdir(b, &root_cred), EBUSY);
	ASSERT_OK(epcg_cgroup_proc_exit(t, 104));
	ASSERT_ERR(epcg_cgroup_proc_exit(t, 104), ESRCH);
	ASSERT_OK(epcg_cgroup_rmdir(b, &root_cred));
	ASSERT_OK(epcg_cgroup_rmdir(a, &root_cred));
	/* The removed cgroup's files are gone for open descriptors. */
	ASSERT_ERR(epcg_cgroup_file_show(b, F_PROCS, &buf, &len), ENODEV);
	ASSERT_ERR(wr(b, F_PROCS, "0"), ENODEV);
	ASSERT_ERR(epcg_cgroup_file_open(b, F_PROCS, EPCG_CGROUP_READ,
					 &root_cred),
		   ENODEV);
	ASSERT_ERR(epcg_cgroup_mkdir(b, "c", &root_cred, NULL), ENODEV);
	ASSERT_NULL(epcg_cgroup_misc_get(b));
	ASSERT_OK(epcg_cgroup_mkdir(root, "a", &root_cred, NULL));
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	teardown();
}

TEST(rmdir_with_charges_leaves_dying_misc)
{
	struct epcg_misc_cg *mcg;
	struct epcg_cgroup *a;

	setup();
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	a = mk(root, "a");
	mcg = epcg_cgroup_misc_get(a);
	ASSERT_OK(epcg_misc_try_charge(SGX, mcg, 8192, NULL));
	ASSERT_OK(epcg_cgroup_rmdir(a, &root_cred));
	ASSERT_TRUE(epcg_misc_cg_is_dying(mcg));
	ASSERT_SHOW(root, F_CUR, "sgx_epc 8192\n");
	/* The name is free again while the old misc cgroup is dying. */
	epcg_cgroup_put(a);
	a = mk(root, "a");
	ASSERT_SHOW(a, F_CUR, "sgx_epc 0\n");
	epcg_misc_uncharge(SGX, mcg, 8192);
	ASSERT_SHOW(root, F_CUR, "sgx_epc 0\n");
	epcg_misc_cg_put(mcg);
	epcg_cgroup_put(a);
	teardown();
}

/* ---- T2: cgroup.subtree_control ------------------------------------------ */

TEST(subtree_control_tokens)
{
	setup();
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_SHOW(root, F_SUBTREE, "misc\n");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc\n")); /* already on: no-op */
	ASSERT_OK(wr(root, F_SUBTREE, "  -misc  +misc  -misc \n"));
	ASSERT_SHOW(root, F_SUBTREE, ""); /* the last token wins */
	ASSERT_OK(wr(root, F_SUBTREE, "-misc")); /* already off: no-op */
	ASSERT_OK(wr(root, F_SUBTREE, "   "));
	ASSERT_ERR(wr(root, F_SUBTREE, "misc"), EINVAL);
	ASSERT_ERR(wr(root, F_SUBTREE, "+cpu"), EINVAL);
	ASSERT_ERR(wr(root, F_SUBTREE, "+"), EINVAL);
	ASSERT_ERR(wr(root, F_SUBTREE, "+MISC"), EINVAL);
	ASSERT_ERR(wr(root, F_SUBTREE, "*misc"), EINVAL);
	ASSERT_ERR(wr(root, F_SUBTREE, "+misc\t-misc"), EINVAL);
	/* All or nothing: a bad token refuses the whole write. */
	ASSERT_ERR(wr(root, F_SUBTREE, "+misc +memory"), EINVAL);
	ASSERT_SHOW(root, F_SUBTREE, "");
	teardown();
}

TEST(subtree_control_enoent_when_not_available)
{
	struct epcg_cgroup *a, *b;

	setup();
	a = mk(root, "a");
	b = mk(a, "b");
	ASSERT_ERR(wr(a, F_SUBTREE, "+misc"), ENOENT);
	ASSERT_OK(wr(a, F_SUBTREE, "-misc")); /* not enabled: no-op */
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_OK(wr(a, F_SUBTREE, "+misc"));
	ASSERT_SHOW(b, F_CTRL, "misc\n");
	ASSERT_SHOW(b, F_MAX, "sgx_epc max\n");
	ASSERT_OK(wr(b, F_SUBTREE, "+misc"));
	ASSERT_SHOW(b, F_SUBTREE, "misc\n");
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	teardown();
}

TEST(subtree_control_disable_busy_while_child_enabled)
{
	struct epcg_cgroup *a, *b;

	setup();
	a = mk(root, "a");
	b = mk(a, "b");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_OK(wr(a, F_SUBTREE, "+misc"));
	ASSERT_OK(wr(b, F_MAX, "sgx_epc 4096"));
	ASSERT_ERR(wr(root, F_SUBTREE, "-misc"), EBUSY);
	/* Nothing changed. */
	ASSERT_SHOW(root, F_SUBTREE, "misc\n");
	ASSERT_SHOW(a, F_SUBTREE, "misc\n");
	ASSERT_SHOW(b, F_MAX, "sgx_epc 4096\n");
	ASSERT_OK(wr(a, F_SUBTREE, "-misc"));
	ASSERT_OK(wr(root, F_SUBTREE, "-misc"));
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	teardown();
}

TEST(subtree_control_no_internal_processes)
{
	struct epcg_cgroup *a, *b;

	setup();
	a = mk(root, "a");
	b = mk(a, "b");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_OK(wr(a, F_PROCS, "104"));
	ASSERT_ERR(wr(a, F_SUBTREE, "+misc"), EBUSY);
	ASSERT_SHOW(a, F_SUBTREE, "");
	ASSERT_SHOW(b, F_CTRL, "");
	/* The root is exempt. */
	ASSERT_OK(wr(root, F_PROCS, "103"));
	ASSERT_OK(wr(root, F_SUBTREE, "-misc"));
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	/* Processes below do not count. */
	ASSERT_OK(wr(b, F_PROCS, "104"));
	ASSERT_OK(wr(a, F_SUBTREE, "+misc"));
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	teardown();
}

TEST(reenable_starts_from_defaults_charges_stay)
{
	struct epcg_misc_cg *old, *now;
	struct epcg_cgroup *a;

	setup();
	a = mk(root, "a");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_OK(wr(a, F_MAX, "sgx_epc 1048576"));
	old = epcg_cgroup_misc_get(a);
	ASSERT_OK(epcg_misc_try_charge(SGX, old, 4096, NULL));
	ASSERT_OK(wr(root, F_SUBTREE, "-misc"));
	ASSERT_TRUE(epcg_misc_cg_is_dying(old));
	ASSERT_SHOW(root, F_CUR, "sgx_epc 4096\n");
	/* Without misc state, a's charges land in the root. */
	now = epcg_cgroup_misc_get(a);
	ASSERT_TRUE(now == epcg_misc_root(m));
	epcg_misc_cg_put(now);
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_SHOW(a, F_MAX, "sgx_epc max\n");
	ASSERT_SHOW(a, F_CUR, "sgx_epc 0\n");
	epcg_misc_uncharge(SGX, old, 4096);
	ASSERT_SHOW(root, F_CUR, "sgx_epc 0\n");
	epcg_misc_cg_put(old);
	epcg_cgroup_put(a);
	teardown();
}

/* ---- T3: cgroup.procs ---------------------------------------------------- */

TEST(procs_write_and_read)
{
	struct epcg_cgroup_cred c = root_cred;
	struct epcg_cgroup *a, *x;

	setup();
	a = mk(root, "a");
	ASSERT_OK(wr(a, F_PROCS, "104\n"));
	ASSERT_OK(wr(a, F_PROCS, " 103 "));
	c.pid = 100;
	ASSERT_OK(epcg_cgroup_file_write(a, F_PROCS, "0", 1, &c));
	ASSERT_SHOW(a, F_PROCS, "100\n103\n104\n");
	ASSERT_OK(wr(a, F_PROCS, "0x64")); /* 100 again, C base */
	ASSERT_OK(wr(a, F_PROCS, "0310")); /* octal 200 */
	ASSERT_SHOW(a, F_PROCS, "100\n103\n104\n200\n");
	/* A thread id moves its whole process. */
	ASSERT_OK(wr(root, F_PROCS, "201"));
	ASSERT_SHOW(a, F_PROCS, "100\n103\n104\n");
	ASSERT_SHOW(root, F_PROCS, "200\n");
	ASSERT_OK(epcg_cgroup_proc_cgroup(t, 201, &x));
	ASSERT_TRUE(x == root);
	epcg_cgroup_put(x);
	epcg_cgroup_put(a);
	teardown();
}

TEST(procs_write_errors_change_nothing)
{
	static const char *const bad[] = {
		"abc", "-1",	 "1 2", "100\n101", "12abc",	   "",
		" ",   "+",	 "0x",	"08",	    "99999999999", "2147483648",
		"1.0", "\t-5\n",
	};
	struct epcg_cgroup *a;

	setup();
	a = mk(root, "a");
	ASSERT_OK(wr(a, F_PROCS, "104"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = wr(a, F_PROCS, bad[i]);

		if (!*bad[i])
			ASSERT_EQ(r, 0); /* 0 bytes: nothing to do */
		else
			ASSERT_ERR(r, EINVAL);
	}
	ASSERT_ERR(wr(a, F_PROCS, "4242"), ESRCH);
	ASSERT_ERR(wr(a, F_PROCS, "2"), EINVAL); /* kernel thread */
	ASSERT_SHOW(a, F_PROCS, "104\n");
	ASSERT_SHOW(root, F_PROCS, "");
	epcg_cgroup_put(a);
	teardown();
}

TEST(procs_ebusy_into_cgroup_with_misc_enabled)
{
	struct epcg_cgroup *a, *b;

	setup();
	a = mk(root, "a");
	b = mk(a, "b");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_OK(wr(a, F_SUBTREE, "+misc"));
	ASSERT_ERR(wr(a, F_PROCS, "104"), EBUSY);
	ASSERT_SHOW(a, F_PROCS, "");
	ASSERT_OK(wr(b, F_PROCS, "104"));
	ASSERT_OK(wr(root, F_PROCS, "104")); /* root: always */
	ASSERT_SHOW(root, F_PROCS, "104\n");
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	teardown();
}

/*
 * Delegation as cgroup v2 defines it: chown of the directory and of
 * cgroup.procs and cgroup.subtree_control.  The delegatee then runs its
 * own subtree, limits included, but its cgroup's own misc.max stays with
 * the delegator: it cannot raise the limit it was given.
 */
TEST(delegation_keeps_the_delegated_limit)
{
	struct epcg_cgroup_cred u = user_cred;
	struct epcg_cgroup *d, *x, *y;
	uid_t uid;
	gid_t gid;

	setup();
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	d = mk(root, "d");
	ASSERT_OK(wr(d, F_MAX, "sgx_epc 65536"));
	ASSERT_OK(epcg_cgroup_chown(d, 1000, 1000, &root_cred));
	/* The directory alone: files stay root's. */
	ASSERT_OK(epcg_cgroup_file_owner(d, F_MAX, &uid, &gid));
	ASSERT_EQ(uid, 0);
	ASSERT_ERR(epcg_cgroup_file_open(d, F_SUBTREE, EPCG_CGROUP_WRITE, &u),
		   EACCES);
	ASSERT_ERR(epcg_cgroup_file_chown(d, F_PROCS, 1000, 1000, &u), EPERM);
	ASSERT_OK(epcg_cgroup_file_chown(d, F_PROCS, 1000, 1000, &root_cred));
	ASSERT_OK(epcg_cgroup_file_chown(d, F_SUBTREE, 1000, 1000,
					 &root_cred));
	ASSERT_OK(epcg_cgroup_file_owner(d, F_PROCS, &uid, &gid));
	ASSERT_EQ(uid, 1000);
	ASSERT_EQ(gid, 1000);
	ASSERT_OK(epcg_cgroup_file_open(d, F_PROCS, EPCG_CGROUP_WRITE, &u));
	ASSERT_OK(epcg_cgroup_file_open(d, F_SUBTREE, EPCG_CGROUP_WRITE, &u));
	/* Its own limit is not the delegatee's to change. */
	ASSERT_ERR(epcg_cgroup_file_open(d, F_MAX, EPCG_CGROUP_WRITE, &u),
		   EACCES);
	/* Below it, everything it creates is its own. */
	ASSERT_OK(epcg_cgroup_mkdir(d, "x", &u, &x));
	ASSERT_OK(epcg_cgroup_file_write(d, F_SUBTREE, "+misc", 5, &u));
	ASSERT_OK(epcg_cgroup_file_owner(x, F_MAX, &uid, &gid));
	ASSERT_EQ(uid, 1000);
	ASSERT_OK(epcg_cgroup_file_open(x, F_MAX, EPCG_CGROUP_WRITE, &u));
	ASSERT_OK(epcg_cgroup_file_owner(x, F_PROCS, &uid, &gid));
	ASSERT_EQ(uid, 1000);
	/* misc.* of a child the root created appear as the writer's. */
	ASSERT_OK(wr(d, F_SUBTREE, "-misc"));
	y = mk(d, "y");
	ASSERT_OK(epcg_cgroup_file_owner(y, F_PROCS, &uid, &gid));
	ASSERT_EQ(uid, 0);
	ASSERT_OK(epcg_cgroup_file_write(d, F_SUBTREE, "+misc", 5, &u));
	ASSERT_OK(epcg_cgroup_file_owner(y, F_MAX, &uid, &gid));
	ASSERT_EQ(uid, 1000);
	ASSERT_OK(epcg_cgroup_file_owner(y, F_CUR, &uid, &gid));
	ASSERT_EQ(uid, 1000);
	/* Bad arguments change nothing. */
	ASSERT_ERR(epcg_cgroup_file_owner(y, EPCG_CGROUP_FILE_NR, &uid, &gid),
		   EINVAL);
	ASSERT_ERR(epcg_cgroup_file_chown(y, EPCG_CGROUP_FILE_NR, 5, 5,
					  &root_cred),
		   EINVAL);
	ASSERT_ERR(epcg_cgroup_file_chown(root, F_MAX, 5, 5, &root_cred),
		   ENOENT);
	ASSERT_OK(epcg_cgroup_rmdir(y, &u));
	ASSERT_ERR(epcg_cgroup_file_chown(y, F_MAX, 5, 5, &root_cred), ENODEV);
	ASSERT_OK(epcg_cgroup_file_owner(y, F_MAX, &uid, &gid));
	ASSERT_EQ(uid, 1000);
	epcg_cgroup_put(y);
	epcg_cgroup_put(x);
	epcg_cgroup_put(d);
	teardown();
}

TEST(procs_common_ancestor_permission)
{
	struct epcg_cgroup_cred u = user_cred;
	struct epcg_cgroup *d, *x, *y;

	setup();
	d = mk(root, "d");
	x = mk(d, "x");
	y = mk(d, "y");
	ASSERT_OK(epcg_cgroup_chown(d, 1000, 1000, &root_cred));
	ASSERT_OK(epcg_cgroup_chown(x, 1000, 1000, &root_cred));
	ASSERT_OK(epcg_cgroup_chown(y, 1000, 1000, &root_cred));
	ASSERT_OK(epcg_cgroup_file_chown(x, F_PROCS, 1000, 1000, &root_cred));
	ASSERT_OK(epcg_cgroup_file_chown(y, F_PROCS, 1000, 1000, &root_cred));
	/* From the root (owned by 0) into d/x: the common ancestor is root. */
	ASSERT_ERR(epcg_cgroup_file_write(x, F_PROCS, "103", 3, &u), EACCES);
	ASSERT_OK(epcg_cgroup_file_write(x, F_PROCS, "103", 3, &root_cred));
	/* Owning d's directory is not enough: the ancestor's procs file. */
	ASSERT_ERR(epcg_cgroup_file_write(y, F_PROCS, "103", 3, &u), EACCES);
	ASSERT_OK(epcg_cgroup_file_chown(d, F_PROCS, 1000, 1000, &root_cred));
	/* Within the delegated subtree the delegatee may move it. */
	ASSERT_OK(epcg_cgroup_file_write(y, F_PROCS, "103", 3, &u));
	ASSERT_SHOW(y, F_PROCS, "103\n");
	ASSERT_ERR(epcg_cgroup_file_write(root, F_PROCS, "103", 3, &u), EACCES);
	epcg_cgroup_put(d);
	epcg_cgroup_put(x);
	epcg_cgroup_put(y);
	teardown();
}

TEST(open_permissions)
{
	struct epcg_cgroup *a;

	setup();
	a = mk(root, "a");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	for (int f = 0; f < EPCG_CGROUP_FILE_NR; f++) {
		int want = epcg_cgroup_file_mode(f) & 0200 ? 0 : -EACCES;

		if (!epcg_cgroup_file_exists(a, f)) {
			ASSERT_ERR(epcg_cgroup_file_open(a, f, EPCG_CGROUP_READ,
							 &root_cred),
				   ENOENT);
			continue;
		}
		ASSERT_OK(epcg_cgroup_file_open(a, f, EPCG_CGROUP_READ,
						&user_cred));
		/* A read-only file refuses writers, even uid 0. */
		ASSERT_EQ(epcg_cgroup_file_open(a, f, EPCG_CGROUP_WRITE,
						&root_cred),
			  want);
		ASSERT_EQ(epcg_cgroup_file_open(a, f, EPCG_CGROUP_READ_WRITE,
						&root_cred),
			  want);
		if (!want)
			ASSERT_ERR(epcg_cgroup_file_open(
					   a, f, EPCG_CGROUP_WRITE, &user_cred),
				   EACCES);
	}
	ASSERT_ERR(epcg_cgroup_file_open(a, EPCG_CGROUP_FILE_NR,
					 EPCG_CGROUP_READ, &root_cred),
		   EINVAL);
	/* Writing a read-only file anyway (chmod on a real host): EINVAL. */
	ASSERT_ERR(wr(a, F_CTRL, "misc"), EINVAL);
	ASSERT_ERR(wr(a, F_EVENTS, "populated 1"), EINVAL);
	epcg_cgroup_put(a);
	teardown();
}

TEST(write_size_limits_and_type)
{
	char big[EPCG_CGROUP_WRITE_MAX + 1];
	struct epcg_cgroup *a;

	setup();
	a = mk(root, "a");
	memset(big, ' ', sizeof(big));
	ASSERT_ERR(epcg_cgroup_file_write(a, F_PROCS, big, sizeof(big),
					  &root_cred),
		   E2BIG);
	ASSERT_ERR(epcg_cgroup_file_write(root, F_SUBTREE, big, sizeof(big),
					  &root_cred),
		   E2BIG);
	ASSERT_OK(epcg_cgroup_file_write(root, F_SUBTREE, big, sizeof(big) - 1,
					 &root_cred));
	ASSERT_OK(epcg_cgroup_file_write(a, F_PROCS, "", 0, &root_cred));
	ASSERT_ERR(wr(a, F_TYPE, "threaded"), EOPNOTSUPP);
	ASSERT_ERR(wr(a, F_TYPE, "domain"), EINVAL);
	ASSERT_SHOW(a, F_TYPE, "domain\n");
	epcg_cgroup_put(a);
	teardown();
}

TEST(misc_max_write_through_tree)
{
	char big[EPCG_CGROUP_WRITE_MAX + 1];
	struct epcg_cgroup *a;

	setup();
	a = mk(root, "a");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_OK(wr(a, F_MAX, "sgx_epc 4096\n"));
	ASSERT_SHOW(a, F_MAX, "sgx_epc 4096\n");
	ASSERT_ERR(wr(a, F_MAX, "sgx_epc 1\nsgx_epc 2"), EINVAL);
	ASSERT_ERR(wr(a, F_MAX, "sgx_epc"), EINVAL);
	ASSERT_ERR(wr(a, F_MAX, "sev 1"), EINVAL); /* capacity 0 */
	ASSERT_ERR(wr(a, F_MAX, "sgx_epc 18446744073709551616"), ERANGE);
	ASSERT_ERR(wr(a, F_MAX, "sgx_epc -1"), EINVAL);
	memset(big, ' ', sizeof(big));
	ASSERT_ERR(epcg_cgroup_file_write(a, F_MAX, big, sizeof(big),
					  &root_cred),
		   E2BIG);
	ASSERT_SHOW(a, F_MAX, "sgx_epc 4096\n");
	ASSERT_OK(wr(a, F_MAX, "sgx_epc 18446744073709551615"));
	ASSERT_SHOW(a, F_MAX, "sgx_epc max\n");
	epcg_cgroup_put(a);
	teardown();
}

/* ---- T5: inheritance, effective misc cgroup, task binding ---------------- */

TEST(fork_inheritance)
{
	struct epcg_cgroup *a, *x;
	int added;

	setup();
	a = mk(root, "a");
	ASSERT_OK(wr(a, F_PROCS, "100"));
	added = nr_added;
	ASSERT_OK(epcg_cgroup_proc_cgroup(t, 102, &x)); /* grandchild */
	ASSERT_TRUE(x == a);
	epcg_cgroup_put(x);
	ASSERT_EQ(nr_added, added + 1);
	ASSERT_SHOW(a, F_PROCS, "100\n102\n");
	/* Recorded as if placed at fork: the parent moving does not drag it. */
	ASSERT_OK(wr(root, F_PROCS, "100"));
	ASSERT_OK(epcg_cgroup_proc_cgroup(t, 102, &x));
	ASSERT_TRUE(x == a);
	epcg_cgroup_put(x);
	/* No registered ancestor: the root. */
	ASSERT_OK(epcg_cgroup_proc_cgroup(t, 103, &x));
	ASSERT_TRUE(x == root);
	epcg_cgroup_put(x);
	ASSERT_ERR(epcg_cgroup_proc_cgroup(t, 4242, &x), ESRCH);
	ASSERT_ERR(epcg_cgroup_proc_cgroup(t, 2, &x), EINVAL);
	/* A write of an inherited, unregistered process moves it. */
	ASSERT_OK(wr(a, F_PROCS, "101"));
	ASSERT_SHOW(a, F_PROCS, "101\n102\n");
	epcg_cgroup_put(a);
	teardown();
}

TEST(task_charges_nearest_misc_ancestor_and_follows_moves)
{
	struct epcg_cgroup *a, *b, *c;
	struct epcg_misc_cg *am, *cm;
	struct epcg_task task;

	setup();
	a = mk(root, "a");
	b = mk(a, "b");
	c = mk(root, "c");
	epcg_task_init(&task, 104, -1);
	ASSERT_OK(wr(b, F_PROCS, "104"));
	ASSERT_OK(epcg_cgroup_proc_bind_task(t, 104, &task));
	ASSERT_ERR(epcg_cgroup_proc_bind_task(t, 104, &task), EEXIST);
	/* No misc anywhere below the root: the root is charged. */
	{
		struct epcg_misc_cg *now = epcg_misc_task_get_cg(m, &task);

		ASSERT_TRUE(now == epcg_misc_root(m));
		ASSERT_OK(epcg_misc_try_charge(SGX, now, 4096, NULL));
		epcg_misc_cg_put(now);
	}
	/* Enabling misc at the root re-attaches it to a's new state (T5). */
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	am = epcg_cgroup_misc_get(a);
	cm = epcg_cgroup_misc_get(c);
	{
		struct epcg_misc_cg *now = epcg_misc_task_get_cg(m, &task);

		ASSERT_TRUE(now == am);
		ASSERT_OK(epcg_misc_try_charge(SGX, now, 8192, NULL));
		epcg_misc_cg_put(now);
	}
	ASSERT_SHOW(a, F_CUR, "sgx_epc 8192\n");
	/* Moving never moves charges; future charges go to c. */
	ASSERT_OK(wr(c, F_PROCS, "104"));
	{
		struct epcg_misc_cg *now = epcg_misc_task_get_cg(m, &task);

		ASSERT_TRUE(now == cm);
		epcg_misc_cg_put(now);
	}
	ASSERT_SHOW(a, F_CUR, "sgx_epc 8192\n");
	ASSERT_SHOW(c, F_CUR, "sgx_epc 0\n");
	epcg_misc_uncharge(SGX, am, 8192);
	epcg_misc_uncharge(SGX, epcg_misc_root(m), 4096);
	ASSERT_SHOW(root, F_CUR, "sgx_epc 0\n");
	/* Exit: the task keeps its cgroup; unbind of a gone pid is a no-op. */
	ASSERT_OK(epcg_cgroup_proc_exit(t, 104));
	epcg_cgroup_proc_unbind_task(t, 104, &task);
	epcg_misc_task_attach(&task, NULL);
	epcg_misc_cg_put(am);
	epcg_misc_cg_put(cm);
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	epcg_cgroup_put(c);
	teardown();
}

TEST(unbind_stops_following)
{
	struct epcg_cgroup *a;
	struct epcg_misc_cg *now;
	struct epcg_task task;

	setup();
	a = mk(root, "a");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	epcg_task_init(&task, 104, -1);
	ASSERT_OK(epcg_cgroup_proc_bind_task(t, 104, &task));
	epcg_cgroup_proc_unbind_task(t, 104, &task);
	ASSERT_OK(wr(a, F_PROCS, "104"));
	now = epcg_misc_task_get_cg(m, &task);
	ASSERT_TRUE(now == epcg_misc_root(m));
	epcg_misc_cg_put(now);
	epcg_misc_task_attach(&task, NULL);
	epcg_cgroup_put(a);
	teardown();
}

/* ---- cgroup.events and notifications ------------------------------------- */

static int count_notified(const void *key, int file)
{
	int n = 0;

	for (int i = 0; i < nr_notified && i < 64; i++)
		n += notified_key[i] == key && notified[i] == file;
	return n;
}

TEST(populated_and_notifications)
{
	struct epcg_cgroup *a, *b, *c;
	const void *ka, *kb;

	setup();
	a = mk(root, "a");
	b = mk(a, "b");
	c = mk(a, "c");
	ka = epcg_cgroup_file_poll_key(a, F_EVENTS);
	kb = epcg_cgroup_file_poll_key(b, F_EVENTS);
	ASSERT_TRUE(ka == (const void *)a);
	nr_notified = 0;
	ASSERT_OK(wr(b, F_PROCS, "104"));
	ASSERT_SHOW(a, F_EVENTS, "populated 1\nfrozen 0\n");
	ASSERT_SHOW(b, F_EVENTS, "populated 1\nfrozen 0\n");
	ASSERT_SHOW(c, F_EVENTS, "populated 0\nfrozen 0\n");
	ASSERT_EQ(count_notified(ka, F_EVENTS), 1);
	ASSERT_EQ(count_notified(kb, F_EVENTS), 1);
	/* Moving within a: a stays populated and is not notified again. */
	ASSERT_OK(wr(c, F_PROCS, "104"));
	ASSERT_EQ(count_notified(ka, F_EVENTS), 1);
	ASSERT_EQ(count_notified(kb, F_EVENTS), 2);
	ASSERT_SHOW(b, F_EVENTS, "populated 0\nfrozen 0\n");
	/* A second process: no transition. */
	ASSERT_OK(wr(c, F_PROCS, "103"));
	ASSERT_OK(epcg_cgroup_proc_exit(t, 104));
	ASSERT_SHOW(c, F_EVENTS, "populated 1\nfrozen 0\n");
	ASSERT_OK(epcg_cgroup_proc_exit(t, 103));
	ASSERT_SHOW(a, F_EVENTS, "populated 0\nfrozen 0\n");
	ASSERT_EQ(count_notified(ka, F_EVENTS), 2);
	epcg_cgroup_put(a);
	epcg_cgroup_put(b);
	epcg_cgroup_put(c);
	teardown();
}

TEST(misc_events_notify_with_poll_key)
{
	struct epcg_misc_cg *mcg;
	struct epcg_cgroup *a;
	const void *ke, *kl;

	setup();
	a = mk(root, "a");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_OK(wr(a, F_MAX, "sgx_epc 4096"));
	ke = epcg_cgroup_file_poll_key(a, EPCG_CGROUP_FILE_MISC_EVENTS);
	kl = epcg_cgroup_file_poll_key(a, EPCG_CGROUP_FILE_MISC_EVENTS_LOCAL);
	mcg = epcg_cgroup_misc_get(a);
	ASSERT_TRUE(ke == (const void *)mcg && kl == ke);
	nr_notified = 0;
	ASSERT_OK(epcg_misc_try_charge(SGX, mcg, 4096, NULL));
	ASSERT_ERR(epcg_misc_try_charge(SGX, mcg, 4096, NULL), EBUSY);
	ASSERT_EQ(count_notified(ke, EPCG_CGROUP_FILE_MISC_EVENTS), 1);
	ASSERT_EQ(count_notified(kl, EPCG_CGROUP_FILE_MISC_EVENTS_LOCAL), 1);
	ASSERT_SHOW(a, EPCG_CGROUP_FILE_MISC_EVENTS, "sgx_epc.max 1\n");
	ASSERT_SHOW(a, EPCG_CGROUP_FILE_MISC_EVENTS_LOCAL, "sgx_epc.max 1\n");
	epcg_misc_uncharge(SGX, mcg, 4096);
	epcg_misc_cg_put(mcg);
	epcg_cgroup_put(a);
	teardown();
}

TEST(create_invalid_and_destroy_with_leftovers)
{
	struct epcg_cgroup_ops no_lookup = fake_ops;
	struct epcg_cgroup *a;

	setup();
	no_lookup.pid_lookup = NULL;
	ASSERT_ERR(epcg_cgroup_tree_create(m, &no_lookup, NULL, &root_cred, &t),
		   EINVAL);
	ASSERT_ERR(epcg_cgroup_tree_create(NULL, &fake_ops, NULL, &root_cred,
					   &t),
		   EINVAL);
	ASSERT_ERR(epcg_cgroup_lookup(t, NULL, &a), EINVAL);
	/* Destroy removes cgroups, processes and misc state bottom-up. */
	a = mk(root, "a");
	ASSERT_OK(wr(root, F_SUBTREE, "+misc"));
	ASSERT_OK(epcg_cgroup_mkdir(a, "b", &root_cred, NULL));
	ASSERT_OK(wr(a, F_PROCS, "104"));
	epcg_cgroup_put(a);
	epcg_cgroup_tree_destroy(NULL);
	teardown();
}

/* ---- the live /proc callbacks ------------------------------------------ */

static epcg_atomic(int) thread_tid;
static epcg_atomic(int) thread_done;

static void *record_tid(void *arg)
{
	epcg_atomic_store_release(&thread_tid, (int)syscall(SYS_gettid));
	/* Stay alive until the test has looked the thread up. */
	while (!epcg_atomic_load_acquire(&thread_done))
		usleep(1000);
	return NULL;
}

TEST(live_proc_callbacks)
{
	pthread_t th;
	pid_t child, tid = 0;

	ASSERT_EQ(epcg_cgroup_proc_lookup_live(getpid(), NULL), getpid());
	ASSERT_EQ(epcg_cgroup_proc_parent_live(getpid(), NULL), getppid());
	ASSERT_ERR(epcg_cgroup_proc_lookup_live(0, NULL), ESRCH);
	ASSERT_ERR(epcg_cgroup_proc_lookup_live(-5, NULL), ESRCH);
	ASSERT_ERR(epcg_cgroup_proc_parent_live(0, NULL), ESRCH);
	/* A thread id names its process. */
	ASSERT_EQ(pthread_create(&th, NULL, record_tid, NULL), 0);
	while (!(tid = epcg_atomic_load_acquire(&thread_tid)))
		usleep(1000);
	ASSERT_NE(tid, getpid());
	ASSERT_EQ(epcg_cgroup_proc_lookup_live(tid, NULL), getpid());
	epcg_atomic_store_release(&thread_done, 1);
	pthread_join(th, NULL);
	/* A zombie is no live process; a reaped one does not exist. */
	child = fork();
	if (child == 0)
		_exit(0);
	ASSERT_TRUE(child > 0);
	for (int i = 0; i < 2000; i++) {
		if (epcg_cgroup_proc_lookup_live(child, NULL) == -ESRCH)
			break;
		usleep(1000);
	}
	ASSERT_ERR(epcg_cgroup_proc_lookup_live(child, NULL), ESRCH);
	ASSERT_EQ(epcg_cgroup_proc_parent_live(child, NULL), getpid());
	ASSERT_EQ(waitpid(child, NULL, 0), child);
	ASSERT_ERR(epcg_cgroup_proc_parent_live(child, NULL), ESRCH);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(file_names_and_modes),
	TEST_ENTRY(root_files),
	TEST_ENTRY(child_files_follow_parent_subtree_control),
	TEST_ENTRY(directory_listing_and_lookup),
	TEST_ENTRY(mkdir_names),
	TEST_ENTRY(mkdir_rmdir_permissions_and_owner),
	TEST_ENTRY(rmdir_busy_with_children_or_processes),
	TEST_ENTRY(rmdir_with_charges_leaves_dying_misc),
	TEST_ENTRY(subtree_control_tokens),
	TEST_ENTRY(subtree_control_enoent_when_not_available),
	TEST_ENTRY(subtree_control_disable_busy_while_child_enabled),
	TEST_ENTRY(subtree_control_no_internal_processes),
	TEST_ENTRY(reenable_starts_from_defaults_charges_stay),
	TEST_ENTRY(procs_write_and_read),
	TEST_ENTRY(procs_write_errors_change_nothing),
	TEST_ENTRY(procs_ebusy_into_cgroup_with_misc_enabled),
	TEST_ENTRY(procs_common_ancestor_permission),
	TEST_ENTRY(delegation_keeps_the_delegated_limit),
	TEST_ENTRY(open_permissions),
	TEST_ENTRY(write_size_limits_and_type),
	TEST_ENTRY(misc_max_write_through_tree),
	TEST_ENTRY(fork_inheritance),
	TEST_ENTRY(task_charges_nearest_misc_ancestor_and_follows_moves),
	TEST_ENTRY(unbind_stops_following),
	TEST_ENTRY(populated_and_notifications),
	TEST_ENTRY(misc_events_notify_with_poll_key),
	TEST_ENTRY(create_invalid_and_destroy_with_leftovers),
	TEST_ENTRY(live_proc_callbacks),
};
TEST_MAIN(tests)
