/*
 * Olm and Megolm sessions (crypto.h): room keys read from to-device
 * messages, room events decrypted, replies encrypted, device keys and
 * one-time keys of other devices checked.
 *
 * Trust: a room key is bound to the user whose Olm message brought it
 * (the sender the homeserver names for the to-device event, which the
 * Olm payload must repeat), and a room event decrypts only with a key
 * from its own sender. Devices are not verified (no cross-signing): any
 * device a member's account lists gets the bot's room keys, as in
 * clients that share with unverified devices.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "crypto_internal.h"
#include "grow.h"
#include "json.h"
#include "log.h"

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* ---- session memory ---- */

OlmSession *hb_mx_olm_session_new(void)
{
	void *m = malloc(olm_session_size());
	return m ? olm_session(m) : NULL;
}

void hb_mx_olm_session_free(OlmSession *s)
{
	if (!s)
		return;
	olm_clear_session(s);
	free(s);
}

OlmInboundGroupSession *hb_mx_olm_inbound_new(void)
{
	void *m = malloc(olm_inbound_group_session_size());
	return m ? olm_inbound_group_session(m) : NULL;
}

void hb_mx_olm_inbound_free(OlmInboundGroupSession *s)
{
	if (!s)
		return;
	olm_clear_inbound_group_session(s);
	free(s);
}

void hb_mx_inbound_clear(struct inbound *in)
{
	hb_mx_olm_inbound_free(in->session);
	free(in->seen);
	free(in->pickle);
	free(in->json);
	*in = (struct inbound){0};
}

