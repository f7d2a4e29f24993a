/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_OPEN_FLAGS_H
#define BPFD_TRACERS_OPEN_FLAGS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Symbolic open(2) flags, "O_RDONLY|O_CLOEXEC"; bits without a name are
 * appended in hex ("|0x40000000"). Returns the length written (truncated
 * to @size - 1, always NUL-terminated).
 */
size_t open_flags_format(uint64_t flags, char *buf, size_t size);

#endif
