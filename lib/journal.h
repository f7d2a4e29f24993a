/* SPDX-License-Identifier: MIT */
#ifndef BPFD_JOURNAL_H
#define BPFD_JOURNAL_H

/*
 * The systemd journal (docs/config.md, `journal`): entries of KEY=VALUE
 * fields sent through libsystemd's sd_journal_sendv(). This file is the
 * only one that calls libsystemd, which it loads with dlopen() when the
 * journal is chosen: client commands, and daemons that do not use it,
 * never load it.
 *
 * A stalled journald must not stall the daemon: libsystemd's socket is
 * made non-blocking once opened (journal_open()), so that an entry that
 * finds journald's queue full is refused (-EAGAIN) rather than waited on.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

enum journal_mode { JOURNAL_AUTO, JOURNAL_ON, JOURNAL_OFF };

/*
 * Whether @fd is the stream systemd connected to the journal for this
 * service: JOURNAL_STREAM ("DEVICE:INODE") names it, as sd_journal's
 * documentation says to check with fstat().
 */
bool journal_stream_is(int fd);

/*
 * Chooses where the log and the `stdout` action go: the journal when
 * @mode is on, or auto and standard output or error is the journal stream
 * (journal_stream_is()); else nothing changes. Returns 1 when the journal
 * is used from now on, 0 when not, or a negative errno with the reason in
 * @err (libsystemd cannot be loaded: fatal for on, a warning for auto).
 */
int journal_open(enum journal_mode mode, char *err, size_t size);

/* Whether journal_open() chose the journal. */
bool journal_active(void);

/*
 * One entry of @n "KEY=VALUE" fields (a value may hold newlines). 0, -EAGAIN
 * when journald's queue is full (the entry is dropped), or a negative
 * errno. Entries while journald is not running are lost silently, as
 * sd_journal_sendv() does.
 */
int journal_send(const struct iovec *iov, size_t n);

/* PRIORITY= of the daemon's log levels (enum log_level). */
int journal_priority_of_level(int level);

#endif
