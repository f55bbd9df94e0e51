/*
 * The hostile-input catalogue against the engine API (tests/hostile,
 * README.md there): every "message" case through hb_engine_reply() and
 * hb_engine_reply_ex(--explain, which runs every pattern the prefilter
 * lets through), every data-file case through hb_engine_create(), then a
 * regex-bomb message built from each pattern's own required literals and
 * one holding every pattern's literals at once. TAP output.
 *
 * Each message must get one reply within the invariants of
 * tests/common/check.c (no markup from the input, the emergency number in
 * every escalation, ...), the expected kind and category when the case
 * names them, the same classification with and without the prefilter, and
 * an answer in under HB_HOSTILE_MAX_MS (default 1000) milliseconds, ASan
 * or not. Each data file must load or fail as the case says, a failure
 * naming the file, in under 10 s.
 *
 *   hostile_engine SOURCE_ROOT CATALOGUE [--emit-bombs FILE]
 *
 * --emit-bombs writes the generated bomb messages as catalogue lines, for
 * the channels' own hostile tests.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "library.h"
#include "prefilter.h"

#define EMERGENCY "5550911"
#define CRISIS "5550988"

static const char *root;
static double max_ms = 1000;
static int n_tests, n_failed;
static double worst_ms;
static char worst_id[160] = "-";

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void result(bool ok, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(bool ok, const char *id, const char *fmt, ...)
{
	va_list ap;
	n_tests++;
	if (!ok)
		n_failed++;
	printf("%sok %d - %s", ok ? "" : "not ", n_tests, id);
	if (fmt) {
		printf(ok ? " (" : ": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		if (ok)
			putchar(')');
	}
	putchar('\n');
	fflush(stdout);
}

/* ---- the catalogue's encoding (README.md) -------------------------------- */

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool b64_decode(const char *s, struct hb_buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	for (; *s && *s != '='; s++) {
		int v = b64_value(*s);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			hb_buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return !out->oom;
}

/* text, b64 or parts: [{text|b64, repeat}] */
static bool body(const cJSON *c, struct hb_buf *out)
{
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(c, "b64");
	const cJSON *parts = cJSON_GetObjectItemCaseSensitive(c, "parts");
	const cJSON *p;
	hb_buf_init(out);
	hb_buf_append(out, "", 0);
	if (cJSON_IsString(text)) {
		hb_buf_puts(out, text->valuestring);
		return !out->oom;
	}
	if (cJSON_IsString(b64))
		return b64_decode(b64->valuestring, out);
	if (!cJSON_IsArray(parts))
		return false;
	cJSON_ArrayForEach(p, parts) {
		struct hb_buf one;
		const cJSON *rep = cJSON_GetObjectItemCaseSensitive(p, "repeat");
		int n = cJSON_IsNumber(rep) ? rep->valueint : 1;
		if (!body(p, &one)) {
			hb_buf_finish(&one);
			return false;
		}
		for (int i = 0; i < n; i++)
			hb_buf_append(out, one.data, one.len);
		hb_buf_finish(&one);
	}
	return !out->oom;
}

/* ---- messages ------------------------------------------------------------ */

static bool kind_allowed(const cJSON *kinds, enum hb_reply_kind kind)
{
	const cJSON *k;
	if (!cJSON_IsArray(kinds))
		return true;
	cJSON_ArrayForEach(k, kinds) {
		if (cJSON_IsString(k) && strcmp(k->valuestring, hb_reply_kind_str(kind)) == 0)
			return true;
	}
	return false;
}

static void check_message(const struct hb_engine *e, const char *id,
		const char *msg, size_t len, const cJSON *kinds, const char *category)
{
	char why[512] = "";
	bool ok = true;
	double slowest = 0;
	for (unsigned flags = 0; flags <= HB_REPLY_EXPLAIN && ok; flags += HB_REPLY_EXPLAIN) {
		struct hb_reply r;
		double t0 = now_ms();
		bool replied = hb_engine_reply_ex(e, NULL, NULL, msg, len, 0, flags, &r);
		double ms = now_ms() - t0;
		if (ms > slowest)
			slowest = ms;
		if (!replied) {
			snprintf(why, sizeof(why), "no reply (%s)", r.rule ? r.rule : "-");
			ok = false;
		} else if (!hb_check_reply(&r, EMERGENCY, CRISIS, why, sizeof(why))) {
			ok = false;
		} else if (!kind_allowed(kinds, r.kind)) {
			snprintf(why, sizeof(why), "got %s (rule %s)", hb_reply_kind_str(r.kind),
				r.rule);
			ok = false;
		} else if (category && (!r.category || strcmp(r.category, category) != 0)) {
			snprintf(why, sizeof(why), "category %s, want %s",
				r.category ? r.category : "-", category);
			ok = false;
		} else if (ms > max_ms) {
			snprintf(why, sizeof(why), "%.0f ms (bound %.0f ms)%s", ms, max_ms,
				flags ? " with --explain" : "");
			ok = false;
		}
		hb_reply_finish(&r);
	}
	/* running every pattern on megabytes is a slow check, not a hazard
	 * the engine has: kept to what a channel may deliver */
	if (ok && len <= 64 * 1024)
		ok = hb_check_prefilter(e, msg, len, why, sizeof(why));
	if (slowest > worst_ms) {
		worst_ms = slowest;
		snprintf(worst_id, sizeof(worst_id), "%s", id);
	}
	if (ok)
		result(true, id, "%zu bytes, %.2f ms", len, slowest);
	else
		result(false, id, "%s", why);
}

/* ---- data files ---------------------------------------------------------- */

static bool copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	char buf[65536];
	size_t n;
	bool ok = in && out;
	while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok = fwrite(buf, 1, n, out) == n;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		ok = false;
	return ok;
}

