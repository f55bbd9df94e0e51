#ifndef HB_TYPO_H
#define HB_TYPO_H

/*
 * Typos in the words that carry an emergency ("sever", "breth",
 * "bleding", "chset"). At load, the red-flag vocabulary is read out of the
 * red-flag patterns themselves (their literal words of 4+ letters, after
 * term classes are expanded). Per message, one pass over its words counts
 * language votes and finds words nobody knows (not in an article, the
 * vocabulary, the lexicon, the red-flag vocabulary, the language word
 * lists or the "not_typos" list of real words); each such word within one
 * typing slip of exactly one red-flag word (or a clear best) is replaced
 * in a corrected copy of the message, and the red flags run on that copy
 * as well. Patterns and the literal prefilter see an ordinary text either
 * way, so the prefilter can never hide what a correction reveals.
 *
 * A typing slip: one deleted or inserted letter, one letter replaced by a
 * QWERTY neighbour, a vowel by another vowel ("ambulence") or c by s or k
 * ("pestiside"), or two
 * neighbouring letters swapped; the first letter stays (or is swapped
 * with the second).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "lang.h"
#include "library.h"

struct cJSON;
struct hb_loader;
struct hb_typo;

#define HB_TYPO_MAX_UNKNOWN 8

/* What one pass over a message's words found. */
struct hb_wordscan {
	unsigned votes[HB_MAX_LANGS + 1]; /* per language; last: English */
	bool cues; /* a word that starts a negation/history cue (negation.h) */
	size_t n_unknown;
	struct { uint32_t off, len; } unknown[HB_TYPO_MAX_UNKNOWN];
};

/* The "typos" object of an intents file: {"not_typos": [...]} */
bool hb_typo_load(struct hb_loader *ld, const struct cJSON *obj);
/* After the word index: the red-flag vocabulary and the word table. */
bool hb_typo_build(struct hb_engine *e);
void hb_typo_destroy(struct hb_typo *t);

void hb_typo_scan(const struct hb_engine *e, const char *text, size_t len,
		struct hb_wordscan *out);
/* The text with typos of red-flag words corrected into out; false when
 * there was nothing to correct. */
bool hb_typo_correct(const struct hb_engine *e, const char *text, size_t len,
		const struct hb_wordscan *scan, struct hb_buf *out);

/* One typing slip apart (see above); for tests. */
bool hb_typo_one_slip(const char *a, size_t alen, const char *b, size_t blen);
/* The red-flag vocabulary, for tests and review; a word the patterns let
 * go on ("sever\w*") is a prefix. */
size_t hb_typo_vocabulary(const struct hb_engine *e, const char ***words);
bool hb_typo_vocabulary_prefix(const struct hb_engine *e, size_t i);

#endif
