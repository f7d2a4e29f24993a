// SPDX-License-Identifier: MIT
/*
 * The event model and its renderings: JSON for the protocol and `--json`,
 * one line of text for humans.
 *
 * event_to_json() runs for every event a subscriber takes, hundreds of
 * thousands a second, so it does not go through jansson or printf: it
 * reserves the worst case in the strbuf once and then writes through a bare
 * pointer. The text form has one writer, text_format(); event_json_to_text()
 * rebuilds a struct event from the JSON and calls the same writer, so what a
 * client prints and what the daemon prints cannot drift apart.
 *
 * Both renderings see strings as sequences of Unicode scalar values: every
 * ill-formed UTF-8 subsequence becomes U+FFFD, in JSON and in text alike,
 * and the text escapes are a function of that sequence only. That is what
 * makes text(event) == text(json(event)) hold for arbitrary bytes.
 */
#include "event.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container_meta.h"

#define NSEC_PER_SEC 1000000000ull

/* Copies string literal @lit to @p and evaluates to the end of the copy. */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static const char hex_digits[] = "0123456789abcdef";
static const char replacement_char[] = "\xef\xbf\xbd";	/* U+FFFD */

static inline const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/*
 * Eight bytes at a time (SWAR): most strings are plain ASCII that needs no
 * escape, and a word-wide test finds the first byte that does without a
 * table lookup per byte. has_zero() flags exactly the first zero byte of a
 * word (borrows only run upward), so the lowest flag is always right.
 */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load64(const unsigned char *s)
{
	uint64_t v;

	memcpy(&v, s, sizeof(v));
	return v;
}

static inline uint64_t has_zero(uint64_t v)
{
	return (v - ONES) & ~v & HIGHS;
}

static inline uint64_t has_byte(uint64_t v, unsigned char b)
{
	return has_zero(v ^ (ONES * b));
}

/* Any byte below @n, for n <= 128. */
static inline uint64_t has_less(uint64_t v, unsigned char n)
{
	return (v - ONES * n) & ~v & HIGHS;
}

/* How many bytes precede the first flagged one; 0 where the order is unknown. */
static inline size_t first_flagged(uint64_t flags)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_ctzll(flags) / 8;
#else
	(void)flags;
	return 0;
#endif
}

/* ------------------------------------------------------------------ */
/* Building an event                                                    */

void event_init(struct event *ev)
{
	/*
	 * The arrays behind the counters, the scratch space above all (24 KiB),
	 * are not cleared: the counters guard them, and this runs per sample.
	 */
	memset(ev, 0, offsetof(struct event, rules));
	ev->tracer = "";
	ev->hostname = "";
	ev->container_runtime = "not-found";
	ev->container_id = "";
	ev->container_owner_uid = -1;
	ev->n_rules = 0;
	ev->rules_omitted = 0;
	ev->replayed = false;
	ev->priority = NULL;
	ev->n_tags = 0;
	ev->n_data = 0;
	ev->scratch_used = 0;
}

static struct event_kv *event_find_data(const struct event *ev, const char *key, size_t key_len)
{
	for (size_t i = 0; i < ev->n_data; i++)
		if (ev->data[i].key_len == key_len && !memcmp(ev->data[i].key, key, key_len))
			return (struct event_kv *)&ev->data[i];
	return NULL;
}

/*
 * `data` is a map (docs/protocol.md §4.4): adding a key that is already there replaces its
 * value. Two equal keys would make an object that JSON readers collapse
 * differently, and the text and JSON forms would disagree.
 */
int event_add_data_key(struct event *ev, const char *key, size_t key_len, const char *value,
		       size_t len)
{
	struct event_kv *kv = event_find_data(ev, key, key_len);

	if (!kv) {
		if (ev->n_data >= EVENT_DATA_MAX)
			return -ENOSPC;
		kv = &ev->data[ev->n_data++];
		kv->key = key;
		kv->key_len = key_len;
	}
	kv->value = value ? value : "";
	kv->len = value ? len : 0;
	return 0;
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Writes @v in decimal at @p, returns the end. At most 20 bytes. Two digits a division. */
static char *put_u64(char *p, uint64_t v)
{
	char tmp[20], *t = tmp + sizeof(tmp);
	size_t n;

	while (v >= 100) {
		t -= 2;
		memcpy(t, digit_pairs + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		t -= 2;
		memcpy(t, digit_pairs + v * 2, 2);
	} else {
		*--t = '0' + v;
	}
	n = tmp + sizeof(tmp) - t;
	memcpy(p, t, n);
	return p + n;
}

/* At most 20 digits and a sign. */
static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, -(uint64_t)v);
	}
	return put_u64(p, v);
}

enum { I64_TEXT_MAX = 21 };

char *event_scratch_alloc(struct event *ev, size_t len)
{
	char *p;

	if (len > sizeof(ev->scratch) - ev->scratch_used)
		return NULL;
	p = ev->scratch + ev->scratch_used;
	ev->scratch_used += len;
	return p;
}

int event_add_int_key(struct event *ev, const char *key, size_t key_len, int64_t value)
{
	char tmp[I64_TEXT_MAX];
	size_t n = put_i64(tmp, value) - tmp;
	char *dst;

	/* Check the slot first so that a failure does not eat scratch space. */
	if (!event_find_data(ev, key, key_len) && ev->n_data >= EVENT_DATA_MAX)
		return -ENOSPC;
	/* NUL-terminated although the length is kept: cheap, and safe for C string users. */
	dst = event_scratch_alloc(ev, n + 1);
	if (!dst)
		return -ENOSPC;
	memcpy(dst, tmp, n);
	dst[n] = '\0';
	return event_add_data_key(ev, key, key_len, dst, n);
}

