#ifndef HB_MX_CRYPTO_INTERNAL_H
#define HB_MX_CRYPTO_INTERNAL_H

#include <olm/inbound_group_session.h>
#include <olm/olm.h>
#include <olm/outbound_group_session.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util.h"

struct cJSON;
struct hb_mx_client;

/*
 * What the crypto*.c files share (crypto.h is the channel's view): the
 * Olm account, the Olm sessions with other devices, the Megolm sessions
 * of rooms, and what is known of other devices. Only these files name
 * libolm, so a move to vodozemac touches nothing else.
 */
#define HB_MX_KEY_LEN 64     /* a base64 key (43 characters) with room */
#define HB_MX_ID_LEN 256     /* device ids and the like, bounded */
#define MEGOLM_ALGORITHM "m.megolm.v1.aes-sha2"
#define OLM_ALGORITHM "m.olm.v1.curve25519-aes-sha2"

/*
 * Each session keeps its last pickle (from the last save, or the file it
 * was loaded from), and each inbound session its whole entry as last
 * saved, so a save pickles and prints only what changed since: most
 * sessions are idle, and re-pickling and re-printing all of them was
 * nearly all of a save's time (tests/bench/bench_crypto_store.c). Every
 * libolm call that changes a session must drop them (hb_mx_cache_drop):
 * a stale pickle would bring back an old ratchet after a restart, and
 * for an outbound session reuse message indices.
 */
static inline void hb_mx_cache_drop(char **cached)
{
	free(*cached);
	*cached = NULL;
}

struct olm_peer {
	char curve[HB_MX_KEY_LEN];  /* their identity key */
	OlmSession *session;
	long long used_ms;          /* newest session first for sending */
	char *pickle;               /* NULL when changed since the last */
};

/* A message index of an inbound session that was read, and the event
 * (its id, hashed) it came in: the same index under another event id is
 * a replayed copy, refused. */
struct seen_index {
	uint32_t index;
	char event[HB_MX_HASH_HEX];
};

/*
 * Indices remembered per inbound session, the lowest forgotten first.
 * Senders make a new session every 100 messages unless the room says
 * otherwise (Element, matrix-nio and the bot itself), so this holds every
 * index of a session five times over while a session a room keeps for
 * long cannot grow the state file without end: about 50 bytes an index,
 * 25 KB a session at most. A replay of an index older than all those
 * kept is not recognised.
 */
#define HB_MX_SEEN_MAX 500

struct inbound {
	char room[HB_MX_HASH_HEX];  /* room id, hashed */
	char sender[HB_MX_HASH_HEX]; /* the user the key came from, hashed */
	char sender_key[HB_MX_KEY_LEN];
	char session_id[HB_MX_KEY_LEN];
	OlmInboundGroupSession *session;
	struct seen_index *seen;    /* sorted by index, at most HB_MX_SEEN_MAX */
	size_t n_seen;
	long long used_ms;          /* made or last decrypted with: pruning */
	char *pickle;               /* NULL when changed since the last */
	char *json;                 /* its entry as last saved, NULL when
	                             * anything in it changed since */
};

struct outbound {
	char room[HB_MX_HASH_HEX];
	OlmOutboundGroupSession *session;
	long long created_ms;
	long msgs;                  /* messages encrypted with it */
	char (*shared)[HB_MX_HASH_HEX]; /* devices holding its key, hashed */
	size_t n_shared;
	char *pickle;               /* NULL when changed since the last */
};

/* an encrypted room and its m.room.encryption settings */
struct e2e_room {
	char room[HB_MX_HASH_HEX];
	long long rotation_ms;
	long rotation_msgs;
	bool dirty;     /* members or their devices changed: share again */
	bool rotate;    /* someone left: a new session before the next send */
};

struct device {
	char *user_id;
	char *device_id;
	char curve[HB_MX_KEY_LEN];
	char ed[HB_MX_KEY_LEN];
};

/* a user whose device list is known (or known to be out of date) */
struct known_user {
	char *user_id;
	bool stale;
};

/* an encrypted event the bot has no key for yet */
struct pending {
	char *room_id;
	char *event;        /* the event as it came, JSON */
	char *event_id;
	long long since_ms;
};

struct hb_mx_crypto {
	char *path, *tmp_path, *dir;
	char *key;          /* pickle key, from encryption_key_file */
	size_t key_len;
	char account_hash[HB_MX_HASH_HEX];
	char *user_id;
	char *device_id;    /* NULL until whoami said */
	OlmAccount *account;
	OlmUtility *utility;
	char curve[HB_MX_KEY_LEN], ed[HB_MX_KEY_LEN]; /* our identity keys */
	bool device_keys_uploaded;
	long otk_count;     /* on the server, from /sync; -1 unknown */

