#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "prefilter.h"
#include "prefilter_internal.h"

/* ---- Aho-Corasick over a small alphabet -------------------------------- */

/* Normalized chat text is lower-case ASCII plus UTF-8; literals are ASCII.
 * Every other byte shares symbol 0, which can only add false positives. */
#define ALPHA 40

/* a-z: 1-26, 0-9: 27-36, space 37, apostrophe 38, hyphen 39 */
static const unsigned char symbol_of[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	37, 0, 0, 0, 0, 0, 0, 38, 0, 0, 0, 0, 0, 39, 0, 0,
	27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

struct node {
	uint32_t next[ALPHA];
	uint32_t fail;
	uint32_t dict;     /* nearest suffix node with outputs, 0 = none */
	uint32_t *out;     /* slots whose literal ends here */
	uint32_t n_out;
};

struct hb_prefilter {
	struct node *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t n_slots;
	uint32_t n_groups;
	/* per slot: its literal groups, all of which must be seen */
	struct { uint16_t n; uint32_t group[MAX_AND]; } *slots;
	uint32_t *group_slot; /* per group: the slot it belongs to */
	uint64_t always[HB_PREFILTER_WORDS]; /* slots without groups */
};

static uint32_t new_node(struct hb_prefilter *pf)
{
	if (pf->n_nodes == pf->cap_nodes) {
		size_t cap = pf->cap_nodes ? pf->cap_nodes * 2 : 256;
		struct node *n = realloc(pf->nodes, cap * sizeof(*n));
		if (!n)
			return 0;
		pf->nodes = n;
		pf->cap_nodes = cap;
	}
	memset(&pf->nodes[pf->n_nodes], 0, sizeof(struct node));
	return (uint32_t)pf->n_nodes++;
}

struct hb_prefilter *hb_prefilter_create(void)
{
	struct hb_prefilter *pf = calloc(1, sizeof(*pf));
	if (pf && new_node(pf) != 0) { /* the root is node 0 */
		free(pf);
		return NULL;
	}
	if (pf && !pf->nodes) {
		free(pf);
		return NULL;
	}
	return pf;
}

void hb_prefilter_destroy(struct hb_prefilter *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->n_nodes; i++)
		free(pf->nodes[i].out);
	free(pf->nodes);
	free(pf->slots);
	free(pf->group_slot);
	free(pf);
}

static bool insert(struct hb_prefilter *pf, const char *lit, uint32_t slot)
{
	uint32_t cur = 0;
	for (const unsigned char *p = (const unsigned char *)lit; *p; p++) {
		unsigned s = symbol_of[*p];
		uint32_t nx = pf->nodes[cur].next[s];
		if (!nx) {
			nx = new_node(pf);
			if (!nx)
				return false;
			pf->nodes[cur].next[s] = nx;
		}
		cur = nx;
	}
	struct node *n = &pf->nodes[cur];
	if (n->n_out && n->out[n->n_out - 1] == slot)
		return true;
	uint32_t *o = hb_grow(n->out, n->n_out, sizeof(*o));
	if (!o)
		return false;
	n->out = o;
	o[n->n_out++] = slot;
	return true;
}

bool hb_prefilter_add(struct hb_prefilter *pf, const char *source,
		uint32_t *slot)
{
	struct req r;
	if (pf->n_slots >= HB_PREFILTER_MAX_SLOTS)
		return false;
	void *slots = hb_grow(pf->slots, pf->n_slots, sizeof(*pf->slots));
	if (!slots)
		return false;
	pf->slots = slots;
	*slot = pf->n_slots++;
	pf->slots[*slot].n = 0;
	if (!hb_req_extract(source, &r)) {
		pf->always[*slot / 64] |= 1ull << (*slot % 64);
		return true;
	}
	bool ok = pf->n_groups + r.n <= HB_PREFILTER_MAX_GROUPS;
	uint32_t *gs = ok ? realloc(pf->group_slot,
			(pf->n_groups + r.n) * sizeof(*gs)) : NULL;
	ok = gs != NULL;
	if (ok)
		pf->group_slot = gs;
	for (size_t i = 0; ok && i < r.n; i++) {
		uint32_t g = pf->n_groups++;
		gs[g] = *slot;
		pf->slots[*slot].group[pf->slots[*slot].n++] = g;
		for (size_t j = 0; ok && j < r.sets[i].n; j++)
			ok = insert(pf, r.sets[i].s[j], g);
	}
	hb_req_free(&r);
	return ok;
}

