#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#define MAX_RESPONSE (32 * 1024 * 1024)
#define CHUNK 4096
#define RESOLVE_POLL_US (20 * LWS_US_PER_MS)
/* libwebsockets kills a client that waits longer than the context's
 * timeout_secs for the answer's headers, and gives no callback in that
 * state to change it; a timer renews the timeout while a long-poll waits
 * (the watchdog still bounds the whole request) */
#define KEEP_WAITING_US (5 * LWS_US_PER_SEC)
#define KEEP_WAITING_S 15
/* re-resolve after this many connection failures in a row, at most once a
 * minute, and refresh a good address hourly (load balancers move) */
#define RERESOLVE_FAILURES 3
#define RERESOLVE_MIN_US (60LL * LWS_US_PER_SEC)
#define REFRESH_US (3600LL * LWS_US_PER_SEC)

/* Shared with the resolver thread; whoever drops the last reference frees
 * it, so destroying the client never waits for a slow DNS server. */
struct resolve_job {
	pthread_mutex_t lock;
	int refs;
	bool done;
	int gai_error;
	char host[256];
	char addr[INET6_ADDRSTRLEN];
};

struct hb_mx_request {
	struct hb_mx_http *http;
	struct hb_mx_request *prev, *next;
	struct lws *wsi;
	const char *kind;
	char *method;
	char *path;
	char *body;
	size_t body_len, body_sent;
	struct hb_buf resp;
	int status;
	long retry_after_ms;
	int timeout_s;
	long long started_us;
	lws_sorted_usec_list_t sul; /* watchdog, or a deferred failure */
	lws_sorted_usec_list_t keep_sul;
	bool request_sent;
	hb_mx_http_fn fn;
	void *data;
	bool waiting_address;
	bool connecting;
	const char *error;
	bool no_such_host;
};

struct hb_mx_http {
	struct lws_context *context;
	struct lws_vhost *vhost;
	struct hb_mx_url url;
	char host_header[300];
	char *auth; /* "Bearer …" */
	char addr[INET6_ADDRSTRLEN];
	struct resolve_job *job;
	lws_sorted_usec_list_t resolve_sul;
	long long resolved_us;
	unsigned failures;
	bool ever_connected;
	struct hb_mx_request *requests;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		void *user, void *in, size_t len);

