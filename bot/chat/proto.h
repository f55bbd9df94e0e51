#ifndef HB_PROTO_H
#define HB_PROTO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The chat protocol that the widget server and the relay client share
 * (docs/widget-protocol.md): JSON text frames, parsed from untrusted bytes
 * and built fresh for every reply. Relay frames carry a "conversation" id;
 * widget frames do not (the connection is the conversation).
 */

struct cJSON;
struct hb_reply;

/* Client message and conversation ids: short, printable ASCII. */
#define HB_PROTO_MAX_ID 128

enum hb_proto_type {
	HB_PROTO_MESSAGE,
	HB_PROTO_OPEN,    /* relay: a conversation started, greet it */
	HB_PROTO_CLOSE,   /* relay: a conversation ended, forget it */
	HB_PROTO_UNKNOWN,
};

enum hb_proto_status {
	HB_PROTO_OK,
	HB_PROTO_TOO_LARGE,
	HB_PROTO_INVALID_UTF8,
	HB_PROTO_INVALID_JSON,
	HB_PROTO_BAD_REQUEST,
	HB_PROTO_UNKNOWN_TYPE,
	HB_PROTO_BINARY,
	HB_PROTO_RATE_LIMITED,
	HB_PROTO_INTERNAL,
};

struct hb_proto_msg {
	enum hb_proto_type type;
	char id[HB_PROTO_MAX_ID + 1];           /* "" when absent */
	char conversation[HB_PROTO_MAX_ID + 1]; /* "" when absent */
	const char *text;                       /* message only; in root */
	size_t text_len;
	struct cJSON *root;
};

/*
 * Parses one frame. On failure, out->id still holds the message id when
 * one could be read, so the error frame can name it. Release out with
 * hb_proto_msg_finish() whatever the result.
 */
enum hb_proto_status hb_proto_parse(const char *buf, size_t len,
		bool with_conversation, struct hb_proto_msg *out);
void hb_proto_msg_finish(struct hb_proto_msg *msg);

const char *hb_proto_status_code(enum hb_proto_status status);

/*
 * Frame builders: a malloc'd NUL-terminated JSON text, or NULL when memory
 * runs out. conversation NULL leaves the key out (widget frames);
 * in_reply_to NULL or "" is sent as null.
 */
struct hb_engine;
/* The numbers the page makes tel: links of, sent as "numbers" so that it
 * need not guess them from digit runs: in every greeting, and in every
 * escalation (the library may have been reloaded with new ones since the
 * greeting). NULL sends none. */
struct hb_proto_numbers {
	const char *emergency;
	const char *crisis;
};
struct hb_proto_numbers hb_proto_engine_numbers(const struct hb_engine *engine);

char *hb_proto_reply(const struct hb_reply *reply, const char *in_reply_to,
		const char *conversation, const struct hb_proto_numbers *numbers);
char *hb_proto_greeting(const struct hb_reply *reply, const char *conversation,
		const struct hb_proto_numbers *numbers);
char *hb_proto_typing(const char *in_reply_to, const char *conversation);
/* message NULL: the status' default wording. */
char *hb_proto_error(enum hb_proto_status status, const char *message,
		const char *in_reply_to, const char *conversation);
char *hb_proto_undelivered(const char *conversation, const char *in_reply_to);

#endif
