/*
 * stream.h - a JSON array answered while it is read.
 *
 * A list of any length goes to the client a batch of rows at a time: the
 * handler writes the first batch (so that a failure before any byte is sent
 * is still an ordinary error answer) and hands over a source of the next
 * ones; http.c then asks stream_read for bytes as the socket takes them, and
 * each batch is read from the store only when the one before has gone out.
 * So the memory of a list is one batch, whatever its length, and no store
 * transaction stays open while the client reads.
 */
#ifndef MGMTD_STREAM_H
#define MGMTD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "jsontext.h"
#include "store.h"

struct store_pool;

struct stream_source {
	/*
	 * Appends the next batch's rows to out, each after a comma (the array's
	 * first row is in the first batch, written by the handler); sets *done
	 * when none follow. Runs on a server thread with a store connection lent
	 * for the call.
	 */
	enum store_status (*next)(void *state, struct store *s, struct jsontext *out, bool *done);
	void (*free)(void *state); /* frees state */
	void *state;
};

struct stream;

/*
 * A stream whose text starts with first (rows of the array after its "["),
 * taken over and emptied; src is taken over too (freed also when this
 * fails). NULL when out of memory.
 */
struct stream *stream_new(struct store_pool *stores, struct jsontext *first,
                          struct stream_source src);

/*
 * Copies the next bytes of the answer into buf (at most max): how many, 0 at
 * its end, -1 when reading the store failed after the first byte: the
 * answer cannot be whole, and the connection must end without its last
 * chunk, so that the client sees an error, not a shorter list.
 */
ssize_t stream_read(struct stream *st, char *buf, size_t max);

void stream_free(struct stream *st);

#endif
