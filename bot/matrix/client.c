/* The Matrix channel: configuration, start-up checks, and the request
 * chain's retry and failure policy. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "backoff.h"
#include "channel.h"
#include "client.h"
#include "config.h"
#include "crypto.h"
#include "healthbot.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "matrix.h"
#include "metrics.h"
#include "recent.h"
#include "sendq.h"
#include "store.h"
#include "util.h"

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS (5 * 60 * 1000)
#define REQUEST_TIMEOUT_S 30
#define MAX_CONVERSATIONS 4096
#define CONVERSATION_AGE_S 3600
/* exit status after a fatal error (EX_CONFIG): a service manager can be
 * told not to restart on it (RestartPreventExitStatus=78) */
#define EXIT_FATAL 78

static void whoami(struct hb_mx_client *c);

static void retry_fire(lws_sorted_usec_list_t *sul)
{
	struct hb_mx_client *c = lws_container_of(sul, struct hb_mx_client, retry_sul);
	void (*fn)(struct hb_mx_client *) = c->retry_fn;
	c->retry_fn = NULL;
	if (fn && !c->fatal)
		fn(c);
}

void hb_mx_client_later(struct hb_mx_client *c, long delay_ms,
		void (*fn)(struct hb_mx_client *c))
{
	c->retry_fn = fn;
	lws_sul_schedule(hb_loop_context(c->app->loop), 0, &c->retry_sul,
		retry_fire, (lws_usec_t)(delay_ms > 0 ? delay_ms : 0) * LWS_US_PER_MS + 1);
}

void hb_mx_client_call(struct hb_mx_client *c, const char *kind,
		const char *method, const char *path, const char *body,
		int timeout_s, hb_mx_http_fn fn)
{
	c->req = hb_mx_http_request(c->http, kind, method, path, body,
		timeout_s ? timeout_s : REQUEST_TIMEOUT_S, fn, c);
	if (!c->req)
		hb_mx_client_fatal(c, "out of memory");
}

static void fired(void *data, const struct hb_mx_response *res)
{
	/* typing notices and receipts are courtesies: a lost one is not
	 * worth a retry */
	(void)data;
	(void)res;
}

void hb_mx_client_fire(struct hb_mx_client *c, const char *kind,
		const char *method, const char *path, const char *body)
{
	if (!c->fatal)
		hb_mx_http_request(c->http, kind, method, path, body,
			REQUEST_TIMEOUT_S, fired, c);
}

void hb_mx_client_fatal(struct hb_mx_client *c, const char *why)
{
	if (c->fatal)
		return;
	c->fatal = true;
	hb_mx_http_cancel(c->req);
	c->req = NULL;
	lws_sul_cancel(&c->retry_sul);
	char q[512];
	hb_log(HB_LOG_ERROR, "matrix_fatal", "error=%s", hb_log_quote(why, q, sizeof(q)));
	fprintf(stderr, "healthbot: matrix: %s\n", why);
	hb_loop_fail(c->app->loop, EXIT_FATAL);
}

