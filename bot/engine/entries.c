/*
 * The entries of the intents files: intents, red flags, small talk,
 * lexicon, vocabulary and reply wording, each checked key by key so an
 * error names the file, the entry and (for patterns) the offset.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "data.h"
#include "grow.h"
#include "library.h"
#include "text.h"
#include "utf8.h"
#include "util.h"

#define COMPILE_FLAGS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | \
	PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C)

const char *const hb_wording_keys[HB_WORD_COUNT] = {
	[HB_WORD_ESCALATION_EMERGENCY] = "escalation_emergency",
	[HB_WORD_ESCALATION_CRISIS] = "escalation_crisis",
	[HB_WORD_ESCALATION_URGENT] = "escalation_urgent",
	[HB_WORD_FALLBACK] = "fallback",
	[HB_WORD_FALLBACK_SECTION] = "fallback_section",
	[HB_WORD_TOO_LONG] = "too_long",
	[HB_WORD_EMPTY] = "empty",
	[HB_WORD_DISCLAIMER] = "disclaimer",
	[HB_WORD_SOURCE] = "source",
	[HB_WORD_COMMAND_HELP] = "command_help",
	[HB_WORD_COMMAND_TOPICS] = "command_topics",
	[HB_WORD_MATRIX_ENCRYPTED] = "matrix_encrypted",
	[HB_WORD_MATRIX_UNDECRYPTABLE] = "matrix_undecryptable",
};

const char *hb_engine_wording(const struct hb_engine *e, const char *key)
{
	for (size_t k = 0; e && key && k < HB_WORD_COUNT; k++) {
		if (strcmp(key, hb_wording_keys[k]) == 0)
			return e->wording[k];
	}
	return NULL;
}

static pcre2_code *compile(struct hb_loader *ld, const char *entry,
		const char *src, size_t len)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, len, COMPILE_FLAGS,
			&code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		hb_error_set(ld->err, ld->file, entry, 0, (int)off + 1,
			"pattern does not compile at offset %zu: %s", (size_t)off,
			(char *)msg);
		return NULL;
	}
	/* JIT-compiled on first use (hb_pattern_code()) */
	return re;
}

pcre2_code *hb_pattern_code(const struct hb_engine *e, const struct hb_pattern *p)
{
	/* the pattern is part of the immutable library; only its code
	 * cache changes, and only through atomics */
	_Atomic(pcre2_code *) *slot = (_Atomic(pcre2_code *) *)&p->code;
	pcre2_code *code = atomic_load_explicit(slot, memory_order_acquire);
	if (code)
		return code;
	/* JIT is an optimisation: without it (no_jit, out of memory, no
	 * executable memory) pcre2_match() interprets re itself */
	code = e->no_jit ? NULL : pcre2_code_copy(p->re);
	if (code && pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) != 0) {
		pcre2_code_free(code);
		code = NULL;
	}
	if (!code)
		code = p->re;
	pcre2_code *none = NULL;
	if (!atomic_compare_exchange_strong_explicit(slot, &none, code,
			memory_order_acq_rel, memory_order_acquire)) {
		/* another thread got there first: use its code */
		if (code != p->re)
			pcre2_code_free(code);
		code = none;
	}
	return code;
}

int hb_pattern_match(const struct hb_engine *e, const struct hb_pattern *p,
		const char *text, size_t len, size_t at, pcre2_match_data *md)
{
	return pcre2_match(hb_pattern_code(e, p), (PCRE2_SPTR)text, len, at, 0,
			md, e->match_ctx);
}

static bool check_keys(struct hb_loader *ld, const char *entry, const cJSON *obj,
		const char *const *allowed)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || strcmp(it->string, allowed[i]) == 0;
		if (!ok) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"unknown key \"%s\"", it->string);
			return false;
		}
	}
	return true;
}

static const char *get_string(struct hb_loader *ld, const char *entry,
		const cJSON *obj, const char *key, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v) {
		if (required)
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"missing \"%s\"", key);
		return NULL;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0]) {
		hb_error_set(ld->err, ld->file, entry, 0, 0,
			"\"%s\" must be a non-empty string", key);
		return NULL;
	}
	if (!hb_utf8_valid(v->valuestring, strlen(v->valuestring))) {
		hb_error_set(ld->err, ld->file, entry, 0, 0,
			"\"%s\" is not valid UTF-8", key);
		return NULL;
	}
	return v->valuestring;
}

