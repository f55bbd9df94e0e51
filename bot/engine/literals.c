/*
 * Required-literal extraction from a PCRE2 pattern, for the prefilter.
 * See prefilter.h for why; this file only has to be right in one
 * direction: whatever it returns must occur in every match.
 */
#include <stdlib.h>
#include <string.h>

#include "prefilter.h"
#include "prefilter_internal.h"

/*
 * A requirement is a conjunction of literal sets: every set must have one
 * of its strings in the text. "\bcramp\w*\b.{0,30}\bwon'?t stop" gives
 * {cramp} AND {wont stop, won't stop}: both must occur, which is far more
 * selective than either alone.
 */
struct parser {
	const char *p, *end;
	bool fail;    /* a construct we do not model: no prefilter at all */
	int depth;
	struct lit_chunk *chunks; /* the pool's memory */
	char *free_slot;          /* the pool's free list */
};

/*
 * The string pool: fixed-size slots (a length byte, MAX_LIT bytes, a NUL),
 * handed out from chunks and taken back on a free list, all freed with
 * the requirement. Every literal character of a pattern makes a string,
 * so a malloc() and free() for each dominated the load time.
 */
#define SLOT_SIZE ((MAX_LIT + 2 + 7) / 8 * 8)
#define CHUNK_SLOTS 128

struct lit_chunk {
	struct lit_chunk *next;
	_Alignas(8) char slots[CHUNK_SLOTS][SLOT_SIZE];
};

static size_t str_len(const char *s)
{
	return (unsigned char)s[-1];
}

static char *str_new(struct parser *ps, const char *s, size_t len)
{
	if (len > MAX_LIT)
		return NULL; /* cannot happen: products stop at MAX_LIT */
	if (!ps->free_slot) {
		struct lit_chunk *c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->next = ps->chunks;
		ps->chunks = c;
		for (size_t i = 0; i < CHUNK_SLOTS; i++) {
			memcpy(c->slots[i], &ps->free_slot, sizeof(char *));
			ps->free_slot = c->slots[i];
		}
	}
	char *slot = ps->free_slot;
	memcpy(&ps->free_slot, slot, sizeof(char *));
	slot[0] = (char)len;
	memcpy(slot + 1, s, len);
	slot[1 + len] = '\0';
	return slot + 1;
}

static void str_free(struct parser *ps, char *s)
{
	char *slot = s - 1;
	memcpy(slot, &ps->free_slot, sizeof(char *));
	ps->free_slot = slot;
}

static void chunks_free(struct lit_chunk *c)
{
	while (c) {
		struct lit_chunk *next = c->next;
		free(c);
		c = next;
	}
}

/* Empties the set, keeping its array for reuse. */
static void set_clear(struct parser *ps, struct litset *set)
{
	for (size_t i = 0; i < set->n; i++)
		str_free(ps, set->s[i]);
	set->n = 0;
}

static void set_free(struct parser *ps, struct litset *set)
{
	set_clear(ps, set);
	free(set->s);
	*set = (struct litset){0};
}

static void req_clear(struct parser *ps, struct req *r)
{
	for (size_t i = 0; i < r->n; i++)
		set_free(ps, &r->sets[i]);
	r->n = 0;
}

void hb_req_free(struct req *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->sets[i].s);
	r->n = 0;
	chunks_free(r->chunks);
	r->chunks = NULL;
}

/* Room for one more string; false when out of memory. */
static bool set_reserve(struct litset *set)
{
	if (set->n < set->cap)
		return true;
	size_t cap = set->cap ? 2 * set->cap : 4;
	char **l = realloc(set->s, cap * sizeof(*l));
	if (!l)
		return false;
	set->s = l;
	set->cap = cap;
	return true;
}

static bool set_has(const struct litset *set, const char *s, size_t len)
{
	for (size_t i = 0; i < set->n; i++) {
		const char *t = set->s[i];
		if (str_len(t) == len && memcmp(t, s, len) == 0)
			return true;
	}
	return false;
}

