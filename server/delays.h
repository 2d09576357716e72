/*
 * delays.h - Cloud Dedicated's own delays, as the test harness models them
 * ([testing] token_activation_seconds, database_name_hold_seconds,
 * purge_after_days; PUT /_test/delays):
 *
 *  - a new database token is refused at /authorize, as an unknown one is,
 *    until token_activation seconds after its creation;
 *  - a deleted database's name is refused for a create or a rename until
 *    name_hold seconds after the delete;
 *  - deleted databases and tables are purged (gone for good: undelete is 404)
 *    purge_after days after their delete.
 *
 * Each is 0 (off) unless set. The values start as configured, may be changed
 * at runtime and put back to the configured ones. Every decision compares
 * them with the clock (timeutil.h), fake or real, at the time it is made:
 * nothing here remembers a verdict. Safe from any thread.
 */
#ifndef MGMTD_DELAYS_H
#define MGMTD_DELAYS_H

#include <stdint.h>

/* Bounds of each value, for the configuration and PUT /_test/delays alike. */
#define DELAYS_MAX_SECONDS 604800 /* a week */
#define DELAYS_MAX_DAYS    3650

struct delays_values {
	int64_t token_activation_s; /* 0 = a new token works at once */
	int64_t name_hold_s;        /* 0 = a deleted database's name is free at once */
	int64_t purge_after_days;   /* 0 = deleted databases and tables are kept */
};

struct delays;

/* The configured values, which restore goes back to; NULL when out of memory. */
struct delays *delays_new(const struct delays_values *configured);
void delays_free(struct delays *d);

/* The values in force; all 0 when d is NULL (testing off). */
void delays_get(struct delays *d, struct delays_values *out);
void delays_set(struct delays *d, const struct delays_values *v);
/* Back to the configured values. */
void delays_restore(struct delays *d);

/*
 * Each value in milliseconds, as the clock counts (0 when off or d NULL).
 * purge: the instant before which a deletion is purged at time now, or
 * INT64_MIN when purging is off.
 */
int64_t delays_token_activation_ms(struct delays *d);
int64_t delays_name_hold_ms(struct delays *d);
int64_t delays_purge_before(struct delays *d, int64_t now_ms);

#endif
