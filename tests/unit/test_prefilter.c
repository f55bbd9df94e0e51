/*
 * The literal prefilter must never hold back a pattern that matches: a
 * red flag it skipped would be a missed emergency. Checked on hand-picked
 * patterns and differentially against PCRE2 on many generated messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "library.h"
#include "prefilter.h"
#include "text.h"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "b|a" -> "a|b", so expectations do not depend on set order */
static void sort_alternatives(char *s)
{
	char *parts[64];
	size_t n = 0;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *p = strtok(buf, "|"); p && n < 64; p = strtok(NULL, "|"))
		parts[n++] = p;
	qsort(parts, n, sizeof(*parts), cmp);
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, "|");
		strcat(s, parts[i]);
	}
}

static void literals(const char *pattern, const char *want_in)
{
	char **lits;
	size_t n;
	char got[1024] = "", want[1024];
	if (hb_prefilter_literals(pattern, &lits, &n)) {
		for (size_t i = 0; i < n; i++)
			sort_alternatives(lits[i]);
		qsort(lits, n, sizeof(*lits), cmp);
		for (size_t i = 0; i < n; i++) {
			if (i)
				strcat(got, " & ");
			strcat(got, lits[i]);
		}
		hb_prefilter_free_literals(lits, n);
	} else {
		strcpy(got, "(always)");
	}
	/* the expectation, normalised the same way */
	char *conj[8];
	size_t nc = 0;
	char wbuf[1024];
	snprintf(wbuf, sizeof(wbuf), "%s", want_in);
	for (char *p = strtok(wbuf, "&"); p && nc < 8; p = strtok(NULL, "&")) {
		while (*p == ' ')
			p++;
		size_t l = strlen(p);
		while (l && p[l - 1] == ' ')
			p[--l] = '\0';
		conj[nc++] = p;
	}
	char sorted[8][256];
	char *sp[8];
	for (size_t i = 0; i < nc; i++) {
		snprintf(sorted[i], sizeof(sorted[i]), "%s", conj[i]);
		if (strcmp(sorted[i], "(always)") != 0)
			sort_alternatives(sorted[i]);
		sp[i] = sorted[i];
	}
	qsort(sp, nc, sizeof(*sp), cmp);
	want[0] = '\0';
	for (size_t i = 0; i < nc; i++) {
		if (i)
			strcat(want, " & ");
		strcat(want, sp[i]);
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", pattern, got, want);
}

static void test_extraction(void **state)
{
	literals("chest pain", "chest pain");
	literals("\\bche?st\\b", "chst|chest");
	literals("(?:can'?t|cannot) breathe", "can't breathe|cant breathe|cannot breathe");
	literals("\\bcramp\\w*\\b.{0,30}\\bwon'?t stop", "won't stop|wont stop & cramp");
	literals("(?:foo|ba.r)", "foo|ba"); /* union of each branch's best */
	literals("x?yz", "xyz|yz");
	literals("a+bc", "bc");        /* one-byte conjuncts select nothing */
	literals("[12]0 years", "10 years|20 years");
	literals("(?i)abc", "(always)");          /* inline options: not modelled */
	literals("(a)\\1", "(always)");           /* back-references */
	literals("\\w+", "(always)");
	literals("(?!not )chest", "chest");
	literals("ab|c", "(always)");             /* one branch too weak */
	literals("(?:sore|pain)?\\s*legs?", "leg|legs");
	literals("CHEST", "chest");               /* patterns are caseless */
	literals("caf\xc3\xa9", "caf");
	/* the same lists in another order: each branch needs all three, so
	 * all three are required (a message with two runs nothing) */
	literals("(?:tight|swollen).{0,60}(?:leg|calf).{0,60}(?:fall|crush)|"
		"(?:leg|calf).{0,60}(?:fall|crush).{0,60}(?:tight|swollen)",
		"calf|leg & crush|fall & swollen|tight");
	/* branches with different lists: one union per rank */
	literals("apple.*pear|plum.*fig", "apple|plum & fig|pear");
}

/* A pseudo-random generator with a fixed seed: failures reproduce. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

struct pool {
	char **w;
	size_t n;
};

static void pool_add(struct pool *p, const char *s, size_t len)
{
	p->w = realloc(p->w, (p->n + 1) * sizeof(*p->w));
	p->w[p->n++] = strndup(s, len);
}

static void test_differential(void **state)
{
	struct hb_error err;
	struct hb_engine_options o = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	struct hb_engine *e = hb_engine_create(&o, &err);
	assert_non_null(e);

	/* every pattern of the shipped library */
	struct hb_pattern *pats[4096];
	size_t np = 0;
	for (size_t i = 0; i < e->n_redflags; i++)
		for (size_t j = 0; j < e->redflags[i].patterns.n; j++)
			pats[np++] = &e->redflags[i].patterns.items[j];
	for (size_t i = 0; i < e->n_intents; i++)
		for (size_t j = 0; j < e->intents[i].patterns.n; j++)
			pats[np++] = &e->intents[i].patterns.items[j];
	for (size_t i = 0; i < e->n_smalltalk; i++)
		for (size_t j = 0; j < e->smalltalk[i].patterns.n; j++)
			pats[np++] = &e->smalltalk[i].patterns.items[j];
	for (size_t i = 0; i < e->n_lexicon; i++)
		for (size_t j = 0; j < e->lexicon[i].patterns.n; j++)
			pats[np++] = &e->lexicon[i].patterns.items[j];

	/* words: the utterance set's words and the patterns' own literals */
	struct pool pool = {0};
	FILE *f = fopen(SOURCE_ROOT "/tests/utterances.tsv", "r");
	char line[4096];
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *t = strchr(line, '\t');
		t = t ? strchr(t + 1, '\t') : NULL;
		if (line[0] == '#' || !t)
			continue;
		for (char *w = strtok(t + 1, " \t\n?.!,"); w; w = strtok(NULL, " \t\n?.!,"))
			pool_add(&pool, w, strlen(w));
	}
	fclose(f);
	for (size_t i = 0; i < np; i++) {
		char **lits;
		size_t n;
		if (!hb_prefilter_literals(pats[i]->source, &lits, &n))
			continue;
		for (size_t k = 0; k < n; k++) {
			char *save = NULL;
			for (char *a = strtok_r(lits[k], "|", &save); a;
					a = strtok_r(NULL, "|", &save))
				pool_add(&pool, a, strlen(a));
		}
		hb_prefilter_free_literals(lits, n);
	}

	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	struct hb_buf msg, norm;
	hb_buf_init(&msg);
	hb_buf_init(&norm);
	uint64_t bits[HB_PREFILTER_WORDS];
	size_t matched = 0;
	/* without JIT (the valgrind setup) matching is ~100x slower */
	int rounds = getenv("HEALTHBOT_NO_JIT") ? 1500 : 40000;
	for (int round = 0; round < rounds; round++) {
		hb_buf_reset(&msg);
		int words = 1 + (int)(next() % 12);
		for (int w = 0; w < words; w++) {
			if (w)
				hb_buf_puts(&msg, next() % 8 ? " " : next() % 2 ? "" : ", ");
			hb_buf_puts(&msg, pool.w[next() % pool.n]);
		}
		hb_text_normalize(msg.data, msg.len, &norm);
		hb_prefilter_scan(e->prefilter, norm.data, norm.len, bits);
		for (size_t i = 0; i < np; i++) {
			/* the engine's code (JIT-compiled on first use), with
			 * no match limit: nothing may end a match early here */
			if (pcre2_match(hb_pattern_code(e, pats[i]),
					(PCRE2_SPTR)norm.data, norm.len, 0, 0, md, NULL) < 0)
				continue;
			matched++;
			if (!hb_prefilter_test(bits, pats[i]->slot))
				fail_msg("prefilter held back %s on \"%s\"", pats[i]->id,
					norm.data);
		}
	}
	/* the generator must really exercise the patterns */
	assert_true(matched > (size_t)rounds / 4);
	hb_buf_finish(&msg);
	hb_buf_finish(&norm);
	pcre2_match_data_free(md);
	for (size_t i = 0; i < pool.n; i++)
		free(pool.w[i]);
	free(pool.w);
	hb_engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extraction),
		cmocka_unit_test(test_differential),
	};
	return cmocka_run_group_tests_name("prefilter", tests, NULL, NULL);
}
