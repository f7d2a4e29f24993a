// SPDX-License-Identifier: MIT
#include "protocol/replies.h"

#include <stdio.h>
#include <sys/utsname.h>

#include "tracer.h"
#include "version.h"

json_t *reply_tracers(void)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < tracer_count; i++) {
		const struct tracer_ops *t = tracer_table[i];
		const struct tracer_hook *h;
		const char *const *k;
		json_t *hooks = json_array(), *keys = json_array();
		char hook[256];

		if (tracer_retired(i)) {
			json_decref(hooks);
			json_decref(keys);
			continue;
		}
		for (h = t->hooks; h->target; h++) {
			/* Part of the raw sys_exit hook listed beside it. */
			if (h->kind == TRACER_HOOK_TAIL_CALL)
				continue;
			if (h->kind == TRACER_HOOK_TRACEPOINT)
				snprintf(hook, sizeof(hook), "tracepoint:%s%s%s", h->target,
					 h->io_uring ? " (io_uring)" : "",
					 h->optional ? " (optional)" : "");
			else if (h->kind == TRACER_HOOK_RAW_TRACEPOINT)
				snprintf(hook, sizeof(hook), "raw_tracepoint:%s%s", h->target,
					 h->compat ? " (compat)" : "");
			else
				snprintf(hook, sizeof(hook), "%s:%s:%s",
					 h->kind == TRACER_HOOK_UPROBE ? "uprobe" : "uretprobe",
					 h->binary ? h->binary : t->binary ? t->binary(NULL) : "?",
					 h->target);
			json_array_append_new(hooks, json_string(hook));
		}
		for (k = t->keys; *k; k++)
			json_array_append_new(keys, json_string(*k));
		json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "name", t->name, "description",
				      t->description, "hooks", hooks, "keys", keys);

		/* A drop-in: where its program is, and why it cannot load. */
		if (o && t->source_path)
			json_object_set_new(o, "source", json_string(t->source_path));
		if (o && t->failed)
			json_object_set_new(o, "error", json_string(t->failed));
		json_array_append_new(list, o);
	}
	return json_pack("{s:b, s:o}", "ok", 1, "tracers", list);
}

json_t *reply_version(const char *bcc)
{
	struct utsname u;

	uname(&u);
	return json_pack("{s:b, s:s, s:s, s:s, s:s}", "ok", 1, "version", BPFD_VERSION, "commit",
			 BPFD_COMMIT, "bcc", bcc ? bcc : BPFD_BCC_BUILD_VERSION, "kernel",
			 u.release);
}
