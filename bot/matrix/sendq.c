/* Reply queues, one per room, sent on several connections (sendq.h). */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "client.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "recent.h"
#include "sendq.h"
#include "store.h"
#include "util.h"

#define SEND_TIMEOUT_S 30

struct batch {
	struct batch *next;
	char *token;      /* NULL while open */
	size_t left;      /* replies not yet out */
};

struct item {
	struct item *next;
	struct batch *batch;
	char *event_id;
	const char *type;     /* a string constant */
	char *body;
	bool urgent;
	unsigned long seq;    /* order of arrival, across rooms */
	long long started_us;
	long long queued_us;
};

struct room {
	struct room *next;
	struct hb_mx_sendq *q;
	char *room_id;
	struct item *head;      /* urgent ones first, each kind in order */
	struct item *flight;    /* being sent */
	struct hb_mx_request *req;
	long long not_before_us; /* backoff after a network or server error */
	bool typing;            /* "typing" shown while replies wait */
};

struct hb_mx_sendq {
	struct hb_mx_client *c;
	int connections, in_flight;
	size_t pending;
	unsigned long seq;
	struct room *rooms;     /* rooms with something queued or in flight */
	struct batch *batches, *open;
	long long hold_until_us; /* 429: the account may not send before */
	lws_sorted_usec_list_t timer_sul, save_sul;
	bool save_pending;
};

static void pump(struct hb_mx_sendq *q);

static void free_item(struct item *it)
{
	if (!it)
		return;
	free(it->event_id);
	free(it->body);
	free(it);
}

struct hb_mx_sendq *hb_mx_sendq_create(struct hb_mx_client *c,
		int connections)
{
	struct hb_mx_sendq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->c = c;
	q->connections = connections > 0 ? connections : 1;
	return q;
}

static void save_now(struct hb_mx_sendq *q)
{
	lws_sul_cancel(&q->save_sul);
	q->save_pending = false;
	hb_mx_store_save(q->c->store);
}

void hb_mx_sendq_destroy(struct hb_mx_sendq *q)
{
	if (!q)
		return;
	lws_sul_cancel(&q->timer_sul);
	if (q->save_pending)
		save_now(q);
	while (q->rooms) {
		struct room *r = q->rooms;
		q->rooms = r->next;
		hb_mx_http_cancel(r->req);
		free_item(r->flight);
		while (r->head) {
			struct item *it = r->head;
			r->head = it->next;
			free_item(it);
		}
		free(r->room_id);
		free(r);
	}
	while (q->batches) {
		struct batch *b = q->batches;
		q->batches = b->next;
		free(b->token);
		free(b);
	}
	free(q);
}

static void save_fire(lws_sorted_usec_list_t *sul)
{
	struct hb_mx_sendq *q = lws_container_of(sul, struct hb_mx_sendq, save_sul);
	save_now(q);
}

/* Replies finishing together share one write of the state: a reply
 * accepted but not yet recorded is harmless, its resend after a crash
 * gets the homeserver's copy back. */
static void save_soon(struct hb_mx_sendq *q)
{
	if (q->save_pending)
		return;
	q->save_pending = true;
	lws_sul_schedule(hb_loop_context(q->c->app->loop), 0, &q->save_sul,
		save_fire, 1);
}

/* Saves the token of every leading batch whose replies are all out. */
static void advance(struct hb_mx_sendq *q)
{
	struct hb_mx_client *c = q->c;
	bool moved = false;
	while (q->batches && q->batches->token && q->batches->left == 0) {
		struct batch *b = q->batches;
		q->batches = b->next;
		const char *since = hb_mx_store_since(c->store);
		if ((!since || strcmp(since, b->token) != 0) &&
				hb_mx_store_set_since(c->store, b->token))
			moved = true;
		free(b->token);
		free(b);
	}
	if (moved)
		save_soon(q);
}

bool hb_mx_sendq_close_batch(struct hb_mx_sendq *q, const char *next_batch)
{
	struct batch *b = q->open;
	if (!b) {
		if (!(b = calloc(1, sizeof(*b))))
			return false;
		struct batch **tail = &q->batches;
		while (*tail)
			tail = &(*tail)->next;
		*tail = b;
	}
	if (!(b->token = strdup(next_batch))) {
		q->open = b;
		return false;
	}
	q->open = NULL;
	advance(q);
	return true;
}

