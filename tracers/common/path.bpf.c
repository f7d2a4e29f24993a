/*
 * Paths from the kernel's dentries and mounts: what a file is, whatever the
 * name a process used for it (relative, through symlinks, `..`, a dirfd,
 * /proc/PID/root, a bind mount). bpf_d_path() is not available to
 * tracepoint programs, so the walk is done here, bounded.
 *
 * The path is built right to left at the end of a per-CPU area (in the
 * scratch map, after any record), so that it ends up as one forward string
 * that the prefilter's trie can test and a record can take in one copy.
 */

/* Where the walk's area lies in a scratch slot: after the largest record. */
#define BPFD_PATH_AREA_OFF 32768
/* The path ends here in the area's buffer; the room before it is BPFD_PATH_MAX and a name. */
#define BPFD_PATH_END (BPFD_PATH_MAX + 256)
#define BPFD_PATH_MASK 8191

struct bpfd_path_area {
	/*
	 * Where the path starts in buf. Kept in memory, not in a register, on
	 * purpose: a value read back from a map is unknown to the verifier,
	 * so every way through the loop below looks alike to it and its
	 * states are pruned; kept in a register, each mix of mount crossings
	 * and components is a state of its own.
	 */
	u32 pos;
	u32 flags;		/* enum bpfd_path_flags */
	/* bpfd_pf_scan(): the component just below the root, and how many there are. */
	u64 top;
	u32 depth;
	/*
	 * bpfd_pf_scan()'s state, in memory for the same reason as pos:
	 * whether parents' identities are tested, whether the way up left the
	 * file's filesystem, and the components counted when it did.
	 */
	u32 idents;
	u32 crossed;
	u32 fs_depth;
	/*
	 * bpfd_pf_joined_passes()'s, in memory for the same reason: where
	 * the name's scan starts, where its last component does, its first
	 * byte.
	 */
	u32 jsep;
	u32 jlast;
	u32 jfirst;
	/* The caller's: whether the paths decide (kept here, its walks stay one state). */
	u32 test;
	/* The identity looked up, kept here for the same reason. */
	struct bpfd_pf_ident_key ikey;
	/* What bpfd_pf_ident_passes() recognised the file as: copied into records. */
	struct bpfd_path_ident ident;
	/* ident's names below the directory: tail[BPFD_IDENT_TAIL_MAX - ident.tail_len ...]. */
	char tail[2 * BPFD_IDENT_TAIL_MAX];
	char buf[BPFD_PATH_MASK + 1 + 256];
};

struct bpfd_path_root {
	void *mnt;		/* struct vfsmount * */
	void *dentry;
};

static __always_inline struct bpfd_path_area *bpfd_path_area(void *scratch)
{
	return (struct bpfd_path_area *)((char *)scratch + BPFD_PATH_AREA_OFF);
}

/* The task's cwd or root (chroot) from task->fs. */
static __always_inline void bpfd_path_fs(void *task, long mnt_off, long dentry_off,
					 struct bpfd_path_root *out)
{
	void *fs = bpfd_read_ptr(task, BPFD_OFF_TASK_FS);

	out->mnt = fs ? bpfd_read_ptr(fs, mnt_off) : NULL;
	out->dentry = fs ? bpfd_read_ptr(fs, dentry_off) : NULL;
}

/*
 * Where paths start for @task: the root of its mount namespace (a
 * container's root filesystem, after pivot_root), not its own root: a
 * chroot would otherwise rename every file below it.
 */
static __always_inline void bpfd_path_ns_root(void *task, struct bpfd_path_root *out)
{
	void *nsproxy = bpfd_read_ptr(task, BPFD_OFF_TASK_NSPROXY);
	void *ns = nsproxy ? bpfd_read_ptr(nsproxy, BPFD_OFF_NSPROXY_MNT_NS) : NULL;
	void *m = ns ? bpfd_read_ptr(ns, BPFD_OFF_MNT_NS_ROOT) : NULL;

	out->mnt = m ? (char *)m + BPFD_OFF_MOUNT_MNT : NULL;
	out->dentry = m ? bpfd_read_ptr(out->mnt, BPFD_OFF_VFSMOUNT_ROOT) : NULL;
}

