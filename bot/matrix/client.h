#ifndef HB_MX_CLIENT_H
#define HB_MX_CLIENT_H

#include <libwebsockets.h>
#include <stdbool.h>

#include "event.h"
#include "http.h"
#include "mxconfig.h"

/*
 * The Matrix client: one chain of requests at a time (start-up checks,
 * then sync → handle the batch → sync), each retried with backoff until
 * it succeeds, plus fire-and-forget typing notices and receipts. Replies
 * do not hold the chain up: handling a message composes its reply and
 * queues it (sendq.c), and the queues send on several connections while
 * the next sync runs; a batch's sync token is saved once all its replies
 * are out. client.c runs the chain and judges answers, sync.c turns a
 * /sync answer into tasks, task.c carries the tasks out.
 */
struct hb_app;
struct hb_conversations;
struct hb_mx_recent;
struct hb_mx_sendq;
struct hb_mx_store;
struct hb_mx_crypto;

enum hb_mx_task_kind {
	HB_MX_TASK_JOIN,
	HB_MX_TASK_DECLINE,
	HB_MX_TASK_ANSWER,
	/* a sync timeline that was cut short ("limited"): fetch the events
	 * between the previous sync and the ones it holds */
	HB_MX_TASK_BACKFILL,
	/* an encrypted room the bot cannot read: tell it once (crypto.c) */
	HB_MX_TASK_E2E_NOTICE,
	/* one-time keys are running low: upload more (crypto_task.c) */
	HB_MX_TASK_KEYS_UPLOAD,
	/* an encrypted message whose key never came: ask for a resend */
	HB_MX_TASK_E2E_RESEND,
};

struct hb_mx_task {
	enum hb_mx_task_kind kind;
	char *room_id;
	char *event_id;
	char *sender;
	char *thread_root;
	char *text;
	/* the event the reply refers to: event_id, or for an edit the
	 * message edited (event_id, the edit, gives the transaction id) */
	char *target;
	bool mentioned;
	bool prefixed;
	bool to_bot;       /* a reply to one of the bot's own events */
	bool reanswer;     /* an edit of a message the bot answered */
	bool encrypted;    /* it came encrypted: so must its answer */
	char *from, *to;   /* back-fill: the next page, and where to stop */
};

enum hb_mx_outcome {
	HB_MX_OK,
	HB_MX_RETRY,  /* passing trouble: try the same request again later */
	HB_MX_FAILED, /* the homeserver said no: give this one up */
	HB_MX_FATAL,  /* nothing will work (token rejected): stop */
};

struct hb_mx_client {
	struct hb_app *app;
	struct hb_mx_config cfg;
	struct hb_mx_http *http;
	struct hb_mx_store *store;
	struct hb_mx_sendq *sendq;
	struct hb_mx_recent *recent;
	struct hb_mx_crypto *crypto; /* NULL when encryption is off */
	struct hb_conversations *convs;
	char *display_name;
	char *filter_id;
	struct hb_mx_identity me;
	bool started; /* the start-up checks passed */
	bool synced;  /* a /sync was answered since start-up */
	bool draining; /* SIGTERM: finish the batch, sync no more */
	/* tests only (HEALTHBOT_MATRIX_TEST_KILL_AFTER_SEND): SIGKILL itself
	 * after this many replies were accepted, before remembering them */
	long test_kill_after_send;
	bool fatal;

	/* the chain */
	struct hb_mx_request *req;
	lws_sorted_usec_list_t retry_sul;
	void (*retry_fn)(struct hb_mx_client *c);
	unsigned failures;  /* in a row, for the backoff */
	unsigned sync_refusals; /* 4xx answers to /sync in a row */
	/* the token of the last sync handled (replies may still be queued;
	 * the store holds the last one whose replies are all out) */
	char *sync_since;
	bool sync_held; /* too many replies queued: no sync until they drain */

	/* the batch being handled */
	char *batch_next;
	struct hb_mx_task *tasks;
	size_t n_tasks, cap_tasks, cur;
	/* the back-fill under way: its answers, newest first, and counts */
	struct hb_mx_task *fill;
	size_t n_fill, cap_fill;
	unsigned fill_events, fill_pages;
	bool fill_capped;   /* stopped at the limit with more to fetch */
};

/* client.c */
/* Starts the chain's request; its answer goes to fn. */
void hb_mx_client_call(struct hb_mx_client *c, const char *kind,
		const char *method, const char *path, const char *body,
		int timeout_s, hb_mx_http_fn fn);
/* A request nobody waits for (typing, receipts). */
void hb_mx_client_fire(struct hb_mx_client *c, const char *kind,
		const char *method, const char *path, const char *body);
/* Judges an answer: OK, or when to retry (*delay_ms), or failure. Logs. */
enum hb_mx_outcome hb_mx_client_judge(struct hb_mx_client *c,
		const char *kind, const struct hb_mx_response *res, long *delay_ms);
/* Runs fn after delay_ms. */
void hb_mx_client_later(struct hb_mx_client *c, long delay_ms,
		void (*fn)(struct hb_mx_client *c));
/* Stops the client (and the process) with a message for the operator. */
void hb_mx_client_fatal(struct hb_mx_client *c, const char *why);

/* sync.c */
void hb_mx_sync_next(struct hb_mx_client *c);
/* Called by task.c when every task of the batch is done. */
void hb_mx_sync_batch_done(struct hb_mx_client *c);
void hb_mx_sync_clear_batch(struct hb_mx_client *c);
/* A back-fill page (GET /messages, newest first) for the current task:
 * collects its messages and sets the task's next page; *more when another
 * page is wanted. False when memory ran out. */
bool hb_mx_sync_backfill_page(struct hb_mx_client *c, const char *body,
		size_t len, bool *more);
/* Puts the collected messages, oldest first, right after the current
 * task. False when memory ran out. */
bool hb_mx_sync_backfill_insert(struct hb_mx_client *c);
void hb_mx_sync_backfill_clear(struct hb_mx_client *c);

/* Called by sendq.c when few enough replies are queued again. */
void hb_mx_sync_resume(struct hb_mx_client *c);

/* task.c */
void hb_mx_task_run(struct hb_mx_client *c);
void hb_mx_task_finish(struct hb_mx_task *t);
/* "/_matrix/client/v3/rooms/ROOM/verb[/arg1[/arg2]]", each encoded; NULL
 * on OOM. */
char *hb_mx_room_path(const char *room_id, const char *verb,
		const char *arg1, const char *arg2);
void hb_mx_task_typing(struct hb_mx_client *c, const char *room_id, bool on);

#endif
