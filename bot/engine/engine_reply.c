/*
 * Answering: what the engine says to a message (red flags first, then
 * what is asked and about which article), a section on request, and the
 * greeting. Composing the text is reply.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "convo.h"
#include "lang.h"
#include "library.h"
#include "reply.h"
#include "subject.h"
#include "text.h"

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
	return hb_reply_smalltalk(e, smalltalk_by_id(e, "greeting"), "greeting", out);
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
		ok = hb_reply_escalation(e, &an, out);
		goto done;
	}
	if (an.norm.len == 0) {
		ok = hb_reply_wording(e, HB_REPLY_SMALLTALK, "empty", "empty",
				e->wording[HB_WORD_EMPTY], out);
		goto done;
	}
	if (len > HB_MAX_MESSAGE) {
		ok = hb_reply_wording(e, HB_REPLY_FALLBACK, NULL, "fallback:too-long",
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
		ok = hb_reply_smalltalk(e, an.smalltalk, an.smalltalk_pattern->id, out);
		goto done;
	}
	/* an unknown subject ("gout", "aspirin") is never answered from an
	 * article about something else */
	if (an.unknown > 0) {
		ok = hb_reply_fallback(e, "fallback:unknown-subject", NULL, out);
		state.article[0] = '\0';
		goto save;
	}
	/* nor is a condition or drug an article only names ("what causes
	 * diabetes"), unless the message ties it to the topic */
	const char *subject = NULL;
	if (hb_subjects_off_topic(e, &an, have_state ? state.article : NULL,
			&subject)) {
		ok = hb_reply_fallback(e, "fallback:off-topic", NULL, out);
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
	ok = hb_reply_answer(e, in, rule, article, out);
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
		return hb_reply_section(e, a, sec, out);
	}
	hb_reply_fallback(e, "section:unknown-section", a, out);
	return false;
}
