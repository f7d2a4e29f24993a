// SPDX-License-Identifier: MIT
/*
 * exec: runs the section's `command` (with /bin/sh -c) for each event, the
 * event as one JSON line on its standard input and its main fields in
 * BPFD_* environment variables. Its standard output and error go to the
 * daemon's standard error (the log).
 *
 * Never blocks the loop: the event is put in a memfd that becomes the
 * command's stdin, the command is spawned and its exit is watched through
 * a pidfd (child.c). At most `max_running` run at once, `queue` more wait, further
 * events are dropped (counted). A command still running after `timeout`
 * is killed with its whole process group.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "action.h"
#include "lib/child.h"
#include "lib/strbuf.h"
#include "actions/jobs.h"

extern char **environ;

enum {
	EXEC_DEFAULT_MAX_RUNNING = 4,
	EXEC_DEFAULT_QUEUE = 64,
	EXEC_RUNNING_LIMIT = 256,
	EXEC_QUEUE_LIMIT = 65536,
	EXEC_ENV_VALUE_MAX = 32768,
};
#define EXEC_DEFAULT_TIMEOUT "30s"

struct exec_job {
	struct job job;		/* its place in the queue; its deadline while it runs */
	struct action *a;
	char *json;		/* the event, with a trailing newline */
	size_t json_len;
	struct strbuf env;	/* NUL-separated NAME=value strings */
	struct child proc;
};

struct exec_action {
	const char *command;
	int64_t timeout_ms;
	struct job_queue jobs;	/* `max_running` slots, `queue` waiting */
};

static const char *const exec_keys[] = { "command", "timeout", "max_running", "queue", NULL };

static int exec_check(const char *key, const char *value, char *err, size_t size)
{
	int64_t ms;
	uint64_t n;

	if (strcmp(key, "timeout") == 0 && (config_parse_duration_ms(value, &ms) < 0 || !ms)) {
		snprintf(err, size, "timeout: \"%s\" is not a duration like 10s", value);
		return -EINVAL;
	}
	if (strcmp(key, "max_running") == 0 &&
	    (config_parse_uint(value, EXEC_RUNNING_LIMIT, &n) < 0 || !n)) {
		snprintf(err, size, "max_running: \"%s\" is not a number from 1 to %d", value,
			 EXEC_RUNNING_LIMIT);
		return -EINVAL;
	}
	if (strcmp(key, "queue") == 0 && config_parse_uint(value, EXEC_QUEUE_LIMIT, &n) < 0) {
		snprintf(err, size, "queue: \"%s\" is not a number from 0 to %d", value,
			 EXEC_QUEUE_LIMIT);
		return -EINVAL;
	}
	if (strcmp(key, "command") == 0 && !value[0]) {
		snprintf(err, size, "command: empty");
		return -EINVAL;
	}
	return 0;
}

static int exec_init(struct action *a, char *err, size_t size)
{
	struct exec_action *x;
	size_t max_running, queue_max;
	uint64_t n;

	if (!action_setting(a, "command", NULL)) {
		snprintf(err, size, "no `command` in [%s] of the config", a->name);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->command = action_setting(a, "command", NULL);
	config_parse_duration_ms(action_setting(a, "timeout", EXEC_DEFAULT_TIMEOUT),
				 &x->timeout_ms);
	max_running = EXEC_DEFAULT_MAX_RUNNING;
	if (config_parse_uint(action_setting(a, "max_running", ""), EXEC_RUNNING_LIMIT, &n) == 0)
		max_running = n;
	queue_max = EXEC_DEFAULT_QUEUE;
	if (config_parse_uint(action_setting(a, "queue", ""), EXEC_QUEUE_LIMIT, &n) == 0)
		queue_max = n;
	job_queue_init(&x->jobs, max_running, queue_max);
	a->priv = x;
	return 0;
}

static void job_free(struct exec_job *j)
{
	if (!j)
		return;
	strbuf_release(&j->env);
	free(j->json);
	free(j);
}

/*
 * NAME=value, the value cut at a NUL or EXEC_ENV_VALUE_MAX bytes. Values
 * come from the event, so from whoever ran the process (a command named
 * "x\nFAKE LOG LINE"): a control byte (below 0x20, and 0x7f) is written
 * as \xNN and a backslash as \\, so that a command line or log line
 * built from them is one line that says what the event said.
 */
static int env_add(struct strbuf *env, const char *name, const char *value, size_t len)
{
	const char *nul = memchr(value, '\0', len);
	size_t i, out = 0;
	char esc[5];

	if (nul)
		len = nul - value;
	if (strbuf_addf(env, "%s=", name) < 0)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		size_t n = 1;

		esc[0] = (char)c;
		if (c == '\\') {
			esc[1] = '\\';
			n = 2;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			n = 4;
		}
		if (out + n > EXEC_ENV_VALUE_MAX)
			break;
		if (strbuf_add(env, esc, n) < 0)
			return -ENOMEM;
		out += n;
	}
	return strbuf_addch(env, '\0');
}

