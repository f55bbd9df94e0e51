#include <stddef.h>

#include "admin.h"
#include "channel.h"
#include "matrix/matrix.h"
#include "relay/relay.h"
#include "widget/widget.h"

/* Each channel adds itself here (and its sources to bot/meson.build). The
 * metrics listener first: /readyz answers while the others start. */
const struct hb_channel *const hb_channels[] = {
	&hb_channel_metrics,
	&hb_channel_widget,
	&hb_channel_relay,
	&hb_channel_matrix,
	NULL,
};
