/*
 * filechange: files deleted, renamed, truncated, timestamped or given a new
 * owner (unlink, unlinkat, rmdir, rename, renameat, renameat2, truncate,
 * ftruncate, utime, utimes, utimensat, futimesat, chown, fchown, lchown,
 * fchownat) with their result, at the syscall's exit; the arguments come
 * from the registers saved at entry, so there is no entry program.
 *
 * The paths come from the kernel (path.bpf.c), as for chmod: for a call on
 * a descriptor (ftruncate, fchown, utimensat(fd, NULL)) the descriptor's
 * struct file; for a call by name the directory the name starts from (cwd,
 * dirfd or root), which the daemon joins the name to. A rename's source
 * and target are each walked from their own directory.
 */

#define BPFD_FC_AT_FDCWD -100
#define BPFD_FC_AT_EMPTY_PATH 0x1000

/* Up to five arguments of the current call: the 64-bit ABI's or the 32-bit entry's. */
#if BPFD_OFF_PT_REGS_R10 % 8 || BPFD_OFF_PT_REGS_R8 % 8 || BPFD_OFF_PT_REGS_BX % 8 || \
	BPFD_OFF_PT_REGS_CX % 8
#error "pt_regs registers are not 8-byte aligned"
#endif
struct bpfd_fc_args {
	u64 a[5];
};

static __always_inline void bpfd_fc_native_args(struct bpfd_fc_args *x)
{
	volatile u64 *regs = (volatile u64 *)bpf_task_pt_regs(bpf_get_current_task_btf());

	x->a[0] = regs[BPFD_OFF_PT_REGS_DI / 8];
	x->a[1] = regs[BPFD_OFF_PT_REGS_SI / 8];
	x->a[2] = regs[BPFD_OFF_PT_REGS_DX / 8];
	x->a[3] = regs[BPFD_OFF_PT_REGS_R10 / 8];
	x->a[4] = regs[BPFD_OFF_PT_REGS_R8 / 8];
}

/* ebx, ecx, edx, esi, edi: the kernel uses their low halves only. */
static __always_inline void bpfd_fc_compat_args(struct bpfd_fc_args *x)
{
	volatile u64 *regs = (volatile u64 *)bpf_task_pt_regs(bpf_get_current_task_btf());

	x->a[0] = (u32)regs[BPFD_OFF_PT_REGS_BX / 8];
	x->a[1] = (u32)regs[BPFD_OFF_PT_REGS_CX / 8];
	x->a[2] = (u32)regs[BPFD_OFF_PT_REGS_DX / 8];
	x->a[3] = (u32)regs[BPFD_OFF_PT_REGS_SI / 8];
	x->a[4] = (u32)regs[BPFD_OFF_PT_REGS_DI / 8];
}

/* What one call names, in a form common to all of them. */
struct bpfd_fc_call {
	const char *name;	/* the file by name; NULL: the file is @dfd's */
	const char *tname;	/* a rename's target */
	const void *times;	/* the timestamp calls' times (NULL: now) */
	long dfd;		/* the directory @name starts from, or the descriptor */
	long tdfd;
	u64 length;
	u32 flags, uid, gid;
	u16 times_kind;
	u16 times_size;
	u32 op;			/* enum filechange_operation */
	int empty_path;		/* an empty @name means @dfd's file (AT_EMPTY_PATH) */
};

/* The 16-bit owner calls of the 32-bit entry: 0xffff is "unchanged" (low2highuid()). */
static __always_inline u32 bpfd_fc_id16(u64 v)
{
	v &= 0xffff;
	return v == 0xffff ? (u32)-1 : (u32)v;
}

/*
 * Fills @c for call @sys (enum filechange_syscall) from its arguments @x.
 * Returns 0, or -1 for a call this tracer does not report.
 */
static __always_inline int bpfd_fc_call_of(u32 sys, int compat, const struct bpfd_fc_args *x,
					   struct bpfd_fc_call *c)
{
	u16 t32 = compat ? FC_TIMES_32 : 0;

