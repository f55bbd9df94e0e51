/*
 * Engine benchmark: start-up (load + compile) and messages per second for
 * classify + compose over the utterance set's realistic message mix, on
 * one core. A benchmark, not a test: it reports, it does not judge.
 *
 *   bench_engine CONTENT_DIR INTENTS_DIR UTTERANCES_TSV [SECONDS]
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

/* CPU time of the process: on a machine shared with other work the wall
 * clock also counts time spent waiting for a core, CPU time does not */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sort_times(double *t, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x;
		}
}

static char **read_messages(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	char **msgs = NULL;
	*n = 0;
	if (!f)
		return NULL;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		char *t = strchr(line, '\t');
		t = t ? strchr(t + 1, '\t') : NULL;
		if (line[0] == '#' || !t)
			continue;
		msgs = realloc(msgs, (*n + 1) * sizeof(*msgs));
		msgs[(*n)++] = strdup(t + 1);
	}
	free(line);
	fclose(f);
	return msgs;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s CONTENT INTENTS UTTERANCES [SECONDS]\n", argv[0]);
		return 2;
	}
	double seconds = argc > 4 ? atof(argv[4]) : 3.0;
	struct hb_engine_options o = { .content_dir = argv[1], .intents_dir = argv[2] };
	struct hb_error err;

	/* start-up: best and median of repeated loads */
	enum { LOADS = 21 };
	double t[LOADS], c[LOADS];
	struct hb_engine *e = NULL;
	for (int i = 0; i < LOADS; i++) {
		double t0 = now_s(), c0 = cpu_s();
		e = hb_engine_create(&o, &err);
		t[i] = now_s() - t0;
		c[i] = cpu_s() - c0;
		if (!e) {
			fprintf(stderr, "load failed: %s: %s\n", err.file, err.message);
			return 1;
		}
		if (i + 1 < LOADS)
			hb_engine_destroy(e);
	}
	sort_times(t, LOADS);
	sort_times(c, LOADS);

	size_t n;
	char **msgs = read_messages(argv[3], &n);
	if (!msgs || n == 0) {
		fprintf(stderr, "no messages in %s\n", argv[3]);
		return 1;
	}
	size_t *lens = malloc(n * sizeof(*lens));
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(msgs[i]);

	/* warm-up (patterns are JIT-compiled on first use, so the first
	 * round also pays for those the mix needs), then timed rounds over
	 * the whole mix */
	struct hb_reply r;
	unsigned long long count = 0, kinds[4] = {0};
	double w0 = now_s(), wc0 = cpu_s();
	for (size_t i = 0; i < n; i++) {
		hb_engine_reply(e, NULL, NULL, msgs[i], lens[i], 0, &r);
		hb_reply_finish(&r);
	}
	double first = now_s() - w0, first_cpu = cpu_s() - wc0;
	double t0 = now_s(), c0 = cpu_s(), elapsed;
	do {
		for (size_t i = 0; i < n; i++) {
			if (!hb_engine_reply(e, NULL, NULL, msgs[i], lens[i], 0, &r))
				return 1;
			kinds[r.kind]++;
			hb_reply_finish(&r);
		}
		count += n;
		elapsed = now_s() - t0;
	} while (elapsed < seconds);
	double cpu = cpu_s() - c0;

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("engine benchmark (%zu-message mix from %s)\n", n, argv[3]);
	printf("  start-up (load + compile): best %.2f ms, median %.2f ms\n",
		t[0] * 1e3, t[LOADS / 2] * 1e3);
	printf("  start-up, CPU time: best %.2f ms, median %.2f ms\n",
		c[0] * 1e3, c[LOADS / 2] * 1e3);
	printf("  first round (%zu messages, JIT on first use): %.1f ms, CPU %.1f ms\n",
		n, first * 1e3, first_cpu * 1e3);
	printf("  classify + compose: %.0f messages/s, %.0f ns/message (%llu messages, %.1f s, one core)\n",
		(double)count / elapsed, elapsed / (double)count * 1e9, count, elapsed);
	printf("  classify + compose, CPU time: %.0f messages/s, %.0f ns/message\n",
		(double)count / cpu, cpu / (double)count * 1e9);
	printf("  mix: %llu answers, %llu escalations, %llu fallbacks, %llu small talk\n",
		kinds[0], kinds[1], kinds[2], kinds[3]);
	printf("  peak RSS: %ld KiB\n", ru.ru_maxrss);
	for (size_t i = 0; i < n; i++)
		free(msgs[i]);
	free(msgs);
	free(lens);
	hb_engine_destroy(e);
	return 0;
}
