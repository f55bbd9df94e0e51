/* bot/log.c: the conversation hash (SipHash-2-4 against the reference
 * vectors, then as the channels use it) and logfmt quoting. log.c is
 * included to reach its key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../bot/log.c"

/* The SipHash paper's key 00..0f and messages 00, 01, ..., len-1. */
static uint64_t reference(size_t len)
{
	static const uint64_t key[2] = { 0x0706050403020100ULL,
		0x0f0e0d0c0b0a0908ULL };
	unsigned char msg[64] = {0};
	struct sip s;
	for (size_t i = 0; i < len; i++)
		msg[i] = (unsigned char)i;
	sip_init(&s, key);
	/* fed in uneven pieces: the streaming must not matter */
	size_t half = len / 3;
	sip_update(&s, msg, half);
	sip_update(&s, msg + half, len - half);
	return sip_final(&s);
}

static void test_siphash_vectors(void **state)
{
	assert_true(reference(0) == 0x726fdb47dd0e0e31ULL);
	assert_true(reference(1) == 0x74f839c593dc67fdULL);
	assert_true(reference(15) == 0xa129ca6149be45e5ULL);
	assert_true(reference(63) == 0x958a324ceb064572ULL);
}

static void test_conversation_hash(void **state)
{
	char a[HB_LOG_HASH_LEN], b[HB_LOG_HASH_LEN], c[HB_LOG_HASH_LEN];
	hb_log_hash(a, "widget", "w1");
	hb_log_hash(b, "widget", "w1");
	assert_int_equal(strlen(a), 16);
	assert_int_equal(strspn(a, "0123456789abcdef"), 16);
	assert_string_equal(a, b);
	hb_log_hash(c, "widget", "w2");
	assert_string_not_equal(a, c);
	/* the separator keeps the parts apart */
	hb_log_hash(b, "widgetw", "1");
	assert_string_not_equal(a, b);
	hb_log_hash(b, "relay", "w1");
	assert_string_not_equal(a, b);
	hb_log_hash(b, "widget", NULL);
	hb_log_hash(c, "widget", "");
	assert_string_equal(b, c);
	/* another process, another key: nothing ties the runs together */
	uint64_t saved[2] = { hash_key[0], hash_key[1] };
	hash_keyed = false;
	hb_log_hash(b, "widget", "w1");
	assert_string_not_equal(a, b);
	hash_key[0] = saved[0];
	hash_key[1] = saved[1];
}

static void test_quote(void **state)
{
	char buf[32];
	assert_string_equal(hb_log_quote("a \"b\" \\c\n\x01", buf, sizeof(buf)),
		"\"a \\\"b\\\" \\\\c\"");
	assert_string_equal(hb_log_quote(NULL, buf, sizeof(buf)), "\"\"");
	/* cut to fit, still closed */
	assert_string_equal(hb_log_quote("0123456789", buf, 8), "\"0123\"");
}

static void test_levels(void **state)
{
	enum hb_log_level l;
	assert_true(hb_log_parse_level("debug", &l));
	assert_int_equal(l, HB_LOG_DEBUG);
	/* audit is always on, not a threshold one may pick */
	assert_false(hb_log_parse_level("audit", &l));
	hb_log_init(HB_LOG_ERROR);
	assert_true(hb_log_enabled(HB_LOG_AUDIT));
	assert_false(hb_log_enabled(HB_LOG_INFO));
	hb_log_init(HB_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_conversation_hash),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
