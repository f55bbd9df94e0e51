/* What every channel does with a message: the engine call, one log line,
 * the escalation audit line, the metrics. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "healthbot.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"

/* Enough text to recognise a message while developing; never logged in
 * production (log_text). */
#define MAX_LOGGED_TEXT 300

static void log_reply(struct hb_app *app, const struct hb_app_question *q,
		const struct hb_reply *rep, long long engine_us, long long latency_us)
{
	char conv[HB_LOG_HASH_LEN];
	char intent[160], article[160], rule[160], category[96];
	char text[MAX_LOGGED_TEXT + 1], qtext[MAX_LOGGED_TEXT * 2 + 16];
	hb_log_hash(conv, q->channel, q->conversation);
	hb_log_quote(rep->intent ? rep->intent : "-", intent, sizeof(intent));
	hb_log_quote(rep->article ? rep->article : "-", article, sizeof(article));
	hb_log_quote(rep->rule ? rep->rule : "-", rule, sizeof(rule));
	hb_log_quote(rep->category ? rep->category : "-", category,
		sizeof(category));
	qtext[0] = '\0';
	if (hb_log_text_allowed() && q->text) {
		size_t n = q->text_len < MAX_LOGGED_TEXT ? q->text_len :
			MAX_LOGGED_TEXT;
		/* hb_log_quote stops at a NUL and drops control characters */
		memcpy(text, q->text, n);
		text[n] = '\0';
		snprintf(qtext, sizeof(qtext), " text=");
		hb_log_quote(text, qtext + 6, sizeof(qtext) - 6);
	}
	hb_log(HB_LOG_INFO, "reply", "channel=%s conv=%s kind=%s severity=%s "
		"intent=%s article=%s rule=%s us=%lld%s%s%s", q->channel, conv,
		hb_reply_kind_str(rep->kind), hb_severity_str(rep->severity), intent,
		article, rule, engine_us, q->fields ? " " : "",
		q->fields ? q->fields : "", qtext);
	if (rep->kind == HB_REPLY_ESCALATION)
		hb_log(HB_LOG_AUDIT, "escalation_audit", "channel=%s conv=%s "
			"rule=%s category=%s severity=%s", q->channel, conv, rule,
			category, hb_severity_str(rep->severity));
	hb_metrics_reply(app->metrics, q->channel, rep);
	if (latency_us >= 0)
		hb_metrics_latency(app->metrics, q->channel,
			(double)latency_us / 1e6);
}

bool hb_app_answer(struct hb_app *app, const struct hb_app_question *q)
{
	const struct hb_engine *engine = app->engine;
	struct hb_reply r;
	long long t0 = hb_loop_now_us();
	bool ok = q->own && q->own(q->data, engine, &r);
	if (!ok)
		ok = hb_engine_reply(engine, q->convs, q->conversation, q->text,
			q->text_len, (int64_t)(t0 / 1000000), &r);
	if (!ok) {
		char rule[160];
		hb_log(HB_LOG_ERROR, "answer", "channel=%s error=\"engine failed\" "
			"rule=%s", q->channel,
			hb_log_quote(r.rule ? r.rule : "-", rule, sizeof(rule)));
		return false;
	}
	long long t1 = hb_loop_now_us();
	q->deliver(q->data, &r);
	log_reply(app, q, &r, t1 - t0,
		q->arrived_us >= 0 ? hb_loop_now_us() - q->arrived_us : -1);
	hb_reply_finish(&r);
	return true;
}

const char *hb_app_not_ready(const struct hb_app *app)
{
	if (!app->engine)
		return "no engine";
	if (hb_loop_stopping(app->loop) || hb_loop_draining(app->loop))
		return "draining";
	if (app->starting)
		return "starting";
	return NULL;
}
