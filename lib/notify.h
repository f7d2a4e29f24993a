/* SPDX-License-Identifier: MIT */
#ifndef BPFD_NOTIFY_H
#define BPFD_NOTIFY_H

/*
 * Readiness for service managers (systemd's Type=notify): a datagram such
 * as "READY=1" to the unix socket named by $NOTIFY_SOCKET ("@name" for an
 * abstract socket). Written from the protocol's description in
 * sd_notify(3); no libsystemd needed.
 */

/*
 * Sends @state ("READY=1\nSTATUS=...") when $NOTIFY_SOCKET is set.
 * 1 when sent, 0 when there is no socket to send to, a negative errno.
 */
int notify_send(const char *state);

#endif
