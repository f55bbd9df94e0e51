/* One /chat websocket: one engine conversation, rate limited, answered in
 * order through the connection's frame queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "chat/proto.h"
#include "healthbot.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "unmasked.h"
#include "widget.h"

/* Stop reading from a client that does not read its replies. */
#define QUEUE_HIGH 32
#define QUEUE_LOW 8
/* A client that keeps sending after this many "slow down" errors in a row
 * is not a person typing. */
#define MAX_STRIKES 50

static void queue(struct hb_widget_conn *c, char *json)
{
	if (!hb_outq_push_owned(&c->out, json, NULL, NULL)) {
		hb_log(HB_LOG_ERROR, "widget", "conn=%lu error=\"out of memory\"",
			c->serial);
		hb_widget_conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
			"server error");
		return;
	}
	if (c->out.count >= QUEUE_HIGH && !c->rx_paused) {
		c->rx_paused = true;
		lws_rx_flow_control(c->wsi, 0);
	}
	lws_callback_on_writable(c->wsi);
}

static void send_error(struct hb_widget_conn *c, enum hb_proto_status st,
		const char *id)
{
	hb_log(HB_LOG_INFO, "widget_error", "conn=%lu code=%s", c->serial,
		hb_proto_status_code(st));
	queue(c, hb_proto_error(st, NULL, id, NULL));
}

/* RFC 6455 5.1: the client sent a frame without a mask (unmasked.h);
 * libwebsockets got none of it. */
static void unmasked(void *data)
{
	struct hb_widget_conn *c = data;
	if (!c->w || c->unmasked)
		return;
	c->unmasked = true;
	hb_log(HB_LOG_INFO, "widget_unmasked", "conn=%lu", c->serial);
	/* a close already under way (idle, refused) goes on, with the
	 * socket hung up once its frame is out */
	if (c->close_started)
		hb_unmasked_hang_up(lws_get_socket_fd(c->wsi));
	else
		hb_widget_conn_close(c, LWS_CLOSE_STATUS_PROTOCOL_ERR,
			"unmasked frame");
}

/* Puts the connection in the widget's list and its source's count; true
 * when the client has already sent an unmasked frame (then closing). */
static bool attach(struct hb_widget *w, struct hb_widget_conn *c,
		struct lws *wsi, struct hb_client *src)
{
	long long now = hb_loop_now_us();
	/* the upgrade request's HTTP state: nothing left, but be sure */
	hb_http_finish(&c->http);
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->wsi = wsi;
	c->src = src;
	src->conns++;
	c->serial = ++w->next_serial;
	snprintf(c->conv_id, sizeof(c->conv_id), "w%lu", c->serial);
	c->tokens = (double)w->conf.rate_burst;
	c->refilled_us = c->last_rx_us = now;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->n_conns++;
	hb_metrics_widget_clients(w->app->metrics, w->n_conns);
	if (hb_unmasked_attach(lws_get_socket_fd(wsi), unmasked, c)) {
		unmasked(c);
		return true;
	}
	return false;
}

void hb_widget_conn_refuse(struct hb_widget *w, struct hb_widget_conn *c,
		struct lws *wsi, struct hb_client *src, int code, const char *reason)
{
	bool bad = attach(w, c, wsi, src);
	c->refused = true;
	if (!bad)
		hb_widget_conn_close(c, code, reason);
}

void hb_widget_conn_open(struct hb_widget *w, struct hb_widget_conn *c,
		struct lws *wsi, struct hb_client *src)
{
	struct hb_reply greeting;
	bool bad = attach(w, c, wsi, src);
	hb_log(HB_LOG_INFO, "widget_open", "conn=%lu open=%zu", c->serial,
		w->n_conns);
	if (bad)
		return;
	/* without a greeting the chat still works: say so and go on */
	if (!hb_engine_greeting(w->app->engine, &greeting)) {
		hb_log(HB_LOG_ERROR, "widget", "conn=%lu error=\"no greeting\"",
			c->serial);
		return;
	}
	struct hb_proto_numbers numbers = hb_proto_engine_numbers(w->app->engine);
	queue(c, hb_proto_greeting(&greeting, NULL, &numbers));
	hb_reply_finish(&greeting);
}

/* Token buckets: rate_burst at once, then rate_per_minute, for the
 * connection; and its source's, shared by all its connections and kept
 * after they close, so reconnecting does not refill it. */
static bool take_token(struct hb_widget_conn *c, long long now)
{
	const struct hb_widget_conf *conf = &c->w->conf;
	double elapsed = (double)(now - c->refilled_us) / 1e6;
	c->refilled_us = now;
	c->tokens += elapsed * (double)conf->rate_per_minute / 60.0;
	if (c->tokens > (double)conf->rate_burst)
		c->tokens = (double)conf->rate_burst;
	if (c->tokens < 1.0 || !hb_client_take(c->w->sources, c->src, now))
		return false;
	c->tokens -= 1.0;
	return true;
}

struct answering {
	struct hb_widget_conn *c;
	const struct hb_proto_msg *m;
};

static void deliver(void *data, const struct hb_reply *r)
{
	struct answering *a = data;
	queue(a->c, hb_proto_typing(a->m->id, NULL));
	struct hb_proto_numbers numbers =
		hb_proto_engine_numbers(a->c->w->app->engine);
	queue(a->c, hb_proto_reply(r, a->m->id, NULL, &numbers));
}

