#ifndef HB_SUBJECT_H
#define HB_SUBJECT_H

/*
 * Subjects an article names without being about them ("subjects" in the
 * intents files): the night leg cramps article lists diabetes, kidney
 * disease and statins as things linked to cramps, so its words match
 * "what causes diabetes" although the article cannot answer it. A message
 * whose subject is such a term gets the fallback unless it ties the term
 * to the article's topic (a topic name, a "links" pattern) or is a
 * follow-up in a conversation about that article.
 */

#include <stdbool.h>

#include "library.h"

struct cJSON;
struct hb_analysis;
struct hb_loader;

struct hb_subject_term {
	struct hb_phrase phrase;
	uint32_t article;  /* index of the article that names it */
};

struct hb_subjects {
	struct hb_subject_term *terms;
	size_t n_terms;
	struct hb_strset first;       /* first stem of every term */
	struct hb_patterns links;     /* the message ties the term to the topic */
	struct hb_patterns followups; /* "what about …", "and …?", "… too?" */
};

/* Reads one "subjects" object; several files may each add one. */
bool hb_subjects_load(struct hb_loader *ld, const struct cJSON *obj);
void hb_subjects_destroy(struct hb_subjects *subjects);

/*
 * True when the message (classified, with no topic name and no unknown
 * word) is about a named subject and not about the article: the reply is
 * then the fallback. convo_article is the article of the conversation so
 * far (NULL or "" when there is none); *term is set to the subject found.
 */
bool hb_subjects_off_topic(const struct hb_engine *e,
		const struct hb_analysis *an, const char *convo_article,
		const char **term);

#endif
