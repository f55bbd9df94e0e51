#ifndef HB_LOOP_H
#define HB_LOOP_H

#include <stdbool.h>

/*
 * The one event loop: a libwebsockets context created with explicit
 * vhosts, so the widget server (a listening vhost) and the Matrix and relay
 * clients (a non-listening client vhost each) share one poll loop in one
 * thread. Signals are turned into loop callbacks, never handled in the
 * signal handler itself.
 */
struct hb_loop;
struct lws_context;

typedef void (*hb_loop_fn)(void *data);

struct hb_loop *hb_loop_create(void);
void hb_loop_destroy(struct hb_loop *loop);
struct lws_context *hb_loop_context(struct hb_loop *loop);

/* Runs until hb_loop_stop(). Returns 0, or a negative errno. */
int hb_loop_run(struct hb_loop *loop);
void hb_loop_stop(struct hb_loop *loop);
bool hb_loop_stopping(const struct hb_loop *loop);

/* Calls fn from the loop after signo (SIGINT, SIGTERM, SIGHUP) arrives.
 * Without a handler, SIGINT and SIGTERM stop the loop. */
bool hb_loop_on_signal(struct hb_loop *loop, int signo, hb_loop_fn fn,
		void *data);

/* Monotonic time in microseconds, as libwebsockets keeps it. */
long long hb_loop_now_us(void);

#endif
