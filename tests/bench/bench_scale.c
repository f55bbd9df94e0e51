/*
 * Engine benchmark at library scale: load time, per-message cost and
 * memory for the seed library alone or with a directory of generated
 * fixture articles (tests/bench/gen-library) loaded next to it. One
 * library per process, so peak RSS is this library's. A benchmark, not a
 * test: it reports, it does not judge (BENCHMARKS.md has the figures).
 *
 *   bench_scale CONTENT INTENTS UTTERANCES [--extra DIR] [--seconds S]
 *               [--label NAME]
 *
 * Two message sets are timed, on one core, full classify + compose:
 *  - the utterance set (tests/utterances.tsv), the same messages at every
 *    size, so the figures compare directly;
 *  - a mix: the utterance set plus as many questions naming the library's
 *    topics ("what causes <title>?", "<title>", ...), the titles taken in
 *    turn so a large library is asked about all of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "healthbot.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size now, in KiB (0 when /proc is not there). */
static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

struct messages {
	char **text;
	size_t *len;
	size_t n, cap;
};

static void add(struct messages *m, const char *s)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->text = realloc(m->text, m->cap * sizeof(*m->text));
		m->len = realloc(m->len, m->cap * sizeof(*m->len));
		if (!m->text || !m->len) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
	}
	m->text[m->n] = strdup(s);
	m->len[m->n] = strlen(s);
	m->n++;
}

static void free_messages(struct messages *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->text[i]);
	free(m->text);
	free(m->len);
}

static bool read_utterances(const char *path, struct messages *m)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	if (!f)
		return false;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		char *t = strchr(line, '\t');
		t = t ? strchr(t + 1, '\t') : NULL;
		if (line[0] != '#' && t)
			add(m, t + 1);
	}
	free(line);
	fclose(f);
	return m->n > 0;
}

/* Questions people ask about a named topic, in the forms the intents
 * know (and one bare name, which takes the "about" intent). */
static const char *const templates[][2] = {
	{ "what causes ", "?" },
	{ "how can i prevent ", "" },
	{ "when should i see a doctor about ", "?" },
	{ "what are the symptoms of ", "" },
	{ "", "" },
	{ "what is the treatment for ", "?" },
	{ "are older people more at risk of ", "?" },
	{ "what helps with ", " at home" },
};

static void add_topic_questions(const struct hb_engine *e, size_t count,
		struct messages *m)
{
	size_t n_articles = hb_engine_article_count(e);
	size_t n_templates = sizeof(templates) / sizeof(templates[0]);
	for (size_t i = 0; i < count; i++) {
		const char *title = NULL;
		char msg[512], lower[256];
		hb_engine_article(e, i % n_articles, &title);
		size_t k = 0;
		for (; title[k] && k < sizeof(lower) - 1; k++)
			lower[k] = (title[k] >= 'A' && title[k] <= 'Z') ?
				(char)(title[k] - 'A' + 'a') : title[k];
		lower[k] = '\0';
		/* different articles get different templates in turn */
		const char *const *t = templates[(i + i / n_articles) % n_templates];
		snprintf(msg, sizeof(msg), "%s%s%s", t[0], lower, t[1]);
		add(m, msg);
	}
}

struct timing {
	double ns_per_msg, msgs_per_s;
	unsigned long long count, kinds[4];
};

static void run(const struct hb_engine *e, const struct messages *m,
		double seconds, struct timing *t)
{
	struct hb_reply r;
	*t = (struct timing){0};
	for (size_t i = 0; i < m->n; i++) { /* warm-up */
		hb_engine_reply(e, NULL, NULL, m->text[i], m->len[i], 0, &r);
		hb_reply_finish(&r);
	}
	double t0 = now_s(), elapsed;
	do {
		for (size_t i = 0; i < m->n; i++) {
			if (!hb_engine_reply(e, NULL, NULL, m->text[i], m->len[i], 0, &r)) {
				fprintf(stderr, "reply failed\n");
				exit(1);
			}
			t->kinds[r.kind]++;
			hb_reply_finish(&r);
		}
		t->count += m->n;
		elapsed = now_s() - t0;
	} while (elapsed < seconds);
	t->ns_per_msg = elapsed / (double)t->count * 1e9;
	t->msgs_per_s = (double)t->count / elapsed;
}

/* One more round of the mix, each message timed on its own: what each
 * kind of reply costs (the clock reads add some 50 ns to each). */
