#ifndef HB_CHANNEL_H
#define HB_CHANNEL_H

#include <stdbool.h>

struct cJSON;
struct hb_app;

/* Command-line overrides that `healthbot serve` applies to the widget. */
struct hb_run_overrides {
	const char *bind;
	int port; /* 0: from config or default */
};

/*
 * A channel (the widget server, the relay client, Matrix, and the metrics
 * listener) as `healthbot run` sees it. Each lives in its own directory
 * and only uses the engine's public API through hb_app. Settings in a
 * channel's section apply when it is created: a reload (SIGHUP) leaves a
 * running channel as it is and logs that its changed section waits for a
 * restart.
 */
struct hb_channel {
	const char *name;        /* also its config section */
	bool default_enabled;    /* started without a config section */
	/* Validates the section (NULL when absent) without starting anything. */
	bool (*check)(const struct cJSON *section);
	void *(*create)(struct hb_app *app, const struct cJSON *section,
			const struct hb_run_overrides *overrides);
	void (*destroy)(void *channel);
	/* SIGTERM or SIGINT: take no new work, finish what is in flight
	 * (queued frames, a request under way), stop reconnecting. */
	void (*drain)(void *channel);
	/* True once nothing is in flight. timed_out: the drain's deadline
	 * passed and the process stops now: log what is left. */
	bool (*drained)(void *channel, bool timed_out);
};

/* NULL-terminated, in start order. */
extern const struct hb_channel *const hb_channels[];

#endif