/* The struct file behind the task's descriptor @fd, or NULL. */
static __always_inline void *bpfd_fd_file(void *task, long fd)
{
	void *files, *fdt, *fds;
	u32 max_fds = 0;

	if (fd < 0)
		return NULL;
	files = bpfd_read_ptr(task, BPFD_OFF_TASK_FILES);
	fdt = files ? bpfd_read_ptr(files, BPFD_OFF_FILES_FDT) : NULL;
	if (!fdt)
		return NULL;
	BPFD_KGET(max_fds, (char *)fdt + BPFD_OFF_FDTABLE_MAX_FDS);
	if ((u64)fd >= max_fds)
		return NULL;
	fds = bpfd_read_ptr(fdt, BPFD_OFF_FDTABLE_FD);
	return fds ? bpfd_read_ptr((char *)fds + fd * sizeof(void *), 0) : NULL;
}

/*
 * Walks from (@mnt, @dentry) up to @root, crossing mounts, and leaves the
 * path in @a: buf[pos .. BPFD_PATH_END), NUL-terminated; "/" for the root
 * itself. Sets BPFD_PATH_TRUNCATED or BPFD_PATH_OUTSIDE_ROOT in a->flags.
 * Returns the path's length.
 */
static __always_inline u32 bpfd_path_walk(struct bpfd_path_area *a, void *mnt, void *dentry,
					  const struct bpfd_path_root *root)
{
	void *mnt_root, *parent, *name, *m, *sb, *s_root, *up;
	u32 i, len, pos;
	int done = 0;

	a->pos = BPFD_PATH_END;
	a->buf[BPFD_PATH_END] = '\0';
	mnt_root = mnt ? bpfd_read_ptr(mnt, BPFD_OFF_VFSMOUNT_ROOT) : NULL;
	if (!mnt || !dentry)
		done = 1;
#pragma clang loop unroll(disable)
	for (i = 0; i < BPFD_PATH_DEPTH_MAX && !done; i++) {
		if (dentry == root->dentry && mnt == root->mnt) {
			done = 1;
			break;
		}
		if (dentry == mnt_root) {
			m = (char *)mnt - BPFD_OFF_MOUNT_MNT;
			parent = bpfd_read_ptr(m, BPFD_OFF_MOUNT_PARENT);
			if (!parent || parent == m) {
				a->flags |= BPFD_PATH_OUTSIDE_ROOT;
				done = 1;
				break;
			}
			/*
			 * A bind mount of a directory: the file's real path is
			 * the directory's, when a mount of the whole filesystem
			 * shows it (the one the bind is mounted on, or the
			 * root's), and not where the bind put it. Go on up the
			 * dentries within that mount.
			 */
			sb = bpfd_read_ptr(mnt, BPFD_OFF_VFSMOUNT_SB);
			s_root = sb ? bpfd_read_ptr(sb, BPFD_OFF_SB_ROOT) : NULL;
			if (s_root && mnt_root != s_root) {
				up = (char *)parent + BPFD_OFF_MOUNT_MNT;
				if (bpfd_read_ptr(up, BPFD_OFF_VFSMOUNT_SB) != sb ||
				    bpfd_read_ptr(up, BPFD_OFF_VFSMOUNT_ROOT) != s_root)
					up = root->mnt;
				if (bpfd_read_ptr(up, BPFD_OFF_VFSMOUNT_SB) == sb &&
				    bpfd_read_ptr(up, BPFD_OFF_VFSMOUNT_ROOT) == s_root) {
					mnt = up;
					mnt_root = s_root;
					continue;
				}
			}
			/* The top of a mount: go on from where it is mounted. */
			dentry = bpfd_read_ptr(m, BPFD_OFF_MOUNT_MOUNTPOINT);
			mnt = (char *)parent + BPFD_OFF_MOUNT_MNT;
			mnt_root = bpfd_read_ptr(mnt, BPFD_OFF_VFSMOUNT_ROOT);
			continue;
		}
		parent = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_PARENT);
		len = 0;
		BPFD_KGET(len, (char *)dentry + BPFD_OFF_DENTRY_NAME_LEN);
		if (len > 255)
			len = 255;
		/*
		 * A dentry that is its own parent but not its mount's root: a
		 * pseudo file (memfd:NAME, pipe:[N]) or a disconnected one. Its
		 * name is kept unless it is a filesystem root's "/".
		 */
		if (!parent || parent == dentry) {
			a->flags |= BPFD_PATH_OUTSIDE_ROOT;
			done = 1;
			if (len <= 1)
				break;
		}
		pos = a->pos;
		if (pos > BPFD_PATH_END || BPFD_PATH_END - pos + len + 1 > BPFD_PATH_MAX - 1)
			break;
		pos -= len;
		name = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_NAME);
		bpf_probe_read_kernel(&a->buf[pos & BPFD_PATH_MASK], len & 255, name);
		pos--;
		a->buf[pos & BPFD_PATH_MASK] = '/';
		a->pos = pos;
		dentry = parent;
	}
	if (!done)
		a->flags |= BPFD_PATH_TRUNCATED;
	pos = a->pos;
	if (pos >= BPFD_PATH_END) {
		pos = BPFD_PATH_END - 1;
		a->buf[pos] = '/';
		a->pos = pos;
	}
	return BPFD_PATH_END - (pos & BPFD_PATH_MASK);
}

