#ifndef HB_APP_H
#define HB_APP_H

#include <stddef.h>
#include <stdint.h>

struct hb_reply;

/*
 * What the channels share: the engine (read through this pointer at every
 * message, so a reload swaps it in one place; no channel keeps a pointer
 * into it, or into a reply, past the callback it got it in), the loop, the
 * config and the metrics.
 */
struct hb_app {
	struct hb_engine *engine;
	struct hb_loop *loop;
	struct hb_config *config;
	struct hb_metrics *metrics;  /* NULL: nothing is counted */
	/* Channels not ready yet (Matrix before its first sync): /readyz
	 * answers 503 until this is back to 0. */
	unsigned starting;
};

/* One answered message, as a channel reports it. */
struct hb_app_reply {
	const char *channel;      /* "widget", "relay", "matrix" */
	/* The channel's id of the conversation: logged only as a salted hash. */
	const char *conversation;
	/* The message: logged only when log_text is on (development). */
	const char *text;
	size_t text_len;
	const struct hb_reply *reply;
	long long engine_us;      /* the engine's time */
	/* From the message's arrival to the reply being handed to the
	 * transport, for the latency histogram; < 0 when the channel reports
	 * it later itself (hb_metrics_latency()). */
	long long latency_us;
	const char *fields;       /* the channel's own logfmt fields, or NULL */
};

/* Logs the message's one line (event=reply) and, for an emergency, crisis
 * or urgent reply, the audit line (event=escalation_audit, written at any
 * log level), and counts it in the metrics. */
void hb_app_replied(struct hb_app *app, const struct hb_app_reply *r);

/* For /readyz: NULL when ready (an engine, every channel started, not
 * shutting down), else a word saying why not. */
const char *hb_app_not_ready(const struct hb_app *app);

#endif
