/*
 * reply.c - the single map from outcomes to HTTP statuses and error bodies.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "jsontext.h"
#include "reply.h"
#include "request.h"
#include "timeutil.h"
#include "util.h"

struct status_info {
	unsigned http;
	const char *default_message;
};

static const struct status_info status_table[API_STATUS_COUNT] = {
    [API_OK] = {200, ""},
    [API_NO_CONTENT] = {204, ""},
    [API_BAD_REQUEST] = {400, "the request is not valid"},
    [API_UNAUTHORIZED] = {401, "a valid credential is required"},
    [API_FORBIDDEN] = {403, "this credential may not do that"},
    [API_NOT_FOUND] = {404, "no such resource"},
    [API_METHOD_NOT_ALLOWED] = {405, "this path does not take that method"},
    [API_CONFLICT] = {409, "the request conflicts with the current state"},
    [API_PAYLOAD_TOO_LARGE] = {413, "the request body is larger than 64 KiB"},
    [API_UNSUPPORTED_MEDIA_TYPE] = {415, "the request body must be sent as application/json"},
    [API_TOO_MANY_REQUESTS] = {429, "too many failed attempts; retry later"},
    [API_INTERNAL] = {500, "internal error; the server log has the details"},
    [API_UNAVAILABLE] = {503, "the service is unavailable; retry later"},
    [API_PRECONDITION_FAILED] = {412, "the requests made are not the ones expected"},
    [API_SEE_OTHER] = {303, ""},
    [API_NOT_MODIFIED] = {304, ""},
};

unsigned api_http_status(enum api_status st)
{
	if ((unsigned)st >= API_STATUS_COUNT)
		return 500;
	return status_table[st].http;
}

enum api_status api_fail(struct request *req, enum api_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->message, sizeof(req->message), fmt, ap);
	va_end(ap);
	request_drop_raw(req);
	req->status = st;
	return st;
}

enum api_status api_ok(struct request *req, json_t *body)
{
	if (body == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	json_decref(req->reply);
	req->reply = body;
	request_drop_raw(req);
	req->status = API_OK;
	return API_OK;
}

enum api_status api_raw(struct request *req, enum api_status st, const char *content_type,
                        const char *body, size_t len, bool owned, const char *csp)
{
	struct raw_answer *raw;

	request_drop_raw(req);
	raw = calloc(1, sizeof(*raw));
	if (raw == NULL || (csp && !(csp = strdup(csp)))) {
		if (owned)
			free((char *)body);
		free(raw);
		return api_fail(req, API_INTERNAL, "out of memory");
	}
	req->raw = raw;
	raw->body = body;
	raw->len = len;
	raw->body_owned = owned;
	raw->content_type = content_type;
	raw->csp = (char *)csp;
	req->status = st;
	return st;
}

enum api_status api_oauth_refusal(struct request *req, enum api_status st, const char *error,
                                  const char *description)
{
	json_t *body = json_pack("{s:s, s:s}", "error", error, "error_description", description);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (!text)
		return api_fail(req, API_INTERNAL, "out of memory");
	return api_raw(req, st, "application/json", text, strlen(text), true, NULL);
}

enum api_status api_oauth_error(struct request *req, const char *error, const char *description)
{
	return api_oauth_refusal(req, API_BAD_REQUEST, error, description);
}

enum api_status api_redirect(struct request *req, const char *location)
{
	char *copy = strdup(location);

	if (copy == NULL ||
	    api_raw(req, API_SEE_OTHER, NULL, NULL, 0, false, NULL) != API_SEE_OTHER) {
		free(copy);
		return api_fail(req, API_INTERNAL, "out of memory");
	}
	req->raw->location = copy;
	return API_SEE_OTHER;
}

enum api_status api_ok_text(struct request *req, char *text, size_t len, const char *content_type)
{
	if (text == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	return api_raw(req, API_OK, content_type, text, len, true, NULL);
}

enum api_status api_ok_jsontext(struct request *req, struct jsontext *text)
{
	size_t len;
	char *body = jsontext_take(text, &len);

	if (body == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	return api_raw(req, API_OK, "application/json", body, len, true, NULL);
}

enum api_status api_no_content(struct request *req)
{
	req->status = API_NO_CONTENT;
	return API_NO_CONTENT;
}

enum api_status api_from_store(struct request *req, enum store_status st, const char *what,
                               const char *conflict)
{
	switch (st) {
	case STORE_OK:
		/* A caller bug: OK is not a failure. Say so rather than answer 200 empty. */
		log_error("api_from_store called with STORE_OK for %s", what);
		return api_fail(req, API_INTERNAL, "internal error");
	case STORE_NOT_FOUND:
		return api_fail(req, API_NOT_FOUND, "%s not found", what);
	case STORE_CONFLICT:
		return api_fail(req, API_CONFLICT, "%s",
		                conflict ? conflict : "it conflicts with an existing one");
	case STORE_LAST_ADMIN:
		return api_fail(req, API_CONFLICT,
		                "this would leave the account without an admin user; "
		                "make another user admin first");
	case STORE_FULL:
		return api_fail(req, API_UNAVAILABLE,
		                "the store is full: changes are refused until disk space is freed; "
		                "reads still work");
	case STORE_BUSY:
		return api_fail(req, API_UNAVAILABLE, "the store is busy; retry the request");
	case STORE_READONLY:
		return api_fail(req, API_UNAVAILABLE,
		                "the store is read-only: changes are refused; reads still work");
	case STORE_UNAVAILABLE:
		return api_fail(req, API_UNAVAILABLE,
		                "the database cannot be reached; retry later (a change whose "
		                "connection broke on the way may have been made: check first)");
	case STORE_ERROR:
		break;
	}
	return api_fail(req, API_INTERNAL,
	                "internal error in the store; the server log has details");
}

