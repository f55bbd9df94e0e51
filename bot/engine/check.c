/*
 * `healthbot check`: the library validated as a content editor needs it,
 * and the utterance set run as a clinical reviewer reads it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "classify.h"
#include "library.h"
#include "passage.h"
#include "reply.h"
#include "text.h"
#include "util.h"

struct checker {
	const struct hb_engine *e;
	hb_check_print_fn print;
	void *data;
	struct hb_check_report *r;
};

__attribute__((format(printf, 2, 3)))
static void say(struct checker *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->print(c->data, line);
}

static bool target_anywhere(const struct hb_engine *e, const struct hb_target *t)
{
	for (size_t a = 0; a < e->n_articles; a++) {
		if (hb_passage_resolves(t, &e->articles[a]))
			return true;
	}
	return false;
}

/* Headings the Health Information Library uses. A target may name one
 * that no article has yet (a fallback for articles to come); a heading
 * that is neither here nor in any article is a typo. */
static const char *const library_headings[] = {
	"Overview", "Definition", "Symptoms", "Causes", "Risk factors",
	"Complications", "Prevention", "Diagnosis", "Treatment",
	"Lifestyle and home remedies", "Self-care", "When to see a doctor",
	"Coping and support", "Alternative medicine",
	"Preparing for your appointment", NULL,
};

static bool heading_known(const struct hb_engine *e, const char *heading)
{
	for (size_t i = 0; library_headings[i]; i++) {
		if (strcasecmp(library_headings[i], heading) == 0)
			return true;
	}
	for (size_t a = 0; a < e->n_articles; a++) {
		if (hb_article_section(&e->articles[a], heading))
			return true;
	}
	return false;
}

static void check_target(struct checker *c, const char *file, const char *kind,
		const char *id, size_t n, const struct hb_target *t)
{
	for (size_t s = 0; s < t->n_sections; s++) {
		if (heading_known(c->e, t->sections[s]))
			continue;
		c->r->errors++;
		say(c, "error: %s: %s %s: target %zu: no article has a section \"%s\"",
			file, kind, id, n, t->sections[s]);
	}
	bool article_known = !t->article;
	for (size_t a = 0; !article_known && a < c->e->n_articles; a++)
		article_known = strcmp(c->e->articles[a].id, t->article) == 0;
	if (!article_known) {
		c->r->errors++;
		say(c, "error: %s: %s %s: target %zu: no article \"%s\"", file, kind,
			id, n, t->article);
	}
}

static void check_targets(struct checker *c)
{
	const struct hb_engine *e = c->e;
	for (size_t i = 0; i < e->n_intents; i++) {
		const struct hb_intent *in = &e->intents[i];
		bool any = false;
		for (size_t t = 0; t < in->n_targets; t++) {
			check_target(c, in->file, "intent", in->id, t + 1, &in->targets[t]);
			any = any || target_anywhere(e, &in->targets[t]);
		}
		if (in->n_targets && !any) {
			c->r->errors++;
			say(c, "error: %s: intent %s: no target is in any article, so it "
				"can never answer", in->file, in->id);
		}
	}
	for (size_t i = 0; i < e->n_redflags; i++) {
		const struct hb_redflag *rf = &e->redflags[i];
		if (!rf->has_passage)
			continue;
		check_target(c, rf->file, "red flag", rf->id, 1, &rf->passage);
		if (!target_anywhere(e, &rf->passage)) {
			c->r->errors++;
			say(c, "error: %s: red flag %s: its passage is in no article",
				rf->file, rf->id);
		}
	}
}

struct tally {
	char label[96];
	int hits, misses;
};

/* One line of a set: EXPECTED is a list "a|b" of acceptable ids with an
 * optional "@lang" suffix naming the language the reply must be in. */
struct utterance {
	char *kind, *expected, *message;
	const char *lang; /* NULL: any */
	int line;
};

/* A red-flag category: from the loaded rules, the set, or both. */
struct category {
	char name[64];
	bool has_rule, has_line;
	int lines, caught; /* lines listing it first, and caught as listed */
};