enum hb_mx_outcome hb_mx_client_judge(struct hb_mx_client *c,
		const char *kind, const struct hb_mx_response *res, long *delay_ms)
{
	*delay_ms = 0;
	if (res->status >= 200 && res->status < 300) {
		c->failures = 0;
		return HB_MX_OK;
	}
	if (res->status == 0 && res->no_such_host) {
		hb_mx_client_fatal(c, "the homeserver's host name does not exist; "
			"check matrix.homeserver in the config");
		return HB_MX_FATAL;
	}
	cJSON *err = hb_json_parse(res->body, res->len, NULL);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "errcode");
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(err, "retry_after_ms");
	/* error codes are fixed words; the error text may quote ids */
	char errcode[64];
	snprintf(errcode, sizeof(errcode), "%s", cJSON_IsString(code) &&
		strspn(code->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.abcdefghijklmnopqrstuvwxyz0123456789") ==
		strlen(code->valuestring) ? code->valuestring : "-");
	double retry_after = cJSON_IsNumber(after) ? after->valuedouble : -1;
	cJSON_Delete(err);

	enum hb_mx_outcome out;
	if (res->status == 401) {
		hb_mx_client_fatal(c, strcmp(errcode, "M_UNKNOWN_TOKEN") == 0 ?
			"the homeserver rejected the access token (401 M_UNKNOWN_TOKEN): "
			"it was revoked or is wrong; put a valid token in "
			"matrix.access_token_file and restart" :
			"the homeserver refused the access token (401); put a valid "
			"token in matrix.access_token_file and restart");
		return HB_MX_FATAL;
	}
	if (res->status == 429) {
		/* the server says how long; without a hint, back off as for
		 * any other trouble */
		long ms = retry_after >= 0 ? (long)retry_after : res->retry_after_ms;
		if (ms < 0)
			ms = hb_backoff_ms(c->failures++, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
		if (ms > BACKOFF_CAP_MS)
			ms = BACKOFF_CAP_MS;
		*delay_ms = ms + 50;
		out = HB_MX_RETRY;
	} else if (res->status == 0 || res->status >= 500 || res->status == 408) {
		*delay_ms = hb_backoff_ms(c->failures++, BACKOFF_BASE_MS,
			BACKOFF_CAP_MS);
		out = HB_MX_RETRY;
	} else {
		out = HB_MX_FAILED;
	}
	if (out == HB_MX_RETRY && res->status == 429)
		hb_log(HB_LOG_INFO, "matrix_rate_limited", "kind=%s retry_ms=%ld",
			kind, *delay_ms);
	else if (out == HB_MX_RETRY)
		hb_log(HB_LOG_WARN, "matrix_retry", "kind=%s status=%d error=\"%s\" "
			"failures=%u retry_ms=%ld", kind, res->status,
			res->error ? res->error : "server error", c->failures, *delay_ms);
	else
		hb_log(HB_LOG_WARN, "matrix_refused", "kind=%s status=%d errcode=%s",
			kind, res->status, errcode);
	return out;
}

/* ---- start-up: who am I, what is my name, my sync filter ---- */

static void filter(struct hb_mx_client *c);
static void profile(struct hb_mx_client *c);

static cJSON *parse_body(const struct hb_mx_response *res)
{
	return hb_json_parse(res->body, res->len, NULL);
}

static void on_filter(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "filter", res, &delay);
	if (o == HB_MX_RETRY) {
		hb_mx_client_later(c, delay, filter);
		return;
	}
	if (o != HB_MX_OK) {
		if (o == HB_MX_FAILED)
			hb_mx_client_fatal(c, "the homeserver refused the sync filter");
		return;
	}
	cJSON *root = parse_body(res);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "filter_id");
	if (cJSON_IsString(id))
		c->filter_id = strdup(id->valuestring);
	cJSON_Delete(root);
	if (!c->filter_id) {
		hb_mx_client_fatal(c, "the homeserver answered the filter request "
			"without a filter_id");
		return;
	}
	c->started = true;
	hb_log(HB_LOG_INFO, "matrix_ready", "display_name=%s prefix_len=%zu "
		"encryption=%s", c->display_name ? "yes" : "no",
		strlen(c->cfg.command_prefix), c->crypto ? "yes" : "no");
	/* the device keys are on the server before anyone may need them */
	if (c->crypto)
		hb_mx_crypto_upload(c, hb_mx_sync_next);
	else
		hb_mx_sync_next(c);
}

static void filter(struct hb_mx_client *c)
{
	if (c->draining)
		return;
	/* only what the bot reads: messages and memberships, member counts
	 * (lazy loading makes the server send room summaries), nothing
	 * else. Synapse caches sync answers for a while by filter id, and
	 * a first sync answered from that cache would start from an old
	 * point and replay history as new: a type nobody sends, unique to
	 * this process, makes the filter (and its cache entries) our own. */
	char body[640];
	char nonce[HB_MX_HASH_HEX];
	char seed[64];
	snprintf(seed, sizeof(seed), "%lld.%ld", hb_loop_now_us(), (long)getpid());
	hb_mx_hash(nonce, seed, c->cfg.user_id, NULL);
	snprintf(body, sizeof(body),
		"{\"presence\":{\"not_types\":[\"*\"]},"
		"\"account_data\":{\"not_types\":[\"*\"]},"
		"\"room\":{\"timeline\":{\"limit\":%ld,"
		"\"types\":[\"m.room.message\",\"m.room.member\","
		"\"m.room.encrypted\",\"m.room.encryption\"],"
		"\"not_types\":[\"org.healthbot.filter.%s\"]},"
		"\"state\":{\"lazy_load_members\":true,"
		"\"types\":[\"m.room.member\",\"m.room.encryption\"]},"
		"\"ephemeral\":{\"not_types\":[\"*\"]},"
		"\"account_data\":{\"not_types\":[\"*\"]}}}",
		c->cfg.timeline_limit, nonce);
	struct hb_buf path;
	hb_buf_init(&path);
	hb_buf_puts(&path, "/_matrix/client/v3/user/");
	hb_mx_urlencode(&path, c->cfg.user_id);
	hb_buf_puts(&path, "/filter");
	if (path.oom)
		hb_mx_client_fatal(c, "out of memory");
	else
		hb_mx_client_call(c, "filter", "POST", path.data, body, 0, on_filter);
	hb_buf_finish(&path);
}

