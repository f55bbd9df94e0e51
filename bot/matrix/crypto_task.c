/*
 * The requests of end-to-end encryption (crypto.h): uploading keys,
 * sharing a room's Megolm session with its members' devices, and the
 * plain notice an encrypted room gets when the bot does not decrypt.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "buf.h"
#include "client.h"
#include "crypto.h"
#include "crypto_internal.h"
#include "healthbot.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "store.h"
#include "util.h"

/* ---- key upload ---- */

static void upload(struct hb_mx_client *c);

static void on_upload(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	struct hb_mx_crypto *cr = c->crypto;
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "keys_upload", res, &delay);
	if (o == HB_MX_RETRY) {
		hb_mx_client_later(c, delay, upload);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	void (*then)(struct hb_mx_client *) = cr->upload_then;
	if (o == HB_MX_OK) {
		hb_mx_crypto_uploaded(cr, res->body, res->len);
		/* the first answer told the count: the keys follow */
		if (hb_mx_crypto_upload_due(cr)) {
			upload(c);
			return;
		}
	} else {
		/* refused: nobody can start a session with the bot until it
		 * is fixed, but what it can read it still answers */
		hb_log(HB_LOG_WARN, "matrix_e2e_keys", "warning=\"key upload "
			"refused\" status=%d", res->status);
		cr->otk_count = 0x7fffffff; /* no retry in a loop */
	}
	cr->upload_then = NULL;
	then(c);
}

static void upload(struct hb_mx_client *c)
{
	struct hb_mx_crypto *cr = c->crypto;
	char *body = hb_mx_crypto_upload_body(cr);
	if (!body) {
		void (*then)(struct hb_mx_client *) = cr->upload_then;
		cr->upload_then = NULL;
		then(c);
		return;
	}
	hb_mx_client_call(c, "keys_upload", "POST", "/_matrix/client/v3/keys/upload",
		body, 0, on_upload);
	free(body);
}

void hb_mx_crypto_upload(struct hb_mx_client *c,
		void (*then)(struct hb_mx_client *c))
{
	c->crypto->upload_then = then;
	upload(c);
}

/* ---- sharing a room's session ---- */

enum share_step { SHARE_MEMBERS, SHARE_QUERY, SHARE_CLAIM, SHARE_SEND };

static void share_step(struct hb_mx_client *c);

static void share_clear(struct hb_mx_crypto *cr)
{
	for (size_t i = 0; i < cr->share.n_members; i++)
		free(cr->share.members[i]);
	free(cr->share.members);
	cr->share.members = NULL;
	cr->share.n_members = 0;
	cr->share.step = SHARE_MEMBERS;
	free(cr->share.send_path);
	if (cr->share.send_body) {
		memset(cr->share.send_body, 0, strlen(cr->share.send_body));
		free(cr->share.send_body);
	}
	cr->share.send_path = cr->share.send_body = NULL;
}

/* The share is over: the task runs again, and encrypts or gives up. */
static void share_done(struct hb_mx_client *c, bool ok, const char *why)
{
	struct hb_mx_crypto *cr = c->crypto;
	share_clear(cr);
	cr->share.done = true;
	if (!ok) {
		cr->share.failed = true;
		hb_log(HB_LOG_WARN, "matrix_e2e_share", "ok=no reason=%s", why);
		/* the next message starts over with a new session */
		struct e2e_room *r = hb_mx_crypto_room(cr, cr->share.room_id, true);
		if (r)
			r->rotate = true;
	}
	hb_mx_task_run(c);
}

