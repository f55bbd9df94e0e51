/*
 * The encryption state on disk (crypto.h): state_dir/matrix-crypto.json,
 * replaced atomically like matrix-state.json. Every secret in it is a
 * libolm pickle, encrypted with the key from encryption_key_file; room
 * ids and user ids are kept as hashes, except in held events (which are
 * ciphertext as the homeserver sent them).
 *
 * It is saved whenever the sessions change (room keys read, a session
 * made or shared, a message encrypted; the message indices read, once a
 * batch) and always before the sync token that delivered the change is
 * saved (sync.c saves that only after the batch), so a crash replays
 * to-device messages against a state that already has what they
 * brought, never loses a key, and still knows which event each message
 * index came in.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "crypto_internal.h"
#include "grow.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define MAX_FILE_BYTES (64 * 1024 * 1024)

/*
 * Pruning: the state keeps what is in use, not every session ever made,
 * so the file (re-pickled and written whole on every save) and each save
 * stay bounded by the people writing now rather than growing with time.
 *
 * Inbound Megolm sessions not decrypted with for 30 days go: senders
 * make a new one at least weekly (Element, matrix-js-sdk and the rust
 * SDK rotate after a week or 100 messages, checked before each send), so
 * a month unused means the sender moved on. A message that still comes
 * under a pruned session is held like one whose key has not come, and
 * gets the "please resend" notice after undecryptable_timeout; its
 * resend comes under a new session, with its key.
 *
 * Olm sessions with other devices not used for 90 days go, except each
 * device's newest, kept for a year: clients do not rotate Olm sessions,
 * so a patient back after months sends the key of their next Megolm
 * session over the one they have, and the bot must still be able to
 * read it (it does not ask for new sessions, "unwedging"). Older
 * sessions of a device only pile up.
 *
 * Outbound sessions past their room's rotation go: the next message
 * makes a new one anyway (not the room whose share is under way).
 *
 * At load, then before a save at most once an hour: pruning looks at
 * every session, and nothing goes stale within an hour that matters.
 */
#define INBOUND_UNUSED_MS (30LL * 24 * 3600 * 1000)
#define PEER_UNUSED_MS (90LL * 24 * 3600 * 1000)
#define PEER_NEWEST_UNUSED_MS (365LL * 24 * 3600 * 1000)
#define PRUNE_EVERY_MS (3600LL * 1000)

/* ---- pickles ---- */

#define PICKLE_FNS(NAME, TYPE, LEN, PICKLE, UNPICKLE, NEW, FREE, ERR) \
static char *pickle_##NAME(struct hb_mx_crypto *cr, TYPE *s) \
{ \
	size_t n = LEN(s); \
	char *buf = malloc(n + 1); \
	if (!buf || PICKLE(s, cr->key, cr->key_len, buf, n) == olm_error()) { \
		free(buf); \
		return NULL; \
	} \
	buf[n] = '\0'; \
	return buf; \
} \
static TYPE *unpickle_##NAME(struct hb_mx_crypto *cr, const char *p) \
{ \
	TYPE *s = NEW(); \
	char *copy = strdup(p); \
	if (!s || !copy || UNPICKLE(s, cr->key, cr->key_len, copy, \
			strlen(copy)) == olm_error()) { \
		if (s) \
			hb_log(HB_LOG_WARN, "matrix_e2e", "warning=\"a saved " \
				"session cannot be read\" olm=%s", ERR(s)); \
		free(copy); \
		FREE(s); \
		return NULL; \
	} \
	free(copy); \
	return s; \
}

PICKLE_FNS(session, OlmSession, olm_pickle_session_length, olm_pickle_session,
	olm_unpickle_session, hb_mx_olm_session_new, hb_mx_olm_session_free,
	olm_session_last_error)
