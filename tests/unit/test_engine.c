/* The engine as a user meets it: the seed library and the shipped intents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthbot.h"

static struct hb_engine *engine;
static char *article_text;

static int setup(void **state)
{
	struct hb_error err;
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	engine = hb_engine_create(&o, &err);
	if (!engine) {
		fprintf(stderr, "load failed: %s:%d:%d: %s: %s\n", err.file, err.line,
			err.column, err.entry, err.message);
		return -1;
	}
	FILE *f = fopen(SOURCE_ROOT "/content/night-leg-cramps.txt", "rb");
	if (!f)
		return -1;
	article_text = calloc(1, 1 << 16);
	fread(article_text, 1, (1 << 16) - 1, f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	hb_engine_destroy(engine);
	free(article_text);
	return 0;
}

static struct hb_reply ask_in(struct hb_conversations *conv, const char *id,
		const char *msg, int64_t now)
{
	struct hb_reply r;
	assert_true(hb_engine_reply(engine, conv, id, msg, strlen(msg), now, &r));
	assert_non_null(r.text);
	assert_non_null(r.html);
	return r;
}

static struct hb_reply ask(const char *msg)
{
	return ask_in(NULL, NULL, msg, 0);
}

/* Every line of an answer is the article's own text, or the heading,
 * source and disclaimer lines the engine adds around it. */
static void assert_verbatim(const struct hb_reply *r)
{
	char *copy = strdup(r->text);
	char *save = NULL;
	int quoted = 0;
	for (char *line = strtok_r(copy, "\n", &save); line;
			line = strtok_r(NULL, "\n", &save)) {
		const char *body = line;
		if (strncmp(body, "  \xe2\x80\xa2 ", 6) == 0)
			body += 6;
		if (strncmp(body, "Source: ", 8) == 0 ||
				strstr(body, "general information, not medical advice") ||
				strncmp(body, "Night leg cramps: ", 18) == 0)
			continue;
		if (!strstr(article_text, body))
			fail_msg("not verbatim from the article: \"%s\"", body);
		quoted++;
	}
	assert_true(quoted > 0);
	free(copy);
}

static void assert_answer(const char *msg, const char *intent,
		const char *section, const char *must_contain)
{
	struct hb_reply r = ask(msg);
	if (r.kind != HB_REPLY_ANSWER || strcmp(r.intent ? r.intent : "", intent) != 0)
		fail_msg("\"%s\": got %s/%s (rule %s), want answer/%s", msg,
			hb_reply_kind_str(r.kind), r.intent ? r.intent : "-",
			r.rule ? r.rule : "-", intent);
	assert_string_equal(r.article, "night-leg-cramps");
	assert_string_equal(r.section, section);
	if (!strstr(r.text, must_contain))
		fail_msg("\"%s\": reply lacks \"%s\":\n%s", msg, must_contain, r.text);
	assert_verbatim(&r);
	/* the source line: title, publisher, date, and the disclaimer */
	assert_non_null(strstr(r.text, "Night leg cramps"));
	assert_non_null(strstr(r.text, "Mayo Clinic"));
	assert_non_null(strstr(r.text, "02-Mar-2023"));
	assert_non_null(strstr(r.text, "not medical advice"));
	assert_string_equal(r.source.updated, "02-Mar-2023");
	hb_reply_finish(&r);
}

static void test_specific_passages(void **state)
{
	assert_answer("could my fluid tablets be the reason?", "medicines", "Causes",
		"medicines that increase urine output");
	assert_answer("could an underactive thyroid do this?", "linked-conditions",
		"Causes", "Hypothyroidism (underactive thyroid)");
	assert_answer("what helps in the moment?", "relief", "Self-care",
		"Massage the muscle with ice.");
	assert_answer("any way to make them stop happening?", "prevention",
		"Self-care", "Loosen the sheets and covers");
	assert_answer("could it be RLS instead?", "rls", "Causes",
		"Restless legs syndrome is sometimes confused");
	assert_answer("what causes night leg cramps?", "causes", "Causes",
		"no known cause");
}

static void test_passage_not_whole_article(void **state)
{
	struct hb_reply r = ask("what helps in the moment?");
	/* the relief list, not the prevention list or the causes */
	assert_null(strstr(r.text, "Drink plenty of fluids"));
	assert_null(strstr(r.text, "Kidney failure"));
	hb_reply_finish(&r);
}