static bool dup_string(struct hb_loader *ld, const char *entry, char **out,
		const char *s)
{
	if (!(*out = strdup(s))) {
		hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
		return false;
	}
	return true;
}

/* A string or a list of strings, as used by "section" and "contains". */
static bool get_strings(struct hb_loader *ld, const char *entry, const cJSON *v,
		const char *key, char ***out, size_t *n)
{
	const cJSON *it;
	if (cJSON_IsString(v)) {
		*out = calloc(1, sizeof(char *));
		if (!*out || !dup_string(ld, entry, &(*out)[0], v->valuestring))
			return false;
		*n = 1;
		return true;
	}
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		hb_error_set(ld->err, ld->file, entry, 0, 0,
			"\"%s\" must be a string or a non-empty list of strings", key);
		return false;
	}
	*out = calloc((size_t)cJSON_GetArraySize(v), sizeof(char *));
	if (!*out) {
		hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
		return false;
	}
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"\"%s\" items must be non-empty strings", key);
			return false;
		}
		if (!dup_string(ld, entry, &(*out)[*n], it->valuestring))
			return false;
		(*n)++;
	}
	return true;
}

/* Patterns loaded so far, in every kind of entry (the one being loaded
 * included): the prefilter has a slot for at most
 * HB_PREFILTER_MAX_SLOTS, and going over must name the file and entry
 * rather than fail later with no place to look. */
static size_t count_patterns(const struct hb_engine *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_intents; i++)
		n += e->intents[i].patterns.n;
	for (size_t i = 0; i < e->n_redflags; i++)
		n += e->redflags[i].patterns.n;
	for (size_t i = 0; i < e->n_smalltalk; i++)
		n += e->smalltalk[i].patterns.n;
	for (size_t i = 0; i < e->n_lexicon; i++)
		n += e->lexicon[i].patterns.n;
	return n;
}

static bool load_patterns(struct hb_loader *ld, const char *entry,
		const cJSON *obj, int weight, struct hb_patterns *out)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "patterns");
	const cJSON *it;
	size_t i = 0;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
		hb_error_set(ld->err, ld->file, entry, 0, 0,
			"\"patterns\" must be a non-empty list");
		return false;
	}
	out->items = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*out->items));
	if (!out->items) {
		hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
		return false;
	}
	cJSON_ArrayForEach(it, arr) {
		struct hb_pattern *p = &out->items[i];
		const char *src;
		char id[192];
		snprintf(id, sizeof(id), "%s#%zu", entry, i + 1);
		p->weight = weight;
		if (cJSON_IsString(it)) {
			src = it->valuestring;
		} else if (cJSON_IsObject(it)) {
			static const char *const keys[] = { "re", "weight", NULL };
			const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "weight");
			if (!check_keys(ld, id, it, keys))
				return false;
			if (!(src = get_string(ld, id, it, "re", true)))
				return false;
			if (w && (!cJSON_IsNumber(w) || w->valuedouble < 1 ||
					w->valuedouble > 1000)) {
				hb_error_set(ld->err, ld->file, id, 0, 0,
					"\"weight\" must be a number from 1 to 1000");
				return false;
			}
			if (w)
				p->weight = (int)w->valuedouble;
		} else {
			hb_error_set(ld->err, ld->file, id, 0, 0,
				"a pattern must be a string or {\"re\": …}");
			return false;
		}
		if (count_patterns(ld->engine) >= HB_PREFILTER_MAX_SLOTS) {
			hb_error_set(ld->err, ld->file, id, 0, 0,
				"more than %d patterns in all (the prefilter's limit)",
				HB_PREFILTER_MAX_SLOTS);
			return false;
		}
		/* {TERM}s expanded first: PCRE2 and the prefilter see the
		 * alternation as if it had been pasted */
		struct hb_buf x;
		hb_buf_init(&x);
		bool expanded = hb_terms_expand(ld->engine->terms, ld->file, id, src,
				&x, ld->err);
		out->n = ++i; /* counted before compiling so finish() frees it */
		if (!expanded || !dup_string(ld, id, &p->id, id) ||
				!(p->source = hb_buf_steal(&x))) {
			hb_buf_finish(&x);
			if (expanded)
				hb_error_set(ld->err, ld->file, id, 0, 0, "out of memory");
			return false;
		}
		if (!(p->re = compile(ld, id, p->source, strlen(p->source))))
			return false;
	}
	return true;
}

