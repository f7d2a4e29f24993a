// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "lib/journal.h"

enum log_level log_max_level = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

/*
 * To the journal: the message with its PRIORITY, no time or level prefix
 * (the journal keeps both). 0, or a negative errno: then the line goes to
 * stderr, but for -EAGAIN (journald is not reading: the line is dropped,
 * as writing to its stream on stderr would block).
 */
static int log_journal(enum log_level level, const char *msg)
{
	char message[4200], priority[16];
	struct iovec iov[3];
	int n;

	n = snprintf(message, sizeof(message), "MESSAGE=%s", msg);
	iov[0] = (struct iovec){ .iov_base = message,
				 .iov_len = (size_t)n < sizeof(message) ? (size_t)n
									: sizeof(message) - 1 };
	n = snprintf(priority, sizeof(priority), "PRIORITY=%d", journal_priority_of_level(level));
	iov[1] = (struct iovec){ .iov_base = priority, .iov_len = (size_t)n };
	iov[2] = (struct iovec){ .iov_base = "SYSLOG_IDENTIFIER=bpfd", .iov_len = 22 };
	n = journal_send(iov, 3);
	return n == -EAGAIN ? 0 : n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[4096];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (level > log_max_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ bpfd %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (journal_active() && log_journal(level, line + n) == 0)
		return;
	/* One write per line, so that concurrent writers never interleave. */
	fprintf(stderr, "%s\n", line);
}