static void on_profile(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "profile", res, &delay);
	if (o == HB_MX_RETRY) {
		hb_mx_client_later(c, delay, profile);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	if (o == HB_MX_OK) {
		cJSON *root = parse_body(res);
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "displayname");
		if (cJSON_IsString(name) && name->valuestring[0])
			c->display_name = strdup(name->valuestring);
		cJSON_Delete(root);
		c->me.display_name = c->display_name;
	}
	/* without a display name, mentions by id and prefix still work */
	filter(c);
}

static void profile(struct hb_mx_client *c)
{
	struct hb_buf path;
	if (c->draining)
		return;
	hb_buf_init(&path);
	hb_buf_puts(&path, "/_matrix/client/v3/profile/");
	hb_mx_urlencode(&path, c->cfg.user_id);
	hb_buf_puts(&path, "/displayname");
	if (path.oom)
		hb_mx_client_fatal(c, "out of memory");
	else
		hb_mx_client_call(c, "profile", "GET", path.data, NULL, 0, on_profile);
	hb_buf_finish(&path);
}

static void on_whoami(void *data, const struct hb_mx_response *res)
{
	struct hb_mx_client *c = data;
	long delay;
	c->req = NULL;
	enum hb_mx_outcome o = hb_mx_client_judge(c, "whoami", res, &delay);
	if (o == HB_MX_RETRY) {
		hb_mx_client_later(c, delay, whoami);
		return;
	}
	if (o == HB_MX_FATAL)
		return;
	cJSON *root = o == HB_MX_OK ? parse_body(res) : NULL;
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(root, "user_id");
	const cJSON *device = cJSON_GetObjectItemCaseSensitive(root, "device_id");
	char why[512];
	why[0] = '\0';
	if (!cJSON_IsString(user)) {
		snprintf(why, sizeof(why), "%s does not answer like a Matrix "
			"homeserver (HTTP %d to /_matrix/client/v3/account/whoami); "
			"check matrix.homeserver", c->cfg.homeserver, res->status);
	} else if (strcmp(user->valuestring, c->cfg.user_id) != 0) {
		snprintf(why, sizeof(why), "the access token belongs to another "
			"account than matrix.user_id");
	} else if (c->cfg.device_id && (!cJSON_IsString(device) ||
			strcmp(device->valuestring, c->cfg.device_id) != 0)) {
		/* replies are deduplicated per device: a token for another
		 * device would break the exactly-once promise after a crash */
		snprintf(why, sizeof(why), "the access token is for another device "
			"than matrix.device_id");
	}
	/* encryption keys belong to the token's device */
	if (!why[0] && c->crypto && (!cJSON_IsString(device) ||
			!hb_mx_crypto_set_device(c->crypto, device->valuestring)))
		snprintf(why, sizeof(why), "cannot set up the encryption keys for "
			"this device (see the log)");
	cJSON_Delete(root);
	if (why[0]) {
		hb_mx_client_fatal(c, why);
		return;
	}
	hb_log(HB_LOG_INFO, "matrix_login", "ms=%lld", res->elapsed_ms);
	profile(c);
}

static void whoami(struct hb_mx_client *c)
{
	if (c->draining)
		return;
	hb_mx_client_call(c, "whoami", "GET", "/_matrix/client/v3/account/whoami",
		NULL, 0, on_whoami);
}

/* ---- the channel ---- */

static bool check(const cJSON *section)
{
	struct hb_mx_config cfg;
	if (!section)
		return true;
	bool ok = hb_mx_config_parse(section, &cfg);
	hb_mx_config_finish(&cfg);
	return ok;
}

static void destroy(void *data)
{
	struct hb_mx_client *c = data;
	if (!c)
		return;
	lws_sul_cancel(&c->retry_sul);
	hb_mx_http_cancel(c->req);
	/* before the store (it may save) and the HTTP client (it cancels) */
	hb_mx_sendq_destroy(c->sendq);
	hb_mx_http_destroy(c->http);
	hb_mx_recent_destroy(c->recent);
	free(c->sync_since);
	if (!c->synced)
		c->app->starting--;
	hb_mx_sync_clear_batch(c);
	free(c->tasks);
	hb_mx_store_destroy(c->store);
	hb_mx_crypto_destroy(c->crypto);
	hb_conversations_destroy(c->convs);
	free(c->display_name);
	free(c->filter_id);
	hb_mx_config_finish(&c->cfg);
	free(c);
}

