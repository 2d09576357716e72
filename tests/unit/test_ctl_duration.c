/*
 * test_ctl_duration.c - mgmtctl's durations (--retention-period, --timeout)
 * and --expires-at instants, on every example influxctl's documentation
 * gives (INFLUXCTL.md 6, 7.1, 8.1) and on what must be refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/duration.h"
#include "timeutil.h"

#define S   1000000000LL
#define MIN (60 * S)
#define H   (60 * MIN)
#define D   (24 * H)

struct good {
	const char *text;
	int64_t ns;
};

static void test_documented_examples(void **state)
{
	static const struct good cases[] = {
	    /* influxctl's list of retention examples */
	    {"0d", 0},
	    {"3d", 3 * D},
	    {"6w", 42 * D},
	    {"1mo", 30 * D},
	    {"1y", 365 * D},
	    {"30d30d", 60 * D},
	    {"2.5d", 60 * H},
	    {"30d", 30 * D},
	    /* the defaults and zero forms the docs name */
	    {"0s", 0},
	    {"0", 0},
	    {"1m0s", MIN}, /* the global --timeout default, Go's form */
	    {"24h", D},    /* the database list example's retention */
	    /* more of the same grammar */
	    {"1h30m", 90 * MIN},
	    {"1.5h", 90 * MIN},
	    {".5d", 12 * H},
	    {"1m", MIN},
	    {"90s", 90 * S},
	    {"1ms", 1000000},
	    {"1us", 1000},
	    {"1\xc2\xb5s", 1000},
	    {"1ns", 1},
	    {"1y1mo1w1d1h1m1s", 365 * D + 30 * D + 7 * D + D + H + MIN + S},
	    {"0.000000001s", 1},
	    {"1.0000000001s", S}, /* below a nanosecond: cut */
	    {"9223372036854775807ns", INT64_MAX},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ns = -1;

		if (duration_parse(cases[i].text, &ns, err, sizeof(err)) != 0)
			fail_msg("%s: refused: %s", cases[i].text, err);
		if (ns != cases[i].ns)
			fail_msg("%s: %lld ns, not %lld", cases[i].text, (long long)ns,
			         (long long)cases[i].ns);
	}
}

static void test_refusals(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"", "empty"},
	    {"-1d", "negative"},
	    {"30 d", "space"},
	    {" 30d", "space"},
	    {"30d ", "space"},
	    {"30", "unit is missing"},
	    {"d", "number is missing"},
	    {"1x", "unknown"},
	    {"1D", "the unit \"D\" is unknown"},
	    /* the unit is wrong, not the number: the whole word is named, and the units listed */
	    {"2weeks", "the unit \"weeks\" is unknown"},
	    {"2weeks", "units are ns us ms s m h d w mo y"},
	    {"1h30mins", "the unit \"mins\" is unknown"},
	    {"3days", "the unit \"days\" is unknown"},
	    {"1.d5", "unit is missing"}, /* "1." is one day, then "5" has no unit */
	    {".d", "number is missing"},
	    {"+1d", "sign"},
	    {"1d-1h", "number is missing"},
	    {"9223372036854775808ns", "too large"},
	    {"300y", "too large"},
	    {"99999999999999999999d", "too large"},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ns = 12345;

		if (duration_parse(cases[i].text, &ns, err, sizeof(err)) == 0)
			fail_msg("\"%s\" was read as %lld ns", cases[i].text, (long long)ns);
		if (!strstr(err, cases[i].why))
			fail_msg("\"%s\": \"%s\" does not say %s", cases[i].text, err,
			         cases[i].why);
		assert_int_equal(ns, 0);
	}
}

static void test_format(void **state)
{
	static const struct good cases[] = {
	    {"0s", 0},           {"1d", D},           {"30d", 30 * D}, {"365d", 365 * D},
	    {"2d12h", 60 * H},   {"1h30m", 90 * MIN}, {"1h", H},       {"1m", MIN},
	    {"1.5s", 3 * S / 2}, {"0.000000001s", 1}, {"1d1s", D + S},
	};
	char out[DURATION_TEXT_SIZE];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		duration_format(cases[i].ns, out);
		assert_string_equal(out, cases[i].text);
	}
	duration_format(INT64_MAX, out);
	assert_true(strlen(out) < DURATION_TEXT_SIZE);
}

/* What is printed reads back to the same value, over a wide spread of values. */
static void test_round_trip(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char out[DURATION_TEXT_SIZE], err[256];

	for (int i = 0; i < 100000; i++) {
		int64_t ns, back;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ns = (int64_t)(x >> (1 + i % 63));
		duration_format(ns, out);
		if (duration_parse(out, &back, err, sizeof(err)) != 0)
			fail_msg("%s (%lld): %s", out, (long long)ns, err);
		if (back != ns)
			fail_msg("%lld -> %s -> %lld", (long long)ns, out, (long long)back);
	}
}

static void test_instants(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = {
	    /* `date -d "+7 days" +"%Y-%m-%dT%H:%M:%S%z"`, the token create example */
	    {"2030-01-01T00:00:00+0000", 1893456000000LL},
	    {"2030-01-01T01:00:00+0100", 1893456000000LL},
	    {"2029-12-31T19:00:00-0500", 1893456000000LL},
	    /* `date -Iseconds` on BSD and GNU, the management create example */
	    {"2030-01-01T00:00:00+00:00", 1893456000000LL},
	    {"2029-12-31T18:00:00-06:00", 1893456000000LL},
	    /* the docs' plain RFC 3339 */
	    {"2030-01-01T00:00:00Z", 1893456000000LL},
	    {"2030-01-01T00:00:00.5Z", 1893456000500LL},
	};
	static const char *const bad[] = {
	    "2030-01-01",
	    "2030-01-01T00:00:00",
	    "2030-01-01T00:00:00+000",
	    "2030-01-01T00:00:00+00000",
	    "tomorrow",
	    "",
	    "2030-01-01T00:00:00 +0000",
	    "2030-02-30T00:00:00Z",
	    "2030-01-01T00:00:00+2400",
	};
	int64_t ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (time_parse_rfc3339(good[i].text, &ms) != 0)
			fail_msg("%s refused", good[i].text);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (time_parse_rfc3339(bad[i], &ms) == 0)
			fail_msg("%s accepted", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_documented_examples),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_instants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
