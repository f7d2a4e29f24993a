/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CLIENT_H
#define BPFD_CLIENT_H

/* The client commands; each returns the process exit code (docs/bpfd.8). */

#include "cli/cli.h"

int cmd_version(const struct cli *cli);
int cmd_tracers(const struct cli *cli);
int cmd_status(const struct cli *cli);
int cmd_trace(const struct cli *cli);
int cmd_create(const struct cli *cli);
int cmd_rm(const struct cli *cli);
int cmd_ls(const struct cli *cli);
int cmd_check(const struct cli *cli);
int cmd_resume(const struct cli *cli);
int cmd_restart(const struct cli *cli);

#endif