PICKLE_FNS(inbound, OlmInboundGroupSession,
	olm_pickle_inbound_group_session_length, olm_pickle_inbound_group_session,
	olm_unpickle_inbound_group_session, hb_mx_olm_inbound_new,
	hb_mx_olm_inbound_free, olm_inbound_group_session_last_error)
PICKLE_FNS(outbound, OlmOutboundGroupSession,
	olm_pickle_outbound_group_session_length,
	olm_pickle_outbound_group_session, olm_unpickle_outbound_group_session,
	hb_mx_olm_outbound_new, hb_mx_olm_outbound_free,
	olm_outbound_group_session_last_error)

/* ---- reading ---- */

static const char *str_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *item_str(const cJSON *arr, int i)
{
	const cJSON *v = cJSON_GetArrayItem(arr, i);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number of the state (times in ms, counts), or -1 when missing or
 * beyond what a double holds exactly: a damaged or edited file must not
 * make the casts below undefined (1e300 as long long). */
static double item_num(const cJSON *arr, int i)
{
	const cJSON *v = cJSON_GetArrayItem(arr, i);
	return cJSON_IsNumber(v) && v->valuedouble >= -9007199254740991.0 &&
		v->valuedouble <= 9007199254740991.0 ? v->valuedouble : -1;
}

/* the same for a long (32 bits on some targets) */
static long item_long(const cJSON *arr, int i)
{
	double d = item_num(arr, i);
	return d >= (double)LONG_MIN && d <= (double)LONG_MAX ? (long)d : -1;
}

static bool fits(const char *s, size_t n)
{
	return s && strlen(s) < n;
}

static void load_peers(struct hb_mx_crypto *cr, const cJSON *arr,
		long long now)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		const char *curve = item_str(it, 0), *p = item_str(it, 1);
		OlmSession *s;
		if (!fits(curve, HB_MX_KEY_LEN) || !p || !(s = unpickle_session(cr, p)))
			continue;
		if (!hb_mx_crypto_peer_add(cr, curve, s)) {
			hb_mx_olm_session_free(s);
			continue;
		}
		/* a time missing or damaged counts as now: pruned only
		 * after it went unused for the whole period from here */
		double used = item_num(it, 2);
		struct olm_peer *peer = &cr->peers[cr->n_peers - 1];
		peer->used_ms = used >= 0 ? (long long)used : now;
		/* the pickle it was read from is its pickle (NULL without
		 * memory: made at the save) */
		peer->pickle = strdup(p);
	}
}

static void load_inbound(struct hb_mx_crypto *cr, const cJSON *arr,
		long long now)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		const char *room = item_str(it, 0), *sender = item_str(it, 1);
		const char *skey = item_str(it, 2), *sid = item_str(it, 3);
		const char *p = item_str(it, 4);
		OlmInboundGroupSession *s;
		if (!fits(room, HB_MX_HASH_HEX) || !fits(sender, HB_MX_HASH_HEX) ||
				!fits(skey, HB_MX_KEY_LEN) || !fits(sid, HB_MX_KEY_LEN) || !p)
			continue;
		struct inbound *in = hb_grow(cr->inbound, cr->n_inbound, sizeof(*in));
		if (!in || !(s = unpickle_inbound(cr, p))) {
			if (in)
				cr->inbound = in;
			continue;
		}
		cr->inbound = in;
		in = &in[cr->n_inbound++];
		/* when it was last used; files saved before pruning have
		 * none: now, so their sessions get the full period */
		double used = item_num(it, 6);
		*in = (struct inbound){ .session = s,
			.used_ms = used >= 0 ? (long long)used : now,
			.pickle = strdup(p) };
		snprintf(in->room, sizeof(in->room), "%s", room);
		snprintf(in->sender, sizeof(in->sender), "%s", sender);
		snprintf(in->sender_key, sizeof(in->sender_key), "%s", skey);
		snprintf(in->session_id, sizeof(in->session_id), "%s", sid);
		/* [index, event id hashed]; absent in files saved before
		 * replays were recognised */
		const cJSON *h;
		cJSON_ArrayForEach(h, cJSON_GetArrayItem(it, 5)) {
			double index = item_num(h, 0);
			const char *event = item_str(h, 1);
			if (index < 0 || index > UINT32_MAX || !fits(event, HB_MX_HASH_HEX))
				continue;
			if (!hb_mx_inbound_seen_add(in, (uint32_t)index, event))
				break;
		}
	}
}

