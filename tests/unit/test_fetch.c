/*
 * test_fetch.c - Cache-Control parsing and the bounds mgmtd puts on how long
 * a fetched key set is kept. (Fetching itself is covered by the integration
 * tests, against a JWKS server of their own.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "fetch.h"
#include "issuers.h"

struct age_case {
	const char *header;
	long age;
};

static void test_max_age(void **state)
{
	static const struct age_case cases[] = {
	    {"", -1},
	    {"public", -1},
	    {"max-age=60", 60},
	    {"public, max-age=3600", 3600},
	    {"private,max-age=120,must-revalidate", 120},
	    {"MAX-AGE=5", 5},
	    {" max-age = 7 ", 7},
	    {"max-age=\"30\"", 30},
	    {"max-age=\"30", -1},
	    {"max-age=abc", -1},
	    {"max-age=", -1},
	    {"max-age", -1},
	    {"max-age=-5", -1},
	    {"max-age=5s", -1},
	    {"max-age=10, max-age=5", 5},
	    {"max-age=5, max-age=10", 5},
	    {"no-cache", 0},
	    {"No-Store, max-age=100", 0},
	    {"max-age=100, no-cache", 0},
	    {"no-cachex", -1},
	    {"s-maxage=100", -1},
	    {"stale-while-revalidate=15, max-age=15, stale-if-error=86400", 15},
	    {"max-age=99999999999999999999999", 365L * 24 * 3600},
	    {",,, ,max-age=9,", 9},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long got = fetch_max_age(cases[i].header);

		if (got != cases[i].age)
			fail_msg("\"%s\": %ld, not %ld", cases[i].header, got, cases[i].age);
	}
	assert_int_equal(fetch_max_age(NULL), -1);
}

static void test_refresh_bounds(void **state)
{
	assert_int_equal(issuers_refresh_seconds(-1), ISSUERS_DEFAULT_AGE);
	assert_int_equal(issuers_refresh_seconds(0), ISSUERS_MIN_AGE);
	assert_int_equal(issuers_refresh_seconds(ISSUERS_MIN_AGE - 1), ISSUERS_MIN_AGE);
	assert_int_equal(issuers_refresh_seconds(ISSUERS_MIN_AGE), ISSUERS_MIN_AGE);
	assert_int_equal(issuers_refresh_seconds(3600), 3600);
	assert_int_equal(issuers_refresh_seconds(ISSUERS_MAX_AGE), ISSUERS_MAX_AGE);
	assert_int_equal(issuers_refresh_seconds(ISSUERS_MAX_AGE + 1), ISSUERS_MAX_AGE);
	assert_int_equal(issuers_refresh_seconds(365L * 24 * 3600), ISSUERS_MAX_AGE);
	/* the documented bounds: a minute to a day, five minutes without a max-age */
	assert_int_equal(ISSUERS_MIN_AGE, 60);
	assert_int_equal(ISSUERS_MAX_AGE, 86400);
	assert_int_equal(ISSUERS_DEFAULT_AGE, 300);
	assert_int_equal(ISSUERS_MISS_INTERVAL, 30);
}

static void test_refused_url(void **state)
{
	struct fetch_result r;
	char err[256] = "";

	/* libcurl refuses other schemes before any I/O */
	assert_int_equal(fetch_global_init(), 0);
	assert_int_equal(fetch_get("file:///etc/passwd", NULL, &r, err, sizeof(err)), -1);
	assert_null(r.body);
	assert_true(err[0] != '\0');
	fetch_result_release(&r);
	fetch_global_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_max_age),
	    cmocka_unit_test(test_refresh_bounds),
	    cmocka_unit_test(test_refused_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