/* Where the walk of the opened or executed @file starts: its f_path. */
static __always_inline void bpfd_path_start_file(void *file, struct bpfd_path_root *start)
{
	start->mnt = file ? bpfd_read_ptr(file, BPFD_OFF_FILE_PATH_MNT) : NULL;
	start->dentry = file ? bpfd_read_ptr(file, BPFD_OFF_FILE_PATH_DENTRY) : NULL;
}

/*
 * Where the walk starts for a name that could not be opened: the directory
 * it starts from, the task's root for an absolute name (@first is '/'),
 * else the dirfd's (@dfd >= 0) or the cwd's (AT_FDCWD, -100; open and creat
 * pass that too).
 */
static __always_inline void bpfd_path_start_base(void *task, long dfd, char first,
						 struct bpfd_path_root *start)
{
	if (first == '/')
		bpfd_path_fs(task, BPFD_OFF_FS_ROOT_MNT, BPFD_OFF_FS_ROOT_DENTRY, start);
	else if (dfd == -100)
		bpfd_path_fs(task, BPFD_OFF_FS_PWD_MNT, BPFD_OFF_FS_PWD_DENTRY, start);
	else
		bpfd_path_start_file(bpfd_fd_file(task, dfd), start);
}

/*
 * The path from @start (nothing without one) as seen from the root of the
 * task's mount namespace, into @a, with @kind (BPFD_PATH_FILE or BPFD_PATH_BASE) in a->flags.
 * Returns its length. Every program calls it once: the walk is most of what
 * the verifier has to check.
 */
static __always_inline u32 bpfd_path_resolve(struct bpfd_path_area *a, void *task,
					     const struct bpfd_path_root *start, u32 kind)
{
	struct bpfd_path_root root;

	a->flags = 0;
	if (!start->mnt || !start->dentry)
		return 0;
	bpfd_path_ns_root(task, &root);
	a->flags = kind;
	return bpfd_path_walk(a, start->mnt, start->dentry, &root);
}

/*
 * Copies the walked path (@len bytes, without its NUL) to @dst, which has
 * room for BPFD_PATH_MAX bytes. Returns the bytes copied.
 */
static __always_inline u32 bpfd_path_copy(char *dst, struct bpfd_path_area *a, u32 len)
{
	u32 pos = a->pos;

	if (!len || len > BPFD_PATH_MAX)
		return 0;
	bpf_probe_read_kernel(dst, BPFD_BOUND(len, 2 * BPFD_PATH_MAX) & (BPFD_PATH_MAX * 2 - 1),
			      &a->buf[pos & BPFD_PATH_MASK]);
	return len;
}

/*
 * The prefilter's lead test on the top found by bpfd_pf_scan() (a->top,
 * a->depth): "/", the top component's name, then "/" when it has more
 * below it (or @more: a failed open's name follows the directory), against
 * the lead, in the bytes those are known for. What it
 * cannot tell (outside the root, truncated, the root itself) passes.
 */
static __always_inline int bpfd_pf_top_passes(struct bpfd_path_area *a,
					      const struct bpfd_pf_config *pf, int more)
{
	/* Built in the area's spare tail, which no walk writes. */
	char *t = &a->buf[BPFD_PATH_MASK + 1];
	u64 built, known = ~0ULL;
	long n;

	if (!pf || !a->top || (a->flags & (BPFD_PATH_OUTSIDE_ROOT | BPFD_PATH_TRUNCATED)))
		return 1;
	t[0] = '/';
	n = bpf_probe_read_kernel_str(&t[1], 8,
				      bpfd_read_ptr((void *)a->top, BPFD_OFF_DENTRY_NAME));
	if (n <= 0)
		return 1;
	/* t[1 .. n-1] is the name; t[n] is what follows it in the path. */
	if (n < 8) {
		t[n & 7] = a->depth > 1 || more ? '/' : '\0';
		if (n < 7)
			known = (1ULL << ((n + 1) * 8)) - 1;
	}
	__builtin_memcpy(&built, t, sizeof(built));
	return ((built ^ pf->lead) & pf->lead_mask & known) == 0;
}

