/*
 * test_timeutil.c - the clock and RFC 3339 parsing and formatting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "timeutil.h"

struct good_case {
	const char *text;
	int64_t ms;
};

static void test_parse_good(void **state)
{
	static const struct good_case cases[] = {
	    {"1970-01-01T00:00:00Z", 0},
	    {"2026-11-28T18:00:00+00:00", 1795888800000LL}, /* date -Iseconds */
	    {"2026-11-28T18:00:00-00:00", 1795888800000LL},
	    {"2023-12-21T17:32:28.000Z", 1703179948000LL},
	    {"2023-12-21T17:32:28Z", 1703179948000LL},
	    {"2023-12-21t17:32:28z", 1703179948000LL},
	    {"2023-12-21T17:32:28.1Z", 1703179948100LL},
	    {"2023-12-21T17:32:28.12Z", 1703179948120LL},
	    {"2023-12-21T17:32:28.123Z", 1703179948123LL},
	    {"2023-12-21T17:32:28.1234Z", 1703179948123LL},
	    {"2023-12-21T17:32:28.12345Z", 1703179948123LL},
	    {"2023-12-21T17:32:28.123456Z", 1703179948123LL},
	    {"2023-12-21T17:32:28.1234567Z", 1703179948123LL},
	    {"2023-12-21T17:32:28.12345678Z", 1703179948123LL},
	    {"2023-12-21T17:32:28.999999999Z", 1703179948999LL}, /* truncated, not rounded */
	    {"2023-12-21T17:32:28.000000000000000000001Z", 1703179948000LL},
	    {"2026-11-28T18:00:00+05:30", 1795869000000LL},
	    {"2026-11-28T23:30:00+05:30", 1795888800000LL},
	    {"2026-11-28T10:00:00-08:00", 1795888800000LL},
	    {"2026-11-28T10:00:00-0800", 1795888800000LL}, /* date +%z */
	    {"2026-11-28T18:00:00+0000", 1795888800000LL},
	    {"2026-11-28T23:30:00+0530", 1795888800000LL},
	    {"2026-11-28T18:00:00-08:00", 1795917600000LL},
	    {"2026-11-29T17:59:00+23:59", 1795888800000LL},
	    {"2026-11-29T17:58:00+23:59", 1795888800000LL - 60000},
	    {"2026-11-27T18:01:00-23:59", 1795888800000LL},
	    {"2023-12-21T17:32:28.5+01:00", 1703179948500LL - 3600000},
	    {"2024-02-29T23:59:59.999Z", 1709251199999LL}, /* leap year */
	    {"2000-02-29T00:00:00Z", 951782400000LL},      /* divisible by 400 */
	    {"2000-03-01T00:00:00Z", 951868800000LL},
	    {"1900-03-01T00:00:00Z", -2203891200000LL},
	    {"1969-12-31T23:59:59.999Z", -1},
	    {"0001-01-01T00:00:00Z", -62135596800000LL},
	    {"0000-01-01T00:00:00Z", -62167219200000LL},
	    {"0000-02-29T00:00:00Z", -62167219200000LL + 59 * 86400000LL}, /* year 0 is leap */
	    {"9999-12-31T23:59:59.999Z", 253402300799999LL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = 12345;

		if (time_parse_rfc3339(cases[i].text, &ms) != 0)
			fail_msg("refused good timestamp \"%s\"", cases[i].text);
		if (ms != cases[i].ms)
			fail_msg("\"%s\": got %lld, want %lld", cases[i].text, (long long)ms,
			         (long long)cases[i].ms);
	}
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2026-11-28T18:00:00",        /* missing offset */
	    "2026-11-28",                 /* date only */
	    "2026-11-28T18:00Z",          /* no seconds */
	    "2023-02-30T00:00:00Z",       /* no February 30th */
	    "2023-02-29T00:00:00Z",       /* not a leap year */
	    "1900-02-29T00:00:00Z",       /* divisible by 100, not 400 */
	    "2023-04-31T00:00:00Z",       /* 30 days in April */
	    "2023-00-10T00:00:00Z",       /* month 0 */
	    "2023-13-10T00:00:00Z",       /* month 13 */
	    "2023-01-00T00:00:00Z",       /* day 0 */
	    "2023-01-32T00:00:00Z",       /* day 32 */
	    "2023-01-01T24:00:00Z",       /* hour 24 */
	    "2023-01-01T00:60:00Z",       /* minute 60 */
	    "2023-12-31T23:59:60Z",       /* leap second refused */
	    "2023-12-31T23:59:61Z",       /* seconds 61 */
	    "2026-11-28T18:00:00Zjunk",   /* trailing garbage */
	    "2026-11-28T18:00:00Z ",      /* trailing space */
	    "2026-11-28T18:00:00+00:00x", /* trailing garbage */
	    " 2026-11-28T18:00:00Z",      /* leading space */
	    "2026-11-28 18:00:00Z",       /* space instead of T */
	    "2026-11-28X18:00:00Z",
	    "2026-11-28T18:00:00.Z",      /* dot without digits */
	    "2026-11-28T18:00:00,123Z",   /* comma fraction */
	    "2026-11-28T18:00:00+000",    /* offset without colon, 3 digits */
	    "2026-11-28T18:00:00+00:0",   /* offset minute of one digit */
	    "2026-11-28T18:00:00+0:000",  /* colon in the wrong place */
	    "2026-11-28T18:00:00+2400",   /* offset hour 24, no colon */
	    "2026-11-28T18:00:00+00",     /* offset without minutes */
	    "2026-11-28T18:00:00+24:00",  /* offset hour 24 */
	    "2026-11-28T18:00:00+05:60",  /* offset minute 60 */
	    "2026-11-28T18:00:00+5:30",   /* 1-digit offset hour */
	    "2026-11-28T18:00:00 +05:30", /* space before offset */
	    "2026-11-28T18:00:00UTC",
	    "2026-1-28T18:00:00Z",   /* 1-digit month */
	    "2026-11-8T18:00:00Z",   /* 1-digit day */
	    "2026-11-28T8:00:00Z",   /* 1-digit hour */
	    "2026-11-28T18:0:00Z",   /* 1-digit minute */
	    "2026-11-28T18:00:0Z",   /* 1-digit second */
	    "226-11-28T18:00:00Z",   /* 3-digit year */
	    "20260-11-28T18:00:00Z", /* 5-digit year */
	    "-2026-11-28T18:00:00Z",
	    "+2026-11-28T18:00:00Z",
	    "2026/11/28T18:00:00Z",
	    "2026-11-28T18.00.00Z",
	    "2026-1a-28T18:00:00Z",
	    "2026-11-28T18:00:00.12a3Z",
	    "1795888800000",
	    "now",
	    "2026-11-28T18:00:00\nZ",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 777;

		if (time_parse_rfc3339(bad[i], &ms) != -1)
			fail_msg("accepted bad timestamp \"%s\"", bad[i]);
		assert_int_equal(ms, 777); /* untouched on failure */
	}
	{
		int64_t ms = 0;

		assert_int_equal(time_parse_rfc3339(NULL, &ms), -1);
		assert_int_equal(time_parse_rfc3339("2026-11-28T18:00:00Z", NULL), -1);
	}
}

