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

static bool help(const struct hb_engine *e, const char *prefix,
		struct hb_reply *out)
{
	struct hb_buf text, html;
	struct hb_reply probe;
	/* show the example only when this library can answer it */
	bool example = hb_engine_section(e, "cramps", "self-care", &probe);
	hb_reply_finish(&probe);
	hb_buf_init(&text);
	hb_buf_init(&html);
	hb_buf_printf(&text,
		"I answer health questions with passages from the health "
		"information library, and I always name the source.\n"
		"In a direct chat, just ask. In a group room, mention me or start "
		"with %s.\n\n"
		"Staff quick reference:\n"
		"  %s topics: the articles in the library\n"
		"  %s <topic> <section>: a whole section with its source%s%s%s\n"
		"  %s help: this text\n\n"
		"I am not a clinician. In an emergency, call your local emergency "
		"number.\n", prefix, prefix, prefix,
		example ? " (e.g. " : "", example ? prefix : "",
		example ? " cramps self-care)" : "", prefix);
	hb_buf_puts(&html, "<p>I answer health questions with passages from "
		"the health information library, and I always name the source.</p>\n"
		"<p>In a direct chat, just ask. In a group room, mention me or start "
		"with <code>");
	hb_buf_html(&html, prefix, strlen(prefix));
	hb_buf_puts(&html, "</code>.</p>\n<p>Staff quick reference:</p>\n<ul>\n"
		"<li><code>");
	hb_buf_html(&html, prefix, strlen(prefix));
	hb_buf_puts(&html, " topics</code>: the articles in the library</li>\n"
		"<li><code>");
	hb_buf_html(&html, prefix, strlen(prefix));
	hb_buf_puts(&html, " &lt;topic&gt; &lt;section&gt;</code>: a whole "
		"section with its source");
	if (example) {
		hb_buf_puts(&html, " (e.g. <code>");
		hb_buf_html(&html, prefix, strlen(prefix));
		hb_buf_puts(&html, " cramps self-care</code>)");
	}
	hb_buf_puts(&html, "</li>\n<li><code>");
	hb_buf_html(&html, prefix, strlen(prefix));
	hb_buf_puts(&html, " help</code>: this text</li>\n</ul>\n"
		"<p>I am not a clinician. In an emergency, call your local "
		"emergency number.</p>");
	return finish_text(&text, &html, "command:help", out);
}

static bool topics(const struct hb_engine *e, const char *prefix,
		struct hb_reply *out)
{
	struct hb_buf text, html;
	size_t n = hb_engine_article_count(e);
	hb_buf_init(&text);
	hb_buf_init(&html);
	hb_buf_printf(&text, "Articles in the library (%zu):\n", n);
	hb_buf_printf(&html, "<p>Articles in the library (%zu):</p>\n<ul>\n", n);
	for (size_t i = 0; i < n; i++) {
		const char *title = NULL;
		const char *id = hb_engine_article(e, i, &title);
		if (!id)
			continue;
		if (!title)
			title = id;
		hb_buf_printf(&text, "  \xe2\x80\xa2 %s (%s)\n", title, id);
		hb_buf_puts(&html, "<li><strong>");
		hb_buf_html(&html, title, strlen(title));
		hb_buf_puts(&html, "</strong> (<code>");
		hb_buf_html(&html, id, strlen(id));
		hb_buf_puts(&html, "</code>)</li>\n");
	}
	hb_buf_printf(&text, "\nFor a whole section: %s <topic> <section>\n",
		prefix);
	hb_buf_puts(&html, "</ul>\n<p>For a whole section: <code>");
	hb_buf_html(&html, prefix, strlen(prefix));
	hb_buf_puts(&html, " &lt;topic&gt; &lt;section&gt;</code></p>");
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
		if (topic && sec && hb_engine_section(e, topic, sec, &r)) {
			*out = r;
			found = true;
		} else if (topic && sec && n == 2 && r.text && r.rule &&
				strcmp(r.rule, "section:unknown-section") == 0) {
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
