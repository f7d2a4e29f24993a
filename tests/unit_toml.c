// SPDX-License-Identifier: MIT
/*
 * unit.toml: the TOML reader. Valid documents of every feature with their
 * values, invalid ones with the line and message the user sees, the float
 * and date refusals, the old README's rule, the limits, and random or cut
 * documents that must come back as an error, never a crash.
 * (unit.toml_oracle compares the same reader with python3-tomli.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "lib/toml.h"

/* ---- helpers ---- */

static struct toml_value *parse_okn(const char *text, size_t len)
{
	struct toml_value *root = (struct toml_value *)1;
	struct toml_error err;
	int ret;

	ret = toml_parse(text, len, &root, &err);
	if (ret != 0)
		print_error("unexpected error %d at line %u: %s\n--- document:\n%.*s\n---\n", ret,
			    err.line, err.message, (int)len, text);
	assert_int_equal(ret, 0);
	assert_non_null(root);
	assert_int_equal(root->type, TOML_TABLE);
	return root;
}

static struct toml_value *parse_ok(const char *text)
{
	return parse_okn(text, strlen(text));
}

static void expect_errorn(const char *text, size_t len, unsigned int line, const char *substr)
{
	struct toml_value *root = (struct toml_value *)1;
	struct toml_error err;
	int ret;

	ret = toml_parse(text, len, &root, &err);
	if (ret != -EINVAL || err.line != line || !strstr(err.message, substr))
		print_error("want -EINVAL at line %u with \"%s\"; got %d at line %u: \"%s\"\n"
			    "--- document:\n%.*s\n---\n",
			    line, substr, ret, err.line, err.message, (int)len, text);
	assert_int_equal(ret, -EINVAL);
	assert_null(root);
	assert_int_equal(err.line, line);
	assert_non_null(strstr(err.message, substr));
}

static void expect_error(const char *text, unsigned int line, const char *substr)
{
	expect_errorn(text, strlen(text), line, substr);
}

/* Walks "a.b.c" (bare parts only) from @root. */
static const struct toml_value *at(const struct toml_value *root, const char *path)
{
	char buf[256], *part, *save = NULL;
	const struct toml_value *v = root;

	assert_true(strlen(path) < sizeof(buf));
	strcpy(buf, path);
	for (part = strtok_r(buf, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
		v = toml_get(v, part);
		if (!v)
			print_error("no %s (at %s)\n", path, part);
		assert_non_null(v);
	}
	return v;
}

static void assert_string(const struct toml_value *v, const char *want)
{
	assert_non_null(v);
	assert_int_equal(v->type, TOML_STRING);
	assert_int_equal(v->string.len, strlen(want));
	assert_string_equal(v->string.ptr, want);
}

static void assert_integer(const struct toml_value *v, int64_t want)
{
	assert_non_null(v);
	assert_int_equal(v->type, TOML_INTEGER);
	assert_true(v->integer == want);
}

static void assert_boolean(const struct toml_value *v, bool want)
{
	assert_non_null(v);
	assert_int_equal(v->type, TOML_BOOLEAN);
	assert_int_equal(v->boolean, want);
}

/* The keys of @t in order, joined by commas. */
static void assert_keys(const struct toml_value *t, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	assert_non_null(t);
	assert_int_equal(t->type, TOML_TABLE);
	for (i = 0; i < toml_table_len(t); i++) {
		if (i)
			strbuf_addch(&sb, ',');
		strbuf_add(&sb, toml_table_at(t, i)->key, toml_table_at(t, i)->key_len);
	}
	assert_string_equal(sb.buf ? sb.buf : "", want);
	strbuf_release(&sb);
}

/* ---- documents without values ---- */

static void test_empty_documents(void **state)
{
	static const char *const docs[] = {
		"", "\n", "\n\n\n", "   ", "\t\n  \t\n", "# only a comment", "# c\n# d\n",
		"\r\n", "  # indented\n", "#\n",
	};
	struct toml_value *root;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		root = parse_ok(docs[i]);
		assert_int_equal(toml_table_len(root), 0);
		assert_int_equal(root->line, 1);
		toml_free(root);
	}
	/* A NULL text of length 0 is an empty document too. */
	assert_int_equal(toml_parse(NULL, 0, &root, NULL), 0);
	assert_int_equal(toml_table_len(root), 0);
	toml_free(root);
}

static void test_comments(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("# first\n"
			"a = 1 # after a value\n"
			"b = \"# not a comment\" # but this is\n"
			"c = [ # after [\n"
			"  1, # after an element\n"
			"  # alone\n"
			"  2 # before ]\n"
			"] # after ]\n"
			"[t] # after a header\n"
			"d = 'x#y'#tight\n"
			"[[u]]# after [[u]]\n"
			"# é 日本 \xf0\x9f\x98\x80 and a\ttab\n");
	assert_integer(at(root, "a"), 1);
	assert_string(at(root, "b"), "# not a comment");
	assert_int_equal(toml_array_len(at(root, "c")), 2);
	assert_string(at(root, "t.d"), "x#y");
	assert_int_equal(toml_array_len(at(root, "u")), 1);
	toml_free(root);
}

static void test_comment_errors(void **state)
{
	(void)state;
	expect_error("a = 1\n# \x01\n", 2, "control character U+0001 in a comment");
	expect_error("a = 1 # \x7f\n", 1, "U+007F in a comment");
	expect_error("# a\r b\n", 1, "U+000D in a comment");
	expect_errorn("a = 1\n\n# \0\n", 10, 3, "U+0000 in a comment");
}

/* ---- strings ---- */

static void test_basic_string_escapes(void **state)
{
	struct toml_value *root;
	const struct toml_value *v;

	(void)state;
	root = parse_ok("b = \"a\\bb\"\n"
			"t = \"a\\tb\"\n"
			"n = \"a\\nb\"\n"
			"f = \"a\\fb\"\n"
			"r = \"a\\rb\"\n"
			"q = \"a\\\"b\"\n"
			"bs = \"a\\\\b\"\n"
			"u = \"\\u00e9\\u65E5\\u0041\"\n"
			"U = \"\\U0001F600\\U00000041\\U0010FFFF\"\n"
			"raw = \"tab\there, \xc3\xa9t\xc3\xa9\"\n"
			"nul = \"a\\u0000b\"\n"
			"empty = \"\"\n");
	assert_string(at(root, "b"), "a\bb");
	assert_string(at(root, "t"), "a\tb");
	assert_string(at(root, "n"), "a\nb");
	assert_string(at(root, "f"), "a\fb");
	assert_string(at(root, "r"), "a\rb");
	assert_string(at(root, "q"), "a\"b");
	assert_string(at(root, "bs"), "a\\b");
	assert_string(at(root, "u"), "\xc3\xa9\xe6\x97\xa5" "A");
	assert_string(at(root, "U"), "\xf0\x9f\x98\x80" "A\xf4\x8f\xbf\xbf");
	assert_string(at(root, "raw"), "tab\there, \xc3\xa9t\xc3\xa9");
	assert_string(at(root, "empty"), "");
	/* A NUL from an escape is kept: the length tells. */
	v = at(root, "nul");
	assert_int_equal(v->string.len, 3);
	assert_memory_equal(v->string.ptr, "a\0b", 4);
	toml_free(root);
}

static void test_basic_string_errors(void **state)
{
	(void)state;
	expect_error("a = 1\nb = \"\\q\"\n", 2, "invalid escape sequence \\q");
	expect_error("a = \"\\a\"\n", 1, "invalid escape sequence \\a");
	/* TOML 1.1's \e and \x are not TOML 1.0. */
	expect_error("a = \"\\e\"\n", 1, "invalid escape sequence \\e");
	expect_error("a = \"\\x41\"\n", 1, "invalid escape sequence \\x");
	expect_error("a = \"a\\ b\"\n", 1, "invalid escape sequence: '\\' followed by a space");
	expect_error("a = \"\\u12\"\n", 1, "\\u must be followed by 4 hexadecimal digits");
	expect_error("a = \"\\U1234567\"\n", 1, "\\U must be followed by 8 hexadecimal digits");
	expect_error("a = \"\\uD800\"\n", 1, "\\uD800 is not a Unicode scalar value");
	expect_error("a = \"\\uDFFF\"\n", 1, "is not a Unicode scalar value");
	expect_error("a = \"\\U00110000\"\n", 1, "\\U00110000 is not a Unicode scalar value");
	expect_error("a = \"\\", 1,
	             "invalid escape sequence: '\\' followed by the end of the file");
	expect_error("a = \"abc\nb = 1\n", 1, "unterminated string");
	expect_error("a = \"abc", 1, "unterminated string");
	expect_error("\n\na = \"x\x01y\"\n", 3, "control character U+0001 in a string");
	expect_error("a = \"x\x7fy\"\n", 1, "control character U+007F in a string");
	expect_error("a = \"x\ry\"\n", 1, "control character U+000D in a string");
	expect_errorn("a = \"x\0y\"\n", 10, 1, "control character U+0000 in a string");
}

