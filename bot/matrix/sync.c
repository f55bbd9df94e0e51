/*
 * The sync loop: long-poll /sync, turn the answer into tasks (invites to
 * take or decline, messages that may need an answer), and save the sync
 * token only once every task of the batch is done, so a crash replays
 * the batch instead of losing it (task.c makes the replay harmless).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "backoff.h"
#include "client.h"
#include "crypto.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "recent.h"
#include "sendq.h"
#include "store.h"
#include "util.h"

#define LONG_POLL_MS 30000

/* the server answers a long-poll after LONG_POLL_MS; give it time */
#define SYNC_TIMEOUT_S 45
#define MAX_REFUSALS 3
/* Events fetched at most per cut-short room timeline, so a bot that was
 * away for long does not page through all of a busy room's history. */
#define MAX_BACKFILL_EVENTS 500
/* Replies queued at most before the next sync waits for them to go out
 * (a memory bound, and the answered-event memory must cover every
 * message since the last saved token); syncing resumes at half. */
#define MAX_QUEUED 256

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

void hb_mx_sync_backfill_clear(struct hb_mx_client *c)
{
	for (size_t i = 0; i < c->n_fill; i++)
		hb_mx_task_finish(&c->fill[i]);
	/* back-fills are rare: keep no array between them */
	free(c->fill);
	c->fill = NULL;
	c->n_fill = c->cap_fill = 0;
	c->fill_events = c->fill_pages = 0;
	c->fill_capped = false;
}

void hb_mx_sync_clear_batch(struct hb_mx_client *c)
{
	for (size_t i = 0; i < c->n_tasks; i++)
		hb_mx_task_finish(&c->tasks[i]);
	c->n_tasks = c->cur = 0;
	hb_mx_sync_backfill_clear(c);
	free(c->batch_next);
	c->batch_next = NULL;
}

/* Appends a task to a list (the batch's, or the back-fill's). */
static struct hb_mx_task *push_task(struct hb_mx_task **tasks, size_t *n,
		size_t *cap, enum hb_mx_task_kind kind, const char *room_id)
{
	if (*n == *cap) {
		size_t grown = *cap ? *cap * 2 : 16;
		struct hb_mx_task *bigger = realloc(*tasks, grown * sizeof(*bigger));
		if (!bigger)
			return NULL;
		*tasks = bigger;
		*cap = grown;
	}
	struct hb_mx_task *t = &(*tasks)[*n];
	*t = (struct hb_mx_task){ .kind = kind, .room_id = strdup(room_id) };
	if (!t->room_id)
		return NULL;
	(*n)++;
	return t;
}

static struct hb_mx_task *add_task(struct hb_mx_client *c,
		enum hb_mx_task_kind kind, const char *room_id)
{
	return push_task(&c->tasks, &c->n_tasks, &c->cap_tasks, kind, room_id);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*oom = true;
	return d;
}

static bool add_invite(struct hb_mx_client *c, const char *room_id,
		const cJSON *room)
{
	const cJSON *ev;
	const char *inviter = NULL;
	cJSON_ArrayForEach(ev, get(get(room, "invite_state"), "events")) {
		const cJSON *type = get(ev, "type");
		const cJSON *key = get(ev, "state_key");
		const cJSON *sender = get(ev, "sender");
		const cJSON *membership = get(get(ev, "content"), "membership");
		if (cJSON_IsString(type) && strcmp(type->valuestring, "m.room.member") == 0 &&
				cJSON_IsString(key) && strcmp(key->valuestring, c->cfg.user_id) == 0 &&
				cJSON_IsString(membership) &&
				strcmp(membership->valuestring, "invite") == 0 &&
				cJSON_IsString(sender))
			inviter = sender->valuestring;
	}
	bool allowed = inviter && hb_mx_config_inviter_allowed(&c->cfg, inviter);
	hb_log(HB_LOG_INFO, "matrix_invite", "action=%s", allowed ? "join" :
		c->cfg.decline_invites ? "decline" : "ignore");
	if (!allowed && !c->cfg.decline_invites)
		return true;
	return add_task(c, allowed ? HB_MX_TASK_JOIN : HB_MX_TASK_DECLINE,
		room_id) != NULL;
}

