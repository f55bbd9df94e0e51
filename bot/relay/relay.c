/* The relay client: dials out, authenticates with a bearer token on the
 * upgrade, answers the conversations it is given, reconnects with backoff,
 * and reports the replies a dropped connection swallowed. */
#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "backoff.h"
#include "channel.h"
#include "chat/outq.h"
#include "chat/proto.h"
#include "config.h"
#include "healthbot.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "relay.h"
#include "resolve.h"

#define SECTION "relay"
#define SUBPROTOCOL "healthbot-relay.v1"
#define QUEUE_HIGH 64
#define QUEUE_LOW 16

struct relay_conf {
	char *url;
	char *token_file;
	char *ca_file;
	long max_conversations;
	long conversation_max_age;
	long max_message_bytes;
	long max_undelivered;
};

/* A reply (or greeting) that never left: reported after reconnecting. */
struct lost {
	char *conversation;
	char *in_reply_to; /* NULL: a greeting */
};

struct relay {
	struct hb_app *app;
	struct relay_conf conf;
	char *token;
	char url_buf[512];           /* lws_parse_uri cuts it up in place */
	const char *host;
	char path[512];
	int port;
	bool tls;
	struct lws_vhost *vhost;
	struct lws *wsi;
	struct hb_resolve *lookup;   /* a host name lookup in flight */
	char addr[64];               /* what it found: the address dialled */
	lws_sorted_usec_list_t retry_sul;
	uint16_t retry_count;
	bool stopping;
	bool draining;               /* SIGTERM: flush, close, stay away */
	bool close_sent;
	struct hb_conversations *convs;
	struct hb_outq out;
	struct lost *lost;
	size_t n_lost;
	unsigned long lost_dropped;
	char *rx;
	size_t rx_len;
	bool rx_in_frame, rx_too_large, rx_binary, rx_paused;
	unsigned long connects;
};

static const char *const keys[] = { "enabled", "url", "token_file",
	"ca_file", "max_conversations", "conversation_max_age",
	"max_message_bytes", "max_undelivered", NULL };

/* Reconnecting: the shared backoff (bot/common), each delay drawn from
 * [d/2, d] with d 1 s doubling to a minute: 0.5-1 s first (never a hot
 * loop), at most a minute apart for ever. */
#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 60000
/* lws pings an idle connection and hangs up one that stopped answering;
 * the reconnect delays are not lws' (no retry table here). */
static const lws_retry_bo_t idle_policy = {
	.secs_since_valid_ping = 30,
	.secs_since_valid_hangup = 75,
};

static void conf_finish(struct relay_conf *c)
{
	free(c->url);
	free(c->token_file);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
}

static bool conf_parse(const cJSON *s, struct relay_conf *c)
{
	bool enabled = true;
	memset(c, 0, sizeof(*c));
	c->max_conversations = 10000;
	c->conversation_max_age = 3600;
	c->max_message_bytes = 65536;
	c->max_undelivered = 10000;
	if (!hb_config_check_keys(s, SECTION, keys) ||
			!hb_config_bool(s, SECTION, "enabled", &enabled) ||
			!hb_config_string(s, SECTION, "url", true, &c->url) ||
			!hb_config_string(s, SECTION, "token_file", true, &c->token_file) ||
			!hb_config_string(s, SECTION, "ca_file", false, &c->ca_file) ||
			!hb_config_int(s, SECTION, "max_conversations", 1, 1000000,
				&c->max_conversations) ||
			!hb_config_int(s, SECTION, "conversation_max_age", 60, 604800,
				&c->conversation_max_age) ||
			!hb_config_int(s, SECTION, "max_message_bytes", 512, 1048576,
				&c->max_message_bytes) ||
			!hb_config_int(s, SECTION, "max_undelivered", 1, 1000000,
				&c->max_undelivered))
		goto fail;
	if (strncmp(c->url, "ws://", 5) != 0 && strncmp(c->url, "wss://", 6) != 0) {
		hb_config_error(SECTION, "url", "must start with ws:// or wss://");
		goto fail;
	}
	if (strlen(c->url) >= 500 || strpbrk(c->url, " \t\r\n@")) {
		/* credentials go in token_file, never in the URL */
		hb_config_error(SECTION, "url", "must be a plain "
			"ws(s)://host[:port]/path without spaces or user info");
		goto fail;
	}
	return true;
fail:
	conf_finish(c);
	return false;
}