/* Where index is, or would go, in in->seen. */
static size_t seen_find(const struct inbound *in, uint32_t index)
{
	size_t lo = 0, hi = in->n_seen;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (in->seen[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool hb_mx_inbound_seen_add(struct inbound *in, uint32_t index,
		const char *event)
{
	size_t at = seen_find(in, index);
	if (at < in->n_seen && in->seen[at].index == index)
		return true;
	hb_mx_cache_drop(&in->json);
	if (in->n_seen >= HB_MX_SEEN_MAX) {
		/* older than every index kept: not kept either */
		if (at == 0)
			return true;
		memmove(&in->seen[0], &in->seen[1], (at - 1) * sizeof(*in->seen));
		at--;
	} else {
		struct seen_index *grown = hb_grow(in->seen, in->n_seen,
			sizeof(*grown));
		if (!grown)
			return false;
		in->seen = grown;
		memmove(&in->seen[at + 1], &in->seen[at],
			(in->n_seen - at) * sizeof(*in->seen));
		in->n_seen++;
	}
	in->seen[at].index = index;
	snprintf(in->seen[at].event, sizeof(in->seen[at].event), "%s", event);
	return true;
}

OlmOutboundGroupSession *hb_mx_olm_outbound_new(void)
{
	void *m = malloc(olm_outbound_group_session_size());
	return m ? olm_outbound_group_session(m) : NULL;
}

void hb_mx_olm_outbound_free(OlmOutboundGroupSession *s)
{
	if (!s)
		return;
	olm_clear_outbound_group_session(s);
	free(s);
}

void hb_mx_outbound_clear(struct outbound *o)
{
	hb_mx_olm_outbound_free(o->session);
	free(o->shared);
	free(o->pickle);
	*o = (struct outbound){0};
}

bool hb_mx_crypto_peer_add(struct hb_mx_crypto *cr, const char *curve,
		OlmSession *s)
{
	struct olm_peer *p = hb_grow(cr->peers, cr->n_peers, sizeof(*p));
	if (!p)
		return false;
	cr->peers = p;
	p = &p[cr->n_peers++];
	*p = (struct olm_peer){ .session = s, .used_ms = hb_mx_crypto_now_ms() };
	snprintf(p->curve, sizeof(p->curve), "%s", curve);
	return true;
}

/* The newest session with this device, for sending. */
static struct olm_peer *peer_for(struct hb_mx_crypto *cr, const char *curve)
{
	struct olm_peer *best = NULL;
	for (size_t i = 0; i < cr->n_peers; i++) {
		if (strcmp(cr->peers[i].curve, curve) == 0 &&
				(!best || cr->peers[i].used_ms > best->used_ms))
			best = &cr->peers[i];
	}
	return best;
}

/* ---- signatures ---- */

bool hb_mx_crypto_verify(struct hb_mx_crypto *cr, const cJSON *obj,
		const char *user_id, const char *device_id, const char *ed_key)
{
	char name[HB_MX_ID_LEN + 16];
	snprintf(name, sizeof(name), "ed25519:%s", device_id);
	const char *sig = str(get(get(obj, "signatures"), user_id), name);
	if (!sig || !ed_key)
		return false;
	cJSON *copy = cJSON_Duplicate(obj, true);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "signatures");
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "unsigned");
	char *canon = copy ? hb_json_canonical(copy) : NULL;
	char *sigcopy = strdup(sig);
	bool ok = canon && sigcopy && olm_ed25519_verify(cr->utility, ed_key,
		strlen(ed_key), canon, strlen(canon), sigcopy, strlen(sigcopy)) !=
		olm_error();
	free(canon);
	free(sigcopy);
	cJSON_Delete(copy);
	return ok;
}

/* ---- to-device: Olm ---- */

/* Decrypts an Olm message from sender_key with the sessions we have, or
 * a new inbound session for a pre-key message. Plaintext to free. */
static char *olm_decrypt_from(struct hb_mx_crypto *cr, const char *sender_key,
		int type, const char *body, bool *changed)
{
	size_t len = strlen(body);
	char *tmp = malloc(len + 1);
	char *plain = NULL;
	if (!tmp)
		return NULL;
	for (size_t i = 0; i < cr->n_peers && !plain; i++) {
		struct olm_peer *p = &cr->peers[i];
		if (strcmp(p->curve, sender_key) != 0)
			continue;
		if (type == 0) {
			memcpy(tmp, body, len + 1);
			if (olm_matches_inbound_session_from(p->session, sender_key,
					strlen(sender_key), tmp, len) != 1)
				continue;
		}
		memcpy(tmp, body, len + 1);
		size_t max = olm_decrypt_max_plaintext_length(p->session,
			(size_t)type, tmp, len);
		if (max == olm_error())
			continue;
		plain = malloc(max + 1);
		memcpy(tmp, body, len + 1);
		if (plain)
			hb_mx_cache_drop(&p->pickle);
		size_t n = plain ? olm_decrypt(p->session, (size_t)type, tmp, len,
			plain, max) : olm_error();
		if (n == olm_error()) {
			free(plain);
			plain = NULL;
			continue;
		}
		plain[n] = '\0';
		p->used_ms = hb_mx_crypto_now_ms();
		*changed = true;
	}
	if (!plain && type == 0) {
		/* a new session, made with one of our one-time keys */
		OlmSession *s = hb_mx_olm_session_new();
		memcpy(tmp, body, len + 1);
		if (s && olm_create_inbound_session_from(s, cr->account, sender_key,
				strlen(sender_key), tmp, len) != olm_error()) {
			memcpy(tmp, body, len + 1);
			size_t max = olm_decrypt_max_plaintext_length(s, 0, tmp, len);
			plain = max != olm_error() ? malloc(max + 1) : NULL;
			memcpy(tmp, body, len + 1);
			size_t n = plain ? olm_decrypt(s, 0, tmp, len, plain, max) :
				olm_error();
			if (n != olm_error() && hb_mx_crypto_peer_add(cr, sender_key, s)) {
				plain[n] = '\0';
				/* a one-time key serves one session only */
				olm_remove_one_time_keys(cr->account, s);
				*changed = true;
				s = NULL;
			} else {
				free(plain);
				plain = NULL;
			}
		}
		hb_mx_olm_session_free(s);
	}
	free(tmp);
	return plain;
}

static bool have_inbound(struct hb_mx_crypto *cr, const char *room,
		const char *sender_key, const char *session_id)
{
	for (size_t i = 0; i < cr->n_inbound; i++) {
		const struct inbound *in = &cr->inbound[i];
		if (strcmp(in->room, room) == 0 &&
				strcmp(in->sender_key, sender_key) == 0 &&
				strcmp(in->session_id, session_id) == 0)
			return true;
	}
	return false;
}

/* m.room_key and m.forwarded_room_key: a Megolm inbound session. */
static bool add_room_key(struct hb_mx_crypto *cr, const char *sender,
		const char *olm_sender_key, const char *type, const cJSON *content)
{
	bool forwarded = strcmp(type, "m.forwarded_room_key") == 0;
	const char *alg = str(content, "algorithm");
	const char *room_id = str(content, "room_id");
	const char *sid = str(content, "session_id");
	const char *skey = str(content, "session_key");
	const char *sender_key = forwarded ? str(content, "sender_key") :
		olm_sender_key;
	if (!alg || strcmp(alg, MEGOLM_ALGORITHM) != 0 || !room_id || !sid ||
			!skey || !sender_key || strlen(sid) >= HB_MX_KEY_LEN ||
			strlen(sender_key) >= HB_MX_KEY_LEN)
		return false;
	char room[HB_MX_HASH_HEX];
	hb_mx_hash(room, room_id, NULL, NULL);
	if (have_inbound(cr, room, sender_key, sid))
		return false;
	OlmInboundGroupSession *s = hb_mx_olm_inbound_new();
	char *k = strdup(skey);
	size_t rc = s && k ? (forwarded ?
		olm_import_inbound_group_session(s, (uint8_t *)k, strlen(k)) :
		olm_init_inbound_group_session(s, (uint8_t *)k, strlen(k))) :
		olm_error();
	if (k) {
		memset(k, 0, strlen(k));
		free(k);
	}
	struct inbound *in = rc != olm_error() ? hb_grow(cr->inbound,
		cr->n_inbound, sizeof(*in)) : NULL;
	if (!in) {
		hb_log(HB_LOG_WARN, "matrix_e2e_room_key", "ok=no olm=%s",
			s ? olm_inbound_group_session_last_error(s) : "OUT_OF_MEMORY");
		hb_mx_olm_inbound_free(s);
		return false;
	}
	cr->inbound = in;
	in = &in[cr->n_inbound++];
	*in = (struct inbound){ .session = s, .used_ms = hb_mx_crypto_now_ms() };
	snprintf(in->room, sizeof(in->room), "%s", room);
	hb_mx_hash(in->sender, sender, NULL, NULL);
	snprintf(in->sender_key, sizeof(in->sender_key), "%s", sender_key);
	snprintf(in->session_id, sizeof(in->session_id), "%s", sid);
	hb_log(HB_LOG_INFO, "matrix_e2e_room_key", "ok=yes forwarded=%s",
		forwarded ? "yes" : "no");
	return true;
}

static void to_device(struct hb_mx_crypto *cr, const cJSON *ev, bool *changed)
{
	const char *sender = str(ev, "sender");
	const cJSON *content = get(ev, "content");
	const char *alg = str(content, "algorithm");
	const char *sender_key = str(content, "sender_key");
	const cJSON *mine = get(get(content, "ciphertext"), cr->curve);
	const cJSON *type = get(mine, "type");
	const char *body = str(mine, "body");
	if (!sender || !str(ev, "type") ||
			strcmp(str(ev, "type"), "m.room.encrypted") != 0)
		return;
	if (!alg || strcmp(alg, OLM_ALGORITHM) != 0 || !sender_key || !body ||
			!cJSON_IsNumber(type) || (type->valueint != 0 &&
			type->valueint != 1) || strlen(sender_key) >= HB_MX_KEY_LEN) {
		hb_log(HB_LOG_INFO, "matrix_e2e_to_device", "ok=no reason=not-for-us");
		return;
	}
	char *plain = olm_decrypt_from(cr, sender_key, type->valueint, body,
		changed);
	if (!plain) {
		/* a replay after a crash (the state already moved on) or a
		 * message for keys we no longer have */
		hb_log(HB_LOG_INFO, "matrix_e2e_to_device", "ok=no reason=undecryptable");
		return;
	}
	cJSON *p = hb_json_parse(plain, strlen(plain), NULL);
	memset(plain, 0, strlen(plain));
	free(plain);
	const char *ptype = str(p, "type");
	/* the payload must name the same sender and us, or it was made for
	 * someone else and replayed to us */
	if (!ptype || !str(p, "sender") || strcmp(str(p, "sender"), sender) != 0 ||
			!str(p, "recipient") || strcmp(str(p, "recipient"), cr->user_id) != 0 ||
			!str(get(p, "recipient_keys"), "ed25519") ||
			strcmp(str(get(p, "recipient_keys"), "ed25519"), cr->ed) != 0) {
		hb_log(HB_LOG_WARN, "matrix_e2e_to_device", "ok=no reason=wrong-recipient");
	} else if (strcmp(ptype, "m.room_key") == 0 ||
			strcmp(ptype, "m.forwarded_room_key") == 0) {
		if (add_room_key(cr, sender, sender_key, ptype, get(p, "content")))
			*changed = true;
	} else {
		hb_log(HB_LOG_DEBUG, "matrix_e2e_to_device", "ok=yes ignored=other-type");
	}
	cJSON_Delete(p);
}

static struct known_user *known_user(struct hb_mx_crypto *cr,
		const char *user_id)
{
	for (size_t i = 0; i < cr->n_users; i++) {
		if (strcmp(cr->users[i].user_id, user_id) == 0)
			return &cr->users[i];
	}
	return NULL;
}

void hb_mx_crypto_read_sync(struct hb_mx_crypto *cr, const cJSON *root)
{
	bool changed = false;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, get(get(root, "to_device"), "events"))
		to_device(cr, ev, &changed);
	/* someone's devices changed: ask again before the next share, and
	 * recheck every room (a device gone means a new session) */
	const cJSON *u;
	bool devices = false;
	int n_changed = 0, n_left = 0;
	cJSON_ArrayForEach(u, get(get(root, "device_lists"), "changed")) {
		struct known_user *k = cJSON_IsString(u) ? known_user(cr,
			u->valuestring) : NULL;
		if (k)
			k->stale = true;
		devices = true;
		n_changed++;
	}
	cJSON_ArrayForEach(u, get(get(root, "device_lists"), "left")) {
		struct known_user *k = cJSON_IsString(u) ? known_user(cr,
			u->valuestring) : NULL;
		if (k)
			k->stale = true;
		devices = true;
		n_left++;
	}
	if (devices)
		hb_log(HB_LOG_INFO, "matrix_e2e_devices", "changed=%d left=%d",
			n_changed, n_left);
	for (size_t i = 0; devices && i < cr->n_rooms; i++)
		cr->rooms[i].dirty = true;
	const cJSON *counts = get(root, "device_one_time_keys_count");
	const cJSON *n = get(counts, "signed_curve25519");
	if (cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble < 1e6)
		cr->otk_count = (long)n->valuedouble;
	else if (cJSON_IsObject(counts) && cr->device_keys_uploaded)
		cr->otk_count = 0; /* Synapse leaves out a count of zero */
	if (changed)
		hb_mx_crypto_save(cr);
}

