#ifndef HB_RELAY_H
#define HB_RELAY_H

/*
 * The relay client channel (`healthbot run` with a "relay" section): the
 * bot dials out to a portal's chat relay as a websocket client, so it needs
 * no inbound connection. One connection carries many conversations, each
 * named by the relay and kept in its own engine context. The frames are
 * the widget protocol plus a "conversation" id (docs/widget-protocol.md).
 */
extern const struct hb_channel hb_channel_relay;

#endif