/*
 * The prefilter's test of the key @k: its first 8 bytes against @lead in
 * @lead_mask (most keys stop there), then the trie.
 */
static __always_inline int bpfd_pf_key_passes(u32 type, const struct bpfd_pf_path_key *k,
					      u64 lead, u64 lead_mask)
{
	u32 *types;
	u64 head;

	__builtin_memcpy(&head, k->path, sizeof(head));
	if ((head & lead_mask) != lead)
		return 0;
	types = bpfd_pf_paths.lookup(k);
	return types && (*types & (1u << (type & 31)));
}

/*
 * The prefilter's test of a walked path: its first BPFD_PF_PATH_MAX bytes
 * against the lead and the trie. A longer path has no NUL in the key, so
 * only prefixes can let it through, which is right: no exact value is that
 * long.
 */
static __always_inline int bpfd_pf_walked_path_passes(u32 type, const struct bpfd_path_area *a,
						      const struct bpfd_pf_config *pf)
{
	u32 zero = 0, pos = a->pos;
	struct bpfd_pf_path_key *k = bpfd_pf_key.lookup(&zero);

	if (!k || !pf)
		return 1;
	k->prefixlen = BPFD_PF_PATH_MAX * 8;
	bpf_probe_read_kernel(k->path, sizeof(k->path), &a->buf[pos & BPFD_PATH_MASK]);
	return bpfd_pf_key_passes(type, k, pf->lead, pf->lead_mask);
}

/* Is inode number @ino's bit set in @bits (struct bpfd_pf_ident_hint)? */
static __always_inline int bpfd_pf_ident_hinted(const u64 *bits, u64 ino)
{
	return (bits[(ino >> 6) & (BPFD_PF_IDENT_HINT_BITS / 64 - 1)] >> (ino & 63)) & 1;
}

/*
 * The names of the @levels dentries from @dentry up, as "/a/b", into
 * a->tail, ending at BPFD_IDENT_TAIL_MAX. Only for a file recognised by a
 * parent's identity: its path below that directory.
 */
static __always_inline void bpfd_pf_ident_tail(struct bpfd_path_area *a, void *dentry, u32 levels)
{
	u32 i, len, pos = BPFD_IDENT_TAIL_MAX;

	a->ident.tail_len = 0;
#pragma clang loop unroll(disable)
	for (i = 0; i < levels && i < BPFD_PF_IDENT_DEPTH_MAX; i++) {
		len = 0;
		BPFD_KGET(len, (char *)dentry + BPFD_OFF_DENTRY_NAME_LEN);
		if (len > 255 || BPFD_IDENT_TAIL_MAX - pos + len + 1 > BPFD_IDENT_TAIL_MAX - 1)
			return;
		pos -= len;
		bpf_probe_read_kernel(&a->tail[pos & (2 * BPFD_IDENT_TAIL_MAX - 1)], len & 255,
				      bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_NAME));
		pos--;
		a->tail[pos & (2 * BPFD_IDENT_TAIL_MAX - 1)] = '/';
		dentry = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_PARENT);
	}
	a->ident.tail_len = BPFD_IDENT_TAIL_MAX - pos;
}

/*
 * What the prefilter's identity tests share while an open is tested: the
 * hint, the file's inode and dentry, and the key looked up (its device is
 * read only once a hint bit is set: most opens never need it).
 */
struct bpfd_pf_ident_ctx {
	const struct bpfd_pf_ident_hint *hint;
	void *inode;
	void *dentry;
	struct bpfd_pf_ident_key *k;	/* in the path area */
	u32 bit;
};

/*
 * Is inode @ino (of the file's filesystem) in bpfd_pf_idents for this
 * tracer, as a file (@dir 0) or as a prefix's directory (@dir 1)?
 * the device the first time it is needed.
 */
