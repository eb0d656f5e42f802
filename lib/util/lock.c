// SPDX-License-Identifier: MIT
/*
 * pthreads wrappers whose lock and unlock cannot fail (see lock.h).
 */
#include "lock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sched.h>

_Thread_local char epcg__mutex_self;

_Noreturn void epcg__mutex_fail(int err, const char *what)
{
	fprintf(stderr, "epcg: fatal: %s failed: %d\n", what, err);
	abort();
}

static void check(int err, const char *what)
{
	if (err)
		epcg__mutex_fail(err, what);
}

void epcg_mutex_init(struct epcg_mutex *mx)
{
	check(pthread_mutex_init(&mx->m, NULL), "pthread_mutex_init");
	epcg_atomic_init(&mx->owner, 0);
}

void epcg_mutex_finish(struct epcg_mutex *mx)
{
	if (!mx)
		return;
	check(pthread_mutex_destroy(&mx->m), "pthread_mutex_destroy");
}

int epcg_mutex_trylock(struct epcg_mutex *mx)
{
	int err = pthread_mutex_trylock(&mx->m);

	if (err == EBUSY)
		return -EBUSY;
	check(err, "pthread_mutex_trylock");
	epcg_atomic_store_relaxed(&mx->owner, epcg__mutex_owner());
	return 0;
}

bool epcg_mutex_held(struct epcg_mutex *mx)
{
	return epcg_atomic_load_relaxed(&mx->owner) == epcg__mutex_owner();
}

void epcg_cond_init(struct epcg_cond *cv)
{
	pthread_condattr_t attr;

	check(pthread_condattr_init(&attr), "pthread_condattr_init");
	check(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC),
	      "pthread_condattr_setclock");
	check(pthread_cond_init(&cv->c, &attr), "pthread_cond_init");
	pthread_condattr_destroy(&attr);
}

void epcg_cond_finish(struct epcg_cond *cv)
{
	if (!cv)
		return;
	check(pthread_cond_destroy(&cv->c), "pthread_cond_destroy");
}

void epcg_cond_wait(struct epcg_cond *cv, struct epcg_mutex *mx)
{
	epcg_atomic_store_relaxed(&mx->owner, 0);
	check(pthread_cond_wait(&cv->c, &mx->m), "pthread_cond_wait");
	epcg_atomic_store_relaxed(&mx->owner, epcg__mutex_owner());
}

int epcg_cond_timedwait(struct epcg_cond *cv, struct epcg_mutex *mx,
			uint64_t timeout_ns)
{
	struct timespec ts;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(timeout_ns / 1000000000u);
	ts.tv_nsec += (long)(timeout_ns % 1000000000u);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	epcg_atomic_store_relaxed(&mx->owner, 0);
	err = pthread_cond_timedwait(&cv->c, &mx->m, &ts);
	epcg_atomic_store_relaxed(&mx->owner, epcg__mutex_owner());
	if (err == ETIMEDOUT)
		return -ETIMEDOUT;
	check(err, "pthread_cond_timedwait");
	return 0;
}

void epcg_cond_signal(struct epcg_cond *cv)
{
	check(pthread_cond_signal(&cv->c), "pthread_cond_signal");
}

void epcg_cond_broadcast(struct epcg_cond *cv)
{
	check(pthread_cond_broadcast(&cv->c), "pthread_cond_broadcast");
}

/* Spins before the first yield: a few hundred nanoseconds of waiting. */
#define SPINS_BEFORE_YIELD 128

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void epcg__spinlock_wait(struct epcg_spinlock *sl)
{
	unsigned spins = 0;

	/* Read-only while taken, so waiters do not bounce the line. */
	while (epcg_atomic_load_relaxed(&sl->locked)) {
		if (++spins < SPINS_BEFORE_YIELD) {
			cpu_relax();
		} else {
			sched_yield();
			spins = 0;
		}
	}
}
