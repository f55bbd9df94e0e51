/*
 * The Health Information Library export format, read as it is exported:
 *
 *   Health Information Library            <- provenance
 *   All the content ... from Mayo Clinic   <- provenance (publisher)
 *   < Back                                 <- end of the page header
 *   Night leg cramps                       <- title
 *   Definition                             <- heading: short, alone, no
 *   Night leg cramps happen ...               closing punctuation
 *   To relieve night leg cramps, try to:   <- lead-in of the list below
 *     • Stretch the leg ...                <- list item
 *   Content Last Updated: 02-Mar-2023
 *   © 1998-2023 Mayo Foundation ...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "article.h"
#include "buf.h"
#include "grow.h"
#include "library.h"
#include "text.h"
#include "utf8.h"
#include "util.h"

#define MAX_ARTICLE_BYTES (4 * 1024 * 1024)

struct line {
	char *s;
	size_t len;
	int no;
};

static char *trim(char *s, size_t *len)
{
	size_t n = *len;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	s[n] = '\0';
	*len = n;
	return s;
}

static const char *bullet_body(const char *s)
{
	static const char *const bullets[] = { "\xe2\x80\xa2", "\xc2\xb7", "- ", "* " };
	for (size_t i = 0; i < sizeof(bullets) / sizeof(bullets[0]); i++) {
		size_t n = strlen(bullets[i]);
		if (strncmp(s, bullets[i], n) == 0) {
			s += n;
			while (*s == ' ' || *s == '\t')
				s++;
			return s;
		}
	}
	return NULL;
}

static bool ends_with_punct(const char *s, size_t len)
{
	if (len == 0)
		return false;
	char c = s[len - 1];
	return c == '.' || c == ':' || c == '?' || c == '!' || c == ';' || c == ',';
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool push_block(struct hb_section *sec, enum hb_block_type type,
		const char *text, int line)
{
	struct hb_block *blocks = hb_grow(sec->blocks, sec->n_blocks,
			sizeof(*blocks));
	if (!blocks)
		return false;
	sec->blocks = blocks;
	struct hb_block *b = &blocks[sec->n_blocks];
	*b = (struct hb_block){ .type = type, .line = line };
	if (text && !(b->text = strdup(text)))
		return false;
	sec->n_blocks++;
	return true;
}

static bool push_item(struct hb_block *b, const char *text)
{
	char **items = hb_grow(b->items, b->n_items, sizeof(*items));
	if (!items)
		return false;
	b->items = items;
	if (!(items[b->n_items] = strdup(text)))
		return false;
	b->n_items++;
	return true;
}

static struct hb_section *push_section(struct hb_article *a, const char *heading,
		int line)
{
	struct hb_section *secs = hb_grow(a->sections, a->n_sections,
			sizeof(*secs));
	if (!secs)
		return NULL;
	a->sections = secs;
	struct hb_section *s = &secs[a->n_sections];
	*s = (struct hb_section){ .line = line };
	if (!(s->heading = strdup(heading)))
		return NULL;
	a->n_sections++;
	return s;
}

static bool push_string(char ***list, size_t *n, const char *s)
{
	char **l = hb_grow(*list, *n, sizeof(*l));
	if (!l)
		return false;
	*list = l;
	if (!(l[*n] = strdup(s)))
		return false;
	(*n)++;
	return true;
}

/* "All the content of the library is provided from Mayo Clinic in English." */
static char *publisher_from(const char *line)
{
	const char *p = strstr(line, "provided from ");
	if (!p)
		p = strstr(line, "provided by ");
	if (!p)
		return NULL;
	p = strchr(p, ' ') + 1;
	p = strchr(p, ' ') + 1;
	const char *end = strstr(p, " in ");
	if (!end)
		end = p + strcspn(p, ".");
	return hb_memdup(p, (size_t)(end - p));
}

static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: exact for the proleptic Gregorian calendar */
	y -= m <= 2;
	const int era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

int64_t hb_article_parse_date(const char *s)
{
	static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
		"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	int d, y;
	char mon[4];
	if (sscanf(s, "%2d-%3[A-Za-z]-%4d", &d, mon, &y) != 3)
		return -1;
	for (unsigned m = 0; m < 12; m++) {
		if (strcasecmp(mon, months[m]) == 0 && d >= 1 && d <= 31)
			return days_from_civil(y, m + 1, (unsigned)d);
	}
	return -1;
}

