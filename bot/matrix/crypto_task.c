/*
 * The requests of end-to-end encryption (crypto.h): for now the plain
 * notice an encrypted room gets when the bot does not decrypt.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "buf.h"
#include "client.h"
#include "crypto.h"
#include "healthbot.h"
#include "log.h"
#include "store.h"
#include "util.h"

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
