/*
 * api_testing.c - the test-harness endpoints ([testing]): reset the store to
 * the seed, and set, advance or clear a fake clock (frozen or running).
 *
 * A TEST DEVICE: no credential is asked. The routes exist only while
 * [testing] is enabled (routes.c).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "faults.h"
#include "journal.h"
#include "log.h"
#include "maintenance.h"
#include "request.h"
#include "seed.h"
#include "tenants.h"
#include "timeutil.h"
#include "util.h"

enum api_status api_test_reset(struct request *req)
{
	struct app *app = req->app;
	struct store *store = req->store; /* ROUTE_STORE: lent by the dispatcher */
	char err[512];

	/* A reset starts the derived ids again: each test of a suite, whatever ran before it,
	 * gets the same ones. */
	if (app->cfg.testing_seed != 0)
		ids_derive_from((uint32_t)app->cfg.testing_seed);
	/* One transaction: a request in flight sees the store before or after, never between. */
	if (seed_reset_text(store, &app->token_key, app->cfg.invite_days, &app->identities,
	                    app->seed_text, app->seed_len, err, sizeof(err)) != 0) {
		log_error("test harness: reset failed: %s", err);
		return api_fail(req, API_UNAVAILABLE, "the reset failed: %s", err);
	}
	if (app->tenants)
		tenants_forget_all(app->tenants); /* the reset took every tenant */
	log_info("test harness: the store is back to the %s",
	         app->seed_text ? "seed" : "empty state");
	return api_no_content(req);
}

static json_t *clock_view(int64_t now)
{
	char buf[RFC3339_SIZE];

	time_format_rfc3339(now, buf);
	return json_pack("{s:s, s:b, s:b}", "now", buf, "fake", time_fake_active(), "running",
	                 !time_fake_active() || time_fake_running());
}

enum api_status api_test_clock_get(struct request *req)
{
	return api_ok(req, clock_view(time_now_ms()));
}

enum api_status api_test_clock_set(struct request *req)
{
	static const char *const fields[] = {"now", "running", NULL};
	json_t *running = json_object_get(req->json, "running");
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
	if (running && !json_is_boolean(running))
		return api_fail(req, API_BAD_REQUEST,
		                "the field \"running\" must be true or false");
	time_format_rfc3339(ms, shown);
	if (json_is_true(running)) {
		time_fake_run_from(ms);
		log_warn("test harness: the clock runs from %s", shown);
	} else {
		time_fake_set(ms);
		log_warn("test harness: the clock is frozen at %s", shown);
	}
	api_delays_purge_now(req); /* the purge is done when the answer comes */
	maintenance_kick();        /* retention follows the clock: a pass at the new time */
	return api_ok(req, clock_view(time_now_ms()));
}

enum api_status api_test_clock_advance(struct request *req)
{
	static const char *const fields[] = {"by", NULL};
	const char *text;
	char shown[RFC3339_SIZE];
	int64_t by;

	if (body_check_fields(req, fields) != API_OK ||
	    body_string(req, "by", true, false, &text) != API_OK)
		return req->status;
	if (time_parse_duration_ms(text, &by) != 0)
		return api_fail(req, API_BAD_REQUEST,
		                "the field \"by\" must be a duration such as 36h, 1h30m, 7d or "
		                "500ms (units ms, s, m, h, d; at most a hundred years)");
	time_fake_advance(by);
	time_format_rfc3339(time_now_ms(), shown);
	log_warn("test harness: the clock advanced by %s to %s", text, shown);
	api_delays_purge_now(req);
	maintenance_kick();
	return api_ok(req, clock_view(time_now_ms()));
}

enum api_status api_test_clock_clear(struct request *req)
{
	time_fake_clear();
	log_info("test harness: the clock is the real one again");
	return api_no_content(req);
}

/* ---- the request journal ---- */

/*
 * A filter from the query string (GET) or the body (verify), whichever holds the
 * fields; false with req->status set for a malformed one.
 */