static void load_outbound(struct hb_mx_crypto *cr, const cJSON *arr)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		const char *room = item_str(it, 0), *p = item_str(it, 1);
		OlmOutboundGroupSession *s;
		if (!fits(room, HB_MX_HASH_HEX) || !p)
			continue;
		struct outbound *o = hb_grow(cr->outbound, cr->n_outbound, sizeof(*o));
		if (!o || !(s = unpickle_outbound(cr, p))) {
			if (o)
				cr->outbound = o;
			continue;
		}
		cr->outbound = o;
		o = &o[cr->n_outbound++];
		*o = (struct outbound){ .session = s,
			.created_ms = (long long)item_num(it, 2),
			.msgs = item_long(it, 3), .pickle = strdup(p) };
		snprintf(o->room, sizeof(o->room), "%s", room);
		const cJSON *h;
		cJSON_ArrayForEach(h, cJSON_GetArrayItem(it, 4)) {
			if (!cJSON_IsString(h) || !fits(h->valuestring, HB_MX_HASH_HEX))
				continue;
			void *grown = hb_grow(o->shared, o->n_shared, sizeof(*o->shared));
			if (!grown)
				break;
			o->shared = grown;
			snprintf(o->shared[o->n_shared++], HB_MX_HASH_HEX, "%s",
				h->valuestring);
		}
	}
}

static void load_rooms(struct hb_mx_crypto *cr, const cJSON *arr)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		const char *room = item_str(it, 0);
		if (!fits(room, HB_MX_HASH_HEX))
			continue;
		struct e2e_room *r = hb_grow(cr->rooms, cr->n_rooms, sizeof(*r));
		if (!r)
			continue;
		cr->rooms = r;
		r = &r[cr->n_rooms++];
		/* device lists may have changed while the bot was away */
		*r = (struct e2e_room){ .rotation_ms = (long long)item_num(it, 1),
			.rotation_msgs = item_long(it, 2), .dirty = true };
		snprintf(r->room, sizeof(r->room), "%s", room);
	}
}

static void load_pending(struct hb_mx_crypto *cr, const cJSON *arr)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		const char *room = item_str(it, 0), *ev = item_str(it, 1);
		const char *id = item_str(it, 2);
		if (!room || !ev || !id)
			continue;
		struct pending *p = hb_grow(cr->pending, cr->n_pending, sizeof(*p));
		if (!p)
			continue;
		cr->pending = p;
		p = &p[cr->n_pending];
		*p = (struct pending){ .room_id = strdup(room), .event = strdup(ev),
			.event_id = strdup(id), .since_ms = (long long)item_num(it, 3) };
		if (!p->room_id || !p->event || !p->event_id) {
			free(p->room_id);
			free(p->event);
			free(p->event_id);
			continue;
		}
		cr->n_pending++;
	}
}

