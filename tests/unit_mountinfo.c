// SPDX-License-Identifier: MIT
/* mountinfo lines as the kernel writes them: docker's overlays, escapes, odd forms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/mountinfo.h"

static void test_finds_the_line(void **state)
{
	char info[] = "22 1 0:21 / /proc rw - proc proc rw\n"
		      "1224 1223 0:40 / / rw,relatime - overlay overlay rw,lowerdir=/l\n"
		      "1225 1224 0:22 / /sys ro - sysfs sysfs ro\n";
	char *line;

	(void)state;
	line = mountinfo_line(info, 1224);
	assert_non_null(line);
	assert_int_equal(strncmp(line, "1224 1223", 9), 0);
	assert_null(mountinfo_line(info, 122));
}

static void test_path_in_mount(void **state)
{
	char root[] = "1224 1223 0:40 / / rw - overlay overlay rw";
	char sub[] = "70 48 0:40 /usr /mnt/with\\040space rw - ext4 /dev/vda rw";
	char other[] = "70 48 0:40 / /mnt rw - ext4 /dev/vda rw";
	char other2[] = "70 48 0:40 / /mnt rw - ext4 /dev/vda rw";
	char out[64];

	(void)state;
	assert_int_equal(mountinfo_path_in_mount(root, "/usr/bin/bash", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/bash");
	/* The mount's own root, and a mount point with an escaped space. */
	assert_int_equal(mountinfo_path_in_mount(sub, "/mnt/with space/bin/bash", out, sizeof(out)),
			 0);
	assert_string_equal(out, "/usr/bin/bash");
	/* "/mntx" is not under "/mnt". */
	assert_int_equal(mountinfo_path_in_mount(other, "/mntx/bash", out, sizeof(out)), -EINVAL);
	assert_int_equal(mountinfo_path_in_mount(other2, "/mnt/a-very-long-name-that-does-not-fit"
						 "-in-the-buffer-given-here", out, 16),
			 -ENAMETOOLONG);
}

static void test_docker_layers(void **state)
{
	char line[] = "1224 1223 0:40 / / rw,relatime master:1 - overlay overlay "
		      "rw,lowerdir=/var/lib/docker/overlay2/l/AB:/var/lib/docker/overlay2/l/CD,"
		      "upperdir=/var/lib/docker/overlay2/x/diff,workdir=/var/lib/docker/overlay2/x/work,"
		      "nouserxattr";
	char *layers[8];

	(void)state;
	assert_int_equal(mountinfo_overlay_layers(line, layers, 8), 3);
	assert_string_equal(layers[0], "/var/lib/docker/overlay2/x/diff");
	assert_string_equal(layers[1], "/var/lib/docker/overlay2/l/AB");
	assert_string_equal(layers[2], "/var/lib/docker/overlay2/l/CD");
}

static void test_escapes_and_odd_forms(void **state)
{
	char escaped[] = "1 0 0:40 / / rw - overlay o rw,lowerdir=/a\\054b:/c\\:d:/e\\040f";
	char added[] = "1 0 0:40 / / rw - overlay o rw,lowerdir+=/a,lowerdir+=/b";
	char data_only[] = "1 0 0:40 / / rw - overlay o rw,lowerdir=/a::/b";
	char datadir[] = "1 0 0:40 / / rw - overlay o rw,lowerdir+=/a,datadir+=/b";
	char not_overlay[] = "1 0 0:40 / / rw - ext4 /dev/vda rw";
	char many[] = "1 0 0:40 / / rw - overlay o rw,lowerdir=/a:/b:/c";
	char *layers[8];

	(void)state;
	assert_int_equal(mountinfo_overlay_layers(escaped, layers, 8), 3);
	assert_string_equal(layers[0], "/a,b");
	assert_string_equal(layers[1], "/c:d");
	assert_string_equal(layers[2], "/e f");
	assert_int_equal(mountinfo_overlay_layers(added, layers, 8), 2);
	assert_string_equal(layers[1], "/b");
	assert_int_equal(mountinfo_overlay_layers(data_only, layers, 8), -EINVAL);
	assert_int_equal(mountinfo_overlay_layers(datadir, layers, 8), -EINVAL);
	assert_int_equal(mountinfo_overlay_layers(not_overlay, layers, 8), -EINVAL);
	assert_int_equal(mountinfo_overlay_layers(many, layers, 2), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_the_line),
		cmocka_unit_test(test_path_in_mount),
		cmocka_unit_test(test_docker_layers),
		cmocka_unit_test(test_escapes_and_odd_forms),
	};

	return cmocka_run_group_tests_name("mountinfo", tests, NULL, NULL);
}