static struct room *find_room(struct hb_mx_sendq *q, const char *room_id)
{
	for (struct room *r = q->rooms; r; r = r->next) {
		if (strcmp(r->room_id, room_id) == 0)
			return r;
	}
	return NULL;
}

/* Puts it in its room's queue: urgent after the urgent ones, routine at
 * the end; `again` (a retry) goes first of its kind, since it was. */
static void enqueue(struct room *r, struct item *it, bool again)
{
	struct item **at = &r->head;
	if (it->urgent) {
		if (!again)
			while (*at && (*at)->urgent)
				at = &(*at)->next;
	} else {
		while (*at && ((*at)->urgent || !again))
			at = &(*at)->next;
	}
	it->next = *at;
	*at = it;
}

bool hb_mx_sendq_push(struct hb_mx_sendq *q, const struct hb_mx_reply *rep)
{
	struct room *r = find_room(q, rep->room_id);
	struct item *it = calloc(1, sizeof(*it));
	bool new_room = !r;
	if (!it)
		return false;
	it->event_id = strdup(rep->event_id);
	it->body = strdup(rep->body);
	it->type = rep->type ? rep->type : "m.room.message";
	it->urgent = rep->urgent;
	it->started_us = rep->started_us;
	it->queued_us = hb_loop_now_us();
	it->seq = ++q->seq;
	if (new_room && (r = calloc(1, sizeof(*r))))
		r->room_id = strdup(rep->room_id);
	if (!q->open && (q->open = calloc(1, sizeof(*q->open)))) {
		struct batch **tail = &q->batches;
		while (*tail)
			tail = &(*tail)->next;
		*tail = q->open;
	}
	if (!it->event_id || !it->body || !r || !r->room_id || !q->open) {
		free_item(it);
		if (new_room && r) {
			free(r->room_id);
			free(r);
		}
		return false;
	}
	if (new_room) {
		r->q = q;
		r->next = q->rooms;
		q->rooms = r;
	}
	it->batch = q->open;
	q->open->left++;
	q->pending++;
	enqueue(r, it, false);
	pump(q);
	/* a reply that has to wait shows "typing" in its room until the
	 * room's queue is empty; one sent at once needs none (two requests
	 * less per reply for the homeserver) */
	if (r->head && !r->typing && !q->c->fatal) {
		r->typing = true;
		hb_mx_task_typing(q->c, r->room_id, true);
	}
	return true;
}

size_t hb_mx_sendq_pending(const struct hb_mx_sendq *q)
{
	return q->pending;
}

bool hb_mx_sendq_idle(const struct hb_mx_sendq *q)
{
	return q->pending == 0 && !q->save_pending && !q->open &&
		!q->batches;
}