static void test_multiline_basic_strings(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("a = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n"
			"b = \"\"\"no newline to trim\"\"\"\n"
			"c = \"\"\"\n\n two lines\"\"\"\n"
			"d = \"\"\"\nThe quick brown \\\n\n\n"
			"  fox jumps over \\\n    the lazy dog.\"\"\"\n"
			"e = \"\"\"\\\n       trimmed \\\n       entirely.\\\n       \"\"\"\n"
			"f = \"\"\"ws after \\   \t\n  backslash\"\"\"\n"
			"g = \"\"\"one \" two \"\" three \\\"\\\"\\\"\"\"\"\n"
			"h = \"\"\"x\"\"\"\"\"\n"
			"i = \"\"\"x\"\"\"\"\n"
			"j = \"\"\"\"\"\"\n"
			"k = \"\"\"esc \\u00e9 \\t tab\"\"\"\n"
			"l = \"\"\"\"\"x\"\"\"\n");
	assert_string(at(root, "a"), "Roses are red\nViolets are blue");
	assert_string(at(root, "b"), "no newline to trim");
	assert_string(at(root, "c"), "\n two lines");
	assert_string(at(root, "d"), "The quick brown fox jumps over the lazy dog.");
	assert_string(at(root, "e"), "trimmed entirely.");
	assert_string(at(root, "f"), "ws after backslash");
	assert_string(at(root, "g"), "one \" two \"\" three \"\"\"");
	assert_string(at(root, "h"), "x\"\"");
	assert_string(at(root, "i"), "x\"");
	assert_string(at(root, "j"), "");
	assert_string(at(root, "k"), "esc \xc3\xa9 \t tab");
	assert_string(at(root, "l"), "\"\"x");
	/* The value's line is where the string opens; the next key's line counts the newlines. */
	assert_int_equal(at(root, "d")->line, 8);
	assert_int_equal(toml_get_entry(root, "e")->line, 14);
	toml_free(root);
}

static void test_multiline_basic_errors(void **state)
{
	(void)state;
	expect_error("a = \"\"\"abc\n\n", 3, "unterminated multi-line string (opened on line 1)");
	expect_error("a = \"\"\"a\\   b\"\"\"\n", 1,
		     "only whitespace may follow a line-ending backslash, found 'b'");
	/* Six quotes: the string takes two, the sixth is left over. */
	expect_error("a = \"\"\"x\"\"\"\"\"\"\n", 1, "expected the end of the line after a value");
	expect_error("a = \"\"\"x\ny\x01\"\"\"\n", 2, "control character U+0001 in a string");
	expect_error("a = \"\"\"x\ry\"\"\"\n", 1, "control character U+000D");
	expect_error("a = \"\"\"\n\\q\"\"\"\n", 2, "invalid escape sequence \\q");
	expect_error("a = \"\"\"x\\", 1,
	             "invalid escape sequence: '\\' followed by the end of the file");
	expect_error("a = \"\"\"x\\\n", 2, "unterminated multi-line string (opened on line 1)");
}

static void test_literal_strings(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("winpath = 'C:\\Users\\nodejs\\templates'\n"
			"quoted = 'Tom \"Dubs\" Preston-Werner'\n"
			"regex = '<\\i\\c*\\s*>'\n"
			"tab = 'a\tb'\n"
			"empty = ''\n"
			"ml = '''\nThe first newline is\ntrimmed in raw strings.\n"
			"   All other whitespace\n   is preserved.\n'''\n"
			"ml2 = '''I [dw]on't need \\d{2} apples'''\n"
			"q5 = '''x'''''\n"
			"q4 = '''x''''\n"
			"qq = '''one ' two '' three'''\n"
			"mle = ''''''\n");
	assert_string(at(root, "winpath"), "C:\\Users\\nodejs\\templates");
	assert_string(at(root, "quoted"), "Tom \"Dubs\" Preston-Werner");
	assert_string(at(root, "regex"), "<\\i\\c*\\s*>");
	assert_string(at(root, "tab"), "a\tb");
	assert_string(at(root, "empty"), "");
	assert_string(at(root, "ml"), "The first newline is\ntrimmed in raw strings.\n"
				      "   All other whitespace\n   is preserved.\n");
	assert_string(at(root, "ml2"), "I [dw]on't need \\d{2} apples");
	assert_string(at(root, "q5"), "x''");
	assert_string(at(root, "q4"), "x'");
	assert_string(at(root, "qq"), "one ' two '' three");
	assert_string(at(root, "mle"), "");
	toml_free(root);

	expect_error("a = 'abc\ndef'\n", 1, "unterminated string");
	expect_error("a = 'x\x1by'\n", 1, "control character U+001B in a string");
	expect_error("a = '''abc\n", 2, "unterminated multi-line string (opened on line 1)");
	expect_error("a = '''x\n\x08'''\n", 2, "control character U+0008");
	expect_error("a = '''x''''''\n", 1, "expected the end of the line after a value");
}

/* ---- integers ---- */

static void test_integers(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("a = 0\nb = +0\nc = -0\nd = 42\ne = +99\nf = -17\n"
			"g = 1_000\nh = 5_349_221\ni = 1_2_3_4_5\n"
			"hex = 0xDEADBEEF\nhex2 = 0xdead_beef\nhex3 = 0x00ff\n"
			"oct = 0o01234567\noct2 = 0o755\nbin = 0b11010110\nbin2 = 0b0000_0001\n"
			"max = 9223372036854775807\nmin = -9223372036854775808\n"
			"maxhex = 0x7FFFFFFFFFFFFFFF\nmaxoct = 0o777777777777777777777\n"
			"maxbin = 0b111111111111111111111111111111111111111111111111111111111111111\n"
			"in_array = [1,-2,0x3]\n");
	assert_integer(at(root, "a"), 0);
	assert_integer(at(root, "b"), 0);
	assert_integer(at(root, "c"), 0);
	assert_integer(at(root, "d"), 42);
	assert_integer(at(root, "e"), 99);
	assert_integer(at(root, "f"), -17);
	assert_integer(at(root, "g"), 1000);
	assert_integer(at(root, "h"), 5349221);
	assert_integer(at(root, "i"), 12345);
	assert_integer(at(root, "hex"), 0xDEADBEEF);
	assert_integer(at(root, "hex2"), 0xdeadbeef);
	assert_integer(at(root, "hex3"), 255);
	assert_integer(at(root, "oct"), 01234567);
	assert_integer(at(root, "oct2"), 0755);
	assert_integer(at(root, "bin"), 0xd6);
	assert_integer(at(root, "bin2"), 1);
	assert_integer(at(root, "max"), INT64_MAX);
	assert_integer(at(root, "min"), INT64_MIN);
	assert_integer(at(root, "maxhex"), INT64_MAX);
	assert_integer(at(root, "maxoct"), INT64_MAX);
	assert_integer(at(root, "maxbin"), INT64_MAX);
	assert_integer(toml_array_at(at(root, "in_array"), 1), -2);
	assert_integer(toml_array_at(at(root, "in_array"), 2), 3);
	toml_free(root);
}

