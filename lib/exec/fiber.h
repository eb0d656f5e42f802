/* SPDX-License-Identifier: MIT */
/*
 * Stack switching for the virtual-time context's coroutines.
 *
 * A simulated thread is a function running on a stack of its own; the
 * scheduler enters it and it comes back by switching stacks.  ucontext's
 * swapcontext() does that, but it also saves and restores the signal mask
 * with a system call every time, and the coroutines never change their
 * mask: in a thrashing simulation, where the enclave thread and its
 * cgroup's reclaim worker hand over at every fault, that call was 4% of
 * the run (bench-sim).  On x86-64 the switch is therefore a few
 * instructions of our own that save exactly what the System V ABI says a
 * callee must preserve (rbx, rbp, r12 to r15, the stack pointer, and the
 * control bits of MXCSR and the x87 control word); elsewhere, and where
 * the build asks for CET shadow stacks (a return to another stack would
 * trip them), it falls back to ucontext.
 *
 * The switch is neither reentrant nor thread-safe by itself: one OS
 * thread owns a set of fibers, which is how exec-virt.c uses them.
 */
#ifndef EPCG_EXEC_FIBER_H
#define EPCG_EXEC_FIBER_H

#include <stddef.h>

#if defined(__x86_64__) && !(defined(__CET__) && (__CET__ & 2)) && \
	!defined(EPCG_FIBER_UCONTEXT)
#define EPCG_FIBER_ASM 1
#else
#include <ucontext.h>
#endif

/**
 * struct epcg_fiber - where a switched-out stack resumes.
 * @sp: (assembly switch) the saved stack pointer; the callee-saved
 *	registers are on that stack.
 * @uc: (ucontext fallback) the saved context.
 */
struct epcg_fiber {
#ifdef EPCG_FIBER_ASM
	void *sp;
#else
	ucontext_t uc;
#endif
};

/**
 * epcg__fiber_init() - prepare a fiber that starts in a function.
 * @f: the fiber.
 * @stack: the lowest address of its stack.
 * @size: the stack's size in bytes.
 * @entry: what the first switch to @f runs, on @stack; it must never
 *	return (it ends by switching away for good).
 * @arg: @entry's argument.
 *
 * Context: any; @f must not be running.
 * Return: 0, or -EINVAL if @stack is too small to hold the first frame.
 */
int epcg__fiber_init(struct epcg_fiber *f, void *stack, size_t size,
		     void (*entry)(void *arg), void *arg);

/**
 * epcg__fiber_switch() - save the running stack in @from, resume @to.
 * @from: where the caller resumes when someone switches to it.
 * @to: a fiber initialised or saved by an earlier switch.
 *
 * Context: the OS thread that owns both fibers.  Returns when another
 * switch names @from as its @to.
 */
void epcg__fiber_switch(struct epcg_fiber *from, struct epcg_fiber *to);

#endif /* EPCG_EXEC_FIBER_H */
