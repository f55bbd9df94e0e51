/*
 * Off-topic precision: a question about a condition, treatment or drug
 * that an article only names is not a question about the article.
 *
 * The rule, for a message with no topic name, no unknown word and not
 * caught by an out-of-scope intent:
 *   1. it names a term of "subjects.mentioned" (in the article's words,
 *      after the lexicon), and
 *   2. no "links" pattern ties it to the topic (a leg word, "cause this",
 *      "could that be why", "is that linked"), and
 *   3. it is not a follow-up in a conversation about an article that
 *      names the term ("what about diabetes?", "and statins?", a bare
 *      "kidney disease?")
 * then the reply is the fallback. Conditions no article names never get
 * here: their words are unknown, or an out-of-scope intent takes them.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "classify.h"
#include "data.h"
#include "grow.h"
#include "subject.h"
#include "text.h"

#define COMPILE_FLAGS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | \
	PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C)

struct stems_ctx {
	struct hb_strset *set;
	bool oom;
};

static bool add_article_stem(void *data, const char *word, size_t len,
		size_t off)
{
	struct stems_ctx *ctx = data;
	char stem[256];
	(void)off;
	if (len >= sizeof(stem))
		return true;
	size_t n = hb_text_stem(word, len, stem);
	if (!hb_strset_add(ctx->set, stem, n)) {
		ctx->oom = true;
		return false;
	}
	return true;
}

static void add_text_stems(struct stems_ctx *ctx, const char *text)
{
	struct hb_buf norm;
	if (!text || ctx->oom)
		return;
	hb_buf_init(&norm);
	hb_text_normalize(text, strlen(text), &norm);
	if (norm.oom)
		ctx->oom = true;
	else if (norm.len)
		hb_text_words(norm.data, norm.len, add_article_stem, ctx);
	hb_buf_finish(&norm);
}

/* Every word the article uses, stemmed: a term must be the article's own
 * words, or it names something the article does not. */
static bool article_stems(const struct hb_article *a, struct hb_strset *set)
{
	struct stems_ctx ctx = { .set = set };
	add_text_stems(&ctx, a->title);
	for (size_t s = 0; s < a->n_sections; s++) {
		const struct hb_section *sec = &a->sections[s];
		add_text_stems(&ctx, sec->heading);
		for (size_t b = 0; b < sec->n_blocks; b++) {
			add_text_stems(&ctx, sec->blocks[b].text);
			for (size_t k = 0; k < sec->blocks[b].n_items; k++)
				add_text_stems(&ctx, sec->blocks[b].items[k]);
		}
	}
	return !ctx.oom;
}

static bool load_terms(struct hb_loader *ld, struct hb_subjects *s,
		const char *article_id, const cJSON *list)
{
	struct hb_engine *e = ld->engine;
	struct hb_strset words = {0};
	char entry[192];
	const cJSON *it;
	bool ok = false;
	int i = 0;
	uint32_t a = 0;
	snprintf(entry, sizeof(entry), "subjects.mentioned.%s", article_id);
	if (!cJSON_IsArray(list)) {
		hb_error_set(ld->err, ld->file, entry, 0, 0,
			"must be a list of terms");
		return false;
	}
	while (a < e->n_articles && strcmp(e->articles[a].id, article_id) != 0)
		a++;
	/* a library without the article has nothing that names the terms */
	if (a == e->n_articles)
		return true;
	if (!article_stems(&e->articles[a], &words)) {
		hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, list) {
		snprintf(entry, sizeof(entry), "subjects.mentioned.%s[%d]",
			article_id, i++);
		/* the file as a whole was checked to be UTF-8; normalizing
		 * replaces what a \u escape could still make invalid */
		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"a term is a non-empty string");
			goto out;
		}
		struct hb_subject_term *terms = hb_grow(s->terms, s->n_terms,
				sizeof(*terms));
		if (!terms) {
			hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
			goto out;
		}
		s->terms = terms;
		struct hb_subject_term *t = &terms[s->n_terms];
		if (!hb_phrase_init(&t->phrase, it->valuestring)) {
			hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
			goto out;
		}
		t->article = a;
		s->n_terms++;
		if (t->phrase.n_stems == 0) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"term \"%s\" has no words", it->valuestring);
			goto out;
		}
		for (size_t k = 0; k < t->phrase.n_stems; k++) {
			const char *stem = t->phrase.stems[k];
			if (!hb_strset_has(&words, stem, strlen(stem))) {
				hb_error_set(ld->err, ld->file, entry, 0, 0,
					"term \"%s\": the article \"%s\" does not use the word \"%s\"",
					it->valuestring, article_id, stem);
				goto out;
			}
		}
		const char *first = t->phrase.stems[0];
		if (!hb_strset_add(&s->first, first, strlen(first))) {
			hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
			goto out;
		}
	}
	ok = true;