const char *event_get_data(const struct event *ev, const char *key, size_t *len)
{
	const struct event_kv *kv = event_find_data(ev, key, strlen(key));

	if (!kv)
		return NULL;
	if (len)
		*len = kv->len;
	return kv->value;
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                                */

/*
 * Decodes the sequence at @s (n > 0 bytes). Returns its length when it is
 * well-formed (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF) with the code point in *@cp; otherwise minus the length of its
 * maximal subpart, the bytes one U+FFFD stands for (Unicode §3.9, the
 * practice of the WHATWG decoder): a bad lead byte alone, or a lead byte
 * with the continuation bytes that were still acceptable.
 */
static inline int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	uint32_t v;
	int need, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xc2) {			/* continuation byte, or C0/C1 overlong lead */
		return -1;
	} else if (c < 0xe0) {
		need = 1;
		v = c & 0x1f;
	} else if (c < 0xf0) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c < 0xf5) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return -1;
	}
	for (i = 1; i <= need; i++) {
		if ((size_t)i >= n || s[i] < lo || s[i] > hi)
			return -i;
		v = v << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

/* Whether @a and @b are the same after ill-formed sequences became U+FFFD. */
static bool utf8_sanitized_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	size_t i = 0, j = 0;

	while (i < alen && j < blen) {
		uint32_t cx = 0xfffd, cy = 0xfffd;
		int nx = utf8_decode(x + i, alen - i, &cx);
		int ny = utf8_decode(y + j, blen - j, &cy);

		if (nx < 0) {
			nx = -nx;
			cx = 0xfffd;
		}
		if (ny < 0) {
			ny = -ny;
			cy = 0xfffd;
		}
		if (cx != cy)
			return false;
		i += nx;
		j += ny;
	}
	return i == alen && j == blen;
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */

static inline char *put_2digits(char *p, unsigned v)
{
	p[0] = '0' + v / 10 % 10;
	p[1] = '0' + v % 10;
	return p + 2;
}

/*
 * Events arrive in bursts within the same second, so the date and time of
 * day are computed once per second and only the nanoseconds per call. The
 * cache is per thread, which costs nothing in a single-threaded daemon and
 * keeps the function safe anywhere else.
 */
void event_format_time(uint64_t time_ns, char buf[EVENT_TIME_LEN])
{
	static _Thread_local uint64_t cached_sec = UINT64_MAX;
	static _Thread_local char cached[19];	/* "YYYY-MM-DDTHH:MM:SS" */
	uint64_t sec = time_ns / NSEC_PER_SEC;
	uint32_t nsec = time_ns % NSEC_PER_SEC;
	int i;

	if (sec != cached_sec) {
		/* UINT64_MAX ns is in 2554: four-digit years, and time_t cannot overflow. */
		time_t t = (time_t)sec;
		struct tm tm;
		char *p = cached;

		if (!gmtime_r(&t, &tm))
			memset(&tm, 0, sizeof(tm));
		p = put_2digits(p, (tm.tm_year + 1900) / 100);
		p = put_2digits(p, (tm.tm_year + 1900) % 100);
		*p++ = '-';
		p = put_2digits(p, tm.tm_mon + 1);
		*p++ = '-';
		p = put_2digits(p, tm.tm_mday);
		*p++ = 'T';
		p = put_2digits(p, tm.tm_hour);
		*p++ = ':';
		p = put_2digits(p, tm.tm_min);
		*p++ = ':';
		put_2digits(p, tm.tm_sec);
		cached_sec = sec;
	}
	memcpy(buf, cached, sizeof(cached));
	buf[19] = '.';
	for (i = 28; i >= 20; i--) {
		buf[i] = '0' + nsec % 10;
		nsec /= 10;
	}
	buf[29] = 'Z';
	buf[30] = '\0';
}

static int parse_digits(const char **s, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*s)[i];

		if (c < '0' || c > '9')
			return -EINVAL;
		v = v * 10 + (c - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

/*
 * Inverse of event_format_time(), for event_json_to_text(). Takes
 * "YYYY-MM-DDTHH:MM:SS[.f]Z" with 0 to 9 fraction digits and rejects
 * anything else, including dates that do not exist.
 */
static int parse_time(const char *s, size_t len, uint64_t *time_ns)
{
	const char *end = s + len;
	unsigned year, mon, mday, hour, min, sec, frac = 0;
	struct tm tm = { 0 }, check;
	time_t t;
	int digits = 0;

	if (len < 20)
		return -EINVAL;
	if (parse_digits(&s, 4, &year) || *s++ != '-' || parse_digits(&s, 2, &mon) ||
	    *s++ != '-' || parse_digits(&s, 2, &mday) || *s++ != 'T' ||
	    parse_digits(&s, 2, &hour) || *s++ != ':' || parse_digits(&s, 2, &min) ||
	    *s++ != ':' || parse_digits(&s, 2, &sec))
		return -EINVAL;
	if (s < end && *s == '.') {
		for (s++; s < end && *s >= '0' && *s <= '9'; s++) {
			if (++digits > 9)
				return -EINVAL;
			frac = frac * 10 + (*s - '0');
		}
		if (!digits)
			return -EINVAL;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (s + 1 != end || *s != 'Z' || year < 1970)
		return -EINVAL;

	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm() normalises Feb 30 into March, in place: a round trip catches it. */
	if (t < 0 || !gmtime_r(&t, &check) || check.tm_year != (int)year - 1900 ||
	    check.tm_mon != (int)mon - 1 || check.tm_mday != (int)mday ||
	    check.tm_hour != (int)hour || check.tm_min != (int)min || check.tm_sec != (int)sec)
		return -EINVAL;
	if ((uint64_t)t > (UINT64_MAX - frac) / NSEC_PER_SEC)
		return -EINVAL;
	*time_ns = (uint64_t)t * NSEC_PER_SEC + frac;
	return 0;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                 */

/* 0: copied as is; 1: escaped; 2: starts a multi-byte sequence to check. */
static const uint8_t json_class[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x80 ... 0xff] = 2,
};

/* The escape letter for characters that have a short one (RFC 8259 §7). */
static const char json_short_escape[256] = {
	['"'] = '"', ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
	['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

/* An escaped byte takes at most 6 bytes ("\u001f"), anything else at most 3 per byte. */
enum { JSON_BYTES_PER_BYTE = 6 };

/* Flags the bytes of @v that JSON cannot carry as they are (and any non-ASCII). */
static inline uint64_t json_special(uint64_t v)
{
	return (v & HIGHS) | has_less(v, 0x20) | has_byte(v, '"') | has_byte(v, '\\');
}

/*
 * Stores the last @r (1 to 7) bytes of the word at @word at @p, and up to
 * 8 bytes in all: the caller's reserve has room.
 */
static inline void put_tail(char *p, const unsigned char *word, size_t r)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v = load64(word) >> (8 * (8 - r));

	memcpy(p, &v, 8);
#else
	memcpy(p, word + 8 - r, r);
#endif
}

/* Writes @n bytes of @str as a JSON string, quotes included. */
static char *json_put_str(char *p, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	*p++ = '"';
	/* Most strings are short and need nothing escaped: one word test. */
	if (n >= 4 && n <= 8) {
		uint32_t head, tail;

		/* Two words that overlap cover every byte; fixed-size copies, no call. */
		memcpy(&head, s, 4);
		memcpy(&tail, s + n - 4, 4);
		if (!json_special(head | (uint64_t)tail << 32)) {
			memcpy(p, &head, 4);
			memcpy(p + n - 4, &tail, 4);
			p[n] = '"';
			return p + n + 1;
		}
	}
	while (i < n) {
		unsigned char c;
		uint32_t cp;
		int len;

		/* The reserve is 6 bytes per input byte: 8 may be stored ahead. */
		if (n - i >= 8) {
			uint64_t special = json_special(load64(s + i));
			size_t k = special ? first_flagged(special) : 8;

			memcpy(p, s + i, 8);
			p += k;
			i += k;
			if (k == 8)
				continue;
		} else if (n >= 8 && !json_special(load64(s + n - 8))) {
			/* The last bytes, tested and copied as the word that ends the string. */
			put_tail(p, s + n - 8, n - i);
			p += n - i;
			break;
		}
		c = s[i];
		if (!json_class[c]) {
			*p++ = c;
			i++;
			continue;
		}
		if (json_class[c] == 1) {
			*p++ = '\\';
			if (json_short_escape[c]) {
				*p++ = json_short_escape[c];
			} else {
				p = PUT_LIT(p, "u00");
				*p++ = hex_digits[c >> 4];
				*p++ = hex_digits[c & 0xf];
			}
			i++;
			continue;
		}
		len = utf8_decode(s + i, n - i, &cp);
		if (len > 0) {
			memcpy(p, s + i, len);
			p += len;
			i += len;
		} else {
			p = PUT_LIT(p, replacement_char);
			i += -len;
		}
	}
	*p++ = '"';
	return p;
}

/*
 * Everything but the strings: key names and punctuation (about 260 bytes),
 * the time (30), eight numbers (at most 21 each) and the final NUL.
 */
enum { JSON_FIXED_MAX = 576 };

/*
 * No string we write comes near this; refusing larger ones keeps the size
 * arithmetic below free of overflow (at most 45 strings per event).
 */
#define STRING_LEN_MAX (SIZE_MAX / 64)

/*
 * Consecutive events mostly come from the same process in the same
 * container, so two runs of the object are kept as encoded last time and
 * copied while what they show is unchanged: the process (hostname to
 * command) and its place (cgroup_id to container_id). They are compared
 * by value, never by address, so a cached run cannot outlive its data.
 * Per thread, like the time cache.
 */
enum { JSON_RUN_HOST_MAX = 64, JSON_RUN_TEXT_MAX = 1024 };

struct json_process_run {
	bool valid;
	uint32_t pid, tid, ppid, uid, gid;
	size_t hostname_len, command_len;
	char hostname[JSON_RUN_HOST_MAX];
	char command[EVENT_COMM_LEN];
	size_t len;
	char text[JSON_RUN_TEXT_MAX];
};

struct json_place_run {
	bool valid;
	uint64_t cgroup_id, mntns, pidns;
	int64_t owner_uid;
	size_t runtime_len, id_len;
	char runtime[JSON_RUN_HOST_MAX];
	char id[CONTAINER_ID_MAX];
	size_t len;
	char text[JSON_RUN_TEXT_MAX];
};

static bool process_run_matches(const struct json_process_run *c, const struct event *ev,
				const char *hostname, size_t hostname_len, size_t command_len)
{
	return c->valid && c->pid == ev->pid && c->tid == ev->tid && c->ppid == ev->ppid &&
	       c->uid == ev->uid && c->gid == ev->gid && c->command_len == command_len &&
	       c->hostname_len == hostname_len && !memcmp(c->command, ev->command, command_len) &&
	       !memcmp(c->hostname, hostname, hostname_len);
}

static void process_run_keep(struct json_process_run *c, const struct event *ev,
			     const char *hostname, size_t hostname_len, size_t command_len,
			     const char *text, size_t len)
{
	c->valid = hostname_len <= sizeof(c->hostname) && command_len <= sizeof(c->command) &&
		   len <= sizeof(c->text);
	if (!c->valid)
		return;
	c->pid = ev->pid;
	c->tid = ev->tid;
	c->ppid = ev->ppid;
	c->uid = ev->uid;
	c->gid = ev->gid;
	c->hostname_len = hostname_len;
	memcpy(c->hostname, hostname, hostname_len);
	c->command_len = command_len;
	memcpy(c->command, ev->command, command_len);
	c->len = len;
	memcpy(c->text, text, len);
}

static bool place_run_matches(const struct json_place_run *c, const struct event *ev,
			      const char *runtime, size_t runtime_len, const char *id, size_t id_len)
{
	return c->valid && c->cgroup_id == ev->cgroup_id && c->mntns == ev->mntns &&
	       c->pidns == ev->pidns && c->owner_uid == ev->container_owner_uid &&
	       c->runtime_len == runtime_len && c->id_len == id_len &&
	       !memcmp(c->runtime, runtime, runtime_len) && !memcmp(c->id, id, id_len);
}

static void place_run_keep(struct json_place_run *c, const struct event *ev, const char *runtime,
			   size_t runtime_len, const char *id, size_t id_len, const char *text,
			   size_t len)
{
	c->valid = runtime_len <= sizeof(c->runtime) && id_len <= sizeof(c->id) &&
		   len <= sizeof(c->text);
	if (!c->valid)
		return;
	c->cgroup_id = ev->cgroup_id;
	c->owner_uid = ev->container_owner_uid;
	c->mntns = ev->mntns;
	c->pidns = ev->pidns;
	c->runtime_len = runtime_len;
	memcpy(c->runtime, runtime, runtime_len);
	c->id_len = id_len;
	memcpy(c->id, id, id_len);
	c->len = len;
	memcpy(c->text, text, len);
}

/*
 * The process table's part: "exe" when known, "ancestors" nearest first.
 * Its string bytes, plus room for each ancestor's keys and pid (counted
 * as bytes that may need escaping, like the rest: generous).
 */
static size_t process_json_size(const struct event *ev)
{
	size_t n = ev->exe_len + 32, i;

	for (i = 0; i < ev->n_ancestors && i < EVENT_ANCESTORS_MAX; i++)
		n += ev->ancestors[i].command_len + ev->ancestors[i].exe_len +
		     ev->ancestors[i].argv_len + 64;
	return n;
}

static char *json_put_process(char *p, const struct event *ev)
{
	size_t i;

	if (ev->exe) {
		p = PUT_LIT(p, ",\"exe\":");
		p = json_put_str(p, ev->exe, ev->exe_len);
	}
	p = PUT_LIT(p, ",\"ancestors\":[");
	for (i = 0; i < ev->n_ancestors && i < EVENT_ANCESTORS_MAX; i++) {
		const struct event_process *a = &ev->ancestors[i];

		if (i)
			*p++ = ',';
		p = PUT_LIT(p, "{\"pid\":");
		p = put_u64(p, a->pid);
		p = PUT_LIT(p, ",\"command\":");
		p = json_put_str(p, a->command ? a->command : "", a->command_len);
		if (a->exe) {
			p = PUT_LIT(p, ",\"exe\":");
			p = json_put_str(p, a->exe, a->exe_len);
		}
		if (a->argv) {
			p = PUT_LIT(p, ",\"argv\":");
			p = json_put_str(p, a->argv, a->argv_len);
		}
		*p++ = '}';
	}
	*p++ = ']';
	return p;
}

/*
 * The process table's part of the last event's JSON: every event of a
 * process repeats it exactly while the table is unchanged, and its strings
 * (argv above all) are most of what an event's JSON has to escape. Kept by
 * the table's version (never reused), the pid and the start time, never by
 * pointers into the table.
 */
enum { JSON_ANCESTRY_TEXT_MAX = 8192 };

struct json_ancestry_run {
	uint64_t version;	/* 0: nothing kept */
	uint32_t pid;
	uint64_t start_ns;
	size_t n_ancestors, len;
	char text[JSON_ANCESTRY_TEXT_MAX];
};

/* json_put_process(), from the last event's text when @ev's process part is the same. */
static char *json_put_process_run(char *p, const struct event *ev,
				  struct json_ancestry_run *run)
{
	char *start = p;

	if (ev->process_version && run->version == ev->process_version && run->pid == ev->pid &&
	    run->start_ns == ev->start_ns && run->n_ancestors == ev->n_ancestors) {
		memcpy(p, run->text, run->len);
		return p + run->len;
	}
	p = json_put_process(p, ev);
	run->version = 0;
	if (ev->process_version && (size_t)(p - start) <= JSON_ANCESTRY_TEXT_MAX) {
		memcpy(run->text, start, p - start);
		run->len = p - start;
		run->version = ev->process_version;
		run->pid = ev->pid;
		run->start_ns = ev->start_ns;
		run->n_ancestors = ev->n_ancestors;
	}
	return p;
}

int event_to_json_bounded(const struct event *ev, struct strbuf *out, size_t max_len)
{
	const char *tracer = str_or_empty(ev->tracer), *hostname = str_or_empty(ev->hostname);
	const char *runtime = str_or_empty(ev->container_runtime);
	const char *id = str_or_empty(ev->container_id);
	size_t tracer_len = strlen(tracer), hostname_len = strlen(hostname);
	size_t command_len = strnlen(ev->command, sizeof(ev->command));
	size_t runtime_len = strlen(runtime), id_len = strlen(id);
	size_t meta_len = ev->container_meta ? ev->container_meta->json_len : 0;
	size_t rule_len[EVENT_RULES_MAX], tag_len[EVENT_TAGS_MAX];
	size_t n_rules = ev->n_rules < EVENT_RULES_MAX ? ev->n_rules : EVENT_RULES_MAX;
	size_t n_tags = ev->n_tags < EVENT_TAGS_MAX ? ev->n_tags : EVENT_TAGS_MAX;
	size_t n_data = ev->n_data < EVENT_DATA_MAX ? ev->n_data : EVENT_DATA_MAX;
	static _Thread_local struct json_process_run process_run;
	static _Thread_local struct json_place_run place_run;
	static _Thread_local struct json_ancestry_run ancestry_run;
	size_t total, i;
	char *p, *run;
	int r;

	total = tracer_len + hostname_len + command_len + runtime_len + id_len + meta_len;
	if (ev->has_process)
		total += process_json_size(ev);
	for (i = 0; i < n_rules; i++) {
		rule_len[i] = strlen(str_or_empty(ev->rules[i]));
		total += rule_len[i] + 1;	/* + the comma */
	}
	if (ev->priority)
		total += strlen(ev->priority);
	total += 16;	/* ,"replayed":true */
	for (i = 0; i < n_tags; i++) {
		tag_len[i] = strlen(str_or_empty(ev->tags[i]));
		total += tag_len[i] + 1;
	}
	for (i = 0; i < n_data; i++) {
		if (ev->data[i].len > STRING_LEN_MAX || ev->data[i].key_len > STRING_LEN_MAX)
			return -ENOMEM;
		total += ev->data[i].key_len + ev->data[i].len + 2;	/* + ':' and ',' */
	}
	/* Quotes and separators are counted as bytes that might need escaping: generous, simple. */
	if (total > (SIZE_MAX - JSON_FIXED_MAX - out->len) / JSON_BYTES_PER_BYTE - 2)
		return -ENOMEM;
	if (JSON_FIXED_MAX + JSON_BYTES_PER_BYTE * total > max_len ||
	    out->len > max_len - JSON_FIXED_MAX - JSON_BYTES_PER_BYTE * total)
		return -ENOBUFS;
	r = strbuf_grow(out, JSON_FIXED_MAX + JSON_BYTES_PER_BYTE * total);
	if (r < 0)
		return r;

	p = out->buf + out->len;
	p = PUT_LIT(p, "{\"tracer\":");
	p = json_put_str(p, tracer, tracer_len);
	p = PUT_LIT(p, ",\"time\":\"");
	event_format_time(ev->time_ns, p);
	p += EVENT_TIME_LEN - 1;
	*p++ = '"';
	if (process_run_matches(&process_run, ev, hostname, hostname_len, command_len)) {
		memcpy(p, process_run.text, process_run.len);
		p += process_run.len;
	} else {
		run = p;
		p = PUT_LIT(p, ",\"hostname\":");
		p = json_put_str(p, hostname, hostname_len);
		p = PUT_LIT(p, ",\"pid\":");
		p = put_u64(p, ev->pid);
		p = PUT_LIT(p, ",\"tid\":");
		p = put_u64(p, ev->tid);
		p = PUT_LIT(p, ",\"ppid\":");
		p = put_u64(p, ev->ppid);
		p = PUT_LIT(p, ",\"uid\":");
		p = put_u64(p, ev->uid);
		p = PUT_LIT(p, ",\"gid\":");
		p = put_u64(p, ev->gid);
		p = PUT_LIT(p, ",\"command\":");
		p = json_put_str(p, ev->command, command_len);
		process_run_keep(&process_run, ev, hostname, hostname_len, command_len, run, p - run);
	}
	p = PUT_LIT(p, ",\"returnval\":");
	p = put_i64(p, ev->returnval);
	if (place_run_matches(&place_run, ev, runtime, runtime_len, id, id_len)) {
		memcpy(p, place_run.text, place_run.len);
		p += place_run.len;
	} else {
		run = p;
		p = PUT_LIT(p, ",\"cgroup_id\":");
		p = put_u64(p, ev->cgroup_id);
		p = PUT_LIT(p, ",\"mntns\":");
		p = put_u64(p, ev->mntns);
		p = PUT_LIT(p, ",\"pidns\":");
		p = put_u64(p, ev->pidns);
		p = PUT_LIT(p, ",\"container_runtime\":");
		p = json_put_str(p, runtime, runtime_len);
		p = PUT_LIT(p, ",\"container_id\":");
		p = json_put_str(p, id, id_len);
		if (ev->container_owner_uid >= 0) {
			p = PUT_LIT(p, ",\"container_owner_uid\":");
			p = put_u64(p, (uint64_t)ev->container_owner_uid);
		}
		place_run_keep(&place_run, ev, runtime, runtime_len, id, id_len, run, p - run);
	}
	/* Encoded once, when the container was learned. */
	if (meta_len) {
		memcpy(p, ev->container_meta->json, meta_len);
		p += meta_len;
	}
	if (ev->has_process)
		p = json_put_process_run(p, ev, &ancestry_run);
	p = PUT_LIT(p, ",\"rules\":[");
	for (i = 0; i < n_rules; i++) {
		if (i)
			*p++ = ',';
		p = json_put_str(p, str_or_empty(ev->rules[i]), rule_len[i]);
	}
	*p++ = ']';
	if (ev->rules_omitted) {
		p = PUT_LIT(p, ",\"rules_omitted\":");
		p = put_u64(p, ev->rules_omitted);
	}
	if (ev->replayed)
		p = PUT_LIT(p, ",\"replayed\":true");
	/* Only on an event rules matched: a tracer without rules has neither. */
	if (ev->priority) {
		p = PUT_LIT(p, ",\"priority\":");
		p = json_put_str(p, ev->priority, strlen(ev->priority));
		p = PUT_LIT(p, ",\"tags\":[");
		for (i = 0; i < n_tags; i++) {
			if (i)
				*p++ = ',';
			p = json_put_str(p, str_or_empty(ev->tags[i]), tag_len[i]);
		}
		*p++ = ']';
	}
	p = PUT_LIT(p, ",\"data\":{");
	for (i = 0; i < n_data; i++) {
		if (i)
			*p++ = ',';
		p = json_put_str(p, ev->data[i].key, ev->data[i].key_len);
		*p++ = ':';
		p = json_put_str(p, ev->data[i].value, ev->data[i].len);
	}
	p = PUT_LIT(p, "}}");
	*p = '\0';
	out->len = p - out->buf;
	return 0;
}

int event_to_json(const struct event *ev, struct strbuf *out)
{
	return event_to_json_bounded(ev, out, SIZE_MAX);
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */

/*
 * The line, fields always in this order, numbers in decimal:
 *
 *   TIME TRACER pid=N ppid=N uid=N command=V returnval=N container=RUNTIME[:ID]
 *        [rules=NAME,NAME] [KEY=V ...]
 *
 * TIME and TRACER are positional so that the line sorts and cuts well; the
 * rest is key=value. rules= is left out when no rule matched. The data
 * follows in the tracer's order, except data.command and data.returnval when
 * they only repeat the fields before. When they differ (a tracer whose
 * data.command is not the comm, docs/tracers.md) they are printed as
 * data.command= and data.returnval=, so that no key appears twice in a line.
 *
 * A value is quoted with "" when it is empty or holds a space or a quote.
 * Inside values and keys, quoted or not: \ becomes \\, " becomes \", newline,
 * tab and CR become \n \t \r, other C0 controls, DEL and the C1 controls
 * (U+0080..U+009F, which terminals obey) become \xNN per byte, and
 * ill-formed UTF-8 becomes U+FFFD as in the JSON. Everything else, well
 * formed UTF-8 included, is printed as is, so one event is one line and no
 * event can drive the terminal.
 */

/* 0: copied as is; 1: escaped; 2: starts a multi-byte sequence to check. */
static const uint8_t text_class[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x7f] = 1,
	[0x80 ... 0xff] = 2,
};

static const char text_short_escape[256] = {
	['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

/* "\xNN" for one byte; a C1 control is 2 bytes and 8 escaped, U+FFFD 3 for 1. */
enum { TEXT_BYTES_PER_BYTE = 4 };

static inline char *text_put_hex(char *p, unsigned char c)
{
	*p++ = '\\';
	*p++ = 'x';
	*p++ = hex_digits[c >> 4];
	*p++ = hex_digits[c & 0xf];
	return p;
}

static char *text_put_escaped(char *p, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c;
		uint32_t cp;
		int len;

		/* The reserve is 4 bytes per input byte: 8 may be stored ahead. */
		if (n - i >= 8) {
			uint64_t v = load64(s + i);
			uint64_t special = (v & HIGHS) | has_less(v, 0x20) | has_byte(v, '"') |
					   has_byte(v, '\\') | has_byte(v, 0x7f);
			size_t k = special ? first_flagged(special) : 8;

			memcpy(p, s + i, 8);
			p += k;
			i += k;
			if (k == 8)
				continue;
		}
		c = s[i];
		if (!text_class[c]) {
			*p++ = c;
			i++;
			continue;
		}
		if (text_class[c] == 1) {
			if (text_short_escape[c]) {
				*p++ = '\\';
				*p++ = text_short_escape[c];
			} else {
				p = text_put_hex(p, c);
			}
			i++;
			continue;
		}
		len = utf8_decode(s + i, n - i, &cp);
		if (len < 0) {
			p = PUT_LIT(p, replacement_char);
			i += -len;
		} else if (cp <= 0x9f) {
			p = text_put_hex(p, s[i]);
			p = text_put_hex(p, s[i + 1]);
			i += len;
		} else {
			memcpy(p, s + i, len);
			p += len;
			i += len;
		}
	}
	return p;
}

/*
 * A value made of pieces joined by one separator (the rule names, the
 * container runtime and id), quoted as a whole. The decision reads raw
 * bytes, which is safe: an ASCII byte is never part of an ill-formed
 * sequence, so it is there exactly when it is there after sanitising.
 */
struct text_piece {
	const char *s;
	size_t len;
};

static bool text_needs_quotes(const struct text_piece *pc, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *s = (const unsigned char *)pc[i].s;
		size_t j = 0;

		for (; j + 8 <= pc[i].len; j += 8) {
			uint64_t v = load64(s + j);

			if (has_byte(v, ' ') | has_byte(v, '"') | has_byte(v, '\''))
				return true;
		}
		for (; j < pc[i].len; j++)
			if (s[j] == ' ' || s[j] == '"' || s[j] == '\'')
				return true;
		total += pc[i].len;
	}
	return !total;
}

static char *text_put_value(char *p, const struct text_piece *pc, size_t n, char sep)
{
	bool quote = text_needs_quotes(pc, n);

	if (quote)
		*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = sep;
		p = text_put_escaped(p, pc[i].s, pc[i].len);
	}
	if (quote)
		*p++ = '"';
	return p;
}

static char *text_put_str_value(char *p, const char *s, size_t len)
{
	struct text_piece pc = { s, len };

	return text_put_value(p, &pc, 1, 0);
}

/*
 * The container's metadata as KEY=V pairs in event order, each label as
 * container_label.NAME=V (the rule key that matches it). Its bytes at
 * their worst, for the size of the line.
 */
#define TEXT_LABEL_PREFIX "container_label."

static size_t text_meta_size(const struct container_meta *m)
{
	const char *key, *label;
	json_t *v, *lv;
	size_t n = 0;

	if (!m)
		return 0;
	json_object_foreach(m->fields, key, v) {
		if (json_is_string(v))
			n += strlen(key) + json_string_length(v) + 4;
		else
			json_object_foreach(v, label, lv)
				n += sizeof(TEXT_LABEL_PREFIX) + strlen(label) +
				     json_string_length(lv) + 4;
	}
	return n;
}

static char *text_put_meta(char *p, const struct container_meta *m)
{
	const char *key, *label;
	json_t *v, *lv;

	if (!m)
		return p;
	json_object_foreach(m->fields, key, v) {
		if (json_is_string(v)) {
			*p++ = ' ';
			p = text_put_escaped(p, key, strlen(key));
			*p++ = '=';
			p = text_put_str_value(p, json_string_value(v), json_string_length(v));
			continue;
		}
		json_object_foreach(v, label, lv) {
			if (!json_is_string(lv))
				continue;
			p = PUT_LIT(p, " " TEXT_LABEL_PREFIX);
			p = text_put_escaped(p, label, strlen(label));
			*p++ = '=';
			p = text_put_str_value(p, json_string_value(lv), json_string_length(lv));
		}
	}
	return p;
}

/*
 * The ancestors in the line: PID:COMMAND, nearest first, comma-separated
 * (their exe and argv are in the JSON only: a line stays readable).
 */
enum { TEXT_ANCESTORS_MAX = EVENT_ANCESTORS_MAX * (10 + 1 + EVENT_COMM_LEN + 1) };

static size_t text_ancestors(const struct event *ev, char *buf)
{
	size_t i, o = 0, n;

	for (i = 0; i < ev->n_ancestors && i < EVENT_ANCESTORS_MAX; i++) {
		const struct event_process *a = &ev->ancestors[i];

		if (i)
			buf[o++] = ',';
		o += (size_t)snprintf(buf + o, 12, "%u:", a->pid);
		n = a->command_len < EVENT_COMM_LEN ? a->command_len : EVENT_COMM_LEN;
		if (a->command)
			memcpy(buf + o, a->command, n);
		o += a->command ? n : 0;
	}
	return o;
}

/* Time, tracer, key names, six numbers, separators, the NUL. */
enum { TEXT_FIXED_MAX = 320 };
#define TEXT_DATA_PREFIX "data."

/*
 * The one writer of the text form. @command is passed apart from @ev
 * because the JSON form of a comm can be longer than ev->command holds (each
 * ill-formed byte grows to three).
 */
static int text_format(const struct event *ev, const char *command, size_t command_len,
		       struct strbuf *out)
{
	const char *tracer = str_or_empty(ev->tracer);
	size_t tracer_len = strlen(tracer);
	struct text_piece rules[EVENT_RULES_MAX], container[2];
	char ancestors[TEXT_ANCESTORS_MAX];
	size_t ancestors_len = 0;
	size_t n_rules = ev->n_rules < EVENT_RULES_MAX ? ev->n_rules : EVENT_RULES_MAX;
	size_t n_data = ev->n_data < EVENT_DATA_MAX ? ev->n_data : EVENT_DATA_MAX;
	size_t key_len[EVENT_DATA_MAX], n_container = 1;
	char returnval[I64_TEXT_MAX];
	size_t returnval_len = put_i64(returnval, ev->returnval) - returnval;
	size_t total, i;
	char *p;
	int r;

	container[0].s = str_or_empty(ev->container_runtime);
	container[0].len = strlen(container[0].s);
	container[1].s = str_or_empty(ev->container_id);
	container[1].len = strlen(container[1].s);
	if (container[1].len)
		n_container = 2;

	/* Every string byte at its worst, plus quotes and a separator for each. */
	total = tracer_len + command_len + 3 + container[0].len + container[1].len + 4 +
		text_meta_size(ev->container_meta);
	if (ev->has_process) {
		ancestors_len = text_ancestors(ev, ancestors);
		total += ev->exe_len + ancestors_len + 24;
	}
	for (i = 0; i < n_rules; i++) {
		rules[i].s = str_or_empty(ev->rules[i]);
		rules[i].len = strlen(rules[i].s);
		total += rules[i].len + 1;
	}
	if (ev->priority)
		total += strlen(ev->priority) + 12;
	total += 14;	/* replayed=true */
	if (command_len > STRING_LEN_MAX)
		return -ENOMEM;
	for (i = 0; i < n_data; i++) {
		if (ev->data[i].len > STRING_LEN_MAX || ev->data[i].key_len > STRING_LEN_MAX)
			return -ENOMEM;
		key_len[i] = ev->data[i].key_len;
		total += key_len[i] + ev->data[i].len + 4 + sizeof(TEXT_DATA_PREFIX) - 1;
	}
	if (total > (SIZE_MAX - TEXT_FIXED_MAX - out->len) / TEXT_BYTES_PER_BYTE)
		return -ENOMEM;
	r = strbuf_grow(out, TEXT_FIXED_MAX + TEXT_BYTES_PER_BYTE * total);
	if (r < 0)
		return r;

	p = out->buf + out->len;
	event_format_time(ev->time_ns, p);
	p += EVENT_TIME_LEN - 1;
	*p++ = ' ';
	p = text_put_escaped(p, tracer, tracer_len);
	p = PUT_LIT(p, " pid=");
	p = put_u64(p, ev->pid);
	p = PUT_LIT(p, " ppid=");
	p = put_u64(p, ev->ppid);
	p = PUT_LIT(p, " uid=");
	p = put_u64(p, ev->uid);
	p = PUT_LIT(p, " command=");
	p = text_put_str_value(p, command, command_len);
	p = PUT_LIT(p, " returnval=");
	memcpy(p, returnval, returnval_len);
	p += returnval_len;
	p = PUT_LIT(p, " container=");
	p = text_put_value(p, container, n_container, ':');
	if (ev->container_owner_uid >= 0) {
		p = PUT_LIT(p, " container_owner_uid=");
		p = put_u64(p, (uint64_t)ev->container_owner_uid);
	}
	p = text_put_meta(p, ev->container_meta);
	if (ev->exe) {
		p = PUT_LIT(p, " exe=");
		p = text_put_str_value(p, ev->exe, ev->exe_len);
	}
	if (ancestors_len) {
		p = PUT_LIT(p, " ancestors=");
		p = text_put_str_value(p, ancestors, ancestors_len);
	}
	if (n_rules) {
		p = PUT_LIT(p, " rules=");
		p = text_put_value(p, rules, n_rules, ',');
	}
	if (ev->rules_omitted) {
		p = PUT_LIT(p, " rules_omitted=");
		p = put_u64(p, ev->rules_omitted);
	}
	if (ev->replayed)
		p = PUT_LIT(p, " replayed=true");
	if (ev->priority) {
		p = PUT_LIT(p, " priority=");
		p = text_put_str_value(p, ev->priority, strlen(ev->priority));
	}
	for (i = 0; i < n_data; i++) {
		const struct event_kv *kv = &ev->data[i];
		const char *key = str_or_empty(kv->key);

		bool clash = false;

		if (!strcmp(key, "command")) {
			if (utf8_sanitized_equal(kv->value, kv->len, command, command_len))
				continue;
			clash = true;
		} else if (!strcmp(key, "returnval")) {
			if (utf8_sanitized_equal(kv->value, kv->len, returnval, returnval_len))
				continue;
			clash = true;
		}
		*p++ = ' ';
		if (clash)
			p = PUT_LIT(p, TEXT_DATA_PREFIX);
		p = text_put_escaped(p, key, key_len[i]);
		*p++ = '=';
		p = text_put_str_value(p, kv->value, kv->len);
	}
	*p = '\0';
	out->len = p - out->buf;
	return 0;
}

int event_to_text(const struct event *ev, struct strbuf *out)
{
	return text_format(ev, ev->command, strnlen(ev->command, sizeof(ev->command)), out);
}

/*
 * jansson refuses integers beyond long long, but cgroup ids, mount and pid
 * namespace ids are u64 and may be. Those fields are not in the text, so
 * each such number is overwritten with a real of the same width and the
 * document parsed again; the fields that are printed must be integers, so
 * a patched one is still refused. Anything else (a huge real, more than the
 * three u64 fields) is not an event.
 */
enum { U64_FIELDS = 3 };

static int event_json_load(const char *json, size_t len, json_t **root)
{
	char *copy = NULL;
	int r = -EINVAL;

	for (int patched = 0; patched <= U64_FIELDS; patched++) {
		const char *doc = copy ? copy : json;
		json_error_t err;
		size_t end, start;

		*root = json_loadb(doc, len, JSON_ALLOW_NUL, &err);
		if (*root) {
			r = 0;
			break;
		}
		if (json_error_code(&err) == json_error_out_of_memory) {
			r = -ENOMEM;
			break;
		}
		if (json_error_code(&err) != json_error_numeric_overflow || patched == U64_FIELDS ||
		    err.position <= 0 || (size_t)err.position > len)
			break;
		if (!copy) {
			copy = malloc(len);
			if (!copy) {
				r = -ENOMEM;
				break;
			}
			memcpy(copy, json, len);
		}
		/* jansson reports the offset just past the number. */
		end = err.position;
		start = end;
		while (start > 0 && copy[start - 1] >= '0' && copy[start - 1] <= '9')
			start--;
		if (start > 0 && copy[start - 1] == '-')
			start--;
		if (end - start < 3 || start == 0 || !strchr(": \t\r\n", copy[start - 1]))
			break;
		memset(copy + start, ' ', end - start);
		memcpy(copy + start, "0.0", 3);
	}
	free(copy);
	return r;
}

static int json_get_string(const json_t *obj, const char *key, const char **s, size_t *len)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return -EINVAL;
	*s = json_string_value(v);
	if (len)
		*len = json_string_length(v);
	return 0;
}

static int json_get_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return -EINVAL;
	*out = json_integer_value(v);
	return *out < min || *out > max ? -EINVAL : 0;
}

static int json_get_u32(const json_t *obj, const char *key, uint32_t *out)
{
	int64_t v;
	int r = json_get_int(obj, key, 0, UINT32_MAX, &v);

	if (r < 0)
		return r;
	*out = v;
	return 0;
}

/* A u64 field the text does not show: its presence and type are checked. */
static int json_check_u64(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return json_integer_value(v) < 0 ? -EINVAL : 0;
	return json_is_real(v) ? 0 : -EINVAL;
}

/* The process table's keys, when the event has them: "exe", "ancestors". */
static int process_from_json(const json_t *root, struct event *ev)
{
	const json_t *list = json_object_get(root, "ancestors"), *a;
	int r;

	if (json_object_get(root, "exe") &&
	    (r = json_get_string(root, "exe", &ev->exe, &ev->exe_len)))
		return r;
	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > EVENT_ANCESTORS_MAX)
		return -EINVAL;
	ev->has_process = true;
	for (size_t i = 0; i < json_array_size(list); i++) {
		struct event_process *p = &ev->ancestors[i];

		a = json_array_get(list, i);
		memset(p, 0, sizeof(*p));
		if (!json_is_object(a) || (r = json_get_u32(a, "pid", &p->pid)) ||
		    (r = json_get_string(a, "command", &p->command, &p->command_len)))
			return -EINVAL;
		if (json_object_get(a, "exe") && json_get_string(a, "exe", &p->exe, &p->exe_len))
			return -EINVAL;
		if (json_object_get(a, "argv") &&
		    json_get_string(a, "argv", &p->argv, &p->argv_len))
			return -EINVAL;
		ev->n_ancestors = i + 1;
	}
	return 0;
}