/* Topic names from "They're also called nocturnal leg cramps." */
static bool add_also_called(struct hb_article *a, const char *text)
{
	static const char *const markers[] = { "also called ", "also known as " };
	for (size_t m = 0; m < 2; m++) {
		const char *p = strstr(text, markers[m]);
		if (!p)
			continue;
		p += strlen(markers[m]);
		size_t n = strcspn(p, ".;()");
		char *names = hb_memdup(p, n);
		if (!names)
			return false;
		/* "A, B or C" -> A | B | C */
		char *save = NULL;
		for (char *tok = strtok_r(names, ",", &save); tok;
				tok = strtok_r(NULL, ",", &save)) {
			char *or = strstr(tok, " or ");
			if (or)
				*or = '\0';
			const char *parts[2] = { tok, or ? or + 4 : NULL };
			for (size_t i = 0; i < 2; i++) {
				if (!parts[i])
					continue;
				const char *s = parts[i];
				while (*s == ' ')
					s++;
				if (strncmp(s, "and ", 4) == 0)
					s += 4;
				if (*s && !hb_article_add_topic(a, s)) {
					free(names);
					return false;
				}
			}
		}
		free(names);
	}
	return true;
}

bool hb_article_add_topic(struct hb_article *a, const char *name)
{
	struct hb_phrase phrase;
	if (!hb_phrase_init(&phrase, name))
		return false;
	if (phrase.n_stems == 0) {
		hb_phrase_finish(&phrase);
		return true;
	}
	for (size_t i = 0; i < a->n_topics; i++) {
		if (strcmp(a->topics[i].name, phrase.name) == 0) {
			hb_phrase_finish(&phrase);
			return true;
		}
	}
	struct hb_phrase *t = hb_grow(a->topics, a->n_topics, sizeof(*t));
	if (!t) {
		hb_phrase_finish(&phrase);
		return false;
	}
	a->topics = t;
	t[a->n_topics++] = phrase;
	return true;
}

/*
 * The parser reads the export line by line in four states: the page
 * header (provenance lines up to "< Back"), the title, the body (headings,
 * paragraphs, lists) and the footer (the date and copyright lines). Each
 * state has its function; it takes a line, or hands it on to the next
 * state (STEP_AGAIN).
 */
enum parse_state { IN_HEADER, IN_TITLE, IN_BODY, IN_FOOTER };

enum step {
	STEP_NEXT,  /* the line is read */
	STEP_AGAIN, /* the state changed: read the same line in the new one */
	STEP_FAIL,  /* a format error, in err */
	STEP_OOM,
};

struct parser {
	struct hb_article *a;
	struct hb_error *err;
	struct line *lines;
	size_t n_lines;
	enum parse_state state;
	bool saw_back;            /* the export has a "< Back" header */
	struct hb_section *sec;   /* the section taking blocks */
	struct hb_block *list;    /* the list still taking items */
};

/* Split first: a heading is known by the blank line after it. */
static bool split_lines(struct parser *p, char *data, size_t size)
{
	for (char *s = data, *end = data + size; s < end;) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		struct line *l = hb_grow(p->lines, p->n_lines, sizeof(*l));
		if (!l)
			return false;
		p->lines = l;
		l[p->n_lines].s = trim(s, &len);
		l[p->n_lines].len = len;
		l[p->n_lines].no = (int)p->n_lines + 1;
		p->n_lines++;
		s = nl ? nl + 1 : end;
	}
	return true;
}

static enum step header_line(struct parser *p, const struct line *l)
{
	if (strcmp(l->s, "< Back") == 0) {
		p->state = IN_TITLE;
		return STEP_NEXT;
	}
	if (!p->saw_back) {
		/* no page header: this is the title */
		p->state = IN_TITLE;
		return STEP_AGAIN;
	}
	if (!p->a->publisher)
		p->a->publisher = publisher_from(l->s);
	return push_string(&p->a->provenance, &p->a->n_provenance, l->s) ?
		STEP_NEXT : STEP_OOM;
}

static enum step title_line(struct parser *p, const struct line *l)
{
	if (!(p->a->title = strdup(l->s)) || !hb_article_add_topic(p->a, l->s))
		return STEP_OOM;
	p->state = IN_BODY;
	return STEP_NEXT;
}

