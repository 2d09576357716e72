/*
 * jsontext.c - JSON text from rows, escaped as jansson escapes.
 */
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "timeutil.h"
#include "util.h"

void jsontext_init(struct jsontext *w)
{
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
	w->failed = false;
}

void jsontext_release(struct jsontext *w)
{
	free(w->buf);
	jsontext_init(w);
}

void jsontext_clear(struct jsontext *w)
{
	w->len = 0;
	w->failed = false;
	if (w->buf)
		w->buf[0] = '\0';
}

bool jsontext_ok(const struct jsontext *w)
{
	return !w->failed;
}

char *jsontext_take(struct jsontext *w, size_t *len)
{
	char *text = w->buf;

	*len = w->len;
	if (w->failed || text == NULL) {
		jsontext_release(w);
		*len = 0;
		return NULL;
	}
	jsontext_init(w);
	return text;
}

/* Room for n more bytes and a NUL; false (and failed) when there is none. */
static bool reserve(struct jsontext *w, size_t n)
{
	size_t need, cap;
	char *grown;

	if (w->failed)
		return false;
	if (n > SIZE_MAX - w->len - 1)
		goto fail;
	need = w->len + n + 1;
	if (need <= w->cap)
		return true;
	cap = w->cap ? w->cap : 512; /* one token object fits */
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	grown = realloc(w->buf, cap);
	if (grown == NULL)
		goto fail;
	w->buf = grown;
	w->cap = cap;
	return true;
fail:
	w->failed = true;
	return false;
}

bool jsontext_reserve(struct jsontext *w, size_t n)
{
	return reserve(w, n);
}

void jsontext_raw(struct jsontext *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void jsontext_lit(struct jsontext *w, const char *s)
{
	jsontext_raw(w, s, strlen(s));
}

/* The escape jansson writes for the code point c below 0x20, '"' or '\\'. */
static size_t escape(uint32_t c, char out[8])
{
	static const char hex[] = "0123456789ABCDEF";
	static const char shorthand[][2] = {{'"', '"'},  {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'},
	                                    {'\n', 'n'}, {'\r', 'r'},  {'\t', 't'}};

	out[0] = '\\';
	for (size_t i = 0; i < sizeof(shorthand) / sizeof(shorthand[0]); i++) {
		if ((uint32_t)(unsigned char)shorthand[i][0] == c) {
			out[1] = shorthand[i][1];
			return 2;
		}
	}
	memcpy(out + 1, "u00", 3);
	out[4] = hex[c >> 4];
	out[5] = hex[c & 0xf];
	return 6;
}

/* Bytes that go into a JSON string as they are: printable ASCII but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
    [0x20 ... 0x21] = 1, /* '"' is 0x22 */
    [0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
    [0x5d ... 0x7f] = 1,
};

void jsontext_string(struct jsontext *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	/* at most 6 bytes out for one byte in (an escape; U+FFFD is 3) */
	if (!reserve(w, 2 + 6 * strlen(s)))
		return;
	w->buf[w->len++] = '"';
	while (*p != '\0') {
		const unsigned char *run = p;
		uint32_t cp;
		size_t n;

		/* the common case: printable ASCII goes across as it is */
		while (plain_byte[*p])
			p++;
		memcpy(w->buf + w->len, run, (size_t)(p - run));
		w->len += (size_t)(p - run);
		if (*p == '\0')
			break;
		n = utf8_decode((const char *)p, &cp);
		if (n == 0) {
			memcpy(w->buf + w->len, "\xef\xbf\xbd", 3);
			w->len += 3;
			p++;
		} else if (cp < 0x20 || cp == '"' || cp == '\\') {
			w->len += escape(cp, w->buf + w->len);
			p++;
		} else {
			memcpy(w->buf + w->len, p, n);
			w->len += n;
			p += n;
		}
	}
	w->buf[w->len++] = '"';
	w->buf[w->len] = '\0';
}

void jsontext_int(struct jsontext *w, int64_t v)
{
	/* by hand: snprintf costs more than the rest of a small object */
	char digits[24];
	char *end = digits + sizeof(digits), *p = end;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jsontext_raw(w, p, (size_t)(end - p));
}

void jsontext_time(struct jsontext *w, int64_t ms)
{
	size_t n;

	/* formatted in place: a token has two or more of these */
	if (!reserve(w, RFC3339_SIZE + 2))
		return;
	w->buf[w->len] = '"';
	time_format_rfc3339(ms, w->buf + w->len + 1);
	n = strlen(w->buf + w->len + 1);
	w->len += 1 + n;
	w->buf[w->len++] = '"';
	w->buf[w->len] = '\0';
}
