/* SPDX-License-Identifier: MIT */
#ifndef BPFD_METRICS_PAGE_H
#define BPFD_METRICS_PAGE_H

/*
 * The metrics page (docs/deploy.md, "Metrics"): the Prometheus text
 * exposition format 0.0.4, written from what `status` answers
 * (control_status()) and the rules' match counts, so that the page and
 * `status` never disagree. Pure: no daemon, no sockets; the unit tests
 * feed it JSON.
 *
 * Every family has its HELP and TYPE lines and its samples together; label
 * values are escaped (backslash, double quote, newline). The label sets
 * are bounded by what they name: tracers (tracer_table), actions (the
 * config's sections), kernel maps, and rules (max_rules).
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* The largest page written: -E2BIG past it (10,000 rules of the longest names are ~3 MiB). */
enum { METRICS_PAGE_MAX = 32 << 20 };

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What the metrics server counts of itself. */
struct metrics_server_stats {
	uint64_t scrapes;		/* pages served */
	uint64_t unauthorized;		/* requests without the right token */
	uint64_t not_found;		/* requests for another path or method */
	uint64_t connections;		/* connections accepted */
};

/* Rule @i of a set: its name, and the events it matched in *@matches. */
typedef const char *(*metrics_rule_fn)(void *ctx, size_t i, uint64_t *matches);

/*
 * Appends to @out the families made from @status (control_status()'s
 * object), @version (reply_version()'s: version, bcc, kernel), the
 * @n_rules rules @rule_at gives and @server's own counters (NULL: none).
 * 0, -ENOMEM, or -E2BIG past METRICS_PAGE_MAX (@out then holds a part).
 */
int metrics_page_write(struct strbuf *out, const json_t *status, const json_t *version,
		       metrics_rule_fn rule_at, void *rule_ctx, size_t n_rules,
		       const struct metrics_server_stats *server);

/* Appends @s escaped as a label value: \\ for \, \" for ", \n for a newline. 0 or -ENOMEM. */
int metrics_label_escape(struct strbuf *out, const char *s);

#endif
