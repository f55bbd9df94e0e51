#ifndef HB_PREFILTER_INTERNAL_H
#define HB_PREFILTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A requirement is a conjunction of literal sets: every set must have one
 * of its strings in the text. "\bcramp\w*\b.{0,30}\bwon'?t stop" gives
 * {cramp} AND {wont stop, won't stop}: both must occur, which is far more
 * selective than either alone.
 */
#define MAX_AND 3
#define MAX_RUN 64   /* strings in one literal run after expansions */
#define MAX_LIT 64   /* bytes in one literal */

/* The strings are NUL-terminated, at most MAX_LIT bytes, in fixed-size
 * slots of the extraction's pool with their length in the byte before
 * them (literals.c): extraction builds and drops hundreds of thousands of
 * short strings at every load, and malloc() for each was most of its
 * cost. */
struct litset {
	char **s;
	size_t n, cap;
};

struct lit_chunk;

struct req {
	struct litset sets[MAX_AND];
	size_t n;
	struct lit_chunk *chunks; /* the strings' memory, freed with the req */
};

/* False when the pattern has no requirement we trust. */
bool hb_req_extract(const char *source, struct req *r);
void hb_req_free(struct req *r);

#endif
