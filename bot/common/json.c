#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

/* ---- canonical JSON (Matrix signatures) ---- */

static bool canonical(struct hb_buf *out, const cJSON *v, int depth);

static int by_key(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

static void canonical_string(struct hb_buf *out, const char *s)
{
	hb_buf_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': hb_buf_puts(out, "\\\""); break;
		case '\\': hb_buf_puts(out, "\\\\"); break;
		case '\b': hb_buf_puts(out, "\\b"); break;
		case '\f': hb_buf_puts(out, "\\f"); break;
		case '\n': hb_buf_puts(out, "\\n"); break;
		case '\r': hb_buf_puts(out, "\\r"); break;
		case '\t': hb_buf_puts(out, "\\t"); break;
		default:
			if (*p < 0x20)
				hb_buf_printf(out, "\\u%04x", *p);
			else
				hb_buf_putc(out, (char)*p);
		}
	}
	hb_buf_putc(out, '"');
}

static bool canonical_object(struct hb_buf *out, const cJSON *v, int depth)
{
	size_t n = 0, i = 0;
	const cJSON *it;
	bool ok = true;
	cJSON_ArrayForEach(it, v)
		n++;
	const cJSON **items = n ? malloc(n * sizeof(*items)) : NULL;
	if (n && !items)
		return false;
	cJSON_ArrayForEach(it, v) {
		if (!it->string)
			ok = false;
		items[i++] = it;
	}
	if (ok && n)
		qsort(items, n, sizeof(*items), by_key);
	hb_buf_putc(out, '{');
	for (i = 0; ok && i < n; i++) {
		/* a key twice would make the signature depend on which one a
		 * reader keeps */
		if (i && strcmp(items[i - 1]->string, items[i]->string) == 0)
			ok = false;
		if (i)
			hb_buf_putc(out, ',');
		canonical_string(out, items[i]->string);
		hb_buf_putc(out, ':');
		ok = ok && canonical(out, items[i], depth + 1);
	}
	hb_buf_putc(out, '}');
	free(items);
	return ok;
}

static bool canonical(struct hb_buf *out, const cJSON *v, int depth)
{
	const double max = 9007199254740991.0; /* 2^53 - 1 */
	if (depth > CJSON_NESTING_LIMIT)
		return false;
	if (cJSON_IsObject(v))
		return canonical_object(out, v, depth);
	if (cJSON_IsArray(v)) {
		const cJSON *it;
		bool ok = true;
		hb_buf_putc(out, '[');
		cJSON_ArrayForEach(it, v) {
			if (it != v->child)
				hb_buf_putc(out, ',');
			ok = ok && canonical(out, it, depth + 1);
		}
		hb_buf_putc(out, ']');
		return ok;
	}
	if (cJSON_IsString(v)) {
		canonical_string(out, v->valuestring);
		return true;
	}
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (!(d >= -max && d <= max) || d != (double)(long long)d)
			return false;
		hb_buf_printf(out, "%lld", (long long)d);
		return true;
	}
	if (cJSON_IsTrue(v))
		hb_buf_puts(out, "true");
	else if (cJSON_IsFalse(v))
		hb_buf_puts(out, "false");
	else if (cJSON_IsNull(v))
		hb_buf_puts(out, "null");
	else
		return false;
	return true;
}

char *hb_json_canonical(const cJSON *value)
{
	struct hb_buf out;
	hb_buf_init(&out);
	if (!value || !canonical(&out, value, 0) || out.oom) {
		hb_buf_finish(&out);
		return NULL;
	}
	return hb_buf_steal(&out);
}
