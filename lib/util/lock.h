/* SPDX-License-Identifier: MIT */
/*
 * Mutexes and condition variables that cannot fail.
 *
 * Lock and unlock return nothing: if pthreads reports an error there the
 * program is already broken, so we abort.  Only trylock reports -EBUSY.
 * Every mutex records its owner so that code can assert
 * epcg_mutex_held(&x->lock) where a caller must hold it.
 */
#ifndef EPCG_UTIL_LOCK_H
#define EPCG_UTIL_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomic.h"

struct epcg_mutex {
	pthread_mutex_t m;
	epcg_atomic(uintptr_t) owner; /* pthread_self() of the holder, or 0 */
};

struct epcg_cond {
	pthread_cond_t c;
};

void epcg_mutex_init(struct epcg_mutex *mx);
void epcg_mutex_finish(struct epcg_mutex *mx);
void epcg_mutex_lock(struct epcg_mutex *mx);
void epcg_mutex_unlock(struct epcg_mutex *mx);
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

#endif
