// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "lib/boltdb.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* bbolt's on-disk layout (little-endian): what its file format documents. */
enum {
	PAGE_HDR = 16,		/* id u64, flags u16, count u16, overflow u32 */
	ELEM = 16,		/* one branch or leaf element */
	META_MAGIC = 0xED0CDAED,
	META_VERSION = 2,
	META_SUM_LEN = 56,	/* meta bytes the checksum covers (all before it) */
	FLAG_BRANCH = 0x01,
	FLAG_LEAF = 0x02,
	LEAF_BUCKET = 0x01,	/* a leaf element whose value is a bucket */
	BUCKET_HDR = 16,	/* root page u64 (0: inline), sequence u64 */
	PAGE_SIZE_MIN = 512,
	PAGE_SIZE_MAX = 1 << 16,
};

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

struct db {
	int fd;
	uint64_t size, psize, high;	/* high: the first page id not in use */
};

/* A node: a page (or an inline bucket's page) in memory. */
struct node {
	unsigned char *buf;
	size_t len;
};

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EAGAIN;	/* shorter than its meta says: being written */
		got += (size_t)n;
	}
	return 0;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

/*
 * The newer of the two meta pages whose checksum holds. Page 0's meta
 * gives the page size; page 1 is read at that size.
 */
static int open_meta(struct db *db, uint64_t *root)
{
	unsigned char m[PAGE_HDR + META_SUM_LEN + 8];
	uint64_t best_tx = 0, psize = 0, off = 0;
	bool found = false;
	int i, r;

	for (i = 0; i < 2; i++) {
		if (off + sizeof(m) > db->size)
			break;
		r = read_at(db->fd, m, sizeof(m), off);
		if (r)
			return r;
		const unsigned char *meta = m + PAGE_HDR;
		uint64_t ps = le(meta + 8, 4), tx = le(meta + 48, 8);

		if (le(meta, 4) == META_MAGIC && le(meta + 4, 4) == META_VERSION &&
		    le(meta + META_SUM_LEN, 8) == fnv1a(meta, META_SUM_LEN) &&
		    ps >= PAGE_SIZE_MIN && ps <= PAGE_SIZE_MAX && !(ps & (ps - 1)) &&
		    (!found || tx > best_tx)) {
			found = true;
			best_tx = tx;
			psize = ps;
			*root = le(meta + 16, 8);
			db->high = le(meta + 40, 8);
		}
		/* Page 1 sits one page in; until a meta is known, try bbolt's usual 4 KiB. */
		off = psize ? psize : 4096;
	}
	if (!found)
		return -EINVAL;
	db->psize = psize;
	return 0;
}

/* Page @id with its overflow pages, checked against the file and the meta. */
static int read_page(const struct db *db, uint64_t id, struct node *out)
{
	unsigned char hdr[PAGE_HDR];
	uint64_t off, total, overflow;
	int r;

	if (id < 2 || id >= db->high || id > db->size / db->psize)
		return -EAGAIN;
	off = id * db->psize;
	r = read_at(db->fd, hdr, sizeof(hdr), off);
	if (r)
		return r;
	overflow = le(hdr + 12, 4);
	total = (overflow + 1) * db->psize;
	if (le(hdr, 8) != id || total > BOLTDB_PAGE_MAX || off + total > db->size ||
	    id + overflow >= db->high)
		return -EAGAIN;
	out->buf = malloc(total);
	if (!out->buf)
		return -ENOMEM;
	out->len = total;
	r = read_at(db->fd, out->buf, total, off);
	if (r) {
		free(out->buf);
		out->buf = NULL;
	}
	return r;
}

