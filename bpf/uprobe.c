// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "bpf/uprobe.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PMU_DIR "/sys/bus/event_source/devices/uprobe"

/* A number from a sysfs file: "7\n", or "config:0" for a format bit. */
static int read_sysfs_number(const char *path, const char *prefix)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	int v = -1;

	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f)) {
		size_t n = strlen(prefix);

		if (strncmp(buf, prefix, n) == 0 && sscanf(buf + n, "%d", &v) != 1)
			v = -1;
	}
	fclose(f);
	return v < 0 ? -EINVAL : v;
}

int uprobe_attach(int prog_fd, const char *binary, uint64_t offset, bool retprobe)
{
	struct perf_event_attr attr;
	int type, bit = 0, fd, link, e;

	type = read_sysfs_number(PMU_DIR "/type", "");
	if (type < 0)
		return type == -ENOENT ? -EOPNOTSUPP : type;
	if (retprobe) {
		bit = read_sysfs_number(PMU_DIR "/format/retprobe", "config:");
		if (bit < 0)
			return bit;
	}
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config = retprobe ? 1ULL << bit : 0;
	attr.config1 = (uint64_t)(uintptr_t)binary;	/* uprobe_path */
	attr.config2 = offset;				/* probe_offset */
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	/* Every process that runs the file: pid -1, on each CPU through cpu 0's event. */
	fd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/*
	 * A BPF link rather than PERF_EVENT_IOC_SET_BPF: the link holds the
	 * perf event, so its fd is the one thing to keep (or to pin, or to
	 * hand to another process) for the program to stay attached.
	 */
	link = bpf_link_create(prog_fd, fd, BPF_PERF_EVENT, NULL);	/* libbpf 1.x: -errno */
	e = link < 0 ? link : 0;
	if (!e && ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		e = -errno;
		close(link);
	}
	close(fd);
	return e ? e : link;
}