static void assert_escalation(const char *msg, enum hb_severity severity)
{
	struct hb_reply r = ask(msg);
	if (r.kind != HB_REPLY_ESCALATION)
		fail_msg("\"%s\" did not escalate (got %s, rule %s)", msg,
			hb_reply_kind_str(r.kind), r.rule ? r.rule : "-");
	assert_int_equal(r.severity, severity);
	assert_non_null(strstr(r.text, "911"));
	if (severity == HB_SEVERITY_CRISIS)
		assert_non_null(strstr(r.text, "988"));
	assert_non_null(r.category);
	hb_reply_finish(&r);
}

static void test_red_flags(void **state)
{
	assert_escalation("my chest hurts and I can't breathe", HB_SEVERITY_EMERGENCY);
	assert_escalation("I can't get my breath", HB_SEVERITY_EMERGENCY);
	assert_escalation("she won't respond", HB_SEVERITY_EMERGENCY);
	assert_escalation("hard to breth", HB_SEVERITY_EMERGENCY);
	assert_escalation("CHESTPAIN", HB_SEVERITY_EMERGENCY);
	assert_escalation("my wife says her chest feels tight", HB_SEVERITY_EMERGENCY);
	assert_escalation("my neighbour collapsed", HB_SEVERITY_EMERGENCY);
	assert_escalation("i want to kill myself", HB_SEVERITY_CRISIS);
	assert_escalation("one calf is swollen red and warm", HB_SEVERITY_EMERGENCY);
	assert_escalation("severe cramping that won't stop", HB_SEVERITY_EMERGENCY);
	/* red flags beat any question in the same message */
	assert_escalation("what causes night leg cramps? also my chest hurts",
		HB_SEVERITY_EMERGENCY);
}

static void test_crisis_and_emergency(void **state)
{
	/* both a physical emergency and a crisis: both numbers, the
	 * emergency wording first and unconditional */
	struct hb_reply r = ask("i took a whole bottle of pills because i want to die");
	assert_int_equal(r.kind, HB_REPLY_ESCALATION);
	assert_int_equal(r.severity, HB_SEVERITY_EMERGENCY);
	const char *call = strstr(r.text, "Call 911 now");
	const char *crisis = strstr(r.text, "988");
	assert_non_null(call);
	assert_non_null(crisis);
	assert_true(call < crisis);
	hb_reply_finish(&r);
}

static void test_article_seek_care_passage(void **state)
{
	struct hb_reply r = ask("I got cramps after contact with lead at work");
	assert_int_equal(r.kind, HB_REPLY_ESCALATION);
	/* the emergency wording comes first, the article's own text after */
	const char *call = strstr(r.text, "911");
	const char *article = strstr(r.text, "Seek medical care right away");
	assert_non_null(call);
	assert_non_null(article);
	assert_true(call < article);
	hb_reply_finish(&r);
}

static void test_office_visit_not_emergency(void **state)
{
	struct hb_reply r = ask("I'm tired all day because leg cramps wake me up");
	assert_int_equal(r.kind, HB_REPLY_ANSWER);
	assert_true(r.severity <= HB_SEVERITY_URGENT);
	hb_reply_finish(&r);
}

static void assert_fallback(const char *msg)
{
	struct hb_reply r = ask(msg);
	if (r.kind != HB_REPLY_FALLBACK)
		fail_msg("\"%s\": want fallback, got %s/%s (rule %s)", msg,
			hb_reply_kind_str(r.kind), r.intent ? r.intent : "-",
			r.rule ? r.rule : "-");
	assert_null(r.section);
	/* it names what the library does know */
	assert_non_null(strstr(r.text, "Night leg cramps"));
	hb_reply_finish(&r);
}

static void test_out_of_scope(void **state)
{
	assert_fallback("what causes gout?");
	assert_fallback("how do I prevent the flu?");
	assert_fallback("can I take aspirin while breastfeeding?");
	assert_fallback("when is the clinic open?");
}

static void test_context(void **state)
{
	struct hb_conversations *conv = hb_conversations_create(10, 600);
	struct hb_reply r = ask_in(conv, "c1", "what causes night leg cramps?", 0);
	assert_int_equal(r.kind, HB_REPLY_ANSWER);
	hb_reply_finish(&r);
	r = ask_in(conv, "c1", "and how do I prevent them?", 10);
	assert_int_equal(r.kind, HB_REPLY_ANSWER);
	assert_string_equal(r.intent, "prevention");
	assert_string_equal(r.article, "night-leg-cramps");
	hb_reply_finish(&r);
	/* a topic the library lacks clears the context: no answer about
	 * cramps to a question about gout */
	r = ask_in(conv, "c1", "what causes gout?", 20);
	assert_int_equal(r.kind, HB_REPLY_FALLBACK);
	hb_reply_finish(&r);
	hb_conversations_destroy(conv);
}