static const struct lws_protocols protocols[] = {
	{ "hb-matrix-client", callback, 0, CHUNK, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void job_unref(struct resolve_job *job)
{
	pthread_mutex_lock(&job->lock);
	bool last = --job->refs == 0;
	pthread_mutex_unlock(&job->lock);
	if (last) {
		pthread_mutex_destroy(&job->lock);
		free(job);
	}
}

static void *resolve_thread(void *arg)
{
	struct resolve_job *job = arg;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char addr[INET6_ADDRSTRLEN] = "";
	int rc = getaddrinfo(job->host, NULL, &hints, &res);
	if (rc == 0) {
		/* prefer IPv4: a host with a AAAA record but no IPv6 route is
		 * the commoner misconfiguration */
		const struct addrinfo *pick = res;
		for (const struct addrinfo *a = res; a; a = a->ai_next) {
			if (a->ai_family == AF_INET) {
				pick = a;
				break;
			}
		}
		const void *src = pick->ai_family == AF_INET ?
			(const void *)&((const struct sockaddr_in *)(const void *)pick->ai_addr)->sin_addr :
			(const void *)&((const struct sockaddr_in6 *)(const void *)pick->ai_addr)->sin6_addr;
		if (!inet_ntop(pick->ai_family, src, addr, sizeof(addr)))
			rc = EAI_FAIL;
		freeaddrinfo(res);
	}
	pthread_mutex_lock(&job->lock);
	job->gai_error = rc;
	memcpy(job->addr, addr, sizeof(addr));
	job->done = true;
	pthread_mutex_unlock(&job->lock);
	job_unref(job);
	return NULL;
}

static void connect_request(struct hb_mx_request *req);
static void fail_later(struct hb_mx_request *req, const char *error);

static void resolve_poll(lws_sorted_usec_list_t *sul)
{
	struct hb_mx_http *http = lws_container_of(sul, struct hb_mx_http, resolve_sul);
	struct resolve_job *job = http->job;
	pthread_mutex_lock(&job->lock);
	bool done = job->done;
	int rc = job->gai_error;
	char addr[INET6_ADDRSTRLEN];
	memcpy(addr, job->addr, sizeof(addr));
	pthread_mutex_unlock(&job->lock);
	if (!done) {
		lws_sul_schedule(http->context, 0, &http->resolve_sul, resolve_poll,
			RESOLVE_POLL_US);
		return;
	}
	job_unref(job);
	http->job = NULL;
	http->resolved_us = hb_loop_now_us();
	if (rc == 0) {
		hb_log(HB_LOG_DEBUG, "matrix_http", "resolved=yes");
		memcpy(http->addr, addr, sizeof(addr));
	} else {
		hb_log(HB_LOG_WARN, "matrix_http", "error=\"cannot resolve the "
			"homeserver host\" reason=\"%s\"", gai_strerror(rc));
	}
	/* a failed re-resolution keeps the old address: it may still work */
	for (struct hb_mx_request *r = http->requests, *next; r; r = next) {
		next = r->next;
		if (!r->waiting_address)
			continue;
		r->waiting_address = false;
		if (http->addr[0]) {
			connect_request(r);
		} else {
			r->no_such_host = rc == EAI_NONAME && !http->ever_connected;
			fail_later(r, "cannot resolve the homeserver host");
		}
	}
}

static bool start_resolve(struct hb_mx_http *http)
{
	pthread_t thread;
	pthread_attr_t attr;
	if (http->job)
		return true;
	struct resolve_job *job = calloc(1, sizeof(*job));
	if (!job)
		return false;
	pthread_mutex_init(&job->lock, NULL);
	job->refs = 2;
	snprintf(job->host, sizeof(job->host), "%s", http->url.host);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&thread, &attr, resolve_thread, job);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		hb_log(HB_LOG_ERROR, "matrix_http", "error=\"cannot start the resolver thread\" errno=%d",
			rc);
		pthread_mutex_destroy(&job->lock);
		free(job);
		return false;
	}
	http->job = job;
	lws_sul_schedule(http->context, 0, &http->resolve_sul, resolve_poll,
		RESOLVE_POLL_US);
	return true;
}

struct hb_mx_http *hb_mx_http_create(struct lws_context *context,
		const struct hb_mx_url *url, const char *ca_file, const char *token)
{
	struct lws_context_creation_info info;
	struct hb_mx_http *http = calloc(1, sizeof(*http));
	struct hb_buf auth;
	if (!http)
		return NULL;
	http->context = context;
	http->url = *url;
	bool v6 = strchr(url->host, ':') != NULL;
	bool default_port = url->port == (url->tls ? 443 : 80);
	int n = snprintf(http->host_header, sizeof(http->host_header), "%s%s%s",
		v6 ? "[" : "", url->host, v6 ? "]" : "");
	if (!default_port && n > 0 && (size_t)n < sizeof(http->host_header))
		snprintf(http->host_header + n, sizeof(http->host_header) - (size_t)n,
			":%d", url->port);
	hb_buf_init(&auth);
	hb_buf_printf(&auth, "Bearer %s", token);
	if (!(http->auth = hb_buf_steal(&auth)))
		goto fail;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.vhost_name = "matrix-client";
	/* a client TLS context on this vhost only: verification against the
	 * system store, or against ca_file when the operator gave one */
	if (url->tls) {
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = ca_file;
	}
	http->vhost = lws_create_vhost(context, &info);
	if (!http->vhost) {
		hb_log(HB_LOG_ERROR, "matrix_http", "error=\"cannot create the client vhost\"");
		fprintf(stderr, "healthbot: matrix: cannot set up the HTTP client%s\n",
			ca_file ? " (is ca_file a PEM certificate file?)" : "");
		goto fail;
	}
	/* a literal address needs no lookup (and an IP literal always fits) */
	if (url->host_is_ip && strlen(url->host) < sizeof(http->addr))
		memcpy(http->addr, url->host, strlen(url->host) + 1);
	return http;
fail:
	hb_mx_http_destroy(http);
	return NULL;
}

