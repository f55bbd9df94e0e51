/*
 * libFuzzer target for the article loader: the Health Information Library
 * export format (meson -Dfuzz=true, clang). The input is one article's
 * .txt, optionally followed by SIDECAR_SEP and its .json sidecar. It is
 * loaded twice: by hb_article_load() alone, whose result must be a
 * well-formed article, and as the whole library of an engine (with a small
 * intents file), which must then agree on whether it loads and answer a
 * few questions about it.
 *
 * The engine only loads from files (there is no memory-buffer entry), so
 * the input is written to this process's scratch directory under /tmp.
 *   build-fuzz/tests/fuzz/fuzz_article -max_total_time=60 tests/fuzz/corpus/article
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "library.h"
#include "text.h"
#include "utf8.h"

#define SIDECAR_SEP "\n----sidecar----\n"

static char *content_dir;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	content_dir = hb_fuzz_subdir("content");
	return 0;
}

static void check_utf8(const char *what, const char *s)
{
	if (!s)
		hb_fuzz_fail("%s is NULL", what);
	if (!hb_utf8_valid(s, strlen(s)))
		hb_fuzz_fail("%s is not UTF-8", what);
}

/* What the rest of the engine relies on in a loaded article. */
static void check_article(const struct hb_article *a)
{
	check_utf8("title", a->title);
	if (!a->title[0])
		hb_fuzz_fail("empty title");
	check_utf8("publisher", a->publisher);
	check_utf8("updated", a->updated);
	if (a->updated_days < 0)
		hb_fuzz_fail("loaded with an unreadable date");
	/* a title without a word ("<<<") gives no topic name: odd, but
	 * harmless (the article is then found by its words only) */
	if (a->n_sections == 0)
		hb_fuzz_fail("no sections");
	for (size_t i = 0; i < a->n_sections; i++) {
		const struct hb_section *s = &a->sections[i];
		check_utf8("heading", s->heading);
		if (s->n_blocks == 0)
			hb_fuzz_fail("section \"%s\" without blocks", s->heading);
		if (hb_article_section(a, s->heading) == NULL)
			hb_fuzz_fail("section \"%s\" not found by its own heading", s->heading);
		for (size_t b = 0; b < s->n_blocks; b++) {
			const struct hb_block *blk = &s->blocks[b];
			if (blk->text)
				check_utf8("block text", blk->text);
			else if (blk->type != HB_BLOCK_LIST)
				hb_fuzz_fail("paragraph without text");
			for (size_t k = 0; k < blk->n_items; k++)
				check_utf8("list item", blk->items[k]);
		}
	}
	for (size_t i = 0; i < a->n_topics; i++) {
		if (!a->topics[i].name || a->topics[i].n_stems == 0)
			hb_fuzz_fail("empty topic name");
	}
}

static void ask(const struct hb_engine *e, const char *msg)
{
	struct hb_reply r;
	if (!hb_engine_reply(e, NULL, NULL, msg, strlen(msg), 0, &r))
		hb_fuzz_fail("reply failed");
	if (!r.text || !r.html)
		hb_fuzz_fail("reply without text or html");
	if (r.kind == HB_REPLY_ANSWER && (!r.article || !r.source.title))
		hb_fuzz_fail("an answer without its source");
	if (hb_fuzz_contains_nocase(r.html, "<script"))
		hb_fuzz_fail("raw <script> in reply html");
	hb_reply_finish(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t text_len = size;
	const char *side = NULL;
	size_t side_len = 0;
	const char *sep = hb_fuzz_find(text, size, SIDECAR_SEP);
	if (sep) {
		text_len = (size_t)(sep - text);
		side = sep + strlen(SIDECAR_SEP);
		side_len = size - text_len - strlen(SIDECAR_SEP);
	}
	hb_fuzz_write(content_dir, "fz.txt", text, text_len);
	if (side)
		hb_fuzz_write(content_dir, "fz.json", side, side_len);
	else
		hb_fuzz_unlink(content_dir, "fz.json");

	char path[512];
	struct hb_article a;
	struct hb_error err;
	snprintf(path, sizeof(path), "%s/fz.txt", content_dir);
	bool loaded = hb_article_load(&a, path, "fz", &err);
	if (loaded) {
		check_article(&a);
		hb_article_finish(&a);
	} else if (!err.message[0]) {
		hb_fuzz_fail("load failed without saying why");
	}

	struct hb_engine_options o = {
		.content_dir = content_dir,
		.intents_dir = SOURCE_ROOT "/tests/fuzz/min-intents",
		.no_jit = true, /* a handful of patterns: JIT costs more than it saves */
	};
	struct hb_engine *e = hb_engine_create(&o, &err);
	if (e && !loaded)
		hb_fuzz_fail("engine loaded an article hb_article_load refused");
	if (!e && loaded && !side)
		hb_fuzz_fail("engine refused a loadable article: %s", err.message);
	if (e) {
		const char *title = NULL;
		hb_engine_article(e, 0, &title);
		char msg[HB_MAX_MESSAGE + 64];
		ask(e, title);
		snprintf(msg, sizeof(msg), "what causes %s?", title);
		ask(e, msg);
		snprintf(msg, sizeof(msg), "what is %s", title);
		ask(e, msg);
		ask(e, "i can't breathe");
		ask(e, "when should i see a doctor");
		struct hb_reply r;
		/* an article may have no "causes" (a fallback then), and
		 * whatever the result, a reply with text */
		if (hb_engine_section(e, title, "causes", &r) == HB_SECTION_ERROR ||
				!r.text)
			hb_fuzz_fail("section lookup without a reply");
		hb_reply_finish(&r);
		hb_engine_destroy(e);
	}
	return 0;
}
