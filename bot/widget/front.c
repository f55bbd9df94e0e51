/* The widget's front door (see front.h). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "unmasked.h"
#include "widget.h"

#define MAX_TARGET 2048   /* longer: 414 */
#define MAX_HEAD 8192     /* longer: 431 */
#define MAX_FIELDS 64     /* more header lines: 431 */
/* what lws gets must fit its header table (4096 bytes by default) */
#define MAX_FORWARD 3072
#define HEAD_TIMEOUT_S 10
#define LINGER_S 2

struct front {
	char *buf;
	size_t len;
	unsigned char *reply;    /* LWS_PRE bytes, then the answer */
	size_t reply_len;
	bool lingering;          /* answered: reading what is left, then close */
	char peer[INET6_ADDRSTRLEN];
	struct hb_client *client; /* the peer's entry, while the head is read */
};

struct head {
	size_t len;              /* up to and including the blank line */
	bool head_method, upgrade;
	char *out;               /* the rewritten head */
	size_t out_len;
	char xff[1024], fwd[1024];
	const char *why;
};

static const char *status_text(unsigned status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		(c >= 'A' && c <= 'F');
}

static const char *find_blank_line(const char *b, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++) {
		if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' &&
				b[i + 3] == '\n')
			return b + i;
	}
	return NULL;
}

static bool append(struct head *h, const char *s, size_t n)
{
	if (h->out_len + n > MAX_FORWARD)
		return false;
	memcpy(h->out + h->out_len, s, n);
	h->out_len += n;
	return true;
}

static bool collect(char *list, size_t size, const char *v, size_t n)
{
	size_t have = strlen(list);
	if (have + n + 3 > size)
		return false;
	if (have)
		memcpy(list + have, ", ", 2), have += 2;
	memcpy(list + have, v, n);
	list[have + n] = '\0';
	return true;
}

/* The headers lws needs for the widget; everything else (cookies too)
 * stays here. Sec-WebSocket-Protocol is rewritten in parse(). */
static const char *const forwarded[] = { "host", "origin", "upgrade",
	"connection", "sec-websocket-key", "sec-websocket-version",
	"sec-websocket-extensions", "if-none-match", NULL };

/* Whether a comma-separated list holds a token (any case). */
static bool has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);
	for (size_t i = 0; i < n; ) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t start = i;
		while (i < n && v[i] != ',')
			i++;
		size_t end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
			return true;
	}
	return false;
}