static __always_inline int bpfd_pf_ident_lookup(struct bpfd_pf_ident_ctx *c, u64 ino, int dir)
{
	struct bpfd_pf_ident *v;
	void *sb = bpfd_read_ptr(c->inode, BPFD_OFF_INODE_SB);

	if (!sb)
		return 0;
	BPFD_KGET(c->k->dev, (char *)sb + BPFD_OFF_SB_DEV);
	c->k->ino = ino;
	v = bpfd_pf_idents.lookup(c->k);
	return v && ((dir ? v->dir_types : v->file_types) & c->bit);
}

/* Records in a->ident that the file was recognised at @depth (1: itself). */
static __always_inline int bpfd_pf_ident_hit(struct bpfd_path_area *a,
					     const struct bpfd_pf_ident_ctx *c, u32 depth)
{
	a->ident.ino = c->k->ino;
	a->ident.dev = c->k->dev;
	a->ident.depth = depth;
	if (depth > 1)
		bpfd_pf_ident_tail(a, c->dentry, depth - 1);
	return 1;
}

/*
 * The prefilter's test of a file's own identity (BPFD_PF_IDENT in @mode):
 * is the inode of the opened @file one that a rule names
 * (bpfd_pf_idents)? Names do not matter here: a hard link, a bind mount
 * and a chroot all open the same inode. Sets up @c for the parents' tests
 * (bpfd_pf_scan), a->ident (depth 0 when nothing was recognised), and
 * returns whether the file was recognised. Two reads and a bit test for a
 * file no rule names.
 */
static __always_inline int bpfd_pf_ident_passes(u32 type, u32 mode, void *file,
						struct bpfd_path_area *a,
						struct bpfd_pf_ident_ctx *c)
{
	u32 zero = 0;
	u64 ino = 0;

	a->ident.depth = 0;
	__builtin_memset(&a->ikey, 0, sizeof(a->ikey));
	c->k = &a->ikey;
	c->hint = NULL;
	c->inode = NULL;
	c->dentry = NULL;
	c->bit = 1u << (type & 31);
	if (!(mode & BPFD_PF_IDENT) || !file)
		return 0;
	c->inode = bpfd_read_ptr(file, BPFD_OFF_FILE_INODE);
	c->hint = bpfd_pf_ident_hint.lookup(&zero);
	if (!c->inode || !c->hint)
		return 0;
	BPFD_KGET(ino, (char *)c->inode + BPFD_OFF_INODE_INO);
	if (bpfd_pf_ident_hinted(c->hint->file, ino) && bpfd_pf_ident_lookup(c, ino, 0))
		return bpfd_pf_ident_hit(a, c, 1);
	return 0;
}

/* Is @dentry, @level directories above the file, the directory of a prefix? */
static __always_inline int bpfd_pf_ident_dir(struct bpfd_path_area *a, struct bpfd_pf_ident_ctx *c,
					     void *dentry, u32 level)
{
	const struct bpfd_pf_ident_hint *h = c->hint;
	void *inode;
	u64 ino = 0;

	if (!h)
		return 0;
	inode = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_INODE);
	if (!inode)
		return 0;
	BPFD_KGET(ino, (char *)inode + BPFD_OFF_INODE_INO);
	if (bpfd_pf_ident_hinted(h->dir, ino) && bpfd_pf_ident_lookup(c, ino, 1))
		return bpfd_pf_ident_hit(a, c, level + 1);
	return 0;
}

/*
 * The prefilter's one pass up from opened file (@mnt, @dentry) before any
 * name is read: the way the path walk goes (dentries, then mounts), which
 * leaves the top component below the root in a->top and the count of
 * components in a->depth for bpfd_pf_top_passes(), and on the way, with
 * BPFD_PF_IDENT_DIRS in @mode, tests each parent directory's identity
 * while it is the file's filesystem's own parent (a bind mount of a
 * directory leads to the same parents). It ends at the mount that has no
 * parent, the root of the file's mount namespace, without reading the
 * opener's root: for a file of the opener's namespace that is where the
 * path walk ends too, and for one of another namespace (a breakout), the
 * path walk goes up to the same top and says it lies outside. Returns
 * whether a parent was recognised (a->ident set).
 */
