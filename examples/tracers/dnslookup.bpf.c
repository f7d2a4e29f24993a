/*
 * dnslookup: getaddrinfo(node, service, hints, res) at its entry
 * (dnslookup.toml): the names as the caller passed them, read from its
 * memory. bpfd gives this file struct bpfd_dropin_record and
 * bpfd_uprobe_arg().
 */

int dnslookup_getaddrinfo(struct pt_regs *ctx)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();
	const char *node, *service;

	if (!r)
		return 0;
	node = (const char *)bpfd_uprobe_arg(ctx, 0);
	service = (const char *)bpfd_uprobe_arg(ctx, 1);
	/* Either may be NULL; a failed read leaves the zeroed field: "". */
	if (node)
		bpfd_read_user_str(r->host, sizeof(r->host), node);
	if (service)
		bpfd_read_user_str(r->service, sizeof(r->service), service);
	bpfd_dropin_submit(r);
	return 0;
}
