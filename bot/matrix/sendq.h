#ifndef HB_MX_SENDQ_H
#define HB_MX_SENDQ_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Sending replies: one queue per room, in the order the messages came,
 * except that urgent replies (escalations) go ahead of the routine ones
 * still waiting in their room; up to `connections` sends at once across
 * rooms, at most one per room (so a room's replies stay in order); rooms
 * whose next reply is urgent are served first, then the oldest reply.
 * A 429 holds every send (the homeserver's limit is per account) for the
 * time it asks, then urgent replies go first again.
 *
 * Exactly once: each reply's transaction id comes from the event it
 * answers (a resend after a crash returns the homeserver's copy), the
 * answered event is remembered once the send is accepted, and a sync
 * batch's token is saved only when every reply of that batch and of the
 * batches before it is out.
 *
 * For end-to-end encryption: every reply leaves through start_send() in
 * sendq.c, the one place that names the event type and its content.
 */
struct hb_mx_client;
struct hb_mx_sendq;

struct hb_mx_sendq *hb_mx_sendq_create(struct hb_mx_client *c,
		int connections);
/* Drops what is queued (answered again after the restart) and cancels
 * sends in flight; saves the state when a save was pending. */
void hb_mx_sendq_destroy(struct hb_mx_sendq *q);

struct hb_mx_reply {
	const char *room_id;
	const char *event_id;  /* the event answered: transaction id */
	const char *type;      /* m.room.message, or m.room.encrypted */
	const char *body;      /* the event's content, JSON */
	bool urgent;
	long long started_us;  /* when handling began, for the latency */
};
/* Queues a reply (copied) in the open batch. False on OOM. */
bool hb_mx_sendq_push(struct hb_mx_sendq *q, const struct hb_mx_reply *r);
/* Closes the open batch: its token is saved once its replies (and the
 * earlier batches') are all out. False on OOM. */
bool hb_mx_sendq_close_batch(struct hb_mx_sendq *q, const char *next_batch);
/* Replies queued or in flight. */
size_t hb_mx_sendq_pending(const struct hb_mx_sendq *q);
/* Nothing queued, in flight, or waiting to be saved. */
bool hb_mx_sendq_idle(const struct hb_mx_sendq *q);

#endif
