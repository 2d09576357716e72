/* Unit tests of router.c: matching, captures, 404 versus 405, Allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"
#include "router.h"

static enum api_status h_list(struct request *req)
{
	(void)req;
	return API_OK;
}

static enum api_status h_item(struct request *req)
{
	(void)req;
	return API_NO_CONTENT;
}

static const struct route table[] = {
    {"GET", "/health", h_list, RES_NONE, OP_READ, 0},
    {"GET", "/a/{accountId}/things", h_list, RES_USERS, OP_READ, 0},
    {"POST", "/a/{accountId}/things", h_list, RES_USERS, OP_CREATE, ROUTE_JSON_BODY},
    {"GET", "/a/{accountId}/things/{thingId}", h_item, RES_USERS, OP_READ, 0},
    {"DELETE", "/a/{accountId}/things/{thingId}", h_item, RES_USERS, OP_DELETE, 0},
};
static const size_t table_count = sizeof(table) / sizeof(table[0]);

static void test_literal_match(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, table_count, "GET", "/health", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &table[0]);
	assert_int_equal(m.param_count, 0);
}

static void test_captures(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, table_count, "DELETE", "/a/acc-1/things/t-9", &m),
	                 ROUTER_FOUND);
	assert_ptr_equal(m.route, &table[4]);
	assert_string_equal(route_param(&m, "accountId"), "acc-1");
	assert_string_equal(route_param(&m, "thingId"), "t-9");
	assert_null(route_param(&m, "thing"));
	assert_null(route_param(&m, "nope"));
}

static void test_method_picks_route(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, table_count, "POST", "/a/x/things", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &table[2]);
	assert_int_equal(router_match(table, table_count, "GET", "/a/x/things", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &table[1]);
	assert_string_equal(m.allow, "GET, POST");
}

static void test_head_is_get(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, table_count, "HEAD", "/health", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &table[0]);
}

static void test_wrong_method_lists_allow(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, table_count, "PUT", "/a/x/things", &m),
	                 ROUTER_WRONG_METHOD);
	assert_null(m.route);
	assert_string_equal(m.allow, "GET, POST");
	assert_int_equal(router_match(table, table_count, "PATCH", "/a/x/things/y", &m),
	                 ROUTER_WRONG_METHOD);
	assert_string_equal(m.allow, "GET, DELETE");
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {
	    "",           "health",          "/",    "/healthz",    "//health",
	    "/a//things", "/a/x/things/y/z", "/a/x", "/A/x/things", "/a/x/Things",
	};
	struct route_match m;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int r = router_match(table, table_count, "GET", paths[i], &m);

		if (r != ROUTER_NOT_FOUND)
			fail_msg("path \"%s\" should be 404, got %d", paths[i], r);
	}
}

static void test_trailing_slash_pattern(void **state)
{
	static const struct route dir[] = {
	    {"GET", "/ui", h_list, RES_NONE, OP_READ, 0},
	    {"GET", "/ui/", h_item, RES_NONE, OP_READ, 0},
	    {"GET", "/ui/{file}", h_list, RES_NONE, OP_READ, 0},
	};
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(dir, 3, "GET", "/ui/", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &dir[1]);
	assert_int_equal(router_match(dir, 3, "GET", "/ui", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &dir[0]);
	assert_int_equal(router_match(dir, 3, "GET", "/ui/app.js", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &dir[2]);
	assert_string_equal(route_param(&m, "file"), "app.js");
	/* the empty last segment is no capture: "/ui/app.js/" is "/ui/app.js" */
	assert_int_equal(router_match(dir, 3, "GET", "/ui/app.js/", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &dir[2]);
	assert_string_equal(route_param(&m, "file"), "app.js");
	assert_int_equal(router_match(dir, 3, "GET", "/ui//", &m), ROUTER_NOT_FOUND);
	assert_int_equal(router_match(dir, 3, "GET", "/", &m), ROUTER_NOT_FOUND);
}

/* One trailing "/" means the path without it, for every route: found, wrong method
 * and its Allow alike; two slashes or a slash alone stay 404. */
static void test_trailing_slash_is_the_path_without_it(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, table_count, "GET", "/health/", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &table[0]);
	assert_int_equal(router_match(table, table_count, "GET", "/a/x/things/", &m), ROUTER_FOUND);
	assert_string_equal(route_param(&m, "accountId"), "x");
	assert_int_equal(router_match(table, table_count, "POST", "/a/x/things/", &m),
	                 ROUTER_FOUND);
	assert_int_equal(router_match(table, table_count, "PUT", "/a/x/things/", &m),
	                 ROUTER_WRONG_METHOD);
	assert_string_equal(m.allow, "GET, POST");
	assert_int_equal(router_match(table, table_count, "GET", "/a/x/things/y/", &m),
	                 ROUTER_FOUND);
	assert_string_equal(route_param(&m, "thingId"), "y");
	assert_int_equal(router_match(table, table_count, "GET", "/health//", &m),
	                 ROUTER_NOT_FOUND);
	assert_int_equal(router_match(table, table_count, "GET", "/a/x/things//", &m),
	                 ROUTER_NOT_FOUND);
}

