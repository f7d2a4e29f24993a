// SPDX-License-Identifier: MIT
/*
 * unit.decode: every tracer's decode (tracer_ops.decode, or its description's:
 * tracer_decode()) of the real tracer table (tracers.c), against records
 * crafted here.
 *
 * The hostile cases iterate tracer_table[] and name no tracer, so that a
 * tracer is covered as soon as it is listed: records empty, shorter than
 * the header, of sizes up to twice the largest record, filled with zeros,
 * ones, text without a NUL and noise; the tracer's valid record (when
 * valid_cases[] has one) cut at every length; and that record, or a filled
 * one, with each word after the header overwritten by a large length.
 * Decode must give -EINVAL (or -ENOSPC, -ENAMETOOLONG for what cannot fit
 * the event) or a bounded event (tests/decode_check.h). Every record is
 * decoded from a heap block of its exact size (under ASan, a read past its
 * end is reported) and from just before a page the process cannot read (a
 * read further than the 8-byte alignment past its end faults in any build).
 *
 * Then each tracer's valid records to the exact keys and values expected,
 * and its own inconsistent records (lengths beyond the record or their
 * buffer, values out of their enum) to -EINVAL.
 *
 * BPFD_DECODE_CORPUS=DIR unit.decode also writes each valid record to DIR,
 * prefixed by its tracer's index: the fuzz target's seeds
 * (tests/fuzz/corpus_decode/).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/decode_check.h"
#include "event.h"
#include "lib/strbuf.h"
#include "tracer.h"
#include "tracers/bashreadline/bashreadline.h"
#include "tracers/chmod/chmod.h"
#include "tracers/dockeropenbreakout/dockeropenbreakout.h"
#include "tracers/exec/exec.h"
#include "tracers/filechange/filechange.h"
#include "tracers/open/open.h"
#include "tracers/tcpaccept/tcpaccept.h"
#include "tracers/tcpconnect/tcpconnect.h"
#include "tracers/tcpdrop/tcpdrop.h"

/* Room for any record: twice the largest (exec's, about 28 KiB) and more. */
enum { ARENA = 64 * 1024 };

static char *arena;		/* ARENA bytes, then a page that faults */
static char *guard;		/* arena + ARENA */
static struct event ev;
static struct strbuf json = STRBUF_INIT;
static _Alignas(8) char buf[ARENA];	/* where records are built */

