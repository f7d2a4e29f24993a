/* SPDX-License-Identifier: MIT */
#ifndef BPFD_KMEM_H
#define BPFD_KMEM_H

/*
 * Kernel memory read by plain loads. A bpf_probe_read_kernel() call costs
 * 15-20 ns here, and a dropped open made a dozen of them; the kernel's
 * kfunc bpf_rdonly_cast(p, 0) instead makes any address read-only
 * untrusted memory, whose loads the JIT emits as loads that give 0 where
 * nothing is mapped, and which the verifier inlines (no call at all).
 *
 * BCC cannot call a kfunc. The programs call helper number KMEM_CALL
 * instead (bpfd_kmem() in tracers/common/common.bpf.c, compiled in with
 * KMEM_CFLAG only when kmem_usable() said yes), and the backend turns each
 * of those calls into a call of the kfunc (kmem_patch()) before it loads
 * the program. Without it (an older kernel) the programs read with
 * bpf_probe_read_kernel() as before.
 */

#include <stdbool.h>
#include <stddef.h>

#define KMEM_CALL 0x7fbfd001
#define KMEM_STR_(x) #x
#define KMEM_STR(x) KMEM_STR_(x)
#define KMEM_CFLAG "-DBPFD_KMEM_CALL=" KMEM_STR(KMEM_CALL)

/*
 * Whether kfunc @btf_id (bpf_rdonly_cast's id in the kernel's BTF, 0 when
 * it has none) can be called as the programs call it: a program that casts
 * 0 and loads from it is loaded, then closed. Needs the privileges a load
 * needs; the answer is kept for the process.
 */
bool kmem_usable(int btf_id);

/*
 * Turns every call of helper KMEM_CALL among the @count instructions at
 * @insns into a call of kfunc @btf_id, in place. Returns how many.
 */
size_t kmem_patch(void *insns, size_t count, int btf_id);

#endif