static bool is_type(const cJSON *ev, const char *type)
{
	const cJSON *t = get(ev, "type");
	return cJSON_IsString(t) && strcmp(t->valuestring, type) == 0;
}

/* An encrypted room event read as the plain event it holds (*plain, for
 * the caller to free). False when there is nothing to consider: the
 * bot's own, one held until its key comes, one that cannot be read. */
static bool decrypt(struct hb_mx_client *c, const char *room_id,
		const cJSON *ev, cJSON **plain, bool *oom)
{
	const cJSON *sender = get(ev, "sender");
	*plain = NULL;
	if (!cJSON_IsString(sender) || strcmp(sender->valuestring,
			c->cfg.user_id) == 0)
		return false;
	switch (hb_mx_crypto_decrypt(c->crypto, room_id, ev, plain)) {
	case HB_MX_DECRYPT_OK:
		hb_log(HB_LOG_DEBUG, "matrix_e2e_decrypt", "ok=yes");
		return true;
	case HB_MX_DECRYPT_NO_KEY:
		/* the key may be on its way (to-device messages and room
		 * events travel separately): tried again when keys come */
		if (!hb_mx_crypto_hold(c->crypto, room_id, ev))
			*oom = true;
		return false;
	case HB_MX_DECRYPT_FAILED:
		hb_log(HB_LOG_WARN, "matrix_e2e_decrypt", "ok=no reason=undecryptable");
		return false;
	case HB_MX_DECRYPT_REPLAY:
		/* a copy of a message already read (logged): handled, with
		 * neither an answer nor a resend notice */
		return false;
	}
	return false;
}

/* An answer task for ev in the list, when ev is a message to consider. */
/* A task for an event in the clear, or decrypted already (`encrypted`):
 * what it decrypted to is never decrypted again, so an encrypted event
 * wrapped in another is nothing to answer, as it is in the sync path. */
static bool plain_task(struct hb_mx_client *c, struct hb_mx_task **tasks,
		size_t *n, size_t *cap, const char *room_id, const cJSON *ev,
		bool encrypted)
{
	bool ok = true;
	struct hb_mx_message msg;
	enum hb_mx_verdict v = hb_mx_event_inspect(ev, &c->me, &msg);
	/* remembered so that a reply to the bot addresses it, and an edit
	 * of another bot's notice is no question */
	if (v == HB_MX_IGNORE_OWN || v == HB_MX_IGNORE_NOTICE)
		hb_mx_recent_note(c->recent, room_id, msg.event_id,
			v == HB_MX_IGNORE_OWN ? HB_MX_RECENT_OWN : HB_MX_RECENT_NOTICE,
			NULL);
	const char *edit_root = NULL;
	unsigned edited = msg.edit_of ? hb_mx_recent_flags(c->recent, room_id,
		msg.edit_of, &edit_root) : 0;
	if (v == HB_MX_CANDIDATE &&
			(edited & (HB_MX_RECENT_NOTICE | HB_MX_RECENT_OWN))) {
		hb_log(HB_LOG_DEBUG, "matrix_skip", "reason=edit-of-notice");
		v = HB_MX_IGNORE_NOTICE;
	}
	if (v != HB_MX_CANDIDATE) {
		if (v != HB_MX_IGNORE_NOT_MESSAGE)
			hb_log(HB_LOG_DEBUG, "matrix_skip", "reason=%s", hb_mx_verdict_str(v));
		hb_mx_message_finish(&msg);
		return ok;
	}
	struct hb_mx_task *t = push_task(tasks, n, cap, HB_MX_TASK_ANSWER, room_id);
	bool oom = !t;
	if (t) {
		t->event_id = dup_or_null(msg.event_id, &oom);
		t->sender = dup_or_null(msg.sender, &oom);
		/* an edit is answered where the message it edits was */
		t->thread_root = dup_or_null(msg.edit_of ? edit_root :
			msg.thread_root, &oom);
		t->target = dup_or_null(msg.edit_of, &oom);
		t->text = msg.text;
		msg.text = NULL;
		t->mentioned = msg.mentioned;
		t->prefixed = msg.prefixed;
		t->reanswer = (edited & HB_MX_RECENT_ANSWERED) != 0;
		t->to_bot = msg.reply_to && (hb_mx_recent_flags(c->recent,
			room_id, msg.reply_to, NULL) & HB_MX_RECENT_OWN);
		t->encrypted = encrypted;
	}
	hb_mx_message_finish(&msg);
	return !oom;
}