/* ---- room events: Megolm ---- */

/*
 * Whether the event may be read as this message index of the session:
 * the first event read with it, or that same event again (a sync batch
 * replayed after a crash, a held message tried again). Another event id
 * with an index already read is a copy of an old message sent anew, by
 * the homeserver or the sender's account, and must not be answered
 * again (as matrix-nio and matrix-js-sdk refuse it). The index is
 * remembered, and saved before the batch's sync token (crypto.h).
 */
static bool index_fresh(struct hb_mx_crypto *cr, struct inbound *in,
		uint32_t index, const char *event_id)
{
	char event[HB_MX_HASH_HEX];
	if (!event_id)
		return true; /* not from a timeline: nothing to tell apart */
	hb_mx_hash(event, event_id, NULL, NULL);
	size_t at = seen_find(in, index);
	if (at < in->n_seen && in->seen[at].index == index) {
		if (strcmp(in->seen[at].event, event) == 0)
			return true;
		hb_log(HB_LOG_WARN, "matrix_e2e_replay", "action=refused index=%lu "
			"seen=%zu", (unsigned long)index, in->n_seen);
		return false;
	}
	/* out of memory: read, unremembered, rather than lost */
	if (hb_mx_inbound_seen_add(in, index, event))
		cr->seen_unsaved = true;
	return true;
}

