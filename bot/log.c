#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum hb_log_level max_level = HB_LOG_INFO;
static bool text_allowed;

static const char *const names[] = {
	[HB_LOG_ERROR] = "error",
	[HB_LOG_WARN] = "warn",
	[HB_LOG_INFO] = "info",
	[HB_LOG_DEBUG] = "debug",
};

void hb_log_init(enum hb_log_level level)
{
	max_level = level;
}

bool hb_log_parse_level(const char *s, enum hb_log_level *level)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*level = (enum hb_log_level)i;
			return true;
		}
	}
	return false;
}

bool hb_log_enabled(enum hb_log_level level)
{
	return level <= max_level;
}

void hb_log(enum hb_log_level level, const char *event, const char *fields, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	if (level > max_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ level=%s event=%s",
		ts.tv_nsec / 1000000, names[level], event);
	if (fields && *fields && n < sizeof(line) - 2) {
		va_list ap;
		line[n++] = ' ';
		va_start(ap, fields);
		vsnprintf(line + n, sizeof(line) - n, fields, ap);
		va_end(ap);
	}
	/* one write per line so concurrent writers never interleave */
	fprintf(stderr, "%s\n", line);
}

const char *hb_log_quote(const char *value, char *buf, unsigned size)
{
	unsigned o = 0;
	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = value ? value : ""; *p && o + 3 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			continue;
		if (c == '"' || c == '\\')
			buf[o++] = '\\';
		buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void hb_log_set_text_allowed(bool allowed)
{
	text_allowed = allowed;
}

bool hb_log_text_allowed(void)
{
	return text_allowed;
}
