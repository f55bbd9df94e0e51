/*
 * End-to-end encrypted rooms (crypto.h): the Olm account, its keys, and
 * the state file. crypto_olm.c holds the sessions (decrypting and
 * encrypting), crypto_store.c the pickles on disk, crypto_task.c the
 * requests.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "client.h"
#include "config.h"
#include "crypto.h"
#include "crypto_internal.h"
#include "grow.h"
#include "json.h"
#include "log.h"

/* Shorter pickle keys are guessable; the file is meant to hold 32 random
 * bytes as hex or base64 (docs/matrix.md). */
#define MIN_KEY_LEN 16
#define UNDECRYPTABLE_MS (60 * 1000)
#define DEFAULT_ROTATION_MS (7LL * 24 * 3600 * 1000)
#define DEFAULT_ROTATION_MSGS 100

bool hb_mx_crypto_available(void)
{
	return true;
}

bool hb_mx_crypto_enabled(const struct hb_mx_client *c)
{
	return c->crypto != NULL;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool hb_mx_crypto_event_encrypted(const cJSON *ev, const char *own_user_id)
{
	const char *type = str(ev, "type");
	if (!type)
		return false;
	if (strcmp(type, "m.room.encryption") == 0)
		return str(ev, "state_key") != NULL &&
			str(cJSON_GetObjectItemCaseSensitive(ev, "content"),
				"algorithm") != NULL;
	const char *sender = str(ev, "sender");
	return strcmp(type, "m.room.encrypted") == 0 && sender &&
		strcmp(sender, own_user_id) != 0;
}

long long hb_mx_crypto_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hb_mx_crypto_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* ---- the account ---- */

static void account_free(struct hb_mx_crypto *cr)
{
	if (cr->account) {
		olm_clear_account(cr->account);
		free(cr->account);
		cr->account = NULL;
	}
}

static bool account_alloc(struct hb_mx_crypto *cr)
{
	account_free(cr);
	void *mem = malloc(olm_account_size());
	if (!mem)
		return false;
	cr->account = olm_account(mem);
	return true;
}

/* Our identity keys, read from the account. */
static bool read_identity(struct hb_mx_crypto *cr)
{
	size_t n = olm_account_identity_keys_length(cr->account);
	char *buf = malloc(n + 1);
	if (!buf)
		return false;
	bool ok = false;
	if (olm_account_identity_keys(cr->account, buf, n) != olm_error()) {
		buf[n] = '\0';
		cJSON *keys = hb_json_parse(buf, n, NULL);
		const char *curve = str(keys, "curve25519");
		const char *ed = str(keys, "ed25519");
		if (curve && ed && strlen(curve) < HB_MX_KEY_LEN &&
				strlen(ed) < HB_MX_KEY_LEN) {
			snprintf(cr->curve, sizeof(cr->curve), "%s", curve);
			snprintf(cr->ed, sizeof(cr->ed), "%s", ed);
			ok = true;
		}
		cJSON_Delete(keys);
	}
	free(buf);
	return ok;
}

static bool account_create(struct hb_mx_crypto *cr)
{
	if (!account_alloc(cr))
		return false;
	size_t n = olm_create_account_random_length(cr->account);
	unsigned char *rnd = malloc(n ? n : 1);
	bool ok = rnd && hb_mx_crypto_random(rnd, n) &&
		olm_create_account(cr->account, rnd, n) != olm_error();
	if (rnd) {
		memset(rnd, 0, n);
		free(rnd);
	}
	if (!ok) {
		hb_log(HB_LOG_ERROR, "matrix_e2e", "error=\"cannot create the Olm "
			"account\"");
		account_free(cr);
		return false;
	}
	cr->device_keys_uploaded = false;
	cr->otk_count = -1;
	hb_log(HB_LOG_INFO, "matrix_e2e", "account=new");
	return read_identity(cr);
}

bool hb_mx_crypto_load_account(struct hb_mx_crypto *cr, const char *pickle)
{
	if (!account_alloc(cr))
		return false;
	char *p = strdup(pickle);
	if (!p)
		return false;
	size_t rc = olm_unpickle_account(cr->account, cr->key, cr->key_len, p,
		strlen(p));
	free(p);
	if (rc == olm_error()) {
		fprintf(stderr, "healthbot: matrix: cannot read the encryption "
			"state in %s (%s): is matrix.encryption_key_file the key it "
			"was saved with?\n", cr->path,
			olm_account_last_error(cr->account));
		hb_log(HB_LOG_ERROR, "matrix_e2e", "error=\"cannot unpickle the Olm "
			"account\" olm=%s", olm_account_last_error(cr->account));
		account_free(cr);
		return false;
	}
	return read_identity(cr);
}

char *hb_mx_crypto_pickle_account(struct hb_mx_crypto *cr)
{
	size_t n = olm_pickle_account_length(cr->account);
	char *buf = malloc(n + 1);
	if (!buf)
		return NULL;
	if (olm_pickle_account(cr->account, cr->key, cr->key_len, buf, n) ==
			olm_error()) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

bool hb_mx_crypto_set_device(struct hb_mx_crypto *cr, const char *device_id)
{
	if (cr->device_id && cr->account && strcmp(cr->device_id, device_id) == 0)
		return true;
	/* keys belong to one device: another device (a new token) gets an
	 * account of its own, and nothing of the old one is valid for it */
	if (cr->device_id)
		hb_log(HB_LOG_WARN, "matrix_e2e", "warning=\"the access token is "
			"for another device than the saved keys: new keys\"");
	hb_mx_crypto_reset(cr);
	free(cr->device_id);
	cr->device_id = strdup(device_id);
	if (!cr->device_id || !account_create(cr) || !hb_mx_crypto_save(cr))
		return false;
	return true;
}

/* ---- signing and uploading keys ---- */

/* Adds "signatures": {user: {"ed25519:DEVICE": sig}} over obj's
 * canonical JSON. */
static bool sign(struct hb_mx_crypto *cr, cJSON *obj)
{
	char *canon = hb_json_canonical(obj);
	size_t n = olm_account_signature_length(cr->account);
	char *sig = malloc(n + 1);
	bool ok = false;
	if (canon && sig && olm_account_sign(cr->account, canon, strlen(canon),
			sig, n) != olm_error()) {
		sig[n] = '\0';
		char key[HB_MX_ID_LEN + 16];
		snprintf(key, sizeof(key), "ed25519:%s", cr->device_id);
		cJSON *sigs = cJSON_AddObjectToObject(obj, "signatures");
		cJSON *mine = sigs ? cJSON_AddObjectToObject(sigs, cr->user_id) : NULL;
		ok = mine && cJSON_AddStringToObject(mine, key, sig);
	}
	free(canon);
	free(sig);
	return ok;
}

static cJSON *device_keys(struct hb_mx_crypto *cr)
{
	cJSON *dk = cJSON_CreateObject();
	cJSON *algs = cJSON_AddArrayToObject(dk, "algorithms");
	cJSON *keys = cJSON_AddObjectToObject(dk, "keys");
	char name[HB_MX_ID_LEN + 16];
	bool ok = algs && keys &&
		cJSON_AddStringToObject(dk, "user_id", cr->user_id) &&
		cJSON_AddStringToObject(dk, "device_id", cr->device_id);
	if (ok) {
		cJSON_AddItemToArray(algs, cJSON_CreateString(OLM_ALGORITHM));
		cJSON_AddItemToArray(algs, cJSON_CreateString(MEGOLM_ALGORITHM));
		snprintf(name, sizeof(name), "curve25519:%s", cr->device_id);
		ok = cJSON_AddStringToObject(keys, name, cr->curve) != NULL;
		snprintf(name, sizeof(name), "ed25519:%s", cr->device_id);
		ok = ok && cJSON_AddStringToObject(keys, name, cr->ed) &&
			cJSON_GetArraySize(algs) == 2 && sign(cr, dk);
	}
	if (!ok) {
		cJSON_Delete(dk);
		return NULL;
	}
	return dk;
}

static size_t otk_wanted(const struct hb_mx_crypto *cr)
{
	/* the server hands them out one per new session; keep it at half
	 * of what the account can hold, so old ones are not pushed out */
	long target = (long)olm_account_max_number_of_one_time_keys(cr->account) / 2;
	long have = cr->otk_count < 0 ? 0 : cr->otk_count;
	return have < target ? (size_t)(target - have) : 0;
}

bool hb_mx_crypto_upload_due(const struct hb_mx_crypto *cr)
{
	if (!cr->account)
		return false;
	/* a count not yet known is learnt from the upload's answer */
	return !cr->device_keys_uploaded || cr->otk_count < 0 ||
		cr->otk_count < (long)olm_account_max_number_of_one_time_keys(
			cr->account) / 4;
}

static bool add_one_time_keys(struct hb_mx_crypto *cr, cJSON *body, size_t n)
{
	size_t rl = olm_account_generate_one_time_keys_random_length(cr->account, n);
	unsigned char *rnd = malloc(rl ? rl : 1);
	bool ok = rnd && hb_mx_crypto_random(rnd, rl) &&
		olm_account_generate_one_time_keys(cr->account, n, rnd, rl) !=
			olm_error();
	free(rnd);
	if (!ok)
		return false;
	size_t len = olm_account_one_time_keys_length(cr->account);
	char *buf = malloc(len + 1);
	if (!buf || olm_account_one_time_keys(cr->account, buf, len) == olm_error()) {
		free(buf);
		return false;
	}
	cJSON *keys = hb_json_parse(buf, len, NULL);
	free(buf);
	cJSON *out = cJSON_AddObjectToObject(body, "one_time_keys");
	const cJSON *k;
	ok = out != NULL;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(keys, "curve25519")) {
		if (!ok || !cJSON_IsString(k))
			continue;
		cJSON *signed_key = cJSON_CreateObject();
		char name[128];
		ok = signed_key && cJSON_AddStringToObject(signed_key, "key",
			k->valuestring) && sign(cr, signed_key);
		snprintf(name, sizeof(name), "signed_curve25519:%s", k->string);
		if (ok)
			cJSON_AddItemToObject(out, name, signed_key);
		else
			cJSON_Delete(signed_key);
	}
	cJSON_Delete(keys);
	return ok;
}

char *hb_mx_crypto_upload_body(struct hb_mx_crypto *cr)
{
	if (!hb_mx_crypto_upload_due(cr))
		return NULL;
	cJSON *body = cJSON_CreateObject();
	bool ok = body != NULL;
	if (ok && !cr->device_keys_uploaded) {
		cJSON *dk = device_keys(cr);
		ok = dk != NULL;
		if (ok)
			cJSON_AddItemToObject(body, "device_keys", dk);
	}
	/* with the count unknown, the upload asks only (an empty one tells
	 * the count); keys then follow on the next round */
	size_t n = cr->otk_count < 0 ? 0 : otk_wanted(cr);
	if (ok && n)
		ok = add_one_time_keys(cr, body, n);
	char *json = ok ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	/* generated keys are in the account: saved before they are sent, so a
	 * session made with one after a crash still finds it */
	if (json && n && !hb_mx_crypto_save(cr)) {
		free(json);
		return NULL;
	}
	return json;
}

void hb_mx_crypto_uploaded(struct hb_mx_crypto *cr, const char *body, size_t len)
{
	cJSON *root = hb_json_parse(body, len, NULL);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "one_time_key_counts"),
		"signed_curve25519");
	cr->otk_count = cJSON_IsNumber(n) && n->valuedouble >= 0 &&
		n->valuedouble < 1e6 ? (long)n->valuedouble : 0;
	cJSON_Delete(root);
	olm_account_mark_keys_as_published(cr->account);
	bool first = !cr->device_keys_uploaded;
	cr->device_keys_uploaded = true;
	hb_mx_crypto_save(cr);
	hb_log(HB_LOG_INFO, "matrix_e2e_keys", "device_keys=%s one_time_keys=%ld",
		first ? "uploaded" : "known", cr->otk_count);
}

