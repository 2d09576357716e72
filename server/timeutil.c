/*
 * timeutil.c - the clock and RFC 3339 timestamps.
 *
 * The calendar arithmetic is done here (proleptic Gregorian, days counted from
 * 1970-01-01) rather than with timegm/gmtime_r, so that parsing and formatting
 * depend on neither TZ, the locale nor the range of time_t.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

#define MS_PER_DAY 86400000LL

/* INT64_MIN is no fake time: every real instant is a valid fake one. */
#define NO_FAKE INT64_MIN

/*
 * The frozen fake instant, or the running clock's offset from the wall clock; NO_FAKE
 * when unset, and at most one of them set. Each is one atomic word: a request reads
 * the old or the new value, never a torn one, and needs no lock. A switch from one to
 * the other sets the new one before it clears the old, so that a reader in between
 * sees one of the two clocks, never the wall clock.
 */
static _Atomic int64_t fake_now_ms = NO_FAKE;
static _Atomic int64_t run_offset_ms = NO_FAKE;

void time_fake_set(int64_t ms)
{
	atomic_store(&fake_now_ms, ms == NO_FAKE ? NO_FAKE + 1 : ms);
	atomic_store(&run_offset_ms, NO_FAKE);
}

void time_fake_run_from(int64_t ms)
{
	int64_t offset = ms - time_real_ms();

	atomic_store(&run_offset_ms, offset == NO_FAKE ? NO_FAKE + 1 : offset);
	atomic_store(&fake_now_ms, NO_FAKE);
}

void time_fake_advance(int64_t by_ms)
{
	int64_t frozen = atomic_load(&fake_now_ms);

	/* A frozen clock moves by by_ms and stays frozen; a running one keeps running. */
	while (frozen != NO_FAKE) {
		if (atomic_compare_exchange_weak(&fake_now_ms, &frozen, frozen + by_ms))
			return;
	}
	if (atomic_load(&run_offset_ms) == NO_FAKE) {
		int64_t unset = NO_FAKE;

		/* The wall clock: from now on it runs by_ms ahead of it. */
		if (atomic_compare_exchange_strong(&run_offset_ms, &unset, by_ms))
			return;
	}
	atomic_fetch_add(&run_offset_ms, by_ms);
}

void time_fake_clear(void)
{
	atomic_store(&fake_now_ms, NO_FAKE);
	atomic_store(&run_offset_ms, NO_FAKE);
}

int time_fake_active(void)
{
	return atomic_load(&fake_now_ms) != NO_FAKE || atomic_load(&run_offset_ms) != NO_FAKE;
}

int time_fake_running(void)
{
	return atomic_load(&run_offset_ms) != NO_FAKE;
}

int64_t time_now_ms(void)
{
	int64_t fake = atomic_load(&fake_now_ms), offset;

	if (fake != NO_FAKE)
		return fake;
	offset = atomic_load(&run_offset_ms);
	return offset != NO_FAKE ? time_real_ms() + offset : time_real_ms();
}

int time_parse_duration_ms(const char *s, int64_t *out_ms)
{
	/* Longest unit names first, so that "ms" is not read as "m" then "s". */
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", MS_PER_DAY}};
	const int64_t limit = 36600 * MS_PER_DAY; /* a hundred years, and some */
	int64_t total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p) {
		int64_t n = 0;
		size_t u, len = 0;

		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (*p - '0');
			if (n > limit)
				return -1;
		}
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			len = strlen(units[u].name);
			if (strncmp(p, units[u].name, len) == 0)
				break;
		}
		if (u == sizeof(units) / sizeof(units[0]))
			return -1;
		p += len;
		if (n > (limit - total) / units[u].ms)
			return -1;
		total += n * units[u].ms;
	}
	*out_ms = total;
	return 0;
}