static void test_format_known(void **state)
{
	char out[RFC3339_SIZE];

	time_format_rfc3339(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	time_format_rfc3339(1703179948000LL, out);
	assert_string_equal(out, "2023-12-21T17:32:28.000Z");
	time_format_rfc3339(1703179948123LL, out);
	assert_string_equal(out, "2023-12-21T17:32:28.123Z");
	time_format_rfc3339(1795888800000LL, out);
	assert_string_equal(out, "2026-11-28T18:00:00.000Z");
	time_format_rfc3339(1709251199999LL, out);
	assert_string_equal(out, "2024-02-29T23:59:59.999Z");
	time_format_rfc3339(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	time_format_rfc3339(-62167219200000LL, out);
	assert_string_equal(out, "0000-01-01T00:00:00.000Z");
	time_format_rfc3339(253402300799999LL, out);
	assert_string_equal(out, "9999-12-31T23:59:59.999Z");
	/* Out of RFC 3339's range but still within the buffer, never past it. */
	time_format_rfc3339(INT64_MAX, out);
	assert_true(strlen(out) < RFC3339_SIZE);
	assert_string_equal(out + strlen(out) - 1, "Z");
	time_format_rfc3339(INT64_MIN, out);
	assert_true(strlen(out) < RFC3339_SIZE);
	assert_int_equal(out[0], '-');
}

static void test_round_trip(void **state)
{
	/* Every millisecond-precise instant in 0000-9999 survives format then parse. */
	const int64_t lo = -62167219200000LL, hi = 253402300799999LL;
	const int64_t step = 86400000LL * 7 + 3600000LL * 5 + 61001; /* walks hours, days */
	char out[RFC3339_SIZE];
	int64_t back;

	for (int64_t ms = lo; ms <= hi; ms += step) {
		time_format_rfc3339(ms, out);
		assert_int_equal(strlen(out), 24);
		if (time_parse_rfc3339(out, &back) != 0 || back != ms)
			fail_msg("round trip of %lld via \"%s\" failed", (long long)ms, out);
	}
	time_format_rfc3339(hi, out);
	assert_int_equal(time_parse_rfc3339(out, &back), 0);
	assert_int_equal(back, hi);
	time_format_rfc3339(lo, out);
	assert_int_equal(time_parse_rfc3339(out, &back), 0);
	assert_int_equal(back, lo);
}

static void test_round_trip_every_day_near_epoch(void **state)
{
	/* Each day of 1896-2104: leap years, century rules and month ends. */
	char out[RFC3339_SIZE];
	int64_t back;
	int64_t prev_day = -1;

	for (int64_t d = -27000; d <= 49000; d++) {
		int64_t ms = d * 86400000LL + 86399999LL;
		int day;

		time_format_rfc3339(ms, out);
		if (time_parse_rfc3339(out, &back) != 0 || back != ms)
			fail_msg("round trip of day %lld via \"%s\" failed", (long long)d, out);
		/* Consecutive days: day of month goes up by one or restarts at 1. */
		day = (out[8] - '0') * 10 + (out[9] - '0');
		if (prev_day != -1)
			assert_true(day == prev_day + 1 || day == 1);
		prev_day = day;
	}
}

static void test_clocks(void **state)
{
	struct timespec ts;
	int64_t before, now, after, m1, m2;

	/*
	 * The wall clock in milliseconds, whatever the date is. Bounded by the same clock
	 * read around it: time(NULL) reads a coarse clock that may still be in the second
	 * before, and failed this test now and then.
	 */
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	before = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	now = time_now_ms();
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	after = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	assert_true(now >= before && now <= after);
	m1 = time_monotonic_us();
	m2 = time_monotonic_us();
	assert_true(m1 > 0);
	assert_true(m2 >= m1);
}

static void test_fake_clock(void **state)
{
	int64_t real = time_real_ms();
	int64_t ahead = real + INT64_C(10) * 365 * 86400 * 1000; /* ten years from now */

	assert_false(time_fake_active());
	time_fake_set(ahead);
	assert_true(time_fake_active());
	/* frozen: every reading is the same instant */
	assert_int_equal(time_now_ms(), ahead);
	assert_int_equal(time_now_ms(), ahead);
	/* the real clock is untouched */
	assert_true(time_real_ms() >= real);
	assert_true(time_real_ms() < ahead);
	/* any instant may be faked, the epoch and before included */
	time_fake_set(0);
	assert_true(time_fake_active());
	assert_int_equal(time_now_ms(), 0);
	time_fake_set(-1000);
	assert_int_equal(time_now_ms(), -1000);
	time_fake_clear();
	assert_false(time_fake_active());
	assert_true(time_now_ms() >= real);
}

static void test_running_and_advanced_clock(void **state)
{
	int64_t real = time_real_ms();
	int64_t ahead = real + INT64_C(10) * 365 * 86400 * 1000;
	int64_t a, b;

	(void)state;
	/* running from an instant: at or after it, and never going back */
	time_fake_run_from(ahead);
	assert_true(time_fake_active());
	assert_true(time_fake_running());
	a = time_now_ms();
	b = time_now_ms();
	assert_true(a >= ahead && b >= a);
	assert_true(a - ahead < 60000);
	/* advanced: a running clock keeps running, that much later */
	time_fake_advance(3600000);
	assert_true(time_fake_running());
	assert_true(time_now_ms() >= b + 3600000);
	/* a frozen clock moves and stays frozen */
	time_fake_set(ahead);
	assert_false(time_fake_running());
	time_fake_advance(1500);
	assert_int_equal(time_now_ms(), ahead + 1500);
	assert_int_equal(time_now_ms(), ahead + 1500);
	/* the wall clock advanced becomes a running clock that far ahead */
	time_fake_clear();
	time_fake_advance(86400000);
	assert_true(time_fake_running());
	a = time_now_ms();
	assert_true(a >= time_real_ms() + 86400000 - 1000 && a <= time_real_ms() + 86400000);
	time_fake_clear();
	assert_false(time_fake_active());
	assert_false(time_fake_running());
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = {
	    {"36h", 129600000},     {"1h30m", 5400000}, {"7d", 604800000}, {"500ms", 500},
	    {"2d500ms", 172800500}, {"0s", 0},          {"90s", 90000},    {"1m1ms", 60001},
	};
	static const char *const bad[] = {
	    "",    "36",  "h",  "-1h", "+1h", "1.5h",      "1h 30m",
	    " 1h", "1h ", "1y", "1w",  "1H",  "99999999d", "9223372036854775807ms",
	    "1hm", "ms",
	};
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (time_parse_duration_ms(good[i].text, &ms) != 0)
			fail_msg("\"%s\" refused", good[i].text);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_parse_duration_ms(bad[i], &ms) == 0)
			fail_msg("\"%s\" accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_format_known),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_round_trip_every_day_near_epoch),
	    cmocka_unit_test(test_clocks),
	    cmocka_unit_test(test_fake_clock),
	    cmocka_unit_test(test_running_and_advanced_clock),
	    cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
