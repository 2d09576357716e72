/*
 * metrics.c - atomic counters and their Prometheus text rendering.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "router.h"
#include "timeutil.h"
#include "version.h"

/* Room for every route of routes.c plus one row for requests no route matched. */
#define MAX_ROUTES 128

/* The statuses mgmtd answers (reply.c), and one slot for anything else. */
static const unsigned statuses[] = {200, 204, 400, 401, 403, 404, 405, 409,
                                    413, 414, 415, 429, 431, 500, 503};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Upper bounds of the latency buckets, in microseconds (then +Inf). */
static const int64_t bucket_us[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define N_BUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

static const char *const cred_names[METRICS_CRED_COUNT] = {
    [METRICS_CRED_NONE] = "none",   [METRICS_CRED_MGMT_TOKEN] = "management_token",
    [METRICS_CRED_JWT] = "jwt",     [METRICS_CRED_DB_TOKEN] = "database_token",
    [METRICS_CRED_OTHER] = "other",
};

static const char *const reasons[] = {
    "ok",      "missing",         "wrong_scheme",  "malformed", "unknown",
    "revoked", "expired",         "other_account", "invalid",   "not_provisioned",
    "no_idp",  "keys_not_loaded", "unavailable",   "suspended", "used_after_rotation",
    "other",
};
#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

/* The store's error kinds (store_counters), by name. */
static const char *const store_error_names[METRICS_STORE_ERROR_KINDS] = {"full", "busy", "readonly",
                                                                         "error"};

static struct {
	atomic_ullong requests[MAX_ROUTES + 1][N_STATUSES];
	atomic_ullong latency[MAX_ROUTES + 1][N_BUCKETS]; /* non-cumulative; summed at render */
	atomic_ullong latency_sum_us[MAX_ROUTES + 1];
	atomic_ullong latency_count[MAX_ROUTES + 1];
	atomic_ullong auth[METRICS_CRED_COUNT][N_REASONS];
	atomic_ullong jwks[2]; /* error, ok */
	atomic_ullong throttled;
	atomic_ullong previous_secret_uses[2]; /* management tokens, database tokens */
	atomic_ullong audit_failed;
	atomic_ullong tls_reloads[2]; /* error, ok */
	atomic_ullong retention[3];   /* management tokens, database tokens, audit events */
} m;

static int64_t started_ms;

/* Row of a route: its index in routes.c; MAX_ROUTES for none or one past the room. */
static size_t route_row(const struct route *route)
{
	size_t i;

	if (route == NULL || route < routes || route >= routes + route_count)
		return MAX_ROUTES;
	i = (size_t)(route - routes);
	return i < MAX_ROUTES ? i : MAX_ROUTES;
}

static size_t status_slot(unsigned status)
{
	for (size_t i = 0; i < N_STATUSES - 1; i++)
		if (statuses[i] == status)
			return i;
	return N_STATUSES - 1;
}

void metrics_request(const struct route *route, unsigned http_status, int64_t duration_us)
{
	size_t row = route_row(route), b = 0;

	if (duration_us < 0)
		duration_us = 0;
	while (b < N_BUCKETS && duration_us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&m.requests[row][status_slot(http_status)], 1,
	                          memory_order_relaxed);
	if (b < N_BUCKETS)
		atomic_fetch_add_explicit(&m.latency[row][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.latency_sum_us[row], (unsigned long long)duration_us,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&m.latency_count[row], 1, memory_order_relaxed);
}

void metrics_auth(enum metrics_cred kind, const char *reason)
{
	size_t r = N_REASONS - 1;

	if ((unsigned)kind >= METRICS_CRED_COUNT)
		kind = METRICS_CRED_OTHER;
	for (size_t i = 0; reason && i < N_REASONS; i++)
		if (strcmp(reason, reasons[i]) == 0) {
			r = i;
			break;
		}
	atomic_fetch_add_explicit(&m.auth[kind][r], 1, memory_order_relaxed);
}

void metrics_jwks_fetch(int ok)
{
	atomic_fetch_add_explicit(&m.jwks[ok ? 1 : 0], 1, memory_order_relaxed);
}

void metrics_throttled(void)
{
	atomic_fetch_add_explicit(&m.throttled, 1, memory_order_relaxed);
}

void metrics_previous_secret_use(bool database_token)
{
	atomic_fetch_add_explicit(&m.previous_secret_uses[database_token ? 1 : 0], 1,
	                          memory_order_relaxed);
}

void metrics_audit_write_failed(void)
{
	atomic_fetch_add_explicit(&m.audit_failed, 1, memory_order_relaxed);
}

void metrics_tls_reload(int ok)
{
	atomic_fetch_add_explicit(&m.tls_reloads[ok ? 1 : 0], 1, memory_order_relaxed);
}

void metrics_retention(int64_t mgmt, int64_t db, int64_t audit)
{
	atomic_fetch_add_explicit(&m.retention[0], (unsigned long long)(mgmt > 0 ? mgmt : 0),
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&m.retention[1], (unsigned long long)(db > 0 ? db : 0),
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&m.retention[2], (unsigned long long)(audit > 0 ? audit : 0),
	                          memory_order_relaxed);
}

static unsigned long long get(atomic_ullong *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

/* ---- rendering ---- */

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t ncap = o->cap * 2 + (size_t)n;
			char *grown = realloc(o->buf, ncap);

			if (grown == NULL) {
				o->failed = true;
				return;
			}
			o->buf = grown;
			o->cap = ncap;
		}
	}
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	outf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A route pattern as a label value: no quote, backslash or newline can occur in routes.c. */
static const char *route_label(size_t row)
{
	return row < route_count ? routes[row].pattern : "(no route)";
}

static const char *route_method(size_t row)
{
	return row < route_count ? routes[row].method : "";
}

static bool row_used(size_t row)
{
	return get(&m.latency_count[row]) > 0;
}

static void render_requests(struct out *o)
{
	family(o, "mgmtd_http_requests_total", "counter",
	       "Answered HTTP requests by method, route pattern and status.");
	for (size_t r = 0; r <= MAX_ROUTES; r++) {
		if (!row_used(r))
			continue;
		for (size_t s = 0; s < N_STATUSES; s++) {
			unsigned long long v = get(&m.requests[r][s]);

			if (v == 0)
				continue;
			if (s < N_STATUSES - 1)
				outf(o,
				     "mgmtd_http_requests_total{method=\"%s\",route=\"%s\","
				     "status=\"%u\"} %llu\n",
				     route_method(r), route_label(r), statuses[s], v);
			else
				outf(o,
				     "mgmtd_http_requests_total{method=\"%s\",route=\"%s\","
				     "status=\"other\"} %llu\n",
				     route_method(r), route_label(r), v);
		}
	}
	family(o, "mgmtd_http_request_duration_seconds", "histogram",
	       "Time from the request line to the answer, by method and route pattern.");
	for (size_t r = 0; r <= MAX_ROUTES; r++) {
		unsigned long long cumulative = 0, count;

		if (!row_used(r))
			continue;
		count = get(&m.latency_count[r]);
		for (size_t b = 0; b < N_BUCKETS; b++) {
			cumulative += get(&m.latency[r][b]);
			outf(
			    o,
			    "mgmtd_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
			    "le=\"%g\"} %llu\n",
			    route_method(r), route_label(r), (double)bucket_us[b] / 1e6,
			    cumulative);
		}
		/* count is read after the buckets: +Inf is never below the last bucket */
		if (count < cumulative)
			count = cumulative;
		outf(o,
		     "mgmtd_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
		     "le=\"+Inf\"} %llu\n",
		     route_method(r), route_label(r), count);
		outf(o,
		     "mgmtd_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n",
		     route_method(r), route_label(r), (double)get(&m.latency_sum_us[r]) / 1e6);
		outf(o,
		     "mgmtd_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
		     route_method(r), route_label(r), count);
	}
}

static void render_auth(struct out *o)
{
	family(o, "mgmtd_authentications_total", "counter",
	       "Authentications by credential kind and result (ok, or why it was refused).");
	for (size_t k = 0; k < METRICS_CRED_COUNT; k++)
		for (size_t r = 0; r < N_REASONS; r++) {
			unsigned long long v = get(&m.auth[k][r]);

			if (v > 0 || (r == 0 && k != METRICS_CRED_NONE && k != METRICS_CRED_OTHER))
				outf(
				    o,
				    "mgmtd_authentications_total{kind=\"%s\",result=\"%s\"} %llu\n",
				    cred_names[k], reasons[r], v);
		}
}

static void render_tokens(struct out *o, const struct metrics_gauges *g)
{
	static const char *const states[METRICS_TOKEN_STATES] = {"active", "expired", "revoked"};

	if (!g->tokens_known)
		return; /* a scrape without the gauge rather than a failed scrape */
	family(o, "mgmtd_tokens", "gauge",
	       "Management and database tokens by state, all accounts.");
	for (size_t i = 0; i < METRICS_TOKEN_STATES; i++)
		outf(o, "mgmtd_tokens{kind=\"management\",state=\"%s\"} %lld\n", states[i],
		     (long long)g->mgmt_tokens[i]);
	for (size_t i = 0; i < METRICS_TOKEN_STATES; i++)
		outf(o, "mgmtd_tokens{kind=\"database\",state=\"%s\"} %lld\n", states[i],
		     (long long)g->db_tokens[i]);
	family(o, "mgmtd_tokens_expiring", "gauge",
	       "Active tokens that expire within 1, 7 and 30 days, all accounts.");
	for (size_t i = 0; i < METRICS_EXPIRING_WINDOWS; i++)
		outf(o, "mgmtd_tokens_expiring{kind=\"management\",within=\"%dd\"} %lld\n",
		     g->expiring_days[i], (long long)g->mgmt_expiring[i]);
	for (size_t i = 0; i < METRICS_EXPIRING_WINDOWS; i++)
		outf(o, "mgmtd_tokens_expiring{kind=\"database\",within=\"%dd\"} %lld\n",
		     g->expiring_days[i], (long long)g->db_expiring[i]);
}

static void render_rest(struct out *o, const struct metrics_gauges *g)
{
	family(o, "mgmtd_jwks_fetches_total", "counter",
	       "Fetches of identity providers' keys (jwks_url, discovery) by result.");
	outf(o, "mgmtd_jwks_fetches_total{result=\"ok\"} %llu\n", get(&m.jwks[1]));
	outf(o, "mgmtd_jwks_fetches_total{result=\"error\"} %llu\n", get(&m.jwks[0]));
	family(
	    o, "mgmtd_store_errors_total", "counter",
	    "Store calls that failed, by kind (full disk, lock held too long, read-only, other).");
	for (size_t i = 0; i < METRICS_STORE_ERROR_KINDS; i++)
		outf(o, "mgmtd_store_errors_total{kind=\"%s\"} %llu\n", store_error_names[i],
		     (unsigned long long)g->store_errors[i]);
	family(o, "mgmtd_store_busy_retries_total", "counter",
	       "Waits for a database lock held by another connection or process.");
	outf(o, "mgmtd_store_busy_retries_total %llu\n", (unsigned long long)g->store_busy_retries);
	family(o, "mgmtd_throttled_requests_total", "counter",
	       "Failed authentications answered 429 because their address had no credit left.");
	outf(o, "mgmtd_throttled_requests_total %llu\n", get(&m.throttled));
	family(o, "mgmtd_throttled_addresses", "gauge",
	       "Client addresses the failed-authentication throttle holds an entry for.");
	outf(o, "mgmtd_throttled_addresses %zu\n", g->throttled_addresses);
	family(o, "mgmtd_token_previous_secret_uses_total", "counter",
	       "Uses of a rotated token's previous secret during its grace (clients not yet "
	       "switched).");
	outf(o, "mgmtd_token_previous_secret_uses_total{kind=\"management_token\"} %llu\n",
	     get(&m.previous_secret_uses[0]));
	outf(o, "mgmtd_token_previous_secret_uses_total{kind=\"database_token\"} %llu\n",
	     get(&m.previous_secret_uses[1]));
	family(o, "mgmtd_audit_write_failures_total", "counter",
	       "Audit events that could not be written (a change is then rolled back).");
	outf(o, "mgmtd_audit_write_failures_total %llu\n", get(&m.audit_failed));
	family(o, "mgmtd_retention_deleted_total", "counter",
	       "Rows deleted by retention ([store] keep_expired_days, keep_audit_days).");
	outf(o, "mgmtd_retention_deleted_total{kind=\"management_token\"} %llu\n",
	     get(&m.retention[0]));
	outf(o, "mgmtd_retention_deleted_total{kind=\"database_token\"} %llu\n",
	     get(&m.retention[1]));
	outf(o, "mgmtd_retention_deleted_total{kind=\"audit_event\"} %llu\n", get(&m.retention[2]));
	family(o, "mgmtd_tls_reloads_total", "counter",
	       "Reloads of the TLS certificate and key on SIGHUP, by result.");
	outf(o, "mgmtd_tls_reloads_total{result=\"ok\"} %llu\n", get(&m.tls_reloads[1]));
	outf(o, "mgmtd_tls_reloads_total{result=\"error\"} %llu\n", get(&m.tls_reloads[0]));
	family(o, "mgmtd_http_requests_in_flight", "gauge",
	       "Requests received and not yet completed.");
	outf(o, "mgmtd_http_requests_in_flight %ld\n", g->in_flight);
	family(o, "mgmtd_ready", "gauge", "1 while GET /ready answers 200.");
	outf(o, "mgmtd_ready %d\n", g->ready ? 1 : 0);
	family(o, "mgmtd_credential_cache_lookups_total", "counter",
	       "Lookups of the credential caches (docs/architecture.md), by result.");
	outf(o, "mgmtd_credential_cache_lookups_total{result=\"hit\"} %llu\n",
	     (unsigned long long)g->credcache_hits);
	outf(o, "mgmtd_credential_cache_lookups_total{result=\"miss\"} %llu\n",
	     (unsigned long long)g->credcache_misses);
	if (g->shared_commits) {
		family(o, "mgmtd_shared_commit_changes_total", "counter",
		       "Changes committed by the writer that lets them share commits.");
		outf(o, "mgmtd_shared_commit_changes_total %zu\n", g->shared_changes);
		family(
		    o, "mgmtd_shared_commits_total", "counter",
		    "Commits of that writer: the changes divided by these is how many share one.");
		outf(o, "mgmtd_shared_commits_total %zu\n", g->commits);
	}
	family(o, "mgmtd_store_changes_heard", "gauge",
	       "1 while the store hears of every change (PostgreSQL: its change channel "
	       "listens), so that the credential caches may answer.");
	outf(o, "mgmtd_store_changes_heard %d\n", g->changes_heard ? 1 : 0);
	family(o, "mgmtd_start_time_seconds", "gauge", "When this process started, Unix time.");
	outf(o, "mgmtd_start_time_seconds %.3f\n", (double)started_ms / 1000.0);
	family(o, "mgmtd_build_info", "gauge", "Always 1; the version is in the label.");
	outf(o, "mgmtd_build_info{version=\"%s\"} 1\n", version_string());
}

char *metrics_render(const struct metrics_gauges *g, size_t *len)
{
	struct out o = {.cap = 16384};

	o.buf = malloc(o.cap);
	if (o.buf == NULL)
		return NULL;
	o.buf[0] = '\0';
	render_requests(&o);
	render_auth(&o);
	render_tokens(&o, g);
	render_rest(&o, g);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}

__attribute__((constructor)) static void note_start(void)
{
	started_ms = time_real_ms();
}