bool hb_mx_crypto_load(struct hb_mx_crypto *cr)
{
	FILE *f = fopen(cr->path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return true;
		fprintf(stderr, "healthbot: matrix: cannot read %s: %s\n", cr->path,
			strerror(errno));
		return false;
	}
	/* a buffer of the file's size, not of the limit: 64 MiB on every
	 * load made each one cost milliseconds under ASan and valgrind */
	struct stat st;
	size_t cap = fstat(fileno(f), &st) == 0 && st.st_size >= 0 &&
		st.st_size < MAX_FILE_BYTES ? (size_t)st.st_size + 1 : MAX_FILE_BYTES;
	char *data = malloc(cap);
	size_t n = data ? fread(data, 1, cap, f) : 0;
	fclose(f);
	cJSON *root = data ? hb_json_parse(data, n, NULL) : NULL;
	free(data);
	const char *account = str_of(root, "account");
	const char *device = str_of(root, "device_id");
	const char *pickle = str_of(root, "olm_account");
	bool ok = true;
	if (!account || !device || !pickle) {
		/* unlike the sync state, these keys cannot be made again: a
		 * damaged file stops the bot rather than lose them quietly */
		fprintf(stderr, "healthbot: matrix: %s is damaged; move it away to "
			"start with new encryption keys\n", cr->path);
		ok = false;
	} else if (strcmp(account, cr->account_hash) != 0) {
		hb_log(HB_LOG_WARN, "matrix_e2e", "warning=\"encryption state "
			"belongs to another account: new keys\"");
	} else if ((ok = hb_mx_crypto_load_account(cr, pickle) &&
			(cr->device_id = strdup(device)) != NULL)) {
		cr->device_keys_uploaded = cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(root, "uploaded"));
		long long now = hb_mx_crypto_now_ms();
		load_peers(cr, cJSON_GetObjectItemCaseSensitive(root, "peers"), now);
		load_inbound(cr, cJSON_GetObjectItemCaseSensitive(root, "inbound"),
			now);
		load_outbound(cr, cJSON_GetObjectItemCaseSensitive(root, "outbound"));
		load_rooms(cr, cJSON_GetObjectItemCaseSensitive(root, "rooms"));
		load_pending(cr, cJSON_GetObjectItemCaseSensitive(root, "pending"));
		/* the held events are in: what they need is kept */
		hb_mx_crypto_prune(cr, now);
		hb_log(HB_LOG_INFO, "matrix_e2e_state", "peers=%zu inbound=%zu "
			"outbound=%zu rooms=%zu held=%zu", cr->n_peers, cr->n_inbound,
			cr->n_outbound, cr->n_rooms, cr->n_pending);
	}
	cJSON_Delete(root);
	return ok;
}

/* ---- writing ---- */

static bool add_str(cJSON *arr, const char *s)
{
	cJSON *v = cJSON_CreateString(s);
	return v && cJSON_AddItemToArray(arr, v);
}

static bool add_num(cJSON *arr, double d)
{
	cJSON *v = cJSON_CreateNumber(d);
	return v && cJSON_AddItemToArray(arr, v);
}

/* Adds a session's pickle to arr: the one kept from the last save
 * (crypto_internal.h) or, when it changed since, a new one, kept in its
 * place. False when it cannot be made. */
#define ADD_PICKLE(arr, cr, NAME, entry) \
	((entry)->pickle || ((entry)->pickle = pickle_##NAME((cr), \
		(entry)->session))) && add_str((arr), (entry)->pickle)

/* An inbound session's entry, printed into in->json. */
static bool inbound_json(struct hb_mx_crypto *cr, struct inbound *in)
{
	hb_mx_cache_drop(&in->json);
	cJSON *a = cJSON_CreateArray();
	bool ok = a && add_str(a, in->room) && add_str(a, in->sender) &&
		add_str(a, in->sender_key) && add_str(a, in->session_id) &&
		ADD_PICKLE(a, cr, inbound, in);
	cJSON *seen = ok ? cJSON_CreateArray() : NULL;
	ok = seen && cJSON_AddItemToArray(a, seen);
	for (size_t k = 0; ok && k < in->n_seen; k++) {
		cJSON *e = cJSON_CreateArray();
		ok = e && cJSON_AddItemToArray(seen, e) &&
			add_num(e, (double)in->seen[k].index) &&
			add_str(e, in->seen[k].event);
	}
	/* last: files without it still load (as used now) */
	ok = ok && add_num(a, (double)in->used_ms);
	if (ok)
		in->json = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return in->json != NULL;
}

