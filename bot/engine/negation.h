#ifndef HB_NEGATION_H
#define HB_NEGATION_H

/*
 * Negation and history: a red-flag match stands unless its own clause
 * says the sign is absent ("no chest pain", "denies numbness") or long
 * past ("I had a stroke two years ago"). The cue lists are data (the
 * "negation" object of an intents file); when unsure, a match stands.
 *
 * Rules, in order (docs/data-format.md has the reader's version):
 * - a match that spans a clause break always stands;
 * - negated: exactly one negation cue in the clause before the match, at
 *   most "max_gap" words before it, with no subject word ("i", "my") and
 *   no still-present word ("breathing", "wake") in between or in the
 *   match, and the match does not start with a negation of its own ("no
 *   pulse", "isn't responding" stand); or a negation inside a match that
 *   ran over it ("my leg isn't cold or pale"), or a "resolved" cue right
 *   after the match ("went away"), not itself negated. Severities in
 *   "never_negated" (crisis) are never negated;
 * - past: a history cue in the match's clause (or a short clause of its
 *   own beside it: "back in 2019, I had a stroke"), no present cue
 *   ("now", "today") in that clause and no recurrence cue ("again",
 *   "still") from the match's sentence on. Severities in
 *   "past_needs_wellness" (crisis) are past only when the message also
 *   says the person is well now ("I'm in a good place");
 */

#include <stdbool.h>
#include <stddef.h>

#include "library.h"

struct cJSON;
struct hb_loader;
struct hb_negation;

/* The "negation" object of an intents file (at most one per library). */
bool hb_negation_load(struct hb_loader *ld, const struct cJSON *obj);
void hb_negation_destroy(struct hb_negation *ng);

/* Whether the match [start, end) of a red flag of this severity stands. */
bool hb_negation_stands(const struct hb_negation *ng, const char *text,
		size_t len, size_t start, size_t end, enum hb_severity severity);

/*
 * Calls fn with the first word of every cue that can hold a match back
 * (negation, resolved, inner negation, history, question, mention): a
 * message with none of them cannot have a match held back, and the word
 * pass (typo.h) flags such words so that hb_negation_match() can skip
 * the weighing.
 */
bool hb_negation_first_words(const struct hb_negation *ng,
		bool (*fn)(void *data, const char *word), void *data);

/*
 * Runs a red-flag pattern over every match in text (not only the first:
 * "no chest pain yesterday, chest pain now"); true when one stands. With
 * no negation data, or `cues` false (the message has no first word of a
 * cue that could hold a match back), the first match stands. A message
 * with more matches than are worth judging one by one stands as a whole
 * (when unsure, escalate).
 */
bool hb_negation_match(const struct hb_engine *e, const struct hb_pattern *p,
		enum hb_severity severity, const char *text, size_t len,
		pcre2_match_data *md, bool cues);

#endif
