#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "log.h"
#include "mxconfig.h"
#include "util.h"

#define SECTION "matrix"

static bool check_inviters(const struct hb_mx_config *c)
{
	for (size_t i = 0; i < c->n_allowed_inviters; i++) {
		const char *e = c->allowed_inviters[i];
		/* "*:server" admits a whole server; anything else must be a
		 * complete user id, so a typo cannot widen the list */
		if (strncmp(e, "*:", 2) == 0 ? e[2] != '\0' && !strpbrk(e + 2, " *")
				: hb_mx_user_id_valid(e))
			continue;
		hb_config_error(SECTION, "allowed_inviters",
			"entries are user ids (@name:server) or *:server");
		return false;
	}
	return true;
}

bool hb_mx_config_parse(const cJSON *section, struct hb_mx_config *out)
{
	static const char *const keys[] = { "enabled", "homeserver", "user_id",
		"access_token_file", "device_id", "allowed_inviters", "state_dir",
		"command_prefix", "ca_file", "allow_plain_http", "decline_invites",
		"typing_notifications", "read_receipts", "timeline_limit",
		"send_connections", "escalate_unaddressed",
		"encryption", "encryption_key_file", "undecryptable_timeout", NULL };
	struct hb_mx_config c = {
		.decline_invites = true,
		.typing = true,
		.read_receipts = true,
		.timeline_limit = 50,
		.send_connections = 4,
		.escalate_unaddressed = true,
		.undecryptable_timeout_s = 60,
	};
	bool enabled = true;
	*out = (struct hb_mx_config){0};
	if (!hb_config_check_keys(section, SECTION, keys) ||
			!hb_config_bool(section, SECTION, "enabled", &enabled) ||
			!hb_config_string(section, SECTION, "homeserver", true,
				&c.homeserver) ||
			!hb_config_string(section, SECTION, "user_id", true, &c.user_id) ||
			!hb_config_string(section, SECTION, "access_token_file", true,
				&c.access_token_file) ||
			!hb_config_string(section, SECTION, "device_id", false,
				&c.device_id) ||
			!hb_config_string(section, SECTION, "state_dir", true,
				&c.state_dir) ||
			!hb_config_string(section, SECTION, "command_prefix", false,
				&c.command_prefix) ||
			!hb_config_string(section, SECTION, "ca_file", false, &c.ca_file) ||
			!hb_config_strings(section, SECTION, "allowed_inviters",
				&c.allowed_inviters, &c.n_allowed_inviters) ||
			!hb_config_bool(section, SECTION, "allow_plain_http",
				&c.allow_plain_http) ||
			!hb_config_bool(section, SECTION, "decline_invites",
				&c.decline_invites) ||
			!hb_config_bool(section, SECTION, "typing_notifications",
				&c.typing) ||
			!hb_config_bool(section, SECTION, "read_receipts",
				&c.read_receipts) ||
			!hb_config_int(section, SECTION, "timeline_limit", 1, 500,
				&c.timeline_limit) ||
			!hb_config_int(section, SECTION, "send_connections", 1, 32,
				&c.send_connections) ||
			!hb_config_bool(section, SECTION, "escalate_unaddressed",
				&c.escalate_unaddressed) ||
			!hb_config_bool(section, SECTION, "encryption", &c.encryption) ||
			!hb_config_string(section, SECTION, "encryption_key_file", false,
				&c.encryption_key_file) ||
			!hb_config_int(section, SECTION, "undecryptable_timeout", 1, 86400,
				&c.undecryptable_timeout_s))
		goto fail;
	if (!c.command_prefix && !(c.command_prefix = strdup("!health")))
		goto fail;
	if (strpbrk(c.command_prefix, " \t\r\n")) {
		hb_config_error(SECTION, "command_prefix", "must be one word");
		goto fail;
	}
	struct hb_mx_url url;
	const char *why = NULL;
	if (!hb_mx_url_parse(c.homeserver, &url, &why)) {
		hb_config_error(SECTION, "homeserver", "%s", why);
		goto fail;
	}
	if (!url.tls && !c.allow_plain_http) {
		hb_config_error(SECTION, "homeserver", "is plain http://, which sends "
			"the access token unencrypted; use https:// or set "
			"\"allow_plain_http\": true (local testing only)");
		goto fail;
	}
	if (!hb_mx_user_id_valid(c.user_id)) {
		hb_config_error(SECTION, "user_id", "must be a full user id such as "
			"@healthbot:example.org");
		goto fail;
	}
	if (c.ca_file && access(c.ca_file, R_OK) != 0) {
		hb_config_error(SECTION, "ca_file", "cannot be read");
		goto fail;
	}
	if (!check_inviters(&c))
		goto fail;
	/* the key itself is read at start-up (crypto.c); only its place is
	 * config, so it never shows in argv, the environment or a log */
	if (c.encryption && !c.encryption_key_file) {
		hb_config_error(SECTION, "encryption_key_file", "is required when "
			"\"encryption\" is true: a file holding the key the "
			"encryption keys are stored with");
		goto fail;
	}
	if (c.encryption_key_file && access(c.encryption_key_file, R_OK) != 0) {
		hb_config_error(SECTION, "encryption_key_file", "cannot be read");
		goto fail;
	}
	*out = c;
	return true;
fail:
	hb_mx_config_finish(&c);
	return false;
}

void hb_mx_config_finish(struct hb_mx_config *c)
{
	if (!c)
		return;
	free(c->homeserver);
	free(c->user_id);
	free(c->access_token_file);
	free(c->device_id);
	free(c->state_dir);
	free(c->command_prefix);
	free(c->ca_file);
	free(c->encryption_key_file);
	hb_config_free_strings(c->allowed_inviters, c->n_allowed_inviters);
	*c = (struct hb_mx_config){0};
}

bool hb_mx_config_inviter_allowed(const struct hb_mx_config *c,
		const char *user_id)
{
	const char *server = hb_mx_user_server(user_id);
	if (!hb_mx_user_id_valid(user_id))
		return false;
	for (size_t i = 0; i < c->n_allowed_inviters; i++) {
		const char *e = c->allowed_inviters[i];
		if (strcmp(e, user_id) == 0)
			return true;
		if (strncmp(e, "*:", 2) == 0 && server && strcmp(e + 2, server) == 0)
			return true;
	}
	return false;
}
