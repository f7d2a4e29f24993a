// SPDX-License-Identifier: MIT
/*
 * Container metadata cost: the memory of the metadata cache holding N
 * containers, each learned from a docker config.v2.json written to a
 * scratch directory (name, image, image id and LABELS labels of realistic
 * length), the time to learn one, and container_meta_cache_get() of a
 * known one (the per-event cost in the pipeline).
 *
 * usage: bench_meta [CONTAINERS] [LABELS] [LOOKUPS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container_meta.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void id_of(size_t i, char *id)
{
	snprintf(id, CONTAINER_ID_MAX + 1, "%064zx", i * 0x9e3779b97f4a7c15ull + 1);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	size_t labels = argc > 2 ? strtoul(argv[2], NULL, 10) : 8;
	size_t lookups = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000000;
	char dir[] = "/tmp/bpfd-bench-meta-XXXXXX", path[512], text[8192];
	struct container_meta_paths paths = { 0 };
	struct container_info info = { .runtime = "docker", .owner_uid = -1 };
	struct container_meta_cache *c;
	struct container_meta_stats st;
	struct mallinfo2 before, after;
	double t0, learn_ns, get_ns;
	size_t i, j, known = 0;
	int fd, len;

	if (!mkdtemp(dir))
		return 1;
	paths.docker = dir;
	for (i = 0; i < n; i++) {
		id_of(i, info.id);
		snprintf(path, sizeof(path), "%s/%s", dir, info.id);
		mkdir(path, 0700);
		len = snprintf(text, sizeof(text),
			       "{\"ID\":\"%s\",\"Name\":\"/web-frontend-%zu\",\"Image\":\"sha256:"
			       "3812c38ec64d09f739c2f592eb65de5e1670a05efe2d6319dcd91b41f3d9f165\","
			       "\"Config\":{\"Image\":\"registry.example.com/shop/frontend:1.25.%zu\","
			       "\"Labels\":{",
			       info.id, i, i);
		for (j = 0; j < labels; j++)
			len += snprintf(text + len, sizeof(text) - (size_t)len,
					"%s\"com.example.label-%zu\":\"value-of-label-%zu\"",
					j ? "," : "", j, j);
		len += snprintf(text + len, sizeof(text) - (size_t)len, "}}}");
		snprintf(path, sizeof(path), "%s/%s/config.v2.json", dir, info.id);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, text, (size_t)len) != len)
			return 1;
		close(fd);
	}
	malloc_trim(0);
	before = mallinfo2();
	c = container_meta_cache_new(CONTAINER_META_CACHE_CAPACITY, &paths);
	if (!c)
		return 1;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		id_of(i, info.id);
		container_meta_cache_learn(c, 1000 + i, &info, 0);
	}
	learn_ns = (now_ns() - t0) / (double)n;
	after = mallinfo2();
	container_meta_cache_stats(c, &st);
	t0 = now_ns();
	for (i = 0; i < lookups; i++) {
		/* Keyed by the cgroup id: the id only says it is a container. */
		known += container_meta_cache_get(c, 1000 + i % n, &info, 0) != NULL;
	}
	get_ns = (now_ns() - t0) / (double)lookups;
	printf("containers %zu (known %zu, capacity %zu), labels each %zu\n", n, st.known,
	       st.capacity, labels);
	printf("heap %.1f KiB (%.0f bytes per container)\n",
	       (double)(after.uordblks - before.uordblks) / 1024.0,
	       (double)(after.uordblks - before.uordblks) / (double)n);
	printf("learn %.1f us per container (files read and parsed)\n", learn_ns / 1000.0);
	printf("get %.1f ns per event (known: %zu of %zu)\n", get_ns, known, lookups);
	container_meta_cache_free(c);
	for (i = 0; i < n; i++) {
		id_of(i, info.id);
		snprintf(path, sizeof(path), "%s/%s/config.v2.json", dir, info.id);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", dir, info.id);
		rmdir(path);
	}
	rmdir(dir);
	return 0;
}