static bool starts_footer(const char *s)
{
	return starts_with(s, "Content Last Updated:") ||
		strncmp(s, "\xc2\xa9", 2) == 0 || starts_with(s, "(c) ") ||
		starts_with(s, "Copyright");
}

/* The date line and copyright lines; nothing else may follow them. */
static enum step footer_line(struct parser *p, const struct line *l)
{
	struct hb_article *a = p->a;
	if (starts_with(l->s, "Content Last Updated:")) {
		const char *d = l->s + strlen("Content Last Updated:");
		/* one date per article: with two, the one replies show
		 * would depend on their order (and the first leaked) */
		if (a->updated) {
			hb_error_set(p->err, a->path, "Content Last Updated", l->no, 1,
				"a second \"Content Last Updated:\" line");
			return STEP_FAIL;
		}
		while (*d == ' ')
			d++;
		if (!(a->updated = strdup(d)))
			return STEP_OOM;
		a->updated_days = hb_article_parse_date(d);
		if (a->updated_days < 0) {
			hb_error_set(p->err, a->path, "Content Last Updated", l->no, 1,
				"unreadable date \"%s\" (expected DD-Mon-YYYY)", d);
			return STEP_FAIL;
		}
		return STEP_NEXT;
	}
	if (starts_footer(l->s)) {
		free(a->copyright);
		return (a->copyright = strdup(l->s)) ? STEP_NEXT : STEP_OOM;
	}
	hb_error_set(p->err, a->path, "", l->no, 1,
		"text after the Content Last Updated line");
	return STEP_FAIL;
}

/* A bullet: the next item of the list being read, or the first of a new
 * one (the paragraph before it becomes its lead-in when it ends in ':'). */
static enum step list_item(struct parser *p, const struct line *l,
		const char *item)
{
	struct hb_section *sec = p->sec;
	if (!sec) {
		hb_error_set(p->err, p->a->path, "", l->no, 1,
			"list item before the first section heading");
		return STEP_FAIL;
	}
	if (!p->list) {
		struct hb_block *prev = sec->n_blocks ?
			&sec->blocks[sec->n_blocks - 1] : NULL;
		if (prev && prev->type == HB_BLOCK_PARAGRAPH &&
				prev->text && prev->text[strlen(prev->text) - 1] == ':') {
			prev->type = HB_BLOCK_LIST;
		} else if (!push_block(sec, HB_BLOCK_LIST, NULL, l->no)) {
			return STEP_OOM;
		}
		p->list = &sec->blocks[sec->n_blocks - 1];
	}
	return !*item || push_item(p->list, item) ? STEP_NEXT : STEP_OOM;
}

/* Line i of the body: a list item, a section heading (short, alone, no
 * closing punctuation) or a paragraph. */
static enum step body_line(struct parser *p, size_t i)
{
	const struct line *l = &p->lines[i];
	if (starts_footer(l->s)) {
		p->state = IN_FOOTER;
		p->list = NULL;
		return STEP_AGAIN;
	}
	const char *item = bullet_body(l->s);
	if (item)
		return list_item(p, l, item);
	p->list = NULL;
	bool alone = (i + 1 >= p->n_lines || p->lines[i + 1].len == 0) &&
		(i == 0 || p->lines[i - 1].len == 0);
	if (alone && l->len <= 80 && !ends_with_punct(l->s, l->len))
		return (p->sec = push_section(p->a, l->s, l->no)) ? STEP_NEXT : STEP_OOM;
	/* an introduction before any heading */
	if (!p->sec && !(p->sec = push_section(p->a, "Overview", l->no)))
		return STEP_OOM;
	if (!push_block(p->sec, HB_BLOCK_PARAGRAPH, l->s, l->no) ||
			!add_also_called(p->a, l->s))
		return STEP_OOM;
	return STEP_NEXT;
}

static enum step read_line(struct parser *p, size_t i)
{
	switch (p->state) {
	case IN_HEADER:
		return header_line(p, &p->lines[i]);
	case IN_TITLE:
		return title_line(p, &p->lines[i]);
	case IN_BODY:
		return body_line(p, i);
	case IN_FOOTER:
		return footer_line(p, &p->lines[i]);
	}
	return STEP_FAIL;
}