static void unlink_request(struct hb_mx_request *req)
{
	struct hb_mx_http *http = req->http;
	if (req->prev)
		req->prev->next = req->next;
	else if (http->requests == req)
		http->requests = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
}

/* Forgets the connection: lws closes it later and its callbacks find no
 * request to report to. */
static void detach(struct hb_mx_request *req)
{
	if (req->wsi) {
		lws_set_opaque_user_data(req->wsi, NULL);
		lws_set_timeout(req->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		req->wsi = NULL;
	}
	lws_sul_cancel(&req->sul);
	lws_sul_cancel(&req->keep_sul);
}

static void free_request(struct hb_mx_request *req)
{
	free(req->method);
	free(req->path);
	free(req->body);
	hb_buf_finish(&req->resp);
	free(req);
}

static void finish(struct hb_mx_request *req, const char *error)
{
	struct hb_mx_http *http = req->http;
	detach(req);
	unlink_request(req);
	struct hb_mx_response res = {
		.status = error ? 0 : req->status,
		.body = !error && req->resp.data ? req->resp.data : "",
		.len = error ? 0 : req->resp.len,
		.retry_after_ms = req->retry_after_ms,
		.error = error,
		.no_such_host = req->no_such_host,
		.elapsed_ms = (hb_loop_now_us() - req->started_us) / 1000,
	};
	if (error && !req->no_such_host) {
		/* the address may have moved: look it up again, in the
		 * background, after a few failures in a row */
		if (++http->failures >= RERESOLVE_FAILURES && !http->url.host_is_ip &&
				hb_loop_now_us() - http->resolved_us > RERESOLVE_MIN_US)
			start_resolve(http);
	} else if (!error) {
		http->failures = 0;
		http->ever_connected = true;
	}
	hb_log(HB_LOG_DEBUG, "matrix_http", "kind=%s status=%d ms=%lld%s%s%s",
		req->kind, res.status, res.elapsed_ms, error ? " error=\"" : "",
		error ? error : "", error ? "\"" : "");
	req->fn(req->data, &res);
	free_request(req);
}

static void deferred_failure(lws_sorted_usec_list_t *sul)
{
	struct hb_mx_request *req = lws_container_of(sul, struct hb_mx_request, sul);
	finish(req, req->error ? req->error : "request failed");
}

static void fail_later(struct hb_mx_request *req, const char *error)
{
	req->error = error;
	lws_sul_schedule(req->http->context, 0, &req->sul, deferred_failure, 1);
}

static void watchdog(lws_sorted_usec_list_t *sul)
{
	struct hb_mx_request *req = lws_container_of(sul, struct hb_mx_request, sul);
	finish(req, "timed out");
}

static void keep_waiting(lws_sorted_usec_list_t *sul)
{
	struct hb_mx_request *req = lws_container_of(sul, struct hb_mx_request,
		keep_sul);
	if (!req->wsi || req->status)
		return;
	if (req->request_sent)
		lws_set_timeout(req->wsi, PENDING_TIMEOUT_AWAITING_SERVER_RESPONSE,
			KEEP_WAITING_S);
	lws_sul_schedule(req->http->context, 0, &req->keep_sul, keep_waiting,
		KEEP_WAITING_US);
}

static void connect_request(struct hb_mx_request *req)
{
	struct hb_mx_http *http = req->http;
	struct lws_client_connect_info i;
	memset(&i, 0, sizeof(i));
	i.context = http->context;
	i.vhost = http->vhost;
	i.address = http->addr;
	i.port = http->url.port;
	i.ssl_connection = (http->url.tls ? LCCSCF_USE_SSL : 0) |
		LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	i.path = req->path;
	i.host = http->host_header;
	i.method = req->method;
	i.protocol = protocols[0].name;
	i.opaque_user_data = req;
	/* HTTP/1.1 only: one request per connection keeps failure handling
	 * simple, and a long-poll never shares a stream with a send */
	if (http->url.tls)
		i.alpn = "http/1.1";
	/* the watchdog outlives the request's own timeout a little, so the
	 * server's answer to a long-poll wins over it */
	lws_sul_schedule(http->context, 0, &req->sul, watchdog,
		((lws_usec_t)req->timeout_s + 10) * LWS_US_PER_SEC);
	req->connecting = true;
	struct lws *wsi = lws_client_connect_via_info(&i);
	req->connecting = false;
	if (!wsi || req->error) {
		/* a CONNECTION_ERROR may already have come during the call;
		 * either way report once, from the loop */
		if (wsi)
			lws_set_opaque_user_data(wsi, NULL);
		req->wsi = NULL;
		fail_later(req, req->error ? req->error : "cannot connect");
		return;
	}
	req->wsi = wsi;
	lws_sul_schedule(http->context, 0, &req->keep_sul, keep_waiting,
		KEEP_WAITING_US);
}

struct hb_mx_request *hb_mx_http_request(struct hb_mx_http *http,
		const char *kind, const char *method, const char *path,
		const char *body, int timeout_s, hb_mx_http_fn fn, void *data)
{
	struct hb_mx_request *req = calloc(1, sizeof(*req));
	struct hb_buf full;
	if (!req)
		return NULL;
	hb_buf_init(&full);
	hb_buf_printf(&full, "%s%s", http->url.prefix, path);
	req->http = http;
	req->kind = kind;
	req->method = strdup(method);
	req->path = hb_buf_steal(&full);
	req->body = body ? strdup(body) : NULL;
	req->body_len = body ? strlen(body) : 0;
	req->timeout_s = timeout_s;
	req->retry_after_ms = -1;
	req->started_us = hb_loop_now_us();
	req->fn = fn;
	req->data = data;
	hb_buf_init(&req->resp);
	if (!req->method || !req->path || (body && !req->body)) {
		free_request(req);
		return NULL;
	}
	req->next = http->requests;
	if (http->requests)
		http->requests->prev = req;
	http->requests = req;
	bool stale = !http->url.host_is_ip && http->addr[0] &&
		hb_loop_now_us() - http->resolved_us > REFRESH_US;
	if (!http->addr[0] || stale) {
		if (!start_resolve(http)) {
			fail_later(req, "cannot start the resolver");
			return req;
		}
	}
	if (!http->addr[0]) {
		req->waiting_address = true;
		return req;
	}
	connect_request(req);
	return req;
}

void hb_mx_http_cancel(struct hb_mx_request *req)
{
	if (!req)
		return;
	detach(req);
	unlink_request(req);
	free_request(req);
}

void hb_mx_http_destroy(struct hb_mx_http *http)
{
	if (!http)
		return;
	while (http->requests)
		hb_mx_http_cancel(http->requests);
	lws_sul_cancel(&http->resolve_sul);
	if (http->job)
		job_unref(http->job);
	if (http->vhost)
		lws_vhost_destroy(http->vhost);
	if (http->auth) {
		/* the token should not outlive its use in freed memory */
		memset(http->auth, 0, strlen(http->auth));
		free(http->auth);
	}
	free(http);
}

static int add_headers(struct hb_mx_request *req, struct lws *wsi,
		unsigned char **p, unsigned char *end)
{
	char len[32];
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
			(const unsigned char *)req->http->auth,
			(int)strlen(req->http->auth), p, end) ||
			lws_add_http_header_by_name(wsi, (const unsigned char *)"accept:",
				(const unsigned char *)"application/json", 16, p, end))
		return -1;
	if (!req->body) {
		/* lws sends the headers as soon as this returns */
		req->request_sent = true;
		return 0;
	}
	snprintf(len, sizeof(len), "%zu", req->body_len);
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"content-type:",
			(const unsigned char *)"application/json", 16, p, end) ||
			lws_add_http_header_by_name(wsi,
				(const unsigned char *)"content-length:",
				(const unsigned char *)len, (int)strlen(len), p, end))
		return -1;
	lws_client_http_body_pending(wsi, 1);
	lws_callback_on_writable(wsi);
	return 0;
}