static void answer(struct hb_widget_conn *c, const struct hb_proto_msg *m)
{
	struct answering a = { .c = c, .m = m };
	char fields[32];
	snprintf(fields, sizeof(fields), "conn=%lu", c->serial);
	if (!hb_app_answer(c->w->app, &(struct hb_app_question){
			.channel = "widget",
			.convs = c->w->convs,
			.conversation = c->conv_id,
			.text = m->text,
			.text_len = m->text_len,
			.arrived_us = c->last_rx_us,
			.fields = fields,
			.deliver = deliver,
			.data = &a,
		}))
		send_error(c, HB_PROTO_INTERNAL, m->id);
}

static void handle_frame(struct hb_widget_conn *c)
{
	struct hb_proto_msg m;
	enum hb_proto_status st;
	long long now = hb_loop_now_us();
	memset(&m, 0, sizeof(m));
	if (c->rx_binary)
		st = HB_PROTO_BINARY;
	else if (c->rx_too_large)
		st = HB_PROTO_TOO_LARGE;
	else
		st = hb_proto_parse(c->rx ? c->rx : "", c->rx_len, false, &m);
	/* every frame counts, so a flood of garbage is slowed down too; the
	 * id, when there is one, tells the client which message to resend */
	if (!take_token(c, now)) {
		st = HB_PROTO_RATE_LIMITED;
		if (++c->strikes > MAX_STRIKES) {
			hb_log(HB_LOG_WARN, "widget_abuse", "conn=%lu strikes=%u",
				c->serial, c->strikes);
			hb_widget_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				"too many messages");
		}
	} else {
		c->strikes = 0;
		/* only a frame the rate limit lets through makes a connection
		 * less quiet: a source cannot keep every slot it holds from the
		 * idle eviction by sending what it is refused */
		c->last_rx_us = now;
	}
	if (st == HB_PROTO_OK)
		answer(c, &m);
	else
		send_error(c, st, m.id);
	hb_proto_msg_finish(&m);
	free(c->rx);
	c->rx = NULL;
	c->rx_len = 0;
}

int hb_widget_conn_receive(struct hb_widget_conn *c, const void *in,
		size_t len)
{
	struct lws *wsi = c->wsi;
	if (c->close_code)
		return 0;
	/* fragments of one frame arrive in several callbacks */
	if (!c->rx_in_frame) {
		c->rx_in_frame = true;
		c->rx_too_large = false;
		c->rx_binary = lws_frame_is_binary(wsi);
		c->rx_len = 0;
	}
	if (!c->rx_too_large && !c->rx_binary) {
		if (c->rx_len + len > (size_t)c->w->conf.max_message_bytes) {
			/* drop the rest of it, but keep the connection */
			c->rx_too_large = true;
			free(c->rx);
			c->rx = NULL;
			c->rx_len = 0;
		} else if (len) {
			char *grown = realloc(c->rx, c->rx_len + len);
			if (!grown) {
				hb_log(HB_LOG_ERROR, "widget", "conn=%lu error=\"out of "
					"memory\"", c->serial);
				return -1;
			}
			c->rx = grown;
			memcpy(c->rx + c->rx_len, in, len);
			c->rx_len += len;
		}
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	c->rx_in_frame = false;
	handle_frame(c);
	return 0;
}

int hb_widget_conn_writeable(struct hb_widget_conn *c)
{
	/* lws sends our close frame and waits for the client's; a second -1
	 * meanwhile would cut the socket and lose both */
	if (c->close_started)
		return 0;
	int n = hb_outq_write(&c->out, c->wsi);
	if (n < 0)
		return -1;
	if (c->rx_paused && c->out.count <= QUEUE_LOW) {
		c->rx_paused = false;
		lws_rx_flow_control(c->wsi, 1);
	}
	if (c->out.count) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->close_code) {
		const char *why = c->close_reason ? c->close_reason : "";
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
			(unsigned char *)why, strlen(why));
		c->close_started = true;
		/* the client's close frame would be unmasked too: the socket
		 * ends once ours is out */
		if (c->unmasked)
			hb_unmasked_hang_up(lws_get_socket_fd(c->wsi));
		return -1;
	}
	return 0;
}

void hb_widget_conn_close(struct hb_widget_conn *c, int code,
		const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	c->close_reason = reason;
	c->w->n_closing++;
	/* keep reading (and ignoring) what the client still sends: closing a
	 * socket with unread input resets it, and the close frame is lost */
	if (c->rx_paused) {
		c->rx_paused = false;
		lws_rx_flow_control(c->wsi, 1);
	}
	lws_callback_on_writable(c->wsi);
}

void hb_widget_conn_closed(struct hb_widget_conn *c)
{
	struct hb_widget *w = c->w;
	if (!w)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->n_conns--;
	if (c->close_code)
		w->n_closing--;
	c->src->conns--;
	c->src = NULL;
	hb_conversations_forget(w->convs, c->conv_id);
	hb_outq_clear(&c->out);
	free(c->rx);
	c->rx = NULL;
	c->w = NULL;
	/* a refused one was logged as such, once a minute per source */
	if (!c->refused)
		hb_log(HB_LOG_INFO, "widget_close", "conn=%lu open=%zu", c->serial,
			w->n_conns);
	hb_metrics_widget_clients(w->app->metrics, w->n_conns);
}
