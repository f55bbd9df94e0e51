/*
 * Negation and history around red-flag matches (negation.h has the rules).
 *
 * Only messages that match a red flag get here, and only the sentence of
 * the match (and, for present cues, the rest of the message) is read:
 * words are looked up in one small hash of cue first-words, so a match in
 * a message with no cue costs one pass over its sentence.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "grow.h"
#include "negation.h"

enum role {
	R_NEG = 1 << 0,      /* "no", "denies", "without" */
	R_NOTNEG = 1 << 1,   /* "not sure", "no idea": not a negation */
	R_STILL = 1 << 2,    /* "breathing", "wake": negated, the sign itself */
	R_SUBJ = 1 << 3,     /* "i", "my": a new statement starts */
	R_HIST = 1 << 4,     /* "years ago", "history of" */
	R_PRESENT = 1 << 5,  /* "now", "today", "again" */
	R_BREAK = 1 << 6,    /* "but", "and": a clause ends */
	R_RESOLVED = 1 << 7, /* "went away" after the match */
	R_RECUR = 1 << 8,    /* "again", "still": the past sign is back */
	R_WELL = 1 << 9,     /* "i'm in a good place now" */
	R_ASK = 1 << 10,     /* "signs of", "how do i recognise": in a question */
	R_MENTION = 1 << 11, /* "a film about": talk about, not a report */
	R_REPORT = 1 << 12,  /* "i have", "i think": a report after all */
	R_QSTART = 1 << 13,  /* "what", "how": a sentence that asks */
	R_INNER = 1 << 14,   /* "isn't": may negate from inside a match */
};

static const struct {
	const char *key;
	unsigned role;
} lists[] = {
	{ "negation_cues", R_NEG },
	{ "not_negation", R_NOTNEG },
	{ "still_present", R_STILL },
	{ "subjects", R_SUBJ },
	{ "history_cues", R_HIST },
	{ "present_cues", R_PRESENT },
	{ "clause_breaks", R_BREAK },
	{ "resolved_cues", R_RESOLVED },
	{ "recurrence_cues", R_RECUR },
	{ "wellness_cues", R_WELL },
	{ "question_cues", R_ASK },
	{ "mention_cues", R_MENTION },
	{ "report_cues", R_REPORT },
	{ "question_starts", R_QSTART },
	{ "inner_negation_cues", R_INNER },
};

#define MAX_CUE_WORDS 6
#define WORD_MAX 24
#define MAX_TOKENS 160
#define MAX_OCCURRENCES 64
/* a message matching one pattern this often is judged as a whole */
#define MAX_MATCHES 32
#define MAX_SENTENCE 1024

struct cue {
	unsigned role;
	size_t n;
	char words[MAX_CUE_WORDS][WORD_MAX];
};

struct hb_negation {
	struct cue *cues;
	size_t n_cues;
	/* first word -> cues starting with it, open addressing */
	struct bucket {
		const char *word;  /* points into a cue */
		size_t len;
		uint32_t *cues;
		size_t n;
	} *buckets;
	size_t cap;
	int max_gap;
	int lead_max;
	unsigned never_negated; /* bit per enum hb_severity */
	unsigned never_past;
	unsigned past_needs_wellness;
	unsigned never_asked;
};

static uint32_t hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static struct bucket *bucket_for(const struct hb_negation *ng, const char *w,
		size_t len)
{
	size_t mask = ng->cap - 1;
	for (size_t i = hash(w, len) & mask;; i = (i + 1) & mask) {
		struct bucket *b = &ng->buckets[i];
		if (!b->word || (b->len == len && memcmp(b->word, w, len) == 0))
			return b;
	}
}

/* A cue word as the tokenizer sees words: lower case, no apostrophes. */
static bool cue_words(const char *s, struct cue *c)
{
	c->n = 0;
	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if (c->n == MAX_CUE_WORDS)
			return false;
		size_t k = 0;
		/* {YEAR} and {ANY} stand for a word; the rest reads as typed */
		bool wildcard = *s == '{';
		while (*s && *s != ' ') {
			char ch = *s++;
			if (ch == '\'')
				continue;
			if (ch >= 'A' && ch <= 'Z' && !wildcard)
				ch = (char)(ch - 'A' + 'a');
			if (k + 1 >= WORD_MAX)
				return false;
			c->words[c->n][k++] = ch;
		}
		c->words[c->n][k] = '\0';
		if (wildcard && strcmp(c->words[c->n], "{YEAR}") != 0 &&
				strcmp(c->words[c->n], "{ANY}") != 0)
			return false;
		c->n++;
	}
	return c->n > 0 && strcmp(c->words[0], "{ANY}") != 0;
}

