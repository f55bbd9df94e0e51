/*
 * Other devices (crypto.h): their keys from /keys/query, Olm sessions
 * with them from /keys/claim, and the room keys sent to them. Pure
 * functions on JSON; crypto_task.c makes the requests.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "crypto_internal.h"
#include "grow.h"
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

static struct known_user *known(struct hb_mx_crypto *cr, const char *user_id)
{
	for (size_t i = 0; i < cr->n_users; i++) {
		if (strcmp(cr->users[i].user_id, user_id) == 0)
			return &cr->users[i];
	}
	return NULL;
}

bool hb_mx_crypto_query_due(struct hb_mx_crypto *cr, const char *user_id)
{
	struct known_user *k = known(cr, user_id);
	return !k || k->stale;
}

static void forget_devices(struct hb_mx_crypto *cr, const char *user_id)
{
	size_t kept = 0;
	for (size_t i = 0; i < cr->n_devices; i++) {
		if (strcmp(cr->devices[i].user_id, user_id) == 0) {
			free(cr->devices[i].user_id);
			free(cr->devices[i].device_id);
		} else {
			cr->devices[kept++] = cr->devices[i];
		}
	}
	cr->n_devices = kept;
}

static bool add_device(struct hb_mx_crypto *cr, const char *user_id,
		const char *device_id, const char *curve, const char *ed)
{
	struct device *d = hb_grow(cr->devices, cr->n_devices, sizeof(*d));
	if (!d)
		return false;
	cr->devices = d;
	d = &d[cr->n_devices];
	*d = (struct device){ .user_id = strdup(user_id),
		.device_id = strdup(device_id) };
	if (!d->user_id || !d->device_id) {
		free(d->user_id);
		free(d->device_id);
		return false;
	}
	snprintf(d->curve, sizeof(d->curve), "%s", curve);
	snprintf(d->ed, sizeof(d->ed), "%s", ed);
	cr->n_devices++;
	return true;
}

/* One device's keys, checked: it names itself, and its own ed25519 key
 * signs them. */
static void read_device(struct hb_mx_crypto *cr, const char *user_id,
		const char *device_id, const cJSON *dk, unsigned *bad)
{
	char name[HB_MX_ID_LEN + 16];
	snprintf(name, sizeof(name), "curve25519:%s", device_id);
	const char *curve = str(get(dk, "keys"), name);
	snprintf(name, sizeof(name), "ed25519:%s", device_id);
	const char *ed = str(get(dk, "keys"), name);
	if (!str(dk, "user_id") || strcmp(str(dk, "user_id"), user_id) != 0 ||
			!str(dk, "device_id") ||
			strcmp(str(dk, "device_id"), device_id) != 0 ||
			strlen(device_id) >= HB_MX_ID_LEN || !curve || !ed ||
			strlen(curve) >= HB_MX_KEY_LEN || strlen(ed) >= HB_MX_KEY_LEN ||
			!hb_mx_crypto_verify(cr, dk, user_id, device_id, ed)) {
		(*bad)++;
		return;
	}
	add_device(cr, user_id, device_id, curve, ed);
}

void hb_mx_crypto_read_query(struct hb_mx_crypto *cr, const cJSON *root,
		char **asked, size_t n)
{
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++) {
		const cJSON *devs = get(get(root, "device_keys"), asked[i]);
		const cJSON *dk;
		forget_devices(cr, asked[i]);
		cJSON_ArrayForEach(dk, devs) {
			if (dk->string)
				read_device(cr, asked[i], dk->string, dk, &bad);
		}
		struct known_user *k = known(cr, asked[i]);
		if (!k) {
			k = hb_grow(cr->users, cr->n_users, sizeof(*k));
			if (!k)
				continue;
			cr->users = k;
			k = &k[cr->n_users];
			if (!(k->user_id = strdup(asked[i])))
				continue;
			cr->n_users++;
		}
		/* a user the server could not answer for is asked again */
		k->stale = !cJSON_IsObject(devs);
	}
	if (bad)
		hb_log(HB_LOG_WARN, "matrix_e2e_devices", "rejected=%u "
			"reason=\"keys not signed by the device\"", bad);
}

static bool own_device(const struct hb_mx_crypto *cr, const struct device *d)
{
	return strcmp(d->user_id, cr->user_id) == 0 &&
		strcmp(d->device_id, cr->device_id) == 0;
}

static bool is_member(char **members, size_t n, const char *user_id)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(members[i], user_id) == 0)
			return true;
	}
	return false;
}

static bool has_session(struct hb_mx_crypto *cr, const char *curve)
{
	for (size_t i = 0; i < cr->n_peers; i++) {
		if (strcmp(cr->peers[i].curve, curve) == 0)
			return true;
	}
	return false;
}

