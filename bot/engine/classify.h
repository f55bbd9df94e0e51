#ifndef HB_CLASSIFY_H
#define HB_CLASSIFY_H

#include "buf.h"
#include "library.h"
#include "typo.h"

#define HB_MAX_WORDS 1024

/* Everything the engine learns from one message, before it composes. */
struct hb_analysis {
	struct hb_buf norm;      /* normalized message: red flags see this */
	struct hb_buf text;      /* after the lexicon: intents see this */
	pcre2_match_data *md;
	bool explain;            /* collect every candidate, not just winners */
	bool no_prefilter;       /* run every pattern (to check the prefilter) */
	bool norm_scanned;       /* bits are those of norm (not yet of text) */

	/* the first emergency and the first crisis rule that matched: a
	 * message can be both ("took an overdose, I want to die") and the
	 * reply must then carry both */
	const struct hb_redflag *emergency, *crisis;
	const struct hb_pattern *emergency_pattern, *crisis_pattern;
	/* language votes and unknown words (typo.h); typo: a red flag
	 * matched only once typos of red-flag words were corrected */
	struct hb_wordscan words_seen;
	bool typo;

	const struct hb_intent *intent;
	const struct hb_pattern *intent_pattern;
	int intent_score;
	const struct hb_smalltalk *smalltalk;
	const struct hb_pattern *smalltalk_pattern;

	long topic;              /* article named in the message, or -1 */
	size_t topic_len;        /* words in the matched name */
	long evidence;           /* article the message's words point to, or -1 */
	size_t unknown;          /* words no article, topic or vocabulary knows */
	size_t n_words;

	size_t n_candidates;
	struct hb_candidate candidates[HB_MAX_CANDIDATES];

	/* last: hb_analysis_init() leaves it alone */
	uint64_t bits[HB_PREFILTER_WORDS]; /* patterns the text may match */
};

void hb_analysis_init(struct hb_analysis *an);
void hb_analysis_finish(struct hb_analysis *an);
/* Red flags only; true when one matched. */
bool hb_classify_redflags(const struct hb_engine *e, struct hb_analysis *an);
/* Lexicon, words, topics, intents and small talk. */
bool hb_classify_question(const struct hb_engine *e, struct hb_analysis *an);
bool hb_pattern_matches(const struct hb_engine *e, const struct hb_pattern *p,
		const char *text, size_t len, pcre2_match_data *md);

#endif