/* ---- rooms ---- */

struct e2e_room *hb_mx_crypto_room(struct hb_mx_crypto *cr, const char *room_id,
		bool add)
{
	char key[HB_MX_HASH_HEX];
	hb_mx_hash(key, room_id, NULL, NULL);
	for (size_t i = 0; i < cr->n_rooms; i++) {
		if (strcmp(cr->rooms[i].room, key) == 0)
			return &cr->rooms[i];
	}
	if (!add)
		return NULL;
	struct e2e_room *rooms = hb_grow(cr->rooms, cr->n_rooms, sizeof(*rooms));
	if (!rooms)
		return NULL;
	cr->rooms = rooms;
	struct e2e_room *r = &rooms[cr->n_rooms++];
	*r = (struct e2e_room){ .rotation_ms = DEFAULT_ROTATION_MS,
		.rotation_msgs = DEFAULT_ROTATION_MSGS, .dirty = true };
	snprintf(r->room, sizeof(r->room), "%s", key);
	return r;
}

bool hb_mx_crypto_room_encrypted(struct hb_mx_crypto *cr, const char *room_id)
{
	return hb_mx_crypto_room(cr, room_id, false) != NULL;
}

void hb_mx_crypto_room_event(struct hb_mx_crypto *cr, const char *room_id,
		const cJSON *ev)
{
	const char *type = str(ev, "type");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(ev, "content");
	if (!type || !str(ev, "state_key"))
		return;
	if (strcmp(type, "m.room.encryption") == 0 && str(content, "algorithm")) {
		struct e2e_room *r = hb_mx_crypto_room(cr, room_id, true);
		if (!r)
			return;
		/* the room's own limits, when it sets sane ones */
		const cJSON *ms = cJSON_GetObjectItemCaseSensitive(content,
			"rotation_period_ms");
		const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(content,
			"rotation_period_msgs");
		/* at least a second: a room cannot make every reply a new
		 * session and a new round of requests */
		r->rotation_ms = cJSON_IsNumber(ms) && ms->valuedouble >= 1 &&
			ms->valuedouble <= 1e12 ? (long long)ms->valuedouble :
			DEFAULT_ROTATION_MS;
		if (r->rotation_ms < 1000)
			r->rotation_ms = 1000;
		r->rotation_msgs = cJSON_IsNumber(msgs) && msgs->valuedouble >= 1 &&
			msgs->valuedouble <= 1e6 ? (long)msgs->valuedouble :
			DEFAULT_ROTATION_MSGS;
		return;
	}
	if (strcmp(type, "m.room.member") == 0) {
		struct e2e_room *r = hb_mx_crypto_room(cr, room_id, false);
		const char *m = str(content, "membership");
		if (!r || !m)
			return;
		/* a new member needs the key; one who left must not get the
		 * next one */
		r->dirty = true;
		if (strcmp(m, "join") != 0 && strcmp(m, "invite") != 0)
			r->rotate = true;
	}
}

