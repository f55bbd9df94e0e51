/* Typos of red-flag words (typo.h), and the per-message word pass. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "grow.h"
#include "negation.h"
#include "text.h"
#include "typo.h"
#include "util.h"

#define MIN_LEN 4      /* red-flag words */
#define MIN_TYPO_LEN 3 /* message words: "hed" is "head" with a letter dropped */
#define MAX_LEN 32

#define F_KNOWN 1u
#define F_ENGLISH 2u
#define F_CUE 4u
#define F_LANG(i) (8u << (i))

/* vocab_add()'s prefix: the word may go on (2: it must, "urin(?:e|al)") */
#define REQUIRED_GROUP 2

struct vocab {
	char *word;
	size_t len;
	int prefix; /* written "word\w*" or "word(…)": the word may go on */
	unsigned langs; /* languages of the rules using it: bit 0 English,
	                 * bit 1 + i e->langs->items[i] */
};

struct hb_typo {
	/* real words one slip from a red-flag word: looked up only for a
	 * word already unknown, so they stay out of the hot table */
	struct hb_strset real;
	/* surface word -> F_* flags, open addressing */
	struct slot {
		char *word;
		uint32_t hash, len, flags, vocab; /* vocab: index + 1 */
	} *table;
	size_t cap, count;
	struct vocab *vocab;
	size_t n_vocab;
	const char **vocab_words;
	/* single-deletion keys of the vocabulary (SymSpell) */
	struct dkey { char *key; uint32_t len, vocab, next; } *keys;
	size_t n_keys, cap_keys;
	uint32_t *heads;
	size_t hcap;
	/* per first letter, bit L: a word (or a prefix) of L letters; a
	 * message word no vocabulary word could be one slip from is not
	 * looked up at all */
	uint64_t whole_lens[26], prefix_lens[26];
	uint8_t cls[256]; /* C_WORD, C_LETTER per byte */
};

enum { C_WORD = 1, C_LETTER = 2 };

static uint32_t table_flags_of(const struct hb_typo *t, const char *w,
		size_t len);

/* F_CUE when the word without its apostrophes starts a cue. */
static uint32_t apostrophe_cue(const struct hb_typo *t, const char *w,
		size_t n)
{
	char buf[MAX_LEN + 1];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (w[i] == '\'')
			continue;
		if (k == MAX_LEN)
			return 0;
		buf[k++] = w[i];
	}
	return table_flags_of(t, buf, k) & F_CUE;
}

static uint32_t hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static struct slot *table_slot_h(const struct hb_typo *t, const char *w,
		size_t len, uint32_t h)
{
	size_t mask = t->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct slot *s = &t->table[i];
		if (!s->word || (s->hash == h && s->len == len &&
				memcmp(s->word, w, len) == 0))
			return &t->table[i];
	}
}

static struct slot *table_slot(const struct hb_typo *t, const char *w,
		size_t len)
{
	return table_slot_h(t, w, len, hash(w, len));
}

static uint32_t table_flags_of(const struct hb_typo *t, const char *w,
		size_t len)
{
	const struct slot *s = table_slot(t, w, len);
	return s->word ? s->flags : 0;
}

