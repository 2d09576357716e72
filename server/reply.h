/*
 * reply.h - how a handler's outcome becomes an HTTP answer.
 *
 * Handlers return an enum api_status. reply.c alone maps it to the HTTP
 * status and renders {"code": N, "message": "..."} for errors: the single
 * error->status map of the program. Store outcomes are mapped here too.
 */
#ifndef MGMTD_REPLY_H
#define MGMTD_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct request;

enum api_status {
	API_OK = 0,     /* 200 with req->reply */
	API_NO_CONTENT, /* 204 */
	API_BAD_REQUEST,
	API_UNAUTHORIZED,
	API_FORBIDDEN,
	API_NOT_FOUND,
	API_METHOD_NOT_ALLOWED,
	API_CONFLICT,
	API_PAYLOAD_TOO_LARGE,
	API_UNSUPPORTED_MEDIA_TYPE,
	API_TOO_MANY_REQUESTS,
	API_INTERNAL,
	API_UNAVAILABLE,
	API_PRECONDITION_FAILED, /* 412: the test harness's verify found other requests */
	API_SEE_OTHER,           /* 303 with a raw answer's Location */
	API_NOT_MODIFIED,        /* 304 to a conditional GET */
	API_STATUS_COUNT
};

/* The HTTP status code of st. */
unsigned api_http_status(enum api_status st);

/* Records an error with a message for a person and returns st. */
enum api_status api_fail(struct request *req, enum api_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a 200 answer; takes ownership of body (NULL = out of memory -> 500). */
enum api_status api_ok(struct request *req, json_t *body);

/*
 * Records a non-JSON answer (struct raw_answer in request.h) with status st
 * and returns st. body is static (owned false) or malloc'ed and taken over
 * (owned true, freed also when this fails); content_type is static. csp is
 * copied (NULL: the JSON answers' policy). Out of memory answers 500.
 */
enum api_status api_raw(struct request *req, enum api_status st, const char *content_type,
                        const char *body, size_t len, bool owned, const char *csp);

/*
 * A 400 in the shape OAuth 2.0 clients read from a token endpoint (RFC 6749
 * 5.2: {"error", "error_description"}), not {code, message}: the dev IdP's
 * grants answer as identity providers do. error is a code such as
 * "invalid_grant"; description is copied.
 */
enum api_status api_oauth_error(struct request *req, const char *error, const char *description);

/*
 * The same shape with status st, for a refusal that is no fault of the
 * request: 429 (set req->retry_after for its Retry-After) or 503, with
 * "temporarily_unavailable" (RFC 6749 4.1.2.1).
 */
enum api_status api_oauth_refusal(struct request *req, enum api_status st, const char *error,
                                  const char *description);

/* Records a 303 See Other to location (copied). */
enum api_status api_redirect(struct request *req, const char *location);

/*
 * A 200 answer that is not JSON (/metrics): api_raw taking ownership of text
 * (malloc'ed, len bytes; NULL = out of memory -> 500). content_type must
 * outlive the request (a string literal).
 */
enum api_status api_ok_text(struct request *req, char *text, size_t len, const char *content_type);

/*
 * A 200 JSON answer already written as text (jsontext.h, views.h), taken
 * over and emptied; a failed writer answers 500.
 */
struct jsontext;
enum api_status api_ok_jsontext(struct request *req, struct jsontext *text);

/* Records a 204 answer. */
enum api_status api_no_content(struct request *req);

/*
 * Maps a failed store call to an answer. what names the thing for a
 * 404 ("management token"); conflict is the 409 message, NULL for a generic one.
 */
enum api_status api_from_store(struct request *req, enum store_status st, const char *what,
                               const char *conflict);

/*
 * Renders the recorded JSON outcome (raw answers are http.c's): returns a
 * malloc'ed body (NULL with *len 0 for 204) and sets *http_status. Out of
 * memory yields a fixed 500 body.
 */
char *reply_render(struct request *req, size_t *len, unsigned *http_status);

/*
 * Stored text as a JSON string: as it is, or, for a row that holds bytes
 * that are not UTF-8 (written before the text rules or by other means), with
 * each such byte as U+FFFD, so that one row never breaks an answer. NULL
 * only when out of memory (or s is NULL).
 */
json_t *json_text(const char *s);

/* JSON helpers for handlers: set key only when the value applies (text through json_text). */
int json_set_time(json_t *obj, const char *key, int64_t ms);    /* skips 0 */
int json_set_text(json_t *obj, const char *key, const char *s); /* skips "" */

#endif