char *hb_mx_crypto_claim_body(struct hb_mx_crypto *cr, char **members,
		size_t n)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *otk = cJSON_AddObjectToObject(root, "one_time_keys");
	size_t wanted = 0;
	for (size_t i = 0; otk && i < cr->n_devices; i++) {
		const struct device *d = &cr->devices[i];
		if (own_device(cr, d) || !is_member(members, n, d->user_id) ||
				has_session(cr, d->curve))
			continue;
		cJSON *u = cJSON_GetObjectItemCaseSensitive(otk, d->user_id);
		if (!u)
			u = cJSON_AddObjectToObject(otk, d->user_id);
		if (u && cJSON_AddStringToObject(u, d->device_id, "signed_curve25519"))
			wanted++;
	}
	char *out = wanted && otk ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	return out;
}

static const struct device *find_device(struct hb_mx_crypto *cr,
		const char *user_id, const char *device_id)
{
	for (size_t i = 0; i < cr->n_devices; i++) {
		if (strcmp(cr->devices[i].user_id, user_id) == 0 &&
				strcmp(cr->devices[i].device_id, device_id) == 0)
			return &cr->devices[i];
	}
	return NULL;
}

void hb_mx_crypto_read_claim(struct hb_mx_crypto *cr, const cJSON *root)
{
	const cJSON *user, *dev, *key;
	unsigned made = 0, bad = 0;
	cJSON_ArrayForEach(user, get(root, "one_time_keys")) {
		cJSON_ArrayForEach(dev, user) {
			const struct device *d = user->string && dev->string ?
				find_device(cr, user->string, dev->string) : NULL;
			cJSON_ArrayForEach(key, dev) {
				const char *otk = str(key, "key");
				if (!d || !key->string || strncmp(key->string,
						"signed_curve25519:", 18) != 0 || !otk ||
						!hb_mx_crypto_verify(cr, key, d->user_id,
							d->device_id, d->ed)) {
					bad++;
					continue;
				}
				OlmSession *s = hb_mx_olm_session_new();
				size_t rl = s ? olm_create_outbound_session_random_length(s) : 0;
				unsigned char *rnd = malloc(rl ? rl : 1);
				bool ok = s && rnd && hb_mx_crypto_random(rnd, rl) &&
					olm_create_outbound_session(s, cr->account, d->curve,
						strlen(d->curve), otk, strlen(otk), rnd, rl) !=
						olm_error() && hb_mx_crypto_peer_add(cr, d->curve, s);
				free(rnd);
				if (ok) {
					made++;
				} else {
					hb_mx_olm_session_free(s);
					bad++;
				}
				break; /* one key per device */
			}
		}
	}
	hb_log(HB_LOG_INFO, "matrix_e2e_claim", "sessions=%u rejected=%u", made, bad);
}

static void device_hash(char out[HB_MX_HASH_HEX], const struct device *d)
{
	hb_mx_hash(out, d->user_id, d->device_id, d->curve);
}

static bool shared_with(const struct outbound *o, const char *h)
{
	for (size_t i = 0; i < o->n_shared; i++) {
		if (strcmp(o->shared[i], h) == 0)
			return true;
	}
	return false;
}

/* Whether a device that holds the session's key is gone (left the room,
 * removed, its keys changed): the session must not carry on. */
static bool holder_gone(struct hb_mx_crypto *cr, const struct outbound *o,
		char **members, size_t n)
{
	for (size_t k = 0; k < o->n_shared; k++) {
		bool found = false;
		for (size_t i = 0; i < cr->n_devices && !found; i++) {
			char h[HB_MX_HASH_HEX];
			device_hash(h, &cr->devices[i]);
			found = strcmp(h, o->shared[k]) == 0 &&
				is_member(members, n, cr->devices[i].user_id);
		}
		if (!found)
			return true;
	}
	return false;
}

/* The m.room_key payload for one device, Olm-encrypted, as the content
 * of a to-device m.room.encrypted. */
