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

#include "library.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_update_lines),
		cmocka_unit_test(test_escalation_wording_needs_number),
		cmocka_unit_test(test_too_many_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