static bool index_cues(struct hb_negation *ng)
{
	ng->cap = 64;
	while (ng->cap < ng->n_cues * 2)
		ng->cap *= 2;
	if (!(ng->buckets = calloc(ng->cap, sizeof(*ng->buckets))))
		return false;
	for (size_t i = 0; i < ng->n_cues; i++) {
		const char *w = ng->cues[i].words[0];
		struct bucket *b = bucket_for(ng, w, strlen(w));
		uint32_t *c = hb_grow(b->cues, b->n, sizeof(*c));
		if (!c)
			return false;
		b->word = w;
		b->len = strlen(w);
		b->cues = c;
		b->cues[b->n++] = (uint32_t)i;
	}
	return true;
}

static bool severity_bit(const char *s, unsigned *bits)
{
	static const struct { const char *name; enum hb_severity sev; } sevs[] = {
		{ "urgent", HB_SEVERITY_URGENT },
		{ "crisis", HB_SEVERITY_CRISIS },
		{ "emergency", HB_SEVERITY_EMERGENCY },
	};
	for (size_t i = 0; i < sizeof(sevs) / sizeof(sevs[0]); i++) {
		if (strcmp(s, sevs[i].name) == 0) {
			*bits |= 1u << sevs[i].sev;
			return true;
		}
	}
	return false;
}

/* Lists of severities: 1 never_negated, 2 never_past, 3 past_needs_wellness,
 * 4 never_asked. */
static int severity_key(const char *key)
{
	return strcmp(key, "never_negated") == 0 ? 1 :
		strcmp(key, "never_past") == 0 ? 2 :
		strcmp(key, "past_needs_wellness") == 0 ? 3 :
		strcmp(key, "never_asked") == 0 ? 4 : 0;
}

static bool get_int(struct hb_loader *ld, const cJSON *obj, const char *key,
		int min, int max, int def, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (!v)
		return true;
	if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max) {
		hb_error_set(ld->err, ld->file, "negation", 0, 0,
			"\"%s\" must be a number from %d to %d", key, min, max);
		return false;
	}
	*out = (int)v->valuedouble;
	return true;
}

static bool load_list(struct hb_loader *ld, struct hb_negation *ng,
		const cJSON *arr, const char *key, unsigned role)
{
	const cJSON *it;
	int i = 0;
	if (!cJSON_IsArray(arr)) {
		hb_error_set(ld->err, ld->file, "negation", 0, 0,
			"\"%s\" must be a list of words or phrases", key);
		return false;
	}
	cJSON_ArrayForEach(it, arr) {
		char entry[96];
		snprintf(entry, sizeof(entry), "negation.%s[%d]", key, i++);
		struct cue *c = hb_grow(ng->cues, ng->n_cues, sizeof(*c));
		if (!c) {
			hb_error_set(ld->err, ld->file, entry, 0, 0, "out of memory");
			return false;
		}
		ng->cues = c;
		c = &ng->cues[ng->n_cues];
		c->role = role;
		if (!cJSON_IsString(it) || !cue_words(it->valuestring, c)) {
			hb_error_set(ld->err, ld->file, entry, 0, 0,
				"a cue is 1 to %d words of under %d letters, not starting "
				"with {ANY}", MAX_CUE_WORDS, WORD_MAX - 1);
			return false;
		}
		ng->n_cues++;
	}
	return true;
}

