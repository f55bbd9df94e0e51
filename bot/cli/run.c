/* `healthbot serve` and `healthbot run`: the channels in one event loop,
 * reloaded by SIGHUP and drained by SIGTERM or SIGINT. */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "channel.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"

#define MAX_CHANNELS 8

struct runner {
	struct hb_app app;
	/* what the command line set: it wins over the config at start-up
	 * and at every reload */
	struct hb_cli_paths cli;
	const struct hb_run_overrides *ov;
	const char *config_path; /* NULL: no config file (serve) */
	bool widget_only;
	void *instances[MAX_CHANNELS];
};

static void usage_serve(FILE *f)
{
	fprintf(f,
		"usage: healthbot serve [--bind ADDR] [--port N] [--config FILE]\n"
		"                       [--content DIR] [--intents DIR]\n\n"
		"Serves the patient-portal chat widget: a demo page at /, the widget\n"
		"script and stylesheet, the /chat websocket, /healthz, /readyz and\n"
		"/metrics (or, with a metrics section in the config, /metrics on its\n"
		"own address). Default 127.0.0.1:8080. SIGHUP reloads the config,\n"
		"content and intents; SIGTERM and SIGINT finish what is in flight,\n"
		"then exit.\n");
}

static void usage_run(FILE *f)
{
	fprintf(f,
		"usage: healthbot run --config FILE\n\n"
		"Starts every channel the config enables (widget server, portal relay\n"
		"client, Matrix, metrics listener) in one process and one event loop.\n"
		"SIGHUP reloads the config, content and intents; SIGTERM and SIGINT\n"
		"finish what is in flight, then exit.\n");
}

/* The command line's paths, else the config's. */
static struct hb_cli_paths merge(const struct hb_cli_paths *cli,
		const struct hb_config *cfg)
{
	struct hb_cli_paths p = *cli;
	if (!p.content_dir)
		p.content_dir = cfg->content_dir;
	if (!p.intents_dir)
		p.intents_dir = cfg->intents_dir;
	if (!p.emergency_number)
		p.emergency_number = cfg->emergency_number;
	if (!p.crisis_number)
		p.crisis_number = cfg->crisis_number;
	if (!p.locale)
		p.locale = cfg->locale;
	return p;
}

static void apply_logging(const struct hb_config *cfg)
{
	hb_log_init(cfg->log_level);
	hb_log_set_text_allowed(cfg->log_text);
	if (cfg->log_text)
		hb_log(HB_LOG_WARN, "startup", "warning=\"log_text is on: message "
			"text will be logged; never use this in production\"");
}

/* Every channel's section, as `run` would check it at start-up. */
static bool check_sections(const struct hb_config *cfg)
{
	for (size_t i = 0; hb_channels[i]; i++) {
		const struct hb_channel *ch = hb_channels[i];
		if (!ch->check(cJSON_GetObjectItemCaseSensitive(cfg->root, ch->name)))
			return false;
	}
	return true;
}

/* ---- SIGHUP ---- */

static void reload_failed(struct runner *r, const char *file,
		const struct hb_error *err, const char *why)
{
	char qfile[600], qentry[300], qwhy[700];
	/* the file, the place in it and what is wrong: data-file
	 * diagnostics, never chat text */
	hb_log(HB_LOG_ERROR, "reload_failed", "file=%s line=%d column=%d "
		"entry=%s error=%s kept=running", hb_log_quote(file, qfile,
		sizeof(qfile)), err ? err->line : 0, err ? err->column : 0,
		hb_log_quote(err ? err->entry : "", qentry, sizeof(qentry)),
		hb_log_quote(why, qwhy, sizeof(qwhy)));
	hb_metrics_reload(r->app.metrics, false, 0, 0);
}

/* Channel sections take effect when a channel starts: say which changed. */
static void warn_restart_needed(const struct hb_config *old,
		const struct hb_config *fresh)
{
	for (size_t i = 0; hb_channels[i]; i++) {
		const char *name = hb_channels[i]->name;
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(old->root, name);
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(fresh->root, name);
		if ((a || b) && !(a && b && cJSON_Compare(a, b, true)))
			hb_log(HB_LOG_WARN, "reload_restart_needed", "section=%s "
				"warning=\"changed channel settings apply at the next "
				"restart\"", name);
	}
}

/*
 * Config, content and intents, all or nothing: the new config is checked
 * and the new engine built beside the running ones; only when both are
 * good are they swapped in, between two loop callbacks, so the next
 * message uses them and open connections stay open. Channels read
 * app->engine at every message and keep no pointer into it (or into a
 * reply) across callbacks, so the old engine can go at once.
 */