static bool load_target(struct hb_loader *ld, const char *entry, const cJSON *obj,
		struct hb_target *t)
{
	static const char *const keys[] = { "article", "section", "contains",
		"first", NULL };
	const cJSON *v;
	const char *s;
	if (!cJSON_IsObject(obj)) {
		hb_error_set(ld->err, ld->file, entry, 0, 0,
			"a target must be an object with \"section\"");
		return false;
	}
	if (!check_keys(ld, entry, obj, keys))
		return false;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "article"))) {
		if (!(s = get_string(ld, entry, obj, "article", true)) ||
				!dup_string(ld, entry, &t->article, s))
			return false;
	}
	v = cJSON_GetObjectItemCaseSensitive(obj, "section");
	if (!v) {
		hb_error_set(ld->err, ld->file, entry, 0, 0, "target without \"section\"");
		return false;
	}
	if (!get_strings(ld, entry, v, "section", &t->sections, &t->n_sections))
		return false;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "contains")) &&
			!get_strings(ld, entry, v, "contains", &t->contains, &t->n_contains))
		return false;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "first"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 100) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"\"first\" must be a number from 1 to 100");
			return false;
		}
		t->first = (size_t)v->valuedouble;
	}
	return true;
}

void hb_data_target_finish(struct hb_target *t)
{
	free(t->article);
	for (size_t i = 0; i < t->n_sections; i++)
		free(t->sections[i]);
	free(t->sections);
	for (size_t i = 0; i < t->n_contains; i++)
		free(t->contains[i]);
	free(t->contains);
}

void hb_data_patterns_finish(struct hb_patterns *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].id);
		free(p->items[i].source);
		pcre2_code *code = atomic_load(&p->items[i].code);
		if (code != p->items[i].re)
			pcre2_code_free(code);
		pcre2_code_free(p->items[i].re);
	}
	free(p->items);
}

static enum hb_severity parse_severity(const char *s, bool *ok)
{
	*ok = true;
	if (!s || strcmp(s, "none") == 0)
		return HB_SEVERITY_NONE;
	if (strcmp(s, "urgent") == 0)
		return HB_SEVERITY_URGENT;
	if (strcmp(s, "crisis") == 0)
		return HB_SEVERITY_CRISIS;
	if (strcmp(s, "emergency") == 0)
		return HB_SEVERITY_EMERGENCY;
	*ok = false;
	return HB_SEVERITY_NONE;
}

/* Grows an array of entries by one zeroed element. */
static void *push(struct hb_loader *ld, void **array, size_t *n, size_t size)
{
	char *a = hb_grow(*array, *n, size);
	if (!a) {
		hb_error_set(ld->err, ld->file, "", 0, 0, "out of memory");
		return NULL;
	}
	memset(a + *n * size, 0, size);
	*array = a;
	return a + (*n)++ * size;
}

static const char *entry_id(struct hb_loader *ld, const cJSON *obj,
		const char *key, int index, char *buf, size_t size)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	snprintf(buf, size, "%s[%d]", key, index);
	if (!cJSON_IsObject(obj)) {
		hb_error_set(ld->err, ld->file, buf, 0, 0, "entry must be an object");
		return NULL;
	}
	if (!cJSON_IsString(id) || !id->valuestring[0]) {
		hb_error_set(ld->err, ld->file, buf, 0, 0, "entry without an \"id\"");
		return NULL;
	}
	return id->valuestring;
}

