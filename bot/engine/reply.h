#ifndef HB_REPLY_H
#define HB_REPLY_H

/*
 * Composing replies: an article's passage with its source line, or
 * service wording from intents/, as text and HTML. Nothing here decides
 * what to say (engine_reply.c does).
 */

#include "buf.h"
#include "library.h"

struct hb_analysis;

/* Fills {placeholders} of service wording into text and/or html. */
void hb_reply_expand(const struct hb_engine *e, const struct hb_article *a,
		const char *sections, const char *tmpl, struct hb_buf *text,
		struct hb_buf *html);
/* The passage exactly as the article has it, then the source line. */
void hb_reply_passage(const struct hb_engine *e, const struct hb_article *a,
		const struct hb_section *sec, const struct hb_block *const *blocks,
		size_t n, struct hb_buf *text, struct hb_buf *html);
/* At load: every article's source line and disclaimer, rendered once. */
bool hb_reply_render_sources(struct hb_engine *e);
/* At load: the wording that names no article, in every language,
 * rendered once (an escalation was half wording); freed by
 * hb_reply_rendered_free(). */
bool hb_reply_render_wording(struct hb_engine *e);
void hb_reply_rendered_free(struct hb_engine *e);

/* Each fills out and returns false only when memory runs out. */
bool hb_reply_fallback(const struct hb_engine *e, const char *rule,
		const struct hb_article *a, struct hb_reply *out);
/* A reply that is only service wording (small talk, empty, too long). */
bool hb_reply_wording(const struct hb_engine *e, enum hb_reply_kind kind,
		const char *intent, const char *rule, const char *tmpl,
		struct hb_reply *out);
bool hb_reply_smalltalk(const struct hb_engine *e,
		const struct hb_smalltalk *st, const char *rule, struct hb_reply *out);
/* The escalation for the red flags an analysis found. */
bool hb_reply_escalation(const struct hb_engine *e,
		const struct hb_analysis *an, struct hb_reply *out);
/* The answer to intent in from article a (a fallback when a has none). */
bool hb_reply_answer(const struct hb_engine *e, const struct hb_intent *in,
		const char *rule, const struct hb_article *a, struct hb_reply *out);
/* A whole section of a. */
bool hb_reply_section(const struct hb_engine *e, const struct hb_article *a,
		const struct hb_section *sec, struct hb_reply *out);
/*
 * Turns a reply composed in English into language lang's (lang.h): a
 * fallback gets the language's fallback wording, an answer (English
 * article text) the line saying the library is in English on top. Sets
 * reply->lang.
 */
bool hb_reply_localize(const struct hb_engine *e, int lang,
		struct hb_reply *reply);

#endif