static char *serialize(struct hb_mx_crypto *cr)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *peers = cJSON_AddArrayToObject(root, "peers");
	cJSON *inbound = cJSON_AddArrayToObject(root, "inbound");
	cJSON *outbound = cJSON_AddArrayToObject(root, "outbound");
	cJSON *rooms = cJSON_AddArrayToObject(root, "rooms");
	cJSON *pending = cJSON_AddArrayToObject(root, "pending");
	char *out = NULL;
	bool ok = peers && inbound && outbound && rooms && pending &&
		cJSON_AddNumberToObject(root, "version", 1) &&
		cJSON_AddStringToObject(root, "account", cr->account_hash) &&
		cJSON_AddStringToObject(root, "device_id", cr->device_id) &&
		cJSON_AddBoolToObject(root, "uploaded", cr->device_keys_uploaded);
	char *acc = ok ? hb_mx_crypto_pickle_account(cr) : NULL;
	ok = acc && cJSON_AddStringToObject(root, "olm_account", acc);
	free(acc);
	for (size_t i = 0; ok && i < cr->n_peers; i++) {
		struct olm_peer *p = &cr->peers[i];
		cJSON *a = cJSON_CreateArray();
		ok = a && cJSON_AddItemToArray(peers, a) && add_str(a, p->curve) &&
			ADD_PICKLE(a, cr, session, p) && add_num(a, (double)p->used_ms);
	}
	for (size_t i = 0; ok && i < cr->n_inbound; i++) {
		struct inbound *in = &cr->inbound[i];
		ok = (in->json && in->pickle) || inbound_json(cr, in);
		cJSON *raw = ok ? cJSON_CreateRaw(in->json) : NULL;
		ok = raw && cJSON_AddItemToArray(inbound, raw);
	}
	for (size_t i = 0; ok && i < cr->n_outbound; i++) {
		struct outbound *o = &cr->outbound[i];
		cJSON *a = cJSON_CreateArray();
		ok = a && cJSON_AddItemToArray(outbound, a) && add_str(a, o->room) &&
			ADD_PICKLE(a, cr, outbound, o) &&
			add_num(a, (double)o->created_ms) && add_num(a, (double)o->msgs);
		cJSON *shared = ok ? cJSON_CreateArray() : NULL;
		ok = shared && cJSON_AddItemToArray(a, shared);
		for (size_t k = 0; ok && k < o->n_shared; k++)
			ok = add_str(shared, o->shared[k]);
	}
	for (size_t i = 0; ok && i < cr->n_rooms; i++) {
		cJSON *a = cJSON_CreateArray();
		ok = a && cJSON_AddItemToArray(rooms, a) &&
			add_str(a, cr->rooms[i].room) &&
			add_num(a, (double)cr->rooms[i].rotation_ms) &&
			add_num(a, (double)cr->rooms[i].rotation_msgs);
	}
	for (size_t i = 0; ok && i < cr->n_pending; i++) {
		const struct pending *p = &cr->pending[i];
		cJSON *a = cJSON_CreateArray();
		ok = a && cJSON_AddItemToArray(pending, a) && add_str(a, p->room_id) &&
			add_str(a, p->event) && add_str(a, p->event_id) &&
			add_num(a, (double)p->since_ms);
	}
	if (ok)
		out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

bool hb_mx_crypto_save(struct hb_mx_crypto *cr)
{
	if (!cr->account || !cr->device_id)
		return true; /* nothing made yet */
	long long now = hb_mx_crypto_now_ms();
	if (now - cr->pruned_ms >= PRUNE_EVERY_MS || now < cr->pruned_ms)
		hb_mx_crypto_prune(cr, now);
	char *json = serialize(cr);
	const char *step = "serialize";
	bool ok = json && hb_mx_write_atomic(cr->path, cr->tmp_path, cr->dir,
		json, &step);
	if (!ok)
		hb_log(HB_LOG_ERROR, "matrix_e2e_state", "error=\"cannot save the "
			"encryption state\" step=%s errno=%d",
			step, errno);
	else
		cr->seen_unsaved = false;
	if (json) {
		/* pickles are encrypted, but no copy need linger beyond
		 * the sessions' own */
		memset(json, 0, strlen(json));
		free(json);
	}
	return ok;
}

