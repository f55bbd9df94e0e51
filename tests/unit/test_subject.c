/*
 * Off-topic precision (intents/subjects.json): a condition or drug the
 * article only names gets the fallback on its own, the article's passage
 * when the message ties it to cramps, and follow-ups in a conversation
 * about the article are read as such. Plus the loader's errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "healthbot.h"

static struct hb_engine *engine;

static struct hb_engine *load(const char *intents, struct hb_error *err)
{
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = intents,
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	return hb_engine_create(&o, err);
}

static int setup(void **state)
{
	struct hb_error err;
	engine = load(SOURCE_ROOT "/intents", &err);
	if (!engine)
		fprintf(stderr, "load failed: %s: %s: %s\n", err.file, err.entry,
			err.message);
	return engine ? 0 : -1;
}

static int teardown(void **state)
{
	hb_engine_destroy(engine);
	return 0;
}

/* Asks in conversation id (NULL: none) and checks kind, rule or section. */
static void expect(struct hb_conversations *conv, const char *msg,
		enum hb_reply_kind kind, const char *rule, const char *intent)
{
	struct hb_reply r;
	assert_true(hb_engine_reply(engine, conv, conv ? "patient" : NULL, msg,
			strlen(msg), 1000, &r));
	if (r.kind != kind || (rule && (!r.rule || strcmp(r.rule, rule) != 0)) ||
			(intent && (!r.intent || strcmp(r.intent, intent) != 0)))
		fail_msg("\"%s\": got %s rule %s intent %s", msg,
			hb_reply_kind_str(r.kind), r.rule ? r.rule : "-",
			r.intent ? r.intent : "-");
	if (kind == HB_REPLY_ANSWER) {
		assert_string_equal(r.article, "night-leg-cramps");
		assert_string_equal(r.section, "Causes");
	}
	hb_reply_finish(&r);
}

static void test_named_alone_falls_back(void **state)
{
	static const char *const msgs[] = {
		"what causes diabetes",
		"how do I treat kidney disease",
		"are statins safe",
		"side effects of diuretics",
		"what is an underactive thyroid",
		"is diabetes linked to high blood pressure",
		"what about diabetes?", /* no conversation to follow */
		"kidney disease?",
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		expect(NULL, msgs[i], HB_REPLY_FALLBACK, "fallback:off-topic", NULL);
}

static void test_linked_answers(void **state)
{
	expect(NULL, "can diabetes cause leg cramps at night", HB_REPLY_ANSWER,
		NULL, "linked-conditions");
	expect(NULL, "do statins give you cramps", HB_REPLY_ANSWER, NULL,
		"linked-medicines");
	expect(NULL, "i have kidney disease, could that be why", HB_REPLY_ANSWER,
		NULL, "linked-conditions");
	expect(NULL, "is there a link with peripheral neuropathy", HB_REPLY_ANSWER,
		NULL, "linked-conditions");
	expect(NULL, "my MS makes my legs cramp at night", HB_REPLY_ANSWER, NULL,
		"causes");
}

static void test_followups(void **state)
{
	struct hb_conversations *conv = hb_conversations_create(16, 3600);
	assert_non_null(conv);
	struct hb_reply r;
	const char *first = "how do i stop a cramp";
	assert_true(hb_engine_reply(engine, conv, "patient", first, strlen(first),
			1000, &r));
	assert_int_equal(r.kind, HB_REPLY_ANSWER);
	hb_reply_finish(&r);
	/* about cramps so far: these ask whether the subject is linked */
	expect(conv, "what about diabetes?", HB_REPLY_ANSWER, NULL,
		"linked-conditions");
	expect(conv, "and statins?", HB_REPLY_ANSWER, NULL, "linked-medicines");
	expect(conv, "kidney disease?", HB_REPLY_ANSWER, NULL, "linked-conditions");
	expect(conv, "thyroid too?", HB_REPLY_ANSWER, NULL, "linked-conditions");
	/* a statement of having it, with no question of its own */
	expect(conv, "im on dialysis", HB_REPLY_ANSWER, NULL, "linked-conditions");
	expect(conv, "i have diabetes what should i eat", HB_REPLY_FALLBACK,
		"fallback:off-topic", NULL);
	expect(conv, "why do i get leg cramps at night", HB_REPLY_ANSWER, NULL,
		"causes");
	/* a question of its own about the subject is not a follow-up */
	expect(conv, "how do I treat diabetes", HB_REPLY_FALLBACK,
		"fallback:off-topic", NULL);
	/* and after it the conversation is no longer about cramps */
	expect(conv, "what about kidney disease?", HB_REPLY_FALLBACK,
		"fallback:off-topic", NULL);
	hb_conversations_destroy(conv);
}

static void test_redflag_first(void **state)
{
	expect(NULL, "i have diabetes and crushing chest pain",
		HB_REPLY_ESCALATION, NULL, NULL);
}

/* A scratch intents directory: the shipped files with subjects.json
 * replaced by text. */
static char scratch[64];

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[8192];
	size_t n;
	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* Copies the *.json files of from/sub into to/sub (sub may be ""). */
static void copy_json(const char *from, const char *to, const char *sub)
{
	char src[512], dst[512];
	snprintf(src, sizeof(src), "%s%s", from, sub);
	snprintf(dst, sizeof(dst), "%s%s", to, sub);
	DIR *d = opendir(src);
	if (!d && *sub)
		return; /* no locales: nothing to copy */
	assert_non_null(d);
	if (*sub)
		assert_int_equal(mkdir(dst, 0700), 0);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 ||
				strcmp(de->d_name, "subjects.json") == 0)
			continue;
		snprintf(src, sizeof(src), "%s%s/%s", from, sub, de->d_name);
		snprintf(dst, sizeof(dst), "%s%s/%s", to, sub, de->d_name);
		copy_file(src, dst);
	}
	closedir(d);
}

