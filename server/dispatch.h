/*
 * dispatch.h - the life of a request between HTTP and a handler: route,
 * authenticate, authorize, check the body, call the handler. Free of
 * libmicrohttpd so that tests and fuzzers can drive it directly.
 */
#ifndef MGMTD_DISPATCH_H
#define MGMTD_DISPATCH_H

#include "commitq.h"

struct request;

enum dispatch_result {
	DISPATCH_DONE,  /* req has its outcome (req->status, req->reply, req->message) */
	DISPATCH_QUEUE, /* req is a change, authorized and read: dispatch_queue it */
};

/*
 * Runs req to its outcome; or, for a change the store commits together with
 * other changes (req->app->commitq, store_commits_serialized), up to the
 * change itself, which the caller then hands to dispatch_queue.
 */
enum dispatch_result dispatch_request(struct request *req);

/*
 * Queues the change of req (after DISPATCH_QUEUE) for the writer, which runs
 * it with others in one transaction and calls done(cls) from its thread once
 * req has its outcome and the change is durable (or refused). done may run
 * before dispatch_queue returns: the caller must be ready for it (http.c
 * suspends the connection first).
 */
void dispatch_queue(struct request *req, void (*done)(void *cls), void *cls);

/* What the writer of app->commitq does with each change (main.c makes it). */
extern const struct commitq_ops dispatch_commit_ops;

/* True when the request's outcome should carry WWW-Authenticate / Allow. */
const char *dispatch_allow_header(const struct request *req);

#endif
