#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void hb_mx_str_init(struct hb_mx_str *s)
{
	*s = (struct hb_mx_str){0};
}

void hb_mx_str_finish(struct hb_mx_str *s)
{
	free(s->data);
	*s = (struct hb_mx_str){0};
}

static bool reserve(struct hb_mx_str *s, size_t extra)
{
	if (s->oom)
		return false;
	if (s->len + extra + 1 <= s->cap)
		return true;
	size_t cap = s->cap ? s->cap : 64;
	while (cap < s->len + extra + 1)
		cap *= 2;
	char *data = realloc(s->data, cap);
	if (!data) {
		s->oom = true;
		return false;
	}
	s->data = data;
	s->cap = cap;
	return true;
}

void hb_mx_str_append(struct hb_mx_str *s, const char *p, size_t n)
{
	if (!reserve(s, n))
		return;
	memcpy(s->data + s->len, p, n);
	s->len += n;
	s->data[s->len] = '\0';
}

void hb_mx_str_puts(struct hb_mx_str *s, const char *p)
{
	hb_mx_str_append(s, p, strlen(p));
}

void hb_mx_str_printf(struct hb_mx_str *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(s, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(s->data + s->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

void hb_mx_str_urlencode(struct hb_mx_str *s, const char *p)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '-' || c == '.' ||
				c == '_' || c == '~') {
			hb_mx_str_append(s, p, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			hb_mx_str_append(s, e, 3);
		}
	}
}

void hb_mx_str_html(struct hb_mx_str *s, const char *p, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;
		switch (p[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: continue;
		}
		hb_mx_str_append(s, p + start, i - start);
		hb_mx_str_puts(s, rep);
		start = i + 1;
	}
	hb_mx_str_append(s, p + start, n - start);
}

char *hb_mx_str_steal(struct hb_mx_str *s)
{
	if (!s->data && !s->oom)
		hb_mx_str_append(s, "", 0);
	char *data = s->oom ? NULL : s->data;
	if (s->oom)
		free(s->data);
	*s = (struct hb_mx_str){0};
	return data;
}

void hb_mx_hash(char out[HB_MX_HASH_HEX], const char *a, const char *b,
		const char *c)
{
	static const char hex[] = "0123456789abcdef";
	const char *parts[3] = { a, b, c };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (int i = 0; ok && i < 3; i++) {
		const char *p = parts[i] ? parts[i] : "";
		ok = EVP_DigestUpdate(ctx, p, strlen(p)) &&
			(i == 2 || EVP_DigestUpdate(ctx, "\x1f", 1));
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) && md_len >= 16;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		/* only when libcrypto itself is broken; keep ids distinct
		 * enough to stay usable rather than abort */
		uint64_t h = 1469598103934665603ULL;
		for (int i = 0; i < 3; i++)
			for (const char *p = parts[i] ? parts[i] : ""; *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		memset(md, 0, 16);
		memcpy(md, &h, sizeof(h));
	}
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}

bool hb_mx_url_parse(const char *url, struct hb_mx_url *out, const char **why)
{
	const char *p;
	*out = (struct hb_mx_url){0};
	if (strncmp(url, "https://", 8) == 0) {
		out->tls = true;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else {
		*why = "must start with https:// (or http:// with allow_plain_http)";
		return false;
	}
	const char *host_end;
	const char *host = p;
	if (*p == '[') {
		host = p + 1;
		host_end = strchr(host, ']');
		if (!host_end) {
			*why = "has an unterminated [IPv6] address";
			return false;
		}
		p = host_end + 1;
	} else {
		host_end = p + strcspn(p, ":/?#@");
		p = host_end;
	}
	size_t hlen = (size_t)(host_end - host);
	if (hlen == 0 || hlen >= sizeof(out->host)) {
		*why = "has no host name";
		return false;
	}
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	if (strpbrk(out->host, "@ \t")) {
		*why = "must not hold a user name or spaces";
		return false;
	}
	out->port = out->tls ? 443 : 80;
	if (*p == ':') {
		char *end;
		long port = strtol(p + 1, &end, 10);
		if (end == p + 1 || port < 1 || port > 65535) {
			*why = "has a bad port number";
			return false;
		}
		out->port = (int)port;
		p = end;
	}
	if (*p && *p != '/') {
		*why = "must be scheme://host[:port][/path] without a query or user name";
		return false;
	}
	if (strpbrk(p, "?#")) {
		*why = "must not hold a query or fragment";
		return false;
	}
	size_t plen = strlen(p);
	while (plen && p[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(out->prefix)) {
		*why = "has too long a path";
		return false;
	}
	memcpy(out->prefix, p, plen);
	out->prefix[plen] = '\0';
	unsigned char addr[16];
	out->host_is_ip = inet_pton(AF_INET, out->host, addr) == 1 ||
		inet_pton(AF_INET6, out->host, addr) == 1;
	return true;
}

bool hb_mx_user_id_valid(const char *id)
{
	const char *colon = id ? strchr(id, ':') : NULL;
	return id && id[0] == '@' && colon && colon > id + 1 && colon[1] &&
		!strpbrk(id, " \t\r\n/");
}

const char *hb_mx_user_server(const char *id)
{
	const char *colon = id ? strchr(id, ':') : NULL;
	return colon && colon[1] ? colon + 1 : NULL;
}

static uint64_t next_random(void)
{
	/* xorshift64*: jitter needs spread, not secrecy */
	static uint64_t state;
	if (!state) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
			((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ULL;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ULL;
}

long hb_mx_backoff_ms(unsigned attempt, long base_ms, long cap_ms)
{
	long d = base_ms;
	for (unsigned i = 0; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	long half = d / 2;
	return half + (long)(next_random() % (uint64_t)(d - half + 1));
}