bool hb_mx_crypto_save_read(struct hb_mx_crypto *cr)
{
	return !cr->seen_unsaved || hb_mx_crypto_save(cr);
}

/* ---- pruning ---- */

/* the session a held event is encrypted with, as decrypting looks for
 * it: room (hashed), sender key, session id */
struct wanted {
	char room[HB_MX_HASH_HEX];
	const char *sender_key, *session_id;
};

static bool held_needs(const struct wanted *w, size_t n,
		const struct inbound *in)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(w[i].room, in->room) == 0 &&
				strcmp(w[i].sender_key, in->sender_key) == 0 &&
				strcmp(w[i].session_id, in->session_id) == 0)
			return true;
	}
	return false;
}

static size_t prune_inbound(struct hb_mx_crypto *cr, long long now)
{
	/* the held events, parsed once: there are few (they time out) */
	cJSON **evs = cr->n_pending ? calloc(cr->n_pending, sizeof(*evs)) : NULL;
	struct wanted *w = cr->n_pending ? calloc(cr->n_pending, sizeof(*w)) :
		NULL;
	size_t n_w = 0, kept = 0, dropped = 0;
	if (cr->n_pending && (!evs || !w)) {
		/* out of memory: keep everything rather than guess */
		free(evs);
		free(w);
		return 0;
	}
	for (size_t i = 0; i < cr->n_pending; i++) {
		const struct pending *p = &cr->pending[i];
		evs[i] = hb_json_parse(p->event, strlen(p->event), NULL);
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(evs[i],
			"content");
		const char *skey = str_of(content, "sender_key");
		const char *sid = str_of(content, "session_id");
		if (!skey || !sid)
			continue;
		hb_mx_hash(w[n_w].room, p->room_id, NULL, NULL);
		w[n_w].sender_key = skey;
		w[n_w].session_id = sid;
		n_w++;
	}
	for (size_t i = 0; i < cr->n_inbound; i++) {
		struct inbound *in = &cr->inbound[i];
		if (now - in->used_ms >= INBOUND_UNUSED_MS &&
				!held_needs(w, n_w, in)) {
			hb_mx_inbound_clear(in);
			dropped++;
			continue;
		}
		cr->inbound[kept++] = *in;
	}
	cr->n_inbound = kept;
	for (size_t i = 0; i < cr->n_pending; i++)
		cJSON_Delete(evs[i]);
	free(evs);
	free(w);
	return dropped;
}

/* whether another session with the same device was used later */
static bool newer_peer(const struct hb_mx_crypto *cr, size_t i)
{
	const struct olm_peer *p = &cr->peers[i];
	for (size_t k = 0; k < cr->n_peers; k++) {
		const struct olm_peer *q = &cr->peers[k];
		/* equal times: the later entry counts as newer, so one of
		 * them stays */
		if (k != i && strcmp(q->curve, p->curve) == 0 &&
				(q->used_ms > p->used_ms ||
				(q->used_ms == p->used_ms && k > i)))
			return true;
	}
	return false;
}

static size_t prune_peers(struct hb_mx_crypto *cr, long long now)
{
	size_t kept = 0, dropped = 0;
	for (size_t i = 0; i < cr->n_peers; i++) {
		long long idle = now - cr->peers[i].used_ms;
		/* the search for a newer session only for the few that are
		 * old enough to go */
		bool drop = idle >= PEER_NEWEST_UNUSED_MS ||
			(idle >= PEER_UNUSED_MS && newer_peer(cr, i));
		if (drop) {
			hb_mx_olm_session_free(cr->peers[i].session);
			free(cr->peers[i].pickle);
			dropped++;
			continue;
		}
		cr->peers[kept++] = cr->peers[i];
	}
	cr->n_peers = kept;
	return dropped;
}