bool hb_data_intents(struct hb_loader *ld, const cJSON *arr)
{
	static const char *const keys[] = { "id", "description", "severity",
		"patterns", "targets", "weight", "fallback", "about", NULL };
	struct hb_engine *e = ld->engine;
	const cJSON *obj;
	int index = 0;
	cJSON_ArrayForEach(obj, arr) {
		char buf[64];
		const char *id = entry_id(ld, obj, "intents", index++, buf, sizeof(buf));
		if (!id || !check_keys(ld, id, obj, keys))
			return false;
		struct hb_intent *in = push(ld, (void **)&e->intents, &e->n_intents,
				sizeof(*in));
		const cJSON *v;
		bool ok;
		int weight = 10;
		if (!in || !dup_string(ld, id, &in->id, id) ||
				!dup_string(ld, id, &in->file, ld->file))
			return false;
		if ((v = cJSON_GetObjectItemCaseSensitive(obj, "description")) &&
				cJSON_IsString(v) && !dup_string(ld, id, &in->description,
					v->valuestring))
			return false;
		in->severity = parse_severity(get_string(ld, id, obj, "severity",
				false), &ok);
		if (!ok || in->severity > HB_SEVERITY_URGENT) {
			hb_error_set(ld->err, ld->file, id, 0, 0,
				"\"severity\" of an intent is \"none\" or \"urgent\"");
			return false;
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(obj, "weight"))) {
			if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1000) {
				hb_error_set(ld->err, ld->file, id, 0, 0,
					"\"weight\" must be a number from 1 to 1000");
				return false;
			}
			weight = (int)v->valuedouble;
		}
		in->fallback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "fallback"));
		in->about = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "about"));
		if (!load_patterns(ld, id, obj, weight, &in->patterns))
			return false;
		v = cJSON_GetObjectItemCaseSensitive(obj, "targets");
		if (in->fallback)
			continue;
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
			hb_error_set(ld->err, ld->file, id, 0, 0,
				"\"targets\" must be a non-empty list (or set \"fallback\": true)");
			return false;
		}
		in->targets = calloc((size_t)cJSON_GetArraySize(v), sizeof(*in->targets));
		if (!in->targets) {
			hb_error_set(ld->err, ld->file, id, 0, 0, "out of memory");
			return false;
		}
		const cJSON *t;
		cJSON_ArrayForEach(t, v) {
			if (!load_target(ld, id, t, &in->targets[in->n_targets++]))
				return false;
		}
	}
	return true;
}

bool hb_data_redflags(struct hb_loader *ld, const cJSON *arr)
{
	static const char *const keys[] = { "id", "category", "severity",
		"patterns", "passage", "description", NULL };
	struct hb_engine *e = ld->engine;
	const cJSON *obj;
	int index = 0;
	cJSON_ArrayForEach(obj, arr) {
		char buf[64];
		const char *id = entry_id(ld, obj, "redflags", index++, buf, sizeof(buf));
		const char *s;
		bool ok;
		if (!id || !check_keys(ld, id, obj, keys))
			return false;
		struct hb_redflag *rf = push(ld, (void **)&e->redflags,
				&e->n_redflags, sizeof(*rf));
		if (!rf || !dup_string(ld, id, &rf->id, id) ||
				!dup_string(ld, id, &rf->file, ld->file))
			return false;
		if (!(s = get_string(ld, id, obj, "category", true)) ||
				!dup_string(ld, id, &rf->category, s))
			return false;
		rf->severity = parse_severity(get_string(ld, id, obj, "severity",
				false), &ok);
		if (!ok || rf->severity < HB_SEVERITY_URGENT) {
			hb_error_set(ld->err, ld->file, id, 0, 0,
				"\"severity\" of a red flag is \"emergency\", \"crisis\" "
				"or \"urgent\"");
			return false;
		}
		if (ld->lang && !dup_string(ld, id, &rf->lang, ld->lang))
			return false;
		if (!load_patterns(ld, id, obj, 1000, &rf->patterns))
			return false;
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "passage");
		if (p) {
			if (!load_target(ld, id, p, &rf->passage))
				return false;
			rf->has_passage = true;
		}
	}
	return true;
}

bool hb_data_smalltalk(struct hb_loader *ld, const cJSON *arr)
{
	static const char *const keys[] = { "id", "patterns", "reply", NULL };
	struct hb_engine *e = ld->engine;
	const cJSON *obj;
	int index = 0;
	cJSON_ArrayForEach(obj, arr) {
		char buf[64];
		const char *id = entry_id(ld, obj, "smalltalk", index++, buf, sizeof(buf));
		const char *s;
		if (!id || !check_keys(ld, id, obj, keys))
			return false;
		struct hb_smalltalk *st = push(ld, (void **)&e->smalltalk,
				&e->n_smalltalk, sizeof(*st));
		if (!st || !dup_string(ld, id, &st->id, id) ||
				!dup_string(ld, id, &st->file, ld->file))
			return false;
		if (!(s = get_string(ld, id, obj, "reply", true)) ||
				!dup_string(ld, id, &st->reply, s))
			return false;
		if (!load_patterns(ld, id, obj, 10, &st->patterns))
			return false;
	}
	return true;
}

