/*
 * Classification: what a message is about and what it asks.
 *
 * Order matters for safety: red flags run on the normalized text before
 * anything else and nothing later can overrule them. Question intents then
 * run on the text as rewritten by the lexicon, so they can be written in
 * the articles' own words.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "negation.h"
#include "text.h"

void hb_analysis_init(struct hb_analysis *an)
{
	/* bits is filled by every scan; zeroing it here would be wasted */
	memset(an, 0, offsetof(struct hb_analysis, bits));
	an->topic = -1;
	an->evidence = -1;
	hb_buf_init(&an->norm);
	hb_buf_init(&an->text);
}

void hb_analysis_finish(struct hb_analysis *an)
{
	hb_buf_finish(&an->norm);
	hb_buf_finish(&an->text);
	pcre2_match_data_free(an->md);
	an->md = NULL;
}

static void add_candidate(struct hb_analysis *an, const char *kind,
		const char *id, const char *pattern, int score)
{
	/* keep the best HB_MAX_CANDIDATES by score, stable for ties */
	size_t n = an->n_candidates;
	if (n == HB_MAX_CANDIDATES) {
		if (an->candidates[n - 1].score >= score)
			return;
		n--;
	}
	size_t i = n;
	while (i > 0 && an->candidates[i - 1].score < score) {
		an->candidates[i] = an->candidates[i - 1];
		i--;
	}
	an->candidates[i] = (struct hb_candidate){ kind, id, pattern, score };
	an->n_candidates = n + 1;
}

bool hb_pattern_matches(const struct hb_engine *e, const struct hb_pattern *p,
		const char *text, size_t len, pcre2_match_data *md)
{
	/* PCRE2_ERROR_MATCHLIMIT and friends: a hostile message is no match */
	return hb_pattern_match(e, p, text, len, 0, md) >= 0;
}

/* Only patterns whose literals occur in the text can match it. */
static bool may_match(const struct hb_analysis *an, const struct hb_pattern *p)
{
	return an->no_prefilter || hb_prefilter_test(an->bits, p->slot);
}

/* Whether any of the patterns may match: their slots are consecutive
 * (data.c adds them in order), and most messages leave every slot of
 * most rules clear, so this one test saves a loop over each. */
static inline bool may_match_any(const struct hb_analysis *an,
		const struct hb_patterns *ps)
{
	return an->no_prefilter || (ps->n && hb_prefilter_any(an->bits,
			ps->items[0].slot, ps->items[ps->n - 1].slot));
}

/* Whether a match of one of the patterns could still enter the
 * candidate list: when it is full, only a higher score gets in. */
static bool can_list(const struct hb_analysis *an, const struct hb_patterns *ps)
{
	if (an->n_candidates < HB_MAX_CANDIDATES)
		return true;
	int low = an->candidates[HB_MAX_CANDIDATES - 1].score;
	for (size_t j = 0; j < ps->n; j++) {
		if (ps->items[j].weight > low)
			return true;
	}
	return false;
}

/* Red flags on one text (the message, or its typo-corrected copy), for
 * the severities not yet found. Every match of a pattern is weighed
 * against negation and history, not only the first. */
static void run_redflags(const struct hb_engine *e, struct hb_analysis *an,
		const char *text, size_t len, bool second)
{
	/* the rules' slots ascend (data.c): a cursor on the first slot that
	 * may match skips every rule before it with one comparison */
	uint32_t next = 0, end = 0;
	if (e->n_redflags) {
		const struct hb_patterns *ps = &e->redflags[e->n_redflags - 1].patterns;
		end = ps->n ? ps->items[ps->n - 1].slot : 0;
	}
	for (size_t i = 0; i < e->n_redflags; i++) {
		const struct hb_redflag *rf = &e->redflags[i];
		bool crisis = rf->severity == HB_SEVERITY_CRISIS;
		/* rule order decides the category: only the first of each
		 * severity counts, unless every match is wanted; an emergency
		 * rule beats an urgent one whatever the order */
		const struct hb_redflag *have = crisis ? an->crisis : an->emergency;
		bool settled = have && (crisis || have->severity >= rf->severity);
		/* a settled rule's match changes nothing, and --explain only
		 * lists it from the message itself (not from the corrected
		 * copy) and while it can enter the list: a megabyte with every
		 * rule's words ran every rule over all of it for nothing */
		if ((settled && (!an->explain || second ||
				!can_list(an, &rf->patterns))) || !rf->patterns.n)
			continue;
		if (!an->no_prefilter) {
			uint32_t first = rf->patterns.items[0].slot;
			if (next < first)
				next = hb_prefilter_next(an->bits, first, end);
			if (next > rf->patterns.items[rf->patterns.n - 1].slot)
				continue;
		}
		for (size_t j = 0; j < rf->patterns.n; j++) {
			const struct hb_pattern *p = &rf->patterns.items[j];
			if (!may_match(an, p) || !hb_negation_match(e, p, rf->severity,
					text, len, an->md, an->words_seen.cues))
				continue;
			if (!second || !settled)
				add_candidate(an, second ? "redflag-typo" : "redflag",
					rf->id, p->source, p->weight);
			if (crisis && !an->crisis) {
				an->crisis = rf;
				an->crisis_pattern = p;
				an->typo = second;
			} else if (!crisis && (!an->emergency ||
					an->emergency->severity < rf->severity)) {
				an->emergency = rf;
				an->emergency_pattern = p;
				an->typo = second;
			}
			if (!an->explain)
				break;
		}
		if (an->crisis && an->emergency && !an->explain &&
				an->emergency->severity == HB_SEVERITY_EMERGENCY)
			break;
	}
}