static cJSON *room_key_for(struct hb_mx_crypto *cr, const struct device *d,
		const cJSON *key_content)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *keys = cJSON_AddObjectToObject(p, "keys");
	cJSON *rkeys = cJSON_AddObjectToObject(p, "recipient_keys");
	cJSON *c = cJSON_Duplicate(key_content, true);
	char *plain = NULL;
	if (keys && rkeys && c && cJSON_AddStringToObject(p, "type", "m.room_key") &&
			cJSON_AddStringToObject(p, "sender", cr->user_id) &&
			cJSON_AddStringToObject(p, "sender_device", cr->device_id) &&
			cJSON_AddStringToObject(keys, "ed25519", cr->ed) &&
			cJSON_AddStringToObject(p, "recipient", d->user_id) &&
			cJSON_AddStringToObject(rkeys, "ed25519", d->ed)) {
		cJSON_AddItemToObject(p, "content", c);
		c = NULL;
		plain = cJSON_PrintUnformatted(p);
	}
	cJSON_Delete(c);
	cJSON_Delete(p);
	if (!plain)
		return NULL;
	cJSON *msg = hb_mx_crypto_olm_encrypt(cr, d->curve, plain);
	memset(plain, 0, strlen(plain));
	free(plain);
	cJSON *out = msg ? cJSON_CreateObject() : NULL;
	cJSON *ct = out ? cJSON_AddObjectToObject(out, "ciphertext") : NULL;
	if (!ct || !cJSON_AddStringToObject(out, "algorithm", OLM_ALGORITHM) ||
			!cJSON_AddStringToObject(out, "sender_key", cr->curve)) {
		cJSON_Delete(msg);
		cJSON_Delete(out);
		return NULL;
	}
	cJSON_AddItemToObject(ct, d->curve, msg);
	return out;
}

bool hb_mx_crypto_share_body(struct hb_mx_crypto *cr, const char *room_id,
		char **members, size_t n, char **body, size_t *sent, size_t *skipped)
{
	struct e2e_room *r = hb_mx_crypto_room(cr, room_id, true);
	struct outbound *o = hb_mx_crypto_outbound(cr, room_id);
	*sent = *skipped = 0;
	*body = NULL;
	if (!r)
		return false;
	const char *why = !o || !o->session ? "first" : r->rotate ? "member-left" :
		o->msgs >= r->rotation_msgs ? "messages" :
		hb_mx_crypto_now_ms() - o->created_ms >= r->rotation_ms ? "age" :
		holder_gone(cr, o, members, n) ? "device-gone" : NULL;
	if (why && !hb_mx_crypto_new_outbound(cr, room_id, why))
		return false;
	o = hb_mx_crypto_outbound(cr, room_id);
	size_t kl = olm_outbound_group_session_key_length(o->session);
	size_t il = olm_outbound_group_session_id_length(o->session);
	char *key = malloc(kl + 1), *sid = malloc(il + 1);
	cJSON *kc = cJSON_CreateObject();
	cJSON *root = cJSON_CreateObject();
	cJSON *msgs = cJSON_AddObjectToObject(root, "messages");
	bool ok = key && sid && kc && msgs &&
		olm_outbound_group_session_key(o->session, (uint8_t *)key, kl) !=
			olm_error() &&
		olm_outbound_group_session_id(o->session, (uint8_t *)sid, il) !=
			olm_error();
	if (ok) {
		key[kl] = sid[il] = '\0';
		ok = cJSON_AddStringToObject(kc, "algorithm", MEGOLM_ALGORITHM) &&
			cJSON_AddStringToObject(kc, "room_id", room_id) &&
			cJSON_AddStringToObject(kc, "session_id", sid) &&
			cJSON_AddStringToObject(kc, "session_key", key);
	}
	for (size_t i = 0; ok && i < cr->n_devices; i++) {
		const struct device *d = &cr->devices[i];
		char h[HB_MX_HASH_HEX];
		device_hash(h, d);
		if (own_device(cr, d) || !is_member(members, n, d->user_id) ||
				shared_with(o, h))
			continue;
		cJSON *content = room_key_for(cr, d, kc);
		if (!content) {
			/* no session (no one-time key left): it cannot read
			 * this session's messages */
			(*skipped)++;
			continue;
		}
		cJSON *u = cJSON_GetObjectItemCaseSensitive(msgs, d->user_id);
		if (!u)
			u = cJSON_AddObjectToObject(msgs, d->user_id);
		void *grown = u ? hb_grow(o->shared, o->n_shared, sizeof(*o->shared)) :
			NULL;
		if (!grown) {
			cJSON_Delete(content);
			ok = false;
			break;
		}
		o->shared = grown;
		snprintf(o->shared[o->n_shared++], HB_MX_HASH_HEX, "%s", h);
		cJSON_AddItemToObject(u, d->device_id, content);
		(*sent)++;
	}
	if (key) {
		memset(key, 0, kl);
		free(key);
	}
	free(sid);
	if (ok && *sent && !(*body = cJSON_PrintUnformatted(root)))
		ok = false;
	cJSON_Delete(kc);
	cJSON_Delete(root);
	if (ok) {
		r->dirty = false;
		r->rotate = false;
	}
	return ok;
}
