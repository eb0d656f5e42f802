// SPDX-License-Identifier: MIT
/*
 * The coroutines' stack switch (lib/exec/fiber.c): what the ABI promises
 * a caller survives a switch (callee-saved registers, the floating-point
 * control state, the stack's alignment), each fiber keeps its own stack
 * and state, and nothing is lost over many switches.  The virtual-time
 * context's own tests (test-exec-virt) run on top of it.
 */
#include <fenv.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "exec/fiber.h"
#include "test.h"

#define STACK_SIZE (64u * 1024u)

/*
 * TSan follows each thread's calls and returns, and a bare switch to
 * another stack breaks that record; exec-virt.c tells it about every
 * switch with its fiber interface, which test-exec-virt covers.
 */
#if defined(__SANITIZE_THREAD__)
#define FIBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FIBER_TSAN 1
#endif
#endif
#ifdef FIBER_TSAN
#define SKIP_UNDER_TSAN() \
	epcg_test_skip("bare stack switches; covered by test-exec-virt")
#else
#define SKIP_UNDER_TSAN() do { } while (0)
#endif

struct pair {
	struct epcg_fiber main, co;
	void *stack;
	uint64_t rounds;
	uint64_t seen;
	uint64_t sum;
	int round_mode;		/* the fiber's own rounding mode */
	bool misaligned;
};

static void *stack_new(void)
{
	void *p = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	return p;
}

/* Not inlined: its frame is where the alignment is checked. */
static __attribute__((noinline)) bool frame_aligned(void)
{
	alignas(16) volatile unsigned char probe[16];

	probe[0] = 1;
	return ((uintptr_t)probe & 15) == 0 &&
	       ((uintptr_t)__builtin_frame_address(0) & 15) == 0;
}

/*
 * One step of six mixed counters.  A macro, not a function: the values
 * must stay in the caller's locals (registers) across every switch.
 */
#define COUNTER_STEP(a, b, c, d, e, f) \
	do {                           \
		(a) += (b);            \
		(b) ^= (c) << 1;       \
		(c) += (d) * 3;        \
		(d) += (e);            \
		(e) ^= (f);            \
		(f) += (a);            \
	} while (0)

static void counter_entry(void *arg)
{
	struct pair *p = arg;
	/* Live across every switch: the compiler keeps some in registers. */
	uint64_t a = 1, b = 2, c = 3, d = 5, e = 8, f = 13;

	if (!frame_aligned())
		p->misaligned = true;
	for (;;) {
		COUNTER_STEP(a, b, c, d, e, f);
		p->seen++;
		p->sum = a ^ b ^ c ^ d ^ e ^ f;
		epcg__fiber_switch(&p->co, &p->main);
	}
}

/* The same arithmetic without switches, for the expected sums. */
static uint64_t counter_sum(uint64_t rounds)
{
	uint64_t a = 1, b = 2, c = 3, d = 5, e = 8, f = 13;

	for (uint64_t i = 0; i < rounds; i++)
		COUNTER_STEP(a, b, c, d, e, f);
	return a ^ b ^ c ^ d ^ e ^ f;
}

TEST(init_refuses_a_tiny_stack)
{
	struct epcg_fiber f;
	alignas(16) static unsigned char tiny[64];

	ASSERT_EQ(epcg__fiber_init(&f, tiny, sizeof(tiny), NULL, NULL),
		  -EINVAL);
}

TEST(ping_pong_keeps_both_sides_state)
{
	struct pair p = { 0 };
	/* The caller's own live values, which the switch must preserve. */
	volatile uint64_t guard = 0x5eed;
	uint64_t mine = 7;

	SKIP_UNDER_TSAN();

	p.stack = stack_new();
	ASSERT_OK(epcg__fiber_init(&p.co, p.stack, STACK_SIZE, counter_entry,
				   &p));
	for (uint64_t i = 1; i <= 100000; i++) {
		mine = mine * 31 + i;
		epcg__fiber_switch(&p.main, &p.co);
		ASSERT_EQ(p.seen, i);
		if (i % 9973 == 0 || i == 100000)
			ASSERT_EQ(p.sum, counter_sum(i));
	}
	ASSERT_FALSE(p.misaligned);
	ASSERT_EQ(guard, 0x5eed);
	{
		uint64_t expect = 7;

		for (uint64_t i = 1; i <= 100000; i++)
			expect = expect * 31 + i;
		ASSERT_EQ(mine, expect);
	}
	munmap(p.stack, STACK_SIZE);
}

