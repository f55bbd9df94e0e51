/* The shared internal layer (bot/common): strict JSON, UTF-8, array
 * growth, backoff and the string buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "buf.h"
#include "grow.h"
#include "json.h"
#include "utf8.h"

/* Parses s (without its terminator) and expects a refusal at line:col. */
static void refused(const char *s, size_t len, int line, int col,
		const char *why)
{
	struct hb_json_error err = {0};
	cJSON *root = hb_json_parse(s, len, &err);
	if (root)
		fail_msg("accepted: %.*s", (int)len, s);
	assert_int_equal(err.line, line);
	assert_int_equal(err.column, col);
	assert_string_equal(err.message, why);
}

static cJSON *accepted(const char *s, size_t len)
{
	struct hb_json_error err = {0};
	cJSON *root = hb_json_parse(s, len, &err);
	if (!root)
		fail_msg("refused at %d:%d (%s): %.*s", err.line, err.column,
			err.message, (int)len, s);
	return root;
}

static void test_json_whole_value(void **state)
{
	cJSON *root = accepted(" \r\n\t{\"a\": [1, 2]}\n\t ", 20);
	assert_true(cJSON_IsObject(root));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "a")), 2);
	cJSON_Delete(root);
	/* length-bounded: what follows len is not read */
	root = accepted("[1]garbage", 3);
	cJSON_Delete(root);
	root = accepted("\xef\xbb\xbf{}", 5); /* byte-order mark, as before */
	cJSON_Delete(root);
	/* scalars are values too */
	root = accepted("\"x\"", 3);
	assert_string_equal(root->valuestring, "x");
	cJSON_Delete(root);
}

static void test_json_trailing(void **state)
{
	refused("{} {}", 5, 1, 4, "trailing data");
	refused("{\"a\": 1}\n\n  x", 13, 3, 3, "trailing data");
	refused("[1]]", 4, 1, 4, "trailing data");
	/* a NUL byte after the value is data, not an end; white space is
	 * only space, tab, CR and LF (cJSON skips any control character) */
	refused("{}\0", 3, 1, 3, "trailing data");
	refused("{}\f", 3, 1, 3, "trailing data");
	refused("\v{}", 3, 1, 1, "control character");
}

static void test_json_empty(void **state)
{
	refused("", 0, 1, 1, "no JSON value");
	refused(" \n ", 3, 2, 2, "no JSON value");
	struct hb_json_error err = {0};
	assert_null(hb_json_parse("x", 0, &err));
	assert_null(hb_json_parse("{", 1, NULL)); /* err may be NULL */
}

static void test_json_escaped_nul(void **state)
{
	const char *s = "{\"text\": \"I can't\\u0000breathe\"}";
	cJSON *root = accepted(s, strlen(s));
	const cJSON *t = cJSON_GetObjectItem(root, "text");
	assert_string_equal(t->valuestring, "I can't breathe");
	cJSON_Delete(root);
	/* an escaped backslash then "u0000" is text, not a NUL */
	s = "[\"a\\\\u0000b\"]";
	root = accepted(s, strlen(s));
	assert_string_equal(cJSON_GetArrayItem(root, 0)->valuestring,
		"a\\u0000b");
	cJSON_Delete(root);
	/* in a key, several, at the very end of a string */
	s = "{\"k\\u0000\": \"\\u0000\\u0000x\\u0000\"}";
	root = accepted(s, strlen(s));
	assert_string_equal(root->child->string, "k ");
	assert_string_equal(root->child->valuestring, "  x ");
	cJSON_Delete(root);
	/* the input itself is not changed */
	char buf[] = "[\"\\u0000\"]";
	root = accepted(buf, strlen(buf));
	assert_string_equal(buf, "[\"\\u0000\"]");
	cJSON_Delete(root);
	/* an escape cut short by the length is refused, not read past */
	refused("[\"\\u0000\"]", 6, 1, 3, "invalid JSON");
}

static void test_json_control_in_string(void **state)
{
	refused("{\"a\": \"x\ty\"}", 12, 1, 9, "control character in a string");
	refused("[\"a\0b\"]", 7, 1, 4, "control character in a string");
}

static void test_json_depth(void **state)
{
	/* static, not malloc()ed: gcc 12's -Warray-bounds under ASan took the
	 * malloc()ed buffer for an empty one and failed the asan build */
	static char deep[2 * 10000];
	size_t n = sizeof(deep) / 2;
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	struct hb_json_error err = {0};
	assert_null(hb_json_parse(deep, 2 * n, &err));
	assert_string_equal(err.message, "nested too deeply");
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, CJSON_NESTING_LIMIT + 1);
	/* as deep as cJSON goes is fine */
	size_t ok = CJSON_NESTING_LIMIT;
	memset(deep, '[', ok);
	memset(deep + ok, ']', ok);
	cJSON *root = accepted(deep, 2 * ok);
	cJSON_Delete(root);
	/* brackets inside strings do not count */
	memset(deep, '[', n);
	deep[0] = '"';
	deep[n - 1] = '"';
	root = accepted(deep, n);
	cJSON_Delete(root);
}

