/* Unit tests for the Matrix channel's pure parts: reading events, writing
 * replies, URLs and ids, the state file, the config section, the staff
 * commands, and end-to-end encryption between two bots' crypto state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "crypto.h"
#include "crypto_internal.h"
#include "event.h"
#include "healthbot.h"
#include "mxconfig.h"
#include "recent.h"
#include "store.h"
#include "util.h"

static const struct hb_mx_identity me = {
	.user_id = "@healthbot:example.org",
	.display_name = "Health Bot",
	.prefix = "!health",
};

static cJSON *message(const char *msgtype, const char *body, const char *extra)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "{\"type\":\"m.room.message\",\"event_id\":\"$e1\","
		"\"sender\":\"@alice:example.org\",\"content\":{\"msgtype\":\"%s\","
		"\"body\":\"%s\"%s%s}}", msgtype, body, extra ? "," : "",
		extra ? extra : "");
	cJSON *ev = cJSON_Parse(buf);
	assert_non_null(ev);
	return ev;
}

static enum hb_mx_verdict inspect(const char *msgtype, const char *body,
		const char *extra, struct hb_mx_message *msg)
{
	cJSON *ev = message(msgtype, body, extra);
	enum hb_mx_verdict v = hb_mx_event_inspect(ev, &me, msg);
	/* borrowed strings die with the event: keep only the owned text */
	msg->event_id = msg->sender = msg->thread_root = NULL;
	msg->reply_to = msg->edit_of = NULL;
	cJSON_Delete(ev);
	return v;
}

static void test_verdicts(void **state)
{
	struct hb_mx_message m;
	assert_int_equal(inspect("m.notice", "hi", NULL, &m), HB_MX_IGNORE_NOTICE);
	hb_mx_message_finish(&m);
	assert_int_equal(inspect("m.image", "x.png", NULL, &m), HB_MX_IGNORE_NOT_TEXT);
	hb_mx_message_finish(&m);
	/* an edit is read through its new content (test_edits) */
	assert_int_equal(inspect("m.text", "* fixed", "\"m.new_content\":{\"msgtype\":"
		"\"m.text\",\"body\":\"fixed\"},\"m.relates_to\":{\"rel_type\":"
		"\"m.replace\",\"event_id\":\"$e0\"}", &m), HB_MX_CANDIDATE);
	assert_string_equal(m.text, "fixed");
	hb_mx_message_finish(&m);
	/* ... and without one it is nothing to read */
	assert_int_equal(inspect("m.text", "* fixed", "\"m.relates_to\":{\"rel_type\":"
		"\"m.replace\",\"event_id\":\"$e0\"}", &m), HB_MX_IGNORE_EDIT);
	hb_mx_message_finish(&m);
	assert_int_equal(inspect("m.text", "hello", NULL, &m), HB_MX_CANDIDATE);
	assert_string_equal(m.text, "hello");
	assert_false(m.mentioned);
	assert_false(m.prefixed);
	hb_mx_message_finish(&m);

	cJSON *own = cJSON_Parse("{\"type\":\"m.room.message\",\"event_id\":\"$x\","
		"\"sender\":\"@healthbot:example.org\",\"content\":{\"msgtype\":"
		"\"m.text\",\"body\":\"hi\"}}");
	assert_int_equal(hb_mx_event_inspect(own, &me, &m), HB_MX_IGNORE_OWN);
	hb_mx_message_finish(&m);
	cJSON_Delete(own);
	cJSON *redacted = cJSON_Parse("{\"type\":\"m.room.message\",\"event_id\":"
		"\"$x\",\"sender\":\"@a:b\",\"content\":{},\"unsigned\":"
		"{\"redacted_because\":{}}}");
	assert_int_equal(hb_mx_event_inspect(redacted, &me, &m), HB_MX_IGNORE_REDACTED);
	hb_mx_message_finish(&m);
	cJSON_Delete(redacted);
	cJSON *member = cJSON_Parse("{\"type\":\"m.room.member\",\"state_key\":"
		"\"@a:b\",\"sender\":\"@a:b\",\"event_id\":\"$m\",\"content\":{}}");
	assert_int_equal(hb_mx_event_inspect(member, &me, &m), HB_MX_IGNORE_NOT_MESSAGE);
	hb_mx_message_finish(&m);
	cJSON_Delete(member);
}

static void test_mentions_and_prefix(void **state)
{
	struct hb_mx_message m;
	assert_int_equal(inspect("m.text", "what causes cramps?",
		"\"m.mentions\":{\"user_ids\":[\"@healthbot:example.org\"]}", &m),
		HB_MX_CANDIDATE);
	assert_true(m.mentioned);
	hb_mx_message_finish(&m);

	inspect("m.text", "Health Bot: what causes cramps?", NULL, &m);
	assert_true(m.mentioned);
	assert_string_equal(m.text, "what causes cramps?");
	hb_mx_message_finish(&m);

	inspect("m.text", "hey health bot, what causes cramps?", NULL, &m);
	assert_true(m.mentioned);
	assert_string_equal(m.text, "hey  what causes cramps?");
	hb_mx_message_finish(&m);

	/* part of a longer word is not the name */
	inspect("m.text", "Health Botany is fun", NULL, &m);
	assert_false(m.mentioned);
	hb_mx_message_finish(&m);

	inspect("m.text", "@healthbot:example.org what causes cramps?", NULL, &m);
	assert_true(m.mentioned);
	assert_string_equal(m.text, "what causes cramps?");
	hb_mx_message_finish(&m);

	inspect("m.text", "hi", "\"format\":\"org.matrix.custom.html\","
		"\"formatted_body\":\"<a href=\\\"https://matrix.to/#/@healthbot:example.org\\\">"
		"HB</a> hi\"", &m);
	assert_true(m.mentioned);
	hb_mx_message_finish(&m);

	inspect("m.text", "!health cramps self-care", NULL, &m);
	assert_true(m.prefixed);
	assert_string_equal(m.text, "cramps self-care");
	hb_mx_message_finish(&m);

	inspect("m.text", "!HEALTH", NULL, &m);
	assert_true(m.prefixed);
	assert_string_equal(m.text, "");
	hb_mx_message_finish(&m);

	inspect("m.text", "!healthy food", NULL, &m);
	assert_false(m.prefixed);
	hb_mx_message_finish(&m);
}

/* Edits carry what they edit; replies what they reply to. */
static void test_edits(void **state)
{
	struct hb_mx_message m;
	cJSON *ev = cJSON_Parse("{\"type\":\"m.room.message\",\"event_id\":\"$e2\","
		"\"sender\":\"@alice:example.org\",\"content\":{\"msgtype\":\"m.text\","
		"\"body\":\"* what causes cramps?\",\"m.new_content\":{\"msgtype\":"
		"\"m.text\",\"body\":\"Health Bot: what causes cramps?\"},"
		"\"m.relates_to\":{\"rel_type\":\"m.replace\",\"event_id\":\"$e1\"}}}");
	assert_int_equal(hb_mx_event_inspect(ev, &me, &m), HB_MX_CANDIDATE);
	assert_string_equal(m.edit_of, "$e1");
	assert_string_equal(m.event_id, "$e2");
	assert_null(m.thread_root);
	assert_null(m.reply_to);
	assert_true(m.mentioned); /* read from the new content */
	assert_string_equal(m.text, "what causes cramps?");
	hb_mx_message_finish(&m);
	cJSON_Delete(ev);

	/* an edit turning a message into a notice is a notice */
	ev = cJSON_Parse("{\"type\":\"m.room.message\",\"event_id\":\"$e3\","
		"\"sender\":\"@alice:example.org\",\"content\":{\"msgtype\":\"m.text\","
		"\"body\":\"* x\",\"m.new_content\":{\"msgtype\":\"m.notice\","
		"\"body\":\"x\"},\"m.relates_to\":{\"rel_type\":\"m.replace\","
		"\"event_id\":\"$e1\"}}}");
	assert_int_equal(hb_mx_event_inspect(ev, &me, &m), HB_MX_IGNORE_NOTICE);
	hb_mx_message_finish(&m);
	cJSON_Delete(ev);

	ev = message("m.text", "and at night?",
		"\"m.relates_to\":{\"m.in_reply_to\":{\"event_id\":\"$bot1\"}}");
	assert_int_equal(hb_mx_event_inspect(ev, &me, &m), HB_MX_CANDIDATE);
	assert_string_equal(m.reply_to, "$bot1");
	assert_null(m.edit_of);
	assert_false(m.mentioned);
	hb_mx_message_finish(&m);
	cJSON_Delete(ev);
}

