// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/prefilter.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpfmap.h"
#include "container_meta.h"
#include "daemon/identity.h"
#include "daemon/rulebook.h"
#include "rules.h"
#include "tracer.h"
#include "tracers/common/record.h"

struct pf_entry {
	char text[BPFD_PF_PATH_MAX];
	size_t len;
	bool prefix;
	uint32_t types;		/* record types it lets through */
};

struct pf_list {
	struct pf_entry *v;
	size_t n, alloc;
	bool fits;		/* every value can be represented */
	size_t max_len;
	bool prefixes_ok;
	uint32_t type;
	/* Where a path's last components go (RULE_VALUE_LEAF), or NULL: none fit. */
	struct pf_list *leaves;
	bool leaf_seen;		/* one went there */
};

static void add_entry(struct pf_list *l, const char *s, size_t len, bool prefix)
{
	struct pf_entry *e;
	size_t i;

	if (!l->fits)
		return;
	if (len > l->max_len || (prefix && !l->prefixes_ok) || memchr(s, '\0', len)) {
		l->fits = false;
		return;
	}
	for (i = 0; i < l->n; i++) {
		e = &l->v[i];
		if (e->len == len && e->prefix == prefix && memcmp(e->text, s, len) == 0) {
			e->types |= 1u << l->type;
			return;
		}
	}
	if (l->n == l->alloc) {
		size_t alloc = l->alloc ? 2 * l->alloc : 16;
		struct pf_entry *grown = realloc(l->v, alloc * sizeof(*grown));

		if (!grown) {
			l->fits = false;
			return;
		}
		l->v = grown;
		l->alloc = alloc;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->text, s, len);
	e->len = len;
	e->prefix = prefix;
	e->types = 1u << l->type;
}

/* A last component's key: BPFD_PF_LEAF_TAG, then the component. */
static void add_leaf(struct pf_list *leaves, uint32_t type, const char *s, size_t len)
{
	char key[BPFD_PF_PATH_MAX];

	if (len + 1 > sizeof(key) - 1) {
		leaves->fits = false;
		return;
	}
	key[0] = BPFD_PF_LEAF_TAG;
	memcpy(key + 1, s, len);
	leaves->type = type;
	add_entry(leaves, key, len + 1, false);
}

static void collect(void *ctx, const char *s, size_t len, enum rule_value_kind kind)
{
	struct pf_list *l = ctx;

	if (kind != RULE_VALUE_LEAF) {
		add_entry(l, s, len, kind == RULE_VALUE_PREFIX);
	} else if (!l->leaves) {
		l->fits = false;
	} else {
		add_leaf(l->leaves, l->type, s, len);
		l->fits = l->fits && l->leaves->fits;
		l->leaf_seen = true;
	}
}

struct uid_list {
	struct {
		uint32_t uid, types;
	} v[1024];
	size_t n;
	bool fits;
	uint32_t type;
};

static void collect_uid(void *ctx, uint64_t value)
{
	struct uid_list *l = ctx;
	size_t i;

	if (value > UINT32_MAX)
		return;	/* no real uid is that large: nothing to let through */
	for (i = 0; i < l->n; i++) {
		if (l->v[i].uid == value) {
			l->v[i].types |= 1u << l->type;
			return;
		}
	}
	if (l->n == sizeof(l->v) / sizeof(l->v[0])) {
		l->fits = false;
		return;
	}
	l->v[l->n].uid = (uint32_t)value;
	l->v[l->n++].types = 1u << l->type;
}

/* The kinds (tracer_ops.pf_kinds) a rule's values of the kind key let through. */
struct kind_set {
	const char *const *names;
	uint32_t bits;
};

static void collect_kind(void *ctx, const char *s, size_t len, enum rule_value_kind kind)
{
	struct kind_set *k = ctx;
	bool prefix = kind == RULE_VALUE_PREFIX;
	size_t i, n;

	/* A value that is no kind's lets nothing through: the rule cannot match it. */
	for (i = 0; k->names[i] && i < 32; i++) {
		n = strlen(k->names[i]);
		if (prefix ? n >= len && memcmp(k->names[i], s, len) == 0
			   : n == len && memcmp(k->names[i], s, len) == 0)
			k->bits |= 1u << i;
	}
}

