#ifndef HB_RESOLVE_H
#define HB_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One host name lookup off the event loop. Debian's libwebsockets resolves
 * synchronously, so a slow DNS server would stall every channel; instead a
 * thread runs getaddrinfo() and wakes the loop (lws_cancel_service(), seen
 * as LWS_CALLBACK_EVENT_WAIT_CANCELLED) when it is done, and the client then
 * connects to the numeric address.
 */
struct lws_context;
struct hb_resolve;

/* Numeric IPv4 or IPv6 literals need no lookup. */
bool hb_resolve_is_numeric(const char *host);
/* NULL (and logged) when no thread could be started. */
struct hb_resolve *hb_resolve_start(struct lws_context *context,
		const char *host);
/* True once finished: addr holds a numeric address, or "" when the lookup
 * failed (*error: the getaddrinfo() code). */
bool hb_resolve_done(struct hb_resolve *r, char *addr, size_t size,
		int *error);
/* Forgets the lookup; a thread still running finishes on its own and never
 * touches the context again. Accepts NULL. */
void hb_resolve_cancel(struct hb_resolve *r);

#endif