/* Appends a string the set is known not to have. */
static bool set_push(struct parser *ps, struct litset *set, const char *s,
		size_t len)
{
	if (!set_reserve(set) || !(set->s[set->n] = str_new(ps, s, len)))
		return false;
	set->n++;
	return true;
}

static bool set_add(struct parser *ps, struct litset *set, const char *s,
		size_t len)
{
	return set_has(set, s, len) || set_push(ps, set, s, len);
}

static size_t set_min_len(const struct litset *set)
{
	size_t min = (size_t)-1;
	for (size_t i = 0; i < set->n; i++) {
		size_t l = str_len(set->s[i]);
		if (l < min)
			min = l;
	}
	return set->n ? min : 0;
}

/* Adds set to the conjunction, keeping the MAX_AND most selective (by
 * shortest string); set is consumed. Sets that select nothing useful
 * (a string under two bytes) are dropped: dropping a conjunct is always
 * safe, it only lets more through. */
static void req_and(struct parser *ps, struct req *r, struct litset *set)
{
	size_t m = set_min_len(set);
	if (set->n == 0 || m < 2) {
		set_free(ps, set);
		return;
	}
	if (r->n < MAX_AND) {
		r->sets[r->n++] = *set;
		*set = (struct litset){0};
		return;
	}
	size_t worst = 0;
	for (size_t i = 1; i < r->n; i++) {
		if (set_min_len(&r->sets[i]) < set_min_len(&r->sets[worst]))
			worst = i;
	}
	if (set_min_len(&r->sets[worst]) < m) {
		set_free(ps, &r->sets[worst]);
		r->sets[worst] = *set;
		*set = (struct litset){0};
	} else {
		set_free(ps, set);
	}
}

static void req_and_all(struct parser *ps, struct req *r, struct req *other)
{
	for (size_t i = 0; i < other->n; i++)
		req_and(ps, r, &other->sets[i]);
	other->n = 0;
}

/* run = run x tail (every string of run followed by every string of
 * tail); false when that would grow past the limits. */
static bool product(struct parser *ps, struct litset *run,
		const struct litset *tail, bool keep, bool *oom)
{
	struct litset out = {0};
	if (run->n * (tail->n + (keep ? 1 : 0)) > MAX_RUN)
		return false;
	if (tail->n == 1 && !keep) {
		/* one string after each (a literal character, the common
		 * case): distinct strings stay distinct with the same tail,
		 * so it is appended in place */
		size_t b = str_len(tail->s[0]);
		for (size_t i = 0; i < run->n; i++) {
			if (str_len(run->s[i]) + b > MAX_LIT)
				return false;
		}
		for (size_t i = 0; i < run->n; i++) {
			char *s = run->s[i];
			size_t a = str_len(s);
			memcpy(s + a, tail->s[0], b);
			s[a + b] = '\0';
			s[-1] = (char)(a + b);
		}
		return true;
	}
	for (size_t i = 0; i < run->n; i++) {
		size_t a = str_len(run->s[i]);
		if (keep && !set_add(ps, &out, run->s[i], a))
			*oom = true;
		for (size_t j = 0; j < tail->n; j++) {
			size_t b = str_len(tail->s[j]);
			char buf[2 * MAX_LIT];
			if (a + b > MAX_LIT) {
				set_free(ps, &out);
				return false;
			}
			memcpy(buf, run->s[i], a);
			memcpy(buf + a, tail->s[j], b);
			if (!set_add(ps, &out, buf, a + b))
				*oom = true;
		}
	}
	set_free(ps, run);
	*run = out;
	return true;
}

/* The run as a conjunct; run is consumed. */
static void commit_last(struct parser *ps, struct req *r, struct litset *run)
{
	/* an empty string in the run means the run may be absent */
	bool empty = false;
	for (size_t i = 0; i < run->n; i++)
		empty = empty || run->s[i][0] == '\0';
	if (empty)
		set_free(ps, run);
	else
		req_and(ps, r, run);
}

