// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/netaddr.h"

enum {
	CONFIG_FILE_MAX = 1 << 20,
	/* libinih reads lines of at most INI_MAX_LINE - 1 bytes and splits longer ones. */
	CONFIG_LINE_MAX = INI_MAX_LINE - 1,
	CONFIG_DEFAULT_ACTIONS_MAX = 16,
};

struct reader {
	const char *text;
	size_t len, pos;
	int line;		/* of the line last handed to libinih */
	bool at_line_start;
	bool too_long, continuation;
};

struct load {
	struct config *cfg;
	struct reader rd;
	config_check_fn check;
	void *ctx;
	struct config_section *cur;	/* NULL while in [daemon] or before any section */
	bool in_daemon;
	char message[CONFIG_ERROR_MAX - 128];
	int error_line;
	/* The first destructive default action and its line, refused without force. */
	char destructive[64];
	int destructive_line;
	bool oom;
};

/* libinih's reader: one line per call, so that the line number is known. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	size_t n = 0, max = num > 0 ? (size_t)num - 1 : 0;

	if (rd->pos >= rd->len)
		return NULL;
	if (rd->at_line_start) {
		rd->line++;
		rd->continuation = rd->pos < rd->len && (rd->text[rd->pos] == ' ' ||
							 rd->text[rd->pos] == '\t');
	}
	while (n < max && rd->pos < rd->len) {
		char c = rd->text[rd->pos++];

		str[n++] = c;
		if (c == '\n')
			break;
	}
	str[n] = '\0';
	rd->at_line_start = n > 0 && str[n - 1] == '\n';
	if (!rd->at_line_start && rd->pos < rd->len)
		rd->too_long = true;
	return str;
}

static int failf(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(struct load *l, const char *fmt, ...)
{
	va_list ap;

	if (l->message[0])
		return 0;
	va_start(ap, fmt);
	vsnprintf(l->message, sizeof(l->message), fmt, ap);
	va_end(ap);
	l->error_line = l->rd.line;
	return 0;
}

static bool valid_mode(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 07777)
		return false;
	*out = (unsigned int)v;
	return true;
}

static int parse_log_level(const char *s)
{
	static const char *const names[] = {
		[LOG_LVL_ERROR] = "error", [LOG_LVL_WARN] = "warning",
		[LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	if (strcmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	return -1;
}

static int set_string(struct load *l, const char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy) {
		l->oom = true;
		return 0;
	}
	free((char *)*field);
	*field = copy;
	return 1;
}

/* A key a tracer declares (tracer_ops.options): its value kept for the tracer. */
static int set_tracer_option(struct load *l, const char *key, const char *value)
{
	struct tracer_config *tc = &l->cfg->daemon.tracer_cfg;
	const char *was = NULL;
	char *copy;
	size_t i;
	int err;

	/* Given before (the last one wins): that copy goes. */
	for (i = 0; i < tc->n_settings; i++)
		if (strcmp(tc->settings[i].name, key) == 0)
			was = tc->settings[i].value;
	copy = strdup(value);
	if (!copy) {
		l->oom = true;
		return 0;
	}
	err = tracer_config_set(tc, key, copy);
	if (err < 0) {
		free(copy);
		return failf(l, "%s: %s", key, err == -E2BIG ? "the value is too long"
							      : "too many tracer options");
	}
	free((char *)was);
	return 1;
}