static void reload(void *data)
{
	struct runner *r = data;
	long long t0 = hb_loop_now_us();
	if (hb_loop_draining(r->app.loop) || hb_loop_stopping(r->app.loop)) {
		hb_log(HB_LOG_INFO, "reload_skipped", "reason=stopping");
		return;
	}
	hb_log(HB_LOG_INFO, "reload_begin", NULL);
	struct hb_config *fresh = hb_config_create(r->config_path);
	if (!fresh) {
		/* hb_config_create logged the key or line */
		reload_failed(r, r->config_path, NULL, "config does not load");
		return;
	}
	if (!check_sections(fresh)) {
		reload_failed(r, r->config_path, NULL, "a channel section is "
			"invalid");
		hb_config_destroy(fresh);
		return;
	}
	struct hb_cli_paths paths = merge(&r->cli, fresh);
	struct hb_error err;
	struct hb_engine *engine = hb_cli_load_quiet(&paths, &err);
	if (!engine) {
		reload_failed(r, err.file, &err, err.message);
		hb_config_destroy(fresh);
		return;
	}
	warn_restart_needed(r->app.config, fresh);
	struct hb_engine *old_engine = r->app.engine;
	struct hb_config *old_config = r->app.config;
	r->app.engine = engine;
	r->app.config = fresh;
	hb_engine_destroy(old_engine);
	hb_config_destroy(old_config);
	apply_logging(fresh);
	size_t articles = hb_engine_article_count(engine);
	hb_metrics_reload(r->app.metrics, true, (double)time(NULL), articles);
	hb_log(HB_LOG_INFO, "reload", "articles=%zu ms=%lld", articles,
		(hb_loop_now_us() - t0) / 1000);
}

/* ---- SIGTERM, SIGINT ---- */

static bool all_drained(void *data, bool timed_out)
{
	struct runner *r = data;
	bool done = true;
	for (size_t i = 0; i < MAX_CHANNELS && hb_channels[i]; i++) {
		const struct hb_channel *ch = hb_channels[i];
		if (r->instances[i] && ch->drained &&
				!ch->drained(r->instances[i], timed_out))
			done = false;
	}
	return done;
}

static void stop_gracefully(void *data)
{
	struct runner *r = data;
	if (hb_loop_draining(r->app.loop)) {
		/* asked twice: no more waiting */
		hb_log(HB_LOG_INFO, "stopping", "drain=cut");
		hb_loop_stop(r->app.loop);
		return;
	}
	long timeout_ms = r->app.config->drain_timeout * 1000;
	hb_log(HB_LOG_INFO, "stopping", "drain_timeout_ms=%ld", timeout_ms);
	for (size_t i = 0; i < MAX_CHANNELS && hb_channels[i]; i++) {
		if (r->instances[i] && hb_channels[i]->drain)
			hb_channels[i]->drain(r->instances[i]);
	}
	hb_loop_drain(r->app.loop, timeout_ms, all_drained, r);
}

/* ---- start and stop ---- */

/* Takes cfg. */
static int run(struct hb_config *cfg, const struct hb_cli_paths *cli,
		const struct hb_run_overrides *ov, const char *config_path,
		bool widget_only)
{
	struct runner r = {
		.app = { .config = cfg },
		.cli = *cli,
		.ov = ov,
		.config_path = config_path,
		.widget_only = widget_only,
	};
	size_t started = 0;
	int rc = 1;

	apply_logging(cfg);
	if (!check_sections(cfg))
		goto out;
	struct hb_cli_paths paths = merge(&r.cli, cfg);
	if (!(r.app.metrics = hb_metrics_create()))
		goto out;
	if (!(r.app.engine = hb_cli_load(&paths)))
		goto out;
	if (!(r.app.loop = hb_loop_create()))
		goto out;
	for (size_t i = 0; hb_channels[i] && i < MAX_CHANNELS; i++) {
		const struct hb_channel *ch = hb_channels[i];
		const cJSON *section = cJSON_GetObjectItemCaseSensitive(cfg->root,
				ch->name);
		/* serve: the widget, and the metrics listener if configured */
		if (widget_only && strcmp(ch->name, "widget") != 0 &&
				strcmp(ch->name, "metrics") != 0)
			continue;
		if (!section && !ch->default_enabled)
			continue;
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(section, "enabled");
		if (cJSON_IsFalse(en))
			continue;
		if (!(r.instances[i] = ch->create(&r.app, section, ov)))
			goto out;
		/* metrics alone answer no one */
		if (strcmp(ch->name, "metrics") != 0)
			started++;
	}
	if (started == 0) {
		fprintf(stderr, "healthbot: no channel is enabled in the config\n");
		goto out;
	}
	if (!hb_loop_on_signal(r.app.loop, SIGHUP, reload, &r) ||
			!hb_loop_on_signal(r.app.loop, SIGTERM, stop_gracefully, &r) ||
			!hb_loop_on_signal(r.app.loop, SIGINT, stop_gracefully, &r))
		goto out;
	size_t articles = hb_engine_article_count(r.app.engine);
	hb_metrics_started(r.app.metrics, (double)time(NULL), articles);
	hb_log(HB_LOG_INFO, "startup", "channels=%zu articles=%zu", started,
		articles);
	rc = hb_loop_run(r.app.loop);
	if (rc < 0)
		rc = 1;
	hb_log(HB_LOG_INFO, "shutdown", "rc=%d", rc);
out:
	for (size_t i = MAX_CHANNELS; i-- > 0;) {
		if (r.instances[i])
			hb_channels[i]->destroy(r.instances[i]);
	}
	hb_loop_destroy(r.app.loop);
	hb_engine_destroy(r.app.engine);
	hb_metrics_destroy(r.app.metrics);
	hb_config_destroy(r.app.config);
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
	return run(cfg, &paths, &ov, config, true);
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
	return run(cfg, &paths, &ov, config, false);
}
