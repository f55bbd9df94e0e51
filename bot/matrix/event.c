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

/* formatted_body without its <mx-reply> quote. */
static char *strip_mx_reply(const char *html)
{
	struct hb_buf out;
	hb_buf_init(&out);
	const char *start = strstr(html, "<mx-reply>");
	const char *end = start ? strstr(start, "</mx-reply>") : NULL;
	if (start && end) {
		hb_buf_append(&out, html, (size_t)(start - html));
		hb_buf_puts(&out, end + strlen("</mx-reply>"));
	} else {
		hb_buf_puts(&out, html);
	}
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
	if (get(content, "m.new_content") ||
			(rel_type && strcmp(rel_type, "m.replace") == 0))
		return HB_MX_IGNORE_EDIT;
	const char *msgtype = get_string(content, "msgtype");
	if (msgtype && strcmp(msgtype, "m.notice") == 0)
		return HB_MX_IGNORE_NOTICE;
	if (!msgtype || strcmp(msgtype, "m.text") != 0)
		return HB_MX_IGNORE_NOT_TEXT;
	const char *body = get_string(content, "body");
	if (!body || strlen(body) > MAX_BODY)
		return HB_MX_IGNORE_MALFORMED;
	if (rel_type && strcmp(rel_type, "m.thread") == 0)
		out->thread_root = get_string(rel, "event_id");

	bool is_reply = get(get(rel, "m.in_reply_to"), "event_id") != NULL;
	const char *own = skip_reply_fallback(body, is_reply);
	out->mentioned = mentions_me(content, own, me);
	char *text = strdup(own);
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
