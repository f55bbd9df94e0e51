#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"
#include "util.h"

/* Matrix caps events at 64 KiB; anything longer is not a chat message. */
#define MAX_BODY (64 * 1024)

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *get_string(const cJSON *obj, const char *key)
{
	const cJSON *v = get(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *hb_mx_verdict_str(enum hb_mx_verdict v)
{
	switch (v) {
	case HB_MX_CANDIDATE: return "candidate";
	case HB_MX_IGNORE_NOT_MESSAGE: return "not-message";
	case HB_MX_IGNORE_OWN: return "own";
	case HB_MX_IGNORE_NOTICE: return "notice";
	case HB_MX_IGNORE_NOT_TEXT: return "not-text";
	case HB_MX_IGNORE_EDIT: return "edit";
	case HB_MX_IGNORE_REDACTED: return "redacted";
	case HB_MX_IGNORE_MALFORMED: return "malformed";
	}
	return "unknown";
}

static bool is_alnum(char c)
{
	/* bytes of multi-byte UTF-8 count as letters: a name inside a
	 * longer non-ASCII word is not a mention */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || (unsigned char)c >= 0x80 || c == '_';
}

/* A case-insensitive (ASCII) whole-word occurrence of needle in hay. */
static const char *find_word(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return NULL;
	for (const char *p = hay; *p; p++) {
		if (strncasecmp(p, needle, n) != 0)
			continue;
		bool left = p == hay || !is_alnum(p[-1]) || !is_alnum(needle[0]);
		bool right = !is_alnum(p[n]) || !is_alnum(needle[n - 1]);
		if (left && right)
			return p;
	}
	return NULL;
}

/*
 * Clients quote the message replied to as leading "> " lines and a blank
 * line; the quote is someone else's words (often the bot's own answer)
 * and must not be read as the question.
 */
static const char *skip_reply_fallback(const char *body, bool is_reply)
{
	const char *p = body;
	if (!is_reply && strncmp(body, "> <", 3) != 0)
		return body;
	bool quoted = false;
	while (*p == '>') {
		const char *nl = strchr(p, '\n');
		quoted = true;
		if (!nl)
			return p + strlen(p);
		p = nl + 1;
	}
	if (quoted && *p == '\n')
		p++;
	return quoted ? p : body;
}

/* formatted_body without its <mx-reply> quotes. */
static char *strip_mx_reply(const char *html)
{
	struct hb_buf out;
	hb_buf_init(&out);
	const char *p = html;
	const char *start;
	while ((start = strstr(p, "<mx-reply>"))) {
		const char *end = strstr(start, "</mx-reply>");
		if (!end)
			break;
		hb_buf_append(&out, p, (size_t)(start - p));
		p = end + strlen("</mx-reply>");
	}
	hb_buf_puts(&out, p);
	return hb_buf_steal(&out);
}

static void put_utf8(struct hb_buf *out, unsigned long cp)
{
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		hb_buf_putc(out, (char)cp);
	} else if (cp < 0x800) {
		hb_buf_putc(out, (char)(0xc0 | (cp >> 6)));
		hb_buf_putc(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		hb_buf_putc(out, (char)(0xe0 | (cp >> 12)));
		hb_buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		hb_buf_putc(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		hb_buf_putc(out, (char)(0xf0 | (cp >> 18)));
		hb_buf_putc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		hb_buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		hb_buf_putc(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/* An entity at p ('&'): decoded into out, returns what follows it; an
 * unknown one is kept as written. */
static const char *entity(struct hb_buf *out, const char *p)
{
	static const struct { const char *name; const char *text; } named[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" },
		{ "apos;", "'" }, { "nbsp;", " " },
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t n = strlen(named[i].name);
		if (strncmp(p + 1, named[i].name, n) == 0) {
			hb_buf_puts(out, named[i].text);
			return p + 1 + n;
		}
	}
	if (p[1] == '#') {
		bool hex = p[2] == 'x' || p[2] == 'X';
		const char *d = p + (hex ? 3 : 2);
		unsigned long cp = 0;
		size_t digits = 0;
		for (; digits < 8; d++, digits++) {
			int v = *d >= '0' && *d <= '9' ? *d - '0' :
				hex && *d >= 'a' && *d <= 'f' ? *d - 'a' + 10 :
				hex && *d >= 'A' && *d <= 'F' ? *d - 'A' + 10 : -1;
			if (v < 0)
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned long)v;
		}
		if (digits && *d == ';') {
			put_utf8(out, cp);
			return d + 1;
		}
	}
	hb_buf_putc(out, '&');
	return p + 1;
}

/* Tags after which the text continues on a new line. */
static bool breaks_line(const char *tag)
{
	static const char *const tags[] = { "br", "/p", "p", "/div", "/li",
		"/h1", "/h2", "/h3", "/h4", "/h5", "/h6", "/blockquote",
		"/pre", "/tr", NULL };
	for (size_t i = 0; tags[i]; i++) {
		size_t n = strlen(tags[i]);
		if (strncasecmp(tag, tags[i], n) == 0 && !is_alnum(tag[n]))
			return true;
	}
	return false;
}

char *hb_mx_html_text(const char *html)
{
	char *own = strip_mx_reply(html);
	struct hb_buf out;
	if (!own)
		return NULL;
	hb_buf_init(&out);
	for (const char *p = own; *p;) {
		if (*p == '<') {
			const char *end = strchr(p, '>');
			if (!end)
				break; /* a tag cut off: the rest is not text */
			if (breaks_line(p + 1))
				hb_buf_putc(&out, '\n');
			p = end + 1;
		} else if (*p == '&') {
			p = entity(&out, p);
		} else {
			hb_buf_putc(&out, *p++);
		}
	}
	free(own);
	return hb_buf_steal(&out);
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	}
	return false;
}

static bool pill_mentions(const char *html, const char *user_id)
{
	struct hb_buf enc;
	bool found = false;
	hb_buf_init(&enc);
	hb_buf_puts(&enc, "matrix.to/#/");
	hb_mx_urlencode(&enc, user_id);
	if (enc.data && contains_nocase(html, enc.data))
		found = true;
	hb_buf_finish(&enc);
	if (!found) {
		hb_buf_init(&enc);
		hb_buf_printf(&enc, "matrix.to/#/%s", user_id);
		found = enc.data && contains_nocase(html, enc.data);
		hb_buf_finish(&enc);
	}
	return found;
}

/* Removes every mention of the bot ("healthbot:", "@healthbot:server,")
 * so the engine reads only the question. */
static void remove_word(char *text, const char *word)
{
	const char *hit;
	size_t n = strlen(word);
	while (n && (hit = find_word(text, word))) {
		char *p = (char *)hit;
		size_t cut = n;
		if (p[cut] == ':' || p[cut] == ',')
			cut++;
		memmove(p, p + cut, strlen(p + cut) + 1);
	}
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
			s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool mentions_me(const cJSON *content, const char *body,
		const struct hb_mx_identity *me)
{
	const cJSON *ids = get(get(content, "m.mentions"), "user_ids");
	const cJSON *it;
	cJSON_ArrayForEach(it, ids) {
		if (cJSON_IsString(it) && strcmp(it->valuestring, me->user_id) == 0)
			return true;
	}
	/* clients without m.mentions (and people typing the name by hand)
	 * still address the bot by id or display name */
	if (find_word(body, me->user_id))
		return true;
	if (me->display_name && strlen(me->display_name) >= 2 &&
			find_word(body, me->display_name))
		return true;
	const char *html = get_string(content, "formatted_body");
	if (html) {
		char *own = strip_mx_reply(html);
		bool pill = own && pill_mentions(own, me->user_id);
		free(own);
		if (pill)
			return true;
	}
	return false;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

enum hb_mx_verdict hb_mx_event_inspect(const cJSON *event,
		const struct hb_mx_identity *me, struct hb_mx_message *out)
{
	*out = (struct hb_mx_message){0};
	const char *type = get_string(event, "type");
	if (!type || strcmp(type, "m.room.message") != 0 || get(event, "state_key"))
		return HB_MX_IGNORE_NOT_MESSAGE;
	out->event_id = get_string(event, "event_id");
	out->sender = get_string(event, "sender");
	if (!out->event_id || !out->sender)
		return HB_MX_IGNORE_MALFORMED;
	if (strcmp(out->sender, me->user_id) == 0)
		return HB_MX_IGNORE_OWN;
	const cJSON *content = get(event, "content");
	if (get(get(event, "unsigned"), "redacted_because") ||
			!cJSON_IsObject(content) || !content->child)
		return HB_MX_IGNORE_REDACTED;
	const cJSON *rel = get(content, "m.relates_to");
	const char *rel_type = get_string(rel, "rel_type");
	if (rel_type && strcmp(rel_type, "m.replace") == 0) {
		/* an edit: what counts is the new content (the body beside it
		 * is a "* " fallback); the relation it had stays the
		 * original's, known only to the caller */
		const cJSON *fresh = get(content, "m.new_content");
		out->edit_of = get_string(rel, "event_id");
		if (!cJSON_IsObject(fresh) || !out->edit_of)
			return HB_MX_IGNORE_EDIT;
		content = fresh;
		rel = NULL;
		rel_type = NULL;
	} else if (get(content, "m.new_content")) {
		return HB_MX_IGNORE_EDIT;
	}
	const char *msgtype = get_string(content, "msgtype");
	if (msgtype && strcmp(msgtype, "m.notice") == 0)
		return HB_MX_IGNORE_NOTICE;
	if (!msgtype || strcmp(msgtype, "m.text") != 0)
		return HB_MX_IGNORE_NOT_TEXT;
	const char *body = get_string(content, "body");
	const char *html = get_string(content, "formatted_body");
	if ((!body && !html) || (body && strlen(body) > MAX_BODY) ||
			(html && strlen(html) > MAX_BODY))
		return HB_MX_IGNORE_MALFORMED;
	if (rel_type && strcmp(rel_type, "m.thread") == 0)
		out->thread_root = get_string(rel, "event_id");
	out->reply_to = get_string(get(rel, "m.in_reply_to"), "event_id");

	/* a client that sends only HTML (or an empty plain body beside it)
	 * still asked something */
	char *from_html = NULL;
	if ((!body || blank(body)) && html) {
		if (!(from_html = hb_mx_html_text(html)))
			return HB_MX_IGNORE_MALFORMED;
		body = from_html;
	}
	const char *own = from_html ? from_html :
		skip_reply_fallback(body, out->reply_to != NULL);
	out->mentioned = mentions_me(content, own, me);
	char *text = strdup(own);
	free(from_html);
	if (!text)
		return HB_MX_IGNORE_MALFORMED;
	remove_word(text, me->user_id);
	if (me->display_name && strlen(me->display_name) >= 2)
		remove_word(text, me->display_name);
	char *t = trim(text);
	size_t plen = strlen(me->prefix);
	if (plen && strncasecmp(t, me->prefix, plen) == 0 &&
			(t[plen] == '\0' || t[plen] == ' ' || t[plen] == '\t' ||
			t[plen] == '\n' || t[plen] == ':')) {
		out->prefixed = true;
		t += plen;
		if (*t == ':')
			t++;
		t = trim(t);
	}
	memmove(text, t, strlen(t) + 1);
	out->text = text;
	return HB_MX_CANDIDATE;
}

void hb_mx_message_finish(struct hb_mx_message *msg)
{
	if (!msg)
		return;
	free(msg->text);
	*msg = (struct hb_mx_message){0};
}

bool hb_mx_event_is_own_join(const cJSON *event, const char *user_id)
{
	const char *type = get_string(event, "type");
	const char *key = get_string(event, "state_key");
	if (!type || strcmp(type, "m.room.member") != 0 || !key ||
			strcmp(key, user_id) != 0)
		return false;
	const char *now = get_string(get(event, "content"), "membership");
	const cJSON *uns = get(event, "unsigned");
	const char *before = get_string(get(uns, "prev_content"), "membership");
	/* a display name or avatar change is join → join: not a new join */
	return now && strcmp(now, "join") == 0 &&
		!(before && strcmp(before, "join") == 0);
}

/* The first paragraph (the emergency wording) in bold. */
static char *emphasise(const char *html)
{
	struct hb_buf out;
	hb_buf_init(&out);
	const char *close = strncmp(html, "<p>", 3) == 0 ? strstr(html, "</p>") : NULL;
	if (close) {
		hb_buf_puts(&out, "<p><strong>");
		hb_buf_append(&out, html + 3, (size_t)(close - html - 3));
		hb_buf_puts(&out, "</strong>");
		hb_buf_puts(&out, close);
	} else {
		hb_buf_puts(&out, html);
	}
	return hb_buf_steal(&out);
}

char *hb_mx_event_reply_json(const char *text, const char *html, bool urgent,
		const char *event_id, const char *thread_root, const char *sender)
{
	cJSON *c = cJSON_CreateObject();
	char *fmt = html ? (urgent ? emphasise(html) : strdup(html)) : NULL;
	char *out = NULL;
	if (!c || (html && !fmt))
		goto out;
	cJSON *rel = cJSON_AddObjectToObject(c, "m.relates_to");
	cJSON *in_reply = cJSON_AddObjectToObject(rel, "m.in_reply_to");
	cJSON *mentions = cJSON_AddObjectToObject(c, "m.mentions");
	if (!cJSON_AddStringToObject(c, "msgtype", urgent ? "m.text" : "m.notice") ||
			!cJSON_AddStringToObject(c, "body", text) ||
			(fmt && (!cJSON_AddStringToObject(c, "format",
					"org.matrix.custom.html") ||
				!cJSON_AddStringToObject(c, "formatted_body", fmt))) ||
			!in_reply || !mentions ||
			!cJSON_AddStringToObject(in_reply, "event_id", event_id))
		goto out;
	if (thread_root && (!cJSON_AddStringToObject(rel, "rel_type", "m.thread") ||
			!cJSON_AddStringToObject(rel, "event_id", thread_root) ||
			!cJSON_AddFalseToObject(rel, "is_falling_back")))
		goto out;
	/* an urgent answer pings its reader; routine ones stay quiet */
	if (urgent) {
		cJSON *ids = cJSON_AddArrayToObject(mentions, "user_ids");
		cJSON *id = cJSON_CreateString(sender);
		if (!ids || !id) {
			cJSON_Delete(id);
			goto out;
		}
		cJSON_AddItemToArray(ids, id);
	}
	out = cJSON_PrintUnformatted(c);
out:
	cJSON_Delete(c);
	free(fmt);
	return out;
}