static int set_default_actions(struct load *l, const char *value)
{
	struct config_daemon *d = &l->cfg->daemon;
	char buf[1024], *save, *tok;
	size_t i;

	for (i = 0; i < d->n_default_actions; i++)
		free(d->default_actions[i]);
	free(d->default_actions);
	d->default_actions = calloc(CONFIG_DEFAULT_ACTIONS_MAX, sizeof(char *));
	d->n_default_actions = 0;
	d->has_default_actions = true;
	l->destructive[0] = '\0';
	if (!d->default_actions) {
		l->oom = true;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (strcmp(tok, "none") == 0) {
			if (d->n_default_actions || strtok_r(NULL, ", ", &save))
				return failf(l, "default_actions: \"none\" cannot be combined with "
						"actions");
			return 1;
		}
		if (d->n_default_actions == CONFIG_DEFAULT_ACTIONS_MAX)
			return failf(l, "default_actions: more than %d actions",
				     CONFIG_DEFAULT_ACTIONS_MAX);
		if (l->check) {
			char err[256];
			int kind = l->check(l->ctx, tok, NULL, NULL, err, sizeof(err));

			if (kind < 0)
				return failf(l, "default_actions: %s", err);
			if (kind > 0 && !l->destructive[0]) {
				snprintf(l->destructive, sizeof(l->destructive), "%s", tok);
				l->destructive_line = l->rd.line;
			}
		}
		d->default_actions[d->n_default_actions] = strdup(tok);
		if (!d->default_actions[d->n_default_actions]) {
			l->oom = true;
			return 0;
		}
		d->n_default_actions++;
	}
	if (!d->n_default_actions)
		return failf(l, "default_actions: empty (say \"none\" for no action)");
	return 1;
}

/* [daemon] metrics*: the metrics server's keys (docs/config.md). */
static int metrics_key(struct load *l, const char *key, const char *value)
{
	struct config_metrics *m = &l->cfg->daemon.metrics;
	struct netaddr a;
	char err[256];

	if (strcmp(key, "metrics") == 0) {
		if (netaddr_parse(value, &a, err, sizeof(err)) < 0)
			return failf(l, "metrics: %s", err);
		return set_string(l, &m->address, value);
	}
	if (strcmp(key, "metrics_tls_cert") == 0 || strcmp(key, "metrics_tls_key") == 0 ||
	    strcmp(key, "metrics_token_file") == 0) {
		if (value[0] != '/')
			return failf(l, "%s: \"%s\" is not an absolute path", key, value);
		return set_string(l, strcmp(key, "metrics_tls_cert") == 0  ? &m->tls_cert
				  : strcmp(key, "metrics_tls_key") == 0 ? &m->tls_key
									: &m->token_file,
				  value);
	}
	if (strcmp(key, "metrics_insecure") == 0) {
		if (config_parse_bool(value, &m->insecure) < 0)
			return failf(l, "metrics_insecure: \"%s\" is not true or false", value);
		return 1;
	}
	if (strcmp(key, "metrics_timeout") == 0) {
		if (config_parse_duration_ms(value, &m->timeout_ms) < 0 || m->timeout_ms < 1000 ||
		    m->timeout_ms > 3600000)
			return failf(l, "metrics_timeout: \"%s\" is not a duration between 1s "
					"and 1h", value);
		return 1;
	}
	return failf(l, "unknown key \"%s\" in [daemon] (the metrics keys: metrics, "
			"metrics_tls_cert, metrics_tls_key, metrics_token_file, metrics_insecure, "
			"metrics_timeout)", key);
}

