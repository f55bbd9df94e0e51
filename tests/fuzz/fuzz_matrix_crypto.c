/*
 * libFuzzer target for the Matrix channel's end-to-end encryption input
 * (bot/matrix/crypto.c, crypto_olm.c, crypto_devices.c, crypto_store.c):
 * what any Matrix user or the homeserver can put in front of the bot's
 * Olm and Megolm code. The first byte chooses the kind of input, the rest
 * is its JSON:
 *
 *   S  a /sync answer's encryption parts (to-device m.room.encrypted Olm
 *      messages, device_lists, one-time key counts), as is
 *   E  an m.room.encrypted room event (Megolm), as is: decrypted, held
 *      when its key is missing, then timed out
 *   Q  a /keys/query answer, as is; then the /keys/claim and room key
 *      share bodies the bot builds from what it learnt
 *   q  the same, with every device's ed25519 key set to the peer's and
 *      each device signed by the peer (so the checks after the
 *      signature are reached)
 *   C  a /keys/claim answer, as is
 *   c  the same, each one-time key object signed by the peer's device
 *   L  a state file (matrix-crypto.json) being loaded at start-up
 *   O  the plaintext of an Olm to-device payload, encrypted here by the
 *      peer with a real Olm session to the bot (m.room_key and
 *      m.forwarded_room_key handling after decryption)
 *   M  the plaintext of a Megolm room message, encrypted here by the
 *      peer's real Megolm session (the bot holds its key); after a NUL,
 *      optionally a JSON object of fields added in clear to the content
 *
 * Any other first byte picks one of these by its value. In every kind
 * the words BOT_CURVE, BOT_ED, PEER_CURVE, PEER_ED and PEER_SID are
 * replaced by this process's keys (the bot's and the peer's identity
 * keys, the peer's Megolm session id), so that an input can address the
 * bot's device and the sessions it has although the keys are new in
 * every process.
 *
 * The setup, once per process: the bot (@healthbot:localhost, BOTDEV)
 * and a peer (@peer:localhost, PEERDEV) get real libolm accounts in
 * scratch state directories, the peer queries and claims the bot's keys,
 * makes an Olm session to it and shares a Megolm session for the room
 * !room:localhost over it; the bot reads that and shares a session of
 * its own back. The bot's state file is then kept as a snapshot, and
 * every input starts from it (a fresh hb_mx_crypto loaded from the
 * snapshot), so each input is replayable on its own.
 *
 * Checked besides crashes, leaks and UB: bogus ciphertext (S, E) yields
 * no plaintext, no room key and no Olm session; unsigned claims (C) make
 * no session; a room key from an Olm payload (O) is accepted only when
 * the payload names the peer as sender, the bot as recipient with its
 * ed25519 key, and is bound to the peer and the room it names; a Megolm
 * message the peer really sent (M) decrypts exactly when its payload is
 * an object with a type, a content and this room's id, and comes out
 * with the outer sender; a held event times out as its own event id;
 * after every input the state saves and loads back with the same
 * sessions, rooms and held events; a refused state file (L) is left as
 * it was, and one that loads saves and loads back the same.
 *
 * Seeds: HB_FUZZ_CRYPTO_SEEDS=DIR fuzz-replay-matrix-crypto writes the
 * seed corpus (tests/fuzz/corpus/matrix-crypto) from a generator run
 * and exits; see docs/fuzzing.md for which seeds decrypt.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto.h"
#include "crypto_internal.h"
#include "event.h"
#include "fuzz_util.h"
#include "json.h"
#include "log.h"
#include "mxconfig.h"
#include "util.h"

#define BOT_USER "@healthbot:localhost"
#define BOT_DEVICE "BOTDEV"
#define PEER_USER "@peer:localhost"
#define PEER_DEVICE "PEERDEV"
#define OTHER_USER "@other:localhost"
#define ROOM "!room:localhost"
/* fixed, so that state files in the seed corpus load in every process */
#define PICKLE_KEY "fuzz-pickle-key-0123456789abcdef"
#define MAX_ASKED 6

static struct hb_mx_config bot_cfg, peer_cfg, load_cfg;
static struct hb_mx_crypto *bot;   /* restored from snapshot per input */
static struct hb_mx_crypto *peer;  /* made once, never changed after */
static char *snapshot;             /* the bot's state file after setup */
static char *peer_olm;             /* pickle: the peer's session to the bot */
static char *peer_megolm;          /* pickle: the peer's room session */
static char peer_sid[HB_MX_KEY_LEN];
static char *load_path;
static cJSON *peer_query;          /* /keys/query answer with the peer */

/* ---- small helpers ---- */

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			char *b = realloc(buf, cap + 1);
			if (!b)
				hb_fuzz_fail("out of memory");
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool str_is(const cJSON *obj, const char *key, const char *want)
{
	const char *s = str(obj, key);
	return s && strcmp(s, want) == 0;
}

static cJSON *must_parse(const char *s)
{
	cJSON *v = s ? hb_json_parse(s, strlen(s), NULL) : NULL;
	if (!v)
		hb_fuzz_fail("setup: cannot parse %.60s", s ? s : "(null)");
	return v;
}

/* data with the key words replaced by this process's keys, NUL-ended */
static char *substitute(const char *data, size_t size, size_t *out_len)
{
	const char *words[][2] = {
		{ "BOT_CURVE", bot->curve }, { "BOT_ED", bot->ed },
		{ "PEER_CURVE", peer->curve }, { "PEER_ED", peer->ed },
		{ "PEER_SID", peer_sid },
	};
	/* every key is under 64 bytes and every word over 5 */
	char *out = malloc(size * 13 + 1);
	size_t n = 0;
	if (!out)
		hb_fuzz_fail("out of memory");
	for (size_t i = 0; i < size;) {
		size_t w;
		for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			size_t wl = strlen(words[w][0]);
			if (wl <= size - i && memcmp(data + i, words[w][0], wl) == 0) {
				size_t kl = strlen(words[w][1]);
				memcpy(out + n, words[w][1], kl);
				n += kl;
				i += wl;
				break;
			}
		}
		if (w == sizeof(words) / sizeof(words[0]))
			out[n++] = data[i++];
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

/* Signs obj (without its signatures and unsigned) as the peer's account
 * would, under user and "ed25519:device", replacing any signature
 * there. Objects that have no canonical form stay unsigned. */
static void peer_sign(cJSON *obj, const char *user, const char *device)
{
	if (!cJSON_IsObject(obj))
		return;
	cJSON *copy = cJSON_Duplicate(obj, true);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "signatures");
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "unsigned");
	char *canon = copy ? hb_json_canonical(copy) : NULL;
	cJSON_Delete(copy);
	if (!canon)
		return;
	size_t n = olm_account_signature_length(peer->account);
	char *sig = malloc(n + 1);
	if (!sig || olm_account_sign(peer->account, canon, strlen(canon), sig, n) ==
			olm_error())
		hb_fuzz_fail("the peer cannot sign");
	sig[n] = '\0';
	free(canon);
	cJSON *sigs = cJSON_GetObjectItemCaseSensitive(obj, "signatures");
	if (!cJSON_IsObject(sigs)) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "signatures");
		sigs = cJSON_AddObjectToObject(obj, "signatures");
	}
	cJSON *mine = cJSON_GetObjectItemCaseSensitive(sigs, user);
	if (!cJSON_IsObject(mine)) {
		cJSON_DeleteItemFromObjectCaseSensitive(sigs, user);
		mine = cJSON_AddObjectToObject(sigs, user);
	}
	char name[HB_MX_ID_LEN + 16];
	snprintf(name, sizeof(name), "ed25519:%s", device);
	cJSON_DeleteItemFromObjectCaseSensitive(mine, name);
	cJSON_AddStringToObject(mine, name, sig);
	free(sig);
}

