#ifndef HB_LOOP_H
#define HB_LOOP_H

#include <stdbool.h>

/*
 * The one event loop: a libev loop (epoll) that a libwebsockets context
 * with explicit vhosts runs on, so the widget server (a listening vhost)
 * and the Matrix and relay clients (a non-listening client vhost each)
 * share one loop in one thread. Signals arrive as loop callbacks (libev
 * signal watchers), never handled in the signal handler itself.
 */
struct hb_loop;
struct lws_context;

typedef void (*hb_loop_fn)(void *data);

struct hb_loop *hb_loop_create(void);
void hb_loop_destroy(struct hb_loop *loop);
struct lws_context *hb_loop_context(struct hb_loop *loop);

/* Runs until hb_loop_stop() or hb_loop_fail(). Returns 0, the status
 * given to hb_loop_fail(), or a negative errno. */
int hb_loop_run(struct hb_loop *loop);
void hb_loop_stop(struct hb_loop *loop);
/* Stops the loop with an exit status for the process (e.g. 78, EX_CONFIG,
 * when a channel's credentials are rejected): the service manager must
 * not take it for a clean shutdown. The first failure's status is kept. */
void hb_loop_fail(struct hb_loop *loop, int status);
bool hb_loop_stopping(const struct hb_loop *loop);

/*
 * A graceful stop (SIGTERM): from now on hb_loop_draining() is true (the
 * widget refuses new websockets, /readyz says "draining"); asks fn(data,
 * false) every few milliseconds whether what was in flight is finished,
 * and stops the loop when it says so or after timeout_ms, after a last
 * fn(data, true) (to log what is left). hb_loop_run() then returns 0
 * either way: the stop was asked for. The channels must have been told to
 * drain first.
 */
typedef bool (*hb_loop_drained_fn)(void *data, bool timed_out);
void hb_loop_drain(struct hb_loop *loop, long timeout_ms,
		hb_loop_drained_fn fn, void *data);
bool hb_loop_draining(const struct hb_loop *loop);

/* Calls fn from the loop after signo (SIGINT, SIGTERM, SIGHUP) arrives.
 * Without a handler, SIGINT and SIGTERM stop the loop. */
bool hb_loop_on_signal(struct hb_loop *loop, int signo, hb_loop_fn fn,
		void *data);

/* Monotonic time in microseconds, as libwebsockets keeps it. */
long long hb_loop_now_us(void);

#endif
