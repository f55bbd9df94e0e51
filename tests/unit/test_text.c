#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "buf.h"
#include "text.h"
#include "utf8.h"

static void normalized(const char *in, size_t len, const char *want)
{
	struct hb_buf out;
	hb_buf_init(&out);
	hb_text_normalize(in, len, &out);
	assert_false(out.oom);
	assert_string_equal(out.data ? out.data : "", want);
	hb_buf_finish(&out);
}

static void test_normalize(void **state)
{
	normalized("  My CHEST   hurts\t\n", 21, "my chest hurts");
	/* curly apostrophe: "can’t" must look like "can't" to patterns */
	normalized("I can\xe2\x80\x99" "t breathe", 17, "i can't breathe");
	/* zero-width space and bidi controls cannot split a phrase */
	normalized("chest\xe2\x80\x8b" "pain", 12, "chestpain");
	normalized("\xe2\x80\xae" "chest pain", 13, "chest pain");
	/* NUL bytes and control characters are white space */
	normalized("chest\0pain\x01now", 14, "chest pain now");
	/* invalid UTF-8 becomes U+FFFD, valid text around it survives */
	normalized("a\xff" "b", 3, "a\xef\xbf\xbd" "b");
	normalized("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */
	/* Cyrillic look-alikes read as the Latin letters they imitate */
	normalized("I c\xd0\xb0n't bre\xd0\xb0the", 17, "i can't breathe");
	normalized("\xd0\xa1HEST PAIN", 11, "chest pain");
	normalized("", 0, "");
	normalized("   ", 3, "");
}

/* Spanish rules are written without accents: "tomó", "TOMÓ" and "tomo"
 * must read alike, and the opening marks are punctuation. */
static void test_accents(void **state)
{
	const char *in = "\xc2\xbf" "Me tom\xc3\xb3 el coraz\xc3\xb3n? "
		"\xc2\xa1" "NI\xc3\x91O! ping\xc3\xbc" "ino \xc3\x81REA";
	normalized(in, strlen(in), "me tomo el corazon? nino! pinguino area");
	in = "caf\xc3\xa9 na\xc3\xafve \xc3\x9f \xc3\xb7 \xc3\x97 \xc3\xbf";
	normalized(in, strlen(in), "cafe naive s \xc3\xb7 \xc3\x97 y");
	in = "hola\xc2\xbf" "que";
	normalized(in, strlen(in), "hola que");
}

static void test_utf8(void **state)
{
	assert_true(hb_utf8_valid("na\xc3\xafve", 6));
	assert_false(hb_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(hb_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(hb_utf8_valid("\xe2\x82", 2)); /* truncated */
}

static void stems_equal(const char *a, const char *b)
{
	char sa[64], sb[64];
	hb_text_stem(a, strlen(a), sa);
	hb_text_stem(b, strlen(b), sb);
	assert_string_equal(sa, sb);
}

static void test_stem(void **state)
{
	stems_equal("cramps", "cramp");
	stems_equal("cramping", "cramp");
	stems_equal("muscles", "muscle");
	stems_equal("stretches", "stretch");
	stems_equal("stretching", "stretch");
	stems_equal("injuries", "injury");
	stems_equal("leg's", "leg");
}

static void test_distance(void **state)
{
	assert_int_equal(hb_text_distance("cramp", 5, "cramp", 5, 1), 0);
	assert_int_equal(hb_text_distance("crmp", 4, "cramp", 5, 1), 1);
	assert_true(hb_text_distance("gout", 4, "cramp", 5, 1) > 1);
}

static void test_html_escape(void **state)
{
	struct hb_buf b;
	hb_buf_init(&b);
	hb_buf_html(&b, "<script>alert('x')&\"</script>", 29);
	assert_string_equal(b.data,
		"&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;");
	hb_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_accents),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_stem),
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_html_escape),
	};
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