out:
	hb_strset_finish(&words);
	return ok;
}

static bool load_patterns(struct hb_loader *ld, const char *key,
		const cJSON *list, struct hb_patterns *out)
{
	const cJSON *it;
	char entry[64];
	int i = 0;
	if (!list)
		return true;
	if (!cJSON_IsArray(list)) {
		hb_error_set(ld->err, ld->file, key, 0, 0,
			"must be a list of patterns");
		return false;
	}
	cJSON_ArrayForEach(it, list) {
		snprintf(entry, sizeof(entry), "%s[%d]", key, i++);
		/* PCRE2_UTF refuses invalid UTF-8 with an error of its own */
		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"a pattern is a non-empty string");
			return false;
		}
		struct hb_pattern *items = hb_grow(out->items, out->n,
				sizeof(*items));
		if (!items) {
			hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
			return false;
		}
		out->items = items;
		struct hb_pattern *p = &items[out->n++];
		*p = (struct hb_pattern){ .weight = 1 };
		if (!(p->id = strdup(entry)) || !(p->source = strdup(it->valuestring))) {
			hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
			return false;
		}
		int code;
		PCRE2_SIZE off;
		p->re = pcre2_compile((PCRE2_SPTR)p->source, PCRE2_ZERO_TERMINATED,
				COMPILE_FLAGS, &code, &off, NULL);
		if (!p->re) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(code, msg, sizeof(msg));
			hb_error_set(ld->err, ld->file, entry, 0, (int)off + 1,
				"pattern does not compile at offset %zu: %s", (size_t)off,
				(char *)msg);
			return false;
		}
		/* JIT-compiled on first use (hb_pattern_code()) */
	}
	return true;
}

bool hb_subjects_load(struct hb_loader *ld, const cJSON *obj)
{
	static const char *const keys[] = { "description", "mentioned", "links",
		"followups", NULL };
	struct hb_engine *e = ld->engine;
	const cJSON *it;
	if (!cJSON_IsObject(obj)) {
		hb_error_set(ld->err, ld->file, "subjects", 0, 0,
			"must be an object with \"mentioned\"");
		return false;
	}
	cJSON_ArrayForEach(it, obj) {
		bool known = false;
		for (size_t i = 0; keys[i]; i++)
			known = known || strcmp(it->string, keys[i]) == 0;
		if (!known) {
			hb_error_set(ld->err, ld->file, "subjects", 0, 0,
				"unknown key \"%s\"", it->string);
			return false;
		}
	}
	const cJSON *mentioned = cJSON_GetObjectItemCaseSensitive(obj, "mentioned");
	if (!cJSON_IsObject(mentioned)) {
		hb_error_set(ld->err, ld->file, "subjects", 0, 0,
			"\"mentioned\" must be an object: article id -> list of terms");
		return false;
	}
	if (!e->subjects && !(e->subjects = calloc(1, sizeof(*e->subjects)))) {
		hb_error_set(ld->err, ld->file, "subjects", 0, 0, "out of memory");
		return false;
	}
	cJSON_ArrayForEach(it, mentioned) {
		if (!load_terms(ld, e->subjects, it->string, it))
			return false;
	}
	return load_patterns(ld, "subjects.links",
			cJSON_GetObjectItemCaseSensitive(obj, "links"), &e->subjects->links) &&
		load_patterns(ld, "subjects.followups",
			cJSON_GetObjectItemCaseSensitive(obj, "followups"),
			&e->subjects->followups);
}

