/*
 * body.h - reading JSON request bodies field by field, with the 400 answers
 * CONTRACT 1 asks for (unknown fields named, wrong types named).
 */
#ifndef MGMTD_BODY_H
#define MGMTD_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include "reply.h"

struct request;

/*
 * Parses req->body as one JSON object into req->json. Duplicate keys, NUL
 * characters and invalid UTF-8 are malformed JSON. 400 on failure.
 */
enum api_status body_parse_object(struct request *req);

/*
 * Parses req->body as application/x-www-form-urlencoded into req->json, an
 * object of string values, and sets req->form. '+' is a space, %XX a byte;
 * a bad escape, a NUL, invalid UTF-8 or a key given twice is 400.
 */
enum api_status body_parse_form(struct request *req);

/* 400 naming the first key of req->json not in allowed (NULL-terminated). */
enum api_status body_check_fields(struct request *req, const char *const allowed[]);

/* 400 when req->json has none of the keys in fields (NULL-terminated). */
enum api_status body_require_any(struct request *req, const char *const fields[]);

/*
 * A string field. Absent (or null when nullable) leaves *out NULL; a required
 * field that is absent, or a value of another type, is 400. *out points into
 * req->json.
 */
enum api_status body_string(struct request *req, const char *field, bool required, bool nullable,
                            const char **out);

/* An RFC 3339 field as ms; absent or null leaves *out 0. */
enum api_status body_time(struct request *req, const char *field, int64_t *out);

/*
 * An integer field from min to max. Absent leaves *out alone and *present
 * false; null, a fraction, another type or a value out of range is 400.
 */
enum api_status body_int(struct request *req, const char *field, int64_t min, int64_t max,
                         int64_t *out, bool *present);

/* True when the body has this key (even with a null value). */
bool body_has(const struct request *req, const char *field);

#endif
