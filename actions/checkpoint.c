// SPDX-License-Identifier: MIT
/*
 * checkpoint: dumps the event's container with CRIU, from the container's
 * init down (`criu dump --tree PID`), into a new directory
 * `directory`/<container id>-<UTC time> of images, leaving it running
 * unless `leave_running = false`. CRIU's output goes to criu-dump.log in
 * that directory; when the dump fails, the failure names CRIU's own
 * reason (its last error line, and its first when they differ).
 *
 * Never blocks the loop: criu is spawned and its exit watched through a
 * pidfd, as exec does; one that runs past `timeout` is killed with its
 * process group. One dump per container at a time, at most
 * CHECKPOINT_RUNNING_MAX at once; events beyond are dropped (counted).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/child.h"
#include "lib/log.h"
#include "actions/container_target.h"
#include "actions/jobs.h"

extern char **environ;

enum {
	CHECKPOINT_RUNNING_MAX = 4,
	CHECKPOINT_LOG_READ_MAX = 4 << 20,	/* of criu's log, looking for its errors */
	CHECKPOINT_REASON_MAX = 400,
};
#define CHECKPOINT_DEFAULT_DIRECTORY "/var/lib/bpfd/checkpoints"
#define CHECKPOINT_DEFAULT_TIMEOUT "60s"
#define CHECKPOINT_LOG "criu-dump.log"

/* Where criu is looked for besides PATH: the daemon may run with a short one. */
static const char *const criu_dirs[] = { "/usr/local/sbin", "/usr/sbin", "/sbin", NULL };

struct checkpoint_job {
	struct job job;			/* its slot; its deadline */
	struct action *a;
	char id[CONTAINER_ID_MAX + 1];
	char dir[PATH_MAX];		/* the images */
	struct child proc;		/* criu */
};

/* a->priv. The hierarchy first: container_action_hierarchy() reads it there. */
struct checkpoint_action {
	struct cgroup_hierarchy h;
	const char *directory;
	const char *criu;
	int64_t timeout_ms;
	bool leave_running;
	/* CHECKPOINT_RUNNING_MAX slots, none waiting: a checkpoint runs at once or not at all. */
	struct job_queue jobs;
};

static const char *const checkpoint_keys[] = { "directory", "criu", "timeout", "leave_running",
					       NULL };

static int checkpoint_check(const char *key, const char *value, char *err, size_t size)
{
	int64_t ms;
	bool b;

	if (strcmp(key, "directory") == 0 && value[0] != '/') {
		snprintf(err, size, "directory: \"%s\" is not an absolute path", value);
		return -EINVAL;
	}
	if (strcmp(key, "criu") == 0 && !value[0]) {
		snprintf(err, size, "criu: empty");
		return -EINVAL;
	}
	if (strcmp(key, "timeout") == 0 && (config_parse_duration_ms(value, &ms) < 0 || !ms)) {
		snprintf(err, size, "timeout: \"%s\" is not a duration like 60s", value);
		return -EINVAL;
	}
	if (strcmp(key, "leave_running") == 0 && config_parse_bool(value, &b) < 0) {
		snprintf(err, size, "leave_running: \"%s\" is not true or false", value);
		return -EINVAL;
	}
	return 0;
}

static int checkpoint_init(struct action *a, char *err, size_t size)
{
	struct checkpoint_action *c = calloc(1, sizeof(*c));

	(void)err;
	(void)size;
	if (!c)
		return -ENOMEM;
	cgroup_hierarchy_init(&c->h, a->env->cgroup_mount, a->env->cgroup2);
	c->directory = action_setting(a, "directory", CHECKPOINT_DEFAULT_DIRECTORY);
	c->criu = action_setting(a, "criu", "criu");
	config_parse_duration_ms(action_setting(a, "timeout", CHECKPOINT_DEFAULT_TIMEOUT),
				 &c->timeout_ms);
	c->leave_running = true;
	config_parse_bool(action_setting(a, "leave_running", "true"), &c->leave_running);
	job_queue_init(&c->jobs, CHECKPOINT_RUNNING_MAX, 0);
	a->priv = c;
	return 0;
}

/* mkdir -p @path, new directories 0700 (checkpoints hold process memory). */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path), i;

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

