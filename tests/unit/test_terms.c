/*
 * Term classes: {NAME} expands to (?:a|b) and nothing else with braces
 * changes; unknown terms, cycles and duplicates fail with file, entry and
 * offset; through the loader, terms span files, "urgent" red flags get
 * their own wording and lose to an emergency, "lang" marks a file's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "classify.h"
#include "library.h"
#include "terms.h"

static struct hb_terms *make(const char *json, const char *file,
		struct hb_error *err)
{
	struct hb_terms *t = hb_terms_create();
	cJSON *obj = cJSON_Parse(json);
	assert_non_null(t);
	assert_non_null(obj);
	bool ok = hb_terms_add(t, file, obj, err);
	cJSON_Delete(obj);
	if (!ok) {
		hb_terms_destroy(t);
		return NULL;
	}
	return t;
}

/* The expansion of src, or NULL (err set). */
static char *expand(struct hb_terms *t, const char *src, struct hb_error *err)
{
	struct hb_buf out;
	hb_buf_init(&out);
	if (!hb_terms_expand(t, "f.json", "rule#1", src, &out, err)) {
		hb_buf_finish(&out);
		return NULL;
	}
	return hb_buf_steal(&out);
}

static void expands_to(struct hb_terms *t, const char *src, const char *want)
{
	struct hb_error err = {0};
	char *got = expand(t, src, &err);
	if (!got)
		fail_msg("%s: %s", src, err.message);
	assert_string_equal(got, want);
	free(got);
}

static void test_expand(void **state)
{
	(void)state;
	struct hb_error err;
	struct hb_terms *t = make("{\"LEG\": [\"legs?\", \"calf\"], \"SELF\": "
		"[\"my ?self\", \"myself\"], \"LIMB\": [\"{LEG}\", \"arms?\"], "
		"\"X_2\": [\"a|b\"]}", "terms.json", &err);
	assert_non_null(t);
	expands_to(t, "\\b{LEG}\\b", "\\b(?:legs?|calf)\\b");
	expands_to(t, "hurt {SELF} and {LEG}", "hurt (?:my ?self|myself) and (?:legs?|calf)");
	/* a term made of terms; a term whose alternative holds a | */
	expands_to(t, "{LIMB}", "(?:(?:legs?|calf)|arms?)");
	expands_to(t, "{X_2}c", "(?:a|b)c");
	/* the same text with no term is copied unchanged */
	expands_to(t, "plain (?:text)", "plain (?:text)");
	hb_terms_destroy(t);
}

/* Only {NAME} with NAME in [A-Z][A-Z0-9_]* is a term: every other brace
 * PCRE2 gives a meaning keeps it. */
static void test_pcre2_braces_untouched(void **state)
{
	(void)state;
	struct hb_error err;
	struct hb_terms *t = make("{\"LEG\": [\"leg\"], \"FF\": [\"no\"], "
		"\"LU\": [\"no\"]}", "terms.json", &err);
	assert_non_null(t);
	expands_to(t, "a{2,3}b{2}c{2,}", "a{2,3}b{2}c{2,}");
	expands_to(t, "\\x{FF}\\o{17}\\p{Lu}\\P{Lu}\\N{U+41}", "\\x{FF}\\o{17}\\p{Lu}\\P{Lu}\\N{U+41}");
	expands_to(t, "(?<n>a)\\k{n}\\g{1}", "(?<n>a)\\k{n}\\g{1}");
	expands_to(t, "\\{LEG}", "\\{LEG}");
	expands_to(t, "[{LEG}]x", "[{LEG}]x");
	expands_to(t, "[]{LEG}]x{LEG}", "[]{LEG}]x(?:leg)");
	expands_to(t, "[[:alpha:]{LEG}]{LEG}", "[[:alpha:]{LEG}](?:leg)");
	expands_to(t, "\\Q{LEG}\\E{LEG}", "\\Q{LEG}\\E(?:leg)");
	expands_to(t, "{leg}{Leg}{LEG", "{leg}{Leg}{LEG");
	expands_to(t, "\\b{LEG}\\B{LEG}", "\\b(?:leg)\\B(?:leg)");
	/* a backslash at the very end is PCRE2's error to report, not ours */
	expands_to(t, "{LEG}\\", "(?:leg)\\");
	hb_terms_destroy(t);
}