static void test_long_and_deep_paths(void **state)
{
	char path[ROUTER_MAX_PATH * 2];
	struct route_match m;

	(void)state;
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(router_match(table, table_count, "GET", path, &m), ROUTER_NOT_FOUND);
	strcpy(path, "");
	for (int i = 0; i < ROUTER_MAX_SEGMENTS + 4; i++)
		strcat(path, "/x");
	assert_int_equal(router_match(table, table_count, "GET", path, &m), ROUTER_NOT_FOUND);

	/* A capture longer than its buffer does not match rather than truncate. */
	memset(path, 0, sizeof(path));
	strcpy(path, "/a/");
	memset(path + 3, 'b', 300);
	strcat(path, "/things");
	assert_int_equal(router_match(table, table_count, "GET", path, &m), ROUTER_NOT_FOUND);
}

/* Captures are percent-decoded after splitting, so %2F stays inside one segment. */
static void test_captures_are_decoded(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(
	    router_match(table, table_count, "GET", "/a/telegraf%2Fautogen/things/x%2fy%41", &m),
	    ROUTER_FOUND);
	assert_ptr_equal(m.route, &table[3]);
	assert_string_equal(route_param(&m, "accountId"), "telegraf/autogen");
	assert_string_equal(route_param(&m, "thingId"), "x/yA");
	/* An unescaped slash is a separator, as before. */
	assert_int_equal(router_match(table, table_count, "GET", "/a/b/c/things", &m),
	                 ROUTER_NOT_FOUND);
}

static void test_bad_escapes_do_not_match(void **state)
{
	static const char *const paths[] = {
	    "/a/%/things", "/a/%2/things", "/a/%zz/things", "/a/x%00y/things", "/a/%g1/things",
	};
	struct route_match m;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (router_match(table, table_count, "GET", paths[i], &m) != ROUTER_NOT_FOUND)
			fail_msg("path \"%s\" should not match", paths[i]);
	/* Every segment is decoded, literals too: an escaped "a" is an "a" (RFC 3986 6.2.2.2). */
	assert_int_equal(router_match(table, table_count, "GET", "/%61/x/things", &m),
	                 ROUTER_FOUND);
	assert_int_equal(router_match(table, table_count, "GET", "/hea%6Cth", &m), ROUTER_FOUND);
	assert_ptr_equal(m.route, &table[0]);
}

/* The program's own table: every pattern well formed, no duplicate method+pattern. */
static void test_program_routes(void **state)
{
	struct route_match m;

	(void)state;
	assert_true(route_count > 10);
	for (size_t i = 0; i < route_count; i++) {
		assert_non_null(routes[i].handler);
		assert_true(routes[i].pattern[0] == '/');
		for (size_t j = i + 1; j < route_count; j++)
			if (strcmp(routes[i].method, routes[j].method) == 0 &&
			    strcmp(routes[i].pattern, routes[j].pattern) == 0)
				fail_msg("duplicate route %s %s", routes[i].method,
				         routes[i].pattern);
	}
	assert_int_equal(
	    router_match(routes, route_count, "POST", "/api/v0/accounts/abc/management/tokens", &m),
	    ROUTER_FOUND);
	assert_ptr_equal(m.route->handler, api_mgmt_token_create);
	assert_string_equal(route_param(&m, "accountId"), "abc");
	assert_int_equal(
	    router_match(routes, route_count, "PUT", "/api/v0/accounts/abc/management/tokens", &m),
	    ROUTER_WRONG_METHOD);
	assert_string_equal(m.allow, "GET, POST");

	/* Cluster-scoped routes: at most ROUTER_MAX_PARAMS captures, all found. */
	assert_int_equal(
	    router_match(routes, route_count, "PUT",
	                 "/api/v0/accounts/a/clusters/c/databases/db%2Frp/tables/t/rename", &m),
	    ROUTER_FOUND);
	assert_ptr_equal(m.route->handler, api_table_rename);
	assert_string_equal(route_param(&m, "databaseName"), "db/rp");
	assert_string_equal(route_param(&m, "tableName"), "t");
	assert_int_equal(router_match(routes, route_count, "PUT",
	                              "/api/v0/accounts/a/clusters/c/databases/7/undelete", &m),
	                 ROUTER_FOUND);
	assert_ptr_equal(m.route->handler, api_database_undelete);
	assert_string_equal(route_param(&m, "databaseId"), "7");
	assert_int_equal(router_match(routes, route_count, "GET",
	                              "/api/v0/accounts/a/clusters/c/databases/x", &m),
	                 ROUTER_WRONG_METHOD);
	assert_string_equal(m.allow, "PATCH, DELETE");
	assert_int_equal(
	    router_match(routes, route_count, "GET", "/api/v0/accounts/a/clusters/c/authorize", &m),
	    ROUTER_FOUND);
	assert_ptr_equal(m.route->handler, api_authorize);
	assert_true(m.route->flags & ROUTE_DATA_PLANE);
	assert_int_equal(m.route->resource, RES_NONE);
}

