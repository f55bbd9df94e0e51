/* The widget channel: config, the listening vhost, the upgrade gate
 * (path, origin, connection limit) and the idle sweep. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "app.h"
#include "channel.h"
#include "config.h"
#include "front.h"
#include "healthbot.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "unmasked.h"
#include "widget.h"

#define SECTION "widget"
#define SWEEP_US (1 * LWS_US_PER_SEC)

static const char *const keys[] = { "enabled", "bind", "port",
	"allowed_origins", "same_origin", "max_connections", "max_message_bytes",
	"idle_timeout", "rate_burst", "rate_per_minute",
	"max_connections_per_source", "source_rate_burst",
	"source_rate_per_minute", "evict_idle_after", "trusted_proxies", NULL };
#define REFUSAL_LOG_US (60LL * 1000000)
/* the close code of a page whose origin is not allowed: 4400 + HTTP's 403 */
#define REFUSED_ORIGIN 4403

static void conf_finish(struct hb_widget_conf *conf)
{
	free(conf->bind);
	hb_config_free_strings(conf->origins, conf->n_origins);
	hb_config_free_strings(conf->proxies, conf->n_proxies);
	memset(conf, 0, sizeof(*conf));
}

static bool conf_parse(const cJSON *s, struct hb_widget_conf *conf)
{
	bool enabled = true;
	memset(conf, 0, sizeof(*conf));
	conf->port = 8080;
	conf->same_origin = true;
	/* 5,000: p99 under 2 ms and 42 MB RSS on the epoll loop (BENCHMARKS.md) */
	conf->max_connections = 5000;
	conf->max_message_bytes = 4096;
	conf->idle_timeout = 900;
	conf->rate_burst = 10;
	conf->rate_per_minute = 30;
	conf->max_per_source = 20;
	conf->source_rate_burst = 30;
	conf->source_rate_per_minute = 120;
	conf->evict_idle_after = 60;
	if (s && !(hb_config_check_keys(s, SECTION, keys) &&
			hb_config_bool(s, SECTION, "enabled", &enabled) &&
			hb_config_string(s, SECTION, "bind", false, &conf->bind) &&
			hb_config_int(s, SECTION, "port", 0, 65535, &conf->port) &&
			hb_config_strings(s, SECTION, "allowed_origins", &conf->origins,
				&conf->n_origins) &&
			hb_config_bool(s, SECTION, "same_origin", &conf->same_origin) &&
			hb_config_int(s, SECTION, "max_connections", 1, 100000,
				&conf->max_connections) &&
			hb_config_int(s, SECTION, "max_message_bytes", 256, 65536,
				&conf->max_message_bytes) &&
			hb_config_int(s, SECTION, "idle_timeout", 1, 86400,
				&conf->idle_timeout) &&
			hb_config_int(s, SECTION, "rate_burst", 1, 10000,
				&conf->rate_burst) &&
			hb_config_int(s, SECTION, "rate_per_minute", 1, 1000000,
				&conf->rate_per_minute) &&
			hb_config_int(s, SECTION, "max_connections_per_source", 1,
				100000, &conf->max_per_source) &&
			hb_config_int(s, SECTION, "source_rate_burst", 1, 10000000,
				&conf->source_rate_burst) &&
			hb_config_int(s, SECTION, "source_rate_per_minute", 1, 10000000,
				&conf->source_rate_per_minute) &&
			hb_config_int(s, SECTION, "evict_idle_after", 1, 86400,
				&conf->evict_idle_after) &&
			hb_config_strings(s, SECTION, "trusted_proxies", &conf->proxies,
				&conf->n_proxies))) {
		conf_finish(conf);
		return false;
	}
	for (size_t i = 0; i < conf->n_origins; i++) {
		const char *o = conf->origins[i];
		if ((strncmp(o, "http://", 7) != 0 && strncmp(o, "https://", 8) != 0) ||
				o[strlen(o) - 1] == '/') {
			char key[48];
			snprintf(key, sizeof(key), "allowed_origins[%zu]", i);
			hb_config_error(SECTION, key, "an origin is scheme://host[:port], "
				"without a path");
			conf_finish(conf);
			return false;
		}
	}
	for (size_t i = 0; i < conf->n_proxies; i++) {
		/* compared as inet_ntop writes them */
		unsigned char a[16];
		char canon[64];
		int family = hb_http_address_family(conf->proxies[i]);
		if (family < 0 || inet_pton(family, conf->proxies[i], a) != 1 ||
				!inet_ntop(family, a, canon, sizeof(canon))) {
			char key[48];
			snprintf(key, sizeof(key), "trusted_proxies[%zu]", i);
			hb_config_error(SECTION, key, "a proxy is an IP address such as "
				"10.0.0.5 or fd00::5");
			conf_finish(conf);
			return false;
		}
		char *dup = strdup(canon);
		if (!dup) {
			conf_finish(conf);
			return false;
		}
		free(conf->proxies[i]);
		conf->proxies[i] = dup;
	}
	if (!conf->bind && !(conf->bind = strdup("127.0.0.1"))) {
		conf_finish(conf);
		return false;
	}
	if (hb_http_address_family(conf->bind) < 0) {
		hb_config_error(SECTION, "bind", "must be an IP address such as "
			"127.0.0.1 or ::1");
		conf_finish(conf);
		return false;
	}
	return true;
}

