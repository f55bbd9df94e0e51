#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "util.h"

/* "<topic> <section>" is a short phrase; longer text is a question. */
#define MAX_SECTION_WORDS 8

static bool finish_text(struct hb_buf *text, struct hb_buf *html,
		const char *rule, struct hb_reply *out)
{
	*out = (struct hb_reply){ .kind = HB_REPLY_ANSWER, .rule = rule };
	out->text = hb_buf_steal(text);
	out->html = hb_buf_steal(html);
	if (!out->text || !out->html) {
		hb_reply_finish(out);
		return false;
	}
	return true;
}

/* Appends s[0..len) with {prefix} made the command prefix and {count}
 * the count given; other placeholders stay as they are. */
static void expand(struct hb_buf *out, const char *s, size_t len,
		const char *prefix, const char *count)
{
	static const struct { const char *name; size_t len; } vars[] = {
		{ "{prefix}", 8 },
		{ "{count}", 7 },
	};
	const char *values[] = { prefix, count ? count : "{count}" };
	size_t done = 0;
	for (size_t i = 0; i < len; i++) {
		for (size_t v = 0; v < sizeof(vars) / sizeof(vars[0]); v++) {
			if (len - i < vars[v].len ||
					memcmp(s + i, vars[v].name, vars[v].len) != 0)
				continue;
			hb_buf_append(out, s + done, i - done);
			hb_buf_puts(out, values[v]);
			i += vars[v].len - 1;
			done = i + 1;
			break;
		}
	}
	hb_buf_append(out, s + done, len - done);
}

/* A list item: a line indented by two spaces. */
static bool is_item(const char *line)
{
	return line[0] == ' ' && line[1] == ' ' && line[2] && line[2] != '\n';
}

static const char *next_line(const char *p)
{
	p += strcspn(p, "\n");
	return *p ? p + 1 : p;
}

/* "command: what it does", the command as code. */
static void put_item(struct hb_buf *html, const char *line)
{
	size_t len = strcspn(line, "\n");
	size_t code = 0;
	while (code + 1 < len && !(line[code] == ':' && line[code + 1] == ' '))
		code++;
	if (code + 1 >= len)
		code = 0;
	hb_buf_puts(html, "<li>");
	if (code) {
		hb_buf_puts(html, "<code>");
		hb_buf_html(html, line, code);
		hb_buf_puts(html, "</code>");
	}
	hb_buf_html(html, line + code, len - code);
	hb_buf_puts(html, "</li>\n");
}

/*
 * The HTML form of a command's text, so the wording is written once: a
 * paragraph per line, and a run of lines indented by two spaces a list,
 * whose items read "command: what it does".
 */
static void text_to_html(struct hb_buf *html, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *run = p;
		while (*p && !is_item(p))
			p = next_line(p);
		if (strspn(run, "\n") < (size_t)(p - run)) {
			if (html->len)
				hb_buf_putc(html, '\n');
			hb_buf_html_paragraphs(html, run, (size_t)(p - run));
		}
		if (!*p)
			break;
		if (html->len)
			hb_buf_putc(html, '\n');
		hb_buf_puts(html, "<ul>\n");
		for (; *p && is_item(p); p = next_line(p))
			put_item(html, p + 2);
		hb_buf_puts(html, "</ul>");
	}
}

/* The wording is the library's (intents/: "replies", "command_help"), in
 * its locale; without it, "help" is a question for the engine. */
static bool help(const struct hb_engine *e, const char *prefix,
		struct hb_reply *out)
{
	struct hb_buf text, html;
	const char *tmpl = hb_engine_wording(e, "command_help");
	if (!tmpl)
		return false;
	hb_buf_init(&text);
	hb_buf_init(&html);
	expand(&text, tmpl, strlen(tmpl), prefix, NULL);
	text_to_html(&html, text.data ? text.data : "");
	return finish_text(&text, &html, "command:help", out);
}

/*
 * The wording ("command_topics") around the list of articles, which
 * stands on a line of its own where the wording has {articles}: one line
 * per article, and in the HTML a list with the titles strong and the ids
 * as code.
 */