enum hb_mx_decrypt hb_mx_crypto_decrypt(struct hb_mx_crypto *cr,
		const char *room_id, const cJSON *ev, cJSON **plain)
{
	const cJSON *content = get(ev, "content");
	const char *alg = str(content, "algorithm");
	const char *sender_key = str(content, "sender_key");
	const char *sid = str(content, "session_id");
	const char *ct = str(content, "ciphertext");
	const char *sender = str(ev, "sender");
	*plain = NULL;
	/* someone writes encrypted here: the room's answers are too, even
	 * before its m.room.encryption state was seen */
	hb_mx_crypto_room(cr, room_id, true);
	if (!alg || strcmp(alg, MEGOLM_ALGORITHM) != 0 || !sender_key || !sid ||
			!ct || !sender)
		return HB_MX_DECRYPT_FAILED;
	char room[HB_MX_HASH_HEX], who[HB_MX_HASH_HEX];
	hb_mx_hash(room, room_id, NULL, NULL);
	hb_mx_hash(who, sender, NULL, NULL);
	struct inbound *in = NULL;
	for (size_t i = 0; i < cr->n_inbound && !in; i++) {
		if (strcmp(cr->inbound[i].room, room) == 0 &&
				strcmp(cr->inbound[i].sender_key, sender_key) == 0 &&
				strcmp(cr->inbound[i].session_id, sid) == 0)
			in = &cr->inbound[i];
	}
	if (!in)
		return HB_MX_DECRYPT_NO_KEY;
	/* a key someone else handed us does not speak for this sender */
	if (strcmp(in->sender, who) != 0)
		return HB_MX_DECRYPT_FAILED;
	size_t len = strlen(ct);
	char *tmp = malloc(len + 1);
	if (!tmp)
		return HB_MX_DECRYPT_FAILED;
	memcpy(tmp, ct, len + 1);
	size_t max = olm_group_decrypt_max_plaintext_length(in->session,
		(uint8_t *)tmp, len);
	char *text = max != olm_error() ? malloc(max + 1) : NULL;
	uint32_t index;
	memcpy(tmp, ct, len + 1);
	/* it may move its latest ratchet on (and the time changes) */
	hb_mx_cache_drop(&in->pickle);
	hb_mx_cache_drop(&in->json);
	size_t n = text ? olm_group_decrypt(in->session, (uint8_t *)tmp, len,
		(uint8_t *)text, max, &index) : olm_error();
	free(tmp);
	if (n == olm_error()) {
		hb_log(HB_LOG_WARN, "matrix_e2e_decrypt", "ok=no olm=%s",
			olm_inbound_group_session_last_error(in->session));
		free(text);
		return HB_MX_DECRYPT_FAILED;
	}
	if (!index_fresh(cr, in, index, str(ev, "event_id"))) {
		memset(text, 0, n);
		free(text);
		return HB_MX_DECRYPT_REPLAY;
	}
	/* in use: not pruned (saved with the next save; a crash before it
	 * only leaves the session looking older than it is) */
	in->used_ms = hb_mx_crypto_now_ms();
	text[n] = '\0';
	cJSON *payload = hb_json_parse(text, n, NULL);
	memset(text, 0, n);
	free(text);
	const char *ptype = str(payload, "type");
	const cJSON *pcontent = get(payload, "content");
	const char *proom = str(payload, "room_id");
	/* a message lifted from another room is not this room's */
	if (!ptype || !cJSON_IsObject(pcontent) || !proom ||
			strcmp(proom, room_id) != 0) {
		cJSON_Delete(payload);
		return HB_MX_DECRYPT_FAILED;
	}
	cJSON *out = cJSON_CreateObject();
	/* ptype points into payload: copied before payload goes */
	if (out && !cJSON_AddStringToObject(out, "type", ptype)) {
		cJSON_Delete(out);
		out = NULL;
	}
	cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(payload, "content");
	cJSON_Delete(payload);
	/* relations travel in clear beside the ciphertext */
	const cJSON *rel = get(content, "m.relates_to");
	if (c && rel && !get(c, "m.relates_to"))
		cJSON_AddItemToObject(c, "m.relates_to", cJSON_Duplicate(rel, true));
	const cJSON *ts = get(ev, "origin_server_ts");
	if (!out || !c || !cJSON_AddStringToObject(out, "sender", sender) ||
			(str(ev, "event_id") && !cJSON_AddStringToObject(out, "event_id",
				str(ev, "event_id"))) ||
			(cJSON_IsNumber(ts) && !cJSON_AddNumberToObject(out,
				"origin_server_ts", ts->valuedouble))) {
		cJSON_Delete(c);
		cJSON_Delete(out);
		return HB_MX_DECRYPT_FAILED;
	}
	cJSON_AddItemToObject(out, "content", c);
	*plain = out;
	return HB_MX_DECRYPT_OK;
}