static bool check(const cJSON *section)
{
	struct relay_conf c;
	if (!section)
		return true;
	if (!conf_parse(section, &c))
		return false;
	conf_finish(&c);
	return true;
}

static void lose(struct relay *r, const char *conversation,
		const char *in_reply_to)
{
	if (r->n_lost >= (size_t)r->conf.max_undelivered) {
		r->lost_dropped++;
		return;
	}
	struct lost *l = &r->lost[r->n_lost];
	l->conversation = strdup(conversation);
	l->in_reply_to = in_reply_to && in_reply_to[0] ? strdup(in_reply_to) : NULL;
	if (!l->conversation) {
		free(l->in_reply_to);
		r->lost_dropped++;
		return;
	}
	r->n_lost++;
}

/* The connection is gone: whatever is still queued never reached it. */
static void collect_lost(struct relay *r)
{
	struct hb_outq_frame *f;
	size_t before = r->n_lost;
	while ((f = hb_outq_pop(&r->out))) {
		if (f->conversation)
			lose(r, f->conversation, f->in_reply_to);
		hb_outq_frame_free(f);
	}
	free(r->rx);
	r->rx = NULL;
	r->rx_len = 0;
	r->rx_in_frame = r->rx_paused = false;
	if (r->n_lost > before || r->lost_dropped)
		hb_log(HB_LOG_WARN, "relay_undelivered", "replies=%zu dropped=%lu",
			r->n_lost - before, r->lost_dropped);
}

static void push(struct relay *r, char *json, const char *conversation,
		const char *in_reply_to)
{
	/* tracked frames are reported if the connection drops before they go */
	if (!hb_outq_push_owned(&r->out, json, conversation, in_reply_to)) {
		hb_log(HB_LOG_ERROR, "relay", "error=\"out of memory\"");
		if (conversation)
			lose(r, conversation, in_reply_to);
		return;
	}
	if (r->out.count >= QUEUE_HIGH && !r->rx_paused) {
		r->rx_paused = true;
		lws_rx_flow_control(r->wsi, 0);
	}
	lws_callback_on_writable(r->wsi);
}

static void report_lost(struct relay *r)
{
	for (size_t i = 0; i < r->n_lost; i++) {
		struct lost *l = &r->lost[i];
		push(r, hb_proto_undelivered(l->conversation, l->in_reply_to),
			l->conversation, l->in_reply_to);
		free(l->conversation);
		free(l->in_reply_to);
	}
	if (r->n_lost)
		hb_log(HB_LOG_INFO, "relay_report_undelivered", "replies=%zu",
			r->n_lost);
	r->n_lost = 0;
	r->lost_dropped = 0;
}

static void greet(struct relay *r, const char *conversation)
{
	struct hb_reply g;
	if (!hb_engine_greeting(r->app->engine, &g))
		return;
	struct hb_proto_numbers numbers = hb_proto_engine_numbers(r->app->engine);
	push(r, hb_proto_greeting(&g, conversation, &numbers), conversation, "");
	hb_reply_finish(&g);
}

struct answering {
	struct relay *r;
	const struct hb_proto_msg *m;
};

static void deliver(void *data, const struct hb_reply *rep)
{
	struct answering *a = data;
	const struct hb_proto_msg *m = a->m;
	push(a->r, hb_proto_typing(m->id, m->conversation), NULL, NULL);
	struct hb_proto_numbers numbers = hb_proto_engine_numbers(a->r->app->engine);
	push(a->r, hb_proto_reply(rep, m->id, m->conversation, &numbers),
		m->conversation, m->id);
}

static void answer(struct relay *r, const struct hb_proto_msg *m,
		long long arrived_us)
{
	struct answering a = { .r = r, .m = m };
	/* the relay names conversations as it likes (a portal's session
	 * id, say): only their salted hash is logged */
	if (!hb_app_answer(r->app, &(struct hb_app_question){
			.channel = SECTION,
			.convs = r->convs,
			.conversation = m->conversation,
			.text = m->text,
			.text_len = m->text_len,
			.arrived_us = arrived_us,
			.deliver = deliver,
			.data = &a,
		}))
		push(r, hb_proto_error(HB_PROTO_INTERNAL, NULL, m->id,
			m->conversation), NULL, NULL);
}