/*
 * Collects into @paths the values of @r on the first of tracer @t's path
 * keys (tracer_ops.pf_path_keys) the kernel can test, last components into
 * paths->leaves. False when it can test none.
 */
static bool collect_paths(const struct rule *r, size_t t, struct pf_list *paths)
{
	static const char *const filename_only[] = { "filename", NULL };
	const char *const *keys = tracer_table[t]->pf_path_keys;
	bool leaves = tracer_table[t]->prefilter & BPFD_PF_SUFFIX;
	size_t i;

	for (i = 0, keys = keys ? keys : filename_only; keys[i]; i++) {
		paths->fits = paths->leaves->fits = true;
		if (rule_prefilter_values(r, keys[i], leaves, collect, paths) && paths->fits)
			return true;
	}
	return false;
}

/*
 * Can every rule of tracer @t be prefiltered? Collects their values, and
 * into *@kinds the kinds (BPFD_PF_KIND) they let through.
 */
static unsigned int plan_tracer(const struct rulebook *rb, size_t t, struct pf_list *comms,
				struct pf_list *paths, struct uid_list *uids, uint32_t *kinds)
{
	struct kind_set ks = { .names = tracer_table[t]->pf_kinds };
	unsigned int caps = tracer_table[t]->prefilter, used = 0;
	size_t saved_comms = comms->n, saved_paths = paths->n, saved_uids = uids->n, i;
	size_t saved_leaves = paths->leaves->n, n_rules = 0;

	if (!caps)
		return 0;
	comms->type = paths->type = uids->type = tracer_record_type(t);
	paths->leaf_seen = false;
	for (i = 0; i < rulebook_count(rb); i++) {
		const struct rule *r = rulebook_at(rb, i, NULL);
		bool ok = false;

		if (rule_tracer(r) != t)
			continue;
		n_rules++;
		comms->fits = paths->fits = uids->fits = true;
		/* The cheapest test the rule allows; the kernel tries them in this order. */
		if ((caps & BPFD_PF_COMM) &&
		    rule_prefilter_values(r, "command", false, collect, comms) && comms->fits) {
			used |= BPFD_PF_COMM;
			ok = true;
		} else if ((caps & BPFD_PF_UID) &&
			   rule_prefilter_numbers(r, "uid", collect_uid, uids) && uids->fits) {
			used |= BPFD_PF_UID;
			ok = true;
		} else if ((caps & BPFD_PF_CONTAINER) && rule_on_container_meta(r)) {
			/* Only containers whose metadata the rule's filters hold for. */
			used |= BPFD_PF_META;
			ok = true;
		} else if ((caps & BPFD_PF_CONTAINER) && rule_requires_container(r)) {
			used |= BPFD_PF_CONTAINER;
			ok = true;
		} else if ((caps & BPFD_PF_PATH) && collect_paths(r, t, paths)) {
			used |= BPFD_PF_PATH;
			ok = true;
		} else if ((caps & BPFD_PF_KIND) && ks.names &&
			   rule_prefilter_values(r, tracer_table[t]->pf_kind_key, false, collect_kind,
						 &ks)) {
			/* Decided before anything is built, but lets a whole kind through: last. */
			used |= BPFD_PF_KIND;
			ok = true;
		}
		if (!ok) {
			/* One rule the kernel cannot test: this tracer sends everything. */
			comms->n = saved_comms;
			paths->n = saved_paths;
			paths->leaves->n = saved_leaves;
			uids->n = saved_uids;
			return 0;
		}
	}
	*kinds = ks.bits;
	if (paths->leaf_seen)
		used |= BPFD_PF_SUFFIX;
	return n_rules ? used | BPFD_PF_ACTIVE : 0;
}

static int write_comms(int fd, const struct pf_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct bpfd_pf_comm_key k;
		int err;

		memset(&k, 0, sizeof(k));
		memcpy(k.comm, l->v[i].text, l->v[i].len);
		err = bpfmap_update(fd, &k, &l->v[i].types, 0);
		if (err < 0)
			return err;
	}
	return 0;
}

