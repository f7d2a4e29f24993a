// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "elfsym.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A bounds-checked view of the mapped file. */
struct elf_view {
	const unsigned char *base;
	size_t size;
};

static const void *at(const struct elf_view *v, uint64_t off, uint64_t len)
{
	if (off > v->size || len > v->size - off)
		return NULL;
	return v->base + off;
}

/* The symbol's virtual address, from the symbol table in section @sh. */
static int find_in_table(const struct elf_view *v, const Elf64_Ehdr *eh, const Elf64_Shdr *sh,
			 const char *name, uint64_t *vaddr)
{
	const Elf64_Shdr *strsh;
	const Elf64_Sym *syms;
	const char *strtab;
	uint64_t i, n;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_link >= eh->e_shnum)
		return -ENOENT;
	strsh = at(v, eh->e_shoff + (uint64_t)sh->sh_link * sizeof(Elf64_Shdr), sizeof(*strsh));
	syms = at(v, sh->sh_offset, sh->sh_size);
	strtab = strsh ? at(v, strsh->sh_offset, strsh->sh_size) : NULL;
	if (!syms || !strtab)
		return -ENOENT;
	n = sh->sh_size / sizeof(Elf64_Sym);
	for (i = 0; i < n; i++) {
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
			return 0;
		}
	}
	return -ENOENT;
}

static int symbol_offset(const struct elf_view *v, const char *name, uint64_t *offset)
{
	const Elf64_Ehdr *eh = at(v, 0, sizeof(*eh));
	const Elf64_Shdr *shdrs;
	const Elf64_Phdr *phdrs;
	uint64_t vaddr = 0;
	int i, r = -ENOENT;

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	shdrs = at(v, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr));
	phdrs = at(v, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr));
	if (!shdrs || !phdrs || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_phentsize != sizeof(Elf64_Phdr))
		return -ENOEXEC;
	/* .symtab first (stripped binaries lack it), then .dynsym. */
	for (i = 0; i < eh->e_shnum && r; i++)
		if (shdrs[i].sh_type == SHT_SYMTAB)
			r = find_in_table(v, eh, &shdrs[i], name, &vaddr);
	for (i = 0; i < eh->e_shnum && r; i++)
		if (shdrs[i].sh_type == SHT_DYNSYM)
			r = find_in_table(v, eh, &shdrs[i], name, &vaddr);
	if (r)
		return r;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &phdrs[i];

		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && vaddr >= p->p_vaddr &&
		    vaddr < p->p_vaddr + p->p_memsz) {
			*offset = vaddr - p->p_vaddr + p->p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_symbol_offset(const char *path, const char *name, uint64_t *offset)
{
	struct elf_view v;
	struct stat st;
	void *map;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return -ENOEXEC;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	v = (struct elf_view){ .base = map, .size = st.st_size };
	r = symbol_offset(&v, name, offset);
	munmap(map, st.st_size);
	return r;
}