bool hb_data_lexicon(struct hb_loader *ld, const cJSON *arr)
{
	static const char *const keys[] = { "id", "canonical", "patterns", NULL };
	struct hb_engine *e = ld->engine;
	const cJSON *obj;
	int index = 0;
	cJSON_ArrayForEach(obj, arr) {
		char buf[64];
		const char *id = entry_id(ld, obj, "lexicon", index++, buf, sizeof(buf));
		const char *s;
		if (!id || !check_keys(ld, id, obj, keys))
			return false;
		struct hb_lexeme *lx = push(ld, (void **)&e->lexicon, &e->n_lexicon,
				sizeof(*lx));
		if (!lx || !dup_string(ld, id, &lx->id, id))
			return false;
		if (!(s = get_string(ld, id, obj, "canonical", true)) ||
				!dup_string(ld, id, &lx->canonical, s))
			return false;
		lx->canonical_len = strlen(s);
		/* canonical words are matched and stemmed like message words */
		for (char *c = lx->canonical; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		/* compiled as written first, so an error's offset is the
		 * author's; then on word boundaries: "pill" must not rewrite
		 * "spill" */
		if (!load_patterns(ld, id, obj, 1, &lx->patterns))
			return false;
		for (size_t i = 0; i < lx->patterns.n; i++) {
			struct hb_pattern *p = &lx->patterns.items[i];
			struct hb_buf w;
			hb_buf_init(&w);
			hb_buf_printf(&w, "\\b(?:%s)\\b", p->source);
			pcre2_code *re = w.oom ? NULL : compile(ld, p->id, w.data, w.len);
			if (!re) {
				hb_buf_finish(&w);
				return false;
			}
			pcre2_code_free(p->re);
			free(p->source);
			p->re = re; /* not run yet: no code to drop */
			p->source = hb_buf_steal(&w);
		}
	}
	return true;
}

bool hb_data_vocabulary(struct hb_loader *ld, const cJSON *arr)
{
	const cJSON *it;
	int index = 0;
	cJSON_ArrayForEach(it, arr) {
		char stem[128];
		if (!cJSON_IsString(it) || strlen(it->valuestring) >= sizeof(stem)) {
			char buf[64];
			snprintf(buf, sizeof(buf), "vocabulary[%d]", index);
			hb_error_set(ld->err, ld->file, buf, 0, 0,
				"vocabulary items are words (strings under 128 bytes)");
			return false;
		}
		struct hb_buf norm;
		hb_buf_init(&norm);
		hb_text_normalize(it->valuestring, strlen(it->valuestring), &norm);
		size_t n = norm.len ? hb_text_stem(norm.data, norm.len, stem) : 0;
		hb_buf_finish(&norm);
		if (n && !hb_strset_add(&ld->engine->vocabulary, stem, n)) {
			hb_error_set(ld->err, ld->file, "vocabulary", 0, 0, "out of memory");
			return false;
		}
		index++;
	}
	return true;
}

bool hb_data_replies(struct hb_loader *ld, const cJSON *obj)
{
	const cJSON *it;
	if (!cJSON_IsObject(obj)) {
		hb_error_set(ld->err, ld->file, "replies", 0, 0, "must be an object");
		return false;
	}
	cJSON_ArrayForEach(it, obj) {
		size_t k;
		for (k = 0; k < HB_WORD_COUNT; k++) {
			if (strcmp(it->string, hb_wording_keys[k]) == 0)
				break;
		}
		if (k == HB_WORD_COUNT) {
			hb_error_set(ld->err, ld->file, "replies", 0, 0,
				"unknown reply \"%s\"", it->string);
			return false;
		}
		const char *s = get_string(ld, "replies", obj, it->string, true);
		if (!s)
			return false;
		free(ld->engine->wording[k]);
		if (!dup_string(ld, "replies", &ld->engine->wording[k], s))
			return false;
	}
	return true;
}

