#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "outq.h"

static char *dup_or_null(const char *s, bool *ok)
{
	char *d;
	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*ok = false;
	return d;
}

bool hb_outq_push(struct hb_outq *q, const char *json, size_t len,
		const char *conversation, const char *in_reply_to)
{
	struct hb_outq_frame *f = malloc(sizeof(*f) + LWS_PRE + len);
	bool ok = true;
	if (!f)
		return false;
	f->next = NULL;
	f->len = len;
	f->payload = f->data + LWS_PRE;
	memcpy(f->payload, json, len);
	f->conversation = dup_or_null(conversation, &ok);
	f->in_reply_to = dup_or_null(in_reply_to, &ok);
	if (!ok) {
		hb_outq_frame_free(f);
		return false;
	}
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->count++;
	q->bytes += len;
	return true;
}

bool hb_outq_push_owned(struct hb_outq *q, char *json,
		const char *conversation, const char *in_reply_to)
{
	if (!json)
		return false;
	bool ok = hb_outq_push(q, json, strlen(json), conversation, in_reply_to);
	free(json);
	return ok;
}

struct hb_outq_frame *hb_outq_pop(struct hb_outq *q)
{
	struct hb_outq_frame *f = q->head;
	if (!f)
		return NULL;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	q->bytes -= f->len;
	f->next = NULL;
	return f;
}

int hb_outq_write(struct hb_outq *q, struct lws *wsi)
{
	struct hb_outq_frame *f = q->head;
	if (!f)
		return 0;
	size_t len = f->len;
	int n = lws_write(wsi, f->payload, len, LWS_WRITE_TEXT);
	hb_outq_frame_free(hb_outq_pop(q));
	/* lws buffers a partial write itself; only a hard failure is < len */
	return n < 0 || (size_t)n < len ? -1 : 1;
}

void hb_outq_frame_free(struct hb_outq_frame *f)
{
	if (!f)
		return;
	free(f->conversation);
	free(f->in_reply_to);
	free(f);
}

void hb_outq_clear(struct hb_outq *q)
{
	struct hb_outq_frame *f;
	while ((f = hb_outq_pop(q)))
		hb_outq_frame_free(f);
}
