#include <string.h>

#include "text.h"
#include "utf8.h"

static bool invisible(unsigned cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
		(cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff || cp == 0xad ||
		cp == 0x34f || cp == 0x180e;
}

static bool space_like(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
		cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
		cp == 0x3000;
}

/*
 * Cyrillic and Greek letters that look like Latin ones ("I c\u0430n't
 * bre\u0430the" with a Cyrillic a): typed by a keyboard left on another
 * layout, or on purpose, they must not hide an emergency from patterns
 * written in English. Returns the ASCII letter, or 0.
 */
static char confusable(unsigned cp)
{
	static const struct { unsigned short cp; char c; } map[] = {
		{ 0x0391, 'a' }, { 0x0392, 'b' }, { 0x0395, 'e' }, { 0x0396, 'z' },
		{ 0x0397, 'h' }, { 0x0399, 'i' }, { 0x039a, 'k' }, { 0x039c, 'm' },
		{ 0x039d, 'n' }, { 0x039f, 'o' }, { 0x03a1, 'p' }, { 0x03a4, 't' },
		{ 0x03a5, 'y' }, { 0x03a7, 'x' }, { 0x03bf, 'o' }, { 0x03c1, 'p' },
		{ 0x0405, 's' }, { 0x0406, 'i' }, { 0x0408, 'j' }, { 0x0410, 'a' },
		{ 0x0412, 'b' }, { 0x0415, 'e' }, { 0x041a, 'k' }, { 0x041c, 'm' },
		{ 0x041d, 'h' }, { 0x041e, 'o' }, { 0x0420, 'p' }, { 0x0421, 'c' },
		{ 0x0422, 't' }, { 0x0425, 'x' }, { 0x0430, 'a' }, { 0x0435, 'e' },
		{ 0x043e, 'o' }, { 0x0440, 'p' }, { 0x0441, 'c' }, { 0x0443, 'y' },
		{ 0x0445, 'x' }, { 0x0455, 's' }, { 0x0456, 'i' }, { 0x0458, 'j' },
		{ 0x04bb, 'h' }, { 0x0501, 'd' }, { 0x051b, 'q' }, { 0x051d, 'w' },
	};
	if (cp < 0x0391 || cp > 0x051d)
		return 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].cp == cp)
			return map[i].c;
	}
	return 0;
}

/*
 * Latin-1 letters with accents fold to their base letter: Spanish rules
 * are written without accents ("tomo", "corazon") and people type them
 * either way ("tomó", "corazón"); an English pattern never needs an
 * accent. Returns the ASCII lower-case letter, or 0.
 */
static char accent_fold(unsigned cp)
{
	/* U+00C0..U+00FF; upper and lower case differ by 0x20 */
	static const char map[] = "aaaaaaaceeeeiiiidnooooo\0ouuuuyts";
	if (cp < 0xc0 || cp > 0xff || cp == 0xd7 || cp == 0xf7)
		return 0;
	if (cp == 0xff)
		return 'y';
	if (cp >= 0xe0)
		cp -= 0x20;
	return map[cp - 0xc0];
}

static void put_space(struct hb_buf *out)
{
	if (out->len > 0 && out->data[out->len - 1] != ' ')
		hb_buf_putc(out, ' ');
}

