#ifndef HB_HTTP_H
#define HB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The widget server's plain HTTP side: the embedded assets, /healthz and
 * error answers, each with the security headers (a CSP without inline
 * script, nosniff, no referrer, no framing, no cookies).
 */
struct lws;

struct hb_http {
	const unsigned char *body; /* static: an asset or a fixed text */
	size_t len;
	size_t sent;
};

/* LWS_CALLBACK_HTTP: answers a request. Returns what the callback returns. */
int hb_http_request(struct lws *wsi, struct hb_http *st, bool healthy);
/* LWS_CALLBACK_HTTP_WRITEABLE: sends more of the body. */
int hb_http_writeable(struct lws *wsi, struct hb_http *st);
/* Answers a refused websocket upgrade: status, and the reason (a token)
 * in an x-healthbot-refused header. Needs no session data: lws has none
 * for the connection yet at CONFIRM_UPGRADE.
 * Returns 1 (headers sent) or -1 (hang up). */
int hb_http_refuse(struct lws *wsi, unsigned status,
		const char *reason);

#endif