	c->dfd = BPFD_FC_AT_FDCWD;
	c->tdfd = BPFD_FC_AT_FDCWD;
	if (sys <= FC_SYS_RMDIR)
		c->op = FC_OP_DELETE;
	else if (sys <= FC_SYS_RENAMEAT2)
		c->op = FC_OP_RENAME;
	else if (sys <= FC_SYS_FTRUNCATE || sys == FC_SYS_TRUNCATE64 || sys == FC_SYS_FTRUNCATE64)
		c->op = FC_OP_TRUNCATE;
	else if (sys <= FC_SYS_FUTIMESAT || sys == FC_SYS_UTIMENSAT_TIME64)
		c->op = FC_OP_TIMESTAMPS;
	else
		c->op = FC_OP_OWNER;
	switch (sys) {
	case FC_SYS_UNLINK:
	case FC_SYS_RMDIR:
		c->name = (const char *)x->a[0];
		break;
	case FC_SYS_UNLINKAT:
		c->dfd = (int)x->a[0];
		c->name = (const char *)x->a[1];
		c->flags = (u32)x->a[2];
		break;
	case FC_SYS_RENAME:
		c->name = (const char *)x->a[0];
		c->tname = (const char *)x->a[1];
		break;
	case FC_SYS_RENAMEAT:
	case FC_SYS_RENAMEAT2:
		c->dfd = (int)x->a[0];
		c->name = (const char *)x->a[1];
		c->tdfd = (int)x->a[2];
		c->tname = (const char *)x->a[3];
		if (sys == FC_SYS_RENAMEAT2)
			c->flags = (u32)x->a[4];
		break;
	case FC_SYS_TRUNCATE:
	case FC_SYS_TRUNCATE64:
		c->name = (const char *)x->a[0];
		/* compat truncate: a compat_off_t; truncate64: the low half, then the high. */
		c->length = sys == FC_SYS_TRUNCATE64 ? (x->a[1] | x->a[2] << 32)
			    : compat ? (u64)(s64)(s32)x->a[1] : x->a[1];
		break;
	case FC_SYS_FTRUNCATE:
	case FC_SYS_FTRUNCATE64:
		c->dfd = (int)x->a[0];
		c->length = sys == FC_SYS_FTRUNCATE64 ? (x->a[1] | x->a[2] << 32)
			    : compat ? (u64)(s64)(s32)x->a[1] : x->a[1];
		break;
	case FC_SYS_UTIME:
		c->name = (const char *)x->a[0];
		c->times = (const void *)x->a[1];
		c->times_kind = FC_TIMES_UTIMBUF | t32;
		c->times_size = compat ? 8 : 16;
		break;
	case FC_SYS_UTIMES:
		c->name = (const char *)x->a[0];
		c->times = (const void *)x->a[1];
		c->times_kind = FC_TIMES_TIMEVAL | t32;
		c->times_size = compat ? 16 : 32;
		break;
	case FC_SYS_FUTIMESAT:
		/* A NULL name: the descriptor's own file. */
		c->dfd = (int)x->a[0];
		c->name = (const char *)x->a[1];
		c->times = (const void *)x->a[2];
		c->times_kind = FC_TIMES_TIMEVAL | t32;
		c->times_size = compat ? 16 : 32;
		break;
	case FC_SYS_UTIMENSAT:
	case FC_SYS_UTIMENSAT_TIME64:
		/* utimensat(fd, NULL, ...) is futimens(fd, ...): the descriptor's file. */
		c->dfd = (int)x->a[0];
		c->name = (const char *)x->a[1];
		c->times = (const void *)x->a[2];
		c->flags = (u32)x->a[3];
		if (compat && sys == FC_SYS_UTIMENSAT) {
			c->times_kind = FC_TIMES_TIMESPEC | FC_TIMES_32;
			c->times_size = 16;
		} else {
			c->times_kind = FC_TIMES_TIMESPEC;
			c->times_size = 32;
		}
		c->empty_path = c->flags & BPFD_FC_AT_EMPTY_PATH;
		break;
	case FC_SYS_CHOWN:
	case FC_SYS_LCHOWN:
		c->name = (const char *)x->a[0];
		c->uid = (u32)x->a[1];
		c->gid = (u32)x->a[2];
		break;
	case FC_SYS_CHOWN16:
	case FC_SYS_LCHOWN16:
		c->name = (const char *)x->a[0];
		c->uid = bpfd_fc_id16(x->a[1]);
		c->gid = bpfd_fc_id16(x->a[2]);
		break;
	case FC_SYS_FCHOWN:
		c->dfd = (int)x->a[0];
		c->uid = (u32)x->a[1];
		c->gid = (u32)x->a[2];
		break;
	case FC_SYS_FCHOWN16:
		c->dfd = (int)x->a[0];
		c->uid = bpfd_fc_id16(x->a[1]);
		c->gid = bpfd_fc_id16(x->a[2]);
		break;
	case FC_SYS_FCHOWNAT:
		c->dfd = (int)x->a[0];
		c->name = (const char *)x->a[1];
		c->uid = (u32)x->a[2];
		c->gid = (u32)x->a[3];
		c->flags = (u32)x->a[4];
		c->empty_path = c->flags & BPFD_FC_AT_EMPTY_PATH;
		break;
	default:
		return -1;
	}
	return 0;
}

