/*
 * duration.h - durations and instants as typed on mgmtctl's command line,
 * and durations printed back as influxctl prints them.
 *
 * Durations (--retention-period, --timeout): one or more <number><unit>
 * parts, compounded ("30d30d" = 60 days, "1h30m"), each number a decimal
 * that may have a fraction ("2.5d" = 60 hours). Units: ns, us (or µs), ms,
 * s, m (minute), h, d, w (7 d), mo (30 d), y (365 d). A bare "0" is zero
 * (infinite retention). No sign, no spaces, no empty parts. The value is
 * computed exactly in nanoseconds and must fit in an int64.
 *
 * Instants (--expires-at): RFC 3339 as timeutil.h reads it, and also with a
 * numeric offset without a colon ("+0000", as `date +%z` prints it).
 *
 * Pure: no allocation, no I/O.
 */
#ifndef MGMTCTL_DURATION_H
#define MGMTCTL_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define NS_PER_SECOND 1000000000LL

/* Returns 0 and sets *ns, or -1 with a sentence for a person in err. */
int duration_parse(const char *s, int64_t *ns, char *err, size_t errlen);

/*
 * Formats ns (>= 0) with the units d, h, m and s, zero parts left out, the
 * seconds with a fraction down to nanoseconds when there is one: 86400e9 is
 * "1d", 60 hours "2d12h", 90 minutes "1h30m", 1.5 s "1.5s", 0 "0s". What it
 * prints, duration_parse reads back to the same value. out needs
 * DURATION_TEXT_SIZE bytes.
 */
#define DURATION_TEXT_SIZE 48
void duration_format(int64_t ns, char out[DURATION_TEXT_SIZE]);


#endif
