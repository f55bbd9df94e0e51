/*
 * Negation and history around red-flag matches (bot/engine/negation.c),
 * on the project's own intents: a sign said to be absent or long past
 * does not escalate; a sign that is itself an absence ("no pulse", "not
 * breathing", "won't wake up") always does, and so does anything unsure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "data.h"
#include "library.h"
#include "negation.h"
#include "text.h"

static struct hb_engine *engine;

static int setup(void **state)
{
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
		/* valgrind cannot follow JIT code reading past a match */
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	struct hb_error err;
	engine = hb_engine_create(&o, &err);
	if (!engine)
		fprintf(stderr, "%s: %s: %s\n", err.file, err.entry, err.message);
	return engine ? 0 : -1;
}

static int teardown(void **state)
{
	hb_engine_destroy(engine);
	return 0;
}

static bool escalates(const char *msg)
{
	struct hb_reply r;
	assert_true(hb_engine_reply(engine, NULL, NULL, msg, strlen(msg), 0, &r));
	bool esc = r.kind == HB_REPLY_ESCALATION;
	hb_reply_finish(&r);
	return esc;
}

static void must_escalate(const char *msg)
{
	if (!escalates(msg))
		fail_msg("did not escalate: %s", msg);
}

static void must_not_escalate(const char *msg)
{
	if (escalates(msg))
		fail_msg("escalated: %s", msg);
}

/* Whether the match of `what` in msg (normalized) stands. */
static bool stands(const char *msg, const char *what, enum hb_severity sev)
{
	struct hb_buf n;
	hb_buf_init(&n);
	hb_text_normalize(msg, strlen(msg), &n);
	const char *at = strstr(n.data, what);
	assert_non_null(at);
	size_t s = (size_t)(at - n.data);
	bool ok = hb_negation_stands(engine->negation, n.data, n.len, s,
			s + strlen(what), sev);
	hb_buf_finish(&n);
	return ok;
}

static void test_negated(void **state)
{
	must_not_escalate("no chest pain");
	must_not_escalate("I have no chest pain at all");
	must_not_escalate("not short of breath");
	must_not_escalate("she denies numbness in her leg");
	must_not_escalate("without any bleeding");
	must_not_escalate("I don't have chest pain, just cramps at night");
	must_not_escalate("my leg isn't cold or pale, it just cramps");
	must_not_escalate("the chest pain went away an hour ago");
	/* the clause decides: the second sign is not negated */
	must_escalate("no chest pain but I can't breathe");
	must_escalate("I have no fever and I'm coughing up blood");
	must_escalate("no chest pain yesterday, crushing chest pain now");
}

/* Signs that are an absence: the negation is the sign. */
static void test_absence_is_the_sign(void **state)
{
	must_escalate("no pulse in my foot");
	must_escalate("I can't breathe");
	must_escalate("he is not breathing");
	must_escalate("my dad won't wake up");
	must_escalate("she isn't responding");
	must_escalate("is no pulse serious");
	must_escalate("the cramp still hasn't stopped after stretching");
	assert_true(stands("he is not breathing", "breathing", HB_SEVERITY_EMERGENCY));
	assert_true(stands("no pulse in my foot", "no pulse", HB_SEVERITY_EMERGENCY));
	assert_true(stands("she's not waking up", "waking up", HB_SEVERITY_EMERGENCY));
}

static void test_unsure_stands(void **state)
{
	/* two negations read either way */
	assert_true(stands("it's not that I have no chest pain", "chest pain",
		HB_SEVERITY_EMERGENCY));
	/* "not sure" is no negation */
	assert_true(stands("not sure if it is chest pain", "chest pain",
		HB_SEVERITY_EMERGENCY));
	/* a new statement starts between the cue and the sign */
	assert_true(stands("no i have chest pain", "chest pain",
		HB_SEVERITY_EMERGENCY));
	/* too far from the cue */
	assert_true(stands("no, really, all morning, chest pain", "chest pain",
		HB_SEVERITY_EMERGENCY));
	assert_false(stands("no chest pain", "chest pain", HB_SEVERITY_EMERGENCY));
	/* a sentence too long to read back: unsure */
	char flood[2048];
	size_t n = 0;
	while (n < 1200)
		n += (size_t)snprintf(flood + n, sizeof(flood) - n, "very ");
	snprintf(flood + n, sizeof(flood) - n, "no chest pain");
	assert_true(stands(flood, "chest pain", HB_SEVERITY_EMERGENCY));
}

