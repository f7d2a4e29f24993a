/* SPDX-License-Identifier: MIT */
#ifndef BPFD_REPLIES_H
#define BPFD_REPLIES_H

/*
 * The replies that need no daemon (docs/protocol.md §4.1 and §4.3): the
 * daemon's `version` and `tracers` ops send them, and the client builds
 * the same objects itself (`bpfd tracers` needs no daemon, `bpfd version`
 * prints both halves), so that the two print the same.
 */

#include <jansson.h>

/* {"ok":true,"tracers":[...]} from the compiled-in table. */
json_t *reply_tracers(void);

/* {"ok":true,"version":...,"commit":...,"bcc":@bcc,"kernel":...}; @bcc NULL: the build's. */
json_t *reply_version(const char *bcc);

#endif
