#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define STATE_FILE "matrix-state.json"
#define LOCK_FILE "matrix-state.lock"
#define MAX_STATE_BYTES (4 * 1024 * 1024)
/* Answered events only need remembering until the sync token that
 * delivered them is saved; the margin covers a timeline limit of 500. */
#define MAX_HANDLED 1024
#define MAX_ROOMS 20000

struct room {
	char key[HB_MX_HASH_HEX];
	int joined, invited;
	/* an encrypted room the bot told it cannot read encrypted messages */
	bool e2e_told;
};

struct hb_mx_store {
	char *dir;
	char *path;
	char *tmp_path;
	int lock_fd;
	char account[HB_MX_HASH_HEX];
	char *since;
	struct room *rooms;
	size_t n_rooms, cap_rooms;
	char handled[MAX_HANDLED][HB_MX_HASH_HEX];
	size_t n_handled, next_handled;
};

static struct room *find_room(const struct hb_mx_store *s, const char *key)
{
	for (size_t i = 0; i < s->n_rooms; i++) {
		if (strcmp(s->rooms[i].key, key) == 0)
			return &s->rooms[i];
	}
	return NULL;
}

static struct room *add_room(struct hb_mx_store *s, const char *key)
{
	struct room *r = find_room(s, key);
	if (r)
		return r;
	if (s->n_rooms >= MAX_ROOMS)
		return NULL;
	if (s->n_rooms == s->cap_rooms) {
		size_t cap = s->cap_rooms ? s->cap_rooms * 2 : 16;
		struct room *rooms = realloc(s->rooms, cap * sizeof(*rooms));
		if (!rooms)
			return NULL;
		s->rooms = rooms;
		s->cap_rooms = cap;
	}
	r = &s->rooms[s->n_rooms++];
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->joined = r->invited = -1;
	r->e2e_told = false;
	return r;
}

static bool is_hash(const char *s)
{
	if (!s || strlen(s) != HB_MX_HASH_HEX - 1)
		return false;
	return strspn(s, "0123456789abcdef") == HB_MX_HASH_HEX - 1;
}

static void add_handled_key(struct hb_mx_store *s, const char *key)
{
	snprintf(s->handled[s->next_handled], HB_MX_HASH_HEX, "%s", key);
	s->next_handled = (s->next_handled + 1) % MAX_HANDLED;
	if (s->n_handled < MAX_HANDLED)
		s->n_handled++;
}

static bool load(struct hb_mx_store *s)
{
	FILE *f = fopen(s->path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return true;
		hb_log(HB_LOG_ERROR, "matrix_state", "error=\"cannot read state file\" errno=%d",
			errno);
		fprintf(stderr, "healthbot: matrix: cannot read %s: %s\n", s->path,
			strerror(errno));
		return false;
	}
	char *data = malloc(MAX_STATE_BYTES);
	size_t n = data ? fread(data, 1, MAX_STATE_BYTES, f) : 0;
	fclose(f);
	cJSON *root = data ? hb_json_parse(data, n, NULL) : NULL;
	free(data);
	const cJSON *account = cJSON_GetObjectItemCaseSensitive(root, "account");
	if (!cJSON_IsObject(root) || !cJSON_IsString(account)) {
		/* a torn file cannot happen with rename(); a damaged one means
		 * someone edited it: starting afresh answers no backlog, which
		 * is the safe side */
		hb_log(HB_LOG_WARN, "matrix_state", "warning=\"state file unreadable, "
			"starting as on first run\"");
		cJSON_Delete(root);
		return true;
	}
	if (strcmp(account->valuestring, s->account) != 0) {
		hb_log(HB_LOG_WARN, "matrix_state", "warning=\"state belongs to "
			"another account, starting as on first run\"");
		cJSON_Delete(root);
		return true;
	}
	const cJSON *since = cJSON_GetObjectItemCaseSensitive(root, "next_batch");
	if (cJSON_IsString(since) && since->valuestring[0])
		s->since = strdup(since->valuestring);
	const cJSON *rooms = cJSON_GetObjectItemCaseSensitive(root, "rooms");
	const cJSON *it;
	cJSON_ArrayForEach(it, rooms) {
		const cJSON *j = cJSON_GetArrayItem(it, 0);
		const cJSON *i = cJSON_GetArrayItem(it, 1);
		struct room *r;
		if (!is_hash(it->string) || !cJSON_IsNumber(j) || !cJSON_IsNumber(i) ||
				!(r = add_room(s, it->string)))
			continue;
		r->joined = (int)j->valuedouble;
		r->invited = (int)i->valuedouble;
		/* a third element came with encryption notices: older files
		 * have two */
		r->e2e_told = cJSON_IsTrue(cJSON_GetArrayItem(it, 2));
	}
	const cJSON *handled = cJSON_GetObjectItemCaseSensitive(root, "handled");
	cJSON_ArrayForEach(it, handled) {
		if (cJSON_IsString(it) && is_hash(it->valuestring))
			add_handled_key(s, it->valuestring);
	}
	cJSON_Delete(root);
	hb_log(HB_LOG_INFO, "matrix_state", "resumed=%s rooms=%zu handled=%zu",
		s->since ? "yes" : "no", s->n_rooms, s->n_handled);
	return true;
}

