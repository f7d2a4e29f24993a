/* SPDX-License-Identifier: MIT */
/*
 * unit.container_meta: the metadata parsers against config.json files as
 * containerd's CRI plugin and CRI-O write them, and libpod's bolt database
 * as podman 4.3 wrote it (tests/fixtures/meta); hostile files (not JSON,
 * truncated, wrong types, too deep, too large, not regular, someone
 * else's, corrupted database pages) are rejected without a crash, a hang
 * or a guess.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/boltdb.h"
#include "container_meta.h"

#ifndef FIXTURES
#error FIXTURES must name tests/fixtures/meta
#endif

/* Ids podman gave the containers of the recorded databases. */
#define PM_WEB	    "76cfef63650764a5885eb50729465470cf501e297abdd1b2c59a199f49fff355"
#define PM_NOLABELS "9411a23813c320df51afecf5e9c1297ef44b4d093910225acaccfd163075867d"
#define PM_MANY1    "3944e9cee3e4b29c04d06d4b3f815c3c85a15f8c6f7a6f95864f132af375bbae"
#define PM_MANY20   "17e5bd7a4c928a4f6b591a93c853e03c82d338c23f23897853d2b9ead3554914"
#define PM_IMAGE_ID "sha256:3812c38ec64d09f739c2f592eb65de5e1670a05efe2d6319dcd91b41f3d9f165"
#define BUNDLE_ID   "5e0c7a1b2d3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a"

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static int parse_oci(const char *name, struct container_meta *m)
{
	size_t len;
	char *text = slurp(name, &len);
	int r;

	memset(m, 0, sizeof(*m));
	r = container_meta_from_oci(text, len, m);
	free(text);
	return r;
}

static void expect(const struct container_meta *m, const char *key, const char *want)
{
	const char *got = container_meta_get(m, key, NULL);

	if (!want) {
		if (got)
			fail_msg("%s: want absent, got %s", key, got);
		return;
	}
	if (!got || strcmp(got, want))
		fail_msg("%s: want %s, got %s", key, want, got ? got : "(absent)");
}

static void test_containerd_cri_container(void **state)
{
	struct container_meta m;

	(void)state;
	assert_int_equal(parse_oci("containerd-cri-container.json", &m), 0);
	expect(&m, "k8s_namespace", "shop");
	expect(&m, "k8s_pod", "web-7d9c6b5f4-x2x8q");
	expect(&m, "k8s_pod_uid", "3f1c2a9e-5b7d-4c1e-9a3f-2d6e8b0c4a17");
	expect(&m, "k8s_container", "nginx");
	expect(&m, "container_name", "nginx");
	expect(&m, "container_image", "docker.io/library/nginx:1.25");
	/* containerd's CRI plugin keeps no image id nor labels in the bundle. */
	expect(&m, "container_image_id", NULL);
	assert_null(json_object_get(m.fields, "container_labels"));
	/* Event order, whatever the file's. */
	assert_string_equal(m.json,
			    ",\"container_name\":\"nginx\",\"container_image\":"
			    "\"docker.io/library/nginx:1.25\",\"k8s_namespace\":\"shop\","
			    "\"k8s_pod\":\"web-7d9c6b5f4-x2x8q\",\"k8s_pod_uid\":"
			    "\"3f1c2a9e-5b7d-4c1e-9a3f-2d6e8b0c4a17\",\"k8s_container\":\"nginx\"");
	assert_int_equal(m.json_len, strlen(m.json));
	container_meta_release(&m);
}

static void test_containerd_cri_sandbox(void **state)
{
	struct container_meta m;

	(void)state;
	/* The pod's pause container: its pod, no container name. */
	assert_int_equal(parse_oci("containerd-cri-sandbox.json", &m), 0);
	expect(&m, "k8s_namespace", "shop");
	expect(&m, "k8s_pod", "web-7d9c6b5f4-x2x8q");
	expect(&m, "k8s_pod_uid", "3f1c2a9e-5b7d-4c1e-9a3f-2d6e8b0c4a17");
	expect(&m, "k8s_container", NULL);
	expect(&m, "container_name", NULL);
	expect(&m, "container_image", NULL);
	container_meta_release(&m);
}

