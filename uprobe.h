/* SPDX-License-Identifier: MIT */
#ifndef BPFD_UPROBE_H
#define BPFD_UPROBE_H

/*
 * Attaching an already loaded BPF program to a uprobe, without BCC: a perf
 * event of the kernel's uprobe PMU (Linux 4.17+) with the program set on
 * it. Closing the returned fd detaches it.
 */

#include <stdbool.h>
#include <stdint.h>

/* A CLOEXEC perf event fd, or a negative errno. */
int uprobe_attach(int prog_fd, const char *binary, uint64_t offset, bool retprobe);

#endif