static int setup(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	char *m;

	(void)state;
	if (ARENA % page)
		return -1;
	m = mmap(NULL, ARENA + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	if (mprotect(m + ARENA, page, PROT_NONE) < 0)
		return -1;
	arena = m;
	guard = m + ARENA;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(arena, ARENA + sysconf(_SC_PAGESIZE));
	strbuf_release(&json);
	return 0;
}

static int decode_at(const struct tracer_ops *t, const char *p, size_t size, const char *lo,
		     const char *hi, const char *what)
{
	char why[256];
	int err;

	decode_check_prepare(t, p, size, &ev);
	err = tracer_decode(t, p, size, &ev);
	if (decode_check(t, p, size, lo, hi, err, &ev, &json, why, sizeof(why)) < 0)
		fail_msg("%s (%s)", why, what);
	return err;
}

/*
 * Decodes @size bytes of @rec with @t twice and checks each result; returns
 * decode's, the event in @ev. First from a heap block of exactly @size
 * bytes (ASan's redzone starts at its end), then from the arena, 8-aligned
 * as the ring buffer hands records over, at the last 8-aligned place before
 * the page that faults: a read more than 7 bytes past the record faults in
 * any build (the bytes between are filled with 0x5a). The event left is
 * the arena's: its values stay readable after this returns.
 */
static int decode(const struct tracer_ops *t, const void *rec, size_t size, const char *what)
{
	char *h = malloc(size), *p;
	int heap_err = 0, err;

	assert_true(size <= ARENA);
	if (h) {
		memcpy(h, rec, size);
		heap_err = decode_at(t, h, size, h, h + size, what);
		free(h);
	}
	p = guard - ((size + 7) & ~(size_t)7);
	memcpy(p, rec, size);
	memset(p + size, 0x5a, guard - (p + size));
	err = decode_at(t, p, size, arena, guard, what);
	if (h && err != heap_err)
		fail_msg("%s: %s: %d from the heap, %d from the arena", t->name, what, heap_err,
			 err);
	return err;
}

/*
 * The valid-looking header every crafted record starts with: a cat of
 * pid 4242, uid 1000, @retval.
 */
static void header(void *rec, size_t index, int64_t retval)
{
	struct bpfd_record *h = rec;

	memset(h, 0, sizeof(*h));
	h->type = tracer_record_type(index);
	h->pid = h->tid = 4242;
	h->ppid = 1;
	h->uid = h->gid = 1000;
	h->retval = retval;
	h->ktime_ns = 1000000000;
	memcpy(h->comm, "cat", 4);
}

/* ---- valid records, per tracer ---- */

struct kv {
	const char *key;
	const char *value;
};

struct valid_case {
	const char *tracer;
	const char *name;
	/* Builds the record in buf for tracer @index; returns its size. */
	size_t (*build)(size_t index);
	struct kv expect[EVENT_DATA_MAX + 1];	/* every key the event has, NULL-ended */
};

static size_t exec_script(size_t index)
{
	struct exec_record *r = (struct exec_record *)buf;
	static const char path[] = "/usr/local/bin/tool", arg[] = "./tool", interp[] = "/bin/sh",
			  argv[] = "/bin/sh\0./tool\0-x";
	size_t off = 0;

	memset(r, 0, offsetof(struct exec_record, buf));
	header(r, index, 0);
	memcpy(r->hdr.comm, "tool", 5);
	r->flags = EXEC_SCRIPT | EXEC_ARGV_NUL_SEPARATED;
	r->path_flags = BPFD_PATH_FILE;
	r->path_len = strlen(path);
	memcpy(r->buf, path, r->path_len);
	off += r->path_len;
	r->arg_len = sizeof(arg);	/* with its NUL */
	memcpy(r->buf + off, arg, sizeof(arg));
	off += sizeof(arg);
	r->interp_len = strlen(interp);
	memcpy(r->buf + off, interp, r->interp_len);
	off += r->interp_len;
	r->argv_off = off;
	r->argv_len = sizeof(argv);	/* the last argument's NUL too */
	memcpy(r->buf + off, argv, sizeof(argv));
	r->stdio[0] = EXEC_STDIO_TTY;
	r->stdio[1] = EXEC_STDIO_PIPE;
	r->stdio[2] = EXEC_STDIO_FILE;
	return offsetof(struct exec_record, buf) + off + r->argv_len;
}

/* A failed execveat through the 32-bit entry, its arguments cut short. */
static size_t exec_failed(size_t index)
{
	struct exec_record *r = (struct exec_record *)buf;
	static const char path[] = "/tmp", arg[] = "../etc/x", argv[] = "x\0y";

	memset(r, 0, offsetof(struct exec_record, buf));
	header(r, index, -ENOENT);
	r->flags = EXEC_ARGV_NUL_SEPARATED | EXEC_ARGV_TRUNCATED;
	r->path_flags = BPFD_PATH_BASE;
	r->path_len = strlen(path);
	memcpy(r->buf, path, r->path_len);
	r->arg_len = sizeof(arg);
	memcpy(r->buf + r->path_len, arg, sizeof(arg));
	r->argv_off = r->path_len + r->arg_len;
	r->argv_len = sizeof(argv) - 1;	/* cut: no NUL after the last */
	memcpy(r->buf + r->argv_off, argv, r->argv_len);
	r->syscall = EXEC_SYS_EXECVEAT | EXEC_SYS_COMPAT;
	return offsetof(struct exec_record, buf) + r->argv_off + r->argv_len;
}

static size_t open_ident(size_t index)
{
	struct open_record *r = (struct open_record *)buf;
	static const char path[] = "/etc/hosts", arg[] = "hosts", tail[] = "/hosts";

	memset(r, 0, offsetof(struct open_record, buf));
	header(r, index, 3);
	r->flags = O_RDONLY | O_CLOEXEC;
	r->syscall = OPEN_SYS_OPENAT;
	r->path_flags = BPFD_PATH_FILE;
	r->path_len = strlen(path);
	memcpy(r->buf, path, r->path_len);
	r->arg_len = sizeof(arg);
	memcpy(r->buf + r->path_len, arg, sizeof(arg));
	r->ident.ino = 42;
	r->ident.dev = 7;
	r->ident.depth = 2;
	r->ident.tail_len = strlen(tail);
	memcpy(r->buf + r->path_len + r->arg_len, tail, r->ident.tail_len);
	return offsetof(struct open_record, buf) + r->path_len + r->arg_len + r->ident.tail_len;
}

/* A failed io_uring open, relative to a directory the kernel had no path for. */
static size_t open_failed(size_t index)
{
	struct open_record *r = (struct open_record *)buf;
	static const char arg[] = "x/y";

	memset(r, 0, offsetof(struct open_record, buf));
	header(r, index, -EACCES);
	r->flags = O_WRONLY | O_CREAT | O_TRUNC;
	r->syscall = OPEN_SYS_IO_URING_OPENAT2;
	r->arg_len = sizeof(arg);
	memcpy(r->buf, arg, sizeof(arg));
	return offsetof(struct open_record, buf) + r->arg_len;
}

static size_t bash_line(size_t index)
{
	struct bashreadline_record *r = (struct bashreadline_record *)buf;
	static const char line[] = "curl x | sh";

	header(r, index, 0);
	memcpy(r->hdr.comm, "bash", 5);
	r->flags = 0;
	r->line_len = sizeof(line);
	memcpy(r->line, line, sizeof(line));
	return offsetof(struct bashreadline_record, line) + r->line_len;
}

static size_t bash_truncated(size_t index)
{
	struct bashreadline_record *r = (struct bashreadline_record *)buf;

	header(r, index, 0);
	r->flags = BASHREADLINE_TRUNCATED;
	r->line_len = 4;
	memcpy(r->line, "echo", 4);	/* cut: no NUL */
	return offsetof(struct bashreadline_record, line) + r->line_len;
}

static size_t dob_outside(size_t index)
{
	struct dob_record *r = (struct dob_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, 5);
	r->reason = DOB_OUTSIDE_MOUNT_ROOT;
	r->depth = 2;
	strcpy(r->names[0], "shadow");
	strcpy(r->names[1], "etc");
	r->filename_len = sizeof("../../etc/shadow");
	strcpy(r->filename, "../../etc/shadow");
	return sizeof(*r);
}

static size_t dob_truncated(size_t index)
{
	struct dob_record *r = (struct dob_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, 5);
	r->reason = DOB_HOST_ROOT_FS;
	r->depth = 1;
	r->truncated = 1;
	strcpy(r->names[0], "deep");
	r->filename_len = 0;
	return sizeof(*r);
}

static size_t dob_root(size_t index)
{
	struct dob_record *r = (struct dob_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, 5);
	r->reason = DOB_FOREIGN_MOUNT_NS;
	r->filename_len = 2;
	strcpy(r->filename, "/");
	return sizeof(*r);
}

static void tuple4(struct tcp_tuple *t, const char *s, unsigned int sport, const char *d,
		   unsigned int dport)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, t->saddr), 1);
	assert_int_equal(inet_pton(AF_INET, d, t->daddr), 1);
	t->sport = sport;
	t->dport = dport;
}