static bool message_task(struct hb_mx_client *c, struct hb_mx_task **tasks,
		size_t *n, size_t *cap, const char *room_id, const cJSON *ev)
{
	if (!c->crypto || !is_type(ev, "m.room.encrypted"))
		return plain_task(c, tasks, n, cap, room_id, ev, false);
	cJSON *plain = NULL;
	bool oom = false;
	if (!decrypt(c, room_id, ev, &plain, &oom))
		return !oom;
	bool ok = plain_task(c, tasks, n, cap, room_id, plain, true);
	cJSON_Delete(plain);
	return ok;
}

static bool add_message(struct hb_mx_client *c, const char *room_id,
		const cJSON *ev)
{
	return message_task(c, &c->tasks, &c->n_tasks, &c->cap_tasks, room_id, ev);
}

/* A member count from the server, or -1 when absent or absurd: casting a
 * double outside int's range is undefined (5e113 was found by fuzzing). */
static int count(const cJSON *n)
{
	if (!cJSON_IsNumber(n) || !(n->valuedouble >= 0) ||
			n->valuedouble > 1e9)
		return -1;
	return (int)n->valuedouble;
}

/* The object itself, or NULL for any other JSON type. */
static const cJSON *object(const cJSON *v)
{
	return cJSON_IsObject(v) ? v : NULL;
}

/* An encrypted room, when the bot does not decrypt, is told so once
 * (the task checks the state; one task per room and batch). */
static bool encryption_notice(struct hb_mx_client *c, const char *room_id,
		const cJSON *room)
{
	if (hb_mx_crypto_enabled(c) || hb_mx_store_e2e_told(c->store, room_id))
		return true;
	bool encrypted = false;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, get(get(room, "state"), "events"))
		encrypted = encrypted || hb_mx_crypto_event_encrypted(ev,
			c->cfg.user_id);
	cJSON_ArrayForEach(ev, get(get(room, "timeline"), "events"))
		encrypted = encrypted || hb_mx_crypto_event_encrypted(ev,
			c->cfg.user_id);
	if (!encrypted)
		return true;
	for (size_t i = 0; i < c->n_tasks; i++) {
		if (c->tasks[i].kind == HB_MX_TASK_E2E_NOTICE &&
				strcmp(c->tasks[i].room_id, room_id) == 0)
			return true;
	}
	return add_task(c, HB_MX_TASK_E2E_NOTICE, room_id) != NULL;
}

