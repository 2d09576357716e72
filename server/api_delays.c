/*
 * api_delays.c - the test harness's delays ([testing], delays.h):
 * GET /_test/delays shows them, PUT /_test/delays sets those its body names,
 * DELETE /_test/delays puts them back to the configured ones.
 *
 * A TEST DEVICE: no credential is asked. The routes exist only while
 * [testing] is enabled (routes.c).
 */
#include "api.h"
#include "body.h"
#include "delays.h"
#include "log.h"
#include "maintenance.h"
#include "request.h"
#include "timeutil.h"

static json_t *delays_view(struct delays *d)
{
	struct delays_values v;

	delays_get(d, &v);
	return json_pack("{s:I, s:I, s:I}", "tokenActivationSeconds",
	                 (json_int_t)v.token_activation_s, "databaseNameHoldSeconds",
	                 (json_int_t)v.name_hold_s, "purgeAfterDays",
	                 (json_int_t)v.purge_after_days);
}

/*
 * Purges what the delays in force make due, before the answer: a suite that
 * turns the purge on, or moves the clock, sees its effect from the next
 * request on. A failure is logged; the periodic pass tries again.
 */
void api_delays_purge_now(struct request *req)
{
	struct store *s;

	if (delays_purge_before(req->app->delays, time_now_ms()) == INT64_MIN)
		return;
	s = store_pool_get(req->app->stores);
	if (s == NULL) {
		log_error("purge: the store cannot be opened; next pass later");
		return;
	}
	maintenance_purge(req->app, s, time_now_ms());
	store_pool_put(req->app->stores, s);
}

enum api_status api_test_delays_get(struct request *req)
{
	return api_ok(req, delays_view(req->app->delays));
}

enum api_status api_test_delays_set(struct request *req)
{
	static const char *const fields[] = {"tokenActivationSeconds", "databaseNameHoldSeconds",
	                                     "purgeAfterDays", NULL};
	struct delays_values v;
	bool present;

	delays_get(req->app->delays, &v);
	if (body_check_fields(req, fields) != API_OK || body_require_any(req, fields) != API_OK ||
	    body_int(req, "tokenActivationSeconds", 0, DELAYS_MAX_SECONDS, &v.token_activation_s,
	             &present) != API_OK ||
	    body_int(req, "databaseNameHoldSeconds", 0, DELAYS_MAX_SECONDS, &v.name_hold_s,
	             &present) != API_OK ||
	    body_int(req, "purgeAfterDays", 0, DELAYS_MAX_DAYS, &v.purge_after_days, &present) !=
	        API_OK)
		return req->status;
	delays_set(req->app->delays, &v);
	log_warn("test harness: delays set: token activation %llds, database name hold %llds, "
	         "purge after %lld days",
	         (long long)v.token_activation_s, (long long)v.name_hold_s,
	         (long long)v.purge_after_days);
	api_delays_purge_now(req);
	return api_ok(req, delays_view(req->app->delays));
}

enum api_status api_test_delays_clear(struct request *req)
{
	delays_restore(req->app->delays);
	log_info("test harness: the delays are the configured ones again");
	api_delays_purge_now(req);
	return api_no_content(req);
}
