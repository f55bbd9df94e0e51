#ifndef HB_LANG_H
#define HB_LANG_H

/*
 * Reply languages other than the library's English. The red-flag screen
 * never depends on this: every rule, Spanish or English, runs on every
 * message. What a language changes is the service wording of a reply
 * (escalations, fallback, a line saying the library is in English),
 * chosen when the red flag that fired is one of that language's rules or
 * when the message reads as that language (a score of its common words
 * against English ones: the "languages" object of an intents file).
 * Wording: INTENTS_DIR/locales/CODE.json, loaded with the library.
 */

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "library.h"

struct cJSON;
struct hb_loader;

#define HB_MAX_LANGS 4

struct hb_lang {
	char code[8];           /* "es" */
	char *wording[HB_WORD_COUNT]; /* NULL: the English wording */
	char *library_note;     /* "the library is in English" */
	char **words;           /* words that vote for the language */
	size_t n_words;
	int min_score;
};

struct hb_langs {
	struct hb_lang items[HB_MAX_LANGS];
	size_t n;
	char **english;         /* words that vote for English */
	size_t n_english;
};

/* The "languages" object of an intents file. */
bool hb_lang_load(struct hb_loader *ld, const struct cJSON *obj);
/* After every intents file: each language's locales/CODE.json. */
bool hb_lang_load_wording(struct hb_engine *e, const char *dir,
		struct hb_error *err);
void hb_lang_destroy(struct hb_langs *langs);

/* The reply language: index into e->langs->items, or -1 for English.
 * votes[i] counts message words of language i, votes[HB_MAX_LANGS]
 * English ones. */
int hb_lang_choose(const struct hb_engine *e, const unsigned *votes,
		const char *rule_lang);
const char *hb_lang_code(const struct hb_engine *e, int lang);
/* The wording for key in that language, or the English one. */
const char *hb_lang_wording(const struct hb_engine *e, int lang,
		enum hb_wording key);

/* The line saying the library is in English, or NULL for English. */
const char *hb_lang_library_note(const struct hb_engine *e, int lang);

#endif
