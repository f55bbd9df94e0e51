/* Recent events per room (recent.h): a ring per room, rooms dropped least
 * recently used first. */
#include <stdlib.h>
#include <string.h>

#include "recent.h"
#include "util.h"

/* events remembered per room: a reply usually quotes one of the last few
 * answers */
#define PER_ROOM 64
#define MAX_ROOMS 1024

struct entry {
	char key[HB_MX_HASH_HEX];
	unsigned flags;
	char *thread_root;
};

struct room {
	char key[HB_MX_HASH_HEX];
	unsigned long used;
	size_t next;
	struct entry ring[PER_ROOM];
};

struct hb_mx_recent {
	struct room *rooms[MAX_ROOMS];
	size_t n_rooms;
	unsigned long clock;
};

struct hb_mx_recent *hb_mx_recent_create(void)
{
	return calloc(1, sizeof(struct hb_mx_recent));
}

static void clear_room(struct room *r)
{
	for (size_t i = 0; i < PER_ROOM; i++)
		free(r->ring[i].thread_root);
	memset(r, 0, sizeof(*r));
}

void hb_mx_recent_destroy(struct hb_mx_recent *recent)
{
	if (!recent)
		return;
	for (size_t i = 0; i < recent->n_rooms; i++) {
		clear_room(recent->rooms[i]);
		free(recent->rooms[i]);
	}
	free(recent);
}

static struct room *find_room(const struct hb_mx_recent *recent,
		const char *key)
{
	for (size_t i = 0; i < recent->n_rooms; i++) {
		if (strcmp(recent->rooms[i]->key, key) == 0)
			return recent->rooms[i];
	}
	return NULL;
}

static struct room *add_room(struct hb_mx_recent *recent, const char *key)
{
	struct room *r;
	if (recent->n_rooms < MAX_ROOMS) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return NULL;
		recent->rooms[recent->n_rooms++] = r;
	} else {
		/* the room quiet for longest makes way */
		r = recent->rooms[0];
		for (size_t i = 1; i < recent->n_rooms; i++) {
			if (recent->rooms[i]->used < r->used)
				r = recent->rooms[i];
		}
		clear_room(r);
	}
	memcpy(r->key, key, HB_MX_HASH_HEX);
	return r;
}

static struct entry *find_entry(struct room *r, const char *key)
{
	for (size_t i = 0; i < PER_ROOM; i++) {
		if (r->ring[i].flags && strcmp(r->ring[i].key, key) == 0)
			return &r->ring[i];
	}
	return NULL;
}

void hb_mx_recent_note(struct hb_mx_recent *recent, const char *room_id,
		const char *event_id, unsigned flags, const char *thread_root)
{
	char rkey[HB_MX_HASH_HEX], ekey[HB_MX_HASH_HEX];
	if (!recent || !room_id || !event_id || !flags)
		return;
	hb_mx_hash(rkey, room_id, NULL, NULL);
	hb_mx_hash(ekey, event_id, NULL, NULL);
	struct room *r = find_room(recent, rkey);
	if (!r && !(r = add_room(recent, rkey)))
		return;
	r->used = ++recent->clock;
	struct entry *e = find_entry(r, ekey);
	if (!e) {
		e = &r->ring[r->next];
		r->next = (r->next + 1) % PER_ROOM;
		free(e->thread_root);
		*e = (struct entry){0};
		memcpy(e->key, ekey, HB_MX_HASH_HEX);
	}
	e->flags |= flags;
	if (thread_root) {
		char *copy = strdup(thread_root);
		if (copy) {
			free(e->thread_root);
			e->thread_root = copy;
		}
	}
}

unsigned hb_mx_recent_flags(const struct hb_mx_recent *recent,
		const char *room_id, const char *event_id, const char **thread_root)
{
	char rkey[HB_MX_HASH_HEX], ekey[HB_MX_HASH_HEX];
	if (thread_root)
		*thread_root = NULL;
	if (!recent || !room_id || !event_id)
		return 0;
	hb_mx_hash(rkey, room_id, NULL, NULL);
	hb_mx_hash(ekey, event_id, NULL, NULL);
	struct room *r = find_room(recent, rkey);
	struct entry *e = r ? find_entry(r, ekey) : NULL;
	if (!e)
		return 0;
	if (thread_root)
		*thread_root = e->thread_root;
	return e->flags;
}
