#ifndef HB_CONFIG_H
#define HB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

struct cJSON;

/*
 * The JSON config file. Top-level keys are checked here; each channel
 * section ("widget", "relay", "matrix") is checked by its own module's
 * parser, so a channel's keys are documented and validated in one place.
 * Errors name the key path ("matrix.homeserver") and what is wrong.
 */
struct hb_config {
	char *path;
	char *content_dir;
	char *intents_dir;
	char *emergency_number;
	char *crisis_number;
	char *locale;
	enum hb_log_level log_level;
	bool log_text; /* development only: warns at start-up */
	long drain_timeout; /* seconds SIGTERM waits for replies in flight */
	struct cJSON *root;
	const struct cJSON *widget; /* NULL when absent */
	const struct cJSON *relay;
	const struct cJSON *matrix;
};

/* path NULL: the embedded defaults (widget on 127.0.0.1:8080). */
struct hb_config *hb_config_create(const char *path);
void hb_config_destroy(struct hb_config *config);
/* A section is present and its "enabled" is not false. */
bool hb_config_section_enabled(const struct hb_config *config,
		const char *name);

/*
 * Every module's config error: logs it and prints "healthbot: config:
 * SECTION.KEY: problem" to stderr. section "" (or NULL) is the top level;
 * key may be NULL (the section itself) or say where in a list it is
 * ("allowed_origins[2]").
 */
void hb_config_error(const char *section, const char *key, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));

/* Helpers for channel parsers: each reports through hb_config_error(). */
bool hb_config_check_keys(const struct cJSON *obj, const char *section,
		const char *const *allowed);
bool hb_config_string(const struct cJSON *obj, const char *section,
		const char *key, bool required, char **out);
bool hb_config_int(const struct cJSON *obj, const char *section,
		const char *key, long min, long max, long *out);
bool hb_config_bool(const struct cJSON *obj, const char *section,
		const char *key, bool *out);
/* A list of strings; *out is NULL-terminated. */
bool hb_config_strings(const struct cJSON *obj, const char *section,
		const char *key, char ***out, size_t *n);
void hb_config_free_strings(char **list, size_t n);
/* Reads a secret (token) from a file, trimming the trailing newline;
 * never logs its content. */
bool hb_config_read_secret(const char *path, const char *what, char **out);

#endif