/* An empty body is read from the HTML, as text. */
static void test_formatted_body(void **state)
{
	struct hb_mx_message m;
	assert_int_equal(inspect("m.text", "", "\"format\":\"org.matrix.custom.html\","
		"\"formatted_body\":\"<mx-reply><blockquote>Source: quoted</blockquote>"
		"</mx-reply><p>what causes <b>night</b> leg cramps &amp; spasms?</p>\"",
		&m), HB_MX_CANDIDATE);
	assert_string_equal(m.text, "what causes night leg cramps & spasms?");
	hb_mx_message_finish(&m);
	/* a pill naming the bot addresses it and is removed like a name */
	assert_int_equal(inspect("m.text", " ", "\"formatted_body\":\"<a href="
		"\\\"https://matrix.to/#/@healthbot:example.org\\\">Health Bot</a>: "
		"I can&#39;t breathe\"", &m), HB_MX_CANDIDATE);
	assert_true(m.mentioned);
	assert_string_equal(m.text, "I can't breathe");
	hb_mx_message_finish(&m);
	/* a body is still preferred to the HTML */
	inspect("m.text", "plain", "\"formatted_body\":\"<p>html</p>\"", &m);
	assert_string_equal(m.text, "plain");
	hb_mx_message_finish(&m);
	/* neither: nothing to read */
	cJSON *ev = cJSON_Parse("{\"type\":\"m.room.message\",\"event_id\":\"$e\","
		"\"sender\":\"@a:b\",\"content\":{\"msgtype\":\"m.text\"}}");
	assert_int_equal(hb_mx_event_inspect(ev, &me, &m), HB_MX_IGNORE_MALFORMED);
	hb_mx_message_finish(&m);
	cJSON_Delete(ev);

	static const struct { const char *html, *text; } cases[] = {
		{ "a<br>b<br/>c", "a\nb\nc" },
		{ "<p>one</p><p>two</p>", "\none\n\ntwo\n" },
		{ "caf&#233; &#x1F600; &lt;3 &quot;x&quot; &nbsp;", "caf\xc3\xa9 \xf0\x9f\x98\x80 <3 \"x\"  " },
		{ "&bogus; &#; &#0; &", "&bogus; &#; \xef\xbf\xbd &" },
		{ "<mx-reply>q1</mx-reply>x<mx-reply>q2</mx-reply>y", "xy" },
		{ "cut <b", "cut " },
		/* an unclosed quote is not a quote: its text stays */
		{ "<mx-reply>never closed", "never closed" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = hb_mx_html_text(cases[i].html);
		assert_non_null(t);
		assert_string_equal(t, cases[i].text);
		free(t);
	}
}

static void test_recent(void **state)
{
	struct hb_mx_recent *r = hb_mx_recent_create();
	const char *root;
	assert_non_null(r);
	assert_int_equal(hb_mx_recent_flags(r, "!a", "$1", &root), 0);
	hb_mx_recent_note(r, "!a", "$1", HB_MX_RECENT_OWN, NULL);
	hb_mx_recent_note(r, "!a", "$2", HB_MX_RECENT_ANSWERED, "$root");
	hb_mx_recent_note(r, "!a", "$2", HB_MX_RECENT_NOTICE, NULL);
	assert_int_equal(hb_mx_recent_flags(r, "!a", "$1", NULL), HB_MX_RECENT_OWN);
	assert_int_equal(hb_mx_recent_flags(r, "!a", "$2", &root),
		HB_MX_RECENT_ANSWERED | HB_MX_RECENT_NOTICE);
	assert_string_equal(root, "$root");
	/* per room */
	assert_int_equal(hb_mx_recent_flags(r, "!b", "$1", NULL), 0);
	/* bounded: a busy room forgets its oldest events, not other rooms' */
	for (int i = 0; i < 200; i++) {
		char id[16];
		snprintf(id, sizeof(id), "$b%d", i);
		hb_mx_recent_note(r, "!b", id, HB_MX_RECENT_OWN, "$t");
	}
	assert_int_equal(hb_mx_recent_flags(r, "!b", "$b0", NULL), 0);
	assert_int_equal(hb_mx_recent_flags(r, "!b", "$b199", NULL), HB_MX_RECENT_OWN);
	assert_int_equal(hb_mx_recent_flags(r, "!a", "$1", NULL), HB_MX_RECENT_OWN);
	/* many rooms: the one quiet for longest goes */
	for (int i = 0; i < 2000; i++) {
		char room[16];
		snprintf(room, sizeof(room), "!r%d", i);
		hb_mx_recent_note(r, room, "$x", HB_MX_RECENT_OWN, NULL);
	}
	assert_int_equal(hb_mx_recent_flags(r, "!a", "$1", NULL), 0);
	assert_int_equal(hb_mx_recent_flags(r, "!r1999", "$x", NULL), HB_MX_RECENT_OWN);
	hb_mx_recent_note(NULL, "!a", "$1", HB_MX_RECENT_OWN, NULL);
	assert_int_equal(hb_mx_recent_flags(NULL, "!a", "$1", NULL), 0);
	hb_mx_recent_destroy(r);
	hb_mx_recent_destroy(NULL);
}

static void test_reply_fallback(void **state)
{
	struct hb_mx_message m;
	/* the quote names the bot and says "causes": neither counts */
	inspect("m.text", "> <@healthbot:example.org> Night leg cramps: Causes\\n"
		"> Most of the time...\\n\\nhow do I prevent them?",
		"\"m.relates_to\":{\"m.in_reply_to\":{\"event_id\":\"$a\"}},"
		"\"format\":\"org.matrix.custom.html\",\"formatted_body\":"
		"\"<mx-reply><blockquote><a href=\\\"https://matrix.to/#/"
		"@healthbot:example.org\\\">HB</a> Causes</blockquote></mx-reply>"
		"how do I prevent them?\"", &m);
	assert_string_equal(m.text, "how do I prevent them?");
	assert_false(m.mentioned);
	hb_mx_message_finish(&m);

	/* "> " at the start of a message that is no reply is the person's */
	inspect("m.text", "> 5 cramps a night", NULL, &m);
	assert_string_equal(m.text, "> 5 cramps a night");
	hb_mx_message_finish(&m);
}

static void test_thread_root(void **state)
{
	cJSON *ev = message("m.text", "more?", "\"m.relates_to\":{\"rel_type\":"
		"\"m.thread\",\"event_id\":\"$root\",\"is_falling_back\":true,"
		"\"m.in_reply_to\":{\"event_id\":\"$prev\"}}");
	struct hb_mx_message m;
	assert_int_equal(hb_mx_event_inspect(ev, &me, &m), HB_MX_CANDIDATE);
	assert_string_equal(m.thread_root, "$root");
	hb_mx_message_finish(&m);
	cJSON_Delete(ev);
}

static void test_own_join(void **state)
{
	cJSON *join = cJSON_Parse("{\"type\":\"m.room.member\",\"state_key\":"
		"\"@healthbot:example.org\",\"content\":{\"membership\":\"join\"},"
		"\"unsigned\":{\"prev_content\":{\"membership\":\"invite\"}}}");
	cJSON *rename = cJSON_Parse("{\"type\":\"m.room.member\",\"state_key\":"
		"\"@healthbot:example.org\",\"content\":{\"membership\":\"join\"},"
		"\"unsigned\":{\"prev_content\":{\"membership\":\"join\"}}}");
	cJSON *other = cJSON_Parse("{\"type\":\"m.room.member\",\"state_key\":"
		"\"@bob:example.org\",\"content\":{\"membership\":\"join\"}}");
	assert_true(hb_mx_event_is_own_join(join, me.user_id));
	assert_false(hb_mx_event_is_own_join(rename, me.user_id));
	assert_false(hb_mx_event_is_own_join(other, me.user_id));
	cJSON_Delete(join);
	cJSON_Delete(rename);
	cJSON_Delete(other);
}

static void test_reply_json(void **state)
{
	char *s = hb_mx_event_reply_json("Answer", "<p>Answer</p>", false, "$q",
		NULL, "@alice:example.org");
	cJSON *c = cJSON_Parse(s);
	assert_string_equal(cJSON_GetObjectItem(c, "msgtype")->valuestring, "m.notice");
	assert_string_equal(cJSON_GetObjectItem(c, "format")->valuestring,
		"org.matrix.custom.html");
	const cJSON *rel = cJSON_GetObjectItem(c, "m.relates_to");
	assert_null(cJSON_GetObjectItem(rel, "rel_type"));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(rel,
		"m.in_reply_to"), "event_id")->valuestring, "$q");
	assert_null(cJSON_GetObjectItem(c, "m.mentions")->child);
	cJSON_Delete(c);
	free(s);

	s = hb_mx_event_reply_json("Call 911 now.\nMore", "<p>Call 911 now.</p>\n<p>More</p>",
		true, "$q", "$root", "@alice:example.org");
	c = cJSON_Parse(s);
	assert_string_equal(cJSON_GetObjectItem(c, "msgtype")->valuestring, "m.text");
	assert_string_equal(cJSON_GetObjectItem(c, "formatted_body")->valuestring,
		"<p><strong>Call 911 now.</strong></p>\n<p>More</p>");
	rel = cJSON_GetObjectItem(c, "m.relates_to");
	assert_string_equal(cJSON_GetObjectItem(rel, "rel_type")->valuestring, "m.thread");
	assert_string_equal(cJSON_GetObjectItem(rel, "event_id")->valuestring, "$root");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(c,
		"m.mentions"), "user_ids"), 0)->valuestring, "@alice:example.org");
	cJSON_Delete(c);
	free(s);
}

