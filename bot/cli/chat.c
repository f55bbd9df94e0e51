/* `healthbot chat`: a conversation in the terminal, with context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int hb_cmd_chat(int argc, char **argv)
{
	struct hb_cli_paths paths = {0};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: healthbot chat [--content DIR] [--intents DIR]\n"
				"                      [--extra-content DIR] [--emergency-number N]\n"
				"                      [--crisis-number N]\n\n"
				"Talk to the bot in the terminal; it remembers the topic of the\n"
				"conversation. End with Ctrl-D or \"quit\".\n");
			return 0;
		}
		if (!hb_cli_path_option(&paths, argc, argv, &i)) {
			fprintf(stderr, "healthbot chat: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	struct hb_engine *e = hb_cli_load(&paths);
	if (!e)
		return 1;
	struct hb_conversations *conv = hb_conversations_create(1, 3600);
	struct hb_reply r;
	bool tty = isatty(STDIN_FILENO);
	int rc = 1;
	if (!conv || !hb_engine_greeting(e, &r))
		goto out;
	printf("healthbot: %s\n\n", r.text);
	hb_reply_finish(&r);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	for (;;) {
		if (tty) {
			fputs("you> ", stdout);
			fflush(stdout);
		}
		if ((n = getline(&line, &cap, stdin)) < 0)
			break;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if ((n == 4 && memcmp(line, "quit", 4) == 0) ||
				(n == 4 && memcmp(line, "exit", 4) == 0))
			break;
		if (!hb_engine_reply(e, conv, "terminal", line, (size_t)n,
				hb_cli_now(), &r)) {
			fprintf(stderr, "healthbot: out of memory\n");
			free(line);
			goto out;
		}
		if (r.kind == HB_REPLY_ESCALATION)
			printf("\n!!! %s\n\n", r.text);
		else
			printf("\nhealthbot: %s\n\n", r.text);
		fflush(stdout);
		hb_reply_finish(&r);
	}
	free(line);
	rc = 0;
out:
	hb_conversations_destroy(conv);
	hb_engine_destroy(e);
	return rc;
}