void hb_subjects_destroy(struct hb_subjects *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_terms; i++)
		hb_phrase_finish(&s->terms[i].phrase);
	free(s->terms);
	hb_strset_finish(&s->first);
	hb_data_patterns_finish(&s->links);
	hb_data_patterns_finish(&s->followups);
	free(s);
}

struct scan_ctx {
	const struct hb_engine *engine;
	const char *stems[HB_MAX_WORDS]; /* NULL: a word the library lacks */
	size_t n;
};

static bool see_word(void *data, const char *word, size_t len, size_t off)
{
	struct scan_ctx *ctx = data;
	const struct hb_engine *e = ctx->engine;
	char stem[HB_MAX_STEM * 4 + 8];
	const struct hb_word *w = NULL;
	(void)off;
	if (ctx->n >= HB_MAX_WORDS)
		return false;
	if (len < sizeof(stem)) {
		size_t n = hb_text_stem(word, len, stem);
		w = hb_wordmap_get(&e->words, stem, n);
		/* as classify reads it: "kidny" is "kidney" */
		if (!w && len >= 3)
			w = hb_typos_correct(&e->typos, &e->words, stem, n);
	}
	ctx->stems[ctx->n++] = w ? w->stem : NULL;
	return true;
}

static bool any_matches(const struct hb_engine *e, const struct hb_patterns *ps,
		const char *text, size_t len, pcre2_match_data *md)
{
	for (size_t i = 0; i < ps->n; i++) {
		if (hb_pattern_matches(e, &ps->items[i], text, len, md))
			return true;
	}
	return false;
}

bool hb_subjects_off_topic(const struct hb_engine *e,
		const struct hb_analysis *an, const char *convo_article,
		const char **term)
{
	const struct hb_subjects *s = e->subjects;
	const struct hb_subject_term *found = NULL;
	bool named_in_convo = false;
	size_t covered = 0;
	if (!s || !s->n_terms || an->topic >= 0)
		return false;
	const char *text = an->text.data ? an->text.data : "";
	size_t len = an->text.len;
	/* only messages that name no topic get here, so this second look at
	 * the words costs nothing on the questions the library answers */
	struct scan_ctx *ctx = malloc(sizeof(*ctx));
	if (!ctx)
		return false; /* no worse than before the rule */
	ctx->engine = e;
	ctx->n = 0;
	hb_text_words(text, len, see_word, ctx);
	for (size_t i = 0; i < ctx->n;) {
		const char *st = ctx->stems[i];
		size_t best = 0;
		const struct hb_subject_term *best_t = NULL;
		if (st && hb_strset_has(&s->first, st, strlen(st))) {
			/* the longest term starting here ("type 2 diabetes" over
			 * "diabetes") */
			for (size_t t = 0; t < s->n_terms; t++) {
				const struct hb_phrase *p = &s->terms[t].phrase;
				size_t k = 0;
				while (k < p->n_stems && i + k < ctx->n && ctx->stems[i + k] &&
						strcmp(ctx->stems[i + k], p->stems[k]) == 0)
					k++;
				if (k == p->n_stems && k > best) {
					best = k;
					best_t = &s->terms[t];
				}
			}
		}
		if (!best_t) {
			i++;
			continue;
		}
		if (!found)
			found = best_t;
		if (convo_article && *convo_article &&
				strcmp(e->articles[best_t->article].id, convo_article) == 0)
			named_in_convo = true;
		covered += best;
		i += best;
	}
	size_t n_words = ctx->n;
	free(ctx);
	if (!found)
		return false;
	*term = found->phrase.name;
	if (any_matches(e, &s->links, text, len, an->md))
		return false;
	/* in a conversation about the article, "what about diabetes?" asks
	 * whether diabetes is linked too: the article's list answers it */
	if (named_in_convo && (covered == n_words ||
			any_matches(e, &s->followups, text, len, an->md)))
		return false;
	return true;
}
