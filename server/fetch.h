/*
 * fetch.h - HTTP GET of the small documents an identity provider publishes
 * (JWKS, OpenID discovery), and the webhook's POSTs, with libcurl.
 *
 * fetch_global_init must run once before any thread starts (libcurl's global
 * state is not thread-safe); fetch_get and fetch_post may then run from any thread. Nothing
 * here logs: the caller decides what a failure means.
 */
#ifndef MGMTD_FETCH_H
#define MGMTD_FETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* A JWKS or discovery document is a few KiB; more is a wrong URL or an attack. */
#define FETCH_MAX_BODY (1024 * 1024)

/* No fetch may hold a thread longer than this, connection included. */
#define FETCH_TIMEOUT_MS 5000

struct fetch_result {
	char *body; /* malloc'ed, NUL-terminated; len bytes before the NUL */
	size_t len;
	long max_age; /* seconds from Cache-Control, -1 when it says nothing (fetch_max_age) */
};

/* libcurl's global set-up and tear-down. Returns 0 or -1. */
int fetch_global_init(void);
void fetch_global_cleanup(void);

/*
 * GETs url (http or https; redirects are followed only to https, at most 3)
 * and fills out on a 200 answer of at most FETCH_MAX_BODY bytes. cancel, when
 * not NULL, aborts the transfer as soon as it reads true (shutdown). Returns
 * 0, or -1 with a sentence in err; out is then empty.
 */
int fetch_get(const char *url, const atomic_bool *cancel, struct fetch_result *out, char *err,
              size_t errlen);

/*
 * POSTs body (len bytes, Content-Type: application/json) to url (http or https;
 * redirects are not followed: a receiver that moved says so), with headers (each
 * "Name: value"; NULL-terminated; copied), waiting at most timeout_ms in all. The
 * answer's body is read and dropped (at most FETCH_MAX_BODY bytes). Returns the HTTP
 * status, or -1 with a sentence in err when no answer came (refused, timed out,
 * cancelled).
 */
long fetch_post(const char *url, const char *const *headers, const char *body, size_t len,
                int timeout_ms, const atomic_bool *cancel, char *err, size_t errlen);

/* Frees the body; r may be empty. */
void fetch_result_release(struct fetch_result *r);

/*
 * How long a Cache-Control header value lets the answer be kept, in seconds:
 * its max-age (the smallest, when several), 0 when it says no-store or
 * no-cache, -1 when it says neither. Directive names are case-insensitive;
 * a quoted or malformed max-age value counts as absent. Values past a
 * year are cut to a year. Pure.
 */
long fetch_max_age(const char *cache_control);

#endif
