/*
 * Typos of red-flag words (bot/engine/typo.c) and the reply language
 * (bot/engine/lang.c), on the project's own library.
 *
 * `test_typo --vocabulary CONTENT INTENTS` prints the red-flag vocabulary
 * instead, prefixes marked "*" (for tools/typo-guard.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "library.h"
#include "text.h"
#include "typo.h"

static struct hb_engine *engine;

static struct hb_engine *load(const char *content, const char *intents)
{
	struct hb_engine_options o = {
		.content_dir = content,
		.intents_dir = intents,
		/* valgrind cannot follow JIT code reading past a match */
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	struct hb_error err;
	struct hb_engine *e = hb_engine_create(&o, &err);
	if (!e)
		fprintf(stderr, "%s: %s: %s\n", err.file, err.entry, err.message);
	return e;
}

static int setup(void **state)
{
	engine = load(SOURCE_ROOT "/content", SOURCE_ROOT "/intents");
	return engine ? 0 : -1;
}

static int teardown(void **state)
{
	hb_engine_destroy(engine);
	return 0;
}

static bool slip(const char *a, const char *b)
{
	return hb_typo_one_slip(a, strlen(a), b, strlen(b));
}

static void test_one_slip(void **state)
{
	assert_true(slip("sever", "severe"));     /* dropped letter */
	assert_true(slip("bleding", "bleeding"));
	assert_true(slip("breate", "breathe"));
	assert_true(slip("breth", "breath"));
	assert_true(slip("chset", "chest"));      /* swapped letters */
	assert_true(slip("hcest", "chest"));      /* swapped first two */
	assert_true(slip("chesr", "chest"));      /* r is next to t */
	assert_true(slip("bleedding", "bleeding")); /* extra letter */
	assert_true(slip("ambulence", "ambulance")); /* a vowel for a vowel */
	assert_true(slip("pestiside", "pesticide")); /* c sounds like s */
	assert_false(slip("ambulanpe", "ambulance")); /* p is no slip of c */
	assert_false(slip("chess", "chest"));     /* s is not next to t */
	assert_false(slip("hest", "chest"));      /* the first letter stays */
	assert_false(slip("xchest", "chest"));
	assert_false(slip("chest", "chest"));     /* no slip at all */
	assert_false(slip("brath", "breathe"));   /* two slips */
}

/* The corrected copy, or "-" when nothing is corrected. */
static void corrected(const char *msg, const char *want)
{
	struct hb_buf n, f;
	struct hb_wordscan scan;
	hb_buf_init(&n);
	hb_buf_init(&f);
	hb_text_normalize(msg, strlen(msg), &n);
	hb_typo_scan(engine, n.data, n.len, &scan);
	bool changed = hb_typo_correct(engine, n.data, n.len, &scan, &f);
	assert_string_equal(changed ? f.data : "-", want);
	hb_buf_finish(&n);
	hb_buf_finish(&f);
}

static void test_correct(void **state)
{
	corrected("my chset hurts", "my chest hurts");
	corrected("I keep cuting myself", "i keep cutting myself");
	corrected("he is bleding a lot", "he is bleeding a lot");
	/* real words are no typos */
	corrected("I play chess", "-");
	corrected("what causes night leg cramps", "-");
	corrected("my calves cramp every night", "-");
	/* an unknown subject that is no slip of a red-flag word */
	corrected("can statins cause cramps", "-");
	/* a Spanish message, toward Spanish words only */
	corrected("me duele el pexho", "me duele el pecho");
	corrected("tuve un infarto hace a\xc3\xb1os", "-");
}

static bool escalates(const char *msg)
{
	struct hb_reply r;
	assert_true(hb_engine_reply(engine, NULL, NULL, msg, strlen(msg), 0, &r));
	bool esc = r.kind == HB_REPLY_ESCALATION;
	hb_reply_finish(&r);
	return esc;
}

static void test_escalates(void **state)
{
	static const char *const typos[] = {
		"i cant breth", "i cant breate", "my chset hurts so much",
		"he is bleding a lot", "I have sever chest pain",
		"i keep cuting myself", "sudden vison loss in one eye",
		"i need an ambulence now", "hit my hed and been sick twice",
		"cramps after being exposed to pestiside",
	};
	for (size_t i = 0; i < sizeof(typos) / sizeof(typos[0]); i++) {
		if (!escalates(typos[i]))
			fail_msg("did not escalate: %s", typos[i]);
	}
	assert_false(escalates("I play chess and my leg cramps at night"));
}