static void test_json_utf8(void **state)
{
	const char *s = "[\"na\xc3\xafve \xe2\x82\xac\"]";
	cJSON *root = accepted(s, strlen(s));
	cJSON_Delete(root);
	refused("[\"a\xff\"]", 6, 1, 4, "invalid UTF-8");
	refused("{\n \"k\": \"\xc0\xaf\"}", 15, 2, 8, "invalid UTF-8"); /* overlong */
	refused("[\"\xed\xa0\x80\"]", 7, 1, 3, "invalid UTF-8"); /* surrogate */
	refused("[\"\xe2\x82\"]", 6, 1, 3, "invalid UTF-8"); /* truncated */
	/* a lone surrogate escape is refused by cJSON */
	refused("[\"\\ud800\"]", 10, 1, 3, "invalid JSON");
}

static void test_json_position(void **state)
{
	/* the first problem is named, on the line it is on (the column
	 * cJSON gives: it may point one past a bad string's first byte) */
	refused("{\n  \"intents\": [\n    {\"id\": \"x\",,}\n  ]\n}", 39, 3, 17,
		"invalid JSON");
	refused("{\"a\": tru}", 10, 1, 7, "invalid JSON");
	/* a syntax error before a raw control character is the one named */
	refused("{\"a\" 1, \"b\": \"\t\"}", 17, 1, 6, "invalid JSON");
	/* and the control character when it comes first */
	refused("{\"b\": \"\t\", \"a\" 1}", 17, 1, 8, "control character in a string");
	struct hb_json_error err = {0};
	assert_null(hb_json_parse("[1,\n2,\n]", 8, &err));
	assert_int_equal(err.line, 3);
	assert_int_equal(err.offset, 7);
}

/* The Matrix spec's own examples (Appendices: Canonical JSON), and what
 * cannot be signed. */
static void canonical_is(const char *in, const char *want)
{
	cJSON *v = hb_json_parse(in, strlen(in), NULL);
	assert_non_null(v);
	char *got = hb_json_canonical(v);
	if (want) {
		assert_non_null(got);
		assert_string_equal(got, want);
	} else {
		assert_null(got);
	}
	free(got);
	cJSON_Delete(v);
}

static void test_json_canonical(void **state)
{
	(void)state;
	canonical_is("{}", "{}");
	canonical_is("{\n \"one\": 1,\n \"two\": \"Two\"\n}", "{\"one\":1,\"two\":\"Two\"}");
	canonical_is("{\"b\": \"2\", \"a\": \"1\"}", "{\"a\":\"1\",\"b\":\"2\"}");
	canonical_is("{\"auth\":{\"success\":true,\"mxid\":\"@john.doe:example.com\","
		"\"profile\":{\"display_name\":\"John Doe\",\"three_pids\":[{\"medium\":"
		"\"email\",\"address\":\"john.doe@example.org\"},{\"medium\":\"msisdn\","
		"\"address\":\"123456789\"}]}}}",
		"{\"auth\":{\"mxid\":\"@john.doe:example.com\",\"profile\":{"
		"\"display_name\":\"John Doe\",\"three_pids\":[{\"address\":"
		"\"john.doe@example.org\",\"medium\":\"email\"},{\"address\":"
		"\"123456789\",\"medium\":\"msisdn\"}]},\"success\":true}}");
	canonical_is("{\"a\": \"\u65E5\u672C\u8A9E\"}", "{\"a\":\"\u65E5\u672C\u8A9E\"}");
	canonical_is("{\"\u672C\": 2, \"\u65E5\": 1}", "{\"\u65E5\":1,\"\u672C\":2}");
	canonical_is("{\"a\": \"\\u65E5\"}", "{\"a\":\"\u65E5\"}");
	canonical_is("{\"a\": null}", "{\"a\":null}");
	canonical_is("[\"\\u0001\\n\\\"\\\\/\"]", "[\"\\u0001\\n\\\"\\\\/\"]");
	canonical_is("[-9007199254740991, 9007199254740991, 0]",
		"[-9007199254740991,9007199254740991,0]");
	/* not integers, or beyond what every reader holds exactly */
	canonical_is("[1.5]", NULL);
	canonical_is("[9007199254740992]", NULL);
	canonical_is("{\"a\":1,\"a\":2}", NULL);
}

