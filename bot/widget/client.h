#ifndef HB_WIDGET_CLIENT_H
#define HB_WIDGET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Per-source state of the widget: open websockets, a message token bucket
 * and when a refusal was last logged, keyed by the client's address (an
 * IPv6 address by its /64: one subscriber's prefix). Entries outlive their
 * connections, so reconnecting does not refill the bucket; an entry with
 * no connection is dropped once its bucket is full again (it then holds
 * nothing a new one would not), and the least recently seen such entry
 * makes room when the table is full.
 */
struct hb_clients;

struct hb_client {
	char key[48];        /* the address as text (IPv6: its /64) */
	size_t conns;        /* open websockets */
	size_t pending;      /* connections still sending their request head */
	double tokens;
	long long refilled_us;
	long long seen_us;
	long long logged_us; /* last refusal logged, 0: never */
	struct hb_client *next_hash;
	struct hb_client *prev, *next; /* least recently seen first */
};

struct hb_clients *hb_clients_create(size_t max_entries, long burst,
		long per_minute);
void hb_clients_destroy(struct hb_clients *s);
/* The entry for an address (any text inet_pton reads; else the text
 * itself), created if needed; NULL when the table is full of sources with
 * open connections, or out of memory. */
struct hb_client *hb_clients_get(struct hb_clients *s, const char *addr,
		long long now_us);
/* Takes one message token; false when the source must slow down. */
bool hb_client_take(struct hb_clients *s, struct hb_client *src,
		long long now_us);
/* Whether a refusal for this source may be logged now (once a minute). */
bool hb_client_may_log(struct hb_client *src, long long now_us);
/* Drops entries that hold nothing any more. */
void hb_clients_sweep(struct hb_clients *s, long long now_us);
size_t hb_clients_count(const struct hb_clients *s);
/* The canonical key of an address: IPv4 dotted, IPv6 as its /64 prefix;
 * false when addr is not an IP address. */
bool hb_client_key(const char *addr, char *key, size_t size);

#endif
