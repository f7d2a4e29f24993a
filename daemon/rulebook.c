// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/rulebook.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/strbuf.h"

enum {
	RULEBOOK_FILE_MAX = 1 << 20,	/* bytes of one rule file */
};

/* What identifies a version of a file: changed stamp, changed file. */
struct stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct rule_file {
	char *path;
	bool local;		/* *.local.toml: read after the others */
	struct stamp stamp;
	struct rule_doc *doc;	/* its last TOML that read, or NULL */
	struct rule **good;	/* the rules of its last good version */
	size_t n_good;
	bool *removed;		/* per rule of good: `rm` hid it until the file changes */
	bool seen;		/* still in the directory (during a reload) */
};

struct socket_rule {
	struct rule *rule;
	char *source;
};

struct active {
	const struct rule *rule;
	const char *source;
};

struct rulebook {
	char *dir;
	size_t max_rules;
	struct rulebook_actions actions;
	rulebook_report_fn report;
	struct rule_file *files;	/* in load order (by_load_order) */
	size_t n_files;
	/* The lists and overrides of every file's doc: what `create` reads rules against. */
	struct rule_library *lib;
	struct socket_rule *socket;
	size_t n_socket;
	struct active *active;
	size_t n_active;
	struct ruleset *set;
	/* Rules replaced since the last rebuild: the old set still points at them. */
	struct rule **garbage;
	size_t n_garbage;
};

static void report(struct rulebook *rb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct rulebook *rb, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!rb->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rb->report(msg);
}

static void discard(struct rulebook *rb, struct rule *r)
{
	struct rule **g;

	if (!r)
		return;
	g = realloc(rb->garbage, (rb->n_garbage + 1) * sizeof(*g));
	if (!g) {
		/* Cannot defer: the set is rebuilt before anything reads it again. */
		rule_free(r);
		return;
	}
	rb->garbage = g;
	rb->garbage[rb->n_garbage++] = r;
}

static int by_name(const void *a, const void *b)
{
	const struct active *x = a, *y = b;

	return strcmp(rule_name(x->rule), rule_name(y->rule));
}

static ssize_t find_active(const struct rulebook *rb, const char *name)
{
	size_t i;

	for (i = 0; i < rb->n_active; i++)
		if (strcmp(rule_name(rb->active[i].rule), name) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * Resolves @r's actions to the instances that run them. An action that
 * has none (no memory, the most instances made) is reported, and the
 * rule's other actions still run.
 */
static void bind_actions(struct rulebook *rb, struct rule *r)
{
	char err[256];
	void *a;
	size_t i;

	if (!rb->actions.resolve)
		return;
	for (i = 0; i < rule_action_count(r); i++) {
		err[0] = '\0';
		a = rb->actions.resolve(rb->actions.ctx, rule_action(r, i), err, sizeof(err));
		if (!a)
			report(rb, "rule '%s': action %s does not run: %s", rule_name(r),
			       rule_action(r, i), err[0] ? err : "no instance");
		if (rule_bind_action(r, i, a) < 0)
			report(rb, "rule '%s': out of memory: its actions do not run", rule_name(r));
	}
}

/*
 * Recomputes the active rules: file rules in path order (a later file
 * wins a name), then socket rules over them; resolves their actions;
 * compiles the set.
 */
static int rebuild(struct rulebook *rb, bool warn)
{
	struct active *act;
	struct rule **rules;
	struct ruleset *set;
	size_t n = 0, i, j, k, total = rb->n_socket;

	for (i = 0; i < rb->n_files; i++)
		total += rb->files[i].n_good;
	act = calloc(total + 1, sizeof(*act));

	if (!act)
		return -ENOMEM;
	for (i = 0; i < rb->n_files; i++) {
		struct rule_file *f = &rb->files[i];

		for (k = 0; k < f->n_good; k++) {
			if (f->removed[k])
				continue;
			for (j = 0; j < n; j++) {
				if (strcmp(rule_name(act[j].rule), rule_name(f->good[k])) == 0) {
					if (warn)
						report(rb, "%s: rule '%s' is also defined in %s; %s "
							   "wins", f->path, rule_name(f->good[k]),
						       act[j].source, f->path);
					break;
				}
			}
			act[j] = (struct active){ .rule = f->good[k], .source = f->path };
			if (j == n)
				n++;
		}
	}
	for (i = 0; i < rb->n_socket; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(rule_name(act[j].rule), rule_name(rb->socket[i].rule)) == 0)
				break;
		act[j] = (struct active){ .rule = rb->socket[i].rule,
					  .source = rb->socket[i].source };
		if (j == n)
			n++;
	}
	qsort(act, n, sizeof(*act), by_name);
	rules = calloc(n + 1, sizeof(*rules));
	if (rules)
		for (i = 0; i < n; i++) {
			rules[i] = (struct rule *)act[i].rule;
			bind_actions(rb, rules[i]);
		}
	set = rules ? ruleset_new(rules, n) : NULL;
	free(rules);
	if (!set) {
		free(act);
		return -ENOMEM;
	}
	ruleset_free(rb->set);
	rb->set = set;
	free(rb->active);
	rb->active = act;
	rb->n_active = n;
	for (i = 0; i < rb->n_garbage; i++)
		rule_free(rb->garbage[i]);
	rb->n_garbage = 0;
	return 0;
}

struct rulebook *rulebook_new(const char *dir, const struct rulebook_actions *actions,
			      rulebook_report_fn report_fn)
{
	struct rulebook *rb = calloc(1, sizeof(*rb));

	if (!rb)
		return NULL;
	rb->dir = dir ? strdup(dir) : NULL;
	if (actions)
		rb->actions = *actions;
	rb->max_rules = RULEBOOK_RULES_MAX;
	rb->report = report_fn;
	rb->lib = rule_library_new();
	if ((dir && !rb->dir) || !rb->lib || rebuild(rb, false) < 0) {
		rulebook_free(rb);
		return NULL;
	}
	return rb;
}

void rulebook_free(struct rulebook *rb)
{
	size_t i;

	if (!rb)
		return;
	ruleset_free(rb->set);
	rule_library_free(rb->lib);
	for (i = 0; i < rb->n_files; i++) {
		for (size_t k = 0; k < rb->files[i].n_good; k++)
			rule_free(rb->files[i].good[k]);
		free(rb->files[i].good);
		free(rb->files[i].removed);
		rule_doc_free(rb->files[i].doc);
		free(rb->files[i].path);
	}
	for (i = 0; i < rb->n_socket; i++) {
		rule_free(rb->socket[i].rule);
		free(rb->socket[i].source);
	}
	for (i = 0; i < rb->n_garbage; i++)
		rule_free(rb->garbage[i]);
	free(rb->garbage);
	free(rb->files);
	free(rb->socket);
	free(rb->active);
	free(rb->dir);
	free(rb);
}

static bool same_stamp(const struct stamp *a, const struct stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int read_file(const char *path, struct strbuf *out)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (out->len + n > RULEBOOK_FILE_MAX) {
			close(fd);
			return -EFBIG;
		}
		if (strbuf_add(out, buf, n) < 0) {
			close(fd);
			return -ENOMEM;
		}
	}
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Rule files: `*.toml`, not hidden (ConfigMap's `..data` and editors' temp files). */
static bool wanted_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".toml") == 0;
}