static void test_crio_container(void **state)
{
	struct container_meta m;

	(void)state;
	assert_int_equal(parse_oci("crio-container.json", &m), 0);
	expect(&m, "k8s_namespace", "data");
	expect(&m, "k8s_pod", "cache-0");
	expect(&m, "k8s_pod_uid", "0d4e6f8a-1b3c-4d5e-8f9a-2b4c6d8e0f1a");
	expect(&m, "k8s_container", "redis");
	expect(&m, "container_name", "redis");
	expect(&m, "container_image", "docker.io/library/redis:7.2");
	/* CRI-O's Labels annotation: the container's labels, kubelet's among them. */
	expect(&m, "container_label.app", "cache");
	expect(&m, "container_label.io.kubernetes.pod.namespace", "data");
	assert_int_equal(json_object_size(json_object_get(m.fields, "container_labels")), 5);
	container_meta_release(&m);
}

static void test_crio_sandbox(void **state)
{
	struct container_meta m;

	(void)state;
	assert_int_equal(parse_oci("crio-sandbox.json", &m), 0);
	expect(&m, "k8s_namespace", "data");
	expect(&m, "k8s_pod", "cache-0");
	expect(&m, "k8s_container", NULL);
	expect(&m, "container_name", NULL);
	expect(&m, "container_label.app", "cache");
	container_meta_release(&m);
}

static void test_oci_hostile_files(void **state)
{
	struct container_meta m;

	(void)state;
	assert_int_equal(parse_oci("hostile-truncated.json", &m), -EINVAL);
	assert_int_equal(parse_oci("hostile-not-json.json", &m), -EINVAL);
	assert_int_equal(parse_oci("hostile-array.json", &m), -EINVAL);
	/* Values of the wrong type are not known, never coerced. */
	assert_int_equal(parse_oci("hostile-wrong-types.json", &m), -ENOENT);
	assert_null(m.fields);
	assert_null(m.json);
}

static void test_oci_too_deep(void **state)
{
	const size_t depth = 200000;
	struct container_meta m = { 0 };
	size_t i, n = 0;
	char *t = malloc(depth * 2 + 200);

	(void)state;
	assert_non_null(t);
	n += (size_t)sprintf(t, "{\"annotations\":{\"io.kubernetes.pod.name\":\"p\",\"x\":");
	for (i = 0; i < depth; i++)
		t[n++] = '[';
	for (i = 0; i < depth; i++)
		t[n++] = ']';
	n += (size_t)sprintf(t + n, "}}");
	assert_int_equal(container_meta_from_oci(t, n, &m), -EINVAL);
	free(t);
}

static void test_oci_values_bounded(void **state)
{
	const size_t big = CONTAINER_META_VALUE_MAX + 1;
	struct container_meta m = { 0 };
	char *t = malloc(big + 400), *v = malloc(big + 1);
	int n;

	(void)state;
	assert_non_null(t);
	assert_non_null(v);
	memset(v, 'a', big);
	v[big] = '\0';
	/* A value over the bound is dropped, not cut. */
	n = sprintf(t, "{\"annotations\":{\"io.kubernetes.pod.name\":\"%s\","
		       "\"io.kubernetes.pod.uid\":\"u-1\"}}", v);
	assert_int_equal(container_meta_from_oci(t, (size_t)n, &m), 0);
	expect(&m, "k8s_pod", NULL);
	expect(&m, "k8s_pod_uid", "u-1");
	container_meta_release(&m);
	/* An embedded NUL: the file is refused (what C strings would cut short). */
	n = sprintf(t, "{\"annotations\":{\"io.kubernetes.pod.namespace\":\"a\\u0000b\","
		       "\"io.kubernetes.pod.uid\":\"u-1\"}}");
	assert_int_equal(container_meta_from_oci(t, (size_t)n, &m), -EINVAL);
	/* Duplicate keys: which one wins would be a guess. */
	n = sprintf(t, "{\"annotations\":{\"io.kubernetes.pod.name\":\"a\","
		       "\"io.kubernetes.pod.name\":\"b\"}}");
	assert_int_equal(container_meta_from_oci(t, (size_t)n, &m), -EINVAL);
	free(t);
	free(v);
}