/* Used when even rendering the error fails: a fixed body needs no memory. */
static char *fixed_internal_error(size_t *len, unsigned *http_status)
{
	static const char body[] = "{\"code\":500,\"message\":\"internal error\"}";
	char *copy = strdup(body);

	*http_status = 500;
	*len = copy ? sizeof(body) - 1 : 0;
	return copy;
}

char *reply_render(struct request *req, size_t *len, unsigned *http_status)
{
	json_t *err = NULL;
	char *text = NULL;
	const char *message;

	*http_status = api_http_status(req->status);
	*len = 0;
	if (req->status == API_NO_CONTENT)
		return NULL;
	if (req->status == API_OK) {
		if (req->reply == NULL)
			return fixed_internal_error(len, http_status);
		text = json_dumps(req->reply, JSON_COMPACT);
		goto out;
	}
	message = req->message[0] ? req->message : status_table[req->status].default_message;
	err = json_pack("{s:i, s:s}", "code", (int)*http_status, "message", message);
	if (err == NULL) /* message was not valid UTF-8: it came from a client */
		err = json_pack("{s:i, s:s}", "code", (int)*http_status, "message",
		                status_table[req->status].default_message);
	if (err)
		text = json_dumps(err, JSON_COMPACT);
	json_decref(err);
out:
	if (text == NULL)
		return fixed_internal_error(len, http_status);
	*len = strlen(text);
	return text;
}

int json_set_time(json_t *obj, const char *key, int64_t ms)
{
	char buf[RFC3339_SIZE];

	if (ms == 0)
		return 0;
	time_format_rfc3339(ms, buf);
	return json_object_set_new(obj, key, json_string(buf));
}

json_t *json_text(const char *s)
{
	json_t *v = json_string(s);
	char *repaired, *o;

	if (v != NULL || s == NULL)
		return v;
	/* each byte that is not UTF-8 becomes U+FFFD (3 bytes), as a browser decodes it */
	repaired = malloc(3 * strlen(s) + 1);
	if (repaired == NULL)
		return NULL;
	for (o = repaired; *s != '\0';) {
		uint32_t cp;
		size_t n = utf8_decode(s, &cp);

		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			s++;
		} else {
			memcpy(o, s, n);
			o += n;
			s += n;
		}
	}
	*o = '\0';
	v = json_string(repaired);
	free(repaired);
	return v;
}

int json_set_text(json_t *obj, const char *key, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return 0;
	return json_object_set_new(obj, key, json_text(s));
}
