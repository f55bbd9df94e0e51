#ifndef HB_MX_HTTP_H
#define HB_MX_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A small HTTPS client for the homeserver on the shared libwebsockets
 * loop: one connection per request (Connection: close), a watchdog per
 * request, the access token as a Bearer header. Debian's libwebsockets
 * resolves names with a blocking getaddrinfo(), which would stall the
 * widget sharing the loop, so the homeserver's address is resolved in a
 * helper thread and cached; requests connect to the cached address.
 */
struct hb_mx_http;
struct hb_mx_request;
struct hb_mx_url;
struct lws_context;

struct hb_mx_response {
	int status;            /* HTTP status; 0 when no answer came */
	const char *body;      /* NUL-terminated, may be "" */
	size_t len;
	long retry_after_ms;   /* from a Retry-After header, -1 when absent */
	const char *error;     /* why no answer came (fixed words, loggable) */
	bool no_such_host;     /* the name does not exist (not a passing fault) */
	long long elapsed_ms;
};

typedef void (*hb_mx_http_fn)(void *data, const struct hb_mx_response *res);

struct hb_mx_http *hb_mx_http_create(struct lws_context *context,
		const struct hb_mx_url *url, const char *ca_file, const char *token);
void hb_mx_http_destroy(struct hb_mx_http *http);

/*
 * Starts a request. `path` is everything after the base URL, already
 * percent-encoded; `body` is JSON or NULL; `kind` is a fixed label for logs
 * (paths hold room ids and never reach a log). The callback runs once,
 * always from the loop and never from inside this call. Returns NULL only
 * when memory runs out.
 */
struct hb_mx_request *hb_mx_http_request(struct hb_mx_http *http,
		const char *kind, const char *method, const char *path,
		const char *body, int timeout_s, hb_mx_http_fn fn, void *data);
/* Drops a request without calling its callback. NULL is fine. */
void hb_mx_http_cancel(struct hb_mx_request *req);

#endif
