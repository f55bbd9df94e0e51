#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "resolve.h"

struct hb_resolve {
	pthread_mutex_t lock;
	struct lws_context *context; /* NULL once cancelled */
	char *host;
	char addr[INET6_ADDRSTRLEN];
	int error;
	bool done;
	int refs; /* the thread's and the caller's */
};

bool hb_resolve_is_numeric(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, buf) == 1 ||
		inet_pton(AF_INET6, host, buf) == 1;
}

static void unref(struct hb_resolve *r)
{
	pthread_mutex_lock(&r->lock);
	bool last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->host);
	free(r);
}

static void *lookup(void *data)
{
	struct hb_resolve *r = data;
	struct addrinfo hints, *res = NULL;
	char addr[INET6_ADDRSTRLEN] = "";
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int error = getaddrinfo(r->host, NULL, &hints, &res);
	if (!error && res) {
		const void *a = res->ai_family == AF_INET6 ?
			(const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr :
			(const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
		if (!inet_ntop(res->ai_family, a, addr, sizeof(addr)))
			error = EAI_FAIL;
	} else if (!error) {
		error = EAI_NONAME;
	}
	if (res)
		freeaddrinfo(res);
	pthread_mutex_lock(&r->lock);
	memcpy(r->addr, addr, sizeof(addr));
	r->error = error;
	r->done = true;
	/* under the lock: cancel() clears context before the loop goes away */
	if (r->context)
		lws_cancel_service(r->context);
	pthread_mutex_unlock(&r->lock);
	unref(r);
	return NULL;
}

struct hb_resolve *hb_resolve_start(struct lws_context *context,
		const char *host)
{
	struct hb_resolve *r = calloc(1, sizeof(*r));
	pthread_attr_t attr;
	pthread_t thread;
	if (!r || !(r->host = strdup(host))) {
		free(r);
		hb_log(HB_LOG_ERROR, "resolve", "error=\"out of memory\"");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->context = context;
	r->refs = 2;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int err = pthread_create(&thread, &attr, lookup, r);
	pthread_attr_destroy(&attr);
	if (err) {
		hb_log(HB_LOG_ERROR, "resolve", "error=\"cannot start a thread\" "
			"errno=%d", err);
		pthread_mutex_destroy(&r->lock);
		free(r->host);
		free(r);
		return NULL;
	}
	return r;
}

bool hb_resolve_done(struct hb_resolve *r, char *addr, size_t size,
		int *error)
{
	pthread_mutex_lock(&r->lock);
	bool done = r->done;
	if (done) {
		lws_strncpy(addr, r->addr, size);
		*error = r->error;
	}
	pthread_mutex_unlock(&r->lock);
	return done;
}

void hb_resolve_cancel(struct hb_resolve *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->context = NULL;
	pthread_mutex_unlock(&r->lock);
	unref(r);
}