static bool add_room(struct hb_mx_client *c, const char *room_id,
		const cJSON *room, bool first)
{
	const cJSON *summary = get(room, "summary");
	const cJSON *joined = get(summary, "m.joined_member_count");
	const cJSON *invited = get(summary, "m.invited_member_count");
	if (cJSON_IsNumber(joined) || cJSON_IsNumber(invited))
		hb_mx_store_set_members(c->store, room_id, count(joined),
			count(invited));
	if (c->crypto) {
		/* which rooms are encrypted, and who comes and goes there */
		const cJSON *ev;
		cJSON_ArrayForEach(ev, get(get(room, "state"), "events"))
			hb_mx_crypto_room_event(c->crypto, room_id, ev);
		cJSON_ArrayForEach(ev, get(get(room, "timeline"), "events"))
			hb_mx_crypto_room_event(c->crypto, room_id, ev);
	}
	/* the first sync is all history */
	if (first)
		return true;
	const cJSON *events = get(get(room, "timeline"), "events");
	if (!encryption_notice(c, room_id, room))
		return false;
	const cJSON *ev;
	const cJSON *after = NULL;
	/* a room the bot has just joined arrives with the history before the
	 * join: only what follows the join is new */
	cJSON_ArrayForEach(ev, events) {
		if (hb_mx_event_is_own_join(ev, c->cfg.user_id))
			after = ev;
	}
	if (after)
		hb_log(HB_LOG_INFO, "matrix_joined_room", "history_skipped=yes");
	/* more happened in the room since the last sync than the timeline
	 * holds: the homeserver sent the newest events only. Fetch the ones
	 * before them first, or they would never be answered (not for a room
	 * just joined: what came before the join is history). */
	const cJSON *timeline = get(room, "timeline");
	const cJSON *prev = get(timeline, "prev_batch");
	const char *since = c->sync_since;
	if (!after && since && cJSON_IsTrue(get(timeline, "limited")) &&
			cJSON_IsString(prev) && prev->valuestring[0]) {
		struct hb_mx_task *t = add_task(c, HB_MX_TASK_BACKFILL, room_id);
		bool oom = !t;
		if (t) {
			t->from = dup_or_null(prev->valuestring, &oom);
			t->to = dup_or_null(since, &oom);
		}
		if (oom)
			return false;
	}
	for (ev = after ? after->next : (events ? events->child : NULL); ev;
			ev = ev->next) {
		if (!add_message(c, room_id, ev))
			return false;
	}
	return true;
}

bool hb_mx_sync_backfill_page(struct hb_mx_client *c, const char *body,
		size_t len, bool *more)
{
	struct hb_mx_task *t = &c->tasks[c->cur];
	cJSON *root = hb_json_parse(body, len, NULL);
	const cJSON *chunk = get(root, "chunk");
	const cJSON *next = get(root, "end");
	const cJSON *ev;
	bool ok = true, joined_here = false;
	*more = false;
	c->fill_pages++;
	/* newest first, back to the previous sync (the request's "to") */
	cJSON_ArrayForEach(ev, chunk) {
		if (hb_mx_event_is_own_join(ev, c->cfg.user_id)) {
			/* what came before is history from before the bot */
			joined_here = true;
			break;
		}
		c->fill_events++;
		if (!message_task(c, &c->fill, &c->n_fill, &c->cap_fill, t->room_id,
				ev)) {
			ok = false;
			break;
		}
	}
	if (ok && !joined_here && cJSON_GetArraySize(chunk) > 0 &&
			cJSON_IsString(next) && next->valuestring[0]) {
		if (c->fill_events >= MAX_BACKFILL_EVENTS) {
			c->fill_capped = true;
		} else {
			char *from = strdup(next->valuestring);
			if (from) {
				free(t->from);
				t->from = from;
				*more = true;
			} else {
				ok = false;
			}
		}
	}
	cJSON_Delete(root);
	return ok;
}

bool hb_mx_sync_backfill_insert(struct hb_mx_client *c)
{
	size_t n = c->n_fill;
	if (c->n_tasks + n > c->cap_tasks) {
		size_t cap = c->n_tasks + n;
		struct hb_mx_task *tasks = realloc(c->tasks, cap * sizeof(*tasks));
		if (!tasks)
			return false;
		c->tasks = tasks;
		c->cap_tasks = cap;
	}
	size_t at = c->cur + 1;
	memmove(&c->tasks[at + n], &c->tasks[at],
		(c->n_tasks - at) * sizeof(*c->tasks));
	/* collected newest first: answer oldest first */
	for (size_t i = 0; i < n; i++)
		c->tasks[at + i] = c->fill[n - 1 - i];
	c->n_tasks += n;
	c->n_fill = 0; /* moved, not freed */
	hb_log(c->fill_capped ? HB_LOG_WARN : HB_LOG_INFO, "matrix_backfill",
		"pages=%u events=%u messages=%zu capped=%s%s", c->fill_pages,
		c->fill_events, n, c->fill_capped ? "yes" : "no", c->fill_capped ?
		" warning=\"older events in the gap are not answered\"" : "");
	hb_mx_sync_backfill_clear(c);
	return true;
}

