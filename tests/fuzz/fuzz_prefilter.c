/*
 * libFuzzer target for the literal prefilter (literals.c, prefilter.c):
 * the input is a pattern, a NUL byte and a message. The prefilter may only
 * hold back patterns that cannot match, so whenever PCRE2 (compiled as the
 * engine compiles intents patterns) matches the normalized message, the
 * prefilter's scan of that message must have let the pattern through.
 * This is the property `healthbot check` verifies on the utterance set and
 * test_prefilter.c on generated messages, here on arbitrary patterns.
 *   build-fuzz/tests/fuzz/fuzz_prefilter -max_total_time=60 tests/fuzz/corpus/prefilter
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz_util.h"
#include "library.h"
#include "prefilter.h"
#include "text.h"
#include "utf8.h"
#include "util.h"

/* as entries.c compiles every pattern */
#define COMPILE_FLAGS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | \
	PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C)

static pcre2_match_context *mctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mctx = pcre2_match_context_create(NULL);
	if (!mctx)
		hb_fuzz_fail("out of memory");
	pcre2_set_match_limit(mctx, 200000);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	if (!nul)
		return 0;
	size_t plen = (size_t)(nul - (const char *)data);
	char *source = hb_memdup((const char *)data, plen);
	const char *msg = nul + 1;
	size_t mlen = size - plen - 1;
	/* data files are UTF-8 JSON without NUL: so is every pattern */
	if (!source || !hb_utf8_valid(source, plen) || plen > 2000) {
		free(source);
		return 0;
	}
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)source, plen, COMPILE_FLAGS,
			&code, &off, NULL);
	if (!re) {
		free(source);
		return 0;
	}

	char **lits = NULL;
	size_t n_lits = 0;
	if (hb_prefilter_literals(source, &lits, &n_lits))
		hb_prefilter_free_literals(lits, n_lits);

	struct hb_prefilter *pf = hb_prefilter_create();
	uint32_t slot;
	if (!pf || !hb_prefilter_add(pf, source, &slot) || !hb_prefilter_build(pf))
		hb_fuzz_fail("prefilter: out of memory");
	struct hb_buf norm;
	hb_buf_init(&norm);
	hb_text_normalize(msg, mlen, &norm);
	const char *text = norm.data ? norm.data : "";
	uint64_t bits[HB_PREFILTER_WORDS];
	hb_prefilter_scan(pf, text, norm.len, bits);

	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = md ? pcre2_match(re, (PCRE2_SPTR)text, norm.len, 0, 0, md, mctx) : -1;
	if (rc >= 0 && !hb_prefilter_test(bits, slot))
		hb_fuzz_fail("prefilter held back /%s/, which matches \"%s\"", source, text);

	pcre2_match_data_free(md);
	hb_buf_finish(&norm);
	hb_prefilter_destroy(pf);
	pcre2_code_free(re);
	free(source);
	return 0;
}
