#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "healthbot.h"
#include "proto.h"

static const struct {
	const char *code;
	const char *message;
} statuses[] = {
	[HB_PROTO_OK] = { "ok", "OK" },
	[HB_PROTO_TOO_LARGE] = { "too_large",
		"That message is too long. Please send a shorter one." },
	[HB_PROTO_INVALID_UTF8] = { "invalid_utf8",
		"That message is not valid UTF-8 text." },
	[HB_PROTO_INVALID_JSON] = { "invalid_json",
		"That frame is not valid JSON." },
	[HB_PROTO_BAD_REQUEST] = { "bad_request",
		"That frame is missing a field or has one of the wrong type." },
	[HB_PROTO_UNKNOWN_TYPE] = { "unknown_type",
		"That frame type is not known." },
	[HB_PROTO_BINARY] = { "binary_unsupported",
		"Only text frames are accepted." },
	[HB_PROTO_RATE_LIMITED] = { "rate_limited",
		"Slow down: too many messages. Please wait a moment and try again." },
	[HB_PROTO_INTERNAL] = { "internal",
		"Something went wrong on our side. Please try again." },
};

bool hb_proto_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;
	while (p < end) {
		unsigned c = *p;
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false; /* continuation byte, overlong lead, or > U+10FFFF */
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, UTF-16 surrogates and the top of the range */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
				(cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

/* Ids are echoed into frames and compared, never shown or logged. */
static bool read_id(const cJSON *root, const char *key, char *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
	out[0] = '\0';
	if (!v)
		return true;
	if (!cJSON_IsString(v))
		return false;
	size_t n = strlen(v->valuestring);
	if (n == 0 || n > HB_PROTO_MAX_ID)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v->valuestring[i];
		if (c < 0x20 || c > 0x7e)
			return false;
	}
	memcpy(out, v->valuestring, n + 1);
	return true;
}

/*
 * cJSON decodes the escape \u0000 to a NUL, which ends its C strings: "I
 * can't\u0000breathe" would be read as "I can't". A copy of buf with each
 * such escape made \u0020 (the engine reads a NUL as a space too), or NULL
 * when there is none (or no memory: *nomem).
 */
static char *nul_escapes_to_spaces(const char *buf, size_t len, bool *nomem)
{
	char *copy = NULL;
	*nomem = false;
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\\')
			continue;
		if (buf[i + 1] == 'u' && len - i >= 6 &&
				memcmp(buf + i + 2, "0000", 4) == 0) {
			if (!copy) {
				copy = malloc(len);
				if (!copy) {
					*nomem = true;
					return NULL;
				}
				memcpy(copy, buf, len);
			}
			copy[i + 4] = '2';
		}
		i++; /* the escaped character: "\\u0000" is no NUL */
	}
	return copy;
}

enum hb_proto_status hb_proto_parse(const char *buf, size_t len,
		bool with_conversation, struct hb_proto_msg *out)
{
	static const struct {
		const char *name;
		enum hb_proto_type type;
	} types[] = {
		{ "message", HB_PROTO_MESSAGE },
		{ "open", HB_PROTO_OPEN },
		{ "close", HB_PROTO_CLOSE },
	};
	const char *end = NULL;
	memset(out, 0, sizeof(*out));
	out->type = HB_PROTO_UNKNOWN;
	if (!hb_proto_utf8_valid(buf, len))
		return HB_PROTO_INVALID_UTF8;
	bool nomem;
	char *unnul = nul_escapes_to_spaces(buf, len, &nomem);
	if (nomem)
		return HB_PROTO_INTERNAL;
	const char *json = unnul ? unnul : buf;
	/* network bytes are not NUL-terminated: parse with an explicit length */
	out->root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (end)
		end = buf + (end - json);
	free(unnul);
	if (!out->root)
		return HB_PROTO_INVALID_JSON;
	for (; end && end < buf + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n')
			return HB_PROTO_INVALID_JSON;
	}
	if (!cJSON_IsObject(out->root))
		return HB_PROTO_BAD_REQUEST;
	/* read the ids first so even a rejected frame's error can name them */
	bool ids_ok = read_id(out->root, "id", out->id);
	if (!read_id(out->root, "conversation", out->conversation))
		ids_ok = false;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(out->root, "type");
	if (!cJSON_IsString(type) || !ids_ok)
		return HB_PROTO_BAD_REQUEST;
	if (with_conversation && !out->conversation[0])
		return HB_PROTO_BAD_REQUEST;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(type->valuestring, types[i].name) == 0)
			out->type = types[i].type;
	}
	if (out->type == HB_PROTO_UNKNOWN ||
			(!with_conversation && out->type != HB_PROTO_MESSAGE))
		return HB_PROTO_UNKNOWN_TYPE;
	if (out->type != HB_PROTO_MESSAGE)
		return HB_PROTO_OK;
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(out->root, "text");
	if (!cJSON_IsString(text))
		return HB_PROTO_BAD_REQUEST;
	out->text = text->valuestring;
	out->text_len = strlen(text->valuestring);
	/* \u escapes can decode to text the frame check never saw */
	if (!hb_proto_utf8_valid(out->text, out->text_len))
		return HB_PROTO_INVALID_UTF8;
	size_t blank = 0;
	while (blank < out->text_len && strchr(" \t\r\n", out->text[blank]))
		blank++;
	if (blank == out->text_len)
		return HB_PROTO_BAD_REQUEST;
	return HB_PROTO_OK;
}