/* The run as a conjunct, and a new empty run. */
static void commit(struct parser *ps, struct req *r, struct litset *run,
		bool *oom)
{
	commit_last(ps, r, run);
	if (!set_add(ps, run, "", 0))
		*oom = true;
}

static int peek(const struct parser *ps)
{
	return ps->p < ps->end ? (unsigned char)*ps->p : -1;
}

/* Minimum repeat count of the quantifier at p, consuming it; 1 if none.
 * *max: the maximum, -1 when unbounded. */
static int quantifier(struct parser *ps, int *max)
{
	int min = 1;
	*max = 1;
	int c = peek(ps);
	if (c == '?') {
		min = 0;
		ps->p++;
	} else if (c == '*' || c == '+') {
		min = c == '+';
		*max = -1;
		ps->p++;
	} else if (c == '{') {
		const char *q = ps->p + 1;
		int n = 0, m, digits = 0;
		while (q < ps->end && *q >= '0' && *q <= '9' && digits < 6) {
			n = n * 10 + (*q++ - '0');
			digits++;
		}
		if (!digits) {
			/* "{" that is not a quantifier: a literal to PCRE2, too
			 * unusual to model */
			ps->fail = true;
			return 1;
		}
		m = n;
		if (q < ps->end && *q == ',') {
			q++;
			if (q < ps->end && *q >= '0' && *q <= '9') {
				m = 0;
				while (q < ps->end && *q >= '0' && *q <= '9' && m < 100000)
					m = m * 10 + (*q++ - '0');
			} else {
				m = -1;
			}
		}
		if (q >= ps->end || *q != '}') {
			ps->fail = true;
			return 1;
		}
		ps->p = q + 1;
		min = n;
		*max = m;
	} else {
		return 1;
	}
	/* lazy or possessive suffix */
	if (peek(ps) == '?' || peek(ps) == '+')
		ps->p++;
	return min;
}