static __always_inline int bpfd_pf_scan(struct bpfd_path_area *a, struct bpfd_pf_ident_ctx *c,
					u32 mode, void *mnt, void *dentry)
{
	void *mnt_root, *parent, *m, *sb, *s_root, *up;
	u32 i;

	c->dentry = dentry;
	a->top = 0;
	a->depth = 0;
	a->flags = BPFD_PATH_FILE;
	a->idents = (mode & BPFD_PF_IDENT_DIRS) && c->hint && c->inode;
	a->crossed = 0;
	a->fs_depth = 0;
	if (!mnt || !dentry)
		return 0;
	mnt_root = bpfd_read_ptr(mnt, BPFD_OFF_VFSMOUNT_ROOT);
#pragma clang loop unroll(disable)
	for (i = 0; i < BPFD_PATH_DEPTH_MAX; i++) {
		if (dentry == mnt_root) {
			m = (char *)mnt - BPFD_OFF_MOUNT_MNT;
			parent = bpfd_read_ptr(m, BPFD_OFF_MOUNT_PARENT);
			if (!parent || parent == m)
				goto top;
			/*
			 * A mount of a directory (a bind mount) rather than of
			 * its filesystem's root, which is its own parent: as in
			 * bpfd_path_walk(), the whole filesystem's mount above.
			 */
			up = bpfd_read_ptr(mnt_root, BPFD_OFF_DENTRY_PARENT);
			sb = up && up != mnt_root ? bpfd_read_ptr(mnt, BPFD_OFF_VFSMOUNT_SB) : NULL;
			s_root = sb ? bpfd_read_ptr(sb, BPFD_OFF_SB_ROOT) : NULL;
			if (s_root && mnt_root != s_root) {
				up = (char *)parent + BPFD_OFF_MOUNT_MNT;
				if (bpfd_read_ptr(up, BPFD_OFF_VFSMOUNT_SB) == sb &&
				    bpfd_read_ptr(up, BPFD_OFF_VFSMOUNT_ROOT) == s_root) {
					mnt = up;
					mnt_root = s_root;
					continue;
				}
			}
			/* Where the path leaves the file's own filesystem. */
			if (!a->crossed) {
				a->crossed = 1;
				a->fs_depth = a->depth;
			}
			dentry = bpfd_read_ptr(m, BPFD_OFF_MOUNT_MOUNTPOINT);
			mnt = (char *)parent + BPFD_OFF_MOUNT_MNT;
			mnt_root = bpfd_read_ptr(mnt, BPFD_OFF_VFSMOUNT_ROOT);
			continue;
		}
		parent = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_PARENT);
		if (!parent || parent == dentry) {
			a->flags |= BPFD_PATH_OUTSIDE_ROOT;
			goto top;
		}
		a->top = (u64)dentry;
		a->depth++;
		dentry = parent;
	}
	a->flags |= BPFD_PATH_TRUNCATED;
top:
	/*
	 * The parents' identities matter only where the path does not show
	 * the file's own parents by their names: when the way up left the
	 * file's filesystem below the top (a container's volume, a filesystem
	 * mounted under another path, a directory bind-mounted without its
	 * filesystem above it), or could not be followed to the top. A file
	 * whose filesystem's root is the top (the host's root filesystem, a
	 * container's) has the path its own parents give it, which the names
	 * test.
	 */
	if (!a->idents || (a->crossed ? a->depth == a->fs_depth
				      : !(a->flags & (BPFD_PATH_TRUNCATED | BPFD_PATH_OUTSIDE_ROOT))))
		return 0;
	dentry = c->dentry;
#pragma clang loop unroll(disable)
	for (i = 1; i < BPFD_PF_IDENT_DEPTH_MAX; i++) {
		parent = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_PARENT);
		if (!parent || parent == dentry)
			break;
		dentry = parent;
		/* The level from memory: one state for the tail's walk on a hit, not one per level. */
		a->fs_depth = i;
		if (bpfd_pf_ident_dir(a, c, dentry, *(volatile u32 *)&a->fs_depth))
			return 1;
	}
	return 0;
}

/*
 * The prefilter's lead test of an open that failed (no file), with a
 * prefix among the names, before its directory is looked at: the daemon
 * joins @user_name to the directory it starts from (the cwd or the
 * dirfd's; the root for an absolute name) and normalises it lexically
 * (pathname.c). Without a ".." component, a relative name's joined path
 * begins as its directory's path does, and an absolute name's begins as
 * written unless "//" or "/." comes before the lead's end. 0: drop; 1:
 * pass (what cannot be told: a "..", a name too long to read here); 2:
 * the directory's top decides (bpfd_pf_scan(), bpfd_pf_top_passes()). The
 * name (in kernel memory with @kernel: io_uring's copy) is read into @a's
 * buffer.
 */
