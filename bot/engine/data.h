#ifndef HB_DATA_H
#define HB_DATA_H

/* Internal to the intents loader: data.c reads files, entries.c entries. */

#include <stdbool.h>

#include "library.h"

struct cJSON;

struct hb_loader {
	struct hb_engine *engine;
	const char *file;
	struct hb_error *err;
	bool replies_only; /* a locale file */
	bool terms_pass;   /* first pass: only "terms" (they span files) */
	const char *lang;  /* the file's "lang", NULL: English */
};

extern const char *const hb_wording_keys[HB_WORD_COUNT];

bool hb_data_intents(struct hb_loader *ld, const struct cJSON *arr);
bool hb_data_redflags(struct hb_loader *ld, const struct cJSON *arr);
bool hb_data_smalltalk(struct hb_loader *ld, const struct cJSON *arr);
bool hb_data_lexicon(struct hb_loader *ld, const struct cJSON *arr);
bool hb_data_vocabulary(struct hb_loader *ld, const struct cJSON *arr);
bool hb_data_replies(struct hb_loader *ld, const struct cJSON *obj);
void hb_data_target_finish(struct hb_target *t);
void hb_data_patterns_finish(struct hb_patterns *p);

#endif