static size_t parse_utterances(char *data, size_t len, struct utterance **out,
		struct checker *c, const char *name)
{
	struct utterance *list = NULL;
	size_t n = 0;
	int line = 0;
	for (char *p = data, *end = data + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *s = p;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : end;
		line++;
		size_t l = strlen(s);
		if (l && s[l - 1] == '\r')
			s[--l] = '\0';
		if (!l || s[0] == '#')
			continue;
		char *t1 = strchr(s, '\t');
		char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2) {
			c->r->errors++;
			say(c, "error: %s:%d: expected KIND<TAB>EXPECTED<TAB>MESSAGE",
				name, line);
			continue;
		}
		*t1 = *t2 = '\0';
		char *at = strchr(t1 + 1, '@');
		if (at)
			*at = '\0';
		if (at && !at[1]) {
			c->r->errors++;
			say(c, "error: %s:%d: \"@\" names no language", name, line);
			continue;
		}
		const char *x = t1 + 1;
		if (!*x || *x == '|' || x[strlen(x) - 1] == '|' || strstr(x, "||")) {
			c->r->errors++;
			say(c, "error: %s:%d: EXPECTED has an empty id", name, line);
			continue;
		}
		struct utterance *u = hb_grow(list, n, sizeof(*u));
		if (!u)
			break;
		list = u;
		list[n++] = (struct utterance){ s, t1 + 1, t2 + 1, at ? at + 1 : NULL,
			line };
	}
	*out = list;
	return n;
}

/* Whether got is one of the '|'-separated ids of list. */
static bool expected_has(const char *list, const char *got)
{
	size_t g = strlen(got);
	for (const char *p = list;;) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == g && strncmp(p, got, l) == 0)
			return true;
		if (!bar)
			return false;
		p = bar + 1;
	}
}

/* The first id of an expected list, where its line is counted. */
static void first_expected(const char *list, char *out, size_t size)
{
	size_t l = strcspn(list, "|");
	snprintf(out, size, "%.*s", (int)(l < size ? l : size - 1), list);
}

static struct category *category_for(struct category **cats, size_t *n,
		const char *name, size_t len)
{
	for (size_t i = 0; i < *n; i++) {
		if (strlen((*cats)[i].name) == len &&
				strncmp((*cats)[i].name, name, len) == 0)
			return &(*cats)[i];
	}
	struct category *nc = hb_grow(*cats, *n, sizeof(*nc));
	if (!nc)
		return NULL;
	*cats = nc;
	nc[*n] = (struct category){0};
	snprintf(nc[*n].name, sizeof(nc[*n].name), "%.*s", (int)len, name);
	return &nc[(*n)++];
}

static struct tally *tally_for(struct tally **t, size_t *n, const char *kind,
		const char *label)
{
	char key[sizeof((*t)->label)];
	snprintf(key, sizeof(key), "%s/%s", kind, label);
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*t)[i].label, key) == 0)
			return &(*t)[i];
	}
	struct tally *nt = hb_grow(*t, *n, sizeof(*nt));
	if (!nt)
		return NULL;
	*t = nt;
	nt[*n] = (struct tally){0};
	snprintf(nt[*n].label, sizeof(nt[*n].label), "%s", key);
	return &nt[(*n)++];
}

static const char *got_label(const struct hb_reply *r)
{
	if (r->kind == HB_REPLY_ESCALATION)
		return r->category ? r->category : "-";
	if (r->kind == HB_REPLY_FALLBACK)
		return "-";
	return r->intent ? r->intent : "-";
}

static bool same_candidates(const struct hb_analysis *a,
		const struct hb_analysis *b)
{
	if (a->n_candidates != b->n_candidates)
		return false;
	for (size_t i = 0; i < a->n_candidates; i++) {
		if (strcmp(a->candidates[i].id, b->candidates[i].id) != 0 ||
				a->candidates[i].pattern != b->candidates[i].pattern)
			return false;
	}
	return a->emergency == b->emergency && a->crisis == b->crisis &&
		a->intent == b->intent && a->smalltalk == b->smalltalk;
}