static int write_paths(int fd, const struct pf_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct bpfd_pf_path_key k;
		int err;

		memset(&k, 0, sizeof(k));
		memcpy(k.path, l->v[i].text, l->v[i].len);
		/* An exact name matches through its NUL; a prefix, its bytes only. */
		k.prefixlen = (uint32_t)(l->v[i].len + !l->v[i].prefix) * 8;
		err = bpfmap_update(fd, &k, &l->v[i].types, 0);
		if (err < 0)
			return err;
	}
	return 0;
}

static int write_uids(int fd, const struct uid_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		int err = bpfmap_update(fd, &l->v[i].uid, &l->v[i].types, 0);

		if (err < 0)
			return err;
	}
	return 0;
}

/*
 * The lead of record type @type: the bytes (at most 8) that every path of
 * @l letting @type through begins with, into *@lead_out and *@mask_out.
 */
static void path_lead(const struct pf_list *l, uint32_t type, __u64 *lead_out, __u64 *mask_out)
{
	unsigned char lead[8], mask[8] = { 0 };
	size_t i, j, n = sizeof(lead);
	bool any = false;

	for (i = 0; i < l->n; i++) {
		const struct pf_entry *e = &l->v[i];

		if (!(e->types & (1u << type)))
			continue;
		if (!any) {
			n = e->len < n ? e->len : n;
			memcpy(lead, e->text, n);
			any = true;
			continue;
		}
		for (j = 0; j < n && j < e->len && e->text[j] == (char)lead[j]; j++)
			;
		n = j;
	}
	if (!any)
		n = 0;
	memset(mask, 0xff, n);
	memset(lead + n, 0, sizeof(lead) - n);
	memcpy(lead_out, lead, sizeof(lead));
	memcpy(mask_out, mask, sizeof(mask));
}

/*
 * BPFD_PF_LEAF for record type @type: when every path of @paths letting it
 * through is an exact name, their last components go to @leaves (behind
 * BPFD_PF_LEAF_TAG), and the kernel drops a file whose name is none of
 * them before it builds its path. False when a prefix rules that out.
 */
static bool plan_leaves(const struct pf_list *paths, uint32_t type, struct pf_list *leaves)
{
	size_t i;

	for (i = 0; i < paths->n; i++)
		if ((paths->v[i].types & (1u << type)) && paths->v[i].prefix)
			return false;
	leaves->fits = true;
	for (i = 0; i < paths->n; i++) {
		const struct pf_entry *e = &paths->v[i];
		const char *slash = memrchr(e->text, '/', e->len);
		size_t off = slash ? (size_t)(slash - e->text) + 1 : 0;

		if (e->types & (1u << type))
			add_leaf(leaves, type, e->text + off, e->len - off);
	}
	return leaves->fits;
}

uint32_t prefilter_meta_types(const struct rulebook *rb, const struct container_meta *m)
{
	uint32_t types = 0;
	size_t i;

	/*
	 * Every rule on metadata counts, also one the kernel tests otherwise
	 * (by its comm): a bit too many only lets an event through.
	 */
	for (i = 0; rb && i < rulebook_count(rb); i++) {
		const struct rule *r = rulebook_at(rb, i, NULL);

		if (rule_on_container_meta(r) && rule_container_meta_holds(r, m))
			types |= 1u << (tracer_record_type(rule_tracer(r)) & 31);
	}
	return types;
}

int prefilter_meta_mark(int fd, const struct rulebook *rb, uint64_t cgroup_id,
			const struct container_meta *m, bool forget)
{
	uint32_t types;
	int err;

	if (fd < 0)
		return 0;
	if (forget) {
		bpfmap_delete(fd, &cgroup_id);
		return 0;
	}
	types = prefilter_meta_types(rb, m);
	err = bpfmap_update(fd, &cgroup_id, &types, 0);
	/* No entry rather than an old one: the events pass. */
	if (err)
		bpfmap_delete(fd, &cgroup_id);
	return err;
}

struct meta_rewrite {
	int fd, err;
	const struct rulebook *rb;
};

static void rewrite_meta(void *ctx, uint64_t cgroup_id, const struct container_meta *m,
			 bool forget)
{
	struct meta_rewrite *w = ctx;
	int err = prefilter_meta_mark(w->fd, w->rb, cgroup_id, m, forget);

	if (err && !w->err)
		w->err = err;
}

