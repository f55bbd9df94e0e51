/* Loading the library into an engine, and what an engine can tell. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "article.h"
#include "buf.h"
#include "grow.h"
#include "library.h"
#include "passage.h"
#include "reply.h"
#include "text.h"
#include "typo.h"
#include "utf8.h"
#include "util.h"

#define MAX_SIDECAR_BYTES (64 * 1024)
#define MAX_TOPICS_LISTED 12


static bool load_sidecar(struct hb_article *a, const char *path,
		struct hb_error *err)
{
	bool ok = false;
	cJSON *root = hb_read_json(path, MAX_SIDECAR_BYTES, err);
	if (!root)
		return false;
	const cJSON *topics = cJSON_GetObjectItemCaseSensitive(root, "topics");
	if (!cJSON_IsObject(root)) {
		hb_error_set(err, path, "", 1, 1, "expected {\"topics\": [...]}");
		goto out;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, root) {
		if (strcmp(it->string, "topics") != 0) {
			hb_error_set(err, path, it->string, 0, 0, "unknown key");
			goto out;
		}
	}
	if (topics && !cJSON_IsArray(topics)) {
		hb_error_set(err, path, "topics", 0, 0, "must be a list of names");
		goto out;
	}
	int i = 0;
	cJSON_ArrayForEach(it, topics) {
		char entry[32];
		snprintf(entry, sizeof(entry), "topics[%d]", i++);
		if (!cJSON_IsString(it) || !hb_utf8_valid(it->valuestring,
				strlen(it->valuestring))) {
			hb_error_set(err, path, entry, 0, 0, "topic names are UTF-8 strings");
			goto out;
		}
		if (!hb_article_add_topic(a, it->valuestring)) {
			hb_error_set(err, path, entry, 0, 0, "out of memory");
			goto out;
		}
	}
	ok = true;
out:
	cJSON_Delete(root);
	return ok;
}

static bool load_dir(struct hb_engine *e, const char *dir, struct hb_error *err)
{
	char **names = NULL;
	size_t n = 0;
	bool ok = false;
	if (!hb_list_dir(dir, ".txt", &names, &n, err))
		return false;
	for (size_t i = 0; i < n; i++) {
		struct hb_buf path, side;
		char *id = hb_memdup(names[i], strlen(names[i]) - 4);
		struct hb_article *arts = hb_grow(e->articles, e->n_articles,
				sizeof(*arts));
		if (!id || !arts) {
			free(id);
			if (arts)
				e->articles = arts;
			hb_error_set(err, dir, "", 0, 0, "out of memory");
			goto out;
		}
		e->articles = arts;
		for (size_t j = 0; j < e->n_articles; j++) {
			if (strcmp(e->articles[j].id, id) == 0) {
				hb_error_set(err, dir, id, 0, 0,
					"duplicate article id (also in %s)", e->articles[j].path);
				free(id);
				goto out;
			}
		}
		hb_buf_init(&path);
		hb_buf_init(&side);
		hb_buf_printf(&path, "%s/%s", dir, names[i]);
		hb_buf_printf(&side, "%s/%s.json", dir, id);
		bool loaded = !path.oom && !side.oom &&
			hb_article_load(&e->articles[e->n_articles], path.data, id, err);
		if (loaded) {
			e->n_articles++;
			if (access(side.data, F_OK) == 0)
				loaded = load_sidecar(&e->articles[e->n_articles - 1],
						side.data, err);
		}
		free(id);
		hb_buf_finish(&path);
		hb_buf_finish(&side);
		if (!loaded)
			goto out;
	}
	ok = true;
out:
	hb_free_list(names, n);
	return ok;
}

struct index_ctx {
	struct hb_engine *engine;
	uint32_t article;
	bool lexical;
	bool oom;
};

static bool index_word(void *data, const char *word, size_t len, size_t off)
{
	struct index_ctx *ctx = data;
	char stem[256];
	if (len >= sizeof(stem))
		return true;
	size_t n = hb_text_stem(word, len, stem);
	struct hb_word *w = hb_wordmap_add(&ctx->engine->words, stem, n);
	if (!w) {
		ctx->oom = true;
		return false;
	}
	if (ctx->lexical) {
		w->lexical = true;
		return true;
	}
	if (w->n_articles && w->articles[w->n_articles - 1] == ctx->article)
		return true;
	uint32_t *a = hb_grow(w->articles, w->n_articles, sizeof(*a));
	if (!a) {
		ctx->oom = true;
		return false;
	}
	w->articles = a;
	a[w->n_articles++] = ctx->article;
	return true;
}

static void index_text(struct index_ctx *ctx, const char *text)
{
	struct hb_buf norm;
	hb_buf_init(&norm);
	hb_text_normalize(text, strlen(text), &norm);
	if (norm.oom)
		ctx->oom = true;
	else if (norm.len)
		hb_text_words(norm.data, norm.len, index_word, ctx);
	hb_buf_finish(&norm);
}

static bool build_index(struct hb_engine *e)
{
	struct index_ctx ctx = { .engine = e };
	for (uint32_t i = 0; i < e->n_articles; i++) {
		const struct hb_article *a = &e->articles[i];
		ctx.article = i;
		index_text(&ctx, a->title);
		for (size_t s = 0; s < a->n_sections; s++) {
			const struct hb_section *sec = &a->sections[s];
			index_text(&ctx, sec->heading);
			for (size_t b = 0; b < sec->n_blocks; b++) {
				if (sec->blocks[b].text)
					index_text(&ctx, sec->blocks[b].text);
				for (size_t k = 0; k < sec->blocks[b].n_items; k++)
					index_text(&ctx, sec->blocks[b].items[k]);
			}
		}
		for (uint32_t t = 0; t < a->n_topics; t++) {
			const struct hb_phrase *p = &a->topics[t];
			for (size_t k = 0; k < p->n_stems; k++) {
				struct hb_word *w = hb_wordmap_add(&e->words, p->stems[k],
						strlen(p->stems[k]));
				if (!w)
					return false;
				w->lexical = true;
				if (k == 0) {
					struct hb_topic_ref *r = hb_grow(w->starts,
							w->n_starts, sizeof(*r));
					if (!r)
						return false;
					w->starts = r;
					r[w->n_starts++] = (struct hb_topic_ref){ i, t };
				}
			}
		}
	}
	ctx.lexical = true;
	for (size_t i = 0; i < e->n_lexicon; i++)
		index_text(&ctx, e->lexicon[i].canonical);
	for (size_t i = 0; i < e->vocabulary.cap; i++) {
		const char *s = e->vocabulary.slots[i];
		if (!s)
			continue;
		struct hb_word *w = hb_wordmap_add(&e->words, s, strlen(s));
		if (!w)
			return false;
		w->everyday = true;
	}
	hb_strset_finish(&e->vocabulary);
	return !ctx.oom && hb_typos_build(&e->typos, &e->words) &&
		hb_typo_build(e);
}

struct hb_engine *hb_engine_create(const struct hb_engine_options *opts,
		struct hb_error *err)
{
	struct hb_error scratch;
	struct hb_engine *e;
	struct hb_buf topics;
	if (!err)
		err = &scratch;
	*err = (struct hb_error){0};
	if (!opts || !opts->content_dir || !opts->intents_dir) {
		hb_error_set(err, "", "", 0, 0, "content and intents directories are required");
		return NULL;
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		hb_error_set(err, "", "", 0, 0, "out of memory");
		return NULL;
	}
	e->no_jit = opts->no_jit;
	if (opts->locale && !(e->locale = strdup(opts->locale))) {
		hb_error_set(err, "", "", 0, 0, "out of memory");
		goto fail;
	}
	if (!load_dir(e, opts->content_dir, err))
		goto fail;
	if (opts->extra_content_dir && !load_dir(e, opts->extra_content_dir, err))
		goto fail;
	if (e->n_articles == 0) {
		hb_error_set(err, opts->content_dir, "", 0, 0, "no articles (*.txt)");
		goto fail;
	}
	if (!hb_data_load(e, opts->intents_dir, err))
		goto fail;
	for (size_t i = 0; i < e->n_intents; i++) {
		if (e->intents[i].about && !e->about)
			e->about = &e->intents[i];
	}
	e->emergency_number = strdup(opts->emergency_number ?
			opts->emergency_number : "911");
	e->crisis_number = strdup(opts->crisis_number ? opts->crisis_number : "988");
	/* a fallback that lists a thousand titles helps nobody (and costs
	 * every such reply an escape of all of them): name the first few
	 * and count the rest */
	size_t shown = e->n_articles > MAX_TOPICS_LISTED ? MAX_TOPICS_LISTED - 1 :
		e->n_articles;
	hb_buf_init(&topics);
	for (size_t i = 0; i < shown; i++) {
		if (i)
			hb_buf_puts(&topics, i + 1 == e->n_articles ? " and " : ", ");
		hb_buf_puts(&topics, e->articles[i].title);
	}
	if (shown < e->n_articles)
		hb_buf_printf(&topics, " and %zu more topics", e->n_articles - shown);
	e->topics_line = hb_buf_steal(&topics);
	if (!e->emergency_number || !e->crisis_number || !e->topics_line ||
			!build_index(e) || !hb_reply_render_sources(e) ||
			!hb_reply_render_wording(e) ||
			!hb_passage_resolve_all(e)) {
		hb_error_set(err, opts->intents_dir, "", 0, 0, "out of memory");
		goto fail;
	}
	return e;
fail:
	hb_engine_destroy(e);
	return NULL;
}

void hb_engine_destroy(struct hb_engine *e)
{
	if (!e)
		return;
	hb_passage_free_all(e);
	hb_reply_rendered_free(e);
	for (size_t i = 0; i < e->n_articles; i++)
		hb_article_finish(&e->articles[i]);
	free(e->articles);
	hb_data_finish(e);
	hb_wordmap_finish(&e->words);
	hb_typos_finish(&e->typos);
	free(e->locale);
	free(e->emergency_number);
	free(e->crisis_number);
	free(e->topics_line);
	free(e);
}

const char *hb_engine_emergency_number(const struct hb_engine *e)
{
	return e->emergency_number;
}

const char *hb_engine_crisis_number(const struct hb_engine *e)
{
	return e->crisis_number;
}

size_t hb_engine_article_count(const struct hb_engine *e)
{
	return e->n_articles;
}

const char *hb_engine_article(const struct hb_engine *e, size_t i,
		const char **title)
{
	if (i >= e->n_articles)
		return NULL;
	if (title)
		*title = e->articles[i].title;
	return e->articles[i].id;
}
