#ifndef HB_ARTICLE_H
#define HB_ARTICLE_H

#include <stdbool.h>
#include <stdint.h>

struct hb_article;

/* "02-Mar-2023" -> days since 1970-01-01, or -1. */
int64_t hb_article_parse_date(const char *s);
bool hb_article_add_topic(struct hb_article *article, const char *name);

#endif