/*
 * Paths arrive as sent. Each segment is decoded after splitting: "%2F" stays
 * inside its segment, "%00" (which would cut a C string short) and broken
 * escapes match nothing. Regression: before, libmicrohttpd's decoding turned
 * ".../users%00junk" into ".../users" and served it.
 */
static void test_percent_decoding_per_segment(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, table_count, "GET", "/a/acc%2D1/th%69ngs/t%2F9", &m),
	                 ROUTER_FOUND);
	assert_string_equal(route_param(&m, "accountId"), "acc-1");
	assert_string_equal(route_param(&m, "thingId"), "t/9");
	/* an encoded slash is not a boundary: this is one segment too many, not two */
	assert_int_equal(router_match(table, table_count, "GET", "/a/x%2Fthings", &m),
	                 ROUTER_NOT_FOUND);
	assert_int_equal(router_match(table, table_count, "GET", "/a/acc/things%00junk", &m),
	                 ROUTER_NOT_FOUND);
	assert_int_equal(router_match(table, table_count, "GET", "/a/acc/things/%00", &m),
	                 ROUTER_NOT_FOUND);
	assert_int_equal(router_match(table, table_count, "GET", "/a/acc/things/%zz", &m),
	                 ROUTER_NOT_FOUND);
	assert_int_equal(router_match(table, table_count, "GET", "/a/acc/things/%4", &m),
	                 ROUTER_NOT_FOUND);
	assert_int_equal(router_match(table, table_count, "GET", "/a/acc/things/abc%", &m),
	                 ROUTER_NOT_FOUND);
	/* a segment that decodes to nothing is not a capture */
	assert_int_equal(router_match(table, table_count, "GET", "/health%", &m), ROUTER_NOT_FOUND);
	assert_int_equal(router_match(table, table_count, "GET", "/%68ealth", &m), ROUTER_FOUND);
}

static const struct route feature_table[] = {
    {"GET", "/health", h_list, RES_NONE, OP_READ, 0},
    {"POST", "/_test/reset", h_item, RES_NONE, OP_UPDATE, ROUTE_TESTING},
    {"PUT", "/_test/clock", h_item, RES_NONE, OP_UPDATE, ROUTE_TESTING | ROUTE_JSON_BODY},
    {"GET", "/_test/clock", h_item, RES_NONE, OP_READ, ROUTE_TESTING},
    {"POST", "/oauth/token", h_item, RES_NONE, OP_CREATE, ROUTE_DEV_IDP | ROUTE_FORM_BODY},
};
static const size_t feature_count = sizeof(feature_table) / sizeof(feature_table[0]);

static void test_features(void **state)
{
	struct route_match m;

	(void)state;
	/* disabled: the paths do not exist, so 404, never 405, and Allow says nothing */
	assert_int_equal(
	    router_match_features(feature_table, feature_count, 0, "POST", "/_test/reset", &m),
	    ROUTER_NOT_FOUND);
	assert_int_equal(
	    router_match_features(feature_table, feature_count, 0, "DELETE", "/_test/clock", &m),
	    ROUTER_NOT_FOUND);
	assert_string_equal(m.allow, "");
	assert_int_equal(router_match_features(feature_table, feature_count, ROUTE_TESTING, "POST",
	                                       "/oauth/token", &m),
	                 ROUTER_NOT_FOUND);
	assert_int_equal(
	    router_match_features(feature_table, feature_count, 0, "GET", "/health", &m),
	    ROUTER_FOUND);

	/* enabled: there, with the usual 405 */
	assert_int_equal(router_match_features(feature_table, feature_count, ROUTE_TESTING, "PUT",
	                                       "/_test/clock", &m),
	                 ROUTER_FOUND);
	assert_ptr_equal(m.route, &feature_table[2]);
	assert_int_equal(router_match_features(feature_table, feature_count, ROUTE_TESTING,
	                                       "DELETE", "/_test/clock", &m),
	                 ROUTER_WRONG_METHOD);
	assert_string_equal(m.allow, "PUT, GET");
	assert_int_equal(router_match_features(feature_table, feature_count, ROUTE_DEV_IDP, "POST",
	                                       "/oauth/token", &m),
	                 ROUTER_FOUND);
	/* router_match sees every feature */
	assert_int_equal(router_match(feature_table, feature_count, "POST", "/_test/reset", &m),
	                 ROUTER_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_features),
	    cmocka_unit_test(test_literal_match),
	    cmocka_unit_test(test_captures),
	    cmocka_unit_test(test_method_picks_route),
	    cmocka_unit_test(test_head_is_get),
	    cmocka_unit_test(test_wrong_method_lists_allow),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_trailing_slash_pattern),
	    cmocka_unit_test(test_trailing_slash_is_the_path_without_it),
	    cmocka_unit_test(test_long_and_deep_paths),
	    cmocka_unit_test(test_captures_are_decoded),
	    cmocka_unit_test(test_bad_escapes_do_not_match),
	    cmocka_unit_test(test_program_routes),
	    cmocka_unit_test(test_percent_decoding_per_segment),
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
