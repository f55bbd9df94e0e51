#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "assets.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"

/* 'self' on connect-src covers the same-origin ws:// URL of /chat */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"
#define CHUNK 4096

/* on every answer; the widget's vhost has lws add them (its own error
 * pages included), other listeners get them from respond() */
static const struct lws_protocol_vhost_options security[] = {
	{ &security[1], NULL, "content-security-policy:", CSP },
	{ &security[2], NULL, "x-content-type-options:", "nosniff" },
	{ &security[3], NULL, "referrer-policy:", "no-referrer" },
	{ &security[4], NULL, "x-frame-options:", "DENY" },
	{ &security[5], NULL, "permissions-policy:",
		"camera=(), microphone=(), geolocation=()" },
	{ NULL, NULL, "cache-control:", "no-cache" },
};

const struct lws_protocol_vhost_options *hb_http_security_headers(void)
{
	return security;
}

static const struct hb_asset *find_asset(const char *path)
{
	for (const struct hb_asset *a = hb_assets; a->path; a++) {
		if (strcmp(a->path, path) == 0)
			return a;
	}
	return NULL;
}

static bool add(struct lws *wsi, const char *name, const char *value,
		unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
		(const unsigned char *)value, (int)strlen(value), p, end) == 0;
}

/* The status line and the headers every answer has. Behind the widget's
 * front each connection carries one request (the front checked only the
 * first): "connection: close" and lws hangs up once the body is sent. */
static bool headers(struct lws *wsi, unsigned serve, unsigned status,
		const char *type, size_t len, unsigned char **p, unsigned char *end)
{
	if (serve & HB_HTTP_FRONTED)
		return lws_add_http_common_headers(wsi, status, type,
			LWS_ILLEGAL_HTTP_CONTENT_LEN, p, end) == 0 &&
			lws_add_http_header_content_length(wsi, len, p, end) == 0;
	if (lws_add_http_common_headers(wsi, status, type, len, p, end))
		return false;
	for (const struct lws_protocol_vhost_options *o = security; o; o = o->next) {
		if (!add(wsi, o->name, o->value, p, end))
			return false;
	}
	return true;
}

