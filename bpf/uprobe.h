/* SPDX-License-Identifier: MIT */
#ifndef BPFD_UPROBE_H
#define BPFD_UPROBE_H

/*
 * Attaching an already loaded BPF program to a uprobe, without BCC: a perf
 * event of the kernel's uprobe PMU (Linux 4.17+) and a BPF link of the
 * program to it (BPF_PERF_EVENT, Linux 5.15+). The link holds the perf
 * event: closing the returned fd detaches the program.
 */

#include <stdbool.h>
#include <stdint.h>

/* A CLOEXEC BPF link fd, or a negative errno. */
int uprobe_attach(int prog_fd, const char *binary, uint64_t offset, bool retprobe);

#endif
