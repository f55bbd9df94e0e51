/*
 * libFuzzer target for message classification and reply composition on
 * the shipped library and intents: the input bytes are one chat message,
 * exactly as a channel would pass them (any bytes, any length).
 *
 * Each message is answered statelessly with --explain's candidate
 * collection, then inside a conversation that already has a topic; every
 * reply must keep the invariants of tests/common/check.c (valid kind,
 * text and html, no markup from the message, the emergency number in
 * every escalation). The prefilter is checked against running every
 * pattern.
 *   build-fuzz/tests/fuzz/fuzz_reply -max_total_time=60 tests/fuzz/corpus/reply
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "healthbot.h"

#define EMERGENCY "5550911"
#define CRISIS "5550988"

static struct hb_engine *engine;
static struct hb_conversations *convs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hb_error err;
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
		/* numbers of our own, so the check cannot pass on a "911"
		 * that happens to be in the message or an article */
		.emergency_number = EMERGENCY,
		.crisis_number = CRISIS,
	};
	engine = hb_engine_create(&o, &err);
	if (!engine)
		hb_fuzz_fail("load failed: %s:%d: %s", err.file, err.line, err.message);
	convs = hb_conversations_create(4, 3600);
	if (!convs)
		hb_fuzz_fail("out of memory");
	return 0;
}

static void ask(const char *conv_id, const char *msg, size_t len,
		unsigned flags)
{
	struct hb_reply r;
	if (!hb_engine_reply_ex(engine, conv_id ? convs : NULL, conv_id, msg, len,
			1, flags, &r))
		hb_fuzz_fail("reply failed: %s", r.rule ? r.rule : "-");
	hb_fuzz_check_reply(&r, EMERGENCY, CRISIS);
	hb_reply_finish(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the message */
	char *msg = malloc(size ? size : 1);
	if (!msg)
		return 0;
	memcpy(msg, data, size);
	ask(NULL, msg, size, HB_REPLY_EXPLAIN);
	hb_conversations_forget(convs, "fuzz");
	ask("fuzz", "night leg cramps", strlen("night leg cramps"), 0);
	ask("fuzz", msg, size, 0);
	hb_fuzz_check_prefilter(engine, msg, size);
	free(msg);
	return 0;
}