/* Held encrypted messages whose key came (answered now), or whose time
 * ran out (a notice asking for a resend). */
static bool held_tasks(struct hb_mx_client *c)
{
	char *room_id, *event_id;
	cJSON *plain;
	bool ok = true;
	while (ok && hb_mx_crypto_pending_next(c->crypto, &room_id, &event_id,
			&plain)) {
		if (plain) {
			ok = plain_task(c, &c->tasks, &c->n_tasks, &c->cap_tasks,
				room_id, plain, true);
			cJSON_Delete(plain);
		} else {
			struct hb_mx_task *t = add_task(c, HB_MX_TASK_E2E_RESEND, room_id);
			bool oom = !t;
			if (t)
				t->event_id = dup_or_null(event_id, &oom);
			ok = !oom;
		}
		free(room_id);
		free(event_id);
	}
	return ok;
}

static bool read_batch(struct hb_mx_client *c, const cJSON *root, bool first)
{
	const cJSON *rooms = get(root, "rooms");
	const cJSON *room;
	/* rooms are objects keyed by room id; anything else (an array
	 * from a broken server or proxy) has no id and is skipped, never
	 * dereferenced (found by fuzz_matrix_sync) */
	cJSON_ArrayForEach(room, object(get(rooms, "leave"))) {
		if (room->string)
			hb_mx_store_forget_room(c->store, room->string);
	}
	cJSON_ArrayForEach(room, object(get(rooms, "invite"))) {
		if (room->string && cJSON_IsObject(room) &&
				!add_invite(c, room->string, room))
			return false;
	}
	cJSON_ArrayForEach(room, object(get(rooms, "join"))) {
		if (room->string && cJSON_IsObject(room) &&
				!add_room(c, room->string, room, first))
			return false;
	}
	if (c->crypto && !first && !held_tasks(c))
		return false;
	if (c->crypto && hb_mx_crypto_upload_due(c->crypto) &&
			!add_task(c, HB_MX_TASK_KEYS_UPLOAD, ""))
		return false;
	return true;
}

static void on_sync(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "sync", res, &delay);
	if (o == HB_MX_FATAL)
		return;
	if (o == HB_MX_FAILED && c->sync_since &&
			++c->sync_refusals >= MAX_REFUSALS) {
		/* a token the server no longer knows (its database was
		 * restored, say) is refused forever: start afresh, which
		 * answers nothing old, rather than wait forever */
		hb_log(HB_LOG_WARN, "matrix_sync", "warning=\"sync token refused, "
			"starting as on first run\"");
		c->sync_refusals = 0;
		free(c->sync_since);
		c->sync_since = NULL;
		hb_mx_store_set_since(c->store, NULL);
		hb_mx_store_save(c->store);
	}
	if (o == HB_MX_FAILED)
		delay = hb_backoff_ms(c->failures++, 1000, 5 * 60 * 1000);
	if (o != HB_MX_OK) {
		hb_metrics_matrix_sync(c->app->metrics, false, 0);
		hb_mx_client_later(c, delay, hb_mx_sync_next);
		return;
	}
	/* strict, and an escaped NUL in a message is read as a space: "I
	 * can't\u0000breathe" reaches the engine whole */
	cJSON *root = hb_json_parse(res->body, res->len, NULL);
	const cJSON *next = get(root, "next_batch");
	if (!cJSON_IsString(next) || !next->valuestring[0]) {
		cJSON_Delete(root);
		hb_metrics_matrix_sync(c->app->metrics, false, 0);
		hb_log(HB_LOG_WARN, "matrix_sync", "error=\"answer without next_batch\"");
		hb_mx_client_later(c, hb_backoff_ms(c->failures++, 1000,
			5 * 60 * 1000), hb_mx_sync_next);
		return;
	}
	bool first = c->sync_since == NULL;
	c->sync_refusals = 0;
	hb_metrics_matrix_sync(c->app->metrics, true, (double)time(NULL));
	if (!c->synced) {
		/* /readyz: Matrix is up once the homeserver answered a sync */
		c->synced = true;
		c->app->starting--;
		hb_log(HB_LOG_INFO, "matrix_synced", "first=%s",
			first ? "yes" : "no");
	}
	hb_mx_sync_clear_batch(c);
	/* room keys first: a message in this batch may need one that came
	 * with it */
	if (c->crypto)
		hb_mx_crypto_read_sync(c->crypto, root);
	c->batch_next = strdup(next->valuestring);
	bool ok = c->batch_next && read_batch(c, root, first);
	cJSON_Delete(root);
	if (!ok) {
		hb_mx_client_fatal(c, "out of memory while reading a sync answer");
		return;
	}
	if (first || c->n_tasks)
		hb_log(HB_LOG_INFO, "matrix_sync", "first=%s tasks=%zu ms=%lld",
			first ? "yes" : "no", c->n_tasks, res->elapsed_ms);
	c->cur = 0;
	hb_mx_task_run(c);
}

