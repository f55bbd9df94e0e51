/* `healthbot serve` and `healthbot run`: the channels in one event loop. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "channel.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "loop.h"

static void usage_serve(FILE *f)
{
	fprintf(f,
		"usage: healthbot serve [--bind ADDR] [--port N] [--config FILE]\n"
		"                       [--content DIR] [--intents DIR]\n\n"
		"Serves the patient-portal chat widget: a demo page at /, the widget\n"
		"script and stylesheet, the /chat websocket and /healthz. Default\n"
		"127.0.0.1:8080.\n");
}

static void usage_run(FILE *f)
{
	fprintf(f,
		"usage: healthbot run --config FILE\n\n"
		"Starts every channel the config enables (widget server, portal relay\n"
		"client, Matrix) in one process and one event loop.\n");
}

static int run(struct hb_config *cfg, struct hb_cli_paths *paths,
		const struct hb_run_overrides *ov, bool widget_only)
{
	struct hb_app app = { .config = cfg };
	void *instances[8] = {0};
	size_t started = 0;
	int rc = 1;

	hb_log_init(cfg->log_level);
	hb_log_set_text_allowed(cfg->log_text);
	if (cfg->log_text)
		hb_log(HB_LOG_WARN, "startup", "warning=\"log_text is on: message "
			"text will be logged; never use this in production\"");
	if (!paths->content_dir)
		paths->content_dir = cfg->content_dir;
	if (!paths->intents_dir)
		paths->intents_dir = cfg->intents_dir;
	if (!paths->emergency_number)
		paths->emergency_number = cfg->emergency_number;
	if (!paths->crisis_number)
		paths->crisis_number = cfg->crisis_number;
	if (!paths->locale)
		paths->locale = cfg->locale;

	for (size_t i = 0; hb_channels[i]; i++) {
		const struct hb_channel *ch = hb_channels[i];
		const cJSON *section = cJSON_GetObjectItemCaseSensitive(cfg->root,
				ch->name);
		if (!ch->check(section))
			return 1;
	}
	if (!(app.engine = hb_cli_load(paths)))
		return 1;
	if (!(app.loop = hb_loop_create()))
		goto out;
	for (size_t i = 0; hb_channels[i] && i < 8; i++) {
		const struct hb_channel *ch = hb_channels[i];
		const cJSON *section = cJSON_GetObjectItemCaseSensitive(cfg->root,
				ch->name);
		if (widget_only && strcmp(ch->name, "widget") != 0)
			continue;
		if (!section && !ch->default_enabled)
			continue;
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(section, "enabled");
		if (cJSON_IsFalse(en))
			continue;
		if (!(instances[i] = ch->create(&app, section, ov)))
			goto out;
		started++;
	}
	if (started == 0) {
		fprintf(stderr, "healthbot: no channel is enabled in the config\n");
		goto out;
	}
	hb_log(HB_LOG_INFO, "startup", "channels=%zu articles=%zu", started,
		hb_engine_article_count(app.engine));
	rc = hb_loop_run(app.loop);
	if (rc < 0)
		rc = 1;
	hb_log(HB_LOG_INFO, "shutdown", "rc=%d", rc);
out:
	for (size_t i = 8; i-- > 0;) {
		if (instances[i])
			hb_channels[i]->destroy(instances[i]);
	}
	hb_loop_destroy(app.loop);
	hb_engine_destroy(app.engine);
	return rc;
}

int hb_cmd_serve(int argc, char **argv)
{
	struct hb_cli_paths paths = {0};
	struct hb_run_overrides ov = {0};
	const char *config = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage_serve(stdout);
			return 0;
		} else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc) {
			ov.bind = argv[++i];
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			char *end;
			long port = strtol(argv[++i], &end, 10);
			if (*end || port < 0 || port > 65535) {
				fprintf(stderr, "healthbot serve: bad port %s\n", argv[i]);
				return 2;
			}
			ov.port = (int)port;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (!hb_cli_path_option(&paths, argc, argv, &i)) {
			fprintf(stderr, "healthbot serve: unknown option %s\n", argv[i]);
			usage_serve(stderr);
			return 2;
		}
	}
	struct hb_config *cfg = hb_config_create(config);
	if (!cfg)
		return 1;
	int rc = run(cfg, &paths, &ov, true);
	hb_config_destroy(cfg);
	return rc;
}

int hb_cmd_run(int argc, char **argv)
{
	struct hb_cli_paths paths = {0};
	struct hb_run_overrides ov = {0};
	const char *config = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage_run(stdout);
			return 0;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (!hb_cli_path_option(&paths, argc, argv, &i)) {
			fprintf(stderr, "healthbot run: unknown option %s\n", argv[i]);
			usage_run(stderr);
			return 2;
		}
	}
	if (!config) {
		usage_run(stderr);
		return 2;
	}
	struct hb_config *cfg = hb_config_create(config);
	if (!cfg)
		return 1;
	int rc = run(cfg, &paths, &ov, false);
	hb_config_destroy(cfg);
	return rc;
}