/* Makes the new images directory <directory>/<id>-<UTC time>[-N] into @out. */
static int make_images_dir(const struct checkpoint_action *c, const char *id, char *out,
			   size_t size)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int r, n, i;

	r = mkdir_p(c->directory);
	if (r < 0)
		return r;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 1; i < 100; i++) {
		if (i == 1)
			n = snprintf(out, size, "%s/%s-%s", c->directory, id, stamp);
		else
			n = snprintf(out, size, "%s/%s-%s-%d", c->directory, id, stamp, i);
		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		if (mkdir(out, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* The criu binary: @name itself when it has a '/', else from PATH or criu_dirs. */
static bool find_criu(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char dirs[4096], *dir, *save;
	size_t i;

	if (strchr(name, '/')) {
		snprintf(out, size, "%s", name);
		return access(out, X_OK) == 0;
	}
	snprintf(dirs, sizeof(dirs), "%s", path ? path : "");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/%s", dir, name);
		if (access(out, X_OK) == 0)
			return true;
	}
	for (i = 0; criu_dirs[i]; i++) {
		snprintf(out, size, "%s/%s", criu_dirs[i], name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

static void job_exited(struct child *proc, int status);

static int spawn_criu(struct checkpoint_action *c, struct checkpoint_job *j, const char *criu,
		      pid_t init)
{
	char tree[16], log[PATH_MAX + 32];
	char *argv[32];
	struct child_stdio io = { .in = -1 };
	int logfd, n = 0, r;

	snprintf(tree, sizeof(tree), "%d", (int)init);
	snprintf(log, sizeof(log), "%s/" CHECKPOINT_LOG, j->dir);
	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	if (logfd < 0)
		return -errno;
	argv[n++] = (char *)criu;
	argv[n++] = "dump";
	argv[n++] = "--tree";
	argv[n++] = tree;
	argv[n++] = "--images-dir";
	argv[n++] = j->dir;
	if (c->leave_running)
		argv[n++] = "--leave-running";
	/*
	 * What a container's processes commonly hold: a terminal from
	 * `docker run -t` (shell-job), cgroup settings, established TCP,
	 * unix sockets to the outside, file locks, and the mounts the
	 * runtime bind-mounted in from the host (ext-mount-map auto, with
	 * their propagation).
	 */
	argv[n++] = "--shell-job";
	argv[n++] = "--manage-cgroups";
	argv[n++] = "--tcp-established";
	argv[n++] = "--ext-unix-sk";
	argv[n++] = "--file-locks";
	argv[n++] = "--ext-mount-map";
	argv[n++] = "auto";
	argv[n++] = "--enable-external-sharing";
	argv[n++] = "--enable-external-masters";
	argv[n] = NULL;

	io.out = io.err = logfd;
	r = child_spawn(&j->proc, j->a->env->loop, criu, argv, environ, &io, job_exited, j);
	close(logfd);
	if (r < 0)
		return r;
	return 0;
}

/* "Error (criu/vdso.c:613): vdso: ..." → "vdso: ...", without the newline. */
static void error_text(const char *line, char *out, size_t size)
{
	const char *p = line;
	size_t len;

	if (strncmp(p, "Error (", 7) == 0 && strstr(p, "): "))
		p = strstr(p, "): ") + 3;
	len = strcspn(p, "\n");
	if (len >= size)
		len = size - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

/*
 * CRIU's reason from its log: its last "Error" line, with its first when
 * that differs (the first is often the cause, the last the consequence);
 * else its last line. "" when the log says nothing.
 */
static void criu_reason(const char *log, char *out, size_t size)
{
	char line[1024], first[CHECKPOINT_REASON_MAX / 2] = "", last[CHECKPOINT_REASON_MAX / 2] = "";
	char any[CHECKPOINT_REASON_MAX / 2] = "";
	size_t read_bytes = 0;
	FILE *f = fopen(log, "re");

	while (f && read_bytes < CHECKPOINT_LOG_READ_MAX && fgets(line, sizeof(line), f)) {
		read_bytes += strlen(line);
		if (line[0] != '\n')
			error_text(line, any, sizeof(any));
		if (strncmp(line, "Error", 5) != 0)
			continue;
		error_text(line, last, sizeof(last));
		if (!first[0])
			snprintf(first, sizeof(first), "%s", last);
	}
	if (f)
		fclose(f);
	if (!last[0])
		snprintf(out, size, "%s", any[0] ? any : "no output");
	else if (strcmp(first, last) != 0)
		snprintf(out, size, "%s (first error: %s)", last, first);
	else
		snprintf(out, size, "%s", last);
}

static void arm_timer(struct action *a)
{
	struct checkpoint_action *c = a->priv;

	action_set_timer(a, job_queue_next(&c->jobs));
}

static void job_exited(struct child *proc, int status)
{
	struct checkpoint_job *j = proc->ctx;
	struct action *a = j->a;
	struct checkpoint_action *c = a->priv;
	char log[PATH_MAX + 32], reason[CHECKPOINT_REASON_MAX];

	snprintf(log, sizeof(log), "%s/" CHECKPOINT_LOG, j->dir);
	if (status < 0) {
		action_failed(a, "waiting for criu (container %s): %s", j->id, strerror(-status));
	} else if (proc->killed) {
		action_failed(a, "criu dump of container %s ran longer than its timeout (%lld ms): "
			      "killed (log: %s)", j->id, (long long)c->timeout_ms, log);
	} else if (WIFSIGNALED(status)) {
		action_failed(a, "criu dump of container %s was killed by signal %d (log: %s)",
			      j->id, WTERMSIG(status), log);
	} else if (WEXITSTATUS(status) != 0) {
		criu_reason(log, reason, sizeof(reason));
		action_failed(a, "criu dump of container %s failed: %s (log: %s)", j->id, reason,
			      log);
	} else {
		log_info("checkpointed container %s into %s%s", j->id, j->dir,
			 c->leave_running ? "" : " (criu stopped it)");
	}
	job_queue_done(&c->jobs, &j->job);
	free(j);
	arm_timer(a);
}

static int checkpoint_run(struct action *a, const struct action_input *in)
{
	struct checkpoint_action *c = a->priv;
	struct container_target t;
	struct checkpoint_job *j;
	struct job *q;
	char why[512], criu[PATH_MAX];
	pid_t init = 0;
	int r, init_r;

	if (container_target_of(a, in->ev, "checkpointing", &t, why, sizeof(why)) < 0) {
		action_failed(a, "%s", why);
		return 0;
	}
	init_r = container_cgroup_init_pid(&t.dir, &init);
	container_target_release(&t);
	for (q = c->jobs.running; q; q = q->next) {
		if (strcmp(job_of(q, struct checkpoint_job, job)->id, t.info.id) == 0) {
			action_dropped(a, "a checkpoint of this container is still running");
			return 0;
		}
	}
	if (job_queue_full(&c->jobs)) {
		action_dropped(a, "too many checkpoints running");
		return 0;
	}
	if (!find_criu(c->criu, criu, sizeof(criu))) {
		action_failed(a, "criu dump of container %s: `%s` not found (in PATH, %s, %s): "
			      "install the criu package", t.info.id, c->criu, criu_dirs[0],
			      criu_dirs[1]);
		return 0;
	}
	if (init_r < 0) {
		action_failed(a, "container %s: no process to checkpoint in cgroup %s: %s",
			      t.info.id, t.path, strerror(-init_r));
		return 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->a = a;
	snprintf(j->id, sizeof(j->id), "%s", t.info.id);
	r = make_images_dir(c, t.info.id, j->dir, sizeof(j->dir));
	if (r < 0) {
		action_failed(a, "container %s: making a directory in %s: %s", t.info.id,
			      c->directory, strerror(-r));
		free(j);
		return 0;
	}
	r = spawn_criu(c, j, criu, init);
	if (r < 0) {
		action_failed(a, "container %s: starting %s: %s", t.info.id, criu, strerror(-r));
		free(j);
		return 0;
	}
	log_info("checkpointing %s container %s (init pid %d) into %s", t.info.runtime, t.info.id,
		 (int)init, j->dir);
	job_queue_run(&c->jobs, &j->job, loop_now_ms() + c->timeout_ms);
	arm_timer(a);
	return 0;
}

static void checkpoint_timer(struct action *a, int64_t now_ms)
{
	struct checkpoint_action *c = a->priv;
	struct job *q;

	while ((q = job_queue_expired(&c->jobs, now_ms)))
		child_kill(&job_of(q, struct checkpoint_job, job)->proc);
	arm_timer(a);
}

static size_t checkpoint_pending(const struct action *a)
{
	const struct checkpoint_action *c = a->priv;

	return c ? job_queue_pending(&c->jobs) : 0;
}

static void checkpoint_release(struct action *a)
{
	struct checkpoint_action *c = a->priv;
	struct job *q, *next;

	if (!c)
		return;
	for (q = c->jobs.running; q; q = next) {
		next = q->next;
		child_abandon(&job_of(q, struct checkpoint_job, job)->proc);
		free(job_of(q, struct checkpoint_job, job));
	}
	free(c);
	a->priv = NULL;
}

const struct action_ops checkpoint_action = {
	.name = "checkpoint",
	.summary = "dump the event's container with CRIU (criu dump --tree its init) into "
		   "`directory`",
	.destructive = true,
	.keys = checkpoint_keys,
	.check = checkpoint_check,
	.init = checkpoint_init,
	.release = checkpoint_release,
	.run = checkpoint_run,
	.timer = checkpoint_timer,
	.pending = checkpoint_pending,
};