/* The literal prefilter may only skip patterns that cannot match: every
 * utterance must classify the same with it and without it. */
static void check_prefilter(struct checker *c, struct utterance *u, size_t n,
		const char *name)
{
	for (size_t k = 0; k < n; k++) {
		struct hb_analysis with, without;
		hb_analysis_init(&with);
		hb_analysis_init(&without);
		without.no_prefilter = true;
		with.explain = without.explain = true;
		with.md = pcre2_match_data_create(16, NULL);
		without.md = pcre2_match_data_create(16, NULL);
		if (with.md && without.md) {
			hb_text_normalize(u[k].message, strlen(u[k].message), &with.norm);
			hb_text_normalize(u[k].message, strlen(u[k].message), &without.norm);
			hb_classify_redflags(c->e, &with);
			hb_classify_redflags(c->e, &without);
			hb_classify_question(c->e, &with);
			hb_classify_question(c->e, &without);
			if (!same_candidates(&with, &without)) {
				c->r->errors++;
				say(c, "error: %s:%d: the literal prefilter changed the "
					"classification (an extractor bug): %s", name,
					u[k].line, u[k].message);
			}
		}
		hb_analysis_finish(&with);
		hb_analysis_finish(&without);
	}
}

/* Counts one reply against its line; prints it when it is wrong. */
static void score_line(struct checker *c, const struct utterance *u,
		const struct hb_reply *r, const char *name, struct tally **tallies,
		size_t *n_tallies, struct category **cats, size_t *n_cats)
{
	const char *got = got_label(r);
	bool escalated = r->kind == HB_REPLY_ESCALATION;
	bool benign = strcmp(u->kind, "benign") == 0;
	bool escalation = strcmp(u->kind, "escalation") == 0;
	bool ok = benign ? !escalated :
		strcmp(hb_reply_kind_str(r->kind), u->kind) == 0 &&
		expected_has(u->expected, got);
	char first[64];
	first_expected(u->expected, first, sizeof(first));
	struct tally *t = tally_for(tallies, n_tallies, u->kind, first);
	if (t) {
		if (ok)
			t->hits++;
		else
			t->misses++;
	}
	if (escalation) {
		c->r->redflag_total++;
		c->r->redflag_hits += ok;
		struct category *cat = category_for(cats, n_cats, first,
				strlen(first));
		if (cat) {
			cat->lines++;
			cat->caught += ok;
		}
		for (const char *p = u->expected; *p;) {
			size_t l = strcspn(p, "|");
			if ((cat = category_for(cats, n_cats, p, l)))
				cat->has_line = true;
			p += l + (p[l] == '|');
		}
	}
	/* A line without "@lang" is English: a Spanish reply to it is as wrong
	 * as an English one to a Spanish line (the reader cannot follow it). */
	const char *want = u->lang ? u->lang : "en";
	const char *lang = r->lang ? r->lang : "en";
	bool lang_ok = strcmp(want, lang) == 0;
	if (u->lang)
		c->r->language_lines++;
	if (!lang_ok) {
		c->r->language_failures++;
		say(c, "LANGUAGE %s:%d: expected a reply in %s, got %s (%s/%s, rule "
			"%s): %s", name, u->line, want, lang, hb_reply_kind_str(r->kind),
			got, r->rule ? r->rule : "-", u->message);
	}
	if (benign) {
		c->r->benign++;
		if (!ok) {
			c->r->false_alarms++;
			say(c, "FALSE ALARM %s:%d: escalated as %s (rule %s): %s", name,
				u->line, got, r->rule ? r->rule : "-", u->message);
		}
		if (!lang_ok)
			c->r->utterance_failures++;
		return;
	}
	if (ok) {
		if (!lang_ok)
			c->r->utterance_failures++;
		return;
	}
	c->r->utterance_failures++;
	say(c, "%s %s:%d: expected %s/%s, got %s/%s (rule %s): %s",
		escalation ? "MISS" : "FAIL", name, u->line, u->kind, u->expected,
		hb_reply_kind_str(r->kind), got, r->rule ? r->rule : "-",
		u->message);
}