static bool table_add(struct hb_typo *t, const char *w, size_t len,
		uint32_t flags)
{
	if ((t->count + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct slot *old = t->table;
		size_t old_cap = t->cap;
		if (!(t->table = calloc(cap, sizeof(*t->table)))) {
			t->table = old;
			return false;
		}
		t->cap = cap;
		for (size_t i = 0; i < old_cap; i++) {
			if (old[i].word)
				*table_slot(t, old[i].word, strlen(old[i].word)) = old[i];
		}
		free(old);
	}
	struct slot *s = table_slot(t, w, len);
	if (!s->word) {
		if (!(s->word = hb_memdup(w, len)))
			return false;
		s->hash = hash(w, len);
		s->len = (uint32_t)len;
		t->count++;
	}
	s->flags |= flags;
	return true;
}

static struct hb_typo *get_typo(struct hb_engine *e)
{
	if (!e->typo)
		e->typo = calloc(1, sizeof(*e->typo));
	return e->typo;
}

bool hb_typo_load(struct hb_loader *ld, const cJSON *obj)
{
	struct hb_typo *t = get_typo(ld->engine);
	const cJSON *it;
	if (!t) {
		hb_error_set(ld->err, ld->file, "typos", 0, 0, "out of memory");
		return false;
	}
	if (!cJSON_IsObject(obj)) {
		hb_error_set(ld->err, ld->file, "typos", 0, 0, "must be an object");
		return false;
	}
	cJSON_ArrayForEach(it, obj) {
		if (strcmp(it->string, "description") == 0)
			continue;
		if (strcmp(it->string, "not_typos") != 0 || !cJSON_IsArray(it)) {
			hb_error_set(ld->err, ld->file, "typos", 0, 0,
				"\"typos\" holds \"not_typos\": [words] (and a \"description\")");
			return false;
		}
		const cJSON *w;
		size_t k = 0;
		cJSON_ArrayForEach(w, it) {
			size_t len = cJSON_IsString(w) ? strlen(w->valuestring) : 0;
			k++;
			if (!len || strspn(w->valuestring, "abcdefghijklmnopqrstuvwxyz") != len) {
				hb_error_set(ld->err, ld->file, "typos.not_typos", 0, 0,
					"item %zu: words are lower-case a-z", k);
				return false;
			}
			if (!hb_strset_add(&t->real, w->valuestring, len)) {
				hb_error_set(ld->err, ld->file, "typos", 0, 0, "out of memory");
				return false;
			}
		}
	}
	return true;
}

static bool key_is(const struct dkey *k, const char *s, size_t len)
{
	return k->len == len && memcmp(k->key, s, len) == 0;
}

static bool key_add(struct hb_typo *t, const char *key, size_t len,
		uint32_t vocab)
{
	uint32_t h = hash(key, len) & (uint32_t)(t->hcap - 1);
	for (uint32_t i = t->heads[h]; i; i = t->keys[i - 1].next) {
		if (t->keys[i - 1].vocab == vocab && key_is(&t->keys[i - 1], key, len))
			return true;
	}
	if (t->n_keys == t->cap_keys) {
		size_t cap = t->cap_keys ? t->cap_keys * 2 : 1024;
		struct dkey *k = realloc(t->keys, cap * sizeof(*k));
		if (!k)
			return false;
		t->keys = k;
		t->cap_keys = cap;
	}
	struct dkey *k = &t->keys[t->n_keys];
	if (!(k->key = hb_memdup(key, len)))
		return false;
	k->len = (uint32_t)len;
	k->vocab = vocab;
	k->next = t->heads[h];
	t->heads[h] = (uint32_t)++t->n_keys;
	return true;
}

static bool vocab_add(struct hb_typo *t, const char *w, size_t len, int prefix,
		unsigned langs)
{
	if (len < MIN_LEN || len > MAX_LEN)
		return true;
	/* "urin" of "urin(?:e|ating)" is no word: "my urin is dark" must
	 * still be read as a typo of "urine" */
	if (!table_add(t, w, len, prefix == REQUIRED_GROUP ? 0 : F_KNOWN))
		return false;
	struct slot *s = table_slot(t, w, len);
	if (s->vocab) {
		t->vocab[s->vocab - 1].prefix |= prefix != 0;
		t->vocab[s->vocab - 1].langs |= langs;
		return true;
	}
	s->vocab = (uint32_t)t->n_vocab + 1;
	struct vocab *v = hb_grow(t->vocab, t->n_vocab, sizeof(*v));
	if (!v)
		return false;
	t->vocab = v;
	v = &t->vocab[t->n_vocab];
	if (!(v->word = hb_memdup(w, len)))
		return false;
	v->len = len;
	v->prefix = prefix != 0;
	v->langs = langs;
	t->n_vocab++;
	return true;
}

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 ||
		(c >= 'A' && c <= 'Z');
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether the group opening at s is followed by ? or * (may be left out). */
static bool group_optional(const char *s)
{
	int depth = 0;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
		} else if (*s == '[') {
			while (s[1] && s[1] != ']')
				s += s[1] == '\\' && s[2] ? 2 : 1;
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')' && --depth == 0) {
			return s[1] == '?' || s[1] == '*' || strncmp(s + 1, "{0", 2) == 0;
		}
	}
	return false;
}