static void test_unknown(void **state)
{
	(void)state;
	struct hb_error err = {0};
	struct hb_terms *t = make("{\"LEG\": [\"leg\", \"{ARM}\"]}", "t.json", &err);
	assert_non_null(t);
	assert_null(expand(t, "chest {PAIN}", &err));
	assert_string_equal(err.file, "f.json");
	assert_string_equal(err.entry, "rule#1");
	assert_int_equal(err.column, 7); /* offset 6 */
	assert_non_null(strstr(err.message, "unknown term {PAIN} at offset 6"));
	/* inside a term: named by the term's file and alternative */
	assert_null(expand(t, "{LEG}", &err));
	assert_string_equal(err.file, "t.json");
	assert_string_equal(err.entry, "terms.LEG[2]");
	assert_non_null(strstr(err.message, "unknown term {ARM}"));
	hb_terms_destroy(t);
	/* no terms anywhere: a reference is still an error */
	assert_false(hb_terms_expand(NULL, "f.json", "r#1", "{LEG}", &(struct hb_buf){0}, &err));
	assert_non_null(strstr(err.message, "unknown term {LEG}"));
}

static void test_cycle(void **state)
{
	(void)state;
	struct hb_error err = {0};
	struct hb_terms *t = make("{\"A\": [\"a\", \"{B}\"], \"B\": [\"{C}\"], "
		"\"C\": [\"x{A}\"], \"SELF_LOOP\": [\"{SELF_LOOP}\"]}", "t.json", &err);
	assert_non_null(t);
	assert_null(expand(t, "{A}", &err));
	assert_string_equal(err.file, "t.json");
	assert_non_null(strstr(err.message, "cycle: {A} -> {B} -> {C} -> {A}"));
	hb_terms_destroy(t);
	t = make("{\"SELF_LOOP\": [\"{SELF_LOOP}\"]}", "t.json", &err);
	/* unused by any pattern: still found once loading is over */
	assert_false(hb_terms_finish_load(t, &err));
	assert_string_equal(err.entry, "terms.SELF_LOOP");
	assert_non_null(strstr(err.message, "cycle: {SELF_LOOP} -> {SELF_LOOP}"));
	hb_terms_destroy(t);
}

static void test_bad_definitions(void **state)
{
	(void)state;
	struct hb_error err = {0};
	assert_null(make("{\"leg\": [\"x\"]}", "t.json", &err));
	assert_string_equal(err.entry, "terms.leg");
	assert_null(make("{\"LEG\": []}", "t.json", &err));
	assert_non_null(strstr(err.message, "non-empty list"));
	assert_null(make("{\"LEG\": \"legs?\"}", "t.json", &err));
	assert_null(make("{\"LEG\": [\"x\", \"\"]}", "t.json", &err));
	assert_non_null(strstr(err.message, "alternative 2"));
	assert_null(make("[\"LEG\"]", "t.json", &err));
	/* one namespace across files */
	struct hb_terms *t = make("{\"LEG\": [\"x\"]}", "a.json", &err);
	cJSON *obj = cJSON_Parse("{\"ARM\": [\"y\"], \"LEG\": [\"z\"]}");
	assert_false(hb_terms_add(t, "b.json", obj, &err));
	assert_string_equal(err.file, "b.json");
	assert_non_null(strstr(err.message, "{LEG} is already defined in a.json"));
	cJSON_Delete(obj);
	hb_terms_destroy(t);
	hb_terms_destroy(NULL);
}

static void test_used(void **state)
{
	(void)state;
	struct hb_error err;
	struct hb_terms *t = make("{\"LEG\": [\"leg\"], \"LIMB\": [\"{LEG}\", \"arm\"], "
		"\"SPARE\": [\"s\"], \"SPARE_PART\": [\"{SPARE}\"]}", "t.json", &err);
	char *s = expand(t, "{LIMB}", &err);
	free(s);
	assert_true(hb_terms_finish_load(t, &err));
	for (size_t i = 0; i < t->n; i++) {
		bool want = strncmp(t->items[i].name, "SPARE", 5) != 0;
		if (t->items[i].used != want)
			fail_msg("{%s} used: %d", t->items[i].name, t->items[i].used);
	}
	hb_terms_destroy(t);
}

/* Through the loader: a term defined in one file and used in another,
 * the expansion is what runs, urgent and lang. */
#define REPLIES "\"replies\": {\"escalation_emergency\": \"Call {emergency_number}.\"," \
	"\"escalation_crisis\": \"Call {crisis_number} or {emergency_number}.\"," \
	"\"escalation_urgent\": \"Soon. Or {emergency_number}.\"," \
	"\"fallback\": \"No. {topics}\"," \
	"\"fallback_section\": \"{title}: {sections}\", \"too_long\": \"Long.\"," \
	"\"empty\": \"Empty.\", \"disclaimer\": \"General information.\"," \
	"\"source\": \"Source: {title}, {publisher}, {updated}.\"}," \
	"\"smalltalk\": [{\"id\": \"greeting\", \"patterns\": [\"^hi\"], " \
	"\"reply\": \"Hello\"}, {\"id\": \"help\", \"patterns\": [\"help\"], \"reply\": \"Help\"}]"

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

