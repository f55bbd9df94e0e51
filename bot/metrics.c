#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "grow.h"
#include "healthbot.h"
#include "log.h"
#include "metrics.h"

struct series {
	char *values[HB_METRICS_MAX_LABELS];
	double value;  /* counter, gauge; a histogram's sum */
	unsigned long long count; /* histogram observations */
	unsigned long long buckets[HB_METRICS_MAX_BUCKETS]; /* not cumulative */
};

struct hb_metric {
	struct hb_metric *next;
	enum hb_metric_type type;
	const char *name;
	const char *help;
	const char *labels[HB_METRICS_MAX_LABELS];
	size_t n_labels;
	double bounds[HB_METRICS_MAX_BUCKETS];
	size_t n_bounds;
	struct series *series;
	size_t n_series;
	struct series *other; /* past HB_METRICS_MAX_SERIES */
};

struct hb_metrics {
	struct hb_metric *head, *tail;
	/* the bot's families */
	struct hb_metric *messages, *escalations, *answers, *fallbacks,
		*latency, *widget_clients, *sync_errors, *last_sync, *reloads,
		*loaded, *articles, *started;
};

static void series_finish(struct series *s, size_t n_labels)
{
	for (size_t i = 0; i < n_labels; i++)
		free(s->values[i]);
}

static void family_destroy(struct hb_metric *f)
{
	for (size_t i = 0; i < f->n_series; i++)
		series_finish(&f->series[i], f->n_labels);
	free(f->series);
	if (f->other) {
		series_finish(f->other, f->n_labels);
		free(f->other);
	}
	free(f);
}

void hb_metrics_destroy(struct hb_metrics *m)
{
	if (!m)
		return;
	for (struct hb_metric *f = m->head, *next; f; f = next) {
		next = f->next;
		family_destroy(f);
	}
	free(m);
}

struct hb_metric *hb_metrics_family(struct hb_metrics *m,
		enum hb_metric_type type, const char *name, const char *help,
		const char *const *labels, const double *buckets, size_t n_buckets)
{
	if (!m)
		return NULL;
	struct hb_metric *f = calloc(1, sizeof(*f));
	if (!f) {
		hb_log(HB_LOG_ERROR, "metrics", "error=\"out of memory\"");
		return NULL;
	}
	f->type = type;
	f->name = name;
	f->help = help;
	for (; labels && labels[f->n_labels]; f->n_labels++) {
		if (f->n_labels == HB_METRICS_MAX_LABELS)
			goto bad;
		f->labels[f->n_labels] = labels[f->n_labels];
	}
	if ((type == HB_METRIC_HISTOGRAM) != (n_buckets > 0) ||
			n_buckets > HB_METRICS_MAX_BUCKETS)
		goto bad;
	for (size_t i = 0; i < n_buckets; i++) {
		if (i && !(buckets[i] > buckets[i - 1]))
			goto bad;
		f->bounds[i] = buckets[i];
	}
	f->n_bounds = n_buckets;
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	return f;
bad:
	hb_log(HB_LOG_ERROR, "metrics", "family=%s error=\"bad labels or buckets\"",
		name);
	free(f);
	return NULL;
}

static bool same(const struct hb_metric *f, const struct series *s,
		const char *const *values)
{
	for (size_t i = 0; i < f->n_labels; i++) {
		const char *v = values && values[i] ? values[i] : "";
		if (strcmp(s->values[i], v) != 0)
			return false;
	}
	return true;
}

static bool fill(const struct hb_metric *f, struct series *s,
		const char *const *values)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < f->n_labels; i++) {
		const char *v = values ? values[i] : NULL;
		if (!(s->values[i] = strdup(v ? v : ""))) {
			series_finish(s, i);
			return false;
		}
	}
	return true;
}