static bool group_words(struct hb_typo *t, const char *w, size_t len,
		const char *src, size_t *at, unsigned langs)
{
	size_t i = *at, n = strlen(src);
	size_t body = i + (strncmp(src + i, "(?:", 3) == 0 ? 3 : 1);
	int depth = 1;
	bool flat = src[i + 1] != '?' || src[i + 2] == ':';
	for (i = body; i < n; i++) {
		if (src[i] == '\\') {
			i++;
			flat = false;
		} else if (src[i] == '(') {
			flat = flat && depth == 0;
			depth++;
		} else if (src[i] == ')' && --depth == 0) {
			break;
		} else if (!is_letter(src[i]) && src[i] != '|') {
			flat = false;
		}
	}
	size_t close = i;
	*at = i < n ? i + 1 : n;
	for (size_t p = body; flat && p <= close && close < n;) {
		size_t q = p;
		char word[MAX_LEN + 2];
		while (q < close && src[q] != '|')
			q++;
		if (len + (q - p) <= MAX_LEN) {
			memcpy(word, w, len);
			for (size_t k = p; k < q; k++)
				word[len + k - p] = (char)(src[k] | 0x20);
			if (!vocab_add(t, word, len + (q - p), false, langs))
				return false;
		}
		p = q + 1;
	}
	return true;
}

/*
 * The literal words of a pattern: runs of letters outside escapes,
 * classes and quantifiers. "breathe?" gives "breath" and "breathe";
 * "sever\w*" and "bleed(?:ing)" give prefixes. Words of lookarounds come
 * too; a correction toward one only makes a text that does not match.
 */
static bool pattern_words(struct hb_typo *t, const char *src, unsigned langs)
{
	size_t i = 0, n = strlen(src);
	while (i < n) {
		char c = src[i];
		if (c == '\\') {
			i += 2;
			if (i <= n && (src[i - 1] == 'p' || src[i - 1] == 'P' ||
					src[i - 1] == 'x') && i < n && src[i] == '{') {
				while (i < n && src[i] != '}')
					i++;
			}
			continue;
		}
		if (c == '[') {
			for (i++; i < n && src[i] != ']'; i++) {
				if (src[i] == '\\')
					i++;
			}
			i++;
			continue;
		}
		if (c == '{') {
			while (i < n && src[i] != '}')
				i++;
			continue;
		}
		if (c == '(' && i + 1 < n && src[i + 1] == '?') {
			/* (?:  (?=  (?!  (?<=  (?<!  (?i)  (?<name> */
			i += 2;
			if (i < n && src[i] == '<' && i + 1 < n && is_letter(src[i + 1])) {
				while (i < n && src[i] != '>')
					i++;
			}
			while (i < n && is_letter(src[i]))
				i++;
			continue;
		}
		if (!is_letter(c)) {
			i++;
			continue;
		}
		char w[MAX_LEN + 2];
		size_t len = 0;
		while (i < n && is_letter(src[i])) {
			if (len <= MAX_LEN)
				w[len] = (char)(src[i] | 0x20);
			len++;
			i++;
		}
		if (len > MAX_LEN)
			continue;
		const char *next = src + i;
		bool optional = *next == '?' || *next == '*' || strncmp(next, "{0", 2) == 0;
		int prefix = strncmp(next, "\\w", 2) == 0 || *next == '(' || *next == '[';
		if (*next == '(' && !group_optional(src + i))
			prefix = REQUIRED_GROUP;
		if (optional) {
			if (!vocab_add(t, w, len - 1, false, langs))
				return false;
		}
		if (!vocab_add(t, w, len, prefix, langs))
			return false;
		/* "urin(?:e|ating)": a group of plain endings makes whole
		 * words ("urine", "urinating"); what any group holds are
		 * endings, not words, so it is skipped */
		if (*next == '(' && !group_words(t, w, len, src, &i, langs))
			return false;
	}
	return true;
}

