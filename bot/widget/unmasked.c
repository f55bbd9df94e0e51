/* Unmasked client frames (see unmasked.h). */
/* glibc's fortified recv() is an inline wrapper: ours is the function */
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "log.h"
#include "unmasked.h"

/* what a hung-up socket reads and drops per call, at most */
#define DRAIN_CALLS 16

struct watch {
	ino_t ino;
	unsigned char hdr[14];   /* the frame header being read */
	unsigned have, need;     /* its bytes read, and in all (known from 2) */
	uint64_t payload;        /* payload bytes of this frame still to come */
	bool bad, hung_up;
	hb_unmasked_fn fn;
	void *data;
};

/* by descriptor: one loop thread, descriptors are small numbers */
static struct watch **watches;
static size_t n_watches;

static ino_t inode(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static struct watch *find(int fd)
{
	return fd >= 0 && (size_t)fd < n_watches ? watches[fd] : NULL;
}

/* How many of the n bytes belong to masked frames: n, or the offset of
 * the first unmasked frame's header in p (0 when it began in an earlier
 * read; libwebsockets then holds its first byte, and never the rest). */
static size_t follow(struct watch *w, const unsigned char *p, size_t n)
{
	size_t i = 0, start = 0;
	while (i < n) {
		if (w->payload) {
			size_t k = n - i < w->payload ? n - i : (size_t)w->payload;
			i += k;
			w->payload -= k;
			continue;
		}
		unsigned char c = p[i];
		if (w->have == 0) {
			start = i;
		} else if (w->have == 1) {
			if (!(c & 0x80)) {
				w->bad = true;
				return start;
			}
			unsigned len7 = c & 0x7f;
			w->need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
		}
		w->hdr[w->have++] = c;
		i++;
		if (w->have >= 2 && w->have == w->need) {
			unsigned len7 = w->hdr[1] & 0x7f;
			uint64_t len = len7;
			if (len7 == 126) {
				len = (uint64_t)w->hdr[2] << 8 | w->hdr[3];
			} else if (len7 == 127) {
				len = 0;
				for (unsigned k = 0; k < 8; k++)
					len = len << 8 | w->hdr[2 + k];
			}
			w->payload = len;
			w->have = w->need = 0;
		}
	}
	return n;
}

bool hb_unmasked_watch(int fd, const void *first, size_t *len)
{
	if (fd < 0)
		return false;
	if ((size_t)fd >= n_watches) {
		size_t n = n_watches ? n_watches : 1024;
		while (n <= (size_t)fd)
			n *= 2;
		struct watch **grown = realloc(watches, n * sizeof(*grown));
		if (!grown)
			goto oom;
		memset(grown + n_watches, 0, (n - n_watches) * sizeof(*grown));
		watches = grown;
		n_watches = n;
	}
	struct watch *w = watches[fd];
	if (!w && !(w = watches[fd] = malloc(sizeof(*w))))
		goto oom;
	memset(w, 0, sizeof(*w));
	w->ino = inode(fd);
	*len = follow(w, first, *len);
	return true;
oom:
	hb_log(HB_LOG_ERROR, "widget", "error=\"out of memory\"");
	return false;
}

bool hb_unmasked_attach(int fd, hb_unmasked_fn fn, void *data)
{
	struct watch *w = find(fd);
	if (!w)
		return false;
	w->fn = fn;
	w->data = data;
	return w->bad;
}

void hb_unmasked_hang_up(int fd)
{
	struct watch *w = find(fd);
	if (w)
		w->hung_up = true;
}

void hb_unmasked_forget(int fd)
{
	struct watch *w = find(fd);
	if (w) {
		free(w);
		watches[fd] = NULL;
	}
}

/* After an unmasked frame: reads and drops what the client sends (unread
 * input would turn our close frame into a reset) and gives libwebsockets
 * nothing: "would block", or end of file once our close frame is out or
 * the client has gone. */
static ssize_t drop(struct watch *w, int fd)
{
	char sink[4096];
	for (unsigned i = 0; i < DRAIN_CALLS; i++) {
		ssize_t n = recvfrom(fd, sink, sizeof(sink), MSG_DONTWAIT, NULL, NULL);
		if (n == 0)
			return 0;
		if (n < 0)
			break;
	}
	if (w->hung_up)
		return 0;
	errno = EAGAIN;
	return -1;
}

/* The recv() libwebsockets calls (declared by <sys/socket.h>). */
ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct watch *w = find(fd);
	if (w && w->ino != inode(fd)) {
		/* a watch left behind: another socket has the number now */
		hb_unmasked_forget(fd);
		w = NULL;
	}
	if (!w || (flags & MSG_PEEK))
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	if (w->bad)
		return drop(w, fd);
	ssize_t n = recvfrom(fd, buf, len, flags, NULL, NULL);
	if (n <= 0)
		return n;
	size_t good = follow(w, buf, (size_t)n);
	if (!w->bad)
		return n;
	if (w->fn)
		w->fn(w->data);
	return good ? (ssize_t)good : drop(w, fd);
}