/* ------------------------------------------------------------------ */
/* podman's bolt database                                              */

static int db_get(const char *name, const char *id, char **val, size_t *len)
{
	const char *const path[] = { "ctr", id, "config" };
	char file[512];
	struct stat st;
	int fd, r;

	snprintf(file, sizeof(file), "%s/%s", FIXTURES, name);
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	r = boltdb_get(fd, (uint64_t)st.st_size, path, 3, CONTAINER_META_FILE_MAX, val, len);
	close(fd);
	return r;
}

static void podman_meta(const char *db, const char *id, struct container_meta *m)
{
	size_t len;
	char *val;

	assert_int_equal(db_get(db, id, &val, &len), 0);
	memset(m, 0, sizeof(*m));
	assert_int_equal(container_meta_from_podman_config(val, len, id, m), 0);
	free(val);
}

static void test_podman_bolt(void **state)
{
	struct container_meta m;
	size_t len;
	char *val;

	(void)state;
	podman_meta("podman-4.3-bolt_state.db", PM_WEB, &m);
	expect(&m, "container_name", "web-1");
	expect(&m, "container_image", "localhost/bpfd-test-busybox:latest");
	expect(&m, "container_image_id", PM_IMAGE_ID);
	expect(&m, "container_label.team", "red");
	expect(&m, "container_label.tier", "web");
	expect(&m, "container_label.app.kubernetes.io/name", "shop");
	expect(&m, "k8s_pod", NULL);
	container_meta_release(&m);

	podman_meta("podman-4.3-bolt_state.db", PM_NOLABELS, &m);
	expect(&m, "container_name", "nolabels");
	assert_null(json_object_get(m.fields, "container_labels"));
	container_meta_release(&m);

	assert_int_equal(db_get("podman-4.3-bolt_state.db", PM_MANY1, &val, &len), -ENOENT);
	/* A bucket is not a value. */
	{
		const char *const path[] = { "ctr", PM_WEB };
		char file[512];
		int fd;

		snprintf(file, sizeof(file), "%s/podman-4.3-bolt_state.db", FIXTURES);
		fd = open(file, O_RDONLY);
		assert_int_equal(boltdb_get(fd, 57344, path, 2, 1 << 20, &val, &len), -ENOENT);
		close(fd);
	}
	/* A config whose id is another container's is not that container's. */
	assert_int_equal(db_get("podman-4.3-bolt_state.db", PM_WEB, &val, &len), 0);
	memset(&m, 0, sizeof(m));
	assert_int_equal(container_meta_from_podman_config(val, len, PM_NOLABELS, &m), -EINVAL);
	free(val);
}

static void test_podman_bolt_many(void **state)
{
	struct container_meta m;

	(void)state;
	/* 42 containers: the ctr bucket is a tree of pages, values overflow a page. */
	podman_meta("podman-4.3-bolt_state-42.db", PM_MANY1, &m);
	expect(&m, "container_name", "many-1");
	expect(&m, "container_label.n", "1");
	container_meta_release(&m);
	podman_meta("podman-4.3-bolt_state-42.db", PM_MANY20, &m);
	expect(&m, "container_name", "many-20");
	expect(&m, "container_label.n", "20");
	container_meta_release(&m);
	podman_meta("podman-4.3-bolt_state-42.db", PM_WEB, &m);
	expect(&m, "container_label.team", "red");
	container_meta_release(&m);
}

static char *scratch_copy(const char *name, size_t *len)
{
	return slurp(name, len);
}

