/*
 * Loader for the intents directory: every .json file in it, the checks
 * that span files (required entries, unique ids) and the prefilter.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "data.h"
#include "lang.h"
#include "library.h"
#include "negation.h"
#include "subject.h"
#include "text.h"
#include "typo.h"
#include "util.h"

#define MAX_DATA_BYTES (8 * 1024 * 1024)
/* PCRE2 steps per match: enough for any sane pattern on 4 KiB, and a
 * hard stop for a message built to make a pattern backtrack */
#define MATCH_LIMIT 200000

/* "lang": "es" marks every rule of a file as Spanish (the reply follows
 * the language of the rule that fired). */
static bool file_lang(struct hb_loader *ld, const cJSON *root)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "lang");
	if (!v || ld->replies_only)
		return true;
	if (!cJSON_IsString(v) || strlen(v->valuestring) < 2 ||
			strlen(v->valuestring) > 8 ||
			strspn(v->valuestring, "abcdefghijklmnopqrstuvwxyz-") !=
			strlen(v->valuestring)) {
		hb_error_set(ld->err, ld->file, "lang", 0, 0,
			"\"lang\" must be a language code like \"es\"");
		return false;
	}
	ld->lang = v->valuestring;
	return true;
}

static bool load_file(struct hb_loader *ld)
{
	bool ok = false;
	cJSON *root = hb_read_json(ld->file, MAX_DATA_BYTES, ld->err);
	if (!root)
		return false;
	if (!cJSON_IsObject(root)) {
		hb_error_set(ld->err, ld->file, "", 1, 1, "top level must be an object");
		goto out;
	}
	if (ld->terms_pass) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "terms");
		ok = !t || hb_terms_add(ld->engine->terms, ld->file, t, ld->err);
		goto out;
	}
	if (!file_lang(ld, root))
		goto out;
	const cJSON *it;
	cJSON_ArrayForEach(it, root) {
		bool is_list = cJSON_IsArray(it);
		bool done;
		if (strcmp(it->string, "replies") == 0) {
			done = hb_data_replies(ld, it);
		} else if (ld->replies_only) {
			hb_error_set(ld->err, ld->file, it->string, 0, 0,
				"a locale file holds only \"replies\"");
			goto out;
		} else if (strcmp(it->string, "terms") == 0 ||
				strcmp(it->string, "lang") == 0) {
			continue; /* read by the first pass and file_lang() */
		} else if (strcmp(it->string, "subjects") == 0) {
			done = hb_subjects_load(ld, it);
		} else if (strcmp(it->string, "negation") == 0) {
			done = hb_negation_load(ld, it);
		} else if (strcmp(it->string, "languages") == 0) {
			done = hb_lang_load(ld, it);
		} else if (strcmp(it->string, "typos") == 0) {
			done = hb_typo_load(ld, it);
		} else if (!is_list) {
			hb_error_set(ld->err, ld->file, it->string, 0, 0,
				strcmp(it->string, "intents") && strcmp(it->string, "redflags") &&
				strcmp(it->string, "smalltalk") && strcmp(it->string, "lexicon") &&
				strcmp(it->string, "vocabulary") ?
				"unknown top-level key" : "must be a list");
			goto out;
		} else if (strcmp(it->string, "intents") == 0) {
			done = hb_data_intents(ld, it);
		} else if (strcmp(it->string, "redflags") == 0) {
			done = hb_data_redflags(ld, it);
		} else if (strcmp(it->string, "smalltalk") == 0) {
			done = hb_data_smalltalk(ld, it);
		} else if (strcmp(it->string, "lexicon") == 0) {
			done = hb_data_lexicon(ld, it);
		} else if (strcmp(it->string, "vocabulary") == 0) {
			done = hb_data_vocabulary(ld, it);
		} else {
			hb_error_set(ld->err, ld->file, it->string, 0, 0,
				"unknown top-level key");
			goto out;
		}
		if (!done)
			goto out;
	}
	ok = true;
out:
	cJSON_Delete(root);
	return ok;
}