static void test_integer_errors(void **state)
{
	(void)state;
	expect_error("a = 012\n", 1, "leading zeros are not allowed");
	expect_error("a = -01\n", 1, "leading zeros are not allowed");
	expect_error("a = +00\n", 1, "leading zeros are not allowed");
	expect_error("a = 0_1\n", 1, "leading zeros are not allowed");
	expect_error("a = 1_\n", 1, "an underscore in a number must sit between digits");
	expect_error("a = 1__2\n", 1, "an underscore in a number must sit between digits");
	expect_error("a = 0x_1\n", 1, "expected a digit, found '_'");
	expect_error("a = 0xff_\n", 1, "an underscore in a number");
	expect_error("a = _1\n", 1, "expected a value, found '_'");
	expect_error("a = +0x1\n", 1, "a sign is not allowed on a hexadecimal, octal or binary");
	expect_error("a = -0b1\n", 1, "a sign is not allowed");
	expect_error("a = 0X1F\n", 1, "invalid integer: unexpected 'X'");
	expect_error("a = 0x\n", 1, "expected a digit, found the end of the line");
	expect_error("a = 0o8\n", 1, "expected a digit, found '8'");
	expect_error("a = 0b102\n", 1, "invalid integer: unexpected '2'");
	expect_error("a = 12ab\n", 1, "invalid integer: unexpected 'a'");
	expect_error("a = --1\n", 1, "expected a number after the sign, found '-'");
	expect_error("a = +\n", 1, "expected a number after the sign, found the end of the line");
	/* Out of 64-bit range: TOML says to refuse what cannot be kept losslessly. */
	expect_error("\na = 9223372036854775808\n", 2, "integer out of range (64-bit signed)");
	expect_error("a = -9223372036854775809\n", 1, "integer out of range");
	expect_error("a = 99999999999999999999999999\n", 1, "integer out of range");
	expect_error("a = 0x8000000000000000\n", 1, "integer out of range");
	expect_error("a = 0xFFFFFFFFFFFFFFFF\n", 1, "integer out of range");
	expect_error("a = 0o1000000000000000000000\n", 1, "integer out of range");
	expect_error("a = 0b1000000000000000000000000000000000000000000000000000000000000000\n", 1,
		     "integer out of range");
	expect_error("a = [\n1,\n18446744073709551616]\n", 3, "integer out of range");
}

/* ---- what rule files refuse ---- */

static void test_floats_rejected(void **state)
{
	static const char *const floats[] = {
		"1.5", "+1.0", "-0.0", "3.1415", "1e5", "1E5", "1e-5", "6.626e-34", "5e+22",
		"1_000.5", "0.1", "224_617.445_991_228", "inf", "+inf", "-inf", "nan", "+nan",
		"-nan", "1.", ".5", "0e0",
	};
	char doc[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		snprintf(doc, sizeof(doc), "# f\nx = %s\n", floats[i]);
		expect_error(doc, 2, "floats are not supported in rule files");
		snprintf(doc, sizeof(doc), "x = [\n  1,\n  %s,\n]\n", floats[i]);
		expect_error(doc, 3, "floats are not supported in rule files");
		snprintf(doc, sizeof(doc), "x = { a = 1, b = %s }\n", floats[i]);
		expect_error(doc, 1, "floats are not supported in rule files");
	}
	/* Words that merely start like inf and nan are not floats; they are unquoted strings. */
	expect_error("x = nano\n", 1, "strings must be quoted");
	expect_error("x = info\n", 1, "strings must be quoted");
}

static void test_dates_rejected(void **state)
{
	static const char *const dates[] = {
		"1979-05-27", "1979-05-27T07:32:00Z", "1979-05-27T00:32:00-07:00",
		"1979-05-27T00:32:00.999999-07:00", "1979-05-27 07:32:00Z", "1979-05-27T07:32:00",
		"07:32:00", "00:32:00.999999", "2000-02-30",
	};
	char doc[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		snprintf(doc, sizeof(doc), "\n\nwhen = %s\n", dates[i]);
		expect_error(doc, 3, "dates and times are not supported in rule files");
		snprintf(doc, sizeof(doc), "when = [%s]\n", dates[i]);
		expect_error(doc, 1, "dates and times are not supported in rule files");
	}
}

/* ---- booleans and bare words ---- */

static void test_booleans(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("t = true\nf = false\nl = [true,false]\ni = {x=true}\nc = true#c\n");
	assert_boolean(at(root, "t"), true);
	assert_boolean(at(root, "f"), false);
	assert_boolean(toml_array_at(at(root, "l"), 0), true);
	assert_boolean(toml_array_at(at(root, "l"), 1), false);
	assert_boolean(at(root, "i.x"), true);
	assert_boolean(at(root, "c"), true);
	toml_free(root);

	expect_error("a = True\n", 1, "expected a value, found 'T' (strings must be quoted)");
	expect_error("a = truely\n", 1, "strings must be quoted");
	expect_error("a = FALSE\n", 1, "strings must be quoted");
	expect_error("tracer = exec\n", 1, "expected a value, found 'e' (strings must be quoted)");
}

/* ---- arrays ---- */

static void test_arrays(void **state)
{
	struct toml_value *root;
	const struct toml_value *a, *b;

	(void)state;
	root = parse_ok("ints = [ 1, 2, 3 ]\n"
			"strs = [ \"a\", 'b', \"\"\"c\"\"\", '''d''' ]\n"
			"nested = [ [ 1, 2 ], [\"a\", [true]] ]\n"
			"mixed = [ 1, \"two\", true, [3], { four = 4 } ]\n"
			"empty = []\n"
			"empty_ws = [ \n\n ]\n"
			"multi = [\n"
			"  1, # one\n"
			"\n"
			"  # a comment line\n"
			"  2\n"
			"  , 3,\n"
			"]\n"
			"trailing = [1,2,]\n"
			"tables = [ { x = 1 }, { x = 2 } ]\n");
	a = at(root, "ints");
	assert_int_equal(a->type, TOML_ARRAY);
	assert_int_equal(toml_array_len(a), 3);
	assert_integer(toml_array_at(a, 2), 3);
	assert_null(toml_array_at(a, 3));
	a = at(root, "strs");
	assert_string(toml_array_at(a, 0), "a");
	assert_string(toml_array_at(a, 1), "b");
	assert_string(toml_array_at(a, 2), "c");
	assert_string(toml_array_at(a, 3), "d");
	a = at(root, "nested");
	assert_int_equal(toml_array_len(a), 2);
	b = toml_array_at(toml_array_at(a, 1), 1);
	assert_int_equal(b->type, TOML_ARRAY);
	assert_boolean(toml_array_at(b, 0), true);
	a = at(root, "mixed");
	assert_int_equal(toml_array_len(a), 5);
	assert_integer(toml_array_at(a, 0), 1);
	assert_string(toml_array_at(a, 1), "two");
	assert_boolean(toml_array_at(a, 2), true);
	assert_int_equal(toml_array_at(a, 3)->type, TOML_ARRAY);
	assert_integer(toml_get(toml_array_at(a, 4), "four"), 4);
	assert_int_equal(toml_array_len(at(root, "empty")), 0);
	assert_int_equal(at(root, "empty")->type, TOML_ARRAY);
	assert_int_equal(toml_array_len(at(root, "empty_ws")), 0);
	a = at(root, "multi");
	assert_int_equal(toml_array_len(a), 3);
	assert_int_equal(a->line, 9);
	assert_int_equal(toml_array_at(a, 0)->line, 10);
	assert_int_equal(toml_array_at(a, 1)->line, 13);
	assert_int_equal(toml_array_at(a, 2)->line, 14);
	assert_int_equal(toml_array_len(at(root, "trailing")), 2);
	assert_integer(toml_get(toml_array_at(at(root, "tables"), 1), "x"), 2);
	/* The line after a multi-line array is counted right. */
	assert_int_equal(toml_get_entry(root, "trailing")->line, 16);
	toml_free(root);
}

static void test_array_errors(void **state)
{
	(void)state;
	expect_error("a = [1, 2\n", 2, "unterminated array (opened on line 1)");
	expect_error("a = [\n1,\n2,\n", 4, "unterminated array (opened on line 1)");
	expect_error("a = [1,,2]\n", 1, "expected a value, found ','");
	expect_error("a = [,1]\n", 1, "expected a value, found ','");
	expect_error("a = [,]\n", 1, "expected a value, found ','");
	expect_error("a = [1 2]\n", 1, "expected ',' or ']' in the array, found '2'");
	expect_error("a = [1\n\n2]\n", 3, "expected ',' or ']' in the array, found '2'");
	expect_error("a = [1]]\n", 1, "expected the end of the line after a value, found ']'");
	expect_error("a = [1 # c ]\n", 2, "unterminated array");
	expect_error("a = [\n  \x01\n]\n", 2, "expected a value, found U+0001");
	expect_error("a = [\n  # \x02\n]\n", 2, "control character U+0002 in a comment");
}

