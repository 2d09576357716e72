/*
 * journal.h - the test harness's request journal ([testing], GET /_test/requests).
 *
 * Every answered request, reads and /authorize included, as one JSON object: its
 * number (seq, rising from 1), the time by the server's clock (a fake one too),
 * method, route pattern (the path as sent when no route matched), path, status, who
 * it acted as (kind and id, never the credential), duration, and its body with every
 * secret redacted. Held in memory only, in a ring of a fixed number of entries: the
 * oldest go first. Safe from any thread.
 */
#ifndef MGMTD_JOURNAL_H
#define MGMTD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The largest body kept (after redaction); a longer one is kept as its size only. */
#define JOURNAL_BODY_MAX 8192

struct journal;

/* One request as http.c knows it when it is done; the strings are copied. */
struct journal_request {
	const char *method;
	const char *route; /* NULL: no route matched */
	const char *path;
	unsigned status;
	const char *actor_kind; /* "user", "managementToken", "databaseToken" or "none" */
	const char *actor_id;   /* NULL or "" with "none" */
	int64_t at_ms;
	int64_t duration_us;
	const json_t *body;  /* the parsed JSON or form body, or NULL */
	size_t raw_body_len; /* what was sent, parsed or not */
};

/* Which entries a query or a verify counts; NULL or 0 fields match anything. */
struct journal_filter {
	int64_t since; /* entries with seq > since */
	const char *method;
	const char *route;
	unsigned status;
	const char *actor; /* an actor id */
};

/* A journal of capacity entries (at least 1); NULL when out of memory. */
struct journal *journal_new(size_t capacity);
void journal_free(struct journal *j);

/* Records r (best effort: a failure to copy drops the entry and counts it). */
void journal_record(struct journal *j, const struct journal_request *r);

/*
 * The entries f matches, oldest first, as the text of a JSON array (malloc'ed; the
 * caller frees it), and how many. NULL when out of memory.
 */
char *journal_query(struct journal *j, const struct journal_filter *f, size_t *count, size_t *len);

/* How many entries f matches. */
size_t journal_count(struct journal *j, const struct journal_filter *f);

/* Forgets every entry; seq goes on rising. */
void journal_clear(struct journal *j);

/*
 * A copy of body with secrets replaced by "[redacted]": the value of every key that
 * names one (accessToken, access_token, token, code, code_verifier, password...), and
 * every string that looks like a token or a JWT, at any depth. NULL when out of memory.
 */
json_t *journal_redact(const json_t *body);

#endif