static __always_inline int bpfd_pf_failed_name(struct bpfd_path_area *a,
					       const struct bpfd_pf_config *pf,
					       const char *user_name, int kernel)
{
	u64 head, known = ~0ULL;
	char ch, prev = '/';
	long n, i;

	if (!pf || !user_name)
		return 1;
	n = kernel ? bpf_probe_read_kernel_str(a->buf, BPFD_PF_PATH_MAX, user_name)
		   : bpfd_read_user_str(a->buf, BPFD_PF_PATH_MAX, user_name);
	if (n <= 1 || n >= BPFD_PF_PATH_MAX)
		return 1;
	/* Any component that starts with "..": "..", and "...x" too, which passes. */
#pragma clang loop unroll(disable)
	for (i = 0; i < BPFD_PF_PATH_MAX - 1; i++) {
		ch = a->buf[i];
		if (!ch)
			break;
		if (ch == '.' && prev == '/' && a->buf[i + 1] == '.')
			return 1;
		/* "//" or "/." before the lead's end would move it when normalised. */
		if (i && i < 9 && prev == '/' && (ch == '/' || ch == '.'))
			return 1;
		prev = ch;
	}
	if (a->buf[0] != '/')
		return 2;
	__builtin_memcpy(&head, a->buf, sizeof(head));
	/* A name shorter than the lead is shorter than every rule's. */
	if (n < 8)
		known = (1ULL << (n * 8)) - 1;
	return ((head ^ pf->lead) & pf->lead_mask & known) == 0;
}

/*
 * The prefilter's test of a last component, when every file name of the
 * tracer's rules is an exact value (BPFD_PF_LEAF): @name (kernel memory,
 * NUL-terminated) must be one of their last components, which the trie
 * holds behind a BPFD_PF_LEAF_TAG byte. What cannot be told here passes: a
 * name too long for the key, "", "." and "..".
 */
static __always_inline int bpfd_pf_leaf_passes(u32 type, const char *name,
					       const struct bpfd_pf_config *pf)
{
	u32 zero = 0;
	struct bpfd_pf_path_key *k = bpfd_pf_key.lookup(&zero);
	long n;

	if (!k || !pf)
		return 1;
	k->prefixlen = BPFD_PF_PATH_MAX * 8;
	k->path[0] = BPFD_PF_LEAF_TAG;
	n = bpf_probe_read_kernel_str(&k->path[1], sizeof(k->path) - 1, name);
	if (n <= 1 || n >= (long)sizeof(k->path) - 1)
		return 1;
	if (k->path[1] == '.' && (n == 2 || (n == 3 && k->path[2] == '.')))
		return 1;
	return bpfd_pf_key_passes(type, k, pf->leaf_lead, pf->leaf_lead_mask);
}

/*
 * The same for the last component of @user_name, a name in user memory as
 * passed to a syscall that failed: after normalising, a name that ends in a
 * plain component still ends in it. The name is read into @a's buffer.
 */
static __always_inline int bpfd_pf_user_leaf_passes(u32 type, const char *user_name,
						    struct bpfd_path_area *a,
						    const struct bpfd_pf_config *pf)
{
	long n, i;

	if (!user_name)
		return 1;
	n = bpfd_read_user_str(a->buf, BPFD_PF_PATH_MAX, user_name);
	if (n <= 0 || n >= BPFD_PF_PATH_MAX)
		return 1;
	/* Backwards to the last '/': one way through the loop, for the verifier. */
	i = n - 1;
#pragma clang loop unroll(disable)
	while (i > 0 && a->buf[(i - 1) & (BPFD_PF_PATH_MAX - 1)] != '/')
		i--;
	return bpfd_pf_leaf_passes(type, &a->buf[i & (BPFD_PF_PATH_MAX - 1)], pf);
}

/* 1 when @x == @c, else 0 (both below 2^63), computed without a branch. */
#define BPFD_EQ(x, c) ((((u64)(x) ^ (u64)(c)) - 1) >> 63)
/* Hides @v's value from the compiler, which would turn arithmetic on it back into branches. */
#define BPFD_OPAQUE(v) asm volatile("" : "+r"(v))