bool hb_negation_load(struct hb_loader *ld, const cJSON *obj)
{
	struct hb_engine *e = ld->engine;
	struct hb_negation *ng;
	const cJSON *it;
	if (e->negation) {
		hb_error_set(ld->err, ld->file, "negation", 0, 0,
			"\"negation\" is defined in two files");
		return false;
	}
	if (!cJSON_IsObject(obj)) {
		hb_error_set(ld->err, ld->file, "negation", 0, 0, "must be an object");
		return false;
	}
	if (!(ng = calloc(1, sizeof(*ng)))) {
		hb_error_set(ld->err, ld->file, "negation", 0, 0, "out of memory");
		return false;
	}
	e->negation = ng;
	cJSON_ArrayForEach(it, obj) {
		bool known = false;
		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			if (strcmp(it->string, lists[i].key) == 0) {
				if (!load_list(ld, ng, it, lists[i].key, lists[i].role))
					return false;
				known = true;
			}
		}
		if (strcmp(it->string, "max_gap") == 0 ||
				strcmp(it->string, "lead_max") == 0 ||
				strcmp(it->string, "description") == 0) {
			known = true;
		} else if (severity_key(it->string)) {
			const cJSON *s;
			int which = severity_key(it->string);
			unsigned *bits = which == 1 ? &ng->never_negated :
				which == 2 ? &ng->never_past :
				which == 3 ? &ng->past_needs_wellness : &ng->never_asked;
			known = cJSON_IsArray(it);
			cJSON_ArrayForEach(s, it) {
				if (!known || !cJSON_IsString(s) ||
						!severity_bit(s->valuestring, bits))
					known = false;
			}
			if (!known) {
				hb_error_set(ld->err, ld->file, "negation", 0, 0,
					"\"%s\" is a list of \"crisis\", \"emergency\", "
					"\"urgent\"", it->string);
				return false;
			}
		}
		if (!known) {
			hb_error_set(ld->err, ld->file, "negation", 0, 0,
				"unknown key \"%s\"", it->string);
			return false;
		}
	}
	if (!get_int(ld, obj, "max_gap", 0, 8, 3, &ng->max_gap) ||
			!get_int(ld, obj, "lead_max", 0, 8, 5, &ng->lead_max))
		return false;
	if (!index_cues(ng)) {
		hb_error_set(ld->err, ld->file, "negation", 0, 0, "out of memory");
		return false;
	}
	return true;
}

void hb_negation_destroy(struct hb_negation *ng)
{
	if (!ng)
		return;
	for (size_t i = 0; i < ng->cap; i++)
		free(ng->buckets[i].cues);
	free(ng->buckets);
	free(ng->cues);
	free(ng);
}

/* One word or punctuation mark of the text around a match. */
struct token {
	size_t start, end;
	char w[WORD_MAX];
	size_t len;
	bool punct;    /* , : ( ) - : a clause break */
	bool sentence; /* . ! ? ; and line ends: a sentence break */
	bool cut;      /* longer than WORD_MAX: matches no cue */
	char mark;     /* the punctuation mark, for breaks */
};

struct occurrence {
	unsigned role;
	size_t from, to; /* token indices [from, to) */
};

struct scan {
	struct token tok[MAX_TOKENS];
	size_t n;
	bool truncated; /* the text went on past MAX_TOKENS */
	struct occurrence occ[MAX_OCCURRENCES];
	size_t n_occ;
};

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 ||
		(c >= 'A' && c <= 'Z');
}

static bool sentence_byte(char c)
{
	return c == '.' || c == '!' || c == '?' || c == ';' || c == '\n';
}

static void tokenize(const char *text, size_t from, size_t len, struct scan *s)
{
	size_t i = from;
	s->n = 0;
	s->truncated = false;
	while (i < len) {
		unsigned char c = (unsigned char)text[i];
		if (c == ' ' || c == '\'' || c == '"') {
			i++;
			continue;
		}
		if (s->n == MAX_TOKENS) {
			s->truncated = true;
			return;
		}
		struct token *t = &s->tok[s->n];
		t->start = i;
		t->len = 0;
		t->punct = t->sentence = t->cut = false;
		t->mark = '\0';
		if (!word_byte(c)) {
			t->sentence = sentence_byte((char)c);
			t->mark = (char)c;
			t->punct = !t->sentence && (c == ',' || c == ':' || c == '(' ||
				c == ')' || c == '-');
			t->end = ++i;
			/* other symbols ("*", "/") are neither words nor breaks */
			if (t->sentence || t->punct)
				s->n++;
			continue;
		}
		while (i < len && (word_byte((unsigned char)text[i]) ||
				(text[i] == '\'' && i + 1 < len &&
				 word_byte((unsigned char)text[i + 1])))) {
			char ch = text[i++];
			if (ch == '\'')
				continue;
			if (t->len + 1 < WORD_MAX)
				t->w[t->len++] = ch;
			else
				t->cut = true;
		}
		t->w[t->len] = '\0';
		t->end = i;
		s->n++;
	}
}