/* Recall per red-flag category, and the categories that the rules and the
 * set do not share: a rule no line tests, or a line no rule can catch. */
static void report_categories(struct checker *c, struct category *cats,
		size_t n_cats)
{
	if (!c->r->redflag_total)
		return;
	say(c, "%-24s %5s %6s %7s", "red-flag category", "lines", "caught",
		"recall");
	for (size_t i = 0; i < n_cats; i++) {
		const struct category *cat = &cats[i];
		const char *note = !cat->has_rule ? "  NO RULE" :
			!cat->has_line ? "  NO TEST LINE" :
			!cat->lines ? "  (only as a second category)" : "";
		if (cat->lines)
			say(c, "%-24s %5d %6d %6.1f%%%s", cat->name, cat->lines,
				cat->caught, 100.0 * cat->caught / cat->lines, note);
		else
			say(c, "%-24s %5d %6s %7s%s", cat->name, 0, "-", "-", note);
		c->r->categories += cat->lines > 0;
		c->r->categories_missed += cat->caught < cat->lines;
		c->r->categories_untested += cat->has_rule && !cat->has_line;
		c->r->categories_unruled += cat->has_line && !cat->has_rule;
	}
	say(c, "red-flag categories: %d tested, %d below 100%% recall, %d with "
		"rules but no test line, %d in the set with no rule",
		c->r->categories, c->r->categories_missed,
		c->r->categories_untested, c->r->categories_unruled);
}

static bool set_has_kind(const struct utterance *u, size_t n, const char *kind)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(u[i].kind, kind) == 0)
			return true;
	}
	return false;
}

static void run_utterances(struct checker *c, struct utterance *u, size_t n,
		const char *name)
{
	const struct hb_engine *e = c->e;
	struct tally *tallies = NULL;
	struct category *cats = NULL;
	size_t n_tallies = 0, n_cats = 0;
	for (size_t i = 0; i < e->n_redflags; i++) {
		const char *cat = e->redflags[i].category;
		struct category *k = category_for(&cats, &n_cats, cat, strlen(cat));
		if (k)
			k->has_rule = true;
	}
	for (size_t i = 0; i < n; i++) {
		struct hb_reply r;
		if (!hb_engine_reply(e, NULL, NULL, u[i].message,
				strlen(u[i].message), 0, &r))
			continue;
		c->r->utterances++;
		score_line(c, &u[i], &r, name, &tallies, &n_tallies, &cats,
			&n_cats);
		hb_reply_finish(&r);
	}
	say(c, "%-36s %5s %6s", "expected", "hits", "misses");
	for (size_t i = 0; i < n_tallies; i++)
		say(c, "%-36s %5d %6d", tallies[i].label, tallies[i].hits,
			tallies[i].misses);
	free(tallies);
	report_categories(c, cats, n_cats);
	free(cats);

	/* which patterns ever matched, to warn about dead ones: on the text
	 * each kind of pattern really sees */
	pcre2_match_data *md = pcre2_match_data_create(16, NULL);
	struct hb_analysis *an = calloc(n ? n : 1, sizeof(*an));
	for (size_t k = 0; an && md && k < n; k++) {
		hb_analysis_init(&an[k]);
		an[k].md = pcre2_match_data_create(16, NULL);
		hb_text_normalize(u[k].message, strlen(u[k].message), &an[k].norm);
		if (an[k].md)
			hb_classify_question(e, &an[k]);
	}
	/* only for the kinds of pattern the set sets out to exercise: a red-flag
	 * set says nothing about intents that no line of it asks for */
	bool tries_intents = set_has_kind(u, n, "answer");
	bool tries_smalltalk = set_has_kind(u, n, "smalltalk");
	bool tries_redflags = set_has_kind(u, n, "escalation");
	for (size_t i = 0; an && md && i < e->n_intents + e->n_smalltalk + e->n_redflags; i++) {
		const struct hb_patterns *ps;
		const char *kind, *file;
		bool raw = false;
		if (i < e->n_intents) {
			if (!tries_intents)
				continue;
			ps = &e->intents[i].patterns;
			kind = "intent";
			file = e->intents[i].file;
		} else if (i < e->n_intents + e->n_smalltalk) {
			if (!tries_smalltalk)
				continue;
			ps = &e->smalltalk[i - e->n_intents].patterns;
			kind = "smalltalk";
			file = e->smalltalk[i - e->n_intents].file;
		} else {
			if (!tries_redflags)
				continue;
			ps = &e->redflags[i - e->n_intents - e->n_smalltalk].patterns;
			kind = "redflag";
			file = e->redflags[i - e->n_intents - e->n_smalltalk].file;
			raw = true;
		}
		for (size_t j = 0; j < ps->n; j++) {
			bool hit = false;
			for (size_t k = 0; k < n && !hit; k++) {
				const struct hb_buf *b = raw ? &an[k].norm : &an[k].text;
				hit = hb_pattern_matches(e, &ps->items[j],
						b->data ? b->data : "", b->len, md);
			}
			if (!hit) {
				c->r->warnings++;
				say(c, "warning: %s: %s %s matches no utterance: %s", file,
					kind, ps->items[j].id, ps->items[j].source);
			}
		}
	}
	for (size_t k = 0; an && k < n; k++)
		hb_analysis_finish(&an[k]);
	free(an);
	check_prefilter(c, u, n, name);
	pcre2_match_data_free(md);
}

