#ifndef HB_UTF8_H
#define HB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Decodes one UTF-8 sequence at s (len bytes available, at least 1): its
 * length, with the code point in *cp, or 0 when the bytes are no valid
 * UTF-8 (overlong forms, UTF-16 surrogates and code points past U+10FFFF
 * are invalid too).
 */
size_t hb_utf8_decode(const unsigned char *s, size_t len, unsigned *cp);

/* True when s[0..len) is valid UTF-8 throughout (a NUL byte is valid). */
bool hb_utf8_valid(const char *s, size_t len);

#endif