static void test_vocabulary(void **state)
{
	const char **words;
	size_t n = hb_typo_vocabulary(engine, &words);
	bool chest = false, bleeding = false;
	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		assert_true(strlen(words[i]) >= 4);
		chest = chest || strcmp(words[i], "chest") == 0;
		bleeding = bleeding || strcmp(words[i], "bleeding") == 0;
	}
	assert_true(chest && bleeding);
}

static void reply(const char *msg, struct hb_reply *r)
{
	assert_true(hb_engine_reply(engine, NULL, NULL, msg, strlen(msg), 0, r));
}

static void test_language(void **state)
{
	struct hb_reply r;
	/* a Spanish emergency: Spanish wording with the configured number */
	reply("me duele el pecho y no puedo respirar", &r);
	assert_int_equal(r.kind, HB_REPLY_ESCALATION);
	assert_string_equal(r.lang, "es");
	assert_non_null(strstr(r.text, "Llame al 911"));
	hb_reply_finish(&r);
	reply("quiero morir", &r);
	assert_int_equal(r.kind, HB_REPLY_ESCALATION);
	assert_string_equal(r.lang, "es");
	assert_non_null(strstr(r.text, "988"));
	hb_reply_finish(&r);
	/* English stays English */
	reply("I can't breathe", &r);
	assert_string_equal(r.lang, "en");
	assert_null(strstr(r.text, "Llame"));
	hb_reply_finish(&r);
	reply("what causes night leg cramps?", &r);
	assert_int_equal(r.kind, HB_REPLY_ANSWER);
	assert_string_equal(r.lang, "en");
	hb_reply_finish(&r);
	/* a Spanish question out of scope: the Spanish fallback */
	reply("\xc2\xbf" "qu\xc3\xa9 es la gota?", &r);
	assert_int_equal(r.kind, HB_REPLY_FALLBACK);
	assert_string_equal(r.lang, "es");
	assert_non_null(strstr(r.text, "Lo siento"));
	hb_reply_finish(&r);
}

static void test_library_note(void **state)
{
	struct hb_reply r, en;
	/* in scope in Spanish: the English passage, as written, under a
	 * Spanish line saying so */
	reply("\xc2\xbf" "qu\xc3\xa9 causa los calambres nocturnos en las piernas?", &r);
	reply("what causes night leg cramps?", &en);
	assert_string_equal(r.lang, "es");
	if (r.kind == HB_REPLY_ANSWER) {
		assert_non_null(strstr(r.text, "ingl\xc3\xa9s"));
		assert_non_null(strstr(r.text, en.text));
	} else {
		assert_int_equal(r.kind, HB_REPLY_FALLBACK);
		assert_non_null(strstr(r.text, "Lo siento"));
	}
	hb_reply_finish(&r);
	hb_reply_finish(&en);
}

static void test_empty_library_words(void **state)
{
	struct hb_wordscan scan;
	hb_typo_scan(engine, "", 0, &scan);
	assert_int_equal(scan.n_unknown, 0);
	hb_typo_scan(engine, "\xef\xbf\xbd \xef\xbf\xbd 123 'x'", 14, &scan);
	assert_int_equal(scan.n_unknown, 0);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--vocabulary") == 0) {
		struct hb_engine *e = load(argv[2], argv[3]);
		const char **words;
		if (!e)
			return 1;
		size_t n = hb_typo_vocabulary(e, &words);
		for (size_t i = 0; i < n; i++)
			printf("%s%s\n", words[i],
				hb_typo_vocabulary_prefix(e, i) ? "*" : "");
		hb_engine_destroy(e);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_slip),
		cmocka_unit_test(test_correct),
		cmocka_unit_test(test_escalates),
		cmocka_unit_test(test_vocabulary),
		cmocka_unit_test(test_language),
		cmocka_unit_test(test_library_note),
		cmocka_unit_test(test_empty_library_words),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
