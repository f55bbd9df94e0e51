#ifndef HB_TERMS_H
#define HB_TERMS_H

/*
 * Term classes: named lists of alternatives ("terms": {"LEG": ["legs?",
 * "calf", …]} at the top level of any intents file), referenced as {LEG}
 * in patterns and expanded at load into (?:legs?|calf|…). One namespace
 * across all files, so the red-flag files share one vocabulary.
 */

#include <stdbool.h>
#include <stddef.h>

struct cJSON;
struct hb_buf;
struct hb_error;

struct hb_term {
	char *name;
	char *file;        /* where it is defined */
	char **alts;       /* as written */
	size_t n_alts;
	char *expanded;    /* "(?:a|b)", nested terms expanded; NULL until resolved */
	size_t *refs;      /* terms its alternatives reference (indices) */
	size_t n_refs;
	int state;         /* 0 unresolved, 1 being resolved (cycle check), 2 done */
	bool direct;       /* referenced by a pattern */
	bool used;         /* referenced by a pattern, directly or through terms */
};

struct hb_terms {
	struct hb_term *items;
	size_t n;
};

struct hb_terms *hb_terms_create(void);
void hb_terms_destroy(struct hb_terms *terms);

/* Adds the "terms" object of one file; a name defined twice, a name that
 * is not [A-Z][A-Z0-9_]* or a value that is not a non-empty list of
 * non-empty strings is an error naming the file and the term. */
bool hb_terms_add(struct hb_terms *terms, const char *file,
		const struct cJSON *obj, struct hb_error *err);

/* Appends src to out with every {NAME} replaced by its expansion. Braces
 * that belong to PCRE2 syntax stay: quantifiers ({2,3}), escapes
 * (\x{41}, \p{Lu}), escaped braces, character classes and \Q…\E. An
 * unknown term or a cycle is an error naming file, entry and offset.
 * terms may be NULL (no file defines any). */
bool hb_terms_expand(struct hb_terms *terms, const char *file,
		const char *entry, const char *src, struct hb_buf *out,
		struct hb_error *err);

/* After every file is loaded: resolves the terms no pattern used (so a
 * cycle or unknown reference in one is still an error) and marks which
 * terms are used through others. */
bool hb_terms_finish_load(struct hb_terms *terms, struct hb_error *err);

#endif
