/* SPDX-License-Identifier: MIT */
#ifndef BPFD_BPFMAP_H
#define BPFD_BPFMAP_H

/*
 * Reading and writing BPF map elements by fd with the bpf(2) syscall, for
 * the maps the compiled module exposes (counters, switches). 0 or -errno.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int bpfmap_update(int fd, const void *key, const void *value, uint64_t flags);
int bpfmap_lookup(int fd, const void *key, void *value);
int bpfmap_delete(int fd, const void *key);

/* The key after @key (NULL: the first) into @next; -ENOENT past the last. */
int bpfmap_next_key(int fd, const void *key, void *next);

/* Reads and deletes @key's element in one step (hash maps, 5.14+). */
int bpfmap_lookup_and_delete(int fd, const void *key, void *value);

/* Deletes every element of map @fd (keys of @key_size bytes). 0 or -errno. */
int bpfmap_clear(int fd, size_t key_size);

/*
 * How many elements hash map @fd holds (*@entries, walked in batches of
 * keys) and may hold (*@capacity). 0 or -errno.
 */
int bpfmap_occupancy(int fd, uint64_t *entries, uint64_t *capacity);

/* Possible CPUs, the number of values a per-CPU map holds per key. */
int bpfmap_possible_cpus(void);

/* Sum of a u64 per-CPU array element. */
int bpfmap_percpu_sum(int fd, uint32_t key, uint64_t *sum);

/*
 * The program behind @fd, a BPF link or a program: its id, and the time
 * its runs took and their count, which the kernel keeps while
 * kernel.bpf_stats_enabled is 1 (0 otherwise). 0 or -errno.
 */
int bpfmap_prog_run_stats(int fd, uint32_t *id, uint64_t *run_ns, uint64_t *run_cnt);

/* Whether the kernel counts programs' run time (sysctl kernel.bpf_stats_enabled). */
bool bpfmap_run_stats_enabled(void);

#endif