/* What a whole article needs, checked once every line is read. */
static enum step check_whole(struct parser *p)
{
	struct hb_article *a = p->a;
	if (!a->title) {
		hb_error_set(p->err, a->path, "", 0, 0, "no title: the file is empty");
		return STEP_FAIL;
	}
	if (a->n_sections == 0) {
		hb_error_set(p->err, a->path, "", 0, 0, "no sections after the title");
		return STEP_FAIL;
	}
	for (size_t i = 0; i < a->n_sections; i++) {
		if (a->sections[i].n_blocks == 0) {
			hb_error_set(p->err, a->path, a->sections[i].heading,
				a->sections[i].line, 1, "section has no text");
			return STEP_FAIL;
		}
	}
	if (!a->updated) {
		hb_error_set(p->err, a->path, "", (int)p->n_lines, 0,
			"no \"Content Last Updated:\" line");
		return STEP_FAIL;
	}
	if (!a->publisher && !(a->publisher = strdup("Health Information Library")))
		return STEP_OOM;
	return STEP_NEXT;
}

static bool parse(struct hb_article *a, char *data, size_t size,
		struct hb_error *err)
{
	struct parser p = {
		.a = a,
		.err = err,
		.state = IN_HEADER,
		.saw_back = strstr(data, "\n< Back") != NULL ||
			strncmp(data, "< Back", 6) == 0,
	};
	enum step st = split_lines(&p, data, size) ? STEP_NEXT : STEP_OOM;
	for (size_t i = 0; i < p.n_lines && st != STEP_FAIL && st != STEP_OOM; i++) {
		if (p.lines[i].len == 0)
			continue;
		while ((st = read_line(&p, i)) == STEP_AGAIN)
			;
	}
	if (st == STEP_NEXT)
		st = check_whole(&p);
	if (st == STEP_OOM)
		hb_error_set(err, a->path, "", 0, 0, "out of memory");
	free(p.lines);
	return st == STEP_NEXT;
}

bool hb_article_load(struct hb_article *a, const char *path, const char *id,
		struct hb_error *err)
{
	char *data = NULL;
	size_t size = 0;
	*a = (struct hb_article){ .updated_days = -1 };
	if (!(a->path = strdup(path)) || !(a->id = strdup(id))) {
		hb_error_set(err, path, "", 0, 0, "out of memory");
		goto fail;
	}
	if (!hb_read_file(path, MAX_ARTICLE_BYTES, &data, &size, err))
		goto fail;
	/* exports are UTF-8 text; refuse anything else with its position */
	for (size_t i = 0, line = 1, col = 1; i < size;) {
		unsigned cp;
		size_t n = data[i] ? hb_utf8_decode((unsigned char *)data + i,
				size - i, &cp) : 0;
		if (n == 0) {
			hb_error_set(err, path, "", (int)line, (int)col,
				data[i] ? "invalid UTF-8" : "NUL byte in text");
			goto fail;
		}
		if (data[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	/* skip a UTF-8 byte order mark */
	char *text = data;
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		size -= 3;
	}
	if (!parse(a, text, size, err))
		goto fail;
	free(data);
	return true;
fail:
	free(data);
	hb_article_finish(a);
	return false;
}

void hb_article_finish(struct hb_article *a)
{
	free(a->id);
	free(a->path);
	free(a->title);
	for (size_t i = 0; i < a->n_provenance; i++)
		free(a->provenance[i]);
	free(a->provenance);
	free(a->publisher);
	free(a->updated);
	free(a->copyright);
	free(a->source_text);
	free(a->source_html);
	for (size_t i = 0; i < a->n_topics; i++)
		hb_phrase_finish(&a->topics[i]);
	free(a->topics);
	for (size_t i = 0; i < a->n_sections; i++) {
		struct hb_section *s = &a->sections[i];
		for (size_t j = 0; j < s->n_blocks; j++) {
			free(s->blocks[j].text);
			for (size_t k = 0; k < s->blocks[j].n_items; k++)
				free(s->blocks[j].items[k]);
			free(s->blocks[j].items);
		}
		free(s->blocks);
		free(s->heading);
	}
	free(a->sections);
	*a = (struct hb_article){ .updated_days = -1 };
}

const struct hb_section *hb_article_section(const struct hb_article *a,
		const char *heading)
{
	for (size_t i = 0; i < a->n_sections; i++) {
		if (strcasecmp(a->sections[i].heading, heading) == 0)
			return &a->sections[i];
	}
	return NULL;
}
