#ifndef HB_CONVO_H
#define HB_CONVO_H

#include <stdint.h>

#include "healthbot.h"

/* What a conversation remembers between messages. Ids, not pointers, so
 * the memory stays valid across an engine reload. */
struct hb_convo_state {
	char article[64];
	char intent[64];
};

/* Copies the state of a live conversation into *state; false when there is
 * none or it is older than the store's max age. */
bool hb_convo_get(struct hb_conversations *conv, const char *id, int64_t now,
		struct hb_convo_state *state);
bool hb_convo_put(struct hb_conversations *conv, const char *id, int64_t now,
		const struct hb_convo_state *state);

#endif