static OlmSession *peer_olm_session(void)
{
	OlmSession *s = hb_mx_olm_session_new();
	char *p = strdup(peer_olm);
	if (!s || !p || olm_unpickle_session(s, PICKLE_KEY, strlen(PICKLE_KEY),
			p, strlen(p)) == olm_error())
		hb_fuzz_fail("cannot restore the peer's Olm session");
	free(p);
	return s;
}

/* plaintext, Olm-encrypted by the peer to the bot: the to-device event */
static cJSON *peer_olm_event(const char *plain, size_t len)
{
	OlmSession *s = peer_olm_session();
	size_t rl = olm_encrypt_random_length(s);
	size_t ml = olm_encrypt_message_length(s, len);
	size_t type = olm_encrypt_message_type(s);
	unsigned char *rnd = malloc(rl ? rl : 1);
	char *msg = malloc(ml + 1);
	if (!rnd || !msg || !hb_mx_crypto_random(rnd, rl) ||
			olm_encrypt(s, plain, len, rnd, rl, msg, ml) == olm_error())
		hb_fuzz_fail("the peer cannot encrypt (Olm)");
	msg[ml] = '\0';
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "type", "m.room.encrypted");
	cJSON_AddStringToObject(ev, "sender", PEER_USER);
	cJSON *content = cJSON_AddObjectToObject(ev, "content");
	cJSON_AddStringToObject(content, "algorithm", OLM_ALGORITHM);
	cJSON_AddStringToObject(content, "sender_key", peer->curve);
	cJSON *mine = cJSON_AddObjectToObject(cJSON_AddObjectToObject(content,
		"ciphertext"), bot->curve);
	cJSON_AddNumberToObject(mine, "type", (double)type);
	cJSON_AddStringToObject(mine, "body", msg);
	free(rnd);
	free(msg);
	hb_mx_olm_session_free(s);
	return ev;
}

/* plaintext, Megolm-encrypted by the peer: the room event */
static cJSON *peer_megolm_event(const char *plain, size_t len)
{
	OlmOutboundGroupSession *s = hb_mx_olm_outbound_new();
	char *p = strdup(peer_megolm);
	if (!s || !p || olm_unpickle_outbound_group_session(s, PICKLE_KEY,
			strlen(PICKLE_KEY), p, strlen(p)) == olm_error())
		hb_fuzz_fail("cannot restore the peer's Megolm session");
	free(p);
	size_t ml = olm_group_encrypt_message_length(s, len);
	char *msg = malloc(ml + 1);
	if (!msg || olm_group_encrypt(s, (const uint8_t *)plain, len,
			(uint8_t *)msg, ml) == olm_error())
		hb_fuzz_fail("the peer cannot encrypt (Megolm)");
	msg[ml] = '\0';
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "type", "m.room.encrypted");
	cJSON_AddStringToObject(ev, "sender", PEER_USER);
	cJSON_AddStringToObject(ev, "event_id", "$sealed");
	cJSON_AddNumberToObject(ev, "origin_server_ts", 1700000000000.0);
	cJSON *content = cJSON_AddObjectToObject(ev, "content");
	cJSON_AddStringToObject(content, "algorithm", MEGOLM_ALGORITHM);
	cJSON_AddStringToObject(content, "sender_key", peer->curve);
	cJSON_AddStringToObject(content, "session_id", peer_sid);
	cJSON_AddStringToObject(content, "device_id", PEER_DEVICE);
	cJSON_AddStringToObject(content, "ciphertext", msg);
	free(msg);
	hb_mx_olm_outbound_free(s);
	return ev;
}

static cJSON *sync_with(cJSON *to_device_event)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *evs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(root,
		"to_device"), "events");
	cJSON_AddItemToArray(evs, to_device_event);
	return root;
}

/* ---- the state, once per process ---- */

static void write_key(const char *dir)
{
	hb_fuzz_write(dir, "key", PICKLE_KEY "\n", strlen(PICKLE_KEY) + 1);
}

static void config(struct hb_mx_config *cfg, const char *name,
		const char *user)
{
	char *dir = hb_fuzz_subdir(name);
	write_key(dir);
	char *key = malloc(strlen(dir) + 5);
	if (!key)
		hb_fuzz_fail("out of memory");
	sprintf(key, "%s/key", dir);
	*cfg = (struct hb_mx_config){ .state_dir = dir, .user_id = (char *)user,
		.encryption = true, .encryption_key_file = key,
		.undecryptable_timeout_s = 60 };
}

/* A party with an account, its keys uploaded (device keys and one-time
 * keys): the upload bodies are returned, as the server would hand
 * them out. */
static struct hb_mx_crypto *party(const struct hb_mx_config *cfg,
		const char *device, cJSON **device_keys, cJSON **otks)
{
	struct hb_mx_crypto *cr = hb_mx_crypto_create(cfg);
	if (!cr || !hb_mx_crypto_set_device(cr, device))
		hb_fuzz_fail("setup: cannot make the account for %s", device);
	char *body = hb_mx_crypto_upload_body(cr);
	cJSON *up = must_parse(body);
	free(body);
	*device_keys = cJSON_DetachItemFromObject(up, "device_keys");
	cJSON_Delete(up);
	const char *counts = "{\"one_time_key_counts\":{}}";
	hb_mx_crypto_uploaded(cr, counts, strlen(counts));
	body = hb_mx_crypto_upload_body(cr);
	up = must_parse(body);
	free(body);
	*otks = cJSON_DetachItemFromObject(up, "one_time_keys");
	cJSON_Delete(up);
	counts = "{\"one_time_key_counts\":{\"signed_curve25519\":50}}";
	hb_mx_crypto_uploaded(cr, counts, strlen(counts));
	if (!*device_keys || !cJSON_IsObject(*otks) || !(*otks)->child)
		hb_fuzz_fail("setup: no keys to upload for %s", device);
	return cr;
}

