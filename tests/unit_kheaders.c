// SPDX-License-Identifier: MIT
/*
 * kheaders: finding kernel headers in fixture roots shaped like Debian's
 * packages, and the merged symlink tree for split headers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
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

#include "bpf/kheaders.h"

#define RUNNING "6.18.44-fc-v857"

struct fixture {
	char dir[PATH_MAX];	/* mkdtemp'd, holds root/ and tmp/ */
	char root[PATH_MAX];	/* realpath of the fake "/" */
	char tmp[PATH_MAX];	/* where kheaders_prepare() makes its trees */
};

static void join(char *out, const char *a, const char *b)
{
	assert_true(snprintf(out, PATH_MAX, "%s/%s", a, b) < PATH_MAX);
}

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX], *p;

	assert_true(strlen(path) < sizeof(buf));
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

/* Creates root/@rel (and its parents) holding @text. */
static void put_file(const struct fixture *f, const char *rel, const char *text)
{
	char path[PATH_MAX], dir[PATH_MAX];
	FILE *fp;

	join(path, f->root, rel);
	strcpy(dir, path);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	fp = fopen(path, "we");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* root/@rel -> @target, verbatim: an absolute @target means the fake root's path. */
static void put_link(const struct fixture *f, const char *rel, const char *target)
{
	char path[PATH_MAX], dir[PATH_MAX];

	join(path, f->root, rel);
	strcpy(dir, path);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	assert_int_equal(symlink(target, path), 0);
}

static void put_dir(const struct fixture *f, const char *rel)
{
	char path[PATH_MAX];

	join(path, f->root, rel);
	mkdir_p(path);
}

static bool exists(const struct fixture *f, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	join(path, f->root, rel);
	return stat(path, &st) == 0;
}

/* The real path kheaders should report for root/@rel. */
static void expect_path(const struct fixture *f, const char *got, const char *rel)
{
	char want[PATH_MAX];

	join(want, f->root, rel);
	assert_string_equal(got, want);
}

/*
 * Debian's split packages for @ver ("6.1.0-56"): the amd64 arch half with
 * generated headers, .config, a Makefile and a scripts symlink; the common
 * half with kconfig.h, arch/x86/include/asm, its own Makefile and scripts
 * link to the same kbuild directory.
 */
static void put_debian(const struct fixture *f, const char *ver)
{
	char rel[PATH_MAX], target[PATH_MAX];

	put_dir(f, "usr/lib/linux-kbuild/scripts/basic");

	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-amd64/.config", ver);
	put_file(f, rel, "CONFIG_X86_64=y\n");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-amd64/Makefile", ver);
	put_file(f, rel, "include arch-half\n");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-amd64/include/generated/autoconf.h",
		 ver);
	put_file(f, rel, "#define CONFIG_X86_64 1\n");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-amd64/include/config/auto.conf", ver);
	put_file(f, rel, "CONFIG_X86_64=y\n");
	snprintf(rel, sizeof(rel),
		 "usr/src/linux-headers-%s-amd64/arch/x86/include/generated/asm/syscalls_64.h",
		 ver);
	put_file(f, rel, "/* generated */\n");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-amd64/scripts", ver);
	put_link(f, rel, "../../lib/linux-kbuild/scripts");

	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-common/Makefile", ver);
	put_file(f, rel, "common half\n");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-common/include/linux/kconfig.h", ver);
	put_file(f, rel, "#include <generated/autoconf.h>\n");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-common/include/linux/sched.h", ver);
	put_file(f, rel, "struct task_struct;\n");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-common/arch/x86/include/asm/ptrace.h",
		 ver);
	put_file(f, rel, "struct pt_regs;\n");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-common/scripts", ver);
	put_link(f, rel, "../../lib/linux-kbuild/scripts");

	/* Debian's links are absolute: kheaders must resolve them inside the root. */
	snprintf(rel, sizeof(rel), "lib/modules/%s-amd64/build", ver);
	snprintf(target, sizeof(target), "/usr/src/linux-headers-%s-amd64", ver);
	put_link(f, rel, target);
	snprintf(rel, sizeof(rel), "lib/modules/%s-amd64/source", ver);
	snprintf(target, sizeof(target), "/usr/src/linux-headers-%s-common", ver);
	put_link(f, rel, target);
}

