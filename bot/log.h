#ifndef HB_LOG_H
#define HB_LOG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One logfmt line per event on stderr, for journald. Callers pass ids,
 * kinds and timings only: chat text and user ids are health information
 * and never belong in a log (see hb_log_text_allowed()). Conversations are
 * named by a salted hash (hb_log_hash()) whose salt is drawn at every
 * process start, so log lines of one run can be tied together and nothing
 * else.
 */
enum hb_log_level {
	/* Audit lines (escalations) are written whatever the level: a
	 * clinical owner counts on them. Not a level log_level accepts. */
	HB_LOG_AUDIT,
	HB_LOG_ERROR,
	HB_LOG_WARN,
	HB_LOG_INFO,
	HB_LOG_DEBUG,
};

void hb_log_init(enum hb_log_level level);
/* "error", "warn", "info" or "debug". */
bool hb_log_parse_level(const char *s, enum hb_log_level *level);
bool hb_log_enabled(enum hb_log_level level);
/* fields: "key=value key2=value2" in printf style; values with spaces
 * must be quoted by the caller with hb_log_quote(). */
void hb_log(enum hb_log_level level, const char *event, const char *fields, ...)
	__attribute__((format(printf, 3, 4)));
/* Quotes a value for logfmt into buf (escaping " and \, dropping control
 * characters). Returns buf. */
const char *hb_log_quote(const char *value, char *buf, unsigned size);

/* 16 hex digits and a NUL. */
#define HB_LOG_HASH_LEN 17
/* A keyed hash (SipHash-2-4, key random per process) of a and b: the same
 * conversation gets the same name in every line of this run, and the name
 * cannot be turned back into the id, even for guessable ids. b may be
 * NULL. */
void hb_log_hash(char out[HB_LOG_HASH_LEN], const char *a, const char *b);

/* Development only: when set, channels may log message text. */
void hb_log_set_text_allowed(bool allowed);
bool hb_log_text_allowed(void);

#endif
