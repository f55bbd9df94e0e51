#include <stdlib.h>
#include <string.h>

#include "convo.h"

struct entry {
	char *id;
	uint64_t hash;
	int64_t seen;
	struct hb_convo_state state;
	struct entry *hnext;            /* bucket chain */
	struct entry *prev, *next;      /* LRU: head is the most recent */
};

struct hb_conversations {
	struct entry **buckets;
	size_t n_buckets;
	size_t count;
	size_t max_count;
	int64_t max_age;
	struct entry *head, *tail;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

struct hb_conversations *hb_conversations_create(size_t max_count,
		int64_t max_age)
{
	struct hb_conversations *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max_count = max_count ? max_count : 1;
	c->max_age = max_age;
	c->n_buckets = 64;
	while (c->n_buckets < c->max_count && c->n_buckets < (1u << 20))
		c->n_buckets *= 2;
	c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	return c;
}

static void unlink_lru(struct hb_conversations *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void push_front(struct hb_conversations *c, struct entry *e)
{
	e->next = c->head;
	e->prev = NULL;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static struct entry **find(struct hb_conversations *c, const char *id,
		uint64_t h)
{
	struct entry **p = &c->buckets[h & (c->n_buckets - 1)];
	while (*p && !((*p)->hash == h && strcmp((*p)->id, id) == 0))
		p = &(*p)->hnext;
	return p;
}

static void remove_entry(struct hb_conversations *c, struct entry *e)
{
	struct entry **p = find(c, e->id, e->hash);
	*p = e->hnext;
	unlink_lru(c, e);
	free(e->id);
	free(e);
	c->count--;
}

bool hb_convo_get(struct hb_conversations *c, const char *id, int64_t now,
		struct hb_convo_state *state)
{
	if (!c || !id)
		return false;
	struct entry *e = *find(c, id, hash(id));
	if (!e)
		return false;
	if (c->max_age > 0 && now - e->seen > c->max_age) {
		remove_entry(c, e);
		return false;
	}
	*state = e->state;
	return true;
}

bool hb_convo_put(struct hb_conversations *c, const char *id, int64_t now,
		const struct hb_convo_state *state)
{
	if (!c || !id)
		return true;
	uint64_t h = hash(id);
	struct entry **p = find(c, id, h);
	struct entry *e = *p;
	if (e) {
		unlink_lru(c, e);
	} else {
		/* the oldest conversations go first; they are also the stalest */
		while (c->count >= c->max_count && c->tail)
			remove_entry(c, c->tail);
		p = find(c, id, h);
		e = calloc(1, sizeof(*e));
		if (!e || !(e->id = strdup(id))) {
			free(e);
			return false;
		}
		e->hash = h;
		*p = e;
		c->count++;
	}
	e->seen = now;
	e->state = *state;
	push_front(c, e);
	/* age out from the tail, so memory does not wait for a lookup */
	while (c->max_age > 0 && c->tail && now - c->tail->seen > c->max_age)
		remove_entry(c, c->tail);
	return true;
}

void hb_conversations_forget(struct hb_conversations *c, const char *id)
{
	if (!c || !id)
		return;
	struct entry *e = *find(c, id, hash(id));
	if (e)
		remove_entry(c, e);
}

size_t hb_conversations_count(const struct hb_conversations *c)
{
	return c ? c->count : 0;
}

void hb_conversations_destroy(struct hb_conversations *c)
{
	if (!c)
		return;
	while (c->head)
		remove_entry(c, c->head);
	free(c->buckets);
	free(c);
}