static void drop_room_if_empty(struct hb_mx_sendq *q, struct room *r)
{
	if (r->head || r->flight)
		return;
	if (r->typing)
		hb_mx_task_typing(q->c, r->room_id, false);
	for (struct room **p = &q->rooms; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	free(r->room_id);
	free(r);
}

static void on_sent(void *data, const struct hb_mx_response *res);

static void start_send(struct hb_mx_sendq *q, struct room *r)
{
	struct hb_mx_client *c = q->c;
	struct item *it = r->head;
	char txn[HB_MX_HASH_HEX + 3];
	char hash[HB_MX_HASH_HEX];
	r->head = it->next;
	it->next = NULL;
	r->flight = it;
	hb_mx_hash(hash, "reply", it->event_id, NULL);
	snprintf(txn, sizeof(txn), "hb%s", hash);
	char *path = hb_mx_room_path(r->room_id, "send", it->type, txn);
	r->req = path ? hb_mx_http_request(c->http, "send", "PUT", path,
		it->body, SEND_TIMEOUT_S, on_sent, r) : NULL;
	free(path);
	if (!r->req) {
		hb_mx_client_fatal(c, "out of memory");
		return;
	}
	q->in_flight++;
}

static void timer_fire(lws_sorted_usec_list_t *sul)
{
	pump(lws_container_of(sul, struct hb_mx_sendq, timer_sul));
}

static void pump(struct hb_mx_sendq *q)
{
	struct hb_mx_client *c = q->c;
	long long now = hb_loop_now_us();
	long long wake = 0;
	if (c->fatal)
		return;
	if (now < q->hold_until_us) {
		wake = q->hold_until_us;
	} else {
		while (q->in_flight < q->connections) {
			struct room *best = NULL;
			for (struct room *r = q->rooms; r; r = r->next) {
				if (r->flight || !r->head)
					continue;
				if (r->not_before_us > now) {
					if (!wake || r->not_before_us < wake)
						wake = r->not_before_us;
					continue;
				}
				/* an urgent reply first, then the oldest */
				if (!best || (r->head->urgent && !best->head->urgent) ||
						(r->head->urgent == best->head->urgent &&
						r->head->seq < best->head->seq))
					best = r;
			}
			if (!best)
				break;
			start_send(q, best);
			if (c->fatal)
				return;
		}
	}
	if (wake)
		lws_sul_schedule(hb_loop_context(c->app->loop), 0, &q->timer_sul,
			timer_fire, (lws_usec_t)(wake - now) + 1);
}

/* The homeserver's event id of the reply: a reply to it addresses the
 * bot. */
static void remember_own(struct hb_mx_client *c, const struct room *r,
		const struct hb_mx_response *res)
{
	cJSON *root = hb_json_parse(res->body, res->len, NULL);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "event_id");
	if (cJSON_IsString(id))
		hb_mx_recent_note(c->recent, r->room_id, id->valuestring,
			HB_MX_RECENT_OWN, NULL);
	cJSON_Delete(root);
}

static void on_sent(void *data, const struct hb_mx_response *res)
{
	struct room *r = data;
	struct hb_mx_sendq *q = r->q;
	struct hb_mx_client *c = q->c;
	struct item *it = r->flight;
	long delay;
	r->req = NULL;
	r->flight = NULL;
	q->in_flight--;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "send", res, &delay);
	if (o == HB_MX_FATAL) {
		free_item(it);
		return;
	}
	if (o == HB_MX_RETRY) {
		/* same body, same transaction id; a 429 holds the account,
		 * other trouble this room */
		if (res->status == 429)
			q->hold_until_us = hb_loop_now_us() + delay * 1000;
		else
			r->not_before_us = hb_loop_now_us() + delay * 1000;
		enqueue(r, it, true);
		pump(q);
		return;
	}
	r->not_before_us = 0;
	if (o == HB_MX_OK && c->test_kill_after_send > 0 &&
			--c->test_kill_after_send == 0) {
		/* fault injection: die at the worst moment, the reply out
		 * and nothing saved, as a power cut could */
		hb_log(HB_LOG_WARN, "matrix_test_kill", "after=send");
		raise(SIGKILL);
	}
	if (o == HB_MX_OK)
		remember_own(c, r, res);
	/* a refusal (no permission to post, room gone) would be refused
	 * again on replay: count it as handled too */
	hb_mx_store_mark_handled(c->store, it->event_id);
	save_soon(q);
	long long now = hb_loop_now_us();
	long long total_us = now - it->started_us;
	if (o == HB_MX_OK)
		hb_metrics_latency(c->app->metrics, "matrix", (double)total_us / 1e6);
	/* queued_ms: waiting for its turn (and retries), not sending */
	hb_log(HB_LOG_INFO, "matrix_sent", "ok=%s urgent=%s ms=%lld "
		"total_ms=%lld queued_ms=%lld", o == HB_MX_OK ? "yes" : "no",
		it->urgent ? "yes" : "no", res->elapsed_ms, total_us / 1000,
		(now - it->queued_us) / 1000 - res->elapsed_ms);
	it->batch->left--;
	q->pending--;
	free_item(it);
	drop_room_if_empty(q, r);
	advance(q);
	pump(q);
	if (c->sync_held)
		hb_mx_sync_resume(c);
}
