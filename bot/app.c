/* What every channel does with an answered message: one log line, the
 * escalation audit line, the metrics. */
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

void hb_app_replied(struct hb_app *app, const struct hb_app_reply *r)
{
	const struct hb_reply *rep = r->reply;
	char conv[HB_LOG_HASH_LEN];
	char intent[160], article[160], rule[160], category[96];
	char text[MAX_LOGGED_TEXT + 1], qtext[MAX_LOGGED_TEXT * 2 + 16];
	hb_log_hash(conv, r->channel, r->conversation);
	hb_log_quote(rep->intent ? rep->intent : "-", intent, sizeof(intent));
	hb_log_quote(rep->article ? rep->article : "-", article, sizeof(article));
	hb_log_quote(rep->rule ? rep->rule : "-", rule, sizeof(rule));
	hb_log_quote(rep->category ? rep->category : "-", category,
		sizeof(category));
	qtext[0] = '\0';
	if (hb_log_text_allowed() && r->text) {
		size_t n = r->text_len < MAX_LOGGED_TEXT ? r->text_len :
			MAX_LOGGED_TEXT;
		/* hb_log_quote stops at a NUL and drops control characters */
		memcpy(text, r->text, n);
		text[n] = '\0';
		snprintf(qtext, sizeof(qtext), " text=");
		hb_log_quote(text, qtext + 6, sizeof(qtext) - 6);
	}
	hb_log(HB_LOG_INFO, "reply", "channel=%s conv=%s kind=%s severity=%s "
		"intent=%s article=%s rule=%s us=%lld%s%s%s", r->channel, conv,
		hb_reply_kind_str(rep->kind), hb_severity_str(rep->severity), intent,
		article, rule, r->engine_us, r->fields ? " " : "",
		r->fields ? r->fields : "", qtext);
	if (rep->kind == HB_REPLY_ESCALATION)
		hb_log(HB_LOG_AUDIT, "escalation_audit", "channel=%s conv=%s "
			"rule=%s category=%s severity=%s", r->channel, conv, rule,
			category, hb_severity_str(rep->severity));
	hb_metrics_reply(app->metrics, r->channel, rep);
	if (r->latency_us >= 0)
		hb_metrics_latency(app->metrics, r->channel,
			(double)r->latency_us / 1e6);
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
