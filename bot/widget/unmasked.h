#ifndef HB_WIDGET_UNMASKED_H
#define HB_WIDGET_UNMASKED_H

#include <stdbool.h>
#include <stddef.h>

/*
 * RFC 6455 5.1: a server closes the connection on a client frame without
 * a mask. libwebsockets 4.1 takes such frames, and no API of it tells a
 * frame's mask bit. It reads its sockets with recv(), called through the
 * shared library's PLT: this module defines recv() in the executable and
 * follows the frame headers in what a watched websocket's socket returns.
 * At the first header without the mask bit libwebsockets gets none of
 * that frame nor anything after it (what is left is read and dropped) and
 * the connection's callback is told, to close with 1002. Sockets not
 * watched pass through untouched.
 *
 * A watch names the socket by descriptor and inode, so one left behind
 * never touches a later socket that reuses the descriptor number.
 */

/* Called once, at the first unmasked header. */
typedef void (*hb_unmasked_fn)(void *data);

/* Follows the frames on fd from here. `first` is what the client sent
 * after its request head, handed to libwebsockets with it: *len becomes
 * how much of it to hand over (all of it unless an unmasked frame is in
 * it). false when out of memory (logged). */
bool hb_unmasked_watch(int fd, const void *first, size_t *len);
/* Who to tell; true when fd already saw an unmasked frame (fn is then
 * not called: act now). */
bool hb_unmasked_attach(int fd, hb_unmasked_fn fn, void *data);
/* Our close frame is out: the socket now reads as closed. */
void hb_unmasked_hang_up(int fd);
void hb_unmasked_forget(int fd);

#endif
