#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#ifndef HB_DATADIR
#define HB_DATADIR "/usr/share/healthbot"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: healthbot COMMAND [OPTIONS]\n"
		"\n"
		"Answers health questions with passages from a trusted article library.\n"
		"\n"
		"commands:\n"
		"  ask [--json] [--explain] MESSAGE...   answer one message (- reads lines from stdin)\n"
		"  chat                                  talk to the bot in the terminal\n"
		"  check                                 validate content and intents, run tests/utterances.tsv\n"
		"  serve [--bind ADDR] [--port N]        serve the patient-portal chat widget\n"
		"  run --config FILE                     run every channel the config enables\n"
		"  help                                  this text\n"
		"  version                               print the version\n"
		"\n"
		"Run `healthbot COMMAND --help` for the options of a command.\n");
}

static bool is_dir(const char *path)
{
	return access(path, R_OK | X_OK) == 0;
}

bool hb_cli_path_option(struct hb_cli_paths *p, int argc, char **argv, int *i)
{
	static const struct { const char *name; size_t off; } opts[] = {
		{ "--content", offsetof(struct hb_cli_paths, content_dir) },
		{ "--intents", offsetof(struct hb_cli_paths, intents_dir) },
		{ "--extra-content", offsetof(struct hb_cli_paths, extra_content_dir) },
		{ "--emergency-number", offsetof(struct hb_cli_paths, emergency_number) },
		{ "--crisis-number", offsetof(struct hb_cli_paths, crisis_number) },
		{ "--locale", offsetof(struct hb_cli_paths, locale) },
	};
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		size_t n = strlen(opts[k].name);
		const char *arg = argv[*i];
		const char *value = NULL;
		if (strncmp(arg, opts[k].name, n) != 0)
			continue;
		if (arg[n] == '=') {
			value = arg + n + 1;
		} else if (arg[n] == '\0' && *i + 1 < argc) {
			value = argv[++*i];
		} else {
			continue;
		}
		*(const char **)((char *)p + opts[k].off) = value;
		return true;
	}
	return false;
}

struct hb_engine *hb_cli_load_quiet(const struct hb_cli_paths *p,
		struct hb_error *err)
{
	/* from a checkout, the checkout's data; installed, the installed data */
	bool local = is_dir("content") && is_dir("intents");
	struct hb_engine_options opts = {
		.content_dir = p->content_dir ? p->content_dir :
			local ? "content" : HB_DATADIR "/content",
		.intents_dir = p->intents_dir ? p->intents_dir :
			local ? "intents" : HB_DATADIR "/intents",
		.extra_content_dir = p->extra_content_dir,
		.emergency_number = p->emergency_number,
		.crisis_number = p->crisis_number,
		.locale = p->locale,
		/* set by the valgrind test setup: JIT code confuses memcheck */
		.no_jit = getenv("HEALTHBOT_NO_JIT") != NULL,
	};
	return hb_engine_create(&opts, err);
}

struct hb_engine *hb_cli_load(const struct hb_cli_paths *p)
{
	struct hb_error err;
	struct hb_engine *e = hb_cli_load_quiet(p, &err);
	if (!e) {
		fprintf(stderr, "healthbot: cannot load the library: %s", err.file);
		if (err.line)
			fprintf(stderr, ":%d", err.line);
		if (err.column)
			fprintf(stderr, ":%d", err.column);
		if (err.entry[0])
			fprintf(stderr, ": %s", err.entry);
		fprintf(stderr, ": %s\n", err.message);
	}
	return e;
}

int64_t hb_cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "ask", hb_cmd_ask },
		{ "chat", hb_cmd_chat },
		{ "check", hb_cmd_check },
		{ "serve", hb_cmd_serve },
		{ "run", hb_cmd_run },
	};
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
			strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("healthbot %s\n", HB_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "healthbot: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return 2;
}
