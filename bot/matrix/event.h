#ifndef HB_MX_EVENT_H
#define HB_MX_EVENT_H

#include <stdbool.h>

/*
 * Reading room events (is this a message the bot may answer, was it
 * addressed to the bot, what does it say once reply fallbacks and mentions
 * are taken out) and writing reply events. Pure functions on JSON, so the
 * rules can be read in one place.
 */
struct cJSON;

struct hb_mx_identity {
	const char *user_id;
	const char *display_name; /* NULL when unknown */
	const char *prefix;       /* command prefix, e.g. "!health" */
};

enum hb_mx_verdict {
	HB_MX_CANDIDATE,
	HB_MX_IGNORE_NOT_MESSAGE,
	HB_MX_IGNORE_OWN,
	HB_MX_IGNORE_NOTICE,
	HB_MX_IGNORE_NOT_TEXT,
	HB_MX_IGNORE_EDIT,       /* an edit without a readable new content */
	HB_MX_IGNORE_REDACTED,
	HB_MX_IGNORE_MALFORMED,
};

struct hb_mx_message {
	const char *event_id;    /* borrowed from the event */
	const char *sender;      /* borrowed */
	const char *thread_root; /* borrowed; NULL outside threads (and for
	                          * edits, whose relation is the edit) */
	const char *reply_to;    /* borrowed: the event it replies to, or NULL */
	const char *edit_of;     /* borrowed: for an edit (m.replace), the
	                          * event edited; the text is the new one */
	char *text;              /* owned: what the engine or a command reads */
	bool mentioned;
	bool prefixed;           /* text is then what followed the prefix */
};

/*
 * Reads a timeline event. An edit is read through its m.new_content (a
 * candidate with edit_of set: the caller decides what an edit deserves);
 * an empty body is read from formatted_body as text.
 */
enum hb_mx_verdict hb_mx_event_inspect(const struct cJSON *event,
		const struct hb_mx_identity *me, struct hb_mx_message *out);
void hb_mx_message_finish(struct hb_mx_message *msg);
const char *hb_mx_verdict_str(enum hb_mx_verdict verdict);

/* The bot's own membership turning into "join": events up to it in a
 * room's timeline are history from before the bot was there. */
bool hb_mx_event_is_own_join(const struct cJSON *event, const char *user_id);

/* HTML as plain text: tags dropped (<br>, </p>, </li>, </div> and </hN>
 * become line breaks), the <mx-reply> quote dropped, entities decoded.
 * Returns text to free, or NULL on OOM. */
char *hb_mx_html_text(const char *html);

/*
 * The content of a reply: m.notice, or m.text for an urgent reply so it
 * notifies (with the first paragraph in bold and the sender mentioned);
 * plain body and HTML; a reply to event_id, inside its thread when
 * thread_root is set. Returns JSON text to free, or NULL on OOM.
 */
char *hb_mx_event_reply_json(const char *text, const char *html, bool urgent,
		const char *event_id, const char *thread_root, const char *sender);

#endif
