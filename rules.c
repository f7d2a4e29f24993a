// SPDX-License-Identifier: MIT
/*
 * Rules (docs/rules.md): the rule schema on top of the TOML reader, the matching
 * semantics, and per-tracer filter tables. docs/rules.md is the user's side
 * of this file; the decisions it lists are made here:
 *
 * - A filter key is a numeric event field (pid tid ppid uid gid returnval
 *   cgroup_id mntns pidns), `container_id`, `container_runtime`, or a data
 *   key the rule's tracer emits. `command` is data.command (the comm, or
 *   what the tracer puts there instead, docs/tracers.md): the event's own
 *   comm has no key of its own. `returnval` is the numeric field, and only
 *   for tracers that emit data.returnval (a filter on it is an error for
 *   the others).
 * - Globs are matched by glob_match() below, which follows fnmatch(3)
 *   without flags in the C locale, on length-delimited bytes. Using our own
 *   matcher instead of fnmatch() means no copy of every value into a bounded
 *   buffer (argv can be 24 KiB), no false match when a value holds a NUL,
 *   and a worst case of O(pattern × value) where glibc's recursion on `*`
 *   can go exponential on a filename an attacker chose. unit.rules checks
 *   it against fnmatch() on random patterns.
 * - A glob that fnmatch() would read differently from what its author
 *   probably meant is an error instead: an unclosed `[` (fnmatch matches it
 *   literally), a trailing lone `\` (fnmatch never matches), a reversed
 *   range, an unknown `[:class:]`, and `[=` `[.` (collation, meaningless in
 *   the C locale).
 * - Exact values of a filter live in a hash set (above a few), equality
 *   values of a numeric filter in a sorted array: a rule's own cost does not
 *   grow with its number of exact values. The ruleset then indexes every
 *   rule that has a filter of only exact strings by one such filter, so a
 *   rule that cannot match is never looked at.
 */
#define _GNU_SOURCE
#include "rules.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "container_meta.h"
#include "pathname.h"
#include "lib/toml.h"
#include "tracer.h"

enum {
	RULE_NAME_MAX = 128,
	/* Below this many exact values a linear scan beats hashing. */
	EXACT_HASH_MIN = 8,
	/* Room for one quoted name in an error message. */
	QUOTE_MAX = 80,
};

#define NONE ((uint32_t)-1)
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

enum field {
	FIELD_DATA,			/* a data key of the tracer: a string */
	FIELD_ADDRESS,			/* a data key holding an IP address: CIDRs */
	FIELD_PORT,			/* a data key holding a port: ports and ranges */
	FIELD_CONTAINER_ID,		/* a string, "" for the host */
	FIELD_CONTAINER_RUNTIME,	/* a string of container_runtimes[] */
	FIELD_CONTAINER_META,		/* container_name, container_label.KEY, k8s_pod, ...: a string */
	FIELD_EXE,			/* the process's own executable (proctable.h) */
	FIELD_PARENT_COMMAND,		/* the nearest ancestor's comm (proctable.h) */
	FIELD_PARENT_EXE,		/* its executable */
	FIELD_ANCESTOR_COMMAND,		/* any ancestor's comm: several values, not indexed */
	FIELD_ANCESTOR_EXE,		/* any ancestor's executable */
	FIELD_PID,			/* the numeric fields from here on */
	FIELD_TID,
	FIELD_PPID,
	FIELD_UID,
	FIELD_GID,
	FIELD_RETURNVAL,
	FIELD_CGROUP_ID,
	FIELD_MNTNS,
	FIELD_PIDNS,
};

enum num_range { RANGE_U32, RANGE_S64, RANGE_U64 };

static const struct {
	const char *name;
	enum field field;
	enum num_range range;
} numeric_fields[] = {
	{ "pid", FIELD_PID, RANGE_U32 },
	{ "tid", FIELD_TID, RANGE_U32 },
	{ "ppid", FIELD_PPID, RANGE_U32 },
	{ "uid", FIELD_UID, RANGE_U32 },
	{ "gid", FIELD_GID, RANGE_U32 },
	{ "returnval", FIELD_RETURNVAL, RANGE_S64 },
	{ "cgroup_id", FIELD_CGROUP_ID, RANGE_U64 },
	{ "mntns", FIELD_MNTNS, RANGE_U64 },
	{ "pidns", FIELD_PIDNS, RANGE_U64 },
};

#define N_NUMERIC (sizeof(numeric_fields) / sizeof(numeric_fields[0]))

/*
 * Any int64 or uint64. A negative number keeps its two's complement in @v,
 * so that numbers of one sign compare as their @v do (see num_cmp).
 */