bool hb_classify_redflags(const struct hb_engine *e, struct hb_analysis *an)
{
	const char *text = an->norm.data ? an->norm.data : "";
	size_t len = an->norm.len;
	hb_typo_scan(e, text, len, &an->words_seen);
	hb_prefilter_scan(e->prefilter, text, len, an->bits);
	an->norm_scanned = true;
	run_redflags(e, an, text, len, false);
	/* misspelt danger words ("chset pain", "cant breth"): the red flags
	 * again on a corrected copy, which the prefilter scans as it would
	 * any message */
	/* once every severity is settled the copy can add nothing, not
	 * even to --explain (run_redflags() says why) */
	bool settled = an->crisis && an->emergency &&
		an->emergency->severity == HB_SEVERITY_EMERGENCY;
	if (an->words_seen.n_unknown && (an->explain ? !settled :
			!an->crisis || !an->emergency)) {
		struct hb_buf fixed;
		uint64_t bits[HB_PREFILTER_WORDS];
		hb_buf_init(&fixed);
		if (hb_typo_correct(e, text, len, &an->words_seen, &fixed)) {
			/* the lexicon pass wants the message's own bits back */
			memcpy(bits, an->bits, sizeof(bits));
			hb_prefilter_scan(e->prefilter, fixed.data, fixed.len, an->bits);
			run_redflags(e, an, fixed.data, fixed.len, true);
			memcpy(an->bits, bits, sizeof(bits));
		}
		hb_buf_finish(&fixed);
	}
	return an->emergency || an->crisis;
}

struct span {
	size_t start, end;
	const struct hb_lexeme *lx;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* at the same start the longer term wins ("low blood sugar" over
	 * "blood") */
	return x->end > y->end ? -1 : x->end < y->end;
}

/* Lay terms into the articles' words. The prefilter bits of the
 * normalized text (set by the red-flag pass) pick the entries worth
 * running; overlapping matches resolve leftmost-longest. False when no
 * term was rewritten (the text is the normalized text). */
static bool rewrite(const struct hb_engine *e, struct hb_analysis *an)
{
	bool changed = false;
	const char *s = an->norm.data ? an->norm.data : "";
	size_t len = an->norm.len, n = 0, off = 0;
	struct span spans[64];
	hb_buf_reset(&an->text);
	for (size_t i = 0; i < e->n_lexicon; i++) {
		const struct hb_lexeme *lx = &e->lexicon[i];
		if (!may_match_any(an, &lx->patterns))
			continue;
		for (size_t j = 0; j < lx->patterns.n; j++) {
			const struct hb_pattern *p = &lx->patterns.items[j];
			size_t at = 0;
			if (!may_match(an, p))
				continue;
			while (at < len && n < sizeof(spans) / sizeof(spans[0])) {
				int rc = hb_pattern_match(e, p, s, len, at, an->md);
				if (rc < 0)
					break;
				PCRE2_SIZE *ov = pcre2_get_ovector_pointer(an->md);
				if (ov[1] > ov[0])
					spans[n++] = (struct span){ ov[0], ov[1], lx };
				at = ov[1] > at ? ov[1] : at + 1;
			}
		}
	}
	qsort(spans, n, sizeof(spans[0]), cmp_span);
	for (size_t i = 0; i < n; i++) {
		if (spans[i].start < off)
			continue; /* overlaps a term already rewritten */
		hb_buf_append(&an->text, s + off, spans[i].start - off);
		hb_buf_append(&an->text, spans[i].lx->canonical,
			spans[i].lx->canonical_len);
		off = spans[i].end;
		changed = true;
	}
	hb_buf_append(&an->text, s + off, len - off);
	return changed;
}

struct words_ctx {
	const struct hb_engine *engine;
	struct hb_analysis *an;
	/* stems of the message, for topic names spanning several words */
	const struct hb_word *words[HB_MAX_WORDS];
	size_t n;
	uint32_t evidence_article;
	size_t evidence_count;
	bool evidence_tie;
};

static bool has_digit(const char *w, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (w[i] >= '0' && w[i] <= '9')
			return true;
	}
	return false;
}