/*
 * Load order (docs/rules.md, "Load order"): by file name, the `*.local.toml`
 * files after all the others, so that a local file's rule of a shipped
 * name wins and upgrades, which replace the shipped files, never touch it.
 */
static bool local_name(const char *path)
{
	size_t n = strlen(path);

	return n > 11 && strcmp(path + n - 11, ".local.toml") == 0;
}

static int by_load_order(const void *a, const void *b)
{
	const struct rule_file *x = a, *y = b;

	if (x->local != y->local)
		return x->local ? 1 : -1;
	return strcmp(x->path, y->path);
}

/* Reads @f's TOML again when it changed; false when it did not. */
static bool read_doc(struct rulebook *rb, struct rule_file *f, const struct stamp *st, bool known)
{
	struct strbuf text = STRBUF_INIT;
	struct rule_error err = { 0 };
	struct rule_doc *doc = NULL;
	int e;

	if (known && same_stamp(&f->stamp, st))
		return false;
	f->stamp = *st;
	/* The file changed: an `rm` of its rules no longer holds. */
	if (f->n_good)
		memset(f->removed, 0, f->n_good * sizeof(*f->removed));
	e = read_file(f->path, &text);
	if (e < 0)
		report(rb, "%s: %s", f->path, strerror(-e));
	else if (rule_doc_read(f->path, text.buf ? text.buf : "", text.len, &doc, &err) < 0)
		report(rb, "%s:%u: %s%s", f->path, err.line, err.message,
		       f->n_good ? " (its last good version stays active)" : "");
	strbuf_release(&text);
	if (doc) {
		rule_doc_free(f->doc);
		f->doc = doc;
	}
	return true;
}

static void report_unused(void *ctx, bool error, const char *file, unsigned int line,
			  const char *message)
{
	/* The daemon tells what breaks the rules; unused lists are `bpfd check`'s to tell. */
	if (error)
		report(ctx, "%s:%u: %s", file, line, message);
}

/*
 * Reads every file's rules again against the lists and overrides of all
 * of them: a change to one file can change another's rules. A file whose
 * rules fail keeps its last good version.
 */
