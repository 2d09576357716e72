/*
 * strbuf.h - a growing, always NUL-terminated string (git's strbuf, in
 * small): what mgmtctl's reader, redactor and URL builders append to.
 *
 * A failed allocation marks the buffer failed and every later append does
 * nothing, so that a run of appends is checked once at the end.
 */
#ifndef MGMTCTL_STRBUF_H
#define MGMTCTL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data; /* NULL until the first append; malloc'ed, the caller frees it */
	size_t len, cap;
	bool failed;
};

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0, false                                                                  \
	}

/* Appends n bytes of s. Returns false once the buffer has failed. */
bool strbuf_add(struct strbuf *b, const char *s, size_t n);
bool strbuf_addstr(struct strbuf *b, const char *s);

/* Frees the text (wiping it first when wipe) and empties b. */
void strbuf_release(struct strbuf *b, bool wipe);

#endif