static void remove_file(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
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

static void reply_is(struct hb_engine *e, const char *msg, enum hb_reply_kind kind,
		const char *category, const char *text)
{
	struct hb_reply r;
	assert_true(hb_engine_reply(e, NULL, NULL, msg, strlen(msg), 0, &r));
	if (r.kind != kind || (category && strcmp(r.category ? r.category : "", category)))
		fail_msg("%s: kind %d category %s", msg, r.kind, r.category ? r.category : "-");
	if (text)
		assert_string_equal(r.text, text);
	hb_reply_finish(&r);
}

static void test_loader(void **state)
{
	(void)state;
	struct hb_error err;
	strcpy(dir, "/tmp/hb-terms-XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* b.json uses {LEG} that c.json (read after it) defines */
	write_file("a.json", "{" REPLIES "}");
	write_file("b.json", "{\"redflags\": ["
		"{\"id\": \"sick\", \"category\": \"vomiting\", \"severity\": \"urgent\", "
		"\"patterns\": [\"\\\\bvomit\\\\w*\"]},"
		"{\"id\": \"cold\", \"category\": \"limb\", \"severity\": \"emergency\", "
		"\"patterns\": [\"\\\\bcold {LEG}\\\\b\"]}]}");
	write_file("c.json", "{\"terms\": {\"LEG\": [\"legs?\", \"foot\"], \"UNUSED\": [\"x\"]},"
		"\"lang\": \"es\", \"redflags\": [{\"id\": \"pierna\", \"category\": \"limb\", "
		"\"severity\": \"emergency\", \"patterns\": [\"\\\\bpierna fria\\\\b\"]}]}");
	struct hb_engine *e = load(&err);
	if (!e)
		fail_msg("%s: %s: %s", err.file, err.entry, err.message);
	reply_is(e, "my foot is cold, a cold foot", HB_REPLY_ESCALATION, "limb", NULL);
	reply_is(e, "cold legs", HB_REPLY_ESCALATION, "limb", NULL);
	reply_is(e, "cold hands", HB_REPLY_FALLBACK, NULL, NULL);
	/* urgent: its own wording; an emergency later in the file wins */
	reply_is(e, "I keep vomiting", HB_REPLY_ESCALATION, "vomiting", "Soon. Or 911.");
	reply_is(e, "vomiting with a cold leg", HB_REPLY_ESCALATION, "limb", NULL);
	struct hb_reply r;
	assert_true(hb_engine_reply(e, NULL, NULL, "I keep vomiting", 15, 0, &r));
	assert_int_equal(r.severity, HB_SEVERITY_URGENT);
	hb_reply_finish(&r);
	for (size_t i = 0; i < e->n_redflags; i++) {
		const struct hb_redflag *rf = &e->redflags[i];
		if (strcmp(rf->id, "pierna") == 0)
			assert_string_equal(rf->lang, "es");
		else
			assert_null(rf->lang);
	}
	/* the pattern the prefilter and PCRE2 see is the expanded one */
	for (size_t i = 0; i < e->n_redflags; i++) {
		if (strcmp(e->redflags[i].id, "cold") == 0)
			assert_string_equal(e->redflags[i].patterns.items[0].source,
				"\\bcold (?:legs?|foot)\\b");
	}
	for (size_t i = 0; i < e->terms->n; i++)
		assert_int_equal(e->terms->items[i].used,
			strcmp(e->terms->items[i].name, "UNUSED") != 0);
	hb_engine_destroy(e);

	/* an unknown term names the file, the pattern and the offset */
	write_file("b.json", "{\"redflags\": [{\"id\": \"cold\", \"category\": \"limb\", "
		"\"severity\": \"emergency\", \"patterns\": [\"x\", \"\\\\bcold {LEGS}\"]}]}");
	assert_null(load(&err));
	assert_non_null(strstr(err.file, "b.json"));
	assert_string_equal(err.entry, "cold#2");
	assert_int_equal(err.column, 8);
	assert_non_null(strstr(err.message, "unknown term {LEGS}"));
	/* a bad "lang" and a bad severity */
	write_file("b.json", "{\"lang\": \"Spanish!\", \"redflags\": []}");
	assert_null(load(&err));
	assert_string_equal(err.entry, "lang");
	write_file("b.json", "{\"redflags\": [{\"id\": \"x\", \"category\": \"c\", "
		"\"severity\": \"none\", \"patterns\": [\"x\"]}]}");
	assert_null(load(&err));
	assert_non_null(strstr(err.message, "\"urgent\""));
	remove_file("a.json");
	remove_file("b.json");
	remove_file("c.json");
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_pcre2_braces_untouched),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_bad_definitions),
		cmocka_unit_test(test_used),
		cmocka_unit_test(test_loader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