static void *create(struct hb_app *app, const cJSON *section,
		const struct hb_run_overrides *overrides)
{
	struct hb_mx_client *c = calloc(1, sizeof(*c));
	char *token = NULL;
	struct hb_mx_url url;
	const char *why = NULL;
	(void)overrides;
	if (!c)
		return NULL;
	c->app = app;
	/* not ready until the first sync (destroy() counts it back) */
	app->starting++;
	if (!hb_mx_config_parse(section, &c->cfg))
		goto fail;
	if (!hb_config_read_secret(c->cfg.access_token_file, "matrix access token",
			&token))
		goto fail;
	if (!hb_mx_url_parse(c->cfg.homeserver, &url, &why))
		goto fail;
	c->store = hb_mx_store_open(c->cfg.state_dir, c->cfg.user_id);
	if (!c->store)
		goto fail;
	/* after the store: state_dir exists and is ours (its lock) */
	if (c->cfg.encryption && !(c->crypto = hb_mx_crypto_create(&c->cfg)))
		goto fail;
	c->convs = hb_conversations_create(MAX_CONVERSATIONS, CONVERSATION_AGE_S);
	c->http = hb_mx_http_create(hb_loop_context(app->loop), &url,
		c->cfg.ca_file, token);
	c->sendq = hb_mx_sendq_create(c, (int)c->cfg.send_connections);
	c->recent = hb_mx_recent_create();
	if (hb_mx_store_since(c->store))
		c->sync_since = strdup(hb_mx_store_since(c->store));
	if (!c->convs || !c->http || !c->sendq || !c->recent ||
			(hb_mx_store_since(c->store) && !c->sync_since))
		goto fail;
	memset(token, 0, strlen(token));
	free(token);
	const char *kill_after = getenv("HEALTHBOT_MATRIX_TEST_KILL_AFTER_SEND");
	if (kill_after && *kill_after) {
		c->test_kill_after_send = strtol(kill_after, NULL, 10);
		hb_log(HB_LOG_WARN, "matrix_test_kill", "armed=%ld",
			c->test_kill_after_send);
	}
	c->me = (struct hb_mx_identity){
		.user_id = c->cfg.user_id,
		.prefix = c->cfg.command_prefix,
	};
	hb_metrics_channel(app->metrics, "matrix");
	hb_log(HB_LOG_INFO, "matrix_start", "tls=%s custom_ca=%s resume=%s",
		url.tls ? "yes" : "no", c->cfg.ca_file ? "yes" : "no",
		hb_mx_store_since(c->store) ? "yes" : "no");
	whoami(c);
	return c;
fail:
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	destroy(c);
	return NULL;
}

/*
 * A batch under way is finished (its replies sent, each remembered as it
 * goes) and its sync token saved; then no further sync. Without a batch,
 * the long-poll (or a start-up request) is dropped: it holds nothing yet.
 * Cut short by the deadline, the next start replays the batch and skips
 * what was answered, so nothing is answered twice.
 */
static void drain(void *data)
{
	struct hb_mx_client *c = data;
	c->draining = true;
	if (!c->batch_next) {
		/* a long-poll, or a sync held for the queues: nothing taken */
		c->sync_held = false;
		hb_mx_http_cancel(c->req);
		c->req = NULL;
		lws_sul_cancel(&c->retry_sul);
		c->retry_fn = NULL;
	}
	hb_log(HB_LOG_INFO, "matrix_drain", "tasks_left=%zu replies_queued=%zu",
		c->batch_next ? c->n_tasks - c->cur : 0,
		hb_mx_sendq_pending(c->sendq));
}

static bool drained(void *data, bool timed_out)
{
	struct hb_mx_client *c = data;
	bool done = c->fatal || (!c->batch_next && hb_mx_sendq_idle(c->sendq));
	if (timed_out && !done)
		hb_log(HB_LOG_WARN, "matrix_drain_left", "tasks_left=%zu "
			"replies_queued=%zu note=\"answered ones are remembered; the "
			"rest are answered after the restart\"",
			c->batch_next ? c->n_tasks - c->cur : 0,
			hb_mx_sendq_pending(c->sendq));
	return done;
}

const struct hb_channel hb_channel_matrix = {
	.name = "matrix",
	.default_enabled = false,
	.check = check,
	.create = create,
	.destroy = destroy,
	.drain = drain,
	.drained = drained,
};