/* ---- outbound Megolm ---- */

struct outbound *hb_mx_crypto_outbound(struct hb_mx_crypto *cr,
		const char *room_id)
{
	char room[HB_MX_HASH_HEX];
	hb_mx_hash(room, room_id, NULL, NULL);
	for (size_t i = 0; i < cr->n_outbound; i++) {
		if (strcmp(cr->outbound[i].room, room) == 0)
			return &cr->outbound[i];
	}
	return NULL;
}

bool hb_mx_outbound_expired(const struct outbound *o,
		const struct e2e_room *r, long long now)
{
	return o->msgs >= r->rotation_msgs || now - o->created_ms >= r->rotation_ms;
}

bool hb_mx_crypto_share_due(struct hb_mx_crypto *cr, const char *room_id)
{
	struct e2e_room *r = hb_mx_crypto_room(cr, room_id, true);
	struct outbound *o = hb_mx_crypto_outbound(cr, room_id);
	return !r || !o || r->dirty || r->rotate ||
		hb_mx_outbound_expired(o, r, hb_mx_crypto_now_ms());
}

/* A new outbound session for the room, replacing the old one. */
bool hb_mx_crypto_new_outbound(struct hb_mx_crypto *cr, const char *room_id,
		const char *why)
{
	struct outbound *o = hb_mx_crypto_outbound(cr, room_id);
	if (!o) {
		o = hb_grow(cr->outbound, cr->n_outbound, sizeof(*o));
		if (!o)
			return false;
		cr->outbound = o;
		o = &o[cr->n_outbound++];
		*o = (struct outbound){0};
	} else {
		hb_mx_outbound_clear(o);
	}
	hb_mx_hash(o->room, room_id, NULL, NULL);
	o->session = hb_mx_olm_outbound_new();
	size_t n = o->session ?
		olm_init_outbound_group_session_random_length(o->session) : 0;
	unsigned char *rnd = malloc(n ? n : 1);
	bool ok = o->session && rnd && hb_mx_crypto_random(rnd, n) &&
		olm_init_outbound_group_session(o->session, rnd, n) != olm_error();
	if (rnd) {
		memset(rnd, 0, n);
		free(rnd);
	}
	if (!ok) {
		/* an empty slot is "no session": made again next time */
		hb_mx_olm_outbound_free(o->session);
		o->session = NULL;
		o->room[0] = '\0';
		return false;
	}
	o->created_ms = hb_mx_crypto_now_ms();
	hb_log(HB_LOG_INFO, "matrix_e2e_session", "action=new why=%s", why);
	return true;
}