/* A Sec-WebSocket-Key: 16 bytes in base64, 24 characters. */
static bool websocket_key(const char *v, size_t n)
{
	if (n != 24 || v[22] != '=' || v[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++) {
		char c = v[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				(c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return true;
}

static bool named(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* 0: need more bytes; 200: good (h filled); else the status to answer. */
static unsigned parse(const char *b, size_t n, struct head *h)
{
	const char *eol = memchr(b, '\n', n);
	if (!eol)
		return n > MAX_TARGET + 32 ? 414 : 0;
	const char *end = find_blank_line(b, n);
	if (!end) {
		if (n > MAX_HEAD)
			return 431;
		/* reject what is already wrong without waiting for the rest */
		for (size_t i = 0; i < n; i++) {
			if (b[i] == '\0' || (b[i] == '\n' && (i == 0 ||
					b[i - 1] != '\r')))
				return 400;
		}
		return 0;
	}
	h->len = (size_t)(end - b) + 4;
	if (h->len > MAX_HEAD)
		return 431;
	/* CRLF only: no bare CR or LF, no NUL anywhere in the head */
	for (size_t i = 0; i < h->len; i++) {
		if (b[i] == '\0' || (b[i] == '\r' && b[i + 1] != '\n') ||
				(b[i] == '\n' && (i == 0 || b[i - 1] != '\r'))) {
			h->why = "control character";
			return 400;
		}
	}
	/* request line: method SP target SP version */
	size_t rl = (size_t)(eol - b) - 1;
	const char *sp1 = memchr(b, ' ', rl);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', rl - (size_t)(sp1 + 1 - b)) :
		NULL;
	if (!sp1 || sp1 == b || !sp2 || sp2 == sp1 + 1)
		return 400;
	const char *target = sp1 + 1, *version = sp2 + 1;
	size_t tlen = (size_t)(sp2 - target), vlen = rl - (size_t)(version - b);
	if (tlen > MAX_TARGET)
		return 414;
	for (const char *p = b; p < sp1; p++) {
		if (!tchar((unsigned char)*p))
			return 400;
	}
	bool v11 = vlen == 8 && memcmp(version, "HTTP/1.1", 8) == 0;
	if (!v11 && !(vlen == 8 && memcmp(version, "HTTP/1.0", 8) == 0))
		return vlen >= 5 && memcmp(version, "HTTP/", 5) == 0 ? 505 : 400;
	h->head_method = sp1 - b == 4 && memcmp(b, "HEAD", 4) == 0;
	if (!h->head_method && !(sp1 - b == 3 && memcmp(b, "GET", 3) == 0))
		return 405;
	/* origin-form only: no absolute-form, no "*" */
	if (target[0] != '/') {
		h->why = "request target";
		return 400;
	}
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)target[i];
		if (c <= 0x20 || c >= 0x7f)
			return 400;
		if (c == '%' && (i + 2 >= tlen || !hexdigit(target[i + 1]) ||
				!hexdigit(target[i + 2]) || (target[i + 1] == '0' &&
				target[i + 2] == '0'))) {
			h->why = "escape";
			return 400;
		}
	}
	if (!append(h, b, rl) || !append(h, "\r\n", 2))
		return 414;
	/* header fields */
	unsigned hosts = 0, lengths = 0, fields = 0, keys = 0, versions = 0;
	bool chunked = false, body = false, conn_upgrade = false, v13 = false,
		key_ok = false, protocol = false;
	for (const char *line = eol + 1; line < end + 2; ) {
		const char *le = memchr(line, '\r', (size_t)(end + 2 - line));
		size_t ll = (size_t)(le - line);
		if (++fields > MAX_FIELDS)
			return 431;
		if (line[0] == ' ' || line[0] == '\t') {
			h->why = "obs-fold";
			return 400;
		}
		size_t nl = 0;
		while (nl < ll && tchar((unsigned char)line[nl]))
			nl++;
		/* "Content-Length : 44" is no header lws would agree on */
		if (nl == 0 || nl == ll || line[nl] != ':') {
			h->why = "field name";
			return 400;
		}
		const char *v = line + nl + 1, *ve = line + ll;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *p = v; p < ve; p++) {
			unsigned char c = (unsigned char)*p;
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				h->why = "control character";
				return 400;
			}
		}
		size_t vl = (size_t)(ve - v);
		if (named(line, nl, "host")) {
			hosts++;
		} else if (named(line, nl, "content-length")) {
			lengths++;
			if (vl == 0 || vl > 18) {
				h->why = "content-length";
				return 400;
			}
			for (size_t i = 0; i < vl; i++) {
				if (v[i] < '0' || v[i] > '9') {
					h->why = "content-length";
					return 400;
				}
			}
			body = body || strspn(v, "0") < vl;
		} else if (named(line, nl, "transfer-encoding")) {
			chunked = true;
		} else if (named(line, nl, "x-forwarded-for")) {
			if (!collect(h->xff, sizeof(h->xff), v, vl))
				return 431;
		} else if (named(line, nl, "forwarded")) {
			if (!collect(h->fwd, sizeof(h->fwd), v, vl))
				return 431;
		} else if (named(line, nl, "connection")) {
			conn_upgrade = conn_upgrade || has_token(v, vl, "upgrade");
		} else if (named(line, nl, "sec-websocket-version")) {
			versions++;
			v13 = vl == 2 && memcmp(v, "13", 2) == 0;
		} else if (named(line, nl, "sec-websocket-key")) {
			keys++;
			key_ok = websocket_key(v, vl);
		} else if (named(line, nl, "sec-websocket-protocol")) {
			/* only ours goes on, alone: lws would pick any other protocol
			 * of the vhost named here, or close without a word on an
			 * unknown one (a client that asked only for another then
			 * fails the handshake itself, as RFC 6455 4.1 says) */
			static const char ours[] =
				"sec-websocket-protocol: healthbot-chat\r\n";
			if (!protocol && has_token(v, vl, "healthbot-chat")) {
				if (!append(h, ours, sizeof(ours) - 1))
					return 431;
				protocol = true;
			}
			goto next;
		} else if (named(line, nl, "upgrade")) {
			/* websockets only: lws would answer an h2c or unknown
			 * upgrade with its own page */
			if (h->upgrade || vl != 9 || strncasecmp(v, "websocket", 9) != 0) {
				h->why = "upgrade";
				return 400;
			}
			h->upgrade = true;
		}
		for (size_t i = 0; forwarded[i]; i++) {
			if (named(line, nl, forwarded[i])) {
				if (!append(h, line, nl + 1) || !append(h, " ", 1) ||
						!append(h, v, vl) || !append(h, "\r\n", 2))
					return 431;
				break;
			}
		}
next:
		line = le + 2;
	}
	if (hosts > 1 || (v11 && hosts == 0)) {
		h->why = "host";
		return 400;
	}
	/* RFC 6455 4.1/4.2.1: what lws would drop without an answer */
	if (h->upgrade && (!v11 || h->head_method || !conn_upgrade || keys != 1 ||
			!key_ok || versions > 1)) {
		h->why = "websocket handshake";
		return 400;
	}
	if (h->upgrade && !v13) {
		h->why = "websocket version";
		return 426;
	}
	if (lengths > 1 || chunked || body) {
		/* nothing here takes a body: a GET with one is smuggling */
		h->why = "body";
		return 400;
	}
	return 200;
}

/* An address as inet_ntop writes it (IPv4-mapped IPv6 as IPv4). */
static bool canon_ip(const char *in, size_t n, char *out, size_t size)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	unsigned char a[sizeof(struct in6_addr)];
	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, in, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)size) != NULL;
	if (inet_pton(AF_INET6, tmp, a) != 1)
		return false;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)size) != NULL;
	return inet_ntop(AF_INET6, a, out, (socklen_t)size) != NULL;
}

