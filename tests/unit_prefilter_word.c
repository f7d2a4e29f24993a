// SPDX-License-Identifier: MIT
/*
 * The gate before the in-kernel prefilter's trie (tracers/record.h): the
 * words the daemon writes for the rules' values against the words the BPF
 * program takes from the names it sees, with the functions both share.
 * A name a value matches must always pass; a name that starts like no
 * value is dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracers/record.h"

static uint32_t slots[BPFD_PF_WORD_SLOTS];
static uint32_t lens;	/* BPFD_PF_WORD_LEN bits, one tracer */

struct value {
	const char *text;
	int prefix;
};

/* What prefilter.c's write_words() does for one tracer. */
static int load(const struct value *v, size_t n)
{
	__u64 w;
	size_t i;
	unsigned int len;

	memset(slots, 0, sizeof(slots));
	lens = 0;
	for (i = 0; i < n; i++) {
		len = bpfd_pf_value_word(v[i].text, strlen(v[i].text), v[i].prefix, &w);
		if (len == 0)
			return -1;
		slots[bpfd_pf_word_slot(w, len)] |= 1;
		lens |= BPFD_PF_WORD_LEN(len);
	}
	return 0;
}

/*
 * What the program does with the name copied into the trie key: the key
 * is not cleared between names, so what follows the NUL is left over from
 * longer ones (here 0xaa bytes).
 */
static int gate_passes(const char *name)
{
	unsigned char key[16];
	__u64 w;
	unsigned int n;

	memset(key, 0xaa, sizeof(key));
	memcpy(key, name, strlen(name) + 1 < sizeof(key) ? strlen(name) + 1 : sizeof(key));
	memcpy(&w, key, sizeof(w));
	w = bpfd_pf_word_cut(w);
	for (n = 1; n <= 8; n++)
		if ((lens & BPFD_PF_WORD_LEN(n)) && (slots[bpfd_pf_word_slot(w, n)] & 1))
			return 1;
	return 0;
}

static __u64 word(const char *bytes)
{
	__u64 w = 0;

	memcpy(&w, bytes, 8);
	return w;
}

static void test_cut_zeroes_after_the_first_nul(void **state)
{
	(void)state;
	assert_true(bpfd_pf_word_cut(word("ab\0\xaa\xaa\xaa\xaa\xaa")) == word("ab\0\0\0\0\0\0"));
	assert_true(bpfd_pf_word_cut(word("\0bcdefgh")) == 0);
	assert_true(bpfd_pf_word_cut(word("abcdefg\0")) == word("abcdefg\0"));
	assert_true(bpfd_pf_word_cut(word("abcdefgh")) == word("abcdefgh"));
	/* A zero byte after the first one, and 0x01 bytes that borrow. */
	assert_true(bpfd_pf_word_cut(word("a\0\x01\0\x01\xff\x80\x01")) == word("a\0\0\0\0\0\0\0"));
	assert_true(bpfd_pf_word_cut(word("\x01\x01\0\x01\x01\x01\x01\x01")) ==
		    word("\x01\x01\0\0\0\0\0\0"));
}

static void test_slot_depends_on_the_first_n_bytes_only(void **state)
{
	unsigned int n;

	(void)state;
	for (n = 1; n <= 8; n++) {
		assert_true(bpfd_pf_word_slot(word("/etc/pas"), n) < BPFD_PF_WORD_SLOTS);
		/* The bytes past n do not count. */
		if (n <= 5)
			assert_int_equal(bpfd_pf_word_slot(word("/etc/pas"), n),
					 bpfd_pf_word_slot(word("/etc/XYZ"), n));
	}
	/* The length does: "/etc/" as a 5-byte prefix is not "/etc/\0" cut to 6. */
	assert_int_not_equal(bpfd_pf_word_slot(word("/etc/\0\0\0"), 5),
			     bpfd_pf_word_slot(word("/etc/\0\0\0"), 6));
}

static void test_value_words(void **state)
{
	__u64 w;

	(void)state;
	/* Exact: through the NUL, zeros after it; always the full word. */
	assert_int_equal(bpfd_pf_value_word("ab", 2, 0, &w), 8);
	assert_true(w == word("ab\0\0\0\0\0\0"));
	assert_int_equal(bpfd_pf_value_word("/etc/passwd", 11, 0, &w), 8);
	assert_true(w == word("/etc/pas"));
	assert_int_equal(bpfd_pf_value_word("abcdefg", 7, 0, &w), 8);
	assert_true(w == word("abcdefg\0"));
	/* Prefix: its own bytes, the length its class. */
	assert_int_equal(bpfd_pf_value_word("/ro", 3, 1, &w), 3);
	assert_true(w == word("/ro\0\0\0\0\0"));
	assert_int_equal(bpfd_pf_value_word("/etc/sudoers.d/", 15, 1, &w), 8);
	assert_true(w == word("/etc/sud"));
	/* An empty prefix: every name starts with it, no gate. */
	assert_int_equal(bpfd_pf_value_word("", 0, 1, &w), 0);
}

static const struct value rules[] = {
	{ "/etc/passwd", 0 }, { "/etc/shadow", 0 }, { "ab", 0 },	{ "abcdefg", 0 },
	{ "/etc/sudoers.d/", 1 }, { "/ro", 1 },	    { "/home/u", 1 },
};

static void test_names_a_value_matches_pass(void **state)
{
	static const char *const names[] = {
		"/etc/passwd", "/etc/shadow", "ab", "abcdefg", "/etc/sudoers.d/", "/etc/sudoers.d/x",
		"/ro", "/root/.ssh/authorized_keys", "/home/u", "/home/user/.bashrc",
	};
	size_t i;

	(void)state;
	assert_int_equal(load(rules, sizeof(rules) / sizeof(rules[0])), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!gate_passes(names[i]))
			fail_msg("%s: dropped by the gate", names[i]);
	}
	/* Names that start like a value go on to the trie, which decides. */
	assert_true(gate_passes("/etc/pas"));
	assert_true(gate_passes("/etc/passwd-"));
}

static void test_names_that_start_like_no_value_are_dropped(void **state)
{
	static const char *const names[] = {
		"/tmp/pf/f", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/ld.so.cache", "ab2", "a",
		"abcdefgh", "/r", "/home/", "", "/proc/self/status",
	};
	size_t i;

	(void)state;
	assert_int_equal(load(rules, sizeof(rules) / sizeof(rules[0])), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (gate_passes(names[i]))
			fail_msg("%s: passed the gate", names[i]);
	}
}

static void test_empty_prefix_means_no_gate(void **state)
{
	static const struct value all[] = { { "/etc/passwd", 0 }, { "", 1 } };

	(void)state;
	assert_int_equal(load(all, 2), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_zeroes_after_the_first_nul),
		cmocka_unit_test(test_slot_depends_on_the_first_n_bytes_only),
		cmocka_unit_test(test_value_words),
		cmocka_unit_test(test_names_a_value_matches_pass),
		cmocka_unit_test(test_names_that_start_like_no_value_are_dropped),
		cmocka_unit_test(test_empty_prefix_means_no_gate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