/* ---- tables ---- */

static void test_tables(void **state)
{
	struct toml_value *root;
	const struct toml_value *t;

	(void)state;
	root = parse_ok("top = 1\n"
			"[table-1]\n"
			"key1 = \"some string\"\n"
			"key2 = 123\n"
			"\n"
			"[ a . b . c ]\n"
			"x = 1\n"
			"[ g .  \"h.i\" . 'j k' ]\n"
			"y = 2\n"
			"[empty]\n"
			"[\t\"\xca\x8e\" ]\n"
			"z = 3\n");
	assert_keys(root, "top,table-1,a,g,empty,\xca\x8e");
	t = at(root, "table-1");
	assert_int_equal(t->type, TOML_TABLE);
	assert_int_equal(t->line, 2);
	assert_string(toml_get(t, "key1"), "some string");
	assert_integer(toml_get(t, "key2"), 123);
	assert_integer(at(root, "a.b.c.x"), 1);
	assert_int_equal(at(root, "a")->line, 6);
	assert_int_equal(at(root, "a.b.c")->line, 6);
	t = toml_get(toml_get(at(root, "g"), "h.i"), "j k");
	assert_integer(toml_get(t, "y"), 2);
	assert_int_equal(toml_table_len(at(root, "empty")), 0);
	assert_integer(toml_get(toml_get(root, "\xca\x8e"), "z"), 3);
	toml_free(root);
}

static void test_implicit_super_tables(void **state)
{
	struct toml_value *root;
	const struct toml_value *x;

	(void)state;
	/* TOML 1.0: [x.y.z.w] makes x, x.y, x.y.z; [x] may still come after. */
	root = parse_ok("[x.y.z.w]\na = 1\n\n[x]\nb = 2\n[x.y.other]\n");
	x = at(root, "x");
	assert_keys(x, "y,b");
	assert_int_equal(x->line, 4);
	assert_int_equal(toml_get_entry(root, "x")->line, 4);
	assert_integer(at(root, "x.y.z.w.a"), 1);
	assert_integer(at(root, "x.b"), 2);
	assert_int_equal(at(root, "x.y")->line, 1);
	toml_free(root);

	/* Tables in any order. */
	root = parse_ok("[fruit.apple]\n[animal]\n[fruit.orange]\n");
	assert_keys(root, "fruit,animal");
	assert_keys(at(root, "fruit"), "apple,orange");
	toml_free(root);

	/* Dotted keys may fill a table that a header only named in passing (as tomli does). */
	root = parse_ok("[a.b.c]\nx = 1\n[a]\nb.d = 2\n");
	assert_integer(at(root, "a.b.d"), 2);
	assert_integer(at(root, "a.b.c.x"), 1);
	toml_free(root);
}

static void test_array_of_tables(void **state)
{
	struct toml_value *root;
	const struct toml_value *a, *fruit;

	(void)state;
	root = parse_ok("[[products]]\n"
			"name = \"Hammer\"\n"
			"sku = 738594937\n"
			"\n"
			"[[products]]  # empty\n"
			"\n"
			"[[products]]\n"
			"name = \"Nail\"\n"
			"color = \"gray\"\n");
	a = at(root, "products");
	assert_int_equal(a->type, TOML_ARRAY);
	assert_int_equal(toml_array_len(a), 3);
	assert_int_equal(a->line, 1);
	assert_string(toml_get(toml_array_at(a, 0), "name"), "Hammer");
	assert_integer(toml_get(toml_array_at(a, 0), "sku"), 738594937);
	assert_int_equal(toml_table_len(toml_array_at(a, 1)), 0);
	assert_int_equal(toml_array_at(a, 1)->line, 5);
	assert_string(toml_get(toml_array_at(a, 2), "color"), "gray");
	toml_free(root);

	root = parse_ok("[[fruits]]\n"
			"name = \"apple\"\n"
			"[fruits.physical]\n"
			"color = \"red\"\n"
			"[[fruits.varieties]]\n"
			"name = \"red delicious\"\n"
			"[[fruits.varieties]]\n"
			"name = \"granny smith\"\n"
			"[[fruits]]\n"
			"name = \"banana\"\n"
			"[[fruits.varieties]]\n"
			"name = \"plantain\"\n"
			"[fruits.physical]\n"
			"color = \"yellow\"\n");
	a = at(root, "fruits");
	assert_int_equal(toml_array_len(a), 2);
	fruit = toml_array_at(a, 0);
	assert_keys(fruit, "name,physical,varieties");
	assert_string(toml_get(toml_get(fruit, "physical"), "color"), "red");
	assert_int_equal(toml_array_len(toml_get(fruit, "varieties")), 2);
	assert_string(toml_get(toml_array_at(toml_get(fruit, "varieties"), 1), "name"),
		      "granny smith");
	fruit = toml_array_at(a, 1);
	assert_int_equal(toml_array_len(toml_get(fruit, "varieties")), 1);
	assert_string(toml_get(toml_get(fruit, "physical"), "color"), "yellow");
	toml_free(root);

	/* [[a.b]] then [a]: a was only named. */
	root = parse_ok("[[a.b]]\nx = 1\n[a]\ny = 2\n");
	assert_integer(toml_get(toml_array_at(at(root, "a.b"), 0), "x"), 1);
	assert_integer(at(root, "a.y"), 2);
	toml_free(root);
}

/* ---- keys ---- */

static void test_dotted_and_quoted_keys(void **state)
{
	struct toml_value *root;
	const struct toml_value *v;
	const struct toml_entry *e;

	(void)state;
	root = parse_ok("name = \"Orange\"\n"
			"physical.color = \"orange\"\n"
			"physical.shape = \"round\"\n"
			"site.\"google.com\" = true\n"
			"fruit . flavor = \"banana\"\n"
			"fruit.\tcolor=\"yellow\"\n"
			"\"127.0.0.1\" = \"value\"\n"
			"'key2' = 'v'\n"
			"\"\" = \"blank\"\n"
			"'quoted \"value\"' = 1\n"
			"\"\\u00e9t\\u00e9\" = \"summer\"\n"
			"'\\u00e9' = \"literal\"\n"
			"1234 = 1\n"
			"3.14159 = \"pi\"\n"
			"- = 2\n"
			"_ = 3\n"
			"true = 4\n"
			"inf = 5\n"
			"1979-05-27 = 6\n"
			"\"a\\u0000b\" = 7\n");
	assert_keys(at(root, "physical"), "color,shape");
	assert_boolean(toml_get(at(root, "site"), "google.com"), true);
	assert_string(at(root, "fruit.flavor"), "banana");
	assert_string(at(root, "fruit.color"), "yellow");
	assert_string(toml_get(root, "127.0.0.1"), "value");
	assert_string(toml_get(root, "key2"), "v");
	assert_string(toml_get(root, ""), "blank");
	assert_integer(toml_get(root, "quoted \"value\""), 1);
	assert_string(toml_get(root, "\xc3\xa9t\xc3\xa9"), "summer");
	assert_string(toml_get(root, "\\u00e9"), "literal");
	assert_integer(toml_get(root, "1234"), 1);
	assert_string(at(root, "3.14159"), "pi");
	assert_integer(toml_get(root, "-"), 2);
	assert_integer(toml_get(root, "_"), 3);
	assert_integer(toml_get(root, "true"), 4);
	assert_integer(toml_get(root, "inf"), 5);
	assert_integer(toml_get(root, "1979-05-27"), 6);
	/* A key holding a NUL is found by length only. */
	v = toml_getn(root, "a\0b", 3);
	assert_integer(v, 7);
	assert_null(toml_get(root, "a"));
	/* Dotted keys made tables, defined on the key's line. */
	v = at(root, "physical");
	assert_int_equal(v->type, TOML_TABLE);
	assert_int_equal(v->line, 2);
	e = toml_get_entry(root, "fruit");
	assert_int_equal(e->line, 5);
	toml_free(root);
}