static bool trusted(const struct hb_widget *w, const char *ip)
{
	for (size_t i = 0; i < w->conf.n_proxies; i++) {
		if (strcmp(ip, w->conf.proxies[i]) == 0)
			return true;
	}
	return false;
}

/* One hop of X-Forwarded-For or a Forwarded for= value: quotes, brackets
 * and a port taken off. */
static bool hop_ip(const char *s, size_t n, char *out, size_t size)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
		s++, n -= 2;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return false;
		return canon_ip(s + 1, (size_t)(close - s - 1), out, size);
	}
	const char *colon = memchr(s, ':', n);
	if (colon && !memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
		n = (size_t)(colon - s); /* IPv4 with a port */
	return canon_ip(s, n, out, size);
}

/* The Forwarded header's for= values, comma separated, into list. */
static void forwarded_for(const char *fwd, char *list, size_t size)
{
	list[0] = '\0';
	for (const char *e = fwd; *e; ) {
		size_t el = strcspn(e, ",");
		for (const char *p = e; p < e + el; ) {
			size_t pl = strcspn(p, ";");
			if (pl > (size_t)(e + el - p))
				pl = (size_t)(e + el - p);
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if (strncasecmp(q, "for=", 4) == 0)
				collect(list, size, q + 4, (size_t)(p + pl - q - 4));
			p += pl + (p + pl < e + el);
		}
		e += el + (e[el] == ',');
	}
}

/* The client: the peer, or when the peer is a trusted proxy the right-most
 * hop it reports that is not a trusted proxy itself. */