static bool write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(data, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = false;
	return ok;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	while (d && (ent = readdir(d))) {
		char path[1024];
		if (ent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
		if (unlink(path) != 0 && errno == EISDIR)
			remove_dir(path); /* intents/locales */
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* The *.json files of the checkout's directory from into dir. */
static bool copy_json(const char *from, const char *dir)
{
	char src[1024], dst[1024];
	snprintf(src, sizeof(src), "%s/%s", root, from);
	DIR *d = opendir(src);
	struct dirent *ent;
	bool ok = d != NULL;
	while (ok && (ent = readdir(d))) {
		size_t n = strlen(ent->d_name);
		if (n < 6 || strcmp(ent->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(src, sizeof(src), "%s/%s/%s", root, from, ent->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", dir, ent->d_name);
		ok = copy_file(src, dst);
	}
	if (d)
		closedir(d);
	return ok;
}

/* the checkout's intents files into dir, with the locales (a "languages"
 * object needs its locales/CODE.json) */
static bool copy_intents(const char *dir)
{
	char locales[1024];
	snprintf(locales, sizeof(locales), "%s/locales", dir);
	return copy_json("intents", dir) && mkdir(locales, 0700) == 0 &&
		copy_json("intents/locales", locales);
}

static void check_data(const cJSON *c, const char *id, const char *entry)
{
	char base[] = "/tmp/hb-hostile-XXXXXX";
	char content[64], intents[64], target[128], src[1024], dst[128];
	const char *name;
	const char *expect = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(c, "expect_load"));
	struct hb_buf data;
	bool setup;
	if (!expect)
		expect = "any";
	if (!mkdtemp(base)) {
		result(false, id, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(content, sizeof(content), "%s/content", base);
	snprintf(intents, sizeof(intents), "%s/intents", base);
	/* the checkout's library and intents, with the case's file added or
	 * put in place of one of them */
	setup = mkdir(content, 0700) == 0 && mkdir(intents, 0700) == 0 &&
		copy_intents(intents);
	snprintf(src, sizeof(src), "%s/content/night-leg-cramps.txt", root);
	snprintf(dst, sizeof(dst), "%s/night-leg-cramps.txt", content);
	setup = setup && copy_file(src, dst);
	if (strcmp(entry, "sidecar") == 0) {
		name = "night-leg-cramps.json";
		snprintf(target, sizeof(target), "%s/%s", content, name);
	} else {
		snprintf(src, sizeof(src), "%s/content/night-leg-cramps.json", root);
		snprintf(dst, sizeof(dst), "%s/night-leg-cramps.json", content);
		setup = setup && copy_file(src, dst);
		name = strcmp(entry, "article") == 0 ? "zz-hostile.txt" : "zz-hostile.json";
		snprintf(target, sizeof(target), "%s/%s", strcmp(entry, "article") == 0 ?
			content : intents, name);
	}
	setup = body(c, &data) && setup && write_file(target, data.data, data.len);
	hb_buf_finish(&data);
	if (!setup) {
		result(false, id, "could not write the case's files");
		goto out;
	}

	struct hb_engine_options o = {
		.content_dir = content,
		.intents_dir = intents,
		.emergency_number = EMERGENCY,
		.crisis_number = CRISIS,
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	struct hb_error err = {0};
	double t0 = now_ms();
	struct hb_engine *e = hb_engine_create(&o, &err);
	double ms = now_ms() - t0;
	if (ms > 10000)
		result(false, id, "load took %.0f ms", ms);
	else if (!e && strcmp(expect, "ok") == 0)
		result(false, id, "did not load: %s: %s: %s", err.file, err.entry, err.message);
	else if (e && strcmp(expect, "error") == 0)
		result(false, id, "loaded, want an error");
	else if (!e && (!err.message[0] || !strstr(err.file, name)))
		result(false, id, "unclear error: file \"%s\", message \"%s\"", err.file,
			err.message);
	else if (!e)
		result(true, id, "error: %s: %s", name, err.message);
	else
		result(true, id, "loaded in %.0f ms", ms);
	if (e) {
		const cJSON *m;
		int k = 0;
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(c, "messages")) {
			char mid[160];
			if (!cJSON_IsString(m))
				continue;
			snprintf(mid, sizeof(mid), "%s message %d", id, ++k);
			check_message(e, mid, m->valuestring, strlen(m->valuestring), NULL, NULL);
		}
		hb_engine_destroy(e);
	}
out:
	remove_dir(intents);
	remove_dir(content);
	rmdir(base);
}

/* ---- regex bombs built from the patterns --------------------------------- */

/* A run of the pattern's own required literals (one of each conjunct),
 * which gets it past the prefilter and into PCRE2; without literals, the
 * letters of its source. */
static void bomb_unit(const char *source, struct hb_buf *unit)
{
	char **lits = NULL;
	size_t n = 0;
	hb_buf_init(unit);
	if (hb_prefilter_literals(source, &lits, &n) && n > 0) {
		for (size_t i = 0; i < n; i++) {
			hb_buf_append(unit, lits[i], strcspn(lits[i], "|"));
			hb_buf_putc(unit, ' ');
		}
		hb_prefilter_free_literals(lits, n);
		return;
	}
	for (const char *p = source; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || *p == ' ' || *p == '\'')
			hb_buf_putc(unit, *p);
	}
	hb_buf_putc(unit, ' ');
}

static void repeat_to(const struct hb_buf *unit, size_t size, struct hb_buf *out)
{
	hb_buf_init(out);
	hb_buf_append(out, "", 0);
	while (unit->len && out->len + unit->len <= size)
		hb_buf_append(out, unit->data, unit->len);
}

static void emit(FILE *f, const char *id, const struct hb_buf *unit, size_t count)
{
	cJSON *c = cJSON_CreateObject(), *parts = cJSON_CreateArray();
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "id", id);
	cJSON_AddStringToObject(c, "entry", "message");
	cJSON_AddStringToObject(c, "what", "a run of a pattern's own literals (hostile_engine)");
	cJSON_AddStringToObject(p, "text", unit->data);
	cJSON_AddNumberToObject(p, "repeat", (double)count);
	cJSON_AddItemToArray(parts, p);
	cJSON_AddItemToObject(c, "parts", parts);
	char *s = cJSON_PrintUnformatted(c);
	if (s)
		fprintf(f, "%s\n", s);
	free(s);
	cJSON_Delete(c);
}

static void bomb_patterns(const struct hb_engine *e, const char *kind,
		const struct hb_patterns *ps, struct hb_buf *all, FILE *emit_to)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct hb_buf unit, msg;
		char id[256];
		bomb_unit(ps->items[i].source, &unit);
		if (unit.oom || !unit.len) {
			hb_buf_finish(&unit);
			continue;
		}
		hb_buf_append(all, unit.data, unit.len);
		/* 4 KB: the whole engine reads it; 64 KB: only red flags do,
		 * the largest event a Matrix client delivers */
		static const size_t sizes[] = { 4000, 64 * 1024 };
		for (size_t s = 0; s < 2; s++) {
			snprintf(id, sizeof(id), "bomb %s %s %zu KB", kind, ps->items[i].id,
				sizes[s] / 1000);
			repeat_to(&unit, sizes[s], &msg);
			check_message(e, id, msg.data, msg.len, NULL, NULL);
			if (emit_to)
				emit(emit_to, id, &unit, msg.len / unit.len);
			hb_buf_finish(&msg);
		}
		hb_buf_finish(&unit);
	}
}

static void bombs(const struct hb_engine *e, FILE *emit_to)
{
	struct hb_buf all, msg;
	hb_buf_init(&all);
	for (size_t i = 0; i < e->n_redflags; i++)
		bomb_patterns(e, "redflag", &e->redflags[i].patterns, &all, emit_to);
	for (size_t i = 0; i < e->n_intents; i++)
		bomb_patterns(e, "intent", &e->intents[i].patterns, &all, emit_to);
	for (size_t i = 0; i < e->n_smalltalk; i++)
		bomb_patterns(e, "smalltalk", &e->smalltalk[i].patterns, &all, emit_to);
	for (size_t i = 0; i < e->n_lexicon; i++)
		bomb_patterns(e, "lexicon", &e->lexicon[i].patterns, &all, emit_to);
	/* every pattern's literals at once: nothing is held back by the
	 * prefilter, every red flag runs over the whole message */
	static const size_t sizes[] = { 4000, 64 * 1024, 1024 * 1024 };
	for (size_t s = 0; s < 3; s++) {
		char id[64];
		snprintf(id, sizeof(id), "bomb every pattern's literals %zu KB",
			sizes[s] / 1000);
		repeat_to(&all, sizes[s] > all.len ? sizes[s] : all.len, &msg);
		check_message(e, id, msg.data, msg.len, NULL, NULL);
		if (emit_to)
			emit(emit_to, id, &all, msg.len / all.len);
		hb_buf_finish(&msg);
	}
	hb_buf_finish(&all);
}

int main(int argc, char **argv)
{
	const char *emit_path = NULL;
	if (argc == 5 && strcmp(argv[3], "--emit-bombs") == 0)
		emit_path = argv[4];
	else if (argc != 3) {
		fprintf(stderr, "usage: %s SOURCE_ROOT CATALOGUE [--emit-bombs FILE]\n",
			argv[0]);
		return 2;
	}
	root = argv[1];
	if (getenv("HB_HOSTILE_MAX_MS"))
		max_ms = atof(getenv("HB_HOSTILE_MAX_MS"));

	char content[1024], intents[1024];
	snprintf(content, sizeof(content), "%s/content", root);
	snprintf(intents, sizeof(intents), "%s/intents", root);
	struct hb_engine_options o = {
		.content_dir = content,
		.intents_dir = intents,
		.emergency_number = EMERGENCY,
		.crisis_number = CRISIS,
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	struct hb_error err;
	struct hb_engine *e = hb_engine_create(&o, &err);
	if (!e) {
		printf("Bail out! load failed: %s: %s\n", err.file, err.message);
		return 1;
	}

	FILE *f = fopen(argv[2], "r");
	if (!f) {
		printf("Bail out! %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		cJSON *c = cJSON_Parse(line);
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
		const char *entry = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(c, "entry"));
		char fallback_id[64];
		if (!id) {
			snprintf(fallback_id, sizeof(fallback_id), "line %d", lineno);
			id = fallback_id;
		}
		if (!c || !entry) {
			result(false, id, "not a catalogue entry");
		} else if (strcmp(entry, "message") == 0) {
			struct hb_buf msg;
			if (body(c, &msg))
				check_message(e, id, msg.data, msg.len,
					cJSON_GetObjectItemCaseSensitive(c, "expect_kind"),
					cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c,
						"expect_category")));
			else
				result(false, id, "cannot decode the message");
			hb_buf_finish(&msg);
		} else if (strcmp(entry, "intents-extra") == 0 ||
				strcmp(entry, "sidecar") == 0 || strcmp(entry, "article") == 0) {
			check_data(c, id, entry);
		} else {
			result(false, id, "unknown entry \"%s\"", entry);
		}
		cJSON_Delete(c);
	}
	free(line);
	fclose(f);

	FILE *out = emit_path ? fopen(emit_path, "w") : NULL;
	if (emit_path && !out) {
		printf("Bail out! %s: %s\n", emit_path, strerror(errno));
		return 1;
	}
	bombs(e, out);
	if (out)
		fclose(out);
	hb_engine_destroy(e);
	printf("# slowest message: %.2f ms (%s); bound %.0f ms\n", worst_ms, worst_id,
		max_ms);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
