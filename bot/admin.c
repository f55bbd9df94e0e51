/* The metrics listener: its config section, vhost and HTTP callback. */
#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "admin.h"
#include "app.h"
#include "channel.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "widget/http.h"

#define SECTION "metrics"

static const char *const keys[] = { "enabled", "bind", "port", NULL };

struct admin {
	struct hb_app *app;
	struct lws_vhost *vhost;
	char *bind;
	long port;
};

static bool conf_parse(const cJSON *s, char **bind, long *port)
{
	bool enabled = true;
	*bind = NULL;
	*port = 9464;
	if (!hb_config_check_keys(s, SECTION, keys) ||
			!hb_config_bool(s, SECTION, "enabled", &enabled) ||
			!hb_config_string(s, SECTION, "bind", false, bind) ||
			!hb_config_int(s, SECTION, "port", 0, 65535, port))
		goto fail;
	if (!*bind && !(*bind = strdup("127.0.0.1")))
		goto fail;
	if (hb_http_address_family(*bind) < 0) {
		hb_config_error(SECTION, "bind", "must be an IP address such as "
			"127.0.0.1 or ::1");
		goto fail;
	}
	return true;
fail:
	free(*bind);
	*bind = NULL;
	return false;
}

static bool check(const cJSON *section)
{
	char *bind;
	long port;
	if (!section)
		return true;
	if (!conf_parse(section, &bind, &port))
		return false;
	free(bind);
	return true;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		void *user, void *in, size_t len)
{
	struct hb_http *st = user;
	struct admin **slot;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		slot = lws_protocol_vh_priv_get(lws_get_vhost(wsi),
			lws_get_protocol(wsi));
		/* NULL once the listener is destroyed */
		if (!st || !slot || !*slot)
			return -1;
		return hb_http_request(wsi, st, (*slot)->app, HB_HTTP_METRICS);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return st ? hb_http_writeable(wsi, st) : -1;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (st)
			hb_http_finish(st);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{
		.name = "healthbot-metrics",
		.callback = callback,
		.per_session_data_size = sizeof(struct hb_http),
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void destroy(void *data)
{
	struct admin *a = data;
	if (!a)
		return;
	if (a->vhost) {
		struct admin **slot = lws_protocol_vh_priv_get(a->vhost,
			&protocols[0]);
		if (slot)
			*slot = NULL;
		lws_vhost_destroy(a->vhost);
	}
	free(a->bind);
	free(a);
}

static void *create(struct hb_app *app, const cJSON *section,
		const struct hb_run_overrides *ov)
{
	struct lws_context_creation_info info;
	struct admin *a = calloc(1, sizeof(*a));
	(void)ov;
	if (!a) {
		hb_log(HB_LOG_ERROR, "metrics", "error=\"out of memory\"");
		return NULL;
	}
	a->app = app;
	if (!conf_parse(section, &a->bind, &a->port))
		goto fail;
	int family = hb_http_address_family(a->bind);
	if (!hb_http_bindable(a->bind, family)) {
		fprintf(stderr, "healthbot: metrics: cannot listen on %s: not an IP "
			"address of this machine\n", a->bind);
		goto fail;
	}
	memset(&info, 0, sizeof(info));
	info.vhost_name = SECTION;
	info.port = (int)a->port;
	info.iface = a->bind;
	if (family == AF_INET)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.protocols = protocols;
	info.keepalive_timeout = 5;
	a->vhost = lws_create_vhost(hb_loop_context(app->loop), &info);
	if (!a->vhost) {
		hb_log(HB_LOG_ERROR, "metrics", "error=\"cannot listen\" port=%ld",
			a->port);
		fprintf(stderr, "healthbot: metrics: cannot listen on %s port %ld (in "
			"use?)\n", a->bind, a->port);
		goto fail;
	}
	struct admin **slot = lws_protocol_vh_priv_zalloc(a->vhost, &protocols[0],
		sizeof(*slot));
	if (!slot)
		goto fail;
	*slot = a;
	int port = lws_get_vhost_listen_port(a->vhost);
	bool v6 = strchr(a->bind, ':') != NULL;
	hb_log(HB_LOG_INFO, "metrics_listen", "port=%d", port);
	printf("healthbot: metrics at http://%s%s%s:%d/metrics\n", v6 ? "[" : "",
		a->bind, v6 ? "]" : "", port);
	fflush(stdout);
	return a;
fail:
	destroy(a);
	return NULL;
}

/* Scrapes and probes are answered at once: nothing to wait for. */
static bool drained(void *data, bool timed_out)
{
	(void)data;
	(void)timed_out;
	return true;
}

const struct hb_channel hb_channel_metrics = {
	.name = SECTION,
	.default_enabled = false,
	.check = check,
	.create = create,
	.destroy = destroy,
	.drained = drained,
};
