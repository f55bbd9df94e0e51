#ifndef HB_TEST_CHECK_H
#define HB_TEST_CHECK_H

/*
 * Invariants of the engine's output, shared by the fuzz targets
 * (tests/fuzz) and the hostile-input runner (tests/hostile). Each returns
 * false with the reason in why[size].
 */
#include <stdbool.h>
#include <stddef.h>

#include "healthbot.h"

/*
 * Every reply: a valid kind and severity, text and html present, text
 * valid UTF-8, html made only of the engine's own tags (nothing from the
 * message or the data can become markup), an escalation carrying the
 * emergency number (and a crisis the crisis line), an answer its source
 * and date.
 */
bool hb_check_reply(const struct hb_reply *r, const char *emergency,
		const char *crisis, char *why, size_t size);

/* True when html holds only the engine's own markup. */
bool hb_check_markup(const char *html, char *why, size_t size);

/*
 * The prefilter may only skip patterns that cannot match: classifying the
 * message with it and with every pattern run must give the same red flag,
 * lexicon rewrite, intent, small talk and topic.
 */
bool hb_check_prefilter(const struct hb_engine *e, const char *msg,
		size_t len, char *why, size_t size);

#endif
