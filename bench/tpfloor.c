// SPDX-License-Identifier: MIT
/*
 * The reference points of the prefilter benchmark (bench/run.py): what a
 * BPF program on syscalls:sys_exit_openat costs an open() before it does
 * anything, and what it costs when all it does is what every file name
 * prefilter must do, read the name the process passed from user memory.
 * bpfd's prefilter is that read plus the tests; these two programs give
 * the floor it is measured against.
 *
 * usage: tpfloor empty|read|sysexit
 *   Loads the program, attaches it, prints "ready" and keeps it attached
 *   until stdin is closed or the process is killed.
 *
 *   empty  r0 = 0
 *   read   the file name argument (from the registers saved at syscall
 *          entry, bpf_task_pt_regs) read with bpf_probe_read_user_str()
 *          into 64 bytes of stack, as bpfd's open tracer reads it
 *   sysexit r0 = 0 as a raw tracepoint program on sys_exit, every system
 *          call's return: the floor of the open tracer's compat hook
 *
 * x86-64 only (the argument's register), like bpfd's tracers.
 */
#include <asm/ptrace.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define LOAD64(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static const struct bpf_insn prog_empty[] = { MOV_IMM(0, 0), EXIT() };

static const struct bpf_insn prog_read[] = {
	CALL(BPF_FUNC_get_current_task_btf),
	MOV_REG(1, 0),
	CALL(BPF_FUNC_task_pt_regs),
	LOAD64(3, 0, offsetof(struct pt_regs, rsi)),	/* openat(dfd, filename, ...) */
	MOV_REG(1, 10),
	ADD_IMM(1, -64),
	MOV_IMM(2, 64),
	CALL(BPF_FUNC_probe_read_user_str),
	MOV_IMM(0, 0),
	EXIT(),
};

static char verifier_log[65536];

static int load(const struct bpf_insn *insns, unsigned int n, unsigned int type)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (unsigned long)insns;
	a.insn_cnt = n;
	a.license = (unsigned long)"GPL";
	a.log_buf = (unsigned long)verifier_log;
	a.log_size = sizeof(verifier_log);
	a.log_level = 1;
	fd = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0) {
		perror("tpfloor: BPF_PROG_LOAD");
		fputs(verifier_log, stderr);
	}
	return fd;
}

static int attach(int prog)
{
	const char *idfile = "/sys/kernel/tracing/events/syscalls/sys_exit_openat/id";
	struct perf_event_attr pa;
	FILE *f = fopen(idfile, "re");
	int id, fd;

	if (!f || fscanf(f, "%d", &id) != 1) {
		perror(idfile);
		return -1;
	}
	fclose(f);
	memset(&pa, 0, sizeof(pa));
	pa.type = PERF_TYPE_TRACEPOINT;
	pa.size = sizeof(pa);
	pa.config = id;
	pa.sample_period = 1;
	pa.wakeup_events = 1;
	fd = syscall(SYS_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 || ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) < 0 ||
	    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		perror("tpfloor: attaching to syscalls:sys_exit_openat");
		return -1;
	}
	return fd;
}

static int attach_sys_exit(int prog)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (unsigned long)"sys_exit";
	a.raw_tracepoint.prog_fd = prog;
	fd = syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	if (fd < 0)
		perror("tpfloor: attaching to the raw tracepoint sys_exit");
	return fd;
}

int main(int argc, char **argv)
{
	char buf[64];
	int prog;

	if (argc != 2 || (strcmp(argv[1], "empty") != 0 && strcmp(argv[1], "read") != 0 &&
			  strcmp(argv[1], "sysexit") != 0)) {
		fprintf(stderr, "usage: tpfloor empty|read|sysexit\n");
		return 2;
	}
	if (strcmp(argv[1], "sysexit") == 0) {
		prog = load(prog_empty, sizeof(prog_empty) / sizeof(prog_empty[0]),
			    BPF_PROG_TYPE_RAW_TRACEPOINT);
		if (prog < 0 || attach_sys_exit(prog) < 0)
			return 1;
	} else {
		if (strcmp(argv[1], "empty") == 0)
			prog = load(prog_empty, sizeof(prog_empty) / sizeof(prog_empty[0]),
				    BPF_PROG_TYPE_TRACEPOINT);
		else
			prog = load(prog_read, sizeof(prog_read) / sizeof(prog_read[0]),
				    BPF_PROG_TYPE_TRACEPOINT);
		if (prog < 0 || attach(prog) < 0)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (fread(buf, 1, sizeof(buf), stdin) > 0)
		;
	return 0;
}