static void parse_all(struct rulebook *rb)
{
	struct rule_library *lib = rule_library_new();
	struct rule_error err;
	size_t i, k, n, total = rb->n_socket;
	struct rule **rules;

	/* The old library points into docs a reload may have freed: never keep it. */
	rule_library_free(rb->lib);
	rb->lib = lib;
	if (!lib) {
		report(rb, "out of memory while reading the rules");
		return;
	}
	for (i = 0; i < rb->n_files; i++)
		if (rb->files[i].doc && rule_library_add(lib, rb->files[i].doc, &err) < 0)
			report(rb, "%s:%u: %s (its lists and overrides are left out)",
			       rb->files[i].path, err.line, err.message);
	for (i = 0; i < rb->n_files; i++) {
		struct rule_file *f = &rb->files[i];
		bool *removed;

		if (!f->doc)
			continue;
		if (rule_doc_rules(f->doc, lib, rb->actions.kind, rb->actions.ctx, &rules, &n,
				   &err) < 0) {
			if (err.line)
				report(rb, "%s:%u: %s%s", f->path, err.line, err.message,
				       f->n_good ? " (its last good version stays active)" : "");
			else
				report(rb, "%s: %s%s", f->path, err.message,
				       f->n_good ? " (its last good version stays active)" : "");
			total += f->n_good;
			continue;
		}
		if (total + n > rb->max_rules) {
			report(rb, "%s: skipped: more than %zu rules (rule files and created rules "
				   "together)", f->path, rb->max_rules);
			for (k = 0; k < n; k++)
				rule_free(rules[k]);
			n = 0;
		}
		removed = calloc(n ? n : 1, sizeof(*removed));
		if (!removed) {
			for (k = 0; k < n; k++)
				rule_free(rules[k]);
			free(rules);
			continue;
		}
		/* An `rm` of a rule of an unchanged file still holds. */
		for (k = 0; k < n; k++)
			for (size_t j = 0; j < f->n_good; j++)
				if (f->removed[j] && !strcmp(rule_name(f->good[j]), rule_name(rules[k])))
					removed[k] = true;
		for (k = 0; k < f->n_good; k++)
			discard(rb, f->good[k]);
		free(f->good);
		free(f->removed);
		f->good = rules;
		f->n_good = n;
		f->removed = removed;
		total += n;
	}
	rule_library_unused(lib, report_unused, rb);
}