/* {"device_keys": {user: {device: keys}}} */
static cJSON *query_answer(const char *user, const char *device,
		const cJSON *keys)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *u = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root,
		"device_keys"), user);
	cJSON_AddItemToObject(u, device, cJSON_Duplicate(keys, true));
	return root;
}

/* {"one_time_keys": {user: {device: {"signed_curve25519:ID": key}}}} */
static cJSON *claim_answer(const char *user, const char *device,
		const cJSON *otk)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *d = cJSON_AddObjectToObject(cJSON_AddObjectToObject(
		cJSON_AddObjectToObject(root, "one_time_keys"), user), device);
	cJSON_AddItemToObject(d, otk->string, cJSON_Duplicate(otk, true));
	return root;
}

/* the peer's sessions, pickled with the fixed key */
static char *pickle_olm(OlmSession *s)
{
	size_t n = olm_pickle_session_length(s);
	char *buf = malloc(n + 1);
	if (!buf || olm_pickle_session(s, PICKLE_KEY, strlen(PICKLE_KEY), buf, n) ==
			olm_error())
		hb_fuzz_fail("setup: cannot pickle the peer's Olm session");
	buf[n] = '\0';
	return buf;
}

static char *pickle_megolm(OlmOutboundGroupSession *s)
{
	size_t n = olm_pickle_outbound_group_session_length(s);
	char *buf = malloc(n + 1);
	if (!buf || olm_pickle_outbound_group_session(s, PICKLE_KEY,
			strlen(PICKLE_KEY), buf, n) == olm_error())
		hb_fuzz_fail("setup: cannot pickle the peer's Megolm session");
	buf[n] = '\0';
	return buf;
}

/* Every input starts from the snapshot, so that each one is replayable
 * on its own. */
static void restore_bot(void)
{
	hb_mx_crypto_destroy(bot);
	hb_fuzz_write(bot_cfg.state_dir, "matrix-crypto.json", snapshot,
		strlen(snapshot));
	bot = hb_mx_crypto_create(&bot_cfg);
	if (!bot || !hb_mx_crypto_set_device(bot, BOT_DEVICE) || !bot->account)
		hb_fuzz_fail("the snapshot does not load");
	/* devices are not saved: a share asks for them first, as here */
	char *asked[] = { PEER_USER };
	if (peer_query)
		hb_mx_crypto_read_query(bot, peer_query, asked, 1);
}

static void write_seeds(const char *dir, const cJSON *peer_keys,
		const cJSON *peer_otks);
static void self_test(void);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cJSON *bot_keys, *bot_otks, *peer_keys, *peer_otks;
	char *members[] = { PEER_USER, BOT_USER };
	/* HB_FUZZ_LOG=1: the channel's log, to see which paths an input
	 * reaches */
	hb_log_init(getenv("HB_FUZZ_LOG") ? HB_LOG_DEBUG : HB_LOG_ERROR);
	config(&bot_cfg, "bot", BOT_USER);
	config(&peer_cfg, "peer", PEER_USER);
	config(&load_cfg, "load", BOT_USER);
	load_path = malloc(strlen(load_cfg.state_dir) + 32);
	if (!load_path)
		hb_fuzz_fail("out of memory");
	sprintf(load_path, "%s/matrix-crypto.json", load_cfg.state_dir);
	bot = party(&bot_cfg, BOT_DEVICE, &bot_keys, &bot_otks);
	peer = party(&peer_cfg, PEER_DEVICE, &peer_keys, &peer_otks);

	/* the peer learns the bot's device and claims a one-time key */
	char *asked_bot[] = { BOT_USER }, *asked_peer[] = { PEER_USER };
	cJSON *q = query_answer(BOT_USER, BOT_DEVICE, bot_keys);
	hb_mx_crypto_read_query(peer, q, asked_bot, 1);
	cJSON_Delete(q);
	cJSON *c = claim_answer(BOT_USER, BOT_DEVICE, bot_otks->child);
	hb_mx_crypto_read_claim(peer, c);
	cJSON_Delete(c);
	/* and the bot the peer's device */
	peer_query = query_answer(PEER_USER, PEER_DEVICE, peer_keys);
	hb_mx_crypto_read_query(bot, peer_query, asked_peer, 1);
	if (peer->n_peers != 1 || bot->n_devices != 1)
		hb_fuzz_fail("setup: keys not exchanged");

	/* the room, encrypted, and the peer's session for it */
	cJSON *enc = must_parse("{\"type\":\"m.room.encryption\",\"state_key\":"
		"\"\",\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}");
	hb_mx_crypto_room_event(peer, ROOM, enc);
	hb_mx_crypto_room_event(bot, ROOM, enc);
	cJSON_Delete(enc);
	char *share;
	size_t sent, skipped;
	if (!hb_mx_crypto_share_body(peer, ROOM, members, 2, &share, &sent,
			&skipped) || sent != 1)
		hb_fuzz_fail("setup: the peer cannot share its room key");
	cJSON *sh = must_parse(share);
	free(share);
	cJSON *content = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		sh, "messages"), BOT_USER), BOT_DEVICE);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "type", "m.room.encrypted");
	cJSON_AddStringToObject(ev, "sender", PEER_USER);
	cJSON_AddItemToObject(ev, "content", cJSON_Duplicate(content, true));
	cJSON_Delete(sh);
	cJSON *sync = sync_with(ev);
	hb_mx_crypto_read_sync(bot, sync);
	cJSON_Delete(sync);
	if (bot->n_inbound != 1 || bot->n_peers != 1)
		hb_fuzz_fail("setup: the bot did not read the peer's room key");
	/* and the bot's own session, shared back over the same Olm session */
	if (!hb_mx_crypto_share_body(bot, ROOM, members, 2, &share, &sent,
			&skipped) || sent != 1)
		hb_fuzz_fail("setup: the bot cannot share its room key");
	free(share);
	if (!hb_mx_crypto_save(bot))
		hb_fuzz_fail("setup: cannot save the bot's state");

	/* the snapshot every input starts from; the peer's sessions as
	 * they are now, so each input encrypts as the peer's next message */
	snapshot = read_all(bot->path, NULL);
	if (!snapshot)
		hb_fuzz_fail("setup: no state file");
	peer_olm = pickle_olm(peer->peers[0].session);
	struct outbound *o = hb_mx_crypto_outbound(peer, ROOM);
	size_t il = o ? olm_outbound_group_session_id_length(o->session) : 0;
	if (!o || il >= sizeof(peer_sid) || olm_outbound_group_session_id(
			o->session, (uint8_t *)peer_sid, il) == olm_error())
		hb_fuzz_fail("setup: no Megolm session id");
	peer_sid[il] = '\0';
	peer_megolm = pickle_megolm(o->session);
	restore_bot();
	self_test();

	const char *seeds = getenv("HB_FUZZ_CRYPTO_SEEDS");
	if (seeds) {
		write_seeds(seeds, peer_keys, peer_otks);
		exit(0);
	}
	cJSON_Delete(bot_keys);
	cJSON_Delete(bot_otks);
	cJSON_Delete(peer_keys);
	cJSON_Delete(peer_otks);
	return 0;
}

