#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void hb_buf_init(struct hb_buf *buf)
{
	*buf = (struct hb_buf){0};
}

void hb_buf_finish(struct hb_buf *buf)
{
	free(buf->data);
	hb_buf_init(buf);
}

void hb_buf_reset(struct hb_buf *buf)
{
	buf->len = 0;
	buf->oom = false;
	if (buf->data)
		buf->data[0] = '\0';
}

bool hb_buf_reserve(struct hb_buf *buf, size_t extra)
{
	if (buf->oom)
		return false;
	if (buf->len + extra + 1 <= buf->cap)
		return true;
	size_t cap = buf->cap ? buf->cap : 64;
	while (cap < buf->len + extra + 1) {
		if (cap > ((size_t)-1) / 2) {
			buf->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *data = realloc(buf->data, cap);
	if (!data) {
		buf->oom = true;
		return false;
	}
	buf->data = data;
	buf->cap = cap;
	return true;
}

void hb_buf_append(struct hb_buf *buf, const char *s, size_t len)
{
	if (!hb_buf_reserve(buf, len))
		return;
	if (len)
		memcpy(buf->data + buf->len, s, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void hb_buf_puts(struct hb_buf *buf, const char *s)
{
	hb_buf_append(buf, s, strlen(s));
}

void hb_buf_putc(struct hb_buf *buf, char c)
{
	hb_buf_append(buf, &c, 1);
}

void hb_buf_printf(struct hb_buf *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !hb_buf_reserve(buf, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t)n;
}

void hb_buf_html(struct hb_buf *buf, const char *s, size_t len)
{
	static const char *const rep[256] = {
		['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
		['"'] = "&quot;", ['\''] = "&#39;",
	};
	size_t start = 0;
	hb_buf_reserve(buf, len + len / 8);
	for (size_t i = 0; i < len; i++) {
		const char *r = rep[(unsigned char)s[i]];
		if (!r)
			continue;
		hb_buf_append(buf, s + start, i - start);
		hb_buf_append(buf, r, strlen(r));
		start = i + 1;
	}
	hb_buf_append(buf, s + start, len - start);
}

void hb_buf_html_paragraphs(struct hb_buf *buf, const char *s, size_t len)
{
	bool first = true;
	for (size_t i = 0; i < len;) {
		size_t n = 0;
		while (i + n < len && s[i + n] != '\n')
			n++;
		if (n) {
			hb_buf_puts(buf, first ? "<p>" : "\n<p>");
			hb_buf_html(buf, s + i, n);
			hb_buf_puts(buf, "</p>");
			first = false;
		}
		i += n + 1;
	}
}

char *hb_buf_steal(struct hb_buf *buf)
{
	char *s;
	if (buf->oom) {
		hb_buf_finish(buf);
		return NULL;
	}
	s = buf->data ? buf->data : strdup("");
	hb_buf_init(buf);
	return s;
}