static bool is_year(const struct token *t)
{
	return t->len == 4 && ((t->w[0] == '1' && t->w[1] == '9') ||
		(t->w[0] == '2' && t->w[1] == '0')) &&
		t->w[2] >= '0' && t->w[2] <= '9' && t->w[3] >= '0' && t->w[3] <= '9';
}

static bool word_is(const struct token *t, const char *cue)
{
	if (t->punct || t->sentence || t->cut)
		return false;
	if (cue[0] == '{') {
		if (strcmp(cue, "{ANY}") == 0)
			return true;
		if (strcmp(cue, "{YEAR}") == 0)
			return is_year(t);
	}
	return strcmp(t->w, cue) == 0;
}

static void find_cues(const struct hb_negation *ng, struct scan *s)
{
	s->n_occ = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct token *t = &s->tok[i];
		if (t->punct || t->sentence || t->cut)
			continue;
		const struct bucket *b = bucket_for(ng, t->w, t->len);
		for (size_t k = 0; b->word && k < b->n; k++) {
			const struct cue *c = &ng->cues[b->cues[k]];
			size_t j = 1;
			while (j < c->n && i + j < s->n && word_is(&s->tok[i + j], c->words[j]))
				j++;
			if (j < c->n)
				continue;
			if (s->n_occ < MAX_OCCURRENCES)
				s->occ[s->n_occ++] = (struct occurrence){ c->role, i, i + c->n };
		}
	}
}

/* Whether a cue of this role lies within token range [from, to). */
static bool role_in(const struct scan *s, unsigned role, size_t from, size_t to)
{
	for (size_t k = 0; k < s->n_occ; k++) {
		const struct occurrence *o = &s->occ[k];
		if ((o->role & role) && o->from < to && o->to > from)
			return true;
	}
	return false;
}

static bool is_break(const struct scan *s, size_t i)
{
	return s->tok[i].punct || s->tok[i].sentence;
}

/* Negation words in a resolved cue's way ("hasn't gone away"). */
static bool negative_word(const struct token *t)
{
	return t->len >= 3 && ((t->w[t->len - 2] == 'n' && t->w[t->len - 1] == 't') ||
		strcmp(t->w, "not") == 0 || strcmp(t->w, "never") == 0);
}

static bool cancelled(const struct scan *s, const struct occurrence *o)
{
	for (size_t m = 0; m < s->n_occ; m++) {
		const struct occurrence *x = &s->occ[m];
		if ((x->role & R_NOTNEG) && x->from <= o->from && x->to > o->from)
			return true;
	}
	return false;
}

