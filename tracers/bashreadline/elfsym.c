// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "tracers/bashreadline/elfsym.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file and what is left of the read budget. */
struct elf_reader {
	int fd;
	uint64_t budget;
};

/*
 * Reads @len bytes at @off into a new buffer (the caller frees it).
 * -EFBIG past the budget, -ENOEXEC when the file is shorter than its
 * headers say (also when it shrinks while being read).
 */
static int read_at(struct elf_reader *r, uint64_t off, uint64_t len, void **out)
{
	unsigned char *buf;
	uint64_t done = 0;

	*out = NULL;
	if (len > r->budget)
		return -EFBIG;
	if (off > INT64_MAX - len)
		return -ENOEXEC;
	r->budget -= len;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	while (done < len) {
		ssize_t n = pread(r->fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : -ENOEXEC;

			free(buf);
			return e;
		}
		done += (uint64_t)n;
	}
	*out = buf;
	return 0;
}

/* The symbol's virtual address, from the symbol table in section @sh. */
static int find_in_table(struct elf_reader *r, const Elf64_Ehdr *eh, const Elf64_Shdr *shdrs,
			 const Elf64_Shdr *sh, const char *name, uint64_t *vaddr)
{
	const Elf64_Shdr *strsh;
	Elf64_Sym *syms = NULL;
	char *strtab = NULL;
	uint64_t i, n;
	int ret;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_link >= eh->e_shnum)
		return -ENOENT;
	strsh = &shdrs[sh->sh_link];
	n = sh->sh_size / sizeof(Elf64_Sym);
	ret = read_at(r, sh->sh_offset, n * sizeof(Elf64_Sym), (void **)&syms);
	if (!ret)
		ret = read_at(r, strsh->sh_offset, strsh->sh_size, (void **)&strtab);
	for (i = 0; !ret && i < n; i++) {
		const Elf64_Sym *s = &syms[i];
		size_t left;

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || !s->st_value || s->st_shndx == SHN_UNDEF)
			continue;
		if (s->st_name >= strsh->sh_size)
			continue;
		left = strsh->sh_size - s->st_name;
		if (strnlen(strtab + s->st_name, left) == left)
			continue;
		if (strcmp(strtab + s->st_name, name) == 0) {
			*vaddr = s->st_value;
			break;
		}
	}
	if (!ret && i == n)
		ret = -ENOENT;
	free(syms);
	free(strtab);
	/* A table that does not fit the file is no symbol table: look on. */
	return ret == -ENOEXEC ? -ENOENT : ret;
}

static int symbol_offset(struct elf_reader *r, const char *name, uint64_t *offset)
{
	Elf64_Ehdr *eh = NULL;
	Elf64_Shdr *shdrs = NULL;
	Elf64_Phdr *phdrs = NULL;
	uint64_t vaddr = 0;
	int i, ret;

	ret = read_at(r, 0, sizeof(*eh), (void **)&eh);
	if (ret < 0)
		return ret == -EFBIG ? ret : -ENOEXEC;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_phentsize != sizeof(Elf64_Phdr)) {
		ret = -ENOEXEC;
		goto out;
	}
	ret = read_at(r, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), (void **)&shdrs);
	if (!ret)
		ret = read_at(r, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr),
			      (void **)&phdrs);
	if (ret < 0)
		goto out;
	/* .symtab first (stripped binaries lack it), then .dynsym. */
	ret = -ENOENT;
	for (i = 0; i < eh->e_shnum && ret == -ENOENT; i++)
		if (shdrs[i].sh_type == SHT_SYMTAB)
			ret = find_in_table(r, eh, shdrs, &shdrs[i], name, &vaddr);
	for (i = 0; i < eh->e_shnum && ret == -ENOENT; i++)
		if (shdrs[i].sh_type == SHT_DYNSYM)
			ret = find_in_table(r, eh, shdrs, &shdrs[i], name, &vaddr);
	if (ret)
		goto out;
	ret = -ENOENT;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &phdrs[i];

		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && vaddr >= p->p_vaddr &&
		    vaddr - p->p_vaddr < p->p_memsz) {
			*offset = vaddr - p->p_vaddr + p->p_offset;
			ret = 0;
			break;
		}
	}
out:
	free(eh);
	free(shdrs);
	free(phdrs);
	return ret;
}

int elf_symbol_offset_fd(int fd, const char *name, uint64_t *offset)
{
	struct elf_reader r = { .fd = fd, .budget = ELF_READ_MAX };

	return symbol_offset(&r, name, offset);
}

int elf_symbol_offset(const char *path, const char *name, uint64_t *offset)
{
	int fd, r;

	/* O_NONBLOCK: a FIFO put where a binary was expected never blocks the open. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = elf_symbol_offset_fd(fd, name, offset);
	close(fd);
	return r;
}