int64_t time_real_ms(void)
{
	struct timespec ts;

	/* Cannot fail with a valid clock id and pointer; 0 would read as "absent". */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_monotonic_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Floor division, so that instants before 1970 land on the right day. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/*
 * Days from 1970-01-01 to y-m-d. Counting years from March makes the leap day
 * the last day of its year, so every era of 400 years (146097 days) has the same
 * shape and month lengths follow (153 * m + 2) / 5.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = floor_div(y, 400);
	yoe = y - era * 400;                                   /* 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365, from March 1st */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
	return era * 146097 + doe - 719468;                    /* 719468: 0000-03-01 to 1970 */
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;                                      /* 0..146096 */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
	mp = (5 * doy + 2) / 153;                                    /* 0..11, March first */
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

/* Reads exactly n decimal digits at *p into *out and advances *p. */
static bool read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int time_parse_rfc3339(const char *s, int64_t *out_ms)
{
	const char *p = s;
	int year, mon, day, hour, min, sec, off_h, off_m;
	int frac_ms = 0, frac_digits = 0;
	int64_t offset_ms = 0, ms;

	if (s == NULL || out_ms == NULL)
		return -1;
	if (!read_digits(&p, 4, &year) || !expect(&p, '-') || !read_digits(&p, 2, &mon) ||
	    !expect(&p, '-') || !read_digits(&p, 2, &day))
		return -1;
	if (*p != 'T' && *p != 't')
		return -1;
	p++;
	if (!read_digits(&p, 2, &hour) || !expect(&p, ':') || !read_digits(&p, 2, &min) ||
	    !expect(&p, ':') || !read_digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		/* Any number of digits; only the first three (milliseconds) count. */
		for (; *p >= '0' && *p <= '9'; p++) {
			if (frac_digits < 3) {
				frac_ms = frac_ms * 10 + (*p - '0');
				frac_digits++;
			}
		}
		for (; frac_digits < 3; frac_digits++)
			frac_ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		/* "+hhmm" too: GNU date's %z prints it, and the Cloud Dedicated docs build
		 * expiresAt with %z (docs/api.md, timestamps). */
		if (!read_digits(&p, 2, &off_h))
			return -1;
		if (*p == ':')
			p++;
		if (!read_digits(&p, 2, &off_m))
			return -1;
		if (off_h > 23 || off_m > 59)
			return -1;
		offset_ms = sign * ((int64_t)off_h * 3600000 + (int64_t)off_m * 60000);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;

	/* Years 0000-9999 are all the four digits allow. Leap second 60 is refused. */
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 ||
	    min > 59 || sec > 59)
		return -1;

	ms = days_from_civil(year, mon, day) * MS_PER_DAY +
	     ((int64_t)hour * 3600 + (int64_t)min * 60 + sec) * 1000 + frac_ms;
	/* Local time = UTC + offset, so UTC = local - offset. */
	*out_ms = ms - offset_ms;
	return 0;
}

/* n decimal digits of v (0 <= v < 10^n), zero-padded, no NUL. */
static void put_digits(char *out, int v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void time_format_rfc3339(int64_t ms, char out[RFC3339_SIZE])
{
	/* Not ms - days * MS_PER_DAY: that product overflows near INT64_MIN. */
	int64_t days = floor_div(ms, MS_PER_DAY);
	int64_t rem = ms % MS_PER_DAY;
	int64_t year;
	int mon, day;
	int n;

	if (rem < 0)
		rem += MS_PER_DAY; /* now 0..MS_PER_DAY-1 */
	civil_from_days(days, &year, &mon, &day);
	/*
	 * Years outside 0000-9999 (only from absurd inputs) still print, just not as
	 * valid RFC 3339; even the extremes of int64 need at most 31 bytes.
	 */
	if (year >= 0 && year <= 9999) {
		/* every answer and log line has some: digits by hand, not printf */
		put_digits(out, (int)year, 4);
		out[4] = '-';
		put_digits(out + 5, mon, 2);
		out[7] = '-';
		put_digits(out + 8, day, 2);
		out[10] = 'T';
		put_digits(out + 11, (int)(rem / 3600000), 2);
		out[13] = ':';
		put_digits(out + 14, (int)(rem / 60000 % 60), 2);
		out[16] = ':';
		put_digits(out + 17, (int)(rem / 1000 % 60), 2);
		out[19] = '.';
		put_digits(out + 20, (int)(rem % 1000), 3);
		out[23] = 'Z';
		out[24] = '\0';
		return;
	}
	n = snprintf(out, RFC3339_SIZE, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)year,
	             mon, day, (int)(rem / 3600000), (int)(rem / 60000 % 60),
	             (int)(rem / 1000 % 60), (int)(rem % 1000));
	if (n < 0)
		out[0] = '\0';
}