static int daemon_key(struct load *l, const char *key, const char *value)
{
	struct config_daemon *d = &l->cfg->daemon;
	char names[256];
	size_t size;
	int lvl;

	if (strcmp(key, "rules_dir") == 0)
		return set_string(l, &d->rules_dir, value);
	if (strcmp(key, "tracers_dir") == 0) {
		if (value[0] != '/')
			return failf(l, "tracers_dir: \"%s\" is not an absolute path", value);
		return set_string(l, &d->tracers_dir, value);
	}
	if (strcmp(key, "socket") == 0) {
		if (value[0] != '/')
			return failf(l, "socket: \"%s\" is not an absolute path", value);
		return set_string(l, &d->socket, value);
	}
	if (strcmp(key, "socket_group") == 0)
		return set_string(l, &d->socket_group, value);
	if (strcmp(key, "tracers") == 0)
		return set_string(l, &d->tracers, value);
	if (strcmp(key, "admin_users") == 0)
		return set_string(l, &d->admin_users, value);
	if (strcmp(key, "admin_groups") == 0)
		return set_string(l, &d->admin_groups, value);
	if (strcmp(key, "cgroup_hierarchy") == 0)
		return set_string(l, &d->cgroup_hierarchy, value);
	if (strcmp(key, "socket_mode") == 0) {
		if (!valid_mode(value, &d->socket_mode))
			return failf(l, "socket_mode: \"%s\" is not an octal mode like 0660", value);
		d->has_socket_mode = true;
		return 1;
	}
	if (strcmp(key, "ring_buffer_size") == 0) {
		if (config_parse_size(value, &size) < 0 || size < 4096 || size > (1ul << 30) ||
		    (size & (size - 1)))
			return failf(l, "ring_buffer_size: \"%s\" is not a power of two between "
					"4K and 1G", value);
		d->ring_buffer_bytes = size;
		return 1;
	}
	if (strcmp(key, "subscriber_queue_size") == 0) {
		if (config_parse_size(value, &size) < 0 || size < 65536 || size > (1ul << 30))
			return failf(l, "subscriber_queue_size: \"%s\" is not a size between 64K "
					"and 1G", value);
		d->subscriber_queue_bytes = size;
		return 1;
	}
	if (strcmp(key, "client_stall_timeout") == 0 || strcmp(key, "client_frame_timeout") == 0 ||
	    strcmp(key, "client_idle_timeout") == 0) {
		int64_t ms;

		if (config_parse_duration_ms(value, &ms) < 0 || ms < 100 || ms > 3600000)
			return failf(l, "%s: \"%s\" is not a duration between 100ms and 1h", key,
				     value);
		if (key[7] == 's')
			d->client_stall_ms = ms;
		else if (key[7] == 'f')
			d->client_frame_ms = ms;
		else
			d->client_idle_ms = ms;
		return 1;
	}
	if (strcmp(key, "max_rules") == 0) {
		if (config_parse_uint(value, 1000000, &d->max_rules) < 0 || !d->max_rules)
			return failf(l, "max_rules: \"%s\" is not a number from 1 to 1000000", value);
		return 1;
	}
	if (strcmp(key, "log_level") == 0) {
		lvl = parse_log_level(value);
		if (lvl < 0)
			return failf(l, "log_level: \"%s\" is not one of error, warning, info, "
					"debug", value);
		d->log_level = lvl;
		d->has_log_level = true;
		return 1;
	}
	if (strcmp(key, "output") == 0) {
		if (strcmp(value, "text") == 0)
			d->output = CONFIG_OUTPUT_TEXT;
		else if (strcmp(value, "json") == 0)
			d->output = CONFIG_OUTPUT_JSON;
		else
			return failf(l, "output: \"%s\" is not text or json", value);
		return 1;
	}
	if (strcmp(key, "default_actions") == 0)
		return set_default_actions(l, value);
	if (strcmp(key, "default_actions_force") == 0) {
		if (config_parse_bool(value, &d->default_actions_force) < 0)
			return failf(l, "default_actions_force: \"%s\" is not true or false", value);
		return 1;
	}
	if (strcmp(key, "keep") == 0) {
		if (config_parse_bool(value, &d->keep) < 0)
			return failf(l, "keep: \"%s\" is not true or false", value);
		return 1;
	}
	if (strcmp(key, "kernel_loads") == 0) {
		if (config_parse_bool(value, &d->kernel_loads) < 0)
			return failf(l, "kernel_loads: \"%s\" is not true or false", value);
		d->has_kernel_loads = true;
		return 1;
	}
	if (strcmp(key, "compat_syscalls") == 0) {
		if (config_parse_bool(value, &d->compat_syscalls) < 0)
			return failf(l, "compat_syscalls: \"%s\" is not true or false", value);
		d->has_compat_syscalls = true;
		return 1;
	}
	if (strcmp(key, "ancestors") == 0) {
		uint64_t n;

		if (config_parse_uint(value, CONFIG_ANCESTORS_MAX, &n) < 0)
			return failf(l, "ancestors: \"%s\" is not a number from 0 to %d", value,
				     CONFIG_ANCESTORS_MAX);
		d->ancestors = (unsigned int)n;
		d->has_ancestors = true;
		return 1;
	}
	if (strcmp(key, "process_table_size") == 0) {
		if (config_parse_uint(value, CONFIG_PROCESS_TABLE_MAX, &d->process_table_size) < 0 ||
		    d->process_table_size < 1024)
			return failf(l, "process_table_size: \"%s\" is not a number from 1024 "
					"to %d", value, CONFIG_PROCESS_TABLE_MAX);
		return 1;
	}
	if (strcmp(key, "journal") == 0) {
		if (strcmp(value, "auto") == 0)
			d->journal = JOURNAL_AUTO;
		else if (strcmp(value, "on") == 0)
			d->journal = JOURNAL_ON;
		else if (strcmp(value, "off") == 0)
			d->journal = JOURNAL_OFF;
		else
			return failf(l, "journal: \"%s\" is not auto, on or off", value);
		return 1;
	}
	if (strncmp(key, "metrics", 7) == 0)
		return metrics_key(l, key, value);
	if (tracer_option_find(key, NULL))
		return set_tracer_option(l, key, value);
	return failf(l, "unknown key \"%s\" in [daemon] (known: rules_dir, tracers_dir, socket, "
			"socket_mode, "
			"socket_group, admin_users, admin_groups, tracers, %scgroup_hierarchy, "
			"ring_buffer_size, subscriber_queue_size, client_stall_timeout, "
			"client_frame_timeout, client_idle_timeout, max_rules, "
			"log_level, output, default_actions, default_actions_force, compat_syscalls, kernel_loads, "
			"keep, "
			"ancestors, process_table_size, journal, metrics...)",
		     key, tracer_option_names(names, sizeof(names)));
}