static void test_history(void **state)
{
	must_not_escalate("I had a stroke two years ago");
	must_not_escalate("chest pain months ago");
	must_not_escalate("back in 2019, I had a heart attack");
	must_not_escalate("I had a blood clot in my leg 5 years ago, now I get cramps at night");
	/* the past comes back, or the sign is now */
	must_escalate("I had chest pain years ago and again today");
	must_escalate("I had a stroke years ago and now my face is drooping");
	assert_true(stands("chest pain months ago and still now", "chest pain",
		HB_SEVERITY_EMERGENCY));
	assert_false(stands("chest pain months ago", "chest pain",
		HB_SEVERITY_EMERGENCY));
	/* "now" speaks for its own clause */
	assert_false(stands("a stroke years ago, now I get cramps", "stroke",
		HB_SEVERITY_EMERGENCY));
	assert_true(stands("a stroke years ago now", "stroke", HB_SEVERITY_EMERGENCY));
}

/* Crisis: a denial never hides it; the past only with a "well now". */
static void test_crisis(void **state)
{
	must_escalate("I tried to kill myself last year and I want to again");
	must_escalate("I was suicidal years ago");
	must_escalate("I'm not suicidal");
	assert_true(stands("i'm not suicidal", "suicidal", HB_SEVERITY_CRISIS));
	assert_true(stands("i was suicidal years ago", "suicidal", HB_SEVERITY_CRISIS));
	assert_false(stands("i used to be suicidal years ago but i'm in a good place now",
		"suicidal", HB_SEVERITY_CRISIS));
	/* the same words and no crisis: history applies */
	assert_false(stands("i was suicidal years ago", "suicidal",
		HB_SEVERITY_EMERGENCY));
}

static void test_asked_not_reported(void **state)
{
	must_not_escalate("what are the signs of a stroke?");
	must_not_escalate("how do I recognise sepsis?");
	must_not_escalate("I watched a film about a heart attack");
	/* a report in the same question stands */
	assert_true(stands("how do i know if i'm having a heart attack?",
		"heart attack", HB_SEVERITY_EMERGENCY));
	/* not a question: "signs of" is a report */
	assert_true(stands("my dad has signs of a stroke", "stroke",
		HB_SEVERITY_EMERGENCY));
	must_escalate("what are the signs of a stroke? my dad's face is drooping");
}

static void test_spanish(void **state)
{
	must_escalate("no puedo respirar");
	must_escalate("me duele el pecho");
	must_escalate("tengo calambres que no paran");
	must_not_escalate("no me duele el pecho");
	must_not_escalate("tuve un derrame hace dos a\xc3\xb1os y ahora tengo calambres");
}

/* Every match is weighed, not only the first. */
static void test_every_match(void **state)
{
	char msg[4096];
	size_t n = 0;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "no chest pain. ");
	snprintf(msg + n, sizeof(msg) - n, "crushing chest pain now");
	/* more matches than are judged one by one: the message stands */
	must_escalate(msg);
	must_not_escalate("no chest pain. no chest pain. no chest pain.");
}

static struct hb_negation *load(const char *json, struct hb_error *err)
{
	struct hb_engine e = {0};
	struct hb_loader ld = { .engine = &e, .file = "t.json", .err = err };
	cJSON *root = cJSON_Parse(json);
	assert_non_null(root);
	bool ok = hb_negation_load(&ld, cJSON_GetObjectItem(root, "negation"));
	cJSON_Delete(root);
	if (!ok) {
		hb_negation_destroy(e.negation);
		return NULL;
	}
	return e.negation;
}

static void test_load_errors(void **state)
{
	struct hb_error err = {0};
	struct hb_negation *ng = load("{\"negation\": {\"negation_cues\": [\"no\"],"
		"\"history_cues\": [\"in {YEAR}\", \"hace {ANY} anos\"],"
		"\"never_negated\": [\"crisis\"], \"max_gap\": 2}}", &err);
	assert_non_null(ng);
	hb_negation_destroy(ng);
	assert_null(load("{\"negation\": {\"negation_cue\": [\"no\"]}}", &err));
	assert_string_equal(err.file, "t.json");
	assert_non_null(strstr(err.message, "negation_cue"));
	assert_null(load("{\"negation\": {\"history_cues\": [\"{ANY} ago\"]}}", &err));
	assert_string_equal(err.entry, "negation.history_cues[0]");
	assert_null(load("{\"negation\": {\"history_cues\": [\"in {DECADE}\"]}}", &err));
	assert_null(load("{\"negation\": {\"never_negated\": [\"sometimes\"]}}", &err));
	assert_null(load("{\"negation\": {\"max_gap\": 99}}", &err));
	assert_null(load("{\"negation\": {\"negation_cues\": [3]}}", &err));
	hb_negation_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negated),
		cmocka_unit_test(test_absence_is_the_sign),
		cmocka_unit_test(test_unsure_stands),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_crisis),
		cmocka_unit_test(test_asked_not_reported),
		cmocka_unit_test(test_spanish),
		cmocka_unit_test(test_every_match),
		cmocka_unit_test(test_load_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