/* Writes the status line and headers; the body follows in WRITEABLE. */
static int respond(struct lws *wsi, struct hb_http *st, unsigned status,
		const char *type, const unsigned char *body, size_t len,
		const struct hb_asset *asset, bool head)
{
	unsigned char buf[LWS_PRE + 2048];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	if (!headers(wsi, st->serve, status, type, len, &p, end))
		return -1;
	/* portals on other origins load the widget's script and stylesheet */
	if (!add(wsi, "cross-origin-resource-policy:", asset && asset->embeddable ?
			"cross-origin" : "same-origin", &p, end))
		return -1;
	if (asset && !add(wsi, "etag:", asset->etag, &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	st->body = body;
	st->len = head ? 0 : len;
	st->sent = 0;
	if (st->len == 0)
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	lws_callback_on_writable(wsi);
	return 0;
}

static int respond_text(struct lws *wsi, struct hb_http *st, unsigned status,
		const char *text, bool head)
{
	return respond(wsi, st, status, "text/plain; charset=utf-8",
		(const unsigned char *)text, strlen(text), NULL, head);
}

static bool etag_matches(struct lws *wsi, const struct hb_asset *a)
{
	char tag[128];
	if (lws_hdr_copy(wsi, tag, sizeof(tag), WSI_TOKEN_HTTP_IF_NONE_MATCH) <= 0)
		return false;
	return strstr(tag, a->etag) != NULL;
}

void hb_http_finish(struct hb_http *st)
{
	free(st->owned);
	memset(st, 0, sizeof(*st));
}

static int respond_metrics(struct lws *wsi, struct hb_http *st,
		const struct hb_app *app, bool head)
{
	size_t len = 0;
	/* rendered per request: a scrape every few seconds, a few KB */
	if (!(st->owned = hb_metrics_render(app->metrics, &len)))
		return respond_text(wsi, st, HTTP_STATUS_INTERNAL_SERVER_ERROR,
			"out of memory\n", head);
	return respond(wsi, st, HTTP_STATUS_OK,
		"text/plain; version=0.0.4; charset=utf-8",
		(const unsigned char *)st->owned, len, NULL, head);
}

int hb_http_request(struct lws *wsi, struct hb_http *st,
		const struct hb_app *app, unsigned serve)
{
	char *uri;
	int uri_len;
	int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
	bool head = method == LWSHUMETH_HEAD;
	char path[256];
	/* a kept-alive connection's previous request may have left a body */
	hb_http_finish(st);
	st->serve = serve;
	if (method != LWSHUMETH_GET && !head) {
		hb_log(HB_LOG_DEBUG, "http", "status=405 method=%d", method);
		return respond_text(wsi, st, HTTP_STATUS_METHOD_NOT_ALLOWED,
			"method not allowed\n", false);
	}
	if (uri_len <= 0 || (size_t)uri_len >= sizeof(path))
		return respond_text(wsi, st, HTTP_STATUS_NOT_FOUND, "not found\n", head);
	memcpy(path, uri, (size_t)uri_len);
	path[uri_len] = '\0';
	/* lws keeps the query string apart; nothing here uses one */
	if (strcmp(path, "/healthz") == 0) {
		/* live: the loop turns; only a process on its way out says no */
		bool live = app->engine && !hb_loop_stopping(app->loop);
		return respond_text(wsi, st, live ? HTTP_STATUS_OK :
			HTTP_STATUS_SERVICE_UNAVAILABLE, live ? "ok\n" :
			"stopping\n", head);
	}
	if (strcmp(path, "/readyz") == 0) {
		const char *why = hb_app_not_ready(app);
		char text[64];
		snprintf(text, sizeof(text), "%s\n", why ? why : "ready");
		if (!(st->owned = strdup(text)))
			return -1;
		return respond(wsi, st, why ? HTTP_STATUS_SERVICE_UNAVAILABLE :
			HTTP_STATUS_OK, "text/plain; charset=utf-8",
			(const unsigned char *)st->owned, strlen(st->owned), NULL, head);
	}
	if (strcmp(path, "/metrics") == 0 && (serve & HB_HTTP_METRICS))
		return respond_metrics(wsi, st, app, head);
	if (!(serve & HB_HTTP_ASSETS)) {
		hb_log(HB_LOG_DEBUG, "http", "status=404");
		return respond_text(wsi, st, HTTP_STATUS_NOT_FOUND, "not found\n", head);
	}
	if (strcmp(path, "/index.html") == 0)
		strcpy(path, "/");
	const struct hb_asset *a = find_asset(path);
	if (!a) {
		hb_log(HB_LOG_DEBUG, "http", "status=404");
		return respond_text(wsi, st, HTTP_STATUS_NOT_FOUND, "not found\n", head);
	}
	if (etag_matches(wsi, a))
		return respond(wsi, st, HTTP_STATUS_NOT_MODIFIED, a->content_type,
			NULL, 0, a, true);
	return respond(wsi, st, HTTP_STATUS_OK, a->content_type, a->data, a->len,
		a, head);
}

int hb_http_writeable(struct lws *wsi, struct hb_http *st)
{
	if (!st->body || st->sent >= st->len)
		return 0;
	size_t n = st->len - st->sent;
	bool last = n <= CHUNK;
	unsigned char buf[LWS_PRE + CHUNK];
	if (!last)
		n = CHUNK;
	memcpy(buf + LWS_PRE, st->body + st->sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL :
			LWS_WRITE_HTTP) != (int)n)
		return -1;
	st->sent += n;
	if (last) {
		hb_http_finish(st);
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

int hb_http_refuse(struct lws *wsi, unsigned status,
		const char *reason)
{
	/* no body: a second write in this callback could collide with a
	 * partly sent header, and lws completes the transaction after us */
	unsigned char buf[LWS_PRE + 2048];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	if (!headers(wsi, HB_HTTP_FRONTED, status, "text/plain; charset=utf-8",
			0, &p, end))
		return -1;
	if (!add(wsi, "x-healthbot-refused:", reason, &p, end) ||
			lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return 1;
}

int hb_http_address_family(const char *addr)
{
	unsigned char buf[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, addr, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, addr, buf) == 1)
		return AF_INET6;
	return -1;
}

bool hb_http_bindable(const char *addr, int family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	int fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	int rc = bind(fd, (struct sockaddr *)&ss, len);
	int err = errno;
	close(fd);
	if (rc < 0)
		hb_log(HB_LOG_ERROR, "http", "error=\"cannot bind\" errno=%d", err);
	return rc == 0;
}