static bool topics(const struct hb_engine *e, const char *prefix,
		struct hb_reply *out)
{
	static const char var[] = "{articles}";
	const char *tmpl = hb_engine_wording(e, "command_topics");
	struct hb_buf text, html, part;
	char count[24];
	if (!tmpl)
		return false;
	size_t n = hb_engine_article_count(e);
	snprintf(count, sizeof(count), "%zu", n);
	const char *at = strstr(tmpl, var);
	size_t head = at ? (size_t)(at - tmpl) : strlen(tmpl);
	const char *tail = at ? at + sizeof(var) - 1 : "";
	hb_buf_init(&text);
	hb_buf_init(&html);
	hb_buf_init(&part);
	expand(&part, tmpl, head, prefix, count);
	hb_buf_append(&text, part.data ? part.data : "", part.len);
	text_to_html(&html, part.data ? part.data : "");
	if (n) {
		if (html.len)
			hb_buf_putc(&html, '\n');
		hb_buf_puts(&html, "<ul>\n");
	}
	for (size_t i = 0, shown = 0; i < n; i++) {
		const char *title = NULL;
		const char *id = hb_engine_article(e, i, &title);
		if (!id)
			continue;
		if (!title)
			title = id;
		hb_buf_printf(&text, "%s  \xe2\x80\xa2 %s (%s)", shown++ ? "\n" : "",
			title, id);
		hb_buf_puts(&html, "<li><strong>");
		hb_buf_html(&html, title, strlen(title));
		hb_buf_puts(&html, "</strong> (<code>");
		hb_buf_html(&html, id, strlen(id));
		hb_buf_puts(&html, "</code>)</li>\n");
	}
	if (n)
		hb_buf_puts(&html, "</ul>");
	bool oom = part.oom;
	hb_buf_reset(&part);
	expand(&part, tail, strlen(tail), prefix, count);
	hb_buf_append(&text, part.data ? part.data : "", part.len);
	text_to_html(&html, part.data ? part.data : "");
	oom = oom || part.oom;
	hb_buf_finish(&part);
	if (oom) {
		hb_buf_finish(&text);
		hb_buf_finish(&html);
		return false;
	}
	return finish_text(&text, &html, "command:topics", out);
}

/* Splits args into words (in place); returns the count. */
static size_t split_words(char *s, char **words, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *w = strtok_r(s, " \t\r\n", &save); w;
			w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

static char *join(char *const *words, size_t from, size_t to)
{
	struct hb_buf s;
	hb_buf_init(&s);
	for (size_t i = from; i < to; i++) {
		if (i > from)
			hb_buf_puts(&s, " ");
		hb_buf_puts(&s, words[i]);
	}
	return hb_buf_steal(&s);
}

/*
 * Topic and section names both may have several words ("night leg
 * cramps", "when to see a doctor"), so every split is tried, shortest
 * topic first.
 */
static bool section(const struct hb_engine *e, const char *args,
		struct hb_reply *out)
{
	char *copy = strdup(args);
	char *words[MAX_SECTION_WORDS];
	bool found = false;
	if (!copy)
		return false;
	size_t n = split_words(copy, words, MAX_SECTION_WORDS);
	for (size_t k = 1; n >= 2 && n <= MAX_SECTION_WORDS && k < n && !found; k++) {
		char *topic = join(words, 0, k);
		char *sec = join(words, k, n);
		struct hb_reply r;
		enum hb_section_result res = topic && sec ?
			hb_engine_section(e, topic, sec, &r) : HB_SECTION_ERROR;
		if (res == HB_SECTION_OK) {
			*out = r;
			found = true;
		} else if (res == HB_SECTION_NO_SECTION && n == 2) {
			/* "cramps treatments": a known topic with a section name
			 * that is not there; the reply lists the real ones */
			*out = r;
			found = true;
		} else if (topic && sec) {
			hb_reply_finish(&r);
		}
		free(topic);
		free(sec);
	}
	free(copy);
	return found;
}

bool hb_mx_command_run(const struct hb_engine *e, const char *prefix,
		const char *args, struct hb_reply *out, const char **name)
{
	if (args[0] == '\0' || strcasecmp(args, "help") == 0) {
		*name = "help";
		return help(e, prefix, out);
	}
	if (strcasecmp(args, "topics") == 0) {
		*name = "topics";
		return topics(e, prefix, out);
	}
	if (strchr(args, '?'))
		return false;
	*name = "section";
	return section(e, args, out);
}
