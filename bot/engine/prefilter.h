#ifndef HB_PREFILTER_H
#define HB_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A literal prefilter for many regular expressions, as RE2's sets and
 * Hyperscan do it: from each pattern we extract strings of which at least
 * one must occur in any text it matches ("breath", "breth", "air" for a
 * breathing red flag). One Aho-Corasick pass over a message then tells
 * which patterns can possibly match; only those run. Patterns whose
 * requirement cannot be worked out safely always run.
 *
 * The prefilter may let through patterns that then do not match; it must
 * never hold back one that would. The extractor is therefore
 * conservative: anything it does not fully understand makes the pattern
 * "always run".
 */

#define HB_PREFILTER_MAX_SLOTS 4096
#define HB_PREFILTER_MAX_GROUPS (3 * HB_PREFILTER_MAX_SLOTS)
/* words of the bitmap a scan fills: one bit per pattern slot */
#define HB_PREFILTER_WORDS (HB_PREFILTER_MAX_SLOTS / 64)

struct hb_prefilter;

struct hb_prefilter *hb_prefilter_create(void);
void hb_prefilter_destroy(struct hb_prefilter *pf);

/* Registers a (caseless) pattern; *slot is its bit. False when out of
 * memory or slots. */
bool hb_prefilter_add(struct hb_prefilter *pf, const char *source,
		uint32_t *slot);
bool hb_prefilter_build(struct hb_prefilter *pf);

/* Fills bits[] (HB_PREFILTER_WORDS words): one bit per slot that may
 * match the text. */
void hb_prefilter_scan(const struct hb_prefilter *pf, const char *text,
		size_t len, uint64_t *bits);

static inline bool hb_prefilter_test(const uint64_t *bits, uint32_t slot)
{
	return (bits[slot / 64] >> (slot % 64)) & 1;
}

/*
 * The requirement of one pattern, for tests and review: each string is one
 * conjunct written "a|b|c" (one of them must occur). False when there is
 * no safe requirement (the pattern always runs).
 */
bool hb_prefilter_literals(const char *source, char ***lits, size_t *n);
void hb_prefilter_free_literals(char **lits, size_t n);

#endif