static void test_emergency_number_configurable(void **state)
{
	struct hb_error err;
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
		.emergency_number = "112",
		.crisis_number = "116 123",
	};
	struct hb_engine *e = hb_engine_create(&o, &err);
	struct hb_reply r;
	assert_non_null(e);
	assert_true(hb_engine_reply(e, NULL, NULL, "i want to end my life", 21, 0, &r));
	assert_int_equal(r.kind, HB_REPLY_ESCALATION);
	assert_non_null(strstr(r.text, "112"));
	assert_non_null(strstr(r.text, "116 123"));
	assert_null(strstr(r.text, "911"));
	hb_reply_finish(&r);
	hb_engine_destroy(e);
}

static void test_locale(void **state)
{
	struct hb_error err;
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
		.emergency_number = "999",
		.locale = "en-GB",
	};
	struct hb_engine *e = hb_engine_create(&o, &err);
	struct hb_reply r;
	assert_non_null(e);
	assert_true(hb_engine_reply(e, NULL, NULL, "chest pain", 10, 0, &r));
	assert_non_null(strstr(r.text, "Call 999 now or go to A&E"));
	hb_reply_finish(&r);
	hb_engine_destroy(e);
	/* an unknown locale is a load error naming the file */
	o.locale = "xx-XX";
	assert_null(hb_engine_create(&o, &err));
	assert_non_null(strstr(err.file, "locales/xx-XX.json"));
	o.locale = "../../etc/passwd";
	assert_null(hb_engine_create(&o, &err));
}

static void test_bad_input(void **state)
{
	struct hb_reply r;
	static const char nul[] = "what causes\0night leg cramps";
	assert_true(hb_engine_reply(engine, NULL, NULL, nul, sizeof(nul) - 1, 0, &r));
	assert_int_equal(r.kind, HB_REPLY_ANSWER);
	hb_reply_finish(&r);
	assert_true(hb_engine_reply(engine, NULL, NULL, "\xff\xfe\xfd", 3, 0, &r));
	assert_int_not_equal(r.kind, HB_REPLY_ANSWER);
	hb_reply_finish(&r);
	assert_true(hb_engine_reply(engine, NULL, NULL, "", 0, 0, &r));
	assert_int_equal(r.kind, HB_REPLY_SMALLTALK);
	hb_reply_finish(&r);
	assert_true(hb_engine_reply(engine, NULL, NULL, NULL, 0, 0, &r));
	hb_reply_finish(&r);
	assert_true(hb_engine_reply(engine, NULL, NULL, "\x01\x02\x1b[31m", 7, 0, &r));
	hb_reply_finish(&r);

	/* 1 MB: still screened for red flags, otherwise a clear refusal */
	size_t big = 1 << 20;
	char *msg = malloc(big);
	memset(msg, 'a', big);
	for (size_t i = 1; i < big; i += 7)
		msg[i] = ' ';
	assert_true(hb_engine_reply(engine, NULL, NULL, msg, big, 0, &r));
	assert_int_equal(r.kind, HB_REPLY_FALLBACK);
	hb_reply_finish(&r);
	memcpy(msg + big / 2, " chest pain ", 12);
	assert_true(hb_engine_reply(engine, NULL, NULL, msg, big, 0, &r));
	assert_int_equal(r.kind, HB_REPLY_ESCALATION);
	hb_reply_finish(&r);
	free(msg);
}

static void test_html_escaped(void **state)
{
	struct hb_reply r = ask("<script>alert(1)</script> what causes night leg cramps?");
	assert_null(strstr(r.html, "<script"));
	hb_reply_finish(&r);
	r = ask("could an underactive thyroid do this?");
	/* article text with an apostrophe is escaped in HTML */
	assert_non_null(strstr(r.html, "Addison&#39;s disease"));
	assert_non_null(strstr(r.html, "<ul>"));
	hb_reply_finish(&r);
}

