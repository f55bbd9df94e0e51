/*
 * The Matrix channel's encryption state at scale: how long saving and
 * loading state_dir/matrix-crypto.json take, and how large it is, with N
 * inbound Megolm sessions (each with 20 to 100 message indices read, as
 * replays are recognised), M Olm sessions with other devices and K
 * outbound Megolm sessions (one per room). Every session is a real
 * libolm one, made here against the channel's internal API, so the
 * pickles are the sizes and costs the bot has. A benchmark, not a test:
 * it reports, it does not judge.
 *
 *   bench_crypto_store [N M K]...   (default: 100 100 100, 1000 1000
 *                                    1000, 10000 1000 1000)
 *
 * Per state: the file's size; hb_mx_crypto_save() (pickle, serialize,
 * write, fsync, rename) as after a batch that read one message and sent
 * one reply (one inbound and one outbound session changed), the median
 * of five (save_ms); the first save, every session pickled and printed
 * (save_all_ms); the first save after a load, the pickles as read and
 * every entry printed (save_after_load_ms, median of three); pickling
 * every session (pickle_all_ms, what each save cost before pickles were
 * kept), the median of five; a load (hb_mx_crypto_create: read, parse,
 * unpickle, prune), the median of three; one pruning that drops nothing
 * (what the hourly one costs when every session is in use). The state
 * directory is under TMPDIR (or /tmp): its file system decides what
 * fsync costs.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "crypto_internal.h"
#include "log.h"
#include "mxconfig.h"
#include "util.h"

#define KEY "bench-pickle-key-0123456789abcdef"
#define USER "@healthbot:localhost"
#define ROOMS 1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_crypto_store: %s\n", what);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void random_bytes(void *buf, size_t n)
{
	if (!hb_mx_crypto_random(buf, n))
		die("no random bytes");
}

/* Another device's identity key and one one-time key, for the bot's
 * outbound Olm sessions (all to the same device: only their size and
 * cost matter here). */
static void other_device(char *curve, char *otk)
{
	OlmAccount *a = olm_account(malloc(olm_account_size()));
	size_t rl = olm_create_account_random_length(a);
	unsigned char *rnd = malloc(rl + 256);
	random_bytes(rnd, rl);
	if (olm_create_account(a, rnd, rl) == olm_error())
		die("cannot make an account");
	rl = olm_account_generate_one_time_keys_random_length(a, 1);
	random_bytes(rnd, rl);
	olm_account_generate_one_time_keys(a, 1, rnd, rl);
	char buf[1024];
	size_t n = olm_account_identity_keys(a, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	cJSON *keys = cJSON_Parse(buf);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(keys, "curve25519");
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= HB_MX_KEY_LEN)
		die("no identity key");
	snprintf(curve, HB_MX_KEY_LEN, "%s", v->valuestring);
	cJSON_Delete(keys);
	n = olm_account_one_time_keys(a, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	/* {"curve25519": {"AAAAAQ": "..."}} */
	keys = cJSON_Parse(buf);
	v = cJSON_GetObjectItemCaseSensitive(keys, "curve25519");
	v = v ? v->child : NULL;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= HB_MX_KEY_LEN)
		die("no one-time key");
	snprintf(otk, HB_MX_KEY_LEN, "%s", v->valuestring);
	cJSON_Delete(keys);
	olm_clear_account(a);
	free(a);
	free(rnd);
}

static void add_peers(struct hb_mx_crypto *cr, size_t m)
{
	char curve[HB_MX_KEY_LEN], otk[HB_MX_KEY_LEN], label[HB_MX_KEY_LEN];
	unsigned char rnd[256];
	char msg[4096];
	other_device(curve, otk);
	for (size_t i = 0; i < m; i++) {
		OlmSession *s = hb_mx_olm_session_new();
		size_t rl = olm_create_outbound_session_random_length(s);
		random_bytes(rnd, rl);
		if (olm_create_outbound_session(s, cr->account, curve, strlen(curve),
				otk, strlen(otk), rnd, rl) == olm_error())
			die("cannot make an Olm session");
		/* one message sent, as a room key share leaves it */
		rl = olm_encrypt_random_length(s);
		random_bytes(rnd, rl);
		const char *plain = "{\"type\":\"m.room_key\"}";
		if (olm_encrypt_message_length(s, strlen(plain)) >= sizeof(msg) ||
				olm_encrypt(s, plain, strlen(plain), rnd, rl, msg,
				sizeof(msg)) == olm_error())
			die("cannot encrypt with Olm");
		/* each device its own key in the state */
		snprintf(label, sizeof(label), "%.30s%08zu", curve, i);
		if (!hb_mx_crypto_peer_add(cr, label, s))
			die("out of memory");
	}
}