static void test_urls_and_ids(void **state)
{
	struct hb_mx_url u;
	const char *why = NULL;
	assert_true(hb_mx_url_parse("https://matrix.example.org", &u, &why));
	assert_true(u.tls);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.host, "matrix.example.org");
	assert_string_equal(u.prefix, "");
	assert_false(u.host_is_ip);
	assert_true(hb_mx_url_parse("http://127.0.0.1:8008/", &u, &why));
	assert_false(u.tls);
	assert_int_equal(u.port, 8008);
	assert_true(u.host_is_ip);
	assert_true(hb_mx_url_parse("https://[::1]:8448/matrix/", &u, &why));
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.prefix, "/matrix");
	assert_false(hb_mx_url_parse("matrix.example.org", &u, &why));
	assert_false(hb_mx_url_parse("https://", &u, &why));
	assert_false(hb_mx_url_parse("https://a:0", &u, &why));
	assert_false(hb_mx_url_parse("https://u@a", &u, &why));
	assert_false(hb_mx_url_parse("https://a/?x=1", &u, &why));

	assert_true(hb_mx_user_id_valid("@a:b"));
	assert_false(hb_mx_user_id_valid("a:b"));
	assert_false(hb_mx_user_id_valid("@:b"));
	assert_false(hb_mx_user_id_valid("@a:"));
	assert_string_equal(hb_mx_user_server("@a:b.org:8448"), "b.org:8448");

	char h1[HB_MX_HASH_HEX], h2[HB_MX_HASH_HEX], h3[HB_MX_HASH_HEX];
	hb_mx_hash(h1, "!room:x", "$t", NULL);
	hb_mx_hash(h2, "!room:x", "$t", NULL);
	hb_mx_hash(h3, "!room:x$t", NULL, NULL);
	assert_string_equal(h1, h2);
	assert_string_not_equal(h1, h3);
	assert_int_equal(strlen(h1), 32);

	struct hb_buf s;
	hb_buf_init(&s);
	hb_mx_urlencode(&s, "!a/b:c d");
	assert_string_equal(s.data, "%21a%2Fb%3Ac%20d");
	hb_buf_finish(&s);
}