struct hb_mx_store *hb_mx_store_open(const char *dir, const char *user_id)
{
	struct hb_mx_store *s = calloc(1, sizeof(*s));
	struct hb_buf path, tmp, lock;
	if (!s)
		return NULL;
	s->lock_fd = -1;
	hb_mx_hash(s->account, user_id, NULL, NULL);
	hb_buf_init(&path);
	hb_buf_init(&tmp);
	hb_buf_init(&lock);
	hb_buf_printf(&path, "%s/" STATE_FILE, dir);
	hb_buf_printf(&tmp, "%s/" STATE_FILE ".tmp", dir);
	hb_buf_printf(&lock, "%s/" LOCK_FILE, dir);
	s->path = hb_buf_steal(&path);
	s->tmp_path = hb_buf_steal(&tmp);
	s->dir = strdup(dir);
	if (!s->path || !s->tmp_path || !s->dir || lock.oom)
		goto fail;
	/* the state holds no secrets, but hashes of who talks to the bot
	 * are nobody else's business either */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "healthbot: matrix: cannot create state_dir %s: %s\n",
			dir, strerror(errno));
		hb_log(HB_LOG_ERROR, "matrix_state", "error=\"cannot create state_dir\" errno=%d",
			errno);
		goto fail;
	}
	s->lock_fd = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		fprintf(stderr, "healthbot: matrix: cannot open %s: %s\n", lock.data,
			strerror(errno));
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "healthbot: matrix: state_dir %s is in use by another "
			"healthbot process; two bots on one state would answer twice\n",
			dir);
		hb_log(HB_LOG_ERROR, "matrix_state", "error=\"state_dir locked by another process\"");
		goto fail;
	}
	if (!load(s))
		goto fail;
	hb_buf_finish(&lock);
	return s;
fail:
	hb_buf_finish(&lock);
	hb_mx_store_destroy(s);
	return NULL;
}

void hb_mx_store_destroy(struct hb_mx_store *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->dir);
	free(s->path);
	free(s->tmp_path);
	free(s->since);
	free(s->rooms);
	free(s);
}

const char *hb_mx_store_since(const struct hb_mx_store *s)
{
	return s->since;
}

bool hb_mx_store_set_since(struct hb_mx_store *s, const char *next_batch)
{
	char *copy = next_batch ? strdup(next_batch) : NULL;
	if (next_batch && !copy)
		return false;
	free(s->since);
	s->since = copy;
	return true;
}

int hb_mx_store_members(const struct hb_mx_store *s, const char *room_id)
{
	char key[HB_MX_HASH_HEX];
	hb_mx_hash(key, room_id, NULL, NULL);
	const struct room *r = find_room(s, key);
	if (!r || r->joined < 0)
		return -1;
	return r->joined + (r->invited > 0 ? r->invited : 0);
}

