/*
 * Carrying out a batch's tasks, one at a time: joining or declining
 * invites, and answering messages.
 *
 * Exactly once: a reply is sent with a transaction id derived from the
 * event it answers, so sending it again after a crash (the batch is
 * replayed because its sync token was not saved yet) gives the server's
 * copy back instead of a second message; and an answered event is
 * remembered durably before the next one is handled, so a replay skips
 * it without asking the server at all.
 */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "client.h"
#include "command.h"
#include "healthbot.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

void hb_mx_task_finish(struct hb_mx_task *t)
{
	free(t->room_id);
	free(t->event_id);
	free(t->sender);
	free(t->thread_root);
	free(t->text);
	free(t->from);
	free(t->to);
	*t = (struct hb_mx_task){0};
}

static void next_task(struct hb_mx_client *c)
{
	free(c->send_body);
	c->send_body = NULL;
	c->cur++;
	hb_mx_task_run(c);
}

/* "/_matrix/client/v3/rooms/ROOM" + tail pieces, each encoded */
static char *room_path(const char *room_id, const char *verb,
		const char *arg1, const char *arg2)
{
	struct hb_buf p;
	hb_buf_init(&p);
	hb_buf_puts(&p, "/_matrix/client/v3/rooms/");
	hb_mx_urlencode(&p, room_id);
	hb_buf_printf(&p, "/%s", verb);
	if (arg1) {
		hb_buf_puts(&p, "/");
		hb_mx_urlencode(&p, arg1);
	}
	if (arg2) {
		hb_buf_puts(&p, "/");
		hb_mx_urlencode(&p, arg2);
	}
	return hb_buf_steal(&p);
}

/* ---- invites ---- */

static void on_membership(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	const struct hb_mx_task *t = &c->tasks[c->cur];
	const char *kind = t->kind == HB_MX_TASK_JOIN ? "join" : "decline";
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, kind, res, &delay);
	if (o == HB_MX_RETRY) {
		hb_mx_client_later(c, delay, hb_mx_task_run);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	hb_log(HB_LOG_INFO, "matrix_membership", "action=%s ok=%s ms=%lld", kind,
		o == HB_MX_OK ? "yes" : "no", res->elapsed_ms);
	next_task(c);
}

static void membership(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	char *path;
	if (t->kind == HB_MX_TASK_JOIN) {
		struct hb_buf p;
		hb_buf_init(&p);
		hb_buf_puts(&p, "/_matrix/client/v3/join/");
		hb_mx_urlencode(&p, t->room_id);
		path = hb_buf_steal(&p);
	} else {
		path = room_path(t->room_id, "leave", NULL, NULL);
	}
	if (!path) {
		hb_mx_client_fatal(c, "out of memory");
		return;
	}
	hb_mx_client_call(c, t->kind == HB_MX_TASK_JOIN ? "join" : "decline",
		"POST", path, "{}", 0, on_membership);
	free(path);
}

/* ---- back-fill of a cut-short timeline ---- */

#define BACKFILL_PAGE 100

static void on_backfill(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	long delay;
	bool more = false;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "backfill", res, &delay);
	if (o == HB_MX_RETRY) {
		hb_mx_client_later(c, delay, hb_mx_task_run);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	/* refused (the bot left the room meanwhile, say): answer what came */
	if (o == HB_MX_OK && !hb_mx_sync_backfill_page(c, res->body, res->len,
			&more)) {
		hb_mx_client_fatal(c, "out of memory");
		return;
	}
	if (more) {
		hb_mx_task_run(c);
		return;
	}
	if (!hb_mx_sync_backfill_insert(c)) {
		hb_mx_client_fatal(c, "out of memory");
		return;
	}
	next_task(c);
}