static int get_from_bytes(const char *bytes, size_t len, const char *id)
{
	const char *const path[] = { "ctr", id, "config" };
	char tmpl[] = "/tmp/bpfd-unit-bolt-XXXXXX";
	size_t vlen;
	char *val;
	int fd = mkstemp(tmpl), r;

	assert_true(fd >= 0);
	unlink(tmpl);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	r = boltdb_get(fd, len, path, 3, CONTAINER_META_FILE_MAX, &val, &vlen);
	close(fd);
	if (!r) {
		struct container_meta m = { 0 };

		/* Whatever came out is only used if it parses and names @id. */
		if (!container_meta_from_podman_config(val, vlen, id, &m))
			container_meta_release(&m);
		free(val);
	}
	return r;
}

static void test_podman_bolt_hostile(void **state)
{
	size_t len, i;
	char *db = scratch_copy("podman-4.3-bolt_state-42.db", &len), *bad;
	int r, ok = 0;

	(void)state;
	bad = malloc(len);
	assert_non_null(bad);
	/* Both meta pages' checksums broken: not a database. */
	memcpy(bad, db, len);
	bad[16 + 20] ^= 1;
	bad[4096 + 16 + 20] ^= 1;
	assert_int_equal(get_from_bytes(bad, len, PM_MANY20), -EINVAL);
	/* Only one broken: the other is used. */
	memcpy(bad, db, len);
	bad[16 + 20] ^= 1;
	r = get_from_bytes(bad, len, PM_MANY20);
	assert_true(r == 0 || r == -EAGAIN);
	/* Cut short: a page past the end is being written, not trusted. */
	assert_int_equal(get_from_bytes(db, len / 2, PM_MANY20), -EAGAIN);
	assert_int_equal(get_from_bytes(db, 8192, PM_MANY20), -EAGAIN);
	assert_int_equal(get_from_bytes(db, 100, PM_MANY20), -EAGAIN);
	assert_int_equal(get_from_bytes(db, 50, PM_MANY20), -EINVAL);
	assert_int_equal(get_from_bytes(db, 0, PM_MANY20), -EINVAL);
	/* Pages overwritten with random bytes: any answer but a crash or a hang. */
	srand(19);
	for (i = 0; i < 3000; i++) {
		size_t at = 8192 + (size_t)rand() % (len - 8192), n = 1 + (size_t)rand() % 64, k;

		memcpy(bad, db, len);
		for (k = 0; k < n && at + k < len; k++)
			bad[at + k] = (char)rand();
		r = get_from_bytes(bad, len, (i & 1) ? PM_MANY20 : PM_MANY1);
		assert_true(r == 0 || r == -ENOENT || r == -EAGAIN || r == -EFBIG);
		ok += !r;
	}
	/* Most mutations land outside the path looked up. */
	assert_true(ok > 1000);
	free(bad);
	free(db);
}

/* ------------------------------------------------------------------ */
/* Through the cache: the files as the daemon reads them                */

