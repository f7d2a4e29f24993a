// SPDX-License-Identifier: MIT
/*
 * stdout: one line per event on the daemon's standard output, every field
 * and the data: the text form `bpfd trace` prints, or JSON lines when the
 * config says `output = json`.
 *
 * Lines are buffered and written when the event loop goes idle, so a burst
 * of events costs one write per burst rather than one per event. Every
 * instance shares the one standard output.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../action.h"
#include "../strbuf.h"

enum { STDOUT_BUFFER_MAX = 1 << 20 };

static struct strbuf stdout_pending = STRBUF_INIT;

static void stdout_flush(struct action *a)
{
	size_t off = 0;
	ssize_t n;

	(void)a;
	while (off < stdout_pending.len) {
		n = write(STDOUT_FILENO, stdout_pending.buf + off, stdout_pending.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	/* An unwritable stdout (closed, EAGAIN) drops the lines rather than grow. */
	strbuf_reset(&stdout_pending);
}

/*
 * Formatting a line costs about as much as the rest of the pipeline: skip
 * it when standard output is /dev/null (a daemon started that way wants
 * only subscribers and other actions).
 */
static bool stdout_discards(void)
{
	static int discards = -1;
	struct stat st;

	if (discards < 0)
		discards = fstat(STDOUT_FILENO, &st) == 0 && S_ISCHR(st.st_mode) &&
			   st.st_rdev == makedev(1, 3);
	return discards;
}

static int stdout_run(struct action *a, const struct action_input *in)
{
	int err;

	if (stdout_discards())
		return 0;
	if (a->env->output == CONFIG_OUTPUT_JSON)
		err = in->json ? strbuf_add(&stdout_pending, in->json, in->json_len)
			       : event_to_json(in->ev, &stdout_pending);
	else
		err = event_to_text(in->ev, &stdout_pending);
	if (!err)
		err = strbuf_addch(&stdout_pending, '\n');
	if (stdout_pending.len >= STDOUT_BUFFER_MAX)
		stdout_flush(a);
	return err;
}

const struct action_ops stdout_action = {
	.name = "stdout",
	.summary = "print the event on the daemon's standard output (text, or JSON lines)",
	.run = stdout_run,
	.flush = stdout_flush,
};
