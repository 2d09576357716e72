/*
 * stream.c - a JSON array sent a batch at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stream.h"

struct stream {
	struct store_pool *stores;
	struct stream_source src;
	struct jsontext text; /* the batch going out */
	size_t sent;          /* bytes of text already copied out */
	bool done;            /* the source has no more rows: "]" is in text */
	bool failed;
};

struct stream *stream_new(struct store_pool *stores, struct jsontext *first,
                          struct stream_source src)
{
	struct stream *st = malloc(sizeof(*st));

	if (st == NULL) {
		src.free(src.state);
		return NULL;
	}
	st->stores = stores;
	st->src = src;
	st->text = *first;
	jsontext_init(first);
	st->sent = 0;
	st->done = false;
	st->failed = false;
	return st;
}

/* Reads the next batch into st->text; false when the store failed. */
static bool refill(struct stream *st)
{
	enum store_status status = STORE_ERROR;
	struct store *s;

	jsontext_clear(&st->text);
	st->sent = 0;
	s = store_pool_get(st->stores);
	if (s != NULL)
		status = st->src.next(st->src.state, s, &st->text, &st->done);
	store_pool_put(st->stores, s);
	if (status == STORE_OK && st->done)
		jsontext_raw(&st->text, "]", 1);
	if (status != STORE_OK || !jsontext_ok(&st->text)) {
		/* nothing identifies the list here; the access log line names the request */
		log_warn("a list failed after its first bytes (%s): its connection is closed",
		         status == STORE_OK ? "out of memory" : store_status_name(status));
		return false;
	}
	return true;
}

ssize_t stream_read(struct stream *st, char *buf, size_t max)
{
	size_t n;

	if (st->failed)
		return -1;
	while (st->sent == st->text.len) {
		if (st->done)
			return 0;
		if (!refill(st)) {
			st->failed = true;
			return -1;
		}
	}
	n = st->text.len - st->sent;
	if (n > max)
		n = max;
	memcpy(buf, st->text.buf + st->sent, n);
	st->sent += n;
	return (ssize_t)n;
}

void stream_free(struct stream *st)
{
	if (st == NULL)
		return;
	st->src.free(st->src.state);
	jsontext_release(&st->text);
	free(st);
}
