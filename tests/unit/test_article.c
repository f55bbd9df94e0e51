#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "article.h"
#include "library.h"

static void test_seed(void **state)
{
	struct hb_article a;
	struct hb_error err = {0};
	assert_true(hb_article_load(&a, SOURCE_ROOT "/content/night-leg-cramps.txt",
		"night-leg-cramps", &err));
	assert_string_equal(a.title, "Night leg cramps");
	assert_string_equal(a.publisher, "Mayo Clinic");
	assert_string_equal(a.updated, "02-Mar-2023");
	assert_int_equal(a.updated_days, hb_article_parse_date("02-Mar-2023"));
	assert_non_null(strstr(a.copyright, "Mayo Foundation"));
	/* the page header is provenance, never answer text */
	assert_int_equal(a.n_provenance, 3);
	assert_string_equal(a.provenance[0], "Health Information Library");
	assert_int_equal(a.n_sections, 4);
	assert_string_equal(a.sections[0].heading, "Definition");
	assert_string_equal(a.sections[1].heading, "Causes");
	assert_string_equal(a.sections[2].heading, "When to see a doctor");
	assert_string_equal(a.sections[3].heading, "Self-care");
	/* lists keep their lead-in line */
	const struct hb_section *care = &a.sections[3];
	assert_int_equal(care->n_blocks, 2);
	assert_int_equal(care->blocks[1].type, HB_BLOCK_LIST);
	assert_string_equal(care->blocks[1].text, "To relieve night leg cramps, try to:");
	assert_int_equal(care->blocks[1].n_items, 4);
	assert_string_equal(care->blocks[1].items[1], "Massage the muscle with ice.");
	const struct hb_section *causes = &a.sections[1];
	const struct hb_block *linked = &causes->blocks[causes->n_blocks - 1];
	assert_int_equal(linked->n_items, 22);
	/* topic names: the title and the "also called" sentence */
	bool nocturnal = false;
	for (size_t i = 0; i < a.n_topics; i++)
		nocturnal = nocturnal || strcmp(a.topics[i].name, "nocturnal leg cramps") == 0;
	assert_true(nocturnal);
	assert_string_equal(a.topics[0].name, "night leg cramps");
	hb_article_finish(&a);
}

static void test_invalid_utf8(void **state)
{
	struct hb_article a;
	struct hb_error err = {0};
	assert_false(hb_article_load(&a, SOURCE_ROOT
		"/tests/fixtures/bad-content/invalid-utf8.txt", "x", &err));
	assert_non_null(strstr(err.file, "invalid-utf8.txt"));
	assert_int_equal(err.line, 9);
	assert_int_equal(err.column, 16);
	assert_string_equal(err.message, "invalid UTF-8");
}

static void test_no_date(void **state)
{
	struct hb_article a;
	struct hb_error err = {0};
	assert_false(hb_article_load(&a, SOURCE_ROOT "/tests/fixtures/no-date/no-date.txt",
		"no-date", &err));
	assert_non_null(strstr(err.message, "Content Last Updated"));
}

static void test_missing(void **state)
{
	struct hb_article a;
	struct hb_error err = {0};
	assert_false(hb_article_load(&a, "/nonexistent/x.txt", "x", &err));
	assert_non_null(strstr(err.message, "cannot open"));
}

static void test_dates(void **state)
{
	assert_int_equal(hb_article_parse_date("01-Jan-1970"), 0);
	assert_int_equal(hb_article_parse_date("02-Mar-2023"), 19418);
	assert_int_equal(hb_article_parse_date("garbage"), -1);
	assert_int_equal(hb_article_parse_date("01-Foo-2020"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_no_date),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests_name("article", tests, NULL, NULL);
}