static struct config_section *add_section(struct load *l, const char *name)
{
	struct config *cfg = l->cfg;
	struct config_section *s;
	size_t i;

	for (i = 0; i < cfg->n_sections; i++)
		if (strcmp(cfg->sections[i].name, name) == 0)
			return &cfg->sections[i];	/* INI sections may be split */
	s = realloc(cfg->sections, (cfg->n_sections + 1) * sizeof(*s));
	if (!s)
		return NULL;
	cfg->sections = s;
	s = &cfg->sections[cfg->n_sections];
	*s = (struct config_section){ .name = strdup(name), .line = l->rd.line };
	if (!s->name)
		return NULL;
	cfg->n_sections++;
	return s;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct load *l = user;
	struct config_section *s;
	struct config_entry *e;
	char err[CONFIG_ERROR_MAX - 64];

	if (l->message[0] || l->oom)
		return 0;
	if (l->rd.too_long)
		return failf(l, "line longer than %d characters", CONFIG_LINE_MAX);
	if (l->rd.continuation)
		return failf(l, "indented line: values are one line each in bpfd's config");
	if (!section[0])
		return failf(l, "\"%s\" outside any section (daemon settings go under [daemon])",
			     key);
	if (strcmp(section, "daemon") == 0)
		return daemon_key(l, key, value);

	if (!l->cur || strcmp(l->cur->name, section) != 0) {
		if (l->check && l->check(l->ctx, section, NULL, NULL, err, sizeof(err)) < 0)
			return failf(l, "[%s]: %s", section, err);
		l->cur = add_section(l, section);
		if (!l->cur) {
			l->oom = true;
			return 0;
		}
	}
	s = l->cur;
	if (config_get(s, key))
		return failf(l, "\"%s\" set twice in [%s]", key, section);
	if (l->check && l->check(l->ctx, section, key, value, err, sizeof(err)) < 0)
		return failf(l, "%s", err);
	e = realloc(s->entries, (s->n_entries + 1) * sizeof(*e));
	if (!e) {
		l->oom = true;
		return 0;
	}
	s->entries = e;
	e = &s->entries[s->n_entries];
	*e = (struct config_entry){ .key = strdup(key), .value = strdup(value), .line = l->rd.line };
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		l->oom = true;
		return 0;
	}
	s->n_entries++;
	return 1;
}

