/*
 * api_metrics.c - GET /metrics ([metrics] enabled): the Prometheus text
 * exposition of metrics.h, without a credential, like most exporters;
 * [metrics] listen puts it on an address of its own.
 *
 * The handler reads what other modules count or know (the store, the
 * credential caches, the throttle, the server's state) and hands it to
 * metrics_render, so that metrics.c calls nobody back.
 */
#include "api.h"
#include "commitq.h"
#include "credcache.h"
#include "metrics.h"
#include "request.h"
#include "throttle.h"
#include "timeutil.h"

static void read_gauges(struct request *req, struct store *s, struct metrics_gauges *g)
{
	struct app *app = req->app;
	struct store_token_counts tokens;
	struct store_counters counters;

	/* Without a store the token gauges are left out; the rest is still worth a scrape. */
	if (s != NULL && store_token_counts(s, time_now_ms(), &tokens) == STORE_OK) {
		g->tokens_known = true;
		for (size_t i = 0; i < METRICS_TOKEN_STATES && i < TOKEN_STATE_COUNT; i++) {
			g->mgmt_tokens[i] = tokens.mgmt[i];
			g->db_tokens[i] = tokens.db[i];
		}
		for (size_t i = 0; i < METRICS_EXPIRING_WINDOWS && i < STORE_EXPIRING_WINDOWS;
		     i++) {
			g->expiring_days[i] = store_expiring_days[i];
			g->mgmt_expiring[i] = tokens.mgmt_expiring[i];
			g->db_expiring[i] = tokens.db_expiring[i];
		}
	}
	store_counters_read(&counters);
	for (size_t i = 0; i < METRICS_STORE_ERROR_KINDS && i < STORE_ERROR_KINDS; i++)
		g->store_errors[i] = counters.errors[i];
	g->store_busy_retries = counters.busy_retries;
	credcache_counts(&g->credcache_hits, &g->credcache_misses);
	g->changes_heard = store_changes_heard(s);
	if (app->commitq != NULL) {
		g->shared_commits = true;
		commitq_counts(app->commitq, &g->shared_changes, &g->commits);
	}
	g->throttled_addresses = app->throttle ? throttle_entries(app->throttle) : 0;
	g->in_flight = atomic_load(&app->in_flight);
	g->ready = atomic_load(&app->ready);
}

enum api_status api_metrics(struct request *req)
{
	struct metrics_gauges gauges = {0};
	struct store *s = store_pool_get(req->app->stores);
	size_t len = 0;
	char *text;

	req->store = s; /* dispatch_request gives it back */
	read_gauges(req, s, &gauges);
	text = metrics_render(&gauges, &len);
	return api_ok_text(req, text, len, "text/plain; version=0.0.4; charset=utf-8");
}
