#ifndef HB_WIDGET_H
#define HB_WIDGET_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#include "chat/outq.h"
#include "http.h"
#include "client.h"

/*
 * The patient-portal widget server (`healthbot serve`): one listening vhost
 * on the shared loop serving the demo page and widget assets (http.c) and
 * the /chat websocket, one engine conversation per connection (chat.c).
 */
extern const struct hb_channel hb_channel_widget;

struct hb_app;

struct hb_widget_conf {
	char *bind;
	long port;
	char **origins;          /* allowed besides the page's own origin */
	size_t n_origins;
	bool same_origin;        /* allow the origin the page was served from */
	long max_connections;
	long max_message_bytes;  /* whole frame, JSON included */
	long idle_timeout;       /* seconds without a message from the client */
	long rate_burst;         /* messages answered back to back */
	long rate_per_minute;    /* sustained rate after the burst */
	long max_per_source;     /* open websockets of one source address */
	long source_rate_burst;  /* messages of one source, all connections */
	long source_rate_per_minute;
	long evict_idle_after;   /* seconds quiet before a full server closes it */
	char **proxies;          /* trusted proxies, canonical addresses */
	size_t n_proxies;
};

struct hb_widget {
	struct hb_app *app;
	struct lws_vhost *front;      /* listens; checks each request (front.c) */
	struct lws_vhost *vhost;      /* HTTP and websockets, fed by the front */
	struct hb_widget_conf conf;
	struct hb_clients *sources;
	struct hb_conversations *convs;
	struct hb_widget_conn *conns; /* open websockets, for the idle sweep */
	size_t n_conns;
	size_t n_closing;            /* of those, closing (not counted as full) */
	long long refused_logged_us; /* a refusal with no source entry */
	unsigned long next_serial;
	lws_sorted_usec_list_t sweep;
	int port;                    /* bound port */
	unsigned serve;              /* HB_HTTP_* */
};

/* The lws per-session data of every connection, HTTP or websocket. */
struct hb_widget_conn {
	struct hb_http http;
	struct hb_widget *w;         /* set once the websocket is established */
	struct lws *wsi;
	struct hb_widget_conn *prev, *next;
	struct hb_client *src;       /* the client's address */
	unsigned long serial;
	char conv_id[32];
	struct hb_outq out;
	char *rx;                    /* the frame being received */
	size_t rx_len;
	bool rx_in_frame, rx_too_large, rx_binary;
	bool rx_paused;
	double tokens;               /* rate limit bucket */
	long long refilled_us;
	long long last_rx_us;
	unsigned strikes;            /* rate-limited messages in a row */
	int close_code;              /* non-zero: close once flushed */
	bool close_started;          /* the close frame is on its way */
	bool refused;                /* admitted only to be closed (4403) */
	bool unmasked;               /* sent an unmasked frame: closing, 1002 */
	const char *close_reason;
};

/* chat.c: the websocket conversation of one connection */
void hb_widget_conn_open(struct hb_widget *w, struct hb_widget_conn *c,
		struct lws *wsi, struct hb_client *src);
/* Admits a websocket only to close it with code at once: no greeting, no
 * conversation, nothing read. */
void hb_widget_conn_refuse(struct hb_widget *w, struct hb_widget_conn *c,
		struct lws *wsi, struct hb_client *src, int code, const char *reason);
int hb_widget_conn_receive(struct hb_widget_conn *c, const void *in,
		size_t len);
int hb_widget_conn_writeable(struct hb_widget_conn *c);
void hb_widget_conn_closed(struct hb_widget_conn *c);
/* Closes with a websocket close code once the queue is flushed. */
void hb_widget_conn_close(struct hb_widget_conn *c, int code,
		const char *reason);

#endif
