/* The widget channel: config, the listening vhost, the upgrade gate
 * (path, origin, connection limit) and the idle sweep. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "app.h"
#include "channel.h"
#include "config.h"
#include "healthbot.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "widget.h"

#define SECTION "widget"
#define SWEEP_US (1 * LWS_US_PER_SEC)

static const char *const keys[] = { "enabled", "bind", "port",
	"allowed_origins", "same_origin", "max_connections", "max_message_bytes",
	"idle_timeout", "rate_burst", "rate_per_minute", NULL };

static void conf_finish(struct hb_widget_conf *conf)
{
	free(conf->bind);
	hb_config_free_strings(conf->origins, conf->n_origins);
	memset(conf, 0, sizeof(*conf));
}

static bool conf_parse(const cJSON *s, struct hb_widget_conf *conf)
{
	bool enabled = true;
	memset(conf, 0, sizeof(*conf));
	conf->port = 8080;
	conf->same_origin = true;
	conf->max_connections = 1000;
	conf->max_message_bytes = 4096;
	conf->idle_timeout = 900;
	conf->rate_burst = 10;
	conf->rate_per_minute = 30;
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
				&conf->rate_per_minute))) {
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
	char origin[256], host[256];
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return false;
	for (size_t i = 0; i < w->conf.n_origins; i++) {
		if (strcasecmp(origin, w->conf.origins[i]) == 0)
			return true;
	}
	if (!w->conf.same_origin ||
			lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return false;
	/* the page's own origin: the host it was served under */
	const char *o = origin;
	if (strncasecmp(o, "http://", 7) == 0)
		o += 7;
	else if (strncasecmp(o, "https://", 8) == 0)
		o += 8;
	else
		return false;
	return strcasecmp(o, host) == 0;
}

/* 0 when the upgrade may go ahead, else an HTTP status and reason. */
static unsigned gate(const struct hb_widget *w, struct lws *wsi,
		const char **reason)
{
	char path[64];
	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 ||
			strcmp(path, "/chat") != 0) {
		*reason = "path";
		return HTTP_STATUS_NOT_FOUND;
	}
	if (!origin_allowed(w, wsi)) {
		*reason = "origin";
		return HTTP_STATUS_FORBIDDEN;
	}
	if (w->n_conns >= (size_t)w->conf.max_connections) {
		*reason = "busy";
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	/* the listening socket is closed when a drain starts; this is for
	 * connections accepted just before */
	if (hb_loop_draining(w->app->loop) || hb_loop_stopping(w->app->loop)) {
		*reason = "draining";
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		void *user, void *in, size_t len)
{
	struct hb_widget_conn *c = user;
	struct hb_widget *w;
	const char *why = NULL;
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
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		if (!(w = widget_of(wsi)))
			return -1;
		if ((status = gate(w, wsi, &why))) {
			hb_log(HB_LOG_INFO, "widget_refused", "status=%u reason=%s",
				status, why);
			return hb_http_refuse(wsi, status, why);
		}
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* the authoritative check: every upgrade path passes here */
		w = widget_of(wsi);
		return !w || gate(w, wsi, &why) != 0;
	case LWS_CALLBACK_ESTABLISHED:
		if (!c || !(w = widget_of(wsi)))
			return -1;
		hb_widget_conn_open(w, c, wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return c && c->w ? hb_widget_conn_receive(c, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c && c->w ? hb_widget_conn_writeable(c) : -1;
	case LWS_CALLBACK_CLOSED:
		if (c)
			hb_widget_conn_closed(c);
		return 0;
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
		.rx_buffer_size = 4096,
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
	memset(&info, 0, sizeof(info));
	info.vhost_name = "widget";
	info.port = (int)w->conf.port;
	info.iface = w->conf.bind;
	/* an IPv4 address needs an IPv4 socket (see bindable()) */
	if (family == AF_INET)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.protocols = protocols;
	info.retry_and_idle_policy = &liveness;
	info.keepalive_timeout = 5;
	w->vhost = lws_create_vhost(hb_loop_context(app->loop), &info);
	if (!w->vhost) {
		hb_log(HB_LOG_ERROR, "widget", "error=\"cannot listen\" port=%ld",
			w->conf.port);
		fprintf(stderr, "healthbot: cannot listen on %s port %ld (in use, or "
			"not an address of this machine?)\n", w->conf.bind, w->conf.port);
		goto fail;
	}
	struct hb_widget **slot = lws_protocol_vh_priv_zalloc(w->vhost,
		&protocols[0], sizeof(*slot));
	if (!slot)
		goto fail;
	*slot = w;
	w->port = lws_get_vhost_listen_port(w->vhost);
	/* /metrics moves to the metrics listener when there is one, off a
	 * port that may face the Internet */
	w->serve = HB_HTTP_ASSETS | (hb_config_section_enabled(app->config,
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
