#ifndef HB_MX_COMMAND_H
#define HB_MX_COMMAND_H

#include <stdbool.h>

#include "healthbot.h"

/*
 * Staff quick reference, for text that followed the command prefix:
 * "help" (or nothing), "topics", "<topic> <section>". Anything else is a
 * question for the engine and returns false with *out untouched.
 * On true, *out holds the reply (free with hb_reply_finish()) and *name
 * the command's name for logs.
 */
bool hb_mx_command_run(const struct hb_engine *engine, const char *prefix,
		const char *args, struct hb_reply *out, const char **name);

#endif