static bool add_words(struct hb_typo *t, char **words, size_t n, uint32_t flags)
{
	for (size_t i = 0; i < n; i++) {
		if (!table_add(t, words[i], strlen(words[i]), flags))
			return false;
	}
	return true;
}

struct text_ctx {
	struct hb_typo *typo;
	bool oom;
};

static bool add_text_word(void *data, const char *word, size_t len, size_t off)
{
	struct text_ctx *ctx = data;
	if (len < MIN_TYPO_LEN || len > MAX_LEN)
		return true;
	if (!table_add(ctx->typo, word, len, F_KNOWN)) {
		ctx->oom = true;
		return false;
	}
	return true;
}

static void add_text(struct text_ctx *ctx, const char *text)
{
	struct hb_buf norm;
	if (!text || ctx->oom)
		return;
	hb_buf_init(&norm);
	hb_text_normalize(text, strlen(text), &norm);
	if (norm.oom)
		ctx->oom = true;
	else if (norm.len)
		hb_text_words(norm.data, norm.len, add_text_word, ctx);
	hb_buf_finish(&norm);
}

/* The articles' words as written are known words: one probe per message
 * word instead of a stem and a word-map lookup. */
static bool add_articles(struct hb_typo *t, const struct hb_engine *e)
{
	struct text_ctx ctx = { t, false };
	for (size_t i = 0; i < e->n_articles; i++) {
		const struct hb_article *a = &e->articles[i];
		add_text(&ctx, a->title);
		for (size_t k = 0; k < a->n_topics; k++)
			add_text(&ctx, a->topics[k].name);
		for (size_t s = 0; s < a->n_sections; s++) {
			const struct hb_section *sec = &a->sections[s];
			add_text(&ctx, sec->heading);
			for (size_t b = 0; b < sec->n_blocks; b++) {
				add_text(&ctx, sec->blocks[b].text);
				for (size_t k = 0; k < sec->blocks[b].n_items; k++)
					add_text(&ctx, sec->blocks[b].items[k]);
			}
		}
	}
	for (size_t i = 0; i < e->n_lexicon; i++)
		add_text(&ctx, e->lexicon[i].canonical);
	return !ctx.oom;
}

/* A rule's language as a vocabulary bit: English, or its reply language
 * (a language the "languages" data does not name counts as English). */
static unsigned lang_bit(const struct hb_engine *e, const char *code)
{
	for (size_t i = 0; code && e->langs && i < e->langs->n; i++) {
		if (strcmp(e->langs->items[i].code, code) == 0)
			return 2u << i;
	}
	return 1u;
}

static bool add_cue(void *data, const char *word)
{
	/* {YEAR} and {ANY} start no cue (the loader refuses {ANY}); a
	 * {YEAR} first would need every number flagged */
	return word[0] == '{' || table_add(data, word, strlen(word), F_CUE);
}

