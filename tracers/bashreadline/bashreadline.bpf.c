/*
 * bashreadline: the line readline() returns to an interactive bash.
 * A uretprobe: readline's return value is the malloc'd line, or NULL at EOF.
 */

int bpfd_bashreadline_ret(struct pt_regs *ctx)
{
	/* PT_REGS_RC(ctx), at its BTF offset: struct pt_regs is not defined here. */
	const char *line = (const char *)*(u64 *)((char *)ctx + BPFD_OFF_PT_REGS_AX);
	struct bashreadline_record *r;
	char last = 0;
	u64 len;
	int n;

	if (!line || bpfd_skip(BPFD_TRACER_TYPE))
		return 0;
	r = bpfd_scratch();
	if (!r)
		return 0;
	n = bpfd_read_user_str(r->line, sizeof(r->line), line);
	/* Empty lines (just Enter) say nothing. */
	if (n <= 1)
		return 0;
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->flags = 0;
	if (n >= BASHREADLINE_LINE_MAX) {
		n = BASHREADLINE_LINE_MAX;
		/* Full buffer: longer when the user's string goes on. */
		if (bpfd_read_user(&last, 1, line + BASHREADLINE_LINE_MAX - 1) == 0 && last)
			r->flags |= BASHREADLINE_TRUNCATED;
	}
	len = BPFD_BOUND(n, 2 * BASHREADLINE_LINE_MAX);
	r->line_len = len;
	bpfd_submit(r, offsetof(struct bashreadline_record, line) + len, BPFD_TRACER_TYPE);
	return 0;
}
