#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void hb_mx_urlencode(struct hb_buf *s, const char *p)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '-' || c == '.' ||
				c == '_' || c == '~') {
			hb_buf_append(s, p, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			hb_buf_append(s, e, 3);
		}
	}
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

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

bool hb_mx_write_atomic(const char *path, const char *tmp_path,
		const char *dir, const char *text, const char **step)
{
	int fd = -1, dfd = -1;
	bool ok = false;
	*step = "open";
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	*step = "write";
	if (!write_all(fd, text, strlen(text)) || !write_all(fd, "\n", 1))
		goto out;
	*step = "fsync";
	if (fsync(fd) != 0)
		goto out;
	*step = "close";
	int rc = close(fd);
	fd = -1;
	if (rc != 0)
		goto out;
	*step = "rename";
	if (rename(tmp_path, path) != 0)
		goto out;
	*step = "fsync-dir";
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		goto out;
	ok = true;
out:
	{
		int saved = errno;
		if (fd >= 0)
			close(fd);
		if (dfd >= 0)
			close(dfd);
		errno = saved;
	}
	return ok;
}
