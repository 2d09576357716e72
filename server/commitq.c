/*
 * commitq.c - a writer thread that commits queued changes together
 * (commitq.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commitq.h"
#include "log.h"

/* At most this many changes share a transaction: a bound on how long a lock is held. */
#define COMMITQ_BATCH 64

struct commitq {
	struct commitq_ops ops;
	struct store *writer;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t queued;
	void **items; /* a ring of cap entries, under lock */
	size_t cap, head, count;
	bool stopping;           /* under lock: finish what is queued, then end */
	size_t changes, commits; /* under lock */
};

/* Waits for changes; takes up to COMMITQ_BATCH of them. False once stopping and empty. */
static bool take_batch(struct commitq *q, void *batch[COMMITQ_BATCH], size_t *n)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->stopping)
		pthread_cond_wait(&q->queued, &q->lock);
	*n = 0;
	while (q->count > 0 && *n < COMMITQ_BATCH) {
		batch[(*n)++] = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	pthread_mutex_unlock(&q->lock);
	return *n > 0;
}

/*
 * One transaction for the batch: each change runs on the writer's
 * connection (ops.run savepoints it itself), then one COMMIT, whose status
 * each change is told. A transaction that cannot begin is told to each
 * change as its commit status: none of them ran.
 */
static void commit_batch(struct commitq *q, void *batch[], size_t n)
{
	enum store_status st = store_tx_begin(q->writer);

	if (st == STORE_OK) {
		for (size_t i = 0; i < n; i++)
			q->ops.run(batch[i], q->writer);
		st = store_tx_commit(q->writer);
	}
	pthread_mutex_lock(&q->lock);
	q->changes += n;
	q->commits++;
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < n; i++)
		q->ops.finish(batch[i], st);
}

static void *writer_main(void *arg)
{
	struct commitq *q = arg;
	void *batch[COMMITQ_BATCH];
	size_t n;

	while (take_batch(q, batch, &n))
		commit_batch(q, batch, n);
	return NULL;
}

struct commitq *commitq_new(const struct store_target *target, const struct commitq_ops *ops,
                            char *err, size_t errlen)
{
	struct commitq *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->ops = *ops;
	q->cap = 256;
	q->items = calloc(q->cap, sizeof(*q->items));
	if (q->items == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail_alloc;
	}
	if (store_connect(target, &q->writer, err, errlen) != 0)
		goto fail_alloc;
	if (pthread_mutex_init(&q->lock, NULL) != 0) {
		snprintf(err, errlen, "pthread_mutex_init failed");
		goto fail_store;
	}
	if (pthread_cond_init(&q->queued, NULL) != 0) {
		snprintf(err, errlen, "pthread_cond_init failed");
		goto fail_lock;
	}
	if (pthread_create(&q->thread, NULL, writer_main, q) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
		goto fail_cond;
	}
	return q;
fail_cond:
	pthread_cond_destroy(&q->queued);
fail_lock:
	pthread_mutex_destroy(&q->lock);
fail_store:
	store_close(q->writer);
fail_alloc:
	free(q->items);
	free(q);
	return NULL;
}

bool commitq_submit(struct commitq *q, void *change)
{
	bool ok = true;

	pthread_mutex_lock(&q->lock);
	if (q->stopping) {
		ok = false;
	} else {
		if (q->count == q->cap) {
			/* the ring grows rather than refuse: each change waits on a connection */
			size_t cap = q->cap * 2;
			void **grown = malloc(cap * sizeof(*grown));

			if (grown == NULL) {
				ok = false;
				goto out;
			}
			for (size_t i = 0; i < q->count; i++)
				grown[i] = q->items[(q->head + i) % q->cap];
			free(q->items);
			q->items = grown;
			q->cap = cap;
			q->head = 0;
		}
		q->items[(q->head + q->count) % q->cap] = change;
		q->count++;
		pthread_cond_signal(&q->queued);
	}
out:
	pthread_mutex_unlock(&q->lock);
	return ok;
}

void commitq_free(struct commitq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_signal(&q->queued);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	if (q->commits > 0)
		log_debug("commitq: %zu changes in %zu commits", q->changes, q->commits);
	pthread_cond_destroy(&q->queued);
	pthread_mutex_destroy(&q->lock);
	store_close(q->writer);
	free(q->items);
	free(q);
}

void commitq_counts(const struct commitq *q, size_t *changes, size_t *commits)
{
	struct commitq *m = (struct commitq *)q; /* the lock, not the counts, changes */

	pthread_mutex_lock(&m->lock);
	*changes = q->changes;
	*commits = q->commits;
	pthread_mutex_unlock(&m->lock);
}
