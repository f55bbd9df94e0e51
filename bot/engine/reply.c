/* Composing replies as text and HTML (reply.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "grow.h"
#include "lang.h"
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

static void put(struct hb_buf *b, const char *s)
{
	hb_buf_append(b, s, strlen(s));
}

static void put_html(struct hb_buf *b, const char *s)
{
	hb_buf_html(b, s, strlen(s));
}

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

/* Every article's source line and disclaimer, rendered once at load:
 * every answer ends with them. */
bool hb_reply_render_sources(struct hb_engine *e)
{
	for (size_t i = 0; i < e->n_articles; i++) {
		if (!render_source(e, &e->articles[i]))
			return false;
	}
	return true;
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
struct hb_rendered {
	const char *tmpl; /* the engine's own string: found by address */
	char *text, *html;
	size_t text_len, html_len;
};

static bool render(struct hb_engine *e, const char *tmpl)
{
	for (size_t i = 0; i < e->n_rendered; i++) {
		if (e->rendered[i].tmpl == tmpl)
			return true;
	}
	struct hb_rendered *r = hb_grow(e->rendered, e->n_rendered, sizeof(*r));
	if (!r)
		return false;
	e->rendered = r;
	struct hb_buf text, html;
	hb_buf_init(&text);
	hb_buf_init(&html);
	hb_reply_expand(e, NULL, NULL, tmpl, &text, NULL);
	hb_buf_html_paragraphs(&html, text.data ? text.data : "", text.len);
	r = &e->rendered[e->n_rendered];
	r->tmpl = tmpl;
	r->text_len = text.len;
	r->html_len = html.len;
	r->text = hb_buf_steal(&text);
	r->html = hb_buf_steal(&html);
	if (!r->text || !r->html) {
		free(r->text);
		free(r->html);
		return false;
	}
	e->n_rendered++;
	return true;
}

bool hb_reply_render_wording(struct hb_engine *e)
{
	size_t n_langs = e->langs ? e->langs->n : 0;
	for (int lang = -1; lang < (int)n_langs; lang++) {
		for (int k = 0; k < HB_WORD_COUNT; k++) {
			const char *tmpl = hb_lang_wording(e, lang, (enum hb_wording)k);
			if (tmpl && !render(e, tmpl))
				return false;
		}
		const char *note = hb_lang_library_note(e, lang);
		if (note && !render(e, note))
			return false;
	}
	return true;
}

void hb_reply_rendered_free(struct hb_engine *e)
{
	for (size_t i = 0; i < e->n_rendered; i++) {
		free(e->rendered[i].text);
		free(e->rendered[i].html);
	}
	free(e->rendered);
	e->rendered = NULL;
	e->n_rendered = 0;
}

static void wording(const struct hb_engine *e, const struct hb_article *a,
		const char *sections, const char *tmpl, struct hb_buf *text,
		struct hb_buf *html)
{
	for (size_t i = 0; !a && !sections && i < e->n_rendered; i++) {
		const struct hb_rendered *r = &e->rendered[i];
		if (r->tmpl == tmpl) {
			hb_buf_append(text, r->text, r->text_len);
			hb_buf_append(html, r->html, r->html_len);
			return;
		}
	}
	struct hb_buf plain;
	hb_buf_init(&plain);
	hb_reply_expand(e, a, sections, tmpl, &plain, NULL);
	hb_buf_append(text, plain.data ? plain.data : "", plain.len);
	hb_buf_html_paragraphs(html, plain.data ? plain.data : "", plain.len);
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

bool hb_reply_wording(const struct hb_engine *e, enum hb_reply_kind kind,
		const char *intent, const char *rule, const char *tmpl,
		struct hb_reply *out)
{
	struct hb_buf text, html;
	hb_buf_init(&text);
	hb_buf_init(&html);
	out->kind = kind;
	out->intent = intent;
	out->rule = rule;
	wording(e, NULL, NULL, tmpl, &text, &html);
	return finish_reply(&text, &html, out);
}

bool hb_reply_smalltalk(const struct hb_engine *e,
		const struct hb_smalltalk *st, const char *rule, struct hb_reply *out)
{
	return hb_reply_wording(e, HB_REPLY_SMALLTALK, st->id, rule, st->reply, out);
}

/*
 * Emergency wording first when a physical emergency matched, then the
 * crisis line when a crisis rule matched too: "my dad cut himself and
 * it's spurting blood" must not get only the crisis reply, whose advice
 * to call the emergency number is conditional.
 */
bool hb_reply_escalation(const struct hb_engine *e,
		const struct hb_analysis *an, struct hb_reply *out)
{
	/* the crisis rule names the category (its wording is the more
	 * specific), a physical emergency sets the severity */
	const struct hb_redflag *rf = an->crisis ? an->crisis : an->emergency;
	struct hb_buf text, html;
	hb_buf_init(&text);
	hb_buf_init(&html);
	out->kind = HB_REPLY_ESCALATION;
	out->severity = an->emergency && (!an->crisis ||
			an->emergency->severity == HB_SEVERITY_EMERGENCY) ?
		an->emergency->severity : HB_SEVERITY_CRISIS;
	out->category = rf->category;
	out->intent = rf->id;
	out->rule = (an->crisis ? an->crisis_pattern : an->emergency_pattern)->id;
	/* Spanish wording for a Spanish rule or a Spanish message (lang.h) */
	int lang = hb_lang_choose(e, an->words_seen.votes,
			an->crisis && an->crisis->lang ? an->crisis->lang :
			an->emergency ? an->emergency->lang : NULL);
	const char *note = hb_lang_library_note(e, lang);
	out->lang = hb_lang_code(e, lang);
	if (an->emergency)
		wording(e, NULL, NULL, hb_lang_wording(e, lang,
				an->emergency->severity == HB_SEVERITY_URGENT ?
				HB_WORD_ESCALATION_URGENT : HB_WORD_ESCALATION_EMERGENCY),
			&text, &html);
	if (an->emergency && an->crisis) {
		hb_buf_puts(&text, "\n");
		hb_buf_putc(&html, '\n');
	}
	if (an->crisis)
		wording(e, NULL, NULL, hb_lang_wording(e, lang,
				HB_WORD_ESCALATION_CRISIS), &text, &html);
	/* the article's own "seek care right away" text, when it has one */
	rf = an->emergency;
	for (size_t i = 0; rf && rf->passages && i < e->n_articles; i++) {
		const struct hb_article *a = &e->articles[i];
		const struct hb_passage *p = &rf->passages[i];
		if (!p->section)
			continue;
		hb_buf_puts(&text, "\n\n");
		hb_buf_putc(&html, '\n');
		if (note) {
			/* the article's words stay English, and say so */
			wording(e, NULL, NULL, note, &text, &html);
			hb_buf_puts(&text, "\n\n");
			hb_buf_putc(&html, '\n');
		}
		hb_reply_passage(e, a, p->section, p->blocks, p->n_blocks, &text, &html);
		out->article = a->id;
		out->section = p->section->heading;
		source_of(a, out);
		break;
	}
	return finish_reply(&text, &html, out);
}

bool hb_reply_answer(const struct hb_engine *e, const struct hb_intent *in,
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

bool hb_reply_section(const struct hb_engine *e, const struct hb_article *a,
		const struct hb_section *sec, struct hb_reply *out)
{
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

const char *hb_reply_kind_str(enum hb_reply_kind kind)
{
	switch (kind) {
	case HB_REPLY_ANSWER: return "answer";
	case HB_REPLY_ESCALATION: return "escalation";
	case HB_REPLY_FALLBACK: return "fallback";
	case HB_REPLY_SMALLTALK: return "smalltalk";
	}
	return "unknown";
}

const char *hb_severity_str(enum hb_severity severity)
{
	switch (severity) {
	case HB_SEVERITY_NONE: return "none";
	case HB_SEVERITY_URGENT: return "urgent";
	case HB_SEVERITY_CRISIS: return "crisis";
	case HB_SEVERITY_EMERGENCY: return "emergency";
	}
	return "unknown";
}

void hb_reply_finish(struct hb_reply *reply)
{
	if (!reply)
		return;
	free(reply->text);
	free(reply->html);
	*reply = (struct hb_reply){0};
}

bool hb_reply_localize(const struct hb_engine *e, int lang,
		struct hb_reply *r)
{
	/* small talk and "too long" stay English, and say so */
	bool too_long = r->rule && strcmp(r->rule, "fallback:too-long") == 0;
	if (r->kind == HB_REPLY_SMALLTALK || too_long)
		lang = -1;
	r->lang = hb_lang_code(e, lang);
	if (lang < 0 || !r->text || !r->html)
		return true;
	struct hb_buf text, html;
	hb_buf_init(&text);
	hb_buf_init(&html);
	if (r->kind == HB_REPLY_FALLBACK && !r->article) {
		wording(e, NULL, NULL, hb_lang_wording(e, lang, HB_WORD_FALLBACK),
			&text, &html);
	} else if (r->kind == HB_REPLY_ANSWER ||
			(r->kind == HB_REPLY_FALLBACK && r->article)) {
		/* the article's own words stay as written: never translated */
		wording(e, NULL, NULL, hb_lang_library_note(e, lang), &text, &html);
		if (html.len)
			hb_buf_putc(&html, '\n'); /* a line per paragraph */
		hb_buf_puts(&text, "\n\n");
		hb_buf_puts(&text, r->text);
		hb_buf_puts(&html, r->html);
	} else {
		return true;
	}
	char *t = hb_buf_steal(&text), *h = hb_buf_steal(&html);
	if (!t || !h) {
		free(t);
		free(h);
		return false;
	}
	free(r->text);
	free(r->html);
	r->text = t;
	r->html = h;
	return true;
}