/* Whether the sign the match names is said to be absent. */
static bool negated(const struct hb_negation *ng, const struct scan *s,
		size_t a, size_t b, size_t c0, size_t c1)
{
	/* "not breathing", "no feeling in my leg": the sign is the absence */
	if (role_in(s, R_STILL, a, b))
		return false;
	const struct occurrence *neg = NULL, *inner = NULL;
	size_t count = 0;
	for (size_t k = 0; k < s->n_occ; k++) {
		const struct occurrence *o = &s->occ[k];
		if (!(o->role & R_NEG) || o->from < c0 || o->from >= b || cancelled(s, o))
			continue;
		/* "no pulse", "isn't responding": the pattern matched the
		 * negation, so it is what the rule looks for */
		if (o->from == a)
			return false;
		if (o->from > a) {
			/* only a described state ("isn't cold") negates from
			 * inside: "calambres que no paran" is the sign itself */
			if (role_in(s, R_INNER, o->from, o->to) &&
					(!inner || o->from > inner->from))
				inner = o;
			continue;
		}
		if (o->to > a)
			continue;
		/* "do not have" holds "not": one negation, not two */
		if (neg && o->from < neg->to && o->to > neg->from) {
			if (o->to > neg->to)
				neg = o;
			continue;
		}
		count++;
		neg = o;
	}
	/* two negations ("not that I have no chest pain") read either way */
	if (count > 1)
		return false;
	if (count == 1 && a - neg->to <= (size_t)ng->max_gap &&
			!role_in(s, R_SUBJ | R_STILL, neg->to, a))
		return true;
	/* a pattern with a gap may run over the negation: "my leg isn't
	 * cold or pale" matched from "leg"; only a short head before it and
	 * a short tail after it, so "severe chest pain with no relief" stands */
	if (count == 0 && inner && inner->from - a <= 3 && b - inner->to <= (size_t)ng->max_gap &&
			!role_in(s, R_SUBJ, inner->to, b))
		return true;
	for (size_t k = 0; k < s->n_occ; k++) {
		const struct occurrence *o = &s->occ[k];
		if (!(o->role & R_RESOLVED) || o->from < b || o->to > c1 ||
				o->from - b > (size_t)ng->max_gap)
			continue;
		bool ok = !role_in(s, R_STILL | R_NEG, b, o->from);
		for (size_t i = b; ok && i < o->from; i++)
			ok = !negative_word(&s->tok[i]);
		if (ok)
			return true;
	}
	return false;
}

/* The clause before c0 (ending with the punctuation at c0 - 1), or the one
 * after c1: short and all history ("back in 2019, ..."). */
static bool history_aside(const struct hb_negation *ng, const struct scan *s,
		size_t from, size_t to)
{
	return to > from && to - from <= (size_t)ng->lead_max &&
		role_in(s, R_HIST, from, to);
}

static bool past(const struct hb_negation *ng, const struct scan *s,
		size_t s0, size_t c0, size_t c1, size_t s1)
{
	/* "chest pain years ago and again today": a recurrence anywhere
	 * after the sentence starts wins ("a stroke years ago. it's back
	 * again"); "now" and "today" speak for their own clause only ("a
	 * DVT years ago, now I get cramps") */
	if (s->truncated || role_in(s, R_RECUR, s0, s->n) ||
			role_in(s, R_PRESENT, c0, c1))
		return false;
	if (role_in(s, R_HIST, c0, c1))
		return true;
	if (c0 > s0 && s->tok[c0 - 1].punct) {
		size_t p = c0 - 1;
		while (p > s0 && !is_break(s, p - 1) && !role_in(s, R_BREAK, p - 1, p))
			p--;
		if (history_aside(ng, s, p, c0 - 1))
			return true;
	}
	if (c1 < s1 && s->tok[c1].punct) {
		size_t q = c1 + 1;
		while (q < s1 && !is_break(s, q) && !role_in(s, R_BREAK, q, q + 1))
			q++;
		if (history_aside(ng, s, c1 + 1, q))
			return true;
	}
	return false;
}

/*
 * Asked about, not reported: "what are the signs of a stroke?", "a film
 * about a heart attack". A question cue (in a sentence that asks: a "?"
 * or a question word first) or a mention cue at most max_gap words before
 * the match in its sentence, with no report ("i have", "i think", "im")
 * or present cue ("now") between, and none in the match's clause.
 */
static bool asked(const struct hb_negation *ng, const struct scan *s,
		size_t a, size_t c0, size_t c1, size_t s1)
{
	bool question = (s1 < s->n && s->tok[s1].mark == '?') ||
		role_in(s, R_QSTART, 0, 1);
	if (role_in(s, R_REPORT | R_PRESENT, c0, c1))
		return false;
	for (size_t k = 0; k < s->n_occ; k++) {
		const struct occurrence *o = &s->occ[k];
		if (!(o->role & (R_ASK | R_MENTION)) || o->to > a ||
				a - o->to > (size_t)ng->max_gap ||
				((o->role & (R_ASK | R_MENTION)) == R_ASK && !question))
			continue;
		if (!role_in(s, R_REPORT | R_PRESENT, o->to, a))
			return true;
	}
	return false;
}