bool hb_prefilter_build(struct hb_prefilter *pf)
{
	/* breadth first: fail links, then a full transition table (a DFA),
	 * so scanning is one table lookup per byte */
	uint32_t *queue = malloc(pf->n_nodes * sizeof(*queue));
	size_t head = 0, tail = 0;
	if (!queue)
		return false;
	for (unsigned s = 0; s < ALPHA; s++) {
		uint32_t c = pf->nodes[0].next[s];
		if (c) {
			pf->nodes[c].fail = 0;
			queue[tail++] = c;
		}
	}
	while (head < tail) {
		uint32_t u = queue[head++];
		struct node *nu = &pf->nodes[u];
		uint32_t f = nu->fail;
		nu->dict = pf->nodes[f].n_out ? f : pf->nodes[f].dict;
		for (unsigned s = 0; s < ALPHA; s++) {
			uint32_t v = nu->next[s];
			if (v) {
				pf->nodes[v].fail = pf->nodes[f].next[s];
				if (pf->nodes[v].fail == v)
					pf->nodes[v].fail = 0;
				queue[tail++] = v;
			} else {
				nu->next[s] = pf->nodes[f].next[s];
			}
		}
	}
	free(queue);
	return true;
}

static bool groups_seen(const struct hb_prefilter *pf, const uint64_t *groups,
		uint32_t slot)
{
	for (uint16_t i = 0; i < pf->slots[slot].n; i++) {
		uint32_t g = pf->slots[slot].group[i];
		if (!((groups[g / 64] >> (g % 64)) & 1))
			return false;
	}
	return true;
}

void hb_prefilter_scan(const struct hb_prefilter *pf, const char *text,
		size_t len, uint64_t *bits)
{
	const struct node *nodes = pf->nodes;
	uint64_t groups[HB_PREFILTER_MAX_GROUPS / 64];
	uint32_t hits[512];
	size_t n_hits = 0;
	bool overflow = false;
	uint32_t state = 0;
	memset(groups, 0, (pf->n_groups + 63) / 64 * sizeof(*groups));
	for (size_t i = 0; i < len; i++) {
		state = nodes[state].next[symbol_of[(unsigned char)text[i]]];
		for (uint32_t n = nodes[state].n_out ? state : nodes[state].dict; n;
				n = nodes[n].dict) {
			for (uint32_t k = 0; k < nodes[n].n_out; k++) {
				uint32_t g = nodes[n].out[k];
				uint64_t bit = 1ull << (g % 64);
				if (groups[g / 64] & bit)
					continue;
				groups[g / 64] |= bit;
				if (n_hits < sizeof(hits) / sizeof(hits[0]))
					hits[n_hits++] = g;
				else
					overflow = true;
			}
		}
	}
	/* only slots owning a group that was seen can pass */
	memcpy(bits, pf->always, (pf->n_slots + 63) / 64 * sizeof(*bits));
	if (overflow) {
		for (uint32_t s = 0; s < pf->n_slots; s++) {
			if (pf->slots[s].n && groups_seen(pf, groups, s))
				bits[s / 64] |= 1ull << (s % 64);
		}
		return;
	}
	for (size_t h = 0; h < n_hits; h++) {
		uint32_t s = pf->group_slot[hits[h]];
		if (groups_seen(pf, groups, s))
			bits[s / 64] |= 1ull << (s % 64);
	}
}
