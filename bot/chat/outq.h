#ifndef HB_OUTQ_H
#define HB_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A connection's outbound text frames. libwebsockets takes one write per
 * WRITEABLE callback, so frames wait here with LWS_PRE bytes of headroom.
 * Each frame may carry the conversation and message it answers, so a
 * relay that loses its connection can say which replies never left.
 */
struct lws;

struct hb_outq_frame {
	struct hb_outq_frame *next;
	char *conversation; /* NULL unless tracked */
	char *in_reply_to;  /* NULL unless tracked */
	size_t len;
	unsigned char *payload; /* points into data, after LWS_PRE */
	unsigned char data[];
};

struct hb_outq {
	struct hb_outq_frame *head, *tail;
	size_t count;
	size_t bytes;
};

/* Copies json (len bytes). conversation/in_reply_to: tracked reply, or NULL. */
bool hb_outq_push(struct hb_outq *q, const char *json, size_t len,
		const char *conversation, const char *in_reply_to);
/* Takes and frees a malloc'd frame text (NULL: out of memory, false). */
bool hb_outq_push_owned(struct hb_outq *q, char *json,
		const char *conversation, const char *in_reply_to);
/* Writes the head frame. 1: written, 0: queue empty, -1: write failed. */
int hb_outq_write(struct hb_outq *q, struct lws *wsi);
/* Detaches the head frame (caller frees with hb_outq_frame_free). */
struct hb_outq_frame *hb_outq_pop(struct hb_outq *q);
void hb_outq_frame_free(struct hb_outq_frame *f);
void hb_outq_clear(struct hb_outq *q);

#endif
