#include <errno.h>
#include <ev.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define DRAIN_POLL_US (20 * LWS_US_PER_MS)
#define TICK_US (10 * LWS_US_PER_MS)
/* open files the process asks for: each lws table costs 8 bytes a file */
#define WANT_FDS 65536
#define MAX_SIGNALS 3
/* libwebsockets loads its libev support from here at context creation
 * (Debian: the libwebsockets-evlib-ev package) */
#define EVLIB_EV LWS_INSTALL_LIBDIR "/libwebsockets-evlib_ev.so"

static const int watched[] = { SIGINT, SIGTERM, SIGHUP };
#define N_WATCHED (sizeof(watched) / sizeof(watched[0]))

struct hb_loop {
	/* ours, lent to libwebsockets as a "foreign" loop so that we can
	 * run and stop it and watch signals on it */
	struct ev_loop *ev;
	ev_signal signals[N_WATCHED];
	struct lws_context *context; /* set to NULL by lws once freed */
	lws_sorted_usec_list_t tick_sul, drain_sul;
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

/* libev runs this in the loop, after its own signal handler has noted the
 * signal: nothing here has to be async-signal-safe */
static void on_signal(struct ev_loop *ev, ev_signal *watcher, int revents)
{
	struct hb_loop *loop = watcher->data;
	int signo = watcher->signum;
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
	/* lws 4.1 looks at its timers after its own callbacks only: waking
	 * it runs what a handler scheduled from here (a drain's first
	 * check) now rather than at the next tick */
	if (!loop->stop)
		lws_cancel_service(loop->context);
}

/*
 * lws 4.1's libev glue re-arms its one libev timer with ev_timer_set() on
 * a watcher that may still be running, which libev ignores: a lws timer
 * due sooner than the one armed (a reconnect's backoff, a close, a
 * watchdog) would wait for that one, seconds later. A timer of our own
 * that keeps rescheduling itself keeps the armed one no further than
 * TICK_US away: no lws timer runs more than that late.
 */
static void tick(lws_sorted_usec_list_t *sul)
{
	struct hb_loop *loop = lws_container_of(sul, struct hb_loop, tick_sul);
	lws_sul_schedule(loop->context, 0, &loop->tick_sul, tick, TICK_US);
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

/*
 * lws sizes its connection tables by the soft limit on open files at
 * context creation and accepts no more: systemd's default (1024) would
 * cap the widget near 1,000 connections whatever its max_connections. The
 * hard limit (systemd: 524288) is ours to take.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= WANT_FDS)
		return;
	rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > WANT_FDS ?
		WANT_FDS : rl.rlim_max;
	if (want <= rl.rlim_cur)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		hb_log(HB_LOG_WARN, "loop", "error=\"cannot raise the open file "
			"limit\" want=%llu", (unsigned long long)want);
}

struct hb_loop *hb_loop_create(void)
{
	struct lws_context_creation_info info;
	struct hb_loop *loop = calloc(1, sizeof(*loop));
	if (!loop) {
		hb_log(HB_LOG_ERROR, "loop", "error=\"out of memory\"");
		return NULL;
	}
	/* libev picks epoll on Linux; a loop of our own rather than libev's
	 * default one, which would reap every child process (SIGCHLD) */
	if (!(loop->ev = ev_loop_new(EVFLAG_AUTO))) {
		hb_log(HB_LOG_ERROR, "loop", "error=\"cannot create the event loop\"");
		goto fail;
	}
	/* without the plugin lws only says "failed to load evlib_ev" at a
	 * log level we do not show */
	if (access(EVLIB_EV, R_OK) != 0) {
		hb_log(HB_LOG_ERROR, "loop", "error=\"libwebsockets' libev event "
			"library is missing: install libwebsockets-evlib-ev\" path=%s",
			EVLIB_EV);
		goto fail;
	}
	raise_fd_limit();
	lws_set_log_level(LLL_ERR | (hb_log_enabled(HB_LOG_DEBUG) ?
		LLL_WARN | LLL_NOTICE : 0), lws_logger);
	memset(&info, 0, sizeof(info));
	/*
	 * libev, not lws' default poll() loop, which walks every open socket
	 * on every wake-up (BENCHMARKS.md, widget); and not its libuv one:
	 * Debian builds lws with _DEBUG, which on libuv closes a connection a
	 * second time right after a callback asked for a polite close, so
	 * the close frame (idle 4000, going away 1001) is never sent.
	 */
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_LIBEV;
	void *foreign[] = { loop->ev };
	info.foreign_loops = foreign;
	info.pcontext = &loop->context;
	info.port = CONTEXT_PORT_NO_LISTEN;
	/* long-polls (Matrix /sync) set their own per-connection timeouts */
	info.timeout_secs = 20;
	info.user = loop;
	loop->context = lws_create_context(&info);
	if (!loop->context) {
		hb_log(HB_LOG_ERROR, "loop", "error=\"cannot create the event loop\"");
		goto fail;
	}
	for (size_t i = 0; i < N_WATCHED; i++) {
		ev_signal_init(&loop->signals[i], on_signal, watched[i]);
		loop->signals[i].data = loop;
		ev_signal_start(loop->ev, &loop->signals[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	lws_sul_schedule(loop->context, 0, &loop->tick_sul, tick, TICK_US);
	return loop;
fail:
	hb_loop_destroy(loop);
	return NULL;
}

void hb_loop_destroy(struct hb_loop *loop)
{
	if (!loop)
		return;
	lws_sul_cancel(&loop->tick_sul);
	lws_sul_cancel(&loop->drain_sul);
	if (loop->ev) {
		/* stopping the last watcher of a signal restores its default
		 * action */
		for (size_t i = 0; i < N_WATCHED; i++)
			ev_signal_stop(loop->ev, &loop->signals[i]);
	}
	/* on libev this closes and frees everything at once (and sets
	 * loop->context to NULL) */
	lws_context_destroy(loop->context);
	if (loop->context)
		hb_log(HB_LOG_WARN, "loop", "error=\"event loop not torn down\"");
	if (loop->ev)
		ev_loop_destroy(loop->ev);
	free(loop);
}

struct lws_context *hb_loop_context(struct hb_loop *loop)
{
	return loop->context;
}

int hb_loop_run(struct hb_loop *loop)
{
	while (!loop->stop) {
		/* returns after ev_break(), or with nothing left to wait for,
		 * which the signal watchers rule out */
		if (!ev_run(loop->ev, 0) && !loop->stop) {
			hb_log(HB_LOG_ERROR, "loop", "error=\"event loop ran dry\"");
			return -EIO;
		}
	}
	return loop->status;
}

void hb_loop_stop(struct hb_loop *loop)
{
	loop->stop = true;
	ev_break(loop->ev, EVBREAK_ALL);
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
