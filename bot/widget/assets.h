#ifndef HB_ASSETS_H
#define HB_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The widget's web files, compiled into the binary by embed.py so that
 * `healthbot serve` needs nothing on disk (they are also installed to
 * datadir for portals that host them themselves).
 */
struct hb_asset {
	const char *path;         /* URL path: "/", "/healthbot-widget.js" */
	const char *content_type;
	const char *etag;         /* quoted, from the content hash */
	bool embeddable;          /* may be loaded by pages on other origins */
	const unsigned char *data;
	size_t len;
};

/* Terminated by an entry with path NULL. */
extern const struct hb_asset hb_assets[];

#endif