static char *temp_dir(void)
{
	char tmpl[] = "/tmp/hb-matrix-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void remove_dir(const char *dir)
{
	char p[512];
	const char *files[] = { "matrix-state.json", "matrix-state.json.tmp",
		"matrix-state.lock" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void test_store(void **state)
{
	char *dir = temp_dir();
	struct hb_mx_store *s = hb_mx_store_open(dir, "@bot:x");
	assert_non_null(s);
	assert_null(hb_mx_store_since(s));
	/* one process per state */
	assert_null(hb_mx_store_open(dir, "@bot:x"));
	assert_true(hb_mx_store_set_since(s, "s72_1"));
	assert_int_equal(hb_mx_store_members(s, "!r:x"), -1);
	hb_mx_store_set_members(s, "!r:x", 2, -1);
	assert_int_equal(hb_mx_store_members(s, "!r:x"), 2);
	hb_mx_store_set_members(s, "!r:x", -1, 1);
	assert_int_equal(hb_mx_store_members(s, "!r:x"), 3);
	hb_mx_store_set_members(s, "!gone:x", 5, 0);
	hb_mx_store_forget_room(s, "!gone:x");
	for (int i = 0; i < 1500; i++) {
		char id[32];
		snprintf(id, sizeof(id), "$event%d", i);
		hb_mx_store_mark_handled(s, id);
	}
	assert_true(hb_mx_store_save(s));
	hb_mx_store_destroy(s);

	/* nothing in the file names a room or an event */
	char path[512];
	snprintf(path, sizeof(path), "%s/matrix-state.json", dir);
	FILE *f = fopen(path, "r");
	char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_null(strstr(buf, "!r:x"));
	assert_null(strstr(buf, "$event"));

	s = hb_mx_store_open(dir, "@bot:x");
	assert_string_equal(hb_mx_store_since(s), "s72_1");
	assert_int_equal(hb_mx_store_members(s, "!r:x"), 3);
	assert_int_equal(hb_mx_store_members(s, "!gone:x"), -1);
	assert_true(hb_mx_store_handled(s, "$event1499"));
	assert_true(hb_mx_store_handled(s, "$event500"));
	assert_false(hb_mx_store_handled(s, "$event10")); /* aged out */
	assert_true(hb_mx_store_set_since(s, NULL));
	assert_null(hb_mx_store_since(s));
	hb_mx_store_destroy(s);

	/* another account's state is not resumed */
	s = hb_mx_store_open(dir, "@other:x");
	assert_null(hb_mx_store_since(s));
	assert_false(hb_mx_store_handled(s, "$event1499"));
	hb_mx_store_destroy(s);
	hb_mx_store_destroy(NULL);
	remove_dir(dir);
	free(dir);
}

static void test_config(void **state)
{
	struct hb_mx_config c;
	cJSON *ok = cJSON_Parse("{\"homeserver\":\"https://m.example.org\","
		"\"user_id\":\"@bot:example.org\",\"access_token_file\":\"/t\","
		"\"state_dir\":\"/s\",\"allowed_inviters\":[\"@alice:example.org\","
		"\"*:staff.example.org\"]}");
	assert_true(hb_mx_config_parse(ok, &c));
	assert_string_equal(c.command_prefix, "!health");
	assert_true(c.decline_invites);
	assert_int_equal(c.send_connections, 4);
	assert_true(c.escalate_unaddressed);
	assert_true(hb_mx_config_inviter_allowed(&c, "@alice:example.org"));
	assert_true(hb_mx_config_inviter_allowed(&c, "@nurse:staff.example.org"));
	assert_false(hb_mx_config_inviter_allowed(&c, "@bob:example.org"));
	assert_false(hb_mx_config_inviter_allowed(&c, "@x:evil.staff.example.org"));
	assert_false(hb_mx_config_inviter_allowed(&c, "staff.example.org"));
	hb_mx_config_finish(&c);
	cJSON_Delete(ok);

	const char *bad[] = {
		"{\"homeserver\":\"http://m\",\"user_id\":\"@b:m\",\"access_token_file\":\"/t\",\"state_dir\":\"/s\"}",
		"{\"homeserver\":\"https://m\",\"user_id\":\"b\",\"access_token_file\":\"/t\",\"state_dir\":\"/s\"}",
		"{\"homeserver\":\"https://m\",\"user_id\":\"@b:m\",\"state_dir\":\"/s\"}",
		"{\"homeserver\":\"https://m\",\"user_id\":\"@b:m\",\"access_token_file\":\"/t\",\"state_dir\":\"/s\",\"allowed_inviters\":[\"*\"]}",
		"{\"homeserver\":\"https://m\",\"user_id\":\"@b:m\",\"access_token_file\":\"/t\",\"state_dir\":\"/s\",\"command_prefix\":\"! h\"}",
		"{\"homeserver\":\"https://m\",\"user_id\":\"@b:m\",\"access_token_file\":\"/t\",\"state_dir\":\"/s\",\"surprise\":1}",
		"{\"homeserver\":\"https://m\",\"user_id\":\"@b:m\",\"access_token_file\":\"/t\",\"state_dir\":\"/s\",\"send_connections\":0}",
		"{\"homeserver\":\"https://m\",\"user_id\":\"@b:m\",\"access_token_file\":\"/t\",\"state_dir\":\"/s\",\"send_connections\":33}",
		"{\"homeserver\":\"https://m\",\"user_id\":\"@b:m\",\"access_token_file\":\"/t\",\"state_dir\":\"/s\",\"escalate_unaddressed\":\"yes\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j = cJSON_Parse(bad[i]);
		assert_false(hb_mx_config_parse(j, &c));
		cJSON_Delete(j);
	}

	/* the shipped example is valid */
	FILE *f = fopen(SOURCE_ROOT "/packaging/matrix-example.json", "r");
	assert_non_null(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cJSON *example = cJSON_Parse(buf);
	assert_non_null(example);
	assert_true(hb_mx_config_parse(cJSON_GetObjectItem(example, "matrix"), &c));
	assert_true(hb_mx_config_inviter_allowed(&c, "@anyone:staff.example.org"));
	hb_mx_config_finish(&c);
	cJSON_Delete(example);
}

static struct hb_engine *engine;

static void test_commands(void **state)
{
	struct hb_reply r;
	const char *name = NULL;
	/* the shipped library must load: a skip here would hide that */
	assert_non_null(engine);
	assert_true(hb_mx_command_run(engine, "!health", "topics", &r, &name));
	assert_string_equal(name, "topics");
	/* the data's wording ("command_topics") around the library's list */
	assert_int_equal(strncmp(r.text, "Articles in the library (", 25), 0);
	assert_non_null(strstr(r.text, "\n  \xe2\x80\xa2 Night leg cramps "
		"(night-leg-cramps)"));
	assert_non_null(strstr(r.text, "\n\nFor a whole section: !health "
		"<topic> <section>\n"));
	assert_null(strstr(r.text, "{"));
	assert_non_null(strstr(r.html, "</p>\n<ul>\n<li><strong>"));
	assert_non_null(strstr(r.html, "<li><strong>Night leg cramps</strong> "
		"(<code>night-leg-cramps</code>)</li>\n"));
	assert_non_null(strstr(r.html, "</ul>\n<p>For a whole section: "
		"!health &lt;topic&gt; &lt;section&gt;</p>"));
	hb_reply_finish(&r);
	assert_true(hb_mx_command_run(engine, "!health", "", &r, &name));
	assert_string_equal(name, "help");
	/* the wording is the data's ("command_help"), the HTML made from it */
	assert_non_null(strstr(r.text, "  !health topics: the articles"));
	assert_null(strstr(r.text, "{prefix}"));
	assert_non_null(strstr(r.html, "<li><code>!health topics</code>: the "));
	assert_non_null(strstr(r.html, "<code>!health &lt;topic&gt; &lt;section&gt;"
		"</code>"));
	assert_int_equal(strncmp(r.html, "<p>I answer", 11), 0);
	assert_non_null(strstr(r.html, "</ul>\n<p>"));
	hb_reply_finish(&r);
	/* the prefix is the operator's: escaped like any text */
	assert_true(hb_mx_command_run(engine, "<b>&", "help", &r, &name));
	assert_null(strstr(r.html, "<b>"));
	assert_non_null(strstr(r.html, "<code>&lt;b&gt;&amp; topics</code>"));
	hb_reply_finish(&r);
	assert_true(hb_mx_command_run(engine, "!health", "cramps self-care", &r, &name));
	assert_string_equal(name, "section");
	assert_int_equal(strncmp(r.text, "Night leg cramps: Self-care", 27), 0);
	assert_non_null(r.source.title);
	hb_reply_finish(&r);
	assert_true(hb_mx_command_run(engine, "!health", "night leg cramps when to see a doctor",
		&r, &name));
	assert_non_null(strstr(r.text, "When to see a doctor"));
	hb_reply_finish(&r);
	/* a known topic and a section it lacks: the sections it has */
	assert_true(hb_mx_command_run(engine, "!health", "cramps nonsense", &r, &name));
	assert_non_null(strstr(r.text, "Self-care"));
	hb_reply_finish(&r);
	/* questions go to the engine */
	assert_false(hb_mx_command_run(engine, "!health", "what causes cramps?", &r, &name));
	assert_false(hb_mx_command_run(engine, "!health",
		"why do my legs cramp at night when I have been walking all day", &r, &name));
}

/* Intents without the command wording load; "help" and "topics" are
 * then questions for the engine. */
static void test_help_without_wording(void **state)
{
	struct hb_engine_options opts = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/tests/fuzz/min-intents",
	};
	struct hb_error err;
	struct hb_reply r;
	const char *name = NULL;
	struct hb_engine *bare = hb_engine_create(&opts, &err);
	(void)state;
	assert_non_null(bare);
	assert_null(hb_engine_wording(bare, "command_help"));
	assert_null(hb_engine_wording(bare, "no_such_key"));
	assert_false(hb_mx_command_run(bare, "!health", "help", &r, &name));
	assert_false(hb_mx_command_run(bare, "!health", "topics", &r, &name));
	hb_engine_destroy(bare);
}

/* ---- end-to-end encryption (crypto*.c) ---- */

struct party {
	char *dir;
	char key_file[600];
	struct hb_mx_config cfg;
	struct hb_mx_crypto *cr;
};

static void party_open(struct party *p, const char *user, const char *key)
{
	FILE *f;
	if (!p->dir) {
		p->dir = temp_dir();
		snprintf(p->key_file, sizeof(p->key_file), "%s/key", p->dir);
	}
	f = fopen(p->key_file, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", key);
	fclose(f);
	p->cfg = (struct hb_mx_config){ .state_dir = p->dir,
		.user_id = (char *)user, .encryption = true,
		.encryption_key_file = p->key_file, .undecryptable_timeout_s = 60 };
	p->cr = hb_mx_crypto_create(&p->cfg);
}

static void party_close(struct party *p)
{
	hb_mx_crypto_destroy(p->cr);
	p->cr = NULL;
}

static void party_remove(struct party *p)
{
	char path[700];
	const char *files[] = { "key", "matrix-crypto.json",
		"matrix-crypto.json.tmp" };
	party_close(p);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", p->dir, files[i]);
		unlink(path);
	}
	rmdir(p->dir);
	free(p->dir);
}

static cJSON *parse(const char *s)
{
	cJSON *v = cJSON_Parse(s);
	assert_non_null(v);
	return v;
}

#define KEY_A "0123456789abcdef0123456789abcdef"
#define KEY_B "fedcba9876543210fedcba9876543210"

/* The account is made once, saved with the key, read back with it, and
 * refused with another key; its device keys are signed. */
static void test_crypto_account(void **state)
{
	struct party a = {0};
	(void)state;
	party_open(&a, "@a:example.org", "short");
	assert_null(a.cr); /* a guessable key is refused */
	party_open(&a, "@a:example.org", KEY_A);
	assert_non_null(a.cr);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	char curve[HB_MX_KEY_LEN];
	snprintf(curve, sizeof(curve), "%s", a.cr->curve);
	assert_int_equal(strlen(curve), 43);
	/* the first upload: signed device keys, and it asks the count */
	char *body = hb_mx_crypto_upload_body(a.cr);
	assert_non_null(body);
	cJSON *up = parse(body);
	const cJSON *dk = cJSON_GetObjectItemCaseSensitive(up, "device_keys");
	assert_true(hb_mx_crypto_verify(a.cr, dk, "@a:example.org", "ADEV",
		a.cr->ed));
	assert_false(hb_mx_crypto_verify(a.cr, dk, "@a:example.org", "ADEV",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_null(cJSON_GetObjectItemCaseSensitive(up, "one_time_keys"));
	cJSON_Delete(up);
	free(body);
	const char *counts = "{\"one_time_key_counts\":{}}";
	hb_mx_crypto_uploaded(a.cr, counts, strlen(counts));
	/* then one-time keys, each signed */
	body = hb_mx_crypto_upload_body(a.cr);
	up = parse(body);
	assert_null(cJSON_GetObjectItemCaseSensitive(up, "device_keys"));
	const cJSON *otks = cJSON_GetObjectItemCaseSensitive(up, "one_time_keys");
	assert_int_equal(cJSON_GetArraySize(otks), 50);
	assert_true(hb_mx_crypto_verify(a.cr, otks->child, "@a:example.org",
		"ADEV", a.cr->ed));
	cJSON_Delete(up);
	free(body);
	counts = "{\"one_time_key_counts\":{\"signed_curve25519\":50}}";
	hb_mx_crypto_uploaded(a.cr, counts, strlen(counts));
	assert_false(hb_mx_crypto_upload_due(a.cr));
	/* a sync saying they ran low asks for more */
	cJSON *sync = parse("{\"device_one_time_keys_count\":"
		"{\"signed_curve25519\":3}}");
	hb_mx_crypto_read_sync(a.cr, sync);
	cJSON_Delete(sync);
	assert_true(hb_mx_crypto_upload_due(a.cr));
	party_close(&a);

	/* read back: the same identity, nothing uploaded twice */
	party_open(&a, "@a:example.org", KEY_A);
	assert_non_null(a.cr);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	assert_string_equal(a.cr->curve, curve);
	assert_true(a.cr->device_keys_uploaded);
	party_close(&a);
	/* another key cannot read it, and nothing is made over it */
	party_open(&a, "@a:example.org", KEY_B);
	assert_null(a.cr);
	party_open(&a, "@a:example.org", KEY_A);
	assert_non_null(a.cr);
	/* another device: new keys */
	assert_true(hb_mx_crypto_set_device(a.cr, "OTHER"));
	assert_string_not_equal(a.cr->curve, curve);
	party_remove(&a);
}

static cJSON *read_json(const char *path)
{
	static char data[1 << 20];
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(data, 1, sizeof(data) - 1, f);
	fclose(f);
	data[n] = '\0';
	return parse(data);
}

static void write_json(const char *path, const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	FILE *f = fopen(path, "wb");
	assert_non_null(text);
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(text);
}

/* The message indices kept per inbound session: sorted, the first event
 * of an index kept, and at the cap the lowest forgotten first. */
static void test_crypto_seen_cap(void **state)
{
	struct inbound in = {0};
	char ev[HB_MX_HASH_HEX];
	(void)state;
	/* backfilled out of order */
	for (uint32_t i = HB_MX_SEEN_MAX + 10; i-- > 10;) {
		snprintf(ev, sizeof(ev), "e%u", (unsigned)i);
		assert_true(hb_mx_inbound_seen_add(&in, i, ev));
	}
	assert_int_equal(in.n_seen, HB_MX_SEEN_MAX);
	assert_true(hb_mx_inbound_seen_add(&in, 10, "other"));
	assert_int_equal(in.seen[0].index, 10);
	assert_string_equal(in.seen[0].event, "e10");
	/* full: older than all kept is not kept */
	assert_true(hb_mx_inbound_seen_add(&in, 5, "e5"));
	assert_int_equal(in.seen[0].index, 10);
	/* a newer one pushes out the lowest */
	assert_true(hb_mx_inbound_seen_add(&in, 1000, "e1000"));
	assert_int_equal(in.n_seen, HB_MX_SEEN_MAX);
	assert_int_equal(in.seen[0].index, 11);
	assert_int_equal(in.seen[HB_MX_SEEN_MAX - 1].index, 1000);
	assert_true(hb_mx_inbound_seen_add(&in, 999, "e999"));
	assert_int_equal(in.seen[0].index, 12);
	assert_string_equal(in.seen[HB_MX_SEEN_MAX - 2].event, "e999");
	for (size_t k = 1; k < in.n_seen; k++)
		assert_true(in.seen[k - 1].index < in.seen[k].index);
	hb_mx_inbound_clear(&in);
	assert_null(in.seen);
}

/* Two parties: A shares a room session with B over Olm, B decrypts A's
 * room messages, and only those from A, in that room. */
static void test_crypto_roundtrip(void **state)
{
	struct party a = {0}, b = {0};
	char buf[8192];
	(void)state;
	party_open(&a, "@a:example.org", KEY_A);
	party_open(&b, "@b:example.org", KEY_B);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	assert_true(hb_mx_crypto_set_device(b.cr, "BDEV"));
	/* B's keys, as /keys/query and /keys/claim would give them */
	char *up = hb_mx_crypto_upload_body(b.cr);
	cJSON *bkeys = parse(up);
	free(up);
	b.cr->otk_count = 0;
	up = hb_mx_crypto_upload_body(b.cr);
	cJSON *botk = parse(up);
	free(up);
	cJSON *query = cJSON_CreateObject();
	cJSON *users = cJSON_AddObjectToObject(cJSON_AddObjectToObject(query,
		"device_keys"), "@b:example.org");
	cJSON_AddItemToObject(users, "BDEV", cJSON_DetachItemFromObject(bkeys,
		"device_keys"));
	char *asked[] = { "@b:example.org" };
	assert_true(hb_mx_crypto_query_due(a.cr, asked[0]));
	hb_mx_crypto_read_query(a.cr, query, asked, 1);
	assert_false(hb_mx_crypto_query_due(a.cr, asked[0]));
	assert_int_equal(a.cr->n_devices, 1);
	char *members[] = { "@a:example.org", "@b:example.org" };
	char *claim = hb_mx_crypto_claim_body(a.cr, members, 2);
	assert_non_null(claim);
	assert_non_null(strstr(claim, "\"BDEV\":\"signed_curve25519\""));
	free(claim);
	const cJSON *one = cJSON_GetObjectItemCaseSensitive(botk,
		"one_time_keys")->child;
	char *one_json = cJSON_PrintUnformatted(one);
	snprintf(buf, sizeof(buf), "{\"one_time_keys\":{\"@b:example.org\":"
		"{\"BDEV\":{\"%s\":%s}}}}", one->string, one_json);
	free(one_json);
	cJSON *claimed = parse(buf);
	hb_mx_crypto_read_claim(a.cr, claimed);
	assert_int_equal(a.cr->n_peers, 1);
	assert_null(hb_mx_crypto_claim_body(a.cr, members, 2));

	/* the room, its session, its key to B */
	const char *room = "!room:example.org";
	cJSON *enc = parse("{\"type\":\"m.room.encryption\",\"state_key\":\"\","
		"\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\","
		"\"rotation_period_msgs\":2}}");
	hb_mx_crypto_room_event(a.cr, room, enc);
	cJSON_Delete(enc);
	assert_true(hb_mx_crypto_room_encrypted(a.cr, room));
	assert_true(hb_mx_crypto_share_due(a.cr, room));
	char *share;
	size_t sent, skipped;
	assert_true(hb_mx_crypto_share_body(a.cr, room, members, 2, &share, &sent,
		&skipped));
	assert_int_equal(sent, 1);
	assert_false(hb_mx_crypto_share_due(a.cr, room));
	cJSON *sh = parse(share);
	free(share);
	cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(sh, "messages"), "@b:example.org"),
		"BDEV");
	assert_non_null(content);
	cJSON *todev = cJSON_CreateObject();
	cJSON *evs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(todev,
		"to_device"), "events");
	cJSON *tev = cJSON_CreateObject();
	cJSON_AddStringToObject(tev, "type", "m.room.encrypted");
	cJSON_AddStringToObject(tev, "sender", "@a:example.org");
	cJSON_AddItemToObject(tev, "content", cJSON_Duplicate(content, true));
	cJSON_AddItemToArray(evs, tev);
	hb_mx_crypto_read_sync(b.cr, todev);
	assert_int_equal(b.cr->n_inbound, 1);
	/* the same to-device message again (a replayed batch) adds nothing */
	hb_mx_crypto_read_sync(b.cr, todev);
	assert_int_equal(b.cr->n_inbound, 1);

	/* a room message from A, decrypted by B */
	char *sealed = hb_mx_crypto_encrypt(a.cr, room, "m.room.message",
		"{\"msgtype\":\"m.text\",\"body\":\"hello b\","
		"\"m.relates_to\":{\"m.in_reply_to\":{\"event_id\":\"$q\"}}}");
	assert_non_null(sealed);
	assert_null(strstr(sealed, "hello"));
	/* the relation in clear too */
	assert_non_null(strstr(sealed, "\"m.in_reply_to\""));
	snprintf(buf, sizeof(buf), "{\"type\":\"m.room.encrypted\",\"sender\":"
		"\"@a:example.org\",\"event_id\":\"$m1\",\"content\":%s}", sealed);
	free(sealed);
	cJSON *ev = parse(buf);
	cJSON *plain = NULL;
	/* a session decrypted with is in use: its time moves (pruning) */
	assert_true(b.cr->inbound[0].used_ms > 0);
	b.cr->inbound[0].used_ms = 1;
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, room, ev, &plain),
		HB_MX_DECRYPT_OK);
	assert_true(b.cr->inbound[0].used_ms > 1);
	struct hb_mx_message msg;
	struct hb_mx_identity bme = { .user_id = "@b:example.org",
		.prefix = "!health" };
	assert_int_equal(hb_mx_event_inspect(plain, &bme, &msg), HB_MX_CANDIDATE);
	assert_string_equal(msg.text, "hello b");
	assert_string_equal(msg.event_id, "$m1");
	assert_string_equal(msg.reply_to, "$q");
	hb_mx_message_finish(&msg);
	cJSON_Delete(plain);
	/* the same event again (a sync batch replayed after a crash) is read
	 * again; a copy of it under another event id is refused */
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, room, ev, &plain),
		HB_MX_DECRYPT_OK);
	cJSON_Delete(plain);
	cJSON *copy = cJSON_Duplicate(ev, true);
	cJSON_ReplaceItemInObject(copy, "event_id", cJSON_CreateString("$copy"));
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, room, copy, &plain),
		HB_MX_DECRYPT_REPLAY);
	assert_null(plain);
	/* not in another room, not from another sender */
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, "!other:example.org", ev,
		&plain), HB_MX_DECRYPT_NO_KEY);
	cJSON_ReplaceItemInObject(ev, "sender", cJSON_CreateString("@c:example.org"));
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, room, ev, &plain),
		HB_MX_DECRYPT_FAILED);
	cJSON_ReplaceItemInObject(ev, "sender", cJSON_CreateString("@a:example.org"));
	/* the index read is saved at the batch's end, once */
	assert_true(b.cr->seen_unsaved);
	assert_true(hb_mx_crypto_save_read(b.cr));
	assert_false(b.cr->seen_unsaved);
	/* B restarted: the room key was saved, and what it read */
	party_close(&b);
	party_open(&b, "@b:example.org", KEY_B);
	assert_non_null(b.cr);
	assert_true(hb_mx_crypto_set_device(b.cr, "BDEV"));
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, room, ev, &plain),
		HB_MX_DECRYPT_OK);
	cJSON_Delete(plain);
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, room, copy, &plain),
		HB_MX_DECRYPT_REPLAY);
	assert_false(b.cr->seen_unsaved);
	party_close(&b);
	/* a state saved before indices were kept still loads, and reads */
	snprintf(buf, sizeof(buf), "%s/matrix-crypto.json", b.dir);
	cJSON *saved = read_json(buf);
	cJSON *inb;
	cJSON_ArrayForEach(inb, cJSON_GetObjectItemCaseSensitive(saved,
			"inbound")) {
		assert_int_equal(cJSON_GetArraySize(inb), 7);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(inb, 5)), 1);
		/* nor the time it was last used (pruning) */
		cJSON_DeleteItemFromArray(inb, 6);
		cJSON_DeleteItemFromArray(inb, 5);
	}
	write_json(buf, saved);
	cJSON_Delete(saved);
	party_open(&b, "@b:example.org", KEY_B);
	assert_non_null(b.cr);
	assert_true(hb_mx_crypto_set_device(b.cr, "BDEV"));
	assert_int_equal(b.cr->n_inbound, 1);
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, room, copy, &plain),
		HB_MX_DECRYPT_OK);
	cJSON_Delete(plain);
	cJSON_Delete(copy);
	cJSON_Delete(ev);
	/* the room's rotation period: after two messages, a new session */
	sealed = hb_mx_crypto_encrypt(a.cr, room, "m.room.message", "{}");
	free(sealed);
	assert_true(hb_mx_crypto_share_due(a.cr, room));
	/* someone left: a new session before the next message */
	assert_true(hb_mx_crypto_share_body(a.cr, room, members, 2, &share, &sent,
		&skipped));
	assert_int_equal(sent, 1);
	free(share);
	cJSON *leave = parse("{\"type\":\"m.room.member\",\"state_key\":\"@c:x\","
		"\"content\":{\"membership\":\"leave\"}}");
	hb_mx_crypto_room_event(a.cr, room, leave);
	cJSON_Delete(leave);
	assert_true(hb_mx_crypto_share_due(a.cr, room));
	/* B's held events wait for their key, then time out */
	snprintf(buf, sizeof(buf), "{\"type\":\"m.room.encrypted\",\"sender\":"
		"\"@a:example.org\",\"event_id\":\"$late\",\"content\":{\"algorithm\":"
		"\"m.megolm.v1.aes-sha2\",\"sender_key\":\"k\",\"session_id\":\"s\","
		"\"ciphertext\":\"c\"}}");
	ev = parse(buf);
	assert_int_equal(hb_mx_crypto_decrypt(b.cr, room, ev, &plain),
		HB_MX_DECRYPT_NO_KEY);
	assert_true(hb_mx_crypto_hold(b.cr, room, ev));
	assert_true(hb_mx_crypto_hold(b.cr, room, ev)); /* once */
	cJSON_Delete(ev);
	char *rid, *eid;
	assert_false(hb_mx_crypto_pending_next(b.cr, &rid, &eid, &plain));
	assert_true(hb_mx_crypto_pending_wait_ms(b.cr) > 50000);
	b.cr->undecryptable_ms = 0;
	assert_true(hb_mx_crypto_pending_next(b.cr, &rid, &eid, &plain));
	assert_null(plain);
	assert_string_equal(eid, "$late");
	free(rid);
	free(eid);
	assert_false(hb_mx_crypto_pending_next(b.cr, &rid, &eid, &plain));

	cJSON_Delete(todev);
	cJSON_Delete(sh);
	cJSON_Delete(claimed);
	cJSON_Delete(query);
	cJSON_Delete(bkeys);
	cJSON_Delete(botk);
	party_remove(&a);
	party_remove(&b);
}

