/* SPDX-License-Identifier: MIT */
/*
 * C11 atomics behind names that carry their memory order.
 *
 * Every atomic access in the library goes through these wrappers so that a
 * reader sees at the call site what ordering was intended.  Raw _Atomic
 * operations elsewhere are a review error.  EPCG_READ_ONCE/EPCG_WRITE_ONCE
 * mark fields that are racy by design (statistics, hints): they are relaxed
 * atomics, so the thread sanitizer knows the race is intended.
 */
#ifndef EPCG_UTIL_ATOMIC_H
#define EPCG_UTIL_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define epcg_atomic(type) _Atomic(type)

#define epcg_atomic_init(p, v) atomic_init((p), (v))

#define epcg_atomic_load_relaxed(p) \
	atomic_load_explicit((p), memory_order_relaxed)
#define epcg_atomic_load_acquire(p) \
	atomic_load_explicit((p), memory_order_acquire)
#define epcg_atomic_store_relaxed(p, v) \
	atomic_store_explicit((p), (v), memory_order_relaxed)
#define epcg_atomic_store_release(p, v) \
	atomic_store_explicit((p), (v), memory_order_release)

/* Read-modify-write operations that return the previous value. */
#define epcg_atomic_fetch_add_relaxed(p, v) \
	atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define epcg_atomic_fetch_sub_relaxed(p, v) \
	atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)
#define epcg_atomic_fetch_add_acq_rel(p, v) \
	atomic_fetch_add_explicit((p), (v), memory_order_acq_rel)
#define epcg_atomic_fetch_sub_acq_rel(p, v) \
	atomic_fetch_sub_explicit((p), (v), memory_order_acq_rel)
#define epcg_atomic_fetch_or_acq_rel(p, v) \
	atomic_fetch_or_explicit((p), (v), memory_order_acq_rel)
#define epcg_atomic_fetch_and_acq_rel(p, v) \
	atomic_fetch_and_explicit((p), (v), memory_order_acq_rel)
#define epcg_atomic_xchg_acq_rel(p, v) \
	atomic_exchange_explicit((p), (v), memory_order_acq_rel)

/* Read-modify-write operations that return the new value (kernel style). */
#define epcg_atomic_add_return_relaxed(p, v) \
	(atomic_fetch_add_explicit((p), (v), memory_order_relaxed) + (v))
#define epcg_atomic_sub_return_relaxed(p, v) \
	(atomic_fetch_sub_explicit((p), (v), memory_order_relaxed) - (v))
#define epcg_atomic_add_return_acq_rel(p, v) \
	(atomic_fetch_add_explicit((p), (v), memory_order_acq_rel) + (v))
#define epcg_atomic_sub_return_acq_rel(p, v) \
	(atomic_fetch_sub_explicit((p), (v), memory_order_acq_rel) - (v))

/* Compare-and-swap; on failure *expected is updated to the current value. */
#define epcg_atomic_cas_weak_relaxed(p, expected, desired)               \
	atomic_compare_exchange_weak_explicit((p), (expected), (desired), \
					      memory_order_relaxed,       \
					      memory_order_relaxed)
#define epcg_atomic_cas_acq_rel(p, expected, desired)                      \
	atomic_compare_exchange_strong_explicit((p), (expected), (desired), \
						memory_order_acq_rel,       \
						memory_order_acquire)

#define EPCG_READ_ONCE(x) epcg_atomic_load_relaxed(&(x))
#define EPCG_WRITE_ONCE(x, v) epcg_atomic_store_relaxed(&(x), (v))

#define epcg_atomic_fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)

#endif