static bool unique_ids(struct hb_engine *e, struct hb_error *err)
{
	struct hb_strset seen = {0};
	bool ok = false;
#define CHECK(arr, n, file_expr) \
	for (size_t i = 0; i < (n); i++) { \
		const char *id = (arr)[i].id; \
		if (hb_strset_has(&seen, id, strlen(id))) { \
			hb_error_set(err, (file_expr), id, 0, 0, "duplicate id \"%s\"", id); \
			goto out; \
		} \
		if (!hb_strset_add(&seen, id, strlen(id))) \
			goto out; \
	}
	CHECK(e->intents, e->n_intents, e->intents[i].file)
	CHECK(e->redflags, e->n_redflags, e->redflags[i].file)
	CHECK(e->smalltalk, e->n_smalltalk, e->smalltalk[i].file)
	/* lexicon ids name rewrites, not replies: their own namespace */
	hb_strset_finish(&seen);
	CHECK(e->lexicon, e->n_lexicon, "lexicon")
#undef CHECK
	ok = true;
out:
	hb_strset_finish(&seen);
	return ok;
}

/* One entry's patterns get consecutive slots, in order: classify.c tests
 * an entry's whole range at once (may_match_any()). */
static bool add_all(struct hb_prefilter *pf, struct hb_patterns *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		if (!hb_prefilter_add(pf, ps->items[i].source, &ps->items[i].slot))
			return false;
	}
	return true;
}

static bool build_prefilter(struct hb_engine *e, const char *dir,
		struct hb_error *err)
{
	bool ok = (e->prefilter = hb_prefilter_create()) != NULL;
	for (size_t i = 0; ok && i < e->n_redflags; i++)
		ok = add_all(e->prefilter, &e->redflags[i].patterns);
	for (size_t i = 0; ok && i < e->n_intents; i++)
		ok = add_all(e->prefilter, &e->intents[i].patterns);
	for (size_t i = 0; ok && i < e->n_smalltalk; i++)
		ok = add_all(e->prefilter, &e->smalltalk[i].patterns);
	for (size_t i = 0; ok && i < e->n_lexicon; i++)
		ok = add_all(e->prefilter, &e->lexicon[i].patterns);
	if (!ok || !hb_prefilter_build(e->prefilter)) {
		/* the pattern count was checked as the files were read */
		hb_error_set(err, dir, "", 0, 0, "out of memory");
		return false;
	}
	return true;
}

/* locales/LOCALE.json: reply wording for another country (its emergency
 * services' names), loaded over the base wording. Only "replies" may be
 * there: what the bot understands does not change with the wording. */
static bool load_locale(struct hb_engine *e, const char *dir,
		struct hb_error *err)
{
	struct hb_buf path;
	bool ok = false;
	for (const char *c = e->locale; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				*c == '-' || *c == '_')) {
			hb_error_set(err, dir, "locale", 0, 0,
				"locale \"%s\" must be letters, '-' and '_' (like en-GB)",
				e->locale);
			return false;
		}
	}
	hb_buf_init(&path);
	hb_buf_printf(&path, "%s/locales/%s.json", dir, e->locale);
	if (path.oom) {
		hb_error_set(err, dir, "locale", 0, 0, "out of memory");
		return false;
	}
	struct hb_loader ld = { .engine = e, .file = path.data, .err = err,
		.replies_only = true };
	ok = load_file(&ld);
	hb_buf_finish(&path);
	return ok;
}

