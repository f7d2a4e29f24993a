/* SPDX-License-Identifier: MIT */
#ifndef BPFD_ACTIONS_SYSLOG_H
#define BPFD_ACTIONS_SYSLOG_H

/*
 * The syslog action's messages (RFC 5424) and their framing on a stream
 * (RFC 6587, octet counting), apart from its sockets so that unit tests
 * check them byte by byte (tests/unit_syslog.c). docs/actions.md shows a
 * message.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "event.h"
#include "lib/strbuf.h"

enum {
	/* RFC 5424 §6.1: receivers should take 2048 bytes; the header and SD fit in it. */
	SYSLOG_SIZE_MIN = 2048,
	SYSLOG_SIZE_DEFAULT = 8192,
	SYSLOG_SIZE_MAX = 65000,	/* a UDP datagram carries at most 65,507 */
	SYSLOG_HOSTNAME_MAX = 255,
	SYSLOG_MSGID_MAX = 32,
	SYSLOG_SD_NAME_MAX = 32,
};

/* The SD-ID of the element with the event's key fields (enterprise number 32473: RFC 5612). */
#define SYSLOG_SD_ID "bpfd@32473"

struct syslog_format {
	int facility;		/* 0 (kern) to 23 (local7) */
	int severity;		/* 0 (emerg) to 7 (debug), or SYSLOG_SEVERITY_RULE */
	pid_t procid;		/* the daemon's pid */
	bool text;		/* MSG is the text line, not the JSON object */
	size_t max_size;	/* the whole message, framing not included */
};

/* "daemon", "local3" or a number: the facility's code, or -1. */
int syslog_facility_parse(const char *s);
/*
 * Severity "rule": the event's priority (docs/rules.md) on the syslog
 * ladder (critical is crit, error err, the others their own names);
 * warning for an event no rule matched.
 */
enum { SYSLOG_SEVERITY_RULE = 8 };

/* "warning", "err", a number or "rule": the severity's code, or -1. */
int syslog_severity_parse(const char *s);
/* The severity of a message about @ev under @f. */
int syslog_severity_of(const struct syslog_format *f, const struct event *ev);

/* Whether @name may be an SD-NAME: 1 to 32 printable US-ASCII, none of = SP ] ". */
bool syslog_sd_name_valid(const char *name);

/*
 * Appends @len bytes of @s as a PARAM-VALUE (without its quotes): `"`,
 * `\` and `]` escaped with a backslash as RFC 5424 §6.3.3 says; control
 * bytes and bytes that are not UTF-8 written as `\xNN` (a backslash before
 * any other character stays as it is, so receivers keep the four
 * characters). 0 or -ENOMEM.
 */
int syslog_add_param_value(struct strbuf *sb, const char *s, size_t len);

/*
 * Appends to @out the RFC 5424 message for @ev matched by @rule (NULL: a
 * tracer without rules), whose MSG is @msg (the JSON or the text line):
 *
 *   <PRI>1 TIMESTAMP HOSTNAME bpfd PROCID MSGID [bpfd@32473 ...] MSG
 *
 * At most f->max_size bytes: a longer MSG is cut (on a UTF-8 character
 * boundary) and the SD element says `truncated="ORIGINAL_LENGTH"`;
 * *@truncated is set then. 0, -ENOMEM, or -E2BIG when even the header and
 * the SD do not fit.
 */
int syslog_format_message(const struct syslog_format *f, const struct event *ev,
			  const char *rule, const char *msg, size_t msg_len, struct strbuf *out,
			  bool *truncated);

/* Appends "LEN SP" then @len bytes of @msg: one frame on a stream (RFC 6587 §3.4.1). */
int syslog_frame_octets(struct strbuf *out, const char *msg, size_t len);

#endif
