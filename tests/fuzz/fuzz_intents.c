/*
 * libFuzzer target for the intents loader (intents, red flags, small
 * talk, lexicon, vocabulary, reply wording; their patterns and the
 * literal prefilter built from them): the input is the only .json file of
 * an intents directory, loaded with the shipped content. Load errors must
 * say why; a library that loads must answer a few messages within the
 * invariants of tests/common/check.c, and its prefilter must agree with
 * running every pattern.
 *   build-fuzz/tests/fuzz/fuzz_intents -max_total_time=60 tests/fuzz/corpus/intents
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "healthbot.h"

static char *intents_dir;

static const char *const messages[] = {
	"hello",
	"what causes night leg cramps?",
	"could my fluid tablets be the reason?",
	"my chest hurts and I can't breathe",
	"I want to kill myself",
	"what helps in the moment?",
	"do you know about gout",
	"",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	intents_dir = hb_fuzz_subdir("intents");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hb_error err;
	hb_fuzz_write(intents_dir, "fz.json", data, size);
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = intents_dir,
		.emergency_number = "5550911",
		.crisis_number = "5550988",
		/* compiling is the loader's work; JIT would only multiply it */
		.no_jit = true,
	};
	struct hb_engine *e = hb_engine_create(&o, &err);
	if (!e) {
		if (!err.message[0])
			hb_fuzz_fail("load failed without saying why");
		return 0;
	}
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		struct hb_reply r;
		size_t len = strlen(messages[i]);
		if (!hb_engine_reply_ex(e, NULL, NULL, messages[i], len, 0,
				HB_REPLY_EXPLAIN, &r))
			hb_fuzz_fail("reply failed");
		hb_fuzz_check_reply(&r, "5550911", "5550988");
		hb_reply_finish(&r);
		hb_fuzz_check_prefilter(e, messages[i], len);
	}
	hb_engine_destroy(e);
	return 0;
}
