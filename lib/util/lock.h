/* SPDX-License-Identifier: MIT */
/*
 * Mutexes and condition variables that cannot fail.
 *
 * Lock and unlock return nothing: if pthreads reports an error there the
 * program is already broken, so we abort.  Only trylock reports -EBUSY.
 * Every mutex records its owner so that code can assert
 * epcg_mutex_held(&x->lock) where a caller must hold it.
 *
 * Lock and unlock are inline: they sit on the simulator's per-access path
 * (an enclave's lock around every page touch), where the calls into our
 * wrappers and pthread_self() were 20 of an access's 330 instructions.
 * The owner is the address of a thread-local byte (epcg__mutex_self):
 * like pthread_self(), unique among live threads and never 0, but an
 * offset from the thread pointer instead of a call into the C library
 * (the initial-exec model: the library is linked into executables, never
 * loaded with dlopen()).  The mutex itself stays a pthread mutex, so that
 * condition variables wait on it and ThreadSanitizer sees every lock and
 * unlock (it intercepts the pthread calls wherever they are made).
 */
#ifndef EPCG_UTIL_LOCK_H
#define EPCG_UTIL_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomic.h"
#include "macros.h"

struct epcg_mutex {
	pthread_mutex_t m;
	epcg_atomic(uintptr_t) owner; /* epcg__mutex_owner() of the holder,
				       * or 0 */
};

struct epcg_cond {
	pthread_cond_t c;
};

/* One byte per thread; only its address is used (the owner record). */
extern _Thread_local char epcg__mutex_self
	__attribute__((tls_model("initial-exec")));

/* The calling thread as a mutex owner: unique among live threads, not 0. */
static inline uintptr_t epcg__mutex_owner(void)
{
	return (uintptr_t)&epcg__mutex_self;
}

/* Report a pthreads error on @what and abort (the cannot-fail contract). */
_Noreturn void epcg__mutex_fail(int err, const char *what);

void epcg_mutex_init(struct epcg_mutex *mx);
void epcg_mutex_finish(struct epcg_mutex *mx);

static inline void epcg_mutex_lock(struct epcg_mutex *mx)
{
	int err = pthread_mutex_lock(&mx->m);

	if (epcg_unlikely(err))
		epcg__mutex_fail(err, "pthread_mutex_lock");
	epcg_atomic_store_relaxed(&mx->owner, epcg__mutex_owner());
}

static inline void epcg_mutex_unlock(struct epcg_mutex *mx)
{
	int err;

	epcg_atomic_store_relaxed(&mx->owner, 0);
	err = pthread_mutex_unlock(&mx->m);
	if (epcg_unlikely(err))
		epcg__mutex_fail(err, "pthread_mutex_unlock");
}

/* Return: 0 with the lock held, or -EBUSY if another thread holds it. */
int epcg_mutex_trylock(struct epcg_mutex *mx);
/* Whether the calling thread holds @mx (for assertions only). */
bool epcg_mutex_held(struct epcg_mutex *mx);

void epcg_cond_init(struct epcg_cond *cv);
void epcg_cond_finish(struct epcg_cond *cv);
void epcg_cond_wait(struct epcg_cond *cv, struct epcg_mutex *mx);
/*
 * Wait at most @timeout_ns nanoseconds.
 * Return: 0 when signalled (or spuriously woken), -ETIMEDOUT on timeout.
 */
int epcg_cond_timedwait(struct epcg_cond *cv, struct epcg_mutex *mx,
			uint64_t timeout_ns);
void epcg_cond_signal(struct epcg_cond *cv);
void epcg_cond_broadcast(struct epcg_cond *cv);

/*
 * A spinlock, for critical sections of a few instructions on a hot path
 * (an EPC free-list push or pop), where a mutex's atomic on unlock and its
 * bookkeeping would cost as much as the work.  Taking it is one atomic
 * exchange, releasing it one store.  A waiter spins on plain loads and,
 * after a short while, yields the CPU, so a holder that the host
 * scheduler preempted does not make every waiter burn its time slice.
 * Nothing may sleep or take a mutex while holding one; it records no
 * owner, so there is no held() to assert, only whether it is taken.
 */
struct epcg_spinlock {
	epcg_atomic(int) locked; /* 1 while taken */
};

static inline void epcg_spinlock_init(struct epcg_spinlock *sl)
{
	epcg_atomic_init(&sl->locked, 0);
}

/* The contended part of epcg_spinlock_lock(): spin, then yield. */
void epcg__spinlock_wait(struct epcg_spinlock *sl);

static inline void epcg_spinlock_lock(struct epcg_spinlock *sl)
{
	while (epcg_atomic_xchg_acq_rel(&sl->locked, 1))
		epcg__spinlock_wait(sl);
}

static inline void epcg_spinlock_unlock(struct epcg_spinlock *sl)
{
	epcg_atomic_store_release(&sl->locked, 0);
}

/* Whether somebody holds @sl (for assertions, a relaxed snapshot). */
static inline bool epcg_spinlock_is_locked(struct epcg_spinlock *sl)
{
	return epcg_atomic_load_relaxed(&sl->locked);
}

#endif