bool hb_negation_stands(const struct hb_negation *ng, const char *text,
		size_t len, size_t start, size_t end, enum hb_severity severity)
{
	/* ~10 KiB on the stack: only a message that matched gets here,
	 * and a static buffer would not be thread-safe */
	struct scan scan, *s = &scan;
	if (!ng || end <= start)
		return true;
	bool may_negate = !((ng->never_negated >> severity) & 1);
	bool may_past = !((ng->never_past >> severity) & 1);
	if (!may_negate && !may_past)
		return true;
	/* a sentence longer than anyone types (a flood without full stops)
	 * is not read back to its start: the match stands */
	size_t from = start;
	while (from > 0 && !sentence_byte(text[from - 1])) {
		if (start - from >= MAX_SENTENCE)
			return true;
		from--;
	}
	tokenize(text, from, len, s);
	size_t a = 0, b;
	while (a < s->n && s->tok[a].end <= start)
		a++;
	b = a;
	while (b < s->n && s->tok[b].start < end)
		b++;
	if (a == b || (s->truncated && b == s->n))
		return true;
	find_cues(ng, s);
	size_t s1 = b;
	while (s1 < s->n && !s->tok[s1].sentence)
		s1++;
	/* a match across a clause break may hold a sign the negation does
	 * not reach ("no leg pain, but my foot is cold") */
	for (size_t i = a; i < b; i++) {
		if (is_break(s, i) || role_in(s, R_BREAK, i, i + 1))
			return true;
	}
	size_t c0 = a, c1 = b;
	while (c0 > 0 && !is_break(s, c0 - 1) && !role_in(s, R_BREAK, c0 - 1, c0))
		c0--;
	while (c1 < s1 && !is_break(s, c1) && !role_in(s, R_BREAK, c1, c1 + 1))
		c1++;
	if (may_negate && negated(ng, s, a, b, c0, c1))
		return false;
	if (!((ng->never_asked >> severity) & 1) && asked(ng, s, a, c0, c1, s1))
		return false;
	/* a crisis in the past stands unless the message also says the
	 * person is well now ("I used to self-harm, I'm in a good place") */
	if (may_past && past(ng, s, 0, c0, c1, s1) &&
			(!((ng->past_needs_wellness >> severity) & 1) ||
			 role_in(s, R_WELL, 0, s->n)))
		return false;
	return true;
}

static bool match_at(const struct hb_engine *e, const struct hb_pattern *p,
		const char *text, size_t len, size_t at, pcre2_match_data *md)
{
	/* PCRE2_ERROR_MATCHLIMIT and friends: a hostile message is no match */
	return hb_pattern_match(e, p, text, len, at, md) >= 0;
}

static size_t next_char(const char *text, size_t len, size_t at)
{
	at++;
	while (at < len && ((unsigned char)text[at] & 0xc0) == 0x80)
		at++;
	return at;
}

bool hb_negation_first_words(const struct hb_negation *ng,
		bool (*fn)(void *data, const char *word), void *data)
{
	const unsigned hold = R_NEG | R_RESOLVED | R_INNER | R_HIST | R_ASK |
		R_MENTION;
	for (size_t i = 0; ng && i < ng->n_cues; i++) {
		if ((ng->cues[i].role & hold) && !fn(data, ng->cues[i].words[0]))
			return false;
	}
	return true;
}

bool hb_negation_match(const struct hb_engine *e, const struct hb_pattern *p,
		enum hb_severity severity, const char *text, size_t len,
		pcre2_match_data *md, bool cues)
{
	const struct hb_negation *ng = e->negation;
	size_t at = 0;
	if (!ng || !cues || ((ng->never_negated & ng->never_past) >> severity) & 1)
		return match_at(e, p, text, len, 0, md);
	for (int n = 0; n < MAX_MATCHES && at <= len; n++) {
		if (!match_at(e, p, text, len, at, md))
			return false;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		if (hb_negation_stands(ng, text, len, ov[0], ov[1], severity))
			return true;
		/* every start, not every end: a later match may begin inside
		 * this one ("no leg pain ... foot is cold") */
		at = next_char(text, len, ov[0]);
	}
	return at <= len;
}