void hb_proto_msg_finish(struct hb_proto_msg *msg)
{
	cJSON_Delete(msg->root);
	msg->root = NULL;
	msg->text = NULL;
}

const char *hb_proto_status_code(enum hb_proto_status status)
{
	return statuses[status].code;
}

static bool add_str(cJSON *obj, const char *key, const char *value)
{
	cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateNull();
	if (!v)
		return false;
	cJSON_AddItemToObject(obj, key, v);
	return true;
}

static cJSON *frame(const char *type, const char *conversation)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (!add_str(o, "type", type) ||
			(conversation && !add_str(o, "conversation", conversation))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static char *finish(cJSON *o, bool ok)
{
	char *s = ok && o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static const char *id_or_null(const char *id)
{
	return id && id[0] ? id : NULL;
}

static bool add_reply_fields(cJSON *o, const struct hb_reply *r)
{
	bool ok = add_str(o, "kind", hb_reply_kind_str(r->kind)) &&
		add_str(o, "severity", hb_severity_str(r->severity)) &&
		add_str(o, "text", r->text ? r->text : "") &&
		add_str(o, "html", r->html ? r->html : "");
	if (!ok)
		return false;
	if (!r->source.title)
		return add_str(o, "source", NULL);
	cJSON *src = cJSON_AddObjectToObject(o, "source");
	return src && add_str(src, "title", r->source.title) &&
		add_str(src, "publisher", r->source.publisher) &&
		add_str(src, "updated", r->source.updated);
}

char *hb_proto_reply(const struct hb_reply *reply, const char *in_reply_to,
		const char *conversation)
{
	cJSON *o = frame("reply", conversation);
	return finish(o, o && add_str(o, "in_reply_to", id_or_null(in_reply_to)) &&
		add_reply_fields(o, reply));
}

char *hb_proto_greeting(const struct hb_reply *reply, const char *conversation)
{
	cJSON *o = frame("greeting", conversation);
	return finish(o, o && add_reply_fields(o, reply));
}

char *hb_proto_typing(const char *in_reply_to, const char *conversation)
{
	cJSON *o = frame("typing", conversation);
	return finish(o, o && add_str(o, "in_reply_to", id_or_null(in_reply_to)));
}

char *hb_proto_error(enum hb_proto_status status, const char *message,
		const char *in_reply_to, const char *conversation)
{
	cJSON *o = frame("error", conversation);
	return finish(o, o && add_str(o, "code", statuses[status].code) &&
		add_str(o, "message", message ? message : statuses[status].message) &&
		add_str(o, "in_reply_to", id_or_null(in_reply_to)));
}

char *hb_proto_undelivered(const char *conversation, const char *in_reply_to)
{
	cJSON *o = frame("undelivered", conversation);
	return finish(o, o && add_str(o, "in_reply_to", id_or_null(in_reply_to)));
}
