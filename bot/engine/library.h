#ifndef HB_LIBRARY_H
#define HB_LIBRARY_H

/* The loaded, immutable library: articles and everything from intents/. */

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stdint.h>

#include "healthbot.h"
#include "prefilter.h"
#include "terms.h"

struct hb_subjects;
struct hb_negation;
struct hb_langs;
struct hb_typo;
struct hb_rendered;

enum hb_block_type {
	HB_BLOCK_PARAGRAPH,
	HB_BLOCK_LIST,
};

struct hb_block {
	enum hb_block_type type;
	char *text;    /* paragraph, or the list's lead-in line (may be NULL) */
	char **items;  /* list items, without the bullet */
	size_t n_items;
	int line;
};

struct hb_section {
	char *heading;
	struct hb_block *blocks;
	size_t n_blocks;
	int line;
};

/* A word sequence, stemmed, for matching names against messages. */
struct hb_phrase {
	char *name;   /* as written, lower case */
	char **stems;
	size_t n_stems;
};

struct hb_article {
	char *id;
	char *path;
	char *title;
	char **provenance;
	size_t n_provenance;
	char *publisher;
	char *updated;
	int64_t updated_days; /* days since 1970-01-01, -1 when unparsable */
	char *copyright;
	struct hb_phrase *topics;
	size_t n_topics;
	struct hb_section *sections;
	size_t n_sections;
	/* source line and disclaimer, rendered once */
	char *source_text;
	char *source_html;
};

struct hb_pattern {
	char *id;      /* "<entry>#<n>" */
	char *source;
	pcre2_code *re;
	/* What pcre2_match() runs (hb_pattern_code()): NULL until the first
	 * use, then a JIT-compiled copy of re, or re itself when JIT is off
	 * or fails. JIT-compiling all ~700 patterns at load was 45% of the
	 * start-up, while a message runs a handful of them. A copy, stored
	 * atomically, so another thread answering with the same engine sees
	 * either nothing (and compiles its own) or a finished one. */
	_Atomic(pcre2_code *) code;
	int weight;
	uint32_t slot;  /* bit in the literal prefilter */
};

struct hb_patterns {
	struct hb_pattern *items;
	size_t n;
};

struct hb_target {
	char *article;     /* NULL: any article */
	char **sections;
	size_t n_sections;
	char **contains;   /* NULL: whole section */
	size_t n_contains;
	size_t first;      /* 0: all blocks */
};

/* A passage resolved once at load: which blocks of which section. */
struct hb_passage {
	const struct hb_section *section; /* NULL: the article has none */
	const struct hb_block **blocks;
	size_t n_blocks;
};

struct hb_intent {
	char *id;
	char *file;
	char *description;
	enum hb_severity severity;
	bool fallback;
	bool about;
	struct hb_patterns patterns;
	struct hb_target *targets;
	size_t n_targets;
	struct hb_passage *answers; /* per article: the first target found */
};

struct hb_redflag {
	char *id;
	char *file;
	char *category;
	enum hb_severity severity;
	struct hb_patterns patterns;
	struct hb_target passage;
	bool has_passage;
	struct hb_passage *passages; /* per article */
	char *lang;     /* "lang" of its file ("es"); NULL: English */
};

struct hb_smalltalk {
	char *id;
	char *file;
	struct hb_patterns patterns;
	char *reply;
};

struct hb_lexeme {
	char *id;
	char *canonical;
	size_t canonical_len;
	struct hb_patterns patterns; /* wrapped in \b(?:…)\b */
};

/* What the library knows about one stemmed word. */
struct hb_word {
	char *stem;
	bool everyday;        /* in the vocabulary list */
	bool lexical;         /* in a topic name or a lexicon canonical term */
	uint32_t *articles;   /* articles whose text uses it */
	size_t n_articles;
	struct hb_topic_ref { uint32_t article, topic; } *starts; /* topic names
	                                                           * starting here */
	size_t n_starts;
};

/* stem -> struct hb_word, open addressing. */
struct hb_wordmap {
	struct hb_word *words;
	size_t n_words;
	uint32_t *slots; /* index + 1, 0 when empty */
	size_t cap;
};

#define HB_MAX_STEM 32

/* Single-deletion neighbourhood of every known word (SymSpell): a typo
 * within one edit shares a key with the word it misspells, so finding it
 * is a few hash lookups instead of a pass over the vocabulary. */
struct hb_typos {
	struct hb_typo_entry {
		char *key;
		uint32_t word;
		uint32_t next; /* index + 1 of the next entry in the bucket */
	} *entries;
	size_t n, cap_entries;
	uint32_t *heads;
	size_t cap; /* power of two */
};

