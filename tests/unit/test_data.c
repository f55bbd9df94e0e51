/* Broken intent files must fail to load with file, entry and position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "healthbot.h"

#define REPLIES "\"replies\": {\"escalation_emergency\": \"Call {emergency_number}.\"," \
	"\"escalation_crisis\": \"Call {crisis_number} or {emergency_number}.\"," \
	"\"fallback\": \"No. {topics}\"," \
	"\"fallback_section\": \"{title}: {sections}\", \"too_long\": \"Long.\"," \
	"\"empty\": \"Empty.\", \"disclaimer\": \"General information.\"," \
	"\"source\": \"Source: {title}, {publisher}, {updated}.\"}"
#define SMALLTALK "\"smalltalk\": [{\"id\": \"greeting\", \"patterns\": [\"^hi\"], " \
	"\"reply\": \"Hello\"}, {\"id\": \"help\", \"patterns\": [\"help\"], \"reply\": \"Help\"}]"
#define REDFLAGS "\"redflags\": [{\"id\": \"chest\", \"category\": \"chest-pain\", " \
	"\"severity\": \"emergency\", \"patterns\": [\"chest pain\"]}]"
#define INTENTS "\"intents\": [{\"id\": \"definition\", \"patterns\": [\"what is\"], " \
	"\"targets\": [{\"section\": \"Definition\"}]}]"

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct hb_engine *load(struct hb_error *err)
{
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = dir,
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	return hb_engine_create(&o, err);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/hb-data-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/a.json", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void test_valid(void **state)
{
	struct hb_error err;
	write_file("a.json", "{" INTENTS "," REDFLAGS "," SMALLTALK "," REPLIES "}");
	struct hb_engine *e = load(&err);
	assert_non_null(e);
	struct hb_reply r;
	assert_true(hb_engine_reply(e, NULL, NULL, "I have chest pain", 17, 0, &r));
	assert_int_equal(r.kind, HB_REPLY_ESCALATION);
	assert_string_equal(r.text, "Call 911.");
	hb_reply_finish(&r);
	hb_engine_destroy(e);
}

static void test_bad_pattern(void **state)
{
	struct hb_error err;
	write_file("a.json", "{\"intents\": [{\"id\": \"broken\", \"patterns\": [\"ok\", \"(unclosed\"], "
		"\"targets\": [{\"section\": \"Definition\"}]}]," REDFLAGS "," SMALLTALK "," REPLIES "}");
	assert_null(load(&err));
	assert_non_null(strstr(err.file, "a.json"));
	assert_string_equal(err.entry, "broken#2");
	assert_int_equal(err.column, 10); /* offset 9, the end of the pattern */
	assert_non_null(strstr(err.message, "missing closing parenthesis"));
}

static void test_bad_json(void **state)
{
	struct hb_error err;
	write_file("a.json", "{\n  \"intents\": [\n    {\"id\": \"x\",,}\n  ]\n}");
	assert_null(load(&err));
	assert_int_equal(err.line, 3);
	assert_true(err.column > 1);
	assert_string_equal(err.message, "invalid JSON");
}

static void test_unknown_key(void **state)
{
	struct hb_error err;
	write_file("a.json", "{\"intents\": [{\"id\": \"x\", \"patern\": [\"a\"], "
		"\"targets\": [{\"section\": \"Definition\"}]}]," REDFLAGS "," SMALLTALK "," REPLIES "}");
	assert_null(load(&err));
	assert_string_equal(err.entry, "x");
	assert_non_null(strstr(err.message, "unknown key \"patern\""));
}

static void test_duplicate(void **state)
{
	struct hb_error err;
	write_file("a.json", "{" INTENTS ", \"redflags\": [{\"id\": \"definition\", "
		"\"category\": \"c\", \"severity\": \"emergency\", \"patterns\": [\"x\"]}],"
		SMALLTALK "," REPLIES "}");
	assert_null(load(&err));
	assert_string_equal(err.entry, "definition");
	assert_non_null(strstr(err.message, "duplicate"));
}

static void test_no_redflags(void **state)
{
	struct hb_error err;
	write_file("a.json", "{" INTENTS "," SMALLTALK "," REPLIES "}");
	assert_null(load(&err));
	assert_non_null(strstr(err.message, "no red flags"));
}

static void test_missing_wording(void **state)
{
	struct hb_error err;
	write_file("a.json", "{" INTENTS "," REDFLAGS "," SMALLTALK ", \"replies\": {}}");
	assert_null(load(&err));
	assert_non_null(strstr(err.message, "escalation_emergency"));
}

static void test_not_utf8(void **state)
{
	struct hb_error err;
	write_file("a.json", "{\"vocabulary\": [\"caf\xe9\"]}");
	assert_null(load(&err));
	assert_non_null(strstr(err.message, "UTF-8"));
}

static void test_bad_severity(void **state)
{
	struct hb_error err;
	write_file("a.json", "{" INTENTS ", \"redflags\": [{\"id\": \"r\", "
		"\"category\": \"c\", \"severity\": \"meh\", \"patterns\": [\"x\"]}],"
		SMALLTALK "," REPLIES "}");
	assert_null(load(&err));
	assert_string_equal(err.entry, "r");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_redflags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_wording, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_severity, setup, teardown),
	};
	return cmocka_run_group_tests_name("data", tests, NULL, NULL);
}
