#ifndef HB_ADMIN_H
#define HB_ADMIN_H

/*
 * The metrics listener (`healthbot run` with a "metrics" section): /metrics,
 * /healthz and /readyz on an address of their own, for Prometheus and the
 * service manager, so that none of it needs to be on the widget's port
 * (which then stops serving /metrics). Plain HTTP with the widget server's
 * http.c; nothing else is served.
 */
extern const struct hb_channel hb_channel_metrics;

#endif
