#ifndef HB_MX_CONFIG_H
#define HB_MX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/* The "matrix" section of the config file; docs/matrix.md documents each
 * key. */
struct hb_mx_config {
	char *homeserver;
	char *user_id;
	char *access_token_file;
	char *device_id;        /* NULL: whatever device the token has */
	char *state_dir;
	char *command_prefix;
	char *ca_file;          /* NULL: the system trust store */
	char **allowed_inviters;
	size_t n_allowed_inviters;
	bool allow_plain_http;
	bool decline_invites;
	bool typing;
	bool read_receipts;
	long timeline_limit;
	long send_connections;      /* replies sent at once, across rooms */
	bool escalate_unaddressed;  /* answer emergencies nobody addressed */
	/* end-to-end encryption (bot/matrix/crypto.c); the key file holds
	 * the key the Olm/Megolm state is pickled with */
	bool encryption;
	char *encryption_key_file;
	/* an encrypted message whose key has not come after this long gets
	 * a notice asking for a resend */
	long undecryptable_timeout_s;
};

/* Checks and copies the section; logs "config: matrix.KEY: problem". */
bool hb_mx_config_parse(const struct cJSON *section, struct hb_mx_config *out);
void hb_mx_config_finish(struct hb_mx_config *c);

/* An inviter is allowed by its exact user id or by a "*:server" entry. */
bool hb_mx_config_inviter_allowed(const struct hb_mx_config *c,
		const char *user_id);

#endif