static void test_key_errors(void **state)
{
	(void)state;
	expect_error("= 1\n", 1, "expected a key, found '='");
	expect_error("a\n", 1, "expected '=' after the key a, found the end of the line");
	expect_error("a\n= 1\n", 1, "expected '=' after the key a");
	expect_error("a 1\n", 1, "expected '=' after the key a, found '1'");
	expect_error("a/b = 1\n", 1, "expected '=' after the key a, found '/'");
	expect_error("a. = 1\n", 1, "expected a key, found '='");
	expect_error(".a = 1\n", 1, "expected a key, found '.'");
	expect_error("a..b = 1\n", 1, "expected a key, found '.'");
	expect_error("\"\"\"a\"\"\" = 1\n", 1, "a multi-line string cannot be a key");
	expect_error("'''a''' = 1\n", 1, "a multi-line string cannot be a key");
	expect_error("\"a\nb\" = 1\n", 1, "unterminated string");
	expect_error("\"\\q\" = 1\n", 1, "invalid escape sequence \\q");
	expect_error("a =\n", 1, "expected a value, found the end of the line");
	expect_error("a = ", 1, "expected a value, found the end of the file");
	expect_error("a =\n1\n", 1, "expected a value");
	expect_error("a = 1 b = 2\n", 1, "expected the end of the line after a value, found 'b'");
	expect_error("a = \"x\" \"y\"\n", 1, "expected the end of the line after a value");
	expect_error("\xc3\xa9 = 1\n", 1, "expected a key, found U+00E9");
	expect_error("a = 1\n\xef\xbc\x9d = 2\n", 2, "expected a key, found U+FF1D");
}

/* ---- inline tables ---- */

static void test_inline_tables(void **state)
{
	struct toml_value *root;
	const struct toml_value *t;

	(void)state;
	root = parse_ok("name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
			"point = { x = 1, y = 2 }\n"
			"animal = { type.name = \"pug\" }\n"
			"empty = {}\n"
			"empty_ws = {   }\n"
			"compact = {a=1,b=2}\n"
			"nested = { b = { c = { d = 1 } }, e = [ { f = 2 } ] }\n"
			"dotted = { b.c = 1, b.d = 2, e.\"f g\".h = 3 }\n"
			"spans = { list = [\n  1,\n  2,\n], after = true }\n"
			"next = 1\n");
	t = at(root, "name");
	assert_int_equal(t->type, TOML_TABLE);
	assert_keys(t, "first,last");
	assert_string(toml_get(t, "last"), "Preston-Werner");
	assert_integer(at(root, "point.y"), 2);
	assert_string(at(root, "animal.type.name"), "pug");
	assert_int_equal(toml_table_len(at(root, "empty")), 0);
	assert_int_equal(toml_table_len(at(root, "empty_ws")), 0);
	assert_keys(at(root, "compact"), "a,b");
	assert_integer(at(root, "nested.b.c.d"), 1);
	assert_integer(toml_get(toml_array_at(at(root, "nested.e"), 0), "f"), 2);
	assert_keys(at(root, "dotted"), "b,e");
	assert_keys(at(root, "dotted.b"), "c,d");
	assert_integer(toml_get(toml_get(at(root, "dotted.e"), "f g"), "h"), 3);
	assert_int_equal(toml_array_len(at(root, "spans.list")), 2);
	assert_boolean(at(root, "spans.after"), true);
	assert_int_equal(toml_get_entry(root, "next")->line, 13);
	toml_free(root);
}

static void test_inline_table_errors(void **state)
{
	(void)state;
	expect_error("a = {b = 1,}\n", 1, "a trailing comma is not allowed in an inline table");
	expect_error("a = {\nb = 1}\n", 1, "expected a key, found the end of the line");
	expect_error("a = {b = 1\n}\n", 1, "unterminated inline table (opened on line 1");
	expect_error("a = { b = 1 # c\n}\n", 1, "unterminated inline table");
	expect_error("a = { b = 1 c = 2 }\n", 1,
	             "expected ',' or '}' in the inline table, found 'c'");
	expect_error("a = {b = 1, b = 2}\n", 1, "key b is defined twice (first on line 1)");
	expect_error("a = {b.c = 1, b = 2}\n", 1, "key b is defined twice");
	expect_error("a = {b = 1, b.c = 2}\n", 1, "cannot set b.c: b is already an integer");
	expect_error("a = {b = {c = 1}, b.d = 2}\n", 1,
		     "cannot set b.d: b is an inline table (line 1), which cannot be extended");
	expect_error("a = {,}\n", 1, "expected a key, found ','");
	expect_error("a = {b = [\n1]\nc = 2}\n", 2, "unterminated inline table (opened on line 1");
	expect_error("a = {b = 1", 1, "unterminated inline table");
}

/* ---- TOML's rules against defining things twice ---- */

static void test_redefinition_errors(void **state)
{
	(void)state;
	/* Keys. */
	expect_error("a = 1\na = 2\n", 2, "key a is defined twice (first on line 1)");
	expect_error("a = 1\n\"a\" = 2\n", 2, "key a is defined twice");
	expect_error("a = 1\n'a' = 2\n", 2, "key a is defined twice");
	expect_error("a.b = 1\na.b = 2\n", 2, "key a.b is defined twice (first on line 1)");
	expect_error("a = 1\na.b = 2\n", 2, "cannot set a.b: a is already an integer (line 1)");
	expect_error("a.b = 1\na = 2\n", 2, "key a is defined twice (first on line 1)");
	expect_error("a = [1]\na.b = 2\n", 2, "cannot set a.b: a is already an array (line 1)");
	expect_error("[t]\nx = 1\n\n\nx = 2\n", 5, "key x is defined twice (first on line 2)");
	/* Tables. */
	expect_error("[a]\nx = 1\n[a]\ny = 2\n", 3, "table [a] is defined twice (first on line 1)");
	expect_error("[a.b]\n[a]\n[a]\n", 3, "table [a] is defined twice (first on line 2)");
	expect_error("[a.b]\n[a.b]\n", 2, "table [a.b] is defined twice");
	expect_error("a = 1\n[a]\n", 2,
	             "cannot define table [a]: it is already an integer (line 1)");
	expect_error("[a]\nb = 1\n[a.b]\n", 3,
		     "cannot define table [a.b]: it is already an integer (line 2)");
	expect_error("a = 1\n[a.b]\n", 2, "cannot define [a.b]: a is already an integer (line 1)");
	/* Inline tables are complete as written. */
	expect_error("a = {}\n[a]\n", 2, "cannot define table [a]: it is already an inline table");
	expect_error("a = {b = 1}\na.c = 2\n", 2,
		     "cannot set a.c: a is an inline table (line 1), which cannot be extended");
	expect_error("a = {b = 1}\n[a.c]\n", 2,
	             "cannot define [a.c]: a is already an inline table");
	expect_error("a = {b = {}}\n[a.b.c]\n", 2, "a is already an inline table");
	expect_error("[t]\na = {b = 1}\n[t.a.c]\n", 3, "a is already an inline table");
	/* Dotted keys and table headers. */
	expect_error("[fruit]\napple.color = \"red\"\n[fruit.apple]\n", 3,
		     "table [fruit.apple] is already defined by dotted keys (line 2)");
	expect_error("[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]\n", 3,
		     "table [fruit.apple.taste] is already defined by dotted keys (line 2)");
	expect_error("a.b = 1\n[a]\n", 2, "table [a] is already defined by dotted keys (line 1)");
	expect_error("[a.b]\nc = 1\n[a]\nb.d = 2\n", 4,
		     "cannot set b.d: b is a table with its own header (line 1)");
	expect_error("[a.b.c]\n[a]\nb.d = 1\n[a.b]\n", 4,
		     "table [a.b] is already defined by dotted keys (line 3)");
	expect_error("[a.b.c]\n[a]\nb.c.d = 1\n", 3, "b.c is a table with its own header");
	/* Arrays of tables. */
	expect_error("[a]\n[[a]]\n", 2,
		     "cannot define array of tables [[a]]: it is already a table (line 1)");
	expect_error("[[a]]\n[a]\n", 2,
		     "cannot define table [a]: it is already an array of tables (line 1)");
	expect_error("a = []\n[[a]]\n", 2, "[[a]]: it is already an array (line 1)");
	expect_error("a = [{}]\n[a.b]\n", 2, "cannot define [a.b]: a is already an array (line 1)");
	expect_error("[[a.b]]\n[a]\nb.c = 1\n", 3,
	             "cannot set b.c: b is already an array of tables");
	expect_error("[[a]]\n[a.b]\n[[a.b]]\n", 3, "it is already a table (line 2)");
	expect_error("[[a]]\n[[a.b]]\n[a.b]\n", 3, "it is already an array of tables (line 2)");
	expect_error("a.b = 1\n[[a.b]]\n", 2, "it is already an integer (line 1)");
}

