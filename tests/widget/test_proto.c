/* Unit tests of the widget/relay protocol module (bot/chat/proto.c):
 * UTF-8 validation, frame parsing of hostile input, and frame building. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthbot.h"
#include "chat/proto.h"
#include "utf8.h"

static bool valid(const char *s)
{
	return hb_utf8_valid(s, strlen(s));
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(valid(""));
	assert_true(valid("plain ascii"));
	assert_true(valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	assert_true(valid("\xef\xbf\xbf\xf4\x8f\xbf\xbf")); /* U+FFFF, U+10FFFF */
	assert_false(valid("\xc3"));                 /* truncated */
	assert_false(valid("\xe2\x82"));             /* truncated */
	assert_false(valid("\x80"));                 /* lone continuation */
	assert_false(valid("\xc0\xaf"));             /* overlong '/' */
	assert_false(valid("\xe0\x80\xaf"));         /* overlong */
	assert_false(valid("\xf0\x80\x80\xaf"));     /* overlong */
	assert_false(valid("\xed\xa0\x80"));         /* surrogate U+D800 */
	assert_false(valid("\xf4\x90\x80\x80"));     /* > U+10FFFF */
	assert_false(valid("\xff\xfe"));
	assert_false(valid("ok\xc3\x28"));           /* bad continuation */
	/* embedded NUL is valid UTF-8; JSON parsing rejects it */
	assert_true(hb_utf8_valid("a\0b", 3));
}

static enum hb_proto_status parse(const char *s, bool relay,
		struct hb_proto_msg *m)
{
	return hb_proto_parse(s, strlen(s), relay, m);
}

static void test_parse_message(void **state)
{
	struct hb_proto_msg m;
	(void)state;
	assert_int_equal(parse("{\"type\":\"message\",\"id\":\"m1\",\"text\":\"hi \\u00e9\"}",
		false, &m), HB_PROTO_OK);
	assert_int_equal(m.type, HB_PROTO_MESSAGE);
	assert_string_equal(m.id, "m1");
	assert_string_equal(m.text, "hi \xc3\xa9");
	assert_int_equal(m.text_len, 5);
	hb_proto_msg_finish(&m);
	/* not NUL-terminated network bytes: the length is honoured */
	const char buf[] = "{\"type\":\"message\",\"text\":\"x\"}GARBAGE";
	assert_int_equal(hb_proto_parse(buf, 29, false, &m), HB_PROTO_OK);
	assert_string_equal(m.id, "");
	hb_proto_msg_finish(&m);
	assert_int_equal(hb_proto_parse(buf, sizeof(buf) - 1, false, &m),
		HB_PROTO_INVALID_JSON);
	hb_proto_msg_finish(&m);
	/* trailing white space is fine */
	assert_int_equal(parse("{\"type\":\"message\",\"text\":\"x\"} \n", false, &m),
		HB_PROTO_OK);
	hb_proto_msg_finish(&m);
}

