/*
 * api_health.c - liveness and readiness for load balancers and test harnesses.
 */
#include "api.h"
#include "request.h"

enum api_status api_health(struct request *req)
{
	return api_ok(req, json_pack("{s:s}", "status", "ok"));
}

enum api_status api_ready(struct request *req)
{
	/* Ready means: store open and migrated, IdP keys loaded (main.c sets it). */
	if (!atomic_load(&req->app->ready))
		return api_fail(req, API_UNAVAILABLE, "not ready: still starting or shutting down");
	return api_ok(req, json_pack("{s:s}", "status", "ready"));
}
