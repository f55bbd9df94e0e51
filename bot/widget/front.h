#ifndef HB_WIDGET_FRONT_H
#define HB_WIDGET_FRONT_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The widget's front door: the listening vhost accepts raw sockets, reads
 * the request head itself and checks it strictly (RFC 9112: CRLF only, no
 * obs-fold, no CTL or NUL, one decimal Content-Length and no body, no
 * Transfer-Encoding, Host on HTTP/1.1, origin-form GET/HEAD, sizes). A bad
 * request gets 400/405/414/431/505 with the security headers and the
 * connection is closed; a good one is rewritten to the headers the widget
 * uses plus the client's source address (x-healthbot-source) and handed to
 * the HTTP vhost. libwebsockets' own, lenient parser never sees the
 * client's bytes, so no request can smuggle another past it.
 */
struct hb_widget;

/* The protocols of the listening vhost: the raw one accepted sockets
 * are bound to, and the terminator. */
extern const struct lws_protocols hb_front_protocols[2];

/* The custom header carrying the source (lws_hdr_custom_*: name with ':'). */
#define HB_FRONT_SOURCE_HEADER "x-healthbot-source:"

/* The source address of an HTTP wsi handed over by the front, into buf;
 * false if there is none. */
bool hb_front_source(struct lws *wsi, char *buf, size_t size);

#endif