static bool journal_filter_of(struct request *req, bool from_body, struct journal_filter *f)
{
	static const char *const names[] = {"method", "route", "actor", NULL};
	const char **slots[] = {&f->method, &f->route, &f->actor};
	const char *v;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; names[i]; i++) {
		if (from_body) {
			if (body_string(req, names[i], false, false, slots[i]) != API_OK)
				return false;
		} else {
			*slots[i] = request_query(req, names[i]);
		}
	}
	if (from_body) {
		int64_t since = 0, status = 0;
		bool present;

		if (body_int(req, "since", 0, INT64_MAX, &since, &present) != API_OK ||
		    body_int(req, "status", 100, 599, &status, &present) != API_OK)
			return false;
		f->since = since;
		f->status = (unsigned)status;
		return true;
	}
	if ((v = request_query(req, "since")) != NULL) {
		int64_t n;

		if (!id_parse(v, &n) && strcmp(v, "0") != 0) {
			api_fail(req, API_BAD_REQUEST,
			         "since must be a seq of the journal (0 or more)");
			return false;
		}
		f->since = strcmp(v, "0") == 0 ? 0 : n;
	}
	if ((v = request_query(req, "status")) != NULL) {
		int64_t n;

		if (!id_parse(v, &n) || n < 100 || n > 599) {
			api_fail(req, API_BAD_REQUEST, "status must be an HTTP status, 100 to 599");
			return false;
		}
		f->status = (unsigned)n;
	}
	return true;
}

enum api_status api_test_requests_list(struct request *req)
{
	struct journal_filter f;
	size_t count = 0, len = 0;
	char *text;

	if (!journal_filter_of(req, false, &f))
		return req->status;
	text = journal_query(req->app->journal, &f, &count, &len);
	return api_ok_text(req, text, len, "application/json");
}

enum api_status api_test_requests_verify(struct request *req)
{
	static const char *const fields[] = {"method", "route", "status", "actor",
	                                     "since",  "count", NULL};
	struct journal_filter f;
	int64_t expected = 0;
	size_t seen;
	bool present;

	if (body_check_fields(req, fields) != API_OK || !journal_filter_of(req, true, &f) ||
	    body_int(req, "count", 0, INT32_MAX, &expected, &present) != API_OK)
		return req->status;
	if (!present)
		return api_fail(req, API_BAD_REQUEST,
		                "count is required: how many requests to expect");
	seen = journal_count(req->app->journal, &f);
	if (seen != (size_t)expected) {
		char what[700], status[24] = "";

		if (f.status)
			snprintf(status, sizeof(status), " answered %u", f.status);
		snprintf(what, sizeof(what), "%.16s %.400s%s%s%.64s", f.method ? f.method : "any",
		         f.route ? f.route : "request", status, f.actor ? " by " : "",
		         f.actor ? f.actor : "");
		return api_fail(req, API_PRECONDITION_FAILED,
		                "expected %lld of %s after seq %lld, the journal holds %zu "
		                "(GET /_test/requests lists them)",
		                (long long)expected, what, (long long)f.since, seen);
	}
	return api_ok(req, json_pack("{s:I}", "count", (json_int_t)seen));
}

enum api_status api_test_requests_clear(struct request *req)
{
	journal_clear(req->app->journal);
	return api_no_content(req);
}

/* ---- injected faults ---- */

enum api_status api_test_faults_set(struct request *req)
{
	static const char *const fields[] = {"rules", NULL};
	char why[256];
	const char *problem;
	json_t *rules;

	if (body_check_fields(req, fields) != API_OK)
		return req->status;
	rules = json_object_get(req->json, "rules");
	if (rules == NULL)
		return api_fail(req, API_BAD_REQUEST, "rules is required: an array of rules");
	problem = faults_set(req->app->faults, rules, why, sizeof(why));
	if (problem != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", problem);
	log_warn("test harness: %zu fault rule%s set", json_array_size(rules),
	         json_array_size(rules) == 1 ? "" : "s");
	return api_ok(req, json_pack("{s:o*}", "rules", faults_list(req->app->faults)));
}

enum api_status api_test_faults_get(struct request *req)
{
	return api_ok(req, json_pack("{s:o*}", "rules", faults_list(req->app->faults)));
}

enum api_status api_test_faults_clear(struct request *req)
{
	faults_clear(req->app->faults);
	log_info("test harness: no fault rules any more");
	return api_no_content(req);
}
