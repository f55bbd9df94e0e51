/* From an analysis to a reply: choosing the passage and composing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "convo.h"
#include "library.h"
#include "reply.h"
#include "text.h"

static const char *var(const struct hb_engine *e, const struct hb_article *a,
		const char *sections, const char *name, size_t len)
{
#define IS(s) (len == strlen(s) && strncmp(name, s, len) == 0)
	if (IS("emergency_number"))
		return e->emergency_number;
	if (IS("crisis_number"))
		return e->crisis_number;
	if (IS("topics"))
		return e->topics_line;
	if (a && IS("title"))
		return a->title;
	if (a && IS("publisher"))
		return a->publisher;
	if (a && IS("updated"))
		return a->updated;
	if (sections && IS("sections"))
		return sections;
#undef IS
	return NULL;
}

void hb_reply_expand(const struct hb_engine *e, const struct hb_article *a,
		const char *sections, const char *tmpl, struct hb_buf *text,
		struct hb_buf *html)
{
	const char *p = tmpl;
	while (*p) {
		const char *open = strchr(p, '{');
		const char *close = open ? strchr(open, '}') : NULL;
		const char *value = close ? var(e, a, sections, open + 1,
				(size_t)(close - open - 1)) : NULL;
		size_t upto = value ? (size_t)(open - p) : (open ? (size_t)(open - p) + 1 : strlen(p));
		if (text)
			hb_buf_append(text, p, upto);
		if (html)
			hb_buf_html(html, p, upto);
		p += upto;
		if (value) {
			if (text)
				hb_buf_puts(text, value);
			if (html)
				hb_buf_html(html, value, strlen(value));
			p = close + 1;
		}
	}
}

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

size_t hb_target_select(const struct hb_target *t, const struct hb_article *a,
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

bool hb_target_resolves(const struct hb_target *t, const struct hb_article *a)
{
	const struct hb_section *sec;
	const struct hb_block *blocks[1];
	return hb_target_select(t, a, &sec, blocks, 1) > 0;
}

static void source_of(const struct hb_article *a, struct hb_reply *out)
{
	out->source = (struct hb_source){
		.title = a->title,
		.publisher = a->publisher,
		.updated = a->updated,
		.copyright = a->copyright,
	};
}

static void put(struct hb_buf *b, const char *s)
{
	hb_buf_append(b, s, strlen(s));
}

static void put_html(struct hb_buf *b, const char *s)
{
	hb_buf_html(b, s, strlen(s));
}

/* The passage exactly as the article has it, then the source line. */
void hb_reply_passage(const struct hb_engine *e, const struct hb_article *a,
		const struct hb_section *sec, const struct hb_block *const *blocks,
		size_t n, struct hb_buf *text, struct hb_buf *html)
{
	hb_buf_reserve(text, 1024);
	hb_buf_reserve(html, 1536);
	put(text, a->title);
	put(text, ": ");
	put(text, sec->heading);
	put(text, "\n");
	put(html, "<p class=\"hb-heading\"><strong>");
	put_html(html, a->title);
	put(html, "</strong>: ");
	put_html(html, sec->heading);
	put(html, "</p>\n");
	for (size_t i = 0; i < n; i++) {
		const struct hb_block *b = blocks[i];
		put(text, "\n");
		if (b->text) {
			put(text, b->text);
			put(text, "\n");
			put(html, "<p>");
			put_html(html, b->text);
			put(html, "</p>\n");
		}
		if (b->type != HB_BLOCK_LIST)
			continue;
		put(html, "<ul>\n");
		for (size_t k = 0; k < b->n_items; k++) {
			put(text, "  \xe2\x80\xa2 ");
			put(text, b->items[k]);
			put(text, "\n");
			put(html, "<li>");
			put_html(html, b->items[k]);
			put(html, "</li>\n");
		}
		put(html, "</ul>\n");
	}
	put(text, "\n");
	put(text, a->source_text);
	put(html, a->source_html);
}

static bool render_source(const struct hb_engine *e, struct hb_article *a)
{
	struct hb_buf text, html;
	hb_buf_init(&text);
	hb_buf_init(&html);
	put(&html, "<p class=\"hb-source\">");
	hb_reply_expand(e, a, NULL, e->wording[HB_WORD_SOURCE], &text, &html);
	put(&html, "</p>\n<p class=\"hb-disclaimer\">");
	put(&text, "\n");
	hb_reply_expand(e, a, NULL, e->wording[HB_WORD_DISCLAIMER], &text, &html);
	put(&html, "</p>");
	a->source_text = hb_buf_steal(&text);
	a->source_html = hb_buf_steal(&html);
	return a->source_text && a->source_html;
}