	struct olm_peer *peers;
	size_t n_peers;
	struct inbound *inbound;
	size_t n_inbound;
	struct outbound *outbound;
	size_t n_outbound;
	struct e2e_room *rooms;
	size_t n_rooms;
	struct device *devices;
	size_t n_devices;
	struct known_user *users;
	size_t n_users;
	struct pending *pending;
	size_t n_pending;
	long long undecryptable_ms;
	bool seen_unsaved;  /* message indices read since the last save */
	long long pruned_ms; /* when unused sessions were last dropped */

	/* crypto_task.c: the upload under way, and what follows it */
	void (*upload_then)(struct hb_mx_client *c);
	/* crypto_task.c: the room key share under way */
	struct {
		char *room_id;
		char **members;
		size_t n_members;
		bool done, failed; /* it ran (and how), for the task's rerun */
		unsigned step;
		/* the /sendToDevice under way: a retry resends it as it was
		 * (the devices are marked as having the key already) */
		char *send_path, *send_body;
		char txn_seed[HB_MX_HASH_HEX];
		unsigned txn_n;
	} share;
};

/* crypto.c */
bool hb_mx_crypto_load_account(struct hb_mx_crypto *cr, const char *pickle);
char *hb_mx_crypto_pickle_account(struct hb_mx_crypto *cr);

/* crypto_store.c: the state file */
bool hb_mx_crypto_load(struct hb_mx_crypto *cr);
/* forgets every session, device and held event (not the account) */
void hb_mx_crypto_reset(struct hb_mx_crypto *cr);
long long hb_mx_crypto_now_ms(void);
/* Drops the sessions not used for long (crypto_store.c says which),
 * keeping any a held event may need; logs the counts. Pointers into
 * the peers, inbound and outbound arrays do not survive it, nor a save
 * (which runs it about once an hour). */
void hb_mx_crypto_prune(struct hb_mx_crypto *cr, long long now);
bool hb_mx_crypto_random(void *buf, size_t len);
struct e2e_room *hb_mx_crypto_room(struct hb_mx_crypto *cr, const char *room_id,
		bool add);
/* olm_error() results as text for the log (libolm's fixed words) */
const char *hb_mx_crypto_olm_err(const char *what);

/* crypto_olm.c: sessions */
OlmSession *hb_mx_olm_session_new(void);
void hb_mx_olm_session_free(OlmSession *s);
OlmInboundGroupSession *hb_mx_olm_inbound_new(void);
void hb_mx_olm_inbound_free(OlmInboundGroupSession *s);
/* frees the session and its seen indices */
void hb_mx_inbound_clear(struct inbound *in);
/* Remembers that index was read in the event whose id hashes to event
 * (kept sorted; at the cap the lowest index goes). An index already
 * there keeps its first event. False when memory runs out. */
bool hb_mx_inbound_seen_add(struct inbound *in, uint32_t index,
		const char *event);
OlmOutboundGroupSession *hb_mx_olm_outbound_new(void);
void hb_mx_olm_outbound_free(OlmOutboundGroupSession *s);
void hb_mx_outbound_clear(struct outbound *o);
/* past the room's rotation: replaced before its next message */
bool hb_mx_outbound_expired(const struct outbound *o,
		const struct e2e_room *r, long long now);
struct outbound *hb_mx_crypto_outbound(struct hb_mx_crypto *cr,
		const char *room_id);
bool hb_mx_crypto_peer_add(struct hb_mx_crypto *cr, const char *curve,
		OlmSession *s);
bool hb_mx_crypto_new_outbound(struct hb_mx_crypto *cr, const char *room_id,
		const char *why);
/* plaintext to Olm for the device with this identity key (its newest
 * session): {"type": 0|1, "body": ...}, NULL without a session */
struct cJSON *hb_mx_crypto_olm_encrypt(struct hb_mx_crypto *cr,
		const char *curve, const char *plaintext);
/* verifies a signed object (device keys, a signed one-time key) */
bool hb_mx_crypto_verify(struct hb_mx_crypto *cr, const struct cJSON *obj,
		const char *user_id, const char *device_id, const char *ed_key);

/* crypto_devices.c: other devices */
bool hb_mx_crypto_query_due(struct hb_mx_crypto *cr, const char *user_id);
/* the /keys/query answer for the users asked */
void hb_mx_crypto_read_query(struct hb_mx_crypto *cr, const struct cJSON *root,
		char **asked, size_t n);
/* the /keys/claim body for members' devices without an Olm session,
 * NULL when none */
char *hb_mx_crypto_claim_body(struct hb_mx_crypto *cr, char **members,
		size_t n);
void hb_mx_crypto_read_claim(struct hb_mx_crypto *cr, const struct cJSON *root);
/* Rotates the room's session when due and builds the /sendToDevice body
 * giving its key to every member device that lacks it (*body NULL when
 * none does). False on failure. */
bool hb_mx_crypto_share_body(struct hb_mx_crypto *cr, const char *room_id,
		char **members, size_t n, char **body, size_t *sent, size_t *skipped);

#endif