/* A section request that gets a fallback: result, rule, and the text. */
static void section_fallback(const char *topic, const char *section,
		enum hb_section_result want, const char *rule, const char *article,
		const char *must_contain)
{
	struct hb_reply r;
	assert_int_equal(hb_engine_section(engine, topic, section, &r), want);
	assert_int_equal(r.kind, HB_REPLY_FALLBACK);
	assert_string_equal(r.rule, rule);
	if (article)
		assert_string_equal(r.article, article);
	else
		assert_null(r.article);
	assert_non_null(strstr(r.text, must_contain));
	hb_reply_finish(&r);
}

static void test_section_lookup(void **state)
{
	struct hb_reply r;
	assert_int_equal(hb_engine_section(engine, "cramps", "self-care", &r),
		HB_SECTION_OK);
	assert_string_equal(r.section, "Self-care");
	assert_non_null(strstr(r.text, "To help prevent night leg cramps, try to:"));
	assert_non_null(strstr(r.text, "To relieve night leg cramps, try to:"));
	hb_reply_finish(&r);
	/* an unknown topic: the fallback names the library's topics */
	section_fallback("gout", "causes", HB_SECTION_NO_TOPIC,
		"section:unknown-topic", NULL, "Night leg cramps");
	/* a known topic, a section it does not have: the reply names the
	 * sections it has */
	section_fallback("cramps", "treatments", HB_SECTION_NO_SECTION,
		"section:unknown-section", "night-leg-cramps", "Self-care");
}

static void test_multi_article(void **state)
{
	struct hb_error err;
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
		.extra_content_dir = SOURCE_ROOT "/tests/fixtures/content",
	};
	struct hb_engine *e = hb_engine_create(&o, &err);
	struct hb_reply r;
	assert_non_null(e);
	assert_int_equal(hb_engine_article_count(e), 3);
	const char *q = "what causes alpha syndrome?";
	assert_true(hb_engine_reply(e, NULL, NULL, q, strlen(q), 0, &r));
	assert_int_equal(r.kind, HB_REPLY_ANSWER);
	assert_string_equal(r.article, "fixture-alpha-syndrome");
	assert_non_null(strstr(r.text, "FIXTURE TEXT"));
	hb_reply_finish(&r);
	/* "also called" names count as topics */
	q = "how do i prevent zeta fixture disorder";
	assert_true(hb_engine_reply(e, NULL, NULL, q, strlen(q), 0, &r));
	assert_string_equal(r.article, "fixture-alpha-syndrome");
	hb_reply_finish(&r);
	q = "what causes night leg cramps?";
	assert_true(hb_engine_reply(e, NULL, NULL, q, strlen(q), 0, &r));
	assert_string_equal(r.article, "night-leg-cramps");
	hb_reply_finish(&r);
	/* no topic and several articles: ask, do not guess */
	q = "what helps in the moment?";
	assert_true(hb_engine_reply(e, NULL, NULL, q, strlen(q), 0, &r));
	assert_int_equal(r.kind, HB_REPLY_FALLBACK);
	assert_non_null(strstr(r.text, "Alpha syndrome"));
	/* few articles: every title is listed */
	assert_non_null(strstr(r.text, "Beta condition"));
	hb_reply_finish(&r);
	/* the article has no such section: say so, never borrow another's */
	q = "how do i prevent beta condition";
	assert_true(hb_engine_reply(e, NULL, NULL, q, strlen(q), 0, &r));
	assert_int_equal(r.kind, HB_REPLY_FALLBACK);
	assert_null(strstr(r.text, "FIXTURE ITEM"));
	hb_reply_finish(&r);
	hb_engine_destroy(e);
}

static void test_greeting(void **state)
{
	struct hb_reply r;
	assert_true(hb_engine_greeting(engine, &r));
	assert_int_equal(r.kind, HB_REPLY_SMALLTALK);
	assert_non_null(strstr(r.text, "Night leg cramps"));
	hb_reply_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_specific_passages),
		cmocka_unit_test(test_passage_not_whole_article),
		cmocka_unit_test(test_red_flags),
		cmocka_unit_test(test_crisis_and_emergency),
		cmocka_unit_test(test_article_seek_care_passage),
		cmocka_unit_test(test_office_visit_not_emergency),
		cmocka_unit_test(test_out_of_scope),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_emergency_number_configurable),
		cmocka_unit_test(test_locale),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_html_escaped),
		cmocka_unit_test(test_section_lookup),
		cmocka_unit_test(test_multi_article),
		cmocka_unit_test(test_greeting),
	};
	return cmocka_run_group_tests_name("engine", tests, setup, teardown);
}