/* A state file whose numbers are out of range (damaged or edited by
 * hand) loads, with those numbers as if missing: found by the
 * matrix-crypto fuzz target, where 1e300 cast to long long was undefined
 * behaviour. */
static void test_crypto_state_numbers(void **state)
{
	struct party a = {0};
	char path[700];
	(void)state;
	party_open(&a, "@a:example.org", KEY_A);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	cJSON *enc = parse("{\"type\":\"m.room.encryption\",\"state_key\":\"\","
		"\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}");
	hb_mx_crypto_room_event(a.cr, "!room:example.org", enc);
	cJSON_Delete(enc);
	assert_true(hb_mx_crypto_save(a.cr));
	party_close(&a);
	snprintf(path, sizeof(path), "%s/matrix-crypto.json", a.dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cJSON *root = parse(buf);
	cJSON *room = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root,
		"rooms"), 0);
	assert_non_null(room);
	cJSON_ReplaceItemInArray(room, 1, cJSON_CreateNumber(1e300));
	cJSON_ReplaceItemInArray(room, 2, cJSON_CreateNumber(-1e300));
	char *text = cJSON_PrintUnformatted(root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(text);
	cJSON_Delete(root);
	party_open(&a, "@a:example.org", KEY_A);
	assert_non_null(a.cr);
	assert_int_equal(a.cr->n_rooms, 1);
	assert_true(a.cr->rooms[0].rotation_ms == -1);
	assert_true(a.cr->rooms[0].rotation_msgs == -1);
	assert_true(hb_mx_crypto_room_encrypted(a.cr, "!room:example.org"));
	party_remove(&a);
}

