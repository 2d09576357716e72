/*
 * strbuf.c - the growing string.
 */
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

bool strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return false;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown) {
			b->failed = true;
			return false;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool strbuf_addstr(struct strbuf *b, const char *s)
{
	return strbuf_add(b, s, strlen(s));
}

void strbuf_release(struct strbuf *b, bool wipe)
{
	if (b->data && wipe)
		sodium_memzero(b->data, b->len);
	free(b->data);
	*b = (struct strbuf)STRBUF_INIT;
}