/* ---- checks ---- */

struct counts {
	size_t peers, inbound, outbound, rooms, pending;
};

static struct counts counts_of(const struct hb_mx_crypto *cr)
{
	return (struct counts){ cr->n_peers, cr->n_inbound, cr->n_outbound,
		cr->n_rooms, cr->n_pending };
}

/* What was saved loads back: the same account and the same sessions,
 * rooms and held events. Pruned first, as a load prunes: a session kept
 * only for a held event that has since gone (read, or timed out) is
 * pruned by the next load, not by this save (at most hourly). */
static void check_roundtrip(struct hb_mx_crypto *cr,
		const struct hb_mx_config *cfg, const char *what)
{
	hb_mx_crypto_prune(cr, hb_mx_crypto_now_ms());
	if (!hb_mx_crypto_save(cr))
		hb_fuzz_fail("%s: the state cannot be saved", what);
	struct hb_mx_crypto *again = hb_mx_crypto_create(cfg);
	if (!again)
		hb_fuzz_fail("%s: the saved state does not load", what);
	struct counts a = counts_of(cr), b = counts_of(again);
	if (memcmp(&a, &b, sizeof(a)) != 0)
		hb_fuzz_fail("%s: saved peers/inbound/outbound/rooms/held "
			"%zu/%zu/%zu/%zu/%zu, loaded %zu/%zu/%zu/%zu/%zu", what,
			a.peers, a.inbound, a.outbound, a.rooms, a.pending, b.peers,
			b.inbound, b.outbound, b.rooms, b.pending);
	if (!cr->account != !again->account || (cr->account &&
			(strcmp(cr->curve, again->curve) != 0 ||
			strcmp(cr->device_id, again->device_id) != 0)))
		hb_fuzz_fail("%s: the account did not load back", what);
	hb_mx_crypto_destroy(again);
}

static bool in_list(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], s) == 0)
			return true;
	}
	return false;
}

static bool known_device(const char *user, const char *device)
{
	for (size_t i = 0; i < bot->n_devices; i++) {
		if (strcmp(bot->devices[i].user_id, user) == 0 &&
				strcmp(bot->devices[i].device_id, device) == 0)
			return true;
	}
	return false;
}

/* ---- the kinds of input ---- */

/* S: a /sync answer with bogus or replayed Olm ciphertext */
static void kind_sync(const char *json, size_t len)
{
	cJSON *root = hb_json_parse(json, len, NULL);
	if (!root)
		return;
	struct counts before = counts_of(bot);
	hb_mx_crypto_read_sync(bot, root);
	cJSON_Delete(root);
	if (bot->n_inbound != before.inbound || bot->n_peers != before.peers)
		hb_fuzz_fail("an Olm message nobody encrypted brought a room key "
			"or a session");
}

/* E: a room event, as sync.c hands it over */
static void kind_event(const char *json, size_t len)
{
	cJSON *ev = hb_json_parse(json, len, NULL);
	if (!ev)
		return;
	hb_mx_crypto_event_encrypted(ev, BOT_USER);
	hb_mx_crypto_room_event(bot, ROOM, ev);
	const char *sender = str(ev, "sender");
	if (!str_is(ev, "type", "m.room.encrypted") || !sender ||
			strcmp(sender, BOT_USER) == 0) {
		cJSON_Delete(ev);
		return;
	}
	cJSON *plain = NULL;
	enum hb_mx_decrypt d = hb_mx_crypto_decrypt(bot, ROOM, ev, &plain);
	if (d == HB_MX_DECRYPT_OK || plain)
		hb_fuzz_fail("Megolm ciphertext nobody encrypted decrypted");
	if (d == HB_MX_DECRYPT_NO_KEY) {
		const char *id = str(ev, "event_id");
		size_t held = bot->n_pending;
		if (!hb_mx_crypto_hold(bot, ROOM, ev))
			hb_fuzz_fail("an event without its key cannot be held");
		if (bot->n_pending != held + (id ? 1 : 0))
			hb_fuzz_fail("held %zu events, expected %zu", bot->n_pending,
				held + (id ? 1 : 0));
		check_roundtrip(bot, &bot_cfg, "held event");
		/* its time runs out: it comes back as itself, undecrypted */
		char *rid, *eid;
		bot->undecryptable_ms = 0;
		if (id) {
			if (!hb_mx_crypto_pending_next(bot, &rid, &eid, &plain))
				hb_fuzz_fail("a held event never came back");
			if (plain || strcmp(rid, ROOM) != 0 || strcmp(eid, id) != 0)
				hb_fuzz_fail("a held event came back as another");
			free(rid);
			free(eid);
		}
		if (hb_mx_crypto_pending_next(bot, &rid, &eid, &plain))
			hb_fuzz_fail("more held events came back than were held");
	}
	cJSON_Delete(ev);
}

