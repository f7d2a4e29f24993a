/* SPDX-License-Identifier: MIT */
#ifndef BPFD_ELFSYM_H
#define BPFD_ELFSYM_H

/*
 * Where a function lies in an ELF file, for attaching a uprobe to it: the
 * file offset of symbol @name (from .symtab or .dynsym), through the
 * PT_LOAD segment that holds it. 64-bit little-endian ELF only.
 *
 * The file may belong to someone hostile: it is read with pread() into
 * buffers of bounded size (never mapped, so a truncation while reading is
 * a short read, not SIGBUS), and at most ELF_READ_MAX bytes in all are
 * read, whatever its headers claim.
 *
 * 0, -ENOENT (no such function), -EFBIG (the tables to read exceed the
 * budget), -ENOEXEC (not a usable ELF file), or another negative errno.
 */

#include <stdint.h>

enum { ELF_READ_MAX = 16 << 20 };

int elf_symbol_offset(const char *path, const char *name, uint64_t *offset);

/* The same, reading from @fd (which stays open) rather than a path. */
int elf_symbol_offset_fd(int fd, const char *name, uint64_t *offset);

#endif
