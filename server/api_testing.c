/*
 * api_testing.c - the test-harness endpoints ([testing]): reset the store to
 * the seed, and set or clear a fake clock.
 *
 * A TEST DEVICE: no credential is asked. The routes exist only while
 * [testing] is enabled (routes.c).
 */
#include "api.h"
#include "body.h"
#include "log.h"
#include "maintenance.h"
#include "request.h"
#include "seed.h"
#include "timeutil.h"

enum api_status api_test_reset(struct request *req)
{
	struct app *app = req->app;
	struct store *store = store_pool_get(app->stores);
	char err[512];

	if (store == NULL)
		return api_fail(req, API_UNAVAILABLE,
		                "the store's database cannot be opened or reached; retry later");
	req->store = store; /* dispatch_request gives it back */
	/* One transaction: a request in flight sees the store before or after, never between. */
	if (seed_reset_text(store, &app->token_key, app->cfg.invite_days, &app->identities,
	                    app->seed_text, app->seed_len, err, sizeof(err)) != 0) {
		log_error("test harness: reset failed: %s", err);
		return api_fail(req, API_UNAVAILABLE, "the reset failed: %s", err);
	}
	log_info("test harness: the store is back to the %s",
	         app->seed_text ? "seed" : "empty state");
	return api_no_content(req);
}

static json_t *clock_view(int64_t now)
{
	char buf[RFC3339_SIZE];

	time_format_rfc3339(now, buf);
	return json_pack("{s:s, s:b}", "now", buf, "fake", time_fake_active());
}

enum api_status api_test_clock_get(struct request *req)
{
	return api_ok(req, clock_view(time_now_ms()));
}

enum api_status api_test_clock_set(struct request *req)
{
	static const char *const fields[] = {"now", NULL};
	const char *text;
	char shown[RFC3339_SIZE];
	int64_t ms;

	if (body_check_fields(req, fields) != API_OK ||
	    body_string(req, "now", true, false, &text) != API_OK)
		return req->status;
	if (time_parse_rfc3339(text, &ms) != 0)
		return api_fail(req, API_BAD_REQUEST,
		                "the field \"now\" must be an RFC 3339 date-time such as "
		                "2026-11-28T18:00:00Z");
	time_fake_set(ms);
	time_format_rfc3339(ms, shown);
	log_warn("test harness: the clock is frozen at %s", shown);
	maintenance_kick(); /* retention follows the clock: a pass at the new time */
	return api_ok(req, clock_view(ms));
}

enum api_status api_test_clock_clear(struct request *req)
{
	time_fake_clear();
	log_info("test harness: the clock is the real one again");
	return api_no_content(req);
}