static void add_inbound(struct hb_mx_crypto *cr, size_t n)
{
	unsigned char rnd[512];
	char key[1024], event[HB_MX_HASH_HEX], room[64];
	OlmOutboundGroupSession *o = hb_mx_olm_outbound_new();
	for (size_t i = 0; i < n; i++) {
		size_t rl = olm_init_outbound_group_session_random_length(o);
		random_bytes(rnd, rl);
		size_t kl = olm_outbound_group_session_key_length(o);
		if (kl >= sizeof(key) || olm_init_outbound_group_session(o, rnd, rl) ==
				olm_error() || olm_outbound_group_session_key(o,
				(uint8_t *)key, kl) == olm_error())
			die("cannot make a Megolm session");
		OlmInboundGroupSession *s = hb_mx_olm_inbound_new();
		if (olm_init_inbound_group_session(s, (uint8_t *)key, kl) ==
				olm_error())
			die("cannot read a Megolm session key");
		struct inbound *in = realloc(cr->inbound,
			(cr->n_inbound + 1) * sizeof(*in));
		if (!in)
			die("out of memory");
		cr->inbound = in;
		in = &in[cr->n_inbound++];
		/* all in use: a state pruning keeps whole */
		*in = (struct inbound){ .session = s,
			.used_ms = hb_mx_crypto_now_ms() };
		snprintf(room, sizeof(room), "!patient%zu:localhost", i % ROOMS);
		hb_mx_hash(in->room, room, NULL, NULL);
		snprintf(room, sizeof(room), "@patient%zu:localhost", i % ROOMS);
		hb_mx_hash(in->sender, room, NULL, NULL);
		snprintf(in->sender_key, sizeof(in->sender_key), "%043zu", i % ROOMS);
		size_t il = olm_outbound_group_session_id_length(o);
		if (il >= sizeof(in->session_id) || olm_outbound_group_session_id(o,
				(uint8_t *)in->session_id, il) == olm_error())
			die("no session id");
		in->session_id[il] = '\0';
		/* 20 to 100 messages read under it, each remembered */
		size_t seen = 20 + (size_t)rand() % 81;
		for (size_t k = 0; k < seen; k++) {
			snprintf(room, sizeof(room), "$event%zu.%zu", i, k);
			hb_mx_hash(event, room, NULL, NULL);
			if (!hb_mx_inbound_seen_add(in, (uint32_t)k, event))
				die("out of memory");
		}
	}
	hb_mx_olm_outbound_free(o);
}

static void add_outbound(struct hb_mx_crypto *cr, size_t k)
{
	char room[64];
	for (size_t i = 0; i < k; i++) {
		snprintf(room, sizeof(room), "!patient%zu:localhost", i);
		if (!hb_mx_crypto_room(cr, room, true) ||
				!hb_mx_crypto_new_outbound(cr, room, "bench"))
			die("cannot make an outbound session");
		struct outbound *o = hb_mx_crypto_outbound(cr, room);
		/* shared with the patient's device and the bot's own */
		o->shared = calloc(2, sizeof(*o->shared));
		if (!o->shared)
			die("out of memory");
		hb_mx_hash(o->shared[0], "@patient", room, "PHONE");
		hb_mx_hash(o->shared[1], USER, "BOTDEV", NULL);
		o->n_shared = 2;
	}
}

/* The olm_pickle_* calls a save makes, alone. */
static double pickle_all(struct hb_mx_crypto *cr)
{
	static char buf[1 << 16];
	double t0 = now_s();
	for (size_t i = 0; i < cr->n_peers; i++) {
		OlmSession *s = cr->peers[i].session;
		if (olm_pickle_session_length(s) > sizeof(buf) || olm_pickle_session(s,
				cr->key, cr->key_len, buf, sizeof(buf)) == olm_error())
			die("cannot pickle");
	}
	for (size_t i = 0; i < cr->n_inbound; i++) {
		OlmInboundGroupSession *s = cr->inbound[i].session;
		if (olm_pickle_inbound_group_session(s, cr->key, cr->key_len, buf,
				sizeof(buf)) == olm_error())
			die("cannot pickle");
	}
	for (size_t i = 0; i < cr->n_outbound; i++) {
		OlmOutboundGroupSession *s = cr->outbound[i].session;
		if (olm_pickle_outbound_group_session(s, cr->key, cr->key_len, buf,
				sizeof(buf)) == olm_error())
			die("cannot pickle");
	}
	return now_s() - t0;
}

