#ifndef HB_MX_RECENT_H
#define HB_MX_RECENT_H

/*
 * A bounded memory, per room, of recent events the bot has reasons to
 * recognise later: its own replies (a reply to one of them addresses the
 * bot), the messages it answered (an edit of one gets a new answer, in
 * the same thread) and m.notice events (an edit of another bot's notice
 * must not start a loop). Event ids are kept as hashes; only a thread
 * root, needed to answer in the thread, is kept as it is. In memory only:
 * forgotten at restart.
 */
struct hb_mx_recent;

enum {
	HB_MX_RECENT_OWN = 1u << 0,      /* sent by the bot */
	HB_MX_RECENT_ANSWERED = 1u << 1, /* the bot answered it */
	HB_MX_RECENT_NOTICE = 1u << 2,   /* an m.notice */
};

struct hb_mx_recent *hb_mx_recent_create(void);
void hb_mx_recent_destroy(struct hb_mx_recent *recent);

/* Adds flags to what is known of the event; thread_root (may be NULL)
 * replaces the one known. Out of memory only forgets. */
void hb_mx_recent_note(struct hb_mx_recent *recent, const char *room_id,
		const char *event_id, unsigned flags, const char *thread_root);
/* The flags known for the event (0 when none); *thread_root, when not
 * NULL, is set to its thread root or NULL (valid until the next note). */
unsigned hb_mx_recent_flags(const struct hb_mx_recent *recent,
		const char *room_id, const char *event_id, const char **thread_root);

#endif
