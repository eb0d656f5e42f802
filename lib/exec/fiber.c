// SPDX-License-Identifier: MIT
/*
 * Stack switching for coroutines: see fiber.h for why it is ours.
 *
 * The x86-64 switch pushes the six callee-saved registers and one word
 * holding MXCSR (low half) and the x87 control word on the running stack,
 * stores the stack pointer in @from, loads @to's and undoes the same on
 * that stack.  A new fiber's stack is laid out as if it had been switched
 * away from just before calling fiber_start: the saved words are the
 * default floating-point control state, the entry function in r13 and its
 * argument in r12, and the return address is fiber_start, which calls the
 * entry with the stack 16-byte aligned as the ABI requires.
 */
#include "fiber.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef EPCG_FIBER_ASM

/* The words below a new fiber's aligned top: csr, r15..r12, rbx, rbp, ret. */
#define FIRST_FRAME_WORDS 8
/* MXCSR: all exceptions masked, round to nearest; x87: the same. */
#define DEFAULT_MXCSR 0x1f80u
#define DEFAULT_X87CW 0x037fu

void epcg__fiber_start(void);

__asm__(".text\n"
	".p2align 4\n"
	".globl epcg__fiber_switch\n"
	".hidden epcg__fiber_switch\n"
	".type epcg__fiber_switch, @function\n"
	"epcg__fiber_switch:\n"
	"\t.cfi_startproc\n"
	"\tpushq %rbp\n"
	"\tpushq %rbx\n"
	"\tpushq %r12\n"
	"\tpushq %r13\n"
	"\tpushq %r14\n"
	"\tpushq %r15\n"
	"\tsubq $8, %rsp\n"
	"\tstmxcsr (%rsp)\n"
	"\tfnstcw 4(%rsp)\n"
	"\tmovq %rsp, (%rdi)\n"
	"\tmovq (%rsi), %rsp\n"
	"\tldmxcsr (%rsp)\n"
	"\tfldcw 4(%rsp)\n"
	"\taddq $8, %rsp\n"
	"\tpopq %r15\n"
	"\tpopq %r14\n"
	"\tpopq %r13\n"
	"\tpopq %r12\n"
	"\tpopq %rbx\n"
	"\tpopq %rbp\n"
	"\tret\n"
	"\t.cfi_endproc\n"
	".size epcg__fiber_switch, .-epcg__fiber_switch\n"
	"\n"
	".p2align 4\n"
	".globl epcg__fiber_start\n"
	".hidden epcg__fiber_start\n"
	".type epcg__fiber_start, @function\n"
	"epcg__fiber_start:\n"
	"\t.cfi_startproc\n"
	"\t.cfi_undefined rip\n"
	"\tmovq %r12, %rdi\n"
	"\tcallq *%r13\n"
	"\tud2\n"
	"\t.cfi_endproc\n"
	".size epcg__fiber_start, .-epcg__fiber_start\n");

int epcg__fiber_init(struct epcg_fiber *f, void *stack, size_t size,
		     void (*entry)(void *arg), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp;

	if (size < 256 || top - (uintptr_t)stack < 256)
		return -EINVAL;
	/*
	 * The return address sits 8 below the aligned top, so that after
	 * the switch's ret the stack pointer is 16-aligned at fiber_start,
	 * and its call leaves the entry function the usual alignment.
	 */
	sp = (uint64_t *)(top - 8) - (FIRST_FRAME_WORDS - 1);
	sp[0] = DEFAULT_MXCSR | ((uint64_t)DEFAULT_X87CW << 32);
	sp[1] = 0;				/* r15 */
	sp[2] = 0;				/* r14 */
	sp[3] = (uint64_t)(uintptr_t)entry;	/* r13 */
	sp[4] = (uint64_t)(uintptr_t)arg;	/* r12 */
	sp[5] = 0;				/* rbx */
	sp[6] = 0;				/* rbp: the outermost frame */
	sp[7] = (uint64_t)(uintptr_t)epcg__fiber_start;
	f->sp = sp;
	return 0;
}

#else /* ucontext */

/* makecontext passes ints: the entry and its argument go in halves. */
static void fiber_trampoline(unsigned e_lo, unsigned e_hi, unsigned a_lo,
			     unsigned a_hi)
{
	void (*entry)(void *) =
		(void (*)(void *))(((uintptr_t)e_hi << 16 << 16) | e_lo);
	void *arg = (void *)(((uintptr_t)a_hi << 16 << 16) | a_lo);

	entry(arg);
	abort();
}

int epcg__fiber_init(struct epcg_fiber *f, void *stack, size_t size,
		     void (*entry)(void *arg), void *arg)
{
	uintptr_t e = (uintptr_t)entry, a = (uintptr_t)arg;

	if (size < 256)
		return -EINVAL;
	if (getcontext(&f->uc))
		return -EINVAL;
	f->uc.uc_stack.ss_sp = stack;
	f->uc.uc_stack.ss_size = size;
	f->uc.uc_link = NULL;
	makecontext(&f->uc, (void (*)(void))fiber_trampoline, 4,
		    (unsigned)(e & 0xffffffffu), (unsigned)(e >> 16 >> 16),
		    (unsigned)(a & 0xffffffffu), (unsigned)(a >> 16 >> 16));
	return 0;
}

void epcg__fiber_switch(struct epcg_fiber *from, struct epcg_fiber *to)
{
	if (swapcontext(&from->uc, &to->uc))
		abort();
}

#endif