static void tuple6(struct tcp_tuple *t, const char *s, unsigned int sport, const char *d,
		   unsigned int dport)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, s, t->saddr), 1);
	assert_int_equal(inet_pton(AF_INET6, d, t->daddr), 1);
	t->sport = sport;
	t->dport = dport;
}

static size_t connect_refused(size_t index)
{
	struct tcpconnect_record *r = (struct tcpconnect_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, -ECONNREFUSED);
	memcpy(r->hdr.comm, "curl", 5);
	tuple4(&r->tuple, "127.0.0.1", 40000, "127.0.0.2", 8080);
	r->syscall = TCPCONNECT_SYS_CONNECT;
	return sizeof(*r);
}

static size_t connect_closed(size_t index)
{
	struct tcpconnect_record *r = (struct tcpconnect_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, TCPCONNECT_CLOSED);
	tuple6(&r->tuple, "::1", 40001, "fd00::2", 443);
	r->syscall = TCPCONNECT_SYS_IO_URING;
	return sizeof(*r);
}

static size_t accept_listen(size_t index)
{
	struct tcpaccept_record *r = (struct tcpaccept_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, 0);
	memcpy(r->hdr.comm, "nginx", 6);
	tuple6(&r->tuple, "::", 8080, "::", 0);
	r->tuple.state = 10;
	r->event = TCPACCEPT_LISTEN;
	r->syscall = TCPACCEPT_SYS_LISTEN;
	return sizeof(*r);
}

static size_t accept_io_uring(size_t index)
{
	struct tcpaccept_record *r = (struct tcpaccept_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, 9);
	tuple4(&r->tuple, "10.0.0.1", 22, "10.0.0.9", 51000);
	r->event = TCPACCEPT_ACCEPT;
	r->syscall = TCPACCEPT_SYS_IO_URING;
	return sizeof(*r);
}

static size_t drop_flow(size_t index)
{
	struct tcpdrop_record *r = (struct tcpdrop_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, 0);
	tuple4(&r->tuple, "127.0.0.1", 8080, "127.0.0.1", 40002);
	r->tuple.state = 1;
	/*
	 * A number the kernel's names would not cover: the names are read by
	 * the tracer's tick, which no unit test runs, so it is shown as is.
	 */
	r->reason = 511;
	r->tcpflags = 0x02 | 0x10 | 0x80;	/* SYN, ACK, CWR */
	r->count = 5;
	return sizeof(*r);
}

/* A flow with no owning process: no comm, no flags. */
static size_t drop_orphan(size_t index)
{
	struct tcpdrop_record *r = (struct tcpdrop_record *)buf;

	memset(r, 0, sizeof(*r));
	header(r, index, 0);
	memset(r->hdr.comm, 0, sizeof(r->hdr.comm));
	r->hdr.pid = 0;
	tuple6(&r->tuple, "fd00::1", 443, "fd00::3", 50000);
	r->reason = 2;
	r->count = 1ull << 40;
	return sizeof(*r);
}

/* A setuid bit set through fchmodat, relative to a directory. */
static size_t chmod_setuid(size_t index)
{
	struct chmod_record *r = (struct chmod_record *)buf;
	static const char path[] = "/usr/local/bin/tool", arg[] = "tool";

	memset(r, 0, offsetof(struct chmod_record, buf));
	header(r, index, 0);
	r->mode = 04755;
	r->syscall = CHMOD_SYS_FCHMODAT;
	r->path_flags = BPFD_PATH_FILE;
	r->path_len = strlen(path);
	memcpy(r->buf, path, r->path_len);
	r->arg_len = sizeof(arg);
	memcpy(r->buf + r->path_len, arg, sizeof(arg));
	return offsetof(struct chmod_record, buf) + r->path_len + r->arg_len;
}

/* renameat2 with RENAME_NOREPLACE: both names, walked and as passed. */
static size_t filechange_rename(size_t index)
{
	struct filechange_record *r = (struct filechange_record *)buf;
	static const char path[] = "/tmp/x", arg[] = "x", target[] = "/etc/cron.d",
			  target_arg[] = "x";
	char *p = r->buf;

	memset(r, 0, offsetof(struct filechange_record, buf));
	header(r, index, 0);
	r->syscall = FC_SYS_RENAMEAT2;
	r->flags = 1;	/* RENAME_NOREPLACE */
	r->path_flags = BPFD_PATH_FILE;
	r->path_len = strlen(path);
	memcpy(p, path, r->path_len);
	p += r->path_len;
	r->arg_len = sizeof(arg);
	memcpy(p, arg, sizeof(arg));
	p += sizeof(arg);
	r->target_flags = BPFD_PATH_BASE;
	r->target_len = strlen(target);
	memcpy(p, target, r->target_len);
	p += r->target_len;
	r->target_arg_len = sizeof(target_arg);
	memcpy(p, target_arg, sizeof(target_arg));
	p += sizeof(target_arg);
	return (size_t)(p - (char *)r);
}