bool hb_typo_build(struct hb_engine *e)
{
	struct hb_typo *t = get_typo(e);
	if (!t || !add_articles(t, e))
		return false;
	for (int b = 0; b < 256; b++)
		t->cls[b] = (uint8_t)((word_byte((unsigned char)b) ? C_WORD : 0) |
			(is_letter((char)b) ? C_LETTER : 0));
	for (size_t i = 0; i < e->n_redflags; i++) {
		const struct hb_patterns *ps = &e->redflags[i].patterns;
		unsigned langs = lang_bit(e, e->redflags[i].lang);
		for (size_t j = 0; j < ps->n; j++) {
			if (!pattern_words(t, ps->items[j].source, langs))
				return false;
		}
	}
	if (!(t->vocab_words = calloc(t->n_vocab + 1, sizeof(*t->vocab_words))))
		return false;
	t->hcap = 64;
	while (t->hcap < t->n_vocab * 8)
		t->hcap *= 2;
	if (!(t->heads = calloc(t->hcap, sizeof(*t->heads))))
		return false;
	for (size_t i = 0; i < t->n_vocab; i++) {
		const struct vocab *v = &t->vocab[i];
		char buf[MAX_LEN + 1];
		t->vocab_words[i] = v->word;
		if (v->word[0] >= 'a' && v->word[0] <= 'z') {
			t->whole_lens[v->word[0] - 'a'] |= 1ull << v->len;
			if (v->prefix)
				t->prefix_lens[v->word[0] - 'a'] |= 1ull << v->len;
		}
		if (!key_add(t, v->word, v->len, (uint32_t)i))
			return false;
		for (size_t k = 0; k < v->len; k++) {
			memcpy(buf, v->word, k);
			memcpy(buf + k, v->word + k + 1, v->len - k - 1);
			if (!key_add(t, buf, v->len - 1, (uint32_t)i))
				return false;
		}
	}
	if (e->langs) {
		if (!add_words(t, e->langs->english, e->langs->n_english,
				F_KNOWN | F_ENGLISH))
			return false;
		for (size_t i = 0; i < e->langs->n; i++) {
			if (!add_words(t, e->langs->items[i].words,
					e->langs->items[i].n_words, F_KNOWN | F_LANG(i)))
				return false;
		}
	}
	/* everyday words whose stem is the word ("should", "what"): one
	 * probe instead of a stem and a word-map lookup per message */
	for (size_t i = 0; i < e->words.n_words; i++) {
		const char *w = e->words.words[i].stem;
		if (e->words.words[i].everyday &&
				!table_add(t, w, strlen(w), F_KNOWN))
			return false;
	}
	if (!hb_negation_first_words(e->negation, add_cue, t))
		return false;
	/* a table with nothing in it still answers lookups */
	return t->cap || table_add(t, "", 0, 0);
}

void hb_typo_destroy(struct hb_typo *t)
{
	if (!t)
		return;
	hb_strset_finish(&t->real);
	for (size_t i = 0; i < t->cap; i++)
		free(t->table[i].word);
	free(t->table);
	for (size_t i = 0; i < t->n_vocab; i++)
		free(t->vocab[i].word);
	free(t->vocab);
	free(t->vocab_words);
	for (size_t i = 0; i < t->n_keys; i++)
		free(t->keys[i].key);
	free(t->keys);
	free(t->heads);
	free(t);
}

size_t hb_typo_vocabulary(const struct hb_engine *e, const char ***words)
{
	*words = e->typo ? e->typo->vocab_words : NULL;
	return e->typo ? e->typo->n_vocab : 0;
}

bool hb_typo_vocabulary_prefix(const struct hb_engine *e, size_t i)
{
	return e->typo && i < e->typo->n_vocab && e->typo->vocab[i].prefix;
}