static void test_allowed_combinations(void **state)
{
	struct toml_value *root;

	(void)state;
	/* Sub-tables under dotted-key tables (the TOML 1.0 fruit example). */
	root = parse_ok("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
			"[fruit.apple.texture]\nsmooth = true\n");
	assert_keys(at(root, "fruit.apple"), "color,taste,texture");
	assert_boolean(at(root, "fruit.apple.texture.smooth"), true);
	toml_free(root);

	/* Dotted keys at the top, then headers under them. */
	root = parse_ok("a.b.c = 1\na.d = 2\n[a.e]\nf = 3\n[a.b.g]\nh = 4\n");
	assert_keys(at(root, "a"), "b,d,e");
	assert_keys(at(root, "a.b"), "c,g");
	toml_free(root);

	/* Each element of an array of tables is a fresh table. */
	root = parse_ok("[[a]]\n[a.b]\nx = 1\nc.d = 1\n[[a]]\n[a.b]\nx = 2\nc.d = 2\n");
	assert_integer(toml_get(toml_get(toml_array_at(at(root, "a"), 1), "b"), "x"), 2);
	assert_integer(at(toml_get(toml_array_at(at(root, "a"), 1), "b"), "c.d"), 2);
	toml_free(root);

	/* A quoted dot is part of the name, not a separator. */
	root = parse_ok("[\"a.b\"]\nx = 1\n[a.b]\nx = 2\n");
	assert_integer(toml_get(toml_get(root, "a.b"), "x"), 1);
	assert_integer(at(root, "a.b.x"), 2);
	toml_free(root);
}

static void test_header_errors(void **state)
{
	(void)state;
	expect_error("[a\nb = 1\n", 1, "expected ']' after [a, found the end of the line");
	expect_error("[]\n", 1, "expected a key, found ']'");
	expect_error("[a.]\n", 1, "expected a key, found ']'");
	expect_error("[.a]\n", 1, "expected a key, found '.'");
	expect_error("[a..b]\n", 1, "expected a key, found '.'");
	expect_error("[[a] ]\n", 1, "expected ']]' after [[a, found a space");
	expect_error("[[a]\n", 1, "expected ']]' after [[a, found the end of the line");
	expect_error("[ [a]]\n", 1, "expected a key, found '['");
	expect_error("[a] b = 1\n", 1,
	             "expected the end of the line after a table header, found 'b'");
	expect_error("[a]]\n", 1, "expected the end of the line after a table header, found ']'");
	expect_error("[\"\"\"a\"\"\"]\n", 1, "a multi-line string cannot be a key");
	expect_error("x = 1\n\n[a b]\n", 3, "expected ']' after [a, found 'b'");
}

/* ---- lines, encoding ---- */

static void test_lines(void **state)
{
	struct toml_value *root;
	const struct toml_entry *e;

	(void)state;
	root = parse_ok("# header comment\n"
			"\n"
			"a = 1\n"
			"b = '''\n"
			"x\n"
			"y'''\n"
			"c = [\n"
			"  2,\n"
			"]\n"
			"[t]\n"
			"d = { e = 3 }\n"
			"[[u]]\n"
			"f.g = 4\n");
	e = toml_get_entry(root, "a");
	assert_int_equal(e->line, 3);
	assert_int_equal(e->value->line, 3);
	assert_int_equal(toml_get_entry(root, "b")->line, 4);
	assert_int_equal(toml_get_entry(root, "c")->line, 7);
	assert_int_equal(toml_array_at(at(root, "c"), 0)->line, 8);
	assert_int_equal(toml_get_entry(root, "t")->line, 10);
	assert_int_equal(at(root, "t")->line, 10);
	assert_int_equal(toml_get_entry(at(root, "t"), "d")->line, 11);
	assert_int_equal(at(root, "t.d")->line, 11);
	assert_int_equal(toml_get_entry(at(root, "t.d"), "e")->line, 11);
	assert_int_equal(toml_array_at(at(root, "u"), 0)->line, 12);
	assert_int_equal(toml_get_entry(toml_array_at(at(root, "u"), 0), "f")->line, 13);
	toml_free(root);
}

