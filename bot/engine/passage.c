/* Passages: where an intent's answer is in an article (passage.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "library.h"
#include "passage.h"

/* ASCII case-insensitive strstr: locators are plain article words */
static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	}
	return n == 0;
}

static bool block_contains(const struct hb_block *b, const char *needle)
{
	if (b->text && contains_nocase(b->text, needle))
		return true;
	for (size_t i = 0; i < b->n_items; i++) {
		if (contains_nocase(b->items[i], needle))
			return true;
	}
	return false;
}

size_t hb_passage_select(const struct hb_target *t, const struct hb_article *a,
		const struct hb_section **sec_out, const struct hb_block **blocks,
		size_t max)
{
	if (t->article && strcmp(t->article, a->id) != 0)
		return 0;
	for (size_t s = 0; s < t->n_sections; s++) {
		const struct hb_section *sec = hb_article_section(a, t->sections[s]);
		size_t n = 0;
		if (!sec)
			continue;
		for (size_t b = 0; b < sec->n_blocks && n < max; b++) {
			const struct hb_block *blk = &sec->blocks[b];
			bool take = t->n_contains == 0;
			for (size_t c = 0; c < t->n_contains && !take; c++)
				take = block_contains(blk, t->contains[c]);
			if (take)
				blocks[n++] = blk;
			if (t->first && n >= t->first)
				break;
		}
		if (n) {
			*sec_out = sec;
			return n;
		}
	}
	return 0;
}

bool hb_passage_resolves(const struct hb_target *t, const struct hb_article *a)
{
	const struct hb_section *sec;
	const struct hb_block *blocks[1];
	return hb_passage_select(t, a, &sec, blocks, 1) > 0;
}

static bool resolve(const struct hb_target *targets, size_t n_targets,
		const struct hb_article *a, struct hb_passage *out)
{
	const struct hb_block *blocks[256];
	*out = (struct hb_passage){0};
	for (size_t t = 0; t < n_targets; t++) {
		const struct hb_section *sec;
		size_t n = hb_passage_select(&targets[t], a, &sec, blocks, 256);
		if (!n)
			continue;
		out->blocks = malloc(n * sizeof(*out->blocks));
		if (!out->blocks)
			return false;
		memcpy(out->blocks, blocks, n * sizeof(*blocks));
		out->n_blocks = n;
		out->section = sec;
		return true;
	}
	return true;
}

/* Where each intent's answer is in each article, found once: a target
 * looks through every block of a section for its locator text, which is
 * too slow to do for every message. */
bool hb_passage_resolve_all(struct hb_engine *e)
{
	for (size_t i = 0; i < e->n_intents; i++) {
		struct hb_intent *in = &e->intents[i];
		if (!in->n_targets)
			continue;
		if (!(in->answers = calloc(e->n_articles, sizeof(*in->answers))))
			return false;
		for (size_t a = 0; a < e->n_articles; a++) {
			if (!resolve(in->targets, in->n_targets, &e->articles[a],
					&in->answers[a]))
				return false;
		}
	}
	for (size_t i = 0; i < e->n_redflags; i++) {
		struct hb_redflag *rf = &e->redflags[i];
		if (!rf->has_passage)
			continue;
		if (!(rf->passages = calloc(e->n_articles, sizeof(*rf->passages))))
			return false;
		for (size_t a = 0; a < e->n_articles; a++) {
			if (!resolve(&rf->passage, 1, &e->articles[a], &rf->passages[a]))
				return false;
		}
	}
	return true;
}

void hb_passage_free_all(struct hb_engine *e)
{
	for (size_t i = 0; i < e->n_intents; i++) {
		for (size_t a = 0; e->intents[i].answers && a < e->n_articles; a++)
			free(e->intents[i].answers[a].blocks);
		free(e->intents[i].answers);
		e->intents[i].answers = NULL;
	}
	for (size_t i = 0; i < e->n_redflags; i++) {
		for (size_t a = 0; e->redflags[i].passages && a < e->n_articles; a++)
			free(e->redflags[i].passages[a].blocks);
		free(e->redflags[i].passages);
		e->redflags[i].passages = NULL;
	}
}

