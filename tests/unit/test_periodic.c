/*
 * test_periodic.c - the periodic thread: runs at start, by interval, when
 * kicked, and not after it was stopped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "periodic.h"
#include "timeutil.h"

static void count(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

/* Waits (at most 10 s: the machine is shared) until *n reaches want. */
static void wait_for_count(atomic_int *n, int want)
{
	int64_t deadline = time_monotonic_us() + 10 * 1000000;

	while (atomic_load(n) < want && time_monotonic_us() < deadline)
		usleep(1000);
	assert_true(atomic_load(n) >= want);
}

static void test_runs_at_start_and_when_kicked(void **state)
{
	struct periodic p = {0};
	atomic_int n = 0;
	int seen;

	(void)state;
	/* an hour: only the start and the kicks run it here */
	assert_int_equal(periodic_start(&p, 3600LL * 1000000, count, &n), 0);
	wait_for_count(&n, 1);
	periodic_kick(&p);
	wait_for_count(&n, 2);
	periodic_kick(&p);
	wait_for_count(&n, 3);
	periodic_stop(&p);
	seen = atomic_load(&n);
	periodic_kick(&p); /* stopped: nothing */
	usleep(20000);
	assert_int_equal(atomic_load(&n), seen);
	periodic_stop(&p); /* twice is fine */
}

static void test_runs_by_interval(void **state)
{
	struct periodic p = {0};
	atomic_int n = 0;

	(void)state;
	assert_int_equal(periodic_start(&p, 2000, count, &n), 0);
	wait_for_count(&n, 5);
	periodic_stop(&p);
}

static void test_never_started(void **state)
{
	struct periodic p = {0};

	(void)state;
	periodic_kick(&p);
	periodic_stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runs_at_start_and_when_kicked),
	    cmocka_unit_test(test_runs_by_interval),
	    cmocka_unit_test(test_never_started),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