/* A whole, configured tree at root/@rel. */
static void put_unsplit(const struct fixture *f, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/include/linux/kconfig.h", rel);
	put_file(f, path, "#include <generated/autoconf.h>\n");
	snprintf(path, sizeof(path), "%s/include/generated/autoconf.h", rel);
	put_file(f, path, "#define CONFIG_X86_64 1\n");
	snprintf(path, sizeof(path), "%s/.config", rel);
	put_file(f, path, "CONFIG_X86_64=y\n");
}

/* Looks configured, lacks kconfig.h: unusable. */
static void put_broken(const struct fixture *f, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/include/generated/autoconf.h", rel);
	put_file(f, path, "#define CONFIG_X86_64 1\n");
	snprintf(path, sizeof(path), "%s/.config", rel);
	put_file(f, path, "CONFIG_X86_64=y\n");
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char root[PATH_MAX];
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/unit-kheaders-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	/* Compare against real paths: TMPDIR itself may sit behind a symlink. */
	join(root, f->dir, "root");
	join(f->tmp, f->dir, "tmp");
	if (mkdir(root, 0755) < 0 || mkdir(f->tmp, 0755) < 0 || !realpath(root, f->root))
		return -1;
	unsetenv("BCC_KERNEL_SOURCE");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_entry, 16, FTW_PHYS | FTW_DEPTH);
	free(f);
	unsetenv("BCC_KERNEL_SOURCE");
	return 0;
}

/* ---- kheaders_find ---- */

static void test_exact_native_preferred(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;

	put_debian(f, "6.1.0-56");
	put_unsplit(f, "usr/src/linux-6.18.44");
	put_unsplit(f, "lib/modules/" RUNNING "/build");

	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	assert_string_equal(kh.release, RUNNING);
	expect_path(f, kh.build, "lib/modules/" RUNNING "/build");
	assert_string_equal(kh.source, "");
	assert_true(kh.exact);
	assert_true(kh.native);
}

static void test_exact_split_in_lib_modules_is_native(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;

	put_debian(f, "6.1.0-56");
	assert_int_equal(kheaders_find(f->root, "6.1.0-56-amd64", &kh), 0);
	assert_string_equal(kh.release, "6.1.0-56-amd64");
	expect_path(f, kh.build, "usr/src/linux-headers-6.1.0-56-amd64");
	expect_path(f, kh.source, "usr/src/linux-headers-6.1.0-56-common");
	assert_true(kh.exact);
	assert_true(kh.native);
}

static void test_exact_in_usr_src_is_not_native(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;
	char path[PATH_MAX];

	put_debian(f, "6.1.0-56");
	/* The package is installed, but /lib/modules lacks the links. */
	join(path, f->root, "lib/modules/6.1.0-56-amd64/build");
	assert_int_equal(unlink(path), 0);

	assert_int_equal(kheaders_find(f->root, "6.1.0-56-amd64", &kh), 0);
	expect_path(f, kh.build, "usr/src/linux-headers-6.1.0-56-amd64");
	expect_path(f, kh.source, "usr/src/linux-headers-6.1.0-56-common");
	assert_true(kh.exact);
	assert_false(kh.native);
}

static void test_exact_beats_closer_looking(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;

	put_unsplit(f, "usr/src/linux-6.18.44");
	put_unsplit(f, "usr/src/linux-headers-" RUNNING);
	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	expect_path(f, kh.build, "usr/src/linux-headers-" RUNNING);
	assert_true(kh.exact);
	assert_false(kh.native);
}

static void test_closest_version(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;

	put_debian(f, "5.10.0-30");
	put_debian(f, "6.1.0-56");
	put_unsplit(f, "usr/src/linux-7.2.0");
	/* Closest of all, but unusable. */
	put_broken(f, "usr/src/linux-headers-6.17.0-1-amd64");
	put_link(f, "lib/modules/6.17.0-1-amd64/build", "/usr/src/linux-headers-6.17.0-1-amd64");

	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	assert_string_equal(kh.release, "6.1.0-56-amd64");
	expect_path(f, kh.build, "usr/src/linux-headers-6.1.0-56-amd64");
	expect_path(f, kh.source, "usr/src/linux-headers-6.1.0-56-common");
	assert_false(kh.exact);
	assert_false(kh.native);
}

