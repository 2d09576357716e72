/*
 * api_metrics.c - GET /metrics ([metrics] enabled): the Prometheus text
 * exposition of metrics.h, without a credential, like most exporters;
 * [metrics] listen puts it on an address of its own.
 */
#include "api.h"
#include "metrics.h"
#include "request.h"

enum api_status api_metrics(struct request *req)
{
	/* Without a store the token gauges are left out; the counters are still worth a scrape. */
	struct store *s = store_pool_get(req->app->stores);
	size_t len = 0;
	char *text;

	req->store = s; /* dispatch_request gives it back */
	text = metrics_render(req->app, s, &len);

	return api_ok_text(req, text, len, "text/plain; version=0.0.4; charset=utf-8");
}
