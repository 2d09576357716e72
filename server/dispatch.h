/*
 * dispatch.h - the life of a request between HTTP and a handler: route,
 * authenticate, authorize, check the body, call the handler. Free of
 * libmicrohttpd so that tests and fuzzers can drive it directly.
 */
#ifndef MGMTD_DISPATCH_H
#define MGMTD_DISPATCH_H

struct request;

/* Runs req to its outcome (req->status, req->reply, req->message). */
void dispatch_request(struct request *req);

/* True when the request's outcome should carry WWW-Authenticate / Allow. */
const char *dispatch_allow_header(const struct request *req);

#endif
