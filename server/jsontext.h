/*
 * jsontext.h - JSON text written straight from rows, byte for byte what
 * json_dumps(..., JSON_COMPACT) of the same jansson tree would give.
 *
 * Lists of thousands of objects are answered without building a tree: the
 * views write their fields into a jsontext, which grows as needed. Once an
 * allocation fails the writer is "failed": later writes do nothing and
 * jsontext_ok() says so, so a caller checks once at the end.
 */
#ifndef MGMTD_JSONTEXT_H
#define MGMTD_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsontext {
	char *buf; /* owned; NUL-terminated when len > 0 */
	size_t len, cap;
	bool failed;
};

void jsontext_init(struct jsontext *w);
void jsontext_release(struct jsontext *w);
/* Empties the text, keeping its memory (and clearing a failure). */
void jsontext_clear(struct jsontext *w);
bool jsontext_ok(const struct jsontext *w);
/*
 * Room for n more bytes at once, for a text whose size is known roughly (a
 * list): one allocation rather than a realloc at each doubling. False (and
 * failed) when out of memory.
 */
bool jsontext_reserve(struct jsontext *w, size_t n);
/*
 * Hands the text over (malloc'ed, NUL-terminated) and empties w: the caller
 * frees it. NULL when the writer failed or holds nothing.
 */
char *jsontext_take(struct jsontext *w, size_t *len);

/* n bytes as they are: punctuation and keys the caller spells as JSON. */
void jsontext_raw(struct jsontext *w, const char *s, size_t n);
/* A NUL-terminated literal as it is. */
void jsontext_lit(struct jsontext *w, const char *s);
/*
 * s as a JSON string, quoted and escaped as jansson does. Bytes that are not
 * UTF-8 become U+FFFD each, as json_text() (reply.h) repairs them.
 */
void jsontext_string(struct jsontext *w, const char *s);
void jsontext_int(struct jsontext *w, int64_t v);
/* A time in Unix milliseconds as its quoted RFC 3339 form. */
void jsontext_time(struct jsontext *w, int64_t ms);

#endif