static void handle_frame(struct relay *r)
{
	struct hb_proto_msg m;
	enum hb_proto_status st;
	long long arrived_us = hb_loop_now_us();
	memset(&m, 0, sizeof(m));
	if (r->rx_binary)
		st = HB_PROTO_BINARY;
	else if (r->rx_too_large)
		st = HB_PROTO_TOO_LARGE;
	else
		st = hb_proto_parse(r->rx ? r->rx : "", r->rx_len, true, &m);
	if (st != HB_PROTO_OK) {
		hb_log(HB_LOG_INFO, "relay_error", "code=%s", hb_proto_status_code(st));
		push(r, hb_proto_error(st, NULL, m.id, m.conversation[0] ?
			m.conversation : NULL), NULL, NULL);
	} else if (m.type == HB_PROTO_OPEN) {
		greet(r, m.conversation);
	} else if (m.type == HB_PROTO_CLOSE) {
		hb_conversations_forget(r->convs, m.conversation);
	} else {
		answer(r, &m, arrived_us);
	}
	hb_proto_msg_finish(&m);
	free(r->rx);
	r->rx = NULL;
	r->rx_len = 0;
}

static int receive(struct relay *r, const void *in, size_t len)
{
	/* our close frame is on its way: the relay learns from it that
	 * frames it still sends go unanswered */
	if (r->close_sent)
		return 0;
	if (!r->rx_in_frame) {
		r->rx_in_frame = true;
		r->rx_too_large = false;
		r->rx_binary = lws_frame_is_binary(r->wsi);
		r->rx_len = 0;
	}
	if (!r->rx_too_large && !r->rx_binary) {
		if (r->rx_len + len > (size_t)r->conf.max_message_bytes) {
			r->rx_too_large = true;
			free(r->rx);
			r->rx = NULL;
			r->rx_len = 0;
		} else if (len) {
			char *grown = realloc(r->rx, r->rx_len + len);
			if (!grown)
				return -1;
			r->rx = grown;
			memcpy(r->rx + r->rx_len, in, len);
			r->rx_len += len;
		}
	}
	if (!lws_is_final_fragment(r->wsi) || lws_remaining_packet_payload(r->wsi))
		return 0;
	r->rx_in_frame = false;
	handle_frame(r);
	return 0;
}

static void connect_now(lws_sorted_usec_list_t *sul);

