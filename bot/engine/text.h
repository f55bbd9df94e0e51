#ifndef HB_TEXT_H
#define HB_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Chat text as patterns see it: valid UTF-8 (invalid bytes become U+FFFD),
 * ASCII lower case, fullwidth ASCII made ASCII, curly quotes made
 * straight, control characters and
 * runs of white space made one space, zero-width and bidi controls dropped
 * (so "chest\u200bpain" cannot slip past a pattern), trimmed.
 */
void hb_text_normalize(const char *in, size_t len, struct hb_buf *out);

/*
 * Splits normalized text into words (letters, digits inside words and
 * inner apostrophes). Calls fn for each; stops early when fn returns false.
 */
typedef bool (*hb_word_fn)(void *data, const char *word, size_t len,
		size_t offset);
void hb_text_words(const char *text, size_t len, hb_word_fn fn, void *data);

/*
 * A crude, symmetric English stem (plural, -ing, -ed, -ly, possessive) into
 * out (at least len + 1 bytes). Only used to compare words with words, so
 * it only needs to be consistent, not linguistically right.
 */
size_t hb_text_stem(const char *word, size_t len, char *out);

/* Edit distance (optimal string alignment: insert, delete, substitute,
 * swap two neighbours) capped at max + 1. */
int hb_text_distance(const char *a, size_t alen, const char *b, size_t blen,
		int max);

#endif
