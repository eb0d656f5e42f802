// SPDX-License-Identifier: MIT
/*
 * Unit tests of the locks that cannot fail (lib/util/lock.h): the owner
 * record behind epcg_mutex_held() through every way of taking and
 * releasing a mutex, and the spinlock's taken flag.
 */
#include <errno.h>

#include <pthread.h>

#include "test.h"
#include "util/lock.h"

/* What another thread sees of a mutex the test holds. */
struct peek {
	struct epcg_mutex *mx;
	bool held;
	int trylock;
	uintptr_t owner;
};

static void *peek_fn(void *arg)
{
	struct peek *p = arg;

	p->held = epcg_mutex_held(p->mx);
	p->trylock = epcg_mutex_trylock(p->mx);
	p->owner = epcg__mutex_owner();
	return NULL;
}

static struct peek peek_from_another_thread(struct epcg_mutex *mx)
{
	struct peek p = { .mx = mx };
	pthread_t t;

	ASSERT_EQ(pthread_create(&t, NULL, peek_fn, &p), 0);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	return p;
}

TEST(held_names_the_holder_only)
{
	struct epcg_mutex mx;
	struct peek p;

	epcg_mutex_init(&mx);
	ASSERT_FALSE(epcg_mutex_held(&mx));
	epcg_mutex_lock(&mx);
	ASSERT_TRUE(epcg_mutex_held(&mx));
	p = peek_from_another_thread(&mx);
	ASSERT_FALSE(p.held);
	ASSERT_EQ(p.trylock, -EBUSY);
	ASSERT_NE(p.owner, 0);
	ASSERT_NE(p.owner, epcg__mutex_owner());
	epcg_mutex_unlock(&mx);
	ASSERT_FALSE(epcg_mutex_held(&mx));
	epcg_mutex_finish(&mx);
}

TEST(trylock_and_waits_record_the_owner)
{
	struct epcg_mutex mx;
	struct epcg_cond cv;

	epcg_mutex_init(&mx);
	epcg_cond_init(&cv);
	ASSERT_OK(epcg_mutex_trylock(&mx));
	ASSERT_TRUE(epcg_mutex_held(&mx));
	/* A wait gives the mutex up and takes it back. */
	ASSERT_ERR(epcg_cond_timedwait(&cv, &mx, 1000), ETIMEDOUT);
	ASSERT_TRUE(epcg_mutex_held(&mx));
	epcg_mutex_unlock(&mx);
	ASSERT_FALSE(epcg_mutex_held(&mx));
	epcg_cond_finish(&cv);
	epcg_mutex_finish(&mx);
}

TEST(spinlock_says_whether_taken)
{
	struct epcg_spinlock sl;

	epcg_spinlock_init(&sl);
	ASSERT_FALSE(epcg_spinlock_is_locked(&sl));
	epcg_spinlock_lock(&sl);
	ASSERT_TRUE(epcg_spinlock_is_locked(&sl));
	epcg_spinlock_unlock(&sl);
	ASSERT_FALSE(epcg_spinlock_is_locked(&sl));
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(held_names_the_holder_only),
	TEST_ENTRY(trylock_and_waits_record_the_owner),
	TEST_ENTRY(spinlock_says_whether_taken),
};

TEST_MAIN(tests)
