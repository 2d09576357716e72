/*
 * duration.c - influxctl's duration syntax, and --expires-at instants.
 */
#include "duration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define NS_PER_MINUTE (60 * NS_PER_SECOND)
#define NS_PER_HOUR   (60 * NS_PER_MINUTE)
#define NS_PER_DAY    (24 * NS_PER_HOUR)

struct unit {
	const char *name;
	int64_t ns;
};

/* Longer names first, so that "ms" and "mo" are not read as "m". */
static const struct unit units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
    {"ms", 1000000},
    {"mo", 30 * NS_PER_DAY},
    {"s", NS_PER_SECOND},
    {"m", NS_PER_MINUTE},
    {"h", NS_PER_HOUR},
    {"d", NS_PER_DAY},
    {"w", 7 * NS_PER_DAY},
    {"y", 365 * NS_PER_DAY},
};

/*
 * The unit is the whole run of letters after the number (bytes of UTF-8 past
 * ASCII count as letters, for the micro signs): "2weeks" is the unknown unit
 * "weeks", not "2w" followed by a missing number.
 */
static size_t unit_length(const char *p)
{
	size_t n = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
	       (unsigned char)p[n] >= 0x80)
		n++;
	return n;
}

static const struct unit *match_unit(const char *p, size_t len)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].name) == len && strncmp(p, units[i].name, len) == 0)
			return &units[i];
	}
	return NULL;
}

static int fail(char *err, size_t errlen, const char *s, const char *why)
{
	set_err(err, errlen,
	        "\"%s\" is not a duration: %s (write a number and a unit such as 30d, 12h, 2w, "
	        "1mo or 1h30m; the units are ns us ms s m h d w mo y)",
	        s, why);
	return -1;
}

int duration_parse(const char *s, int64_t *ns, char *err, size_t errlen)
{
	unsigned __int128 total = 0;
	const char *p = s;

	*ns = 0;
	if (s[0] == '\0')
		return fail(err, errlen, s, "it is empty");
	if (strcmp(s, "0") == 0)
		return 0;
	if (s[0] == '-')
		return fail(err, errlen, s, "it cannot be negative");
	while (*p) {
		unsigned __int128 whole = 0, frac = 0, scale = 1, part;
		const struct unit *u;
		bool digits = false;
		size_t ulen;

		while (*p >= '0' && *p <= '9') {
			whole = whole * 10 + (unsigned)(*p++ - '0');
			digits = true;
			if (whole > (unsigned __int128)INT64_MAX)
				return fail(err, errlen, s, "it is too large");
		}
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9') {
				/* 18 digits are below a nanosecond of any unit; the rest truncate
				 */
				if (scale < 1000000000000000000ULL) {
					frac = frac * 10 + (unsigned)(*p - '0');
					scale *= 10;
				}
				p++;
				digits = true;
			}
		}
		if (!digits)
			return fail(err, errlen, s,
			            *p == ' ' || *p == '\t' ? "it holds a space"
			            : *p == '+'             ? "it has a sign"
			                                    : "a number is missing");
		ulen = unit_length(p);
		u = match_unit(p, ulen);
		if (!u && ulen > 0) {
			char why[64];

			snprintf(why, sizeof(why), "the unit \"%.*s\" is unknown",
			         (int)(ulen > 32 ? 32 : ulen), p);
			return fail(err, errlen, s, why);
		}
		if (!u)
			return fail(err, errlen, s,
			            *p == '\0'                ? "a unit is missing"
			            : *p == ' ' || *p == '\t' ? "it holds a space"
			                                      : "a unit is missing");
		p += ulen;
		part = whole * (unsigned __int128)u->ns + frac * (unsigned __int128)u->ns / scale;
		total += part;
		if (total > (unsigned __int128)INT64_MAX)
			return fail(err, errlen, s, "it is too large");
	}
	*ns = (int64_t)total;
	return 0;
}

void duration_format(int64_t ns, char out[DURATION_TEXT_SIZE])
{
	int64_t days, hours, minutes, seconds, frac;
	size_t n = 0;

	if (ns <= 0) {
		strcpy(out, "0s");
		return;
	}
	days = ns / NS_PER_DAY;
	ns %= NS_PER_DAY;
	hours = ns / NS_PER_HOUR;
	ns %= NS_PER_HOUR;
	minutes = ns / NS_PER_MINUTE;
	ns %= NS_PER_MINUTE;
	seconds = ns / NS_PER_SECOND;
	frac = ns % NS_PER_SECOND;
	out[0] = '\0';
	if (days)
		n += (size_t)snprintf(out + n, DURATION_TEXT_SIZE - n, "%lldd", (long long)days);
	if (hours)
		n += (size_t)snprintf(out + n, DURATION_TEXT_SIZE - n, "%lldh", (long long)hours);
	if (minutes)
		n += (size_t)snprintf(out + n, DURATION_TEXT_SIZE - n, "%lldm", (long long)minutes);
	if (seconds || frac) {
		n += (size_t)snprintf(out + n, DURATION_TEXT_SIZE - n, "%lld", (long long)seconds);
		if (frac) {
			char digits[16];
			size_t k;

			snprintf(digits, sizeof(digits), "%09lld", (long long)frac);
			for (k = strlen(digits); k > 0 && digits[k - 1] == '0'; k--)
				digits[k - 1] = '\0';
			n += (size_t)snprintf(out + n, DURATION_TEXT_SIZE - n, ".%s", digits);
		}
		snprintf(out + n, DURATION_TEXT_SIZE - n, "s");
	}
}