/* Q, q: a /keys/query answer, then what the bot builds from it */
static void kind_query(const char *json, size_t len, bool sign)
{
	cJSON *root = hb_json_parse(json, len, NULL);
	if (!root)
		return;
	const cJSON *dks = cJSON_GetObjectItemCaseSensitive(root, "device_keys");
	cJSON *u, *d;
	if (sign) {
		cJSON_ArrayForEach(u, dks) {
			cJSON_ArrayForEach(d, u) {
				cJSON *keys = cJSON_GetObjectItemCaseSensitive(d, "keys");
				char name[HB_MX_ID_LEN + 16];
				if (!u->string || !d->string)
					continue;
				snprintf(name, sizeof(name), "ed25519:%s", d->string);
				if (cJSON_IsObject(keys)) {
					cJSON_DeleteItemFromObjectCaseSensitive(keys, name);
					cJSON_AddStringToObject(keys, name, peer->ed);
				}
				peer_sign(d, u->string, d->string);
			}
		}
	}
	/* the members asked for: those sync.c would have, and whoever the
	 * answer names (a joined_members answer may name anyone, twice) */
	char *asked[MAX_ASKED + 3] = { PEER_USER, OTHER_USER, BOT_USER };
	size_t n = 3;
	cJSON_ArrayForEach(u, dks) {
		if (n < MAX_ASKED + 3 && u->string)
			asked[n++] = u->string;
	}
	hb_mx_crypto_read_query(bot, root, asked, n);
	for (size_t i = 0; i < bot->n_devices; i++) {
		if (!in_list(asked, n, bot->devices[i].user_id))
			hb_fuzz_fail("a device of a user not asked for");
	}
	for (size_t i = 0; i < n; i++) {
		bool answered = cJSON_IsObject(
			cJSON_GetObjectItemCaseSensitive(dks, asked[i]));
		if (hb_mx_crypto_query_due(bot, asked[i]) == answered)
			hb_fuzz_fail("a user %s is %s", answered ? "answered for" :
				"not answered for", answered ? "asked again" :
				"not asked again");
	}
	/* the claim for devices without a session names known devices */
	char *claim = hb_mx_crypto_claim_body(bot, asked, n);
	if (claim) {
		cJSON *c = hb_json_parse(claim, strlen(claim), NULL);
		const cJSON *otk = cJSON_GetObjectItemCaseSensitive(c, "one_time_keys");
		if (!cJSON_IsObject(otk))
			hb_fuzz_fail("the /keys/claim body is not JSON with one_time_keys");
		cJSON_ArrayForEach(u, otk) {
			cJSON_ArrayForEach(d, u) {
				if (!known_device(u->string, d->string))
					hb_fuzz_fail("a claim for a device not known");
			}
		}
		cJSON_Delete(c);
		free(claim);
	}
	/* room keys go to members' devices only, each over Olm to its key */
	char *body = NULL;
	size_t sent = 0, skipped = 0;
	if (hb_mx_crypto_share_body(bot, ROOM, asked, n, &body, &sent, &skipped) &&
			hb_mx_crypto_share_due(bot, ROOM))
		hb_fuzz_fail("a room key shared, but a share is still due");
	if (body) {
		cJSON *b = hb_json_parse(body, strlen(body), NULL);
		const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(b, "messages");
		size_t count = 0;
		if (!cJSON_IsObject(msgs))
			hb_fuzz_fail("the /sendToDevice body is not JSON with messages");
		cJSON_ArrayForEach(u, msgs) {
			cJSON_ArrayForEach(d, u) {
				if (!in_list(asked, n, u->string) ||
						!known_device(u->string, d->string))
					hb_fuzz_fail("a room key for a device not a member's");
				if (!str_is(d, "algorithm", OLM_ALGORITHM) ||
						!str_is(d, "sender_key", bot->curve))
					hb_fuzz_fail("a room key not sent over Olm");
				count++;
			}
		}
		if (count != sent)
			hb_fuzz_fail("%zu room keys in the body, %zu counted", count,
				sent);
		cJSON_Delete(b);
		free(body);
	}
	cJSON_Delete(root);
}

/* C, c: a /keys/claim answer */
static void kind_claim(const char *json, size_t len, bool sign)
{
	cJSON *root = hb_json_parse(json, len, NULL);
	if (!root)
		return;
	cJSON *u, *d, *k;
	size_t known = 0;
	cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(root,
			"one_time_keys")) {
		cJSON_ArrayForEach(d, u) {
			if (u->string && d->string && known_device(u->string, d->string))
				known++;
			cJSON_ArrayForEach(k, d) {
				if (sign && u->string && d->string)
					peer_sign(k, u->string, d->string);
			}
		}
	}
	size_t before = bot->n_peers;
	hb_mx_crypto_read_claim(bot, root);
	cJSON_Delete(root);
	if (!sign && bot->n_peers != before)
		hb_fuzz_fail("an unsigned one-time key made an Olm session");
	if (bot->n_peers - before > known)
		hb_fuzz_fail("%zu sessions from keys of %zu known devices",
			bot->n_peers - before, known);
	for (size_t i = before; i < bot->n_peers; i++) {
		if (strcmp(bot->peers[i].curve, peer->curve) != 0)
			hb_fuzz_fail("a session with a key no known device has");
	}
}

/* L: the state file at start-up */
static void kind_load(const char *data, size_t len)
{
	hb_fuzz_write(load_cfg.state_dir, "matrix-crypto.json", data, len);
	struct hb_mx_crypto *cr = hb_mx_crypto_create(&load_cfg);
	if (!cr) {
		/* refused: the keys in it must still be there to rescue */
		size_t n;
		char *now = read_all(load_path, &n);
		if (!now || n != len || memcmp(now, data, len) != 0)
			hb_fuzz_fail("a refused state file was changed");
		free(now);
		return;
	}
	if (cr->account) {
		/* held events: decrypted now (the key is in the file) or
		 * timed out, each once */
		size_t held = cr->n_pending, back = 0;
		char *rid, *eid;
		cJSON *plain;
		cr->undecryptable_ms = 0;
		while (hb_mx_crypto_pending_next(cr, &rid, &eid, &plain)) {
			if (++back > held)
				hb_fuzz_fail("more held events came back than were held");
			if (plain && (!str(plain, "sender") || !str(plain, "type") ||
					!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(plain,
					"content"))))
				hb_fuzz_fail("a held event decrypted without sender, type "
					"or content");
			cJSON_Delete(plain);
			free(rid);
			free(eid);
		}
		hb_mx_crypto_share_due(cr, ROOM);
	}
	check_roundtrip(cr, &load_cfg, "loaded state");
	hb_mx_crypto_destroy(cr);
}