static void test_parse_rejects(void **state)
{
	static const struct {
		const char *frame;
		bool relay;
		enum hb_proto_status want;
		const char *id;
	} cases[] = {
		{ "", false, HB_PROTO_INVALID_JSON, "" },
		{ "{", false, HB_PROTO_INVALID_JSON, "" },
		{ "[1,2]", false, HB_PROTO_BAD_REQUEST, "" },
		{ "\"text\"", false, HB_PROTO_BAD_REQUEST, "" },
		{ "{\"text\":\"x\"}", false, HB_PROTO_BAD_REQUEST, "" },
		{ "{\"type\":5,\"text\":\"x\"}", false, HB_PROTO_BAD_REQUEST, "" },
		{ "{\"TYPE\":\"message\",\"text\":\"x\"}", false, HB_PROTO_BAD_REQUEST, "" },
		{ "{\"type\":\"message\",\"id\":\"a\"}", false, HB_PROTO_BAD_REQUEST, "a" },
		{ "{\"type\":\"message\",\"id\":\"a\",\"text\":7}", false,
			HB_PROTO_BAD_REQUEST, "a" },
		{ "{\"type\":\"message\",\"id\":\"b\",\"text\":\" \\n\\t \"}", false,
			HB_PROTO_BAD_REQUEST, "b" },
		{ "{\"type\":\"message\",\"id\":\"\",\"text\":\"x\"}", false,
			HB_PROTO_BAD_REQUEST, "" },
		{ "{\"type\":\"message\",\"id\":\"a\\nb\",\"text\":\"x\"}", false,
			HB_PROTO_BAD_REQUEST, "" },
		{ "{\"type\":\"message\",\"id\":5,\"text\":\"x\"}", false,
			HB_PROTO_BAD_REQUEST, "" },
		{ "{\"type\":\"ping\",\"id\":\"p\"}", false, HB_PROTO_UNKNOWN_TYPE, "p" },
		/* open/close are relay frames only */
		{ "{\"type\":\"open\",\"conversation\":\"c\"}", false,
			HB_PROTO_UNKNOWN_TYPE, "" },
		{ "{\"type\":\"message\",\"text\":\"x\"}", true, HB_PROTO_BAD_REQUEST, "" },
		/* a lone surrogate escape does not decode */
		{ "{\"type\":\"message\",\"text\":\"\\ud800\"}", false,
			HB_PROTO_INVALID_JSON, "" },
		{ "{\"type\":\"message\",\"text\":\"caf\xc3\"}", false,
			HB_PROTO_INVALID_UTF8, "" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hb_proto_msg m;
		enum hb_proto_status st = parse(cases[i].frame, cases[i].relay, &m);
		if (st != cases[i].want)
			fail_msg("case %zu (%s): got %s", i, cases[i].frame,
				hb_proto_status_code(st));
		assert_string_equal(m.id, cases[i].id);
		hb_proto_msg_finish(&m);
	}
}

static void test_parse_ids(void **state)
{
	struct hb_proto_msg m;
	char frame[512];
	char id[HB_PROTO_MAX_ID + 2];
	(void)state;
	memset(id, 'a', sizeof(id) - 1);
	id[HB_PROTO_MAX_ID] = '\0';
	snprintf(frame, sizeof(frame), "{\"type\":\"message\",\"id\":\"%s\","
		"\"text\":\"x\"}", id);
	assert_int_equal(parse(frame, false, &m), HB_PROTO_OK);
	hb_proto_msg_finish(&m);
	id[HB_PROTO_MAX_ID] = 'a';
	id[HB_PROTO_MAX_ID + 1] = '\0';
	snprintf(frame, sizeof(frame), "{\"type\":\"message\",\"id\":\"%s\","
		"\"text\":\"x\"}", id);
	assert_int_equal(parse(frame, false, &m), HB_PROTO_BAD_REQUEST);
	hb_proto_msg_finish(&m);
	assert_int_equal(parse("{\"type\":\"open\",\"conversation\":\"c9\"}", true,
		&m), HB_PROTO_OK);
	assert_int_equal(m.type, HB_PROTO_OPEN);
	assert_string_equal(m.conversation, "c9");
	hb_proto_msg_finish(&m);
	assert_int_equal(parse("{\"type\":\"close\",\"conversation\":\"c9\"}", true,
		&m), HB_PROTO_OK);
	assert_int_equal(m.type, HB_PROTO_CLOSE);
	hb_proto_msg_finish(&m);
}

static cJSON *parsed(char *json)
{
	assert_non_null(json);
	cJSON *o = cJSON_Parse(json);
	free(json);
	assert_non_null(o);
	return o;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_build(void **state)
{
	(void)state;
	struct hb_reply r = {
		.kind = HB_REPLY_ANSWER,
		.severity = HB_SEVERITY_NONE,
		.source = { .title = "Night \"leg\" cramps", .publisher = "P",
			.updated = "01-Jan-2024" },
		.text = (char *)"line1\nline2 </script>",
		.html = (char *)"<p>x &amp; y</p>",
	};
	const struct hb_proto_numbers numbers = { .emergency = "112",
		.crisis = "116 123" };
	/* routine replies leave the numbers out */
	cJSON *o = parsed(hb_proto_reply(&r, "m1", NULL, &numbers));
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "numbers"));
	assert_string_equal(str(o, "type"), "reply");
	assert_string_equal(str(o, "in_reply_to"), "m1");
	assert_string_equal(str(o, "kind"), "answer");
	assert_string_equal(str(o, "severity"), "none");
	assert_string_equal(str(o, "text"), r.text);
	assert_string_equal(str(o, "html"), r.html);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "conversation"));
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
	assert_string_equal(str(src, "title"), "Night \"leg\" cramps");
	cJSON_Delete(o);

	r.source.title = NULL;
	o = parsed(hb_proto_reply(&r, "", "c1", NULL));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "in_reply_to")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "source")));
	assert_string_equal(str(o, "conversation"), "c1");
	cJSON_Delete(o);

	/* an escalation and a greeting name the numbers to link */
	r.kind = HB_REPLY_ESCALATION;
	r.severity = HB_SEVERITY_CRISIS;
	o = parsed(hb_proto_reply(&r, "m4", NULL, &numbers));
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "numbers");
	assert_string_equal(str(n, "emergency"), "112");
	assert_string_equal(str(n, "crisis"), "116 123");
	cJSON_Delete(o);
	o = parsed(hb_proto_greeting(&r, NULL, &numbers));
	assert_string_equal(str(o, "type"), "greeting");
	n = cJSON_GetObjectItemCaseSensitive(o, "numbers");
	assert_string_equal(str(n, "emergency"), "112");
	cJSON_Delete(o);
	o = parsed(hb_proto_reply(&r, "m5", NULL, NULL));
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "numbers"));
	cJSON_Delete(o);

	o = parsed(hb_proto_error(HB_PROTO_RATE_LIMITED, NULL, "m2", NULL));
	assert_string_equal(str(o, "type"), "error");
	assert_string_equal(str(o, "code"), "rate_limited");
	assert_non_null(strstr(str(o, "message"), "Slow down"));
	cJSON_Delete(o);

	o = parsed(hb_proto_undelivered("c2", NULL));
	assert_string_equal(str(o, "type"), "undelivered");
	assert_string_equal(str(o, "conversation"), "c2");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "in_reply_to")));
	cJSON_Delete(o);

	o = parsed(hb_proto_typing("m3", "c3"));
	assert_string_equal(str(o, "type"), "typing");
	assert_string_equal(str(o, "in_reply_to"), "m3");
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_parse_message),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_ids),
		cmocka_unit_test(test_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
