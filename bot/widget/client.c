/* The per-source table of the widget (see source.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "client.h"

#define LOG_EVERY_US (60LL * 1000000)

struct hb_clients {
	struct hb_client **buckets;
	size_t n_buckets;     /* a power of two */
	size_t count, max;
	struct hb_client *oldest, *newest;
	double burst, per_us;
};

bool hb_client_key(const char *addr, char *key, size_t size)
{
	unsigned char a[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, addr, a) == 1)
		return inet_ntop(AF_INET, a, key, (socklen_t)size) != NULL;
	if (inet_pton(AF_INET6, addr, a) != 1)
		return false;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return inet_ntop(AF_INET, a + 12, key, (socklen_t)size) != NULL;
	/* one subscriber usually gets a whole /64: count it as one source */
	memset(a + 8, 0, 8);
	if (!inet_ntop(AF_INET6, a, key, (socklen_t)size))
		return false;
	size_t n = strlen(key);
	if (n + 4 > size)
		return false;
	memcpy(key + n, "/64", 4);
	return true;
}

struct hb_clients *hb_clients_create(size_t max_entries, long burst,
		long per_minute)
{
	struct hb_clients *s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	s->n_buckets = 64;
	while (s->n_buckets < max_entries)
		s->n_buckets *= 2;
	if (!(s->buckets = calloc(s->n_buckets, sizeof(*s->buckets))))
		goto oom;
	s->max = max_entries;
	s->burst = (double)burst;
	s->per_us = (double)per_minute / 60e6;
	return s;
oom:
	hb_log(HB_LOG_ERROR, "widget", "error=\"out of memory\"");
	hb_clients_destroy(s);
	return NULL;
}

static uint32_t hash(const char *key)
{
	uint32_t h = 2166136261u;
	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

static void unlink_entry(struct hb_clients *s, struct hb_client *e)
{
	struct hb_client **pp = &s->buckets[hash(e->key) & (s->n_buckets - 1)];
	while (*pp != e)
		pp = &(*pp)->next_hash;
	*pp = e->next_hash;
	if (e->prev)
		e->prev->next = e->next;
	else
		s->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->newest = e->prev;
	s->count--;
	free(e);
}

static void touch(struct hb_clients *s, struct hb_client *e, long long now)
{
	e->seen_us = now;
	if (s->newest == e)
		return;
	if (e->prev || s->oldest == e) {
		if (e->prev)
			e->prev->next = e->next;
		else
			s->oldest = e->next;
		e->next->prev = e->prev;
	}
	e->prev = s->newest;
	e->next = NULL;
	if (s->newest)
		s->newest->next = e;
	else
		s->oldest = e;
	s->newest = e;
}

static void refill(struct hb_clients *s, struct hb_client *e, long long now)
{
	if (now > e->refilled_us)
		e->tokens += (double)(now - e->refilled_us) * s->per_us;
	e->refilled_us = now;
	if (e->tokens > s->burst)
		e->tokens = s->burst;
}

struct hb_client *hb_clients_get(struct hb_clients *s, const char *addr,
		long long now_us)
{
	char key[48];
	if (!hb_client_key(addr, key, sizeof(key)))
		snprintf(key, sizeof(key), "%s", addr);
	size_t b = hash(key) & (s->n_buckets - 1);
	struct hb_client *e;
	for (e = s->buckets[b]; e; e = e->next_hash) {
		if (strcmp(e->key, key) == 0) {
			touch(s, e, now_us);
			return e;
		}
	}
	if (s->count >= s->max) {
		/* forget the least recently seen source without connections:
		 * its bucket refills a little early, nothing worse */
		for (e = s->oldest; e && (e->conns || e->pending); e = e->next)
			;
		if (!e)
			return NULL;
		unlink_entry(s, e);
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		hb_log(HB_LOG_ERROR, "widget", "error=\"out of memory\"");
		return NULL;
	}
	memcpy(e->key, key, sizeof(e->key));
	e->tokens = s->burst;
	e->refilled_us = now_us;
	e->next_hash = s->buckets[b];
	s->buckets[b] = e;
	s->count++;
	touch(s, e, now_us);
	return e;
}

bool hb_client_take(struct hb_clients *s, struct hb_client *src,
		long long now_us)
{
	refill(s, src, now_us);
	src->seen_us = now_us;
	if (src->tokens < 1.0)
		return false;
	src->tokens -= 1.0;
	return true;
}

bool hb_client_may_log(struct hb_client *src, long long now_us)
{
	if (src->logged_us && now_us - src->logged_us < LOG_EVERY_US)
		return false;
	src->logged_us = now_us;
	return true;
}

void hb_clients_sweep(struct hb_clients *s, long long now_us)
{
	struct hb_client *e = s->oldest, *next;
	for (; e; e = next) {
		next = e->next;
		if (e->conns || e->pending)
			continue;
		refill(s, e, now_us);
		/* a full bucket and no refusal to remember: nothing lost */
		if (e->tokens >= s->burst && (!e->logged_us ||
				now_us - e->logged_us >= LOG_EVERY_US))
			unlink_entry(s, e);
	}
}

size_t hb_clients_count(const struct hb_clients *s)
{
	return s->count;
}

void hb_clients_destroy(struct hb_clients *s)
{
	if (!s)
		return;
	while (s->oldest)
		unlink_entry(s, s->oldest);
	free(s->buckets);
	free(s);
}