/* Plaintext to Olm for one device: {"type": 0|1, "body": ...}. */
cJSON *hb_mx_crypto_olm_encrypt(struct hb_mx_crypto *cr, const char *curve,
		const char *plaintext)
{
	struct olm_peer *p = peer_for(cr, curve);
	if (!p)
		return NULL;
	size_t len = strlen(plaintext);
	size_t rl = olm_encrypt_random_length(p->session);
	size_t ml = olm_encrypt_message_length(p->session, len);
	size_t type = olm_encrypt_message_type(p->session);
	unsigned char *rnd = malloc(rl ? rl : 1);
	char *msg = malloc(ml + 1);
	cJSON *out = NULL;
	hb_mx_cache_drop(&p->pickle);
	if (rnd && msg && hb_mx_crypto_random(rnd, rl) &&
			olm_encrypt(p->session, plaintext, len, rnd, rl, msg, ml) !=
			olm_error()) {
		msg[ml] = '\0';
		out = cJSON_CreateObject();
		if (out && (!cJSON_AddNumberToObject(out, "type", (double)type) ||
				!cJSON_AddStringToObject(out, "body", msg))) {
			cJSON_Delete(out);
			out = NULL;
		}
		p->used_ms = hb_mx_crypto_now_ms();
	}
	free(rnd);
	free(msg);
	return out;
}