/* ---- held events ---- */

bool hb_mx_crypto_hold(struct hb_mx_crypto *cr, const char *room_id,
		const cJSON *event)
{
	const char *id = str(event, "event_id");
	if (!id)
		return true;
	for (size_t i = 0; i < cr->n_pending; i++) {
		if (strcmp(cr->pending[i].event_id, id) == 0)
			return true; /* a replayed batch */
	}
	struct pending *p = hb_grow(cr->pending, cr->n_pending, sizeof(*p));
	if (!p)
		return false;
	cr->pending = p;
	p = &p[cr->n_pending];
	*p = (struct pending){ .room_id = strdup(room_id),
		.event = cJSON_PrintUnformatted(event), .event_id = strdup(id),
		.since_ms = hb_mx_crypto_now_ms() };
	if (!p->room_id || !p->event || !p->event_id) {
		free(p->room_id);
		free(p->event);
		free(p->event_id);
		return false;
	}
	cr->n_pending++;
	hb_log(HB_LOG_INFO, "matrix_e2e_held", "reason=no-room-key held=%zu",
		cr->n_pending);
	hb_mx_crypto_save(cr);
	return true;
}

static void pending_drop(struct hb_mx_crypto *cr, size_t i)
{
	free(cr->pending[i].event);
	/* room_id and event_id went to the caller */
	memmove(&cr->pending[i], &cr->pending[i + 1],
		(cr->n_pending - i - 1) * sizeof(*cr->pending));
	if (--cr->n_pending == 0) {
		free(cr->pending);
		cr->pending = NULL;
	}
}