/* ---- pruning (crypto_store.c) ---- */

#define DAY_MS (24LL * 3600 * 1000)

/* A real inbound Megolm session in room_id from sender, last used at
 * used_ms; its session id in sid. */
static struct inbound *add_inbound(struct hb_mx_crypto *cr,
		const char *room_id, const char *sender, const char *sender_key,
		long long used_ms, char sid[HB_MX_KEY_LEN])
{
	unsigned char rnd[256];
	char key[512];
	OlmOutboundGroupSession *o = hb_mx_olm_outbound_new();
	size_t rl = olm_init_outbound_group_session_random_length(o);
	assert_true(rl <= sizeof(rnd) && hb_mx_crypto_random(rnd, rl));
	assert_true(olm_init_outbound_group_session(o, rnd, rl) != olm_error());
	size_t kl = olm_outbound_group_session_key_length(o);
	size_t il = olm_outbound_group_session_id_length(o);
	assert_true(kl < sizeof(key) && il < HB_MX_KEY_LEN);
	assert_true(olm_outbound_group_session_key(o, (uint8_t *)key, kl) !=
		olm_error());
	assert_true(olm_outbound_group_session_id(o, (uint8_t *)sid, il) !=
		olm_error());
	sid[il] = '\0';
	hb_mx_olm_outbound_free(o);
	OlmInboundGroupSession *s = hb_mx_olm_inbound_new();
	assert_true(olm_init_inbound_group_session(s, (uint8_t *)key, kl) !=
		olm_error());
	struct inbound *in = realloc(cr->inbound,
		(cr->n_inbound + 1) * sizeof(*in));
	assert_non_null(in);
	cr->inbound = in;
	in = &in[cr->n_inbound++];
	*in = (struct inbound){ .session = s, .used_ms = used_ms };
	hb_mx_hash(in->room, room_id, NULL, NULL);
	hb_mx_hash(in->sender, sender, NULL, NULL);
	snprintf(in->sender_key, sizeof(in->sender_key), "%s", sender_key);
	snprintf(in->session_id, sizeof(in->session_id), "%s", sid);
	assert_true(hb_mx_inbound_seen_add(in, 0, "e0"));
	return in;
}

/* A real Olm session from cr to another device, filed under the device
 * key curve (a label here), last used at used_ms. */
static struct party other;

static void add_peer(struct hb_mx_crypto *cr, const char *curve,
		long long used_ms)
{
	unsigned char rnd[256];
	if (!other.cr) {
		party_open(&other, "@other:example.org", KEY_B);
		assert_true(hb_mx_crypto_set_device(other.cr, "ODEV"));
		other.cr->otk_count = 0;
		free(hb_mx_crypto_upload_body(other.cr));
	}
	char buf[4096];
	size_t n = olm_account_one_time_keys(other.cr->account, buf,
		sizeof(buf) - 1);
	buf[n] = '\0';
	cJSON *keys = parse(buf);
	const cJSON *otk = cJSON_GetObjectItemCaseSensitive(keys,
		"curve25519")->child;
	OlmSession *s = hb_mx_olm_session_new();
	size_t rl = olm_create_outbound_session_random_length(s);
	assert_true(rl <= sizeof(rnd) && hb_mx_crypto_random(rnd, rl));
	assert_true(olm_create_outbound_session(s, cr->account, other.cr->curve,
		strlen(other.cr->curve), otk->valuestring, strlen(otk->valuestring),
		rnd, rl) != olm_error());
	cJSON_Delete(keys);
	assert_true(hb_mx_crypto_peer_add(cr, curve, s));
	cr->peers[cr->n_peers - 1].used_ms = used_ms;
}

static void other_remove(void)
{
	if (other.dir)
		party_remove(&other);
	other = (struct party){0};
}

static bool has_inbound(const struct hb_mx_crypto *cr, const char *sid,
		const char *room_id)
{
	char room[HB_MX_HASH_HEX];
	hb_mx_hash(room, room_id, NULL, NULL);
	for (size_t i = 0; i < cr->n_inbound; i++) {
		if (strcmp(cr->inbound[i].session_id, sid) == 0 &&
				strcmp(cr->inbound[i].room, room) == 0)
			return true;
	}
	return false;
}

