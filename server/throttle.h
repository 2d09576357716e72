/*
 * throttle.h - failed-authentication throttling per client address.
 *
 * Each address has a token bucket of `burst` credits that refills at
 * `per_minute` credits a minute. Only failed authentications spend credits;
 * once an address has none left, its next failures are answered 429 with
 * Retry-After instead of 401. Requests that authenticate never touch the
 * table, so they are never slowed or refused by it.
 *
 * IPv4 addresses are keyed whole; IPv6 addresses by their /64, the smallest
 * block a client usually controls. The table has a fixed number of slots
 * (memory is bounded whatever the number of addresses): an address whose
 * bucket has refilled holds no information and its slot is reused; when every
 * slot nearby is in use, the least throttled entry is forgotten.
 *
 * Thread-safe (one mutex, taken only on failures).
 */
#ifndef MGMTD_THROTTLE_H
#define MGMTD_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

/* An address as 16 bytes: IPv6, or IPv4 mapped (::ffff:a.b.c.d). */
#define THROTTLE_ADDR_LEN 16

struct throttle;

/* burst >= 1, per_minute >= 1, slots >= 1. Returns NULL when out of memory. */
struct throttle *throttle_new(int burst, int per_minute, size_t slots);

void throttle_free(struct throttle *t);

/*
 * Records one failed authentication from addr at now_ms. Returns 0 when the
 * address still had a credit (answer as usual), else the whole seconds (>= 1)
 * until it has one again (answer 429 with Retry-After).
 */
int throttle_fail(struct throttle *t, const unsigned char addr[THROTTLE_ADDR_LEN], int64_t now_ms);

/*
 * The address addr counts as: IPv6 by its /64 (the rest zeroed), IPv4 whole.
 * Also what the dev IdP's pending device codes are bounded by (devdevice.h).
 */
void throttle_address_key(const unsigned char addr[THROTTLE_ADDR_LEN],
                          unsigned char key[THROTTLE_ADDR_LEN]);

/* Entries in use (for tests): never more than the slots given to throttle_new. */
size_t throttle_entries(struct throttle *t);

#endif
