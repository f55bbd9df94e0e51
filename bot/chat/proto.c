#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "healthbot.h"
#include "json.h"
#include "proto.h"
#include "utf8.h"

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
	struct hb_json_error err;
	memset(out, 0, sizeof(*out));
	out->type = HB_PROTO_UNKNOWN;
	if (!hb_utf8_valid(buf, len))
		return HB_PROTO_INVALID_UTF8;
	/* network bytes are not NUL-terminated: the parse takes a length, and
	 * reads an escaped NUL as a space ("I can't\u0000breathe" must reach
	 * the engine whole) */
	out->root = hb_json_parse(buf, len, &err);
	if (!out->root)
		return strcmp(err.message, "out of memory") == 0 ?
			HB_PROTO_INTERNAL : HB_PROTO_INVALID_JSON;
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
	if (!hb_utf8_valid(out->text, out->text_len))
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

struct hb_proto_numbers hb_proto_engine_numbers(const struct hb_engine *engine)
{
	return (struct hb_proto_numbers){
		.emergency = hb_engine_emergency_number(engine),
		.crisis = hb_engine_crisis_number(engine),
	};
}

static bool add_numbers(cJSON *o, const struct hb_proto_numbers *n)
{
	if (!n || (!n->emergency && !n->crisis))
		return true;
	cJSON *obj = cJSON_AddObjectToObject(o, "numbers");
	return obj && (!n->emergency || add_str(obj, "emergency", n->emergency)) &&
		(!n->crisis || add_str(obj, "crisis", n->crisis));
}

char *hb_proto_reply(const struct hb_reply *reply, const char *in_reply_to,
		const char *conversation, const struct hb_proto_numbers *numbers)
{
	cJSON *o = frame("reply", conversation);
	return finish(o, o && add_str(o, "in_reply_to", id_or_null(in_reply_to)) &&
		add_reply_fields(o, reply) &&
		(reply->kind != HB_REPLY_ESCALATION || add_numbers(o, numbers)));
}

char *hb_proto_greeting(const struct hb_reply *reply, const char *conversation,
		const struct hb_proto_numbers *numbers)
{
	cJSON *o = frame("greeting", conversation);
	return finish(o, o && add_reply_fields(o, reply) && add_numbers(o, numbers));
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
