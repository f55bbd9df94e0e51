/* bot/metrics.c: the registry and its Prometheus text, and the bot's own
 * families as channels feed them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthbot.h"
#include "metrics.h"

static char *render(struct hb_metrics *m)
{
	size_t len = 0;
	char *text = hb_metrics_render(m, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void assert_has(const char *text, const char *line)
{
	assert_non_null(text);
	if (!strstr(text, line))
		fail_msg("missing \"%s\" in:\n%s", line, text ? text : "");
}

static void test_counter_gauge_text(void **state)
{
	static const char *const labels[] = { "channel", "kind", NULL };
	struct hb_metrics *m = hb_metrics_create();
	struct hb_metric *c = hb_metrics_family(m, HB_METRIC_COUNTER,
		"t_total", "A test counter.", labels, NULL, 0);
	struct hb_metric *g = hb_metrics_family(m, HB_METRIC_GAUGE, "t_gauge",
		"A gauge.", NULL, NULL, 0);
	assert_non_null(c);
	assert_non_null(g);
	hb_metric_add(c, (const char *const[]){ "widget", "answer" }, 1);
	hb_metric_add(c, (const char *const[]){ "widget", "answer" }, 2);
	hb_metric_add(c, (const char *const[]){ "matrix", "fallback" }, 1);
	hb_metric_set(g, NULL, 1795000000.5);
	assert_true(hb_metric_get(c, (const char *const[]){ "widget",
		"answer" }) == 3);
	assert_true(hb_metric_get(c, (const char *const[]){ "relay",
		"answer" }) == 0);
	char *text = render(m);
	assert_has(text, "# HELP t_total A test counter.\n# TYPE t_total counter\n");
	assert_has(text, "\nt_total{channel=\"widget\",kind=\"answer\"} 3\n");
	assert_has(text, "\nt_total{channel=\"matrix\",kind=\"fallback\"} 1\n");
	assert_has(text, "# TYPE t_gauge gauge\nt_gauge 1795000000.5\n");
	free(text);
	hb_metrics_destroy(m);
}

static void test_label_values_escaped(void **state)
{
	static const char *const labels[] = { "rule", NULL };
	struct hb_metrics *m = hb_metrics_create();
	struct hb_metric *c = hb_metrics_family(m, HB_METRIC_COUNTER, "e_total",
		"Escapes.", labels, NULL, 0);
	hb_metric_add(c, (const char *const[]){ "a\"b\\c\nd" }, 1);
	char *text = render(m);
	assert_has(text, "e_total{rule=\"a\\\"b\\\\c\\nd\"} 1\n");
	free(text);
	hb_metrics_destroy(m);
}

static void test_histogram(void **state)
{
	static const char *const labels[] = { "channel", NULL };
	static const double buckets[] = { 0.001, 0.01, 0.1 };
	struct hb_metrics *m = hb_metrics_create();
	struct hb_metric *h = hb_metrics_family(m, HB_METRIC_HISTOGRAM, "h_seconds",
		"Latency.", labels, buckets, 3);
	assert_non_null(h);
	const char *const w[] = { "widget" };
	hb_metric_observe(h, w, 0.0005);
	hb_metric_observe(h, w, 0.001); /* le is inclusive */
	hb_metric_observe(h, w, 0.05);
	hb_metric_observe(h, w, 3);
	char *text = render(m);
	assert_has(text, "# TYPE h_seconds histogram\n");
	assert_has(text, "h_seconds_bucket{channel=\"widget\",le=\"0.001\"} 2\n");
	assert_has(text, "h_seconds_bucket{channel=\"widget\",le=\"0.01\"} 2\n");
	assert_has(text, "h_seconds_bucket{channel=\"widget\",le=\"0.1\"} 3\n");
	assert_has(text, "h_seconds_bucket{channel=\"widget\",le=\"+Inf\"} 4\n");
	assert_has(text, "h_seconds_sum{channel=\"widget\"} 3.0515\n");
	assert_has(text, "h_seconds_count{channel=\"widget\"} 4\n");
	free(text);
	/* buckets out of order, or a histogram without buckets: refused */
	static const double bad[] = { 0.1, 0.01 };
	assert_null(hb_metrics_family(m, HB_METRIC_HISTOGRAM, "x", "x", NULL,
		bad, 2));
	assert_null(hb_metrics_family(m, HB_METRIC_HISTOGRAM, "y", "y", NULL,
		NULL, 0));
	hb_metrics_destroy(m);
}

