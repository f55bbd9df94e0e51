/* Reply languages: the "languages" data, their wording and the choice. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "grow.h"
#include "lang.h"
#include "text.h"
#include "utf8.h"
#include "util.h"

#define MAX_LOCALE_BYTES (256 * 1024)

static bool load_words(struct hb_loader *ld, const char *entry,
		const cJSON *arr, char ***out, size_t *n)
{
	const cJSON *it;
	if (!cJSON_IsArray(arr)) {
		hb_error_set(ld->err, ld->file, entry, 0, 0,
			"\"words\" must be a list of words");
		return false;
	}
	cJSON_ArrayForEach(it, arr) {
		struct hb_buf norm;
		char **w = hb_grow(*out, *n, sizeof(*w));
		if (!w) {
			hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
			return false;
		}
		*out = w;
		if (!cJSON_IsString(it) || !it->valuestring[0] ||
				strchr(it->valuestring, ' ') ||
				!hb_utf8_valid(it->valuestring, strlen(it->valuestring))) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"item %zu: a word is a non-empty UTF-8 string without spaces",
				*n + 1);
			return false;
		}
		/* compared with message words, so written as they read after
		 * normalisation: "está" is "esta" */
		hb_buf_init(&norm);
		hb_text_normalize(it->valuestring, strlen(it->valuestring), &norm);
		if (!(w[*n] = hb_buf_steal(&norm))) {
			hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
			return false;
		}
		(*n)++;
	}
	return true;
}

bool hb_lang_load(struct hb_loader *ld, const cJSON *obj)
{
	struct hb_engine *e = ld->engine;
	const cJSON *it;
	if (e->langs) {
		hb_error_set(ld->err, ld->file, "languages", 0, 0,
			"\"languages\" is defined in two files");
		return false;
	}
	if (!cJSON_IsObject(obj)) {
		hb_error_set(ld->err, ld->file, "languages", 0, 0, "must be an object");
		return false;
	}
	if (!(e->langs = calloc(1, sizeof(*e->langs)))) {
		hb_error_set(ld->err, ld->file, "languages", 0, 0, "out of memory");
		return false;
	}
	cJSON_ArrayForEach(it, obj) {
		char entry[64];
		const char *code = it->string;
		snprintf(entry, sizeof(entry), "languages.%s", code);
		bool english = strcmp(code, "en") == 0;
		size_t len = strlen(code);
		if (!cJSON_IsObject(it) || len < 2 || len > 7 ||
				strspn(code, "abcdefghijklmnopqrstuvwxyz-") != len) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"a language is a lower-case code (\"es\") with an object "
				"{\"words\": [...], \"min_score\": N}");
			return false;
		}
		if (!english && e->langs->n == HB_MAX_LANGS) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"more than %d languages", HB_MAX_LANGS);
			return false;
		}
		const cJSON *k;
		cJSON_ArrayForEach(k, it) {
			if (strcmp(k->string, "words") && strcmp(k->string, "min_score")) {
				hb_error_set(ld->err, ld->file, entry, 0, 0,
					"unknown key \"%s\"", k->string);
				return false;
			}
		}
		const cJSON *words = cJSON_GetObjectItemCaseSensitive(it, "words");
		const cJSON *min = cJSON_GetObjectItemCaseSensitive(it, "min_score");
		if (english) {
			if (!load_words(ld, entry, words, &e->langs->english,
					&e->langs->n_english))
				return false;
			continue;
		}
		struct hb_lang *l = &e->langs->items[e->langs->n++];
		memcpy(l->code, code, len + 1);
		l->min_score = 1;
		if (min && (!cJSON_IsNumber(min) || min->valuedouble < 1 ||
				min->valuedouble > 20)) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"\"min_score\" must be a number from 1 to 20");
			return false;
		}
		if (min)
			l->min_score = (int)min->valuedouble;
		if (!load_words(ld, entry, words, &l->words, &l->n_words))
			return false;
	}
	return true;
}

/* Keys a language's locale file may hold, beyond the reply wording. */
#define LIBRARY_NOTE "library_in_english"