static void schedule_retry(struct relay *r)
{
	if (r->stopping)
		return;
	/* never gives up: a relay that is down for a day is tried every
	 * minute (or so) until it is back */
	long ms = hb_backoff_ms(r->retry_count, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
	if (r->retry_count < UINT16_MAX)
		r->retry_count++;
	lws_sul_schedule(hb_loop_context(r->app->loop), 0, &r->retry_sul,
		connect_now, (lws_usec_t)ms * LWS_US_PER_MS);
}

/* Dials addr (numeric): host stays the name for Host, SNI and the
 * certificate check. */
static void dial(struct relay *r, const char *addr)
{
	struct lws_client_connect_info i;
	lws_strncpy(r->addr, addr, sizeof(r->addr));
	memset(&i, 0, sizeof(i));
	i.context = hb_loop_context(r->app->loop);
	i.vhost = r->vhost;
	i.address = r->addr;
	i.port = r->port;
	i.path = r->path;
	i.host = r->host;
	i.ssl_connection = r->tls ? LCCSCF_USE_SSL : 0;
	i.alpn = "http/1.1";
	i.protocol = SUBPROTOCOL;
	i.local_protocol_name = SUBPROTOCOL;
	i.pwsi = &r->wsi;
	i.retry_and_idle_policy = &idle_policy;
	i.userdata = r;
	hb_log(HB_LOG_DEBUG, "relay_connect", "attempt=%u", r->retry_count);
	/* NULL means no CONNECTION_ERROR will follow: retry from here */
	if (!lws_client_connect_via_info(&i)) {
		r->wsi = NULL;
		hb_log(HB_LOG_WARN, "relay_connect_failed", "attempt=%u",
			r->retry_count);
		schedule_retry(r);
	}
}

static void connect_now(lws_sorted_usec_list_t *sul)
{
	struct relay *r = lws_container_of(sul, struct relay, retry_sul);
	if (hb_resolve_is_numeric(r->host)) {
		dial(r, r->host);
		return;
	}
	/* looked up again at every attempt: the relay may have moved */
	if (r->lookup)
		return;
	r->lookup = hb_resolve_start(hb_loop_context(r->app->loop), r->host);
	if (!r->lookup)
		schedule_retry(r);
}

/* The loop was woken: maybe by our lookup finishing. */
static void lookup_finished(struct relay *r)
{
	char addr[64];
	int error;
	if (!r->lookup || !hb_resolve_done(r->lookup, addr, sizeof(addr), &error))
		return;
	hb_resolve_cancel(r->lookup);
	r->lookup = NULL;
	if (!addr[0]) {
		char q[128];
		hb_log(HB_LOG_WARN, "relay_resolve_failed", "error=%s attempt=%u",
			hb_log_quote(gai_strerror(error), q, sizeof(q)), r->retry_count);
		schedule_retry(r);
		return;
	}
	dial(r, addr);
}

static int add_auth(struct relay *r, struct lws *wsi, unsigned char **p,
		unsigned char *end)
{
	char value[4200];
	int n = snprintf(value, sizeof(value), "Bearer %s", r->token);
	int rc = 0;
	if (n < 0 || (size_t)n >= sizeof(value) ||
			lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
				(unsigned char *)value, n, p, end))
		rc = -1;
	/* the token must not linger on the stack */
	lws_explicit_bzero(value, sizeof(value));
	return rc;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		void *user, void *in, size_t len)
{
	struct relay *r = user;
	struct relay **slot;
	char q[200];
	/* user is cleared when the channel is destroyed */
	if (!r && (reason == LWS_CALLBACK_CLIENT_ESTABLISHED ||
			reason == LWS_CALLBACK_CLIENT_RECEIVE ||
			reason == LWS_CALLBACK_CLIENT_WRITEABLE))
		return -1;
	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* a broadcast with no connection: find the relay via the vhost */
		slot = lws_protocol_vh_priv_get(lws_get_vhost(wsi),
			lws_get_protocol(wsi));
		if (slot && *slot)
			lookup_finished(*slot);
		return 0;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return r ? add_auth(r, wsi, (unsigned char **)in,
			*(unsigned char **)in + len) : -1;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		r->wsi = wsi;
		r->retry_count = 0;
		r->connects++;
		hb_log(HB_LOG_INFO, "relay_connected", "connects=%lu pending_reports=%zu",
			r->connects, r->n_lost);
		report_lost(r);
		/* connected while draining: say what was lost, then go */
		if (r->draining)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return receive(r, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		/* lws sends our close frame and waits for the relay's; a
		 * second -1 meanwhile would cut the socket and lose both */
		if (r->close_sent)
			return 0;
		if (hb_outq_write(&r->out, wsi) < 0)
			return -1;
		if (r->rx_paused && r->out.count <= QUEUE_LOW) {
			r->rx_paused = false;
			lws_rx_flow_control(wsi, 1);
		}
		if (r->out.count) {
			lws_callback_on_writable(wsi);
			return 0;
		}
		if (r->draining) {
			static const char why[] = "bot restarting";
			lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY,
				(unsigned char *)why, sizeof(why) - 1);
			r->close_sent = true;
			return -1;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (!r)
			return 0;
		/* lws' reason names the failure (refused, TLS, HTTP status); it
		 * carries no token */
		hb_log(HB_LOG_WARN, "relay_connection_error", "status=%d reason=%s "
			"attempt=%u", lws_http_client_http_response(wsi),
			hb_log_quote(in ? (const char *)in : "", q, sizeof(q)),
			r->retry_count);
		r->wsi = NULL;
		collect_lost(r);
		schedule_retry(r);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!r)
			return 0;
		hb_log(r->draining ? HB_LOG_INFO : HB_LOG_WARN, "relay_closed",
			"queued=%zu", r->out.count);
		r->wsi = NULL;
		collect_lost(r);
		schedule_retry(r);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{
		.name = SUBPROTOCOL,
		.callback = callback,
		.rx_buffer_size = 16384,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void destroy(void *data)
{
	struct relay *r = data;
	if (!r)
		return;
	r->stopping = true;
	lws_sul_cancel(&r->retry_sul);
	hb_resolve_cancel(r->lookup);
	r->lookup = NULL;
	if (r->wsi) {
		struct lws *wsi = r->wsi;
		lws_set_wsi_user(wsi, NULL);
		r->wsi = NULL;
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
	}
	if (r->vhost) {
		struct relay **slot = lws_protocol_vh_priv_get(r->vhost,
			&protocols[0]);
		if (slot)
			*slot = NULL;
		lws_vhost_destroy(r->vhost);
	}
	collect_lost(r);
	for (size_t i = 0; i < r->n_lost; i++) {
		free(r->lost[i].conversation);
		free(r->lost[i].in_reply_to);
	}
	free(r->lost);
	hb_conversations_destroy(r->convs);
	if (r->token) {
		lws_explicit_bzero(r->token, strlen(r->token));
		free(r->token);
	}
	conf_finish(&r->conf);
	free(r);
}

static bool parse_url(struct relay *r)
{
	const char *scheme, *path;
	snprintf(r->url_buf, sizeof(r->url_buf), "%s", r->conf.url);
	if (lws_parse_uri(r->url_buf, &scheme, &r->host, &r->port, &path) ||
			!r->host[0]) {
		hb_config_error(SECTION, "url", "cannot parse it");
		return false;
	}
	r->tls = strcmp(scheme, "wss") == 0;
	/* lws_parse_uri defaults to 80 whatever the scheme */
	if (r->tls && r->port == 80 && !strstr(r->conf.url + 6, ":80"))
		r->port = 443;
	snprintf(r->path, sizeof(r->path), "/%s", path);
	return true;
}

static void *create(struct hb_app *app, const cJSON *section,
		const struct hb_run_overrides *ov)
{
	struct lws_context_creation_info info;
	struct relay *r = calloc(1, sizeof(*r));
	(void)ov;
	if (!r)
		return NULL;
	r->app = app;
	if (!conf_parse(section, &r->conf) || !parse_url(r) ||
			!hb_config_read_secret(r->conf.token_file, "relay token",
				&r->token))
		goto fail;
	r->lost = calloc((size_t)r->conf.max_undelivered, sizeof(*r->lost));
	r->convs = hb_conversations_create((size_t)r->conf.max_conversations,
		r->conf.conversation_max_age);
	if (!r->lost || !r->convs)
		goto fail;
	memset(&info, 0, sizeof(info));
	info.vhost_name = "relay";
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	/* the client TLS context is only made with this option on the vhost;
	 * without ca_file the system store verifies the relay */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.client_ssl_ca_filepath = r->conf.ca_file;
	r->vhost = lws_create_vhost(hb_loop_context(app->loop), &info);
	if (!r->vhost) {
		hb_log(HB_LOG_ERROR, "relay", "error=\"cannot create the client "
			"vhost (is ca_file readable PEM?)\"");
		fprintf(stderr, "healthbot: relay: cannot set up the client (TLS "
			"or ca_file problem?)\n");
		goto fail;
	}
	struct relay **slot = lws_protocol_vh_priv_zalloc(r->vhost, &protocols[0],
		sizeof(*slot));
	if (!slot)
		goto fail;
	*slot = r;
	hb_metrics_channel(app->metrics, SECTION);
	hb_log(HB_LOG_INFO, "relay_start", "tls=%d port=%d", r->tls, r->port);
	lws_sul_schedule(hb_loop_context(app->loop), 0, &r->retry_sul,
		connect_now, 1);
	return r;
fail:
	destroy(r);
	return NULL;
}

/*
 * Answers what has arrived, sends every queued frame, then closes with
 * 1001 (going away) and does not reconnect. Frames the relay sends after
 * the close frame went are read and dropped: for the relay they are
 * messages without an answer, as after any dropped connection.
 */
static void drain(void *data)
{
	struct relay *r = data;
	r->draining = true;
	r->stopping = true;
	lws_sul_cancel(&r->retry_sul);
	hb_resolve_cancel(r->lookup);
	r->lookup = NULL;
	hb_log(HB_LOG_INFO, "relay_drain", "connected=%s queued=%zu",
		r->wsi ? "yes" : "no", r->out.count);
	if (r->wsi)
		lws_callback_on_writable(r->wsi);
}

static bool drained(void *data, bool timed_out)
{
	struct relay *r = data;
	if (timed_out && r->wsi)
		hb_log(HB_LOG_WARN, "relay_drain_left", "queued=%zu", r->out.count);
	return !r->wsi;
}

const struct hb_channel hb_channel_relay = {
	.name = SECTION,
	.default_enabled = false,
	.check = check,
	.create = create,
	.destroy = destroy,
	.drain = drain,
	.drained = drained,
};
