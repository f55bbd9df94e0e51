#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "grow.h"
#include "library.h"
#include "text.h"
#include "util.h"

struct stem_ctx {
	struct hb_phrase *phrase;
	bool oom;
};

static bool add_stem(void *data, const char *word, size_t len, size_t off)
{
	struct stem_ctx *ctx = data;
	struct hb_phrase *p = ctx->phrase;
	char *stem = malloc(len + 1);
	char **stems = hb_grow(p->stems, p->n_stems, sizeof(*stems));
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
	if (!(set->slots[i] = hb_memdup(s, len)))
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
	struct hb_word *words = hb_grow(map->words, map->n_words,
			sizeof(*words));
	if (!words)
		return NULL;
	map->words = words;
	w = &words[map->n_words];
	*w = (struct hb_word){0};
	if (!(w->stem = hb_memdup(stem, len)))
		return NULL;
	*map_slot(map, stem, len) = (uint32_t)++map->n_words;
	return w;
}

static bool typo_add(struct hb_typos *t, const char *key, size_t len,
		uint32_t word)
{
	size_t h = hash(key, len) & (t->cap - 1);
	for (uint32_t i = t->heads[h]; i; i = t->entries[i - 1].next) {
		if (t->entries[i - 1].word == word && slot_eq(t->entries[i - 1].key, key, len))
			return true;
	}
	if (t->n == t->cap_entries) {
		size_t cap = t->cap_entries ? t->cap_entries * 2 : 4096;
		struct hb_typo_entry *e = realloc(t->entries, cap * sizeof(*e));
		if (!e)
			return false;
		t->entries = e;
		t->cap_entries = cap;
	}
	struct hb_typo_entry *e = &t->entries[t->n];
	if (!(e->key = hb_memdup(key, len)))
		return false;
	e->word = word;
	e->next = t->heads[h];
	t->heads[h] = (uint32_t)++t->n;
	return true;
}

static bool typo_keys(struct hb_typos *t, const char *w, size_t len,
		uint32_t word)
{
	char buf[HB_MAX_STEM + 1];
	if (!typo_add(t, w, len, word))
		return false;
	for (size_t i = 0; i < len; i++) {
		memcpy(buf, w, i);
		memcpy(buf + i, w + i + 1, len - i - 1);
		if (!typo_add(t, buf, len - 1, word))
			return false;
	}
	return true;
}

bool hb_typos_build(struct hb_typos *t, const struct hb_wordmap *words)
{
	t->cap = 1;
	while (t->cap < words->n_words * 16)
		t->cap *= 2;
	if (!(t->heads = calloc(t->cap, sizeof(*t->heads))))
		return false;
	for (size_t i = 0; i < words->n_words; i++) {
		const char *w = words->words[i].stem;
		size_t len = strlen(w);
		/* short words are too easily one edit from another word */
		if (len >= 3 && len <= HB_MAX_STEM && !typo_keys(t, w, len, (uint32_t)i))
			return false;
	}
	return true;
}

static const struct hb_word *typo_lookup(const struct hb_typos *t,
		const struct hb_wordmap *words, const char *key, size_t klen,
		const char *stem, size_t len, const struct hb_word *best)
{
	size_t h = hash(key, klen) & (t->cap - 1);
	for (uint32_t i = t->heads[h]; i; i = t->entries[i - 1].next) {
		const struct hb_typo_entry *e = &t->entries[i - 1];
		if (!slot_eq(e->key, key, klen))
			continue;
		const struct hb_word *w = &words->words[e->word];
		/* lowest index wins, so the answer never depends on hashing */
		if (best && w >= best)
			continue;
		/* a short word one edit from an everyday word is as likely an
		 * unknown subject ("gout" is not "out"): only the library's own
		 * words, or long everyday words, absorb typos */
		if (!w->lexical && w->n_articles == 0 && len < 6)
			continue;
		if (hb_text_distance(stem, len, w->stem, strlen(w->stem), 1) <= 1)
			best = w;
	}
	return best;
}

const struct hb_word *hb_typos_correct(const struct hb_typos *t,
		const struct hb_wordmap *words, const char *stem, size_t len)
{
	char buf[HB_MAX_STEM + 1];
	const struct hb_word *best = NULL;
	if (!t->cap || len < 4 || len > HB_MAX_STEM)
		return NULL;
	best = typo_lookup(t, words, stem, len, stem, len, best);
	for (size_t i = 0; i < len; i++) {
		memcpy(buf, stem, i);
		memcpy(buf + i, stem + i + 1, len - i - 1);
		best = typo_lookup(t, words, buf, len - 1, stem, len, best);
	}
	return best;
}

void hb_typos_finish(struct hb_typos *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->entries[i].key);
	free(t->entries);
	free(t->heads);
	*t = (struct hb_typos){0};
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
	*map = (struct hb_wordmap){0};
}
