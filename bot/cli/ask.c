/* `healthbot ask`: one message, or one per stdin line (the evaluation
 * interface: one JSON object per input line, keep it stable). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: healthbot ask [--json] [--explain] [--content DIR] [--intents DIR]\n"
		"                     [--extra-content DIR] [--emergency-number N]\n"
		"                     [--crisis-number N] (MESSAGE... | -)\n"
		"\n"
		"Answers one message. With -, reads one message per line from stdin;\n"
		"each line is a new conversation. --json prints one JSON object per\n"
		"message (kind, severity, intent, article, section, rule, category,\n"
		"lang, text, html, source). --explain adds the red-flag rules and\n"
		"intent patterns that matched, with their scores.\n");
}

static void add_str(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

static void print_json(const struct hb_reply *r, bool explain)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "kind", hb_reply_kind_str(r->kind));
	add_str(o, "severity", hb_severity_str(r->severity));
	add_str(o, "intent", r->intent);
	add_str(o, "article", r->article);
	add_str(o, "section", r->section);
	add_str(o, "rule", r->rule);
	add_str(o, "category", r->category);
	add_str(o, "lang", r->lang ? r->lang : "en");
	add_str(o, "text", r->text);
	add_str(o, "html", r->html);
	if (r->source.title) {
		cJSON *s = cJSON_AddObjectToObject(o, "source");
		add_str(s, "title", r->source.title);
		add_str(s, "publisher", r->source.publisher);
		add_str(s, "updated", r->source.updated);
	} else {
		cJSON_AddNullToObject(o, "source");
	}
	if (explain) {
		cJSON *c = cJSON_AddArrayToObject(o, "candidates");
		for (size_t i = 0; i < r->n_candidates; i++) {
			cJSON *x = cJSON_CreateObject();
			add_str(x, "kind", r->candidates[i].kind);
			add_str(x, "id", r->candidates[i].id);
			add_str(x, "pattern", r->candidates[i].pattern);
			cJSON_AddNumberToObject(x, "score", r->candidates[i].score);
			cJSON_AddItemToArray(c, x);
		}
	}
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

static void print_text(const struct hb_reply *r, bool explain)
{
	printf("%s\n", r->text);
	if (!explain)
		return;
	printf("\n[%s severity=%s intent=%s article=%s section=%s rule=%s]\n",
		hb_reply_kind_str(r->kind), hb_severity_str(r->severity),
		r->intent ? r->intent : "-", r->article ? r->article : "-",
		r->section ? r->section : "-", r->rule ? r->rule : "-");
	for (size_t i = 0; i < r->n_candidates; i++) {
		printf("  %-9s %-24s score %4d  %s\n", r->candidates[i].kind,
			r->candidates[i].id, r->candidates[i].score,
			r->candidates[i].pattern ? r->candidates[i].pattern : "");
	}
}

static bool answer(const struct hb_engine *e, const char *msg, size_t len,
		bool json, bool explain)
{
	struct hb_reply r;
	if (!hb_engine_reply_ex(e, NULL, NULL, msg, len, hb_cli_now(),
			explain ? HB_REPLY_EXPLAIN : 0, &r)) {
		fprintf(stderr, "healthbot: out of memory\n");
		return false;
	}
	if (json)
		print_json(&r, explain);
	else
		print_text(&r, explain);
	hb_reply_finish(&r);
	return true;
}

int hb_cmd_ask(int argc, char **argv)
{
	struct hb_cli_paths paths = {0};
	bool json = false, explain = false, from_stdin = false;
	int first = 0, rc = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--explain") == 0) {
			explain = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-") == 0) {
			from_stdin = true;
		} else if (strcmp(argv[i], "--") == 0) {
			first = i + 1;
			break;
		} else if (hb_cli_path_option(&paths, argc, argv, &i)) {
			continue;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "healthbot ask: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			first = i;
			break;
		}
	}
	if (!from_stdin && (first == 0 || first >= argc)) {
		usage(stderr);
		return 2;
	}
	struct hb_engine *e = hb_cli_load(&paths);
	if (!e)
		return 1;
	if (from_stdin) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		rc = 0;
		/* getline keeps NUL bytes inside the line; the length is what
		 * counts, so they reach the engine as the data they are */
		while ((n = getline(&line, &cap, stdin)) >= 0) {
			if (n > 0 && line[n - 1] == '\n')
				n--;
			if (n > 0 && line[n - 1] == '\r')
				n--;
			if (!answer(e, line, (size_t)n, json, explain)) {
				rc = 1;
				break;
			}
			fflush(stdout);
		}
		free(line);
	} else {
		size_t len = 0;
		for (int i = first; i < argc; i++)
			len += strlen(argv[i]) + 1;
		char *msg = malloc(len + 1);
		if (msg) {
			msg[0] = '\0';
			for (int i = first; i < argc; i++) {
				if (i > first)
					strcat(msg, " ");
				strcat(msg, argv[i]);
			}
			rc = answer(e, msg, strlen(msg), json, explain) ? 0 : 1;
			free(msg);
		}
	}
	hb_engine_destroy(e);
	return rc;
}
