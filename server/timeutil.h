/*
 * timeutil.h - the clock and RFC 3339 timestamps.
 *
 * All times inside mgmtd are int64 milliseconds since the Unix epoch (UTC);
 * 0 means "absent" wherever a struct field is optional.
 */
#ifndef MGMTD_TIMEUTIL_H
#define MGMTD_TIMEUTIL_H

#include <stdint.h>

/* "2023-12-21T17:32:28.000Z" plus NUL, with room for five-digit years. */
#define RFC3339_SIZE 32

/*
 * Now in milliseconds: the single clock of every expiry decision (tokens,
 * JWTs). It is the wall clock, unless a test harness has set a fake time
 * ([testing] PUT /_test/clock): an instant frozen until the next change
 * (time_fake_set), or a clock that runs from an instant at the wall clock's
 * pace (time_fake_run_from). Safe from any thread.
 */
int64_t time_now_ms(void);

/* The wall clock in milliseconds, never faked: for log lines and operators' messages. */
int64_t time_real_ms(void);

/* Freezes time_now_ms at ms, for every thread at once. */
void time_fake_set(int64_t ms);

/* From now on time_now_ms runs from ms, at the wall clock's pace. */
void time_fake_run_from(int64_t ms);

/*
 * Moves the clock by by_ms: a frozen clock stays frozen at its instant plus by_ms, a
 * running one keeps running that much later, and the wall clock becomes a running
 * clock by_ms ahead of it.
 */
void time_fake_advance(int64_t by_ms);

/* Back to the wall clock. */
void time_fake_clear(void);

/* True while a fake time, frozen or running, is set. */
int time_fake_active(void);

/* True while the fake clock runs. */
int time_fake_running(void);

/*
 * Parses a duration of whole units, compounded, such as "36h", "1h30m", "7d",
 * "500ms": digits then one of ms, s, m, h, d, repeated; no sign, no spaces, no
 * fraction; at most about a hundred years. Returns 0 and sets *out_ms, or -1.
 */
int time_parse_duration_ms(const char *s, int64_t *out_ms);

/* Monotonic clock in microseconds, for durations only. */
int64_t time_monotonic_us(void);

/*
 * Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", optional fraction of any
 * length (truncated to milliseconds), then "Z" or "+hh:mm"/"-hh:mm", or the same
 * offset without its colon ("+hhmm", ISO 8601's basic form, as `date +%z` prints it:
 * one meaning for the API, the seed, the offline commands and mgmtctl). Lower-case
 * "t"/"z" are accepted as RFC 3339 allows. Range and calendar are checked
 * (no February 30th; leap second 60 is refused). Returns 0 and sets *out_ms, or -1.
 */
int time_parse_rfc3339(const char *s, int64_t *out_ms);

/* Formats ms as UTC with milliseconds: "2023-12-21T17:32:28.000Z". */
void time_format_rfc3339(int64_t ms, char out[RFC3339_SIZE]);

#endif