int prefilter_apply(const struct prefilter_maps *m, const struct rulebook *rb, uint32_t *active)
{
	struct meta_rewrite meta = { .fd = m->meta_fd, .rb = rb };
	static struct uid_list uids;
	/* Comms are compared whole: at most 15 bytes, exact values only. */
	struct pf_list comms = { .max_len = BPFD_COMM_LEN - 1, .prefixes_ok = false };
	struct pf_list leaves = { .max_len = BPFD_PF_PATH_MAX - 1, .prefixes_ok = false };
	struct pf_list paths = { .max_len = BPFD_PF_PATH_MAX - 1, .prefixes_ok = true,
				 .leaves = &leaves };
	const struct bpfd_pf_config off = { 0 };
	struct bpfd_pf_config pf;
	uint32_t modes[BPFD_TRACERS_MAX] = { 0 }, ident_modes[BPFD_TRACERS_MAX] = { 0 }, type;
	uint32_t kinds[BPFD_TRACERS_MAX] = { 0 };
	size_t t;
	int err = 0;

	*active = 0;
	/* Off first: while the maps are rewritten, every event passes. */
	for (t = 0; t < tracer_count; t++) {
		type = tracer_record_type(t);
		bpfmap_update(m->mode_fd, &type, &off, 0);
	}
	uids.n = 0;
	err = bpfmap_clear(m->comms_fd, sizeof(struct bpfd_pf_comm_key));
	if (!err)
		err = bpfmap_clear(m->paths_fd, sizeof(struct bpfd_pf_path_key));
	if (!err)
		err = bpfmap_clear(m->uids_fd, sizeof(uint32_t));
	for (t = 0; !err && t < tracer_count; t++)
		modes[t] = plan_tracer(rb, t, &comms, &paths, &uids, &kinds[t]);
	/*
	 * The containers known, judged by these rules before any mode is on
	 * (judged by the old ones, they could drop what the new ones match).
	 * One that cannot be written has no entry: its events pass.
	 */
	if (!err && m->meta && m->meta_fd >= 0) {
		container_meta_cache_foreach_settled(m->meta, rewrite_meta, &meta);
		if (meta.err == -ENOSPC || meta.err == -E2BIG)
			meta.err = 0;
		err = meta.err;
	}
	for (t = 0; !err && t < tracer_count; t++)
		if ((modes[t] & BPFD_PF_PATH) && (tracer_table[t]->prefilter & BPFD_PF_LEAF) &&
		    plan_leaves(&paths, tracer_record_type(t), &leaves))
			modes[t] |= BPFD_PF_LEAF;
	if (!err && m->identities)
		err = identity_set_rules(m->identities, rb, ident_modes);
	if (!err)
		err = write_comms(m->comms_fd, &comms);
	if (!err)
		err = write_uids(m->uids_fd, &uids);
	if (!err)
		err = write_paths(m->paths_fd, &paths);
	if (!err)
		err = write_paths(m->paths_fd, &leaves);
	for (t = 0; !err && t < tracer_count; t++) {
		type = tracer_record_type(t);
		/* Identities are looked up with the prefilter off too: rules match by them. */
		if (!modes[t] && !ident_modes[type])
			continue;
		memset(&pf, 0, sizeof(pf));
		pf.mode = modes[t] | ident_modes[type];
		pf.kinds = kinds[t];
		if (pf.mode & BPFD_PF_PATH)
			path_lead(&paths, type, &pf.lead, &pf.lead_mask);
		if (pf.mode & (BPFD_PF_LEAF | BPFD_PF_SUFFIX))
			path_lead(&leaves, type, &pf.leaf_lead, &pf.leaf_lead_mask);
		err = bpfmap_update(m->mode_fd, &type, &pf, 0);
		if (!err && modes[t])
			*active |= 1u << t;
	}
	if (err) {
		for (t = 0; t < tracer_count; t++) {
			type = tracer_record_type(t);
			bpfmap_update(m->mode_fd, &type, &off, 0);
		}
		*active = 0;
	}
	free(comms.v);
	free(paths.v);
	free(leaves.v);
	return err;
}