static void test_utf8(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("a = \"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"\n"
			"# \xc2\x80 \xef\xbf\xbf\n");
	assert_string(at(root, "a"), "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
	toml_free(root);

	expect_error("a = 1\nb = \"\xff\"\n", 2, "invalid UTF-8 (byte 0xff)");
	expect_error("a = \"\xc0\xaf\"\n", 1, "invalid UTF-8 (byte 0xc0)");
	expect_error("a = \"\xe0\x80\xaf\"\n", 1, "invalid UTF-8");
	expect_error("a = \"\xed\xa0\x80\"\n", 1, "invalid UTF-8 (byte 0xed)");
	expect_error("a = \"\xf4\x90\x80\x80\"\n", 1, "invalid UTF-8");
	expect_error("a = \"\xe6\x97\"\n", 1, "invalid UTF-8");
	expect_error("a = 1\n\n# \x80\n", 3, "invalid UTF-8 (byte 0x80)");
	expect_error("a = \"\xe6", 1, "invalid UTF-8");
	expect_error("\xef\xbb\xbf" "a = 1\n", 1, "a byte order mark is not allowed");
}

static void test_crlf(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("a = 1\r\n"
			"b = \"\"\"\r\nline one\r\nline two\r\n\"\"\"\r\n"
			"c = '''\r\nx\r\n'''\r\n"
			"d = \"\"\"one \\\r\n   two\"\"\"\r\n"
			"[t] # c\r\n"
			"e = [\r\n  1,\r\n]\r\n");
	assert_integer(at(root, "a"), 1);
	/* CRLF in a multi-line string reads as LF, as in tomli. */
	assert_string(at(root, "b"), "line one\nline two\n");
	assert_string(at(root, "c"), "x\n");
	assert_string(at(root, "d"), "one two");
	assert_int_equal(toml_get_entry(root, "t")->line, 11);
	assert_int_equal(toml_array_len(at(root, "t.e")), 1);
	toml_free(root);

	expect_error("a = 1\rb = 2\n", 1, "a carriage return must be followed by a newline");
	expect_error("a = 1\n\r\n\rb = 2\n", 3, "expected a key, found U+000D");
}

/* ---- the rules of docs/rules.md and the old README ---- */

static void test_old_readme_rule(void **state)
{
	/* Byte for byte the layout of the original bpfd README's example. */
	static const char rule[] =
		"tracer = \"exec\"\n"
		"actions = [\"stdout\"]\n"
		"[filterEvents]\n"
		"[filterEvents.command]\n"
		"values = [\"sshd\", \"dbus-daemon-lau\", \"ping\", \"ping6\", "
		"\"critical-stack-\", \"pmmcli\", \"filemng\", \"PassengerAgent\", \"bwrap\", "
		"\"osdetect\", \"nginxmng\", \"sw-engine-fpm\", \"start-stop-daem\"]\n"
		"containerRuntimes = [\"docker\",\"kube\"]\n";
	static const char *const commands[] = {
		"sshd", "dbus-daemon-lau", "ping", "ping6", "critical-stack-", "pmmcli",
		"filemng", "PassengerAgent", "bwrap", "osdetect", "nginxmng", "sw-engine-fpm",
		"start-stop-daem",
	};
	struct toml_value *root = parse_ok(rule);
	const struct toml_value *filter, *cmd, *values, *runtimes;
	size_t i;

	(void)state;
	assert_keys(root, "tracer,actions,filterEvents");
	assert_string(at(root, "tracer"), "exec");
	assert_int_equal(toml_array_len(at(root, "actions")), 1);
	assert_string(toml_array_at(at(root, "actions"), 0), "stdout");
	filter = at(root, "filterEvents");
	assert_keys(filter, "command");
	assert_int_equal(filter->line, 3);
	cmd = toml_get(filter, "command");
	assert_int_equal(cmd->line, 4);
	/* In TOML, containerRuntimes after the header belongs to filterEvents.command. */
	assert_keys(cmd, "values,containerRuntimes");
	values = toml_get(cmd, "values");
	assert_int_equal(toml_array_len(values), sizeof(commands) / sizeof(commands[0]));
	for (i = 0; i < toml_array_len(values); i++)
		assert_string(toml_array_at(values, i), commands[i]);
	runtimes = toml_get(cmd, "containerRuntimes");
	assert_int_equal(toml_get_entry(cmd, "containerRuntimes")->line, 6);
	assert_int_equal(toml_array_len(runtimes), 2);
	assert_string(toml_array_at(runtimes, 0), "docker");
	assert_string(toml_array_at(runtimes, 1), "kube");
	assert_null(toml_get(root, "containerRuntimes"));
	toml_free(root);
}

static void test_spec_rule(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("name = \"setuid_binaries\"        # optional\n"
			"tracer = \"exec\"                 # required\n"
			"actions = [\"stdout\"]            # names of actions\n"
			"containerRuntimes = [\"docker\", \"kube\"]   # optional\n"
			"\n"
			"[filterEvents.command]          # a filter on a data key\n"
			"values = [\"sshd\", \"ping\"]       # globs too\n"
			"[filterEvents.uid]\n"
			"values = [\">=1000\", 0]\n"
			"exclude = [\"65534\"]\n");
	assert_keys(root, "name,tracer,actions,containerRuntimes,filterEvents");
	assert_keys(at(root, "filterEvents"), "command,uid");
	assert_int_equal(at(root, "filterEvents")->line, 6);
	assert_string(toml_array_at(at(root, "filterEvents.uid.values"), 0), ">=1000");
	assert_integer(toml_array_at(at(root, "filterEvents.uid.values"), 1), 0);
	assert_int_equal(toml_get_entry(at(root, "filterEvents.uid"), "exclude")->line, 10);
	toml_free(root);
}

/* ---- the API around the tree ---- */

static void test_lookup_api(void **state)
{
	struct toml_value *root = parse_ok("a = 1\nb = [1, 2]\n[t]\nx = 'y'\n");
	struct toml_error err;

	(void)state;
	assert_null(toml_get(NULL, "a"));
	assert_null(toml_get(at(root, "a"), "a"));
	assert_null(toml_get(root, "missing"));
	assert_null(toml_get_entry(NULL, "a"));
	assert_null(toml_get_entry(at(root, "b"), "a"));
	assert_int_equal(toml_get_entry(root, "t")->value->type, TOML_TABLE);
	assert_int_equal(toml_table_len(NULL), 0);
	assert_int_equal(toml_table_len(at(root, "b")), 0);
	assert_int_equal(toml_table_len(root), 3);
	assert_string_equal(toml_table_at(root, 2)->key, "t");
	assert_int_equal(toml_table_at(root, 2)->key_len, 1);
	assert_null(toml_table_at(root, 3));
	assert_null(toml_table_at(NULL, 0));
	assert_int_equal(toml_array_len(NULL), 0);
	assert_int_equal(toml_array_len(root), 0);
	assert_null(toml_array_at(root, 0));
	assert_null(toml_array_at(at(root, "b"), 2));
	assert_string_equal(toml_type_name(TOML_STRING), "string");
	assert_string_equal(toml_type_name(TOML_INTEGER), "integer");
	assert_string_equal(toml_type_name(TOML_BOOLEAN), "boolean");
	assert_string_equal(toml_type_name(TOML_ARRAY), "array");
	assert_string_equal(toml_type_name(TOML_TABLE), "table");
	toml_free(root);
	toml_free(NULL);

	/* @err may be NULL; the return value still tells. */
	root = (struct toml_value *)1;
	assert_int_equal(toml_parse("a = ", 4, &root, NULL), -EINVAL);
	assert_null(root);
	/* The text need not be NUL-terminated: only @len bytes count. */
	root = parse_okn("a = 12345", 6);
	assert_integer(at(root, "a"), 12);
	toml_free(root);
	/* A success clears the error. */
	strcpy(err.message, "stale");
	err.line = 9;
	assert_int_equal(toml_parse("a = 1", 5, &root, &err), 0);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.message, "");
	toml_free(root);
}

static void test_many_keys(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	struct toml_value *root;
	char key[32];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++)
		strbuf_addf(&doc, "k%d = %d\n", i, i);
	strbuf_addstr(&doc, "[t]\n");
	for (i = 0; i < 100; i++)
		strbuf_addf(&doc, "a%d.b = %d\n", i % 50, i);
	/* a0..a49 once each, then again: the second round is a duplicate of .b */
	expect_errorn(doc.buf, doc.len, 20000 + 1 + 51,
	              "key a0.b is defined twice (first on line 20002)");
	strbuf_reset(&doc);
	for (i = 0; i < 20000; i++)
		strbuf_addf(&doc, "k%d = %d\n", i, i);
	root = parse_okn(doc.buf, doc.len);
	assert_int_equal(toml_table_len(root), 20000);
	for (i = 0; i < 20000; i += 7) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_integer(toml_get(root, key), i);
		assert_int_equal(toml_get_entry(root, key)->line, (unsigned int)i + 1);
	}
	assert_string_equal(toml_table_at(root, 12345)->key, "k12345");
	assert_null(toml_get(root, "k20000"));
	toml_free(root);
	/* A duplicate among many keys is still found. */
	strbuf_addstr(&doc, "k777 = 0\n");
	expect_errorn(doc.buf, doc.len, 20001, "key k777 is defined twice (first on line 778)");
	strbuf_release(&doc);
}

static void test_limits(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	struct toml_value *root;
	struct toml_error err;
	int i;

	(void)state;
	/* 64 nested arrays are fine, 65 are not. */
	strbuf_addstr(&doc, "a = ");
	for (i = 0; i < TOML_MAX_DEPTH; i++)
		strbuf_addch(&doc, '[');
	for (i = 0; i < TOML_MAX_DEPTH; i++)
		strbuf_addch(&doc, ']');
	root = parse_okn(doc.buf, doc.len);
	toml_free(root);
	strbuf_reset(&doc);
	strbuf_addstr(&doc, "a = ");
	for (i = 0; i < TOML_MAX_DEPTH + 1; i++)
		strbuf_addch(&doc, '[');
	expect_errorn(doc.buf, doc.len, 1, "tables and arrays nest deeper than 64 levels");

	/* Deep inline tables, deep without closing: never a stack overflow. */
	strbuf_reset(&doc);
	strbuf_addstr(&doc, "a = ");
	for (i = 0; i < 100000; i++)
		strbuf_addstr(&doc, "{b=");
	expect_errorn(doc.buf, doc.len, 1, "nest deeper than 64 levels");
	strbuf_reset(&doc);
	for (i = 0; i < 100000; i++)
		strbuf_addch(&doc, '[');
	expect_errorn(doc.buf, doc.len, 1, "expected a key, found '['");
	strbuf_reset(&doc);
	strbuf_addstr(&doc, "a=\n");
	for (i = 0; i < 100000; i++)
		strbuf_addstr(&doc, "[\n");
	expect_errorn(doc.buf, doc.len, 1, "expected a value");
	strbuf_reset(&doc);
	strbuf_addstr(&doc, "a=[\n");
	for (i = 0; i < 100000; i++)
		strbuf_addstr(&doc, "[\n");
	expect_errorn(doc.buf, doc.len, 65, "nest deeper than 64 levels");

	/* Headers and dotted keys count too: a table 64 deep holds scalars, not a table. */
	strbuf_reset(&doc);
	strbuf_addstr(&doc, "[t1");
	for (i = 2; i <= TOML_MAX_DEPTH - 1; i++)
		strbuf_addf(&doc, ".t%d", i);
	strbuf_addstr(&doc, "]\nx.y = 1\n");
	root = parse_okn(doc.buf, doc.len);
	toml_free(root);
	strbuf_addstr(&doc, "z.w.v = 1\n");
	expect_errorn(doc.buf, doc.len, 3, "nest deeper than 64 levels");
	strbuf_reset(&doc);
	for (i = 0; i < TOML_MAX_DEPTH + 1; i++)
		strbuf_addstr(&doc, i ? ".k" : "k");
	strbuf_addstr(&doc, " = 1\n");
	expect_errorn(doc.buf, doc.len, 1, "a key has more than 64 parts");
	strbuf_reset(&doc);
	strbuf_addstr(&doc, "[[a");
	for (i = 1; i < TOML_MAX_DEPTH; i++)
		strbuf_addstr(&doc, ".a");
	strbuf_addstr(&doc, "]]\n");
	expect_errorn(doc.buf, doc.len, 1, "nest deeper than 64 levels");

	/* Size: TOML_MAX_INPUT is accepted, one byte more is refused before parsing. */
	strbuf_reset(&doc);
	strbuf_addch(&doc, '#');
	while (doc.len < TOML_MAX_INPUT)
		strbuf_addch(&doc, 'x');
	root = parse_okn(doc.buf, doc.len);
	toml_free(root);
	strbuf_addch(&doc, '\n');
	root = (struct toml_value *)1;
	assert_int_equal(toml_parse(doc.buf, doc.len, &root, &err), -EFBIG);
	assert_null(root);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.message, "larger than 1048576 bytes"));
	strbuf_release(&doc);
}