void hb_typo_scan(const struct hb_engine *e, const char *text, size_t len,
		struct hb_wordscan *out)
{
	const struct hb_typo *t = e->typo;
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0;
	memset(out->votes, 0, sizeof(out->votes));
	out->n_unknown = 0;
	/* without a word table nothing is known: every match is weighed */
	out->cues = true;
	if (!t || !t->cap)
		return;
	out->cues = false;
	/* one table lookup per byte: this runs on every message */
	const uint8_t *cls = t->cls;
	while (i < len) {
		while (i < len && !(cls[p[i]] & C_WORD))
			i++;
		size_t start = i;
		unsigned letters = C_LETTER;
		uint32_t h = 2166136261u; /* hash() as the bytes go by */
		while (i < len && ((cls[p[i]] & C_WORD) || (p[i] == '\'' &&
				i + 1 < len && (cls[p[i + 1]] & C_WORD) && i > start))) {
			letters &= cls[p[i]];
			h = (h ^ p[i]) * 16777619u;
			i++;
		}
		size_t n = i - start;
		if (!n)
			continue;
		const struct slot *sl = table_slot_h(t, text + start, n, h);
		uint32_t flags = sl->word ? sl->flags : 0;
		/* cues are written without apostrophes: "don't" is "dont" */
		if (!(flags & F_CUE) && !letters && memchr(text + start, '\'', n))
			flags |= apostrophe_cue(t, text + start, n);
		if (flags & ~F_KNOWN) {
			out->cues |= (flags & F_CUE) != 0;
			if (flags & F_ENGLISH)
				out->votes[HB_MAX_LANGS]++;
			for (size_t l = 0; l < HB_MAX_LANGS; l++) {
				if (flags & F_LANG(l))
					out->votes[l]++;
			}
		}
		if ((flags & F_KNOWN) || !letters || n < MIN_TYPO_LEN || n > MAX_LEN ||
				out->n_unknown == HB_TYPO_MAX_UNKNOWN)
			continue;
		/* an everyday word as written ("should", "make", "gets") is
		 * known (the articles' own words are in the table); a longer
		 * inflection is not, because stems hide typos ("cuting" is
		 * "cut", "urin" is "urine") and the real-word list guards those */
		char stem[MAX_LEN + 1];
		size_t sn = hb_text_stem(text + start, n, stem);
		const struct hb_word *hw = n - sn <= 1 &&
			memcmp(stem, text + start, sn) == 0 ?
			hb_wordmap_get(&e->words, stem, sn) : NULL;
		if (hw && hw->everyday)
			continue;
		out->unknown[out->n_unknown].off = (uint32_t)start;
		out->unknown[out->n_unknown].len = (uint32_t)n;
		out->n_unknown++;
	}
}

static bool vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* QWERTY neighbours: a finger that slipped one key; or one vowel for
 * another, the commonest spelling slip ("ambulence"); or c for s or k. */
static bool neighbours(char a, char b)
{
	if (vowel(a) && vowel(b))
		return true;
	/* letters that sound alike: "pestiside", "kramp" */
	if ((a == 'c' && (b == 's' || b == 'k')) || (b == 'c' && (a == 's' || a == 'k')))
		return true;
	static const char *const near[26] = {
		"qwsz", "vghn", "xdfv", "erfscx", "wrsd", "rtdgcv", "tyfhvb",
		"yugjbn", "uojk", "uihknm", "iojlm", "opk", "njk", "bhjm", "ipkl",
		"ol", "wa", "etdf", "weadzx", "ryfg", "yihj", "cfgb", "qeas", "zsdc",
		"tugh", "asx",
	};
	return a >= 'a' && a <= 'z' && strchr(near[a - 'a'], b) != NULL && b;
}

bool hb_typo_one_slip(const char *a, size_t la, const char *b, size_t lb)
{
	size_t i = 0;
	if (la == lb) {
		while (i < la && a[i] == b[i])
			i++;
		if (i == la)
			return false; /* the same word */
		if (i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
				memcmp(a + i + 2, b + i + 2, la - i - 2) == 0)
			return true;
		return i > 0 && neighbours(a[i], b[i]) &&
			memcmp(a + i + 1, b + i + 1, la - i - 1) == 0;
	}
	if (la + 1 == lb) {
		const char *s = a;
		size_t ls = la;
		a = b;
		la = lb;
		b = s;
		lb = ls;
	}
	if (la != lb + 1)
		return false;
	while (i < lb && a[i] == b[i])
		i++;
	return i > 0 && memcmp(a + i + 1, b + i, lb - i) == 0;
}

struct best {
	const struct vocab *v;
	size_t replaced; /* letters of the message word it replaces */
	bool tie;
};

/* A correction of more of the message word, then toward a longer word,
 * is the clearer one; two different words of the same rank are a tie. */