static void test_split_pairing_in_usr_src_only(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;
	char path[PATH_MAX];

	put_debian(f, "6.1.0-56");
	join(path, f->root, "lib/modules");
	nftw(path, rm_entry, 16, FTW_PHYS | FTW_DEPTH);

	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	assert_string_equal(kh.release, "6.1.0-56-amd64");
	expect_path(f, kh.build, "usr/src/linux-headers-6.1.0-56-amd64");
	expect_path(f, kh.source, "usr/src/linux-headers-6.1.0-56-common");
	assert_false(kh.exact);
}

static void test_unsplit_tree(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;

	put_unsplit(f, "usr/src/linux-5.15.3");
	put_broken(f, "usr/src/linux-headers-6.18.0-amd64");
	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	assert_string_equal(kh.release, "5.15.3");
	expect_path(f, kh.build, "usr/src/linux-5.15.3");
	assert_string_equal(kh.source, "");
	assert_false(kh.exact);
}

static void test_configured_beats_bare_source(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;

	put_debian(f, "6.1.0-56");
	/* Closer, but without generated headers it cannot compile. */
	put_file(f, "usr/src/linux-6.18.44/include/linux/kconfig.h", "");
	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	assert_string_equal(kh.release, "6.1.0-56-amd64");
}

static void test_none(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;

	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), -ENOENT);

	put_broken(f, "usr/src/linux-headers-6.1.0-56-amd64");
	put_link(f, "lib/modules/" RUNNING "/build", "/usr/src/linux-headers-6.1.0-56-amd64");
	/* A common half alone: kconfig.h, but never a tree of its own. */
	put_file(f, "usr/src/linux-headers-5.10.0-30-common/include/linux/kconfig.h", "");
	put_dir(f, "usr/src/linux-kbuild-6.1/scripts");
	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), -ENOENT);
}

static void test_bad_root(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;
	char path[PATH_MAX];

	join(path, f->root, "missing");
	assert_int_equal(kheaders_find(path, RUNNING, &kh), -ENOENT);
	assert_int_equal(kheaders_find(NULL, RUNNING, &kh), -EINVAL);
}

/* ---- kheaders_distance ---- */

static void test_distance(void **state)
{
	(void)state;
	assert_int_equal(kheaders_distance(RUNNING, RUNNING), 0);
	assert_int_equal(kheaders_distance("6.18.44", "6.18.44-fc-v857"), 0);
	/* Numeric, not lexical: 6.1 is older and farther than 6.17. */
	assert_true(kheaders_distance(RUNNING, "6.17.0-1-amd64") <
		    kheaders_distance(RUNNING, "6.1.0-56-amd64"));
	assert_true(kheaders_distance(RUNNING, "6.1.0-56-amd64") <
		    kheaders_distance(RUNNING, "5.10.0-30-amd64"));
	assert_true(kheaders_distance(RUNNING, "6.1.0-56-amd64") <
		    kheaders_distance(RUNNING, "7.2.0"));
	assert_true(kheaders_distance(RUNNING, "6.18.40") < kheaders_distance(RUNNING, "6.17.0"));
	/* The Debian ABI number counts, below the patch level. */
	assert_true(kheaders_distance("6.1.0-58-amd64", "6.1.0-56-amd64") <
		    kheaders_distance("6.1.0-58-amd64", "6.1.0-50-amd64"));
	assert_true(kheaders_distance("6.1.0-58-amd64", "6.1.0-56-amd64") <
		    kheaders_distance("6.1.0-58-amd64", "6.1.1"));
	/* Equally far: the older one wins. */
	assert_true(kheaders_distance("6.10.0", "6.9.0") < kheaders_distance("6.10.0", "6.11.0"));
	assert_true(kheaders_distance("6.1.5", "6.1.4") < kheaders_distance("6.1.5", "6.1.6"));
	/* Garbage is farthest. */
	assert_int_equal(kheaders_distance(RUNNING, "kbuild-6.1"), LONG_MAX);
	assert_int_equal(kheaders_distance("", "6.1.0"), LONG_MAX);
	assert_true(kheaders_distance(RUNNING, "99999.0") < LONG_MAX);
}