static void on_share(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	struct hb_mx_crypto *cr = c->crypto;
	static const char *const kinds[] = { "members", "keys_query",
		"keys_claim", "to_device" };
	const char *kind = kinds[cr->share.step];
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, kind, res, &delay);
	if (o == HB_MX_RETRY) {
		hb_mx_client_later(c, delay, share_step);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	if (o != HB_MX_OK) {
		share_done(c, false, kind);
		return;
	}
	cJSON *root = hb_json_parse(res->body, res->len, NULL);
	bool ok = root != NULL;
	switch (cr->share.step) {
	case SHARE_MEMBERS: {
		const cJSON *m;
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "joined")) {
			if (!m->string || !ok)
				continue;
			char **grown = realloc(cr->share.members,
				(cr->share.n_members + 1) * sizeof(*grown));
			char *id = strdup(m->string);
			if (grown)
				cr->share.members = grown;
			if (!grown || !id) {
				free(id);
				ok = false;
				continue;
			}
			cr->share.members[cr->share.n_members++] = id;
		}
		break;
	}
	case SHARE_QUERY: {
		/* the users asked are those still due */
		char **asked = malloc((cr->share.n_members + 1) * sizeof(*asked));
		size_t n = 0;
		for (size_t i = 0; asked && i < cr->share.n_members; i++) {
			if (hb_mx_crypto_query_due(cr, cr->share.members[i]))
				asked[n++] = cr->share.members[i];
		}
		if (asked)
			hb_mx_crypto_read_query(cr, root, asked, n);
		ok = asked != NULL;
		free(asked);
		break;
	}
	case SHARE_CLAIM:
		hb_mx_crypto_read_claim(cr, root);
		/* new Olm sessions: kept before anything is sent with them */
		ok = hb_mx_crypto_save(cr);
		break;
	case SHARE_SEND:
		break;
	}
	cJSON_Delete(root);
	if (!ok) {
		share_done(c, false, "bad-answer");
		return;
	}
	if (cr->share.step == SHARE_SEND) {
		share_done(c, true, NULL);
		return;
	}
	cr->share.step++;
	share_step(c);
}

static char *query_body(struct hb_mx_crypto *cr)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *dk = cJSON_AddObjectToObject(root, "device_keys");
	size_t n = 0;
	char *out = NULL;
	for (size_t i = 0; dk && i < cr->share.n_members; i++) {
		if (hb_mx_crypto_query_due(cr, cr->share.members[i]) &&
				cJSON_AddArrayToObject(dk, cr->share.members[i]))
			n++;
	}
	if (n && cJSON_AddNumberToObject(root, "timeout", 10000))
		out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static void share_step(struct hb_mx_client *c)
{
	struct hb_mx_crypto *cr = c->crypto;
	char *path = NULL, *body = NULL;
	const char *kind = NULL, *method = "POST";
	while (!kind) {
		switch (cr->share.step) {
		case SHARE_MEMBERS:
			path = hb_mx_room_path(cr->share.room_id, "joined_members",
				NULL, NULL);
			kind = "members";
			method = "GET";
			if (!path)
				goto oom;
			break;
		case SHARE_QUERY:
			if ((body = query_body(cr))) {
				kind = "keys_query";
				path = strdup("/_matrix/client/v3/keys/query");
				if (!path)
					goto oom;
			} else {
				cr->share.step++;
			}
			break;
		case SHARE_CLAIM:
			if ((body = hb_mx_crypto_claim_body(cr, cr->share.members,
					cr->share.n_members))) {
				kind = "keys_claim";
				path = strdup("/_matrix/client/v3/keys/claim");
				if (!path)
					goto oom;
			} else {
				cr->share.step++;
			}
			break;
		case SHARE_SEND: {
			size_t sent, skipped;
			if (cr->share.send_body) {
				/* a retry: the same request, the same transaction */
				kind = "to_device";
				method = "PUT";
				path = strdup(cr->share.send_path);
				body = strdup(cr->share.send_body);
				if (!path || !body)
					goto oom;
				break;
			}
			if (!hb_mx_crypto_share_body(cr, cr->share.room_id,
					cr->share.members, cr->share.n_members, &body, &sent,
					&skipped)) {
				share_done(c, false, "olm");
				return;
			}
			hb_log(HB_LOG_INFO, "matrix_e2e_share", "devices=%zu "
				"no_session=%zu", sent, skipped);
			/* the session and the devices it went to are saved before
			 * the key leaves: a crash then resends the same key */
			if (!hb_mx_crypto_save(cr)) {
				free(body);
				share_done(c, false, "save");
				return;
			}
			if (!body) {
				share_done(c, true, NULL);
				return;
			}
			struct hb_buf p;
			hb_buf_init(&p);
			hb_buf_printf(&p, "/_matrix/client/v3/sendToDevice/"
				"m.room.encrypted/hbk%s.%u", cr->share.txn_seed,
				++cr->share.txn_n);
			path = hb_buf_steal(&p);
			kind = "to_device";
			method = "PUT";
			if (!path || !(cr->share.send_path = strdup(path)) ||
					!(cr->share.send_body = strdup(body)))
				goto oom;
			break;
		}
		}
	}
	hb_mx_client_call(c, kind, method, path, body, 0, on_share);
	free(path);
	free(body);
	return;
oom:
	free(path);
	free(body);
	hb_mx_client_fatal(c, "out of memory");
}