bool hb_mx_crypto_pending_next(struct hb_mx_crypto *cr, char **room_id,
		char **event_id, cJSON **plain)
{
	long long now = hb_mx_crypto_now_ms();
	for (size_t i = 0; i < cr->n_pending; i++) {
		struct pending *p = &cr->pending[i];
		cJSON *ev = hb_json_parse(p->event, strlen(p->event), NULL);
		enum hb_mx_decrypt d = ev ? hb_mx_crypto_decrypt(cr, p->room_id, ev,
			plain) : HB_MX_DECRYPT_FAILED;
		cJSON_Delete(ev);
		bool late = now - p->since_ms >= cr->undecryptable_ms;
		if (d == HB_MX_DECRYPT_NO_KEY && !late)
			continue;
		if (d == HB_MX_DECRYPT_REPLAY) {
			/* a copy of a message read already (logged): dropped,
			 * neither answered nor noticed */
			hb_log(HB_LOG_INFO, "matrix_e2e_held", "outcome=replay "
				"waited_ms=%lld", now - p->since_ms);
			free(p->room_id);
			free(p->event_id);
			/* the next one moved into slot i: it is looked at next */
			pending_drop(cr, i--);
			continue;
		}
		if (d != HB_MX_DECRYPT_OK)
			*plain = NULL;
		*room_id = p->room_id;
		*event_id = p->event_id;
		/* a key that came but does not open it (it starts at a later
		 * message) is as good as none: ask for a resend now */
		hb_log(HB_LOG_INFO, "matrix_e2e_held", "outcome=%s waited_ms=%lld",
			d == HB_MX_DECRYPT_OK ? "decrypted" : d == HB_MX_DECRYPT_NO_KEY ?
			"timeout" : "undecryptable", now - p->since_ms);
		pending_drop(cr, i);
		/* the caller's answer (or notice) is remembered as handled
		 * once sent; until then a crash replays nothing of it, so the
		 * event stays held in the saved state until the next save */
		return true;
	}
	return false;
}