bool hb_data_load(struct hb_engine *e, const char *dir, struct hb_error *err)
{
	char **names = NULL;
	size_t n = 0;
	bool ok = false;
	if (!hb_list_dir(dir, ".json", &names, &n, err))
		return false;
	if (n == 0) {
		hb_error_set(err, dir, "", 0, 0, "no *.json intent files");
		goto out;
	}
	e->match_ctx = pcre2_match_context_create(NULL);
	if (!e->match_ctx) {
		hb_error_set(err, dir, "", 0, 0, "out of memory");
		goto out;
	}
	pcre2_set_match_limit(e->match_ctx, MATCH_LIMIT);
	if (!(e->terms = hb_terms_create())) {
		hb_error_set(err, dir, "", 0, 0, "out of memory");
		goto out;
	}
	for (size_t pass = 0; pass < 2; pass++) /* terms, then the rest */
	for (size_t i = 0; i < n; i++) {
		struct hb_buf path;
		hb_buf_init(&path);
		hb_buf_printf(&path, "%s/%s", dir, names[i]);
		if (path.oom) {
			hb_error_set(err, dir, "", 0, 0, "out of memory");
			goto out;
		}
		struct hb_loader ld = { .engine = e, .file = path.data, .err = err,
			.terms_pass = pass == 0 };
		bool loaded = load_file(&ld);
		hb_buf_finish(&path);
		if (!loaded)
			goto out;
	}
	if (!hb_terms_finish_load(e->terms, err))
		goto out;
	if (e->locale && !load_locale(e, dir, err))
		goto out;
	if (!hb_lang_load_wording(e, dir, err))
		goto out;
	/* "urgent" red flags came later: a library without their wording
	 * escalates them as emergencies (too much rather than too little) */
	if (!e->wording[HB_WORD_ESCALATION_URGENT] &&
			e->wording[HB_WORD_ESCALATION_EMERGENCY] &&
			!(e->wording[HB_WORD_ESCALATION_URGENT] =
				strdup(e->wording[HB_WORD_ESCALATION_EMERGENCY]))) {
		hb_error_set(err, dir, "replies", 0, 0, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < HB_WORD_COUNT; k++) {
		if (!e->wording[k] && k < HB_WORD_OPTIONAL) {
			hb_error_set(err, dir, "replies", 0, 0,
				"missing reply wording \"%s\"", hb_wording_keys[k]);
			goto out;
		}
	}
	/* what the README promises of every reply must not hang on the
	 * wording an editor (or a locale) wrote: escalations carry the
	 * numbers to call, answers their source and date */
	static const struct { enum hb_wording key; const char *var; } vars[] = {
		{ HB_WORD_ESCALATION_EMERGENCY, "{emergency_number}" },
		{ HB_WORD_ESCALATION_CRISIS, "{emergency_number}" },
		{ HB_WORD_ESCALATION_CRISIS, "{crisis_number}" },
		{ HB_WORD_ESCALATION_URGENT, "{emergency_number}" },
		{ HB_WORD_SOURCE, "{title}" },
		{ HB_WORD_SOURCE, "{updated}" },
	};
	for (size_t v = 0; v < sizeof(vars) / sizeof(vars[0]); v++) {
		if (!strstr(e->wording[vars[v].key], vars[v].var)) {
			hb_error_set(err, dir, "replies", 0, 0,
				"reply wording \"%s\" must contain %s",
				hb_wording_keys[vars[v].key], vars[v].var);
			goto out;
		}
	}
	static const char *const required[] = { "greeting", "help" };
	for (size_t r = 0; r < 2; r++) {
		bool found = false;
		for (size_t i = 0; i < e->n_smalltalk; i++)
			found = found || strcmp(e->smalltalk[i].id, required[r]) == 0;
		if (!found) {
			hb_error_set(err, dir, required[r], 0, 0,
				"missing small-talk entry \"%s\"", required[r]);
			goto out;
		}
	}
	if (e->n_redflags == 0) {
		hb_error_set(err, dir, "redflags", 0, 0,
			"no red flags: refusing to run without an emergency screen");
		goto out;
	}
	if (!unique_ids(e, err))
		goto out;
	if (!build_prefilter(e, dir, err))
		goto out;
	ok = true;
out:
	hb_free_list(names, n);
	return ok;
}

void hb_data_finish(struct hb_engine *e)
{
	for (size_t i = 0; i < e->n_intents; i++) {
		struct hb_intent *in = &e->intents[i];
		free(in->id);
		free(in->file);
		free(in->description);
		hb_data_patterns_finish(&in->patterns);
		for (size_t t = 0; t < in->n_targets; t++)
			hb_data_target_finish(&in->targets[t]);
		free(in->targets);
	}
	free(e->intents);
	for (size_t i = 0; i < e->n_redflags; i++) {
		struct hb_redflag *rf = &e->redflags[i];
		free(rf->id);
		free(rf->file);
		free(rf->category);
		free(rf->lang);
		hb_data_patterns_finish(&rf->patterns);
		hb_data_target_finish(&rf->passage);
	}
	free(e->redflags);
	for (size_t i = 0; i < e->n_smalltalk; i++) {
		free(e->smalltalk[i].id);
		free(e->smalltalk[i].file);
		free(e->smalltalk[i].reply);
		hb_data_patterns_finish(&e->smalltalk[i].patterns);
	}
	free(e->smalltalk);
	for (size_t i = 0; i < e->n_lexicon; i++) {
		free(e->lexicon[i].id);
		free(e->lexicon[i].canonical);
		hb_data_patterns_finish(&e->lexicon[i].patterns);
	}
	free(e->lexicon);
	hb_prefilter_destroy(e->prefilter);
	hb_terms_destroy(e->terms);
	hb_subjects_destroy(e->subjects);
	hb_negation_destroy(e->negation);
	hb_lang_destroy(e->langs);
	hb_typo_destroy(e->typo);
	pcre2_match_context_free(e->match_ctx);
	hb_strset_finish(&e->vocabulary);
	for (size_t k = 0; k < HB_WORD_COUNT; k++)
		free(e->wording[k]);
}