/* The series for values, created at zero; NULL when memory runs out. */
static struct series *find(struct hb_metric *f, const char *const *values,
		bool create)
{
	for (size_t i = 0; i < f->n_series; i++) {
		if (same(f, &f->series[i], values))
			return &f->series[i];
	}
	if (!create)
		return f->other && same(f, f->other, values) ? f->other : NULL;
	if (f->n_series >= HB_METRICS_MAX_SERIES) {
		static const char *const other[HB_METRICS_MAX_LABELS] = {
			"other", "other", "other" };
		if (!f->other) {
			struct series *s = malloc(sizeof(*s));
			if (!s || !fill(f, s, other)) {
				free(s);
				return NULL;
			}
			f->other = s;
			hb_log(HB_LOG_WARN, "metrics", "family=%s warning=\"more than "
				"%d label sets: the rest count as other\"", f->name,
				HB_METRICS_MAX_SERIES);
		}
		return f->other;
	}
	struct series *grown = hb_grow(f->series, f->n_series, sizeof(*grown));
	if (!grown)
		return NULL;
	f->series = grown;
	if (!fill(f, &f->series[f->n_series], values))
		return NULL;
	return &f->series[f->n_series++];
}

void hb_metric_add(struct hb_metric *f, const char *const *values, double delta)
{
	struct series *s = f ? find(f, values, true) : NULL;
	if (s)
		s->value += delta;
}

void hb_metric_set(struct hb_metric *f, const char *const *values, double value)
{
	struct series *s = f ? find(f, values, true) : NULL;
	if (s)
		s->value = value;
}

void hb_metric_observe(struct hb_metric *f, const char *const *values,
		double value)
{
	struct series *s = f ? find(f, values, true) : NULL;
	if (!s || f->type != HB_METRIC_HISTOGRAM || isnan(value))
		return;
	s->count++;
	s->value += value;
	for (size_t i = 0; i < f->n_bounds; i++) {
		if (value <= f->bounds[i]) {
			s->buckets[i]++;
			break;
		}
	}
}

double hb_metric_get(const struct hb_metric *f, const char *const *values)
{
	const struct series *s = f ? find((struct hb_metric *)f, values, false) :
		NULL;
	if (!s)
		return 0;
	return f->type == HB_METRIC_HISTOGRAM ? (double)s->count : s->value;
}

/* ---- rendering ---- */

/* A label value: backslash, double quote and line feed escaped. */
static void put_value(struct hb_buf *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			hb_buf_puts(o, "\\\\");
		else if (*v == '"')
			hb_buf_puts(o, "\\\"");
		else if (*v == '\n')
			hb_buf_puts(o, "\\n");
		else
			hb_buf_putc(o, *v);
	}
}

/* {a="x",b="y"} with an extra le="..." for buckets; nothing when empty. */
static void put_labels(struct hb_buf *o, const struct hb_metric *f,
		const struct series *s, const char *le)
{
	if (!f->n_labels && !le)
		return;
	hb_buf_puts(o, "{");
	for (size_t i = 0; i < f->n_labels; i++) {
		hb_buf_printf(o, "%s%s=\"", i ? "," : "", f->labels[i]);
		put_value(o, s->values[i]);
		hb_buf_puts(o, "\"");
	}
	if (le)
		hb_buf_printf(o, "%sle=\"%s\"", f->n_labels ? "," : "", le);
	hb_buf_puts(o, "}");
}