/*
 * The prefilter's test (BPFD_PF_PATH, BPFD_PF_SUFFIX) of a path as the
 * daemon reports it, from a record's copies (kernel memory at @path): the
 * walked path (@plen bytes, no NUL) with path flags @flags, then for
 * BPFD_PATH_BASE the name as passed (@alen bytes with its NUL), which the
 * daemon joins to it (pathname_normalize()). The path is built at the
 * start of @a's buffer (no walk is in it any more): the walked path, then
 * an absolute name over the root's "/" or after the directory's, a
 * relative one after a "/". Then the whole path against the trie and its
 * last component against the rules' last components. What cannot be told
 * passes: no walk, one cut short or outside the root, a name that
 * normalising would change beyond the join ("//", a "." or ".."
 * component, a "/" at its end), a path of 255 bytes or more (a long name's
 * part beyond could hold a "..").
 */
static __always_inline int bpfd_pf_joined_passes(u32 type, struct bpfd_path_area *a,
						 const char *path, u32 plen, u32 flags, u32 alen,
						 const struct bpfd_pf_config *pf)
{
	u64 c, nx, prev = 0, slash, bad = 0, sep, last;
	u32 zero = 0, at, i;
	struct bpfd_pf_path_key *k;

	if (!pf || !plen || plen >= BPFD_PF_PATH_MAX - 1 ||
	    (flags & (BPFD_PATH_TRUNCATED | BPFD_PATH_OUTSIDE_ROOT)))
		return 1;
	bpf_probe_read_kernel(a->buf, plen & (BPFD_PF_PATH_MAX - 1), path);
	a->buf[plen & (BPFD_PF_PATH_MAX - 1)] = '\0';
	a->jsep = 0;
	if (!(flags & BPFD_PATH_FILE)) {
		if (!alen || alen >= BPFD_PF_PATH_MAX)
			return 1;
		a->jfirst = 0;
		bpf_probe_read_kernel(&a->jfirst, 1, path + plen);
		/* Where the name goes: its "/" over the root's, or after the directory's. */
		if (*(volatile u32 *)&a->jfirst == '/') {
			at = plen == 1 ? 0 : plen;
			a->jsep = at;
		} else {
			at = plen == 1 ? 1 : plen + 1;
			a->buf[plen & (BPFD_PF_PATH_MAX - 1)] = '/';
			a->jsep = at - 1;
		}
		if (at + alen > BPFD_PF_PATH_MAX)
			return 1;
		bpf_probe_read_kernel(&a->buf[at & (BPFD_PF_PATH_MAX - 1)],
				      alen & (BPFD_PF_PATH_MAX - 1), path + plen);
		a->buf[(at + alen - 1) & (2 * BPFD_PF_PATH_MAX - 1)] = '\0';
	}
	/*
	 * From the "/" before the name's first component (the walked path's
	 * first for a file) to the NUL, without a branch but the loop's own
	 * (each would be a state of the verifier's per byte): @bad when a
	 * component is empty, "." or ".." (or starts with ".."), @last where
	 * the last one starts. A walked path has none of those but the root's
	 * "/" alone, which passes.
	 */
	sep = *(volatile u32 *)&a->jsep;
	last = sep + 1;
#pragma clang loop unroll(disable)
	for (i = 0; i < BPFD_PF_PATH_MAX; i++) {
		c = (u8)a->buf[(sep + i) & (2 * BPFD_PF_PATH_MAX - 1)];
		if (!c)
			break;
		nx = (u8)a->buf[(sep + i + 1) & (2 * BPFD_PF_PATH_MAX - 1)];
		slash = BPFD_EQ(prev, '/');
		BPFD_OPAQUE(slash);
		bad |= slash & (BPFD_EQ(c, '/') |
				(BPFD_EQ(c, '.') &
				 (BPFD_EQ(nx, '/') | BPFD_EQ(nx, '.') | BPFD_EQ(nx, 0))));
		last += slash * (sep + i - last);
		prev = c;
	}
	BPFD_OPAQUE(bad);
	if (bad | BPFD_EQ(prev, '/'))
		return 1;
	a->jlast = last;
	if (pf->mode & BPFD_PF_PATH) {
		k = bpfd_pf_key.lookup(&zero);
		if (!k)
			return 1;
		k->prefixlen = BPFD_PF_PATH_MAX * 8;
		bpf_probe_read_kernel(k->path, sizeof(k->path), a->buf);
		if (bpfd_pf_key_passes(type, k, pf->lead, pf->lead_mask))
			return 1;
	}
	if (!(pf->mode & BPFD_PF_SUFFIX))
		return 0;
	return bpfd_pf_leaf_passes(type, &a->buf[*(volatile u32 *)&a->jlast &
						 (2 * BPFD_PF_PATH_MAX - 1)], pf);
}
