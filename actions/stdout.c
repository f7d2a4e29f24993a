// SPDX-License-Identifier: MIT
/*
 * stdout: one line per event on the daemon's standard output, every field
 * and the data (the text form `bpfd trace` prints).
 *
 * Lines are buffered and written when the event loop goes idle, so a burst
 * of events costs one write per burst rather than one per event.
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

static void stdout_flush(void)
{
	size_t off = 0;
	ssize_t n;

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

static int stdout_run(const struct event *ev)
{
	int err;

	if (stdout_discards())
		return 0;
	err = event_to_text(ev, &stdout_pending);

	if (!err)
		err = strbuf_addch(&stdout_pending, '\n');
	if (stdout_pending.len >= STDOUT_BUFFER_MAX)
		stdout_flush();
	return err;
}

const struct action_ops stdout_action = {
	.name = "stdout",
	.run = stdout_run,
	.flush = stdout_flush,
};