static bool see_word(void *data, const char *word, size_t len, size_t off)
{
	struct words_ctx *ctx = data;
	char stem[HB_MAX_STEM * 4 + 8];
	const struct hb_word *w = NULL;
	if (ctx->n >= HB_MAX_WORDS)
		return false;
	if (len < sizeof(stem)) {
		size_t n = hb_text_stem(word, len, stem);
		w = hb_wordmap_get(&ctx->engine->words, stem, n);
		if (!w && !has_digit(word, len) && len >= 3) {
			/* the closest known word within one edit: "cramsp" is "cramp" */
			w = hb_typos_correct(&ctx->engine->typos, &ctx->engine->words,
					stem, n);
			if (!w)
				ctx->an->unknown++;
		}
	} else {
		ctx->an->unknown++;
	}
	ctx->words[ctx->n++] = w;
	/* a word only one article uses points at that article */
	if (w && !w->everyday && w->n_articles == 1) {
		uint32_t a = w->articles[0];
		if (ctx->evidence_count && a != ctx->evidence_article)
			ctx->evidence_tie = true;
		ctx->evidence_article = a;
		ctx->evidence_count++;
	}
	return true;
}

/* The longest topic name found as a run of message words wins. */
static void find_topic(const struct hb_engine *e, struct words_ctx *ctx)
{
	struct hb_analysis *an = ctx->an;
	for (size_t i = 0; i < ctx->n; i++) {
		const struct hb_word *w = ctx->words[i];
		if (!w)
			continue;
		for (size_t r = 0; r < w->n_starts; r++) {
			const struct hb_article *a = &e->articles[w->starts[r].article];
			const struct hb_phrase *p = &a->topics[w->starts[r].topic];
			size_t k = 1;
			while (k < p->n_stems && i + k < ctx->n && ctx->words[i + k] &&
					strcmp(ctx->words[i + k]->stem, p->stems[k]) == 0)
				k++;
			if (k == p->n_stems && k > an->topic_len) {
				an->topic = (long)w->starts[r].article;
				an->topic_len = k;
			}
		}
	}
}

bool hb_classify_question(const struct hb_engine *e, struct hb_analysis *an)
{
	/* not an initializer: that would zero the 8 KiB word array for
	 * every message; only n..evidence_tie need a value */
	struct words_ctx ctx;
	ctx.engine = e;
	ctx.an = an;
	ctx.n = 0;
	ctx.evidence_article = 0;
	ctx.evidence_count = 0;
	ctx.evidence_tie = false;
	if (!an->norm_scanned)
		hb_prefilter_scan(e->prefilter, an->norm.data ? an->norm.data : "",
			an->norm.len, an->bits);
	bool rewritten = rewrite(e, an);
	if (an->text.oom)
		return false;
	const char *text = an->text.data ? an->text.data : "";
	size_t len = an->text.len;

	/* the same text has the same bits: most messages name no lay term */
	if (rewritten)
		hb_prefilter_scan(e->prefilter, text, len, an->bits);
	hb_text_words(text, len, see_word, &ctx);
	an->n_words = ctx.n;
	find_topic(e, &ctx);
	if (ctx.evidence_count && !ctx.evidence_tie)
		an->evidence = (long)ctx.evidence_article;
	if (an->topic >= 0 && an->explain)
		add_candidate(an, "topic", e->articles[an->topic].id, NULL,
			(int)an->topic_len);

	for (size_t i = 0; i < e->n_intents; i++) {
		const struct hb_intent *in = &e->intents[i];
		const struct hb_pattern *best = NULL;
		if (!may_match_any(an, &in->patterns))
			continue;
		for (size_t j = 0; j < in->patterns.n; j++) {
			const struct hb_pattern *p = &in->patterns.items[j];
			/* a weaker pattern cannot change the outcome */
			if (best && p->weight <= best->weight && !an->explain)
				continue;
			if (!an->explain && an->intent && p->weight < an->intent_score)
				continue;
			if (may_match(an, p) && hb_pattern_matches(e, p, text, len, an->md) &&
					(!best || p->weight > best->weight))
				best = p;
		}
		if (!best)
			continue;
		if (an->explain)
			add_candidate(an, "intent", in->id, best->source, best->weight);
		if (!an->intent || best->weight > an->intent_score) {
			an->intent = in;
			an->intent_pattern = best;
			an->intent_score = best->weight;
		}
	}
	for (size_t i = 0; i < e->n_smalltalk && (!an->intent || an->explain); i++) {
		const struct hb_smalltalk *st = &e->smalltalk[i];
		if (!may_match_any(an, &st->patterns))
			continue;
		for (size_t j = 0; j < st->patterns.n; j++) {
			const struct hb_pattern *p = &st->patterns.items[j];
			if (!may_match(an, p) || !hb_pattern_matches(e, p, text, len, an->md))
				continue;
			if (an->explain)
				add_candidate(an, "smalltalk", st->id, p->source, p->weight);
			if (!an->smalltalk) {
				an->smalltalk = st;
				an->smalltalk_pattern = p;
			}
			break;
		}
	}
	return true;
}
