#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "library.h"
#include "text.h"

struct stem_ctx {
	struct hb_phrase *phrase;
	bool oom;
};

static bool add_stem(void *data, const char *word, size_t len, size_t off)
{
	struct stem_ctx *ctx = data;
	struct hb_phrase *p = ctx->phrase;
	char *stem = malloc(len + 1);
	char **stems = realloc(p->stems, (p->n_stems + 1) * sizeof(*stems));
	if (!stem || !stems) {
		free(stem);
		if (stems)
			p->stems = stems;
		ctx->oom = true;
		return false;
	}
	p->stems = stems;
	hb_text_stem(word, len, stem);
	p->stems[p->n_stems++] = stem;
	return true;
}

bool hb_phrase_init(struct hb_phrase *phrase, const char *name)
{
	struct hb_buf norm;
	struct stem_ctx ctx = { .phrase = phrase };
	*phrase = (struct hb_phrase){0};
	hb_buf_init(&norm);
	hb_text_normalize(name, strlen(name), &norm);
	if (norm.oom)
		goto fail;
	phrase->name = hb_buf_steal(&norm);
	if (!phrase->name)
		goto fail;
	hb_text_words(phrase->name, strlen(phrase->name), add_stem, &ctx);
	if (ctx.oom)
		goto fail;
	return true;
fail:
	hb_buf_finish(&norm);
	hb_phrase_finish(phrase);
	return false;
}

void hb_phrase_finish(struct hb_phrase *phrase)
{
	for (size_t i = 0; i < phrase->n_stems; i++)
		free(phrase->stems[i]);
	free(phrase->stems);
	free(phrase->name);
	*phrase = (struct hb_phrase){0};
}

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool slot_eq(const char *slot, const char *s, size_t len)
{
	return strncmp(slot, s, len) == 0 && slot[len] == '\0';
}

bool hb_strset_has(const struct hb_strset *set, const char *s, size_t len)
{
	if (set->cap == 0)
		return false;
	size_t mask = set->cap - 1;
	for (size_t i = hash(s, len) & mask;; i = (i + 1) & mask) {
		if (!set->slots[i])
			return false;
		if (slot_eq(set->slots[i], s, len))
			return true;
	}
}

static bool grow(struct hb_strset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 256;
	char **slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < set->cap; i++) {
		char *s = set->slots[i];
		if (!s)
			continue;
		size_t j = hash(s, strlen(s)) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = s;
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return true;
}

bool hb_strset_add(struct hb_strset *set, const char *s, size_t len)
{
	if (hb_strset_has(set, s, len))
		return true;
	if ((set->count + 1) * 2 > set->cap && !grow(set))
		return false;
	size_t mask = set->cap - 1;
	size_t i = hash(s, len) & mask;
	while (set->slots[i])
		i = (i + 1) & mask;
	if (!(set->slots[i] = strndup(s, len)))
		return false;
	set->count++;
	return true;
}

void hb_strset_finish(struct hb_strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	*set = (struct hb_strset){0};
}

static uint32_t *map_slot(const struct hb_wordmap *map, const char *s,
		size_t len)
{
	size_t mask = map->cap - 1;
	for (size_t i = hash(s, len) & mask;; i = (i + 1) & mask) {
		uint32_t v = map->slots[i];
		if (!v || slot_eq(map->words[v - 1].stem, s, len))
			return &map->slots[i];
	}
}

struct hb_word *hb_wordmap_get(const struct hb_wordmap *map, const char *stem,
		size_t len)
{
	if (!map->cap)
		return NULL;
	uint32_t v = *map_slot(map, stem, len);
	return v ? &map->words[v - 1] : NULL;
}

struct hb_word *hb_wordmap_add(struct hb_wordmap *map, const char *stem,
		size_t len)
{
	struct hb_word *w = hb_wordmap_get(map, stem, len);
	if (w)
		return w;
	if ((map->n_words + 1) * 2 > map->cap) {
		size_t cap = map->cap ? map->cap * 2 : 1024;
		uint32_t *slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return NULL;
		for (size_t i = 0; i < map->n_words; i++) {
			const char *k = map->words[i].stem;
			size_t j = hash(k, strlen(k)) & (cap - 1);
			while (slots[j])
				j = (j + 1) & (cap - 1);
			slots[j] = (uint32_t)i + 1;
		}
		free(map->slots);
		map->slots = slots;
		map->cap = cap;
	}
	struct hb_word *words = realloc(map->words,
			(map->n_words + 1) * sizeof(*words));
	if (!words)
		return NULL;
	map->words = words;
	w = &words[map->n_words];
	*w = (struct hb_word){0};
	if (!(w->stem = strndup(stem, len)))
		return NULL;
	*map_slot(map, stem, len) = (uint32_t)++map->n_words;
	return w;
}

bool hb_wordmap_index_lengths(struct hb_wordmap *map)
{
	map->by_len = calloc(HB_MAX_STEM + 1, sizeof(*map->by_len));
	map->n_by_len = calloc(HB_MAX_STEM + 1, sizeof(*map->n_by_len));
	if (!map->by_len || !map->n_by_len)
		return false;
	for (size_t i = 0; i < map->n_words; i++) {
		size_t len = strlen(map->words[i].stem);
		if (len > HB_MAX_STEM)
			continue;
		uint32_t *l = realloc(map->by_len[len],
				(map->n_by_len[len] + 1) * sizeof(*l));
		if (!l)
			return false;
		map->by_len[len] = l;
		l[map->n_by_len[len]++] = (uint32_t)i;
	}
	return true;
}

void hb_wordmap_finish(struct hb_wordmap *map)
{
	for (size_t i = 0; i < map->n_words; i++) {
		free(map->words[i].stem);
		free(map->words[i].articles);
		free(map->words[i].starts);
	}
	free(map->words);
	free(map->slots);
	if (map->by_len) {
		for (size_t i = 0; i <= HB_MAX_STEM; i++)
			free(map->by_len[i]);
	}
	free(map->by_len);
	free(map->n_by_len);
	*map = (struct hb_wordmap){0};
}
