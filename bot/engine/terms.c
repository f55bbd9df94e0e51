/*
 * Term classes for patterns: {NAME} expands to (?:alt1|alt2|…).
 *
 * The expansion is textual and happens before PCRE2 and the literal
 * prefilter see a pattern, so both work on the expanded text exactly as
 * if the author had pasted the alternation. The scanner below knows just
 * enough PCRE2 syntax to leave every other brace alone.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "library.h"
#include "terms.h"
#include "util.h"

/* deeper nesting than this is surely a mistake, and bounds the recursion */
#define MAX_DEPTH 16

struct hb_terms *hb_terms_create(void)
{
	return calloc(1, sizeof(struct hb_terms));
}

void hb_terms_destroy(struct hb_terms *terms)
{
	if (!terms)
		return;
	for (size_t i = 0; i < terms->n; i++) {
		struct hb_term *t = &terms->items[i];
		free(t->name);
		free(t->file);
		for (size_t a = 0; a < t->n_alts; a++)
			free(t->alts[a]);
		free(t->alts);
		free(t->expanded);
		free(t->refs);
	}
	free(terms->items);
	free(terms);
}

static bool name_start(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '_';
}

static bool valid_name(const char *s)
{
	if (!name_start(*s))
		return false;
	while (*++s) {
		if (!name_char(*s))
			return false;
	}
	return true;
}

static long find(const struct hb_terms *terms, const char *name, size_t len)
{
	for (size_t i = 0; terms && i < terms->n; i++) {
		if (strlen(terms->items[i].name) == len &&
				memcmp(terms->items[i].name, name, len) == 0)
			return (long)i;
	}
	return -1;
}

bool hb_terms_add(struct hb_terms *terms, const char *file,
		const cJSON *obj, struct hb_error *err)
{
	const cJSON *it;
	if (!cJSON_IsObject(obj)) {
		hb_error_set(err, file, "terms", 0, 0,
			"\"terms\" must be an object of NAME: [alternatives]");
		return false;
	}
	cJSON_ArrayForEach(it, obj) {
		const char *name = it->string;
		char entry[128];
		snprintf(entry, sizeof(entry), "terms.%s", name);
		if (!valid_name(name)) {
			hb_error_set(err, file, entry, 0, 0,
				"a term name is A-Z, then A-Z, 0-9 or _ (like LEG or NO_PUEDO)");
			return false;
		}
		long dup = find(terms, name, strlen(name));
		if (dup >= 0) {
			hb_error_set(err, file, entry, 0, 0,
				"term {%s} is already defined in %s", name,
				terms->items[dup].file);
			return false;
		}
		if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0) {
			hb_error_set(err, file, entry, 0, 0,
				"a term is a non-empty list of pattern strings");
			return false;
		}
		struct hb_term *items = hb_grow(terms->items, terms->n, sizeof(*items));
		if (!items)
			goto oom;
		terms->items = items;
		struct hb_term *t = &items[terms->n];
		*t = (struct hb_term){0};
		t->alts = calloc((size_t)cJSON_GetArraySize(it), sizeof(char *));
		t->name = strdup(name);
		t->file = strdup(file);
		terms->n++; /* counted now so destroy() frees what is set */
		if (!t->alts || !t->name || !t->file)
			goto oom;
		const cJSON *alt;
		cJSON_ArrayForEach(alt, it) {
			if (!cJSON_IsString(alt) || !alt->valuestring[0]) {
				hb_error_set(err, file, entry, 0, 0,
					"alternative %zu must be a non-empty string",
					t->n_alts + 1);
				return false;
			}
			if (!(t->alts[t->n_alts] = strdup(alt->valuestring)))
				goto oom;
			t->n_alts++;
		}
	}
	return true;
oom:
	hb_error_set(err, file, "terms", 0, 0, "out of memory");
	return false;
}

/* The chain of terms being resolved, to name a cycle. */
struct stack {
	size_t items[MAX_DEPTH];
	size_t n;
};

static bool resolve(struct hb_terms *terms, size_t index, struct stack *st,
		struct hb_error *err);

/* Appends the expansion of src; from is the term (index) src belongs to,
 * or -1 for a pattern. */