static void backfill(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	struct hb_buf p;
	hb_buf_init(&p);
	hb_buf_puts(&p, "/_matrix/client/v3/rooms/");
	hb_mx_urlencode(&p, t->room_id);
	hb_buf_printf(&p, "/messages?dir=b&limit=%d&from=", BACKFILL_PAGE);
	hb_mx_urlencode(&p, t->from);
	hb_buf_puts(&p, "&to=");
	hb_mx_urlencode(&p, t->to);
	hb_buf_puts(&p, "&filter=");
	hb_mx_urlencode(&p,
		"{\"types\":[\"m.room.message\",\"m.room.member\"]}");
	if (p.oom)
		hb_mx_client_fatal(c, "out of memory");
	else
		hb_mx_client_call(c, "backfill", "GET", p.data, NULL, 0, on_backfill);
	hb_buf_finish(&p);
}

/* ---- answers ---- */

static void on_members(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	const struct hb_mx_task *t = &c->tasks[c->cur];
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "members", res, &delay);
	if (o == HB_MX_RETRY) {
		hb_mx_client_later(c, delay, hb_mx_task_run);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	int joined = -1;
	if (o == HB_MX_OK) {
		cJSON *root = hb_json_parse(res->body, res->len, NULL);
		const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "joined");
		if (cJSON_IsObject(map))
			joined = cJSON_GetArraySize(map);
		cJSON_Delete(root);
	}
	if (joined < 0) {
		/* no longer in the room, or a strange answer: leave it be */
		next_task(c);
		return;
	}
	hb_mx_store_set_members(c->store, t->room_id, joined, 0);
	hb_mx_task_run(c);
}

static void fire_typing(struct hb_mx_client *c, const struct hb_mx_task *t,
		bool on)
{
	if (!c->cfg.typing)
		return;
	char *path = room_path(t->room_id, "typing", c->cfg.user_id, NULL);
	if (path)
		hb_mx_client_fire(c, "typing", "PUT", path, on ?
			"{\"typing\":true,\"timeout\":30000}" : "{\"typing\":false}");
	free(path);
}

static void fire_receipt(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	if (!c->cfg.read_receipts)
		return;
	char *path = room_path(t->room_id, "receipt", "m.read", t->event_id);
	if (path)
		hb_mx_client_fire(c, "receipt", "POST", path, "{}");
	free(path);
}

struct composing {
	struct hb_mx_client *c;
	const struct hb_mx_task *t;
	bool dm;
	const char *command;  /* a staff command's name, or NULL */
	char *body;
	bool urgent;
	char fields[128];
};

static bool run_command(void *data, const struct hb_engine *engine,
		struct hb_reply *out)
{
	struct composing *k = data;
	if (k->t->prefixed && hb_mx_command_run(engine,
			k->c->cfg.command_prefix, k->t->text, out, &k->command))
		return true;
	k->command = NULL;
	return false;
}

static void deliver(void *data, const struct hb_reply *r)
{
	struct composing *k = data;
	const struct hb_mx_task *t = k->t;
	k->urgent = r->kind == HB_REPLY_ESCALATION;
	k->body = r->text ? hb_mx_event_reply_json(r->text, r->html, k->urgent,
		t->event_id, t->thread_root, t->sender) : NULL;
	/* the room's kind, not its id; the conversation as a salted hash of
	 * a hash */
	snprintf(k->fields, sizeof(k->fields), "command=%s room=%s thread=%s "
		"via=%s", k->command ? k->command : "-", k->dm ? "direct" : "group",
		t->thread_root ? "yes" : "no",
		t->prefixed ? "prefix" : t->mentioned ? "mention" : "direct");
}

/* The reply's content, or NULL when there is nothing to send. */
static char *compose(struct hb_mx_client *c, const struct hb_mx_task *t,
		bool dm, bool *urgent)
{
	struct composing k = { .c = c, .t = t, .dm = dm };
	/* context follows the room and thread; in a group room each person
	 * has their own, so one patient's topic does not leak into
	 * another's question */
	char conv[HB_MX_HASH_HEX];
	hb_mx_hash(conv, t->room_id, t->thread_root, dm ? NULL : t->sender);
	if (!hb_app_answer(c->app, &(struct hb_app_question){
			.channel = "matrix",
			.convs = c->convs,
			.conversation = conv,
			.text = t->text,
			.text_len = strlen(t->text),
			.arrived_us = -1, /* once the homeserver has it: on_sent() */
			.fields = k.fields,
			.own = run_command,
			.deliver = deliver,
			.data = &k,
		}))
		return NULL;
	*urgent = k.urgent;
	return k.body;
}