static void run(const struct hb_mx_config *cfg, size_t n, size_t m, size_t k)
{
	char path[600];
	double save[5], pickle[5], load[3];
	snprintf(path, sizeof(path), "%s/matrix-crypto.json", cfg->state_dir);
	unlink(path);
	struct hb_mx_crypto *cr = hb_mx_crypto_create(cfg);
	if (!cr || !hb_mx_crypto_set_device(cr, "BOTDEV"))
		die("cannot make the bot's account");
	double t0 = now_s();
	add_peers(cr, m);
	add_inbound(cr, n);
	add_outbound(cr, k);
	double made = now_s() - t0;
	/* the hourly pruning when nothing is old: its cost on the loop */
	t0 = now_s();
	hb_mx_crypto_prune(cr, hb_mx_crypto_now_ms());
	double prune = now_s() - t0;
	if (cr->n_inbound != n)
		die("pruned a session in use");
	/* the first save pickles and prints everything; each later one
	 * follows a batch that read one message and sent one reply (one
	 * inbound and one outbound session changed) */
	double cold = 0;
	for (size_t r = 0; r < 6; r++) {
		if (r > 0 && cr->n_inbound) {
			struct inbound *in = &cr->inbound[r % cr->n_inbound];
			hb_mx_cache_drop(&in->pickle);
			hb_mx_cache_drop(&in->json);
		}
		if (r > 0 && cr->n_outbound)
			hb_mx_cache_drop(&cr->outbound[r % cr->n_outbound].pickle);
		t0 = now_s();
		if (!hb_mx_crypto_save(cr))
			die("cannot save");
		if (r == 0)
			cold = now_s() - t0;
		else
			save[r - 1] = now_s() - t0;
		if (r < 5)
			pickle[r] = pickle_all(cr);
	}
	hb_mx_crypto_destroy(cr);
	struct stat st;
	if (stat(path, &st) != 0)
		die("no state file");
	size_t loaded = 0;
	double first[3];
	for (size_t r = 0; r < 3; r++) {
		t0 = now_s();
		cr = hb_mx_crypto_create(cfg);
		load[r] = now_s() - t0;
		if (!cr)
			die("the state does not load");
		loaded = cr->n_inbound;
		/* the first save after a start: pickles as read, entries
		 * printed anew */
		t0 = now_s();
		if (!hb_mx_crypto_save(cr))
			die("cannot save");
		first[r] = now_s() - t0;
		hb_mx_crypto_destroy(cr);
	}
	printf("inbound=%zu peers=%zu outbound=%zu bytes=%lld (%.1f MiB) "
		"save_ms=%.1f save_all_ms=%.1f save_after_load_ms=%.1f "
		"pickle_all_ms=%.1f load_ms=%.1f prune_ms=%.2f loaded_inbound=%zu "
		"made_s=%.1f\n", n, m, k, (long long)st.st_size,
		(double)st.st_size / (1024.0 * 1024.0), median(save, 5) * 1e3,
		cold * 1e3, median(first, 3) * 1e3, median(pickle, 5) * 1e3,
		median(load, 3) * 1e3, prune * 1e3, loaded, made);
	fflush(stdout);
	unlink(path);
}

int main(int argc, char **argv)
{
	static const size_t defaults[] = { 100, 100, 100, 1000, 1000, 1000,
		10000, 1000, 1000 };
	const char *tmp = getenv("TMPDIR");
	char dir[512], key_file[600];
	hb_log_init(HB_LOG_ERROR);
	srand(1);
	snprintf(dir, sizeof(dir), "%s/bench-crypto-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("no scratch directory");
	snprintf(key_file, sizeof(key_file), "%s/key", dir);
	FILE *f = fopen(key_file, "w");
	if (!f || fputs(KEY "\n", f) < 0 || fclose(f) != 0)
		die("cannot write the key file");
	struct hb_mx_config cfg = { .state_dir = dir, .user_id = (char *)USER,
		.encryption = true, .encryption_key_file = key_file,
		.undecryptable_timeout_s = 60 };
	if (argc > 1 && (argc - 1) % 3 == 0) {
		for (int i = 1; i + 2 < argc; i += 3)
			run(&cfg, strtoul(argv[i], NULL, 10),
				strtoul(argv[i + 1], NULL, 10),
				strtoul(argv[i + 2], NULL, 10));
	} else if (argc > 1) {
		fprintf(stderr, "usage: bench_crypto_store [N M K]...\n");
		return 2;
	} else {
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i += 3)
			run(&cfg, defaults[i], defaults[i + 1], defaults[i + 2]);
	}
	unlink(key_file);
	rmdir(dir);
	return 0;
}
