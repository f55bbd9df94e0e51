/*
 * End-to-end encrypted rooms (crypto.h): the parts without I/O, which
 * the unit tests and fuzzers link. crypto_task.c makes the requests.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "client.h"
#include "crypto.h"

bool hb_mx_crypto_available(void)
{
	/* decryption is not there yet (docs/matrix.md, Limits) */
	return false;
}

bool hb_mx_crypto_enabled(const struct hb_mx_client *c)
{
	return c->cfg.encryption && hb_mx_crypto_available();
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool hb_mx_crypto_event_encrypted(const cJSON *ev, const char *own_user_id)
{
	const char *type = str(ev, "type");
	if (!type)
		return false;
	if (strcmp(type, "m.room.encryption") == 0)
		return str(ev, "state_key") != NULL &&
			str(cJSON_GetObjectItemCaseSensitive(ev, "content"),
				"algorithm") != NULL;
	const char *sender = str(ev, "sender");
	return strcmp(type, "m.room.encrypted") == 0 && sender &&
		strcmp(sender, own_user_id) != 0;
}