static bool load_locale(struct hb_lang *l, const char *path,
		struct hb_error *err)
{
	bool ok = false;
	cJSON *root = hb_read_json(path, MAX_LOCALE_BYTES, err);
	if (!root)
		return false;
	const cJSON *replies = cJSON_GetObjectItemCaseSensitive(root, "replies");
	if (!cJSON_IsObject(replies) || cJSON_GetArraySize(root) != 1) {
		hb_error_set(err, path, "", 0, 0,
			"a locale file is {\"replies\": {...}}");
		goto out;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, replies) {
		char **slot = NULL;
		if (strcmp(it->string, LIBRARY_NOTE) == 0)
			slot = &l->library_note;
		for (size_t k = 0; !slot && k < HB_WORD_COUNT; k++) {
			if (strcmp(it->string, hb_wording_keys[k]) == 0)
				slot = &l->wording[k];
		}
		if (!slot) {
			hb_error_set(err, path, "replies", 0, 0, "unknown reply \"%s\"",
				it->string);
			goto out;
		}
		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			hb_error_set(err, path, it->string, 0, 0,
				"must be a non-empty string");
			goto out;
		}
		free(*slot);
		if (!(*slot = strdup(it->valuestring))) {
			hb_error_set(err, path, it->string, 0, 0, "out of memory");
			goto out;
		}
	}
	/* an escalation must carry its numbers in every language */
	static const struct { enum hb_wording key; const char *var; } vars[] = {
		{ HB_WORD_ESCALATION_EMERGENCY, "{emergency_number}" },
		{ HB_WORD_ESCALATION_CRISIS, "{emergency_number}" },
		{ HB_WORD_ESCALATION_CRISIS, "{crisis_number}" },
		{ HB_WORD_FALLBACK, "{emergency_number}" },
	};
	for (size_t v = 0; v < sizeof(vars) / sizeof(vars[0]); v++) {
		const char *w = l->wording[vars[v].key];
		if (!w || !strstr(w, vars[v].var)) {
			hb_error_set(err, path, hb_wording_keys[vars[v].key], 0, 0,
				"reply \"%s\" is required and must contain %s",
				hb_wording_keys[vars[v].key], vars[v].var);
			goto out;
		}
	}
	if (!l->library_note) {
		hb_error_set(err, path, LIBRARY_NOTE, 0, 0,
			"missing reply \"" LIBRARY_NOTE "\"");
		goto out;
	}
	ok = true;
out:
	cJSON_Delete(root);
	return ok;
}

bool hb_lang_load_wording(struct hb_engine *e, const char *dir,
		struct hb_error *err)
{
	for (size_t i = 0; e->langs && i < e->langs->n; i++) {
		struct hb_buf path;
		hb_buf_init(&path);
		hb_buf_printf(&path, "%s/locales/%s.json", dir, e->langs->items[i].code);
		bool ok = !path.oom && load_locale(&e->langs->items[i], path.data, err);
		if (path.oom)
			hb_error_set(err, dir, "languages", 0, 0, "out of memory");
		hb_buf_finish(&path);
		if (!ok)
			return false;
	}
	return true;
}

void hb_lang_destroy(struct hb_langs *langs)
{
	if (!langs)
		return;
	for (size_t i = 0; i < langs->n; i++) {
		struct hb_lang *l = &langs->items[i];
		for (size_t k = 0; k < HB_WORD_COUNT; k++)
			free(l->wording[k]);
		free(l->library_note);
		hb_free_list(l->words, l->n_words);
	}
	hb_free_list(langs->english, langs->n_english);
	free(langs);
}

int hb_lang_choose(const struct hb_engine *e, const unsigned *votes,
		const char *rule_lang)
{
	if (!e->langs)
		return -1;
	int best = -1;
	unsigned best_votes = votes[HB_MAX_LANGS];
	for (size_t i = 0; i < e->langs->n; i++) {
		const struct hb_lang *l = &e->langs->items[i];
		/* the rule that fired speaks its language unless the message
		 * reads as clearly English ("ambulancia" alone is Spanish) */
		if (rule_lang && strcmp(rule_lang, l->code) == 0 &&
				votes[i] >= votes[HB_MAX_LANGS])
			return (int)i;
		if (votes[i] >= (unsigned)l->min_score && votes[i] > best_votes) {
			best = (int)i;
			best_votes = votes[i];
		}
	}
	return best;
}

const char *hb_lang_code(const struct hb_engine *e, int lang)
{
	return lang >= 0 && e->langs && (size_t)lang < e->langs->n ?
		e->langs->items[lang].code : "en";
}

const char *hb_lang_wording(const struct hb_engine *e, int lang,
		enum hb_wording key)
{
	if (lang >= 0 && e->langs && (size_t)lang < e->langs->n &&
			e->langs->items[lang].wording[key])
		return e->langs->items[lang].wording[key];
	/* an urgent escalation without its own wording in this language
	 * reads as the emergency one: more than needed, never less */
	if (lang >= 0 && e->langs && (size_t)lang < e->langs->n &&
			key == HB_WORD_ESCALATION_URGENT)
		return e->langs->items[lang].wording[HB_WORD_ESCALATION_EMERGENCY];
	return e->wording[key];
}

const char *hb_lang_library_note(const struct hb_engine *e, int lang)
{
	return lang >= 0 && e->langs && (size_t)lang < e->langs->n ?
		e->langs->items[lang].library_note : NULL;
}