static bool expand(struct hb_terms *terms, long from, const char *file,
		const char *entry, const char *src, struct hb_buf *out,
		struct stack *st, struct hb_error *err)
{
	bool in_class = false, quoted = false;
	const char *p = src;
	while (*p) {
		const char *start = p;
		if (quoted) {
			/* \Q…\E: everything literal up to \E */
			if (p[0] == '\\' && p[1] == 'E')
				quoted = false, p += 2;
			else
				p++;
		} else if (p[0] == '\\') {
			if (p[1] == 'Q') {
				quoted = true;
				p += 2;
			} else if (p[1] && strchr("xopPNgk", p[1]) && p[2] == '{') {
				/* \x{41}, \p{Lu}, \N{U+41}, \g{1}, \k{name}, \o{17}
				 * (but \b{LEG} is a word boundary and a term) */
				const char *close = strchr(p + 3, '}');
				p = close ? close + 1 : p + strlen(p);
			} else {
				p += p[1] ? 2 : 1;
			}
		} else if (in_class) {
			if (p[0] == '[' && p[1] == ':') {
				/* [:alpha:] inside a class */
				const char *close = strstr(p + 2, ":]");
				p = close ? close + 2 : p + 1;
			} else {
				in_class = p[0] != ']';
				p++;
			}
		} else if (p[0] == '[') {
			in_class = true;
			p++;
			if (*p == '^')
				p++;
			if (*p == ']') /* "[]…]": a leading ] is literal */
				p++;
		} else if (p[0] == '{' && name_start(p[1])) {
			const char *name = p + 1, *q = name;
			while (name_char(*q))
				q++;
			if (*q != '}') {
				p++;
				hb_buf_append(out, start, (size_t)(p - start));
				continue;
			}
			size_t len = (size_t)(q - name);
			long t = find(terms, name, len);
			if (t < 0) {
				hb_error_set(err, file, entry, 0, (int)(p - src) + 1,
					"unknown term {%.*s} at offset %zu", (int)len, name,
					(size_t)(p - src));
				return false;
			}
			if (from < 0) {
				terms->items[t].direct = true;
			} else {
				struct hb_term *f = &terms->items[from];
				size_t *refs = hb_grow(f->refs, f->n_refs, sizeof(*refs));
				if (!refs) {
					hb_error_set(err, file, entry, 0, 0, "out of memory");
					return false;
				}
				f->refs = refs;
				refs[f->n_refs++] = (size_t)t;
			}
			if (!resolve(terms, (size_t)t, st, err))
				return false;
			hb_buf_puts(out, terms->items[t].expanded);
			p = q + 1;
			continue;
		} else {
			p++;
		}
		hb_buf_append(out, start, (size_t)(p - start));
	}
	if (out->oom) {
		hb_error_set(err, file, entry, 0, 0, "out of memory");
		return false;
	}
	return true;
}

static bool resolve(struct hb_terms *terms, size_t index, struct stack *st,
		struct hb_error *err)
{
	struct hb_term *t = &terms->items[index];
	char entry[128];
	if (t->state == 2)
		return true;
	snprintf(entry, sizeof(entry), "terms.%s", t->name);
	if (t->state == 1 || st->n == MAX_DEPTH) {
		/* name the loop: {A} -> {B} -> {A} */
		struct hb_buf chain;
		size_t from = 0;
		hb_buf_init(&chain);
		while (from < st->n && st->items[from] != index)
			from++;
		for (size_t i = from; i < st->n; i++)
			hb_buf_printf(&chain, "{%s} -> ", terms->items[st->items[i]].name);
		hb_buf_printf(&chain, "{%s}", t->name);
		hb_error_set(err, t->file, entry, 0, 0, t->state == 1 ?
			"terms refer to each other in a cycle: %s" :
			"terms nested deeper than 16: %s", chain.data ? chain.data : "");
		hb_buf_finish(&chain);
		return false;
	}
	t->state = 1;
	st->items[st->n++] = index;
	struct hb_buf x;
	hb_buf_init(&x);
	hb_buf_puts(&x, "(?:");
	for (size_t a = 0; a < t->n_alts; a++) {
		char alt_entry[160];
		if (a)
			hb_buf_putc(&x, '|');
		snprintf(alt_entry, sizeof(alt_entry), "%s[%zu]", entry, a + 1);
		if (!expand(terms, (long)index, t->file, alt_entry, t->alts[a],
				&x, st, err)) {
			hb_buf_finish(&x);
			return false;
		}
	}
	hb_buf_putc(&x, ')');
	if (x.oom) {
		hb_buf_finish(&x);
		hb_error_set(err, t->file, entry, 0, 0, "out of memory");
		return false;
	}
	t->expanded = hb_buf_steal(&x);
	t->state = 2;
	st->n--;
	return true;
}

bool hb_terms_expand(struct hb_terms *terms, const char *file,
		const char *entry, const char *src, struct hb_buf *out,
		struct hb_error *err)
{
	struct stack st = {0};
	return expand(terms, -1, file, entry, src, out, &st, err);
}

static void mark_used(struct hb_terms *terms, size_t index)
{
	struct hb_term *t = &terms->items[index];
	if (t->used)
		return;
	t->used = true;
	for (size_t i = 0; i < t->n_refs; i++)
		mark_used(terms, t->refs[i]);
}

bool hb_terms_finish_load(struct hb_terms *terms, struct hb_error *err)
{
	for (size_t i = 0; terms && i < terms->n; i++) {
		struct stack st = {0};
		if (!resolve(terms, i, &st, err))
			return false;
	}
	for (size_t i = 0; terms && i < terms->n; i++) {
		if (terms->items[i].direct)
			mark_used(terms, i);
	}
	return true;
}