static int cmp_key(const unsigned char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

/*
 * Key @key in the tree whose top node is @n (freed here): on success *@val
 * is a malloc'ed copy of its value and *@bucket says whether it is one.
 */
static int search(const struct db *db, struct node n, const char *key, size_t klen, size_t max,
		  unsigned char **val, size_t *vlen, bool *bucket)
{
	unsigned int depth, flags, count, i, pick;
	const unsigned char *e;
	uint64_t pos, ks, vs, at;
	int r = -EAGAIN;

	for (depth = 0; depth <= BOLTDB_DEPTH_MAX; depth++) {
		if (n.len < PAGE_HDR)
			break;
		flags = (unsigned int)le(n.buf + 8, 2);
		count = (unsigned int)le(n.buf + 10, 2);
		if ((uint64_t)PAGE_HDR + (uint64_t)count * ELEM > n.len)
			break;
		if (flags & FLAG_LEAF) {
			r = -ENOENT;
			for (i = 0; i < count; i++) {
				e = n.buf + PAGE_HDR + (size_t)i * ELEM;
				at = PAGE_HDR + (uint64_t)i * ELEM;
				pos = le(e + 4, 4);
				ks = le(e + 8, 4);
				vs = le(e + 12, 4);
				if (at + pos + ks + vs > n.len) {
					r = -EAGAIN;
					break;
				}
				if (cmp_key(e + pos, ks, key, klen))
					continue;
				if (vs > max) {
					r = -EFBIG;
					break;
				}
				*val = malloc(vs + 1);
				if (!*val) {
					r = -ENOMEM;
					break;
				}
				memcpy(*val, e + pos + ks, vs);
				(*val)[vs] = '\0';
				*vlen = vs;
				*bucket = le(e, 4) & LEAF_BUCKET;
				r = 0;
				break;
			}
			break;
		}
		if (!(flags & FLAG_BRANCH) || !count)
			break;
		/* The last child whose first key is not above @key. */
		for (pick = 0, i = 0; i < count; i++) {
			e = n.buf + PAGE_HDR + (size_t)i * ELEM;
			at = PAGE_HDR + (uint64_t)i * ELEM;
			pos = le(e, 4);
			ks = le(e + 4, 4);
			if (at + pos + ks > n.len)
				goto out;
			if (cmp_key(e + pos, ks, key, klen) > 0)
				break;
			pick = i;
		}
		e = n.buf + PAGE_HDR + (size_t)pick * ELEM;
		at = le(e + 8, 8);
		free(n.buf);
		n.buf = NULL;
		r = read_page(db, at, &n);
		if (r)
			return r;
		r = -EAGAIN;
	}
out:
	free(n.buf);
	return r;
}

/* The top node of a bucket, from its value (header, then an inline page when root is 0). */
static int bucket_node(const struct db *db, unsigned char *v, size_t vlen, struct node *n)
{
	uint64_t root;

	if (vlen < BUCKET_HDR)
		return -EAGAIN;
	root = le(v, 8);
	if (root)
		return read_page(db, root, n);
	n->len = vlen - BUCKET_HDR;
	n->buf = malloc(n->len ? n->len : 1);
	if (!n->buf)
		return -ENOMEM;
	memcpy(n->buf, v + BUCKET_HDR, n->len);
	return 0;
}

int boltdb_get(int fd, uint64_t size, const char *const *path, size_t npath, size_t max,
	       char **val, size_t *len)
{
	struct db db = { .fd = fd, .size = size };
	unsigned char *v = NULL;
	struct node n;
	uint64_t root;
	size_t i, vlen = 0;
	bool bucket;
	int r;

	if (!npath || npath > BOLTDB_PATH_MAX)
		return -EINVAL;
	r = open_meta(&db, &root);
	if (!r)
		r = read_page(&db, root, &n);
	for (i = 0; !r && i < npath; i++) {
		/* Buckets' values are small; the last key's is bounded by @max. */
		r = search(&db, n, path[i], strlen(path[i]), i + 1 < npath ? BOLTDB_PAGE_MAX : max,
			   &v, &vlen, &bucket);
		if (r)
			break;
		if (i + 1 == npath) {
			if (bucket)
				r = -ENOENT;
			break;
		}
		r = bucket ? bucket_node(&db, v, vlen, &n) : -ENOENT;
		free(v);
		v = NULL;
	}
	if (r) {
		free(v);
		return r;
	}
	*val = (char *)v;
	*len = vlen;
	return 0;
}
