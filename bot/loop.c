#include <errno.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop.h"

#define SIGNAL_POLL_US (100 * LWS_US_PER_MS)
#define DRAIN_POLL_US (20 * LWS_US_PER_MS)
#define MAX_SIGNALS 3

struct hb_loop {
	struct lws_context *context;
	lws_sorted_usec_list_t signal_sul;
	lws_sorted_usec_list_t drain_sul;
	hb_loop_drained_fn drained;
	void *drained_data;
	long long drain_started_us, drain_deadline_us;
	bool draining;
	struct {
		int signo;
		hb_loop_fn fn;
		void *data;
	} handlers[MAX_SIGNALS];
	bool stop;
	int status;
};

/* set by the handler, read by the loop: nothing else is signal-safe */
static volatile sig_atomic_t pending[65];
static struct lws_context *signal_context;

static void on_signal(int signo)
{
	if (signo > 0 && signo < 65)
		pending[signo] = 1;
	/* wakes the poll so the flag is seen promptly; lws_cancel_service
	 * only writes to a pipe */
	if (signal_context)
		lws_cancel_service(signal_context);
}

static void dispatch_signals(struct hb_loop *loop)
{
	static const int watched[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
		int signo = watched[i];
		if (!pending[signo])
			continue;
		pending[signo] = 0;
		bool handled = false;
		for (size_t h = 0; h < MAX_SIGNALS; h++) {
			if (loop->handlers[h].fn && loop->handlers[h].signo == signo) {
				loop->handlers[h].fn(loop->handlers[h].data);
				handled = true;
			}
		}
		if (!handled && signo != SIGHUP) {
			hb_log(HB_LOG_INFO, "signal", "signo=%d action=stop", signo);
			hb_loop_stop(loop);
		}
	}
}

static void signal_tick(lws_sorted_usec_list_t *sul)
{
	struct hb_loop *loop = lws_container_of(sul, struct hb_loop, signal_sul);
	dispatch_signals(loop);
	if (!loop->stop)
		lws_sul_schedule(loop->context, 0, &loop->signal_sul, signal_tick,
			SIGNAL_POLL_US);
}

static void lws_logger(int level, const char *line)
{
	/* libwebsockets' own lines can carry URLs and peer addresses: keep
	 * them at debug, without the trailing newline */
	size_t n = strlen(line);
	char buf[512];
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	char q[600];
	/* lws 4.1 logs every socket adopted with data already read at error
	 * level; the widget's front hands each connection over that way */
	bool noise = strncmp(buf, "adopt_socket_readbuf:", 21) == 0;
	hb_log(level & LLL_ERR && !noise ? HB_LOG_WARN : HB_LOG_DEBUG, "lws",
		"msg=%s", hb_log_quote(buf, q, sizeof(q)));
}

struct hb_loop *hb_loop_create(void)
{
	struct lws_context_creation_info info;
	struct hb_loop *loop = calloc(1, sizeof(*loop));
	if (!loop) {
		hb_log(HB_LOG_ERROR, "loop", "error=\"out of memory\"");
		return NULL;
	}
	lws_set_log_level(LLL_ERR | (hb_log_enabled(HB_LOG_DEBUG) ?
		LLL_WARN | LLL_NOTICE : 0), lws_logger);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.port = CONTEXT_PORT_NO_LISTEN;
	/* long-polls (Matrix /sync) set their own per-connection timeouts */
	info.timeout_secs = 20;
	info.user = loop;
	loop->context = lws_create_context(&info);
	if (!loop->context) {
		hb_log(HB_LOG_ERROR, "loop", "error=\"cannot create the event loop\"");
		free(loop);
		return NULL;
	}
	signal_context = loop->context;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lws_sul_schedule(loop->context, 0, &loop->signal_sul, signal_tick,
		SIGNAL_POLL_US);
	return loop;
}

void hb_loop_destroy(struct hb_loop *loop)
{
	if (!loop)
		return;
	lws_sul_cancel(&loop->signal_sul);
	lws_sul_cancel(&loop->drain_sul);
	signal_context = NULL;
	lws_context_destroy(loop->context);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	free(loop);
}

struct lws_context *hb_loop_context(struct hb_loop *loop)
{
	return loop->context;
}

int hb_loop_run(struct hb_loop *loop)
{
	while (!loop->stop) {
		if (lws_service(loop->context, 0) < 0)
			return -EIO;
	}
	return loop->status;
}

void hb_loop_stop(struct hb_loop *loop)
{
	loop->stop = true;
	lws_cancel_service(loop->context);
}

void hb_loop_fail(struct hb_loop *loop, int status)
{
	if (!loop->status)
		loop->status = status;
	hb_loop_stop(loop);
}

bool hb_loop_stopping(const struct hb_loop *loop)
{
	return loop->stop;
}

bool hb_loop_on_signal(struct hb_loop *loop, int signo, hb_loop_fn fn,
		void *data)
{
	for (size_t h = 0; h < MAX_SIGNALS; h++) {
		if (!loop->handlers[h].fn) {
			loop->handlers[h].signo = signo;
			loop->handlers[h].fn = fn;
			loop->handlers[h].data = data;
			return true;
		}
	}
	hb_log(HB_LOG_ERROR, "loop", "error=\"too many signal handlers\"");
	return false;
}

long long hb_loop_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void drain_tick(lws_sorted_usec_list_t *sul)
{
	struct hb_loop *loop = lws_container_of(sul, struct hb_loop, drain_sul);
	long long now = hb_loop_now_us();
	if (loop->stop)
		return;
	if (loop->drained(loop->drained_data, false)) {
		hb_log(HB_LOG_INFO, "drained", "ms=%lld",
			(now - loop->drain_started_us) / 1000);
		hb_loop_stop(loop);
		return;
	}
	if (now >= loop->drain_deadline_us) {
		loop->drained(loop->drained_data, true);
		hb_log(HB_LOG_WARN, "drain_timeout", "ms=%lld",
			(now - loop->drain_started_us) / 1000);
		hb_loop_stop(loop);
		return;
	}
	lws_sul_schedule(loop->context, 0, &loop->drain_sul, drain_tick,
		DRAIN_POLL_US);
}

void hb_loop_drain(struct hb_loop *loop, long timeout_ms,
		hb_loop_drained_fn fn, void *data)
{
	if (loop->draining || loop->stop)
		return;
	loop->draining = true;
	loop->drained = fn;
	loop->drained_data = data;
	loop->drain_started_us = hb_loop_now_us();
	loop->drain_deadline_us = loop->drain_started_us + timeout_ms * 1000LL;
	/* the listening sockets stay open: libwebsockets 4.1 has no way to
	 * close one alone (lws_context_deprecate() uses the listening wsi
	 * after freeing it), so listeners refuse new work themselves while
	 * hb_loop_draining() says so */
	/* the first check at once: with nothing in flight, no wait */
	lws_sul_schedule(loop->context, 0, &loop->drain_sul, drain_tick, 1);
}

bool hb_loop_draining(const struct hb_loop *loop)
{
	return loop->draining;
}
