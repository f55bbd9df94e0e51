/* `healthbot check`: validate the library and run the utterance or red-flag set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "channel.h"
#include "cli.h"
#include "config.h"

static void print_line(void *data, const char *line)
{
	(void)data;
	puts(line);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int hb_cmd_check(int argc, char **argv)
{
	struct hb_cli_paths paths = {0};
	const char *utterances = NULL;
	const char *config_path = NULL;
	int max_age_days = 5 * 365;
	double max_false_alarms = 3.0; /* percent of the benign lines */
	bool no_utterances = false, redflags = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: healthbot check [--config FILE] [--content DIR] [--intents DIR]\n"
				"                       [--utterances FILE | --redflags FILE |\n"
				"                        --no-utterances] [--max-false-alarms PCT]\n"
				"                       [--max-age-days N]\n\n"
				"With --config, first validates the config file (every key of every\n"
				"section) and uses its content, intents and numbers; nothing starts.\n"
				"Validates every article and intent file (errors: patterns that do\n"
				"not compile, targets no article has, duplicate ids; warnings:\n"
				"patterns no utterance uses, content older than N days, default\n"
				"1825) and runs the utterance set (default tests/utterances.tsv),\n"
				"printing a per-intent table and the recall of each red-flag\n"
				"category. Exits non-zero on any error, any failed utterance, a\n"
				"red flag missed or caught as another category, a reply in the\n"
				"wrong language (a line whose EXPECTED ends in \"@es\" needs a\n"
				"Spanish reply, any other line an English one), or benign lines\n"
				"escalated above PCT percent (default 3).\n\n"
				"--redflags FILE runs the red-flag set (tests/redflags.tsv) instead\n"
				"and also fails when a category of the loaded rules has no line in\n"
				"it or a category in it has no rule.\n");
			return 0;
		} else if ((strcmp(argv[i], "--utterances") == 0 ||
				strcmp(argv[i], "--redflags") == 0) && i + 1 < argc) {
			if (utterances) {
				fprintf(stderr, "healthbot check: one of --utterances and "
					"--redflags, once\n");
				return 2;
			}
			redflags = strcmp(argv[i], "--redflags") == 0;
			utterances = argv[++i];
		} else if (strcmp(argv[i], "--max-false-alarms") == 0 && i + 1 < argc) {
			char *end;
			max_false_alarms = strtod(argv[++i], &end);
			if (end == argv[i] || *end || !(max_false_alarms >= 0 &&
					max_false_alarms <= 100)) {
				fprintf(stderr, "healthbot check: --max-false-alarms takes "
					"a percentage from 0 to 100, not \"%s\"\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--no-utterances") == 0) {
			no_utterances = true;
		} else if (strcmp(argv[i], "--max-age-days") == 0 && i + 1 < argc) {
			max_age_days = atoi(argv[++i]);
		} else if (!hb_cli_path_option(&paths, argc, argv, &i)) {
			fprintf(stderr, "healthbot check: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	struct hb_config *cfg = NULL;
	if (config_path) {
		bool ok = (cfg = hb_config_create(config_path)) != NULL;
		for (size_t i = 0; ok && hb_channels[i]; i++) {
			const cJSON *section = cJSON_GetObjectItemCaseSensitive(cfg->root,
					hb_channels[i]->name);
			ok = hb_channels[i]->check(section);
		}
		if (!ok) {
			hb_config_destroy(cfg);
			return 1;
		}
		printf("config: %s is valid\n", config_path);
		if (!paths.content_dir)
			paths.content_dir = cfg->content_dir;
		if (!paths.intents_dir)
			paths.intents_dir = cfg->intents_dir;
		if (!paths.emergency_number)
			paths.emergency_number = cfg->emergency_number;
		if (!paths.crisis_number)
			paths.crisis_number = cfg->crisis_number;
		if (!paths.locale)
			paths.locale = cfg->locale;
	}
	struct hb_engine *e = hb_cli_load(&paths);
	if (!e) {
		hb_config_destroy(cfg);
		return 1;
	}
	char *data = NULL;
	size_t len = 0;
	if (!no_utterances) {
		const char *path = utterances ? utterances : "tests/utterances.tsv";
		data = slurp(path, &len);
		if (!data && utterances) {
			fprintf(stderr, "healthbot check: cannot read %s\n", utterances);
			hb_engine_destroy(e);
			hb_config_destroy(cfg);
			return 1;
		}
		if (data)
			utterances = path;
	}
	struct hb_check_report report;
	int64_t today = (int64_t)time(NULL) / 86400;
	bool ok = hb_engine_check(e, data, len, utterances ? utterances : "",
			max_age_days, today, print_line, NULL, &report);
	if (report.benign && 100.0 * report.false_alarms / report.benign >
			max_false_alarms) {
		printf("check: false alarms above %g%% of the benign lines\n",
			max_false_alarms);
		ok = false;
	}
	if (redflags && (report.categories_untested || report.categories_unruled)) {
		printf("check: %s does not cover the red-flag rules' categories "
			"one to one\n", utterances);
		ok = false;
	}
	printf("check: %d error(s), %d warning(s)\n", report.errors, report.warnings);
	free(data);
	hb_engine_destroy(e);
	hb_config_destroy(cfg);
	return ok ? 0 : 1;
}