bool hb_mx_crypto_share_run(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	struct hb_mx_crypto *cr = c->crypto;
	char *room = strdup(t->room_id);
	if (!room) {
		hb_mx_client_fatal(c, "out of memory");
		return true;
	}
	free(cr->share.room_id);
	cr->share.room_id = room;
	cr->share.failed = cr->share.done = false;
	share_clear(cr);
	if (!cr->share.txn_seed[0]) {
		/* to-device transaction ids unique to this process */
		char seed[64];
		snprintf(seed, sizeof(seed), "%lld.%ld", hb_loop_now_us(),
			(long)getpid());
		hb_mx_hash(cr->share.txn_seed, "to-device", seed, NULL);
	}
	share_step(c);
	return true;
}

enum hb_mx_share hb_mx_crypto_share_result(struct hb_mx_client *c,
		const char *room_id)
{
	struct hb_mx_crypto *cr = c->crypto;
	if (!cr->share.done || !cr->share.room_id ||
			strcmp(cr->share.room_id, room_id) != 0)
		return HB_MX_SHARE_NONE;
	/* once: the next message checks afresh (a share that cannot
	 * finish must not become a loop) */
	bool failed = cr->share.failed;
	cr->share.done = cr->share.failed = false;
	return failed ? HB_MX_SHARE_FAILED : HB_MX_SHARE_DONE;
}

/* ---- the plain notice (encryption off) ---- */

static void next(struct hb_mx_client *c)
{
	c->cur++;
	hb_mx_task_run(c);
}

static void on_notice_sent(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	const struct hb_mx_task *t = &c->tasks[c->cur];
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "send", res, &delay);
	if (o == HB_MX_RETRY) {
		/* the same transaction id: a resend is the same event */
		hb_mx_client_later(c, delay, hb_mx_task_run);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	/* a refusal (no right to post) would be refused again: told */
	hb_mx_store_set_e2e_told(c->store, t->room_id);
	hb_mx_store_save(c->store);
	hb_log(HB_LOG_INFO, "matrix_e2e_notice", "ok=%s ms=%lld",
		o == HB_MX_OK ? "yes" : "no", res->elapsed_ms);
	next(c);
}

bool hb_mx_crypto_notice_run(struct hb_mx_client *c, const struct hb_mx_task *t)
{
	if (hb_mx_store_e2e_told(c->store, t->room_id))
		return false;
	/* service wording from the intents data, in the library's locale */
	const char *text = hb_engine_wording(c->app->engine, "matrix_encrypted");
	if (!text) {
		hb_log(HB_LOG_WARN, "matrix_e2e_notice", "ok=no warning=\"the "
			"intents data has no matrix_encrypted wording\"");
		return false;
	}
	cJSON *content = cJSON_CreateObject();
	char *body = NULL;
	if (content && cJSON_AddStringToObject(content, "msgtype", "m.notice") &&
			cJSON_AddStringToObject(content, "body", text) &&
			cJSON_AddObjectToObject(content, "m.mentions"))
		body = cJSON_PrintUnformatted(content);
	cJSON_Delete(content);
	/* one notice per room, also across a crash between the send and the
	 * save: the transaction id is the room's */
	char hash[HB_MX_HASH_HEX], txn[HB_MX_HASH_HEX + 4];
	hb_mx_hash(hash, "e2e-notice", t->room_id, NULL);
	snprintf(txn, sizeof(txn), "hbe%s", hash);
	struct hb_buf p;
	hb_buf_init(&p);
	hb_buf_puts(&p, "/_matrix/client/v3/rooms/");
	hb_mx_urlencode(&p, t->room_id);
	hb_buf_printf(&p, "/send/m.room.message/%s", txn);
	if (!body || p.oom) {
		free(body);
		hb_buf_finish(&p);
		hb_mx_client_fatal(c, "out of memory");
		return true;
	}
	hb_mx_client_call(c, "send", "PUT", p.data, body, 0, on_notice_sent);
	hb_buf_finish(&p);
	free(body);
	return true;
}
