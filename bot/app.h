#ifndef HB_APP_H
#define HB_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hb_conversations;
struct hb_engine;
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

/* One message for the engine, as a channel received it. */
struct hb_app_question {
	const char *channel;      /* "widget", "relay", "matrix" */
	struct hb_conversations *convs;
	/* The channel's id of the conversation: logged only as a salted hash. */
	const char *conversation;
	/* The message: logged only when log_text is on (development). */
	const char *text;
	size_t text_len;
	/* hb_loop_now_us() when it arrived: the latency histogram counts
	 * from there to the reply being handed to the transport (deliver
	 * returning); < 0 when the channel reports it later itself
	 * (hb_metrics_latency()). */
	long long arrived_us;
	/* The channel's own logfmt fields, or NULL. Read after deliver, which
	 * may still write them (what it sent, how). */
	const char *fields;
	/* Optional: the channel's own reply instead of the engine's (Matrix
	 * staff commands); true with *out filled, false to ask the engine. */
	bool (*own)(void *data, const struct hb_engine *engine,
			struct hb_reply *out);
	/* Hands the reply to the transport. Nothing of it may be kept: it is
	 * freed when deliver returns. */
	void (*deliver)(void *data, const struct hb_reply *reply);
	void *data;
};

/*
 * The one answer path of every channel: asks the engine (read here at
 * every message, so a reload swaps it in one place) in the question's
 * conversation, times it, delivers the reply, logs its one line
 * (event=reply: ids, kinds and timings, never the text or who sent it
 * unless log_text is on) and, for an emergency, crisis or urgent reply,
 * the audit line (event=escalation_audit, written at any log level),
 * counts it in the metrics and frees it. Returns false, without calling
 * deliver, when the engine fails (out of memory; logged).
 */
bool hb_app_answer(struct hb_app *app, const struct hb_app_question *q);

/* For /readyz: NULL when ready (an engine, every channel started, not
 * shutting down), else a word saying why not. */
const char *hb_app_not_ready(const struct hb_app *app);

#endif