/* ---- kheaders_prepare / kheaders_cleanup ---- */

/* merged/@rel must resolve to root/@want. */
static void expect_resolves(const struct fixture *f, const char *merged, const char *rel,
			    const char *want)
{
	char path[PATH_MAX], real[PATH_MAX], expected[PATH_MAX];

	join(path, merged, rel);
	assert_non_null(realpath(path, real));
	join(expected, f->root, want);
	assert_string_equal(real, expected);
}

static void expect_symlink(const char *merged, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	join(path, merged, rel);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void expect_real_dir(const char *merged, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	join(path, merged, rel);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void test_prepare_merges_split_halves(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;
	char merged[PATH_MAX];
	struct stat st;
	const char *env;

	put_debian(f, "6.1.0-56");
	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	assert_false(kh.native);

	assert_int_equal(kheaders_prepare(&kh, f->tmp, merged, sizeof(merged)), 0);
	assert_int_equal(strncmp(merged, f->tmp, strlen(f->tmp)), 0);
	assert_int_equal(strncmp(strrchr(merged, '/') + 1, "bpfd-kheaders-", 14), 0);
	env = getenv("BCC_KERNEL_SOURCE");
	assert_non_null(env);
	assert_string_equal(env, merged);

	/* What BCC's include paths and -include need, from both halves. */
	expect_resolves(f, merged, "include/generated/autoconf.h",
			"usr/src/linux-headers-6.1.0-56-amd64/include/generated/autoconf.h");
	expect_resolves(f, merged, "include/config/auto.conf",
			"usr/src/linux-headers-6.1.0-56-amd64/include/config/auto.conf");
	expect_resolves(f, merged, "include/linux/kconfig.h",
			"usr/src/linux-headers-6.1.0-56-common/include/linux/kconfig.h");
	expect_resolves(f, merged, "include/linux/sched.h",
			"usr/src/linux-headers-6.1.0-56-common/include/linux/sched.h");
	expect_resolves(f, merged, "arch/x86/include/generated/asm/syscalls_64.h",
			"usr/src/linux-headers-6.1.0-56-amd64/arch/x86/include/generated/asm/"
			"syscalls_64.h");
	expect_resolves(f, merged, "arch/x86/include/asm/ptrace.h",
			"usr/src/linux-headers-6.1.0-56-common/arch/x86/include/asm/ptrace.h");
	/* The arch half wins a conflict of files. */
	expect_resolves(f, merged, "Makefile", "usr/src/linux-headers-6.1.0-56-amd64/Makefile");
	/* Both scripts links reach the same directory: one link, not a merged copy. */
	expect_symlink(merged, "scripts");
	expect_resolves(f, merged, "scripts/basic", "usr/lib/linux-kbuild/scripts/basic");
	/* Directories both halves have are real ones; the rest are links into one half. */
	expect_real_dir(merged, "include");
	expect_real_dir(merged, "arch/x86/include");
	expect_symlink(merged, "include/linux");
	expect_symlink(merged, "arch/x86/include/generated");

	kheaders_cleanup(merged);
	assert_int_equal(lstat(merged, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* Nothing behind the links was touched. */
	assert_true(exists(f, "usr/src/linux-headers-6.1.0-56-amd64/include/generated/autoconf.h"));
	assert_true(exists(f, "usr/src/linux-headers-6.1.0-56-common/include/linux/kconfig.h"));
	assert_true(exists(f, "usr/src/linux-headers-6.1.0-56-common/arch/x86/include/asm/"
			      "ptrace.h"));
	assert_true(exists(f, "usr/lib/linux-kbuild/scripts/basic"));
	assert_true(exists(f, "usr/src/linux-headers-6.1.0-56-amd64/Makefile"));
}

static void test_prepare_merges_distinct_linked_dirs(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;
	char merged[PATH_MAX];

	put_debian(f, "6.1.0-56");
	/* tools/ links to different directories in the two halves: their union. */
	put_file(f, "opt/a-tools/only-arch", "");
	put_file(f, "opt/c-tools/only-common", "");
	put_link(f, "usr/src/linux-headers-6.1.0-56-amd64/tools", "../../../opt/a-tools");
	put_link(f, "usr/src/linux-headers-6.1.0-56-common/tools", "../../../opt/c-tools");

	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	assert_int_equal(kheaders_prepare(&kh, f->tmp, merged, sizeof(merged)), 0);
	expect_resolves(f, merged, "tools/only-arch", "opt/a-tools/only-arch");
	expect_resolves(f, merged, "tools/only-common", "opt/c-tools/only-common");
	kheaders_cleanup(merged);
	assert_true(exists(f, "opt/a-tools/only-arch"));
	assert_true(exists(f, "opt/c-tools/only-common"));
}

static void test_prepare_native_does_nothing(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;
	char merged[PATH_MAX] = "junk";

	put_debian(f, "6.1.0-56");
	assert_int_equal(kheaders_find(f->root, "6.1.0-56-amd64", &kh), 0);
	assert_true(kh.native);
	assert_int_equal(kheaders_prepare(&kh, f->tmp, merged, sizeof(merged)), 0);
	assert_string_equal(merged, "");
	assert_null(getenv("BCC_KERNEL_SOURCE"));
	kheaders_cleanup(merged);
}

static void test_prepare_unsplit_sets_env_only(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;
	char merged[PATH_MAX] = "junk";

	put_unsplit(f, "usr/src/linux-6.12.1");
	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	assert_int_equal(kheaders_prepare(&kh, f->tmp, merged, sizeof(merged)), 0);
	assert_string_equal(merged, "");
	assert_non_null(getenv("BCC_KERNEL_SOURCE"));
	assert_string_equal(getenv("BCC_KERNEL_SOURCE"), kh.build);
}

static void test_prepare_errors(void **state)
{
	struct fixture *f = *state;
	struct kheaders kh;
	char merged[16];
	char path[PATH_MAX];

	put_debian(f, "6.1.0-56");
	assert_int_equal(kheaders_find(f->root, RUNNING, &kh), 0);
	/* No room for the directory's name. */
	assert_int_equal(kheaders_prepare(&kh, f->tmp, merged, sizeof(merged)), -ENAMETOOLONG);
	assert_string_equal(merged, "");
	join(path, f->tmp, "missing");
	{
		char big[PATH_MAX];

		assert_true(kheaders_prepare(&kh, path, big, sizeof(big)) < 0);
		assert_string_equal(big, "");
	}
	assert_null(getenv("BCC_KERNEL_SOURCE"));
}

static void test_cleanup_refuses_foreign_dirs(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	put_file(f, "keep/file", "");
	join(path, f->root, "keep");
	kheaders_cleanup(path);
	assert_true(exists(f, "keep/file"));

	/* A link named like ours is not followed. */
	put_link(f, "bpfd-kheaders-link", "keep");
	join(path, f->root, "bpfd-kheaders-link");
	kheaders_cleanup(path);
	assert_true(exists(f, "keep/file"));

	kheaders_cleanup("");
	kheaders_cleanup(NULL);
	kheaders_cleanup("bpfd-kheaders-relative");
}

int main(void)
{
	const struct CMUnitTest find[] = {
		cmocka_unit_test_setup_teardown(test_exact_native_preferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_split_in_lib_modules_is_native, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exact_in_usr_src_is_not_native, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exact_beats_closer_looking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closest_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_pairing_in_usr_src_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unsplit_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configured_beats_bare_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_root, setup, teardown),
	};
	const struct CMUnitTest distance[] = {
		cmocka_unit_test(test_distance),
	};
	const struct CMUnitTest prepare[] = {
		cmocka_unit_test_setup_teardown(test_prepare_merges_split_halves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_merges_distinct_linked_dirs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prepare_native_does_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_unsplit_sets_env_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prepare_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_refuses_foreign_dirs, setup, teardown),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("kheaders_find", find, NULL, NULL);
	failed += cmocka_run_group_tests_name("kheaders_distance", distance, NULL, NULL);
	failed += cmocka_run_group_tests_name("kheaders_prepare", prepare, NULL, NULL);
	return failed ? 1 : 0;
}
