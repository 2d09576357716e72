/*
 * api_health.c - liveness and readiness for load balancers and test harnesses.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "issuers.h"
#include "request.h"
#include "timeutil.h"

enum api_status api_health(struct request *req)
{
	static const char ok[] = "{\"status\":\"ok\"}";

	/* probed many times a second by load balancers: a fixed answer, nothing built */
	return api_raw(req, API_OK, "application/json", ok, sizeof(ok) - 1, false, NULL);
}

/*
 * Ready: store open and migrated (main.c sets app->ready), the database
 * answering now (a replica that cannot reach PostgreSQL leaves the load
 * balancer's rotation until it can), and every
 * identity provider's keys loaded at least once. Keys that could not be
 * refreshed since do not make the server unready (the last good set still
 * verifies), but the answer says so in "detail" and "staleIssuers".
 */
enum api_status api_ready(struct request *req)
{
	struct issuer_health health[ISSUERS_MAX];
	json_t *answer, *stale;
	char detail[1024] = "";
	enum store_status st = STORE_OK;
	size_t n, used = 0;

	if (!atomic_load(&req->app->ready))
		return api_fail(req, API_UNAVAILABLE, "not ready: still starting or shutting down");
	req->store = store_pool_get(req->app->stores); /* dispatch_request gives it back */
	if (req->store == NULL || (st = store_ping(req->store)) != STORE_OK)
		return api_fail(req, API_UNAVAILABLE,
		                "not ready: the database cannot be reached (%s)",
		                req->store ? store_status_name(st) : "no connection");
	n = issuers_health(req->app->issuers, health, sizeof(health) / sizeof(health[0]));
	for (size_t i = 0; i < n; i++)
		if (!health[i].loaded)
			return api_fail(
			    req, API_UNAVAILABLE,
			    "not ready: the signing keys of identity provider %.200s %s "
			    "are not loaded yet%s%.300s",
			    health[i].issuer, health[i].label, health[i].error[0] ? ": " : "",
			    health[i].error);
	answer = json_pack("{s:s}", "status", "ready");
	stale = json_array();
	if (!answer || !stale)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		char when[RFC3339_SIZE];
		int w;

		if (!health[i].stale)
			continue;
		if (json_array_append_new(stale, json_string(health[i].issuer)) != 0)
			goto oom;
		time_format_rfc3339(health[i].last_good_ms, when);
		w = snprintf(detail + used, sizeof(detail) - used,
		             "%sthe signing keys of %.200s are stale (%.200s); the last good set, "
		             "loaded %s, is in use",
		             used ? "; " : "", health[i].issuer, health[i].error, when);
		if (w > 0)
			used += (size_t)w < sizeof(detail) - used ? (size_t)w
			                                          : sizeof(detail) - used - 1;
	}
	if (json_array_size(stale) > 0) {
		/* an error text cut mid-character is not UTF-8: say less rather than nothing */
		json_t *d = json_string(detail);

		if (!d)
			d = json_string("the signing keys of some identity providers are stale; "
			                "the log says why");
		if (json_object_set_new(answer, "detail", d) != 0 ||
		    json_object_set(answer, "staleIssuers", stale) != 0)
			goto oom;
	}
	json_decref(stale);
	return api_ok(req, answer);
oom:
	json_decref(stale);
	json_decref(answer);
	return api_fail(req, API_INTERNAL, "out of memory");
}