static int env_addf(struct strbuf *env, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int env_addf(struct strbuf *env, const char *name, const char *fmt, ...)
{
	char value[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	return env_add(env, name, value, strlen(value));
}

/* The variables docs/actions.md lists: the event's main fields and its data. */
static int event_env(struct strbuf *env, const struct action_input *in)
{
	const struct event *ev = in->ev;
	char name[96], t[EVENT_TIME_LEN];
	size_t i, j;
	int r = 0;

	event_format_time(ev->time_ns, t);
	r |= env_add(env, "BPFD_TRACER", ev->tracer, strlen(ev->tracer));
	r |= env_add(env, "BPFD_RULE", in->rule ? in->rule : "", in->rule ? strlen(in->rule) : 0);
	r |= env_add(env, "BPFD_TIME", t, strlen(t));
	r |= env_add(env, "BPFD_HOSTNAME", ev->hostname ? ev->hostname : "",
		     ev->hostname ? strlen(ev->hostname) : 0);
	r |= env_addf(env, "BPFD_PID", "%u", ev->pid);
	r |= env_addf(env, "BPFD_TID", "%u", ev->tid);
	r |= env_addf(env, "BPFD_PPID", "%u", ev->ppid);
	r |= env_addf(env, "BPFD_UID", "%u", ev->uid);
	r |= env_addf(env, "BPFD_GID", "%u", ev->gid);
	r |= env_add(env, "BPFD_COMMAND", ev->command, strlen(ev->command));
	r |= env_addf(env, "BPFD_RETURNVAL", "%lld", (long long)ev->returnval);
	r |= env_addf(env, "BPFD_CGROUP_ID", "%llu", (unsigned long long)ev->cgroup_id);
	r |= env_add(env, "BPFD_CONTAINER_RUNTIME", ev->container_runtime,
		     strlen(ev->container_runtime));
	r |= env_add(env, "BPFD_CONTAINER_ID", ev->container_id, strlen(ev->container_id));
	for (i = 0; i < ev->n_data; i++) {
		int n = snprintf(name, sizeof(name), "BPFD_DATA_");

		for (j = 0; ev->data[i].key[j] && n < (int)sizeof(name) - 1; j++) {
			char c = ev->data[i].key[j];

			name[n++] = (c >= 'a' && c <= 'z') ? c - 'a' + 'A'
				    : ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
		}
		name[n] = '\0';
		r |= env_add(env, name, ev->data[i].value, ev->data[i].len);
	}
	return r ? -ENOMEM : 0;
}

static void job_exited(struct child *c, int status);

/* The daemon's environment, then the job's variables (which win: later in envp). */
static char **job_envp(struct exec_job *j)
{
	size_t n_env = 0, n_own = 0, i, off;
	char **envp;

	while (environ && environ[n_env])
		n_env++;
	for (off = 0; off < j->env.len; off += strlen(j->env.buf + off) + 1)
		n_own++;
	envp = calloc(n_env + n_own + 1, sizeof(*envp));
	if (!envp)
		return NULL;
	for (i = 0; i < n_env; i++)
		envp[i] = environ[i];
	for (off = 0; off < j->env.len; off += strlen(j->env.buf + off) + 1)
		envp[i++] = j->env.buf + off;
	return envp;
}

static int spawn(struct exec_action *x, struct exec_job *j)
{
	char *argv[] = { "/bin/sh", "-c", (char *)x->command, NULL };
	/* Its output goes to the daemon's log. */
	struct child_stdio io = { .out = STDERR_FILENO, .err = STDERR_FILENO };
	char **envp;
	int r;

	io.in = memfd_create("bpfd-event", MFD_CLOEXEC);
	if (io.in < 0)
		return -errno;
	if (write(io.in, j->json, j->json_len) != (ssize_t)j->json_len ||
	    lseek(io.in, 0, SEEK_SET) < 0) {
		r = -errno;
		close(io.in);
		return r ? r : -EIO;
	}
	envp = job_envp(j);
	if (!envp) {
		close(io.in);
		return -ENOMEM;
	}
	r = child_spawn(&j->proc, j->a->env->loop, argv[0], argv, envp, &io, job_exited, j);
	free(envp);
	close(io.in);
	if (r < 0)
		return r;
	job_queue_run(&x->jobs, &j->job, loop_now_ms() + x->timeout_ms);
	return 0;
}

/* Starts queued jobs while there is room. */
static void start_queued(struct action *a)
{
	struct exec_action *x = a->priv;
	struct job *q;
	int r;

	while ((q = job_queue_take(&x->jobs))) {
		struct exec_job *j = job_of(q, struct exec_job, job);

		r = spawn(x, j);
		if (r < 0) {
			action_failed(a, "starting `%s`: %s", x->command, strerror(-r));
			job_free(j);
		}
	}
	action_set_timer(a, job_queue_next(&x->jobs));
}

static void job_exited(struct child *c, int status)
{
	struct exec_job *j = c->ctx;
	struct action *a = j->a;
	struct exec_action *x = a->priv;

	if (status < 0)
		action_failed(a, "waiting for `%s`: %s", x->command, strerror(-status));
	else if (c->killed)
		action_failed(a, "`%s` ran longer than its timeout (%lld ms): killed", x->command,
			      (long long)x->timeout_ms);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		action_failed(a, "`%s` exited with status %d", x->command, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		action_failed(a, "`%s` was killed by signal %d", x->command, WTERMSIG(status));
	job_queue_done(&x->jobs, &j->job);
	job_free(j);
	start_queued(a);
}

static void exec_timer(struct action *a, int64_t now_ms)
{
	struct exec_action *x = a->priv;
	struct job *q;

	while ((q = job_queue_expired(&x->jobs, now_ms)))
		child_kill(&job_of(q, struct exec_job, job)->proc);
	action_set_timer(a, job_queue_next(&x->jobs));
}

static int exec_run(struct action *a, const struct action_input *in)
{
	struct exec_action *x = a->priv;
	struct exec_job *j;

	if (job_queue_full(&x->jobs)) {
		action_dropped(a, "all commands busy and the queue full");
		return 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->a = a;
	j->json_len = in->json ? in->json_len : 0;
	if (in->json) {
		j->json = malloc(in->json_len + 1);
		if (j->json) {
			memcpy(j->json, in->json, in->json_len);
			j->json[j->json_len++] = '\n';
		}
	} else {
		struct strbuf sb = STRBUF_INIT;

		if (event_to_json(in->ev, &sb) == 0 && strbuf_addch(&sb, '\n') == 0) {
			j->json = sb.buf;
			j->json_len = sb.len;
		} else {
			strbuf_release(&sb);
		}
	}
	if (!j->json || event_env(&j->env, in) < 0) {
		job_free(j);
		return -ENOMEM;
	}
	job_queue_push(&x->jobs, &j->job);
	start_queued(a);
	return 0;
}

static size_t exec_pending(const struct action *a)
{
	const struct exec_action *x = a->priv;

	return x ? job_queue_pending(&x->jobs) : 0;
}

static void exec_release(struct action *a)
{
	struct exec_action *x = a->priv;
	struct job *q, *next;

	if (!x)
		return;
	for (q = x->jobs.running; q; q = next) {
		next = q->next;
		child_abandon(&job_of(q, struct exec_job, job)->proc);
		job_free(job_of(q, struct exec_job, job));
	}
	for (q = x->jobs.waiting; q; q = next) {
		next = q->next;
		job_free(job_of(q, struct exec_job, job));
	}
	free(x);
	a->priv = NULL;
}

const struct action_ops exec_action = {
	.name = "exec",
	.summary = "run a command with the event as JSON on stdin and BPFD_* variables",
	.keys = exec_keys,
	.check = exec_check,
	.init = exec_init,
	.release = exec_release,
	.run = exec_run,
	.timer = exec_timer,
	.pending = exec_pending,
};
