#ifndef HB_MX_UTIL_H
#define HB_MX_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Small helpers the Matrix modules share: a growable string, hashing of
 * identifiers (so room ids, user ids and event ids never need to be kept
 * or logged in the clear), URL pieces and backoff delays.
 */

struct hb_mx_str {
	char *data; /* always NUL-terminated once anything was added */
	size_t len, cap;
	bool oom;
};

void hb_mx_str_init(struct hb_mx_str *s);
void hb_mx_str_finish(struct hb_mx_str *s);
void hb_mx_str_append(struct hb_mx_str *s, const char *p, size_t n);
void hb_mx_str_puts(struct hb_mx_str *s, const char *p);
void hb_mx_str_printf(struct hb_mx_str *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Percent-encodes everything but RFC 3986 unreserved characters. */
void hb_mx_str_urlencode(struct hb_mx_str *s, const char *p);
/* Escapes & < > " for HTML text and attribute values. */
void hb_mx_str_html(struct hb_mx_str *s, const char *p, size_t n);
/* Returns the buffer (caller frees) or NULL when memory ran out. */
char *hb_mx_str_steal(struct hb_mx_str *s);

#define HB_MX_HASH_HEX 33 /* 128 bits as hex, with the NUL */

/* SHA-256 of the parts joined by 0x1f, truncated to 128 bits, as hex. A
 * NULL part counts as "". */
void hb_mx_hash(char out[HB_MX_HASH_HEX], const char *a, const char *b,
		const char *c);

/* A homeserver base URL, split. */
struct hb_mx_url {
	bool tls;
	char host[256];  /* without brackets for IPv6 literals */
	int port;
	char prefix[256]; /* path prefix without a trailing slash, or "" */
	bool host_is_ip;
};

/* Parses http(s)://host[:port][/prefix]; on failure *why says what is
 * wrong, in words fit for the operator. */
bool hb_mx_url_parse(const char *url, struct hb_mx_url *out, const char **why);

/* "@local:server" with a non-empty local part and server. */
bool hb_mx_user_id_valid(const char *id);
/* The server part of a user id, or NULL. */
const char *hb_mx_user_server(const char *id);

/* Exponential backoff with jitter: attempt 0 → about base_ms, doubling up
 * to cap_ms, each delay drawn from [d/2, d] so clients that failed at the
 * same time do not return at the same time. */
long hb_mx_backoff_ms(unsigned attempt, long base_ms, long cap_ms);

#endif
