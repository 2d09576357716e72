/*
 * metrics.h - the counters behind GET /metrics, rendered in the Prometheus
 * text exposition format (0.0.4).
 *
 * Process-wide and lock-free: every counter is an atomic that any thread
 * bumps without waiting; the values of a scrape are read one by one, so two
 * counters may be a request apart, as Prometheus expects. Label values come
 * from fixed sets (route patterns, not paths; reasons from a fixed list), so
 * the number of series is bounded whatever clients send.
 */
#ifndef MGMTD_METRICS_H
#define MGMTD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct route;

/* What a credential was, for the authentication counters. */
enum metrics_cred {
	METRICS_CRED_NONE = 0,   /* no usable Authorization header */
	METRICS_CRED_MGMT_TOKEN, /* M.V1. */
	METRICS_CRED_JWT,
	METRICS_CRED_DB_TOKEN, /* apiv1_ */
	METRICS_CRED_OTHER,
	METRICS_CRED_COUNT
};

/*
 * One answered request: its route (NULL when no route matched), HTTP
 * status and duration in microseconds.
 */
void metrics_request(const struct route *route, unsigned http_status, int64_t duration_us);

/*
 * One authentication. reason is one of: ok missing wrong_scheme malformed
 * unknown revoked expired other_account invalid not_provisioned no_idp
 * keys_not_loaded unavailable suspended used_after_rotation (anything else
 * counts as "other").
 */
void metrics_auth(enum metrics_cred kind, const char *reason);

/* An accepted use of a rotated token's previous secret, during its grace. */
void metrics_previous_secret_use(bool database_token);

void metrics_jwks_fetch(int ok);       /* one fetch of an identity provider's keys */
void metrics_throttled(void);          /* a failed authentication answered 429 */
void metrics_audit_write_failed(void); /* an audit row that could not be written */
void metrics_tls_reload(int ok);       /* a SIGHUP reload of the certificate and key */
void metrics_retention(int64_t mgmt, int64_t db, int64_t audit); /* rows deleted */

/*
 * What other modules count or know, read by the /metrics handler
 * (api_metrics.c) just before rendering: this module only holds its own
 * counters and asks nobody (no module it calls calls it back).
 */
enum { METRICS_TOKEN_STATES = 3 };      /* active, expired, revoked */
enum { METRICS_EXPIRING_WINDOWS = 3 };  /* within 1, 7 and 30 days */
enum { METRICS_STORE_ERROR_KINDS = 4 }; /* full, busy, readonly, other */

struct metrics_gauges {
	bool tokens_known; /* false: the store could not count them (left out) */
	int64_t mgmt_tokens[METRICS_TOKEN_STATES];
	int64_t db_tokens[METRICS_TOKEN_STATES];
	/* active tokens expiring within expiring_days[i] days (the store's windows) */
	int expiring_days[METRICS_EXPIRING_WINDOWS];
	int64_t mgmt_expiring[METRICS_EXPIRING_WINDOWS];
	int64_t db_expiring[METRICS_EXPIRING_WINDOWS];
	uint64_t store_errors[METRICS_STORE_ERROR_KINDS];
	uint64_t store_busy_retries;
	uint64_t credcache_hits, credcache_misses;
	bool changes_heard;             /* the credential caches may answer (store_changes_heard) */
	bool shared_commits;            /* changes share commits (commitq.h) */
	size_t shared_changes, commits; /* ... how many changes, in how many commits */
	size_t throttled_addresses;
	long in_flight;
	bool ready;
};

/*
 * The whole exposition: the counters and the gauges given. Returns a
 * malloc'ed NUL-terminated text (the caller frees), or NULL when out of
 * memory.
 */
char *metrics_render(const struct metrics_gauges *g, size_t *len);

#endif