/*
 * Walks one file's path and copies it, then its name as passed, to
 * r->buf at @off (at most 2 * BPFD_PATH_MAX before it). The file is
 * @dfd's when @name is NULL (or empty, with @empty_path, after success),
 * else @name's directory: @dfd's, the cwd's or the root's. Returns the
 * bytes put at @off; *@flags, *@plen, *@alen say what they are.
 */
static __always_inline u32 bpfd_fc_path(struct filechange_record *r, struct bpfd_path_area *area,
					void *task, long ret, long dfd, const char *name,
					int empty_path, u32 off, u32 *flags, __u16 *plen,
					__u16 *alen)
{
	struct bpfd_path_root start = {};
	u32 kind = BPFD_PATH_BASE, len, pl;
	int n = 0;
	char first = 0;

	if (!name) {
		bpfd_path_start_file(bpfd_fd_file(task, dfd), &start);
		kind = BPFD_PATH_FILE;
	} else if (bpfd_read_user(&first, 1, name) == 0) {
		bpfd_path_start_base(task, dfd, first, &start);
		if (!first && empty_path && ret == 0)
			kind = BPFD_PATH_FILE;
	}
	len = bpfd_path_resolve(area, task, &start, kind);
	*flags = area->flags;
	off = BPFD_BOUND(off, 4 * BPFD_PATH_MAX);
	pl = bpfd_path_copy(&r->buf[off], area, len);
	*plen = pl;
	pl = BPFD_BOUND(pl, 2 * BPFD_PATH_MAX);
	if (name && kind == BPFD_PATH_BASE) {
		n = bpfd_read_user_str(&r->buf[off + pl], FILECHANGE_NAME_MAX, name);
		if (n < 0)
			n = 0;
		if (n > FILECHANGE_NAME_MAX)
			n = FILECHANGE_NAME_MAX;
	}
	*alen = n;
	return pl + BPFD_BOUND(n, 2 * FILECHANGE_NAME_MAX);
}

/*
 * With the path prefilter: submits @r when the path of its file or of a
 * rename's target passes the test (path.bpf.c, bpfd_pf_joined_passes()),
 * else drops it. Everything is read back from the record: one state here,
 * whichever call and walks led here.
 */
