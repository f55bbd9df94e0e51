#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum hb_log_level max_level = HB_LOG_INFO;
static bool text_allowed;
static uint64_t hash_key[2];
static bool hash_keyed;

static const char *const names[] = {
	[HB_LOG_AUDIT] = "audit",
	[HB_LOG_ERROR] = "error",
	[HB_LOG_WARN] = "warn",
	[HB_LOG_INFO] = "info",
	[HB_LOG_DEBUG] = "debug",
};

void hb_log_init(enum hb_log_level level)
{
	max_level = level;
}

bool hb_log_parse_level(const char *s, enum hb_log_level *level)
{
	/* audit is not a threshold: it is always on */
	for (unsigned i = HB_LOG_ERROR; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*level = (enum hb_log_level)i;
			return true;
		}
	}
	return false;
}

bool hb_log_enabled(enum hb_log_level level)
{
	return level <= max_level;
}

void hb_log(enum hb_log_level level, const char *event, const char *fields, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	if (level > max_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ level=%s event=%s",
		ts.tv_nsec / 1000000, names[level], event);
	if (fields && *fields && n < sizeof(line) - 2) {
		va_list ap;
		line[n++] = ' ';
		va_start(ap, fields);
		vsnprintf(line + n, sizeof(line) - n, fields, ap);
		va_end(ap);
	}
	/* one write per line so concurrent writers never interleave */
	fprintf(stderr, "%s\n", line);
}

const char *hb_log_quote(const char *value, char *buf, unsigned size)
{
	unsigned o = 0;
	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = value ? value : ""; *p && o + 3 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			continue;
		if (c == '"' || c == '\\')
			buf[o++] = '\\';
		buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void hb_log_set_text_allowed(bool allowed)
{
	text_allowed = allowed;
}

bool hb_log_text_allowed(void)
{
	return text_allowed;
}

/* ---- SipHash-2-4 (Aumasson and Bernstein), streaming ---- */

struct sip {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;   /* bytes not yet in a full word */
	unsigned ntail;
	uint64_t len;
};

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static void sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static void sip_init(struct sip *s, const uint64_t key[2])
{
	s->v0 = 0x736f6d6570736575ULL ^ key[0];
	s->v1 = 0x646f72616e646f6dULL ^ key[1];
	s->v2 = 0x6c7967656e657261ULL ^ key[0];
	s->v3 = 0x7465646279746573ULL ^ key[1];
	s->tail = 0;
	s->ntail = 0;
	s->len = 0;
}

static void sip_update(struct sip *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		/* little-endian words, whatever the host */
		s->tail |= (uint64_t)p[i] << (8 * s->ntail);
		if (++s->ntail == 8) {
			sip_word(s, s->tail);
			s->tail = 0;
			s->ntail = 0;
		}
	}
	s->len += n;
}

static uint64_t sip_final(struct sip *s)
{
	sip_word(s, s->tail | (s->len << 56));
	s->v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static void hash_seed(void)
{
	/* getrandom() blocks only before the kernel's pool is ready, at
	 * boot; without it, hashes are still unlinkable to ids by anyone
	 * without this process' memory, if weaker */
	if (getrandom(hash_key, sizeof(hash_key), 0) != (ssize_t)sizeof(hash_key)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		hash_key[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL;
		hash_key[1] ^= (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32) ^
			(uint64_t)(uintptr_t)&ts;
		hb_log(HB_LOG_WARN, "log", "warning=\"no kernel randomness for the "
			"conversation hash salt\"");
	}
	hash_keyed = true;
}

void hb_log_hash(char out[HB_LOG_HASH_LEN], const char *a, const char *b)
{
	static const char hex[] = "0123456789abcdef";
	struct sip s;
	if (!hash_keyed)
		hash_seed();
	sip_init(&s, hash_key);
	sip_update(&s, a ? a : "", a ? strlen(a) : 0);
	/* a separator no id holds, so ("ab", "c") and ("a", "bc") differ */
	sip_update(&s, "\x1f", 1);
	if (b)
		sip_update(&s, b, strlen(b));
	uint64_t h = sip_final(&s);
	for (int i = 15; i >= 0; i--) {
		out[i] = hex[h & 0xf];
		h >>= 4;
	}
	out[16] = '\0';
}