static size_t prune_outbound(struct hb_mx_crypto *cr, long long now)
{
	char sharing[HB_MX_HASH_HEX] = "";
	size_t kept = 0, dropped = 0;
	if (cr->share.room_id)
		hb_mx_hash(sharing, cr->share.room_id, NULL, NULL);
	for (size_t i = 0; i < cr->n_outbound; i++) {
		struct outbound *o = &cr->outbound[i];
		const struct e2e_room *r = NULL;
		for (size_t k = 0; k < cr->n_rooms && !r; k++) {
			if (strcmp(cr->rooms[k].room, o->room) == 0)
				r = &cr->rooms[k];
		}
		/* without its room's settings it is not known to be past
		 * them: kept (there is one per room at most) */
		if (r && o->session && strcmp(o->room, sharing) != 0 &&
				hb_mx_outbound_expired(o, r, now)) {
			hb_mx_outbound_clear(o);
			dropped++;
			continue;
		}
		cr->outbound[kept++] = *o;
	}
	cr->n_outbound = kept;
	return dropped;
}

void hb_mx_crypto_prune(struct hb_mx_crypto *cr, long long now)
{
	cr->pruned_ms = now;
	size_t inbound = prune_inbound(cr, now);
	size_t peers = prune_peers(cr, now);
	size_t outbound = prune_outbound(cr, now);
	if (inbound || peers || outbound)
		hb_log(HB_LOG_INFO, "matrix_e2e_prune", "inbound=%zu peers=%zu "
			"outbound=%zu left_inbound=%zu left_peers=%zu", inbound, peers,
			outbound, cr->n_inbound, cr->n_peers);
}

void hb_mx_crypto_reset(struct hb_mx_crypto *cr)
{
	for (size_t i = 0; i < cr->n_peers; i++) {
		hb_mx_olm_session_free(cr->peers[i].session);
		free(cr->peers[i].pickle);
	}
	free(cr->peers);
	cr->peers = NULL;
	cr->n_peers = 0;
	for (size_t i = 0; i < cr->n_inbound; i++)
		hb_mx_inbound_clear(&cr->inbound[i]);
	free(cr->inbound);
	cr->inbound = NULL;
	cr->n_inbound = 0;
	for (size_t i = 0; i < cr->n_outbound; i++)
		hb_mx_outbound_clear(&cr->outbound[i]);
	free(cr->outbound);
	cr->outbound = NULL;
	cr->n_outbound = 0;
	free(cr->rooms);
	cr->rooms = NULL;
	cr->n_rooms = 0;
	for (size_t i = 0; i < cr->n_devices; i++) {
		free(cr->devices[i].user_id);
		free(cr->devices[i].device_id);
	}
	free(cr->devices);
	cr->devices = NULL;
	cr->n_devices = 0;
	for (size_t i = 0; i < cr->n_users; i++)
		free(cr->users[i].user_id);
	free(cr->users);
	cr->users = NULL;
	cr->n_users = 0;
	for (size_t i = 0; i < cr->n_pending; i++) {
		free(cr->pending[i].room_id);
		free(cr->pending[i].event);
		free(cr->pending[i].event_id);
	}
	free(cr->pending);
	cr->pending = NULL;
	cr->n_pending = 0;
	free(cr->share.room_id);
	for (size_t i = 0; i < cr->share.n_members; i++)
		free(cr->share.members[i]);
	free(cr->share.members);
	free(cr->share.send_path);
	free(cr->share.send_body);
	memset(&cr->share, 0, sizeof(cr->share));
}
