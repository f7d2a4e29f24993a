/* SPDX-License-Identifier: MIT */
#include "bpf/kmem.h"

#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

size_t kmem_patch(void *insns, size_t count, int btf_id)
{
	struct bpf_insn *in = insns;
	size_t i, n = 0;

	for (i = 0; i < count; i++) {
		if (in[i].code != (BPF_JMP | BPF_CALL) || in[i].src_reg != 0 ||
		    in[i].imm != KMEM_CALL)
			continue;
		in[i].src_reg = BPF_PSEUDO_KFUNC_CALL;
		in[i].off = 0;	/* the kfunc is vmlinux's */
		in[i].imm = btf_id;
		n++;
	}
	return n;
}

/*
 * r1 = 0; r2 = 0; r0 = kfunc(r1, r2); r0 = *(u64 *)r0; r0 = 0; exit. The
 * whole bpf_attr is zeroed (libbpf's bpf_prog_load() leaves bytes valgrind
 * reports as uninitialised).
 */
static int load_probe(int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2 },
		{ .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_KFUNC_CALL, .imm = btf_id },
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_TRACEPOINT;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (uint64_t)(uintptr_t)"GPL";
	return (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

bool kmem_usable(int btf_id)
{
	static int known = -1;
	int fd;

	if (btf_id <= 0)
		return false;
	if (known < 0) {
		fd = load_probe(btf_id);
		known = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	return known;
}