static void on_sent(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	const struct hb_mx_task *t = &c->tasks[c->cur];
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "send", res, &delay);
	if (o == HB_MX_RETRY) {
		/* same body, same transaction id */
		hb_mx_client_later(c, delay, hb_mx_task_run);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	if (o == HB_MX_OK && c->test_kill_after_send > 0 &&
			--c->test_kill_after_send == 0) {
		/* fault injection: die at the worst moment, the reply out
		 * and nothing saved, as a power cut could */
		hb_log(HB_LOG_WARN, "matrix_test_kill", "after=send");
		raise(SIGKILL);
	}
	/* a refusal (no permission to post, room gone) would be refused
	 * again on replay: count it as handled too */
	hb_mx_store_mark_handled(c->store, t->event_id);
	hb_mx_store_save(c->store);
	fire_typing(c, t, false);
	long long total_us = hb_loop_now_us() - c->task_started_us;
	if (o == HB_MX_OK)
		hb_metrics_latency(c->app->metrics, "matrix", (double)total_us / 1e6);
	hb_log(HB_LOG_INFO, "matrix_sent", "ok=%s urgent=%s ms=%lld total_ms=%lld",
		o == HB_MX_OK ? "yes" : "no", c->send_urgent ? "yes" : "no",
		res->elapsed_ms, total_us / 1000);
	next_task(c);
}

static void send_reply(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	char txn[HB_MX_HASH_HEX + 3];
	char hash[HB_MX_HASH_HEX];
	hb_mx_hash(hash, "reply", t->event_id, NULL);
	snprintf(txn, sizeof(txn), "hb%s", hash);
	char *path = room_path(t->room_id, "send", "m.room.message", txn);
	if (!path) {
		hb_mx_client_fatal(c, "out of memory");
		return;
	}
	hb_mx_client_call(c, "send", "PUT", path, c->send_body, 0, on_sent);
	free(path);
}

/* Returns true when a request is under way for the task. */
static bool answer(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	if (c->send_body) {
		send_reply(c, t);
		return true;
	}
	if (hb_mx_store_handled(c->store, t->event_id)) {
		hb_log(HB_LOG_INFO, "matrix_skip", "reason=already-answered");
		return false;
	}
	int members = hb_mx_store_members(c->store, t->room_id);
	if (members < 0) {
		char *path = room_path(t->room_id, "joined_members", NULL, NULL);
		if (!path) {
			hb_mx_client_fatal(c, "out of memory");
			return true;
		}
		hb_mx_client_call(c, "members", "GET", path, NULL, 0, on_members);
		free(path);
		return true;
	}
	bool dm = members <= 2;
	if (!dm && !t->mentioned && !t->prefixed) {
		hb_log(HB_LOG_DEBUG, "matrix_skip", "reason=not-addressed");
		return false;
	}
	c->task_started_us = hb_loop_now_us();
	fire_receipt(c, t);
	fire_typing(c, t, true);
	c->send_body = compose(c, t, dm, &c->send_urgent);
	if (!c->send_body) {
		fire_typing(c, t, false);
		return false;
	}
	send_reply(c, t);
	return true;
}

void hb_mx_task_run(struct hb_mx_client *c)
{
	while (!c->fatal && c->cur < c->n_tasks) {
		const struct hb_mx_task *t = &c->tasks[c->cur];
		if (t->kind == HB_MX_TASK_BACKFILL) {
			backfill(c, t);
			return;
		}
		if (t->kind != HB_MX_TASK_ANSWER) {
			membership(c, t);
			return;
		}
		if (answer(c, t))
			return;
		free(c->send_body);
		c->send_body = NULL;
		c->cur++;
	}
	if (!c->fatal)
		hb_mx_sync_batch_done(c);
}
