/* From an analysis to a reply: choosing the passage and composing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "convo.h"
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

/* A reply that is only service wording (small talk, empty, too long). */
static bool reply_wording(const struct hb_engine *e, enum hb_reply_kind kind,
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

static bool reply_smalltalk(const struct hb_engine *e,
		const struct hb_smalltalk *st, const char *rule, struct hb_reply *out)
{
	return reply_wording(e, HB_REPLY_SMALLTALK, st->id, rule, st->reply, out);
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

/*
 * Emergency wording first when a physical emergency matched, then the
 * crisis line when a crisis rule matched too: "my dad cut himself and
 * it's spurting blood" must not get only the crisis reply, whose advice
 * to call the emergency number is conditional.
 */
static bool reply_escalation(const struct hb_engine *e,
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
		ok = reply_wording(e, HB_REPLY_SMALLTALK, "empty", "empty",
				e->wording[HB_WORD_EMPTY], out);
		goto done;
	}
	if (len > HB_MAX_MESSAGE) {
		ok = reply_wording(e, HB_REPLY_FALLBACK, NULL, "fallback:too-long",
				e->wording[HB_WORD_TOO_LONG], out);
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
	/* a Spanish message gets Spanish service wording (lang.h) */
	if (ok && out->kind != HB_REPLY_ESCALATION)
		ok = hb_lang_finish_reply(e, hb_lang_choose(e, an.words_seen.votes,
				NULL), out);
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
