/* SPDX-License-Identifier: MIT */
#ifndef BPFD_PROC_H
#define BPFD_PROC_H

/*
 * Acting on processes safely: a pid names a process only together with its
 * start time, since pids are reused.
 */

#include <stdint.h>
#include <sys/types.h>

/*
 * The start time of process @pid in clock ticks since boot (field 22 of
 * /proc/PID/stat): 0 and *@ticks, or a negative errno (-ESRCH: no such process).
 */
int process_start_ticks(pid_t pid, uint64_t *ticks);

/* @start_ns (ns since boot, as the kernel keeps it) in /proc's clock ticks. */
uint64_t process_ns_to_ticks(uint64_t start_ns);

/*
 * Sends @sig to process @pid through a pidfd, only when it is still the
 * process that started at @start_ns. Never signals pid 1 or @self.
 * 0; -EPERM for pid 1, @self or a pid <= 0; -ESRCH when the process is gone
 * or the pid now belongs to another process; -ENODATA when @start_ns is 0
 * (unknown); another negative errno from the kernel.
 */
int process_signal(pid_t pid, uint64_t start_ns, int sig, pid_t self);

#endif
