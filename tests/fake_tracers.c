// SPDX-License-Identifier: MIT
/*
 * A tracer table for tests and benchmarks of the rules: the real tracers'
 * names and data keys, without their BPF programs (tracers.c pulls in the
 * generated program sources).
 */
#include <stddef.h>

#include "tracer.h"

static const char *const exec_keys[] = { "filename", "argument", "resolved", "interpreter",
					  "fileless", "stdin", "stdout", "stderr", "argv",
					  "syscall", "command", "returnval", NULL };
static const char *const open_keys[] = { "filename", "argument", "resolved", "identity",
					  "flags", "syscall", "command", "returnval", NULL };
static const char *const bash_keys[] = { "command", NULL };
static const char *const dob_keys[] = { "filename", "path", "reason", "command", "returnval",
					NULL };
static const char *const tcpconnect_keys[] = { "saddr", "sport", "daddr", "dport", "family",
						"outcome", "syscall", "command", "returnval", NULL };
static const char *const tcpaccept_keys[] = { "saddr", "sport", "daddr", "dport", "family",
					       "event", "syscall", "command", "returnval", NULL };
static const char *const tcpdrop_keys[] = { "saddr", "sport", "daddr", "dport", "family",
					     "reason", "tcpflags", "state", "count", "command",
					     NULL };
static const char *const address_keys[] = { "saddr", "daddr", NULL };
static const char *const port_keys[] = { "sport", "dport", NULL };
static const struct tracer_hook no_hooks[] = { { 0 } };

static const struct tracer_ops fake_exec = { .name = "exec", .keys = exec_keys,
					     .hooks = no_hooks };
static const struct tracer_ops fake_open = { .name = "open", .keys = open_keys,
					     .hooks = no_hooks };
static const struct tracer_option bash_options[] = {
	{ "bash", "PATH", "bash binary for bashreadline", "/bin/bash" },
	{ 0 },
};
static const struct tracer_ops fake_bash = { .name = "bashreadline", .keys = bash_keys,
					     .hooks = no_hooks, .options = bash_options };
static const struct tracer_ops fake_dob = { .name = "dockeropenbreakout", .keys = dob_keys,
					    .hooks = no_hooks };

#define FAKE_NET(id, tracer_name)                                                          \
	static const struct tracer_ops fake_##id = { .name = tracer_name,                     \
						     .keys = id##_keys,                       \
						     .address_keys = address_keys,            \
						     .port_keys = port_keys,                  \
						     .hooks = no_hooks }
FAKE_NET(tcpconnect, "tcpconnect");
FAKE_NET(tcpaccept, "tcpaccept");
FAKE_NET(tcpdrop, "tcpdrop");

const struct tracer_ops *const tracer_table[] = {
	&fake_exec, &fake_open, &fake_bash, &fake_dob, &fake_tcpconnect, &fake_tcpaccept,
	&fake_tcpdrop, NULL,
};
const size_t tracer_count = 7;