static void rounding_entry(void *arg)
{
	struct pair *p = arg;
	volatile double x = 1.0, y = 3.0;

	fesetround(FE_UPWARD);
	for (;;) {
		p->round_mode = fegetround();
		/* 1/3 rounded up is above the nearest-rounded value. */
		p->sum = (uint64_t)((x / y) * 1e17);
		epcg__fiber_switch(&p->co, &p->main);
	}
}

/*
 * The floating-point control state belongs to the fiber: a fiber that
 * rounds upward does not make its scheduler round upward, and keeps its
 * own mode when resumed.
 */
TEST(floating_point_control_is_per_fiber)
{
	struct pair p = { 0 };
	volatile double x = 1.0, y = 3.0;
	uint64_t up, near;

	SKIP_UNDER_TSAN();

	p.stack = stack_new();
	ASSERT_OK(epcg__fiber_init(&p.co, p.stack, STACK_SIZE, rounding_entry,
				   &p));
	ASSERT_EQ(fegetround(), FE_TONEAREST);
	for (int i = 0; i < 3; i++) {
		epcg__fiber_switch(&p.main, &p.co);
		ASSERT_EQ(p.round_mode, FE_UPWARD);
		ASSERT_EQ(fegetround(), FE_TONEAREST);
	}
	/*
	 * SSE arithmetic follows MXCSR, fegetround() reads the x87 control
	 * word: both must have switched.  Doubles near 3.3e16 are 4 apart,
	 * so the two roundings of 1/3 differ after the scaling.
	 */
	up = p.sum;
	near = (uint64_t)((x / y) * 1e17);
	ASSERT_TRUE(up > near);
	munmap(p.stack, STACK_SIZE);
}

struct ring {
	struct epcg_fiber main;
	struct epcg_fiber co[8];
	void *stack[8];
	unsigned order[64];
	unsigned n;
};

struct ring_arg {
	struct ring *r;
	unsigned id;
};

/* Each fiber passes to the next; the last hands back to main. */
static void ring_entry(void *arg)
{
	struct ring_arg *ra = arg;
	struct ring *r = ra->r;
	/* Deep enough to use its own stack, checked after every switch. */
	unsigned char mark[2048];

	memset(mark, (int)ra->id, sizeof(mark));
	for (;;) {
		for (size_t i = 0; i < sizeof(mark); i += 97)
			if (mark[i] != ra->id)
				abort();
		r->order[r->n++ % 64] = ra->id;
		epcg__fiber_switch(&r->co[ra->id],
				   ra->id == 7 ? &r->main : &r->co[ra->id + 1]);
	}
}

TEST(fibers_switch_among_themselves)
{
	struct ring r = { .n = 0 };
	struct ring_arg args[8];

	SKIP_UNDER_TSAN();

	for (unsigned i = 0; i < 8; i++) {
		args[i] = (struct ring_arg){ &r, i };
		r.stack[i] = stack_new();
		ASSERT_OK(epcg__fiber_init(&r.co[i], r.stack[i], STACK_SIZE,
					   ring_entry, &args[i]));
	}
	for (unsigned lap = 0; lap < 5; lap++) {
		epcg__fiber_switch(&r.main, &r.co[0]);
		ASSERT_EQ(r.n, 8 * (lap + 1));
	}
	for (unsigned i = 0; i < 40; i++)
		ASSERT_EQ(r.order[i], i % 8);
	for (unsigned i = 0; i < 8; i++)
		munmap(r.stack[i], STACK_SIZE);
}

static const struct epcg_test tests[] = {
	TEST_ENTRY(init_refuses_a_tiny_stack),
	TEST_ENTRY(ping_pong_keeps_both_sides_state),
	TEST_ENTRY(floating_point_control_is_per_fiber),
	TEST_ENTRY(fibers_switch_among_themselves),
};

TEST_MAIN(tests)