/* O: an Olm payload the peer really sent */
static void kind_olm(const char *plain, size_t len)
{
	size_t before = bot->n_inbound;
	cJSON *sync = sync_with(peer_olm_event(plain, len));
	hb_mx_crypto_read_sync(bot, sync);
	cJSON_Delete(sync);
	if (bot->n_inbound == before)
		return;
	if (bot->n_inbound != before + 1)
		hb_fuzz_fail("one to-device message, %zu room keys",
			bot->n_inbound - before);
	/* accepted: then the payload was for the bot, from the peer, and the
	 * key is bound to the peer and the room the payload names */
	cJSON *p = hb_json_parse(plain, strlen(plain), NULL);
	const cJSON *rk = cJSON_GetObjectItemCaseSensitive(p, "recipient_keys");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(p, "content");
	bool forwarded = str_is(p, "type", "m.forwarded_room_key");
	if (!str_is(p, "sender", PEER_USER) || !str_is(p, "recipient", BOT_USER) ||
			!str_is(rk, "ed25519", bot->ed) ||
			!(forwarded || str_is(p, "type", "m.room_key")))
		hb_fuzz_fail("a room key from a payload not from the peer for the bot");
	const struct inbound *in = &bot->inbound[bot->n_inbound - 1];
	char h[HB_MX_HASH_HEX];
	hb_mx_hash(h, PEER_USER, NULL, NULL);
	if (strcmp(in->sender, h) != 0)
		hb_fuzz_fail("a room key not bound to the user who sent it");
	hb_mx_hash(h, str(content, "room_id"), NULL, NULL);
	if (!str(content, "room_id") || strcmp(in->room, h) != 0 ||
			!str_is(content, "session_id", in->session_id))
		hb_fuzz_fail("a room key for another room or session than named");
	if (!forwarded && strcmp(in->sender_key, peer->curve) != 0)
		hb_fuzz_fail("an m.room_key not bound to the Olm sender's key");
	cJSON_Delete(p);
}

/* M: a Megolm message the peer really sent; after a NUL, fields added
 * in clear to its content */
static enum hb_mx_decrypt kind_megolm(const char *data, size_t len)
{
	size_t plen = strnlen(data, len);
	cJSON *ev = peer_megolm_event(data, plen);
	if (plen < len) {
		cJSON *extra = hb_json_parse(data + plen + 1, len - plen - 1, NULL);
		cJSON *content = cJSON_GetObjectItemCaseSensitive(ev, "content");
		cJSON *f = extra ? extra->child : NULL;
		while (f) {
			cJSON *next = f->next;
			if (f->string && !cJSON_GetObjectItemCaseSensitive(content,
					f->string))
				cJSON_AddItemToObject(content, f->string,
					cJSON_DetachItemViaPointer(extra, f));
			f = next;
		}
		cJSON_Delete(extra);
	}
	cJSON *plain = NULL;
	enum hb_mx_decrypt d = hb_mx_crypto_decrypt(bot, ROOM, ev, &plain);
	cJSON *p = hb_json_parse(data, plen, NULL);
	bool good = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(p, "content")) &&
		str(p, "type") && str_is(p, "room_id", ROOM);
	if (good != (d == HB_MX_DECRYPT_OK))
		hb_fuzz_fail("a Megolm message the peer sent %s",
			good ? "did not decrypt" : "decrypted, but is not a message "
			"for this room");
	if (d == HB_MX_DECRYPT_OK) {
		if (!str_is(plain, "sender", PEER_USER) ||
				!str_is(plain, "event_id", "$sealed") ||
				!str_is(plain, "type", str(p, "type")))
			hb_fuzz_fail("a decrypted event lost its sender, id or type");
		/* what sync.c does with it next */
		struct hb_mx_identity me = { .user_id = BOT_USER,
			.display_name = "Health Bot", .prefix = "!health" };
		struct hb_mx_message msg;
		if (hb_mx_event_inspect(plain, &me, &msg) == HB_MX_CANDIDATE &&
				!msg.text)
			hb_fuzz_fail("a decrypted message without text");
		hb_mx_message_finish(&msg);
	} else if (plain) {
		hb_fuzz_fail("plaintext for an event that did not decrypt");
	}
	cJSON_Delete(p);
	cJSON_Delete(plain);
	cJSON_Delete(ev);
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char kinds[] = "SEQqCcLOM";
	if (size < 1)
		return 0;
	const char *k = data[0] ? strchr(kinds, data[0]) : NULL;
	char kind = k ? *k : kinds[data[0] % (sizeof(kinds) - 1)];
	size_t len;
	char *in = substitute((const char *)data + 1, size - 1, &len);
	restore_bot();
	switch (kind) {
	case 'S': kind_sync(in, len); break;
	case 'E': kind_event(in, len); break;
	case 'Q': kind_query(in, len, false); break;
	case 'q': kind_query(in, len, true); break;
	case 'C': kind_claim(in, len, false); break;
	case 'c': kind_claim(in, len, true); break;
	case 'L': kind_load(in, len); break;
	case 'O': kind_olm(in, len); break;
	case 'M': kind_megolm(in, len); break;
	}
	if (kind != 'L')
		check_roundtrip(bot, &bot_cfg, "after the input");
	free(in);
	return 0;
}

/* ---- the seed corpus ---- */

static void seed(const char *dir, const char *name, char kind,
		const char *text, size_t len)
{
	char *buf = malloc(len + 1);
	if (!buf)
		hb_fuzz_fail("out of memory");
	buf[0] = kind;
	memcpy(buf + 1, text, len);
	hb_fuzz_write(dir, name, buf, len + 1);
	free(buf);
}

static void seed_str(const char *dir, const char *name, char kind,
		const char *text)
{
	seed(dir, name, kind, text, strlen(text));
}

static void seed_json(const char *dir, const char *name, char kind,
		const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	if (!text)
		hb_fuzz_fail("out of memory");
	seed_str(dir, name, kind, text);
	free(text);
}

/* A Megolm session of its own (not the one the bot has): its id and key
 * as m.room_key carries it, and the key exported as m.forwarded_room_key
 * carries it. */
static void new_megolm(char *sid, size_t sid_len, char **key, char **exported)
{
	OlmOutboundGroupSession *o = hb_mx_olm_outbound_new();
	size_t rl = olm_init_outbound_group_session_random_length(o);
	unsigned char *rnd = malloc(rl ? rl : 1);
	if (!rnd || !hb_mx_crypto_random(rnd, rl) ||
			olm_init_outbound_group_session(o, rnd, rl) == olm_error())
		hb_fuzz_fail("seeds: no Megolm session");
	free(rnd);
	size_t il = olm_outbound_group_session_id_length(o);
	size_t kl = olm_outbound_group_session_key_length(o);
	*key = malloc(kl + 1);
	if (il >= sid_len || !*key || olm_outbound_group_session_id(o,
			(uint8_t *)sid, il) == olm_error() ||
			olm_outbound_group_session_key(o, (uint8_t *)*key, kl) ==
			olm_error())
		hb_fuzz_fail("seeds: no Megolm key");
	sid[il] = '\0';
	(*key)[kl] = '\0';
	OlmInboundGroupSession *in = hb_mx_olm_inbound_new();
	char *copy = strdup(*key);
	if (!copy || olm_init_inbound_group_session(in, (uint8_t *)copy,
			strlen(copy)) == olm_error())
		hb_fuzz_fail("seeds: no inbound session");
	free(copy);
	size_t el = olm_export_inbound_group_session_length(in);
	*exported = malloc(el + 1);
	if (!*exported || olm_export_inbound_group_session(in,
			(uint8_t *)*exported, el, 0) == olm_error())
		hb_fuzz_fail("seeds: cannot export");
	(*exported)[el] = '\0';
	hb_mx_olm_inbound_free(in);
	hb_mx_olm_outbound_free(o);
}

