/*
 * Carrying out a batch's tasks, one at a time: joining or declining
 * invites, and answering messages (the reply is composed here and queued
 * for sending, sendq.c).
 *
 * Exactly once: a reply is sent with a transaction id derived from the
 * event it answers, so sending it again after a crash (the batch is
 * replayed because its sync token was not saved yet) gives the server's
 * copy back instead of a second message; and an answered event is
 * remembered durably once its reply is out, so a replay skips it without
 * asking the server at all.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "client.h"
#include "command.h"
#include "crypto.h"
#include "healthbot.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "recent.h"
#include "sendq.h"
#include "store.h"
#include "util.h"

void hb_mx_task_finish(struct hb_mx_task *t)
{
	free(t->room_id);
	free(t->event_id);
	free(t->sender);
	free(t->thread_root);
	free(t->text);
	free(t->target);
	free(t->from);
	free(t->to);
	*t = (struct hb_mx_task){0};
}

static void next_task(struct hb_mx_client *c)
{
	c->cur++;
	hb_mx_task_run(c);
}

char *hb_mx_room_path(const char *room_id, const char *verb,
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
		path = hb_mx_room_path(t->room_id, "leave", NULL, NULL);
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
		"{\"types\":[\"m.room.message\",\"m.room.member\","
		"\"m.room.encrypted\"]}");
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

void hb_mx_task_typing(struct hb_mx_client *c, const char *room_id, bool on)
{
	if (!c->cfg.typing)
		return;
	char *path = hb_mx_room_path(room_id, "typing", c->cfg.user_id, NULL);
	if (path)
		hb_mx_client_fire(c, "typing", "PUT", path, on ?
			"{\"typing\":true,\"timeout\":30000}" : "{\"typing\":false}");
	free(path);
}

static void fire_receipt(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	if (!c->cfg.read_receipts)
		return;
	char *path = hb_mx_room_path(t->room_id, "receipt", "m.read", t->event_id);
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
		t->target ? t->target : t->event_id, t->thread_root, t->sender) :
		NULL;
	/* the room's kind, not its id; the conversation as a salted hash of
	 * a hash */
	snprintf(k->fields, sizeof(k->fields), "command=%s room=%s thread=%s "
		"via=%s edit=%s", k->command ? k->command : "-",
		k->dm ? "direct" : "group", t->thread_root ? "yes" : "no",
		t->prefixed ? "prefix" : t->mentioned ? "mention" :
		t->to_bot ? "reply" : t->reanswer ? "edit" : k->dm ? "direct" :
		"emergency", t->target ? "yes" : "no");
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

/* A message in a group room that does not address the bot: answered
 * only when it is an emergency and escalate_unaddressed is on. The screen
 * is stateless, so people talking among themselves leave no context. */
static bool unaddressed_emergency(struct hb_mx_client *c,
		const struct hb_mx_task *t)
{
	struct hb_reply r;
	if (!c->cfg.escalate_unaddressed || !c->app->engine)
		return false;
	if (!hb_engine_reply(c->app->engine, NULL, NULL, t->text, strlen(t->text),
			(int64_t)(hb_loop_now_us() / 1000000), &r))
		return false;
	bool urgent = r.kind == HB_REPLY_ESCALATION;
	hb_reply_finish(&r);
	return urgent;
}

