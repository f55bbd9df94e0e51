#ifndef HB_CLI_H
#define HB_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "healthbot.h"

/* Options every subcommand that loads the library understands. */
struct hb_cli_paths {
	const char *content_dir;
	const char *intents_dir;
	const char *extra_content_dir;
	const char *emergency_number;
	const char *crisis_number;
	const char *locale;
};

/* Consumes --content/--intents/--extra-content/--emergency-number/
 * --crisis-number at argv[*i]; true when it took one. */
bool hb_cli_path_option(struct hb_cli_paths *paths, int argc, char **argv,
		int *i);
/* Loads the engine, printing a precise error on failure. */
struct hb_engine *hb_cli_load(const struct hb_cli_paths *paths);
/* The same, leaving the error in *err for the caller to report. */
struct hb_engine *hb_cli_load_quiet(const struct hb_cli_paths *paths,
		struct hb_error *err);
int64_t hb_cli_now(void);

int hb_cmd_ask(int argc, char **argv);
int hb_cmd_chat(int argc, char **argv);
int hb_cmd_check(int argc, char **argv);
int hb_cmd_serve(int argc, char **argv);
int hb_cmd_run(int argc, char **argv);

#endif
