#ifndef HB_METRICS_H
#define HB_METRICS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The bot's counters, gauges and histograms, and their rendering in the
 * Prometheus text exposition format (version 0.0.4) for /metrics. No I/O
 * and no clock: callers pass the values and times.
 *
 * Label values come from fixed sets (channel, reply kind, severity, reload
 * result) or are the engine's ids (intent, red-flag category, fallback
 * rule): never what people type. They are copied, so a reload may free the
 * engine that owned them. A family keeps at most HB_METRICS_MAX_SERIES
 * label sets; further ones are counted under the label value "other", so
 * a data file with thousands of ids cannot grow the process without end.
 *
 * Every function accepts a NULL struct hb_metrics (and does nothing), so
 * code that runs without metrics needs no checks.
 */
struct hb_metrics;
struct hb_metric;
struct hb_reply;

#define HB_METRICS_MAX_LABELS 3
#define HB_METRICS_MAX_BUCKETS 16
#define HB_METRICS_MAX_SERIES 256

enum hb_metric_type {
	HB_METRIC_COUNTER,
	HB_METRIC_GAUGE,
	HB_METRIC_HISTOGRAM,
};

/* A registry with the bot's own families (see metrics.c) already in it. */
struct hb_metrics *hb_metrics_create(void);
void hb_metrics_destroy(struct hb_metrics *metrics);

/*
 * Adds a family. labels: NULL-terminated label names (at most
 * HB_METRICS_MAX_LABELS), or NULL for none. buckets: a histogram's
 * n_buckets upper bounds (at most HB_METRICS_MAX_BUCKETS) in increasing
 * order; NULL and 0 for the other types. name, help and the label names
 * must outlive the registry (string literals). Returns NULL when memory runs out or the arguments
 * are wrong (logged).
 */
struct hb_metric *hb_metrics_family(struct hb_metrics *metrics,
		enum hb_metric_type type, const char *name, const char *help,
		const char *const *labels, const double *buckets, size_t n_buckets);

/* values: one per label name (NULL reads as ""); NULL when unlabelled. */
void hb_metric_add(struct hb_metric *family, const char *const *values,
		double delta);
void hb_metric_set(struct hb_metric *family, const char *const *values,
		double value);
void hb_metric_observe(struct hb_metric *family, const char *const *values,
		double value);
/* The series' value (a histogram's count), 0 when it does not exist. */
double hb_metric_get(const struct hb_metric *family, const char *const *values);

/* The exposition text, NUL-terminated, to free(); NULL when out of memory.
 * *len (when not NULL) gets its length. */
char *hb_metrics_render(const struct hb_metrics *metrics, size_t *len);

/* ---- the bot's own metrics ---- */

/* A channel started: its series appear at zero, so rate() works from the
 * first scrape. */
void hb_metrics_channel(struct hb_metrics *metrics, const char *channel);
/* One message answered on a channel: by kind, escalations by category and
 * severity, answers by intent, fallbacks by rule. */
void hb_metrics_reply(struct hb_metrics *metrics, const char *channel,
		const struct hb_reply *reply);
/* From a message's arrival to its reply being handed to the transport. */
void hb_metrics_latency(struct hb_metrics *metrics, const char *channel,
		double seconds);
void hb_metrics_widget_clients(struct hb_metrics *metrics, size_t open);
/* A /sync answered (ok, at unix_time) or failed. */
void hb_metrics_matrix_sync(struct hb_metrics *metrics, bool ok,
		double unix_time);
/* A reload by SIGHUP; on success, when (unix time) and the articles. */
void hb_metrics_reload(struct hb_metrics *metrics, bool ok, double unix_time,
		size_t articles);
/* At start-up. */
void hb_metrics_started(struct hb_metrics *metrics, double unix_time,
		size_t articles);

#endif