/*
 * Fills @ev from @root. Strings point into @root. Every key of the event
 * frame (docs/protocol.md §4.4) must be there with its type, so that a frame
 * that is not an event is refused, not printed with holes.
 */
static int event_from_json(const json_t *root, struct event *ev, const char **command,
			   size_t *command_len)
{
	const json_t *rules, *data, *v;
	const char *key, *time;
	size_t time_len;
	int r;

	if (!json_is_object(root))
		return -EINVAL;
	event_init(ev);
	if ((r = json_get_string(root, "tracer", &ev->tracer, NULL)) ||
	    (r = json_get_string(root, "time", &time, &time_len)) ||
	    (r = parse_time(time, time_len, &ev->time_ns)) ||
	    (r = json_get_string(root, "hostname", &ev->hostname, NULL)) ||
	    (r = json_get_u32(root, "pid", &ev->pid)) ||
	    (r = json_get_u32(root, "tid", &ev->tid)) ||
	    (r = json_get_u32(root, "ppid", &ev->ppid)) ||
	    (r = json_get_u32(root, "uid", &ev->uid)) ||
	    (r = json_get_u32(root, "gid", &ev->gid)) ||
	    (r = json_get_string(root, "command", command, command_len)) ||
	    (r = json_get_int(root, "returnval", INT64_MIN, INT64_MAX, &ev->returnval)) ||
	    (r = json_check_u64(root, "cgroup_id")) ||
	    (r = json_check_u64(root, "mntns")) ||
	    (r = json_check_u64(root, "pidns")) ||
	    (r = json_get_string(root, "container_runtime", &ev->container_runtime, NULL)) ||
	    (r = json_get_string(root, "container_id", &ev->container_id, NULL)))
		return r;
	if (json_object_get(root, "container_owner_uid") &&
	    (r = json_get_int(root, "container_owner_uid", 0, UINT32_MAX,
			      &ev->container_owner_uid)))
		return r;
	r = process_from_json(root, ev);
	if (r)
		return r;
	/* The text takes @command; the struct gets what fits, to be whole. */
	memcpy(ev->command, *command, *command_len < EVENT_COMM_LEN ? *command_len : EVENT_COMM_LEN);

	rules = json_object_get(root, "rules");
	if (!json_is_array(rules) || json_array_size(rules) > EVENT_RULES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(rules); i++) {
		v = json_array_get(rules, i);
		if (!json_is_string(v))
			return -EINVAL;
		ev->rules[ev->n_rules++] = json_string_value(v);
	}
	v = json_object_get(root, "rules_omitted");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
		return -EINVAL;
	ev->rules_omitted = v ? (size_t)json_integer_value(v) : 0;
	v = json_object_get(root, "replayed");
	if (v && !json_is_boolean(v))
		return -EINVAL;
	ev->replayed = json_is_true(v);
	v = json_object_get(root, "priority");
	if (v && !json_is_string(v))
		return -EINVAL;
	ev->priority = v ? json_string_value(v) : NULL;
	v = json_object_get(root, "tags");
	if (v && (!json_is_array(v) || json_array_size(v) > EVENT_TAGS_MAX))
		return -EINVAL;
	for (size_t i = 0; v && i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i)))
			return -EINVAL;
		ev->tags[ev->n_tags++] = json_string_value(json_array_get(v, i));
	}

	data = json_object_get(root, "data");
	if (!json_is_object(data) || json_object_size(data) > EVENT_DATA_MAX)
		return -EINVAL;
	json_object_foreach((json_t *)data, key, v) {
		if (!json_is_string(v))
			return -EINVAL;
		r = event_add_data(ev, key, json_string_value(v), json_string_length(v));
		if (r < 0)
			return -EINVAL;
	}
	return 0;
}

int event_json_to_text(const char *json, size_t len, struct strbuf *out)
{
	const char *command = NULL;
	size_t command_len = 0;
	struct event ev;
	json_t *root;
	int r;

	r = event_json_load(json, len, &root);
	if (r < 0)
		return r;
	r = event_from_json(root, &ev, &command, &command_len);
	if (!r) {
		struct container_meta meta;

		r = container_meta_from_event(root, &meta);
		ev.container_meta = r ? NULL : &meta;
		r = r == -ENOENT ? 0 : r;
		if (!r)
			r = text_format(&ev, command, command_len, out);
		if (ev.container_meta)
			container_meta_release(&meta);
	}
	json_decref(root);
	return r;
}