static char *room_key_payload(const char *type, const char *recipient,
		const char *sid, const char *key, const char *sender_key)
{
	char *out = malloc(2048);
	if (!out)
		hb_fuzz_fail("out of memory");
	snprintf(out, 2048, "{\"type\":\"%s\",\"sender\":\"" PEER_USER "\","
		"\"sender_device\":\"" PEER_DEVICE "\",\"keys\":{\"ed25519\":"
		"\"PEER_ED\"},\"recipient\":\"%s\",\"recipient_keys\":{\"ed25519\":"
		"\"BOT_ED\"},\"content\":{\"algorithm\":\"" MEGOLM_ALGORITHM "\","
		"\"room_id\":\"" ROOM "\",\"session_id\":\"%s\",%s%s%s"
		"\"session_key\":\"%s\"}}", type, recipient, sid,
		sender_key ? "\"sender_key\":\"" : "", sender_key ? sender_key : "",
		sender_key ? "\",\"sender_claimed_ed25519_key\":\"PEER_ED\","
		"\"forwarding_curve25519_key_chain\":[]," : "", key);
	return out;
}

#define MESSAGE "{\"type\":\"m.room.message\",\"room_id\":\"" ROOM "\"," \
	"\"content\":{\"msgtype\":\"m.text\",\"body\":\"What are the signs " \
	"of a stroke?\"}}"

