// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "bpf/bpfmap.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int map_op(int cmd, int fd, const void *key, void *value, uint64_t flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = fd;
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	attr.flags = flags;
	return syscall(__NR_bpf, cmd, &attr, sizeof(attr)) < 0 ? -errno : 0;
}

int bpfmap_update(int fd, const void *key, const void *value, uint64_t flags)
{
	return map_op(BPF_MAP_UPDATE_ELEM, fd, key, (void *)value, flags);
}

int bpfmap_lookup(int fd, const void *key, void *value)
{
	return map_op(BPF_MAP_LOOKUP_ELEM, fd, key, value, 0);
}

int bpfmap_delete(int fd, const void *key)
{
	return map_op(BPF_MAP_DELETE_ELEM, fd, key, NULL, 0);
}

int bpfmap_next_key(int fd, const void *key, void *next)
{
	/* next_key shares value's place in the attribute union. */
	return map_op(BPF_MAP_GET_NEXT_KEY, fd, key, next, 0);
}

int bpfmap_lookup_and_delete(int fd, const void *key, void *value)
{
	return map_op(BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, key, value, 0);
}

int bpfmap_possible_cpus(void)
{
	static int cached;
	char buf[256];
	FILE *f;
	int n = 0, a, b;
	char *p;

	if (cached)
		return cached;
	f = fopen("/sys/devices/system/cpu/possible", "re");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return cached = (int)sysconf(_SC_NPROCESSORS_CONF);
	}
	fclose(f);
	/* "0-3,5,7-8" */
	for (p = strtok(buf, ",\n"); p; p = strtok(NULL, ",\n")) {
		if (sscanf(p, "%d-%d", &a, &b) == 2)
			n += b - a + 1;
		else
			n++;
	}
	return cached = n > 0 ? n : 1;
}

int bpfmap_percpu_sum(int fd, uint32_t key, uint64_t *sum)
{
	int ncpu = bpfmap_possible_cpus(), i, err;
	/* Per-CPU values are each rounded up to 8 bytes. */
	uint64_t *vals = calloc(ncpu, sizeof(*vals));

	if (!vals)
		return -ENOMEM;
	err = bpfmap_lookup(fd, &key, vals);
	*sum = 0;
	if (!err)
		for (i = 0; i < ncpu; i++)
			*sum += vals[i];
	free(vals);
	return err;
}

int bpfmap_clear(int fd, size_t key_size)
{
	union bpf_attr attr;
	char *key = calloc(1, key_size), *next = calloc(1, key_size);
	int err = 0;

	if (!key || !next) {
		free(key);
		free(next);
		return -ENOMEM;
	}
	/* Always restart from the first key: the one deleted is gone. */
	for (;;) {
		memset(&attr, 0, sizeof(attr));
		attr.map_fd = fd;
		attr.key = 0;
		attr.next_key = (uint64_t)(uintptr_t)next;
		if (syscall(__NR_bpf, BPF_MAP_GET_NEXT_KEY, &attr, sizeof(attr)) < 0) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		err = bpfmap_delete(fd, next);
		if (err < 0)
			break;
	}
	free(key);
	free(next);
	return err;
}

int bpfmap_occupancy(int fd, uint64_t *entries, uint64_t *capacity)
{
	enum { BATCH = 1024 };
	struct bpf_map_info info;
	union bpf_attr attr;
	uint64_t token = 0;
	char *keys = NULL, *values = NULL;
	int err = 0, first = 1, done;

	*entries = *capacity = 0;
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0)
		return -errno;
	*capacity = info.max_entries;
	keys = malloc((size_t)BATCH * info.key_size);
	values = malloc((size_t)BATCH * info.value_size);
	if (!keys || !values) {
		free(keys);
		free(values);
		return -ENOMEM;
	}
	/* The kernel ends the walk with ENOENT, after the last batch's elements. */
	for (;;) {
		memset(&attr, 0, sizeof(attr));
		attr.batch.map_fd = fd;
		attr.batch.in_batch = first ? 0 : (uint64_t)(uintptr_t)&token;
		attr.batch.out_batch = (uint64_t)(uintptr_t)&token;
		attr.batch.keys = (uint64_t)(uintptr_t)keys;
		attr.batch.values = (uint64_t)(uintptr_t)values;
		attr.batch.count = BATCH;
		first = 0;
		done = syscall(__NR_bpf, BPF_MAP_LOOKUP_BATCH, &attr, sizeof(attr)) < 0;
		if (done && errno != ENOENT) {
			err = -errno;
			break;
		}
		*entries += attr.batch.count;
		/* Bounded however the map changes meanwhile. */
		if (done || *entries >= *capacity)
			break;
	}
	free(keys);
	free(values);
	return err;
}

static int obj_info(int fd, void *info, uint32_t len)
{
	union bpf_attr attr;

	memset(info, 0, len);
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = len;
	attr.info.info = (uint64_t)(uintptr_t)info;
	return syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0 ? -errno : 0;
}

int bpfmap_prog_run_stats(int fd, uint32_t *id, uint64_t *run_ns, uint64_t *run_cnt)
{
	struct bpf_prog_info prog;
	struct bpf_link_info link;
	union bpf_attr attr;
	char path[64], target[64];
	ssize_t n;
	int prog_fd = fd, err;

	/*
	 * The kernel answers BPF_OBJ_GET_INFO_BY_FD with the info of whatever
	 * @fd is, in the caller's buffer: what it is must be known first.
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (strcmp(target, "anon_inode:bpf_link") == 0) {
		err = obj_info(fd, &link, sizeof(link));
		if (err < 0)
			return err;
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = link.prog_id;
		prog_fd = syscall(__NR_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));
		if (prog_fd < 0)
			return -errno;
	} else if (strcmp(target, "anon_inode:bpf-prog") != 0) {
		return -EBADF;
	}
	err = obj_info(prog_fd, &prog, sizeof(prog));
	if (prog_fd != fd)
		close(prog_fd);
	if (err < 0)
		return err;
	*id = prog.id;
	*run_ns = prog.run_time_ns;
	*run_cnt = prog.run_cnt;
	return 0;
}

bool bpfmap_run_stats_enabled(void)
{
	char c = '0';
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");

	if (!f)
		return false;
	if (fread(&c, 1, 1, f) != 1)
		c = '0';
	fclose(f);
	return c != '0';
}