static size_t peers_of(const struct hb_mx_crypto *cr, const char *curve,
		long long used_ms)
{
	size_t n = 0;
	for (size_t i = 0; i < cr->n_peers; i++)
		n += strcmp(cr->peers[i].curve, curve) == 0 &&
			(used_ms < 0 || cr->peers[i].used_ms == used_ms);
	return n;
}

/* Sessions unused for long go, at load and before a save at most hourly:
 * inbound after 30 days unless a held event is encrypted with it (same
 * room, sender key and session id), Olm sessions after 90 days unless the
 * device's newest (a year), outbound ones past their room's rotation.
 * What is left saves and loads back; a session kept for a held event goes
 * once the event is gone. */
static void test_crypto_prune(void **state)
{
	struct party a = {0};
	char old[HB_MX_KEY_LEN], recent[HB_MX_KEY_LEN], held[HB_MX_KEY_LEN];
	char other_room[HB_MX_KEY_LEN], buf[2048];
	const char *room = "!dm:example.org", *room2 = "!dm2:example.org";
	const char *skey = "SENDERKEYSENDERKEYSENDERKEYSENDERKEYSENDERK";
	(void)state;
	party_open(&a, "@a:example.org", KEY_A);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	long long now = hb_mx_crypto_now_ms();
	add_inbound(a.cr, room, "@p:example.org", skey, now - 31 * DAY_MS, old);
	add_inbound(a.cr, room, "@p:example.org", skey, now - 29 * DAY_MS, recent);
	add_inbound(a.cr, room, "@p:example.org", skey, now - 40 * DAY_MS, held);
	/* the held event's session id and sender key, in another room: not
	 * the session it needs */
	struct inbound *in = add_inbound(a.cr, room2, "@p:example.org", skey,
		now - 40 * DAY_MS, other_room);
	snprintf(in->session_id, sizeof(in->session_id), "%s", held);
	snprintf(buf, sizeof(buf), "{\"type\":\"m.room.encrypted\",\"sender\":"
		"\"@p:example.org\",\"event_id\":\"$held\",\"content\":{\"algorithm\":"
		"\"m.megolm.v1.aes-sha2\",\"sender_key\":\"%s\",\"session_id\":\"%s\","
		"\"ciphertext\":\"AwgA\"}}", skey, held);
	cJSON *ev = parse(buf);
	assert_true(hb_mx_crypto_hold(a.cr, room, ev));
	cJSON_Delete(ev);
	/* a device's sessions: an older one goes, its newest stays; a
	 * device unused for over a year goes altogether */
	add_peer(a.cr, "DEVICEX", now - 100 * DAY_MS);
	add_peer(a.cr, "DEVICEX", now - 95 * DAY_MS);
	add_peer(a.cr, "DEVICEY", now - 400 * DAY_MS);
	/* and one whose older session is under 90 days keeps both */
	add_peer(a.cr, "DEVICEZ", now - 80 * DAY_MS);
	add_peer(a.cr, "DEVICEZ", now - 10 * DAY_MS);
	/* an outbound session used up (two messages a session), and one
	 * that is not */
	cJSON *enc = parse("{\"type\":\"m.room.encryption\",\"state_key\":\"\","
		"\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\","
		"\"rotation_period_msgs\":2}}");
	hb_mx_crypto_room_event(a.cr, room, enc);
	hb_mx_crypto_room_event(a.cr, room2, enc);
	cJSON_Delete(enc);
	assert_true(hb_mx_crypto_new_outbound(a.cr, room, "test"));
	assert_true(hb_mx_crypto_new_outbound(a.cr, room2, "test"));
	hb_mx_crypto_outbound(a.cr, room)->msgs = 2;
	assert_int_equal(a.cr->n_inbound, 4);
	assert_int_equal(a.cr->n_peers, 5);

	/* within the hour of the last pruning, a save drops nothing */
	a.cr->pruned_ms = now - 60 * 1000;
	assert_true(hb_mx_crypto_save(a.cr));
	assert_int_equal(a.cr->n_inbound, 4);
	/* an hour on, it does */
	a.cr->pruned_ms = now - 3601 * 1000;
	assert_true(hb_mx_crypto_save(a.cr));
	assert_true(a.cr->pruned_ms >= now);
	assert_int_equal(a.cr->n_inbound, 2);
	assert_true(has_inbound(a.cr, recent, room));
	assert_true(has_inbound(a.cr, held, room));
	assert_false(has_inbound(a.cr, old, room));
	assert_false(has_inbound(a.cr, held, room2));
	assert_int_equal(a.cr->n_peers, 3);
	assert_int_equal(peers_of(a.cr, "DEVICEX", now - 95 * DAY_MS), 1);
	assert_int_equal(peers_of(a.cr, "DEVICEX", -1), 1);
	assert_int_equal(peers_of(a.cr, "DEVICEY", -1), 0);
	assert_int_equal(peers_of(a.cr, "DEVICEZ", -1), 2);
	assert_int_equal(a.cr->n_outbound, 1);
	assert_null(hb_mx_crypto_outbound(a.cr, room));
	assert_non_null(hb_mx_crypto_outbound(a.cr, room2));
	assert_true(hb_mx_crypto_share_due(a.cr, room));

	/* what is left saves and loads back, times and all */
	party_close(&a);
	party_open(&a, "@a:example.org", KEY_A);
	assert_non_null(a.cr);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	assert_int_equal(a.cr->n_inbound, 2);
	assert_int_equal(a.cr->n_peers, 3);
	assert_int_equal(a.cr->n_outbound, 1);
	assert_int_equal(a.cr->n_pending, 1);
	assert_true(has_inbound(a.cr, recent, room));
	assert_true(has_inbound(a.cr, held, room));
	for (size_t i = 0; i < a.cr->n_inbound; i++) {
		if (strcmp(a.cr->inbound[i].session_id, recent) == 0)
			assert_true(a.cr->inbound[i].used_ms == now - 29 * DAY_MS);
		assert_int_equal(a.cr->inbound[i].n_seen, 1);
	}
	assert_int_equal(peers_of(a.cr, "DEVICEZ", now - 10 * DAY_MS), 1);

	/* the held event is gone (its ciphertext does not open): its
	 * session goes at the next pruning */
	char *rid, *eid;
	cJSON *plain;
	a.cr->undecryptable_ms = 0;
	assert_true(hb_mx_crypto_pending_next(a.cr, &rid, &eid, &plain));
	assert_null(plain);
	free(rid);
	free(eid);
	hb_mx_crypto_prune(a.cr, hb_mx_crypto_now_ms());
	assert_int_equal(a.cr->n_inbound, 1);
	assert_true(has_inbound(a.cr, recent, room));
	/* a month on, the rest of it */
	hb_mx_crypto_prune(a.cr, now + 2 * DAY_MS);
	assert_int_equal(a.cr->n_inbound, 0);
	assert_true(hb_mx_crypto_save(a.cr));
	party_remove(&a);
	other_remove();
}

/* A state saved before sessions had a last-used time loads, its
 * sessions as used at the load (kept the full period from then), and
 * saves with the time. */
static void test_crypto_prune_old_file(void **state)
{
	struct party a = {0};
	char sid[HB_MX_KEY_LEN], path[700];
	(void)state;
	party_open(&a, "@a:example.org", KEY_A);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	long long now = hb_mx_crypto_now_ms();
	add_inbound(a.cr, "!dm:example.org", "@p:example.org", "K",
		now - 365 * DAY_MS, sid);
	add_peer(a.cr, "DEVICEX", now);
	a.cr->pruned_ms = now;
	assert_true(hb_mx_crypto_save(a.cr));
	party_close(&a);
	snprintf(path, sizeof(path), "%s/matrix-crypto.json", a.dir);
	cJSON *saved = read_json(path);
	cJSON *inb = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(saved,
		"inbound"), 0);
	assert_int_equal(cJSON_GetArraySize(inb), 7);
	cJSON_DeleteItemFromArray(inb, 6);
	/* and a peer whose time is damaged */
	cJSON *peer = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(saved,
		"peers"), 0);
	cJSON_ReplaceItemInArray(peer, 2, cJSON_CreateString("x"));
	write_json(path, saved);
	cJSON_Delete(saved);
	party_open(&a, "@a:example.org", KEY_A);
	assert_non_null(a.cr);
	assert_int_equal(a.cr->n_inbound, 1);
	assert_int_equal(a.cr->n_peers, 1);
	assert_true(a.cr->inbound[0].used_ms >= now);
	assert_true(a.cr->peers[0].used_ms >= now);
	assert_string_equal(a.cr->inbound[0].session_id, sid);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	assert_true(hb_mx_crypto_save(a.cr));
	party_close(&a);
	saved = read_json(path);
	inb = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(saved,
		"inbound"), 0);
	assert_true(cJSON_IsNumber(cJSON_GetArrayItem(inb, 6)));
	assert_true(cJSON_GetArrayItem(inb, 6)->valuedouble >= (double)now);
	cJSON_Delete(saved);
	party_remove(&a);
	other_remove();
}