bool rulebook_reload(struct rulebook *rb)
{
	struct dirent *de;
	bool changed = false, over_limit = false;
	size_t i;
	DIR *d;

	for (i = 0; i < rb->n_files; i++)
		rb->files[i].seen = false;
	d = rb->dir ? opendir(rb->dir) : NULL;
	while (d && (de = readdir(d))) {
		struct rule_file *f = NULL, *grown;
		struct stamp st;
		struct stat sb;
		char *path;

		if (!wanted_name(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", rb->dir, de->d_name) < 0)
			continue;
		/* stat follows symlinks: a ConfigMap's files are links into ..data. */
		if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			free(path);
			continue;
		}
		st = (struct stamp){ .dev = sb.st_dev, .ino = sb.st_ino, .size = sb.st_size,
				     .mtime = sb.st_mtim };
		for (i = 0; i < rb->n_files; i++)
			if (strcmp(rb->files[i].path, path) == 0)
				f = &rb->files[i];
		if (f) {
			free(path);
			f->seen = true;
			changed |= read_doc(rb, f, &st, true);
			continue;
		}
		/*
		 * Files are bounded as rules are (parse_all counts those): a file
		 * holds rules, or lists and overrides for them, so twice the
		 * rules' limit is room for every useful directory.
		 */
		if (rb->n_files >= 2 * rb->max_rules) {
			if (!over_limit)
				report(rb, "%s: skipped: more than %zu rule files", path,
				       2 * rb->max_rules);
			over_limit = true;
			free(path);
			continue;
		}
		grown = realloc(rb->files, (rb->n_files + 1) * sizeof(*grown));
		if (!grown) {
			free(path);
			continue;
		}
		rb->files = grown;
		f = &rb->files[rb->n_files++];
		*f = (struct rule_file){ .path = path, .seen = true, .local = local_name(path) };
		read_doc(rb, f, &st, false);
		changed = true;
	}
	if (d)
		closedir(d);
	/* Files gone from the directory take their rules with them. */
	for (i = 0; i < rb->n_files;) {
		struct rule_file *f = &rb->files[i];

		if (f->seen) {
			i++;
			continue;
		}
		for (size_t k = 0; k < f->n_good; k++)
			discard(rb, f->good[k]);
		free(f->good);
		free(f->removed);
		rule_doc_free(f->doc);
		free(f->path);
		rb->files[i] = rb->files[--rb->n_files];
		changed = true;
	}
	if (!changed)
		return false;
	if (rb->n_files)
		qsort(rb->files, rb->n_files, sizeof(*rb->files), by_load_order);
	parse_all(rb);
	if (rebuild(rb, true) < 0)
		report(rb, "out of memory while compiling the rules");
	return true;
}

void rulebook_tracers_changed(struct rulebook *rb)
{
	size_t i, k, kept;

	for (i = 0; i < rb->n_files; i++) {
		struct rule_file *f = &rb->files[i];

		for (k = kept = 0; k < f->n_good; k++) {
			if (rule_rebind(f->good[k])) {
				f->removed[kept] = f->removed[k];
				f->good[kept++] = f->good[k];
				continue;
			}
			report(rb, "%s: rule '%s' dropped: its tracer is gone", f->path,
			       rule_name(f->good[k]));
			discard(rb, f->good[k]);
		}
		f->n_good = kept;
	}
	for (i = 0; i < rb->n_socket;) {
		if (rule_rebind(rb->socket[i].rule)) {
			i++;
			continue;
		}
		report(rb, "created rule '%s' dropped: its tracer is gone",
		       rule_name(rb->socket[i].rule));
		discard(rb, rb->socket[i].rule);
		free(rb->socket[i].source);
		rb->socket[i] = rb->socket[--rb->n_socket];
	}
	/* Every file's rules read again, against the tracers' keys as they are now. */
	if (!rulebook_reload(rb)) {
		parse_all(rb);
		if (rebuild(rb, false) < 0)
			report(rb, "out of memory while compiling the rules");
	}
}

void rulebook_set_max_rules(struct rulebook *rb, size_t max)
{
	rb->max_rules = max ? max : RULEBOOK_RULES_MAX;
}

int rulebook_create(struct rulebook *rb, const char *file, const char *text, size_t len,
		    char *name, size_t name_size, bool *replaced, struct rule_error *err)
{
	struct socket_rule *grown;
	struct rule *r;
	size_t i;
	int e;

	e = rule_parse_with(file, text, len, rb->lib, rb->actions.kind, rb->actions.ctx, &r, err);
	if (e < 0)
		return e;
	snprintf(name, name_size, "%s", rule_name(r));
	*replaced = find_active(rb, rule_name(r)) >= 0;
	for (i = 0; i < rb->n_socket; i++) {
		if (strcmp(rule_name(rb->socket[i].rule), rule_name(r)) == 0) {
			discard(rb, rb->socket[i].rule);
			rb->socket[i].rule = r;
			return rebuild(rb, false);
		}
	}
	if (rb->n_active >= rb->max_rules) {
		rule_free(r);
		err->line = 0;
		snprintf(err->message, sizeof(err->message),
			 "too many rules: the limit is %zu (rule files and created rules together)",
			 rb->max_rules);
		return -E2BIG;
	}
	grown = realloc(rb->socket, (rb->n_socket + 1) * sizeof(*grown));
	if (!grown) {
		rule_free(r);
		return -ENOMEM;
	}
	rb->socket = grown;
	rb->socket[rb->n_socket].rule = r;
	if (asprintf(&rb->socket[rb->n_socket].source, "socket (%s)",
		     file && *file ? file : "stdin") < 0)
		rb->socket[rb->n_socket].source = NULL;
	rb->n_socket++;
	return rebuild(rb, false);
}

int rulebook_remove(struct rulebook *rb, const char *name)
{
	bool found = false;
	size_t i;

	for (i = 0; i < rb->n_socket;) {
		if (strcmp(rule_name(rb->socket[i].rule), name) == 0) {
			discard(rb, rb->socket[i].rule);
			free(rb->socket[i].source);
			rb->socket[i] = rb->socket[--rb->n_socket];
			found = true;
		} else {
			i++;
		}
	}
	for (i = 0; i < rb->n_files; i++) {
		for (size_t k = 0; k < rb->files[i].n_good; k++) {
			if (!rb->files[i].removed[k] &&
			    strcmp(rule_name(rb->files[i].good[k]), name) == 0) {
				rb->files[i].removed[k] = true;
				found = true;
			}
		}
	}
	if (!found)
		return -ENOENT;
	return rebuild(rb, false);
}

size_t rulebook_count(const struct rulebook *rb)
{
	return rb->n_active;
}

const struct rule *rulebook_at(const struct rulebook *rb, size_t i, const char **source)
{
	if (i >= rb->n_active)
		return NULL;
	if (source)
		*source = rb->active[i].source ? rb->active[i].source : "socket";
	return rb->active[i].rule;
}

const struct ruleset *rulebook_ruleset(const struct rulebook *rb)
{
	return rb->set;
}
