/* SPDX-License-Identifier: MIT */
#ifndef BPFD_MOUNTINFO_H
#define BPFD_MOUNTINFO_H

/*
 * Lines of /proc/PID/mountinfo (proc(5)): finding a mount's line, where a
 * path lies inside that mount, and an overlay's layers. Every function
 * takes the text as read and modifies it in place (splitting, undoing the
 * kernel's escapes).
 */

#include <stddef.h>
#include <stdint.h>

/* The line of mount @mnt_id in @info (split into lines), or NULL. */
char *mountinfo_line(char *info, uint64_t mnt_id);

/*
 * The path inside the mount of @line (its root field joined to @path less
 * its mount point; both as the reading process's root sees them) into
 * @out. 0, -EINVAL (@path not under the mount point) or -ENAMETOOLONG.
 */
int mountinfo_path_in_mount(char *line, const char *path, char *out, size_t size);

/*
 * The layer directories of the overlay mount of @line into @layers, upper
 * first (its files hide the lower ones'), then the lower ones in order.
 * The count, or -EINVAL: not an overlay, more than @max layers, or
 * data-only layers (which hold no names: not handled).
 */
int mountinfo_overlay_layers(char *line, char **layers, int max);

#endif