bool hb_engine_check(const struct hb_engine *e, const char *utterances,
		size_t len, const char *name, int max_age_days, int64_t today,
		hb_check_print_fn print, void *data, struct hb_check_report *report)
{
	struct checker c = { e, print, data, report };
	*report = (struct hb_check_report){0};
	say(&c, "library: %zu article(s), %zu intent(s), %zu red flag(s), "
		"%zu small-talk, %zu lexicon entries, %zu known words",
		e->n_articles, e->n_intents, e->n_redflags, e->n_smalltalk,
		e->n_lexicon, e->words.n_words);
	check_targets(&c);
	for (size_t i = 0; e->terms && i < e->terms->n; i++) {
		if (e->terms->items[i].used)
			continue;
		report->warnings++;
		say(&c, "warning: %s: term {%s} is used by no pattern",
			e->terms->items[i].file, e->terms->items[i].name);
	}
	for (size_t i = 0; i < e->n_articles; i++) {
		const struct hb_article *a = &e->articles[i];
		if (max_age_days > 0 && today - a->updated_days > max_age_days) {
			report->warnings++;
			say(&c, "warning: %s: content last updated %s, over %d days ago",
				a->path, a->updated, max_age_days);
		}
	}
	if (utterances) {
		char *copy = malloc(len + 1);
		struct utterance *u = NULL;
		if (!copy)
			return false;
		memcpy(copy, utterances, len);
		copy[len] = '\0';
		size_t n = parse_utterances(copy, len, &u, &c, name);
		run_utterances(&c, u, n, name);
		say(&c, "utterances: %d run, %d failed; red-flag recall %d/%d",
			report->utterances, report->utterance_failures,
			report->redflag_hits, report->redflag_total);
		if (report->benign)
			say(&c, "false alarms: %d/%d benign line(s) escalated (%.1f%%)",
				report->false_alarms, report->benign,
				100.0 * report->false_alarms / report->benign);
		say(&c, "language: %d of %d replies in the wrong language (%d "
			"line(s) marked with \"@lang\", the others English)",
			report->language_failures, report->utterances,
			report->language_lines);
		free(u);
		free(copy);
	}
	return report->errors == 0 && report->utterance_failures == 0 &&
		report->redflag_hits == report->redflag_total;
}