void hb_text_normalize(const char *in, size_t len, struct hb_buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0;
	hb_buf_reset(out);
	hb_buf_reserve(out, len + 8);
	while (i < len) {
		unsigned cp;
		size_t n = hb_utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			hb_buf_append(out, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		if (n == 1) {
			char c = (char)cp;
			if (space_like(cp) || c == ' ')
				put_space(out);
			else if (c >= 'A' && c <= 'Z')
				hb_buf_putc(out, (char)(c - 'A' + 'a'));
			else
				hb_buf_putc(out, c);
		} else if (space_like(cp)) {
			put_space(out);
		} else if (invisible(cp)) {
			/* dropped */
		} else if (cp == 0x2018 || cp == 0x2019 || cp == 0x2032 ||
				cp == 0x02bc) {
			hb_buf_putc(out, '\'');
		} else if (cp == 0x212a || cp == 0x17f) {
			/* KELVIN SIGN and LONG S are caseless twins of k and s
			 * to PCRE2; spelled out so literal prefilters see them */
			hb_buf_putc(out, cp == 0x212a ? 'k' : 's');
		} else if (cp >= 0xff01 && cp <= 0xff5e) {
			/* fullwidth ASCII (U+FF01-U+FF5E), as CJK input
			 * methods type Latin letters: "I CAN'T BREATHE" typed
			 * so must still read as "i can't breathe" to patterns
			 * (PCRE2's caseless matching does not fold it) */
			char c = (char)(cp - 0xff01 + 0x21);
			hb_buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
		} else if (cp == 0xbf || cp == 0xa1) {
			/* Spanish opening marks ("¿me muero?") are punctuation:
			 * a pattern anchored on a word must still see it */
			put_space(out);
		} else if (accent_fold(cp)) {
			hb_buf_putc(out, accent_fold(cp));
		} else if (confusable(cp)) {
			hb_buf_putc(out, confusable(cp));
		} else if (cp == 0x201c || cp == 0x201d) {
			hb_buf_putc(out, '"');
		} else if (cp == 0x2010 || cp == 0x2011 || cp == 0x2013 ||
				cp == 0x2014) {
			hb_buf_putc(out, '-');
		} else {
			hb_buf_append(out, in + i, n);
		}
		i += n;
	}
	while (out->len > 0 && out->data[out->len - 1] == ' ')
		out->len--;
	if (out->data)
		out->data[out->len] = '\0';
}

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c >= 0x80;
}

void hb_text_words(const char *text, size_t len, hb_word_fn fn, void *data)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0;
	while (i < len) {
		while (i < len && !word_byte(p[i]))
			i++;
		size_t start = i;
		while (i < len && (word_byte(p[i]) ||
				(p[i] == '\'' && i + 1 < len && word_byte(p[i + 1]) &&
				 i > start)))
			i++;
		/* U+FFFD stands for garbage, not a word */
		if (i > start && !(i - start == 3 && memcmp(p + start, "\xef\xbf\xbd", 3) == 0)) {
			if (!fn(data, text + start, i - start, start))
				return;
		}
	}
}

static bool ends(const char *w, size_t len, const char *suf)
{
	size_t n = strlen(suf);
	return len > n && memcmp(w + len - n, suf, n) == 0;
}

size_t hb_text_stem(const char *word, size_t len, char *out)
{
	size_t n = len;
	memcpy(out, word, len);
	/* possessives and contractions: "leg's" -> "leg" */
	if (n > 2 && out[n - 2] == '\'' && out[n - 1] == 's')
		n -= 2;
	if (n > 4 && ends(out, n, "ies")) {
		n -= 3;
		out[n++] = 'y';
	} else if (n > 4 && (ends(out, n, "ches") || ends(out, n, "shes") ||
			ends(out, n, "sses") || ends(out, n, "xes"))) {
		n -= 2;
	} else if (n > 3 && out[n - 1] == 's' && out[n - 2] != 's' &&
			out[n - 2] != 'u' && out[n - 2] != 'i') {
		n -= 1;
	}
	if (n > 5 && ends(out, n, "ing"))
		n -= 3;
	else if (n > 4 && ends(out, n, "ed"))
		n -= 2;
	else if (n > 5 && ends(out, n, "ly"))
		n -= 2;
	/* "tightening"/"tighten" and "stretching"/"stretch" meet; trailing e
	 * and doubled consonants are folded for the same reason */
	if (n > 3 && out[n - 1] == 'e')
		n -= 1;
	if (n > 3 && out[n - 1] == out[n - 2] && out[n - 1] != 's' &&
			out[n - 1] != 'l')
		n -= 1;
	out[n] = '\0';
	return n;
}

int hb_text_distance(const char *a, size_t alen, const char *b, size_t blen,
		int max)
{
	/* optimal string alignment: a swapped pair ("crmap") is one edit */
	int d[64][64];
	if (alen >= 63 || blen >= 63)
		return max + 1;
	if ((int)alen - (int)blen > max || (int)blen - (int)alen > max)
		return max + 1;
	for (size_t i = 0; i <= alen; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= blen; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= alen; i++) {
		int best = max + 1;
		for (size_t j = 1; j <= blen; j++) {
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int v = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
					d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
	}
	return d[alen][blen];
}