void hb_mx_sync_batch_done(struct hb_mx_client *c)
{
	/* the replies may still be on their way: the token is saved once
	 * they are out (sendq.c), the next sync starts now */
	char *token = c->batch_next;
	c->batch_next = NULL;
	hb_mx_sync_clear_batch(c);
	/* the message indices this batch read, before its token: after a
	 * crash a copy of one of its messages is still known as a copy. A
	 * failed save (logged) costs only that. */
	if (c->crypto)
		hb_mx_crypto_save_read(c->crypto);
	if (!token || !hb_mx_sendq_close_batch(c->sendq, token)) {
		free(token);
		hb_mx_client_fatal(c, "out of memory");
		return;
	}
	free(c->sync_since);
	c->sync_since = token;
	if (hb_mx_sendq_pending(c->sendq) > MAX_QUEUED) {
		hb_log(HB_LOG_INFO, "matrix_sync_held", "queued=%zu",
			hb_mx_sendq_pending(c->sendq));
		c->sync_held = true;
		return;
	}
	hb_mx_sync_next(c);
}

void hb_mx_sync_resume(struct hb_mx_client *c)
{
	if (!c->sync_held || hb_mx_sendq_pending(c->sendq) > MAX_QUEUED / 2 ||
			c->fatal)
		return;
	c->sync_held = false;
	hb_mx_sync_next(c);
}

void hb_mx_sync_next(struct hb_mx_client *c)
{
	const char *since = c->sync_since;
	/* draining: the batch is done and its token saved; no new work */
	if (c->draining)
		return;
	struct hb_buf path;
	hb_buf_init(&path);
	hb_buf_puts(&path, "/_matrix/client/v3/sync?filter=");
	hb_mx_urlencode(&path, c->filter_id);
	/* the first sync only learns where "now" is, and the first after a
	 * restart catches up: neither need wait (the bot is not ready until
	 * one is answered) */
	long long poll = since && c->synced ? LONG_POLL_MS : 0;
	/* a held encrypted message times out while the long-poll waits */
	long long held = c->crypto ? hb_mx_crypto_pending_wait_ms(c->crypto) : -1;
	if (held >= 0 && held < poll)
		poll = held + 100;
	hb_buf_printf(&path, "&timeout=%lld", poll);
	if (since) {
		hb_buf_puts(&path, "&since=");
		hb_mx_urlencode(&path, since);
	}
	if (path.oom)
		hb_mx_client_fatal(c, "out of memory");
	else
		hb_mx_client_call(c, "sync", "GET", path.data, NULL, SYNC_TIMEOUT_S,
			on_sync);
	hb_buf_finish(&path);
}