/* utimes through the 32-bit entry: two 32-bit timevals, a time set by hand. */
static size_t filechange_utimes(size_t index)
{
	struct filechange_record *r = (struct filechange_record *)buf;
	static const char path[] = "/var/log/wtmp";
	int32_t tv[4] = { 86400, 5, 978307200, 999999 };

	memset(r, 0, offsetof(struct filechange_record, buf));
	header(r, index, 0);
	r->syscall = FC_SYS_UTIMES | FC_SYS_COMPAT;
	r->times_kind = FC_TIMES_TIMEVAL | FC_TIMES_32;
	r->times_len = sizeof(tv);
	memcpy(r->times, tv, sizeof(tv));
	r->path_flags = BPFD_PATH_FILE;
	r->path_len = strlen(path);
	memcpy(r->buf, path, r->path_len);
	return offsetof(struct filechange_record, buf) + r->path_len;
}

static const struct valid_case valid_cases[] = {
	{ "exec", "script", exec_script,
	  { { "filename", "/usr/local/bin/tool" }, { "argument", "./tool" }, { "resolved", "true" },
	    { "interpreter", "/bin/sh" }, { "fileless", "false" }, { "stdin", "tty" },
	    { "stdout", "pipe" }, { "stderr", "file" }, { "argv", "/bin/sh ./tool -x" },
	    { "command", "tool" }, { "returnval", "0" } } },
	{ "exec", "failed", exec_failed,
	  { { "filename", "/etc/x" }, { "argument", "../etc/x" }, { "resolved", "false" },
	    { "argv", "x y [...]" }, { "syscall", "compat_execveat" }, { "command", "cat" },
	    { "returnval", "-2" } } },
	{ "open", "identity", open_ident,
	  { { "filename", "/etc/hosts" }, { "argument", "hosts" }, { "resolved", "true" },
	    { "flags", "O_RDONLY|O_CLOEXEC" }, { "syscall", "openat" }, { "command", "cat" },
	    { "returnval", "3" } } },
	{ "open", "failed", open_failed,
	  { { "filename", "x/y" }, { "resolved", "false" },
	    { "flags", "O_WRONLY|O_CREAT|O_TRUNC" }, { "syscall", "io_uring_openat2" },
	    { "command", "cat" }, { "returnval", "-13" } } },
	{ "bashreadline", "line", bash_line, { { "command", "curl x | sh" } } },
	{ "bashreadline", "truncated", bash_truncated, { { "command", "echo [...]" } } },
	{ "dockeropenbreakout", "outside", dob_outside,
	  { { "filename", "../../etc/shadow" }, { "path", "/etc/shadow" },
	    { "reason", "outside-mount-root" }, { "command", "cat" }, { "returnval", "5" } } },
	{ "dockeropenbreakout", "truncated", dob_truncated,
	  { { "filename", "" }, { "path", ".../deep" }, { "reason", "host-root-filesystem" },
	    { "command", "cat" }, { "returnval", "5" } } },
	{ "dockeropenbreakout", "root", dob_root,
	  { { "filename", "/" }, { "path", "/" }, { "reason", "foreign-mount-namespace" },
	    { "command", "cat" }, { "returnval", "5" } } },
	{ "tcpconnect", "refused", connect_refused,
	  { { "saddr", "127.0.0.1" }, { "sport", "40000" }, { "daddr", "127.0.0.2" },
	    { "dport", "8080" }, { "family", "ipv4" }, { "outcome", "refused" },
	    { "syscall", "connect" }, { "command", "curl" }, { "returnval", "-111" } } },
	{ "tcpconnect", "closed", connect_closed,
	  { { "saddr", "::1" }, { "sport", "40001" }, { "daddr", "fd00::2" }, { "dport", "443" },
	    { "family", "ipv6" }, { "outcome", "closed" }, { "syscall", "io_uring_connect" },
	    { "command", "cat" }, { "returnval", "0" } } },
	{ "tcpaccept", "listen", accept_listen,
	  { { "saddr", "::" }, { "sport", "8080" }, { "daddr", "::" }, { "dport", "0" },
	    { "family", "ipv6" }, { "event", "listen" }, { "syscall", "listen" },
	    { "command", "nginx" }, { "returnval", "0" } } },
	{ "tcpaccept", "io_uring", accept_io_uring,
	  { { "saddr", "10.0.0.1" }, { "sport", "22" }, { "daddr", "10.0.0.9" },
	    { "dport", "51000" }, { "family", "ipv4" }, { "event", "accept" },
	    { "syscall", "io_uring_accept" }, { "command", "cat" }, { "returnval", "9" } } },
	{ "tcpdrop", "flow", drop_flow,
	  { { "saddr", "127.0.0.1" }, { "sport", "8080" }, { "daddr", "127.0.0.1" },
	    { "dport", "40002" }, { "family", "ipv4" }, { "reason", "511" },
	    { "tcpflags", "SYN|ACK|CWR" }, { "state", "ESTABLISHED" }, { "count", "5" },
	    { "command", "cat" } } },
	{ "chmod", "setuid", chmod_setuid,
	  { { "filename", "/usr/local/bin/tool" }, { "argument", "tool" }, { "resolved", "true" },
	    { "mode", "4755" }, { "setuid", "true" }, { "setgid", "false" },
	    { "world_writable", "false" }, { "syscall", "fchmodat" }, { "command", "cat" },
	    { "returnval", "0" } } },
	{ "filechange", "rename", filechange_rename,
	  { { "operation", "rename" }, { "filename", "/tmp/x" }, { "argument", "x" },
	    { "resolved", "true" }, { "target", "/etc/cron.d/x" },
	    { "target_argument", "x" }, { "flags", "RENAME_NOREPLACE" },
	    { "syscall", "renameat2" }, { "command", "cat" }, { "returnval", "0" } } },
	{ "filechange", "utimes", filechange_utimes,
	  { { "operation", "timestamps" }, { "filename", "/var/log/wtmp" },
	    { "resolved", "true" }, { "times", "set" },
	    { "atime", "1970-01-02T00:00:00.000005000Z" },
	    { "mtime", "2001-01-01T00:00:00.999999000Z" }, { "syscall", "compat_utimes" },
	    { "command", "cat" }, { "returnval", "0" } } },
	{ "tcpdrop", "orphan", drop_orphan,
	  { { "saddr", "fd00::1" }, { "sport", "443" }, { "daddr", "fd00::3" },
	    { "dport", "50000" }, { "family", "ipv6" }, { "reason", "2" }, { "tcpflags", "" },
	    { "state", "" }, { "count", "1099511627776" }, { "command", "" } } },
};