static void test_utf8(void **state)
{
	unsigned cp;
	assert_int_equal(hb_utf8_decode((const unsigned char *)"\xe2\x82\xac", 3,
		&cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(hb_utf8_decode((const unsigned char *)"\xe2\x82\xac", 2,
		&cp), 0);
	assert_int_equal(hb_utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf",
		4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_true(hb_utf8_valid("", 0));
	assert_true(hb_utf8_valid("a\0b", 3));
	assert_false(hb_utf8_valid("\x80", 1));
	assert_false(hb_utf8_valid("\xc1\xbf", 2)); /* overlong */
	assert_false(hb_utf8_valid("\xe0\x80\xaf", 3)); /* overlong */
	assert_false(hb_utf8_valid("\xf0\x8f\xbf\xbf", 4)); /* overlong */
	assert_false(hb_utf8_valid("\xf5\x80\x80\x80", 4));
	assert_false(hb_utf8_valid("ok\xed\xbf\xbf", 5)); /* surrogate */
}

static void test_grow(void **state)
{
	size_t *a = NULL;
	for (size_t n = 0; n < 1000; n++) {
		size_t *g = hb_grow(a, n, sizeof(*a));
		assert_non_null(g);
		/* below a power of two the capacity is there already */
		if (n > 2 && (n & (n - 1)))
			assert_ptr_equal(g, a);
		a = g;
		a[n] = n;
	}
	for (size_t n = 0; n < 1000; n++)
		assert_int_equal(a[n], n);
	free(a);
	/* no overflow of the capacity */
	assert_null(hb_grow(NULL, (size_t)1 << (sizeof(size_t) * 8 - 1), 1));
	assert_null(hb_grow(NULL, (size_t)1 << 40, (size_t)1 << 30));
}

static void test_backoff(void **state)
{
	uint64_t seed = 42;
	for (unsigned a = 0; a < 70; a++) {
		long d = hb_backoff_ms(a, 1000, 300000);
		long full = a >= 9 ? 300000 : 1000L << a;
		if (full > 300000)
			full = 300000;
		assert_true(d >= full / 2 && d <= full);
		long r = hb_backoff_ms_r(a, 500, 60000, &seed);
		full = a >= 7 ? 60000 : 500L << a;
		if (full > 60000)
			full = 60000;
		assert_true(r >= full / 2 && r <= full);
	}
	/* jitter: attempts that failed together spread out */
	long first = hb_backoff_ms_r(5, 1000, 300000, &seed);
	bool spread = false;
	for (int i = 0; i < 20 && !spread; i++)
		spread = hb_backoff_ms_r(5, 1000, 300000, &seed) != first;
	assert_true(spread);
	/* a seed repeats its sequence */
	uint64_t s1 = 7, s2 = 7;
	for (unsigned a = 0; a < 10; a++)
		assert_int_equal(hb_backoff_ms_r(a, 100, 10000, &s1),
			hb_backoff_ms_r(a, 100, 10000, &s2));
	/* odd arguments: no overflow, no negative, no zero division */
	assert_true(hb_backoff_ms(60, 1L << 40, 1L << 62) <= 1L << 62);
	assert_true(hb_backoff_ms(0, 0, 0) >= 0);
	assert_true(hb_backoff_ms(3, 1000, 10) <= 1000);
	assert_true(hb_backoff_ms(3, 1000, 10) >= 500);
}

static void test_buf(void **state)
{
	struct hb_buf b;
	hb_buf_init(&b);
	hb_buf_puts(&b, "a");
	hb_buf_printf(&b, "%d<%s>", 12, "x");
	hb_buf_html(&b, "<&\"'>", 5);
	assert_false(b.oom);
	assert_string_equal(b.data, "a12<x>&lt;&amp;&quot;&#39;&gt;");
	char *s = hb_buf_steal(&b);
	assert_null(b.data);
	free(s);
	s = hb_buf_steal(&b); /* nothing added: an empty string */
	assert_string_equal(s, "");
	free(s);
	/* a paragraph per non-empty line, escaped, no newline after the last */
	hb_buf_html_paragraphs(&b, "a<b\n\nc&\n", 8);
	assert_string_equal(b.data, "<p>a&lt;b</p>\n<p>c&amp;</p>");
	hb_buf_reset(&b);
	hb_buf_html_paragraphs(&b, "x\ny", 1); /* only len bytes */
	assert_string_equal(b.data, "<p>x</p>");
	hb_buf_reset(&b);
	hb_buf_html_paragraphs(&b, "\n\n", 2);
	assert_false(b.oom);
	assert_true(b.len == 0);
	hb_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_whole_value),
		cmocka_unit_test(test_json_trailing),
		cmocka_unit_test(test_json_empty),
		cmocka_unit_test(test_json_escaped_nul),
		cmocka_unit_test(test_json_control_in_string),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_json_utf8),
		cmocka_unit_test(test_json_position),
		cmocka_unit_test(test_json_canonical),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_buf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