static void per_kind(const struct hb_engine *e, const struct messages *m,
		double ns[4], unsigned long long n[4])
{
	struct hb_reply r;
	for (int k = 0; k < 4; k++)
		ns[k] = 0, n[k] = 0;
	for (size_t i = 0; i < m->n; i++) {
		double t0 = now_s();
		if (!hb_engine_reply(e, NULL, NULL, m->text[i], m->len[i], 0, &r))
			exit(1);
		ns[r.kind] += (now_s() - t0) * 1e9;
		n[r.kind]++;
		hb_reply_finish(&r);
	}
	for (int k = 0; k < 4; k++)
		ns[k] = n[k] ? ns[k] / (double)n[k] : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *extra = NULL, *label = NULL;
	double seconds = 3.0;
	const char *pos[3];
	int n_pos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--extra") == 0 && i + 1 < argc)
			extra = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
			label = argv[++i];
		else if (n_pos < 3)
			pos[n_pos++] = argv[i];
		else
			n_pos = 4;
	}
	if (n_pos != 3) {
		fprintf(stderr, "usage: %s CONTENT INTENTS UTTERANCES [--extra DIR] "
			"[--seconds S] [--label NAME]\n", argv[0]);
		return 2;
	}
	struct hb_engine_options o = {
		.content_dir = pos[0],
		.intents_dir = pos[1],
		.extra_content_dir = extra,
	};
	struct hb_error err;

	/* load: repeated (at least 3 times, up to 21 or about 5 s), best and
	 * median; the first load's RSS growth is the engine's memory */
	enum { MAX_LOADS = 21 };
	double t[MAX_LOADS], total = 0;
	int loads = 0;
	long rss_before = rss_kib(), rss_engine = 0;
	struct hb_engine *e = NULL;
	while (loads < MAX_LOADS && (loads < 3 || total < 5.0)) {
		double t0 = now_s();
		e = hb_engine_create(&o, &err);
		t[loads] = now_s() - t0;
		if (!e) {
			fprintf(stderr, "load failed: %s:%d: %s: %s\n", err.file, err.line,
				err.entry, err.message);
			return 1;
		}
		if (loads == 0)
			rss_engine = rss_kib() - rss_before;
		total += t[loads++];
		if (loads < MAX_LOADS && (loads < 3 || total < 5.0))
			hb_engine_destroy(e);
	}
	qsort(t, (size_t)loads, sizeof(t[0]), cmp_double);

	struct messages utt = {0}, mix = {0};
	if (!read_utterances(pos[2], &utt)) {
		fprintf(stderr, "no messages in %s\n", pos[2]);
		return 1;
	}
	for (size_t i = 0; i < utt.n; i++)
		add(&mix, utt.text[i]);
	add_topic_questions(e, utt.n, &mix);

	struct timing tu, tm;
	run(e, &utt, seconds, &tu);
	run(e, &mix, seconds, &tm);
	double kind_ns[4];
	unsigned long long kind_n[4];
	per_kind(e, &mix, kind_ns, kind_n);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);

	size_t n_articles = hb_engine_article_count(e);
	printf("%s: %zu articles\n", label ? label : pos[0], n_articles);
	printf("  load (read, parse, index, compile, JIT): best %.1f ms, median %.1f ms (%d loads)\n",
		t[0] * 1e3, t[loads / 2] * 1e3, loads);
	printf("  utterance set (%zu messages): %.0f ns/message, %.0f messages/s\n",
		utt.n, tu.ns_per_msg, tu.msgs_per_s);
	printf("  mix (+%zu topic questions): %.0f ns/message, %.0f messages/s "
		"(%llu answers, %llu escalations, %llu fallbacks, %llu small talk)\n",
		mix.n - utt.n, tm.ns_per_msg, tm.msgs_per_s, tm.kinds[0], tm.kinds[1],
		tm.kinds[2], tm.kinds[3]);
	printf("  per reply kind (mix): answer %.0f ns, escalation %.0f ns, "
		"fallback %.0f ns, small talk %.0f ns\n", kind_ns[0], kind_ns[1],
		kind_ns[2], kind_ns[3]);
	printf("  memory: engine %ld KiB (RSS growth of one load), peak RSS %ld KiB\n",
		rss_engine, ru.ru_maxrss);
	/* one line for scripts (tests/bench/run) */
	printf("RESULT label=%s articles=%zu load_best_ms=%.2f load_median_ms=%.2f "
		"utt_ns=%.0f mix_ns=%.0f mix_per_s=%.0f answer_ns=%.0f escalation_ns=%.0f "
		"fallback_ns=%.0f smalltalk_ns=%.0f engine_kib=%ld peak_rss_kib=%ld\n",
		label ? label : "-", n_articles, t[0] * 1e3, t[loads / 2] * 1e3,
		tu.ns_per_msg, tm.ns_per_msg, tm.msgs_per_s, kind_ns[0], kind_ns[1],
		kind_ns[2], kind_ns[3], rss_engine, ru.ru_maxrss);
	free_messages(&utt);
	free_messages(&mix);
	hb_engine_destroy(e);
	return 0;
}
