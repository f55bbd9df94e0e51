#ifndef HB_MX_CRYPTO_H
#define HB_MX_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * End-to-end encrypted rooms (docs/matrix.md, Encrypted rooms). Every use
 * of the encryption library stays in crypto*.c, so it can move from
 * libolm (deprecated upstream) to vodozemac without touching the rest of
 * the channel.
 *
 * With "encryption": true the bot has an Olm account (its device keys,
 * signed, and one-time keys on the homeserver), reads the room keys sent
 * to it over Olm, decrypts Megolm room messages and answers them as any
 * message, and encrypts every reply in an encrypted room with a Megolm
 * session of its own that it shares over Olm with every device of every
 * joined member. It never sends a health answer in clear into an
 * encrypted room: when encrypting fails, nothing is sent. All of it is
 * pickled (encrypted with the key from encryption_key_file) into
 * state_dir/matrix-crypto.json, saved before the sync token moves on.
 *
 * Without encryption (the default), an encrypted room is told once, in
 * plain text, that the bot cannot read encrypted messages; the room is
 * remembered in the state so restarts do not repeat it.
 */
struct cJSON;
struct hb_mx_client;
struct hb_mx_config;
struct hb_mx_crypto;
struct hb_mx_task;

/* Whether this build can read and write encrypted rooms. */
bool hb_mx_crypto_available(void);
/* Whether the bot reads and writes encrypted rooms in this run. */
bool hb_mx_crypto_enabled(const struct hb_mx_client *c);

/* An event that shows the room is encrypted: its m.room.encryption state,
 * or an m.room.encrypted event from someone else. */
bool hb_mx_crypto_event_encrypted(const struct cJSON *event,
		const char *own_user_id);

/* ---- the state (crypto.c) ---- */

/* Reads the key file and the pickled state (state_dir must exist). The
 * account itself is made or checked by hb_mx_crypto_set_device(). NULL
 * with the reason on stderr and in the log (never the key). */
struct hb_mx_crypto *hb_mx_crypto_create(const struct hb_mx_config *cfg);
void hb_mx_crypto_destroy(struct hb_mx_crypto *cr);
/* The device the token is for (whoami): the saved account when it is
 * this device's, else a new account. False on failure (logged). */
bool hb_mx_crypto_set_device(struct hb_mx_crypto *cr, const char *device_id);
/* Writes the pickles durably (write, fsync, rename, fsync the dir). */
bool hb_mx_crypto_save(struct hb_mx_crypto *cr);
/* Saves when messages were decrypted since the last save (the message
 * indices read, for replays): called at the end of a sync batch, before
 * its token is saved. False when the save failed (logged). */
bool hb_mx_crypto_save_read(struct hb_mx_crypto *cr);

/* Keys to upload, as the /keys/upload body: the signed device keys until
 * they were accepted once, and one-time keys up to half of what the
 * account holds when the server has fewer. NULL when nothing is due. */
char *hb_mx_crypto_upload_body(struct hb_mx_crypto *cr);
/* The upload was accepted: the keys are published, the count known. */
void hb_mx_crypto_uploaded(struct hb_mx_crypto *cr, const char *body,
		size_t len);
bool hb_mx_crypto_upload_due(const struct hb_mx_crypto *cr);

/* A /sync answer's encryption parts: to-device events (room keys over
 * Olm), device-list changes, one-time key counts. Saves the state when
 * it changed. */
void hb_mx_crypto_read_sync(struct hb_mx_crypto *cr, const struct cJSON *root);
/* A room's state or timeline event: m.room.encryption (with its rotation
 * settings), memberships (share again, or rotate when someone left). */
void hb_mx_crypto_room_event(struct hb_mx_crypto *cr, const char *room_id,
		const struct cJSON *event);
bool hb_mx_crypto_room_encrypted(struct hb_mx_crypto *cr, const char *room_id);

enum hb_mx_decrypt {
	HB_MX_DECRYPT_OK,
	HB_MX_DECRYPT_NO_KEY,  /* the room key has not come (yet) */
	HB_MX_DECRYPT_FAILED,  /* not decryptable, or not by this sender */
	HB_MX_DECRYPT_REPLAY,  /* a message index already read in another
	                        * event: a replayed copy, to ignore (logged) */
};
/* An m.room.encrypted room event as the plain event it holds (type and
 * content decrypted; event_id, sender, origin_server_ts from outside),
 * in *plain to free with cJSON_Delete. The session's message index is
 * remembered with the event id: the same event decrypts again, another
 * event with that index is HB_MX_DECRYPT_REPLAY. */
enum hb_mx_decrypt hb_mx_crypto_decrypt(struct hb_mx_crypto *cr,
		const char *room_id, const struct cJSON *event, struct cJSON **plain);

/* An event without its key yet: kept (and saved) until the key comes or
 * the timeout passes. */
bool hb_mx_crypto_hold(struct hb_mx_crypto *cr, const char *room_id,
		const struct cJSON *event);
/* The next held event that can be decrypted now (*plain set) or whose
 * time ran out (*plain NULL, *event_id set: a resend notice is due).
 * room_id and event_id are for the caller to free. False when none. */
bool hb_mx_crypto_pending_next(struct hb_mx_crypto *cr, char **room_id,
		char **event_id, struct cJSON **plain);
/* Milliseconds until the oldest held event times out, -1 when none. */
long long hb_mx_crypto_pending_wait_ms(const struct hb_mx_crypto *cr);

/* Whether the room's Megolm session must be (re)made or shared before
 * the next message (new, rotated, members or devices changed). */
bool hb_mx_crypto_share_due(struct hb_mx_crypto *cr, const char *room_id);
/* The m.room.encrypted content for a room event of this type and
 * content (JSON); saves the session's new state first. NULL on failure
 * (logged: never the text). */
char *hb_mx_crypto_encrypt(struct hb_mx_crypto *cr, const char *room_id,
		const char *type, const char *content);

/* ---- requests (crypto_task.c) ---- */

/* Uploads the keys that are due, then calls then(c). */
void hb_mx_crypto_upload(struct hb_mx_client *c,
		void (*then)(struct hb_mx_client *c));
/* Makes and shares the room's Megolm session for task t (joined members,
 * /keys/query, /keys/claim, Olm, /sendToDevice), then runs the task
 * again. True when a request is under way. */
bool hb_mx_crypto_share_run(struct hb_mx_client *c, const struct hb_mx_task *t);
enum hb_mx_share {
	HB_MX_SHARE_NONE,   /* no share just ran for this room */
	HB_MX_SHARE_DONE,   /* it just ran: encrypt now, share no more */
	HB_MX_SHARE_FAILED, /* it just failed (logged): send nothing */
};
/* How the share that just ran for the room went; once. */
enum hb_mx_share hb_mx_crypto_share_result(struct hb_mx_client *c,
		const char *room_id);

/* Runs an HB_MX_TASK_E2E_NOTICE task: sends the plain notice unless the
 * room was told already. True when a request is under way (the chain
 * goes on by itself), false when there is nothing to do. */
bool hb_mx_crypto_notice_run(struct hb_mx_client *c,
		const struct hb_mx_task *t);

#endif