static bool check(const cJSON *section)
{
	struct hb_widget_conf conf;
	if (!conf_parse(section, &conf))
		return false;
	conf_finish(&conf);
	return true;
}

/* The widget the callback serves, or NULL once the channel is destroyed
 * (lws may still close leftover connections after that). */
static struct hb_widget *widget_of(struct lws *wsi)
{
	struct hb_widget **slot = lws_protocol_vh_priv_get(lws_get_vhost(wsi),
		lws_get_protocol(wsi));
	return slot ? *slot : NULL;
}

static bool origin_allowed(const struct hb_widget *w, struct lws *wsi)
{
	char origin[256], own[64];
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return false;
	for (size_t i = 0; i < w->conf.n_origins; i++) {
		if (strcasecmp(origin, w->conf.origins[i]) == 0)
			return true;
	}
	if (!w->conf.same_origin)
		return false;
	/* the page's own origin is the address the server listens on, never
	 * the Host header: a DNS rebinding page names its own host there.
	 * Scheme, host and port all count; a portal under another name lists
	 * it in allowed_origins. */
	bool v6 = strchr(w->conf.bind, ':') != NULL;
	snprintf(own, sizeof(own), "http://%s%s%s:%d", v6 ? "[" : "",
		w->conf.bind, v6 ? "]" : "", w->port);
	if (strcasecmp(origin, own) == 0)
		return true;
	/* a loopback server's page is also opened as http://localhost:port */
	if (strcmp(w->conf.bind, "127.0.0.1") == 0 || strcmp(w->conf.bind,
			"::1") == 0) {
		snprintf(own, sizeof(own), "http://localhost:%d", w->port);
		return strcasecmp(origin, own) == 0;
	}
	return false;
}

/* Closes the connection that has been quiet longest, if it has been quiet
 * for evict_idle_after: a full server makes room for a new patient. The
 * widget reconnects when its patient types again. */
static bool evict_idle(struct hb_widget *w)
{
	long long now = hb_loop_now_us();
	struct hb_widget_conn *oldest = NULL;
	for (struct hb_widget_conn *c = w->conns; c; c = c->next) {
		if (!c->close_code && (!oldest || c->last_rx_us < oldest->last_rx_us))
			oldest = c;
	}
	if (!oldest || now - oldest->last_rx_us <
			w->conf.evict_idle_after * 1000000LL)
		return false;
	hb_log(HB_LOG_INFO, "widget_evict", "conn=%lu", oldest->serial);
	hb_widget_conn_close(oldest, 4000, "idle");
	return true;
}

