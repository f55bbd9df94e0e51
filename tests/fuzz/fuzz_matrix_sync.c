/*
 * libFuzzer target for the Matrix channel's handling of /sync answers: the
 * input is the body of a homeserver's answer to GET /sync, handed to the
 * channel's own sync callback (bot/matrix/sync.c, with its event reading,
 * invite rules and state store), exactly as the HTTP client would.
 *
 * The network half of the channel (client.c's request chain, task.c's
 * sending) is replaced by stubs at the bottom of this file: the stub for
 * the task runner takes the batch the sync callback built, answers every
 * message the way task.c composes a reply (staff command or engine, then
 * the reply event's JSON) and checks the result. Not reached from here:
 * the HTTP client itself (http.c), retries and backoff, task.c's
 * exactly-once bookkeeping and sending.
 *   build-fuzz/tests/fuzz/fuzz_matrix_sync -max_total_time=60 tests/fuzz/corpus/matrix-sync
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "client.h"
#include "command.h"
#include "fuzz_util.h"
#include "healthbot.h"
#include "log.h"
#include "sendq.h"
#include "store.h"
#include "util.h"

#define USER_ID "@healthbot:localhost"

static struct hb_engine *engine;
static struct hb_conversations *convs;
static struct hb_app app; /* no loop, config or metrics: nothing counted */
static struct hb_mx_client client;
static char *state_dir;
static hb_mx_http_fn sync_fn; /* sync.c's answer callback, caught by the stub */

static char *allowed[] = { "@staff:localhost", "*:trusted.example" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hb_error err;
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
		.emergency_number = "5550911",
		.crisis_number = "5550988",
	};
	hb_log_init(HB_LOG_ERROR);
	engine = hb_engine_create(&o, &err);
	convs = hb_conversations_create(64, 3600);
	if (!engine || !convs)
		hb_fuzz_fail("load failed: %s: %s", err.file, err.message);
	app.engine = engine;
	client.app = &app;
	state_dir = hb_fuzz_subdir("matrix-state");
	client.cfg = (struct hb_mx_config){
		.user_id = USER_ID,
		.command_prefix = "!health",
		.state_dir = state_dir,
		.allowed_inviters = allowed,
		.n_allowed_inviters = 2,
		.decline_invites = true,
	};
	client.filter_id = "fuzzfilter";
	client.me = (struct hb_mx_identity){
		.user_id = USER_ID,
		.display_name = "Health Bot",
		.prefix = "!health",
	};
	client.convs = convs;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the HTTP client hands over a NUL-terminated copy of the body */
	char *body = malloc(size + 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	/* a fresh store each time: room counts must not pile up across
	 * inputs, and the input decides whether this is the first sync
	 * (history only) or a later one (new messages) */
	client.store = hb_mx_store_open(state_dir, USER_ID);
	if (!client.store)
		hb_fuzz_fail("cannot open the state store");
	if (size % 4 != 0)
		hb_mx_store_set_since(client.store, "s0_fuzz");
	hb_mx_sync_next(&client); /* asks for /sync: the stub keeps on_sync */
	if (!sync_fn)
		hb_fuzz_fail("sync.c did not ask for /sync");
	struct hb_mx_response res = {
		.status = 200, .body = body, .len = size, .retry_after_ms = -1,
	};
	sync_fn(&client, &res);
	if (client.fatal)
		hb_fuzz_fail("the channel gave up on a sync answer");
	hb_mx_sync_clear_batch(&client);
	hb_mx_store_destroy(client.store);
	client.store = NULL;
	free(body);
	return 0;
}

/* What task.c does with an answer task, minus the network. */
static void answer(const struct hb_mx_task *t)
{
	struct hb_reply r;
	const char *command = NULL;
	if (!t->event_id || !t->sender || !t->text)
		hb_fuzz_fail("a message task without event id, sender or text");
	if (!(t->prefixed && hb_mx_command_run(engine, client.cfg.command_prefix,
			t->text, &r, &command))) {
		char conv[HB_MX_HASH_HEX];
		hb_mx_hash(conv, t->room_id, t->thread_root, t->sender);
		if (!hb_engine_reply(engine, convs, conv, t->text, strlen(t->text), 1, &r))
			hb_fuzz_fail("engine failed");
		hb_fuzz_check_reply(&r, "5550911", "5550988");
	}
	bool urgent = r.kind == HB_REPLY_ESCALATION;
	char *json = hb_mx_event_reply_json(r.text, r.html, urgent, t->event_id,
		t->thread_root, t->sender);
	cJSON *ev = json ? cJSON_Parse(json) : NULL;
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(ev, "body");
	if (!cJSON_IsString(b) || strcmp(b->valuestring, r.text) != 0)
		hb_fuzz_fail("reply event does not carry the reply text");
	cJSON_Delete(ev);
	free(json);
	hb_reply_finish(&r);
}

/* ---- stubs for client.c and task.c ---------------------------------- */

void hb_mx_client_call(struct hb_mx_client *c, const char *kind,
		const char *method, const char *path, const char *body,
		int timeout_s, hb_mx_http_fn fn)
{
	if (strcmp(kind, "sync") == 0)
		sync_fn = fn;
}

void hb_mx_client_fire(struct hb_mx_client *c, const char *kind,
		const char *method, const char *path, const char *body)
{
}

enum hb_mx_outcome hb_mx_client_judge(struct hb_mx_client *c,
		const char *kind, const struct hb_mx_response *res, long *delay_ms)
{
	*delay_ms = 0;
	return HB_MX_OK;
}

void hb_mx_client_later(struct hb_mx_client *c, long delay_ms,
		void (*fn)(struct hb_mx_client *c))
{
}

void hb_mx_client_fatal(struct hb_mx_client *c, const char *why)
{
	c->fatal = true;
}

void hb_mx_task_run(struct hb_mx_client *c)
{
	for (size_t i = 0; i < c->n_tasks; i++) {
		const struct hb_mx_task *t = &c->tasks[i];
		if (!t->room_id)
			hb_fuzz_fail("a task without a room");
		if (t->kind == HB_MX_TASK_ANSWER)
			answer(t);
		else if (t->kind != HB_MX_TASK_JOIN && t->kind != HB_MX_TASK_DECLINE)
			hb_fuzz_fail("task kind %d", (int)t->kind);
	}
}

void hb_mx_task_finish(struct hb_mx_task *t)
{
	free(t->room_id);
	free(t->event_id);
	free(t->sender);
	free(t->thread_root);
	free(t->text);
	free(t->target);
	*t = (struct hb_mx_task){0};
}

/* ---- stubs for sendq.c: no replies are sent ---------------------------- */

bool hb_mx_sendq_close_batch(struct hb_mx_sendq *q, const char *next_batch)
{
	return true;
}

size_t hb_mx_sendq_pending(const struct hb_mx_sendq *q)
{
	return 0;
}
