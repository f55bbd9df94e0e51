#ifndef HB_BUF_H
#define HB_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* A growable byte string, always NUL-terminated once anything is added. */
struct hb_buf {
	char *data;
	size_t len;
	size_t cap;
	bool oom; /* sticky: one check at the end instead of one per append */
};

void hb_buf_init(struct hb_buf *buf);
void hb_buf_finish(struct hb_buf *buf);
void hb_buf_reset(struct hb_buf *buf);
bool hb_buf_reserve(struct hb_buf *buf, size_t extra);
void hb_buf_append(struct hb_buf *buf, const char *s, size_t len);
void hb_buf_puts(struct hb_buf *buf, const char *s);
void hb_buf_putc(struct hb_buf *buf, char c);
void hb_buf_printf(struct hb_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " and ' escaped for HTML text and attributes. */
void hb_buf_html(struct hb_buf *buf, const char *s, size_t len);
/* Plain text as HTML, a paragraph per line: each non-empty line of
 * s[0..len) escaped in <p>...</p>, the paragraphs separated by a newline
 * (none after the last). */
void hb_buf_html_paragraphs(struct hb_buf *buf, const char *s, size_t len);
/* Hands the string to the caller (never NULL unless out of memory). */
char *hb_buf_steal(struct hb_buf *buf);

#endif
