// SPDX-License-Identifier: MIT
/*
 * interrupt: SIGINT to the event's process, through a pidfd and only when
 * the pid still names the process the event came from (proc.c).
 */
#include <signal.h>

#include "action.h"

static int interrupt_run(struct action *a, const struct action_input *in)
{
	return action_signal_event(a, in->ev, SIGINT, "interrupt");
}

const struct action_ops interrupt_action = {
	.name = "interrupt",
	.summary = "SIGINT the event's process (never pid 1 or bpfd; safe against pid reuse)",
	.destructive = true,
	.run = interrupt_run,
};