static void source_of(const struct hb_widget *w, const char *peer,
		const struct head *h, char *out, size_t size)
{
	char list[1024], ip[INET6_ADDRSTRLEN];
	snprintf(out, size, "%s", peer);
	if (!trusted(w, peer))
		return;
	if (h->fwd[0])
		forwarded_for(h->fwd, list, sizeof(list));
	else
		snprintf(list, sizeof(list), "%s", h->xff);
	size_t n = strlen(list);
	while (n) {
		const char *comma = NULL;
		for (size_t i = n; i > 0; i--) {
			if (list[i - 1] == ',') {
				comma = list + i - 1;
				break;
			}
		}
		const char *hop = comma ? comma + 1 : list;
		/* a hop that is no address ("unknown", garbage): stop there */
		if (!hop_ip(hop, n - (size_t)(hop - list), ip, sizeof(ip)))
			return;
		snprintf(out, size, "%s", ip);
		if (!trusted(w, ip))
			return;
		n = comma ? (size_t)(comma - list) : 0;
	}
}

static struct hb_widget *widget_of(struct lws *wsi)
{
	struct hb_widget **slot = lws_protocol_vh_priv_get(lws_get_vhost(wsi),
		lws_get_protocol(wsi));
	return slot ? *slot : NULL;
}

static int answer(struct lws *wsi, struct front *f, unsigned status,
		const char *why, bool head_method)
{
	char hdr[2048], body[64];
	int bl = snprintf(body, sizeof(body), "%s\n", status_text(status));
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %u %s\r\n"
		"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
		"connection: close\r\n%s", status, status_text(status), bl,
		status == 405 ? "allow: GET, HEAD\r\n" : status == 503 ?
		"x-healthbot-refused: source_busy\r\n" : status == 426 ?
		"sec-websocket-version: 13\r\n" : "");
	for (const struct lws_protocol_vhost_options *o = hb_http_security_headers();
			o && n > 0 && (size_t)n < sizeof(hdr); o = o->next)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "%s %s\r\n", o->name,
			o->value);
	if (n <= 0 || (size_t)n + (size_t)bl + 3 >= sizeof(hdr))
		return -1;
	n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "\r\n%s",
		head_method ? "" : body);
	free(f->reply);
	if (!(f->reply = malloc(LWS_PRE + (size_t)n)))
		return -1;
	memcpy(f->reply + LWS_PRE, hdr, (size_t)n);
	f->reply_len = (size_t)n;
	hb_log(HB_LOG_DEBUG, "http", "status=%u front=1 why=%s", status,
		why ? why : "-");
	lws_callback_on_writable(wsi);
	return 0;
}

bool hb_front_source(struct lws *wsi, char *buf, size_t size)
{
	return lws_hdr_custom_copy(wsi, buf, (int)size, HB_FRONT_SOURCE_HEADER,
		(int)strlen(HB_FRONT_SOURCE_HEADER)) > 0;
}

static int hand_over(struct lws *wsi, struct front *f, struct hb_widget *w,
		struct head *h)
{
	char src[64], line[96];
	source_of(w, f->peer, h, src, sizeof(src));
	int n = snprintf(line, sizeof(line), "%s %s\r\n\r\n",
		HB_FRONT_SOURCE_HEADER, src);
	if (!append(h, line, (size_t)n))
		return answer(wsi, f, 431, "forwarded size", h->head_method);
	/* a websocket's first frames may follow its request; after a plain
	 * request they are a pipelined request or a body: dropped, and the
	 * response closes the connection */
	size_t extra = h->upgrade ? f->len - h->len : 0;
	char *all = h->out;
	if (extra) {
		if (!(all = malloc(h->out_len + extra)))
			return -1;
		memcpy(all, h->out, h->out_len);
		memcpy(all + h->out_len, f->buf + h->len, extra);
	}
	int fd = fcntl(lws_get_socket_fd(wsi), F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		hb_log(HB_LOG_WARN, "widget", "error=\"dup failed\"");
		if (all != h->out)
			free(all);
		return -1;
	}
	/* a websocket's frames are followed from its first byte: an unmasked
	 * one is never passed on (unmasked.h) */
	if (h->upgrade && !hb_unmasked_watch(fd, all + h->out_len, &extra)) {
		close(fd);
		if (all != h->out)
			free(all);
		return -1;
	}
	/* the raw wsi closes its descriptor without a shutdown(): the socket
	 * lives on in the HTTP wsi */
	if (!lws_adopt_socket_vhost_readbuf(w->vhost, fd, all,
			h->out_len + extra)) {
		hb_log(HB_LOG_WARN, "widget", "error=\"cannot adopt a connection\"");
		hb_unmasked_forget(fd);
	}
	if (all != h->out)
		free(all);
	return -1;
}