static void put_number(struct hb_buf *o, double v)
{
	if (isinf(v))
		hb_buf_puts(o, v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		hb_buf_puts(o, "NaN");
	else
		hb_buf_printf(o, "%.15g", v);
}

static void put_series(struct hb_buf *o, const struct hb_metric *f,
		const struct series *s)
{
	if (f->type != HB_METRIC_HISTOGRAM) {
		hb_buf_puts(o, f->name);
		put_labels(o, f, s, NULL);
		hb_buf_puts(o, " ");
		put_number(o, s->value);
		hb_buf_puts(o, "\n");
		return;
	}
	unsigned long long cumulative = 0;
	char le[32];
	for (size_t i = 0; i < f->n_bounds; i++) {
		cumulative += s->buckets[i];
		snprintf(le, sizeof(le), "%g", f->bounds[i]);
		hb_buf_printf(o, "%s_bucket", f->name);
		put_labels(o, f, s, le);
		hb_buf_printf(o, " %llu\n", cumulative);
	}
	hb_buf_printf(o, "%s_bucket", f->name);
	put_labels(o, f, s, "+Inf");
	hb_buf_printf(o, " %llu\n%s_sum", s->count, f->name);
	put_labels(o, f, s, NULL);
	hb_buf_puts(o, " ");
	put_number(o, s->value);
	hb_buf_printf(o, "\n%s_count", f->name);
	put_labels(o, f, s, NULL);
	hb_buf_printf(o, " %llu\n", s->count);
}

char *hb_metrics_render(const struct hb_metrics *m, size_t *len)
{
	static const char *const types[] = {
		[HB_METRIC_COUNTER] = "counter",
		[HB_METRIC_GAUGE] = "gauge",
		[HB_METRIC_HISTOGRAM] = "histogram",
	};
	struct hb_buf o;
	hb_buf_init(&o);
	for (const struct hb_metric *f = m ? m->head : NULL; f; f = f->next) {
		hb_buf_printf(&o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
			f->name, types[f->type]);
		/* an unlabelled counter or gauge exists from the start */
		if (!f->n_labels && !f->n_series && f->type != HB_METRIC_HISTOGRAM) {
			hb_buf_printf(&o, "%s 0\n", f->name);
			continue;
		}
		for (size_t i = 0; i < f->n_series; i++)
			put_series(&o, f, &f->series[i]);
		if (f->other)
			put_series(&o, f, f->other);
	}
	size_t n = o.len;
	char *text = hb_buf_steal(&o);
	if (!text) {
		hb_log(HB_LOG_ERROR, "metrics", "error=\"out of memory\"");
		return NULL;
	}
	if (len)
		*len = n;
	return text;
}

/* ---- the bot's own metrics ---- */

/* Seconds; a reply is computed in microseconds, a Matrix reply waits for
 * the homeserver. */
static const double latency_buckets[] = { 0.0001, 0.00025, 0.0005, 0.001,
	0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

static const char *const kinds[] = { "answer", "escalation", "fallback",
	"smalltalk" };

struct hb_metrics *hb_metrics_create(void)
{
	static const char *const channel_kind[] = { "channel", "kind", NULL };
	static const char *const escalation[] = { "channel", "category",
		"severity", NULL };
	static const char *const intent[] = { "intent", NULL };
	static const char *const rule[] = { "rule", NULL };
	static const char *const channel[] = { "channel", NULL };
	static const char *const result[] = { "result", NULL };
	struct hb_metrics *m = calloc(1, sizeof(*m));
	if (!m) {
		hb_log(HB_LOG_ERROR, "metrics", "error=\"out of memory\"");
		return NULL;
	}
	m->messages = hb_metrics_family(m, HB_METRIC_COUNTER,
		"healthbot_messages_total",
		"Messages answered, by channel and reply kind.", channel_kind, NULL, 0);
	m->escalations = hb_metrics_family(m, HB_METRIC_COUNTER,
		"healthbot_escalations_total",
		"Emergency, crisis and urgent replies, by channel and red-flag "
		"category.", escalation, NULL, 0);
	m->answers = hb_metrics_family(m, HB_METRIC_COUNTER,
		"healthbot_answers_total",
		"Answers quoted from the library, by intent.", intent, NULL, 0);
	m->fallbacks = hb_metrics_family(m, HB_METRIC_COUNTER,
		"healthbot_fallbacks_total",
		"Messages the library had no answer for, by fallback rule.", rule,
		NULL, 0);
	m->latency = hb_metrics_family(m, HB_METRIC_HISTOGRAM,
		"healthbot_reply_duration_seconds",
		"From a message's arrival to its reply being handed to the channel "
		"(Matrix: accepted by the homeserver).", channel, latency_buckets,
		sizeof(latency_buckets) / sizeof(latency_buckets[0]));
	m->widget_clients = hb_metrics_family(m, HB_METRIC_GAUGE,
		"healthbot_widget_clients", "Open widget websockets.", NULL, NULL, 0);
	m->sync_errors = hb_metrics_family(m, HB_METRIC_COUNTER,
		"healthbot_matrix_sync_errors_total",
		"Matrix /sync requests that failed.", NULL, NULL, 0);
	m->last_sync = hb_metrics_family(m, HB_METRIC_GAUGE,
		"healthbot_matrix_last_sync_timestamp_seconds",
		"When the last Matrix /sync succeeded (unix time; 0: never).", NULL,
		NULL, 0);
	m->reloads = hb_metrics_family(m, HB_METRIC_COUNTER,
		"healthbot_reloads_total",
		"Reloads by SIGHUP, by result (ok, failed).", result, NULL, 0);
	m->loaded = hb_metrics_family(m, HB_METRIC_GAUGE,
		"healthbot_loaded_timestamp_seconds",
		"When the running config, content and intents were loaded (unix "
		"time).", NULL, NULL, 0);
	m->articles = hb_metrics_family(m, HB_METRIC_GAUGE,
		"healthbot_articles", "Articles in the running library.", NULL,
		NULL, 0);
	m->started = hb_metrics_family(m, HB_METRIC_GAUGE,
		"healthbot_start_time_seconds", "When the process started (unix "
		"time).", NULL, NULL, 0);
	if (!m->messages || !m->escalations || !m->answers || !m->fallbacks ||
			!m->latency || !m->widget_clients || !m->sync_errors ||
			!m->last_sync || !m->reloads || !m->loaded || !m->articles ||
			!m->started) {
		hb_metrics_destroy(m);
		return NULL;
	}
	hb_metric_add(m->reloads, (const char *const[]){ "ok" }, 0);
	hb_metric_add(m->reloads, (const char *const[]){ "failed" }, 0);
	return m;
}

void hb_metrics_channel(struct hb_metrics *m, const char *channel)
{
	if (!m)
		return;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		hb_metric_add(m->messages, (const char *const[]){ channel, kinds[i] },
			0);
	/* creates the (empty) histogram series */
	(void)find(m->latency, (const char *const[]){ channel }, true);
}

void hb_metrics_reply(struct hb_metrics *m, const char *channel,
		const struct hb_reply *r)
{
	if (!m)
		return;
	hb_metric_add(m->messages, (const char *const[]){ channel,
		hb_reply_kind_str(r->kind) }, 1);
	switch (r->kind) {
	case HB_REPLY_ESCALATION:
		hb_metric_add(m->escalations, (const char *const[]){ channel,
			r->category ? r->category : "none",
			hb_severity_str(r->severity) }, 1);
		break;
	case HB_REPLY_ANSWER:
		hb_metric_add(m->answers, (const char *const[]){
			r->intent ? r->intent : "none" }, 1);
		break;
	case HB_REPLY_FALLBACK:
		hb_metric_add(m->fallbacks, (const char *const[]){
			r->rule ? r->rule : "none" }, 1);
		break;
	case HB_REPLY_SMALLTALK:
		break;
	}
}

void hb_metrics_latency(struct hb_metrics *m, const char *channel,
		double seconds)
{
	if (m)
		hb_metric_observe(m->latency, (const char *const[]){ channel },
			seconds);
}

void hb_metrics_widget_clients(struct hb_metrics *m, size_t open)
{
	if (m)
		hb_metric_set(m->widget_clients, NULL, (double)open);
}

void hb_metrics_matrix_sync(struct hb_metrics *m, bool ok, double unix_time)
{
	if (!m)
		return;
	if (ok)
		hb_metric_set(m->last_sync, NULL, unix_time);
	else
		hb_metric_add(m->sync_errors, NULL, 1);
}

void hb_metrics_reload(struct hb_metrics *m, bool ok, double unix_time,
		size_t articles)
{
	if (!m)
		return;
	hb_metric_add(m->reloads, (const char *const[]){ ok ? "ok" : "failed" },
		1);
	if (ok) {
		hb_metric_set(m->loaded, NULL, unix_time);
		hb_metric_set(m->articles, NULL, (double)articles);
	}
}

void hb_metrics_started(struct hb_metrics *m, double unix_time,
		size_t articles)
{
	if (!m)
		return;
	hb_metric_set(m->started, NULL, unix_time);
	hb_metric_set(m->loaded, NULL, unix_time);
	hb_metric_set(m->articles, NULL, (double)articles);
}
