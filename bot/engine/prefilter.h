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

/* The first slot from `from` to `to` (inclusive) that may match, or
 * to + 1: walks a range of rules with one word test per 64 slots. */
static inline uint32_t hb_prefilter_next(const uint64_t *bits, uint32_t from,
		uint32_t to)
{
	uint32_t w = from / 64;
	uint64_t word = bits[w] & (~0ull << (from % 64));
	while (!word) {
		if (++w > to / 64)
			return to + 1;
		word = bits[w];
	}
	uint32_t s = w * 64 + (uint32_t)__builtin_ctzll(word);
	return s <= to ? s : to + 1;
}

/* Whether any slot from `from` to `to` (inclusive) may match: a rule's
 * patterns have consecutive slots, so one test can skip all of them. */
static inline bool hb_prefilter_any(const uint64_t *bits, uint32_t from,
		uint32_t to)
{
	uint32_t a = from / 64, b = to / 64;
	uint64_t lo = ~0ull << (from % 64), hi = ~0ull >> (63 - to % 64);
	if (a == b)
		return bits[a] & lo & hi;
	if (bits[a] & lo)
		return true;
	for (uint32_t w = a + 1; w < b; w++) {
		if (bits[w])
			return true;
	}
	return bits[b] & hi;
}

/*
 * The requirement of one pattern, for tests and review: each string is one
 * conjunct written "a|b|c" (one of them must occur). False when there is
 * no safe requirement (the pattern always runs).
 */
bool hb_prefilter_literals(const char *source, char ***lits, size_t *n);
void hb_prefilter_free_literals(char **lits, size_t n);

#endif
