#ifndef HB_REPLY_H
#define HB_REPLY_H

#include "buf.h"
#include "library.h"

/* Fills {placeholders} of service wording into text and/or html. */
void hb_reply_expand(const struct hb_engine *e, const struct hb_article *a,
		const char *sections, const char *tmpl, struct hb_buf *text,
		struct hb_buf *html);
size_t hb_target_select(const struct hb_target *t, const struct hb_article *a,
		const struct hb_section **sec, const struct hb_block **blocks,
		size_t max);
void hb_reply_passage(const struct hb_engine *e, const struct hb_article *a,
		const struct hb_section *sec, const struct hb_block *const *blocks,
		size_t n, struct hb_buf *text, struct hb_buf *html);
/* At load: source lines and every intent's passage in every article. */
bool hb_reply_resolve_passages(struct hb_engine *e);
void hb_reply_free_passages(struct hb_engine *e);
bool hb_reply_fallback(const struct hb_engine *e, const char *rule,
		const struct hb_article *a, struct hb_reply *out);

#endif
