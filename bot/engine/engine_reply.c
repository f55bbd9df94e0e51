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

/* One message: what classify() finds in it, and the conversation's
 * state, which compose() changes when the reply moves the conversation
 * on. */
struct turn {
	struct hb_analysis an;
	size_t len;                  /* of the message, in bytes */
	struct hb_convo_state state;
	bool have_state;             /* state is the conversation's */
	bool save;                   /* state changed: store it */
};

/*
 * Red flags first, always, on the whole message whatever its length;
 * then, unless one matched or the message is empty or too long to
 * classify, what is asked and about what. False only when memory runs
 * out.
 */
static bool classify(const struct hb_engine *e, struct turn *t,
		const char *msg)
{
	struct hb_analysis *an = &t->an;
	an->md = pcre2_match_data_create(16, NULL);
	hb_text_normalize(msg ? msg : "", t->len, &an->norm);
	if (!an->md || an->norm.oom)
		return false;
	if (hb_classify_redflags(e, an) || an->norm.len == 0 ||
			t->len > HB_MAX_MESSAGE)
		return true;
	return hb_classify_question(e, an);
}

/* The article that answers: the one the message names, the one its words
 * point to, the conversation's, or the only one; NULL: ask which. */
static const struct hb_article *pick_article(const struct hb_engine *e,
		const struct turn *t)
{
	const struct hb_article *a;
	if (t->an.topic >= 0)
		return &e->articles[t->an.topic];
	if (t->an.evidence >= 0)
		return &e->articles[t->an.evidence];
	if (t->have_state && (a = article_by_id(e, t->state.article)))
		return a;
	return e->n_articles == 1 ? &e->articles[0] : NULL;
}

/* The reply to a classified message. False only when memory runs out. */
static bool compose(const struct hb_engine *e, struct turn *t,
		struct hb_reply *out)
{
	const struct hb_analysis *an = &t->an;
	if (an->emergency || an->crisis)
		return hb_reply_escalation(e, an, out);
	if (an->norm.len == 0)
		return hb_reply_wording(e, HB_REPLY_SMALLTALK, "empty", "empty",
				e->wording[HB_WORD_EMPTY], out);
	if (t->len > HB_MAX_MESSAGE)
		return hb_reply_wording(e, HB_REPLY_FALLBACK, NULL,
				"fallback:too-long", e->wording[HB_WORD_TOO_LONG], out);
	const struct hb_intent *in = an->intent;
	const char *rule = an->intent_pattern ? an->intent_pattern->id : NULL;
	if (in && in->fallback) {
		/* a question the library does not answer (clinic hours,
		 * billing): the fallback, and the topic is dropped */
		t->state.article[0] = '\0';
		t->save = true;
		bool ok = hb_reply_fallback(e, rule, NULL, out);
		out->intent = in->id;
		return ok;
	}
	if (!in && an->smalltalk)
		return hb_reply_smalltalk(e, an->smalltalk,
				an->smalltalk_pattern->id, out);
	/* an unknown subject ("gout", "aspirin") is never answered from an
	 * article about something else */
	if (an->unknown > 0) {
		t->state.article[0] = '\0';
		t->save = true;
		return hb_reply_fallback(e, "fallback:unknown-subject", NULL, out);
	}
	/* nor is a condition or drug an article only names ("what causes
	 * diabetes"), unless the message ties it to the topic */
	const char *subject = NULL;
	if (hb_subjects_off_topic(e, an, t->have_state ? t->state.article : NULL,
			&subject)) {
		t->state.article[0] = '\0';
		t->save = true;
		return hb_reply_fallback(e, "fallback:off-topic", NULL, out);
	}
	if (!in && an->topic >= 0 && e->about) {
		in = e->about;
		rule = "about:topic-only";
	}
	if (!in)
		return hb_reply_fallback(e, "fallback:no-intent", NULL, out);
	const struct hb_article *a = pick_article(e, t);
	if (!a) {
		bool ok = hb_reply_fallback(e, "fallback:which-topic", NULL, out);
		out->intent = in->id;
		return ok;
	}
	copy_id(t->state.article, sizeof(t->state.article), a->id);
	copy_id(t->state.intent, sizeof(t->state.intent), in->id);
	t->save = true;
	return hb_reply_answer(e, in, rule, a, out);
}

bool hb_engine_reply_ex(const struct hb_engine *e, struct hb_conversations *conv,
		const char *conv_id, const char *msg, size_t len, int64_t now,
		unsigned flags, struct hb_reply *out)
{
	struct turn t; /* not zeroed whole: hb_analysis_init() says why */
	*out = (struct hb_reply){0};
	hb_analysis_init(&t.an);
	t.an.explain = flags & HB_REPLY_EXPLAIN;
	t.len = msg ? len : 0;
	t.state = (struct hb_convo_state){0};
	t.have_state = hb_convo_get(conv, conv_id, now, &t.state);
	t.save = false;
	bool ok = classify(e, &t, msg) && compose(e, &t, out) &&
		(!t.save || hb_convo_put(conv, conv_id, now, &t.state));
	out->n_candidates = t.an.n_candidates;
	memcpy(out->candidates, t.an.candidates, sizeof(t.an.candidates));
	/* a Spanish message gets Spanish service wording (lang.h) */
	if (ok && out->kind != HB_REPLY_ESCALATION)
		ok = hb_reply_localize(e, hb_lang_choose(e,
				t.an.words_seen.votes, NULL), out);
	hb_analysis_finish(&t.an);
	if (!ok) {
		hb_reply_finish(out);
		out->rule = "error:out-of-memory";
	}
	return ok;
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

/* The article a topic in plain words names ("cramps"); *a NULL when none.
 * False only when memory runs out. */
static bool topic_article(const struct hb_engine *e, const char *topic,
		const struct hb_article **a)
{
	struct hb_analysis an;
	*a = NULL;
	hb_analysis_init(&an);
	an.md = pcre2_match_data_create(16, NULL);
	hb_text_normalize(topic ? topic : "", topic ? strlen(topic) : 0, &an.norm);
	bool ok = an.md && !an.norm.oom && hb_classify_question(e, &an);
	if (ok && an.topic >= 0)
		*a = &e->articles[an.topic];
	else if (ok && an.evidence >= 0)
		*a = &e->articles[an.evidence];
	hb_analysis_finish(&an);
	return ok;
}

static const struct hb_section *section_by_name(const struct hb_article *a,
		const char *name)
{
	for (size_t s = 0; s < a->n_sections; s++) {
		if (section_name_matches(a->sections[s].heading, name ? name : ""))
			return &a->sections[s];
	}
	return NULL;
}

enum hb_section_result hb_engine_section(const struct hb_engine *e,
		const char *topic, const char *section, struct hb_reply *out)
{
	const struct hb_article *a;
	const struct hb_section *sec;
	*out = (struct hb_reply){0};
	if (!topic_article(e, topic, &a))
		goto oom;
	if (!a) {
		if (!hb_reply_fallback(e, "section:unknown-topic", NULL, out))
			goto oom;
		return HB_SECTION_NO_TOPIC;
	}
	if (!(sec = section_by_name(a, section))) {
		if (!hb_reply_fallback(e, "section:unknown-section", a, out))
			goto oom;
		return HB_SECTION_NO_SECTION;
	}
	if (!hb_reply_section(e, a, sec, out))
		goto oom;
	return HB_SECTION_OK;
oom:
	hb_reply_finish(out);
	out->rule = "error:out-of-memory";
	return HB_SECTION_ERROR;
}