/* The message index a room event of ours was encrypted at, read with a
 * copy of the session's inbound half. */
static uint32_t index_of(OlmInboundGroupSession *check, const char *sealed)
{
	cJSON *c = parse(sealed);
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(c, "ciphertext");
	assert_true(cJSON_IsString(ct));
	char *tmp = strdup(ct->valuestring);
	size_t len = strlen(tmp);
	size_t max = olm_group_decrypt_max_plaintext_length(check,
		(uint8_t *)tmp, len);
	assert_true(max != olm_error());
	uint8_t *out = malloc(max);
	uint32_t index = 0;
	snprintf(tmp, len + 1, "%s", ct->valuestring);
	assert_true(olm_group_decrypt(check, (uint8_t *)tmp, len, out, max,
		&index) != olm_error());
	free(out);
	free(tmp);
	cJSON_Delete(c);
	return index;
}

/* A save pickles only the sessions that changed since the last one (each
 * keeps its pickle), and every change is saved: an outbound session goes
 * on from its next message index after a restart, never reusing one. */
static void test_crypto_pickle_cache(void **state)
{
	struct party a = {0};
	char buf[8192];
	const char *room = "!dm:example.org";
	(void)state;
	party_open(&a, "@a:example.org", KEY_A);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	cJSON *enc = parse("{\"type\":\"m.room.encryption\",\"state_key\":\"\","
		"\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}");
	hb_mx_crypto_room_event(a.cr, room, enc);
	cJSON_Delete(enc);
	assert_true(hb_mx_crypto_new_outbound(a.cr, room, "test"));
	struct outbound *o = hb_mx_crypto_outbound(a.cr, room);
	/* its key, read by the bot itself (its own messages decrypt) and
	 * by the test, to tell the message indices */
	size_t kl = olm_outbound_group_session_key_length(o->session);
	size_t il = olm_outbound_group_session_id_length(o->session);
	char key[512], sid[HB_MX_KEY_LEN];
	assert_true(kl < sizeof(key) && il < sizeof(sid));
	assert_true(olm_outbound_group_session_key(o->session, (uint8_t *)key,
		kl) != olm_error());
	assert_true(olm_outbound_group_session_id(o->session, (uint8_t *)sid,
		il) != olm_error());
	sid[il] = '\0';
	OlmInboundGroupSession *check = hb_mx_olm_inbound_new();
	assert_true(olm_init_inbound_group_session(check, (uint8_t *)key, kl) !=
		olm_error());
	OlmInboundGroupSession *own = hb_mx_olm_inbound_new();
	assert_true(olm_init_inbound_group_session(own, (uint8_t *)key, kl) !=
		olm_error());
	struct inbound *in = realloc(a.cr->inbound, sizeof(*in));
	assert_non_null(in);
	a.cr->inbound = in;
	a.cr->n_inbound = 1;
	*in = (struct inbound){ .session = own,
		.used_ms = hb_mx_crypto_now_ms() };
	hb_mx_hash(in->room, room, NULL, NULL);
	hb_mx_hash(in->sender, "@a:example.org", NULL, NULL);
	snprintf(in->sender_key, sizeof(in->sender_key), "%s", a.cr->curve);
	snprintf(in->session_id, sizeof(in->session_id), "%s", sid);
	add_peer(a.cr, "DEVICEX", hb_mx_crypto_now_ms());

	/* saved: each session's pickle kept; saved again unchanged, not
	 * pickled again */
	assert_true(hb_mx_crypto_save(a.cr));
	o = hb_mx_crypto_outbound(a.cr, room);
	assert_non_null(o->pickle);
	assert_non_null(a.cr->inbound[0].pickle);
	assert_non_null(a.cr->peers[0].pickle);
	const char *kept = o->pickle;
	char *before = strdup(o->pickle);
	assert_true(hb_mx_crypto_save(a.cr));
	assert_ptr_equal(hb_mx_crypto_outbound(a.cr, room)->pickle, kept);

	/* a message encrypted: saved with the session's new state */
	char *sealed = hb_mx_crypto_encrypt(a.cr, room, "m.room.message",
		"{\"msgtype\":\"m.text\",\"body\":\"one\"}");
	assert_non_null(sealed);
	assert_int_equal(index_of(check, sealed), 0);
	o = hb_mx_crypto_outbound(a.cr, room);
	assert_non_null(o->pickle);
	assert_string_not_equal(o->pickle, before);
	free(before);
	/* decrypting may change an inbound session: its pickle goes */
	snprintf(buf, sizeof(buf), "{\"type\":\"m.room.encrypted\",\"sender\":"
		"\"@a:example.org\",\"event_id\":\"$one\",\"content\":%s}", sealed);
	free(sealed);
	cJSON *ev = parse(buf), *plain = NULL;
	assert_int_equal(hb_mx_crypto_decrypt(a.cr, room, ev, &plain),
		HB_MX_DECRYPT_OK);
	cJSON_Delete(plain);
	cJSON_Delete(ev);
	assert_null(a.cr->inbound[0].pickle);
	/* and an Olm message sent */
	cJSON *olm = hb_mx_crypto_olm_encrypt(a.cr, "DEVICEX", "{}");
	assert_non_null(olm);
	cJSON_Delete(olm);
	assert_null(a.cr->peers[0].pickle);
	assert_null(a.cr->inbound[0].json);
	assert_true(hb_mx_crypto_save_read(a.cr));
	assert_non_null(a.cr->inbound[0].pickle);
	assert_non_null(a.cr->inbound[0].json);
	assert_non_null(a.cr->peers[0].pickle);
	/* what the kept pickles and entries make is what a save from
	 * nothing makes (libolm's pickles are deterministic) */
	snprintf(buf, sizeof(buf), "%s/matrix-crypto.json", a.dir);
	cJSON *with = read_json(buf);
	hb_mx_cache_drop(&a.cr->inbound[0].pickle);
	hb_mx_cache_drop(&a.cr->inbound[0].json);
	hb_mx_cache_drop(&a.cr->peers[0].pickle);
	hb_mx_cache_drop(&hb_mx_crypto_outbound(a.cr, room)->pickle);
	assert_true(hb_mx_crypto_save(a.cr));
	cJSON *without = read_json(buf);
	assert_true(cJSON_Compare(with, without, true));
	cJSON_Delete(with);
	cJSON_Delete(without);

	/* restarted: the pickles are those read, and the session goes on
	 * at the next index */
	party_close(&a);
	party_open(&a, "@a:example.org", KEY_A);
	assert_non_null(a.cr);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	assert_non_null(hb_mx_crypto_outbound(a.cr, room)->pickle);
	assert_int_equal(a.cr->n_inbound, 1);
	assert_int_equal(a.cr->n_peers, 1);
	sealed = hb_mx_crypto_encrypt(a.cr, room, "m.room.message",
		"{\"msgtype\":\"m.text\",\"body\":\"two\"}");
	assert_non_null(sealed);
	assert_int_equal(index_of(check, sealed), 1);
	free(sealed);
	party_close(&a);
	party_open(&a, "@a:example.org", KEY_A);
	assert_true(hb_mx_crypto_set_device(a.cr, "ADEV"));
	sealed = hb_mx_crypto_encrypt(a.cr, room, "m.room.message", "{}");
	assert_int_equal(index_of(check, sealed), 2);
	free(sealed);
	hb_mx_olm_inbound_free(check);
	party_remove(&a);
	other_remove();
}

int main(void)
{
	struct hb_engine_options opts = {
		.content_dir = SOURCE_ROOT "/content",
		.intents_dir = SOURCE_ROOT "/intents",
	};
	struct hb_error err;
	engine = hb_engine_create(&opts, &err);
	if (!engine)
		fprintf(stderr, "library not loaded (%s: %s)\n", err.file,
			err.message);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_mentions_and_prefix),
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_formatted_body),
		cmocka_unit_test(test_recent),
		cmocka_unit_test(test_reply_fallback),
		cmocka_unit_test(test_thread_root),
		cmocka_unit_test(test_own_join),
		cmocka_unit_test(test_reply_json),
		cmocka_unit_test(test_urls_and_ids),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_help_without_wording),
		cmocka_unit_test(test_crypto_account),
		cmocka_unit_test(test_crypto_roundtrip),
		cmocka_unit_test(test_crypto_state_numbers),
		cmocka_unit_test(test_crypto_seen_cap),
		cmocka_unit_test(test_crypto_prune),
		cmocka_unit_test(test_crypto_prune_old_file),
		cmocka_unit_test(test_crypto_pickle_cache),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	hb_engine_destroy(engine);
	return rc;
}
