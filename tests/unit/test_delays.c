/*
 * test_delays.c - the test harness's delays: configured values, set and
 * restored, all off without a module (testing off), and each in the clock's
 * milliseconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "delays.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

static void test_off_without_a_module(void **state)
{
	struct delays_values v = {1, 2, 3};

	(void)state;
	delays_get(NULL, &v);
	assert_int_equal(v.token_activation_s, 0);
	assert_int_equal(v.name_hold_s, 0);
	assert_int_equal(v.purge_after_days, 0);
	assert_int_equal(delays_token_activation_ms(NULL), 0);
	assert_int_equal(delays_name_hold_ms(NULL), 0);
	assert_true(delays_purge_before(NULL, 1000) == INT64_MIN);
	delays_set(NULL, &v); /* nothing to set, nothing to crash */
	delays_restore(NULL);
	delays_free(NULL);
}

static void test_set_and_restore(void **state)
{
	const struct delays_values configured = {30, 180, 0}, changed = {0, 60, 7};
	struct delays *d = delays_new(&configured);
	struct delays_values v;

	(void)state;
	assert_non_null(d);
	delays_get(d, &v);
	assert_memory_equal(&v, &configured, sizeof(v));
	assert_int_equal(delays_token_activation_ms(d), 30000);
	assert_int_equal(delays_name_hold_ms(d), 180000);
	assert_true(delays_purge_before(d, 1000) == INT64_MIN); /* 0 days: never */
	delays_set(d, &changed);
	delays_get(d, &v);
	assert_memory_equal(&v, &changed, sizeof(v));
	assert_int_equal(delays_token_activation_ms(d), 0);
	assert_int_equal(delays_purge_before(d, 10 * DAY_MS), 3 * DAY_MS);
	delays_restore(d);
	delays_get(d, &v);
	assert_memory_equal(&v, &configured, sizeof(v));
	delays_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_off_without_a_module),
	    cmocka_unit_test(test_set_and_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