static __always_inline int bpfd_fc_test_submit(struct filechange_record *r,
					       struct bpfd_path_area *area,
					       const struct bpfd_pf_config *pf)
{
	u32 plen = *(volatile __u16 *)&r->path_len, alen = *(volatile __u16 *)&r->arg_len;
	u32 tlen = *(volatile __u16 *)&r->target_len;
	u32 talen = *(volatile __u16 *)&r->target_arg_len, size;

	plen = BPFD_BOUND(plen, 2 * BPFD_PATH_MAX);
	alen = BPFD_BOUND(alen, 2 * FILECHANGE_NAME_MAX);
	tlen = BPFD_BOUND(tlen, 2 * BPFD_PATH_MAX);
	talen = BPFD_BOUND(talen, 2 * FILECHANGE_NAME_MAX);
	if (!bpfd_pf_joined_passes(BPFD_TRACER_TYPE, area, r->buf, plen,
				   *(volatile u32 *)&r->path_flags, alen, pf) &&
	    (!(tlen + talen) ||
	     !bpfd_pf_joined_passes(BPFD_TRACER_TYPE, area, &r->buf[plen + alen], tlen,
				    *(volatile u32 *)&r->target_flags, talen, pf))) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		return 0;
	}
	size = plen + alen + tlen + talen;
	bpfd_submit(r, offsetof(struct filechange_record, buf) + BPFD_BOUND(size, 8 * BPFD_PATH_MAX),
		    BPFD_TRACER_TYPE);
	return 0;
}

/*
 * Reports call @syscall (enum filechange_syscall, FC_SYS_COMPAT) that
 * returned @ret, with its arguments in @x. Every way in ends here.
 */
static __always_inline int bpfd_fc_report(long ret, u32 syscall, const struct bpfd_fc_args *x)
{
	struct bpfd_fc_call c = {};
	struct bpfd_pf_config *pf;
	struct bpfd_path_area *area;
	struct filechange_record *r;
	void *task;
	u32 sys = syscall & ~(u32)FC_SYS_COMPAT, off, pflags = 0;
	__u16 plen = 0, alen = 0;
	int test = 0;

	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	if (bpfd_fc_call_of(sys, (syscall & FC_SYS_COMPAT) != 0, x, &c) < 0)
		return 0;
	/*
	 * The operation and the task's tests, decided before any path is
	 * walked; with rules on paths, what they leave is decided by the
	 * paths once walked.
	 */
	pf = bpfd_prefilter_config(BPFD_TRACER_TYPE);
	if (pf && (pf->mode & BPFD_PF_ACTIVE) &&
	    !((pf->mode & BPFD_PF_KIND) && (pf->kinds & (1u << (c.op & 31)))) &&
	    !bpfd_pf_task_passes(BPFD_TRACER_TYPE, pf->mode)) {
		if (!(pf->mode & BPFD_PF_PATH)) {
			bpfd_prefiltered_out(BPFD_TRACER_TYPE);
			return 0;
		}
		test = 1;
	}
	if (bpfd_task_ignored())
		return 0;
	r = bpfd_scratch();
	if (!r)
		return 0;
	area = bpfd_path_area(r);
	area->test = test;
	task = (void *)bpf_get_current_task();
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->hdr.retval = ret;
	r->syscall = syscall;
	r->length = c.length;
	r->flags = c.flags;
	r->uid = c.uid;
	r->gid = c.gid;
	r->times_kind = c.times_kind;
	r->times_len = 0;
	if (c.times) {
		u32 size = c.times_size > FILECHANGE_TIMES_MAX ? FILECHANGE_TIMES_MAX : c.times_size;

		r->times_len = size;
		if (bpfd_read_user(r->times, size & (FILECHANGE_TIMES_MAX * 2 - 1), c.times) < 0)
			r->times_len = FC_TIMES_UNREADABLE;
	}
	off = bpfd_fc_path(r, area, task, ret, c.dfd, c.name, c.empty_path, 0, &pflags, &plen,
			   &alen);
	r->path_flags = pflags;
	r->path_len = plen;
	r->arg_len = alen;
	r->target_flags = 0;
	r->target_len = 0;
	r->target_arg_len = 0;
	if (c.tname) {
		pflags = 0;
		plen = 0;
		alen = 0;
		off += bpfd_fc_path(r, area, task, ret, c.tdfd, c.tname, 0, off, &pflags, &plen,
				    &alen);
		r->target_flags = pflags;
		r->target_len = plen;
		r->target_arg_len = alen;
	}
	if (*(volatile u32 *)&area->test) {
		/* Read back: one state for the test, whichever call led here. */
		return bpfd_fc_test_submit(r, area, pf);
	}
	bpfd_submit(r, offsetof(struct filechange_record, buf) + BPFD_BOUND(off, 8 * BPFD_PATH_MAX),
		    BPFD_TRACER_TYPE);
	return 0;
}

