// SPDX-License-Identifier: MIT
/*
 * kill: SIGKILL to the event's process, through a pidfd and only when the
 * pid still names the process the event came from (proc.c).
 */
#include <signal.h>

#include "action.h"

static int kill_run(struct action *a, const struct action_input *in)
{
	return action_signal_event(a, in->ev, SIGKILL, "kill");
}

const struct action_ops kill_action = {
	.name = "kill",
	.summary = "SIGKILL the event's process (never pid 1 or bpfd; safe against pid reuse)",
	.destructive = true,
	.run = kill_run,
};