struct num {
	bool neg;
	uint64_t v;
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct numcmp {
	enum cmp_op op;
	struct num n;
};

struct sval {
	char *s;	/* NUL-terminated copy; holds no NUL */
	size_t len;
	uint64_t hash;	/* fnv1a of the bytes: exact values only */
};

/*
 * An address block: IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n), so
 * that one comparison serves both families.
 */
struct cidr {
	uint8_t addr[16];	/* the bits past @bits are zero */
	unsigned int bits;
};

struct port_range {
	uint16_t lo, hi;
};

/* The values (or the exclude list) of one filter. */
struct valset {
	/* String filters: exact values (unique), globs. */
	struct sval *exact;
	size_t n_exact;
	uint32_t *slots;	/* open addressing over exact[] (index + 1), or NULL */
	size_t n_slots;		/* a power of two */
	struct sval *globs;
	size_t n_globs;
	/* Numeric filters: "=N" sorted and unique, the other comparisons. */
	struct num *eq;
	size_t n_eq;
	struct numcmp *cmps;
	size_t n_cmps;
	/* Address and port filters. */
	struct cidr *cidrs;
	size_t n_cidrs;
	struct port_range *ports;
	size_t n_ports;
};

struct filter {
	char *key;
	enum field field;
	unsigned int line;
	bool has_values;	/* a non-empty `values`: one of them must hold */
	struct valset values;
	struct valset exclude;
	/* Another data key the filter also holds by (field_alias()), or NULL. */
	const char *alias;
};

struct rule {
	char *name;
	size_t tracer;
	struct valset actions;		/* exact strings only, in file order */
	void **instances;		/* what runs each action (rule_bind_action), or NULL */
	const char **runtimes;		/* static strings of container_runtimes[] */
	size_t n_runtimes;
	bool force;
	struct filter *filters;
	size_t n_filters;
	uint64_t matches;		/* events it matched (rule_count_match) */
	/* Metadata (docs/rules.md, "Priority, tags and description"). */
	enum rule_priority priority;
	char *description;		/* NULL: none */
	char **tags;			/* unique, in file order */
	size_t n_tags;
	unsigned int line;		/* where the rule starts in its file */
	bool lists_empty;		/* a values list that a named list left empty */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static uint64_t fnv1a(const void *p, size_t len, uint64_t h)
{
	const unsigned char *s = p;

	while (len--) {
		h ^= *s++;
		h *= FNV_PRIME;
	}
	return h;
}

static size_t pow2_at_least(size_t n)
{
	size_t size = 8;

	while (size < n)
		size <<= 1;
	return size;
}

static bool is_numeric(enum field f)
{
	return f >= FIELD_PID;
}

/* A string of every ancestor: the filter holds by any of them (filter_holds()). */
static bool is_ancestor_field(enum field f)
{
	return f == FIELD_ANCESTOR_COMMAND || f == FIELD_ANCESTOR_EXE;
}

/* Strings compared as strings (exact values, globs): not numbers, addresses or ports. */
static bool is_plain_string(enum field f)
{
	return !is_numeric(f) && f != FIELD_ADDRESS && f != FIELD_PORT && !is_ancestor_field(f);
}

static int num_cmp(struct num a, struct num b)
{
	if (a.neg != b.neg)
		return a.neg ? -1 : 1;
	return a.v < b.v ? -1 : a.v > b.v;
}

static struct num num_from_s64(int64_t x)
{
	return (struct num){ .neg = x < 0, .v = (uint64_t)x };
}

static struct num num_from_u64(uint64_t x)
{
	return (struct num){ .neg = false, .v = x };
}

static bool num_holds(struct num ev, enum cmp_op op, struct num n)
{
	int c = num_cmp(ev, n);

	switch (op) {
	case OP_EQ:
		return c == 0;
	case OP_NE:
		return c != 0;
	case OP_LT:
		return c < 0;
	case OP_LE:
		return c <= 0;
	case OP_GT:
		return c > 0;
	case OP_GE:
		return c >= 0;
	}
	return false;
}

/*
 * Writes @s (@len bytes) in double quotes into @buf for an error message:
 * control characters, quotes and backslashes escaped, long names cut.
 */
static const char *quote(char buf[QUOTE_MAX], const char *s, size_t len)
{
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		/* Room for an escape, the ellipsis, the quote and the NUL. */
		if (o + 4 + 3 + 2 >= QUOTE_MAX) {
			/* Do not cut a UTF-8 sequence in two. */
			while (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
				o--;
			if (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
				o--;
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			o += snprintf(buf + o, QUOTE_MAX - o, "\\x%02x", c);
		} else if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = c;
		} else {
			buf[o++] = c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

__attribute__((format(printf, 3, 4))) static int fail(struct rule_error *err, unsigned int line,
						      const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Globs                                                                */

static const char *const glob_classes[] = {
	"alnum", "alpha", "blank", "cntrl", "digit", "graph",
	"lower", "print", "punct", "space", "upper", "xdigit",
};

#define N_CLASSES (sizeof(glob_classes) / sizeof(glob_classes[0]))

/* The C locale's classes, by hand so that the process locale never matters. */
static bool class_has(size_t cls, unsigned char c)
{
	bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
	bool digit = c >= '0' && c <= '9', graph = c > 0x20 && c < 0x7f;

	switch (cls) {
	case 0:
		return upper || lower || digit;
	case 1:
		return upper || lower;
	case 2:
		return c == ' ' || c == '\t';
	case 3:
		return c < 0x20 || c == 0x7f;
	case 4:
		return digit;
	case 5:
		return graph;
	case 6:
		return lower;
	case 7:
		return graph || c == ' ';
	case 8:
		return graph && !upper && !lower && !digit;
	case 9:
		return c == ' ' || (c >= '\t' && c <= '\r');
	case 10:
		return upper;
	case 11:
		return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	}
	return false;
}

/*
 * One element of a bracket expression at p[*i]: a character (maybe
 * escaped) into *@ch, or a [:class:] into *@cls (then *@ch is -1).
 * Advances *@i. -EINVAL with *@why when it is malformed (checking only:
 * a pattern that passed glob_check() never fails here).
 */
static int bracket_elem(const char *p, size_t len, size_t *i, int *ch, size_t *cls,
			const char **why)
{
	size_t j = *i, k, start;

	if (p[j] == '[' && j + 1 < len && (p[j + 1] == '=' || p[j + 1] == '.')) {
		*why = "[= and [. (collation) are not supported; write \\[ for a literal [";
		return -EINVAL;
	}
	if (p[j] == '[' && j + 1 < len && p[j + 1] == ':') {
		start = j + 2;
		for (k = start; k + 1 < len && !(p[k] == ':' && p[k + 1] == ']'); k++)
			;
		if (k + 1 >= len) {
			*why = "unclosed [: (write \\[ for a literal [)";
			return -EINVAL;
		}
		for (*cls = 0; *cls < N_CLASSES; (*cls)++)
			if (strlen(glob_classes[*cls]) == k - start &&
			    !memcmp(glob_classes[*cls], p + start, k - start))
				break;
		if (*cls == N_CLASSES) {
			*why = "unknown [:class:] (alnum alpha blank cntrl digit graph lower print "
			       "punct space upper xdigit)";
			return -EINVAL;
		}
		*ch = -1;
		*i = k + 2;
		return 0;
	}
	if (p[j] == '\\') {
		j++;
		if (j >= len) {
			*why = "unclosed [ (write \\[ for a literal [)";
			return -EINVAL;
		}
	}
	*ch = (unsigned char)p[j];
	*i = j + 1;
	return 0;
}

/*
 * Walks the bracket expression whose '[' is at p[i - 1]. With @c >= 0,
 * *@hit says whether byte @c is in it. Returns the index after its ']', or
 * 0 with *@why when it is malformed.
 */
static size_t bracket_walk(const char *p, size_t len, size_t i, int c, bool *hit, const char **why)
{
	bool neg = false, in = false, first = true;
	size_t cls = 0;
	int lo, hi;

	if (i < len && (p[i] == '!' || p[i] == '^')) {
		neg = true;
		i++;
	}
	for (;;) {
		if (i >= len) {
			*why = "unclosed [ (write \\[ for a literal [)";
			return 0;
		}
		/* A ']' first in the list is a member, not the end (POSIX). */
		if (p[i] == ']' && !first)
			break;
		first = false;
		if (bracket_elem(p, len, &i, &lo, &cls, why))
			return 0;
		if (lo < 0) {
			if (c >= 0 && class_has(cls, c))
				in = true;
			if (i + 1 < len && p[i] == '-' && p[i + 1] != ']') {
				*why = "a range cannot start or end with a [:class:]";
				return 0;
			}
			continue;
		}
		if (i + 1 < len && p[i] == '-' && p[i + 1] != ']') {
			i++;
			if (bracket_elem(p, len, &i, &hi, &cls, why))
				return 0;
			if (hi < 0) {
				*why = "a range cannot start or end with a [:class:]";
				return 0;
			}
			if (lo > hi) {
				*why = "reversed range in [ ]";
				return 0;
			}
			if (c >= lo && c <= hi)
				in = true;
		} else if (c == lo) {
			in = true;
		}
	}
	if (hit)
		*hit = in != neg;
	return i + 1;
}

/*
 * Checks glob @p: 0 when well formed, with *@meta telling whether it has
 * an unescaped * ? or [ at all; -EINVAL with *@why otherwise.
 */
static int glob_check(const char *p, size_t len, bool *meta, const char **why)
{
	size_t i = 0;

	*meta = false;
	while (i < len) {
		char c = p[i++];

		if (c == '\\') {
			if (i == len) {
				*why = "it ends with a lone \\ (write \\\\ for a backslash)";
				return -EINVAL;
			}
			i++;
		} else if (c == '*' || c == '?') {
			*meta = true;
		} else if (c == '[') {
			i = bracket_walk(p, len, i, -1, NULL, why);
			if (!i)
				return -EINVAL;
			*meta = true;
		}
	}
	return 0;
}

/*
 * fnmatch(p, s, 0) in the C locale, on bytes with lengths, for a pattern
 * glob_check() accepted. One backtracking point (the last '*') suffices:
 * a later star can absorb whatever an earlier one would have, so the
 * work is at most O(len(p) × len(s)).
 */
static bool glob_match(const char *p, size_t plen, const char *s, size_t slen)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
	const char *why;

	while (si < slen) {
		if (pi < plen) {
			unsigned char c = p[pi];

			if (c == '*') {
				star_p = ++pi;
				star_s = si;
				continue;
			}
			if (c == '?') {
				pi++;
				si++;
				continue;
			}
			if (c == '[') {
				bool hit = false;
				size_t next =
					bracket_walk(p, plen, pi + 1, (unsigned char)s[si], &hit, &why);

				if (hit) {
					pi = next;
					si++;
					continue;
				}
			} else {
				if (c == '\\')
					c = p[++pi];
				if (c == (unsigned char)s[si]) {
					pi++;
					si++;
					continue;
				}
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

/* ------------------------------------------------------------------ */
/* Value sets                                                           */

static void valset_release(struct valset *vs)
{
	size_t i;

	for (i = 0; i < vs->n_exact; i++)
		free(vs->exact[i].s);
	for (i = 0; i < vs->n_globs; i++)
		free(vs->globs[i].s);
	free(vs->exact);
	free(vs->slots);
	free(vs->globs);
	free(vs->eq);
	free(vs->cmps);
	free(vs->cidrs);
	free(vs->ports);
	memset(vs, 0, sizeof(*vs));
}

static size_t valset_size(const struct valset *vs)
{
	return vs->n_exact + vs->n_globs + vs->n_eq + vs->n_cmps + vs->n_cidrs + vs->n_ports;
}

/* Room for @n more strings; the hash of exact values sized for them. */
static int valset_reserve_strings(struct valset *vs, size_t n)
{
	vs->exact = calloc(n ? n : 1, sizeof(*vs->exact));
	vs->globs = calloc(n ? n : 1, sizeof(*vs->globs));
	if (!vs->exact || !vs->globs)
		return -ENOMEM;
	if (n >= EXACT_HASH_MIN) {
		vs->n_slots = pow2_at_least(2 * n);
		vs->slots = calloc(vs->n_slots, sizeof(*vs->slots));
		if (!vs->slots)
			return -ENOMEM;
	}
	return 0;
}

static const struct sval *valset_find_exact(const struct valset *vs, const char *s, size_t len,
					    uint64_t hash)
{
	size_t i, mask;

	if (!vs->slots) {
		for (i = 0; i < vs->n_exact; i++)
			if (vs->exact[i].len == len && !memcmp(vs->exact[i].s, s, len))
				return &vs->exact[i];
		return NULL;
	}
	mask = vs->n_slots - 1;
	for (i = hash & mask; vs->slots[i]; i = (i + 1) & mask) {
		const struct sval *e = &vs->exact[vs->slots[i] - 1];

		if (e->hash == hash && e->len == len && !memcmp(e->s, s, len))
			return e;
	}
	return NULL;
}

static char *memdup_str(const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy) {
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	return copy;
}

/* Adds exact @s (copied) unless present; valset_reserve_strings() made room. */
static int valset_add_exact(struct valset *vs, const char *s, size_t len)
{
	uint64_t hash = fnv1a(s, len, FNV_OFFSET);
	struct sval *e;
	size_t i, mask;

	if (valset_find_exact(vs, s, len, hash))
		return 0;
	e = &vs->exact[vs->n_exact];
	e->s = memdup_str(s, len);
	if (!e->s)
		return -ENOMEM;
	e->len = len;
	e->hash = hash;
	vs->n_exact++;
	if (vs->slots) {
		mask = vs->n_slots - 1;
		for (i = hash & mask; vs->slots[i]; i = (i + 1) & mask)
			;
		vs->slots[i] = (uint32_t)vs->n_exact;
	}
	return 0;
}

static int valset_add_glob(struct valset *vs, const char *s, size_t len)
{
	struct sval *g = &vs->globs[vs->n_globs];

	g->s = memdup_str(s, len);
	if (!g->s)
		return -ENOMEM;
	g->len = len;
	vs->n_globs++;
	return 0;
}

static int cmp_num_qsort(const void *a, const void *b)
{
	return num_cmp(*(const struct num *)a, *(const struct num *)b);
}

/* Sorts and dedups the "=N" values, for the binary search in valset_has_number(). */
static void valset_finish_numbers(struct valset *vs)
{
	size_t i, o = 0;

	if (!vs->n_eq)
		return;
	qsort(vs->eq, vs->n_eq, sizeof(*vs->eq), cmp_num_qsort);
	for (i = 1; i < vs->n_eq; i++)
		if (num_cmp(vs->eq[i], vs->eq[o]) != 0)
			vs->eq[++o] = vs->eq[i];
	vs->n_eq = o + 1;
}

static bool valset_has_string(const struct valset *vs, const char *s, size_t len)
{
	size_t i;

	if (vs->n_exact && valset_find_exact(vs, s, len, vs->slots ? fnv1a(s, len, FNV_OFFSET) : 0))
		return true;
	for (i = 0; i < vs->n_globs; i++)
		if (glob_match(vs->globs[i].s, vs->globs[i].len, s, len))
			return true;
	return false;
}

static bool valset_has_number(const struct valset *vs, struct num n)
{
	size_t lo = 0, hi = vs->n_eq, i;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = num_cmp(vs->eq[mid], n);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = 0; i < vs->n_cmps; i++)
		if (num_holds(n, vs->cmps[i].op, vs->cmps[i].n))
			return true;
	return false;
}

/*
 * Parses "ADDR" or "ADDR/BITS" (IPv4 or IPv6) of @len bytes into @c, IPv4
 * mapped into IPv6. A bare address is one host. False when it is not one.
 */
static bool cidr_parse(const char *s, size_t len, bool prefix_ok, struct cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long bits;
	bool v4;
	size_t i;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash && !prefix_ok)
		return false;
	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	v4 = inet_pton(AF_INET, buf, c->addr + 12) == 1;
	if (v4) {
		c->addr[10] = c->addr[11] = 0xff;
	} else if (inet_pton(AF_INET6, buf, c->addr) != 1) {
		return false;
	}
	c->bits = 128;
	if (slash) {
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || !isdigit((unsigned char)slash[1]) ||
		    bits > (v4 ? 32u : 128u))
			return false;
		c->bits = (unsigned int)bits + (v4 ? 96 : 0);
	}
	/* The host bits are cleared: 10.1.2.3/8 is 10.0.0.0/8. */
	for (i = 0; i < 16; i++) {
		unsigned int keep = c->bits > i * 8 ? c->bits - i * 8 : 0;

		if (keep < 8)
			c->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
	return true;
}

static bool cidr_contains(const struct cidr *block, const struct cidr *host)
{
	unsigned int full = block->bits / 8, rest = block->bits % 8;

	if (memcmp(block->addr, host->addr, full) != 0)
		return false;
	return !rest || !((block->addr[full] ^ host->addr[full]) & (0xff00u >> rest));
}

/* "N" or "LO-HI", ports 0..65535. False when it is not one. */
static bool port_parse(const char *s, size_t len, struct port_range *p)
{
	unsigned long v[2] = { 0, 0 };
	size_t i = 0, n = 0;

	for (n = 0; n < 2; n++) {
		size_t start = i;

		while (i < len && isdigit((unsigned char)s[i]) && i - start < 6)
			v[n] = v[n] * 10 + (unsigned long)(s[i++] - '0');
		if (i == start || v[n] > 65535)
			return false;
		if (i == len)
			break;
		if (s[i++] != '-' || n == 1)
			return false;
	}
	if (i != len)
		return false;
	p->lo = (uint16_t)v[0];
	p->hi = (uint16_t)(n == 0 ? v[0] : v[1]);
	return p->lo <= p->hi;
}

static bool valset_has_address(const struct valset *vs, const struct cidr *host)
{
	size_t i;

	for (i = 0; i < vs->n_cidrs; i++)
		if (cidr_contains(&vs->cidrs[i], host))
			return true;
	return false;
}

static bool valset_has_port(const struct valset *vs, unsigned int port)
{
	size_t i;

	for (i = 0; i < vs->n_ports; i++)
		if (port >= vs->ports[i].lo && port <= vs->ports[i].hi)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Matching                                                             */

/* The event's string for a string field; false when it has none. */
static bool event_string(const struct event *ev, enum field field, const char *key, const char **s,
			 size_t *len)
{
	size_t i;

	switch (field) {
	case FIELD_DATA:
	case FIELD_ADDRESS:
	case FIELD_PORT:
		for (i = 0; i < ev->n_data; i++) {
			if (ev->data[i].key && !strcmp(ev->data[i].key, key)) {
				*s = ev->data[i].value ? ev->data[i].value : "";
				*len = ev->data[i].value ? ev->data[i].len : 0;
				return true;
			}
		}
		return false;
	case FIELD_CONTAINER_ID:
		*s = ev->container_id ? ev->container_id : "";
		*len = strlen(*s);
		return true;
	case FIELD_CONTAINER_RUNTIME:
		*s = ev->container_runtime ? ev->container_runtime : CONTAINER_RUNTIME_HOST;
		*len = strlen(*s);
		return true;
	case FIELD_CONTAINER_META:
		/* Absent where the runtime's state did not say: like a data key an event lacks. */
		*s = container_meta_get(ev->container_meta, key, len);
		return *s != NULL;
	case FIELD_EXE:
		if (!ev->exe)
			return false;
		*s = ev->exe;
		*len = ev->exe_len;
		return true;
	case FIELD_PARENT_COMMAND:
		if (!ev->n_ancestors || !ev->ancestors[0].command)
			return false;
		*s = ev->ancestors[0].command;
		*len = ev->ancestors[0].command_len;
		return true;
	case FIELD_PARENT_EXE:
		if (!ev->n_ancestors || !ev->ancestors[0].exe)
			return false;
		*s = ev->ancestors[0].exe;
		*len = ev->ancestors[0].exe_len;
		return true;
	default:
		return false;
	}
}

static struct num event_number(const struct event *ev, enum field field)
{
	switch (field) {
	case FIELD_PID:
		return num_from_u64(ev->pid);
	case FIELD_TID:
		return num_from_u64(ev->tid);
	case FIELD_PPID:
		return num_from_u64(ev->ppid);
	case FIELD_UID:
		return num_from_u64(ev->uid);
	case FIELD_GID:
		return num_from_u64(ev->gid);
	case FIELD_RETURNVAL:
		return num_from_s64(ev->returnval);
	case FIELD_CGROUP_ID:
		return num_from_u64(ev->cgroup_id);
	case FIELD_MNTNS:
		return num_from_u64(ev->mntns);
	case FIELD_PIDNS:
		return num_from_u64(ev->pidns);
	default:
		return num_from_u64(0);
	}
}

/*
 * A file's path is also matched as the name of the rules' file the kernel
 * recognised it as (identity.h): a filter on `filename` holds by either.
 */
static const char *field_alias(enum field field, const char *key)
{
	return field == FIELD_DATA && !strcmp(key, PATHNAME_KEY) ? PATHNAME_IDENTITY_KEY : NULL;
}

/* Does the string filter @f hold for the value @s? */
static bool string_holds(const struct filter *f, const char *s, size_t len, bool values_known)
{
	if (f->has_values && !values_known && !valset_has_string(&f->values, s, len))
		return false;
	return !valset_has_string(&f->exclude, s, len);
}

/*
 * A filter on every ancestor: one of them must have one of the values, and
 * none may have an excluded one. An event with no ancestor known holds no
 * filter with values (like a data key it lacks) and every exclude-only one.
 */
static bool ancestors_hold(const struct filter *f, const struct event *ev)
{
	bool exe = f->field == FIELD_ANCESTOR_EXE, found = !f->has_values;
	size_t i;

	for (i = 0; i < ev->n_ancestors && i < EVENT_ANCESTORS_MAX; i++) {
		const struct event_process *a = &ev->ancestors[i];
		const char *s = exe ? a->exe : a->command;
		size_t len = exe ? a->exe_len : a->command_len;

		if (!s)
			continue;
		if (valset_has_string(&f->exclude, s, len))
			return false;
		if (!found && valset_has_string(&f->values, s, len))
			found = true;
	}
	return found;
}

/*
 * Does @f hold for @ev? @values_known: the caller already knows that one
 * of the filter's values matched (a ruleset index hit), only exclude is left.
 */
static bool filter_holds(const struct filter *f, const struct event *ev, bool values_known)
{
	const char *s;
	size_t len;

	if (is_ancestor_field(f->field))
		return ancestors_hold(f, ev);

	if (is_numeric(f->field)) {
		struct num n = event_number(ev, f->field);

		if (f->has_values && !values_known && !valset_has_number(&f->values, n))
			return false;
		return !valset_has_number(&f->exclude, n);
	}
	if (!event_string(ev, f->field, f->key, &s, &len)) {
		/*
		 * An executable not known holds no filter with values and every
		 * exclude-only one, as ancestors do: not known is not trusted.
		 */
		if (f->field == FIELD_EXE)
			return !f->has_values;
		/* No path (none reported), but maybe the file the kernel recognised. */
		return f->alias && event_string(ev, FIELD_DATA, f->alias, &s, &len) &&
		       string_holds(f, s, len, false);
	}
	if (f->field == FIELD_ADDRESS) {
		struct cidr host;

		/* An event without an address (none known) holds no filter on it. */
		if (!cidr_parse(s, len, false, &host))
			return false;
		if (f->has_values && !valset_has_address(&f->values, &host))
			return false;
		return !valset_has_address(&f->exclude, &host);
	}
	if (f->field == FIELD_PORT) {
		struct port_range port;

		if (!port_parse(s, len, &port) || port.lo != port.hi)
			return false;
		if (f->has_values && !valset_has_port(&f->values, port.lo))
			return false;
		return !valset_has_port(&f->exclude, port.lo);
	}
	/* An index hit may have come from the alias: then the path's values are not known. */
	if (string_holds(f, s, len, values_known && !f->alias))
		return true;
	/*
	 * Each name is judged whole, values and exclude: a path chosen to be
	 * excluded (a bind mount under an excluded directory) cannot hide the
	 * file its identity names.
	 */
	return f->alias && event_string(ev, FIELD_DATA, f->alias, &s, &len) &&
	       string_holds(f, s, len, false);
}

static bool runtime_listed(const struct rule *r, const char *runtime)
{
	size_t i;

	if (!runtime)
		runtime = CONTAINER_RUNTIME_HOST;
	for (i = 0; i < r->n_runtimes; i++)
		if (r->runtimes[i] == runtime || !strcmp(r->runtimes[i], runtime))
			return true;
	return false;
}

/* rule_matches() less the tracer check; filter @known's values are known to hold. */
static bool rule_holds(const struct rule *r, const struct event *ev, uint32_t known)
{
	size_t i;

	if (r->n_runtimes && !runtime_listed(r, ev->container_runtime))
		return false;
	for (i = 0; i < r->n_filters; i++)
		if (!filter_holds(&r->filters[i], ev, i == known))
			return false;
	return true;
}

bool rule_matches(const struct rule *r, const struct event *ev)
{
	if (!r || !ev || !ev->tracer || r->tracer >= tracer_count ||
	    strcmp(ev->tracer, tracer_table[r->tracer]->name) != 0)
		return false;
	return rule_holds(r, ev, NONE);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                            */

void rule_free(struct rule *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_filters; i++) {
		free(r->filters[i].key);
		valset_release(&r->filters[i].values);
		valset_release(&r->filters[i].exclude);
	}
	free(r->filters);
	valset_release(&r->actions);
	free(r->instances);
	free(r->runtimes);
	for (i = 0; i < r->n_tags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->description);
	free(r->name);
	free(r);
}

const char *rule_name(const struct rule *r)
{
	return r->name;
}

size_t rule_tracer(const struct rule *r)
{
	return r->tracer;
}

bool rule_rebind(struct rule *r)
{
	size_t index;

	if (r->tracer >= tracer_count || !tracer_find(tracer_table[r->tracer]->name, &index))
		return false;
	r->tracer = index;
	return true;
}

size_t rule_action_count(const struct rule *r)
{
	return r->actions.n_exact;
}

const char *rule_action(const struct rule *r, size_t i)
{
	return i < r->actions.n_exact ? r->actions.exact[i].s : NULL;
}

void *rule_action_instance(const struct rule *r, size_t i)
{
	return r->instances && i < r->actions.n_exact ? r->instances[i] : NULL;
}

int rule_bind_action(struct rule *r, size_t i, void *instance)
{
	if (i >= r->actions.n_exact)
		return -EINVAL;
	if (!r->instances) {
		r->instances = calloc(r->actions.n_exact, sizeof(*r->instances));
		if (!r->instances)
			return -ENOMEM;
	}
	r->instances[i] = instance;
	return 0;
}

void rule_count_match(const struct rule *r)
{
	/*
	 * Rules live on the heap (rule_parse) and the counter is the one
	 * member the event path writes: the const of the set's pointers
	 * protects the rest.
	 */
	((struct rule *)r)->matches++;
}

uint64_t rule_match_count(const struct rule *r)
{
	return r->matches;
}

bool rule_forced(const struct rule *r)
{
	return r->force;
}

/* A glob that is a literal and one trailing `*`: no other meta, no escape. */
static bool literal_prefix(const struct sval *g)
{
	size_t i;

	if (!g->len || g->s[g->len - 1] != '*')
		return false;
	for (i = 0; i + 1 < g->len; i++)
		if (strchr("*?[\\", g->s[i]))
			return false;
	return true;
}

/*
 * A glob that is `*` and "/" then a literal that does not end in "/"
 * ("*" "/.bash_history", "*" "/.config/fish/fish_history"): whatever the `*`
 * takes, a path it matches ends in that literal's last component, which is
 * returned in *@leaf, *@len. False for anything else.
 */
static bool literal_leaf(const struct sval *g, const char **leaf, size_t *len)
{
	const char *s = g->s;
	size_t i, n = g->len, start = 2;

	if (n < 3 || s[0] != '*' || s[1] != '/' || s[n - 1] == '/')
		return false;
	for (i = 2; i < n; i++) {
		if (strchr("*?[\\", s[i]))
			return false;
		if (s[i] == '/')
			start = i + 1;
	}
	*leaf = s + start;
	*len = n - start;
	return true;
}

bool rule_prefilter_values(const struct rule *r, const char *key, bool leaves,
			   void (*fn)(void *ctx, const char *s, size_t len,
				      enum rule_value_kind kind),
			   void *ctx)
{
	const struct filter *f = NULL;
	const char *leaf;
	size_t i, len;

	for (i = 0; i < r->n_filters; i++)
		if (strcmp(r->filters[i].key, key) == 0 && r->filters[i].has_values &&
		    is_plain_string(r->filters[i].field))
			f = &r->filters[i];
	if (!f)
		return false;
	for (i = 0; i < f->values.n_globs; i++)
		if (!literal_prefix(&f->values.globs[i]) &&
		    !(leaves && literal_leaf(&f->values.globs[i], &leaf, &len)))
			return false;
	for (i = 0; i < f->values.n_exact; i++)
		fn(ctx, f->values.exact[i].s, f->values.exact[i].len, RULE_VALUE_EXACT);
	for (i = 0; i < f->values.n_globs; i++) {
		if (literal_prefix(&f->values.globs[i])) {
			fn(ctx, f->values.globs[i].s, f->values.globs[i].len - 1,
			   RULE_VALUE_PREFIX);
		} else if (literal_leaf(&f->values.globs[i], &leaf, &len)) {
			fn(ctx, leaf, len, RULE_VALUE_LEAF);
		}
	}
	return true;
}

bool rule_prefilter_numbers(const struct rule *r, const char *key,
			    void (*fn)(void *ctx, uint64_t value), void *ctx)
{
	const struct filter *f = NULL;
	size_t i;

	for (i = 0; i < r->n_filters; i++)
		if (strcmp(r->filters[i].key, key) == 0 && r->filters[i].has_values &&
		    is_numeric(r->filters[i].field))
			f = &r->filters[i];
	if (!f || f->values.n_cmps)
		return false;
	for (i = 0; i < f->values.n_eq; i++)
		if (f->values.eq[i].neg)
			return false;
	for (i = 0; i < f->values.n_eq; i++)
		fn(ctx, f->values.eq[i].v);
	return f->values.n_eq > 0;
}

/* The filter of @r on @key of field @field with `values`, or NULL. */
static const struct filter *values_filter(const struct rule *r, const char *key, enum field field)
{
	size_t i;

	for (i = 0; i < r->n_filters; i++)
		if (r->filters[i].field == field && r->filters[i].has_values &&
		    strcmp(r->filters[i].key, key) == 0)
			return &r->filters[i];
	return NULL;
}

bool rule_prefilter_addresses(const struct rule *r, const char *key,
			      void (*fn)(void *ctx, const uint8_t addr[16], unsigned int bits),
			      void *ctx)
{
	const struct filter *f = values_filter(r, key, FIELD_ADDRESS);
	size_t i;

	for (i = 0; f && i < f->values.n_cidrs; i++)
		fn(ctx, f->values.cidrs[i].addr, f->values.cidrs[i].bits);
	return f != NULL;
}

bool rule_prefilter_ports(const struct rule *r, const char *key,
			  void (*fn)(void *ctx, unsigned int lo, unsigned int hi), void *ctx)
{
	const struct filter *f = values_filter(r, key, FIELD_PORT);
	size_t i;

	for (i = 0; f && i < f->values.n_ports; i++)
		fn(ctx, f->values.ports[i].lo, f->values.ports[i].hi);
	return f != NULL;
}

bool rule_requires_container(const struct rule *r)
{
	size_t i;

	if (!r->n_runtimes)
		return false;
	for (i = 0; i < r->n_runtimes; i++)
		if (strcmp(r->runtimes[i], CONTAINER_RUNTIME_HOST) == 0)
			return false;
	return true;
}

bool rule_on_container_meta(const struct rule *r)
{
	size_t i;

	for (i = 0; i < r->n_filters; i++)
		if (r->filters[i].field == FIELD_CONTAINER_META)
			return true;
	return false;
}

bool rule_container_meta_holds(const struct rule *r, const struct container_meta *m)
{
	struct event ev;
	size_t i;

	memset(&ev, 0, sizeof(ev));
	ev.container_meta = m;
	/* An absent key holds no filter on it, excluding ones included. */
	for (i = 0; i < r->n_filters; i++)
		if (r->filters[i].field == FIELD_CONTAINER_META &&
		    !filter_holds(&r->filters[i], &ev, false))
			return false;
	return true;
}

bool rule_unfiltered(const struct rule *r)
{
	return r->n_filters == 0 && r->n_runtimes == 0;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */

/*
 * The lists and overrides of a set of rule files. Everything points into
 * the docs' TOML trees, which outlive the library.
 */
struct rule_doc {
	char *file;			/* NULL: stdin or the socket */
	struct toml_value *root;
};

struct list_def {
	const char *name;		/* the TOML key's */
	const struct rule_doc *doc;
	unsigned int line;
	const struct toml_value *items;
	size_t uses;
};

struct override {
	const struct rule_doc *doc;
	const struct toml_value *table;
	const char *rule;		/* the rule it changes, or NULL ... */
	const char *list;		/* ... the list it extends */
	unsigned int line;
	size_t hits;
};

struct rule_library {
	struct list_def *lists;
	size_t n_lists;
	struct override *overrides;
	size_t n_overrides;
};

/* Overrides of one rule at most (beyond: an error, not a silent cut). */
enum { RULE_OVERRIDES_MAX = 16 };

struct parse {
	struct rule *r;
	struct rule_error *err;
	rule_action_fn action_kind;
	void *action_ctx;
	const char *destructive;	/* the first destructive action, for the force check */
	unsigned int actions_line;
	const struct tracer_ops *tracer;
	unsigned int runtimes_line;	/* where containerRuntimes was first given; 0: not yet */
	struct rule_library *lib;	/* NULL: no lists, no overrides */
	struct override *ovr[RULE_OVERRIDES_MAX];	/* those of this rule, in load order */
	size_t n_ovr;
	bool disabled;			/* an override says enabled = false */
	/* While reading what an override adds: an error is that override's. */
	const struct override *err_override;
};

static const char *const priority_names[RULE_PRIORITY_COUNT] = {
	"debug", "info", "notice", "warning", "error", "critical",
};

const char *rule_priority_name(enum rule_priority p)
{
	return (unsigned int)p < RULE_PRIORITY_COUNT ? priority_names[p] : NULL;
}

int rule_priority_severity(const char *s)
{
	int p = s ? rule_priority_parse(s) : -1;

	/* The ladders share their order: debug is 7, critical 2. */
	return p < 0 ? 4 : 7 - p;
}

int rule_priority_parse(const char *s)
{
	int i;

	for (i = 0; i < RULE_PRIORITY_COUNT; i++)
		if (!strcmp(s, priority_names[i]))
			return i;
	return -1;
}

static bool all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

bool rule_tag_valid(const char *s, size_t len, const char **why)
{
	size_t i, lead;

	if (len == 0 || len > RULE_TAG_MAX) {
		*why = "a tag is 1 to 64 bytes";
		return false;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-')) {
			*why = "a tag is made of A-Z a-z 0-9 _ . : -";
			return false;
		}
	}
	/* T1003, T1003.008, TA0006: a typo in one would silently never be found. */
	lead = len > 2 && s[0] == 'T' && s[1] == 'A' ? 2 : 1;
	if (s[0] == 'T' && len > lead && s[lead] >= '0' && s[lead] <= '9') {
		bool ok = len >= lead + 4 && all_digits(s + lead, 4) &&
			  (len == lead + 4 ||
			   (lead == 1 && len == 9 && s[5] == '.' && all_digits(s + 6, 3)));

		if (!ok) {
			*why = "it looks like an ATT&CK id but is not one (T1234, T1234.567, "
			       "TA1234)";
			return false;
		}
	}
	return true;
}

enum rule_priority rule_priority(const struct rule *r)
{
	return r->priority;
}

const char *rule_description(const struct rule *r)
{
	return r->description ? r->description : "";
}

size_t rule_tag_count(const struct rule *r)
{
	return r->n_tags;
}

const char *rule_tag(const struct rule *r, size_t i)
{
	return i < r->n_tags ? r->tags[i] : NULL;
}

bool rule_has_tag(const struct rule *r, const char *tag)
{
	size_t i;

	for (i = 0; i < r->n_tags; i++)
		if (!strcmp(r->tags[i], tag))
			return true;
	return false;
}

unsigned int rule_line(const struct rule *r)
{
	return r->line;
}

static bool is_key(const struct toml_entry *e, const char *name)
{
	return e->key_len == strlen(name) && !memcmp(e->key, name, e->key_len);
}

static int type_error(struct parse *p, unsigned int line, const char *what,
		      const struct toml_value *v, const char *want)
{
	return fail(p->err, line, "%s must be %s, not %s %s", what, want,
		    v->type == TOML_INTEGER || v->type == TOML_ARRAY ? "an" : "a",
		    toml_type_name(v->type));
}

static bool name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > RULE_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

#define NAME_RULES                                                                                 \
	"1 to 128 bytes of A-Z a-z 0-9 _ . -, not starting with . or -"

static int parse_name(struct parse *p, const struct toml_entry *e)
{
	const struct toml_value *v = e->value;
	char q[QUOTE_MAX];

	if (v->type != TOML_STRING)
		return type_error(p, e->line, "\"name\"", v, "a string");
	if (!name_valid(v->string.ptr, v->string.len))
		return fail(p->err, v->line, "bad rule name %s: a name is " NAME_RULES,
			    quote(q, v->string.ptr, v->string.len));
	p->r->name = memdup_str(v->string.ptr, v->string.len);
	return p->r->name ? 0 : -ENOMEM;
}

/* The compiled-in tracers' names, ", "-separated, into @buf. */
static const char *tracer_list(char *buf, size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < tracer_count && o < size; i++)
		if (!tracer_retired(i))
			o += snprintf(buf + o, size - o, "%s%s", o ? ", " : "",
				      tracer_table[i]->name);
	return buf;
}

static int parse_tracer(struct parse *p, const struct toml_entry *e)
{
	const struct toml_value *v = e->value;
	char q[QUOTE_MAX], list[256];

	if (v->type != TOML_STRING)
		return type_error(p, e->line, "\"tracer\"", v, "a string");
	if (strlen(v->string.ptr) != v->string.len ||
	    !(p->tracer = tracer_find(v->string.ptr, &p->r->tracer)))
		return fail(p->err, v->line, "unknown tracer %s (compiled in: %s)",
			    quote(q, v->string.ptr, v->string.len), tracer_list(list, sizeof(list)));
	return 0;
}

/* A string item of an array with no NUL in it, or an error naming @what. */
static int string_item(struct parse *p, const struct toml_value *item, const char *what)
{
	char q[QUOTE_MAX];

	if (item->type != TOML_STRING)
		return type_error(p, item->line, what, item, "a string");
	if (strlen(item->string.ptr) != item->string.len)
		return fail(p->err, item->line, "%s %s holds a NUL byte", what,
			    quote(q, item->string.ptr, item->string.len));
	return 0;
}

/*
 * The actions of @n arrays (the rule's own, then its overrides'), each
 * given by its entry, into the rule's one list.
 */
static int parse_actions(struct parse *p, const struct toml_entry *const *arrays,
			 const struct override *const *srcs, size_t n_arrays)
{
	const struct toml_value *item;
	char q[QUOTE_MAX], why[256];
	size_t i, k, n = 0;
	int ret, kind;

	for (k = 0; k < n_arrays; k++) {
		p->err_override = srcs[k];
		if (arrays[k]->value->type != TOML_ARRAY)
			return type_error(p, arrays[k]->line, "\"actions\"", arrays[k]->value,
					  "an array of strings");
		n += toml_array_len(arrays[k]->value);
	}
	ret = valset_reserve_strings(&p->r->actions, n);
	if (ret)
		return ret;
	for (k = 0; k < n_arrays; k++) {
		const struct toml_value *v = arrays[k]->value;

		p->err_override = srcs[k];
		for (i = 0; i < toml_array_len(v); i++) {
			item = toml_array_at(v, i);
			ret = string_item(p, item, "an action");
			if (ret)
				return ret;
			if (item->string.len == 0)
				return fail(p->err, item->line, "empty action name");
			why[0] = '\0';
			kind = p->action_kind ? p->action_kind(p->action_ctx, item->string.ptr, why,
								 sizeof(why))
					      : RULE_ACTION_OK;
			if (kind == RULE_ACTION_UNKNOWN && why[0])
				return fail(p->err, item->line, "action %s: %s",
					    quote(q, item->string.ptr, item->string.len), why);
			if (kind == RULE_ACTION_UNKNOWN)
				return fail(p->err, item->line, "unknown action %s",
					    quote(q, item->string.ptr, item->string.len));
			if (kind == RULE_ACTION_DESTRUCTIVE && !p->destructive) {
				p->destructive = item->string.ptr;
				p->actions_line = item->line;
			}
			/* A name listed twice runs once anyway: keep the first. */
			ret = valset_add_exact(&p->r->actions, item->string.ptr, item->string.len);
			if (ret)
				return ret;
		}
	}
	p->err_override = NULL;
	return 0;
}

static int parse_priority(struct parse *p, const struct toml_entry *e)
{
	const struct toml_value *v = e->value;
	char q[QUOTE_MAX];
	int prio;

	if (v->type != TOML_STRING)
		return type_error(p, e->line, "\"priority\"", v, "a string");
	prio = strlen(v->string.ptr) == v->string.len ? rule_priority_parse(v->string.ptr) : -1;
	if (prio < 0)
		return fail(p->err, v->line,
			    "unknown priority %s (debug, info, notice, warning, error or critical)",
			    quote(q, v->string.ptr, v->string.len));
	p->r->priority = (enum rule_priority)prio;
	return 0;
}

static int parse_description(struct parse *p, const struct toml_entry *e)
{
	const struct toml_value *v = e->value;
	size_t i;

	if (v->type != TOML_STRING)
		return type_error(p, e->line, "\"description\"", v, "a string");
	if (v->string.len > RULE_DESCRIPTION_MAX)
		return fail(p->err, v->line, "\"description\" is longer than %d bytes",
			    RULE_DESCRIPTION_MAX);
	/* One line of text wherever it is shown: newlines become spaces, other controls are refused. */
	for (i = 0; i < v->string.len; i++) {
		unsigned char c = v->string.ptr[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return fail(p->err, v->line,
				    "\"description\" holds the control byte \\x%02x", c);
	}
	p->r->description = memdup_str(v->string.ptr, v->string.len);
	if (!p->r->description)
		return -ENOMEM;
	for (i = 0; i < v->string.len; i++)
		if (p->r->description[i] == '\n' || p->r->description[i] == '\t')
			p->r->description[i] = ' ';
	return 0;
}

/* The tags of @n arrays (the rule's own, then its overrides'). */
static int parse_tags(struct parse *p, const struct toml_entry *const *arrays, size_t n_arrays)
{
	char q[QUOTE_MAX];
	const char *why;
	size_t i, j, k;
	int ret;

	p->r->tags = calloc(RULE_TAGS_MAX, sizeof(*p->r->tags));
	if (!p->r->tags)
		return -ENOMEM;
	for (k = 0; k < n_arrays; k++) {
		const struct toml_value *v = arrays[k]->value;

		if (v->type != TOML_ARRAY)
			return type_error(p, arrays[k]->line, "\"tags\"", v, "an array of strings");
		for (i = 0; i < toml_array_len(v); i++) {
			const struct toml_value *item = toml_array_at(v, i);

			ret = string_item(p, item, "a tag");
			if (ret)
				return ret;
			if (!rule_tag_valid(item->string.ptr, item->string.len, &why))
				return fail(p->err, item->line, "bad tag %s: %s",
					    quote(q, item->string.ptr, item->string.len), why);
			for (j = 0; j < p->r->n_tags; j++)
				if (!strcmp(p->r->tags[j], item->string.ptr))
					break;
			if (j < p->r->n_tags)
				continue;
			if (p->r->n_tags == RULE_TAGS_MAX)
				return fail(p->err, item->line, "more than %d tags", RULE_TAGS_MAX);
			p->r->tags[p->r->n_tags] = memdup_str(item->string.ptr, item->string.len);
			if (!p->r->tags[p->r->n_tags])
				return -ENOMEM;
			p->r->n_tags++;
		}
	}
	return 0;
}

static size_t runtime_index(const char *name)
{
	size_t i;

	for (i = 0; container_runtimes[i]; i++)
		if (!strcmp(container_runtimes[i], name))
			return i;
	return SIZE_MAX;
}

static bool runtimes_contain(const char *const *list, size_t n, const char *rt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == rt)
			return true;
	return false;
}

static int parse_runtimes(struct parse *p, const struct toml_entry *e)
{
	const struct toml_value *v = e->value, *item;
	const char **list;
	size_t i, k, n, n_known, count = 0;
	char q[QUOTE_MAX];
	int ret = 0;

	if (v->type != TOML_ARRAY)
		return type_error(p, e->line, "\"containerRuntimes\"", v, "an array of strings");
	n = toml_array_len(v);
	if (n == 0)
		return fail(p->err, e->line,
			    "\"containerRuntimes\" is empty (leave it out to match every runtime)");
	for (n_known = 0; container_runtimes[n_known]; n_known++)
		;
	list = calloc(n_known, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		item = toml_array_at(v, i);
		ret = string_item(p, item, "a container runtime");
		if (ret)
			goto out;
		k = runtime_index(item->string.ptr);
		if (k == SIZE_MAX) {
			char known[512];
			size_t j, o = 0;

			for (j = 0; container_runtimes[j] && o < sizeof(known); j++)
				o += snprintf(known + o, sizeof(known) - o, "%s%s", j ? " " : "",
					      container_runtimes[j]);
			ret = fail(p->err, item->line, "unknown container runtime %s (known: %s)",
				   quote(q, item->string.ptr, item->string.len), known);
			goto out;
		}
		if (!runtimes_contain(list, count, container_runtimes[k]))
			list[count++] = container_runtimes[k];
	}
	if (p->runtimes_line) {
		/*
		 * Given twice (top level, [filterEvents], a filter table: the
		 * old README's layouts). They all mean the rule's one list, so
		 * they must agree; two different lists would be a guess.
		 */
		bool same = count == p->r->n_runtimes;

		for (i = 0; same && i < count; i++)
			same = runtimes_contain(p->r->runtimes, p->r->n_runtimes, list[i]);
		if (!same)
			ret = fail(p->err, e->line,
				   "\"containerRuntimes\" differs from the one on line %u (a rule has "
				   "one list of runtimes)",
				   p->runtimes_line);
		goto out;
	}
	p->r->runtimes = list;
	p->r->n_runtimes = count;
	p->runtimes_line = e->line;
	return 0;
out:
	free(list);
	return ret;
}

static int parse_force(struct parse *p, const struct toml_entry *e)
{
	if (e->value->type != TOML_BOOLEAN)
		return type_error(p, e->line, "\"force\"", e->value, "a boolean");
	p->r->force = e->value->boolean;
	return 0;
}

/*
 * "N", "=N", "!=N", "<N", "<=N", ">N", ">=N": N is decimal, maybe negative,
 * within int64 when negative and uint64 otherwise. No spaces.
 */
static bool parse_comparison(const char *s, size_t len, struct numcmp *out)
{
	static const struct {
		const char *text;
		enum cmp_op op;
	} ops[] = {
		{ "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
		{ "<", OP_LT },	 { ">", OP_GT },  { "=", OP_EQ },
	};
	const char *end = s + len;
	uint64_t v = 0;
	bool neg = false;
	size_t i;

	out->op = OP_EQ;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].text);

		if (len >= n && !memcmp(s, ops[i].text, n)) {
			out->op = ops[i].op;
			s += n;
			break;
		}
	}
	if (s < end && *s == '-') {
		neg = true;
		s++;
	}
	if (s == end)
		return false;
	for (; s < end; s++) {
		unsigned int d = (unsigned char)*s - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg && v > (uint64_t)INT64_MAX + 1)
		return false;
	out->n = neg && v ? (struct num){ .neg = true, .v = (uint64_t)0 - v } : num_from_u64(v);
	return true;
}

static bool num_in_range(struct num n, enum num_range range)
{
	switch (range) {
	case RANGE_U32:
		return !n.neg && n.v <= UINT32_MAX;
	case RANGE_S64:
		return n.neg || n.v <= INT64_MAX;
	case RANGE_U64:
		return !n.neg;
	}
	return false;
}

static const char *range_text(enum num_range range)
{
	switch (range) {
	case RANGE_U32:
		return "0 to 4294967295";
	case RANGE_S64:
		return "-9223372036854775808 to 9223372036854775807";
	case RANGE_U64:
		return "0 to 18446744073709551615";
	}
	return "";
}

static enum num_range field_range(enum field field)
{
	size_t i;

	for (i = 0; i < N_NUMERIC; i++)
		if (numeric_fields[i].field == field)
			return numeric_fields[i].range;
	return RANGE_U64;
}

/* One item of `values`/`exclude` of numeric filter @f into @vs. */
static int add_number(struct parse *p, const struct filter *f, const char *list,
		      const struct toml_value *item, struct valset *vs)
{
	enum num_range range = field_range(f->field);
	struct numcmp c;
	char q[QUOTE_MAX];

	if (item->type == TOML_INTEGER) {
		c.op = OP_EQ;
		c.n = num_from_s64(item->integer);
	} else if (item->type == TOML_STRING) {
		if (!parse_comparison(item->string.ptr, item->string.len, &c))
			return fail(p->err, item->line,
				    "filterEvents.%s.%s: bad value %s: a number or a comparison "
				    "=N !=N <N <=N >N >=N, N a decimal integer",
				    f->key, list, quote(q, item->string.ptr, item->string.len));
	} else {
		char what[96];

		snprintf(what, sizeof(what), "filterEvents.%s.%s: a value", f->key, list);
		return type_error(p, item->line, what, item, "an integer or a string");
	}
	if (!num_in_range(c.n, range)) {
		if (item->type == TOML_STRING)
			quote(q, item->string.ptr, item->string.len);
		else
			snprintf(q, sizeof(q), "%" PRId64, item->integer);
		return fail(p->err, item->line, "filterEvents.%s.%s: %s is out of range (%s)", f->key,
			    list, q, range_text(range));
	}
	if (c.op == OP_EQ)
		vs->eq[vs->n_eq++] = c.n;
	else
		vs->cmps[vs->n_cmps++] = c;
	return 0;
}

/* One item of `values`/`exclude` of an address or port filter @f into @vs. */
static int add_address_or_port(struct parse *p, const struct filter *f, const char *list,
			       const struct toml_value *item, struct valset *vs)
{
	char what[96], q[QUOTE_MAX];
	const char *s;
	size_t len;
	int ret;

	snprintf(what, sizeof(what), "filterEvents.%s.%s: a value", f->key, list);
	if (f->field == FIELD_PORT && item->type == TOML_INTEGER) {
		if (item->integer < 0 || item->integer > 65535)
			return fail(p->err, item->line,
				    "filterEvents.%s.%s: port %" PRId64 " is out of range (0-65535)",
				    f->key, list, item->integer);
		vs->ports[vs->n_ports++] =
			(struct port_range){ (uint16_t)item->integer, (uint16_t)item->integer };
		return 0;
	}
	ret = string_item(p, item, what);
	if (ret)
		return ret;
	s = item->string.ptr;
	len = item->string.len;
	if (f->field == FIELD_PORT) {
		if (!port_parse(s, len, &vs->ports[vs->n_ports]))
			return fail(p->err, item->line,
				    "filterEvents.%s.%s: bad port %s: a port 0-65535 or a range "
				    "\"LO-HI\"",
				    f->key, list, quote(q, s, len));
		vs->n_ports++;
		return 0;
	}
	if (!cidr_parse(s, len, true, &vs->cidrs[vs->n_cidrs]))
		return fail(p->err, item->line,
			    "filterEvents.%s.%s: bad address %s: an IPv4 or IPv6 address, or a "
			    "block ADDRESS/BITS (\"10.0.0.0/8\", \"::1/128\")",
			    f->key, list, quote(q, s, len));
	vs->n_cidrs++;
	return 0;
}

/* One item of `values`/`exclude` of string filter @f into @vs. */
static int add_string(struct parse *p, const struct filter *f, const char *list,
		      const struct toml_value *item, struct valset *vs)
{
	const char *s, *why = NULL;
	char what[96], q[QUOTE_MAX];
	size_t len, i, o;
	bool meta;
	char *plain;
	int ret;

	snprintf(what, sizeof(what), "filterEvents.%s.%s: a value", f->key, list);
	ret = string_item(p, item, what);
	if (ret)
		return ret;
	s = item->string.ptr;
	len = item->string.len;
	if (f->field == FIELD_CONTAINER_RUNTIME) {
		/* A closed set: a typo would silently never match. */
		if (!container_runtime_known(s))
			return fail(p->err, item->line,
				    "filterEvents.%s.%s: unknown container runtime %s", f->key, list,
				    quote(q, s, len));
		return valset_add_exact(vs, s, len);
	}
	if (!memchr(s, '*', len) && !memchr(s, '?', len) && !memchr(s, '[', len))
		return valset_add_exact(vs, s, len);
	if (glob_check(s, len, &meta, &why))
		return fail(p->err, item->line, "filterEvents.%s.%s: bad glob %s: %s", f->key, list,
			    quote(q, s, len), why);
	if (meta)
		return valset_add_glob(vs, s, len);
	/* Every * ? [ is escaped: an exact value, which the ruleset can index. */
	plain = malloc(len + 1);
	if (!plain)
		return -ENOMEM;
	for (i = 0, o = 0; i < len; i++) {
		if (s[i] == '\\')
			i++;
		plain[o++] = s[i];
	}
	ret = valset_add_exact(vs, plain, o);
	free(plain);
	return ret;
}

static const struct list_def *list_find(const struct rule_library *lib, const char *name,
					size_t len)
{
	size_t i;

	for (i = 0; lib && i < lib->n_lists; i++)
		if (strlen(lib->lists[i].name) == len && !memcmp(lib->lists[i].name, name, len))
			return &lib->lists[i];
	return NULL;
}

/* Is @item a reference to a named list ("@name")? */
static bool list_ref(const struct toml_value *item)
{
	return item->type == TOML_STRING && item->string.len > 1 && item->string.ptr[0] == '@';
}

/*
 * Appends the items of @v (an array) to @items, a list reference replaced
 * by the list's items (its definition's, then each override's that
 * extends it). NULL @items: counts only.
 */
static int expand_items(struct parse *p, const char *what, const struct toml_value *v,
			const struct toml_value **items, size_t *n)
{
	char q[QUOTE_MAX];
	size_t i, j, k;

	for (i = 0; i < toml_array_len(v); i++) {
		const struct toml_value *item = toml_array_at(v, i);
		struct list_def *l;

		if (!list_ref(item)) {
			if (items)
				items[*n] = item;
			(*n)++;
			continue;
		}
		l = (struct list_def *)list_find(p->lib, item->string.ptr + 1, item->string.len - 1);
		if (!l)
			return fail(p->err, item->line, "%s: unknown list %s", what,
				    quote(q, item->string.ptr + 1, item->string.len - 1));
		if (items)
			l->uses++;
		for (j = 0; j < toml_array_len(l->items); j++) {
			if (items)
				items[*n] = toml_array_at(l->items, j);
			(*n)++;
		}
		for (k = 0; k < p->lib->n_overrides; k++) {
			struct override *o = &p->lib->overrides[k];
			const struct toml_value *more;

			if (!o->list || strcmp(o->list, l->name))
				continue;
			more = toml_get(o->table, "items");
			if (items)
				o->hits++;
			for (j = 0; j < toml_array_len(more); j++) {
				if (items)
					items[*n] = toml_array_at(more, j);
				(*n)++;
			}
		}
	}
	return 0;
}

/*
 * `values` or `exclude` (@which) of filter @f from @n entries (the rule's
 * own, then its overrides'), lists expanded, into @vs.
 */
static int parse_list(struct parse *p, struct filter *f, const char *which,
		      const struct toml_entry *const *entries, const struct override *const *srcs,
		      size_t n_entries, struct valset *vs)
{
	const struct toml_value **items = NULL;
	const struct override **item_src = NULL;
	size_t i, n = 0, got = 0;
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "filterEvents.%s.%s", f->key, which);
	for (i = 0; i < n_entries; i++) {
		p->err_override = srcs[i];
		if (entries[i]->value->type != TOML_ARRAY)
			return type_error(p, entries[i]->line, what, entries[i]->value, "an array");
		ret = expand_items(p, what, entries[i]->value, NULL, &n);
		if (ret)
			return ret;
	}
	items = calloc(n ? n : 1, sizeof(*items));
	item_src = calloc(n ? n : 1, sizeof(*item_src));
	if (!items || !item_src) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n_entries; i++) {
		size_t first = got;

		ret = expand_items(p, what, entries[i]->value, items, &got);
		if (ret)
			goto out;
		while (first < got)
			item_src[first++] = srcs[i];
	}
	ret = -ENOMEM;
	if (f->field == FIELD_ADDRESS || f->field == FIELD_PORT) {
		vs->cidrs = calloc(n ? n : 1, sizeof(*vs->cidrs));
		vs->ports = calloc(n ? n : 1, sizeof(*vs->ports));
		if (!vs->cidrs || !vs->ports)
			goto out;
	} else if (is_numeric(f->field)) {
		vs->eq = calloc(n ? n : 1, sizeof(*vs->eq));
		vs->cmps = calloc(n ? n : 1, sizeof(*vs->cmps));
		if (!vs->eq || !vs->cmps)
			goto out;
	} else {
		ret = valset_reserve_strings(vs, n);
		if (ret)
			goto out;
	}
	for (i = 0; i < n; i++) {
		const struct toml_value *item = items[i];

		p->err_override = item_src[i];
		if (list_ref(item)) {
			ret = fail(p->err, item->line, "%s: lists do not nest (a list's item %s)",
				   what, "starts with @");
			goto out;
		}
		if (f->field == FIELD_ADDRESS || f->field == FIELD_PORT)
			ret = add_address_or_port(p, f, which, item, vs);
		else if (is_numeric(f->field))
			ret = add_number(p, f, which, item, vs);
		else
			ret = add_string(p, f, which, item, vs);
		if (ret)
			goto out;
	}
	valset_finish_numbers(vs);
	p->err_override = NULL;
	ret = 0;
out:
	free(items);
	free(item_src);
	return ret;
}

/* Keys on the process's ancestors (the process table, proctable.h), for every tracer. */
static const struct {
	const char *name;
	enum field field;
} process_keys[] = {
	{ "exe", FIELD_EXE },
	{ "parent_command", FIELD_PARENT_COMMAND },
	{ "parent_exe", FIELD_PARENT_EXE },
	{ "ancestor_command", FIELD_ANCESTOR_COMMAND },
	{ "ancestor_exe", FIELD_ANCESTOR_EXE },
};

#define N_PROCESS_KEYS (sizeof(process_keys) / sizeof(process_keys[0]))

/* The filter keys of the rule's tracer, for an error message. */
static const char *filter_keys(const struct tracer_ops *t, char *buf, size_t size)
{
	const char *const *k;
	size_t i, o = 0;

	buf[0] = '\0';
	for (k = t->keys; *k && o < size; k++)
		if (strcmp(*k, "returnval") != 0)
			o += snprintf(buf + o, size - o, "%s%s", o ? ", " : "", *k);
	for (i = 0; i < N_NUMERIC && o < size; i++)
		if (numeric_fields[i].field != FIELD_RETURNVAL || tracer_has_key(t, "returnval"))
			o += snprintf(buf + o, size - o, ", %s", numeric_fields[i].name);
	if (o < size)
		snprintf(buf + o, size - o,
			 ", container_id, container_runtime, container_name, container_image, "
			 "container_label.KEY, k8s_namespace, k8s_pod, exe, parent_command, parent_exe, "
			 "ancestor_command, ancestor_exe");
	return buf;
}

/* What filter key @key means for the rule's tracer; -EINVAL for none. */
static int resolve_field(struct parse *p, const struct toml_entry *e, enum field *field)
{
	char q[QUOTE_MAX], keys[640];
	size_t i;

	if (strlen(e->key) == e->key_len) {
		for (i = 0; i < N_NUMERIC; i++) {
			if (strcmp(e->key, numeric_fields[i].name) != 0)
				continue;
			/* Numeric, but only where the hook has a return value. */
			if (numeric_fields[i].field == FIELD_RETURNVAL &&
			    !tracer_has_key(p->tracer, "returnval"))
				break;
			*field = numeric_fields[i].field;
			return 0;
		}
		if (i == N_NUMERIC) {
			if (!strcmp(e->key, "container_id")) {
				*field = FIELD_CONTAINER_ID;
				return 0;
			}
			if (!strcmp(e->key, "container_runtime")) {
				*field = FIELD_CONTAINER_RUNTIME;
				return 0;
			}
			if (container_meta_key(e->key)) {
				*field = FIELD_CONTAINER_META;
				return 0;
			}
			for (i = 0; i < N_PROCESS_KEYS; i++) {
				if (!strcmp(e->key, process_keys[i].name)) {
					*field = process_keys[i].field;
					return 0;
				}
			}
			if (tracer_has_key(p->tracer, e->key)) {
				enum tracer_key_kind kind = tracer_key_kind(p->tracer, e->key);

				*field = kind == TRACER_KEY_ADDRESS ? FIELD_ADDRESS :
					 kind == TRACER_KEY_PORT    ? FIELD_PORT :
								      FIELD_DATA;
				return 0;
			}
		}
	}
	return fail(p->err, e->line, "filter key %s: the %s tracer never emits it (its keys: %s)",
		    quote(q, e->key, e->key_len), p->tracer->name,
		    filter_keys(p->tracer, keys, sizeof(keys)));
}

/* The table override @o gives for filter key @key, or NULL. */
static const struct toml_entry *override_filter(const struct override *o, const char *key,
						size_t key_len)
{
	return toml_get_entry_n(toml_get(o->table, "filterEvents"), key, key_len);
}

/*
 * The filter on key @e->key: @e is the rule's own table for it (@own) or
 * the first override's that names a key the rule has no filter on; every
 * override's table for the key adds its values and excludes.
 */
static int parse_filter(struct parse *p, const struct toml_entry *e, bool own)
{
	const struct toml_entry *tables[1 + RULE_OVERRIDES_MAX];
	const struct toml_entry *vals[1 + RULE_OVERRIDES_MAX], *excl[1 + RULE_OVERRIDES_MAX];
	const struct override *tsrc[1 + RULE_OVERRIDES_MAX], *vsrc[1 + RULE_OVERRIDES_MAX];
	const struct override *esrc[1 + RULE_OVERRIDES_MAX];
	struct filter *f = &p->r->filters[p->r->n_filters];
	size_t i, k, n_tables = 0, n_vals = 0, n_excl = 0;
	enum field field = FIELD_DATA;
	bool values_given = false;
	char q[QUOTE_MAX];
	int ret;

	if (own) {
		tsrc[n_tables] = NULL;
		tables[n_tables++] = e;
	}
	for (k = 0; k < p->n_ovr; k++) {
		const struct toml_entry *t = override_filter(p->ovr[k], e->key, e->key_len);

		if (t) {
			tsrc[n_tables] = p->ovr[k];
			tables[n_tables++] = t;
		}
	}
	p->err_override = tsrc[0];
	ret = resolve_field(p, e, &field);
	if (ret)
		return ret;
	for (k = 0; k < n_tables; k++) {
		p->err_override = tsrc[k];
		if (tables[k]->value->type != TOML_TABLE)
			return fail(p->err, tables[k]->line,
				    "filterEvents.%s must be a table ([filterEvents.%s] with values = "
				    "[...]), not %s %s",
				    e->key, e->key,
				    tables[k]->value->type == TOML_INTEGER ||
						    tables[k]->value->type == TOML_ARRAY
					    ? "an"
					    : "a",
				    toml_type_name(tables[k]->value->type));
	}
	f->key = memdup_str(e->key, e->key_len);
	if (!f->key)
		return -ENOMEM;
	f->field = field;
	f->alias = field_alias(field, f->key);
	f->line = e->value->line;
	p->r->n_filters++;
	for (k = 0; k < n_tables; k++) {
		const struct toml_value *t = tables[k]->value;

		p->err_override = tsrc[k];
		for (i = 0; i < toml_table_len(t); i++) {
			const struct toml_entry *c = toml_table_at(t, i);

			if (is_key(c, "values")) {
				vsrc[n_vals] = tsrc[k];
				vals[n_vals++] = c;
				values_given |= toml_array_len(c->value) > 0;
			} else if (is_key(c, "exclude")) {
				esrc[n_excl] = tsrc[k];
				excl[n_excl++] = c;
			} else if (is_key(c, "containerRuntimes") && own && k == 0) {
				ret = parse_runtimes(p, c);	/* the old README's layout */
				if (ret)
					return ret;
			} else {
				return fail(p->err, c->line,
					    "unknown key %s in [filterEvents.%s] (expected values, "
					    "exclude%s)",
					    quote(q, c->key, c->key_len), f->key,
					    own && k == 0 ? " or containerRuntimes" : "");
			}
		}
	}
	p->err_override = NULL;
	ret = parse_list(p, f, "values", vals, vsrc, n_vals, &f->values);
	if (!ret)
		ret = parse_list(p, f, "exclude", excl, esrc, n_excl, &f->exclude);
	if (ret)
		return ret;
	f->has_values = valset_size(&f->values) > 0;
	if (values_given && !f->has_values) {
		/* Lists that hold nothing: no value can match, and no filter is not what was meant. */
		f->has_values = true;
		p->r->lists_empty = true;
	}
	if (!f->has_values && valset_size(&f->exclude) == 0)
		return fail(p->err, f->line, "[filterEvents.%s] needs a non-empty values or exclude",
			    f->key);
	return 0;
}

static int parse_filter_events(struct parse *p, const struct toml_entry *e)
{
	const struct toml_value *t = e ? e->value : NULL;
	size_t i, k, n = 0;
	int ret;

	if (t && t->type != TOML_TABLE)
		return type_error(p, e->line, "\"filterEvents\"", t, "a table");
	n = toml_table_len(t);
	for (k = 0; k < p->n_ovr; k++) {
		const struct toml_value *of = toml_get(p->ovr[k]->table, "filterEvents");

		if (of && of->type != TOML_TABLE)
			return type_error(p, of->line, "an override's \"filterEvents\"", of,
					  "a table");
		n += toml_table_len(of);
	}
	p->r->filters = calloc(n ? n : 1, sizeof(*p->r->filters));
	if (!p->r->filters)
		return -ENOMEM;
	for (i = 0; i < toml_table_len(t); i++) {
		const struct toml_entry *c = toml_table_at(t, i);

		/* An older layout of the original project's examples. */
		if (is_key(c, "containerRuntimes"))
			ret = parse_runtimes(p, c);
		else
			ret = parse_filter(p, c, true);
		if (ret)
			return ret;
	}
	/* Keys only overrides filter on: each once, from the first override naming it. */
	for (k = 0; k < p->n_ovr; k++) {
		const struct toml_value *of = toml_get(p->ovr[k]->table, "filterEvents");

		for (i = 0; i < toml_table_len(of); i++) {
			const struct toml_entry *c = toml_table_at(of, i);
			size_t j;
			bool seen = toml_get_entry_n(t, c->key, c->key_len) != NULL;

			for (j = 0; j < k && !seen; j++)
				seen = override_filter(p->ovr[j], c->key, c->key_len) != NULL;
			if (seen)
				continue;
			ret = parse_filter(p, c, false);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* The default name: @file's base name minus ".toml". */
static int name_from_file(struct parse *p, const char *file)
{
	const char *base = strrchr(file, '/');
	size_t len;
	char q[QUOTE_MAX];

	base = base ? base + 1 : file;
	len = strlen(base);
	if (len > 5 && !strcmp(base + len - 5, ".toml"))
		len -= 5;
	if (!name_valid(base, len))
		return fail(p->err, 0,
			    "the file name gives the bad rule name %s: set \"name\" (a name is " NAME_RULES
			    ")",
			    quote(q, base, len));
	p->r->name = memdup_str(base, len);
	return p->r->name ? 0 : -ENOMEM;
}

/* The overrides of the rule being parsed (its name known), in load order. */
static int collect_overrides(struct parse *p)
{
	size_t k;

	for (k = 0; p->lib && k < p->lib->n_overrides; k++) {
		struct override *o = &p->lib->overrides[k];

		if (!o->rule || strcmp(o->rule, p->r->name))
			continue;
		if (p->n_ovr == RULE_OVERRIDES_MAX)
			return fail(p->err, 0, "more than %d overrides of rule \"%s\"",
				    RULE_OVERRIDES_MAX, p->r->name);
		p->ovr[p->n_ovr++] = o;
	}
	return 0;
}

/*
 * One rule from @table: a file's top level (@in_array false: the file's
 * name gives the default name) or one of its [[rule]] tables.
 */
static int parse_root(struct parse *p, const struct toml_value *table, const char *file,
		      bool in_array)
{
	const struct toml_entry *filters = NULL, *actions[1 + RULE_OVERRIDES_MAX];
	const struct override *action_src[1 + RULE_OVERRIDES_MAX] = { NULL };
	const struct toml_entry *tags[1 + RULE_OVERRIDES_MAX], *e;
	size_t i, k, n_actions = 0, n_tags = 0;
	char q[QUOTE_MAX], list[256];
	int ret = 0;

	p->r->priority = RULE_PRIORITY_DEFAULT;
	p->r->line = in_array ? table->line : 1;
	for (i = 0; i < toml_table_len(table) && !ret; i++) {
		e = toml_table_at(table, i);
		if (is_key(e, "name"))
			ret = parse_name(p, e);
		else if (is_key(e, "tracer"))
			ret = parse_tracer(p, e);
		else if (is_key(e, "actions"))
			actions[n_actions++] = e;
		else if (is_key(e, "containerRuntimes"))
			ret = parse_runtimes(p, e);
		else if (is_key(e, "force"))
			ret = parse_force(p, e);
		else if (is_key(e, "priority"))
			ret = parse_priority(p, e);
		else if (is_key(e, "description"))
			ret = parse_description(p, e);
		else if (is_key(e, "tags"))
			tags[n_tags++] = e;
		else if (is_key(e, "filterEvents"))
			filters = e;	/* after the tracer, which says what its keys mean */
		else if (!in_array && (is_key(e, "lists") || is_key(e, "override")))
			continue;	/* the library's (rule_library_add) */
		else
			ret = fail(p->err, e->line,
				   "unknown key %s (expected name, tracer, actions, "
				   "containerRuntimes, force, priority, description, tags or "
				   "filterEvents%s)",
				   quote(q, e->key, e->key_len),
				   is_key(e, "program") ? "; the tracer is now \"tracer\"" : "");
	}
	if (ret)
		return ret;
	if (!p->tracer)
		return fail(p->err, in_array ? table->line : 0, "missing \"tracer\" (compiled in: %s)",
			    tracer_list(list, sizeof(list)));
	if (!p->r->name) {
		if (in_array)
			return fail(p->err, table->line, "a [[rule]] needs a \"name\"");
		if (!file || !strcmp(file, "-"))
			return fail(p->err, 0, "a rule read from stdin needs a \"name\"");
		ret = name_from_file(p, file);
		if (ret)
			return ret;
	}
	ret = collect_overrides(p);
	if (ret)
		return ret;
	/* What overrides change, in load order: a later priority wins, lists grow. */
	for (k = 0; k < p->n_ovr; k++) {
		const struct toml_value *o = p->ovr[k]->table;

		p->ovr[k]->hits++;
		if ((e = toml_get_entry(o, "enabled")) && e->value->boolean == false)
			p->disabled = true;
		else if (e)
			p->disabled = false;
		if ((e = toml_get_entry(o, "priority")) && (ret = parse_priority(p, e)))
			return ret;
		if ((e = toml_get_entry(o, "actions"))) {
			action_src[n_actions] = p->ovr[k];
			actions[n_actions++] = e;
		}
		if ((e = toml_get_entry(o, "tags")))
			tags[n_tags++] = e;
	}
	ret = parse_actions(p, actions, action_src, n_actions);
	if (!ret)
		ret = parse_tags(p, tags, n_tags);
	if (!ret && (filters || p->n_ovr))
		ret = parse_filter_events(p, filters);
	if (ret)
		return ret;
	/*
	 * A rule that kills or freezes on every event of a tracer is almost
	 * always a mistake (a forgotten filter table); it must say so.
	 */
	if (p->destructive && !p->r->n_filters && !p->r->n_runtimes && !p->r->force)
		return fail(p->err, p->actions_line,
			    "action \"%s\" acts on processes or containers and this rule has no "
			    "filter (no filterEvents, no containerRuntimes): it would act on every "
			    "%s event; add a filter, or `force = true` if that is meant",
			    p->destructive, tracer_table[p->r->tracer]->name);
	return 0;
}

int rule_doc_read(const char *file, const char *text, size_t len, struct rule_doc **out,
		  struct rule_error *err)
{
	struct rule_error scratch;
	struct toml_error terr;
	struct rule_doc *doc;
	int ret;

	if (!err)
		err = &scratch;
	*err = (struct rule_error){ 0 };
	*out = NULL;
	doc = calloc(1, sizeof(*doc));
	if (!doc || (file && !(doc->file = strdup(file)))) {
		free(doc);
		fail(err, 0, "out of memory");
		return -ENOMEM;
	}
	ret = toml_parse(text, len, &doc->root, &terr);
	if (ret) {
		err->line = terr.line;
		snprintf(err->message, sizeof(err->message), "%s", terr.message);
		rule_doc_free(doc);
		return ret == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	*out = doc;
	return 0;
}

void rule_doc_free(struct rule_doc *doc)
{
	if (!doc)
		return;
	toml_free(doc->root);
	free(doc->file);
	free(doc);
}

const char *rule_doc_file(const struct rule_doc *doc)
{
	return doc->file;
}

struct rule_library *rule_library_new(void)
{
	return calloc(1, sizeof(struct rule_library));
}

void rule_library_free(struct rule_library *lib)
{
	if (!lib)
		return;
	free(lib->lists);
	free(lib->overrides);
	free(lib);
}

/* Lists are named like rules, minus . and -: "@name" must read as one word. */
static bool list_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > RULE_LIST_NAME_MAX || strlen(s) != len)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* A list's items: strings and integers, none a list itself. */
static int check_items(struct rule_error *err, const char *what, const struct toml_entry *e)
{
	char q[QUOTE_MAX];
	size_t i;

	if (e->value->type != TOML_ARRAY)
		return fail(err, e->line, "%s must be an array, not %s %s", what,
			    e->value->type == TOML_INTEGER ? "an" : "a",
			    toml_type_name(e->value->type));
	for (i = 0; i < toml_array_len(e->value); i++) {
		const struct toml_value *item = toml_array_at(e->value, i);

		if (item->type != TOML_STRING && item->type != TOML_INTEGER)
			return fail(err, item->line, "%s: an item must be a string or an integer, "
				    "not %s %s", what, item->type == TOML_ARRAY ? "an" : "a",
				    toml_type_name(item->type));
		if (list_ref(item))
			return fail(err, item->line, "%s: lists do not nest (item %s)", what,
				    quote(q, item->string.ptr, item->string.len));
	}
	return 0;
}

static int check_override(struct rule_error *err, const struct toml_value *o, struct override *out)
{
	const struct toml_value *rule = toml_get(o, "rule"), *list = toml_get(o, "list");
	char q[QUOTE_MAX];
	size_t i;
	int ret;

	if (o->type != TOML_TABLE)
		return fail(err, o->line, "\"override\" must be an array of tables ([[override]])");
	if (!rule == !list)
		return fail(err, o->line, "an [[override]] names either a \"rule\" or a \"list\"");
	if ((rule && (rule->type != TOML_STRING || !name_valid(rule->string.ptr, rule->string.len) ||
		      strlen(rule->string.ptr) != rule->string.len)) ||
	    (list && (list->type != TOML_STRING ||
		      !list_name_valid(list->string.ptr, list->string.len))))
		return fail(err, (rule ? rule : list)->line, "an [[override]]'s \"%s\" must be a "
			    "%s name", rule ? "rule" : "list", rule ? "rule" : "list");
	*out = (struct override){ .table = o, .line = o->line,
				  .rule = rule ? rule->string.ptr : NULL,
				  .list = list ? list->string.ptr : NULL };
	for (i = 0; i < toml_table_len(o); i++) {
		const struct toml_entry *e = toml_table_at(o, i);
		const char *why;

		if (is_key(e, "rule") || is_key(e, "list"))
			continue;
		if (list && is_key(e, "items")) {
			if ((ret = check_items(err, "[[override]] items", e)))
				return ret;
			continue;
		}
		if (rule && is_key(e, "enabled") && e->value->type == TOML_BOOLEAN)
			continue;
		if (rule && is_key(e, "priority") && e->value->type == TOML_STRING &&
		    rule_priority_parse(e->value->string.ptr) >= 0)
			continue;
		if (rule && (is_key(e, "actions") || is_key(e, "filterEvents")))
			continue;	/* checked where the rule is parsed */
		if (rule && is_key(e, "tags") && e->value->type == TOML_ARRAY) {
			size_t j;

			for (j = 0; j < toml_array_len(e->value); j++) {
				const struct toml_value *t = toml_array_at(e->value, j);

				if (t->type != TOML_STRING ||
				    !rule_tag_valid(t->string.ptr, t->string.len, &why))
					return fail(err, t->line, "[[override]] tags: bad tag");
			}
			continue;
		}
		return fail(err, e->line,
			    "unknown or bad key %s in an [[override]] of a %s (expected %s)",
			    quote(q, e->key, e->key_len), rule ? "rule" : "list",
			    rule ? "enabled = true|false, priority = \"...\", actions = [...], "
				   "tags = [...], [override.filterEvents.KEY] values/exclude"
				 : "items = [...]");
	}
	return 0;
}

int rule_library_add(struct rule_library *lib, const struct rule_doc *doc, struct rule_error *err)
{
	const struct toml_value *lists = toml_get(doc->root, "lists");
	const struct toml_value *ovr = toml_get(doc->root, "override");
	size_t i, n_lists = toml_table_len(lists), n_ovr = toml_array_len(ovr);
	struct list_def *l;
	struct override *o;
	char q[QUOTE_MAX];
	int ret;

	*err = (struct rule_error){ 0 };
	if (lists && lists->type != TOML_TABLE)
		return fail(err, lists->line, "\"lists\" must be a table ([lists] name = [...])");
	if (ovr && ovr->type != TOML_ARRAY)
		return fail(err, ovr->line, "\"override\" must be an array of tables ([[override]])");
	l = realloc(lib->lists, (lib->n_lists + n_lists + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	lib->lists = l;
	o = realloc(lib->overrides, (lib->n_overrides + n_ovr + 1) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	lib->overrides = o;
	for (i = 0; i < n_lists; i++) {
		const struct toml_entry *e = toml_table_at(lists, i);
		const struct list_def *dup;

		if (!list_name_valid(e->key, e->key_len))
			return fail(err, e->line, "bad list name %s: 1 to 64 bytes of A-Z a-z 0-9 _",
				    quote(q, e->key, e->key_len));
		if ((ret = check_items(err, "a list", e)))
			return ret;
		dup = list_find(lib, e->key, e->key_len);
		if (dup)
			return fail(err, e->line, "list %s is already defined in %s:%u (extend it "
				    "with an [[override]] list = ... items = [...])",
				    quote(q, e->key, e->key_len),
				    dup->doc->file ? dup->doc->file : "-", dup->line);
	}
	for (i = 0; i < n_ovr; i++)
		if ((ret = check_override(err, toml_array_at(ovr, i), &o[lib->n_overrides + i])))
			return ret;
	for (i = 0; i < n_lists; i++) {
		const struct toml_entry *e = toml_table_at(lists, i);

		lib->lists[lib->n_lists++] = (struct list_def){ .name = e->key, .doc = doc,
								.line = e->line,
								.items = e->value };
	}
	for (i = 0; i < n_ovr; i++)
		o[lib->n_overrides++].doc = doc;
	return 0;
}

void rule_library_reset_use(struct rule_library *lib)
{
	size_t i;

	for (i = 0; i < lib->n_lists; i++)
		lib->lists[i].uses = 0;
	for (i = 0; i < lib->n_overrides; i++)
		lib->overrides[i].hits = 0;
}

void rule_library_unused(const struct rule_library *lib,
			 void (*fn)(void *ctx, bool error, const char *file, unsigned int line,
				    const char *message),
			 void *ctx)
{
	char msg[RULE_ERROR_MAX];
	size_t i;

	for (i = 0; i < lib->n_overrides; i++) {
		const struct override *o = &lib->overrides[i];

		if (o->hits)
			continue;
		if (o->rule)
			snprintf(msg, sizeof(msg), "override of rule \"%s\": no such rule", o->rule);
		else if (!list_find(lib, o->list, strlen(o->list)))
			snprintf(msg, sizeof(msg), "override of list \"%s\": no such list", o->list);
		else
			continue;	/* a list no rule uses: reported below */
		fn(ctx, true, o->doc->file ? o->doc->file : "-", o->line, msg);
	}
	for (i = 0; i < lib->n_lists; i++) {
		if (lib->lists[i].uses)
			continue;
		snprintf(msg, sizeof(msg), "list \"%s\" is not used by any rule", lib->lists[i].name);
		fn(ctx, false, lib->lists[i].doc->file ? lib->lists[i].doc->file : "-",
		   lib->lists[i].line, msg);
	}
}

/* One rule of @table into *@out (NULL when an override disables it). */
static int parse_one(const struct rule_doc *doc, const struct toml_value *table, bool in_array,
		     struct rule_library *lib, rule_action_fn action_kind, void *action_ctx,
		     struct rule **out, struct rule_error *err)
{
	struct parse p = { .err = err, .action_kind = action_kind, .action_ctx = action_ctx,
			   .lib = lib };
	int ret;

	*out = NULL;
	p.r = calloc(1, sizeof(*p.r));
	if (!p.r)
		return -ENOMEM;
	ret = parse_root(&p, table, doc->file, in_array);
	if (ret == -EINVAL && p.err_override) {
		char msg[RULE_ERROR_MAX];
		const struct override *o = p.err_override;

		/* The mistake is in another file: say which, and where in it. */
		/* A message too long for the error ends cut: its start says what is wrong. */
		if (snprintf(msg, sizeof(msg), "rule \"%s\": the override at %s:%u: %s", p.r->name,
			     o->doc->file ? o->doc->file : "-", err->line, err->message) < 0)
			msg[0] = '\0';
		memcpy(err->message, msg, sizeof(msg));
		err->line = 0;
	} else if (ret == -EINVAL && p.r->name && in_array) {
		char msg[RULE_ERROR_MAX];

		/* The file and line say where; the rule's name says which of the file's. */
		if (snprintf(msg, sizeof(msg), "rule \"%s\": %s", p.r->name, err->message) < 0)
			msg[0] = '\0';
		memcpy(err->message, msg, sizeof(msg));
	}
	if (ret || p.disabled) {
		rule_free(p.r);
		return ret;
	}
	if (!p.r->actions.exact && (ret = valset_reserve_strings(&p.r->actions, 0))) {
		rule_free(p.r);
		return ret;
	}
	*out = p.r;
	return 0;
}

/* Does @root hold rule keys at its top level (a one-rule file)? */
static bool top_level_rule(const struct toml_value *root)
{
	size_t i;

	for (i = 0; i < toml_table_len(root); i++) {
		const struct toml_entry *e = toml_table_at(root, i);

		if (!is_key(e, "lists") && !is_key(e, "override") && !is_key(e, "rule"))
			return true;
	}
	return false;
}

int rule_doc_rules(const struct rule_doc *doc, struct rule_library *lib,
		   rule_action_fn action_kind, void *action_ctx, struct rule ***out, size_t *n,
		   struct rule_error *err)
{
	const struct toml_value *rules = toml_get(doc->root, "rule");
	struct rule_error scratch;
	struct rule **list;
	size_t i, j, count = 0, total;
	char list_names[256];
	int ret = 0;

	if (!err)
		err = &scratch;
	*err = (struct rule_error){ 0 };
	*out = NULL;
	*n = 0;
	if (rules && top_level_rule(doc->root))
		return fail(err, rules->line, "a file holds one rule at its top level or [[rule]] "
			    "tables, not both");
	if (rules && (rules->type != TOML_ARRAY ||
		      (toml_array_len(rules) && toml_array_at(rules, 0)->type != TOML_TABLE)))
		return fail(err, rules->line, "\"rule\" must be an array of tables ([[rule]])");
	if (!rules && !top_level_rule(doc->root) && !toml_get(doc->root, "lists") &&
	    !toml_get(doc->root, "override"))
		return fail(err, 0, "missing \"tracer\" (compiled in: %s)",
			    tracer_list(list_names, sizeof(list_names)));
	total = rules ? toml_array_len(rules) : top_level_rule(doc->root);
	list = calloc(total ? total : 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (i = 0; i < total; i++) {
		struct rule *r;

		ret = parse_one(doc, rules ? toml_array_at(rules, i) : doc->root, rules != NULL, lib,
				action_kind, action_ctx, &r, err);
		if (ret)
			goto fail;
		if (!r)
			continue;
		for (j = 0; j < count; j++)
			if (!strcmp(rule_name(list[j]), rule_name(r)))
				break;
		if (j < count) {
			ret = fail(err, r->line, "rule \"%s\" is defined twice in this file (line %u)",
				   rule_name(r), list[j]->line);
			rule_free(r);
			goto fail;
		}
		list[count++] = r;
	}
	*out = list;
	*n = count;
	return 0;
fail:
	if (ret == -ENOMEM)
		fail(err, 0, "out of memory");
	for (j = 0; j < count; j++)
		rule_free(list[j]);
	free(list);
	return ret;
}

int rule_parse_with(const char *file, const char *text, size_t len, struct rule_library *lib,
		    rule_action_fn action_kind, void *action_ctx, struct rule **out,
		    struct rule_error *err)
{
	struct rule_error scratch;
	struct rule_doc *doc;
	struct rule **rules = NULL;
	size_t n = 0, i;
	int ret;

	if (!err)
		err = &scratch;
	*out = NULL;
	ret = rule_doc_read(file, text, len, &doc, err);
	if (ret)
		return ret;
	/* One rule: lists and overrides belong in the rules directory, where they last. */
	if (toml_get(doc->root, "lists") || toml_get(doc->root, "override")) {
		const struct toml_value *v = toml_get(doc->root, "lists");

		ret = fail(err, (v ? v : toml_get(doc->root, "override"))->line,
			   "lists and overrides belong in the rule files of a rules directory, not "
			   "in one rule");
		goto out;
	}
	ret = rule_doc_rules(doc, lib, action_kind, action_ctx, &rules, &n, err);
	if (!ret && n != 1) {
		ret = fail(err, 0, n ? "%zu rules in one: give one rule" :
				       "%zu rules: an override disables it", n);
	}
	if (!ret) {
		*out = rules[0];
		n = 0;
	}
out:
	for (i = 0; i < n; i++)
		rule_free(rules[i]);
	free(rules);
	rule_doc_free(doc);
	return ret;
}

int rule_parse(const char *file, const char *text, size_t len, rule_action_fn action_kind,
	       void *action_ctx, struct rule **out, struct rule_error *err)
{
	return rule_parse_with(file, text, len, NULL, action_kind, action_ctx, out, err);
}

/* ------------------------------------------------------------------ */
/* Lints (`bpfd check`)                                                 */

/* Does the exclude list of @f take every one of its values? Only when that is certain. */
static bool values_all_excluded(const struct filter *f)
{
	size_t i;

	if (!f->has_values || f->values.n_globs || f->values.n_cmps || f->values.n_cidrs ||
	    f->values.n_ports || !valset_size(&f->values))
		return false;
	for (i = 0; i < f->values.n_exact; i++)
		if (!valset_has_string(&f->exclude, f->values.exact[i].s, f->values.exact[i].len))
			return false;
	for (i = 0; i < f->values.n_eq; i++)
		if (!valset_has_number(&f->exclude, f->values.eq[i]))
			return false;
	return true;
}

size_t rule_lint(const struct rule *r, void (*fn)(void *ctx, const char *message), void *ctx)
{
	const struct tracer_ops *t = tracer_table[r->tracer];
	char msg[RULE_ERROR_MAX];
	size_t i, n = 0;

	for (i = 0; i < r->n_filters; i++) {
		const struct filter *f = &r->filters[i];

		if (f->has_values && !valset_size(&f->values)) {
			snprintf(msg, sizeof(msg), "rule \"%s\" can never match: filterEvents.%s.values "
				 "names only lists that hold nothing", r->name, f->key);
			fn(ctx, msg);
			n++;
		} else if (values_all_excluded(f)) {
			snprintf(msg, sizeof(msg), "rule \"%s\" can never match: filterEvents.%s "
				 "excludes every one of its values", r->name, f->key);
			fn(ctx, msg);
			n++;
		}
		/* A file name never ends with a slash: everything below DIR was meant. */
		for (size_t k = 0; f->field == FIELD_DATA && !strcmp(f->key, "filename") &&
				   k < f->values.n_exact; k++) {
			const struct sval *v = &f->values.exact[k];

			if (v->len > 1 && v->s[v->len - 1] == '/') {
				snprintf(msg, sizeof(msg), "rule \"%s\": filterEvents.filename value "
					 "\"%.200s\" ends with / and can never match a file: \"%.200s*\" "
					 "is everything below it", r->name, v->s, v->s);
				fn(ctx, msg);
				n++;
			}
		}
	}
	if (rule_unfiltered(r) && !t->sparse) {
		snprintf(msg, sizeof(msg), "rule \"%s\" matches every event of the %s tracer (no "
			 "filter, no containerRuntimes)", r->name, t->name);
		fn(ctx, msg);
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Rulesets                                                             */

/*
 * The index keys of one tracer are at most its data keys plus container_id
 * and container_runtime: an event carries at most EVENT_DATA_MAX data keys,
 * so more could never be looked up at once. A rule whose key does not fit
 * is simply checked always.
 */
enum {
	INDEX_KEYS_MAX = EVENT_DATA_MAX + 2,
	/* Bytes of a value kept in its index entry: most paths and comms fit. */
	INDEX_INLINE = 32,
};

struct index_key {
	enum field field;
	const char *name;	/* the data key, borrowed from a rule */
	const char *alias;	/* its filters' alias, looked up too */
};

/*
 * One (key, value) of the index, one cache line, stored in the hash table
 * itself: with 1,000 rules the table is out of cache, and a hit should
 * cost one miss, not more for a slot array, the value and a rule list.
 * A miss should cost none: tracer_rules.tags, 2 bytes a place, stays in
 * cache and turns most lookups of values no rule names away.
 */
struct index_entry {
	uint64_t hash;
	const char *value;	/* borrowed from a rule; its first bytes are in inl */
	uint32_t len;
	uint32_t key;		/* in tracer_rules.keys[] */
	uint32_t first;		/* the rule itself when count is 1, else in postings[] */
	uint32_t count;
	char inl[INDEX_INLINE];
};

struct tracer_rules {
	size_t n_rules;
	uint32_t *always;	/* rules not in the index, ascending */
	size_t n_always;
	struct index_key keys[INDEX_KEYS_MAX];
	size_t n_keys;
	struct index_entry *table;	/* open addressing, linear probing */
	uint16_t *tags;			/* per place: 0 free, else index_tag() of its hash */
	size_t n_table;			/* a power of two, at least twice the values */
	uint32_t *postings;	/* of entries with several rules, each list ascending */
	/* While building: per place, the last rule counted + 1, and how many are filled in. */
	uint32_t *last, *filled;
};

/* What an index hit on a rule leaves to check. */
struct rule_slot {
	uint32_t filter;	/* the filter it is indexed by, or NONE */
	bool direct;		/* nothing: that filter is the whole rule, values only */
};

struct ruleset {
	const struct rule **rules;	/* unique, in the order given */
	struct rule_slot *slot;		/* per rule */
	size_t n;
	struct tracer_rules *tracers;	/* n_tracers of them */
	/* tracer_count when it was made: a reload of the drop-ins may add tracers since. */
	size_t n_tracers;
};

static uint64_t index_seed(uint32_t key)
{
	return FNV_OFFSET ^ ((uint64_t)(key + 1) * 0x9e3779b97f4a7c15ULL);
}

/* The filter to index @r by: the string filter with the fewest values, all exact. */
static uint32_t index_choice(const struct rule *r)
{
	uint32_t best = NONE;
	size_t i;

	for (i = 0; i < r->n_filters; i++) {
		const struct filter *f = &r->filters[i];

		if (!is_plain_string(f->field) || !f->has_values || f->values.n_globs)
			continue;
		if (best == NONE || f->values.n_exact < r->filters[best].values.n_exact)
			best = (uint32_t)i;
	}
	return best;
}

static uint32_t key_slot(struct tracer_rules *tr, const struct filter *f)
{
	size_t i;

	for (i = 0; i < tr->n_keys; i++)
		/* Data keys and metadata keys are one field each, told apart by name. */
		if (tr->keys[i].field == f->field &&
		    ((f->field != FIELD_DATA && f->field != FIELD_CONTAINER_META) ||
		     !strcmp(tr->keys[i].name, f->key)))
			return (uint32_t)i;
	if (tr->n_keys == INDEX_KEYS_MAX)
		return NONE;
	tr->keys[tr->n_keys].field = f->field;
	tr->keys[tr->n_keys].name = f->key;
	tr->keys[tr->n_keys].alias = f->alias;
	return (uint32_t)tr->n_keys++;
}

static bool entry_is(const struct index_entry *e, uint32_t key, const char *s, size_t len,
		     uint64_t hash)
{
	size_t head = len < INDEX_INLINE ? len : INDEX_INLINE;

	return e->hash == hash && e->key == key && e->len == len && !memcmp(e->inl, s, head) &&
	       (len == head || !memcmp(e->value + head, s + head, len - head));
}

/* The top bits of a hash (the place comes from the bottom ones), never 0. */
static uint16_t index_tag(uint64_t hash)
{
	uint16_t tag = hash >> 48;

	return tag ? tag : 1;
}

/* The place of (@key, @s): its entry, or the free place where it would go. */
static size_t index_place(const struct tracer_rules *tr, uint32_t key, const char *s, size_t len,
			  uint64_t hash)
{
	size_t i, mask = tr->n_table - 1;
	uint16_t tag = index_tag(hash);

	for (i = hash & mask; tr->tags[i]; i = (i + 1) & mask)
		if (tr->tags[i] == tag && entry_is(&tr->table[i], key, s, len, hash))
			break;
	return i;
}

static const struct index_entry *index_lookup(const struct tracer_rules *tr, uint32_t key,
					      const char *s, size_t len)
{
	uint64_t hash;
	size_t i;

	if (!tr->n_table)
		return NULL;
	hash = fnv1a(s, len, index_seed(key));
	i = index_place(tr, key, s, len, hash);
	return tr->tags[i] ? &tr->table[i] : NULL;
}

/* Counts (@fill false) or records (@fill true) rule @ri under each of its values. */
static void index_add(struct tracer_rules *tr, uint32_t key, const struct filter *f, uint32_t ri,
		      bool fill)
{
	size_t v, n;

	for (v = 0; v < f->values.n_exact; v++) {
		const struct sval *sv = &f->values.exact[v];
		uint64_t hash = fnv1a(sv->s, sv->len, index_seed(key));
		size_t place = index_place(tr, key, sv->s, sv->len, hash);
		struct index_entry *e = &tr->table[place];

		if (!tr->tags[place]) {
			tr->tags[place] = index_tag(hash);
			e->hash = hash;
			e->value = sv->s;
			e->len = (uint32_t)sv->len;
			e->key = key;
			memcpy(e->inl, sv->s, sv->len < INDEX_INLINE ? sv->len : INDEX_INLINE);
		}
		n = place;
		/* A filter's exact values are unique, but be sure a rule counts once. */
		if (tr->last[n] == ri + 1)
			continue;
		tr->last[n] = ri + 1;
		if (!fill) {
			if (!e->count)
				e->first = ri;
			e->count++;
		} else if (e->count > 1) {
			tr->postings[e->first + tr->filled[n]++] = ri;
		}
	}
}

static int tracer_rules_build(struct ruleset *s, size_t t)
{
	struct tracer_rules *tr = &s->tracers[t];
	size_t i, total = 0, values = 0;
	uint32_t *key_of;
	int ret = -ENOMEM;

	key_of = calloc(s->n ? s->n : 1, sizeof(*key_of));
	tr->always = calloc(s->n ? s->n : 1, sizeof(*tr->always));
	if (!key_of || !tr->always)
		goto out;
	for (i = 0; i < s->n; i++) {
		const struct rule *r = s->rules[i];

		if (r->tracer != t)
			continue;
		tr->n_rules++;
		key_of[i] = NONE;
		if (s->slot[i].filter != NONE)
			key_of[i] = key_slot(tr, &r->filters[s->slot[i].filter]);
		if (key_of[i] == NONE) {
			s->slot[i] = (struct rule_slot){ .filter = NONE };
			tr->always[tr->n_always++] = (uint32_t)i;
			continue;
		}
		values += r->filters[s->slot[i].filter].values.n_exact;
	}
	if (!values)
		goto done;
	tr->n_table = pow2_at_least(2 * values);
	tr->table = aligned_alloc(64, tr->n_table * sizeof(*tr->table));
	tr->tags = calloc(tr->n_table, sizeof(*tr->tags));
	tr->last = calloc(tr->n_table, sizeof(*tr->last));
	tr->filled = calloc(tr->n_table, sizeof(*tr->filled));
	if (!tr->table || !tr->tags || !tr->last || !tr->filled)
		goto out;
	memset(tr->table, 0, tr->n_table * sizeof(*tr->table));
	/* Count each entry's rules, ... */
	for (i = 0; i < s->n; i++)
		if (s->rules[i]->tracer == t && s->slot[i].filter != NONE)
			index_add(tr, key_of[i], &s->rules[i]->filters[s->slot[i].filter],
				  (uint32_t)i, false);
	/* ... place the lists of those with several, ... */
	for (i = 0; i < tr->n_table; i++) {
		tr->last[i] = 0;
		if (tr->table[i].count > 1) {
			tr->table[i].first = (uint32_t)total;
			total += tr->table[i].count;
		}
	}
	/* ... and fill them in, in rule order. */
	if (total) {
		tr->postings = calloc(total, sizeof(*tr->postings));
		if (!tr->postings)
			goto out;
		for (i = 0; i < s->n; i++)
			if (s->rules[i]->tracer == t && s->slot[i].filter != NONE)
				index_add(tr, key_of[i], &s->rules[i]->filters[s->slot[i].filter],
					  (uint32_t)i, true);
	}
done:
	ret = 0;
out:
	free(tr->last);
	free(tr->filled);
	tr->last = tr->filled = NULL;
	free(key_of);
	return ret;
}

void ruleset_free(struct ruleset *s)
{
	size_t t;

	if (!s)
		return;
	for (t = 0; s->tracers && t < s->n_tracers; t++) {
		free(s->tracers[t].always);
		free(s->tracers[t].table);
		free(s->tracers[t].tags);
		free(s->tracers[t].postings);
	}
	free(s->tracers);
	free(s->rules);
	free(s->slot);
	free(s);
}

struct ruleset *ruleset_new(struct rule *const *rules, size_t n)
{
	struct ruleset *s = calloc(1, sizeof(*s));
	const struct rule **seen = NULL;
	size_t i, j, mask, n_seen;

	if (!s)
		return NULL;
	s->rules = calloc(n ? n : 1, sizeof(*s->rules));
	s->slot = calloc(n ? n : 1, sizeof(*s->slot));
	s->tracers = calloc(tracer_count ? tracer_count : 1, sizeof(*s->tracers));
	s->n_tracers = s->tracers ? tracer_count : 0;
	n_seen = pow2_at_least(2 * n);
	seen = calloc(n_seen, sizeof(*seen));
	if (!s->rules || !s->slot || !s->tracers || !seen)
		goto fail;
	/* Each rule once, in the order given: a pointer hash set drops repeats. */
	mask = n_seen - 1;
	for (i = 0; i < n; i++) {
		const struct rule *r = rules[i];
		struct rule_slot *slot = &s->slot[s->n];
		uint64_t h;

		if (!r || r->tracer >= tracer_count)
			continue;
		h = fnv1a(&r, sizeof(r), FNV_OFFSET);
		for (j = h & mask; seen[j] && seen[j] != r; j = (j + 1) & mask)
			;
		if (seen[j])
			continue;
		seen[j] = r;
		slot->filter = index_choice(r);
		slot->direct = slot->filter != NONE && r->n_filters == 1 && !r->n_runtimes &&
			       !valset_size(&r->filters[0].exclude);
		s->rules[s->n++] = r;
	}
	free(seen);
	seen = NULL;
	for (i = 0; i < s->n_tracers; i++)
		if (tracer_rules_build(s, i))
			goto fail;
	return s;
fail:
	free(seen);
	ruleset_free(s);
	return NULL;
}

size_t ruleset_count(const struct ruleset *s, size_t tracer)
{
	if (!s || tracer >= s->n_tracers)
		return 0;
	return s->tracers[tracer].n_rules;
}

size_t ruleset_match(const struct ruleset *s, size_t tracer, const struct event *ev,
		     const struct rule **matched, size_t max)
{
	struct {
		const uint32_t *p;
		size_t n;
	} lists[2 * INDEX_KEYS_MAX + 1];
	const struct tracer_rules *tr;
	size_t n_lists = 0, found = 0, k;

	if (!s || !ev || tracer >= s->n_tracers || max == 0)
		return 0;
	tr = &s->tracers[tracer];
	/* Candidates: the rules indexed under the event's value of each index key ... */
	for (k = 0; k < tr->n_keys; k++) {
		const struct index_entry *e;
		enum field field = tr->keys[k].field;
		const char *v, *key = tr->keys[k].name;
		size_t len, pass;

		/* The key's own value, then its alias's (a file's identity): either may hit. */
		for (pass = 0; pass < 2; pass++) {
			if (pass) {
				if (!tr->keys[k].alias)
					break;
				field = FIELD_DATA;
				key = tr->keys[k].alias;
			}
			if (!event_string(ev, field, key, &v, &len))
				continue;
			e = index_lookup(tr, (uint32_t)k, v, len);
			if (!e)
				continue;
			lists[n_lists].p = e->count == 1 ? &e->first : tr->postings + e->first;
			lists[n_lists++].n = e->count;
		}
	}
	/* ... and those no index can rule out. */
	if (tr->n_always) {
		lists[n_lists].p = tr->always;
		lists[n_lists++].n = tr->n_always;
	}
	/* Merged in rule order (each list ascends), each rule checked once. */
	while (found < max) {
		const struct rule_slot *slot;
		uint32_t next = NONE;
		size_t l;

		for (l = 0; l < n_lists; l++)
			if (lists[l].n && (next == NONE || lists[l].p[0] < next))
				next = lists[l].p[0];
		if (next == NONE)
			break;
		for (l = 0; l < n_lists; l++) {
			if (lists[l].n && lists[l].p[0] == next) {
				lists[l].p++;
				lists[l].n--;
			}
		}
		/* From the index, the indexed filter's values are known to hold. */
		slot = &s->slot[next];
		if (slot->direct || rule_holds(s->rules[next], ev, slot->filter))
			matched[found++] = s->rules[next];
	}
	return found;
}
