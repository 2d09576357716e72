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

#include <stddef.h>
#include <stdint.h>

struct app;
struct route;
struct store;

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
 * keys_not_loaded unavailable (anything else counts as "other").
 */
void metrics_auth(enum metrics_cred kind, const char *reason);

void metrics_jwks_fetch(int ok);       /* one fetch of an identity provider's keys */
void metrics_store_error(int status);  /* an enum store_status other than OK/NOT_FOUND/CONFLICT */
void metrics_store_busy_retry(void);   /* a wait for a lock another connection holds */
void metrics_throttled(void);          /* a failed authentication answered 429 */
void metrics_audit_write_failed(void); /* an audit row that could not be written */
void metrics_tls_reload(int ok);       /* a SIGHUP reload of the certificate and key */
void metrics_retention(int64_t mgmt, int64_t db, int64_t audit); /* rows deleted */

/*
 * The whole exposition: counters, and gauges read now (tokens by state from
 * s, which may be NULL; connections in flight and throttled addresses from
 * app). Returns a malloc'ed NUL-terminated text (the caller frees), or NULL
 * when out of memory.
 */
char *metrics_render(struct app *app, struct store *s, size_t *len);

#endif
