#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "json.h"

#define MAX_CONFIG_BYTES (1024 * 1024)


void hb_config_error(const char *section, const char *key, const char *fmt,
		...)
{
	char path[256];
	char what[256];
	char q[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s%s%s", section ? section : "",
		section && *section && key ? "." : "", key ? key : "");
	hb_log(HB_LOG_ERROR, "config", "key=%s error=%s",
		path[0] ? path : "(top level)", hb_log_quote(what, q, sizeof(q)));
	fprintf(stderr, "healthbot: config: %s: %s\n", path[0] ? path : "(top level)",
		what);
}

bool hb_config_check_keys(const cJSON *obj, const char *section,
		const char *const *allowed)
{
	const cJSON *it;
	if (!cJSON_IsObject(obj)) {
		hb_config_error(section, NULL, "must be an object");
		return false;
	}
	cJSON_ArrayForEach(it, obj) {
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(it->string, allowed[i]) == 0;
		if (!ok) {
			hb_config_error(section, it->string, "unknown key");
			return false;
		}
	}
	return true;
}

bool hb_config_string(const cJSON *obj, const char *section, const char *key,
		bool required, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v) {
		if (required) {
			hb_config_error(section, key, "is required");
			return false;
		}
		return true;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0]) {
		hb_config_error(section, key, "must be a non-empty string");
		return false;
	}
	char *s = strdup(v->valuestring);
	if (!s)
		return false;
	free(*out);
	*out = s;
	return true;
}

bool hb_config_int(const cJSON *obj, const char *section, const char *key,
		long min, long max, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return true;
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble ||
			v->valuedouble < (double)min || v->valuedouble > (double)max) {
		hb_config_error(section, key, "must be a whole number from %ld to %ld",
			min, max);
		return false;
	}
	*out = (long)v->valuedouble;
	return true;
}

bool hb_config_bool(const cJSON *obj, const char *section, const char *key,
		bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return true;
	if (!cJSON_IsBool(v)) {
		hb_config_error(section, key, "must be true or false");
		return false;
	}
	*out = cJSON_IsTrue(v);
	return true;
}

void hb_config_free_strings(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

bool hb_config_strings(const cJSON *obj, const char *section, const char *key,
		char ***out, size_t *n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const cJSON *it;
	if (!v)
		return true;
	if (!cJSON_IsArray(v)) {
		hb_config_error(section, key, "must be a list of strings");
		return false;
	}
	size_t count = (size_t)cJSON_GetArraySize(v);
	char **list = calloc(count + 1, sizeof(*list));
	size_t i = 0;
	if (!list)
		return false;
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || !it->valuestring[0] ||
				!(list[i] = strdup(it->valuestring))) {
			hb_config_error(section, key,
				"must be a list of non-empty strings");
			hb_config_free_strings(list, i);
			return false;
		}
		i++;
	}
	hb_config_free_strings(*out, *n);
	*out = list;
	*n = count;
	return true;
}

bool hb_config_read_secret(const char *path, const char *what, char **out)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;
	if (!f) {
		fprintf(stderr, "healthbot: cannot read the %s file %s: %s\n", what,
			path, strerror(errno));
		hb_log(HB_LOG_ERROR, "config", "error=\"cannot read %s file\" errno=%d",
			what, errno);
		return false;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0 || strpbrk(buf, "\r\n")) {
		fprintf(stderr, "healthbot: the %s file %s must hold one line\n", what,
			path);
		return false;
	}
	*out = strdup(buf);
	/* the secret must not linger on the stack */
	memset(buf, 0, sizeof(buf));
	return *out != NULL;
}

struct hb_config *hb_config_create(const char *path)
{
	static const char *const keys[] = { "content_dir", "intents_dir",
		"emergency_number", "crisis_number", "locale", "log_level", "log_text",
		"drain_timeout", "widget", "relay", "matrix", "metrics", NULL };
	struct hb_config *c = calloc(1, sizeof(*c));
	char *data = NULL;
	if (!c)
		return NULL;
	c->log_level = HB_LOG_INFO;
	c->drain_timeout = 5;
	if (!path)
		return c;
	if (!(c->path = strdup(path)))
		goto fail;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		char q[600];
		fprintf(stderr, "healthbot: cannot open config %s: %s\n", path,
			strerror(e));
		hb_log(HB_LOG_ERROR, "config", "file=%s error=\"cannot open\" "
			"errno=%d", hb_log_quote(path, q, sizeof(q)), e);
		goto fail;
	}
	data = malloc(MAX_CONFIG_BYTES + 1);
	size_t n = data ? fread(data, 1, MAX_CONFIG_BYTES + 1, f) : 0;
	fclose(f);
	if (!data || n > MAX_CONFIG_BYTES) {
		fprintf(stderr, "healthbot: config %s: too large\n", path);
		hb_log(HB_LOG_ERROR, "config", "error=\"too large\"");
		goto fail;
	}
	struct hb_json_error jerr;
	c->root = hb_json_parse(data, n, &jerr);
	if (!c->root) {
		char q[600], m[100];
		fprintf(stderr, "healthbot: config %s:%d:%d: %s\n", path, jerr.line,
			jerr.column, jerr.message);
		hb_log(HB_LOG_ERROR, "config", "file=%s line=%d column=%d error=%s",
			hb_log_quote(path, q, sizeof(q)), jerr.line, jerr.column,
			hb_log_quote(jerr.message, m, sizeof(m)));
		goto fail;
	}
	if (!hb_config_check_keys(c->root, "", keys) ||
			!hb_config_string(c->root, "", "content_dir", false, &c->content_dir) ||
			!hb_config_string(c->root, "", "intents_dir", false, &c->intents_dir) ||
			!hb_config_string(c->root, "", "emergency_number", false,
				&c->emergency_number) ||
			!hb_config_string(c->root, "", "crisis_number", false,
				&c->crisis_number) ||
			!hb_config_string(c->root, "", "locale", false, &c->locale) ||
			!hb_config_bool(c->root, "", "log_text", &c->log_text) ||
			!hb_config_int(c->root, "", "drain_timeout", 1, 60,
				&c->drain_timeout))
		goto fail;
	const cJSON *lvl = cJSON_GetObjectItemCaseSensitive(c->root, "log_level");
	if (lvl && (!cJSON_IsString(lvl) ||
			!hb_log_parse_level(lvl->valuestring, &c->log_level))) {
		hb_config_error("", "log_level",
			"must be one of error, warn, info, debug");
		goto fail;
	}
	c->widget = cJSON_GetObjectItemCaseSensitive(c->root, "widget");
	c->relay = cJSON_GetObjectItemCaseSensitive(c->root, "relay");
	c->matrix = cJSON_GetObjectItemCaseSensitive(c->root, "matrix");
	free(data);
	return c;
fail:
	free(data);
	hb_config_destroy(c);
	return NULL;
}

bool hb_config_section_enabled(const struct hb_config *c, const char *name)
{
	const cJSON *s = c ? cJSON_GetObjectItemCaseSensitive(c->root, name) : NULL;
	return s && !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "enabled"));
}

void hb_config_destroy(struct hb_config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->content_dir);
	free(c->intents_dir);
	free(c->emergency_number);
	free(c->crisis_number);
	free(c->locale);
	cJSON_Delete(c->root);
	free(c);
}