/* Returns true when a request is under way for the task. */
static bool answer(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	if (hb_mx_store_handled(c->store, t->event_id)) {
		hb_log(HB_LOG_INFO, "matrix_skip", "reason=already-answered");
		return false;
	}
	int members = hb_mx_store_members(c->store, t->room_id);
	if (members < 0) {
		char *path = hb_mx_room_path(t->room_id, "joined_members", NULL, NULL);
		if (!path) {
			hb_mx_client_fatal(c, "out of memory");
			return true;
		}
		hb_mx_client_call(c, "members", "GET", path, NULL, 0, on_members);
		free(path);
		return true;
	}
	bool dm = members <= 2;
	if (!dm && !t->mentioned && !t->prefixed && !t->to_bot && !t->reanswer &&
			!unaddressed_emergency(c, t)) {
		hb_log(HB_LOG_DEBUG, "matrix_skip", "reason=not-addressed");
		return false;
	}
	/* an answer in an encrypted room goes encrypted or not at all: a
	 * health answer in clear where the patient expects encryption
	 * would be a privacy breach */
	bool encrypt = c->crypto && (t->encrypted ||
		hb_mx_crypto_room_encrypted(c->crypto, t->room_id));
	enum hb_mx_share shared = encrypt ? hb_mx_crypto_share_result(c,
		t->room_id) : HB_MX_SHARE_NONE;
	if (shared == HB_MX_SHARE_FAILED) {
		hb_log(HB_LOG_WARN, "matrix_e2e_reply", "ok=no reason=share-failed");
		return false;
	}
	if (encrypt && shared == HB_MX_SHARE_NONE &&
			hb_mx_crypto_share_due(c->crypto, t->room_id))
		return hb_mx_crypto_share_run(c, t);
	long long started = hb_loop_now_us();
	fire_receipt(c, t);
	/* "typing" is shown by sendq.c while a room's replies wait */
	bool urgent = false;
	char *body = compose(c, t, dm, &urgent);
	if (!body)
		return false;
	if (encrypt) {
		char *sealed = hb_mx_crypto_encrypt(c->crypto, t->room_id,
			"m.room.message", body);
		free(body);
		if (!sealed) {
			hb_log(HB_LOG_WARN, "matrix_e2e_reply", "ok=no reason=encrypt");
			return false;
		}
		body = sealed;
	}
	/* an edit of this message gets a new answer, in the same thread */
	hb_mx_recent_note(c->recent, t->room_id, t->target ? t->target :
		t->event_id, HB_MX_RECENT_ANSWERED, t->thread_root);
	bool ok = hb_mx_sendq_push(c->sendq, &(struct hb_mx_reply){
		.room_id = t->room_id,
		.event_id = t->event_id,
		.type = encrypt ? "m.room.encrypted" : "m.room.message",
		.body = body,
		.urgent = urgent,
		.started_us = started,
	});
	free(body);
	if (!ok) {
		hb_mx_client_fatal(c, "out of memory");
		return true;
	}
	return false;
}

/* An encrypted message whose key never came: a plain notice, as a reply
 * to it, asking for a resend (it says nothing about health, and the
 * patient's client may not be able to read an encrypted one either).
 * False only when memory ran out. */
static bool resend_notice(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	if (hb_mx_store_handled(c->store, t->event_id))
		return true;
	const char *text = hb_engine_wording(c->app->engine,
		"matrix_undecryptable");
	if (!text) {
		hb_log(HB_LOG_WARN, "matrix_e2e_resend", "ok=no warning=\"the "
			"intents data has no matrix_undecryptable wording\"");
		return true;
	}
	char *body = hb_mx_event_reply_json(text, NULL, false, t->event_id,
		NULL, NULL);
	bool ok = body && hb_mx_sendq_push(c->sendq, &(struct hb_mx_reply){
		.room_id = t->room_id,
		.event_id = t->event_id,
		.type = "m.room.message",
		.body = body,
		.started_us = hb_loop_now_us(),
	});
	free(body);
	if (!ok) {
		hb_mx_client_fatal(c, "out of memory");
		return false;
	}
	hb_log(HB_LOG_INFO, "matrix_e2e_resend", "ok=yes");
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
		if (t->kind == HB_MX_TASK_KEYS_UPLOAD) {
			hb_mx_crypto_upload(c, next_task);
			return;
		}
		if (t->kind == HB_MX_TASK_E2E_RESEND) {
			if (!resend_notice(c, t))
				return;
			c->cur++;
			continue;
		}
		if (t->kind == HB_MX_TASK_E2E_NOTICE) {
			if (hb_mx_crypto_notice_run(c, t))
				return;
			c->cur++;
			continue;
		}
		if (t->kind != HB_MX_TASK_ANSWER) {
			membership(c, t);
			return;
		}
		if (answer(c, t))
			return;
		c->cur++;
	}
	if (!c->fatal)
		hb_mx_sync_batch_done(c);
}
