#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "convo.h"

static struct hb_convo_state st(const char *article)
{
	struct hb_convo_state s = {0};
	strcpy(s.article, article);
	return s;
}

static void test_lru(void **state)
{
	struct hb_conversations *c = hb_conversations_create(2, 0);
	struct hb_convo_state got, a = st("a"), b = st("b"), x = st("x");
	assert_non_null(c);
	assert_true(hb_convo_put(c, "one", 1, &a));
	assert_true(hb_convo_put(c, "two", 2, &b));
	assert_true(hb_convo_get(c, "one", 3, &got)); /* "one" is fresh again */
	assert_true(hb_convo_put(c, "one", 3, &a));
	assert_true(hb_convo_put(c, "three", 4, &x)); /* evicts "two" */
	assert_int_equal(hb_conversations_count(c), 2);
	assert_false(hb_convo_get(c, "two", 5, &got));
	assert_true(hb_convo_get(c, "one", 5, &got));
	assert_string_equal(got.article, "a");
	hb_conversations_forget(c, "one");
	assert_false(hb_convo_get(c, "one", 5, &got));
	assert_int_equal(hb_conversations_count(c), 1);
	hb_conversations_destroy(c);
	hb_conversations_destroy(NULL);
}

static void test_age(void **state)
{
	struct hb_conversations *c = hb_conversations_create(100, 60);
	struct hb_convo_state got, a = st("a");
	assert_true(hb_convo_put(c, "old", 0, &a));
	assert_true(hb_convo_get(c, "old", 60, &got));
	assert_false(hb_convo_get(c, "old", 200, &got));
	assert_int_equal(hb_conversations_count(c), 0);
	/* stale entries go when others are written, not only when read */
	assert_true(hb_convo_put(c, "x", 1000, &a));
	assert_true(hb_convo_put(c, "y", 2000, &a));
	assert_int_equal(hb_conversations_count(c), 1);
	hb_conversations_destroy(c);
}

static void test_many(void **state)
{
	struct hb_conversations *c = hb_conversations_create(1000, 0);
	struct hb_convo_state a = st("a"), got;
	char id[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "conv-%d", i);
		assert_true(hb_convo_put(c, id, i, &a));
	}
	assert_int_equal(hb_conversations_count(c), 1000);
	assert_true(hb_convo_get(c, "conv-4999", 5000, &got));
	assert_false(hb_convo_get(c, "conv-0", 5000, &got));
	hb_conversations_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests_name("convo", tests, NULL, NULL);
}