static char scratch[64];

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void test_cache_bundle_files(void **state)
{
	char ns[256], dir[256], cfg[512], *text;
	const char *bundles[] = { scratch, NULL };
	struct container_meta_paths paths = { .bundles = bundles, .crio = "/nonexistent" };
	struct container_info info = { .runtime = "kube", .owner_uid = -1 };
	const struct container_meta *m;
	struct container_meta_cache *c;
	struct container_meta_stats st;
	size_t len;

	(void)state;
	/* Files of other owners need root to make. */
	if (geteuid() != 0)
		skip();
	snprintf(ns, sizeof(ns), "%s/k8s.io", scratch);
	snprintf(dir, sizeof(dir), "%s/%s", ns, BUNDLE_ID);
	snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
	assert_int_equal(mkdir(ns, 0755), 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(info.id, sizeof(info.id), "%s", BUNDLE_ID);

	c = container_meta_cache_new(8, &paths);
	assert_non_null(c);
	/* A FIFO where config.json should be: no blocking open, nothing learned. */
	assert_int_equal(mkfifo(cfg, 0644), 0);
	assert_null(container_meta_cache_get(c, 100, &info, 0));
	unlink(cfg);
	/* A symlink to a real bundle's config: not followed. */
	{
		char real[512];

		snprintf(real, sizeof(real), "%s/containerd-cri-container.json", FIXTURES);
		assert_int_equal(symlink(real, cfg), 0);
		assert_null(container_meta_cache_get(c, 101, &info, 0));
		unlink(cfg);
	}
	/* Over the size bound: refused whole. */
	text = malloc(CONTAINER_META_FILE_MAX + 2);
	assert_non_null(text);
	memset(text, ' ', CONTAINER_META_FILE_MAX + 1);
	len = strlen("{\"annotations\":{\"io.kubernetes.pod.name\":\"p\"}}");
	memcpy(text, "{\"annotations\":{\"io.kubernetes.pod.name\":\"p\"}}", len);
	write_file(cfg, text, CONTAINER_META_FILE_MAX + 1);
	free(text);
	assert_null(container_meta_cache_get(c, 102, &info, 0));
	/* Someone else's file in root's bundle directory: not read. */
	text = slurp("containerd-cri-container.json", &len);
	write_file(cfg, text, len);
	assert_int_equal(chown(cfg, 12345, 12345), 0);
	assert_null(container_meta_cache_get(c, 103, &info, 0));
	/* Root's: read, once. */
	assert_int_equal(chown(cfg, 0, 0), 0);
	m = container_meta_cache_get(c, 104, &info, 0);
	assert_non_null(m);
	expect(m, "k8s_pod", "web-7d9c6b5f4-x2x8q");
	container_meta_cache_stats(c, &st);
	assert_int_equal(st.known, 1);
	assert_true(st.read_failures >= 4);
	free(text);
	container_meta_cache_free(c);
	unlink(cfg);
	rmdir(dir);
	rmdir(ns);
}

static void test_cache_podman_db(void **state)
{
	char db[256], *bytes;
	struct container_meta_paths paths = { .podman_db = db, .podman = "/nonexistent" };
	struct container_info info = { .runtime = "podman", .owner_uid = -1 };
	const struct container_meta *m;
	struct container_meta_cache *c;
	size_t len;

	(void)state;
	/* Files of other owners need root to make. */
	if (geteuid() != 0)
		skip();
	snprintf(db, sizeof(db), "%s/bolt_state.db", scratch);
	bytes = slurp("podman-4.3-bolt_state.db", &len);
	write_file(db, bytes, len);
	free(bytes);
	snprintf(info.id, sizeof(info.id), "%s", PM_WEB);
	c = container_meta_cache_new(8, &paths);
	assert_non_null(c);
	m = container_meta_cache_get(c, 200, &info, 0);
	assert_non_null(m);
	expect(m, "container_name", "web-1");
	expect(m, "container_label.team", "red");
	/* A user's cgroup named after root's podman container: root's database is not asked. */
	info.owner_uid = 12345;
	assert_null(container_meta_cache_get(c, 201, &info, 0));
	/* root's database owned by someone else: not trusted. */
	info.owner_uid = -1;
	assert_int_equal(chown(db, 12345, 12345), 0);
	assert_null(container_meta_cache_get(c, 202, &info, 0));
	container_meta_cache_free(c);
	unlink(db);
}

static int setup(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "/tmp/bpfd-unit-meta-XXXXXX");
	return mkdtemp(scratch) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(scratch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containerd_cri_container),
		cmocka_unit_test(test_containerd_cri_sandbox),
		cmocka_unit_test(test_crio_container),
		cmocka_unit_test(test_crio_sandbox),
		cmocka_unit_test(test_oci_hostile_files),
		cmocka_unit_test(test_oci_too_deep),
		cmocka_unit_test(test_oci_values_bounded),
		cmocka_unit_test(test_podman_bolt),
		cmocka_unit_test(test_podman_bolt_many),
		cmocka_unit_test(test_podman_bolt_hostile),
		cmocka_unit_test(test_cache_bundle_files),
		cmocka_unit_test(test_cache_podman_db),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