long long hb_mx_crypto_pending_wait_ms(const struct hb_mx_crypto *cr)
{
	long long best = -1, now = hb_mx_crypto_now_ms();
	for (size_t i = 0; i < cr->n_pending; i++) {
		long long left = cr->pending[i].since_ms + cr->undecryptable_ms - now;
		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best;
}

/* ---- life cycle ---- */

struct hb_mx_crypto *hb_mx_crypto_create(const struct hb_mx_config *cfg)
{
	struct hb_mx_crypto *cr = calloc(1, sizeof(*cr));
	void *umem = malloc(olm_utility_size());
	struct hb_buf path, tmp;
	if (!cr || !umem) {
		free(cr);
		free(umem);
		return NULL;
	}
	cr->utility = olm_utility(umem);
	cr->otk_count = -1;
	cr->undecryptable_ms = cfg->undecryptable_timeout_s > 0 ?
		cfg->undecryptable_timeout_s * 1000 : UNDECRYPTABLE_MS;
	hb_buf_init(&path);
	hb_buf_init(&tmp);
	hb_buf_printf(&path, "%s/matrix-crypto.json", cfg->state_dir);
	hb_buf_printf(&tmp, "%s/matrix-crypto.json.tmp", cfg->state_dir);
	cr->path = hb_buf_steal(&path);
	cr->tmp_path = hb_buf_steal(&tmp);
	cr->dir = strdup(cfg->state_dir);
	cr->user_id = strdup(cfg->user_id);
	hb_mx_hash(cr->account_hash, cfg->user_id, NULL, NULL);
	if (!cr->path || !cr->tmp_path || !cr->dir || !cr->user_id)
		goto fail;
	if (!hb_config_read_secret(cfg->encryption_key_file,
			"matrix encryption key", &cr->key))
		goto fail;
	cr->key_len = strlen(cr->key);
	if (cr->key_len < MIN_KEY_LEN) {
		hb_config_error("matrix", "encryption_key_file", "holds a key of "
			"fewer than %d characters; put 32 random bytes in it, e.g. "
			"`openssl rand -hex 32`", MIN_KEY_LEN);
		goto fail;
	}
	if (!hb_mx_crypto_load(cr))
		goto fail;
	return cr;
fail:
	hb_mx_crypto_destroy(cr);
	return NULL;
}

void hb_mx_crypto_destroy(struct hb_mx_crypto *cr)
{
	if (!cr)
		return;
	hb_mx_crypto_reset(cr);
	account_free(cr);
	if (cr->utility) {
		olm_clear_utility(cr->utility);
		free(cr->utility);
	}
	if (cr->key) {
		memset(cr->key, 0, cr->key_len);
		free(cr->key);
	}
	free(cr->device_id);
	free(cr->user_id);
	free(cr->path);
	free(cr->tmp_path);
	free(cr->dir);
	free(cr);
}