static void test_series_capped(void **state)
{
	static const char *const labels[] = { "intent", NULL };
	struct hb_metrics *m = hb_metrics_create();
	struct hb_metric *c = hb_metrics_family(m, HB_METRIC_COUNTER, "c_total",
		"Capped.", labels, NULL, 0);
	char id[32];
	for (int i = 0; i < HB_METRICS_MAX_SERIES + 10; i++) {
		snprintf(id, sizeof(id), "intent-%d", i);
		hb_metric_add(c, (const char *const[]){ id }, 1);
	}
	assert_true(hb_metric_get(c, (const char *const[]){ "intent-0" }) == 1);
	assert_true(hb_metric_get(c, (const char *const[]){ "other" }) == 10);
	char *text = render(m);
	assert_has(text, "c_total{intent=\"other\"} 10\n");
	free(text);
	hb_metrics_destroy(m);
}

static void test_null_is_harmless(void **state)
{
	struct hb_reply r = { .kind = HB_REPLY_ANSWER, .intent = "causes" };
	hb_metrics_destroy(NULL);
	hb_metrics_reply(NULL, "widget", &r);
	hb_metrics_latency(NULL, "widget", 0.1);
	hb_metrics_channel(NULL, "widget");
	hb_metrics_widget_clients(NULL, 3);
	hb_metrics_matrix_sync(NULL, true, 1);
	hb_metrics_reload(NULL, true, 1, 1);
	hb_metric_add(NULL, NULL, 1);
	assert_true(hb_metric_get(NULL, NULL) == 0);
	char *text = hb_metrics_render(NULL, NULL);
	assert_non_null(text);
	assert_string_equal(text, "");
	free(text);
}

/* The bot's families: by kind, category, intent and rule; the label
 * values are copies, so the engine that owned them may go. */
static void test_bot_families(void **state)
{
	struct hb_metrics *m = hb_metrics_create();
	char intent[] = "causes", category[] = "chest-pain", rule[] = "fallback:x";
	struct hb_reply answer = { .kind = HB_REPLY_ANSWER, .intent = intent };
	struct hb_reply esc = { .kind = HB_REPLY_ESCALATION,
		.severity = HB_SEVERITY_EMERGENCY, .category = category };
	struct hb_reply fb = { .kind = HB_REPLY_FALLBACK, .rule = rule };
	hb_metrics_channel(m, "relay");
	hb_metrics_reply(m, "widget", &answer);
	hb_metrics_reply(m, "widget", &esc);
	hb_metrics_reply(m, "matrix", &fb);
	hb_metrics_reply(m, "matrix", &answer);
	hb_metrics_latency(m, "widget", 0.0002);
	hb_metrics_widget_clients(m, 7);
	hb_metrics_matrix_sync(m, false, 0);
	hb_metrics_matrix_sync(m, true, 1795000000);
	hb_metrics_reload(m, false, 0, 0);
	hb_metrics_reload(m, true, 1795000001, 3);
	memset(intent, 'X', sizeof(intent) - 1);
	memset(category, 'X', sizeof(category) - 1);
	memset(rule, 'X', sizeof(rule) - 1);
	char *text = render(m);
	assert_has(text, "healthbot_messages_total{channel=\"relay\",kind=\"smalltalk\"} 0\n");
	assert_has(text, "healthbot_messages_total{channel=\"widget\",kind=\"answer\"} 1\n");
	assert_has(text, "healthbot_messages_total{channel=\"matrix\",kind=\"fallback\"} 1\n");
	assert_has(text, "healthbot_escalations_total{channel=\"widget\","
		"category=\"chest-pain\",severity=\"emergency\"} 1\n");
	assert_has(text, "healthbot_answers_total{intent=\"causes\"} 2\n");
	assert_has(text, "healthbot_fallbacks_total{rule=\"fallback:x\"} 1\n");
	assert_has(text, "healthbot_reply_duration_seconds_count{channel=\"relay\"} 0\n");
	assert_has(text, "healthbot_reply_duration_seconds_count{channel=\"widget\"} 1\n");
	assert_has(text, "healthbot_widget_clients 7\n");
	assert_has(text, "healthbot_matrix_sync_errors_total 1\n");
	assert_has(text, "healthbot_matrix_last_sync_timestamp_seconds 1795000000\n");
	assert_has(text, "healthbot_reloads_total{result=\"ok\"} 1\n");
	assert_has(text, "healthbot_reloads_total{result=\"failed\"} 1\n");
	assert_has(text, "healthbot_articles 3\n");
	assert_null(strstr(text, "XXX"));
	free(text);
	hb_metrics_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_gauge_text),
		cmocka_unit_test(test_label_values_escaped),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_series_capped),
		cmocka_unit_test(test_null_is_harmless),
		cmocka_unit_test(test_bot_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