/* One peer may have max_connections_per_source heads in progress: a
 * flood of sockets that never send a request is answered 503 at once
 * instead of holding a descriptor each. A trusted proxy carries everyone's
 * requests and is not counted. */
static bool admit(struct hb_widget *w, struct front *f)
{
	long long now = hb_loop_now_us();
	if (trusted(w, f->peer))
		return true;
	struct hb_client *e = hb_clients_get(w->sources, f->peer, now);
	if (!e || e->pending >= (size_t)w->conf.max_per_source) {
		if (e && hb_client_may_log(e, now))
			hb_log(HB_LOG_INFO, "widget_refused", "status=503 "
				"reason=source_busy pending=1");
		return false;
	}
	e->pending++;
	f->client = e;
	return true;
}

static void release(struct front *f)
{
	if (f->client)
		f->client->pending--;
	f->client = NULL;
}

static int rx(struct lws *wsi, struct front *f, const void *in, size_t len)
{
	struct hb_widget *w = widget_of(wsi);
	if (f->lingering || f->reply)
		return 0; /* what a refused client still sends */
	if (!w)
		return -1;
	size_t keep = len;
	if (f->len + keep > MAX_HEAD + 4)
		keep = MAX_HEAD + 4 - f->len; /* enough to tell 431 */
	char *grown = realloc(f->buf, f->len + keep + 1);
	if (!grown)
		return -1;
	f->buf = grown;
	memcpy(f->buf + f->len, in, keep);
	f->len += keep;
	f->buf[f->len] = '\0';
	struct head *h = calloc(1, sizeof(*h));
	if (!h || !(h->out = malloc(MAX_FORWARD))) {
		free(h);
		return -1;
	}
	int rc = 0;
	unsigned status = parse(f->buf, f->len, h);
	if (status)
		release(f);
	if (status == 200)
		rc = hand_over(wsi, f, w, h);
	else if (status)
		rc = answer(wsi, f, status, h->why, h->head_method);
	free(h->out);
	free(h);
	return rc;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		void *user, void *in, size_t len)
{
	struct front *f = user;
	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT: {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (!f)
			return -1;
		memset(f, 0, sizeof(*f));
		if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss,
				&sl) < 0)
			return -1;
		char ip[INET6_ADDRSTRLEN];
		const void *a = ss.ss_family == AF_INET ?
			(const void *)&((struct sockaddr_in *)&ss)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		struct hb_widget *w = widget_of(wsi);
		if (!w || !inet_ntop(ss.ss_family, a, ip, sizeof(ip)) ||
				!canon_ip(ip, strlen(ip), f->peer, sizeof(f->peer)))
			return -1;
		if (!admit(w, f))
			return answer(wsi, f, 503, "pending", false);
		/* a head that never ends holds a socket: not for long */
		lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, HEAD_TIMEOUT_S);
		return 0;
	}
	case LWS_CALLBACK_RAW_RX:
		return f ? rx(wsi, f, in, len) : -1;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (!f || !f->reply || f->lingering)
			return 0;
		if (lws_write(wsi, f->reply + LWS_PRE, f->reply_len, LWS_WRITE_RAW) !=
				(int)f->reply_len)
			return -1;
		/* half close and read what is left, so the client gets the
		 * answer rather than a reset */
		shutdown(lws_get_socket_fd(wsi), SHUT_WR);
		f->lingering = true;
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LINGER_S);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE:
		if (f) {
			/* the widget may be gone: its table with it */
			if (widget_of(wsi))
				release(f);
			free(f->buf);
			free(f->reply);
			memset(f, 0, sizeof(*f));
		}
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols hb_front_protocols[2] = {
	{
		.name = "healthbot-front",
		.callback = callback,
		.per_session_data_size = sizeof(struct front),
		.rx_buffer_size = 4096,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};