/* The client's source entry; NULL when the table has no room. */
static struct hb_client *source_of(struct hb_widget *w, struct lws *wsi)
{
	char addr[64];
	if (!hb_front_source(wsi, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "unknown");
	return hb_clients_get(w->sources, addr, hb_loop_now_us());
}

/*
 * 0 when the upgrade may go ahead, else an HTTP status and reason. A
 * browser does not tell a page the status of a refused handshake (403 and
 * 503 both end as 1006), so a page of an origin not allowed is let in and
 * closed at once with 4403 (chat.c: no greeting, nothing read): the widget
 * then knows it is refused for good. It counts as a connection of its
 * source meanwhile, and never makes a full server close a patient's.
 */
static unsigned gate(struct hb_widget *w, struct lws *wsi,
		const char **reason, struct hb_client **srcp)
{
	char path[64];
	struct hb_client *src;
	*srcp = NULL;
	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 ||
			strcmp(path, "/chat") != 0) {
		*reason = "path";
		return HTTP_STATUS_NOT_FOUND;
	}
	/* no Origin: not a browser, which can read the status */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0) {
		*reason = "origin";
		return HTTP_STATUS_FORBIDDEN;
	}
	bool allowed = origin_allowed(w, wsi);
	/* the listening socket is closed when a drain starts; this is for
	 * connections accepted just before */
	if (hb_loop_draining(w->app->loop) || hb_loop_stopping(w->app->loop)) {
		*reason = "draining";
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	if (!(*srcp = src = source_of(w, wsi))) {
		*reason = "busy";
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	/* one address cannot take every slot */
	if (src->conns >= (size_t)w->conf.max_per_source) {
		*reason = "source_busy";
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	if (w->n_conns - w->n_closing >= (size_t)w->conf.max_connections &&
			(!allowed || !evict_idle(w))) {
		*reason = "busy";
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	return 0;
}

/* A flood of refusals must not flood the journal: once a minute per
 * source (the address itself is not logged: it can identify a patient). */
static void log_refusal(struct hb_widget *w, struct hb_client *src,
		unsigned status, const char *why)
{
	long long now = hb_loop_now_us();
	if (src ? !hb_client_may_log(src, now) : (w->refused_logged_us &&
			now - w->refused_logged_us < REFUSAL_LOG_US))
		return;
	if (!src)
		w->refused_logged_us = now;
	hb_log(HB_LOG_INFO, "widget_refused", "status=%u reason=%s", status, why);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		void *user, void *in, size_t len)
{
	struct hb_widget_conn *c = user;
	struct hb_widget *w;
	const char *why = NULL;
	struct hb_client *src;
	unsigned status;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (!c || !(w = widget_of(wsi)))
			return -1;
		return hb_http_request(wsi, &c->http, w->app, w->serve);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return c ? hb_http_writeable(wsi, &c->http) : -1;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c)
			hb_http_finish(&c->http);
		hb_unmasked_forget(lws_get_socket_fd(wsi));
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		if (!(w = widget_of(wsi)))
			return -1;
		if ((status = gate(w, wsi, &why, &src))) {
			log_refusal(w, src, status, why);
			return hb_http_refuse(wsi, status, why);
		}
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* the authoritative check: every upgrade path passes here */
		w = widget_of(wsi);
		return !w || gate(w, wsi, &why, &src) != 0;
	case LWS_CALLBACK_ESTABLISHED:
		/* the request's headers are still there: the front's source */
		if (!c || !(w = widget_of(wsi)) || !(src = source_of(w, wsi)))
			return -1;
		if (!origin_allowed(w, wsi)) {
			log_refusal(w, src, REFUSED_ORIGIN, "origin");
			hb_widget_conn_refuse(w, c, wsi, src, REFUSED_ORIGIN, "origin");
			return 0;
		}
		hb_widget_conn_open(w, c, wsi, src);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return c && c->w ? hb_widget_conn_receive(c, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c && c->w ? hb_widget_conn_writeable(c) : -1;
	case LWS_CALLBACK_CLOSED:
		if (c)
			hb_widget_conn_closed(c);
		hb_unmasked_forget(lws_get_socket_fd(wsi));
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		/* every way out of a handed-over connection passes here */
		hb_unmasked_forget(lws_get_socket_fd(wsi));
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* lws pings quiet connections and drops those that stop answering. */
static const lws_retry_bo_t liveness = {
	.secs_since_valid_ping = 30,
	.secs_since_valid_hangup = 75,
};

static const struct lws_protocols protocols[] = {
	{
		.name = "healthbot-chat",
		.callback = callback,
		.per_session_data_size = sizeof(struct hb_widget_conn),
		/* lws allocates this for every open websocket; a longer message
		 * arrives in several callbacks and chat.c joins them */
		.rx_buffer_size = 1024,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void sweep(lws_sorted_usec_list_t *sul)
{
	struct hb_widget *w = lws_container_of(sul, struct hb_widget, sweep);
	long long now = hb_loop_now_us();
	long long idle_us = w->conf.idle_timeout * 1000000LL;
	for (struct hb_widget_conn *c = w->conns; c; c = c->next) {
		if (!c->close_code && now - c->last_rx_us > idle_us) {
			hb_log(HB_LOG_INFO, "widget_idle", "conn=%lu", c->serial);
			/* 4000: the widget waits for the patient before reconnecting */
			hb_widget_conn_close(c, 4000, "idle");
		}
	}
	hb_clients_sweep(w->sources, now);
	lws_sul_schedule(hb_loop_context(w->app->loop), 0, &w->sweep, sweep,
		SWEEP_US);
}

static void destroy(void *data)
{
	struct hb_widget *w = data;
	if (!w)
		return;
	lws_sul_cancel(&w->sweep);
	/* close our websockets now, while w is still there for CLOSED */
	while (w->conns) {
		struct hb_widget_conn *c = w->conns;
		struct lws *wsi = c->wsi;
		hb_widget_conn_closed(c);
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
	}
	if (w->vhost) {
		struct hb_widget **slot = lws_protocol_vh_priv_get(w->vhost,
			&protocols[0]);
		if (slot)
			*slot = NULL;
		lws_vhost_destroy(w->vhost);
	}
	if (w->front) {
		struct hb_widget **slot = lws_protocol_vh_priv_get(w->front,
			&hb_front_protocols[0]);
		if (slot)
			*slot = NULL;
		lws_vhost_destroy(w->front);
	}
	hb_clients_destroy(w->sources);
	hb_conversations_destroy(w->convs);
	conf_finish(&w->conf);
	free(w);
}

static void *create(struct hb_app *app, const cJSON *section,
		const struct hb_run_overrides *ov)
{
	struct lws_context_creation_info info;
	struct hb_widget *w = calloc(1, sizeof(*w));
	if (!w) {
		hb_log(HB_LOG_ERROR, "widget", "error=\"out of memory\"");
		return NULL;
	}
	w->app = app;
	if (!conf_parse(section, &w->conf))
		goto fail;
	if (ov && ov->bind) {
		char *b = strdup(ov->bind);
		if (!b)
			goto fail;
		free(w->conf.bind);
		w->conf.bind = b;
	}
	if (ov && ov->port)
		w->conf.port = ov->port;
	int family = hb_http_address_family(w->conf.bind);
	if (family < 0 || !hb_http_bindable(w->conf.bind, family)) {
		fprintf(stderr, "healthbot: cannot listen on %s: not an IP address of "
			"this machine\n", w->conf.bind);
		goto fail;
	}
	/* conversations end with their connection; the cap is a backstop */
	w->convs = hb_conversations_create((size_t)w->conf.max_connections,
		w->conf.idle_timeout * 2);
	if (!w->convs)
		goto fail;
	w->sources = hb_clients_create((size_t)w->conf.max_connections * 4 +
		1024, w->conf.source_rate_burst, w->conf.source_rate_per_minute);
	if (!w->sources)
		goto fail;
	/* HTTP and websockets: no listener of its own, the front hands it
	 * each connection once the request head passed its checks */
	memset(&info, 0, sizeof(info));
	info.vhost_name = "widget";
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.retry_and_idle_policy = &liveness;
	info.keepalive_timeout = 5;
	/* lws adds these to its own answers (error pages) too */
	info.headers = hb_http_security_headers();
	w->vhost = lws_create_vhost(hb_loop_context(app->loop), &info);
	if (!w->vhost) {
		hb_log(HB_LOG_ERROR, "widget", "error=\"cannot create the vhost\"");
		goto fail;
	}
	struct hb_widget **slot = lws_protocol_vh_priv_zalloc(w->vhost,
		&protocols[0], sizeof(*slot));
	if (!slot)
		goto fail;
	*slot = w;
	/* the listener: raw sockets, read by front.c */
	memset(&info, 0, sizeof(info));
	info.vhost_name = "widget-front";
	info.port = (int)w->conf.port;
	info.iface = w->conf.bind;
	info.options = LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
	/* an IPv4 address needs an IPv4 socket (see bindable()) */
	if (family == AF_INET)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.listen_accept_role = "raw-skt";
	info.listen_accept_protocol = hb_front_protocols[0].name;
	info.protocols = hb_front_protocols;
	w->front = lws_create_vhost(hb_loop_context(app->loop), &info);
	if (!w->front) {
		hb_log(HB_LOG_ERROR, "widget", "error=\"cannot listen\" port=%ld",
			w->conf.port);
		fprintf(stderr, "healthbot: cannot listen on %s port %ld (in use, or "
			"not an address of this machine?)\n", w->conf.bind, w->conf.port);
		goto fail;
	}
	slot = lws_protocol_vh_priv_zalloc(w->front, &hb_front_protocols[0],
		sizeof(*slot));
	if (!slot)
		goto fail;
	*slot = w;
	w->port = lws_get_vhost_listen_port(w->front);
	/* /metrics moves to the metrics listener when there is one, off a
	 * port that may face the Internet */
	w->serve = HB_HTTP_ASSETS | HB_HTTP_FRONTED | (hb_config_section_enabled(app->config,
		"metrics") ? 0 : HB_HTTP_METRICS);
	hb_metrics_channel(app->metrics, SECTION);
	hb_metrics_widget_clients(app->metrics, 0);
	lws_sul_schedule(hb_loop_context(app->loop), 0, &w->sweep, sweep,
		SWEEP_US);
	bool v6 = strchr(w->conf.bind, ':') != NULL;
	hb_log(HB_LOG_INFO, "widget_listen", "port=%d", w->port);
	printf("healthbot: chat widget at http://%s%s%s:%d/\n", v6 ? "[" : "",
		w->conf.bind, v6 ? "]" : "", w->port);
	fflush(stdout);
	return w;
fail:
	destroy(w);
	return NULL;
}

/* Each connection sends what is queued, then a close frame (1001, going
 * away); what clients send meanwhile is read and dropped. The widget keeps
 * every message without a reply and sends it again once it has
 * reconnected to the next process. */
static void drain(void *data)
{
	struct hb_widget *w = data;
	size_t queued = 0;
	for (struct hb_widget_conn *c = w->conns; c; c = c->next) {
		queued += c->out.count;
		hb_widget_conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY,
			"server restarting");
	}
	hb_log(HB_LOG_INFO, "widget_drain", "open=%zu queued=%zu", w->n_conns,
		queued);
}

static bool drained(void *data, bool timed_out)
{
	struct hb_widget *w = data;
	if (timed_out && w->n_conns) {
		size_t queued = 0;
		for (struct hb_widget_conn *c = w->conns; c; c = c->next)
			queued += c->out.count;
		hb_log(HB_LOG_WARN, "widget_drain_left", "open=%zu queued=%zu",
			w->n_conns, queued);
	}
	return w->n_conns == 0;
}

const struct hb_channel hb_channel_widget = {
	.name = SECTION,
	.default_enabled = true,
	.check = check,
	.create = create,
	.destroy = destroy,
	.drain = drain,
	.drained = drained,
};