/* True when @s is valid UTF-8 (the message may go into JSON replies). */
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p < 0x80) {
			p++;
		} else if ((*p & 0xe0) == 0xc0) {
			if ((p[1] & 0xc0) != 0x80)
				return false;
			p += 2;
		} else if ((*p & 0xf0) == 0xe0) {
			if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
				return false;
			p += 3;
		} else if ((*p & 0xf8) == 0xf0) {
			if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
				return false;
			p += 4;
		} else {
			return false;
		}
	}
	return true;
}

static void test_error_messages_bounded(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	struct toml_value *root;
	struct toml_error err;
	int i;

	(void)state;
	/* A long key of multi-byte characters: clipped, marked, still UTF-8. */
	for (i = 0; i < 1000; i++) {
		if (i % 500 == 0)
			strbuf_addch(&doc, '"');
		strbuf_addstr(&doc, "\xe6\x97\xa5");
		if (i % 500 == 499)
			strbuf_addstr(&doc, "\" = 1\n");
	}
	assert_int_equal(toml_parse(doc.buf, doc.len, &root, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_true(strlen(err.message) < TOML_ERROR_MAX);
	assert_non_null(strstr(err.message, "key \"\xe6\x97\xa5"));
	assert_non_null(strstr(err.message, "\xe6\x97\xa5... is defined twice (first on line 1)"));
	assert_true(valid_utf8(err.message));

	/* Control characters in a key name are escaped in the message. */
	expect_error("\"a\\nb\\u0001\" = 1\n\"a\\nb\\u0001\" = 2\n", 2,
		     "key \"a\\u000ab\\u0001\" is defined twice");
	expect_error("\"x\\\"y\" = 1\n'x\"y' = 2\n", 2, "key \"x\\\"y\" is defined twice");
	strbuf_release(&doc);
}

/* ---- robustness: random and cut documents ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static unsigned int count_lines(const char *s, size_t len)
{
	unsigned int n = 1;
	size_t i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* Parses and checks what any outcome must satisfy. */
static void parse_anything(const char *text, size_t len)
{
	struct toml_value *root = (struct toml_value *)1;
	struct toml_error err;
	int ret;

	ret = toml_parse(text, len, &root, &err);
	if (ret == 0) {
		assert_non_null(root);
		toml_free(root);
		return;
	}
	assert_int_equal(ret, -EINVAL);
	assert_null(root);
	assert_true(err.line >= 1 && err.line <= count_lines(text, len));
	assert_true(err.message[0] != '\0');
	assert_true(valid_utf8(err.message));
}

static const char *const sample_docs[] = {
	"tracer = \"exec\"\nactions = [\"stdout\"]\n[filterEvents]\n[filterEvents.command]\n"
	"values = [\"sshd\", \"ping\"]\ncontainerRuntimes = [\"docker\",\"kube\"]\n",
	"a = \"\"\"\nx \\\n  y\"\"\"\nb = '''\nz'''\nc = \"\\u00e9\\U0001F600\\t\"\n",
	"[[a.b]]\nx = { y = [1, 0x2, 0o3, 0b1, -4_000], z.w = true }\n[a]\nq.r = 'x'\n",
	"k = [\n  1, # c\n  [\"a\", 'b'],\n  { c = 1 },\n]\n[t . \"u\" . 'v']\n\"\" = false\n",
	"a.b.c = 1\n[a.d]\n[[e]]\n[e.f]\n[[e]]\n[e.f]\ng = \"\\\"\"\n",
};

static void test_truncations_never_crash(void **state)
{
	size_t d, len, cut;

	(void)state;
	for (d = 0; d < sizeof(sample_docs) / sizeof(sample_docs[0]); d++) {
		len = strlen(sample_docs[d]);
		parse_anything(sample_docs[d], len);
		for (cut = 0; cut < len; cut++)
			parse_anything(sample_docs[d], cut);
		/* Every byte replaced, one at a time, by a few troublemakers. */
		for (cut = 0; cut < len; cut++) {
			static const char subst[] = { '\0', '"', '\'', '[', ']', '{', '\n',
						      '.', '=', ',', '\\', '#', '\xff', '\r' };
			char copy[512];
			size_t s;

			assert_true(len < sizeof(copy));
			for (s = 0; s < sizeof(subst); s++) {
				memcpy(copy, sample_docs[d], len);
				copy[cut] = subst[s];
				parse_anything(copy, len);
			}
		}
	}
}

static void test_garbage_never_crashes(void **state)
{
	static const char *const tokens[] = {
		"[", "]", "[[", "]]", "{", "}", "=", ",", ".", "\"", "'", "\"\"\"", "'''", "\\",
		"\\u", "\\U0001F600", "\n", "\r\n", "\r", " ", "\t", "#", "a", "b.c", "1", "-",
		"+", "0x", "_", "true", "false", "inf", "1979-05-27", "1.5", "é", "\xff", "\0",
		"a = ", "[t]\n", "[[u]]\n", "x = [", "y = {", "\"k\" = ", "\\\n",
	};
	char buf[256];
	size_t len, n;
	int round;

	(void)state;
	/* Raw random bytes. */
	for (round = 0; round < 20000; round++) {
		len = rng() % sizeof(buf);
		for (n = 0; n < len; n++)
			buf[n] = (char)rng();
		parse_anything(buf, len);
	}
	/* Random sequences of TOML-ish tokens: these reach deeper into the grammar. */
	for (round = 0; round < 50000; round++) {
		len = 0;
		n = rng() % 40;
		while (n--) {
			const char *tok = tokens[rng() % (sizeof(tokens) / sizeof(tokens[0]))];
			size_t tl = tok[0] ? strlen(tok) : 1;

			if (len + tl > sizeof(buf))
				break;
			memcpy(buf + len, tok, tl);
			len += tl;
		}
		parse_anything(buf, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_comment_errors),
		cmocka_unit_test(test_basic_string_escapes),
		cmocka_unit_test(test_basic_string_errors),
		cmocka_unit_test(test_multiline_basic_strings),
		cmocka_unit_test(test_multiline_basic_errors),
		cmocka_unit_test(test_literal_strings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integer_errors),
		cmocka_unit_test(test_floats_rejected),
		cmocka_unit_test(test_dates_rejected),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_array_errors),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_implicit_super_tables),
		cmocka_unit_test(test_array_of_tables),
		cmocka_unit_test(test_dotted_and_quoted_keys),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_inline_tables),
		cmocka_unit_test(test_inline_table_errors),
		cmocka_unit_test(test_redefinition_errors),
		cmocka_unit_test(test_allowed_combinations),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_old_readme_rule),
		cmocka_unit_test(test_spec_rule),
		cmocka_unit_test(test_lookup_api),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_error_messages_bounded),
		cmocka_unit_test(test_truncations_never_crash),
		cmocka_unit_test(test_garbage_never_crashes),
	};

	return cmocka_run_group_tests_name("toml", tests, NULL, NULL);
}
