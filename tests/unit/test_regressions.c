/*
 * Regression tests for bugs found by fuzzing (tests/fuzz, docs/fuzzing.md):
 * each test replays the smallest input that showed the bug. Leaks are
 * caught by the asan and valgrind setups.
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

#include "buf.h"
#include "library.h"
#include "text.h"

/* Writes text to a fresh temporary file; returns its path (free it). */
static char *temp_file(const char *text)
{
	char *path = strdup("/tmp/hb-regress-XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* fuzz_article: a second "Content Last Updated:" line replaced the first
 * without freeing it. Two dates are now an error naming the second. */
static void test_two_update_lines(void **state)
{
	char *path = temp_file("< Back\n\nFixture\n\nOverview\n\n"
		"FIXTURE TEXT: invented.\n\n"
		"Content Last Updated: 01-Jan-2024\n"
		"Content Last Updated: 02-Feb-2024\n");
	struct hb_article a;
	struct hb_error err = {0};
	assert_false(hb_article_load(&a, path, "fixture", &err));
	assert_int_equal(err.line, 10);
	assert_non_null(strstr(err.message, "second"));
	unlink(path);
	free(path);
}

/* fuzz_intents: reply wording without {emergency_number} loaded, and
 * every escalation then went out without the number to call. */
static void test_escalation_wording_needs_number(void **state)
{
	char dir[] = "/tmp/hb-regress-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/a.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"redflags\": [{\"id\": \"chest\", \"category\": \"chest-pain\","
		" \"severity\": \"emergency\", \"patterns\": [\"chest pain\"]}],"
		" \"smalltalk\": [{\"id\": \"greeting\", \"patterns\": [\"^hi\"],"
		" \"reply\": \"Hello\"}, {\"id\": \"help\", \"patterns\": [\"help\"],"
		" \"reply\": \"Help\"}], \"replies\": {"
		"\"escalation_emergency\": \"Go to the emergency department now.\","
		"\"escalation_crisis\": \"Call {crisis_number} or {emergency_number}.\","
		"\"fallback\": \"No.\", \"fallback_section\": \"No.\", \"too_long\": \"Long.\","
		"\"empty\": \"Empty.\", \"disclaimer\": \"General information.\","
		"\"source\": \"Source: {title}, {updated}.\"}}", f);
	fclose(f);
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = dir,
		.no_jit = true,
	};
	struct hb_error err = {0};
	struct hb_engine *e = hb_engine_create(&o, &err);
	unlink(path);
	rmdir(dir);
	assert_null(e);
	assert_non_null(strstr(err.message, "escalation_emergency"));
	assert_non_null(strstr(err.message, "{emergency_number}"));
}

/* hostile catalogue (json-many-patterns): more patterns than the
 * prefilter has slots failed as "out of memory, or over 4096 patterns"
 * naming only the directory. Now the file and the pattern are named. */
static void test_too_many_patterns(void **state)
{
	char dir[] = "/tmp/hb-regress-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/many.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"lexicon\": [{\"id\": \"many\", \"canonical\": \"x\", "
		"\"patterns\": [", f);
	for (int i = 0; i < HB_PREFILTER_MAX_SLOTS + 10; i++)
		fprintf(f, "%s\"zzq%d\"", i ? "," : "", i);
	fputs("]}]}", f);
	fclose(f);
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = dir,
		.no_jit = true,
	};
	struct hb_error err = {0};
	struct hb_engine *e = hb_engine_create(&o, &err);
	unlink(path);
	rmdir(dir);
	assert_null(e);
	assert_non_null(strstr(err.file, "many.json"));
	assert_string_equal(err.entry, "many#4097");
	assert_non_null(strstr(err.message, "4096 patterns"));
}

/* hostile catalogue (fullwidth-latin): fullwidth letters, as CJK input
 * methods type them, were left as they were, and no red flag read "I
 * CAN'T BREATHE" typed in them as an emergency. */
static void test_fullwidth_folded(void **state)
{
	struct hb_buf out;
	const char *in = "\xef\xbc\xa9 \xef\xbd\x83\xef\xbd\x81\xef\xbd\x8e'"
		"\xef\xbd\x94 \xef\xbc\xa2\xef\xbc\xb2\xef\xbc\xa5\xef\xbc\xa1"
		"\xef\xbc\xb4\xef\xbc\xa8\xef\xbc\xa5\xef\xbc\x81";
	hb_buf_init(&out);
	hb_text_normalize(in, strlen(in), &out);
	assert_string_equal(out.data, "i can't breathe!");
	hb_buf_finish(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_update_lines),
		cmocka_unit_test(test_escalation_wording_needs_number),
		cmocka_unit_test(test_too_many_patterns),
		cmocka_unit_test(test_fullwidth_folded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
