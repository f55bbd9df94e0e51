#ifndef HB_MX_UTIL_H
#define HB_MX_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Small helpers the Matrix modules share: hashing of identifiers (so room
 * ids, user ids and event ids never need to be kept or logged in the
 * clear) and URL pieces. The string buffer, JSON parse and backoff are
 * bot/common's.
 */

/* Percent-encodes everything but RFC 3986 unreserved characters. */
void hb_mx_urlencode(struct hb_buf *s, const char *p);

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

/*
 * Replaces path with text and a newline so that a crash leaves the old
 * file or the new one, never a mix: written to tmp_path (mode 0600),
 * fsynced, renamed over path, and dir fsynced so the rename itself is on
 * disk before the caller counts the state as saved. On failure returns
 * false with *step naming what failed (errno is its error).
 */
bool hb_mx_write_atomic(const char *path, const char *tmp_path,
		const char *dir, const char *text, const char **step);

#endif