static bool resolve(const struct hb_target *targets, size_t n_targets,
		const struct hb_article *a, struct hb_passage *out)
{
	const struct hb_block *blocks[256];
	*out = (struct hb_passage){0};
	for (size_t t = 0; t < n_targets; t++) {
		const struct hb_section *sec;
		size_t n = hb_target_select(&targets[t], a, &sec, blocks, 256);
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
bool hb_reply_resolve_passages(struct hb_engine *e)
{
	for (size_t i = 0; i < e->n_articles; i++) {
		if (!render_source(e, &e->articles[i]))
			return false;
	}
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

void hb_reply_free_passages(struct hb_engine *e)
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

static bool finish_reply(struct hb_buf *text, struct hb_buf *html,
		struct hb_reply *out)
{
	out->text = hb_buf_steal(text);
	out->html = hb_buf_steal(html);
	if (!out->text || !out->html) {
		free(out->text);
		free(out->html);
		out->text = out->html = NULL;
		return false;
	}
	return true;
}

/* Service wording (fallbacks, small talk, escalations) as one paragraph
 * per line. */
static void wording(const struct hb_engine *e, const struct hb_article *a,
		const char *sections, const char *tmpl, struct hb_buf *text,
		struct hb_buf *html)
{
	struct hb_buf plain;
	hb_buf_init(&plain);
	hb_reply_expand(e, a, sections, tmpl, &plain, NULL);
	hb_buf_append(text, plain.data ? plain.data : "", plain.len);
	const char *p = plain.data ? plain.data : "";
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n) {
			hb_buf_puts(html, "<p>");
			hb_buf_html(html, p, n);
			hb_buf_puts(html, "</p>\n");
		}
		p += n;
		if (*p)
			p++;
	}
	if (html->len && html->data[html->len - 1] == '\n')
		html->data[--html->len] = '\0';
	hb_buf_finish(&plain);
}

bool hb_reply_fallback(const struct hb_engine *e, const char *rule,
		const struct hb_article *a, struct hb_reply *out)
{
	struct hb_buf text, html, sections;
	hb_buf_init(&text);
	hb_buf_init(&html);
	hb_buf_init(&sections);
	out->kind = HB_REPLY_FALLBACK;
	out->severity = HB_SEVERITY_NONE;
	out->rule = rule;
	if (a) {
		for (size_t i = 0; i < a->n_sections; i++) {
			if (i)
				hb_buf_puts(&sections, i + 1 == a->n_sections ? " and " : ", ");
			hb_buf_puts(&sections, a->sections[i].heading);
		}
		out->article = a->id;
		wording(e, a, sections.data, e->wording[HB_WORD_FALLBACK_SECTION],
			&text, &html);
	} else {
		wording(e, NULL, NULL, e->wording[HB_WORD_FALLBACK], &text, &html);
	}
	hb_buf_finish(&sections);
	return finish_reply(&text, &html, out);
}

static bool reply_smalltalk(const struct hb_engine *e,
		const struct hb_smalltalk *st, const char *rule, struct hb_reply *out)
{
	struct hb_buf text, html;
	hb_buf_init(&text);
	hb_buf_init(&html);
	out->kind = HB_REPLY_SMALLTALK;
	out->intent = st->id;
	out->rule = rule;
	wording(e, NULL, NULL, st->reply, &text, &html);
	return finish_reply(&text, &html, out);
}

static const struct hb_smalltalk *smalltalk_by_id(const struct hb_engine *e,
		const char *id)
{
	for (size_t i = 0; i < e->n_smalltalk; i++) {
		if (strcmp(e->smalltalk[i].id, id) == 0)
			return &e->smalltalk[i];
	}
	return NULL;
}

bool hb_engine_greeting(const struct hb_engine *e, struct hb_reply *out)
{
	*out = (struct hb_reply){0};
	return reply_smalltalk(e, smalltalk_by_id(e, "greeting"), "greeting", out);
}

static bool reply_escalation(const struct hb_engine *e,
		const struct hb_analysis *an, struct hb_reply *out)
{
	const struct hb_redflag *rf = an->redflag;
	struct hb_buf text, html;
	hb_buf_init(&text);
	hb_buf_init(&html);
	out->kind = HB_REPLY_ESCALATION;
	out->severity = rf->severity;
	out->category = rf->category;
	out->intent = rf->id;
	out->rule = an->redflag_pattern->id;
	wording(e, NULL, NULL, rf->severity == HB_SEVERITY_CRISIS ?
		e->wording[HB_WORD_ESCALATION_CRISIS] :
		e->wording[HB_WORD_ESCALATION_EMERGENCY], &text, &html);
	/* the article's own "seek care right away" text, when it has one */
	for (size_t i = 0; rf->passages && i < e->n_articles; i++) {
		const struct hb_article *a = &e->articles[i];
		const struct hb_passage *p = &rf->passages[i];
		if (!p->section)
			continue;
		hb_buf_puts(&text, "\n\n");
		hb_buf_putc(&html, '\n');
		hb_reply_passage(e, a, p->section, p->blocks, p->n_blocks, &text, &html);
		out->article = a->id;
		out->section = p->section->heading;
		source_of(a, out);
		break;
	}
	return finish_reply(&text, &html, out);
}

static bool reply_answer(const struct hb_engine *e, const struct hb_intent *in,
		const char *rule, const struct hb_article *a, struct hb_reply *out)
{
	const struct hb_passage *p = &in->answers[a - e->articles];
	out->intent = in->id;
	if (!p->section)
		return hb_reply_fallback(e, "fallback:no-passage", a, out);
	struct hb_buf text, html;
	hb_buf_init(&text);
	hb_buf_init(&html);
	out->kind = HB_REPLY_ANSWER;
	out->severity = in->severity;
	out->rule = rule;
	out->article = a->id;
	out->section = p->section->heading;
	source_of(a, out);
	hb_reply_passage(e, a, p->section, p->blocks, p->n_blocks, &text, &html);
	return finish_reply(&text, &html, out);
}

static void copy_id(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static const struct hb_article *article_by_id(const struct hb_engine *e,
		const char *id)
{
	for (size_t i = 0; id && *id && i < e->n_articles; i++) {
		if (strcmp(e->articles[i].id, id) == 0)
			return &e->articles[i];
	}
	return NULL;
}

bool hb_engine_reply_ex(const struct hb_engine *e, struct hb_conversations *conv,
		const char *conv_id, const char *msg, size_t len, int64_t now,
		unsigned flags, struct hb_reply *out)
{
	struct hb_analysis an;
	struct hb_convo_state state = {0};
	bool have_state, ok = false;
	const struct hb_article *article = NULL;

	*out = (struct hb_reply){0};
	hb_analysis_init(&an);
	an.explain = flags & HB_REPLY_EXPLAIN;
	if (!msg)
		len = 0;
	an.md = pcre2_match_data_create(16, NULL);
	hb_text_normalize(msg ? msg : "", len, &an.norm);
	if (!an.md || an.norm.oom)
		goto oom;
	have_state = hb_convo_get(conv, conv_id, now, &state);

	/* 1. red flags, always, on the whole message whatever its length */
	if (hb_classify_redflags(e, &an)) {
		ok = reply_escalation(e, &an, out);
		goto done;
	}
	if (an.norm.len == 0) {
		struct hb_buf text, html;
		hb_buf_init(&text);
		hb_buf_init(&html);
		out->kind = HB_REPLY_SMALLTALK;
		out->intent = "empty";
		out->rule = "empty";
		wording(e, NULL, NULL, e->wording[HB_WORD_EMPTY], &text, &html);
		ok = finish_reply(&text, &html, out);
		goto done;
	}
	if (len > HB_MAX_MESSAGE) {
		struct hb_buf text, html;
		hb_buf_init(&text);
		hb_buf_init(&html);
		out->kind = HB_REPLY_FALLBACK;
		out->rule = "fallback:too-long";
		wording(e, NULL, NULL, e->wording[HB_WORD_TOO_LONG], &text, &html);
		ok = finish_reply(&text, &html, out);
		goto done;
	}

	/* 2. what is asked, and about what */
	if (!hb_classify_question(e, &an))
		goto oom;
	const struct hb_intent *in = an.intent;
	const char *rule = an.intent_pattern ? an.intent_pattern->id : NULL;
	if (in && in->fallback) {
		ok = hb_reply_fallback(e, rule, NULL, out);
		out->intent = in->id;
		state.article[0] = '\0';
		goto save;
	}
	if (!in && an.smalltalk) {
		ok = reply_smalltalk(e, an.smalltalk, an.smalltalk_pattern->id, out);
		goto done;
	}
	/* an unknown subject ("gout", "aspirin") is never answered from an
	 * article about something else */
	if (an.unknown > 0) {
		ok = hb_reply_fallback(e, "fallback:unknown-subject", NULL, out);
		state.article[0] = '\0';
		goto save;
	}
	if (!in && an.topic >= 0 && e->about) {
		in = e->about;
		rule = "about:topic-only";
	}
	if (!in) {
		ok = hb_reply_fallback(e, "fallback:no-intent", NULL, out);
		goto done;
	}
	if (an.topic >= 0)
		article = &e->articles[an.topic];
	else if (an.evidence >= 0)
		article = &e->articles[an.evidence];
	else if (have_state && (article = article_by_id(e, state.article)))
		;
	else if (e->n_articles == 1)
		article = &e->articles[0];
	if (!article) {
		ok = hb_reply_fallback(e, "fallback:which-topic", NULL, out);
		out->intent = in->id;
		goto done;
	}
	ok = reply_answer(e, in, rule, article, out);
	copy_id(state.article, sizeof(state.article), article->id);
	copy_id(state.intent, sizeof(state.intent), in->id);
save:
	if (ok && !hb_convo_put(conv, conv_id, now, &state))
		ok = false;
done:
	out->n_candidates = an.n_candidates;
	memcpy(out->candidates, an.candidates, sizeof(an.candidates));
	if (!ok) {
		hb_reply_finish(out);
		goto oom;
	}
	hb_analysis_finish(&an);
	return true;
oom:
	hb_analysis_finish(&an);
	out->rule = "error:out-of-memory";
	return false;
}

bool hb_engine_reply(const struct hb_engine *e, struct hb_conversations *conv,
		const char *conv_id, const char *msg, size_t len, int64_t now,
		struct hb_reply *out)
{
	return hb_engine_reply_ex(e, conv, conv_id, msg, len, now, 0, out);
}

/* "self-care" == "Self-care", "see a doctor" ~ "When to see a doctor" */
static bool section_name_matches(const char *heading, const char *want)
{
	char a[128], b[128];
	size_t na = 0, nb = 0;
	for (const char *p = heading; *p && na < sizeof(a) - 1; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			a[na++] = (char)(*p | 0x20);
	for (const char *p = want; *p && nb < sizeof(b) - 1; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			b[nb++] = (char)(*p | 0x20);
	a[na] = b[nb] = '\0';
	return nb >= 3 && strstr(a, b) != NULL;
}

bool hb_engine_section(const struct hb_engine *e, const char *topic,
		const char *section, struct hb_reply *out)
{
	struct hb_analysis an;
	const struct hb_article *a = NULL;
	*out = (struct hb_reply){0};
	hb_analysis_init(&an);
	an.md = pcre2_match_data_create(16, NULL);
	hb_text_normalize(topic ? topic : "", topic ? strlen(topic) : 0, &an.norm);
	if (!an.md || an.norm.oom || !hb_classify_question(e, &an)) {
		hb_analysis_finish(&an);
		return false;
	}
	if (an.topic >= 0)
		a = &e->articles[an.topic];
	else if (an.evidence >= 0)
		a = &e->articles[an.evidence];
	hb_analysis_finish(&an);
	if (!a) {
		hb_reply_fallback(e, "section:unknown-topic", NULL, out);
		return false;
	}
	for (size_t s = 0; s < a->n_sections; s++) {
		const struct hb_section *sec = &a->sections[s];
		if (!section_name_matches(sec->heading, section ? section : ""))
			continue;
		const struct hb_block **blocks = calloc(sec->n_blocks, sizeof(*blocks));
		struct hb_buf text, html;
		if (!blocks)
			return false;
		for (size_t b = 0; b < sec->n_blocks; b++)
			blocks[b] = &sec->blocks[b];
		hb_buf_init(&text);
		hb_buf_init(&html);
		hb_reply_passage(e, a, sec, blocks, sec->n_blocks, &text, &html);
		free(blocks);
		out->kind = HB_REPLY_ANSWER;
		out->article = a->id;
		out->section = sec->heading;
		out->rule = "section";
		source_of(a, out);
		return finish_reply(&text, &html, out);
	}
	hb_reply_fallback(e, "section:unknown-section", a, out);
	return false;
}