static char lower(int c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* A class of a few plain ASCII characters ("[12]", "[a-c]") is a small
 * exact set; anything else (negation, escapes, POSIX) is unknown. */
static bool parse_class(struct parser *ps, struct litset *set, bool *oom)
{
	const char *q = ps->p + 1;
	bool simple = true;
	if (q < ps->end && (*q == '^' || *q == ']'))
		simple = false;
	const char *close = q;
	/* find the end the way PCRE2 does */
	if (close < ps->end && *close == '^')
		close++;
	if (close < ps->end && *close == ']')
		close++;
	while (close < ps->end && *close != ']') {
		if (*close == '\\' && close + 1 < ps->end) {
			simple = false;
			close += 2;
		} else if (*close == '[' && close + 1 < ps->end && close[1] == ':') {
			const char *e = close + 2;
			while (e + 1 < ps->end && !(e[0] == ':' && e[1] == ']'))
				e++;
			if (e + 1 >= ps->end) {
				ps->fail = true;
				return false;
			}
			simple = false;
			close = e + 2;
		} else {
			close++;
		}
	}
	if (close >= ps->end) {
		ps->fail = true;
		return false;
	}
	ps->p = close + 1;
	if (!simple)
		return false;
	for (const char *c = q; c < close; c++) {
		unsigned char from = (unsigned char)*c, to = from;
		if (c + 2 < close && c[1] == '-') {
			to = (unsigned char)c[2];
			c += 2;
		}
		if (from >= 0x80 || to >= 0x80 || to < from || to - from > 26) {
			set_free(ps, set);
			return false;
		}
		for (unsigned ch = from; ch <= to; ch++) {
			char l = lower((int)ch);
			if (!set_add(ps, set, &l, 1))
				*oom = true;
		}
	}
	if (set->n > 26) {
		set_free(ps, set);
		return false;
	}
	return true;
}

enum atom { ATOM_EXACT, ATOM_NEUTRAL, ATOM_UNKNOWN, ATOM_GROUP };

static struct req parse_alt(struct parser *ps, struct litset *exact, bool *is_exact);

/*
 * One sequence item. ATOM_EXACT: it matches exactly one string of *set
 * (a literal character, a small class, a purely literal group).
 * ATOM_GROUP: it needs *group (a conjunction) somewhere inside it.
 */
static enum atom parse_atom(struct parser *ps, struct litset *set,
		struct req *group, bool *oom)
{
	int c = peek(ps);
	char l;
	if (c == '[')
		return parse_class(ps, set, oom) ? ATOM_EXACT : ATOM_UNKNOWN;
	ps->p++;
	if (c == '\\') {
		int e = peek(ps);
		if (e < 0) {
			ps->fail = true;
			return ATOM_UNKNOWN;
		}
		ps->p++;
		if (strchr("bBAzZG", e))
			return ATOM_NEUTRAL;
		if (strchr("dDwWsShHvVNRXnrtfae", e))
			return ATOM_UNKNOWN;
		if (e == 'p' || e == 'P' || e == 'x') {
			if (peek(ps) == '{') {
				const char *close = memchr(ps->p, '}', (size_t)(ps->end - ps->p));
				if (!close) {
					ps->fail = true;
					return ATOM_UNKNOWN;
				}
				ps->p = close + 1;
			} else {
				ps->p += e == 'x' ? 2 : 1;
				if (ps->p > ps->end)
					ps->fail = true;
			}
			return ATOM_UNKNOWN;
		}
		if ((e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') ||
				(e >= 'A' && e <= 'Z') || e >= 0x80) {
			ps->fail = true; /* back-references and rarer escapes */
			return ATOM_UNKNOWN;
		}
		l = (char)e; /* escaped punctuation is itself */
		if (!set_add(ps, set, &l, 1))
			*oom = true;
		return ATOM_EXACT;
	}
	if (c == '.')
		return ATOM_UNKNOWN;
	if (c == '^' || c == '$')
		return ATOM_NEUTRAL;
	if (c == '(') {
		bool lookaround = false;
		if (peek(ps) == '*') {
			ps->fail = true; /* (*VERB) */
			return ATOM_UNKNOWN;
		}
		if (peek(ps) == '?') {
			ps->p++;
			int k = peek(ps);
			if (k == ':' || k == '>') {
				ps->p++;
			} else if (k == '=' || k == '!') {
				ps->p++;
				lookaround = true;
			} else if (k == '<' && ps->p + 1 < ps->end &&
					(ps->p[1] == '=' || ps->p[1] == '!')) {
				ps->p += 2;
				lookaround = true;
			} else if (k == '<' || k == '\'' || (k == 'P' && ps->p + 1 < ps->end &&
					ps->p[1] == '<')) {
				char close = k == '\'' ? '\'' : '>';
				const char *q = memchr(ps->p + 1, close, (size_t)(ps->end - ps->p - 1));
				if (!q) {
					ps->fail = true;
					return ATOM_UNKNOWN;
				}
				ps->p = q + 1;
			} else if (k == '#') {
				const char *q = memchr(ps->p, ')', (size_t)(ps->end - ps->p));
				if (!q) {
					ps->fail = true;
					return ATOM_UNKNOWN;
				}
				ps->p = q + 1;
				return ATOM_NEUTRAL;
			} else {
				/* inline options could turn caseless off, (?| resets
				 * groups: not modelled */
				ps->fail = true;
				return ATOM_UNKNOWN;
			}
		}
		if (++ps->depth > 64) {
			ps->fail = true;
			return ATOM_UNKNOWN;
		}
		bool exact = false;
		struct req inner = parse_alt(ps, set, &exact);
		ps->depth--;
		if (peek(ps) != ')') {
			ps->fail = true;
			req_clear(ps, &inner);
			set_free(ps, set);
			return ATOM_UNKNOWN;
		}
		ps->p++;
		if (lookaround) {
			req_clear(ps, &inner);
			set_free(ps, set);
			return ATOM_UNKNOWN; /* zero-width: requires nothing safely */
		}
		if (exact) {
			req_clear(ps, &inner);
			return ATOM_EXACT;
		}
		set_free(ps, set);
		*group = inner;
		return ATOM_GROUP;
	}
	if (c == '*' || c == '+' || c == '?' || c == '{' || c == ')' || c == '|') {
		ps->fail = true;
		return ATOM_UNKNOWN;
	}
	if (c >= 0x80)
		return ATOM_UNKNOWN; /* caseless non-ASCII is PCRE2's business */
	l = lower(c);
	if (!set_add(ps, set, &l, 1))
		*oom = true;
	return ATOM_EXACT;
}

/* A sequence: the conjunction of what its required items need. When the
 * whole sequence is literal, *exact receives every string it matches. */
static struct req parse_seq(struct parser *ps, struct litset *exact,
		bool *is_exact)
{
	struct req r = {0};
	struct litset run = {0};
	bool oom = false, whole = true;
	/* one set and group for every item, emptied after each: most items
	 * are one character, and a fresh array each was a malloc() each */
	struct litset set = {0};
	struct req group = {0};
	if (!set_add(ps, &run, "", 0))
		ps->fail = true;
	while (!ps->fail && ps->p < ps->end && *ps->p != '|' && *ps->p != ')') {
		enum atom a = parse_atom(ps, &set, &group, &oom);
		int max = 1;
		int min = ps->fail ? 1 : quantifier(ps, &max);
		if (ps->fail) {
			set_clear(ps, &set);
			req_clear(ps, &group);
			break;
		}
		switch (a) {
		case ATOM_EXACT:
			if (min > 1 || max == 0) {
				/* "x{2,}" and friends: rare, modelled as unknown */
				commit(ps, &r, &run, &oom);
				whole = false;
			} else if (!product(ps, &run, &set, min == 0, &oom)) {
				/* too many variants: end the run here; a required
				 * item still stands as a conjunct of its own */
				commit(ps, &r, &run, &oom);
				whole = false;
				if (min == 1) {
					struct litset copy = {0};
					for (size_t i = 0; i < set.n; i++) {
						if (!set_push(ps, &copy, set.s[i],
								str_len(set.s[i])))
							oom = true;
					}
					req_and(ps, &r, &copy);
				}
			} else if (max != 1) {
				/* repeats: what follows is not next to the run */
				commit(ps, &r, &run, &oom);
				whole = false;
			}
			set_clear(ps, &set);
			break;
		case ATOM_NEUTRAL:
			break;
		case ATOM_UNKNOWN:
			commit(ps, &r, &run, &oom);
			whole = false;
			break;
		case ATOM_GROUP:
			commit(ps, &r, &run, &oom);
			whole = false;
			if (min >= 1)
				req_and_all(ps, &r, &group);
			req_clear(ps, &group);
			break;
		}
	}
	set_free(ps, &set);
	if (oom)
		ps->fail = true;
	*is_exact = whole && !ps->fail;
	if (*is_exact) {
		set_free(ps, exact);
		*exact = run;
		/* the run also stands as this sequence's requirement */
		struct litset copy = {0};
		for (size_t i = 0; i < run.n; i++) {
			if (!set_push(ps, &copy, run.s[i], str_len(run.s[i])))
				oom = true;
		}
		commit_last(ps, &r, &copy);
		if (oom)
			ps->fail = true;
	} else {
		commit_last(ps, &r, &run);
	}
	return r;
}

/* Ranks conjuncts: the longer shortest string first, then by first
 * string, so that the same set ranks the same in every branch. */
static bool more_selective(const struct litset *a, const struct litset *b)
{
	size_t la = set_min_len(a), lb = set_min_len(b);
	if (la != lb)
		return la > lb;
	return a->n && b->n && strcmp(a->s[0], b->s[0]) < 0;
}

/* Alternatives: exact when every branch is; otherwise up to MAX_AND
 * unions of one set from each branch (a disjunction of conjunctions is
 * more than this model keeps, and such a union is always safe). */
static struct req parse_alt(struct parser *ps, struct litset *exact,
		bool *is_exact)
{
	struct req out = {0};
	struct litset any[MAX_AND] = {{0}}, all_exact = {0};
	size_t n_unions = 0;
	bool valid = true, exact_all = true;
	size_t branches = 0;
	struct req first = {0};
	for (;;) {
		struct litset ex = {0};
		bool is_ex = false;
		struct req b = parse_seq(ps, &ex, &is_ex);
		branches++;
		if (is_ex && exact_all) {
			for (size_t i = 0; i < ex.n; i++) {
				if (!set_add(ps, &all_exact, ex.s[i], str_len(ex.s[i])))
					ps->fail = true;
			}
			/* past MAX_RUN it can no longer be exact: the union
			 * is not worth building */
			if (all_exact.n > MAX_RUN)
				exact_all = false;
		} else {
			exact_all = false;
		}
		set_free(ps, &ex);
		if (!b.n)
			valid = false;
		/* union k takes the branch's k-th most selective conjunct (its
		 * last when it has fewer): each union holds one set every
		 * branch requires, so each is a requirement of the whole.
		 * "A.*B.*C|B.*C.*A" needs A, B and C, not only one of them. */
		const struct litset *order[MAX_AND];
		for (size_t k = 0; valid && k < b.n; k++) {
			size_t at = k;
			order[k] = &b.sets[k];
			while (at > 0 && more_selective(order[at], order[at - 1])) {
				const struct litset *t = order[at];
				order[at] = order[at - 1];
				order[at - 1] = t;
				at--;
			}
		}
		if (valid && b.n > n_unions)
			n_unions = b.n;
		for (size_t k = 0; valid && k < MAX_AND; k++) {
			const struct litset *set = order[k < b.n ? k : b.n - 1];
			for (size_t i = 0; i < set->n; i++) {
				if (!set_add(ps, &any[k], set->s[i], str_len(set->s[i])))
					ps->fail = true;
			}
		}
		if (branches == 1)
			first = b;
		else
			req_clear(ps, &b);
		if (peek(ps) != '|')
			break;
		ps->p++;
	}
	*is_exact = exact_all && !ps->fail && all_exact.n <= MAX_RUN;
	if (*is_exact) {
		set_free(ps, exact);
		*exact = all_exact;
	} else
		set_free(ps, &all_exact);
	if (branches == 1) {
		for (size_t k = 0; k < MAX_AND; k++)
			set_free(ps, &any[k]);
		return first;
	}
	req_clear(ps, &first);
	for (size_t k = 0; k < MAX_AND; k++) {
		/* past the most conjuncts a branch has, a union repeats one */
		if (valid && k < n_unions)
			req_and(ps, &out, &any[k]);
		else
			set_free(ps, &any[k]);
	}
	return out;
}

/* The requirement of a whole pattern; false when it has none we trust. */
bool hb_req_extract(const char *source, struct req *r)
{
	struct parser ps = { .p = source, .end = source + strlen(source) };
	struct litset ex = {0};
	bool is_ex;
	*r = parse_alt(&ps, &ex, &is_ex);
	set_free(&ps, &ex);
	if (ps.fail || ps.p != ps.end || r->n == 0) {
		req_clear(&ps, r);
		chunks_free(ps.chunks);
		return false;
	}
	r->chunks = ps.chunks;
	return true;
}

bool hb_prefilter_literals(const char *source, char ***lits, size_t *n)
{
	struct req r;
	*lits = NULL;
	*n = 0;
	if (!hb_req_extract(source, &r))
		return false;
	/* for display: every conjunct, each as "a|b|c" */
	char **out = calloc(r.n, sizeof(*out));
	for (size_t i = 0; out && i < r.n; i++) {
		size_t len = 0;
		for (size_t j = 0; j < r.sets[i].n; j++)
			len += strlen(r.sets[i].s[j]) + 1;
		out[i] = calloc(1, len + 1);
		for (size_t j = 0; out[i] && j < r.sets[i].n; j++) {
			if (j)
				strcat(out[i], "|");
			strcat(out[i], r.sets[i].s[j]);
		}
	}
	*lits = out;
	*n = out ? r.n : 0;
	hb_req_free(&r);
	return out != NULL;
}

void hb_prefilter_free_literals(char **lits, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lits[i]);
	free(lits);
}

