#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * What cJSON lets through and strict JSON does not (raw control
 * characters, which cJSON takes for white space outside strings and
 * copies inside them; invalid UTF-8), and where the \u0000 escapes are.
 * Returns the offset of the first such problem (len when none) and sets
 * *why; *nul_escapes tells whether a copy must be made.
 */
static size_t prescan(const char *data, size_t len, const char **why,
		bool *nul_escapes)
{
	const unsigned char *p = (const unsigned char *)data;
	bool in_string = false;
	unsigned depth = 0;
	size_t i = 0;
	*nul_escapes = false;
	/* cJSON skips a byte-order mark, and so did every caller before */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		unsigned char c = p[i];
		if (c >= 0x80) {
			unsigned cp;
			size_t n = hb_utf8_decode(p + i, len - i, &cp);
			if (!n) {
				*why = "invalid UTF-8";
				return i;
			}
			i += n;
			continue;
		}
		if (in_string) {
			if (c == '"') {
				in_string = false;
			} else if (c == '\\') {
				if (len - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0)
					*nul_escapes = true;
				/* the escaped character: "\\u0000" is a backslash
				 * and text, not a NUL */
				if (i + 1 < len && p[i + 1] < 0x80)
					i++;
			} else if (c < 0x20) {
				*why = "control character in a string";
				return i;
			}
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > CJSON_NESTING_LIMIT) {
				*why = "nested too deeply";
				return i;
			}
		} else if (c == ']' || c == '}') {
			if (depth)
				depth--;
		} else if ((c < 0x20 && !json_space((char)c)) || c == 0x7f) {
			*why = "control character";
			return i;
		}
		i++;
	}
	return len;
}

/* "\u0000" made "\u0020" (a copy; offsets unchanged). */
static char *nul_escapes_to_spaces(const char *data, size_t len)
{
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	memcpy(copy, data, len);
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (!in_string) {
			in_string = copy[i] == '"';
		} else if (copy[i] == '"') {
			in_string = false;
		} else if (copy[i] == '\\') {
			if (len - i >= 6 && memcmp(copy + i + 1, "u0000", 5) == 0)
				copy[i + 4] = '2';
			i++;
		}
	}
	return copy;
}

static void fail(struct hb_json_error *err, const char *data, size_t at,
		const char *why)
{
	if (!err)
		return;
	err->offset = at;
	err->message = why;
	err->line = 1;
	err->column = 1;
	for (size_t i = 0; i < at; i++) {
		if (data[i] == '\n') {
			err->line++;
			err->column = 1;
		} else {
			err->column++;
		}
	}
}

cJSON *hb_json_parse(const char *data, size_t len, struct hb_json_error *err)
{
	const char *why = NULL;
	bool nul_escapes;
	size_t bad = prescan(data, len, &why, &nul_escapes);
	char *copy = NULL;
	const char *text = data;
	const char *end = NULL;
	if (bad == len && nul_escapes) {
		if (!(copy = nul_escapes_to_spaces(data, len))) {
			fail(err, data, 0, "out of memory");
			return NULL;
		}
		text = copy;
	}
	/* cJSON's require_null_terminated counts the end of a length-bounded
	 * buffer as garbage, so trailing data is checked here instead */
	cJSON *root = len ? cJSON_ParseWithLengthOpts(text, len, &end, 0) : NULL;
	size_t at = end ? (size_t)(end - text) : 0;
	free(copy);
	if (!root) {
		size_t blank = 0;
		while (blank < len && json_space(data[blank]))
			blank++;
		if (blank == len) {
			fail(err, data, len, "no JSON value");
			return NULL;
		}
		/* the first problem wins: cJSON reads past what strict JSON
		 * refuses, and stops early on plain syntax errors; at the same
		 * place, the prescan's reason is the more precise */
		if (bad <= at)
			fail(err, data, bad, why);
		else
			fail(err, data, at, "invalid JSON");
		return NULL;
	}
	while (at < len && json_space(data[at]))
		at++;
	if (at < len && at <= bad) {
		cJSON_Delete(root);
		fail(err, data, at, "trailing data");
		return NULL;
	}
	if (bad < len) {
		cJSON_Delete(root);
		fail(err, data, bad, why);
		return NULL;
	}
	return root;
}