static int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;
	ssize_t r;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n == cap) {
			char *bigger;

			if (cap >= CONFIG_FILE_MAX) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(buf);
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

int config_load(const char *path, const char *text, size_t len, config_check_fn check,
		void *ctx, struct config **out, char err[CONFIG_ERROR_MAX])
{
	struct load l = { .check = check, .ctx = ctx };
	char *owned = NULL;
	int r, where;

	*out = NULL;
	err[0] = '\0';
	if (!text) {
		r = read_file(path, &owned, &len);
		if (r < 0) {
			snprintf(err, CONFIG_ERROR_MAX, "%s: %s", path,
				 r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
			return r;
		}
		text = owned;
	}
	l.cfg = calloc(1, sizeof(*l.cfg));
	if (!l.cfg || !(l.cfg->path = strdup(path))) {
		free(l.cfg);
		free(owned);
		snprintf(err, CONFIG_ERROR_MAX, "%s: out of memory", path);
		return -ENOMEM;
	}
	l.rd = (struct reader){ .text = text, .len = len, .at_line_start = true };
	if (memchr(text, '\0', len)) {
		snprintf(err, CONFIG_ERROR_MAX, "%s: contains a NUL byte (not a text file)", path);
		r = -EINVAL;
		goto fail;
	}
	where = ini_parse_stream(read_line, &l.rd, on_entry, &l);
	free(owned);
	owned = NULL;
	if (l.oom) {
		snprintf(err, CONFIG_ERROR_MAX, "%s: out of memory", path);
		r = -ENOMEM;
		goto fail;
	}
	if (l.message[0]) {
		snprintf(err, CONFIG_ERROR_MAX, "%s:%d: %s", path, l.error_line, l.message);
		r = -EINVAL;
		goto fail;
	}
	if (where > 0) {
		/* libinih's own complaint: a line that is neither section, key nor comment. */
		snprintf(err, CONFIG_ERROR_MAX, "%s:%d: %s", path, where,
			 l.rd.too_long ? "line too long"
				       : "not a [section], a key = value line or a comment");
		r = -EINVAL;
		goto fail;
	}
	if (where < 0) {
		snprintf(err, CONFIG_ERROR_MAX, "%s: cannot be read", path);
		r = -EIO;
		goto fail;
	}
	/*
	 * What rules get (a destructive action needs a filter or `force`)
	 * holds here too: a default action runs on every event of every
	 * tracer without rules, the daemon's own children's aside.
	 */
	if (l.destructive[0] && !l.cfg->daemon.default_actions_force) {
		snprintf(err, CONFIG_ERROR_MAX, "%s:%d: default_actions: %s acts on processes or "
			 "containers and would run on every event of every tracer without rules; "
			 "add `default_actions_force = true` to [daemon] if that is meant", path,
			 l.destructive_line, l.destructive);
		r = -EINVAL;
		goto fail;
	}
	*out = l.cfg;
	return 0;
fail:
	free(owned);
	config_free(l.cfg);
	return r;
}

void config_free(struct config *cfg)
{
	struct config_daemon *d;
	size_t i, j;

	if (!cfg)
		return;
	d = &cfg->daemon;
	free((char *)d->rules_dir);
	free((char *)d->tracers_dir);
	free((char *)d->socket);
	free((char *)d->socket_group);
	free((char *)d->admin_users);
	free((char *)d->admin_groups);
	free((char *)d->tracers);
	for (i = 0; i < d->tracer_cfg.n_settings; i++)
		free((char *)d->tracer_cfg.settings[i].value);
	free((char *)d->cgroup_hierarchy);
	free((char *)d->metrics.address);
	free((char *)d->metrics.tls_cert);
	free((char *)d->metrics.tls_key);
	free((char *)d->metrics.token_file);
	for (i = 0; i < d->n_default_actions; i++)
		free(d->default_actions[i]);
	free(d->default_actions);
	for (i = 0; i < cfg->n_sections; i++) {
		for (j = 0; j < cfg->sections[i].n_entries; j++) {
			free(cfg->sections[i].entries[j].key);
			free(cfg->sections[i].entries[j].value);
		}
		free(cfg->sections[i].entries);
		free(cfg->sections[i].name);
	}
	free(cfg->sections);
	free(cfg->path);
	free(cfg);
}

const struct config_section *config_section(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg && i < cfg->n_sections; i++)
		if (strcmp(cfg->sections[i].name, name) == 0)
			return &cfg->sections[i];
	return NULL;
}

static const struct config_entry *entry(const struct config_section *s, const char *key)
{
	size_t i;

	for (i = 0; s && i < s->n_entries; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	return NULL;
}

const char *config_get(const struct config_section *s, const char *key)
{
	const struct config_entry *e = entry(s, key);

	return e ? e->value : NULL;
}

int config_line(const struct config_section *s, const char *key)
{
	const struct config_entry *e = entry(s, key);

	return e ? e->line : 0;
}

struct config_section *config_section_dup(const struct config_section *s)
{
	struct config_section *d;
	size_t i;

	if (!s)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->name = strdup(s->name);
	d->line = s->line;
	d->entries = calloc(s->n_entries ? s->n_entries : 1, sizeof(*d->entries));
	if (!d->name || !d->entries) {
		config_section_free(d);
		return NULL;
	}
	for (i = 0; i < s->n_entries; i++) {
		d->entries[i].key = strdup(s->entries[i].key);
		d->entries[i].value = strdup(s->entries[i].value);
		d->entries[i].line = s->entries[i].line;
		d->n_entries++;
		if (!d->entries[i].key || !d->entries[i].value) {
			config_section_free(d);
			return NULL;
		}
	}
	return d;
}

void config_section_free(struct config_section *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_entries; i++) {
		free(s->entries[i].key);
		free(s->entries[i].value);
	}
	free(s->entries);
	free(s->name);
	free(s);
}

bool config_section_equal(const struct config_section *a, const struct config_section *b)
{
	size_t i;

	if (!a || !b)
		return !a && !b;
	if (a->n_entries != b->n_entries)
		return false;
	for (i = 0; i < a->n_entries; i++) {
		const char *v = config_get(b, a->entries[i].key);

		if (!v || strcmp(v, a->entries[i].value) != 0)
			return false;
	}
	return true;
}

/* A decimal number and what follows it. */
static int leading_uint(const char *s, uint64_t *out, const char **rest)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	*out = v;
	*rest = end;
	return 0;
}

