// SPDX-License-Identifier: MIT
/*
 * kmem_patch(): the calls of helper KMEM_CALL become calls of the kfunc,
 * and nothing else changes (bpf/kmem.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "bpf/kmem.h"

#define CALL(src, imm_) { .code = BPF_JMP | BPF_CALL, .src_reg = (src), .imm = (imm_) }

static void test_patches_only_its_calls(void **state)
{
	struct bpf_insn insns[] = {
		/* r1 = KMEM_CALL: the number as data, not a call */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = KMEM_CALL },
		CALL(0, KMEM_CALL),
		CALL(0, BPF_FUNC_probe_read_kernel),		/* another helper */
		CALL(BPF_PSEUDO_CALL, KMEM_CALL),		/* a call within the program */
		CALL(BPF_PSEUDO_KFUNC_CALL, KMEM_CALL),	/* a kfunc call already */
		{ .code = BPF_JMP | BPF_JA, .imm = KMEM_CALL },
		CALL(0, KMEM_CALL),
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_insn want[sizeof(insns) / sizeof(insns[0])];
	size_t n = sizeof(insns) / sizeof(insns[0]);

	(void)state;
	memcpy(want, insns, sizeof(insns));
	want[1].src_reg = want[6].src_reg = BPF_PSEUDO_KFUNC_CALL;
	want[1].imm = want[6].imm = 65330;
	assert_int_equal(kmem_patch(insns, n, 65330), 2);
	assert_memory_equal(insns, want, sizeof(insns));
	/* Patched calls are kfunc calls now: a second pass finds none. */
	assert_int_equal(kmem_patch(insns, n, 65330), 0);
	assert_memory_equal(insns, want, sizeof(insns));
}

static void test_no_id_no_kfunc(void **state)
{
	(void)state;
	/* No id: nothing to call, so nothing is tried. */
	assert_false(kmem_usable(0));
	assert_false(kmem_usable(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patches_only_its_calls),
		cmocka_unit_test(test_no_id_no_kfunc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
