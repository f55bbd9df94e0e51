#ifndef HB_MX_STORE_H
#define HB_MX_STORE_H

#include <stdbool.h>

/*
 * What the Matrix channel remembers across restarts, in one file in
 * state_dir replaced atomically (write, fsync, rename, fsync the
 * directory): the sync token, the member counts of joined rooms (to tell
 * direct rooms from group rooms) and the events already answered. Room
 * and event ids are kept only as hashes. A lock file keeps a second
 * process off the same state.
 */
struct hb_mx_store;

/* Opens (creating state_dir if needed) and loads the state. State written
 * for another account is ignored: that account's sync token means nothing
 * here. */
struct hb_mx_store *hb_mx_store_open(const char *dir, const char *user_id);
void hb_mx_store_destroy(struct hb_mx_store *store);

/* The sync token to resume from, NULL before the first sync completed. */
const char *hb_mx_store_since(const struct hb_mx_store *store);
/* NULL forgets the token: the next sync is a first one again. */
bool hb_mx_store_set_since(struct hb_mx_store *store, const char *next_batch);

/* Joined plus invited members, or -1 when unknown. */
int hb_mx_store_members(const struct hb_mx_store *store, const char *room_id);
/* Either count may be -1 to keep the one known. */
bool hb_mx_store_set_members(struct hb_mx_store *store, const char *room_id,
		int joined, int invited);
void hb_mx_store_forget_room(struct hb_mx_store *store, const char *room_id);

/* Whether the bot told an encrypted room it cannot read encrypted
 * messages (once per room, remembered across restarts). */
bool hb_mx_store_e2e_told(const struct hb_mx_store *store, const char *room_id);
bool hb_mx_store_set_e2e_told(struct hb_mx_store *store, const char *room_id);

bool hb_mx_store_handled(const struct hb_mx_store *store, const char *event_id);
void hb_mx_store_mark_handled(struct hb_mx_store *store, const char *event_id);

/* Writes the state durably; logs why when it cannot. */
bool hb_mx_store_save(struct hb_mx_store *store);

#endif
