#include <libwebsockets.h>
#include <string.h>

#include "assets.h"
#include "http.h"
#include "log.h"

/* 'self' on connect-src covers the same-origin ws:// URL of /chat */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"
#define CHUNK 4096

struct header {
	const char *name;
	const char *value;
};

static const struct header security[] = {
	{ "content-security-policy:", CSP },
	{ "x-content-type-options:", "nosniff" },
	{ "referrer-policy:", "no-referrer" },
	{ "x-frame-options:", "DENY" },
	{ "permissions-policy:", "camera=(), microphone=(), geolocation=()" },
	{ "cache-control:", "no-cache" },
};

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

/* Writes the status line and headers; the body follows in WRITEABLE. */
static int respond(struct lws *wsi, struct hb_http *st, unsigned status,
		const char *type, const unsigned char *body, size_t len,
		const struct hb_asset *asset, bool head)
{
	unsigned char buf[LWS_PRE + 2048];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	if (lws_add_http_common_headers(wsi, status, type, len, &p, end))
		return -1;
	for (size_t i = 0; i < sizeof(security) / sizeof(security[0]); i++) {
		if (!add(wsi, security[i].name, security[i].value, &p, end))
			return -1;
	}
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

int hb_http_request(struct lws *wsi, struct hb_http *st, bool healthy)
{
	char *uri;
	int uri_len;
	int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
	bool head = method == LWSHUMETH_HEAD;
	char path[256];
	memset(st, 0, sizeof(*st));
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
		return respond_text(wsi, st, healthy ? HTTP_STATUS_OK :
			HTTP_STATUS_SERVICE_UNAVAILABLE, healthy ? "ok\n" :
			"stopping\n", head);
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
		st->body = NULL;
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
	if (lws_add_http_common_headers(wsi, status, "text/plain; charset=utf-8",
			0, &p, end))
		return -1;
	for (size_t i = 0; i < sizeof(security) / sizeof(security[0]); i++) {
		if (!add(wsi, security[i].name, security[i].value, &p, end))
			return -1;
	}
	if (!add(wsi, "x-healthbot-refused:", reason, &p, end) ||
			lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return 1;
}
