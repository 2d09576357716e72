/* Unit tests of throttle.c: token buckets per address, refill, bounded table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "throttle.h"

static void v4(unsigned char out[16], unsigned a, unsigned b, unsigned c, unsigned d)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = (unsigned char)a;
	out[13] = (unsigned char)b;
	out[14] = (unsigned char)c;
	out[15] = (unsigned char)d;
}

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static void test_burst_then_retry_after(void **state)
{
	struct throttle *t = throttle_new(3, 60, 64); /* one credit back a second */
	unsigned char a[16];
	int64_t now = 1000000;

	(void)state;
	assert_non_null(t);
	v4(a, 10, 0, 0, 1);
	assert_int_equal(throttle_fail(t, a, now), 0);
	assert_int_equal(throttle_fail(t, a, now), 0);
	assert_int_equal(throttle_fail(t, a, now), 0);
	assert_int_equal(throttle_fail(t, a, now), 1);
	assert_int_equal(throttle_fail(t, a, now + 500), 1); /* half a credit: still 1 s */
	assert_int_equal(throttle_fail(t, a, now + 1000), 0);
	assert_int_equal(throttle_fail(t, a, now + 1000), 1);
	/* after long enough, the whole burst is back, and no more */
	now += 3600 * 1000;
	for (int i = 0; i < 3; i++)
		assert_int_equal(throttle_fail(t, a, now), 0);
	assert_true(throttle_fail(t, a, now) > 0);
	throttle_free(t);
}

static void test_slow_refill_rounds_up(void **state)
{
	struct throttle *t = throttle_new(1, 1, 8); /* one credit a minute */
	unsigned char a[16];

	(void)state;
	v4(a, 10, 0, 0, 2);
	assert_int_equal(throttle_fail(t, a, 0), 0);
	assert_int_equal(throttle_fail(t, a, 0), 60);
	assert_int_equal(throttle_fail(t, a, 59001), 1);
	assert_int_equal(throttle_fail(t, a, 60000), 0);
	throttle_free(t);
}

static void test_addresses_are_separate(void **state)
{
	struct throttle *t = throttle_new(1, 60, 64);
	unsigned char a[16], b[16];

	(void)state;
	v4(a, 10, 0, 0, 1);
	v4(b, 10, 0, 0, 2);
	assert_int_equal(throttle_fail(t, a, 0), 0);
	assert_true(throttle_fail(t, a, 0) > 0);
	assert_int_equal(throttle_fail(t, b, 0), 0);
	throttle_free(t);
}

static void test_ipv6_counts_by_64(void **state)
{
	struct throttle *t = throttle_new(1, 60, 64);
	unsigned char a[16], b[16], c[16];

	(void)state;
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[15] = 1;
	memcpy(b, a, 16);
	b[15] = 2; /* same /64 */
	memcpy(c, a, 16);
	c[7] = 1; /* another /64 */
	assert_int_equal(throttle_fail(t, a, 0), 0);
	assert_true(throttle_fail(t, b, 0) > 0);
	assert_int_equal(throttle_fail(t, c, 0), 0);
	throttle_free(t);
}

/* A flood of addresses never grows the table, and recent offenders stay throttled. */
static void test_table_is_bounded(void **state)
{
	struct throttle *t = throttle_new(2, 1, 32);
	unsigned char a[16];

	(void)state;
	for (unsigned i = 0; i < 5000; i++) {
		v4(a, 10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		throttle_fail(t, a, i);
		assert_true(throttle_entries(t) <= 32);
	}
	assert_int_equal(throttle_entries(t), 32);
	throttle_free(t);
}

static void test_refilled_entries_are_forgotten(void **state)
{
	struct throttle *t = throttle_new(1, 60000, 4); /* a credit back every ms */
	unsigned char a[16];

	(void)state;
	for (unsigned i = 0; i < 100; i++) {
		v4(a, 192, 168, 0, i);
		assert_int_equal(throttle_fail(t, a, (int64_t)i * 10), 0);
	}
	throttle_free(t);
}

static void test_bad_parameters(void **state)
{
	(void)state;
	assert_null(throttle_new(0, 1, 1));
	assert_null(throttle_new(1, 0, 1));
	assert_null(throttle_new(1, 1, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_retry_after),
	    cmocka_unit_test(test_slow_refill_rounds_up),
	    cmocka_unit_test(test_addresses_are_separate),
	    cmocka_unit_test(test_ipv6_counts_by_64),
	    cmocka_unit_test(test_table_is_bounded),
	    cmocka_unit_test(test_refilled_entries_are_forgotten),
	    cmocka_unit_test(test_bad_parameters),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
