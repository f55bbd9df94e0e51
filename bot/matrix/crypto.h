#ifndef HB_MX_CRYPTO_H
#define HB_MX_CRYPTO_H

#include <stdbool.h>

/*
 * End-to-end encrypted rooms. Every use of the encryption library stays
 * in crypto.c, so it can move from libolm (deprecated upstream) to
 * vodozemac without touching the rest of the channel.
 *
 * Without encryption (the default, or a build without it), an encrypted
 * room is told once, in plain text, that the bot cannot read encrypted
 * messages; the room is remembered in the state so restarts do not
 * repeat it.
 */
struct cJSON;
struct hb_mx_client;
struct hb_mx_task;

/* Whether this build can read and write encrypted rooms. */
bool hb_mx_crypto_available(void);
/* Whether the bot reads and writes encrypted rooms in this run: the
 * config asks for it and this build can. */
bool hb_mx_crypto_enabled(const struct hb_mx_client *c);

/* An event that shows the room is encrypted: its m.room.encryption state,
 * or an m.room.encrypted event from someone else. */
bool hb_mx_crypto_event_encrypted(const struct cJSON *event,
		const char *own_user_id);

/* Runs an HB_MX_TASK_E2E_NOTICE task: sends the plain notice unless the
 * room was told already. True when a request is under way (the chain
 * goes on by itself), false when there is nothing to do. */
bool hb_mx_crypto_notice_run(struct hb_mx_client *c,
		const struct hb_mx_task *t);

#endif
