// SPDX-License-Identifier: MIT
/*
 * kill: SIGKILL to the event's process, through a pidfd and only when the
 * pid still names the process the event came from (proc.c).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "../action.h"
#include "../proc.h"

static int kill_run(struct action *a, const struct action_input *in)
{
	const struct event *ev = in->ev;
	int r = process_signal(ev->pid, ev->start_ns, SIGKILL, a->env->daemon_pid);

	if (r == -ESRCH)
		action_failed(a, "process %u (%s) is gone or its pid was reused: not signalled",
			      ev->pid, ev->command);
	else if (r == -EPERM)
		action_failed(a, "refusing to kill pid %u (pid 1 or bpfd itself)", ev->pid);
	else if (r < 0)
		action_failed(a, "pid %u: %s", ev->pid, strerror(-r));
	return 0;
}

const struct action_ops kill_action = {
	.name = "kill",
	.summary = "SIGKILL the event's process (never pid 1 or bpfd; safe against pid reuse)",
	.destructive = true,
	.run = kill_run,
};