static void write_seeds(const char *dir, const cJSON *peer_keys,
		const cJSON *peer_otks)
{
	char sid[HB_MX_KEY_LEN], buf[8192];
	char *key, *exported;
	size_t len;
	mkdir(dir, 0755);
	new_megolm(sid, sizeof(sid), &key, &exported);

	/* O: payloads the peer encrypts here; a new room key (accepted), a
	 * forwarded one, and refusals */
	char *p = room_key_payload("m.room_key", BOT_USER, sid, key, NULL);
	seed_str(dir, "olm-room-key", 'O', p);
	/* S: the same, Olm-encrypted by this run's peer: a real message for
	 * keys no other run has (bogus ciphertext there) */
	char *plain = substitute(p, strlen(p), &len);
	cJSON *ev = peer_olm_event(plain, len);
	free(plain);
	cJSON *mine = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(ev, "content"), "ciphertext"),
		bot->curve);
	snprintf(buf, sizeof(buf), "{\"to_device\":{\"events\":[{\"type\":"
		"\"m.room.encrypted\",\"sender\":\"" PEER_USER "\",\"content\":{"
		"\"algorithm\":\"" OLM_ALGORITHM "\",\"sender_key\":\"PEER_CURVE\","
		"\"ciphertext\":{\"BOT_CURVE\":{\"type\":0,\"body\":\"%s\"}}}}]},"
		"\"device_lists\":{\"changed\":[\"" PEER_USER "\"],\"left\":[\""
		OTHER_USER "\"]},\"device_one_time_keys_count\":"
		"{\"signed_curve25519\":10}}", str(mine, "body"));
	cJSON_Delete(ev);
	seed_str(dir, "sync-prekey", 'S', buf);
	free(p);
	p = room_key_payload("m.forwarded_room_key", BOT_USER, sid, exported,
		"PEER_CURVE");
	seed_str(dir, "olm-forwarded-key", 'O', p);
	free(p);
	p = room_key_payload("m.room_key", OTHER_USER, sid, key, NULL);
	seed_str(dir, "olm-wrong-recipient", 'O', p);
	free(p);
	seed_str(dir, "olm-dummy", 'O', "{\"type\":\"m.dummy\",\"sender\":\""
		PEER_USER "\",\"recipient\":\"" BOT_USER "\",\"recipient_keys\":"
		"{\"ed25519\":\"BOT_ED\"},\"content\":{}}");
	free(key);
	free(exported);

	/* S: more /sync shapes */
	seed_str(dir, "sync-type1-garbage", 'S', "{\"to_device\":{\"events\":[{"
		"\"type\":\"m.room.encrypted\",\"sender\":\"" PEER_USER "\","
		"\"content\":{\"algorithm\":\"" OLM_ALGORITHM "\",\"sender_key\":"
		"\"PEER_CURVE\",\"ciphertext\":{\"BOT_CURVE\":{\"type\":1,\"body\":"
		"\"AwogAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8QACIQAAECAwQF\"}}}},"
		"{\"type\":\"m.room_key_request\",\"sender\":\"" OTHER_USER "\","
		"\"content\":{}}]},\"device_one_time_keys_count\":{}}");
	seed_str(dir, "sync-wrong-types", 'S', "{\"to_device\":{\"events\":{}},"
		"\"device_lists\":{\"changed\":[1,null,\"" OTHER_USER "\"],\"left\":"
		"\"x\"},\"device_one_time_keys_count\":{\"signed_curve25519\":-1e300}}");

	/* E: room events; a real Megolm message of this run (bogus in any
	 * other), one without its key (held, then timed out), state */
	ev = peer_megolm_event(MESSAGE, strlen(MESSAGE));
	cJSON *content = cJSON_GetObjectItemCaseSensitive(ev, "content");
	cJSON_ReplaceItemInObject(content, "sender_key",
		cJSON_CreateString("PEER_CURVE"));
	cJSON_ReplaceItemInObject(content, "session_id",
		cJSON_CreateString("PEER_SID"));
	seed_json(dir, "event-megolm", 'E', ev);
	cJSON_AddItemToObject(content, "m.relates_to", must_parse(
		"{\"rel_type\":\"m.thread\",\"event_id\":\"$root\"}"));
	cJSON_ReplaceItemInObject(content, "session_id",
		cJSON_CreateString("unknownsession"));
	seed_json(dir, "event-no-key", 'E', ev);
	cJSON_Delete(ev);
	seed_str(dir, "event-encryption-state", 'E', "{\"type\":"
		"\"m.room.encryption\",\"state_key\":\"\",\"sender\":\"" PEER_USER
		"\",\"content\":{\"algorithm\":\"" MEGOLM_ALGORITHM "\","
		"\"rotation_period_ms\":604800000,\"rotation_period_msgs\":100}}");
	seed_str(dir, "event-member-leave", 'E', "{\"type\":\"m.room.member\","
		"\"state_key\":\"" OTHER_USER "\",\"sender\":\"" OTHER_USER "\","
		"\"content\":{\"membership\":\"leave\"}}");

	/* Q: the peer's real device keys (self-signed, so valid in every
	 * run), a user the server could not answer for, a forged device */
	cJSON *q = query_answer(PEER_USER, PEER_DEVICE, peer_keys);
	cJSON_AddItemToObject(q, "failures", cJSON_CreateObject());
	seed_json(dir, "query-peer", 'Q', q);
	cJSON *dev = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(q, "device_keys"), PEER_USER),
		PEER_DEVICE);
	cJSON_ReplaceItemInObject(dev, "device_id", cJSON_CreateString("FORGED"));
	cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(q, "device_keys"),
		OTHER_USER, cJSON_CreateArray());
	seed_json(dir, "query-forged", 'Q', q);
	cJSON_Delete(q);
	/* q: devices the peer signs here; a second device with the peer's
	 * identity key gets the bot's room key over the peer's session */
	seed_str(dir, "query-signed", 'q', "{\"device_keys\":{\"" PEER_USER
		"\":{\"" PEER_DEVICE "\":{\"user_id\":\"" PEER_USER "\",\"device_id\":"
		"\"" PEER_DEVICE "\",\"algorithms\":[\"" OLM_ALGORITHM "\",\""
		MEGOLM_ALGORITHM "\"],\"keys\":{\"curve25519:" PEER_DEVICE "\":"
		"\"PEER_CURVE\"}},\"NEWDEV\":{\"user_id\":\"" PEER_USER "\","
		"\"device_id\":\"NEWDEV\",\"algorithms\":[],\"keys\":{"
		"\"curve25519:NEWDEV\":\"PEER_CURVE\"},\"unsigned\":"
		"{\"device_display_name\":\"phone\"}}}}}");

	/* C: the peer's real signed one-time key (valid only in this run);
	 * c: a key the peer signs here, and one that is no key */
	const cJSON *otk = peer_otks->child;
	cJSON *c = claim_answer(PEER_USER, PEER_DEVICE, otk);
	seed_json(dir, "claim-peer", 'C', c);
	cJSON_Delete(c);
	snprintf(buf, sizeof(buf), "{\"one_time_keys\":{\"" PEER_USER "\":{\""
		PEER_DEVICE "\":{\"%s\":{\"key\":\"%s\"}}}},\"failures\":{}}",
		otk->string, str(otk, "key"));
	seed_str(dir, "claim-signed", 'c', buf);
	seed_str(dir, "claim-signed-not-a-key", 'c', "{\"one_time_keys\":{\""
		PEER_USER "\":{\"" PEER_DEVICE "\":{\"signed_curve25519:AAAAAQ\":"
		"{\"key\":\"not a key\"}},\"GONE\":{\"signed_curve25519:x\":"
		"{\"key\":\"PEER_CURVE\"}}}}}");

	/* M: messages the peer encrypts here */
	seed_str(dir, "megolm-message", 'M', MESSAGE);
	snprintf(buf, sizeof(buf), "%s%c%s", MESSAGE, 'X', "{\"m.relates_to\":"
		"{\"rel_type\":\"m.thread\",\"event_id\":\"$root\"}}");
	len = strlen(buf);
	buf[strlen(MESSAGE)] = '\0';
	seed(dir, "megolm-thread", 'M', buf, len);
	seed_str(dir, "megolm-other-room", 'M', "{\"type\":\"m.room.message\","
		"\"room_id\":\"!other:localhost\",\"content\":{\"msgtype\":\"m.text\","
		"\"body\":\"hello\"}}");
	seed_str(dir, "megolm-edit", 'M', "{\"type\":\"m.room.message\","
		"\"room_id\":\"" ROOM "\",\"content\":{\"msgtype\":\"m.text\","
		"\"body\":\"* chest pain\",\"m.new_content\":{\"msgtype\":\"m.text\","
		"\"body\":\"chest pain\"},\"m.relates_to\":{\"rel_type\":"
		"\"m.replace\",\"event_id\":\"$old\"}}}");
	seed_str(dir, "megolm-not-json", 'M', "hello");

	/* L: the bot's state file of this run (the pickle key is fixed, so
	 * it loads in every run); with a held event it can decrypt; damaged;
	 * another account's */
	seed_str(dir, "state-snapshot", 'L', snapshot);
	ev = peer_megolm_event(MESSAGE, strlen(MESSAGE));
	if (!hb_mx_crypto_hold(bot, ROOM, ev))
		hb_fuzz_fail("seeds: cannot hold");
	cJSON_Delete(ev);
	char *held = read_all(bot->path, NULL);
	seed_str(dir, "state-held", 'L', held);
	free(held);
	restore_bot();
	seed_str(dir, "state-damaged", 'L', "{\"version\":1,\"account\":\"x\","
		"\"device_id\":\"" BOT_DEVICE "\"}");
	cJSON *st = must_parse(snapshot);
	cJSON_ReplaceItemInObject(st, "account", cJSON_CreateString(
		"00000000000000000000000000000000"));
	seed_json(dir, "state-other-account", 'L', st);
	cJSON_Delete(st);
}

/* The sealed kinds must reach what comes after decryption, or fuzzing
 * them tests nothing: a real room key and a real message, once. */
static void self_test(void)
{
	char sid[HB_MX_KEY_LEN], *key, *exported;
	size_t len;
	new_megolm(sid, sizeof(sid), &key, &exported);
	char *p = room_key_payload("m.room_key", BOT_USER, sid, key, NULL);
	char *plain = substitute(p, strlen(p), &len);
	kind_olm(plain, len);
	if (bot->n_inbound != 2)
		hb_fuzz_fail("setup: a room key the peer sent was not read");
	free(plain);
	free(p);
	free(key);
	free(exported);
	restore_bot();
	if (kind_megolm(MESSAGE, strlen(MESSAGE)) != HB_MX_DECRYPT_OK)
		hb_fuzz_fail("setup: a message the peer sent did not decrypt");
	restore_bot();
}
