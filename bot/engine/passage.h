#ifndef HB_PASSAGE_H
#define HB_PASSAGE_H

/*
 * Passages: where an intent's (or a red flag's) answer is in an article,
 * found once at load because a target looks through every block of a
 * section for its locator text.
 */

#include <stdbool.h>
#include <stddef.h>

#include "library.h"

/* The blocks of a that t picks (at most max), and their section in
 * *sec; 0 when a has none. */
size_t hb_passage_select(const struct hb_target *t, const struct hb_article *a,
		const struct hb_section **sec, const struct hb_block **blocks,
		size_t max);
/* True when t picks a passage of a. */
bool hb_passage_resolves(const struct hb_target *t, const struct hb_article *a);
/* Every intent's and red flag's passage in every article. */
bool hb_passage_resolve_all(struct hb_engine *e);
void hb_passage_free_all(struct hb_engine *e);

#endif
