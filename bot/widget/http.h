#ifndef HB_HTTP_H
#define HB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The plain HTTP side of the widget server and of the metrics listener:
 * the embedded assets, /healthz (live), /readyz (ready for traffic),
 * /metrics (Prometheus text) and error answers, each with the security
 * headers (a CSP without inline script, nosniff, no referrer, no framing,
 * no cookies).
 */
struct lws;
struct hb_app;

struct hb_http {
	const unsigned char *body; /* an asset, a fixed text or owned */
	size_t len;
	size_t sent;
	char *owned;               /* a body made for this request, or NULL */
	unsigned serve;            /* HB_HTTP_* of the request */
};

/* What a listener serves besides /healthz and /readyz. */
#define HB_HTTP_ASSETS 0x1u  /* the demo page and the widget's files */
#define HB_HTTP_METRICS 0x2u /* /metrics */
/* Behind the widget's front (front.h): the vhost adds the security
 * headers, and a connection carries one request. */
#define HB_HTTP_FRONTED 0x4u

struct lws_protocol_vhost_options;
/* The security headers, for a vhost's `headers` (lws adds them to every
 * answer, its own error pages included). */
const struct lws_protocol_vhost_options *hb_http_security_headers(void);

/* LWS_CALLBACK_HTTP: answers a request. Returns what the callback returns. */
int hb_http_request(struct lws *wsi, struct hb_http *st,
		const struct hb_app *app, unsigned serve);
/* LWS_CALLBACK_HTTP_WRITEABLE: sends more of the body. */
int hb_http_writeable(struct lws *wsi, struct hb_http *st);
/* LWS_CALLBACK_CLOSED_HTTP: frees what the request still holds. */
void hb_http_finish(struct hb_http *st);
/* Answers a refused websocket upgrade (behind the widget's front): status,
 * and the reason (a token) in an x-healthbot-refused header. Needs no session data: lws has none
 * for the connection yet at CONFIRM_UPGRADE.
 * Returns 1 (headers sent) or -1 (hang up). */
int hb_http_refuse(struct lws *wsi, unsigned status,
		const char *reason);

/* AF_INET or AF_INET6 for a numeric address, else -1. */
int hb_http_address_family(const char *addr);
/* Whether addr (of that family) is an address of this machine. lws 4.1
 * does not check: an IPv4 address on its (default) IPv6 socket is written
 * into the wrong part of the address and the socket listens on every
 * interface. */
bool hb_http_bindable(const char *addr, int family);

#endif
