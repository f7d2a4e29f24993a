// SPDX-License-Identifier: MIT
/* bashreadline: lines typed into interactive bash shells (docs/tracers.md). */
#include <errno.h>
#include <string.h>

#include "../tracer.h"
#include "bashreadline.h"
#include "bashreadline_bpf.h"

#define BASHREADLINE_DEFAULT_BASH "/bin/bash"
#define BASHREADLINE_TRUNCATED_MARK " [...]"

static const struct tracer_hook bashreadline_hooks[] = {
	{ TRACER_HOOK_URETPROBE, "readline", "bpfd_bashreadline_ret" },
	{ 0 },
};

/* data.command is the line typed, as in the original bpfd; no returnval. */
static const char *const bashreadline_keys[] = { "command", NULL };

static const char *bashreadline_binary(const struct tracer_config *cfg)
{
	return cfg && cfg->bash_path && *cfg->bash_path ? cfg->bash_path
							: BASHREADLINE_DEFAULT_BASH;
}

static int bashreadline_decode(const void *raw, size_t size, struct event *ev)
{
	const struct bashreadline_record *r = raw;
	size_t head = offsetof(struct bashreadline_record, line);
	size_t len, mark;
	char *out;

	if (size < head || r->line_len > sizeof(r->line) || r->line_len > size - head)
		return -EINVAL;
	len = strnlen(r->line, r->line_len);
	if (!(r->flags & BASHREADLINE_TRUNCATED))
		return event_add_data(ev, "command", r->line, len);
	mark = strlen(BASHREADLINE_TRUNCATED_MARK);
	out = event_scratch_alloc(ev, len + mark + 1);
	if (!out)
		return -ENOSPC;
	memcpy(out, r->line, len);
	memcpy(out + len, BASHREADLINE_TRUNCATED_MARK, mark + 1);
	return event_add_data(ev, "command", out, len + mark);
}

const struct tracer_ops bashreadline_tracer = {
	.name = "bashreadline",
	.description = "lines typed into interactive bash shells (uretprobe on readline)",
	.bpf_source = bpfd_bashreadline_bpf_source,
	.hooks = bashreadline_hooks,
	.keys = bashreadline_keys,
	.binary = bashreadline_binary,
	.decode = bashreadline_decode,
};