static int write_body(struct hb_mx_request *req, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + CHUNK];
	if (req->body_sent >= req->body_len)
		return 0;
	size_t n = req->body_len - req->body_sent;
	if (n > CHUNK)
		n = CHUNK;
	memcpy(buf + LWS_PRE, req->body + req->body_sent, n);
	bool last = req->body_sent + n == req->body_len;
	if (lws_write(wsi, buf + LWS_PRE, n,
			last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	req->body_sent += n;
	if (last) {
		lws_client_http_body_pending(wsi, 0);
		req->request_sent = true;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

/* libwebsockets' reason in fixed words an operator can act on (its own
 * text may name addresses, and is not stable across versions) */
static const char *connect_error(const char *in)
{
	if (!in)
		return "cannot connect";
	if (strstr(in, "cert") || strstr(in, "verify") || strstr(in, "SSL") ||
			strstr(in, "ssl") || strstr(in, "tls"))
		return "TLS with the homeserver failed: is its certificate "
			"trusted (matrix.ca_file) and for this host name?";
	return "cannot connect";
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		void *user, void *in, size_t len)
{
	struct hb_mx_request *req;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		const char *why = connect_error(in);
		if (!(req = lws_get_opaque_user_data(wsi)))
			return 0;
		lws_set_opaque_user_data(wsi, NULL);
		req->wsi = NULL;
		if (req->connecting)
			req->error = why;
		else
			finish(req, why);
		return 0;
	}
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (!(req = lws_get_opaque_user_data(wsi)))
			return 0;
		lws_set_opaque_user_data(wsi, NULL);
		req->wsi = NULL;
		if (req->connecting)
			req->error = "connection closed";
		else
			finish(req, "connection closed before the answer");
		return 0;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (!(req = lws_get_opaque_user_data(wsi)))
			return -1;
		return add_headers(req, wsi, (unsigned char **)in,
			(unsigned char *)*(char **)in + len);
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		if (!(req = lws_get_opaque_user_data(wsi)))
			return 0;
		return write_body(req, wsi);
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: {
		char ra[32];
		if (!(req = lws_get_opaque_user_data(wsi)))
			return 0;
		req->status = (int)lws_http_client_http_response(wsi);
		if (lws_hdr_copy(wsi, ra, sizeof(ra), WSI_TOKEN_HTTP_RETRY_AFTER) > 0) {
			char *end;
			long s = strtol(ra, &end, 10);
			if (end != ra && s >= 0 && s < 86400)
				req->retry_after_ms = s * 1000;
		}
		return 0;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (!(req = lws_get_opaque_user_data(wsi)))
			return 0;
		if (req->resp.len + len > MAX_RESPONSE) {
			finish(req, "answer too large");
			return -1;
		}
		hb_buf_append(&req->resp, in, len);
		if (req->resp.oom) {
			finish(req, "out of memory");
			return -1;
		}
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + CHUNK];
		char *p = buf + LWS_PRE;
		int n = CHUNK;
		if (lws_http_client_read(wsi, &p, &n) < 0)
			return -1;
		return 0;
	}
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (!(req = lws_get_opaque_user_data(wsi)))
			return 0;
		finish(req, NULL);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