/* enum filechange_syscall of x86-64 call @nr (arch/x86/entry/syscalls/syscall_64.tbl), or -1. */
static __always_inline int bpfd_fc_native_call(long nr)
{
	switch (nr) {
	case 87:
		return FC_SYS_UNLINK;
	case 263:
		return FC_SYS_UNLINKAT;
	case 84:
		return FC_SYS_RMDIR;
	case 82:
		return FC_SYS_RENAME;
	case 264:
		return FC_SYS_RENAMEAT;
	case 316:
		return FC_SYS_RENAMEAT2;
	case 76:
		return FC_SYS_TRUNCATE;
	case 77:
		return FC_SYS_FTRUNCATE;
	case 132:
		return FC_SYS_UTIME;
	case 235:
		return FC_SYS_UTIMES;
	case 280:
		return FC_SYS_UTIMENSAT;
	case 261:
		return FC_SYS_FUTIMESAT;
	case 92:
		return FC_SYS_CHOWN;
	case 93:
		return FC_SYS_FCHOWN;
	case 94:
		return FC_SYS_LCHOWN;
	case 260:
		return FC_SYS_FCHOWNAT;
	default:
		return -1;
	}
}

/*
 * One program on every exit (filechange.c), told apart by the call's
 * number: the report is compiled and verified once.
 */
int bpfd_fc_sys_exit(struct bpfd_sys_exit_args *args)
{
	struct bpfd_fc_args x;
	int syscall = bpfd_fc_native_call(bpfd_sys_exit_nr(args));

	if (syscall < 0)
		return 0;
	bpfd_fc_native_args(&x);
	return bpfd_fc_report(args->ret, (u32)syscall, &x);
}

/*
 * The same calls through the 32-bit entry, which the tracepoints above
 * never see (common.bpf.c, BPFD_COMPAT_PROGRAM): enum filechange_syscall
 * of i386 call @nr (arch/x86/entry/syscalls/syscall_32.tbl), the 16-bit
 * owner calls and the 64-bit length and time variants included, or -1.
 */
static __always_inline int bpfd_fc_compat_call(long nr)
{
	switch (nr) {
	case 10:
		return FC_SYS_UNLINK;
	case 301:
		return FC_SYS_UNLINKAT;
	case 40:
		return FC_SYS_RMDIR;
	case 38:
		return FC_SYS_RENAME;
	case 302:
		return FC_SYS_RENAMEAT;
	case 353:
		return FC_SYS_RENAMEAT2;
	case 92:
		return FC_SYS_TRUNCATE;
	case 93:
		return FC_SYS_FTRUNCATE;
	case 193:
		return FC_SYS_TRUNCATE64;
	case 194:
		return FC_SYS_FTRUNCATE64;
	case 30:
		return FC_SYS_UTIME;
	case 271:
		return FC_SYS_UTIMES;
	case 320:
		return FC_SYS_UTIMENSAT;
	case 412:
		return FC_SYS_UTIMENSAT_TIME64;
	case 299:
		return FC_SYS_FUTIMESAT;
	case 182:
		return FC_SYS_CHOWN16;
	case 95:
		return FC_SYS_FCHOWN16;
	case 16:
		return FC_SYS_LCHOWN16;
	case 212:
		return FC_SYS_CHOWN;
	case 207:
		return FC_SYS_FCHOWN;
	case 198:
		return FC_SYS_LCHOWN;
	case 298:
		return FC_SYS_FCHOWNAT;
	default:
		return -1;
	}
}

static __always_inline int bpfd_fc_compat_exit(long nr, long ret)
{
	struct bpfd_fc_args x;
	int syscall = bpfd_fc_compat_call(nr);

	if (syscall < 0)
		return 0;
	bpfd_fc_compat_args(&x);
	return bpfd_fc_report(ret, (u32)syscall | FC_SYS_COMPAT, &x);
}

BPFD_COMPAT_PROGRAM(bpfd_filechange_compat, bpfd_fc_compat_exit)