static void consider(struct best *best, const struct vocab *v, size_t replaced)
{
	if (best->v == v)
		return;
	if (best->v) {
		if (replaced < best->replaced || (replaced == best->replaced &&
				v->len < best->v->len))
			return;
		if (replaced == best->replaced && v->len == best->v->len) {
			best->tie = true;
			return;
		}
	}
	*best = (struct best){ v, replaced, false };
}

/* Candidates for w (all of it, or its first len letters for prefixes). */
static void candidates(const struct hb_typo *t, const char *w, size_t len,
		bool whole, unsigned langs, struct best *best)
{
	char buf[MAX_LEN + 1];
	for (size_t k = 0; k <= len; k++) {
		const char *key = w;
		size_t klen = len;
		if (k < len) {
			memcpy(buf, w, k);
			memcpy(buf + k, w + k + 1, len - k - 1);
			key = buf;
			klen = len - 1;
		}
		uint32_t h = hash(key, klen) & (uint32_t)(t->hcap - 1);
		for (uint32_t i = t->heads[h]; i; i = t->keys[i - 1].next) {
			const struct dkey *d = &t->keys[i - 1];
			const struct vocab *v = &t->vocab[d->vocab];
			if (key_is(d, key, klen) && (whole || v->prefix) &&
					(v->langs & langs) &&
					hb_typo_one_slip(w, len, v->word, v->len))
				consider(best, v, len);
		}
	}
}

static bool already_matches(const struct hb_typo *t, const char *w, size_t len)
{
	/* "severly": "sever\w*" matches it as written */
	for (size_t l = MIN_LEN; l < len; l++) {
		uint32_t h = hash(w, l) & (uint32_t)(t->hcap - 1);
		for (uint32_t i = t->heads[h]; i; i = t->keys[i - 1].next) {
			const struct dkey *d = &t->keys[i - 1];
			const struct vocab *v = &t->vocab[d->vocab];
			if (v->prefix && v->len == l && key_is(d, w, l))
				return true;
		}
	}
	return false;
}

bool hb_typo_correct(const struct hb_engine *e, const char *text, size_t len,
		const struct hb_wordscan *scan, struct hb_buf *out)
{
	const struct hb_typo *t = e->typo;
	size_t at = 0;
	bool changed = false;
	if (!t || !t->n_vocab)
		return false;
	/* a Spanish message is corrected toward Spanish rules' words only,
	 * an English one toward English words: "anos" (años) is no typo of
	 * anything English, and "sever" none of anything Spanish */
	int lang = hb_lang_choose(e, scan->votes, NULL);
	unsigned langs = lang < 0 ? 1u : 2u << lang;
	hb_buf_reset(out);
	for (size_t u = 0; u < scan->n_unknown; u++) {
		char w[MAX_LEN + 1];
		size_t off = scan->unknown[u].off, n = scan->unknown[u].len;
		for (size_t k = 0; k < n; k++)
			w[k] = (char)(text[off + k] | 0x20);
		w[n] = '\0';
		if (already_matches(t, w, n) || hb_strset_has(&t->real, w, n))
			continue;
		struct best best = {0};
		/* one slip keeps the first letter, or swaps it with the second */
		int c0 = w[0] - 'a', c1 = w[1] - 'a';
		uint64_t whole = t->whole_lens[c0] | t->whole_lens[c1];
		uint64_t prefix = t->prefix_lens[c0] | t->prefix_lens[c1];
		if ((whole >> (n - 1)) & 7)
			candidates(t, w, n, true, langs, &best);
		for (size_t l = n - 1; !best.v && l >= MIN_LEN; l--) {
			if ((prefix >> (l - 1)) & 7)
				candidates(t, w, l, false, langs, &best);
		}
		/* "brath": "breath" or "bath"? a tie with no clear best is no
		 * correction */
		if (!best.v || best.tie)
			continue;
		hb_buf_append(out, text + at, off - at);
		hb_buf_append(out, best.v->word, best.v->len);
		at = off + best.replaced;
		changed = true;
	}
	if (!changed)
		return false;
	hb_buf_append(out, text + at, len - at);
	return !out->oom;
}