/* A set of strings with O(1) lookup (open addressing). */
struct hb_strset {
	char **slots;
	size_t cap;
	size_t count;
};

enum hb_wording {
	HB_WORD_ESCALATION_EMERGENCY,
	HB_WORD_ESCALATION_CRISIS,
	HB_WORD_ESCALATION_URGENT,
	HB_WORD_FALLBACK,
	HB_WORD_FALLBACK_SECTION,
	HB_WORD_TOO_LONG,
	HB_WORD_EMPTY,
	HB_WORD_DISCLAIMER,
	HB_WORD_SOURCE,
	/* optional from here on: a channel's own wording, for
	 * hb_engine_wording() (the Matrix staff commands) */
	HB_WORD_COMMAND_HELP,
	HB_WORD_COMMAND_TOPICS,
	HB_WORD_MATRIX_ENCRYPTED,
	HB_WORD_MATRIX_UNDECRYPTABLE,
	HB_WORD_COUNT,
	HB_WORD_OPTIONAL = HB_WORD_COMMAND_HELP,
};

struct hb_engine {
	struct hb_article *articles;
	size_t n_articles;
	struct hb_intent *intents;
	size_t n_intents;
	struct hb_redflag *redflags;
	size_t n_redflags;
	struct hb_smalltalk *smalltalk;
	size_t n_smalltalk;
	struct hb_lexeme *lexicon;
	size_t n_lexicon;
	/* Which patterns can match a message at all: most red flags and
	 * intents need a word the message does not have. */
	struct hb_prefilter *prefilter;
	struct hb_terms *terms;        /* {NAME} term classes (terms.h) */
	struct hb_subjects *subjects;  /* named, not covered (subject.h); may be NULL */
	struct hb_negation *negation;  /* negation/history cues (negation.h); may be NULL */
	struct hb_langs *langs;        /* reply languages (lang.h); may be NULL */
	struct hb_typo *typo;          /* red-flag typos, message words (typo.h) */
	pcre2_match_context *match_ctx;
	struct hb_strset vocabulary;   /* everyday words, stemmed (load only) */
	struct hb_wordmap words;
	struct hb_typos typos;
	const struct hb_intent *about; /* intent for a bare topic name */
	char *wording[HB_WORD_COUNT];
	char *emergency_number;
	char *crisis_number;
	bool no_jit;
	char *locale;
	char *topics_line; /* "Night leg cramps, …" */
	/* wording that names no article (escalations, the fallback) in
	 * every language, rendered once at load (reply.c) */
	struct hb_rendered *rendered;
	size_t n_rendered;
};

/* article.c */
bool hb_article_load(struct hb_article *article, const char *path,
		const char *id, struct hb_error *err);
void hb_article_finish(struct hb_article *article);
const struct hb_section *hb_article_section(const struct hb_article *article,
		const char *heading);

/* phrase / word sets (words.c) */
bool hb_phrase_init(struct hb_phrase *phrase, const char *name);
void hb_phrase_finish(struct hb_phrase *phrase);
struct hb_word *hb_wordmap_get(const struct hb_wordmap *map, const char *stem,
		size_t len);
struct hb_word *hb_wordmap_add(struct hb_wordmap *map, const char *stem,
		size_t len);
bool hb_typos_build(struct hb_typos *typos, const struct hb_wordmap *words);
const struct hb_word *hb_typos_correct(const struct hb_typos *typos,
		const struct hb_wordmap *words, const char *stem, size_t len);
void hb_typos_finish(struct hb_typos *typos);
void hb_wordmap_finish(struct hb_wordmap *map);
bool hb_strset_add(struct hb_strset *set, const char *s, size_t len);
bool hb_strset_has(const struct hb_strset *set, const char *s, size_t len);
void hb_strset_finish(struct hb_strset *set);

/* patterns (entries.c) */
pcre2_code *hb_pattern_code(const struct hb_engine *e, const struct hb_pattern *p);
/* pcre2_match() of p on text from offset at. */
int hb_pattern_match(const struct hb_engine *e, const struct hb_pattern *p,
		const char *text, size_t len, size_t at, pcre2_match_data *md);

/* data.c */
bool hb_data_load(struct hb_engine *engine, const char *dir,
		struct hb_error *err);
void hb_data_finish(struct hb_engine *engine);

/* error helper shared by loaders */
void hb_error_set(struct hb_error *err, const char *file, const char *entry,
		int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#endif