char *hb_mx_crypto_encrypt(struct hb_mx_crypto *cr, const char *room_id,
		const char *type, const char *content)
{
	struct outbound *o = hb_mx_crypto_outbound(cr, room_id);
	if (!o || !o->session) {
		hb_log(HB_LOG_WARN, "matrix_e2e_encrypt", "ok=no reason=no-session");
		return NULL;
	}
	cJSON *payload = cJSON_CreateObject();
	cJSON *c = hb_json_parse(content, strlen(content), NULL);
	/* relations (reply, thread) also travel in clear, so the server can
	 * group a thread */
	const cJSON *r = get(c, "m.relates_to");
	cJSON *rel = r ? cJSON_Duplicate(r, true) : NULL;
	char *plain = NULL;
	if (payload && c && cJSON_AddStringToObject(payload, "type", type) &&
			cJSON_AddStringToObject(payload, "room_id", room_id)) {
		cJSON_AddItemToObject(payload, "content", c);
		c = NULL;
		plain = cJSON_PrintUnformatted(payload);
	}
	cJSON_Delete(c);
	cJSON_Delete(payload);
	if (!plain) {
		cJSON_Delete(rel);
		return NULL;
	}
	size_t len = strlen(plain);
	size_t ml = olm_group_encrypt_message_length(o->session, len);
	size_t il = olm_outbound_group_session_id_length(o->session);
	char *msg = malloc(ml + 1), *sid = malloc(il + 1);
	char *out = NULL;
	hb_mx_cache_drop(&o->pickle);
	bool ok = msg && sid && olm_group_encrypt(o->session, (uint8_t *)plain,
		len, (uint8_t *)msg, ml) != olm_error() &&
		olm_outbound_group_session_id(o->session, (uint8_t *)sid, il) !=
		olm_error();
	memset(plain, 0, len);
	free(plain);
	if (!ok)
		hb_log(HB_LOG_WARN, "matrix_e2e_encrypt", "ok=no olm=%s",
			olm_outbound_group_session_last_error(o->session));
	if (ok) {
		msg[ml] = sid[il] = '\0';
		o->msgs++;
		/* the message index moved on: saved before the message leaves,
		 * or a crash would reuse it for another message (the save may
		 * prune: o is not used after it; a failed save is logged) */
		o = NULL;
		ok = hb_mx_crypto_save(cr);
	}
	if (ok) {
		cJSON *enc = cJSON_CreateObject();
		if (enc && cJSON_AddStringToObject(enc, "algorithm", MEGOLM_ALGORITHM) &&
				cJSON_AddStringToObject(enc, "sender_key", cr->curve) &&
				cJSON_AddStringToObject(enc, "ciphertext", msg) &&
				cJSON_AddStringToObject(enc, "session_id", sid) &&
				cJSON_AddStringToObject(enc, "device_id", cr->device_id)) {
			if (rel)
				cJSON_AddItemToObject(enc, "m.relates_to", rel);
			rel = NULL;
			out = cJSON_PrintUnformatted(enc);
		}
		cJSON_Delete(enc);
	}
	cJSON_Delete(rel);
	free(msg);
	free(sid);
	return out;
}