int config_parse_duration_ms(const char *s, int64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = { { "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 },
		      { "h", 3600000 }, { "d", 86400000 } };
	const char *rest;
	uint64_t v;
	size_t i;

	if (leading_uint(s, &v, &rest) < 0)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].suffix) == 0) {
			if (v > (uint64_t)INT64_MAX / units[i].ms)
				return -EINVAL;
			*out = (int64_t)(v * units[i].ms);
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_size(const char *s, size_t *out)
{
	const char *rest;
	uint64_t v, mult = 1;

	if (leading_uint(s, &v, &rest) < 0)
		return -EINVAL;
	if (*rest) {
		switch (toupper((unsigned char)*rest)) {
		case 'K': mult = 1ull << 10; break;
		case 'M': mult = 1ull << 20; break;
		case 'G': mult = 1ull << 30; break;
		default: return -EINVAL;
		}
		rest++;
		if (*rest == 'i')
			rest++;
		if (*rest == 'B')
			rest++;
		if (*rest)
			return -EINVAL;
	}
	if (v > SIZE_MAX / mult)
		return -EINVAL;
	*out = (size_t)(v * mult);
	return 0;
}

int config_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	const char *rest;
	uint64_t v;

	if (leading_uint(s, &v, &rest) < 0 || *rest || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int config_parse_rate(const char *s, uint32_t *count, int64_t *period_ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} periods[] = { { "s", 1000 }, { "sec", 1000 }, { "m", 60000 }, { "min", 60000 },
			{ "h", 3600000 }, { "hour", 3600000 }, { "d", 86400000 },
			{ "day", 86400000 } };
	const char *rest;
	uint64_t v;
	size_t i;

	if (leading_uint(s, &v, &rest) < 0 || v == 0 || v > UINT32_MAX || *rest != '/')
		return -EINVAL;
	for (i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		if (strcmp(rest + 1, periods[i].unit) == 0) {
			*count = (uint32_t)v;
			*period_ms = periods[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}
