/*
 * commitq.h - changes that share one transaction and one commit (group
 * commit), for a store that lets one writer at a time commit
 * (store_commits_serialized: SQLite).
 *
 * Each durable commit costs a flush of the disk; one writer at a time means
 * one flush at a time, so N concurrent changes took N flushes in a row. A
 * writer thread with a connection of its own takes every change queued
 * meanwhile, runs each in the one transaction under a savepoint of its own
 * (so a refused change is undone alone, and every rule is still decided
 * inside the transaction that commits it), commits once, and then tells
 * each change it is done: an answer still leaves only once its change is
 * durable. The worker threads serve other connections meanwhile (http.c
 * suspends the request's connection until it is done).
 *
 * commitq_run calls back into the dispatcher (dispatch_change) for each
 * change; this module knows nothing of requests but their pointer.
 */
#ifndef MGMTD_COMMITQ_H
#define MGMTD_COMMITQ_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct commitq;

/*
 * What the writer does with one change, on its connection, inside the
 * shared transaction (the caller's: dispatch.c), and what it does once the
 * transaction's fate is known: st is the commit's status (STORE_OK: durable).
 */
struct commitq_ops {
	void (*run)(void *change, struct store *writer);
	void (*finish)(void *change, enum store_status commit_status);
};

/*
 * A queue whose writer opens its connection through target (its own, not a
 * pool's). NULL (err says why) when the connection or the thread cannot be
 * made.
 */
struct commitq *commitq_new(const struct store_target *target, const struct commitq_ops *ops,
                            char *err, size_t errlen);

/*
 * Queues change; ops->run and ops->finish are called on the writer's thread,
 * in that order, for every change queued. False after commitq_stop (the
 * caller runs the change itself).
 */
bool commitq_submit(struct commitq *q, void *change);

/* Finishes every change queued, then stops the writer and frees q. */
void commitq_free(struct commitq *q);

/* Changes and commits since start (for docs/benchmarks.md and the tests). */
void commitq_counts(const struct commitq *q, size_t *changes, size_t *commits);

#endif