bool hb_mx_store_set_members(struct hb_mx_store *s, const char *room_id,
		int joined, int invited)
{
	char key[HB_MX_HASH_HEX];
	hb_mx_hash(key, room_id, NULL, NULL);
	struct room *r = add_room(s, key);
	if (!r)
		return false;
	if (joined >= 0)
		r->joined = joined;
	if (invited >= 0)
		r->invited = invited;
	return true;
}

void hb_mx_store_forget_room(struct hb_mx_store *s, const char *room_id)
{
	char key[HB_MX_HASH_HEX];
	hb_mx_hash(key, room_id, NULL, NULL);
	struct room *r = find_room(s, key);
	if (r)
		*r = s->rooms[--s->n_rooms];
}

bool hb_mx_store_e2e_told(const struct hb_mx_store *s, const char *room_id)
{
	char key[HB_MX_HASH_HEX];
	hb_mx_hash(key, room_id, NULL, NULL);
	const struct room *r = find_room(s, key);
	return r && r->e2e_told;
}

bool hb_mx_store_set_e2e_told(struct hb_mx_store *s, const char *room_id)
{
	char key[HB_MX_HASH_HEX];
	hb_mx_hash(key, room_id, NULL, NULL);
	struct room *r = add_room(s, key);
	if (!r)
		return false;
	r->e2e_told = true;
	return true;
}

bool hb_mx_store_handled(const struct hb_mx_store *s, const char *event_id)
{
	char key[HB_MX_HASH_HEX];
	hb_mx_hash(key, event_id, NULL, NULL);
	for (size_t i = 0; i < s->n_handled; i++) {
		if (strcmp(s->handled[i], key) == 0)
			return true;
	}
	return false;
}

void hb_mx_store_mark_handled(struct hb_mx_store *s, const char *event_id)
{
	char key[HB_MX_HASH_HEX];
	hb_mx_hash(key, event_id, NULL, NULL);
	add_handled_key(s, key);
}

static char *serialize(const struct hb_mx_store *s)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *rooms = cJSON_CreateObject();
	cJSON *handled = cJSON_CreateArray();
	char *out = NULL;
	if (!root || !rooms || !handled) {
		cJSON_Delete(rooms);
		cJSON_Delete(handled);
		goto out;
	}
	cJSON_AddItemToObject(root, "rooms", rooms);
	cJSON_AddItemToObject(root, "handled", handled);
	if (!cJSON_AddNumberToObject(root, "version", 1) ||
			!cJSON_AddStringToObject(root, "account", s->account) ||
			(s->since && !cJSON_AddStringToObject(root, "next_batch", s->since)))
		goto out;
	for (size_t i = 0; i < s->n_rooms; i++) {
		const int pair[2] = { s->rooms[i].joined, s->rooms[i].invited };
		cJSON *a = cJSON_CreateIntArray(pair, 2);
		if (!a)
			goto out;
		if (s->rooms[i].e2e_told && !cJSON_AddItemToArray(a,
				cJSON_CreateTrue())) {
			cJSON_Delete(a);
			goto out;
		}
		cJSON_AddItemToObject(rooms, s->rooms[i].key, a);
	}
	/* oldest first, so a reload keeps the ring's order */
	for (size_t i = 0; i < s->n_handled; i++) {
		size_t at = (s->next_handled + MAX_HANDLED - s->n_handled + i) % MAX_HANDLED;
		cJSON *str = cJSON_CreateString(s->handled[at]);
		if (!str)
			goto out;
		cJSON_AddItemToArray(handled, str);
	}
	out = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return out;
}

bool hb_mx_store_save(struct hb_mx_store *s)
{
	char *json = serialize(s);
	const char *step = "serialize";
	bool ok = json && hb_mx_write_atomic(s->path, s->tmp_path, s->dir,
		json, &step);
	if (!ok)
		hb_log(HB_LOG_ERROR, "matrix_state", "error=\"cannot save state\" step=%s errno=%d",
			step, errno);
	free(json);
	return ok;
}