enum { N_VALID = sizeof(valid_cases) / sizeof(valid_cases[0]) };

static const struct tracer_ops *tracer(const char *name, size_t *index)
{
	const struct tracer_ops *t = tracer_find(name, index);

	if (!t)
		fail_msg("no tracer \"%s\" in tracer_table", name);
	return t;
}

/* Builds valid case @c in buf; its tracer and index in *@t, *@index. */
static size_t build(const struct valid_case *c, const struct tracer_ops **t, size_t *index)
{
	*t = tracer(c->tracer, index);
	memset(buf, 0, sizeof(buf));
	return c->build(*index);
}

static void write_corpus(const char *dir, const struct valid_case *c, size_t index, size_t size)
{
	char path[4096];
	unsigned char first = (unsigned char)index;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%s", dir, c->tracer, c->name);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(&first, 1, 1, f), 1);
	assert_int_equal(fwrite(buf, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
}

static void test_valid(void **state)
{
	const char *corpus = getenv("BPFD_DECODE_CORPUS");
	size_t i, j, n, index, len;

	(void)state;
	for (i = 0; i < N_VALID; i++) {
		const struct valid_case *c = &valid_cases[i];
		const struct tracer_ops *t;
		size_t size = build(c, &t, &index);
		const char *v;

		if (corpus)
			write_corpus(corpus, c, index, size);
		if (decode(t, buf, size, c->name) != 0)
			fail_msg("%s %s: decode failed", c->tracer, c->name);
		for (n = 0; c->expect[n].key; n++) {
			v = event_get_data(&ev, c->expect[n].key, &len);
			if (!v)
				fail_msg("%s %s: no %s", c->tracer, c->name, c->expect[n].key);
			if (len != strlen(c->expect[n].value) ||
			    memcmp(v, c->expect[n].value, len) != 0)
				fail_msg("%s %s: %s is \"%.*s\", not \"%s\"", c->tracer, c->name,
					 c->expect[n].key, (int)len, v, c->expect[n].value);
		}
		for (j = 0; j < ev.n_data; j++) {
			for (n = 0; c->expect[n].key; n++)
				if (strcmp(c->expect[n].key, ev.data[j].key) == 0)
					break;
			if (!c->expect[n].key)
				fail_msg("%s %s: unexpected key %s", c->tracer, c->name,
					 ev.data[j].key);
		}
	}
}

/* open's identity: the event carries what the kernel recognised the file by. */
static void test_open_identity(void **state)
{
	const struct tracer_ops *t;
	size_t index, size;

	(void)state;
	t = tracer("open", &index);
	memset(buf, 0, sizeof(buf));
	size = open_ident(index);
	assert_int_equal(decode(t, buf, size, "identity"), 0);
	assert_int_equal(ev.ident_ino, 42);
	assert_int_equal(ev.ident_dev, 7);
	assert_int_equal(ev.ident_depth, 2);
	assert_int_equal(ev.ident_tail_len, 6);
	assert_memory_equal(ev.ident_tail, "/hosts", 6);
}

/* Every tracer listed should have a valid record above; a new one is still covered below. */
static void test_table_covered(void **state)
{
	size_t i, j;

	(void)state;
	assert_true(tracer_count > 0);
	for (i = 0; i < tracer_count; i++) {
		const struct tracer_ops *t = tracer_table[i];

		assert_non_null(t->name);
		assert_true(t->decode || t->decode_desc);
		assert_non_null(t->keys);
		for (j = 0; j < N_VALID; j++)
			if (strcmp(valid_cases[j].tracer, t->name) == 0)
				break;
		if (j == N_VALID)
			print_message("note: tracer %s has no valid record in unit_decode.c "
				      "(only the generic cases run for it)\n", t->name);
	}
	assert_null(tracer_table[tracer_count]);
}

/* ---- hostile records, every tracer ---- */

/* xorshift64: the same noise on every run. */
static uint64_t noise_state = 0x9e3779b97f4a7c15ull;

static uint8_t noise(void)
{
	noise_state ^= noise_state << 13;
	noise_state ^= noise_state >> 7;
	noise_state ^= noise_state << 17;
	return (uint8_t)noise_state;
}

enum fill { FILL_ZERO, FILL_ONES, FILL_TEXT, FILL_SMALL, FILL_NOISE, FILLS };

static const char *const fill_names[] = { "zeros", "0xff", "text without NUL", "0x01", "noise" };

/*
 * @size bytes of @fill in buf, with a header the pipeline would hand to
 * tracer @index when it fits (the type is what picks the decoder; the
 * rest is left to the fill).
 */
static void fill(enum fill how, size_t index, size_t size)
{
	size_t i;

	switch (how) {
	case FILL_ZERO:
		memset(buf, 0, size);
		break;
	case FILL_ONES:
		memset(buf, 0xff, size);
		break;
	case FILL_TEXT:
		for (i = 0; i < size; i++)
			buf[i] = 'a' + i % 26;
		break;
	case FILL_SMALL:
		memset(buf, 1, size);
		break;
	default:
		for (i = 0; i < size; i++)
			buf[i] = (char)noise();
		break;
	}
	if (size >= sizeof(struct bpfd_record))
		((struct bpfd_record *)buf)->type = tracer_record_type(index);
}

/* Sizes tried: every one up to the header and 1 KiB past it, then a spread to ARENA. */
static size_t next_size(size_t size)
{
	if (size < sizeof(struct bpfd_record) + 1024)
		return size + 1;
	return size + 509;	/* a prime: every alignment is met */
}

static void test_empty_and_short(void **state)
{
	size_t i, size;

	(void)state;
	for (i = 0; i < tracer_count; i++) {
		const struct tracer_ops *t = tracer_table[i];

		/* Nothing at all: the record is the faulting page itself. */
		assert_int_equal(decode(t, buf, 0, "empty"), -EINVAL);
		for (size = 1; size < sizeof(struct bpfd_record); size++) {
			fill(FILL_NOISE, i, size);
			if (decode(t, buf, size, "shorter than the header") != -EINVAL)
				fail_msg("%s: %zu bytes decoded", t->name, size);
		}
	}
}

static void test_filled(void **state)
{
	enum fill how;
	size_t i, size;
	char what[64];

	(void)state;
	noise_state = 0x9e3779b97f4a7c15ull;
	for (i = 0; i < tracer_count; i++) {
		for (how = 0; how < FILLS; how++) {
			for (size = 0; size <= ARENA; size = next_size(size)) {
				fill(how, i, size);
				snprintf(what, sizeof(what), "%zu bytes of %s", size, fill_names[how]);
				decode(tracer_table[i], buf, size, what);
			}
			/* Around the powers of two, where records' caps are. */
			for (size = 16; size <= ARENA; size *= 2) {
				fill(how, i, size - 1);
				decode(tracer_table[i], buf, size - 1, fill_names[how]);
				if (size + 1 <= ARENA) {
					fill(how, i, size + 1);
					decode(tracer_table[i], buf, size + 1, fill_names[how]);
				}
			}
		}
	}
}

/* The valid records cut at every length: a variable part cut, a fixed one missing. */
static void test_valid_cut(void **state)
{
	size_t i, index, size, cut;
	char what[96];

	(void)state;
	for (i = 0; i < N_VALID; i++) {
		const struct valid_case *c = &valid_cases[i];
		const struct tracer_ops *t;

		size = build(c, &t, &index);
		for (cut = 0; cut < size; cut++) {
			snprintf(what, sizeof(what), "%s %s cut to %zu of %zu", c->tracer, c->name, cut,
				 size);
			decode(t, buf, cut, what);
		}
	}
}

/*
 * Overwrites, in turn, each 16- and 32-bit word after the header of the
 * @size-byte record in buf with lengths a decoder must not trust: past the
 * record, past any buffer, just past the record's end. Whatever field the
 * word is (a length, an offset, an enum, a flag), decode must stay within
 * the record.
 */
static void mutate_words(const struct tracer_ops *t, size_t size, const char *name)
{
	static _Alignas(8) char orig[ARENA];
	size_t rest = size - sizeof(struct bpfd_record);
	const uint32_t v32[] = { 0xffffffff, 0x80000000, 0x7fffffff, 0x10000,
				 (uint32_t)size, (uint32_t)rest, (uint32_t)rest + 1 };
	const uint16_t v16[] = { 0xffff, 0x8000, 0x7fff, 0x1000, 0x1001, 0x2000, 0x4000,
				 (uint16_t)size, (uint16_t)rest, (uint16_t)(rest + 1) };
	size_t off, end, k;
	char what[96];

	memcpy(orig, buf, size);
	end = size < sizeof(struct bpfd_record) + 512 ? size : sizeof(struct bpfd_record) + 512;
	for (off = sizeof(struct bpfd_record); off + 2 <= end; off += 2) {
		for (k = 0; k < sizeof(v16) / sizeof(v16[0]); k++) {
			memcpy(buf, orig, size);
			memcpy(buf + off, &v16[k], 2);
			snprintf(what, sizeof(what), "%s: u16 at %zu = %u", name, off, v16[k]);
			decode(t, buf, size, what);
		}
		if (off % 4 || off + 4 > end)
			continue;
		for (k = 0; k < sizeof(v32) / sizeof(v32[0]); k++) {
			memcpy(buf, orig, size);
			memcpy(buf + off, &v32[k], 4);
			snprintf(what, sizeof(what), "%s: u32 at %zu = %u", name, off, v32[k]);
			decode(t, buf, size, what);
		}
	}
	memcpy(buf, orig, size);
}

static void test_oversized_lengths(void **state)
{
	size_t i, j, index, size;
	char name[96];

	(void)state;
	for (i = 0; i < tracer_count; i++) {
		const struct tracer_ops *t = tracer_table[i];

		/* Small lengths in a record as long as any of this tracer's. */
		fill(FILL_SMALL, i, ARENA / 2);
		mutate_words(t, ARENA / 2, "0x01 record");
		fill(FILL_ZERO, i, sizeof(struct bpfd_record) + 256);
		mutate_words(t, sizeof(struct bpfd_record) + 256, "short zero record");
		fill(FILL_TEXT, i, 4096);
		mutate_words(t, 4096, "text record");
		for (j = 0; j < N_VALID; j++) {
			const struct valid_case *c = &valid_cases[j];

			if (strcmp(c->tracer, t->name) != 0)
				continue;
			size = build(c, &t, &index);
			snprintf(name, sizeof(name), "%s %s", c->tracer, c->name);
			mutate_words(t, size, name);
		}
	}
}

/* ---- each tracer's own inconsistent records ---- */

static void expect_einval(const struct tracer_ops *t, size_t size, const char *what)
{
	int err = decode(t, buf, size, what);

	if (err != -EINVAL)
		fail_msg("%s: %s: %d, not -EINVAL", t->name, what, err);
}

static void test_exec_inconsistent(void **state)
{
	struct exec_record *r = (struct exec_record *)buf;
	size_t head = offsetof(struct exec_record, buf), index, size;
	const struct tracer_ops *t = tracer("exec", &index);

	(void)state;
	size = exec_script(index);
	expect_einval(t, head - 1, "shorter than its fixed part");
	expect_einval(t, size - 1, "arguments cut by the record's end");
	r->argv_len = 0xffff;
	expect_einval(t, size, "argv_len past the record");
	exec_script(index);
	r->path_len = BPFD_PATH_MAX + 1;
	expect_einval(t, size, "path_len past its buffer");
	exec_script(index);
	r->arg_len = EXEC_FILENAME_MAX + 1;
	expect_einval(t, size, "arg_len past its buffer");
	exec_script(index);
	r->interp_len = BPFD_PATH_MAX + 1;
	expect_einval(t, size, "interp_len past its buffer");
	exec_script(index);
	r->interp_len += 1;
	expect_einval(t, size, "path, name and interpreter past argv_off");
	exec_script(index);
	r->argv_off = sizeof(r->buf) + 1;
	expect_einval(t, size, "argv_off past the buffer");
	/*
	 * Arguments within a record longer than the struct, but past their
	 * buffer: more than the program ever sends (EXEC_ARGV_MAX).
	 */
	exec_script(index);
	r->path_len = r->arg_len = r->interp_len = 0;
	r->argv_off = sizeof(r->buf) - EXEC_ARGV_MAX;
	r->argv_len = EXEC_ARGV_MAX + 1;
	memset(buf + head, 'a', sizeof(r->buf) + 1);
	expect_einval(t, sizeof(*r) + 1, "argv_len past its buffer, within the record");
	exec_script(index);
	r->syscall = EXEC_SYS_COUNT;
	expect_einval(t, size, "unknown syscall");
	exec_script(index);
	r->syscall = EXEC_SYS_NONE | EXEC_SYS_COMPAT;
	expect_einval(t, size, "no syscall through the 32-bit entry");
}

static void test_open_inconsistent(void **state)
{
	struct open_record *r = (struct open_record *)buf;
	size_t head = offsetof(struct open_record, buf), index, size, len;
	const struct tracer_ops *t = tracer("open", &index);
	const char *v;

	(void)state;
	size = open_ident(index);
	expect_einval(t, head - 1, "shorter than its fixed part");
	expect_einval(t, size - 1, "identity tail cut by the record's end");
	r->path_len = BPFD_PATH_MAX + 1;
	expect_einval(t, size, "path_len past its buffer");
	open_ident(index);
	r->arg_len = OPEN_FILENAME_MAX + 1;
	expect_einval(t, size, "arg_len past its buffer");
	open_ident(index);
	r->ident.tail_len = BPFD_IDENT_TAIL_MAX;
	expect_einval(t, size, "tail_len past its buffer");
	open_ident(index);
	r->arg_len = 0xffff;
	expect_einval(t, size, "arg_len past the record");
	open_ident(index);
	r->syscall = OPEN_SYS_COUNT;
	expect_einval(t, size, "unknown syscall");
	open_ident(index);
	r->syscall = OPEN_SYS_IO_URING_OPENAT | OPEN_SYS_COMPAT;
	expect_einval(t, size, "io_uring through the 32-bit entry");
	/* A name that fills its length without a NUL: bounded by its length. */
	open_failed(index);
	r->arg_len = 3;
	memcpy(r->buf, "abc", 3);
	assert_int_equal(decode(t, buf, head + 3, "name without NUL"), 0);
	v = event_get_data(&ev, "filename", &len);
	assert_non_null(v);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "abc", 3);
}

static void test_bashreadline_inconsistent(void **state)
{
	struct bashreadline_record *r = (struct bashreadline_record *)buf;
	size_t head = offsetof(struct bashreadline_record, line), index, size, len;
	const struct tracer_ops *t = tracer("bashreadline", &index);
	const char *v;

	(void)state;
	size = bash_line(index);
	expect_einval(t, head - 1, "shorter than its fixed part");
	expect_einval(t, size - 1, "line cut by the record's end");
	r->line_len = BASHREADLINE_LINE_MAX + 1;
	expect_einval(t, sizeof(*r) + 1, "line_len past its buffer");
	/* A whole line without its NUL: the line's length, not a byte more. */
	header(r, index, 0);
	r->flags = 0;
	r->line_len = BASHREADLINE_LINE_MAX;
	memset(r->line, 'x', BASHREADLINE_LINE_MAX);
	assert_int_equal(decode(t, buf, sizeof(*r), "line without NUL"), 0);
	v = event_get_data(&ev, "command", &len);
	assert_non_null(v);
	assert_int_equal(len, BASHREADLINE_LINE_MAX);
	/* The same, truncated: the mark after it, in the scratch. */
	r->flags = BASHREADLINE_TRUNCATED;
	assert_int_equal(decode(t, buf, sizeof(*r), "truncated line without NUL"), 0);
	v = event_get_data(&ev, "command", &len);
	assert_int_equal(len, BASHREADLINE_LINE_MAX + strlen(" [...]"));
	assert_memory_equal(v + BASHREADLINE_LINE_MAX, " [...]", 6);
}

static void test_dockeropenbreakout_inconsistent(void **state)
{
	struct dob_record *r = (struct dob_record *)buf;
	size_t index, size, len, i;
	const struct tracer_ops *t = tracer("dockeropenbreakout", &index);
	const char *v;

	(void)state;
	size = dob_outside(index);
	expect_einval(t, size - 1, "shorter than the record");
	r->depth = DOB_DEPTH_MAX + 1;
	expect_einval(t, size, "depth past names[]");
	dob_outside(index);
	r->filename_len = DOB_FILENAME_MAX + 1;
	expect_einval(t, size, "filename_len past its buffer");
	dob_outside(index);
	r->reason = 0;
	expect_einval(t, size, "reason 0");
	r->reason = DOB_HOST_ROOT_FS + 1;
	expect_einval(t, size, "reason past the last");
	/* Every name and the file name filled without a NUL: bounded by their buffers. */
	dob_outside(index);
	r->depth = DOB_DEPTH_MAX;
	r->truncated = 1;
	r->filename_len = DOB_FILENAME_MAX;
	memset(r->filename, 'f', sizeof(r->filename));
	memset(r->names, 'n', sizeof(r->names));
	assert_int_equal(decode(t, buf, size, "names without NUL"), 0);
	v = event_get_data(&ev, "filename", &len);
	assert_int_equal(len, DOB_FILENAME_MAX);
	v = event_get_data(&ev, "path", &len);
	assert_int_equal(len, 3 + DOB_DEPTH_MAX * (1 + DOB_NAME_MAX));
	assert_memory_equal(v, ".../nnn", 7);
	for (i = 0; i < DOB_DEPTH_MAX; i++)
		assert_int_equal(v[3 + i * (1 + DOB_NAME_MAX)], '/');
}

static void test_tcp_inconsistent(void **state)
{
	struct tcpconnect_record *c = (struct tcpconnect_record *)buf;
	struct tcpaccept_record *a = (struct tcpaccept_record *)buf;
	const struct tracer_ops *t;
	size_t index, size;

	(void)state;
	t = tracer("tcpconnect", &index);
	size = connect_refused(index);
	expect_einval(t, size - 1, "shorter than the record");
	c->syscall = TCPCONNECT_SYS_IO_URING + 1;
	expect_einval(t, size, "unknown syscall");

	t = tracer("tcpaccept", &index);
	size = accept_listen(index);
	expect_einval(t, size - 1, "shorter than the record");
	a->event = TCPACCEPT_LISTEN + 1;
	expect_einval(t, size, "unknown event");
	accept_listen(index);
	a->syscall = TCPACCEPT_SYS_COUNT;
	expect_einval(t, size, "unknown syscall");

	t = tracer("tcpdrop", &index);
	size = drop_flow(index);
	expect_einval(t, size - 1, "shorter than the record");
	/* A state past the kernel's names, every flag: named as unknown, all flags. */
	((struct tcpdrop_record *)buf)->tuple.state = 200;
	((struct tcpdrop_record *)buf)->tcpflags = 0xff;
	assert_int_equal(decode(t, buf, size, "unknown state"), 0);
	assert_string_equal(event_get_data(&ev, "state", NULL), "UNKNOWN");
	assert_non_null(event_get_data(&ev, "tcpflags", NULL));
	assert_memory_equal(event_get_data(&ev, "tcpflags", NULL), "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR",
			    31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_covered),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_open_identity),
		cmocka_unit_test(test_empty_and_short),
		cmocka_unit_test(test_filled),
		cmocka_unit_test(test_valid_cut),
		cmocka_unit_test(test_oversized_lengths),
		cmocka_unit_test(test_exec_inconsistent),
		cmocka_unit_test(test_open_inconsistent),
		cmocka_unit_test(test_bashreadline_inconsistent),
		cmocka_unit_test(test_dockeropenbreakout_inconsistent),
		cmocka_unit_test(test_tcp_inconsistent),
	};

	return cmocka_run_group_tests_name("decode", tests, setup, teardown);
}
