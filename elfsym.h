/* SPDX-License-Identifier: MIT */
#ifndef BPFD_ELFSYM_H
#define BPFD_ELFSYM_H

/*
 * Where a function lies in an ELF file, for attaching a uprobe to it: the
 * file offset of symbol @name (from .symtab or .dynsym), through the
 * PT_LOAD segment that holds it. 64-bit little-endian ELF only.
 * 0, -ENOENT (no such function), or another negative errno.
 */

#include <stdint.h>

int elf_symbol_offset(const char *path, const char *name, uint64_t *offset);

#endif
