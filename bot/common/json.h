#ifndef HB_JSON_H
#define HB_JSON_H

#include <stddef.h>

struct cJSON;

/* Where and why a JSON text was refused. */
struct hb_json_error {
	int line;            /* 1-based */
	int column;          /* 1-based, in bytes */
	size_t offset;       /* bytes before the problem */
	const char *message; /* static: "invalid JSON", "trailing data", ... */
};

/*
 * The one strict JSON parse for every file, frame and response: exactly
 * one value filling data[0..len) (no NUL terminator needed), with only
 * JSON white space (space, tab, CR, LF) around it. Refuses trailing data,
 * invalid UTF-8, raw control characters, and nesting deeper than cJSON's
 * limit, with the line and column of the problem in *err (may be NULL).
 *
 * An escaped NUL (\u0000) inside a string is read as a space: cJSON would
 * decode it to a NUL that ends its C string, so "I can't\u0000breathe"
 * would arrive as "I can't".
 *
 * Returns the value (free with cJSON_Delete()) or NULL (out of memory
 * too: message "out of memory").
 */
struct cJSON *hb_json_parse(const char *data, size_t len,
		struct hb_json_error *err);

/*
 * Canonical JSON as Matrix signs it (spec: Appendices, Canonical JSON):
 * object keys sorted by code point (UTF-8 byte order), no white space,
 * strings with only the escapes JSON requires (\" \\ and control
 * characters, those with short forms as \b \f \n \r \t, others as
 * \u00xx), everything else raw UTF-8; numbers must be integers in
 * [-(2^53)+1, 2^53-1]. Returns text to free, or NULL when the value
 * cannot be written canonically (a fraction, a huge number) or on OOM.
 */
char *hb_json_canonical(const struct cJSON *value);

#endif