static void make_scratch(const char *subjects)
{
	char to[512];
	strcpy(scratch, "/tmp/hb-subject-XXXXXX");
	assert_non_null(mkdtemp(scratch));
	copy_json(SOURCE_ROOT "/intents", scratch, "");
	copy_json(SOURCE_ROOT "/intents", scratch, "/locales");
	snprintf(to, sizeof(to), "%s/subjects.json", scratch);
	FILE *f = fopen(to, "w");
	assert_non_null(f);
	fputs(subjects, f);
	fclose(f);
}

static void remove_dir(const char *dir)
{
	char path[512];
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (unlink(path) != 0)
			remove_dir(path);
	}
	closedir(d);
	rmdir(dir);
}

static void remove_scratch(void)
{
	remove_dir(scratch);
}

static void load_fails(const char *subjects, const char *entry,
		const char *message)
{
	struct hb_error err;
	make_scratch(subjects);
	struct hb_engine *e = load(scratch, &err);
	remove_scratch();
	if (e) {
		hb_engine_destroy(e);
		fail_msg("loaded: %s", subjects);
	}
	assert_non_null(strstr(err.file, "subjects.json"));
	assert_string_equal(err.entry, entry);
	if (!strstr(err.message, message))
		fail_msg("message \"%s\" lacks \"%s\"", err.message, message);
}

static void test_load_errors(void **state)
{
	/* a term the article does not use names something it does not */
	load_fails("{\"subjects\": {\"mentioned\": {\"night-leg-cramps\": "
		"[\"diabetes\", \"multiple sclerosis\"]}}}",
		"subjects.mentioned.night-leg-cramps[1]",
		"does not use the word \"multipl\"");
	load_fails("{\"subjects\": {\"mentioned\": {\"night-leg-cramps\": [\"\"]}}}",
		"subjects.mentioned.night-leg-cramps[0]", "non-empty string");
	load_fails("{\"subjects\": {\"mentioned\": {\"night-leg-cramps\": \"liver\"}}}",
		"subjects.mentioned.night-leg-cramps", "list of terms");
	load_fails("{\"subjects\": {\"mentioned\": {}, \"link\": []}}",
		"subjects", "unknown key \"link\"");
	load_fails("{\"subjects\": {\"links\": []}}", "subjects", "\"mentioned\"");
	load_fails("{\"subjects\": {\"mentioned\": {}, \"links\": [\"(unclosed\"]}}",
		"subjects.links[0]", "does not compile");
	load_fails("{\"subjects\": []}", "subjects", "must be an object");
}

static void test_other_library(void **state)
{
	struct hb_error err;
	/* terms of an article the library does not have are never used */
	make_scratch("{\"subjects\": {\"mentioned\": {\"gout\": [\"purines\"]}}}");
	struct hb_engine *e = load(scratch, &err);
	remove_scratch();
	assert_non_null(e);
	hb_engine_destroy(e);
	/* and without the file the rule is off: the old behaviour */
	make_scratch("{}");
	e = load(scratch, &err);
	remove_scratch();
	assert_non_null(e);
	struct hb_reply r;
	assert_true(hb_engine_reply(e, NULL, NULL, "what causes diabetes", 20, 0, &r));
	assert_int_equal(r.kind, HB_REPLY_ANSWER);
	hb_reply_finish(&r);
	hb_engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_alone_falls_back),
		cmocka_unit_test(test_linked_answers),
		cmocka_unit_test(test_followups),
		cmocka_unit_test(test_redflag_first),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_other_library),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
